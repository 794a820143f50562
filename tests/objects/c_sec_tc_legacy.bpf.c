/* Corpus: libbpf's older tc names, "classifier" and "action", and cgroup_skb. */
// corpus: SEC("classifier"), SEC("action"), SEC("cgroup_skb/egress")
// run: prog=cls_len len=80 ret=80
// run: prog=act_ok len=20 ret=0
// run: prog=cg_allow len=40 ret=1
#include "bee_bpf.h"

SEC("classifier")
int cls_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("action")
int act_ok(struct __sk_buff *skb)
{
	return 0;
}

SEC("cgroup_skb/egress")
int cg_allow(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
