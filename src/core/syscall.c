/*
 * syscall.c - bee_bpf(): the kernel's bpf() command interface, and the
 * map commands.
 *
 * The attribute rules are the kernel's (kernel/bpf/syscall.c):
 *  - size may be smaller than union bpf_attr (older callers: the rest reads
 *    as zero) or larger, if every byte beyond what bee knows is zero
 *    (else -E2BIG);
 *  - for each command, the bytes after its last field must be zero
 *    (else -EINVAL), so that fields a newer caller sets are never ignored.
 * The caller's attr is copied in, and only the output fields of a command
 * are written back, never past size.
 *
 * Pointers in attr (keys, values, buffers) are the caller's own memory: the
 * host is trusted not to pass wild pointers (there is no copy_from_user to
 * catch them in one address space); NULL where a buffer is required is
 * -EFAULT, as the kernel answers for address 0.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"
#include "core/core.h"
#include "maps/array.h"
#include "util/epoch.h"

bool attr_zero_from(const union bpf_attr *attr, size_t end)
{
	const unsigned char *p = (const unsigned char *)attr;
	for (size_t i = end; i < sizeof(*attr); i++)
		if (p[i])
			return false;
	return true;
}

/* ---- map commands ---- */

/* The map behind attr->map_fd (referenced), or NULL with *err. */
static struct bee_map *map_of(struct bee *bee, uint32_t fd, int *err)
{
	struct bee_obj *obj = bee_handle_get(bee, (int)fd, 0);
	if (obj && obj->kind != BEE_OBJ_MAP) {
		bee_obj_put(obj);
		*err = -EINVAL; /* a handle, but not of a map: the kernel's answer */
		return NULL;
	}
	*err = obj ? 0 : -EBADF;
	return (struct bee_map *)obj;
}

static bool map_host_can_read(const struct bee_map *map)
{
	return !(map->map_flags & BPF_F_WRONLY);
}

static bool map_host_can_write(const struct bee_map *map)
{
	return !(map->map_flags & BPF_F_RDONLY) && !atomic_load(&map->frozen);
}

static void map_destroy(struct bee_obj *obj);

/*
 * A map's BTF (btf_fd with btf_key_type_id / btf_value_type_id): the
 * kernel's map_check_btf.  The type ids must name types whose sizes are
 * the key and value sizes; a key type id of 0 is only for the global data
 * maps libbpf creates (a one-element array whose value is a DATASEC, as
 * array_map_check_btf allows); an array's key must be a 32-bit INT.  The
 * map keeps a reference to the BTF object, so that the btf_id its info
 * reports stays valid.  Without type ids btf_fd is ignored, as in the
 * kernel.
 */
static int map_attach_btf(struct bee *bee, struct bee_map *map, const union bpf_attr *attr)
{
	if (!attr->btf_key_type_id && !attr->btf_value_type_id)
		return 0;
	struct bee_obj *o = bee_handle_get(bee, (int)attr->btf_fd, 0);
	if (!o)
		return -EBADF;
	if (o->kind != BEE_OBJ_BTF) {
		bee_obj_put(o);
		return -EINVAL;
	}
	const struct bee_btf_data *btf = ((struct bee_btf *)o)->parsed;
	int err = 0;
	uint32_t kid = attr->btf_key_type_id, vid = attr->btf_value_type_id;
	bool array = map->type == BPF_MAP_TYPE_ARRAY || map->type == BPF_MAP_TYPE_PERCPU_ARRAY;
	if (!err && kid) {
		long long ks = bee_btf_resolve_size(btf, kid);
		const struct btf_type *kt = bee_btf_type_by_id(btf, bee_btf_skip_modifiers_typedefs(btf, kid));
		if (ks < 0 || (uint64_t)ks != map->key_size || !kt)
			err = -EINVAL;
		else if (array && (bee_btf_kind(kt) != BTF_KIND_INT ||
				   BTF_INT_BITS(bee_btf_int_data(kt)) != 32 ||
				   BTF_INT_OFFSET(bee_btf_int_data(kt))))
			err = -EINVAL;
	}
	if (!err) {
		long long vs = bee_btf_resolve_size(btf, vid);
		if (!vid || vs < 0 || (uint64_t)vs != map->value_size)
			err = -EINVAL;
	}
	if (!err && !kid) {
		const struct btf_type *vt = bee_btf_type_by_id(btf, vid);
		if (map->type != BPF_MAP_TYPE_ARRAY || map->max_entries != 1 || !vt ||
		    bee_btf_kind(vt) != BTF_KIND_DATASEC)
			err = -EINVAL;
	}
	if (err) {
		bee_obj_put(o);
		return err;
	}
	map->btf = (struct bee_btf *)o;
	map->btf_key_type_id = kid;
	map->btf_value_type_id = vid;
	return 0;
}

