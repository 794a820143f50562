/* Corpus: bpf_printk format strings (.rodata) and arguments on the trace pipe. */
// corpus: bpf_trace_printk with 0..3 arguments, %d %u %x %s %c
// run: prog=say ctx=u32:42 ret=0
// trace: bpf_trace_printk: plain line
// run: prog=say ctx=u32:255 ret=0
// trace: bpf_trace_printk: n=255 hex=ff neg=-255
#include "bee_bpf.h"

SEC("syscall")
int say(__u32 *n)
{
	int v = (int)*n;

	bpf_printk("plain line");
	bpf_printk("n=%d hex=%x neg=%d", v, v, -v);
	bpf_printk("char %c", 'z');
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
