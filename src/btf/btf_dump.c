/*
 * btf_dump.c - print BTF as `bpftool btf dump` does: raw and as C.
 *
 * Theory of operation
 * -------------------
 * Raw: one line per type, "[id] KIND 'name'" then the kind's fields, and
 * one tab-indented line per member, parameter, enumerator or section
 * entry: bpftool's plain output, field for field (its dump_btf_type()).
 * Split BTF prints only its own types, numbered on from the base.
 *
 * C: the declarations a header needs, in an order a compiler accepts.
 * Each top-level type (named struct/union/enum, typedef, fwd, and
 * anonymous enums and structs nothing refers to) is emitted once, after
 * what it depends on.  Two kinds of dependency:
 *
 *   value_dep - the type is used by value (a member, an array element):
 *               it must be complete, so a named struct is defined first;
 *   ptr_dep   - the type is only named (behind a pointer, in a typedef,
 *               in a prototype): a forward declaration "struct X;" is
 *               enough, which is how cycles through pointers are cut.
 *
 * Anonymous structs, unions and enums are printed inline where used, so
 * their members' dependencies become their user's.  Declarators are
 * built inside out (pointer, array, function, qualifiers) around the
 * name, as C's declarator syntax wants: "int (*fp[4])(char)".  Struct
 * layouts are reproduced: explicit padding ("long: 64;") where BTF puts a
 * member past its natural place, and __attribute__((packed)) where a
 * member or the size is not naturally aligned.  Names that occur twice in
 * one C namespace get libbpf's "___N" suffix so the output compiles.
 * Type tags are left out (transparent); FUNC, VAR, DATASEC and DECL_TAG
 * are not declarations bpftool prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"

/* ---- raw ------------------------------------------------------------------ */

static const char *raw_str(const struct bee_btf_data *btf, uint32_t off)
{
	if (!off)
		return "(anon)";
	const char *s = bee_btf_str(btf, off);
	return s ? s : "(invalid)";
}

static const char *int_enc_str(unsigned enc)
{
	switch (enc) {
	case 0: return "(none)";
	case BTF_INT_SIGNED: return "SIGNED";
	case BTF_INT_CHAR: return "CHAR";
	case BTF_INT_BOOL: return "BOOL";
	default: return "UNKN";
	}
}

static const char *linkage_str(uint32_t l)
{
	/* FUNC and VAR linkages print alike: static, global, extern. */
	switch (l) {
	case 0: return "static";
	case 1: return "global";
	case 2: return "extern";
	default: return "(unknown)";
	}
}

