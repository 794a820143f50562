/*
 * strings.c - bpf_strtol (105) and bpf_strtoul (106), the kernel's
 * __bpf_strtoull with its parse helpers (lib/kstrtox.c) rewritten here.
 *
 * The rules, all observable by a program:
 *  - flags holds the base in its low 5 bits (BPF_STRTOX_BASE_MASK): 0
 *    (detect: "0x" + a hex digit is 16, a leading 0 is 8, else 10), 8,
 *    10 or 16; any other base or any other bit set is -EINVAL;
 *  - leading whitespace is skipped (the kernel's isspace, which counts
 *    0xa0 as a space), then one '-' (strtoul parses it too and then
 *    refuses with -EINVAL); there is no '+';
 *  - at most 63 characters after the sign are looked at (the kernel
 *    copies them into a 64-byte buffer), and parsing stops at the first
 *    character that is not a digit of the base (a NUL included);
 *  - "0x"/"0X" is skipped in base 16 even when no hex digit follows, which
 *    then makes "no digits": -EINVAL; in base 0 "0x" without a hex digit
 *    after it is octal 0 followed by 'x' (1 character used);
 *  - overflow of 64 bits, or of the signed range for strtol, is -ERANGE;
 *  - the result is the number of characters consumed from buf (spaces and
 *    sign included), and *res is written: 0 first (so it holds 0 on every
 *    error), then the value on success.
 *
 * buf must be readable and res writable (8 bytes) by the program; either
 * failing bee_run_mem_ok is -EFAULT, before anything is written.
 */
#include <errno.h>
#include <string.h>

#include "platform/platform.h"

#define STRTOX_BASE_MASK 0x1fu /* BPF_STRTOX_BASE_MASK */
#define KSTRTOX_OVERFLOW (1u << 31)

static bool k_isspace(unsigned char c)
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0;
}

static bool k_isxdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* _parse_integer_fixup_radix */
static const char *fixup_radix(const char *s, unsigned *base)
{
	if (*base == 0) {
		if (s[0] == '0') {
			if ((s[1] | 0x20) == 'x' && k_isxdigit((unsigned char)s[2]))
				*base = 16;
			else
				*base = 8;
		} else {
			*base = 10;
		}
	}
	if (*base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	return s;
}

/* _parse_integer: digits used, with KSTRTOX_OVERFLOW or-ed in when the
 * value did not fit (parsing goes on to the last digit anyway). */
static unsigned parse_integer(const char *s, unsigned base, uint64_t *p)
{
	uint64_t res = 0;
	unsigned rv = 0;
	for (;; s++) {
		unsigned c = (unsigned char)*s;
		unsigned lc = c | 0x20;
		unsigned val;
		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			val = lc - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if (res & (~0ull << 60)) {
			if (res > (UINT64_MAX - val) / base)
				rv |= KSTRTOX_OVERFLOW;
		}
		res = res * base + val;
		rv++;
	}
	*p = res;
	return rv;
}

static int strtoull_common(const char *buf, size_t buf_len, uint64_t flags, uint64_t *res,
			   bool *negative)
{
	unsigned base = (unsigned)(flags & STRTOX_BASE_MASK);
	if (!buf || !buf_len)
		return -EINVAL;
	if (base != 0 && base != 8 && base != 10 && base != 16)
		return -EINVAL;
	if (flags & ~(uint64_t)STRTOX_BASE_MASK)
		return -EINVAL;

	const char *cur = buf, *end = buf + buf_len;
	while (cur < end && k_isspace((unsigned char)*cur))
		cur++;
	*negative = cur < end && *cur == '-';
	if (*negative)
		cur++;
	size_t consumed = (size_t)(cur - buf);
	size_t len = buf_len - consumed;
	if (!len)
		return -EINVAL;

	char str[64];
	if (len > sizeof(str) - 1)
		len = sizeof(str) - 1;
	memcpy(str, cur, len);
	str[len] = '\0';
	const char *s = fixup_radix(str, &base);
	unsigned got = parse_integer(s, base, res);
	if (got & KSTRTOX_OVERFLOW)
		return -ERANGE;
	if (got == 0)
		return -EINVAL;
	consumed += (size_t)(s + got - str);
	return (int)consumed;
}

/* Check the program's pointers; then zero *res as the kernel does first. */
static int check_args(uint64_t buf, uint64_t buf_len, uint64_t res)
{
	if (buf_len && (!buf || !bee_run_mem_ok((const void *)(uintptr_t)buf, buf_len, false)))
		return -EFAULT;
	if (!res || !bee_run_mem_ok((const void *)(uintptr_t)res, 8, true))
		return -EFAULT;
	uint64_t zero = 0;
	memcpy((void *)(uintptr_t)res, &zero, 8);
	return 0;
}

uint64_t bee_helper_strtol(uint64_t buf, uint64_t buf_len, uint64_t flags, uint64_t res,
			   uint64_t r5)
{
	int err = check_args(buf, buf_len, res);
	if (err)
		return (uint64_t)(int64_t)err;
	uint64_t v;
	bool negative;
	int ret = strtoull_common((const char *)(uintptr_t)buf, buf_len, flags, &v, &negative);
	if (ret < 0)
		return (uint64_t)(int64_t)ret;
	if (negative) {
		if ((int64_t)(0 - v) > 0)
			return (uint64_t)-ERANGE;
		v = 0 - v;
	} else if ((int64_t)v < 0) {
		return (uint64_t)-ERANGE;
	}
	memcpy((void *)(uintptr_t)res, &v, 8);
	return (uint64_t)ret;
}

uint64_t bee_helper_strtoul(uint64_t buf, uint64_t buf_len, uint64_t flags, uint64_t res,
			    uint64_t r5)
{
	int err = check_args(buf, buf_len, res);
	if (err)
		return (uint64_t)(int64_t)err;
	uint64_t v;
	bool negative;
	int ret = strtoull_common((const char *)(uintptr_t)buf, buf_len, flags, &v, &negative);
	if (ret < 0)
		return (uint64_t)(int64_t)ret;
	if (negative)
		return (uint64_t)-EINVAL;
	memcpy((void *)(uintptr_t)res, &v, 8);
	return (uint64_t)ret;
}
