/*
 * btf_value.h - map keys and values, and function signatures, printed
 * from BTF as bpftool prints them (btf_value.c).
 */
#ifndef BEE_TOOL_BTF_VALUE_H
#define BEE_TOOL_BTF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bee;
struct bee_btf_data;

/* The BTF object with this id, fetched and parsed; NULL when there is none. */
struct bee_btf_data *tool_btf_by_id(struct bee *bee, uint32_t id);

/*
 * Write the value of BTF type type_id held in data (size bytes) through
 * the JSON writer (jw_*), as bpftool's btf_dumper does; plain selects the
 * plain-text forms of bitfields, pointers and chars.  Returns 0, or
 * -EINVAL when the type cannot be printed or does not fit in size (what
 * was written so far stays, with its brackets closed).
 */
int tool_btf_value(const struct bee_btf_data *btf, uint32_t type_id, const void *data, size_t size,
		   bool plain);

/*
 * The signature of FUNC type_id as bpftool prints it before a function
 * ("int f(const struct point * p, int n)") into buf.  false, with buf
 * empty, when the type has no signature bpftool would print.
 */
bool tool_btf_func_sig(const struct bee_btf_data *btf, uint32_t type_id, char *buf, size_t size);

#endif
