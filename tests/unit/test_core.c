/*
 * test_core.c - the instance and its bpf() command interface, from the
 * host and from programs, on the interpreter and the JIT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include <linux/btf.h>
#include "unit.h"
#include "unit_asm.h"

static char pin_dir[64];

static struct bee *new_bee(enum bee_engine engine)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 2, .engine = engine};
	struct bee *bee = bee_new(&o);
	CHECK(bee, "bee_new: %s", strerror(errno));
	return bee;
}

/* Assemble printf-formatted text and load it as prog_type ("test"). */
#define load_asm(bee, type, log, log_size, ...) \
	unit_load_asm(bee, type, "test", log, log_size, __VA_ARGS__)

/* Run an XDP program on a small packet; returns its r0 (or -errno). */
static long run_xdp(struct bee *bee, int prog, int repeat)
{
	unsigned char pkt[64] = {0};
	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt,
				      .data_size_in = sizeof(pkt), .repeat = repeat};
	int err = bee_prog_test_run(bee, prog, &o);
	return err ? err : (long)o.retval;
}

static void test_attr_rules(struct bee *bee)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	CHECK(bee_bpf(bee, 9999, &a, sizeof(a)) == -EINVAL, "unknown command");
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 4;
	/* bytes past the union: zero is fine, non-zero is -E2BIG */
	unsigned char big[sizeof(a) + 16] = {0};
	memcpy(big, &a, sizeof(a));
	long fd = bee_bpf(bee, BPF_MAP_CREATE, (union bpf_attr *)big, sizeof(big));
	CHECK(fd >= 3, "create with zero tail: %ld", fd);
	bee_close(bee, (int)fd);
	big[sizeof(a) + 3] = 1;
	CHECK(bee_bpf(bee, BPF_MAP_CREATE, (union bpf_attr *)big, sizeof(big)) == -E2BIG,
	      "non-zero tail is -E2BIG");
	/* a field after the command's last one: -EINVAL */
	a.test.duration = 1; /* far past map_extra in the union */
	union bpf_attr b = a;
	memset(&b, 0, sizeof(b));
	b.map_type = BPF_MAP_TYPE_ARRAY;
	b.key_size = 4;
	b.value_size = 8;
	b.max_entries = 4;
	((unsigned char *)&b)[sizeof(b) - 1] = 1;
	CHECK(bee_bpf(bee, BPF_MAP_CREATE, &b, sizeof(b)) == -EINVAL, "unused field set");
	/* short attr: what is missing reads as zero */
	memset(&b, 0, sizeof(b));
	b.map_type = BPF_MAP_TYPE_ARRAY;
	b.key_size = 4;
	b.value_size = 8;
	b.max_entries = 4;
	fd = bee_bpf(bee, BPF_MAP_CREATE, &b, offsetof(union bpf_attr, map_flags));
	CHECK(fd >= 3, "short attr: %ld", fd);
	bee_close(bee, (int)fd);
	CHECK(bee_close(bee, 1000) == -EBADF, "close of a bad handle");
	CHECK(bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "bad name!", 4, 4, 1, NULL) == -EINVAL,
	      "map names: letters, digits, _ and .");
	CHECK(bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "a", 8, 4, 1, NULL) == -EINVAL,
	      "array keys are 4 bytes");
	CHECK(bee_map_create(bee, 1000, "a", 4, 4, 1, NULL) == -EINVAL, "unknown map type");
}

static void test_array_host(struct bee *bee)
{
	int fd = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "arr", 4, 8, 4, NULL);
	CHECK(fd >= 3, "array: %d", fd);
	uint32_t k = 2, next;
	uint64_t v = 42, out = 0;
	CHECK(bee_map_update(bee, fd, &k, &v, BPF_ANY) == 0, "update");
	CHECK(bee_map_lookup(bee, fd, &k, &out) == 0 && out == 42, "lookup %llu",
	      (unsigned long long)out);
	CHECK(bee_map_update(bee, fd, &k, &v, BPF_NOEXIST) == -EEXIST, "NOEXIST on array");
	k = 4;
	CHECK(bee_map_update(bee, fd, &k, &v, BPF_ANY) == -E2BIG, "index out of range");
	CHECK(bee_map_lookup(bee, fd, &k, &out) == -ENOENT, "lookup out of range");
	CHECK(bee_map_delete(bee, fd, &k) == -EINVAL, "array delete");
	CHECK(bee_map_update(bee, fd, &k, &v, 7) == -EINVAL, "bad flags");
	int n = 0;
	for (int err = bee_map_get_next_key(bee, fd, NULL, &next); !err;
	     err = bee_map_get_next_key(bee, fd, &next, &next))
		n++;
	CHECK(n == 4, "iterate array: %d keys", n);
	CHECK(bee_map_freeze(bee, fd) == 0, "freeze");
	CHECK(bee_map_freeze(bee, fd) == -EPERM, "freeze twice: a frozen map has no write access");
	k = 1;
	CHECK(bee_map_update(bee, fd, &k, &v, BPF_ANY) == -EPERM, "update of a frozen map");
	CHECK(bee_map_lookup(bee, fd, &k, &out) == 0, "lookup of a frozen map");

	struct bee_map_create_opts ro = {.sz = sizeof(ro), .map_flags = BPF_F_RDONLY};
	int rfd = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "ro", 4, 8, 1, &ro);
	k = 0;
	CHECK(bee_map_update(bee, rfd, &k, &v, BPF_ANY) == -EPERM, "RDONLY map");
	struct bee_map_create_opts wo = {.sz = sizeof(wo), .map_flags = BPF_F_WRONLY};
	int wfd = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wo", 4, 8, 1, &wo);
	CHECK(bee_map_lookup(bee, wfd, &k, &out) == -EPERM, "WRONLY map");

	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	CHECK(bee_obj_get_info_by_fd(bee, fd, &info, &len) == 0 && len == sizeof(info) &&
		      info.type == BPF_MAP_TYPE_ARRAY && info.key_size == 4 && info.value_size == 8 &&
		      info.max_entries == 4 && !strcmp(info.name, "arr"),
	      "map info");
	uint32_t id = info.id, next_id;
	CHECK(bee_map_get_next_id(bee, id - 1, &next_id) == 0 && next_id == id, "next id");
	int fd2 = bee_map_get_fd_by_id(bee, id);
	CHECK(fd2 >= 3 && fd2 != fd, "fd by id");
	bee_close(bee, fd2);
	bee_close(bee, fd);
	bee_close(bee, rfd);
	bee_close(bee, wfd);
	CHECK(bee_map_get_fd_by_id(bee, id) == -ENOENT, "a closed map's id is gone");

	/* per-CPU: the host sees every CPU's value */
	int pfd = bee_map_create(bee, BPF_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 4, 2, NULL);
	uint64_t vals[2] = {0x11, 0x22}, got[2] = {0};
	CHECK(bee_map_update(bee, pfd, &k, vals, BPF_ANY) == 0, "percpu update");
	CHECK(bee_map_lookup(bee, pfd, &k, got) == 0 && got[0] == 0x11 && got[1] == 0x22,
	      "percpu lookup");
	bee_close(bee, pfd);
}

