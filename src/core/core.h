/*
 * core.h - the user-space "kernel" behind bee_bpf(): an instance, its
 * objects and handles, and what the command files share.
 *
 * Files: bee.c (instances, handles, ids, CPU slots), syscall.c (the
 * command dispatcher and map commands), prog.c (loading and program
 * info), run.c (running programs, BPF_PROG_TEST_RUN), helpers.c (the
 * helpers that need maps or the instance), pin.c (pins on disk),
 * trace_pipe.c, btf.c, link.c, sha1.c (program tags).
 */
#ifndef BEE_CORE_H
#define BEE_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "bee/bee.h"
#include "maps/map.h"
#include "util/obj.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

struct bee_prog {
	struct bee_obj obj;
	struct bee *bee;
	enum bpf_prog_type type;
	enum bpf_attach_type expected_attach_type;
	char name[BPF_OBJ_NAME_LEN];
	uint8_t tag[8];
	bool gpl_compatible;
	struct bpf_insn *xlated;     /* as loaded, lddw forms pointing at map ids */
	size_t len;
	struct bee_code *code;
	struct bee_map **maps;       /* the maps its lddw reach, one reference each */
	size_t n_maps;
	uint64_t load_time;          /* CLOCK_BOOTTIME ns, as the kernel */
	uint32_t verified_insns;     /* what bee's verifier processed (0: not verified) */
	uint32_t uid;
	_Atomic uint64_t run_cnt, run_time_ns;
	uint32_t btf_id;
	/* BTF and its func/line info, as BPF_PROG_LOAD validated them
	 * (prog_btf_fd, func_info, line_info): kept for
	 * BPF_OBJ_GET_INFO_BY_FD and for pins.  btf holds one reference. */
	struct bee_btf *btf;
	struct bpf_func_info *func_info;
	uint32_t nr_func_info;
	struct bpf_line_info *line_info;
	uint32_t nr_line_info;
};

struct bee_btf {
	struct bee_obj obj;
	struct bee *bee;
	void *data;
	uint32_t size;
	/* data parsed and validated once, at BPF_BTF_LOAD: what map and
	 * program loads query (read-only, shared) */
	struct bee_btf_data *parsed;
};

struct bee_link_obj {
	struct bee_obj obj;
	struct bee *bee;
	struct bee_prog *_Atomic prog; /* NULL once detached */
	enum bpf_attach_type attach_type;
	uint32_t target;             /* a named hook's id (BEE_HOOK_NAMED_BASE + i) or the embedder's */
	struct bee_link_obj *next;       /* on its hook's list (under bee->lock) */
};

/* Objects by id and handles, one table each, under bee->lock. */
struct obj_table {
	struct bee_obj **v;
	size_t n, cap;
};

struct bee {
	pthread_mutex_t lock;        /* ids, handles, pins, links */
	unsigned ncpus;
	enum bee_engine engine;
	bool trusted_fast_path;
	uint64_t max_insns;          /* checked runs' budget (0: none) */
	char *pin_dir;
	struct obj_table by_id;      /* every live object, sorted by id */
	struct bee_obj **handles;    /* fd -> object (one reference each) */
	int n_handles;
	uint32_t next_id[BEE_OBJ_BTF + 1]; /* last id given, per kind */
	struct bee_helper_table *helpers;
	/* CPU slots: a running program owns one, exclusively. */
	_Atomic int *cpu_busy;
	/* BPF_ENABLE_STATS(BPF_STATS_RUN_TIME) handles open */
	_Atomic int stats_enabled;
	struct bee_link_obj *links;
	char **hook_names;           /* named hooks: id BEE_HOOK_NAMED_BASE + i (under lock) */
	uint32_t nr_hook_names, cap_hook_names;
	struct bee_trace_pipe *trace;
	struct pin *pins;
};

/* ---- bee.c ---- */
/* A new handle for obj (takes over one reference).  -EMFILE when full. */
int bee_handle_new(struct bee *bee, struct bee_obj *obj);
/* The object behind fd, with a reference, or NULL (-EBADF) if fd is not a
 * handle of that kind (kind 0: any kind). */
struct bee_obj *bee_handle_get(struct bee *bee, int fd, enum bee_obj_kind kind);
struct bee_map *bee_map_get_fd(struct bee *bee, int fd);
struct bee_prog *bee_prog_get_fd(struct bee *bee, int fd);
/* Give obj an id and list it (obj->refcnt is 1).  Returns 0 or -ENOMEM. */
int bee_obj_register(struct bee *bee, struct bee_obj *obj, void (*destroy)(struct bee_obj *));
/* Ask that the next bee_obj_register on this thread give obj this id if
 * no live object of its kind has it (pin.c, recreating a pinned object). */
