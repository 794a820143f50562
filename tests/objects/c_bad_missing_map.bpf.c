/* Corpus (refused): a map referenced through an undefined extern symbol. */
// corpus: a missing map (undefined symbol used as a map) must be refused
// refuse: use_ghost
// refuse: ghost_map
// refuse: insn 4
#include "bee_bpf.h"

extern int ghost_map;

SEC("xdp")
int use_ghost(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&ghost_map, &k) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