static void test_batch(struct bee *bee)
{
	int fd = bee_map_create(bee, BPF_MAP_TYPE_HASH, "h", 4, 8, 64, NULL);
	CHECK(fd >= 3, "hash: %d", fd);
	uint32_t keys[10];
	uint64_t vals[10];
	for (uint32_t i = 0; i < 10; i++) {
		keys[i] = i * 7;
		vals[i] = i * 100;
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.keys = (uint64_t)(uintptr_t)keys;
	a.batch.values = (uint64_t)(uintptr_t)vals;
	a.batch.count = 10;
	CHECK(bee_bpf(bee, BPF_MAP_UPDATE_BATCH, &a, sizeof(a)) == 0 && a.batch.count == 10,
	      "update batch");
	uint32_t okeys[10], cursor;
	uint64_t ovals[10];
	uint32_t total = 0;
	uint64_t sum = 0;
	bool first = true;
	for (;;) {
		memset(&a, 0, sizeof(a));
		a.batch.map_fd = (uint32_t)fd;
		a.batch.in_batch = first ? 0 : (uint64_t)(uintptr_t)&cursor;
		a.batch.out_batch = (uint64_t)(uintptr_t)&cursor;
		a.batch.keys = (uint64_t)(uintptr_t)okeys;
		a.batch.values = (uint64_t)(uintptr_t)ovals;
		a.batch.count = 3;
		long err = bee_bpf(bee, BPF_MAP_LOOKUP_BATCH, &a, sizeof(a));
		first = false;
		for (uint32_t i = 0; i < a.batch.count; i++)
			sum += ovals[i];
		total += a.batch.count;
		if (err == -ENOENT)
			break;
		CHECK(err == 0, "lookup batch: %ld", err);
		if (err)
			break;
	}
	CHECK(total == 10 && sum == 4500, "lookup batch saw %u elements, sum %llu", total,
	      (unsigned long long)sum);
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.keys = (uint64_t)(uintptr_t)keys;
	a.batch.count = 10;
	CHECK(bee_bpf(bee, BPF_MAP_DELETE_BATCH, &a, sizeof(a)) == 0 && a.batch.count == 10,
	      "delete batch");
	uint32_t k;
	CHECK(bee_map_get_next_key(bee, fd, NULL, &k) == -ENOENT, "empty after delete batch");
	bee_close(bee, fd);
}

/* The example of the issue: count events per key in a hash map. */
static void test_count_program(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	int map = bee_map_create(bee, BPF_MAP_TYPE_HASH, "counts", 4, 8, 16, NULL);
	char log[1024];
	/* key = first packet byte & 3; counts[key] += 1 */
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log),
			    "r6 = *(u32 *)(r1 + 0)\n"      /* data */
			    "r7 = *(u32 *)(r1 + 4)\n"      /* data_end */
			    "r2 = r6\n"
			    "r2 += 1\n"
			    "if r2 > r7 goto out\n"
			    "r3 = *(u8 *)(r6 + 0)\n"
			    "r3 &= 3\n"
			    "*(u32 *)(r10 - 4) = r3\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "call 1\n"                      /* bpf_map_lookup_elem */
			    "if r0 == 0 goto new\n"
			    "r1 = 1\n"
			    "lock *(u64 *)(r0 + 0) += r1\n"
			    "goto out\n"
			    "new:\n"
			    "*(u64 *)(r10 - 16) = 1\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "r3 = r10\n"
			    "r3 += -16\n"
			    "r4 = 0\n"
			    "call 2\n"                      /* bpf_map_update_elem */
			    "out:\n"
			    "r0 = 2\n"                      /* XDP_PASS */
			    "exit\n",
			    map, map);
	CHECK(prog >= 3, "load count program: %d: %s", prog, log);
	CHECK(run_xdp(bee, prog, 5) == 2, "XDP_PASS");
	uint32_t k = 0; /* packet byte 0 is 0 */
	uint64_t v = 0;
	CHECK(bee_map_lookup(bee, map, &k, &v) == 0 && v == 5, "engine %d: count %llu", engine,
	      (unsigned long long)v);

	/* program info: name, tag, map ids, xlated with map ids */
	struct bpf_prog_info info = {0};
	struct bpf_insn xl[64];
	uint32_t map_ids[4];
	info.xlated_prog_len = sizeof(xl);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)xl;
	info.nr_map_ids = 4;
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	uint32_t len = sizeof(info);
	CHECK(bee_obj_get_info_by_fd(bee, prog, &info, &len) == 0, "prog info");
	struct bpf_map_info minfo = {0};
	uint32_t mlen = sizeof(minfo);
	bee_obj_get_info_by_fd(bee, map, &minfo, &mlen);
	CHECK(info.type == BPF_PROG_TYPE_XDP && !strcmp(info.name, "test") &&
		      info.nr_map_ids == 1 && map_ids[0] == minfo.id &&
		      info.xlated_prog_len == 28 * sizeof(struct bpf_insn),
	      "prog info fields: type %u name %s maps %u xlated %u", info.type, info.name,
	      info.nr_map_ids, info.xlated_prog_len);
	CHECK(xl[8].src_reg == BPF_PSEUDO_MAP_FD && xl[8].imm == (int)minfo.id,
	      "xlated lddw names the map id");
	CHECK(info.gpl_compatible, "GPL");

	/* stats are kept while a BPF_ENABLE_STATS handle is open */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.enable_stats.type = BPF_STATS_RUN_TIME;
	int sfd = (int)bee_bpf(bee, BPF_ENABLE_STATS, &a, sizeof(a));
	CHECK(sfd >= 3, "enable stats");
	run_xdp(bee, prog, 3);
	bee_close(bee, sfd);
	run_xdp(bee, prog, 3);
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	bee_obj_get_info_by_fd(bee, prog, &info, &len);
	CHECK(info.run_cnt == 3, "run_cnt %llu", (unsigned long long)info.run_cnt);
	bee_free(bee);
}

