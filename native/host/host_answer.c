/* check_answer (host_answer.h). */
#define _GNU_SOURCE
#include "host_answer.h"
#include "tresty_ring.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A length past the runtime's own malloc'ed block would make the host read beyond it (SIGSEGV). */
uint32_t check_answer(uint32_t max_rsp, char **rsp, int rsp_len, uint32_t *flag) {
  *flag = TR_FLAG_OK;
  if (!*rsp) return 0;
  size_t have = malloc_usable_size(*rsp);
  size_t len;
  char msg[160];
  if (rsp_len > 0) {
    len = (size_t)rsp_len;
    if (len > have) {
      *flag = TR_FLAG_BAD_LENGTH;
      snprintf(msg, sizeof msg, "the runtime answered rsp_len %d for a block of %zu bytes", rsp_len, have);
    }
  } else {
    len = strnlen(*rsp, have);
    if (len == have) {
      *flag = TR_FLAG_BAD_LENGTH;
      snprintf(msg, sizeof msg, "the runtime answered rsp_len 0 (a C string) with no NUL in its %zu-byte block", have);
    }
  }
  if (!*flag && max_rsp && len > max_rsp) {
    *flag = TR_FLAG_TOO_LARGE;
    snprintf(msg, sizeof msg, "an answer of %zu bytes is over max_response_size %u", len, max_rsp);
  }
  if (!*flag) return (uint32_t)len;
  free(*rsp);
  *rsp = strdup(msg);
  return *rsp ? (uint32_t)strlen(*rsp) : 0;
}