static int cmd_map_create(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(map_extra)))
		return -EINVAL;
	struct bee_map *inner = NULL;
	int err;
	if (attr->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	    attr->map_type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		if (attr->value_size != 4)
			return -EINVAL;
		inner = map_of(bee, attr->inner_map_fd, &err);
		if (!inner)
			return err;
		if (inner->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		    inner->type == BPF_MAP_TYPE_HASH_OF_MAPS ||
		    inner->type == BPF_MAP_TYPE_PROG_ARRAY) {
			bee_obj_put(&inner->obj);
			return -ENOTSUPP; /* the kernel refuses nesting and prog arrays */
		}
	}
	struct bee_map *map = bee_map_create_attr(attr, bee->ncpus, inner, &err);
	if (inner)
		bee_obj_put(&inner->obj);
	if (!map)
		return err;
	if ((err = map_attach_btf(bee, map, attr)) < 0) {
		map->ops->free(map);
		return err;
	}
	if ((err = bee_obj_register(bee, &map->obj, map_destroy)) < 0) {
		if (map->btf)
			bee_obj_put(&map->btf->obj);
		map->ops->free(map);
		return err;
	}
	map->owner = bee;
	int fd = bee_handle_new(bee, &map->obj);
	if (fd < 0)
		bee_obj_put(&map->obj);
	return fd;
}

static void map_free_deferred(void *arg)
{
	struct bee_map *map = arg;
	if (map->btf)
		bee_obj_put(&map->btf->obj);
	map->ops->free(map);
}

static void map_destroy(struct bee_obj *obj)
{
	struct bee_map *map = (struct bee_map *)obj;
	bee_obj_unregister(map->owner, obj);
	bee_epoch_defer(map_free_deferred, map);
}

/* fd-valued maps (prog arrays, map-in-map): the host's u32 handle in. */
static int fd_map_update(struct bee *bee, struct bee_map *map, const void *key, uint32_t fd,
			 uint64_t flags)
{
	struct bee_obj *obj;
	/* fd arrays take BPF_ANY only (hash of maps: the hash rules), and
	 * check the index before the handle */
	if (map->type != BPF_MAP_TYPE_HASH_OF_MAPS) {
		if (flags != BPF_ANY)
			return -EINVAL;
		if (*(const uint32_t *)key >= map->max_entries)
			return -E2BIG;
	}
	/* No such handle: -EBADF; a handle of the wrong kind: -EINVAL. */
	struct bee_obj *any = bee_handle_get(bee, (int)fd, 0);
	if (!any)
		return -EBADF;
	enum bee_obj_kind want = map->type == BPF_MAP_TYPE_PROG_ARRAY ? BEE_OBJ_PROG : BEE_OBJ_MAP;
	if (any->kind != want) {
		bee_obj_put(any);
		return -EINVAL;
	}
	if (map->type == BPF_MAP_TYPE_PROG_ARRAY) {
		int err = bee_prog_array_check_owner(map, (int)((struct bee_prog *)any)->type);
		if (err) {
			bee_obj_put(any);
			return err;
		}
		obj = any;
	} else {
		struct bee_map *inner = (struct bee_map *)any;
		bool same = bee_map_inner_matches(map, inner);
		if (!same) {
			bee_obj_put(&inner->obj);
			return -EINVAL;
		}
		obj = &inner->obj;
	}
	bee_epoch_enter();
	int err = map->ops->fd_update(map, key, obj, flags);
	bee_epoch_exit();
	if (err)
		bee_obj_put(obj);
	return err;
}

