/* Corpus: the packet helpers of BPF_PROG_TEST_RUN, with their error codes.
 *
 * Each program returns a bit per helper result it checks (and a byte or
 * two of what it read), so that the return value says which rule failed.
 * The packets' bytes after the run (data_out) are checked by
 * tests/unit/test_pkt_helpers.c; the expected values are the kernel's
 * (Linux 6.18, BPF_PROG_TEST_RUN).
 */
// corpus: skb_load_bytes(_relative), skb_store_bytes, xdp_adjust_head/tail/meta
// run: prog=sk_load data=hex:000102030405060708090a0b0c0d0e0f10111213 ret=0x13121110
// run: prog=sk_load len=14 ret=-14
// run: prog=sk_load_edge data=hex:000102030405060708090a0b0c0d0e0f10111213 ret=0x133f
// run: prog=sk_load_edge len=14 ret=0x3e
// run: prog=sk_load_rel data=hex:000102030405060708090a0b0c0d0e0f10111213 ret=0x130e053f
// run: prog=sk_load_rel len=14 ret=0x3d
// run: prog=tc_store len=20 ret=0x41ff
// run: prog=tc_store len=14 ret=0x41ff
// run: prog=tc_load_rel data=hex:000102030405060708090a0b0c0d0e0f10111213 ret=0x130e0e07
// run: prog=xdp_pop data=hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c ret=0x0e1f
// run: prog=xdp_pop len=14 ret=-22
// run: prog=xdp_pop len=60 repeat=3 ret=0x001f
// run: prog=xdp_push len=20 ret=0x650003
// run: prog=xdp_head_limits len=20 ret=0x1f
// run: prog=xdp_head_limits len=14 ret=0x1f
// run: prog=xdp_tail len=20 ret=0x7f
// run: prog=xdp_tail len=3520 ret=0x1a
// run: prog=xdp_meta len=20 ret=0x447f
#include "bee_bpf.h"

/* helper ids of <linux/bpf.h> */
static long (*bpf_skb_store_bytes)(struct __sk_buff *skb, __u32 offset, const void *from,
				   __u32 len, __u64 flags) = (void *)9;
static long (*bpf_skb_load_bytes)(const struct __sk_buff *skb, __u32 offset, void *to,
				  __u32 len) = (void *)26;
static long (*bpf_xdp_adjust_head)(struct xdp_md *xdp, int delta) = (void *)44;
static long (*bpf_xdp_adjust_meta)(struct xdp_md *xdp, int delta) = (void *)54;
static long (*bpf_xdp_adjust_tail)(struct xdp_md *xdp, int delta) = (void *)65;
static long (*bpf_skb_load_bytes_relative)(const struct __sk_buff *skb, __u32 offset, void *to,
					   __u32 len, __u32 start_header) = (void *)68;

#define BPF_F_RECOMPUTE_CSUM 1
#define BPF_F_INVALIDATE_HASH 2
#define BPF_HDR_START_MAC 0
#define BPF_HDR_START_NET 1
#define EFAULT 14
#define EINVAL 22
#define EACCES 13

/* XDP_PACKET_HEADROOM less the struct xdp_frame the kernel keeps there */
#define XDP_ROOM (256 - 40)

/* 4 bytes from offset 2 of skb->data (after the Ethernet header here) */
SEC("socket")
int sk_load(struct __sk_buff *skb)
{
	__u8 buf[4];
	long r = bpf_skb_load_bytes(skb, 2, buf, 4);

	if (r)
		return r;
	return buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24;
}

/* the last bytes, one past them (zeroed), an offset above INT_MAX */
SEC("socket")
int sk_load_edge(struct __sk_buff *skb)
{
	__u8 last = 0xee, past[4] = {1, 2, 3, 4}, big[2] = {5, 6};
	long a = bpf_skb_load_bytes(skb, skb->len - 1, &last, 1);
	long b = bpf_skb_load_bytes(skb, skb->len - 3, past, 4);
	long c = bpf_skb_load_bytes(skb, 0x80000000u, big, 2);
	long d = bpf_skb_load_bytes(skb, skb->len, &big[1], 1);

	return (a == 0) | (b == -EFAULT) << 1 | !(past[0] | past[1] | past[2] | past[3]) << 2 |
	       (c == -EFAULT) << 3 | (d == -EFAULT) << 4 | !(big[0] | big[1]) << 5 |
	       (a ? 0 : last) << 8;
}

