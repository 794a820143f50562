/* Corpus: .data variables read and written by a program and by the host. */
// corpus: .data (initialised globals, a struct and an array), host lookups of the image
// run: prog=bump ctx=u32:0 ret=6
// run: prog=bump ctx=u32:0 ret=7
// map: map=c_glob_d.data key=u32:0 val=u32:7,u32:0,u64:0x1122334455667788
#include "bee_bpf.h"

__u32 counter = 5;
__u32 pad_between;
__u64 wide = 0x1122334455667788ull;
struct {
	__u16 a, b;
} pair = {3, 4};
__u8 table[4] = {1, 2, 3, 4};

SEC("syscall")
int bump(void *ctx)
{
	counter++;
	if (wide != 0x1122334455667788ull || pair.a + pair.b != 7 || table[3] != 4)
		return -1;
	return (int)counter;
}

char LICENSE[] SEC("license") = "GPL";
