/*
 * kernel_attach.c - bee_program_attach against the running kernel.
 *
 * tests/objects/attach_kernel.bpf.c is loaded with bee_target_kernel():
 * its fentry/do_nanosleep program needs an attach_btf_id, which the loader
 * resolves from /sys/kernel/btf/vmlinux; then both programs are attached
 * (fentry with BPF_RAW_TRACEPOINT_OPEN on the BTF id, raw_tp/sys_enter by
 * name), nanosleep and a syscall are made, the counters must have moved,
 * and after bee_link_destroy they must stay still.  Sections the kernel
 * target cannot attach yet (kprobe...) are checked to say so.
 * Exits 77 (SKIP) without bpf(), vmlinux BTF or the clang-built objects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

	/* a kprobe on the kernel target: not attachable yet, and it says why */
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
			CHECK(!lk && errno == EOPNOTSUPP, "kprobe attach: errno %d", errno);
			CHECK(strstr(bee_object_error(obj), "perf_event_open"), "message: %s",
			      bee_object_error(obj));
			bee_link_destroy(lk);
		}
		bee_object_close(obj);
	}
	printf("%s (fentry ran %llu, raw_tp %llu)\n", failures ? "FAILED" : "ok",
	       (unsigned long long)f1, (unsigned long long)r1);
	return failures ? 1 : 0;
}
