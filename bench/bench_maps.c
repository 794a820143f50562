/*
 * bench_maps.c - map lookups and updates per second, bee against the
 * kernel in one run: from the host (bee_map_lookup / bee_map_update against
 * the bpf() system call) and from programs (a bpf_loop over keys, run with
 * BPF_PROG_TEST_RUN on both).
 *
 * Theory.  Two costs matter to users of maps: what the host pays per
 * element operation (for the kernel a system call, ~2 us on this VM; for
 * bee a function call, a handle lookup and an epoch section), and what a
 * program pays per helper call (bpf_map_lookup_elem / update_elem).  Both
 * are measured on identical maps (same type, key and value sizes, entries,
 * all keys present), with the same key sequence: key i is
 * (i * 0x9e3779b1) mod entries, a spread-out walk, so that the 1M-entry
 * hash does not live in the cache.
 *
 *  - host rows: a tight loop of lookups (or updates with BPF_ANY of
 *    present keys); 1 thread: thread CPU time per operation; 2 threads
 *    (bee only): both threads on one map, wall time; ns/op is per thread,
 *    ops/s is the sum of both.
 *  - program rows: one XDP program loops LOOP_N times (a bounded loop the
 *    kernel's verifier accepts), one lookup (or update) per iteration; the same bytes go to
 *    the kernel and to bee.  The kernel's figure is its test-run
 *    `duration` (ns per run, measured inside the kernel) / LOOP_N; bee's is
 *    its own test-run duration / LOOP_N, for the JIT and the interpreter
 *    (one bee instance per engine).  2 threads: bee only, wall time.
 *
 * Every figure is the median of --runs rounds, the columns of a round
 * alternating (kernel, bee JIT, bee interpreter).  No timing is asserted.
 * bee runs programs in checked mode (bounds-checked memory accesses) until
 * its verifier lands; the header says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "bee/bee.h"
#include "kbpf.h" /* tests/kernel: the raw bpf(2) calls */
#include "kbpf_bench.h"

#define LOOP_N 8192u        /* helper calls per program run */
#define KEY_MUL 0x9e3779b1u /* the key walk: i * KEY_MUL mod entries */

static unsigned opt_runs = 5, opt_ms = 100;

enum op { OP_LOOKUP, OP_UPDATE };

struct cfg {
	const char *name;
	enum bpf_map_type type;
	uint32_t entries; /* a power of two: the walk masks */
};

static inline uint32_t key_of(uint64_t i, uint32_t entries)
{
	return (uint32_t)(i * KEY_MUL) & (entries - 1);
}

/*
 * ---- the program: a bounded loop of LOOP_N map calls ----
 *
 *   r6 = 0
 * loop:
 *   r1 = r6; r1 *= KEY_MUL; r1 &= entries - 1; *(u32 *)(r10 - 4) = r1
 *   (update: *(u64 *)(r10 - 16) = r1)
 *   r1 = map ll; r2 = r10 - 4 (update: r3 = r10 - 16; r4 = BPF_ANY)
 *   call bpf_map_lookup_elem / bpf_map_update_elem
 *   r6 += 1; if r6 < LOOP_N goto loop
 *   r0 = XDP_PASS; exit
 *
 * Not bpf_loop: the kernel wants BTF func_info for its callback.  The
 * kernel's verifier walks every iteration (the counter is a known
 * constant, so no branch state is kept), which caps LOOP_N x body near its
 * 1M processed instructions.  The kernel may inline array lookups
 * (map_gen_lookup): that is what its programs get, so it is measured.
 */
