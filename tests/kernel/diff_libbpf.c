/*
 * diff_libbpf.c - bee's object loader against libbpf, instruction for
 * instruction, with the kernel as the judge.
 *
 * Theory of operation.  Every clang-built object of the test corpus is
 * loaded three times:
 *
 *   L. by libbpf into the kernel (bpf_object__open_file + __load); after
 *      the load, bpf_program__insns() are the instructions libbpf gave
 *      BPF_PROG_LOAD: relocated, subprograms appended, map fds in lddw;
 *   K. by bee's loader into the kernel, through a target that records the
 *      instructions of every successful BPF_PROG_LOAD;
 *   B. by bee's loader into a bee instance (the user-space target), whose
 *      xlated dump (BPF_OBJ_GET_INFO_BY_FD) is what `bee prog dump xlated`
 *      prints.
 *
 * and, per program, three comparisons must hold exactly, with map
 * references (fds in L and K, ids in the xlated dumps) replaced by the
 * map's name, the only thing that names the same map across loads:
 *
 *   1. L's instructions == K's instructions: bee relocates as libbpf does
 *      (maps, global data, string literals, subprogram layout, callbacks,
 *      CO-RE against the kernel's BTF, externs);
 *   2. the kernel's xlated code of L == of K (the same input through the
 *      same verifier gives the same output; a cross-check of 1 that needs
 *      no trust in libbpf's insns accessor);
 *   3. B's xlated == K's instructions: what bee runs and dumps is exactly
 *      what its loader produced, the same instructions libbpf would give
 *      the kernel.  Where the kernel's verifier then rewrites (context
 *      offsets to its own structs, helper addresses, inlined lookups), the
 *      kernel's xlated differs from both by those rewrites only, which
 *      kernel/diff_objects classifies.
 *
 * Where the kernel refuses an object both loaders relocated, comparison 1
 * is still made for the programs both submitted (map names unknown for
 * libbpf, which closed its maps: any map matches there).
 *
 * Objects the two loaders must both refuse or both take; an object only
 * one of them takes is a failure unless listed in `known` with the reason.
 * Comparison 3 is skipped, with the reason printed, for programs whose
 * relocation depends on the target by design (kernel symbols); CO-RE on
 * bee's target is resolved against the kernel's BTF (btf_custom_path
 * /sys/kernel/btf/vmlinux) so that it relocates as the kernel's.
 *
 * Exits 0 when everything agrees, 1 on a difference, 77 (SKIP, with the
 * reason) without bpf(), libbpf or the clang-built objects.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bee/bee.h"
#include "bee/object.h"

#include "kbpf.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

#define MAX_INSNS 8192
#define MAX_LOADS 64

static char libbpf_msgs[16384]; /* what libbpf said while loading this object */

static int failures, programs, same_relocation, same_xlated, same_bee, both_refused;
static int refused_programs, refused_same, refused_known;

/* Objects one loader takes and the other refuses, and programs the two
 * relocate differently, on purpose. */
static const struct {
	const char *object, *why;
} known[] = {
	{"maps_legacy", "legacy `maps` section: libbpf >= 1.0 dropped it, bee keeps it (the kernel "
			"takes the maps; kernel/diff_objects compares them)"},
	{"c_map_legacy", "legacy `maps` section, as maps_legacy"},
	{"multi", "a static function as a program: libbpf >= 1.0 refuses it, bee loads it"},
	/* a program (only the kernel refuses its object) */
	{"read_externs", "an unresolved weak kfunc: libbpf 1.1 leaves `call kfunc 0`, bee poisons "
			 "the call as newer libbpf does (helper call 2002000000 + extern index)"},
	{NULL, NULL},
};

/* Objects whose CO-RE relocations name local types: both loaders resolve
 * them against the BTF of a second object (in the same directory), as
 * their own tests do, instead of the kernel's. */
static const struct {
	const char *object, *target;
} core_targets[] = {
	{"core", "core_v2.bpf.o"},
	{"core_local", "core_target.bpf.o"},
	{"c_core_moved", "c_core_moved_target.bpf.o"},
	{"c_core_identity", "c_core_identity.bpf.o"},
	{"btf_core", "btf_core.bpf.o"},
	{NULL, NULL},
};

/* Objects whose kconfig externs the host gives (both loaders take the
 * same newline-separated CONFIG_X=value lines). */
