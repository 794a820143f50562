/*
 * btf.c - parse and validate .BTF; answer queries about its types.
 *
 * Theory of operation
 * -------------------
 * The blob is copied into a buffer placed so that the type section is
 * 4-aligned, so that every record can be read through the kernel's
 * structs.  Validation follows the
 * kernel's btf_parse() (kernel/bpf/btf.c) in spirit, in the same order:
 *
 *  1. header: magic, version 1, flags 0, hdr_len (longer headers only
 *     with zeroed tails), sections inside the blob, 4-aligned type
 *     section, no overlap and no gap between the sections;
 *  2. strings: the section starts with "" (standalone BTF) and ends in NUL;
 *  3. meta: walk the type section record by record; each record's kind,
 *     info bits, vlen-sized tail, names ("Invalid name" unless the kind
 *     may be anonymous; C identifiers where the kernel wants them), and
 *     per-kind fixed fields (INT encoding/offset/bits, ENUM sizes, FUNC
 *     and VAR linkage, FUNC_PROTO varargs, member offsets ascending...);
 *  4. resolve: a depth-first walk over every type reference except
 *     through PTR (pointers are where C allows cycles).  A type met
 *     again while its walk is open is a loop; deeper than the kernel's
 *     MAX_RESOLVE_DEPTH (32) is refused, which also bounds recursion.
 *     The walk computes every type's size so members can be checked
 *     against their struct, arrays against U32_MAX, variables against
 *     their section.
 *
 * Messages name the type: "[12] STRUCT foo: member 'bar' at bit 64
 * beyond size 4".
 *
 * After validation, a hash index over named types serves
 * bee_btf_find_by_name_kind() (CO-RE looks up thousands of names in
 * vmlinux's ~100k types).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"

#define KSYM_NAME_LEN 128 /* the kernel's limit on names it checks */

enum { RS_NEW, RS_VISITING, RS_DONE };

struct bee_btf_data {
	void *mem;     /* the copy of the blob, allocated */
	uint8_t *raw;  /* the blob in mem, placed so the type section is 4-aligned */
	size_t size;
	struct btf_header hdr;
	const char *strs;
	uint32_t str_len;
	uint32_t start_id;  /* first own id */
	uint32_t start_str; /* first own string offset (the base's string length) */
	uint32_t nr;        /* own types */
	const struct btf_type **types;
	const struct bee_btf_data *base;
	long long *sizes;   /* resolved size of each own type, -1 when unsized */
	uint8_t *state;
	uint32_t *index;    /* hash of named own types: id or 0 */
	uint32_t index_mask;
};

static const struct btf_type void_type;

static const char *const kind_names[] = {
	[BTF_KIND_UNKN] = "UNKNOWN",   [BTF_KIND_INT] = "INT",
	[BTF_KIND_PTR] = "PTR",        [BTF_KIND_ARRAY] = "ARRAY",
	[BTF_KIND_STRUCT] = "STRUCT",  [BTF_KIND_UNION] = "UNION",
	[BTF_KIND_ENUM] = "ENUM",      [BTF_KIND_FWD] = "FWD",
	[BTF_KIND_TYPEDEF] = "TYPEDEF", [BTF_KIND_VOLATILE] = "VOLATILE",
	[BTF_KIND_CONST] = "CONST",    [BTF_KIND_RESTRICT] = "RESTRICT",
	[BTF_KIND_FUNC] = "FUNC",      [BTF_KIND_FUNC_PROTO] = "FUNC_PROTO",
	[BTF_KIND_VAR] = "VAR",        [BTF_KIND_DATASEC] = "DATASEC",
	[BTF_KIND_FLOAT] = "FLOAT",    [BTF_KIND_DECL_TAG] = "DECL_TAG",
	[BTF_KIND_TYPE_TAG] = "TYPE_TAG", [BEE_BTF_KIND_ENUM64] = "ENUM64",
};

const char *bee_btf_kind_str(unsigned kind)
{
	return kind <= BEE_BTF_KIND_MAX ? kind_names[kind] : "UNKN";
}

/* ---- lookups (also used while validating) ------------------------------ */

uint32_t bee_btf_type_count(const struct bee_btf_data *btf)
{
	return btf->start_id + btf->nr;
}

uint32_t bee_btf_start_id(const struct bee_btf_data *btf)
{
	return btf->start_id;
}

const struct bee_btf_data *bee_btf_base(const struct bee_btf_data *btf)
{
	return btf->base;
}

const void *bee_btf_raw(const struct bee_btf_data *btf, size_t *size)
{
	if (size)
		*size = btf->size;
	return btf->raw;
}

const struct btf_type *bee_btf_type_by_id(const struct bee_btf_data *btf, uint32_t id)
{
	if (id == 0)
		return &void_type;
	while (id < btf->start_id)
		btf = btf->base;
	if (id - btf->start_id >= btf->nr)
		return NULL;
	return btf->types[id - btf->start_id];
}

const char *bee_btf_str(const struct bee_btf_data *btf, uint32_t off)
{
	while (off < btf->start_str)
		btf = btf->base;
	off -= btf->start_str;
	if (off >= btf->str_len)
		return NULL;
	return btf->strs + off; /* the section ends in NUL: always terminated */
}

const char *bee_btf_name(const struct bee_btf_data *btf, uint32_t id)
{
	const struct btf_type *t = bee_btf_type_by_id(btf, id);
	const char *s = t ? bee_btf_str(btf, t->name_off) : NULL;
	return s ? s : "";
}

