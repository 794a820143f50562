/*
 * fuzz_btf.c - libFuzzer target for the BTF and .BTF.ext parsers and the
 * BTF printers.
 *
 * Input: a little-endian u32 n, then n bytes of .BTF, then .BTF.ext (any
 * remainder).  When n does not fit, the whole input is the .BTF.  Any
 * input must parse or be refused with a message; what parses must answer
 * every query for every id, print raw and as C, and have its .BTF.ext
 * parse or be refused, without a crash, leak or sanitizer report.
 *
 * Seeds: for f in build/tests/objects/NAME.bpf.o, the u32 length of its .BTF,
 * the .BTF and the .BTF.ext (tests/fuzz/README.md shows the commands).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"

static void query_all(const struct bee_btf_data *btf)
{
	uint32_t n = bee_btf_type_count(btf);
	for (uint32_t id = 0; id < n; id++) {
		struct bee_btf_type_info ti;
		if (bee_btf_type(btf, id, &ti))
			abort(); /* every id below the count exists */
		(void)bee_btf_resolve_size(btf, id);
		(void)bee_btf_skip_modifiers(btf, id);
		(void)bee_btf_skip_modifiers_typedefs(btf, id);
		for (unsigned i = 0; i < ti.vlen; i++) {
			struct bee_btf_member_info m;
			struct bee_btf_param_info p;
			struct bee_btf_enum_info e;
			struct bee_btf_secinfo_info s;
			(void)bee_btf_member(btf, id, i, &m);
			(void)bee_btf_param(btf, id, i, &p);
			(void)bee_btf_enum_value(btf, id, i, &e);
			(void)bee_btf_datasec_entry(btf, id, i, &s);
		}
		if (*ti.name && bee_btf_find_by_name_kind(btf, ti.name, (int)ti.kind) <= 0)
			abort(); /* a named type is found by its name */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *btf_data = data, *ext_data = NULL;
	size_t btf_size = size, ext_size = 0;
	uint32_t n;
	if (size >= 4) {
		memcpy(&n, data, 4);
		if (n <= size - 4) {
			btf_data = data + 4;
			btf_size = n;
			ext_data = data + 4 + n;
			ext_size = size - 4 - n;
		}
	}
	struct bee_error err;
	struct bee_btf_data *btf = bee_btf_parse(btf_data, btf_size, NULL, &err);
	if (!btf) {
		if (!err.code || !err.msg[0])
			abort(); /* refusals say why */
		return 0;
	}
	query_all(btf);
	FILE *out = fopen("/dev/null", "w");
	if (out) {
		bee_btf_dump_raw(btf, out);
		bee_btf_dump_c(btf, out);
		fclose(out);
	}
	if (ext_data) {
		struct bee_btf_ext *ext = bee_btf_ext_parse(ext_data, ext_size, btf, &err);
		for (int k = 0; ext && k < BEE_BTF_EXT_NR_KINDS; k++)
			for (unsigned s = 0; s < bee_btf_ext_sec_count(ext, k); s++)
				for (uint32_t i = 0; i < bee_btf_ext_sec_nr(ext, k, s); i++) {
					struct bee_btf_func_info fi;
					struct bee_btf_line_info li;
					struct bee_btf_core_relo cr;
					if (k == BEE_BTF_EXT_FUNC_INFO && bee_btf_ext_func_info(ext, s, i, &fi))
						abort();
					if (k == BEE_BTF_EXT_LINE_INFO && (bee_btf_ext_line_info(ext, s, i, &li) ||
									  !li.file_name || !li.line))
						abort();
					if (k == BEE_BTF_EXT_CORE_RELO && (bee_btf_ext_core_relo(ext, s, i, &cr) ||
									  !cr.access))
						abort();
				}
		bee_btf_ext_free(ext);
	}
	bee_btf_free(btf);
	return 0;
}
