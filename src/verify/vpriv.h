/*
 * vpriv.h - the verifier's private types, shared by cfg.c, state.c, log.c
 * and verify.c.
 *
 * A register state is a type plus, for pointers, a fixed offset `off` and a
 * variable part `var` (a struct bee_scalar; a constant 0 when the pointer
 * has no variable offset); for scalars `var` is the value itself.  `id`
 * ties together copies of one _or_null result (so a null check refines them
 * all) and packet pointers that share one variable offset (so a data_end
 * comparison proves a range for them all).  The stack is one 512-byte frame
 * (bpf-to-bpf calls are not modelled yet) with a kind per byte and, per
 * 8-byte slot, the register a full-width spill saved there.
 */
#ifndef BEE_VERIFY_VPRIV_H
#define BEE_VERIFY_VPRIV_H

#include <stdarg.h>

#include "isa/isa.h"
#include "verify/scalar.h"
#include "verify/verify.h"

#define VSTACK 512
#define VSLOTS (VSTACK / 8)
#define VMAX_MAPS 64

enum vtype {
	NOT_INIT = 0,
	SCALAR,
	PTR_TO_CTX,
	PTR_TO_STACK,
	CONST_PTR_TO_MAP,
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_VALUE_OR_NULL,
	PTR_TO_PACKET,
	PTR_TO_PACKET_END,
	PTR_TO_PACKET_META,
	PTR_TO_MEM,
	PTR_TO_MEM_OR_NULL,
};

enum vslot {
	SLOT_INVALID = 0,
	SLOT_MISC,
	SLOT_ZERO,
	SLOT_SPILL,
};

struct vreg {
	uint8_t type;     /* enum vtype */
	int32_t off;      /* pointers: fixed offset */
	uint32_t id;      /* see above; 0: none */
	uint32_t range;   /* PTR_TO_PACKET: bytes proven readable from base+var */
	int32_t map;      /* CONST_PTR_TO_MAP, map values: index in env->maps */
	uint32_t mem_size;/* PTR_TO_MEM */
	struct bee_scalar var;
};

struct vstate {
	struct vreg regs[11];
	uint8_t stack[VSTACK];       /* enum vslot per byte; [0] is fp-512 */
	struct vreg spills[VSLOTS];  /* valid where the 8 bytes are SLOT_SPILL */
	uint32_t next_id;
	struct vcheckpoint *parent;  /* the last checkpoint of this path */
	size_t pc;
};

/* A state stored at a prune point (a jump target). */
struct vcheckpoint {
	struct vstate st;
	struct vcheckpoint *parent;
	struct vcheckpoint *next_at_insn;
	uint32_t branches; /* live paths below it; 0: fully explored */
};

struct venv {
	const struct bpf_insn *insns;
	size_t n;
	struct bee_dinsn *d;
	const struct bee_verify_opts *opts;
	struct bee_verify_result *res;
	unsigned char *prune_point;
	struct vcheckpoint **at_insn;
	uint32_t *n_at_insn;
	uint32_t *visits;
	struct bee_verify_map maps[VMAX_MAPS];
	size_t n_maps;
	/* the log */
	char *log;
	size_t log_len, log_size;
	char msg[256];
	long fail_insn;
	uint32_t total_states, cur_states, peak_states, max_states_per_insn;
	uint64_t processed;
};

/* log.c */
void vlog(struct venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the refusal's message (and log it); returns err. */
int verr(struct venv *env, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *vtype_name(enum vtype t);
void vlog_stats(struct venv *env);

/* cfg.c: decode, check the graph with the kernel's messages, mark prune points. */
int vcfg_check(struct venv *env);

/* state.c */
void vreg_init(struct vreg *r);
void vreg_scalar_unknown(struct vreg *r);
void vreg_scalar_const(struct vreg *r, uint64_t v);
bool vreg_is_ptr(const struct vreg *r);
bool vreg_equal(const struct vreg *a, const struct vreg *b);
bool vstate_equal(const struct vstate *a, const struct vstate *b);
void vstate_init(struct vstate *st);
/* Apply f to every register and spilled register of st. */
void vstate_for_each_reg(struct vstate *st, void (*f)(struct vreg *r, void *arg), void *arg);
/* Stack accesses at byte offset `at` (fp-relative, negative) of size bytes. */
int vstack_write(struct venv *env, struct vstate *st, int regno, int at, unsigned size,
		 const struct vreg *val);
int vstack_read(struct venv *env, struct vstate *st, int regno, int at, unsigned size,
		struct vreg *out);
/* Helper memory on the stack: every byte initialised (read) or made misc (write). */
int vstack_helper_access(struct venv *env, struct vstate *st, int regno, int at, uint64_t size,
			 bool write);

#endif
