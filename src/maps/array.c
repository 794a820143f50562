/*
 * array.c - BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Keys are u32 indexes; every element exists from creation on, zeroed, and
 * cannot be deleted (-EINVAL), as in the kernel.  Values sit in one block
 * with a stride of value_size rounded up to 8, so a value's address is one
 * multiply away and lookups never lock.  Per-CPU arrays keep ncpus copies
 * of each value side by side.  BPF_F_MMAPABLE arrays live in page-aligned
 * memory of their own (bee_array_mmap_area gives the host the block).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "maps/array.h"

#define ARRAY_CREATE_FLAGS                                                                  \
	(BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | \
	 BPF_F_WRONLY_PROG | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)

static struct bee_array *array_of(const struct bee_map *map)
{
	return (struct bee_array *)map;
}

int bee_array_check_attr(const union bpf_attr *attr)
{
	bool percpu = attr->map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
	if (attr->max_entries == 0 || attr->key_size != 4 || attr->value_size == 0 ||
	    (attr->map_flags & ~ARRAY_CREATE_FLAGS))
		return -EINVAL;
	if (percpu && (attr->map_flags & (BPF_F_MMAPABLE | BPF_F_NUMA_NODE)))
		return -EINVAL;
	if ((attr->map_flags & BPF_F_PRESERVE_ELEMS) &&
	    attr->map_type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	if (attr->value_size > (1u << 22))
		return -E2BIG; /* the kernel's KMALLOC_MAX_SIZE on x86-64 */
	if (percpu && ((attr->value_size + 7) & ~7u) > 32768)
		return -E2BIG; /* PCPU_MIN_UNIT_SIZE */
	return 0;
}

struct bee_map *bee_array_alloc_common(const union bpf_attr *attr, unsigned ncpus, size_t elem_size,
				       size_t copies, int *err)
{
	struct bee_array *a = calloc(1, sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	a->elem_size = elem_size;
	a->copies = copies;
	size_t bytes = (size_t)attr->max_entries * elem_size * copies;
	if (bytes / elem_size / copies != attr->max_entries) {
		free(a);
		*err = -E2BIG;
		return NULL;
	}
	if (attr->map_flags & BPF_F_MMAPABLE) {
		size_t page = 4096;
		a->mmap_len = (bytes + page - 1) & ~(page - 1);
		void *p = mmap(NULL, a->mmap_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		a->values = p == MAP_FAILED ? NULL : p;
	} else {
		a->values = calloc(1, bytes ? bytes : 1);
	}
	if (!a->values) {
		free(a);
		*err = -ENOMEM;
		return NULL;
	}
	a->values_len = bytes;
	return &a->map;
}

static struct bee_map *array_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	if ((*err = bee_array_check_attr(attr)) < 0)
		return NULL;
	bool percpu = attr->map_type == BPF_MAP_TYPE_PERCPU_ARRAY;
	return bee_array_alloc_common(attr, ncpus, (attr->value_size + 7) & ~7ull,
				      percpu ? ncpus : 1, err);
}

void bee_array_free_values(struct bee_array *a)
{
	if (a->mmap_len)
		munmap(a->values, a->mmap_len);
	else
		free(a->values);
}

static void array_free(struct bee_map *map)
{
	bee_array_free_values(array_of(map));
	free(map);
}

/* Element index's value for copy cpu (0 for plain arrays). */
static inline unsigned char *elem(const struct bee_array *a, uint32_t index, unsigned cpu)
{
	return a->values + ((size_t)index * a->copies + cpu) * a->elem_size;
}

static void *array_lookup(struct bee_map *map, const void *key)
{
	uint32_t index = bee_map_key_u32(key);
	if (index >= map->max_entries)
		return NULL;
	struct bee_array *a = array_of(map);
	return elem(a, index, a->copies > 1 ? bee_cpu_current() : 0);
}

static int check_update(const struct bee_map *map, const void *key, uint64_t flags)
{
	int err = bee_map_check_update_flags(flags);
	if (err)
		return err;
	if (bee_map_key_u32(key) >= map->max_entries)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST; /* every element always exists */
	return 0;
}

static long array_update(struct bee_map *map, const void *key, const void *value, uint64_t flags)
{
	int err = check_update(map, key, flags);
	if (err)
		return err;
	bee_value_copy(array_lookup(map, key), value, map->value_size);
	return 0;
}

static long array_delete(struct bee_map *map, const void *key)
{
	return -EINVAL;
}

static int array_sys_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags)
{
	uint32_t index = bee_map_key_u32(key);
	if (index >= map->max_entries)
		return -ENOENT;
	struct bee_array *a = array_of(map);
	if (!bee_map_is_percpu(map->type)) { /* a per-CPU map of one CPU still has strides */
		bee_value_copy(value, elem(a, index, 0), map->value_size);
		return 0;
	}
	uint32_t stride = bee_percpu_value_size(map);
	/* Whole 8-byte-rounded values per CPU, padding included: the kernel
	 * stores what the host's update buffer had there and gives it back. */
	for (unsigned cpu = 0; cpu < a->copies; cpu++) {
		bee_value_copy((unsigned char *)value + (size_t)cpu * stride, elem(a, index, cpu),
			       stride);
	}
	return 0;
}

