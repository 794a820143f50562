/*
 * loader/elf.h - a defensive reader for the relocatable ELF objects that
 * `clang -target bpf -c` writes.
 *
 * Theory of operation.  bee_elf_open_mem() copies the object into memory
 * the reader owns, then validates it completely before anything is
 * exposed: the ELF header (64-bit, little-endian, EM_BPF, ET_REL), every
 * section header against the file's bounds with overflow-safe
 * arithmetic, file ranges that overlap, every name against its string
 * table, every symbol against its section, and every relocation's
 * offset, width, type and symbol.  What survives is decoded into plain
 * read-only tables (sections, symbols, relocations per section,
 * programs, maps, externs) that the rest of the loader reads without
 * further checks.  Nothing here knows a target or the bee core: this is
 * a pure parser.  The BTF in .BTF/.BTF.ext and .maps is handed on raw;
 * btf/btf.c interprets it.
 *
 * Lifetimes: every pointer an accessor returns (names, data, tables)
 * lives until bee_elf_close().  Section data points into the reader's
 * copy of the file; instructions are a separate 8-byte-aligned copy.
 * The host must be little-endian (as the objects are): fields are read
 * in host order.
 */
#ifndef BEE_LOADER_ELF_H
#define BEE_LOADER_ELF_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bee/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* BPF relocation types (the ELF psABI for BPF, llvm's BPF backend). */
#ifndef R_BPF_NONE
#define R_BPF_NONE 0
#endif
#ifndef R_BPF_64_64
#define R_BPF_64_64 1       /* ld_imm64: imm of both halves = S + A */
#endif
#ifndef R_BPF_64_ABS64
#define R_BPF_64_ABS64 2    /* 64-bit data word */
#endif
#ifndef R_BPF_64_ABS32
#define R_BPF_64_ABS32 3    /* 32-bit data word */
#endif
#ifndef R_BPF_64_NODYLD32
#define R_BPF_64_NODYLD32 4 /* 32-bit word in .BTF/.BTF.ext, not for dynamic linking */
#endif
#ifndef R_BPF_64_32
#define R_BPF_64_32 10      /* call imm: (S + A) / 8 - 1 */
#endif

/* What a section is to the loader (decided by type, flags and name). */
enum bee_elf_sec_kind {
	BEE_ELF_SEC_OTHER,       /* anything the loader ignores (debug info, notes...) */
	BEE_ELF_SEC_PROG,        /* executable PROGBITS other than .text: entry programs */
	BEE_ELF_SEC_TEXT,        /* .text: subprograms */
	BEE_ELF_SEC_MAPS,        /* .maps: BTF-defined maps */
	BEE_ELF_SEC_LEGACY_MAPS, /* maps: struct bpf_map_def entries */
	BEE_ELF_SEC_DATA,        /* .data*: writable initialised data */
	BEE_ELF_SEC_RODATA,      /* .rodata*: read-only data, string literals (.rodata.str*) */
	BEE_ELF_SEC_BSS,         /* .bss*: zero-initialised (NOBITS) */
	BEE_ELF_SEC_KCONFIG,     /* .kconfig (when it is a section at all) */
	BEE_ELF_SEC_LICENSE,     /* license */
	BEE_ELF_SEC_VERSION,     /* version */
	BEE_ELF_SEC_BTF,         /* .BTF */
	BEE_ELF_SEC_BTF_EXT,     /* .BTF.ext */
	BEE_ELF_SEC_SYMTAB,      /* .symtab */
	BEE_ELF_SEC_STRTAB,      /* a string table */
	BEE_ELF_SEC_RELO,        /* SHT_REL / SHT_RELA */
};

struct bee_elf_reloc;

