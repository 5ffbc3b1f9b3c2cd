/*
 * addon.c: the engine as a Node addon (tresty_engine.node), built with plain cc against Node's
 * headers. libuv polls the engine's epoll fd; JS is called once per batch with
 * napi_make_callback, which runs promise microtasks before it returns, so answers produced by
 * awaited work in the batch go out in the same pass. One engine per process.
 *
 * JS API (src/http/native-binding.ts declares it):
 *   listen(host, port, backlog) -> fd  closeFd(fd)  fdAddress(fd)             (listen_napi.c)
 *   create(inbox, outbox, onBatch, maxConns, multiAccept)   addListener(fd, index, settings[], server, name, address)
 *   flush()  flushLater()  stopAccepting()  closeIdle()  stats() -> {...}
 *   bodyStart(id, limit, timeout)  bodyRaw(id)  bodyPause(id)  bodyResume(id)  cut(id)  pressure(id) -> bytes
 *   localAddress(id) -> [addr, port] | null  serverOf(id, index)              (conn_napi.c)
 *   peerAddress(id) -> string | null  nextNumber(floor) -> the next connection *N (conn_napi.c)
 *   setRoutes(buffer)  shutdown()  watch(fd) -> bool  unwatch(fd)
 *   serverNames([name, ...])  addressNames(index, [[address, server], ...])      (names_napi.c)
 *   pinThreads([cpu, ...][, [pollerCpu, ...]]) -> threads | -errno   allowedCpus() -> [cpu, ...]
 *   fifoPollers() -> pollers | -errno   (cpu.c)
 *   setSoftware(name) (names_napi.c)   setNofile(n), setCore(bytes) -> 0 | -errno   (rlimit_napi.c)
 *   upConnect(ip | /unix/path, port) -> id | -errno   upWrite(id, bytes | latin1 string) -> bytes queued
 *   upPause(id, paused)  upClose(id)  upCount() -> open upstream sockets     (upstream_napi.c)
 *   tlsBuilt()  tlsContext(...)  tlsListener(index, server)  tlsSni(fn)  tlsInfo(id)  tlsFlags(log, refusals)   (tls_napi.c)
 *   tlsCertHook(fn)  tlsCertDone(id, cert, key, why, ocsp?)   (tls_napi.c: ssl_certificate_by_js)
 *   tlsConfCheck(client, [name, value, ...])   (tls_napi.c, tls_conf.c: ssl_conf_command)
 *   ocspRequest(...)  ocspCheck(...)  tlsOcspHook(fn)  tlsStaple(...)   (tls_ocsp_napi.c: ssl_stapling)
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>
#include "engine.h"
#include "listen.h"
#include "route.h"
#include "addon.h"
#include "cpu.h"
#include "upstream.h"

typedef struct host {
    napi_env env;
    napi_ref cb, inbox_ref, outbox_ref;
    napi_async_context actx;
    uv_loop_t *loop;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_idle_t idle;
    uv_check_t check;
    uint64_t armed;
    int created, idle_on, delivered;
    int owed; /* a pass was asked for (te_host_schedule) that the idle handle has not run yet */
} host;

static te_engine E;
static host H;

