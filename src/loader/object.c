/*
 * object.c - the libbpf-style object: open, describe, load, close.
 *
 * Theory of operation.  Open runs the ELF reader and the BTF parsers and
 * builds the object's description: one program per entry function (its
 * type and expected attach type from the SEC name table), the maps
 * (BTF-defined ones read from the .maps DATASEC: each VAR's struct with
 * __uint fields encoded as pointer-to-array-of-N and __type fields as
 * pointers to the key/value type, `values` for map-in-map inner shapes
 * and .rel.maps for initial slots; legacy struct bpf_map_def entries;
 * one internal array map per data section, named as libbpf names them),
 * and the externs (.kconfig values laid out in their own internal map,
 * .ksyms kernel symbols).  Nothing touches a target until load.
 *
 * Load, in libbpf's order: BTF (a copy of .BTF with DATASEC sizes and
 * variable offsets fixed from the ELF, loaded with BPF_BTF_LOAD; a target
 * that refuses it gets everything without BTF, with a warning), maps
 * (created with their BTF types when there is BTF, retried without;
 * pinned by name when asked; internal maps filled and .rodata/.kconfig
 * frozen; map-in-map slots filled), then each program: relocated
 * (reloc.c) and loaded with license, version, name, expected attach type
 * and func/line info; a refused load is retried with a log and the log's
 * tail goes into the error message.  Prog-array slots are filled last.
 *
 * The target is two function pointers; this file never reaches the core.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bee/bee.h"
#include "loader/object_priv.h"

#define OBJ_NAME_LEN 16 /* BPF_OBJ_NAME_LEN */
#define LOG_BUF_SIZE (1u << 20)

/* ---- errors ---- */

int obj_err(struct bee_object *obj, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(obj->err, sizeof(obj->err), fmt, ap);
	va_end(ap);
	return code;
}

void obj_warn(struct bee_object *obj, const char *fmt, ...)
{
	size_t used = strlen(obj->warn);
	if (used + 2 >= sizeof(obj->warn))
		return;
	if (used)
		obj->warn[used++] = '\n', obj->warn[used] = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(obj->warn + used, sizeof(obj->warn) - used, fmt, ap);
	va_end(ap);
}

/* ---- targets ---- */

static long core_bpf(void *ctx, int cmd, union bpf_attr *attr, unsigned size)
{
	return bee_bpf(ctx, cmd, attr, size);
}

static int core_close(void *ctx, int fd)
{
	return bee_close(ctx, fd);
}

struct bee_target bee_target_of(struct bee *bee)
{
	return (struct bee_target){.bpf = core_bpf, .close = core_close, .ctx = bee};
}

static long kernel_bpf(void *ctx, int cmd, union bpf_attr *attr, unsigned size)
{
	(void)ctx;
	long r = syscall(__NR_bpf, cmd, attr, size);
	return r < 0 ? -errno : r;
}

static int kernel_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) ? -errno : 0;
}

struct bee_target bee_target_kernel(void)
{
	return (struct bee_target){.bpf = kernel_bpf, .close = kernel_close, .is_kernel = true};
}

static long tbpf(struct bee_object *obj, int cmd, union bpf_attr *attr)
{
	return obj->target.bpf(obj->target.ctx, cmd, attr, sizeof(*attr));
}

static void tclose(struct bee_object *obj, int fd)
{
	if (fd >= 0)
		obj->target.close(obj->target.ctx, fd);
}

/* ---- map definitions from BTF ---- */

/* __uint(name, N): a pointer to an array of N. */
static int btf_uint_field(const struct bee_btf_data *btf, uint32_t type, uint32_t *val)
{
	const struct btf_type *t = bee_btf_type_by_id(btf, bee_btf_skip_modifiers_typedefs(btf, type));
	if (!t || bee_btf_kind(t) != BTF_KIND_PTR)
		return -EINVAL;
	const struct btf_type *a = bee_btf_type_by_id(btf, t->type);
	if (!a || bee_btf_kind(a) != BTF_KIND_ARRAY)
		return -EINVAL;
	*val = bee_btf_array(a)->nelems;
	return 0;
}

static int parse_btf_def(struct bee_object *obj, const char *map, uint32_t struct_id,
			 struct omap_def *def, struct bee_object_map *m, int depth)
{
	const struct bee_btf_data *btf = obj->btf;
	struct bee_btf_type_info ti;
	if (bee_btf_type(btf, bee_btf_skip_modifiers_typedefs(btf, struct_id), &ti) ||
	    ti.kind != BTF_KIND_STRUCT)
		return obj_err(obj, -EINVAL, "map '%s': definition is not a struct in BTF", map);
	for (unsigned i = 0; i < ti.vlen; i++) {
		struct bee_btf_member_info mi;
		if (bee_btf_member(btf, ti.id, i, &mi))
			return -EINVAL;
		uint32_t v = 0;
		uint32_t *dst = NULL;
		if (!strcmp(mi.name, "type"))
			dst = &def->type;
		else if (!strcmp(mi.name, "max_entries"))
			dst = &def->max_entries;
		else if (!strcmp(mi.name, "map_flags"))
			dst = &def->map_flags;
		else if (!strcmp(mi.name, "numa_node"))
			dst = &def->numa_node;
		else if (!strcmp(mi.name, "pinning"))
			dst = &def->pinning;
		else if (!strcmp(mi.name, "key_size") || !strcmp(mi.name, "value_size")) {
			if (btf_uint_field(btf, mi.type, &v))
				goto bad_uint;
			uint32_t *sz = mi.name[0] == 'k' ? &def->key_size : &def->value_size;
			if (*sz && *sz != v)
				return obj_err(obj, -EINVAL, "map '%s': conflicting %s %u != %u", map,
					       mi.name, *sz, v);
			*sz = v;
			continue;
		} else if (!strcmp(mi.name, "map_extra")) {
			if (btf_uint_field(btf, mi.type, &v))
				goto bad_uint;
			def->map_extra = v;
			continue;
		} else if (!strcmp(mi.name, "key") || !strcmp(mi.name, "value")) {
			const struct btf_type *t =
				bee_btf_type_by_id(btf, bee_btf_skip_modifiers_typedefs(btf, mi.type));
			if (!t || bee_btf_kind(t) != BTF_KIND_PTR)
				return obj_err(obj, -EINVAL, "map '%s': %s type is not a pointer "
							     "(__type(%s, T))", map, mi.name, mi.name);
			long long sz = bee_btf_resolve_size(btf, t->type);
			if (sz < 0 || sz > UINT32_MAX)
				return obj_err(obj, -EINVAL, "map '%s': %s has no size", map, mi.name);
			bool key = mi.name[0] == 'k';
			uint32_t *dsz = key ? &def->key_size : &def->value_size;
			if (*dsz && *dsz != (uint32_t)sz)
				return obj_err(obj, -EINVAL, "map '%s': conflicting %s_size %u != %lld",
					       map, mi.name, *dsz, sz);
			*dsz = (uint32_t)sz;
			*(key ? &def->key_type_id : &def->value_type_id) = t->type;
			continue;
		} else if (!strcmp(mi.name, "values")) {
			if (depth > 0 || !m)
				return obj_err(obj, -EINVAL, "map '%s': inner maps cannot have values", map);
			const struct btf_type *a =
				bee_btf_type_by_id(btf, bee_btf_skip_modifiers_typedefs(btf, mi.type));
			if (!a || bee_btf_kind(a) != BTF_KIND_ARRAY)
				return obj_err(obj, -EINVAL, "map '%s': values is not an array", map);
			const struct btf_type *p = bee_btf_type_by_id(
				btf, bee_btf_skip_modifiers_typedefs(btf, bee_btf_array(a)->type));
			if (!p || bee_btf_kind(p) != BTF_KIND_PTR)
				return obj_err(obj, -EINVAL, "map '%s': values are not pointers", map);
			uint32_t pointee = bee_btf_skip_modifiers_typedefs(btf, p->type);
			const struct btf_type *in = bee_btf_type_by_id(btf, pointee);
			if (in && bee_btf_kind(in) == BTF_KIND_STRUCT) {
				int err = parse_btf_def(obj, map, pointee, &m->inner, NULL, depth + 1);
				if (err)
					return err;
				m->has_inner = true;
			} else if (!in || bee_btf_kind(in) != BTF_KIND_FUNC_PROTO) {
				return obj_err(obj, -EINVAL, "map '%s': values must point to an inner "
							     "map definition or a function", map);
			}
			if (def->value_size && def->value_size != 4)
				return obj_err(obj, -EINVAL, "map '%s': value_size must be 4 with values", map);
			def->value_size = 4;
			continue;
		} else {
			/* libbpf refuses unknown fields unless told otherwise */
			return obj_err(obj, -ENOTSUP, "map '%s': unknown field '%s'", map, mi.name);
		}
		if (btf_uint_field(btf, mi.type, dst))
			goto bad_uint;
		continue;
bad_uint:
		return obj_err(obj, -EINVAL, "map '%s': field '%s' is not an __uint (pointer to an "
					     "array of N)", map, mi.name);
	}
	return 0;
}

static uint32_t values_member_offset(const struct bee_btf_data *btf, uint32_t struct_id)
{
	struct bee_btf_type_info ti;
	if (bee_btf_type(btf, bee_btf_skip_modifiers_typedefs(btf, struct_id), &ti))
		return 0;
	for (unsigned i = 0; i < ti.vlen; i++) {
		struct bee_btf_member_info mi;
		if (!bee_btf_member(btf, ti.id, i, &mi) && !strcmp(mi.name, "values"))
			return mi.bit_offset / 8;
	}
	return 0;
}

/* The VAR of name in DATASEC sec_name: its type id, or 0. */
static uint32_t datasec_var_type(const struct bee_btf_data *btf, const char *sec_name,
				 const char *name, bool *is_func)
{
	long ds = bee_btf_find_by_name_kind(btf, sec_name, BTF_KIND_DATASEC);
	if (ds < 0)
		return 0;
	struct bee_btf_type_info ti;
	if (bee_btf_type(btf, (uint32_t)ds, &ti))
		return 0;
	for (unsigned i = 0; i < ti.vlen; i++) {
		struct bee_btf_secinfo_info si;
		struct bee_btf_type_info vi;
		if (bee_btf_datasec_entry(btf, (uint32_t)ds, i, &si) || bee_btf_type(btf, si.type, &vi))
			continue;
		if (!strcmp(vi.name, name)) {
			if (is_func)
				*is_func = vi.kind == BTF_KIND_FUNC;
			return vi.kind == BTF_KIND_VAR ? vi.type : si.type;
		}
	}
	return 0;
}

