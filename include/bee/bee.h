/*
 * bee/bee.h - a bee instance: one independent user-space eBPF "kernel",
 * and the bpf() command call that is its only door.
 *
 * An instance owns programs, maps, links and BTF objects.  Each object has
 * an id (unique in the instance, never reused) and is reached through
 * file-descriptor-like handles: small non-negative integers local to the
 * instance, each holding one reference.  bee_close() drops a handle; an
 * object lives while a handle, a pin, a program that uses it or a map that
 * holds it references it.
 *
 * bee_bpf() takes the kernel's own commands (BPF_MAP_CREATE, ...) and the
 * kernel's union bpf_attr, and answers as the kernel does: a handle or 0 on
 * success, a negative errno on failure (the kernel's errno conventions;
 * where the kernel returns -1 and sets errno, bee returns -errno).  Code
 * that speaks this interface works unchanged against the real kernel.
 *
 * Several instances may live in one process; each is thread-safe: programs
 * may run on several threads while the host reads and updates maps.
 */
#ifndef BEE_BEE_H
#define BEE_BEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/error.h"
#include "bee/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bee;

struct bee_opts {
	size_t sz;             /* sizeof(struct bee_opts) */
	/* Where BPF_OBJ_PIN puts pins (a directory; created if missing).
	 * Pinned objects are saved there and outlive the process; another
	 * instance given the same directory finds them with BPF_OBJ_GET.
	 * NULL: $BEE_PIN_DIR, or /tmp/bee-pins-$UID. */
	const char *pin_dir;
	/* How many CPUs per-CPU maps have and programs may run on at once.
	 * 0: the number of online CPUs. */
	unsigned ncpus;
	/* The engine programs run on (BEE_ENGINE_INTERP or BEE_ENGINE_JIT);
	 * the JIT falls back to the interpreter where there is none. */
	enum bee_engine engine;
	/* Follow the kernel: BPF_PROG_LOAD runs bee's verifier, refuses what it
	 * cannot prove safe (with the reason in the log), and runs what it
	 * proves safe unchecked, on the fast interpreter or JIT.  Off (the
	 * default): every program loads and runs checked (bounds-checked
	 * loads and stores).  The verifier is young and conservative (issue
	 * 6): it refuses some safe programs, saying "not supported yet". */
	bool trusted_fast_path;
	/* Checked runs stop after this many instructions (callbacks and tail
	 * calls included) with -ETIME: an unverified program may loop
	 * forever, which would hang BPF_PROG_TEST_RUN and bee_link_run.
	 * 0: BEE_DEFAULT_MAX_INSNS; UINT64_MAX: no limit. */
	uint64_t max_insns;
};

/* The default instruction budget of a checked run: 64 Mi instructions,
 * well under a second on the checked interpreter. */
#define BEE_DEFAULT_MAX_INSNS (1ull << 26)

/* BPF_PROG_LOAD's log_level, beyond the kernel's bits (1, 2, 4 stats, 8
 * fixed): with bee's verifier, a refusal also explains itself (the failing
 * instruction and source line, the branches that led there, the values,
 * the usual fix).  Only bee's own target accepts it. */
#define BEE_LOG_EXPLAIN 16u

/* Create an instance.  NULL with errno set on failure. */
struct bee *bee_new(const struct bee_opts *opts);
/* Destroy an instance and every object it still owns (pins stay on disk). */
void bee_free(struct bee *bee);

/*
 * The bpf() system call of this instance.  cmd is a BPF_* command, attr its
 * argument, size the number of bytes of attr the caller filled (bytes past
 * what bee knows for cmd must be zero, else -E2BIG, as the kernel does).
 * Returns a handle or a non-negative result, or a negative errno.
 */
long bee_bpf(struct bee *bee, int cmd, union bpf_attr *attr, unsigned int size);

/* Drop a handle (the close() of bee's file descriptors). */
int bee_close(struct bee *bee, int fd);

/* ---- the trace pipe: bpf_trace_printk output, one line per call ---- */

/*
 * Read trace-pipe text into buf (at most len bytes, whole lines only, not
 * NUL-terminated).  Waits up to timeout_ms for a line (-1: forever, 0: do
 * not wait).  Returns the number of bytes read, 0 on timeout.  Each line is
 * in the kernel's trace_pipe format:
 *   "           <comm>-<pid>     [<cpu>] <flags> <sec>.<usec>: bpf_trace_printk: <msg>\n"
 */
long bee_trace_pipe_read(struct bee *bee, char *buf, size_t len, int timeout_ms);

/*
 * Also append every trace-pipe line, as it is printed, to the file at path
 * (created if missing; each line one write(2) in O_APPEND mode, so several
 * processes may mirror into one file).  Lines stay readable with
 * bee_trace_pipe_read too.  NULL path stops mirroring.  0 or -errno.
 */
