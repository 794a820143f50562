/* A ring-buffer event stream: reserve, fill from a string literal, submit. */
#include "bee_bpf.h"

struct event {
	__u32 pid;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12);
} rb SEC(".maps");

SEC("tp/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	__builtin_memcpy(e->comm, "exec-event", 11);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
