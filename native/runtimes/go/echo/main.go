// libecho_go.so: answers each request with its own bytes.
// cfg: "threads=N" (default 0: the poll loop answers inline).
package main

import "C"

import (
	"unsafe"

	"tresty/runtimes/ffi"
)

//export libffi_init
func libffi_init(cfg *C.char, tq unsafe.Pointer) C.int {
	threads := ffi.CfgInt(ffi.Cfg(unsafe.Pointer(cfg)), "threads", 0, 0, 4096)
	ffi.ServeNamed("echo_go", tq, threads, func(req []byte) ([]byte, error) { return req, nil })
	return 0
}

func main() {}