static int add_map(struct bee_object *obj, struct bee_object_map **out)
{
	struct bee_object_map *n = realloc(obj->maps, (obj->nr_maps + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	obj->maps = n;
	*out = &n[obj->nr_maps++];
	memset(*out, 0, sizeof(**out));
	(*out)->obj = obj;
	(*out)->fd = -1;
	return 0;
}

/* libbpf's internal_map_name: "<object prefix><section>" within 15 chars. */
static char *internal_map_name(const struct bee_object *obj, const char *sec)
{
	char buf[OBJ_NAME_LEN];
	size_t sfx = strlen(sec) > 7 ? strlen(sec) : 7;
	size_t pfx = 0;
	if (sfx >= OBJ_NAME_LEN)
		sfx = OBJ_NAME_LEN - 1;
	if (!strchr(sec + 1, '.')) {
		pfx = OBJ_NAME_LEN - sfx - 1;
		if (strlen(obj->name) < pfx)
			pfx = strlen(obj->name);
	}
	snprintf(buf, sizeof(buf), "%.*s%.*s", (int)pfx, obj->name, (int)sfx, sec);
	for (char *p = buf; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			*p = '_';
	return strdup(buf);
}

static int collect_maps(struct bee_object *obj)
{
	const struct bee_elf *elf = obj->elf;
	for (size_t i = 0; i < bee_elf_map_count(elf); i++) {
		const struct bee_elf_map *em = bee_elf_map(elf, i);
		struct bee_object_map *m;
		if (add_map(obj, &m))
			return -ENOMEM;
		m->name = strdup(em->name);
		if (!m->name)
			return -ENOMEM;
		m->sec = em->sec;
		m->sec_off = em->offset;
		m->def_size = em->size;
		if (em->kind == BEE_ELF_MAP_LEGACY) {
			m->kind = OMAP_LEGACY;
			m->def.type = em->def.type;
			m->def.key_size = em->def.key_size;
			m->def.value_size = em->def.value_size;
			m->def.max_entries = em->def.max_entries;
			m->def.map_flags = em->def.map_flags;
			continue;
		}
		m->kind = OMAP_BTF;
		if (!obj->btf)
			return obj_err(obj, -EINVAL, "map '%s': section '%s' needs BTF, and the object "
						     "has no .BTF", em->name, em->sec->name);
		uint32_t st = datasec_var_type(obj->btf, em->sec->name, em->name, NULL);
		if (!st)
			return obj_err(obj, -EINVAL, "map '%s': no VAR in the BTF DATASEC '%s'", em->name,
				       em->sec->name);
		int err = parse_btf_def(obj, em->name, st, &m->def, m, 0);
		if (err)
			return err;
		if (!m->def.type)
			return obj_err(obj, -EINVAL, "map '%s': no type", em->name);
		/* initial slots: .rel.maps entries inside this definition */
		uint32_t voff = values_member_offset(obj->btf, st);
		for (size_t r = 0; r < em->sec->nr_relocs; r++) {
			const struct bee_elf_reloc *rel = &em->sec->relocs[r];
			if (rel->offset < em->offset || rel->offset >= em->offset + em->size)
				continue;
			if (!m->has_inner && m->def.type != BPF_MAP_TYPE_PROG_ARRAY)
				return obj_err(obj, -EINVAL, "map '%s': relocation at offset %llu but the "
							     "map has no values", em->name,
					       (unsigned long long)rel->offset);
			uint64_t rel_off = rel->offset - em->offset;
			if (rel_off < voff || (rel_off - voff) % 8)
				return obj_err(obj, -EINVAL, "map '%s': relocation at offset %llu is not "
							     "a values slot", em->name,
					       (unsigned long long)rel_off);
			uint32_t idx = (uint32_t)((rel_off - voff) / 8);
			if (idx >= m->def.max_entries)
				return obj_err(obj, -EINVAL, "map '%s': initial slot %u beyond max_entries %u",
					       em->name, idx, m->def.max_entries);
			const struct bee_elf_symbol *s = rel->sym;
			const struct bee_elf_section *ss = bee_elf_section(elf, s->shndx);
			bool is_prog = ss && (ss->kind == BEE_ELF_SEC_PROG || ss->kind == BEE_ELF_SEC_TEXT);
			if (!ss || (!is_prog && ss->kind != BEE_ELF_SEC_MAPS))
				return obj_err(obj, -EINVAL, "map '%s': slot %u references '%s', which is "
							     "not a map or program", em->name, idx, s->name);
			struct omap_slot *ns = realloc(m->slots, (m->nr_slots + 1) * sizeof(*ns));
			if (!ns)
				return -ENOMEM;
			m->slots = ns;
			ns[m->nr_slots++] = (struct omap_slot){idx, s->name, is_prog};
		}
	}
	/* internal maps, one per data section */
	for (size_t i = 0; i < bee_elf_data_section_count(elf); i++) {
		const struct bee_elf_section *s = bee_elf_data_section(elf, i);
		if (!s->size || s->kind == BEE_ELF_SEC_KCONFIG)
			continue;
		/* refused here, before its image is allocated: a section
		 * header alone (.bss has no bytes in the file) could ask for
		 * gigabytes, and no target makes an array map that large */
		if (s->size > OBJ_MAX_DATA_SIZE)
			return obj_err(obj, -E2BIG, "section '%s' is too large for a map (%llu bytes, "
						    "at most %u)", s->name,
				       (unsigned long long)s->size, OBJ_MAX_DATA_SIZE);
		struct bee_object_map *m;
		if (add_map(obj, &m))
			return -ENOMEM;
		m->kind = s->kind == BEE_ELF_SEC_RODATA ? OMAP_RODATA
			  : s->kind == BEE_ELF_SEC_BSS ? OMAP_BSS : OMAP_DATA;
		m->name = internal_map_name(obj, s->name);
		m->sec = s;
		m->def.type = BPF_MAP_TYPE_ARRAY;
		m->def.key_size = 4;
		m->def.value_size = (uint32_t)s->size;
		m->def.max_entries = 1;
		m->def.map_flags = (m->kind == OMAP_RODATA ? BPF_F_RDONLY_PROG : 0) | BPF_F_MMAPABLE;
		if (obj->btf) {
			long ds = bee_btf_find_by_name_kind(obj->btf, s->name, BTF_KIND_DATASEC);
			m->def.value_type_id = ds > 0 ? (uint32_t)ds : 0;
		}
		m->image = calloc(1, s->size);
		if (!m->name || !m->image)
			return -ENOMEM;
		if (s->data)
			memcpy(m->image, s->data, s->size);
	}
	return 0;
}

/* ---- externs ---- */

static uint32_t host_kernel_version(void)
{
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;
	if (uname(&u) || sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return (a << 16) | (b << 8) | (c > 255 ? 255 : c);
}

/* A CONFIG_ value from opts->kconfig, or the few bee knows. */
static const char *kconfig_value(const struct bee_object *obj, const char *name)
{
	static const char *const known[][2] = {
		{"CONFIG_BPF", "y"}, {"CONFIG_BPF_SYSCALL", "y"}, {"CONFIG_BPF_JIT", "y"},
		{"CONFIG_BPF_EVENTS", "y"}, {"CONFIG_HAVE_EBPF_JIT", "y"}, {"CONFIG_X86_64", "y"},
		{"CONFIG_64BIT", "y"},
	};
	if (obj->kconfig) {
		size_t n = strlen(name);
		for (const char *p = obj->kconfig; p && *p;) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (!strncmp(p, name, n) && p[n] == '=') {
				static __thread char val[64];
				const char *v = p + n + 1;
				size_t len = strcspn(v, "\n");
				if (len >= sizeof(val))
					len = sizeof(val) - 1;
				memcpy(val, v, len);
				val[len] = 0;
				return val;
			}
			p = strchr(p, '\n');
		}
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i][0], name))
			return known[i][1];
	return NULL;
}

/* The alignment of a .kconfig value of BTF type t (0: none) and size sz,
 * as a C compiler lays it out: an array's is its element's. */
static uint32_t kconfig_align(const struct bee_btf_data *btf, uint32_t t, long long sz)
{
	for (int depth = 0; btf && t && depth < 32; depth++) {
		t = bee_btf_skip_modifiers_typedefs(btf, t);
		const struct btf_type *bt = bee_btf_type_by_id(btf, t);
		if (!bt || bee_btf_kind(bt) != BTF_KIND_ARRAY)
			break;
		t = bee_btf_array(bt)->type;
		sz = bee_btf_resolve_size(btf, t);
	}
	return sz >= 8 ? 8 : sz >= 4 ? 4 : sz >= 2 ? 2 : 1;
}

/* libbpf's order of .kconfig values: alignment descending, then size
 * ascending, then name, so that both loaders place each at the same
 * offset (externs of any other kind sort after them). */
static int kconfig_cmp(const void *pa, const void *pb)
{
	const struct oextern *a = *(const struct oextern *const *)pa;
	const struct oextern *b = *(const struct oextern *const *)pb;
	if (a->align != b->align)
		return a->align > b->align ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return strcmp(a->sym->name, b->sym->name);
}

static int collect_externs(struct bee_object *obj)
{
	const struct bee_elf *elf = obj->elf;
	size_t n = bee_elf_extern_count(elf);
	if (!n)
		return 0;
	obj->externs = calloc(n, sizeof(*obj->externs));
	struct oextern **order = calloc(n, sizeof(*order));
	if (!obj->externs || !order) {
		free(order);
		return -ENOMEM;
	}
	size_t nk = 0;
	for (size_t i = 0; i < n; i++) {
		struct oextern *e = &obj->externs[obj->nr_externs++];
		e->sym = bee_elf_extern(elf, i);
		e->weak = e->sym->bind == 2 /* STB_WEAK */;
		const char *name = e->sym->name;
		uint32_t t = 0;
		if (obj->btf && (t = datasec_var_type(obj->btf, ".kconfig", name, NULL)))
			e->kconfig = true;
		else if (obj->btf && (t = datasec_var_type(obj->btf, ".ksyms", name, &e->is_func)))
			e->kconfig = false;
		else if (!strncmp(name, "CONFIG_", 7) || !strcmp(name, "LINUX_KERNEL_VERSION"))
			e->kconfig = true;
		e->btf_type = t;
		if (!e->kconfig)
			continue;
		long long sz = t && obj->btf ? bee_btf_resolve_size(obj->btf, t) : 4;
		if (sz <= 0 || sz > 8)
			sz = sz > 8 ? sz : 4;
		if (sz > OBJ_MAX_DATA_SIZE) {
			free(order);
			return obj_err(obj, -E2BIG, "kconfig extern %s: %lld bytes, too large for "
						    "the .kconfig map (at most %u)", name, sz,
				       OBJ_MAX_DATA_SIZE);
		}
		e->size = (uint32_t)sz;
		e->align = kconfig_align(t ? obj->btf : NULL, t, sz);
		order[nk++] = e;
	}
	qsort(order, nk, sizeof(*order), kconfig_cmp);
	uint64_t kconfig_size = 0; /* nk values of at most OBJ_MAX_DATA_SIZE: no overflow */
	for (size_t i = 0; i < nk; i++) {
		struct oextern *e = order[i];
		kconfig_size = (kconfig_size + e->align - 1) & ~(uint64_t)(e->align - 1);
		e->off = (uint32_t)kconfig_size;
		kconfig_size += e->size;
	}
	free(order);
	if (kconfig_size > OBJ_MAX_DATA_SIZE)
		return obj_err(obj, -E2BIG, ".kconfig externs: %llu bytes together, too large for "
					    "the .kconfig map (at most %u)",
			       (unsigned long long)kconfig_size, OBJ_MAX_DATA_SIZE);
	if (!kconfig_size)
		return 0;
	struct bee_object_map *m;
	if (add_map(obj, &m))
		return -ENOMEM;
	m->kind = OMAP_KCONFIG;
	m->name = internal_map_name(obj, ".kconfig");
	m->def.type = BPF_MAP_TYPE_ARRAY;
	m->def.key_size = 4;
	m->def.value_size = (uint32_t)((kconfig_size + 7) & ~7ull);
	m->def.max_entries = 1;
	m->def.map_flags = BPF_F_RDONLY_PROG;
	if (obj->btf) {
		long ds = bee_btf_find_by_name_kind(obj->btf, ".kconfig", BTF_KIND_DATASEC);
		m->def.value_type_id = ds > 0 ? (uint32_t)ds : 0;
	}
	m->image = calloc(1, m->def.value_size);
	return m->name && m->image ? 0 : -ENOMEM;
}

/* What a .kconfig extern's type lets it hold (libbpf's classes). */
enum kcfg_kind { KCFG_UNSUPPORTED, KCFG_BOOL, KCFG_TRISTATE, KCFG_CHAR, KCFG_INT, KCFG_STRING };

static enum kcfg_kind kconfig_kind(const struct bee_btf_data *btf, uint32_t t, bool *is_signed)
{
	*is_signed = false;
	if (!btf || !t)
		return KCFG_INT; /* no BTF: a number, as before BTF existed */
	t = bee_btf_skip_modifiers_typedefs(btf, t);
	const struct btf_type *bt = bee_btf_type_by_id(btf, t);
	if (!bt)
		return KCFG_UNSUPPORTED;
	if (bee_btf_kind(bt) == BTF_KIND_INT) {
		uint32_t enc = BTF_INT_ENCODING(bee_btf_int_data(bt));
		*is_signed = enc & BTF_INT_SIGNED;
		if (enc & BTF_INT_BOOL)
			return bt->size == 1 ? KCFG_BOOL : KCFG_UNSUPPORTED;
		if (bt->size == 1)
			return KCFG_CHAR;
		return bt->size == 2 || bt->size == 4 || bt->size == 8 ? KCFG_INT : KCFG_UNSUPPORTED;
	}
	if (bee_btf_kind(bt) == BTF_KIND_ENUM) {
		const char *name = bee_btf_name(btf, t);
		return name && !strcmp(name, "libbpf_tristate") ? KCFG_TRISTATE : KCFG_UNSUPPORTED;
	}
	if (bee_btf_kind(bt) == BTF_KIND_ARRAY) {
		uint32_t el = bee_btf_skip_modifiers_typedefs(btf, bee_btf_array(bt)->type);
		const struct btf_type *et = bee_btf_type_by_id(btf, el);
		return et && bee_btf_kind(et) == BTF_KIND_INT && et->size == 1 ? KCFG_STRING
										 : KCFG_UNSUPPORTED;
	}
	return KCFG_UNSUPPORTED;
}

/*
 * One .kconfig value from its text, with libbpf's rules: y/n/m for bool
 * (not m), tristate and char externs (a char holds the letter); a number
 * for an integer (or char) that holds it; a quoted string for a char
 * array, cut to fit with its NUL.
 */
static int kconfig_set(struct bee_object *obj, const struct oextern *e, const char *s,
		       uint8_t *dst)
{
	const char *name = e->sym->name;
	bool sgn;
	enum kcfg_kind k = kconfig_kind(obj->btf, e->btf_type, &sgn);
	if (k == KCFG_UNSUPPORTED)
		return obj_err(obj, -EINVAL, "kconfig extern %s: its type is not bool, tristate, "
					     "char, an integer or a char array", name);
	if ((s[0] == 'y' || s[0] == 'n' || s[0] == 'm') && !s[1]) {
		if (k == KCFG_CHAR) {
			dst[0] = (uint8_t)s[0];
			return 0;
		}
		if (k != KCFG_BOOL && k != KCFG_TRISTATE)
			return obj_err(obj, -EINVAL, "kconfig extern %s: value '%s' implies bool, "
						     "tristate or char type", name, s);
		if (k == KCFG_BOOL && s[0] == 'm')
			return obj_err(obj, -EINVAL, "kconfig extern %s: value 'm' for a bool",
				       name);
		uint32_t v = s[0] == 'y' ? 1 : s[0] == 'm' ? 2 : 0;
		memcpy(dst, &v, e->size < 4 ? e->size : 4); /* little-endian host */
		return 0;
	}
	if (s[0] == '"') {
		size_t n = strlen(s);
		if (k != KCFG_STRING)
			return obj_err(obj, -EINVAL, "kconfig extern %s: a string for a value that is "
						     "not a char array", name);
		if (n < 2 || s[n - 1] != '"')
			return obj_err(obj, -EINVAL, "kconfig extern %s: unterminated string %s",
				       name, s);
		n -= 2;
		if (n >= e->size)
			n = e->size - 1;
		memcpy(dst, s + 1, n);
		dst[n] = 0;
		return 0;
	}
	if (k != KCFG_INT && k != KCFG_CHAR)
		return obj_err(obj, -EINVAL, "kconfig extern %s: value '%s' implies an integer type",
			       name, s);
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return obj_err(obj, -EINVAL, "kconfig extern %s: value '%s' is not y/n/m, a number "
					     "or a string", name, s);
	/* the number must fit the integer, as a signed or unsigned value */
	if (e->size < 8) {
		unsigned bits = e->size * 8;
		uint64_t hi = v >> (bits - 1);
		bool fits = sgn ? (hi == 0 || hi == (~0ull >> (bits - 1))) : (v >> bits) == 0;
		if (!fits)
			return obj_err(obj, -ERANGE, "kconfig extern %s: value '%s' does not fit "
						     "%u bytes", name, s, e->size);
	}
	memcpy(dst, &v, e->size); /* little-endian host */
	return 0;
}

/* Fill the .kconfig image: known values, zero for weak unknowns. */
static int fill_kconfig(struct bee_object *obj)
{
	struct bee_object_map *km = NULL;
	for (size_t i = 0; i < obj->nr_maps; i++)
		if (obj->maps[i].kind == OMAP_KCONFIG)
			km = &obj->maps[i];
	for (size_t i = 0; i < obj->nr_externs; i++) {
		struct oextern *e = &obj->externs[i];
		if (!e->kconfig || !km)
			continue;
		const char *name = e->sym->name;
		const char *s;
		uint8_t *dst = km->image + e->off;
		if (!strcmp(name, "LINUX_KERNEL_VERSION")) {
			uint64_t v = obj->kern_version ? obj->kern_version : host_kernel_version();
			memcpy(dst, &v, e->size < 8 ? e->size : 8); /* little-endian host */
		} else if ((s = kconfig_value(obj, name))) {
			int err = kconfig_set(obj, e, s, dst);
			if (err)
				return err;
		} else if (!e->weak) {
			return obj_err(obj, -ESRCH, "kconfig extern %s: value unknown (strong extern; "
						    "declare it __weak or give it in opts.kconfig)", name);
		}
		e->resolved = true;
	}
	return 0;
}

/* ---- open ---- */

static int collect_programs(struct bee_object *obj)
{
	const struct bee_elf *elf = obj->elf;
	size_t n = bee_elf_prog_count(elf);
	obj->progs = calloc(n ? n : 1, sizeof(*obj->progs));
	if (!obj->progs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct bee_elf_prog *ep = bee_elf_prog(elf, i);
		if (ep->subprog)
			continue;
		struct bee_program *p = &obj->progs[obj->nr_progs++];
		p->obj = obj;
		p->eprog = ep;
		p->sec_name = ep->sec->name;
		p->autoload = true;
		p->fd = -1;
		const struct bee_sec_def *def = bee_sec_def_find(ep->sec->name);
		if (def) {
			p->type_known = true;
			p->type = def->prog_type;
			if (def->flags & BEE_SEC_EXP_ATTACH)
				p->expected_attach_type = def->attach_type;
			if (def->flags & BEE_SEC_SLEEPABLE)
				p->prog_flags |= BPF_F_SLEEPABLE;
			if (def->flags & BEE_SEC_XDP_FRAGS)
				p->prog_flags |= BPF_F_XDP_HAS_FRAGS;
			p->needs_attach_btf = def->flags & BEE_SEC_ATTACH_BTF;
		}
		p->nr_insns = ep->nr_insns;
		p->insns = malloc((ep->nr_insns ? ep->nr_insns : 1) * sizeof(*p->insns));
		if (!p->insns)
			return -ENOMEM;
		memcpy(p->insns, ep->insns, ep->nr_insns * sizeof(*p->insns));
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct bee_object *object_open(struct bee_elf *elf, const char *name,
				      const struct bee_object_open_opts *opts, struct bee_error *err)
{
	struct bee_object *obj = calloc(1, sizeof(*obj));
	if (!obj) {
		bee_elf_close(elf);
		bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	obj->elf = elf;
	obj->btf_fd = -1;
	obj->name = strdup(name);
	if (opts) {
		obj->pin_root = dup_or_null(opts->pin_root_path);
		obj->btf_custom_path = dup_or_null(opts->btf_custom_path);
		obj->kconfig = dup_or_null(opts->kconfig);
		obj->kern_version = opts->kern_version;
	}
	int rc = obj->name ? 0 : -ENOMEM;
	size_t size;
	const uint8_t *raw = bee_elf_btf(elf, &size);
	struct bee_error e;
	bee_error_clear(&e);
	if (!rc && raw) {
		obj->btf = bee_btf_parse(raw, size, NULL, &e);
		if (!obj->btf)
			rc = obj_err(obj, e.code ? e.code : -EINVAL, ".BTF: %s", e.msg);
		const uint8_t *rext = bee_elf_btf_ext(elf, &size);
		if (!rc && rext) {
			obj->ext = bee_btf_ext_parse(rext, size, obj->btf, &e);
			if (!obj->ext)
				rc = obj_err(obj, e.code ? e.code : -EINVAL, ".BTF.ext: %s", e.msg);
		}
	}
	if (!rc)
		rc = collect_programs(obj);
	if (!rc)
		rc = collect_maps(obj);
	if (!rc)
		rc = collect_externs(obj);
	if (rc) {
		if (!obj->err[0])
			obj_err(obj, rc, "%s", bee_strerror(rc));
		bee_error_set(err, rc, -1, 0, 0, "%s: %s", name, obj->err);
		bee_object_close(obj);
		errno = -rc;
		return NULL;
	}
	return obj;
}

static bool opts_ok(const struct bee_object_open_opts *opts)
{
	return !opts || (opts->sz >= sizeof(size_t) && opts->sz <= sizeof(*opts));
}

struct bee_object *bee_object_open_mem(const void *data, size_t size,
				       const struct bee_object_open_opts *opts)
{
	struct bee_error local, *err = opts && opts->err ? opts->err : &local;
	bee_error_clear(err);
	if (!data || !opts_ok(opts)) {
		bee_error_set(err, -EINVAL, -1, 0, 0, "bad arguments");
		errno = EINVAL;
		return NULL;
	}
	struct bee_elf *elf = bee_elf_open_mem(data, size, err);
	if (!elf) {
		errno = err->code ? -err->code : EINVAL;
		return NULL;
	}
	return object_open(elf, opts && opts->object_name ? opts->object_name : "mem", opts, err);
}

struct bee_object *bee_object_open_file(const char *path, const struct bee_object_open_opts *opts)
{
	struct bee_error local, *err = opts && opts->err ? opts->err : &local;
	bee_error_clear(err);
	if (!path || !opts_ok(opts)) {
		bee_error_set(err, -EINVAL, -1, 0, 0, "bad arguments");
		errno = EINVAL;
		return NULL;
	}
	struct bee_elf *elf = bee_elf_open_file(path, err);
	if (!elf) {
		errno = err->code ? -err->code : EINVAL;
		return NULL;
	}
	char name[256];
	if (opts && opts->object_name) {
		snprintf(name, sizeof(name), "%s", opts->object_name);
	} else {
		const char *base = strrchr(path, '/');
		snprintf(name, sizeof(name), "%s", base ? base + 1 : path);
		char *dot = strchr(name, '.');
		if (dot && dot != name)
			*dot = 0;
	}
	return object_open(elf, name, opts, err);
}

void bee_object_close(struct bee_object *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->nr_progs; i++) {
		struct bee_program *p = &obj->progs[i];
		if (obj->loaded)
			tclose(obj, p->fd);
		free(p->insns);
		free(p->func_info);
		free(p->line_info);
		free(p->log);
	}
	for (size_t i = 0; i < obj->nr_maps; i++) {
		struct bee_object_map *m = &obj->maps[i];
		if (obj->target.close)
			tclose(obj, m->fd);
		free(m->name);
		free(m->image);
		free(m->slots);
	}
	if (obj->target.close)
		tclose(obj, obj->btf_fd);
	free(obj->progs);
	free(obj->maps);
	free(obj->externs);
	bee_btf_ext_free(obj->ext);
	bee_btf_free(obj->btf);
	bee_btf_free(obj->target_btf);
	bee_btf_free(obj->vmlinux_btf);
	bee_elf_close(obj->elf);
	free(obj->name);
	free(obj->pin_root);
	free(obj->btf_custom_path);
	free(obj->kconfig);
	free(obj);
}

/* ---- load: BTF ---- */

static int cmp_secinfo(const void *a, const void *b)
{
	const struct btf_var_secinfo *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static const struct bee_elf_symbol *find_symbol_in(const struct bee_elf *elf, const char *name,
						   uint32_t shndx)
{
	for (size_t i = 1; i < bee_elf_symbol_count(elf); i++) {
		const struct bee_elf_symbol *s = bee_elf_symbol(elf, i);
		if (s->shndx == shndx && s->name && !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

/* A copy of .BTF with DATASEC sizes and variable offsets set from the ELF
 * (libbpf's btf_fixup_datasec); .kconfig's from the extern layout. */
static void *fixed_btf(struct bee_object *obj, size_t *size)
{
	size_t rsz;
	const uint8_t *raw = bee_btf_raw(obj->btf, &rsz);
	uint8_t *copy = malloc(rsz);
	if (!copy)
		return NULL;
	memcpy(copy, raw, rsz);
	*size = rsz;
	for (uint32_t id = 1; id < bee_btf_type_count(obj->btf); id++) {
		const struct btf_type *t = bee_btf_type_by_id(obj->btf, id);
		if (!t || bee_btf_kind(t) != BTF_KIND_DATASEC)
			continue;
		if ((const uint8_t *)t < raw || (const uint8_t *)t >= raw + rsz)
			continue; /* not in the raw blob: leave it */
		struct btf_type *ct = (struct btf_type *)(copy + ((const uint8_t *)t - raw));
		struct btf_var_secinfo *vs = (struct btf_var_secinfo *)(ct + 1);
		const char *sname = bee_btf_str(obj->btf, t->name_off);
		unsigned vlen = bee_btf_vlen(t);
		if (!sname)
			continue;
		if (!strcmp(sname, ".kconfig")) {
			for (size_t i = 0; i < obj->nr_maps; i++)
				if (obj->maps[i].kind == OMAP_KCONFIG)
					ct->size = obj->maps[i].def.value_size;
			for (unsigned i = 0; i < vlen; i++) {
				const char *vn = bee_btf_name(obj->btf, vs[i].type);
				for (size_t e = 0; e < obj->nr_externs; e++)
					if (obj->externs[e].kconfig && !strcmp(obj->externs[e].sym->name, vn))
						vs[i].offset = obj->externs[e].off;
			}
		} else {
			const struct bee_elf_section *sec = bee_elf_section_by_name(obj->elf, sname);
			if (!sec || !sec->size)
				continue;
			if (!ct->size)
				ct->size = (uint32_t)sec->size;
			for (unsigned i = 0; i < vlen; i++) {
				const char *vn = bee_btf_name(obj->btf, vs[i].type);
				const struct bee_elf_symbol *s = find_symbol_in(obj->elf, vn, sec->index);
				if (s)
					vs[i].offset = (uint32_t)s->value;
			}
		}
		qsort(vs, vlen, sizeof(*vs), cmp_secinfo);
	}
	return copy;
}

static void load_btf(struct bee_object *obj)
{
	if (!obj->btf)
		return;
	size_t size;
	void *copy = fixed_btf(obj, &size);
	if (!copy)
		return;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)copy;
	a.btf_size = (uint32_t)size;
	long fd = tbpf(obj, BPF_BTF_LOAD, &a);
	if (fd < 0) {
		char log[512] = "";
		a.btf_log_buf = (uint64_t)(uintptr_t)log;
		a.btf_log_size = sizeof(log);
		a.btf_log_level = 1;
		tbpf(obj, BPF_BTF_LOAD, &a);
		log[sizeof(log) - 1] = 0;
		char *nl;
		while ((nl = strrchr(log, '\n')) && !nl[1])
			*nl = 0;
		nl = strrchr(log, '\n');
		obj_warn(obj, "BTF: the target refused the object's BTF (%s%s%s); loading without BTF",
			 bee_strerror((int)fd), log[0] ? ": " : "", nl ? nl + 1 : log);
	} else {
		obj->btf_fd = (int)fd;
	}
	free(copy);
}

/* ---- load: maps ---- */

static bool map_type_takes_btf_kv(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_STACK_TRACE: case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS: case BPF_MAP_TYPE_DEVMAP: case BPF_MAP_TYPE_DEVMAP_HASH:
	case BPF_MAP_TYPE_CPUMAP: case BPF_MAP_TYPE_XSKMAP: case BPF_MAP_TYPE_SOCKMAP:
	case BPF_MAP_TYPE_SOCKHASH: case BPF_MAP_TYPE_QUEUE: case BPF_MAP_TYPE_STACK:
	case BPF_MAP_TYPE_RINGBUF: case BPF_MAP_TYPE_PROG_ARRAY:
		return false;
	default:
		return true;
	}
}

static long create_one(struct bee_object *obj, const char *name, const struct omap_def *d,
		       int inner_fd, bool with_btf)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = d->type;
	a.key_size = d->key_size;
	a.value_size = d->value_size;
	a.max_entries = d->max_entries;
	a.map_flags = d->map_flags;
	a.inner_map_fd = inner_fd >= 0 ? (uint32_t)inner_fd : 0;
	a.numa_node = d->numa_node;
	a.map_extra = d->map_extra;
	if (d->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		if (!a.key_size)
			a.key_size = 4;
		if (!a.value_size)
			a.value_size = 4;
		if (!a.max_entries) {
			long n = sysconf(_SC_NPROCESSORS_CONF);
			a.max_entries = n > 0 ? (uint32_t)n : 1;
		}
	}
	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	if (with_btf && obj->btf_fd >= 0 && d->value_type_id && map_type_takes_btf_kv(d->type)) {
		a.btf_fd = (uint32_t)obj->btf_fd;
		a.btf_key_type_id = d->key_type_id;
		a.btf_value_type_id = d->value_type_id;
	}
	return tbpf(obj, BPF_MAP_CREATE, &a);
}

static int pin_path(struct bee_object *obj, const struct bee_object_map *m, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", obj->pin_root ? obj->pin_root : "/sys/fs/bpf", m->name);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int create_map(struct bee_object *obj, struct bee_object_map *m)
{
	char path[4096];
	union bpf_attr a;
	if (m->def.pinning == 1 /* LIBBPF_PIN_BY_NAME */) {
		if (pin_path(obj, m, path, sizeof(path)))
			return obj_err(obj, -ENAMETOOLONG, "map '%s': pin path too long", m->name);
		memset(&a, 0, sizeof(a));
		a.pathname = (uint64_t)(uintptr_t)path;
		long fd = tbpf(obj, BPF_OBJ_GET, &a);
		if (fd >= 0) {
			struct bpf_map_info info;
			memset(&info, 0, sizeof(info));
			memset(&a, 0, sizeof(a));
			a.info.bpf_fd = (uint32_t)fd;
			a.info.info_len = sizeof(info);
			a.info.info = (uint64_t)(uintptr_t)&info;
			long r = tbpf(obj, BPF_OBJ_GET_INFO_BY_FD, &a);
			if (r < 0 || info.type != m->def.type || info.key_size != m->def.key_size ||
			    info.value_size != m->def.value_size ||
			    info.max_entries != m->def.max_entries) {
				tclose(obj, (int)fd);
				return obj_err(obj, -EINVAL, "map '%s': the map pinned at %s does not "
							     "match the definition", m->name, path);
			}
			m->fd = (int)fd;
			return 0;
		}
	} else if (m->def.pinning > 1) {
		return obj_err(obj, -EINVAL, "map '%s': unknown pinning %u", m->name, m->def.pinning);
	}
	int inner_fd = -1;
	if (m->has_inner) {
		char iname[OBJ_NAME_LEN];
		snprintf(iname, sizeof(iname), "%s.inner", m->name);
		long fd = create_one(obj, iname, &m->inner, -1, true);
		if (fd < 0 && obj->btf_fd >= 0)
			fd = create_one(obj, iname, &m->inner, -1, false);
		if (fd < 0)
			return obj_err(obj, (int)fd, "map '%s': creating the inner map template failed: %s",
				       m->name, bee_strerror((int)fd));
		inner_fd = (int)fd;
	} else if (m->def.type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		   m->def.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		return obj_err(obj, -EINVAL, "map '%s': a map of maps needs __array(values, ...)", m->name);
	}
	long fd = create_one(obj, m->name, &m->def, inner_fd, true);
	if (fd < 0 && obj->btf_fd >= 0 && m->def.value_type_id) {
		long fd2 = create_one(obj, m->name, &m->def, inner_fd, false);
		if (fd2 >= 0)
			obj_warn(obj, "map '%s': the target refused its BTF types (%s); created without",
				 m->name, bee_strerror((int)fd));
		fd = fd2;
	}
	tclose(obj, inner_fd);
	if (fd < 0)
		return obj_err(obj, (int)fd, "map '%s': BPF_MAP_CREATE (type %u, key %u, value %u, "
					     "max_entries %u, flags 0x%x) failed: %s",
			       m->name, m->def.type, m->def.key_size, m->def.value_size,
			       m->def.max_entries, m->def.map_flags, bee_strerror((int)fd));
	m->fd = (int)fd;
	if (m->image && m->kind != OMAP_BSS) {
		uint32_t key = 0;
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uint64_t)(uintptr_t)&key;
		a.value = (uint64_t)(uintptr_t)m->image;
		long r = tbpf(obj, BPF_MAP_UPDATE_ELEM, &a);
		if (r < 0)
			return obj_err(obj, (int)r, "map '%s': setting the initial value failed: %s",
				       m->name, bee_strerror((int)r));
	}
	if (m->kind == OMAP_RODATA || m->kind == OMAP_KCONFIG) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		long r = tbpf(obj, BPF_MAP_FREEZE, &a);
		if (r < 0)
			return obj_err(obj, (int)r, "map '%s': freezing failed: %s", m->name,
				       bee_strerror((int)r));
	}
	if (m->def.pinning == 1) {
		memset(&a, 0, sizeof(a));
		a.pathname = (uint64_t)(uintptr_t)path;
		a.bpf_fd = (uint32_t)fd;
		long r = tbpf(obj, BPF_OBJ_PIN, &a);
		if (r < 0)
			return obj_err(obj, (int)r, "map '%s': pinning at %s failed: %s", m->name, path,
				       bee_strerror((int)r));
	}
	return 0;
}

static int fill_slots(struct bee_object *obj, bool progs)
{
	for (size_t i = 0; i < obj->nr_maps; i++) {
		struct bee_object_map *m = &obj->maps[i];
		for (size_t s = 0; s < m->nr_slots; s++) {
			struct omap_slot *sl = &m->slots[s];
			if (sl->is_prog != progs)
				continue;
			int fd = -1;
			if (progs) {
				struct bee_program *p = bee_object_find_program_by_name(obj, sl->sym);
				if (!p)
					return obj_err(obj, -ENOENT, "map '%s': slot %u: no program '%s'",
						       m->name, sl->index, sl->sym);
				fd = p->fd;
				if (fd < 0)
					continue; /* not loaded (autoload off) */
			} else {
				struct bee_object_map *t = bee_object_find_map_by_name(obj, sl->sym);
				if (!t || t->fd < 0)
					return obj_err(obj, -ENOENT, "map '%s': slot %u: no map '%s'",
						       m->name, sl->index, sl->sym);
				fd = t->fd;
			}
			union bpf_attr a;
			uint32_t key = sl->index, val = (uint32_t)fd;
			memset(&a, 0, sizeof(a));
			a.map_fd = (uint32_t)m->fd;
			a.key = (uint64_t)(uintptr_t)&key;
			a.value = (uint64_t)(uintptr_t)&val;
			long r = tbpf(obj, BPF_MAP_UPDATE_ELEM, &a);
			if (r < 0)
				return obj_err(obj, (int)r, "map '%s': setting slot %u to '%s' failed: %s",
					       m->name, sl->index, sl->sym, bee_strerror((int)r));
		}
	}
	return 0;
}

/* ---- load: target BTF (CO-RE, ksyms) ---- */

/* The BTF of a raw BTF file or of an ELF file's .BTF (NULL: warned). */
static struct bee_btf_data *read_btf_file(struct bee_object *obj, const char *path)
{
	struct bee_btf_data *out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		obj_warn(obj, "target BTF %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 20, len = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	if (!buf)
		return NULL;
	struct bee_error e;
	if (len >= 4 && !memcmp(buf, "\x7f" "ELF", 4)) {
		/* an ELF file (a BPF object, a vmlinux): its .BTF, as libbpf's btf__parse */
		struct bee_elf *elf = bee_elf_open_mem(buf, len, &e);
		size_t bsz = 0;
		const uint8_t *b = elf ? bee_elf_btf(elf, &bsz) : NULL;
		if (b)
			out = bee_btf_parse(b, bsz, NULL, &e);
		else if (elf)
			bee_error_set(&e, -ENOENT, -1, 0, 0, "no .BTF section");
		bee_elf_close(elf);
	} else {
		out = bee_btf_parse(buf, len, NULL, &e);
	}
	free(buf);
	if (!out)
		obj_warn(obj, "target BTF %s: %s", path, e.msg);
	return out;
}

const struct bee_btf_data *obj_target_btf(struct bee_object *obj)
{
	if (obj->target_btf_tried)
		return obj->target_btf;
	obj->target_btf_tried = true;
	const char *path = obj->btf_custom_path;
	if (!path && obj->target.is_kernel)
		path = "/sys/kernel/btf/vmlinux";
	if (path)
		obj->target_btf = read_btf_file(obj, path);
	return obj->target_btf;
}

/* The kernel's own BTF, where attach targets are looked up (libbpf's
 * btf_vmlinux: btf_custom_path is for CO-RE only). */
static const struct bee_btf_data *obj_vmlinux_btf(struct bee_object *obj)
{
	if (!obj->target.is_kernel)
		return NULL;
	if (!obj->btf_custom_path)
		return obj_target_btf(obj);
	if (!obj->vmlinux_btf_tried) {
		obj->vmlinux_btf_tried = true;
		obj->vmlinux_btf = read_btf_file(obj, "/sys/kernel/btf/vmlinux");
	}
	return obj->vmlinux_btf;
}

static void resolve_ksyms(struct bee_object *obj)
{
	for (size_t i = 0; i < obj->nr_externs; i++) {
		struct oextern *e = &obj->externs[i];
		if (e->kconfig || !obj->target.is_kernel)
			continue;
		const struct bee_btf_data *kb = obj_target_btf(obj);
		if (!kb)
			return;
		long id = bee_btf_find_by_name_kind(kb, e->sym->name,
						    e->is_func ? BTF_KIND_FUNC : BTF_KIND_VAR);
		if (id > 0) {
			e->resolved = true;
			e->ksym_btf_id = (uint32_t)id;
		}
	}
}

/* ---- load: programs ---- */

/*
 * The attach_btf_id of a fentry/fexit/fmod_ret/lsm/tp_btf/iter program,
 * found in vmlinux BTF as libbpf finds it: the FUNC named by the section
 * (fentry/fexit/fmod_ret), "bpf_lsm_<hook>" (lsm, lsm_cgroup), the
 * typedef "btf_trace_<name>" (tp_btf), the FUNC "bpf_iter_<name>" (iter).
 */
static int resolve_attach_btf_id(struct bee_object *obj, struct bee_program *p)
{
	const char *name = p->eprog->name;
	const struct bee_sec_def *def = bee_sec_def_find(p->sec_name);
	if (!def)
		return obj_err(obj, -EINVAL, "prog '%s': section '%s' names no attach target",
			       name, p->sec_name);
	if (def->prog_type == BPF_PROG_TYPE_EXT)
		return obj_err(obj, -EOPNOTSUPP, "prog '%s': section '%s': freplace needs the "
						 "target program (attach_prog_fd), which bee does not "
						 "set yet", name, p->sec_name);
	if (!obj->target.is_kernel)
		return obj_err(obj, -EOPNOTSUPP, "prog '%s': section '%s' attaches to a kernel "
						 "function by its BTF id (fentry/fexit/fmod_ret/lsm/"
						 "tp_btf/iter); the user-space target has no kernel "
						 "functions: load it into the kernel target, or give it "
						 "another type (bee_program_set_type)", name,
			       p->sec_name);
	struct bee_error e;
	struct bee_sec_target t;
	int err = bee_sec_target_parse(def, p->sec_name, &t, &e);
	if (err)
		return obj_err(obj, err, "prog '%s': %s", name, e.msg);
	if (!t.func) {
		bee_sec_target_free(&t);
		return obj_err(obj, -EINVAL, "prog '%s': section '%s' names no attach target "
					     "(expected '%s/<name>')", name, p->sec_name, def->prefix);
	}
	const char *pfx = "";
	int kind = BTF_KIND_FUNC;
	if (def->attach_type == BPF_TRACE_RAW_TP)
		pfx = "btf_trace_", kind = BTF_KIND_TYPEDEF;
	else if (def->attach_type == BPF_LSM_MAC || def->attach_type == BPF_LSM_CGROUP)
		pfx = "bpf_lsm_";
	else if (def->attach_type == BPF_TRACE_ITER)
		pfx = "bpf_iter_";
	char want[256];
	snprintf(want, sizeof(want), "%s%s", pfx, t.func);
	bee_sec_target_free(&t);
	const struct bee_btf_data *vb = obj_vmlinux_btf(obj);
	if (!vb)
		return obj_err(obj, -ESRCH, "prog '%s': section '%s': no vmlinux BTF to find '%s' "
					    "in (/sys/kernel/btf/vmlinux unreadable)", name,
			       p->sec_name, want);
	long id = bee_btf_find_by_name_kind(vb, want, kind);
	if (id <= 0)
		return obj_err(obj, -ESRCH, "prog '%s': section '%s': %s '%s' not found in vmlinux "
					    "BTF (kernel module BTF is not searched yet)", name,
			       p->sec_name, kind == BTF_KIND_FUNC ? "function" : "typedef", want);
	p->attach_btf_id = (uint32_t)id;
	return 0;
}

static int load_program(struct bee_object *obj, struct bee_program *p)
{
	const char *name = p->eprog->name;
	if (!p->type_known)
		return obj_err(obj, -EINVAL, "prog '%s': section '%s' names no known program type "
					     "(set one with bee_program_set_type)", name, p->sec_name);
	int err;
	if (p->needs_attach_btf && (err = resolve_attach_btf_id(obj, p)))
		return err;
	err = obj_relocate_program(obj, p);
	if (err)
		return err;
	const char *license = bee_elf_license(obj->elf);
	uint32_t kver = 0;
	bee_elf_kern_version(obj->elf, &kver);
	union bpf_attr a;
	/*
	 * Up to three loads: with the program's BTF (func/line info); if the
	 * target refuses, without it (a target that cannot take the BTF still
	 * gets the program); if that fails too, the refusal was the
	 * program's: once more as at first, with a log, so the log reports
	 * the program as built.  A host log level asks for a log every time.
	 */
	bool has_btf = obj->btf_fd >= 0 && p->nr_func_info;
	for (int attempt = 0; attempt < 3; attempt++) {
		bool with_btf = has_btf && attempt != 1;
		if (attempt == 1 && !has_btf)
			continue;
		memset(&a, 0, sizeof(a));
		a.prog_type = p->type;
		a.insn_cnt = (uint32_t)p->nr_insns;
		a.insns = (uint64_t)(uintptr_t)p->insns;
		a.license = (uint64_t)(uintptr_t)(license ? license : "");
		a.kern_version = kver;
		a.prog_flags = p->prog_flags;
		a.expected_attach_type = p->expected_attach_type;
		a.attach_btf_id = p->attach_btf_id; /* attach_btf_obj_fd 0: vmlinux */
		snprintf(a.prog_name, sizeof(a.prog_name), "%s", name);
		if (with_btf) {
			a.prog_btf_fd = (uint32_t)obj->btf_fd;
			a.func_info_rec_size = sizeof(struct bpf_func_info);
			a.func_info = (uint64_t)(uintptr_t)p->func_info;
			a.func_info_cnt = p->nr_func_info;
			if (p->nr_line_info) {
				a.line_info_rec_size = sizeof(struct bpf_line_info);
				a.line_info = (uint64_t)(uintptr_t)p->line_info;
				a.line_info_cnt = p->nr_line_info;
			}
		}
		uint32_t level = p->log_level ? p->log_level : attempt == 2 ? 1 : 0;
		char *log = level ? calloc(1, LOG_BUF_SIZE) : NULL;
		if (log) {
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = LOG_BUF_SIZE;
			a.log_level = level;
		}
		long fd = tbpf(obj, BPF_PROG_LOAD, &a);
		if (fd >= 0) {
			p->fd = (int)fd;
			if (p->log_level) { /* kept: the verifier's statistics */
				free(p->log);
				p->log = log;
			} else {
				free(log);
			}
			return 0;
		}
		if (attempt < 2) {
			free(log);
			continue;
		}
		free(p->log);
		p->log = log;
		const char *tail = "";
		if (log) {
			size_t n = strlen(log);
			while (n && log[n - 1] == '\n')
				log[--n] = 0;
			tail = n > 1500 ? log + n - 1500 : log;
		}
		return obj_err(obj, (int)fd, "prog '%s' (section '%s', %zu insns): BPF_PROG_LOAD failed: "
					     "%s%s%s", name, p->sec_name, p->nr_insns,
			       bee_strerror((int)fd), tail[0] ? "\n--- log ---\n" : "", tail);
	}
	return -EINVAL;
}

int bee_object_load(struct bee_object *obj, const struct bee_target *target)
{
	if (!obj || !target || !target->bpf || !target->close)
		return -EINVAL;
	if (obj->loaded || obj->target.bpf)
		return obj_err(obj, -EBUSY, "object '%s' is already loaded", obj->name);
	obj->err[0] = 0;
	obj->warn[0] = 0;
	obj->target = *target;
	int err = fill_kconfig(obj);
	if (err)
		return err;
	resolve_ksyms(obj);
	load_btf(obj);
	for (size_t i = 0; !err && i < obj->nr_maps; i++)
		err = create_map(obj, &obj->maps[i]);
	if (!err)
		err = fill_slots(obj, false);
	for (size_t i = 0; !err && i < obj->nr_progs; i++)
		if (obj->progs[i].autoload)
			err = load_program(obj, &obj->progs[i]);
	obj->loaded = true; /* handles now belong to the object, even on failure */
	if (!err)
		err = fill_slots(obj, true);
	return err;
}

/* ---- accessors ---- */

const char *bee_object_name(const struct bee_object *obj) { return obj->name; }
const char *bee_object_error(const struct bee_object *obj) { return obj->err; }
const char *bee_object_warnings(const struct bee_object *obj) { return obj->warn; }
int bee_object_btf_fd(const struct bee_object *obj) { return obj->btf_fd; }

struct bee_program *bee_object_find_program_by_name(const struct bee_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->nr_progs; i++)
		if (!strcmp(obj->progs[i].eprog->name, name))
			return &obj->progs[i];
	return NULL;
}

struct bee_program *bee_object_next_program(const struct bee_object *obj,
					    const struct bee_program *prev)
{
	size_t i = prev ? (size_t)(prev - obj->progs) + 1 : 0;
	return i < obj->nr_progs ? &obj->progs[i] : NULL;
}

size_t bee_object_program_count(const struct bee_object *obj) { return obj->nr_progs; }

int bee_program_fd(const struct bee_program *p) { return p->fd; }
const char *bee_program_name(const struct bee_program *p) { return p->eprog->name; }
const char *bee_program_section_name(const struct bee_program *p) { return p->sec_name; }
enum bpf_prog_type bee_program_type(const struct bee_program *p) { return p->type; }
enum bpf_attach_type bee_program_expected_attach_type(const struct bee_program *p)
{
	return p->expected_attach_type;
}
bool bee_program_autoload(const struct bee_program *p) { return p->autoload; }
const struct bpf_insn *bee_program_insns(const struct bee_program *p) { return p->insns; }
size_t bee_program_insn_cnt(const struct bee_program *p) { return p->nr_insns; }
const char *bee_program_log(const struct bee_program *p) { return p->log ? p->log : ""; }

int bee_program_set_type(struct bee_program *p, enum bpf_prog_type type)
{
	if (p->obj->loaded)
		return -EBUSY;
	p->type = type;
	p->type_known = true;
	p->needs_attach_btf = false;
	return 0;
}

int bee_program_set_expected_attach_type(struct bee_program *p, enum bpf_attach_type type)
{
	if (p->obj->loaded)
		return -EBUSY;
	p->expected_attach_type = type;
	return 0;
}

int bee_program_set_log_level(struct bee_program *p, uint32_t level)
{
	if (p->obj->loaded)
		return -EBUSY;
	/* the kernel's BPF_LOG_LEVEL1 | _LEVEL2 | _STATS | _FIXED, and bee's
	 * BEE_LOG_EXPLAIN (for bee's own target) */
	if (level & ~(15u | BEE_LOG_EXPLAIN))
		return -EINVAL;
	p->log_level = level;
	return 0;
}

uint32_t bee_program_log_level(const struct bee_program *p) { return p->log_level; }

int bee_program_set_autoload(struct bee_program *p, bool autoload)
{
	if (p->obj->loaded)
		return -EBUSY;
	p->autoload = autoload;
	return 0;
}

struct bee_object_map *bee_object_find_map_by_name(const struct bee_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->nr_maps; i++)
		if (!strcmp(obj->maps[i].name, name))
			return &obj->maps[i];
	/* libbpf also finds internal maps by section name (".rodata") */
	for (size_t i = 0; i < obj->nr_maps; i++)
		if (obj->maps[i].kind >= OMAP_DATA && obj->maps[i].sec &&
		    !strcmp(obj->maps[i].sec->name, name))
			return &obj->maps[i];
	return NULL;
}

struct bee_object_map *bee_object_next_map(const struct bee_object *obj,
					   const struct bee_object_map *prev)
{
	size_t i = prev ? (size_t)(prev - obj->maps) + 1 : 0;
	return i < obj->nr_maps ? &obj->maps[i] : NULL;
}

size_t bee_object_map_count(const struct bee_object *obj) { return obj->nr_maps; }
int bee_object_map_fd(const struct bee_object_map *m) { return m->fd; }
const char *bee_object_map_name(const struct bee_object_map *m) { return m->name; }
enum bpf_map_type bee_object_map_type(const struct bee_object_map *m) { return m->def.type; }
uint32_t bee_object_map_key_size(const struct bee_object_map *m) { return m->def.key_size; }
uint32_t bee_object_map_value_size(const struct bee_object_map *m) { return m->def.value_size; }
uint32_t bee_object_map_max_entries(const struct bee_object_map *m) { return m->def.max_entries; }
uint32_t bee_object_map_flags(const struct bee_object_map *m) { return m->def.map_flags; }
bool bee_object_map_is_internal(const struct bee_object_map *m) { return m->kind >= OMAP_DATA; }

int bee_object_map_set_max_entries(struct bee_object_map *m, uint32_t n)
{
	if (m->obj->loaded)
		return -EBUSY;
	m->def.max_entries = n;
	return 0;
}

int bee_object_map_set_type(struct bee_object_map *m, enum bpf_map_type type)
{
	if (m->obj->loaded)
		return -EBUSY;
	m->def.type = type;
	return 0;
}

int bee_object_map_set_value_size(struct bee_object_map *m, uint32_t size)
{
	if (m->obj->loaded)
		return -EBUSY;
	if (m->image) {
		/* libbpf resizes a data section's image too (zero-filled) */
		if (!size)
			return -EINVAL;
		uint8_t *n = realloc(m->image, size);
		if (!n)
			return -ENOMEM;
		if (size > m->def.value_size)
			memset(n + m->def.value_size, 0, size - m->def.value_size);
		m->image = n;
		m->def.value_type_id = 0; /* the DATASEC no longer describes it */
	}
	m->def.value_size = size;
	return 0;
}

int bee_object_map_set_initial_value(struct bee_object_map *m, const void *data, size_t size)
{
	if (m->obj->loaded)
		return -EBUSY;
	if (!m->image || m->kind == OMAP_KCONFIG || size != m->def.value_size)
		return -EINVAL;
	memcpy(m->image, data, size);
	return 0;
}

void *bee_object_map_initial_value(struct bee_object_map *m, size_t *size)
{
	if (!m->image || m->kind == OMAP_KCONFIG || m->obj->loaded)
		return NULL;
	if (size)
		*size = m->def.value_size;
	return m->image;
}

/* ---- lookups for reloc.c ---- */

struct bee_object_map *obj_map_of_section(struct bee_object *obj, const struct bee_elf_section *sec)
{
	for (size_t i = 0; i < obj->nr_maps; i++)
		if (obj->maps[i].kind >= OMAP_DATA && obj->maps[i].kind != OMAP_KCONFIG &&
		    obj->maps[i].sec == sec)
			return &obj->maps[i];
	return NULL;
}

struct oextern *obj_extern_of(struct bee_object *obj, const struct bee_elf_symbol *sym)
{
	for (size_t i = 0; i < obj->nr_externs; i++)
		if (obj->externs[i].sym == sym ||
		    (sym->name && !strcmp(obj->externs[i].sym->name, sym->name)))
			return &obj->externs[i];
	return NULL;
}

/* ---- attaching ---- */

struct bee_link {
	struct bee_target target;
	int fd;      /* the BPF link, or the perf event when attached by ioctl */
	int perf_fd; /* kprobe/uprobe/tracepoint: the perf event it owns, or -1 */
	char *hook;
};

/* Where each section prefix attaches in user space: its hook's prefix. */
static const char *user_hook_prefix(const struct bee_sec_def *def)
{
	static const struct { const char *sec, *hook; } map[] = {
		{"raw_tp", "raw_tp"}, {"raw_tracepoint", "raw_tp"}, {"raw_tp.w", "raw_tp"},
		{"raw_tracepoint.w", "raw_tp"}, {"tp", "tp"}, {"tracepoint", "tp"},
		{"kprobe", "kprobe"}, {"kretprobe", "kretprobe"}, {"uprobe", "uprobe"},
		{"uprobe.s", "uprobe"}, {"uretprobe", "uretprobe"}, {"uretprobe.s", "uretprobe"},
		{"usdt", "usdt"}, {"usdt.s", "usdt"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(def->prefix, map[i].sec))
			return map[i].hook;
	return NULL;
}

static struct bee_link *link_new(struct bee_object *obj, long fd, const char *hook)
{
	struct bee_link *l = calloc(1, sizeof(*l));
	char *h = strdup(hook);
	if (!l || !h) {
		free(l);
		free(h);
		tclose(obj, (int)fd);
		obj_err(obj, -ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	l->target = obj->target;
	l->fd = (int)fd;
	l->perf_fd = -1;
	l->hook = h;
	return l;
}

static struct bee_link *attach_fail(struct bee_object *obj, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct bee_link *attach_fail(struct bee_object *obj, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(obj->err, sizeof(obj->err), fmt, ap);
	va_end(ap);
	errno = -code;
	return NULL;
}

/* ---- perf-event attach (kprobe, uprobe, tracepoint) on the kernel ----
 *
 * As libbpf: a perf event is opened for the probe or tracepoint
 * (perf_event_open(2): the kprobe/uprobe PMU's dynamic type with config1
 * the function name or path and config2 the offset, the retprobe bit from
 * the PMU's format; PERF_TYPE_TRACEPOINT with the tracefs event id), and
 * the program is linked to it with BPF_LINK_CREATE (BPF_PERF_EVENT), or,
 * where the kernel refuses that, with PERF_EVENT_IOC_SET_BPF and
 * PERF_EVENT_IOC_ENABLE.  The link owns the perf event fd. */

static int read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return 0;
}

/* The dynamic PMU type of "kprobe"/"uprobe" and its retprobe config bit. */
static int probe_pmu(const char *pmu, bool ret, __u32 *type, __u64 *config)
{
	char path[128], buf[64];
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	int err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	char *end;
	unsigned long t = strtoul(buf, &end, 10);
	if (end == buf)
		return -EINVAL;
	*type = (uint32_t)t;
	*config = 0;
	if (ret) {
		snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/format/retprobe", pmu);
		err = read_small_file(path, buf, sizeof(buf));
		if (err)
			return err;
		unsigned bit;
		if (sscanf(buf, "config:%u", &bit) != 1 || bit > 63)
			return -EINVAL;
		*config = 1ull << bit;
	}
	return 0;
}

static long perf_open(struct perf_event_attr *attr, int pid, int cpu)
{
	long fd = syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The tracefs id of CAT/NAME; tracefs is mounted at /sys/kernel/tracing
 * when neither it nor debugfs's tracing directory has events. */
static int tracepoint_id(const char *cat, const char *name, uint64_t *id)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[4096], buf[64];
	int err = -ENOENT;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
			snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], cat, name);
			err = read_small_file(path, buf, sizeof(buf));
			if (!err) {
				char *end;
				*id = strtoull(buf, &end, 10);
				return end == buf ? -EINVAL : 0;
			}
		}
		if (pass || access("/sys/kernel/tracing/events", F_OK) == 0 ||
		    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
			break;
		if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
			break;
	}
	return err;
}

/* The file offset of function FUNC in the ELF file PATH (its .symtab or
 * .dynsym), as libbpf's elf_find_func_offset. */
static int elf_func_offset(const char *path, const char *func, uint64_t *off, const char **why)
{
	*why = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	size_t size = (size_t)st.st_size;
	const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	int err = -ENOENT;
	*why = "function not found in its symbol tables";
	const Elf64_Ehdr *eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum) {
		*why = "not a well-formed 64-bit ELF file";
		err = -ENOEXEC;
		goto out;
	}
	const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
	uint64_t vaddr = 0;
	bool found = false;
	for (int pass = 0; pass < 2 && !found; pass++) {
		uint32_t want = pass ? SHT_DYNSYM : SHT_SYMTAB;
		for (unsigned i = 0; i < eh->e_shnum && !found; i++) {
			if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum ||
			    sh[i].sh_entsize != sizeof(Elf64_Sym))
				continue;
			const Elf64_Shdr *strs = &sh[sh[i].sh_link];
			if (sh[i].sh_offset > size || size - sh[i].sh_offset < sh[i].sh_size ||
			    strs->sh_offset > size || size - strs->sh_offset < strs->sh_size)
				continue;
			const Elf64_Sym *sym = (const void *)(m + sh[i].sh_offset);
			const char *str = (const char *)m + strs->sh_offset;
			size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
			for (size_t k = 0; k < n; k++) {
				if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || !sym[k].st_value ||
				    sym[k].st_name >= strs->sh_size)
					continue;
				const char *nm = str + sym[k].st_name;
				size_t max = strs->sh_size - sym[k].st_name;
				size_t fl = strlen(func);
				if (fl < max && !memcmp(nm, func, fl) &&
				    (nm[fl] == 0 || (nm[fl] == '@' && pass))) {
					vaddr = sym[k].st_value;
					found = true;
					break;
				}
			}
		}
	}
	if (!found)
		goto out;
	const Elf64_Phdr *ph = (const void *)(m + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && vaddr >= ph[i].p_vaddr &&
		    vaddr - ph[i].p_vaddr < ph[i].p_memsz) {
			*off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
			err = 0;
			goto out;
		}
	*why = "function is in no executable segment";
	err = -ENOENT;
