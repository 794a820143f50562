/*
 * test_object.c - the libbpf-style object API (src/loader/object.c,
 * reloc.c) against the user-space core.
 *
 * Theory of operation.  Each clang-built object of tests/objects/ that
 * should load into the user-space target is opened, adjusted where the
 * test needs it (.rodata constants set from the host), loaded into a
 * fresh bee instance (temporary pin directory) on the interpreter and on
 * the JIT, and its programs are run with BPF_PROG_TEST_RUN; return values,
 * map contents, trace-pipe lines and ring-buffer records are checked
 * against what the C source computes.  Objects that must be refused
 * (kernel symbols, a missing map, a call to an undefined function, a
 * corrupted relocation) must fail with a message naming the program,
 * instruction and symbol.  Without clang's BPF target there is no corpus:
 * SKIP (exit 77).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/object.h"
#include "unit.h"

#include <linux/btf.h>

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

static enum bee_engine engine;
static char pin_dir[256];

static const char *obj_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s.bpf.o", BEE_TEST_OBJECTS_DIR, name);
	return buf;
}

static struct bee *new_bee(void)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .engine = engine};
	struct bee *b = bee_new(&o);
	CHECK(b, "bee_new: %s", strerror(errno));
	return b;
}

static struct bee_object *open_obj(const char *name)
{
	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o), .err = &err};
	struct bee_object *obj = bee_object_open_file(obj_path(name), &o);
	CHECK(obj, "open %s: %s", name, err.msg);
	return obj;
}

static int load(struct bee_object *obj, struct bee *b)
{
	struct bee_target t = bee_target_of(b);
	int err = bee_object_load(obj, &t);
	CHECK(!err, "load %s: %d %s", bee_object_name(obj), err, bee_object_error(obj));
	return err;
}

static uint8_t pkt[64];

static int run(struct bee *b, struct bee_object *obj, const char *prog, uint32_t len, uint32_t *ret)
{
	struct bee_program *p = bee_object_find_program_by_name(obj, prog);
	CHECK(p, "no program %s", prog);
	if (!p)
		return -ENOENT;
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = len};
	int err = bee_prog_test_run(b, bee_program_fd(p), &o);
	CHECK(!err, "run %s: %d", prog, err);
	*ret = o.retval;
	return err;
}

static void test_socket_xdp(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("socket");
	uint32_t r = 0;
	if (obj && !load(obj, b)) {
		run(b, obj, "keep_short", 60, &r);
		CHECK(r == 0xffffffffu, "keep_short(60) = %u", r);
		struct bee_program *p = bee_object_find_program_by_name(obj, "keep_short");
		CHECK(bee_program_type(p) == BPF_PROG_TYPE_SOCKET_FILTER, "type");
		CHECK(!strcmp(bee_program_section_name(p), "socket"), "section");
	}
	bee_object_close(obj);
	obj = open_obj("xdp");
	if (obj && !load(obj, b)) {
		memset(pkt, 0, sizeof(pkt));
		pkt[12] = 0x86, pkt[13] = 0xdd;
		run(b, obj, "drop_ipv6", 60, &r);
		CHECK(r == 1, "drop_ipv6(v6) = %u", r);
		pkt[12] = 0x08, pkt[13] = 0;
		run(b, obj, "drop_ipv6", 60, &r);
		CHECK(r == 2, "drop_ipv6(v4) = %u", r);
		run(b, obj, "drop_ipv6", 10, &r);
		CHECK(r == 0, "drop_ipv6(short) = %u", r);
	}
	bee_object_close(obj);
	obj = open_obj("multi");
	if (obj && !load(obj, b)) {
		CHECK(bee_object_program_count(obj) == 5, "multi: %zu programs",
		      bee_object_program_count(obj));
		run(b, obj, "xdp_two", 20, &r);
		CHECK(r == 1, "xdp_two = %u", r);
		CHECK(bee_object_find_program_by_name(obj, "tc_third"), "static tc_third");
	}
	bee_object_close(obj);
	bee_free(b);
}

static void test_counter(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("obj_counter");
	if (obj && !load(obj, b)) {
		uint32_t r = 0;
		for (int i = 1; i <= 3; i++) {
			run(b, obj, "count_len", 40, &r);
			CHECK(r == (uint32_t)i, "count %d: %u", i, r);
		}
		run(b, obj, "count_len", 50, &r);
		struct bee_object_map *m = bee_object_find_map_by_name(obj, "counts");
		CHECK(m && bee_object_map_type(m) == BPF_MAP_TYPE_HASH, "counts map");
		CHECK(m && bee_object_map_key_size(m) == 4 && bee_object_map_value_size(m) == 8,
		      "counts key/value");
		uint32_t k = 40 - 14; /* skb->len: the packet without its Ethernet header */
		uint64_t v = 0;
		CHECK(m && !bee_map_lookup(b, bee_object_map_fd(m), &k, &v) && v == 3, "counts[26]=%llu",
		      (unsigned long long)v);
		k = 50 - 14;
		CHECK(m && !bee_map_lookup(b, bee_object_map_fd(m), &k, &v) && v == 1, "counts[50]");
		/* the relocated lookup names the map by fd */
		struct bee_program *p = bee_object_find_program_by_name(obj, "count_len");
		const struct bpf_insn *in = bee_program_insns(p);
		int found = 0;
		for (size_t i = 0; i < bee_program_insn_cnt(p); i++)
			if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW) && in[i].src_reg == BPF_PSEUDO_MAP_FD &&
			    in[i].imm == bee_object_map_fd(m))
				found++;
		CHECK(found >= 1, "ld_imm64 map fd: %d", found);
	}
	bee_object_close(obj);
	bee_free(b);
}

