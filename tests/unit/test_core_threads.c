/*
 * test_core_threads.c - programs on two threads updating shared maps while
 * the host iterates, reads and deletes, on the interpreter and the JIT.
 *
 * Theory.  Two worker threads run one XDP program with bee_prog_test_run
 * on packets whose first byte is the key.  Per run the program:
 *  - HASH counts[key]: lookup; if missing, insert 1 with BPF_NOEXIST (if
 *    another thread won that race, -EEXIST: look up again and add); else
 *    `lock *(u64 *)(r0 + 0) += 1`;
 *  - PERCPU_HASH pcounts[key]: the same on this CPU's value;
 *  - PERCPU_ARRAY slots: `lock +=` 1 at index key % 8 on this CPU's value,
 *    and a plain load/add/store of 1 at index 8 (correct only if no two
 *    running programs ever share a CPU slot: that is what it checks);
 *    index 9 counts inserts that failed three times (must stay 0).
 * Meanwhile the main thread iterates both hashes (get_next_key + lookup)
 * and the array, and deletes keys.
 *
 * Exact accounting despite the deletes: the key space (32 keys) is cut in
 * 4 windows of 8; workers draw keys from window phase % 4 only.  The main
 * thread advances the phase, waits until each worker has acknowledged it
 * (a worker acknowledges before its next run, so every run on an older
 * window has finished), then deletes the keys of the window just left with
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash) and lookup + delete (per-CPU
 * hash), adding what it took to its own tally.  No program can touch those
 * keys until 3 phases later, so at the end, per key:
 *     value left in the map + values deleted == runs the workers made
 * with that key (the workers count their runs privately).  A lost or
 * doubled increment, a duplicate insert, a torn per-CPU slot, an element
 * deleted and then written by a stale pointer all break the equality.
 * While runs are in flight, host reads may only see values up to what has
 * been run so far, which is also checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/insn.h"
#include "unit.h"
#include "unit_asm.h"


#define NKEYS 32
#define WINDOW 8
#define NWORKERS 2
#define SLOTS 10    /* percpu array: 0..7 keys, 8 plain counter, 9 failures */

/* An XDP program from printf-formatted text; its log printed if refused. */
#define load_asm(bee, ...)                                                              \
	({                                                                              \
		char log_[1024] = "";                                                   \
		int fd_ = unit_load_asm(bee, BPF_PROG_TYPE_XDP, "threads", log_, sizeof(log_), \
					__VA_ARGS__);                                   \
		if (fd_ < 0)                                                            \
			printf("load: %d: %s\n", fd_, log_);                          \
		fd_;                                                                    \
	})

/* The counting of one hash map, as assembly: r6 = packet, key at r10-4. */
#define COUNT_IN_HASH(map, tag)                                                  \
	"r9 = 0\n"                                                               \
	tag "_lookup:\n"                                                         \
	"r1 = map[fd:" map "] ll\n"                                              \
	"r2 = r10\n"                                                             \
	"r2 += -4\n"                                                             \
	"call 1\n"                                                               \
	"if r0 != 0 goto " tag "_add\n"                                          \
	"if r9 > 2 goto " tag "_fail\n"                                          \
	"r9 += 1\n"                                                              \
	"*(u64 *)(r10 - 16) = 1\n"                                               \
	"r1 = map[fd:" map "] ll\n"                                              \
	"r2 = r10\n"                                                             \
	"r2 += -4\n"                                                             \
	"r3 = r10\n"                                                             \
	"r3 += -16\n"                                                            \
	"r4 = 1\n" /* BPF_NOEXIST */                                             \
	"call 2\n"                                                               \
	"if r0 == 0 goto " tag "_done\n"                                         \
	"goto " tag "_lookup\n"                                                  \
	tag "_fail:\n"                                                           \
	"r8 += 1\n"                                                              \
	"goto " tag "_done\n"                                                    \
	tag "_add:\n"                                                            \
	"r1 = 1\n"                                                               \
	"lock *(u64 *)(r0 + 0) += r1\n"                                          \
	tag "_done:\n"

