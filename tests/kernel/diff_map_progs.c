/*
 * diff_map_progs.c - maps as programs see them: the same small programs
 * run by the real kernel and by bee (interpreter and JIT), compared by
 * what they return and by what they leave in their maps.
 *
 * Theory.  diff_maps.c checks the host's side of maps (the bpf() map
 * commands); this checks the program's side: the helpers a program calls
 * on each map type, their return codes and errors, and the writes it makes
 * through value pointers, including atomics.  Each case is
 *  - a set of maps (shape and host-written initial contents),
 *  - optionally auxiliary programs (tail-call targets put in a PROG_ARRAY),
 *  - one XDP program in bee assembly that uses the maps through
 *    `map[idx:N]` (BPF_PSEUDO_MAP_IDX with fd_array, so the very same
 *    instruction bytes load on every target: only the fd_array differs),
 *  - a repeat count: each case runs twice from fresh maps, once with one
 *    BPF_PROG_TEST_RUN of repeat 1 and once with repeat N (2..4), so later
 *    runs see the state earlier ones left (full maps, popped queues, a
 *    ring buffer filling up, deleted keys).
 * Every program folds what it saw into r7 (r7 = r7 * 31 + x for each helper
 * return code, value read, null or not) and returns it; the 32-bit retval
 * summarises the run.  Afterwards the host reads every map back and writes
 * a canonical text snapshot of it: arrays, hashes and tries key by key
 * (sorted, so hash iteration order does not matter), per-CPU values summed
 * across CPUs word by word, queues and stacks popped in order, bloom
 * filters probed with a fixed set of candidate values, fd-holding maps
 * (PROG_ARRAY, *_OF_MAPS) as keys and presence only (their lookups return
 * ids, which differ between targets), ring buffers as the list of
 * committed records: bee's read with bee_ringbuf_poll, the kernel's by
 * mmap'ing the ring buffer as libbpf does (consumer page read-write, then
 * producer page and the data pages twice, read-only) and walking the
 * record headers.
 *
 * Targets are reached only through a bpf()-shaped function pointer (as in
 * diff_maps.c): the kernel through syscall(__NR_bpf), bee through bee_bpf
 * on an instance created with BEE_ENGINE_INTERP and another with
 * BEE_ENGINE_JIT.  Each case runs on all three from fresh maps; bee's
 * retval and snapshot must equal the kernel's.
 *
 * Per-CPU: the kernel runs TEST_RUN on the CPU the caller is on, bee on
 * the slot of sched_getcpu(); the process pins itself to one CPU so a
 * program's own per-CPU copy and bpf_map_lookup_percpu_elem of given CPUs
 * read the same values everywhere.  bee is given as many CPUs as the kernel
 * has possible CPUs, so host per-CPU buffers have the same size.
 *
 * Callbacks (bpf_for_each_map_elem): the kernel wants BTF func_info for a
 * program with subprograms whose address is taken, and static linkage for
 * the callback.  The test builds a minimal BTF (int, a prototype with no
 * arguments, one static FUNC per subprogram), loads it on each target and
 * passes func_info records at the subprogram starts it finds in the code.
 *
 * Deliberately left out, because the answer depends on the implementation
 * rather than on the contract: LRU eviction (LRU maps get room to never
 * evict), hash iteration order (callbacks that stop early run on arrays
 * only), bloom filter false positives (the filter is large enough that
 * they do not happen), r0 after a tail call that did not happen
 * (undefined), and perf event output into a real event (only the errors of
 * a PERF_EVENT_ARRAY with no event behind its slots are compared).
 *
 * A case whose program the kernel refuses is a test bug and fails with the
 * verifier log.  Any mismatch prints the program disassembled and both
 * results.  Exit 77 with "SKIP: reason" when the kernel's bpf() is unusable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include "kbpf.h"

/* ---- text buffers ---------------------------------------------------------- */

struct text {
	char *s;
	size_t n, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			abort();
		if (t->s && t->n + (size_t)k < t->cap) {
			t->n += (size_t)k;
			return;
		}
		t->cap = (t->cap + (size_t)k + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (!t->s)
			abort();
	}
}

static void thex(struct text *t, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tprintf(t, "%02x", ((const unsigned char *)p)[i]);
}

