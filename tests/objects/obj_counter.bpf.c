/* Object API corpus: a hash-map counter keyed by packet length. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("socket")
int count_len(struct __sk_buff *skb)
{
	__u32 k = skb->len;
	__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);

	if (v) {
		*v += 1;
		return (int)*v;
	}
	bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