static int host_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags);
static int host_update(struct bee *bee, struct bee_map *map, const void *key, const void *value,
		       uint64_t flags);

static int cmd_map_elem(struct bee *bee, int cmd, union bpf_attr *attr)
{
	size_t end = cmd == BPF_MAP_DELETE_ELEM    ? ATTR_END(key)
		     : cmd == BPF_MAP_GET_NEXT_KEY ? ATTR_END(next_key)
						   : ATTR_END(flags);
	if (!attr_zero_from(attr, end))
		return -EINVAL;
	int err;
	struct bee_map *map = map_of(bee, attr->map_fd, &err);
	if (!map)
		return err;
	void *key = u64_to_ptr(attr->key);
	void *value = u64_to_ptr(attr->value);
	bool keyless = map->key_size == 0;
	if (!keyless && !key && cmd != BPF_MAP_GET_NEXT_KEY) {
		err = -EFAULT;
		goto out;
	}
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM:
		if (!map_host_can_read(map)) {
			err = -EPERM;
		} else if (!value) {
			/* the kernel looks up first: a missing key is -ENOENT */
			err = host_lookup(map, key, NULL, attr->flags);
			if (!err)
				err = -EFAULT;
		} else {
			err = host_lookup(map, key, value, attr->flags);
		}
		break;
	case BPF_MAP_UPDATE_ELEM:
		if (!map_host_can_write(map))
			err = -EPERM;
		else if (attr->flags & BPF_F_LOCK)
			err = -EINVAL; /* no value has a bpf_spin_lock */
		else if (!value)
			err = -EFAULT;
		else
			err = host_update(bee, map, key, value, attr->flags);
		break;
	case BPF_MAP_DELETE_ELEM:
		err = map_host_can_write(map) ? bee_map_sys_delete(map, key) : -EPERM;
		break;
	case BPF_MAP_GET_NEXT_KEY:
		if (!map_host_can_read(map))
			err = -EPERM;
		else if (!u64_to_ptr(attr->next_key)) {
			/* the kernel finds the next key first: at the end, -ENOENT */
			void *scratch = malloc(map->key_size + 8);
			err = scratch ? bee_map_sys_get_next_key(map, key, scratch) : -ENOMEM;
			free(scratch);
			if (!err)
				err = -EFAULT;
		} else
			err = bee_map_sys_get_next_key(map, key, u64_to_ptr(attr->next_key));
		break;
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		if (attr->flags & ~(uint64_t)BPF_F_LOCK)
			err = -EINVAL; /* unknown flags first, as the kernel checks them */
		else if (!map_host_can_read(map) || !map_host_can_write(map))
			err = -EPERM;
		else if (attr->flags & BPF_F_LOCK)
			err = -EINVAL; /* no value has a bpf_spin_lock */
		else if (!map->ops->sys_lookup_and_delete && map->type != BPF_MAP_TYPE_QUEUE &&
			 map->type != BPF_MAP_TYPE_STACK)
			err = -ENOTSUPP;
		else if (!value)
			err = host_lookup(map, key, NULL, 0) == -ENOENT ? -ENOENT : -EFAULT;
		else
			err = bee_map_sys_lookup_and_delete(map, key, value, attr->flags);
		break;
	}
out:
	bee_obj_put(&map->obj);
	return err;
}

static int cmd_map_freeze(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(map_fd)))
		return -EINVAL;
	int err;
	struct bee_map *map = map_of(bee, attr->map_fd, &err);
	if (!map)
		return err;
	bool expected = false;
	if (!map_host_can_write(map)) /* read-only, or frozen already: no write access */
		err = -EPERM;
	else if (!atomic_compare_exchange_strong(&map->frozen, &expected, true))
		err = -EBUSY;
	bee_obj_put(&map->obj);
	return err;
}

