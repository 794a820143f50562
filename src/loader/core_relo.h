/*
 * loader/core_relo.h - CO-RE relocations: resolve one .BTF.ext record
 * against a target BTF, then patch the instruction it names.
 *
 * Theory of operation
 * -------------------
 * clang writes, for every __builtin_preserve_access_index /
 * preserve_field_info / btf_type_id / preserve_type_info /
 * preserve_enum_value, a record {insn_off, type_id, access string, kind}
 * (see Documentation/bpf/llvm_reloc.rst) and compiles the instruction
 * with the value the *local* BTF implies.  Resolution is done in two
 * pure steps, as libbpf does (its "BPF CO-RE reference guide" is the
 * contract followed here):
 *
 *  1. bee_core_relo_resolve() parses the access string against the local
 *     BTF into a "spec" (root type, accessors, bit offset), finds the
 *     target types whose essential name (the name without a "___flavor"
 *     suffix) and kind match the local root, matches the spec against
 *     each (field accesses by member name, searching into anonymous
 *     members; type relocations by libbpf's compatibility or "matches"
 *     rules; enum relocations by enumerator name) and computes the value
 *     from the local spec (orig_value, what the instruction must hold)
 *     and from the target (value).  All matching candidates must agree.
 *     When nothing matches, the *_EXISTS kinds and the type-based kinds
 *     give 0; the others ask for the instruction to be poisoned.
 *
 *  2. bee_core_relo_patch() writes the value into the instruction: the
 *     imm of an ALU/ALU64 K instruction, the off of LDX/ST/STX (refusing
 *     offsets beyond s16, and changing the access size when the field's
 *     size changed, which only pointers and unsigned integers allow), the
 *     64-bit imm of lddw.  A poisoned instruction becomes
 *     `call 0xbad2310` (both slots of an lddw), the kernel then rejects
 *     it as "invalid func unknown#195896080" only if it is reachable, so
 *     code guarded by an existence check still loads.
 *
 * Nothing here knows about ELF, the core or any target: the loader owns
 * the instruction buffers and the BTFs.
 */
#ifndef BEE_LOADER_CORE_RELO_H
#define BEE_LOADER_CORE_RELO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/error.h"
#include "btf/btf.h"

/* The helper id a poisoned instruction calls: 0xbad2310, "bad relo". */
#define BEE_CORE_POISON_HELPER 195896080

/* libbpf's BPF_CORE_SPEC_MAX_LEN: accessors in one access string. */
#define BEE_CORE_SPEC_MAX_LEN 64

struct bee_core_result {
	uint64_t orig_value; /* what the local BTF implies (the compiled value) */
	uint64_t value;      /* what the target needs */
	/*
	 * Field relocations on a non-bitfield: the field's size in bytes
	 * locally and in the target (the load/store size), and the field's
	 * type ids; 0 otherwise.
	 */
	uint32_t orig_size, new_size;
	uint32_t orig_type_id, new_type_id;
	uint32_t target_type_id; /* the matching target root type, 0 when none */
	bool exists;             /* a target candidate matched */
	bool poison;             /* unresolvable: poison the instruction */
	bool validate;           /* the instruction must hold orig_value */
	bool fail_memsz_adjust;  /* the load size would change unsafely */
	/* libbpf-style spec, e.g. "<byte_off> [7] struct task.pid (0:0 @ offset 0)" */
	char desc[192];
	char reason[96]; /* why the instruction is poisoned, "" otherwise */
};

/*
 * Compute what relocation relo (whose type_id and access string refer to
 * the local BTF) resolves to in the target BTF.  target may be NULL only
 * for BPF_CORE_TYPE_ID_LOCAL.  Returns 0 with res filled (res->poison
 * set when the instruction must be poisoned), or a negative errno with
 * err naming the relocation: -EINVAL for a malformed access string or
 * ambiguous candidates, -EOPNOTSUPP for an unknown kind or an anonymous
 * root, -E2BIG for a bitfield no 64-bit load covers.
 */
int bee_core_relo_resolve(const struct bee_btf_core_relo *relo, const struct bee_btf_data *local,
			  const struct bee_btf_data *target, struct bee_core_result *res,
			  struct bee_error *err);

/*
 * Patch the instruction relo names (insn points at it; n instructions
 * are left in the program from there, for lddw's second slot) with res.
 * Returns 0 when patched, 1 when the instruction was poisoned (err, if
 * given, then holds code 0, the instruction index relo->insn_off / 8 and
 * a message naming the access, the type and the reason), or a negative
 * errno with err filled: -EINVAL for an instruction that does not hold
 * the value the compiler assumed or of a kind CO-RE cannot patch,
 * -ERANGE for an offset beyond s16 or an immediate beyond 32 bits.
 */
int bee_core_relo_patch(struct bpf_insn *insn, size_t n, const struct bee_btf_core_relo *relo,
			const struct bee_core_result *res, struct bee_error *err);

#endif
