/* Corpus: static noinline subprograms with five arguments, nested calls. */
// corpus: static subprograms (bpf-to-bpf calls, 5 arguments, call depth 3)
// run: prog=static_calls ctx=u32:1 ret=1015
// run: prog=static_calls ctx=u32:2 ret=1030
#include "bee_bpf.h"

static __noinline __u64 weigh(__u64 a, __u64 b, __u64 c, __u64 d, __u64 e)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e;
}

static __noinline __u64 twice(__u64 x)
{
	return weigh(x, x, x, x, x) + weigh(0, 0, 0, 0, 0);
}

static __noinline __u64 outer(__u64 x, __u64 base)
{
	return base + twice(x);
}

SEC("syscall")
int static_calls(__u32 *x)
{
	return (int)outer(*x, 1000);
}

char LICENSE[] SEC("license") = "GPL";
