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
 * C: the header `bpftool btf dump file X format c` prints, byte for
 * byte (bpftool 7.1, libbpf 1.1's btf_dump), from the observable rules:
 *
 *  Ordering.  Types are taken in id order.  For each, a depth-first walk
 *  (order_type) queues every definition it needs that is not queued yet,
 *  dependencies first, then the queue is printed (emit_type):
 *   - a struct/union needs its members' types complete, so a member's
 *     named struct is queued before it; behind a pointer a named struct
 *     is not a dependency at all (a forward declaration will do), an
 *     anonymous one is walked like its user's own members;
 *   - a typedef is queued after what it names; reached through a pointer
 *     it is queued only if what it names is "strong" (itself queued or
 *     defined), else it waits to be printed where it is first used;
 *   - enums (and named FWDs) are queued where met, even behind pointers;
 *     anonymous structs, unions and enums print inline, except an enum
 *     nothing refers to (a return type does not count), printed alone;
 *     an anonymous struct nothing refers to is not printed;
 *   - a pointer is marked walked only after its target, so the first walk
 *     through it answers as its target does and later ones as "strong".
 *  Forward declarations.  Printing a struct first visits its members'
 *  types: a named struct reached there (through pointers, prototypes,
 *  arrays) that is not printed yet gets "struct Y;" just before, once,
 *  unless it is the struct being defined itself.  A named FWD prints
 *  "struct Y;" wherever it is met first.  A typedef met again while what
 *  it names is being printed (a cycle through a pointer) is printed right
 *  there; printing a typedef first declares a struct it names.
 *  Names.  A name's "___N" suffix (the Nth distinct type printing it in
 *  that C namespace: tags, or typedefs plus enumerators) is fixed when it
 *  first prints, so numbering follows the output, not the ids.
 *  Declarators.  Built from the base outwards over the chain of pointers,
 *  qualifiers, arrays and prototypes: qualifiers next to the base print
 *  before it, innermost first ("volatile const int"), others after a
 *  pointer with a space ("char * restrict p"); an array or prototype
 *  parenthesises the rest ("int (*f)(void)", "struct t * (*g)(void)");
 *  qualifiers on arrays and prototypes are dropped; type tags print as
 *  __attribute__((btf_type_tag("x"))).
 *  Layout.  A struct whose members or size break natural alignment is
 *  __attribute__((packed)); gaps get libbpf's padding: a zero-width
 *  (or, in a bitfield run, partial) marker of the widest type whose
 *  boundary fits, then whole "long: 64;" units and a smallest-type tail.
 *  The one deliberate difference: an enum whose BTF size C would not pick
 *  (1 byte; 2; 8 with 32-bit values) gets __attribute__((mode(...))), as
 *  newer bpftool does for 1 byte, so the header keeps the layout.  On a
 *  loop C cannot express (only crafted BTF has one) bpftool stops; bee
 *  prints the rest.  Depth and work limits bound every walk.
 * FUNC, VAR, DATASEC and DECL_TAG are not declarations bpftool prints.
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

enum { ORD_NONE, ORD_ORDERING, ORD_DONE };
enum { EM_NONE, EM_EMITTING, EM_DONE };

/* Per type: where the two walks stand, and cached facts. */
struct ctype {
	uint8_t order;      /* ORD_*: the dependency walk */
	uint8_t emit;       /* EM_*: the printing walk */
	uint8_t align;      /* alignment + 1, 0 when not computed yet */
	bool fwd_emitted;   /* "struct X;" is out (for a typedef: its definition is) */
	bool referenced;    /* another type names it (a return type does not count) */
	bool name_done;     /* its printed name is fixed: names[] or the BTF's */
	bool body_open;     /* its body is being printed (a loop only hostile BTF has) */
};

struct name_count {
	const char *name;
	uint32_t count;
};

/* A C namespace: how many distinct things took each name so far. */
struct namespace {
	struct name_count *slots;
	uint32_t mask, used;
};

struct cdump {
	const struct bee_btf_data *btf;
	FILE *out;
	uint32_t n;
	struct ctype *st;
	char **names;                 /* a printed name with a "___N" suffix, else NULL */
	struct namespace tags, idents; /* struct/union/enum tags; typedefs and enumerators */
	uint32_t *queue, nqueue, queue_cap; /* one top-level type's definitions, in order */
	uint32_t *stack, nstack, stack_cap; /* declarator chains, innermost last */
	uint64_t work, work_limit;    /* bounds every walk on hostile BTF */
};

