/* Corpus: bpf_loop with a context struct and an early stop. */
// corpus: bpf_loop callbacks (BPF_PSEUDO_FUNC), callback return 1 stops the loop
// run: prog=loop_until ctx=u32:100 ret=0x0e005b
// run: prog=loop_until ctx=u32:3 ret=0x030003
#include "bee_bpf.h"

struct loop_ctx {
	__u32 limit;
	__u32 sum;
	__u32 iters;
};

static int step(__u32 i, struct loop_ctx *c)
{
	c->iters++;
	c->sum += i;
	return c->sum >= c->limit || i * i >= 169; /* stop: 1 */
}

SEC("syscall")
int loop_until(__u32 *limit)
{
	struct loop_ctx c = {.limit = *limit};
	long n = bpf_loop(50, step, &c, 0);

	return (int)(n << 16 | c.sum);
}

char LICENSE[] SEC("license") = "GPL";
