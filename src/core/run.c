/*
 * run.c - running programs of an instance, and BPF_PROG_TEST_RUN.
 *
 * A run is a read-side epoch section (maps, programs and values it reaches
 * stay allocated until it ends), owns a CPU slot (per-CPU maps), feeds
 * bpf_trace_printk output to the instance's trace pipe, and answers the
 * engines' questions: may a checked run touch this address (a map value)?
 * where does this tail call go?
 *
 * BPF_PROG_TEST_RUN builds the context each program type expects:
 *  - packet types with struct __sk_buff (socket filters, tc, cgroup skb,
 *    lwt) and XDP with struct xdp_md.  Their data/data_end fields are
 *    32 bits wide; the kernel's verifier rewrites context loads into
 *    64-bit pointer loads.  bee has no verifier rewriting yet, so it
 *    places packets below 4 GiB (MAP_32BIT) where a 32-bit field holds the
 *    whole address, and the programs' own loads work unchanged.
 *  - raw tracepoints and tracing programs: ctx_in is the u64 argument
 *    array; syscall programs: ctx_in is plain memory, copied back out.
 *  - kprobes, tracepoints and perf events (the kernel cannot test-run
 *    these): ctx_in is plain memory (pt_regs, the tracepoint record), a
 *    bee extension so that tracing programs can be tested in user space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/core.h"
#include "platform/platform.h"
#include "util/epoch.h"

static __thread struct bee_run_ctx *current_ctx;
static __thread struct bee_error last_error;

struct bee_run_ctx *bee_run_current(void)
{
	return current_ctx;
}

static bool map_value_ok(struct bee_map *map, uintptr_t addr, size_t size, bool write)
{
	if (!map->ops->value_ok || !map->ops->value_ok(map, addr, size))
		return false;
	/* what the kernel's verifier refuses for these flags, a checked run
	 * refuses at the access */
	if (write)
		return !(map->map_flags & BPF_F_RDONLY_PROG);
	return !(map->map_flags & BPF_F_WRONLY_PROG);
}

struct access {
	uintptr_t addr;
	size_t size;
	bool write;
};

static bool map_holds_access(struct bee_map *map, void *arg)
{
	const struct access *a = arg;
	return map_value_ok(map, a->addr, a->size, a->write);
}

/* Checked runs: an access outside the stack, the context and granted
 * regions may still be a map value the program was handed. */
static bool core_mem_check(void *user, uintptr_t addr, size_t size, bool write)
{
	struct bee_run_ctx *rc = user;
	struct bee_prog *prog = rc->prog;
	/* A test run's XDP packet: its bounds move with bpf_xdp_adjust_*, so
	 * it is no fixed region but what the helpers say it is now. */
	const struct bee_pkt *pkt = bee_pkt_current();
	if (pkt && pkt->kind == BEE_PKT_XDP && bee_pkt_contains(pkt, addr, size))
		return true;
	for (size_t i = 0; i < prog->n_maps; i++)
		if (map_value_ok(prog->maps[i], addr, size, write))
			return true;
	/* Inner maps, maps of programs tail-called from: every map. */
	struct access a = {addr, size, write};
	return bee_any_map(rc->bee, map_holds_access, &a);
}

static const struct bee_code *core_tail_call(void *user, uint64_t map_arg, uint64_t index)
{
	struct bee_run_ctx *rc = user;
	struct bee_map *map = bee_helper_map_arg(map_arg);
	if (!map || map->type != BPF_MAP_TYPE_PROG_ARRAY)
		return NULL;
	struct bee_prog *target = (struct bee_prog *)bee_prog_array_get(map, index);
	if (!target)
		return NULL;
	rc->prog = target; /* its maps are what the run may now reach */
	return target->code;
}