static long long size_of(const struct bee_btf_data *btf, uint32_t id)
{
	if (id == 0)
		return -1;
	while (id < btf->start_id)
		btf = btf->base;
	return btf->sizes[id - btf->start_id];
}

long long bee_btf_resolve_size(const struct bee_btf_data *btf, uint32_t id)
{
	if (id >= bee_btf_type_count(btf))
		return -EINVAL;
	long long s = size_of(btf, id);
	return s < 0 ? -EINVAL : s;
}

static bool is_modifier(unsigned kind)
{
	return kind == BTF_KIND_CONST || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_RESTRICT ||
	       kind == BTF_KIND_TYPE_TAG;
}

static uint32_t skip(const struct bee_btf_data *btf, uint32_t id, bool typedefs)
{
	/* Validated BTF has no loops and chains of at most 32; the bound is for safety. */
	for (int n = 0; n <= BEE_BTF_MAX_RESOLVE_DEPTH + 1; n++) {
		const struct btf_type *t = bee_btf_type_by_id(btf, id);
		if (!t)
			return id;
		unsigned k = bee_btf_kind(t);
		if (!is_modifier(k) && !(typedefs && k == BTF_KIND_TYPEDEF))
			return id;
		id = t->type;
	}
	return id;
}

uint32_t bee_btf_skip_modifiers(const struct bee_btf_data *btf, uint32_t id)
{
	return skip(btf, id, false);
}

uint32_t bee_btf_skip_modifiers_typedefs(const struct bee_btf_data *btf, uint32_t id)
{
	return skip(btf, id, true);
}

/* ---- error reporting --------------------------------------------------- */

struct ctx {
	struct bee_btf_data *btf;
	struct bee_error *err;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bee_error_set(c->err, -EINVAL, -1, 0, 0, "BTF: %s", msg);
}

static int tfail(struct ctx *c, uint32_t id, const struct btf_type *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int tfail(struct ctx *c, uint32_t id, const struct btf_type *t, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *name = bee_btf_str(c->btf, t->name_off);
	return bee_error_set(c->err, -EINVAL, -1, 0, 0, "BTF: [%u] %s %.60s: %s", id,
			     bee_btf_kind_str(bee_btf_kind(t)), name && *name ? name : "(anon)", msg);
}

/* ---- names ------------------------------------------------------------- */

static bool name_ok(const char *s, bool dots)
{
	if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	size_t n = 0;
	for (; *s && n < KSYM_NAME_LEN; s++, n++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || (dots && *s == '.')))
			return false;
	return *s == '\0';
}

static bool ident_ok(const char *s)
{
	return name_ok(s, false);
}

/* Section names: printable, not empty (the kernel's btf_name_valid_section). */
static bool section_name_ok(const char *s)
{
	if (!s || !*s)
		return false;
	size_t n = 0;
	for (; *s && n < KSYM_NAME_LEN; s++, n++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return *s == '\0';
}

static bool name_ident(struct bee_btf_data *b, uint32_t off)
{
	return ident_ok(bee_btf_str(b, off));
}

/* ---- pass 1: header and strings ---------------------------------------- */

static int check_header(struct ctx *c, const uint8_t *data, size_t size)
{
	struct bee_btf_data *b = c->btf;
	struct btf_header h;
	if (size < sizeof(h))
		return fail(c, "%zu bytes: too short for a header (%zu)", size, sizeof(h));
	memcpy(&h, data, sizeof(h));
	if (h.magic == 0x9FEB)
		return fail(c, "byte-swapped magic: BTF of the other endianness is not supported");
	if (h.magic != BTF_MAGIC)
		return fail(c, "bad magic 0x%04x (want 0x%04x)", h.magic, BTF_MAGIC);
	if (h.version != BTF_VERSION)
		return fail(c, "unsupported version %u", h.version);
	if (h.flags)
		return fail(c, "unsupported flags 0x%x", h.flags);
	if (h.hdr_len < sizeof(h))
		return fail(c, "hdr_len %u shorter than the header (%zu)", h.hdr_len, sizeof(h));
	if (h.hdr_len > size)
		return fail(c, "hdr_len %u beyond the data (%zu bytes)", h.hdr_len, size);
	for (size_t i = sizeof(h); i < h.hdr_len; i++)
		if (data[i])
			return fail(c, "unsupported header: nonzero byte at %zu past the known header", i);
	uint64_t body = size - h.hdr_len;
	if (h.type_off % 4)
		return fail(c, "type section offset %u not 4-aligned", h.type_off);
	if ((uint64_t)h.type_off + h.type_len > body)
		return fail(c, "type section [%u, +%u) beyond the data (%llu bytes)", h.type_off,
			    h.type_len, (unsigned long long)body);
	if ((uint64_t)h.str_off + h.str_len > body)
		return fail(c, "string section [%u, +%u) beyond the data (%llu bytes)", h.str_off,
			    h.str_len, (unsigned long long)body);
	/* Sections in offset order, with neither overlap nor gap (btf_check_sec_info). */
	uint32_t off[2] = {h.type_off, h.str_off}, len[2] = {h.type_len, h.str_len};
	int first = off[1] < off[0] ? 1 : 0;
	uint64_t end = 0;
	for (int k = 0; k < 2; k++) {
		int i = k ? 1 - first : first;
		if (off[i] < end)
			return fail(c, "sections overlap (%s section at %u)", i ? "string" : "type", off[i]);
		if (off[i] > end)
			return fail(c, "gap before the %s section (at %u, expected %llu)",
				    i ? "string" : "type", off[i], (unsigned long long)end);
		end = (uint64_t)off[i] + len[i];
	}
	if (end != body)
		return fail(c, "%llu bytes after the last section", (unsigned long long)(body - end));
	if (h.type_len % 4)
		return fail(c, "type section length %u not a multiple of 4", h.type_len);
	b->hdr = h;
	return 0;
}

static int check_strings(struct ctx *c)
{
	struct bee_btf_data *b = c->btf;
	const char *s = (const char *)b->raw + b->hdr.hdr_len + b->hdr.str_off;
	uint32_t n = b->hdr.str_len;
	if (!b->base && n == 0)
		return fail(c, "empty string section");
	if (!b->base && s[0])
		return fail(c, "string section does not start with \"\"");
	if (n && s[n - 1])
		return fail(c, "string section does not end in NUL");
	if ((uint64_t)b->start_str + n > BTF_MAX_NAME_OFFSET)
		return fail(c, "string section too big (%u bytes)", n);
	b->strs = s;
	b->str_len = n;
	return 0;
}

/* ---- pass 2: every record on its own ------------------------------------ */

/* Bytes after struct btf_type for a record of this kind and vlen. */
static size_t tail_size(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case BTF_KIND_INT: return 4;
	case BTF_KIND_ARRAY: return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: return (size_t)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM: return (size_t)vlen * sizeof(struct btf_enum);
	case BEE_BTF_KIND_ENUM64: return (size_t)vlen * sizeof(struct bee_btf_enum64);
	case BTF_KIND_FUNC_PROTO: return (size_t)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR: return sizeof(struct btf_var);
	case BTF_KIND_DATASEC: return (size_t)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG: return sizeof(struct btf_decl_tag);
	default: return 0;
	}
}

