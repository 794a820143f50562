/* Corpus: bounded loops clang keeps as loops (data-dependent bounds). */
// corpus: bounded loops with back-edges: a checksum over the packet, a Collatz count
// run: prog=csum data=u8:1,u8:2,u8:3,u8:4,u8:5 ret=15
// run: prog=csum len=300 ret=0
// run: prog=collatz ctx=u32:27 ret=111
// run: prog=collatz ctx=u32:1 ret=0
#include "bee_bpf.h"

SEC("xdp")
int csum(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u32 sum = 0;

	for (int i = 0; i < 256; i++) {
		if (data + i + 1 > end)
			break;
		sum += data[i];
	}
	return (int)sum;
}

SEC("syscall")
int collatz(__u32 *start)
{
	__u64 n = *start;
	int steps = 0;

	while (n != 1 && steps < 1000) {
		n = (n & 1) ? 3 * n + 1 : n / 2;
		steps++;
	}
	return steps;
}

char LICENSE[] SEC("license") = "GPL";
