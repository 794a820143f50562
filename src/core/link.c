/*
 * link.c - links: a program attached to a hook, as an object with an id.
 *
 * In user space there are no kernel hooks to attach to; a hook is a pair
 * (attach type, target) that the embedder fires with bee_link_run(), e.g.
 * (BPF_TRACE_RAW_TP, 7) for "my request-done event".  LINK_CREATE attaches,
 * LINK_DETACH (or the link's last handle going) detaches.  The event
 * sources of beetrace fire hooks the same way.
 *
 * Named hooks.  A hook may also be named by a string ("raw_tp/my_event",
 * "tp/cat/name", "kprobe/func", "usdt/path:prov:name"...): bee_hook_id()
 * interns the name into a target id at or above BEE_HOOK_NAMED_BASE (the
 * ids never change and are never reused in an instance), and
 * BPF_RAW_TRACEPOINT_OPEN, the kernel's "attach by name" command, links a
 * program to the hook its name says (a name without '/' is the raw
 * tracepoint "raw_tp/NAME", as in the kernel).  bee_link_run_named() fires
 * a named hook: the name alone identifies it, so links of any attach type
 * with its id run.
 *
 * Pinned links outlive the instance (pin.c saves the attach type, the
 * hook, by name when it has one since named ids are per instance, and a
 * pin of the program); bee_link_new recreates them, detached ones too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/epoch.h"

static void link_free_deferred(void *arg)
{
	free(arg);
}

/* Take link off its instance's hook list and drop its program. */
static void link_detach(struct bee_link_obj *link)
{
	struct bee *bee = link->bee;
	pthread_mutex_lock(&bee->lock);
	for (struct bee_link_obj **pp = &bee->links; *pp; pp = &(*pp)->next) {
		if (*pp == link) {
			*pp = link->next;
			break;
		}
	}
	struct bee_prog *prog = atomic_exchange(&link->prog, NULL);
	pthread_mutex_unlock(&bee->lock);
	if (prog)
		bee_obj_put(&prog->obj);
}

static void link_destroy(struct bee_obj *obj)
{
	struct bee_link_obj *link = (struct bee_link_obj *)obj;
	link_detach(link);
	bee_obj_unregister(link->bee, obj);
	bee_epoch_defer(link_free_deferred, link);
}

int bee_link_new(struct bee *bee, struct bee_prog *prog, enum bpf_attach_type attach_type,
		 uint32_t target)
{
	struct bee_link_obj *link = calloc(1, sizeof(*link));
	if (!link) {
		if (prog)
			bee_obj_put(&prog->obj);
		return -ENOMEM;
	}
	link->bee = bee;
	link->obj.kind = BEE_OBJ_LINK;
	atomic_init(&link->obj.refcnt, 1);
	link->attach_type = attach_type;
	link->target = target;
	atomic_init(&link->prog, prog);
	int err = bee_obj_register(bee, &link->obj, link_destroy);
	if (err) {
		if (prog)
			bee_obj_put(&prog->obj);
		free(link);
		return err;
	}
	/* A detached link (recreated from a pin) is on no hook's list:
	 * link_detach finds nothing to unlink, as after BPF_LINK_DETACH. */
	if (prog) {
		pthread_mutex_lock(&bee->lock);
		link->next = bee->links;
		bee->links = link;
		pthread_mutex_unlock(&bee->lock);
	}
	int fd = bee_handle_new(bee, &link->obj);
	if (fd < 0)
		bee_obj_put(&link->obj);
	return fd;
}

int bee_cmd_link_create(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(link_create)))
		return -EINVAL;
	if (attr->link_create.flags)
		return -EINVAL;
	struct bee_prog *prog = bee_prog_get_fd(bee, (int)attr->link_create.prog_fd);
	if (!prog)
		return -EBADF;
	return bee_link_new(bee, prog, attr->link_create.attach_type, attr->link_create.target_fd);
}

int bee_cmd_link_detach(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(link_detach)))
		return -EINVAL;
	struct bee_link_obj *link = (struct bee_link_obj *)bee_handle_get(bee, (int)attr->link_detach.link_fd,
								   BEE_OBJ_LINK);
	if (!link)
		return -EBADF;
	link_detach(link);
	/* A pinned link's files say it is detached from now on, so that the
	 * next instance on the pin directory finds it detached too. */
	bee_pins_save_obj(bee, &link->obj);
	bee_obj_put(&link->obj);
	return 0;
}

