/*
 * loader/sec_def.c - what a SEC("...") name means: program type, expected
 * attach type, and how its extras name an attach target.
 *
 * Theory of operation.  libbpf gives section names their meaning, and
 * its documentation ("Program Types and ELF Sections") is the contract
 * clang-built programs are written against; this table restates that
 * contract, plus the names libbpf has added since the table was last
 * documented (tc/tcx/netkit, uprobe.multi, kprobe.session, the unix
 * socket cgroup hooks, netfilter).  Each entry is a prefix that matches
 * either exactly ("socket") or, when it is marked BEE_SEC_EXTRAS
 * ("type+" in libbpf's notation), also as "prefix/extras".  Entries are
 * tried in order and the first match wins; no entry's match set overlaps
 * another's ("kprobe+" does not match "kprobe.multi/..." because the
 * character after the prefix must be '/' or the end).
 *
 * The extras are split by bee_sec_target_parse() according to the
 * entry's target kind, following the formats of the documentation's
 * footnotes: kprobe/<function>[+<offset>] with function characters
 * [a-zA-Z0-9_.], uprobe/<path>:<function>[+<offset>],
 * usdt/<path>:<provider>:<name>, tracepoint/<category>/<name>, and a
 * single BTF name for fentry/fexit/lsm/iter/tp_btf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/elf.h"

#define ATTACH BEE_SEC_EXP_ATTACH
#define OPT (BEE_SEC_EXP_ATTACH | BEE_SEC_EXP_OPTIONAL)
#define PLUS BEE_SEC_EXTRAS
#define SLEEP BEE_SEC_SLEEPABLE
#define BTFID (BEE_SEC_ATTACH_BTF | BEE_SEC_EXP_ATTACH)
#define RET BEE_SEC_RETPROBE
#define FRAGS BEE_SEC_XDP_FRAGS

#define T(x) BEE_SEC_TARGET_##x
#define P(x) BPF_PROG_TYPE_##x
#define A(x) ((enum bpf_attach_type)(x))
#define NEW_P(x) ((enum bpf_prog_type)(x))

static const struct bee_sec_def sec_defs[] = {
	{ "socket", P(SOCKET_FILTER), A(0), T(NONE), 0 },
	{ "sk_reuseport/migrate", P(SK_REUSEPORT), BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, T(NONE), ATTACH },
	{ "sk_reuseport", P(SK_REUSEPORT), BPF_SK_REUSEPORT_SELECT, T(NONE), ATTACH },

	{ "kprobe", P(KPROBE), A(0), T(KPROBE), PLUS },
	{ "uprobe", P(KPROBE), A(0), T(UPROBE), PLUS },
	{ "uprobe.s", P(KPROBE), A(0), T(UPROBE), PLUS | SLEEP },
	{ "kretprobe", P(KPROBE), A(0), T(KPROBE), PLUS | RET },
	{ "uretprobe", P(KPROBE), A(0), T(UPROBE), PLUS | RET },
	{ "uretprobe.s", P(KPROBE), A(0), T(UPROBE), PLUS | RET | SLEEP },
	{ "kprobe.multi", P(KPROBE), BPF_TRACE_KPROBE_MULTI, T(PATTERN), PLUS | ATTACH },
	{ "kretprobe.multi", P(KPROBE), BPF_TRACE_KPROBE_MULTI, T(PATTERN), PLUS | ATTACH | RET },
	{ "kprobe.session", P(KPROBE), A(BEE_BPF_TRACE_KPROBE_SESSION), T(PATTERN), PLUS | ATTACH },
	{ "uprobe.multi", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_MULTI), T(UPROBE), PLUS | ATTACH },
	{ "uretprobe.multi", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_MULTI), T(UPROBE), PLUS | ATTACH | RET },
	{ "uprobe.multi.s", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_MULTI), T(UPROBE), PLUS | ATTACH | SLEEP },
	{ "uretprobe.multi.s", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_MULTI), T(UPROBE),
	  PLUS | ATTACH | RET | SLEEP },
	{ "uprobe.session", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_SESSION), T(UPROBE), PLUS | ATTACH },
	{ "uprobe.session.s", P(KPROBE), A(BEE_BPF_TRACE_UPROBE_SESSION), T(UPROBE),
	  PLUS | ATTACH | SLEEP },
	{ "ksyscall", P(KPROBE), A(0), T(KSYSCALL), PLUS },
	{ "kretsyscall", P(KPROBE), A(0), T(KSYSCALL), PLUS | RET },
	{ "usdt", P(KPROBE), A(0), T(USDT), PLUS },
	{ "usdt.s", P(KPROBE), A(0), T(USDT), PLUS | SLEEP },

	{ "tc/ingress", P(SCHED_CLS), A(BEE_BPF_TCX_INGRESS), T(NONE), ATTACH },
	{ "tc/egress", P(SCHED_CLS), A(BEE_BPF_TCX_EGRESS), T(NONE), ATTACH },
	{ "tcx/ingress", P(SCHED_CLS), A(BEE_BPF_TCX_INGRESS), T(NONE), ATTACH },
	{ "tcx/egress", P(SCHED_CLS), A(BEE_BPF_TCX_EGRESS), T(NONE), ATTACH },
	{ "tc", P(SCHED_CLS), A(0), T(NONE), 0 },
	{ "classifier", P(SCHED_CLS), A(0), T(NONE), 0 },
	{ "action", P(SCHED_ACT), A(0), T(NONE), 0 },
	{ "netkit/primary", P(SCHED_CLS), A(BEE_BPF_NETKIT_PRIMARY), T(NONE), ATTACH },
	{ "netkit/peer", P(SCHED_CLS), A(BEE_BPF_NETKIT_PEER), T(NONE), ATTACH },

	{ "tracepoint", P(TRACEPOINT), A(0), T(TRACEPOINT), PLUS },
	{ "tp", P(TRACEPOINT), A(0), T(TRACEPOINT), PLUS },
	{ "raw_tracepoint", P(RAW_TRACEPOINT), A(0), T(RAW_TP), PLUS },
	{ "raw_tp", P(RAW_TRACEPOINT), A(0), T(RAW_TP), PLUS },
	{ "raw_tracepoint.w", P(RAW_TRACEPOINT_WRITABLE), A(0), T(RAW_TP), PLUS },
	{ "raw_tp.w", P(RAW_TRACEPOINT_WRITABLE), A(0), T(RAW_TP), PLUS },
	{ "tp_btf", P(TRACING), BPF_TRACE_RAW_TP, T(BTF), PLUS | BTFID },
	{ "fentry", P(TRACING), BPF_TRACE_FENTRY, T(BTF), PLUS | BTFID },
	{ "fmod_ret", P(TRACING), BPF_MODIFY_RETURN, T(BTF), PLUS | BTFID },
	{ "fexit", P(TRACING), BPF_TRACE_FEXIT, T(BTF), PLUS | BTFID },
	{ "fentry.s", P(TRACING), BPF_TRACE_FENTRY, T(BTF), PLUS | BTFID | SLEEP },
	{ "fmod_ret.s", P(TRACING), BPF_MODIFY_RETURN, T(BTF), PLUS | BTFID | SLEEP },
	{ "fexit.s", P(TRACING), BPF_TRACE_FEXIT, T(BTF), PLUS | BTFID | SLEEP },
	{ "freplace", P(EXT), A(0), T(BTF), PLUS | BEE_SEC_ATTACH_BTF },
	{ "lsm", P(LSM), BPF_LSM_MAC, T(BTF), PLUS | BTFID },
	{ "lsm.s", P(LSM), BPF_LSM_MAC, T(BTF), PLUS | BTFID | SLEEP },
	{ "lsm_cgroup", P(LSM), BPF_LSM_CGROUP, T(BTF), PLUS | BTFID },
	{ "iter", P(TRACING), BPF_TRACE_ITER, T(BTF), PLUS | BTFID },
	{ "iter.s", P(TRACING), BPF_TRACE_ITER, T(BTF), PLUS | BTFID | SLEEP },
	{ "syscall", P(SYSCALL), A(0), T(NONE), SLEEP },

	{ "xdp.frags/devmap", P(XDP), BPF_XDP_DEVMAP, T(NONE), ATTACH | FRAGS },
	{ "xdp/devmap", P(XDP), BPF_XDP_DEVMAP, T(NONE), ATTACH },
	{ "xdp.frags/cpumap", P(XDP), BPF_XDP_CPUMAP, T(NONE), ATTACH | FRAGS },
	{ "xdp/cpumap", P(XDP), BPF_XDP_CPUMAP, T(NONE), ATTACH },
	{ "xdp.frags", P(XDP), BPF_XDP, T(NONE), OPT | FRAGS },
	{ "xdp", P(XDP), BPF_XDP, T(NONE), OPT },

	{ "perf_event", P(PERF_EVENT), A(0), T(NONE), 0 },
	{ "lwt_in", P(LWT_IN), A(0), T(NONE), 0 },
	{ "lwt_out", P(LWT_OUT), A(0), T(NONE), 0 },
	{ "lwt_xmit", P(LWT_XMIT), A(0), T(NONE), 0 },
	{ "lwt_seg6local", P(LWT_SEG6LOCAL), A(0), T(NONE), 0 },
	{ "sockops", P(SOCK_OPS), BPF_CGROUP_SOCK_OPS, T(NONE), OPT },
	{ "sk_skb/stream_parser", P(SK_SKB), BPF_SK_SKB_STREAM_PARSER, T(NONE), OPT },
	{ "sk_skb/stream_verdict", P(SK_SKB), BPF_SK_SKB_STREAM_VERDICT, T(NONE), OPT },
	{ "sk_skb/verdict", P(SK_SKB), BPF_SK_SKB_VERDICT, T(NONE), OPT },
	{ "sk_skb", P(SK_SKB), A(0), T(NONE), 0 },
	{ "sk_msg", P(SK_MSG), BPF_SK_MSG_VERDICT, T(NONE), OPT },
	{ "lirc_mode2", P(LIRC_MODE2), BPF_LIRC_MODE2, T(NONE), OPT },
	{ "flow_dissector", P(FLOW_DISSECTOR), BPF_FLOW_DISSECTOR, T(NONE), OPT },
	{ "sk_lookup", P(SK_LOOKUP), BPF_SK_LOOKUP, T(NONE), ATTACH },
	{ "netfilter", NEW_P(BEE_BPF_PROG_TYPE_NETFILTER), A(BEE_BPF_NETFILTER), T(NONE), ATTACH },
	{ "struct_ops", P(STRUCT_OPS), A(0), T(STRUCT_OPS), PLUS },
	{ "struct_ops.s", P(STRUCT_OPS), A(0), T(STRUCT_OPS), PLUS | SLEEP },

	{ "cgroup_skb/ingress", P(CGROUP_SKB), BPF_CGROUP_INET_INGRESS, T(NONE), OPT },
	{ "cgroup_skb/egress", P(CGROUP_SKB), BPF_CGROUP_INET_EGRESS, T(NONE), OPT },
	{ "cgroup/skb", P(CGROUP_SKB), A(0), T(NONE), 0 },
	{ "cgroup/sock_create", P(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_CREATE, T(NONE), OPT },
	{ "cgroup/sock_release", P(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_RELEASE, T(NONE), ATTACH },
	{ "cgroup/sock", P(CGROUP_SOCK), BPF_CGROUP_INET_SOCK_CREATE, T(NONE), OPT },
	{ "cgroup/post_bind4", P(CGROUP_SOCK), BPF_CGROUP_INET4_POST_BIND, T(NONE), OPT },
	{ "cgroup/post_bind6", P(CGROUP_SOCK), BPF_CGROUP_INET6_POST_BIND, T(NONE), OPT },
	{ "cgroup/bind4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_BIND, T(NONE), OPT },
	{ "cgroup/bind6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_BIND, T(NONE), OPT },
	{ "cgroup/connect4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_CONNECT, T(NONE), OPT },
	{ "cgroup/connect6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_CONNECT, T(NONE), OPT },
	{ "cgroup/connect_unix", P(CGROUP_SOCK_ADDR), A(BEE_BPF_CGROUP_UNIX_CONNECT), T(NONE), ATTACH },
	{ "cgroup/sendmsg4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP4_SENDMSG, T(NONE), OPT },
	{ "cgroup/sendmsg6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP6_SENDMSG, T(NONE), OPT },
	{ "cgroup/sendmsg_unix", P(CGROUP_SOCK_ADDR), A(BEE_BPF_CGROUP_UNIX_SENDMSG), T(NONE), ATTACH },
	{ "cgroup/recvmsg4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP4_RECVMSG, T(NONE), OPT },
	{ "cgroup/recvmsg6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_UDP6_RECVMSG, T(NONE), OPT },
	{ "cgroup/recvmsg_unix", P(CGROUP_SOCK_ADDR), A(BEE_BPF_CGROUP_UNIX_RECVMSG), T(NONE), ATTACH },
	{ "cgroup/getpeername4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_GETPEERNAME, T(NONE), OPT },
	{ "cgroup/getpeername6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_GETPEERNAME, T(NONE), OPT },
	{ "cgroup/getpeername_unix", P(CGROUP_SOCK_ADDR), A(BEE_BPF_CGROUP_UNIX_GETPEERNAME), T(NONE),
	  ATTACH },
	{ "cgroup/getsockname4", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET4_GETSOCKNAME, T(NONE), OPT },
	{ "cgroup/getsockname6", P(CGROUP_SOCK_ADDR), BPF_CGROUP_INET6_GETSOCKNAME, T(NONE), OPT },
	{ "cgroup/getsockname_unix", P(CGROUP_SOCK_ADDR), A(BEE_BPF_CGROUP_UNIX_GETSOCKNAME), T(NONE),
	  ATTACH },
	{ "cgroup/sysctl", P(CGROUP_SYSCTL), BPF_CGROUP_SYSCTL, T(NONE), ATTACH },
	{ "cgroup/getsockopt", P(CGROUP_SOCKOPT), BPF_CGROUP_GETSOCKOPT, T(NONE), ATTACH },
	{ "cgroup/setsockopt", P(CGROUP_SOCKOPT), BPF_CGROUP_SETSOCKOPT, T(NONE), ATTACH },
	{ "cgroup/dev", P(CGROUP_DEVICE), BPF_CGROUP_DEVICE, T(NONE), OPT },
};

const struct bee_sec_def *bee_sec_defs(size_t *count)
{
	if (count)
		*count = sizeof(sec_defs) / sizeof(sec_defs[0]);
	return sec_defs;
}

const struct bee_sec_def *bee_sec_def_find(const char *sec_name)
{
	if (!sec_name)
		return NULL;
	for (size_t i = 0; i < sizeof(sec_defs) / sizeof(sec_defs[0]); i++) {
		const struct bee_sec_def *d = &sec_defs[i];
		size_t n = strlen(d->prefix);

		if (strncmp(sec_name, d->prefix, n) != 0)
			continue;
		if (sec_name[n] == '\0' || ((d->flags & BEE_SEC_EXTRAS) && sec_name[n] == '/'))
			return d;
	}
	return NULL;
}

void bee_sec_target_free(struct bee_sec_target *t)
{
	if (!t)
		return;
	free(t->raw);
	free(t->path);
	free(t->func);
	free(t->category);
	free(t->name);
	free(t->provider);
	memset(t, 0, sizeof(*t));
}

static int dup_range(char **out, const char *s, size_t n)
{
	*out = strndup(s, n);
	return *out ? 0 : -ENOMEM;
}

/* "name[+offset]": name from the allowed set (NULL allows any but '+'). */
static int split_offset(struct bee_sec_target *t, const char *s, const char *allowed,
			const char *sec_name, struct bee_error *err)
{
	size_t n = allowed ? strspn(s, allowed) : strcspn(s, "+");

	if (s[n] != '\0' && s[n] != '+')
		return bee_error_set(err, -EINVAL, -1, 0, 0,
				     "section '%s': invalid character '%c' in function name",
				     sec_name, s[n]);
	if (s[n] == '+') {
		char *end;
		const char *num = s + n + 1;
		if (*num < '0' || *num > '9')
			return bee_error_set(err, -EINVAL, -1, 0, 0,
					     "section '%s': offset '%s' is not a number", sec_name,
					     num);
		errno = 0;
		t->offset = strtoull(num, &end, 0);
		if (errno || *end)
			return bee_error_set(err, -EINVAL, -1, 0, 0,
					     "section '%s': offset '%s' is not a number", sec_name,
					     num);
	}
	if (n == 0)
		return 0;
	return dup_range(&t->func, s, n);
}