static const struct {
	const char *object, *kconfig;
} kconfigs[] = {
	{"c_kconfig", "CONFIG_BEE_NUM=42\nCONFIG_BEE_ON=y\nCONFIG_BEE_MOD=m\nCONFIG_BEE_STR=\"hi\"\n"
		      "CONFIG_BEE_LETTER=m\n"},
	{"c_bad_kconfig_type", "CONFIG_BEE_COUNT=m\n"},
	{NULL, NULL},
};

static const char *known_reason(const char *object)
{
	for (int i = 0; known[i].object; i++)
		if (!strcmp(known[i].object, object))
			return known[i].why;
	return NULL;
}

/* ---- K: the kernel target, recording what bee's loader submits ---- */

struct load_rec {
	char name[BPF_OBJ_NAME_LEN];
	long ret; /* the kernel's answer: an fd, or -errno */
	struct bpf_insn *insns;
	uint32_t n;
};

struct recorder {
	struct load_rec rec[MAX_LOADS];
	int n;
};

static long rec_bpf(void *ctx, int cmd, union bpf_attr *attr, unsigned size)
{
	struct recorder *r = ctx;
	long ret = kbpf_target_bpf(NULL, cmd, attr, size);
	if (cmd != BPF_PROG_LOAD || r->n == MAX_LOADS)
		return ret;
	struct load_rec *l = &r->rec[r->n++];
	l->ret = ret;
	memcpy(l->name, attr->prog_name, sizeof(l->name));
	l->name[sizeof(l->name) - 1] = 0;
	l->n = attr->insn_cnt;
	l->insns = malloc(l->n * sizeof(struct bpf_insn));
	if (l->insns)
		memcpy(l->insns, (const void *)(uintptr_t)attr->insns, l->n * sizeof(struct bpf_insn));
	return ret;
}

static void recorder_free(struct recorder *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->rec[i].insns);
	r->n = 0;
}

/* The last load of a program named name (truncated as the kernel's
 * prog_name is), successful or not as ok says. */
static const struct load_rec *recorded(const struct recorder *r, const char *name, bool ok)
{
	for (int i = r->n - 1; i >= 0; i--)
		if (!strncmp(r->rec[i].name, name, BPF_OBJ_NAME_LEN - 1) &&
		    (r->rec[i].ret >= 0) == ok)
			return &r->rec[i];
	return NULL;
}

/* ---- naming maps across loads ---- */

static int kernel_map_name(int fd, char *out)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	if (kbpf_obj_info(fd, &info, sizeof(info)))
		return -1;
	memcpy(out, info.name, BPF_OBJ_NAME_LEN);
	return 0;
}

static int kernel_map_name_by_id(uint32_t id, char *out)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	long fd = kbpf_target_bpf(NULL, BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0)
		return -1;
	int r = kernel_map_name((int)fd, out);
	close((int)fd);
	return r;
}

static int bee_map_name_by_id(struct bee *b, uint32_t id, char *out)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_id = id;
	int fd = (int)bee_bpf(b, BPF_MAP_GET_FD_BY_ID, &a, sizeof(a));
	if (fd < 0)
		return -1;
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	int r = bee_obj_get_info_by_fd(b, fd, &info, &len);
	bee_close(b, fd);
	if (r)
		return -1;
	memcpy(out, info.name, BPF_OBJ_NAME_LEN);
	return 0;
}

/* How the map references of one instruction stream are written. */
enum refs { REFS_KERNEL_FD, REFS_KERNEL_ID, REFS_BEE_ID, REFS_CLOSED };

/*
 * A printable, comparable form of insn i: map references by name, the
 * address a callback's lddw holds after the kernel's JIT left out.
 */