struct shared {
	struct bee *bee;
	int prog, hash, phash, arr;
	_Atomic unsigned phase;
	_Atomic unsigned ack[NWORKERS];
	_Atomic bool stop;
	_Atomic uint64_t runs_total;
	uint64_t runs[NWORKERS][NKEYS]; /* private to each worker until joined */
	int errors[NWORKERS];
	unsigned repeat;
};

struct worker_arg {
	struct shared *sh;
	int id;
};

static void *worker(void *p)
{
	struct worker_arg *wa = p;
	struct shared *sh = wa->sh;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(wa->id + 1);
	unsigned char pkt[64];
	memset(pkt, 0, sizeof(pkt));
	while (!atomic_load(&sh->stop)) {
		unsigned phase = atomic_load(&sh->phase);
		atomic_store(&sh->ack[wa->id], phase);
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		unsigned key = (phase % (NKEYS / WINDOW)) * WINDOW + (unsigned)(rng % WINDOW);
		pkt[0] = (unsigned char)key;
		struct bee_test_run_opts o = {.sz = sizeof(o), .data_in = pkt,
					      .data_size_in = sizeof(pkt), .repeat = (int)sh->repeat};
		int err = bee_prog_test_run(sh->bee, sh->prog, &o);
		if (err || o.retval != 2) {
			if (sh->errors[wa->id]++ < 3)
				printf("worker %d: test run: %d retval %u\n", wa->id, err, o.retval);
			continue;
		}
		sh->runs[wa->id][key] += sh->repeat;
		atomic_fetch_add(&sh->runs_total, sh->repeat);
	}
	return NULL;
}

static uint64_t sum_percpu(const uint64_t *v, unsigned ncpus)
{
	uint64_t s = 0;
	for (unsigned c = 0; c < ncpus; c++)
		s += v[c];
	return s;
}

/* Walk a hash with get_next_key + lookup; check every value is no more
 * than what has run.  Returns the number of keys seen. */
