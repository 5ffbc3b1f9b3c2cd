/*
 * check_shapes.c: answers request shapes as a server built on the parser would, so that
 * test/http-refusals.test.ts can hold the parser to what nginx answered for each shape of
 * test/fixtures/http-refusals.ts. Reads shapes from stdin (each: a 4-byte little-endian length,
 * then the bytes) and prints one line per shape:
 *     statuses=200,400 close=1 http09=0 reason=<text of the refusal, if any>
 * The model: nginx's defaults (client_max_body_size 1m), a location that reads the body and
 * answers 200; requests are served in order until one is refused or not kept alive.
 */
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (1024 * 1024)
#define MAXH 1000

static tr_http_header hdrs[MAXH];

static void answer(const char *b, size_t total)
{
    tr_http_limits lim;
    tr_http_limits_default(&lim);
    lim.max_headers = MAXH;
    int statuses[64], ns = 0, close = 0, http09 = 0;
    const char *reason = "";
    size_t at = 0;
    char *path = malloc(total + 1);
    char *body = malloc(total + 1);
    while (ns < 64) {
        /* nginx skips empty lines between requests; bytes that end there leave it waiting */
        size_t k = at;
        while (k < total && (b[k] == '\r' || b[k] == '\n')) k++;
        if (k == total) break;
        tr_http_req req;
        tr_http_req_init(&req);
        int rc = tr_http_parse_head(&req, b + at, total - at, hdrs, &lim);
        if (req.flags & TR_HTTP_F_HTTP09) http09 = 1;
        if (rc == TR_HTTP_AGAIN) break;
        if (rc == TR_HTTP_REFUSE) {
            statuses[ns++] = req.status == TR_HTTP_HEADER_TOO_LARGE ? 400 : req.status;
            reason = req.reason;
            close = 1;
            break;
        }
        if (req.flags & TR_HTTP_F_COMPLEX_URI) {
            if (tr_http_normalize_path(b + at + req.path.off, req.path.len, path, 1) < 0) {
                statuses[ns++] = 400;
                reason = TR_HTTP_BAD_URI;
                close = 1;
                break;
            }
        }
        at += (size_t)rc;
        if (req.flags & TR_HTTP_F_CONTENT_LENGTH) {
            if (req.content_length > MAX_BODY) {
                statuses[ns++] = 413;
                reason = "client intended to send too large body";
                close = 1;
                break;
            }
            if (req.content_length > total - at) break; /* waits for the body */
            at += (size_t)req.content_length;
        } else if (req.flags & TR_HTTP_F_CHUNKED) {
            tr_http_chunked ch;
            tr_http_chunked_init(&ch, MAX_BODY);
            size_t used, made;
            memcpy(body, b + at, total - at);
            int crc = tr_http_chunked_decode(&ch, body, total - at, &used, &made);
            if (crc == TR_HTTP_REFUSE) {
                statuses[ns++] = ch.status;
                reason = ch.reason;
                close = 1;
                break;
            }
            if (crc == TR_HTTP_AGAIN) break;
            at += used;
        }
        statuses[ns++] = 200;
        if (!(req.flags & TR_HTTP_F_KEEPALIVE)) {
            close = 1;
            break;
        }
    }
    free(path);
    free(body);
    printf("statuses=");
    for (int i = 0; i < ns; i++) printf(i ? ",%d" : "%d", statuses[i]);
    printf(" close=%d http09=%d reason=%s\n", close, http09, reason);
}

int main(void)
{
    size_t cap = 1 << 20, n = 0, got;
    unsigned char *all = malloc(cap);
    while ((got = fread(all + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) all = realloc(all, cap *= 2);
    }
    for (size_t at = 0; at + 4 <= n;) {
        size_t len = (size_t)all[at] | (size_t)all[at + 1] << 8 | (size_t)all[at + 2] << 16
                   | (size_t)all[at + 3] << 24;
        at += 4;
        if (len > n - at) return 2;
        /* a private copy sized exactly, so ASan sees any read past the end */
        char *b = malloc(len ? len : 1);
        memcpy(b, all + at, len);
        answer(b, len);
        free(b);
        at += len;
    }
    free(all);
    return 0;
}
