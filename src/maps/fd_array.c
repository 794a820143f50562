/*
 * fd_array.c - arrays whose host-side values are handles: PROG_ARRAY
 * (tail-call targets) and ARRAY_OF_MAPS.
 *
 * Each slot holds an object pointer with one reference, swapped in and out
 * atomically; the reference a swap drops is put after the swap, and the
 * object itself is freed only after a grace period (obj.h), so a program
 * that just tail-called into it or looked it up keeps a valid pointer to
 * the end of its run.
 *
 * From the host, updates take a handle (u32) and lookups return the
 * object's id, as the kernel does; programs look up an ARRAY_OF_MAPS slot
 * to get the inner map itself, and reach PROG_ARRAY only through
 * bpf_tail_call.  A prog array remembers the type of its first program and
 * takes only programs of that type; when its last handle or pin goes it
 * empties itself (the kernel's cure for prog <-> prog-array cycles).
 */
#include <errno.h>
#include <stdlib.h>

#include "maps/array.h"

struct fd_array {
	struct bee_map map;
	_Atomic int owner_type;        /* prog arrays: 0 until the first program */
	struct bee_obj *_Atomic *slots;
};

static struct fd_array *fd_array_of(const struct bee_map *map)
{
	return (struct fd_array *)map;
}

static struct bee_map *fd_array_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	*err = -EINVAL;
	if (attr->max_entries == 0 || attr->key_size != 4 || attr->value_size != 4)
		return NULL;
	if (attr->map_flags & ~(uint32_t)(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY |
					  BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return NULL;
	struct fd_array *a = calloc(1, sizeof(*a));
	if (a)
		a->slots = calloc(attr->max_entries, sizeof(*a->slots));
	if (!a || !a->slots) {
		free(a);
		*err = -ENOMEM;
		return NULL;
	}
	return &a->map;
}

static void fd_array_clear(struct bee_map *map)
{
	struct fd_array *a = fd_array_of(map);
	for (uint32_t i = 0; i < map->max_entries; i++)
		bee_obj_put(atomic_exchange(&a->slots[i], NULL));
}

static void fd_array_free(struct bee_map *map)
{
	fd_array_clear(map);
	free(fd_array_of(map)->slots);
	free(map);
}

/* The object in slot index (no reference: valid in a read section), or NULL. */
static struct bee_obj *slot_get(struct bee_map *map, uint64_t index)
{
	if (index >= map->max_entries)
		return NULL;
	return atomic_load_explicit(&fd_array_of(map)->slots[index], memory_order_acquire);
}

static struct bee_obj *fd_array_lookup_obj(struct bee_map *map, const void *key)
{
	return slot_get(map, bee_map_key_u32(key));
}

static void *map_of_maps_lookup(struct bee_map *map, const void *key)
{
	return fd_array_lookup_obj(map, key); /* the inner map itself */
}

static void *prog_array_lookup(struct bee_map *map, const void *key)
{
	return NULL; /* programs reach prog arrays only through bpf_tail_call */
}

struct bee_obj *bee_prog_array_get(struct bee_map *map, uint64_t index)
{
	return map->type == BPF_MAP_TYPE_PROG_ARRAY ? slot_get(map, index) : NULL;
}

static int fd_array_update(struct bee_map *map, const void *key, struct bee_obj *obj,
			   uint64_t flags)
{
	uint32_t index = bee_map_key_u32(key);
	if (flags != BPF_ANY)
		return -EINVAL; /* the kernel's bpf_fd_array_map_update_elem */
	if (index >= map->max_entries)
		return -E2BIG;
	bee_obj_put(atomic_exchange(&fd_array_of(map)->slots[index], obj));
	return 0;
}


static long fd_array_delete(struct bee_map *map, const void *key)
{
	uint32_t index = bee_map_key_u32(key);
	if (index >= map->max_entries)
		return -E2BIG;
	struct bee_obj *old = atomic_exchange(&fd_array_of(map)->slots[index], NULL);
	if (!old)
		return -ENOENT;
	bee_obj_put(old);
	return 0;
}


int bee_prog_array_check_owner(struct bee_map *map, int prog_type)
{
	struct fd_array *a = fd_array_of(map);
	int expected = 0;
	if (atomic_compare_exchange_strong(&a->owner_type, &expected, prog_type))
		return 0;
	return expected == prog_type ? 0 : -EINVAL;
}

void bee_map_release_uref(struct bee_map *map)
{
	if (map->type == BPF_MAP_TYPE_PROG_ARRAY)
		fd_array_clear(map);
}

const struct bee_map_ops bee_prog_array_map_ops = {
	.alloc = fd_array_alloc,
	.free = fd_array_free,
	.lookup = prog_array_lookup,
	.delete = fd_array_delete,
	.get_next_key = bee_array_get_next_key, /* u32 indexes, as arrays */
	.fd_valued = true,
	.fd_update = fd_array_update,
	.fd_lookup = fd_array_lookup_obj,
};

const struct bee_map_ops bee_array_of_maps_map_ops = {
	.alloc = fd_array_alloc,
	.free = fd_array_free,
	.lookup = map_of_maps_lookup,
	.delete = fd_array_delete,
	.get_next_key = bee_array_get_next_key, /* u32 indexes, as arrays */
	.fd_valued = true,
	.fd_update = fd_array_update,
	.fd_lookup = fd_array_lookup_obj,
};
