/*
 * engine.h: the native HTTP engine of a worker (issue 9). One engine per process, driven by the
 * worker's event loop (bench/README.md, "Engine thread layout"): libuv polls the engine's epoll fd
 * and each readiness runs one pass (pass.c) that accepts, reads and parses everything ready,
 * answers what needs no JS (answer.c), hands the rest to JS in one batch (layout.h), then writes
 * the answers JS queued. No thread of its own, nothing spins.
 *
 * A connection serves one request at a time (nginx does too): a pipelined request waits in the
 * input buffer until the answer before it is written.
 */
#ifndef TRESTY_ENGINE_H
#define TRESTY_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "parse.h"
#include "layout.h"
#include "table.h"
#include "stat.h"

#define TE_LOC_DEFAULT 0xffffffffu /* LOG record: the default server's own settings (a refused request) */
#define TE_HEADERS_FIRST 32 /* header slots of a head at first; grown to max_headers when needed */
#define TE_MAX_LISTENERS 64
#define TE_BODY_CHUNK (64 * 1024)   /* body bytes per inbox record */
#define TE_BODY_EAGER (64 * 1024)   /* a Content-Length body up to this goes with its REQ record */
#define TE_OUT_HIGH (64 * 1024)     /* queued output above this: JS waits for TE_IN_DRAIN */

typedef struct te_engine te_engine;
typedef struct te_conn te_conn;
typedef struct te_routes te_routes;

enum te_state {
    TE_FREE = 0,
    TE_IDLE,   /* keep-alive: waiting for a request, no buffers held */
    TE_HEAD,   /* reading a request head */
    TE_JS,     /* a request is with JS (its body may be streaming) */
    TE_NATIVE, /* the engine is sending its own answer (a file, a page) */
    TE_LINGER  /* answer sent and write side shut: reading and dropping input, then close */
};

/* TE_BODY_RAW: ngx.req.socket(true) took the connection: its bytes go to JS as they come (body.c) */
enum te_body { TE_BODY_NONE = 0, TE_BODY_WAIT, TE_BODY_READ, TE_BODY_DONE, TE_BODY_DISCARD, TE_BODY_RAW };
enum te_timer { TE_T_NONE = 0, TE_T_HEADER, TE_T_BODY, TE_T_SEND, TE_T_KEEPALIVE, TE_T_LINGER };

/* te_conn.flags */
#define TE_C_KEEPALIVE (1u << 0)  /* the current request may keep the connection open */
#define TE_C_END (1u << 1)        /* the whole answer is queued: finish once it is written */
#define TE_C_CLOSE (1u << 2)      /* close once the answer is written */
#define TE_C_PAUSED (1u << 3)     /* JS paused the body */
#define TE_C_WANT_DRAIN (1u << 4) /* JS waits for TE_IN_DRAIN */
#define TE_C_PENDING (1u << 5)    /* on the pending list */
#define TE_C_EPOLLOUT (1u << 6)   /* EPOLLOUT is in the interest set */
#define TE_C_NOREAD (1u << 7)     /* EPOLLIN is out of the interest set (buffer full, EOF) */
#define TE_C_CHUNKED (1u << 8)    /* the request body is chunked */
#define TE_C_CONTINUE (1u << 9)   /* "100 Continue" is owed when the body is read */
#define TE_C_JS (1u << 10)        /* JS holds a request of this connection: tell it on close */
#define TE_C_EOF (1u << 11)       /* the client closed its side */
#define TE_C_LOG (1u << 12)       /* the engine's own answer: report a LOG record when done */
#define TE_C_LINGER (1u << 13)    /* close with a lingering close (input may still come) */
#define TE_C_RESET (1u << 14)     /* close with a reset (reset_timedout_connection) */
#define TE_C_IDLE_LIST (1u << 15) /* on the idle keep-alive list */
#define TE_C_SENDFILE (1u << 16)  /* send the file range with sendfile (else pread + send) */
#define TE_C_ANSWERED (1u << 17)  /* JS's answer started going out */
#define TE_C_IGNORED_LOGGED (1u << 18) /* the dropped headers' lines are written (a head dispatched
                                          again, the inbox full, logs them once) */
