// libgzip_go.so: gzip-compresses each request with Go's compress/gzip.
// Request: any bytes. Response: a gzip stream (RFC 1952) of them.
// cfg: "level=N" (1..9, default 6; 0 stores), "threads=N" concurrent
// compressions (default the number of CPUs).
package main

import "C"

import (
	"bytes"
	"compress/gzip"
	"runtime"
	"sync"
	"unsafe"

	"tresty/runtimes/ffi"
)

//export libffi_init
func libffi_init(cfg *C.char, tq unsafe.Pointer) C.int {
	c := ffi.Cfg(unsafe.Pointer(cfg))
	level := ffi.CfgInt(c, "level", gzip.DefaultCompression, gzip.HuffmanOnly, gzip.BestCompression)
	threads := ffi.CfgInt(c, "threads", runtime.NumCPU(), 1, 4096)
	if _, err := gzip.NewWriterLevel(nil, level); err != nil {
		return 1
	}
	// A gzip.Writer holds about 1 MB of state: reuse them instead of making one per call.
	writers := sync.Pool{New: func() interface{} {
		w, _ := gzip.NewWriterLevel(nil, level)
		return w
	}}
	ffi.ServeNamed("gzip_go", tq, threads, func(req []byte) ([]byte, error) {
		var out bytes.Buffer
		out.Grow(len(req)/2 + 64)
		w := writers.Get().(*gzip.Writer)
		defer writers.Put(w)
		w.Reset(&out)
		if _, err := w.Write(req); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	})
	return 0
}

func main() {}
