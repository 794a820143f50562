/*
 * bee/object.h - the libbpf-shaped object API: open a clang-built BPF
 * object, adjust it, load it into a target, find its programs and maps.
 *
 * Theory of operation.  An object is opened from an ELF file or memory
 * (bee_object_open_file/_mem): the ELF reader and the BTF parser check
 * everything, and the object's programs (one per entry function, as
 * libbpf has it), maps (BTF-defined .maps, legacy "maps", and the internal
 * maps of .data/.rodata/.bss/.rodata.str*, .kconfig) are described but
 * nothing exists in any target yet.  Between open and load the host may
 * change program types, autoload, map sizes and initial values (that is
 * how `const volatile` .rodata settings are made).  bee_object_load()
 * then does, in libbpf's order: load BTF, create maps (fill and freeze
 * internal ones, fill map-in-map slots), relocate every program (maps,
 * global data, subprograms appended after the program, externs) and load
 * them.
 *
 * A target is just a bpf() entry point and a close(): bee_target_of()
 * gives the user-space core's, bee_target_kernel() the real kernel's.
 * The loader never reaches past those two calls.
 *
 * Errors: NULL with errno set (pointers) or a negative errno (ints), and a
 * message that names the section, symbol and instruction: for open in
 * opts->err, for load in bee_object_error().
 */
#ifndef BEE_OBJECT_H
#define BEE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bee;
struct bee_object;
struct bee_program;
struct bee_object_map;
struct bee_link;

/* Where objects are loaded: bpf() and close() of one target. */
struct bee_target {
	long (*bpf)(void *ctx, int cmd, union bpf_attr *attr, unsigned size); /* -errno on failure */
	int (*close)(void *ctx, int fd);
	void *ctx;
	bool is_kernel; /* the real kernel: kernel symbols and vmlinux BTF exist */
};

/* The user-space core instance bee as a target (bee_bpf / bee_close). */
struct bee_target bee_target_of(struct bee *bee);
/* The running kernel: syscall(__NR_bpf) and close(2). */
struct bee_target bee_target_kernel(void);

struct bee_object_open_opts {
	size_t sz;                    /* sizeof(struct bee_object_open_opts) */
	const char *object_name;      /* default: file name up to its first '.'; "mem" for memory */
	const char *pin_root_path;    /* for LIBBPF_PIN_BY_NAME maps; default "/sys/fs/bpf" */
	const char *btf_custom_path;  /* target BTF for CO-RE (raw BTF, or an ELF file's .BTF);
	                               * default /sys/kernel/btf/vmlinux (kernel) */
	const char *kconfig;          /* extra "CONFIG_X=y\nCONFIG_Y=42" lines for .kconfig externs */
	uint32_t kern_version;        /* LINUX_KERNEL_VERSION; 0: from uname */
	struct bee_error *err;        /* open failures are described here */
};

struct bee_object *bee_object_open_file(const char *path, const struct bee_object_open_opts *opts);
struct bee_object *bee_object_open_mem(const void *data, size_t size,
				       const struct bee_object_open_opts *opts);
/* Create maps, load BTF, relocate, load programs.  0 or -errno (message:
 * bee_object_error()).  An object is loaded once. */
int bee_object_load(struct bee_object *obj, const struct bee_target *target);
/* Close every handle the object holds in its target and free it. */
void bee_object_close(struct bee_object *obj);

const char *bee_object_name(const struct bee_object *obj);
/* The last load error's message ("" when none). */
const char *bee_object_error(const struct bee_object *obj);
/* Warnings of the last load (e.g. "BTF refused by target, loaded without"), "" when none. */
const char *bee_object_warnings(const struct bee_object *obj);
/* Whether the object's BTF was loaded into the target (its fd, or -1). */
int bee_object_btf_fd(const struct bee_object *obj);

/* ---- programs ---- */
struct bee_program *bee_object_find_program_by_name(const struct bee_object *obj, const char *name);
/* Iterate: prev NULL gives the first; NULL after the last. */
struct bee_program *bee_object_next_program(const struct bee_object *obj,
					    const struct bee_program *prev);
size_t bee_object_program_count(const struct bee_object *obj);

int bee_program_fd(const struct bee_program *prog);           /* -1 before load / not loaded */
const char *bee_program_name(const struct bee_program *prog);
const char *bee_program_section_name(const struct bee_program *prog);
enum bpf_prog_type bee_program_type(const struct bee_program *prog);
int bee_program_set_type(struct bee_program *prog, enum bpf_prog_type type);
enum bpf_attach_type bee_program_expected_attach_type(const struct bee_program *prog);
int bee_program_set_expected_attach_type(struct bee_program *prog, enum bpf_attach_type type);
bool bee_program_autoload(const struct bee_program *prog);
int bee_program_set_autoload(struct bee_program *prog, bool autoload);
/* Instructions: as in the object before load, relocated (subprograms
 * appended) after. */
const struct bpf_insn *bee_program_insns(const struct bee_program *prog);
size_t bee_program_insn_cnt(const struct bee_program *prog);
/* The target's load log ("" when none): of the last failed load, or,
 * with a log level set, of the last load whether it succeeded or not. */
const char *bee_program_log(const struct bee_program *prog);
/*
 * Ask the target for a load log at this level on every load of the
 * program (libbpf's bpf_program__set_log_level), in a 1 MiB buffer kept
 * for bee_program_log even when the load succeeds: level 1 is the
 * verifier's verdict and statistics, 2 adds its per-instruction log, 4
 * statistics only (the kernel's BPF_LOG_* bits; what a target writes for
 * each is the target's).  0, the default, loads without a log and asks
 * for one at level 1 only to explain a refusal.  Before load only
 * (-EBUSY after); -EINVAL for levels above 15.
 */