static void build_prog(struct kb_prog *p, int map_fd, uint32_t entries, enum op op)
{
	p->n = 0;
	p->overflow = 0;
	kb_emit(p, KB_MOV64_IMM(BPF_REG_6, 0));
	size_t loop = kb_here(p);
	kb_emit(p, KB_MOV64_REG(BPF_REG_1, BPF_REG_6));
	kb_emit(p, KB_ALU64_IMM(BPF_MUL, BPF_REG_1, (int32_t)KEY_MUL));
	kb_emit(p, KB_ALU64_IMM(BPF_AND, BPF_REG_1, (int32_t)(entries - 1)));
	kb_emit(p, KB_STX(BPF_W, BPF_REG_10, BPF_REG_1, -4));
	if (op == OP_UPDATE)
		kb_emit(p, KB_STX(BPF_DW, BPF_REG_10, BPF_REG_1, -16));
	kb_emit(p, kb_insn(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd));
	kb_emit(p, kb_insn(0, 0, 0, 0, 0));
	kb_emit(p, KB_MOV64_REG(BPF_REG_2, BPF_REG_10));
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_2, -4));
	if (op == OP_UPDATE) {
		kb_emit(p, KB_MOV64_REG(BPF_REG_3, BPF_REG_10));
		kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_3, -16));
		kb_emit(p, KB_MOV64_IMM(BPF_REG_4, BPF_ANY));
		kb_emit(p, kb_insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem));
	} else {
		kb_emit(p, kb_insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
	}
	kb_emit(p, KB_ALU64_IMM(BPF_ADD, BPF_REG_6, 1));
	kb_emit(p, KB_JMP_IMM(BPF_JLT, BPF_REG_6, (int32_t)LOOP_N, kb_off_to(p, loop)));
	kb_emit(p, KB_MOV64_IMM(BPF_REG_0, 2)); /* XDP_PASS */
	kb_emit(p, KB_EXIT());
}

/* ---- one side's maps and programs ---- */

struct bee_side {
	struct bee *bee;
	int map, prog[2];
};

static int bee_setup(struct bee_side *s, enum bee_engine engine, const struct cfg *c)
{
	struct bee_opts o = {.sz = sizeof(o), .ncpus = 2, .engine = engine};
	s->bee = bee_new(&o);
	if (!s->bee)
		return -errno;
	s->map = bee_map_create(s->bee, c->type, "bench", 4, 8, c->entries, NULL);
	if (s->map < 0)
		return s->map;
	for (uint32_t k = 0; k < c->entries; k++) {
		uint64_t v = k;
		int err = bee_map_update(s->bee, s->map, &k, &v, BPF_ANY);
		if (err)
			return err;
	}
	for (int op = 0; op < 2; op++) {
		struct kb_prog p;
		build_prog(&p, s->map, c->entries, (enum op)op);
		s->prog[op] = bee_prog_load(s->bee, BPF_PROG_TYPE_XDP, "bench", "GPL", p.insns, p.n,
					    NULL);
		if (s->prog[op] < 0)
			return s->prog[op];
	}
	return 0;
}

struct kern_side {
	int map, prog[2];
	char why[256];
};

static int kern_setup(struct kern_side *s, const struct cfg *c)
{
	s->map = s->prog[0] = s->prog[1] = -1;
	s->map = kbpf_map_create(c->type, 4, 8, c->entries, 0);
	if (s->map < 0) {
		snprintf(s->why, sizeof(s->why), "map create: %s", strerror(-s->map));
		return s->map;
	}
	enum { CHUNK = 4096 };
	static uint32_t keys[CHUNK];
	static uint64_t vals[CHUNK];
	for (uint32_t base = 0; base < c->entries; base += CHUNK) {
		uint32_t n = c->entries - base < CHUNK ? c->entries - base : CHUNK;
		for (uint32_t i = 0; i < n; i++) {
			keys[i] = base + i;
			vals[i] = base + i;
		}
		int err = kbpf_map_update_batch(s->map, keys, vals, n);
		for (uint32_t i = 0; err == -EINVAL && i < n; i++) /* no batch: one by one */
			err = kbpf_map_update(s->map, &keys[i], &vals[i], BPF_ANY);
		if (err) {
			snprintf(s->why, sizeof(s->why), "map fill: %s", strerror(-err));
			return err;
		}
	}
	for (int op = 0; op < 2; op++) {
		struct kb_prog p;
		build_prog(&p, s->map, c->entries, (enum op)op);
		static char log[65536];
		s->prog[op] = kbpf_prog_load(BPF_PROG_TYPE_XDP, p.insns, p.n, NULL, 0);
		if (s->prog[op] < 0) {
			kbpf_close(kbpf_prog_load(BPF_PROG_TYPE_XDP, p.insns, p.n, log, sizeof(log)));
			snprintf(s->why, sizeof(s->why), "program load: %s: %.120s",
				 strerror(-s->prog[op]), log);
			return s->prog[op];
		}
	}
	return 0;
}

static void kern_teardown(struct kern_side *s)
{
	kbpf_close(s->prog[0]);
	kbpf_close(s->prog[1]);
	kbpf_close(s->map);
}

/* ---- host-side measurements ---- */

