/* Corpus: an array map, host-written and program-written. */
// corpus: BPF_MAP_TYPE_ARRAY (host update, program lookup/update, out-of-range key)
// update: map=arr key=u32:3 val=u64:40
// run: prog=arr_add ctx=u32:3 ret=41
// run: prog=arr_add ctx=u32:3 ret=42
// map: map=arr key=u32:3 val=u64:42
// run: prog=arr_add ctx=u32:8 ret=-1
// run: prog=arr_set ctx=u32:7 ret=0
// map: map=arr key=u32:7 val=u64:7
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

SEC("syscall")
int arr_add(__u32 *idx)
{
	__u32 k = *idx;
	__u64 *v = bpf_map_lookup_elem(&arr, &k);

	if (!v)
		return -1;
	*v += 1;
	return (int)*v;
}

SEC("syscall")
int arr_set(__u32 *idx)
{
	__u32 k = *idx;
	__u64 v = k;

	return (int)bpf_map_update_elem(&arr, &k, &v, BPF_ANY);
}

char LICENSE[] SEC("license") = "GPL";
