/*
 * diff_ctx.c - bee's program-type tables (src/platform/progtypes.c)
 * against the kernel's verifier, question by question.
 *
 * Theory.  Each table answers three questions the kernel's verifier also
 * answers, and each answer can be observed with a two- or three-
 * instruction program:
 *  - context access: `rX = *(size *)(r1 + off)` (or `*(size *)(r1 + off) =
 *    r2`, a register store; immediate stores behave the same, atomics on
 *    the context are refused, see store_forms) at every offset of a grid around and inside the
 *    context, every size, both directions;
 *  - helpers: `call N` with whatever the registers hold.  A helper the
 *    type lacks is refused with "unknown func"; any other refusal (wrong
 *    argument types) means the type has it;
 *  - return range: `r0 = v; exit` for values around each range's edges.
 * The kernel's accept/reject is compared with the table's answer.
 * Differences that are known and explained (KNOWN below) are reported but
 * do not fail the test; any other fails it.  Needs bpf() (root): otherwise
 * exit 77 (SKIP) with the reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "kbpf.h"
#include "platform/progtypes.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static char logbuf[1 << 16];

static int load(uint32_t type, uint32_t attach, uint32_t flags, const struct bpf_insn *insns,
		size_t n, bool want_log)
{
	static const char license[] = "GPL";
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.expected_attach_type = attach;
	attr.prog_flags = flags;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	if (want_log) {
		logbuf[0] = 0;
		attr.log_buf = (uint64_t)(uintptr_t)logbuf;
		attr.log_size = sizeof(logbuf);
		attr.log_level = 1;
	}
	long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		return -errno;
	close((int)fd);
	return 0;
}

static uint32_t load_flags(const struct bee_prog_type_desc *d)
{
	return (d->flags & BEE_PT_SLEEPABLE_ONLY) ? BPF_F_SLEEPABLE : 0;
}

static const uint8_t size_code[9] = {[1] = BPF_B, [2] = BPF_H, [4] = BPF_W, [8] = BPF_DW};

/* A difference between bee and the kernel that is understood. */
struct known {
	uint32_t type;
	int64_t off_lo, off_hi; /* offsets [lo, hi] */
	uint32_t size;          /* 0: any */
	int write;              /* -1: either */
	const char *why;
};

static const struct known KNOWN[] = {
	{BPF_PROG_TYPE_TRACEPOINT, -32768, -1, 0, 0,
	 "tracepoint: tp_prog_is_valid_access compares the int off with sizeof(void *), an "
	 "unsigned comparison, so negative offsets pass its lower bound and the kernel accepts "
	 "reads before the record; bee refuses them (safe side)"},
};

static const struct known *known_diff(uint32_t type, int64_t off, uint32_t size, bool write)
{
	for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++) {
		const struct known *k = &KNOWN[i];
		if (k->type == type && off >= k->off_lo && off <= k->off_hi &&
		    (!k->size || k->size == size) && (k->write < 0 || k->write == (int)write))
			return k;
	}
	return NULL;
}

static unsigned total, agree, known_cnt, bad;

static void ctx_probe(const struct bee_prog_type_desc *d, int64_t off, uint32_t size, bool write)
{
	struct bpf_insn p[4];
	size_t n = 0;
	if (write) {
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0);
		p[n++] = INSN(BPF_STX | BPF_MEM | size_code[size], 1, 2, (int16_t)off, 0);
	} else {
		p[n++] = INSN(BPF_LDX | BPF_MEM | size_code[size], 2, 1, (int16_t)off, 0);
	}
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	int k = load(d->type_id, 0, load_flags(d), p, n, false);
	bool kernel_ok = k == 0;
	bool bee_ok = bee_prog_type_ctx_access(d, off, size, write, 0, NULL, NULL) == 0;
	total++;
	if (kernel_ok == bee_ok) {
		agree++;
		return;
	}
	const struct known *kn = known_diff(d->type_id, off, size, write);
	if (kn) {
		known_cnt++;
		return;
	}
	bad++;
	printf("DIFF %s ctx %s off=%lld size=%u: kernel %s (%d), bee %s\n", d->name,
	       write ? "write" : "read", (long long)off, size, kernel_ok ? "accepts" : "refuses", k,
	       bee_ok ? "accepts" : "refuses");
}

