/*
 * vpriv.h - the verifier's private types, shared by cfg.c, state.c, log.c
 * and verify.c.
 *
 * A register state is a type plus, for pointers, a fixed offset `off` and a
 * variable part `var` (a struct bee_scalar; a constant 0 when the pointer
 * has no variable offset); for scalars `var` is the value itself.  `id`
 * ties together copies of one _or_null result (so a null check refines them
 * all) and packet pointers that share one variable offset (so a data_end
 * comparison proves a range for them all).  A stack pointer names the
 * frame it points into (`frameno`).
 *
 * A state is a stack of call frames (bpf-to-bpf calls), each with its own
 * registers and its own 512-byte stack: a kind per byte and, per 8-byte
 * slot, the register a full-width spill saved there.  Frames are allocated
 * separately so that copying a state (at every branch) copies only the
 * frames that exist.  `refs` lists the references the path holds (ring
 * buffer records not yet submitted or discarded): each must be released
 * exactly once before the program exits.
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
#define MAX_VAR_OFF (1LL << 29) /* the kernel's BPF_MAX_VAR_OFF */
#define VMAX_FRAMES 8 /* the kernel's MAX_CALL_FRAMES */
#define VMAX_REFS 16
#define VMAX_SUBPROGS 256

enum vtype {
	NOT_INIT = 0,
	SCALAR,
	PTR_TO_CTX,
	PTR_TO_STACK,
	CONST_PTR_TO_MAP,
	CONST_PTR_TO_MAP_OR_NULL, /* an inner map from a map-of-maps lookup */
	PTR_TO_MAP_VALUE,
	PTR_TO_MAP_VALUE_OR_NULL,
	PTR_TO_PACKET,
	PTR_TO_PACKET_END,
	PTR_TO_PACKET_META,
	PTR_TO_MEM,
	PTR_TO_MEM_OR_NULL,
	PTR_TO_FUNC,
};

/* What a PTR_TO_MEM points to, beyond its size. */
enum vmemkind {
	VMEM_PLAIN = 0,  /* helper memory; with a ref: a ring buffer record */
	VMEM_MAP_KEY,    /* a map's key (read-only), from for_each_map_elem */
	VMEM_SOCK,       /* a struct bpf_sock from bpf_sk_lookup_* (read-only, ref) */
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
	uint32_t ref;     /* PTR_TO_MEM(_OR_NULL) from an acquire: its reference id */
	uint8_t frameno;  /* PTR_TO_STACK: the frame it points into */
	uint8_t memkind;  /* PTR_TO_MEM(_OR_NULL): enum vmemkind */
	int32_t subprog;  /* PTR_TO_FUNC: the subprogram */
	bool precise;     /* SCALAR: its value mattered to a check (precise.c) */
	struct bee_scalar var;
};

struct vframe {
	struct vreg regs[11];
	uint8_t stack[VSTACK];       /* enum vslot per byte; [0] is fp-512 */
	struct vreg spills[VSLOTS];  /* valid where the 8 bytes are SLOT_SPILL */
	size_t callsite;             /* the caller's call instruction (frames > 0) */
	uint32_t subprog;            /* the subprogram this frame runs */
	/* A callback frame: the helper that calls it, the return range it
	 * must respect, and the state to resume in the caller. */
	int32_t cb_helper;           /* -1: an ordinary bpf-to-bpf call */
};

/* One instruction a path executed (precise.c walks them backwards). */
struct vhist {
	uint32_t pc;
	uint8_t frame;      /* the frame it ran in */
	uint8_t slot_frame; /* stack accesses: the frame of the slot */
	int16_t slot;       /* an 8-byte access of stack slot N; -1: none */
};

struct vref {
	uint32_t id;
	size_t insn; /* where it was acquired */
	int frame;   /* the frame that acquired it */
};

struct vstate {
	struct vframe *frame[VMAX_FRAMES];
	int cur;                     /* the running frame */
	struct vref refs[VMAX_REFS];
	int n_refs;
	uint32_t next_id;
	struct vcheckpoint *parent;  /* the last checkpoint of this path */
	size_t pc;
	/* What ran since the last checkpoint (the checkpoint's own insn first). */
	struct vhist *hist;
	uint32_t n_hist, cap_hist;
	/* Not part of the state's value (vstate_equal ignores them): */
	bool cb_reentry;             /* back at a callback-calling helper call */
	uint32_t cb_runs;            /* callback runs finished on this path */
	bool entered;                /* the helper call entered a callback */
	size_t from_pc;              /* the branch this path was queued at */
	uint32_t jmps;               /* jumps since the last checkpoint */
	size_t log_pos;              /* the log's length then (level 1 rewinds) */
};

static inline struct vframe *vcur(const struct vstate *st)
{
	return st->frame[st->cur];
}

/* A state stored at a prune point (a jump target). */
struct vcheckpoint {
	struct vstate st;
	/* What ran from the parent checkpoint up to this one. */
	struct vhist *in_hist;
	uint32_t n_in_hist;
	struct vcheckpoint *parent;
	struct vcheckpoint *next_at_insn;
	uint32_t branches; /* live paths below it; 0: fully explored */
	uint32_t hit, miss; /* prunes it made, comparisons it lost */
	bool evicted;       /* off its at_insn list for now */
	bool all_precise;   /* every scalar in it (and above) marked precise */
	uint32_t depth;     /* checkpoints above it */
	struct vcheckpoint *next_all; /* every checkpoint, to free them */
};

