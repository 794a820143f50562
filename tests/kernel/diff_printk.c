/*
 * diff_printk.c - bee's format and string helpers against the real
 * kernel: bpf_trace_printk (return value and the text that reaches
 * trace_pipe), bpf_trace_vprintk, and bpf_strtol/bpf_strtoul (return
 * value and result).
 *
 * Each case is run by a socket filter under BPF_PROG_TEST_RUN, with the
 * format and any string or address bytes on the BPF stack, and by bee's
 * helper called directly with the same bytes in host memory.  trace_pipe
 * is drained before each kernel run and the line that carries our pid is
 * read back after it.  Left out on purpose: %p and %pK of real addresses
 * (the kernel hashes them, bee prints them), %pks of a valid string (bee
 * has no kernel memory) and %s of a user address (the kernel's %s reads
 * kernel memory on x86).  %pus is tested with a user-space address, which
 * both read.
 *
 * Exits 0 when everything agrees, 1 on a difference, 77 (SKIP, with the
 * reason) without bpf() or without tracefs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bee/vm.h"
#include "platform/platform.h"

#include "kbpf.h"

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static struct bee_helper_table *builtins;
static int trace_fd = -1;
static int failures, compared;

/* ---- building the kernel's program ---- */

struct prog {
	struct bpf_insn insns[256];
	int n;
	unsigned char stack[512]; /* stack[512 - k] is r10 - k */
	int top;                  /* bytes of stack used */
};

static void emit(struct prog *p, struct bpf_insn insn)
{
	if (p->n < (int)(sizeof(p->insns) / sizeof(p->insns[0])))
		p->insns[p->n++] = insn;
}

static void lddw(struct prog *p, int reg, uint64_t v)
{
	emit(p, INSN(BPF_LD | BPF_DW | BPF_IMM, reg, 0, 0, (int32_t)(uint32_t)v));
	emit(p, INSN(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

/* Reserve len bytes (8-aligned) on the stack holding data; returns the
 * offset below r10. */
static int push(struct prog *p, const void *data, size_t len)
{
	int off = p->top + (int)((len + 7) & ~(size_t)7);
	memcpy(p->stack + 512 - off, data, len);
	p->top = off;
	return off;
}

/* Store the stack image and point reg at r10 - off. */
static void stack_ptr(struct prog *p, int reg, int off)
{
	emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_X, reg, 10, 0, 0));
	emit(p, INSN(BPF_ALU64 | BPF_ADD | BPF_K, reg, 0, 0, -off));
}

static void store_stack(struct prog *p)
{
	for (int off = 8; off <= p->top; off += 8) {
		uint64_t v;
		memcpy(&v, p->stack + 512 - off, 8);
		lddw(p, 1, v);
		emit(p, INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -off, 0));
	}
}

static int kernel_run(struct prog *p, int32_t *ret)
{
	static char log[65536];
	int fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, p->insns, (size_t)p->n, log,
				sizeof(log));
	if (fd < 0) {
		printf("kernel refused the test program: %s\n%s\n", strerror(-fd), log);
		return fd;
	}
	unsigned char packet[64] = {0};
	uint32_t retval = 0;
	int err = kbpf_test_run(fd, packet, sizeof(packet), 1, &retval, NULL);
	kbpf_close(fd);
	*ret = (int32_t)retval;
	return err;
}

/* ---- trace_pipe ---- */

static void drain(void)
{
	char buf[4096];
	while (read(trace_fd, buf, sizeof(buf)) > 0)
		;
}

