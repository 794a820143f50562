/* bee_program_attach on the user-space target (tests/unit/test_attach.c):
 * programs whose sections become named hooks, and ones that cannot attach
 * in user space. */
#include "bee_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static void bump(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		__sync_fetch_and_add(v, by);
}

struct raw_args {
	__u64 args[1];
};

/* slot 0: += the event's first argument */
SEC("raw_tp/bee_event")
int on_event(struct raw_args *ctx)
{
	bump(0, ctx->args[0]);
	return 0;
}

/* slot 1: counts tp/bee/request firings */
SEC("tp/bee/request")
int on_request(void *ctx)
{
	bump(1, 1);
	return 0;
}

/* slot 2: counts kprobe/my_func firings (an embedder's function) */
SEC("kprobe/my_func")
int on_my_func(struct pt_regs *ctx)
{
	bump(2, 1);
	return 0;
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return 2;
}

SEC("kprobe")
int no_target(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