int bee_program_set_log_level(struct bee_program *prog, uint32_t level);
uint32_t bee_program_log_level(const struct bee_program *prog);

/* ---- attaching (libbpf's bpf_program__attach) ---- */

/*
 * Attach a loaded program where its section name says (libbpf's
 * auto-attach).  Returns a link, or NULL with errno set and the reason in
 * bee_object_error() of the program's object.
 *
 * User-space target (a bee instance): the section becomes a named hook
 * (bee.h) and the program is linked to it with BPF_RAW_TRACEPOINT_OPEN;
 * the embedder fires it with bee_link_run_named(bee, bee_link_hook(link),
 * ctx, len).  Hook names: "raw_tp/NAME" for raw_tp/, raw_tracepoint/ and
 * their .w forms; "tp/CAT/NAME" for tp/ and tracepoint/; "kprobe/...",
 * "kretprobe/...", "uprobe/...", "uretprobe/...", "usdt/..." with the
 * section's extras as written (.s forms dropped).  Not attachable there
 * yet (-EOPNOTSUPP, the message says what is missing): xdp, tc/tcx/
 * netkit, cgroup_*, sk_*, sockops, flow_dissector, lirc, lwt, netfilter,
 * perf_event, struct_ops, kprobe.multi/uprobe.multi/session, ksyscall,
 * socket filters and syscall programs (no hook of theirs exists in user
 * space); fentry/fexit/fmod_ret/lsm/tp_btf/iter do not load there at all.
 * A section without a target ("kprobe" alone) gives -ESRCH, as libbpf's.
 *
 * Kernel target: raw_tp/NAME with BPF_RAW_TRACEPOINT_OPEN; fentry, fexit,
 * fmod_ret, tp_btf, lsm with BPF_RAW_TRACEPOINT_OPEN on the program's
 * attach_btf_id (resolved at load from /sys/kernel/btf/vmlinux); iter
 * with BPF_LINK_CREATE (BPF_TRACE_ITER).  kprobe/FUNC[+OFF],
 * kretprobe/FUNC, uprobe/PATH:FUNC[+OFF] (FUNC found in PATH's .symtab or
 * .dynsym, or PATH:+OFF / PATH:0xOFF as a file offset), uretprobe and
 * tracepoint/CAT/NAME (tp/...) with perf_event_open(2) (the kprobe/uprobe
 * PMU's dynamic type, config1 the name or path, config2 the offset, the
 * PMU format's retprobe bit; PERF_TYPE_TRACEPOINT with the id under
 * /sys/kernel/tracing/events, tracefs mounted there if absent, or
 * /sys/kernel/debug/tracing), all processes (pid -1, cpu 0, as libbpf),
 * then BPF_LINK_CREATE (BPF_PERF_EVENT), or PERF_EVENT_IOC_SET_BPF +
 * _ENABLE where the kernel has no perf links; the link owns the perf
 * event and closes it on destroy.  A kernel without the PMU gives
 * -EOPNOTSUPP naming the sysfs file.  usdt, ksyscall, kprobe.multi/
 * uprobe.multi and the network hooks give -EOPNOTSUPP for now.
 */
struct bee_link *bee_program_attach(struct bee_program *prog);
/* The link's handle in its target (the kernel's fd, or a bee handle). */
int bee_link_fd(const struct bee_link *link);
/* The hook the link is on: the named hook (user space) or the kernel
 * function / tracepoint name. */
const char *bee_link_hook(const struct bee_link *link);
/* Pin the link (BPF_OBJ_PIN).  0 or -errno. */
int bee_link_pin(struct bee_link *link, const char *path);
/* Close the link's handle and free it: the program is detached unless the
 * link is pinned or another handle holds it (libbpf's bpf_link__destroy).
 * 0, or -errno from close.  NULL is a no-op. */
int bee_link_destroy(struct bee_link *link);

/* ---- maps ---- */
struct bee_object_map *bee_object_find_map_by_name(const struct bee_object *obj, const char *name);
struct bee_object_map *bee_object_next_map(const struct bee_object *obj,
					   const struct bee_object_map *prev);
size_t bee_object_map_count(const struct bee_object *obj);

int bee_object_map_fd(const struct bee_object_map *map);
/* libbpf's names: internal maps are "<obj prefix>.data", ".rodata.str1.1"... */
const char *bee_object_map_name(const struct bee_object_map *map);
enum bpf_map_type bee_object_map_type(const struct bee_object_map *map);
uint32_t bee_object_map_key_size(const struct bee_object_map *map);
uint32_t bee_object_map_value_size(const struct bee_object_map *map);
uint32_t bee_object_map_max_entries(const struct bee_object_map *map);
uint32_t bee_object_map_flags(const struct bee_object_map *map);
bool bee_object_map_is_internal(const struct bee_object_map *map);
/* Before load only (-EBUSY after). */
int bee_object_map_set_max_entries(struct bee_object_map *map, uint32_t max_entries);
int bee_object_map_set_value_size(struct bee_object_map *map, uint32_t size);
int bee_object_map_set_type(struct bee_object_map *map, enum bpf_map_type type);
/* Internal maps: replace the section image (size must equal value_size). */
int bee_object_map_set_initial_value(struct bee_object_map *map, const void *data, size_t size);
/* Internal maps: the section image, writable before load (libbpf's
 * bpf_map__initial_value); NULL for other maps. */
void *bee_object_map_initial_value(struct bee_object_map *map, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