/* Lookup (and delete) batch: up to count elements after the cursor. */
static int batch_lookup(struct bee_map *map, union bpf_attr *attr, unsigned char *keys,
			unsigned char *values, uint32_t count, uint32_t *done, bool del)
{
	uint32_t ks = map->key_size, vs = bee_map_sys_value_size(map);
	void *in = u64_to_ptr(attr->batch.in_batch);
	void *out_cursor = u64_to_ptr(attr->batch.out_batch);
	if (!out_cursor)
		return -EFAULT;
	unsigned char *cur = malloc(ks), *next = malloc(ks);
	int err = 0;
	if (!cur || !next) {
		free(cur);
		free(next);
		return -ENOMEM;
	}
	bool have_cur = in != NULL;
	if (have_cur)
		memcpy(cur, in, ks);
	while (*done < count) {
		err = bee_map_sys_get_next_key(map, have_cur ? cur : NULL, next);
		if (err)
			break;
		memcpy(cur, next, ks);
		have_cur = true;
		int e = host_lookup(map, next, values + (size_t)*done * vs, attr->batch.elem_flags);
		if (e == -ENOENT)
			continue; /* deleted meanwhile */
		if (e) {
			err = e;
			break;
		}
		memcpy(keys + (size_t)*done * ks, next, ks);
		(*done)++;
	}
	if (have_cur)
		memcpy(out_cursor, cur, ks);
	if (del)
		for (uint32_t i = 0; i < *done; i++)
			bee_map_sys_delete(map, keys + (size_t)i * ks);
	free(cur);
	free(next);
	return err;
}

/* Which batch commands a map type has (the kernel's map ops tables):
 * others answer -ENOTSUPP. */
static bool batch_supported(const struct bee_map *map, int cmd)
{
	switch (map->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
		return true;
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
		return cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_UPDATE_BATCH;
	case BPF_MAP_TYPE_LPM_TRIE:
		return cmd != BPF_MAP_LOOKUP_AND_DELETE_BATCH;
	default:
		return false;
	}
}

/* One element from the host, whatever the map's values are. */
static int host_lookup(struct bee_map *map, const void *key, void *value, uint64_t flags)
{
	if (!value) { /* only whether it is there */
		void *scratch = malloc(bee_map_sys_value_size(map) + 8);
		int err = scratch ? host_lookup(map, key, scratch, flags) : -ENOMEM;
		free(scratch);
		return err;
	}
	if (!map->ops->fd_valued)
		return bee_map_sys_lookup(map, key, value, flags);
	if (flags)
		return -EINVAL;
	bee_epoch_enter();
	struct bee_obj *o = map->ops->fd_lookup(map, key);
	if (o)
		*(uint32_t *)value = o->id;
	bee_epoch_exit();
	return o ? 0 : -ENOENT;
}

static int host_update(struct bee *bee, struct bee_map *map, const void *key, const void *value,
		       uint64_t flags)
{
	if (flags & BPF_F_LOCK)
		return -EINVAL; /* no value has a bpf_spin_lock */
	if (map->ops->fd_valued)
		return fd_map_update(bee, map, key, *(const uint32_t *)value, flags);
	return bee_map_sys_update(map, key, value, flags);
}

/*
 * The batch commands: the cursor (in_batch, out_batch) is the last key
 * handled, key_size bytes, and iteration follows get_next_key.  -ENOENT
 * (with count set) means the map is done.  An error before any element
 * was handled leaves count as the caller set it, as the kernel does.
 */
