/*
 * btf_types.bpf.c - a BTF-heavy object for the BTF parser and printers
 * (tests/unit/test_btf.c): every kind clang emits, bitfields, unions,
 * anonymous members, enums (signed, unsigned, 1-byte, 8-byte values),
 * typedef chains, function pointers, arrays of arrays, const/volatile/
 * restrict, self- and mutually-referencing structs, decl and type tags,
 * and global variables in .data/.bss/.rodata.
 */
#include "bee_bpf.h"

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))

typedef int myint;
typedef myint myint2;
typedef const volatile myint2 cv_myint;

enum color { RED, GREEN = 5, BLUE = -3 };
enum small : unsigned char { S0, S1 = 200 };
enum big { BIG0, BIG1 = 0x7fffffff };
enum { ANON_A = 1, ANON_B };

struct node;
struct list {
	struct node *head;
	struct list *self;
};

struct node {
	struct node *next;
	struct list *owner;
	int value;
};

struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 7;
	unsigned long long d : 40;
	enum color col : 4;
	char tail;
};

union value {
	int i;
	unsigned long long u;
	char bytes[8];
	struct {
		short lo, hi;
	} halves;
};

struct packed_thing {
	char c;
	int i;
	short s;
} __attribute__((packed));

typedef int (*binop_t)(int, int);

struct everything {
	myint2 a;
	cv_myint b;
	const char *name;
	char *restrict buf;
	int matrix[3][4];
	struct node *nodes[2];
	union value v;
	struct bits bits;
	struct packed_thing pk;
	binop_t op;
	void (*callback)(struct everything *self, const char *fmt, ...);
	struct {
		int x, y;
	} point;
	union {
		int as_int;
		float as_float;
	};
	int __user *uptr;
	enum color color;
	enum small small;
	enum big big;
	double d;
	_Bool flag;
	long long arr0[0];
} __tag("everything_tag");

struct everything g_everything __tag("var_tag");
int g_counter = 7;
const int g_const = 3;
struct list g_list;
unsigned int g_anon_enum_user = ANON_B;

static __noinline int helper_fn(struct everything *e __tag("arg_tag"), int k) __tag("func_tag");
static __noinline int helper_fn(struct everything *e, int k)
{
	return e->a + k + e->bits.c + e->matrix[1][2];
}

SEC("socket")
int btf_types_prog(struct everything *ctx)
{
	g_counter += helper_fn(ctx, g_const) + ctx->small + ctx->color;
	return g_list.head ? g_list.head->value : g_counter;
}

char _license[] SEC("license") = "GPL";
