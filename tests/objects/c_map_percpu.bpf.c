/* Corpus: per-CPU array and hash: this CPU's slot, and all CPUs through
 * bpf_map_lookup_percpu_elem (the test instance has 2 CPUs). */
// corpus: BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, lookup_percpu_elem
// run: prog=pc_inc len=20 ret=1
// run: prog=pc_inc len=20 ret=2
// run: prog=pc_total len=20 ret=2
// update: map=pc_hash key=u32:5 val=u64:10,u64:20
// run: prog=pch_sum len=20 ret=30
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pc_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} pc_hash SEC(".maps");

static __noinline int pc_sum(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 sum = 0;

	for (__u32 cpu = 0; cpu < 2; cpu++) {
		__u64 *v = bpf_map_lookup_percpu_elem(&pc_arr, &k, cpu);
		if (v)
			sum += *v;
	}
	return (int)sum;
}

SEC("xdp")
int pc_inc(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&pc_arr, &k);

	if (!v)
		return -1;
	++*v;
	return pc_sum(ctx); /* the CPU a run gets follows the host thread's */
}

SEC("xdp")
int pc_total(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 sum = 0;

	for (__u32 cpu = 0; cpu < 2; cpu++) {
		__u64 *v = bpf_map_lookup_percpu_elem(&pc_arr, &k, cpu);
		if (v)
			sum += *v;
	}
	return (int)sum;
}

SEC("xdp")
int pch_sum(struct xdp_md *ctx)
{
	__u32 k = 5;
	__u64 sum = 0;

	for (__u32 cpu = 0; cpu < 2; cpu++) {
		__u64 *v = bpf_map_lookup_percpu_elem(&pc_hash, &k, cpu);
		if (v)
			sum += *v;
	}
	return (int)sum;
}

char LICENSE[] SEC("license") = "GPL";
