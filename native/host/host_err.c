/* The host's error text: per thread, since koffi calls come from the event loop and from pool
   threads, and read right after the failing call (tresty_last_error). */
#include <stdarg.h>
#include <stdio.h>
#include "host_err.h"

static __thread char err_buf[256];

int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
  return -1;
}

EXPORT const char *tresty_last_error(void) { return err_buf; }
