/*
 * test_pin_persist.c - pinned objects outlive their instance completely,
 * as bpffs keeps them: links (on numbered and named hooks, their programs
 * by their own pins or by pins under .bee/progs/, detached ones staying
 * detached), maps of maps (the inner map template and every slot, inner
 * maps shared with their own pins) and prog arrays (slots by program pins,
 * a program in its own array included).  Instance 1 pins and goes (in a
 * child process for links); instance 2 on the same directory gets the pins
 * back and checks what they do; instance 3 sees what instance 2 changed.
 * Then the files are damaged: every truncation and a set of corruptions
 * must be refused with an error and a message naming the file, never a
 * crash and never a half-made object left pinned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/btf.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include "core/core.h"
#include "unit.h"
#include "unit_asm.h"

static char pin_dir[96];

static struct bee *new_bee(void)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 2};
	struct bee *bee = bee_new(&o);
	CHECK(bee, "bee_new: %s", strerror(errno));
	return bee;
}

/* Assemble printf-formatted text and load it as prog_type ("t"). */
#define load_asm(bee, type, ...) unit_load_asm(bee, type, "t", NULL, 0, __VA_ARGS__)

static long run_xdp(struct bee *bee, int prog)
{
	unsigned char pkt[64] = {0};
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = sizeof(pkt)};
	int err = bee_prog_test_run(bee, prog, &o);
	return err ? err : (long)o.retval;
}

static uint32_t obj_id(struct bee *bee, int fd)
{
	struct bpf_map_info info = {0}; /* the id is the first field of every info */
	uint32_t len = sizeof(info.type) + sizeof(info.id);
	if (fd < 0 || bee_obj_get_info_by_fd(bee, fd, &info, &len))
		return 0;
	return info.id;
}

/* A link's info, its hook name into name (when it has one). */
static int link_info(struct bee *bee, int fd, struct bpf_link_info *li, char *name, uint32_t size)
{
	memset(li, 0, sizeof(*li));
	name[0] = 0;
	li->raw_tracepoint.tp_name = (uint64_t)(uintptr_t)name;
	li->raw_tracepoint.tp_name_len = size;
	uint32_t len = sizeof(*li);
	return bee_obj_get_info_by_fd(bee, fd, li, &len);
}

/* The map a program uses (its first), as a new handle. */
static int prog_map(struct bee *bee, int prog)
{
	struct bpf_prog_info pi = {0};
	uint32_t map_id = 0, len = sizeof(pi);
	pi.nr_map_ids = 1;
	pi.map_ids = (uint64_t)(uintptr_t)&map_id;
	if (bee_obj_get_info_by_fd(bee, prog, &pi, &len) || !map_id)
		return -ENOENT;
	return bee_map_get_fd_by_id(bee, map_id);
}

static uint64_t lookup_u64(struct bee *bee, int map, uint32_t key)
{
	uint64_t v = 0;
	if (bee_map_lookup(bee, map, &key, &v))
		return (uint64_t)-1;
	return v;
}

static int link_detach_fd(struct bee *bee, int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (uint32_t)fd;
	return (int)bee_bpf(bee, BPF_LINK_DETACH, &a, sizeof(a));
}

static uint32_t next_link_id(struct bee *bee, uint32_t start)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = start;
	return bee_bpf(bee, BPF_LINK_GET_NEXT_ID, &a, sizeof(a)) ? 0 : a.next_id;
}

static bool exists(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, rel);
	return access(path, F_OK) == 0;
}

/* ---- links ---- */

struct link_ids {
	uint32_t hits, prog_a, prog_b, link_a, link_b, link_c;
	int ok;
};

/* hits[0] += add, on every run */
static int counter_prog(struct bee *bee, int hits, int add)
{
	return load_asm(bee, BPF_PROG_TYPE_RAW_TRACEPOINT,
			"*(u32 *)(r10 - 4) = 0\n"
			"r1 = map[fd:%d] ll\n"
			"r2 = r10\n"
			"r2 += -4\n"
			"call 1\n"
			"if r0 == 0 goto out\n"
			"r1 = %d\n"
			"lock *(u64 *)(r0 + 0) += r1\n"
			"out:\n"
			"r0 = 0\n"
			"exit\n",
			hits, add);
}

/* Instance 1, in its own process: three pinned links. */
static struct link_ids links_first_process(void)
{
	struct link_ids ids = {0};
	struct bee *bee = new_bee();
	int hits = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "hits", 4, 8, 1, NULL);
	int prog_a = counter_prog(bee, hits, 1);   /* no pin of its own */
	int prog_b = counter_prog(bee, hits, 100); /* pinned by the user */
	ids.ok = hits >= 0 && prog_a >= 0 && prog_b >= 0;
	ids.ok = ids.ok && bee_obj_pin(bee, prog_b, "links/prog_b") == 0;
	/* A: a named hook, by the kernel's attach-by-name command */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (uint64_t)(uintptr_t)"my_event";
	a.raw_tracepoint.prog_fd = (uint32_t)prog_a;
	int link_a = (int)bee_bpf(bee, BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	/* B: an embedder's numbered hook */
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog_b;
	a.link_create.target_fd = 7;
	a.link_create.attach_type = BPF_TRACE_RAW_TP;
	int link_b = (int)bee_bpf(bee, BPF_LINK_CREATE, &a, sizeof(a));
	/* C: pinned, then detached here */
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (uint64_t)(uintptr_t)"raw_tp/other";
	a.raw_tracepoint.prog_fd = (uint32_t)prog_a;
	int link_c = (int)bee_bpf(bee, BPF_RAW_TRACEPOINT_OPEN, &a, sizeof(a));
	ids.ok = ids.ok && link_a >= 0 && link_b >= 0 && link_c >= 0;
	ids.ok = ids.ok && bee_obj_pin(bee, link_a, "/sys/fs/bpf/links/named") == 0 &&
		 bee_obj_pin(bee, link_b, "links/numbered") == 0 &&
		 bee_obj_pin(bee, link_c, "links/detached") == 0;
	ids.ok = ids.ok && link_detach_fd(bee, link_c) == 0;
	uint64_t args[1] = {0};
	ids.ok = ids.ok && bee_link_run_named(bee, "raw_tp/my_event", args, sizeof(args)) == 1 &&
		 bee_link_run(bee, BPF_TRACE_RAW_TP, 7, args, sizeof(args)) == 1 &&
		 bee_link_run_named(bee, "raw_tp/other", args, sizeof(args)) == 0 &&
		 lookup_u64(bee, hits, 0) == 101;
	ids.hits = obj_id(bee, hits);
	ids.prog_a = obj_id(bee, prog_a);
	ids.prog_b = obj_id(bee, prog_b);
	ids.link_a = obj_id(bee, link_a);
	ids.link_b = obj_id(bee, link_b);
	ids.link_c = obj_id(bee, link_c);
	bee_free(bee); /* handles only: the pins keep everything */
	return ids;
}

