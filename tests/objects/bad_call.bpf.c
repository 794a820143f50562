/* Malformed on purpose: a call to a function the object does not define. */
#include "bee_bpf.h"

extern int not_here(int x);

SEC("socket")
int calls_missing(struct __sk_buff *skb)
{
	return not_here(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
