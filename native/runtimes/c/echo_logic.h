/*
 * The echo "work", shared by the C echo runtime and the UDS echo server so the
 * FFI-vs-UDS benchmark compares transports, not two different echo functions.
 * The caller owns the output buffer, so each side does exactly one copy.
 */
#ifndef TRESTY_ECHO_LOGIC_H
#define TRESTY_ECHO_LOGIC_H

#include <stddef.h>

/* Bytes tr_echo_into() writes for a request of req_len bytes. */
size_t tr_echo_size(size_t req_len);
/* Writes the response for req into out (tr_echo_size(len) bytes). */
void tr_echo_into(const char *req, size_t len, char *out);

#endif
