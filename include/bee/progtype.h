/*
 * bee/progtype.h - program types as data: what a program of a type may do
 * with its context, which helpers it may call, what it may return.
 *
 * Theory.  The kernel's verifier asks the program type three questions
 * (struct bpf_verifier_ops and check_return_code): may the program read or
 * write `size` bytes at offset `off` of its context, and if it reads, what
 * does it get (a scalar, or a typed pointer such as the packet start)?  may
 * it call helper N?  is its return value in range?  In the kernel each
 * answer is a function per type; here each is data, a struct
 * bee_prog_type_desc, so that bee's built-in types and an embedder's own
 * types are described the same way and read by the same code.
 *
 * A context is a list of fields.  An access of `size` bytes at `off` is
 * allowed when off is a multiple of size (every kernel type requires that
 * alignment), one field contains all of [off, off + size), the access
 * direction is allowed on it and size is one of the field's allowed sizes
 * for that direction (a bitmask of 1, 2, 4, 8: the bit IS the size).  A
 * 4-byte field whose reads allow 1|2|4 permits the kernel's "narrow"
 * loads of any aligned part of it; a 20-byte array (__sk_buff cb[]) is
 * one field with 1|2|4|8, any aligned access inside it.  Offsets no field
 * covers (padding, fields the type hides) are refused.
 *
 * A writable field takes register (BPF_STX) and immediate (BPF_ST, since
 * Linux 6.3) stores; atomic operations on the context are refused for
 * every type, whatever the table says.
 *
 * Built-in types use the kernel's enum bpf_prog_type values as type ids;
 * an embedder's types take ids from BEE_PROG_TYPE_CUSTOM_BASE up.
 */
#ifndef BEE_PROGTYPE_H
#define BEE_PROGTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* First id of an embedder-declared program type. */
#define BEE_PROG_TYPE_CUSTOM_BASE 0x10000u

/* What a read of a context field yields (the kernel's info->reg_type). */
enum bee_ctx_kind {
	BEE_CTX_SCALAR = 0,            /* a number */
	BEE_CTX_PTR_PACKET,            /* PTR_TO_PACKET: first byte of the packet */
	BEE_CTX_PTR_PACKET_END,        /* PTR_TO_PACKET_END: one past the last byte */
	BEE_CTX_PTR_PACKET_META,       /* PTR_TO_PACKET_META: start of the metadata */
	BEE_CTX_PTR_SOCK_COMMON_OR_NULL, /* __sk_buff sk: a socket, or NULL */
	BEE_CTX_PTR_BTF_ID,            /* a BTF-typed kernel object (tracing args) */
};

/* Access sizes as a bitmask: the bit is the size itself. */
#define BEE_SZ_1 1u
#define BEE_SZ_2 2u
#define BEE_SZ_4 4u
#define BEE_SZ_8 8u
#define BEE_SZ_ANY (BEE_SZ_1 | BEE_SZ_2 | BEE_SZ_4 | BEE_SZ_8)
#define BEE_SZ_UP_TO_4 (BEE_SZ_1 | BEE_SZ_2 | BEE_SZ_4)

/*
 * One context field (or an array of them, or a whole uniform area).
 * read_sizes/write_sizes: the access sizes allowed in each direction (0:
 * that direction is refused).  kind: what a read yields; pointer kinds are
 * read with their full size only.
 */
struct bee_ctx_field {
	uint32_t off, size;
	uint8_t read_sizes, write_sizes;
	enum bee_ctx_kind kind;
	const char *name; /* for logs ("data_end"); may be NULL */
};

/* bee_prog_type_desc.flags */
enum {
	BEE_PT_LD_ABS = 1u << 0,      /* legacy packet loads (ld abs/ind) */
	BEE_PT_PKT_READ = 1u << 1,    /* direct packet reads after a data_end check */
	BEE_PT_PKT_WRITE = 1u << 2,   /* direct packet writes */
	BEE_PT_RET_ANY = 1u << 3,     /* any return value (ret_min/max ignored) */
	BEE_PT_CTX_ATTACH_LIMIT = 1u << 4, /* the attach target bounds the context
	                                    * (tracepoint record size, raw_tp args) */
	BEE_PT_SLEEPABLE_ONLY = 1u << 5,   /* must be loaded sleepable (syscall) */
	BEE_PT_NEEDS_ATTACH_BTF = 1u << 6, /* needs a BTF attach target (tracing, lsm) */
};

struct bee_prog_type_desc {
	size_t sz;              /* sizeof(struct bee_prog_type_desc) */
	uint32_t type_id;       /* BPF_PROG_TYPE_* or >= BEE_PROG_TYPE_CUSTOM_BASE */
	const char *name;       /* "xdp" */
	uint32_t ctx_size;      /* bytes of the context r1 points at (maximum) */
	const struct bee_ctx_field *fields;
	size_t n_fields;        /* sorted by off, not overlapping */
	const int32_t *helpers; /* helper ids the type may call */
	size_t n_helpers;
	int64_t ret_min, ret_max; /* valid r0 at exit unless BEE_PT_RET_ANY */
	uint32_t flags;         /* BEE_PT_* */
};

/* A set of program types (the built-in ones and those added), per instance. */
struct bee_prog_types;

/* A new set holding bee's built-in types; NULL when out of memory. */
struct bee_prog_types *bee_prog_types_new(void);
void bee_prog_types_free(struct bee_prog_types *t);

/*
 * Add an embedder's program type (a deep copy of desc: name, fields and
 * helper list are copied).  Returns 0, -EINVAL for a malformed desc (sz too
 * small, id below BEE_PROG_TYPE_CUSTOM_BASE, no name, a field outside
 * ctx_size or overlapping another, sizes other than 1/2/4/8, a pointer
 * kind readable at other than 8 bytes, ret_min > ret_max), -EEXIST for an
 * id already present, -ENOMEM.
 */
int bee_prog_types_add(struct bee_prog_types *t, const struct bee_prog_type_desc *desc);

/* The type with this id (built-in or added), or NULL. */
const struct bee_prog_type_desc *bee_prog_types_find(const struct bee_prog_types *t,
						     uint32_t type_id);
/* Built-in types only, without a set; NULL for a type bee does not describe. */
const struct bee_prog_type_desc *bee_prog_type_builtin(uint32_t type_id);

/*
 * May a program of type d access size bytes (1, 2, 4 or 8) at off of its
 * context?  ctx_limit: when nonzero and the type has BEE_PT_CTX_ATTACH_LIMIT,
 * the attach target's context size (a tracepoint's record size, 8 * a raw
 * tracepoint's argument count); accesses beyond it are refused.  Returns 0
 * with *kind (may be NULL) what a read yields and *field (may be NULL) the
 * field, or -EACCES.
 */
int bee_prog_type_ctx_access(const struct bee_prog_type_desc *d, int64_t off, uint32_t size,
			     bool write, uint32_t ctx_limit, enum bee_ctx_kind *kind,
			     const struct bee_ctx_field **field);

/* May a program of type d call helper id? */
bool bee_prog_type_helper_ok(const struct bee_prog_type_desc *d, int32_t id);

/*
 * The valid return range of type d for a program with this
 * expected_attach_type (cgroup skb egress allows 0..3, ingress 0..1).
 * Returns false when any value is valid (then min and max are untouched).
 */
bool bee_prog_type_ret_range(const struct bee_prog_type_desc *d, uint32_t expected_attach_type,
			     int64_t *min, int64_t *max);

#ifdef __cplusplus
}
#endif
#endif