static void ctx_grid(const struct bee_prog_type_desc *d)
{
	static const uint32_t sizes[] = {1, 2, 4, 8};
	int64_t hi = d->ctx_size < 256 ? (int64_t)d->ctx_size + 8 : 264;
	for (int64_t off = -24; off <= hi; off++)
		for (int s = 0; s < 4; s++)
			for (int w = 0; w < 2; w++)
				ctx_probe(d, off, sizes[s], w);
	if (d->ctx_size >= 256) { /* the far end of a large context */
		/* insn.off is a signed 16-bit number and the kernel refuses any
		 * load through a ctx pointer moved by arithmetic, so offsets past
		 * 32767 (syscall contexts reach 65535) cannot be probed at all */
		int64_t end = d->ctx_size;
		int64_t last = end + 8 > 0x7fff ? 0x7fff : end + 8;
		for (int64_t off = last - 32; off <= last; off++)
			for (int s = 0; s < 4; s++)
				for (int w = 0; w < 2; w++)
					ctx_probe(d, off, sizes[s], w);
	}
}

/* The helpers bee implements (src/core/helpers.c, src/platform/builtins.c). */
static const int32_t bee_helpers[] = {
	BPF_FUNC_map_lookup_elem, BPF_FUNC_map_update_elem, BPF_FUNC_map_delete_elem,
	BPF_FUNC_probe_read, BPF_FUNC_ktime_get_ns, BPF_FUNC_trace_printk,
	BPF_FUNC_get_prandom_u32, BPF_FUNC_get_smp_processor_id, BPF_FUNC_tail_call,
	BPF_FUNC_get_current_pid_tgid, BPF_FUNC_get_current_uid_gid, BPF_FUNC_get_current_comm,
	BPF_FUNC_perf_event_output, BPF_FUNC_get_current_task, BPF_FUNC_get_numa_node_id,
	BPF_FUNC_probe_read_str, BPF_FUNC_map_push_elem, BPF_FUNC_map_pop_elem,
	BPF_FUNC_map_peek_elem, BPF_FUNC_strtol, BPF_FUNC_strtoul, BPF_FUNC_probe_read_user,
	BPF_FUNC_probe_read_kernel, BPF_FUNC_probe_read_user_str, BPF_FUNC_probe_read_kernel_str,
	BPF_FUNC_jiffies64, BPF_FUNC_ktime_get_boot_ns, BPF_FUNC_ringbuf_output,
	BPF_FUNC_ringbuf_reserve, BPF_FUNC_ringbuf_submit, BPF_FUNC_ringbuf_discard,
	BPF_FUNC_ringbuf_query, BPF_FUNC_get_current_task_btf, BPF_FUNC_for_each_map_elem,
	BPF_FUNC_snprintf, BPF_FUNC_trace_vprintk, BPF_FUNC_loop, BPF_FUNC_map_lookup_percpu_elem,
};

static unsigned h_total, h_agree, h_bad;

static void helper_check(const struct bee_prog_type_desc *d)
{
	for (size_t i = 0; i < sizeof(bee_helpers) / sizeof(bee_helpers[0]); i++) {
		int32_t id = bee_helpers[i];
		struct bpf_insn p[] = {
			INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id),
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		};
		int k = load(d->type_id, 0, load_flags(d), p, 3, true);
		bool kernel_has = k == 0 || (!strstr(logbuf, "unknown func") &&
					     !strstr(logbuf, "cannot use helper") &&
					     !strstr(logbuf, "not supported"));
		bool bee_has = bee_prog_type_helper_ok(d, id);
		h_total++;
		if (kernel_has == bee_has) {
			h_agree++;
			continue;
		}
		h_bad++;
		char *nl = strchr(logbuf, '\n');
		if (nl && nl[1]) /* the line after "0: (85) call ..." says why */
			nl = strchr(nl + 1, '\n') ? nl : nl;
		printf("DIFF %s helper %d: kernel %s, bee %s [%.*s]\n", d->name, id,
		       kernel_has ? "has it" : "lacks it", bee_has ? "has it" : "lacks it",
		       (int)strcspn(logbuf, "\n"), logbuf);
	}
}

static unsigned r_total, r_agree, r_bad;

