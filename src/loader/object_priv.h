/*
 * loader/object_priv.h - what object.c (open, maps, load) and reloc.c
 * (instruction relocation) share: the object, program and map records.
 *
 * An object holds the ELF reader and the parsed BTF for its whole life;
 * programs and maps point into them.  Maps are described at open and
 * exist in the target from load (fd >= 0) until close.
 */
#ifndef BEE_LOADER_OBJECT_PRIV_H
#define BEE_LOADER_OBJECT_PRIV_H

#include <stdarg.h>

#include "bee/object.h"
#include "btf/btf.h"
#include "loader/elf.h"

/* The largest data section (.data/.rodata/.bss) an internal map is made
 * of: the value size limit of an array map, the kernel's
 * KMALLOC_MAX_SIZE on x86-64 (bee's core has the same, src/maps/array.c). */
#define OBJ_MAX_DATA_SIZE (1u << 22)

enum omap_kind {
	OMAP_BTF,     /* .maps */
	OMAP_LEGACY,  /* maps */
	OMAP_DATA,    /* .data* */
	OMAP_RODATA,  /* .rodata* (frozen) */
	OMAP_BSS,     /* .bss* */
	OMAP_KCONFIG, /* .kconfig externs (frozen) */
};

/* A map's shape, as the definition spells it. */
struct omap_def {
	uint32_t type, key_size, value_size, max_entries, map_flags, numa_node, pinning;
	uint64_t map_extra;
	uint32_t key_type_id, value_type_id; /* local BTF, 0 when unknown */
};

/* An initial slot of a map-in-map or prog array (from .rel.maps). */
struct omap_slot {
	uint32_t index;
	const char *sym;  /* the map or program it names */
	bool is_prog;
};

struct bee_object_map {
	struct bee_object *obj;
	char *name;
	enum omap_kind kind;
	struct omap_def def;
	bool has_inner;
	struct omap_def inner;          /* map-in-map: the inner maps' shape */
	const struct bee_elf_section *sec; /* where the definition or data lives */
	uint64_t sec_off, def_size;     /* the definition's bytes in sec (BTF/legacy) */
	uint8_t *image;                 /* internal maps: the initial value */
	struct omap_slot *slots;
	size_t nr_slots;
	int fd;
};

struct bee_program {
	struct bee_object *obj;
	const struct bee_elf_prog *eprog;
	const char *sec_name;
	enum bpf_prog_type type;
	enum bpf_attach_type expected_attach_type;
	uint32_t prog_flags;
	bool autoload;
	bool needs_attach_btf;   /* fentry/fexit/lsm...: attach_btf_id required */
	bool type_known;         /* the SEC name gave a type, or the host set one */
	uint32_t attach_btf_id;  /* resolved at load (kernel target) */
	struct bpf_insn *insns;  /* relocated after load */
	size_t nr_insns;
	struct bpf_func_info *func_info;  /* built during relocation, insn indexes */
	uint32_t nr_func_info;
	struct bpf_line_info *line_info;
	uint32_t nr_line_info;
	char *log;
	uint32_t log_level;      /* bee_program_set_log_level; 0: a log only for a refusal */
	int fd;
};

/* An extern the object uses: a .kconfig value or a kernel symbol. */
struct oextern {
	const struct bee_elf_symbol *sym;
	bool kconfig, weak, is_func;
	uint32_t btf_type;   /* the VAR's or FUNC's type in local BTF (0 without BTF) */
	uint32_t off, size;  /* kconfig: place in the .kconfig map */
	uint32_t align;      /* kconfig: the value's alignment */
	bool resolved;       /* kconfig: value known; ksym: found in the target */
	uint32_t ksym_btf_id; /* ksym in the target's BTF */
};

struct bee_object {
	char *name;
	struct bee_elf *elf;
	struct bee_btf_data *btf;
	struct bee_btf_ext *ext;
	struct bee_program *progs;
	size_t nr_progs;
	struct bee_object_map *maps;
	size_t nr_maps;
	struct oextern *externs;
	size_t nr_externs;
	struct bee_target target;
	bool loaded;
	int btf_fd;
	struct bee_btf_data *target_btf; /* CO-RE and ksyms; loaded on demand */
	bool target_btf_tried;
	struct bee_btf_data *vmlinux_btf; /* attach targets, when btf_custom_path replaced it */
	bool vmlinux_btf_tried;
	char *pin_root, *btf_custom_path, *kconfig;
	uint32_t kern_version;
	char err[4096];
	char warn[1024];
};

/* Write obj->err and return code (a negative errno). */
int obj_err(struct bee_object *obj, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void obj_warn(struct bee_object *obj, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The internal map of data section sec, or NULL. */
struct bee_object_map *obj_map_of_section(struct bee_object *obj, const struct bee_elf_section *sec);
/* The extern record of symbol sym, or NULL. */
struct oextern *obj_extern_of(struct bee_object *obj, const struct bee_elf_symbol *sym);
/* The target BTF for CO-RE and ksyms (NULL when none: message in warn). */
const struct bee_btf_data *obj_target_btf(struct bee_object *obj);

/*
 * reloc.c: make prog->insns the loadable program: the entry function,
 * then every .text function it reaches, with maps, global data,
 * subprogram calls and addresses, externs and CO-RE records resolved,
 * and func_info/line_info in instruction indexes.  Maps must exist.
 */
int obj_relocate_program(struct bee_object *obj, struct bee_program *prog);

#endif