static void test_gcalls(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("obj_gcalls");
	if (!obj)
		goto out;
	struct bee_object_map *ro = bee_object_find_map_by_name(obj, ".rodata");
	CHECK(ro && !strcmp(bee_object_map_name(ro), "obj_gcal.rodata"), "rodata name %s",
	      ro ? bee_object_map_name(ro) : "-");
	CHECK(bee_object_find_map_by_name(obj, "obj_gcal.data"), "data map name");
	CHECK(bee_object_find_map_by_name(obj, "obj_gcal.bss"), "bss map name");
	size_t sz = 0;
	uint32_t *scale = ro ? bee_object_map_initial_value(ro, &sz) : NULL;
	CHECK(scale && sz == 4 && *scale == 1, "rodata image");
	if (scale)
		*scale = 10;
	if (load(obj, b))
		goto out;
	uint32_t r = 0;
	run(b, obj, "gcalls", 20, &r);
	CHECK(r == 3 * 2 * 10 + 2, "gcalls = %u", r);
	run(b, obj, "gcalls_skb", 14 + 21, &r);
	CHECK(r == 42, "gcalls_skb = %u", r);
	struct bee_object_map *data = bee_object_find_map_by_name(obj, ".data");
	struct bee_object_map *bss = bee_object_find_map_by_name(obj, ".bss");
	uint32_t k = 0;
	uint32_t calls = 0;
	uint64_t last = 0;
	CHECK(data && !bee_map_lookup(b, bee_object_map_fd(data), &k, &calls) && calls == 5 + 3,
	      ".data calls = %u", calls);
	CHECK(bss && !bee_map_lookup(b, bee_object_map_fd(bss), &k, &last) && last == 62,
	      ".bss last = %llu", (unsigned long long)last);
	/* .rodata is frozen: the host cannot change it any more */
	uint32_t v = 1;
	CHECK(ro && bee_map_update(b, bee_object_map_fd(ro), &k, &v, 0) < 0, "rodata frozen");
	CHECK(bee_object_map_set_initial_value(ro, &v, 4) == -EBUSY, "initial value after load");
	/* subprograms are appended: gcalls + scaled + twice */
	struct bee_program *p = bee_object_find_program_by_name(obj, "gcalls");
	const struct bpf_insn *in = bee_program_insns(p);
	size_t n = bee_program_insn_cnt(p), ncalls = 0;
	for (size_t i = 0; i < n; i++)
		if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == BPF_PSEUDO_CALL) {
			int64_t t = (int64_t)i + in[i].imm + 1;
			CHECK(t > 0 && t < (int64_t)n, "call target %lld in [0,%zu)", (long long)t, n);
			ncalls++;
		}
	CHECK(ncalls >= 3, "calls: %zu", ncalls);
