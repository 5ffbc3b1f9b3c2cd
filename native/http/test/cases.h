/* Table of request heads for test_http.c: raw bytes and what the parser must make of them. */
#ifndef TR_HTTP_TEST_CASES_H
#define TR_HTTP_TEST_CASES_H

/* expected result: OK (head parsed), REFUSE with a status, or AGAIN (incomplete). */
enum { OK = 1, REFUSE, AGAIN };

struct head_case {
    const char *name;
    const char *raw;
    unsigned rawlen; /* 0: strlen(raw) */
    int expect;
    int status;              /* with REFUSE */
    const char *method;      /* with OK: expected slices, NULL to skip */
    const char *path;
    const char *query;
    const char *host;
    int version;             /* 0 to skip */
    unsigned flags_set;      /* flags that must be set */
    unsigned flags_clear;    /* flags that must be clear */
    int nheaders;            /* -1 to skip */
    long long content_length; /* -1 to skip */
};

#define H11 "GET / HTTP/1.1\r\nHost: x\r\n"
#define P11 "POST / HTTP/1.1\r\nHost: x\r\n"

static const struct head_case head_cases[] = {
    {"minimal", H11 "\r\n", 0, OK, 0, "GET", "/", NULL, "x", 1001, TR_HTTP_F_KEEPALIVE | TR_HTTP_F_HOST, TR_HTTP_F_CHUNKED, 1, -1},
    {"lf only", "GET / HTTP/1.1\nHost: x\n\n", 0, OK, 0, "GET", "/", NULL, "x", 1001, TR_HTTP_F_KEEPALIVE, 0, 1, -1},
    {"leading empty lines", "\r\n\r\n" H11 "\r\n", 0, OK, 0, "GET", "/", NULL, "x", 1001, 0, 0, 1, -1},
    {"query", "GET /a/b?c=d&e HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, "GET", "/a/b", "c=d&e", "x", 1001, TR_HTTP_F_ARGS, TR_HTTP_F_COMPLEX_URI, 1, -1},
    {"complex dot", "GET /a/./b HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, NULL, "/a/./b", NULL, NULL, 0, TR_HTTP_F_COMPLEX_URI, TR_HTTP_F_ARGS, -1, -1},
    {"complex slashes", "GET //a HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, NULL, "//a", NULL, NULL, 0, TR_HTTP_F_COMPLEX_URI, 0, -1, -1},
    {"quoted", "GET /a%20b HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, NULL, "/a%20b", NULL, NULL, 0, TR_HTTP_F_COMPLEX_URI | TR_HTTP_F_QUOTED_URI, 0, -1, -1},
    {"absolute", "GET http://h.example:81/p?q HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, "GET", "/p", "q", "h.example", 1001, TR_HTTP_F_ABSOLUTE | TR_HTTP_F_ARGS, 0, 1, -1},
    {"absolute no path", "GET http://h HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, NULL, "", NULL, "h", 1001, TR_HTTP_F_ABSOLUTE, 0, 1, -1},
    {"absolute ipv6", "GET http://[::1]:80/p HTTP/1.1\r\nHost: x\r\n\r\n", 0, OK, 0, NULL, "/p", NULL, "[::1]", 0, TR_HTTP_F_ABSOLUTE, 0, 1, -1},
    {"host port and dot", "GET / HTTP/1.1\r\nHost: a.b.:80\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, "a.b", 0, TR_HTTP_F_HOST, 0, 1, -1},
    {"http/1.0 no host", "GET / HTTP/1.0\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, "", 1000, 0, TR_HTTP_F_KEEPALIVE | TR_HTTP_F_HOST, 0, -1},
    {"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 1000, TR_HTTP_F_KEEPALIVE, 0, 1, -1},
    {"close", H11 "Connection: close\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, 0, TR_HTTP_F_KEEPALIVE, 2, -1},
    {"last connection wins", H11 "Connection: close\r\nConnection: keep-alive\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, TR_HTTP_F_KEEPALIVE, 0, 3, -1},
    {"upgrade", H11 "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, TR_HTTP_F_UPGRADE | TR_HTTP_F_CONN_UPGRADE, 0, 3, -1},
    {"expect", P11 "Content-Length: 3\r\nExpect: 100-Continue\r\n\r\n", 0, OK, 0, "POST", NULL, NULL, NULL, 0, TR_HTTP_F_EXPECT_CONTINUE | TR_HTTP_F_CONTENT_LENGTH, 0, 3, 3},
    {"content-length", P11 "Content-Length: 0012  \r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, TR_HTTP_F_CONTENT_LENGTH, TR_HTTP_F_CHUNKED, 2, 12},
    {"chunked", P11 "Transfer-Encoding: Chunked\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, TR_HTTP_F_CHUNKED, TR_HTTP_F_CONTENT_LENGTH, 2, -1},
    {"ignored underscore", H11 "X_A: 1\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, TR_HTTP_F_IGNORED, 0, 1, -1},
    {"no colon", H11 "X-A\r\n\r\n", 0, OK, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 2, -1},
    {"http/0.9", "GET /\r\n", 0, OK, 0, "GET", "/", NULL, NULL, 9, TR_HTTP_F_HTTP09, TR_HTTP_F_KEEPALIVE, 0, -1},
    {"incomplete", H11, 0, AGAIN, 0},
    {"lower-case method", "get / HTTP/1.1\r\n", 0, REFUSE, 400},
    {"obs-fold", H11 "X-A: 1\r\n 2\r\n\r\n", 0, REFUSE, 400},
    {"space before colon", H11 "X-A : 1\r\n\r\n", 0, REFUSE, 400},
    {"nul in value", H11 "X-A: 1\0" "2\r\n\r\n", sizeof(H11 "X-A: 1\0" "2\r\n\r\n") - 1, REFUSE, 400},
    {"two content-length", P11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, REFUSE, 400},
    {"cl and te", P11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, REFUSE, 400},
    {"te gzip", P11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, REFUSE, 501},
    {"http/2.0", "GET / HTTP/2.0\r\n", 0, REFUSE, 505},
    {"preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, REFUSE, 400},
    {"no host", "GET / HTTP/1.1\r\n\r\n", 0, REFUSE, 400},
    {"duplicate host", H11 "Host: y\r\n\r\n", 0, REFUSE, 400},
    {"trace", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 0, REFUSE, 405},
};

#endif