static int array_sys_update(struct bee_map *map, const void *key, const void *value,
			    uint64_t flags)
{
	int err = check_update(map, key, flags);
	if (err)
		return err;
	struct bee_array *a = array_of(map);
	uint32_t index = bee_map_key_u32(key);
	if (!bee_map_is_percpu(map->type)) {
		/* the host's buffer is value_size bytes, not rounded up to 8 */
		bee_value_copy(elem(a, index, 0), value, map->value_size);
		return 0;
	}
	uint32_t stride = bee_percpu_value_size(map);
	for (unsigned cpu = 0; cpu < a->copies; cpu++)
		bee_value_copy(elem(a, index, cpu), (const unsigned char *)value + (size_t)cpu * stride,
			       stride);
	return 0;
}

int bee_array_get_next_key(struct bee_map *map, const void *key, void *next_key)
{
	uint32_t index = key ? bee_map_key_u32(key) : UINT32_MAX;
	uint32_t *next = next_key;
	if (index >= map->max_entries) {
		*next = 0;
		return 0;
	}
	if (index == map->max_entries - 1)
		return -ENOENT;
	*next = index + 1;
	return 0;
}

static long array_for_each(struct bee_map *map, bee_map_each_fn fn, void *ctx, uint64_t flags)
{
	if (flags)
		return -EINVAL;
	long n = 0;
	for (uint32_t i = 0; i < map->max_entries; i++) {
		n++;
		if (fn(map, &i, array_lookup(map, &i), ctx))
			break;
	}
	return n;
}

bool bee_array_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	const struct bee_array *a = array_of(map);
	uintptr_t start = (uintptr_t)a->values;
	if (addr < start || addr - start >= a->values_len)
		return false;
	size_t in_elem = (addr - start) % a->elem_size;
	return size <= a->elem_size && in_elem + size <= map->value_size;
}

static int array_direct_value_addr(const struct bee_map *map, uint64_t *addr, uint32_t off)
{
	if (map->max_entries != 1 || map->type != BPF_MAP_TYPE_ARRAY)
		return -EOPNOTSUPP;
	if (off >= map->value_size)
		return -EINVAL;
	*addr = (uint64_t)(uintptr_t)array_of(map)->values + off;
	return 0;
}

void *bee_array_mmap_area(const struct bee_map *map, size_t *len)
{
	const struct bee_array *a = array_of(map);
	if (!a->mmap_len)
		return NULL;
	*len = a->mmap_len;
	return a->values;
}

/* Plain and per-CPU arrays share every operation (the copies per element
 * tell them apart); only a single-copy array hands out direct value
 * addresses for lddw map_value. */
#define ARRAY_OPS                                                             \
	.alloc = array_alloc, .free = array_free, .lookup = array_lookup,     \
	.update = array_update, .delete = array_delete,                       \
	.for_each = array_for_each, .sys_lookup = array_sys_lookup,           \
	.sys_update = array_sys_update, .get_next_key = bee_array_get_next_key, \
	.value_ok = bee_array_value_ok

const struct bee_map_ops bee_array_map_ops = {ARRAY_OPS,
					      .direct_value_addr = array_direct_value_addr};
const struct bee_map_ops bee_percpu_array_map_ops = {ARRAY_OPS};
