/*
 * refeval.h - a small, deliberately plain reference evaluator of RFC 9669
 * semantics, used to arbitrate when bee and the kernel disagree.
 *
 * It shares no code with bee's interpreter: one switch over the raw opcode
 * byte, no pre-decoding, no tables.  It knows what the generator (gen.h)
 * emits: ALU/ALU64, byte swaps, lddw (plain immediates), loads, stores,
 * atomics, load-acquire and store-release on the stack or on one
 * caller-given memory area, JMP/JMP32 jumps, exit.  Calls and legacy packet loads are refused.  Division
 * follows the kernel where the RFC leaves room: signed minimum / -1 is the
 * signed minimum and signed minimum % -1 is 0 (the verifier rewrites these
 * cases, do_misc_fixups()).
 */
#ifndef BEE_TESTS_REFEVAL_H
#define BEE_TESTS_REFEVAL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/*
 * Run insns with r1 = mem, r2 = mem_len and a zeroed 512-byte stack under
 * r10.  Returns 0 with *r0 the result, or a negative errno: -EINVAL for an
 * instruction it does not know (why says which), -EFAULT for an access
 * outside the stack and mem, -ETIME after max_steps instructions.
 */
int refeval_run(const struct bpf_insn *insns, size_t n, void *mem, size_t mem_len,
		uint64_t max_steps, uint64_t *r0, char *why, size_t why_len);

#endif
