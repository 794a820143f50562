/* Corpus: global (non-static) subprograms with five arguments, called from
 * two programs of different types, one global calling another. */
// corpus: global functions in .text, shared by programs, 5 arguments
// run: prog=glob_xdp len=20 ret=35
// run: prog=glob_sys ctx=u32:10 ret=60
#include "bee_bpf.h"

__noinline __u32 mix(__u32 a, __u32 b, __u32 c, __u32 d, __u32 e)
{
	return a * 1 + b * 2 + c * 3 + d * 4 + e * 5;
}

__noinline __u32 mix_twice(__u32 x)
{
	return mix(x, x, x, x, x) / 3 + x * 0;
}

SEC("xdp")
int glob_xdp(struct xdp_md *ctx)
{
	return (int)(mix(1, 2, 3, 4, 0) + mix_twice(1) * 0 + 5);
}

SEC("syscall")
int glob_sys(__u32 *x)
{
	return (int)(mix_twice(*x) * 4 / 5 * 3 / 2);
}

char LICENSE[] SEC("license") = "GPL";
