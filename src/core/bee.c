/*
 * bee.c - instances: objects by id, handles, CPU slots.
 *
 * Ids: one sequence per kind (programs, maps, links and BTF objects each
 * count from 1, as the kernel's idrs do), never reused.  One exception,
 * for pins: recreating a pinned object from its file (pin.c) may ask for
 * the id the object had when it was pinned (bee_obj_request_id); it gets
 * that id when no live object of the kind holds it and the sequence then
 * continues above it, so ids stay unique and later ones still grow.  The id table
 * lists every live object in id order; an object leaves it when its last
 * reference goes, and is freed a grace period later (util/epoch.h), so a
 * run that still holds it never sees it freed.
 *
 * Handles: the lowest free number, from 3 on (0-2 look like the standard
 * streams to code written for the kernel's fds, and libbpf treats fd 0 as
 * suspicious).  Each holds one reference.
 *
 * CPU slots: per-CPU map values and bpf_get_smp_processor_id need "the
 * CPU a program runs on", exclusive while it runs (the kernel disables
 * migration).  A run takes a free slot, preferring the CPU the thread is
 * on; runs nested on one thread (a helper running another program) keep
 * the outer run's slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "util/epoch.h"

#define BEE_MAX_HANDLES 65536
#define FIRST_HANDLE 3

static const char *default_pin_dir(char *buf, size_t len)
{
	const char *env = getenv("BEE_PIN_DIR");
	if (env && *env)
		return env;
	snprintf(buf, len, "/tmp/bee-pins-%u", (unsigned)getuid());
	return buf;
}

struct bee *bee_new(const struct bee_opts *opts)
{
	struct bee_opts o = {0};
	if (opts) {
		if (opts->sz < sizeof(size_t)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	}
	if (o.engine != BEE_ENGINE_INTERP && o.engine != BEE_ENGINE_JIT) {
		errno = EINVAL;
		return NULL;
	}
	struct bee *bee = calloc(1, sizeof(*bee));
	if (!bee) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&bee->lock, NULL);
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	bee->ncpus = o.ncpus ? o.ncpus : (online > 0 ? (unsigned)online : 1);
	bee->engine = o.engine;
	bee->trusted_fast_path = o.trusted_fast_path;
	/* UINT64_MAX asks for no budget, which the engines spell 0 */
	bee->max_insns = !o.max_insns ? BEE_DEFAULT_MAX_INSNS
			 : o.max_insns == UINT64_MAX ? 0 : o.max_insns;
	char buf[64];
	bee->pin_dir = strdup(o.pin_dir ? o.pin_dir : default_pin_dir(buf, sizeof(buf)));
	bee->cpu_busy = calloc(bee->ncpus, sizeof(*bee->cpu_busy));
	bee->helpers = bee_helper_table_new();
	bee->trace = bee_trace_pipe_new();
	if (!bee->pin_dir || !bee->cpu_busy || !bee->helpers || !bee->trace ||
	    bee_helper_table_add_builtins(bee->helpers) < 0 || bee_core_add_helpers(bee->helpers) < 0) {
		bee_free(bee);
		errno = ENOMEM;
		return NULL;
	}
	return bee;
}

void bee_free(struct bee *bee)
{
	if (!bee)
		return;
	bee_pins_flush(bee);
	/* Drop every handle, then every pin: objects whose last reference
	 * that was go away (and drop what they hold in turn). */
	for (int fd = 0; fd < bee->n_handles; fd++)
		if (bee->handles[fd])
			bee_close(bee, fd);
	bee_pins_free(bee);
	bee_epoch_barrier();
	free(bee->handles);
	free(bee->by_id.v);
	free(bee->pin_dir);
	free(bee->cpu_busy);
	bee_helper_table_free(bee->helpers);
	bee_trace_pipe_free(bee->trace);
	bee_hooks_free(bee);
	pthread_mutex_destroy(&bee->lock);
	free(bee);
}

