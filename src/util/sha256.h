/*
 * sha256.h - SHA-256 (FIPS 180-4), for program tags: the kernel (6.16 and
 * later, as on these machines) names a program by the first 8 bytes of
 * the SHA-256 of its instructions.
 */
#ifndef BEE_UTIL_SHA256_H
#define BEE_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

void bee_sha256(const void *data, size_t len, uint8_t digest[32]);

#endif
