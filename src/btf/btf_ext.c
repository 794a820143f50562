/*
 * btf_ext.c - parse and validate .BTF.ext: func_info, line_info and CO-RE
 * relocation records.
 *
 * Theory of operation
 * -------------------
 * .BTF.ext is a header (magic 0xeB9F, version 1, flags 0, hdr_len) and up
 * to three "info" areas, each located by an (offset, length) pair relative
 * to the end of the header: func_info, line_info and, when hdr_len covers
 * it, core_relo.  An area starts with a u32 record size and continues with
 * per-ELF-section blocks: { u32 sec_name_off; u32 num_info; records[] }.
 * A record size may be larger than the record bee knows (newer producers
 * append fields); it must be at least that, and a multiple of 4 (as libbpf
 * requires).
 *
 * Every block and record is checked against the object's .BTF when
 * parsed, so iterating afterwards needs no checks:
 *  - section names are valid string offsets and non-empty;
 *  - instruction offsets (bytes into the ELF section) are multiples of
 *    8; func_info and line_info offsets increase strictly within a
 *    section (the kernel refuses them otherwise at load);
 *  - func_info type ids are FUNCs; line_info file and line offsets are
 *    valid strings; core_relo kinds are known, type ids in range and
 *    access strings of the form "N(:N)*".
 *
 * What a CO-RE relocation means (the access string walked over the local
 * type, the target candidates) is core_reloc.c's business, not this file's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"

struct ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len; /* only when hdr_len covers them */
};

#define EXT_HDR_MIN 24u /* up to line_info_len */

struct ext_sec {
	const char *name;
	uint32_t nr;
	const uint8_t *recs;
};

struct ext_area {
	uint32_t rec_size;
	unsigned nsec;
	struct ext_sec *secs;
};

struct bee_btf_ext {
	uint8_t *data;
	size_t size;
	const struct bee_btf_data *btf;
	struct ext_area area[BEE_BTF_EXT_NR_KINDS];
};

static const char *const area_names[] = {"func_info", "line_info", "core_relo"};
static const uint32_t min_rec_size[] = {8, 16, 16};

static int ext_fail(struct bee_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ext_fail(struct bee_error *err, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bee_error_set(err, -EINVAL, -1, 0, 0, ".BTF.ext: %s", msg);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static bool access_str_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (;;) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned digits = 0;
		while (*s >= '0' && *s <= '9') {
			s++;
			if (++digits > 10)
				return false;
		}
		if (!*s)
			return true;
		if (*s++ != ':')
			return false;
	}
}

static int check_record(struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, const char *sec,
			unsigned i, const uint8_t *r, uint32_t *prev, struct bee_error *err)
{
	const struct bee_btf_data *btf = ext->btf;
	uint32_t insn_off = rd32(r);
	const char *what = area_names[kind];
	if (insn_off % 8)
		return ext_fail(err, "%s '%s' [%u]: insn_off %u not a multiple of 8", what, sec, i,
				insn_off);
	if (kind != BEE_BTF_EXT_CORE_RELO) {
		if (i && insn_off <= *prev)
			return ext_fail(err, "%s '%s' [%u]: insn_off %u not after the previous (%u)", what,
					sec, i, insn_off, *prev);
		*prev = insn_off;
	}
	switch (kind) {
	case BEE_BTF_EXT_FUNC_INFO: {
		uint32_t type_id = rd32(r + 4);
		const struct btf_type *t = bee_btf_type_by_id(btf, type_id);
		if (!t || bee_btf_kind(t) != BTF_KIND_FUNC)
			return ext_fail(err, "func_info '%s' [%u]: type_id %u is not a FUNC", sec, i,
					type_id);
		break;
	}
	case BEE_BTF_EXT_LINE_INFO:
		if (!bee_btf_str(btf, rd32(r + 4)))
			return ext_fail(err, "line_info '%s' [%u]: file_name_off %u out of range", sec, i,
					rd32(r + 4));
		if (!bee_btf_str(btf, rd32(r + 8)))
			return ext_fail(err, "line_info '%s' [%u]: line_off %u out of range", sec, i,
					rd32(r + 8));
		break;
	case BEE_BTF_EXT_CORE_RELO: {
		uint32_t type_id = rd32(r + 4), kind_v = rd32(r + 12);
		if (type_id >= bee_btf_type_count(btf))
			return ext_fail(err, "core_relo '%s' [%u]: type_id %u out of range", sec, i,
					type_id);
		const char *acc = bee_btf_str(btf, rd32(r + 8));
		if (!access_str_ok(acc))
			return ext_fail(err, "core_relo '%s' [%u]: invalid access string '%.40s'", sec, i,
					acc ? acc : "(bad offset)");
		if (kind_v > 12 /* BPF_CORE_TYPE_MATCHES */)
			return ext_fail(err, "core_relo '%s' [%u]: unknown kind %u", sec, i, kind_v);
		break;
	}
	default:
		break;
	}
	return 0;
}

