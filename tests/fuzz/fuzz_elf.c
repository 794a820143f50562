/*
 * fuzz_elf.c - libFuzzer target for the ELF reader (src/loader/elf.c)
 * and the SEC() name parser (src/loader/sec_def.c).
 *
 * Theory of operation.  The input is an ELF object.  bee_elf_open_mem()
 * must either refuse it with -EINVAL/-ENOMEM and a non-empty message, or
 * accept it; when it accepts, every table it exposes is walked and every
 * byte it points to is read (so ASan sees any pointer outside the
 * reader's copy), and the promises the accessors make are checked:
 * relocations inside their section, programs inside theirs, sorted and
 * non-overlapping, maps inside their section, the license terminated.
 * A broken promise aborts.  Every program section's name also goes
 * through bee_sec_def_find() and bee_sec_target_parse().
 *
 * Seed it with the clang-built objects of build/tests/objects: random
 * bytes rarely get past the ELF header.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/elf.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bee_error err;
	struct bee_elf *elf = bee_elf_open_mem(data, size, &err);

	if (!elf) {
		REQUIRE(err.code == -EINVAL || err.code == -ENOMEM);
		REQUIRE(err.msg[0] != '\0');
		return 0;
	}
	for (size_t i = 0; i < bee_elf_section_count(elf); i++) {
		const struct bee_elf_section *s = bee_elf_section(elf, i);
		touch_str(s->name);
		if (s->data)
			touch(s->data, s->size);
		for (size_t k = 0; k < s->nr_relocs; k++) {
			const struct bee_elf_reloc *r = &s->relocs[k];
			REQUIRE(r->offset <= s->size);
			touch_str(r->sym->name);
			touch_str(bee_elf_reloc_type_name(r->type));
		}
		touch_str(bee_elf_sec_kind_name(s->kind));
		bee_sec_def_find(s->name);
	}
	for (size_t i = 0; i < bee_elf_symbol_count(elf); i++)
		touch_str(bee_elf_symbol(elf, i)->name);
	for (size_t i = 0; i < bee_elf_prog_section_count(elf); i++) {
		const struct bee_elf_prog_section *ps = bee_elf_prog_section(elf, i);
		REQUIRE(ps->nr_insns * sizeof(struct bpf_insn) == ps->sec->size);
		touch(ps->insns, ps->nr_insns * sizeof(struct bpf_insn));
		for (size_t k = 0; k < ps->nr_progs; k++) {
			const struct bee_elf_prog *p = &ps->progs[k];
			REQUIRE(p->sec == ps->sec && p->offset + p->size <= ps->sec->size);
			REQUIRE(p->insns == ps->insns + p->offset / 8 && p->nr_insns * 8 == p->size);
			if (k)
				REQUIRE(ps->progs[k - 1].offset + ps->progs[k - 1].size <= p->offset);
			touch(p->insns, p->size);
		}
		if (ps->def) {
			struct bee_sec_target t;
			if (bee_sec_target_parse(ps->def, ps->sec->name, &t, &err) == 0) {
				const char *f[] = { t.raw, t.path, t.func, t.category, t.name, t.provider };
				for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
					if (f[k])
						touch_str(f[k]);
				bee_sec_target_free(&t);
			} else {
				REQUIRE(err.msg[0] != '\0');
			}
		}
	}
	for (size_t i = 0; i < bee_elf_prog_count(elf); i++) {
		const struct bee_elf_prog *p = bee_elf_prog(elf, i);
		REQUIRE(bee_elf_find_prog(elf, p->name) != NULL);
	}
	for (size_t i = 0; i < bee_elf_map_count(elf); i++) {
		const struct bee_elf_map *m = bee_elf_map(elf, i);
		touch_str(m->name);
		REQUIRE(m->offset <= m->sec->size && m->size <= m->sec->size - m->offset);
		if (m->data)
			touch(m->data, m->size);
		REQUIRE(bee_elf_find_map(elf, m->name) != NULL);
	}
	for (size_t i = 0; i < bee_elf_data_section_count(elf); i++) {
		const struct bee_elf_section *s = bee_elf_data_section(elf, i);
		if (s->data)
			touch(s->data, s->size);
	}
	for (size_t i = 0; i < bee_elf_extern_count(elf); i++)
		touch_str(bee_elf_extern(elf, i)->name);
	if (bee_elf_license(elf))
		touch_str(bee_elf_license(elf));
	size_t n;
	const uint8_t *b = bee_elf_btf(elf, &n);
	if (b)
		touch(b, n);
	b = bee_elf_btf_ext(elf, &n);
	if (b)
		touch(b, n);
	uint32_t version;
	bee_elf_kern_version(elf, &version);
	bee_elf_close(elf);
	return 0;
}
