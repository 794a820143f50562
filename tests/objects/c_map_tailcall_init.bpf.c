/* Corpus: a prog array initialised statically in the object (libbpf's
 * .values = { [i] = &prog }), and a chain of tail calls. */
// corpus: PROG_ARRAY with static slots, chained tail calls
// run: prog=start len=20 ret=3
#include "bee_bpf.h"

int step2(struct __sk_buff *skb);
int step1(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(void *));
} chain SEC(".maps") = {
	.values = {[0] = (void *)&step1, [1] = (void *)&step2},
};

SEC("tc")
int step2(struct __sk_buff *skb)
{
	return skb->cb[0] + 1;
}

SEC("tc")
int step1(struct __sk_buff *skb)
{
	skb->cb[0] += 1;
	bpf_tail_call(skb, &chain, 1);
	return -1;
}

SEC("tc")
int start(struct __sk_buff *skb)
{
	skb->cb[0] = 1;
	bpf_tail_call(skb, &chain, 0);
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