static void test_links(void)
{
	int pfd[2];
	struct link_ids ids = {0};
	CHECK(pipe(pfd) == 0, "pipe");
	pid_t child = fork();
	if (child == 0) {
		close(pfd[0]);
		ids = links_first_process();
		ssize_t w = write(pfd[1], &ids, sizeof(ids));
		_exit(w == (ssize_t)sizeof(ids) ? 0 : 1);
	}
	close(pfd[1]);
	ssize_t r = read(pfd[0], &ids, sizeof(ids));
	close(pfd[0]);
	int status = -1;
	waitpid(child, &status, 0);
	CHECK(r == (ssize_t)sizeof(ids) && ids.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "first process: links made, pinned, run");
	char auto_prog[64];
	snprintf(auto_prog, sizeof(auto_prog), ".bee/progs/p%u", ids.prog_a);
	CHECK(exists("links/named") && exists("links/numbered") && exists("links/detached"),
	      "link pins on disk");
	CHECK(exists(auto_prog), "a link's unpinned program got a pin of its own: %s", auto_prog);

	/* Instance 2: everything back, same ids, the hooks run the programs. */
	struct bee *bee = new_bee();
	uint64_t args[1] = {0};
	int link_a = bee_obj_get(bee, "/sys/fs/bpf/links/named");
	CHECK(link_a >= 0, "get the named-hook link: %d (%s)", link_a, bee_pin_error());
	struct bpf_link_info li;
	char name[64];
	CHECK(link_info(bee, link_a, &li, name, sizeof(name)) == 0 && li.id == ids.link_a &&
		      li.prog_id == ids.prog_a && li.type == BPF_LINK_TYPE_RAW_TRACEPOINT &&
		      !strcmp(name, "raw_tp/my_event"),
	      "link info: id %u (was %u), prog %u (was %u), type %u, hook '%s'", li.id, ids.link_a,
	      li.prog_id, ids.prog_a, li.type, name);
	CHECK(next_link_id(bee, 0) == ids.link_a, "listed by LINK_GET_NEXT_ID");
	CHECK(bee_link_run_named(bee, "raw_tp/my_event", args, sizeof(args)) == 1,
	      "the named hook runs the link's program");
	int prog_a = bee_prog_get_fd_by_id(bee, ids.prog_a);
	int hits = prog_map(bee, prog_a);
	CHECK(obj_id(bee, hits) == ids.hits, "the program's map, same id");
	CHECK(lookup_u64(bee, hits, 0) == 102, "hits: 101 before, one more now: %llu",
	      (unsigned long long)lookup_u64(bee, hits, 0));

	int link_b = bee_obj_get(bee, "links/numbered");
	int prog_b = bee_obj_get(bee, "links/prog_b");
	CHECK(link_b >= 0 && prog_b >= 0, "numbered-hook link and its program: %d %d", link_b,
	      prog_b);
	CHECK(link_info(bee, link_b, &li, name, sizeof(name)) == 0 && li.id == ids.link_b &&
		      li.prog_id == ids.prog_b && obj_id(bee, prog_b) == ids.prog_b,
	      "its program is the one pinned on its own (ids %u %u)", li.prog_id, ids.prog_b);
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 7, args, sizeof(args)) == 1 &&
		      bee_link_run(bee, BPF_TRACE_RAW_TP, 8, args, sizeof(args)) == 0,
	      "hook 7 runs it, hook 8 does not");
	CHECK(lookup_u64(bee, hits, 0) == 202, "one map shared by both programs: %llu",
	      (unsigned long long)lookup_u64(bee, hits, 0));

	int link_c = bee_obj_get(bee, "links/detached");
	CHECK(link_c >= 0 && link_info(bee, link_c, &li, name, sizeof(name)) == 0 &&
		      li.id == ids.link_c && li.prog_id == 0 && !strcmp(name, "raw_tp/other"),
	      "the link detached in the first process comes back detached (prog %u, '%s')",
	      li.prog_id, name);
	CHECK(bee_link_run_named(bee, "raw_tp/other", args, sizeof(args)) == 0,
	      "its hook runs nothing");
	uint32_t n = 0;
	for (uint32_t id = next_link_id(bee, 0); id; id = next_link_id(bee, id))
		n++;
	CHECK(n == 3, "three links listed: %u", n);

	CHECK(link_detach_fd(bee, link_a) == 0, "detach in the second instance");
	CHECK(bee_link_run_named(bee, "raw_tp/my_event", args, sizeof(args)) == 0,
	      "detached: the hook runs nothing");
	bee_free(bee);

	/* Instance 3: the detach persisted; the rest still runs. */
	bee = new_bee();
	link_a = bee_obj_get(bee, "links/named");
	CHECK(link_a >= 0 && link_info(bee, link_a, &li, name, sizeof(name)) == 0 &&
		      li.id == ids.link_a && li.prog_id == 0,
	      "the detach persisted (prog %u)", li.prog_id);
	CHECK(bee_link_run_named(bee, "raw_tp/my_event", args, sizeof(args)) == 0,
	      "third instance: the named hook runs nothing");
	link_b = bee_obj_get(bee, "links/numbered");
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 7, args, sizeof(args)) == 1,
	      "third instance: the numbered hook still runs");
	prog_b = bee_obj_get(bee, "links/prog_b");
	hits = prog_map(bee, prog_b);
	CHECK(lookup_u64(bee, hits, 0) == 302, "hits kept across all three: %llu",
	      (unsigned long long)lookup_u64(bee, hits, 0));
	bee_free(bee);
}

