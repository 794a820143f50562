/* Several programs in one section (libbpf: one program per function
 * symbol), including a static one, plus a tail-call table. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 4);
} jumps SEC(".maps");

SEC("tc")
int tc_first(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, 1);
	return 0;
}

SEC("tc")
int tc_second(struct __sk_buff *skb)
{
	return skb->mark == 7 ? 2 : 0;
}

SEC("tc")
static int tc_third(struct __sk_buff *skb)
{
	return skb->len > 1000;
}

SEC("xdp")
int xdp_one(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_two(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