static enum bpf_link_type link_type_of(enum bpf_attach_type t)
{
	switch (t) {
	case BPF_TRACE_RAW_TP: return BPF_LINK_TYPE_RAW_TRACEPOINT;
	case BPF_TRACE_FENTRY: case BPF_TRACE_FEXIT: case BPF_MODIFY_RETURN:
		return BPF_LINK_TYPE_TRACING;
	case BPF_TRACE_ITER: return BPF_LINK_TYPE_ITER;
	case BPF_XDP: return BPF_LINK_TYPE_XDP;
	case BPF_PERF_EVENT: return BPF_LINK_TYPE_PERF_EVENT;
	case BPF_TRACE_KPROBE_MULTI: return BPF_LINK_TYPE_KPROBE_MULTI;
	case BPF_CGROUP_INET_INGRESS: case BPF_CGROUP_INET_EGRESS:
		return BPF_LINK_TYPE_CGROUP;
	default: return BPF_LINK_TYPE_UNSPEC;
	}
}

/* ---- named hooks ---- */

#define HOOK_NAME_MAX 256

/* The id of name, or 0 when it is not interned (under bee->lock). */
static uint32_t hook_lookup_locked(struct bee *bee, const char *name)
{
	for (uint32_t i = 0; i < bee->nr_hook_names; i++)
		if (!strcmp(bee->hook_names[i], name))
			return BEE_HOOK_NAMED_BASE + i;
	return 0;
}

int bee_hook_id(struct bee *bee, const char *name, uint32_t *target)
{
	if (!bee || !name || !target || !name[0])
		return -EINVAL;
	if (strnlen(name, HOOK_NAME_MAX) >= HOOK_NAME_MAX)
		return -ENAMETOOLONG;
	int err = 0;
	pthread_mutex_lock(&bee->lock);
	uint32_t id = hook_lookup_locked(bee, name);
	if (!id) {
		if (bee->nr_hook_names == bee->cap_hook_names) {
			uint32_t cap = bee->cap_hook_names ? bee->cap_hook_names * 2 : 16;
			char **v = cap < (1u << 30) ? realloc(bee->hook_names, cap * sizeof(*v)) : NULL;
			if (!v)
				err = -ENOMEM;
			else
				bee->hook_names = v, bee->cap_hook_names = cap;
		}
		char *copy = err ? NULL : strdup(name);
		if (!err && !copy)
			err = -ENOMEM;
		if (!err) {
			bee->hook_names[bee->nr_hook_names] = copy;
			id = BEE_HOOK_NAMED_BASE + bee->nr_hook_names++;
		}
	}
	pthread_mutex_unlock(&bee->lock);
	if (!err)
		*target = id;
	return err;
}

void bee_hooks_free(struct bee *bee)
{
	for (uint32_t i = 0; i < bee->nr_hook_names; i++)
		free(bee->hook_names[i]);
	free(bee->hook_names);
	bee->hook_names = NULL;
	bee->nr_hook_names = bee->cap_hook_names = 0;
}

/* The canonical hook a BPF_RAW_TRACEPOINT_OPEN name names, into buf. */
static int hook_name_of(const char *name, char *buf, size_t len)
{
	size_t n = strnlen(name, HOOK_NAME_MAX);
	if (n == 0)
		return -EINVAL;
	if (n >= HOOK_NAME_MAX)
		return -ENAMETOOLONG;
	int w = strchr(name, '/') ? snprintf(buf, len, "%s", name)
				  : snprintf(buf, len, "raw_tp/%s", name);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

int bee_cmd_raw_tracepoint_open(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(raw_tracepoint)))
		return -EINVAL;
	const char *uname = (const char *)(uintptr_t)attr->raw_tracepoint.name;
	if (!uname)
		return -EINVAL; /* the kernel's BTF-id form (fentry...): no kernel here */
	char name[HOOK_NAME_MAX + 8];
	int err = hook_name_of(uname, name, sizeof(name));
	if (err)
		return err;
	struct bee_prog *prog = bee_prog_get_fd(bee, (int)attr->raw_tracepoint.prog_fd);
	if (!prog)
		return -EBADF;
	enum bpf_prog_type pt = prog->type;
	bee_obj_put(&prog->obj);
	if (!strncmp(name, "raw_tp/", 7) && pt != BPF_PROG_TYPE_RAW_TRACEPOINT &&
	    pt != BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE)
		return -EINVAL;
	uint32_t id;
	if ((err = bee_hook_id(bee, name, &id)))
		return err;
	union bpf_attr la;
	memset(&la, 0, sizeof(la));
	la.link_create.prog_fd = attr->raw_tracepoint.prog_fd;
	la.link_create.target_fd = id;
	la.link_create.attach_type = BPF_TRACE_RAW_TP;
	return bee_cmd_link_create(bee, &la);
}

