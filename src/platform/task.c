/*
 * task.c - the "current task" helpers of a user-space kernel.
 *
 * The current task is the calling thread: its thread id is the kernel's
 * task->pid, its process id the tgid, its name (prctl PR_GET_NAME, the
 * same 16-byte comm the kernel keeps) the comm.  uid and gid are the real
 * ids, as the kernel's bpf_get_current_uid_gid reads cred->uid/gid (in
 * bee they are as seen from the process's own user namespace).
 *
 * bpf_get_current_task (35) and bpf_get_current_task_btf (158) return the
 * address of this thread's struct bee_task (platform.h), refreshed on
 * each call.  It is bee's, not a task_struct: bpf_probe_read_kernel of it
 * fails (-ERANGE) as of any other address, so a program walking
 * task_struct fields reads zeros instead of garbage.  The _btf variant
 * returns a pointer the kernel lets programs load from directly, so in a
 * checked run bee grants the struct to the program, read-only.
 *
 * bpf_jiffies64 (118): jiffies at BEE_HZ = 250 (CONFIG_HZ=250, the usual
 * distribution setting; programs only compare differences) counted from
 * CLOCK_MONOTONIC, plus the kernel's INITIAL_JIFFIES offset
 * ((unsigned int)-300*HZ, which makes the 32-bit jiffies wrap five minutes
 * after boot), so values look like the kernel's.
 *
 * bpf_get_numa_node_id (42) is 0: bee places nothing per node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"

static __thread struct bee_task current_task;

static void current_comm(char comm[BEE_TASK_COMM_LEN])
{
	char name[BEE_TASK_COMM_LEN + 1];
	memset(name, 0, sizeof(name));
	if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0)
		name[0] = '\0';
	memset(comm, 0, BEE_TASK_COMM_LEN);
	/* PR_GET_NAME gives at most 15 characters and a NUL */
	memcpy(comm, name, strnlen(name, BEE_TASK_COMM_LEN - 1));
}

static struct bee_task *refresh_task(void)
{
	struct bee_task *t = &current_task;
	t->magic = BEE_TASK_MAGIC;
	t->pid = (int32_t)gettid();
	t->tgid = (int32_t)getpid();
	t->uid = (uint32_t)getuid();
	t->gid = (uint32_t)getgid();
	current_comm(t->comm);
	return t;
}

uint64_t bee_helper_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					 uint64_t r5)
{
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

uint64_t bee_helper_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					uint64_t r5)
{
	return (uint64_t)(uint32_t)getgid() << 32 | (uint32_t)getuid();
}

/*
 * bpf_get_current_comm(buf, size): strscpy_pad of the comm - at most
 * size - 1 characters, NUL-padded to size - and 0.  The verifier
 * guarantees size > 0; called with 0 bee returns -EINVAL.
 */
uint64_t bee_helper_get_current_comm(uint64_t buf, uint64_t size, uint64_t r3, uint64_t r4,
				     uint64_t r5)
{
	char *out = (char *)(uintptr_t)buf;
	uint32_t n = (uint32_t)size;
	if (n == 0)
		return (uint64_t)-EINVAL;
	if (!out || !bee_run_mem_ok(out, n, true))
		return (uint64_t)-EFAULT;
	char comm[BEE_TASK_COMM_LEN];
	current_comm(comm);
	size_t len = strnlen(comm, sizeof(comm));
	if (len > n - 1)
		len = n - 1;
	memcpy(out, comm, len);
	memset(out + len, 0, n - len);
	return 0;
}

uint64_t bee_helper_get_current_task(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5)
{
	return (uint64_t)(uintptr_t)refresh_task();
}

uint64_t bee_helper_get_current_task_btf(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					 uint64_t r5)
{
	struct bee_task *t = refresh_task();
	/* Outside a run there is nothing to grant to (-EINVAL), and a full
	 * region table only means loads from it will fault: either way the
	 * pointer is still the answer. */
	(void)bee_run_grant(t, sizeof(*t), false);
	return (uint64_t)(uintptr_t)t;
}

uint64_t bee_helper_get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5)
{
	return 0;
}

uint64_t bee_helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t initial = (uint32_t)(-300 * BEE_HZ);
	return initial + ns / (1000000000ull / BEE_HZ);
}