out:
	bee_object_close(obj);
	bee_free(b);
}

static void test_printk(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("obj_printk");
	if (obj && !load(obj, b)) {
		char buf[4096];
		while (bee_trace_pipe_read(b, buf, sizeof(buf), 0) > 0)
			;
		uint32_t r = 1;
		run(b, obj, "say_hello", 14 + 33, &r);
		CHECK(r == 0, "say_hello = %u", r);
		long n = bee_trace_pipe_read(b, buf, sizeof(buf) - 1, 1000);
		buf[n > 0 ? n : 0] = 0;
		CHECK(n > 0 && strstr(buf, "bpf_trace_printk: hello from bee 33\n"), "trace: '%s'", buf);
		int rodata = 0;
		for (struct bee_object_map *m = bee_object_next_map(obj, NULL); m;
		     m = bee_object_next_map(obj, m))
			rodata += bee_object_map_is_internal(m) &&
				  (bee_object_map_flags(m) & BPF_F_RDONLY_PROG);
		CHECK(rodata == 1, "one read-only internal map: %d", rodata);
	}
	bee_object_close(obj);
	bee_free(b);
}

struct rb_seen {
	int n;
	uint32_t pid;
	char comm[16];
};

static int rb_cb(void *ctx, void *data, size_t size)
{
	struct rb_seen *s = ctx;
	if (size >= 20) {
		memcpy(&s->pid, data, 4);
		memcpy(s->comm, (char *)data + 4, 16);
	}
	s->n++;
	return 0;
}

static void test_ringbuf(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("ringbuf");
	if (obj && !load(obj, b)) {
		struct bee_program *p = bee_object_find_program_by_name(obj, "on_exec");
		uint64_t ctx[8] = {0};
		struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = ctx, .ctx_size_in = sizeof(ctx)};
		int err = bee_prog_test_run(b, bee_program_fd(p), &o);
		CHECK(!err && o.retval == 0, "on_exec: %d %u", err, o.retval);
		struct rb_seen s = {0};
		struct bee_object_map *m = bee_object_find_map_by_name(obj, "rb");
		int n = bee_ringbuf_poll(b, bee_object_map_fd(m), rb_cb, &s, 0);
		CHECK(n == 1 && s.n == 1, "ringbuf records: %d", n);
		CHECK(!strcmp(s.comm, "exec-event"), "comm '%.16s'", s.comm);
	}
	bee_object_close(obj);
	bee_free(b);
}

static void test_mim(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("obj_mim");
	if (obj && !load(obj, b)) {
		uint32_t z = 0, va = 11, vb = 22, r = 0;
		struct bee_object_map *a = bee_object_find_map_by_name(obj, "in_a");
		struct bee_object_map *bm = bee_object_find_map_by_name(obj, "in_b");
		CHECK(!bee_map_update(b, bee_object_map_fd(a), &z, &va, 0), "in_a");
		CHECK(!bee_map_update(b, bee_object_map_fd(bm), &z, &vb, 0), "in_b");
		run(b, obj, "mim", 14 + 40, &r); /* skb->len 40: slot 0 */
		CHECK(r == 11, "outer[0] -> %u", r);
		run(b, obj, "mim", 14 + 42, &r);
		CHECK(r == 22, "outer[2] -> %u", r);
		run(b, obj, "mim", 14 + 41, &r);
		CHECK(r == 0xffffffffu, "outer[1] empty -> %d", (int)r);
	}
	bee_object_close(obj);
	bee_free(b);
}

