/*
 * progtypes.c - bee's built-in program types as tables, and the registry
 * that holds them with an embedder's own types.
 *
 * Theory.  Each built-in type transcribes, as a field list, what the
 * kernel's <type>_is_valid_access answers for its context (net/core/
 * filter.c for the packet types, kernel/trace/bpf_trace.c for the tracing
 * ones, kernel/bpf/syscall.c for syscall programs), its func_proto
 * restricted to the helpers bee implements, and check_return_code's range.
 * The rules, reduced to the shape every one of those functions has:
 *
 *  - off must be a multiple of size and inside the context;
 *  - __sk_buff: u32 fields allow narrow reads (1, 2 or 4 bytes, aligned
 *    within the field: bpf_ctx_narrow_access_ok) but only 4-byte writes;
 *    cb[] is one area, any aligned size, readable and (where the type
 *    writes it) writable; tstamp and hwtstamp are 8-byte only; sk is an
 *    8-byte read giving a socket or NULL; data/data_end/data_meta and the
 *    socket addresses are exactly 4 bytes; flow_keys, the tstamp_type byte
 *    (except in tc, read as one byte) and padding are refused; each type
 *    then hides fields (socket filters see no packet pointers, tc_classid,
 *    socket addresses, tstamp or wire_len) and writes only its own few;
 *  - xdp_md: 4-byte reads only, no writes (only offloaded programs write
 *    rx_queue_index), egress_ifindex only for devmap programs;
 *  - tracing contexts are read-only: pt_regs and raw tracepoint arguments
 *    at any aligned size, tracepoint records from byte 8 (the common
 *    header's first 8 bytes are hidden) up to PERF_MAX_TRACE_SIZE, perf
 *    events' registers as longs and sample_period/addr narrowly;
 *  - syscall programs read and write any aligned offset below U16_MAX.
 *
 * The registry copies what an embedder adds, so the caller's desc may be
 * temporary.  Lookups are linear: a handful of types, looked up once per
 * program load.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "platform/progtypes.h"

/* ---- context field lists ---- */

#define SKB_OFF(m) offsetof(struct __sk_buff, m)
#define SKB_SZ(m) sizeof(((struct __sk_buff *)0)->m)
/* a field of __sk_buff: read sizes, write sizes, kind */
#define SKB(m, rs, ws, k) {SKB_OFF(m), SKB_SZ(m), (rs), (ws), (k), #m}
#define SKB_RANGE(first, last, rs, ws, nm)                                              \
	{SKB_OFF(first), SKB_OFF(last) + SKB_SZ(last) - SKB_OFF(first), (rs), (ws),      \
	 BEE_CTX_SCALAR, nm}
#define RO(m) SKB(m, BEE_SZ_UP_TO_4, 0, BEE_CTX_SCALAR)   /* u32, narrow reads */
#define RW(m) SKB(m, BEE_SZ_UP_TO_4, BEE_SZ_4, BEE_CTX_SCALAR) /* + 4-byte writes */
#define EXACT4(m) SKB(m, BEE_SZ_4, 0, BEE_CTX_SCALAR)      /* socket addresses */
#define PKT(m, k) SKB(m, BEE_SZ_4, 0, (k))
#define SK_PTR SKB(sk, BEE_SZ_8, 0, BEE_CTX_PTR_SOCK_COMMON_OR_NULL)
#define CB_RO SKB(cb, BEE_SZ_ANY, BEE_SZ_ANY, BEE_CTX_SCALAR)

/* The common front of __sk_buff: len .. tc_index, each a u32. */
#define SKB_FRONT(mark_w, qmap_w, prio_w, tcidx_w)                                   \
	RO(len), RO(pkt_type), SKB(mark, BEE_SZ_UP_TO_4, (mark_w), BEE_CTX_SCALAR),       \
	SKB(queue_mapping, BEE_SZ_UP_TO_4, (qmap_w), BEE_CTX_SCALAR), RO(protocol),      \
	RO(vlan_present), RO(vlan_tci), RO(vlan_proto),                                  \
	SKB(priority, BEE_SZ_UP_TO_4, (prio_w), BEE_CTX_SCALAR), RO(ingress_ifindex),    \
	RO(ifindex), SKB(tc_index, BEE_SZ_UP_TO_4, (tcidx_w), BEE_CTX_SCALAR)

