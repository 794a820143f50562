/*
 * queue_stack.c - BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO).
 *
 * Theory of operation.  Both types are one circular array of
 * max_entries + 1 slots (one slot always stays empty so that head == tail
 * means empty without a separate count, as the kernel's
 * queue_stack_maps.c does).  `head` is where the next push goes, `tail`
 * the oldest element.  A queue pops at tail, a stack pops at head - 1;
 * both push at head.  Pushing onto a full map fails with -E2BIG unless the
 * flags are BPF_EXIST, which drops the oldest element (tail) to make room
 * - for stacks too, exactly like the kernel.
 *
 * Elements are keyless: key_size must be 0.  Programs reach the map only
 * through push/pop/peek (bpf_map_push_elem & co.), which copy values in
 * and out, so no pointer into the array ever escapes and one lock around
 * each operation is all the synchronisation needed (the kernel takes a
 * raw spinlock the same way).  The copies use bee_value_copy because the
 * other side of a copy may be a map value that a program writes
 * concurrently.
 *
 * map.c maps the host commands onto these operations: lookup -> peek,
 * update -> push, lookup_and_delete -> pop.  lookup/update/delete/
 * get_next_key themselves answer as the kernel's do (NULL, -EINVAL).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "maps/map.h"

/* BPF_F_NUMA_NODE plus the access flags, as the kernel's
 * QUEUE_STACK_CREATE_FLAG_MASK. */
#define QUEUE_STACK_CREATE_FLAGS                                                        \
	(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | \
	 BPF_F_WRONLY_PROG)

struct bee_queue_stack {
	struct bee_map map;
	pthread_mutex_t lock;
	uint32_t head, tail;   /* slot indexes in [0, slots) */
	uint32_t slots;        /* max_entries + 1 */
	size_t stride;         /* value_size rounded up to 8 */
	unsigned char *elems;  /* slots * stride bytes */
};

static struct bee_queue_stack *qs_of(struct bee_map *map)
{
	return (struct bee_queue_stack *)map;
}

static struct bee_map *qs_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	if (attr->max_entries == 0 || attr->key_size != 0 || attr->value_size == 0 ||
	    (attr->map_flags & ~QUEUE_STACK_CREATE_FLAGS)) {
		*err = -EINVAL;
		return NULL;
	}
	if (attr->value_size > (1u << 22)) {
		*err = -E2BIG; /* the kernel's KMALLOC_MAX_SIZE check */
		return NULL;
	}
	struct bee_queue_stack *qs = calloc(1, sizeof(*qs));
	if (!qs) {
		*err = -ENOMEM;
		return NULL;
	}
	qs->slots = attr->max_entries + 1;
	if (qs->slots == 0) { /* max_entries == UINT32_MAX */
		free(qs);
		*err = -E2BIG;
		return NULL;
	}
	qs->stride = ((size_t)attr->value_size + 7) & ~(size_t)7;
	size_t bytes = (size_t)qs->slots * qs->stride;
	qs->elems = bytes / qs->stride == qs->slots ? calloc(1, bytes) : NULL;
	if (!qs->elems) {
		free(qs);
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&qs->lock, NULL);
	return &qs->map;
}

static void qs_free(struct bee_map *map)
{
	struct bee_queue_stack *qs = qs_of(map);
	pthread_mutex_destroy(&qs->lock);
	free(qs->elems);
	free(qs);
}

static inline unsigned char *slot(struct bee_queue_stack *qs, uint32_t index)
{
	return qs->elems + (size_t)index * qs->stride;
}

static inline uint32_t next_index(const struct bee_queue_stack *qs, uint32_t i)
{
	return i + 1 == qs->slots ? 0 : i + 1;
}

static inline uint32_t prev_index(const struct bee_queue_stack *qs, uint32_t i)
{
	return i == 0 ? qs->slots - 1 : i - 1;
}

static long qs_push(struct bee_map *map, const void *value, uint64_t flags)
{
	struct bee_queue_stack *qs = qs_of(map);
	/* The kernel: BPF_NOEXIST means nothing for a keyless map. */
	if ((flags & BPF_NOEXIST) || flags > BPF_EXIST)
		return -EINVAL;
	pthread_mutex_lock(&qs->lock);
	if (next_index(qs, qs->head) == qs->tail) {
		if (flags != BPF_EXIST) {
			pthread_mutex_unlock(&qs->lock);
			return -E2BIG;
		}
		qs->tail = next_index(qs, qs->tail); /* drop the oldest */
	}
	bee_value_copy(slot(qs, qs->head), value, map->value_size);
	qs->head = next_index(qs, qs->head);
	pthread_mutex_unlock(&qs->lock);
	return 0;
}

/* Copy the element a pop would take into value; remove it if delete. */
static long qs_take(struct bee_map *map, void *value, bool delete)
{
	struct bee_queue_stack *qs = qs_of(map);
	pthread_mutex_lock(&qs->lock);
	if (qs->head == qs->tail) {
		pthread_mutex_unlock(&qs->lock);
		return -ENOENT;
	}
	uint32_t index;
	if (map->type == BPF_MAP_TYPE_QUEUE) {
		index = qs->tail;
		if (delete)
			qs->tail = next_index(qs, qs->tail);
	} else {
		index = prev_index(qs, qs->head);
		if (delete)
			qs->head = index;
	}
	bee_value_copy(value, slot(qs, index), map->value_size);
	pthread_mutex_unlock(&qs->lock);
	return 0;
}

static long qs_pop(struct bee_map *map, void *value)
{
	return qs_take(map, value, true);
}

static long qs_peek(struct bee_map *map, void *value)
{
	return qs_take(map, value, false);
}

/* The kernel's queue_stack_map_{lookup,update,delete}_elem and
 * get_next_key: keyless maps have no elements to name. */
static void *qs_lookup(struct bee_map *map, const void *key)
{
	return NULL;
}

static long qs_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	return -EINVAL;
}

static long qs_delete(struct bee_map *map, const void *key)
{
	return -EINVAL;
}

static int qs_get_next_key(struct bee_map *map, const void *key, void *next_key)
{
	return -EINVAL;
}

/* Programs never hold pointers into a queue or a stack. */
static bool qs_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	return false;
}

const struct bee_map_ops bee_queue_map_ops = {
	.alloc = qs_alloc,
	.free = qs_free,
	.lookup = qs_lookup,
	.update = qs_update,
	.delete = qs_delete,
	.push = qs_push,
	.pop = qs_pop,
	.peek = qs_peek,
	.get_next_key = qs_get_next_key,
	.value_ok = qs_value_ok,
};

const struct bee_map_ops bee_stack_map_ops = {
	.alloc = qs_alloc,
	.free = qs_free,
	.lookup = qs_lookup,
	.update = qs_update,
	.delete = qs_delete,
	.push = qs_push,
	.pop = qs_pop,
	.peek = qs_peek,
	.get_next_key = qs_get_next_key,
	.value_ok = qs_value_ok,
};
