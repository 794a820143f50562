/* Corpus: tail calls through a prog array the host fills; an empty slot falls through. */
// corpus: BPF_MAP_TYPE_PROG_ARRAY, bpf_tail_call, host slot updates by program fd
// run: prog=dispatch data=u8:0,zero:20 ret=100
// update: map=jmp key=u32:0 prog=leaf_a
// update: map=jmp key=u32:1 prog=leaf_b
// run: prog=dispatch data=u8:0,zero:20 ret=1
// run: prog=dispatch data=u8:1,zero:20 ret=2
// run: prog=dispatch data=u8:2,zero:20 ret=100
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

SEC("xdp")
int leaf_a(struct xdp_md *ctx)
{
	return 1;
}

SEC("xdp")
int leaf_b(struct xdp_md *ctx)
{
	return 2;
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 1 > end)
		return 0;
	bpf_tail_call(ctx, &jmp, data[0]);
	return 100;
}

char LICENSE[] SEC("license") = "GPL";