/* sk_filter_is_valid_access: no packet pointers, tc_classid, socket
 * addresses, tstamp, wire_len, hwtstamp; writes only to cb[]. */
static const struct bee_ctx_field socket_filter_fields[] = {
	SKB_FRONT(0, 0, 0, 0),
	CB_RO,
	RO(hash),
	RO(napi_id),
	RO(gso_segs),
	SK_PTR,
	RO(gso_size),
};

/* tc_cls_act_is_valid_access: packet pointers with meta; writes to mark,
 * queue_mapping, priority, tc_index, tc_classid, cb[], tstamp; no socket
 * addresses; tstamp_type read as one byte. */
static const struct bee_ctx_field tc_fields[] = {
	SKB_FRONT(BEE_SZ_4, BEE_SZ_4, BEE_SZ_4, BEE_SZ_4),
	CB_RO,
	RO(hash),
	RW(tc_classid),
	PKT(data, BEE_CTX_PTR_PACKET),
	PKT(data_end, BEE_CTX_PTR_PACKET_END),
	RO(napi_id),
	PKT(data_meta, BEE_CTX_PTR_PACKET_META),
	SKB(tstamp, BEE_SZ_8, BEE_SZ_8, BEE_CTX_SCALAR),
	RO(wire_len),
	RO(gso_segs),
	SK_PTR,
	RO(gso_size),
	SKB(tstamp_type, BEE_SZ_1, 0, BEE_CTX_SCALAR),
	SKB(hwtstamp, BEE_SZ_8, 0, BEE_CTX_SCALAR),
};

/* cg_skb_is_valid_access (privileged): data/data_end without meta; no
 * tc_classid or wire_len; writes to mark, priority, cb[], tstamp; socket
 * addresses visible (family/ports narrow, addresses exactly 4 bytes). */
static const struct bee_ctx_field cgroup_skb_fields[] = {
	SKB_FRONT(BEE_SZ_4, 0, BEE_SZ_4, 0),
	CB_RO,
	RO(hash),
	PKT(data, BEE_CTX_PTR_PACKET),
	PKT(data_end, BEE_CTX_PTR_PACKET_END),
	RO(napi_id),
	RO(family),
	EXACT4(remote_ip4),
	EXACT4(local_ip4),
	SKB_RANGE(remote_ip6[0], remote_ip6[3], BEE_SZ_4, 0, "remote_ip6"),
	SKB_RANGE(local_ip6[0], local_ip6[3], BEE_SZ_4, 0, "local_ip6"),
	RO(remote_port),
	RO(local_port),
	SKB(tstamp, BEE_SZ_8, BEE_SZ_8, BEE_CTX_SCALAR),
	RO(gso_segs),
	SK_PTR,
	RO(gso_size),
	SKB(hwtstamp, BEE_SZ_8, 0, BEE_CTX_SCALAR),
};

#define XDP(m, k) {offsetof(struct xdp_md, m), 4, BEE_SZ_4, 0, (k), #m}
/* xdp_is_valid_access for a non-devmap, non-offloaded program */
static const struct bee_ctx_field xdp_fields[] = {
	XDP(data, BEE_CTX_PTR_PACKET),
	XDP(data_end, BEE_CTX_PTR_PACKET_END),
	XDP(data_meta, BEE_CTX_PTR_PACKET_META),
	XDP(ingress_ifindex, BEE_CTX_SCALAR),
	XDP(rx_queue_index, BEE_CTX_SCALAR),
};

/* kprobe_prog_is_valid_access: all of pt_regs, read-only, any aligned size */
static const struct bee_ctx_field kprobe_fields[] = {
	{0, BEE_PT_REGS_SIZE, BEE_SZ_ANY, 0, BEE_CTX_SCALAR, "regs"},
};

