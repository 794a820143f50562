/*
 * helpers.c - the helpers that need the instance: maps, ring buffers,
 * perf event output, for_each_map_elem.
 *
 * Map arguments are map addresses (the core rewrote lddw map forms into
 * them).  A verified program can only pass real maps; a checked one could
 * pass any number, so checked runs look the address up among the
 * program's maps, then the instance's, before touching it.  Key and value
 * pointers are checked with bee_run_mem_ok (always true in fast runs).
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "isa/bpf_ext.h" /* BEE_MAX_CALL_FRAMES */
#include "maps/perf_event_array.h" /* helper-11 */
#include "maps/ringbuf.h"

struct bee_map *bee_helper_map_arg(uint64_t p)
{
	struct bee_run_ctx *rc = bee_run_current();
	struct bee_map *map = u64_to_ptr(p);
	if (!rc)
		return NULL;
	if (!rc->checked)
		return map;
	for (size_t i = 0; i < rc->prog->n_maps; i++)
		if (rc->prog->maps[i] == map)
			return map;
	return bee_is_map(rc->bee, map) ? map : NULL;
}

/* The map, when key (key_size bytes) is readable by the running program. */
static struct bee_map *map_and_key(uint64_t map_arg, uint64_t key)
{
	struct bee_map *map = bee_helper_map_arg(map_arg);
	if (!map || !bee_run_mem_ok(u64_to_ptr(key), map->key_size, false))
		return NULL;
	return map;
}

static uint64_t h_map_lookup_elem(uint64_t m, uint64_t key, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct bee_map *map = map_and_key(m, key);
	if (!map || !map->ops->lookup)
		return 0;
	return (uint64_t)(uintptr_t)map->ops->lookup(map, u64_to_ptr(key));
}

static uint64_t h_map_update_elem(uint64_t m, uint64_t key, uint64_t value, uint64_t flags,
				  uint64_t a5)
{
	struct bee_map *map = map_and_key(m, key);
	if (!map)
		return (uint64_t)-EINVAL;
	if (!bee_run_mem_ok(u64_to_ptr(value), map->value_size, false))
		return (uint64_t)-EFAULT;
	if (map->map_flags & BPF_F_RDONLY_PROG)
		return (uint64_t)-EPERM;
	if (!map->ops->update)
		return (uint64_t)-EINVAL;
	return (uint64_t)map->ops->update(map, u64_to_ptr(key), u64_to_ptr(value), flags);
}

static uint64_t h_map_delete_elem(uint64_t m, uint64_t key, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct bee_map *map = map_and_key(m, key);
	if (!map)
		return (uint64_t)-EINVAL;
	if (map->map_flags & BPF_F_RDONLY_PROG)
		return (uint64_t)-EPERM;
	if (!map->ops->delete)
		return (uint64_t)-EINVAL;
	return (uint64_t)map->ops->delete(map, u64_to_ptr(key));
}

/* push, pop and peek: a whole value in or out */
static struct bee_map *map_and_value(uint64_t m, uint64_t value, bool write)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || !bee_run_mem_ok(u64_to_ptr(value), map->value_size, write))
		return NULL;
	return map;
}

static uint64_t h_map_push_elem(uint64_t m, uint64_t value, uint64_t flags, uint64_t a4,
				uint64_t a5)
{
	struct bee_map *map = map_and_value(m, value, false);
	if (!map || !map->ops->push)
		return (uint64_t)-EINVAL;
	return (uint64_t)map->ops->push(map, u64_to_ptr(value), flags);
}

/* Popping or peeking an empty queue or stack zeroes the program's buffer
 * (the kernel's __queue_map_get / __stack_map_get memset it before
 * returning -ENOENT), so a program reading it after the failure sees 0. */
static long empty_zeroes(struct bee_map *map, uint64_t value, long ret)
{
	if (ret == -ENOENT &&
	    (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK))
		memset(u64_to_ptr(value), 0, map->value_size);
	return ret;
}

static uint64_t h_map_pop_elem(uint64_t m, uint64_t value, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct bee_map *map = map_and_value(m, value, true);
	if (!map || !map->ops->pop)
		return (uint64_t)-EINVAL;
	return (uint64_t)empty_zeroes(map, value, map->ops->pop(map, u64_to_ptr(value)));
}

static uint64_t h_map_peek_elem(uint64_t m, uint64_t value, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct bee_map *map = map_and_value(m, value, true);
	if (!map || !map->ops->peek)
		return (uint64_t)-EINVAL;
	return (uint64_t)empty_zeroes(map, value, map->ops->peek(map, u64_to_ptr(value)));
}

