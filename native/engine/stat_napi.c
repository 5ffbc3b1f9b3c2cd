/*
 * statusAttach(path) -> ArrayBuffer, registered by addon.c: maps the master's stub_status page
 * (stat.h) into this process and points the engine's counters at it. The returned buffer views
 * the same bytes, so the node:http path and the status page count and read what the engine does.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "addon.h"
#include "stat.h"

int64_t *te_stat;

#define TE_STAT_BYTES 4096

napi_value te_js_status_attach(napi_env env, napi_callback_info info)
{
    size_t argc = 1, len = 0;
    napi_value a[1], out;
    char path[4096];
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1
        || napi_get_value_string_utf8(env, a[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= sizeof path - 1) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "statusAttach(path)");
        return NULL;
    }
    if (!te_stat) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        void *p = fd < 0 ? MAP_FAILED : mmap(NULL, TE_STAT_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int err = errno;
        if (fd >= 0) close(fd);
        if (p == MAP_FAILED) {
            napi_throw_error(env, "TRESTY_ERR_STATUS_SHM", strerror(err));
            return NULL;
        }
        te_stat = p;
    }
    /* Never unmapped: the page lives as long as the process. */
    if (napi_create_external_arraybuffer(env, te_stat, TE_STAT_BYTES, NULL, NULL, &out) != napi_ok) return NULL;
    return out;
}