struct bee_elf_section {
	uint32_t index;       /* ELF section index */
	const char *name;
	enum bee_elf_sec_kind kind;
	uint32_t type;        /* sh_type */
	uint64_t flags;       /* sh_flags */
	uint64_t align;       /* sh_addralign */
	uint64_t size;        /* sh_size (also for NOBITS) */
	const uint8_t *data;  /* contents; NULL for NOBITS (all zero) and empty sections */
	/* Relocations that apply to this section (from its .rel section). */
	const struct bee_elf_reloc *relocs;
	size_t nr_relocs;
};

struct bee_elf_symbol {
	uint32_t index;      /* index in .symtab */
	const char *name;    /* "" for unnamed symbols */
	uint64_t value;      /* st_value: offset in its section for ET_REL */
	uint64_t size;       /* st_size */
	uint16_t shndx;      /* st_shndx: a section index, SHN_UNDEF, SHN_ABS or SHN_COMMON */
	uint8_t bind;        /* STB_LOCAL / STB_GLOBAL / STB_WEAK */
	uint8_t type;        /* STT_NOTYPE / STT_OBJECT / STT_FUNC / STT_SECTION / ... */
	uint8_t visibility;  /* STV_* */
};

struct bee_elf_reloc {
	uint64_t offset;                  /* r_offset, inside the target section */
	uint32_t type;                    /* R_BPF_* */
	const struct bee_elf_symbol *sym; /* the symbol it refers to */
	int64_t addend;                   /* r_addend for SHT_RELA, 0 for SHT_REL */
};

/* One BPF function: an entry program or a .text subprogram. */
struct bee_elf_prog {
	const char *name;                   /* the STT_FUNC symbol's name */
	const struct bee_elf_section *sec;  /* the section it lives in */
	const struct bee_elf_symbol *sym;
	uint64_t offset;                    /* byte offset in the section (multiple of 8) */
	uint64_t size;                      /* bytes (multiple of 8) */
	const struct bpf_insn *insns;       /* sec's instructions + offset / 8 */
	size_t nr_insns;
	bool global;                        /* STB_GLOBAL or STB_WEAK, else static */
	bool subprog;                       /* lives in .text */
};

/* An executable section: a SEC("...") program section or .text. */
struct bee_elf_prog_section {
	const struct bee_elf_section *sec;
	const struct bee_sec_def *def;      /* NULL for .text and unknown SEC names */
	const struct bpf_insn *insns;       /* 8-byte-aligned copy of the section */
	size_t nr_insns;
	const struct bee_elf_prog *progs;   /* by offset, non-overlapping */
	size_t nr_progs;
};

enum bee_elf_map_kind {
	BEE_ELF_MAP_BTF,    /* a variable in .maps: its definition is in BTF */
	BEE_ELF_MAP_LEGACY, /* a struct bpf_map_def in "maps" */
};

/* libbpf's struct bpf_map_def layout; fields past the symbol's size read 0. */
struct bee_elf_map_def {
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
};

struct bee_elf_map {
	const char *name;
	enum bee_elf_map_kind kind;
	const struct bee_elf_section *sec;
	const struct bee_elf_symbol *sym;
	uint64_t offset;          /* in sec */
	uint64_t size;            /* bytes of the definition */
	const uint8_t *data;      /* sec's bytes at offset; NULL when sec is NOBITS */
	struct bee_elf_map_def def; /* legacy maps only (zero for BTF maps) */
};

/*
 * Open an object held in memory.  The bytes are copied: the caller may
 * free data as soon as this returns.  Returns NULL with err filled (code
 * -EINVAL for malformed input, -ENOMEM) when the object is refused.
 */
struct bee_elf *bee_elf_open_mem(const void *data, size_t size, struct bee_error *err);

/* Read a file and bee_elf_open_mem() it; errors name the path. */
struct bee_elf *bee_elf_open_file(const char *path, struct bee_error *err);

/* Free everything the reader owns.  NULL is ignored. */
void bee_elf_close(struct bee_elf *elf);

/* The "license" section's string, or NULL when there is none. */
const char *bee_elf_license(const struct bee_elf *elf);

