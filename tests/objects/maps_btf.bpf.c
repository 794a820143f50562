/* BTF-defined maps of several kinds, including a map of maps. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__uint(key_size, 4);
	__uint(value_size, 16);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} lru SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { &inner_a },
};

SEC("socket")
int use_maps(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 one = 1;
	void *in = bpf_map_lookup_elem(&outer, &k);
	__u32 *v;
	__u64 *e;

	bpf_map_update_elem(&hash_map, &k, &one, BPF_ANY);
	bpf_map_lookup_elem(&pcpu, &k);
	bpf_map_update_elem(&lru, &one, &k, BPF_ANY);
	if (in) {
		v = bpf_map_lookup_elem(in, &k);
		if (v)
			k = *v;
	}
	e = bpf_ringbuf_reserve(&events, 8, 0);
	if (e) {
		*e = k;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