void bee_btf_dump_raw_type(const struct bee_btf_data *btf, uint32_t id, FILE *out)
{
	const struct btf_type *t = bee_btf_type_by_id(btf, id);
	if (!t)
		return;
	unsigned kind = bee_btf_kind(t), vlen = bee_btf_vlen(t);
	fprintf(out, "[%u] %s '%s'", id, bee_btf_kind_str(kind), raw_str(btf, t->name_off));
	switch (kind) {
	case BTF_KIND_INT: {
		uint32_t v = bee_btf_int_data(t);
		fprintf(out, " size=%u bits_offset=%u nr_bits=%u encoding=%s", t->size, BTF_INT_OFFSET(v),
			BTF_INT_BITS(v), int_enc_str(BTF_INT_ENCODING(v)));
		break;
	}
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_TYPE_TAG:
		fprintf(out, " type_id=%u", t->type);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = bee_btf_array(t);
		fprintf(out, " type_id=%u index_type_id=%u nr_elems=%u", a->type, a->index_type, a->nelems);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		fprintf(out, " size=%u vlen=%u", t->size, vlen);
		for (unsigned i = 0; i < vlen; i++) {
			const struct btf_member *m = &bee_btf_members(t)[i];
			uint32_t bf = bee_btf_member_bitfield_size(t, i);
			fprintf(out, "\n\t'%s' type_id=%u bits_offset=%u", raw_str(btf, m->name_off), m->type,
				bee_btf_member_bit_offset(t, i));
			if (bf)
				fprintf(out, " bitfield_size=%u", bf);
		}
		break;
	case BTF_KIND_ENUM:
		fprintf(out, " encoding=%s size=%u vlen=%u", bee_btf_kflag(t) ? "SIGNED" : "UNSIGNED",
			t->size, vlen);
		for (unsigned i = 0; i < vlen; i++) {
			const struct btf_enum *e = &bee_btf_enums(t)[i];
			if (bee_btf_kflag(t))
				fprintf(out, "\n\t'%s' val=%d", raw_str(btf, e->name_off), e->val);
			else
				fprintf(out, "\n\t'%s' val=%u", raw_str(btf, e->name_off), (uint32_t)e->val);
		}
		break;
	case BEE_BTF_KIND_ENUM64:
		fprintf(out, " encoding=%s size=%u vlen=%u", bee_btf_kflag(t) ? "SIGNED" : "UNSIGNED",
			t->size, vlen);
		for (unsigned i = 0; i < vlen; i++) {
			const struct bee_btf_enum64 *e = &bee_btf_enums64(t)[i];
			uint64_t v = bee_btf_enum64_value(e);
			if (bee_btf_kflag(t))
				fprintf(out, "\n\t'%s' val=%lldLL", raw_str(btf, e->name_off), (long long)v);
			else
				fprintf(out, "\n\t'%s' val=%lluULL", raw_str(btf, e->name_off),
					(unsigned long long)v);
		}
		break;
	case BTF_KIND_FWD:
		fprintf(out, " fwd_kind=%s", bee_btf_kflag(t) ? "union" : "struct");
		break;
	case BTF_KIND_FUNC:
		fprintf(out, " type_id=%u linkage=%s", t->type, linkage_str(vlen));
		break;
	case BTF_KIND_FUNC_PROTO:
		fprintf(out, " ret_type_id=%u vlen=%u", t->type, vlen);
		for (unsigned i = 0; i < vlen; i++) {
			const struct btf_param *p = &bee_btf_params(t)[i];
			fprintf(out, "\n\t'%s' type_id=%u", raw_str(btf, p->name_off), p->type);
		}
		break;
	case BTF_KIND_VAR:
		fprintf(out, " type_id=%u, linkage=%s", t->type, linkage_str(bee_btf_var(t)->linkage));
		break;
	case BTF_KIND_DATASEC:
		fprintf(out, " size=%u vlen=%u", t->size, vlen);
		for (unsigned i = 0; i < vlen; i++) {
			const struct btf_var_secinfo *v = &bee_btf_secinfos(t)[i];
			fprintf(out, "\n\ttype_id=%u offset=%u size=%u", v->type, v->offset, v->size);
			const struct btf_type *vt = bee_btf_type_by_id(btf, v->type);
			if (vt)
				fprintf(out, " (%s '%s')", bee_btf_kind_str(bee_btf_kind(vt)),
					raw_str(btf, vt->name_off));
		}
		break;
	case BTF_KIND_FLOAT:
		fprintf(out, " size=%u", t->size);
		break;
	case BTF_KIND_DECL_TAG:
		fprintf(out, " type_id=%u component_idx=%d", t->type, bee_btf_decl_tag(t)->component_idx);
		break;
	default:
		break;
	}
}

