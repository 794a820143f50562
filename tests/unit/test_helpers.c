/*
 * test_helpers.c - the instance-free helpers (src/platform/): the BPF
 * format engine behind bpf_trace_printk, bpf_trace_vprintk and
 * bpf_snprintf, bpf_strtol/strtoul, the task helpers, the probe reads and
 * the trace-pipe line.  Helpers are called directly (found with
 * bee_helper_table_find, as the engines find them) and from small
 * programs run checked and fast.  The expected texts are the kernel's, as
 * observed on Linux 6.18 (tests/kernel/diff_printk.c compares live).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bee/vm.h"
#include "platform/platform.h"

#include "unit.h"

#define LD_IMM64(d, v)                                                                          \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (int32_t)(uint32_t)(uint64_t)(v)),              \
		INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))

static struct bee_helper_table *builtins;

static bee_helper_fn helper(int32_t id)
{
	const struct bee_helper *h = bee_helper_table_find(builtins, id);
	if (!h) {
		printf("FAIL: helper %d is not registered\n", id);
		failures++;
		return NULL;
	}
	return h->fn;
}

static uint64_t call(int32_t id, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	bee_helper_fn fn = helper(id);
	return fn ? fn(a, b, c, d, e) : (uint64_t)-ENOSYS;
}

#define P(x) ((uint64_t)(uintptr_t)(x))

/* ---- the trace hook catches what trace_printk emits ---- */

static char caught[2048];
static size_t caught_len;
static int caught_count;

static void catch_trace(void *user, const char *msg, size_t len)
{
	(void)user;
	caught_count++;
	caught_len = len < sizeof(caught) - 1 ? len : sizeof(caught) - 1;
	memcpy(caught, msg, caught_len);
	caught[caught_len] = '\0';
}

static void catch_reset(void)
{
	caught[0] = '\0';
	caught_len = 0;
	caught_count = 0;
}

/* trace_printk(fmt, sizeof fmt, a1..a3) and the message it emitted */
static int64_t printk3(const char *fmt, uint64_t a1, uint64_t a2, uint64_t a3)
{
	catch_reset();
	return (int64_t)call(BPF_FUNC_trace_printk, P(fmt), strlen(fmt) + 1, a1, a2, a3);
}

/* An unmapped page: reads of it fault. */
static char *hole;

static const char str_abc[] = "abc";
static const char str_long[] = "verylongstring_abcdefghijklmnopqrstuvwxyz";
static const unsigned char ip4[4] = {1, 2, 3, 4};
static const unsigned char ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

struct fmt_case {
	const char *fmt;
	uint64_t a[3];
	int64_t ret;
	const char *out; /* the emitted message; NULL: nothing emitted */
};

