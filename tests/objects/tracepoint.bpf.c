/* Tracepoint programs under both spellings and a raw tracepoint. */
#include "bee_bpf.h"

struct sys_enter_write_args {
	__u64 common;
	__s64 id;
	__u64 fd;
	const char *buf;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void bump(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct sys_enter_write_args *args)
{
	bump(0, args->count);
	return 0;
}

SEC("tp/sched/sched_switch")
int on_switch(void *args)
{
	bump(1, 1);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int on_exit(void *args)
{
	bump(2, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
