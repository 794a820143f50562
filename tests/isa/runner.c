/*
 * runner.c - the data-driven ISA test runner.
 *
 *     isa_runner [--engine interp|jit] [--mode checked|fast] [--compare ENGINE]
 *                [--blind] [--no-coverage] [--verbose] FILE_OR_DIR...
 *
 * Theory of operation: every .data file (format: tests/isa/README.md) holds
 * tests separated by "== name" lines.  A test is a program (assembly or raw
 * hex bytecode), optional input memory and options, and one expectation:
 * a result (r0) or an error (with the stage that must report it, and
 * optionally its errno, instruction index and a substring of its message).
 * Each test is assembled with bee_asm, prepared with bee_code_load and run
 * once with bee_code_run on the chosen engine.  With --compare, it then
 * runs again on a second engine, on the same input buffer restored to its
 * first contents, and the two runs must agree on everything observable:
 * return code, r0, the error's code, instruction and message, the number
 * of instructions executed and the memory left behind.
 *
 * The coverage check makes forgetting an instruction impossible: every
 * program of a passing test is decoded with bee_check_program, and the
 * enum bee_op values it contains are recorded.  After the last file every
 * row of BEE_INSN_TABLE must have been seen, else the run fails and names
 * the missing rows.  (The lddw pseudo forms can only be "seen" in tests
 * that expect bee_code_load to refuse them; every other row is expected to
 * appear in a test that runs.)
 *
 * Nothing here derives expectations from bee itself: the .data files are
 * written from RFC 9669 and, where it could check them, the real kernel.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bee/error.h"
#include "bee/insn.h"
#include "bee/vm.h"
#include "isa/isa.h"

/* ------------------------------------------------------------------ */
/* Engines: adding one is adding a row.                                */

static const struct {
	const char *name;
	enum bee_engine engine;
} engines[] = {
	{"interp", BEE_ENGINE_INTERP},
	{"jit", BEE_ENGINE_JIT},
};

/* ------------------------------------------------------------------ */
/* Small utilities.                                                    */

struct strbuf {
	char *s;
	size_t len, cap;
};

static void sb_append(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			fprintf(stderr, "isa_runner: out of memory\n");
			exit(2);
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_free(struct strbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Cut a '#' comment off a line of hex, a result or options. */
static void cut_comment(char *s)
{
	char *hash = strchr(s, '#');
	if (hash)
		*hash = '\0';
}

static const struct {
	const char *name;
	int code;
} errno_names[] = {
	{"EPERM", EPERM},   {"ENOENT", ENOENT},     {"E2BIG", E2BIG},   {"ENOMEM", ENOMEM},
	{"EACCES", EACCES}, {"EFAULT", EFAULT},     {"EINVAL", EINVAL}, {"ENOSPC", ENOSPC},
	{"ERANGE", ERANGE}, {"ENOTSUP", ENOTSUP},   {"ETIME", ETIME},   {"ELOOP", ELOOP},
	{"ENOEXEC", ENOEXEC}, {"EOPNOTSUPP", EOPNOTSUPP},
};

static const char *errno_name(int code, char *buf, size_t len)
{
	int pos = code < 0 ? -code : code;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].code == pos) {
			snprintf(buf, len, "-%s", errno_names[i].name);
			return buf;
		}
	snprintf(buf, len, "%d", code);
	return buf;
}

static int errno_by_name(const char *name)
{
	const char *bare = name[0] == '-' ? name + 1 : name;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (!strcmp(errno_names[i].name, bare))
			return -errno_names[i].code;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Test helpers: deterministic functions the "helpers test" option     */
/* installs (documented in README.md).                                 */

static uint64_t test_counter;
static uint8_t test_grant_buf[16];

enum {
	TEST_HELPER_ARGS = 1,
	TEST_HELPER_COUNTER = 2,
	TEST_HELPER_STORE64 = 3,
	TEST_HELPER_LOAD64 = 4,
	TEST_HELPER_CONST = 5,
	TEST_HELPER_GRANT = 6,
	TEST_KFUNC_SUB = 1000,
};

static uint64_t helper_args(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return r1 + (r2 << 8) + (r3 << 16) + (r4 << 24) + (r5 << 32);
}

static uint64_t helper_counter(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return ++test_counter;
}

static uint64_t helper_store64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	void *p = (void *)(uintptr_t)r1;
	if (!bee_run_mem_ok(p, 8, true))
		return (uint64_t)-EFAULT;
	memcpy(p, &r2, 8);
	return 0;
}

static uint64_t helper_load64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	const void *p = (const void *)(uintptr_t)r1;
	uint64_t v;
	if (!bee_run_mem_ok(p, 8, false))
		return (uint64_t)-EFAULT;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t helper_const(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return 0xfedcba9876543210ull;
}

static uint64_t helper_grant(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	if (bee_run_grant(test_grant_buf, sizeof(test_grant_buf), true) < 0)
		return 0;
	return (uint64_t)(uintptr_t)test_grant_buf;
}