/* ---- maps of maps ---- */

/* r0 = inner[ikey] of the inner map at outer[okey] (a u64 key when
 * key64), or 1000 when either is missing; with write, inner[ikey] = 99
 * first. */
static int outer_prog(struct bee *bee, int outer, uint64_t okey, bool key64, int ikey, bool write)
{
	char okey_store[96];
	if (key64)
		snprintf(okey_store, sizeof(okey_store), "r1 = 0x%llx ll\n*(u64 *)(r10 - 8) = r1\n",
			 (unsigned long long)okey);
	else
		snprintf(okey_store, sizeof(okey_store), "*(u32 *)(r10 - 8) = %u\n", (unsigned)okey);
	return load_asm(bee, BPF_PROG_TYPE_XDP,
			"%s"
			"*(u32 *)(r10 - 12) = %d\n"
			"r1 = map[fd:%d] ll\n"
			"r2 = r10\n"
			"r2 += -8\n"
			"call 1\n"
			"if r0 == 0 goto miss\n"
			"r1 = r0\n"
			"r2 = r10\n"
			"r2 += -12\n"
			"call 1\n"
			"if r0 == 0 goto miss\n"
			"%s"
			"r0 = *(u64 *)(r0 + 0)\n"
			"exit\n"
			"miss:\n"
			"r0 = 1000\n"
			"exit\n",
			okey_store, ikey, outer, write ? "*(u64 *)(r0 + 0) = 99\n" : "");
}

struct mim_ids {
	uint32_t in1, in2, aom, hom;
};

static struct mim_ids mim_first_instance(void)
{
	struct mim_ids ids;
	struct bee *bee = new_bee();
	int tmpl = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "tmpl", 4, 8, 2, NULL);
	int in1 = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "in1", 4, 8, 2, NULL);
	int in2 = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "in2", 4, 8, 2, NULL);
	struct bee_map_create_opts o = {.sz = sizeof(o), .inner_map_fd = (uint32_t)tmpl};
	int aom = bee_map_create(bee, BPF_MAP_TYPE_ARRAY_OF_MAPS, "aom", 4, 4, 4, &o);
	int hom = bee_map_create(bee, BPF_MAP_TYPE_HASH_OF_MAPS, "hom", 8, 4, 4, &o);
	CHECK(tmpl >= 0 && in1 >= 0 && in2 >= 0 && aom >= 0 && hom >= 0, "maps made");
	bee_close(bee, tmpl); /* the template need not outlive creation */
	uint32_t k;
	uint64_t v;
	k = 0, v = 11;
	bee_map_update(bee, in1, &k, &v, BPF_ANY);
	k = 1, v = 12;
	bee_map_update(bee, in1, &k, &v, BPF_ANY);
	k = 0, v = 21;
	bee_map_update(bee, in2, &k, &v, BPF_ANY);
	uint32_t fd = (uint32_t)in1;
	k = 0;
	CHECK(bee_map_update(bee, aom, &k, &fd, BPF_ANY) == 0, "aom[0] = in1");
	fd = (uint32_t)in2;
	k = 2;
	CHECK(bee_map_update(bee, aom, &k, &fd, BPF_ANY) == 0, "aom[2] = in2");
	uint64_t hk = 0x1234567890ull;
	CHECK(bee_map_update(bee, hom, &hk, &fd, BPF_ANY) == 0, "hom[big] = in2");
	hk = 7;
	fd = (uint32_t)in1;
	CHECK(bee_map_update(bee, hom, &hk, &fd, BPF_ANY) == 0, "hom[7] = in1");
	CHECK(bee_obj_pin(bee, in2, "mim/in2") == 0, "pin in2 on its own");
	int reader = outer_prog(bee, aom, 0, false, 0, false);
	int writer = outer_prog(bee, aom, 2, false, 1, true);
	CHECK(run_xdp(bee, reader) == 11 && run_xdp(bee, writer) == 99, "programs through aom");
	CHECK(bee_obj_pin(bee, aom, "mim/aom") == 0 && bee_obj_pin(bee, hom, "mim/hom") == 0 &&
		      bee_obj_pin(bee, reader, "mim/reader") == 0,
	      "pins");
	ids.in1 = obj_id(bee, in1);
	ids.in2 = obj_id(bee, in2);
	ids.aom = obj_id(bee, aom);
	ids.hom = obj_id(bee, hom);
	bee_free(bee);
	return ids;
}

