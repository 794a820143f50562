/*
 * test_btf.c - the BTF parser, .BTF.ext parser and printers.
 *
 *  - real objects: every tests/objects/NAME.bpf.o (clang -g -O2 -target bpf)
 *    parses; its .BTF.ext parses; the raw dump has bpftool's lines; the C
 *    dump compiles (cc -fsyntax-only) when a compiler is on PATH;
 *  - btf_types.bpf.o and btf_core.bpf.o: queries, sizes, CO-RE records;
 *  - /sys/kernel/btf/vmlinux when readable: parsed whole (time printed),
 *    its C dump compiled with a static assertion of every unique struct's
 *    size and member offsets, so the printed layouts are the kernel's;
 *  - hand-built BTF: ENUM64, split BTF, and each validation rule broken
 *    once, refused with a message naming it;
 *  - hand-built .BTF.ext: each rule broken once.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "btf/btf.h"
#include "objfile.h"
#include "unit.h"




static char *dump_to_string(const struct bee_btf_data *btf, bool c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	int ret = c ? bee_btf_dump_c(btf, f) : bee_btf_dump_raw(btf, f);
	fclose(f);
	CHECK(ret == 0, "dump returned %d", ret);
	return s;
}

static bool have_cc(void)
{
	return system("cc --version >/dev/null 2>&1") == 0;
}

/* Compile text with cc -fsyntax-only; returns the exit status. */
static int compile_c(const char *text, const char *tag)
{
	char path[] = "/tmp/bee_btf_XXXXXX.c";
	int fd = mkstemps(path, 2);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cc -fsyntax-only -w %s 2>&1 | head -20", path);
	FILE *p = popen(cmd, "r");
	char line[512];
	int errors = 0;
	while (fgets(line, sizeof(line), p)) {
		printf("  %s: %s", tag, line);
		errors++;
	}
	pclose(p);
	unlink(path);
	return errors;
}

/* ---- real objects -------------------------------------------------------- */

static struct bee_btf_data *object_btf(const char *dir, const char *name, void **elf_out,
				       struct bee_btf_ext **ext_out)
{
	char path[1024];
	size_t size, len, elen;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	void *elf = objfile_read(path, &size);
	if (!elf) {
		CHECK(0, "cannot read %s", path);
		return NULL;
	}
	const void *sec = objfile_section(elf, size, ".BTF", &len);
	if (!sec) {
		free(elf);
		return NULL;
	}
	struct bee_error err;
	struct bee_btf_data *btf = bee_btf_parse(sec, len, NULL, &err);
	CHECK(btf, "%s: %s", name, err.msg);
	const void *esec = objfile_section(elf, size, ".BTF.ext", &elen);
	if (btf && esec) {
		struct bee_btf_ext *ext = bee_btf_ext_parse(esec, elen, btf, &err);
		CHECK(ext, "%s .BTF.ext: %s", name, err.msg);
		if (ext_out)
			*ext_out = ext;
		else
			bee_btf_ext_free(ext);
	}
	*elf_out = elf;
	return btf;
}

static void test_all_objects(const char *dir, bool cc)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 6, ".bpf.o"))
			continue;
		void *elf = NULL;
		struct bee_btf_data *btf = object_btf(dir, e->d_name, &elf, NULL);
		if (btf) {
			char *raw = dump_to_string(btf, false);
			CHECK(raw && !strncmp(raw, "[1] ", 4), "%s: raw dump starts %.20s", e->d_name, raw);
			free(raw);
			char *c = dump_to_string(btf, true);
			if (cc)
				CHECK(compile_c(c, e->d_name) == 0, "%s: C dump does not compile", e->d_name);
			free(c);
			n++;
		}
		bee_btf_free(btf);
		free(elf);
	}
	closedir(d);
	printf("objects: %d with BTF parsed, dumped%s\n", n, cc ? " and compiled" : "");
	CHECK(n >= 2, "only %d objects with BTF in %s", n, dir);
}

