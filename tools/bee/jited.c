/*
 * jited.c - `bee disasm --jited`: the x86-64 code bee's JIT makes of a
 * program, every eBPF instruction followed by the native instructions it
 * became, disassembled with Capstone.
 *
 * Theory of operation.
 *
 * bee_code_jited hands out the image and, for every instruction slot, the
 * offset where that slot's code starts (plus one past the last).  The code
 * of the instruction at pc that takes `slots` slots (2 for lddw) is
 * [off[pc], off[pc + slots]).  What lies before off[0] and from off[n] to
 * the end of the image is the JIT's own: the entry routine, the exits and
 * the fault stubs.  Each of these ranges is disassembled on its own, so a
 * native instruction can never seem to straddle two eBPF instructions, and
 * bytes that do not decode are printed as `.byte` rather than hidden.
 *
 * Capstone is told the image starts at address 0: every address printed,
 * on the left and as a jump target, is an offset into the image, the same
 * on every run.  A jump or call whose target starts an eBPF instruction's
 * code gets a comment naming that instruction.  Calls to C functions leave
 * the image through an absolute address in a register (mov r11, imm64;
 * call r11); an immediate that is the address of one of the program's
 * helpers gets the helper's name.
 *
 * Untrusted code runs checked, and bee runs every program a user gives it
 * as untrusted (there is no verifier yet), so the checked image is what
 * `bee run --engine jit` executes and what is shown by default.  --fast
 * shows the image for trusted code, for reference only: nothing here runs.
 *
 * Without Capstone (not found when bee was configured) the command says so
 * and what to install; libbee never depends on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "bee/vm.h"
#include "bee_tool.h"

#ifndef BEE_HAVE_CAPSTONE

int tool_disasm_jited(const struct bpf_insn *insns, size_t n, const struct tool_jited_opts *opts,
		      const char *name)
{
	(void)insns, (void)n, (void)opts, (void)name;
	tool_err("disasm --jited: bee was built without Capstone; install libcapstone-dev and "
		 "rebuild");
	return 1;
}

int tool_print_native_image(const uint8_t *image, size_t len)
{
	return tool_print_native_image_hooked(image, len, NULL, NULL);
}

int tool_print_native_image_hooked(const uint8_t *image, size_t len,
				   void (*before)(void *ctx, uint64_t off), void *ctx)
{
	(void)image, (void)len, (void)before, (void)ctx;
	tool_err("prog dump jited: bee was built without Capstone; install libcapstone-dev and "
		 "rebuild");
	return 1;
}

#else

#include <capstone/capstone.h>

/* Native bytes shown per line with --opcodes before the text is pushed
 * right; a movabs (the longest the JIT emits) fits. */
#define OPCODE_COLUMNS 10

/* A helper's address, to name the immediates that load it. */
struct helper_addr {
	uint64_t addr;
	const char *name;
	int32_t id;
};

struct jited_view {
	csh cs;
	cs_insn *insn;
	const struct tool_jited_opts *opts;
	const uint8_t *image;
	size_t len;
	const uint32_t *off; /* n + 1 entries */
	size_t n;
	bool *is_start;      /* slot pc starts an instruction (not lddw's second half) */
	struct helper_addr *helpers;
	size_t n_helpers;
};

/* Every helper id the kernel defines that the table resolves.  The table
 * has no iterator; the UAPI header's own count bounds the ids. */
static int collect_helpers(const struct bee_helper_table *table, struct jited_view *v)
{
	v->helpers = calloc(__BPF_FUNC_MAX_ID, sizeof(*v->helpers));
	if (!v->helpers)
		return -ENOMEM;
	for (int32_t id = 0; id < __BPF_FUNC_MAX_ID; id++) {
		const struct bee_helper *h = bee_helper_table_find(table, id);
		if (!h || !h->fn)
			continue;
		struct helper_addr *a = &v->helpers[v->n_helpers++];
		a->addr = (uint64_t)(uintptr_t)h->fn;
		a->name = h->name;
		a->id = h->id;
	}
	return 0;
}

static const struct helper_addr *helper_at(const struct jited_view *v, uint64_t addr)
{
	for (size_t i = 0; i < v->n_helpers; i++)
		if (v->helpers[i].addr == addr)
			return &v->helpers[i];
	return NULL;
}

/* The instruction whose code starts at image offset at, or -1.  When
 * several do (an instruction that compiled to nothing shares its start with
 * the next one), the last: that is where execution continues. */
