/*
 * prog.c - `bee prog`: bpftool's prog commands on a bee instance.
 *
 * Theory of operation.  Every command runs on tool_bee()'s instance, which
 * has opened every pin of the pin directory, so programs loaded and pinned
 * by earlier invocations are there, under the ids they had.  A PROG is
 * named as bpftool names it: `id N`, `pinned PATH`, `name NAME` or
 * `tag TAG` (name and tag may match several programs: show and dump take
 * them all, the others the first).  What is printed comes from
 * BPF_OBJ_GET_INFO_BY_FD, as bpftool reads it from the kernel: show in
 * bpftool's layout, dump xlated through the disassembler with a hook that
 * prints map references as the kernel does (map[id:N], map[id:N][0]+OFF),
 * dump jited through Capstone on the JIT's image; both print the source
 * line of each line_info record ("; <line>", with linum its file, line and
 * column) before the instructions it covers, and bpftool's signature line
 * before each function of func_info ("int f(struct __sk_buff * skb):", in
 * dump jited where the line_info record of its first instruction lands),
 * with the strings and types from the program's BTF (fetched by id, as
 * bpftool does).  load goes through the
 * object API (open, load into this instance, pin).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/object.h"
#include "bee_tool.h"
#include "isa/disasm.h"
#include "btf/btf.h"
#include "btf_value.h"

static void prog_help(FILE *out)
{
	fprintf(out,
		"Usage: bee [OPTIONS] prog { show | list } [PROG]\n"
		"       bee [OPTIONS] prog dump xlated PROG [opcodes] [linum]\n"
		"       bee [OPTIONS] prog dump jited PROG [linum]\n"
		"       bee [OPTIONS] prog pin PROG FILE\n"
		"       bee [OPTIONS] prog { load | loadall } OBJ PATH [type TYPE] [pinmaps DIR]\n"
		"       bee [OPTIONS] prog run PROG data_in FILE [data_out FILE] [data_size_out L]\n"
		"                     [ctx_in FILE] [ctx_out FILE] [ctx_size_out M] [repeat N]\n"
		"       bee prog help\n"
		"\n"
		"       PROG := { id PROG_ID | pinned FILE | tag PROG_TAG | name PROG_NAME }\n"
		"       TYPE := { socket | socket_filter | kprobe | tracepoint | xdp | tc |\n"
		"                 sched_cls | sched_act | raw_tracepoint | ... (bpftool's names) }\n"
		"       OPTIONS := { -j|--json [-p|--pretty] | --pin-dir DIR | --engine {jit|interp} }\n"
		"\n"
		"State lives in the pin directory (--pin-dir, $BEE_PIN_DIR, or\n"
		"/tmp/bee-pins-$UID): what one invocation pins, the next one sees.\n"
		"FILE paths may be /sys/fs/bpf/X, a path inside the pin directory, or relative to it.\n"
		"load opens OBJ (a clang -target bpf object), loads it, pins its first program at\n"
		"PATH and, with pinmaps, its maps under DIR by name; loadall pins every program\n"
		"under PATH by name.  run prints \"Return value: R, duration (average): Dns\";\n"
		"FILE \"-\" is standard input (data_in) or standard output as hex (data_out).\n");
}

/* ---- PROG ---- */

/* Parse PROG at argv[0..]; fds (malloc'd, *n of them) of every match.
 * Returns the number of words used, or -1 after printing an error. */
