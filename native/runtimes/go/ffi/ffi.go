// Package ffi is the lua-resty-ffi ABI for Go runtimes: a poll loop that hands
// each request to a Go handler and answers with a malloc'd copy of its result
// (the host frees responses with free(), so they cannot live in Go memory).
package ffi

/*
#cgo CFLAGS: -I${SRCDIR}/../..
#cgo LDFLAGS: -shared
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "ffi_abi.h"

// Names the calling thread, first saving its old name in old (16 bytes).
static void name_thread(const char *name, char *old)
{
    if (pthread_getname_np(pthread_self(), old, 16) != 0) old[0] = 0;
    pthread_setname_np(pthread_self(), name);
}
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Handler does the work of one task. req is a view of host memory, valid only
// until the call returns; returning it unchanged is fine (it is copied once).
// An error is answered as rc 1 with the error's text.
type Handler func(req []byte) ([]byte, error)

// Serve is ServeNamed with the name "go" (its poll thread "go-poll").
func Serve(tq unsafe.Pointer, workers int, h Handler) {
	ServeNamed("go", tq, workers, h)
}

// ServeNamed starts the poll loop for tq in its own goroutine, on an OS thread
// named NAME-poll. With workers == 0 the loop answers each task itself (for
// work cheaper than starting a goroutine); otherwise up to workers tasks run at
// once, each in its own goroutine.
func ServeNamed(name string, tq unsafe.Pointer, workers int, h Handler) {
	// Shortened so that "-poll" survives Linux's 15 bytes, as the C and Rust pools do.
	if len(name) > 10 {
		name = name[:10]
	}
	cname := C.CString(name + "-poll")
	named := make(chan struct{})
	go func() {
		// The engine finds pollers by their NAME-poll thread (ffi_poller_cpu_affinity,
		// ffi_poller_sched), so the loop keeps one OS thread for life: never unlocked, it
		// cannot hop off the CPU and policy given to that thread (and the thread ends
		// with the goroutine).
		runtime.LockOSThread()
		var old [16]C.char
		C.name_thread(cname, &old[0])
		C.free(unsafe.Pointer(cname))
		close(named)
		var sem chan struct{}
		var wg sync.WaitGroup
		if workers > 0 {
			sem = make(chan struct{}, workers)
		}
		for {
			task := C.ngx_http_lua_ffi_task_poll(tq)
			if task == nil {
				break // unloaded
			}
			if sem == nil {
				run(task, h)
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				run(task, h)
			}()
		}
		wg.Wait()
		// Go ends a thread whose goroutine exits locked, but not the one that started the
		// runtime (m0), which it parks: no thread may keep a poller's name once unloaded.
		C.pthread_setname_np(C.pthread_self(), &old[0])
	}()
	// Returns once the thread has its name: the engine looks for pollers as soon as the
	// plugins are loaded, and a goroutine may not have run yet.
	<-named
}

func run(task unsafe.Pointer, h Handler) {
	var n C.int
	p := C.ngx_http_lua_ffi_get_req(task, &n)
	var req []byte
	if p != nil && n > 0 {
		req = unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
	}
	rsp, err := call(h, req)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "error"
		}
		C.ngx_http_lua_ffi_respond(task, 1, C.CString(msg), 0)
		return
	}
	// One spare byte so that an empty response is a valid empty string (rsp_len 0).
	buf := C.malloc(C.size_t(len(rsp) + 1))
	if buf == nil {
		C.ngx_http_lua_ffi_respond(task, 1, C.CString("out of memory"), 0)
		return
	}
	if len(rsp) > 0 {
		C.memcpy(buf, unsafe.Pointer(&rsp[0]), C.size_t(len(rsp)))
	}
	*(*byte)(unsafe.Add(buf, len(rsp))) = 0
	C.ngx_http_lua_ffi_respond(task, 0, (*C.char)(buf), C.int(len(rsp)))
}

// call runs h, turning a panic into an error so that a bad request cannot
// take the whole host process down.
func call(h Handler, req []byte) (rsp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return h(req)
}

type panicError struct{ v interface{} }

func (p panicError) Error() string { return "runtime panicked" }

// Cfg copies the cfg string out of host memory (it is freed after libffi_init).
func Cfg(cfg unsafe.Pointer) string {
	if cfg == nil {
		return ""
	}
	return C.GoString((*C.char)(cfg))
}

// CfgInt reads key from "threads=4,level=6" (a bare number is "threads"), or
// returns def when it is absent or outside [min, max].
func CfgInt(cfg, key string, def, min, max int) int {
	for _, item := range strings.Split(cfg, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			if key != "threads" {
				continue
			}
			k, v = "threads", item
		}
		if strings.TrimSpace(k) != key {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min || n > max {
			return def
		}
		return n
	}
	return def
}