#define CHECK(call)                                                                  \
    do {                                                                             \
        if ((call) != napi_ok) {                                                     \
            napi_throw_error(env, "TRESTY_ERR_ENGINE", "engine: bad call: " #call); \
            return NULL;                                                             \
        }                                                                            \
    } while (0)

/* ---- the engine's calls into the host ---- */

void te_host_deliver(te_engine *e)
{
    uint32_t len = e->inbox_len;
    H.delivered = 1;
    napi_env env = H.env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value cb, recv, argv[1], res;
    napi_get_reference_value(env, H.cb, &cb);
    napi_get_global(env, &recv);
    napi_create_uint32(env, len, &argv[0]);
    e->ctl[TE_CTL_BATCH] = 1;
    napi_status st = napi_make_callback(env, H.actx, recv, cb, 1, argv, &res);
    e->ctl[TE_CTL_BATCH] = 0;
    if (st == napi_pending_exception) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err); /* the worker's uncaughtException handler decides */
    }
    napi_close_handle_scope(env, scope);
    /* Records JS caused while it ran (a DRAIN after a flush, say) wait for the next round. */
    if (e->inbox_len > len) {
        memmove(e->inbox, e->inbox + len, e->inbox_len - len);
        e->inbox_len -= len;
        te_host_schedule(e);
    } else {
        e->inbox_len = 0;
        /* records kept aside while the inbox was full: the next batch */
        if (e->over_len) {
            te_rec_spill(e);
            te_host_schedule(e);
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    (void)t;
    H.armed = 0;
    H.delivered = 0;
    te_pass(&E);
    /* JS ran in the timers phase: one more turn, or its immediates wait for the next event. */
    if (H.delivered) te_host_schedule(&E);
}

void te_host_arm_timer(te_engine *e, uint64_t deadline)
{
    (void)e;
    if (deadline == 0) {
        if (H.armed) uv_timer_stop(&H.timer);
        H.armed = 0;
        return;
    }
    if (deadline == H.armed) return;
    uint64_t now = uv_now(H.loop);
    uv_timer_start(&H.timer, on_timer, deadline > now ? deadline - now : 0, 0);
    H.armed = deadline;
}

/*
 * One more loop turn: an idle handle runs a pass before the poll phase and, being active, keeps
 * that poll from blocking, so the check phase right after runs Node's immediates (unref'd ones
 * too, such as the log writers'); the check handle then stops both.
 *
 * The check handle stops them only once the pass asked for has run. A turn asked for in the poll
 * phase (an I/O callback: a file read done, then an upWrite whose send() failed and queued an
 * ERROR record) comes after this turn's idle phase: stopping the handles at this turn's check
 * dropped it, and the record waited for the next epoll event, which never came for a socket
 * already out of the epoll set: its request got no answer.
 */
static void on_idle(uv_idle_t *i)
{
    (void)i;
    H.owed = 0;
    te_pass(&E);
}

static void on_check(uv_check_t *c)
{
    if (H.owed) return; /* asked for after this turn's idle phase: the next turn runs it */
    uv_check_stop(c);
    uv_idle_stop(&H.idle);
    H.idle_on = 0;
}

void te_host_schedule(te_engine *e)
{
    (void)e;
    if (!H.created) return;
    H.owed = 1;
    if (H.idle_on) return;
    H.idle_on = 1;
    uv_idle_start(&H.idle, on_idle);
    uv_check_start(&H.check, on_check);
}

uint64_t te_host_now(te_engine *e)
{
    (void)e;
    return uv_now(H.loop);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)p; (void)status; (void)events;
    te_pass(&E);
}

/* ---- exports ---- */