int bee_link_info(struct bee_link_obj *link, union bpf_attr *attr)
{
	struct bpf_link_info out = {0};
	out.type = link_type_of(link->attach_type);
	out.id = link->obj.id;
	bee_epoch_enter();
	struct bee_prog *prog = atomic_load(&link->prog);
	out.prog_id = prog ? prog->obj.id : 0;
	bee_epoch_exit();
	int err = 0;
	if (link->target >= BEE_HOOK_NAMED_BASE) {
		/* A named hook: a raw tracepoint link whose tp_name is the hook's
		 * name; the caller's buffer (tp_name, tp_name_len) is filled as
		 * the kernel fills it (-ENOSPC, truncated, when it is short). */
		struct bpf_link_info in = {0};
		uint32_t ulen = attr->info.info_len < sizeof(in) ? attr->info.info_len : sizeof(in);
		if (attr->info.info)
			memcpy(&in, (const void *)(uintptr_t)attr->info.info, ulen);
		char name[HOOK_NAME_MAX];
		pthread_mutex_lock(&link->bee->lock);
		uint32_t i = link->target - BEE_HOOK_NAMED_BASE;
		snprintf(name, sizeof(name), "%s",
			 i < link->bee->nr_hook_names ? link->bee->hook_names[i] : "");
		pthread_mutex_unlock(&link->bee->lock);
		size_t need = strlen(name) + 1;
		out.type = BPF_LINK_TYPE_RAW_TRACEPOINT;
		out.raw_tracepoint.tp_name = in.raw_tracepoint.tp_name;
		out.raw_tracepoint.tp_name_len = (uint32_t)need;
		char *ubuf = (char *)(uintptr_t)in.raw_tracepoint.tp_name;
		uint32_t blen = in.raw_tracepoint.tp_name_len;
		if (ubuf && blen) {
			size_t n = need <= blen ? need : blen;
			memcpy(ubuf, name, n);
			ubuf[n - 1] = 0;
			if (need > blen)
				err = -ENOSPC;
		} else if (ubuf || blen) {
			err = -EINVAL;
		}
	}
	int r = bee_info_copy_out(attr, &out, sizeof(out));
	return r ? r : err;
}

/* Run every live link on (type, target), or on target alone (any_type). */
static int run_links(struct bee *bee, bool any_type, enum bpf_attach_type type, uint32_t target,
		     void *ctx, size_t ctx_len)
{
	/* Collect the programs under the lock, run them outside it. */
	struct bee_prog *progs[64];
	int n = 0;
	pthread_mutex_lock(&bee->lock);
	for (struct bee_link_obj *l = bee->links; l && n < 64; l = l->next) {
		struct bee_prog *p = atomic_load(&l->prog);
		if (p && (any_type || l->attach_type == type) && l->target == target) {
			bee_obj_hold(&p->obj);
			progs[n++] = p;
		}
	}
	pthread_mutex_unlock(&bee->lock);
	int err = 0;
	for (int i = 0; i < n; i++) {
		uint64_t r0;
		int e = bee_prog_run(progs[i], ctx, ctx_len, NULL, &r0, NULL);
		if (e && !err)
			err = e;
		bee_obj_put(&progs[i]->obj);
	}
	return err ? err : n;
}

int bee_link_run(struct bee *bee, enum bpf_attach_type type, uint32_t target, void *ctx,
		 size_t ctx_len)
{
	if (!bee)
		return -EINVAL;
	return run_links(bee, false, type, target, ctx, ctx_len);
}

int bee_link_run_named(struct bee *bee, const char *name, void *ctx, size_t ctx_len)
{
	if (!bee || !name)
		return -EINVAL;
	pthread_mutex_lock(&bee->lock);
	uint32_t id = hook_lookup_locked(bee, name);
	pthread_mutex_unlock(&bee->lock);
	return id ? run_links(bee, true, (enum bpf_attach_type)0, id, ctx, ctx_len) : 0;
}
