/*
 * kernel_oracle.c - the verifier corpus (tests/verifier/NAME.vdata) against a
 * verdict source.
 *
 * Every test of the corpus is a small program with a program type, the maps
 * it uses and a label: accept, or reject with a substring of the verifier's
 * message.  This runner parses the corpus, assembles each program with
 * bee_asm, and asks a verdict source ("target") whether it accepts it.  The
 * only target today is the kernel (BPF_PROG_LOAD at log_level 1, maps
 * created with BPF_MAP_CREATE and passed through fd_array so that the
 * programs' map[idx:N] need no patching); bee's own verifier becomes a
 * second row of the targets table.
 *
 *   kernel_oracle [--target NAME] [--verbose] [--log NAME] [FILE_OR_DIR...]
 *
 * Exit status: 0 when every test agrees with its label, 1 on any
 * disagreement or corpus error, 77 (SKIP) when the target is unavailable
 * (no bpf() here).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "bee/error.h"
#include "bee/insn.h"
#include "bee/progtype.h"
#include "bee/vm.h"
#include "core/core.h"
#include "verify/verify.h"

#include "kbpf.h"
#include "vdata.h"

#define MAX_MAPS VDATA_MAX_MAPS
#define LOG_SIZE (4u << 20)

/* ---- verdict sources -------------------------------------------------------- */

enum verdict {
	V_ACCEPT,
	V_REJECT,
	V_UNSUPPORTED, /* the target does not offer this program type or map */
};

/*
 * A verdict source.  probe says whether the target can run at all (0, or a
 * negative errno with a reason in why).  verify decides one program:
 * V_ACCEPT or V_REJECT with the verifier's log in log (NUL-terminated; a
 * refusal without a log carries at least "errno=-N (NAME)"), or
 * V_UNSUPPORTED when the program cannot be judged here (the log says why).
 */
struct target {
	const char *name;
	int (*probe)(char *why, size_t len);
	enum verdict (*verify)(const struct vtest *t, const struct bpf_insn *insns, size_t n,
			       char *log, size_t log_len);
};


struct kbtf {
	int fd; /* BPF_BTF_LOAD'ed blob, or -1 */
	struct bpf_func_info info[64];
	unsigned n;
};

static long kernel_load(enum bpf_prog_type type, const struct vtest *t, const struct bpf_insn *insns,
			size_t n, const int *fds, const struct kbtf *btf, char *log, size_t log_len)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	if (btf && btf->fd >= 0) {
		a.prog_btf_fd = (uint32_t)btf->fd;
		a.func_info_rec_size = sizeof(struct bpf_func_info);
		a.func_info = (uint64_t)(uintptr_t)btf->info;
		a.func_info_cnt = btf->n;
	}
	a.prog_type = type;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	if (t) {
		a.prog_flags = t->prog_flags;
		if (t->has_attach_type)
			a.expected_attach_type = t->attach_type;
	}
	if (type == BPF_PROG_TYPE_SYSCALL)
		a.prog_flags |= BPF_F_SLEEPABLE;
	a.fd_array = (uint64_t)(uintptr_t)fds;
	if (log && log_len) {
		log[0] = '\0';
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)log_len;
		a.log_level = 1;
	}
	return kbpf_target_bpf(NULL, BPF_PROG_LOAD, &a, sizeof(a));
}

/*
 * BTF for a program's subprograms: the types int, "int (void)" and one
 * static FUNC "fN" per subprogram start (instruction 0, the targets of
 * local calls and of lddw subprog[...] callbacks), loaded with BPF_BTF_LOAD;
 * func_info maps each start to its FUNC.  Targets out of range are left
 * out so that the verifier reports them itself.
 */
