/*
 * bee_tool.h - what the bee command's files share: one function per
 * command family and small input helpers.
 */
#ifndef BEE_TOOL_H
#define BEE_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

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

/* Print "bee: " and a formatted message to stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
