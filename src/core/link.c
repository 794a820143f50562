/*
 * link.c - links: a program attached to a hook, as an object with an id.
 *
 * In user space there are no kernel hooks to attach to; a hook is a pair
 * (attach type, target) that the embedder fires with bee_link_run(), e.g.
 * (BPF_TRACE_RAW_TP, 7) for "my request-done event".  LINK_CREATE attaches,
 * LINK_DETACH (or the link's last handle going) detaches.  The event
 * sources of beetrace fire hooks the same way.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/core.h"
#include "util/epoch.h"

static void link_free_deferred(void *arg)
{
	free(arg);
}

/* Take link off its instance's hook list and drop its program. */
static void link_detach(struct bee_link *link)
{
	struct bee *bee = link->bee;
	pthread_mutex_lock(&bee->lock);
	for (struct bee_link **pp = &bee->links; *pp; pp = &(*pp)->next) {
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
	struct bee_link *link = (struct bee_link *)obj;
	link_detach(link);
	bee_obj_unregister(link->bee, obj);
	bee_epoch_defer(link_free_deferred, link);
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
	struct bee_link *link = calloc(1, sizeof(*link));
	if (!link) {
		bee_obj_put(&prog->obj);
		return -ENOMEM;
	}
	link->bee = bee;
	link->obj.kind = BEE_OBJ_LINK;
	atomic_init(&link->obj.refcnt, 1);
	link->attach_type = attr->link_create.attach_type;
	link->target = attr->link_create.target_fd;
	atomic_init(&link->prog, prog);
	int err = bee_obj_register(bee, &link->obj, link_destroy);
	if (err) {
		bee_obj_put(&prog->obj);
		free(link);
		return err;
	}
	pthread_mutex_lock(&bee->lock);
	link->next = bee->links;
	bee->links = link;
	pthread_mutex_unlock(&bee->lock);
	int fd = bee_handle_new(bee, &link->obj);
	if (fd < 0)
		bee_obj_put(&link->obj);
	return fd;
}

int bee_cmd_link_detach(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(link_detach)))
		return -EINVAL;
	struct bee_link *link = (struct bee_link *)bee_handle_get(bee, (int)attr->link_detach.link_fd,
								   BEE_OBJ_LINK);
	if (!link)
		return -EBADF;
	link_detach(link);
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

int bee_link_info(struct bee_link *link, union bpf_attr *attr)
{
	struct bpf_link_info out = {0};
	out.type = link_type_of(link->attach_type);
	out.id = link->obj.id;
	bee_epoch_enter();
	struct bee_prog *prog = atomic_load(&link->prog);
	out.prog_id = prog ? prog->obj.id : 0;
	bee_epoch_exit();
	return bee_info_copy_out(attr, &out, sizeof(out));
}

int bee_link_run(struct bee *bee, enum bpf_attach_type type, uint32_t target, void *ctx,
		 size_t ctx_len)
{
	if (!bee)
		return -EINVAL;
	/* Collect the programs under the lock, run them outside it. */
	struct bee_prog *progs[64];
	int n = 0;
	pthread_mutex_lock(&bee->lock);
	for (struct bee_link *l = bee->links; l && n < 64; l = l->next) {
		struct bee_prog *p = atomic_load(&l->prog);
		if (p && l->attach_type == type && l->target == target) {
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