static uint64_t kfunc_sub(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	return r1 - r2;
}

static void reset_helper_state(void)
{
	test_counter = 0;
	for (size_t i = 0; i < sizeof(test_grant_buf); i++)
		test_grant_buf[i] = (uint8_t)(0xa0 + i);
}

static struct bee_helper_table *test_helpers, *builtin_helpers, *test_kfuncs;

static void make_helper_tables(void)
{
	static const struct bee_helper helpers[] = {
		{.id = TEST_HELPER_ARGS, .name = "test_args", .fn = helper_args},
		{.id = TEST_HELPER_COUNTER, .name = "test_counter", .fn = helper_counter},
		{.id = TEST_HELPER_STORE64, .name = "test_store64", .fn = helper_store64},
		{.id = TEST_HELPER_LOAD64, .name = "test_load64", .fn = helper_load64},
		{.id = TEST_HELPER_CONST, .name = "test_const", .fn = helper_const},
		{.id = TEST_HELPER_GRANT, .name = "test_grant", .fn = helper_grant},
	};
	static const struct bee_helper kfuncs[] = {
		{.id = TEST_KFUNC_SUB, .name = "test_kfunc_sub", .fn = kfunc_sub},
	};
	test_helpers = bee_helper_table_new();
	builtin_helpers = bee_helper_table_new();
	test_kfuncs = bee_helper_table_new();
	if (!test_helpers || !builtin_helpers || !test_kfuncs) {
		fprintf(stderr, "isa_runner: cannot create helper tables\n");
		exit(2);
	}
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (bee_helper_table_add(test_helpers, &helpers[i]) < 0)
			exit(2);
	for (size_t i = 0; i < sizeof(kfuncs) / sizeof(kfuncs[0]); i++)
		if (bee_helper_table_add(test_kfuncs, &kfuncs[i]) < 0)
			exit(2);
	if (bee_helper_table_add_builtins(builtin_helpers) < 0) {
		fprintf(stderr, "isa_runner: cannot add the built-in helpers\n");
		exit(2);
	}
}


/* ------------------------------------------------------------------ */
/* A test as read from a file.                                         */

enum stage { STAGE_ANY, STAGE_ASM, STAGE_LOAD, STAGE_RUN };
static const char *const stage_names[] = {"any", "asm", "load", "run"};

struct expect_error {
	enum stage stage;
	int code;  /* negative errno, or 0 for any */
	long insn; /* -1 for any */
	char text[256];
};

enum section {
	SEC_NONE,
	SEC_ASM,
	SEC_RAW,
	SEC_MEM,
	SEC_MEM_AFTER,
	SEC_RESULT,
	SEC_ERROR,
	SEC_OPTIONS,
	SEC__COUNT
};

static const char *const section_names[SEC__COUNT] = {
	[SEC_ASM] = "asm",       [SEC_RAW] = "raw",     [SEC_MEM] = "mem",
	[SEC_MEM_AFTER] = "mem-after", [SEC_RESULT] = "result", [SEC_ERROR] = "error",
	[SEC_OPTIONS] = "options",
};

struct test {
	const char *file;
	int line; /* of the "== name" line */
	char name[160];

	/* Section bodies as text, and the line each body starts on. */
	struct strbuf body[SEC__COUNT];
	int body_line[SEC__COUNT];
	bool has[SEC__COUNT];

	/* Parsed expectations and options. */
	uint64_t result;
	struct expect_error error;
	const struct bee_helper_table *helpers, *kfuncs;
	uint64_t max_insns;
	bool mem_readonly;
	bool checked_only; /* relies on run-time checks: skipped in fast mode */

	char format_error[300]; /* a mistake in the .data file itself */
};

struct runner {
	enum bee_engine engine;
	bool compare;                 /* --compare: also run on compare_engine */
	bool blind;                   /* --blind: load with bee_code_opts.jit_blind */
	enum bee_engine compare_engine;
	bool fast;
	bool verbose;
	bool coverage;
	unsigned passed, failed, skipped;
	bool seen[BEE_OP__COUNT];     /* in a passing test */
	bool seen_run[BEE_OP__COUNT]; /* in a passing test whose program ran */
};

static void test_free(struct test *t)
{
	for (int i = 0; i < SEC__COUNT; i++)
		sb_free(&t->body[i]);
}

static void test_init(struct test *t, const char *file, int line, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->file = file;
	t->line = line;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->error.insn = -1;
}