out:
	munmap((void *)m, size);
	return err;
}

/* Link prog to the perf event pfd; the link takes pfd (closed on failure). */
static struct bee_link *perf_link(struct bee_object *obj, struct bee_program *p, int pfd,
				  const char *hook, const char *what)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)p->fd;
	a.link_create.target_fd = (uint32_t)pfd;
	a.link_create.attach_type = BPF_PERF_EVENT;
	long fd = tbpf(obj, BPF_LINK_CREATE, &a);
	int lfd = -1;
	if (fd >= 0) {
		lfd = (int)fd;
	} else if (fd == -EINVAL || fd == -EOPNOTSUPP || fd == -ENOTSUP) {
		/* no BPF perf links (before 5.15): the ioctls */
		if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, p->fd) < 0 ||
		    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
			int e = -errno;
			close(pfd);
			return attach_fail(obj, e, "prog '%s': %s: PERF_EVENT_IOC_SET_BPF failed: %s",
					   p->eprog->name, what, bee_strerror(e));
		}
	} else {
		close(pfd);
		return attach_fail(obj, (int)fd, "prog '%s': %s: BPF_LINK_CREATE (BPF_PERF_EVENT) "
						 "failed: %s", p->eprog->name, what, bee_strerror((int)fd));
	}
	struct bee_link *l = calloc(1, sizeof(*l));
	char *h = strdup(hook);
	if (!l || !h) {
		free(l);
		free(h);
		if (lfd >= 0)
			tclose(obj, lfd);
		close(pfd);
		errno = ENOMEM;
		obj_err(obj, -ENOMEM, "out of memory");
		return NULL;
	}
	l->target = obj->target;
	l->fd = lfd >= 0 ? lfd : pfd;
	l->perf_fd = pfd;
	l->hook = h;
	return l;
}

