/* Corpus: the "target kernel" layout for c_core_moved, and its own identity read. */
// corpus: the target-BTF provider of c_core_moved; reads its own layout
// run: prog=read_target ctx=u32:1,u32:2,u64:3 ret=6
#include "bee_bpf.h"

struct shape {
	int other;
	int y;
	unsigned long long x;
};

SEC("syscall")
int read_target(struct shape *s)
{
	return (int)(s->other + s->y + s->x);
}

char LICENSE[] SEC("license") = "GPL";