/*
 * Limits that validated BTF never reaches (its non-pointer chains stop at
 * 32) but crafted BTF could, through pointers: recursion depth of the
 * walks, nesting of inline bodies, and length of one declarator chain.
 */
#define WALK_MAX_DEPTH 256
#define PRINT_MAX_DEPTH 64
#define CHAIN_MAX 128
#define PTR_BITS 64 /* BPF and x86-64: "long" pads a pointer's worth */

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int ns_init(struct namespace *ns)
{
	ns->mask = 255;
	ns->used = 0;
	ns->slots = calloc(ns->mask + 1, sizeof(*ns->slots));
	return ns->slots ? 0 : -ENOMEM;
}

static struct name_count *ns_slot(struct namespace *ns, const char *name)
{
	uint32_t i = str_hash(name) & ns->mask;
	while (ns->slots[i].name && strcmp(ns->slots[i].name, name))
		i = (i + 1) & ns->mask;
	return &ns->slots[i];
}

static void ns_grow(struct namespace *ns)
{
	struct namespace bigger = {.mask = ns->mask * 2 + 1, .used = ns->used};
	bigger.slots = calloc(bigger.mask + 1, sizeof(*bigger.slots));
	if (!bigger.slots)
		return; /* keep filling the old table; ns_count() stops before it is full */
	for (uint32_t i = 0; i <= ns->mask; i++)
		if (ns->slots[i].name)
			*ns_slot(&bigger, ns->slots[i].name) = ns->slots[i];
	free(ns->slots);
	*ns = bigger;
}

/* How many distinct things took name, counting this one (libbpf's dup count). */
static uint32_t ns_count(struct namespace *ns, const char *name)
{
	if (ns->used * 2 >= ns->mask)
		ns_grow(ns);
	struct name_count *slot = ns_slot(ns, name);
	if (!slot->name) {
		if (ns->used >= ns->mask)
			return 1; /* out of memory and full: leave the name alone */
		slot->name = name;
		ns->used++;
	}
	return ++slot->count;
}

static const struct btf_type *T(struct cdump *d, uint32_t id)
{
	return id < d->n ? bee_btf_type_by_id(d->btf, id) : NULL;
}

static unsigned K(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	return t ? bee_btf_kind(t) : BTF_KIND_UNKN;
}

static const char *str_at(struct cdump *d, uint32_t off)
{
	const char *s = off ? bee_btf_str(d->btf, off) : "";
	return s ? s : "";
}

static bool is_mod(unsigned k)
{
	return k == BTF_KIND_CONST || k == BTF_KIND_VOLATILE || k == BTF_KIND_RESTRICT ||
	       k == BTF_KIND_TYPE_TAG;
}

static bool is_composite(unsigned k)
{
	return k == BTF_KIND_STRUCT || k == BTF_KIND_UNION;
}

/* One work unit; false once the budget is spent (then walks stop short). */
static bool spend(struct cdump *d)
{
	return ++d->work <= d->work_limit;
}

/*
 * The name a type prints with, fixed the first time it is printed: the
 * Nth distinct type to print a taken name gets "name___N", so numbering
 * follows the output, as in libbpf.  Forward declarations and enum
 * forwards keep their name and take no number.
 */
static const char *resolve_name(struct cdump *d, uint32_t id, struct namespace *ns)
{
	const struct btf_type *t = T(d, id);
	if (!t || !t->name_off)
		return "";
	const char *orig = str_at(d, t->name_off);
	struct ctype *s = &d->st[id];
	if (!s->name_done) {
		s->name_done = true;
		unsigned k = bee_btf_kind(t);
		if (k == BTF_KIND_FWD || (k == BTF_KIND_ENUM && !bee_btf_vlen(t)))
			return orig;
		uint32_t dups = ns_count(ns, orig);
		if (dups > 1) {
			size_t len = strlen(orig) + 16;
			d->names[id] = malloc(len);
			if (d->names[id])
				snprintf(d->names[id], len, "%s___%u", orig, dups);
		}
	}
	return d->names[id] ? d->names[id] : orig;
}

static const char *tag_name(struct cdump *d, uint32_t id)
{
	return resolve_name(d, id, &d->tags);
}

static const char *ident_name(struct cdump *d, uint32_t id)
{
	return resolve_name(d, id, &d->idents);
}

static int push_u32(uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t v)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		uint32_t *a = realloc(*arr, c * sizeof(**arr));
		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = c;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

/* ---- ordering ------------------------------------------------------------ */

