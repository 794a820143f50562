/* Corpus: zero-initialised .bss globals, written by a program, read by the host. */
// corpus: .bss (NOBITS section as a zeroed internal map)
// run: prog=record ctx=u32:9 ret=1
// run: prog=record ctx=u32:4 ret=2
// map: map=c_glob_b.bss key=u32:0 val=u32:9,u32:4,u64:2
#include "bee_bpf.h"

__u64 seen;
__u32 last[2];

SEC("syscall")
int record(__u32 *v)
{
	last[seen & 1] = *v;
	return (int)++seen;
}

char LICENSE[] SEC("license") = "GPL";
