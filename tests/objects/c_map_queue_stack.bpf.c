/* Corpus: queue (FIFO) and stack (LIFO) maps: push, peek, pop. */
// corpus: BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK (push/peek/pop from a program, pop from the host)
// run: prog=qs_push ctx=u32:0 ret=0
// run: prog=q_pop ctx=u32:0 ret=10
// run: prog=s_pop ctx=u32:0 ret=30
// pop: map=queue val=u32:20
// pop: map=stack val=u32:20
// run: prog=q_pop ctx=u32:0 ret=30
// run: prog=q_pop ctx=u32:0 ret=-2
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 8);
	__type(value, __u32);
} stack SEC(".maps");

SEC("syscall")
int qs_push(void *ctx)
{
	for (__u32 v = 10; v <= 30; v += 10) {
		if (bpf_map_push_elem(&queue, &v, 0) || bpf_map_push_elem(&stack, &v, 0))
			return -1;
	}
	__u32 top = 0;
	if (bpf_map_peek_elem(&stack, &top) || top != 30)
		return -2;
	return 0;
}

SEC("syscall")
int q_pop(void *ctx)
{
	__u32 v = 0;
	long err = bpf_map_pop_elem(&queue, &v);

	return err ? (int)err : (int)v;
}

SEC("syscall")
int s_pop(void *ctx)
{
	__u32 v = 0;
	long err = bpf_map_pop_elem(&stack, &v);

	return err ? (int)err : (int)v;
}

char LICENSE[] SEC("license") = "GPL";