/*
 * Depth-first walk from one type: queue, after everything it needs, each
 * definition not printed yet.  Returns <0 on a loop C cannot express, 1
 * when the type is "strong" (a user needs it complete or defined first)
 * and 0 when a forward declaration will do (a named struct behind a
 * pointer, and typedefs of such).  A pointer is marked ordered only after
 * its target's walk, so the first walk through it reports the target's
 * answer and later ones report 1: libbpf's order, kept as it is because
 * typedefs reached through pointers depend on it.
 */
static int order_type(struct cdump *d, uint32_t id, bool through_ptr, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t)
		return -EINVAL;
	struct ctype *s = &d->st[id];
	if (s->order == ORD_DONE)
		return 1;
	unsigned k = bee_btf_kind(t);
	if (s->order == ORD_ORDERING)
		/* A struct met again behind a pointer: "struct X;" breaks the loop. */
		return is_composite(k) && through_ptr && t->name_off ? 0 : -ELOOP;
	if (depth > WALK_MAX_DEPTH || !spend(d))
		return -ELOOP;
	int err;
	switch (k) {
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
		s->order = ORD_DONE;
		return 0;
	case BTF_KIND_PTR:
		err = order_type(d, t->type, true, depth + 1);
		s->order = ORD_DONE;
		return err;
	case BTF_KIND_ARRAY:
		return order_type(d, bee_btf_array(t)->type, false, depth + 1);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		/* Named and behind a pointer: only named, so not a dependency. */
		if (through_ptr && t->name_off)
			return 0;
		s->order = ORD_ORDERING;
		for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
			err = order_type(d, bee_btf_members(t)[i].type, false, depth + 1);
			if (err < 0)
				return err;
		}
		/* Anonymous ones print inline; one nothing names is not printed. */
		if (t->name_off && (err = push_u32(&d->queue, &d->nqueue, &d->queue_cap, id)))
			return err;
		s->order = ORD_DONE;
		return 1;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
		if (t->name_off || !s->referenced)
			if ((err = push_u32(&d->queue, &d->nqueue, &d->queue_cap, id)))
				return err;
		s->order = ORD_DONE;
		return 1;
	case BTF_KIND_TYPEDEF: {
		int strong = order_type(d, t->type, through_ptr, depth + 1);
		if (strong < 0)
			return strong;
		/* Like a struct: behind a pointer, naming it suffices. */
		if (through_ptr && !strong)
			return 0;
		if ((err = push_u32(&d->queue, &d->nqueue, &d->queue_cap, id)))
			return err;
		s->order = ORD_DONE;
		return 1;
	}
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return order_type(d, t->type, through_ptr, depth + 1);
	case BTF_KIND_FUNC_PROTO: {
		err = order_type(d, t->type, through_ptr, depth + 1);
		if (err < 0)
			return err;
		bool strong = err > 0;
		for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
			err = order_type(d, bee_btf_params(t)[i].type, through_ptr, depth + 1);
			if (err < 0)
				return err;
			strong |= err > 0;
		}
		return strong;
	}
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DATASEC:
	case BTF_KIND_DECL_TAG:
		s->order = ORD_DONE;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- layout ---------------------------------------------------------------- */

/*
 * libbpf's btf__align_of(): natural alignment, except that a struct
 * whose members or size break natural alignment counts as packed (1).
 * 0 for what has no alignment (void, forward declarations, prototypes).
 */
static unsigned align_of(struct cdump *d, uint32_t id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t || id == 0 || depth > WALK_MAX_DEPTH)
		return 0;
	if (d->st[id].align)
		return d->st[id].align - 1u;
	unsigned a = 0;
	switch (bee_btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
	case BTF_KIND_FLOAT:
		a = t->size < PTR_BITS / 8 ? t->size : PTR_BITS / 8;
		break;
	case BTF_KIND_PTR:
		a = PTR_BITS / 8;
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
	case BTF_KIND_UNION: {
		unsigned max = 1;
		for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
			unsigned ma = align_of(d, bee_btf_members(t)[i].type, depth + 1);
			if (!ma)
				goto done; /* a member without alignment: none */
			if (ma > max)
				max = ma;
			if (!bee_btf_member_bitfield_size(t, i) &&
			    bee_btf_member_bit_offset(t, i) % (8 * ma)) {
				a = 1; /* a misplaced member: packed */
				goto done;
			}
		}
		a = t->size % max ? 1 : max;
		break;
	}
	default:
		break;
	}
done:
	d->st[id].align = (uint8_t)(a + 1);
	return a;
}

