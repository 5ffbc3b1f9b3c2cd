/*
 * layout.h: the records the engine and the worker's JS exchange (mirrored, with the same names,
 * in src/http/native/layout.ts). Two buffers, both owned by JS and passed to the engine once:
 *
 *   inbox  (engine -> JS): records written during one pass, handed to JS in one call:
 *          onBatch(bytes); JS reads [0, bytes) and the engine reuses the buffer afterwards.
 *   outbox (JS -> engine): a control block, then records JS appends; the engine writes them out
 *          when JS's batch call returns (microtasks included) or when JS calls flush().
 *
 *   inbox:   | rec | rec | rec | ...                         (each record 8-aligned)
 *   outbox:  | ctl (64 B) | rec | rec | ...   ctl[OUT_USED] = end of the last record
 *
 * Every record starts with the same 12 bytes:
 *   u8 type | u8 a | u16 b | u32 size (whole record, multiple of 8) | u32 conn (slot | gen << 24)
 */
#ifndef TRESTY_ENGINE_LAYOUT_H
#define TRESTY_ENGINE_LAYOUT_H

#define TE_REC_TYPE 0
#define TE_REC_A 1
#define TE_REC_B 2
#define TE_REC_SIZE 4
#define TE_REC_CONN 8
#define TE_REC_HDR 12

/* ---- inbox records ---- */
enum te_in_type {
    TE_IN_REQ = 1,      /* a request head for JS */
    TE_IN_BODY = 2,     /* request body bytes */
    TE_IN_BODY_END = 3, /* the request body is complete */
    TE_IN_BODY_ERR = 4, /* the body failed: b = status (400, 408, 413); text = reason */
    TE_IN_CLOSE = 5,    /* the connection of a JS request closed before its answer ended */
    TE_IN_DRAIN = 6,    /* queued output fell below the low-water mark (asked by pressure()) */
    TE_IN_LOG = 7,      /* a request the engine answered itself, for the access log */
    TE_IN_ERRLOG = 8,   /* an error-log line about a connection: a = level (TE_LOG_*) */
    TE_IN_WAKE = 9      /* a watched fd (watch.c) was readable: conn = the fd */
};

/* TE_IN_REQ and TE_IN_LOG: the head as received, its slices relative to the head's first byte;
   a = parse.h's method id. LOG records carry status (b), location id, body bytes sent and the
   request time. */
#define TE_REQ_LISTENER 12    /* u32: index of the listen socket (as given to addListener) */
#define TE_REQ_FLAGS 16       /* u32: TR_HTTP_F_* of parse.h, TR_HTTP_F_KEEPALIVE as decided */
#define TE_REQ_VERSION 20     /* u16: 1001 = HTTP/1.1, 1000, 9 = HTTP/0.9 */
#define TE_REQ_NHEADERS 22    /* u16 */
#define TE_REQ_CLEN 24        /* f64: Content-Length, -1 when none */
#define TE_REQ_HEAD_LEN 32    /* u32 */
#define TE_REQ_METHOD 36      /* u16 off, u16 len */
#define TE_REQ_TARGET 40      /* u32: offset of the target */
#define TE_REQ_TARGET_LEN 44  /* u32 */
#define TE_REQ_ADDR_LEN 48    /* u16: the client's address as text */
#define TE_REQ_PORT 50        /* u16: the client's port */
#define TE_REQ_NUMBER 52      /* u32: the connection's number (error log lines: *N) */
#define TE_REQ_LOC 56         /* u32: LOG: the location id the engine answered from */
#define TE_REQ_SENT 60        /* u32: LOG: body bytes sent */
#define TE_REQ_MSEC 64        /* u32: LOG: request time in ms */
#define TE_REQ_BODY_LEN 68    /* u32: REQ: bytes of the whole body that follow the head bytes (a
                                 small Content-Length body that came with the head; the engine
                                 reads no more of it), 0 when JS must ask for the body */
