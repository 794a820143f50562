/* bpf-to-bpf calls: a global and a static subprogram in .text, shared by
 * programs in two sections, and a static function that stays a program. */
#include "bee_bpf.h"

static __noinline int square(int x)
{
	return x * x;
}

__noinline int sum_squares(int a, int b)
{
	return square(a) + square(b);
}

SEC("socket")
int prog_a(struct __sk_buff *skb)
{
	return sum_squares(skb->len, 2);
}

SEC("xdp")
int prog_b(struct xdp_md *ctx)
{
	return square(ctx->ingress_ifindex) & 3;
}

char LICENSE[] SEC("license") = "GPL";
