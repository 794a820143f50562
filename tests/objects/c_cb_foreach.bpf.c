/* Corpus: bpf_for_each_map_elem over an array and a hash, with early stop. */
// corpus: bpf_for_each_map_elem callbacks (array and hash), callback ctx, stop
// update: map=vals key=u32:0 val=u64:5
// update: map=vals key=u32:3 val=u64:7
// update: map=h key=u32:10 val=u64:1
// update: map=h key=u32:20 val=u64:2
// update: map=h key=u32:30 val=u64:4
// run: prog=sum_array ctx=u32:0 ret=0x0c0008
// run: prog=sum_hash ctx=u32:0 ret=0x030007
// run: prog=first_big ctx=u32:0 ret=100
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} h SEC(".maps");

struct acc {
	__u64 sum;
	__u32 found;
};

static long add_up(void *map, __u32 *key, __u64 *val, struct acc *a)
{
	a->sum += *val;
	return 0;
}

static long stop_at_big(void *map, __u32 *key, __u64 *val, struct acc *a)
{
	a->found = *key;
	return *val >= 5; /* 1: stop */
}

SEC("syscall")
int sum_array(void *ctx)
{
	struct acc a = {0};
	long n = bpf_for_each_map_elem(&vals, add_up, &a, 0);

	return (int)(a.sum << 16 | n);
}

SEC("syscall")
int sum_hash(void *ctx)
{
	struct acc a = {0};
	long n = bpf_for_each_map_elem(&h, add_up, &a, 0);

	return (int)(n << 16 | a.sum);
}

SEC("syscall")
int first_big(void *ctx)
{
	struct acc a = {0};
	long n = bpf_for_each_map_elem(&vals, stop_at_big, &a, 0);

	return (int)(n * 100 + a.found);
}

char LICENSE[] SEC("license") = "GPL";
