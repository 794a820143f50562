/* An XDP program that drops IPv6 frames: packet pointers and bounds. */
#include "bee_bpf.h"

SEC("xdp")
int drop_ipv6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;

	if (data + 14 > data_end)
		return XDP_ABORTED;
	if (eth[12] == 0x86 && eth[13] == 0xdd)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
