/*
 * prog.c - BPF_PROG_LOAD and the information a loaded program gives back.
 *
 * Loading follows the kernel's order: attributes (type, flags, license,
 * name, log), then the instructions: every lddw pseudo form that names a
 * map (BPF_PSEUDO_MAP_FD/_VALUE by handle, _IDX/_IDX_VALUE through
 * fd_array) becomes a plain lddw of the map's address (or the value's),
 * and the program keeps a reference to each map it uses.  Then the engines
 * prepare the code (syntax checks, helper resolution).  Until the verifier
 * lands, every program is untrusted and runs checked.
 *
 * What the kernel would say in its verifier log on failure goes to the
 * log buffer when the caller gave one, with the instruction index.
 *
 * Two copies of the instructions stay: the code the engines run, and
 * "xlated" (what BPF_OBJ_GET_INFO_BY_FD dumps), where map references are
 * map ids, as the kernel's dump has them (bpftool prints map[id:N]).
 *
 * BTF and func/line info (prog_btf_fd, func_info, line_info) are checked
 * with the verifier's rules (check_btf_func, check_btf_line): record
 * sizes, insn_off strictly increasing from 0 and inside the program, one
 * func_info per subprogram at its first instruction, a line_info at the
 * start of every subprogram, names and types that exist in the BTF (parsed
 * with src/btf/, the layer below the core).  The
 * program keeps the records and a reference to the BTF object; info
 * gives them back (btf_id, func_info, line_info).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "platform/platform.h"
#include "isa/bpf_ext.h"
#include "btf/btf.h"
#include "util/epoch.h"
#include "verify/verify.h"
#include "util/sha256.h"

#define BPF_MAX_INSNS_LOAD 1000000 /* the kernel's BPF_COMPLEXITY_LIMIT_INSNS */
#define LOG_MIN_SIZE 128

struct load_log {
	char *buf;
	uint32_t size;
	uint32_t level;
};

static void log_write(struct load_log *log, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_write(struct load_log *log, const char *fmt, ...)
{
	if (!log->level || !log->buf)
		return;
	size_t used = strnlen(log->buf, log->size);
	if (used + 1 >= log->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(log->buf + used, log->size - used, fmt, ap);
	va_end(ap);
}

/* The kernel's license_is_gpl_compatible. */
static bool license_gpl_compatible(const char *l)
{
	static const char *const gpl[] = {"GPL", "GPL v2", "GPL and additional rights",
					  "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"};
	for (size_t i = 0; i < sizeof(gpl) / sizeof(gpl[0]); i++)
		if (!strcmp(l, gpl[i]))
			return true;
	return false;
}

static bool prog_type_known(uint32_t type)
{
	return type > BPF_PROG_TYPE_UNSPEC && type <= BPF_PROG_TYPE_SYSCALL;
}

void bee_prog_tag(const struct bpf_insn *insns, size_t n, uint8_t tag[8])
{
	/* The kernel's bpf_prog_calc_tag: map references are zeroed so that
	 * the tag does not depend on handle numbers; SHA-256 since Linux 6.16
	 * (SHA-1 before), the first 8 bytes. */
	struct bpf_insn *copy = malloc((n ? n : 1) * sizeof(*copy));
	uint8_t digest[32];
	if (!copy) {
		memset(tag, 0, 8);
		return;
	}
	memcpy(copy, insns, n * sizeof(*copy));
	bool was_ld_map = false;
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn *in = &copy[i];
		if (!was_ld_map && in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE)) {
			was_ld_map = true;
			in->imm = 0;
		} else if (was_ld_map && in->code == 0 && in->dst_reg == 0 && in->src_reg == 0 &&
			   in->off == 0) {
			was_ld_map = false;
			in->imm = 0;
		} else {
			was_ld_map = false;
		}
	}
	bee_sha256(copy, n * sizeof(*copy), digest);
	memcpy(tag, digest, 8);
	free(copy);
}

static void prog_free_deferred(void *arg)
{
	struct bee_prog *prog = arg;
	for (size_t i = 0; i < prog->n_maps; i++)
		bee_obj_put(&prog->maps[i]->obj);
	if (prog->btf)
		bee_obj_put(&prog->btf->obj);
	bee_code_free(prog->code);
	free(prog->maps);
	free(prog->xlated);
	free(prog->func_info);
	free(prog->line_info);
	free(prog);
}