static void test_types_object(const char *dir)
{
	void *elf = NULL;
	struct bee_btf_data *btf = object_btf(dir, "btf_types.bpf.o", &elf, NULL);
	if (!btf) {
		CHECK(0, "btf_types.bpf.o has no BTF");
		free(elf);
		return;
	}
	long id = bee_btf_find_by_name_kind(btf, "everything", BTF_KIND_STRUCT);
	CHECK(id > 0, "struct everything not found");
	struct bee_btf_type_info ti;
	CHECK(bee_btf_type(btf, id, &ti) == 0 && ti.size == 192 && ti.vlen == 20,
	      "everything: size %u vlen %u", ti.size, ti.vlen);
	CHECK(bee_btf_resolve_size(btf, id) == 192, "resolve_size(everything)");
	struct bee_btf_member_info m;
	int matrix = -1, anon = -1;
	for (unsigned i = 0; i < ti.vlen; i++) {
		bee_btf_member(btf, id, i, &m);
		if (!strcmp(m.name, "matrix"))
			matrix = i;
		if (!*m.name)
			anon = i;
	}
	CHECK(matrix >= 0 && anon >= 0, "members matrix/anon");
	bee_btf_member(btf, id, matrix, &m);
	CHECK(bee_btf_resolve_size(btf, m.type) == 48 && m.bit_offset == 192, "matrix: size %lld at %u",
	      bee_btf_resolve_size(btf, m.type), m.bit_offset);
	struct bee_btf_type_info ai;
	bee_btf_type(btf, m.type, &ai);
	CHECK(ai.kind == BTF_KIND_ARRAY && ai.nelems == 3, "matrix is int[3][4]");

	long bits = bee_btf_find_by_name_kind(btf, "bits", BTF_KIND_STRUCT);
	bee_btf_member(btf, bits, 3, &m);
	CHECK(!strcmp(m.name, "d") && m.bitfield_size == 40 && m.bit_offset == 15, "bits.d: %s %u@%u",
	      m.name, m.bitfield_size, m.bit_offset);

	long cv = bee_btf_find_by_name_kind(btf, "cv_myint", BTF_KIND_TYPEDEF);
	long myint2 = bee_btf_find_by_name_kind(btf, "myint2", BTF_KIND_TYPEDEF);
	bee_btf_type(btf, cv, &ti);
	CHECK(bee_btf_skip_modifiers(btf, ti.type) == (uint32_t)myint2, "skip_modifiers(const volatile)");
	uint32_t base = bee_btf_skip_modifiers_typedefs(btf, cv);
	CHECK(!strcmp(bee_btf_name(btf, base), "int"), "skip typedefs: %s", bee_btf_name(btf, base));
	CHECK(bee_btf_resolve_size(btf, cv) == 4, "sizeof cv_myint");

	long color = bee_btf_find_by_name_kind(btf, "color", BTF_KIND_ENUM);
	struct bee_btf_enum_info ev;
	CHECK(bee_btf_enum_value(btf, color, 1, &ev) == 0 && !strcmp(ev.name, "GREEN") && ev.uval == 5,
	      "GREEN = 5");
	CHECK(bee_btf_find_by_name_kind(btf, "color", BTF_KIND_STRUCT) == -ENOENT, "no struct color");
	CHECK(bee_btf_find_by_name_kind(btf, "helper_fn", BTF_KIND_FUNC) > 0, "FUNC helper_fn");
	long ds = bee_btf_find_by_name_kind(btf, ".data", BTF_KIND_DATASEC);
	struct bee_btf_secinfo_info si;
	CHECK(ds > 0 && bee_btf_datasec_entry(btf, ds, 0, &si) == 0, "DATASEC .data");
	CHECK(bee_btf_member(btf, color, 0, &m) == -EINVAL, "member of an enum is -EINVAL");

	char *raw = dump_to_string(btf, false);
	const char *want[] = {
		"[6] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n",
		"STRUCT 'everything' size=192 vlen=20\n\t'a' type_id=4 bits_offset=0\n",
		"\t'd' type_id=23 bits_offset=15 bitfield_size=40\n",
		"ENUM 'color' encoding=UNSIGNED size=4 vlen=3\n\t'RED' val=0\n\t'GREEN' val=5\n",
		"FUNC 'helper_fn' type_id=49 linkage=static\n",
		"FUNC 'btf_types_prog' type_id=47 linkage=global\n",
		"FUNC_PROTO '(anon)' ret_type_id=6 vlen=1\n\t'ctx' type_id=1\n",
		"VAR 'g_counter' type_id=6, linkage=global\n",
		"DATASEC '.data' size=0 vlen=2\n\ttype_id=52 offset=0 size=4 (VAR 'g_counter')\n",
		"TYPE_TAG 'user' type_id=6\n",
		"DECL_TAG 'everything_tag' type_id=2 component_idx=-1\n",
		"FLOAT 'double' size=8\n",
		"ARRAY '(anon)' type_id=6 index_type_id=17 nr_elems=4\n",
		"CONST '(anon)' type_id=12\n",
	};
	for (size_t i = 0; i < LEN(want); i++)
		CHECK(strstr(raw, want[i]), "raw dump lacks %s", want[i]);
	free(raw);
	char *c = dump_to_string(btf, true);
	const char *cwant[] = {
		"struct packed_thing {\n\tchar c;\n\tint i;\n\tshort s;\n} __attribute__((packed));\n",
		"typedef int (*binop_t)(int, int);\n",
		"\tvoid (*callback)(struct everything *, const char *, ...);\n",
		"\tint matrix[3][4];\n",
		"\tunsigned long long d: 40;\n",
		"\tchar * restrict buf;\n", /* bpftool spaces a qualifier after a pointer */
		"\tunion {\n\t\tint as_int;\n\t\tfloat as_float;\n\t};\n",
		"enum small {\n\tS0 = 0,\n\tS1 = 200,\n} __attribute__((mode(byte)));\n",
		"struct node;\n",
	};
	for (size_t i = 0; i < LEN(cwant); i++)
		CHECK(strstr(c, cwant[i]), "C dump lacks %s", cwant[i]);
	free(c);
	bee_btf_free(btf);
	free(elf);
}