static void canon(const struct bpf_insn *in, uint32_t i, enum refs refs, struct bee *b,
		  char *out, size_t len)
{
	const struct bpf_insn *x = &in[i];
	if (i > 0 && in[i - 1].code == (BPF_LD | BPF_IMM | BPF_DW)) {
		bool func = in[i - 1].src_reg == BPF_PSEUDO_FUNC;
		snprintf(out, len, "(lddw hi) off %d imm %d", x->off, func ? 0 : x->imm);
		return;
	}
	if (x->code == (BPF_LD | BPF_IMM | BPF_DW) &&
	    (x->src_reg == BPF_PSEUDO_MAP_FD || x->src_reg == BPF_PSEUDO_MAP_VALUE)) {
		char name[BPF_OBJ_NAME_LEN] = "?";
		int r = refs == REFS_CLOSED      ? -1
			: refs == REFS_KERNEL_FD ? kernel_map_name(x->imm, name)
			: refs == REFS_KERNEL_ID ? kernel_map_name_by_id((uint32_t)x->imm, name)
						 : bee_map_name_by_id(b, (uint32_t)x->imm, name);
		if (r) /* a map libbpf closed after a failed load: any name matches */
			snprintf(name, sizeof(name), "?");
		snprintf(out, len, "%02x r%u src %u off %d map %s", x->code, x->dst_reg,
			 x->src_reg, x->off, name);
		return;
	}
	if (x->code == (BPF_LD | BPF_IMM | BPF_DW) && x->src_reg == BPF_PSEUDO_FUNC &&
	    refs == REFS_KERNEL_ID) {
		snprintf(out, len, "%02x r%u src %u off %d (callback address)", x->code, x->dst_reg,
			 x->src_reg, x->off);
		return;
	}
	snprintf(out, len, "%02x r%u r%u off %d imm %d", x->code, x->dst_reg, x->src_reg, x->off,
		 x->imm);
}

/* Compare two instruction streams; print the first difference. */
static bool same_code(const char *what, const char *prog, const struct bpf_insn *a, uint32_t an,
		      enum refs ar, const struct bpf_insn *b, uint32_t bn, enum refs br,
		      struct bee *bee)
{
	uint32_t n = an < bn ? an : bn;
	for (uint32_t i = 0; i < n; i++) {
		char x[96], y[96];
		canon(a, i, ar, bee, x, sizeof(x));
		canon(b, i, br, bee, y, sizeof(y));
		char *mx = strstr(x, " map "), *my = strstr(y, " map ");
		if (mx && my && (!strcmp(mx, " map ?") || !strcmp(my, " map ?")))
			*mx = *my = 0;
		if (strcmp(x, y)) {
			printf("  %-16s %s: differ at insn %u: [%s] vs [%s]\n", prog, what, i, x, y);
			return false;
		}
	}
	if (an != bn) {
		printf("  %-16s %s: lengths differ: %u vs %u\n", prog, what, an, bn);
		return false;
	}
	return true;
}

/* The xlated code of fd in the kernel (b == NULL) or in bee instance b. */
static int xlated(struct bee *b, int fd, struct bpf_insn *out, uint32_t *n)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = *n * sizeof(*out);
	info.xlated_prog_insns = (uint64_t)(uintptr_t)out;
	uint32_t len = sizeof(info);
	int err = b ? bee_obj_get_info_by_fd(b, fd, &info, &len) : kbpf_obj_info(fd, &info, len);
	if (err)
		return err;
	if (info.xlated_prog_len > *n * sizeof(*out))
		return -E2BIG;
	*n = info.xlated_prog_len / sizeof(*out);
	return 0;
}

/* Why bee's own target relocates prog differently from the kernel's, or
 * NULL when it must not. */
static const char *target_dependent(const struct bpf_insn *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (k[i].code == (BPF_LD | BPF_IMM | BPF_DW) && k[i].src_reg == BPF_PSEUDO_BTF_ID)
			return "kernel symbol (ksym) resolved against vmlinux";
	return NULL;
}

/* ---- one object ---- */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	size_t used = strlen(libbpf_msgs);
	if (used + 1 < sizeof(libbpf_msgs))
		vsnprintf(libbpf_msgs + used, sizeof(libbpf_msgs) - used, fmt, ap);
	return 0;
}

static const char *last_line(const char *s)
{
	static char line[256];
	size_t n = strlen(s);
	while (n && s[n - 1] == '\n')
		n--;
	size_t start = n;
	while (start && s[start - 1] != '\n')
		start--;
	snprintf(line, sizeof(line), "%.*s", (int)(n - start), s + start);
	return line;
}

/*
 * Both loaders relocated, the kernel refused: the instructions each gave
 * it are still compared, for every program bee's loader submitted.
 */
