/*
 * common.h - small things every test program may need: whether it was
 * built with sanitizers (ASan, UBSan or TSan: to scale its work down) and strict parsing of
 * numeric command-line arguments.
 */
#ifndef BEE_TESTS_COMMON_H
#define BEE_TESTS_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer) || \
	__has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* A whole, non-negative number (decimal, 0x hex or 0 octal) and nothing else. */
static inline bool test_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = v;
	return true;
}

#endif
