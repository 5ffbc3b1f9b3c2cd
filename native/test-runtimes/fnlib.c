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