static void test_legacy_and_btf_maps(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("maps_legacy");
	if (obj && !load(obj, b)) {
		struct bee_object_map *m = bee_object_find_map_by_name(obj, "packets");
		CHECK(m && bee_object_map_type(m) == BPF_MAP_TYPE_ARRAY &&
			      bee_object_map_max_entries(m) == 16, "packets");
		uint32_t r = 1;
		run(b, obj, "legacy", 60, &r); /* protocol 0 in bee's skb → k = 0 */
		CHECK(r == 0, "legacy = %u", r);
		uint32_t k;
		uint64_t v, total = 0;
		for (k = 0; k < 16; k++)
			if (!bee_map_lookup(b, bee_object_map_fd(m), &k, &v))
				total += v;
		CHECK(total == 1, "packets total %llu", (unsigned long long)total);
	}
	bee_object_close(obj);
	obj = open_obj("maps_btf");
	if (obj) {
		struct bee_object_map *h = bee_object_find_map_by_name(obj, "hash_map");
		CHECK(h && bee_object_map_max_entries(h) == 256, "hash_map def");
		CHECK(!bee_object_map_set_max_entries(h, 100), "resize");
		struct bee_object_map *pc = bee_object_find_map_by_name(obj, "pcpu");
		CHECK(pc && bee_object_map_value_size(pc) == 16, "pcpu value 16");
		if (!load(obj, b)) {
			struct bpf_map_info info;
			uint32_t len = sizeof(info);
			memset(&info, 0, sizeof(info));
			CHECK(!bee_obj_get_info_by_fd(b, bee_object_map_fd(h), &info, &len) &&
				      info.max_entries == 100, "resized to %u", info.max_entries);
			uint32_t r = 1;
			run(b, obj, "use_maps", 60, &r);
			CHECK(r == 0, "use_maps = %u", r);
			int pfd = bee_obj_get(b, "/sys/fs/bpf/hash_map");
			CHECK(pfd >= 0, "hash_map pinned by name: %d", pfd);
			if (pfd >= 0)
				bee_close(b, pfd);
		}
		bee_object_close(obj);
	}
	bee_free(b);
}

static void test_callback(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("obj_callback");
	if (obj && !load(obj, b)) {
		uint32_t r = 0;
		run(b, obj, "loop_sum", 20, &r);
		CHECK(r == 10, "loop_sum = %u", r);
		struct bee_program *p = bee_object_find_program_by_name(obj, "loop_sum");
		int pf = 0;
		for (size_t i = 0; i < bee_program_insn_cnt(p); i++)
			pf += bee_program_insns(p)[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
			      bee_program_insns(p)[i].src_reg == BPF_PSEUDO_FUNC;
		CHECK(pf == 1, "one BPF_PSEUDO_FUNC: %d", pf);
	}
	bee_object_close(obj);
	bee_free(b);
}

/* Objects the user-space target must refuse, with the message's key words. */
static void expect_load_error(const char *name, const char *const *words)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj(name);
	if (obj) {
		struct bee_target t = bee_target_of(b);
		int err = bee_object_load(obj, &t);
		CHECK(err < 0, "%s loaded", name);
		for (; *words; words++)
			CHECK(strstr(bee_object_error(obj), *words), "%s: '%s' lacks '%s'", name,
			      bee_object_error(obj), *words);
	}
	bee_object_close(obj);
	bee_free(b);
}