static void format_error(struct test *t, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void format_error(struct test *t, int line, const char *fmt, ...)
{
	if (t->format_error[0])
		return; /* keep the first */
	char msg[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(t->format_error, sizeof(t->format_error), "%s:%d: %s", t->file, line, msg);
}

/* "-- error [asm|load|run] [EFOO] [insn N] [: text]" */
static void parse_error_spec(struct test *t, int line, char *spec)
{
	struct expect_error *e = &t->error;
	char *p = trim(spec);
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == ':')
			break;
		char *end = p;
		while (*end && !isspace((unsigned char)*end) && *end != ':')
			end++;
		size_t n = (size_t)(end - p);
		char word[64];
		if (n >= sizeof(word))
			break;
		memcpy(word, p, n);
		word[n] = '\0';
		if (!strcmp(word, "asm") && e->stage == STAGE_ANY) {
			e->stage = STAGE_ASM;
		} else if (!strcmp(word, "load") && e->stage == STAGE_ANY) {
			e->stage = STAGE_LOAD;
		} else if (!strcmp(word, "run") && e->stage == STAGE_ANY) {
			e->stage = STAGE_RUN;
		} else if (word[0] == 'E' && errno_by_name(word)) {
			e->code = errno_by_name(word);
		} else if (!strcmp(word, "insn")) {
			char *num_end;
			long v = strtol(end, &num_end, 0);
			if (num_end == end) {
				format_error(t, line, "'insn' needs a number");
				return;
			}
			e->insn = v;
			end = num_end;
		} else {
			break; /* the message text starts here */
		}
		p = end;
	}
	if (*p == ':')
		p++;
	snprintf(e->text, sizeof(e->text), "%s", trim(p));
}

static void parse_result(struct test *t, int line, char *text)
{
	cut_comment(text);
	char *s = trim(text);
	char *end;
	errno = 0;
	uint64_t v;
	if (s[0] == '-')
		v = (uint64_t)strtoll(s, &end, 0);
	else
		v = strtoull(s, &end, 0);
	if (!*s || *trim(end) || errno) {
		format_error(t, line, "bad result '%s' (want a number such as 0x1f or -1)", s);
		return;
	}
	t->result = v;
}

static void parse_option(struct test *t, int line, char *text)
{
	cut_comment(text);
	char *s = trim(text);
	if (!*s)
		return;
	char *arg = s;
	while (*arg && !isspace((unsigned char)*arg))
		arg++;
	if (*arg)
		*arg++ = '\0';
	arg = trim(arg);
	if (!strcmp(s, "helpers")) {
		if (!strcmp(arg, "test"))
			t->helpers = test_helpers;
		else if (!strcmp(arg, "builtins"))
			t->helpers = builtin_helpers;
		else if (!strcmp(arg, "none"))
			t->helpers = NULL;
		else
			format_error(t, line, "helpers: want test, builtins or none");
	} else if (!strcmp(s, "kfuncs")) {
		if (!strcmp(arg, "test"))
			t->kfuncs = test_kfuncs;
		else if (!strcmp(arg, "none"))
			t->kfuncs = NULL;
		else
			format_error(t, line, "kfuncs: want test or none");
	} else if (!strcmp(s, "max_insns")) {
		char *end;
		t->max_insns = strtoull(arg, &end, 0);
		if (!*arg || *end)
			format_error(t, line, "max_insns: want a number");
	} else if (!strcmp(s, "mem_readonly") && !*arg) {
		t->mem_readonly = true;
	} else if (!strcmp(s, "checked_only") && !*arg) {
		t->checked_only = true;
	} else {
		format_error(t, line, "unknown option '%s'", s);
	}
}

/* Text of a one-value section: what follows the header plus its body. */
static void one_value(struct test *t, enum section sec, char *out, size_t len)
{
	struct strbuf *b = &t->body[sec];
	out[0] = '\0';
	size_t used = 0;
	char *text = b->s ? b->s : "";
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char piece[512];
		snprintf(piece, sizeof(piece), "%.*s", (int)n, line);
		char *p = trim(piece);
		if (*p) {
			if (used && used + 1 < len)
				out[used++] = ' ';
			int w = snprintf(out + used, len - used, "%s", p);
			if (w > 0)
				used = used + (size_t)w < len ? used + (size_t)w : len - 1;
		}
		line = nl ? nl + 1 : line + n;
	}
}

/* Called when a test's last line has been read. */
static void finish_test(struct test *t)
{
	if (t->format_error[0])
		return;
	if (!t->has[SEC_ASM] && !t->has[SEC_RAW])
		format_error(t, t->line, "test has no program (-- asm or -- raw)");
	else if (!t->has[SEC_RESULT] && !t->has[SEC_ERROR])
		format_error(t, t->line, "test has no expectation (-- result or -- error)");
	else if (t->has[SEC_MEM_AFTER] && !t->has[SEC_MEM])
		format_error(t, t->body_line[SEC_MEM_AFTER], "mem-after without mem");
	char value[512];
	if (t->has[SEC_RESULT]) {
		one_value(t, SEC_RESULT, value, sizeof(value));
		parse_result(t, t->body_line[SEC_RESULT], value);
	}
	if (t->has[SEC_ERROR]) {
		one_value(t, SEC_ERROR, value, sizeof(value));
		parse_error_spec(t, t->body_line[SEC_ERROR], value);
	}
}

/* ------------------------------------------------------------------ */
/* Running one test.                                                   */

/*
 * Expand ".rept N" ... ".endr" blocks (not nested) in assembly text, so that
 * a test can hold a program longer than a 16-bit jump offset without a
 * file of that many lines.  Returns false with why set on a malformed block.
 */
