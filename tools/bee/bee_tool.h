/*
 * bee_tool.h - what the bee command's files share: one function per
 * command family and small input helpers.
 */
#ifndef BEE_TOOL_H
#define BEE_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "bee/insn.h"

/* Command entry points: argv[0] is the command name ("run", "asm", ...).
 * They return the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);

/* Read a whole file ("-" is standard input) into a malloc'd buffer with a
 * NUL after the last byte.  Prints an error naming path and returns -1 on
 * failure. */
int tool_read_file(const char *path, char **out, size_t *len);

/*
 * Load a program from path in one of three forms: "asm" (text in either
 * syntax), "raw" (8-byte little-endian instructions) or "hex" (hex text).
 * Prints a positioned error and returns -1 on failure.
 */
int tool_load_program(const char *path, const char *format, struct bpf_insn **insns, size_t *n);

/* An instruction's 8 bytes in the order they lie in a file. */
void tool_insn_bytes(const struct bpf_insn *insn, uint8_t b[8]);

/* How `bee disasm --jited` shows the JIT's code (jited.c). */
struct tool_jited_opts {
	enum bee_syntax syntax; /* for the eBPF lines */
	unsigned flags;         /* BEE_DISASM_INDEX, _OPCODE, _BYTES, for the eBPF lines */
	bool fast;              /* the image for trusted code instead of the checked one */
	bool blind;             /* with the program's constants blinded */
	bool att;               /* AT&T syntax for the native code instead of Intel */
	bool native_bytes;      /* each native instruction's bytes */
};

/*
 * Load insns as `bee run` does (bee's built-in helpers), have the JIT
 * compile them, and print every eBPF instruction followed by its native
 * code, with the JIT's own routines under headers of their own.  name is
 * the input's name for messages.  Returns the exit status.
 */
int tool_disasm_jited(const struct bpf_insn *insns, size_t n, const struct tool_jited_opts *opts,
		      const char *name);

/* Print "bee: " and a formatted message to stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