/* Does the struct need __attribute__((packed)) to get its layout? */
static bool struct_packed(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	unsigned max = 1;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		unsigned a = align_of(d, bee_btf_members(t)[i].type, 1);
		if (a && !bee_btf_member_bitfield_size(t, i) && bee_btf_member_bit_offset(t, i) % (8 * a))
			return true;
		if (a > max)
			max = a;
	}
	return t->size % max != 0;
}

static void tabs(struct cdump *d, int n)
{
	for (int i = 0; i < n; i++)
		fputc('\t', d->out);
}

static int64_t round_up(int64_t v, int64_t to)
{
	return to > 0 ? (v + to - 1) / to * to : v;
}

/*
 * Explicit padding from bit cur to bit next, as libbpf writes it: first,
 * if needed, a zero-width (or, inside a bitfield run, partial) marker of
 * the widest of long/int/short/char whose next boundary fits the gap, so
 * that the compiler aligns where BTF says; then whole "<type>: <bits>;"
 * units of that type, and the remainder in the smallest type holding it.
 * A gap that natural alignment closes by itself gets no marker.
 */
static void emit_padding(struct cdump *d, int64_t cur, int64_t next, unsigned next_align,
			 bool in_bitfield, int lvl)
{
	static const struct {
		const char *name;
		int bits;
	} pads[] = {{"long", PTR_BITS}, {"int", 32}, {"short", 16}, {"char", 8}};
	if (cur >= next)
		return;
	const char *type = NULL;
	int bits = 0;
	int64_t at = cur;
	for (unsigned i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		type = pads[i].name;
		bits = pads[i].bits;
		at = round_up(cur, bits);
		if (at <= next)
			break;
	}
	if (at > cur && at <= next) {
		if (in_bitfield || (at == next && round_up(cur, next_align * 8) != at) ||
		    (at != next && next - at <= at - cur)) {
			fprintf(d->out, "\n");
			tabs(d, lvl);
			fprintf(d->out, "%s: %lld;", type, in_bitfield ? (long long)(at - cur) : 0LL);
		}
		cur = at;
	}
	while (cur < next && spend(d)) {
		int64_t left = next - cur;
		if (left >= bits) {
			fprintf(d->out, "\n");
			tabs(d, lvl);
			fprintf(d->out, "%s: %d;", type, bits);
			cur += bits;
			continue;
		}
		for (int i = (int)(sizeof(pads) / sizeof(pads[0])) - 1; i >= 0; i--) {
			if (pads[i].bits < left)
				continue;
			fprintf(d->out, "\n");
			tabs(d, lvl);
			fprintf(d->out, "%s: %lld;", pads[i].name, (long long)left);
			cur += left;
			break;
		}
	}
}

/* ---- declarations ---------------------------------------------------------- */

static void emit_type_decl(struct cdump *d, uint32_t id, const char *fname, int lvl, int depth);

/* The part of d->stack one declarator works on: [start, start + cnt). */
struct chain {
	uint32_t start, cnt;
};

static uint32_t chain_top(struct cdump *d, const struct chain *c)
{
	return d->stack[c->start + c->cnt - 1];
}

static void print_struct_fwd(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	fprintf(d->out, "%s%s%s", bee_btf_kind(t) == BTF_KIND_UNION ? "union" : "struct",
		t->name_off ? " " : "", tag_name(d, id));
}

static void print_fwd_def(struct cdump *d, uint32_t id)
{
	fprintf(d->out, "%s %s", bee_btf_kflag(T(d, id)) ? "union" : "struct", tag_name(d, id));
}

static void print_struct_def(struct cdump *d, uint32_t id, int lvl, int depth)
{
	const struct btf_type *t = T(d, id);
	bool is_struct = bee_btf_kind(t) == BTF_KIND_STRUCT;
	unsigned vlen = bee_btf_vlen(t);
	fprintf(d->out, "%s%s%s {", is_struct ? "struct" : "union", t->name_off ? " " : "",
		tag_name(d, id));
	if (d->st[id].body_open || depth > PRINT_MAX_DEPTH) {
		fprintf(d->out, "}"); /* contains itself: only crafted BTF does this */
		return;
	}
	d->st[id].body_open = true;
	bool packed = is_struct && struct_packed(d, id);
	unsigned align = packed ? 1 : align_of(d, id, 0);
	int64_t off = 0;
	bool prev_bitfield = false;
	for (unsigned i = 0; i < vlen; i++) {
		const struct btf_member *m = &bee_btf_members(t)[i];
		uint32_t bf = bee_btf_member_bitfield_size(t, i);
		int64_t m_off = bee_btf_member_bit_offset(t, i);
		unsigned m_align = packed ? 1 : align_of(d, m->type, 0);
		emit_padding(d, off, m_off, m_align, prev_bitfield && bf, lvl + 1);
		fprintf(d->out, "\n");
		tabs(d, lvl + 1);
		emit_type_decl(d, m->type, str_at(d, m->name_off), lvl + 1, depth + 1);
		if (bf) {
			fprintf(d->out, ": %u", bf);
			off = m_off + bf;
			prev_bitfield = true;
		} else {
			long long sz = bee_btf_resolve_size(d->btf, m->type);
			off = m_off + (sz > 0 ? sz : 0) * 8;
			prev_bitfield = false;
		}
		fprintf(d->out, ";");
	}
	if (is_struct)
		emit_padding(d, off, (int64_t)t->size * 8, align, false, lvl + 1);
	if (vlen || t->size) {
		fprintf(d->out, "\n");
		tabs(d, lvl);
	}
	fprintf(d->out, "}");
	if (packed)
		fprintf(d->out, " __attribute__((packed))");
	d->st[id].body_open = false;
}