static bool expand_rept(const char *text, struct strbuf *out, char *why, size_t why_len)
{
	const char *block = NULL; /* start of the lines being repeated */
	unsigned long count = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, ".rept", 5) && isspace((unsigned char)p[5])) {
			char *end;
			if (block) {
				snprintf(why, why_len, ".rept blocks do not nest");
				return false;
			}
			count = strtoul(p + 5, &end, 0);
			while (*end == ' ' || *end == '\t' || *end == '\r')
				end++;
			if (end == p + 5 || (*end && *end != '\n') || count > 1000000) {
				snprintf(why, why_len, ".rept needs a count up to 1000000");
				return false;
			}
			block = line + len;
		} else if (!strncmp(p, ".endr", 5)) {
			if (!block) {
				snprintf(why, why_len, ".endr without .rept");
				return false;
			}
			for (unsigned long i = 0; i < count; i++)
				sb_append(out, block, (size_t)(line - block));
			block = NULL;
		} else if (!block) {
			sb_append(out, line, len);
		}
		line += len;
	}
	if (block) {
		snprintf(why, why_len, ".rept without .endr");
		return false;
	}
	if (!out->s)
		sb_append(out, "", 0);
	return true;
}

struct outcome {
	enum stage stage; /* where it failed; STAGE_ANY when it ran to exit */
	struct bee_error err;
	uint64_t r0;
	int asm_file_line; /* an assembler error's line in the .data file, or 0 */
};

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return true;
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

static void describe_expected_error(const struct expect_error *e, char *buf, size_t len)
{
	char code[32] = "";
	char insn[32] = "";
	if (e->code)
		errno_name(e->code, code, sizeof(code));
	if (e->insn >= 0)
		snprintf(insn, sizeof(insn), "insn %ld", e->insn);
	snprintf(buf, len, "%s error%s%s%s%s: \"%s\"", e->stage == STAGE_ANY ? "an" : stage_names[e->stage],
		 code[0] ? " " : "", code, insn[0] ? " " : "", insn, e->text);
}

static void describe_actual_error(const struct outcome *o, char *buf, size_t len)
{
	char code[32];
	errno_name(o->err.code, code, sizeof(code));
	if (o->stage == STAGE_ASM && o->asm_file_line > 0)
		snprintf(buf, len, "asm error %s at line %d col %d: \"%s\"", code, o->asm_file_line,
			 o->err.col, o->err.msg);
	else if (o->stage == STAGE_ASM && o->err.line > 0)
		snprintf(buf, len, "asm error %s at program line %d col %d: \"%s\"", code, o->err.line,
			 o->err.col, o->err.msg);
	else if (o->err.insn >= 0)
		snprintf(buf, len, "%s error %s insn %ld: \"%s\"", stage_names[o->stage], code,
			 o->err.insn, o->err.msg);
	else
		snprintf(buf, len, "%s error %s: \"%s\"", stage_names[o->stage], code, o->err.msg);
}

static bool error_matches(const struct expect_error *e, const struct outcome *o)
{
	if (e->stage != STAGE_ANY && e->stage != o->stage)
		return false;
	if (e->code && e->code != o->err.code)
		return false;
	if (e->insn >= 0 && e->insn != o->err.insn)
		return false;
	return contains_nocase(o->err.msg, e->text);
}

static void hexdump(const uint8_t *p, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 4 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%02x", i ? " " : "", p[i]);
}

static void mark_coverage(struct runner *r, const struct bpf_insn *insns, size_t n, bool ran)
{
	struct bee_dinsn *d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return;
	if (bee_check_program(insns, n, d, NULL) == 0) {
		for (size_t pc = 0; pc < n; pc++) {
			if (d[pc].slots == 0)
				continue; /* second half of an lddw */
			r->seen[d[pc].op] = true;
			if (ran)
				r->seen_run[d[pc].op] = true;
		}
	}
	free(d);
}

static const char *engine_name(enum bee_engine e);

/*
 * --compare: run code again on the other engine, on the same buffer with
 * its contents from before the first run (so that addresses in messages
 * are the same), and compare with the first run (rc, first, and the
 * memory it left in mem).  Returns false with why set on a difference.
 */
