/* hello.bpf.c - hello world: a raw tracepoint program that says hello on
 * the trace pipe with bpf_printk.
 *
 *   clang -g -O2 -target bpf -I../tests/objects -c hello.bpf.c -o hello.bpf.o
 */
#include "bee_bpf.h"

struct sys_enter_args {
	__u64 regs; /* struct pt_regs * in the kernel */
	__u64 id;   /* the system call number */
};

SEC("raw_tp/sys_enter")
int hello(struct sys_enter_args *ctx)
{
	bpf_printk("Hello, world! syscall %d", (int)ctx->id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