static void test_core_object(const char *dir)
{
	void *elf = NULL;
	struct bee_btf_ext *ext = NULL;
	struct bee_btf_data *btf = object_btf(dir, "btf_core.bpf.o", &elf, &ext);
	CHECK(btf && ext, "btf_core.bpf.o: BTF and .BTF.ext");
	if (!btf || !ext)
		goto out;
	int sec = bee_btf_ext_find_sec(ext, BEE_BTF_EXT_CORE_RELO, "socket");
	CHECK(sec >= 0, "core_relo section 'socket'");
	unsigned seen = 0;
	long task = bee_btf_find_by_name_kind(btf, "task", BTF_KIND_STRUCT);
	bool access_ok = false;
	for (uint32_t i = 0; sec >= 0 && i < bee_btf_ext_sec_nr(ext, BEE_BTF_EXT_CORE_RELO, sec); i++) {
		struct bee_btf_core_relo r;
		CHECK(bee_btf_ext_core_relo(ext, sec, i, &r) == 0, "relo %u", i);
		seen |= 1u << r.kind;
		CHECK(r.insn_off % 8 == 0, "insn_off");
		if (r.kind == 0 && r.type_id == (uint32_t)task && !strcmp(r.access, "0:1:1"))
			access_ok = true; /* t->sched.prio */
	}
	/* Every kind clang 14 emits from the builtins used (type_matches needs clang 17). */
	CHECK((seen & 0xfff) == 0xfff, "CO-RE kinds seen 0x%x", seen);
	CHECK(access_ok, "byte_off relo of task 0:1:1");
	CHECK(!strcmp(bee_btf_core_relo_kind_str(11), "enumval_value"), "kind names");
	int fs = bee_btf_ext_find_sec(ext, BEE_BTF_EXT_FUNC_INFO, "socket");
	struct bee_btf_func_info fi;
	CHECK(fs >= 0 && bee_btf_ext_func_info(ext, fs, 0, &fi) == 0 && fi.insn_off == 0 &&
	      !strcmp(bee_btf_name(btf, fi.type_id), "core_prog"), "func_info core_prog");
	int ls = bee_btf_ext_find_sec(ext, BEE_BTF_EXT_LINE_INFO, "socket");
	struct bee_btf_line_info li;
	CHECK(ls >= 0 && bee_btf_ext_line_info(ext, ls, 0, &li) == 0 && strstr(li.file_name, "btf_core") &&
	      li.line_num > 30 && strstr(li.line, "r += "), "line_info[0]: %s:%u '%s'",
	      ls >= 0 ? li.file_name : "", ls >= 0 ? li.line_num : 0, ls >= 0 ? li.line : "");
	CHECK(bee_btf_ext_rec_size(ext, BEE_BTF_EXT_LINE_INFO) == 16, "line_info rec size");
out:
	bee_btf_ext_free(ext);
	bee_btf_free(btf);
	free(elf);
}

/* ---- vmlinux ------------------------------------------------------------- */

static void test_vmlinux(bool cc)
{
	size_t size;
	void *data = objfile_read("/sys/kernel/btf/vmlinux", &size);
	if (!data) {
		printf("SKIP vmlinux: /sys/kernel/btf/vmlinux not readable\n");
		return;
	}
	struct timespec a, b;
	struct bee_error err;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct bee_btf_data *btf = bee_btf_parse(data, size, NULL, &err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(btf, "vmlinux: %s", err.msg);
	if (!btf) {
		free(data);
		return;
	}
	printf("vmlinux: %zu bytes, %u types parsed and validated in %.1f ms\n", size,
	       bee_btf_type_count(btf), (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	long ts = bee_btf_find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	CHECK(ts > 0 && bee_btf_resolve_size(btf, ts) > 1000, "task_struct");
	char *c = dump_to_string(btf, true);
	if (cc) {
		/* Every struct and union with a unique name: its size and named member offsets. */
		char *text = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&text, &n);
		fputs(c, f);
		for (uint32_t id = 1; id < bee_btf_type_count(btf); id++) {
			struct bee_btf_type_info ti;
			bee_btf_type(btf, id, &ti);
			if ((ti.kind != BTF_KIND_STRUCT && ti.kind != BTF_KIND_UNION) || !*ti.name ||
			    bee_btf_find_by_name_kind(btf, ti.name, -1) != id)
				continue;
			const char *kw = ti.kind == BTF_KIND_STRUCT ? "struct" : "union";
			fprintf(f, "_Static_assert(sizeof(%s %s) == %u, \"%s\");\n", kw, ti.name, ti.size, ti.name);
			for (unsigned i = 0; i < ti.vlen; i++) {
				struct bee_btf_member_info m;
				bee_btf_member(btf, id, i, &m);
				if (*m.name && !m.bitfield_size && m.bit_offset % 8 == 0)
					fprintf(f, "_Static_assert(__builtin_offsetof(%s %s, %s) == %u, \"\");\n",
						kw, ti.name, m.name, m.bit_offset / 8);
			}
		}
		fclose(f);
		CHECK(compile_c(text, "vmlinux") == 0, "vmlinux C dump with layout assertions does not compile");
		free(text);
	}
	free(c);
	bee_btf_free(btf);
	free(data);
}

/* ---- hand-built BTF ------------------------------------------------------ */

struct bb {
	uint32_t types[256];
	unsigned nt;
	char strs[512];
	unsigned ns;
	struct btf_header hdr; /* overrides applied after layout */
};

#define INFO(kind, kflag, vlen) (((uint32_t)(kflag) << 31) | ((uint32_t)(kind) << 24) | (vlen))

static void bb_init(struct bb *b)
{
	memset(b, 0, sizeof(*b));
	b->ns = 1; /* "" */
}

static uint32_t S(struct bb *b, const char *s)
{
	uint32_t off = b->ns;
	strcpy(b->strs + b->ns, s);
	b->ns += strlen(s) + 1;
	return off;
}

static void W(struct bb *b, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		b->types[b->nt++] = va_arg(ap, uint32_t);
	va_end(ap);
}

static void *bb_blob(struct bb *b, size_t *size)
{
	struct btf_header h = {
		.magic = BTF_MAGIC, .version = 1, .hdr_len = sizeof(h),
		.type_off = 0, .type_len = b->nt * 4, .str_off = b->nt * 4, .str_len = b->ns,
	};
	*size = sizeof(h) + h.type_len + h.str_len;
	uint8_t *p = calloc(1, *size);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), b->types, h.type_len);
	memcpy(p + sizeof(h) + h.type_len, b->strs, b->ns);
	return p;
}

