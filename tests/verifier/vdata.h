/*
 * vdata.h - the verifier corpus reader: tests/verifier/NAME.vdata files
 * (format in README.md) parsed into tests, shared by kernel_oracle (the
 * corpus against a verdict source) and soundness (the corpus's accepted
 * programs as seeds for mutation).
 */
#ifndef BEE_TESTS_VDATA_H
#define BEE_TESTS_VDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#define VDATA_MAX_MAPS 8

struct vmap {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

struct vtest {
	const char *file; /* base name of the .vdata file */
	char *name;
	unsigned line; /* of the "==" line */
	enum bpf_prog_type prog_type;
	const char *type_name;
	enum bpf_attach_type attach_type;
	bool has_attach_type;
	uint32_t prog_flags;
	struct vmap maps[VDATA_MAX_MAPS];
	unsigned n_maps;
	char *asm_text;
	bool expect_accept;
	char *expect_msg; /* for reject: a substring the log must contain */
	bool has_expect;
	bool btf;  /* give the kernel BTF func_info: one static "int fN(void)" per subprogram */
	bool slow; /* takes seconds (the 1,000,000-instruction limit): only with --slow */
};

struct vcorpus {
	struct vtest *tests;
	size_t n, cap;
	unsigned errors;
};

/*
 * Parse a .vdata file, or every *.vdata file of a directory (in name
 * order), appending the tests to c.  Errors are printed on stderr (file
 * and line) and counted in c->errors.  Strings of the tests are malloc'd:
 * name, asm_text, expect_msg, and file (shared by the tests of one file).
 */
void vdata_parse_path(struct vcorpus *c, const char *path);

/* Free what vdata_parse_path allocated (c itself is the caller's). */
void vdata_free(struct vcorpus *c);

#endif
