/*
 * asm.c - "bee asm" and "bee disasm": text to bytecode and back.
 *
 *   bee asm [-o OUT] [--hex] FILE|-
 *   bee disasm [--raw|--hex|--asm] [--syntax c|mnemonic] [--opcodes] [--bytes]
 *              [--no-index] [--labels] FILE|-
 *   bee disasm --jited [--checked|--fast] [--blind] [--att] [...] FILE|-
 *
 * Raw bytecode is 8-byte little-endian instructions, as in an ELF section
 * and as bpf_conformance and the kernel's tools write them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/insn.h"
#include "bee_tool.h"

static void asm_usage(FILE *out)
{
	fprintf(out,
		"Usage: bee asm [-o OUT] [--hex] FILE|-\n"
		"\n"
		"Assemble a program written in the C-like syntax (\"r0 = 1\") or the\n"
		"mnemonic one (\"mov %%r0, 1\"), or both, into bytecode.\n"
		"\n"
		"  -o OUT   write to OUT instead of standard output\n"
		"  --hex    write hex text, one instruction (16 digits) per line, instead\n"
		"           of raw little-endian bytes; raw bytes are never written to a\n"
		"           terminal: without -o, a terminal gets hex\n");
}

static void disasm_usage(FILE *out)
{
	fprintf(out,
		"Usage: bee disasm [OPTIONS] FILE|-\n"
		"\n"
		"Print a program, one instruction per line, as bpftool prints it.\n"
		"\n"
		"Input (default --raw):\n"
		"  --raw                 8-byte little-endian instructions\n"
		"  --hex                 hex text (\"b7 00 00 00 01 00 00 00\", commas and 0x allowed)\n"
		"  --asm                 assembly text (assembled first)\n"
		"Output:\n"
		"  --syntax c|mnemonic   C-like (\"r0 = 1\", the default) or \"mov %%r0, 1\"\n"
		"  --opcodes             print the opcode byte, \"(b7) \"\n"
		"  --bytes               print each instruction's raw bytes\n"
		"  --no-index            leave out the \"   0: \" instruction index\n"
		"  --labels              jump and call targets as labels (L5:)\n"
		"Native code (x86-64, disassembled with Capstone):\n"
		"  --jited               each instruction followed by the code bee's JIT made of it,\n"
		"                        and the JIT's entry, exit and fault routines; --opcodes\n"
		"                        also prints each native instruction's bytes\n"
		"  --checked             the image for untrusted code (the default): bee runs\n"
		"                        every program checked, so this is the code that runs\n"
		"  --fast                the image for trusted code, without run-time checks\n"
		"                        (for reference: bee never runs untrusted code so)\n"
		"  --blind               with the program's constants blinded\n"
		"  --att                 AT&T syntax for the native code (default: Intel)\n");
}

void tool_insn_bytes(const struct bpf_insn *insn, uint8_t b[8])
{
	uint16_t off = (uint16_t)insn->off;
	uint32_t imm = (uint32_t)insn->imm;
	b[0] = insn->code;
	b[1] = (uint8_t)(insn->dst_reg | (insn->src_reg << 4));
	b[2] = (uint8_t)off;
	b[3] = (uint8_t)(off >> 8);
	for (int i = 0; i < 4; i++)
		b[4 + i] = (uint8_t)(imm >> (8 * i));
}

int cmd_asm(int argc, char **argv)
{
	const char *out_path = NULL, *in_path = NULL;
	int hex = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			asm_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-o")) {
			if (++i >= argc) {
				tool_err("asm: -o needs a file name");
				return 2;
			}
			out_path = argv[i];
		} else if (!strcmp(argv[i], "--hex")) {
			hex = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			tool_err("asm: unknown option '%s'", argv[i]);
			asm_usage(stderr);
			return 2;
		} else if (in_path) {
			tool_err("asm: more than one input file");
			return 2;
		} else {
			in_path = argv[i];
		}
	}
	if (!in_path) {
		asm_usage(stderr);
		return 2;
	}

	struct bpf_insn *insns;
	size_t n;
	if (tool_load_program(in_path, "asm", &insns, &n))
		return 1;

	FILE *out = stdout;
	if (out_path) {
		out = fopen(out_path, hex ? "w" : "wb");
		if (!out) {
			tool_err("%s: %s", out_path, strerror(errno));
			free(insns);
			return 1;
		}
	} else if (!hex && isatty(STDOUT_FILENO)) {
		hex = 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t b[8];
		tool_insn_bytes(&insns[i], b);
		if (hex) {
			for (int k = 0; k < 8; k++)
				fprintf(out, "%02x", b[k]);
			fputc('\n', out);
		} else {
			fwrite(b, 1, sizeof(b), out);
		}
	}
	free(insns);
	int bad = ferror(out);
	if (out_path)
		bad |= fclose(out) != 0;
	else
		bad |= fflush(out) != 0;
	if (bad) {
		tool_err("%s: write error", out_path ? out_path : "standard output");
		return 1;
	}
	return 0;
}

int cmd_disasm(int argc, char **argv)
{
	const char *format = "raw", *in_path = NULL;
	enum bee_syntax syntax = BEE_SYNTAX_C;
	unsigned flags = BEE_DISASM_INDEX;
	struct tool_jited_opts jited = {0};
	bool want_jited = false, jited_only = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			disasm_usage(stdout);
			return 0;
		} else if (!strcmp(arg, "--raw")) {
			format = "raw";
		} else if (!strcmp(arg, "--hex")) {
			format = "hex";
		} else if (!strcmp(arg, "--asm")) {
			format = "asm";
		} else if (!strcmp(arg, "--syntax") || !strncmp(arg, "--syntax=", 9)) {
			const char *v = arg[8] == '=' ? arg + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (v && !strcmp(v, "c")) {
				syntax = BEE_SYNTAX_C;
			} else if (v && !strcmp(v, "mnemonic")) {
				syntax = BEE_SYNTAX_MNEMONIC;
			} else {
				tool_err("disasm: --syntax takes 'c' or 'mnemonic'");
				return 2;
			}
		} else if (!strcmp(arg, "--opcodes")) {
			flags |= BEE_DISASM_OPCODE;
		} else if (!strcmp(arg, "--bytes")) {
			flags |= BEE_DISASM_BYTES;
		} else if (!strcmp(arg, "--no-index")) {
			flags &= ~(unsigned)BEE_DISASM_INDEX;
		} else if (!strcmp(arg, "--labels")) {
			flags |= BEE_DISASM_LABELS;
		} else if (!strcmp(arg, "--jited")) {
			want_jited = true;
		} else if (!strcmp(arg, "--checked") || !strcmp(arg, "--fast")) {
			jited.fast = arg[2] == 'f';
			jited_only = true;
		} else if (!strcmp(arg, "--blind")) {
			jited.blind = true;
			jited_only = true;
		} else if (!strcmp(arg, "--att")) {
			jited.att = true;
			jited_only = true;
		} else if (arg[0] == '-' && arg[1]) {
			tool_err("disasm: unknown option '%s'", arg);
			disasm_usage(stderr);
			return 2;
		} else if (in_path) {
			tool_err("disasm: more than one input file");
			return 2;
		} else {
			in_path = arg;
		}
	}
	if (!in_path) {
		disasm_usage(stderr);
		return 2;
	}
	if (jited_only && !want_jited) {
		tool_err("disasm: --checked, --fast, --blind and --att need --jited");
		return 2;
	}
	if (want_jited && (flags & BEE_DISASM_LABELS)) {
		tool_err("disasm: --labels does not go with --jited");
		return 2;
	}

	struct bpf_insn *insns;
	size_t n;
	if (tool_load_program(in_path, format, &insns, &n))
		return 1;
	if (want_jited) {
		jited.syntax = syntax;
		jited.flags = flags;
		jited.native_bytes = (flags & BEE_DISASM_OPCODE) != 0;
		int status = tool_disasm_jited(insns, n, &jited, in_path);
		free(insns);
		return status;
	}
	struct bee_error err;
	bee_error_clear(&err);
	int ret = bee_disasm(insns, n, syntax, flags, stdout, &err);
	free(insns);
	fflush(stdout);
	if (ret < 0) {
		char msg[512];
		tool_err("%s", bee_error_format(&err, in_path, msg, sizeof(msg)));
		return 1;
	}
	return 0;
}