static int kernel_make_btf(const struct bpf_insn *insns, size_t n, struct kbtf *out)
{
	bool *start = calloc(n ? n : 1, sizeof(bool));
	if (!start)
		return -ENOMEM;
	start[0] = true;
	for (size_t i = 0; i < n; i++) {
		bool call = insns[i].code == (BPF_JMP | BPF_CALL) && insns[i].src_reg == BPF_PSEUDO_CALL;
		bool func = insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
			    insns[i].src_reg == BPF_PSEUDO_FUNC;
		if (call || func) {
			long target = (long)i + 1 + insns[i].imm;
			if (target >= 0 && (size_t)target < n)
				start[target] = true;
		}
	}
	uint32_t types[3 + 4 + 64 * 3];
	char strs[8 + 64 * 8];
	unsigned nt = 0, ns = 0;
	strs[ns++] = '\0';
	memcpy(strs + ns, "int", 4);
	types[nt++] = ns; /* [1] int */
	ns += 4;
	types[nt++] = (uint32_t)BTF_KIND_INT << 24;
	types[nt++] = 4;
	types[nt++] = (1u << 24) | 32; /* BTF_INT_SIGNED, 32 bits */
	types[nt++] = 0; /* [2] int (void) */
	types[nt++] = (uint32_t)BTF_KIND_FUNC_PROTO << 24;
	types[nt++] = 1;
	out->n = 0;
	for (size_t i = 0; i < n && out->n < 64; i++) {
		if (!start[i])
			continue;
		types[nt++] = ns; /* [3 + k] FUNC fk, static, of type [2] */
		ns += (unsigned)sprintf(strs + ns, "f%u", out->n) + 1;
		types[nt++] = (uint32_t)BTF_KIND_FUNC << 24;
		types[nt++] = 2;
		out->info[out->n].insn_off = (uint32_t)i;
		out->info[out->n].type_id = 3 + out->n;
		out->n++;
	}
	free(start);
	struct btf_header h = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(h),
		.type_off = 0,
		.type_len = nt * 4,
		.str_off = nt * 4,
		.str_len = ns,
	};
	size_t size = sizeof(h) + nt * 4 + ns;
	uint8_t *blob = malloc(size);
	if (!blob)
		return -ENOMEM;
	memcpy(blob, &h, sizeof(h));
	memcpy(blob + sizeof(h), types, nt * 4);
	memcpy(blob + sizeof(h) + nt * 4, strs, ns);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)blob;
	a.btf_size = (uint32_t)size;
	long fd = kbpf_target_bpf(NULL, BPF_BTF_LOAD, &a, sizeof(a));
	free(blob);
	out->fd = fd < 0 ? -1 : (int)fd;
	return fd < 0 ? (int)fd : 0;
}

static int kernel_probe(char *why, size_t len)
{
	static const struct bpf_insn ret0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	long fd = kernel_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, ret0, 2, NULL, NULL, NULL, 0);
	if (fd < 0) {
		snprintf(why, len, "bpf(BPF_PROG_LOAD) not permitted: %s", strerror((int)-fd));
		return (int)fd;
	}
	close((int)fd);
	return 0;
}

/* Which program types this kernel offers, probed once each. */
static int type_state[64]; /* 0 unknown, 1 offered, -1 not offered */