/* A base every malformed case starts from: [1] int, [2] struct s { int a; int b; }. */
static void bb_base(struct bb *b)
{
	bb_init(b);
	uint32_t n_int = S(b, "int"), n_s = S(b, "s"), n_a = S(b, "a"), n_b = S(b, "b");
	W(b, 4, n_int, INFO(BTF_KIND_INT, 0, 0), 4u, (uint32_t)(BTF_INT_SIGNED << 24 | 32));
	W(b, 3, n_s, INFO(BTF_KIND_STRUCT, 0, 2), 8u);
	W(b, 6, n_a, 1u, 0u, n_b, 1u, 32u);
}

static void expect(struct bb *b, const char *want, int line)
{
	size_t size;
	void *blob = bb_blob(b, &size);
	struct bee_error err;
	struct bee_btf_data *btf = bee_btf_parse(blob, size, NULL, &err);
	checks++;
	if (want && (btf || !strstr(err.msg, want))) {
		failures++;
		printf("FAIL line %d: want error containing '%s', got %s\n", line, want,
		       btf ? "success" : err.msg);
	} else if (!want && !btf) {
		failures++;
		printf("FAIL line %d: want success, got %s\n", line, err.msg);
	} else if (want) {
		printf("  refused: %s\n", err.msg);
	}
	bee_btf_free(btf);
	free(blob);
}
#define EXPECT_BAD(b, msg) expect(b, msg, __LINE__)
#define EXPECT_OK(b) expect(b, NULL, __LINE__)

static void expect_raw_bad(void *blob, size_t size, const char *want, int line)
{
	struct bee_error err;
	struct bee_btf_data *btf = bee_btf_parse(blob, size, NULL, &err);
	checks++;
	if (btf || !strstr(err.msg, want)) {
		failures++;
		printf("FAIL line %d: want '%s', got %s\n", line, want, btf ? "success" : err.msg);
	} else {
		printf("  refused: %s\n", err.msg);
	}
	bee_btf_free(btf);
}

