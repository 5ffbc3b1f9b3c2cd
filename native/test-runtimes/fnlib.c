/* Test function library: plain C functions with no threads of their own. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tresty_test_echo(const char *req, int len, char **rsp, int *rsp_len) {
  char *out = malloc((size_t)len + 1);
  if (!out) return 12;
  memcpy(out, req, (size_t)len);
  out[len] = 0;
  *rsp = out;
  *rsp_len = len;
  return 0;
}

int tresty_test_upper(const char *req, int len, char **rsp, int *rsp_len) {
  int rc = tresty_test_echo(req, len, rsp, rsp_len);
  for (int i = 0; rc == 0 && i < len; i++) (*rsp)[i] = (char)toupper((unsigned char)(*rsp)[i]);
  return rc;
}

int tresty_test_fail(const char *req, int len, char **rsp, int *rsp_len) {
  char *msg = malloc(64 + (size_t)len);
  sprintf(msg, "refused '%.*s'", len, req);
  *rsp = msg;
  *rsp_len = 0; /* NUL-terminated */
  return 4;
}

/* Breaks the contract: says its answer is 64 MB long, in a 16-byte block. */
int tresty_test_overlen(const char *req, int len, char **rsp, int *rsp_len) {
  (void)req;
  (void)len;
  *rsp = calloc(1, 16);
  *rsp_len = 64 << 20;
  return 0;
}

/* A valid answer of N bytes, N from the request (a decimal number). */
int tresty_test_big(const char *req, int len, char **rsp, int *rsp_len) {
  (void)len;
  size_t n = strtoul(req, NULL, 10);
  *rsp = malloc(n + 1);
  memset(*rsp, 'b', n);
  (*rsp)[n] = 0;
  *rsp_len = (int)n;
  return 0;
}