/* Lines of one map, sorted before they join the snapshot. */
struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, struct text *t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = t->s ? t->s : strdup("");
	*t = (struct text){0};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_flush(struct lines *l, struct text *out, bool sort)
{
	if (sort && l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	for (size_t i = 0; i < l->n; i++) {
		tprintf(out, "  %s\n", l->v[i]);
		free(l->v[i]);
	}
	free(l->v);
	*l = (struct lines){0};
}

/* ---- the targets ------------------------------------------------------------- */

struct target {
	const char *name;
	long (*bpf)(void *self, int cmd, union bpf_attr *attr, unsigned size);
	int (*close)(void *self, int fd);
	/* Append every committed record of ring buffer fd (size data bytes)
	 * to lines, consuming them.  Returns the number, or a negative errno. */
	int (*ringbuf_drain)(void *self, int fd, uint32_t size, struct lines *out);
	void *self;
};


static void record_line(struct lines *out, unsigned i, const void *data, size_t size)
{
	struct text t = {0};
	tprintf(&t, "record %03u len %zu: ", i, size);
	thex(&t, data, size);
	lines_add(out, &t);
}

/*
 * The kernel's ring buffer, read as libbpf does: the consumer position in
 * the first page (writable), the producer position in the next, then the
 * data pages mapped twice so a record that wraps reads contiguously.  Each
 * record has an 8-byte header: length with the BUSY (bit 31) and DISCARD
 * (bit 30) bits, then the page offset; records are 8-byte aligned.
 */
static int kernel_ringbuf_drain(void *self, int fd, uint32_t size, struct lines *out)
{
	(void)self;
	long page = sysconf(_SC_PAGESIZE);
	void *cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	void *prod = mmap(NULL, (size_t)page + 2 * (size_t)size, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		int e = errno;
		munmap(cons, (size_t)page);
		return -e;
	}
	const unsigned char *data = (const unsigned char *)prod + page;
	uint64_t cpos = __atomic_load_n((uint64_t *)cons, __ATOMIC_ACQUIRE);
	uint64_t ppos = __atomic_load_n((uint64_t *)prod, __ATOMIC_ACQUIRE);
	int n = 0;
	while (cpos < ppos) {
		const unsigned char *hdr = data + (cpos & (size - 1));
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		uint32_t rlen = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		if (!(len & BPF_RINGBUF_DISCARD_BIT))
			record_line(out, (unsigned)n++, hdr + BPF_RINGBUF_HDR_SZ, rlen);
		cpos += (rlen + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
		__atomic_store_n((uint64_t *)cons, cpos, __ATOMIC_RELEASE);
	}
	munmap(prod, (size_t)page + 2 * (size_t)size);
	munmap(cons, (size_t)page);
	return n;
}

static long bee_target_bpf(void *self, int cmd, union bpf_attr *attr, unsigned size)
{
	return bee_bpf(self, cmd, attr, size);
}

static int bee_target_close(void *self, int fd)
{
	return fd >= 0 ? bee_close(self, fd) : 0;
}

struct drain_ctx {
	struct lines *out;
	unsigned n;
};

static int bee_record(void *ctx, void *data, size_t size)
{
	struct drain_ctx *d = ctx;
	record_line(d->out, d->n++, data, size);
	return 0;
}

static int bee_ringbuf_drain(void *self, int fd, uint32_t size, struct lines *out)
{
	(void)size;
	struct drain_ctx d = {out, 0};
	return bee_ringbuf_poll(self, fd, bee_record, &d, 0);
}

enum { KERN, INTERP, JIT, NT };
static struct target tg[NT];
static unsigned ncpus = 1;

static long tbpf(int t, int cmd, union bpf_attr *a)
{
	return tg[t].bpf(tg[t].self, cmd, a, sizeof(*a));
}

static long elem(int t, int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = flags;
	return tbpf(t, cmd, &a);
}

static long next_key(int t, int fd, const void *key, void *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.next_key = (uint64_t)(uintptr_t)next;
	return tbpf(t, BPF_MAP_GET_NEXT_KEY, &a);
}

/* ---- cases ----------------------------------------------------------------- */

struct mapdef {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
	int inner;          /* *_OF_MAPS: index of the template map in the case */
	uint64_t extra;     /* BLOOM_FILTER: hash functions */
};

#define MAX_MAPS 4
#define MAX_AUX 2

struct ctx_fds {
	int t;
	int map[MAX_MAPS];
	int aux[MAX_AUX];
};

struct pcase {
	const char *name;
	struct mapdef maps[MAX_MAPS];
	int nmaps;
	const char *aux[MAX_AUX]; /* tail-call targets, same maps */
	/* Host-written initial state (fds of this target); false on failure. */
	bool (*setup)(const struct ctx_fds *c);
	const char *text;
	uint32_t repeat;
};

static bool failed_setup(const struct ctx_fds *c, const char *what, long err)
{
	printf("  %s: setup: %s: %s\n", tg[c->t].name, what, strerror((int)-err));
	return false;
}

static bool put(const struct ctx_fds *c, int m, const void *key, const void *value)
{
	long r = elem(c->t, BPF_MAP_UPDATE_ELEM, c->map[m], key, (void *)(uintptr_t)value, BPF_ANY);
	return r ? failed_setup(c, "update", r) : true;
}

static bool put64(const struct ctx_fds *c, int m, uint32_t key, uint64_t value)
{
	return put(c, m, &key, &value);
}

/* A per-CPU value of 8 bytes: base + cpu on each CPU. */
static bool put_percpu(const struct ctx_fds *c, int m, uint32_t key, uint64_t base)
{
	uint64_t v[ncpus];
	for (unsigned i = 0; i < ncpus; i++)
		v[i] = base + i;
	return put(c, m, &key, v);
}

static bool put_fd(const struct ctx_fds *c, int m, uint32_t key, int fd)
{
	uint32_t v = (uint32_t)fd;
	return put(c, m, &key, &v);
}

/* Fold x (a register) into the summary in r7. */
#define FOLD(x) "r7 *= 31\nr7 += " x "\n"
#define FOLD0 FOLD("r0")
/* After a lookup: fold 1 or 0 for found or not. */
#define FOLD_FOUND(l) "r1 = 1\nif r0 != 0 goto " l "\nr1 = 0\n" l ":\n" FOLD("r1")
/* After a lookup: fold the u64 found, or 0. */
#define FOLD_VAL(l) "if r0 == 0 goto " l "\nr0 = *(u64 *)(r0 + 0)\n" l ":\n" FOLD0
/* Keys at fp-8 (u32, or an LPM key: prefixlen then 4 bytes), values at fp-24. */
#define KEY(k) "*(u32 *)(r10 - 8) = " #k "\n"
#define LPMKEY(plen, addr) "*(u32 *)(r10 - 8) = " #plen "\n*(u32 *)(r10 - 4) = " #addr "\n"
#define VAL(v) "*(u64 *)(r10 - 24) = " #v "\n"
#define VAL2(v) "*(u64 *)(r10 - 16) = " #v "\n"
#define MAP(m) "r1 = map[idx:" #m "] ll\n"
#define LOOKUP(m) MAP(m) "r2 = r10\nr2 += -8\ncall 1\n"
#define UPDATE(m, fl) MAP(m) "r2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr4 = " #fl "\ncall 2\n" FOLD0
#define DELETE(m) MAP(m) "r2 = r10\nr2 += -8\ncall 3\n" FOLD0
#define PUSH(m, fl) MAP(m) "r2 = r10\nr2 += -24\nr3 = " #fl "\ncall 87\n" FOLD0
#define POP(m) MAP(m) "r2 = r10\nr2 += -24\ncall 88\n" FOLD0 "r0 = *(u64 *)(r10 - 24)\n" FOLD0
#define PEEK(m) MAP(m) "r2 = r10\nr2 += -24\ncall 89\n" FOLD0
#define PERCPU_LOOKUP(m, cpu) MAP(m) "r2 = r10\nr2 += -8\nr3 = " #cpu "\ncall 195\n"
#define PROLOGUE "r6 = r1\nr7 = 0\n" VAL(0) VAL2(0)
#define EPILOGUE "r0 = r7\nexit\n"

/* Atomics through the value pointer of key k (u64 at offset 0). */
#define ATOMICS(m, k, l)                                                                   \
	KEY(k) LOOKUP(m) "if r0 == 0 goto " l "\n"                                          \
	"r8 = r0\n"                                                                        \
	"r1 = 3\nr1 = atomic64_fetch_add((u64 *)(r8 +0), r1)\n" FOLD("r1")                 \
	"r1 = 0xf0\nlock *(u64 *)(r8 +0) |= r1\n"                                          \
	"r1 = 0xff0f\nr1 = atomic64_fetch_and((u64 *)(r8 +0), r1)\n" FOLD("r1")            \
	"r1 = 0x5\nr1 = atomic64_fetch_xor((u64 *)(r8 +0), r1)\n" FOLD("r1")               \
	"r1 = 0x11\nr1 = atomic64_fetch_or((u64 *)(r8 +0), r1)\n" FOLD("r1")               \
	"r1 = 0x3c\nlock *(u64 *)(r8 +0) ^= r1\n"                                          \
	"r1 = 1234\nr1 = atomic64_xchg((u64 *)(r8 +0), r1)\n" FOLD("r1")                   \
	"r0 = 1234\nr1 = 4321\nr0 = atomic64_cmpxchg((u64 *)(r8 +0), r0, r1)\n" FOLD0       \
	"r0 = 1\nr1 = 99\nr0 = atomic64_cmpxchg((u64 *)(r8 +0), r0, r1)\n" FOLD0            \
	"r1 = 7\nr1 = atomic_fetch_add((u32 *)(r8 +0), r1)\n" FOLD("r1")                    \
	"r1 = 0xffff\nlock *(u32 *)(r8 +4) |= r1\n"                                        \
	"r1 = 2\nlock *(u64 *)(r8 +0) += r1\n"                                             \
	"r1 = *(u64 *)(r8 +0)\n" FOLD("r1") l ":\n"

/* -- ARRAY -- */

static bool setup_array(const struct ctx_fds *c)
{
	for (uint32_t k = 0; k < 8; k++) {
		uint64_t v[2] = {k * 10, k};
		if (!put(c, 0, &k, v))
			return false;
	}
	return true;
}

static const char array_prog[] =
	PROLOGUE
	KEY(3) LOOKUP(0) "if r0 == 0 goto a1\n"
	"r1 = *(u64 *)(r0 + 0)\n" FOLD("r1")
	"r1 = 5\nlock *(u64 *)(r0 + 8) += r1\n"
	"r1 = *(u64 *)(r0 + 8)\n" FOLD("r1")
	"r1 = *(u64 *)(r0 + 0)\nr1 += 1\n*(u64 *)(r0 + 0) = r1\n"
	"a1:\n"
	KEY(8) LOOKUP(0) FOLD_FOUND("a2")
	KEY(5) VAL(77) VAL2(88) UPDATE(0, 0)
	UPDATE(0, 1)             /* NOEXIST on an array: -EEXIST */
	KEY(6) UPDATE(0, 2)      /* EXIST: fine */
	KEY(9) UPDATE(0, 0)      /* past the end: -E2BIG */
	KEY(6) UPDATE(0, 4)      /* BPF_F_LOCK without a spin lock: -EINVAL */
	UPDATE(0, 8)             /* unknown flag */
	KEY(1) DELETE(0)         /* arrays have no delete: -EINVAL */
	KEY(4) LOOKUP(0) FOLD_VAL("a3")
	ATOMICS(0, 2, "a4")
	EPILOGUE;

/* -- PERCPU_ARRAY -- */

static bool setup_percpu_array(const struct ctx_fds *c)
{
	return put_percpu(c, 0, 5, 500) && put_percpu(c, 0, 1, 100);
}

#define PERCPU_READS(l)                                                                    \
	KEY(5) PERCPU_LOOKUP(0, 1) FOLD_VAL(l "a")                                          \
	KEY(5) PERCPU_LOOKUP(0, 0) FOLD_VAL(l "b")                                          \
	KEY(5) PERCPU_LOOKUP(0, 4096) FOLD_FOUND(l "c")                                     \
	KEY(77) PERCPU_LOOKUP(0, 0) FOLD_FOUND(l "d")                                       \
	KEY(5) LOOKUP(0) "if r0 == 0 goto " l "e\n"                                         \
	"r1 = *(u64 *)(r0 + 0)\n" FOLD("r1") "r1 += 1\n*(u64 *)(r0 + 0) = r1\n" l "e:\n"

static const char percpu_array_prog[] =
	PROLOGUE
	PERCPU_READS("p")
	KEY(0) LOOKUP(0) "if r0 == 0 goto a1\n"
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"
	"a1:\n"
	KEY(2) VAL(42) UPDATE(0, 0)
	UPDATE(0, 1)             /* -EEXIST */
	KEY(3) UPDATE(0, 2)
	KEY(8) UPDATE(0, 0)      /* -E2BIG */
	KEY(2) DELETE(0)         /* -EINVAL */
	KEY(1) LOOKUP(0) FOLD_VAL("a2")
	ATOMICS(0, 3, "a3")
	EPILOGUE;

/* -- the hash family (HASH, no-prealloc HASH, PERCPU_HASH, LRU_HASH,
 *    LRU_PERCPU_HASH): the same program, the per-CPU ones with more -- */

static bool setup_hash(const struct ctx_fds *c)
{
	return put64(c, 0, 1, 100) && put64(c, 0, 2, 200);
}

static bool setup_percpu_hash(const struct ctx_fds *c)
{
	return put_percpu(c, 0, 1, 100) && put_percpu(c, 0, 2, 200) && put_percpu(c, 0, 5, 500);
}

#define HASH_BODY                                                                          \
	KEY(1) LOOKUP(0) "if r0 == 0 goto h1\n"                                             \
	"r1 = *(u64 *)(r0 + 0)\n" FOLD("r1")                                                \
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"                                             \
	"h1:\n"                                                                            \
	KEY(3) LOOKUP(0) FOLD_FOUND("h2")                                                   \
	KEY(3) VAL(33) UPDATE(0, 1)      /* NOEXIST: 0, then -EEXIST */                     \
	UPDATE(0, 1)                                                                       \
	KEY(4) UPDATE(0, 2)              /* EXIST on a missing key: -ENOENT */              \
	KEY(2) VAL(222) UPDATE(0, 2)                                                       \
	UPDATE(0, 7)                     /* bad flags: -EINVAL */                           \
	KEY(1) DELETE(0)                                                                   \
	DELETE(0)                        /* -ENOENT */                                      \
	"r8 = 10\n"                      /* fill: -E2BIG once full */                       \
	"h3:\n"                                                                            \
	"*(u32 *)(r10 - 8) = r8\n*(u64 *)(r10 - 24) = r8\n"                                \
	UPDATE(0, 0)                                                                       \
	"r8 += 1\nif r8 < 18 goto h3\n"                                                    \
	KEY(2) VAL(7) UPDATE(0, 0)       /* replacing in a full map works */                \
	KEY(12) DELETE(0)                                                                  \
	KEY(3) LOOKUP(0) FOLD_VAL("h4")                                                     \
	ATOMICS(0, 2, "h5")

static const char hash_prog[] = PROLOGUE HASH_BODY EPILOGUE;
static const char percpu_hash_prog[] = PROLOGUE HASH_BODY PERCPU_READS("p") EPILOGUE;

/* -- PROG_ARRAY: tail calls (a missing slot, an index past the end, a
 *    taken one, and a chain that hits the kernel's limit of 33) -- */

static bool setup_tail(const struct ctx_fds *c)
{
	return put_fd(c, 0, 0, c->aux[0]) && put_fd(c, 0, 3, c->aux[1]);
}

static const char tail_target0[] =
	KEY(1) LOOKUP(1) "if r0 == 0 goto t1\n"
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"
	"t1:\n"
	"r0 = 1000\nexit\n";

/* Slot 3 tail-calls itself until the limit: counts its runs in arr[2]. */
static const char tail_target3[] =
	"r6 = r1\n"
	KEY(2) LOOKUP(1) "if r0 == 0 goto t1\n"
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"
	"t1:\n"
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 3\ncall 12\n"
	"r0 = 2000\nexit\n";

static const char tail_prog[] =
	PROLOGUE
	KEY(0) LOOKUP(1) "if r0 == 0 goto c1\n"
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"
	"r1 = *(u64 *)(r0 + 0)\n" FOLD("r1")
	"c1:\n"
	/* r0 after a tail call that did not happen is not defined: not folded */
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 2\ncall 12\n" "r7 += 1\n"
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 9\ncall 12\n" "r7 += 2\n"
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 0xffffffff ll\ncall 12\n" "r7 += 3\n"
	KEY(0) LOOKUP(1) "if r0 == 0 goto c2\n"
	"r1 = *(u64 *)(r0 + 0)\n"
	"r1 &= 1\nif r1 == 0 goto c2\n"
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 3\ncall 12\n"   /* odd runs: the chain */
	"c2:\n"
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 0\ncall 12\n"   /* even runs: slot 0 */
	"r0 = 5\nexit\n";

/* -- ARRAY_OF_MAPS and HASH_OF_MAPS: lookups, then helpers on the inner map -- */

static bool setup_aom(const struct ctx_fds *c)
{
	return put64(c, 0, 2, 20) && put_fd(c, 1, 0, c->map[0]);
}

static bool setup_hom(const struct ctx_fds *c)
{
	return put64(c, 0, 5, 50) && put_fd(c, 1, 7, c->map[0]);
}

#define INNER_OPS(outer, okey, missing, l)                                                  \
	KEY(okey) LOOKUP(outer) "if r0 == 0 goto " l "z\n"                                   \
	"r8 = r0\n"                                                                         \
	KEY(2) "r1 = r8\nr2 = r10\nr2 += -8\ncall 1\n" "if r0 == 0 goto " l "a\n"            \
	"r1 = 1\nr1 = atomic64_fetch_add((u64 *)(r0 + 0), r1)\n" FOLD("r1")                 \
	l "a:\n"                                                                            \
	KEY(3) VAL(33) "r1 = r8\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr4 = 1\ncall 2\n" \
	FOLD0                                                                               \
	KEY(5) "r1 = r8\nr2 = r10\nr2 += -8\ncall 1\n" FOLD_VAL(l "b")                       \
	KEY(9) "r1 = r8\nr2 = r10\nr2 += -8\ncall 3\n" FOLD0                                \
	l "z:\n"                                                                            \
	KEY(missing) LOOKUP(outer) FOLD_FOUND(l "y")

static const char aom_prog[] = PROLOGUE INNER_OPS(1, 0, 1, "o") EPILOGUE;
static const char hom_prog[] = PROLOGUE INNER_OPS(1, 7, 8, "o") EPILOGUE;

/* -- QUEUE and STACK -- */

static bool setup_queue(const struct ctx_fds *c)
{
	uint64_t v = 5;
	long r = elem(c->t, BPF_MAP_UPDATE_ELEM, c->map[0], NULL, &v, BPF_ANY);
	return r ? failed_setup(c, "push", r) : true;
}

static const char queue_prog[] =
	PROLOGUE
	POP(0) POP(0)            /* the host's element, then -ENOENT (on run 1) */
	PEEK(0)
	"r8 = 10\n"
	"q1:\n"
	"*(u64 *)(r10 - 24) = r8\n" PUSH(0, 0)   /* -E2BIG once full */
	"r8 += 10\nif r8 < 60 goto q1\n"
	VAL(99) PUSH(0, 2)       /* BPF_EXIST: drops the oldest when full */
	PUSH(0, 1)               /* BPF_NOEXIST: -EINVAL */
	PUSH(0, 4)               /* -EINVAL */
	PEEK(0) "r0 = *(u64 *)(r10 - 24)\n" FOLD0
	POP(0) POP(0) POP(0)
	EPILOGUE;

/* -- BLOOM_FILTER -- */

static const char bloom_prog[] =
	PROLOGUE
	"r8 = 1\n"
	"b1:\n"
	"*(u64 *)(r10 - 24) = r8\n" PEEK(0)
	"r8 *= 3\nif r8 < 100 goto b1\n"
	"r8 = 1\n"
	"b2:\n"
	"*(u64 *)(r10 - 24) = r8\n" PUSH(0, 0)
	"r8 += 2\nif r8 < 12 goto b2\n"
	VAL(13) PUSH(0, 2)       /* BPF_EXIST: -EINVAL */
	PUSH(0, 1)               /* BPF_NOEXIST: -EINVAL */
	"r8 = 1\n"
	"b3:\n"
	"*(u64 *)(r10 - 24) = r8\n" PEEK(0)
	"r8 += 1\nif r8 < 16 goto b3\n"
	EPILOGUE;

/* -- LPM_TRIE: keys {u32 prefixlen; u8 addr[4]} -- */

struct lpm_key {
	uint32_t prefixlen;
	uint8_t addr[4];
};

static bool setup_lpm(const struct ctx_fds *c)
{
	static const struct {
		struct lpm_key k;
		uint64_t v;
	} init[] = {
		{{8, {10, 0, 0, 0}}, 1},
		{{16, {10, 1, 0, 0}}, 2},
		{{24, {10, 1, 2, 0}}, 3},
		{{0, {0, 0, 0, 0}}, 4},
	};
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		if (!put(c, 0, &init[i].k, &init[i].v))
			return false;
	return true;
}

static const char lpm_prog[] =
	PROLOGUE
	LPMKEY(32, 0x0302010a) LOOKUP(0) FOLD_VAL("l1")   /* 10.1.2.3: /24 */
	LPMKEY(32, 0x0909010a) LOOKUP(0) FOLD_VAL("l2")   /* 10.1.9.9: /16 */
	LPMKEY(32, 0x0909090a) LOOKUP(0) FOLD_VAL("l3")   /* 10.9.9.9: /8 */
	LPMKEY(32, 0x0000000b) LOOKUP(0) FOLD_VAL("l4")   /* 11.0.0.0: /0 */
	LPMKEY(20, 0x0302010a) LOOKUP(0) FOLD_VAL("l5")   /* a /20 key: /16 */
	LPMKEY(16, 0x0000a8c0) VAL(50) UPDATE(0, 0)       /* 192.168/16 */
	LPMKEY(32, 0x0505a8c0) LOOKUP(0) "if r0 == 0 goto l6\n"
	"r1 = *(u64 *)(r0 + 0)\n" FOLD("r1")
	"r1 = 1\nlock *(u64 *)(r0 + 0) += r1\n"
	"l6:\n"
	LPMKEY(16, 0x0000010a) DELETE(0)                  /* 0, then -ENOENT */
	LPMKEY(32, 0x0909010a) LOOKUP(0) FOLD_VAL("l7")
	LPMKEY(33, 0) UPDATE(0, 0)                        /* -EINVAL */
	LPMKEY(8, 0x0000000a) UPDATE(0, 1)                /* -EEXIST */
	LPMKEY(24, 0x0000000c) UPDATE(0, 2)               /* -ENOENT */
	LPMKEY(24, 0x0000000c) UPDATE(0, 1)               /* 0, then -EEXIST */
	LPMKEY(30, 0x0000000d) DELETE(0)                  /* -ENOENT */
	EPILOGUE;

/* -- RINGBUF: output, reserve + submit / discard, a full ring, query -- */

static const char ringbuf_prog[] =
	PROLOGUE
	VAL(0x1111) VAL2(0x2222)
	MAP(0) "r2 = r10\nr2 += -24\nr3 = 16\nr4 = 0\ncall 130\n" FOLD0
	MAP(0) "r2 = r10\nr2 += -24\nr3 = 12\nr4 = 1\ncall 130\n" FOLD0   /* NO_WAKEUP */
	MAP(0) "r2 = r10\nr2 += -24\nr3 = 8\nr4 = 4\ncall 130\n" FOLD0    /* bad flags */
	MAP(0) "r2 = 24\nr3 = 0\ncall 131\n" "if r0 == 0 goto rb1\n"
	"*(u64 *)(r0 + 0) = r7\n*(u64 *)(r0 + 8) = 7\n*(u64 *)(r0 + 16) = 8\n"
	"r1 = r0\nr2 = 2\ncall 132\n"                                        /* FORCE_WAKEUP */
	"rb1:\n"
	MAP(0) "r2 = 8\nr3 = 0\ncall 131\n" "if r0 == 0 goto rb2\n"
	"*(u64 *)(r0 + 0) = 1\nr1 = r0\nr2 = 0\ncall 133\n"
	"rb2:\n"
	MAP(0) "r2 = 8\nr3 = 1\ncall 131\n" FOLD_FOUND("rf3")                  /* flags: NULL */
	"if r0 == 0 goto rb4\nr1 = r0\nr2 = 0\ncall 133\n"
	"rb4:\n"
	MAP(0) "r2 = 8192\nr3 = 0\ncall 131\n" FOLD_FOUND("rf5")               /* too big */
	"if r0 == 0 goto rb6\nr1 = r0\nr2 = 0\ncall 133\n"
	"rb6:\n"
	MAP(0) "r2 = 1500\nr3 = 0\ncall 131\n" FOLD_FOUND("rf7")               /* fills up */
	"if r0 == 0 goto rb8\nr1 = r0\nr2 = 0\ncall 133\n"
	"rb8:\n"
	MAP(0) "r2 = 0\ncall 134\n" FOLD0
	MAP(0) "r2 = 1\ncall 134\n" FOLD0
	MAP(0) "r2 = 2\ncall 134\n" FOLD0
	MAP(0) "r2 = 3\ncall 134\n" FOLD0
	MAP(0) "r2 = 9\ncall 134\n" FOLD0
	EPILOGUE;

/* -- PERF_EVENT_ARRAY: no event behind any slot, so only the errors -- */

static const char perf_prog[] =
	PROLOGUE
	VAL(1)
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 0xffffffff ll\nr4 = r10\nr4 += -24\nr5 = 8\ncall 25\n"
	FOLD0                                                     /* -ENOENT */
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 5\nr4 = r10\nr4 += -24\nr5 = 8\ncall 25\n"
	FOLD0                                                     /* -E2BIG */
	"r1 = r6\nr2 = map[idx:0] ll\nr3 = 0x10000000000000 ll\nr4 = r10\nr4 += -24\n"
	"r5 = 8\ncall 25\n" FOLD0                                 /* -EINVAL */
	EPILOGUE;

/* -- bpf_for_each_map_elem: callbacks summing and bumping values -- */

static bool setup_each_array(const struct ctx_fds *c)
{
	for (uint32_t k = 0; k < 6; k++)
		if (!put64(c, 0, k, 3 * k + 1))
			return false;
	return true;
}

static bool setup_each_hash(const struct ctx_fds *c)
{
	for (uint32_t k = 0; k < 6; k++)
		if (!put64(c, 0, 100 + k, 3 * k + 1))
			return false;
	return true;
}

static bool setup_each_percpu(const struct ctx_fds *c)
{
	for (uint32_t k = 0; k < 6; k++)
		if (!put_percpu(c, 0, 100 + k, 10 * k))
			return false;
	return true;
}

/* ctx on the stack at fp-40: {sum, count}.  The ordered variant stops at
 * key 3 (arrays only: hash order is the implementation's). */
#define EACH(cb, fl)                                                                       \
	"*(u64 *)(r10 - 40) = 0\n*(u64 *)(r10 - 32) = 0\n"                                  \
	MAP(0) "r2 = subprog[" cb "] ll\nr3 = r10\nr3 += -40\nr4 = " #fl "\ncall 164\n"      \
	FOLD0 "r0 = *(u64 *)(r10 - 40)\n" FOLD0 "r0 = *(u64 *)(r10 - 32)\n" FOLD0

#define EACH_SUM                                                                           \
	"sum:\n"                                                                           \
	"r0 = *(u64 *)(r3 + 0)\n"                                                          \
	"r1 = *(u64 *)(r4 + 0)\nr1 += r0\n*(u64 *)(r4 + 0) = r1\n"                         \
	"r1 = *(u64 *)(r4 + 8)\nr1 += 1\n*(u64 *)(r4 + 8) = r1\n"                          \
	"r0 += 1\n*(u64 *)(r3 + 0) = r0\n"                                                 \
	"r0 = 0\nexit\n"
#define EACH_UPTO3                                                                         \
	"upto3:\n"                                                                         \
	"r0 = *(u64 *)(r3 + 0)\n"                                                          \
	"r1 = *(u64 *)(r4 + 0)\nr1 += r0\n*(u64 *)(r4 + 0) = r1\n"                         \
	"r1 = *(u32 *)(r2 + 0)\n"                                                          \
	"r0 = 0\nif r1 != 3 goto u1\nr0 = 1\n"                                             \
	"u1:\n"                                                                            \
	"exit\n"

static const char each_array_prog[] =
	PROLOGUE EACH("sum", 0) EACH("upto3", 0) EACH("sum", 1) EPILOGUE EACH_SUM EACH_UPTO3;
static const char each_hash_prog[] =
	PROLOGUE EACH("sum", 0) KEY(103) DELETE(0) EACH("sum", 0) EACH("sum", 1) EPILOGUE
	EACH_SUM;

static const struct pcase cases[] = {
	{"ARRAY: lookup, update flags, delete, atomics",
	 {{BPF_MAP_TYPE_ARRAY, 4, 16, 8, 0, -1, 0}}, 1, {0}, setup_array, array_prog, 3},
	{"ARRAY (mmapable): the same",
	 {{BPF_MAP_TYPE_ARRAY, 4, 16, 8, BPF_F_MMAPABLE, -1, 0}}, 1, {0}, setup_array, array_prog, 2},
	{"PERCPU_ARRAY: lookup, lookup_percpu_elem, update, atomics",
	 {{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 8, 0, -1, 0}}, 1, {0}, setup_percpu_array,
	 percpu_array_prog, 3},
	{"HASH: update flags and errors, delete, full map, atomics",
	 {{BPF_MAP_TYPE_HASH, 4, 8, 8, 0, -1, 0}}, 1, {0}, setup_hash, hash_prog, 3},
	{"HASH (no prealloc): the same",
	 {{BPF_MAP_TYPE_HASH, 4, 8, 8, BPF_F_NO_PREALLOC, -1, 0}}, 1, {0}, setup_hash, hash_prog, 3},
	{"PERCPU_HASH: the same, lookup_percpu_elem",
	 {{BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 8, 0, -1, 0}}, 1, {0}, setup_percpu_hash,
	 percpu_hash_prog, 3},
	{"LRU_HASH (never full): the same",
	 {{BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, 0, -1, 0}}, 1, {0}, setup_hash, hash_prog, 3},
	{"LRU_PERCPU_HASH (never full): the same, lookup_percpu_elem",
	 {{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 1024, 0, -1, 0}}, 1, {0}, setup_percpu_hash,
	 percpu_hash_prog, 3},
	{"PROG_ARRAY: tail calls, missing slot, out of range, the limit",
	 {{BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, -1, 0}, {BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, -1, 0}}, 2,
	 {tail_target0, tail_target3}, setup_tail, tail_prog, 3},
	{"ARRAY_OF_MAPS: inner ARRAY through the outer map",
	 {{BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0, -1, 0}, {BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, 0}}, 2,
	 {0}, setup_aom, aom_prog, 3},
	{"HASH_OF_MAPS: inner HASH through the outer map",
	 {{BPF_MAP_TYPE_HASH, 4, 8, 8, 0, -1, 0}, {BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 4, 0, 0, 0}}, 2,
	 {0}, setup_hom, hom_prog, 3},
	{"QUEUE: push (flags, full), pop, peek",
	 {{BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0, -1, 0}}, 1, {0}, setup_queue, queue_prog, 3},
	{"STACK: push (flags, full), pop, peek",
	 {{BPF_MAP_TYPE_STACK, 0, 8, 4, 0, -1, 0}}, 1, {0}, setup_queue, queue_prog, 3},
	/* 2^19 bits for a few values: a false positive (the two sides hash
	 * differently, so theirs differ) is then some 1e-12 likely per probe;
	 * at 256 entries one in a few hundred runs showed one */
	{"BLOOM_FILTER: push, peek",
	 {{BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 65536, 0, -1, 3}}, 1, {0}, NULL, bloom_prog, 2},
	{"LPM_TRIE: longest-prefix lookups, update, delete",
	 {{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, -1, 0}}, 1, {0}, setup_lpm, lpm_prog, 2},
	{"RINGBUF: output, reserve/submit/discard, full, query",
	 {{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, -1, 0}}, 1, {0}, NULL, ringbuf_prog, 4},
	{"PERF_EVENT_ARRAY: output errors",
	 {{BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, -1, 0}}, 1, {0}, NULL, perf_prog, 2},
	{"for_each_map_elem on ARRAY",
	 {{BPF_MAP_TYPE_ARRAY, 4, 8, 6, 0, -1, 0}}, 1, {0}, setup_each_array, each_array_prog, 2},
	{"for_each_map_elem on PERCPU_ARRAY",
	 {{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 6, 0, -1, 0}}, 1, {0}, NULL, each_array_prog, 2},
	{"for_each_map_elem on HASH",
	 {{BPF_MAP_TYPE_HASH, 4, 8, 8, 0, -1, 0}}, 1, {0}, setup_each_hash, each_hash_prog, 2},
	{"for_each_map_elem on PERCPU_HASH",
	 {{BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 8, 0, -1, 0}}, 1, {0}, setup_each_percpu, each_hash_prog,
	 2},
	{"for_each_map_elem on LRU_HASH",
	 {{BPF_MAP_TYPE_LRU_HASH, 4, 8, 64, 0, -1, 0}}, 1, {0}, setup_each_hash, each_hash_prog, 2},
	{"for_each_map_elem on LRU_PERCPU_HASH",
	 {{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 64, 0, -1, 0}}, 1, {0}, setup_each_percpu,
	 each_hash_prog, 2},
};

/* ---- BTF for programs with callbacks ---------------------------------------- */

#define MAX_FUNCS 4

/* int; int (void); static FUNCs f0..f3 of that prototype (ids 3..6). */
static size_t build_btf(unsigned char *buf)
{
	static const char strs[] = "\0int\0f0\0f1\0f2\0f3";
	uint32_t types[64];
	size_t n = 0;
	types[n++] = 1; /* "int" */
	types[n++] = BTF_KIND_INT << 24;
	types[n++] = 4;
	types[n++] = (BTF_INT_SIGNED << 24) | 32;
	types[n++] = 0; /* int (void) */
	types[n++] = BTF_KIND_FUNC_PROTO << 24;
	types[n++] = 1;
	for (uint32_t f = 0; f < MAX_FUNCS; f++) {
		types[n++] = 5 + 3 * f; /* "fN" */
		types[n++] = (BTF_KIND_FUNC << 24) | BTF_FUNC_STATIC;
		types[n++] = 2;
	}
	struct btf_header h = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(h),
		.type_off = 0,
		.type_len = (uint32_t)(n * 4),
		.str_off = (uint32_t)(n * 4),
		.str_len = sizeof(strs),
	};
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), types, n * 4);
	memcpy(buf + sizeof(h) + n * 4, strs, sizeof(strs));
	return sizeof(h) + n * 4 + sizeof(strs);
}