static bool id_ok(uint32_t id)
{
	return id <= BTF_MAX_TYPE;
}

static int check_members_meta(struct ctx *c, uint32_t id, const struct btf_type *t)
{
	struct bee_btf_data *b = c->btf;
	bool is_union = bee_btf_kind(t) == BTF_KIND_UNION;
	uint32_t last = 0;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		const struct btf_member *m = &bee_btf_members(t)[i];
		const char *mname = bee_btf_str(b, m->name_off);
		if (!mname)
			return tfail(c, id, t, "member %u: name offset %u out of range", i, m->name_off);
		if (m->name_off && !ident_ok(mname))
			return tfail(c, id, t, "member %u: invalid name '%.40s'", i, mname);
		if (!id_ok(m->type))
			return tfail(c, id, t, "member '%s': invalid type_id %u", mname, m->type);
		uint32_t off = bee_btf_member_bit_offset(t, i);
		if (is_union && off)
			return tfail(c, id, t, "member '%s': union member at bit %u, not 0", mname, off);
		if (!is_union && off < last)
			return tfail(c, id, t, "member '%s': bit offset %u before the previous member's %u",
				     mname, off, last);
		if ((off + 7ull) / 8 > t->size)
			return tfail(c, id, t, "member '%s' at bit %u beyond size %u", mname, off, t->size);
		last = off;
	}
	return 0;
}

