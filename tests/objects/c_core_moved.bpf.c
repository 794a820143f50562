/* Corpus: CO-RE against another object's BTF (c_core_moved_target.bpf.o):
 * the fields this program reads moved, grew, or are missing there; the
 * program's reads follow the target layout. */
// corpus: CO-RE field relocations against a custom target BTF (btf_custom_path = an ELF object)
// open: btf=c_core_moved_target
// run: prog=read_moved ctx=u32:5,u32:9,u64:5 ret=2014
#include "bee_bpf.h"
#include "bee_core.h"

struct shape {
	unsigned int x; /* target: unsigned long long at 8 (an unsigned field may grow) */
	int y;         /* target: int at 4 */
	int gone;      /* not in the target */
} __core;

SEC("syscall")
int read_moved(struct shape *s)
{
	int r = s->y + (int)bee_core_field_size(s->x) * 0;
	/* (Reading s->gone under this test would leave a poisoned call in dead
	 * code, which bee's core refuses at load until the verifier lands.) */
	r += bee_core_field_exists(s->gone) ? 1000 : 2000;
	return r + (int)s->x;
}

char LICENSE[] SEC("license") = "GPL";
