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
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "isa/bpf_ext.h"
#include "util/epoch.h"
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
	bee_code_free(prog->code);
	free(prog->maps);
	free(prog->xlated);
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
			fd = fd_array[in->imm];
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
		    !log.buf || (log.level & ~15u))
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
	prog->btf_id = attr->prog_btf_fd ? 0 : 0; /* BTF by handle: issue 5's loader */
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

	err = resolve_maps(bee, prog, run, attr, &log);
	if (!err)
		err = check_helper_licenses(prog, &log);
	if (!err) {
		struct bee_error e;
		pthread_mutex_lock(&bee->lock); /* the helper table may be growing */
		struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = bee->helpers};
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
	out.verified_insns = 0; /* no verifier yet */
	out.btf_id = prog->btf_id;

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
	if (bee->engine == BEE_ENGINE_JIT &&
	    bee_code_jited(prog->code, !bee_code_trusted(prog->code), &image, &image_len, NULL) < 0)
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
	out.btf_id = map->btf_id;
	out.btf_key_type_id = map->btf_key_type_id;
	out.btf_value_type_id = map->btf_value_type_id;
	out.map_extra = map->map_extra;
	return bee_info_copy_out(attr, &out, sizeof(out));
}
