/*
 * reloc.c - turn one entry function of an object into a loadable program.
 *
 * Theory of operation (libbpf's bpf_object__relocate, written afresh).
 * The output starts as a copy of the entry function.  A work list holds
 * every function placed in the output with its base index; processing a
 * function walks its instructions with the ELF relocations that apply to
 * them:
 *
 *  - ld_imm64 against a map definition (.maps / maps) becomes
 *    BPF_PSEUDO_MAP_FD with the map's fd in the target;
 *  - ld_imm64 against global data (.data/.rodata/.bss/.rodata.str*) or a
 *    .kconfig extern becomes BPF_PSEUDO_MAP_VALUE: fd of the section's
 *    internal map and the byte offset (symbol value + the addend clang
 *    left in imm) in the second half;
 *  - ld_imm64 against a function becomes BPF_PSEUDO_FUNC (a callback);
 *  - a pseudo call (relocated against .text, or unrelocated and so inside
 *    the same section) targets the function containing the callee's
 *    instruction; the first time a function is reached it is appended to
 *    the output and queued, so every reachable function is appended once,
 *    transitively, after the program (libbpf's order);
 *  - call or ld_imm64 against an undefined symbol that is a .ksyms extern
 *    needs the target's kernel BTF (BPF_PSEUDO_KFUNC_CALL /
 *    BPF_PSEUDO_BTF_ID); unresolved weak ones become 0 (variables) or
 *    libbpf's poisoned call (functions); strong ones are refused.
 *
 * Call and callback immediates are finally relative to the output:
 * imm = target - (insn + 1).  CO-RE records of each placed function are
 * applied right after it is copied (through loader/core_relo.h when that
 * module is present).  func_info and line_info records of each placed
 * function are translated from section byte offsets to output
 * instruction indexes, so they are sorted by construction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/object_priv.h"

#if defined(__has_include)
#if __has_include("loader/core_relo.h")
#include "loader/core_relo.h"
#define BEE_HAVE_CORE_RELO 1
#endif
#endif

#define POISON_CALL_KFUNC_BASE 2002000000 /* libbpf's marker for missing weak kfuncs */

struct placed {
	const struct bee_elf_prog *fn;
	size_t base;
};

struct reloc_ctx {
	struct bee_object *obj;
	struct bee_program *prog;
	struct bpf_insn *out;
	size_t nr, cap;
	struct placed *placed;
	size_t nr_placed, cap_placed;
};

static const struct bee_elf_prog_section *prog_section_of(const struct bee_elf *elf,
							  const struct bee_elf_section *sec)
{
	for (size_t i = 0; i < bee_elf_prog_section_count(elf); i++)
		if (bee_elf_prog_section(elf, i)->sec == sec)
			return bee_elf_prog_section(elf, i);
	return NULL;
}

/* The function of section sec that contains instruction idx of the section. */
static const struct bee_elf_prog *func_at(const struct bee_elf *elf,
					  const struct bee_elf_section *sec, int64_t idx)
{
	const struct bee_elf_prog_section *ps = prog_section_of(elf, sec);
	if (!ps || idx < 0)
		return NULL;
	for (size_t i = 0; i < ps->nr_progs; i++) {
		const struct bee_elf_prog *p = &ps->progs[i];
		if ((uint64_t)idx >= p->offset / 8 && (uint64_t)idx < (p->offset + p->size) / 8)
			return p;
	}
	return NULL;
}

