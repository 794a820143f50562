/*
 * test_core_lineinfo.c - BPF_PROG_LOAD's BTF, func_info and line_info:
 * the verifier's validation rules and errnos, the records given back by
 * BPF_OBJ_GET_INFO_BY_FD, the BTF reference the program keeps, and the
 * records kept through a program pin, on hand-made BTF and records.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include <linux/btf.h>
#include "unit.h"

static char pin_dir[64];

/* Strings: "", "int", "main", "sub", the file and two source lines. */
static const char strs[] = "\0int\0main\0sub\0x.bpf.c\0int main(void) {\0    return sub() + 1;";
enum {
	S_INT = 1,
	S_MAIN = 5,
	S_SUB = 10,
	S_FILE = 14,
	S_LINE1 = 22,
	S_LINE2 = 39,
};

/* [1] INT int, [2] FUNC_PROTO int(void), [3] FUNC main, [4] FUNC sub */
static size_t make_btf(unsigned char *buf)
{
	uint32_t types[] = {
		S_INT, BTF_KIND_INT << 24, 4, 32,
		0, BTF_KIND_FUNC_PROTO << 24, 1,
		S_MAIN, BTF_KIND_FUNC << 24 | BTF_FUNC_GLOBAL, 2,
		S_SUB, BTF_KIND_FUNC << 24 | BTF_FUNC_STATIC, 2,
	};
	struct btf_header h = {.magic = BTF_MAGIC, .version = BTF_VERSION,
			       .hdr_len = sizeof(h), .type_off = 0, .type_len = sizeof(types),
			       .str_off = sizeof(types), .str_len = sizeof(strs)};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), types, sizeof(types));
	memcpy(buf + sizeof(h) + sizeof(types), strs, sizeof(strs));
	return sizeof(h) + sizeof(types) + sizeof(strs);
}

/* main: call sub; r0 += 1; exit.  sub (insn 3): r0 = 41; exit. */
static const struct bpf_insn prog[] = {
	CALL_LOCAL(2), ADD64_IMM(0, 1), EXIT(),
	MOV64_IMM(0, 41), EXIT(),
};

static struct bpf_func_info finfo[2] = {{0, 3}, {3, 4}};
static struct bpf_line_info linfo[3] = {
	{0, S_FILE, S_LINE1, 1 << 10 | 1},
	{1, S_FILE, S_LINE2, 2 << 10 | 5},
	{3, S_FILE, S_LINE2, 2 << 10 | 12},
};

struct load {
	int btf_fd;
	const void *fi;
	uint32_t fi_cnt, fi_size;
	const void *li;
	uint32_t li_cnt, li_size;
	char log[1024];
};

static int load(struct bee *bee, struct load *l)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = LEN(prog);
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.prog_btf_fd = (uint32_t)l->btf_fd;
	a.func_info = (uint64_t)(uintptr_t)l->fi;
	a.func_info_cnt = l->fi_cnt;
	a.func_info_rec_size = l->fi_size;
	a.line_info = (uint64_t)(uintptr_t)l->li;
	a.line_info_cnt = l->li_cnt;
	a.line_info_rec_size = l->li_size;
	l->log[0] = 0;
	a.log_buf = (uint64_t)(uintptr_t)l->log;
	a.log_size = sizeof(l->log);
	a.log_level = 1;
	return (int)bee_bpf(bee, BPF_PROG_LOAD, &a, sizeof(a));
}

static struct load good(int btf_fd)
{
	return (struct load){.btf_fd = btf_fd, .fi = finfo, .fi_cnt = 2,
			     .fi_size = sizeof(struct bpf_func_info), .li = linfo, .li_cnt = 3,
			     .li_size = sizeof(struct bpf_line_info)};
}

/* Load with one change and expect err, with the log mentioning what. */
#define REFUSED(l, err, what)                                                              \
	do {                                                                               \
		int fd_ = load(bee, &(l));                                                 \
		CHECK(fd_ == (err), "%s: got %d, want %d (log: %s)", what, fd_, err, (l).log); \
		if (fd_ >= 0)                                                              \
			bee_close(bee, fd_);                                               \
	} while (0)

