/* core.bpf.c - CO-RE: the program is compiled against one layout of
 * struct conn (below) and reads it with preserve_access_index, so the
 * loader rewrites each field offset for the layout of the system it runs
 * on: here the layout of core_v2.bpf.c, given to the loader as target
 * BTF.  What it read lands in .bss for the host to print. */
#include "bee_bpf.h"

#define __core __attribute__((preserve_access_index))

struct conn {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 flags; /* newer layouts only */
} __core;

struct {
	__u32 saddr, daddr, sport, dport;
	__u32 flags;      /* (not read: see below) */
	__u32 has_flags;  /* field existence, answered by the loader */
	__u32 dport_off;  /* where the target has dport */
} seen;

SEC("syscall")
int summarize(struct conn *c)
{
	seen.saddr = c->saddr;
	seen.daddr = c->daddr;
	seen.sport = c->sport;
	seen.dport = c->dport;
	seen.has_flags = __builtin_preserve_field_info(c->flags, 2 /* exists */);
	/* Reading c->flags under this test is the usual CO-RE idiom, but for a
	 * target without flags it leaves libbpf's poison call in dead code,
	 * which bee's core refuses at load until its verifier prunes dead
	 * branches; so this example only asks whether the field exists. */
	seen.flags = 0;
	seen.dport_off = __builtin_preserve_field_info(c->dport, 0 /* byte offset */);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