static void test_malformed(void)
{
	struct bb b;
	size_t size;
	bb_base(&b);
	EXPECT_OK(&b);

	/* header */
	uint8_t *blob = bb_blob(&b, &size);
	struct btf_header *h = (struct btf_header *)blob;
	h->magic = 0x1234;
	expect_raw_bad(blob, size, "bad magic", __LINE__);
	h->magic = BTF_MAGIC, h->version = 2;
	expect_raw_bad(blob, size, "unsupported version", __LINE__);
	h->version = 1, h->flags = 1;
	expect_raw_bad(blob, size, "unsupported flags", __LINE__);
	h->flags = 0, h->hdr_len = 8;
	expect_raw_bad(blob, size, "hdr_len 8 shorter", __LINE__);
	h->hdr_len = sizeof(*h), h->str_len += 4;
	expect_raw_bad(blob, size, "string section", __LINE__);
	h->str_len -= 4, h->type_off = 2;
	expect_raw_bad(blob, size, "not 4-aligned", __LINE__);
	h->type_off = 0, h->type_len -= 4;
	expect_raw_bad(blob, size, "gap before the string section", __LINE__);
	h->type_len += 4;
	expect_raw_bad(blob, size - 1, "beyond the data", __LINE__);
	expect_raw_bad(blob, 10, "too short for a header", __LINE__);
	blob[size - 1] = 'x';
	expect_raw_bad(blob, size, "does not end in NUL", __LINE__);
	blob[size - 1] = 0;
	blob[sizeof(*h) + h->str_off] = 'x';
	expect_raw_bad(blob, size, "does not start with", __LINE__);
	free(blob);

	/* INT */
	bb_base(&b), b.types[3] = BTF_INT_SIGNED << 24 | 33;
	EXPECT_BAD(&b, "[1] INT int: bits_offset 0 + nr_bits 33 beyond size 4");
	bb_base(&b), b.types[2] = 3;
	EXPECT_BAD(&b, "invalid size 3");
	bb_base(&b), b.types[3] = 3u << 24 | 32;
	EXPECT_BAD(&b, "unsupported encoding");
	bb_base(&b), b.types[3] = 8u << 16 | 32;
	EXPECT_BAD(&b, "beyond size 4");
	bb_base(&b), b.types[1] = INFO(BTF_KIND_INT, 0, 1);
	EXPECT_BAD(&b, "vlen 1 != 0");
	/* kind, info bits, name offsets */
	bb_base(&b), b.types[1] = INFO(25, 0, 0);
	EXPECT_BAD(&b, "[1] invalid kind 25");
	bb_base(&b), b.types[1] |= 1u << 20;
	EXPECT_BAD(&b, "unused info bits");
	bb_base(&b), b.types[0] = 999;
	EXPECT_BAD(&b, "[1] INT: name offset 999 out of range");
	/* STRUCT members */
	bb_base(&b), b.types[12] = 64;
	EXPECT_BAD(&b, "[2] STRUCT s: member 'b' at bit 64 (4 bytes) beyond size 8");
	bb_base(&b), b.types[12] = 72;
	EXPECT_BAD(&b, "[2] STRUCT s: member 'b' at bit 72 beyond size 8");
	bb_base(&b), b.types[12] = 40;
	EXPECT_BAD(&b, "member 'b' at bit 40 (4 bytes) beyond size 8");
	bb_base(&b), b.types[12] = 36;
	EXPECT_BAD(&b, "not byte aligned");
	bb_base(&b), b.types[9] = 40, b.types[12] = 0;
	EXPECT_BAD(&b, "before the previous member");
	bb_base(&b), b.types[11] = 9;
	EXPECT_BAD(&b, "member type_id 9 out of range");
	bb_base(&b), b.types[7] = S(&b, "1bad");
	EXPECT_BAD(&b, "member 0: invalid name");
	bb_base(&b), b.types[4] = S(&b, "not ok");
	EXPECT_BAD(&b, "[2] STRUCT not ok: invalid name");
	/* bitfields (kind_flag) */
	bb_base(&b), b.types[5] = INFO(BTF_KIND_STRUCT, 1, 2), b.types[12] = 33u << 24 | 32;
	EXPECT_BAD(&b, "bitfield_size 33 wider");
	bb_base(&b), b.types[5] = INFO(BTF_KIND_STRUCT, 1, 2), b.types[12] = 8u << 24 | 60;
	EXPECT_BAD(&b, "member 'b' at bit 60 (+8 bits) beyond size 8");
	bb_base(&b), b.types[5] = INFO(BTF_KIND_STRUCT, 1, 2), b.types[12] = 8u << 24 | 33;
	EXPECT_OK(&b);
	/* UNION */
	bb_base(&b), b.types[5] = INFO(BTF_KIND_UNION, 0, 2);
	EXPECT_BAD(&b, "union member at bit 32");
	/* PTR, modifiers, loops */
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_PTR, 0, 0), 7u);
	EXPECT_BAD(&b, "[3] PTR (anon): type_id 7 out of range");
	bb_base(&b), W(&b, 3, S(&b, "p"), INFO(BTF_KIND_PTR, 0, 0), 1u);
	EXPECT_BAD(&b, "must be anonymous");
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_CONST, 0, 0), 4u), W(&b, 3, 0u, INFO(BTF_KIND_VOLATILE, 0, 0), 3u);
	EXPECT_BAD(&b, "loop detected");
	bb_base(&b), W(&b, 3, S(&b, "t"), INFO(BTF_KIND_TYPEDEF, 0, 0), 3u);
	EXPECT_BAD(&b, "[3] TYPEDEF t: loop detected");
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_PTR, 0, 0), 3u);
	EXPECT_OK(&b); /* a pointer to itself is fine: void **-like */
	bb_base(&b), b.types[8] = 3, W(&b, 3, 0u, INFO(BTF_KIND_CONST, 0, 0), 2u);
	EXPECT_BAD(&b, "loop detected"); /* struct s contains const struct s */
	bb_base(&b), b.types[8] = 3, W(&b, 3, 0u, INFO(BTF_KIND_PTR, 0, 0), 2u), b.types[6] = 16,
		b.types[12] = 64;
	EXPECT_OK(&b); /* struct s { struct s *a; int b; } */
	bb_base(&b);
	for (int i = 0; i < 40; i++)
		W(&b, 3, 0u, INFO(BTF_KIND_CONST, 0, 0), (uint32_t)(i == 39 ? 1 : 3 + i + 1));
	EXPECT_BAD(&b, "deeper than 32");
	bb_base(&b), W(&b, 3, S(&b, "t"), INFO(BTF_KIND_TYPEDEF, 0, 0), 0u), W(&b, 3, 0u, INFO(BTF_KIND_PTR, 0, 0), 0u);
	EXPECT_OK(&b);
	/* ARRAY */
	bb_base(&b), W(&b, 6, 0u, INFO(BTF_KIND_ARRAY, 0, 0), 0u, 1u, 1u, 0x40000000u);
	EXPECT_BAD(&b, "overflow U32_MAX");
	bb_base(&b), W(&b, 6, 0u, INFO(BTF_KIND_ARRAY, 0, 0), 0u, 1u, 2u, 4u);
	EXPECT_BAD(&b, "index type 2 is not an INT");
	bb_base(&b), W(&b, 6, 0u, INFO(BTF_KIND_ARRAY, 0, 0), 0u, 0u, 1u, 4u);
	EXPECT_BAD(&b, "element type 0 (UNKNOWN) has no size");
	bb_base(&b), W(&b, 6, 0u, INFO(BTF_KIND_ARRAY, 0, 0), 4u, 1u, 1u, 4u);
	EXPECT_BAD(&b, "size 4 != 0");
	/* ENUM, ENUM64 */
	bb_base(&b), W(&b, 5, S(&b, "e"), INFO(BTF_KIND_ENUM, 0, 1), 3u, S(&b, "A"), 0u);
	EXPECT_BAD(&b, "[3] ENUM e: invalid size 3");
	bb_base(&b), W(&b, 5, S(&b, "e"), INFO(BTF_KIND_ENUM, 0, 1), 4u, 0u, 0u);
	EXPECT_BAD(&b, "value 0: invalid name");
	bb_base(&b), W(&b, 6, S(&b, "e"), INFO(19, 0, 1), 16u, S(&b, "A"), 0u, 1u);
	EXPECT_BAD(&b, "[3] ENUM64 e: invalid size 16");
	/* FWD */
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_FWD, 0, 0), 0u);
	EXPECT_BAD(&b, "[3] FWD (anon): invalid name");
	bb_base(&b), W(&b, 3, S(&b, "f"), INFO(BTF_KIND_FWD, 1, 0), 5u);
	EXPECT_BAD(&b, "type 5 != 0");
	/* FUNC, FUNC_PROTO */
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 0), 1u), W(&b, 3, S(&b, "f"), INFO(BTF_KIND_FUNC, 0, 3), 3u);
	EXPECT_BAD(&b, "[4] FUNC f: invalid linkage 3");
	bb_base(&b), W(&b, 3, S(&b, "f"), INFO(BTF_KIND_FUNC, 0, 1), 1u);
	EXPECT_BAD(&b, "type 1 is not a FUNC_PROTO");
	bb_base(&b), W(&b, 7, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 2), 1u, 0u, 0u, S(&b, "x"), 1u);
	EXPECT_BAD(&b, "arg#0: void argument");
	bb_base(&b), W(&b, 7, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 2), 1u, S(&b, "x"), 1u, 0u, 0u);
	EXPECT_OK(&b); /* int f(int x, ...) */
	bb_base(&b), W(&b, 5, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 1), 1u, S(&b, "x y"), 1u);
	EXPECT_BAD(&b, "arg#0: invalid name");
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 0), 1u), W(&b, 3, S(&b, "f"), INFO(BTF_KIND_FUNC, 0, 1), 3u),
		W(&b, 5, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 1), 0u, 0u, 4u);
	EXPECT_BAD(&b, "arg#0: is a FUNC");
	/* VAR */
	bb_base(&b), W(&b, 4, S(&b, "v"), INFO(BTF_KIND_VAR, 0, 0), 1u, 3u);
	EXPECT_BAD(&b, "[3] VAR v: invalid linkage 3");
	bb_base(&b), W(&b, 4, S(&b, "v x"), INFO(BTF_KIND_VAR, 0, 0), 1u, 1u);
	EXPECT_BAD(&b, "[3] VAR v x: invalid name");
	bb_base(&b), W(&b, 4, S(&b, "f.v"), INFO(BTF_KIND_VAR, 0, 0), 1u, 1u);
	EXPECT_OK(&b); /* a function's static variable */
	bb_base(&b), W(&b, 3, S(&b, "t.x"), INFO(BTF_KIND_TYPEDEF, 0, 0), 1u);
	EXPECT_BAD(&b, "a C identifier is required");
	bb_base(&b), W(&b, 4, S(&b, "v"), INFO(BTF_KIND_VAR, 0, 0), 0u, 1u);
	EXPECT_BAD(&b, "has no size");
	/* DATASEC */
	bb_base(&b), W(&b, 4, S(&b, "v"), INFO(BTF_KIND_VAR, 0, 0), 1u, 1u),
		W(&b, 6, S(&b, ".data"), INFO(BTF_KIND_DATASEC, 0, 1), 4u, 3u, 2u, 4u);
	EXPECT_BAD(&b, "[4] DATASEC .data: entry 0: offset 2 + size 4 beyond size 4");
	bb_base(&b), W(&b, 4, S(&b, "v"), INFO(BTF_KIND_VAR, 0, 0), 1u, 1u),
		W(&b, 9, S(&b, ".data"), INFO(BTF_KIND_DATASEC, 0, 2), 8u, 3u, 4u, 4u, 3u, 0u, 4u);
	EXPECT_BAD(&b, "entry 1: offset 0 overlaps or precedes");
	bb_base(&b), W(&b, 4, S(&b, "v"), INFO(BTF_KIND_VAR, 0, 0), 1u, 1u),
		W(&b, 6, S(&b, ".data"), INFO(BTF_KIND_DATASEC, 0, 1), 8u, 3u, 0u, 2u);
	EXPECT_BAD(&b, "entry 0: size 2 smaller than its variable");
	bb_base(&b), W(&b, 6, S(&b, ".data"), INFO(BTF_KIND_DATASEC, 0, 1), 8u, 1u, 0u, 4u);
	EXPECT_BAD(&b, "type 1 is INT, not a VAR");
	bb_base(&b), W(&b, 6, S(&b, "bad\tname"), INFO(BTF_KIND_DATASEC, 0, 1), 8u, 1u, 0u, 4u);
	EXPECT_BAD(&b, "invalid section name");
	/* FLOAT */
	bb_base(&b), W(&b, 3, S(&b, "float"), INFO(BTF_KIND_FLOAT, 0, 0), 3u);
	EXPECT_BAD(&b, "[3] FLOAT float: invalid size 3");
	/* DECL_TAG, TYPE_TAG */
	bb_base(&b), W(&b, 4, S(&b, "tag"), INFO(BTF_KIND_DECL_TAG, 0, 0), 2u, 2u);
	EXPECT_BAD(&b, "component_idx 2 beyond 2 components");
	bb_base(&b), W(&b, 4, S(&b, "tag"), INFO(BTF_KIND_DECL_TAG, 0, 0), 1u, (uint32_t)-1);
	EXPECT_BAD(&b, "tags a INT");
	bb_base(&b), W(&b, 4, S(&b, "tag"), INFO(BTF_KIND_DECL_TAG, 0, 0), 2u, (uint32_t)-2);
	EXPECT_BAD(&b, "invalid component_idx -2");
	bb_base(&b), W(&b, 4, S(&b, "tag"), INFO(BTF_KIND_DECL_TAG, 0, 0), 2u, 1u);
	EXPECT_OK(&b);
	bb_base(&b), W(&b, 3, 0u, INFO(BTF_KIND_TYPE_TAG, 0, 0), 1u);
	EXPECT_BAD(&b, "[3] TYPE_TAG (anon): empty tag value");
	/* truncated record */
	bb_base(&b), b.nt -= 1;
	EXPECT_BAD(&b, "runs past the type section");
}