void bee_obj_request_id(uint32_t id);
/* The next id after start of the kind, or -ENOENT. */
int bee_obj_next_id(struct bee *bee, enum bee_obj_kind kind, uint32_t start, uint32_t *next);
/* The object of kind with id, referenced, or NULL. */
void bee_obj_unregister(struct bee *bee, struct bee_obj *obj);
struct bee_obj *bee_obj_by_id(struct bee *bee, enum bee_obj_kind kind, uint32_t id);
/* Is p a live map of this instance? (checked runs validate map arguments) */
bool bee_is_map(struct bee *bee, const void *p);
/* Does a map of the instance satisfy pred?  (Under the instance lock: pred
 * must not take it.) */
bool bee_any_map(struct bee *bee, bool (*pred)(struct bee_map *map, void *arg), void *arg);

/* CPU slots around runs (nested runs on one thread keep their slot). */
unsigned bee_cpu_acquire(struct bee *bee);
void bee_cpu_release(struct bee *bee, unsigned cpu);

/* ---- syscall.c ---- */
/* The end of a command's attributes: offset of its last field + its size. */
#define ATTR_END(field) (offsetof(union bpf_attr, field) + sizeof(((union bpf_attr *)0)->field))
/* Are all bytes of attr from end on zero?  (the kernel's CHECK_ATTR) */
bool attr_zero_from(const union bpf_attr *attr, size_t end);

/* ---- prog.c ---- */
int bee_cmd_prog_load(struct bee *bee, union bpf_attr *attr);
int bee_prog_info(struct bee *bee, struct bee_prog *prog, union bpf_attr *attr);
int bee_map_info(struct bee *bee, struct bee_map *map, union bpf_attr *attr);
void bee_prog_tag(const struct bpf_insn *insns, size_t n, uint8_t tag[8]);

/* ---- run.c ---- */
/* The context a helper runs in: set for the duration of a run. */
struct bee_run_ctx {
	struct bee *bee;
	struct bee_prog *prog;
	unsigned cpu;
	bool checked;
};
/* The run on this thread (NULL outside runs). */
struct bee_run_ctx *bee_run_current(void);
/*
 * Run prog once on ctx (r1).  pkt (may be NULL) is the packet under the
 * context: memory a checked run may use, and what ld abs/ind read.
 * Returns 0 with *r0 set, or the engine's negative errno with err filled.
 */
int bee_prog_run(struct bee_prog *prog, void *ctx, size_t ctx_len,
		 const struct bee_mem_region *pkt, uint64_t *r0, struct bee_error *err);
int bee_cmd_prog_test_run(struct bee *bee, union bpf_attr *attr);

/* ---- helpers.c ---- */
int bee_core_add_helpers(struct bee_helper_table *t);
/* A map argument of a helper: the map, or NULL when a checked run passed
 * something that is not one of its instance's maps. */
struct bee_map *bee_helper_map_arg(uint64_t p);

/* ---- pin.c ---- */
int bee_cmd_obj_pin(struct bee *bee, union bpf_attr *attr);
int bee_cmd_obj_get(struct bee *bee, union bpf_attr *attr);
/* Save every pinned object again (the instance is going away). */
void bee_pins_flush(struct bee *bee);
void bee_pins_free(struct bee *bee);
/* Save the files of obj's pins again now (a link just detached). */
void bee_pins_save_obj(struct bee *bee, struct bee_obj *obj);
/* bee_pin_error() (bee/bee.h) is the reason a BPF_OBJ_GET gave. */

/* ---- trace_pipe.c ---- */
struct bee_trace_pipe *bee_trace_pipe_new(void);
void bee_trace_pipe_free(struct bee_trace_pipe *tp);
/* Append one bpf_trace_printk message from the running program. */
void bee_trace_pipe_write(struct bee_trace_pipe *tp, const char *msg, size_t len, unsigned cpu);

/* ---- btf.c, link.c ---- */
int bee_cmd_btf_load(struct bee *bee, union bpf_attr *attr);
int bee_btf_info(struct bee_btf *btf, union bpf_attr *attr);
int bee_cmd_link_create(struct bee *bee, union bpf_attr *attr);
/* A new link of prog (its reference taken over; NULL: created detached)
 * on the hook (attach_type, target).  Returns a handle or -errno. */
int bee_link_new(struct bee *bee, struct bee_prog *prog, enum bpf_attach_type attach_type,
		 uint32_t target);
int bee_cmd_link_detach(struct bee *bee, union bpf_attr *attr);
int bee_cmd_raw_tracepoint_open(struct bee *bee, union bpf_attr *attr);
void bee_hooks_free(struct bee *bee);
int bee_link_info(struct bee_link_obj *link, union bpf_attr *attr);

/* Fill an info struct for BPF_OBJ_GET_INFO_BY_FD: copy at most the
 * user's info_len bytes of info (size bytes long), check that the rest of
 * what the user passed is zero, and report the length. */
int bee_info_copy_out(union bpf_attr *attr, const void *info, uint32_t size);

static inline void *u64_to_ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

#endif
