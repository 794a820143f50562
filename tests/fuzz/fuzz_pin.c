/*
 * fuzz_pin.c - libFuzzer target for the pin file reader (core/pin.c).
 *
 * Pins are files under a directory in /tmp that other processes can
 * write, so BPF_OBJ_GET reads untrusted input.  The input is written as
 * a pin file into a per-process temporary pin directory and got with
 * BPF_OBJ_GET on a fresh instance.  Whatever it holds, the get must give
 * a handle or a negative errno without crashing, hanging, leaking or
 * tripping ASan/UBSan, and the object it gives must then behave: a map is
 * walked with get_next_key (each key looked up, updated and deleted
 * back), batch-read and described; a program is test-run on a packet and
 * on a context (checked, with an instruction budget) and its
 * instructions dumped.  Then the object is pinned again, and what bee
 * wrote itself must read back in a second instance: same kind, and for a
 * map the same attributes.
 *
 * BEE_FUZZ_SEEDS=DIR: write real pin files (maps of several types with
 * elements, a program) to DIR and exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/btf.h>

#include "bee/bee.h"
#include "core/core.h"

#include "fuzz_common.h"

static char pin_dir[64];

static struct bee *new_instance(void)
{
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = 2,
			     .engine = BEE_ENGINE_INTERP, .max_insns = 1u << 16};
	struct bee *bee = bee_new(&o);
	if (!bee)
		abort();
	return bee;
}

static void check_ret(const char *what, long ret)
{
	if (ret < -4095 || ret > 65536) {
		fprintf(stderr, "fuzz_pin: %s answered %ld\n", what, ret);
		abort();
	}
}

static long get(struct bee *bee, const char *name)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = fuzz_ptr(name);
	long fd = bee_bpf(bee, BPF_OBJ_GET, &a, sizeof(a));
	check_ret("BPF_OBJ_GET", fd);
	return fd;
}

static uint32_t host_value_size(const struct bee_map *m)
{
	if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_HASH ||
	    m->type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		return ((m->value_size + 7) & ~7u) * m->ncpus;
	return m->value_size;
}

static void exercise_map(struct bee *bee, int fd, const struct bee_map *m)
{
	uint32_t ks = m->key_size, vs = host_value_size(m);
	unsigned char *key = calloc(1, ks + 1), *next = calloc(1, ks + 1);
	unsigned char *value = calloc(1, vs + 1);
	if (!key || !next || !value)
		abort();
	union bpf_attr a;
	/* a lookup of the all-zero key, and of nothing for keyless maps */
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ks ? fuzz_ptr(key) : 0;
	a.value = fuzz_ptr(value);
	check_ret("lookup", bee_bpf(bee, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)));
	/* the walk: every key, looked up, written back, at most 256 of them */
	bool first = true;
	for (int i = 0; i < 256; i++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = first ? 0 : fuzz_ptr(key);
		a.next_key = fuzz_ptr(next);
		long ret = bee_bpf(bee, BPF_MAP_GET_NEXT_KEY, &a, sizeof(a));
		check_ret("get_next_key", ret);
		if (ret)
			break;
		first = false;
		memcpy(key, next, ks);
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = fuzz_ptr(key);
		a.value = fuzz_ptr(value);
		ret = bee_bpf(bee, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
		check_ret("lookup", ret);
		if (ret == 0 && !m->ops->fd_valued) {
			a.flags = BPF_EXIST;
			check_ret("update", bee_bpf(bee, BPF_MAP_UPDATE_ELEM, &a, sizeof(a)));
		}
	}
	/* a batch read */
	enum { BATCH = 8 };
	unsigned char *keys = malloc((size_t)BATCH * ks + 1), *values = malloc((size_t)BATCH * vs + 1);
	unsigned char *out = malloc(ks + 1);
	if (!keys || !values || !out)
		abort();
	memset(&a, 0, sizeof(a));
	a.batch.map_fd = (uint32_t)fd;
	a.batch.keys = fuzz_ptr(keys);
	a.batch.values = fuzz_ptr(values);
	a.batch.out_batch = fuzz_ptr(out);
	a.batch.count = BATCH;
	check_ret("lookup_batch", bee_bpf(bee, BPF_MAP_LOOKUP_BATCH, &a, sizeof(a)));
	/* pop or delete the first element */
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ks ? fuzz_ptr(next) : 0;
	a.value = fuzz_ptr(value);
	check_ret("lookup_and_delete",
		  bee_bpf(bee, BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a, sizeof(a)));
	free(keys);
	free(values);
	free(out);
	free(key);
	free(next);
	free(value);
	struct bpf_map_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = fuzz_ptr(&info);
	check_ret("info", bee_bpf(bee, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)));
}