static int prog_parse(int argc, char **argv, int **fds, size_t *n)
{
	struct bee *bee = tool_bee();
	*fds = NULL;
	*n = 0;
	if (!bee)
		return -1;
	if (argc < 2) {
		tool_err("expected PROG: id ID, pinned FILE, tag TAG or name NAME");
		return -1;
	}
	int *v = malloc(sizeof(int) * 64);
	if (!v)
		return -1;
	size_t cnt = 0;
	if (tool_is_prefix(argv[0], "id")) {
		uint32_t id;
		if (tool_parse_u32(argv[1], "id", &id)) {
			free(v);
			return -1;
		}
		int fd = bee_prog_get_fd_by_id(bee, id);
		if (fd < 0) {
			tool_err("get by id (%u): %s", id, strerror(-fd));
			free(v);
			return -1;
		}
		v[cnt++] = fd;
	} else if (tool_is_prefix(argv[0], "pinned")) {
		int fd = bee_obj_get(bee, argv[1]);
		if (fd < 0) {
			tool_pin_err("bpf obj get", argv[1], fd);
			free(v);
			return -1;
		}
		if (tool_fd_kind(bee, fd) != TOOL_FD_PROG) {
			tool_err("%s: not a program", argv[1]);
			bee_close(bee, fd);
			free(v);
			return -1;
		}
		v[cnt++] = fd;
	} else if (tool_is_prefix(argv[0], "name") || tool_is_prefix(argv[0], "tag")) {
		bool by_name = tool_is_prefix(argv[0], "name");
		uint32_t id = 0;
		while (cnt < 64 && bee_prog_get_next_id(bee, id, &id) == 0) {
			int fd = bee_prog_get_fd_by_id(bee, id);
			if (fd < 0)
				continue;
			struct bpf_prog_info info = {0};
			uint32_t len = sizeof(info);
			char tag[17];
			bee_obj_get_info_by_fd(bee, fd, &info, &len);
			for (int i = 0; i < 8; i++)
				snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
			if (by_name ? !strncmp(info.name, argv[1], sizeof(info.name))
				    : !strcmp(tag, argv[1]))
				v[cnt++] = fd;
			else
				bee_close(bee, fd);
		}
		if (!cnt) {
			tool_err("no program with %s %s", by_name ? "name" : "tag", argv[1]);
			free(v);
			return -1;
		}
	} else {
		tool_err("expected 'id', 'pinned', 'tag' or 'name', got '%s'", argv[0]);
		free(v);
		return -1;
	}
	*fds = v;
	*n = cnt;
	return 2;
}

/* ---- show ---- */

