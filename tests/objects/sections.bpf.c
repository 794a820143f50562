/* One program for each of several section-name families, to check the
 * SEC table end to end (names as in libbpf's documented table). */
#include "bee_bpf.h"

#define PROG(sec, name) SEC(sec) int name(void *ctx) { return 0; }

PROG("fentry/do_unlinkat", on_fentry)
PROG("fexit/do_unlinkat", on_fexit)
PROG("lsm/file_open", on_lsm)
PROG("iter/task", on_iter)
PROG("uprobe//bin/bash:readline", on_uprobe)
PROG("uretprobe//bin/bash:readline", on_uretprobe)
PROG("usdt/./app:provider:probe", on_usdt)
PROG("perf_event", on_perf)
PROG("syscall", on_syscall)
PROG("cgroup_skb/ingress", on_cg_ingress)
PROG("sk_msg", on_sk_msg)
PROG("tcx/ingress", on_tcx)
PROG("struct_ops/test_1", on_struct_ops)
PROG("classifier", on_classifier)

char LICENSE[] SEC("license") = "GPL";