#define TE_C_TLS_HS (1u << 19)    /* TLS: the handshake is not done (tls.c) */
#define TE_C_TLS_MORE (1u << 20)  /* TLS: OpenSSL holds decrypted input: read it in the next round */
#define TE_C_TLS_DEAD (1u << 21)  /* TLS: the session failed: no close_notify */
#define TE_C_TLS_NOTIFIED (1u << 22) /* TLS: close_notify sent */
#define TE_C_TLS_PLAIN (1u << 23) /* plain HTTP came to a TLS port: answered 497 once its head is read */
#define TE_C_TLS_REJECTED (1u << 24) /* TLS: ssl_reject_handshake refused the handshake (tls.c) */
#define TE_C_HALF (1u << 25)     /* the client closed its side while JS answered: the close is read again at the end */
#define TE_C_PIPELINED (1u << 26) /* the current request was in the buffer when the one before it ended */

/* Per listen socket: the settings of its default server (nginx applies them per connection
   until the request's server and location are known). */
typedef struct te_settings {
    uint32_t header_timeout, body_timeout, send_timeout, keepalive_timeout; /* ms */
    uint32_t keepalive_requests;
    uint32_t lingering_time, lingering_timeout; /* ms */
    uint8_t reset_timedout;
    uint8_t linger_always; /* lingering_close always */
    tr_http_limits limits;
} te_settings;

/* A server's name as error-log lines print it (nginx caps a server_name far below 255). */
typedef struct te_name { uint8_t n; char p[255]; } te_name;

/* A local address of a wildcard listen socket that other server blocks listen on by address
   (`listen 127.0.0.1:80` next to `listen 80`): its default server (1 + index into snames). */
typedef struct te_laddr { uint8_t fam; uint8_t a[16]; uint16_t sname; } te_laddr;
#define TE_LISTENER_ADDRS 16

typedef struct te_listener {
    int fd;
    uint32_t index; /* as JS numbers its binds */
    int32_t server; /* native routes: the server answering on it, -1 when JS decides */
    uint8_t active;
    te_settings set;
    /* For error-log lines: its default server's name (the `server:` of a line about a request
       when the routes do not know the server) and its address (nginx's `server:` before a
       request has begun, as "0.0.0.0:80"). */
    uint8_t name_len, addr_len;
    char name[255], addr[64];
    uint8_t naddrs;
    te_laddr addrs[TE_LISTENER_ADDRS];
} te_listener;

/* The parser's state while a head is read, allocated with the input buffer and freed with it when
   the connection goes idle. Most heads fit TE_HEADERS_FIRST header slots; a head with more is
   parsed again with room for max_headers (nginx's limit). */
typedef struct te_head {
    tr_http_req req;
    uint32_t cap;
    tr_http_header hdrs[];
} te_head;

struct te_conn {
    int fd;
    uint32_t id;       /* slot | generation << TE_SLOT_BITS */
    uint8_t state;     /* te_state */
    uint8_t body;      /* te_body */
    uint8_t timer;     /* te_timer */
    uint8_t raddr_len;
    uint8_t ss;        /* stat.h TE_SS_*: what stub_status counts it as */
    uint16_t listener; /* index into te_engine.listeners */
    uint16_t rport;
    uint16_t sname;    /* 1 + index into te_engine.snames: the server JS chose by the request's
                          Host (error-log `server:`), 0 until JS says (then: the listener's) */
    uint16_t dname;    /* 1 + index into te_engine.snames: the default server of the address the
                          connection came in on (te_laddr), 0: the listener's */
    uint32_t flags;    /* TE_C_* */
    uint32_t requests; /* requests begun on this connection */
    uint32_t number;   /* connection number, for error log lines */

    /* Input. The current request starts at req; the parser / body reader is at pos. */
    char *in;
    uint32_t in_cap, in_len, req, pos;
    te_head *head;

    /* The current request */
    uint32_t head_len;
    uint16_t version;
    uint16_t status;    /* the engine's own answer */
    uint16_t refused;   /* 495-497: the request JS answers refused (tls_verify.c te_tls_refusals_js) */
    uint32_t loc;       /* the engine's own answer: its location id */
    uint32_t ka_ms;     /* keepalive_timeout after this answer (the location's) */
    uint64_t body_left; /* Content-Length bytes not read yet */
    uint64_t body_limit;
    uint32_t body_timeout; /* the reading location's client_body_timeout, ms (0: the server's) */
    uint64_t sent;      /* the engine's own answer: body bytes written */
    uint64_t head_sent; /* the engine's own answer: head bytes written ($bytes_sent counts them) */
    uint64_t t_start;   /* ms, when the request's first byte came */
    uint64_t t_conn;    /* ms, when the connection was accepted */
    uint64_t linger_end; /* lingering_time: when a lingering close gives up */
    tr_http_chunked chunked;
    uint64_t body_framing; /* chunked framing bytes read so far (TE_BODY_END_FRAMING) */