static bool compare_engines(struct runner *r, const struct bee_code *code,
			    const struct bee_run_opts *ropts, int rc, const struct bee_run_result *first,
			    uint8_t *mem, const uint8_t *mem_before, size_t mem_len, char *why,
			    size_t why_len)
{
	uint8_t *mem_after = NULL;
	if (mem_len) {
		mem_after = malloc(mem_len);
		if (!mem_after) {
			snprintf(why, why_len, "out of memory");
			return false;
		}
		memcpy(mem_after, mem, mem_len);
		memcpy(mem, mem_before, mem_len);
	}
	struct bee_run_opts o2 = *ropts;
	o2.engine = r->compare_engine;
	struct bee_run_result res2;
	memset(&res2, 0, sizeof(res2));
	bee_error_clear(&res2.err);
	reset_helper_state();
	int rc2 = bee_code_run(code, &o2, &res2);
	const char *a = engine_name(ropts->engine), *b = engine_name(r->compare_engine);
	bool same = false;
	if (rc != rc2)
		snprintf(why, why_len, "%s returned %d, %s %d (%s / %s)", a, rc, b, rc2, first->err.msg,
			 res2.err.msg);
	else if (!rc && first->r0 != res2.r0)
		snprintf(why, why_len, "%s r0 = 0x%llx, %s r0 = 0x%llx", a,
			 (unsigned long long)first->r0, b, (unsigned long long)res2.r0);
	else if (first->insns != res2.insns)
		snprintf(why, why_len, "%s executed %llu insns, %s %llu", a,
			 (unsigned long long)first->insns, b, (unsigned long long)res2.insns);
	else if (first->err.code != res2.err.code || first->err.insn != res2.err.insn ||
		 strcmp(first->err.msg, res2.err.msg))
		snprintf(why, why_len, "errors differ: %s insn %ld \"%s\", %s insn %ld \"%s\"", a,
			 first->err.insn, first->err.msg, b, res2.err.insn, res2.err.msg);
	else if (mem_len && memcmp(mem, mem_after, mem_len))
		snprintf(why, why_len, "%s and %s leave different memory", a, b);
	else
		same = true;
	if (mem_len)
		memcpy(mem, mem_after, mem_len); /* the first run's, for mem-after */
	free(mem_after);
	return same;
}

/*
 * Run t; returns 1 for pass, 0 for fail, -1 for skip.  why receives the
 * reason for a failure.
 */
static int run_test(struct runner *r, struct test *t, char *why, size_t why_len)
{
	struct bpf_insn *insns = NULL;
	size_t n = 0;
	uint8_t *mem = NULL, *mem_want = NULL;
	size_t mem_len = 0, mem_want_len = 0;
	struct bee_code *code = NULL;
	struct outcome o = {.stage = STAGE_ANY};
	int verdict = 0;
	bee_error_clear(&o.err);

	if (t->format_error[0]) {
		snprintf(why, why_len, "bad test: %s", t->format_error);
		return 0;
	}
	if (r->fast && (t->has[SEC_ERROR] || t->max_insns || t->checked_only)) {
		snprintf(why, why_len, "checked-mode test");
		return -1;
	}

	/* Input memory. */
	struct bee_error herr;
	bee_error_clear(&herr);
	if (t->has[SEC_MEM]) {
		uint8_t *bytes = NULL;
		if (bee_bytes_from_hex(t->body[SEC_MEM].s ? t->body[SEC_MEM].s : "", &bytes, &mem_len,
				       &herr) < 0) {
			snprintf(why, why_len, "bad test: %s:%d: mem: %s", t->file,
				 t->body_line[SEC_MEM], herr.msg);
			goto out;
		}
		/* An exact-size copy, so that AddressSanitizer sees overruns too. */
		mem = malloc(mem_len ? mem_len : 1);
		if (!mem) {
			free(bytes);
			snprintf(why, why_len, "out of memory");
			goto out;
		}
		if (mem_len)
			memcpy(mem, bytes, mem_len);
		free(bytes);
	}
	if (t->has[SEC_MEM_AFTER]) {
		if (bee_bytes_from_hex(t->body[SEC_MEM_AFTER].s ? t->body[SEC_MEM_AFTER].s : "",
				       &mem_want, &mem_want_len, &herr) < 0) {
			snprintf(why, why_len, "bad test: %s:%d: mem-after: %s", t->file,
				 t->body_line[SEC_MEM_AFTER], herr.msg);
			goto out;
		}
		if (mem_want_len != mem_len) {
			snprintf(why, why_len, "bad test: %s:%d: mem-after has %zu bytes, mem has %zu",
				 t->file, t->body_line[SEC_MEM_AFTER], mem_want_len, mem_len);
			goto out;
		}
	}

	/* The program. */
	const char *text = t->body[t->has[SEC_RAW] ? SEC_RAW : SEC_ASM].s;
	if (!text)
		text = "";
	int prog_line = t->body_line[t->has[SEC_RAW] ? SEC_RAW : SEC_ASM];
	if (t->has[SEC_RAW]) {
		if (bee_insns_from_hex(text, &insns, &n, &o.err) < 0) {
			snprintf(why, why_len, "bad test: %s:%d: raw: %s", t->file, prog_line, o.err.msg);
			goto out;
		}
	} else {
		struct strbuf expanded = {0};
		char rept_why[100];
		if (!expand_rept(text, &expanded, rept_why, sizeof(rept_why))) {
			sb_free(&expanded);
			snprintf(why, why_len, "bad test: %s:%d: %s", t->file, prog_line, rept_why);
			goto out;
		}
		int rc = bee_asm(expanded.s, &insns, &n, &o.err);
		sb_free(&expanded);
		if (rc < 0) {
			o.stage = STAGE_ASM;
			/* Name the file line, unless .rept moved the lines. */
			if (o.err.line > 0 && !strstr(text, ".rept"))
				o.asm_file_line = prog_line + o.err.line - 1;
			goto judge;
		}
	}

	struct bee_code_opts copts = {
		.sz = sizeof(copts),
		.helpers = t->helpers,
		.kfuncs = t->kfuncs,
		.trusted = r->fast,
		.jit_blind = r->blind,
	};
	code = bee_code_load(insns, n, &copts, &o.err);
	if (!code) {
		o.stage = STAGE_LOAD;
		if (!o.err.code)
			o.err.code = -EINVAL;
		goto judge;
	}

	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = r->engine,
		.flags = r->fast ? 0 : BEE_RUN_CHECKED,
		.mem = mem,
		.mem_len = mem_len,
		.mem_readonly = t->mem_readonly,
		.max_insns = t->max_insns,
	};
	struct bee_run_result res;
	memset(&res, 0, sizeof(res));
	bee_error_clear(&res.err);
	uint8_t *mem_before = NULL;
	if (r->compare && mem_len) {
		mem_before = malloc(mem_len);
		if (!mem_before) {
			snprintf(why, why_len, "out of memory");
			goto out;
		}
		memcpy(mem_before, mem, mem_len);
	}
	reset_helper_state();
	int rc = bee_code_run(code, &ropts, &res);
	if (r->compare) {
		bool same = compare_engines(r, code, &ropts, rc, &res, mem, mem_before, mem_len, why,
					    why_len);
		free(mem_before);
		if (!same)
			goto out;
	}
	if (rc < 0) {
		o.stage = STAGE_RUN;
		o.err = res.err;
		if (!o.err.code)
			o.err.code = rc;
	} else {
		o.r0 = res.r0;
	}
	if (r->verbose)
		printf("  %s/%s: %zu slots, %llu insns executed, rc %d, r0 0x%llx\n", t->file,
		       t->name, n, (unsigned long long)res.insns, rc, (unsigned long long)res.r0);