static void test_printk_conversions(void)
{
	const struct fmt_case cases[] = {
		{"hello\n", {0}, 6, "hello\n"},
		{"a%%b%d", {1}, 4, "a%b1"},
		{"%d %i %u", {(uint64_t)-5, 7, (uint64_t)-1}, 15, "-5 7 4294967295"},
		{"%x %X %u", {255, 255, 0x1ffffffffull}, 16, "ff FF 4294967295"},
		{"%ld %lu %lx", {(uint64_t)-1, (uint64_t)-1, (uint64_t)-1}, 40,
		 "-1 18446744073709551615 ffffffffffffffff"},
		{"%lli|%llX|%llu|", {(uint64_t)-1, (uint64_t)-1, (uint64_t)-1}, 41,
		 "-1|FFFFFFFFFFFFFFFF|18446744073709551615|"},
		{"%d", {0x1ffffffffull}, 2, "-1"},
		{"%5d|%-5d|%05d|", {1, 2, 3}, 18, "    1|2    |00003|"},
		{"%+d|% d|%+u|", {4, 5, 6}, 8, "+4| 5|6|"},
		{"%+ d|% +d|%+d", {1, 2, (uint64_t)-3}, 8, "+1|+2|-3"},
		{"%-05d|%0-5d|", {7, 8}, 12, "7    |8    |"},
		{"%08x|%-6X|%+05d", {0xbeef, 0xab, 42}, 21, "0000beef|AB    |+0042"},
		{"%c%c%c|", {65, 0x142, 0}, 4, "AB"}, /* a NUL char ends the message */
		{"%5c|%-3c|%1c|", {65, 66, 67}, 12, "    A|B  |C|"},
		{"%s|%5s|%-5s|", {P(str_abc), P("xy"), P("z")}, 16, "abc|   xy|z    |"},
		{"%s,%s", {P(str_long), P("x")}, 43, "verylongstring_abcdefghijklmnopqrstuvwxyz,x"},
		{"%08s|", {P("cd")}, 9, "      cd|"},
		{"[%s]", {0}, 2, "[]"},        /* NULL: the copy fails, "" */
		{"[%s]", {8}, 2, "[]"},        /* a wild pointer */
		{"[%s]", {0}, 2, "[]"},
		{"%pks|%pus|", {P(str_abc), P("def")}, 5, "|def|"},
		{"%p|%p", {0, 0xfffffffffffffff2ull}, 33, "0000000000000000|fffffffffffffff2"},
		{"%px|%pK|%p", {0x1234, 0x1234, 0x1234}, 50,
		 "0000000000001234|0000000000001234|0000000000001234"},
		{"%20p|%-20px|%020px|", {1, 1, 1}, 63,
		 "                   1|1                   |00000000000000000001|"},
		{"%pi4|%pI4|", {P(ip4), P(ip4)}, 24, "001.002.003.004|1.2.3.4|"},
		{"%pI6|", {P(ip6)}, 40, "2001:0db8:0000:0000:0000:0000:0000:0001|"},
		{"%pi6|", {P(ip6)}, 33, "20010db8000000000000000000000001|"},
		{"%pI4|", {8}, 8, "0.0.0.0|"}, /* unreadable: zeros */
		{"%pI4abc|%pKfoo|", {P(ip4), 0}, 25, "1.2.3.4|0000000000000000|"},
		{"%pI6c|", {P(ip6)}, 40, "2001:0db8:0000:0000:0000:0000:0000:0001|"},
		{"%5pI4|%5pB|", {P(ip4), 0}, 12, "1.2.3.4|0x0|"},
		{"%pB|%ps|%pS|", {0, 0x1234, 0}, 15, "0x0|0x1234|0x0|"},
		{"%p,%p.%p", {1, 2, 3}, 50, "0000000000000001,0000000000000002.0000000000000003"},
		{"\t%d\r", {1}, 3, "\t1\r"},
		{"caf\xc3\xa9 \xa0%d", {1}, 8, "caf\xc3\xa9 \xa0" "1"},
		{"%1000d%1000d|", {1, 2}, 2001, NULL}, /* checked below: cut at 1023 */
		{"%9999999d|", {1}, 8388608, NULL},
		/* refused formats */
		{"%o", {8}, -EINVAL, NULL},
		{"%hd", {1}, -EINVAL, NULL},
		{"%.2d", {1}, -EINVAL, NULL},
		{"%#x", {1}, -EINVAL, NULL},
		{"%*d", {1, 2}, -EINVAL, NULL},
		{"%5%|", {0}, -EINVAL, NULL},
		{"%", {0}, -EINVAL, NULL},
		{"%d%", {1}, -EINVAL, NULL},
		{"%l", {0}, -EINVAL, NULL},
		{"%lc|", {65}, -EINVAL, NULL},
		{"%ls|", {P("a")}, -EINVAL, NULL},
		{"%lld%hhd", {1, 2}, -EINVAL, NULL},
		{"%sX|", {P("a")}, -EINVAL, NULL},
		{"%pksX", {P("a")}, -EINVAL, NULL},
		{"%pa", {1}, -EINVAL, NULL},
		{"%pI5", {1}, -EINVAL, NULL},
		{"%pe", {1}, -EINVAL, NULL},
		{"%n", {1}, -EINVAL, NULL},
		{"%f", {1}, -EINVAL, NULL},
		{"%d %d %d %d", {1, 2, 3}, -EINVAL, NULL},
		{"\x01%d", {1}, -EINVAL, NULL},
		{"a\x1b", {0}, -EINVAL, NULL},
		{"a\x7f", {0}, -EINVAL, NULL},
	};
	bee_trace_set_hook(catch_trace, NULL);
	for (size_t i = 0; i < LEN(cases); i++) {
		const struct fmt_case *c = &cases[i];
		int64_t ret = printk3(c->fmt, c->a[0], c->a[1], c->a[2]);
		CHECK(ret == c->ret, "trace_printk(\"%s\") returned %" PRId64 ", want %" PRId64, c->fmt,
		      ret, c->ret);
		if (c->ret < 0)
			CHECK(caught_count == 0, "refused \"%s\" emitted \"%s\"", c->fmt, caught);
		else if (c->out)
			CHECK(caught_count == 1 && strcmp(caught, c->out) == 0,
			      "trace_printk(\"%s\") emitted \"%s\", want \"%s\"", c->fmt, caught, c->out);
	}
	/* the 1024-byte buffer: the message is cut at 1023, the result is not */
	int64_t ret = printk3("%1000d%1000d|", 1, 2, 0);
	CHECK(ret == 2001 && caught_len == 1023 && caught[998] == ' ' && caught[999] == '1' &&
		      caught[1022] == ' ',
	      "long output: ret %" PRId64 " len %zu", ret, caught_len);

	/* unreadable memory for %s and friends: empty strings, no crash */
	ret = printk3("[%s][%pus][%pi6]", P(hole), P(hole + 100), P(hole));
	char zeros[64];
	snprintf(zeros, sizeof(zeros), "[][][%032d]", 0);
	CHECK(ret == 38 && strcmp(caught, zeros) == 0,
	      "unmapped page: %" PRId64 " \"%s\"", ret, caught);
	/* a string ending just before an unmapped page is read whole */
	char *edge = hole - 4;
	memcpy(edge, "end", 4);
	ret = printk3("<%s>", P(edge), 0, 0);
	CHECK(ret == 5 && strcmp(caught, "<end>") == 0, "string before a hole: \"%s\"", caught);
	memcpy(hole - 3, "xyz", 3); /* no NUL before the hole: the copy faults */
	ret = printk3("<%s>", P(hole - 3), 0, 0);
	CHECK(ret == 2 && strcmp(caught, "<>") == 0, "string running into a hole: \"%s\"", caught);

	/* fmt_size: the NUL must be inside; more bytes after it are fine */
	catch_reset();
	const char abc[] = "abcdef";
	CHECK((int64_t)call(BPF_FUNC_trace_printk, P(abc), 3, 0, 0, 0) == -EINVAL,
	      "no NUL within fmt_size");
	CHECK((int64_t)call(BPF_FUNC_trace_printk, P(abc), 0, 0, 0, 0) == -EINVAL, "fmt_size 0");
	CHECK((int64_t)call(BPF_FUNC_trace_printk, P("abc\0def"), 8, 0, 0, 0) == 3 &&
		      strcmp(caught, "abc") == 0,
	      "fmt stops at its NUL");
	CHECK(caught_count == 1, "one message for three calls, two refused");
	bee_trace_set_hook(NULL, NULL);
	void *user = &user;
	CHECK(bee_trace_get_hook(&user) == NULL && user == NULL, "hook cleared");
}