int bee_trace_pipe_mirror(struct bee *bee, const char *path);

/* ---- helpers an embedder adds ---- */

/*
 * Make helper->fn callable from this instance's programs as helper->id,
 * with its prototype (helper->ret, helper->args, helper->gpl_only: what a
 * verifier checks at each call).  Programs loaded afterwards see it; ids
 * the kernel defines may be replaced.  Pointer arguments should be checked
 * with bee_run_mem_ok (vm.h) before use: until the verifier lands every
 * program runs checked, and a checked program may pass any value.
 */
int bee_add_helper(struct bee *bee, const struct bee_helper *helper);

/* ---- reading what programs send: ring buffers and perf event arrays ---- */

/*
 * Consume every committed record of the BPF_MAP_TYPE_RINGBUF map_fd, in
 * order (discarded records skipped): cb(ctx, data, size) for each, data
 * valid during the call.  Returns the number consumed, or the first
 * negative value cb returned, or a negative errno (-EBADF, -EINVAL for
 * another map type).  With timeout_ms != 0 it first waits for data (at
 * most timeout_ms, < 0: forever).  libbpf's ring_buffer__poll, in one call.
 */
int bee_ringbuf_poll(struct bee *bee, int map_fd, int (*cb)(void *ctx, void *data, size_t size),
		     void *ctx, int timeout_ms);

/*
 * Drain a BPF_MAP_TYPE_PERF_EVENT_ARRAY: cb(ctx, cpu, data, size) for each
 * sample, channel by channel; lost(ctx, cpu, count) (may be NULL) when
 * samples were dropped because a channel was full.  A channel is open once
 * the host has updated its slot (any value), as attaching a perf event fd
 * does in the kernel.  timeout_ms as for bee_ringbuf_poll.
 */
int bee_perf_buffer_poll(struct bee *bee, int map_fd,
			 int (*cb)(void *ctx, int cpu, void *data, size_t size),
			 int (*lost)(void *ctx, int cpu, uint64_t count), void *ctx, int timeout_ms);

/*
 * The values of a BPF_F_MMAPABLE array, shared with the programs (the
 * kernel's mmap() of the map fd): *len bytes, values at multiples of
 * value_size rounded up to 8.  The memory lives while the map does (hold
 * the handle).  NULL with errno EINVAL for other maps, EBADF for a bad fd.
 */
void *bee_map_mmap(struct bee *bee, int map_fd, size_t *len);

/* ---- hooks: where links attach in user space ---- */

/*
 * Fire a hook: run every program linked (BPF_LINK_CREATE) with this
 * attach type and target, on ctx.  An embedder defines its own events this
 * way.  Returns how many programs ran, or the first run's negative errno.
 */
int bee_link_run(struct bee *bee, enum bpf_attach_type type, uint32_t target, void *ctx,
		 size_t ctx_len);

/*
 * Named hooks.  A hook may be named by a string instead of a number; the
 * names bee_program_attach() (object.h) uses are the program's section
 * name with the prefix made canonical: "raw_tp/NAME" (raw_tp,
 * raw_tracepoint and their .w forms), "tp/CAT/NAME" (tp, tracepoint),
 * "kprobe/FUNC[+OFF]", "kretprobe/FUNC[+OFF]", "uprobe/PATH:FUNC[+OFF]",
 * "uretprobe/PATH:FUNC[+OFF]", "usdt/PATH:PROVIDER:NAME" (.s forms
 * dropped).  An embedder may use any other name as well.
 *
 * bee_hook_id() interns name and gives its target id (>=
 * BEE_HOOK_NAMED_BASE, the same id for the same name for the instance's
 * life; numeric targets an embedder picks itself should stay below it),
 * usable with BPF_LINK_CREATE and bee_link_run().  0 or -errno (-EINVAL
 * for an empty name, -ENAMETOOLONG past 255 bytes).
 *
 * BPF_RAW_TRACEPOINT_OPEN (raw_tracepoint.name, .prog_fd) links a program
 * to a named hook, as the kernel's command links one to a raw tracepoint:
 * a name without '/' means "raw_tp/NAME" (the kernel's meaning), a name
 * with '/' is the hook's whole name.  "raw_tp/" hooks take raw tracepoint
 * programs only (-EINVAL otherwise); the link reads back
 * (BPF_OBJ_GET_INFO_BY_FD) as a raw tracepoint link whose tp_name is the
 * hook's name.
 *
 * bee_link_run_named() fires the hook called name: every program linked
 * to it runs on ctx (for raw tracepoints: the u64 argument array).
 * Returns how many ran (0 for a name nothing was ever linked to), or the
 * first run's negative errno.
 */
