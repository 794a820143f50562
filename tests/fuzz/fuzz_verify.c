/*
 * fuzz_verify.c - libFuzzer target for the verifier's soundness: bytes
 * become a program, its type and its maps; bee_verify judges it; whatever
 * it accepts is loaded into a bee instance the ordinary way (checked runs)
 * and test-run twice on random inputs, and must not fault.
 *
 * Input layout (a 24-byte header, then the program):
 *
 *   byte 0       program type: index into fuzz_types[] (modulo its size)
 *   byte 1       bit 0: BPF_F_STRICT_ALIGNMENT; bit 1: the program comes
 *                with BTF func_info (callbacks need it)
 *   bytes 2-7    seed of the runs' packets, contexts and map contents
 *   bytes 8-23   four maps, 4 bytes each: kind (0: none, else fuzz_map_kinds
 *                [kind % N]), key size, value size, max entries (clamped:
 *                queue/stack/ringbuf keyless, ringbuf 4 KiB, prog and perf
 *                event arrays 4/4); map[idx:N] names the Nth present one
 *   bytes 24-    instructions; a trailing partial instruction is dropped
 *
 * What must hold: an accepted program's checked runs end normally.  A run
 * that stops with an error of the checked engine (out-of-bounds or
 * misaligned access, instruction budget, call depth), a helper handed an
 * argument its prototype forbids (the helpers are wrapped to check, since
 * the plain ones quietly return an error for unverified programs), or a
 * packet changed by a type that may not write packets, abort()s after
 * printing the program, so libFuzzer records the input.  Not faults, as in
 * tests/verifier/soundness.c: a tail call from a subprogram (-EOPNOTSUPP,
 * an engine limit) and the budget in a program that runs callbacks.
 *
 * BEE_FUZZ_SEEDS=DIR writes seeds: every program of the verifier corpus
 * (tests/verifier/NAME.vdata) whose maps fit the layout, then exits.
 */
#include "../verifier/vdata.c" /* the corpus reader, for the seeds (defines _GNU_SOURCE) */
#include "../verifier/sound_wrap.c" /* helpers that check their arguments */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include "bee/progtype.h"
#include "bee/vm.h"
#include "core/core.h"
#include "maps/map.h"
#include "verify/verify.h"

#include "fuzz_common.h"

#define HDR 24
#define MAX_PKT 256

static const struct {
	uint32_t type, attach;
} fuzz_types[] = {
	{BPF_PROG_TYPE_SOCKET_FILTER, 0},
	{BPF_PROG_TYPE_XDP, 0},
	{BPF_PROG_TYPE_SCHED_CLS, 0},
	{BPF_PROG_TYPE_SCHED_ACT, 0},
	{BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS},
	{BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS},
	{BPF_PROG_TYPE_KPROBE, 0},
	{BPF_PROG_TYPE_TRACEPOINT, 0},
	{BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
	{BPF_PROG_TYPE_PERF_EVENT, 0},
	{BPF_PROG_TYPE_SYSCALL, 0},
};
#define N_TYPES (sizeof(fuzz_types) / sizeof(fuzz_types[0]))

static const uint32_t fuzz_map_kinds[] = {
	BPF_MAP_TYPE_HASH,      BPF_MAP_TYPE_ARRAY,     BPF_MAP_TYPE_PERCPU_ARRAY,
	BPF_MAP_TYPE_LRU_HASH,  BPF_MAP_TYPE_QUEUE,     BPF_MAP_TYPE_STACK,
	BPF_MAP_TYPE_RINGBUF,   BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	BPF_MAP_TYPE_PERCPU_HASH,
};
#define N_MAP_KINDS (sizeof(fuzz_map_kinds) / sizeof(fuzz_map_kinds[0]))

static struct bee *bee;
static struct bee_helper_table *verify_helpers;
static int baseline_fd[N_TYPES];

/* ---- setup ---- */

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t *s, void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = mix(s);
		if ((v & 3) == 0)
			v &= 0xff;
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

static void setup(void)
{
	if (bee)
		return;
	struct bee_opts o = {.sz = sizeof(o), .ncpus = 2, .max_insns = 1u << 22};
	bee = bee_new(&o);
	verify_helpers = bee_helper_table_new();
	if (!bee || !verify_helpers || bee_helper_table_add_builtins(verify_helpers) < 0 ||
	    bee_core_add_helpers(verify_helpers) < 0)
		abort();
	if (sound_wrap_helpers(bee, verify_helpers) < 0)
		abort();
	static const struct bpf_insn ret0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	for (size_t i = 0; i < N_TYPES; i++) {
		struct bee_prog_load_opts lo = {
			.sz = sizeof(lo), .expected_attach_type = fuzz_types[i].attach,
			.prog_flags = fuzz_types[i].type == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0};
		baseline_fd[i] = bee_prog_load(bee, fuzz_types[i].type, "base", "GPL", ret0, 2, &lo);
	}
}

/* The maps of the header (clamped to what the map types take). */
static size_t make_maps(const uint8_t *h, struct bee_verify_map *vm, int *fds)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		const uint8_t *m = h + 4 * i;
		if (!m[0])
			continue;
		struct bee_verify_map d = {.type = fuzz_map_kinds[m[0] % N_MAP_KINDS],
					   .key_size = 1u + (m[1] & 63),
					   .value_size = 1u + m[2],
					   .max_entries = 1u + (m[3] & 15)};
		switch (d.type) {
		case BPF_MAP_TYPE_ARRAY:
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			d.key_size = 4;
			break;
		case BPF_MAP_TYPE_QUEUE:
		case BPF_MAP_TYPE_STACK:
			d.key_size = 0;
			break;
		case BPF_MAP_TYPE_RINGBUF:
			d.key_size = d.value_size = 0;
			d.max_entries = 4096;
			break;
		case BPF_MAP_TYPE_PROG_ARRAY:
		case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
			d.key_size = d.value_size = 4;
			break;
		default:
			break;
		}
		int fd = bee_map_create(bee, d.type, "f", d.key_size, d.value_size, d.max_entries, NULL);
		if (fd < 0)
			continue;
		vm[n] = d;
		fds[n++] = fd;
	}
	return n;
}

