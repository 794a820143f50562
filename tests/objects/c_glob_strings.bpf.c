/* Corpus: string literals (.rodata.str1.1) and a string table compared in a program. */
// corpus: .rodata.str1.1 string literals, a const char * array, byte loops over them
// run: prog=str_len ctx=u32:0 ret=5
// run: prog=str_len ctx=u32:2 ret=11
// run: prog=str_first ctx=u32:1 ret=0x77
#include "bee_bpf.h"

/* (A table of pointers to strings would need data-to-data relocations,
 * which BPF objects do not have: pick the literal in code.) */
static __always_inline const char *name_of(__u32 k)
{
	switch (k) {
	case 0:
		return "hello";
	case 1:
		return "world";
	default:
		return "bee is here";
	}
}

SEC("syscall")
int str_len(__u32 *i)
{
	__u32 k = *i;
	if (k > 2)
		return -1;
	const char *s = name_of(k);
	int n = 0;
	for (int j = 0; j < 32 && s[j]; j++)
		n++;
	return n;
}

SEC("syscall")
int str_first(__u32 *i)
{
	__u32 k = *i;
	if (k > 2)
		return -1;
	return name_of(k)[0];
}

char LICENSE[] SEC("license") = "GPL";