static bool kernel_offers(enum bpf_prog_type type)
{
	if ((unsigned)type >= 64)
		return false;
	if (!type_state[type]) {
		static const struct bpf_insn ret0[] = {
			{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
			{.code = BPF_JMP | BPF_EXIT},
		};
		long fd = kernel_load(type, NULL, ret0, 2, NULL, NULL, NULL, 0);
		type_state[type] = fd >= 0 ? 1 : -1;
		if (fd >= 0)
			close((int)fd);
	}
	return type_state[type] > 0;
}

static enum verdict kernel_verify(const struct vtest *t, const struct bpf_insn *insns, size_t n,
				  char *log, size_t log_len)
{
	if (!kernel_offers(t->prog_type)) {
		snprintf(log, log_len, "the kernel does not offer program type %s", t->type_name);
		return V_UNSUPPORTED;
	}
	/* Slots past the maps made read as fd 0 (not a map): a test naming
	 * map[idx:N] beyond them gets the same answer on every run. */
	int fds[MAX_MAPS] = {0};
	unsigned made = 0;
	enum verdict v = V_ACCEPT;
	struct kbtf btf = {.fd = -1};
	if (t->btf) {
		int err = kernel_make_btf(insns, n, &btf);
		if (err < 0) {
			snprintf(log, log_len, "cannot load BTF: %s", strerror(-err));
			return V_UNSUPPORTED;
		}
	}
	for (; made < t->n_maps; made++) {
		int fd = kbpf_map_create(t->maps[made].type, t->maps[made].key_size,
					 t->maps[made].value_size, t->maps[made].max_entries,
					 t->maps[made].flags);
		if (fd < 0) {
			snprintf(log, log_len, "cannot create map %u: %s", made, strerror(-fd));
			v = V_UNSUPPORTED;
			goto out;
		}
		fds[made] = fd;
	}
	long fd = kernel_load(t->prog_type, t, insns, n, made ? fds : NULL, &btf, log,
			      log_len);
	/* A full log buffer makes the load fail with ENOSPC whatever the
	 * verdict (the log keeps its tail): ask again without a log. */
	if (fd == -ENOSPC) {
		long again = kernel_load(t->prog_type, t, insns, n, made ? fds : NULL, &btf,
					 NULL, 0);
		if (again != -ENOSPC)
			fd = again;
	}
	if (fd >= 0) {
		close((int)fd);
		v = V_ACCEPT;
	} else {
		size_t len = strnlen(log, log_len);
		if (len + 48 < log_len)
			snprintf(log + len, log_len - len, "%serrno=%ld (%s)\n",
				 len && log[len - 1] != '\n' ? "\n" : "", fd, strerrorname_np((int)-fd) ? strerrorname_np((int)-fd) : "?");
		v = V_REJECT;
	}
out:
	for (unsigned i = 0; i < made; i++)
		close(fds[i]);
	if (btf.fd >= 0)
		close(btf.fd);
	return v;
}

/* bee's own verifier (src/verify/), on the same programs and maps. */
static struct bee_helper_table *bee_helpers;

static int bee_target_probe(char *why, size_t len)
{
	bee_helpers = bee_helper_table_new();
	if (!bee_helpers || bee_helper_table_add_builtins(bee_helpers) < 0 ||
	    bee_core_add_helpers(bee_helpers) < 0) {
		snprintf(why, len, "cannot build the helper table");
		return -ENOMEM;
	}
	return 0;
}

static enum verdict bee_target_verify(const struct vtest *t, const struct bpf_insn *insns,
				      size_t n, char *log, size_t log_len)
{
	const struct bee_prog_type_desc *pt = bee_prog_type_builtin(t->prog_type);
	if (!pt) {
		snprintf(log, log_len, "bee does not describe program type %s", t->type_name);
		return V_UNSUPPORTED;
	}
	struct bee_verify_map maps[MAX_MAPS];
	for (unsigned i = 0; i < t->n_maps; i++)
		maps[i] = (struct bee_verify_map){.type = t->maps[i].type,
						  .key_size = t->maps[i].key_size,
						  .value_size = t->maps[i].value_size,
						  .max_entries = t->maps[i].max_entries,
						  .map_flags = t->maps[i].flags};
	struct bee_verify_opts o = {
		.sz = sizeof(o),
		.prog_type = pt,
		.expected_attach_type = t->has_attach_type ? t->attach_type : 0,
		.helpers = bee_helpers,
		.maps = maps,
		.n_maps = t->n_maps,
		.log_buf = log,
		.log_size = log_len,
		.log_level = 1,
		.strict_alignment = (t->prog_flags & BPF_F_STRICT_ALIGNMENT) != 0,
		.has_func_info = t->btf,
	};
	struct bee_verify_result r;
	int err = bee_verify(insns, n, &o, &r);
	if (!err)
		return V_ACCEPT;
	size_t len = strnlen(log, log_len);
	if (len + 48 < log_len)
		snprintf(log + len, log_len - len, "errno=%d (%s)\n", err,
			 strerrorname_np(-err) ? strerrorname_np(-err) : "?");
	return V_REJECT;
}

static const struct target targets[] = {
	{"kernel", kernel_probe, kernel_verify},
	{"bee", bee_target_probe, bee_target_verify},
};

/* ---- running ------------------------------------------------------------------ */

/* The last lines of a log (where the verifier says why). */
static void print_log_tail(const char *log, unsigned lines)
{
	const char *end = log + strlen(log);
	const char *p = end;
	unsigned seen = 0;
	while (p > log) {
		if (p[-1] == '\n' && p != end && ++seen > lines)
			break;
		p--;
	}
	for (const char *l = p; l < end;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		fprintf(stderr, "      | %.*s\n", (int)len, l);
		l += len + (nl ? 1 : 0);
	}
}

struct file_stats {
	const char *file;
	unsigned tests, accept, reject, agree, disagree, unsupported;
};

int main(int argc, char **argv)
{
	const struct target *tg = &targets[0];
	bool verbose = false, slow = false, unsafe_only = false;
	double min_accept = 0; /* --min-accept PCT: fail below this share of accepts */
	const char *show = NULL;
	struct vcorpus c = {0};
	int npaths = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
			const char *name = argv[++i];
			tg = NULL;
			for (size_t k = 0; k < sizeof(targets) / sizeof(targets[0]); k++)
				if (strcmp(targets[k].name, name) == 0)
					tg = &targets[k];
			if (!tg) {
				fprintf(stderr, "unknown target '%s'\n", name);
				return 2;
			}
		} else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--unsafe-only") == 0) {
			unsafe_only = true; /* fail only when a labelled reject is accepted */
		} else if (strcmp(argv[i], "--min-accept") == 0 && i + 1 < argc) {
			min_accept = atof(argv[++i]);
		} else if (strcmp(argv[i], "--slow") == 0) {
			slow = true;
		} else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
			show = argv[++i];
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: %s [--target kernel] [--verbose] [--slow] [--log NAME] "
					"[FILE_OR_DIR...]\n",
				argv[0]);
			return 2;
		} else {
			vdata_parse_path(&c, argv[i]);
			npaths++;
		}
	}
	if (!npaths)
		vdata_parse_path(&c, BEE_VERIFIER_CORPUS_DIR);
	if (c.errors) {
		fprintf(stderr, "%u corpus error(s)\n", c.errors);
		return 1;
	}
	if (!c.n) {
		fprintf(stderr, "no tests found\n");
		return 1;
	}

	char why[256];
	if (tg->probe(why, sizeof(why)) < 0) {
		printf("SKIP: target %s unavailable: %s\n", tg->name, why);
		return 77;
	}

	char *log = malloc(LOG_SIZE);
	struct file_stats *fs = calloc(c.n, sizeof(*fs));
	if (!log || !fs) {
		perror("malloc");
		return 1;
	}
	size_t nfiles = 0;
	unsigned agree = 0, disagree = 0, unsupported = 0, asm_fail = 0, skipped_slow = 0;
	unsigned unsafe = 0, acc_label = 0, acc_both = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < c.n; i++) {
		struct vtest *t = &c.tests[i];
		if (!nfiles || strcmp(fs[nfiles - 1].file, t->file) != 0)
			fs[nfiles++].file = t->file;
		struct file_stats *f = &fs[nfiles - 1];
		f->tests++;
		if (t->expect_accept)
			f->accept++;
		else
			f->reject++;

		if (t->slow && !slow) {
			skipped_slow++;
			f->unsupported++;
			continue;
		}
		struct bpf_insn *insns = NULL;
		size_t n = 0;
		struct bee_error err;
		memset(&err, 0, sizeof(err));
		if (bee_asm(t->asm_text, &insns, &n, &err) < 0) {
			fprintf(stderr, "%s:%u: %s: assembler: line %d: %s\n", t->file, t->line, t->name,
				err.line, err.msg);
			asm_fail++;
			continue;
		}
		struct timespec ts0, ts1;
		clock_gettime(CLOCK_MONOTONIC, &ts0);
		enum verdict v = tg->verify(t, insns, n, log, LOG_SIZE);
		clock_gettime(CLOCK_MONOTONIC, &ts1);
		double ms = (double)(ts1.tv_sec - ts0.tv_sec) * 1e3 +
			    (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e6;
		free(insns);
		bool want_log = show && strcmp(show, t->name) == 0;
		if (v == V_UNSUPPORTED) {
			unsupported++;
			f->unsupported++;
			if (verbose)
				printf("  skip  %s/%s: %s\n", t->file, t->name, log);
			continue;
		}
		bool ok;
		if (t->expect_accept) {
			acc_label++;
			acc_both += v == V_ACCEPT;
		} else if (v == V_ACCEPT) {
			unsafe++;
			fprintf(stderr, "  UNSAFE ACCEPT %s:%u %s (labelled reject \"%s\")\n", t->file,
				t->line, t->name, t->expect_msg);
		}
		if (t->expect_accept)
			ok = v == V_ACCEPT;
		else
			ok = v == V_REJECT && strstr(log, t->expect_msg) != NULL;
		if (ok) {
			agree++;
			f->agree++;
			if (verbose)
				printf("  ok    %s/%s (%.1f ms)\n", t->file, t->name, ms);
		} else {
			disagree++;
			f->disagree++;
			if (unsafe_only && !verbose)
				goto counted;
			fprintf(stderr, "  DISAGREE %s:%u %s: expected %s%s%s%s, %s %s\n", t->file,
				t->line, t->name, t->expect_accept ? "accept" : "reject \"",
				t->expect_accept ? "" : t->expect_msg, t->expect_accept ? "" : "\"",
				"", tg->name, v == V_ACCEPT ? "accepts" : "rejects");
			if (v == V_REJECT)
				print_log_tail(log, 6);
		}
	counted:
		if (want_log)
			printf("---- %s log (%s) ----\n%s\n", t->name,
			       v == V_ACCEPT ? "accepted" : "rejected", log);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("%-18s %6s %6s %6s %6s %9s %11s\n", "file", "tests", "accept", "reject", "agree",
	       "disagree", "not run");
	unsigned tot_acc = 0, tot_rej = 0;
	for (size_t i = 0; i < nfiles; i++) {
		printf("%-18s %6u %6u %6u %6u %9u %11u\n", fs[i].file, fs[i].tests, fs[i].accept,
		       fs[i].reject, fs[i].agree, fs[i].disagree, fs[i].unsupported);
		tot_acc += fs[i].accept;
		tot_rej += fs[i].reject;
	}
	printf("%s: %zu tests (%u accept, %u reject): %u agree, %u disagree, %u unsupported, "
	       "%u slow (not run; --slow runs them), %u assembler errors, %.2f s\n",
	       tg->name, c.n, tot_acc, tot_rej, agree, disagree, unsupported, skipped_slow, asm_fail,
	       secs);

	printf("%s: accepts %u of %u labelled accept (%.1f%%); unsafe accepts (labelled reject, "
	       "accepted): %u\n",
	       tg->name, acc_both, acc_label, acc_label ? 100.0 * acc_both / acc_label : 0.0, unsafe);
	if (bee_helpers)
		bee_helper_table_free(bee_helpers);
	vdata_free(&c);
	free(fs);
	free(log);
	double share = acc_label ? 100.0 * acc_both / acc_label : 100.0;
	if (share < min_accept) {
		printf("%s: accepts %.1f%% of the labelled accepts, below --min-accept %.1f%%\n",
		       tg->name, share, min_accept);
		return 1;
	}
	if (unsafe_only)
		return unsafe || asm_fail ? 1 : 0;
	return disagree || asm_fail ? 1 : 0;
}