static void compare_refused(struct bpf_object *lo, const struct recorder *rec)
{
	struct bpf_program *lp;
	bpf_object__for_each_program(lp, lo) {
		const char *pname = bpf_program__name(lp);
		const struct load_rec *k = recorded(rec, pname, false);
		char reached[128];
		snprintf(reached, sizeof(reached), "prog '%s': BPF program load failed", pname);
		if (!k || !k->insns || !strstr(libbpf_msgs, reached))
			continue; /* one of the loaders stopped before the kernel */
		refused_programs++;
		bool ok = same_code("libbpf vs bee relocation", pname, bpf_program__insns(lp),
				    (uint32_t)bpf_program__insn_cnt(lp), REFS_CLOSED, k->insns,
				    k->n, REFS_KERNEL_FD, NULL);
		const char *why = known_reason(pname);
		if (!ok && why) {
			printf("  %-16s known: %s\n", pname, why);
			refused_known++;
		} else if (ok) {
			printf("  %-16s relocated identically (%u insns; refused by the kernel)\n",
			       pname, k->n);
			refused_same++;
		} else {
			failures++;
		}
	}
}

static void diff_object(struct bee *bee, const char *dir, const char *file)
{
	char path[4096], name[256];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - strlen(".bpf.o")), file);

	char target_btf[4096] = "";
	for (int i = 0; core_targets[i].object; i++)
		if (!strcmp(core_targets[i].object, name))
			snprintf(target_btf, sizeof(target_btf), "%s/%s", dir, core_targets[i].target);

	const char *kconfig = NULL;
	for (int i = 0; kconfigs[i].object; i++)
		if (!strcmp(kconfigs[i].object, name))
			kconfig = kconfigs[i].kconfig;

	libbpf_msgs[0] = 0;
	LIBBPF_OPTS(bpf_object_open_opts, lopts, .btf_custom_path = target_btf[0] ? target_btf : NULL,
		    .kconfig = kconfig);
	struct bpf_object *lo = bpf_object__open_file(path, &lopts);
	int lerr = libbpf_get_error(lo);
	if (lerr)
		lo = NULL;
	else
		lerr = bpf_object__load(lo);

	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o), .err = &err,
					 .btf_custom_path = target_btf[0] ? target_btf : NULL,
					 .kconfig = kconfig};
	struct recorder rec = {.n = 0};
	struct bee_target kt = bee_target_kernel();
	kt.bpf = rec_bpf;
	kt.ctx = &rec;
	struct bee_object *ko = bee_object_open_file(path, &o);
	int kerr = ko ? bee_object_load(ko, &kt) : -1;
	const char *kwhy = ko ? bee_object_error(ko) : err.msg;

	if (lerr || kerr) {
		const char *why = known_reason(name);
		if (lerr && kerr) {
			printf("%s: both refuse (libbpf: %s; bee: %.200s)\n", name,
			       last_line(libbpf_msgs), kwhy);
			both_refused++;
			if (lo)
				compare_refused(lo, &rec);
		} else if (why) {
			printf("%s: only %s refuses, known: %s\n", name, lerr ? "libbpf" : "bee", why);
		} else {
			printf("%s: only %s refuses: %.300s\n", name, lerr ? "libbpf" : "bee",
			       lerr ? last_line(libbpf_msgs) : kwhy);
			failures++;
		}
		goto out;
	}

	/* CO-RE on bee's target against the kernel's BTF, as on the kernel's */
	struct bee_object_open_opts uo = o;
	if (!target_btf[0] && !access("/sys/kernel/btf/vmlinux", R_OK))
		uo.btf_custom_path = "/sys/kernel/btf/vmlinux";
	struct bee_object *bo = bee_object_open_file(path, &uo);
	struct bee_target bt = bee_target_of(bee);
	int berr = bo ? bee_object_load(bo, &bt) : -1;
	printf("%s:%s%.200s\n", name, berr ? " bee's own target refuses: " : "",
	       berr ? (bo ? bee_object_error(bo) : err.msg) : "");

	struct bpf_program *lp;
	bpf_object__for_each_program(lp, lo) {
		const char *pname = bpf_program__name(lp);
		if (!bpf_program__autoload(lp) || bpf_program__fd(lp) < 0)
			continue;
		programs++;
		const struct load_rec *k = recorded(&rec, pname, true);
		if (!k || !k->insns) {
			printf("  %-16s bee's loader did not load it into the kernel\n", pname);
			failures++;
			continue;
		}
		/* 1. relocation */
		bool ok = same_code("libbpf vs bee relocation", pname, bpf_program__insns(lp),
				    (uint32_t)bpf_program__insn_cnt(lp), REFS_KERNEL_FD, k->insns,
				    k->n, REFS_KERNEL_FD, NULL);
		same_relocation += ok;
		/* 2. the kernel's xlated code of both */
		static struct bpf_insn lx[MAX_INSNS], kx[MAX_INSNS], bx[MAX_INSNS];
		uint32_t ln = MAX_INSNS, kn = MAX_INSNS, bn = MAX_INSNS;
		struct bee_program *kp = bee_object_find_program_by_name(ko, pname);
		if (!kp || xlated(NULL, bpf_program__fd(lp), lx, &ln) ||
		    xlated(NULL, bee_program_fd(kp), kx, &kn)) {
			printf("  %-16s kernel xlated code not readable\n", pname);
			ok = false;
		} else {
			bool x = same_code("kernel xlated, libbpf vs bee", pname, lx, ln,
					   REFS_KERNEL_ID, kx, kn, REFS_KERNEL_ID, NULL);
			same_xlated += x;
			ok &= x;
		}
		/* 3. bee's own xlated against what its loader gave the kernel */
		struct bee_program *bp = bo && !berr ? bee_object_find_program_by_name(bo, pname)
						    : NULL;
		const char *dep = target_dependent(k->insns, k->n);
		if (dep) {
			printf("  %-16s bee target: not compared (%s)\n", pname, dep);
		} else if (!bp || bee_program_fd(bp) < 0) {
			printf("  %-16s bee's own target did not load it\n", pname);
			ok = false;
		} else if (xlated(bee, bee_program_fd(bp), bx, &bn)) {
			printf("  %-16s bee xlated code not readable\n", pname);
			ok = false;
		} else {
			bool x = same_code("bee xlated vs kernel load", pname, bx, bn, REFS_BEE_ID,
					   k->insns, k->n, REFS_KERNEL_FD, bee);
			same_bee += x;
			ok &= x;
		}
		if (ok)
			printf("  %-16s identical (%u insns relocated, %u xlated by the kernel)\n",
			       pname, k->n, kn);
		else
			failures++;
	}
	bee_object_close(bo);
