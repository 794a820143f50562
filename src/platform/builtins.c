/*
 * builtins.c - the kernel helpers that mean the same in user space without
 * maps or event sources.  The map, ring buffer and trace-pipe helpers come
 * with the core (maps and the bpf() command interface).
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
 * bpf_trace_printk(fmt, fmt_size, a1, a2, a3): the kernel's rules in
 * brief: fmt must be NUL-terminated within fmt_size, at most three
 * conversions, each one of %d %i %u %x %X %c %% with optional l/ll
 * modifiers (%p, %s and the rest are refused here until the core's
 * version lands).  Returns the number of bytes written or -EINVAL.
 */
static uint64_t helper_trace_printk(uint64_t fmt_ptr, uint64_t fmt_size, uint64_t a1, uint64_t a2,
				    uint64_t a3)
{
	const char *fmt = (const char *)(uintptr_t)fmt_ptr;
	if (!fmt || fmt_size == 0 || fmt_size > 4096 || !bee_run_mem_ok(fmt, fmt_size, false))
		return (uint64_t)-EINVAL;
	if (!memchr(fmt, '\0', fmt_size))
		return (uint64_t)-EINVAL;
	const uint64_t args[3] = {a1, a2, a3};
	char out[512];
	size_t len = 0;
	int nargs = 0;
	for (const char *p = fmt; *p && len < sizeof(out) - 1; p++) {
		if (*p != '%') {
			out[len++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			out[len++] = '%';
			continue;
		}
		int lmods = 0;
		while (*p == 'l' && lmods < 2) {
			lmods++;
			p++;
		}
		if (nargs == 3 || !strchr("diuxXc", *p) || !*p)
			return (uint64_t)-EINVAL;
		uint64_t v = args[nargs++];
		int w;
		size_t room = sizeof(out) - len;
		switch (*p) {
		case 'd':
		case 'i':
			w = snprintf(out + len, room, "%" PRId64,
				     lmods ? (int64_t)v : (int64_t)(int32_t)v);
			break;
		case 'u':
			w = snprintf(out + len, room, "%" PRIu64, lmods ? v : (uint32_t)v);
			break;
		case 'x':
			w = snprintf(out + len, room, "%" PRIx64, lmods ? v : (uint32_t)v);
			break;
		case 'X':
			w = snprintf(out + len, room, "%" PRIX64, lmods ? v : (uint32_t)v);
			break;
		default: /* 'c' */
			w = snprintf(out + len, room, "%c", (char)v);
			break;
		}
		if (w < 0)
			return (uint64_t)-EINVAL;
		len += (size_t)w < room ? (size_t)w : room - 1;
	}
	out[len] = '\0';
	fprintf(stderr, "bpf_trace_printk: %s%s", out, len && out[len - 1] == '\n' ? "" : "\n");
	return len;
}

int bee_helper_table_add_builtins(struct bee_helper_table *t)
{
	static const struct bee_helper builtins[] = {
		{BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", helper_ktime_get_ns},
		{BPF_FUNC_trace_printk, "bpf_trace_printk", helper_trace_printk},
		{BPF_FUNC_get_prandom_u32, "bpf_get_prandom_u32", helper_get_prandom_u32},
		{BPF_FUNC_get_smp_processor_id, "bpf_get_smp_processor_id",
		 helper_get_smp_processor_id},
		{BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns", helper_ktime_get_boot_ns},
	};
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		int ret = bee_helper_table_add(t, &builtins[i]);
		if (ret)
			return ret;
	}
	return 0;
}
