/*
 * map.h - the maps layer: every map type behind one table of operations.
 *
 * A map type implements struct bee_map_ops in its own file (array.c,
 * hash.c, ...) and embeds struct bee_map as the first member of its own
 * struct.  map.c holds the table from enum bpf_map_type to ops, the checks
 * every map shares (attribute validation, BPF_F_RDONLY/WRONLY, frozen
 * maps) and the host-side (syscall) wrappers.
 *
 * Two callers, two views of a value:
 *  - programs (through helpers): lookup returns a pointer into the map
 *    (for per-CPU maps, to the running CPU's copy) that stays valid until
 *    the program's run ends; update/delete take one value.
 *  - the host (through bee_bpf): values are copied in and out; for per-CPU
 *    maps the buffer holds ncpus values, each rounded up to 8 bytes, as in
 *    the kernel.
 *
 * Concurrency: programs may run on several threads while the host reads
 * and updates.  Every operation must be safe against every other.  Memory
 * a reader may still hold (a hash element just deleted, a replaced value)
 * is freed through bee_epoch_defer (util/epoch.h); program runs and host
 * operations are read-side sections.  Values are shared memory that
 * programs write directly, as in the kernel: host copies of values use
 * bee_value_copy (word-wise relaxed atomics) so that a torn read is the
 * only possible outcome of a race, never undefined behaviour.
 *
 * Per-CPU: bee_cpu_current() is the CPU slot of the running program
 * (0 <= cpu < map->ncpus, exclusive to one running thread at a time).
 */
#ifndef BEE_MAPS_MAP_H
#define BEE_MAPS_MAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/bpf.h>

#include "util/obj.h"

struct bee_map;

/* Called for each element by for_each: return 0 to go on, 1 to stop. */
typedef long (*bee_map_each_fn)(struct bee_map *map, const void *key, void *value, void *ctx);

struct bee_map_ops {
	/*
	 * Check attr (the common checks in map.c already passed: key, value
	 * and max_entries sizes as generic rules allow, known flags) and
	 * allocate.  Returns the new map (its struct bee_map zeroed but for
	 * what alloc sets; map.c fills the common fields afterwards) or NULL
	 * with *err set (-EINVAL, -E2BIG, -ENOMEM as the kernel would say).
	 */
	struct bee_map *(*alloc)(const union bpf_attr *attr, unsigned ncpus, int *err);
	/* Free everything.  Called once no reader can reach the map. */
	void (*free)(struct bee_map *map);

	/* ---- programs ---- */
	/* Pointer to key's value (this CPU's for per-CPU maps), or NULL. */
	void *(*lookup)(struct bee_map *map, const void *key);
	/* One value (this CPU's for per-CPU maps).  flags: BPF_ANY,
	 * BPF_NOEXIST, BPF_EXIST (and BPF_F_LOCK, refused for now). */
	long (*update)(struct bee_map *map, const void *key, const void *value, uint64_t flags);
	long (*delete)(struct bee_map *map, const void *key);
	/* STACK, QUEUE, BLOOM_FILTER (push = add, peek = check). */
	long (*push)(struct bee_map *map, const void *value, uint64_t flags);
	long (*pop)(struct bee_map *map, void *value);
	long (*peek)(struct bee_map *map, void *value);
	/* bpf_for_each_map_elem: number of elements visited, or -errno. */
	long (*for_each)(struct bee_map *map, bee_map_each_fn fn, void *ctx, uint64_t flags);

	/* ---- the host (NULL: derived from the program operations) ---- */
	/* Copy key's value(s) out (all CPUs' for per-CPU maps).  NULL: lookup
	 * and copy value_size bytes. */
	int (*sys_lookup)(struct bee_map *map, const void *key, void *value, uint64_t flags);
	/* Values of all CPUs for per-CPU maps.  NULL: update. */
	int (*sys_update)(struct bee_map *map, const void *key, const void *value, uint64_t flags);
	int (*sys_lookup_and_delete)(struct bee_map *map, const void *key, void *value,
				     uint64_t flags);
	/* key NULL (or not found, for hashes): the first key.  -ENOENT at the end. */
	int (*get_next_key)(struct bee_map *map, const void *key, void *next_key);

	/* ---- checked runs ---- */
	/* Is [addr, addr + size) inside one value of this map that a
	 * program may touch?  (Called when a checked program's access falls
	 * outside its stack and granted regions.) */
	bool (*value_ok)(const struct bee_map *map, uintptr_t addr, size_t size);
	/* lddw map_value (BPF_PSEUDO_MAP_VALUE): the address of the value at
	 * offset off (array maps only; -EINVAL otherwise). */
	int (*direct_value_addr)(const struct bee_map *map, uint64_t *addr, uint32_t off);