static void test_load_errors(struct bee *bee)
{
	char log[512];
	int fd = load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log),
			  "r1 = map[fd:77] ll\nr0 = 0\nexit\n");
	CHECK(fd == -EBADF && strstr(log, "fd 77 is not pointing to valid bpf_map"),
	      "bad map fd: %d %s", fd, log);
	fd = load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log), "call 9999\nexit\n");
	CHECK(fd < 0 && log[0], "unknown helper: %d %s", fd, log);
	struct bpf_insn ok[] = {MOV64_IMM(0, 0), EXIT()};
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_UNSPEC, "x", "GPL", ok, 2, NULL) == -EINVAL,
	      "prog type 0");
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_XDP, "x", "GPL", ok, 0, NULL) == -EINVAL,
	      "no instructions");
	struct bee_prog_load_opts small = {.sz = sizeof(small), .log_buf = log, .log_size = 16,
					   .log_level = 1};
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_XDP, "x", "GPL", ok, 2, &small) == -EINVAL,
	      "log buffer under 128 bytes");
	/* GPL-only helpers need a GPL-compatible license */
	struct bpf_insn printk[] = {MOV64_REG(1, 10), MOV64_IMM(2, 1), CALL_HELPER(6), EXIT()};
	struct bee_prog_load_opts lo = {.sz = sizeof(lo), .log_buf = log, .log_size = sizeof(log),
					.log_level = 1};
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_XDP, "x", "Proprietary", printk, 4, &lo) == -EINVAL &&
		      strstr(log, "GPL"),
	      "GPL-only helper: %s", log);
}

static void test_checked_faults(struct bee *bee)
{
	int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "a", 4, 8, 2, NULL);
	/* write 8 bytes past the value: the checked run stops it */
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			    "*(u32 *)(r10 - 4) = 0\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "call 1\n"
			    "if r0 == 0 goto out\n"
			    "*(u64 *)(r0 + 0) = 7\n"
			    "*(u64 *)(r0 + 12) = 7\n"
			    "out:\n"
			    "r0 = 0\n"
			    "exit\n",
			    map);
	CHECK(prog >= 3, "load: %d", prog);
	long r = run_xdp(bee, prog, 1);
	const struct bee_error *e = bee_last_run_error();
	CHECK(r == -EFAULT && e && e->insn == 8, "out of the value: %ld insn %ld", r,
	      e ? e->insn : -1);
	uint32_t k = 0;
	uint64_t v = 0;
	CHECK(bee_map_lookup(bee, map, &k, &v) == 0 && v == 7, "the in-bounds store landed");
	/* a forged map pointer is not a map */
	int forged = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			      "*(u32 *)(r10 - 4) = 0\n"
			      "r1 = 4096\n"
			      "r2 = r10\n"
			      "r2 += -4\n"
			      "call 1\n"
			      "exit\n");
	CHECK(run_xdp(bee, forged, 1) == 0, "lookup through a forged map pointer gives NULL");
	bee_close(bee, prog);
	bee_close(bee, forged);
	bee_close(bee, map);
}

static void test_tail_calls(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	int jmp = bee_map_create(bee, BPF_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 4, NULL);
	int target = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "r0 = 77\nexit\n");
	int caller = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			      "r2 = map[fd:%d] ll\n"
			      "r3 = 1\n"
			      "call 12\n"
			      "r0 = 5\n"
			      "exit\n",
			      jmp);
	CHECK(run_xdp(bee, caller, 1) == 5, "empty slot: fall through");
	uint32_t k = 1, v = (uint32_t)target;
	CHECK(bee_map_update(bee, jmp, &k, &v, BPF_ANY) == 0, "prog array update");
	CHECK(run_xdp(bee, caller, 1) == 77, "engine %d: tail call taken", engine);
	uint32_t id = 0;
	CHECK(bee_map_lookup(bee, jmp, &k, &id) == 0 && id > 0, "prog array lookup gives the id");
	int other = load_asm(bee, BPF_PROG_TYPE_SOCKET_FILTER, NULL, 0, "r0 = 0\nexit\n");
	v = (uint32_t)other;
	CHECK(bee_map_update(bee, jmp, &k, &v, BPF_ANY) == -EINVAL,
	      "a prog array takes one program type");
	CHECK(bee_map_delete(bee, jmp, &k) == 0, "delete");
	CHECK(run_xdp(bee, caller, 1) == 5, "deleted slot: fall through");
	bee_free(bee);
}

static void test_trace_pipe(void)
{
	struct bee *bee = new_bee(BEE_ENGINE_INTERP);
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			    "r1 = 0x0a7825206968 ll\n" /* "hi %x\n" */
			    "*(u64 *)(r10 - 8) = r1\n"
			    "r1 = r10\n"
			    "r1 += -8\n"
			    "r2 = 8\n"
			    "r3 = 0xbee\n"
			    "call 6\n"
			    "r0 = 0\n"
			    "exit\n");
	CHECK(prog >= 3, "printk prog %d", prog);
	CHECK(run_xdp(bee, prog, 2) == 0, "run");
	char buf[512] = {0};
	long n = bee_trace_pipe_read(bee, buf, sizeof(buf) - 1, 100);
	CHECK(n > 0 && strstr(buf, ": bpf_trace_printk: hi bee\n"), "trace pipe: %s", buf);
	char *second = n > 0 ? strchr(buf, '\n') : NULL;
	CHECK(second && strstr(second + 1, "hi bee"), "two lines");
	CHECK(bee_trace_pipe_read(bee, buf, sizeof(buf), 0) == 0, "consumed");
	bee_free(bee);
}