    /* Output: bytes [out_off, out_len) of out, then a file range */
    char *out;
    uint32_t out_cap, out_off, out_len;
    uint32_t out_head; /* bytes of out that are the answer's head (not counted in sent) */
    int file_fd;
    uint64_t file_pos, file_end;
    char *file_name;

    /* Timers: a lazy min-heap (timer.c) */
    uint64_t deadline; /* ms; 0 = none */
    int32_t heap_idx;  /* -1 when not in the heap */

    te_conn *idle_prev, *idle_next; /* keep-alive connections, oldest first */
    void *ssl; /* the TLS session (tls.c), NULL on a plain connection */
    char raddr[48];
};

struct te_engine {
    int epfd;
    te_listener listeners[TE_MAX_LISTENERS];
    uint32_t nlisteners;
    uint8_t accepting, draining, in_pass;

    te_table conns;    /* client connections by id */
    uint32_t max_conns, numbers;
    uint8_t multi_accept; /* events { multi_accept }: 0 = one accept per listener event (nginx's default) */

    te_conn *idle_head, *idle_tail;
    uint32_t nidle;
    uint32_t *pend;  /* ids of connections with work for the next pass */
    uint32_t npend, pend_cap;

    uint32_t heap_len; /* timer.c keeps the heap itself */
    uint64_t now;

    char *inbox;
    uint32_t inbox_cap, inbox_len;
    /* Records JS must get that did not fit in the inbox, oldest first (records.c): they go in
       before any newer record, so none is lost and the order holds. */
    char *over;
    uint32_t over_len, over_cap;
    char *outbox;
    uint32_t outbox_cap;
    int32_t *ctl;

    te_routes *routes;
    /* The servers' first names, as JS numbers them for te_conn.sname (serverNames()) */
    te_name *snames;
    uint32_t nsnames;
    /* The path of the request being dispatched: as received, or normalised (scratch) */
    const char *path;
    uint32_t path_len;
    char *scratch;
    uint32_t scratch_cap;
    void *host; /* addon.c's state */
};

/* addon.c: hands the inbox to JS (returns when JS and its microtasks are done) */
void te_host_deliver(te_engine *e);
/* addon.c: the next deadline changed (0 = none) / pending work needs a pass */
void te_host_arm_timer(te_engine *e, uint64_t deadline);
void te_host_schedule(te_engine *e);
uint64_t te_host_now(te_engine *e);

/* pass.c */
void te_pass(te_engine *e);
void te_pend(te_engine *e, te_conn *c);
int te_add_listener(te_engine *e, int fd, uint32_t index, const te_settings *set, int32_t server, const char *name, const char *addr);
void te_stop_accepting(te_engine *e);
void te_close_idle(te_engine *e);

/* conn.c (te_conn_event, _work and _timeout: conn_read.c) */
te_conn *te_conn_get(te_engine *e, uint32_t id);
void te_conn_new(te_engine *e, int fd, uint16_t listener, const void *sa, uint32_t salen);
void te_conn_event(te_engine *e, te_conn *c, uint32_t events);
void te_conn_work(te_engine *e, te_conn *c);
void te_conn_close(te_engine *e, te_conn *c, int why);
void te_conn_timeout(te_engine *e, te_conn *c, int kind);
void te_conn_finish(te_engine *e, te_conn *c);
/* head.c: parse what was read of a head; refuse it, or answer it natively, or hand it to JS. */
void te_head_parse(te_engine *e, te_conn *c);
void te_head_gone(te_engine *e, te_conn *c, const char *why, int status);
/* The most a head may take with nginx's buffers (beyond it: 400, too large). */
uint32_t te_head_max(const te_settings *s);
/* "while reading client request line" or "... headers", for refusal log lines. */
const char *te_refusal_phase(const tr_http_req *q);
void te_conn_interest(te_engine *e, te_conn *c);
/* conn_buffers.c: room for `need` more bytes of input */
int te_want_in(te_conn *c, uint32_t need);
const te_settings *te_set(te_engine *e, te_conn *c);

