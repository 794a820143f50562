/* Corpus (refused): a BTF-defined map of a type no target knows. */
// corpus: a map of an unknown type must be refused, naming the map
// refuse: odd_map
#include "bee_bpf.h"

struct {
	__uint(type, 4242);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} odd_map SEC(".maps");

SEC("syscall")
int use_odd(void *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&odd_map, &k) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
