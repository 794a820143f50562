/* Corpus: an LPM trie of IPv4 prefixes, filled by the host, matched by a program. */
// corpus: BPF_MAP_TYPE_LPM_TRIE (host update, longest-prefix lookup from a program)
// update: map=routes key=u32:8,u8:10,u8:0,u8:0,u8:0 val=u32:1
// update: map=routes key=u32:16,u8:10,u8:1,u8:0,u8:0 val=u32:2
// update: map=routes key=u32:24,u8:10,u8:1,u8:2,u8:0 val=u32:3
// run: prog=route ctx=u8:10,u8:1,u8:2,u8:3 ret=3
// run: prog=route ctx=u8:10,u8:1,u8:9,u8:3 ret=2
// run: prog=route ctx=u8:10,u8:7,u8:2,u8:3 ret=1
// run: prog=route ctx=u8:11,u8:1,u8:2,u8:3 ret=0
#include "bee_bpf.h"

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} routes SEC(".maps");

SEC("syscall")
int route(__u8 *addr)
{
	struct lpm_key k = {.prefixlen = 32};

	__builtin_memcpy(k.addr, addr, 4);
	__u32 *v = bpf_map_lookup_elem(&routes, &k);
	return v ? (int)*v : 0;
}

char LICENSE[] SEC("license") = "GPL";