static void test_pins(void)
{
	struct bee *a = new_bee(BEE_ENGINE_INTERP);
	int map = bee_map_create(a, BPF_MAP_TYPE_HASH, "pinned", 4, 8, 8, NULL);
	uint32_t k = 3;
	uint64_t v = 1234;
	bee_map_update(a, map, &k, &v, BPF_ANY);
	CHECK(bee_obj_pin(a, map, "/sys/fs/bpf/dir/counts") == 0, "pin");
	CHECK(bee_obj_pin(a, map, "/sys/fs/bpf/dir/counts") == -EEXIST, "pin twice");
	CHECK(bee_obj_pin(a, map, "/etc/x") == -EPERM, "pin outside the pin directory");
	CHECK(bee_obj_pin(a, map, "../x") == -EINVAL, "..");
	int again = bee_obj_get(a, "dir/counts");
	CHECK(again >= 3, "get in the same instance");
	v = 5678; /* written after the pin: saved when the instance goes */
	bee_map_update(a, again, &k, &v, BPF_ANY);
	bee_free(a);

	struct bee *b = new_bee(BEE_ENGINE_INTERP);
	int fd = bee_obj_get(b, "/sys/fs/bpf/dir/counts");
	uint64_t got = 0;
	CHECK(fd >= 3 && bee_map_lookup(b, fd, &k, &got) == 0 && got == 5678,
	      "a second instance reads what the first wrote: %d %llu", fd,
	      (unsigned long long)got);
	CHECK(bee_obj_get(b, "nothing/here") == -ENOENT, "missing pin");
	bee_free(b);
	char path[128];
	snprintf(path, sizeof(path), "%s/dir/counts", pin_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dir", pin_dir);
	rmdir(path);
	rmdir(pin_dir);
}

static void test_map_in_map(struct bee *bee)
{
	int inner = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "inner", 4, 8, 2, NULL);
	struct bee_map_create_opts o = {.sz = sizeof(o), .inner_map_fd = (uint32_t)inner};
	int outer = bee_map_create(bee, BPF_MAP_TYPE_ARRAY_OF_MAPS, "outer", 4, 4, 2, &o);
	CHECK(outer >= 3, "array of maps: %d", outer);
	uint32_t k = 0, v = (uint32_t)inner, id = 0;
	CHECK(bee_map_update(bee, outer, &k, &v, BPF_ANY) == 0, "insert inner");
	CHECK(bee_map_lookup(bee, outer, &k, &id) == 0 && id > 0, "lookup gives its id");
	int wrong = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wrong", 4, 16, 2, NULL);
	v = (uint32_t)wrong;
	CHECK(bee_map_update(bee, outer, &k, &v, BPF_ANY) == -EINVAL, "inner must match");
	/* a program reaches the inner map through the outer one */
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			    "*(u32 *)(r10 - 4) = 0\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "call 1\n"
			    "if r0 == 0 goto out\n"
			    "r1 = r0\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "call 1\n"
			    "if r0 == 0 goto out\n"
			    "*(u64 *)(r0 + 0) = 99\n"
			    "out:\n"
			    "r0 = 0\n"
			    "exit\n",
			    outer);
	CHECK(run_xdp(bee, prog, 1) == 0, "run");
	uint64_t got = 0;
	CHECK(bee_map_lookup(bee, inner, &k, &got) == 0 && got == 99, "inner written: %llu",
	      (unsigned long long)got);
	bee_close(bee, prog);
	bee_close(bee, outer);
	bee_close(bee, inner);
	bee_close(bee, wrong);
}

static int count_record(void *ctx, void *data, size_t size)
{
	uint64_t *sum = ctx;
	if (size == 8)
		*sum += *(uint64_t *)data;
	return 0;
}

static int count_sample(void *ctx, int cpu, void *data, size_t size)
{
	return count_record(ctx, data, size);
}

/* Programs sending to the host: ring buffer (output, reserve/submit,
 * reserve/discard) and perf event array. */
static void test_output_maps(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	int rb = bee_map_create(bee, BPF_MAP_TYPE_RINGBUF, "rb", 0, 0, 4096, NULL);
	int pe = bee_map_create(bee, BPF_MAP_TYPE_PERF_EVENT_ARRAY, "pe", 4, 4, 2, NULL);
	CHECK(rb >= 3 && pe >= 3, "ringbuf %d perf %d", rb, pe);
	for (uint32_t cpu = 0; cpu < 2; cpu++) /* open both channels */
		bee_map_update(bee, pe, &cpu, &cpu, BPF_ANY);
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			    "r6 = r1\n"
			    "*(u64 *)(r10 - 8) = 5\n"
			    "r1 = map[fd:%d] ll\n"     /* output 5 */
			    "r2 = r10\n"
			    "r2 += -8\n"
			    "r3 = 8\n"
			    "r4 = 0\n"
			    "call 130\n"
			    "r1 = map[fd:%d] ll\n"     /* reserve, write 7, submit */
			    "r2 = 8\n"
			    "r3 = 0\n"
			    "call 131\n"
			    "if r0 == 0 goto skip\n"
			    "*(u64 *)(r0 + 0) = 7\n"
			    "r1 = r0\n"
			    "r2 = 0\n"
			    "call 132\n"
			    "skip:\n"
			    "r1 = map[fd:%d] ll\n"     /* reserve, discard */
			    "r2 = 8\n"
			    "r3 = 0\n"
			    "call 131\n"
			    "if r0 == 0 goto perf\n"
			    "*(u64 *)(r0 + 0) = 1000\n"
			    "r1 = r0\n"
			    "r2 = 0\n"
			    "call 133\n"
			    "perf:\n"
			    "*(u64 *)(r10 - 8) = 11\n"
			    "r1 = r6\n"
			    "r2 = map[fd:%d] ll\n"
			    "r3 = 0xffffffff ll\n"    /* BPF_F_CURRENT_CPU */
			    "r4 = r10\n"
			    "r4 += -8\n"
			    "r5 = 8\n"
			    "call 25\n"
			    "exit\n",
			    rb, rb, rb, pe);
	CHECK(prog >= 3, "load output program: %d", prog);
	CHECK(run_xdp(bee, prog, 3) == 0, "engine %d: run: %s", engine,
	      bee_last_run_error() ? bee_last_run_error()->msg : "");
	uint64_t sum = 0;
	int n = bee_ringbuf_poll(bee, rb, count_record, &sum, 100);
	CHECK(n == 6 && sum == 36, "ringbuf: %d records, sum %llu", n, (unsigned long long)sum);
	sum = 0;
	n = bee_perf_buffer_poll(bee, pe, count_sample, NULL, &sum, 100);
	CHECK(n == 3 && sum == 33, "perf buffer: %d samples, sum %llu", n, (unsigned long long)sum);
	CHECK(bee_ringbuf_poll(bee, pe, count_record, &sum, 0) == -EINVAL, "not a ring buffer");
	bee_free(bee);
}

