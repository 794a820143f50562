/*
 * core_vmlinux.bpf.c - CO-RE against the running kernel's BTF
 * (/sys/kernel/btf/vmlinux): task_struct fields, a field no kernel has,
 * the size of task_struct and a value of enum bpf_map_type.
 */
#include "bee_bpf.h"
#include "bee_core.h"

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	struct task_struct *real_parent;
	int bee_no_such_field;
} __core;

enum bpf_map_type { BPF_MAP_TYPE_RINGBUF___local = 0 };

volatile long sink;

SEC("kprobe/do_nanosleep")
int core_task(struct task_struct *t)
{
	int r = t->pid;
	r += t->real_parent->tgid;
	r += t->comm[2];
	sink = bee_core_field_size(t->comm);
	sink = bee_core_field_exists(t->bee_no_such_field);
	sink = bee_core_type_size(struct task_struct);
	sink = bee_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF___local);
	return r;
}

char _license[] SEC("license") = "GPL";