static void format_time(uint64_t boot_ns, char *buf, size_t len, time_t *wall)
{
	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	int64_t now_boot = (int64_t)bt.tv_sec * 1000000000 + bt.tv_nsec;
	*wall = rt.tv_sec - (time_t)((now_boot - (int64_t)boot_ns) / 1000000000);
	struct tm tm;
	localtime_r(wall, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static int show_prog(struct bee *bee, int fd)
{
	struct bpf_prog_info info = {0};
	uint32_t map_ids[64];
	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	uint32_t len = sizeof(info);
	int err = bee_obj_get_info_by_fd(bee, fd, &info, &len);
	if (err < 0) {
		tool_err("can't get prog info: %s", strerror(-err));
		return -1;
	}
	uint32_t nmaps = info.nr_map_ids < 64 ? info.nr_map_ids : 64;
	char id[24], type[48], name[48], tag[17], tagp[32], loaded[64], when[40], uid[24];
	char xl[32], jit[40], mem[32], maps[400] = "";
	snprintf(id, sizeof(id), "%u: ", info.id);
	snprintf(type, sizeof(type), "%s  ", tool_prog_type_name(info.type));
	char pname[BPF_OBJ_NAME_LEN + 1] = {0};
	memcpy(pname, info.name, BPF_OBJ_NAME_LEN);
	snprintf(name, sizeof(name), "name %s  ", pname);
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	snprintf(tagp, sizeof(tagp), "tag %s", tag);
	time_t wall;
	format_time(info.load_time, when, sizeof(when), &wall);
	snprintf(loaded, sizeof(loaded), "\n\tloaded_at %s", when);
	snprintf(uid, sizeof(uid), "  uid %u", info.created_by_uid);
	snprintf(xl, sizeof(xl), "\n\txlated %uB", info.xlated_prog_len);
	if (info.jited_prog_len)
		snprintf(jit, sizeof(jit), "  jited %uB", info.jited_prog_len);
	else
		snprintf(jit, sizeof(jit), "  not jited");
	uint64_t memlock = ((uint64_t)info.xlated_prog_len + 4095) / 4096 * 4096;
	if (!memlock)
		memlock = 4096;
	snprintf(mem, sizeof(mem), "  memlock %" PRIu64 "B", memlock);
	if (nmaps) {
		size_t o = (size_t)snprintf(maps, sizeof(maps), "  map_ids ");
		for (uint32_t i = 0; i < nmaps && o < sizeof(maps); i++)
			o += (size_t)snprintf(maps + o, sizeof(maps) - o, "%s%u", i ? "," : "",
					      map_ids[i]);
	}
	char runs[64] = "";
	if (info.run_cnt)
		snprintf(runs, sizeof(runs), " run_time_ns %llu run_cnt %llu",
			 (unsigned long long)info.run_time_ns, (unsigned long long)info.run_cnt);
	struct tool_field f[] = {
		{"id", TF_UINT, .u = info.id, .plain = id},
		{"type", TF_STR, .s = tool_prog_type_name(info.type), .plain = type},
		{"name", TF_STR, .s = pname, .plain = name},
		{"tag", TF_STR, .s = tag, .plain = tagp},
		{"gpl_compatible", TF_BOOL, .u = info.gpl_compatible,
		 .plain = info.gpl_compatible ? "  gpl" : NULL},
		{info.run_cnt ? "run_time_ns" : NULL, TF_UINT, .u = info.run_time_ns, .plain = runs},
		{info.run_cnt ? "run_cnt" : NULL, TF_UINT, .u = info.run_cnt},
		{"loaded_at", TF_INT, .u = (uint64_t)wall, .plain = loaded},
		{"uid", TF_UINT, .u = info.created_by_uid, .plain = uid},
		{"bytes_xlated", TF_UINT, .u = info.xlated_prog_len, .plain = xl},
		{"jited", TF_BOOL, .u = info.jited_prog_len != 0, .plain = jit},
		{info.jited_prog_len ? "bytes_jited" : NULL, TF_UINT, .u = info.jited_prog_len},
		{"bytes_memlock", TF_UINT, .u = memlock, .plain = mem},
		{nmaps ? "map_ids" : NULL, TF_UINTS, .v = map_ids, .nv = nmaps, .plain = maps},
	};
	tool_print_fields(f, sizeof(f) / sizeof(f[0]));
	return 0;
}

static int do_show(int argc, char **argv)
{
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	int *fds = NULL;
	size_t n = 0;
	if (argc > 0) {
		int used = prog_parse(argc, argv, &fds, &n);
		if (used < 0)
			return 1;
		if (argc > used) {
			tool_err("prog show: unexpected '%s'", argv[used]);
			free(fds);
			return 2;
		}
	}
	int status = 0;
	if (tool_g.json && (!fds || n > 1))
		jw_start_array();
	if (fds) {
		for (size_t i = 0; i < n; i++)
			status |= show_prog(bee, fds[i]) ? 1 : 0;
	} else {
		uint32_t id = 0;
		while (bee_prog_get_next_id(bee, id, &id) == 0) {
			int fd = bee_prog_get_fd_by_id(bee, id);
			if (fd < 0)
				continue;
			status |= show_prog(bee, fd) ? 1 : 0;
			bee_close(bee, fd);
		}
	}
	if (tool_g.json && (!fds || n > 1))
		jw_end_array();
	free(fds);
	return status;
}

/* ---- dump ---- */

/* ---- source lines: line_info and the program's BTF ---- */

struct linfo {
	struct bee_btf_data *btf;
	struct bpf_line_info *recs;
	uint32_t n;
	uint32_t nr_skip; /* records already printed */
	bool linum;
	uint64_t *jited;  /* dump jited: each record's offset in the image */
	/* func_info: a signature line before each function (bpftool's
	 * "int f(struct __sk_buff * skb):") */
	struct bpf_func_info *funcs;
	uint32_t nfuncs;
	uint32_t next_func;  /* functions already announced */
	uint64_t *func_jited; /* dump jited: each function's offset in the image (~0: unknown) */
};

/* The program's line_info and BTF, when it has them (else li->n is 0). */
static void linfo_open(struct bee *bee, int fd, const struct bpf_prog_info *info, bool linum,
		       struct linfo *li)
{
	memset(li, 0, sizeof(*li));
	li->linum = linum;
	if (!info->btf_id || (!info->nr_line_info && !info->nr_func_info))
		return;
	if (!(li->btf = tool_btf_by_id(bee, info->btf_id)))
		return;
	/* func_info and line_info in one query */
	uint32_t nf = info->nr_func_info, n = info->nr_line_info;
	struct bpf_func_info *f = calloc(nf ? nf : 1, sizeof(*f));
	struct bpf_line_info *recs = calloc(n ? n : 1, sizeof(*recs));
	struct bpf_prog_info q = {0};
	q.nr_func_info = nf;
	q.func_info_rec_size = sizeof(*f);
	q.func_info = (uint64_t)(uintptr_t)f;
	q.nr_line_info = n;
	q.line_info_rec_size = sizeof(*recs);
	q.line_info = (uint64_t)(uintptr_t)recs;
	uint32_t len = sizeof(q);
	if (!f || !recs || bee_obj_get_info_by_fd(bee, fd, &q, &len) < 0 ||
	    q.nr_func_info < nf || q.nr_line_info < n) {
		free(f);
		free(recs);
		return;
	}
	li->funcs = f;
	li->nfuncs = nf;
	li->recs = recs;
	li->n = n;
}

static void linfo_close(struct linfo *li)
{
	bee_btf_free(li->btf);
	free(li->recs);
	free(li->jited);
	free(li->funcs);
	free(li->func_jited);
	memset(li, 0, sizeof(*li));
}

/*
 * bpftool's function signature line, before the first instruction of
 * each function (at: an instruction index, or an image offset for dump
 * jited): "SIG:" in plain text, a "proto" member in JSON.
 */
static void finfo_print(struct linfo *li, uint64_t at)
{
	while (li->next_func < li->nfuncs) {
		uint32_t i = li->next_func;
		uint64_t start = li->func_jited ? li->func_jited[i] : li->funcs[i].insn_off;
		if (start == ~UINT64_C(0)) { /* where it starts is unknown: no line */
			li->next_func++;
			continue;
		}
		if (start > at)
			return;
		li->next_func++;
		char sig[1024];
		if (!tool_btf_func_sig(li->btf, li->funcs[i].type_id, sig, sizeof(sig)))
			continue;
		if (tool_g.json) {
			jw_key("proto");
			jw_string(sig);
		} else {
			printf("%s:\n", sig);
		}
	}
}

/* Where record i starts: its instruction, or its native offset (jited). */
static uint64_t linfo_key(const struct linfo *li, uint32_t i)
{
	return li->jited ? li->jited[i] : li->recs[i].insn_off;
}

/* libbpf's bpf_prog_linfo__lfind (__lfind_addr_func for jited): the last
 * record at or before at, past the nr_skip already printed; NULL when
 * none starts here. */
static const struct bpf_line_info *linfo_find(const struct linfo *li, uint64_t at)
{
	if (li->nr_skip >= li->n || at < linfo_key(li, li->nr_skip))
		return NULL;
	uint32_t i = li->nr_skip;
	while (i + 1 < li->n && linfo_key(li, i + 1) <= at)
		i++;
	return &li->recs[i];
}

/* bpftool's btf_dump_linfo_plain / _json for the record at at, if any. */
static void linfo_print(struct linfo *li, uint64_t at, const char *prefix)
{
	const struct bpf_line_info *r = linfo_find(li, at);
	if (!r)
		return;
	li->nr_skip++;
	const char *line = bee_btf_str(li->btf, r->line_off);
	const char *file = li->linum ? bee_btf_str(li->btf, r->file_name_off) : NULL;
	unsigned num = BPF_LINE_INFO_LINE_NUM(r->line_col), col = BPF_LINE_INFO_LINE_COL(r->line_col);
	if (line)
		while (isspace((unsigned char)*line))
			line++;
	if (tool_g.json) {
		if (line) {
			jw_key("src");
			jw_string(line);
		}
		if (li->linum) {
			if (file) {
				jw_key("file");
				jw_string(file);
			}
			if (num) {
				jw_key("line_num");
				jw_int(num);
			}
			if (col) {
				jw_key("line_col");
				jw_int(col);
			}
		}
		return;
	}
	if (!line)
		return;
	if (li->linum)
		printf("%s%s [file:%s line_num:%u line_col:%u]\n", prefix, line, file ? file : "",
		       num, col);
	else
		printf("%s%s\n", prefix, line);
}


static bool xlated_lddw(void *cookie, const struct bee_dinsn *d, size_t pc, char *buf, size_t len)
{
	(void)cookie, (void)pc;
	uint32_t lo = (uint32_t)d->imm64, hi = (uint32_t)(d->imm64 >> 32);
	if (d->src == BPF_PSEUDO_MAP_FD)
		snprintf(buf, len, "map[id:%u]", lo);
	else if (d->src == BPF_PSEUDO_MAP_VALUE)
		snprintf(buf, len, "map[id:%u][0]+%u", lo, hi);
	else
		return false;
	return true;
}

static int dump_xlated(struct bee *bee, int fd, bool opcodes, bool linum)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int err = bee_obj_get_info_by_fd(bee, fd, &info, &len);
	if (err < 0 || !info.xlated_prog_len) {
		tool_err("can't get prog info: %s", strerror(err < 0 ? -err : EINVAL));
		return 1;
	}
	struct linfo li;
	linfo_open(bee, fd, &info, linum, &li);
	uint32_t bytes = info.xlated_prog_len;
	struct bpf_insn *insns = malloc(bytes);
	if (!insns) {
		linfo_close(&li);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = bytes;
	info.xlated_prog_insns = (uint64_t)(uintptr_t)insns;
	len = sizeof(info);
	bee_obj_get_info_by_fd(bee, fd, &info, &len);
	size_t n = bytes / sizeof(*insns);
	struct bee_disasm_hooks hooks = {.lddw_operand = xlated_lddw};
	if (tool_g.json)
		jw_start_array();
	for (size_t pc = 0; pc < n;) {
		char text[256];
		struct bee_error e;
		bee_error_clear(&e);
		int slots = bee_disasm_insn_hooked(insns, n, pc, BEE_SYNTAX_C, &hooks, text,
						   sizeof(text), &e);
		if (slots <= 0) {
			snprintf(text, sizeof(text), "<invalid insn 0x%02x>", insns[pc].code);
			slots = 1;
		}
		size_t tl = strlen(text);
		if (slots == 2 && tl > 3 && !strcmp(text + tl - 3, " ll"))
			text[tl - 3] = 0; /* the kernel prints lddw without "ll" */
		if (tool_g.json) {
			jw_start_object();
			finfo_print(&li, pc);
			linfo_print(&li, (uint32_t)pc, "; ");
			/* bpftool's "disasm": the opcode, then the text, as in plain */
			char line[300];
			snprintf(line, sizeof(line), "(%02x) %s", insns[pc].code, text);
			jw_key("disasm");
			jw_string(line);
			if (opcodes) {
				jw_key("opcodes");
				jw_hex_bytes((const uint8_t *)&insns[pc], 8 * (size_t)slots);
			}
			jw_end_object();
		} else {
			finfo_print(&li, pc);
			linfo_print(&li, (uint32_t)pc, "; ");
			printf("%4zu: (%02x) %s\n", pc, insns[pc].code, text);
			if (opcodes) {
				printf("       ");
				tool_hex(stdout, (const uint8_t *)&insns[pc], 8 * (size_t)slots);
				printf("\n");
			}
		}
		pc += (size_t)slots;
	}
	if (tool_g.json)
		jw_end_array();
	free(insns);
	linfo_close(&li);
	return 0;
}

static void jited_line(void *ctx, uint64_t off)
{
	finfo_print(ctx, off);
	linfo_print(ctx, off, "; ");
}

/* The image offsets of the line_info records (jited_line_info less the
 * image's address), so that dump jited can print the source lines. */
static void linfo_jited(struct bee *bee, int fd, struct linfo *li)
{
	if (!li->n) {
		li->nfuncs = 0; /* no function offsets without line_info either */
		return;
	}
	uint64_t *addrs = calloc(li->n, sizeof(*addrs));
	uint64_t ksym = 0;
	struct bpf_prog_info q = {0};
	q.nr_jited_line_info = li->n;
	q.jited_line_info_rec_size = sizeof(*addrs);
	q.jited_line_info = (uint64_t)(uintptr_t)addrs;
	q.nr_jited_ksyms = 1;
	q.jited_ksyms = (uint64_t)(uintptr_t)&ksym;
	uint32_t len = sizeof(q);
	if (!addrs || bee_obj_get_info_by_fd(bee, fd, &q, &len) < 0 || q.nr_jited_line_info != li->n) {
		free(addrs);
		li->n = 0; /* no source lines then */
		li->nfuncs = 0;
		return;
	}
	for (uint32_t i = 0; i < li->n; i++)
		addrs[i] -= ksym;
	li->jited = addrs;
	/* A function starts where the line_info record of its first
	 * instruction does (the kernel requires one there, check_btf_line). */
	if (li->nfuncs && (li->func_jited = calloc(li->nfuncs, sizeof(uint64_t)))) {
		for (uint32_t f = 0; f < li->nfuncs; f++) {
			li->func_jited[f] = ~UINT64_C(0);
			for (uint32_t i = 0; i < li->n; i++)
				if (li->recs[i].insn_off == li->funcs[f].insn_off) {
					li->func_jited[f] = addrs[i];
					break;
				}
		}
	} else {
		li->nfuncs = 0;
	}
}

static int dump_jited(struct bee *bee, int fd, bool linum)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int err = bee_obj_get_info_by_fd(bee, fd, &info, &len);
	if (err < 0) {
		tool_err("can't get prog info: %s", strerror(-err));
		return 1;
	}
	if (!info.jited_prog_len) {
		printf("no instructions returned\n");
		return 0;
	}
	uint32_t bytes = info.jited_prog_len;
	uint8_t *image = malloc(bytes);
	if (!image)
		return 1;
	struct linfo li;
	linfo_open(bee, fd, &info, linum, &li);
	linfo_jited(bee, fd, &li);
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = bytes;
	info.jited_prog_insns = (uint64_t)(uintptr_t)image;
	len = sizeof(info);
	bee_obj_get_info_by_fd(bee, fd, &info, &len);
	size_t n = bytes < info.jited_prog_len ? bytes : info.jited_prog_len;
	int status = (li.n || li.nfuncs) && !tool_g.json
			     ? tool_print_native_image_hooked(image, n, jited_line, &li)
			     : tool_print_native_image(image, n);
	linfo_close(&li);
	free(image);
	return status;
}

static int do_dump(int argc, char **argv)
{
	if (argc < 1) {
		tool_err("prog dump: expected 'xlated' or 'jited'");
		return 2;
	}
	bool jited;
	if (tool_is_prefix(argv[0], "xlated"))
		jited = false;
	else if (tool_is_prefix(argv[0], "jited"))
		jited = true;
	else {
		tool_err("prog dump: expected 'xlated' or 'jited', got '%s'", argv[0]);
		return 2;
	}
	int *fds;
	size_t n;
	int used = prog_parse(argc - 1, argv + 1, &fds, &n);
	if (used < 0)
		return 1;
	bool opcodes = false, linum = false;
	for (int i = 1 + used; i < argc; i++) {
		if (tool_is_prefix(argv[i], "opcodes"))
			opcodes = true;
		else if (tool_is_prefix(argv[i], "linum"))
			linum = true;
		else if (tool_is_prefix(argv[i], "visual"))
			; /* no control-flow graph yet: accepted and ignored */
		else {
			tool_err("prog dump: unexpected '%s'", argv[i]);
			free(fds);
			return 2;
		}
	}
	int status = 0;
	for (size_t i = 0; i < n; i++)
		status |= jited ? dump_jited(tool_g.bee, fds[i], linum)
				: dump_xlated(tool_g.bee, fds[i], opcodes, linum);
	free(fds);
	return status;
}

/* ---- pin ---- */

static int do_pin(int argc, char **argv)
{
	int *fds;
	size_t n;
	int used = prog_parse(argc, argv, &fds, &n);
	if (used < 0)
		return 1;
	if (argc != used + 1) {
		tool_err("prog pin: expected PROG FILE");
		free(fds);
		return 2;
	}
	int rc = tool_pin(fds[0], argv[used]);
	free(fds);
	return rc;
}

/* ---- load ---- */

static int load(int argc, char **argv, bool all)
{
	if (argc < 2) {
		tool_err("prog %s: expected OBJ PATH", all ? "loadall" : "load");
		return 2;
	}
	const char *file = argv[0], *path = argv[1], *pinmaps = NULL;
	bool autoattach = false;
	int type = -1;
	for (int i = 2; i < argc; i++) {
		if (tool_is_prefix(argv[i], "type") && i + 1 < argc) {
			type = tool_prog_type_parse(argv[++i]);
			if (type < 0) {
				tool_err("unknown program type '%s'", argv[i]);
				return 2;
			}
		} else if (tool_is_prefix(argv[i], "pinmaps") && i + 1 < argc) {
			pinmaps = argv[++i];
		} else if (tool_is_prefix(argv[i], "autoattach")) {
			autoattach = true;
		} else {
			tool_err("prog load: unexpected '%s'", argv[i]);
			return 2;
		}
	}
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	struct bee_error err;
	bee_error_clear(&err);
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(file, &oo);
	if (!obj) {
		char msg[512];
		tool_err("%s", bee_error_format(&err, NULL, msg, sizeof(msg)));
		return 1;
	}
	if (type >= 0)
		for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
		     p = bee_object_next_program(obj, p))
			bee_program_set_type(p, (enum bpf_prog_type)type);
	struct bee_target target = bee_target_of(bee);
	int status = 1;
	if (bee_object_load(obj, &target) < 0) {
		tool_err("%s: failed to load object: %s", file, bee_object_error(obj));
		goto out;
	}
	if (pinmaps) {
		for (struct bee_object_map *m = bee_object_next_map(obj, NULL); m;
		     m = bee_object_next_map(obj, m)) {
			char mp[4096];
			snprintf(mp, sizeof(mp), "%s/%s", pinmaps, bee_object_map_name(m));
			/* libbpf's sanitize_pin_path (bpf_object__pin_maps): every
			 * '.' of the path becomes '_' (maps/obj_bss for .bss) */
			for (char *c = mp; *c; c++)
				if (*c == '.')
					*c = '_';
			int e = bee_obj_pin(bee, bee_object_map_fd(m), mp);
			if (e < 0) {
				tool_err("failed to pin map %s at %s: %s", bee_object_map_name(m), mp,
					 strerror(-e));
				goto out;
			}
		}
	}
	bool any = false;
	for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
	     p = bee_object_next_program(obj, p)) {
		if (bee_program_fd(p) < 0)
			continue;
		char pp[4096];
		if (all)
			snprintf(pp, sizeof(pp), "%s/%s", path, bee_program_name(p));
		else
			snprintf(pp, sizeof(pp), "%s", path);
		if (autoattach) {
			/* bpftool: attach, pin the link instead of the program (a
			 * link that cannot be pinned fails the load, as there); a
			 * program that cannot attach is pinned as it is */
			struct bee_link *l = bee_program_attach(p);
			int le = l ? bee_link_pin(l, pp) : -errno;
			if (!l)
				fprintf(stderr, "Warning: %s: not attached (%s); pinning the program\n",
					bee_program_name(p), bee_object_error(obj));
			else if (le < 0)
				tool_err("failed to pin the link of %s (hook '%s') at %s: %s",
					 bee_program_name(p), bee_link_hook(l), pp, strerror(-le));
			bee_link_destroy(l);
			if (l && le < 0)
				goto out;
			if (l) {
				any = true;
				if (!all)
					break;
				continue;
			}
		}
		int e = bee_obj_pin(bee, bee_program_fd(p), pp);
		if (e < 0) {
			tool_err("failed to pin program %s at %s: %s", bee_program_name(p), pp,
				 strerror(-e));
			goto out;
		}
		any = true;
		if (!all)
			break;
	}
	if (!any) {
		tool_err("%s: no program loaded", file);
		goto out;
	}
	if (tool_g.json)
		jw_null(); /* as bpftool */
	status = 0;