/* from the MAC header, from the network header, the limits */
SEC("socket")
int sk_load_rel(struct __sk_buff *skb)
{
	__u8 mac[6], net[2] = {9, 9}, tail[2], x[2];
	long a = bpf_skb_load_bytes_relative(skb, 0, mac, 6, BPF_HDR_START_MAC);
	long b = bpf_skb_load_bytes_relative(skb, 0, net, 2, BPF_HDR_START_NET);
	long c = bpf_skb_load_bytes_relative(skb, 0, x, 2, 2);
	long d = bpf_skb_load_bytes_relative(skb, 0x10000, x, 1, BPF_HDR_START_MAC);
	long e = bpf_skb_load_bytes_relative(skb, skb->len + 14 - 2, tail, 2, BPF_HDR_START_MAC);
	long f = bpf_skb_load_bytes_relative(skb, skb->len + 14 - 1, x, 2, BPF_HDR_START_MAC);

	return (a == 0) | (b == 0) << 1 | (c == -EFAULT) << 2 | (d == -EFAULT) << 3 |
	       (e == 0) << 4 | (f == -EFAULT) << 5 | mac[5] << 8 | net[0] << 16 | tail[1] << 24;
}

/* writes: at the start, past the end, bad flags, both flags, the last bytes */
SEC("tc")
int tc_store(struct __sk_buff *skb)
{
	__u32 v = 0x44434241; /* "ABCD" */
	__u32 back = 0;
	long a = bpf_skb_store_bytes(skb, 0, &v, 4, 0);
	long b = bpf_skb_store_bytes(skb, skb->len - 2, &v, 4, 0);
	long c = bpf_skb_store_bytes(skb, 4, &v, 4, 4);
	long d = bpf_skb_store_bytes(skb, 6, &v, 2, BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH);
	long e = bpf_skb_store_bytes(skb, 0x80000000u, &v, 1, 0);
	long f = bpf_skb_store_bytes(skb, 0x80000000u, &v, 1, 8);
	long g = bpf_skb_store_bytes(skb, skb->len - 4, &v, 4, 0);
	long h = bpf_skb_load_bytes(skb, 0, &back, 4);
	__u8 *data = (void *)(long)skb->data;
	__u8 *end = (void *)(long)skb->data_end;
	__u32 first = data + 1 <= end ? data[0] : 0;

	return (a == 0) | (b == -EFAULT) << 1 | (c == -EINVAL) << 2 | (d == 0) << 3 |
	       (e == -EFAULT) << 4 | (f == -EINVAL) << 5 | (g == 0 && h == 0 && back == v) << 6 |
	       (skb->hash == 0) << 7 | first << 8;
}

/* tc: skb->data is the MAC header, so both starts agree with it */
SEC("tc")
int tc_load_rel(struct __sk_buff *skb)
{
	__u8 a[2], b[2], c[2];
	long x = bpf_skb_load_bytes(skb, 14, a, 2);
	long y = bpf_skb_load_bytes_relative(skb, 0, b, 2, BPF_HDR_START_NET);
	long z = bpf_skb_load_bytes_relative(skb, skb->len - 1, c, 1, BPF_HDR_START_MAC);

	return (x == 0) | (y == 0) << 1 | (z == 0) << 2 | a[0] << 8 | b[0] << 16 | c[0] << 24;
}

/* drop the Ethernet header; data_out starts after it */
SEC("xdp")
int xdp_pop(struct xdp_md *ctx)
{
	long r = bpf_xdp_adjust_head(ctx, 14);
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (r)
		return r;
	if (data + 1 > end)
		return 1;
	return 0x1f | data[0] << 8;
}

