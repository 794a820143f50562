/*
 * loader/core_relo.c - CO-RE relocation resolution and instruction patching.
 *
 * Theory of operation
 * -------------------
 * See core_relo.h for the two steps.  The vocabulary is libbpf's:
 *
 *  - an access string "a0:a1:...:an" is parsed against the local root
 *    type into a *raw spec* (every index) and a *spec*: a0 indexes the
 *    root as if it were an array (pointer arithmetic on the root pointer),
 *    each later index selects a member of a struct/union or an element of
 *    an array.  Named members and array elements become *accessors*;
 *    anonymous members (an unnamed struct or union in the middle) only
 *    add to the bit offset, because the target may nest them differently;
 *  - the target candidates are the target types whose kind is compatible
 *    (equal, or any two enums) and whose essential name equals the local
 *    root's (Documentation/bpf/llvm_reloc.rst, "___flavor" suffixes);
 *  - a field spec matches a candidate when every accessor finds, by name,
 *    a member whose type is compatible (searching into anonymous members
 *    at any depth), and every array index is within the target's bounds
 *    (a flexible array member at the end of a struct has none);
 *  - the value comes from the last accessor: for bitfields the byte
 *    offset and size are those of the smallest naturally aligned load
 *    covering the bits, with the u64 shifts that extract them
 *    (little-endian: lshift = 64 - (bit_off + bit_sz - byte_off * 8),
 *    rshift = 64 - bit_sz);
 *  - every matching candidate must give the same bit offset and value;
 *    none matching is fine for the *_EXISTS kinds (0), type-based kinds
 *    (0 as well, libbpf's rule) and poisons the instruction otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "loader/core_relo.h"

/* One accessor: a named member (name != NULL) or an array element. */
struct accessor {
	uint32_t type_id; /* the struct/union holding the member, or the element type */
	uint32_t idx;
	const char *name;
};

struct spec {
	const struct bee_btf_data *btf;
	uint32_t root_type_id;
	uint32_t kind;
	struct accessor acc[BEE_CORE_SPEC_MAX_LEN];
	unsigned len;
	uint32_t raw[BEE_CORE_SPEC_MAX_LEN];
	unsigned raw_len;
	uint64_t bit_offset;
};

#define KIND_TYPE_MATCHES 12u /* BPF_CORE_TYPE_MATCHES, absent from older UAPI headers */

static bool kind_is_field(uint32_t k)
{
	return k <= BPF_CORE_FIELD_RSHIFT_U64;
}

static bool kind_is_type(uint32_t k)
{
	return k == BPF_CORE_TYPE_ID_LOCAL || k == BPF_CORE_TYPE_ID_TARGET ||
	       k == BPF_CORE_TYPE_EXISTS || k == BPF_CORE_TYPE_SIZE || k == KIND_TYPE_MATCHES;
}

static bool kind_is_enumval(uint32_t k)
{
	return k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_ENUMVAL_VALUE;
}

/* ---- BTF shorthands ---------------------------------------------------- */

static bool is_any_enum(const struct btf_type *t)
{
	unsigned k = bee_btf_kind(t);
	return k == BTF_KIND_ENUM || k == BEE_BTF_KIND_ENUM64;
}

static bool is_composite(const struct btf_type *t)
{
	unsigned k = bee_btf_kind(t);
	return k == BTF_KIND_STRUCT || k == BTF_KIND_UNION;
}

/* libbpf's btf_kind_core_compat(): same kind, or two enums of any width. */
static bool kinds_compat(const struct btf_type *a, const struct btf_type *b)
{
	return bee_btf_kind(a) == bee_btf_kind(b) || (is_any_enum(a) && is_any_enum(b));
}

/* Skip modifiers and typedefs; *id becomes the resulting id.  NULL when out of range. */
static const struct btf_type *skip_mt(const struct bee_btf_data *btf, uint32_t *id)
{
	*id = bee_btf_skip_modifiers_typedefs(btf, *id);
	return bee_btf_type_by_id(btf, *id);
}

static const char *str_or_empty(const struct bee_btf_data *btf, uint32_t off)
{
	const char *s = bee_btf_str(btf, off);
	return s ? s : "";
}

static uint32_t enum_name_off(const struct btf_type *t, unsigned i)
{
	return bee_btf_kind(t) == BTF_KIND_ENUM ? bee_btf_enums(t)[i].name_off
						: bee_btf_enums64(t)[i].name_off;
}

static unsigned int_encoding(const struct btf_type *t)
{
	return BTF_INT_ENCODING(bee_btf_int_data(t));
}

static unsigned int_offset(const struct btf_type *t)
{
	return BTF_INT_OFFSET(bee_btf_int_data(t));
}

/*
 * Length of a name without its flavor: "foo___v2" -> 3.  The separator
 * is the last "___" that has a non-underscore on both sides, so
 * "__u64" and "foo____bar"-style names keep their underscores.
 */
static size_t essential_name_len(const char *name)
{
	size_t n = strlen(name);
	if (n < 5)
		return n;
	for (size_t i = n - 5 + 1; i-- > 0;) {
		const char *s = name + i;
		if (s[0] != '_' && s[1] == '_' && s[2] == '_' && s[3] == '_' && s[4] != '_')
			return i + 1;
	}
	return n;
}

static bool essential_names_equal(const char *a, const char *b)
{
	size_t la = essential_name_len(a), lb = essential_name_len(b);
	return la == lb && !strncmp(a, b, la);
}

/* ---- spec parsing (local side) ----------------------------------------- */

static bool is_flex_array(const struct bee_btf_data *btf, const struct accessor *outer,
			  const struct btf_array *arr)
{
	/* Only a zero-sized array that is the last member of a struct. */
	if (!outer->name || arr->nelems > 0)
		return false;
	const struct btf_type *t = bee_btf_type_by_id(btf, outer->type_id);
	return t && outer->idx + 1u == bee_btf_vlen(t);
}