static void prog_destroy(struct bee_obj *obj)
{
	struct bee_prog *prog = (struct bee_prog *)obj;
	bee_obj_unregister(prog->bee, obj);
	bee_epoch_defer(prog_free_deferred, prog);
}

/* Remember that prog uses map (one reference per distinct map). */
static int prog_use_map(struct bee_prog *prog, struct bee_map *map)
{
	for (size_t i = 0; i < prog->n_maps; i++) {
		if (prog->maps[i] == map) {
			bee_obj_put(&map->obj);
			return 0;
		}
	}
	struct bee_map **v = realloc(prog->maps, (prog->n_maps + 1) * sizeof(*v));
	if (!v) {
		bee_obj_put(&map->obj);
		return -ENOMEM;
	}
	prog->maps = v;
	prog->maps[prog->n_maps++] = map;
	return 0;
}

/*
 * Resolve the lddw pseudo forms naming maps: run gets the address, xlated
 * the map id.  The kernel's resolve_pseudo_ldimm64, with its messages.
 */
static int resolve_maps(struct bee *bee, struct bee_prog *prog, struct bpf_insn *run,
			const union bpf_attr *attr, struct load_log *log)
{
	const int *fd_array = u64_to_ptr(attr->fd_array);
	for (size_t i = 0; i < prog->len; i++) {
		struct bpf_insn *in = &run[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (i + 1 == prog->len) {
			log_write(log, "invalid bpf_ld_imm64 insn\n");
			return -EINVAL;
		}
		struct bpf_insn *next = &run[i + 1];
		uint8_t src = in->src_reg;
		if (src == 0 || src == BPF_PSEUDO_FUNC) {
			i++;
			continue;
		}
		if (src == BPF_PSEUDO_BTF_ID || src > BPF_PSEUDO_MAP_IDX_VALUE) {
			log_write(log, "%zu: kernel symbols (ld_imm64 src %u) are not available in "
				       "user space\n", i, src);
			return -EINVAL;
		}
		bool by_idx = src == BPF_PSEUDO_MAP_IDX || src == BPF_PSEUDO_MAP_IDX_VALUE;
		bool value = src == BPF_PSEUDO_MAP_VALUE || src == BPF_PSEUDO_MAP_IDX_VALUE;
		if (!value && next->imm) {
			log_write(log, "%zu: unrecognized bpf_ld_imm64 insn\n", i);
			return -EINVAL;
		}
		int fd = in->imm;
		if (by_idx) {
			if (!fd_array) {
				log_write(log, "%zu: fd_idx without fd_array is invalid\n", i);
				return -EPROTO;
			}
			/* The kernel copies fd_array from user memory (EFAULT on a
			 * bad address); it has no length: an index far past the
			 * caller's array must not crash the host. */
			if (bee_probe_copy(&fd, (uintptr_t)(fd_array + (uint32_t)in->imm),
					   sizeof(fd)) < 0) {
				log_write(log, "%zu: fd_array[%u] is not readable\n", i,
					  (uint32_t)in->imm);
				return -EFAULT;
			}
		}
		struct bee_map *map = bee_map_get_fd(bee, fd);
		if (!map) {
			log_write(log, "%zu: fd %d is not pointing to valid bpf_map\n", i, fd);
			return -EBADF;
		}
		uint64_t addr = (uint64_t)(uintptr_t)map;
		if (value) {
			uint32_t off = (uint32_t)next->imm;
			int err = map->ops->direct_value_addr
					  ? map->ops->direct_value_addr(map, &addr, off)
					  : -EINVAL;
			if (err) {
				log_write(log, "%zu: invalid access to map value pointer, value_size=%u "
					       "off=%u\n", i, map->value_size, off);
				bee_obj_put(&map->obj);
				return -EINVAL;
			}
		}
		/* xlated: the kernel's dump form, map id in imm */
		prog->xlated[i].src_reg = value ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_FD;
		prog->xlated[i].imm = (int32_t)map->obj.id;
		int err = prog_use_map(prog, map);
		if (err)
			return err;
		in->src_reg = 0;
		in->imm = (int32_t)(uint32_t)addr;
		next->imm = (int32_t)(uint32_t)(addr >> 32);
		i++;
	}
	return 0;
}

/* Refuse calls to gpl_only helpers from non-GPL programs, as the
 * verifier does, and the legacy packet loads outside the program types
 * that have a packet under them (the kernel: socket filters and tc). */
static bool type_has_ld_abs(enum bpf_prog_type type)
{
	return type == BPF_PROG_TYPE_SOCKET_FILTER || type == BPF_PROG_TYPE_SCHED_CLS ||
	       type == BPF_PROG_TYPE_SCHED_ACT;
}

static int check_helper_licenses(struct bee_prog *prog, struct load_log *log)
{
	for (size_t i = 0; i < prog->len; i++) {
		const struct bpf_insn *in = &prog->xlated[i];
		if (BPF_CLASS(in->code) == BPF_LD &&
		    (BPF_MODE(in->code) == BPF_ABS || BPF_MODE(in->code) == BPF_IND) &&
		    !type_has_ld_abs(prog->type)) {
			log_write(log, "%zu: BPF_LD_[ABS|IND] instructions not allowed for this "
				       "program type\n", i);
			return -EINVAL;
		}
		const struct bee_helper *h;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == 0 && !prog->gpl_compatible &&
		    (h = bee_helper_table_find(prog->bee->helpers, in->imm)) && h->gpl_only) {
			log_write(log, "%zu: cannot call GPL-restricted function from non-GPL "
				       "compatible program\n", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- BTF, func_info and line_info (the verifier's check_btf_info) ---- */

#define FUNCINFO_REC_MAX 252 /* the kernel's MAX_FUNCINFO_REC_SIZE */
#define LINEINFO_REC_MAX 252 /* the kernel's MAX_LINEINFO_REC_SIZE */

/*
 * The subprogram starts, sorted: instruction 0 and every target of a
 * bpf-to-bpf call (BPF_PSEUDO_CALL) or of a callback's address
 * (lddw BPF_PSEUDO_FUNC), as the verifier's add_subprog finds them.
 */
static int subprog_starts(const struct bpf_insn *insns, size_t len, struct load_log *log,
			  uint32_t **out, uint32_t *n_out)
{
	uint32_t *v = malloc(sizeof(*v));
	uint32_t n = 1;
	if (!v)
		return -ENOMEM;
	v[0] = 0;
	for (size_t i = 0; i < len; i++) {
		const struct bpf_insn *in = &insns[i];
		bool call = in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL;
		bool func = in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC;
		if (!call && !func)
			continue;
		int64_t t = (int64_t)i + in->imm + 1;
		if (t < 0 || t >= (int64_t)len) {
			log_write(log, "%s to invalid destination\n",
				  call ? "call" : "function pointer");
			free(v);
			return -EINVAL;
		}
		uint32_t k = 0;
		while (k < n && v[k] < (uint32_t)t)
			k++;
		if (k < n && v[k] == (uint32_t)t)
			continue;
		uint32_t *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		memmove(&v[k + 1], &v[k], (n - k) * sizeof(*v));
		v[k] = (uint32_t)t;
		n++;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* A user record of rec_size bytes whose first ksize bytes bee keeps: the
 * rest must be zero (bpf_check_uarg_tail_zero). */
static bool rec_tail_zero(const uint8_t *rec, uint32_t rec_size, size_t ksize)
{
	for (size_t i = ksize; i < rec_size; i++)
		if (rec[i])
			return false;
	return true;
}

static int check_func_info(struct bee_prog *prog, const union bpf_attr *attr,
			   const struct bee_btf_data *btf, const uint32_t *subs, uint32_t n_subs,
			   struct load_log *log)
{
	uint32_t n = attr->func_info_cnt;
	uint32_t rec_size = attr->func_info_rec_size;
	if (!n)
		return 0;
	if (rec_size < sizeof(struct bpf_func_info) || rec_size > FUNCINFO_REC_MAX || rec_size % 4) {
		log_write(log, "invalid func info rec size %u\n", rec_size);
		return -EINVAL;
	}
	const uint8_t *urec = u64_to_ptr(attr->func_info);
	if (!urec)
		return -EFAULT;
	prog->func_info = calloc(n, sizeof(*prog->func_info));
	if (!prog->func_info)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++, urec += rec_size) {
		if (!rec_tail_zero(urec, rec_size, sizeof(struct bpf_func_info))) {
			log_write(log, "nonzero tailing record in func info\n");
			return -E2BIG;
		}
		struct bpf_func_info *k = &prog->func_info[i];
		memcpy(k, urec, sizeof(*k));
		if (i == 0 && k->insn_off) {
			log_write(log, "nonzero insn_off %u for the first func info record\n",
				  k->insn_off);
			return -EINVAL;
		}
		if (i && k->insn_off <= prog->func_info[i - 1].insn_off) {
			log_write(log, "same or smaller insn offset (%u) than previous func info "
				       "record (%u)\n", k->insn_off, prog->func_info[i - 1].insn_off);
			return -EINVAL;
		}
		const struct btf_type *t = bee_btf_type_by_id(btf, k->type_id);
		if (!k->type_id || !t || bee_btf_kind(t) != BTF_KIND_FUNC) {
			log_write(log, "invalid type id %u in func info\n", k->type_id);
			return -EINVAL;
		}
	}
	if (n != n_subs) {
		log_write(log, "number of funcs in func_info doesn't match number of subprogs\n");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (prog->func_info[i].insn_off != subs[i]) {
			log_write(log, "func_info BTF section doesn't match subprog layout in BPF "
				       "program\n");
			return -EINVAL;
		}
	}
	prog->nr_func_info = n;
	return 0;
}

static int check_line_info(struct bee_prog *prog, const union bpf_attr *attr,
			   const struct bee_btf_data *btf, const uint32_t *subs, uint32_t n_subs,
			   struct load_log *log)
{
	uint32_t n = attr->line_info_cnt;
	uint32_t rec_size = attr->line_info_rec_size;
	if (!n)
		return 0;
	if (n > INT32_MAX / sizeof(struct bpf_line_info))
		return -EINVAL;
	if (rec_size < sizeof(struct bpf_line_info) || rec_size > LINEINFO_REC_MAX || rec_size % 4)
		return -EINVAL;
	const uint8_t *urec = u64_to_ptr(attr->line_info);
	if (!urec)
		return -EFAULT;
	prog->line_info = calloc(n, sizeof(*prog->line_info));
	if (!prog->line_info)
		return -ENOMEM;
	uint32_t s = 0;
	for (uint32_t i = 0; i < n; i++, urec += rec_size) {
		if (!rec_tail_zero(urec, rec_size, sizeof(struct bpf_line_info))) {
			log_write(log, "nonzero tailing record in line_info\n");
			return -E2BIG;
		}
		struct bpf_line_info *k = &prog->line_info[i];
		memcpy(k, urec, sizeof(*k));
		uint32_t prev = i ? prog->line_info[i - 1].insn_off : 0;
		if ((i && k->insn_off <= prev) || k->insn_off >= prog->len) {
			log_write(log, "Invalid line_info[%u].insn_off:%u (prev_offset:%u "
				       "prog->len:%zu)\n", i, k->insn_off, prev, prog->len);
			return -EINVAL;
		}
		if (!prog->xlated[k->insn_off].code) {
			log_write(log, "Invalid insn code at line_info[%u].insn_off\n", i);
			return -EINVAL;
		}
		if (!bee_btf_str(btf, k->line_off) || !bee_btf_str(btf, k->file_name_off)) {
			log_write(log, "Invalid line_info[%u].line_off or .file_name_off\n", i);
			return -EINVAL;
		}
		if (s < n_subs) {
			if (k->insn_off == subs[s]) {
				s++;
			} else if (subs[s] < k->insn_off) {
				log_write(log, "missing bpf_line_info for func#%u\n", s);
				return -EINVAL;
			}
		}
	}
	if (s != n_subs) {
		log_write(log, "missing bpf_line_info for %u funcs starting from func#%u\n",
			  n_subs - s, s);
		return -EINVAL;
	}
	prog->nr_line_info = n;
	return 0;
}

/* prog_btf_fd with func_info / line_info: the verifier's check_btf_info. */
static int check_btf_info(struct bee *bee, struct bee_prog *prog, const union bpf_attr *attr,
			  struct load_log *log)
{
	if (!attr->func_info_cnt && !attr->line_info_cnt)
		return 0;
	/* btf_get_by_fd: not a handle -EBADF, a handle of something else -EINVAL */
	struct bee_obj *o = bee_handle_get(bee, (int)attr->prog_btf_fd, 0);
	if (!o)
		return -EBADF;
	if (o->kind != BEE_OBJ_BTF) {
		bee_obj_put(o);
		return -EINVAL;
	}
	prog->btf = (struct bee_btf *)o;
	prog->btf_id = o->id;
	const struct bee_btf_data *btf = prog->btf->parsed;
	uint32_t *subs = NULL, n_subs = 0;
	int err = subprog_starts(prog->xlated, prog->len, log, &subs, &n_subs);
	if (!err)
		err = check_func_info(prog, attr, btf, subs, n_subs, log);
	if (!err)
		err = check_line_info(prog, attr, btf, subs, n_subs, log);
	free(subs);
	return err;
}

/* The maps a program's lddw forms name, described before verification
 * (the verifier runs with the instance lock held: it must not look up
 * handles itself). */
struct verify_maps {
	bool by_idx[64];
	int imm[64]; /* the handle, or the fd_array index */
	struct bee_verify_map desc[64];
	size_t n;
};

static bool pseudo_by_idx(uint32_t pseudo)
{
	return pseudo == BPF_PSEUDO_MAP_IDX || pseudo == BPF_PSEUDO_MAP_IDX_VALUE;
}

static void verify_maps_collect(struct bee *bee, const struct bpf_insn *insns, size_t n,
				const int *fd_array, struct verify_maps *vm)
{
	vm->n = 0;
	for (size_t i = 0; i + 1 < n && vm->n < 64; i++) {
		const struct bpf_insn *in = &insns[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		bool by_idx = pseudo_by_idx(in->src_reg);
		if (by_idx || in->src_reg == BPF_PSEUDO_MAP_FD ||
		    in->src_reg == BPF_PSEUDO_MAP_VALUE) {
			/* resolve_maps has checked every fd_array index */
			int fd = in->imm;
			if (by_idx && (!fd_array ||
				       bee_probe_copy(&fd, (uintptr_t)(fd_array + (uint32_t)in->imm),
						      sizeof(fd)) < 0))
				fd = -1;
			struct bee_map *map = bee_map_get_fd(bee, fd);
			if (map) {
				uint64_t addr = 0;
				bool rdonly = atomic_load(&map->frozen) &&
					      (map->map_flags & BPF_F_RDONLY_PROG) &&
					      map->ops->direct_value_addr &&
					      map->ops->direct_value_addr(map, &addr, 0) == 0;
				vm->by_idx[vm->n] = by_idx;
				vm->imm[vm->n] = in->imm;
				/* The program holds its maps: rdonly_data outlives the
				 * verification (and a frozen map's value never changes). */
				vm->desc[vm->n++] = (struct bee_verify_map){
					map->type, map->key_size, map->value_size, map->max_entries,
					map->map_flags, rdonly ? (const void *)(uintptr_t)addr : NULL,
					map->inner_type, map->inner_key_size, map->inner_value_size,
					map->inner_max_entries};
				bee_obj_put(&map->obj);
			}
		}
		i++;
	}
}

static int verify_map_lookup(void *user, uint32_t pseudo, int32_t imm, struct bee_verify_map *out)
{
	const struct verify_maps *vm = user;
	for (size_t i = 0; i < vm->n; i++) {
		if (vm->imm[i] == imm && vm->by_idx[i] == pseudo_by_idx(pseudo)) {
			*out = vm->desc[i];
			return 0;
		}
	}
	return -EBADF;
}

/*
 * With bee_opts.trusted_fast_path the instance follows the kernel: a
 * program loads only if bee's verifier proves it safe, and then runs
 * unchecked.  The verifier is young and conservative: what it does not
 * model yet is refused with a message saying so (issue 6).  insns are the
 * caller's, with map references still handles.
 */
static int verify_prog(struct bee *bee, struct bee_prog *prog, const struct bpf_insn *insns,
		       const union bpf_attr *attr, struct load_log *log, bool *verified)
{
	const struct bee_prog_type_desc *type = bee_prog_type_builtin(prog->type);
	if (!type) {
		log_write(log, "bee verifier: program type %u is not described yet\n", prog->type);
		return -EINVAL;
	}
	struct verify_maps *vm = malloc(sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	verify_maps_collect(bee, insns, prog->len, u64_to_ptr(attr->fd_array), vm);
	/* The verifier writes its log after what the load wrote so far. */
	size_t used = log->level && log->buf ? strnlen(log->buf, log->size) : 0;
	pthread_mutex_lock(&bee->lock); /* the helper table may be growing */
	struct bee_verify_opts vo = {
		.sz = sizeof(vo),
		.prog_type = type,
		.expected_attach_type = prog->expected_attach_type,
		.helpers = bee->helpers,
		.map_lookup = verify_map_lookup,
		.user = vm,
		.log_buf = log->level && log->buf ? log->buf + used : NULL,
		.log_size = log->level && log->buf ? log->size - used : 0,
		.log_level = log->level & 15u,
		.strict_alignment = (attr->prog_flags & BPF_F_STRICT_ALIGNMENT) != 0,
		.has_func_info = attr->func_info_cnt > 0,
	};
	/* Source lines for the log, from the line info checked above. */
	const struct bee_btf_data *btf = prog->btf ? prog->btf->parsed : NULL;
	struct bee_verify_line *lines = NULL;
	if (log->level && prog->nr_line_info && btf)
		lines = calloc(prog->nr_line_info, sizeof(*lines));
	if (lines) {
		for (uint32_t i = 0; i < prog->nr_line_info; i++) {
			const struct bpf_line_info *l = &prog->line_info[i];
			lines[i] = (struct bee_verify_line){l->insn_off, bee_btf_str(btf, l->line_off),
							    bee_btf_str(btf, l->file_name_off),
							    BPF_LINE_INFO_LINE_NUM(l->line_col)};
		}
		vo.lines = lines;
		vo.n_lines = prog->nr_line_info;
	}
	vo.explain = (log->level & BEE_LOG_EXPLAIN) != 0;
	struct bee_verify_result res;
	int err = bee_verify(insns, prog->len, &vo, &res);
	pthread_mutex_unlock(&bee->lock);
	free(lines);
	free(vm);
	if (err)
		return err == -ENOTSUP ? -EINVAL : err;
	prog->verified_insns = (uint32_t)res.processed;
	*verified = true;
	return 0;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bee_cmd_prog_load(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(core_relo_rec_size)))
		return -EINVAL;
	struct load_log log = {u64_to_ptr(attr->log_buf), attr->log_size, attr->log_level};
	if (attr->log_level || attr->log_buf || attr->log_size) {
		if (log.size < LOG_MIN_SIZE || log.size > UINT32_MAX >> 2 || !log.level ||
		    !log.buf || (log.level & ~(15u | BEE_LOG_EXPLAIN)))
			return -EINVAL;
		log.buf[0] = 0;
	}
	const uint32_t flags_ok = BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT |
				  BPF_F_TEST_STATE_FREQ | BPF_F_SLEEPABLE | BPF_F_TEST_RND_HI32 |
				  BPF_F_XDP_HAS_FRAGS;
	if (attr->prog_flags & ~flags_ok)
		return -EINVAL;
	if (!prog_type_known(attr->prog_type))
		return -EINVAL;
	if (attr->insn_cnt == 0)
		return -EINVAL;
	if (attr->insn_cnt > BPF_MAX_INSNS_LOAD)
		return -E2BIG;
	const struct bpf_insn *insns = u64_to_ptr(attr->insns);
	const char *license = u64_to_ptr(attr->license);
	if (!insns || !license)
		return -EFAULT;
	if (!memchr(license, 0, 128))
		return -EINVAL;

	struct bee_prog *prog = calloc(1, sizeof(*prog));
	if (!prog)
		return -ENOMEM;
	int err = bee_obj_name_copy(prog->name, attr->prog_name);
	if (err) {
		free(prog);
		return err;
	}
	prog->bee = bee;
	prog->obj.kind = BEE_OBJ_PROG;
	atomic_init(&prog->obj.refcnt, 1);
	prog->type = attr->prog_type;
	prog->expected_attach_type = attr->expected_attach_type;
	prog->gpl_compatible = license_gpl_compatible(license);
	prog->len = attr->insn_cnt;
	prog->load_time = boottime_ns();
	prog->uid = (uint32_t)getuid();
	prog->xlated = malloc(prog->len * sizeof(*insns));
	struct bpf_insn *run = malloc(prog->len * sizeof(*insns));
	if (!prog->xlated || !run) {
		free(run);
		prog_free_deferred(prog);
		return -ENOMEM;
	}
	memcpy(prog->xlated, insns, prog->len * sizeof(*insns));
	memcpy(run, insns, prog->len * sizeof(*insns));
	bee_prog_tag(insns, prog->len, prog->tag);

	err = check_btf_info(bee, prog, attr, &log);
	if (!err)
		err = resolve_maps(bee, prog, run, attr, &log);
	if (!err)
		err = check_helper_licenses(prog, &log);
	bool verified = false;
	if (!err && bee->trusted_fast_path)
		err = verify_prog(bee, prog, insns, attr, &log, &verified);
	if (!err) {
		struct bee_error e;
		pthread_mutex_lock(&bee->lock); /* the helper table may be growing */
		struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = bee->helpers,
					      .trusted = verified};
		prog->code = bee_code_load(run, prog->len, &copts, &e);
		pthread_mutex_unlock(&bee->lock);
		if (!prog->code) {
			char buf[320];
			log_write(&log, "%s\n", bee_error_format(&e, NULL, buf, sizeof(buf)));
			err = e.code ? e.code : -EINVAL;
		}
	}
	free(run);
	if (err) {
		prog_free_deferred(prog);
		return err;
	}
	if ((err = bee_obj_register(bee, &prog->obj, prog_destroy)) < 0) {
		prog_free_deferred(prog);
		return err;
	}
	int fd = bee_handle_new(bee, &prog->obj);
	if (fd < 0)
		bee_obj_put(&prog->obj);
	return fd;
}

/* ---- BPF_OBJ_GET_INFO_BY_FD ---- */

/* Copy an array the kernel's way: *ulen in: room (elements), out: the
 * real count; elements copied only when both are non-zero. */
static void info_array(uint64_t uptr, uint32_t *ulen, const void *src, uint32_t n,
		       size_t elem_size)
{
	uint32_t room = *ulen;
	*ulen = n;
	if (room && n && uptr)
		memcpy(u64_to_ptr(uptr), src, (size_t)(room < n ? room : n) * elem_size);
}

/* Read the caller's info struct (buffers and their sizes live in it). */
static int info_copy_in(const union bpf_attr *attr, void *info, uint32_t size)
{
	const void *user = u64_to_ptr(attr->info.info);
	if (!user)
		return -EFAULT;
	memset(info, 0, size);
	memcpy(info, user, attr->info.info_len < size ? attr->info.info_len : size);
	return 0;
}

int bee_prog_info(struct bee *bee, struct bee_prog *prog, union bpf_attr *attr)
{
	struct bpf_prog_info info;
	int err = info_copy_in(attr, &info, sizeof(info));
	if (err)
		return err;
	struct bpf_prog_info out = {0};
	out.type = prog->type;
	out.id = prog->obj.id;
	memcpy(out.tag, prog->tag, sizeof(out.tag));
	out.load_time = prog->load_time;
	out.created_by_uid = prog->uid;
	memcpy(out.name, prog->name, sizeof(out.name));
	out.gpl_compatible = prog->gpl_compatible;
	out.run_time_ns = atomic_load(&prog->run_time_ns);
	out.run_cnt = atomic_load(&prog->run_cnt);
	out.verified_insns = prog->verified_insns;
	out.btf_id = prog->btf_id;
	/* func_info / line_info: the user's rec sizes must be bee's (or 0 with
	 * no count); the counts always come back, the records when there is
	 * room (the kernel's bpf_prog_get_info_by_fd). */
	if ((info.nr_func_info || info.func_info_rec_size) &&
	    info.func_info_rec_size != sizeof(struct bpf_func_info))
		return -EINVAL;
	if ((info.nr_line_info || info.line_info_rec_size) &&
	    info.line_info_rec_size != sizeof(struct bpf_line_info))
		return -EINVAL;
	if ((info.nr_jited_line_info || info.jited_line_info_rec_size) &&
	    info.jited_line_info_rec_size != sizeof(uint64_t))
		return -EINVAL;
	out.func_info_rec_size = sizeof(struct bpf_func_info);
	out.nr_func_info = info.nr_func_info;
	if (out.nr_func_info && prog->nr_func_info && !info.func_info)
		return -EFAULT;
	info_array(info.func_info, &out.nr_func_info, prog->func_info, prog->nr_func_info,
		   sizeof(struct bpf_func_info));
	out.func_info = info.func_info;
	out.line_info_rec_size = sizeof(struct bpf_line_info);
	out.nr_line_info = info.nr_line_info;
	if (out.nr_line_info && prog->nr_line_info && !info.line_info)
		return -EFAULT;
	info_array(info.line_info, &out.nr_line_info, prog->line_info, prog->nr_line_info,
		   sizeof(struct bpf_line_info));
	out.line_info = info.line_info;

	out.xlated_prog_len = info.xlated_prog_len;
	uint32_t bytes = (uint32_t)(prog->len * sizeof(struct bpf_insn));
	info_array(info.xlated_prog_insns, &out.xlated_prog_len, prog->xlated, bytes, 1);
	out.xlated_prog_insns = info.xlated_prog_insns;

	uint32_t *ids = malloc((prog->n_maps ? prog->n_maps : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < prog->n_maps; i++)
		ids[i] = prog->maps[i]->obj.id;
	out.nr_map_ids = info.nr_map_ids;
	info_array(info.map_ids, &out.nr_map_ids, ids, (uint32_t)prog->n_maps, sizeof(*ids));
	out.map_ids = info.map_ids;
	free(ids);

	/* jited: the checked JIT's code, when programs run on the JIT */
	const uint8_t *image = NULL;
	size_t image_len = 0;
	const uint32_t *insn_off = NULL;
	if (bee->engine == BEE_ENGINE_JIT &&
	    bee_code_jited(prog->code, !bee_code_trusted(prog->code), &image, &image_len,
			   &insn_off) < 0)
		image = NULL;
	if (image) {
		out.jited_prog_len = info.jited_prog_len;
		info_array(info.jited_prog_insns, &out.jited_prog_len, image, (uint32_t)image_len, 1);
		out.jited_prog_insns = info.jited_prog_insns;
		uint64_t ksym = (uint64_t)(uintptr_t)image;
		uint32_t func_len = (uint32_t)image_len;
		out.nr_jited_ksyms = info.nr_jited_ksyms;
		info_array(info.jited_ksyms, &out.nr_jited_ksyms, &ksym, 1, sizeof(ksym));
		out.jited_ksyms = info.jited_ksyms;
		out.nr_jited_func_lens = info.nr_jited_func_lens;
		info_array(info.jited_func_lens, &out.nr_jited_func_lens, &func_len, 1,
			   sizeof(func_len));
		out.jited_func_lens = info.jited_func_lens;
		/* jited_line_info: where each line_info record's instruction
		 * starts in the image (the kernel's jited_linfo) */
		if (prog->nr_line_info && insn_off) {
			uint64_t *addrs = malloc(prog->nr_line_info * sizeof(*addrs));
			if (!addrs)
				return -ENOMEM;
			for (uint32_t i = 0; i < prog->nr_line_info; i++)
				addrs[i] = ksym + insn_off[prog->line_info[i].insn_off];
			out.nr_jited_line_info = info.nr_jited_line_info;
			info_array(info.jited_line_info, &out.nr_jited_line_info, addrs,
				   prog->nr_line_info, sizeof(*addrs));
			out.jited_line_info = info.jited_line_info;
			out.jited_line_info_rec_size = sizeof(*addrs);
			free(addrs);
		}
	}
	return bee_info_copy_out(attr, &out, sizeof(out));
}

int bee_map_info(struct bee *bee, struct bee_map *map, union bpf_attr *attr)
{
	struct bpf_map_info out = {0};
	out.type = map->type;
	out.id = map->obj.id;
	out.key_size = map->key_size;
	out.value_size = map->value_size;
	out.max_entries = map->max_entries;
	out.map_flags = map->map_flags;
	memcpy(out.name, map->name, sizeof(out.name));
	out.btf_id = map->btf ? map->btf->obj.id : 0;
	out.btf_key_type_id = map->btf_key_type_id;
	out.btf_value_type_id = map->btf_value_type_id;
	out.map_extra = map->map_extra;
	return bee_info_copy_out(attr, &out, sizeof(out));
}
