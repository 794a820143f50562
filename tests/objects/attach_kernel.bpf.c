/* bee_program_attach on the kernel target (tests/kernel/kernel_attach.c):
 * a fentry program whose attach_btf_id comes from vmlinux BTF, a raw
 * tracepoint, and the perf-event kinds: a kprobe, a tracepoint and a
 * uprobe on a function of the test binary itself.  Slots: 0 fentry,
 * 1 raw_tp, 2 kprobe, 3 tracepoint, 4 uprobe. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("fentry/do_nanosleep")
int on_nanosleep(void *ctx)
{
	bump(0);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	bump(1);
	return 0;
}

SEC("kprobe/do_nanosleep")
int on_kprobe(void *ctx)
{
	bump(2);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	bump(3);
	return 0;
}

SEC("uprobe//proc/self/exe:bee_kernel_attach_uprobe_target")
int on_uprobe(void *ctx)
{
	bump(4);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