static void exercise_prog(struct bee *bee, int fd, const struct bee_prog *p)
{
	unsigned char pkt[64], out[64], ctx[96];
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (unsigned char)i;
	memset(ctx, 0, sizeof(ctx));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = fuzz_ptr(pkt);
	a.test.data_size_in = sizeof(pkt);
	a.test.data_out = fuzz_ptr(out);
	a.test.data_size_out = sizeof(out);
	a.test.repeat = 2;
	check_ret("test_run packet", bee_bpf(bee, BPF_PROG_TEST_RUN, &a, sizeof(a)));
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.ctx_in = fuzz_ptr(ctx);
	a.test.ctx_size_in = sizeof(ctx);
	check_ret("test_run ctx", bee_bpf(bee, BPF_PROG_TEST_RUN, &a, sizeof(a)));
	struct bpf_insn *dump = malloc(p->len * sizeof(*dump) + 1);
	uint32_t ids[4];
	if (!dump)
		abort();
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = (uint32_t)(p->len * sizeof(*dump));
	info.xlated_prog_insns = fuzz_ptr(dump);
	info.nr_map_ids = 4;
	info.map_ids = fuzz_ptr(ids);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = fuzz_ptr(&info);
	check_ret("info", bee_bpf(bee, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)));
	free(dump);
}

/* Pin again (bee writes the file itself), and read that in a second
 * instance: what bee writes, bee must read. */
static void round_trip(struct bee *bee, int fd, enum bee_obj_kind kind,
		       const struct bee_map *m)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.bpf_fd = (uint32_t)fd;
	a.pathname = fuzz_ptr("again");
	long ret = bee_bpf(bee, BPF_OBJ_PIN, &a, sizeof(a));
	check_ret("pin", ret);
	if (ret)
		return;
	struct bee *second = new_instance();
	long fd2 = get(second, "again");
	struct bee_obj *o = fd2 >= 0 ? bee_handle_get(second, (int)fd2, 0) : NULL;
	if (!o && kind == BEE_OBJ_MAP) {
		fprintf(stderr, "fuzz_pin: a map pin bee wrote does not read back: %ld\n", fd2);
		abort();
	}
	if (o) {
		if (o->kind != kind) {
			fprintf(stderr, "fuzz_pin: the pin read back is of another kind\n");
			abort();
		}
		if (kind == BEE_OBJ_MAP) {
			const struct bee_map *m2 = (const struct bee_map *)o;
			if (m2->type != m->type || m2->key_size != m->key_size ||
			    m2->value_size != m->value_size || m2->max_entries != m->max_entries ||
			    m2->map_flags != m->map_flags || m2->map_extra != m->map_extra ||
			    strcmp(m2->name, m->name)) {
				fprintf(stderr, "fuzz_pin: the map read back has other attributes\n");
				abort();
			}
		}
		bee_obj_put(o);
	}
	bee_free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_rm_tree(pin_dir, false);
	char path[128];
	snprintf(path, sizeof(path), "%s/p", pin_dir);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	struct bee *bee = new_instance();
	long fd = get(bee, "p");
	if (fd >= 0) {
		struct bee_obj *o = bee_handle_get(bee, (int)fd, 0);
		if (!o)
			abort();
		if (o->kind == BEE_OBJ_MAP)
			exercise_map(bee, (int)fd, (struct bee_map *)o);
		else if (o->kind == BEE_OBJ_PROG)
			exercise_prog(bee, (int)fd, (struct bee_prog *)o);
		round_trip(bee, (int)fd, o->kind, o->kind == BEE_OBJ_MAP ? (struct bee_map *)o : NULL);
		bee_obj_put(o);
		/* a second get shares the object */
		long again = get(bee, "p");
		if (again < 0) {
			fprintf(stderr, "fuzz_pin: a second get failed: %ld\n", again);
			abort();
		}
	}
	bee_free(bee);
	return 0;
}

/* ---- seeds: real pin files ---- */

