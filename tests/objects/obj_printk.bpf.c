/* Object API corpus: a string literal through bpf_printk (.rodata). */
#include "bee_bpf.h"

SEC("socket")
int say_hello(struct __sk_buff *skb)
{
	bpf_printk("hello from bee %d", skb->len);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
