/*
 * test_elf.c - the ELF reader (src/loader/elf.c) and the SEC() name table
 * (src/loader/sec_def.c).
 *
 * Theory of operation.  The corpus in tests/objects/ is compiled by the
 * build with the machine's clang; each object is opened and what the
 * reader reports (sections, programs with offsets and sizes, relocations
 * and their targets, maps, data sections, externs, license, version) is
 * compared with what the C source says it must be.  Then malformed
 * objects are made from a valid one by editing single fields in a copy
 * (truncation at every length, out-of-range offsets, overlapping
 * sections, bad string offsets, bad relocations, wrong class, byte
 * order, machine and type), and each must be refused with -EINVAL and a
 * message naming the problem.  Without a clang that targets BPF there is
 * no corpus: the test prints SKIP and exits 77.
 */
#define _GNU_SOURCE /* memmem */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/elf.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

static int failures;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                               \
			failures++;                                                   \
		}                                                                     \
	} while (0)

#define CHECK_STR(a, b)                                                               \
	do {                                                                          \
		const char *a_ = (a), *b_ = (b);                                      \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__,   \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
			failures++;                                                   \
		}                                                                     \
	} while (0)

static char *obj_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s.bpf.o", BEE_TEST_OBJECTS_DIR, name);
	return buf;
}

static struct bee_elf *open_obj(const char *name)
{
	struct bee_error err;
	struct bee_elf *elf = bee_elf_open_file(obj_path(name), &err);
	if (!elf) {
		fprintf(stderr, "%s: refused: %s\n", name, err.msg);
		failures++;
	}
	return elf;
}

static uint8_t *read_obj(const char *name, size_t *size)
{
	FILE *f = fopen(obj_path(name), "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc(n)) || fread(buf, 1, n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", obj_path(name));
		exit(1);
	}
	fclose(f);
	*size = n;
	return buf;
}

static const struct bee_elf_prog_section *psec_by_name(const struct bee_elf *elf,
						       const char *name)
{
	for (size_t i = 0; i < bee_elf_prog_section_count(elf); i++)
		if (strcmp(bee_elf_prog_section(elf, i)->sec->name, name) == 0)
			return bee_elf_prog_section(elf, i);
	return NULL;
}

/* How many relocations of a type against a symbol name the section has. */
static size_t count_relocs(const struct bee_elf_section *s, uint32_t type, const char *sym)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nr_relocs; i++)
		if (s->relocs[i].type == type && (!sym || strcmp(s->relocs[i].sym->name, sym) == 0))
			n++;
	return n;
}

static void check_common(const struct bee_elf *elf)
{
	size_t n;
	CHECK(bee_elf_btf(elf, &n) != NULL && n > 24);
	CHECK(bee_elf_btf_ext(elf, &n) != NULL && n > 8);
	CHECK(bee_elf_section(elf, 0) && bee_elf_section(elf, 0)->kind == BEE_ELF_SEC_OTHER);
	CHECK(bee_elf_section(elf, bee_elf_section_count(elf)) == NULL);
	/* Every program's instructions are inside its section's copy. */
	for (size_t i = 0; i < bee_elf_prog_count(elf); i++) {
		const struct bee_elf_prog *p = bee_elf_prog(elf, i);
		CHECK(p->nr_insns * 8 == p->size && p->offset + p->size <= p->sec->size);
		CHECK(memcmp(p->insns, p->sec->data + p->offset, p->size) == 0);
	}
}

static void test_socket(void)
{
	struct bee_elf *elf = open_obj("socket");
	if (!elf)
		return;
	check_common(elf);
	CHECK_STR(bee_elf_license(elf), "GPL");
	CHECK(!bee_elf_kern_version(elf, NULL));
	CHECK(bee_elf_prog_section_count(elf) == 1);
	CHECK(bee_elf_text(elf) == NULL); /* .text is empty */
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "socket");
	CHECK(ps && ps->def && ps->def->prog_type == BPF_PROG_TYPE_SOCKET_FILTER);
	CHECK(ps && ps->nr_progs == 1 && ps->sec->nr_relocs == 0);
	const struct bee_elf_prog *p = bee_elf_find_prog(elf, "keep_short");
	CHECK(p && p->offset == 0 && p->size == ps->sec->size && p->global && !p->subprog);
	CHECK(p && p->insns[p->nr_insns - 1].code == (BPF_JMP | BPF_EXIT));
	CHECK(bee_elf_map_count(elf) == 0 && bee_elf_extern_count(elf) == 0);
	bee_elf_close(elf);
}

static void test_xdp(void)
{
	struct bee_elf *elf = open_obj("xdp");
	if (!elf)
		return;
	check_common(elf);
	CHECK_STR(bee_elf_license(elf), "Dual BSD/GPL");
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "xdp");
	CHECK(ps && ps->def && ps->def->prog_type == BPF_PROG_TYPE_XDP &&
	      ps->def->attach_type == BPF_XDP);
	CHECK(bee_elf_find_prog(elf, "drop_ipv6") != NULL);
	bee_elf_close(elf);
}

