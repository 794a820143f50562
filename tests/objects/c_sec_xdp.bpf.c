/* Corpus: XDP with direct packet access and bounds checks. */
// corpus: SEC("xdp"), xdp_md data/data_end, packet bytes
// run: prog=xdp_filter data=u8:0xff,zero:40 ret=1
// run: prog=xdp_filter data=u8:0x00,zero:40 ret=2
// run: prog=xdp_filter len=0 ret=0
// run: prog=xdp_sum4 data=u8:1,u8:2,u8:3,u8:4,zero:30 ret=10
#include "bee_bpf.h"

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 1 > end)
		return XDP_ABORTED;
	return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_sum4(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 4 > end)
		return 0;
	return data[0] + data[1] + data[2] + data[3];
}

char LICENSE[] SEC("license") = "GPL";
