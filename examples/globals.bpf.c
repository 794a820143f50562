/* globals.bpf.c - global data in every section and bpf-to-bpf calls.
 *
 *   .rodata  const volatile settings the host fills in before load
 *   .data    initialised globals (a running total)
 *   .bss     zeroed globals (the last result, a histogram)
 *   static and global subprograms the program calls
 */
#include "bee_bpf.h"

const volatile __u32 scale = 1;     /* set by the host before load */
const volatile __u32 threshold = 0; /* idem */
__u64 total = 1000;                 /* .data */
struct {
	__u64 last;
	__u32 histogram[4];
} stats;                            /* .bss */

/* A static subprogram: only this file calls it. */
static __noinline __u64 scaled(__u64 x)
{
	return x * scale;
}

/* A global subprogram: verified on its own in the kernel; five arguments. */
__noinline __u32 bucket(__u64 v, __u32 t, __u32 a, __u32 b, __u32 c)
{
	if (v < t)
		return a;
	if (v < 2 * (__u64)t)
		return b;
	return c;
}

SEC("syscall")
int account(__u64 *value)
{
	__u64 v = scaled(*value);
	__u32 k = bucket(v, threshold, 0, 1, 2);

	if (k < 4)
		stats.histogram[k]++;
	stats.last = v;
	total += v;
	return (int)k;
}

char LICENSE[] SEC("license") = "GPL";