/* bpf_map_lookup_percpu_elem(map, key, cpu): another CPU's copy. */
static uint64_t h_map_lookup_percpu_elem(uint64_t m, uint64_t key, uint64_t cpu, uint64_t a4,
					 uint64_t a5)
{
	struct bee_map *map = map_and_key(m, key);
	if (!map || !bee_map_is_percpu(map->type) || cpu >= map->ncpus)
		return 0;
	unsigned here = bee_cpu_current();
	bee_cpu_set_current((unsigned)cpu);
	void *v = map->ops->lookup(map, u64_to_ptr(key));
	bee_cpu_set_current(here);
	return (uint64_t)(uintptr_t)v;
}

/* ---- bpf_for_each_map_elem(map, callback, ctx, flags) ---- */

struct each_ctx {
	uint64_t fn, ctx;
	int err;
	unsigned char *key_copy; /* checked runs: where the callback reads the key */
};

/*
 * The kernel gives the callback a key it may read (PTR_TO_MAP_KEY,
 * key_size bytes).  Hash keys sit inside elements and array indexes on the
 * helper's C stack, neither of which a checked run may read, so a checked
 * run's callback gets a copy in a thread-local buffer, one per nesting
 * level, granted read-only (the grant outlives the call harmlessly: the
 * buffer lives as long as the thread).
 */
#define EACH_KEY_MAX 512
static __thread unsigned char each_keys[BEE_MAX_CALL_FRAMES][EACH_KEY_MAX];
static __thread unsigned each_depth;

static long each_call(struct bee_map *map, const void *key, void *value, void *arg)
{
	struct each_ctx *e = arg;
	uint64_t r0 = 0;
	if (e->key_copy)
		key = memcpy(e->key_copy, key, map->key_size);
	/* callback(map, key, value, ctx): the key and value may be read
	 * (and the value written) by a checked callback through mem_check. */
	int err = bee_run_callback(e->fn, (uint64_t)(uintptr_t)map, (uint64_t)(uintptr_t)key,
				   (uint64_t)(uintptr_t)value, e->ctx, 0, &r0);
	if (err) {
		e->err = err;
		return 1;
	}
	return r0 == 1;
}

static uint64_t h_for_each_map_elem(uint64_t m, uint64_t fn, uint64_t ctx, uint64_t flags,
				    uint64_t a5)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || !map->ops->for_each)
		return (uint64_t)-EINVAL;
	struct each_ctx e = {fn, ctx, 0, NULL};
	struct bee_run_ctx *rc = bee_run_current();
	bool copy = rc && rc->checked && map->key_size <= EACH_KEY_MAX &&
		    each_depth < BEE_MAX_CALL_FRAMES;
	if (copy) {
		e.key_copy = each_keys[each_depth++];
		(void)bee_run_grant(e.key_copy, map->key_size, false);
	}
	long n = map->ops->for_each(map, each_call, &e, flags);
	if (copy)
		each_depth--;
	return e.err ? (uint64_t)(int64_t)e.err : (uint64_t)n;
}

/* ---- ring buffers ---- */

static uint64_t h_ringbuf_output(uint64_t m, uint64_t data, uint64_t size, uint64_t flags,
				 uint64_t a5)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF)
		return (uint64_t)-EINVAL;
	if (!bee_run_mem_ok(u64_to_ptr(data), size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)bee_ringbuf_output(map, u64_to_ptr(data), size, flags);
}

static uint64_t h_ringbuf_reserve(uint64_t m, uint64_t size, uint64_t flags, uint64_t a4,
				  uint64_t a5)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	return (uint64_t)(uintptr_t)bee_ringbuf_reserve(map, size, flags);
}

/* The record pointer needs no check here, even in checked runs: the ring
 * buffer finds the ring a record belongs to in its registry of live rings
 * and ignores anything that is not a record header in one. */
static uint64_t h_ringbuf_submit(uint64_t data, uint64_t flags, uint64_t a3, uint64_t a4,
				 uint64_t a5)
{
	bee_ringbuf_submit(u64_to_ptr(data), flags);
	return 0;
}

static uint64_t h_ringbuf_discard(uint64_t data, uint64_t flags, uint64_t a3, uint64_t a4,
				  uint64_t a5)
{
	bee_ringbuf_discard(u64_to_ptr(data), flags);
	return 0;
}

static uint64_t h_ringbuf_query(uint64_t m, uint64_t flags, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || map->type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	return bee_ringbuf_query(map, flags);
}