int bee_btf_dump_raw(const struct bee_btf_data *btf, FILE *out)
{
	for (uint32_t id = bee_btf_start_id(btf); id < bee_btf_type_count(btf); id++) {
		bee_btf_dump_raw_type(btf, id, out);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- C ------------------------------------------------------------------ */

enum { ST_NONE, ST_DEFINING, ST_DEFINED };

struct name_count {
	const char *name;
	uint32_t count;
};

struct namespace {
	struct name_count *slots;
	uint32_t mask;
};

struct cdump {
	const struct bee_btf_data *btf;
	FILE *out;
	uint32_t n;
	uint8_t *state;     /* definition state, ST_* */
	uint8_t *declared;  /* a forward declaration was printed */
	uint8_t *visiting;  /* an anonymous type's walk or print is open */
	uint8_t *referenced;
	uint8_t *align;     /* cached alignment + 1, 0 when not computed */
	uint8_t *packed;    /* structs: 0 not computed, 1 natural, 2 packed */
	uint8_t *dep_done;  /* bit 0: value_dep done, bit 1: ptr_dep done (each walk once) */
	uint64_t work, work_limit; /* bounds inline expansion on hostile BTF */
	char **names;       /* the name printed for tags and typedefs (NULL: the BTF's) */
	struct namespace tags, idents;
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* How many times name was seen in ns before, counting this one. */
static uint32_t ns_count(struct namespace *ns, const char *name)
{
	uint32_t i = str_hash(name) & ns->mask;
	while (ns->slots[i].name && strcmp(ns->slots[i].name, name))
		i = (i + 1) & ns->mask;
	ns->slots[i].name = name;
	return ++ns->slots[i].count;
}

static const struct btf_type *T(struct cdump *d, uint32_t id)
{
	return bee_btf_type_by_id(d->btf, id);
}

static unsigned K(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	return t ? bee_btf_kind(t) : BTF_KIND_UNKN;
}

static const char *cname(struct cdump *d, uint32_t id)
{
	if (id < d->n && d->names[id])
		return d->names[id];
	return bee_btf_name(d->btf, id);
}

static bool is_named(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	return t && t->name_off != 0;
}

static void tabs(struct cdump *d, FILE *f, int n)
{
	(void)d;
	for (int i = 0; i < n; i++)
		fputc('\t', f);
}

static void ptr_dep(struct cdump *d, uint32_t id, int depth);
static void value_dep(struct cdump *d, uint32_t id, int depth);
static void define_struct(struct cdump *d, uint32_t id);
static void define_enum(struct cdump *d, uint32_t id);
static void define_typedef(struct cdump *d, uint32_t id);
static void emit_decl(struct cdump *d, FILE *f, uint32_t id, const char *inner, int indent, int depth);

#define MAX_DEPTH 64 /* inline nesting; validated BTF is far shallower */

static void members_dep(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (d->visiting[id] || depth > MAX_DEPTH)
		return;
	d->visiting[id] = 1;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++)
		value_dep(d, bee_btf_members(t)[i].type, depth + 1);
	d->visiting[id] = 0;
}

static void proto_dep(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	ptr_dep(d, t->type, depth + 1);
	for (unsigned i = 0; i < bee_btf_vlen(t); i++)
		if (bee_btf_params(t)[i].type)
			ptr_dep(d, bee_btf_params(t)[i].type, depth + 1);
}

static void emit_fwd(struct cdump *d, uint32_t id)
{
	if (d->declared[id] || d->state[id] == ST_DEFINED)
		return;
	d->declared[id] = 1;
	const struct btf_type *t = T(d, id);
	bool is_union = bee_btf_kind(t) == BTF_KIND_UNION ||
			(bee_btf_kind(t) == BTF_KIND_FWD && bee_btf_kflag(t));
	fprintf(d->out, "%s %s;\n\n", is_union ? "union" : "struct", cname(d, id));
}

static void value_dep(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t || id == 0 || depth > MAX_DEPTH || (d->dep_done[id] & 1))
		return;
	d->dep_done[id] |= 1; /* what it needs is emitted by the end of this call */
	switch (bee_btf_kind(t)) {
	case BTF_KIND_PTR:
		ptr_dep(d, t->type, depth + 1);
		break;
	case BTF_KIND_ARRAY:
		value_dep(d, bee_btf_array(t)->type, depth + 1);
		break;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		value_dep(d, t->type, depth + 1);
		break;
	case BTF_KIND_TYPEDEF:
		define_typedef(d, id);
		value_dep(d, t->type, depth + 1);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (t->name_off)
			define_struct(d, id);
		else
			members_dep(d, id, depth);
		break;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (t->name_off)
			define_enum(d, id);
		break;
	case BTF_KIND_FWD:
		emit_fwd(d, id);
		break;
	case BTF_KIND_FUNC_PROTO:
		proto_dep(d, id, depth);
		break;
	default:
		break;
	}
}

static void ptr_dep(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t || id == 0 || depth > MAX_DEPTH || (d->dep_done[id] & 2))
		return;
	d->dep_done[id] |= 2;
	switch (bee_btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		ptr_dep(d, t->type, depth + 1);
		break;
	case BTF_KIND_ARRAY:
		value_dep(d, bee_btf_array(t)->type, depth + 1);
		break;
	case BTF_KIND_TYPEDEF:
		define_typedef(d, id);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (!t->name_off)
			members_dep(d, id, depth);
		else if (d->state[id] != ST_DEFINED)
			emit_fwd(d, id);
		break;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (t->name_off)
			define_enum(d, id); /* ISO C has no forward enum declarations */
		break;
	case BTF_KIND_FWD:
		emit_fwd(d, id);
		break;
	case BTF_KIND_FUNC_PROTO:
		proto_dep(d, id, depth);
		break;
	default:
		break;
	}
}

