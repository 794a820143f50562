/*
 * pkt.c - the packet helpers of BPF_PROG_TEST_RUN: bpf_skb_load_bytes,
 * bpf_skb_load_bytes_relative, bpf_skb_store_bytes, bpf_xdp_adjust_head,
 * bpf_xdp_adjust_tail and bpf_xdp_adjust_meta.
 *
 * Theory of operation.  The core builds the packet of a test run
 * (src/core/run.c) and describes it with a struct bee_pkt, published for
 * the thread with bee_pkt_set_current while the program runs.  The
 * helpers work on that description and keep the context's data,
 * data_meta and data_end fields (32-bit addresses: the packet lives below
 * 4 GiB) in step with it, so a program that reloads them after the call
 * sees the moved packet, as in the kernel.  Checked runs reach the packet
 * through the core's memory check, which asks bee_pkt_contains about the
 * live bounds: bytes an adjustment gave up stop being reachable.
 *
 * The rules are the kernel's (net/core/filter.c) for the linear buffers
 * a test run builds:
 *  - skb_load_bytes: an offset above INT_MAX, or offset + len past
 *    skb->len, fails with -EFAULT and zeroes the destination;
 *  - skb_load_bytes_relative: from the MAC or the network header, offset
 *    at most 0xffff, the end of the packet as limit; -EFAULT (zeroed)
 *    otherwise, also for an unknown start;
 *  - skb_store_bytes: flags other than BPF_F_RECOMPUTE_CSUM and
 *    BPF_F_INVALIDATE_HASH are -EINVAL, an offset above INT_MAX or a
 *    range past skb->len -EFAULT.  A test run's skb carries no checksum
 *    (CHECKSUM_NONE), so recomputing it changes nothing; invalidating the
 *    hash zeroes __sk_buff.hash;
 *  - xdp_adjust_head: data may move down to the end of the struct
 *    xdp_frame the kernel keeps at the buffer's start (plus the metadata,
 *    which moves along) and up to 14 bytes (ETH_HLEN) before data_end;
 *  - xdp_adjust_tail: data_end may grow up to the buffer's end less the
 *    skb_shared_info the kernel reserves there (new bytes zeroed) and
 *    shrink to 14 bytes after data;
 *  - xdp_adjust_meta: data_meta may move between the end of the xdp_frame
 *    and data, the metadata length a multiple of 4 up to the kernel's
 *    maximum (-EACCES otherwise).
 * Each returns -EINVAL outside these limits and changes nothing then.
 *
 * Pointer arguments are checked with bee_run_mem_ok (a checked run's
 * program is not verified): a destination or source the program may not
 * touch is -EFAULT, untouched; a context that is not the run's own, or a
 * helper called in a run without the packet kind it works on (a socket
 * filter calling bpf_skb_store_bytes unverified), is -EINVAL.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "platform/platform.h"

#define ETH_HLEN 14

static __thread struct bee_pkt *current_pkt;

struct bee_pkt *bee_pkt_set_current(struct bee_pkt *pkt)
{
	struct bee_pkt *old = current_pkt;
	current_pkt = pkt;
	return old;
}

struct bee_pkt *bee_pkt_current(void)
{
	return current_pkt;
}

bool bee_pkt_contains(const struct bee_pkt *pkt, uintptr_t addr, size_t size)
{
	/* the metadata (XDP) is reachable too: it ends where data starts */
	uintptr_t lo = (uintptr_t)pkt->meta, hi = (uintptr_t)pkt->end;
	return addr >= lo && size <= hi - lo && addr - lo <= hi - lo - size;
}