static int kern_host_op(int fd, enum op op, uint32_t key)
{
	uint64_t v = key;
	return op == OP_LOOKUP ? kbpf_map_lookup(fd, &key, &v) : kbpf_map_update(fd, &key, &v, BPF_ANY);
}

static int bee_host_op(struct bee *bee, int fd, enum op op, uint32_t key)
{
	uint64_t v = key;
	return op == OP_LOOKUP ? bee_map_lookup(bee, fd, &key, &v)
			       : bee_map_update(bee, fd, &key, &v, BPF_ANY);
}

/* ns per op of n host ops (thread CPU time); kernel when bee is NULL. */
static double host_series(struct bee *bee, int fd, enum op op, uint32_t entries, uint64_t n,
			  uint64_t start, int *err)
{
	uint64_t t0 = kb_thread_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint32_t k = key_of(start + i, entries);
		int e = bee ? bee_host_op(bee, fd, op, k) : kern_host_op(fd, op, k);
		if (e) {
			*err = e;
			break;
		}
	}
	return (double)(kb_thread_ns() - t0) / (double)n;
}

/* Operations that take about opt_ms of CPU time. */
static uint64_t calibrate_host(struct bee *bee, int fd, enum op op, uint32_t entries, int *err)
{
	uint64_t n = 1000;
	for (;;) {
		double ns = host_series(bee, fd, op, entries, n, 0, err);
		if (*err)
			return 0;
		if (ns * (double)n > 20e6 || n > (1ull << 30))
			return (uint64_t)((double)opt_ms * 1e6 / (ns > 0.1 ? ns : 0.1)) + 1;
		n *= 4;
	}
}

struct thr_arg {
	struct bee *bee;
	int fd, prog;
	enum op op;
	uint32_t entries;
	uint64_t n;      /* host ops, or test-run repeats */
	uint64_t start;
	int err;
	_Atomic int *go;
};

static void *host_thread(void *p)
{
	struct thr_arg *a = p;
	while (!atomic_load(a->go))
		;
	for (uint64_t i = 0; i < a->n && !a->err; i++)
		a->err = bee_host_op(a->bee, a->fd, a->op, key_of(a->start + i, a->entries));
	return NULL;
}

static void *prog_thread(void *p)
{
	struct thr_arg *a = p;
	unsigned char pkt[64] = {0};
	while (!atomic_load(a->go))
		;
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = sizeof(pkt),
				      .repeat = (int)a->n};
	a->err = bee_prog_test_run(a->bee, a->prog, &o);
	return NULL;
}

/* Two threads: wall ns of the whole, each doing n units of work. */
static double two_threads(void *(*fn)(void *), struct bee *bee, int fd, int prog, enum op op,
			  uint32_t entries, uint64_t n, int *err)
{
	_Atomic int go = 0;
	struct thr_arg a[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		a[i] = (struct thr_arg){bee, fd, prog, op, entries, n, (uint64_t)i << 32, 0, &go};
		pthread_create(&th[i], NULL, fn, &a[i]);
	}
	uint64_t t0 = kb_now_ns();
	atomic_store(&go, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	uint64_t t = kb_now_ns() - t0;
	*err = a[0].err ? a[0].err : a[1].err;
	return (double)t;
}

/* ---- program-side measurements ---- */

static double bee_prog_ns(struct bee *bee, int prog, uint32_t repeat, int *err)
{
	unsigned char pkt[64] = {0};
	struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt, .data_size_in = sizeof(pkt),
				      .repeat = (int)repeat};
	*err = bee_prog_test_run(bee, prog, &o);
	if (!*err && o.retval != 2)
		*err = -EIO;
	return (double)o.duration / LOOP_N;
}

static double kern_prog_ns(int prog, uint32_t repeat, int *err)
{
	unsigned char pkt[64] = {0};
	uint32_t retval = 0, dur = 0;
	*err = kbpf_test_run(prog, pkt, sizeof(pkt), repeat, &retval, &dur);
	if (!*err && retval != 2)
		*err = -EIO;
	return (double)dur / LOOP_N;
}

static uint32_t repeat_for(double ns_per_op)
{
	double per_run = ns_per_op * LOOP_N;
	double r = (double)opt_ms * 1e6 / (per_run > 1 ? per_run : 1);
	return r < 1 ? 1 : r > 1e6 ? 1000000 : (uint32_t)r;
}

/* ---- the table ---- */

struct row {
	char what[48];
	double bee, intp, kern; /* ns/op; < 0: not measured */
	double bee_ops, kern_ops; /* ops/s */
};

