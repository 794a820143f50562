/*
 * btf_value.c - values printed through their BTF types, and function
 * signatures, as bpftool prints them (its btf_dumper).
 *
 * Theory of operation.  A map created with BTF (btf_id and key/value type
 * ids in its info) is dumped by bpftool as JSON-shaped text: structs and
 * unions as objects of their members by name, arrays as arrays (char
 * arrays that hold a printable NUL-terminated string as that string),
 * enums by the name of their value, integers in decimal, bitfields in
 * hex, a global data map's DATASEC as {"SECTION": [{"var": value}, ...]}.
 * In plain mode that text goes through a pretty JSON writer; with --json
 * it is the "formatted" member beside the hex bytes.  The two differ in
 * a few leaves only, which tool_btf_value() takes as its plain flag:
 * bitfields and 128-bit numbers are bare hex (0x1f) in plain text and
 * quoted ("0x1f") in JSON, pointers are %p in plain text and decimal in
 * JSON, non-printable CHAR-encoded chars are 0x.. or "\u00..".
 *
 * Every read is checked against the size of the buffer the value came
 * in, so BTF that does not match the bytes (a stale pin, a bad object)
 * gives an error, never a read past the buffer.  The BTF itself is fully
 * validated by the parser (ids, loops, sizes), so types can be followed
 * without further checks; recursion is bounded by the value's size.
 *
 * Function signatures (prog dump's "int f(struct __sk_buff * skb):") are
 * bpftool's btf_dumper_type_only: a type spelled from its BTF, each part
 * followed by one space ("struct point * p"), "void " for no type,
 * qualifiers before what they qualify.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/bee.h"
#include "btf/btf.h"
#include "btf_value.h"
#include "bee_tool.h"

struct bee_btf_data *tool_btf_by_id(struct bee *bee, uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf_id = id;
	int fd = (int)bee_bpf(bee, BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0)
		return NULL;
	struct bpf_btf_info bi = {0};
	uint32_t len = sizeof(bi);
	void *data = NULL;
	struct bee_btf_data *btf = NULL;
	if (bee_obj_get_info_by_fd(bee, fd, &bi, &len) == 0 && bi.btf_size &&
	    (data = malloc(bi.btf_size))) {
		uint32_t size = bi.btf_size;
		memset(&bi, 0, sizeof(bi));
		bi.btf = (uint64_t)(uintptr_t)data;
		bi.btf_size = size;
		len = sizeof(bi);
		struct bee_error e;
		bee_error_clear(&e);
		if (bee_obj_get_info_by_fd(bee, fd, &bi, &len) == 0 && bi.btf_size == size)
			btf = bee_btf_parse(data, size, NULL, &e);
	}
	free(data);
	bee_close(bee, fd);
	return btf;
}

/* ---- values ---- */

struct dumper {
	const struct bee_btf_data *btf;
	const uint8_t *base; /* the whole buffer, for bounds */
	size_t size;
	bool plain;
};

static bool in_bounds(const struct dumper *d, const uint8_t *p, size_t n)
{
	return p >= d->base && (size_t)(p - d->base) <= d->size && n <= d->size - (size_t)(p - d->base);
}

static void rawf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rawf(const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jw_raw(buf);
}

/* A 128-bit number (lo, hi) in hex: bpftool's btf_int128_print. */
static void print_hex128(const struct dumper *d, uint64_t lo, uint64_t hi)
{
	char buf[48];
	if (hi)
		snprintf(buf, sizeof(buf), "0x%" PRIx64 "%016" PRIx64, hi, lo);
	else
		snprintf(buf, sizeof(buf), "0x%" PRIx64, lo);
	if (d->plain)
		jw_raw(buf);
	else
		jw_string(buf);
}

/*
 * nr_bits bits starting bit_off bits into p (little-endian), as an
 * unsigned number in hex: bpftool prints every bitfield, and every integer
 * whose width is not a whole number of bytes, this way (no sign extension).
 */
static int print_bits(const struct dumper *d, const uint8_t *p, uint32_t bit_off, uint32_t nr_bits)
{
	p += bit_off / 8;
	bit_off %= 8;
	if (nr_bits == 0 || nr_bits > 128)
		return -EINVAL;
	if (!in_bounds(d, p, (bit_off + nr_bits + 7) / 8))
		return -EINVAL;
	uint64_t half[2] = {0, 0};
	for (uint32_t i = 0; i < nr_bits; i++) {
		uint32_t at = bit_off + i;
		if ((p[at / 8] >> (at % 8)) & 1)
			half[i / 64] |= UINT64_C(1) << (i % 64);
	}
	print_hex128(d, half[0], half[1]);
	return 0;
}

