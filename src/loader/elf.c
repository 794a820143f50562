/*
 * loader/elf.c - validating reader for BPF relocatable ELF objects.
 *
 * Theory of operation.  The object is untrusted input, so it is copied
 * once and then checked in layers, each layer relying only on what the
 * ones before it proved:
 *
 *   1. the ELF header: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT,
 *      ET_REL, EM_BPF, header and table entry sizes (ELF spec, ch. 4);
 *   2. the section header table inside the file (extended numbering of
 *      sh_size/sh_link of entry 0 included), then every section's file
 *      range, then that no two ranges (header and tables included)
 *      overlap;
 *   3. section names against the section-name string table, and the
 *      classification of each section (program, .text, maps, data...);
 *   4. the one symbol table: entry size, string table link, each name,
 *      section index, and value + size inside the symbol's section;
 *   5. relocation sections: links to the symbol table and to a target
 *      section, entry size, and every entry's type, symbol index and
 *      offset + width inside the target; in executable sections also
 *      8-byte alignment and the instruction the type needs (ld_imm64 for
 *      R_BPF_64_64, call for R_BPF_64_32), as libbpf requires;
 *   6. what the loader reads: program sections (a multiple of 8 bytes,
 *      copied to aligned storage) and the STT_FUNC symbols in them,
 *      sorted and non-overlapping; .maps and "maps" variables; data
 *      sections; externs; license, version, .BTF and .BTF.ext.
 *
 * All offset arithmetic goes through range_ok(), which never adds two
 * untrusted numbers without checking for wrap-around.  Every refusal is
 * -EINVAL with a message naming the section or symbol and the problem.
 */
#include "loader/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the ELF reader reads little-endian fields in host order");

#ifndef EM_BPF
#define EM_BPF 247
#endif
#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

struct bee_elf {
	uint8_t *buf; /* the reader's copy of the file */
	size_t size;

	struct bee_elf_section *secs;
	size_t nr_secs;
	Elf64_Shdr *shdrs; /* decoded section headers, parallel to secs */

	struct bee_elf_symbol *syms;
	size_t nr_syms;
	uint32_t symtab_index; /* 0 when there is no symbol table */

	struct bee_elf_reloc *relocs; /* all relocations, grouped by section */
	size_t nr_relocs;

	struct bee_elf_prog_section *psecs;
	size_t nr_psecs;
	struct bee_elf_prog *progs;
	size_t nr_progs;
	const struct bee_elf_prog_section *text;

	struct bee_elf_map *maps;
	size_t nr_maps;

	const struct bee_elf_section **data_secs;
	size_t nr_data_secs;

	const struct bee_elf_symbol **externs;
	size_t nr_externs;

	const char *license;
	bool has_version;
	uint32_t version;
	const struct bee_elf_section *btf, *btf_ext;
};

