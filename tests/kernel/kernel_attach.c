/*
 * kernel_attach.c - bee_program_attach against the running kernel.
 *
 * tests/objects/attach_kernel.bpf.c is loaded with bee_target_kernel():
 * its fentry/do_nanosleep program needs an attach_btf_id, which the loader
 * resolves from /sys/kernel/btf/vmlinux; then both programs are attached
 * (fentry with BPF_RAW_TRACEPOINT_OPEN on the BTF id, raw_tp/sys_enter by
 * name), nanosleep and a syscall are made, the counters must have moved,
 * and after bee_link_destroy they must stay still.  The perf-event kinds
 * (perf_event_open + BPF_LINK_CREATE/BPF_PERF_EVENT) are checked the same
 * way: kprobe/do_nanosleep, tracepoint/syscalls/sys_enter_getpid (getpid
 * via syscall(2)) and a uprobe on a function of this binary
 * (/proc/self/exe); a piece whose PMU or tracefs is missing is skipped,
 * saying why.  A kprobe on a function the kernel lacks, and an xdp
 * program (no kernel attach yet), are checked to be refused with a reason.
 * Exits 77 (SKIP) without bpf(), vmlinux BTF or the clang-built objects.
 *
 * The fentry EPERM on the development VM (kernel 6.18.44-fc-v669,
 * Firecracker) is the machine, not bee: BPF_PROG_LOAD of fentry, fexit and
 * lsm programs fails with EPERM and an empty log even at log_level 1,
 * while tp_btf and iter programs (also BPF_PROG_TYPE_TRACING, with
 * expected_attach_type and a vmlinux attach_btf_id set the same way) load
 * fine, so the ids and types bee passes are right.  The machine: CAP_BPF,
 * CAP_PERFMON and CAP_SYS_ADMIN held, no BPF LSM program loaded, but the
 * kernel is locked down from its configuration (dmesg: "Kernel is locked
 * down from Kernel configuration"; /sys/kernel/security/lockdown
 * "[integrity]"; CONFIG_SECURITY_LOCKDOWN_LSM_EARLY=y), and ftrace's
 * control files (available_filter_functions, enabled_functions,
 * set_ftrace_filter) refuse even root with EPERM although
 * CONFIG_FUNCTION_TRACER and CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS are
 * set: ftrace function attachment (what BPF trampolines need) is closed
 * to user space there.  CONFIG_KPROBES is not set either, so the kprobe
 * piece skips (no /sys/bus/event_source/devices/kprobe); the uprobe PMU
 * and tracefs tracepoints are present and those pieces run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/object.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

static int failures;
#define CHECK(c, ...)                                                        \
	do {                                                                 \
		if (!(c)) {                                                  \
			failures++;                                          \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);          \
			printf(__VA_ARGS__);                                 \
			printf("\n");                                        \
		}                                                            \
	} while (0)

static uint64_t hit(const struct bee_target *t, int map_fd, uint32_t slot)
{
	uint64_t v = 0;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&slot;
	a.value = (uint64_t)(uintptr_t)&v;
	long r = t->bpf(t->ctx, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
	CHECK(r == 0, "lookup: %ld", r);
	return v;
}

static void poke(void)
{
	struct timespec ts = {0, 1000};
	for (int i = 0; i < 3; i++) {
		nanosleep(&ts, NULL);
		(void)getppid();
	}
}

#define N_TRIGGER 10

static void sleep_n(void)
{
	struct timespec ts = {0, 1000};
	for (int i = 0; i < N_TRIGGER; i++)
		nanosleep(&ts, NULL);
}

static void getpid_n(void)
{
	for (int i = 0; i < N_TRIGGER; i++)
		(void)syscall(SYS_getpid);
}

/* The uprobe's target: a function of this binary, found in its .symtab. */
__attribute__((noinline, used)) int bee_kernel_attach_uprobe_target(int x);
__attribute__((noinline, used)) int bee_kernel_attach_uprobe_target(int x)
{
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x + 1;
}