/* The message of our bpf_trace_printk event, or NULL when none came. */
static const char *read_message(void)
{
	static char buf[8192];
	char tag[32];
	snprintf(tag, sizeof(tag), "-%-7d [", (int)getpid());
	size_t len = 0;
	for (int tries = 0; tries < 50; tries++) {
		ssize_t r = read(trace_fd, buf + len, sizeof(buf) - 1 - len);
		if (r > 0) {
			len += (size_t)r;
			buf[len] = '\0';
			const char *line = strstr(buf, tag);
			const char *msg = line ? strstr(line, "bpf_trace_printk: ") : NULL;
			if (msg && len && buf[len - 1] == '\n') {
				buf[len - 1] = '\0'; /* the newline the trace output adds */
				return msg + strlen("bpf_trace_printk: ");
			}
			continue;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static bool open_trace_pipe(char *why, size_t why_len)
{
	static const char *paths[] = {"/sys/kernel/tracing/trace_pipe",
				      "/sys/kernel/debug/tracing/trace_pipe"};
	for (int attempt = 0; attempt < 2; attempt++) {
		for (size_t i = 0; i < 2; i++) {
			trace_fd = open(paths[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
			if (trace_fd >= 0)
				return true;
		}
		/* tracefs is often just not mounted; root may mount it */
		if (attempt == 0 && mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0)
			break;
	}
	snprintf(why, why_len, "no trace_pipe (tracefs not mounted at /sys/kernel/tracing)");
	return false;
}

/* ---- what bee's helpers emit ---- */

static char caught[2048];
static int caught_count;

static void catch_trace(void *user, const char *msg, size_t len)
{
	(void)user;
	caught_count++;
	if (len > sizeof(caught) - 1)
		len = sizeof(caught) - 1;
	memcpy(caught, msg, len);
	caught[len] = '\0';
}

/* ---- bpf_trace_printk ---- */

/* An argument: a number, or bytes the program keeps on its stack. */
struct arg {
	char kind; /* 'n' number, 's' string, 'b' bytes, 'u' host pointer to a string */
	uint64_t num;
	const char *text;
	size_t len; /* for 'b' */
};

#define N(v) {'n', (uint64_t)(v), NULL, 0}
#define S(t) {'s', 0, t, 0}
#define B(t, l) {'b', 0, t, l}
#define U(t) {'u', 0, t, 0}

struct printk_case {
	const char *fmt;
	struct arg a[3];
};

static const char user_str[] = "from-user";

static void diff_printk(const struct printk_case *c, size_t idx)
{
	struct prog p;
	memset(&p, 0, sizeof(p));
	size_t flen = strlen(c->fmt) + 1;
	int fmt_off = push(&p, c->fmt, flen);
	int offs[3] = {0};
	uint64_t host[3] = {0};
	for (int i = 0; i < 3; i++) {
		const struct arg *a = &c->a[i];
		if (a->kind == 's') {
			offs[i] = push(&p, a->text, strlen(a->text) + 1);
			host[i] = (uint64_t)(uintptr_t)a->text;
		} else if (a->kind == 'b') {
			offs[i] = push(&p, a->text, a->len);
			host[i] = (uint64_t)(uintptr_t)a->text;
		} else if (a->kind == 'u') {
			host[i] = (uint64_t)(uintptr_t)a->text;
		} else {
			host[i] = a->num;
		}
	}
	store_stack(&p);
	stack_ptr(&p, 1, fmt_off);
	emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)flen));
	for (int i = 0; i < 3; i++) {
		if (offs[i])
			stack_ptr(&p, 3 + i, offs[i]);
		else
			lddw(&p, 3 + i, host[i]);
	}
	emit(&p, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_trace_printk));
	emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));

	drain();
	int32_t kret = 0;
	if (kernel_run(&p, &kret)) {
		failures++;
		return;
	}
	const char *kmsg = kret >= 0 ? read_message() : NULL;

	/* bee: the same bytes, in host memory */
	caught[0] = '\0';
	caught_count = 0;
	bee_trace_set_hook(catch_trace, NULL);
	const struct bee_helper *h = bee_helper_table_find(builtins, BPF_FUNC_trace_printk);
	int32_t bret = (int32_t)h->fn((uint64_t)(uintptr_t)c->fmt, flen, host[0], host[1], host[2]);
	bee_trace_set_hook(NULL, NULL);

	compared++;
	if (getenv("DIFF_VERBOSE"))
		printf("printk #%zu \"%s\": kernel %d \"%s\"\n", idx, c->fmt, kret,
		       kmsg ? kmsg : "(no message)");
	bool same = kret == bret && (kret < 0 ? caught_count == 0
					      : kmsg && caught_count == 1 && strcmp(kmsg, caught) == 0);
	if (!same) {
		failures++;
		printf("DIFF printk #%zu \"%s\": kernel %d \"%s\", bee %d \"%s\"\n", idx, c->fmt, kret,
		       kmsg ? kmsg : "(no message)", bret, caught_count ? caught : "(no message)");
	}
}

