/*
 * lpm_trie.c - BPF_MAP_TYPE_LPM_TRIE: longest-prefix-match lookups.
 *
 * Theory of operation.  Keys are struct bpf_lpm_trie_key: a u32 prefix
 * length in bits, then key_size - 4 bytes of data (big-endian bit order:
 * bit 0 is the top bit of data[0]).  The structure is the kernel's
 * (kernel/bpf/lpm_trie.c): a binary trie, not path-compressed per bit but
 * per node.  Every node holds a prefix (its length and the data); a
 * node's children extend its prefix, child[b] for the case where the bit
 * right after the node's prefix is b.  Nodes come in two kinds:
 *   - real nodes, the elements the user inserted, which carry a value;
 *   - intermediate (IM) nodes, created only where two prefixes diverge;
 *     they always have exactly two children and no meaning of their own.
 * Lookup walks from the root while the node's prefix matches the key,
 * remembering the last real node seen: that is the longest match.
 * get_next_key enumerates in postorder (children before the parent, left
 * before right), so more specific prefixes come before the prefixes that
 * contain them - the kernel's order, which tools rely on to delete while
 * iterating.
 *
 * Concurrency.  Writers (update, delete) serialise on a mutex.  Readers
 * (lookup, get_next_key) take no lock: they run inside an epoch section
 * held by the caller (a program run or a host command).  A writer never
 * changes a published node's prefix, data or value; it builds new nodes
 * aside and links them with one release store, and it retires unlinked
 * nodes through bee_epoch_defer, so a reader sees either the old or the
 * new shape and never freed memory.  The only in-place change is the IM
 * flag that a delete sets on a node with two children (an atomic).
 *
 * Memory.  Nodes come from a per-map slab: chunks of fixed-size node
 * slots, each chunk twice the previous one.  Retired nodes go back to a
 * free list once their grace period ends.  The slab exists so that
 * value_ok - "does this address lie inside a value?", asked for checked
 * program runs - is a scan of a few chunk ranges instead of a tree walk.
 * The slab is reference-counted (the map plus every retired node still
 * waiting for its grace period), so a deferred free that runs after the
 * map itself was freed still has somewhere to return its node.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "maps/map.h"
#include "util/epoch.h"

#define LPM_DATA_SIZE_MIN 1
#define LPM_DATA_SIZE_MAX 256
#define LPM_KEY_HDR 4 /* offsetof(struct bpf_lpm_trie_key, data) */
/* The kernel's LPM_VAL_SIZE_MAX: KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX -
 * sizeof(struct lpm_trie_node) (the node header is 24 bytes there). */
