"""Digest: the hex digest of each request with hashlib (sha256 by default).

    ffi_plugin digest_py { library ffi_python3; config "tresty_examples.digest,init,algo=sha256,threads=2"; }

algo is any name of hashlib.algorithms_available (sha256, sha512, blake2b, md5 ...). hashlib
releases the GIL while it hashes more than 2 KB, so with threads=N large requests are hashed
on N cores at once; small ones mostly take turns at the GIL. An unknown algorithm fails the
load (init raises), and tresty shows the traceback.
"""
import hashlib
import threading

from .echo import C, ffi, options


def answer(task, rc, text):
    data = text.encode()
    rsp = C.malloc(len(data) + 1)
    ffi.memmove(rsp, data, len(data))
    rsp[len(data)] = b"\0"
    C.ngx_http_lua_ffi_respond(task, rc, rsp, len(data))


def poll(tq, algo):
    n = ffi.new("int *")
    while True:
        task = C.ngx_http_lua_ffi_task_poll(tq)
        if task == ffi.NULL:
            return
        req = C.ngx_http_lua_ffi_get_req(task, n)
        try:
            answer(task, 0, hashlib.new(algo, ffi.buffer(req, n[0])).hexdigest())
        except Exception as e:  # an answer, never a lost task
            answer(task, 1, "digest failed: %r" % e)


def init(cfg, tq):
    opts = options(cfg)
    algo = opts.get("algo", "sha256")
    hashlib.new(algo)  # raises ValueError now for an unknown name
    tq = ffi.cast("void *", tq)
    for _ in range(int(opts.get("threads", "2"))):
        threading.Thread(target=poll, args=(tq, algo), name="digest-py", daemon=True).start()
    return 0
