/*
 * libsha256_c.so: answers each request with the SHA-256 of its bytes as 64
 * lowercase hex characters. The response is passed NUL-terminated
 * (rsp_len 0), the ABI's other response form.
 * cfg: "threads=N" workers hashing in parallel (default 2; 0 = on the poller).
 */
#include "../ffi_abi.h"
#include "cfg.h"
#include "pool.h"
#include "sha256.h"

#include <stdlib.h>

static int sha256_hex(void *ctx, const char *req, int len, char **rsp, int *rsp_len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[32];
    tr_sha256 s;
    int i;

    (void)ctx;
    tr_sha256_init(&s);
    tr_sha256_update(&s, req, (size_t)len);
    tr_sha256_final(&s, d);
    if (!(*rsp = malloc(65))) return 1;
    for (i = 0; i < 32; i++) {
        (*rsp)[2 * i] = hex[d[i] >> 4];
        (*rsp)[2 * i + 1] = hex[d[i] & 15];
    }
    (*rsp)[64] = '\0';
    *rsp_len = 0;
    return 0;
}

__attribute__((visibility("default")))
int libffi_init(char *cfg, void *tq)
{
    int threads = (int)tr_cfg_int(cfg, "threads", 2, 0, 256);
    return tr_pool_start("sha256_c", tq, threads, sha256_hex, NULL);
}