/* tp_prog_is_valid_access: from byte 8 of the record on, read-only */
static const struct bee_ctx_field tracepoint_fields[] = {
	{8, BEE_PERF_MAX_TRACE_SIZE - 8, BEE_SZ_ANY, 0, BEE_CTX_SCALAR, "record"},
};

/* raw_tp_prog_is_valid_access (bpf_tracing_ctx_access): u64 args */
static const struct bee_ctx_field raw_tp_fields[] = {
	{0, 8 * BEE_MAX_FUNC_ARGS, BEE_SZ_ANY, 0, BEE_CTX_SCALAR, "args"},
};

/* pe_prog_is_valid_access: regs as longs, sample_period and addr narrow */
static const struct bee_ctx_field perf_event_fields[] = {
	{0, BEE_PT_REGS_SIZE, BEE_SZ_8, 0, BEE_CTX_SCALAR, "regs"},
	{BEE_PT_REGS_SIZE, 8, BEE_SZ_ANY, 0, BEE_CTX_SCALAR, "sample_period"},
	{BEE_PT_REGS_SIZE + 8, 8, BEE_SZ_ANY, 0, BEE_CTX_SCALAR, "addr"},
};

/* syscall_prog_is_valid_access: off < U16_MAX, read and write */
static const struct bee_ctx_field syscall_fields[] = {
	{0, 0xffff, BEE_SZ_ANY, BEE_SZ_ANY, BEE_CTX_SCALAR, "ctx"},
};

/* Placeholder for BTF-typed arguments (tracing, lsm): the argument array,
 * read as whole u64s; the real rule (btf_ctx_access) reads the attach
 * target's BTF. */
static const struct bee_ctx_field btf_args_fields[] = {
	{0, 8 * BEE_MAX_FUNC_ARGS, BEE_SZ_8, 0, BEE_CTX_SCALAR, "args"},
};

/* ---- helper sets (the func_proto functions, for the helpers bee has) ---- */

/* bpf_base_func_proto for a privileged loader (CAP_BPF + CAP_PERFMON); the
 * current task's pid/tgid, uid/gid and comm are in it since 6.10 or so
 * (observed on 6.18: every type has them). */
#define BASE_HELPERS                                                                   \
	BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,    \
	BPF_FUNC_map_push_elem, BPF_FUNC_map_pop_elem, BPF_FUNC_map_peek_elem,           \
	BPF_FUNC_map_lookup_percpu_elem, BPF_FUNC_get_prandom_u32,                       \
	BPF_FUNC_get_smp_processor_id, BPF_FUNC_get_numa_node_id, BPF_FUNC_tail_call,    \
	BPF_FUNC_ktime_get_ns, BPF_FUNC_ktime_get_boot_ns, BPF_FUNC_ringbuf_output,      \
	BPF_FUNC_ringbuf_reserve, BPF_FUNC_ringbuf_submit, BPF_FUNC_ringbuf_discard,     \
	BPF_FUNC_ringbuf_query, BPF_FUNC_for_each_map_elem, BPF_FUNC_loop,               \
	BPF_FUNC_jiffies64, BPF_FUNC_snprintf, BPF_FUNC_strtol, BPF_FUNC_strtoul,        \
	BPF_FUNC_trace_printk, BPF_FUNC_trace_vprintk, BPF_FUNC_probe_read_user,         \
	BPF_FUNC_probe_read_kernel, BPF_FUNC_probe_read_user_str,                        \
	BPF_FUNC_probe_read_kernel_str, BPF_FUNC_get_current_task,                       \
	BPF_FUNC_get_current_task_btf, BPF_FUNC_get_current_pid_tgid,                    \
	BPF_FUNC_get_current_uid_gid, BPF_FUNC_get_current_comm, BPF_FUNC_send_signal