/* bpf_perf_event_output(ctx, map, flags, data, size) */
static uint64_t h_perf_event_output(uint64_t ctx, uint64_t m, uint64_t flags, uint64_t data,
				    uint64_t size)
{
	struct bee_map *map = bee_helper_map_arg(m);
	if (!map || map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return (uint64_t)-EINVAL;
	if (!bee_run_mem_ok(u64_to_ptr(data), size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)bee_perf_event_output(map, flags, u64_to_ptr(data), size);
}

/*
 * The call libbpf (and bee's loader) put in place of an instruction whose
 * CO-RE relocation found nothing to relocate to: the kernel's verifier
 * refuses it only where it is reachable, so `if (bpf_core_field_exists(f))`
 * guards work.  Without a verifier, bee accepts it at load and stops the run
 * if it is ever reached.
 */
#define BEE_CORE_POISON_ID 195896080 /* 0xbad2310 */

static uint64_t h_core_poison(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	bee_run_abort(-EINVAL, "reached an instruction whose CO-RE relocation could not be "
			       "resolved (poisoned at load: call 0xbad2310)");
	return 0;
}

#define ANY BEE_ARG_ANYTHING
#define MAP BEE_ARG_MAP
#define KEY BEE_ARG_MAP_KEY
#define VALUE BEE_ARG_MAP_VALUE
#define VALUE_OUT BEE_ARG_MAP_VALUE_OUT

int bee_core_add_helpers(struct bee_helper_table *t)
{
	static const struct bee_helper helpers[] = {
		{BEE_CORE_POISON_ID, "bpf_core_poisoned", h_core_poison, BEE_RET_VOID, {0}, false},
		{BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", h_map_lookup_elem,
		 BEE_RET_MAP_VALUE_OR_NULL, {MAP, KEY}, false},
		{BPF_FUNC_map_update_elem, "bpf_map_update_elem", h_map_update_elem,
		 BEE_RET_INTEGER, {MAP, KEY, VALUE, ANY}, false},
		{BPF_FUNC_map_delete_elem, "bpf_map_delete_elem", h_map_delete_elem,
		 BEE_RET_INTEGER, {MAP, KEY}, false},
		{BPF_FUNC_map_push_elem, "bpf_map_push_elem", h_map_push_elem,
		 BEE_RET_INTEGER, {MAP, VALUE, ANY}, false},
		{BPF_FUNC_map_pop_elem, "bpf_map_pop_elem", h_map_pop_elem,
		 BEE_RET_INTEGER, {MAP, VALUE_OUT}, false},
		{BPF_FUNC_map_peek_elem, "bpf_map_peek_elem", h_map_peek_elem,
		 BEE_RET_INTEGER, {MAP, VALUE_OUT}, false},
		{BPF_FUNC_map_lookup_percpu_elem, "bpf_map_lookup_percpu_elem",
		 h_map_lookup_percpu_elem, BEE_RET_MAP_VALUE_OR_NULL, {MAP, KEY, ANY}, false},
		{BPF_FUNC_for_each_map_elem, "bpf_for_each_map_elem", h_for_each_map_elem,
		 BEE_RET_INTEGER, {MAP, BEE_ARG_FUNC, BEE_ARG_STACK_OR_NULL, ANY}, false},
		{BPF_FUNC_ringbuf_output, "bpf_ringbuf_output", h_ringbuf_output,
		 BEE_RET_INTEGER, {MAP, BEE_ARG_MEM, BEE_ARG_SIZE_OR_ZERO, ANY}, false},
		{BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", h_ringbuf_reserve,
		 BEE_RET_MEM_OR_NULL, {MAP, BEE_ARG_SIZE, ANY}, false},
		{BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", h_ringbuf_submit,
		 BEE_RET_VOID, {BEE_ARG_RINGBUF_MEM, ANY}, false},
		{BPF_FUNC_ringbuf_discard, "bpf_ringbuf_discard", h_ringbuf_discard,
		 BEE_RET_VOID, {BEE_ARG_RINGBUF_MEM, ANY}, false},
		{BPF_FUNC_ringbuf_query, "bpf_ringbuf_query", h_ringbuf_query,
		 BEE_RET_INTEGER, {MAP, ANY}, false},
		{BPF_FUNC_perf_event_output, "bpf_perf_event_output", h_perf_event_output,
		 BEE_RET_INTEGER, {BEE_ARG_CTX, MAP, ANY, BEE_ARG_MEM, BEE_ARG_SIZE_OR_ZERO}, true},
	};
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		int err = bee_helper_table_add(t, &helpers[i]);
		if (err)
			return err;
	}
	return 0;
}
