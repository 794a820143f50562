/* Externs resolved at load time: kconfig values and kernel symbols. */
#include "bee_bpf.h"

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern __u64 bpf_ktime_get_coarse_ns_kfunc(void) __ksym __weak;

SEC("kprobe/vfs_read")
int read_externs(struct pt_regs *ctx)
{
	if (!CONFIG_BPF_SYSCALL)
		return 0;
	if (LINUX_KERNEL_VERSION < 0x50a00)
		return 1;
	if (bpf_ktime_get_coarse_ns_kfunc)
		bpf_ktime_get_coarse_ns_kfunc();
	return (int)(long)&bpf_prog_active;
}

char LICENSE[] SEC("license") = "GPL";