/* io.c */
int te_send(te_engine *e, te_conn *c, const char *p, uint32_t n);
int te_queue(te_conn *c, const char *p, uint32_t n);
/* n bytes at the end of the output queue, to fill in place (NULL: out of memory) */
char *te_reserve(te_conn *c, uint32_t n);
int te_write_out(te_engine *e, te_conn *c);
void te_flush_outbox(te_engine *e);
uint32_t te_queued(te_conn *c);
void te_conn_writable(te_engine *e, te_conn *c);

/* body.c */
void te_body_start(te_engine *e, te_conn *c, uint64_t limit, uint32_t timeout_ms);
int te_body_feed(te_engine *e, te_conn *c);
int te_body_discard(te_engine *e, te_conn *c);
void te_body_raw(te_engine *e, te_conn *c);

/* eager.c */
uint32_t te_body_eager(te_conn *c);
void te_body_taken(te_conn *c, uint32_t n);

/* records.c */
/* NULL (inbox full) only for a record its producer makes again (REQ, LOG, BODY); any other waits aside. */
char *te_rec(te_engine *e, uint8_t type, te_conn *c, uint32_t fixed, uint32_t extra);
/* Moves the records kept aside into the inbox as room allows; 1 when none is left aside (only
   then may a producer that retries later, like an upstream read, write to the inbox itself). */
int te_rec_spill(te_engine *e);
/* The LOG of a connection going away, never refused (nobody would make it again). */
void te_rec_log_last(te_engine *e, te_conn *c, int cut);
int te_rec_req(te_engine *e, te_conn *c, uint8_t type, uint32_t body);
int te_rec_data(te_engine *e, uint8_t type, te_conn *c, uint16_t b, const char *p, uint32_t n);
void te_errlog(te_engine *e, te_conn *c, int level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void te_errlog_bare(te_engine *e, te_conn *c, int level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The default server (1 + index into snames) of the local address of fd, on listener l; 0: none. */
uint16_t te_addr_name(const te_listener *l, int fd);
void te_rec_close(te_engine *e, te_conn *c, int why);
/* The same with the body bytes of the answer the engine sends instead of JS's (REC_B). */
void te_rec_close_sent(te_engine *e, te_conn *c, int why, uint16_t sent);
const struct te_str *te_server_name(te_engine *e, te_conn *c);

/* watch.c: fds besides connections on the engine's epoll (epoll data: TE_WATCH_TAG | fd) */
#define TE_WATCH_TAG (1ull << 41)
int te_watch(te_engine *e, int fd);
int te_unwatch(te_engine *e, int fd);
void te_watch_event(te_engine *e, int fd);

/* timer.c */
void te_timer_set(te_engine *e, te_conn *c, int kind, uint32_t ms);
void te_timer_clear(te_engine *e, te_conn *c);
void te_timer_remove(te_engine *e, te_conn *c);
void te_timers_expire(te_engine *e);
uint64_t te_timers_next(te_engine *e);

/* answer.c: the engine's own answers */
void te_answer_page(te_engine *e, te_conn *c, int status, int close);
int te_page_closes(int status);
int te_body_continue(te_engine *e, te_conn *c);
/* gzip's own lines of an answer, apart from its header lines: the gzip filter's chunks and
   Content-Encoding, gzip_vary's Vary (te_answer_head puts each where nginx's filters do) */
enum { TE_GZL_CHUNKED = 1, TE_GZL_VARY = 2, TE_GZL_ENCODING = 4 };
/* `extra`: the answer's own lines (a Location made absolute and Last-Modified first, before
   Connection), then its header list; `late`: lines after Connection ahead of the list (a Location
   given as a URL); may be NULL. `gz`: TE_GZL_* */
int te_answer_head(te_engine *e, te_conn *c, int status, const char *name, const char *type, long long length, const char *extra,
                   const char *late, int gz);
void te_answer_go(te_engine *e, te_conn *c);
int te_is_head(te_conn *c);

/* static.c: answers a request from the native routes when its location needs no JS (1), else 0 */
int te_answer_native(te_engine *e, te_conn *c);

#endif
