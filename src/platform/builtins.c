/*
 * builtins.c - the kernel helpers that mean the same in user space without
 * maps or event sources.  The map, ring buffer and trace-pipe helpers come
 * with the core (maps and the bpf() command interface).  bpf_loop is here:
 * it needs nothing but the engines' callbacks (bee_run_callback).
 *
 * Helpers receive only r1..r5 (so a JIT can call them directly); pointer
 * arguments are checked with bee_run_mem_ok against what the running
 * program may touch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>

#include "bee/vm.h"
#include "platform/platform.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t helper_ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					 uint64_t r5)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t helper_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				       uint64_t r5)
{
	/* xorshift64*, seeded per thread from the clock */
	static __thread uint64_t state;
	if (!state)
		state = clock_ns(CLOCK_MONOTONIC) | 1;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (uint32_t)((state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint64_t helper_get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					    uint64_t r5)
{
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : (uint64_t)cpu;
}

/*
 * bpf_loop(nr_loops, callback_fn, callback_ctx, flags), as the kernel's
 * (kernel/bpf/bpf_iter.c): flags must be 0 (-EINVAL), nr_loops is a u32
 * of at most 1 << 23 (BPF_MAX_LOOPS; more: -E2BIG); callback_fn(i, ctx)
 * runs for i = 0, 1, ... until it returns nonzero (the verifier allows 0,
 * go on, and 1, stop); the result is the number of calls made.  The
 * callback is a function of the running program (bee_run_callback), whose
 * errors come back as the result: -EINVAL for a callback_fn that names
 * none, -E2BIG for a call stack too deep, and a fault of the callback,
 * which also stops the run.
 */
#define BPF_MAX_LOOPS (1u << 23)

static uint64_t helper_loop(uint64_t nr_loops, uint64_t fn, uint64_t ctx, uint64_t flags,
			    uint64_t r5)
{
	uint32_t n = (uint32_t)nr_loops;
	if (flags)
		return (uint64_t)-EINVAL;
	if (n > BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t r0;
		int ret = bee_run_callback(fn, i, ctx, 0, 0, 0, &r0);
		if (ret < 0)
			return (uint64_t)(int64_t)ret;
		if (r0)
			return (uint64_t)i + 1;
	}
	return n;
}

/* Short names for the prototype tables below. */
#define ANY BEE_ARG_ANYTHING
#define MEM BEE_ARG_MEM
#define MEMN BEE_ARG_MEM_OR_NULL
#define MEMOUT BEE_ARG_MEM_OUT
#define MEMOUTN BEE_ARG_MEM_OUT /* snprintf's str may be NULL with size 0 */
#define SIZE BEE_ARG_SIZE
#define SIZE0 BEE_ARG_SIZE_OR_ZERO
#define STR BEE_ARG_CONST_STR
#define LONG BEE_ARG_LONG_OUT
#define FUNC BEE_ARG_FUNC
#define STACKN BEE_ARG_STACK_OR_NULL

int bee_helper_table_add_builtins(struct bee_helper_table *t)
{
	static const struct bee_helper builtins[] = {
		{.id = BPF_FUNC_ktime_get_ns, .name = "bpf_ktime_get_ns", .fn = helper_ktime_get_ns},
		/* printk.c */
		{BPF_FUNC_trace_printk, "bpf_trace_printk", bee_helper_trace_printk,
		 BEE_RET_INTEGER, {MEM, SIZE}, true}, /* r3-r5: not checked, as in the kernel */
		{BPF_FUNC_trace_vprintk, "bpf_trace_vprintk", bee_helper_trace_vprintk,
		 BEE_RET_INTEGER, {MEM, SIZE, MEMN, SIZE0}, true},
		{BPF_FUNC_snprintf, "bpf_snprintf", bee_helper_snprintf,
		 BEE_RET_INTEGER, {MEMOUTN, SIZE0, STR, MEMN, SIZE0}, false},
		/* strings.c */
		{BPF_FUNC_strtol, "bpf_strtol", bee_helper_strtol,
		 BEE_RET_INTEGER, {MEM, SIZE, ANY, LONG}, false},
		{BPF_FUNC_strtoul, "bpf_strtoul", bee_helper_strtoul,
		 BEE_RET_INTEGER, {MEM, SIZE, ANY, LONG}, false},
		/* task.c */
		{.id = BPF_FUNC_get_current_pid_tgid, .name = "bpf_get_current_pid_tgid", .fn = bee_helper_get_current_pid_tgid},
		{.id = BPF_FUNC_get_current_uid_gid, .name = "bpf_get_current_uid_gid", .fn = bee_helper_get_current_uid_gid},
		{BPF_FUNC_get_current_comm, "bpf_get_current_comm", bee_helper_get_current_comm,
		 BEE_RET_INTEGER, {MEMOUT, SIZE}, false},
		{BPF_FUNC_get_current_task, "bpf_get_current_task", bee_helper_get_current_task,
		 BEE_RET_INTEGER, {0}, true},
		{BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf",
		 bee_helper_get_current_task_btf, BEE_RET_TASK, {0}, true},
		{.id = BPF_FUNC_get_numa_node_id, .name = "bpf_get_numa_node_id", .fn = bee_helper_get_numa_node_id},
		{.id = BPF_FUNC_jiffies64, .name = "bpf_jiffies64", .fn = bee_helper_jiffies64},
		/* probe_read.c */
		{BPF_FUNC_probe_read, "bpf_probe_read", bee_helper_probe_read,
		 BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{BPF_FUNC_probe_read_str, "bpf_probe_read_str", bee_helper_probe_read_str,
		 BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{BPF_FUNC_probe_read_user, "bpf_probe_read_user", bee_helper_probe_read_user,
		 BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{BPF_FUNC_probe_read_user_str, "bpf_probe_read_user_str",
		 bee_helper_probe_read_user_str, BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{BPF_FUNC_probe_read_kernel, "bpf_probe_read_kernel", bee_helper_probe_read_kernel,
		 BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{BPF_FUNC_probe_read_kernel_str, "bpf_probe_read_kernel_str",
		 bee_helper_probe_read_kernel_str, BEE_RET_INTEGER, {MEMOUT, SIZE0, ANY}, true},
		{.id = BPF_FUNC_get_prandom_u32, .name = "bpf_get_prandom_u32", .fn = helper_get_prandom_u32},
		{.id = BPF_FUNC_get_smp_processor_id, .name = "bpf_get_smp_processor_id", .fn = helper_get_smp_processor_id},
		{.id = BPF_FUNC_ktime_get_boot_ns, .name = "bpf_ktime_get_boot_ns", .fn = helper_ktime_get_boot_ns},
		{BPF_FUNC_loop, "bpf_loop", helper_loop, BEE_RET_INTEGER,
		 {ANY, FUNC, STACKN, ANY}, false},
	};
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		int ret = bee_helper_table_add(t, &builtins[i]);
		if (ret)
			return ret;
	}
	return bee_helper_table_add_pkt(t); /* pkt.c: they answer in test runs only */
}