judge:;
	char exp[400], got[400];
	if (t->has[SEC_ERROR]) {
		describe_expected_error(&t->error, exp, sizeof(exp));
		if (o.stage == STAGE_ANY) {
			snprintf(why, why_len, "expected %s, got r0 = 0x%llx", exp,
				 (unsigned long long)o.r0);
			goto out;
		}
		if (!error_matches(&t->error, &o)) {
			describe_actual_error(&o, got, sizeof(got));
			snprintf(why, why_len, "expected %s, got %s", exp, got);
			goto out;
		}
	} else {
		if (o.stage != STAGE_ANY) {
			describe_actual_error(&o, got, sizeof(got));
			snprintf(why, why_len, "expected r0 = 0x%llx, got %s",
				 (unsigned long long)t->result, got);
			goto out;
		}
		if (o.r0 != t->result) {
			snprintf(why, why_len, "expected r0 = 0x%llx, got 0x%llx",
				 (unsigned long long)t->result, (unsigned long long)o.r0);
			goto out;
		}
	}
	if (t->has[SEC_MEM_AFTER] && mem_len && memcmp(mem, mem_want, mem_len)) {
		char a[200], b[200];
		size_t first = 0;
		while (mem[first] == mem_want[first])
			first++;
		size_t from = first & ~(size_t)7;
		size_t cnt = mem_len - from < 16 ? mem_len - from : 16;
		hexdump(mem_want + from, cnt, a, sizeof(a));
		hexdump(mem + from, cnt, b, sizeof(b));
		snprintf(why, why_len, "memory differs at byte %zu: expected [%zu..] %s, got %s", first,
			 from, a, b);
		goto out;
	}
	verdict = 1;
	if (r->coverage)
		mark_coverage(r, insns, n, o.stage == STAGE_ANY || o.stage == STAGE_RUN);

out:
	bee_code_free(code);
	free(insns);
	free(mem);
	free(mem_want);
	return verdict;
}

static void report(struct runner *r, struct test *t)
{
	char why[1200] = "";
	int v = run_test(r, t, why, sizeof(why));
	const char *base = strrchr(t->file, '/');
	base = base ? base + 1 : t->file;
	int stem = (int)strlen(base);
	if (stem > 5 && !strcmp(base + stem - 5, ".data"))
		stem -= 5;
	if (v > 0) {
		r->passed++;
		printf("PASS %.*s/%s\n", stem, base, t->name);
	} else if (v < 0) {
		r->skipped++;
		printf("SKIP %.*s/%s (%s)\n", stem, base, t->name, why);
	} else {
		r->failed++;
		printf("FAIL %s:%d %.*s/%s: %s\n", t->file, t->line, stem, base, t->name, why);
	}
}

/* ------------------------------------------------------------------ */
/* Reading files.                                                      */

static char *read_whole_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct strbuf b = {0};
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_append(&b, chunk, got);
	fclose(f);
	if (!b.s)
		sb_append(&b, "", 0);
	return b.s;
}

