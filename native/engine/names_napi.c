/*
 * serverNames(names), registered by addon.c: the servers' first server_names, numbered as JS
 * numbers them, so that serverOf(id, index) can make the engine's own error-log lines name the
 * server a request's Host chose, as nginx's do. addressNames(index, [[address, server], ...]):
 * the default server of each address other server blocks listen on next to a wildcard listen
 * socket, which nginx names before the Host is read. setSoftware(name): server_tokens' name for
 * the Server header and the error pages the engine writes.
 */
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "addon.h"
#include "pages.h"

/* serverNames([name, ...]): the servers' first server_names, numbered for serverOf(). */
napi_value te_js_server_names(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], item;
    uint32_t n = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_get_array_length(env, a[0], &n) != napi_ok || n > 0xfffe)
    {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "serverNames(names)");
        return NULL;
    }
    te_engine *e = te_addon_engine();
    te_name *names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "serverNames: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        char tmp[256];
        size_t len = 0;
        if (napi_get_element(env, a[0], i, &item) != napi_ok || napi_get_value_string_utf8(env, item, tmp, sizeof tmp, &len) != napi_ok) {
            free(names);
            napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "serverNames: names must be strings");
            return NULL;
        }
        names[i].n = (uint8_t)(len > 255 ? 255 : len);
        memcpy(names[i].p, tmp, names[i].n);
    }
    free(e->snames);
    e->snames = names;
    e->nsnames = n;
    return NULL;
}

/* addressNames(index, [[address, server], ...]): on the listener JS numbers `index`. */
napi_value te_js_address_names(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value a[2], pair, v;
    uint32_t index = 0, n = 0;
    te_engine *e = te_addon_engine();
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 || te_arg_u32(env, a[0], &index)
        || napi_get_array_length(env, a[1], &n) != napi_ok) goto bad;
    for (uint32_t i = 0; i < e->nlisteners; i++) {
        te_listener *l = &e->listeners[i];
        if (l->index != index) continue;
        l->naddrs = 0;
        for (uint32_t k = 0; k < n && l->naddrs < TE_LISTENER_ADDRS; k++) {
            char host[64];
            size_t len = 0;
            uint32_t server = 0;
            if (napi_get_element(env, a[1], k, &pair) != napi_ok || napi_get_element(env, pair, 0, &v) != napi_ok
                || napi_get_value_string_utf8(env, v, host, sizeof host, &len) != napi_ok
                || napi_get_element(env, pair, 1, &v) != napi_ok || te_arg_u32(env, v, &server)) goto bad;
            te_laddr *d = &l->addrs[l->naddrs];
            memset(d, 0, sizeof *d);
            if (inet_pton(AF_INET, host, d->a) == 1) d->fam = AF_INET;
            else if (inet_pton(AF_INET6, host, d->a) == 1) d->fam = AF_INET6;
            else continue;
            d->sname = (uint16_t)(server + 1);
            l->naddrs++;
        }
    }
    return NULL;
bad:
    napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "addressNames(index, [[address, server], ...])");
    return NULL;
}

uint16_t te_addr_name(const te_listener *l, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    const uint8_t *a4 = NULL, *a6 = NULL;
    if (ss.ss_family == AF_INET) a4 = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
    else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *in6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        /* an IPv4 client on a dual-stack socket: its IPv4 address */
        if (IN6_IS_ADDR_V4MAPPED(in6)) a4 = in6->s6_addr + 12;
        else a6 = in6->s6_addr;
    }
    for (uint32_t i = 0; i < l->naddrs; i++) {
        const te_laddr *d = &l->addrs[i];
        if ((a4 && d->fam == AF_INET && memcmp(d->a, a4, 4) == 0) || (a6 && d->fam == AF_INET6 && memcmp(d->a, a6, 16) == 0)) return d->sname;
    }
    return 0;
}

/* setSoftware(name, full): the worker's name ("tresty" or "tresty/VERSION") and the one with the
   version (a location with server_tokens on), called before the engine answers. */
napi_value te_js_set_software(napi_env env, napi_callback_info info)
{
    size_t argc = 2, len = 0, flen = 0;
    napi_value a[2];
    char tmp[64], full[64];
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2
        || napi_get_value_string_utf8(env, a[0], tmp, sizeof tmp, &len) != napi_ok
        || napi_get_value_string_utf8(env, a[1], full, sizeof full, &flen) != napi_ok) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "setSoftware(name, full)");
        return NULL;
    }
    te_set_software(tmp, len, full, flen);
    return NULL;
}