static void test_map_in_map(void)
{
	struct mim_ids ids = mim_first_instance();
	char auto_in1[64];
	snprintf(auto_in1, sizeof(auto_in1), ".bee/maps/m%u", ids.in1);
	CHECK(exists(auto_in1), "in1 (no pin of its own) got one: %s", auto_in1);

	struct bee *bee = new_bee();
	int aom = bee_obj_get(bee, "mim/aom");
	CHECK(aom >= 0 && obj_id(bee, aom) == ids.aom, "array of maps back: %d (%s)", aom,
	      bee_pin_error());
	uint32_t k = 0, id = 0;
	CHECK(bee_map_lookup(bee, aom, &k, &id) == 0 && id == ids.in1, "aom[0] is in1: %u (%u)", id,
	      ids.in1);
	k = 2;
	CHECK(bee_map_lookup(bee, aom, &k, &id) == 0 && id == ids.in2, "aom[2] is in2: %u (%u)", id,
	      ids.in2);
	k = 1;
	CHECK(bee_map_lookup(bee, aom, &k, &id) == -ENOENT, "aom[1] stays empty");
	int in2 = bee_obj_get(bee, "mim/in2");
	CHECK(obj_id(bee, in2) == ids.in2, "in2's own pin is the same map");
	int reader = bee_obj_get(bee, "mim/reader");
	CHECK(reader >= 0 && run_xdp(bee, reader) == 11, "a pinned program reads in1 through aom: %ld",
	      run_xdp(bee, reader));
	int r2 = outer_prog(bee, aom, 2, false, 1, false);
	CHECK(run_xdp(bee, r2) == 99, "what a program wrote into in2 through aom: %ld",
	      run_xdp(bee, r2));
	int in1 = bee_map_get_fd_by_id(bee, ids.in1);
	CHECK(lookup_u64(bee, in1, 1) == 12, "in1's contents from the host");

	int hom = bee_obj_get(bee, "mim/hom");
	CHECK(obj_id(bee, hom) == ids.hom, "the hash of maps keeps its id too: %u (%u)",
	      obj_id(bee, hom), ids.hom);
	uint64_t hk = 0x1234567890ull;
	CHECK(hom >= 0 && bee_map_lookup(bee, hom, &hk, &id) == 0 && id == ids.in2,
	      "hash of maps back, hom[big] is in2 (%u)", id);
	hk = 7;
	CHECK(bee_map_lookup(bee, hom, &hk, &id) == 0 && id == ids.in1, "hom[7] is in1");
	uint64_t v = 22;
	k = 0;
	CHECK(bee_map_update(bee, in2, &k, &v, BPF_ANY) == 0, "host writes in2");
	int hr = outer_prog(bee, hom, 0x1234567890ull, true, 0, false);
	CHECK(run_xdp(bee, hr) == 22, "a program sees it through hom: %ld", run_xdp(bee, hr));
	int hr7 = outer_prog(bee, hom, 7, true, 0, false);
	CHECK(run_xdp(bee, hr7) == 11, "hom[7] -> in1[0]: %ld", run_xdp(bee, hr7));

	/* The template came back too: shapes are checked as at creation. */
	int wrong = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wrong", 4, 16, 2, NULL);
	int right = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "right", 4, 8, 2, NULL);
	uint32_t fd = (uint32_t)wrong;
	k = 1;
	CHECK(bee_map_update(bee, aom, &k, &fd, BPF_ANY) == -EINVAL, "a wrong shape is refused");
	fd = (uint32_t)right;
	CHECK(bee_map_update(bee, aom, &k, &fd, BPF_ANY) == 0, "the template's shape is taken");
	v = 31;
	k = 0;
	bee_map_update(bee, right, &k, &v, BPF_ANY);
	bee_free(bee);

	/* Instance 3: the new slot and the host's write persisted. */
	bee = new_bee();
	aom = bee_obj_get(bee, "mim/aom");
	int r1 = outer_prog(bee, aom, 1, false, 0, false);
	CHECK(run_xdp(bee, r1) == 31, "third instance: aom[1] -> the map added in the second: %ld",
	      run_xdp(bee, r1));
	hom = bee_obj_get(bee, "mim/hom");
	hr = outer_prog(bee, hom, 0x1234567890ull, true, 0, false);
	CHECK(run_xdp(bee, hr) == 22, "third instance: in2[0] through hom: %ld", run_xdp(bee, hr));
	bee_free(bee);
}

/* A template made with BPF_F_INNER_MAP takes inner maps of any size, in
 * the next instance too. */
static void test_inner_map_flag(void)
{
	struct bee *bee = new_bee();
	struct bee_map_create_opts t = {.sz = sizeof(t), .map_flags = BPF_F_INNER_MAP};
	int tmpl = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "tmpl", 4, 8, 1, &t);
	int small = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "small", 4, 8, 3, NULL);
	struct bee_map_create_opts o = {.sz = sizeof(o), .inner_map_fd = (uint32_t)tmpl};
	int outer = bee_map_create(bee, BPF_MAP_TYPE_ARRAY_OF_MAPS, "anysize", 4, 4, 2, &o);
	uint32_t k = 0, fd = (uint32_t)small;
	CHECK(tmpl >= 0 && small >= 0 && outer >= 0 &&
		      bee_map_update(bee, outer, &k, &fd, BPF_ANY) == 0 &&
		      bee_obj_pin(bee, outer, "mim/anysize") == 0,
	      "an outer map with a BPF_F_INNER_MAP template, pinned");
	bee_free(bee);

	bee = new_bee();
	outer = bee_obj_get(bee, "mim/anysize");
	int big = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "big", 4, 8, 9, NULL);
	int wrong = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wrong", 4, 4, 9, NULL);
	k = 1;
	fd = (uint32_t)big;
	CHECK(outer >= 0 && bee_map_update(bee, outer, &k, &fd, BPF_ANY) == 0,
	      "another size is still taken: %d (%s)", outer, bee_pin_error());
	fd = (uint32_t)wrong;
	CHECK(bee_map_update(bee, outer, &k, &fd, BPF_ANY) == -EINVAL,
	      "another value size is still refused");
	bee_free(bee);
}

