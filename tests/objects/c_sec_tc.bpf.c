/* Corpus: tc (SCHED_CLS) with direct packet access and a write to skb->mark. */
// corpus: SEC("tc"), __sk_buff data/data_end, writable mark
// run: prog=tc_proto data=zero:12,u8:0x08,u8:0x00,zero:40 ret=0x800
// run: prog=tc_proto data=zero:12,u8:0x86,u8:0xdd,zero:40 ret=0x86dd
// run: prog=tc_proto len=14 ret=0
// run: prog=tc_mark len=60 ret=7
#include "bee_bpf.h"

SEC("tc")
int tc_proto(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;
	__u8 *end = (void *)(long)skb->data_end;

	if (data + 14 > end)
		return -1;
	return data[12] << 8 | data[13];
}

SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	skb->mark = 7;
	return skb->mark;
}

char LICENSE[] SEC("license") = "GPL";