static void test_kprobe(void)
{
	struct bee_elf *elf = open_obj("kprobe");
	uint32_t version = 0;
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_kern_version(elf, &version) && version == 0x60100);
	const struct bee_elf_prog_section *in = psec_by_name(elf, "kprobe/do_sys_open");
	const struct bee_elf_prog_section *out = psec_by_name(elf, "kretprobe/do_sys_open");
	CHECK(in && out && in->def && out->def);
	if (in && out && in->def && out->def) {
		CHECK(in->def->prog_type == BPF_PROG_TYPE_KPROBE && !(in->def->flags & BEE_SEC_RETPROBE));
		CHECK(out->def->prog_type == BPF_PROG_TYPE_KPROBE && (out->def->flags & BEE_SEC_RETPROBE));
		CHECK(count_relocs(in->sec, R_BPF_64_64, "start") == 1);
		CHECK(count_relocs(out->sec, R_BPF_64_64, "start") == 1);
		CHECK(in->nr_progs == 1 && strcmp(in->progs[0].name, "enter_open") == 0);
		/* Every R_BPF_64_64 sits on an ld_imm64. */
		for (size_t i = 0; i < in->sec->nr_relocs; i++)
			CHECK(in->insns[in->sec->relocs[i].offset / 8].code == (BPF_LD | BPF_IMM | BPF_DW));
		struct bee_sec_target t;
		CHECK(bee_sec_target_parse(in->def, in->sec->name, &t, NULL) == 0);
		CHECK_STR(t.func, "do_sys_open");
		bee_sec_target_free(&t);
	}
	CHECK(bee_elf_map_count(elf) == 1);
	const struct bee_elf_map *m = bee_elf_find_map(elf, "start");
	CHECK(m && m->kind == BEE_ELF_MAP_BTF && m->size == 32 && strcmp(m->sec->name, ".maps") == 0);
	bee_elf_close(elf);
}

static void test_tracepoint(void)
{
	struct bee_elf *elf = open_obj("tracepoint");
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_prog_section_count(elf) == 3);
	const struct bee_elf_prog_section *a = psec_by_name(elf, "tracepoint/syscalls/sys_enter_write");
	const struct bee_elf_prog_section *b = psec_by_name(elf, "tp/sched/sched_switch");
	const struct bee_elf_prog_section *c = psec_by_name(elf, "raw_tp/sched_process_exit");
	CHECK(a && a->def && a->def->prog_type == BPF_PROG_TYPE_TRACEPOINT);
	CHECK(b && b->def && b->def->prog_type == BPF_PROG_TYPE_TRACEPOINT);
	CHECK(c && c->def && c->def->prog_type == BPF_PROG_TYPE_RAW_TRACEPOINT);
	if (a && b && c) {
		CHECK(count_relocs(a->sec, R_BPF_64_64, "counts") == 1);
		struct bee_sec_target t;
		CHECK(bee_sec_target_parse(b->def, b->sec->name, &t, NULL) == 0);
		CHECK_STR(t.category, "sched");
		CHECK_STR(t.name, "sched_switch");
		bee_sec_target_free(&t);
		CHECK(bee_sec_target_parse(c->def, c->sec->name, &t, NULL) == 0);
		CHECK_STR(t.func, "sched_process_exit");
		bee_sec_target_free(&t);
	}
	bee_elf_close(elf);
}

static void test_subprog(void)
{
	struct bee_elf *elf = open_obj("subprog");
	if (!elf)
		return;
	check_common(elf);
	const struct bee_elf_prog_section *text = bee_elf_text(elf);
	CHECK(text && text->def == NULL && text->nr_progs == 2);
	const struct bee_elf_prog *sq = bee_elf_find_prog(elf, "square");
	const struct bee_elf_prog *ss = bee_elf_find_prog(elf, "sum_squares");
	CHECK(sq && sq->subprog && !sq->global);
	CHECK(ss && ss->subprog && ss->global);
	if (text && text->nr_progs == 2) {
		CHECK(text->progs[0].offset < text->progs[1].offset);
		CHECK(text->progs[0].offset + text->progs[0].size <= text->progs[1].offset);
	}
	const struct bee_elf_prog_section *sock = psec_by_name(elf, "socket");
	const struct bee_elf_prog_section *xdp = psec_by_name(elf, "xdp");
	CHECK(sock && count_relocs(sock->sec, R_BPF_64_32, "sum_squares") == 1);
	/* The call to the static function goes through .text's section symbol. */
	CHECK(xdp && xdp->sec->nr_relocs == 1 && xdp->sec->relocs[0].type == R_BPF_64_32 &&
	      xdp->sec->relocs[0].sym->type == STT_SECTION &&
	      xdp->sec->relocs[0].sym->shndx == text->sec->index);
	/* .text calls square() pc-relative, without a relocation. */
	CHECK(text && text->sec->nr_relocs == 0);
	bee_elf_close(elf);
}

