/*
 * api.c - thin typed wrappers over bee_bpf(), one per command, in the
 * shape of libbpf's low-level bpf.h API: fill union bpf_attr, call.
 */
#include <errno.h>
#include <string.h>

#include "core/core.h"
#include "maps/array.h"
#include "maps/perf_event_array.h"
#include "maps/ringbuf.h"

static long call(struct bee *bee, int cmd, union bpf_attr *attr)
{
	return bee_bpf(bee, cmd, attr, sizeof(*attr));
}

static uint64_t ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Copy an opts struct whose first field is its size (older callers pass
 * smaller ones; the rest stays zero). */
#define OPTS_COPY(dst, src)                                                            \
	do {                                                                           \
		memset(&(dst), 0, sizeof(dst));                                        \
		if (src)                                                               \
			memcpy(&(dst), (src),                                          \
			       (src)->sz < sizeof(dst) ? (src)->sz : sizeof(dst));     \
	} while (0)

int bee_map_create(struct bee *bee, enum bpf_map_type type, const char *name, uint32_t key_size,
		   uint32_t value_size, uint32_t max_entries, const struct bee_map_create_opts *opts)
{
	struct bee_map_create_opts o;
	OPTS_COPY(o, opts);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = o.map_flags;
	a.inner_map_fd = o.inner_map_fd;
	a.map_extra = o.map_extra;
	a.numa_node = o.numa_node;
	a.btf_fd = o.btf_fd;
	a.btf_key_type_id = o.btf_key_type_id;
	a.btf_value_type_id = o.btf_value_type_id;
	if (name) {
		size_t n = strlen(name);
		if (n >= BPF_OBJ_NAME_LEN)
			return -EINVAL;
		memcpy(a.map_name, name, n);
	}
	return (int)call(bee, BPF_MAP_CREATE, &a);
}

static int map_elem(struct bee *bee, int cmd, int fd, const void *key, const void *value,
		    uint64_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ptr(key);
	a.value = ptr(value);
	a.flags = flags;
	return (int)call(bee, cmd, &a);
}

int bee_map_update(struct bee *bee, int fd, const void *key, const void *value, uint64_t flags)
{
	return map_elem(bee, BPF_MAP_UPDATE_ELEM, fd, key, value, flags);
}

int bee_map_lookup(struct bee *bee, int fd, const void *key, void *value)
{
	return map_elem(bee, BPF_MAP_LOOKUP_ELEM, fd, key, value, 0);
}

int bee_map_lookup_flags(struct bee *bee, int fd, const void *key, void *value, uint64_t flags)
{
	return map_elem(bee, BPF_MAP_LOOKUP_ELEM, fd, key, value, flags);
}

int bee_map_lookup_and_delete(struct bee *bee, int fd, const void *key, void *value)
{
	return map_elem(bee, BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, 0);
}

int bee_map_delete(struct bee *bee, int fd, const void *key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ptr(key);
	return (int)call(bee, BPF_MAP_DELETE_ELEM, &a);
}

int bee_map_get_next_key(struct bee *bee, int fd, const void *key, void *next_key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = ptr(key);
	a.next_key = ptr(next_key);
	return (int)call(bee, BPF_MAP_GET_NEXT_KEY, &a);
}

int bee_map_freeze(struct bee *bee, int fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	return (int)call(bee, BPF_MAP_FREEZE, &a);
}

int bee_map_frozen(struct bee *bee, int fd)
{
	struct bee_map *map = bee_map_get_fd(bee, fd);
	if (!map)
		return -EBADF;
	int frozen = atomic_load(&map->frozen) ? 1 : 0;
	bee_obj_put(&map->obj);
	return frozen;
}

int bee_prog_load(struct bee *bee, enum bpf_prog_type type, const char *name, const char *license,
		  const struct bpf_insn *insns, size_t insn_cnt,
		  const struct bee_prog_load_opts *opts)
{
	struct bee_prog_load_opts o;
	OPTS_COPY(o, opts);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = ptr(insns);
	a.insn_cnt = (uint32_t)insn_cnt;
	if (insn_cnt > UINT32_MAX)
		return -E2BIG;
	a.license = ptr(license);
	a.prog_flags = o.prog_flags;
	a.expected_attach_type = o.expected_attach_type;
	a.log_buf = ptr(o.log_buf);
	a.log_size = o.log_size;
	a.log_level = o.log_level;
	a.kern_version = o.kern_version;
	a.fd_array = ptr(o.fd_array);
	a.prog_btf_fd = o.prog_btf_fd;
	if (name) {
		size_t n = strlen(name);
		if (n >= BPF_OBJ_NAME_LEN)
			return -EINVAL;
		memcpy(a.prog_name, name, n);
	}
	return (int)call(bee, BPF_PROG_LOAD, &a);
}

