/*
 * btf/btf.h - BTF and .BTF.ext: parse, validate, query, print (a layer of
 * its own below the core, which validates BPF_BTF_LOAD with it, and the
 * loader).
 *
 * Theory of operation
 * -------------------
 * bee_btf_parse() copies a .BTF blob (the kernel's format, described in
 * Documentation/bpf/btf.rst and <linux/btf.h>) into one aligned buffer,
 * indexes every type record and then checks it the way the kernel's
 * btf_parse() does, in two passes: a per-record "meta" pass (header,
 * string section, every kind's fixed fields, names, vlen-sized tails)
 * and a "resolve" pass that follows type references, refuses loops that
 * do not go through a pointer and computes every type's size.  Nothing
 * in the returned object is unchecked: a consumer may follow any type id
 * or name offset it finds without bounds checks of its own.
 *
 * Two things differ from the kernel on purpose, because bee parses the
 * BTF that clang writes into an object file before the loader fixes it
 * up (as libbpf does before BPF_BTF_LOAD): a DATASEC whose size is 0 is
 * accepted (its size and variable offsets are set later from the ELF
 * section) and its entries are then not checked for order or bounds; and
 * a DATASEC may list FUNCs (clang's ".ksyms" for extern kfuncs).
 *
 * Split BTF (a kernel module's over vmlinux) is parsed by passing the
 * base: type ids and string offsets then continue where the base's end.
 *
 * Type records are returned as pointers to the kernel's own structs
 * (struct btf_type and the records after it), so code that knows the
 * format can use them directly; bee_btf_type() and friends decode them
 * for code that does not.
 *
 * Pure parsing: no dependency on the bee core (only bee/error.h).
 */
#ifndef BEE_LOADER_BTF_H
#define BEE_LOADER_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/btf.h>

#include "bee/error.h"

/*
 * What older UAPI headers lack.  <linux/btf.h> from 6.1 has ENUM64 and
 * DECL_TAG/TYPE_TAG; these names are bee's own, so they never clash.
 */
#define BEE_BTF_KIND_ENUM64 19
#define BEE_BTF_KIND_MAX 19
#define BEE_BTF_MAX_RESOLVE_DEPTH 32 /* the kernel's MAX_RESOLVE_DEPTH */
struct bee_btf_enum64 {
	uint32_t name_off;
	uint32_t val_lo32;
	uint32_t val_hi32;
};

struct bee_btf_data;

/*
 * Parse and validate a .BTF blob.  base is NULL for standalone BTF or the
 * parsed base for split BTF (which must outlive the result).  Returns
 * NULL with err filled (code -EINVAL, -E2BIG or -ENOMEM, message naming
 * the type id, kind and rule) when the blob is refused.
 */
struct bee_btf_data *bee_btf_parse(const void *data, size_t size, const struct bee_btf_data *base,
				   struct bee_error *err);
void bee_btf_free(struct bee_btf_data *btf);

/* Ids run from 0 (void) to count-1, the base's included. */
uint32_t bee_btf_type_count(const struct bee_btf_data *btf);
/* First id this BTF defines itself: 1, or the base's count for split BTF. */
uint32_t bee_btf_start_id(const struct bee_btf_data *btf);
const struct bee_btf_data *bee_btf_base(const struct bee_btf_data *btf);
/* The blob as parsed (this BTF's own bytes, not the base's). */
const void *bee_btf_raw(const struct bee_btf_data *btf, size_t *size);

/* The record of type id (a zeroed record for void), or NULL if out of range. */
const struct btf_type *bee_btf_type_by_id(const struct bee_btf_data *btf, uint32_t id);
/* The string at a name offset, or NULL when the offset is invalid. */
const char *bee_btf_str(const struct bee_btf_data *btf, uint32_t off);
/* A type's name ("" when anonymous or out of range). */
const char *bee_btf_name(const struct bee_btf_data *btf, uint32_t id);
/* "INT", "STRUCT", ... as bpftool prints them; "UNKN" out of range. */
const char *bee_btf_kind_str(unsigned kind);