/*
 * Would C give this enum its BTF size without help?  C picks 4 bytes
 * unless a value needs 8.
 */
static bool enum_needs_mode(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	if (t->size == 4)
		return false;
	if (t->size != 8)
		return true;
	bool fits_u32 = true, fits_s32 = true;
	for (unsigned i = 0; i < bee_btf_vlen(t); i++) {
		struct bee_btf_enum_info e;
		if (bee_btf_enum_value(d->btf, id, i, &e))
			continue;
		int64_t s = (int64_t)e.uval;
		if (e.is_signed ? s < 0 || s > UINT32_MAX : e.uval > UINT32_MAX)
			fits_u32 = false;
		if (e.is_signed ? s < INT32_MIN || s > INT32_MAX : e.uval > INT32_MAX)
			fits_s32 = false;
	}
	return fits_u32 || fits_s32;
}

static void print_enum_def(struct cdump *d, uint32_t id, int lvl)
{
	const struct btf_type *t = T(d, id);
	bool is64 = bee_btf_kind(t) == BEE_BTF_KIND_ENUM64;
	unsigned vlen = bee_btf_vlen(t);
	fprintf(d->out, "enum%s%s", t->name_off ? " " : "", tag_name(d, id));
	if (!vlen)
		return; /* a forward-declared enum: "enum x;" */
	fprintf(d->out, " {");
	for (unsigned i = 0; i < vlen; i++) {
		struct bee_btf_enum_info e;
		if (bee_btf_enum_value(d->btf, id, i, &e))
			continue;
		/* Enumerators share typedefs' namespace, numbered as they print. */
		uint32_t dups = ns_count(&d->idents, e.name);
		fprintf(d->out, "\n");
		tabs(d, lvl + 1);
		fprintf(d->out, "%s", e.name);
		if (dups > 1)
			fprintf(d->out, "___%u", dups);
		if (e.is_signed)
			fprintf(d->out, " = %lld%s,", (long long)e.uval, is64 ? "LL" : "");
		else
			fprintf(d->out, " = %llu%s,", (unsigned long long)e.uval, is64 ? "ULL" : "");
	}
	fprintf(d->out, "\n");
	tabs(d, lvl);
	fprintf(d->out, "}");
	/*
	 * Keep the BTF's size where C would pick another: bpftool 7.1 prints
	 * none of these (newer ones print mode(byte) too); vmlinux and the
	 * objects only ever need the first.
	 */
	if (!enum_needs_mode(d, id))
		return;
	if (t->size == 1)
		fprintf(d->out, " __attribute__((mode(byte)))");
	else if (t->size == 2)
		fprintf(d->out, " __attribute__((mode(HI)))");
	else if (t->size == 8)
		fprintf(d->out, " __attribute__((mode(DI)))");
}

/* Qualifiers right around a base type print before it: "const volatile int". */
static void emit_mods(struct cdump *d, struct chain *c)
{
	while (c->cnt) {
		unsigned k = K(d, chain_top(d, c));
		if (k == BTF_KIND_VOLATILE)
			fprintf(d->out, "volatile ");
		else if (k == BTF_KIND_CONST)
			fprintf(d->out, "const ");
		else if (k == BTF_KIND_RESTRICT)
			fprintf(d->out, "restrict ");
		else
			return;
		c->cnt--;
	}
}

/* Qualifiers on an array or a function mean nothing in C: dropped. */
static void drop_mods(struct cdump *d, struct chain *c)
{
	while (c->cnt && is_mod(K(d, chain_top(d, c))))
		c->cnt--;
}