/* 4 new bytes in front of the packet */
SEC("xdp")
int xdp_push(struct xdp_md *ctx)
{
	long r = bpf_xdp_adjust_head(ctx, -4);
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (r)
		return r;
	if (data + 5 > end)
		return 1;
	data[0] = 'b';
	data[1] = 'e';
	data[2] = 'e';
	data[3] = '!';
	return 3 | data[4] << 8 | data[1] << 16;
}

/* all the headroom, one byte more, down to the 14 bytes left */
SEC("xdp")
int xdp_head_limits(struct xdp_md *ctx)
{
	long a = bpf_xdp_adjust_head(ctx, -XDP_ROOM - 1);
	long b = bpf_xdp_adjust_head(ctx, -XDP_ROOM);
	long c = bpf_xdp_adjust_head(ctx, XDP_ROOM);
	int len = (long)ctx->data_end - (long)ctx->data;
	long d = bpf_xdp_adjust_head(ctx, len - 14 + 1);
	long e = bpf_xdp_adjust_head(ctx, len - 14);

	return (a == -EINVAL) | (b == 0) << 1 | (c == 0) << 2 | (d == -EINVAL) << 3 |
	       (e == 0) << 4;
}

/* shrink, grow (zeroed), the page's end, 14 bytes at least */
SEC("xdp")
int xdp_tail(struct xdp_md *ctx)
{
	int len = (long)ctx->data_end - (long)ctx->data;
	long a = bpf_xdp_adjust_tail(ctx, -4);
	long b = bpf_xdp_adjust_tail(ctx, 6);
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	__u32 zero = 0, at = len - 4;
	__u8 *p = data + (at & 0xfff);

	if (p + 6 <= end)
		zero = !(p[0] | p[1] | p[2] | p[3] | p[4] | p[5]);
	long c = bpf_xdp_adjust_tail(ctx, 4096);
	long d = bpf_xdp_adjust_tail(ctx, 256 + 3520 - 256 - len - 2 + 1);
	long e = bpf_xdp_adjust_tail(ctx, 3520 - len - 2);
	long f = bpf_xdp_adjust_tail(ctx, -(3520 - 14) - 1);
	long g = bpf_xdp_adjust_tail(ctx, -(3520 - 14));
	long h = bpf_xdp_adjust_tail(ctx, len - 14 + 2);

	return (a == 0 && b == 0 && zero) | (c == -EINVAL) << 1 | (d == -EINVAL) << 2 |
	       (e == 0) << 3 | (f == -EINVAL) << 4 | (g == 0) << 5 | (h == 0) << 6;
}

/* metadata: alignment, bounds, moved along with data, the largest */
SEC("xdp")
int xdp_meta(struct xdp_md *ctx)
{
	long a = bpf_xdp_adjust_meta(ctx, -3);
	long b = bpf_xdp_adjust_meta(ctx, 4);
	long c = bpf_xdp_adjust_meta(ctx, -8);
	__u32 *m = (void *)(long)ctx->data_meta;
	__u32 *data = (void *)(long)ctx->data;

	if (m + 2 > data)
		return 1;
	m[0] = 0x11223344;
	m[1] = 0x55667788;
	long d = bpf_xdp_adjust_head(ctx, 4);
	long e = bpf_xdp_adjust_meta(ctx, -XDP_ROOM);
	long f = bpf_xdp_adjust_meta(ctx, -28);
	long g = bpf_xdp_adjust_meta(ctx, 28);
	__u8 *mb = (void *)(long)ctx->data_meta;
	__u8 *db = (void *)(long)ctx->data;

	if (mb + 8 > db)
		return 2;
	return (a == -EACCES) | (b == -EINVAL) << 1 | (c == 0) << 2 | (d == 0) << 3 |
	       (e == -EINVAL) << 4 | (f == 0) << 5 | (g == 0) << 6 | mb[0] << 8;
}

char LICENSE[] SEC("license") = "GPL";
