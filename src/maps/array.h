/*
 * array.h - the array maps' layout, shared by array.c (ARRAY,
 * PERCPU_ARRAY) and fd_array.c (PROG_ARRAY, ARRAY_OF_MAPS).
 */
#ifndef BEE_MAPS_ARRAY_H
#define BEE_MAPS_ARRAY_H

#include "maps/map.h"

struct bee_array {
	struct bee_map map;
	size_t elem_size;       /* bytes between one value and the next */
	size_t copies;          /* per element: ncpus for per-CPU arrays, else 1 */
	unsigned char *values;  /* max_entries * copies * elem_size bytes */
	size_t values_len;
	size_t mmap_len;        /* BPF_F_MMAPABLE: the mapping's length, else 0 */
};

/* The checks of the kernel's array_map_alloc_check. */
int bee_array_check_attr(const union bpf_attr *attr);
struct bee_map *bee_array_alloc_common(const union bpf_attr *attr, unsigned ncpus, size_t elem_size,
				       size_t copies, int *err);
void bee_array_free_values(struct bee_array *a);
int bee_array_get_next_key(struct bee_map *map, const void *key, void *next_key);
bool bee_array_value_ok(const struct bee_map *map, uintptr_t addr, size_t size);

/* BPF_F_MMAPABLE: the value block (page-aligned, *len bytes), else NULL. */
void *bee_array_mmap_area(const struct bee_map *map, size_t *len);

#endif