static void test_globals(void)
{
	struct bee_elf *elf = open_obj("globals");
	if (!elf)
		return;
	check_common(elf);
	const struct bee_elf_section *data = bee_elf_section_by_name(elf, ".data");
	const struct bee_elf_section *ro = bee_elf_section_by_name(elf, ".rodata");
	const struct bee_elf_section *bss = bee_elf_section_by_name(elf, ".bss");
	const struct bee_elf_section *str = bee_elf_section_by_name(elf, ".rodata.str1.1");
	CHECK(data && data->kind == BEE_ELF_SEC_DATA && data->size == 4 && data->data &&
	      data->data[0] == 7);
	CHECK(ro && ro->kind == BEE_ELF_SEC_RODATA);
	CHECK(bss && bss->kind == BEE_ELF_SEC_BSS && bss->data == NULL && bss->size == 16);
	CHECK(str && str->kind == BEE_ELF_SEC_RODATA && str->data &&
	      memmem(str->data, str->size, "a literal string", 17) != NULL);
	CHECK(bee_elf_data_section_count(elf) == 4);
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "tracepoint/syscalls/sys_enter_openat");
	CHECK(ps && ps->sec->nr_relocs == 7);
	if (ps) {
		CHECK(count_relocs(ps->sec, R_BPF_64_64, "counter") == 1);
		CHECK(count_relocs(ps->sec, R_BPF_64_64, "threshold") == 1);
		CHECK(count_relocs(ps->sec, R_BPF_64_64, "hits") == 1);
		CHECK(count_relocs(ps->sec, R_BPF_64_64, "greeting") == 1);
		CHECK(count_relocs(ps->sec, R_BPF_64_64, ".bss") == 1);
		CHECK(count_relocs(ps->sec, R_BPF_64_64, ".rodata") == 2);
	}
	const struct bee_elf_prog_section *text = bee_elf_text(elf);
	CHECK(text && count_relocs(text->sec, R_BPF_64_64, ".rodata.str1.1") == 1);
	const struct bee_elf_prog *said = bee_elf_find_prog(elf, "said");
	CHECK(said && !said->subprog);
	CHECK(said && count_relocs(said->sec, R_BPF_64_32, ".text") == 1);
	bee_elf_close(elf);
}

static void test_maps_btf(void)
{
	static const char *names[] = { "hash_map", "pcpu", "events", "lru", "inner_a", "outer" };
	struct bee_elf *elf = open_obj("maps_btf");
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_map_count(elf) == 6);
	for (size_t i = 0; i < 6; i++) {
		const struct bee_elf_map *m = bee_elf_find_map(elf, names[i]);
		CHECK(m && m->kind == BEE_ELF_MAP_BTF && m->data && m->size >= 16);
	}
	for (size_t i = 1; i < bee_elf_map_count(elf); i++)
		CHECK(bee_elf_map(elf, i - 1)->offset + bee_elf_map(elf, i - 1)->size <=
		      bee_elf_map(elf, i)->offset);
	/* The map-in-map's initial value is a relocation in .maps. */
	const struct bee_elf_section *maps = bee_elf_section_by_name(elf, ".maps");
	const struct bee_elf_map *outer = bee_elf_find_map(elf, "outer");
	CHECK(maps && maps->kind == BEE_ELF_SEC_MAPS && maps->nr_relocs == 1);
	if (maps && outer && maps->nr_relocs == 1) {
		CHECK(maps->relocs[0].type == R_BPF_64_ABS64);
		CHECK_STR(maps->relocs[0].sym->name, "inner_a");
		CHECK(maps->relocs[0].offset >= outer->offset &&
		      maps->relocs[0].offset < outer->offset + outer->size);
	}
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "socket");
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_64, NULL) == 5 &&
	      count_relocs(ps->sec, R_BPF_64_64, "inner_a") == 0);
	bee_elf_close(elf);
}

static void test_maps_legacy(void)
{
	struct bee_elf *elf = open_obj("maps_legacy");
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_map_count(elf) == 2);
	const struct bee_elf_map *p = bee_elf_find_map(elf, "packets");
	const struct bee_elf_map *f = bee_elf_find_map(elf, "flows");
	CHECK(p && p->kind == BEE_ELF_MAP_LEGACY && p->def.type == BPF_MAP_TYPE_ARRAY &&
	      p->def.key_size == 4 && p->def.value_size == 8 && p->def.max_entries == 16 &&
	      p->def.map_flags == 0);
	CHECK(f && f->kind == BEE_ELF_MAP_LEGACY && f->def.type == BPF_MAP_TYPE_HASH &&
	      f->def.key_size == 8 && f->def.value_size == 4 && f->def.max_entries == 1024 &&
	      f->def.map_flags == BPF_F_NO_PREALLOC);
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "socket");
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_64, "packets") == 1 &&
	      count_relocs(ps->sec, R_BPF_64_64, "flows") == 1);
	bee_elf_close(elf);
}