static int cmd_map_batch(struct bee *bee, int cmd, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(batch)))
		return -EINVAL;
	int err;
	struct bee_map *map = map_of(bee, attr->batch.map_fd, &err);
	if (!map)
		return err;
	uint32_t count = attr->batch.count, done = 0;
	bool processed = false;
	unsigned char *keys = u64_to_ptr(attr->batch.keys);
	unsigned char *values = u64_to_ptr(attr->batch.values);
	uint32_t ks = map->key_size, vs = bee_map_sys_value_size(map);
	bool lookup = cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH;
	bool del = cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH || cmd == BPF_MAP_DELETE_BATCH;
	if ((lookup && !map_host_can_read(map)) || (!lookup && !map_host_can_write(map)) ||
	    (del && !map_host_can_write(map)))
		err = -EPERM;
	else if (!batch_supported(map, cmd))
		err = -ENOTSUPP;
	else if (attr->batch.flags || (attr->batch.elem_flags & BPF_F_LOCK) ||
		 (cmd == BPF_MAP_UPDATE_BATCH && attr->batch.elem_flags))
		err = -EINVAL; /* update batches take 0 or BPF_F_LOCK only */
	else if (!count)
		err = 0;
	else if (!keys || ((lookup || cmd == BPF_MAP_UPDATE_BATCH) && !values))
		err = -EFAULT;
	else if (!lookup) {
		/* update and delete: the keys (and values) are given; from here
		 * on count says how many were done, even after a failure */
		processed = true;
		for (err = 0; done < count; done++) {
			err = cmd == BPF_MAP_UPDATE_BATCH
				      ? host_update(bee, map, keys + (size_t)done * ks,
						    values + (size_t)done * vs, attr->batch.elem_flags)
				      : bee_map_sys_delete(map, keys + (size_t)done * ks);
			if (err)
				break;
		}
	} else {
		err = batch_lookup(map, attr, keys, values, count, &done, del);
	}
	if (processed || done || !err || err == -ENOENT)
		attr->batch.count = done;
	bee_obj_put(&map->obj);
	return err;
}

/* ---- ids, handles by id, info ---- */

static enum bee_obj_kind kind_of_cmd(int cmd)
{
	switch (cmd) {
	case BPF_PROG_GET_NEXT_ID: case BPF_PROG_GET_FD_BY_ID: return BEE_OBJ_PROG;
	case BPF_MAP_GET_NEXT_ID: case BPF_MAP_GET_FD_BY_ID: return BEE_OBJ_MAP;
	case BPF_LINK_GET_NEXT_ID: case BPF_LINK_GET_FD_BY_ID: return BEE_OBJ_LINK;
	default: return BEE_OBJ_BTF;
	}
}

static int cmd_get_next_id(struct bee *bee, int cmd, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(next_id)))
		return -EINVAL;
	return bee_obj_next_id(bee, kind_of_cmd(cmd), attr->start_id, &attr->next_id);
}

static int cmd_get_fd_by_id(struct bee *bee, int cmd, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(open_flags)))
		return -EINVAL;
	if (attr->open_flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY))
		return -EINVAL;
	struct bee_obj *obj = bee_obj_by_id(bee, kind_of_cmd(cmd), attr->start_id);
	if (!obj)
		return -ENOENT;
	int fd = bee_handle_new(bee, obj);
	if (fd < 0)
		bee_obj_put(obj);
	return fd;
}

int bee_info_copy_out(union bpf_attr *attr, const void *info, uint32_t size)
{
	uint32_t len = attr->info.info_len;
	unsigned char *user = u64_to_ptr(attr->info.info);
	if (!user)
		return -EFAULT;
	/* A newer caller's bigger struct: what bee does not know must be zero. */
	for (uint32_t i = size; i < len; i++)
		if (user[i])
			return -E2BIG;
	if (len > size)
		len = size;
	memcpy(user, info, len);
	attr->info.info_len = len;
	return 0;
}

static int cmd_obj_get_info(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(info)))
		return -EINVAL;
	struct bee_obj *obj = bee_handle_get(bee, (int)attr->info.bpf_fd, 0);
	if (!obj)
		return -EBADF;
	int err;
	switch (obj->kind) {
	case BEE_OBJ_PROG: err = bee_prog_info(bee, (struct bee_prog *)obj, attr); break;
	case BEE_OBJ_MAP: err = bee_map_info(bee, (struct bee_map *)obj, attr); break;
	case BEE_OBJ_BTF: err = bee_btf_info((struct bee_btf *)obj, attr); break;
	case BEE_OBJ_LINK: err = bee_link_info((struct bee_link_obj *)obj, attr); break;
	default: err = -EINVAL; break;
	}
	bee_obj_put(obj);
	return err;
}

/* BPF_ENABLE_STATS: run time statistics are kept while a handle it gave is
 * open; the handle is a "stats" object whose destruction turns them off. */
struct stats_obj {
	struct bee_obj obj;
	struct bee *bee;
};

