/* Global data in .data, .rodata and .bss, and string literals. */
#include "bee_bpf.h"

int counter = 7;                        /* .data */
const volatile int threshold = 100;     /* .rodata */
__u64 hits;                             /* .bss */
static __u64 misses;                    /* .bss, local */
const char greeting[] = "hello, bee";   /* .rodata */

SEC("tracepoint/syscalls/sys_enter_openat")
int count_opens(void *ctx)
{
	counter++;
	if (counter > threshold) {
		misses++;
		bpf_printk("over threshold: %d", counter);
	} else {
		hits++;
		bpf_printk("%s", greeting);
	}
	return 0;
}

/* A string literal used through a pointer lands in .rodata.str1.1. */
static __noinline long say(const char *s, __u32 n)
{
	return bpf_trace_printk(s, n);
}

SEC("tp/syscalls/sys_exit_openat")
int said(void *ctx)
{
	return say("a literal string", 17) > 0;
}

char LICENSE[] SEC("license") = "GPL";