/* The "version" section's u32 into *version; false when there is none. */
bool bee_elf_kern_version(const struct bee_elf *elf, uint32_t *version);

/* All sections, by ELF index (0 is the null section). */
size_t bee_elf_section_count(const struct bee_elf *elf);
const struct bee_elf_section *bee_elf_section(const struct bee_elf *elf, size_t index);
/* The first section of that name, or NULL. */
const struct bee_elf_section *bee_elf_section_by_name(const struct bee_elf *elf,
							const char *name);

/* The symbol table, by symbol index (0 is the null symbol). */
size_t bee_elf_symbol_count(const struct bee_elf *elf);
const struct bee_elf_symbol *bee_elf_symbol(const struct bee_elf *elf, size_t index);

/* Executable sections with content, .text included, in section order. */
size_t bee_elf_prog_section_count(const struct bee_elf *elf);
const struct bee_elf_prog_section *bee_elf_prog_section(const struct bee_elf *elf, size_t i);
/* The .text section (subprograms), or NULL when absent or empty. */
const struct bee_elf_prog_section *bee_elf_text(const struct bee_elf *elf);

/* Every function of every executable section, section by section. */
size_t bee_elf_prog_count(const struct bee_elf *elf);
const struct bee_elf_prog *bee_elf_prog(const struct bee_elf *elf, size_t i);
const struct bee_elf_prog *bee_elf_find_prog(const struct bee_elf *elf, const char *name);

/* Maps from .maps and "maps", in section then offset order. */
size_t bee_elf_map_count(const struct bee_elf *elf);
const struct bee_elf_map *bee_elf_map(const struct bee_elf *elf, size_t i);
const struct bee_elf_map *bee_elf_find_map(const struct bee_elf *elf, const char *name);

/* Global data sections (.data*, .rodata*, .bss*, .kconfig), in section order. */
size_t bee_elf_data_section_count(const struct bee_elf *elf);
const struct bee_elf_section *bee_elf_data_section(const struct bee_elf *elf, size_t i);

/*
 * Extern symbols: named undefined (SHN_UNDEF) global or weak symbols.
 * Whether each is a .kconfig or a .ksyms extern, and its type, is in the
 * BTF DATASECs of those names.
 */
size_t bee_elf_extern_count(const struct bee_elf *elf);
const struct bee_elf_symbol *bee_elf_extern(const struct bee_elf *elf, size_t i);

/* Raw .BTF / .BTF.ext bytes (NULL and *size 0 when absent). */
const uint8_t *bee_elf_btf(const struct bee_elf *elf, size_t *size);
const uint8_t *bee_elf_btf_ext(const struct bee_elf *elf, size_t *size);

/* Names for messages and dumps. */
const char *bee_elf_reloc_type_name(uint32_t type);
const char *bee_elf_sec_kind_name(enum bee_elf_sec_kind kind);

/* ------------------------------------------------------------------ */
/* SEC() names (sec_def.c): libbpf's table of program section names.   */

/*
 * Attach-type and program-type values newer than the installed 6.1
 * <linux/bpf.h>.  They are enumerators there, which the preprocessor
 * cannot test for, so bee names them itself; the numbers are the
 * kernel's ABI and never change.
 */
#define BEE_BPF_PROG_TYPE_NETFILTER 32
#define BEE_BPF_STRUCT_OPS 44
#define BEE_BPF_NETFILTER 45
#define BEE_BPF_TCX_INGRESS 46
#define BEE_BPF_TCX_EGRESS 47
#define BEE_BPF_TRACE_UPROBE_MULTI 48
#define BEE_BPF_CGROUP_UNIX_CONNECT 49
#define BEE_BPF_CGROUP_UNIX_SENDMSG 50
#define BEE_BPF_CGROUP_UNIX_RECVMSG 51
#define BEE_BPF_CGROUP_UNIX_GETPEERNAME 52
#define BEE_BPF_CGROUP_UNIX_GETSOCKNAME 53
#define BEE_BPF_NETKIT_PRIMARY 54
#define BEE_BPF_NETKIT_PEER 55
#define BEE_BPF_TRACE_KPROBE_SESSION 56
#define BEE_BPF_TRACE_UPROBE_SESSION 57