static int seed_from(struct bee *bee, int fd, const char *name, const char *dir)
{
	if (fd < 0 || bee_obj_pin(bee, fd, name)) {
		fprintf(stderr, "fuzz_pin: seed %s: %d\n", name, fd);
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return fuzz_write_file(dir, name, buf, n);
}

/* A BTF with [1] int (4 bytes, signed) and [2] u64, loaded into bee; the
 * handle, or a negative errno. */
static int load_small_btf(struct bee *bee)
{
	static const char strs[] = "\0int\0u64";
	struct {
		struct btf_header h;
		uint32_t types[8];
		char strs[sizeof(strs)];
	} __attribute__((packed)) b;
	memset(&b, 0, sizeof(b));
	b.h.magic = BTF_MAGIC;
	b.h.version = BTF_VERSION;
	b.h.hdr_len = sizeof(b.h);
	b.h.type_len = sizeof(b.types);
	b.h.str_off = sizeof(b.types);
	b.h.str_len = sizeof(strs);
	/* name_off, info (kind << 24), size, int data (encoding << 24 | bits) */
	uint32_t t[8] = {1, BTF_KIND_INT << 24, 4, (uint32_t)BTF_INT_SIGNED << 24 | 32,
			 5, BTF_KIND_INT << 24, 8, 64};
	memcpy(b.types, t, sizeof(t));
	memcpy(b.strs, strs, sizeof(strs));
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.btf = (uint64_t)(uintptr_t)&b;
	a.btf_size = sizeof(b);
	return (int)bee_bpf(bee, BPF_BTF_LOAD, &a, sizeof(a));
}

static int write_seeds(const char *dir)
{
	fuzz_rm_tree(pin_dir, false);
	struct bee *bee = new_instance();
	int err = 0;
	int hash = bee_map_create(bee, BPF_MAP_TYPE_HASH, "counts", 4, 8, 16, NULL);
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t v = k * 100;
		bee_map_update(bee, hash, &k, &v, BPF_ANY);
	}
	err |= seed_from(bee, hash, "hash", dir);
	int arr = bee_map_create(bee, BPF_MAP_TYPE_PERCPU_ARRAY, "pc", 4, 12, 4, NULL);
	err |= seed_from(bee, arr, "percpu_array", dir);
	struct bee_map_create_opts lo = {.sz = sizeof(lo), .map_flags = BPF_F_NO_PREALLOC};
	int lpm = bee_map_create(bee, BPF_MAP_TYPE_LPM_TRIE, "lpm", 8, 4, 16, &lo);
	uint32_t lk[2] = {24, 0x0001a8c0}, lv = 7;
	bee_map_update(bee, lpm, lk, &lv, BPF_ANY);
	err |= seed_from(bee, lpm, "lpm", dir);
	int q = bee_map_create(bee, BPF_MAP_TYPE_QUEUE, "q", 0, 8, 4, NULL);
	err |= seed_from(bee, q, "queue", dir);
	int pa = bee_map_create(bee, BPF_MAP_TYPE_PROG_ARRAY, "pa", 4, 4, 4, NULL);
	err |= seed_from(bee, pa, "prog_array", dir);
	/* a map with BTF (the pin keeps the BTF bytes and type ids) */
	int btf = load_small_btf(bee);
	struct bee_map_create_opts bo = {.sz = sizeof(bo), .btf_fd = (uint32_t)btf,
					 .btf_key_type_id = 1, .btf_value_type_id = 2};
	int bm = btf < 0 ? btf : bee_map_create(bee, BPF_MAP_TYPE_HASH, "btfm", 4, 8, 8, &bo);
	uint32_t bk = 7;
	uint64_t bv = 42;
	bee_map_update(bee, bm, &bk, &bv, BPF_ANY);
	err |= bm < 0 || seed_from(bee, bm, "btf_map", dir);
	/* a hash of maps with one inner array */
	int inner = bee_map_create(bee, BPF_MAP_TYPE_ARRAY, "inner", 4, 8, 2, NULL);
	struct bee_map_create_opts mo = {.sz = sizeof(mo), .inner_map_fd = (uint32_t)inner};
	int mim = bee_map_create(bee, BPF_MAP_TYPE_HASH_OF_MAPS, "mim", 4, 4, 4, &mo);
	uint32_t mk = 1, mv = (uint32_t)inner;
	bee_map_update(bee, mim, &mk, &mv, BPF_ANY);
	err |= mim < 0 || seed_from(bee, mim, "map_of_maps", dir);
	static const struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int p = bee_prog_load(bee, BPF_PROG_TYPE_XDP, "pass", "GPL", prog, 2, NULL);
	err |= seed_from(bee, p, "prog", dir);
	bee_free(bee);
	fuzz_rm_tree(pin_dir, true);
	return err ? 1 : 0;
}

static void remove_pin_dir(void)
{
	fuzz_rm_tree(pin_dir, true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-fuzz-pin-%d", (int)getpid());
	if (mkdir(pin_dir, 0700) && errno != EEXIST)
		abort();
	const char *seed_dir = getenv("BEE_FUZZ_SEEDS");
	if (seed_dir && *seed_dir)
		exit(write_seeds(seed_dir));
	atexit(remove_pin_dir);
	return 0;
}