#define LPM_VAL_SIZE_MAX ((1u << 22) - LPM_DATA_SIZE_MAX - 24)
#define LPM_CREATE_FLAGS                                                               \
	(BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
	 BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

#define LPM_NODE_IM 1u

#define SLAB_MAX_CHUNKS 48

struct lpm_slab;

struct lpm_node {
	struct lpm_node *_Atomic child[2];
	struct lpm_slab *slab;        /* where the node returns when retired */
	struct lpm_node *free_next;   /* on the free list */
	uint32_t prefixlen;
	_Atomic uint32_t flags;       /* LPM_NODE_IM */
	unsigned char data[];         /* data_size bytes; the value follows at
	                               * slab->value_off from the node start */
};

struct lpm_chunk {
	unsigned char *base;
	size_t count;                 /* node slots */
};

struct lpm_slab {
	pthread_mutex_t lock;         /* free list and chunk growth */
	_Atomic long refs;
	size_t node_size, value_off, value_size;
	struct lpm_node *free;
	size_t used_in_last;          /* slots handed out from the last chunk */
	/* chunks[0 .. nchunks) are immutable once published (release on
	 * nchunks), so value_ok reads them without the lock. */
	_Atomic unsigned nchunks;
	struct lpm_chunk chunks[SLAB_MAX_CHUNKS];
};

struct bee_lpm_trie {
	struct bee_map map;
	pthread_mutex_t lock;         /* writers */
	struct lpm_node *_Atomic root;
	size_t n_entries;             /* real nodes (under lock) */
	uint32_t data_size, max_prefixlen;
	struct lpm_slab *slab;
};

static struct bee_lpm_trie *trie_of(const struct bee_map *map)
{
	return (struct bee_lpm_trie *)map;
}

/* ---- the node slab ---- */

static void slab_put(struct lpm_slab *slab)
{
	if (atomic_fetch_sub_explicit(&slab->refs, 1, memory_order_acq_rel) != 1)
		return;
	unsigned n = atomic_load_explicit(&slab->nchunks, memory_order_relaxed);
	for (unsigned i = 0; i < n; i++)
		free(slab->chunks[i].base);
	pthread_mutex_destroy(&slab->lock);
	free(slab);
}

static struct lpm_node *slab_alloc(struct lpm_slab *slab)
{
	struct lpm_node *node = NULL;
	pthread_mutex_lock(&slab->lock);
	if (slab->free) {
		node = slab->free;
		slab->free = node->free_next;
		goto out;
	}
	unsigned n = atomic_load_explicit(&slab->nchunks, memory_order_relaxed);
	if (n && slab->used_in_last < slab->chunks[n - 1].count) {
		node = (struct lpm_node *)(slab->chunks[n - 1].base +
					   slab->used_in_last++ * slab->node_size);
		goto out;
	}
	if (n == SLAB_MAX_CHUNKS)
		goto out;
	/* A first chunk of about a page, then doubling: few chunks to scan
	 * in value_ok, at most half of the memory unused. */
	size_t count = n ? slab->chunks[n - 1].count * 2 : 4096 / slab->node_size;
	if (count == 0)
		count = 1;
	if (count > SIZE_MAX / slab->node_size)
		goto out;
	unsigned char *base = calloc(count, slab->node_size);
	if (!base)
		goto out;
	slab->chunks[n].base = base;
	slab->chunks[n].count = count;
	atomic_store_explicit(&slab->nchunks, n + 1, memory_order_release);
	slab->used_in_last = 1;
	node = (struct lpm_node *)base;
out:
	pthread_mutex_unlock(&slab->lock);
	return node;
}

/* Deferred: the grace period of an unlinked node has ended. */
static void slab_reclaim(void *arg)
{
	struct lpm_node *node = arg;
	struct lpm_slab *slab = node->slab;
	pthread_mutex_lock(&slab->lock);
	node->free_next = slab->free;
	slab->free = node;
	pthread_mutex_unlock(&slab->lock);
	slab_put(slab);
}

/* Free a node readers may still see, once they cannot. */
static void node_retire(struct lpm_node *node)
{
	if (!node)
		return;
	atomic_fetch_add_explicit(&node->slab->refs, 1, memory_order_relaxed);
	bee_epoch_defer(slab_reclaim, node);
}

/* Give a node never published back at once. */
static void node_unuse(struct lpm_node *node)
{
	struct lpm_slab *slab = node->slab;
	pthread_mutex_lock(&slab->lock);
	node->free_next = slab->free;
	slab->free = node;
	pthread_mutex_unlock(&slab->lock);
}

static inline void *node_value(const struct bee_lpm_trie *t, const struct lpm_node *node)
{
	return (unsigned char *)node + t->slab->value_off;
}

/* A node with the key's prefix (and value, if any), not yet linked. */
static struct lpm_node *node_new(struct bee_lpm_trie *t, uint32_t prefixlen, const void *data,
				 const void *value, uint32_t flags)
{
	struct lpm_node *node = slab_alloc(t->slab);
	if (!node)
		return NULL;
	atomic_init(&node->child[0], NULL);
	atomic_init(&node->child[1], NULL);
	node->slab = t->slab;
	node->free_next = NULL;
	node->prefixlen = prefixlen;
	atomic_init(&node->flags, flags);
	memcpy(node->data, data, t->data_size);
	if (value)
		bee_value_copy(node_value(t, node), value, t->map.value_size);
	else
		memset(node_value(t, node), 0, t->map.value_size);
	return node;
}

/* ---- bits of prefixes ---- */

/* Bit index of data (0 = the most significant bit of data[0]). */
static inline unsigned extract_bit(const unsigned char *data, uint32_t index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

static inline uint64_t load_be64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* How many leading bits node's prefix and key share, at most both
 * prefix lengths. */
static uint32_t match_len(const struct bee_lpm_trie *t, const struct lpm_node *node,
			  const unsigned char *key_data, uint32_t key_prefixlen)
{
	uint32_t limit = node->prefixlen < key_prefixlen ? node->prefixlen : key_prefixlen;
	uint32_t len = 0;
	size_t i = 0;
	for (; i + 8 <= t->data_size && len < limit; i += 8) {
		uint64_t diff = load_be64(node->data + i) ^ load_be64(key_data + i);
		if (diff) {
			len += (uint32_t)__builtin_clzll(diff);
			return len < limit ? len : limit;
		}
		len += 64;
	}
	for (; i < t->data_size && len < limit; i++) {
		unsigned diff = node->data[i] ^ key_data[i];
		if (diff) {
			len += (uint32_t)__builtin_clz(diff) - 24;
			break;
		}
		len += 8;
	}
	return len < limit ? len : limit;
}

/* ---- create, free ---- */

static struct bee_map *trie_alloc(const union bpf_attr *attr, unsigned ncpus, int *err)
{
	*err = -EINVAL;
	/* The kernel's trie_alloc: non-preallocated only, and every size
	 * bound answers -EINVAL. */
	if (attr->max_entries == 0 || !(attr->map_flags & BPF_F_NO_PREALLOC) ||
	    (attr->map_flags & ~LPM_CREATE_FLAGS) ||
	    attr->key_size < LPM_KEY_HDR + LPM_DATA_SIZE_MIN ||
	    attr->key_size > LPM_KEY_HDR + LPM_DATA_SIZE_MAX || attr->value_size < 1 ||
	    attr->value_size > LPM_VAL_SIZE_MAX)
		return NULL;
	struct bee_lpm_trie *t = calloc(1, sizeof(*t));
	struct lpm_slab *slab = calloc(1, sizeof(*slab));
	if (!t || !slab) {
		free(t);
		free(slab);
		*err = -ENOMEM;
		return NULL;
	}
	t->data_size = attr->key_size - LPM_KEY_HDR;
	t->max_prefixlen = t->data_size * 8;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&slab->lock, NULL);
	atomic_init(&slab->refs, 1);
	slab->value_off = (offsetof(struct lpm_node, data) + t->data_size + 7) & ~(size_t)7;
	slab->value_size = attr->value_size;
	slab->node_size = (slab->value_off + attr->value_size + 7) & ~(size_t)7;
	t->slab = slab;
	*err = 0;
	return &t->map;
}

static void trie_free(struct bee_map *map)
{
	struct bee_lpm_trie *t = trie_of(map);
	/* Every node lives in the slab: dropping the map's reference frees
	 * them all (now, or when the last retired node's grace ends). */
	slab_put(t->slab);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- programs and the host ---- */

/* The key copied out of memory a program may be writing concurrently. */
struct lpm_key_copy {
	uint32_t prefixlen;
	unsigned char data[LPM_DATA_SIZE_MAX];
};

static void copy_key(const struct bee_lpm_trie *t, struct lpm_key_copy *dst, const void *key)
{
	bee_value_copy(dst, key, LPM_KEY_HDR + t->data_size);
}

static void *trie_lookup(struct bee_map *map, const void *key_in)
{
	struct bee_lpm_trie *t = trie_of(map);
	struct lpm_key_copy key;
	copy_key(t, &key, key_in);
	if (key.prefixlen > t->max_prefixlen)
		return NULL; /* the kernel here (6.18) finds nothing for such keys */
	struct lpm_node *found = NULL;
	struct lpm_node *node = atomic_load_explicit(&t->root, memory_order_acquire);
	while (node) {
		uint32_t ml = match_len(t, node, key.data, key.prefixlen);
		if (ml == t->max_prefixlen) {
			/* A full-length match cannot be bettered; it is
			 * real, since IM nodes are shorter than their
			 * children. */
			if (!(atomic_load_explicit(&node->flags, memory_order_relaxed) & LPM_NODE_IM))
				found = node;
			break;
		}
		if (ml < node->prefixlen)
			break;
		if (!(atomic_load_explicit(&node->flags, memory_order_relaxed) & LPM_NODE_IM))
			found = node;
		/* ml == node->prefixlen < max_prefixlen: the next bit exists. */
		node = atomic_load_explicit(&node->child[extract_bit(key.data, node->prefixlen)],
					    memory_order_acquire);
	}
	return found ? node_value(t, found) : NULL;
}

static long trie_update(struct bee_map *map, const void *key_in, const void *value,
			uint64_t flags)
{
	struct bee_lpm_trie *t = trie_of(map);
	int err = bee_map_check_update_flags(flags);
	if (err)
		return err;
	struct lpm_key_copy key;
	copy_key(t, &key, key_in);
	if (key.prefixlen > t->max_prefixlen)
		return -EINVAL;

	pthread_mutex_lock(&t->lock);
	struct lpm_node *_Atomic *slot = &t->root;
	struct lpm_node *node;
	uint32_t ml = 0;
	/* Descend while the node is a proper prefix of the key. */
	while ((node = atomic_load_explicit(slot, memory_order_relaxed))) {
		ml = match_len(t, node, key.data, key.prefixlen);
		if (node->prefixlen != ml || node->prefixlen == key.prefixlen ||
		    node->prefixlen == t->max_prefixlen)
			break;
		slot = &node->child[extract_bit(key.data, node->prefixlen)];
	}
	bool same_prefix = node && ml == node->prefixlen && node->prefixlen == key.prefixlen;
	bool replaces_real =
		same_prefix && !(atomic_load_explicit(&node->flags, memory_order_relaxed) & LPM_NODE_IM);
	if (replaces_real && flags == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!replaces_real && flags == BPF_EXIST) {
		err = -ENOENT;
		goto out;
	}
	if (!replaces_real && t->n_entries == map->max_entries) {
		err = -ENOSPC;
		goto out;
	}
	struct lpm_node *new_node = node_new(t, key.prefixlen, key.data, value, 0);
	if (!new_node) {
		err = -ENOMEM;
		goto out;
	}

	if (!node) {
		/* An empty slot: the new node is a leaf. */
		atomic_store_explicit(slot, new_node, memory_order_release);
	} else if (same_prefix) {
		/* The same prefix: the new node takes the old one's place
		 * and children; readers holding the old value keep it until
		 * their grace period ends. */
		atomic_init(&new_node->child[0],
			    atomic_load_explicit(&node->child[0], memory_order_relaxed));
		atomic_init(&new_node->child[1],
			    atomic_load_explicit(&node->child[1], memory_order_relaxed));
		atomic_store_explicit(slot, new_node, memory_order_release);
		node_retire(node);
	} else if (ml == key.prefixlen) {
		/* The key is a prefix of the node: it becomes the parent. */
		atomic_init(&new_node->child[extract_bit(node->data, ml)], node);
		atomic_store_explicit(slot, new_node, memory_order_release);
	} else {
		/* They diverge at bit ml: an intermediate node of length ml
		 * gets both as children. */
		struct lpm_node *im = node_new(t, ml, node->data, NULL, LPM_NODE_IM);
		if (!im) {
			node_unuse(new_node);
			err = -ENOMEM;
			goto out;
		}
		unsigned key_bit = extract_bit(key.data, ml);
		atomic_init(&im->child[key_bit], new_node);
		atomic_init(&im->child[!key_bit], node);
		atomic_store_explicit(slot, im, memory_order_release);
	}
	if (!replaces_real)
		t->n_entries++;
	err = 0;
out:
	pthread_mutex_unlock(&t->lock);
	return err;
}

static long trie_delete(struct bee_map *map, const void *key_in)
{
	struct bee_lpm_trie *t = trie_of(map);
	struct lpm_key_copy key;
	copy_key(t, &key, key_in);
	if (key.prefixlen > t->max_prefixlen)
		return -EINVAL;

	pthread_mutex_lock(&t->lock);
	/* Find the node, the slot pointing at it, its parent and the slot
	 * pointing at the parent. */
	struct lpm_node *_Atomic *slot = &t->root, *_Atomic *parent_slot = &t->root;
	struct lpm_node *node, *parent = NULL;
	uint32_t ml = 0;
	while ((node = atomic_load_explicit(slot, memory_order_relaxed))) {
		ml = match_len(t, node, key.data, key.prefixlen);
		if (node->prefixlen != ml || node->prefixlen == key.prefixlen)
			break;
		parent = node;
		parent_slot = slot;
		slot = &node->child[extract_bit(key.data, node->prefixlen)];
	}
	if (!node || node->prefixlen != key.prefixlen || ml != node->prefixlen ||
	    (atomic_load_explicit(&node->flags, memory_order_relaxed) & LPM_NODE_IM)) {
		pthread_mutex_unlock(&t->lock);
		return -ENOENT;
	}
	t->n_entries--;

	struct lpm_node *c0 = atomic_load_explicit(&node->child[0], memory_order_relaxed);
	struct lpm_node *c1 = atomic_load_explicit(&node->child[1], memory_order_relaxed);
	if (c0 && c1) {
		/* Still needed as a branch point: it becomes intermediate. */
		atomic_store_explicit(&node->flags, LPM_NODE_IM, memory_order_relaxed);
	} else if (!c0 && !c1 && parent &&
		   (atomic_load_explicit(&parent->flags, memory_order_relaxed) & LPM_NODE_IM)) {
		/* A leaf under an intermediate node: the intermediate node
		 * has no reason left to exist, its other child takes its
		 * place (IM nodes always have exactly two children). */
		struct lpm_node *sibling = atomic_load_explicit(
			&parent->child[atomic_load_explicit(&parent->child[0], memory_order_relaxed) == node],
			memory_order_relaxed);
		atomic_store_explicit(parent_slot, sibling, memory_order_release);
		node_retire(parent);
		node_retire(node);
	} else {
		/* Zero or one child: the child (or nothing) takes its place. */
		atomic_store_explicit(slot, c0 ? c0 : c1, memory_order_release);
		node_retire(node);
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void copy_out_key(const struct bee_lpm_trie *t, void *next_key, const struct lpm_node *node)
{
	unsigned char *out = next_key;
	memcpy(out, &node->prefixlen, LPM_KEY_HDR);
	memcpy(out + LPM_KEY_HDR, node->data, t->data_size);
}

/* The first real node in postorder below root: go left while possible,
 * else right, down to a leaf (leaves are always real). */
static struct lpm_node *leftmost(struct lpm_node *root)
{
	struct lpm_node *last_real = NULL;
	for (struct lpm_node *node = root; node;) {
		if (!(atomic_load_explicit(&node->flags, memory_order_relaxed) & LPM_NODE_IM))
			last_real = node;
		struct lpm_node *next = atomic_load_explicit(&node->child[0], memory_order_acquire);
		if (!next)
			next = atomic_load_explicit(&node->child[1], memory_order_acquire);
		node = next;
	}
	return last_real;
}

/*
 * Postorder, as the kernel's trie_get_next_key: a missing or unknown key
 * starts at the leftmost leaf; after a node comes the leftmost leaf of its
 * right sibling's subtree, or else its nearest real ancestor.
 */
static int trie_get_next_key(struct bee_map *map, const void *key_in, void *next_key)
{
	struct bee_lpm_trie *t = trie_of(map);
	struct lpm_node *root = atomic_load_explicit(&t->root, memory_order_acquire);
	struct lpm_node *next = NULL;
	if (!root)
		return -ENOENT;
	struct lpm_key_copy key;
	if (key_in)
		copy_key(t, &key, key_in);
	if (!key_in || key.prefixlen > t->max_prefixlen) {
		next = leftmost(root);
		goto found;
	}
	/* Prefix lengths grow strictly along a path, so the path to the key
	 * has at most max_prefixlen + 1 nodes. */
	struct lpm_node **path = malloc(((size_t)t->max_prefixlen + 1) * sizeof(*path));
	if (!path)
		return -ENOMEM;
	size_t depth = 0;
	bool at_key = false;
	for (struct lpm_node *node = root; node && depth <= t->max_prefixlen;) {
		path[depth++] = node;
		uint32_t ml = match_len(t, node, key.data, key.prefixlen);
		if (node->prefixlen != ml || node->prefixlen == key.prefixlen) {
			at_key = ml == node->prefixlen && node->prefixlen == key.prefixlen &&
				 !(atomic_load_explicit(&node->flags, memory_order_relaxed) &
				   LPM_NODE_IM);
			break;
		}
		node = atomic_load_explicit(&node->child[extract_bit(key.data, node->prefixlen)],
					    memory_order_acquire);
	}
	if (!at_key) {
		free(path);
		next = leftmost(root);
		goto found;
	}
	/* path[depth - 1] is the key's node: climb. */
	for (size_t i = depth - 1; i > 0; i--) {
		struct lpm_node *parent = path[i - 1];
		if (atomic_load_explicit(&parent->child[0], memory_order_acquire) == path[i]) {
			struct lpm_node *right =
				atomic_load_explicit(&parent->child[1], memory_order_acquire);
			if (right) {
				next = leftmost(right);
				break;
			}
		}
		if (!(atomic_load_explicit(&parent->flags, memory_order_relaxed) & LPM_NODE_IM)) {
			next = parent;
			break;
		}
	}
	free(path);
found:
	/* NULL: the key was the last one (or, racing with deletes, the
	 * subtree emptied under us). */
	if (!next)
		return -ENOENT;
	copy_out_key(t, next_key, next);
	return 0;
}

/* Inside one value of a node slot of this trie's slab? */
static bool trie_value_ok(const struct bee_map *map, uintptr_t addr, size_t size)
{
	const struct lpm_slab *slab = trie_of(map)->slab;
	unsigned n = atomic_load_explicit(&((struct lpm_slab *)slab)->nchunks, memory_order_acquire);
	for (unsigned i = 0; i < n; i++) {
		uintptr_t base = (uintptr_t)slab->chunks[i].base;
		if (addr < base || addr - base >= slab->chunks[i].count * slab->node_size)
			continue;
		size_t off = (addr - base) % slab->node_size;
		return off >= slab->value_off && size <= slab->value_size &&
		       off - slab->value_off + size <= slab->value_size;
	}
	return false;
}

const struct bee_map_ops bee_lpm_trie_map_ops = {
	.alloc = trie_alloc,
	.free = trie_free,
	.lookup = trie_lookup,
	.update = trie_update,
	.delete = trie_delete,
	.get_next_key = trie_get_next_key,
	.value_ok = trie_value_ok,
};