/* Build the expected symbol text as bee describes it. */
static void expect_symbol(char *out, size_t size, void *addr, char mode)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	uintptr_t look = (uintptr_t)addr - (mode == 'B');
	if (!dladdr1((void *)look, &info, (void **)&sym, RTLD_DL_SYMENT) || !info.dli_sname) {
		snprintf(out, size, "0x%lx", (unsigned long)(uintptr_t)addr);
		return;
	}
	const char *base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	unsigned long off = (unsigned long)((uintptr_t)addr - (uintptr_t)info.dli_saddr);
	if (mode == 's')
		snprintf(out, size, "%s [%s]", info.dli_sname, base);
	else
		snprintf(out, size, "%s+0x%lx/0x%lx [%s]", info.dli_sname, off,
			 (unsigned long)sym->st_size, base);
}

static void test_printk_symbols(void)
{
	/* a libc function (the test itself exports no dynamic symbols) */
	void *fn = dlsym(RTLD_DEFAULT, "getpid");
	char want[512], fmt[16];
	bee_trace_set_hook(catch_trace, NULL);
	const char modes[] = {'s', 'S', 'B'};
	for (size_t i = 0; i < sizeof(modes); i++) {
		void *addr = modes[i] == 'B' ? (char *)fn + 1 : fn;
		expect_symbol(want, sizeof(want), addr, modes[i]);
		snprintf(fmt, sizeof(fmt), "%%p%c", modes[i]);
		int64_t ret = printk3(fmt, P(addr), 0, 0);
		CHECK(ret == (int64_t)strlen(want) && strcmp(caught, want) == 0,
		      "%s of getpid: \"%s\", want \"%s\"", fmt, caught, want);
	}
	CHECK(strstr(caught, "+0x1/") != NULL, "%%pB prints the return address's offset: %s", caught);
	/* %ps takes a width, %pB does not */
	expect_symbol(want, sizeof(want), fn, 's');
	char padded[600];
	snprintf(padded, sizeof(padded), "%*s|", 60, want);
	printk3("%60ps|", P(fn), 0, 0);
	CHECK(strcmp(caught, padded) == 0, "%%60ps: \"%s\"", caught);
	bee_trace_set_hook(NULL, NULL);
}

static void test_vprintk_and_snprintf(void)
{
	bee_trace_set_hook(catch_trace, NULL);
	uint64_t data[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
	const char *f12 = "%d %d %d %d %d %d %d %d %d %d %d %d";
	catch_reset();
	int64_t ret = (int64_t)call(BPF_FUNC_trace_vprintk, P(f12), strlen(f12) + 1, P(data), 96, 0);
	CHECK(ret == 26 && strcmp(caught, "1 2 3 4 5 6 7 8 9 10 11 12") == 0,
	      "vprintk with 12 args: %" PRId64 " \"%s\"", ret, caught);
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P(f12), strlen(f12) + 1, P(data), 104, 0) ==
		      -EINVAL,
	      "vprintk: 13 args refused");
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P(f12), strlen(f12) + 1, P(data), 88, 0) ==
		      -EINVAL,
	      "vprintk: 12 conversions, 11 args");
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P("%d"), 3, P(data), 12, 0) == -EINVAL,
	      "vprintk: data_len not a multiple of 8");
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P("%d"), 3, 0, 8, 0) == -EINVAL,
	      "vprintk: NULL data");
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P("hi %%"), 6, 0, 0, 0) == 4,
	      "vprintk: no data, no conversions");
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P("%d"), 3, 0, 0, 0) == -EINVAL,
	      "vprintk: a conversion without data");
	/* data_len is a u32: the upper half of r4 is not looked at */
	CHECK((int64_t)call(BPF_FUNC_trace_vprintk, P("%d"), 3, P(data), 8 | (1ull << 32), 0) == 1,
	      "vprintk: data_len is 32 bits");

	/* bin_args is 512 bytes: strings are cut to fit, then -ENOSPC */
	char s100[101];
	memset(s100, 'a', 100);
	s100[100] = '\0';
	uint64_t sargs[12] = {P(s100), P(s100), P(s100), P(s100), P(s100), P(s100), 7, 8};
	catch_reset();
	ret = (int64_t)call(BPF_FUNC_trace_vprintk, P("%s%s%s%s%s%s|"), 14, P(sargs), 48, 0);
	CHECK(ret == 507 && caught_len == 507 && strcmp(caught + 500, "aaaaaa|") == 0,
	      "strings fill bin_args: %" PRId64 " len %zu", ret, caught_len);
	ret = (int64_t)call(BPF_FUNC_trace_vprintk, P("%s%s%s%s%s%s%s"), 15, P(sargs), 56, 0);
	CHECK(ret == -ENOSPC, "a string with no room left: %" PRId64, ret);
	ret = (int64_t)call(BPF_FUNC_trace_vprintk, P("%s%s%s%s%s%c%c%c%c%c%c%c%d"), 27, P(sargs),
			    96, 0);
	CHECK(ret == -EINVAL, "13 conversions for 12 args: %" PRId64, ret);
	uint64_t iargs[12] = {P(s100), P(s100), P(s100), P(s100), P(s100), 1, 2, 3};
	ret = (int64_t)call(BPF_FUNC_trace_vprintk, P("%s%s%s%s%s%d%d"), 15, P(iargs), 56, 0);
	CHECK(ret == -ENOSPC, "an int with no room left: %" PRId64, ret);
	ret = (int64_t)call(BPF_FUNC_trace_vprintk, P("%s%s%s%s%s%d"), 13, P(iargs), 48, 0);
	CHECK(ret == 501 && strcmp(caught + 500, "1") == 0, "one int still fits: %" PRId64, ret);
	bee_trace_set_hook(NULL, NULL);

	/* bpf_snprintf: the length with the NUL, the output cut and terminated */
	char out[32];
	uint64_t sdata[3] = {42, P("str"), (uint64_t)-1};
	memset(out, 'x', sizeof(out));
	ret = (int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P("n=%d s=%s l=%lld"), P(sdata),
			    24);
	CHECK(ret == 16 && strcmp(out, "n=42 s=str l=-1") == 0, "snprintf: %" PRId64 " \"%s\"", ret,
	      out);
	memset(out, 'x', sizeof(out));
	ret = (int64_t)call(BPF_FUNC_snprintf, P(out), 5, P("n=%d s=%s l=%lld"), P(sdata), 24);
	CHECK(ret == 16 && strcmp(out, "n=42") == 0 && out[5] == 'x', "snprintf cut: \"%s\"", out);
	ret = (int64_t)call(BPF_FUNC_snprintf, 0, 0, P("n=%d"), P(sdata), 8);
	CHECK(ret == 5, "snprintf sizing with a NULL buffer: %" PRId64, ret);
	ret = (int64_t)call(BPF_FUNC_snprintf, P(out), 1, P("n=%d"), P(sdata), 8);
	CHECK(ret == 5 && out[0] == '\0', "snprintf into one byte");
	ret = (int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P(""), 0, 0);
	CHECK(ret == 1 && out[0] == '\0', "snprintf of an empty format");
	CHECK((int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P("%d"), P(sdata), 7) == -EINVAL,
	      "snprintf: data_len %% 8");
	CHECK((int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P("%d"), P(sdata), 13 * 8) ==
		      -EINVAL,
	      "snprintf: 13 args");
	CHECK((int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P("%q"), P(sdata), 8) == -EINVAL,
	      "snprintf: bad conversion");
	CHECK((int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), P("%d %d"), P(sdata), 8) ==
		      -EINVAL,
	      "snprintf: too few args");
	CHECK((int64_t)call(BPF_FUNC_snprintf, P(out), sizeof(out), 0, P(sdata), 8) == -EFAULT,
	      "snprintf: NULL fmt");
	/* output stopped early: a pre-made %pI4 is then neither counted nor
	 * stepped over, so the %s after it prints it (the kernel's quirk) */
	uint64_t qdata[2] = {P(ip4), P("zz")};
	ret = (int64_t)call(BPF_FUNC_snprintf, P(out), 3, P("abcd%pI4|%s"), P(qdata), 16);
	CHECK(ret == 4 + 1 + 7 + 1, "snprintf past the end with %%pI4: %" PRId64, ret);

	/* bee_bprintf directly */
	char buf[64];
	uint64_t one = 7;
	CHECK(bee_bprintf(buf, sizeof(buf), "x%dy", 5, &one, 1) == 3 && strcmp(buf, "x7y") == 0,
	      "bee_bprintf");
	CHECK(bee_bprintf(buf, sizeof(buf), "x%dy", 5, &one, 13) == -EINVAL, "nargs > 12");
}