int bee_add_helper(struct bee *bee, const struct bee_helper *helper)
{
	if (!bee)
		return -EINVAL;
	pthread_mutex_lock(&bee->lock);
	int ret = bee_helper_table_add(bee->helpers, helper);
	pthread_mutex_unlock(&bee->lock);
	return ret;
}

/* ---- objects by id ---- */

/* The id the next bee_obj_register on this thread should try (0: none). */
static _Thread_local uint32_t requested_id;

void bee_obj_request_id(uint32_t id)
{
	requested_id = id;
}

static bool id_taken(const struct obj_table *t, enum bee_obj_kind kind, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i]->kind == kind && t->v[i]->id == id)
			return true;
	return false;
}

int bee_obj_register(struct bee *bee, struct bee_obj *obj, void (*destroy)(struct bee_obj *))
{
	uint32_t want = requested_id;
	requested_id = 0;
	obj->destroy = destroy;
	pthread_mutex_lock(&bee->lock);
	struct obj_table *t = &bee->by_id;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct bee_obj **v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&bee->lock);
			return -ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	if (want && !id_taken(t, obj->kind, want)) {
		obj->id = want;
		if (want > bee->next_id[obj->kind])
			bee->next_id[obj->kind] = want;
	} else {
		obj->id = ++bee->next_id[obj->kind];
	}
	t->v[t->n++] = obj; /* lookups scan: order does not matter */
	pthread_mutex_unlock(&bee->lock);
	return 0;
}

/* Take obj off the id table (its last reference is gone). */
void bee_obj_unregister(struct bee *bee, struct bee_obj *obj)
{
	pthread_mutex_lock(&bee->lock);
	struct obj_table *t = &bee->by_id;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i] == obj) {
			memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
			t->n--;
			break;
		}
	}
	pthread_mutex_unlock(&bee->lock);
}

int bee_obj_next_id(struct bee *bee, enum bee_obj_kind kind, uint32_t start, uint32_t *next)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&bee->lock);
	for (size_t i = 0; i < bee->by_id.n; i++) {
		struct bee_obj *o = bee->by_id.v[i];
		if (o->kind == kind && o->id > start && (ret < 0 || o->id < *next)) {
			*next = o->id;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&bee->lock);
	return ret;
}

struct bee_obj *bee_obj_by_id(struct bee *bee, enum bee_obj_kind kind, uint32_t id)
{
	struct bee_obj *found = NULL;
	pthread_mutex_lock(&bee->lock);
	for (size_t i = 0; i < bee->by_id.n; i++) {
		struct bee_obj *o = bee->by_id.v[i];
		if (o->kind == kind && o->id == id) {
			if (bee_obj_tryget(o))
				found = o;
			break;
		}
	}
	pthread_mutex_unlock(&bee->lock);
	return found;
}

bool bee_any_map(struct bee *bee, bool (*pred)(struct bee_map *map, void *arg), void *arg)
{
	bool found = false;
	pthread_mutex_lock(&bee->lock);
	for (size_t i = 0; i < bee->by_id.n && !found; i++) {
		struct bee_obj *o = bee->by_id.v[i];
		found = o->kind == BEE_OBJ_MAP && pred((struct bee_map *)o, arg);
	}
	pthread_mutex_unlock(&bee->lock);
	return found;
}

static bool is_this_map(struct bee_map *map, void *p)
{
	return map == p;
}

bool bee_is_map(struct bee *bee, const void *p)
{
	return bee_any_map(bee, is_this_map, (void *)p);
}

/* ---- handles ---- */