/* ---- prog arrays ---- */

static void test_prog_array(void)
{
	struct bee *bee = new_bee();
	int jmp = bee_map_create(bee, BPF_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 4, NULL);
	int cnt = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "cnt", 4, 8, 1, NULL);
	int target = load_asm(bee, BPF_PROG_TYPE_XDP, "r0 = 77\nexit\n");
	int caller = load_asm(bee, BPF_PROG_TYPE_XDP,
			      "r2 = map[fd:%d] ll\n"
			      "r3 = 1\n"
			      "call 12\n"
			      "r0 = 5\n"
			      "exit\n",
			      jmp);
	/* counts its runs, then tail-calls itself (slot 3) as long as allowed */
	int looper = load_asm(bee, BPF_PROG_TYPE_XDP,
			      "r6 = r1\n"
			      "*(u32 *)(r10 - 4) = 0\n"
			      "r1 = map[fd:%d] ll\n"
			      "r2 = r10\n"
			      "r2 += -4\n"
			      "call 1\n"
			      "if r0 == 0 goto out\n"
			      "r1 = 1\n"
			      "lock *(u64 *)(r0 + 0) += r1\n"
			      "out:\n"
			      "r1 = r6\n"
			      "r2 = map[fd:%d] ll\n"
			      "r3 = 3\n"
			      "call 12\n"
			      "r0 = 9\n"
			      "exit\n",
			      cnt, jmp);
	CHECK(jmp >= 0 && cnt >= 0 && target >= 0 && caller >= 0 && looper >= 0, "made");
	uint32_t k = 1, v = (uint32_t)target;
	CHECK(bee_map_update(bee, jmp, &k, &v, BPF_ANY) == 0, "jmp[1] = target");
	k = 3, v = (uint32_t)looper;
	CHECK(bee_map_update(bee, jmp, &k, &v, BPF_ANY) == 0, "jmp[3] = looper (a cycle)");
	CHECK(run_xdp(bee, caller) == 77, "tail call in the first instance");
	uint32_t target_id = obj_id(bee, target), looper_id = obj_id(bee, looper);
	CHECK(bee_obj_pin(bee, caller, "pa/caller") == 0, "pin the caller");
	bee_free(bee);

	bee = new_bee();
	caller = bee_obj_get(bee, "pa/caller");
	CHECK(caller >= 0, "caller back: %d (%s)", caller, bee_pin_error());
	CHECK(run_xdp(bee, caller) == 77, "the tail call still lands: %ld", run_xdp(bee, caller));
	jmp = prog_map(bee, caller);
	uint32_t id = 0;
	k = 1;
	CHECK(bee_map_lookup(bee, jmp, &k, &id) == 0 && id == target_id, "jmp[1]: %u (%u)", id,
	      target_id);
	k = 3;
	CHECK(bee_map_lookup(bee, jmp, &k, &id) == 0 && id == looper_id, "jmp[3]: %u (%u)", id,
	      looper_id);
	looper = bee_prog_get_fd_by_id(bee, looper_id);
	CHECK(run_xdp(bee, looper) == 9, "the looper runs and falls through");
	cnt = prog_map(bee, looper);
	CHECK(lookup_u64(bee, cnt, 0) == 34, "1 run + 33 tail calls into itself: %llu",
	      (unsigned long long)lookup_u64(bee, cnt, 0));
	bee_free(bee);
}

/* ---- damaged files ---- */

static void *read_file(const char *rel, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	*len = buf ? fread(buf, 1, 65536, f) : 0;
	fclose(f);
	return buf;
}

static void write_file(const char *rel, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, rel);
	mkdir(pin_dir, 0700);
	snprintf(path, sizeof(path), "%s/bad", pin_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, rel);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* The file rel with its first occurrence of from replaced by to. */
static int write_edited(const char *src, const char *dst, const char *from, const char *to)
{
	size_t len;
	char *buf = read_file(src, &len);
	char *at = buf ? memmem(buf, len, from, strlen(from)) : NULL;
	if (!at) {
		free(buf);
		return -1;
	}
	size_t head = (size_t)(at - buf), fl = strlen(from), tl = strlen(to);
	char *out = malloc(len - fl + tl);
	memcpy(out, buf, head);
	memcpy(out + head, to, tl);
	memcpy(out + head + tl, at + fl, len - head - fl);
	write_file(dst, out, len - fl + tl);
	free(out);
	free(buf);
	return 0;
}

/* Every strict prefix of rel is refused, naming the file; the whole file
 * loads.  One instance throughout: a refused get must leave nothing
 * pinned, or a later prefix would find its object by origin. */
