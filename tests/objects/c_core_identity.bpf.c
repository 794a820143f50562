/* Corpus: CO-RE field relocations resolved against the object's own BTF
 * (no target BTF given): offsets, sizes, existence, bitfields, types, enums. */
// corpus: CO-RE against the object's own BTF (identity): field offset/size/exists, bitfield shifts, type size, enum value
// run: prog=core_read ctx=u32:7,u32:0,u64:100,u16:5,u16:0,u32:0 ret=112
// run: prog=core_bits ctx=u32:0x00000d2b ret=0x0d0503
// run: prog=core_meta ctx=u32:0 ret=0x18180803
#include "bee_bpf.h"
#include "bee_core.h"

struct rec {
	int a;
	long b;
	short c;
	int d;
} __core;

struct bits {
	unsigned int lo : 3;
	unsigned int mid : 5;
	unsigned int hi : 8;
} __core;

enum colour { RED = 1, GREEN = 8, BLUE = 24 };

SEC("syscall")
int core_read(struct rec *r)
{
	return r->a + (int)r->b + r->c;
}

/* A bitfield read the CO-RE way: load the containing word, shift left, shift right. */
#define CORE_BITFIELD(s, f)                                                      \
	({                                                                       \
		__u64 v = *(__u32 *)((char *)(s) + bee_core_field_offset((s)->f)); \
		v <<= bee_core_field_lshift((s)->f);                             \
		v >>= bee_core_field_rshift((s)->f);                             \
		v;                                                               \
	})

SEC("syscall")
int core_bits(struct bits *b)
{
	return (int)(CORE_BITFIELD(b, lo) | CORE_BITFIELD(b, mid) << 8 | CORE_BITFIELD(b, hi) << 16);
}

SEC("syscall")
int core_meta(struct rec *r)
{
	int exists = bee_core_field_exists(r->d);
	int size = bee_core_type_size(struct rec);
	int off = bee_core_field_offset(r->b);
	int v = bee_core_enum_value(enum colour, BLUE);

	return v << 24 | size << 16 | off << 8 | (exists + bee_core_field_size(r->c));
}

char LICENSE[] SEC("license") = "GPL";
