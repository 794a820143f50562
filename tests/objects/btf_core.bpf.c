/*
 * btf_core.bpf.c - CO-RE relocation records for the .BTF.ext parser
 * (tests/unit/test_btf.c): field offset, size, existence, signedness and
 * bit shifts, type id/existence/size, and enum value existence/value.
 */
#include "bee_bpf.h"

#define __core __attribute__((preserve_access_index))

struct task {
	int pid;
	struct {
		unsigned int flags : 4;
		int prio : 6;
	} sched;
	char comm[16];
	struct task *parent;
} __core;

enum task_state { TS_RUNNING, TS_SLEEPING = 2 };

/* __builtin_preserve_field_info kinds (llvm's BPF_FIELD_*). */
#define FIELD_BYTE_OFFSET 0
#define FIELD_BYTE_SIZE 1
#define FIELD_EXISTS 2
#define FIELD_SIGNED 3
#define FIELD_LSHIFT 4
#define FIELD_RSHIFT 5

SEC("socket")
int core_prog(struct task *t)
{
	int r = t->pid;
	r += t->parent->pid;
	r += t->comm[3];
	r += __builtin_preserve_field_info(t->sched.prio, FIELD_BYTE_OFFSET);
	r += __builtin_preserve_field_info(t->sched.prio, FIELD_BYTE_SIZE);
	r += __builtin_preserve_field_info(t->sched.prio, FIELD_EXISTS);
	r += __builtin_preserve_field_info(t->sched.prio, FIELD_SIGNED);
	r += __builtin_preserve_field_info(t->sched.flags, FIELD_LSHIFT);
	r += __builtin_preserve_field_info(t->sched.flags, FIELD_RSHIFT);
	r += __builtin_btf_type_id(*t, 0);
	r += __builtin_btf_type_id(*t, 1);
	r += __builtin_preserve_type_info(*t, 0);
	r += __builtin_preserve_type_info(*t, 1);
	r += __builtin_preserve_enum_value(*(enum task_state *)TS_SLEEPING, 0);
	r += __builtin_preserve_enum_value(*(enum task_state *)TS_SLEEPING, 1);
	return r;
}

char _license[] SEC("license") = "GPL";