/* Returns 0, or -EINVAL / -E2BIG with *why set. */
static int parse_spec(const struct bee_btf_data *btf, uint32_t root, const char *str, uint32_t kind,
		      struct spec *spec, const char **why)
{
	memset(spec, 0, sizeof(*spec));
	spec->btf = btf;
	spec->root_type_id = root;
	spec->kind = kind;

	if (!str || !*str || *str == ':') {
		*why = "empty access string";
		return -EINVAL;
	}
	if (kind_is_type(kind)) {
		if (strcmp(str, "0")) {
			*why = "type relocation access string is not \"0\"";
			return -EINVAL;
		}
		return 0;
	}

	for (const char *p = str; *p;) {
		if (*p == ':')
			p++;
		if (*p < '0' || *p > '9') {
			*why = "access string is not a list of indexes";
			return -EINVAL;
		}
		uint64_t v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p++ - '0');
			if (v > INT_MAX) {
				*why = "access index out of range";
				return -EINVAL;
			}
		}
		if (*p && *p != ':') {
			*why = "access string is not a list of indexes";
			return -EINVAL;
		}
		if (spec->raw_len == BEE_CORE_SPEC_MAX_LEN) {
			*why = "access string too long";
			return -E2BIG;
		}
		spec->raw[spec->raw_len++] = (uint32_t)v;
	}

	uint32_t id = root;
	const struct btf_type *t = skip_mt(btf, &id);
	if (!t) {
		*why = "root type out of range";
		return -EINVAL;
	}
	struct accessor *acc = &spec->acc[0];
	acc->type_id = id;
	acc->idx = spec->raw[0];
	spec->len = 1;

	if (kind_is_enumval(kind)) {
		if (!is_any_enum(t) || spec->raw_len > 1 || acc->idx >= bee_btf_vlen(t)) {
			*why = "enum relocation does not name an enumerator";
			return -EINVAL;
		}
		acc->name = str_or_empty(btf, enum_name_off(t, acc->idx));
		return 0;
	}
	if (!kind_is_field(kind)) {
		*why = "unknown relocation kind";
		return -EINVAL;
	}

	long long sz = bee_btf_resolve_size(btf, id);
	if (sz < 0) {
		*why = "root type has no size";
		return -EINVAL;
	}
	spec->bit_offset = (uint64_t)acc->idx * (uint64_t)sz * 8;

	for (unsigned i = 1; i < spec->raw_len; i++) {
		t = skip_mt(btf, &id);
		if (!t) {
			*why = "type out of range";
			return -EINVAL;
		}
		uint32_t idx = spec->raw[i];
		acc = &spec->acc[spec->len];
		if (is_composite(t)) {
			if (idx >= bee_btf_vlen(t)) {
				*why = "member index out of range";
				return -EINVAL;
			}
			spec->bit_offset += bee_btf_member_bit_offset(t, idx);
			const struct btf_member *m = bee_btf_members(t) + idx;
			if (m->name_off) {
				const char *name = str_or_empty(btf, m->name_off);
				if (!*name) {
					*why = "member name is empty";
					return -EINVAL;
				}
				acc->type_id = id;
				acc->idx = idx;
				acc->name = name;
				spec->len++;
			}
			id = m->type;
		} else if (bee_btf_kind(t) == BTF_KIND_ARRAY) {
			const struct btf_array *a = bee_btf_array(t);
			bool flex = spec->len > 0 && is_flex_array(btf, &spec->acc[spec->len - 1], a);
			id = a->type;
			if (!skip_mt(btf, &id)) {
				*why = "array element type out of range";
				return -EINVAL;
			}
			if (!flex && idx >= a->nelems) {
				*why = "array index out of range";
				return -EINVAL;
			}
			acc->type_id = id;
			acc->idx = idx;
			acc->name = NULL;
			spec->len++;
			sz = bee_btf_resolve_size(btf, id);
			if (sz < 0) {
				*why = "array element has no size";
				return -EINVAL;
			}
			spec->bit_offset += (uint64_t)idx * (uint64_t)sz * 8;
		} else {
			*why = "access goes through a type that is neither struct, union nor array";
			return -EINVAL;
		}
	}
	return 0;
}

/* libbpf's bpf_core_format_spec(): "<kind> [id] struct foo.a.b[2] (0:1:3:2 @ offset 12)". */
static void format_spec(const struct spec *s, char *buf, size_t len)
{
	size_t n = 0;
#define APPEND(...)                                                                   \
	do {                                                                          \
		if (n < len) {                                                        \
			int w_ = snprintf(buf + n, len - n, __VA_ARGS__);             \
			n = w_ < 0 ? len : n + (size_t)w_;                            \
		}                                                                     \
	} while (0)
	const struct btf_type *t = bee_btf_type_by_id(s->btf, s->root_type_id);
	const char *name = bee_btf_name(s->btf, s->root_type_id);
	char kind[16];
	const char *ks = t ? bee_btf_kind_str(bee_btf_kind(t)) : "UNKN";
	size_t i;
	for (i = 0; ks[i] && i + 1 < sizeof(kind); i++)
		kind[i] = (char)(ks[i] >= 'A' && ks[i] <= 'Z' ? ks[i] - 'A' + 'a' : ks[i]);
	kind[i] = 0;
	APPEND("<%s> [%u] %s %s", bee_btf_core_relo_kind_str(s->kind), s->root_type_id, kind,
	       *name ? name : "<anon>");
	if (kind_is_type(s->kind) || !t || s->len == 0)
		return;
	if (kind_is_enumval(s->kind)) {
		uint32_t id = s->root_type_id;
		const struct btf_type *e = skip_mt(s->btf, &id);
		if (!e || !is_any_enum(e) || s->raw[0] >= bee_btf_vlen(e))
			return;
		struct bee_btf_enum_info ei;
		if (bee_btf_enum_value(s->btf, id, s->raw[0], &ei) == 0) {
			if (ei.is_signed)
				APPEND("::%s = %" PRId64, ei.name, (int64_t)ei.uval);
			else
				APPEND("::%s = %" PRIu64, ei.name, ei.uval);
		}
		return;
	}
	for (unsigned k = 0; k < s->len; k++) {
		if (s->acc[k].name)
			APPEND(".%s", s->acc[k].name);
		else if (k > 0 || s->acc[k].idx > 0)
			APPEND("[%u]", s->acc[k].idx);
	}
	APPEND(" (");
	for (unsigned k = 0; k < s->raw_len; k++)
		APPEND("%s%u", k ? ":" : "", s->raw[k]);
	if (s->bit_offset % 8)
		APPEND(" @ offset %" PRIu64 ".%u)", s->bit_offset / 8, (unsigned)(s->bit_offset % 8));
	else
		APPEND(" @ offset %" PRIu64 ")", s->bit_offset / 8);
#undef APPEND
}