/* ---- layout ---------------------------------------------------------------- */

static bool struct_packed(struct cdump *d, uint32_t id);

static unsigned align_of(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t || id == 0 || depth > MAX_DEPTH)
		return 1;
	if (d->align[id])
		return d->align[id] - 1u;
	unsigned a = 1;
	switch (bee_btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_FLOAT:
		a = t->size < 8 ? t->size : 8;
		if (a & (a - 1))
			a = 8; /* 12-byte long double and the like */
		break;
	case BTF_KIND_PTR:
		a = 8;
		break;
	case BTF_KIND_ARRAY:
		a = align_of(d, bee_btf_array(t)->type, depth + 1);
		break;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		a = align_of(d, t->type, depth + 1);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
			unsigned ma = align_of(d, bee_btf_members(t)[i].type, depth + 1);
			if (ma > a)
				a = ma;
		}
		d->align[id] = (uint8_t)(a + 1); /* natural, for struct_packed() */
		d->packed[id] = struct_packed(d, id) ? 2 : 1;
		if (d->packed[id] == 2)
			a = 1;
		break;
	default:
		break;
	}
	if (a == 0)
		a = 1;
	d->align[id] = (uint8_t)(a + 1);
	return a;
}

/* Is the struct laid out tighter than C's natural rules? (align cache holds the natural one) */
static bool struct_packed(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	unsigned max = d->align[id] ? d->align[id] - 1u : 1;
	if (max > 1 && t->size % max)
		return true;
	if (bee_btf_kind(t) == BTF_KIND_UNION)
		return false;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		if (bee_btf_member_bitfield_size(t, i))
			continue;
		uint32_t mt = bee_btf_members(t)[i].type;
		const struct btf_type *b = T(d, bee_btf_skip_modifiers_typedefs(d->btf, mt));
		if (b && bee_btf_kind(b) == BTF_KIND_INT &&
		    BTF_INT_BITS(bee_btf_int_data(b)) != b->size * 8u)
			continue; /* old-style bitfield */
		unsigned ma = align_of(d, mt, 1);
		if (bee_btf_member_bit_offset(t, i) % (ma * 8))
			return true;
	}
	return false;
}

/* Bits a member occupies, and its bitfield width (0: none). */
static uint32_t member_bits(struct cdump *d, const struct btf_type *t, unsigned i, uint32_t *bf)
{
	*bf = bee_btf_member_bitfield_size(t, i);
	if (*bf)
		return *bf;
	uint32_t mt = bee_btf_members(t)[i].type;
	const struct btf_type *b = T(d, bee_btf_skip_modifiers_typedefs(d->btf, mt));
	if (b && bee_btf_kind(b) == BTF_KIND_INT && BTF_INT_BITS(bee_btf_int_data(b)) != b->size * 8u) {
		*bf = BTF_INT_BITS(bee_btf_int_data(b));
		return *bf;
	}
	long long s = bee_btf_resolve_size(d->btf, mt);
	return s > 0 ? (uint32_t)(s * 8) : 0;
}