static void test_enum64_and_split(bool cc)
{
	struct bb b;
	bb_base(&b);
	/* [3] enum64 big { A = 1ULL<<40, B = -1 } unsigned; [4] signed enum64 sgn { N = -5 } */
	W(&b, 9, S(&b, "big"), INFO(19, 0, 2), 8u, S(&b, "A"), 0u, 0x100u, S(&b, "B"), 0xffffffffu, 0xffffffffu);
	W(&b, 6, S(&b, "sgn"), INFO(19, 1, 1), 8u, S(&b, "N"), (uint32_t)-5, 0xffffffffu);
	/* [5] signed enum e1 { M = -1 } */
	W(&b, 5, S(&b, "e1"), INFO(BTF_KIND_ENUM, 1, 1), 4u, S(&b, "M"), (uint32_t)-1);
	size_t size;
	void *blob = bb_blob(&b, &size);
	struct bee_error err;
	struct bee_btf_data *base = bee_btf_parse(blob, size, NULL, &err);
	CHECK(base, "enum64 base: %s", err.msg);
	if (!base) {
		free(blob);
		return;
	}
	char *raw = dump_to_string(base, false);
	CHECK(strstr(raw, "[3] ENUM64 'big' encoding=UNSIGNED size=8 vlen=2\n\t'A' val=1099511627776ULL\n"
			  "\t'B' val=18446744073709551615ULL\n"), "enum64 raw: %s", raw);
	CHECK(strstr(raw, "\t'N' val=-5LL\n"), "signed enum64 raw");
	CHECK(strstr(raw, "[5] ENUM 'e1' encoding=SIGNED size=4 vlen=1\n\t'M' val=-1\n"), "signed enum raw");
	free(raw);
	char *c = dump_to_string(base, true);
	CHECK(strstr(c, "\tA = 1099511627776ULL,\n"), "enum64 C");
	if (cc)
		CHECK(compile_c(c, "enum64") == 0, "enum64 C dump compiles");
	free(c);
	struct bee_btf_enum_info ev;
	CHECK(bee_btf_enum_value(base, 4, 0, &ev) == 0 && (int64_t)ev.uval == -5 && ev.is_signed, "enum64 value");

	/* Split: [6] PTR -> [2] (base), [7] struct t { struct s *p; int x; } with its own strings. */
	struct bb s;
	memset(&s, 0, sizeof(s));
	uint32_t str_base = b.ns;
	s.ns = 0;
	uint32_t n_t = str_base + S(&s, "t"), n_p = str_base + S(&s, "p"), n_x = str_base + S(&s, "x");
	W(&s, 3, 0u, INFO(BTF_KIND_PTR, 0, 0), 2u);
	W(&s, 3, n_t, INFO(BTF_KIND_STRUCT, 0, 2), 16u);
	W(&s, 6, n_p, 6u, 0u, n_x, 1u, 64u);
	size_t ssize;
	void *sblob = bb_blob(&s, &ssize);
	struct bee_btf_data *split = bee_btf_parse(sblob, ssize, base, &err);
	CHECK(split, "split: %s", err.msg);
	if (split) {
		CHECK(bee_btf_start_id(split) == 6 && bee_btf_type_count(split) == 8, "split ids");
		CHECK(bee_btf_find_by_name_kind(split, "t", BTF_KIND_STRUCT) == 7, "split find t");
		CHECK(bee_btf_find_by_name_kind(split, "s", BTF_KIND_STRUCT) == 2, "split find base s");
		CHECK(bee_btf_resolve_size(split, 7) == 16, "split size");
		raw = dump_to_string(split, false);
		CHECK(!strcmp(raw, "[6] PTR '(anon)' type_id=2\n[7] STRUCT 't' size=16 vlen=2\n"
				   "\t'p' type_id=6 bits_offset=0\n\t'x' type_id=1 bits_offset=64\n"),
		      "split raw: %s", raw);
		free(raw);
		c = dump_to_string(split, true);
		if (cc)
			CHECK(compile_c(c, "split") == 0, "split C dump compiles");
		free(c);
		bee_btf_free(split);
	}
	free(sblob);
	/* A split type pointing past the end. */
	s.types[2] = 9;
	sblob = bb_blob(&s, &ssize);
	split = bee_btf_parse(sblob, ssize, base, &err);
	CHECK(!split && strstr(err.msg, "[6] PTR (anon): type_id 9 out of range"), "split bad: %s", err.msg);
	bee_btf_free(split);
	free(sblob);
	bee_btf_free(base);
	free(blob);
}