/* ---- compatibility rules ----------------------------------------------- */

/*
 * Field types (libbpf's bpf_core_fields_are_compat()): any two composites
 * (their members are matched by the next accessors), pointers, floats;
 * enums and forward declarations by essential name (or one anonymous);
 * integers unless one is an old-style bitfield int (nonzero offset);
 * arrays by element type.  1 compatible, 0 not, <0 error.
 */
static int fields_compat(const struct bee_btf_data *lb, uint32_t lid, const struct bee_btf_data *tb,
			 uint32_t tid)
{
	for (int depth = 0; depth <= BEE_BTF_MAX_RESOLVE_DEPTH; depth++) {
		const struct btf_type *lt = skip_mt(lb, &lid), *tt = skip_mt(tb, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (is_composite(lt) && is_composite(tt))
			return 1;
		if (!kinds_compat(lt, tt))
			return 0;
		switch (bee_btf_kind(lt)) {
		case BTF_KIND_PTR:
		case BTF_KIND_FLOAT:
			return 1;
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM:
		case BEE_BTF_KIND_ENUM64: {
			const char *ln = str_or_empty(lb, lt->name_off), *tn = str_or_empty(tb, tt->name_off);
			return !*ln || !*tn || essential_names_equal(ln, tn);
		}
		case BTF_KIND_INT:
			return int_offset(lt) == 0 && int_offset(tt) == 0;
		case BTF_KIND_ARRAY:
			lid = bee_btf_array(lt)->type;
			tid = bee_btf_array(tt)->type;
			continue;
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Types for TYPE_EXISTS / TYPE_SIZE / TYPE_ID_TARGET (libbpf's
 * bpf_core_types_are_compat()): the root kinds agree; composites, enums
 * and forwards are compatible whatever their contents; integers unless
 * old-style bitfields; pointers and arrays by what they point to;
 * function prototypes parameter by parameter and by return type.
 */
static int types_compat(const struct bee_btf_data *lb, uint32_t lid, const struct bee_btf_data *tb,
			uint32_t tid, int level)
{
	const struct btf_type *lt = bee_btf_type_by_id(lb, lid), *tt = bee_btf_type_by_id(tb, tid);
	if (!lt || !tt)
		return -EINVAL;
	if (!kinds_compat(lt, tt))
		return 0;
	for (int depth = 0; depth <= BEE_BTF_MAX_RESOLVE_DEPTH; depth++) {
		lt = skip_mt(lb, &lid);
		tt = skip_mt(tb, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (!kinds_compat(lt, tt))
			return 0;
		switch (bee_btf_kind(lt)) {
		case BTF_KIND_UNKN:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BEE_BTF_KIND_ENUM64:
		case BTF_KIND_FWD:
			return 1;
		case BTF_KIND_INT:
			return int_offset(lt) == 0 && int_offset(tt) == 0;
		case BTF_KIND_PTR:
			lid = lt->type;
			tid = tt->type;
			continue;
		case BTF_KIND_ARRAY:
			lid = bee_btf_array(lt)->type;
			tid = bee_btf_array(tt)->type;
			continue;
		case BTF_KIND_FUNC_PROTO: {
			unsigned n = bee_btf_vlen(lt);
			if (n != bee_btf_vlen(tt))
				return 0;
			for (unsigned i = 0; i < n; i++) {
				if (level <= 0)
					return -EINVAL;
				uint32_t lp = bee_btf_skip_modifiers_typedefs(lb, bee_btf_params(lt)[i].type);
				uint32_t tp = bee_btf_skip_modifiers_typedefs(tb, bee_btf_params(tt)[i].type);
				int r = types_compat(lb, lp, tb, tp, level - 1);
				if (r <= 0)
					return r;
			}
			lid = lt->type;
			tid = tt->type;
			continue;
		}
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* libbpf's bpf_core_names_match(): an anonymous target only matches an anonymous local. */
static bool names_match(const struct bee_btf_data *lb, uint32_t loff, const struct bee_btf_data *tb,
			uint32_t toff)
{
	const char *ln = str_or_empty(lb, loff), *tn = str_or_empty(tb, toff);
	if (!*tn)
		return !*ln;
	return essential_names_equal(ln, tn);
}

static int types_match(const struct bee_btf_data *lb, uint32_t lid, const struct bee_btf_data *tb,
		       uint32_t tid, bool behind_ptr, int level);

/* Every local enumerator has a namesake in the target; sizes equal. */
static int enums_match(const struct bee_btf_data *lb, const struct btf_type *lt,
		       const struct bee_btf_data *tb, const struct btf_type *tt)
{
	unsigned ln = bee_btf_vlen(lt), tn = bee_btf_vlen(tt);
	if (lt->size != tt->size || ln > tn)
		return 0;
	for (unsigned i = 0; i < ln; i++) {
		bool found = false;
		for (unsigned j = 0; j < tn && !found; j++)
			found = names_match(lb, enum_name_off(lt, i), tb, enum_name_off(tt, j));
		if (!found)
			return 0;
	}
	return 1;
}

/* Every local member has a namesake in the target whose type matches. */
static int composites_match(const struct bee_btf_data *lb, const struct btf_type *lt,
			    const struct bee_btf_data *tb, const struct btf_type *tt, bool behind_ptr,
			    int level)
{
	unsigned ln = bee_btf_vlen(lt), tn = bee_btf_vlen(tt);
	if (ln > tn)
		return 0;
	for (unsigned i = 0; i < ln; i++) {
		const struct btf_member *lm = bee_btf_members(lt) + i;
		bool found = false;
		for (unsigned j = 0; j < tn && !found; j++) {
			const struct btf_member *tm = bee_btf_members(tt) + j;
			if (!names_match(lb, lm->name_off, tb, tm->name_off))
				continue;
			int r = types_match(lb, lm->type, tb, tm->type, behind_ptr, level - 1);
			if (r < 0)
				return r;
			found = r > 0;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * TYPE_MATCHES (libbpf's bpf_core_types_match()): names match after
 * modifiers and typedefs; integers of the same size and signedness;
 * enums whose local enumerators all exist in the target; composites
 * whose local members all exist with matching types, except behind a
 * pointer, where a struct, union or forward declaration of the same
 * kind is enough; pointers, arrays (same length) and prototypes
 * recursively.
 */
static int types_match(const struct bee_btf_data *lb, uint32_t lid, const struct bee_btf_data *tb,
		       uint32_t tid, bool behind_ptr, int level)
{
	if (level <= 0)
		return -EINVAL;
	for (int depth = 0; depth <= BEE_BTF_MAX_RESOLVE_DEPTH; depth++) {
		const struct btf_type *lt = skip_mt(lb, &lid), *tt = skip_mt(tb, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (!names_match(lb, lt->name_off, tb, tt->name_off))
			return 0;
		unsigned lk = bee_btf_kind(lt), tk = bee_btf_kind(tt);
		switch (lk) {
		case BTF_KIND_UNKN:
			return lk == tk;
		case BTF_KIND_FWD: {
			bool lf = bee_btf_kflag(lt);
			if (lk == tk)
				return lf == bee_btf_kflag(tt);
			if (!behind_ptr)
				return 0;
			/* A forward's kflag says union (1) or struct (0). */
			return (tk == BTF_KIND_STRUCT && !lf) || (tk == BTF_KIND_UNION && lf);
		}
		case BTF_KIND_ENUM:
		case BEE_BTF_KIND_ENUM64:
			if (!is_any_enum(tt))
				return 0;
			return enums_match(lb, lt, tb, tt);
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			if (behind_ptr) {
				if (lk == tk)
					return 1;
				if (tk != BTF_KIND_FWD)
					return 0;
				return (lk == BTF_KIND_UNION) == bee_btf_kflag(tt);
			}
			if (lk != tk)
				return 0;
			return composites_match(lb, lt, tb, tt, behind_ptr, level);
		case BTF_KIND_INT:
			if (lk != tk)
				return 0;
			return lt->size == tt->size &&
			       (int_encoding(lt) & BTF_INT_SIGNED) == (int_encoding(tt) & BTF_INT_SIGNED);
		case BTF_KIND_PTR:
			if (lk != tk)
				return 0;
			behind_ptr = true;
			lid = lt->type;
			tid = tt->type;
			continue;
		case BTF_KIND_ARRAY:
			if (lk != tk || bee_btf_array(lt)->nelems != bee_btf_array(tt)->nelems)
				return 0;
			lid = bee_btf_array(lt)->type;
			tid = bee_btf_array(tt)->type;
			continue;
		case BTF_KIND_FUNC_PROTO: {
			unsigned n = bee_btf_vlen(lt);
			if (lk != tk || n != bee_btf_vlen(tt))
				return 0;
			for (unsigned i = 0; i < n; i++) {
				int r = types_match(lb, bee_btf_params(lt)[i].type, tb,
						    bee_btf_params(tt)[i].type, behind_ptr, level - 1);
				if (r <= 0)
					return r;
			}
			lid = lt->type;
			tid = tt->type;
			continue;
		}
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- matching a local spec against one candidate ----------------------- */

/*
 * Find the member the local accessor names in target composite tid,
 * descending into anonymous members; on success the target spec gains
 * the raw indexes of the path and one accessor, and *next is the
 * member's type.  1 found (and compatible), 0 not, <0 error.
 */
static int match_member(const struct bee_btf_data *lb, const struct accessor *lacc,
			const struct bee_btf_data *tb, uint32_t tid, struct spec *ts, uint32_t *next,
			int depth)
{
	if (depth > BEE_CORE_SPEC_MAX_LEN)
		return -E2BIG;
	const struct btf_type *tt = skip_mt(tb, &tid);
	if (!tt)
		return -EINVAL;
	if (!is_composite(tt))
		return 0;
	const struct btf_type *lt = bee_btf_type_by_id(lb, lacc->type_id);
	const struct btf_member *lm = bee_btf_members(lt) + lacc->idx;
	unsigned n = bee_btf_vlen(tt);
	for (unsigned i = 0; i < n; i++) {
		const struct btf_member *m = bee_btf_members(tt) + i;
		uint32_t bit_off = bee_btf_member_bit_offset(tt, i);
		if (ts->raw_len == BEE_CORE_SPEC_MAX_LEN)
			return -E2BIG;
		/* Assume this member is the one; undo below if not. */
		ts->bit_offset += bit_off;
		ts->raw[ts->raw_len++] = i;
		const char *tn = str_or_empty(tb, m->name_off);
		if (!*tn) {
			int r = match_member(lb, lacc, tb, m->type, ts, next, depth + 1);
			if (r)
				return r;
		} else if (!strcmp(lacc->name, tn)) {
			struct accessor *tacc = &ts->acc[ts->len++];
			tacc->type_id = tid;
			tacc->idx = i;
			tacc->name = tn;
			*next = m->type;
			int r = fields_compat(lb, lm->type, tb, m->type);
			if (r <= 0)
				ts->len--;
			return r;
		}
		ts->bit_offset -= bit_off;
		ts->raw_len--;
	}
	return 0;
}

/* 1 when local spec ls matches target type tid (ts filled), 0 when not, <0 on error. */
static int spec_match(const struct spec *ls, const struct bee_btf_data *tb, uint32_t tid,
		      struct spec *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->btf = tb;
	ts->root_type_id = tid;
	ts->kind = ls->kind;

	if (kind_is_type(ls->kind)) {
		if (ls->kind == KIND_TYPE_MATCHES)
			return types_match(ls->btf, ls->root_type_id, tb, tid, false, 32);
		return types_compat(ls->btf, ls->root_type_id, tb, tid, 32);
	}

	if (kind_is_enumval(ls->kind)) {
		const struct btf_type *tt = skip_mt(tb, &tid);
		if (!tt || !is_any_enum(tt))
			return 0;
		for (unsigned i = 0; i < bee_btf_vlen(tt); i++) {
			const char *tn = str_or_empty(tb, enum_name_off(tt, i));
			if (essential_names_equal(ls->acc[0].name, tn)) {
				ts->acc[0] = (struct accessor){.type_id = tid, .idx = i, .name = tn};
				ts->len = 1;
				ts->raw[0] = i;
				ts->raw_len = 1;
				return 1;
			}
		}
		return 0;
	}

	if (!kind_is_field(ls->kind))
		return -EINVAL;

	for (unsigned i = 0; i < ls->len; i++) {
		const struct accessor *lacc = &ls->acc[i];
		const struct btf_type *tt = skip_mt(tb, &tid);
		if (!tt)
			return -EINVAL;
		if (lacc->name) {
			int r = match_member(ls->btf, lacc, tb, tid, ts, &tid, 0);
			if (r <= 0)
				return r;
			continue;
		}
		/* The first accessor indexes the root itself; later ones need an array. */
		if (i > 0) {
			if (bee_btf_kind(tt) != BTF_KIND_ARRAY)
				return 0;
			const struct btf_array *a = bee_btf_array(tt);
			bool flex = ts->len > 0 && is_flex_array(tb, &ts->acc[ts->len - 1], a);
			if (!flex && lacc->idx >= a->nelems)
				return 0;
			tid = a->type;
			if (!skip_mt(tb, &tid))
				return -EINVAL;
		}
		if (ts->raw_len == BEE_CORE_SPEC_MAX_LEN || ts->len == BEE_CORE_SPEC_MAX_LEN)
			return -E2BIG;
		ts->acc[ts->len++] = (struct accessor){.type_id = tid, .idx = lacc->idx, .name = NULL};
		ts->raw[ts->raw_len++] = lacc->idx;
		long long sz = bee_btf_resolve_size(tb, tid);
		if (sz < 0)
			return -EINVAL;
		ts->bit_offset += (uint64_t)lacc->idx * (uint64_t)sz * 8;
	}
	return 1;
}

/* ---- values ------------------------------------------------------------ */

struct value {
	uint64_t val;
	uint32_t size;    /* load size for a plain field */
	uint32_t type_id; /* the field's type, for load-size checks */
	bool validate;
};

/*
 * A field relocation's value from a spec (NULL: no target matched).
 * Returns 0, -EUCLEAN to ask for poisoning, or -EINVAL/-E2BIG with *why.
 */
static int field_value(uint32_t kind, const struct spec *s, struct value *v, const char **why)
{
	v->size = 0;
	v->type_id = 0;
	if (kind == BPF_CORE_FIELD_EXISTS) {
		v->val = s != NULL;
		return 0;
	}
	if (!s) {
		*why = "field not found in target BTF";
		return -EUCLEAN;
	}
	const struct accessor *acc = &s->acc[s->len - 1];
	if (!acc->name) {
		/* The access ends on an array element (or the root itself). */
		long long sz = bee_btf_resolve_size(s->btf, acc->type_id);
		if (sz < 0) {
			*why = "accessed element has no size";
			return -EINVAL;
		}
		if (kind == BPF_CORE_FIELD_BYTE_OFFSET) {
			v->val = s->bit_offset / 8;
			v->size = (uint32_t)sz;
			v->type_id = acc->type_id;
		} else if (kind == BPF_CORE_FIELD_BYTE_SIZE) {
			v->val = (uint64_t)sz;
		} else {
			*why = "relocation kind can't be applied to an array access";
			return -EINVAL;
		}
		v->validate = true;
		return 0;
	}

	const struct btf_type *t = bee_btf_type_by_id(s->btf, acc->type_id);
	const struct btf_member *m = bee_btf_members(t) + acc->idx;
	uint32_t ftype = m->type;
	const struct btf_type *mt = skip_mt(s->btf, &ftype);
	uint64_t bit_off = s->bit_offset;
	uint64_t bit_sz = bee_btf_member_bitfield_size(t, acc->idx);
	uint64_t byte_off, byte_sz;
	bool bitfield = bit_sz > 0;
	if (bitfield) {
		/* The smallest naturally aligned load, starting from the field's declared size. */
		byte_sz = mt->size;
		if (byte_sz == 0) {
			*why = "bitfield of a type without size";
			return -EINVAL;
		}
		byte_off = bit_off / 8 / byte_sz * byte_sz;
		while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8) {
				*why = "bitfield can't be read with a 64-bit load";
				return -E2BIG;
			}
			byte_sz *= 2;
			byte_off = bit_off / 8 / byte_sz * byte_sz;
		}
	} else {
		long long sz = bee_btf_resolve_size(s->btf, ftype);
		if (sz < 0) {
			*why = "field has no size";
			return -EINVAL;
		}
		byte_sz = (uint64_t)sz;
		byte_off = bit_off / 8;
		bit_sz = byte_sz * 8;
	}
	/* Bitfield layouts are the compiler's choice: only signedness and rshift are certain. */
	v->validate = !bitfield;
	switch (kind) {
	case BPF_CORE_FIELD_BYTE_OFFSET:
		v->val = byte_off;
		if (!bitfield) {
			v->size = (uint32_t)byte_sz;
			v->type_id = ftype;
		}
		return 0;
	case BPF_CORE_FIELD_BYTE_SIZE:
		v->val = byte_sz;
		return 0;
	case BPF_CORE_FIELD_SIGNED:
		v->val = (is_any_enum(mt) && bee_btf_kflag(mt)) ||
			 (bee_btf_kind(mt) == BTF_KIND_INT && (int_encoding(mt) & BTF_INT_SIGNED));
		v->validate = true;
		return 0;
	case BPF_CORE_FIELD_LSHIFT_U64:
		/* Little-endian: bring the field's top bit to bit 63 of the u64 load. */
		v->val = 64 - (bit_off + bit_sz - byte_off * 8);
		return 0;
	case BPF_CORE_FIELD_RSHIFT_U64:
		v->val = 64 - bit_sz;
		v->validate = true;
		return 0;
	default:
		*why = "unknown field relocation kind";
		return -EOPNOTSUPP;
	}
}

static int type_value(uint32_t kind, const struct spec *s, struct value *v, const char **why)
{
	memset(v, 0, sizeof(*v));
	v->validate = true;
	if (!s)
		return 0; /* type-based relocations are 0 when the type is missing */
	switch (kind) {
	case BPF_CORE_TYPE_ID_TARGET:
		v->val = s->root_type_id;
		v->validate = false; /* ids move when objects are linked */
		return 0;
	case BPF_CORE_TYPE_EXISTS:
	case KIND_TYPE_MATCHES:
		v->val = 1;
		return 0;
	case BPF_CORE_TYPE_SIZE: {
		long long sz = bee_btf_resolve_size(s->btf, s->root_type_id);
		if (sz < 0) {
			*why = "type has no size";
			return -EINVAL;
		}
		v->val = (uint64_t)sz;
		return 0;
	}
	default:
		*why = "unknown type relocation kind";
		return -EOPNOTSUPP;
	}
}

static int enum_value(uint32_t kind, const struct spec *s, struct value *v, const char **why)
{
	memset(v, 0, sizeof(*v));
	v->validate = true;
	if (kind == BPF_CORE_ENUMVAL_EXISTS) {
		v->val = s != NULL;
		return 0;
	}
	if (kind != BPF_CORE_ENUMVAL_VALUE) {
		*why = "unknown enum relocation kind";
		return -EOPNOTSUPP;
	}
	if (!s) {
		*why = "enumerator not found in target BTF";
		return -EUCLEAN;
	}
	const struct btf_type *t = bee_btf_type_by_id(s->btf, s->acc[0].type_id);
	if (bee_btf_kind(t) == BTF_KIND_ENUM)
		v->val = (uint64_t)(int64_t)bee_btf_enums(t)[s->acc[0].idx].val; /* s32, as libbpf */
	else
		v->val = bee_btf_enum64_value(bee_btf_enums64(t) + s->acc[0].idx);
	return 0;
}

/*
 * libbpf's bpf_core_calc_relo(): values from the local spec and from the
 * target spec (NULL when no candidate matched).
 */
static int calc_relo(uint32_t kind, const struct spec *ls, const struct spec *ts,
		     struct bee_core_result *res, const char **why)
{
	struct value lv = {.validate = true}, tv = {.validate = true};
	int ret;
	res->poison = false;
	res->fail_memsz_adjust = false;
	if (kind_is_field(kind)) {
		ret = field_value(kind, ls, &lv, why);
		if (!ret)
			ret = field_value(kind, ts, &tv, why);
		if (!ret && lv.size != tv.size) {
			/*
			 * A load of a different size reads the same value only
			 * for pointers (a 32-bit target's, zero-extended) and
			 * unsigned integers; anything else poisons LDX/ST/STX.
			 */
			const struct btf_type *lt = bee_btf_type_by_id(ls->btf, lv.type_id);
			const struct btf_type *tt = bee_btf_type_by_id(ts->btf, tv.type_id);
			bool ok = lt && tt &&
				  ((bee_btf_kind(lt) == BTF_KIND_PTR && bee_btf_kind(tt) == BTF_KIND_PTR) ||
				   (bee_btf_kind(lt) == BTF_KIND_INT && bee_btf_kind(tt) == BTF_KIND_INT &&
				    !(int_encoding(lt) & BTF_INT_SIGNED) &&
				    !(int_encoding(tt) & BTF_INT_SIGNED)));
			res->fail_memsz_adjust = !ok;
		}
	} else if (kind_is_type(kind)) {
		ret = type_value(kind, ls, &lv, why);
		if (!ret)
			ret = type_value(kind, ts, &tv, why);
	} else if (kind_is_enumval(kind)) {
		ret = enum_value(kind, ls, &lv, why);
		if (!ret)
			ret = enum_value(kind, ts, &tv, why);
	} else {
		*why = "unknown relocation kind";
		ret = -EOPNOTSUPP;
	}
	res->orig_value = lv.val;
	res->value = tv.val;
	res->orig_size = lv.size;
	res->new_size = tv.size;
	res->orig_type_id = lv.type_id;
	res->new_type_id = tv.type_id;
	res->validate = lv.validate;
	if (ret == -EUCLEAN) {
		res->poison = true;
		res->value = 0;
		snprintf(res->reason, sizeof(res->reason), "%s", *why);
		ret = 0;
	}
	return ret;
}

/* ---- resolve ----------------------------------------------------------- */

int bee_core_relo_resolve(const struct bee_btf_core_relo *relo, const struct bee_btf_data *local,
			  const struct bee_btf_data *target, struct bee_core_result *res,
			  struct bee_error *err)
{
	memset(res, 0, sizeof(*res));
	long insn_idx = (long)(relo->insn_off / 8);
	const char *access = relo->access ? relo->access : "";
	const struct btf_type *lt = bee_btf_type_by_id(local, relo->type_id);
	if (!lt || relo->type_id == 0)
		return bee_error_set(err, -EINVAL, insn_idx, 0, 0,
				     "CO-RE relocation %s: local type [%u] out of range",
				     bee_btf_core_relo_kind_str(relo->kind), relo->type_id);
	if (!kind_is_field(relo->kind) && !kind_is_type(relo->kind) && !kind_is_enumval(relo->kind))
		return bee_error_set(err, -EOPNOTSUPP, insn_idx, 0, 0,
				     "unrecognized CO-RE relocation kind %u for [%u] %s", relo->kind,
				     relo->type_id, bee_btf_name(local, relo->type_id));

	/* Local spec, the candidate being tried, the first that matched (~2 KiB each). */
	struct spec specs[3];
	struct spec *ls = &specs[0], *cand = &specs[1], *best = &specs[2];
	const char *why = "";
	int ret = parse_spec(local, relo->type_id, access, relo->kind, ls, &why);
	if (ret)
		return bee_error_set(err, ret, insn_idx, 0, 0,
				     "CO-RE relocation <%s> [%u] %s %s + %s: %s",
				     bee_btf_core_relo_kind_str(relo->kind), relo->type_id,
				     bee_btf_kind_str(bee_btf_kind(lt)), bee_btf_name(local, relo->type_id),
				     access, why);
	format_spec(ls, res->desc, sizeof(res->desc));

	if (relo->kind == BPF_CORE_TYPE_ID_LOCAL) {
		/* The local id needs no target (it is the id the loaded BTF keeps). */
		res->orig_value = res->value = relo->type_id;
		res->validate = false;
		res->exists = true;
		return 0;
	}

	const char *lname = bee_btf_name(local, relo->type_id);
	if (!*lname)
		return bee_error_set(err, -EOPNOTSUPP, insn_idx, 0, 0,
				     "CO-RE relocation %s: anonymous local types are not supported",
				     res->desc);
	if (!target)
		return bee_error_set(err, -EINVAL, insn_idx, 0, 0,
				     "CO-RE relocation %s: no target BTF", res->desc);

	size_t lessent = essential_name_len(lname);
	uint32_t count = bee_btf_type_count(target);
	unsigned matched = 0, named = 0;
	for (uint32_t id = 1; id < count; id++) {
		const struct btf_type *tt = bee_btf_type_by_id(target, id);
		if (!tt || !kinds_compat(lt, tt))
			continue;
		const char *tn = str_or_empty(target, tt->name_off);
		if (!*tn || essential_name_len(tn) != lessent || strncmp(lname, tn, lessent))
			continue;
		named++;

		ret = spec_match(ls, target, id, cand);
		if (ret < 0)
			return bee_error_set(err, ret, insn_idx, 0, 0,
					     "CO-RE relocation %s: error matching candidate [%u] %s",
					     res->desc, id, tn);
		if (ret == 0)
			continue;

		struct bee_core_result r;
		memset(&r, 0, sizeof(r));
		ret = calc_relo(relo->kind, ls, cand, &r, &why);
		if (ret)
			return bee_error_set(err, ret, insn_idx, 0, 0, "CO-RE relocation %s: %s",
					     res->desc, why);
		if (matched == 0) {
			memcpy(r.desc, res->desc, sizeof(r.desc));
			*res = r;
			res->target_type_id = id;
			*best = *cand;
		} else if (cand->bit_offset != best->bit_offset) {
			return bee_error_set(err, -EINVAL, insn_idx, 0, 0,
					     "CO-RE relocation %s: field offset ambiguity: "
					     "%" PRIu64 " != %" PRIu64 " ([%u] %s, [%u] %s)",
					     res->desc, best->bit_offset / 8, cand->bit_offset / 8,
					     res->target_type_id,
					     bee_btf_name(target, res->target_type_id), id, tn);
		} else if (r.poison != res->poison || r.value != res->value) {
			return bee_error_set(err, -EINVAL, insn_idx, 0, 0,
					     "CO-RE relocation %s: relocation decision ambiguity: "
					     "%s%" PRIu64 " != %s%" PRIu64 " ([%u] %s, [%u] %s)",
					     res->desc, res->poison ? "poison " : "", res->value,
					     r.poison ? "poison " : "", r.value, res->target_type_id,
					     bee_btf_name(target, res->target_type_id), id, tn);
		}
		matched++;
	}

	if (matched) {
		res->exists = true;
		return 0;
	}
	/* No candidate: *_EXISTS and type kinds give 0, the rest poison. */
	char desc[sizeof(res->desc)];
	memcpy(desc, res->desc, sizeof(desc));
	ret = calc_relo(relo->kind, ls, NULL, res, &why);
	memcpy(res->desc, desc, sizeof(desc));
	res->exists = false;
	if (ret)
		return bee_error_set(err, ret, insn_idx, 0, 0, "CO-RE relocation %s: %s", res->desc,
				     why);
	if (res->poison && named == 0)
		snprintf(res->reason, sizeof(res->reason), "no %s named %.*s in target BTF",
			 bee_btf_kind_str(bee_btf_kind(lt)), (int)lessent, lname);
	return 0;
}

/* ---- patch ------------------------------------------------------------- */

static bool is_lddw(const struct bpf_insn *insn)
{
	return insn->code == (BPF_LD | BPF_IMM | BPF_DW);
}

static int poison(struct bpf_insn *insn, size_t n, long idx, const struct bee_btf_core_relo *relo,
		  const struct bee_core_result *res, const char *reason, struct bee_error *err)
{
	if (is_lddw(insn)) {
		if (n < 2)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: lddw without its second slot",
					     res->desc);
		/* The second slot too, or the verifier reports "unknown opcode 00". */
		insn[1] = (struct bpf_insn){.code = BPF_JMP | BPF_CALL, .imm = BEE_CORE_POISON_HELPER};
	}
	insn[0] = (struct bpf_insn){.code = BPF_JMP | BPF_CALL, .imm = BEE_CORE_POISON_HELPER};
	/* Field specs show the access string already; the others get it appended. */
	bool field = kind_is_field(relo->kind);
	bee_error_set(err, 0, idx, 0, 0,
		      "CO-RE relocation %s%s%s%s: %s: instruction poisoned (call 0xbad2310)",
		      res->desc, field ? "" : " (access ", field ? "" : (relo->access ? relo->access : ""),
		      field ? "" : ")", reason);
	return 1;
}

static int size_to_bytes(unsigned sz)
{
	switch (sz) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

static int bytes_to_size(uint32_t bytes)
{
	switch (bytes) {
	case 1:
		return BPF_B;
	case 2:
		return BPF_H;
	case 4:
		return BPF_W;
	case 8:
		return BPF_DW;
	default:
		return -1;
	}
}

int bee_core_relo_patch(struct bpf_insn *insn, size_t n, const struct bee_btf_core_relo *relo,
			const struct bee_core_result *res, struct bee_error *err)
{
	long idx = (long)(relo->insn_off / 8);
	if (relo->insn_off % 8)
		return bee_error_set(err, -EINVAL, -1, 0, 0,
				     "CO-RE relocation %s: instruction offset %u is not a multiple of 8",
				     res->desc, relo->insn_off);
	if (!insn || n == 0)
		return bee_error_set(err, -EINVAL, idx, 0, 0,
				     "CO-RE relocation %s: instruction %ld is outside the program",
				     res->desc, idx);
	if (res->poison)
		return poison(insn, n, idx, relo, res, res->reason[0] ? res->reason : "unresolvable", err);

	uint64_t orig = res->orig_value, val = res->value;
	switch (BPF_CLASS(insn->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		if (BPF_SRC(insn->code) != BPF_K)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: ALU instruction has no immediate",
					     res->desc);
		if (res->validate && (uint64_t)(int64_t)insn->imm != orig)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: unexpected ALU value: got %u, "
					     "expected %" PRIu64 " -> %" PRIu64,
					     res->desc, (uint32_t)insn->imm, orig, val);
		/* libbpf truncates silently; an enum64 value that does not fit is refused. */
		if (val > UINT32_MAX && ((int64_t)val >= 0 || (int64_t)val < INT32_MIN))
			return bee_error_set(err, -ERANGE, idx, 0, 0,
					     "CO-RE relocation %s: value %" PRIu64
					     " does not fit a 32-bit immediate",
					     res->desc, val);
		insn->imm = (int32_t)(uint32_t)val;
		return 0;
	case BPF_LDX:
	case BPF_ST:
	case BPF_STX: {
		if (BPF_MODE(insn->code) != BPF_MEM)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: memory instruction 0x%02x is not BPF_MEM",
					     res->desc, insn->code);
		if (res->validate && (uint64_t)(int64_t)insn->off != orig)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: unexpected LDX/ST/STX offset: got %d, "
					     "expected %" PRIu64 " -> %" PRIu64,
					     res->desc, insn->off, orig, val);
		if (val > INT16_MAX)
			return bee_error_set(err, -ERANGE, idx, 0, 0,
					     "CO-RE relocation %s: offset %" PRIu64
					     " does not fit the instruction's 16-bit offset",
					     res->desc, val);
		if (res->fail_memsz_adjust)
			return poison(insn, n, idx, relo, res,
				      "the field's size changed and it is neither a pointer nor an "
				      "unsigned integer",
				      err);
		if (res->new_size != res->orig_size) {
			int have = size_to_bytes(BPF_SIZE(insn->code));
			if ((uint32_t)have != res->orig_size)
				return bee_error_set(err, -EINVAL, idx, 0, 0,
						     "CO-RE relocation %s: unexpected access size %d, "
						     "expected %u",
						     res->desc, have, res->orig_size);
			int sz = bytes_to_size(res->new_size);
			if (sz < 0)
				return bee_error_set(err, -EINVAL, idx, 0, 0,
						     "CO-RE relocation %s: invalid new access size %u",
						     res->desc, res->new_size);
			insn->code = (uint8_t)(BPF_CLASS(insn->code) | BPF_MODE(insn->code) | (unsigned)sz);
		}
		insn->off = (int16_t)val;
		return 0;
	}
	case BPF_LD: {
		if (!is_lddw(insn) || n < 2 || insn[0].src_reg || insn[0].off || insn[1].code ||
		    insn[1].dst_reg || insn[1].src_reg || insn[1].off)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: lddw has an unexpected form",
					     res->desc);
		uint64_t imm = (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32);
		if (res->validate && imm != orig)
			return bee_error_set(err, -EINVAL, idx, 0, 0,
					     "CO-RE relocation %s: unexpected lddw value: got %" PRIu64
					     ", expected %" PRIu64 " -> %" PRIu64,
					     res->desc, imm, orig, val);
		insn[0].imm = (int32_t)(uint32_t)val;
		insn[1].imm = (int32_t)(uint32_t)(val >> 32);
		return 0;
	}
	default:
		return bee_error_set(err, -EINVAL, idx, 0, 0,
				     "CO-RE relocation %s: can't relocate instruction code 0x%02x "
				     "(dst r%u src r%u off %d imm %d)",
				     res->desc, insn->code, insn->dst_reg, insn->src_reg, insn->off,
				     insn->imm);
	}
}
