/* Heap buffers for payloads too large for a ring slot: JS copies a large request into one
   (tresty_buf_new) whose pointer travels in the slot, and copies a large answer out of the
   runtime's block (tresty_buf_take), freeing it; tresty_buf_free drops an answer nobody waits for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host_err.h"

EXPORT int tresty_buf_new(const uint8_t *data, uint32_t len, void **out_buf) {
  if (!out_buf || (len && !data)) return fail("tresty_buf_new: NULL argument");
  char *p = malloc((size_t)len + 1);
  if (!p) return fail("out of memory for a %u-byte request", len);
  if (len) memcpy(p, data, len);
  p[len] = 0; /* runtimes may treat a request as a C string */
  *out_buf = p;
  return 0;
}

EXPORT int tresty_buf_take(void *buf, uint8_t *out, uint32_t len) {
  if (!buf) return fail("tresty_buf_take: NULL buffer");
  if (len) memcpy(out, buf, len);
  free(buf);
  return 0;
}

EXPORT int tresty_buf_free(void *buf) {
  free(buf);
  return 0;
}