static void emit_name(struct cdump *d, const char *fname, bool last_was_ptr)
{
	fprintf(d->out, "%s%s", *fname && !last_was_ptr ? " " : "", fname);
}

/*
 * Print a declarator chain from its base outwards: the base type, then
 * each pointer and qualifier; an array or a function closes the chain
 * around the rest (in parentheses unless the rest is another array
 * dimension), which is how C's inside-out declarators come out right.
 */
static void emit_chain(struct cdump *d, struct chain *c, const char *fname, int lvl, int depth)
{
	bool last_was_ptr = true; /* "(*name)": no space before a lone pointer */
	while (c->cnt) {
		uint32_t id = d->stack[c->start + --c->cnt];
		if (id == 0) {
			emit_mods(d, c);
			fprintf(d->out, "void");
			last_was_ptr = false;
			continue;
		}
		const struct btf_type *t = T(d, id);
		if (!t)
			return;
		unsigned k = bee_btf_kind(t);
		switch (k) {
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
			emit_mods(d, c);
			fprintf(d->out, "%s", str_at(d, t->name_off));
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			emit_mods(d, c);
			if (t->name_off)
				print_struct_fwd(d, id);
			else
				print_struct_def(d, id, lvl, depth + 1);
			break;
		case BTF_KIND_ENUM:
		case BEE_BTF_KIND_ENUM64:
			emit_mods(d, c);
			if (t->name_off)
				fprintf(d->out, "enum %s", tag_name(d, id));
			else
				print_enum_def(d, id, lvl);
			break;
		case BTF_KIND_FWD:
			emit_mods(d, c);
			print_fwd_def(d, id);
			break;
		case BTF_KIND_TYPEDEF:
			emit_mods(d, c);
			fprintf(d->out, "%s", ident_name(d, id));
			break;
		case BTF_KIND_PTR:
			fprintf(d->out, "%s", last_was_ptr ? "*" : " *");
			break;
		case BTF_KIND_VOLATILE:
			fprintf(d->out, " volatile");
			break;
		case BTF_KIND_CONST:
			fprintf(d->out, " const");
			break;
		case BTF_KIND_RESTRICT:
			fprintf(d->out, " restrict");
			break;
		case BTF_KIND_TYPE_TAG:
			emit_mods(d, c);
			fprintf(d->out, " __attribute__((btf_type_tag(\"%s\")))", str_at(d, t->name_off));
			break;
		case BTF_KIND_ARRAY: {
			uint32_t nelems = bee_btf_array(t)->nelems;
			drop_mods(d, c);
			if (!c->cnt) {
				emit_name(d, fname, last_was_ptr);
				fprintf(d->out, "[%u]", nelems);
				return;
			}
			bool multidim = K(d, chain_top(d, c)) == BTF_KIND_ARRAY;
			if (*fname && !last_was_ptr)
				fprintf(d->out, " ");
			if (!multidim)
				fprintf(d->out, "(");
			emit_chain(d, c, fname, lvl, depth);
			if (!multidim)
				fprintf(d->out, ")");
			fprintf(d->out, "[%u]", nelems);
			return;
		}
		case BTF_KIND_FUNC_PROTO: {
			const struct btf_param *p = bee_btf_params(t);
			unsigned vlen = bee_btf_vlen(t);
			drop_mods(d, c);
			if (c->cnt) {
				fprintf(d->out, " (");
				emit_chain(d, c, fname, lvl, depth);
				fprintf(d->out, ")");
			} else {
				emit_name(d, fname, last_was_ptr);
			}
			fprintf(d->out, "(");
			/* No parameters, or clang's lone void one: "(void)". */
			if (vlen == 0 || (vlen == 1 && p[0].type == 0)) {
				fprintf(d->out, "void)");
				return;
			}
			for (unsigned i = 0; i < vlen; i++) {
				if (i)
					fprintf(d->out, ", ");
				if (i == vlen - 1 && p[i].type == 0) {
					fprintf(d->out, "...");
					break;
				}
				emit_type_decl(d, p[i].type, str_at(d, p[i].name_off), lvl, depth + 1);
			}
			fprintf(d->out, ")");
			return;
		}
		default:
			return; /* not a declarator kind: validated BTF has none here */
		}
		last_was_ptr = k == BTF_KIND_PTR;
	}
	emit_name(d, fname, last_was_ptr);
}

/*
 * "TYPE NAME" for type id: collect the chain of pointers, qualifiers,
 * arrays and prototypes down to its base on d->stack, then print it.
 * Nested declarators (parameters, inline bodies) stack above this one.
 */