static void ret_check(const struct bee_prog_type_desc *d, uint32_t attach)
{
	static const int32_t vals[] = {-4096, -4095, -1, 0, 1, 2, 3, 4, 5, 100, 0x7fffffff};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct bpf_insn p[] = {
			INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, vals[i]),
			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		};
		int k = load(d->type_id, attach, load_flags(d), p, 2, false);
		int64_t lo, hi;
		bool bee_ok = !bee_prog_type_ret_range(d, attach, &lo, &hi) ||
			      (vals[i] >= lo && vals[i] <= hi);
		r_total++;
		if ((k == 0) == bee_ok) {
			r_agree++;
			continue;
		}
		r_bad++;
		printf("DIFF %s (attach %u) return %d: kernel %s (%d), bee %s\n", d->name, attach,
		       vals[i], k == 0 ? "accepts" : "refuses", k, bee_ok ? "accepts" : "refuses");
	}
}

/* A writable context field takes register stores (BPF_STX) and, since
 * Linux 6.3, immediate stores (BPF_ST); atomics on the context are refused
 * for every type whatever the table says (bee's verifier must refuse
 * them too). */
static unsigned st_total, st_bad;

static void store_forms(const struct bee_prog_type_desc *d)
{
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct bee_ctx_field *f = &d->fields[i];
		if (!(f->write_sizes & BEE_SZ_4) || f->off > 0x7fff)
			continue;
		struct bpf_insn forms[3][4] = {
			{INSN(BPF_ST | BPF_MEM | BPF_W, 1, 0, (int16_t)f->off, 0)},
			{INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0),
			 INSN(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, (int16_t)f->off, BPF_ADD)},
			{INSN(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0),
			 INSN(BPF_STX | BPF_MEM | BPF_W, 1, 2, (int16_t)f->off, 0)},
		};
		size_t lens[3] = {1, 2, 2};
		for (int k = 0; k < 3; k++) {
			struct bpf_insn p[6];
			memcpy(p, forms[k], lens[k] * sizeof(p[0]));
			p[lens[k]] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
			p[lens[k] + 1] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
			int r = load(d->type_id, 0, load_flags(d), p, lens[k] + 2, false);
			bool want_ok = k != 1;
			st_total++;
			if ((r == 0) != want_ok) {
				st_bad++;
				printf("DIFF %s %s at %s (off %u): kernel %s\n", d->name,
				       k == 0 ? "BPF_ST" : k == 1 ? "atomic add" : "BPF_STX",
				       f->name ? f->name : "?", f->off, r == 0 ? "accepts" : "refuses");
			}
		}
	}
}

int main(void)
{
	char why[256];
	if (kbpf_probe(why, sizeof(why)) < 0) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	for (size_t i = 0; i < bee_prog_type_builtin_count(); i++) {
		const struct bee_prog_type_desc *d = bee_prog_type_builtin_at(i);
		if (d->flags & BEE_PT_NEEDS_ATTACH_BTF) {
			printf("%-15s not loaded: needs a BTF attach target\n", d->name);
			continue;
		}
		/* can the kernel load this type at all? */
		struct bpf_insn nop[] = {INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
					 INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
		int k = load(d->type_id, 0, load_flags(d), nop, 2, false);
		if (k < 0) {
			printf("%-15s not loaded: the kernel refuses this type (%s)\n", d->name,
			       strerror(-k));
			continue;
		}
		unsigned t0 = total, a0 = agree, h0 = h_total, ha0 = h_agree, r0 = r_total,
			 ra0 = r_agree;
		ctx_grid(d);
		helper_check(d);
		store_forms(d);
		ret_check(d, 0);
		if (d->type_id == BPF_PROG_TYPE_CGROUP_SKB)
			ret_check(d, BPF_CGROUP_INET_EGRESS);
		printf("%-15s ctx %u/%u  helpers %u/%u  returns %u/%u\n", d->name, agree - a0,
		       total - t0, h_agree - ha0, h_total - h0, r_agree - ra0, r_total - r0);
	}
	printf("context accesses: %u probes, %u agree, %u known differences, %u unexplained\n",
	       total, agree, known_cnt, bad);
	for (size_t i = 0; i < sizeof(KNOWN) / sizeof(KNOWN[0]); i++)
		printf("  known: %s\n", KNOWN[i].why);
	printf("helpers: %u probes, %u agree, %u differ\n", h_total, h_agree, h_bad);
	printf("return values: %u probes, %u agree, %u differ\n", r_total, r_agree, r_bad);
	printf("store forms (ST and STX accepted, atomics refused): %u probes, %u differ\n",
	       st_total, st_bad);
	return bad || h_bad || r_bad || st_bad ? 1 : 0;
}
