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
char *malloc(size_t size);
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
    # Locals, and ffi.memmove (a copy inside cffi) rather than C's memcpy: each foreign call
    # costs a trip through libffi and a release of the GIL, the hot loop's main expense.
    poll_task, get_req, respond, malloc, memmove = (
        C.ngx_http_lua_ffi_task_poll, C.ngx_http_lua_ffi_get_req, C.ngx_http_lua_ffi_respond, C.malloc, ffi.memmove)
    n = ffi.new("int *")
    while True:
        task = poll_task(tq)
        if task == ffi.NULL:  # the plugin was unloaded
            return
        req = get_req(task, n)
        size = n[0]
        rsp = malloc(size + 1)  # the host frees it
        memmove(rsp, req, size)
        rsp[size] = b"\0"  # an empty answer is "" with length 0
        respond(task, 0, rsp, size)


def init(cfg, tq):
    threads = int(options(cfg).get("threads", "1"))
    tq = ffi.cast("void *", tq)
    for _ in range(threads):
        threading.Thread(target=poll, args=(tq,), name="echo-py", daemon=True).start()
    return 0