static void emit_padding(struct cdump *d, FILE *f, uint64_t from, uint64_t to, int indent)
{
	/* A big gap is one char array, not thousands of "long: 64;" lines. */
	if (to - from > 64 * 16 && from % 8 == 0) {
		uint64_t bytes = (to - from) / 8;
		tabs(d, f, indent);
		fprintf(f, "char ___pad%llu[%llu];\n", (unsigned long long)(from / 8),
			(unsigned long long)bytes);
		from += bytes * 8;
	}
	while (from < to) {
		if (to - from > 64 * 16 && from % 64 == 0)
			return emit_padding(d, f, from, to, indent);
		uint64_t chunk = 64 - from % 64;
		if (chunk > to - from)
			chunk = to - from;
		const char *type = "long";
		if (from % 32 == 0 && chunk == 32)
			type = "int";
		else if (from % 8 == 0 && chunk == 8)
			type = "char";
		else if (from % 16 == 0 && chunk == 16)
			type = "short";
		tabs(d, f, indent);
		fprintf(f, "%s: %llu;\n", type, (unsigned long long)chunk);
		from += chunk;
	}
}

/* ---- printing ------------------------------------------------------------- */

static void print_struct_body(struct cdump *d, FILE *f, uint32_t id, int indent, int depth)
{
	const struct btf_type *t = T(d, id);
	bool is_union = bee_btf_kind(t) == BTF_KIND_UNION;
	fprintf(f, "%s", is_union ? "union" : "struct");
	if (t->name_off)
		fprintf(f, " %s", cname(d, id));
	if (d->visiting[id] || depth > MAX_DEPTH) {
		/* An anonymous type containing itself: only fuzzed BTF does this. */
		fprintf(f, " {}");
		return;
	}
	d->visiting[id] = 1;
	fprintf(f, " {\n");
	(void)align_of(d, id, depth);
	bool packed = d->packed[id] == 2;
	uint64_t cur = 0;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		const struct btf_member *m = &bee_btf_members(t)[i];
		uint32_t off = bee_btf_member_bit_offset(t, i), bf;
		uint32_t bits = member_bits(d, t, i, &bf);
		if (!is_union) {
			uint64_t natural = cur;
			if (!bf && !packed) {
				uint64_t a = align_of(d, m->type, depth + 1) * 8ull;
				natural = (cur + a - 1) / a * a;
			}
			if (off > natural || (bf && off > cur))
				emit_padding(d, f, cur, off, indent + 1);
		}
		tabs(d, f, indent + 1);
		emit_decl(d, f, m->type, bee_btf_str(d->btf, m->name_off), indent + 1, depth + 1);
		if (bf)
			fprintf(f, ": %u", bf);
		fprintf(f, ";\n");
		uint64_t end = (uint64_t)off + bits;
		if (is_union ? end > cur : true)
			cur = is_union ? (end > cur ? end : cur) : end;
	}
	if (!is_union) {
		uint64_t a = packed ? 8 : align_of(d, id, depth) * 8ull;
		uint64_t natural = (cur + a - 1) / a * a;
		if ((uint64_t)t->size * 8 > natural)
			emit_padding(d, f, cur, (uint64_t)t->size * 8, indent + 1);
	}
	tabs(d, f, indent);
	fprintf(f, "}");
	if (packed)
		fprintf(f, " __attribute__((packed))");
	d->visiting[id] = 0;
}

