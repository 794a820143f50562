/*
 * platform.h - the instance-free helpers of bee's user-space "kernel" and
 * the pieces they share (private to libbee; the core and the tests include
 * it as "platform/platform.h").
 *
 * Every bee_helper_* function here has the helper calling convention
 * (bee_helper_fn: r1..r5 in, r0 out) and is registered under its kernel id
 * and name by bee_helper_table_add_builtins (builtins.c).  Errors are
 * negative errnos returned in r0, as the kernel's helpers do.
 *
 * Pointer arguments the kernel's verifier would have checked (a format
 * string, a destination buffer) are checked with bee_run_mem_ok against
 * what the running program may touch; when that fails the helper returns
 * -EFAULT instead of touching the memory.  Pointers the kernel itself only
 * reads "nofault" (the source of a probe read, a %s argument) are read
 * with bee_probe_copy, which turns a bad address into an error, never a
 * crash.
 */
#ifndef BEE_PLATFORM_PLATFORM_H
#define BEE_PLATFORM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bee/vm.h"

/* ---- trace_hook.c: where bpf_trace_printk's messages go ---- */

typedef void (*bee_trace_hook_fn)(void *user, const char *msg, size_t len);

/*
 * Send this thread's bpf_trace_printk/bpf_trace_vprintk messages to fn
 * (fn == NULL: back to the default, stderr).  The message is passed as the
 * kernel's bpf_trace_printk event stores it: the formatted text up to its
 * first NUL, without a newline added (a trailing '\n' is the program's).
 * Thread-local: the core sets it around a run and restores it after.
 */
void bee_trace_set_hook(bee_trace_hook_fn fn, void *user);
/* The current thread's hook (NULL when none), and its user pointer. */
bee_trace_hook_fn bee_trace_get_hook(void **user);
/* Deliver one message to the hook, or to stderr when there is none. */
void bee_trace_emit(const char *msg, size_t len);

/*
 * Format one trace_pipe line for a bpf_trace_printk event exactly as the
 * kernel does (see trace_hook.c for the observed layout), ending in '\n'.
 * Writes at most size bytes including a NUL (like snprintf) and returns
 * the line's full length.
 */
size_t bee_trace_format_line(char *buf, size_t size, const char *comm, int pid, int cpu,
			     uint64_t ts_ns, const char *msg, size_t len);

/* ---- probe_read.c: reading the process's own memory without faulting ---- */

/*
 * Copy len bytes from the address src (any value: it may be unmapped) to
 * dst.  Returns 0, or -EFAULT when any byte of [src, src+len) cannot be
 * read (then dst holds garbage for the part after the fault).
 */
int bee_probe_copy(void *dst, uintptr_t src, size_t len);
/*
 * Copy a NUL-terminated string from src into dst (count bytes of room),
 * the kernel's strncpy_from_user_nofault: returns the length copied
 * including the NUL (count when truncated, and then dst[count-1] = 0), 0
 * when count <= 0, or -EFAULT when a byte before the NUL cannot be read.
 * Bytes of dst after the NUL are left alone.
 */
long bee_probe_copy_str(char *dst, uintptr_t src, long count);

uint64_t bee_helper_probe_read(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4, uint64_t r5);
uint64_t bee_helper_probe_read_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				   uint64_t r5);
uint64_t bee_helper_probe_read_user(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				    uint64_t r5);
uint64_t bee_helper_probe_read_user_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
					uint64_t r5);
uint64_t bee_helper_probe_read_kernel(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				      uint64_t r5);
uint64_t bee_helper_probe_read_kernel_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
					  uint64_t r5);

/* ---- printk.c: the kernel's bpf_bprintf_prepare + bstr_printf ---- */

/* MAX_BPRINTF_VARARGS, MAX_BPRINTF_BUF, MAX_BPRINTF_BIN_ARGS */
#define BEE_BPRINTF_MAX_ARGS 12
#define BEE_BPRINTF_BUF 1024
#define BEE_BPRINTF_BIN_ARGS 512

/*
 * Format fmt (NUL-terminated within fmt_size bytes) with nargs raw 64-bit
 * arguments into out (out_size bytes, NUL-terminated when out_size > 0),
 * with the kernel's rules for BPF format strings.  Returns the length the
 * whole output would have (without the NUL, like snprintf), or -EINVAL
 * for a format the kernel refuses, -ENOSPC when the arguments do not fit
 * the kernel's 512-byte argument buffer.
 */
int bee_bprintf(char *out, size_t out_size, const char *fmt, size_t fmt_size,
		const uint64_t *args, unsigned nargs);