/* Subprogram starts: 0 and every target of a pseudo call or pseudo func. */
static unsigned find_subprogs(const struct bpf_insn *insns, size_t n, uint32_t *starts)
{
	unsigned k = 1;
	starts[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insns[i];
		long target = -1;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL)
			target = (long)i + in->imm + 1;
		else if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC)
			target = (long)i + in->imm + 1;
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
			i++;
		if (target < 0)
			continue;
		bool seen = false;
		for (unsigned j = 0; j < k; j++)
			seen |= starts[j] == (uint32_t)target;
		if (!seen && k < MAX_FUNCS)
			starts[k++] = (uint32_t)target;
	}
	/* func_info records go in instruction order */
	for (unsigned i = 1; i < k; i++)
		for (unsigned j = i; j > 0 && starts[j - 1] > starts[j]; j--) {
			uint32_t x = starts[j];
			starts[j] = starts[j - 1];
			starts[j - 1] = x;
		}
	return k;
}

/* ---- running one case on one target ------------------------------------------ */

struct outcome {
	long err;         /* a failure before or during the run (setup, load, run) */
	uint32_t retval;
	struct text snap; /* every map, after the runs */
	struct text log;  /* why a load failed */
};

static long load_prog(int t, const struct bpf_insn *insns, size_t n, const int *fd_array,
		      struct text *why)
{
	static char log[65536];
	uint32_t starts[MAX_FUNCS];
	unsigned nf = find_subprogs(insns, n, starts);
	struct bpf_func_info fi[MAX_FUNCS];
	int btf_fd = -1;
	union bpf_attr a;
	if (nf > 1) {
		unsigned char btf[512];
		memset(&a, 0, sizeof(a));
		a.btf = (uint64_t)(uintptr_t)btf;
		a.btf_size = (uint32_t)build_btf(btf);
		btf_fd = (int)tbpf(t, BPF_BTF_LOAD, &a);
		if (btf_fd < 0) {
			tprintf(why, "BPF_BTF_LOAD: %s\n", strerror(-btf_fd));
			return btf_fd;
		}
		for (unsigned i = 0; i < nf; i++)
			fi[i] = (struct bpf_func_info){starts[i], 3 + i};
	}
	for (int with_log = 0; with_log < 2; with_log++) {
		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_XDP;
		a.insns = (uint64_t)(uintptr_t)insns;
		a.insn_cnt = (uint32_t)n;
		a.license = (uint64_t)(uintptr_t)"GPL";
		a.fd_array = (uint64_t)(uintptr_t)fd_array;
		if (nf > 1) {
			a.prog_btf_fd = (uint32_t)btf_fd;
			a.func_info = (uint64_t)(uintptr_t)fi;
			a.func_info_cnt = nf;
			a.func_info_rec_size = sizeof(fi[0]);
		}
		if (with_log) {
			log[0] = 0;
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = sizeof(log);
			a.log_level = 1;
		}
		long fd = tbpf(t, BPF_PROG_LOAD, &a);
		if (fd >= 0 || with_log) {
			if (fd < 0)
				tprintf(why, "BPF_PROG_LOAD: %s\n%s", strerror((int)-fd), log);
			tg[t].close(tg[t].self, btf_fd);
			return fd;
		}
	}
	return -EINVAL; /* not reached */
}