static int check_meta(struct ctx *c, uint32_t id, const struct btf_type *t)
{
	struct bee_btf_data *b = c->btf;
	unsigned kind = bee_btf_kind(t), vlen = bee_btf_vlen(t);
	bool kflag = bee_btf_kflag(t);
	const char *name = bee_btf_str(b, t->name_off);
	if (!name)
		return bee_error_set(c->err, -EINVAL, -1, 0, 0,
				     "BTF: [%u] %s: name offset %u out of range", id,
				     bee_btf_kind_str(kind), t->name_off);

	/* Which kinds may be anonymous, which must be identifiers. */
	switch (kind) {
	case BTF_KIND_PTR:
	case BTF_KIND_ARRAY:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC_PROTO:
		if (t->name_off)
			return tfail(c, id, t, "must be anonymous");
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (t->name_off && !ident_ok(name))
			return tfail(c, id, t, "invalid name");
		break;
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FUNC:
		if (!name_ident(b, t->name_off))
			return tfail(c, id, t, "invalid name (a C identifier is required)");
		break;
	case BTF_KIND_VAR:
		/*
		 * clang names a function's static variable "func.var" (bpf_printk's
		 * "prog.____fmt"); libbpf keeps such VARs in .rodata, so accept dots.
		 */
		if (!name_ok(name, true))
			return tfail(c, id, t, "invalid name (an identifier, dots allowed, is required)");
		break;
	case BTF_KIND_DATASEC:
		if (!section_name_ok(name))
			return tfail(c, id, t, "invalid section name");
		break;
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		if (!*name)
			return tfail(c, id, t, "empty tag value");
		break;
	default: /* INT and FLOAT names are free text ("long unsigned int") */
		break;
	}

	/* vlen and kflag where the kind has no use for them. */
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_PTR:
	case BTF_KIND_ARRAY:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_VAR:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_FWD:
		if (vlen)
			return tfail(c, id, t, "vlen %u != 0", vlen);
		break;
	default:
		break;
	}
	switch (kind) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
	case BTF_KIND_DECL_TAG: /* newer kernels: kflag, the tag is an __attribute__ */
	case BTF_KIND_TYPE_TAG:
		break;
	default:
		if (kflag)
			return tfail(c, id, t, "kind_flag set");
	}

	switch (kind) {
	case BTF_KIND_INT: {
		uint32_t v = bee_btf_int_data(t);
		if (v & ~0x0fff00ffu)
			return tfail(c, id, t, "invalid int data 0x%08x", v);
		if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8 && t->size != 16)
			return tfail(c, id, t, "invalid size %u", t->size);
		unsigned bits = BTF_INT_BITS(v), off = BTF_INT_OFFSET(v), enc = BTF_INT_ENCODING(v);
		if (bits > 128 || off + bits > t->size * 8u)
			return tfail(c, id, t, "bits_offset %u + nr_bits %u beyond size %u", off, bits,
				     t->size);
		if (enc && enc != BTF_INT_SIGNED && enc != BTF_INT_CHAR && enc != BTF_INT_BOOL)
			return tfail(c, id, t, "unsupported encoding 0x%x", enc);
		break;
	}
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		if (!id_ok(t->type))
			return tfail(c, id, t, "invalid type_id %u", t->type);
		if (kind == BTF_KIND_FUNC && vlen > BTF_FUNC_EXTERN)
			return tfail(c, id, t, "invalid linkage %u", vlen);
		if (kind == BTF_KIND_VAR && bee_btf_var(t)->linkage > BTF_VAR_GLOBAL_EXTERN)
			return tfail(c, id, t, "invalid linkage %u", bee_btf_var(t)->linkage);
		if (kind == BTF_KIND_DECL_TAG && bee_btf_decl_tag(t)->component_idx < -1)
			return tfail(c, id, t, "invalid component_idx %d",
				     bee_btf_decl_tag(t)->component_idx);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = bee_btf_array(t);
		if (t->size)
			return tfail(c, id, t, "size %u != 0", t->size);
		if (!id_ok(a->type) || !id_ok(a->index_type))
			return tfail(c, id, t, "invalid element or index type_id");
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return check_members_meta(c, id, t);
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
			return tfail(c, id, t, "invalid size %u", t->size);
		if (kind == BTF_KIND_ENUM && t->size == 8)
			return tfail(c, id, t, "size 8 needs ENUM64");
		for (unsigned i = 0; i < vlen; i++) {
			uint32_t off = kind == BTF_KIND_ENUM ? bee_btf_enums(t)[i].name_off
							     : bee_btf_enums64(t)[i].name_off;
			const char *vn = bee_btf_str(b, off);
			if (!off || !ident_ok(vn))
				return tfail(c, id, t, "value %u: invalid name", i);
		}
		break;
	case BTF_KIND_FWD:
		if (t->type)
			return tfail(c, id, t, "type %u != 0", t->type);
		break;
	case BTF_KIND_FUNC_PROTO:
		if (!id_ok(t->type))
			return tfail(c, id, t, "invalid return type_id %u", t->type);
		for (unsigned i = 0; i < vlen; i++) {
			const struct btf_param *p = &bee_btf_params(t)[i];
			const char *pn = bee_btf_str(b, p->name_off);
			if (!pn || (p->name_off && !ident_ok(pn)))
				return tfail(c, id, t, "arg#%u: invalid name", i);
			if (!id_ok(p->type))
				return tfail(c, id, t, "arg#%u: invalid type_id %u", i, p->type);
			if (p->type == 0 && (p->name_off || i + 1 != vlen))
				return tfail(c, id, t, "arg#%u: void argument (varargs only as the last, unnamed)",
					     i);
		}
		break;
	case BTF_KIND_DATASEC:
		for (unsigned i = 0; i < vlen; i++)
			if (!id_ok(bee_btf_secinfos(t)[i].type))
				return tfail(c, id, t, "entry %u: invalid type_id", i);
		break;
	case BTF_KIND_FLOAT:
		if (t->size != 2 && t->size != 4 && t->size != 8 && t->size != 12 && t->size != 16)
			return tfail(c, id, t, "invalid size %u", t->size);
		break;
	default:
		break;
	}
	return 0;
}

