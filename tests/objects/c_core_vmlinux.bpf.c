/* Corpus: CO-RE against the running kernel's BTF given as btf_custom_path:
 * list_head's layout drives a real read of user-space memory; task_struct
 * and enum bpf_map_type answer existence and value queries. */
// corpus: CO-RE against /sys/kernel/btf/vmlinux from the user-space target
// open: btfpath=/sys/kernel/btf/vmlinux
// run: prog=vm_list ctx=u64:0x11,u64:0x22 ret=0x22
// run: prog=vm_meta ctx=u32:0 ret=0x1b100801
#include "bee_bpf.h"
#include "bee_core.h"

struct list_head {
	struct list_head *prev; /* order swapped on purpose: the kernel has next first */
	struct list_head *next;
} __core;

struct task_struct {
	int pid;
	int bee_no_such_field;
} __core;

enum bpf_map_type___local { BPF_MAP_TYPE_RINGBUF___local = 0 };

SEC("syscall")
int vm_list(struct list_head *l)
{
	return (int)(long)l->prev;
}

SEC("syscall")
int vm_meta(struct task_struct *t)
{
	struct list_head *l = 0;
	int ringbuf = bee_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
	int size = bee_core_type_size(struct list_head);
	int off = bee_core_field_offset(l->prev);
	int ok = bee_core_field_exists(t->pid) + bee_core_field_exists(t->bee_no_such_field);

	return ringbuf << 24 | size << 16 | off << 8 | ok;
}

char LICENSE[] SEC("license") = "GPL";