static void print_enum_body(struct cdump *d, FILE *f, uint32_t id, int indent)
{
	const struct btf_type *t = T(d, id);
	bool is64 = bee_btf_kind(t) == BEE_BTF_KIND_ENUM64;
	fprintf(f, "enum");
	if (t->name_off)
		fprintf(f, " %s", cname(d, id));
	if (!bee_btf_vlen(t))
		return; /* a forward-declared enum: "enum x;" */
	fprintf(f, " {\n");
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		struct bee_btf_enum_info e;
		bee_btf_enum_value(d->btf, id, i, &e);
		uint32_t n = ns_count(&d->idents, e.name);
		tabs(d, f, indent + 1);
		fprintf(f, "%s", e.name);
		if (n > 1)
			fprintf(f, "___%u", n);
		if (e.is_signed)
			fprintf(f, " = %lld%s,\n", (long long)e.uval, is64 ? "LL" : "");
		else
			fprintf(f, " = %llu%s,\n", (unsigned long long)e.uval, is64 ? "ULL" : "");
	}
	tabs(d, f, indent);
	fprintf(f, "}");
	/* Keep the BTF's size: C would pick 4 bytes for small values. */
	if (t->size == 1)
		fprintf(f, " __attribute__((mode(byte)))");
	else if (t->size == 2)
		fprintf(f, " __attribute__((mode(HI)))");
	else if (t->size == 8)
		fprintf(f, " __attribute__((mode(DI)))");
}

/* The base of a declaration: "int", "struct foo", or an anonymous body. */
static void print_base(struct cdump *d, FILE *f, uint32_t id, int indent, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t || id == 0) {
		fprintf(f, "void");
		return;
	}
	switch (bee_btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPEDEF:
		fprintf(f, "%s", cname(d, id));
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (t->name_off)
			fprintf(f, "%s %s", bee_btf_kind(t) == BTF_KIND_UNION ? "union" : "struct",
				cname(d, id));
		else
			print_struct_body(d, f, id, indent, depth);
		break;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (t->name_off)
			fprintf(f, "enum %s", cname(d, id));
		else
			print_enum_body(d, f, id, indent);
		break;
	case BTF_KIND_FWD:
		fprintf(f, "%s %s", bee_btf_kflag(t) ? "union" : "struct", cname(d, id));
		break;
	default:
		fprintf(f, "void");
		break;
	}
}

static char *concat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	if (!s)
		abort(); /* a declarator of a few bytes: out of memory is not recoverable here */
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static unsigned kind_past_mods(struct cdump *d, uint32_t id)
{
	return K(d, bee_btf_skip_modifiers(d->btf, id));
}

static void emit_decl(struct cdump *d, FILE *f, uint32_t id, const char *inner, int indent, int depth)
{
	/*
	 * Inline anonymous types and prototypes can nest exponentially in
	 * crafted BTF (a prototype taking a pointer to itself recurses for
	 * ever); past a depth or a budget proportional to the input, print void.
	 */
	if (depth > MAX_DEPTH || ++d->work > d->work_limit) {
		fprintf(f, "void%s%s", inner && *inner ? " *" : "", inner ? inner : "");
		return;
	}
	char *decl = concat(inner ? inner : "", "", "");
	char quals[64] = "";
	for (int steps = 0; steps < 4 * MAX_DEPTH; steps++) {
		const struct btf_type *t = T(d, id);
		if (!t || id == 0)
			break;
		unsigned k = bee_btf_kind(t);
		char *next = NULL;
		if (k == BTF_KIND_PTR) {
			unsigned tk = kind_past_mods(d, t->type);
			next = concat("*", decl, "");
			if (tk == BTF_KIND_ARRAY || tk == BTF_KIND_FUNC_PROTO) {
				char *p = concat("(", next, ")");
				free(next);
				next = p;
			}
		} else if (k == BTF_KIND_CONST || k == BTF_KIND_VOLATILE || k == BTF_KIND_RESTRICT) {
			const char *q = k == BTF_KIND_CONST ? "const" : k == BTF_KIND_VOLATILE ? "volatile"
											: "restrict";
			unsigned tk = kind_past_mods(d, t->type);
			if (tk == BTF_KIND_PTR)
				next = concat(q, *decl ? " " : "", decl);
			else if (tk != BTF_KIND_FUNC_PROTO && k != BTF_KIND_RESTRICT &&
				 !strstr(quals, q) && strlen(quals) + strlen(q) + 2 < sizeof(quals)) {
				strcat(quals, q);
				strcat(quals, " ");
			}
		} else if (k == BTF_KIND_TYPE_TAG) {
			/* transparent */
		} else if (k == BTF_KIND_ARRAY) {
			char n[24];
			snprintf(n, sizeof(n), "[%u]", bee_btf_array(t)->nelems);
			next = concat(decl, n, "");
			id = bee_btf_array(t)->type;
			free(decl);
			decl = next;
			continue;
		} else if (k == BTF_KIND_FUNC_PROTO) {
			char *params = NULL;
			size_t plen = 0;
			FILE *pf = open_memstream(&params, &plen);
			if (!pf)
				abort();
			fputc('(', pf);
			unsigned vlen = bee_btf_vlen(t);
			if (!vlen)
				fputs("void", pf);
			for (unsigned i = 0; i < vlen; i++) {
				const struct btf_param *p = &bee_btf_params(t)[i];
				if (i)
					fputs(", ", pf);
				if (!p->type) {
					fputs("...", pf);
					continue;
				}
				emit_decl(d, pf, p->type, bee_btf_str(d->btf, p->name_off), indent, depth + 1);
			}
			fputc(')', pf);
			fclose(pf);
			next = concat(decl, params, "");
			free(params);
		} else {
			break;
		}
		if (next) {
			free(decl);
			decl = next;
		}
		id = t->type;
	}
	fputs(quals, f);
	print_base(d, f, id, indent, depth);
	if (*decl)
		fprintf(f, " %s", decl);
	free(decl);
}

