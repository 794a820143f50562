/*
 * obj.c - references to instance objects (see obj.h).
 */
#include <errno.h>

#include "util/obj.h"

void bee_obj_put(struct bee_obj *obj)
{
	if (!obj)
		return;
	if (atomic_fetch_sub_explicit(&obj->refcnt, 1, memory_order_acq_rel) == 1)
		obj->destroy(obj);
}

int bee_obj_name_copy(char dst[16], const char *src)
{
	size_t i;
	for (i = 0; i < 16 && src[i]; i++) {
		char c = src[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return -EINVAL;
		dst[i] = c;
	}
	if (i == 16)
		return -EINVAL;
	dst[i] = 0;
	return 0;
}