static int dump_type(const struct dumper *d, uint32_t id, uint32_t bit_off, const uint8_t *p);

static int dump_int(const struct dumper *d, const struct bee_btf_type_info *t, uint32_t bit_off,
		    const uint8_t *p)
{
	unsigned bits = t->int_bits;
	if (bit_off || t->int_offset || bits % 8)
		return print_bits(d, p, bit_off + t->int_offset, bits);
	if (!in_bounds(d, p, bits / 8))
		return -EINVAL;
	if (bits == 128) {
		uint64_t lo, hi;
		memcpy(&lo, p, 8);
		memcpy(&hi, p + 8, 8);
		print_hex128(d, lo, hi);
		return 0;
	}
	uint64_t u = 0;
	if (bits > 64)
		return print_bits(d, p, 0, bits);
	memcpy(&u, p, bits / 8); /* little-endian host */
	switch (t->int_encoding) {
	case 0:
		jw_uint(u);
		return 0;
	case BTF_INT_SIGNED: {
		int64_t v = bits == 64 ? (int64_t)u
			    : bits == 32 ? (int32_t)(uint32_t)u
			    : bits == 16 ? (int16_t)(uint16_t)u
			    : bits == 8 ? (int8_t)(uint8_t)u
			    : 0;
		if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
			return print_bits(d, p, 0, bits);
		jw_int(v);
		return 0;
	}
	case BTF_INT_CHAR: {
		char c = (char)p[0];
		if (isprint((unsigned char)c))
			rawf("\"%c\"", c);
		else if (d->plain)
			rawf("0x%hhx", (unsigned char)c);
		else
			rawf("\"\\u00%02hhx\"", (unsigned char)c);
		return 0;
	}
	case BTF_INT_BOOL:
		jw_bool(p[0] != 0);
		return 0;
	default:
		return -EINVAL;
	}
}

/* bpftool's is_str_array: an array of 1-byte chars (INT named "char" or
 * CHAR-encoded, modifiers skipped but not typedefs) holding printable
 * characters up to a NUL inside the array. */
static bool is_str_array(const struct dumper *d, const struct bee_btf_type_info *arr,
			 const uint8_t *p)
{
	if (!arr->nelems)
		return false;
	struct bee_btf_type_info e;
	if (bee_btf_type(d->btf, bee_btf_skip_modifiers(d->btf, arr->elem_type), &e) ||
	    e.kind != BTF_KIND_INT || e.size != 1)
		return false;
	if (e.int_encoding != BTF_INT_CHAR && strcmp(e.name, "char"))
		return false;
	if (!in_bounds(d, p, arr->nelems))
		return false;
	for (uint32_t i = 0; i < arr->nelems; i++) {
		if (!p[i])
			return true;
		if (p[i] <= 0x1f || p[i] >= 0x7f)
			return false;
	}
	return false;
}

static int dump_array(const struct dumper *d, const struct bee_btf_type_info *t, const uint8_t *p)
{
	if (is_str_array(d, t, p)) {
		jw_string((const char *)p);
		return 0;
	}
	long long esz = bee_btf_resolve_size(d->btf, t->elem_type);
	if (esz < 0)
		return -EINVAL;
	jw_start_array();
	int err = 0;
	for (uint32_t i = 0; i < t->nelems && !err; i++) {
		if (esz && !in_bounds(d, p + (size_t)i * (size_t)esz, (size_t)esz)) {
			err = -EINVAL;
			break;
		}
		err = dump_type(d, t->elem_type, 0, p + (size_t)i * (size_t)esz);
	}
	jw_end_array();
	return err;
}

static int dump_struct(const struct dumper *d, const struct bee_btf_type_info *t, const uint8_t *p)
{
	jw_start_object();
	int err = 0;
	for (unsigned i = 0; i < t->vlen && !err; i++) {
		struct bee_btf_member_info m;
		if ((err = bee_btf_member(d->btf, t->id, i, &m)))
			break;
		jw_key(m.name ? m.name : "");
		const uint8_t *at = p + m.bit_offset / 8;
		if (m.bitfield_size)
			err = print_bits(d, at, m.bit_offset % 8, m.bitfield_size);
		else
			err = dump_type(d, m.type, m.bit_offset % 8, at);
	}
	jw_end_object();
	return err;
}

