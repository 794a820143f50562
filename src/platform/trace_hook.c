/*
 * trace_hook.c - where bpf_trace_printk's messages go, and the kernel's
 * trace_pipe line for them.
 *
 * The helpers (printk.c) hand each formatted message to bee_trace_emit.
 * A thread-local hook lets the core route them into its trace pipe for
 * the duration of a run without any global state shared between threads;
 * with no hook the message goes to stderr, so a program run from a bare
 * bee_code_run still shows its output.
 *
 * The trace_pipe line, as observed on Linux 6.18 (x86-64) with a socket
 * filter calling bpf_trace_printk under BPF_PROG_TEST_RUN, read with
 * `cat /sys/kernel/tracing/trace_pipe`:
 *
 *   "            kexp-7051    [000] b..11  9181.393657: bpf_trace_printk: hello 42\n"
 *
 * which is the kernel's trace_print_context followed by the event:
 *
 *   "%16s-%-7d [%03d] %c%c%c%c%c %5lu.%06lu: bpf_trace_printk: %s\n"
 *     comm  pid   cpu  flags     secs  usecs                   msg
 *
 * - comm right-aligned in 16 (a comm has at most 15 characters), pid
 *   left-aligned in 7, cpu zero-padded to 3 digits;
 * - five flag characters (trace_print_lat_fmt): irqs-off ('d', or 'b'
 *   when bottom halves are off, 'D' both, '.'), need-resched ('N' ...
 *   or '.'), hard/soft irq ('h', 's', 'H' or '.'), preempt depth (hex
 *   digit or '.'), migrate-disable depth (hex digit or '.');
 * - the timestamp in microseconds (ns rounded to the nearest us, the
 *   kernel's ns2usecs) as seconds right-aligned in 5 and 6 digits;
 * - the message as stored, then '\n' - also when the message itself ends
 *   in '\n', which the kernel shows as an empty line after it.
 *
 * A bee program runs in an ordinary thread: no interrupts are off, no
 * bottom half, no preemption or migration count, so bee's flags are
 * always ".....".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "platform/platform.h"

static __thread bee_trace_hook_fn trace_hook;
static __thread void *trace_hook_user;

void bee_trace_set_hook(bee_trace_hook_fn fn, void *user)
{
	trace_hook = fn;
	trace_hook_user = fn ? user : NULL;
}

bee_trace_hook_fn bee_trace_get_hook(void **user)
{
	if (user)
		*user = trace_hook_user;
	return trace_hook;
}

void bee_trace_emit(const char *msg, size_t len)
{
	if (trace_hook) {
		trace_hook(trace_hook_user, msg, len);
		return;
	}
	/* One fprintf per message keeps lines from threads whole. */
	bool nl = len && msg[len - 1] == '\n';
	fprintf(stderr, "bpf_trace_printk: %.*s%s", (int)len, msg, nl ? "" : "\n");
}

size_t bee_trace_format_line(char *buf, size_t size, const char *comm, int pid, int cpu,
			     uint64_t ts_ns, const char *msg, size_t len)
{
	/* ns2usecs: round to the nearest microsecond */
	uint64_t us = (ts_ns + 500) / 1000;
	char name[BEE_TASK_COMM_LEN];
	snprintf(name, sizeof(name), "%s", comm ? comm : "<...>");
	int head = snprintf(buf, size, "%16s-%-7d [%03d] ..... %5llu.%06llu: bpf_trace_printk: ",
			    name, pid, cpu, (unsigned long long)(us / 1000000),
			    (unsigned long long)(us % 1000000));
	if (head < 0)
		head = 0;
	size_t total = (size_t)head + len + 1;
	if (size == 0)
		return total;
	/* snprintf wrote (and NUL-terminated) what fit of the head; the
	 * message and the newline follow it while room remains. */
	size_t at = (size_t)head < size ? (size_t)head : size - 1;
	size_t room = size - 1 - at;
	size_t n = len < room ? len : room;
	memcpy(buf + at, msg, n);
	at += n;
	if (at < size - 1)
		buf[at++] = '\n';
	buf[at] = '\0';
	return total;
}