struct vsubprog {
	size_t start, end;     /* [start, end) */
	uint32_t stack_depth;  /* deepest byte touched in its frames */
	bool has_tail_call;
};

struct venv {
	const struct bpf_insn *insns;
	size_t n;
	struct vsubprog sub[VMAX_SUBPROGS];
	size_t n_sub;
	uint32_t *subprog_of; /* per instruction */
	uint16_t *live;       /* per instruction: registers a path from it may read */
	struct bee_dinsn *d;
	const struct bee_verify_opts *opts;
	struct bee_verify_result *res;
	unsigned char *prune_point;
	struct vcheckpoint **at_insn;
	struct vcheckpoint *all;     /* every checkpoint (next_all) */
	const struct vcheckpoint **anc; /* the current path's checkpoints by depth */
	uint32_t anc_len, anc_cap;
	uint32_t *n_at_insn;
	struct bee_verify_map maps[VMAX_MAPS];
	struct {
		bool by_idx;
		int32_t imm;
	} map_ref[VMAX_MAPS]; /* what each maps[] entry was referenced by */
	size_t n_maps;
	/* the log */
	int32_t *line_at;                     /* per insn: index in opts->lines or -1 */
	const struct bee_verify_line *last_line;
	char **insn_text;                     /* disassembly per insn, made on first use */
	uint64_t start_ns;
	char *log;
	size_t log_len, log_size;
	size_t log_dropped; /* bytes the rotating log dropped from its start */
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
/* The kernel's name for a register's type (ring buffer records by name). */
const char *vreg_type_name(const struct vreg *r);
void vlog_stats(struct venv *env);
/* Where the log is now, and going back there (level 1 keeps only the
 * failing path). */
size_t vlog_pos(const struct venv *env);
void vlog_rewind(struct venv *env, size_t pos);
/* The trace: a register, the running frame's state, an instruction with
 * its source line. */
void vlog_reg(struct venv *env, const struct vreg *r);
void vlog_state(struct venv *env, const struct vstate *st);
void vlog_insn(struct venv *env, size_t pc);
/* s without its leading blanks (source lines in the log). */
const char *vlog_ltrim(const char *s);
/* explain.c: after a refusal at insn pc in state st (opts->explain). */
void vexplain(struct venv *env, const struct vstate *st, size_t pc);

/* state.c: may a path in state cur be pruned because old, fully explored,
 * covers it?  (precise scalars within old's, imprecise ones anything;
 * registers of the running frame outside live: anything.) */
bool vstate_safe(const struct vstate *old, const struct vstate *cur, uint16_t live);

/* precise.c */
int vhist_push(struct venv *env, struct vstate *st, const struct bee_dinsn *d);
/* Register regno of the current frame decided a check: it and everything
 * it was computed from become precise, back through the path. */
int vmark_precise(struct venv *env, struct vstate *st, int regno);
/* Every scalar of st and of the checkpoints above it (the safe fallback). */
void vmark_all_precise(struct vstate *st);
/* cur is pruned by old: what was precise in old must be in cur's past too. */
int vpropagate_precision(struct venv *env, struct vstate *cur, const struct vstate *old);

/* cfg.c: decode, check the graph with the kernel's messages, mark prune points. */
int vcfg_check(struct venv *env);
/* Register liveness (env->live), after vcfg_check. */
int vcfg_liveness(struct venv *env);

/* state.c */
void vreg_init(struct vreg *r);
void vreg_scalar_unknown(struct vreg *r);
void vreg_scalar_const(struct vreg *r, uint64_t v);
bool vreg_is_ptr(const struct vreg *r);
bool vreg_equal(const struct vreg *a, const struct vreg *b);
bool vstate_equal(const struct vstate *a, const struct vstate *b);
/* States own their frames: init allocates frame 0, copy duplicates the
 * frames (dst must be empty or released), release frees them. */
int vstate_init(struct vstate *st);
int vstate_copy(struct vstate *dst, const struct vstate *src);
void vstate_release(struct vstate *st);
struct vframe *vframe_new(void);
/* Apply f to every register and spilled register of st. */
void vstate_for_each_reg(struct vstate *st, void (*f)(struct vreg *r, void *arg), void *arg);
/* Stack accesses at byte offset `at` (fp-relative, negative) of size bytes
 * in frame fr of the state. */
int vstack_write(struct venv *env, struct vstate *st, int fr, int regno, int at, unsigned size,
		 const struct vreg *val);
int vstack_read(struct venv *env, struct vstate *st, int fr, int regno, int at, unsigned size,
		struct vreg *out);
/* An access of size bytes at off + var (a variable offset) in frame fr:
 * bounds checked; a write makes every byte it may touch misc. */
int vstack_var_access(struct venv *env, struct vstate *st, int fr, int regno, int64_t off,
		      const struct bee_scalar *var, uint64_t size, bool write);
/* An atomic read-modify-write of size bytes at `at`: the bytes become misc. */
int vstack_atomic(struct venv *env, struct vstate *st, int fr, int regno, int at, unsigned size);
/* Helper memory on the stack: every byte initialised (read) or made misc (write). */
int vstack_helper_access(struct venv *env, struct vstate *st, int fr, int regno, int at,
			 uint64_t size, bool write);

#endif
