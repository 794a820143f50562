/* Corpus: legacy SEC("maps") definitions (struct bpf_map_def): hash and array. */
// corpus: legacy maps section, several maps in it
// run: prog=legacy_maps len=30 ret=16
// run: prog=legacy_maps len=30 ret=32
// map: map=legacy_hash key=u32:16 val=u64:2
// map: map=legacy_arr key=u32:0 val=u64:32
#include "bee_bpf.h"

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 32,
};

struct bpf_map_def SEC("maps") legacy_arr = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

SEC("socket")
int legacy_maps(struct __sk_buff *skb)
{
	__u32 k = skb->len, z = 0;
	__u64 one = 1, *v = bpf_map_lookup_elem(&legacy_hash, &k);

	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&legacy_hash, &k, &one, BPF_ANY);
	__u64 *t = bpf_map_lookup_elem(&legacy_arr, &z);
	if (!t)
		return -1;
	*t += k;
	return (int)*t;
}

char LICENSE[] SEC("license") = "GPL";
