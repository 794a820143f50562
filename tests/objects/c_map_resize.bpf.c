/* Corpus: a map resized by the host before load (bpf_map__set_max_entries). */
// corpus: resizing an array before load; the program sees the new size
// resize: map=small max_entries=64
// run: prog=write_at ctx=u32:50 ret=0
// map: map=small key=u32:50 val=u32:50
// run: prog=write_at ctx=u32:64 ret=-7
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} small SEC(".maps");

SEC("syscall")
int write_at(__u32 *idx)
{
	__u32 k = *idx;

	return (int)bpf_map_update_elem(&small, &k, &k, BPF_ANY);
}

char LICENSE[] SEC("license") = "GPL";