/* bpf_tracing_func_proto adds the legacy probe reads and perf output */
#define TRACING_HELPERS                                                                \
	BASE_HELPERS, BPF_FUNC_probe_read, BPF_FUNC_probe_read_str,                      \
	BPF_FUNC_perf_event_output

/* The packet helpers (src/platform/pkt.c: skb load and store bytes, XDP
 * head, tail and metadata adjustments) run in bee's test runs.  The
 * verifier also knows some helpers by prototype only (bee's user-space
 * target does not provide them): send_signal, socket lookup and release.
 * Programs using those verify against their type's rules; bee itself
 * cannot run them. */
static const int32_t skb_helpers[] = {BASE_HELPERS, BPF_FUNC_perf_event_output,
				      BPF_FUNC_skb_load_bytes, BPF_FUNC_skb_load_bytes_relative};
static const int32_t tc_helpers[] = {BASE_HELPERS, BPF_FUNC_perf_event_output,
				     BPF_FUNC_skb_load_bytes, BPF_FUNC_skb_load_bytes_relative,
				     BPF_FUNC_skb_store_bytes, BPF_FUNC_sk_lookup_tcp,
				     BPF_FUNC_sk_lookup_udp, BPF_FUNC_sk_release};
static const int32_t cgroup_skb_helpers[] = {BASE_HELPERS, BPF_FUNC_perf_event_output,
					     BPF_FUNC_skb_load_bytes,
					     BPF_FUNC_skb_load_bytes_relative};
static const int32_t xdp_helpers[] = {BASE_HELPERS, BPF_FUNC_perf_event_output,
				      BPF_FUNC_xdp_adjust_head, BPF_FUNC_xdp_adjust_tail,
				      BPF_FUNC_xdp_adjust_meta, BPF_FUNC_sk_lookup_tcp,
				      BPF_FUNC_sk_lookup_udp, BPF_FUNC_sk_release};
static const int32_t tracing_helpers[] = {TRACING_HELPERS};

/* ---- the built-in types ---- */

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DESC(id, nm, ctxsz, f, h, rmin, rmax, fl)                                       \
	{sizeof(struct bee_prog_type_desc), (id), (nm), (ctxsz), (f), N(f), (h), N(h),    \
	 (rmin), (rmax), (fl)}

static const struct bee_prog_type_desc builtin_types[] = {
	DESC(BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter", sizeof(struct __sk_buff),
	     socket_filter_fields, skb_helpers, 0, 0, BEE_PT_LD_ABS | BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_SCHED_CLS, "sched_cls", sizeof(struct __sk_buff), tc_fields,
	     tc_helpers, 0, 0,
	     BEE_PT_LD_ABS | BEE_PT_PKT_READ | BEE_PT_PKT_WRITE | BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_SCHED_ACT, "sched_act", sizeof(struct __sk_buff), tc_fields,
	     tc_helpers, 0, 0,
	     BEE_PT_LD_ABS | BEE_PT_PKT_READ | BEE_PT_PKT_WRITE | BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_XDP, "xdp", sizeof(struct xdp_md), xdp_fields, xdp_helpers, 0, 0,
	     BEE_PT_PKT_READ | BEE_PT_PKT_WRITE | BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_KPROBE, "kprobe", BEE_PT_REGS_SIZE, kprobe_fields, tracing_helpers,
	     0, 0, BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_TRACEPOINT, "tracepoint", BEE_PERF_MAX_TRACE_SIZE,
	     tracepoint_fields, tracing_helpers, 0, 0, BEE_PT_RET_ANY | BEE_PT_CTX_ATTACH_LIMIT),
	DESC(BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tracepoint", 8 * BEE_MAX_FUNC_ARGS,
	     raw_tp_fields, tracing_helpers, 0, 0, BEE_PT_RET_ANY | BEE_PT_CTX_ATTACH_LIMIT),
	DESC(BPF_PROG_TYPE_PERF_EVENT, "perf_event", BEE_PT_REGS_SIZE + 16, perf_event_fields,
	     tracing_helpers, 0, 0, BEE_PT_RET_ANY),
	DESC(BPF_PROG_TYPE_SYSCALL, "syscall", 0xffff, syscall_fields, tracing_helpers, 0, 0,
	     BEE_PT_RET_ANY | BEE_PT_SLEEPABLE_ONLY),
	/* check_return_code: ingress 0..1 (egress 0..3, bee_prog_type_ret_range) */
	DESC(BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb", sizeof(struct __sk_buff),
	     cgroup_skb_fields, cgroup_skb_helpers, 0, 1, BEE_PT_PKT_READ),
	/* fentry/fexit must return 0 (fmod_ret and raw_tp attach types: any) */
	DESC(BPF_PROG_TYPE_TRACING, "tracing", 8 * BEE_MAX_FUNC_ARGS, btf_args_fields,
	     tracing_helpers, 0, 0, BEE_PT_NEEDS_ATTACH_BTF),
	/* int-returning LSM hooks: 0 or a negative errno (-MAX_ERRNO..0) */
	DESC(BPF_PROG_TYPE_LSM, "lsm", 8 * BEE_MAX_FUNC_ARGS, btf_args_fields, tracing_helpers,
	     -4095, 0, BEE_PT_NEEDS_ATTACH_BTF),
};

