/*
 * test_progtypes.c - the program-type tables (src/platform/progtypes.c)
 * against an independent statement of the kernel's rules.
 *
 * Theory.  progtypes.c states each type's context as data (a field list);
 * this test restates the same rules the way the kernel's
 * <type>_is_valid_access functions are written, as code deciding on
 * offset ranges computed with offsetof on the UAPI structs, and checks
 * that both agree on every (offset, size, direction) of a grid covering
 * each context and a margin around it.  Two statements written
 * differently that agree everywhere make a transcription slip unlikely;
 * tests/kernel/diff_ctx.c asks the kernel itself where it can.  The rest
 * checks the registry: embedder types, validation, pointer kinds, helper
 * sets, return ranges and the attach-target bound.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include "platform/progtypes.h"
#include "unit.h"

#define SK_OFF(m) ((int64_t)offsetof(struct __sk_buff, m))
#define SK_END(m) (SK_OFF(m) + (int64_t)sizeof(((struct __sk_buff *)0)->m))
#define IN(m) (off >= SK_OFF(m) && off < SK_END(m))
#define IN_RANGE(a, b) (off >= SK_OFF(a) && off < SK_END(b))

enum skb_flavor { SK_FILTER, TC, CG_SKB };

/* narrow: a power of two up to the field's width (alignment checked first) */
static bool narrow_ok(uint32_t size, uint32_t width)
{
	return size <= width;
}

/* bpf_skb_is_valid_access, as the kernel words it */
static bool ref_skb_common(int64_t off, uint32_t size, bool write)
{
	if (off < 0 || off >= (int64_t)sizeof(struct __sk_buff) || off % size)
		return false;
	if (IN_RANGE(cb[0], cb[4]))
		return off + size <= SK_END(cb[4]);
	if (IN_RANGE(remote_ip6[0], remote_ip6[3]) || IN_RANGE(local_ip6[0], local_ip6[3]) ||
	    IN(remote_ip4) || IN(local_ip4) || IN(data) || IN(data_meta) || IN(data_end))
		return size == 4;
	if (IN(flow_keys))
		return false;
	if (IN(hwtstamp))
		return !write && size == 8;
	if (IN(tstamp))
		return size == 8;
	if (IN(sk))
		return !write && size == 8 && off == SK_OFF(sk);
	if (off >= SK_OFF(tstamp_type) && off < SK_OFF(hwtstamp))
		return false; /* tstamp_type and the padding after it */
	if (write)
		return size == 4;
	/* default: a u32 field, narrow reads inside it */
	return narrow_ok(size, 4) && (off % 4) + size <= 4;
}

static bool ref_skb(enum skb_flavor fl, int64_t off, uint32_t size, bool write)
{
	switch (fl) {
	case SK_FILTER:
		if (IN(tc_classid) || IN(data) || IN(data_meta) || IN(data_end) ||
		    IN_RANGE(family, local_port) || IN(tstamp) || IN(wire_len) || IN(hwtstamp))
			return false;
		if (write && !IN_RANGE(cb[0], cb[4]))
			return false;
		break;
	case TC:
		if (write && !(IN(mark) || IN(tc_index) || IN(priority) || IN(tc_classid) ||
			       IN_RANGE(cb[0], cb[4]) || IN(tstamp) || IN(queue_mapping)))
			return false;
		if (IN_RANGE(family, local_port))
			return false;
		if (off == SK_OFF(tstamp_type))
			return size == 1 && !write;
		break;
	case CG_SKB:
		if (IN(tc_classid) || IN(data_meta) || IN(wire_len))
			return false;
		if (write && !(IN(mark) || IN(priority) || IN_RANGE(cb[0], cb[4]) || IN(tstamp)))
			return false;
		break;
	}
	return ref_skb_common(off, size, write);
}

static bool ref_xdp(int64_t off, uint32_t size, bool write)
{
	if (write || off == (int64_t)offsetof(struct xdp_md, egress_ifindex))
		return false;
	return off >= 0 && off < (int64_t)sizeof(struct xdp_md) && off % size == 0 && size == 4;
}

static bool ref_kprobe(int64_t off, uint32_t size, bool write)
{
	return off >= 0 && off < 168 && !write && off % size == 0 && off + size <= 168;
}

static bool ref_tp(int64_t off, uint32_t size, bool write)
{
	/* (bee refuses the negative offsets the kernel's signed/unsigned
	 * comparison lets through; see diff_ctx.c) */
	return off >= 8 && off < 8192 && !write && off % size == 0;
}

