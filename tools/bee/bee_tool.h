/*
 * bee_tool.h - what the bee command's files share: one function per
 * command family and small input helpers.
 */
#ifndef BEE_TOOL_H
#define BEE_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/bpf.h>

#include "bee/insn.h"

/* Command entry points: argv[0] is the command name ("run", "asm", ...).
 * They return the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_verify(int argc, char **argv);    /* verify.c */
int cmd_prog(int argc, char **argv);      /* prog.c */
int cmd_map(int argc, char **argv);       /* map.c */
int cmd_btf(int argc, char **argv);       /* other.c */
int cmd_link(int argc, char **argv);      /* other.c */
int cmd_trace_pipe(int argc, char **argv); /* other.c */

/* ---- out.c: what the bpftool-shaped nouns share ---- */

struct bee;

/* Options given before or among a noun's words. */
struct tool_globals {
	bool json, pretty, verbose;
	const char *pin_dir;   /* --pin-dir; after tool_bee(): the one in use */
	int engine;            /* enum bee_engine for the instance */
	struct bee *bee;       /* tool_bee()'s instance */
};
extern struct tool_globals tool_g;

/* The instance on the pin directory, every pin opened (created once). */
struct bee *tool_bee(void);
/* BPF_OBJ_GET of path failed with err: "WHAT (PATH): error", and the
 * core's reason (bee_pin_error) when it says more. */
void tool_pin_err(const char *what, const char *path, int err);
/* Free the instance (pinned maps are saved). */
void tool_done(void);

struct tool_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the first word after the command */
};
/* Run the prefix-matched command of argv[0] in cmds (ended by a NULL
 * name); "help" prints help. */
int tool_dispatch(const struct tool_cmd *cmds, int argc, char **argv, const char *noun,
		  void (*help)(FILE *));
/* Is arg a non-empty prefix of word (bpftool's is_prefix)? */
bool tool_is_prefix(const char *arg, const char *word);
/* A number (decimal, 0x hex, 0 octal); prints an error naming what on failure. */
int tool_parse_u32(const char *s, const char *what, uint32_t *out);

/* What a handle is (from the size of its info struct). */
enum { TOOL_FD_NONE, TOOL_FD_PROG, TOOL_FD_MAP, TOOL_FD_LINK, TOOL_FD_BTF };
int tool_fd_kind(struct bee *bee, int fd);

const char *tool_prog_type_name(unsigned type);
const char *tool_map_type_name(unsigned type);
/* -1 for an unknown name. */
int tool_prog_type_parse(const char *name);
int tool_map_type_parse(const char *name);

/* One field of a record: JSON key and typed value, and its plain text
 * (NULL: not shown in plain output). */
enum tool_field_kind { TF_UINT, TF_INT, TF_STR, TF_BOOL, TF_UINTS };
struct tool_field {
	const char *key;       /* NULL: plain only */
	enum tool_field_kind kind;
	uint64_t u;
	const char *s;
	const uint32_t *v;
	size_t nv;
	const char *plain;
};
/* Print a record: a JSON object, or the plain texts then a newline. */
void tool_print_fields(const struct tool_field *f, size_t n);

/* The JSON writer (commas, nesting and --pretty handled). */
void jw_start_object(void);
void jw_end_object(void);
void jw_start_array(void);
void jw_end_array(void);
void jw_key(const char *key);
void jw_string(const char *s);
void jw_uint(uint64_t v);
void jw_int(int64_t v);
void jw_bool(bool v);
/* A value written as it is (a number in a form of its own, bpftool's
 * unquoted 0x1f in plain BTF dumps). */
void jw_raw(const char *text);
/* null (a line of its own at the top level: bpftool's answer to update,
 * delete, freeze in JSON mode). */
void jw_null(void);
/* Is the writer right after a key or an opening bracket (nothing written
 * there yet)? */
bool jw_awaits_value(void);
/* ["0x01","0x02",...] as bpftool writes keys and values. */
void jw_hex_bytes(const uint8_t *p, size_t n);
/* bpftool's fprint_hex: "01 02 03 04 05 06 07 08  09 ..." */
void tool_hex(FILE *out, const uint8_t *p, size_t n);

/* jited.c: print native code bpftool's way ("   0:\tpush   rbp"). 0 or 1. */
int tool_print_native_image(const uint8_t *image, size_t len);
/* The same, calling before(ctx, offset) ahead of each native instruction
 * (prog dump jited prints source lines there). */
int tool_print_native_image_hooked(const uint8_t *image, size_t len,
				   void (*before)(void *ctx, uint64_t off), void *ctx);

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
/* Pin fd at path (bpffs-style, under the pin directory): 0, or 1 after
 * bpftool's error line. */
int tool_pin(int fd, const char *path);

#endif