size_t bee_prog_type_builtin_count(void)
{
	return N(builtin_types);
}

const struct bee_prog_type_desc *bee_prog_type_builtin_at(size_t i)
{
	return i < N(builtin_types) ? &builtin_types[i] : NULL;
}

const struct bee_prog_type_desc *bee_prog_type_builtin(uint32_t type_id)
{
	for (size_t i = 0; i < N(builtin_types); i++)
		if (builtin_types[i].type_id == type_id)
			return &builtin_types[i];
	return NULL;
}

/* ---- the questions ---- */

int bee_prog_type_ctx_access(const struct bee_prog_type_desc *d, int64_t off, uint32_t size,
			     bool write, uint32_t ctx_limit, enum bee_ctx_kind *kind,
			     const struct bee_ctx_field **field)
{
	if (!d || (size != 1 && size != 2 && size != 4 && size != 8))
		return -EACCES;
	if (off < 0 || off % size || (uint64_t)off + size > d->ctx_size)
		return -EACCES;
	if (ctx_limit && (d->flags & BEE_PT_CTX_ATTACH_LIMIT) && (uint64_t)off + size > ctx_limit)
		return -EACCES;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct bee_ctx_field *f = &d->fields[i];
		if ((uint64_t)off < f->off || (uint64_t)off + size > (uint64_t)f->off + f->size)
			continue;
		if (!((write ? f->write_sizes : f->read_sizes) & size))
			return -EACCES;
		if (kind)
			*kind = write ? BEE_CTX_SCALAR : f->kind;
		if (field)
			*field = f;
		return 0;
	}
	return -EACCES;
}

bool bee_prog_type_helper_ok(const struct bee_prog_type_desc *d, int32_t id)
{
	if (!d)
		return false;
	for (size_t i = 0; i < d->n_helpers; i++)
		if (d->helpers[i] == id)
			return true;
	return false;
}

bool bee_prog_type_ret_range(const struct bee_prog_type_desc *d, uint32_t expected_attach_type,
			     int64_t *min, int64_t *max)
{
	if (!d || (d->flags & BEE_PT_RET_ANY))
		return false;
	*min = d->ret_min;
	*max = d->ret_max;
	if (d->type_id == BPF_PROG_TYPE_CGROUP_SKB && expected_attach_type == BPF_CGROUP_INET_EGRESS)
		*max = 3; /* 2 and 3 add congestion notification */
	if (d->type_id == BPF_PROG_TYPE_TRACING && expected_attach_type != BPF_TRACE_FENTRY &&
	    expected_attach_type != BPF_TRACE_FEXIT) {
		if (expected_attach_type == BPF_TRACE_ITER) {
			*min = 0;
			*max = 1;
		} else {
			return false; /* fmod_ret, tp_btf: any */
		}
	}
	return true;
}