static void check_truncations(const char *rel)
{
	size_t len;
	char *buf = read_file(rel, &len);
	CHECK(buf && len > 0, "read %s", rel);
	if (!buf)
		return;
	struct bee *bee = new_bee();
	unsigned refused = 0;
	for (size_t n = 0; n < len; n++) {
		write_file("bad/cut", buf, n);
		int fd = bee_obj_get(bee, "bad/cut");
		if (fd < 0 && strstr(bee_pin_error(), "bad/cut"))
			refused++;
		else
			CHECK(0, "%s cut to %zu of %zu bytes: %d, '%s'", rel, n, len, fd,
			      bee_pin_error());
		if (fd >= 0)
			bee_close(bee, fd);
	}
	CHECK(refused == len, "%s: %u of %zu truncations refused", rel, refused, len);
	write_file("bad/cut", buf, len);
	int fd = bee_obj_get(bee, "bad/cut");
	CHECK(fd >= 0, "%s whole: %d (%s)", rel, fd, bee_pin_error());
	bee_free(bee);
	free(buf);
	char path[256];
	snprintf(path, sizeof(path), "%s/bad/cut", pin_dir);
	unlink(path);
}

/* Every byte of rel replaced in turn: loaded or refused with a message,
 * never a crash (the sanitizer build watches). */
static void check_corruptions(const char *rel)
{
	size_t len;
	char *buf = read_file(rel, &len);
	if (!buf)
		return;
	unsigned bad = 0;
	for (size_t i = 0; i < len; i++) {
		char saved = buf[i];
		buf[i] = buf[i] == 'x' ? 'y' : 'x';
		write_file("bad/flip", buf, len);
		buf[i] = saved;
		struct bee *bee = new_bee();
		int fd = bee_obj_get(bee, "bad/flip");
		if (fd < 0 && !bee_pin_error()[0])
			bad++;
		bee_free(bee);
	}
	CHECK(bad == 0, "%s: %u corruptions refused without a message", rel, bad);
	free(buf);
	char path[256];
	snprintf(path, sizeof(path), "%s/bad/flip", pin_dir);
	unlink(path);
}

static void expect_refused(struct bee *bee, const char *rel, int err, const char *why)
{
	int fd = bee_obj_get(bee, rel);
	CHECK(fd == err && strstr(bee_pin_error(), why), "%s: %d (want %d), '%s' (want '%s')", rel,
	      fd, err, bee_pin_error(), why);
	if (fd >= 0)
		bee_close(bee, fd);
	/* and again: the failed get left no half-made object behind */
	fd = bee_obj_get(bee, rel);
	CHECK(fd == err, "%s again: %d", rel, fd);
	if (fd >= 0)
		bee_close(bee, fd);
}

/* ---- a map's BTF ---- */

/* BTF of "int" [1] and "struct pt { int x; int y; }" [2], built by hand. */
static size_t make_btf(unsigned char *out, size_t cap)
{
	static const char strs[] = "\0int\0pt\0x\0y";
	uint32_t types[] = {
		1, BTF_KIND_INT << 24, 4, (BTF_INT_SIGNED << 24) | 32,
		5, (BTF_KIND_STRUCT << 24) | 2, 8, 8, 1, 0, 10, 1, 32,
	};
	struct btf_header h = {.magic = BTF_MAGIC, .version = BTF_VERSION,
			       .hdr_len = sizeof(h), .type_len = sizeof(types),
			       .str_off = sizeof(types), .str_len = sizeof(strs)};
	size_t n = sizeof(h) + sizeof(types) + sizeof(strs);
	if (n > cap)
		return 0;
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), types, sizeof(types));
	memcpy(out + sizeof(h) + sizeof(types), strs, sizeof(strs));
	return n;
}

static struct bpf_map_info map_info_of(struct bee *bee, int fd)
{
	struct bpf_map_info mi;
	memset(&mi, 0, sizeof(mi));
	uint32_t len = sizeof(mi);
	if (fd < 0 || bee_obj_get_info_by_fd(bee, fd, &mi, &len))
		memset(&mi, 0, sizeof(mi));
	return mi;
}

/* The bytes of the BTF object id into buf; their length, or -errno. */
static long btf_bytes(struct bee *bee, uint32_t id, unsigned char *buf, uint32_t cap)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf_id = id;
	int fd = (int)bee_bpf(bee, BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0)
		return fd;
	struct bpf_btf_info bi;
	memset(&bi, 0, sizeof(bi));
	bi.btf = (uint64_t)(uintptr_t)buf;
	bi.btf_size = cap;
	uint32_t len = sizeof(bi);
	int err = bee_obj_get_info_by_fd(bee, fd, &bi, &len);
	bee_close(bee, fd);
	return err ? err : (long)bi.btf_size;
}

/*
 * Instance 1 makes two maps with one BTF (an array of struct pt, a hash
 * of int to struct pt) and a map without, pins them and goes.  Instance 2
 * gets them back: each map with BTF reports the type ids it was made with
 * and a btf_id whose object has the same bytes, one BTF object for both;
 * the one without has none.  Instance 3 sees the same after instance 2
 * saved the files again.  A file with its BTF record taken out (as an
 * older bee wrote it) still loads, without BTF.
 */
