/*
 * map.c - what every map shares: the type table, BPF_MAP_CREATE's common
 * checks, and the host-side operations (checks, then the type's ops).
 *
 * The checks and errno values follow the kernel's map_create() and
 * map_{lookup,update,delete}_elem(): -EINVAL for a bad attribute, -EPERM
 * for a write through a read-only map or to a frozen one, -ENOTSUPP (524)
 * where a map type lacks an operation the kernel also lacks for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map.h"
#include "util/epoch.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "operation not supported" */
#endif

extern const struct bee_map_ops bee_array_map_ops, bee_percpu_array_map_ops;
extern const struct bee_map_ops bee_prog_array_map_ops, bee_array_of_maps_map_ops;
extern const struct bee_map_ops bee_htab_map_ops, bee_percpu_htab_map_ops, bee_lru_htab_map_ops,
	bee_lru_percpu_htab_map_ops, bee_htab_of_maps_map_ops;
extern const struct bee_map_ops bee_queue_map_ops, bee_stack_map_ops, bee_bloom_filter_map_ops,
	bee_lpm_trie_map_ops, bee_ringbuf_map_ops, bee_perf_event_array_map_ops;

static const struct bee_map_ops *const map_types[] = {
	[BPF_MAP_TYPE_ARRAY] = &bee_array_map_ops,
	[BPF_MAP_TYPE_PERCPU_ARRAY] = &bee_percpu_array_map_ops,
	[BPF_MAP_TYPE_PROG_ARRAY] = &bee_prog_array_map_ops,
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = &bee_array_of_maps_map_ops,
	[BPF_MAP_TYPE_HASH] = &bee_htab_map_ops,
	[BPF_MAP_TYPE_PERCPU_HASH] = &bee_percpu_htab_map_ops,
	[BPF_MAP_TYPE_LRU_HASH] = &bee_lru_htab_map_ops,
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = &bee_lru_percpu_htab_map_ops,
	[BPF_MAP_TYPE_HASH_OF_MAPS] = &bee_htab_of_maps_map_ops,
	[BPF_MAP_TYPE_QUEUE] = &bee_queue_map_ops,
	[BPF_MAP_TYPE_STACK] = &bee_stack_map_ops,
	[BPF_MAP_TYPE_BLOOM_FILTER] = &bee_bloom_filter_map_ops,
	[BPF_MAP_TYPE_LPM_TRIE] = &bee_lpm_trie_map_ops,
	[BPF_MAP_TYPE_RINGBUF] = &bee_ringbuf_map_ops,
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = &bee_perf_event_array_map_ops,
};

const struct bee_map_ops *bee_map_ops_of(enum bpf_map_type type)
{
	if ((unsigned)type >= sizeof(map_types) / sizeof(map_types[0]))
		return NULL;
	return map_types[type];
}

bool bee_map_inner_matches(const struct bee_map *outer, const struct bee_map *inner)
{
	return inner->type == outer->inner_type && inner->key_size == outer->inner_key_size &&
	       inner->value_size == outer->inner_value_size &&
	       (inner->map_flags & ~BPF_F_INNER_MAP) ==
		       (outer->inner_map_flags & ~BPF_F_INNER_MAP) &&
	       ((outer->inner_map_flags & BPF_F_INNER_MAP) ||
		inner->max_entries == outer->inner_max_entries);
}

