// The records the native engine and JS exchange, named as in native/engine/layout.h (read it for
// the picture). inbox: engine -> JS, one batch per call; outbox: a 64-byte control block, then
// the records JS appends for the engine to write.

export const REC_TYPE = 0;
export const REC_A = 1;
export const REC_B = 2;
export const REC_SIZE = 4;
export const REC_CONN = 8;
export const REC_HDR = 12;

export const IN_REQ = 1;
export const IN_BODY = 2;
export const IN_BODY_END = 3;
export const IN_BODY_ERR = 4;
export const IN_CLOSE = 5;
export const IN_DRAIN = 6;
export const IN_LOG = 7;
export const IN_ERRLOG = 8;
/** A watched fd (EngineBinding.watch) was readable: conn = the fd. */
export const IN_WAKE = 9;

// Upstream sockets' records (native/engine/upstream.h); conn = the upstream socket's id.
export const IN_UP_CONNECT = 16;
export const IN_UP_DATA = 17;
export const IN_UP_EOF = 18;
export const IN_UP_ERROR = 19;
export const IN_UP_DRAIN = 20;

/** IN_BODY_END: u32 bytes of a chunked body's framing ($request_length counts them). */
export const BODY_END_FRAMING = 12;

export const REQ_LISTENER = 12;
export const REQ_FLAGS = 16;
export const REQ_VERSION = 20;
export const REQ_NHEADERS = 22;
export const REQ_CLEN = 24;
export const REQ_HEAD_LEN = 32;
export const REQ_METHOD = 36;
export const REQ_TARGET = 40;
export const REQ_TARGET_LEN = 44;
export const REQ_ADDR_LEN = 48;
export const REQ_PORT = 50;
export const REQ_NUMBER = 52;
export const REQ_LOC = 56;
export const REQ_SENT = 60;
export const REQ_MSEC = 64;
/** u32: bytes of the whole body after the head bytes (layout.h TE_REQ_BODY_LEN), 0 when JS must ask. */
export const REQ_BODY_LEN = 68;
/** u32: LOG: head bytes sent (layout.h TE_REQ_HEAD_SENT), for $bytes_sent. */
export const REQ_HEAD_SENT = 72;
/** u32: requests begun on the connection, this one included (layout.h TE_REQ_CONN_REQS). */
export const REQ_CONN_REQS = 76;
/** u32: ms since the connection was accepted (layout.h TE_REQ_CONN_MS). */
export const REQ_CONN_MS = 80;
/** In REQ_FLAGS: the request was in the buffer when the one before it ended (TE_REQ_F_PIPELINED). */
export const F_PIPELINED = 2 ** 31;
/** In a LOG's REQ_FLAGS: the engine's answer was cut short, the client gone (TE_REQ_F_CUT). */
export const F_CUT = 2 ** 30;
export const REQ_FIXED = 88;

export const DATA_LEN = 12;
export const DATA = 16;
export const ERR_NUMBER = 16;
export const ERR_LISTENER = 20;
export const ERR_SRV_OFF = 22;
export const ERR_SRV_LEN = 24;
export const ERR_HOST_LEN = 26;
export const ERR_DNAME = 28;
export const ERR_TEXT = 32;

/** TE_LOG_* levels of ERRLOG records, as error_log names them. */
export const LOG_LEVELS = ['', 'alert', 'crit', 'error', 'warn', 'notice', 'info'] as const;

export const WHY_CLIENT = 0;
export const WHY_TIMEOUT = 1;
export const WHY_ERROR = 2;
export const WHY_STOP = 3;
export const WHY_HALF = 4;
export const WHY_RESET = 5;

export const OUT_CTL = 64;
export const CTL_USED = 0;
/** 1 while the engine's batch call runs, its microtasks included (the engine flushes after it). */
export const CTL_BATCH = 1;
export const OUT_SEND = 1;
export const SEND_END = 1;
export const SEND_CLOSE = 2;
export const SEND_CONTINUE = 4;
export const SEND_LEN = 12;
export const SEND_KEEPALIVE = 16;
export const SEND_DATA = 24;

// parse.h's TR_HTTP_F_* flags, as REQ records carry them.
export const F_ABSOLUTE = 1 << 0;
export const F_KEEPALIVE = 1 << 4;
export const F_CHUNKED = 1 << 5;
export const F_CONTENT_LENGTH = 1 << 6;
export const F_EXPECT_CONTINUE = 1 << 7;
export const F_HTTP09 = 1 << 11;