static bool is_percpu(enum bpf_map_type type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Read map m back into the snapshot. */
static void snapshot_map(int t, const struct mapdef *d, int m, int fd, struct text *out)
{
	struct lines l = {0};
	struct text line = {0};
	uint32_t ks = d->key_size, vs = d->value_size;
	bool sort = true;
	tprintf(out, "map %d:\n", m);
	switch (d->type) {
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK: {
		uint64_t v;
		sort = false;
		for (unsigned i = 0; i < d->max_entries + 1; i++) {
			long r = elem(t, BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, NULL, &v, 0);
			tprintf(&line, "pop %u: ", i);
			if (r)
				tprintf(&line, "%s", strerror((int)-r));
			else
				tprintf(&line, "%" PRIu64, v);
			lines_add(&l, &line);
			if (r)
				break;
		}
		break;
	}
	case BPF_MAP_TYPE_BLOOM_FILTER:
		for (uint64_t v = 0; v < 128; v++) {
			uint64_t probe = v;
			long r = elem(t, BPF_MAP_LOOKUP_ELEM, fd, NULL, &probe, 0);
			if (r != -ENOENT) {
				tprintf(&line, "%" PRIu64 ": %s", v, r ? strerror((int)-r) : "maybe");
				lines_add(&l, &line);
			}
		}
		break;
	case BPF_MAP_TYPE_RINGBUF: {
		sort = false;
		int r = tg[t].ringbuf_drain(tg[t].self, fd, d->max_entries, &l);
		if (r < 0) {
			tprintf(&line, "drain: %s", strerror(-r));
			lines_add(&l, &line);
		}
		break;
	}
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		break;
	default: {
		bool fds = d->type == BPF_MAP_TYPE_PROG_ARRAY ||
			   d->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
			   d->type == BPF_MAP_TYPE_HASH_OF_MAPS;
		size_t one = (vs + 7) & ~7u;
		size_t sys_vs = is_percpu(d->type) ? one * ncpus : fds ? 4 : vs;
		unsigned char key[64], next[64], *val = malloc(sys_vs), sum[64];
		bool first = true;
		for (unsigned guard = 0; guard < 4096; guard++) {
			long r = next_key(t, fd, first ? NULL : key, next);
			if (r) {
				if (r != -ENOENT) {
					tprintf(&line, "get_next_key: %s", strerror((int)-r));
					lines_add(&l, &line);
				}
				break;
			}
			first = false;
			memcpy(key, next, ks);
			r = elem(t, BPF_MAP_LOOKUP_ELEM, fd, key, val, 0);
			tprintf(&line, "key ");
			thex(&line, key, ks);
			if (r)
				tprintf(&line, ": %s", strerror((int)-r));
			else if (fds)
				tprintf(&line, ": present");
			else if (is_percpu(d->type)) {
				/* the sum over CPUs, u64 by u64 */
				memset(sum, 0, sizeof(sum));
				for (unsigned c = 0; c < ncpus; c++)
					for (size_t w = 0; w + 8 <= vs; w += 8) {
						uint64_t a, b;
						memcpy(&a, sum + w, 8);
						memcpy(&b, val + c * one + w, 8);
						a += b;
						memcpy(sum + w, &a, 8);
					}
				tprintf(&line, ": sum ");
				thex(&line, sum, vs);
			} else {
				tprintf(&line, ": ");
				thex(&line, val, vs);
			}
			lines_add(&l, &line);
		}
		free(val);
		break;
	}
	}
	lines_flush(&l, out, sort);
}

static const unsigned char packet[64] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45,
};