static void uprobe_n(void)
{
	int (*volatile fn)(int) = bee_kernel_attach_uprobe_target;
	int x = 0;
	for (int i = 0; i < N_TRIGGER; i++)
		x = fn(x);
	CHECK(x == N_TRIGGER, "uprobe target returned %d", x);
}

/*
 * Attach prog (counting into slot), trigger N_TRIGGER events, the count
 * must have grown by at least that; after bee_link_destroy more triggers
 * must leave it still.  A kernel without the PMU or tracefs (EOPNOTSUPP,
 * ENOENT) skips the piece, saying why.
 */
static void perf_piece(struct bee_object *obj, const struct bee_target *t, int mfd,
		       const char *prog, uint32_t slot, const char *hook, void (*trigger)(void))
{
	errno = 0;
	struct bee_link *l = bee_program_attach(bee_object_find_program_by_name(obj, prog));
	if (!l && (errno == EOPNOTSUPP || errno == ENOENT)) {
		printf("SKIP piece %s: %s\n", prog, bee_object_error(obj));
		return;
	}
	CHECK(l, "attach %s: %s", prog, bee_object_error(obj));
	if (!l)
		return;
	CHECK(!strcmp(bee_link_hook(l), hook), "%s hook '%s'", prog, bee_link_hook(l));
	CHECK(bee_link_fd(l) >= 0, "%s link fd", prog);
	uint64_t before = hit(t, mfd, slot);
	trigger();
	uint64_t after = hit(t, mfd, slot);
	CHECK(after - before >= N_TRIGGER, "%s ran %llu times, want >= %d", prog,
	      (unsigned long long)(after - before), N_TRIGGER);
	CHECK(bee_link_destroy(l) == 0, "destroy %s link", prog);
	uint64_t d1 = hit(t, mfd, slot);
	trigger();
	CHECK(hit(t, mfd, slot) == d1, "%s still running after destroy", prog);
	printf("%s (%s): ran %llu times for %d triggers, still after destroy\n", prog, hook,
	       (unsigned long long)(after - before), N_TRIGGER);
}