static void test_refused(void)
{
	expect_load_error("externs", (const char *const[]){"read_externs", "ksym bpf_prog_active",
							   "kernel symbols are not available", NULL});
	expect_load_error("bad_map", (const char *const[]){"uses_missing", "insn", "missing_map", NULL});
	expect_load_error("bad_call",
			  (const char *const[]){"calls_missing", "not_here", "insn", NULL});
	/* an unknown SEC name: no type until the host sets one */
	/* a corrupted relocation: point counts' map symbol at the license */
	FILE *f = fopen(obj_path("obj_counter"), "rb");
	CHECK(f, "open obj_counter");
	if (!f)
		return;
	static uint8_t img[1 << 16];
	size_t n = fread(img, 1, sizeof(img), f);
	fclose(f);
	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o), .err = &err, .object_name = "bad"};
	/* truncated: refused at open with a message */
	struct bee_object *obj = bee_object_open_mem(img, n / 2, &o);
	CHECK(!obj && errno && err.msg[0], "truncated object opened");
	bee_object_close(obj);
	/* set the symbol of the first relocation of "socket" to the LICENSE symbol */
	obj = bee_object_open_mem(img, n, &o);
	CHECK(obj, "open copy: %s", err.msg);
	bee_object_close(obj);
	/* find .rel entries: Elf64_Rel {r_offset, r_info}; LICENSE is a named symbol.
	 * Walk the section headers by hand. */
	uint64_t shoff;
	uint16_t shentsize, shnum;
	memcpy(&shoff, img + 0x28, 8);
	memcpy(&shentsize, img + 0x3a, 2);
	memcpy(&shnum, img + 0x3c, 2);
	uint32_t lic_sym = 0;
	uint8_t *rel = NULL;
	for (uint16_t i = 0; i < shnum && shoff + (uint64_t)(i + 1) * shentsize <= n; i++) {
		uint8_t *sh = img + shoff + (uint64_t)i * shentsize;
		uint32_t type;
		uint64_t off, size, entsize;
		uint32_t link;
		memcpy(&type, sh + 4, 4);
		memcpy(&off, sh + 0x18, 8);
		memcpy(&size, sh + 0x20, 8);
		memcpy(&link, sh + 0x28, 4);
		memcpy(&entsize, sh + 0x38, 8);
		if (type == 9 /* SHT_REL */ && !rel && size >= 16)
			rel = img + off;
		if (type == 2 /* SHT_SYMTAB */ && entsize == 24) {
			uint8_t *strsh = img + shoff + (uint64_t)link * shentsize;
			uint64_t stroff;
			memcpy(&stroff, strsh + 0x18, 8);
			for (uint64_t s = 0; s < size / 24; s++) {
				uint32_t name;
				memcpy(&name, img + off + s * 24, 4);
				if (!strcmp((char *)img + stroff + name, "LICENSE"))
					lic_sym = (uint32_t)s;
			}
		}
	}
	CHECK(rel && lic_sym, "found rel %p and LICENSE %u", (void *)rel, lic_sym);
	if (rel && lic_sym) {
		uint64_t info;
		memcpy(&info, rel + 8, 8);
		info = ((uint64_t)lic_sym << 32) | (info & 0xffffffffu);
		memcpy(rel + 8, &info, 8);
		obj = bee_object_open_mem(img, n, &o);
		if (obj) { /* the reader accepts it; the loader must refuse it */
			struct bee *b = new_bee();
			struct bee_target t = bee_target_of(b);
			int e = bee_object_load(obj, &t);
			CHECK(e < 0 && strstr(bee_object_error(obj), "count_len") &&
				      strstr(bee_object_error(obj), "LICENSE") &&
				      strstr(bee_object_error(obj), "insn"),
			      "bad relocation target: %d '%s'", e, bee_object_error(obj));
			bee_object_close(obj); /* before the instance its handles live in */
			bee_free(b);
		} else {
			CHECK(err.msg[0], "refused at open without a message");
		}
	}
}

/* ---- hostile objects: a valid one read into memory, one field edited ---- */

/* The bytes of a test object (malloc'd; NULL and a failed check if absent). */
static uint8_t *read_obj_bytes(const char *name, size_t *size)
{
	FILE *f = fopen(obj_path(name), "rb");
	uint8_t *buf = NULL;
	long n = -1;
	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	CHECK(buf, "cannot read %s", obj_path(name));
	*size = buf ? (size_t)n : 0;
	return buf;
}

/* The section header named name in a little-endian ELF64 image (the test
 * objects are clang's: headers inside the file, names in .shstrtab). */
static Elf64_Shdr *elf_shdr(uint8_t *img, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
	const char *names = (const char *)img + sh[eh->e_shstrndx].sh_offset;
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, name))
			return &sh[i];
	CHECK(0, "no section %s", name);
	return NULL;
}

/* Open an edited image: it must be refused with want (an errno) and a
 * message that contains every word of words. */
static void expect_open_refused(const uint8_t *img, size_t size, int want,
				const char *const *words, const char *what)
{
	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o), .err = &err};
	struct bee_object *obj = bee_object_open_mem(img, size, &o);
	CHECK(!obj && err.code == want, "%s: open gave %p, %d (want %d): %s", what, (void *)obj,
	      err.code, want, err.msg);
	for (size_t i = 0; !obj && words[i]; i++)
		CHECK(strstr(err.msg, words[i]), "%s: '%s' not in '%s'", what, words[i], err.msg);
	bee_object_close(obj);
}

