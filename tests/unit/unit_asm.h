/*
 * unit_asm.h - load a program written in bee's assembly into an instance,
 * the text printf-formatted (map handles, constants): what the tests of
 * the command interface share.
 */
#ifndef BEE_TESTS_UNIT_ASM_H
#define BEE_TESTS_UNIT_ASM_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bee/bee.h"
#include "bee/insn.h"

/* Assemble the text and BPF_PROG_LOAD it as type under name, with a
 * level-1 log into log when one is given.  The handle, or -errno (an
 * assembler error is printed with its line). */
static int unit_load_asm(struct bee *bee, enum bpf_prog_type type, const char *name, char *log,
			 size_t log_size, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int unit_load_asm(struct bee *bee, enum bpf_prog_type type, const char *name, char *log,
			 size_t log_size, const char *fmt, ...)
{
	char text[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	struct bpf_insn *insns;
	size_t n;
	struct bee_error err;
	if (bee_asm(text, &insns, &n, &err) < 0) {
		printf("asm: line %d: %s\n", err.line, err.msg);
		return -EINVAL;
	}
	struct bee_prog_load_opts o = {.sz = sizeof(o), .log_buf = log,
				       .log_size = (uint32_t)log_size, .log_level = log ? 1 : 0};
	int fd = bee_prog_load(bee, type, name, "GPL", insns, n, &o);
	free(insns);
	return fd;
}

#endif