/* Queues from programs, bpf_for_each_map_elem and bpf_loop callbacks. */
static void test_queue_and_callbacks(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	int q = bee_map_create(bee, BPF_MAP_TYPE_QUEUE, "q", 0, 8, 8, NULL);
	int arr = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "arr", 4, 8, 4, NULL);
	for (uint32_t k = 0; k < 4; k++) {
		uint64_t v = k + 1;
		bee_map_update(bee, arr, &k, &v, BPF_ANY);
	}
	uint64_t v = 40;
	CHECK(bee_map_update(bee, q, NULL, &v, BPF_ANY) == 0, "host push");
	/* r0 = pop(q) + sum of arr via for_each + 10 loops of +100 */
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -8\n"
			    "call 88\n"                 /* pop */
			    "if r0 != 0 goto out\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = subprog[+14] ll\n"     /* sum */
			    "r3 = r10\n"
			    "r3 += -8\n"
			    "r4 = 0\n"
			    "call 164\n"                /* for_each_map_elem */
			    "r1 = 10\n"
			    "r2 = subprog[+13] ll\n"     /* add100 */
			    "r3 = r10\n"
			    "r3 += -8\n"
			    "r4 = 0\n"
			    "call 181\n"                /* bpf_loop */
			    "r0 = *(u64 *)(r10 - 8)\n"
			    "out:\n"
			    "exit\n"
			    /* sum(map, key, value, ctx): *ctx += *value */
			    "r1 = *(u64 *)(r3 + 0)\n"
			    "r2 = *(u64 *)(r4 + 0)\n"
			    "r2 += r1\n"
			    "*(u64 *)(r4 + 0) = r2\n"
			    "r0 = 0\n"
			    "exit\n"
			    /* add100(i, ctx) */
			    "r1 = *(u64 *)(r2 + 0)\n"
			    "r1 += 100\n"
			    "*(u64 *)(r2 + 0) = r1\n"
			    "r0 = 0\n"
			    "exit\n",
			    q, arr);
	CHECK(prog >= 3, "load callbacks program: %d", prog);
	long r = run_xdp(bee, prog, 1);
	CHECK(r == 40 + 10 + 1000, "engine %d: pop + for_each + loop = %ld (%s)", engine, r,
	      bee_last_run_error() ? bee_last_run_error()->msg : "");
	CHECK(bee_map_lookup(bee, q, NULL, &v) == -ENOENT, "queue empty after the pop");
	bee_free(bee);
}

/* Links: programs attached to an embedder's hook, fired by bee_link_run. */
static void test_links_and_btf(struct bee *bee)
{
	int arr = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "hits", 4, 8, 1, NULL);
	int prog = load_asm(bee, BPF_PROG_TYPE_RAW_TRACEPOINT, NULL, 0,
			    "*(u32 *)(r10 - 4) = 0\n"
			    "r1 = map[fd:%d] ll\n"
			    "r2 = r10\n"
			    "r2 += -4\n"
			    "call 1\n"
			    "if r0 == 0 goto out\n"
			    "r1 = 1\n"
			    "lock *(u64 *)(r0 + 0) += r1\n"
			    "out:\n"
			    "r0 = 0\n"
			    "exit\n",
			    arr);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_fd = 7;
	a.link_create.attach_type = BPF_TRACE_RAW_TP;
	int link = (int)bee_bpf(bee, BPF_LINK_CREATE, &a, sizeof(a));
	CHECK(link >= 3, "link create: %d", link);
	uint64_t args[2] = {1, 2};
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 7, args, sizeof(args)) == 1, "one program ran");
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 8, args, sizeof(args)) == 0, "other hook");
	struct bpf_link_info li = {0};
	uint32_t len = sizeof(li);
	CHECK(bee_obj_get_info_by_fd(bee, link, &li, &len) == 0 &&
		      li.type == BPF_LINK_TYPE_RAW_TRACEPOINT && li.prog_id > 0,
	      "link info");
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (uint32_t)link;
	CHECK(bee_bpf(bee, BPF_LINK_DETACH, &a, sizeof(a)) == 0, "detach");
	CHECK(bee_link_run(bee, BPF_TRACE_RAW_TP, 7, args, sizeof(args)) == 0, "detached");
	uint32_t k = 0;
	uint64_t hits = 0;
	CHECK(bee_map_lookup(bee, arr, &k, &hits) == 0 && hits == 1, "hits %llu",
	      (unsigned long long)hits);
	bee_close(bee, link);
	bee_close(bee, prog);
	bee_close(bee, arr);

	/* BTF: a minimal valid blob (one INT "int") and bad ones: every type
	 * is validated, as the kernel does (a blob without types is refused:
	 * "No type found") */
	struct {
		struct btf_header h;
		struct btf_type t;
		uint32_t int_info;
		char strs[5];
	} blob = {{.magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(struct btf_header),
		   .type_len = sizeof(struct btf_type) + 4, .str_off = sizeof(struct btf_type) + 4,
		   .str_len = 5},
		  {.name_off = 1, .info = BTF_KIND_INT << 24, .size = 4},
		  BTF_INT_SIGNED << 24 | 32,
		  "\0int"};
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)&blob;
	a.btf_size = sizeof(struct btf_header) + sizeof(struct btf_type) + 4 + 5; /* no padding */
	char log[256] = "";
	a.btf_log_buf = (uint64_t)(uintptr_t)log;
	a.btf_log_size = sizeof(log);
	a.btf_log_level = 1;
	int btf = (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
	CHECK(btf >= 3, "btf load: %d %s", btf, log);
	blob.int_info = BTF_INT_SIGNED << 24 | 40; /* 40 bits in 4 bytes */
	CHECK(bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a)) == -EINVAL && log[0],
	      "a bad INT is refused, with a reason in the log: %s", log);
	blob.int_info = BTF_INT_SIGNED << 24 | 32;
	blob.h.type_len = 0;
	blob.h.str_off = 0;
	blob.h.str_len = 5;
	a.btf_size = sizeof(struct btf_header) + 5;
	memmove(&blob.t, blob.strs, 5);
	CHECK(bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a)) == -EINVAL, "no types");
	blob.h.magic = 0x1234;
	CHECK(bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a)) == -EINVAL, "bad BTF magic");
	uint32_t id = 0;
	memset(&a, 0, sizeof(a));
	CHECK(bee_bpf(bee, BPF_BTF_GET_NEXT_ID, &a, sizeof(a)) == 0 && (id = a.next_id) > 0,
	      "btf next id");
	bee_close(bee, btf);
}