/* ---- top-level definitions ------------------------------------------------ */

static void define_struct(struct cdump *d, uint32_t id)
{
	if (d->state[id] != ST_NONE)
		return;
	d->state[id] = ST_DEFINING;
	members_dep(d, id, 0);
	print_struct_body(d, d->out, id, 0, 0);
	fprintf(d->out, ";\n\n");
	d->state[id] = ST_DEFINED;
}

static void define_enum(struct cdump *d, uint32_t id)
{
	if (d->state[id] != ST_NONE)
		return;
	d->state[id] = ST_DEFINED;
	print_enum_body(d, d->out, id, 0);
	fprintf(d->out, ";\n\n");
}

static void define_typedef(struct cdump *d, uint32_t id)
{
	if (d->state[id] != ST_NONE)
		return;
	/* The compiler's own: redefining it is an error (clang's BTF carries it). */
	if (!strcmp(bee_btf_name(d->btf, id), "__builtin_va_list")) {
		d->state[id] = ST_DEFINED;
		return;
	}
	d->state[id] = ST_DEFINING;
	ptr_dep(d, T(d, id)->type, 1);
	fprintf(d->out, "typedef ");
	emit_decl(d, d->out, T(d, id)->type, cname(d, id), 0, 1);
	fprintf(d->out, ";\n\n");
	d->state[id] = ST_DEFINED;
}

static void mark_refs(struct cdump *d, uint32_t from)
{
	const struct btf_type *t = T(d, from);
	unsigned k = bee_btf_kind(t);
	uint32_t n = d->n;
#define REF(x) do { if ((x) < n) d->referenced[x] = 1; } while (0)
	switch (k) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (unsigned i = 0; i < bee_btf_vlen(t); i++)
			REF(bee_btf_members(t)[i].type);
		break;
	case BTF_KIND_FUNC_PROTO:
		REF(t->type);
		for (unsigned i = 0; i < bee_btf_vlen(t); i++)
			REF(bee_btf_params(t)[i].type);
		break;
	case BTF_KIND_ARRAY:
		REF(bee_btf_array(t)->type);
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_VAR:
	case BTF_KIND_FUNC:
	case BTF_KIND_DECL_TAG:
		REF(t->type);
		break;
	case BTF_KIND_DATASEC:
		for (unsigned i = 0; i < bee_btf_vlen(t); i++)
			REF(bee_btf_secinfos(t)[i].type);
		break;
	default:
		break;
	}