static void run_case(int t, const struct pcase *pc, uint32_t repeat, const struct bpf_insn *insns,
		     size_t n, struct bpf_insn *aux[MAX_AUX], const size_t naux[MAX_AUX],
		     struct outcome *o)
{
	struct ctx_fds c = {.t = t};
	int prog = -1;
	for (int i = 0; i < MAX_MAPS; i++)
		c.map[i] = -1;
	for (int i = 0; i < MAX_AUX; i++)
		c.aux[i] = -1;
	memset(o, 0, sizeof(*o));
	for (int m = 0; m < pc->nmaps; m++) {
		const struct mapdef *d = &pc->maps[m];
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = d->type;
		a.key_size = d->key_size;
		a.value_size = d->value_size;
		a.max_entries = d->max_entries;
		a.map_flags = d->flags;
		a.map_extra = d->extra;
		if (d->inner >= 0)
			a.inner_map_fd = (uint32_t)c.map[d->inner];
		long fd = tbpf(t, BPF_MAP_CREATE, &a);
		if (fd < 0) {
			tprintf(&o->log, "map %d: BPF_MAP_CREATE: %s\n", m, strerror((int)-fd));
			o->err = fd;
			goto out;
		}
		c.map[m] = (int)fd;
	}
	for (int i = 0; i < MAX_AUX && pc->aux[i]; i++) {
		long fd = load_prog(t, aux[i], naux[i], c.map, &o->log);
		if (fd < 0) {
			o->err = fd;
			goto out;
		}
		c.aux[i] = (int)fd;
	}
	if (pc->setup && !pc->setup(&c)) {
		o->err = -EIO;
		goto out;
	}
	long fd = load_prog(t, insns, n, c.map, &o->log);
	if (fd < 0) {
		o->err = fd;
		goto out;
	}
	prog = (int)fd;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)prog;
	a.test.data_in = (uint64_t)(uintptr_t)packet;
	a.test.data_size_in = sizeof(packet);
	a.test.repeat = repeat;
	long r = tbpf(t, BPF_PROG_TEST_RUN, &a);
	if (r < 0) {
		const struct bee_error *e = t != KERN ? bee_last_run_error() : NULL;
		tprintf(&o->log, "BPF_PROG_TEST_RUN: %s\n", strerror((int)-r));
		if (e)
			tprintf(&o->log, "  bee: insn %ld: %s\n", e->insn, e->msg);
		o->err = r;
		goto out;
	}
	o->retval = a.test.retval;
	for (int m = 0; m < pc->nmaps; m++)
		snapshot_map(t, &pc->maps[m], m, c.map[m], &o->snap);