static int walk_hash(struct shared *sh, int fd, bool percpu, unsigned ncpus)
{
	uint32_t key, next;
	uint64_t v[8];
	int n = 0;
	bool first = true;
	while (bee_map_get_next_key(sh->bee, fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		CHECK(key < NKEYS, "walk: key %u outside the key space", key);
		int err = bee_map_lookup(sh->bee, fd, &key, v);
		/* -ENOENT: the main thread is the only deleter, so never */
		CHECK(err == 0, "walk: lookup of an iterated key %u: %d", key, err);
		uint64_t val = percpu ? sum_percpu(v, ncpus) : v[0];
		uint64_t ran = atomic_load(&sh->runs_total);
		CHECK(val <= ran + (uint64_t)NWORKERS * sh->repeat,
		      "walk: key %u value %llu beyond the %llu runs made", key,
		      (unsigned long long)val, (unsigned long long)ran);
		if (++n > NKEYS + 1)
			break;
	}
	CHECK(n <= NKEYS, "walk: %d keys in a map of at most %d", n, NKEYS);
	return n;
}

static void run_scenario(enum bee_engine engine, unsigned phases, unsigned repeat)
{
	const unsigned ncpus = NWORKERS;
	char pin_dir[64];
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-threads-%d", (int)getpid());
	struct bee_opts bo = {.sz = sizeof(bo), .pin_dir = pin_dir, .ncpus = ncpus, .engine = engine};
	struct shared *sh = calloc(1, sizeof(*sh));
	sh->bee = bee_new(&bo);
	CHECK(sh->bee, "bee_new");
	if (!sh->bee) {
		free(sh);
		return;
	}
	sh->repeat = repeat;
	sh->hash = bee_map_create(sh->bee, BPF_MAP_TYPE_HASH, "counts", 4, 8, 64, NULL);
	sh->phash = bee_map_create(sh->bee, BPF_MAP_TYPE_PERCPU_HASH, "pcounts", 4, 8, 64, NULL);
	sh->arr = bee_map_create(sh->bee, BPF_MAP_TYPE_PERCPU_ARRAY, "slots", 4, 8, SLOTS, NULL);
	CHECK(sh->hash >= 0 && sh->phash >= 0 && sh->arr >= 0, "maps: %d %d %d", sh->hash,
	      sh->phash, sh->arr);
	char h[16], ph[16], ar[16];
	snprintf(h, sizeof(h), "%d", sh->hash);
	snprintf(ph, sizeof(ph), "%d", sh->phash);
	snprintf(ar, sizeof(ar), "%d", sh->arr);
	/* %s below: the map handles; the macro text is pasted with "MAP" names
	 * replaced through printf arguments in order. */
	sh->prog = load_asm(sh->bee,
			    "r6 = *(u32 *)(r1 + 0)\n"
			    "r7 = *(u32 *)(r1 + 4)\n"
			    "r2 = r6\n"
			    "r2 += 1\n"
			    "if r2 > r7 goto out\n"
			    "r3 = *(u8 *)(r6 + 0)\n"
			    "*(u32 *)(r10 - 4) = r3\n"
			    "r8 = 0\n" /* inserts that failed */
			    COUNT_IN_HASH("%s", "h")
			    COUNT_IN_HASH("%s", "p")
			    /* per-CPU array: slot key % 8, atomically */
			    "r3 = *(u32 *)(r10 - 4)\n"
			    "r3 &= 7\n"
			    "*(u32 *)(r10 - 8) = r3\n"
			    "r1 = map[fd:%s] ll\n"
			    "r2 = r10\n"
			    "r2 += -8\n"
			    "call 1\n"
			    "if r0 == 0 goto arr_plain\n"
			    "r1 = 1\n"
			    "lock *(u64 *)(r0 + 0) += r1\n"
			    "arr_plain:\n"
			    /* slot 8: a plain read-modify-write */
			    "*(u32 *)(r10 - 8) = 8\n"
			    "r1 = map[fd:%s] ll\n"
			    "r2 = r10\n"
			    "r2 += -8\n"
			    "call 1\n"
			    "if r0 == 0 goto arr_fail\n"
			    "r1 = *(u64 *)(r0 + 0)\n"
			    "r1 += 1\n"
			    "*(u64 *)(r0 + 0) = r1\n"
			    "arr_fail:\n"
			    "if r8 == 0 goto out\n"
			    "*(u32 *)(r10 - 8) = 9\n"
			    "r1 = map[fd:%s] ll\n"
			    "r2 = r10\n"
			    "r2 += -8\n"
			    "call 1\n"
			    "if r0 == 0 goto out\n"
			    "lock *(u64 *)(r0 + 0) += r8\n"
			    "out:\n"
			    "r0 = 2\n"
			    "exit\n",
			    h, h, ph, ph, ar, ar, ar);
	CHECK(sh->prog >= 0, "engine %d: load the counting program: %d", engine, sh->prog);
	if (sh->prog < 0)
		goto out;

	pthread_t th[NWORKERS];
	struct worker_arg wa[NWORKERS];
	for (int i = 0; i < NWORKERS; i++) {
		wa[i] = (struct worker_arg){sh, i};
		pthread_create(&th[i], NULL, worker, &wa[i]);
	}
	uint64_t deleted[NKEYS] = {0}, pdeleted[NKEYS] = {0};
	unsigned deletes = 0, walks = 0;
	for (unsigned p = 1; p <= phases; p++) {
		/* concurrent reads while the workers run on the current window */
		walk_hash(sh, sh->hash, false, ncpus);
		walk_hash(sh, sh->phash, true, ncpus);
		for (uint32_t s = 0; s < SLOTS; s++) {
			uint64_t v[8];
			/* Not the plain read-add-store slot while programs run: the
			 * interpreter's plain stores against the host's atomic reads
			 * are a data race in C terms (KNOWN GAP: the engines do not
			 * use atomic accesses for map memory), read at the end. */
			if (s == 8)
				continue;
			CHECK(bee_map_lookup(sh->bee, sh->arr, &s, v) == 0, "array lookup %u", s);
		}
		walks++;
		atomic_store(&sh->phase, p);
		for (int i = 0; i < NWORKERS; i++)
			while (atomic_load(&sh->ack[i]) < p && !sh->errors[i])
				sched_yield();
		/* the window left is cold now: take its keys out */
		unsigned w = (p - 1) % (NKEYS / WINDOW);
		for (uint32_t k = w * WINDOW; k < (w + 1) * WINDOW; k++) {
			if (k % 2 && p % 3 == 0)
				continue; /* some keys stay across windows */
			uint64_t v[8];
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_fd = (uint32_t)sh->hash;
			a.key = (uint64_t)(uintptr_t)&k;
			a.value = (uint64_t)(uintptr_t)v;
			long err = bee_bpf(sh->bee, BPF_MAP_LOOKUP_AND_DELETE_ELEM, &a, sizeof(a));
			if (err == 0) {
				deleted[k] += v[0];
				deletes++;
			} else {
				CHECK(err == -ENOENT, "lookup_and_delete %u: %ld", k, err);
			}
			if (bee_map_lookup(sh->bee, sh->phash, &k, v) == 0) {
				CHECK(bee_map_delete(sh->bee, sh->phash, &k) == 0, "percpu hash delete %u", k);
				pdeleted[k] += sum_percpu(v, ncpus);
				deletes++;
			}
		}
	}
	atomic_store(&sh->stop, true);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);

	/* the accounting */
	uint64_t runs[NKEYS] = {0}, total = 0;
	for (int i = 0; i < NWORKERS; i++) {
		CHECK(sh->errors[i] == 0, "worker %d: %d failed runs", i, sh->errors[i]);
		for (int k = 0; k < NKEYS; k++)
			runs[k] += sh->runs[i][k];
	}
	for (int k = 0; k < NKEYS; k++)
		total += runs[k];
	int bad = 0;
	for (uint32_t k = 0; k < NKEYS; k++) {
		uint64_t v[8] = {0}, left = 0, pleft = 0;
		if (bee_map_lookup(sh->bee, sh->hash, &k, v) == 0)
			left = v[0];
		memset(v, 0, sizeof(v));
		if (bee_map_lookup(sh->bee, sh->phash, &k, v) == 0)
			pleft = sum_percpu(v, ncpus);
		if ((left + deleted[k] != runs[k] || pleft + pdeleted[k] != runs[k]) && bad++ < 5)
			printf("key %u: %llu runs; hash %llu left + %llu deleted; percpu hash %llu "
			       "left + %llu deleted\n",
			       k, (unsigned long long)runs[k], (unsigned long long)left,
			       (unsigned long long)deleted[k], (unsigned long long)pleft,
			       (unsigned long long)pdeleted[k]);
	}
	CHECK(bad == 0, "engine %d: %d keys whose increments do not add up", engine, bad);
	uint64_t slot_sum = 0;
	for (uint32_t s = 0; s < SLOTS; s++) {
		uint64_t v[8] = {0};
		CHECK(bee_map_lookup(sh->bee, sh->arr, &s, v) == 0, "array lookup %u", s);
		uint64_t sum = sum_percpu(v, ncpus);
		if (s < 8)
			slot_sum += sum;
		else if (s == 8)
			CHECK(sum == total, "engine %d: plain per-CPU counter %llu, %llu runs "
			      "(two running programs shared a CPU slot?)",
			      engine, (unsigned long long)sum, (unsigned long long)total);
		else
			CHECK(sum == 0, "engine %d: %llu inserts failed three times", engine,
			      (unsigned long long)sum);
	}
	CHECK(slot_sum == total, "engine %d: per-CPU array holds %llu increments, %llu runs", engine,
	      (unsigned long long)slot_sum, (unsigned long long)total);
	CHECK(total > 0 && deletes > 0, "engine %d: %llu runs, %u deletes", engine,
	      (unsigned long long)total, deletes);
	printf("engine %s: %llu runs on %d threads, %u phases, %u host walks, %u deletes\n",
	       engine == BEE_ENGINE_JIT ? "jit" : "interp", (unsigned long long)total, NWORKERS,
	       phases, walks, deletes);
out:
	bee_free(sh->bee);
	rmdir(pin_dir);
	free(sh);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned phases = SANITIZED ? 30 : 100;
	unsigned repeat = SANITIZED ? 10 : 25;
	run_scenario(BEE_ENGINE_INTERP, phases, repeat);
	run_scenario(BEE_ENGINE_JIT, phases, repeat);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