static void randomize_maps(uint64_t *s, const struct bee_verify_map *vm, const int *fds, size_t n)
{
	uint8_t key[64], val[8 * 256 * 2];
	for (size_t i = 0; i < n; i++) {
		const struct bee_verify_map *m = &vm[i];
		switch (m->type) {
		case BPF_MAP_TYPE_ARRAY:
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			for (uint32_t k = 0; k < m->max_entries; k++) {
				fill(s, val, m->type == BPF_MAP_TYPE_ARRAY ? m->value_size
									    : ((m->value_size + 7) & ~7u) * 2);
				bee_map_update(bee, fds[i], &k, val, BPF_ANY);
			}
			break;
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_PERCPU_HASH:
			for (uint32_t k = 0; k < 3; k++) {
				memset(key, 0, sizeof(key));
				memcpy(key, &k, m->key_size < 4 ? m->key_size : 4);
				fill(s, val, m->type == BPF_MAP_TYPE_PERCPU_HASH
						     ? ((m->value_size + 7) & ~7u) * 2
						     : m->value_size);
				bee_map_update(bee, fds[i], key, val, BPF_ANY);
			}
			break;
		case BPF_MAP_TYPE_QUEUE:
		case BPF_MAP_TYPE_STACK:
			fill(s, val, m->value_size);
			bee_map_update(bee, fds[i], NULL, val, BPF_ANY);
			break;
		default:
			break;
		}
	}
}

static bool uses_callbacks(const struct bpf_insn *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].code == (BPF_LD | BPF_IMM | BPF_DW) && v[i].src_reg == BPF_PSEUDO_FUNC)
			return true;
	return false;
}

static void report(const char *what, const struct bpf_insn *v, size_t n, const char *type)
{
	struct bee_error e;
	fprintf(stderr, "\n==== SOUNDNESS BUG (type %s): %s\n", type, what);
	bee_disasm(v, n, BEE_SYNTAX_C, BEE_DISASM_INDEX, stderr, &e);
	abort();
}

static uint8_t pkt_in[MAX_PKT], pkt_out[MAX_PKT], base_out[MAX_PKT];
static uint8_t ctx_in[65536], ctx_out[65536];