int bee_prog_test_run(struct bee *bee, int prog_fd, struct bee_test_run_opts *opts)
{
	if (!opts || opts->sz < sizeof(size_t))
		return -EINVAL;
	struct bee_test_run_opts o;
	OPTS_COPY(o, opts);
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)prog_fd;
	a.test.data_in = ptr(o.data_in);
	a.test.data_out = ptr(o.data_out);
	a.test.data_size_in = o.data_size_in;
	a.test.data_size_out = o.data_size_out;
	a.test.ctx_in = ptr(o.ctx_in);
	a.test.ctx_out = ptr(o.ctx_out);
	a.test.ctx_size_in = o.ctx_size_in;
	a.test.ctx_size_out = o.ctx_size_out;
	a.test.repeat = (uint32_t)o.repeat;
	a.test.flags = o.flags;
	a.test.cpu = o.cpu;
	int err = (int)call(bee, BPF_PROG_TEST_RUN, &a);
	o.retval = a.test.retval;
	o.duration = a.test.duration;
	o.data_size_out = a.test.data_size_out;
	o.ctx_size_out = a.test.ctx_size_out;
	memcpy(opts, &o, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	return err;
}

static int obj_path(struct bee *bee, int cmd, int fd, const char *path)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.pathname = ptr(path);
	a.bpf_fd = (uint32_t)fd;
	return (int)call(bee, cmd, &a);
}

int bee_obj_pin(struct bee *bee, int fd, const char *path)
{
	return obj_path(bee, BPF_OBJ_PIN, fd, path);
}

int bee_obj_get(struct bee *bee, const char *path)
{
	return obj_path(bee, BPF_OBJ_GET, 0, path);
}

static int get_next_id(struct bee *bee, int cmd, uint32_t start, uint32_t *next)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = start;
	int err = (int)call(bee, cmd, &a);
	if (!err)
		*next = a.next_id;
	return err;
}

int bee_prog_get_next_id(struct bee *bee, uint32_t start_id, uint32_t *next_id)
{
	return get_next_id(bee, BPF_PROG_GET_NEXT_ID, start_id, next_id);
}

int bee_map_get_next_id(struct bee *bee, uint32_t start_id, uint32_t *next_id)
{
	return get_next_id(bee, BPF_MAP_GET_NEXT_ID, start_id, next_id);
}

static int fd_by_id(struct bee *bee, int cmd, uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.start_id = id;
	return (int)call(bee, cmd, &a);
}

int bee_prog_get_fd_by_id(struct bee *bee, uint32_t id)
{
	return fd_by_id(bee, BPF_PROG_GET_FD_BY_ID, id);
}

int bee_map_get_fd_by_id(struct bee *bee, uint32_t id)
{
	return fd_by_id(bee, BPF_MAP_GET_FD_BY_ID, id);
}

int bee_obj_get_info_by_fd(struct bee *bee, int fd, void *info, uint32_t *info_len)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = *info_len;
	a.info.info = ptr(info);
	int err = (int)call(bee, BPF_OBJ_GET_INFO_BY_FD, &a);
	if (!err)
		*info_len = a.info.info_len;
	return err;
}

int bee_ringbuf_poll(struct bee *bee, int map_fd, int (*cb)(void *ctx, void *data, size_t size),
		     void *ctx, int timeout_ms)
{
	struct bee_map *map = bee_map_get_fd(bee, map_fd);
	if (!map)
		return -EBADF;
	int ret = -EINVAL;
	if (map->type == BPF_MAP_TYPE_RINGBUF) {
		ret = timeout_ms ? bee_ringbuf_wait(map, timeout_ms) : 0;
		if (ret >= 0)
			ret = bee_ringbuf_consume(map, cb, ctx);
	}
	bee_obj_put(&map->obj);
	return ret;
}

int bee_perf_buffer_poll(struct bee *bee, int map_fd,
			 int (*cb)(void *ctx, int cpu, void *data, size_t size),
			 int (*lost)(void *ctx, int cpu, uint64_t count), void *ctx, int timeout_ms)
{
	struct bee_map *map = bee_map_get_fd(bee, map_fd);
	if (!map)
		return -EBADF;
	int ret = -EINVAL;
	if (map->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		ret = timeout_ms ? bee_perf_event_wait(map, timeout_ms) : 0;
		if (ret >= 0)
			ret = bee_perf_event_read_ex(map, cb, lost, ctx);
	}
	bee_obj_put(&map->obj);
	return ret;
}

void *bee_map_mmap(struct bee *bee, int map_fd, size_t *len)
{
	struct bee_map *map = bee_map_get_fd(bee, map_fd);
	if (!map) {
		errno = EBADF;
		return NULL;
	}
	void *p = NULL;
	if (map->type == BPF_MAP_TYPE_ARRAY)
		p = bee_array_mmap_area(map, len);
	bee_obj_put(&map->obj);
	if (!p)
		errno = EINVAL;
	return p;
}