/* Decoded view of one type. */
struct bee_btf_type_info {
	uint32_t id;
	unsigned kind;      /* BTF_KIND_* */
	const char *name;   /* "" when anonymous */
	bool kflag;
	uint16_t vlen;      /* members, params, values, entries */
	uint32_t size;      /* INT STRUCT UNION ENUM ENUM64 DATASEC FLOAT */
	uint32_t type;      /* PTR TYPEDEF modifiers FUNC FUNC_PROTO(return) VAR DECL_TAG TYPE_TAG */
	uint8_t int_encoding, int_offset, int_bits;       /* INT */
	uint32_t elem_type, index_type, nelems;           /* ARRAY */
	uint32_t linkage;   /* FUNC (from vlen), VAR */
	int32_t component_idx; /* DECL_TAG */
	const struct btf_type *raw;
};
struct bee_btf_member_info {
	const char *name;
	uint32_t type;
	uint32_t bit_offset;
	uint32_t bitfield_size; /* 0 when not a bitfield */
};
struct bee_btf_param_info {
	const char *name;
	uint32_t type; /* 0 with an empty name: "..." (only last) */
};
struct bee_btf_enum_info {
	const char *name;
	uint64_t uval;    /* the value as stored (sign-extended from 32 bits for signed ENUM) */
	bool is_signed;   /* kflag */
};
struct bee_btf_secinfo_info {
	uint32_t type, offset, size;
};

/* All return 0, or -ENOENT for an id or index out of range, -EINVAL for the wrong kind. */
int bee_btf_type(const struct bee_btf_data *btf, uint32_t id, struct bee_btf_type_info *out);
int bee_btf_member(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		   struct bee_btf_member_info *out);
int bee_btf_param(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		  struct bee_btf_param_info *out);
int bee_btf_enum_value(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
		       struct bee_btf_enum_info *out);
int bee_btf_datasec_entry(const struct bee_btf_data *btf, uint32_t id, unsigned idx,
			  struct bee_btf_secinfo_info *out);

/*
 * The first type (lowest id, base first) with this name and kind
 * (kind < 0: any kind).  Returns the id, or -ENOENT.
 */
long bee_btf_find_by_name_kind(const struct bee_btf_data *btf, const char *name, int kind);

/* Size in bytes of a value of type id, or -EINVAL for void, FWD, FUNC, FUNC_PROTO. */
long long bee_btf_resolve_size(const struct bee_btf_data *btf, uint32_t id);
/* Follow CONST, VOLATILE, RESTRICT and TYPE_TAG. */
uint32_t bee_btf_skip_modifiers(const struct bee_btf_data *btf, uint32_t id);
/* Same, and TYPEDEF too. */
uint32_t bee_btf_skip_modifiers_typedefs(const struct bee_btf_data *btf, uint32_t id);