out:
	bpf_object__close(lo);
	bee_object_close(ko);
	recorder_free(&rec);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_object(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 6 && !strcmp(d->d_name + n - 6, ".bpf.o");
}

/* Every object in dir, in name order; returns how many. */
static int diff_dir(struct bee *bee, const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, is_object, by_name);
	if (n < 0) {
		printf("%s: %s\n", dir, strerror(errno));
		failures++;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		diff_object(bee, dir, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return n;
}

/* diff_libbpf [DIR...]: the objects in each DIR (default: the test corpus). */
int main(int argc, char **argv)
{
	char why[256];
	if (argc < 2 && !BEE_TEST_OBJECTS_DIR[0]) {
		printf("SKIP: no clang with a BPF target, no test objects\n");
		return 77;
	}
	if (kbpf_probe(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	libbpf_set_print(libbpf_print);
	char pins[] = "/tmp/bee-diff-libbpf-XXXXXX";
	if (!mkdtemp(pins))
		return 1;
	struct bee_opts bo = {.sz = sizeof(bo), .pin_dir = pins};
	struct bee *bee = bee_new(&bo);
	if (!bee)
		return 1;
	int n = 0;
	if (argc < 2)
		n = diff_dir(bee, BEE_TEST_OBJECTS_DIR);
	for (int i = 1; i < argc; i++)
		n += diff_dir(bee, argv[i]);
	bee_free(bee);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pins);
	if (system(cmd))
		printf("warning: could not remove %s\n", pins);
	if (!n) {
		printf("SKIP: no objects\n");
		return 77;
	}
	if (!programs) {
		printf("no program loaded by both loaders: nothing was compared\n");
		failures++;
	}
	printf("%d objects, %d refused by both; %d programs loaded: %d relocated identically, "
	       "%d with identical kernel xlated code, %d with bee's xlated equal to its kernel "
	       "load; %d programs the kernel refused: %d relocated identically, %d known "
	       "differences; %d failures\n",
	       n, both_refused, programs, same_relocation, same_xlated, same_bee,
	       refused_programs, refused_same, refused_known, failures);
	return failures ? 1 : 0;
}