/* ---- hand-built .BTF.ext ------------------------------------------------- */

static void test_ext_malformed(void)
{
	/* BTF: [1] int, [2] proto, [3] FUNC f; strings for section, file, line, access. */
	struct bb b;
	bb_init(&b);
	uint32_t n_int = S(&b, "int"), n_f = S(&b, "f"), n_sec = S(&b, "socket"), n_file = S(&b, "x.c"),
		 n_line = S(&b, "int f(void) {"), n_acc = S(&b, "0:1"), n_bad = S(&b, "0:a");
	W(&b, 4, n_int, INFO(BTF_KIND_INT, 0, 0), 4u, (uint32_t)(BTF_INT_SIGNED << 24 | 32));
	W(&b, 3, 0u, INFO(BTF_KIND_FUNC_PROTO, 0, 0), 1u);
	W(&b, 3, n_f, INFO(BTF_KIND_FUNC, 0, 1), 2u);
	size_t size;
	void *blob = bb_blob(&b, &size);
	struct bee_error err;
	struct bee_btf_data *btf = bee_btf_parse(blob, size, NULL, &err);
	CHECK(btf, "ext base: %s", err.msg);
	if (!btf)
		return;
	uint32_t ext[64] = {
		BTF_MAGIC | 1u << 16, 32, /* magic, version, flags; hdr_len */
		0, 20, 20, 28, 48, 28,    /* func_info, line_info, core_relo: off, len */
		/* func_info @0 */ 8, n_sec, 1, 0, 3,
		/* line_info @20 */ 16, n_sec, 1, 0, n_file, n_line, 5u << 10 | 2,
		/* core_relo @48 */ 16, n_sec, 1, 8, 1, n_acc, 0,
	};
	size_t esize = 32 + 76;
	struct bee_btf_ext *e = bee_btf_ext_parse(ext, esize, btf, &err);
	CHECK(e, "ext ok: %s", err.msg);
	struct bee_btf_line_info li;
	CHECK(e && bee_btf_ext_line_info(e, 0, 0, &li) == 0 && li.line_num == 5 && li.line_col == 2 &&
	      !strcmp(li.file_name, "x.c"), "line_info decoded");
	bee_btf_ext_free(e);
#define EXT_BAD(idx, val, want)                                                          \
	do {                                                                             \
		uint32_t save = ext[idx];                                                \
		ext[idx] = (val);                                                        \
		e = bee_btf_ext_parse(ext, esize, btf, &err);                            \
		checks++;                                                                \
		if (e || !strstr(err.msg, want)) {                                       \
			failures++;                                                      \
			printf("FAIL line %d: want '%s', got %s\n", __LINE__, want,      \
			       e ? "success" : err.msg);                                 \
		} else                                                                   \
			printf("  refused: %s\n", err.msg);                              \
		bee_btf_ext_free(e);                                                     \
		ext[idx] = save;                                                         \
	} while (0)
	EXT_BAD(0, 0x1234, "bad magic");
	EXT_BAD(1, 16, "hdr_len 16");
	EXT_BAD(3, 200, "func_info [0, +200) beyond");
	EXT_BAD(8, 6, "func_info record size 6");
	EXT_BAD(8 + 1, 999, "section name offset 999 invalid");
	EXT_BAD(8 + 2, 0, "no records");
	EXT_BAD(8 + 2, 5, "5 records of 8 bytes run past");
	EXT_BAD(8 + 3, 4, "insn_off 4 not a multiple of 8");
	EXT_BAD(8 + 4, 1, "type_id 1 is not a FUNC");
	EXT_BAD(13 + 4, 999, "file_name_off 999 out of range");
	EXT_BAD(13 + 5, 999, "line_off 999 out of range");
	EXT_BAD(20 + 4, 9, "core_relo 'socket' [0]: type_id 9 out of range");
	EXT_BAD(20 + 5, n_bad, "invalid access string '0:a'");
	EXT_BAD(20 + 6, 13, "unknown kind 13");
	bee_btf_free(btf);
	free(blob);
}

int main(void)
{
	bool cc = have_cc();
	if (!cc)
		printf("note: no cc on PATH: C dumps are not compiled\n");
	const char *dir = BEE_TEST_OBJECTS_DIR;
	if (*dir) {
		test_all_objects(dir, cc);
		test_types_object(dir);
		test_core_object(dir);
	} else {
		printf("SKIP objects: no clang with a BPF target when configured\n");
	}
	test_vmlinux(cc);
	test_malformed();
	test_enum64_and_split(cc);
	test_ext_malformed();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