/* Record accessors (the record must be of the right kind). */
static inline unsigned bee_btf_kind(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline uint16_t bee_btf_vlen(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static inline bool bee_btf_kflag(const struct btf_type *t) { return BTF_INFO_KFLAG(t->info); }
static inline const struct btf_member *bee_btf_members(const struct btf_type *t)
{
	return (const struct btf_member *)(t + 1);
}
static inline const struct btf_param *bee_btf_params(const struct btf_type *t)
{
	return (const struct btf_param *)(t + 1);
}
static inline const struct btf_enum *bee_btf_enums(const struct btf_type *t)
{
	return (const struct btf_enum *)(t + 1);
}
static inline const struct bee_btf_enum64 *bee_btf_enums64(const struct btf_type *t)
{
	return (const struct bee_btf_enum64 *)(t + 1);
}
static inline const struct btf_array *bee_btf_array(const struct btf_type *t)
{
	return (const struct btf_array *)(t + 1);
}
static inline const struct btf_var *bee_btf_var(const struct btf_type *t)
{
	return (const struct btf_var *)(t + 1);
}
static inline const struct btf_var_secinfo *bee_btf_secinfos(const struct btf_type *t)
{
	return (const struct btf_var_secinfo *)(t + 1);
}
static inline const struct btf_decl_tag *bee_btf_decl_tag(const struct btf_type *t)
{
	return (const struct btf_decl_tag *)(t + 1);
}
static inline uint32_t bee_btf_int_data(const struct btf_type *t) { return *(const uint32_t *)(t + 1); }
static inline uint32_t bee_btf_member_bit_offset(const struct btf_type *t, unsigned i)
{
	uint32_t off = bee_btf_members(t)[i].offset;
	return bee_btf_kflag(t) ? BTF_MEMBER_BIT_OFFSET(off) : off;
}
static inline uint32_t bee_btf_member_bitfield_size(const struct btf_type *t, unsigned i)
{
	return bee_btf_kflag(t) ? BTF_MEMBER_BITFIELD_SIZE(bee_btf_members(t)[i].offset) : 0;
}
static inline uint64_t bee_btf_enum64_value(const struct bee_btf_enum64 *e)
{
	return ((uint64_t)e->val_hi32 << 32) | e->val_lo32;
}

/* ---- .BTF.ext ---------------------------------------------------------- */

struct bee_btf_ext;

enum bee_btf_ext_kind {
	BEE_BTF_EXT_FUNC_INFO,
	BEE_BTF_EXT_LINE_INFO,
	BEE_BTF_EXT_CORE_RELO,
	BEE_BTF_EXT_NR_KINDS,
};

/* One record of each kind, decoded; insn_off is in bytes, as in the object. */
struct bee_btf_func_info {
	uint32_t insn_off;
	uint32_t type_id; /* a FUNC */
};
struct bee_btf_line_info {
	uint32_t insn_off;
	uint32_t file_name_off, line_off;
	const char *file_name;
	const char *line;  /* the source line's text */
	uint32_t line_num; /* line_col >> 10 */
	uint32_t line_col; /* line_col & 0x3ff */
};
struct bee_btf_core_relo {
	uint32_t insn_off;
	uint32_t type_id;        /* the local root type */
	uint32_t access_str_off;
	const char *access;      /* "0:1:2" */
	uint32_t kind;           /* enum bpf_core_relo_kind */
};

/*
 * Parse and validate .BTF.ext against the object's parsed .BTF: header,
 * record sizes (at least the known record, a multiple of 4), section name
 * offsets, instruction offsets (multiples of 8), type ids (func_info: a
 * FUNC), string offsets, CO-RE kinds and access strings.  btf must
 * outlive the result.
 */
struct bee_btf_ext *bee_btf_ext_parse(const void *data, size_t size, const struct bee_btf_data *btf,
				      struct bee_error *err);
void bee_btf_ext_free(struct bee_btf_ext *ext);

/* Record size as stored (>= the known record), 0 when the kind is absent. */
uint32_t bee_btf_ext_rec_size(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind);
/* Number of sections (per ELF section name) that have records of this kind. */
unsigned bee_btf_ext_sec_count(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind);
const char *bee_btf_ext_sec_name(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind,
				 unsigned sec);
uint32_t bee_btf_ext_sec_nr(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, unsigned sec);
/* The section's records as stored (nr * rec_size bytes), for BPF_PROG_LOAD. */
const void *bee_btf_ext_sec_records(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind,
				    unsigned sec);
/* Index of the section called name, or -ENOENT. */
int bee_btf_ext_find_sec(const struct bee_btf_ext *ext, enum bee_btf_ext_kind kind, const char *name);
int bee_btf_ext_func_info(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_func_info *out);
int bee_btf_ext_line_info(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_line_info *out);
int bee_btf_ext_core_relo(const struct bee_btf_ext *ext, unsigned sec, unsigned idx,
			  struct bee_btf_core_relo *out);
/* libbpf's names: "byte_off", "byte_sz", ..., "type_matches"; "unknown" otherwise. */
const char *bee_btf_core_relo_kind_str(uint32_t kind);

/* ---- printing ---------------------------------------------------------- */

/* Every type this BTF defines, as `bpftool btf dump file X` prints it. */
int bee_btf_dump_raw(const struct bee_btf_data *btf, FILE *out);
/* One type's line(s), as above (without the trailing newline). */
void bee_btf_dump_raw_type(const struct bee_btf_data *btf, uint32_t id, FILE *out);
/*
 * C declarations, as `bpftool btf dump file X format c` prints them:
 * struct, union, enum and typedef definitions in dependency order, with
 * forward declarations where pointers make a cycle.
 */
int bee_btf_dump_c(const struct bee_btf_data *btf, FILE *out);

#endif