#define BEE_HOOK_NAMED_BASE 0x80000000u
int bee_hook_id(struct bee *bee, const char *name, uint32_t *target);
int bee_link_run_named(struct bee *bee, const char *name, void *ctx, size_t ctx_len);

/* Why the last program run on this thread stopped early (a checked run's
 * fault: which instruction, what access), or NULL when it did not. */
const struct bee_error *bee_last_run_error(void);

/* ---- thin typed wrappers over bee_bpf (libbpf's bpf.h, bee-flavoured) ---- */

struct bee_map_create_opts {
	size_t sz;            /* sizeof(struct bee_map_create_opts) */
	uint32_t map_flags;
	uint32_t inner_map_fd; /* ARRAY_OF_MAPS / HASH_OF_MAPS: a template map */
	uint64_t map_extra;   /* BLOOM_FILTER: number of hash functions */
	uint32_t numa_node;
	uint32_t btf_fd, btf_key_type_id, btf_value_type_id;
};

int bee_map_create(struct bee *bee, enum bpf_map_type type, const char *name, uint32_t key_size,
		   uint32_t value_size, uint32_t max_entries, const struct bee_map_create_opts *opts);
int bee_map_update(struct bee *bee, int fd, const void *key, const void *value, uint64_t flags);
int bee_map_lookup(struct bee *bee, int fd, const void *key, void *value);
int bee_map_lookup_flags(struct bee *bee, int fd, const void *key, void *value, uint64_t flags);
int bee_map_lookup_and_delete(struct bee *bee, int fd, const void *key, void *value);
int bee_map_delete(struct bee *bee, int fd, const void *key);
int bee_map_get_next_key(struct bee *bee, int fd, const void *key, void *next_key);
int bee_map_freeze(struct bee *bee, int fd);
/* Whether the map fd names is frozen: 1 or 0, or a negative errno (not a
 * map).  The kernel tells this through /proc/PID/fdinfo ("frozen:"). */
int bee_map_frozen(struct bee *bee, int fd);

struct bee_prog_load_opts {
	size_t sz;              /* sizeof(struct bee_prog_load_opts) */
	uint32_t prog_flags;
	enum bpf_attach_type expected_attach_type;
	char *log_buf;          /* the load log (verifier log once it lands) */
	uint32_t log_size;
	uint32_t log_level;
	uint32_t kern_version;
	const int *fd_array;    /* for BPF_PSEUDO_MAP_IDX lddw forms */
	uint32_t prog_btf_fd;
};

int bee_prog_load(struct bee *bee, enum bpf_prog_type type, const char *name, const char *license,
		  const struct bpf_insn *insns, size_t insn_cnt,
		  const struct bee_prog_load_opts *opts);

struct bee_test_run_opts {
	size_t sz;              /* sizeof(struct bee_test_run_opts) */
	const void *data_in;    /* the packet, for packet program types */
	void *data_out;         /* the packet after the run */
	uint32_t data_size_in;
	uint32_t data_size_out; /* in: room in data_out; out: bytes written */
	const void *ctx_in;     /* the context (for raw tracepoints: the u64 arguments) */
	void *ctx_out;
	uint32_t ctx_size_in;
	uint32_t ctx_size_out;
	uint32_t retval;        /* out: r0 of the last run */
	int repeat;             /* runs (0 means 1) */
	uint32_t duration;      /* out: average ns per run */
	uint32_t flags;
	uint32_t cpu;
};

int bee_prog_test_run(struct bee *bee, int prog_fd, struct bee_test_run_opts *opts);

int bee_obj_pin(struct bee *bee, int fd, const char *path);
int bee_obj_get(struct bee *bee, const char *path);
/*
 * Why the last BPF_OBJ_GET (bee_obj_get) made on this thread failed, as
 * one line: "pin PATH: what is wrong" (a file that is not a pin, is
 * truncated or corrupt, names a pin that cannot be got, a path outside
 * the pin directory, ...), naming the innermost file at fault when the pin
 * leads to others.  "" when that get succeeded (or none was made).  The
 * string belongs to the thread and is overwritten by its next get.
 */
const char *bee_pin_error(void);

int bee_prog_get_next_id(struct bee *bee, uint32_t start_id, uint32_t *next_id);
int bee_map_get_next_id(struct bee *bee, uint32_t start_id, uint32_t *next_id);
int bee_prog_get_fd_by_id(struct bee *bee, uint32_t id);
int bee_map_get_fd_by_id(struct bee *bee, uint32_t id);
/* BPF_OBJ_GET_INFO_BY_FD: info is a struct bpf_prog_info, bpf_map_info,
 * bpf_btf_info or bpf_link_info; *info_len in: its size, out: bytes filled. */
int bee_obj_get_info_by_fd(struct bee *bee, int fd, void *info, uint32_t *info_len);

#ifdef __cplusplus
}
#endif
#endif
