/* Corpus: a raw tracepoint reading its u64 arguments. */
// corpus: SEC("raw_tp/..."), ctx_in as the argument array
// run: prog=on_sys_enter ctx=u64:3,u64:39 ret=42
// run: prog=on_sys_enter ctx=u64:100,u64:0x100000000 ret=100
#include "bee_bpf.h"

struct raw_args {
	__u64 args[2];
};

SEC("raw_tp/sys_enter")
int on_sys_enter(struct raw_args *ctx)
{
	return (int)(ctx->args[0] + ctx->args[1]);
}

char LICENSE[] SEC("license") = "GPL";
