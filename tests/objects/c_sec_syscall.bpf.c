/* Corpus: a BPF_PROG_TYPE_SYSCALL program over a host-defined context. */
// corpus: SEC("syscall"), ctx_in as arbitrary host memory
// run: prog=sys_add ctx=u32:20,u32:22,u64:0 ret=42
// run: prog=sys_add ctx=u32:1,u32:2,u64:0 ret=3
#include "bee_bpf.h"

struct args {
	__u32 a, b;
	__u64 out;
};

SEC("syscall")
int sys_add(struct args *ctx)
{
	ctx->out = ctx->a + ctx->b;
	return (int)ctx->out;
}

char LICENSE[] SEC("license") = "GPL";
