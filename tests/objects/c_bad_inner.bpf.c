/* Corpus (refused): an array of maps with no inner map definition. */
// corpus: a map-in-map without its inner map definition must be refused
// refuse: no_inner
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} no_inner SEC(".maps");

SEC("syscall")
int use_no_inner(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&no_inner, &k) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
