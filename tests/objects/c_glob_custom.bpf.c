/* Corpus: custom data sections (.data.NAME, .rodata.NAME) as their own maps. */
// corpus: .data.* and .rodata.* sections, each an internal map
// run: prog=custom ctx=u32:0 ret=110
// run: prog=custom ctx=u32:0 ret=112
// map: map=.data.counters key=u32:0 val=u32:12
#include "bee_bpf.h"

__u32 hits SEC(".data.counters") = 10;
const volatile __u32 base SEC(".rodata.settings") = 100;

SEC("syscall")
int custom(void *ctx)
{
	hits++;
	return (int)(base + hits - 1 + (hits > 11 ? 1 : 0));
}

char LICENSE[] SEC("license") = "GPL";