static int parse_area(struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, uint32_t hdr_len,
		      uint32_t off, uint32_t len, struct bee_error *err)
{
	const char *what = area_names[kind];
	struct ext_area *a = &ext->area[kind];
	if (len == 0)
		return 0;
	uint64_t body = ext->size - hdr_len;
	if ((uint64_t)off + len > body)
		return ext_fail(err, "%s [%u, +%u) beyond the data (%llu bytes)", what, off, len,
				(unsigned long long)body);
	if (off % 4)
		return ext_fail(err, "%s offset %u not 4-aligned", what, off);
	if (len < 4)
		return ext_fail(err, "%s too short for its record size", what);
	const uint8_t *p = ext->data + hdr_len + off, *end = p + len;
	a->rec_size = rd32(p);
	p += 4;
	if (a->rec_size < min_rec_size[kind] || a->rec_size % 4)
		return ext_fail(err, "%s record size %u (at least %u, a multiple of 4)", what,
				a->rec_size, min_rec_size[kind]);
	unsigned cap = 0;
	while (p < end) {
		if (end - p < 8)
			return ext_fail(err, "%s: truncated section header", what);
		uint32_t name_off = rd32(p), nr = rd32(p + 4);
		p += 8;
		const char *name = bee_btf_str(ext->btf, name_off);
		if (!name || !*name)
			return ext_fail(err, "%s: section name offset %u invalid", what, name_off);
		if (nr == 0)
			return ext_fail(err, "%s '%s': no records", what, name);
		if ((uint64_t)nr * a->rec_size > (uint64_t)(end - p))
			return ext_fail(err, "%s '%s': %u records of %u bytes run past the area", what,
					name, nr, a->rec_size);
		uint32_t prev = 0;
		for (uint32_t i = 0; i < nr; i++) {
			int ret = check_record(ext, kind, name, i, p + (size_t)i * a->rec_size, &prev, err);
			if (ret)
				return ret;
		}
		if (a->nsec == cap) {
			cap = cap ? cap * 2 : 8;
			struct ext_sec *ns = realloc(a->secs, cap * sizeof(*ns));
			if (!ns)
				return bee_error_set(err, -ENOMEM, -1, 0, 0, ".BTF.ext: out of memory");
			a->secs = ns;
		}
		a->secs[a->nsec++] = (struct ext_sec){.name = name, .nr = nr, .recs = p};
		p += (size_t)nr * a->rec_size;
	}
	return 0;
}

void bee_btf_ext_free(struct bee_btf_ext *ext)
{
	if (!ext)
		return;
	for (int k = 0; k < BEE_BTF_EXT_NR_KINDS; k++)
		free(ext->area[k].secs);
	free(ext->data);
	free(ext);
}

struct bee_btf_ext *bee_btf_ext_parse(const void *data, size_t size, const struct bee_btf_data *btf,
				      struct bee_error *err)
{
	bee_error_clear(err);
	struct bee_btf_ext *ext = calloc(1, sizeof(*ext));
	if (!ext || !btf) {
		bee_error_set(err, ext ? -EINVAL : -ENOMEM, -1, 0, 0,
			      ext ? ".BTF.ext: no .BTF to check it against" : ".BTF.ext: out of memory");
		free(ext);
		return NULL;
	}
	ext->btf = btf;
	ext->size = size;
	struct ext_header h = {0};
	int ret = 0;
	if (size > UINT32_MAX) {
		ret = ext_fail(err, "%zu bytes is too big", size);
		goto out;
	}
	ext->data = malloc(size ? size : 1);
	if (!ext->data) {
		ret = bee_error_set(err, -ENOMEM, -1, 0, 0, ".BTF.ext: out of memory");
		goto out;
	}
	if (size)
		memcpy(ext->data, data, size);
	if (size < 8) {
		ret = ext_fail(err, "%zu bytes: too short for a header", size);
		goto out;
	}
	memcpy(&h, ext->data, 8);
	if (h.magic != BTF_MAGIC) {
		ret = ext_fail(err, "bad magic 0x%04x (want 0x%04x)", h.magic, BTF_MAGIC);
		goto out;
	}
	if (h.version != BTF_VERSION || h.flags) {
		ret = ext_fail(err, "unsupported version %u or flags 0x%x", h.version, h.flags);
		goto out;
	}
	if (h.hdr_len < EXT_HDR_MIN || h.hdr_len > size) {
		ret = ext_fail(err, "hdr_len %u (at least %u, at most the %zu bytes)", h.hdr_len,
			       EXT_HDR_MIN, size);
		goto out;
	}
	memcpy(&h, ext->data, h.hdr_len < sizeof(h) ? h.hdr_len : sizeof(h));
	if ((ret = parse_area(ext, BEE_BTF_EXT_FUNC_INFO, h.hdr_len, h.func_info_off, h.func_info_len,
			      err)) ||
	    (ret = parse_area(ext, BEE_BTF_EXT_LINE_INFO, h.hdr_len, h.line_info_off, h.line_info_len,
			      err)))
		goto out;
	if (h.hdr_len >= sizeof(h) &&
	    (ret = parse_area(ext, BEE_BTF_EXT_CORE_RELO, h.hdr_len, h.core_relo_off, h.core_relo_len,
			      err)))
		goto out;
	return ext;
out:
	(void)ret;
	bee_btf_ext_free(ext);
	return NULL;
}

