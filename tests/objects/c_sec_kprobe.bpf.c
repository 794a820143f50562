/* Corpus: kprobe and kretprobe reading struct pt_regs from ctx_in. */
// corpus: SEC("kprobe/..."), SEC("kretprobe/..."), pt_regs arguments
// run: prog=kp_args ctx=zero:104,u64:7,u64:5,zero:56 ret=12
// run: prog=krp_rc ctx=zero:80,u64:-3,zero:80 ret=-3
#include "bee_bpf.h"

SEC("kprobe/do_unlinkat")
int kp_args(struct pt_regs *regs)
{
	return (int)(PT_REGS_PARM1(regs) + PT_REGS_PARM2(regs));
}

SEC("kretprobe/do_unlinkat")
int krp_rc(struct pt_regs *regs)
{
	return (int)PT_REGS_RC(regs);
}

char LICENSE[] SEC("license") = "GPL";
