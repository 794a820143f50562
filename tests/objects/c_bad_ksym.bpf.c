/* Corpus (refused): a kfunc (__ksym function) on the user-space target. */
// corpus: a .ksyms function extern must be refused by the user-space target
// refuse: bpf_get_task_exe_file
// refuse: kernel symbols are not available
#include "bee_bpf.h"

extern void *bpf_get_task_exe_file(void *task) __ksym;

SEC("syscall")
int use_kfunc(void *ctx)
{
	return bpf_get_task_exe_file(ctx) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