bool bee_map_is_percpu(enum bpf_map_type type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

uint32_t bee_map_sys_value_size(const struct bee_map *map)
{
	if (bee_map_is_percpu(map->type))
		return bee_percpu_value_size(map) * map->ncpus;
	if (map->ops->fd_valued)
		return 4; /* a handle in, an id out */
	return map->value_size;
}

struct bee_map *bee_map_create_attr(const union bpf_attr *attr, unsigned ncpus,
				    const struct bee_map *inner, int *err)
{
	const struct bee_map_ops *ops = bee_map_ops_of(attr->map_type);
	char name[BPF_OBJ_NAME_LEN];
	*err = -EINVAL;
	if (!ops)
		return NULL;
	if (attr->map_type != BPF_MAP_TYPE_BLOOM_FILTER && attr->map_extra)
		return NULL;
	if ((attr->map_flags & BPF_F_RDONLY) && (attr->map_flags & BPF_F_WRONLY))
		return NULL;
	if ((attr->map_flags & BPF_F_RDONLY_PROG) && (attr->map_flags & BPF_F_WRONLY_PROG))
		return NULL;
	if (!(attr->map_flags & BPF_F_NUMA_NODE) && attr->numa_node)
		return NULL;
	if ((*err = bee_obj_name_copy(name, attr->map_name)) < 0)
		return NULL;
	struct bee_map *map = ops->alloc(attr, ncpus, err);
	if (!map)
		return NULL;
	map->obj.kind = BEE_OBJ_MAP;
	atomic_init(&map->obj.refcnt, 1);
	map->ops = ops;
	map->type = attr->map_type;
	map->key_size = attr->key_size;
	map->value_size = attr->value_size;
	map->max_entries = attr->max_entries;
	map->map_flags = attr->map_flags;
	map->map_extra = attr->map_extra;
	map->ncpus = ncpus;
	memcpy(map->name, name, sizeof(name));
	if (inner) {
		map->inner_type = inner->type;
		map->inner_key_size = inner->key_size;
		map->inner_value_size = inner->value_size;
		map->inner_max_entries = inner->max_entries;
		map->inner_map_flags = inner->map_flags;
	}
	*err = 0;
	return map;
}

int bee_map_check_update_flags(uint64_t flags)
{
	if (flags & BPF_F_LOCK)
		return -EINVAL; /* no value has a bpf_spin_lock (the kernel's answer then) */
	if (flags > BPF_EXIST)
		return -EINVAL;
	return 0;
}

void bee_value_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	/* Map values are 8-byte aligned (every map type keeps them so);
	 * private buffers need not be, hence memcpy on that side. */
	if (((uintptr_t)d | (uintptr_t)s) % 8 == 0) {
		for (; n >= 8; n -= 8, d += 8, s += 8) {
			uint64_t w = __atomic_load_n((const uint64_t *)s, __ATOMIC_RELAXED);
			__atomic_store_n((uint64_t *)d, w, __ATOMIC_RELAXED);
		}
	}
	for (; n; n--, d++, s++)
		__atomic_store_n(d, __atomic_load_n(s, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

int bee_map_sys_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags)
{
	if (flags)
		return -EINVAL; /* BPF_F_LOCK included: no map value has a bpf_spin_lock yet */
	int ret;
	bee_epoch_enter();
	if (map->ops->sys_lookup) {
		ret = map->ops->sys_lookup(map, key, value, flags);
	} else if (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK) {
		ret = map->ops->peek(map, value);
	} else if (map->ops->lookup) {
		void *v = map->ops->lookup(map, key);
		ret = v ? 0 : -ENOENT;
		if (v)
			bee_value_copy(value, v, map->value_size);
	} else {
		ret = -ENOTSUPP;
	}
	bee_epoch_exit();
	return ret;
}

int bee_map_sys_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	int ret;
	bee_epoch_enter();
	if (map->ops->sys_update)
		ret = map->ops->sys_update(map, key, value, flags);
	else if (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK ||
		 map->type == BPF_MAP_TYPE_BLOOM_FILTER)
		ret = (int)map->ops->push(map, value, flags);
	else if (map->ops->update)
		ret = (int)map->ops->update(map, key, value, flags);
	else
		ret = -ENOTSUPP;
	bee_epoch_exit();
	return ret;
}

int bee_map_sys_delete(struct bee_map *map, const void *key)
{
	int ret;
	bee_epoch_enter();
	ret = map->ops->delete ? (int)map->ops->delete(map, key) : -ENOTSUPP;
	bee_epoch_exit();
	return ret;
}

int bee_map_sys_get_next_key(struct bee_map *map, const void *key, void *next_key)
{
	int ret;
	bee_epoch_enter();
	ret = map->ops->get_next_key ? map->ops->get_next_key(map, key, next_key) : -ENOTSUPP;
	bee_epoch_exit();
	return ret;
}

int bee_map_sys_lookup_and_delete(struct bee_map *map, const void *key, void *value,
				  uint64_t flags)
{
	int ret;
	bee_epoch_enter();
	if (map->type == BPF_MAP_TYPE_QUEUE || map->type == BPF_MAP_TYPE_STACK)
		ret = flags ? -EINVAL : (int)map->ops->pop(map, value);
	else if (map->ops->sys_lookup_and_delete)
		ret = map->ops->sys_lookup_and_delete(map, key, value, flags);
	else
		ret = -ENOTSUPP;
	bee_epoch_exit();
	return ret;
}

/* ---- the CPU slot of the running program ---- */

static __thread unsigned current_cpu;

unsigned bee_cpu_current(void)
{
	return current_cpu;
}

void bee_cpu_set_current(unsigned cpu)
{
	current_cpu = cpu;
}