static napi_value js_create(napi_env env, napi_callback_info info)
{
    size_t argc = 5;
    napi_value a[5];
    CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
    if (H.created) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "the engine is already created in this process");
        return NULL;
    }
    void *in, *out;
    size_t inl, outl;
    uint32_t maxc = 0, multi = 0;
    if (argc < 4 || napi_get_buffer_info(env, a[0], &in, &inl) != napi_ok || napi_get_buffer_info(env, a[1], &out, &outl) != napi_ok
        || te_arg_u32(env, a[3], &maxc) || (argc > 4 && te_arg_u32(env, a[4], &multi)) || outl < TE_OUT_CTL + 4096 || inl < 65536) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "create(inbox, outbox, onBatch, workerConnections, multiAccept)");
        return NULL;
    }
    memset(&E, 0, sizeof E);
    E.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (E.epfd < 0) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", strerror(errno));
        return NULL;
    }
    E.inbox = in;
    E.inbox_cap = (uint32_t)inl;
    /* TRESTY_ENGINE_INBOX=bytes: use less of the inbox, for tests that fill it (test/engine-inbox-full);
       at least 16 KiB, so a small request and an upstream read still fit past the reserve */
    const char *small = getenv("TRESTY_ENGINE_INBOX");
    if (small && small[0]) {
        unsigned long v = strtoul(small, NULL, 10);
        if (v < 16384) v = 16384;
        if (v < E.inbox_cap) E.inbox_cap = (uint32_t)v;
    }
    E.outbox = out;
    E.outbox_cap = (uint32_t)outl;
    E.ctl = (int32_t *)out;
    E.ctl[TE_CTL_USED] = TE_OUT_CTL;
    E.max_conns = maxc;
    E.multi_accept = multi != 0;
    E.host = &H;
    H.env = env;
    CHECK(napi_create_reference(env, a[0], 1, &H.inbox_ref));
    CHECK(napi_create_reference(env, a[1], 1, &H.outbox_ref));
    CHECK(napi_create_reference(env, a[2], 1, &H.cb));
    napi_value name;
    napi_create_string_utf8(env, "tresty.http", NAPI_AUTO_LENGTH, &name);
    CHECK(napi_async_init(env, NULL, name, &H.actx));
    CHECK(napi_get_uv_event_loop(env, &H.loop));
    uv_poll_init(H.loop, &H.poll, E.epfd);
    uv_poll_start(&H.poll, UV_READABLE, on_poll);
    uv_timer_init(H.loop, &H.timer);
    uv_unref((uv_handle_t *)&H.timer);
    uv_idle_init(H.loop, &H.idle);
    uv_check_init(H.loop, &H.check);
    uv_unref((uv_handle_t *)&H.check);
    H.created = 1;
    return NULL;
}

/* settings: header, body, send, keepalive timeouts (ms), keepalive_requests, lingering_time,
   lingering_timeout (ms), reset_timedout (0/1), client_header_buffer_size, large buffers number,
   large buffer size, underscores_in_headers, ignore_invalid_headers, lingering_close always (0/1) */
static napi_value js_add_listener(napi_env env, napi_callback_info info)
{
    size_t argc = 6;
    napi_value a[6];
    char name[256] = "", addr[72] = "";
    size_t len;
    CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
    uint32_t fd, index, v[14], server;
    napi_value item;
    if (argc < 4 || te_arg_u32(env, a[0], &fd) || te_arg_u32(env, a[1], &index)) goto bad;
    for (uint32_t i = 0; i < 14; i++) {
        if (napi_get_element(env, a[2], i, &item) != napi_ok || te_arg_u32(env, item, &v[i])) goto bad;
    }
    double sd;
    if (napi_get_value_double(env, a[3], &sd) != napi_ok) goto bad;
    server = sd < 0 ? 0xffffffffu : (uint32_t)sd;
    /* optional: the default server's name and the listen address, for error-log lines */
    if (argc > 4 && napi_get_value_string_utf8(env, a[4], name, sizeof name, &len) != napi_ok) goto bad;
    if (argc > 5 && napi_get_value_string_utf8(env, a[5], addr, sizeof addr, &len) != napi_ok) goto bad;
    te_settings s;
    memset(&s, 0, sizeof s);
    s.header_timeout = v[0];
    s.body_timeout = v[1];
    s.send_timeout = v[2];
    s.keepalive_timeout = v[3];
    s.keepalive_requests = v[4];
    s.lingering_time = v[5];
    s.lingering_timeout = v[6];
    s.reset_timedout = (uint8_t)v[7];
    s.linger_always = (uint8_t)v[13];
    tr_http_limits_default(&s.limits);
    s.limits.header_buffer = v[8];
    s.limits.large_buffers = v[9];
    s.limits.large_buffer_size = v[10];
    s.limits.underscores_in_headers = (uint8_t)v[11];
    s.limits.ignore_invalid_headers = (uint8_t)v[12];
    if (te_add_listener(&E, (int)fd, index, &s, server == 0xffffffffu ? -1 : (int32_t)server, name, addr) < 0) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "addListener: cannot watch the listen socket");
        return NULL;
    }
    te_host_schedule(&E); /* connections may already wait in the queue */
    return NULL;
