/* Corpus: a hash map keyed by a packet byte: update, lookup, delete. */
// corpus: BPF_MAP_TYPE_HASH from a program (update/lookup/delete), host lookups
// run: prog=count_proto data=zero:9,u8:6,zero:30 ret=1
// run: prog=count_proto data=zero:9,u8:6,zero:30 ret=2
// run: prog=count_proto data=zero:9,u8:17,zero:30 ret=1
// map: map=by_proto key=u32:6 val=u64:2
// map: map=by_proto key=u32:17 val=u64:1
// nokey: map=by_proto key=u32:1
// run: prog=forget data=zero:9,u8:6,zero:30 ret=0
// nokey: map=by_proto key=u32:6
// run: prog=forget data=zero:9,u8:6,zero:30 ret=-2
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} by_proto SEC(".maps");

static __always_inline __u32 proto_of(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;

	if (data + 10 > end)
		return 0;
	return data[9];
}

SEC("xdp")
int count_proto(struct xdp_md *ctx)
{
	__u32 k = proto_of(ctx);
	__u64 one = 1, *v = bpf_map_lookup_elem(&by_proto, &k);

	if (v) {
		__sync_fetch_and_add(v, 1);
		return (int)*v;
	}
	bpf_map_update_elem(&by_proto, &k, &one, BPF_NOEXIST);
	return 1;
}

SEC("xdp")
int forget(struct xdp_md *ctx)
{
	__u32 k = proto_of(ctx);

	return (int)bpf_map_delete_elem(&by_proto, &k);
}

char LICENSE[] SEC("license") = "GPL";