static void test_strtol(void)
{
	struct {
		const char *s;
		size_t len; /* 0: strlen */
		uint64_t flags;
		int64_t ret, val;       /* strtol */
		int64_t uret; uint64_t uval; /* strtoul */
	} cases[] = {
		{"123", 0, 0, 3, 123, 3, 123},
		{"  -42xyz", 0, 0, 5, -42, -EINVAL, 0},
		{"\t\n\v\f\r 7", 0, 10, 7, 7, 7, 7},
		{"\xa0" "5", 0, 10, 2, 5, 2, 5}, /* the kernel's isspace has 0xa0 */
		{"+5", 0, 0, -EINVAL, 0, -EINVAL, 0},
		{"0x1f", 0, 0, 4, 31, 4, 31},
		{"0X1F", 0, 16, 4, 31, 4, 31},
		{"1f", 0, 16, 2, 31, 2, 31},
		{"0x", 0, 0, 1, 0, 1, 0},     /* octal 0, then 'x' */
		{"0xg", 0, 0, 1, 0, 1, 0},
		{"0x", 0, 16, -EINVAL, 0, -EINVAL, 0},
		{"0xg", 0, 16, -EINVAL, 0, -EINVAL, 0},
		{"0x10", 0, 10, 1, 0, 1, 0},
		{"0x10", 0, 8, 1, 0, 1, 0},
		{"017", 0, 0, 3, 15, 3, 15},
		{"018", 0, 0, 2, 1, 2, 1},
		{"19", 0, 8, 1, 1, 1, 1},
		{"", 1, 0, -EINVAL, 0, -EINVAL, 0},
		{"   ", 0, 0, -EINVAL, 0, -EINVAL, 0},
		{"-", 0, 0, -EINVAL, 0, -EINVAL, 0},
		{"--1", 0, 0, -EINVAL, 0, -EINVAL, 0},
		{"- 1", 0, 0, -EINVAL, 0, -EINVAL, 0},
		{"-0", 0, 0, 2, 0, -EINVAL, 0},
		{"12345", 3, 0, 3, 123, 3, 123}, /* buf_len ends it */
		{"9223372036854775807", 0, 0, 19, INT64_MAX, 19, INT64_MAX},
		{"9223372036854775808", 0, 0, -ERANGE, 0, 19, 9223372036854775808ull},
		{"-9223372036854775808", 0, 0, 20, INT64_MIN, -EINVAL, 0},
		{"-9223372036854775809", 0, 0, -ERANGE, 0, -EINVAL, 0},
		{"18446744073709551615", 0, 0, -ERANGE, 0, 20, UINT64_MAX},
		{"18446744073709551616", 0, 0, -ERANGE, 0, -ERANGE, 0},
		{"0xffffffffffffffff", 0, 0, -ERANGE, 0, 18, UINT64_MAX},
		{"0x10000000000000000", 0, 0, -ERANGE, 0, -ERANGE, 0},
		{"1777777777777777777777", 0, 8, -ERANGE, 0, 22, UINT64_MAX},
		{"7", 0, 2, -EINVAL, 0, -EINVAL, 0},
		{"7", 0, 10 | 0x20, -EINVAL, 0, -EINVAL, 0},
		{"7", 0, 0x1f, -EINVAL, 0, -EINVAL, 0},
		/* only 63 characters after the sign are looked at: zeros[] below */
		{NULL, 0, 10, 66, 0, 66, 0},
	};
	char zeros[80];
	memset(zeros, '0', sizeof(zeros));
	memcpy(zeros, "   ", 3);
	zeros[78] = '1';
	zeros[79] = '\0';
	for (size_t i = 0; i < LEN(cases); i++) {
		if (!cases[i].s)
			cases[i].s = zeros;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
		int64_t res = 0x5555;
		int64_t ret = (int64_t)call(BPF_FUNC_strtol, P(cases[i].s), len, cases[i].flags,
					    P(&res), 0);
		CHECK(ret == cases[i].ret && res == (ret < 0 ? 0 : cases[i].val),
		      "strtol(\"%s\", %zu, %" PRIu64 ") = %" PRId64 ", %" PRId64 "; want %" PRId64
		      ", %" PRId64,
		      cases[i].s, len, cases[i].flags, ret, res, cases[i].ret, cases[i].val);
		uint64_t ures = 0x5555;
		ret = (int64_t)call(BPF_FUNC_strtoul, P(cases[i].s), len, cases[i].flags, P(&ures), 0);
		CHECK(ret == cases[i].uret && ures == (ret < 0 ? 0 : cases[i].uval),
		      "strtoul(\"%s\", %zu, %" PRIu64 ") = %" PRId64 ", %" PRIu64 "; want %" PRId64
		      ", %" PRIu64,
		      cases[i].s, len, cases[i].flags, ret, ures, cases[i].uret, cases[i].uval);
	}
	int64_t res = 9;
	CHECK((int64_t)call(BPF_FUNC_strtol, P("1"), 0, 0, P(&res), 0) == -EINVAL && res == 0,
	      "strtol: buf_len 0");
	CHECK((int64_t)call(BPF_FUNC_strtol, P("1"), 1, 0, 0, 0) == -EFAULT, "strtol: NULL res");
}