static const unsigned char ip4[4] = {10, 0, 200, 7};
static const unsigned char ip6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x1b, 0x21, 0xff,
				      0xfe, 0x3a, 0x00, 0x01};

static const struct printk_case printk_cases[] = {
	{"plain text", {N(0)}},
	{"a%%b%d|", {N(1)}},
	{"%d %i %u|", {N(-5), N(7), N(-1)}},
	{"%x %X %u|", {N(255), N(255), N(0x1ffffffffull)}},
	{"%ld %lu %lx|", {N(-1), N(-1), N(-1)}},
	{"%lli|%llX|%llu|", {N(-1), N(-1), N(-1)}},
	{"%d|%u|%x", {N(0x1ffffffffull), N(0x180000000ull), N(0xabcdef0123ull)}},
	{"%5d|%-5d|%05d|", {N(1), N(2), N(3)}},
	{"%+d|% d|%+u|", {N(4), N(5), N(6)}},
	{"%+ d|% +d|%+d", {N(1), N(2), N(-3)}},
	{"%-05d|%0-5d|%-+4d", {N(7), N(8), N(9)}},
	{"%08x|%-6X|%+05d", {N(0xbeef), N(0xab), N(42)}},
	{"%020lld|%-20lx|% 20li", {N(-123456789), N(0xfeed), N(-1)}},
	{"%c%c%c|", {N(65), N(0x142), N(0)}},
	{"%5c|%-3c|%1c|", {N(65), N(66), N(67)}},
	{"%s|%5s|%-5s|", {S("abc"), S("xy"), S("z")}},
	{"%s,%s", {S("verylongstring_abcdefghijklmnopqrstuvwxyz"), S("x")}},
	{"%08s|%-08s|", {S("cd"), S("ef")}},
	{"[%s][%s]", {N(0), N(8)}},
	{"[%pks][%pus]", {N(0), U(user_str)}},
	{"%p|%p|%px", {N(0), N(0xfffffffffffffff2ull), N(0x1234)}},
	{"%-20px|%020px|%5px", {N(1), N(1), N(0xabcdef)}},
	{"%pi4|%pI4|", {B((const char *)ip4, 4), B((const char *)ip4, 4)}},
	{"%pI6|%pi6", {B((const char *)ip6, 16), B((const char *)ip6, 16)}},
	{"%pI4abc|%pI6c|", {B((const char *)ip4, 4), B((const char *)ip6, 16)}},
	{"%5pI4|%5pB|", {B((const char *)ip4, 4), N(0)}},
	{"%pB|%ps|%pS|", {N(0), N(0x1234), N(0)}},
	{"%pK", {N(0)}},
	{"%pKfoo|%pxbar|", {N(0), N(0x10)}},
	{"%20ps|%-12pS|", {N(0x1234), N(0x99)}},
	{"\t%d\r\v\f", {N(1)}},
	{"caf\xc3\xa9 \xa0\x80\xff%d", {N(1)}},
	{"%1000d%1000d|", {N(1), N(2)}},
	{"%o", {N(8)}},
	{"%hd", {N(1)}},
	{"%.2d", {N(1)}},
	{"%#x", {N(1)}},
	{"%*d", {N(1), N(2)}},
	{"%5%|", {N(0)}},
	{"%", {N(0)}},
	{"%d%", {N(1)}},
	{"%l", {N(0)}},
	{"%lc|", {N(65)}},
	{"%ls|", {S("a")}},
	{"%lld%hhd", {N(1), N(2)}},
	{"%lllx", {N(1)}},
	{"%sX|", {S("a")}},
	{"%s1", {S("a")}},
	{"%pusX", {U(user_str)}},
	{"%pa", {N(1)}},
	{"%pI5", {N(1)}},
	{"%pe", {N(1)}},
	{"%pM", {N(1)}},
	{"%n", {N(1)}},
	{"%f", {N(1)}},
	{"%z", {N(1)}},
	{"%d %d %d %d", {N(1), N(2), N(3)}},
	{"\x01%d", {N(1)}},
	{"a\x1b", {N(0)}},
	{"a\x7f", {N(0)}},
};