static int run_file(struct runner *r, const char *path)
{
	char *text = read_whole_file(path);
	if (!text) {
		printf("FAIL %s: cannot read: %s\n", path, strerror(errno));
		r->failed++;
		return -1;
	}
	struct test t;
	bool in_test = false;
	enum section sec = SEC_NONE;
	unsigned tests_in_file = 0;
	char names[512][160];
	unsigned n_names = 0;

	int lineno = 0;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		lineno++;

		if (!strncmp(line, "==", 2)) {
			if (in_test) {
				finish_test(&t);
				report(r, &t);
				test_free(&t);
			}
			char *name = trim(line + 2);
			test_init(&t, path, lineno, name);
			in_test = true;
			tests_in_file++;
			sec = SEC_NONE;
			if (!*name)
				format_error(&t, lineno, "test without a name");
			for (unsigned i = 0; i < n_names; i++)
				if (!strcmp(names[i], t.name))
					format_error(&t, lineno, "duplicate test name '%s'", t.name);
			if (n_names < sizeof(names) / sizeof(names[0]))
				snprintf(names[n_names++], sizeof(names[0]), "%s", t.name);
		} else if (!strncmp(line, "--", 2) && (line[2] == ' ' || isalpha((unsigned char)line[2]))) {
			if (!in_test) {
				printf("FAIL %s:%d: section outside a test (missing '== name')\n", path,
				       lineno);
				r->failed++;
			} else {
				char *header = line + 2;
				char *name = trim(header);
				char *rest = name;
				while (*rest && !isspace((unsigned char)*rest))
					rest++;
				if (*rest)
					*rest++ = '\0';
				sec = SEC_NONE;
				for (int i = 1; i < SEC__COUNT; i++)
					if (!strcmp(section_names[i], name))
						sec = (enum section)i;
				if (sec == SEC_NONE) {
					format_error(&t, lineno, "unknown section '-- %s'", name);
				} else if (t.has[sec]) {
					format_error(&t, lineno, "two '-- %s' sections", name);
				} else if ((sec == SEC_ASM && t.has[SEC_RAW]) ||
					   (sec == SEC_RAW && t.has[SEC_ASM])) {
					format_error(&t, lineno, "a test has one program: asm or raw");
				} else if ((sec == SEC_RESULT && t.has[SEC_ERROR]) ||
					   (sec == SEC_ERROR && t.has[SEC_RESULT])) {
					format_error(&t, lineno, "a test has one expectation: result or error");
				} else {
					t.has[sec] = true;
					t.body_line[sec] = lineno;
					/* What follows the name on the header line. */
					if (*trim(rest)) {
						if (sec == SEC_RESULT || sec == SEC_ERROR ||
						    sec == SEC_OPTIONS || sec == SEC_MEM ||
						    sec == SEC_MEM_AFTER) {
							if (sec == SEC_OPTIONS)
								parse_option(&t, lineno, rest);
							else {
								sb_append(&t.body[sec], rest, strlen(rest));
								sb_append(&t.body[sec], "\n", 1);
							}
						} else {
							format_error(&t, lineno,
								     "'-- %s' takes no argument", name);
						}
					} else if (sec == SEC_ASM || sec == SEC_RAW) {
						/* Program line 1 is the next file line. */
						t.body_line[sec] = lineno + 1;
					}
				}
			}
		} else if (in_test && sec != SEC_NONE) {
			switch (sec) {
			case SEC_ASM: {
				/* A whole-line '#' comment becomes a blank line (keeping
				 * line numbers for the assembler's messages). */
				char *s = line;
				while (isspace((unsigned char)*s))
					s++;
				if (*s == '#')
					*s = '\0';
				sb_append(&t.body[sec], line, strlen(line));
				sb_append(&t.body[sec], "\n", 1);
				break;
			}
			case SEC_OPTIONS:
				parse_option(&t, lineno, line);
				break;
			case SEC_RESULT:
			case SEC_RAW:
			case SEC_MEM:
			case SEC_MEM_AFTER:
				cut_comment(line);
				sb_append(&t.body[sec], line, strlen(line));
				sb_append(&t.body[sec], "\n", 1);
				break;
			case SEC_ERROR:
				/* The message may hold a '#': only whole-line
				 * comments are comments here. */
				if (*trim(line) == '#')
					break;
				sb_append(&t.body[sec], line, strlen(line));
				sb_append(&t.body[sec], "\n", 1);
				break;
			case SEC_NONE:
			case SEC__COUNT:
				break;
			}
		} else {
			/* Between "== name" and the first section, or before the
			 * first test: only comments and blank lines. */
			char *s = trim(line);
			if (*s && *s != '#') {
				if (in_test) {
					format_error(&t, lineno, "text outside a section: '%s'", s);
				} else {
					printf("FAIL %s:%d: text before the first '== name' line\n", path,
					       lineno);
					r->failed++;
				}
			}
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	if (in_test) {
		finish_test(&t);
		report(r, &t);
		test_free(&t);
	}
	if (!tests_in_file) {
		printf("FAIL %s: no tests in file\n", path);
		r->failed++;
	}
	free(text);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(struct runner *r, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("FAIL %s: cannot open directory: %s\n", dir, strerror(errno));
		r->failed++;
		return;
	}
	char **paths = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".data"))
			continue;
		char **grown = realloc(paths, (n + 1) * sizeof(*paths));
		if (!grown)
			break;
		paths = grown;
		size_t need = strlen(dir) + len + 2;
		paths[n] = malloc(need);
		if (!paths[n])
			break;
		snprintf(paths[n], need, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(paths, n, sizeof(*paths), compare_names);
	if (!n) {
		printf("FAIL %s: no .data files\n", dir);
		r->failed++;
	}
	for (size_t i = 0; i < n; i++) {
		run_file(r, paths[i]);
		free(paths[i]);
	}
	free(paths);
}

