/*
 * helpers.c - helper tables: which function a `call imm` reaches.
 *
 * A table is a small growable array searched when a program is loaded;
 * the interpreter then holds the function pointer directly, so lookups
 * never happen on the hot path.
 */
#include <errno.h>
#include <stdlib.h>

#include "bee/vm.h"

struct bee_helper_table {
	struct bee_helper *v;
	size_t n, cap;
};

struct bee_helper_table *bee_helper_table_new(void)
{
	return calloc(1, sizeof(struct bee_helper_table));
}

void bee_helper_table_free(struct bee_helper_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

int bee_helper_table_add(struct bee_helper_table *t, const struct bee_helper *h)
{
	if (!t || !h || !h->fn || !h->name)
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].id == h->id) {
			t->v[i] = *h;
			return 0;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct bee_helper *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *h;
	return 0;
}

const struct bee_helper *bee_helper_table_find(const struct bee_helper_table *t, int32_t id)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}