/*
 * Sizes an object asks for without the bytes to back them: a .bss section
 * header of 1 GiB (found by fuzz_object: a 1 GiB image allocated at open
 * and walked), and a .kconfig char array of 1 GiB, were each allocated at
 * open; a char array of 4 GiB - 16 wrapped the 32-bit .kconfig layout, so
 * the map was 8 bytes and the values after the first two were written past
 * it at load.  All are refused at open: no array map holds more than 4 MiB.
 */
static void test_hostile_sizes(void)
{
	size_t size;
	uint8_t *img = read_obj_bytes("c_glob_bss", &size);
	if (img) {
		Elf64_Shdr *bss = elf_shdr(img, ".bss");
		if (bss) {
			bss->sh_size = 1u << 30;
			expect_open_refused(img, size, -E2BIG,
					    (const char *const[]){".bss", "too large", NULL}, "1 GiB .bss");
		}
		free(img);
	}
	img = read_obj_bytes("c_kconfig", &size);
	if (img) {
		/* CONFIG_BEE_STR is the object's only char[8]: its BTF_KIND_ARRAY
		 * record (name 0, info ARRAY, size 0, then type, index, nelems 8) */
		Elf64_Shdr *btf = elf_shdr(img, ".BTF");
		uint32_t *arr = NULL;
		for (uint64_t at = 24; btf && at + 24 <= btf->sh_size; at += 4) {
			uint32_t *w = (uint32_t *)(img + btf->sh_offset + at);
			if (w[0] == 0 && w[1] == (uint32_t)BTF_KIND_ARRAY << 24 && w[2] == 0 && w[5] == 8) {
				CHECK(!arr, "two char[8] arrays in c_kconfig's BTF");
				arr = w;
			}
		}
		CHECK(arr, "no char[8] array in c_kconfig's BTF");
		if (arr) {
			arr[5] = 1u << 30;
			expect_open_refused(img, size, -E2BIG,
					    (const char *const[]){"CONFIG_BEE_STR", "too large", NULL},
					    "1 GiB .kconfig extern");
			/* after 18 bytes of the other externs: 2^32 + 2 bytes */
			arr[5] = 0xfffffff0u;
			expect_open_refused(img, size, -E2BIG,
					    (const char *const[]){"CONFIG_BEE_STR", "too large", NULL},
					    ".kconfig layout past 4 GiB");
		}
		free(img);
	}
}

static void test_api_misc(void)
{
	struct bee *b = new_bee();
	struct bee_object *obj = open_obj("subprog");
	if (obj) {
		struct bee_program *pa = bee_object_find_program_by_name(obj, "prog_a");
		CHECK(!bee_object_find_program_by_name(obj, "square"), "subprograms are not programs");
		CHECK(!bee_program_set_autoload(pa, false), "autoload off");
		if (!load(obj, b)) {
			CHECK(bee_program_fd(pa) < 0, "prog_a not loaded");
			uint32_t r = 0;
			struct bee_program *pb = bee_object_find_program_by_name(obj, "prog_b");
			struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = 20};
			CHECK(!bee_prog_test_run(b, bee_program_fd(pb), &o), "run prog_b");
			r = o.retval;
			CHECK(r <= 3, "prog_b = %u", r);
			CHECK(bee_program_set_type(pb, BPF_PROG_TYPE_XDP) == -EBUSY, "set type after load");
			struct bee_target t = bee_target_of(b);
			CHECK(bee_object_load(obj, &t) == -EBUSY, "second load");
		}
	}
	bee_object_close(obj);
	bee_free(b);
}

int main(void)
{
	if (!BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang with a BPF target, no test objects\n");
		return 77;
	}
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-object-XXXXXX");
	if (!mkdtemp(pin_dir)) {
		perror("mkdtemp");
		return 1;
	}
	enum bee_engine engines[] = {BEE_ENGINE_INTERP, BEE_ENGINE_JIT};
	for (size_t e = 0; e < LEN(engines); e++) {
		engine = engines[e];
		test_socket_xdp();
		test_counter();
		test_gcalls();
		test_printk();
		test_ringbuf();
		test_mim();
		test_legacy_and_btf_maps();
		test_callback();
		test_refused();
		test_api_misc();
	}
	test_hostile_sizes();
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin_dir);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", pin_dir);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