static void test_task(void)
{
	uint64_t pt = call(BPF_FUNC_get_current_pid_tgid, 0, 0, 0, 0, 0);
	CHECK(pt >> 32 == (uint64_t)getpid() && (uint32_t)pt == (uint32_t)gettid(),
	      "pid_tgid = tgid << 32 | tid");
	uint64_t ug = call(BPF_FUNC_get_current_uid_gid, 0, 0, 0, 0, 0);
	CHECK(ug >> 32 == getgid() && (uint32_t)ug == getuid(), "uid_gid = gid << 32 | uid");

	char old[17] = {0};
	prctl(PR_GET_NAME, old, 0, 0, 0);
	prctl(PR_SET_NAME, "bee-helpers-tst", 0, 0, 0);
	char comm[32];
	memset(comm, 'x', sizeof(comm));
	CHECK(call(BPF_FUNC_get_current_comm, P(comm), sizeof(comm), 0, 0, 0) == 0 &&
		      strcmp(comm, "bee-helpers-tst") == 0 && comm[15] == 0 && comm[31] == 0,
	      "comm, NUL-padded: \"%s\"", comm);
	memset(comm, 'x', sizeof(comm));
	CHECK(call(BPF_FUNC_get_current_comm, P(comm), 4, 0, 0, 0) == 0 &&
		      strcmp(comm, "bee") == 0 && comm[4] == 'x',
	      "comm cut to size - 1");
	CHECK((int64_t)call(BPF_FUNC_get_current_comm, P(comm), 0, 0, 0, 0) == -EINVAL,
	      "comm: size 0");

	struct bee_task *t = (struct bee_task *)(uintptr_t)call(BPF_FUNC_get_current_task, 0, 0, 0,
								   0, 0);
	CHECK(t && t->magic == BEE_TASK_MAGIC && t->pid == gettid() && t->tgid == getpid() &&
		      strcmp(t->comm, "bee-helpers-tst") == 0,
	      "current task");
	CHECK(call(BPF_FUNC_get_current_task_btf, 0, 0, 0, 0, 0) == P(t), "task_btf is the same");
	uint64_t word = 77;
	CHECK((int64_t)call(BPF_FUNC_probe_read_kernel, P(&word), 8, P(t), 0, 0) == -ERANGE &&
		      word == 0,
	      "probe_read_kernel of the task is refused, destination zeroed");
	prctl(PR_SET_NAME, old, 0, 0, 0);

	CHECK(call(BPF_FUNC_get_numa_node_id, 0, 0, 0, 0, 0) == 0, "numa node 0");
	uint64_t j1 = call(BPF_FUNC_jiffies64, 0, 0, 0, 0, 0);
	usleep(20000);
	uint64_t j2 = call(BPF_FUNC_jiffies64, 0, 0, 0, 0, 0);
	CHECK(j1 >= (uint32_t)(-300 * BEE_HZ) && j2 >= j1 + 4 && j2 < j1 + 1000,
	      "jiffies64 at 250 Hz: %" PRIu64 " -> %" PRIu64, j1, j2);
}