static uint64_t embedder_double(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return r1 * 2 + r2;
}

/* An embedder's own helper, with its prototype, and the license rule. */
static void test_embedder_helper(void)
{
	struct bee *bee = new_bee(BEE_ENGINE_JIT);
	struct bee_helper h = {.id = 5000, .name = "app_double", .fn = embedder_double,
			       .ret = BEE_RET_INTEGER, .args = {BEE_ARG_ANYTHING, BEE_ARG_ANYTHING},
			       .gpl_only = true};
	CHECK(bee_add_helper(bee, &h) == 0, "add helper");
	int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "r1 = 20\nr2 = 2\ncall 5000\nexit\n");
	CHECK(run_xdp(bee, prog, 1) == 42, "embedder helper from a program");
	struct bpf_insn insns[] = {MOV64_IMM(1, 1), CALL_HELPER(5000), EXIT()};
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_XDP, "x", "MIT", insns, 3, NULL) == -EINVAL,
	      "a gpl_only embedder helper needs a GPL-compatible license");
	bee_free(bee);
}

/* A poisoned CO-RE instruction loads; it stops the run only if reached,
 * naming the instruction. */
static void test_core_poison(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	int prog = load_asm(bee, BPF_PROG_TYPE_RAW_TRACEPOINT, NULL, 0,
			    "r0 = *(u64 *)(r1 + 0)\n"
			    "if r0 == 0 goto out\n"
			    "call 195896080\n"
			    "out:\n"
			    "exit\n");
	CHECK(prog >= 3, "a poisoned call in a branch loads: %d", prog);
	uint64_t args[1] = {0};
	struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = args, .ctx_size_in = sizeof(args)};
	CHECK(bee_prog_test_run(bee, prog, &o) == 0 && o.retval == 0, "not reached: runs");
	args[0] = 1;
	int err = bee_prog_test_run(bee, prog, &o);
	const struct bee_error *e = bee_last_run_error();
	CHECK(err == -EINVAL && e && e->insn == 2 && strstr(e->msg, "CO-RE"),
	      "engine %d: reached: %d insn %ld %s", engine, err, e ? e->insn : -9, e ? e->msg : "");
	bee_free(bee);
}

/* With trusted_fast_path the instance verifies at load: proven programs
 * run unchecked, others are refused with the verifier's reason. */
static void test_verified_load(enum bee_engine engine)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 2, .engine = engine,
			     .trusted_fast_path = true};
	struct bee *bee = bee_new(&o);
	int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "a", 4, 8, 4, NULL);
	char log[1024];
	const char *body = "*(u32 *)(r10 - 4) = 1\n"
			   "r1 = map[fd:%d] ll\n"
			   "r2 = r10\n"
			   "r2 += -4\n"
			   "call 1\n"
			   "%s"
			   "r1 = 5\n"
			   "lock *(u64 *)(r0 + 0) += r1\n"
			   "out:\n"
			   "r0 = 2\n"
			   "exit\n";
	char text[1024];
	snprintf(text, sizeof(text), body, map, "if r0 == 0 goto out\n");
	int good = load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log), "%s", text);
	CHECK(good >= 3, "engine %d: a safe program is verified: %d %s", engine, good, log);
	CHECK(run_xdp(bee, good, 3) == 2, "and runs");
	uint32_t k = 1;
	uint64_t v = 0;
	CHECK(bee_map_lookup(bee, map, &k, &v) == 0 && v == 15, "on the fast path: %llu",
	      (unsigned long long)v);
	snprintf(text, sizeof(text), body, map, "");
	int bad = load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log), "%s", text);
	CHECK(bad < 0 && strstr(log, "map_value_or_null"),
	      "a missing null check is refused at load: %d %s", bad, log);
	bee_free(bee);
}

/* Legacy packet loads in socket filters (after the Ethernet header) and
 * tc programs (from the Ethernet header), where r1 is a __sk_buff. */
static void test_ld_abs(enum bee_engine engine)
{
	struct bee *bee = new_bee(engine);
	unsigned char pkt[64];
	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)(i * 3);
	const char *text = "r6 = r1\n"
			   "r0 = *(u16 *)skb[2]\n"     /* big-endian: bytes 2, 3 */
			   "exit\n";
	const char *oob = "r6 = r1\n"
			  "r0 = *(u8 *)skb[100]\n"     /* out of bounds: return 0 */
			  "r0 = 5\n"
			  "exit\n";
	enum bpf_prog_type types[] = {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SCHED_CLS};
	unsigned base[] = {14, 0};
	for (int t = 0; t < 2; t++) {
		int prog = load_asm(bee, types[t], NULL, 0, "%s", text);
		struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt,
					      .data_size_in = sizeof(pkt)};
		int err = bee_prog_test_run(bee, prog, &o);
		unsigned want = (unsigned)((pkt[base[t] + 2] << 8) | pkt[base[t] + 3]);
		CHECK(prog >= 3 && err == 0 && o.retval == want, "engine %d type %d: ld_abs %u, want %u",
		      engine, types[t], o.retval, want);
		bee_close(bee, prog);
		prog = load_asm(bee, types[t], NULL, 0, "%s", oob);
		CHECK(bee_prog_test_run(bee, prog, &o) == 0 && o.retval == 0,
		      "out of bounds ends the program with 0: %u", o.retval);
		bee_close(bee, prog);
	}
	char log[256];
	CHECK(load_asm(bee, BPF_PROG_TYPE_XDP, log, sizeof(log), "%s", text) == -EINVAL &&
		      strstr(log, "BPF_LD_[ABS|IND]"),
	      "ld_abs in XDP: %s", log);
	bee_free(bee);
}