static void check_coverage(struct runner *r)
{
	unsigned covered = 0;
	char missing[4096] = "";
	size_t used = 0;
	for (unsigned op = 0; op < BEE_OP__COUNT; op++) {
		if (r->seen[op]) {
			covered++;
			continue;
		}
		int w = snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? " " : "",
				 bee_op_info[op].name);
		if (w > 0 && used + (size_t)w < sizeof(missing))
			used += (size_t)w;
	}
	if (covered == BEE_OP__COUNT) {
		printf("PASS coverage: all %u instructions of BEE_INSN_TABLE appear in passing tests\n",
		       (unsigned)BEE_OP__COUNT);
		r->passed++;
	} else {
		printf("FAIL coverage: %u of %u instructions appear in passing tests; missing: %s\n",
		       covered, (unsigned)BEE_OP__COUNT, missing);
		r->failed++;
	}
	if (r->verbose) {
		printf("  instructions seen only in tests that stop at load:");
		for (unsigned op = 0; op < BEE_OP__COUNT; op++)
			if (r->seen[op] && !r->seen_run[op])
				printf(" %s", bee_op_info[op].name);
		printf("\n");
	}
}

static const char *engine_name(enum bee_engine e)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (engines[i].engine == e)
			return engines[i].name;
	return "?";
}

static bool engine_by_name(const char *name, enum bee_engine *out)
{
	for (size_t k = 0; k < sizeof(engines) / sizeof(engines[0]); k++)
		if (!strcmp(engines[k].name, name)) {
			*out = engines[k].engine;
			return true;
		}
	return false;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: isa_runner [--engine NAME] [--mode checked|fast] [--compare NAME]\n"
		"                  [--no-coverage] [--verbose] FILE_OR_DIR...\n"
		"Runs the data-driven ISA tests (format: tests/isa/README.md).\n"
		"  --engine NAME   execution engine:");
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		fprintf(out, " %s", engines[i].name);
	fprintf(out, " (default %s)\n"
		     "  --mode fast     load as trusted and run unchecked; tests that expect an\n"
		     "                  error, set max_insns or are checked_only are skipped\n"
		     "  --compare NAME  also run every test on engine NAME and require the same\n"
		     "                  result, error, message, instruction count and memory\n"
		     "  --blind         JIT: load with constant blinding\n"
		     "  --no-coverage   do not require every instruction to be covered\n"
		     "  --verbose       print details of every run\n",
		engines[0].name);
}

int main(int argc, char **argv)
{
	struct runner r = {.engine = engines[0].engine, .coverage = true};
	/* Line by line, so that a crash shows which test came before it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	int first_path = argc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "--engine") || !strcmp(a, "--compare")) && i + 1 < argc) {
			const char *name = argv[++i];
			bool compare = !strcmp(a, "--compare");
			if (!engine_by_name(name, compare ? &r.compare_engine : &r.engine)) {
				fprintf(stderr, "isa_runner: unknown engine '%s'\n", name);
				usage(stderr);
				return 2;
			}
			if (compare)
				r.compare = true;
		} else if (!strcmp(a, "--mode") && i + 1 < argc) {
			const char *m = argv[++i];
			if (!strcmp(m, "fast"))
				r.fast = true;
			else if (!strcmp(m, "checked"))
				r.fast = false;
			else {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(a, "--blind")) {
			r.blind = true;
		} else if (!strcmp(a, "--no-coverage")) {
			r.coverage = false;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			r.verbose = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "isa_runner: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else {
			first_path = i;
			break;
		}
	}
	if (first_path >= argc) {
		usage(stderr);
		return 2;
	}
	/* Fast mode skips the error tests, so it cannot cover everything. */
	if (r.fast)
		r.coverage = false;

	make_helper_tables();
	for (int i = first_path; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(&r, argv[i]);
		else
			run_file(&r, argv[i]);
	}
	if (r.coverage)
		check_coverage(&r);
	printf("%u passed, %u failed", r.passed, r.failed);
	if (r.skipped)
		printf(", %u skipped", r.skipped);
	printf("\n");
	bee_helper_table_free(test_helpers);
	bee_helper_table_free(builtin_helpers);
	bee_helper_table_free(test_kfuncs);
	return r.failed ? 1 : 0;
}
