/*
 * refeval.h - a small, deliberately plain reference evaluator of RFC 9669
 * semantics, used to arbitrate when bee and the kernel disagree.
 *
 * It shares no code with bee's interpreter: one switch over the raw opcode
 * byte, no pre-decoding, no tables.  It knows what the generator (gen.h)
 * emits: ALU/ALU64, byte swaps, lddw (plain immediates), loads, stores,
 * atomics, load-acquire and store-release on the stack or on one
 * caller-given memory area, JMP/JMP32 jumps, bpf-to-bpf calls (up to 8
 * frames, each with its own 512-byte stack and r10; r6..r9 restored on
 * return), helper calls through a callback, exit.  Legacy packet loads are refused.  Division
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

/*
 * A helper: id is the call's imm, args r1..r5.  Returns 0 with *r0 set, or
 * a negative errno for an unknown id.
 */
typedef int (*refeval_helper_fn)(void *ctx, int32_t id, const uint64_t args[5], uint64_t *r0);

/*
 * refeval_run with helper calls going to helper (NULL: they are refused);
 * *steps (when not NULL) gets the instructions executed, lddw counting
 * once, calls and exits included.
 */
int refeval_run_helpers(const struct bpf_insn *insns, size_t n, void *mem, size_t mem_len,
			uint64_t max_steps, refeval_helper_fn helper, void *helper_ctx,
			uint64_t *r0, uint64_t *steps_out, char *why, size_t why_len);

#endif
