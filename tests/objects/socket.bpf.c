/* The smallest useful object: one socket filter that keeps short packets. */
#include "bee_bpf.h"

SEC("socket")
int keep_short(struct __sk_buff *skb)
{
	return skb->len < 128 ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