static void core_trace_hook(void *user, const char *msg, size_t len)
{
	struct bee_run_ctx *rc = user;
	bee_trace_pipe_write(rc->bee->trace, msg, len, rc->cpu);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bee_prog_run(struct bee_prog *prog, void *ctx, size_t ctx_len,
		 const struct bee_mem_region *pkt, uint64_t *r0, struct bee_error *err)
{
	struct bee *bee = prog->bee;
	struct bee_run_ctx rc = {.bee = bee, .prog = prog};
	struct bee_run_ctx *outer = current_ctx;
	unsigned outer_cpu = bee_cpu_current();

	bee_epoch_enter();
	rc.cpu = bee_cpu_acquire(bee);
	bee_cpu_set_current(rc.cpu);
	current_ctx = &rc;
	void *outer_user;
	bee_trace_hook_fn outer_hook = bee_trace_get_hook(&outer_user);
	bee_trace_set_hook(core_trace_hook, &rc);

	rc.checked = !(bee->trusted_fast_path && bee_code_trusted(prog->code));
	struct bee_run_opts opts = {
		.sz = sizeof(opts),
		.engine = bee->engine,
		.flags = rc.checked ? BEE_RUN_CHECKED : 0,
		.mem = ctx,
		.mem_len = ctx_len,
		.regions = pkt,
		.n_regions = pkt ? 1 : 0,
		.pkt = pkt ? pkt->start : NULL,
		.pkt_len = pkt ? pkt->len : 0,
		.max_insns = bee->max_insns, /* checked mode only: fast code is verified */
		.mem_check = core_mem_check,
		.user = &rc,
		.tail_call = core_tail_call,
	};
	struct bee_run_result result;
	bool stats = atomic_load_explicit(&bee->stats_enabled, memory_order_relaxed) > 0;
	uint64_t t0 = stats ? now_ns() : 0;
	int ret = bee_code_run(prog->code, &opts, &result);
	if (ret == -EOPNOTSUPP && bee->engine == BEE_ENGINE_JIT) {
		opts.engine = BEE_ENGINE_INTERP; /* no JIT on this machine */
		ret = bee_code_run(prog->code, &opts, &result);
	}
	if (stats) {
		atomic_fetch_add_explicit(&prog->run_time_ns, now_ns() - t0, memory_order_relaxed);
		atomic_fetch_add_explicit(&prog->run_cnt, 1, memory_order_relaxed);
	}

	bee_trace_set_hook(outer_hook, outer_user);
	current_ctx = outer;
	bee_cpu_release(bee, rc.cpu);
	bee_cpu_set_current(outer_cpu);
	bee_epoch_exit();
	*r0 = result.r0;
	if (err)
		*err = result.err;
	last_error = result.err;
	return ret;
}

const struct bee_error *bee_last_run_error(void)
{
	return last_error.code ? &last_error : NULL;
}

/* ---- BPF_PROG_TEST_RUN ---- */

enum ctx_kind { CTX_SKB, CTX_XDP, CTX_ARGS, CTX_PLAIN, CTX_NONE };

static enum ctx_kind ctx_kind_of(enum bpf_prog_type type)
{
	switch (type) {
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		return CTX_SKB;
	case BPF_PROG_TYPE_XDP:
		return CTX_XDP;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
	case BPF_PROG_TYPE_TRACING:
		return CTX_ARGS;
	case BPF_PROG_TYPE_SYSCALL:
	case BPF_PROG_TYPE_KPROBE:
	case BPF_PROG_TYPE_TRACEPOINT:
	case BPF_PROG_TYPE_PERF_EVENT:
		return CTX_PLAIN;
	default:
		return CTX_NONE;
	}
}

#define XDP_HEADROOM 256 /* XDP_PACKET_HEADROOM */
#define PKT_AREA 65536   /* room for the packet, headroom and tailroom */
#define ETH_HLEN 14
/* The kernel's XDP test buffer is a page: data_end may grow up to its end
 * less SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), 320 bytes on
 * x86-64 (bpf_prog_test_run_xdp, xdp_data_hard_end). */
#define XDP_FRAME_SZ 4096
#define XDP_TAILROOM 320

struct test_env {
	unsigned char *area;   /* below 4 GiB: MAP_32BIT */
	unsigned char *data;   /* the packet's first byte as the program sees it */
	uint32_t len;
	union {
		struct __sk_buff skb;
		struct xdp_md xdp;
	} ctx;
	void *plain;           /* CTX_ARGS / CTX_PLAIN: a copy of ctx_in */
	uint32_t plain_len;
	struct bee_pkt pkt;    /* the packet as the helpers move it */
};

static uint32_t addr32(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/*
 * The XDP buffer of bpf_prog_test_run_xdp: a page whose first
 * XDP_HEADROOM bytes are headroom, the kernel's struct xdp_frame at its
 * very start.  A context passed in may carry metadata: its data field is
 * then the metadata's length, taken from the headroom, and data_in starts
 * with the metadata (the kernel's checks: data_meta 0, data_end the whole
 * length, a valid metadata length that leaves the xdp_frame its room, 14
 * bytes of packet after it).  Without metadata bee stays lenient where
 * the kernel is not: a context's data_end is not checked, and packets
 * shorter than 14 bytes run.  bee's own buffer is larger: a packet
 * longer than the kernel's page (which the kernel would split into
 * fragments) stays linear, without tailroom.
 */
static int xdp_env_init(struct test_env *env, uint32_t dlen, const void *data_in, bool has_ctx)
{
	struct xdp_md *xdp = &env->ctx.xdp;
	uint32_t metalen = has_ctx ? xdp->data : 0;
	if (metalen && (xdp->data_meta || xdp->data_end != dlen || metalen > dlen ||
			dlen - metalen < ETH_HLEN || metalen % 4 || metalen > BEE_XDP_META_MAX ||
			XDP_HEADROOM - metalen < BEE_XDP_FRAME_SIZE))
		return -EINVAL;
	unsigned char *meta = env->area + XDP_HEADROOM - metalen;
	memcpy(meta, data_in, dlen);
	unsigned char *hard_end = env->area + XDP_FRAME_SZ - XDP_TAILROOM;
	env->pkt = (struct bee_pkt){
		.kind = BEE_PKT_XDP,
		.ctx = xdp,
		.writable = true,
		.hard_start = env->area,
		.hard_end = meta + dlen > hard_end ? meta + dlen : hard_end,
		.meta = meta,
		.data = meta + metalen,
		.end = meta + dlen,
	};
	xdp->data = addr32(env->pkt.data);
	xdp->data_meta = addr32(env->pkt.meta);
	xdp->data_end = addr32(env->pkt.end);
	if (!xdp->ingress_ifindex)
		xdp->ingress_ifindex = 1; /* loopback, as the kernel's test run */
	return 0;
}

static int test_env_init(struct test_env *env, enum bpf_prog_type type, enum ctx_kind kind,
			 const union bpf_attr *attr)
{
	const void *data_in = u64_to_ptr(attr->test.data_in);
	const void *ctx_in = u64_to_ptr(attr->test.ctx_in);
	uint32_t dlen = attr->test.data_size_in, clen = attr->test.ctx_size_in;
	memset(env, 0, sizeof(*env));
	if (kind == CTX_SKB || kind == CTX_XDP) {
		if (kind == CTX_SKB && dlen < ETH_HLEN)
			return -EINVAL;
		if (dlen > PKT_AREA - 2 * XDP_HEADROOM)
			return -E2BIG;
		if (!data_in)
			return -EINVAL;
		size_t max_ctx = kind == CTX_SKB ? sizeof(struct __sk_buff) : sizeof(struct xdp_md);
		if (clen > max_ctx)
			return -E2BIG;
		void *p = mmap(NULL, PKT_AREA, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (p == MAP_FAILED || (uintptr_t)p + PKT_AREA > UINT32_MAX) {
			if (p != MAP_FAILED)
				munmap(p, PKT_AREA);
			return -ENOMEM;
		}
		env->area = p;
		env->data = env->area + XDP_HEADROOM;
		env->len = dlen;
		if (ctx_in)
			memcpy(&env->ctx, ctx_in, clen);
		if (kind == CTX_XDP)
			return xdp_env_init(env, dlen, data_in, ctx_in != NULL);
		memcpy(env->data, data_in, dlen);
		if (kind == CTX_SKB) {
			struct __sk_buff *skb = &env->ctx.skb;
			bool l2 = type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT;
			unsigned char *start = l2 ? env->data : env->data + ETH_HLEN;
			skb->len = (uint32_t)(env->data + dlen - start);
			skb->protocol = (uint32_t)(env->data[12] | env->data[13] << 8);
			skb->pkt_type = 0;
			skb->data = addr32(start);
			skb->data_end = addr32(env->data + dlen);
			skb->data_meta = skb->data;
			if (!skb->ifindex)
				skb->ifindex = 1; /* the kernel's test runs use the loopback device */
			env->pkt = (struct bee_pkt){
				.kind = BEE_PKT_SKB,
				.ctx = skb,
				.writable = l2, /* bpf_skb_store_bytes: tc only */
				.hard_start = env->area,
				.hard_end = env->area + PKT_AREA,
				.meta = start,
				.data = start,
				.end = env->data + dlen,
				.mac = env->data, /* eth_type_trans reset it there */
				.net = env->data + ETH_HLEN,
			};
		}
		return 0;
	}
	if (kind == CTX_NONE)
		return -ENOTSUPP;
	if (dlen || data_in)
		return -EINVAL;
	if (kind == CTX_ARGS && (clen % 8 || clen > 12 * 8))
		return -EINVAL;
	if (clen) {
		if (!ctx_in)
			return -EFAULT;
		env->plain = malloc(clen);
		if (!env->plain)
			return -ENOMEM;
		memcpy(env->plain, ctx_in, clen);
		env->plain_len = clen;
	}
	return 0;
}

static void test_env_free(struct test_env *env)
{
	if (env->area)
		munmap(env->area, PKT_AREA);
	free(env->plain);
}

/* Copy n bytes out to a user buffer of *room bytes: -ENOSPC when it is
 * smaller (what fits is copied), *room set to n, as the kernel does. */
static int copy_out(uint64_t uptr, uint32_t *room, const void *src, uint32_t n)
{
	void *dst = u64_to_ptr(uptr);
	if (!dst)
		return 0;
	uint32_t have = *room;
	*room = n;
	if (have && have < n) {
		memcpy(dst, src, have);
		return -ENOSPC;
	}
	memcpy(dst, src, n);
	return 0;
}

int bee_cmd_prog_test_run(struct bee *bee, union bpf_attr *attr)
{
	if (!attr_zero_from(attr, ATTR_END(test.batch_size)))
		return -EINVAL;
	if (attr->test.flags & ~(uint32_t)BPF_F_TEST_RUN_ON_CPU)
		return -EINVAL;
	if (!(attr->test.flags & BPF_F_TEST_RUN_ON_CPU) && attr->test.cpu)
		return -EINVAL;
	struct bee_prog *prog = bee_prog_get_fd(bee, (int)attr->test.prog_fd);
	if (!prog)
		return -EBADF;
	enum ctx_kind kind = ctx_kind_of(prog->type);
	struct test_env env;
	int err = test_env_init(&env, prog->type, kind, attr);
	if (err) {
		bee_obj_put(&prog->obj);
		return err;
	}
	void *ctx;
	size_t ctx_len;
	struct bee_mem_region pkt = {0};
	bool has_pkt = kind == CTX_SKB || kind == CTX_XDP;
	if (has_pkt) {
		ctx = &env.ctx;
		ctx_len = kind == CTX_SKB ? sizeof(env.ctx.skb) : sizeof(env.ctx.xdp);
		/* the packet as the program sees it: from skb->data (after the
		 * Ethernet header for socket filters).  An XDP packet's bounds
		 * move (core_mem_check asks where it is now): its region is
		 * empty, and only places ld abs/ind, which XDP may not use. */
		unsigned char *start = env.pkt.data;
		size_t len = kind == CTX_SKB ? (size_t)(env.pkt.end - start) : 0;
		pkt = (struct bee_mem_region){start, len, true};
	} else {
		ctx = env.plain;
		ctx_len = env.plain_len;
	}

	uint32_t repeat = attr->test.repeat ? attr->test.repeat : 1;
	uint64_t r0 = 0;
	struct bee_error e;
	/* the kernel does not reset the packet between repeats: adjustments add up */
	struct bee_pkt *outer_pkt = bee_pkt_set_current(has_pkt ? &env.pkt : NULL);
	uint64_t t0 = now_ns();
	for (uint32_t i = 0; i < repeat && !err; i++)
		err = bee_prog_run(prog, ctx, ctx_len, has_pkt ? &pkt : NULL, &r0, &e);
	uint64_t total = now_ns() - t0;
	bee_pkt_set_current(outer_pkt);
	if (!err) {
		uint64_t avg = total / repeat;
		attr->test.duration = avg > UINT32_MAX ? UINT32_MAX : (uint32_t)avg;
		attr->test.retval = (uint32_t)r0;
		if (kind == CTX_SKB || kind == CTX_XDP) {
			/* XDP: from data_meta to data_end as the helpers left them,
			 * and the context's data and data_end as offsets from
			 * data_meta (xdp_convert_buff_to_md); an skb from its MAC
			 * header. */
			unsigned char *from = kind == CTX_XDP ? env.pkt.meta : env.data;
			/* types that start after the Ethernet header get it back
			 * zeroed (bpf_prog_test_run_skb: memset(__skb_push(...))) */
			if (kind == CTX_SKB && env.pkt.data != env.pkt.mac)
				memset(env.data, 0, ETH_HLEN);
			err = copy_out(attr->test.data_out, &attr->test.data_size_out, from,
				       (uint32_t)(env.pkt.end - from));
			if (kind == CTX_XDP) {
				env.ctx.xdp.data = (uint32_t)(env.pkt.data - env.pkt.meta);
				env.ctx.xdp.data_end = (uint32_t)(env.pkt.end - env.pkt.meta);
				env.ctx.xdp.data_meta = 0;
			}
			if (!err && attr->test.ctx_out)
				err = copy_out(attr->test.ctx_out, &attr->test.ctx_size_out, &env.ctx,
					       (uint32_t)ctx_len);
		} else if (attr->test.ctx_out && env.plain_len) {
			err = copy_out(attr->test.ctx_out, &attr->test.ctx_size_out, env.plain,
				       env.plain_len);
		}
	}
	test_env_free(&env);
	bee_obj_put(&prog->obj);
	return err;
}