/* Map flags programs obey: BPF_F_RDONLY_PROG / WRONLY_PROG. */
static void test_prog_map_flags(struct bee *bee)
{
	struct bee_map_create_opts ro = {.sz = sizeof(ro), .map_flags = BPF_F_RDONLY_PROG};
	struct bee_map_create_opts wo = {.sz = sizeof(wo), .map_flags = BPF_F_WRONLY_PROG};
	int rmap = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "ro", 4, 8, 1, &ro);
	int wmap = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "wo", 4, 8, 1, &wo);
	const char *body = "*(u32 *)(r10 - 4) = 0\n"
			   "r1 = map[fd:%d] ll\n"
			   "r2 = r10\n"
			   "r2 += -4\n"
			   "call 1\n"
			   "if r0 == 0 goto out\n"
			   "%s\n"
			   "out:\n"
			   "r0 = 0\n"
			   "exit\n";
	char text[512];
	snprintf(text, sizeof(text), body, rmap, "*(u64 *)(r0 + 0) = 1");
	int p1 = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "%s", text);
	CHECK(run_xdp(bee, p1, 1) == -EFAULT, "store into a RDONLY_PROG value");
	snprintf(text, sizeof(text), body, rmap, "r1 = *(u64 *)(r0 + 0)");
	int p2 = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "%s", text);
	CHECK(run_xdp(bee, p2, 1) == 0, "load from a RDONLY_PROG value");
	snprintf(text, sizeof(text), body, wmap, "r1 = *(u64 *)(r0 + 0)");
	int p3 = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "%s", text);
	CHECK(run_xdp(bee, p3, 1) == -EFAULT, "load from a WRONLY_PROG value");
	/* the update helper refuses RDONLY_PROG maps: r0 = its return */
	int p4 = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
			  "*(u32 *)(r10 - 4) = 0\n*(u64 *)(r10 - 16) = 0\n"
			  "r1 = map[fd:%d] ll\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\n"
			  "r4 = 0\ncall 2\nexit\n",
			  rmap);
	CHECK(run_xdp(bee, p4, 1) == (uint32_t)-EPERM, "update helper on RDONLY_PROG");
	bee_close(bee, p1);
	bee_close(bee, p2);
	bee_close(bee, p3);
	bee_close(bee, p4);
	bee_close(bee, rmap);
	bee_close(bee, wmap);

	/* mmapable arrays: the host sees the programs' stores directly */
	struct bee_map_create_opts mm = {.sz = sizeof(mm), .map_flags = BPF_F_MMAPABLE};
	int amap = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "mm", 4, 8, 4, &mm);
	size_t len = 0;
	uint64_t *vals = bee_map_mmap(bee, amap, &len);
	CHECK(vals && len >= 32, "mmap of an mmapable array");
	snprintf(text, sizeof(text), body, amap, "*(u64 *)(r0 + 0) = 4242");
	int p5 = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0, "%s", text);
	CHECK(run_xdp(bee, p5, 1) == 0 && vals && vals[0] == 4242, "store seen through the mapping");
	if (vals)
		vals[1] = 77;
	uint32_t k = 1;
	uint64_t v = 0;
	CHECK(bee_map_lookup(bee, amap, &k, &v) == 0 && v == 77, "host write through the mapping");
	int plain = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "plain", 4, 8, 4, NULL);
	CHECK(bee_map_mmap(bee, plain, &len) == NULL && errno == EINVAL, "not mmapable");
	bee_close(bee, plain);
	bee_close(bee, p5);
	bee_close(bee, amap);
}

/* lddw map_idx through fd_array, and the JIT's code in prog info. */
static void test_fd_array_and_jited(void)
{
	struct bee *bee = new_bee(BEE_ENGINE_JIT);
	int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "a", 4, 8, 1, NULL);
	uint32_t k = 0;
	uint64_t v = 31;
	bee_map_update(bee, map, &k, &v, BPF_ANY);
	struct bpf_insn insns[] = {
		ST(BPF_W, 10, -4, 0),
		INSN(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, 1), INSN(0, 0, 0, 0, 0),
		MOV64_REG(2, 10),
		ADD64_IMM(2, -4),
		CALL_HELPER(1),
		JEQ_IMM(0, 0, 1),
		LDX(BPF_DW, 0, 0, 0),
		EXIT(),
	};
	int fds[2] = {-1, map};
	char log[256];
	struct bee_prog_load_opts o = {.sz = sizeof(o), .fd_array = fds, .log_buf = log,
				       .log_size = sizeof(log), .log_level = 1};
	int prog = bee_prog_load(bee, BPF_PROG_TYPE_XDP, "idx", "GPL", insns, LEN(insns), &o);
	CHECK(prog >= 3, "load with fd_array: %d %s", prog, log);
	CHECK(run_xdp(bee, prog, 1) == 31, "map by index");
	o.fd_array = NULL;
	CHECK(bee_prog_load(bee, BPF_PROG_TYPE_XDP, "idx", "GPL", insns, LEN(insns), &o) < 0 &&
		      strstr(log, "fd_array"),
	      "map_idx without fd_array: %s", log);
	uint8_t image[4096];
	struct bpf_prog_info info = {0};
	info.jited_prog_len = sizeof(image);
	info.jited_prog_insns = (uint64_t)(uintptr_t)image;
	uint32_t len = sizeof(info);
	CHECK(bee_obj_get_info_by_fd(bee, prog, &info, &len) == 0 && info.jited_prog_len > 0 &&
		      info.jited_prog_len <= sizeof(image) && info.nr_jited_ksyms == 1,
	      "jited code in prog info: %u bytes", info.jited_prog_len);
	bee_free(bee);
}