static void test_probe_read(void)
{
	char dst[16];
	static const char src[] = "hello";
	memset(dst, 'x', sizeof(dst));
	CHECK(call(BPF_FUNC_probe_read_user, P(dst), 6, P(src), 0, 0) == 0 &&
		      memcmp(dst, "hello\0x", 7) == 0,
	      "probe_read_user");
	CHECK(call(BPF_FUNC_probe_read, P(dst), 3, P(src + 1), 0, 0) == 0 &&
		      memcmp(dst, "ell", 3) == 0,
	      "probe_read (old)");
	const uint64_t bad[] = {0, 8, 4096, P(hole), P(hole + 4000), 0xffff800000000000ull,
				UINT64_MAX - 3};
	for (size_t i = 0; i < LEN(bad); i++) {
		static const int32_t ids[] = {BPF_FUNC_probe_read_user, BPF_FUNC_probe_read,
					      BPF_FUNC_probe_read_user_str, BPF_FUNC_probe_read_str};
		for (size_t k = 0; k < LEN(ids); k++) {
			memset(dst, 'x', sizeof(dst));
			int64_t ret = (int64_t)call(ids[k], P(dst), sizeof(dst), bad[i], 0, 0);
			char zero[16] = {0};
			CHECK(ret == -EFAULT && memcmp(dst, zero, sizeof(dst)) == 0,
			      "helper %d of 0x%" PRIx64 ": %" PRId64 ", destination zeroed", ids[k],
			      bad[i], ret);
		}
	}
	/* a read that starts readable and runs into the hole */
	memset(dst, 'x', sizeof(dst));
	CHECK((int64_t)call(BPF_FUNC_probe_read_user, P(dst), 8, P(hole - 4), 0, 0) == -EFAULT &&
		      dst[0] == 0,
	      "read across into a hole");
	CHECK(call(BPF_FUNC_probe_read_user, P(dst), 0, 8, 0, 0) == 0, "size 0 reads nothing");

	/* _str: length with the NUL; cut at size; the rest of dst untouched */
	memset(dst, 'x', sizeof(dst));
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), sizeof(dst), P(src), 0, 0) == 6 &&
		      strcmp(dst, "hello") == 0 && dst[6] == 'x',
	      "probe_read_user_str");
	memset(dst, 'x', sizeof(dst));
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), 4, P(src), 0, 0) == 4 &&
		      strcmp(dst, "hel") == 0,
	      "probe_read_user_str cut");
	CHECK(call(BPF_FUNC_probe_read_str, P(dst), sizeof(dst), P(""), 0, 0) == 1 && dst[0] == 0,
	      "empty string: 1");
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), 1, P(src), 0, 0) == 1 && dst[0] == 0,
	      "size 1: just the NUL");
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), 0, 8, 0, 0) == 0, "_str size 0: 0");
	memcpy(hole - 4, "end", 4);
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), sizeof(dst), P(hole - 4), 0, 0) == 4,
	      "string up to a hole");
	/* a string that crosses a page boundary */
	static char across[8192];
	char *cross = (char *)(((uintptr_t)across + 4096) & ~(uintptr_t)4095) - 3;
	memcpy(cross, "abcdefg", 8);
	CHECK(call(BPF_FUNC_probe_read_user_str, P(dst), sizeof(dst), P(cross), 0, 0) == 8 &&
		      strcmp(dst, "abcdefg") == 0,
	      "string across pages");

	/* the kernel variants refuse everything */
	memset(dst, 'x', sizeof(dst));
	CHECK((int64_t)call(BPF_FUNC_probe_read_kernel, P(dst), 4, P(src), 0, 0) == -ERANGE &&
		      dst[0] == 0 && dst[3] == 0 && dst[4] == 'x',
	      "probe_read_kernel: -ERANGE, zeroed");
	memset(dst, 'x', sizeof(dst));
	CHECK((int64_t)call(BPF_FUNC_probe_read_kernel_str, P(dst), 4, P(src), 0, 0) == -ERANGE &&
		      dst[0] == 0 && dst[4] == 'x',
	      "probe_read_kernel_str: -ERANGE, zeroed");
	CHECK(call(BPF_FUNC_probe_read_kernel_str, P(dst), 0, P(src), 0, 0) == 0,
	      "probe_read_kernel_str size 0");

	/* the primitives */
	char big[3 * 4096];
	char *from = malloc(sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		from[i] = (char)i;
	CHECK(bee_probe_copy(big, P(from), sizeof(big)) == 0 && memcmp(big, from, sizeof(big)) == 0,
	      "bee_probe_copy of 3 pages");
	free(from);
}

/* ---- from programs ---- */

static int run(const struct bpf_insn *insns, size_t n, bool checked, void *mem, size_t mem_len,
	       bool ro, uint64_t *r0)
{
	struct bee_error err;
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = builtins, .trusted = !checked};
	struct bee_code *code = bee_code_load(insns, n, &copts, &err);
	if (!code) {
		printf("load failed: %s\n", err.msg);
		return err.code;
	}
	struct bee_run_opts ropts = {.sz = sizeof(ropts),
				     .flags = checked ? BEE_RUN_CHECKED : 0,
				     .mem = mem,
				     .mem_len = mem_len,
				     .mem_readonly = ro};
	struct bee_run_result res;
	int ret = bee_code_run(code, &ropts, &res);
	*r0 = res.r0;
	if (ret)
		printf("run stopped: %s\n", res.err.msg);
	bee_code_free(code);
	return ret;
}

static uint64_t le64(const char *s)
{
	uint64_t v = 0;
	memcpy(&v, s, strnlen(s, 8));
	return v;
}