static void emit_type_decl(struct cdump *d, uint32_t id, const char *fname, int lvl, int depth)
{
	if (depth > PRINT_MAX_DEPTH || !spend(d)) {
		fprintf(d->out, "void");
		emit_name(d, fname, false);
		return;
	}
	uint32_t start = d->nstack;
	for (;;) {
		if (d->nstack - start >= CHAIN_MAX || push_u32(&d->stack, &d->nstack, &d->stack_cap, id))
			break;
		const struct btf_type *t = T(d, id);
		if (id == 0 || !t)
			break;
		unsigned k = bee_btf_kind(t);
		if (k == BTF_KIND_PTR || is_mod(k) || k == BTF_KIND_FUNC_PROTO)
			id = t->type;
		else if (k == BTF_KIND_ARRAY)
			id = bee_btf_array(t)->type;
		else
			break;
	}
	struct chain c = {start, d->nstack - start};
	emit_chain(d, &c, fname, lvl, depth);
	d->nstack = start;
}

static bool typedef_is_builtin(struct cdump *d, uint32_t id)
{
	/* The compiler's own: redefining it is an error (clang's BTF carries it). */
	return !strcmp(str_at(d, T(d, id)->name_off), "__builtin_va_list");
}

static void print_typedef_def(struct cdump *d, uint32_t id)
{
	const struct btf_type *t = T(d, id);
	const char *name = ident_name(d, id);
	/* Old GCCs describe __gnuc_va_list as a typedef of void. */
	if (t->type == 0 && !strcmp(name, "__gnuc_va_list")) {
		fprintf(d->out, "typedef __builtin_va_list __gnuc_va_list");
		return;
	}
	fprintf(d->out, "typedef ");
	emit_type_decl(d, t->type, name, 0, 0);
}

/* ARM SIMD's internal base types as GCC names them; C needs an alias. */
static void emit_missing_alias(struct cdump *d, uint32_t id)
{
	static const char *const aliases[][2] = {
		{"__Poly8_t", "unsigned char"},
		{"__Poly16_t", "unsigned short"},
		{"__Poly64_t", "unsigned long long"},
		{"__Poly128_t", "unsigned __int128"},
	};
	const char *name = tag_name(d, id);
	for (unsigned i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(name, aliases[i][0]))
			fprintf(d->out, "typedef %s %s;\n\n", aliases[i][1], name);
}

/* ---- emitting -------------------------------------------------------------- */

/*
 * Print type id and, first, what its printing needs declared: cont_id is
 * 0 for a queued top-level definition, else the struct or typedef whose
 * definition reached it.  A named struct reached from inside another
 * definition before its own gets "struct X;" (not when it is the struct
 * being defined); a typedef reached while its own target is being printed
 * (a cycle) is printed right there.
 */
static void emit_type(struct cdump *d, uint32_t id, uint32_t cont_id, int depth)
{
	const struct btf_type *t = T(d, id);
	if (!t)
		return;
	struct ctype *s = &d->st[id];
	if (s->emit == EM_DONE || depth > WALK_MAX_DEPTH || !spend(d))
		return;
	unsigned k = bee_btf_kind(t);
	bool top_level = cont_id == 0;
	if (s->emit == EM_EMITTING) {
		/* Met again while printing its own dependencies: a loop. */
		if (s->fwd_emitted)
			return;
		if (is_composite(k)) {
			if (id == cont_id || !t->name_off)
				return; /* itself, or an anonymous loop no declaration breaks */
			print_struct_fwd(d, id);
			fprintf(d->out, ";\n\n");
			s->fwd_emitted = true;
		} else if (k == BTF_KIND_TYPEDEF) {
			if (!typedef_is_builtin(d, id)) {
				print_typedef_def(d, id);
				fprintf(d->out, ";\n\n");
			}
			s->fwd_emitted = true;
		}
		return;
	}
	switch (k) {
	case BTF_KIND_INT:
		emit_missing_alias(d, id);
		s->emit = EM_DONE;
		break;
	case BTF_KIND_ENUM:
	case BEE_BTF_KIND_ENUM64:
		if (top_level) {
			print_enum_def(d, id, 0);
			fprintf(d->out, ";\n\n");
		}
		s->emit = EM_DONE;
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		emit_type(d, t->type, cont_id, depth + 1);
		break;
	case BTF_KIND_ARRAY:
		emit_type(d, bee_btf_array(t)->type, cont_id, depth + 1);
		break;
	case BTF_KIND_FWD:
		print_fwd_def(d, id);
		fprintf(d->out, ";\n\n");
		s->emit = EM_DONE;
		break;
	case BTF_KIND_TYPEDEF:
		s->emit = EM_EMITTING;
		emit_type(d, t->type, id, depth + 1);
		if (!s->fwd_emitted && !typedef_is_builtin(d, id)) {
			print_typedef_def(d, id);
			fprintf(d->out, ";\n\n");
		}
		s->emit = EM_DONE;
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		s->emit = EM_EMITTING;
		if (top_level || !t->name_off) {
			/* Its body prints: its members' types need declaring first. */
			uint32_t inner = t->name_off ? id : cont_id;
			for (unsigned i = 0; i < bee_btf_vlen(t); i++)
				emit_type(d, bee_btf_members(t)[i].type, inner, depth + 1);
		} else if (!s->fwd_emitted && id != cont_id) {
			print_struct_fwd(d, id);
			fprintf(d->out, ";\n\n");
			s->fwd_emitted = true;
		}
		if (top_level) {
			print_struct_def(d, id, 0, 0);
			fprintf(d->out, ";\n\n");
			s->emit = EM_DONE;
		} else {
			s->emit = EM_NONE;
		}
		break;
	case BTF_KIND_FUNC_PROTO:
		emit_type(d, t->type, cont_id, depth + 1);
		for (unsigned i = 0; i < bee_btf_vlen(t); i++)
			emit_type(d, bee_btf_params(t)[i].type, cont_id, depth + 1);
		break;
	default:
		break;
	}
}