static void test_multi(void)
{
	struct bee_elf *elf = open_obj("multi");
	if (!elf)
		return;
	check_common(elf);
	const struct bee_elf_prog_section *tc = psec_by_name(elf, "tc");
	const struct bee_elf_prog_section *xdp = psec_by_name(elf, "xdp");
	CHECK(tc && tc->nr_progs == 3 && tc->def && tc->def->prog_type == BPF_PROG_TYPE_SCHED_CLS);
	CHECK(xdp && xdp->nr_progs == 2);
	if (tc && tc->nr_progs == 3) {
		CHECK(tc->progs[0].offset == 0);
		for (size_t i = 1; i < 3; i++)
			CHECK(tc->progs[i].offset == tc->progs[i - 1].offset + tc->progs[i - 1].size);
		CHECK(tc->progs[2].offset + tc->progs[2].size == tc->sec->size);
		const struct bee_elf_prog *third = bee_elf_find_prog(elf, "tc_third");
		CHECK(third && !third->global && third->sec == tc->sec);
		CHECK(count_relocs(tc->sec, R_BPF_64_64, "jumps") == 1);
	}
	CHECK(bee_elf_prog_count(elf) == 5);
	bee_elf_close(elf);
}

static void test_externs(void)
{
	struct bee_elf *elf = open_obj("externs");
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_extern_count(elf) == 4);
	bool seen_weak_kconfig = false, seen_kfunc = false;
	for (size_t i = 0; i < bee_elf_extern_count(elf); i++) {
		const struct bee_elf_symbol *s = bee_elf_extern(elf, i);
		CHECK(s->shndx == SHN_UNDEF);
		if (strcmp(s->name, "CONFIG_BPF_SYSCALL") == 0)
			seen_weak_kconfig = s->bind == STB_WEAK;
		if (strcmp(s->name, "bpf_ktime_get_coarse_ns_kfunc") == 0)
			seen_kfunc = s->bind == STB_WEAK;
	}
	CHECK(seen_weak_kconfig && seen_kfunc);
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "kprobe/vfs_read");
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_32, "bpf_ktime_get_coarse_ns_kfunc") == 1);
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_64, "LINUX_KERNEL_VERSION") == 1);
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_64, "bpf_prog_active") == 2);
	bee_elf_close(elf);
}

static void test_sections_obj(void)
{
	struct bee_elf *elf = open_obj("sections");
	if (!elf)
		return;
	check_common(elf);
	CHECK(bee_elf_prog_section_count(elf) == 14);
	for (size_t i = 0; i < bee_elf_prog_section_count(elf); i++) {
		const struct bee_elf_prog_section *ps = bee_elf_prog_section(elf, i);
		CHECK(ps->def != NULL && ps->nr_progs == 1);
		if (!ps->def) {
			fprintf(stderr, "  no definition for '%s'\n", ps->sec->name);
			continue;
		}
		struct bee_sec_target t;
		struct bee_error err;
		CHECK(bee_sec_target_parse(ps->def, ps->sec->name, &t, &err) == 0);
		bee_sec_target_free(&t);
	}
	const struct bee_elf_prog_section *f = psec_by_name(elf, "fexit/do_unlinkat");
	CHECK(f && f->def->prog_type == BPF_PROG_TYPE_TRACING &&
	      f->def->attach_type == BPF_TRACE_FEXIT);
	bee_elf_close(elf);
}

static void test_ringbuf(void)
{
	struct bee_elf *elf = open_obj("ringbuf");
	if (!elf)
		return;
	check_common(elf);
	const struct bee_elf_map *rb = bee_elf_find_map(elf, "rb");
	CHECK(rb && rb->kind == BEE_ELF_MAP_BTF);
	const struct bee_elf_prog_section *ps = psec_by_name(elf, "tp/syscalls/sys_enter_execve");
	CHECK(ps && count_relocs(ps->sec, R_BPF_64_64, "rb") == 1);
	bee_elf_close(elf);
}

/* ---- the SEC() table ---- */

/* The case table names only the fields each case checks. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct sec_case {
	const char *name;
	int prog_type; /* -1: no definition */
	int attach_type;
	const char *func, *path, *category, *tp_name, *provider;
	uint64_t offset;
};

