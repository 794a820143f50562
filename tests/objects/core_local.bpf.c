/*
 * core_local.bpf.c - CO-RE relocations of every kind against types whose
 * target layout (core_target.bpf.c) differs: fields moved, one removed,
 * an anonymous struct the target lacks, bitfields laid out differently,
 * an unsigned field that grows and a signed one that grows, a flavored
 * target type, an ambiguous pair of candidates, a missing type, enums
 * reordered.  tests/unit/test_core_relo.c checks every record.
 */
#include "bee_bpf.h"
#include "bee_core.h"

struct core_inner {
	int x;
	int y;
} __core;

struct core_s {
	int a;                 /* 0:0 */
	long b;                /* 0:1 */
	char removed;          /* 0:2  (absent in the target) */
	struct {
		int anon_in;   /* 0:3:0 */
	};
	struct core_inner in;  /* 0:4 */
	int arr[4];            /* 0:5 */
	struct core_s *next;   /* 0:6 */
	unsigned int grow;     /* 0:7  (unsigned long long in the target) */
	int sgrow;             /* 0:8  (long long in the target) */
} __core;

struct core_bits {
	unsigned int lo : 3;   /* 0:0 */
	int mid : 5;           /* 0:1 */
	unsigned int hi : 20;  /* 0:2 */
} __core;

/* The target only has core_flav___v2. */
struct core_flav {
	int f;
} __core;

/* The target has core_amb (b at 4) and core_amb___x (b at 0): ambiguous. */
struct core_amb {
	int b;
} __core;

/* The target has core_same and core_same___y, b at 4 in both: agreed. */
struct core_same {
	int b;
} __core;

/* Not in the target at all. */
struct core_missing {
	int z;
} __core;

enum core_e { CE_A = 1, CE_B = 2, CE_GONE = 3 };

volatile int sink;

SEC("socket")
int core_fields(struct core_s *s)
{
	int r = s->a;
	r += s->b;
	r += s->removed;
	r += s->anon_in;
	r += s->in.y;
	r += s->arr[2];
	r += s->next->a;
	r += s->grow;
	r += s->sgrow;
	sink = bee_core_field_exists(s->removed);
	sink = bee_core_field_exists(s->in.x);
	sink = bee_core_field_size(s->b);
	sink = bee_core_field_offset(s->arr[3]);
	sink = bee_core_field_size(s->arr[1]);
	return r;
}

SEC("socket")
int core_bits(struct core_bits *b)
{
	sink = bee_core_field_offset(b->mid);
	sink = bee_core_field_size(b->mid);
	sink = bee_core_field_signed(b->mid);
	sink = bee_core_field_lshift(b->mid);
	sink = bee_core_field_rshift(b->mid);
	sink = bee_core_field_offset(b->hi);
	sink = bee_core_field_size(b->hi);
	sink = bee_core_field_lshift(b->hi);
	sink = bee_core_field_rshift(b->hi);
	sink = bee_core_field_signed(b->lo);
	sink = bee_core_field_lshift(b->lo);
	return 0;
}

SEC("socket")
int core_types(struct core_flav *f)
{
	int r = f->f;
	sink = bee_core_type_exists(struct core_flav);
	sink = bee_core_type_size(struct core_flav);
	sink = bee_core_type_exists(struct core_missing);
	sink = bee_core_type_size(struct core_missing);
	sink = bee_core_type_id_local(struct core_s);
	sink = bee_core_type_id_target(struct core_s);
	sink = bee_core_type_id_target(struct core_missing);
	sink = bee_core_enum_exists(enum core_e, CE_B);
	sink = bee_core_enum_value(enum core_e, CE_B);
	sink = bee_core_enum_exists(enum core_e, CE_GONE);
	sink = bee_core_enum_value(enum core_e, CE_GONE);
	return r;
}

SEC("socket")
int core_poison(struct core_missing *m)
{
	sink = bee_core_field_exists(m->z);
	return m->z;
}

SEC("socket")
int core_ambiguous(struct core_amb *a)
{
	return a->b;
}

SEC("socket")
int core_agreed(struct core_same *s)
{
	return s->b;
}

char _license[] SEC("license") = "GPL";