static struct row rows[64];
static int nrows;

static void print_rows(void)
{
	printf("\n%-34s %9s %9s %9s %10s %10s %8s %8s\n", "measurement", "bee ns", "intp ns",
	       "kern ns", "bee Mop/s", "kern Mop/s", "bee/kern", "intp/kern");
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char b[16] = "-", in[16] = "-", k[16] = "-", bo[16] = "-", ko[16] = "-", rb[16] = "-",
		     ri[16] = "-";
		if (r->bee >= 0)
			snprintf(b, sizeof(b), "%.1f", r->bee);
		if (r->intp >= 0)
			snprintf(in, sizeof(in), "%.1f", r->intp);
		if (r->kern >= 0)
			snprintf(k, sizeof(k), "%.1f", r->kern);
		if (r->bee_ops >= 0)
			snprintf(bo, sizeof(bo), "%.2f", r->bee_ops / 1e6);
		if (r->kern_ops >= 0)
			snprintf(ko, sizeof(ko), "%.2f", r->kern_ops / 1e6);
		if (r->bee >= 0 && r->kern > 0)
			snprintf(rb, sizeof(rb), "%.3f", r->bee / r->kern);
		if (r->intp >= 0 && r->kern > 0)
			snprintf(ri, sizeof(ri), "%.3f", r->intp / r->kern);
		printf("%-34s %9s %9s %9s %10s %10s %8s %8s\n", r->what, b, in, k, bo, ko, rb, ri);
	}
}

static struct row *new_row(const char *fmt, const char *a, const char *b, uint32_t entries,
			   int threads)
{
	struct row *r = &rows[nrows++];
	char e[16];
	if (entries >= 1u << 20)
		snprintf(e, sizeof(e), "%uM", entries >> 20);
	else
		snprintf(e, sizeof(e), "%uk", entries >> 10);
	snprintf(r->what, sizeof(r->what), fmt, a, b, e, threads);
	r->bee = r->intp = r->kern = r->bee_ops = r->kern_ops = -1;
	return r;
}