/* How the part after "type/" names what the program attaches to. */
enum bee_sec_target_kind {
	BEE_SEC_TARGET_NONE,       /* no extras allowed: "socket", "xdp" */
	BEE_SEC_TARGET_KPROBE,     /* <function>[+<offset>] */
	BEE_SEC_TARGET_KSYSCALL,   /* <syscall> */
	BEE_SEC_TARGET_UPROBE,     /* <path>:<function>[+<offset>] */
	BEE_SEC_TARGET_USDT,       /* <path>:<provider>:<name> */
	BEE_SEC_TARGET_PATTERN,    /* kprobe.multi/uprobe.multi glob */
	BEE_SEC_TARGET_TRACEPOINT, /* <category>/<name> */
	BEE_SEC_TARGET_RAW_TP,     /* <tracepoint> */
	BEE_SEC_TARGET_BTF,        /* a BTF name: function, hook, tracepoint, iterator */
	BEE_SEC_TARGET_STRUCT_OPS, /* optional: the struct_ops member */
};

/* Flags of a section definition. */
#define BEE_SEC_SLEEPABLE 0x1u     /* BPF_F_SLEEPABLE at load */
#define BEE_SEC_XDP_FRAGS 0x2u     /* BPF_F_XDP_HAS_FRAGS at load */
#define BEE_SEC_ATTACH_BTF 0x4u    /* load needs attach_btf_id of the target */
#define BEE_SEC_EXP_ATTACH 0x8u    /* pass expected_attach_type at load */
#define BEE_SEC_EXP_OPTIONAL 0x10u /* ...and retry without it on old kernels */
#define BEE_SEC_RETPROBE 0x20u     /* kretprobe / uretprobe / kretsyscall */
#define BEE_SEC_EXTRAS 0x40u       /* "type+": "type" or "type/extras" */

struct bee_sec_def {
	const char *prefix;          /* "kprobe", "cgroup_skb/ingress", ... */
	enum bpf_prog_type prog_type;
	enum bpf_attach_type attach_type; /* meaningful with BEE_SEC_EXP_ATTACH */
	enum bee_sec_target_kind target;
	unsigned flags;
};

/* The attach target a section name spells, split up; strings are copies. */
struct bee_sec_target {
	enum bee_sec_target_kind kind;
	char *raw;       /* everything after "type/" (NULL when there is none) */
	char *path;      /* uprobe, usdt */
	char *func;      /* kprobe, uprobe, ksyscall, BTF name, raw tracepoint, pattern */
	char *category;  /* tracepoint */
	char *name;      /* tracepoint, usdt */
	char *provider;  /* usdt */
	uint64_t offset; /* kprobe/uprobe +offset */
};

/*
 * The definition matching a section name, or NULL when libbpf would not
 * recognise it: "type" entries match exactly, "type+" entries match
 * "type" or "type/anything".
 */
const struct bee_sec_def *bee_sec_def_find(const char *sec_name);

/* The whole table, for listings and tests. */
const struct bee_sec_def *bee_sec_defs(size_t *count);

/*
 * Split the extras of sec_name (which def matched) into *target.
 * Returns 0, or -EINVAL with err naming the section and what is wrong
 * with it (a kprobe offset that is not a number, a tracepoint without
 * its category...), or -ENOMEM.  Free with bee_sec_target_free().
 */
int bee_sec_target_parse(const struct bee_sec_def *def, const char *sec_name,
			 struct bee_sec_target *target, struct bee_error *err);
void bee_sec_target_free(struct bee_sec_target *target);

#ifdef __cplusplus
}
#endif
#endif
