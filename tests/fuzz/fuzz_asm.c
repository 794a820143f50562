/*
 * fuzz_asm.c - libFuzzer target for the assembler.
 *
 * Any input must assemble or fail cleanly.  When it assembles, the round
 * trip must hold: the disassembly, in either syntax and with any of the
 * printer's prefixes or labels, assembles back to the same bytes.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       tests/fuzz/fuzz_asm.c src/isa/\*.c src/util/\*.c -o fuzz_asm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"

static void roundtrip(const struct bpf_insn *insns, size_t n, enum bee_syntax syntax,
		      unsigned flags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		abort();
	struct bee_error err;
	bee_error_clear(&err);
	int ret = bee_disasm(insns, n, syntax, flags, f, &err);
	fclose(f);
	if (ret) {
		/* The assembler only writes instructions that decode. */
		fprintf(stderr, "disasm of assembled code failed: %s\n", err.msg);
		abort();
	}
	struct bpf_insn *again;
	size_t m;
	ret = bee_asm(text, &again, &m, &err);
	if (ret) {
		fprintf(stderr, "reassembly failed at %d:%d: %s\ntext:\n%s", err.line, err.col,
			err.msg, text);
		abort();
	}
	if (m != n || memcmp(again, insns, n * sizeof(*insns)) != 0) {
		fprintf(stderr, "round trip changed the bytes (syntax %d flags %u); text:\n%s",
			(int)syntax, flags, text);
		abort();
	}
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct bpf_insn *insns;
	size_t n;
	struct bee_error err;
	bee_error_clear(&err);
	int ret = bee_asm(text, &insns, &n, &err);
	free(text);
	if (ret) {
		if (insns != NULL || err.code != ret ||
		    (ret == -EINVAL && (err.line <= 0 || err.col <= 0)))
			abort(); /* every failure must say where */
		return 0;
	}
	roundtrip(insns, n, BEE_SYNTAX_C, 0);
	roundtrip(insns, n, BEE_SYNTAX_MNEMONIC, 0);
	roundtrip(insns, n, BEE_SYNTAX_C, BEE_DISASM_LABELS | BEE_DISASM_INDEX | BEE_DISASM_OPCODE);
	roundtrip(insns, n, BEE_SYNTAX_MNEMONIC, BEE_DISASM_LABELS | BEE_DISASM_BYTES);
	free(insns);
	return 0;
}
