/*
 * conn_napi.c: the engine's N-API calls about one connection, by its id: the request body
 * (bodyStart, bodyRaw, bodyPause, bodyResume), the answer (cut, pressure), which server serves it
 * (serverOf), its local and peer addresses; and the process's connection numbers. The rest of the
 * API is addon.c's.
 */
#include <node_api.h>
#include "engine.h"
#include "addon.h"

static te_conn *conn_arg(napi_env env, napi_callback_info info, napi_value *rest, size_t nrest)
{
    size_t argc = 1 + nrest;
    napi_value a[4];
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1) return NULL;
    uint32_t id;
    if (te_arg_u32(env, a[0], &id)) return NULL;
    for (size_t i = 0; i < nrest; i++) rest[i] = a[1 + i];
    return te_conn_get(te_addon_engine(), id);
}

napi_value te_js_body_start(napi_env env, napi_callback_info info)
{
    napi_value rest[2];
    te_conn *c = conn_arg(env, info, rest, 2);
    double limit = 0, timeout = 0;
    if (!c || napi_get_value_double(env, rest[0], &limit) != napi_ok) return NULL;
    /* the location's client_body_timeout (ms); 0 or absent: the server's */
    if (napi_get_value_double(env, rest[1], &timeout) != napi_ok || !(timeout > 0)) timeout = 0;
    if (timeout > UINT32_MAX) timeout = UINT32_MAX;
    te_body_start(te_addon_engine(), c, limit > 0 ? (uint64_t)limit : 0, (uint32_t)timeout);
    return NULL;
}

/* serverOf(id, index): the request on this connection is served by server `index` (its Host chose
   it), so the engine's error-log lines about it name that server. */
napi_value te_js_server_of(napi_env env, napi_callback_info info)
{
    napi_value rest[1];
    te_conn *c = conn_arg(env, info, rest, 1);
    uint32_t i;
    if (c && !te_arg_u32(env, rest[0], &i) && i < te_addon_engine()->nsnames) c->sname = (uint16_t)(i + 1);
    return NULL;
}

/* bodyRaw(id): ngx.req.socket(true) took the connection (body.c te_body_raw). */
napi_value te_js_body_raw(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    if (c) {
        te_body_raw(te_addon_engine(), c);
        te_addon_outside_pass();
    }
    return NULL;
}

napi_value te_js_body_pause(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    if (c) c->flags |= TE_C_PAUSED;
    return NULL;
}

napi_value te_js_body_resume(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    if (c && (c->flags & TE_C_PAUSED)) {
        c->flags &= ~TE_C_PAUSED;
        te_pend(te_addon_engine(), c);
    }
    return NULL;
}

/* Ends the connection now (a handler's ngx.exit(444), an answer cut short). */
napi_value te_js_cut(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    if (c) {
        c->flags &= ~TE_C_JS; /* JS asked: no CLOSE record back */
        te_conn_close(te_addon_engine(), c, TE_WHY_STOP);
        te_addon_outside_pass();
    }
    return NULL;
}

napi_value te_js_pressure(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    if (!c) return te_num(env, 0);
    uint32_t q = te_queued(c);
    if (q > TE_OUT_HIGH) c->flags |= TE_C_WANT_DRAIN;
    return te_num(env, q > TE_OUT_HIGH ? q : 0);
}

/* [addr, port] of a socket's local end, or null. */
napi_value te_js_local_address(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    return te_sock_address(env, c ? c->fd : -1);
}

/* The peer's address as the engine's own log lines name it (`unix:` for a unix socket), or null. */
napi_value te_js_peer_address(napi_env env, napi_callback_info info)
{
    te_conn *c = conn_arg(env, info, NULL, 0);
    napi_value r;
    if (c == NULL) napi_get_null(env, &r);
    else napi_create_string_latin1(env, c->raddr, c->raddr_len, &r);
    return r;
}

/* nextNumber(floor): the next `*N` of the engine's counter, for a connection of JS's own (a timer's
 * or a certificate handler's fake one, a node:http front's), so that every number names one
 * connection as nginx's do; the counter first moves past `floor`, the numbers JS gave before the
 * engine started (init_worker_by_js's). The engine runs on this thread: no lock. */
napi_value te_js_next_number(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    uint32_t floor = 0;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) == napi_ok && argc >= 1) te_arg_u32(env, a[0], &floor);
    te_engine *e = te_addon_engine();
    if (e->numbers < floor) e->numbers = floor;
    return te_num(env, ++e->numbers);
}
