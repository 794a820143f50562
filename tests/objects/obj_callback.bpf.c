/* Object API corpus: a callback (BPF_PSEUDO_FUNC) passed to bpf_loop. */
#include "bee_bpf.h"


static int add_index(__u32 i, void *ctx)
{
	*(__u64 *)ctx += i;
	return 0;
}

SEC("xdp")
int loop_sum(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(5, add_index, &sum, 0);
	return (int)sum; /* 0+1+2+3+4 */
}

char LICENSE[] SEC("license") = "GPL";