int main(void)
{
	if (!BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang-built test objects\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		printf("SKIP: no /sys/kernel/btf/vmlinux\n");
		return 77;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/attach_kernel.bpf.o", BEE_TEST_OBJECTS_DIR);
	struct bee_error err = {0};
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(path, &oo);
	if (!obj) {
		printf("FAIL: open %s: %s\n", path, err.msg);
		return 1;
	}
	struct bee_target t = bee_target_kernel();
	/* raw_tp alone first: fentry loads may be refused where raw_tp is not */
	bee_program_set_autoload(bee_object_find_program_by_name(obj, "on_nanosleep"), false);
	int r = bee_object_load(obj, &t);
	if (r == -EPERM || r == -ENOSYS || r == -EACCES) {
		printf("SKIP: bpf() not allowed here: %s\n", bee_object_error(obj));
		bee_object_close(obj);
		return 77;
	}
	CHECK(r == 0, "load: %s", bee_object_error(obj));
	if (r) {
		bee_object_close(obj);
		return 1;
	}
	struct bee_program *rt = bee_object_find_program_by_name(obj, "on_sys_enter");
	int mfd = bee_object_map_fd(bee_object_find_map_by_name(obj, "hits"));
	struct bee_link *lr = bee_program_attach(rt);
	CHECK(lr, "attach raw_tp: %s", bee_object_error(obj));
	CHECK(lr && !strcmp(bee_link_hook(lr), "sys_enter"), "raw_tp hook");
	poke();
	uint64_t r1 = hit(&t, mfd, 1);
	CHECK(r1 >= 6, "raw_tp ran %llu times", (unsigned long long)r1);
	CHECK(bee_link_destroy(lr) == 0, "destroy raw_tp link");
	uint64_t r2 = hit(&t, mfd, 1);
	poke();
	CHECK(hit(&t, mfd, 1) == r2, "raw_tp still running after destroy");

	/* the perf-event kinds: kprobe, tracepoint, uprobe */
	perf_piece(obj, &t, mfd, "on_kprobe", 2, "do_nanosleep", sleep_n);
	perf_piece(obj, &t, mfd, "on_getpid", 3, "syscalls/sys_enter_getpid", getpid_n);
	perf_piece(obj, &t, mfd, "on_uprobe", 4, "/proc/self/exe:bee_kernel_attach_uprobe_target",
		   uprobe_n);
	bee_object_close(obj);

	/* fentry: attach_btf_id from vmlinux BTF */
	uint64_t f1 = 0;
	obj = bee_object_open_file(path, &oo);
	CHECK(obj, "reopen: %s", err.msg);
	bee_program_set_autoload(bee_object_find_program_by_name(obj, "on_sys_enter"), false);
	r = bee_object_load(obj, &t);
	if (r == -EPERM && strstr(bee_object_error(obj), "BPF_PROG_LOAD failed")) {
		/* the id was found (else the message says "not found in vmlinux
		 * BTF"); this kernel refuses tracing programs to this process */
		printf("note: fentry part skipped, the kernel refuses the load: %s\n",
		       bee_object_error(obj));
	} else {
		CHECK(r == 0, "fentry load: %s", bee_object_error(obj));
		struct bee_program *fe = bee_object_find_program_by_name(obj, "on_nanosleep");
		mfd = bee_object_map_fd(bee_object_find_map_by_name(obj, "hits"));
		struct bee_link *lf = r ? NULL : bee_program_attach(fe);
		CHECK(lf, "attach fentry: %s", bee_object_error(obj));
		CHECK(lf && !strcmp(bee_link_hook(lf), "do_nanosleep"), "fentry hook");
		if (lf) {
			poke();
			f1 = hit(&t, mfd, 0);
			CHECK(f1 >= 3, "fentry ran %llu times", (unsigned long long)f1);
			CHECK(bee_link_destroy(lf) == 0, "destroy fentry link");
			uint64_t f2 = hit(&t, mfd, 0);
			poke();
			CHECK(hit(&t, mfd, 0) == f2, "fentry still running after destroy");
		}
	}
	bee_object_close(obj);

	/* a kprobe on a function the kernel lacks: refused, naming it */
	snprintf(path, sizeof(path), "%s/attach_user.bpf.o", BEE_TEST_OBJECTS_DIR);
	obj = bee_object_open_file(path, &oo);
	CHECK(obj, "open attach_user: %s", err.msg);
	if (obj) {
		int r2 = bee_object_load(obj, &t);
		r = r2;
		CHECK(r == 0, "load attach_user into the kernel: %s", bee_object_error(obj));
		if (!r) {
			errno = 0;
			struct bee_link *lk =
				bee_program_attach(bee_object_find_program_by_name(obj, "on_my_func"));
			CHECK(!lk && errno, "kprobe on my_func attached");
			CHECK(strstr(bee_object_error(obj), "kprobe 'my_func+0x0'"), "message: %s",
			      bee_object_error(obj));
			/* "xdp" still has no kernel attach here: it says so */
			errno = 0;
			struct bee_link *lx =
				bee_program_attach(bee_object_find_program_by_name(obj, "pass"));
			CHECK(!lx && errno == EOPNOTSUPP, "xdp attach: errno %d", errno);
			bee_link_destroy(lx);
			bee_link_destroy(lk);
		}
		bee_object_close(obj);
	}
	printf("%s (fentry ran %llu, raw_tp %llu)\n", failures ? "FAILED" : "ok",
	       (unsigned long long)f1, (unsigned long long)r1);
	return failures ? 1 : 0;
}