int bee_handle_new(struct bee *bee, struct bee_obj *obj)
{
	pthread_mutex_lock(&bee->lock);
	int fd;
	for (fd = FIRST_HANDLE; fd < bee->n_handles; fd++)
		if (!bee->handles[fd])
			break;
	if (fd >= bee->n_handles) {
		if (fd >= BEE_MAX_HANDLES) {
			pthread_mutex_unlock(&bee->lock);
			return -EMFILE;
		}
		int n = bee->n_handles ? bee->n_handles * 2 : 64;
		struct bee_obj **h = realloc(bee->handles, (size_t)n * sizeof(*h));
		if (!h) {
			pthread_mutex_unlock(&bee->lock);
			return -ENOMEM;
		}
		memset(h + bee->n_handles, 0, (size_t)(n - bee->n_handles) * sizeof(*h));
		bee->handles = h;
		bee->n_handles = n;
	}
	bee->handles[fd] = obj;
	if (obj->kind == BEE_OBJ_MAP)
		atomic_fetch_add(&((struct bee_map *)obj)->usercnt, 1);
	pthread_mutex_unlock(&bee->lock);
	return fd;
}

struct bee_obj *bee_handle_get(struct bee *bee, int fd, enum bee_obj_kind kind)
{
	struct bee_obj *obj = NULL;
	pthread_mutex_lock(&bee->lock);
	if (fd >= 0 && fd < bee->n_handles && bee->handles[fd] &&
	    (!kind || bee->handles[fd]->kind == kind)) {
		obj = bee->handles[fd];
		bee_obj_hold(obj);
	}
	pthread_mutex_unlock(&bee->lock);
	return obj;
}

struct bee_map *bee_map_get_fd(struct bee *bee, int fd)
{
	return (struct bee_map *)bee_handle_get(bee, fd, BEE_OBJ_MAP);
}

struct bee_prog *bee_prog_get_fd(struct bee *bee, int fd)
{
	return (struct bee_prog *)bee_handle_get(bee, fd, BEE_OBJ_PROG);
}

int bee_close(struct bee *bee, int fd)
{
	if (!bee)
		return -EINVAL;
	pthread_mutex_lock(&bee->lock);
	struct bee_obj *obj = NULL;
	if (fd >= 0 && fd < bee->n_handles) {
		obj = bee->handles[fd];
		bee->handles[fd] = NULL;
	}
	pthread_mutex_unlock(&bee->lock);
	if (!obj)
		return -EBADF;
	if (obj->kind == BEE_OBJ_MAP &&
	    atomic_fetch_sub(&((struct bee_map *)obj)->usercnt, 1) == 1)
		bee_map_release_uref((struct bee_map *)obj);
	bee_obj_put(obj);
	return 0;
}

/* ---- CPU slots ---- */

static __thread struct {
	struct bee *bee;
	unsigned cpu;
	unsigned depth;
} cpu_owner;

unsigned bee_cpu_acquire(struct bee *bee)
{
	if (cpu_owner.depth && cpu_owner.bee == bee) {
		cpu_owner.depth++;
		return cpu_owner.cpu;
	}
	int here = sched_getcpu();
	unsigned start = here < 0 ? 0 : (unsigned)here % bee->ncpus;
	for (;;) {
		for (unsigned i = 0; i < bee->ncpus; i++) {
			unsigned cpu = (start + i) % bee->ncpus;
			int expected = 0;
			if (!atomic_load_explicit(&bee->cpu_busy[cpu], memory_order_relaxed) &&
			    atomic_compare_exchange_strong(&bee->cpu_busy[cpu], &expected, 1)) {
				if (cpu_owner.depth)
					return cpu; /* inside another instance's run */
				cpu_owner.bee = bee;
				cpu_owner.cpu = cpu;
				cpu_owner.depth = 1;
				return cpu;
			}
		}
		sched_yield(); /* more running threads than CPUs: wait for a slot */
	}
}

void bee_cpu_release(struct bee *bee, unsigned cpu)
{
	if (cpu_owner.bee != bee) {
		atomic_store_explicit(&bee->cpu_busy[cpu], 0, memory_order_release);
		return;
	}
	if (--cpu_owner.depth == 0) {
		cpu_owner.bee = NULL;
		atomic_store_explicit(&bee->cpu_busy[cpu], 0, memory_order_release);
	}
}