out:
	tg[t].close(tg[t].self, prog);
	for (int i = 0; i < MAX_AUX; i++)
		tg[t].close(tg[t].self, c.aux[i]);
	for (int m = pc->nmaps - 1; m >= 0; m--)
		tg[t].close(tg[t].self, c.map[m]);
}

static void print_program(const char *what, const struct bpf_insn *insns, size_t n)
{
	printf("  %s:\n", what);
	fflush(stdout);
	bee_disasm(insns, n, BEE_SYNTAX_C, BEE_DISASM_INDEX | BEE_DISASM_LABELS, stdout, NULL);
	fflush(stdout);
}

static void print_outcome(int t, const struct outcome *o)
{
	if (o->err)
		printf("  %s: failed (%s)\n%s", tg[t].name, strerror((int)-o->err),
		       o->log.s ? o->log.s : "");
	else
		printf("  %s: retval %u (0x%08x)\n%s", tg[t].name, o->retval, o->retval,
		       o->snap.s ? o->snap.s : "");
}

static unsigned long compared, mismatches, failures;

static struct bpf_insn *assemble(const char *text, size_t *n)
{
	struct bpf_insn *insns;
	struct bee_error err;
	if (bee_asm(text, &insns, n, &err) < 0) {
		printf("asm: line %d: %s\n", err.line, err.msg);
		return NULL;
	}
	return insns;
}