#undef REF
}

static int ns_init(struct namespace *ns, uint32_t n)
{
	uint32_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	ns->slots = calloc(cap, sizeof(*ns->slots));
	ns->mask = cap - 1;
	return ns->slots ? 0 : -ENOMEM;
}

static int assign_names(struct cdump *d)
{
	for (uint32_t id = 1; id < d->n; id++) {
		const struct btf_type *t = T(d, id);
		unsigned k = bee_btf_kind(t);
		struct namespace *ns;
		if (!t->name_off)
			continue;
		if (k == BTF_KIND_STRUCT || k == BTF_KIND_UNION || k == BTF_KIND_ENUM ||
		    k == BEE_BTF_KIND_ENUM64)
			ns = &d->tags;
		else if (k == BTF_KIND_TYPEDEF)
			ns = &d->idents;
		else
			continue;
		const char *name = bee_btf_name(d->btf, id);
		uint32_t c = ns_count(ns, name);
		if (c > 1) {
			size_t len = strlen(name) + 16;
			d->names[id] = malloc(len);
			if (!d->names[id])
				return -ENOMEM;
			snprintf(d->names[id], len, "%s___%u", name, c);
		}
	}
	return 0;
}

int bee_btf_dump_c(const struct bee_btf_data *btf, FILE *out)
{
	struct cdump d = {.btf = btf, .out = out, .n = bee_btf_type_count(btf)};
	int ret = -ENOMEM;
	d.state = calloc(d.n, 1);
	d.declared = calloc(d.n, 1);
	d.visiting = calloc(d.n, 1);
	d.referenced = calloc(d.n, 1);
	d.align = calloc(d.n, 1);
	d.packed = calloc(d.n, 1);
	d.names = calloc(d.n, sizeof(*d.names));
	d.dep_done = calloc(d.n, 1);
	size_t raw_size;
	bee_btf_raw(btf, &raw_size);
	d.work_limit = (1u << 16) + 16 * (uint64_t)raw_size;
	if (!d.state || !d.declared || !d.visiting || !d.referenced || !d.align || !d.packed || !d.names || !d.dep_done ||
	    ns_init(&d.tags, d.n) || ns_init(&d.idents, d.n) || assign_names(&d))
		goto out;
	for (uint32_t id = 1; id < d.n; id++)
		mark_refs(&d, id);

	fprintf(out, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	fprintf(out, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		     "#pragma clang attribute push (__attribute__((preserve_access_index)), "
		     "apply_to = record)\n#endif\n\n");
	for (uint32_t id = 1; id < d.n; id++) {
		const struct btf_type *t = T(&d, id);
		switch (bee_btf_kind(t)) {
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			if (t->name_off)
				define_struct(&d, id);
			else if (!d.referenced[id]) {
				members_dep(&d, id, 0);
				print_struct_body(&d, out, id, 0, 0);
				fprintf(out, ";\n\n");
			}
			break;
		case BTF_KIND_ENUM:
		case BEE_BTF_KIND_ENUM64:
			if (t->name_off)
				define_enum(&d, id);
			else if (!d.referenced[id] && bee_btf_vlen(t)) {
				print_enum_body(&d, out, id, 0);
				fprintf(out, ";\n\n");
			}
			break;
		case BTF_KIND_TYPEDEF:
			define_typedef(&d, id);
			break;
		case BTF_KIND_FWD:
			if (!is_named(&d, id))
				break;
			emit_fwd(&d, id);
			break;
		default:
			break;
		}
	}
	fprintf(out, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
		     "#endif /* __VMLINUX_H__ */\n");
	ret = ferror(out) ? -EIO : 0;
out:
	if (d.names)
		for (uint32_t i = 0; i < d.n; i++)
			free(d.names[i]);
	free(d.names);
	free(d.state);
	free(d.declared);
	free(d.visiting);
	free(d.referenced);
	free(d.align);
	free(d.packed);
	free(d.dep_done);
	free(d.tags.slots);
	free(d.idents.slots);
	return ret;
}