static bool ref_raw_tp(int64_t off, uint32_t size, bool write)
{
	return off >= 0 && off < 96 && !write && off % size == 0;
}

static bool ref_pe(int64_t off, uint32_t size, bool write)
{
	int64_t sp = offsetof(struct bpf_perf_event_data, sample_period);
	int64_t ad = offsetof(struct bpf_perf_event_data, addr);
	if (off < 0 || off >= (int64_t)sizeof(struct bpf_perf_event_data) || write || off % size)
		return false;
	if ((off >= sp && off < sp + 8) || (off >= ad && off < ad + 8))
		return true; /* narrow reads of u64s, aligned */
	return size == 8;
}

static bool ref_syscall(int64_t off, uint32_t size, bool write)
{
	/* the kernel: off < U16_MAX; bee's table also keeps the end inside
	 * 65535 bytes (unobservable: see diff_ctx.c) */
	return off >= 0 && off + size <= 0xffff && off % size == 0;
}

static bool ref_answer(uint32_t type, int64_t off, uint32_t size, bool write)
{
	switch (type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: return ref_skb(SK_FILTER, off, size, write);
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT: return ref_skb(TC, off, size, write);
	case BPF_PROG_TYPE_CGROUP_SKB: return ref_skb(CG_SKB, off, size, write);
	case BPF_PROG_TYPE_XDP: return ref_xdp(off, size, write);
	case BPF_PROG_TYPE_KPROBE: return ref_kprobe(off, size, write);
	case BPF_PROG_TYPE_TRACEPOINT: return ref_tp(off, size, write);
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return ref_raw_tp(off, size, write);
	case BPF_PROG_TYPE_PERF_EVENT: return ref_pe(off, size, write);
	case BPF_PROG_TYPE_SYSCALL: return ref_syscall(off, size, write);
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_LSM: /* placeholder: u64 args, read-only */
		return off >= 0 && off < 96 && !write && size == 8 && off % 8 == 0;
	}
	return false;
}

static void grid(void)
{
	static const uint32_t sizes[] = {1, 2, 4, 8};
	for (size_t i = 0; i < bee_prog_type_builtin_count(); i++) {
		const struct bee_prog_type_desc *d = bee_prog_type_builtin_at(i);
		unsigned n = 0, ok = 0;
		int64_t hi = d->ctx_size < 512 ? (int64_t)d->ctx_size + 16 : 512;
		for (int pass = 0; pass < 2; pass++) {
			int64_t lo = pass ? (int64_t)d->ctx_size - 32 : -16;
			int64_t top = pass ? (int64_t)d->ctx_size + 16 : hi;
			if (pass && d->ctx_size < 512)
				break;
			for (int64_t off = lo; off <= top; off++)
				for (int s = 0; s < 4; s++)
					for (int w = 0; w < 2; w++) {
						bool want = ref_answer(d->type_id, off, sizes[s], w);
						bool got = bee_prog_type_ctx_access(d, off, sizes[s], w, 0,
										    NULL, NULL) == 0;
						n++;
						ok += want == got;
						CHECK(want == got, "%s %s off=%lld size=%u: rule %d, table %d",
						      d->name, w ? "write" : "read", (long long)off,
						      sizes[s], want, got);
					}
		}
		printf("%-15s %u/%u grid answers agree\n", d->name, ok, n);
	}
}