static int place(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t *base)
{
	for (size_t i = 0; i < c->nr_placed; i++)
		if (c->placed[i].fn == fn) {
			*base = c->placed[i].base;
			return 0;
		}
	if (c->nr + fn->nr_insns > c->cap) {
		size_t cap = (c->nr + fn->nr_insns) * 2;
		struct bpf_insn *n = realloc(c->out, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->out = n;
		c->cap = cap;
	}
	if (c->nr_placed == c->cap_placed) {
		size_t cap = c->cap_placed ? c->cap_placed * 2 : 8;
		struct placed *n = realloc(c->placed, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->placed = n;
		c->cap_placed = cap;
	}
	memcpy(c->out + c->nr, fn->insns, fn->nr_insns * sizeof(*c->out));
	c->placed[c->nr_placed++] = (struct placed){fn, c->nr};
	*base = c->nr;
	c->nr += fn->nr_insns;
	return 0;
}

static const char *sym_label(const struct bee_elf_symbol *sym, const struct bee_elf *elf)
{
	if (sym->name && sym->name[0])
		return sym->name;
	const struct bee_elf_section *s = bee_elf_section(elf, sym->shndx);
	return s ? s->name : "?";
}

/* ---- BTF.ext: func_info / line_info / CO-RE of one placed function ---- */

static int add_ext_info(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t base)
{
	struct bee_object *obj = c->obj;
	struct bee_program *prog = c->prog;
	if (!obj->ext)
		return 0;
	int sec = bee_btf_ext_find_sec(obj->ext, BEE_BTF_EXT_FUNC_INFO, fn->sec->name);
	if (sec >= 0) {
		uint32_t n = bee_btf_ext_sec_nr(obj->ext, BEE_BTF_EXT_FUNC_INFO, (unsigned)sec);
		for (uint32_t i = 0; i < n; i++) {
			struct bee_btf_func_info fi;
			if (bee_btf_ext_func_info(obj->ext, (unsigned)sec, i, &fi) ||
			    fi.insn_off < fn->offset || fi.insn_off >= fn->offset + fn->size)
				continue;
			void *p = realloc(prog->func_info, (prog->nr_func_info + 1) * sizeof(*prog->func_info));
			if (!p)
				return -ENOMEM;
			prog->func_info = p;
			prog->func_info[prog->nr_func_info++] = (struct bpf_func_info){
				.insn_off = (uint32_t)(base + (fi.insn_off - fn->offset) / 8),
				.type_id = fi.type_id};
		}
	}
	sec = bee_btf_ext_find_sec(obj->ext, BEE_BTF_EXT_LINE_INFO, fn->sec->name);
	if (sec >= 0) {
		uint32_t n = bee_btf_ext_sec_nr(obj->ext, BEE_BTF_EXT_LINE_INFO, (unsigned)sec);
		for (uint32_t i = 0; i < n; i++) {
			struct bee_btf_line_info li;
			if (bee_btf_ext_line_info(obj->ext, (unsigned)sec, i, &li) ||
			    li.insn_off < fn->offset || li.insn_off >= fn->offset + fn->size)
				continue;
			void *p = realloc(prog->line_info, (prog->nr_line_info + 1) * sizeof(*prog->line_info));
			if (!p)
				return -ENOMEM;
			prog->line_info = p;
			prog->line_info[prog->nr_line_info++] = (struct bpf_line_info){
				.insn_off = (uint32_t)(base + (li.insn_off - fn->offset) / 8),
				.file_name_off = li.file_name_off,
				.line_off = li.line_off,
				.line_col = li.line_num << 10 | li.line_col};
		}
	}
	return 0;
}

static int apply_core(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t base)
{
	struct bee_object *obj = c->obj;
	if (!obj->ext)
		return 0;
	int sec = bee_btf_ext_find_sec(obj->ext, BEE_BTF_EXT_CORE_RELO, fn->sec->name);
	if (sec < 0)
		return 0;
	uint32_t n = bee_btf_ext_sec_nr(obj->ext, BEE_BTF_EXT_CORE_RELO, (unsigned)sec);
	for (uint32_t i = 0; i < n; i++) {
		struct bee_btf_core_relo r;
		if (bee_btf_ext_core_relo(obj->ext, (unsigned)sec, i, &r) ||
		    r.insn_off < fn->offset || r.insn_off >= fn->offset + fn->size)
			continue;
		size_t at = base + (r.insn_off - fn->offset) / 8;
#ifdef BEE_HAVE_CORE_RELO
		const struct bee_btf_data *target = obj_target_btf(obj);
		if (!target)
			target = obj->btf; /* no target BTF: the object's own types */
		struct bee_core_result res;
		struct bee_error e;
		bee_error_clear(&e);
		r.insn_off = (uint32_t)(at * 8); /* the patcher indexes the output */
		int err = bee_core_relo_resolve(&r, obj->btf, target, &res, &e);
		if (!err)
			err = bee_core_relo_patch(c->out + at, c->nr - at, &r, &res, &e);
		if (err == 1) { /* poisoned, as libbpf does: fails only if reached */
			obj_warn(obj, "prog '%s': insn %zu poisoned: %s", c->prog->eprog->name, at, e.msg);
			err = 0;
		}
		if (err)
			return obj_err(obj, err, "prog '%s': CO-RE relocation #%u (%s, %s) at insn %zu: %s",
				       c->prog->eprog->name, i, bee_btf_core_relo_kind_str(r.kind),
				       r.access, at, e.msg);
#else
		/* SEAM: loader/core_relo.h (the CO-RE resolver) is not in this
		 * tree yet; objects with CO-RE records are refused rather than
		 * loaded with unrelocated field offsets. */
		return obj_err(obj, -EOPNOTSUPP,
			       "prog '%s': CO-RE relocation #%u (%s, access %s) at insn %zu: CO-RE "
			       "is not available in this build",
			       c->prog->eprog->name, i, bee_btf_core_relo_kind_str(r.kind), r.access, at);
#endif
	}
	return 0;
}

/* ---- one instruction's relocation ---- */

static int reloc_ld_imm64(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t base,
			  size_t j, const struct bee_elf_reloc *r)
{
	struct bee_object *obj = c->obj;
	const struct bee_elf *elf = obj->elf;
	const char *pname = c->prog->eprog->name;
	size_t at = base + j;
	struct bpf_insn *in = &c->out[at];
	const struct bee_elf_symbol *sym = r->sym;
	const char *sname = sym_label(sym, elf);

	if (r->type != R_BPF_64_64)
		return obj_err(obj, -EINVAL,
			       "prog '%s': relocation at insn %zu (section '%s', symbol '%s'): type %s "
			       "is not valid for ld_imm64",
			       pname, at, fn->sec->name, sname, bee_elf_reloc_type_name(r->type));
	if (sym->shndx == 0 /* SHN_UNDEF */) {
		struct oextern *ext = obj_extern_of(obj, sym);
		if (!ext)
			return obj_err(obj, -ENOENT,
				       "prog '%s': relocation at insn %zu references unknown map or extern "
				       "'%s' (undefined in the object, not a .kconfig or .ksyms extern)",
				       pname, at, sname);
		if (ext->kconfig) {
			struct bee_object_map *km = NULL;
			for (size_t i = 0; i < obj->nr_maps; i++)
				if (obj->maps[i].kind == OMAP_KCONFIG)
					km = &obj->maps[i];
			if (!km || km->fd < 0)
				return obj_err(obj, -EINVAL, "prog '%s': insn %zu: kconfig extern '%s' has no map",
					       pname, at, sname);
			in[0].src_reg = BPF_PSEUDO_MAP_VALUE;
			in[0].imm = km->fd;
			in[1].imm = (int32_t)ext->off;
			return 0;
		}
		if (ext->resolved && obj->target.is_kernel) {
			in[0].src_reg = BPF_PSEUDO_BTF_ID;
			in[0].imm = (int32_t)ext->ksym_btf_id;
			in[1].imm = 0; /* vmlinux, not a module */
			return 0;
		}
		if (ext->weak) {
			in[0].src_reg = 0;
			in[0].imm = 0;
			in[1].imm = 0;
			return 0;
		}
		return obj_err(obj, -ENOENT,
			       "prog '%s': insn %zu: ksym %s: kernel symbols are not available%s", pname,
			       at, sname, obj->target.is_kernel ? " (not found in the kernel's BTF)"
								: " in the user-space target");
	}
	const struct bee_elf_section *sec = bee_elf_section(elf, sym->shndx);
	if (!sec)
		return obj_err(obj, -EINVAL, "prog '%s': relocation at insn %zu: symbol '%s' has a bad "
				       "section index %u", pname, at, sname, sym->shndx);
	uint64_t off = sym->value + (uint64_t)(int64_t)in[0].imm;
	switch (sec->kind) {
	case BEE_ELF_SEC_MAPS:
	case BEE_ELF_SEC_LEGACY_MAPS:
		for (size_t i = 0; i < obj->nr_maps; i++) {
			struct bee_object_map *m = &obj->maps[i];
			if (m->sec == sec && (m->kind == OMAP_BTF || m->kind == OMAP_LEGACY) &&
			    off >= m->sec_off && off < m->sec_off + (m->def_size ? m->def_size : 1)) {
				in[0].src_reg = BPF_PSEUDO_MAP_FD;
				in[0].imm = m->fd;
				in[1].imm = 0;
				return 0;
			}
		}
		return obj_err(obj, -ENOENT,
			       "prog '%s': relocation at insn %zu references unknown map '%s' (section "
			       "'%s' offset %llu)",
			       pname, at, sname, sec->name, (unsigned long long)off);
	case BEE_ELF_SEC_DATA:
	case BEE_ELF_SEC_RODATA:
	case BEE_ELF_SEC_BSS:
	case BEE_ELF_SEC_KCONFIG: {
		struct bee_object_map *m = obj_map_of_section(obj, sec);
		if (!m)
			return obj_err(obj, -ENOENT, "prog '%s': relocation at insn %zu: global data "
					       "section '%s' (symbol '%s') has no map", pname, at,
				       sec->name, sname);
		if (off >= m->def.value_size)
			return obj_err(obj, -EINVAL, "prog '%s': relocation at insn %zu: symbol '%s' "
					       "offset %llu is outside '%s' (%u bytes)", pname, at,
				       sname, (unsigned long long)off, sec->name, m->def.value_size);
		in[0].src_reg = BPF_PSEUDO_MAP_VALUE;
		in[0].imm = m->fd;
		in[1].imm = (int32_t)off;
		return 0;
	}
	case BEE_ELF_SEC_PROG:
	case BEE_ELF_SEC_TEXT:
		/* a callback's address: handled with the calls */
		return 1;
	default:
		return obj_err(obj, -EINVAL,
			       "prog '%s': relocation at insn %zu: symbol '%s' in section '%s' is not a "
			       "map, global data or a function",
			       pname, at, sname, sec->name);
	}
}

/* Resolve a call or callback reference to its target function and patch imm. */
static int reloc_to_func(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t base, size_t j,
			 const struct bee_elf_reloc *r, bool is_call)
{
	struct bee_object *obj = c->obj;
	const struct bee_elf *elf = obj->elf;
	const char *pname = c->prog->eprog->name;
	size_t at = base + j;
	const struct bee_elf_section *tsec;
	int64_t tidx;
	int32_t imm = c->out[at].imm;
	const char *what = "subprogram";
	if (r) {
		tsec = bee_elf_section(elf, r->sym->shndx);
		if (is_call) /* imm = (S + A) / 8 - 1 with the addend in imm */
			tidx = (int64_t)(r->sym->value / 8) + imm + 1;
		else /* ld_imm64 of a function: byte addend */
			tidx = (int64_t)((r->sym->value + (uint64_t)(int64_t)imm) / 8);
		what = sym_label(r->sym, elf);
	} else {
		tsec = fn->sec;
		tidx = (int64_t)(fn->offset / 8 + j) + imm + 1;
	}
	const struct bee_elf_prog *g = tsec ? func_at(elf, tsec, tidx) : NULL;
	if (!g)
		return obj_err(obj, -ENOENT,
			       "prog '%s': %s at insn %zu to '%s' (section '%s' insn %lld): no such "
			       "function in the object",
			       pname, is_call ? "call" : "callback reference", at, what,
			       tsec ? tsec->name : "?", (long long)tidx);
	size_t gbase;
	int err = place(c, g, &gbase);
	if (err)
		return err;
	int64_t rel = (int64_t)gbase + (tidx - (int64_t)(g->offset / 8)) - (int64_t)at - 1;
	c->out[at].imm = (int32_t)rel;
	if (is_call) {
		c->out[at].src_reg = BPF_PSEUDO_CALL;
	} else {
		c->out[at].src_reg = BPF_PSEUDO_FUNC;
		c->out[at + 1].imm = 0;
	}
	return 0;
}

static int reloc_extern_call(struct reloc_ctx *c, size_t at, const struct bee_elf_reloc *r)
{
	struct bee_object *obj = c->obj;
	const char *pname = c->prog->eprog->name;
	const char *sname = sym_label(r->sym, obj->elf);
	struct oextern *ext = obj_extern_of(obj, r->sym);
	struct bpf_insn *in = &c->out[at];
	if (!ext || ext->kconfig)
		return obj_err(obj, -ENOENT,
			       "prog '%s': call at insn %zu to '%s': subprogram not found in the object "
			       "(undefined, and not a __ksym kfunc)",
			       pname, at, sname);
	if (ext->resolved && obj->target.is_kernel) {
		in->src_reg = BPF_PSEUDO_KFUNC_CALL;
		in->imm = (int32_t)ext->ksym_btf_id;
		in->off = 0;
		return 0;
	}
	if (ext->weak) { /* libbpf: poison; the verifier drops it when unreachable */
		in->src_reg = 0;
		in->dst_reg = 0;
		in->off = 0;
		in->imm = POISON_CALL_KFUNC_BASE + (int32_t)(ext - obj->externs);
		return 0;
	}
	return obj_err(obj, -ENOENT, "prog '%s': call at insn %zu: ksym %s: kernel symbols are not "
				     "available%s", pname, at, sname,
		       obj->target.is_kernel ? " (kfunc not found in the kernel's BTF)"
					     : " in the user-space target");
}

static int process(struct reloc_ctx *c, const struct bee_elf_prog *fn, size_t base)
{
	struct bee_object *obj = c->obj;
	const struct bee_elf_reloc **by_insn = calloc(fn->nr_insns ? fn->nr_insns : 1, sizeof(*by_insn));
	if (!by_insn)
		return -ENOMEM;
	const char *pname = c->prog->eprog->name;
	int err = 0;
	for (size_t i = 0; i < fn->sec->nr_relocs; i++) {
		const struct bee_elf_reloc *r = &fn->sec->relocs[i];
		if (r->offset < fn->offset || r->offset >= fn->offset + fn->size)
			continue;
		if (r->offset % 8) {
			err = obj_err(obj, -EINVAL, "prog '%s': relocation at byte %llu of section '%s' "
						    "is not on an instruction", pname,
				      (unsigned long long)r->offset, fn->sec->name);
			goto out;
		}
		by_insn[(r->offset - fn->offset) / 8] = r;
	}
	err = apply_core(c, fn, base);
	if (!err)
		err = add_ext_info(c, fn, base);
	for (size_t j = 0; !err && j < fn->nr_insns; j++) {
		const struct bee_elf_reloc *r = by_insn[j];
		struct bpf_insn in = c->out[base + j];
		size_t at = base + j;
		if (in.code == (BPF_LD | BPF_IMM | BPF_DW)) {
			if (j + 1 >= fn->nr_insns) {
				err = obj_err(obj, -EINVAL, "prog '%s': insn %zu: ld_imm64 is cut off by "
							    "the end of function '%s'", pname, at,
					      fn->name);
				break;
			}
			if (r) {
				err = reloc_ld_imm64(c, fn, base, j, r);
				if (err == 1)
					err = reloc_to_func(c, fn, base, j, r, false);
			} else if (in.src_reg == BPF_PSEUDO_FUNC) {
				err = reloc_to_func(c, fn, base, j, NULL, false);
			}
			j++;
			continue;
		}
		if (in.code == (BPF_JMP | BPF_CALL)) {
			if (r && r->sym->shndx == 0) {
				err = reloc_extern_call(c, at, r);
			} else if (r) {
				const struct bee_elf_section *ts = bee_elf_section(obj->elf, r->sym->shndx);
				if (r->type != R_BPF_64_32 || !ts ||
				    (ts->kind != BEE_ELF_SEC_TEXT && ts->kind != BEE_ELF_SEC_PROG)) {
					err = obj_err(obj, -EINVAL,
						      "prog '%s': call at insn %zu: bad relocation "
						      "against '%s' in section '%s' (type %s)",
						      pname, at, sym_label(r->sym, obj->elf),
						      ts ? ts->name : "?", bee_elf_reloc_type_name(r->type));
				} else {
					err = reloc_to_func(c, fn, base, j, r, true);
				}
			} else if (in.src_reg == BPF_PSEUDO_CALL) {
				err = reloc_to_func(c, fn, base, j, NULL, true);
			}
			continue;
		}
		if (r)
			err = obj_err(obj, -EINVAL,
				      "prog '%s': relocation at insn %zu (symbol '%s'): instruction "
				      "(code 0x%02x) is neither ld_imm64 nor a call",
				      pname, at, sym_label(r->sym, obj->elf), in.code);
	}
out:
	free(by_insn);
	return err;
}

int obj_relocate_program(struct bee_object *obj, struct bee_program *prog)
{
	struct reloc_ctx c = {.obj = obj, .prog = prog};
	free(prog->func_info);
	free(prog->line_info);
	prog->func_info = NULL;
	prog->line_info = NULL;
	prog->nr_func_info = prog->nr_line_info = 0;
	size_t base;
	int err = place(&c, prog->eprog, &base);
	/* the work list grows while it is walked */
	for (size_t i = 0; !err && i < c.nr_placed; i++)
		err = process(&c, c.placed[i].fn, c.placed[i].base);
	free(c.placed);
	if (err) {
		if (err == -ENOMEM && !obj->err[0])
			obj_err(obj, err, "prog '%s': out of memory while relocating", prog->eprog->name);
		free(c.out);
		return err;
	}
	free(prog->insns);
	prog->insns = c.out;
	prog->nr_insns = c.nr;
	return 0;
}
