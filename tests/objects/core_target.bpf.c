/*
 * core_target.bpf.c - the "target kernel" for core_local.bpf.c: the same
 * type names with another layout.  Only its BTF is used.
 */
#include "bee_bpf.h"

struct core_inner {
	long pad;
	int y;                 /* at 8 */
	int x;                 /* at 12 */
};

struct core_s {
	long b;                /* at 0 */
	struct core_s *next;   /* at 8 */
	int arr[6];            /* at 16 */
	union {
		struct {
			int a;         /* at 40, inside two anonymous levels */
			int anon_in;   /* at 44 */
		};
		long both;
	};
	struct core_inner in;  /* at 48 */
	unsigned long long grow; /* at 64 */
	long long sgrow;       /* at 72 */
};

struct core_bits {
	char c;                      /* byte 0 */
	unsigned long long hi : 40;  /* bits 8..47 */
	int mid : 7;                 /* bits 48..54 */
	unsigned int lo : 2;         /* bits 55..56 */
};

struct core_flav___v2 {
	long pad;
	int f;                 /* at 8 */
};

struct core_amb {
	int a;
	int b;                 /* at 4 */
};

struct core_amb___x {
	int b;                 /* at 0 */
};

struct core_same {
	int a;
	int b;                 /* at 4 */
};

struct core_same___y {
	int c;
	int b;                 /* at 4 */
};

enum core_e { CE_NEW = 5, CE_B = 20, CE_A = 10 };

struct core_s g_s;
struct core_bits g_bits;
struct core_flav___v2 g_flav;
struct core_amb g_amb;
struct core_amb___x g_amb_x;
struct core_same g_same;
struct core_same___y g_same_y;
enum core_e g_e;

SEC("socket")
int core_target(void *ctx)
{
	return g_s.a + g_bits.mid + g_flav.f + g_amb.b + g_amb_x.b + g_same.b + g_same_y.b + g_e;
}

char _license[] SEC("license") = "GPL";
