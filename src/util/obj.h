/*
 * obj.h - what every object of an instance (program, map, link, BTF) has
 * in common: its kind, its id and its references.
 *
 * The last reference dropped hands the object to bee_epoch_defer, so a
 * program still running (or a host lookup still copying) never sees it
 * freed.  Each kind's free function is set by the core when it creates the
 * object.
 */
#ifndef BEE_UTIL_OBJ_H
#define BEE_UTIL_OBJ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bee_obj_kind {
	BEE_OBJ_PROG = 1,
	BEE_OBJ_MAP,
	BEE_OBJ_LINK,
	BEE_OBJ_BTF,
};

struct bee_obj {
	enum bee_obj_kind kind;
	uint32_t id;                  /* unique in its instance, never reused */
	_Atomic long refcnt;
	void (*destroy)(struct bee_obj *obj); /* frees the object (after a grace period) */
};

static inline void bee_obj_hold(struct bee_obj *obj)
{
	atomic_fetch_add_explicit(&obj->refcnt, 1, memory_order_relaxed);
}

/* A reference to obj unless its last one is already gone (an object seen
 * in a read section, or in a list, may be on its way out). */
static inline bool bee_obj_tryget(struct bee_obj *obj)
{
	long c = atomic_load(&obj->refcnt);
	while (c > 0)
		if (atomic_compare_exchange_weak(&obj->refcnt, &c, c + 1))
			return true;
	return false;
}

/* Copy an object name the kernel's way (bpf_obj_name_cpy): letters,
 * digits, '_' and '.', NUL-terminated within 16 bytes; else -EINVAL. */
int bee_obj_name_copy(char dst[16], const char *src);

/* Drop a reference; the last one frees the object once no reader can
 * still see it. */
void bee_obj_put(struct bee_obj *obj);

#endif