static void stats_destroy(struct bee_obj *obj)
{
	struct stats_obj *s = (struct stats_obj *)obj;
	atomic_fetch_sub(&s->bee->stats_enabled, 1);
	free(s);
}

static int cmd_enable_stats(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(enable_stats)))
		return -EINVAL;
	if (attr->enable_stats.type != BPF_STATS_RUN_TIME)
		return -EINVAL;
	struct stats_obj *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->bee = bee;
	s->obj.kind = 0; /* not an id-carrying object */
	atomic_init(&s->obj.refcnt, 1);
	s->obj.destroy = stats_destroy;
	atomic_fetch_add(&bee->stats_enabled, 1);
	int fd = bee_handle_new(bee, &s->obj);
	if (fd < 0)
		bee_obj_put(&s->obj);
	return fd;
}

/* ---- the dispatcher ---- */

long bee_bpf(struct bee *bee, int cmd, union bpf_attr *uattr, unsigned int size)
{
	if (!bee)
		return -EINVAL;
	if (!uattr)
		return -EFAULT;
	/* Bytes past the union bee knows must be zero. */
	if (size > sizeof(union bpf_attr)) {
		const unsigned char *p = (const unsigned char *)uattr;
		for (size_t i = sizeof(union bpf_attr); i < size; i++)
			if (p[i])
				return -E2BIG;
		size = sizeof(union bpf_attr);
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	memcpy(&attr, uattr, size);

	long ret;
	switch (cmd) {
	case BPF_MAP_CREATE: ret = cmd_map_create(bee, &attr); break;
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM: ret = cmd_map_elem(bee, cmd, &attr); break;
	case BPF_MAP_FREEZE: ret = cmd_map_freeze(bee, &attr); break;
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH: ret = cmd_map_batch(bee, cmd, &attr); break;
	case BPF_PROG_LOAD: ret = bee_cmd_prog_load(bee, &attr); break;
	case BPF_PROG_TEST_RUN: ret = bee_cmd_prog_test_run(bee, &attr); break;
	case BPF_OBJ_PIN: ret = bee_cmd_obj_pin(bee, &attr); break;
	case BPF_OBJ_GET: ret = bee_cmd_obj_get(bee, &attr); break;
	case BPF_PROG_GET_NEXT_ID:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_LINK_GET_NEXT_ID: ret = cmd_get_next_id(bee, cmd, &attr); break;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID: ret = cmd_get_fd_by_id(bee, cmd, &attr); break;
	case BPF_OBJ_GET_INFO_BY_FD: ret = cmd_obj_get_info(bee, &attr); break;
	case BPF_BTF_LOAD: ret = bee_cmd_btf_load(bee, &attr); break;
	case BPF_LINK_CREATE: ret = bee_cmd_link_create(bee, &attr); break;
	case BPF_LINK_DETACH: ret = bee_cmd_link_detach(bee, &attr); break;
	case BPF_RAW_TRACEPOINT_OPEN: ret = bee_cmd_raw_tracepoint_open(bee, &attr); break;
	case BPF_ENABLE_STATS: ret = cmd_enable_stats(bee, &attr); break;
	default: ret = -EINVAL; break;
	}
	/* Write back what the commands return in attr, within size. */
	size_t out_start = 0, out_end = 0;
	switch (cmd) {
	case BPF_PROG_TEST_RUN:
		out_start = offsetof(union bpf_attr, test);
		out_end = ATTR_END(test);
		break;
	case BPF_OBJ_GET_INFO_BY_FD:
		out_start = offsetof(union bpf_attr, info);
		out_end = ATTR_END(info);
		break;
	case BPF_PROG_GET_NEXT_ID:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_LINK_GET_NEXT_ID:
		out_start = offsetof(union bpf_attr, next_id);
		out_end = ATTR_END(next_id);
		break;
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		out_start = offsetof(union bpf_attr, batch.count);
		out_end = ATTR_END(batch.count);
		break;
	}
	if (out_end > size)
		out_end = size;
	if (out_end > out_start)
		memcpy((unsigned char *)uattr + out_start, (unsigned char *)&attr + out_start,
		       out_end - out_start);
	return ret;
}