out:
	bee_object_close(obj);
	return status;
}

static int do_load(int argc, char **argv)
{
	return load(argc, argv, false);
}

static int do_loadall(int argc, char **argv)
{
	return load(argc, argv, true);
}

/* ---- run ---- */

static int read_input(const char *path, void **out, uint32_t *len)
{
	char *buf;
	size_t n;
	if (tool_read_file(path, &buf, &n))
		return -1;
	if (n > UINT32_MAX / 2) {
		tool_err("%s: too large", path);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (uint32_t)n;
	return 0;
}

static int write_output(const char *path, const void *p, uint32_t n)
{
	if (!strcmp(path, "-")) {
		tool_hex(stdout, p, n);
		printf("\n");
		return 0;
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		tool_err("%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int do_run(int argc, char **argv)
{
	int *fds;
	size_t n;
	int used = prog_parse(argc, argv, &fds, &n);
	if (used < 0)
		return 1;
	int fd = fds[0];
	free(fds);
	const char *data_in = NULL, *data_out = NULL, *ctx_in = NULL, *ctx_out = NULL;
	uint32_t data_size_out = 0, ctx_size_out = 0, repeat = 1;
	for (int i = used; i < argc; i++) {
		if (i + 1 >= argc) {
			tool_err("prog run: '%s' needs an argument", argv[i]);
			return 2;
		}
		const char *k = argv[i], *v = argv[++i];
		if (!strcmp(k, "data_in"))
			data_in = v;
		else if (!strcmp(k, "data_out"))
			data_out = v;
		else if (!strcmp(k, "ctx_in"))
			ctx_in = v;
		else if (!strcmp(k, "ctx_out"))
			ctx_out = v;
		else if (!strcmp(k, "data_size_out")) {
			if (tool_parse_u32(v, k, &data_size_out))
				return 2;
		} else if (!strcmp(k, "ctx_size_out")) {
			if (tool_parse_u32(v, k, &ctx_size_out))
				return 2;
		} else if (!strcmp(k, "repeat")) {
			if (tool_parse_u32(v, k, &repeat))
				return 2;
		} else {
			tool_err("prog run: unexpected '%s'", k);
			return 2;
		}
	}
	struct bee_test_run_opts o = {.sz = sizeof(o), .repeat = (int)(repeat ? repeat : 1)};
	void *din = NULL, *cin = NULL, *dout = NULL, *cout = NULL;
	int status = 1;
	if (data_in && read_input(data_in, &din, &o.data_size_in))
		goto out;
	if (ctx_in && read_input(ctx_in, &cin, &o.ctx_size_in))
		goto out;
	o.data_in = din;
	o.ctx_in = cin;
	if (data_out) {
		o.data_size_out = data_size_out ? data_size_out : o.data_size_in + 256;
		dout = calloc(1, o.data_size_out ? o.data_size_out : 1);
		o.data_out = dout;
	}
	if (ctx_out) {
		o.ctx_size_out = ctx_size_out ? ctx_size_out : o.ctx_size_in + 256;
		cout = calloc(1, o.ctx_size_out ? o.ctx_size_out : 1);
		o.ctx_out = cout;
	}
	int err = bee_prog_test_run(tool_g.bee, fd, &o);
	if (err < 0) {
		const struct bee_error *re = bee_last_run_error();
		char msg[512];
		if (re && re->code)
			tool_err("failed to run program: %s", bee_error_format(re, NULL, msg, sizeof(msg)));
		else
			tool_err("failed to run program: %s", strerror(-err));
		goto out;
	}
	if (data_out && write_output(data_out, dout, o.data_size_out))
		goto out;
	if (ctx_out && write_output(ctx_out, cout, o.ctx_size_out))
		goto out;
	if (tool_g.json) {
		jw_start_object();
		jw_key("retval");
		jw_uint(o.retval);
		jw_key("duration");
		jw_uint(o.duration);
		jw_end_object();
	} else {
		printf("Return value: %u, duration%s: %uns\n", o.retval, o.repeat > 1 ? " (average)" : "",
		       o.duration);
	}
	status = 0;
out:
	free(din);
	free(cin);
	free(dout);
	free(cout);
	return status;
}

static const struct tool_cmd prog_cmds[] = {
	{"show", do_show},     {"list", do_show},    {"dump", do_dump},
	{"pin", do_pin},       {"load", do_load},    {"loadall", do_loadall},
	{"run", do_run},       {NULL, NULL},
};

int cmd_prog(int argc, char **argv)
{
	return tool_dispatch(prog_cmds, argc - 1, argv + 1, "prog", prog_help);
}