static void test_map_btf(void)
{
	unsigned char btf[256], got[256];
	size_t btf_len = make_btf(btf, sizeof(btf));
	CHECK(btf_len, "make the BTF");
	struct bee *bee = new_bee();
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)btf;
	a.btf_size = (uint32_t)btf_len;
	int btf_fd = (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
	CHECK(btf_fd >= 0, "BTF_LOAD: %d", btf_fd);
	struct bee_map_create_opts o = {.sz = sizeof(o), .btf_fd = (uint32_t)btf_fd,
					.btf_key_type_id = 1, .btf_value_type_id = 2};
	int arr = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "pts", 4, 8, 4, &o);
	int hash = bee_map_create(bee, BPF_MAP_TYPE_HASH, "byint", 4, 8, 8, &o);
	int plain = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "plain", 4, 8, 1, NULL);
	CHECK(arr >= 0 && hash >= 0 && plain >= 0, "maps with BTF: %d %d %d", arr, hash, plain);
	struct bpf_map_info mi = map_info_of(bee, arr);
	uint32_t btf_id = mi.btf_id;
	CHECK(btf_id && mi.btf_key_type_id == 1 && mi.btf_value_type_id == 2,
	      "instance 1: btf_id %u, key %u, value %u", mi.btf_id, mi.btf_key_type_id,
	      mi.btf_value_type_id);
	int32_t pt[2] = {3, -4};
	uint32_t k = 1;
	CHECK(bee_map_update(bee, arr, &k, pt, BPF_ANY) == 0, "update pts");
	CHECK(bee_obj_pin(bee, arr, "btf/pts") == 0 && bee_obj_pin(bee, hash, "btf/byint") == 0 &&
		      bee_obj_pin(bee, plain, "btf/plain") == 0,
	      "pin the maps");
	bee_close(bee, btf_fd);
	bee_free(bee);

	for (int round = 2; round <= 3; round++) {
		bee = new_bee();
		int arr2 = bee_obj_get(bee, "btf/pts");
		int hash2 = bee_obj_get(bee, "btf/byint");
		int plain2 = bee_obj_get(bee, "btf/plain");
		CHECK(arr2 >= 0 && hash2 >= 0 && plain2 >= 0, "instance %d: get: %d %d %d (%s)", round,
		      arr2, hash2, plain2, bee_pin_error());
		struct bpf_map_info m1 = map_info_of(bee, arr2), m2 = map_info_of(bee, hash2);
		struct bpf_map_info m3 = map_info_of(bee, plain2);
		CHECK(m1.btf_id == btf_id && m1.btf_key_type_id == 1 && m1.btf_value_type_id == 2,
		      "instance %d: pts: btf_id %u (%u), key %u, value %u", round, m1.btf_id, btf_id,
		      m1.btf_key_type_id, m1.btf_value_type_id);
		CHECK(m2.btf_id == btf_id && m2.btf_key_type_id == 1 && m2.btf_value_type_id == 2,
		      "instance %d: byint shares the BTF: btf_id %u, key %u, value %u", round,
		      m2.btf_id, m2.btf_key_type_id, m2.btf_value_type_id);
		CHECK(!m3.btf_id && !m3.btf_key_type_id && !m3.btf_value_type_id,
		      "instance %d: plain has no BTF: %u", round, m3.btf_id);
		memset(got, 0, sizeof(got));
		long n = btf_bytes(bee, m1.btf_id, got, sizeof(got));
		CHECK(n == (long)btf_len && !memcmp(got, btf, btf_len),
		      "instance %d: the BTF object's bytes: %ld of %zu", round, n, btf_len);
		int32_t v[2] = {0, 0};
		CHECK(bee_map_lookup(bee, arr2, &k, v) == 0 && v[0] == 3 && v[1] == -4,
		      "instance %d: pts[1] = {%d, %d}", round, v[0], v[1]);
		bee_free(bee);
	}

	/* An older file: pts without the BTF record, as another object (id
	 * line without an origin, so that it is not taken for pts). */
	size_t len;
	char *buf = read_file("btf/pts", &len);
	char *map_line = buf ? memmem(buf, len, "\nmap ", 5) : NULL;
	char *rec = buf ? memmem(buf, len, "\nbtf ", 5) : NULL;
	unsigned bsize = 0;
	if (rec && sscanf(rec + 1, "btf %*u %u", &bsize) != 1)
		rec = NULL;
	char *eol = rec ? memchr(rec + 1, '\n', len - (size_t)(rec + 1 - buf)) : NULL;
	CHECK(map_line && eol && bsize == btf_len, "the BTF record in btf/pts");
	if (map_line && eol && map_line < rec && (size_t)(eol + 1 - buf) + bsize <= len) {
		const char *rest = eol + 1 + bsize;
		size_t rest_len = len - (size_t)(rest - buf);
		const char head[] = "BEEPIN1\nid 0 0 -";
		size_t map_len = (size_t)(rec + 1 - map_line);
		char *old = malloc(sizeof(head) - 1 + map_len + rest_len);
		memcpy(old, head, sizeof(head) - 1);
		memcpy(old + sizeof(head) - 1, map_line, map_len);
		memcpy(old + sizeof(head) - 1 + map_len, rest, rest_len);
		write_file("btf/old", old, sizeof(head) - 1 + map_len + rest_len);
		free(old);
		bee = new_bee();
		int fd = bee_obj_get(bee, "btf/old");
		struct bpf_map_info m = map_info_of(bee, fd);
		int32_t v[2] = {0, 0};
		CHECK(fd >= 0 && !m.btf_id && !m.btf_value_type_id &&
			      bee_map_lookup(bee, fd, &k, v) == 0 && v[0] == 3 && v[1] == -4,
		      "a file without the BTF record: %d (%s), btf_id %u, {%d, %d}", fd,
		      bee_pin_error(), m.btf_id, v[0], v[1]);
		bee_free(bee);
	}
	free(buf);
}

