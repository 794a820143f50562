/*
 * test_attach.c - bee_program_attach on the user-space target and the
 * named-hook API (bee_hook_id, BPF_RAW_TRACEPOINT_OPEN, bee_link_run_named).
 *
 * tests/objects/attach_user.bpf.c's programs are attached to a bee
 * instance; the hooks their sections name are fired and an array map
 * counts what ran; after bee_link_destroy nothing runs.  Sections with no
 * user-space hook give -EOPNOTSUPP with a message naming the section.
 * Exits 77 (SKIP) without the clang-built objects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/bee.h"
#include "bee/object.h"
#include "unit.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

static char pin_dir[256];

static uint64_t hit(struct bee *bee, struct bee_object_map *m, uint32_t slot)
{
	uint64_t v = 0;
	int r = bee_map_lookup(bee, bee_object_map_fd(m), &slot, &v);
	CHECK(r == 0, "lookup slot %u: %d", slot, r);
	return v;
}

static void test_named_hooks_core(enum bee_engine engine)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .engine = engine};
	struct bee *bee = bee_new(&o);
	CHECK(bee, "bee_new");
	if (!bee)
		return;
	uint32_t a, b, a2;
	CHECK(bee_hook_id(bee, "raw_tp/x", &a) == 0, "hook id");
	CHECK(bee_hook_id(bee, "tp/c/n", &b) == 0, "hook id 2");
	CHECK(bee_hook_id(bee, "raw_tp/x", &a2) == 0 && a2 == a, "same name, same id");
	CHECK(a >= BEE_HOOK_NAMED_BASE && b >= BEE_HOOK_NAMED_BASE && a != b, "ids %x %x", a, b);
	CHECK(bee_hook_id(bee, "", &a2) == -EINVAL, "empty name");
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK(bee_hook_id(bee, longname, &a2) == -ENAMETOOLONG, "long name");
	CHECK(bee_link_run_named(bee, "never/linked", NULL, 0) == 0, "unknown hook runs nothing");

	/* r0 = 7: a raw tracepoint program, linked by name (no '/': raw_tp/) */
	struct bpf_insn prog[] = {MOV64_IMM(0, 7), EXIT()};
	int pfd = bee_prog_load(bee, BPF_PROG_TYPE_RAW_TRACEPOINT, "rt", "GPL", prog, LEN(prog), NULL);
	CHECK(pfd >= 0, "prog load %d", pfd);
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (uint64_t)(uintptr_t)"x";
	attr.raw_tracepoint.prog_fd = (uint32_t)pfd;
	int lfd = (int)bee_bpf(bee, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	CHECK(lfd >= 0, "raw_tracepoint_open %d", lfd);
	uint64_t args[2] = {1, 2};
	CHECK(bee_link_run_named(bee, "raw_tp/x", args, sizeof(args)) == 1, "named run");
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, a, args, sizeof(args)) == 1, "run by id");

	/* link info: a raw tracepoint link named by the hook */
	char tp[64] = "";
	struct bpf_link_info li;
	memset(&li, 0, sizeof(li));
	li.raw_tracepoint.tp_name = (uint64_t)(uintptr_t)tp;
	li.raw_tracepoint.tp_name_len = sizeof(tp);
	uint32_t len = sizeof(li);
	CHECK(bee_obj_get_info_by_fd(bee, lfd, &li, &len) == 0, "link info");
	CHECK(li.type == BPF_LINK_TYPE_RAW_TRACEPOINT && !strcmp(tp, "raw_tp/x"), "info %u '%s'",
	      li.type, tp);

	/* a non-raw-tracepoint program cannot take a raw_tp/ hook */
	int sfd = bee_prog_load(bee, BPF_PROG_TYPE_SOCKET_FILTER, "s", "GPL", prog, LEN(prog), NULL);
	attr.raw_tracepoint.prog_fd = (uint32_t)sfd;
	CHECK(bee_bpf(bee, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr)) == -EINVAL, "type check");
	attr.raw_tracepoint.name = 0;
	CHECK(bee_bpf(bee, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr)) == -EINVAL, "NULL name");

	bee_close(bee, lfd);
	CHECK(bee_link_run_named(bee, "raw_tp/x", args, sizeof(args)) == 0, "detached");
	bee_close(bee, sfd);
	bee_close(bee, pfd);
	bee_free(bee);
}