static void kinds(void)
{
	const struct bee_prog_type_desc *tc = bee_prog_type_builtin(BPF_PROG_TYPE_SCHED_CLS);
	const struct bee_prog_type_desc *xdp = bee_prog_type_builtin(BPF_PROG_TYPE_XDP);
	const struct bee_prog_type_desc *cg = bee_prog_type_builtin(BPF_PROG_TYPE_CGROUP_SKB);
	enum bee_ctx_kind k = BEE_CTX_SCALAR;
	const struct bee_ctx_field *f = NULL;
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(data), 4, false, 0, &k, &f) &&
	      k == BEE_CTX_PTR_PACKET && f && !strcmp(f->name, "data"), "tc data");
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(data_end), 4, false, 0, &k, NULL) &&
	      k == BEE_CTX_PTR_PACKET_END, "tc data_end");
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(data_meta), 4, false, 0, &k, NULL) &&
	      k == BEE_CTX_PTR_PACKET_META, "tc data_meta");
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(sk), 8, false, 0, &k, NULL) &&
	      k == BEE_CTX_PTR_SOCK_COMMON_OR_NULL, "tc sk");
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(mark), 4, true, 0, &k, NULL) &&
	      k == BEE_CTX_SCALAR, "tc mark write");
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(len) + 2, 2, false, 0, &k, NULL) &&
	      k == BEE_CTX_SCALAR, "narrow len");
	CHECK(!bee_prog_type_ctx_access(xdp, offsetof(struct xdp_md, data_meta), 4, false, 0, &k,
					NULL) && k == BEE_CTX_PTR_PACKET_META, "xdp data_meta");
	CHECK(!bee_prog_type_ctx_access(cg, SK_OFF(data_end), 4, false, 0, &k, NULL) &&
	      k == BEE_CTX_PTR_PACKET_END, "cg data_end");
	CHECK(bee_prog_type_ctx_access(cg, SK_OFF(data_meta), 4, false, 0, &k, NULL) == -EACCES,
	      "cg no data_meta");
	CHECK(bee_prog_type_ctx_access(tc, 0, 3, false, 0, NULL, NULL) == -EACCES, "size 3");
	CHECK(bee_prog_type_ctx_access(NULL, 0, 4, false, 0, NULL, NULL) == -EACCES, "no type");

	/* the attach target bounds tracepoint records and raw_tp args */
	const struct bee_prog_type_desc *tp = bee_prog_type_builtin(BPF_PROG_TYPE_TRACEPOINT);
	const struct bee_prog_type_desc *raw = bee_prog_type_builtin(BPF_PROG_TYPE_RAW_TRACEPOINT);
	CHECK(!bee_prog_type_ctx_access(tp, 24, 8, false, 32, NULL, NULL), "tp inside record");
	CHECK(bee_prog_type_ctx_access(tp, 32, 8, false, 32, NULL, NULL), "tp past record");
	CHECK(!bee_prog_type_ctx_access(tp, 32, 8, false, 0, NULL, NULL), "tp record unknown");
	CHECK(!bee_prog_type_ctx_access(raw, 16, 8, false, 24, NULL, NULL), "raw arg 2 of 3");
	CHECK(bee_prog_type_ctx_access(raw, 24, 8, false, 24, NULL, NULL), "raw arg 3 of 3");
	/* the bound does not apply to types without the flag */
	CHECK(!bee_prog_type_ctx_access(tc, SK_OFF(mark), 4, false, 4, NULL, NULL), "no limit");
}