static struct bee_link *attach_perf(struct bee_object *obj, struct bee_program *p,
				    const struct bee_sec_def *def, const struct bee_sec_target *t)
{
	const char *name = p->eprog->name;
	bool ret = def->flags & BEE_SEC_RETPROBE;
	struct perf_event_attr pa;
	memset(&pa, 0, sizeof(pa));
	pa.size = sizeof(pa);
	pa.sample_period = 1;
	pa.wakeup_events = 1;
	char what[600], hook[512];
	int cpu = 0, pid = -1;
	if (def->target == BEE_SEC_TARGET_KPROBE) {
		if (!t->func)
			return attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no function",
					   name, p->sec_name);
		snprintf(what, sizeof(what), "%s '%s+0x%llx'", ret ? "kretprobe" : "kprobe", t->func,
			 (unsigned long long)t->offset);
		snprintf(hook, sizeof(hook), "%s", t->func);
		int err = probe_pmu("kprobe", ret, &pa.type, &pa.config);
		if (err)
			return attach_fail(obj, err == -ENOENT ? -EOPNOTSUPP : err,
					   "prog '%s': %s: this kernel has no kprobe PMU "
					   "(/sys/bus/event_source/devices/kprobe%s: %s; "
					   "CONFIG_KPROBES off?)", name, what,
					   ret ? "/format/retprobe" : "/type", bee_strerror(err));
		pa.config1 = (uint64_t)(uintptr_t)t->func;
		pa.config2 = t->offset;
	} else if (def->target == BEE_SEC_TARGET_UPROBE) {
		if (!t->path)
			return attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no "
							"'<path>:<function>'", name, p->sec_name);
		const char *fn = t->func ? t->func : "";
		snprintf(what, sizeof(what), "%s '%s:%s+0x%llx'", ret ? "uretprobe" : "uprobe",
			 t->path, fn, (unsigned long long)t->offset);
		snprintf(hook, sizeof(hook), "%s:%s", t->path, fn);
		uint64_t off = 0;
		const char *why = "";
		char *end;
		unsigned long long raw = strtoull(fn, &end, 0);
		int err = 0;
		if (!fn[0] || (*end == 0 && end != fn))
			off = fn[0] ? raw : 0; /* "path:+0x1234" / "path:0x1234": file offsets */
		else
			err = elf_func_offset(t->path, fn, &off, &why);
		if (err)
			return attach_fail(obj, err, "prog '%s': %s: resolving the function in '%s': "
						     "%s%s%s", name, what, t->path, bee_strerror(err),
					   why[0] ? ": " : "", why);
		err = probe_pmu("uprobe", ret, &pa.type, &pa.config);
		if (err)
			return attach_fail(obj, err == -ENOENT ? -EOPNOTSUPP : err,
					   "prog '%s': %s: this kernel has no uprobe PMU (%s; "
					   "CONFIG_UPROBE_EVENTS off?)", name, what,
					   bee_strerror(err));
		pa.config1 = (uint64_t)(uintptr_t)t->path;
		pa.config2 = off + t->offset;
	} else { /* tracepoint */
		if (!t->category || !t->name)
			return attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no "
							"'<category>/<name>' tracepoint", name, p->sec_name);
		snprintf(what, sizeof(what), "tracepoint '%s/%s'", t->category, t->name);
		snprintf(hook, sizeof(hook), "%s/%s", t->category, t->name);
		uint64_t id = 0;
		int err = tracepoint_id(t->category, t->name, &id);
		if (err)
			return attach_fail(obj, err, "prog '%s': %s: reading its id under "
						     "/sys/kernel/tracing/events (or debug/tracing) "
						     "failed: %s", name, what, bee_strerror(err));
		pa.type = PERF_TYPE_TRACEPOINT;
		pa.config = id;
	}
	long pfd = perf_open(&pa, pid, cpu);
	if (pfd < 0)
		return attach_fail(obj, (int)pfd, "prog '%s': %s: perf_event_open failed: %s", name,
				   what, bee_strerror((int)pfd));
	return perf_link(obj, p, (int)pfd, hook, what);
}