static void test_validation(struct bee *bee, int btf_fd, int map_fd)
{
	struct load l = good(btf_fd);
	int fd = load(bee, &l);
	CHECK(fd >= 0, "good records load: %d (%s)", fd, l.log);
	bee_close(bee, fd);

	/* no counts: the BTF fd is not looked at */
	l = good(12345);
	l.fi_cnt = l.li_cnt = 0;
	fd = load(bee, &l);
	CHECK(fd >= 0, "no records, any btf fd: %d", fd);
	bee_close(bee, fd);

	l = good(12345);
	REFUSED(l, -EBADF, "btf fd not a handle");
	l = good(map_fd);
	REFUSED(l, -EINVAL, "btf fd of a map");

	/* func_info */
	l = good(btf_fd);
	l.fi_size = 4;
	REFUSED(l, -EINVAL, "func rec size 4");
	l.fi_size = 10;
	REFUSED(l, -EINVAL, "func rec size not a multiple of 4");
	l.fi_size = 256;
	REFUSED(l, -EINVAL, "func rec size too big");
	uint32_t wide[2][3] = {{0, 3, 0}, {3, 4, 0}};
	l = good(btf_fd);
	l.fi = wide;
	l.fi_size = sizeof(wide[0]);
	fd = load(bee, &l);
	CHECK(fd >= 0, "wider func records with zero tails: %d (%s)", fd, l.log);
	bee_close(bee, fd);
	wide[1][2] = 7;
	REFUSED(l, -E2BIG, "nonzero tail of a func record");
	CHECK(strstr(l.log, "nonzero tailing record in func info"), "log: %s", l.log);

	struct bpf_func_info fi[2];
	l = good(btf_fd);
	l.fi = fi;
	memcpy(fi, finfo, sizeof(fi));
	fi[0].insn_off = 1;
	REFUSED(l, -EINVAL, "first func_info not at 0");
	CHECK(strstr(l.log, "nonzero insn_off 1 for the first func info record"), "log: %s", l.log);
	memcpy(fi, finfo, sizeof(fi));
	fi[1].insn_off = 0;
	REFUSED(l, -EINVAL, "func_info not increasing");
	memcpy(fi, finfo, sizeof(fi));
	fi[1].insn_off = 2;
	REFUSED(l, -EINVAL, "func_info off the subprog layout");
	CHECK(strstr(l.log, "doesn't match subprog layout"), "log: %s", l.log);
	memcpy(fi, finfo, sizeof(fi));
	fi[1].type_id = 1;
	REFUSED(l, -EINVAL, "func_info type is an INT");
	CHECK(strstr(l.log, "invalid type id 1 in func info"), "log: %s", l.log);
	fi[1].type_id = 99;
	REFUSED(l, -EINVAL, "func_info type out of range");
	memcpy(fi, finfo, sizeof(fi));
	l.fi_cnt = 1;
	REFUSED(l, -EINVAL, "one func_info for two subprogs");
	CHECK(strstr(l.log, "number of funcs in func_info doesn't match"), "log: %s", l.log);

	/* line_info */
	struct bpf_line_info li[3];
	l = good(btf_fd);
	l.li = li;
	memcpy(li, linfo, sizeof(li));
	l.li_size = 8;
	REFUSED(l, -EINVAL, "line rec size 8");
	l.li_size = sizeof(li[0]);
	li[2].insn_off = LEN(prog);
	REFUSED(l, -EINVAL, "line_info past the program");
	CHECK(strstr(l.log, "Invalid line_info[2].insn_off:5"), "log: %s", l.log);
	memcpy(li, linfo, sizeof(li));
	li[1].insn_off = 0;
	REFUSED(l, -EINVAL, "line_info not increasing");
	memcpy(li, linfo, sizeof(li));
	li[1].line_off = 5000;
	REFUSED(l, -EINVAL, "line_off outside the strings");
	CHECK(strstr(l.log, "Invalid line_info[1].line_off or .file_name_off"), "log: %s", l.log);
	memcpy(li, linfo, sizeof(li));
	li[2].insn_off = 4; /* none at sub's first insn (3) */
	REFUSED(l, -EINVAL, "no line_info at a subprog start");
	CHECK(strstr(l.log, "missing bpf_line_info for func#1"), "log: %s", l.log);
	memcpy(li, linfo, sizeof(li));
	l.li_cnt = 2; /* sub has none at all */
	REFUSED(l, -EINVAL, "a subprog without line_info");
	CHECK(strstr(l.log, "missing bpf_line_info for 1 funcs starting from func#1"), "log: %s",
	      l.log);
	memcpy(li, linfo, sizeof(li));
	l.li_cnt = 3;
	li[0].insn_off = 1;
	li[1].insn_off = 2;
	REFUSED(l, -EINVAL, "first line_info not at 0");
}