#define TE_REQ_HEAD_SENT 72   /* u32: LOG: head bytes sent (status line to blank line) */
#define TE_REQ_CONN_REQS 76   /* u32: requests begun on the connection, this one included
                                 ($connection_requests) */
#define TE_REQ_CONN_MS 80     /* u32: ms since the connection was accepted ($connection_time) */
#define TE_REQ_F_CUT (1u << 30)       /* in a LOG's TE_REQ_FLAGS: the answer was cut short (the client
                                         went): $request_completion is empty, as nginx's */
#define TE_REQ_F_PIPELINED (1u << 31) /* in TE_REQ_FLAGS: the request was in the buffer when the
                                 one before it ended ($pipe) */
#define TE_REQ_FIXED 88       /* then: address text (padded to 8), nheaders x 4 u16 (name off,
                                 name len, value off, value len; padded to 8), the head bytes,
                                 the body bytes (TE_REQ_BODY_LEN) */

/* TE_IN_BODY_END: u32 bytes of a chunked body's framing (size lines, extensions, CRLFs, the
   last chunk, trailers), which JS never sees: nginx's $request_length counts them */
#define TE_BODY_END_FRAMING 12

/* TE_IN_BODY, TE_IN_BODY_ERR: u32 length, then the bytes */
#define TE_DATA_LEN 12
#define TE_DATA 16

/* TE_IN_ERRLOG: u32 length, u32 connection number (0: none), the text. A line about a request
   refused after its Host was read names the server that Host chooses, which only JS can tell:
   then ERR_LISTENER is the listen socket's index + 1, [ERR_SRV_OFF, + ERR_SRV_LEN) of the text
   is the default server's name to replace, and the host (ERR_HOST_LEN bytes) follows the text. */
#define TE_ERR_NUMBER 16
#define TE_ERR_LISTENER 20   /* u16: 0, or the listen socket's index + 1 */
#define TE_ERR_SRV_OFF 22    /* u16 */
#define TE_ERR_SRV_LEN 24    /* u16 */
#define TE_ERR_HOST_LEN 26   /* u16 */
#define TE_ERR_DNAME 28      /* u16: 0, or 1 + the index of the default server of the connection's address */
#define TE_ERR_TEXT 32

enum te_log_level { TE_LOG_ALERT = 1, TE_LOG_CRIT = 2, TE_LOG_ERROR = 3, TE_LOG_WARN = 4, TE_LOG_NOTICE = 5, TE_LOG_INFO = 6 };

/* TE_IN_CLOSE: a = why, b = body bytes of the answer the engine sent in JS's place (the 400 page
   of a refused chunked body; $body_bytes_sent), else 0; at TE_DATA_LEN the bytes of JS's answer
   still queued (they never went) */
enum te_close_why { TE_WHY_CLIENT = 0, TE_WHY_TIMEOUT = 1, TE_WHY_ERROR = 2, TE_WHY_STOP = 3,
                   TE_WHY_HALF = 4 /* the client closed its side only: the answer still goes */,
                   TE_WHY_RESET = 5 /* a read or write met ECONNRESET: nginx's line says 104, not 32 */ };

/* ---- outbox ---- */
#define TE_OUT_CTL 64         /* bytes of the control block at the start of the outbox */
#define TE_CTL_USED 0         /* i32 index: end of the last record (starts at TE_OUT_CTL) */
#define TE_CTL_BATCH 1        /* i32 index: 1 while the batch call runs, its microtasks included:
                                 what JS queues then goes out in the pass's own flush */

enum te_out_type {
    TE_OUT_SEND = 1       /* bytes of the answer; a = TE_SEND_* flags */
};
#define TE_SEND_END 1         /* the answer is complete */
#define TE_SEND_CLOSE 2       /* close the connection after it */
#define TE_SEND_CONTINUE 4    /* "100 Continue" first to a client still waiting for it (not a special response) */
#define TE_SEND_LEN 12        /* u32 bytes */
#define TE_SEND_KEEPALIVE 16  /* u32 keepalive_timeout (ms) for the idle time after it, with END */
#define TE_SEND_DATA 24

#endif