static void test_damaged_files(void)
{
	check_truncations("links/named");
	check_truncations("links/detached");
	check_truncations("mim/aom");
	check_truncations("mim/hom");
	check_truncations("pa/caller");
	check_truncations("btf/pts");
	check_corruptions("btf/pts");
	check_corruptions("links/named");
	check_corruptions("mim/aom");

	struct bee *bee = new_bee();
	write_file("bad/magic", "BEEPIN9\nid 1 0 -\nlink 0 7 0\n", 28);
	expect_refused(bee, "bad/magic", -EINVAL, "bad/magic: not a bee pin file");
	write_file("bad/kind", "BEEPIN1\nid 1 0 -\nzzz 1\n", 23);
	expect_refused(bee, "bad/kind", -EINVAL, "unknown object kind");
	/* a link whose program reference names a map's pin */
	CHECK(write_edited("links/numbered", "bad/notprog", "12 links/prog_b", "7 mim/in2") == 0,
	      "edit");
	expect_refused(bee, "bad/notprog", -EINVAL, "is not a program");
	CHECK(write_edited("links/numbered", "bad/noprog", "12 links/prog_b", "12 links/prog_x") == 0,
	      "edit");
	expect_refused(bee, "bad/noprog", -ENOENT, "its program links/prog_x");
	CHECK(write_edited("links/named", "bad/hook", "hook 15", "hook 99") == 0, "edit");
	expect_refused(bee, "bad/hook", -EINVAL, "hook name");
	CHECK(write_edited("links/numbered", "bad/trailing", "links/prog_b\n", "links/prog_b\nx") == 0,
	      "edit");
	expect_refused(bee, "bad/trailing", -EINVAL, "bytes after the link");
	/* a slot naming a pin that is not there, then a map of the wrong shape */
	CHECK(write_edited("mim/aom", "bad/noslot", "7 mim/in2", "7 mim/in9") == 0, "edit");
	expect_refused(bee, "bad/noslot", -ENOENT, "a slot's mim/in9");
	int wrong = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wrong", 4, 16, 2, NULL);
	CHECK(bee_obj_pin(bee, wrong, "bad/wrong") == 0, "pin a map of another shape");
	CHECK(write_edited("mim/aom", "bad/shape", "7 mim/in2", "9 bad/wrong") == 0, "edit");
	expect_refused(bee, "bad/shape", -EINVAL, "does not match the inner map template");
	/* a prog array slot naming a map */
	size_t len;
	char *pa = read_file("pa/caller", &len);
	char *ref = pa ? memmem(pa, len, "mapref ", 7) : NULL;
	char jmp_rel[64] = "";
	if (ref)
		sscanf(ref, "mapref %*u %63s", jmp_rel);
	free(pa);
	CHECK(jmp_rel[0], "the caller's prog array pin");
	char to[80];
	snprintf(to, sizeof(to), "%zu %s", strlen("bad/wrong"), "bad/wrong");
	char from[80];
	size_t tlen;
	char *jbuf = read_file(jmp_rel, &tlen);
	char *slot = jbuf ? memmem(jbuf, tlen, "ref ", 4) : NULL;
	unsigned sid = 0;
	size_t sl = 0;
	char spath[64] = "";
	if (slot)
		sscanf(slot, "ref %u %zu %63s", &sid, &sl, spath);
	free(jbuf);
	snprintf(from, sizeof(from), "%zu %s", sl, spath);
	CHECK(write_edited(jmp_rel, "bad/pa", from, to) == 0, "edit %s", jmp_rel);
	expect_refused(bee, "bad/pa", -EINVAL, "which is not a program");
	/* a map of maps saved without its template (an older bee's file) */
	char *aom = read_file("mim/aom", &len);
	char *inner = aom ? memmem(aom, len, "inner ", 6) : NULL;
	char *eol = inner ? memchr(inner, '\n', len - (size_t)(inner - aom)) : NULL;
	if (eol) {
		memmove(inner, eol + 1, len - (size_t)(eol + 1 - aom));
		write_file("bad/old", aom, len - (size_t)(eol + 1 - inner));
		expect_refused(bee, "bad/old", -EOPNOTSUPP, "without its inner map template");
	}
	CHECK(eol, "the template line");
	free(aom);
	/* a map's BTF record: type ids that do not fit the map, no value
	 * type, BTF bytes that do not load */
	CHECK(write_edited("btf/pts", "bad/btfids", " 1 2 0\n", " 1 1 0\n") == 0, "edit");
	expect_refused(bee, "bad/btfids", -EINVAL, "cannot make the map again with its BTF");
	CHECK(write_edited("btf/pts", "bad/btfnov", " 1 2 0\n", " 1 0 0\n") == 0, "edit");
	expect_refused(bee, "bad/btfnov", -EINVAL, "without a value type");
	CHECK(write_edited("btf/pts", "bad/btfmagic", " 1 2 0\n\x9f\xeb", " 1 2 0\n\x9f\xec") == 0,
	      "edit");
	expect_refused(bee, "bad/btfmagic", -EINVAL, "does not load again");
	bee_free(bee);

	/* A damaged file the pin leads to (an inner map's own pin) fails the
	 * whole get, naming that file. */
	char *in2 = read_file("mim/in2", &len);
	CHECK(in2 && len > 20, "read in2");
	if (in2) {
		write_file("mim/in2", in2, len - 3);
		bee = new_bee();
		int fd = bee_obj_get(bee, "mim/aom");
		CHECK(fd < 0 && strstr(bee_pin_error(), "mim/in2") &&
			      strstr(bee_pin_error(), "truncated"),
		      "a truncated inner map: %d '%s'", fd, bee_pin_error());
		CHECK(bee_obj_get(bee, "mim/aom") < 0, "still refused");
		bee_free(bee);
		write_file("mim/in2", in2, len);
		bee = new_bee();
		fd = bee_obj_get(bee, "mim/aom");
		CHECK(fd >= 0, "repaired: %d '%s'", fd, bee_pin_error());
		bee_free(bee);
		free(in2);
	}
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-pin-persist-%d", (int)getpid());
	test_links();
	test_map_in_map();
	test_inner_map_flag();
	test_prog_array();
	test_map_btf();
	test_damaged_files();
	if (!getenv("BEE_TEST_KEEP")) /* set: the pin directory stays for a look */
		nftw(pin_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
