/*
 * The socket-level N-API functions, registered by addon.c: listen(host, port, backlog) -> fd,
 * closeFd(fd), fdAddress(fd) -> [addr, port] | null. The master opens listeners with them and
 * hands the fds to the workers (listen.c makes the sockets).
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <string.h>
#include <unistd.h>
#include "addon.h"
#include "listen.h"

napi_value te_js_listen(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value a[3];
    char host[128];
    size_t hl;
    uint32_t port, backlog;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_string_utf8(env, a[0], host, sizeof host, &hl) != napi_ok || te_arg_u32(env, a[1], &port) || te_arg_u32(env, a[2], &backlog)) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "listen(host, port, backlog)");
        return NULL;
    }
    int err = 0;
    int fd = te_listen(host, (int)port, (int)backlog, &err);
    if (fd < 0) {
        napi_value msg, code, e;
        napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg);
        napi_create_string_utf8(env, err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EINVAL ? "EINVAL" : "ELISTEN", NAPI_AUTO_LENGTH, &code);
        napi_create_error(env, code, msg, &e);
        napi_set_named_property(env, e, "errno", te_num(env, err));
        napi_throw(env, e);
        return NULL;
    }
    return te_num(env, fd);
}

napi_value te_js_close_fd(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    uint32_t fd;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) == napi_ok && argc == 1 && !te_arg_u32(env, a[0], &fd) && fd > 2) close((int)fd);
    return NULL;
}

napi_value te_sock_address(napi_env env, int fd)
{
    char addr[64];
    int port = fd >= 0 ? te_local_port(fd, addr, sizeof addr) : -1;
    napi_value r, s;
    if (port < 0) {
        napi_get_null(env, &r);
        return r;
    }
    napi_create_array_with_length(env, 2, &r);
    napi_create_string_latin1(env, addr, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, r, 0, s);
    napi_set_element(env, r, 1, te_num(env, port));
    return r;
}

napi_value te_js_fd_address(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    uint32_t fd;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 1 || te_arg_u32(env, a[0], &fd)) return te_sock_address(env, -1);
    return te_sock_address(env, (int)fd);
}