bad:
    napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "addListener(fd, index, settings[14], server, name, address)");
    return NULL;
}

/*
 * Called from JS outside a pass (a timer, a plugin's answer), the engine also asks the loop for one
 * more turn: Node runs unref'd immediates (the log writers' batches) only in a turn, and with the
 * write done here, nothing else would wake a loop blocked in epoll_wait.
 */
void te_addon_outside_pass(void)
{
    if (E.in_pass) return;
    te_host_arm_timer(&E, te_timers_next(&E));
    te_host_schedule(&E);
}

static napi_value js_flush(napi_env env, napi_callback_info info)
{
    (void)env; (void)info;
    if (!E.in_pass) E.now = te_host_now(&E);
    te_flush_outbox(&E);
    te_addon_outside_pass();
    return NULL;
}

/*
 * flushLater(): an answer queued outside a pass (a handler that went on after a timer, a socket's
 * read, an immediate) is written by the pass of the next loop turn, with every answer made until
 * then: one flush per turn instead of one per callback (each its own microtask drain), which cost
 * a handler's suspension a few µs a request (bench/README.md, "A handler's suspension").
 */
static napi_value js_flush_later(napi_env env, napi_callback_info info)
{
    (void)env; (void)info;
    te_host_schedule(&E);
    return NULL;
}

/* The address a listen socket is bound to (port 0 in the conf becomes a real one). */
static napi_value js_stop_accepting(napi_env env, napi_callback_info info)
{
    (void)env; (void)info;
    te_stop_accepting(&E);
    return NULL;
}

static napi_value js_close_idle(napi_env env, napi_callback_info info)
{
    (void)env; (void)info;
    te_close_idle(&E);
    return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info)
{
    (void)info;
    napi_value r;
    napi_create_object(env, &r);
    uint64_t mem = 0;
    uint32_t active = 0;
    for (uint32_t i = 0; i < E.conns.n; i++) {
        te_conn *c = E.conns.items[i];
        if (!c) continue;
        mem += sizeof *c + c->in_cap + c->out_cap + (c->head ? sizeof *c->head + c->head->cap * sizeof(tr_http_header) : 0);
        if (c->state != TE_IDLE) active++;
    }
    mem += (uint64_t)E.conns.cap * (sizeof(void *) + sizeof(uint32_t)) + (uint64_t)E.heap_len * 16;
    napi_set_named_property(env, r, "connections", te_num(env, E.conns.count));
    napi_set_named_property(env, r, "idle", te_num(env, E.nidle));
    napi_set_named_property(env, r, "active", te_num(env, active));
    napi_set_named_property(env, r, "memory", te_num(env, (double)mem));
    napi_set_named_property(env, r, "connSize", te_num(env, sizeof(te_conn)));
    napi_set_named_property(env, r, "multiAccept", te_num(env, E.multi_accept));
    return r;
}

/* The native routes (route.h), replacing any earlier ones. */
static napi_value js_set_routes(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    void *p;
    size_t n;
    CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
    if (argc < 1 || napi_get_buffer_info(env, a[0], &p, &n) != napi_ok || n > 0xffffffffu) {
        napi_throw_type_error(env, "TRESTY_ERR_ENGINE", "setRoutes(plan: Buffer)");
        return NULL;
    }
    struct te_routes *r = te_routes_parse(p, (uint32_t)n);
    if (!r) {
        napi_throw_error(env, "TRESTY_ERR_ENGINE", "setRoutes: the plan is malformed");
        return NULL;
    }
    te_routes_free(E.routes);
    E.routes = r;
    return NULL;
}

