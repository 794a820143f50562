/* Corpus: tracepoint programs ("tracepoint/" and "tp/") over a record layout. */
// corpus: SEC("tracepoint/..."), SEC("tp/..."), ctx_in as the record
// run: prog=tp_openat ctx=u64:0,u32:257,u32:0,u64:0x1000,u64:0x42 ret=0x42
// run: prog=tp_short ctx=u64:0,u32:9,u32:0,u64:0,u64:0 ret=18
#include "bee_bpf.h"

struct sys_enter_openat {
	__u64 common;      /* common_type, flags, preempt_count, pid */
	__s32 syscall_nr;
	__u32 pad;
	__u64 dfd;
	__u64 flags;
};

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct sys_enter_openat *ctx)
{
	return ctx->syscall_nr == 257 ? (int)ctx->flags : -1;
}

SEC("tp/syscalls/sys_enter_close")
int tp_short(struct sys_enter_openat *ctx)
{
	return ctx->syscall_nr * 2;
}

char LICENSE[] SEC("license") = "GPL";