/* ---- bpf_trace_vprintk with numbers ---- */

static void diff_vprintk(const char *fmt, const uint64_t *data, uint32_t data_len, size_t idx)
{
	struct prog p;
	memset(&p, 0, sizeof(p));
	size_t flen = strlen(fmt) + 1;
	int fmt_off = push(&p, fmt, flen);
	int data_off = data_len ? push(&p, data, data_len) : 0;
	store_stack(&p);
	stack_ptr(&p, 1, fmt_off);
	emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)flen));
	if (data_off)
		stack_ptr(&p, 3, data_off);
	else
		emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0));
	emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, (int32_t)data_len));
	emit(&p, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_trace_vprintk));
	emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));

	drain();
	int32_t kret = 0;
	if (kernel_run(&p, &kret)) {
		failures++;
		return;
	}
	const char *kmsg = kret >= 0 ? read_message() : NULL;
	caught[0] = '\0';
	caught_count = 0;
	bee_trace_set_hook(catch_trace, NULL);
	const struct bee_helper *h = bee_helper_table_find(builtins, BPF_FUNC_trace_vprintk);
	int32_t bret = (int32_t)h->fn((uint64_t)(uintptr_t)fmt, flen, (uint64_t)(uintptr_t)data,
				      data_len, 0);
	bee_trace_set_hook(NULL, NULL);
	compared++;
	bool same = kret == bret && (kret < 0 ? caught_count == 0
					      : kmsg && caught_count == 1 && strcmp(kmsg, caught) == 0);
	if (!same) {
		failures++;
		printf("DIFF vprintk #%zu \"%s\" (%u bytes of data): kernel %d \"%s\", bee %d \"%s\"\n",
		       idx, fmt, data_len, kret, kmsg ? kmsg : "(no message)", bret,
		       caught_count ? caught : "(no message)");
	}
}

/* ---- bpf_strtol / bpf_strtoul ---- */

/* Run helper id on buf (len bytes) with flags in the kernel; what = 0:
 * the return value, 1: the result's low half, 2: its high half. */
static int kernel_strto(int32_t id, const char *buf, size_t len, uint64_t flags, int what,
			int32_t *out)
{
	struct prog p;
	memset(&p, 0, sizeof(p));
	int buf_off = push(&p, buf, len);
	int res_off = push(&p, "\x55\x55\x55\x55\x55\x55\x55\x55", 8);
	store_stack(&p);
	stack_ptr(&p, 1, buf_off);
	emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, (int32_t)len));
	lddw(&p, 3, flags);
	stack_ptr(&p, 4, res_off);
	emit(&p, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id));
	if (what) {
		emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_DW, 0, 10, (int16_t)-res_off, 0));
		if (what == 2)
			emit(&p, INSN(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32));
	}
	emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	return kernel_run(&p, out);
}