/* Fast stop: every connection closed now, the engine's handles stopped. */
static napi_value js_shutdown(napi_env env, napi_callback_info info)
{
    (void)env; (void)info;
    if (!H.created) return NULL;
    te_stop_accepting(&E);
    te_up_close_all(&E);
    for (uint32_t i = 0; i < E.conns.n; i++)
        if (E.conns.items[i]) te_conn_close(&E, E.conns.items[i], TE_WHY_STOP);
    uv_poll_stop(&H.poll);
    uv_timer_stop(&H.timer);
    uv_idle_stop(&H.idle);
    uv_check_stop(&H.check);
    return NULL;
}

/* watch(fd) -> bool / unwatch(fd): an fd whose readiness JS learns as WAKE records (watch.c). */
static napi_value js_watch(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1], r;
    uint32_t fd;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || te_arg_u32(env, a[0], &fd)) return NULL;
    napi_get_boolean(env, H.created && te_watch(&E, (int)fd) == 0, &r);
    return r;
}

static napi_value js_unwatch(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value a[1];
    uint32_t fd;
    if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) == napi_ok && argc == 1 && !te_arg_u32(env, a[0], &fd) && H.created)
        te_unwatch(&E, (int)fd);
    return NULL;
}

/* The engine, for the N-API functions of other files (upstream_napi.c). */
te_engine *te_addon_engine(void)
{
    return &E;
}

NAPI_MODULE_INIT()
{
    const struct { const char *name; napi_callback fn; } fns[] = {
        { "listen", te_js_listen }, { "closeFd", te_js_close_fd }, { "fdAddress", te_js_fd_address }, { "create", js_create },
        { "addListener", js_add_listener }, { "flush", js_flush }, { "flushLater", js_flush_later }, { "bodyStart", te_js_body_start },
        { "serverNames", te_js_server_names }, { "addressNames", te_js_address_names }, { "serverOf", te_js_server_of },
        { "bodyPause", te_js_body_pause }, { "bodyRaw", te_js_body_raw }, { "bodyResume", te_js_body_resume }, { "cut", te_js_cut },
        { "pressure", te_js_pressure }, { "localAddress", te_js_local_address },
        { "peerAddress", te_js_peer_address }, { "nextNumber", te_js_next_number },
        { "stopAccepting", js_stop_accepting }, { "closeIdle", js_close_idle }, { "stats", js_stats },
        { "shutdown", js_shutdown }, { "setRoutes", js_set_routes }, { "watch", js_watch },
        { "unwatch", js_unwatch }, { "pinThreads", te_js_pin_threads }, { "allowedCpus", te_js_allowed_cpus },
        { "fifoPollers", te_js_fifo_pollers },
        { "upConnect", te_js_up_connect }, { "upWrite", te_js_up_write }, { "upPause", te_js_up_pause },
        { "upClose", te_js_up_close }, { "upCount", te_js_up_count },
        { "setSoftware", te_js_set_software }, { "setNofile", te_js_set_nofile }, { "setCore", te_js_set_core }, { "statusAttach", te_js_status_attach },
        { "tlsBuilt", te_js_tls_built }, { "tlsContext", te_js_tls_context }, { "tlsListener", te_js_tls_listener },
        { "tlsSni", te_js_tls_sni }, { "gzip", te_js_gzip },
        { "gzipOpen", te_js_gzip_open }, { "gzipPush", te_js_gzip_push },
        { "tlsInfo", te_js_tls_info }, { "tlsFlags", te_js_tls_flags },
        { "tlsCertHook", te_js_tls_cert_hook }, { "tlsCertDone", te_js_tls_cert_done }, { "tlsConfCheck", te_js_tls_conf_check },
        { "ocspRequest", te_js_ocsp_request }, { "ocspCheck", te_js_ocsp_check }, { "tlsOcspHook", te_js_tls_ocsp_hook },
        { "tlsStaple", te_js_tls_staple },
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        napi_value f;
        napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
        napi_set_named_property(env, exports, fns[i].name, f);
    }
    return exports;
}