static void helpers_and_returns(void)
{
	const struct bee_prog_type_desc *sf = bee_prog_type_builtin(BPF_PROG_TYPE_SOCKET_FILTER);
	const struct bee_prog_type_desc *kp = bee_prog_type_builtin(BPF_PROG_TYPE_KPROBE);
	const struct bee_prog_type_desc *xdp = bee_prog_type_builtin(BPF_PROG_TYPE_XDP);
	const struct bee_prog_type_desc *cg = bee_prog_type_builtin(BPF_PROG_TYPE_CGROUP_SKB);
	const struct bee_prog_type_desc *tr = bee_prog_type_builtin(BPF_PROG_TYPE_TRACING);
	for (size_t i = 0; i < bee_prog_type_builtin_count(); i++) {
		const struct bee_prog_type_desc *d = bee_prog_type_builtin_at(i);
		CHECK(bee_prog_type_helper_ok(d, BPF_FUNC_map_lookup_elem), "%s lookup", d->name);
		CHECK(bee_prog_type_helper_ok(d, BPF_FUNC_trace_printk), "%s printk", d->name);
		CHECK(bee_prog_type_helper_ok(d, BPF_FUNC_loop), "%s loop", d->name);
		CHECK(bee_prog_type_helper_ok(d, BPF_FUNC_tail_call), "%s tail call", d->name);
		CHECK(!bee_prog_type_helper_ok(d, 9999), "%s unknown helper", d->name);
	}
	CHECK(!bee_prog_type_helper_ok(sf, BPF_FUNC_probe_read), "sk_filter probe_read");
	CHECK(bee_prog_type_helper_ok(kp, BPF_FUNC_probe_read), "kprobe probe_read");
	CHECK(bee_prog_type_helper_ok(kp, BPF_FUNC_get_current_pid_tgid), "kprobe pid");
	CHECK(!bee_prog_type_helper_ok(xdp, BPF_FUNC_probe_read_str), "xdp probe_read_str");
	CHECK(!bee_prog_type_helper_ok(NULL, BPF_FUNC_map_lookup_elem), "no type");
	CHECK((sf->flags & BEE_PT_LD_ABS) && !(sf->flags & BEE_PT_PKT_READ), "sk_filter ld_abs");
	CHECK(!(xdp->flags & BEE_PT_LD_ABS) && (xdp->flags & BEE_PT_PKT_WRITE), "xdp pkt");
	CHECK((cg->flags & BEE_PT_PKT_READ) && !(cg->flags & BEE_PT_PKT_WRITE), "cg pkt ro");

	int64_t lo = 7, hi = 7;
	CHECK(!bee_prog_type_ret_range(sf, 0, &lo, &hi) && lo == 7, "sk_filter any");
	CHECK(!bee_prog_type_ret_range(xdp, 0, &lo, &hi), "xdp any (the verifier does not check)");
	CHECK(bee_prog_type_ret_range(cg, BPF_CGROUP_INET_INGRESS, &lo, &hi) && lo == 0 && hi == 1,
	      "cg ingress");
	CHECK(bee_prog_type_ret_range(cg, BPF_CGROUP_INET_EGRESS, &lo, &hi) && lo == 0 && hi == 3,
	      "cg egress");
	CHECK(bee_prog_type_ret_range(tr, BPF_TRACE_FENTRY, &lo, &hi) && lo == 0 && hi == 0,
	      "fentry 0");
	CHECK(bee_prog_type_ret_range(tr, BPF_TRACE_ITER, &lo, &hi) && lo == 0 && hi == 1, "iter");
	CHECK(!bee_prog_type_ret_range(tr, BPF_MODIFY_RETURN, &lo, &hi), "fmod_ret any");
}

