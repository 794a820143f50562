/*
 * hex.c - bytecode from raw bytes and from hex text.
 *
 * Hex text rules, kept simple enough to state in one breath: whitespace
 * and commas separate runs of hex digits; a run may start with "0x" (or
 * "0X"); every run holds an even number of digits, read two per byte in
 * order.  So "b7 00 00 00 01 00 00 00", "0xb7,0x00,..." and a bare
 * "b700000001000000" all give the same bytes.  Anything else is an error
 * naming its line and column.
 *
 * Instructions are read field by field from little-endian bytes (the
 * encoding RFC 9669 section 3 fixes for the ELF and wire forms), so the
 * result does not depend on the host's byte order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"

int bee_insns_from_bytes(const void *bytes, size_t len, struct bpf_insn **out, size_t *n,
			 struct bee_error *err)
{
	*out = NULL;
	*n = 0;
	if (len % 8 != 0)
		return bee_error_set(err, -EINVAL, -1, 0, 0,
				     "truncated bytecode: %zu bytes is not a multiple of 8", len);
	size_t count = len / 8;
	struct bpf_insn *insns = calloc(count ? count : 1, sizeof(*insns));
	if (!insns)
		return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
	const uint8_t *b = bytes;
	for (size_t i = 0; i < count; i++, b += 8) {
		insns[i].code = b[0];
		insns[i].dst_reg = b[1] & 0x0f;
		insns[i].src_reg = b[1] >> 4;
		insns[i].off = (int16_t)(uint16_t)(b[2] | (b[3] << 8));
		insns[i].imm = (int32_t)((uint32_t)b[4] | ((uint32_t)b[5] << 8) |
					 ((uint32_t)b[6] << 16) | ((uint32_t)b[7] << 24));
	}
	*out = insns;
	*n = count;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == ',';
}

int bee_bytes_from_hex(const char *text, uint8_t **out, size_t *len, struct bee_error *err)
{
	*out = NULL;
	*len = 0;
	/* Every byte takes at least two characters, so this bounds the output. */
	size_t cap = strlen(text) / 2 + 1;
	uint8_t *bytes = malloc(cap);
	if (!bytes)
		return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
	size_t count = 0;
	int line = 1;
	const char *line_start = text;
	const char *p = text;
	while (*p) {
		if (is_separator(*p)) {
			if (*p == '\n') {
				line++;
				line_start = p + 1;
			}
			p++;
			continue;
		}
		/* A run of hex digits, maybe after "0x". */
		const char *run = p;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		const char *digits = p;
		while (hex_value(*p) >= 0)
			p++;
		if (*p && !is_separator(*p)) {
			unsigned char c = (unsigned char)*p;
			int ret;
			if (c >= 0x20 && c < 0x7f)
				ret = bee_error_set(err, -EINVAL, -1, line, (int)(p - line_start) + 1,
						    "unexpected character '%c' in hex bytecode", c);
			else
				ret = bee_error_set(err, -EINVAL, -1, line, (int)(p - line_start) + 1,
						    "unexpected byte 0x%02x in hex bytecode", c);
			free(bytes);
			return ret;
		}
		size_t ndigits = (size_t)(p - digits);
		if (ndigits == 0) {
			free(bytes);
			return bee_error_set(err, -EINVAL, -1, line, (int)(run - line_start) + 1,
					     "'0x' without hex digits");
		}
		if (ndigits % 2 != 0) {
			free(bytes);
			return bee_error_set(err, -EINVAL, -1, line, (int)(run - line_start) + 1,
					     "odd number of hex digits (%zu) in '%.*s'", ndigits,
					     (int)(ndigits > 32 ? 32 : ndigits), digits);
		}
		for (const char *d = digits; d < p; d += 2)
			bytes[count++] = (uint8_t)(hex_value(d[0]) << 4 | hex_value(d[1]));
	}
	*out = bytes;
	*len = count;
	return 0;
}

int bee_insns_from_hex(const char *text, struct bpf_insn **out, size_t *n, struct bee_error *err)
{
	uint8_t *bytes;
	size_t len;
	*out = NULL;
	*n = 0;
	int ret = bee_bytes_from_hex(text, &bytes, &len, err);
	if (ret < 0)
		return ret;
	ret = bee_insns_from_bytes(bytes, len, out, n, err);
	free(bytes);
	return ret;
}