static void test_programs(void)
{
	static char outside[64] = "x=%d\n";
	bee_trace_set_hook(catch_trace, NULL);
	for (int mode = 0; mode < 2; mode++) {
		bool checked = mode == 0;
		/* trace_printk("x=%d\n", 6, 42) with the format on the stack */
		struct bpf_insn p[] = {LD_IMM64(1, le64("x=%d\n")),
				       STX(BPF_DW, 10, 1, -8),
				       MOV64_REG(1, 10),
				       ADD64_IMM(1, -8),
				       MOV64_IMM(2, 6),
				       MOV64_IMM(3, 42),
				       CALL_HELPER(BPF_FUNC_trace_printk),
				       EXIT()};
		uint64_t r0 = 0;
		catch_reset();
		int ret = run(p, LEN(p), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && r0 == 5 && strcmp(caught, "x=42\n") == 0,
		      "program trace_printk (%s): %d r0=%" PRIu64 " \"%s\"", checked ? "checked" : "fast",
		      ret, r0, caught);

		/* snprintf into the stack, then the length back */
		uint64_t data = 1234;
		struct bpf_insn s[] = {LD_IMM64(1, le64("<%d>")),
				       STX(BPF_DW, 10, 1, -8),
				       LD_IMM64(1, data),
				       STX(BPF_DW, 10, 1, -16),
				       MOV64_REG(1, 10),
				       ADD64_IMM(1, -32),
				       MOV64_IMM(2, 16),
				       MOV64_REG(3, 10),
				       ADD64_IMM(3, -8),
				       MOV64_REG(4, 10),
				       ADD64_IMM(4, -16),
				       MOV64_IMM(5, 8),
				       CALL_HELPER(BPF_FUNC_snprintf),
				       LDX(BPF_W, 1, 10, -32),
				       INSN(BPF_ALU64 | BPF_LSH | BPF_K, 1, 0, 0, 8),
				       ADD64_REG(0, 1),
				       EXIT()};
		ret = run(s, LEN(s), checked, NULL, 0, false, &r0);
		/* r0 = 7 + ("<123" as a little-endian u32 << 8) */
		uint64_t want = 7 + ((uint64_t)le64("<123") << 8);
		CHECK(ret == 0 && r0 == want, "program snprintf: r0=%" PRIx64, r0);

		/* strtol of "-77" on the stack into the stack */
		struct bpf_insn t[] = {LD_IMM64(1, le64(" -77")),
				       STX(BPF_DW, 10, 1, -8),
				       MOV64_REG(1, 10),
				       ADD64_IMM(1, -8),
				       MOV64_IMM(2, 4),
				       MOV64_IMM(3, 0),
				       MOV64_REG(4, 10),
				       ADD64_IMM(4, -16),
				       CALL_HELPER(BPF_FUNC_strtol),
				       LDX(BPF_DW, 1, 10, -16),
				       INSN(BPF_ALU64 | BPF_MUL | BPF_K, 1, 0, 0, 10),
				       ADD64_REG(0, 1),
				       EXIT()};
		ret = run(t, LEN(t), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && (int64_t)r0 == 4 - 770, "program strtol: r0=%" PRId64, (int64_t)r0);

		/* probe_read_user of a wild pointer: -EFAULT, no crash, zeroed */
		struct bpf_insn w[] = {ST(BPF_DW, 10, -8, 0x55),
				       MOV64_REG(1, 10),
				       ADD64_IMM(1, -8),
				       MOV64_IMM(2, 8),
				       MOV64_IMM(3, 16),
				       CALL_HELPER(BPF_FUNC_probe_read_user),
				       LDX(BPF_DW, 1, 10, -8),
				       ADD64_REG(0, 1),
				       EXIT()};
		ret = run(w, LEN(w), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && (int64_t)r0 == -EFAULT, "program probe_read of 16: r0=%" PRId64,
		      (int64_t)r0);
		/* of memory the program was not given: probe reads may read it */
		struct bpf_insn g[] = {MOV64_REG(1, 10),
				       ADD64_IMM(1, -8),
				       MOV64_IMM(2, 8),
				       LD_IMM64(3, P(outside)),
				       CALL_HELPER(BPF_FUNC_probe_read_user),
				       LDX(BPF_DW, 1, 10, -8),
				       ADD64_REG(0, 1),
				       EXIT()};
		ret = run(g, LEN(g), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && r0 == le64(outside), "program probe_read of a global");

		/* the task through the _btf pointer, loaded directly */
		struct bpf_insn k[] = {CALL_HELPER(BPF_FUNC_get_current_task_btf),
				       LDX(BPF_W, 0, 0, 0), EXIT()};
		ret = run(k, LEN(k), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && r0 == BEE_TASK_MAGIC, "task_btf is readable: ret %d", ret);

		struct bpf_insn c[] = {MOV64_REG(1, 10), ADD64_IMM(1, -16), MOV64_IMM(2, 16),
				       CALL_HELPER(BPF_FUNC_get_current_comm), LDX(BPF_B, 0, 10, -16),
				       EXIT()};
		char name[17] = {0};
		prctl(PR_GET_NAME, name, 0, 0, 0);
		ret = run(c, LEN(c), checked, NULL, 0, false, &r0);
		CHECK(ret == 0 && r0 == (unsigned char)name[0], "program comm");
	}

	/* checked only: pointers outside the program's memory are refused */
	struct bpf_insn f[] = {LD_IMM64(1, P(outside)), MOV64_IMM(2, 6), MOV64_IMM(3, 42),
			       CALL_HELPER(BPF_FUNC_trace_printk), EXIT()};
	uint64_t r0 = 0;
	catch_reset();
	int ret = run(f, LEN(f), true, NULL, 0, false, &r0);
	CHECK(ret == 0 && (int64_t)r0 == -EFAULT && caught_count == 0,
	      "checked: a format outside the program's memory: r0=%" PRId64, (int64_t)r0);
	ret = run(f, LEN(f), false, NULL, 0, false, &r0);
	CHECK(ret == 0 && r0 == 5 && strcmp(caught, "x=42\n") == 0, "fast: trusted format pointer");

	/* snprintf into read-only input memory */
	char ro[16] = "";
	struct bpf_insn sro[] = {MOV64_IMM(2, 16), LD_IMM64(3, P("fixed")), MOV64_IMM(4, 0),
				 MOV64_IMM(5, 0), CALL_HELPER(BPF_FUNC_snprintf), EXIT()};
	ret = run(sro, LEN(sro), true, ro, sizeof(ro), true, &r0);
	CHECK(ret == 0 && (int64_t)r0 == -EFAULT && ro[0] == 0,
	      "checked: snprintf into read-only memory: r0=%" PRId64, (int64_t)r0);
	/* ... and into writable input memory, with the format there too */
	char rw[32] = "";
	memcpy(rw + 16, "fixed", 6);
	struct bpf_insn srw[] = {MOV64_REG(6, 1), MOV64_IMM(2, 16), MOV64_REG(3, 6),
				 ADD64_IMM(3, 16), MOV64_IMM(4, 0), MOV64_IMM(5, 0),
				 CALL_HELPER(BPF_FUNC_snprintf), EXIT()};
	ret = run(srw, LEN(srw), true, rw, sizeof(rw), false, &r0);
	CHECK(ret == 0 && r0 == 6 && strcmp(rw, "fixed") == 0, "checked: snprintf into input: %" PRId64,
	      (int64_t)r0);
	/* a format that runs off the program's memory without a NUL */
	char nonul[8];
	memset(nonul, 'a', sizeof(nonul));
	struct bpf_insn snn[] = {MOV64_REG(3, 1), MOV64_IMM(1, 0), MOV64_IMM(2, 0), MOV64_IMM(4, 0),
				 MOV64_IMM(5, 0), CALL_HELPER(BPF_FUNC_snprintf), EXIT()};
	ret = run(snn, LEN(snn), true, nonul, sizeof(nonul), true, &r0);
	CHECK(ret == 0 && (int64_t)r0 == -EINVAL, "checked: unterminated format: %" PRId64,
	      (int64_t)r0);
	/* probe_read into memory the program may not write */
	struct bpf_insn pro[] = {MOV64_IMM(2, 8), LD_IMM64(3, P(outside)),
				 CALL_HELPER(BPF_FUNC_probe_read_user), EXIT()};
	memset(ro, 'q', sizeof(ro));
	ret = run(pro, LEN(pro), true, ro, sizeof(ro), true, &r0);
	CHECK(ret == 0 && (int64_t)r0 == -EFAULT && ro[0] == 'q',
	      "checked: probe_read into read-only memory: %" PRId64, (int64_t)r0);
	bee_trace_set_hook(NULL, NULL);
}

