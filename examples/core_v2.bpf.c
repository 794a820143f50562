/* core_v2.bpf.c - "the running system's" layout of struct conn for the
 * CO-RE example: fields reordered, a field added in front, ports widened
 * to no effect on the program (they stay 16-bit here), and no flags.  Only
 * its BTF is used (btf_custom_path = core_v2.bpf.o). */
#include "bee_bpf.h"

struct conn {
	__u64 cookie;
	__u16 dport;
	__u16 sport;
	__u32 daddr;
	__u32 saddr;
};

SEC("syscall")
int keep_types(struct conn *c)
{
	return (int)c->cookie; /* uses struct conn so that its BTF is emitted */
}

char LICENSE[] SEC("license") = "GPL";
