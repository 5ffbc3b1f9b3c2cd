"""Echo: each request answered with its own bytes.

A module written the way lua-resty-ffi's Python loader expects, so it runs there unchanged:
cffi declares the three ngx_http_lua_ffi_* functions and opens them from the process
(ffi.dlopen(None)), and init(cfg, tq) starts the threads that poll. cffi releases the GIL
while a thread waits in task_poll.

    ffi_plugin echo_py { library ffi_python3; config "tresty_examples.echo,init,threads=2"; }
"""
import threading

from cffi import FFI

ffi = FFI()
ffi.cdef("""
void *malloc(size_t size);
void *memcpy(void *dest, const void *src, size_t n);
void *ngx_http_lua_ffi_task_poll(void *tq);
char *ngx_http_lua_ffi_get_req(void *task, int *len);
void ngx_http_lua_ffi_respond(void *task, int rc, char *rsp, int rsp_len);
""")
C = ffi.dlopen(None)


def options(cfg):
    """REST of the loader's config ("threads=2,x=y") as a dict; cfg is its address or 0."""
    if not cfg:
        return {}
    text = ffi.string(ffi.cast("char *", cfg)).decode()
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def poll(tq):
    n = ffi.new("int *")
    while True:
        task = C.ngx_http_lua_ffi_task_poll(tq)
        if task == ffi.NULL:  # the plugin was unloaded
            return
        req = C.ngx_http_lua_ffi_get_req(task, n)
        size = n[0]
        rsp = ffi.cast("char *", C.malloc(size + 1))  # the host frees it
        C.memcpy(rsp, req, size)
        rsp[size] = b"\0"  # an empty answer is "" with length 0
        C.ngx_http_lua_ffi_respond(task, 0, rsp, size)


def init(cfg, tq):
    threads = int(options(cfg).get("threads", "1"))
    tq = ffi.cast("void *", tq)
    for _ in range(threads):
        threading.Thread(target=poll, args=(tq,), name="echo-py", daemon=True).start()
    return 0