int bee_sec_target_parse(const struct bee_sec_def *def, const char *sec_name,
			 struct bee_sec_target *t, struct bee_error *err)
{
	static const char kfunc_chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
	size_t plen;
	const char *x, *c1, *c2;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!def || !sec_name || strncmp(sec_name, def->prefix, plen = strlen(def->prefix)) != 0)
		return bee_error_set(err, -EINVAL, -1, 0, 0, "section '%s' does not match '%s'",
				     sec_name ? sec_name : "(null)", def ? def->prefix : "(null)");
	t->kind = def->target;
	if (sec_name[plen] == '\0')
		return 0; /* "kprobe" alone: valid, but names nothing to auto-attach */
	if (sec_name[plen] != '/' || !(def->flags & BEE_SEC_EXTRAS))
		return bee_error_set(err, -EINVAL, -1, 0, 0,
				     "section '%s': '%s' takes no attach target", sec_name,
				     def->prefix);
	x = sec_name + plen + 1;
	if (*x == '\0' && def->target != BEE_SEC_TARGET_STRUCT_OPS)
		return bee_error_set(err, -EINVAL, -1, 0, 0,
				     "section '%s': empty attach target after '%s/'", sec_name,
				     def->prefix);
	if ((rc = dup_range(&t->raw, x, strlen(x))))
		goto nomem;

	switch (def->target) {
	case BEE_SEC_TARGET_NONE:
	case BEE_SEC_TARGET_STRUCT_OPS:
		break;
	case BEE_SEC_TARGET_KPROBE:
		rc = split_offset(t, x, kfunc_chars, sec_name, err);
		if (!rc && !t->func)
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': no function name before the offset",
					   sec_name);
		break;
	case BEE_SEC_TARGET_UPROBE:
		c1 = strchr(x, ':');
		if (!c1 || c1 == x) {
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': expected <path>:<function>[+<offset>]",
					   sec_name);
			break;
		}
		if ((rc = dup_range(&t->path, x, c1 - x)))
			goto nomem;
		rc = split_offset(t, c1 + 1, NULL, sec_name, err);
		if (!rc && !t->func && !strchr(c1 + 1, '+'))
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': no function or offset after the path",
					   sec_name);
		break;
	case BEE_SEC_TARGET_USDT:
		c1 = strchr(x, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c1 == x || c2 == c1 + 1 || c2[1] == '\0' || strchr(c2 + 1, ':')) {
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': expected <path>:<provider>:<name>", sec_name);
			break;
		}
		if ((rc = dup_range(&t->path, x, c1 - x)) ||
		    (rc = dup_range(&t->provider, c1 + 1, c2 - c1 - 1)) ||
		    (rc = dup_range(&t->name, c2 + 1, strlen(c2 + 1))))
			goto nomem;
		break;
	case BEE_SEC_TARGET_TRACEPOINT:
		c1 = strchr(x, '/');
		if (!c1 || c1 == x || c1[1] == '\0') {
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': expected <category>/<name>", sec_name);
			break;
		}
		if ((rc = dup_range(&t->category, x, c1 - x)) ||
		    (rc = dup_range(&t->name, c1 + 1, strlen(c1 + 1))))
			goto nomem;
		break;
	case BEE_SEC_TARGET_PATTERN:
		if (strspn(x, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*?") !=
		    strlen(x)) {
			rc = bee_error_set(err, -EINVAL, -1, 0, 0,
					   "section '%s': invalid character in pattern '%s'",
					   sec_name, x);
			break;
		}
		if ((rc = dup_range(&t->func, x, strlen(x))))
			goto nomem;
		break;
	case BEE_SEC_TARGET_KSYSCALL:
	case BEE_SEC_TARGET_RAW_TP:
	case BEE_SEC_TARGET_BTF:
		if ((rc = dup_range(&t->func, x, strlen(x))))
			goto nomem;
		break;
	}
	if (rc)
		bee_sec_target_free(t);
	return rc;
nomem:
	bee_sec_target_free(t);
	return bee_error_set(err, -ENOMEM, -1, 0, 0, "out of memory");
}