static void bench_cfg(const struct cfg *c, bool kernel_ok)
{
	struct bee_side jit = {0}, intp = {0};
	struct kern_side k = {.map = -1};
	int err;
	if ((err = bee_setup(&jit, BEE_ENGINE_JIT, c)) || (err = bee_setup(&intp, BEE_ENGINE_INTERP, c))) {
		printf("%s: bee set-up failed: %s\n", c->name, strerror(-err));
		goto out;
	}
	bool kern = kernel_ok;
	if (kern && kern_setup(&k, c) < 0) {
		printf("%s: kernel: unavailable (%s)\n", c->name, k.why);
		kern = false;
	}
	static const char *opn[] = {"lookup", "update"};
	for (int op = 0; op < 2; op++) {
		/* host, 1 thread */
		struct row *r = new_row("host %s %s %s x%d", opn[op], c->name, c->entries, 1);
		int e = 0;
		uint64_t nb = calibrate_host(jit.bee, jit.map, (enum op)op, c->entries, &e);
		uint64_t nk = kern ? calibrate_host(NULL, k.map, (enum op)op, c->entries, &e) : 0;
		double vb[32], vk[32];
		for (unsigned i = 0; i < opt_runs && !e; i++) {
			if (kern)
				vk[i] = host_series(NULL, k.map, (enum op)op, c->entries, nk, i * nk, &e);
			vb[i] = host_series(jit.bee, jit.map, (enum op)op, c->entries, nb, i * nb, &e);
		}
		if (e) {
			printf("%s: host %s failed: %s\n", c->name, opn[op], strerror(-e));
			continue;
		}
		r->bee = kb_median(vb, opt_runs);
		r->bee_ops = 1e9 / r->bee;
		if (kern) {
			r->kern = kb_median(vk, opt_runs);
			r->kern_ops = 1e9 / r->kern;
		}
		/* host, 2 threads (bee) */
		r = new_row("host %s %s %s x%d", opn[op], c->name, c->entries, 2);
		for (unsigned i = 0; i < opt_runs && !e; i++) {
			double wall = two_threads(host_thread, jit.bee, jit.map, -1, (enum op)op,
						  c->entries, nb, &e);
			vb[i] = wall / (double)nb;
		}
		if (!e) {
			r->bee = kb_median(vb, opt_runs);
			r->bee_ops = 2e9 / r->bee;
		}

		/* programs, 1 thread: kernel, JIT, interpreter alternating */
		r = new_row("prog %s %s %s x%d", opn[op], c->name, c->entries, 1);
		double vi[32];
		uint32_t rk = 0, rj, ri;
		double probe = bee_prog_ns(jit.bee, jit.prog[op], 1, &e);
		rj = repeat_for(probe);
		if (!e)
			probe = bee_prog_ns(intp.bee, intp.prog[op], 1, &e);
		ri = repeat_for(probe);
		if (e) {
			printf("%s: bee program %s failed: %s\n", c->name, opn[op], strerror(-e));
			continue;
		}
		int ek = 0;
		if (kern) {
			probe = kern_prog_ns(k.prog[op], 1, &ek);
			rk = repeat_for(probe);
		}
		for (unsigned i = 0; i < opt_runs && !e; i++) {
			if (kern && !ek)
				vk[i] = kern_prog_ns(k.prog[op], rk, &ek);
			vb[i] = bee_prog_ns(jit.bee, jit.prog[op], rj, &e);
			if (!e)
				vi[i] = bee_prog_ns(intp.bee, intp.prog[op], ri, &e);
		}
		if (e) {
			printf("%s: bee program %s failed: %s\n", c->name, opn[op], strerror(-e));
			continue;
		}
		r->bee = kb_median(vb, opt_runs);
		r->intp = kb_median(vi, opt_runs);
		r->bee_ops = 1e9 / r->bee;
		if (kern && !ek) {
			r->kern = kb_median(vk, opt_runs);
			r->kern_ops = 1e9 / r->kern;
		} else if (kern) {
			printf("%s: kernel program %s failed: %s\n", c->name, opn[op], strerror(-ek));
		}
		/* programs, 2 threads (bee JIT and interpreter) */
		r = new_row("prog %s %s %s x%d", opn[op], c->name, c->entries, 2);
		for (unsigned i = 0; i < opt_runs && !e; i++) {
			vb[i] = two_threads(prog_thread, jit.bee, -1, jit.prog[op], (enum op)op,
					    c->entries, rj, &e) / ((double)rj * LOOP_N);
			if (!e)
				vi[i] = two_threads(prog_thread, intp.bee, -1, intp.prog[op], (enum op)op,
						    c->entries, ri, &e) / ((double)ri * LOOP_N);
		}
		if (!e) {
			r->bee = kb_median(vb, opt_runs);
			r->intp = kb_median(vi, opt_runs);
			r->bee_ops = 2e9 / r->bee;
		}
	}
out:
	if (jit.bee)
		bee_free(jit.bee);
	if (intp.bee)
		bee_free(intp.bee);
	if (k.map >= 0)
		kern_teardown(&k);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			opt_runs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ms") && i + 1 < argc)
			opt_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench_maps [--runs N] [--ms MS] [--only hash|array]\n");
			return 2;
		}
	}
	if (opt_runs < 1 || opt_runs > 32)
		opt_runs = 5;
	if (opt_ms < 1)
		opt_ms = 100;
	setvbuf(stdout, NULL, _IOLBF, 0);
	char why[256];
	bool kernel_ok = kbpf_probe(why, sizeof(why)) == 0;
	printf("bench_maps: map operations, bee against the kernel; median of %u rounds, ~%u ms "
	       "each\n",
	       opt_runs, opt_ms);
	printf("note: bee runs every program in CHECKED mode (bounds-checked memory accesses) "
	       "until its verifier lands\n");
	printf("host rows: ns per bee_map_lookup/update vs bpf() syscall (x2: two threads, one "
	       "map, ns/op per thread, Mop/s summed)\n");
	printf("prog rows: ns per helper call inside a bounded loop of %u (bee: JIT column, "
	       "interpreter column)\n",
	       LOOP_N);
	if (!kernel_ok)
		printf("kernel: unavailable (%s)\n", why);
	static const struct cfg cfgs[] = {
		{"HASH", BPF_MAP_TYPE_HASH, 1u << 10},
		{"HASH", BPF_MAP_TYPE_HASH, 1u << 20},
		{"ARRAY", BPF_MAP_TYPE_ARRAY, 1u << 10},
		{"ARRAY", BPF_MAP_TYPE_ARRAY, 1u << 20},
	};
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		if (only && strcasecmp(only, cfgs[i].name))
			continue;
		bench_cfg(&cfgs[i], kernel_ok);
	}
	print_rows();
	return 0;
}