static void get_info(struct bee *bee, int fd, struct bpf_prog_info *info)
{
	uint32_t len = sizeof(*info);
	int err = bee_obj_get_info_by_fd(bee, fd, info, &len);
	CHECK(err == 0, "prog info: %d", err);
}

static void test_info(struct bee *bee, int btf_fd, uint32_t btf_id)
{
	struct load l = good(btf_fd);
	int fd = load(bee, &l);
	CHECK(fd >= 0, "load: %d (%s)", fd, l.log);

	/* counts and sizes without buffers */
	struct bpf_prog_info info = {0};
	get_info(bee, fd, &info);
	CHECK(info.btf_id == btf_id, "btf_id %u, want %u", info.btf_id, btf_id);
	CHECK(info.nr_func_info == 2 && info.func_info_rec_size == sizeof(struct bpf_func_info),
	      "func_info %u x %u", info.nr_func_info, info.func_info_rec_size);
	CHECK(info.nr_line_info == 3 && info.line_info_rec_size == sizeof(struct bpf_line_info),
	      "line_info %u x %u", info.nr_line_info, info.line_info_rec_size);

	/* the records, all of them */
	struct bpf_func_info fi[4];
	struct bpf_line_info li[4];
	memset(fi, 0xee, sizeof(fi));
	memset(li, 0xee, sizeof(li));
	memset(&info, 0, sizeof(info));
	info.nr_func_info = 4;
	info.func_info_rec_size = sizeof(fi[0]);
	info.func_info = (uint64_t)(uintptr_t)fi;
	info.nr_line_info = 4;
	info.line_info_rec_size = sizeof(li[0]);
	info.line_info = (uint64_t)(uintptr_t)li;
	get_info(bee, fd, &info);
	CHECK(info.nr_func_info == 2 && info.nr_line_info == 3, "counts %u %u", info.nr_func_info,
	      info.nr_line_info);
	CHECK(!memcmp(fi, finfo, sizeof(finfo)), "func_info round trip");
	CHECK(!memcmp(li, linfo, sizeof(linfo)), "line_info round trip");
	CHECK(fi[2].insn_off == 0xeeeeeeee && li[3].insn_off == 0xeeeeeeee, "no copy past the count");

	/* room for one: one copied, the real count reported */
	memset(li, 0xee, sizeof(li));
	memset(&info, 0, sizeof(info));
	info.nr_line_info = 1;
	info.line_info_rec_size = sizeof(li[0]);
	info.line_info = (uint64_t)(uintptr_t)li;
	get_info(bee, fd, &info);
	CHECK(info.nr_line_info == 3, "count with room for one: %u", info.nr_line_info);
	CHECK(!memcmp(li, linfo, sizeof(li[0])) && li[1].insn_off == 0xeeeeeeee, "one copied");

	/* rec sizes must be the kernel's */
	memset(&info, 0, sizeof(info));
	info.nr_func_info = 1;
	info.func_info_rec_size = 12;
	info.func_info = (uint64_t)(uintptr_t)fi;
	uint32_t len = sizeof(info);
	CHECK(bee_obj_get_info_by_fd(bee, fd, &info, &len) == -EINVAL, "func rec size 12");
	memset(&info, 0, sizeof(info));
	info.line_info_rec_size = 8;
	len = sizeof(info);
	CHECK(bee_obj_get_info_by_fd(bee, fd, &info, &len) == -EINVAL, "line rec size 8, count 0");

	/* a program without BTF */
	struct load none = {.btf_fd = -1};
	int fd2 = load(bee, &none);
	CHECK(fd2 >= 0, "load without BTF: %d", fd2);
	memset(&info, 0, sizeof(info));
	get_info(bee, fd2, &info);
	CHECK(info.btf_id == 0 && info.nr_func_info == 0 && info.nr_line_info == 0,
	      "no BTF: btf_id %u, %u, %u", info.btf_id, info.nr_func_info, info.nr_line_info);
	bee_close(bee, fd2);

	/* the program keeps its BTF alive */
	bee_close(bee, btf_fd);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf_id = btf_id;
	int b = (int)bee_bpf(bee, BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
	CHECK(b >= 0, "BTF %u alive while the program is: %d", btf_id, b);
	bee_close(bee, b);

	/* through a pin, in another instance */
	char path[128];
	snprintf(path, sizeof(path), "%s/lineinfo_prog", pin_dir);
	CHECK(bee_obj_pin(bee, fd, path) == 0, "pin");
	bee_close(bee, fd);
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 1};
	struct bee *other = bee_new(&o);
	CHECK(other, "second instance");
	if (other) {
		int pfd = bee_obj_get(other, path);
		CHECK(pfd >= 0, "obj_get: %d", pfd);
		memset(fi, 0, sizeof(fi));
		memset(li, 0, sizeof(li));
		memset(&info, 0, sizeof(info));
		info.nr_func_info = 4;
		info.func_info_rec_size = sizeof(fi[0]);
		info.func_info = (uint64_t)(uintptr_t)fi;
		info.nr_line_info = 4;
		info.line_info_rec_size = sizeof(li[0]);
		info.line_info = (uint64_t)(uintptr_t)li;
		get_info(other, pfd, &info);
		CHECK(info.btf_id != 0 && info.nr_func_info == 2 && info.nr_line_info == 3,
		      "pinned: btf_id %u, %u, %u", info.btf_id, info.nr_func_info, info.nr_line_info);
		CHECK(!memcmp(fi, finfo, sizeof(finfo)) && !memcmp(li, linfo, sizeof(linfo)),
		      "pinned records round trip");
		memset(&a, 0, sizeof(a));
		a.btf_id = info.btf_id;
		b = (int)bee_bpf(other, BPF_BTF_GET_FD_BY_ID, &a, sizeof(a));
		CHECK(b >= 0, "pinned program's BTF: %d", b);
		unsigned char want[512], got[512];
		size_t want_len = make_btf(want);
		struct bpf_btf_info bi = {.btf = (uint64_t)(uintptr_t)got, .btf_size = sizeof(got)};
		len = sizeof(bi);
		CHECK(bee_obj_get_info_by_fd(other, b, &bi, &len) == 0 && bi.btf_size == want_len &&
			      !memcmp(got, want, want_len), "pinned program's BTF bytes");
		bee_close(other, b);
		bee_close(other, pfd);
		bee_free(other);
	}
	unlink(path);
}

int main(void)
{
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-lineinfo-XXXXXX");
	CHECK(mkdtemp(pin_dir), "mkdtemp");
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 1};
	struct bee *bee = bee_new(&o);
	CHECK(bee, "bee_new");
	if (!bee)
		return 1;
	unsigned char raw[512];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)raw;
	a.btf_size = (uint32_t)make_btf(raw);
	int btf_fd = (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
	CHECK(btf_fd >= 0, "BTF_LOAD: %d", btf_fd);
	struct bpf_btf_info bi = {0};
	uint32_t len = sizeof(bi);
	CHECK(bee_obj_get_info_by_fd(bee, btf_fd, &bi, &len) == 0, "btf info");
	int map_fd = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "m", 4, 4, 1, NULL);
	CHECK(map_fd >= 0, "map: %d", map_fd);

	test_validation(bee, btf_fd, map_fd);
	test_info(bee, btf_fd, bi.id);

	bee_close(bee, map_fd);
	bee_free(bee);
	rmdir(pin_dir);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