static void run_checked(int fd, size_t ti, const struct bee_prog_type_desc *d, uint64_t *s,
			const struct bpf_insn *v, size_t n)
{
	uint32_t type = fuzz_types[ti].type;
	bool skb = type == BPF_PROG_TYPE_SOCKET_FILTER || type == BPF_PROG_TYPE_SCHED_CLS ||
		   type == BPF_PROG_TYPE_SCHED_ACT || type == BPF_PROG_TYPE_CGROUP_SKB;
	bool xdp = type == BPF_PROG_TYPE_XDP;
	struct bee_test_run_opts o = {.sz = sizeof(o)};
	uint32_t ctx_len;
	if (skb || xdp) {
		uint32_t plen = 14 + (uint32_t)(mix(s) % (MAX_PKT - 14 + 1));
		fill(s, pkt_in, plen);
		o.data_in = pkt_in;
		o.data_size_in = plen;
		o.data_out = pkt_out;
		o.data_size_out = MAX_PKT;
		ctx_len = skb ? sizeof(struct __sk_buff) : sizeof(struct xdp_md);
		fill(s, ctx_in, ctx_len);
		if (skb) { /* pointers: set by the test run, or NULL (no socket) */
			struct __sk_buff *k = (struct __sk_buff *)ctx_in;
			k->data = k->data_end = k->data_meta = 0;
			k->sk = 0;
			k->flow_keys = 0;
		} else {
			struct xdp_md *x = (struct xdp_md *)ctx_in;
			x->data = x->data_end = x->data_meta = 0;
		}
	} else {
		ctx_len = d->ctx_size > sizeof(ctx_in) ? (uint32_t)sizeof(ctx_in) : d->ctx_size;
		ctx_len &= ~7u;
		memset(ctx_in, 0, ctx_len);
		fill(s, ctx_in, ctx_len < 512 ? ctx_len : 512);
	}
	o.ctx_in = ctx_len ? ctx_in : NULL;
	o.ctx_size_in = ctx_len;
	o.ctx_out = ctx_len ? ctx_out : NULL;
	o.ctx_size_out = ctx_len ? (uint32_t)sizeof(ctx_out) : 0;
	int err = bee_prog_test_run(bee, fd, &o);
	if (err) {
		const struct bee_error *e = bee_last_run_error();
		if (!e || e->code != err)
			return; /* refused before running: not the program's doing */
		if (err == -EOPNOTSUPP && strstr(e->msg, "tail call"))
			return; /* an engine limit, not the verifier's */
		if (err == -ETIME && uses_callbacks(v, n))
			return; /* bpf_loop may legitimately run long */
		char buf[400];
		report(bee_error_format(e, NULL, buf, sizeof(buf)), v, n, d->name);
	}
	if ((skb || xdp) && !(d->flags & BEE_PT_PKT_WRITE) && baseline_fd[ti] >= 0) {
		struct bee_test_run_opts b = o;
		b.data_out = base_out;
		b.data_size_out = MAX_PKT;
		b.ctx_out = NULL;
		b.ctx_size_out = 0;
		if (bee_prog_test_run(bee, baseline_fd[ti], &b) == 0 &&
		    memcmp(pkt_out, base_out, o.data_size_in) != 0)
			report("packet changed by a type that may not write packets", v, n, d->name);
	}
}