/* ---- the registry ---- */

struct prog_type_entry {
	struct bee_prog_type_desc desc; /* owns name, fields and helpers */
};

struct bee_prog_types {
	struct prog_type_entry *custom;
	size_t n, cap;
};

struct bee_prog_types *bee_prog_types_new(void)
{
	return calloc(1, sizeof(struct bee_prog_types));
}

static void entry_release(struct prog_type_entry *e)
{
	free((void *)e->desc.name);
	free((void *)e->desc.fields);
	free((void *)e->desc.helpers);
}

void bee_prog_types_free(struct bee_prog_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		entry_release(&t->custom[i]);
	free(t->custom);
	free(t);
}

const struct bee_prog_type_desc *bee_prog_types_find(const struct bee_prog_types *t,
						     uint32_t type_id)
{
	if (t)
		for (size_t i = 0; i < t->n; i++)
			if (t->custom[i].desc.type_id == type_id)
				return &t->custom[i].desc;
	return bee_prog_type_builtin(type_id);
}

static bool sizes_valid(uint8_t mask)
{
	return !(mask & ~BEE_SZ_ANY);
}

static int desc_validate(const struct bee_prog_type_desc *d)
{
	if (d->sz < sizeof(struct bee_prog_type_desc) || d->type_id < BEE_PROG_TYPE_CUSTOM_BASE)
		return -EINVAL;
	if (!d->name || !d->name[0] || (d->n_fields && !d->fields) ||
	    (d->n_helpers && !d->helpers))
		return -EINVAL;
	if (!(d->flags & BEE_PT_RET_ANY) && d->ret_min > d->ret_max)
		return -EINVAL;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct bee_ctx_field *f = &d->fields[i];
		if (!f->size || (uint64_t)f->off + f->size > d->ctx_size || f->off < prev_end)
			return -EINVAL; /* empty, outside the context, unsorted or overlapping */
		if (!sizes_valid(f->read_sizes) || !sizes_valid(f->write_sizes))
			return -EINVAL;
		if (f->kind > BEE_CTX_PTR_BTF_ID)
			return -EINVAL;
		/* a pointer is read whole, never narrowly, and never written */
		if (f->kind != BEE_CTX_SCALAR &&
		    (f->write_sizes || (f->read_sizes && f->read_sizes != f->size)))
			return -EINVAL;
		prev_end = (uint64_t)f->off + f->size;
	}
	return 0;
}

int bee_prog_types_add(struct bee_prog_types *t, const struct bee_prog_type_desc *desc)
{
	if (!t || !desc)
		return -EINVAL;
	int ret = desc_validate(desc);
	if (ret)
		return ret;
	if (bee_prog_types_find(t, desc->type_id))
		return -EEXIST;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4;
		struct prog_type_entry *c = realloc(t->custom, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->custom = c;
		t->cap = cap;
	}
	struct prog_type_entry e = {.desc = *desc};
	e.desc.sz = sizeof(struct bee_prog_type_desc);
	e.desc.name = strdup(desc->name);
	e.desc.fields = NULL;
	e.desc.helpers = NULL;
	if (desc->n_fields) {
		struct bee_ctx_field *f = calloc(desc->n_fields, sizeof(*f));
		if (f) {
			memcpy(f, desc->fields, desc->n_fields * sizeof(*f));
			for (size_t i = 0; i < desc->n_fields; i++)
				f[i].name = NULL; /* names are the caller's; not kept */
		}
		e.desc.fields = f;
	}
	if (desc->n_helpers) {
		int32_t *h = calloc(desc->n_helpers, sizeof(*h));
		if (h)
			memcpy(h, desc->helpers, desc->n_helpers * sizeof(*h));
		e.desc.helpers = h;
	}
	if (!e.desc.name || (desc->n_fields && !e.desc.fields) ||
	    (desc->n_helpers && !e.desc.helpers)) {
		entry_release(&e);
		return -ENOMEM;
	}
	t->custom[t->n++] = e;
	return 0;
}
