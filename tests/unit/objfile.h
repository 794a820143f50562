/*
 * objfile.h - what the loader tests share: reading a whole test object and
 * finding a named section of it (test input, bounds only: the loader's own
 * reader is what is under test elsewhere).
 */
#ifndef BEE_TESTS_OBJFILE_H
#define BEE_TESTS_OBJFILE_H

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif

/* The whole file at path (malloc'd; *size its length), or NULL. */
static inline void *objfile_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			break;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		char *bigger = realloc(buf, cap);
		if (!bigger)
			free(buf);
		buf = bigger;
	}
	fclose(f);
	*size = n;
	return buf;
}

/* The bytes of a named section of an ELF64 object. */
static inline const void *objfile_section(const void *elf, size_t size, const char *name,
					  size_t *len)
{
	const Elf64_Ehdr *eh = elf;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)((const char *)elf + eh->e_shoff);
	const char *names = (const char *)elf + sh[eh->e_shstrndx].sh_offset;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (!strcmp(names + sh[i].sh_name, name)) {
			*len = sh[i].sh_size;
			return (const char *)elf + sh[i].sh_offset;
		}
	}
	return NULL;
}

#endif
