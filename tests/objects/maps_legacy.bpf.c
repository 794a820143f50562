/* The legacy SEC("maps") section of struct bpf_map_def entries. */
#include "bee_bpf.h"

struct bpf_map_def SEC("maps") packets = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
};

struct bpf_map_def SEC("maps") flows = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(__u32),
	.max_entries = 1024,
	.map_flags = BPF_F_NO_PREALLOC,
};

SEC("socket")
int legacy(struct __sk_buff *skb)
{
	__u32 k = skb->protocol & 15;
	__u64 f = skb->mark;
	__u64 *v = bpf_map_lookup_elem(&packets, &k);

	if (v)
		*v += 1;
	bpf_map_update_elem(&flows, &f, &k, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