static const struct ext_sec *sec_at(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind,
				    unsigned sec)
{
	if ((unsigned)kind >= BEE_BTF_EXT_NR_KINDS || sec >= ext->area[kind].nsec)
		return NULL;
	return &ext->area[kind].secs[sec];
}

uint32_t bee_btf_ext_rec_size(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind)
{
	return (unsigned)kind < BEE_BTF_EXT_NR_KINDS ? ext->area[kind].rec_size : 0;
}

unsigned bee_btf_ext_sec_count(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind)
{
	return (unsigned)kind < BEE_BTF_EXT_NR_KINDS ? ext->area[kind].nsec : 0;
}

const char *bee_btf_ext_sec_name(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind,
				 unsigned sec)
{
	const struct ext_sec *s = sec_at(ext, kind, sec);
	return s ? s->name : NULL;
}

uint32_t bee_btf_ext_sec_nr(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, unsigned sec)
{
	const struct ext_sec *s = sec_at(ext, kind, sec);
	return s ? s->nr : 0;
}

const void *bee_btf_ext_sec_records(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind,
				    unsigned sec)
{
	const struct ext_sec *s = sec_at(ext, kind, sec);
	return s ? s->recs : NULL;
}

int bee_btf_ext_find_sec(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, const char *name)
{
	for (unsigned i = 0; i < bee_btf_ext_sec_count(ext, kind); i++)
		if (!strcmp(ext->area[kind].secs[i].name, name))
			return (int)i;
	return -ENOENT;
}

static const uint8_t *rec_at(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, unsigned sec,
			     unsigned idx)
{
	const struct ext_sec *s = sec_at(ext, kind, sec);
	if (!s || idx >= s->nr)
		return NULL;
	return s->recs + (size_t)idx * ext->area[kind].rec_size;
}

int bee_btf_ext_func_info(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_func_info *out)
{
	const uint8_t *r = rec_at(ext, BEE_BTF_EXT_FUNC_INFO, sec, idx);
	if (!r)
		return -ENOENT;
	out->insn_off = rd32(r);
	out->type_id = rd32(r + 4);
	return 0;
}

int bee_btf_ext_line_info(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_line_info *out)
{
	const uint8_t *r = rec_at(ext, BEE_BTF_EXT_LINE_INFO, sec, idx);
	if (!r)
		return -ENOENT;
	out->insn_off = rd32(r);
	out->file_name_off = rd32(r + 4);
	out->line_off = rd32(r + 8);
	out->file_name = bee_btf_str(ext->btf, out->file_name_off);
	out->line = bee_btf_str(ext->btf, out->line_off);
	out->line_num = rd32(r + 12) >> 10;
	out->line_col = rd32(r + 12) & 0x3ff;
	return 0;
}

int bee_btf_ext_core_relo(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_core_relo *out)
{
	const uint8_t *r = rec_at(ext, BEE_BTF_EXT_CORE_RELO, sec, idx);
	if (!r)
		return -ENOENT;
	out->insn_off = rd32(r);
	out->type_id = rd32(r + 4);
	out->access_str_off = rd32(r + 8);
	out->access = bee_btf_str(ext->btf, out->access_str_off);
	out->kind = rd32(r + 12);
	return 0;
}

const char *bee_btf_core_relo_kind_str(uint32_t kind)
{
	static const char *const names[] = {
		"byte_off",     "byte_sz",      "field_exists",   "signed",        "lshift_u64",
		"rshift_u64",   "local_type_id", "target_type_id", "type_exists",  "type_size",
		"enumval_exists", "enumval_value", "type_matches",
	};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}