static void test_object_attach(enum bee_engine engine)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/attach_user.bpf.o", BEE_TEST_OBJECTS_DIR);
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .engine = engine};
	struct bee *bee = bee_new(&o);
	struct bee_error err = {0};
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(path, &oo);
	CHECK(obj, "open %s: %s", path, err.msg);
	if (!obj || !bee) {
		bee_free(bee);
		return;
	}
	struct bee_target t = bee_target_of(bee);
	int r = bee_object_load(obj, &t);
	CHECK(r == 0, "load: %s", bee_object_error(obj));
	struct bee_object_map *hits = bee_object_find_map_by_name(obj, "hits");
	CHECK(hits, "hits map");
	if (r || !hits)
		goto out;

	struct bee_program *ev = bee_object_find_program_by_name(obj, "on_event");
	struct bee_link *l = bee_program_attach(ev);
	CHECK(l, "attach on_event: %s", bee_object_error(obj));
	CHECK(l && !strcmp(bee_link_hook(l), "raw_tp/bee_event"), "hook '%s'",
	      l ? bee_link_hook(l) : "");
	CHECK(l && bee_link_fd(l) >= 0, "link fd");
	uint64_t args[1] = {5};
	CHECK(bee_link_run_named(bee, "raw_tp/bee_event", args, sizeof(args)) == 1, "fire");
	args[0] = 10;
	CHECK(bee_link_run_named(bee, "raw_tp/bee_event", args, sizeof(args)) == 1, "fire 2");
	CHECK(hit(bee, hits, 0) == 15, "counter %llu", (unsigned long long)hit(bee, hits, 0));

	/* a second link to the same hook: both run */
	struct bee_link *l2 = bee_program_attach(ev);
	CHECK(l2, "attach again");
	CHECK(bee_link_run_named(bee, "raw_tp/bee_event", args, sizeof(args)) == 2, "two links");
	CHECK(hit(bee, hits, 0) == 35, "counter after two");
	CHECK(bee_link_destroy(l2) == 0, "destroy l2");

	/* detach: no longer runs */
	CHECK(bee_link_destroy(l) == 0, "destroy");
	CHECK(bee_link_run_named(bee, "raw_tp/bee_event", args, sizeof(args)) == 0, "detached");
	CHECK(hit(bee, hits, 0) == 35, "counter unchanged after detach");

	/* tp/CAT/NAME and kprobe/FUNC become named hooks too */
	struct bee_link *lt = bee_program_attach(bee_object_find_program_by_name(obj, "on_request"));
	struct bee_link *lk = bee_program_attach(bee_object_find_program_by_name(obj, "on_my_func"));
	CHECK(lt && !strcmp(bee_link_hook(lt), "tp/bee/request"), "tp hook");
	CHECK(lk && !strcmp(bee_link_hook(lk), "kprobe/my_func"), "kprobe hook");
	uint64_t regs[21] = {0};
	CHECK(bee_link_run_named(bee, "tp/bee/request", regs, sizeof(regs)) == 1, "tp fire");
	CHECK(bee_link_run_named(bee, "kprobe/my_func", regs, sizeof(regs)) == 1, "kprobe fire");
	CHECK(bee_link_run_named(bee, "kprobe/my_func", regs, sizeof(regs)) == 1, "kprobe fire");
	CHECK(hit(bee, hits, 1) == 1 && hit(bee, hits, 2) == 2, "tp/kprobe counters");
	bee_link_destroy(lt);
	bee_link_destroy(lk);

	/* no user-space hook for xdp yet: -EOPNOTSUPP, named */
	errno = 0;
	struct bee_link *lx = bee_program_attach(bee_object_find_program_by_name(obj, "pass"));
	CHECK(!lx && errno == EOPNOTSUPP, "xdp attach: errno %d", errno);
	CHECK(strstr(bee_object_error(obj), "section 'xdp'") &&
	      strstr(bee_object_error(obj), "no 'xdp' hook"), "message: %s", bee_object_error(obj));
	/* "kprobe" alone names nothing: -ESRCH */
	errno = 0;
	struct bee_link *ln = bee_program_attach(bee_object_find_program_by_name(obj, "no_target"));
	CHECK(!ln && errno == ESRCH, "bare kprobe: errno %d (%s)", errno, bee_object_error(obj));
	errno = 0;
	CHECK(!bee_program_attach(NULL) && errno == EINVAL, "NULL program");
	CHECK(bee_link_destroy(NULL) == 0, "destroy NULL");
out:
	bee_object_close(obj);
	bee_free(bee);
}

/* fentry & co. do not load into the user-space target: a clear message. */
static void test_fentry_user(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/attach_kernel.bpf.o", BEE_TEST_OBJECTS_DIR);
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir};
	struct bee *bee = bee_new(&o);
	struct bee_error err = {0};
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(path, &oo);
	CHECK(obj, "open %s: %s", path, err.msg);
	if (obj && bee) {
		struct bee_target t = bee_target_of(bee);
		CHECK(bee_object_load(obj, &t) == -EOPNOTSUPP, "fentry load in user space");
		CHECK(strstr(bee_object_error(obj), "fentry/do_nanosleep") &&
		      strstr(bee_object_error(obj), "user-space target has no kernel functions"),
		      "message: %s", bee_object_error(obj));
	}
	bee_object_close(obj);
	bee_free(bee);
}

int main(void)
{
	if (!BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang with a BPF target, no test objects\n");
		return 77;
	}
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-attach-XXXXXX");
	if (!mkdtemp(pin_dir)) {
		perror("mkdtemp");
		return 1;
	}
	enum bee_engine engines[] = {BEE_ENGINE_INTERP, BEE_ENGINE_JIT};
	for (size_t e = 0; e < LEN(engines); e++) {
		test_named_hooks_core(engines[e]);
		test_object_attach(engines[e]);
	}
	test_fentry_user();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin_dir);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", pin_dir);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
