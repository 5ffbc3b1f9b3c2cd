/* SHA-256 (FIPS 180-4), streaming. */
#ifndef TRESTY_SHA256_H
#define TRESTY_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t fill;
} tr_sha256;

void tr_sha256_init(tr_sha256 *s);
void tr_sha256_update(tr_sha256 *s, const void *data, size_t len);
void tr_sha256_final(tr_sha256 *s, unsigned char out[32]);

#endif