static uint32_t addr32(const unsigned char *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* The context's packet fields after the packet moved. */
static void sync_ctx(struct bee_pkt *pkt)
{
	if (pkt->kind == BEE_PKT_XDP) {
		struct xdp_md *x = pkt->ctx;
		x->data = addr32(pkt->data);
		x->data_meta = addr32(pkt->meta);
		x->data_end = addr32(pkt->end);
	} else {
		struct __sk_buff *s = pkt->ctx;
		s->data = addr32(pkt->data);
		s->data_meta = addr32(pkt->meta);
		s->data_end = addr32(pkt->end);
	}
}

/* The run's packet, when ctx is its context and it is of that kind. */
static struct bee_pkt *pkt_of(uint64_t ctx, enum bee_pkt_kind kind)
{
	struct bee_pkt *pkt = current_pkt;
	if (!pkt || pkt->kind != kind || pkt->ctx != (void *)(uintptr_t)ctx)
		return NULL;
	return pkt;
}

/*
 * The two load-bytes helpers: n bytes from off past the header start
 * chooses (the packet's data when start_header < 0), offsets up to
 * max_off.  The destination is checked first, then the packet; a range
 * outside it zeroes the destination (-EFAULT), as the kernel's do.
 */
static uint64_t load_bytes(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
			   int64_t start_header, uint32_t max_off)
{
	struct bee_pkt *pkt = pkt_of(ctx, BEE_PKT_SKB);
	uint32_t off = (uint32_t)offset, n = (uint32_t)len;
	void *dst = (void *)(uintptr_t)to;
	if (!bee_run_mem_ok(dst, n, true))
		return (uint64_t)-EFAULT;
	if (!pkt)
		return (uint64_t)-EINVAL;
	const unsigned char *start = start_header < 0		     ? pkt->data
				     : start_header == BPF_HDR_START_MAC ? pkt->mac
				     : start_header == BPF_HDR_START_NET ? pkt->net
									 : NULL;
	if (!start || off > max_off || (uint64_t)off + n > (uint64_t)(pkt->end - start)) {
		memset(dst, 0, n);
		return (uint64_t)-EFAULT;
	}
	memcpy(dst, start + off, n);
	return 0;
}

/* bpf_skb_load_bytes(skb, offset, to, len) */
static uint64_t h_skb_load_bytes(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
				 uint64_t r5)
{
	(void)r5;
	return load_bytes(ctx, offset, to, len, -1, INT_MAX);
}

/* bpf_skb_load_bytes_relative(skb, offset, to, len, start_header) */
static uint64_t h_skb_load_bytes_relative(uint64_t ctx, uint64_t offset, uint64_t to, uint64_t len,
					  uint64_t start_header)
{
	return load_bytes(ctx, offset, to, len, (uint32_t)start_header, 0xffff);
}

/* bpf_skb_store_bytes(skb, offset, from, len, flags) */
static uint64_t h_skb_store_bytes(uint64_t ctx, uint64_t offset, uint64_t from, uint64_t len,
				  uint64_t flags)
{
	struct bee_pkt *pkt = pkt_of(ctx, BEE_PKT_SKB);
	uint32_t off = (uint32_t)offset, n = (uint32_t)len;
	const void *src = (const void *)(uintptr_t)from;
	if (!pkt || !pkt->writable)
		return (uint64_t)-EINVAL;
	if (flags & ~(uint64_t)(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH))
		return (uint64_t)-EINVAL;
	if (off > INT_MAX || (uint64_t)off + n > (uint64_t)(pkt->end - pkt->data))
		return (uint64_t)-EFAULT;
	if (!bee_run_mem_ok(src, n, false))
		return (uint64_t)-EFAULT;
	memmove(pkt->data + off, src, n); /* from may be the packet itself */
	if (flags & BPF_F_INVALIDATE_HASH)
		((struct __sk_buff *)pkt->ctx)->hash = 0;
	return 0;
}

/* bpf_xdp_adjust_head(xdp, delta) */
static uint64_t h_xdp_adjust_head(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
				  uint64_t r5)
{
	(void)r3, (void)r4, (void)r5;
	struct bee_pkt *pkt = pkt_of(ctx, BEE_PKT_XDP);
	if (!pkt)
		return (uint64_t)-EINVAL;
	long d = (int32_t)delta;
	long metalen = pkt->data - pkt->meta;
	long data = pkt->data - pkt->hard_start + d; /* offsets from the buffer's start */
	if (data < BEE_XDP_FRAME_SIZE + metalen || data > pkt->end - pkt->hard_start - ETH_HLEN)
		return (uint64_t)-EINVAL;
	if (metalen)
		memmove(pkt->meta + d, pkt->meta, (size_t)metalen);
	pkt->meta += d;
	pkt->data += d;
	sync_ctx(pkt);
	return 0;
}

/* bpf_xdp_adjust_tail(xdp, delta) */
static uint64_t h_xdp_adjust_tail(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
				  uint64_t r5)
{
	(void)r3, (void)r4, (void)r5;
	struct bee_pkt *pkt = pkt_of(ctx, BEE_PKT_XDP);
	if (!pkt)
		return (uint64_t)-EINVAL;
	long d = (int32_t)delta;
	long end = pkt->end - pkt->hard_start + d;
	if (end > pkt->hard_end - pkt->hard_start || end < pkt->data - pkt->hard_start + ETH_HLEN)
		return (uint64_t)-EINVAL;
	if (d > 0)
		memset(pkt->end, 0, (size_t)d); /* the kernel clears what grows */
	pkt->end += d;
	sync_ctx(pkt);
	return 0;
}

/* bpf_xdp_adjust_meta(xdp, delta) */
static uint64_t h_xdp_adjust_meta(uint64_t ctx, uint64_t delta, uint64_t r3, uint64_t r4,
				  uint64_t r5)
{
	(void)r3, (void)r4, (void)r5;
	struct bee_pkt *pkt = pkt_of(ctx, BEE_PKT_XDP);
	if (!pkt)
		return (uint64_t)-EINVAL;
	long meta = pkt->meta - pkt->hard_start + (int32_t)delta;
	long data = pkt->data - pkt->hard_start;
	if (meta < BEE_XDP_FRAME_SIZE || meta > data)
		return (uint64_t)-EINVAL;
	if ((data - meta) % 4 || data - meta > BEE_XDP_META_MAX)
		return (uint64_t)-EACCES;
	pkt->meta = pkt->hard_start + meta;
	sync_ctx(pkt);
	return 0;
}

#define CTX BEE_ARG_CTX
#define ANY BEE_ARG_ANYTHING

int bee_helper_table_add_pkt(struct bee_helper_table *t)
{
	/* the kernel's prototypes (bpf_skb_load_bytes_proto...) */
	static const struct bee_helper helpers[] = {
		{BPF_FUNC_skb_load_bytes, "bpf_skb_load_bytes", h_skb_load_bytes, BEE_RET_INTEGER,
		 {CTX, ANY, BEE_ARG_MEM_OUT, BEE_ARG_SIZE}, false},
		{BPF_FUNC_skb_load_bytes_relative, "bpf_skb_load_bytes_relative",
		 h_skb_load_bytes_relative, BEE_RET_INTEGER,
		 {CTX, ANY, BEE_ARG_MEM_OUT, BEE_ARG_SIZE, ANY}, false},
		{BPF_FUNC_skb_store_bytes, "bpf_skb_store_bytes", h_skb_store_bytes, BEE_RET_INTEGER,
		 {CTX, ANY, BEE_ARG_MEM, BEE_ARG_SIZE, ANY}, false},
		{BPF_FUNC_xdp_adjust_head, "bpf_xdp_adjust_head", h_xdp_adjust_head, BEE_RET_INTEGER,
		 {CTX, ANY}, false},
		{BPF_FUNC_xdp_adjust_tail, "bpf_xdp_adjust_tail", h_xdp_adjust_tail, BEE_RET_INTEGER,
		 {CTX, ANY}, false},
		{BPF_FUNC_xdp_adjust_meta, "bpf_xdp_adjust_meta", h_xdp_adjust_meta, BEE_RET_INTEGER,
		 {CTX, ANY}, false},
	};
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		int err = bee_helper_table_add(t, &helpers[i]);
		if (err)
			return err;
	}
	return 0;
}