static void diff_strto(const char *buf, size_t len, uint64_t flags, size_t idx)
{
	static const int32_t ids[] = {BPF_FUNC_strtol, BPF_FUNC_strtoul};
	for (size_t k = 0; k < 2; k++) {
		int32_t kret, klo, khi;
		if (kernel_strto(ids[k], buf, len, flags, 0, &kret) ||
		    kernel_strto(ids[k], buf, len, flags, 1, &klo) ||
		    kernel_strto(ids[k], buf, len, flags, 2, &khi)) {
			failures++;
			return;
		}
		uint64_t kres = (uint64_t)(uint32_t)khi << 32 | (uint32_t)klo;
		uint64_t bres = 0x5555555555555555ull;
		const struct bee_helper *h = bee_helper_table_find(builtins, ids[k]);
		int32_t bret = (int32_t)h->fn((uint64_t)(uintptr_t)buf, len, flags,
					      (uint64_t)(uintptr_t)&bres, 0);
		compared++;
		if (kret != bret || kres != bres) {
			failures++;
			printf("DIFF %s #%zu \"%.*s\" flags %" PRIu64 ": kernel %d %" PRIx64
			       ", bee %d %" PRIx64 "\n",
			       k ? "strtoul" : "strtol", idx, (int)len, buf, flags, kret, kres, bret,
			       bres);
		}
	}
}

static const struct {
	const char *s;
	uint64_t flags;
} strto_cases[] = {
	{"123", 0}, {"  -42xyz", 0}, {"\t\n\v\f\r 7", 10}, {"\xa0" "5", 10}, {"+5", 0},
	{"0x1f", 0}, {"0X1F", 16}, {"1f", 16}, {"0x", 0}, {"0xg", 0}, {"0x", 16}, {"0xg", 16},
	{"0x10", 10}, {"0x10", 8}, {"017", 0}, {"018", 0}, {"19", 8}, {"   ", 0}, {"-", 0},
	{"--1", 0}, {"- 1", 0}, {"-0", 0}, {"9223372036854775807", 0},
	{"9223372036854775808", 0}, {"-9223372036854775808", 0}, {"-9223372036854775809", 0},
	{"18446744073709551615", 0}, {"18446744073709551616", 0}, {"0xffffffffffffffff", 0},
	{"0x10000000000000000", 0}, {"1777777777777777777777", 8}, {"7", 2}, {"7", 10 | 0x20},
	{"7", 0x1f}, {"-0x8000000000000000", 0}, {"  0777", 0}, {"12abc", 16},
	{"   0000000000000000000000000000000000000000000000000000000000000000000000001", 10},
	{"-000000000000000000000000000000000000000000000000000000000000000000000000009", 0},
};

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char why[256];
	if (kbpf_probe(why, sizeof(why)) != 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	if (!open_trace_pipe(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	builtins = bee_helper_table_new();
	if (!builtins || bee_helper_table_add_builtins(builtins)) {
		printf("FAIL: builtins\n");
		return 1;
	}
	/* %pus reads user memory without faulting pages in: make it resident */
	volatile char touch = user_str[0];
	(void)touch;

	for (size_t i = 0; i < sizeof(printk_cases) / sizeof(printk_cases[0]); i++)
		diff_printk(&printk_cases[i], i);

	uint64_t twelve[13] = {1, (uint64_t)-2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xffffffffffull, 13};
	diff_vprintk("%d %d %u %x %X %c%c%c %ld %lu %lx %llX", twelve, 96, 0);
	diff_vprintk("%d %d", twelve, 8, 1);
	diff_vprintk("%d", twelve, 12, 2);
	diff_vprintk("%d", twelve, 104, 3);
	diff_vprintk("no args %%", NULL, 0, 4);
	diff_vprintk("%d", NULL, 0, 5);

	for (size_t i = 0; i < sizeof(strto_cases) / sizeof(strto_cases[0]); i++)
		diff_strto(strto_cases[i].s, strlen(strto_cases[i].s), strto_cases[i].flags, i);
	diff_strto("12345", 3, 0, 100);
	diff_strto("", 1, 0, 101);

	bee_helper_table_free(builtins);
	close(trace_fd);
	printf("%d cases compared with the kernel, %d differ\n", compared, failures);
	return failures ? 1 : 0;
}