static void compare_runs(const struct pcase *pc, uint32_t repeat, const struct bpf_insn *insns,
			 size_t n, struct bpf_insn *aux[MAX_AUX], const size_t naux[MAX_AUX]);

static void do_case(const struct pcase *pc)
{
	size_t n, naux[MAX_AUX] = {0};
	struct bpf_insn *aux[MAX_AUX] = {0};
	struct bpf_insn *insns = assemble(pc->text, &n);
	bool ok = insns != NULL;
	for (int i = 0; i < MAX_AUX && pc->aux[i] && ok; i++)
		ok = (aux[i] = assemble(pc->aux[i], &naux[i])) != NULL;
	if (!ok) {
		printf("FAIL [%s]: the test's assembly does not assemble\n", pc->name);
		failures++;
		goto out;
	}
	/* once, then pc->repeat times in one BPF_PROG_TEST_RUN, from fresh maps */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t repeat = pass ? pc->repeat : 1;
		compare_runs(pc, repeat, insns, n, aux, naux);
	}
out:
	free(insns);
	for (int i = 0; i < MAX_AUX; i++)
		free(aux[i]);
}

static void compare_runs(const struct pcase *pc, uint32_t repeat, const struct bpf_insn *insns,
			 size_t n, struct bpf_insn *aux[MAX_AUX], const size_t naux[MAX_AUX])
{
	struct outcome o[NT];
	for (int t = 0; t < NT; t++)
		run_case(t, pc, repeat, insns, n, aux, naux, &o[t]);
	if (o[KERN].err) {
		/* the programs are meant to be valid: the test is wrong */
		printf("FAIL [%s]: the kernel refused the case\n", pc->name);
		print_program("program", insns, n);
		print_outcome(KERN, &o[KERN]);
		failures++;
	} else {
		if (getenv("DIFF_MAP_PROGS_VERBOSE")) {
			printf("[%s] repeat %u\n", pc->name, repeat);
			print_outcome(KERN, &o[KERN]);
		}
		for (int t = INTERP; t < NT; t++) {
			compared++;
			bool same = !o[t].err && o[t].retval == o[KERN].retval &&
				    !strcmp(o[t].snap.s ? o[t].snap.s : "",
					    o[KERN].snap.s ? o[KERN].snap.s : "");
			if (same)
				continue;
			mismatches++;
			printf("MISMATCH [%s] on %s (repeat %u)\n", pc->name, tg[t].name, repeat);
			print_program("program", insns, n);
			for (int i = 0; i < MAX_AUX && aux[i]; i++)
				print_program(i ? "tail target 1" : "tail target 0", aux[i], naux[i]);
			print_outcome(KERN, &o[KERN]);
			print_outcome(t, &o[t]);
		}
	}
	for (int t = 0; t < NT; t++) {
		free(o[t].snap.s);
		free(o[t].log.s);
	}
}

