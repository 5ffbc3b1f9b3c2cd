/* Zero-hop function plugins: fn runs on the calling thread (the event loop). The function and
   JS's buffers are bound once (tresty_fn_bind), so a call passes koffi two numbers: with the
   buffers and an out-pointer as arguments, koffi's marshalling of each call cost more than the
   echo itself (bench/README.md, "The cost of a call inside a worker"). */
#include "tresty_host.h"
#include "tresty_ring.h"
#include "host_answer.h"
#include "host_err.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  tresty_call_fn fn;
  uint8_t *req;
  uint32_t req_cap;
  uint8_t *out;
  uint32_t out_cap;
  uint32_t max_rsp;
  int32_t *meta;
} fn_bound;

EXPORT void *tresty_fn_bind(void *fn, uint8_t *req, uint32_t req_cap, uint8_t *out, uint32_t out_cap, uint32_t max_rsp,
                            int32_t *meta) {
  if (!fn || !req || !req_cap || !out || !meta) {
    fail("tresty_fn_bind: NULL argument");
    return NULL;
  }
  fn_bound *b = malloc(sizeof *b);
  if (!b) {
    fail("out of memory");
    return NULL;
  }
  *b = (fn_bound){(tresty_call_fn)fn, req, req_cap, out, out_cap, max_rsp, meta};
  return b;
}

EXPORT int tresty_fn_rebind_req(void *bound, uint8_t *req, uint32_t req_cap) {
  fn_bound *b = bound;
  if (!b || !req || !req_cap) return fail("tresty_fn_rebind_req: NULL argument");
  b->req = req;
  b->req_cap = req_cap;
  return 0;
}

EXPORT int tresty_fn_invoke(void *bound, uint32_t len) {
  fn_bound *b = bound;
  if (!b) return fail("tresty_fn_invoke: NULL binding");
  if (len >= b->req_cap) return fail("tresty_fn_invoke: a %u-byte request in a %u-byte buffer", len, b->req_cap);
  b->req[len] = 0; /* functions may treat a request as a C string */
  char *rsp = NULL;
  int rsp_len = 0;
  int rc = b->fn((const char *)b->req, (int)len, &rsp, &rsp_len);
  uint32_t flag;
  uint32_t n = check_answer(b->max_rsp, &rsp, rsp_len, &flag);
  int32_t *meta = b->meta;
  meta[0] = rc;
  meta[1] = (int32_t)n;
  meta[2] = (int32_t)flag;
  void *big = NULL;
  if (n <= b->out_cap) {
    if (n) memcpy(b->out, rsp, n);
    free(rsp);
  } else {
    big = rsp; /* JS copies it out with tresty_buf_take */
  }
  memcpy(&meta[4], &big, sizeof big); /* bytes 16..23: JS reads them only when not 0 */
  return 0;
}

EXPORT int tresty_fn_unbind(void *bound) {
  free(bound);
  return 0;
}