static void registry(void)
{
	struct bee_prog_types *t = bee_prog_types_new();
	CHECK(t != NULL, "new");
	if (!t)
		return;
	CHECK(bee_prog_types_find(t, BPF_PROG_TYPE_XDP) == bee_prog_type_builtin(BPF_PROG_TYPE_XDP),
	      "builtins visible");

	/* an embedder's packet-filter-like type: a 16-byte context */
	struct bee_ctx_field fields[] = {
		{0, 8, BEE_SZ_8, 0, BEE_CTX_PTR_PACKET, "start"},
		{8, 4, BEE_SZ_UP_TO_4, BEE_SZ_4, BEE_CTX_SCALAR, "flags"},
		{12, 4, BEE_SZ_4, 0, BEE_CTX_SCALAR, "len"},
	};
	int32_t helpers[] = {BPF_FUNC_map_lookup_elem, BPF_FUNC_ktime_get_ns};
	char name[] = "my_filter";
	struct bee_prog_type_desc d = {
		.sz = sizeof(d), .type_id = BEE_PROG_TYPE_CUSTOM_BASE + 1, .name = name,
		.ctx_size = 16, .fields = fields, .n_fields = LEN(fields), .helpers = helpers,
		.n_helpers = LEN(helpers), .ret_min = 0, .ret_max = 2,
	};
	CHECK(bee_prog_types_add(t, &d) == 0, "add");
	CHECK(bee_prog_types_add(t, &d) == -EEXIST, "add twice");
	/* the registry copied everything: scribble on the originals */
	name[0] = 'X';
	fields[1].write_sizes = 0;
	helpers[1] = 0;
	const struct bee_prog_type_desc *g = bee_prog_types_find(t, d.type_id);
	CHECK(g && !strcmp(g->name, "my_filter"), "found by id");
	enum bee_ctx_kind k;
	CHECK(g && !bee_prog_type_ctx_access(g, 0, 8, false, 0, &k, NULL) && k == BEE_CTX_PTR_PACKET,
	      "custom pointer field");
	CHECK(g && !bee_prog_type_ctx_access(g, 8, 4, true, 0, NULL, NULL), "copied write rule");
	CHECK(g && bee_prog_type_ctx_access(g, 12, 4, true, 0, NULL, NULL), "len read-only");
	CHECK(g && bee_prog_type_ctx_access(g, 4, 4, false, 0, NULL, NULL), "no narrow pointer");
	CHECK(g && bee_prog_type_helper_ok(g, BPF_FUNC_ktime_get_ns), "copied helpers");
	CHECK(g && !bee_prog_type_helper_ok(g, BPF_FUNC_trace_printk), "helper not listed");
	int64_t lo, hi;
	CHECK(g && bee_prog_type_ret_range(g, 0, &lo, &hi) && lo == 0 && hi == 2, "custom range");

	/* validation */
	struct bee_prog_type_desc bad = d;
	bad.type_id = BEE_PROG_TYPE_CUSTOM_BASE + 2;
	bad.name = "ok";
	fields[1].write_sizes = BEE_SZ_4;
	helpers[1] = BPF_FUNC_ktime_get_ns;
	struct bee_prog_type_desc b;
#define EXPECT_EINVAL(what, mutate)                                                    \
	do {                                                                           \
		b = bad;                                                               \
		mutate;                                                                \
		CHECK(bee_prog_types_add(t, &b) == -EINVAL, "invalid: %s", what);      \
	} while (0)
	EXPECT_EINVAL("small sz", b.sz = 8);
	EXPECT_EINVAL("builtin id", b.type_id = BPF_PROG_TYPE_XDP);
	EXPECT_EINVAL("no name", b.name = NULL);
	EXPECT_EINVAL("empty name", b.name = "");
	EXPECT_EINVAL("field past ctx", b.ctx_size = 12);
	EXPECT_EINVAL("ret range", (b.ret_min = 3, b.ret_max = 2));
	EXPECT_EINVAL("fields NULL", b.fields = NULL);
	EXPECT_EINVAL("helpers NULL", b.helpers = NULL);
	struct bee_ctx_field ov[] = {{0, 8, BEE_SZ_8, 0, BEE_CTX_SCALAR, NULL},
				     {4, 4, BEE_SZ_4, 0, BEE_CTX_SCALAR, NULL}};
	EXPECT_EINVAL("overlap", (b.fields = ov, b.n_fields = 2));
	struct bee_ctx_field sz16[] = {{0, 8, 16, 0, BEE_CTX_SCALAR, NULL}};
	EXPECT_EINVAL("size 16", (b.fields = sz16, b.n_fields = 1));
	struct bee_ctx_field wptr[] = {{0, 8, BEE_SZ_8, BEE_SZ_8, BEE_CTX_PTR_PACKET, NULL}};
	EXPECT_EINVAL("writable pointer", (b.fields = wptr, b.n_fields = 1));
	struct bee_ctx_field nptr[] = {{0, 8, BEE_SZ_4 | BEE_SZ_8, 0, BEE_CTX_PTR_PACKET, NULL}};
	EXPECT_EINVAL("narrow pointer", (b.fields = nptr, b.n_fields = 1));
	struct bee_ctx_field empty[] = {{0, 0, BEE_SZ_8, 0, BEE_CTX_SCALAR, NULL}};
	EXPECT_EINVAL("empty field", (b.fields = empty, b.n_fields = 1));
	CHECK(bee_prog_types_add(t, NULL) == -EINVAL, "NULL desc");
	CHECK(bee_prog_types_add(t, &bad) == 0, "the unmutated one is fine");
	/* any-return types need no range */
	b = bad;
	b.type_id++;
	b.flags = BEE_PT_RET_ANY;
	b.ret_min = 5;
	b.ret_max = 1;
	CHECK(bee_prog_types_add(t, &b) == 0, "ret any ignores the range");
	g = bee_prog_types_find(t, b.type_id);
	CHECK(g && !bee_prog_type_ret_range(g, 0, &lo, &hi), "ret any");
	/* many types: the table grows */
	for (uint32_t i = 0; i < 40; i++) {
		b = bad;
		b.type_id = BEE_PROG_TYPE_CUSTOM_BASE + 100 + i;
		CHECK(bee_prog_types_add(t, &b) == 0, "add %u", i);
	}
	CHECK(bee_prog_types_find(t, BEE_PROG_TYPE_CUSTOM_BASE + 139) != NULL, "last found");
	CHECK(bee_prog_types_find(t, BEE_PROG_TYPE_CUSTOM_BASE + 140) == NULL, "absent");
	CHECK(bee_prog_types_find(NULL, BPF_PROG_TYPE_KPROBE) != NULL, "NULL set: builtins");
	bee_prog_types_free(t);
	bee_prog_types_free(NULL);
}

int main(void)
{
	grid();
	kinds();
	helpers_and_returns();
	registry();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
