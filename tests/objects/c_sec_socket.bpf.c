/* Corpus: a socket filter reading skb->len and a packet byte. */
// corpus: SEC("socket"), __sk_buff fields (len, cb[] read and written)
// run: prog=sock_len len=60 ret=46
// run: prog=sock_len len=100 ret=86
// run: prog=sock_cb len=20 ret=3
#include "bee_bpf.h"

SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("socket")
int sock_cb(struct __sk_buff *skb)
{
	skb->cb[0] = skb->len;
	skb->cb[4] = 3;
	return skb->cb[0] - skb->cb[4];
}

char LICENSE[] SEC("license") = "GPL";
