/*
 * btf.c - BPF_BTF_LOAD: BTF objects an instance holds for programs and
 * maps to name.  The header is checked first (magic, version, flags,
 * section bounds), then every type with src/btf/ (the layer below the core
 * that the loader uses too), as the kernel validates what it loads.
 */
#include <errno.h>
#include <stdio.h>
#include <linux/btf.h>
#include <stdlib.h>
#include <string.h>

#include "btf/btf.h"
#include "core/core.h"
#include "util/epoch.h"

#define BTF_MAX_SIZE (16 * 1024 * 1024)

static void btf_free_deferred(void *arg)
{
	struct bee_btf *btf = arg;
	bee_btf_free(btf->parsed);
	free(btf->data);
	free(btf);
}

static void btf_destroy(struct bee_obj *obj)
{
	struct bee_btf *btf = (struct bee_btf *)obj;
	bee_obj_unregister(btf->bee, obj);
	bee_epoch_defer(btf_free_deferred, btf);
}

static int btf_check_header(const unsigned char *data, uint32_t size)
{
	struct btf_header h;
	if (size < sizeof(h))
		return -EINVAL;
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION || h.flags)
		return -EINVAL;
	if (h.hdr_len < sizeof(h) || h.hdr_len > size)
		return -EINVAL;
	uint64_t body = size - h.hdr_len;
	if ((uint64_t)h.type_off + h.type_len > body || (uint64_t)h.str_off + h.str_len > body)
		return -EINVAL;
	if (h.type_off % 4 || h.str_len == 0)
		return -EINVAL;
	if (h.type_len == 0)
		return -EINVAL; /* the kernel: "No type found" */
	const unsigned char *strs = data + h.hdr_len + h.str_off;
	if (strs[0] != 0 || strs[h.str_len - 1] != 0)
		return -EINVAL; /* the string section starts with "" and ends in NUL */
	return 0;
}

int bee_cmd_btf_load(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(btf_log_level)))
		return -EINVAL;
	if (attr->btf_size > BTF_MAX_SIZE)
		return -E2BIG;
	const void *data = u64_to_ptr(attr->btf);
	if (!data)
		return -EFAULT;
	int err = btf_check_header(data, attr->btf_size);
	if (err)
		return err;
	/* The whole blob, every kind, as the kernel's btf_parse does; the
	 * reason goes to the log buffer when the caller gave one. */
	struct bee_error e;
	struct bee_btf_data *parsed = bee_btf_parse(data, attr->btf_size, NULL, &e);
	if (!parsed) {
		char *log = u64_to_ptr(attr->btf_log_buf);
		if (log && attr->btf_log_size && attr->btf_log_level)
			snprintf(log, attr->btf_log_size, "%s\n", e.msg);
		return e.code ? e.code : -EINVAL;
	}
	struct bee_btf *b = calloc(1, sizeof(*b));
	if (!b) {
		bee_btf_free(parsed);
		return -ENOMEM;
	}
	b->bee = bee;
	b->parsed = parsed;
	b->data = malloc(attr->btf_size);
	if (!b->data) {
		btf_free_deferred(b);
		return -ENOMEM;
	}
	memcpy(b->data, data, attr->btf_size);
	b->size = attr->btf_size;
	b->obj.kind = BEE_OBJ_BTF;
	atomic_init(&b->obj.refcnt, 1);
	if ((err = bee_obj_register(bee, &b->obj, btf_destroy)) < 0) {
		btf_free_deferred(b);
		return err;
	}
	int fd = bee_handle_new(bee, &b->obj);
	if (fd < 0)
		bee_obj_put(&b->obj);
	return fd;
}

int bee_btf_info(struct bee_btf *btf, union bpf_attr *attr)
{
	struct bpf_btf_info in = {0}, out = {0};
	const void *user = u64_to_ptr(attr->info.info);
	if (!user)
		return -EFAULT;
	memcpy(&in, user, attr->info.info_len < sizeof(in) ? attr->info.info_len : sizeof(in));
	out.id = btf->obj.id;
	out.btf = in.btf;
	out.btf_size = btf->size;
	if (in.btf && in.btf_size)
		memcpy(u64_to_ptr(in.btf), btf->data, in.btf_size < btf->size ? in.btf_size : btf->size);
	if (in.btf_size && in.btf_size < btf->size)
		return -ENOSPC;
	return bee_info_copy_out(attr, &out, sizeof(out));
}
