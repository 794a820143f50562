/* Object API corpus: global data (.data, .bss, .rodata set by the host)
 * and bpf-to-bpf calls to static and global subprograms. */
#include "bee_bpf.h"

const volatile __u32 scale = 1; /* the host sets it before load */
__u32 calls = 5;                /* .data */
__u64 last;                     /* .bss */

static __noinline __u32 twice(__u32 x)
{
	calls++;
	return x * 2;
}

__noinline __u32 scaled(__u32 x)
{
	return twice(x) * scale;
}

SEC("xdp")
int gcalls(struct xdp_md *ctx)
{
	__u32 r = scaled(3) + twice(1);

	last = r;
	return r;
}

SEC("socket")
int gcalls_skb(struct __sk_buff *skb)
{
	return twice(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