static long insn_starting_at(const struct jited_view *v, uint64_t at)
{
	size_t lo = 0, hi = v->n; /* find the last pc < n with off[pc] <= at */
	if (v->n == 0 || at < v->off[0] || at >= v->off[v->n])
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->off[mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	if (v->off[lo] != at)
		return -1;
	while (lo > 0 && !v->is_start[lo])
		lo--;
	return (long)lo;
}

/* A comment for what an instruction refers to, or "". */
static void annotate(const struct jited_view *v, const cs_insn *insn, char *buf, size_t len)
{
	buf[0] = '\0';
	const cs_x86 *x86 = &insn->detail->x86;
	bool branch = cs_insn_group(v->cs, insn, CS_GRP_JUMP) ||
		      cs_insn_group(v->cs, insn, CS_GRP_CALL);
	for (unsigned i = 0; i < x86->op_count; i++) {
		if (x86->operands[i].type != X86_OP_IMM)
			continue;
		uint64_t imm = (uint64_t)x86->operands[i].imm;
		if (branch) {
			long pc = insn_starting_at(v, imm);
			if (pc >= 0)
				snprintf(buf, len, "  ; insn %ld", pc);
			return;
		}
		const struct helper_addr *h = helper_at(v, imm);
		if (h) {
			snprintf(buf, len, "  ; %s#%" PRId32, h->name ? h->name : "helper", h->id);
			return;
		}
	}
}

static void print_native_bytes(const uint8_t *bytes, size_t size)
{
	for (size_t i = 0; i < size; i++)
		printf("%02x ", bytes[i]);
	for (size_t i = size; i < OPCODE_COLUMNS; i++)
		fputs("   ", stdout);
	fputc(' ', stdout);
}

/* Disassemble image[start, end), one native instruction a line. */
static void print_native(struct jited_view *v, size_t start, size_t end)
{
	const uint8_t *code = v->image + start;
	size_t size = end - start;
	uint64_t addr = start;
	while (size > 0) {
		const uint8_t *at = code;
		uint64_t at_addr = addr;
		printf("      %4" PRIx64 ":  ", at_addr);
		if (!cs_disasm_iter(v->cs, &code, &size, &addr, v->insn)) {
			/* Not an instruction (or one cut off by the end of the
			 * range): show the byte and go on with the next. */
			if (v->opts->native_bytes)
				print_native_bytes(at, 1);
			printf(".byte 0x%02x  ; does not decode\n", at[0]);
			code = at + 1;
			size--;
			addr = at_addr + 1;
			continue;
		}
		char note[128];
		annotate(v, v->insn, note, sizeof(note));
		if (v->opts->native_bytes)
			print_native_bytes(v->insn->bytes, v->insn->size);
		printf("%s%s%s%s\n", v->insn->mnemonic, v->insn->op_str[0] ? " " : "",
		       v->insn->op_str, note);
	}
}

/* The eBPF instruction at pc as `bee disasm` prints it. */
static void print_bpf_line(const struct bpf_insn *insns, size_t pc, int slots,
			   const char *text, unsigned flags)
{
	if (flags & BEE_DISASM_INDEX)
		printf("%4zu: ", pc);
	if (flags & BEE_DISASM_BYTES) {
		for (int s = 0; s < slots; s++) {
			uint8_t b[8];
			tool_insn_bytes(&insns[pc + (size_t)s], b);
			for (int k = 0; k < 8; k++)
				printf("%02x ", b[k]);
			fputc(' ', stdout);
		}
	}
	if (flags & BEE_DISASM_OPCODE)
		printf("(%02x) ", insns[pc].code);
	printf("%s\n", text);
}

static int open_capstone(struct jited_view *v)
{
	cs_err e = cs_open(CS_ARCH_X86, CS_MODE_64, &v->cs);
	if (e != CS_ERR_OK) {
		tool_err("disasm --jited: Capstone cannot disassemble x86-64: %s", cs_strerror(e));
		return -1;
	}
	e = cs_option(v->cs, CS_OPT_SYNTAX, v->opts->att ? CS_OPT_SYNTAX_ATT : CS_OPT_SYNTAX_INTEL);
	if (e == CS_ERR_OK)
		e = cs_option(v->cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (e != CS_ERR_OK) {
		tool_err("disasm --jited: Capstone: %s%s", cs_strerror(e),
			 v->opts->att ? " (this Capstone may lack AT&T syntax)" : "");
		cs_close(&v->cs);
		return -1;
	}
	v->insn = cs_malloc(v->cs);
	if (!v->insn) {
		tool_err("disasm --jited: out of memory");
		cs_close(&v->cs);
		return -1;
	}
	return 0;
}

/* The JIT's promise about its offsets, checked before anything is read
 * through them. */
static int check_offsets(const struct jited_view *v, const char *name)
{
	for (size_t pc = 0; pc < v->n; pc++) {
		if (v->off[pc] > v->off[pc + 1]) {
			tool_err("%s: the JIT's offsets go backwards at insn %zu (0x%" PRIx32
				 " > 0x%" PRIx32 ")",
				 name, pc, v->off[pc], v->off[pc + 1]);
			return -1;
		}
	}
	if (v->off[v->n] > v->len) {
		tool_err("%s: the JIT's program code ends at 0x%" PRIx32
			 ", past its image of 0x%zx bytes",
			 name, v->off[v->n], v->len);
		return -1;
	}
	return 0;
}

/* Print the image; returns the exit status. */
static int print_image(struct jited_view *v, const struct bpf_insn *insns, const char *name)
{
	if (check_offsets(v, name))
		return 1;
	/* Which slots start instructions, and how many slots each takes. */
	int *slots = calloc(v->n ? v->n : 1, sizeof(*slots));
	char (*text)[256] = calloc(v->n ? v->n : 1, sizeof(*text));
	v->is_start = calloc(v->n ? v->n : 1, sizeof(*v->is_start));
	int status = 1;
	if (!slots || !text || !v->is_start) {
		tool_err("%s: out of memory", name);
		goto out;
	}
	for (size_t pc = 0; pc < v->n; pc += (size_t)slots[pc]) {
		struct bee_error err;
		bee_error_clear(&err);
		slots[pc] = bee_disasm_insn(insns, v->n, pc, v->opts->syntax, text[pc],
					    sizeof(text[pc]), &err);
		if (slots[pc] <= 0) { /* bee_code_load accepted it, so never */
			char msg[512];
			tool_err("%s", bee_error_format(&err, name, msg, sizeof(msg)));
			goto out;
		}
		v->is_start[pc] = true;
	}

	size_t prog_start = v->n ? v->off[0] : 0, prog_end = v->off[v->n];
	if (prog_start > 0) {
		printf("; before the program: the JIT's entry, exit and fault routines\n");
		print_native(v, 0, prog_start);
	}
	for (size_t pc = 0; pc < v->n; pc += (size_t)slots[pc]) {
		print_bpf_line(insns, pc, slots[pc], text[pc], v->opts->flags);
		print_native(v, v->off[pc], v->off[pc + (size_t)slots[pc]]);
	}
	if (prog_end < v->len) {
		printf("; after the program: the JIT's out-of-line paths and fault stubs\n");
		print_native(v, prog_end, v->len);
	}
	status = 0;
out:
	free(slots);
	free(text);
	free(v->is_start);
	v->is_start = NULL;
	return status;
}

int tool_disasm_jited(const struct bpf_insn *insns, size_t n, const struct tool_jited_opts *opts,
		      const char *name)
{
	struct jited_view v = {.opts = opts, .n = n};
	struct bee_helper_table *table = bee_helper_table_new();
	struct bee_code *code = NULL;
	int status = 1;
	if (!table || bee_helper_table_add_builtins(table) || collect_helpers(table, &v)) {
		tool_err("out of memory");
		goto out;
	}
	/* The fast image exists only for trusted code; loading trusted here
	 * is safe because this command never runs what it loads. */
	struct bee_code_opts copts = {
		.sz = sizeof(copts),
		.helpers = table,
		.trusted = opts->fast,
		.jit_blind = opts->blind,
	};
	struct bee_error err;
	bee_error_clear(&err);
	code = bee_code_load(insns, n, &copts, &err);
	if (!code) {
		char msg[512];
		tool_err("%s", bee_error_format(&err, name, msg, sizeof(msg)));
		goto out;
	}
	int ret = bee_code_jited(code, !opts->fast, &v.image, &v.len, &v.off);
	if (ret == -EOPNOTSUPP) {
		tool_err("%s: no JIT available for this program here: %s", name, bee_strerror(ret));
		goto out;
	}
	if (ret < 0) {
		tool_err("%s: the JIT could not compile the program: %s", name, bee_strerror(ret));
		goto out;
	}
	if (!v.image || !v.off) {
		tool_err("%s: the JIT returned no image", name);
		goto out;
	}
	if (open_capstone(&v))
		goto out;
	status = print_image(&v, insns, name);
	cs_free(v.insn, 1);
	cs_close(&v.cs);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		tool_err("standard output: write error");
		status = 1;
	}
out:
	bee_code_free(code);
	bee_helper_table_free(table);
	free(v.helpers);
	return status;
}

/* `prog dump jited`: the image alone, one native instruction per line
 * with its offset, as bpftool prints it ("   0:\tpush   rbp"). */
int tool_print_native_image(const uint8_t *image, size_t len)
{
	return tool_print_native_image_hooked(image, len, NULL, NULL);
}

int tool_print_native_image_hooked(const uint8_t *image, size_t len,
				   void (*before)(void *ctx, uint64_t off), void *ctx)
{
	csh cs;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		tool_err("prog dump jited: Capstone cannot disassemble x86-64");
		return 1;
	}
	cs_option(cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
	cs_insn *insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		tool_err("out of memory");
		return 1;
	}
	const uint8_t *p = image;
	size_t left = len;
	uint64_t addr = 0;
	while (left > 0) {
		uint64_t at = addr;
		if (before)
			before(ctx, at);
		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			printf("%4" PRIx64 ":\t.byte 0x%02x\n", at, *p);
			p++, left--, addr++;
			continue;
		}
		printf("%4" PRIx64 ":\t%-6s %s\n", at, insn->mnemonic, insn->op_str);
	}
	cs_free(insn, 1);
	cs_close(&cs);
	return 0;
}

#endif /* BEE_HAVE_CAPSTONE */