/* Which types something else names; unnamed ones that nothing names print on their own. */
static void mark_referenced(struct cdump *d)
{
	for (uint32_t id = 1; id < d->n; id++) {
		const struct btf_type *t = T(d, id);
		unsigned vlen = bee_btf_vlen(t);
#define REF(x) do { if ((x) < d->n) d->st[x].referenced = true; } while (0)
		switch (bee_btf_kind(t)) {
		case BTF_KIND_PTR:
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_FUNC:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
			REF(t->type);
			break;
		case BTF_KIND_ARRAY:
			REF(bee_btf_array(t)->index_type);
			REF(bee_btf_array(t)->type);
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			for (unsigned i = 0; i < vlen; i++)
				REF(bee_btf_members(t)[i].type);
			break;
		case BTF_KIND_FUNC_PROTO: /* the parameters only, as libbpf: not the return type */
			for (unsigned i = 0; i < vlen; i++)
				REF(bee_btf_params(t)[i].type);
			break;
		case BTF_KIND_DATASEC:
			for (unsigned i = 0; i < vlen; i++)
				REF(bee_btf_secinfos(t)[i].type);
			break;
		default:
			break;
		}
#undef REF
	}
}

int bee_btf_dump_c(const struct bee_btf_data *btf, FILE *out)
{
	struct cdump d = {.btf = btf, .out = out, .n = bee_btf_type_count(btf)};
	int ret = -ENOMEM;
	d.st = calloc(d.n ? d.n : 1, sizeof(*d.st));
	d.names = calloc(d.n ? d.n : 1, sizeof(*d.names));
	size_t raw_size;
	bee_btf_raw(btf, &raw_size);
	d.work_limit = (1u << 20) + 64 * (uint64_t)raw_size;
	if (!d.st || !d.names || ns_init(&d.tags) || ns_init(&d.idents))
		goto out;
	/* void is always there */
	d.st[0].order = ORD_DONE;
	d.st[0].emit = EM_DONE;
	mark_referenced(&d);

	fprintf(out, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	fprintf(out, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		     "#pragma clang attribute push (__attribute__((preserve_access_index)), "
		     "apply_to = record)\n#endif\n\n");
	/*
	 * Each type in id order: queue what it needs, then print the queue.
	 * A loop C cannot express (only crafted BTF has one) leaves what was
	 * queued to print; bpftool stops there instead.
	 */
	for (uint32_t id = 1; id < d.n; id++) {
		d.nqueue = 0;
		(void)order_type(&d, id, false, 0);
		for (uint32_t i = 0; i < d.nqueue; i++)
			emit_type(&d, d.queue[i], 0, 0);
	}
	fprintf(out, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
		     "#endif /* __VMLINUX_H__ */\n");
	ret = ferror(out) ? -EIO : 0;
out:
	if (d.names)
		for (uint32_t i = 0; i < d.n; i++)
			free(d.names[i]);
	free(d.names);
	free(d.st);
	free(d.queue);
	free(d.stack);
	free(d.tags.slots);
	free(d.idents.slots);
	return ret;
}