static void write_seeds(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", __FILE__);
	char *slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	strncat(path, "/../verifier", sizeof(path) - strlen(path) - 1);
	struct vcorpus c = {0};
	vdata_parse_path(&c, path);
	unsigned written = 0;
	for (size_t i = 0; i < c.n; i++) {
		struct vtest *t = &c.tests[i];
		size_t ti = N_TYPES;
		for (size_t k = 0; k < N_TYPES; k++)
			if (fuzz_types[k].type == t->prog_type &&
			    (!t->has_attach_type || fuzz_types[k].attach == t->attach_type))
				ti = k;
		if (ti == N_TYPES || t->n_maps > 4 || t->slow)
			continue;
		uint8_t hdr[HDR] = {(uint8_t)ti, (uint8_t)((t->prog_flags & BPF_F_STRICT_ALIGNMENT ? 1 : 0) |
							  (t->btf ? 2 : 0))};
		memcpy(hdr + 2, &i, 6);
		bool fits = true;
		for (unsigned m = 0; m < t->n_maps; m++) {
			const struct vmap *vm = &t->maps[m];
			size_t kind = N_MAP_KINDS;
			for (size_t k = 0; k < N_MAP_KINDS; k++)
				if (fuzz_map_kinds[k] == (uint32_t)vm->type)
					kind = k;
			if (kind == N_MAP_KINDS || vm->value_size > 256 || vm->flags)
				fits = false;
			hdr[8 + 4 * m] = (uint8_t)(kind ? kind : N_MAP_KINDS);
			hdr[9 + 4 * m] = (uint8_t)(vm->key_size ? vm->key_size - 1 : 0);
			hdr[10 + 4 * m] = (uint8_t)(vm->value_size ? vm->value_size - 1 : 0);
			hdr[11 + 4 * m] = (uint8_t)(vm->max_entries ? (vm->max_entries - 1) & 15 : 0);
		}
		struct bpf_insn *insns;
		size_t n;
		struct bee_error e;
		if (!fits || bee_asm(t->asm_text, &insns, &n, &e) < 0)
			continue;
		/* programs whose verification explores long loops slow every
		 * mutation of them down: left out */
		const struct bee_prog_type_desc *d = bee_prog_type_builtin(fuzz_types[ti].type);
		struct bee_verify_opts vo = {.sz = sizeof(vo), .prog_type = d,
					     .helpers = verify_helpers, .has_func_info = t->btf};
		struct bee_verify_result vr;
		bee_verify(insns, n, &vo, &vr);
		if (vr.processed > 20000) {
			free(insns);
			continue;
		}
		size_t len = HDR + n * sizeof(*insns);
		uint8_t *buf = malloc(len);
		if (!buf)
			abort();
		memcpy(buf, hdr, HDR);
		memcpy(buf + HDR, insns, n * sizeof(*insns));
		char name[300];
		snprintf(name, sizeof(name), "%s-%s", t->file, t->name);
		if (fuzz_write_file(dir, name, buf, len) == 0)
			written++;
		free(buf);
		free(insns);
	}
	fprintf(stderr, "fuzz_verify: %u seeds written to %s\n", written, dir);
	for (size_t i = 0; i < c.n; i++) {
		free(c.tests[i].name);
		free(c.tests[i].asm_text);
		free(c.tests[i].expect_msg);
		if (i == 0 || c.tests[i].file != c.tests[i - 1].file)
			free((char *)c.tests[i].file);
	}
	free(c.tests);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	setup();
	const char *seeds = getenv("BEE_FUZZ_SEEDS");
	if (seeds && *seeds) {
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < HDR + sizeof(struct bpf_insn))
		return 0;
	size_t n = (size - HDR) / sizeof(struct bpf_insn);
	if (n > 4096)
		return 0;
	struct bpf_insn *v = malloc(n * sizeof(*v));
	if (!v)
		abort();
	memcpy(v, data + HDR, n * sizeof(*v));
	size_t ti = data[0] % N_TYPES;
	const struct bee_prog_type_desc *d = bee_prog_type_builtin(fuzz_types[ti].type);
	uint64_t s;
	memcpy(&s, data + 2, 8);
	s &= 0xffffffffffffull;
	struct bee_verify_map vm[4];
	int fds[4];
	size_t n_maps = d ? make_maps(data + 8, vm, fds) : 0;
	if (d) {
		struct bee_verify_opts o = {
			.sz = sizeof(o),
			.prog_type = d,
			.expected_attach_type = fuzz_types[ti].attach,
			.helpers = verify_helpers,
			.maps = vm,
			.n_maps = n_maps,
			.strict_alignment = data[1] & 1,
			.has_func_info = (data[1] & 2) != 0,
		};
		struct bee_verify_result res;
		if (bee_verify(v, n, &o, &res) == 0) {
			struct bee_prog_load_opts lo = {
				.sz = sizeof(lo),
				.expected_attach_type = fuzz_types[ti].attach,
				.prog_flags = (fuzz_types[ti].type == BPF_PROG_TYPE_SYSCALL ? BPF_F_SLEEPABLE : 0) |
					      (data[1] & 1 ? BPF_F_STRICT_ALIGNMENT : 0),
				.fd_array = fds,
			};
			/* bee_cmd_prog_load reads fd_array[imm] for every lddw
			 * map[idx:imm], dead code included, without knowing the
			 * array's length (a core bug, src/core/prog.c): indexes past
			 * ours are not loaded. */
			bool idx_ok = true;
			for (size_t i = 0; i + 1 < n; i++)
				if (v[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
				    (v[i].src_reg == BPF_PSEUDO_MAP_IDX ||
				     v[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE) &&
				    (v[i].imm < 0 || (size_t)v[i].imm >= n_maps))
					idx_ok = false;
			int fd = idx_ok ? bee_prog_load(bee, fuzz_types[ti].type, "fv", "GPL", v, n, &lo)
					: -EINVAL;
			if (fd >= 0) {
				for (int k = 0; k < 2; k++) {
					randomize_maps(&s, vm, fds, n_maps);
					run_checked(fd, ti, d, &s, v, n);
				}
				bee_close(bee, fd);
			}
		}
	}
	for (size_t i = 0; i < n_maps; i++)
		bee_close(bee, fds[i]);
	free(v);
	return 0;
}