struct bee_link *bee_program_attach(struct bee_program *p)
{
	if (!p) {
		errno = EINVAL;
		return NULL;
	}
	struct bee_object *obj = p->obj;
	const char *name = p->eprog->name;
	if (p->fd < 0)
		return attach_fail(obj, -EINVAL, "prog '%s': not loaded, nothing to attach", name);
	const struct bee_sec_def *def = bee_sec_def_find(p->sec_name);
	if (!def)
		return attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no known attach point",
				   name, p->sec_name);
	struct bee_error e;
	struct bee_sec_target t;
	int err = bee_sec_target_parse(def, p->sec_name, &t, &e);
	if (err)
		return attach_fail(obj, err, "prog '%s': %s", name, e.msg);
	struct bee_link *link = NULL;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	if (!obj->target.is_kernel) {
		const char *hp = user_hook_prefix(def);
		if (!hp) {
			attach_fail(obj, -EOPNOTSUPP, "prog '%s': section '%s': the user-space target "
						      "has no '%s' hook to attach to yet (bee "
						      "attaches raw_tp, tp, kprobe, kretprobe, uprobe, "
						      "uretprobe and usdt sections to named hooks)",
				    name, p->sec_name, def->prefix);
		} else if (!t.raw) {
			attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no hook (expected "
						 "'%s/<target>')", name, p->sec_name, def->prefix);
		} else {
			char hook[512];
			snprintf(hook, sizeof(hook), "%s/%s", hp, t.raw);
			a.raw_tracepoint.name = (uint64_t)(uintptr_t)hook;
			a.raw_tracepoint.prog_fd = (uint32_t)p->fd;
			long fd = tbpf(obj, BPF_RAW_TRACEPOINT_OPEN, &a);
			if (fd < 0)
				attach_fail(obj, (int)fd, "prog '%s': attaching to hook '%s' "
							  "(BPF_RAW_TRACEPOINT_OPEN) failed: %s",
					    name, hook, bee_strerror((int)fd));
			else
				link = link_new(obj, fd, hook);
		}
		bee_sec_target_free(&t);
		return link;
	}
	/* the kernel */
	long fd = -EOPNOTSUPP;
	const char *how = NULL;
	if (def->target == BEE_SEC_TARGET_RAW_TP) {
		if (!t.func) {
			bee_sec_target_free(&t);
			return attach_fail(obj, -ESRCH, "prog '%s': section '%s' names no raw "
							"tracepoint", name, p->sec_name);
		}
		a.raw_tracepoint.name = (uint64_t)(uintptr_t)t.func;
		a.raw_tracepoint.prog_fd = (uint32_t)p->fd;
		fd = tbpf(obj, BPF_RAW_TRACEPOINT_OPEN, &a);
		how = "BPF_RAW_TRACEPOINT_OPEN";
	} else if (def->target == BEE_SEC_TARGET_KPROBE || def->target == BEE_SEC_TARGET_UPROBE ||
		   def->target == BEE_SEC_TARGET_TRACEPOINT) {
		link = attach_perf(obj, p, def, &t);
		bee_sec_target_free(&t);
		return link;
	} else if (def->prog_type == BPF_PROG_TYPE_TRACING &&
		   def->attach_type == BPF_TRACE_ITER) {
		a.link_create.prog_fd = (uint32_t)p->fd;
		a.link_create.attach_type = BPF_TRACE_ITER;
		fd = tbpf(obj, BPF_LINK_CREATE, &a);
		how = "BPF_LINK_CREATE";
	} else if ((def->prog_type == BPF_PROG_TYPE_TRACING || def->prog_type == BPF_PROG_TYPE_LSM) &&
		   def->attach_type != BPF_LSM_CGROUP) {
		a.raw_tracepoint.prog_fd = (uint32_t)p->fd; /* name NULL: its attach_btf_id */
		fd = tbpf(obj, BPF_RAW_TRACEPOINT_OPEN, &a);
		how = "BPF_RAW_TRACEPOINT_OPEN";
	}
	if (!how)
		attach_fail(obj, -EOPNOTSUPP, "prog '%s': section '%s': attaching '%s' programs to "
					      "the kernel is not supported yet (bee attaches raw_tp, "
					      "fentry, fexit, fmod_ret, tp_btf, lsm, iter, kprobe, "
					      "kretprobe, uprobe, uretprobe and tracepoint)",
			    name, p->sec_name, def->prefix);
	else if (fd < 0)
		attach_fail(obj, (int)fd, "prog '%s': section '%s': %s failed: %s", name,
			    p->sec_name, how, bee_strerror((int)fd));
	else
		link = link_new(obj, fd, t.raw ? t.raw : def->prefix);
	bee_sec_target_free(&t);
	return link;
}

int bee_link_fd(const struct bee_link *link)
{
	return link ? link->fd : -EINVAL;
}

const char *bee_link_hook(const struct bee_link *link)
{
	return link ? link->hook : NULL;
}

int bee_link_pin(struct bee_link *link, const char *path)
{
	if (!link || !path)
		return -EINVAL;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = (uint64_t)(uintptr_t)path;
	a.bpf_fd = (uint32_t)link->fd;
	long r = link->target.bpf(link->target.ctx, BPF_OBJ_PIN, &a, sizeof(a));
	return r < 0 ? (int)r : 0;
}

int bee_link_destroy(struct bee_link *link)
{
	if (!link)
		return 0;
	int r = 0;
	if (link->fd >= 0 && link->fd != link->perf_fd)
		r = link->target.close(link->target.ctx, link->fd);
	if (link->perf_fd >= 0) {
		if (link->fd == link->perf_fd) /* attached by ioctl */
			(void)ioctl(link->perf_fd, PERF_EVENT_IOC_DISABLE, 0);
		if (close(link->perf_fd) && !r)
			r = -errno;
	}
	free(link->hook);
	free(link);
	return r;
}