/* A pin outlives its process: one child pins and writes, exits; a second
 * child process reads what the first wrote. */
static void test_pins_across_processes(void)
{
	pid_t a = fork();
	if (a == 0) {
		struct bee *bee = new_bee(BEE_ENGINE_INTERP);
		int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "shared", 4, 8, 4, NULL);
		int ok = bee_obj_pin(bee, map, "/sys/fs/bpf/proc/shared") == 0;
		uint32_t k = 2;
		uint64_t v = 0xfeed;
		ok = ok && bee_map_update(bee, map, &k, &v, BPF_ANY) == 0;
		bee_free(bee);
		_exit(ok ? 0 : 1);
	}
	int status = -1;
	waitpid(a, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "first process pinned");
	pid_t b = fork();
	if (b == 0) {
		struct bee *bee = new_bee(BEE_ENGINE_INTERP);
		int fd = bee_obj_get(bee, "/sys/fs/bpf/proc/shared");
		uint32_t k = 2;
		uint64_t v = 0;
		int ok = fd >= 3 && bee_map_lookup(bee, fd, &k, &v) == 0 && v == 0xfeed;
		bee_free(bee);
		_exit(ok ? 0 : 1);
	}
	waitpid(b, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a second process reads what the first wrote");
	char path[128];
	snprintf(path, sizeof(path), "%s/proc/shared", pin_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc", pin_dir);
	rmdir(path);
}

/* A program that uses maps survives its process: its map gets a pin of
 * its own under .bee/maps, and another process gets program and map back
 * under the same ids, sharing the map with a direct pin of it. */
static void test_prog_pins_with_maps(void)
{
	pid_t a = fork();
	if (a == 0) {
		struct bee *bee = new_bee(BEE_ENGINE_INTERP);
		int filler = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "filler", 4, 4, 1, NULL);
		int map = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "vals", 4, 8, 1, NULL);
		/* r0 = value[0] + 1, stored back: counts runs */
		int prog = load_asm(bee, BPF_PROG_TYPE_XDP, NULL, 0,
				    "r1 = map[fd:%d][0]+0 ll\n"
				    "r0 = *(u64 *)(r1 + 0)\n"
				    "r0 += 1\n"
				    "*(u64 *)(r1 + 0) = r0\n"
				    "exit\n", map);
		int ok = filler >= 0 && prog >= 0 && run_xdp(bee, prog, 1) == 1;
		ok = ok && bee_obj_pin(bee, prog, "/sys/fs/bpf/pm/prog") == 0;
		bee_close(bee, filler);
		bee_free(bee);
		_exit(ok ? 0 : 1);
	}
	int status = -1;
	waitpid(a, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a program with a map pinned");
	char path[256];
	snprintf(path, sizeof(path), "%s/.bee/maps/m2", pin_dir);
	CHECK(access(path, F_OK) == 0, "its map got a pin of its own (%s)", path);
	pid_t b = fork();
	if (b == 0) {
		struct bee *bee = new_bee(BEE_ENGINE_INTERP);
		int prog = bee_obj_get(bee, "/sys/fs/bpf/pm/prog");
		int map = bee_obj_get(bee, ".bee/maps/m2");
		struct bpf_prog_info pi = {0};
		struct bpf_map_info mi = {0};
		uint32_t map_id = 0, len = sizeof(pi);
		pi.nr_map_ids = 1;
		pi.map_ids = (uint64_t)(uintptr_t)&map_id;
		int ok = prog >= 0 && map >= 0 && bee_obj_get_info_by_fd(bee, prog, &pi, &len) == 0;
		len = sizeof(mi);
		ok = ok && bee_obj_get_info_by_fd(bee, map, &mi, &len) == 0;
		ok = ok && pi.id == 1 && mi.id == 2 && map_id == 2; /* the ids they had */
		ok = ok && run_xdp(bee, prog, 1) == 2; /* the count the first process left */
		uint32_t k = 0;
		uint64_t v = 0;
		ok = ok && bee_map_lookup(bee, map, &k, &v) == 0 && v == 2; /* one map, shared */
		int fresh = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "fresh", 4, 4, 1, NULL);
		len = sizeof(mi);
		ok = ok && fresh >= 0 && bee_obj_get_info_by_fd(bee, fresh, &mi, &len) == 0 &&
		     mi.id == 3; /* new ids continue above */
		bee_free(bee);
		_exit(ok ? 0 : 1);
	}
	waitpid(b, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "another process gets program and map back, same ids, shared");
	unlink(path);
	snprintf(path, sizeof(path), "%s/.bee/maps", pin_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.bee", pin_dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/pm/prog", pin_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pm", pin_dir);
	rmdir(path);
}

int main(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-core-%d", (int)getpid());
	struct bee *bee = new_bee(BEE_ENGINE_INTERP);
	test_attr_rules(bee);
	test_array_host(bee);
	test_batch(bee);
	test_load_errors(bee);
	test_checked_faults(bee);
	test_map_in_map(bee);
	test_links_and_btf(bee);
	test_prog_map_flags(bee);
	bee_free(bee);
	test_ld_abs(BEE_ENGINE_INTERP);
	test_ld_abs(BEE_ENGINE_JIT);
	test_fd_array_and_jited();
	test_embedder_helper();
	test_verified_load(BEE_ENGINE_INTERP);
	test_verified_load(BEE_ENGINE_JIT);
	test_core_poison(BEE_ENGINE_INTERP);
	test_core_poison(BEE_ENGINE_JIT);
	test_pins_across_processes();
	test_prog_pins_with_maps();
	test_output_maps(BEE_ENGINE_INTERP);
	test_output_maps(BEE_ENGINE_JIT);
	test_queue_and_callbacks(BEE_ENGINE_INTERP);
	test_queue_and_callbacks(BEE_ENGINE_JIT);
	test_count_program(BEE_ENGINE_INTERP);
	test_count_program(BEE_ENGINE_JIT);
	test_tail_calls(BEE_ENGINE_INTERP);
	test_tail_calls(BEE_ENGINE_JIT);
	test_trace_pipe();
	test_pins();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
