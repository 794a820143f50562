/* Corpus: a bloom filter: values pushed are found by peek, others (almost surely) not. */
// corpus: BPF_MAP_TYPE_BLOOM_FILTER (push and peek from a program, map_extra hashes)
// run: prog=bloom_add ctx=u32:1234 ret=0
// run: prog=bloom_add ctx=u32:99 ret=0
// run: prog=bloom_has ctx=u32:1234 ret=0
// run: prog=bloom_has ctx=u32:99 ret=0
// run: prog=bloom_has ctx=u32:4321 ret=-2
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 256);
	__uint(map_extra, 3);
	__type(value, __u32);
} bloom SEC(".maps");

SEC("syscall")
int bloom_add(__u32 *v)
{
	__u32 x = *v;
	return (int)bpf_map_push_elem(&bloom, &x, 0);
}

SEC("syscall")
int bloom_has(__u32 *v)
{
	__u32 x = *v;
	return (int)bpf_map_peek_elem(&bloom, &x);
}

char LICENSE[] SEC("license") = "GPL";
