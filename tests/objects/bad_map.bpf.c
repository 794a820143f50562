/* Malformed on purpose: a program using a map the object does not define. */
#include "bee_bpf.h"

extern int missing_map;

SEC("socket")
int uses_missing(struct __sk_buff *skb)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&missing_map, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