static int dump_enum(const struct dumper *d, const struct bee_btf_type_info *t, const uint8_t *p)
{
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		return -EINVAL;
	if (!in_bounds(d, p, t->size))
		return -EINVAL;
	uint64_t u = 0;
	memcpy(&u, p, t->size);
	if (t->kind == BEE_BTF_KIND_ENUM64) {
		/* bpftool compares the 64-bit value as stored */
		for (unsigned i = 0; i < t->vlen; i++) {
			struct bee_btf_enum_info e;
			if (!bee_btf_enum_value(d->btf, t->id, i, &e) && e.uval == u) {
				jw_string(e.name);
				return 0;
			}
		}
		if (t->kflag)
			jw_int((int64_t)u);
		else
			jw_uint(u);
		return 0;
	}
	/* ENUM: the value read as a signed number of its size, compared with
	 * each (32-bit, signed) enumerator as bpftool does */
	int64_t v = t->size == 8 ? (int64_t)u
		    : t->size == 4 ? (int32_t)(uint32_t)u
		    : t->size == 2 ? (int16_t)(uint16_t)u
				   : (int8_t)(uint8_t)u;
	const struct btf_enum *en = bee_btf_enums(t->raw);
	for (unsigned i = 0; i < t->vlen; i++) {
		if ((int64_t)(int32_t)en[i].val == v) {
			jw_string(bee_btf_str(d->btf, en[i].name_off) ? bee_btf_str(d->btf, en[i].name_off) : "");
			return 0;
		}
	}
	jw_int(v);
	return 0;
}

static int dump_ptr(const struct dumper *d, const uint8_t *p)
{
	if (!in_bounds(d, p, sizeof(uint64_t)))
		return -EINVAL;
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	if (!d->plain)
		jw_uint(v);
	else if (v)
		rawf("0x%" PRIx64, v); /* glibc's %p */
	else
		jw_raw("(nil)");
	return 0;
}

static int dump_datasec(const struct dumper *d, const struct bee_btf_type_info *t, const uint8_t *p)
{
	jw_start_object();
	jw_key(t->name);
	jw_start_array();
	int err = 0;
	for (unsigned i = 0; i < t->vlen && !err; i++) {
		struct bee_btf_secinfo_info si;
		if ((err = bee_btf_datasec_entry(d->btf, t->id, i, &si)))
			break;
		if (!in_bounds(d, p + si.offset, si.size)) {
			err = -EINVAL;
			break;
		}
		err = dump_type(d, si.type, 0, p + si.offset);
	}
	jw_end_array();
	jw_end_object();
	return err;
}

/* bpftool's btf_dumper_do_type: one value of type id at p (bit_off bits in,
 * 0..7, for members that do not start on a byte). */
static int dump_type(const struct dumper *d, uint32_t id, uint32_t bit_off, const uint8_t *p)
{
	struct bee_btf_type_info t;
	if (bee_btf_type(d->btf, id, &t))
		return -EINVAL;
	switch (t.kind) {
	case BTF_KIND_INT:
		return dump_int(d, &t, bit_off, p);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return dump_struct(d, &t, p);
	case BTF_KIND_ARRAY:
		return dump_array(d, &t, p);
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		return dump_enum(d, &t, p);
	case BTF_KIND_PTR:
		return dump_ptr(d, p);
	case BTF_KIND_UNKN:
		jw_raw("(unknown)");
		return 0;
	case BTF_KIND_FWD:
		jw_raw("(fwd-kind-invalid)");
		return -EINVAL;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: {
		/* libbpf's btf__resolve_type: through modifiers, typedefs,
		 * type tags and variables */
		uint32_t r = id;
		for (int n = 0; n < BEE_BTF_MAX_RESOLVE_DEPTH; n++) {
			struct bee_btf_type_info m;
			if (bee_btf_type(d->btf, r, &m))
				return -EINVAL;
			if (m.kind != BTF_KIND_TYPEDEF && m.kind != BTF_KIND_VOLATILE &&
			    m.kind != BTF_KIND_CONST && m.kind != BTF_KIND_RESTRICT &&
			    m.kind != BTF_KIND_TYPE_TAG && m.kind != BTF_KIND_VAR)
				return dump_type(d, r, bit_off, p);
			r = m.type;
		}
		return -EINVAL;
	}
	case BTF_KIND_VAR: {
		jw_start_object();
		jw_key(t.name);
		int err = dump_type(d, t.type, bit_off, p);
		jw_end_object();
		return err;
	}
	case BTF_KIND_DATASEC:
		return dump_datasec(d, &t, p);
	default:
		/* FLOAT, FUNC, TYPE_TAG, ...: bpftool's text, unbalanced as it is */
		jw_raw("(unsupported-kind");
		return -EINVAL;
	}
}

