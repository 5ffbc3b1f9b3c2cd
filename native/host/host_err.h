/* What the host's files share: the visibility of the symbols JS and runtimes call, and the error
   text of the last failing call on this thread (tresty_last_error). */
#ifndef TRESTY_HOST_ERR_H
#define TRESTY_HOST_ERR_H

#define EXPORT __attribute__((visibility("default")))

/* Sets this thread's error text; returns -1, the host's failure value. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
