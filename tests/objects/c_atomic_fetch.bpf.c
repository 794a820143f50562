/* Corpus: atomics with results (cpu v3): fetch_add/or/and/xor, xchg, cmpxchg. */
// clang: -mcpu=v3
// corpus: BPF_ATOMIC with BPF_FETCH, XCHG, CMPXCHG on a .data variable and the stack
// run: prog=fetch_ops ctx=u32:0 ret=0
// run: prog=fetch_ops ctx=u32:0 ret=0
// map: map=c_atomic.data key=u32:0 val=u64:0xf0
#include "bee_bpf.h"

__u64 word = 0xf0;

SEC("syscall")
int fetch_ops(void *ctx)
{
	__u64 old;
	__u32 w32 = 5;

	old = __sync_fetch_and_add(&word, 0x10);          /* f0 -> 100 */
	if (old != 0xf0)
		return 1;
	old = __sync_fetch_and_or(&word, 0x3);            /* 100 -> 103 */
	if (old != 0x100)
		return 2;
	old = __sync_fetch_and_and(&word, 0x102);         /* 103 -> 102 */
	if (old != 0x103)
		return 3;
	old = __sync_fetch_and_xor(&word, 0x1f2);         /* 102 -> f0 */
	if (old != 0x102)
		return 4;
	old = __sync_lock_test_and_set(&word, 7);          /* xchg: f0 -> 7 */
	if (old != 0xf0)
		return 5;
	old = __sync_val_compare_and_swap(&word, 6, 9);   /* no swap */
	if (old != 7)
		return 6;
	old = __sync_val_compare_and_swap(&word, 7, 0xf0); /* swap back */
	if (old != 7 || word != 0xf0)
		return 7;
	if (__sync_fetch_and_add(&w32, 1) != 5 || w32 != 6)
		return 8;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
