/* A kprobe and a kretprobe that read their arguments, and a version section. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

SEC("kprobe/do_sys_open")
int enter_open(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 flags = PT_REGS_PARM3(ctx) + PT_REGS_PARM2(ctx);

	bpf_map_update_elem(&start, &id, &flags, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_sys_open")
int exit_open(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *v = bpf_map_lookup_elem(&start, &id);

	return v ? (int)(*v + PT_REGS_RC(ctx)) : 0;
}

char LICENSE[] SEC("license") = "GPL";
unsigned int VERSION SEC("version") = 0x60100;
