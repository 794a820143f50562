/*
 * sound_wrap.c - helpers that check their arguments (sound_wrap.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "bee/vm.h"
#include "core/core.h"
#include "maps/map.h"
#include "sound_wrap.h"

/* The original helpers, by id. */
static struct bee_helper orig_helpers[256];

static const char *arg_name(enum bee_arg a)
{
	switch (a) {
	case BEE_ARG_MAP: return "map";
	case BEE_ARG_MAP_KEY: return "map key";
	case BEE_ARG_MAP_VALUE: return "map value";
	case BEE_ARG_MAP_VALUE_OUT: return "map value out";
	case BEE_ARG_MEM: return "mem";
	case BEE_ARG_MEM_OR_NULL: return "mem or null";
	case BEE_ARG_MEM_OUT: return "mem out";
	case BEE_ARG_LONG_OUT: return "long out";
	default: return "arg";
	}
}

static uint64_t wrapped_call(int32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5)
{
	const struct bee_helper *h = &orig_helpers[id];
	uint64_t r[6] = {0, r1, r2, r3, r4, r5};
	struct bee_map *map = NULL;
	for (int i = 0; i < 5 && h->args[i] != BEE_ARG_NONE; i++) {
		uint64_t v = r[i + 1];
		const void *ptr = (const void *)(uintptr_t)v;
		enum bee_arg a = h->args[i];
		bool bad = false;
		uint64_t len = 0;
		switch (a) {
		case BEE_ARG_MAP:
			map = bee_helper_map_arg(v);
			bad = map == NULL;
			break;
		case BEE_ARG_MAP_KEY:
			len = map ? map->key_size : 0;
			bad = map && !bee_run_mem_ok(ptr, len, false);
			break;
		case BEE_ARG_MAP_VALUE:
		case BEE_ARG_MAP_VALUE_OUT:
			len = map ? map->value_size : 0;
			bad = map && !bee_run_mem_ok(ptr, len, a == BEE_ARG_MAP_VALUE_OUT);
			break;
		case BEE_ARG_MEM:
		case BEE_ARG_MEM_OR_NULL:
		case BEE_ARG_MEM_OUT:
			len = i + 1 < 5 ? r[i + 2] : 0;
			if (a == BEE_ARG_MEM_OR_NULL && v == 0)
				break;
			bad = len > (1u << 29) || !bee_run_mem_ok(ptr, len, a == BEE_ARG_MEM_OUT);
			i++; /* the size */
			break;
		case BEE_ARG_LONG_OUT:
			len = 8;
			bad = !bee_run_mem_ok(ptr, 8, true);
			break;
		default:
			break;
		}
		if (bad) {
			bee_run_abort(-EFAULT,
				      "soundness: %s argument %d (%s) bad: 0x%" PRIx64 " size %" PRIu64,
				      h->name, i + 1, arg_name(a), v, len);
			return 0;
		}
	}
	return h->fn(r1, r2, r3, r4, r5);
}

#define WRAPPED_HELPERS(X)                                                                \
	X(1) X(2) X(3) X(4) X(6) X(16) X(25) X(45) X(87) X(88) X(89) X(105) X(106) X(112)  \
	X(113) X(114) X(115) X(130) X(134) X(165) X(177) X(195)
#define WRAP_FN(id)                                                                       \
	static uint64_t wrap_##id(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e) \
	{                                                                                 \
		return wrapped_call(id, a, b, c, d, e);                                   \
	}
WRAPPED_HELPERS(WRAP_FN)
#define WRAP_ENTRY(id) {id, wrap_##id},
static const struct {
	int32_t id;
	bee_helper_fn fn;
} wrappers[] = {WRAPPED_HELPERS(WRAP_ENTRY)};

int sound_wrap_helpers(struct bee *b, const struct bee_helper_table *protos)
{
	for (size_t i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++) {
		const struct bee_helper *h = bee_helper_table_find(protos, wrappers[i].id);
		if (!h)
			continue;
		orig_helpers[h->id] = *h;
		struct bee_helper w = *h;
		w.fn = wrappers[i].fn;
		int err = bee_add_helper(b, &w);
		if (err < 0)
			return err;
	}
	return 0;
}

