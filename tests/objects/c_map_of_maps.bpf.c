/* Corpus: a hash of maps the host fills with inner arrays, looked up twice. */
// corpus: BPF_MAP_TYPE_HASH_OF_MAPS with an inner-map template, host inner updates
// update: map=inner1 key=u32:0 val=u64:111
// update: map=inner2 key=u32:0 val=u64:222
// update: map=outer key=u32:1 inner=inner1
// update: map=outer key=u32:2 inner=inner2
// run: prog=mim_get ctx=u32:1 ret=111
// run: prog=mim_get ctx=u32:2 ret=222
// run: prog=mim_get ctx=u32:3 ret=-1
#include "bee_bpf.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner1 SEC(".maps"), inner2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

SEC("syscall")
int mim_get(__u32 *which)
{
	__u32 k = *which, z = 0;
	void *in = bpf_map_lookup_elem(&outer, &k);

	if (!in)
		return -1;
	__u64 *v = bpf_map_lookup_elem(in, &z);
	return v ? (int)*v : -2;
}

char LICENSE[] SEC("license") = "GPL";
