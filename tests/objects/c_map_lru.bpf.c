/* Corpus: an LRU hash smaller than the keys written: the newest survive. */
// corpus: BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH from a program
// run: prog=lru_fill ctx=u32:0 ret=0
// map: map=lru key=u32:99 val=u64:198
// run: prog=lru_pc_sum ctx=u32:0 ret=7
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru_pc SEC(".maps");

SEC("syscall")
int lru_fill(void *ctx)
{
	for (__u32 i = 0; i < 100; i++) {
		__u64 v = 2 * i;
		if (bpf_map_update_elem(&lru, &i, &v, BPF_ANY))
			return -1;
	}
	__u32 k = 7;
	__u64 v = 7;
	return (int)bpf_map_update_elem(&lru_pc, &k, &v, BPF_ANY);
}

SEC("syscall")
int lru_pc_sum(void *ctx)
{
	__u32 k = 7;
	__u64 sum = 0;

	for (__u32 cpu = 0; cpu < 2; cpu++) {
		__u64 *v = bpf_map_lookup_percpu_elem(&lru_pc, &k, cpu);
		if (v)
			sum += *v;
	}
	return (int)sum;
}

char LICENSE[] SEC("license") = "GPL";
