/* Corpus: const volatile .rodata settings, changed by the host before load. */
// corpus: .rodata set before load (bpf_map__initial_value), frozen map, read-only data
// rodata: map=.rodata off=0 val=u32:3
// rodata: map=.rodata off=4 val=u32:0x10
// run: prog=configured ctx=u32:5 ret=29
#include "bee_bpf.h"

const volatile __u32 multiplier = 1;
const volatile __u32 offset = 0;
const __u32 primes[4] = {2, 3, 5, 7};

SEC("syscall")
int configured(__u32 *x)
{
	__u32 k = *x & 3;
	return (int)(*x * multiplier + offset + primes[k] - 5);
}

char LICENSE[] SEC("license") = "GPL";
