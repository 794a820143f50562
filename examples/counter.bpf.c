/* counter.bpf.c - count packets per IP protocol in a hash map (XDP). */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);   /* IPv4 protocol number */
	__type(value, __u64); /* packets seen */
} proto_count SEC(".maps");

SEC("xdp")
int count_proto(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	/* Ethernet (14 bytes) then IPv4: the protocol is byte 9 of the IP header. */
	if (data + 14 + 20 > end || data[12] != 0x08 || data[13] != 0x00)
		return XDP_PASS;
	__u32 proto = data[14 + 9];
	__u64 one = 1, *n = bpf_map_lookup_elem(&proto_count, &proto);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
