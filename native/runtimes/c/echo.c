/*
 * libecho_c.so: answers each request with its own bytes.
 * cfg: "threads=N" (default 0: the poller answers inline, since a copy is
 * cheaper than handing the task to another thread).
 */
#include "../ffi_abi.h"
#include "cfg.h"
#include "echo_logic.h"
#include "pool.h"

#include <stdlib.h>

static int echo(void *ctx, const char *req, int len, char **rsp, int *rsp_len)
{
    size_t n = tr_echo_size((size_t)len);
    (void)ctx;
    /* malloc(0) may return NULL; one spare byte keeps 0-byte echoes a success. */
    if (!(*rsp = malloc(n + 1))) return 1;
    tr_echo_into(req, (size_t)len, *rsp);
    *rsp_len = (int)n;
    if (n == 0) (*rsp)[0] = '\0'; /* rsp_len 0 means NUL-terminated: make it an empty string */
    return 0;
}

__attribute__((visibility("default")))
int libffi_init(char *cfg, void *tq)
{
    int threads = (int)tr_cfg_int(cfg, "threads", 0, 0, 256);
    return tr_pool_start("echo_c", tq, threads, echo, NULL);
}

/* The same echo as a plain function, for `kind function; blocking off;` (the zero-hop path:
   called on the event loop itself, no thread hand-off). bench/http.mjs's /echo-fn uses it. */
__attribute__((visibility("default")))
int echo_call(const char *req, int len, char **rsp, int *rsp_len)
{
    return echo(NULL, req, len, rsp, rsp_len);
}