int tool_btf_value(const struct bee_btf_data *btf, uint32_t type_id, const void *data, size_t size,
		   bool plain)
{
	struct dumper d = {.btf = btf, .base = data, .size = size, .plain = plain};
	return dump_type(&d, type_id, 0, data);
}

/* ---- signatures ---- */

struct sig {
	char *buf;
	size_t size, pos;
	bool full;
};

static void sig_add(struct sig *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sig_add(struct sig *s, const char *fmt, ...)
{
	if (s->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->buf + s->pos, s->size - s->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->size - s->pos)
		s->full = true;
	else
		s->pos += (size_t)n;
}

static int sig_type(const struct bee_btf_data *btf, uint32_t id, struct sig *s, int depth);

/* A FUNC_PROTO: return type, then name( and the parameters ). */
static int sig_func(const struct bee_btf_data *btf, const struct bee_btf_type_info *proto,
		    const char *name, struct sig *s, int depth)
{
	if (sig_type(btf, proto->type, s, depth + 1))
		return -1;
	sig_add(s, "%s(", name ? name : "");
	for (unsigned i = 0; i < proto->vlen; i++) {
		struct bee_btf_param_info a;
		if (bee_btf_param(btf, proto->id, i, &a))
			return -1;
		if (i)
			sig_add(s, ", ");
		if (!a.type) {
			sig_add(s, "...");
			continue;
		}
		if (sig_type(btf, a.type, s, depth + 1))
			return -1;
		if (a.name && a.name[0])
			sig_add(s, "%s", a.name);
		else if (!s->full && s->pos && s->buf[s->pos - 1] == ' ')
			s->buf[--s->pos] = 0; /* an unnamed parameter: no trailing space */
	}
	sig_add(s, ")");
	return 0;
}

static int sig_type(const struct bee_btf_data *btf, uint32_t id, struct sig *s, int depth)
{
	if (depth > BEE_BTF_MAX_RESOLVE_DEPTH * 4)
		return -1;
	if (!id) {
		sig_add(s, "void ");
		return 0;
	}
	struct bee_btf_type_info t;
	if (bee_btf_type(btf, id, &t))
		return -1;
	switch (t.kind) {
	case BTF_KIND_INT:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FLOAT:
		sig_add(s, "%s ", t.name);
		return 0;
	case BTF_KIND_STRUCT:
		sig_add(s, "struct %s ", t.name);
		return 0;
	case BTF_KIND_UNION:
		sig_add(s, "union %s ", t.name);
		return 0;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		sig_add(s, "enum %s ", t.name);
		return 0;
	case BTF_KIND_ARRAY:
		if (sig_type(btf, t.elem_type, s, depth + 1))
			return -1;
		sig_add(s, "[%d]", (int)t.nelems);
		return 0;
	case BTF_KIND_PTR:
		if (sig_type(btf, t.type, s, depth + 1))
			return -1;
		sig_add(s, "* ");
		return 0;
	case BTF_KIND_FWD:
		sig_add(s, "%s %s ", t.kflag ? "union" : "struct", t.name);
		return 0;
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
		sig_add(s, "%s ", t.kind == BTF_KIND_VOLATILE ? "volatile"
				  : t.kind == BTF_KIND_CONST  ? "const"
							      : "restrict");
		return sig_type(btf, t.type, s, depth + 1);
	case BTF_KIND_FUNC_PROTO:
		return sig_func(btf, &t, NULL, s, depth);
	case BTF_KIND_FUNC: {
		struct bee_btf_type_info proto;
		if (bee_btf_type(btf, t.type, &proto) || proto.kind != BTF_KIND_FUNC_PROTO)
			return -1;
		return sig_func(btf, &proto, t.name, s, depth);
	}
	case BTF_KIND_VAR:
		if (t.linkage == BTF_VAR_STATIC)
			sig_add(s, "static ");
		if (sig_type(btf, t.type, s, depth + 1))
			return -1;
		sig_add(s, " %s", t.name);
		return 0;
	case BTF_KIND_DATASEC:
		sig_add(s, "section (\"%s\") ", t.name);
		return 0;
	default:
		return -1; /* bpftool prints no signature for the rest */
	}
}

bool tool_btf_func_sig(const struct bee_btf_data *btf, uint32_t type_id, char *buf, size_t size)
{
	if (!size)
		return false;
	buf[0] = 0;
	if (!btf)
		return false;
	struct sig s = {.buf = buf, .size = size};
	if (sig_type(btf, type_id, &s, 0) || s.full) {
		buf[0] = 0;
		return false;
	}
	return buf[0] != 0;
}