static void test_trace_line(void)
{
	char line[256];
	size_t n = bee_trace_format_line(line, sizeof(line), "kexp", 7051, 0, 9181393657000ull,
					 "hello 42\n", 9);
	const char *want =
		"            kexp-7051    [000] .....  9181.393657: bpf_trace_printk: hello 42\n\n";
	CHECK(n == strlen(want) && strcmp(line, want) == 0, "trace line: \"%s\"", line);
	n = bee_trace_format_line(line, sizeof(line), "a-very-long-command-name", 12345678, 12,
				  999999500ull, "x", 1);
	want = " a-very-long-com-12345678 [012] .....     1.000000: bpf_trace_printk: x\n";
	CHECK(n == strlen(want) && strcmp(line, want) == 0, "long comm and pid, rounding: \"%s\"",
	      line);
	n = bee_trace_format_line(line, sizeof(line), "t", 1, 1, 123456789012345ull, "", 0);
	want = "               t-1       [001] ..... 123456.789012: bpf_trace_printk: \n";
	CHECK(n == strlen(want) && strcmp(line, want) == 0, "big seconds: \"%s\"", line);
	char small[20];
	n = bee_trace_format_line(small, sizeof(small), "kexp", 7051, 0, 0, "msg", 3);
	CHECK(n == 73 && strlen(small) == 19 && memcmp(small, "            kexp-70", 19) == 0,
	      "cut line: %zu \"%s\"", n, small);
	n = bee_trace_format_line(NULL, 0, "kexp", 7051, 0, 0, "msg", 3);
	CHECK(n == 73, "sizing: %zu", n);
	/* the message part is exactly len bytes, not up to a NUL */
	n = bee_trace_format_line(line, sizeof(line), "t", 1, 1, 0, "abcdef", 3);
	CHECK(strstr(line, "bpf_trace_printk: abc\n") != NULL, "len bytes of msg: \"%s\"", line);
}

int main(void)
{
	builtins = bee_helper_table_new();
	CHECK(builtins && bee_helper_table_add_builtins(builtins) == 0, "builtins register");
	static const struct {
		int32_t id;
		const char *name;
	} names[] = {
		{BPF_FUNC_trace_printk, "bpf_trace_printk"},
		{BPF_FUNC_trace_vprintk, "bpf_trace_vprintk"},
		{BPF_FUNC_snprintf, "bpf_snprintf"},
		{BPF_FUNC_strtol, "bpf_strtol"},
		{BPF_FUNC_strtoul, "bpf_strtoul"},
		{BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid"},
		{BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid"},
		{BPF_FUNC_get_current_comm, "bpf_get_current_comm"},
		{BPF_FUNC_get_current_task, "bpf_get_current_task"},
		{BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf"},
		{BPF_FUNC_get_numa_node_id, "bpf_get_numa_node_id"},
		{BPF_FUNC_jiffies64, "bpf_jiffies64"},
		{BPF_FUNC_probe_read, "bpf_probe_read"},
		{BPF_FUNC_probe_read_str, "bpf_probe_read_str"},
		{BPF_FUNC_probe_read_user, "bpf_probe_read_user"},
		{BPF_FUNC_probe_read_user_str, "bpf_probe_read_user_str"},
		{BPF_FUNC_probe_read_kernel, "bpf_probe_read_kernel"},
		{BPF_FUNC_probe_read_kernel_str, "bpf_probe_read_kernel_str"},
	};
	for (size_t i = 0; i < LEN(names); i++) {
		const struct bee_helper *h = bee_helper_table_find(builtins, names[i].id);
		CHECK(h && strcmp(h->name, names[i].name) == 0, "helper %d is %s", names[i].id,
		      names[i].name);
	}

	/* two pages: the first readable, the second a hole */
	char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED || mprotect(pages + 4096, 4096, PROT_NONE)) {
		printf("FAIL: mmap\n");
		return 1;
	}
	hole = pages + 4096;

	test_printk_conversions();
	test_printk_symbols();
	test_vprintk_and_snprintf();
	test_strtol();
	test_task();
	test_probe_read();
	test_programs();
	test_trace_line();

	munmap(pages, 8192);
	bee_helper_table_free(builtins);
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