__attribute__((format(printf, 2, 3))) static int fail(struct bee_error *err, const char *fmt, ...)
{
	char msg[sizeof(((struct bee_error *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bee_error_set(err, -EINVAL, -1, 0, 0, "%s", msg);
}

static int nomem(struct bee_error *err)
{
	return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory reading the ELF object");
}

/* [off, off + len) lies inside [0, limit), without overflow. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

/* A NUL-terminated string at off in a string-table section, or NULL. */
static const char *str_at(const struct bee_elf_section *strtab, uint64_t off)
{
	if (!strtab->data || off >= strtab->size)
		return NULL;
	const char *s = (const char *)strtab->data + off;
	return memchr(s, '\0', strtab->size - off) ? s : NULL;
}

/* ---- 1. the ELF header --------------------------------------------- */

static int check_ehdr(const uint8_t *buf, size_t size, Elf64_Ehdr *eh, struct bee_error *err)
{
	if (size < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return fail(err, "not an ELF file (bad magic)");
	if (buf[EI_CLASS] != ELFCLASS64)
		return fail(err, "ELF class %u is not ELFCLASS64: BPF objects are 64-bit",
			    buf[EI_CLASS]);
	if (buf[EI_DATA] != ELFDATA2LSB)
		return fail(err, "ELF data encoding %u is not little-endian (ELFDATA2LSB)",
			    buf[EI_DATA]);
	if (size < sizeof(*eh))
		return fail(err, "truncated ELF header: %zu bytes, need %zu", size, sizeof(*eh));
	memcpy(eh, buf, sizeof(*eh));
	if (buf[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return fail(err, "unsupported ELF version %u", (unsigned)eh->e_version);
	if (eh->e_machine != EM_BPF)
		return fail(err, "ELF machine %u is not EM_BPF (%u)", eh->e_machine, EM_BPF);
	if (eh->e_type != ET_REL)
		return fail(err, "ELF type %u is not ET_REL: only relocatable objects load",
			    eh->e_type);
	if (eh->e_ehsize < sizeof(*eh))
		return fail(err, "ELF header size %u is smaller than %zu", eh->e_ehsize,
			    sizeof(*eh));
	if (eh->e_shoff == 0)
		return fail(err, "no section header table");
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return fail(err, "section header entry size %u is not %zu", eh->e_shentsize,
			    sizeof(Elf64_Shdr));
	if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(err, "program header entry size %u is not %zu", eh->e_phentsize,
			    sizeof(Elf64_Phdr));
	return 0;
}

/* ---- 2. section headers and file ranges ----------------------------- */

struct range {
	uint64_t start, end;
	const char *what;
	uint32_t sec; /* section index, or UINT32_MAX for headers */
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int read_shdrs(struct bee_elf *elf, const Elf64_Ehdr *eh, uint32_t *shstrndx,
		      struct bee_error *err)
{
	uint64_t n = eh->e_shnum;
	Elf64_Shdr first;

	if (!range_ok(eh->e_shoff, sizeof(Elf64_Shdr), elf->size))
		return fail(err, "section header table offset %#llx is past the end of the file "
				 "(%zu bytes)", (unsigned long long)eh->e_shoff, elf->size);
	memcpy(&first, elf->buf + eh->e_shoff, sizeof(first));
	/* Extended numbering (ELF spec, "Sections"): counts that do not fit
	 * the header's 16-bit fields live in section 0. */
	if (n == 0)
		n = first.sh_size;
	*shstrndx = eh->e_shstrndx == SHN_XINDEX ? first.sh_link : eh->e_shstrndx;
	if (n == 0)
		return fail(err, "no sections");
	if (n > elf->size / sizeof(Elf64_Shdr) ||
	    !range_ok(eh->e_shoff, n * sizeof(Elf64_Shdr), elf->size))
		return fail(err, "section header table (%llu entries at offset %#llx) is past the "
				 "end of the file (%zu bytes)", (unsigned long long)n,
			    (unsigned long long)eh->e_shoff, elf->size);
	if (*shstrndx == SHN_UNDEF || *shstrndx >= n)
		return fail(err, "section name table index %u is out of range (%llu sections)",
			    *shstrndx, (unsigned long long)n);

	elf->nr_secs = n;
	elf->shdrs = calloc(n, sizeof(*elf->shdrs));
	elf->secs = calloc(n, sizeof(*elf->secs));
	if (!elf->shdrs || !elf->secs)
		return nomem(err);
	memcpy(elf->shdrs, elf->buf + eh->e_shoff, n * sizeof(Elf64_Shdr));

	for (size_t i = 0; i < n; i++) {
		const Elf64_Shdr *sh = &elf->shdrs[i];
		struct bee_elf_section *s = &elf->secs[i];

		s->index = i;
		s->name = "";
		s->type = sh->sh_type;
		s->flags = sh->sh_flags;
		s->align = sh->sh_addralign;
		s->size = sh->sh_size;
		if (i == 0 || sh->sh_type == SHT_NULL || sh->sh_type == SHT_NOBITS)
			continue;
		if (!range_ok(sh->sh_offset, sh->sh_size, elf->size))
			return fail(err, "section %zu: contents (offset %#llx, size %#llx) go past "
					 "the end of the file (%zu bytes)", i,
				    (unsigned long long)sh->sh_offset,
				    (unsigned long long)sh->sh_size, elf->size);
		if (sh->sh_size)
			s->data = elf->buf + sh->sh_offset;
	}

	/* No two file ranges may overlap: a byte that means two things is
	 * either a broken writer or an attempt to confuse the reader. */
	struct range *r = calloc(n + 2, sizeof(*r));
	size_t nr = 0;
	if (!r)
		return nomem(err);
	r[nr++] = (struct range){ 0, sizeof(Elf64_Ehdr), "the ELF header", UINT32_MAX };
	r[nr++] = (struct range){ eh->e_shoff, eh->e_shoff + n * sizeof(Elf64_Shdr),
				  "the section header table", UINT32_MAX };
	for (size_t i = 1; i < n; i++)
		if (elf->secs[i].data)
			r[nr++] = (struct range){ elf->shdrs[i].sh_offset,
						  elf->shdrs[i].sh_offset + elf->shdrs[i].sh_size,
						  NULL, i };
	qsort(r, nr, sizeof(*r), cmp_range);
	for (size_t i = 1; i < nr; i++) {
		if (r[i].start >= r[i - 1].end)
			continue;
		char a[48], b[48];
		if (r[i - 1].what)
			snprintf(a, sizeof(a), "%s", r[i - 1].what);
		else
			snprintf(a, sizeof(a), "section %u", r[i - 1].sec);
		if (r[i].what)
			snprintf(b, sizeof(b), "%s", r[i].what);
		else
			snprintf(b, sizeof(b), "section %u", r[i].sec);
		free(r);
		return fail(err, "overlapping sections: %s and %s share file bytes", a, b);
	}
	free(r);

	if (eh->e_phnum &&
	    (eh->e_phoff == 0 ||
	     !range_ok(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), elf->size)))
		return fail(err, "program header table (%u entries at offset %#llx) is past the "
				 "end of the file", eh->e_phnum, (unsigned long long)eh->e_phoff);
	return 0;
}

/* ---- 3. names and classification ------------------------------------ */

static bool name_is(const char *name, const char *base)
{
	size_t n = strlen(base);
	return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

static enum bee_elf_sec_kind classify(const struct bee_elf_section *s)
{
	switch (s->type) {
	case SHT_SYMTAB:
		return BEE_ELF_SEC_SYMTAB;
	case SHT_STRTAB:
		return BEE_ELF_SEC_STRTAB;
	case SHT_REL:
	case SHT_RELA:
		return BEE_ELF_SEC_RELO;
	default:
		break;
	}
	if ((s->type == SHT_PROGBITS || s->type == SHT_NOBITS) && (s->flags & SHF_EXECINSTR))
		return strcmp(s->name, ".text") == 0 ? BEE_ELF_SEC_TEXT : BEE_ELF_SEC_PROG;
	if (s->type != SHT_PROGBITS && s->type != SHT_NOBITS)
		return BEE_ELF_SEC_OTHER;
	if (strcmp(s->name, "license") == 0)
		return BEE_ELF_SEC_LICENSE;
	if (strcmp(s->name, "version") == 0)
		return BEE_ELF_SEC_VERSION;
	if (strcmp(s->name, ".BTF") == 0)
		return BEE_ELF_SEC_BTF;
	if (strcmp(s->name, ".BTF.ext") == 0)
		return BEE_ELF_SEC_BTF_EXT;
	if (strcmp(s->name, ".maps") == 0)
		return BEE_ELF_SEC_MAPS;
	if (strcmp(s->name, "maps") == 0)
		return BEE_ELF_SEC_LEGACY_MAPS;
	if (strcmp(s->name, ".kconfig") == 0)
		return BEE_ELF_SEC_KCONFIG;
	if (!(s->flags & SHF_ALLOC))
		return BEE_ELF_SEC_OTHER;
	if (name_is(s->name, ".bss"))
		return s->type == SHT_NOBITS ? BEE_ELF_SEC_BSS : BEE_ELF_SEC_DATA;
	if (name_is(s->name, ".data"))
		return BEE_ELF_SEC_DATA;
	if (name_is(s->name, ".rodata"))
		return BEE_ELF_SEC_RODATA;
	return BEE_ELF_SEC_OTHER;
}

static int read_names(struct bee_elf *elf, uint32_t shstrndx, struct bee_error *err)
{
	const struct bee_elf_section *strtab = &elf->secs[shstrndx];
	/* Kinds the loader must find at most once. */
	static const enum bee_elf_sec_kind unique[] = {
		BEE_ELF_SEC_TEXT, BEE_ELF_SEC_MAPS, BEE_ELF_SEC_LEGACY_MAPS, BEE_ELF_SEC_LICENSE,
		BEE_ELF_SEC_VERSION, BEE_ELF_SEC_BTF, BEE_ELF_SEC_BTF_EXT, BEE_ELF_SEC_KCONFIG,
		BEE_ELF_SEC_SYMTAB,
	};
	uint32_t seen[sizeof(unique) / sizeof(unique[0])] = { 0 };

	if (strtab->type != SHT_STRTAB || !strtab->data)
		return fail(err, "section name table (section %u) is not a string table", shstrndx);
	for (size_t i = 1; i < elf->nr_secs; i++) {
		struct bee_elf_section *s = &elf->secs[i];
		const char *name = str_at(strtab, elf->shdrs[i].sh_name);

		if (!name)
			return fail(err, "section %zu: name offset %u is outside the section name "
					 "table or not NUL-terminated", i, elf->shdrs[i].sh_name);
		s->name = name;
		s->kind = classify(s);
		for (size_t k = 0; k < sizeof(unique) / sizeof(unique[0]); k++) {
			if (s->kind != unique[k])
				continue;
			if (seen[k])
				return fail(err, "section %zu '%s': a second %s section (the first is "
						 "section %u)", i, name, bee_elf_sec_kind_name(s->kind),
					    seen[k]);
			seen[k] = i;
		}
		switch (s->kind) {
		case BEE_ELF_SEC_PROG:
		case BEE_ELF_SEC_TEXT:
		case BEE_ELF_SEC_LICENSE:
		case BEE_ELF_SEC_VERSION:
		case BEE_ELF_SEC_BTF:
		case BEE_ELF_SEC_BTF_EXT:
		case BEE_ELF_SEC_SYMTAB:
		case BEE_ELF_SEC_RELO:
			if (s->type == SHT_NOBITS && s->size)
				return fail(err, "section '%s' has no file contents (NOBITS)", name);
			break;
		default:
			break;
		}
	}
	return 0;
}

/* ---- 4. symbols ----------------------------------------------------- */

static int read_symbols(struct bee_elf *elf, struct bee_error *err)
{
	const struct bee_elf_section *symtab = NULL;

	for (size_t i = 1; i < elf->nr_secs; i++)
		if (elf->secs[i].kind == BEE_ELF_SEC_SYMTAB)
			symtab = &elf->secs[i];
	if (!symtab)
		return 0; /* nothing named: no programs, no maps, no relocations */
	const Elf64_Shdr *sh = &elf->shdrs[symtab->index];
	if (sh->sh_entsize != sizeof(Elf64_Sym))
		return fail(err, "symbol table '%s': entry size %llu is not %zu", symtab->name,
			    (unsigned long long)sh->sh_entsize, sizeof(Elf64_Sym));
	if (sh->sh_size % sizeof(Elf64_Sym))
		return fail(err, "symbol table '%s': size %llu is not a multiple of %zu",
			    symtab->name, (unsigned long long)sh->sh_size, sizeof(Elf64_Sym));
	if (sh->sh_link == 0 || sh->sh_link >= elf->nr_secs ||
	    elf->secs[sh->sh_link].type != SHT_STRTAB || !elf->secs[sh->sh_link].data)
		return fail(err, "symbol table '%s': string table link %u is not a string table",
			    symtab->name, sh->sh_link);
	const struct bee_elf_section *strtab = &elf->secs[sh->sh_link];

	elf->symtab_index = symtab->index;
	elf->nr_syms = sh->sh_size / sizeof(Elf64_Sym);
	if (elf->nr_syms == 0)
		return 0;
	elf->syms = calloc(elf->nr_syms, sizeof(*elf->syms));
	if (!elf->syms)
		return nomem(err);
	for (size_t i = 0; i < elf->nr_syms; i++) {
		Elf64_Sym es;
		struct bee_elf_symbol *sym = &elf->syms[i];

		memcpy(&es, symtab->data + i * sizeof(es), sizeof(es));
		sym->index = i;
		sym->name = str_at(strtab, es.st_name);
		if (!sym->name)
			return fail(err, "symbol %zu: name offset %u is outside the string table "
					 "'%s' or not NUL-terminated", i, es.st_name, strtab->name);
		sym->value = es.st_value;
		sym->size = es.st_size;
		sym->shndx = es.st_shndx;
		sym->bind = ELF64_ST_BIND(es.st_info);
		sym->type = ELF64_ST_TYPE(es.st_info);
		sym->visibility = ELF64_ST_VISIBILITY(es.st_other);

		if (es.st_shndx == SHN_UNDEF || es.st_shndx == SHN_ABS ||
		    es.st_shndx == SHN_COMMON)
			continue;
		if (es.st_shndx == SHN_XINDEX)
			return fail(err, "symbol %zu '%s': extended section indices "
					 "(SHT_SYMTAB_SHNDX) are not supported", i, sym->name);
		if (es.st_shndx >= SHN_LORESERVE || es.st_shndx >= elf->nr_secs)
			return fail(err, "symbol %zu '%s': section index %u is out of range "
					 "(%zu sections)", i, sym->name, es.st_shndx, elf->nr_secs);
		const struct bee_elf_section *in = &elf->secs[es.st_shndx];
		/* Section symbols are unnamed; they stand for their section. */
		if (sym->type == STT_SECTION && !sym->name[0])
			sym->name = in->name;
		if (!range_ok(es.st_value, sym->type == STT_SECTION ? 0 : es.st_size, in->size))
			return fail(err, "symbol %zu '%s': value %#llx size %llu go past the end of "
					 "section '%s' (%llu bytes)", i, sym->name,
				    (unsigned long long)es.st_value, (unsigned long long)es.st_size,
				    in->name, (unsigned long long)in->size);
	}
	return 0;
}

/* ---- 5. relocations ------------------------------------------------- */

static uint64_t reloc_width(uint32_t type)
{
	switch (type) {
	case R_BPF_NONE:
		return 0;
	case R_BPF_64_64:
		return 16; /* both halves of an ld_imm64 */
	case R_BPF_64_ABS64:
		return 8;
	case R_BPF_64_ABS32:
	case R_BPF_64_NODYLD32:
		return 4;
	case R_BPF_64_32:
		return 8; /* a call instruction */
	default:
		return UINT64_MAX;
	}
}

static int check_reloc_sections(struct bee_elf *elf, uint32_t *owner, size_t *total,
				struct bee_error *err)
{
	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *rs = &elf->secs[i];
		const Elf64_Shdr *sh = &elf->shdrs[i];
		size_t ent = rs->type == SHT_RELA ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);

		if (rs->kind != BEE_ELF_SEC_RELO)
			continue;
		if (sh->sh_entsize != ent)
			return fail(err, "relocation section '%s': entry size %llu is not %zu",
				    rs->name, (unsigned long long)sh->sh_entsize, ent);
		if (rs->size % ent)
			return fail(err, "relocation section '%s': size %llu is not a multiple of %zu",
				    rs->name, (unsigned long long)rs->size, ent);
		if (!elf->symtab_index || sh->sh_link != elf->symtab_index)
			return fail(err, "relocation section '%s': symbol table link %u is not the "
					 "symbol table", rs->name, sh->sh_link);
		if (sh->sh_info == 0 || sh->sh_info >= elf->nr_secs || sh->sh_info == i)
			return fail(err, "relocation section '%s': target section index %u is out of "
					 "range", rs->name, sh->sh_info);
		const struct bee_elf_section *target = &elf->secs[sh->sh_info];
		if (target->type == SHT_NOBITS || target->kind == BEE_ELF_SEC_RELO ||
		    target->type == SHT_NULL)
			return fail(err, "relocation section '%s': target section '%s' cannot be "
					 "relocated (type %u)", rs->name, target->name, target->type);
		if (owner[sh->sh_info])
			return fail(err, "relocation section '%s': section '%s' already has "
					 "relocations (from section %u)", rs->name, target->name,
				    owner[sh->sh_info]);
		owner[sh->sh_info] = i;
		*total += rs->size / ent;
	}
	return 0;
}

static int read_reloc_entries(struct bee_elf *elf, struct bee_error *err)
{
	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *rs = &elf->secs[i];
		if (rs->kind != BEE_ELF_SEC_RELO)
			continue;
		bool rela = rs->type == SHT_RELA;
		size_t ent = rela ? sizeof(Elf64_Rela) : sizeof(Elf64_Rel);
		size_t n = rs->size / ent;
		struct bee_elf_section *target = &elf->secs[elf->shdrs[i].sh_info];
		struct bee_elf_reloc *out = elf->relocs + elf->nr_relocs;

		for (size_t k = 0; k < n; k++) {
			Elf64_Rela r = { 0 };
			memcpy(&r, rs->data + k * ent, ent);
			uint32_t type = ELF64_R_TYPE(r.r_info);
			uint64_t symi = ELF64_R_SYM(r.r_info);
			uint64_t width = reloc_width(type);

			if (width == UINT64_MAX)
				return fail(err, "relocation %zu of '%s': unknown type %u", k,
					    target->name, type);
			if (symi >= elf->nr_syms)
				return fail(err, "relocation %zu of '%s': symbol index %llu is out of "
						 "range (%zu symbols)", k, target->name,
					    (unsigned long long)symi, elf->nr_syms);
			if (symi == 0 && type != R_BPF_NONE)
				return fail(err, "relocation %zu of '%s': %s against the null symbol",
					    k, target->name, bee_elf_reloc_type_name(type));
			if (!range_ok(r.r_offset, width, target->size))
				return fail(err, "relocation %zu of '%s': offset %#llx (%s, %llu bytes) "
						 "is past the end of the section (%llu bytes)", k,
					    target->name, (unsigned long long)r.r_offset,
					    bee_elf_reloc_type_name(type), (unsigned long long)width,
					    (unsigned long long)target->size);
			out[k] = (struct bee_elf_reloc){
				.offset = r.r_offset,
				.type = type,
				.sym = &elf->syms[symi],
				.addend = rela ? r.r_addend : 0,
			};
		}
		target->relocs = out;
		target->nr_relocs = n;
		elf->nr_relocs += n;
	}
	return 0;
}

static int read_relocs(struct bee_elf *elf, struct bee_error *err)
{
	size_t total = 0;
	/* Which relocation section claimed each target: one per target. */
	uint32_t *owner = calloc(elf->nr_secs, sizeof(*owner));
	int rc = 0;

	if (!owner)
		return nomem(err);
	rc = check_reloc_sections(elf, owner, &total, err);
	free(owner);
	if (rc || !total)
		return rc;
	elf->relocs = calloc(total, sizeof(*elf->relocs));
	if (!elf->relocs)
		return nomem(err);
	return read_reloc_entries(elf, err);
}

/* Relocations inside code must sit on the instruction their type patches. */
static int check_code_relocs(const struct bee_elf_prog_section *ps, struct bee_error *err)
{
	const struct bee_elf_section *s = ps->sec;

	for (size_t k = 0; k < s->nr_relocs; k++) {
		const struct bee_elf_reloc *r = &s->relocs[k];
		size_t insn = r->offset / 8;

		if (r->type == R_BPF_NONE)
			continue;
		if (r->offset % 8)
			return fail(err, "relocation %zu of '%s': offset %#llx is not on an "
					 "instruction boundary", k, s->name,
				    (unsigned long long)r->offset);
		switch (r->type) {
		case R_BPF_64_64:
			if (ps->insns[insn].code != (BPF_LD | BPF_IMM | BPF_DW))
				return fail(err, "relocation %zu of '%s' (symbol '%s'): %s at insn %zu "
						 "is not on an ld_imm64 (opcode %#x)", k, s->name,
					    r->sym->name, bee_elf_reloc_type_name(r->type), insn,
					    ps->insns[insn].code);
			break;
		case R_BPF_64_32:
			if (ps->insns[insn].code != (BPF_JMP | BPF_CALL))
				return fail(err, "relocation %zu of '%s' (symbol '%s'): %s at insn %zu "
						 "is not on a call (opcode %#x)", k, s->name,
					    r->sym->name, bee_elf_reloc_type_name(r->type), insn,
					    ps->insns[insn].code);
			break;
		default:
			return fail(err, "relocation %zu of '%s' (symbol '%s'): type %s is not "
					 "valid in a program section", k, s->name, r->sym->name,
				    bee_elf_reloc_type_name(r->type));
		}
	}
	return 0;
}

/* ---- 6. programs, maps, data, externs -------------------------------- */

static int cmp_prog(const void *a, const void *b)
{
	const struct bee_elf_prog *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool is_code(const struct bee_elf_section *s)
{
	return (s->kind == BEE_ELF_SEC_PROG || s->kind == BEE_ELF_SEC_TEXT) && s->size;
}

static int read_programs(struct bee_elf *elf, struct bee_error *err)
{
	size_t nsec = 0, nfunc = 0;

	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *s = &elf->secs[i];
		if (!is_code(s))
			continue;
		if (s->size % sizeof(struct bpf_insn))
			return fail(err, "program section '%s': size %llu is not a multiple of %zu",
				    s->name, (unsigned long long)s->size, sizeof(struct bpf_insn));
		nsec++;
	}
	for (size_t i = 0; i < elf->nr_syms; i++) {
		const struct bee_elf_symbol *sym = &elf->syms[i];
		if (sym->type == STT_FUNC && sym->shndx > 0 && sym->shndx < elf->nr_secs &&
		    is_code(&elf->secs[sym->shndx]))
			nfunc++;
	}
	if (!nsec)
		return 0;
	elf->psecs = calloc(nsec, sizeof(*elf->psecs));
	elf->progs = nfunc ? calloc(nfunc, sizeof(*elf->progs)) : NULL;
	if (!elf->psecs || (nfunc && !elf->progs))
		return nomem(err);

	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *s = &elf->secs[i];
		if (!is_code(s))
			continue;
		struct bee_elf_prog_section *ps = &elf->psecs[elf->nr_psecs++];
		struct bpf_insn *insns = malloc(s->size);
		if (!insns)
			return nomem(err);
		memcpy(insns, s->data, s->size);
		ps->sec = s;
		ps->insns = insns;
		ps->nr_insns = s->size / sizeof(struct bpf_insn);
		ps->def = s->kind == BEE_ELF_SEC_PROG ? bee_sec_def_find(s->name) : NULL;
		if (s->kind == BEE_ELF_SEC_TEXT)
			elf->text = ps;

		ps->progs = NULL;
		ps->nr_progs = 0;
		if (!elf->progs)
			goto relocs; /* no functions anywhere */
		struct bee_elf_prog *first = elf->progs + elf->nr_progs;
		for (size_t k = 0; k < elf->nr_syms; k++) {
			const struct bee_elf_symbol *sym = &elf->syms[k];
			if (sym->type != STT_FUNC || sym->shndx != i)
				continue;
			if (sym->bind != STB_GLOBAL && sym->bind != STB_LOCAL &&
			    sym->bind != STB_WEAK)
				return fail(err, "function '%s' in '%s': unsupported binding %u",
					    sym->name, s->name, sym->bind);
			if (sym->value % 8 || sym->size % 8 || sym->size == 0)
				return fail(err, "function '%s' in '%s': offset %#llx size %llu are not "
						 "whole instructions", sym->name, s->name,
					    (unsigned long long)sym->value,
					    (unsigned long long)sym->size);
			elf->progs[elf->nr_progs++] = (struct bee_elf_prog){
				.name = sym->name,
				.sec = s,
				.sym = sym,
				.offset = sym->value,
				.size = sym->size,
				.insns = insns + sym->value / 8,
				.nr_insns = sym->size / 8,
				.global = sym->bind != STB_LOCAL,
				.subprog = s->kind == BEE_ELF_SEC_TEXT,
			};
		}
		ps->progs = first;
		ps->nr_progs = elf->progs + elf->nr_progs - first;
		qsort(first, ps->nr_progs, sizeof(*first), cmp_prog);
		for (size_t k = 1; k < ps->nr_progs; k++)
			if (first[k].offset < first[k - 1].offset + first[k - 1].size)
				return fail(err, "functions '%s' and '%s' overlap in section '%s'",
					    first[k - 1].name, first[k].name, s->name);
	relocs:;
		int rc = check_code_relocs(ps, err);
		if (rc)
			return rc;
	}
	/* Relocations against code from elsewhere are checked too. */
	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *s = &elf->secs[i];
		if ((s->kind == BEE_ELF_SEC_PROG || s->kind == BEE_ELF_SEC_TEXT) && !s->size &&
		    s->nr_relocs)
			return fail(err, "empty program section '%s' has relocations", s->name);
	}
	return 0;
}

static int cmp_map(const void *a, const void *b)
{
	const struct bee_elf_map *x = a, *y = b;
	if (x->sec->index != y->sec->index)
		return x->sec->index < y->sec->index ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool is_map_sym(const struct bee_elf *elf, const struct bee_elf_symbol *sym)
{
	if (sym->shndx == SHN_UNDEF || sym->shndx >= elf->nr_secs)
		return false;
	enum bee_elf_sec_kind k = elf->secs[sym->shndx].kind;
	if (k == BEE_ELF_SEC_MAPS)
		return sym->type == STT_OBJECT;
	/* libbpf counts every non-section symbol of "maps" as a definition. */
	return k == BEE_ELF_SEC_LEGACY_MAPS && sym->type != STT_SECTION && sym->type != STT_FILE;
}

static int read_maps(struct bee_elf *elf, struct bee_error *err)
{
	size_t n = 0, nlegacy = 0;
	const struct bee_elf_section *legacy = NULL;

	for (size_t i = 0; i < elf->nr_syms; i++) {
		if (!is_map_sym(elf, &elf->syms[i]))
			continue;
		n++;
		if (elf->secs[elf->syms[i].shndx].kind == BEE_ELF_SEC_LEGACY_MAPS) {
			nlegacy++;
			legacy = &elf->secs[elf->syms[i].shndx];
		}
	}
	if (!n)
		return 0;
	elf->maps = calloc(n, sizeof(*elf->maps));
	if (!elf->maps)
		return nomem(err);
	for (size_t i = 0; i < elf->nr_syms; i++) {
		const struct bee_elf_symbol *sym = &elf->syms[i];
		if (!is_map_sym(elf, sym))
			continue;
		const struct bee_elf_section *s = &elf->secs[sym->shndx];
		struct bee_elf_map *m = &elf->maps[elf->nr_maps++];
		uint64_t size = sym->size;

		if (!sym->name[0])
			return fail(err, "map at offset %#llx of '%s' has no name",
				    (unsigned long long)sym->value, s->name);
		m->name = sym->name;
		m->sec = s;
		m->sym = sym;
		m->offset = sym->value;
		if (s->kind == BEE_ELF_SEC_LEGACY_MAPS) {
			m->kind = BEE_ELF_MAP_LEGACY;
			/* libbpf: without a size, definitions share the section evenly. */
			if (!size)
				size = s->size / nlegacy;
			if (!range_ok(m->offset, size, legacy->size))
				return fail(err, "map '%s': definition (offset %#llx, %llu bytes) goes "
						 "past the end of section '%s'", m->name,
					    (unsigned long long)m->offset, (unsigned long long)size,
					    s->name);
			if (size < 4 * sizeof(uint32_t))
				return fail(err, "map '%s': definition of %llu bytes is too small for "
						 "struct bpf_map_def", m->name, (unsigned long long)size);
			if (s->data) {
				size_t take = size < sizeof(m->def) ? size : sizeof(m->def);
				memcpy(&m->def, s->data + m->offset, take);
			}
		} else {
			m->kind = BEE_ELF_MAP_BTF;
			if (!size)
				return fail(err, "map '%s' in '%s' has size 0", m->name, s->name);
		}
		m->size = size;
		m->data = s->data ? s->data + m->offset : NULL;
	}
	qsort(elf->maps, elf->nr_maps, sizeof(*elf->maps), cmp_map);
	for (size_t i = 1; i < elf->nr_maps; i++) {
		const struct bee_elf_map *a = &elf->maps[i - 1], *b = &elf->maps[i];
		if (a->sec == b->sec && b->offset < a->offset + a->size)
			return fail(err, "maps '%s' and '%s' overlap in section '%s'", a->name,
				    b->name, a->sec->name);
	}
	return 0;
}

static int read_rest(struct bee_elf *elf, struct bee_error *err)
{
	size_t ndata = 0, next = 0;

	for (size_t i = 1; i < elf->nr_secs; i++) {
		const struct bee_elf_section *s = &elf->secs[i];
		switch (s->kind) {
		case BEE_ELF_SEC_DATA:
		case BEE_ELF_SEC_RODATA:
		case BEE_ELF_SEC_BSS:
		case BEE_ELF_SEC_KCONFIG:
			if (s->size)
				ndata++;
			break;
		case BEE_ELF_SEC_LICENSE:
			if (!s->data || !memchr(s->data, '\0', s->size))
				return fail(err, "section 'license' is empty or not NUL-terminated");
			elf->license = (const char *)s->data;
			break;
		case BEE_ELF_SEC_VERSION:
			if (s->size != sizeof(uint32_t))
				return fail(err, "section 'version' has %llu bytes, not 4",
					    (unsigned long long)s->size);
			memcpy(&elf->version, s->data, sizeof(uint32_t));
			elf->has_version = true;
			break;
		case BEE_ELF_SEC_BTF:
			elf->btf = s;
			break;
		case BEE_ELF_SEC_BTF_EXT:
			elf->btf_ext = s;
			break;
		default:
			break;
		}
	}
	if (ndata) {
		elf->data_secs = calloc(ndata, sizeof(*elf->data_secs));
		if (!elf->data_secs)
			return nomem(err);
		for (size_t i = 1; i < elf->nr_secs; i++) {
			const struct bee_elf_section *s = &elf->secs[i];
			if ((s->kind == BEE_ELF_SEC_DATA || s->kind == BEE_ELF_SEC_RODATA ||
			     s->kind == BEE_ELF_SEC_BSS || s->kind == BEE_ELF_SEC_KCONFIG) &&
			    s->size)
				elf->data_secs[elf->nr_data_secs++] = s;
		}
	}

	for (size_t i = 1; i < elf->nr_syms; i++) {
		const struct bee_elf_symbol *sym = &elf->syms[i];
		if (sym->shndx == SHN_UNDEF && sym->name[0] &&
		    (sym->bind == STB_GLOBAL || sym->bind == STB_WEAK))
			next++;
	}
	if (next) {
		elf->externs = calloc(next, sizeof(*elf->externs));
		if (!elf->externs)
			return nomem(err);
		for (size_t i = 1; i < elf->nr_syms; i++) {
			const struct bee_elf_symbol *sym = &elf->syms[i];
			if (sym->shndx == SHN_UNDEF && sym->name[0] &&
			    (sym->bind == STB_GLOBAL || sym->bind == STB_WEAK))
				elf->externs[elf->nr_externs++] = sym;
		}
	}
	return 0;
}

/* ---- opening and closing --------------------------------------------- */

struct bee_elf *bee_elf_open_mem(const void *data, size_t size, struct bee_error *err)
{
	Elf64_Ehdr eh;
	uint32_t shstrndx = 0;
	int rc;

	bee_error_clear(err);
	if (!data && size) {
		bee_error_set(err, -EINVAL, -1, 0, 0, "no data");
		return NULL;
	}
	rc = check_ehdr(data, size, &eh, err);
	if (rc)
		return NULL;

	struct bee_elf *elf = calloc(1, sizeof(*elf));
	if (!elf || !(elf->buf = malloc(size))) {
		free(elf);
		nomem(err);
		return NULL;
	}
	memcpy(elf->buf, data, size);
	elf->size = size;

	if ((rc = read_shdrs(elf, &eh, &shstrndx, err)) || (rc = read_names(elf, shstrndx, err)) ||
	    (rc = read_symbols(elf, err)) || (rc = read_relocs(elf, err)) ||
	    (rc = read_programs(elf, err)) || (rc = read_maps(elf, err)) ||
	    (rc = read_rest(elf, err))) {
		bee_elf_close(elf);
		return NULL;
	}
	return elf;
}

struct bee_elf *bee_elf_open_file(const char *path, struct bee_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	bee_error_clear(err);
	if (fd < 0 || fstat(fd, &st) < 0) {
		bee_error_set(err, -errno, -1, 0, 0, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		bee_error_set(err, -EINVAL, -1, 0, 0, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		bee_error_set(err, -ENOMEM, -1, 0, 0, "%s: out of memory", path);
		return NULL;
	}
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			int e = got < 0 ? errno : EIO;
			bee_error_set(err, -e, -1, 0, 0, "%s: read: %s", path,
				      got < 0 ? strerror(e) : "file shrank while reading");
			free(buf);
			close(fd);
			return NULL;
		}
		len += (size_t)got;
	}
	close(fd);

	struct bee_elf *elf = bee_elf_open_mem(buf, len, err);
	free(buf);
	if (!elf && err) {
		/* Prefix the path; the message may be cut at sizeof(err->msg). */
		char msg[sizeof(err->msg) + 4096];
		snprintf(msg, sizeof(msg), "%s: %s", path, err->msg);
		memcpy(err->msg, msg, sizeof(err->msg) - 1);
		err->msg[sizeof(err->msg) - 1] = '\0';
	}
	return elf;
}

void bee_elf_close(struct bee_elf *elf)
{
	if (!elf)
		return;
	for (size_t i = 0; i < elf->nr_psecs; i++)
		free((void *)elf->psecs[i].insns);
	free(elf->psecs);
	free(elf->progs);
	free(elf->maps);
	free(elf->data_secs);
	free(elf->externs);
	free(elf->relocs);
	free(elf->syms);
	free(elf->secs);
	free(elf->shdrs);
	free(elf->buf);
	free(elf);
}

/* ---- accessors ------------------------------------------------------ */

const char *bee_elf_license(const struct bee_elf *elf)
{
	return elf->license;
}

bool bee_elf_kern_version(const struct bee_elf *elf, uint32_t *version)
{
	if (elf->has_version && version)
		*version = elf->version;
	return elf->has_version;
}

size_t bee_elf_section_count(const struct bee_elf *elf)
{
	return elf->nr_secs;
}

const struct bee_elf_section *bee_elf_section(const struct bee_elf *elf, size_t index)
{
	return index < elf->nr_secs ? &elf->secs[index] : NULL;
}

const struct bee_elf_section *bee_elf_section_by_name(const struct bee_elf *elf,
							const char *name)
{
	for (size_t i = 1; i < elf->nr_secs; i++)
		if (strcmp(elf->secs[i].name, name) == 0)
			return &elf->secs[i];
	return NULL;
}

size_t bee_elf_symbol_count(const struct bee_elf *elf)
{
	return elf->nr_syms;
}

const struct bee_elf_symbol *bee_elf_symbol(const struct bee_elf *elf, size_t index)
{
	return index < elf->nr_syms ? &elf->syms[index] : NULL;
}

size_t bee_elf_prog_section_count(const struct bee_elf *elf)
{
	return elf->nr_psecs;
}

const struct bee_elf_prog_section *bee_elf_prog_section(const struct bee_elf *elf, size_t i)
{
	return i < elf->nr_psecs ? &elf->psecs[i] : NULL;
}

const struct bee_elf_prog_section *bee_elf_text(const struct bee_elf *elf)
{
	return elf->text;
}

size_t bee_elf_prog_count(const struct bee_elf *elf)
{
	return elf->nr_progs;
}

const struct bee_elf_prog *bee_elf_prog(const struct bee_elf *elf, size_t i)
{
	return i < elf->nr_progs ? &elf->progs[i] : NULL;
}

const struct bee_elf_prog *bee_elf_find_prog(const struct bee_elf *elf, const char *name)
{
	for (size_t i = 0; i < elf->nr_progs; i++)
		if (strcmp(elf->progs[i].name, name) == 0)
			return &elf->progs[i];
	return NULL;
}

size_t bee_elf_map_count(const struct bee_elf *elf)
{
	return elf->nr_maps;
}

const struct bee_elf_map *bee_elf_map(const struct bee_elf *elf, size_t i)
{
	return i < elf->nr_maps ? &elf->maps[i] : NULL;
}

const struct bee_elf_map *bee_elf_find_map(const struct bee_elf *elf, const char *name)
{
	for (size_t i = 0; i < elf->nr_maps; i++)
		if (strcmp(elf->maps[i].name, name) == 0)
			return &elf->maps[i];
	return NULL;
}

size_t bee_elf_data_section_count(const struct bee_elf *elf)
{
	return elf->nr_data_secs;
}

const struct bee_elf_section *bee_elf_data_section(const struct bee_elf *elf, size_t i)
{
	return i < elf->nr_data_secs ? elf->data_secs[i] : NULL;
}

size_t bee_elf_extern_count(const struct bee_elf *elf)
{
	return elf->nr_externs;
}

const struct bee_elf_symbol *bee_elf_extern(const struct bee_elf *elf, size_t i)
{
	return i < elf->nr_externs ? elf->externs[i] : NULL;
}

const uint8_t *bee_elf_btf(const struct bee_elf *elf, size_t *size)
{
	if (size)
		*size = elf->btf ? elf->btf->size : 0;
	return elf->btf ? elf->btf->data : NULL;
}

const uint8_t *bee_elf_btf_ext(const struct bee_elf *elf, size_t *size)
{
	if (size)
		*size = elf->btf_ext ? elf->btf_ext->size : 0;
	return elf->btf_ext ? elf->btf_ext->data : NULL;
}

const char *bee_elf_reloc_type_name(uint32_t type)
{
	switch (type) {
	case R_BPF_NONE:
		return "R_BPF_NONE";
	case R_BPF_64_64:
		return "R_BPF_64_64";
	case R_BPF_64_ABS64:
		return "R_BPF_64_ABS64";
	case R_BPF_64_ABS32:
		return "R_BPF_64_ABS32";
	case R_BPF_64_NODYLD32:
		return "R_BPF_64_NODYLD32";
	case R_BPF_64_32:
		return "R_BPF_64_32";
	default:
		return "R_BPF_?";
	}
}

const char *bee_elf_sec_kind_name(enum bee_elf_sec_kind kind)
{
	switch (kind) {
	case BEE_ELF_SEC_OTHER:
		return "other";
	case BEE_ELF_SEC_PROG:
		return "program";
	case BEE_ELF_SEC_TEXT:
		return ".text";
	case BEE_ELF_SEC_MAPS:
		return ".maps";
	case BEE_ELF_SEC_LEGACY_MAPS:
		return "maps";
	case BEE_ELF_SEC_DATA:
		return "data";
	case BEE_ELF_SEC_RODATA:
		return "rodata";
	case BEE_ELF_SEC_BSS:
		return "bss";
	case BEE_ELF_SEC_KCONFIG:
		return ".kconfig";
	case BEE_ELF_SEC_LICENSE:
		return "license";
	case BEE_ELF_SEC_VERSION:
		return "version";
	case BEE_ELF_SEC_BTF:
		return ".BTF";
	case BEE_ELF_SEC_BTF_EXT:
		return ".BTF.ext";
	case BEE_ELF_SEC_SYMTAB:
		return "symbol table";
	case BEE_ELF_SEC_STRTAB:
		return "string table";
	case BEE_ELF_SEC_RELO:
		return "relocation";
	}
	return "?";
}
