/* Object API corpus: a map of maps with initial slots (.rel.maps). */
#include "bee_bpf.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner in_a SEC(".maps"), in_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &in_a, [2] = &in_b },
};

SEC("socket")
int mim(struct __sk_buff *skb)
{
	__u32 k = skb->len & 3, z = 0;
	void *in = bpf_map_lookup_elem(&outer, &k);
	__u32 *v;

	if (!in)
		return -1;
	v = bpf_map_lookup_elem(in, &z);
	return v ? (int)*v : -2;
}

char LICENSE[] SEC("license") = "GPL";
