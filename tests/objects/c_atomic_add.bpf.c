/* Corpus: atomic add without a result (BPF_XADD, cpu v1) on map and global values. */
// corpus: __sync_fetch_and_add as BPF_ATOMIC ADD (32 and 64 bit), map value and .bss
// run: prog=xadd ctx=u32:5 ret=0
// run: prog=xadd ctx=u32:6 ret=0
// map: map=totals key=u32:0 val=u64:11,u32:2
// map: map=c_atomic.bss key=u32:0 val=u64:11
#include "bee_bpf.h"

struct total {
	__u64 sum;
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct total);
} totals SEC(".maps");

__u64 global_sum;

SEC("syscall")
int xadd(__u32 *x)
{
	__u32 z = 0;
	struct total *t = bpf_map_lookup_elem(&totals, &z);

	if (!t)
		return -1;
	__sync_fetch_and_add(&t->sum, *x);
	__sync_fetch_and_add(&t->count, 1);
	__sync_fetch_and_add(&global_sum, *x);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