static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	char buf[256];
	unsigned n = 0;
	if (f && fgets(buf, sizeof(buf), f)) {
		for (char *p = buf; *p && *p != '\n';) { /* "0-3,5,7-8" */
			unsigned a = (unsigned)strtoul(p, &p, 10), b = a;
			if (*p == '-')
				b = (unsigned)strtoul(p + 1, &p, 10);
			n += b - a + 1;
			if (*p == ',')
				p++;
			else if (*p != '\n' && *p)
				break;
		}
	}
	if (f)
		fclose(f);
	return n ? n : 1;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL; /* a substring of case names */
	setvbuf(stdout, NULL, _IOLBF, 0);
	char why[256];
	if (kbpf_probe(why, sizeof(why)) < 0) {
		printf("SKIP: the kernel's bpf() is not usable here: %s\n", why);
		return 77;
	}
	/* one CPU for the whole test: see the theory comment */
	cpu_set_t set;
	CPU_ZERO(&set);
	int here = sched_getcpu();
	CPU_SET(here < 0 ? 0 : here, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		printf("note: sched_setaffinity failed (%s): per-CPU reads may differ\n",
		       strerror(errno));
	ncpus = possible_cpus();
	char pin_dir[64];
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-diff-map-progs-%d", (int)getpid());
	struct bee *bees[NT] = {0};
	for (int t = INTERP; t < NT; t++) {
		struct bee_opts o = {.sz = sizeof(o), .pin_dir = pin_dir, .ncpus = ncpus,
				     .engine = t == JIT ? BEE_ENGINE_JIT : BEE_ENGINE_INTERP};
		bees[t] = bee_new(&o);
		if (!bees[t]) {
			printf("bee_new failed: %s\n", strerror(errno));
			return 1;
		}
	}
	tg[KERN] = (struct target){"kernel", kbpf_target_bpf, kbpf_target_close, kernel_ringbuf_drain, NULL};
	tg[INTERP] = (struct target){"bee interpreter", bee_target_bpf, bee_target_close,
				     bee_ringbuf_drain, bees[INTERP]};
	tg[JIT] = (struct target){"bee JIT", bee_target_bpf, bee_target_close, bee_ringbuf_drain,
				  bees[JIT]};
	unsigned ncases = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (only && !strstr(cases[i].name, only))
			continue;
		ncases++;
		do_case(&cases[i]);
	}
	for (int t = INTERP; t < NT; t++)
		bee_free(bees[t]);
	printf("diff_map_progs: %u cases, %lu programs compared (kernel against bee's interpreter "
	       "and JIT), %lu mismatches, %lu failures, %u possible CPUs\n",
	       ncases, compared, mismatches, failures, ncpus);
	return mismatches || failures ? 1 : 0;
}