uint64_t bee_helper_trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a1, uint64_t a2,
				 uint64_t a3);
uint64_t bee_helper_trace_vprintk(uint64_t fmt, uint64_t fmt_size, uint64_t data,
				  uint64_t data_len, uint64_t r5);
uint64_t bee_helper_snprintf(uint64_t str, uint64_t str_size, uint64_t fmt, uint64_t data,
			     uint64_t data_len);

/* ---- strings.c ---- */

uint64_t bee_helper_strtol(uint64_t buf, uint64_t buf_len, uint64_t flags, uint64_t res,
			   uint64_t r5);
uint64_t bee_helper_strtoul(uint64_t buf, uint64_t buf_len, uint64_t flags, uint64_t res,
			    uint64_t r5);

/* ---- task.c: the "current task" of a user-space kernel ---- */

#define BEE_TASK_MAGIC 0x6b736174u /* "task" */
#define BEE_TASK_COMM_LEN 16       /* TASK_COMM_LEN */

/*
 * What bpf_get_current_task and bpf_get_current_task_btf point at: one per
 * thread, owned by bee, refreshed by each call.  It is not a task_struct:
 * bpf_probe_read_kernel of it fails with -ERANGE like any other address
 * (there is no kernel memory in user space), and direct loads from it are
 * only allowed (read-only, granted to the run) through the _btf variant.
 */
struct bee_task {
	uint32_t magic;                /* BEE_TASK_MAGIC */
	int32_t pid;                   /* the thread id (the kernel's task->pid) */
	int32_t tgid;                  /* the process id (task->tgid) */
	uint32_t uid, gid;             /* real ids, as bpf_get_current_uid_gid */
	char comm[BEE_TASK_COMM_LEN];  /* as bpf_get_current_comm */
};

uint64_t bee_helper_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					 uint64_t r5);
uint64_t bee_helper_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					uint64_t r5);
uint64_t bee_helper_get_current_comm(uint64_t buf, uint64_t size, uint64_t r3, uint64_t r4,
				     uint64_t r5);
uint64_t bee_helper_get_current_task(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5);
uint64_t bee_helper_get_current_task_btf(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					 uint64_t r5);
uint64_t bee_helper_get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5);
uint64_t bee_helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5);

/* HZ of bee's jiffies (CONFIG_HZ=250, the common distribution choice) */
#define BEE_HZ 250

/* ---- pkt.c: the packet helpers of BPF_PROG_TEST_RUN ---- */

enum bee_pkt_kind { BEE_PKT_SKB, BEE_PKT_XDP };

/* sizeof(struct xdp_frame), which the kernel keeps at an XDP buffer's
 * start: data_meta and data may not move below it */
#define BEE_XDP_FRAME_SIZE 40
/* the longest XDP metadata: xdp_metalen_invalid() allows what fits the u8
 * skb_shared_info.meta_len, in multiples of 4 */
#define BEE_XDP_META_MAX 252

/*
 * A test run's packet, as the helpers see it (the kernel's sk_buff or
 * xdp_buff, for the linear buffer BPF_PROG_TEST_RUN builds).  The core
 * fills it in and publishes it for the run; the helpers move meta, data
 * and end within [hard_start, hard_end) and write them back into ctx.
 */
struct bee_pkt {
	enum bee_pkt_kind kind;
	void *ctx;                 /* the program's struct __sk_buff or struct xdp_md */
	bool writable;             /* skb: bpf_skb_store_bytes allowed (tc) */
	unsigned char *hard_start; /* the buffer (XDP: data_hard_start) */
	unsigned char *hard_end;   /* XDP: how far data_end may grow */
	unsigned char *meta;       /* data_meta: metadata from here to data */
	unsigned char *data;       /* the first byte the program sees */
	unsigned char *end;        /* data_end */
	unsigned char *mac;        /* skb: the MAC header (BPF_HDR_START_MAC) */
	unsigned char *net;        /* skb: the network header (BPF_HDR_START_NET) */
};

/* Publish pkt as this thread's test-run packet (NULL: none); returns the
 * previous one, to restore after the run. */
struct bee_pkt *bee_pkt_set_current(struct bee_pkt *pkt);
struct bee_pkt *bee_pkt_current(void);
/* Is [addr, addr + size) inside the live packet, metadata included? */
bool bee_pkt_contains(const struct bee_pkt *pkt, uintptr_t addr, size_t size);
/* Register the packet helpers with their kernel prototypes (called by
 * bee_helper_table_add_builtins). */
int bee_helper_table_add_pkt(struct bee_helper_table *t);

#endif