	/* ---- maps whose host-side values are handles (prog array,
	 * map-in-map): the core turns the handle into an object reference
	 * and calls these; the map drops a reference it replaces or deletes
	 * with bee_obj_put. ---- */
	bool fd_valued;
	int (*fd_update)(struct bee_map *map, const void *key, struct bee_obj *obj, uint64_t flags);
	/* The object at key (no reference taken; valid in a read section). */
	struct bee_obj *(*fd_lookup)(struct bee_map *map, const void *key);
};

/* An array-like map's 4-byte key: a program's key may sit at any stack
 * offset, so it is read without assuming alignment. */
static inline uint32_t bee_map_key_u32(const void *key)
{
	uint32_t v;
	memcpy(&v, key, sizeof(v));
	return v;
}

struct bee_map {
	struct bee_obj obj;           /* kind BEE_OBJ_MAP; id, references */
	const struct bee_map_ops *ops;
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
	unsigned ncpus;               /* per-CPU maps: how many copies */
	char name[BPF_OBJ_NAME_LEN];
	/* BTF of keys and values (BPF_MAP_CREATE's btf_fd and type ids): the
	 * core checks them and holds the BTF object (one reference; its id
	 * is the map's btf_id), NULL without. */
	uint32_t btf_key_type_id, btf_value_type_id;
	struct bee_btf *btf;
	/* map-in-map: the shape every inner map must have */
	enum bpf_map_type inner_type;
	uint32_t inner_key_size, inner_value_size, inner_max_entries, inner_map_flags;
	_Atomic bool frozen;
	void *owner;                  /* the instance (the core's business) */
	/* Handles and pins (not program references): when the last goes, a
	 * prog array drops its programs, breaking prog <-> map cycles as the
	 * kernel does. */
	_Atomic long usercnt;
};

/* PROG_ARRAY (fd_array.c): the program at index (no reference; valid in
 * a read-side section), or NULL. */
struct bee_obj *bee_prog_array_get(struct bee_map *map, uint64_t index);
/* A prog array takes programs of one type: the first one's.  0 or -EINVAL. */
int bee_prog_array_check_owner(struct bee_map *map, int prog_type);
/* Called when the last handle or pin of a map goes (usercnt reached 0). */
void bee_map_release_uref(struct bee_map *map);

/* The ops of a map type, or NULL when bee does not have it. */
const struct bee_map_ops *bee_map_ops_of(enum bpf_map_type type);

/*
 * Create a map from BPF_MAP_CREATE's attributes (the core passes an
 * inner map template for map-in-map types, else NULL).  Common checks,
 * then ops->alloc.  Returns the map with one reference, or NULL with *err.
 */
struct bee_map *bee_map_create_attr(const union bpf_attr *attr, unsigned ncpus,
				    const struct bee_map *inner, int *err);

/* Size of one value in a host-side per-CPU buffer, and of the buffer. */
static inline uint32_t bee_percpu_value_size(const struct bee_map *map)
{
	return (map->value_size + 7) & ~7u;
}
bool bee_map_is_percpu(enum bpf_map_type type);
/* May inner go into the map-in-map outer?  The kernel's
 * bpf_map_meta_equal: the inner template's type, key and value sizes and
 * flags, and max_entries unless the template has BPF_F_INNER_MAP. */
bool bee_map_inner_matches(const struct bee_map *outer, const struct bee_map *inner);
/* Bytes a host lookup/update value buffer has for this map. */
uint32_t bee_map_sys_value_size(const struct bee_map *map);

/* Host operations: common checks, then ops (inside an epoch section). */
int bee_map_sys_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags);
int bee_map_sys_update(struct bee_map *map, const void *key, const void *value, uint64_t flags);
int bee_map_sys_delete(struct bee_map *map, const void *key);
int bee_map_sys_get_next_key(struct bee_map *map, const void *key, void *next_key);
int bee_map_sys_lookup_and_delete(struct bee_map *map, const void *key, void *value,
				  uint64_t flags);

/* Check update flags the way every map does: BPF_ANY/NOEXIST/EXIST only
 * (plus BPF_F_LOCK, refused: no spin locks yet). */
int bee_map_check_update_flags(uint64_t flags);

/* Copy n bytes between map memory and private memory with word-wise
 * relaxed atomics (what READ_ONCE/WRITE_ONCE give the kernel): racing
 * program stores may tear a value but never make the copy undefined. */
void bee_value_copy(void *dst, const void *src, size_t n);

/* The CPU slot of the program running on this thread (0 outside runs). */
unsigned bee_cpu_current(void);
void bee_cpu_set_current(unsigned cpu);

#endif
