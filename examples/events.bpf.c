/* events.bpf.c - an event stream: each run of the program (an exec
 * tracepoint, say) sends one record through a BPF ring buffer. */
#include "bee_bpf.h"

struct event {
	__u32 pid;
	__u32 seq;
	__u64 arg;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u32 seq; /* .bss: events sent so far */

SEC("raw_tp/sched_process_exec")
int on_exec(__u64 *args)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 1;
	e->pid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	e->seq = ++seq;
	e->arg = args[0];
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