static int index_types(struct ctx *c)
{
	struct bee_btf_data *b = c->btf;
	const uint8_t *p = b->raw + b->hdr.hdr_len + b->hdr.type_off;
	const uint8_t *end = p + b->hdr.type_len;
	size_t cap = 0;
	while (p < end) {
		uint32_t id = b->start_id + b->nr;
		if (id > BTF_MAX_TYPE)
			return fail(c, "more than %u types", BTF_MAX_TYPE);
		if ((size_t)(end - p) < sizeof(struct btf_type))
			return fail(c, "[%u] truncated type record (%zu bytes left)", id, (size_t)(end - p));
		const struct btf_type *t = (const struct btf_type *)p;
		unsigned kind = bee_btf_kind(t);
		if (kind == BTF_KIND_UNKN || kind > BEE_BTF_KIND_MAX)
			return fail(c, "[%u] invalid kind %u", id, kind);
		if (t->info & ~0x9f00ffffu)
			return fail(c, "[%u] %s: unused info bits set (0x%08x)", id, bee_btf_kind_str(kind),
				    t->info);
		size_t need = sizeof(*t) + tail_size(kind, bee_btf_vlen(t));
		if ((size_t)(end - p) < need)
			return fail(c, "[%u] %s: record of %zu bytes runs past the type section", id,
				    bee_btf_kind_str(kind), need);
		if (b->nr == cap) {
			cap = cap ? cap * 2 : 256;
			const struct btf_type **nt = realloc(b->types, cap * sizeof(*nt));
			if (!nt)
				return bee_error_set(c->err, -ENOMEM, -1, 0, 0, "BTF: out of memory");
			b->types = nt;
		}
		b->types[b->nr++] = t;
		p += need;
	}
	for (uint32_t i = 0; i < b->nr; i++) {
		int ret = check_meta(c, b->start_id + i, b->types[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- pass 3: references, loops, sizes ----------------------------------- */

/* Kinds a value can have (what a member, element, variable or argument may be). */
static bool kind_is_value_ok(unsigned k)
{
	return k != BTF_KIND_FUNC && k != BTF_KIND_VAR && k != BTF_KIND_DATASEC &&
	       k != BTF_KIND_DECL_TAG;
}

static int resolve(struct ctx *c, uint32_t id, int depth);

/* Check a reference from type `from`, then resolve the referenced type. */
static int follow(struct ctx *c, uint32_t from, const struct btf_type *ft, uint32_t to,
		  const char *what, int depth)
{
	struct bee_btf_data *b = c->btf;
	if (to >= bee_btf_type_count(b))
		return tfail(c, from, ft, "%s type_id %u out of range (%u types)", what, to,
			     bee_btf_type_count(b));
	return resolve(c, to, depth + 1);
}

static int resolve_members(struct ctx *c, uint32_t id, const struct btf_type *t, int depth)
{
	struct bee_btf_data *b = c->btf;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		const struct btf_member *m = &bee_btf_members(t)[i];
		const char *mname = bee_btf_str(b, m->name_off);
		int ret = follow(c, id, t, m->type, "member", depth);
		if (ret)
			return ret;
		uint32_t base_id = bee_btf_skip_modifiers_typedefs(b, m->type);
		const struct btf_type *mt = bee_btf_type_by_id(b, base_id);
		unsigned mk = bee_btf_kind(mt);
		long long msize = size_of(b, m->type);
		if (!kind_is_value_ok(bee_btf_kind(bee_btf_type_by_id(b, m->type))) || msize < 0)
			return tfail(c, id, t, "member '%s': type %u (%s) has no size", mname, m->type,
				     bee_btf_kind_str(mk));
		uint32_t off = bee_btf_member_bit_offset(t, i);
		uint32_t bf = bee_btf_member_bitfield_size(t, i);
		uint64_t limit = (uint64_t)t->size * 8;
		if (bf) {
			if (mk != BTF_KIND_INT && mk != BTF_KIND_ENUM && mk != BEE_BTF_KIND_ENUM64)
				return tfail(c, id, t, "member '%s': bitfield of %s, not an integer or enum",
					     mname, bee_btf_kind_str(mk));
			if (bf > msize * 8)
				return tfail(c, id, t, "member '%s': bitfield_size %u wider than its type (%lld bits)",
					     mname, bf, msize * 8);
			if (off + (uint64_t)bf > limit)
				return tfail(c, id, t, "member '%s' at bit %u (+%u bits) beyond size %u", mname,
					     off, bf, t->size);
			continue;
		}
		if (mk == BTF_KIND_INT) {
			uint32_t v = bee_btf_int_data(mt);
			if (BTF_INT_OFFSET(v) || BTF_INT_BITS(v) != mt->size * 8u) {
				/* An old-style bitfield: the int's bits say where it lives. */
				if (off + (uint64_t)BTF_INT_OFFSET(v) + BTF_INT_BITS(v) > limit)
					return tfail(c, id, t, "member '%s' at bit %u beyond size %u", mname,
						     off, t->size);
				continue;
			}
		}
		if (off % 8)
			return tfail(c, id, t, "member '%s' at bit %u is not byte aligned", mname, off);
		if (off / 8 + (uint64_t)msize > t->size)
			return tfail(c, id, t, "member '%s' at bit %u (%lld bytes) beyond size %u", mname,
				     off, msize, t->size);
	}
	return 0;
}

static int resolve_datasec(struct ctx *c, uint32_t id, const struct btf_type *t, int depth)
{
	struct bee_btf_data *b = c->btf;
	uint64_t last_end = 0;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		const struct btf_var_secinfo *v = &bee_btf_secinfos(t)[i];
		int ret = follow(c, id, t, v->type, "entry", depth);
		if (ret)
			return ret;
		const struct btf_type *vt = bee_btf_type_by_id(b, v->type);
		unsigned vk = bee_btf_kind(vt);
		/* clang lists extern kfuncs in ".ksyms" as FUNCs. */
		if (vk != BTF_KIND_VAR && !(vk == BTF_KIND_FUNC && bee_btf_vlen(vt) == BTF_FUNC_EXTERN))
			return tfail(c, id, t, "entry %u: type %u is %s, not a VAR", i, v->type,
				     bee_btf_kind_str(vk));
		if (t->size == 0)
			continue; /* an object's section, sized by the loader later */
		if (v->size == 0)
			return tfail(c, id, t, "entry %u: size 0", i);
		if (v->offset < last_end)
			return tfail(c, id, t, "entry %u: offset %u overlaps or precedes the previous entry",
				     i, v->offset);
		if ((uint64_t)v->offset + v->size > t->size)
			return tfail(c, id, t, "entry %u: offset %u + size %u beyond size %u", i,
				     v->offset, v->size, t->size);
		long long vs = size_of(b, v->type);
		if (vk == BTF_KIND_VAR && vs >= 0 && v->size < vs)
			return tfail(c, id, t, "entry %u: size %u smaller than its variable (%lld)", i,
				     v->size, vs);
		last_end = (uint64_t)v->offset + v->size;
	}
	return 0;
}

static int resolve_decl_tag(struct ctx *c, uint32_t id, const struct btf_type *t, int depth)
{
	struct bee_btf_data *b = c->btf;
	int ret = follow(c, id, t, t->type, "tagged", depth);
	if (ret)
		return ret;
	const struct btf_type *tt = bee_btf_type_by_id(b, t->type);
	unsigned k = bee_btf_kind(tt);
	int32_t idx = bee_btf_decl_tag(t)->component_idx;
	if (k != BTF_KIND_STRUCT && k != BTF_KIND_UNION && k != BTF_KIND_VAR && k != BTF_KIND_FUNC &&
	    k != BTF_KIND_TYPEDEF)
		return tfail(c, id, t, "tags a %s (only struct, union, var, func, typedef)",
			     bee_btf_kind_str(k));
	if (idx < 0)
		return 0;
	unsigned n = 0;
	if (k == BTF_KIND_STRUCT || k == BTF_KIND_UNION)
		n = bee_btf_vlen(tt);
	else if (k == BTF_KIND_FUNC)
		n = bee_btf_vlen(bee_btf_type_by_id(b, tt->type)); /* resolved: a FUNC_PROTO */
	else
		return tfail(c, id, t, "component_idx %d on a %s", idx, bee_btf_kind_str(k));
	if ((unsigned)idx >= n)
		return tfail(c, id, t, "component_idx %d beyond %u components", idx, n);
	return 0;
}

static int resolve_kind(struct ctx *c, uint32_t id, const struct btf_type *t, int depth,
			long long *size)
{
	struct bee_btf_data *b = c->btf;
	unsigned kind = bee_btf_kind(t);
	int ret;
	*size = -1;
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_FLOAT:
		*size = t->size;
		return 0;
	case BTF_KIND_FWD:
		return 0;
	case BTF_KIND_PTR: {
		/* A pointer ends the walk: its target is resolved on its own. */
		if (t->type >= bee_btf_type_count(b))
			return tfail(c, id, t, "type_id %u out of range", t->type);
		unsigned k = bee_btf_kind(bee_btf_type_by_id(b, t->type));
		if (!kind_is_value_ok(k))
			return tfail(c, id, t, "points to a %s", bee_btf_kind_str(k));
		*size = 8;
		return 0;
	}
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG: {
		if ((ret = follow(c, id, t, t->type, "target", depth)))
			return ret;
		unsigned k = bee_btf_kind(bee_btf_type_by_id(b, t->type));
		if (!kind_is_value_ok(k))
			return tfail(c, id, t, "refers to a %s", bee_btf_kind_str(k));
		*size = size_of(b, t->type);
		return 0;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = bee_btf_array(t);
		if ((ret = follow(c, id, t, a->index_type, "index", depth)))
			return ret;
		const struct btf_type *it =
			bee_btf_type_by_id(b, bee_btf_skip_modifiers_typedefs(b, a->index_type));
		if (bee_btf_kind(it) != BTF_KIND_INT)
			return tfail(c, id, t, "index type %u is not an INT", a->index_type);
		if ((ret = follow(c, id, t, a->type, "element", depth)))
			return ret;
		long long es = size_of(b, a->type);
		unsigned ek = bee_btf_kind(bee_btf_type_by_id(b, a->type));
		if (es < 0 || !kind_is_value_ok(ek))
			return tfail(c, id, t, "element type %u (%s) has no size", a->type,
				     bee_btf_kind_str(ek));
		unsigned long long total = (unsigned long long)es * a->nelems;
		if (es && total / es != a->nelems)
			total = UINT64_MAX;
		if (total > UINT32_MAX)
			return tfail(c, id, t, "%u elements of %lld bytes overflow U32_MAX", a->nelems, es);
		*size = (long long)total;
		return 0;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if ((ret = resolve_members(c, id, t, depth)))
			return ret;
		*size = t->size;
		return 0;
	case BTF_KIND_FUNC:
		if ((ret = follow(c, id, t, t->type, "prototype", depth)))
			return ret;
		if (bee_btf_kind(bee_btf_type_by_id(b, t->type)) != BTF_KIND_FUNC_PROTO)
			return tfail(c, id, t, "type %u is not a FUNC_PROTO", t->type);
		return 0;
	case BTF_KIND_FUNC_PROTO: {
		if (t->type) {
			if ((ret = follow(c, id, t, t->type, "return", depth)))
				return ret;
			unsigned k = bee_btf_kind(bee_btf_type_by_id(b, t->type));
			if (!kind_is_value_ok(k) || k == BTF_KIND_FUNC_PROTO)
				return tfail(c, id, t, "returns a %s", bee_btf_kind_str(k));
		}
		for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
			const struct btf_param *p = &bee_btf_params(t)[i];
			if (p->type == 0)
				continue; /* varargs, checked in pass 2 */
			if ((ret = follow(c, id, t, p->type, "argument", depth)))
				return ret;
			unsigned k = bee_btf_kind(bee_btf_type_by_id(b, p->type));
			if (!kind_is_value_ok(k) || k == BTF_KIND_FUNC_PROTO)
				return tfail(c, id, t, "arg#%u: is a %s", i, bee_btf_kind_str(k));
		}
		return 0;
	}
	case BTF_KIND_VAR: {
		if ((ret = follow(c, id, t, t->type, "variable", depth)))
			return ret;
		unsigned k = bee_btf_kind(bee_btf_type_by_id(b, t->type));
		long long s = size_of(b, t->type);
		if (!kind_is_value_ok(k) || k == BTF_KIND_FUNC_PROTO)
			return tfail(c, id, t, "variable of a %s", bee_btf_kind_str(k));
		/* `extern const void sym __ksym;` is a typeless extern: no size. */
		if (s < 0 && bee_btf_var(t)->linkage != BTF_VAR_GLOBAL_EXTERN)
			return tfail(c, id, t, "type %u (%s) has no size", t->type, bee_btf_kind_str(k));
		*size = s;
		return 0;
	}
	case BTF_KIND_DATASEC:
		if ((ret = resolve_datasec(c, id, t, depth)))
			return ret;
		*size = t->size;
		return 0;
	case BTF_KIND_DECL_TAG:
		return resolve_decl_tag(c, id, t, depth);
	default:
		return tfail(c, id, t, "unknown kind"); /* pass 2 refused these */
	}
}

static int resolve(struct ctx *c, uint32_t id, int depth)
{
	struct bee_btf_data *b = c->btf;
	if (id < b->start_id)
		return 0; /* void or the base's: resolved already */
	uint32_t i = id - b->start_id;
	if (b->state[i] == RS_DONE)
		return 0;
	const struct btf_type *t = b->types[i];
	if (b->state[i] == RS_VISITING)
		return tfail(c, id, t, "loop detected: the type contains itself (not through a pointer)");
	if (depth > BEE_BTF_MAX_RESOLVE_DEPTH)
		return tfail(c, id, t, "type chain deeper than %d", BEE_BTF_MAX_RESOLVE_DEPTH);
	b->state[i] = RS_VISITING;
	long long size;
	int ret = resolve_kind(c, id, t, depth, &size);
	if (ret)
		return ret;
	b->sizes[i] = size;
	b->state[i] = RS_DONE;
	return 0;
}

/* ---- name index ---------------------------------------------------------- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int build_index(struct bee_btf_data *b)
{
	uint32_t named = 0;
	for (uint32_t i = 0; i < b->nr; i++)
		named += b->types[i]->name_off != 0;
	uint32_t cap = 16;
	while (cap < named * 2)
		cap *= 2;
	b->index = calloc(cap, sizeof(*b->index));
	if (!b->index)
		return -ENOMEM;
	b->index_mask = cap - 1;
	for (uint32_t i = 0; i < b->nr; i++) {
		if (!b->types[i]->name_off)
			continue;
		uint32_t slot = name_hash(bee_btf_str(b, b->types[i]->name_off)) & b->index_mask;
		while (b->index[slot])
			slot = (slot + 1) & b->index_mask;
		b->index[slot] = b->start_id + i;
	}
	return 0;
}

long bee_btf_find_by_name_kind(const struct bee_btf_data *btf, const char *name, int kind)
{
	if (!name || !*name)
		return -ENOENT;
	if (btf->base) {
		long id = bee_btf_find_by_name_kind(btf->base, name, kind);
		if (id > 0)
			return id;
	}
	if (!btf->index)
		return -ENOENT;
	for (uint32_t slot = name_hash(name) & btf->index_mask; btf->index[slot];
	     slot = (slot + 1) & btf->index_mask) {
		uint32_t id = btf->index[slot];
		const struct btf_type *t = btf->types[id - btf->start_id];
		if ((kind < 0 || bee_btf_kind(t) == (unsigned)kind) &&
		    !strcmp(bee_btf_str(btf, t->name_off), name))
			return id;
	}
	return -ENOENT;
}

/* ---- parse --------------------------------------------------------------- */

void bee_btf_free(struct bee_btf_data *btf)
{
	if (!btf)
		return;
	free(btf->mem);
	free(btf->types);
	free(btf->sizes);
	free(btf->state);
	free(btf->index);
	free(btf);
}

struct bee_btf_data *bee_btf_parse(const void *data, size_t size, const struct bee_btf_data *base,
				   struct bee_error *err)
{
	bee_error_clear(err);
	struct bee_btf_data *b = calloc(1, sizeof(*b));
	if (!b) {
		bee_error_set(err, -ENOMEM, -1, 0, 0, "BTF: out of memory");
		return NULL;
	}
	struct ctx c = {.btf = b, .err = err};
	int ret = -ENOMEM;
	if (size > UINT32_MAX) {
		ret = bee_error_set(err, -E2BIG, -1, 0, 0, "BTF: %zu bytes is too big", size);
		goto out;
	}
	b->base = base;
	b->start_id = base ? bee_btf_type_count(base) : 1;
	b->start_str = base ? base->start_str + base->str_len : 0;
	b->size = size;
	/*
	 * Place the copy so that the type section (hdr_len + type_off, the
	 * latter checked 4-aligned) lands on a 4-byte boundary in memory.
	 */
	uint32_t hdr_len = 0;
	if (size >= 8)
		memcpy(&hdr_len, (const uint8_t *)data + 4, 4);
	uint32_t pad = (4 - hdr_len % 4) % 4;
	b->mem = malloc(size + pad + 4);
	if (!b->mem)
		goto nomem;
	b->raw = (uint8_t *)b->mem + pad;
	if (size)
		memcpy(b->raw, data, size);
	if ((ret = check_header(&c, b->raw, size)))
		goto out;
	if ((ret = check_strings(&c)))
		goto out;
	if ((ret = index_types(&c)))
		goto out;
	b->sizes = malloc((b->nr ? b->nr : 1) * sizeof(*b->sizes));
	b->state = calloc(b->nr ? b->nr : 1, 1);
	if (!b->sizes || !b->state)
		goto nomem;
	for (uint32_t i = 0; i < b->nr; i++)
		if ((ret = resolve(&c, b->start_id + i, 0)))
			goto out;
	if (build_index(b))
		goto nomem;
	return b;
nomem:
	ret = bee_error_set(err, -ENOMEM, -1, 0, 0, "BTF: out of memory");
out:
	(void)ret;
	bee_btf_free(b);
	return NULL;
}

/* ---- decoded views -------------------------------------------------------- */

int bee_btf_type(const struct bee_btf_data *btf, uint32_t id, struct bee_btf_type_info *out)
{
	const struct btf_type *t = bee_btf_type_by_id(btf, id);
	if (!t)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->kind = bee_btf_kind(t);
	out->name = bee_btf_name(btf, id);
	out->kflag = bee_btf_kflag(t);
	out->vlen = bee_btf_vlen(t);
	out->raw = t;
	out->component_idx = -1;
	switch (out->kind) {
	case BTF_KIND_INT: {
		uint32_t v = bee_btf_int_data(t);
		out->size = t->size;
		out->int_encoding = BTF_INT_ENCODING(v);
		out->int_offset = BTF_INT_OFFSET(v);
		out->int_bits = BTF_INT_BITS(v);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_DATASEC:
	case BTF_KIND_FLOAT:
		out->size = t->size;
		break;
	case BTF_KIND_ARRAY:
		out->elem_type = bee_btf_array(t)->type;
		out->index_type = bee_btf_array(t)->index_type;
		out->nelems = bee_btf_array(t)->nelems;
		break;
	case BTF_KIND_FUNC:
		out->type = t->type;
		out->linkage = out->vlen;
		break;
	case BTF_KIND_VAR:
		out->type = t->type;
		out->linkage = bee_btf_var(t)->linkage;
		break;
	case BTF_KIND_DECL_TAG:
		out->type = t->type;
		out->component_idx = bee_btf_decl_tag(t)->component_idx;
		break;
	case BTF_KIND_FWD:
	case BTF_KIND_UNKN:
		break;
	default:
		out->type = t->type;
		break;
	}
	return 0;
}

static const struct btf_type *kind_check(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
					 unsigned k1, unsigned k2, int *ret)
{
	const struct btf_type *t = bee_btf_type_by_id(btf, id);
	*ret = 0;
	if (!t)
		*ret = -ENOENT;
	else if (bee_btf_kind(t) != k1 && bee_btf_kind(t) != k2)
		*ret = -EINVAL;
	else if (idx >= bee_btf_vlen(t))
		*ret = -ENOENT;
	return *ret ? NULL : t;
}

int bee_btf_member(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		   struct bee_btf_member_info *out)
{
	int ret;
	const struct btf_type *t = kind_check(btf, id, idx, BTF_KIND_STRUCT, BTF_KIND_UNION, &ret);
	if (!t)
		return ret;
	const struct btf_member *m = &bee_btf_members(t)[idx];
	out->name = bee_btf_str(btf, m->name_off);
	out->type = m->type;
	out->bit_offset = bee_btf_member_bit_offset(t, idx);
	out->bitfield_size = bee_btf_member_bitfield_size(t, idx);
	return 0;
}

int bee_btf_param(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		  struct bee_btf_param_info *out)
{
	int ret;
	const struct btf_type *t = kind_check(btf, id, idx, BTF_KIND_FUNC_PROTO, BTF_KIND_FUNC_PROTO, &ret);
	if (!t)
		return ret;
	out->name = bee_btf_str(btf, bee_btf_params(t)[idx].name_off);
	out->type = bee_btf_params(t)[idx].type;
	return 0;
}

int bee_btf_enum_value(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		       struct bee_btf_enum_info *out)
{
	int ret;
	const struct btf_type *t = kind_check(btf, id, idx, BTF_KIND_ENUM, BEE_BTF_KIND_ENUM64, &ret);
	if (!t)
		return ret;
	out->is_signed = bee_btf_kflag(t);
	if (bee_btf_kind(t) == BTF_KIND_ENUM) {
		const struct btf_enum *e = &bee_btf_enums(t)[idx];
		out->name = bee_btf_str(btf, e->name_off);
		out->uval = out->is_signed ? (uint64_t)(int64_t)e->val : (uint64_t)(uint32_t)e->val;
	} else {
		const struct bee_btf_enum64 *e = &bee_btf_enums64(t)[idx];
		out->name = bee_btf_str(btf, e->name_off);
		out->uval = bee_btf_enum64_value(e);
	}
	return 0;
}

int bee_btf_datasec_entry(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
			  struct bee_btf_secinfo_info *out)
{
	int ret;
	const struct btf_type *t = kind_check(btf, id, idx, BTF_KIND_DATASEC, BTF_KIND_DATASEC, &ret);
	if (!t)
		return ret;
	const struct btf_var_secinfo *v = &bee_btf_secinfos(t)[idx];
	out->type = v->type;
	out->offset = v->offset;
	out->size = v->size;
	return 0;
}