static void test_sec_defs(void)
{
	static const struct sec_case cases[] = {
		{ "socket", BPF_PROG_TYPE_SOCKET_FILTER, 0 },
		{ "kprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0, "do_sys_open" },
		{ "kprobe/tcp_v4_connect+0x10", BPF_PROG_TYPE_KPROBE, 0, "tcp_v4_connect", .offset = 16 },
		{ "kretprobe/vfs_read", BPF_PROG_TYPE_KPROBE, 0, "vfs_read" },
		{ "kprobe", BPF_PROG_TYPE_KPROBE, 0 },
		{ "ksyscall/openat", BPF_PROG_TYPE_KPROBE, 0, "openat" },
		{ "tracepoint/syscalls/sys_enter_write", BPF_PROG_TYPE_TRACEPOINT, 0, .category = "syscalls",
		  .tp_name = "sys_enter_write" },
		{ "tp/sched/sched_switch", BPF_PROG_TYPE_TRACEPOINT, 0, .category = "sched",
		  .tp_name = "sched_switch" },
		{ "raw_tp/sys_enter", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, "sys_enter" },
		{ "raw_tracepoint.w/bpf_test_finish", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0,
		  "bpf_test_finish" },
		{ "tp_btf/sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sched_switch" },
		{ "fentry/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_unlinkat" },
		{ "fexit/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "do_unlinkat" },
		{ "fentry.s/do_unlinkat", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_unlinkat" },
		{ "fmod_ret/bpf_modify_return_test", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN,
		  "bpf_modify_return_test" },
		{ "freplace/handler", BPF_PROG_TYPE_EXT, 0, "handler" },
		{ "lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open" },
		{ "lsm_cgroup/socket_bind", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP, "socket_bind" },
		{ "iter/task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, "task" },
		{ "xdp", BPF_PROG_TYPE_XDP, BPF_XDP },
		{ "xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP },
		{ "xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP },
		{ "xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP },
		{ "tc", BPF_PROG_TYPE_SCHED_CLS, 0 },
		{ "classifier", BPF_PROG_TYPE_SCHED_CLS, 0 },
		{ "action", BPF_PROG_TYPE_SCHED_ACT, 0 },
		{ "tc/ingress", BPF_PROG_TYPE_SCHED_CLS, BEE_BPF_TCX_INGRESS },
		{ "tcx/egress", BPF_PROG_TYPE_SCHED_CLS, BEE_BPF_TCX_EGRESS },
		{ "netkit/peer", BPF_PROG_TYPE_SCHED_CLS, BEE_BPF_NETKIT_PEER },
		{ "uprobe//bin/bash:readline", BPF_PROG_TYPE_KPROBE, 0, "readline", "/bin/bash" },
		{ "uretprobe/libc.so.6:malloc+4", BPF_PROG_TYPE_KPROBE, 0, "malloc", "libc.so.6",
		  .offset = 4 },
		{ "uprobe.s//bin/true:main", BPF_PROG_TYPE_KPROBE, 0, "main", "/bin/true" },
		{ "uprobe.multi//usr/lib/libc.so.6:str*", BPF_PROG_TYPE_KPROBE, BEE_BPF_TRACE_UPROBE_MULTI,
		  "str*", "/usr/lib/libc.so.6" },
		{ "usdt/./app:provider:probe", BPF_PROG_TYPE_KPROBE, 0, .path = "./app",
		  .tp_name = "probe", .provider = "provider" },
		{ "kprobe.multi/vfs_*", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, "vfs_*" },
		{ "kprobe.session/vfs_read", BPF_PROG_TYPE_KPROBE, BEE_BPF_TRACE_KPROBE_SESSION, "vfs_read" },
		{ "perf_event", BPF_PROG_TYPE_PERF_EVENT, 0 },
		{ "syscall", BPF_PROG_TYPE_SYSCALL, 0 },
		{ "cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
		{ "cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS },
		{ "cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0 },
		{ "cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
		{ "cgroup/connect_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BEE_BPF_CGROUP_UNIX_CONNECT },
		{ "cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE },
		{ "cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE },
		{ "cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL },
		{ "cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT },
		{ "sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT },
		{ "sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER },
		{ "sk_skb", BPF_PROG_TYPE_SK_SKB, 0 },
		{ "sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP },
		{ "sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE },
		{ "sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS },
		{ "flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR },
		{ "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0 },
		{ "lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2 },
		{ "struct_ops/test_1", BPF_PROG_TYPE_STRUCT_OPS, 0 },
		{ "struct_ops.s/test_2", BPF_PROG_TYPE_STRUCT_OPS, 0 },
		{ "netfilter", BEE_BPF_PROG_TYPE_NETFILTER, BEE_BPF_NETFILTER },
		/* Not libbpf names. */
		{ "socketx", -1 },
		{ "socket/foo", -1 },
		{ "xdp/foo", -1 },
		{ "kprobes/foo", -1 },
		{ "tcx", -1 },
		{ ".text", -1 },
		{ "", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sec_case *c = &cases[i];
		const struct bee_sec_def *d = bee_sec_def_find(c->name);
		if (c->prog_type < 0) {
			if (d)
				fprintf(stderr, "'%s' should not match (matched '%s')\n", c->name, d->prefix);
			CHECK(d == NULL);
			continue;
		}
		if (!d) {
			fprintf(stderr, "no definition for '%s'\n", c->name);
			failures++;
			continue;
		}
		if ((int)d->prog_type != c->prog_type || (int)d->attach_type != c->attach_type) {
			fprintf(stderr, "'%s': prog type %d attach %d, want %d %d\n", c->name,
				d->prog_type, d->attach_type, c->prog_type, c->attach_type);
			failures++;
		}
		struct bee_sec_target t;
		struct bee_error err;
		if (bee_sec_target_parse(d, c->name, &t, &err)) {
			fprintf(stderr, "'%s': %s\n", c->name, err.msg);
			failures++;
			continue;
		}
		if (c->func)
			CHECK_STR(t.func, c->func);
		if (c->path)
			CHECK_STR(t.path, c->path);
		if (c->category)
			CHECK_STR(t.category, c->category);
		if (c->tp_name)
			CHECK_STR(t.name, c->tp_name);
		if (c->provider)
			CHECK_STR(t.provider, c->provider);
		CHECK(t.offset == c->offset);
		bee_sec_target_free(&t);
	}
	CHECK(bee_sec_def_find(NULL) == NULL);
	CHECK(bee_sec_def_find("fentry.s/x")->flags & BEE_SEC_SLEEPABLE);
	CHECK(bee_sec_def_find("xdp.frags")->flags & BEE_SEC_XDP_FRAGS);
	CHECK(bee_sec_def_find("fentry/x")->flags & BEE_SEC_ATTACH_BTF);

	/* Malformed extras are refused with the reason. */
	static const struct {
		const char *name, *msg;
	} bad[] = {
		{ "kprobe/do_sys_open+x", "not a number" },
		{ "kprobe/do sys", "invalid character" },
		{ "kprobe/+8", "no function name" },
		{ "kprobe/", "empty attach target" },
		{ "tracepoint/syscalls", "<category>/<name>" },
		{ "tp/sched/", "<category>/<name>" },
		{ "uprobe/readline", "<path>:<function>" },
		{ "usdt/./app:provider", "<path>:<provider>:<name>" },
		{ "kprobe.multi/a b", "invalid character in pattern" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bee_sec_target t;
		struct bee_error err;
		const struct bee_sec_def *d = bee_sec_def_find(bad[i].name);
		CHECK(d != NULL);
		if (!d)
			continue;
		int rc = bee_sec_target_parse(d, bad[i].name, &t, &err);
		CHECK(rc == -EINVAL && strstr(err.msg, bad[i].msg) && strstr(err.msg, bad[i].name));
		if (rc != -EINVAL || !strstr(err.msg, bad[i].msg))
			fprintf(stderr, "  '%s': rc %d, '%s'\n", bad[i].name, rc, err.msg);
	}
}

/* ---- malformed objects ---- */

struct raw {
	uint8_t *buf;
	size_t size;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
};

static struct raw raw_copy(const uint8_t *orig, size_t size)
{
	struct raw r = { .buf = malloc(size), .size = size };
	memcpy(r.buf, orig, size);
	r.eh = (Elf64_Ehdr *)r.buf;
	r.sh = (Elf64_Shdr *)(r.buf + r.eh->e_shoff);
	return r;
}

static Elf64_Shdr *raw_sec(struct raw *r, const char *name)
{
	const char *names = (const char *)r->buf + r->sh[r->eh->e_shstrndx].sh_offset;
	for (int i = 0; i < r->eh->e_shnum; i++)
		if (strcmp(names + r->sh[i].sh_name, name) == 0)
			return &r->sh[i];
	fprintf(stderr, "no section %s\n", name);
	exit(1);
}

static Elf64_Sym *raw_sym(struct raw *r, const char *name)
{
	for (int i = 0; i < r->eh->e_shnum; i++) {
		if (r->sh[i].sh_type != SHT_SYMTAB)
			continue;
		Elf64_Sym *syms = (Elf64_Sym *)(r->buf + r->sh[i].sh_offset);
		const char *str = (const char *)r->buf + r->sh[r->sh[i].sh_link].sh_offset;
		for (size_t k = 0; k < r->sh[i].sh_size / sizeof(*syms); k++)
			if (strcmp(str + syms[k].st_name, name) == 0)
				return &syms[k];
	}
	fprintf(stderr, "no symbol %s\n", name);
	exit(1);
}

static Elf64_Rel *raw_rel(struct raw *r, const char *relsec, size_t i)
{
	return (Elf64_Rel *)(r->buf + raw_sec(r, relsec)->sh_offset) + i;
}

/* The edited copy must be refused with -EINVAL and a message containing want. */
static void expect_refused(struct raw *r, const char *what, const char *want, const char *want2)
{
	struct bee_error err;
	struct bee_elf *elf = bee_elf_open_mem(r->buf, r->size, &err);

	if (elf) {
		fprintf(stderr, "%s: accepted\n", what);
		failures++;
		bee_elf_close(elf);
	} else if (err.code != -EINVAL || !strstr(err.msg, want) || (want2 && !strstr(err.msg, want2))) {
		fprintf(stderr, "%s: code %d message '%s', want '%s'%s%s\n", what, err.code, err.msg,
			want, want2 ? " and " : "", want2 ? want2 : "");
		failures++;
	}
	free(r->buf);
}

static void test_malformed(void)
{
	size_t size;
	uint8_t *orig = read_obj("subprog", &size);
	struct bee_error err;
	struct raw r;

	/* The untouched copy loads (the edits below are what break it). */
	struct bee_elf *ok = bee_elf_open_mem(orig, size, &err);
	CHECK(ok != NULL);
	bee_elf_close(ok);

	/* Truncated at every length: the section header table is at the end. */
	for (size_t len = 0; len < size; len++) {
		struct bee_elf *elf = bee_elf_open_mem(orig, len, &err);
		if (elf || err.code != -EINVAL || !err.msg[0]) {
			fprintf(stderr, "truncated to %zu: %s\n", len, elf ? "accepted" : err.msg);
			failures++;
			bee_elf_close(elf);
			break;
		}
	}
	CHECK(bee_elf_open_mem(orig, 10, &err) == NULL && strstr(err.msg, "ELF"));
	CHECK(bee_elf_open_mem(orig, 40, &err) == NULL && strstr(err.msg, "truncated ELF header"));

	r = raw_copy(orig, size);
	r.buf[0] = 0x7e;
	expect_refused(&r, "bad magic", "bad magic", NULL);
	r = raw_copy(orig, size);
	r.buf[EI_CLASS] = ELFCLASS32;
	expect_refused(&r, "ELFCLASS32", "ELFCLASS64", NULL);
	r = raw_copy(orig, size);
	r.buf[EI_DATA] = ELFDATA2MSB;
	expect_refused(&r, "big-endian", "little-endian", NULL);
	r = raw_copy(orig, size);
	r.eh->e_machine = EM_X86_64;
	expect_refused(&r, "x86-64 machine", "EM_BPF", NULL);
	r = raw_copy(orig, size);
	r.eh->e_type = ET_EXEC;
	expect_refused(&r, "ET_EXEC", "ET_REL", NULL);
	r = raw_copy(orig, size);
	r.eh->e_shentsize = 40;
	expect_refused(&r, "section header entry size", "section header entry size", NULL);

	r = raw_copy(orig, size);
	r.eh->e_shoff = size;
	expect_refused(&r, "e_shoff past the end", "section header table", "past the end");
	r = raw_copy(orig, size);
	r.eh->e_shoff = UINT64_MAX - 8;
	expect_refused(&r, "e_shoff near 2^64", "section header table", "past the end");
	r = raw_copy(orig, size);
	r.eh->e_shnum = 0xffff;
	expect_refused(&r, "too many sections", "section header table", "past the end");
	r = raw_copy(orig, size);
	r.eh->e_shstrndx = r.eh->e_shnum + 3;
	expect_refused(&r, "shstrndx out of range", "section name table index", NULL);

	r = raw_copy(orig, size);
	raw_sec(&r, "xdp")->sh_offset = size;
	expect_refused(&r, "section offset past the end", "contents", "past the end of the file");
	r = raw_copy(orig, size);
	raw_sec(&r, "xdp")->sh_size = UINT64_MAX - 0x80;
	expect_refused(&r, "section size wraps", "contents", "past the end of the file");

	r = raw_copy(orig, size);
	raw_sec(&r, "xdp")->sh_offset = raw_sec(&r, "socket")->sh_offset + 8;
	expect_refused(&r, "overlapping program sections", "overlapping sections", NULL);
	r = raw_copy(orig, size);
	raw_sec(&r, "license")->sh_offset = 0x20;
	expect_refused(&r, "section over the ELF header", "overlapping sections", "ELF header");
	r = raw_copy(orig, size);
	raw_sec(&r, ".symtab")->sh_offset = r.eh->e_shoff + 64;
	raw_sec(&r, ".symtab")->sh_size = 24;
	expect_refused(&r, "section over the header table", "overlapping sections",
		       "section header table");

	r = raw_copy(orig, size);
	raw_sec(&r, "xdp")->sh_name = 0xfffffff;
	expect_refused(&r, "section name offset", "name offset", "section name table");
	r = raw_copy(orig, size);
	raw_sym(&r, "prog_a")->st_name = 0x7ffffff;
	expect_refused(&r, "symbol name offset", "symbol", "name offset");
	r = raw_copy(orig, size);
	{ /* a string table whose last string runs off its end */
		Elf64_Shdr *st = raw_sec(&r, ".strtab");
		r.buf[st->sh_offset + st->sh_size - 1] = 'x';
		expect_refused(&r, "unterminated string table", "not NUL-terminated", NULL);
	}

	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_offset = 0x1000;
	expect_refused(&r, "relocation offset past its section", "relocation 0 of 'socket'",
		       "past the end of the section");
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_offset = raw_sec(&r, "socket")->sh_size - 4;
	expect_refused(&r, "relocation straddling the end", "relocation 0 of 'socket'",
		       "past the end of the section");
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_info = ELF64_R_INFO(100000, R_BPF_64_32);
	expect_refused(&r, "relocation symbol index", "symbol index 100000", "out of range");
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_info = ELF64_R_INFO(2, 77);
	expect_refused(&r, "relocation type", "unknown type 77", NULL);
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_offset = 0;
	expect_refused(&r, "call relocation on a non-call", "not on a call", "sum_squares");
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_offset = 3;
	expect_refused(&r, "unaligned code relocation", "not on an instruction boundary", NULL);
	r = raw_copy(orig, size);
	raw_rel(&r, ".relsocket", 0)->r_info =
		ELF64_R_INFO(ELF64_R_SYM(raw_rel(&r, ".relsocket", 0)->r_info), R_BPF_64_64);
	expect_refused(&r, "ld_imm64 relocation on a call", "not on an ld_imm64", NULL);
	r = raw_copy(orig, size);
	raw_sec(&r, ".relsocket")->sh_info = 999;
	expect_refused(&r, "relocation target index", "target section index 999", NULL);
	r = raw_copy(orig, size);
	raw_sec(&r, ".relxdp")->sh_info = raw_sec(&r, ".relsocket")->sh_info;
	expect_refused(&r, "two relocation sections for one target", "already has relocations",
		       NULL);
	r = raw_copy(orig, size);
	raw_sec(&r, ".relsocket")->sh_entsize = 24;
	expect_refused(&r, "relocation entry size", "entry size 24", NULL);

	r = raw_copy(orig, size);
	raw_sym(&r, "prog_a")->st_shndx = 0xfe00;
	expect_refused(&r, "symbol section index", "prog_a", "section index");
	r = raw_copy(orig, size);
	raw_sym(&r, "prog_a")->st_size = 0x1000;
	expect_refused(&r, "symbol past its section", "prog_a", "past the end of section 'socket'");
	r = raw_copy(orig, size);
	raw_sym(&r, "square")->st_value = raw_sym(&r, "sum_squares")->st_value + 8;
	expect_refused(&r, "overlapping functions", "overlap in section '.text'", NULL);
	r = raw_copy(orig, size);
	raw_sym(&r, "prog_a")->st_size = 12;
	expect_refused(&r, "function not whole instructions", "prog_a", "whole instructions");
	r = raw_copy(orig, size);
	raw_sec(&r, "socket")->sh_size = 0x1c;
	raw_sym(&r, "prog_a")->st_size = 0x18;
	expect_refused(&r, "program section not whole instructions", "'socket'",
		       "not a multiple of 8");
	r = raw_copy(orig, size);
	raw_sec(&r, ".symtab")->sh_entsize = 16;
	expect_refused(&r, "symbol entry size", "symbol table", "entry size");
	r = raw_copy(orig, size);
	raw_sec(&r, ".symtab")->sh_link = 0;
	expect_refused(&r, "symbol string table link", "string table link", NULL);

	r = raw_copy(orig, size);
	memcpy(r.buf + raw_sec(&r, "license")->sh_offset, "GPLX", 4);
	expect_refused(&r, "unterminated license", "license", "not NUL-terminated");
	r = raw_copy(orig, size);
	raw_sec(&r, ".text")->sh_type = SHT_NOBITS;
	expect_refused(&r, "NOBITS code", "'.text'", "NOBITS");

	/* An unreadable path names itself. */
	CHECK(bee_elf_open_file("/nonexistent/x.o", &err) == NULL && err.code == -ENOENT &&
	      strstr(err.msg, "/nonexistent/x.o"));
	free(orig);
}

int main(void)
{
	test_sec_defs();
	if (!BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang with the BPF target: the BPF test objects were not built\n");
		return failures ? 1 : 77;
	}
	test_socket();
	test_xdp();
	test_kprobe();
	test_tracepoint();
	test_subprog();
	test_globals();
	test_maps_btf();
	test_maps_legacy();
	test_multi();
	test_externs();
	test_sections_obj();
	test_ringbuf();
	test_malformed();
	if (failures) {
		fprintf(stderr, "test_elf: %d failures\n", failures);
		return 1;
	}
	printf("test_elf: ok\n");
	return 0;
}
