/*
 * Object for `bee map dump` with BTF (tests/unit/test_tool_cli.sh): maps
 * whose keys and values have types worth formatting (a struct with a
 * nested struct, a char array, an enum, a bitfield, a signed number), a
 * per-CPU array, global data (.data, .rodata, .bss), and programs whose
 * functions have the signatures `prog dump` prints (pointers, const,
 * several arguments, a void return, a global subprogram in the middle).
 */
#include "bee_bpf.h"

enum color { RED, GREEN = 5, BLUE };

struct point {
	int x;
	int y;
};

struct flow_key {
	__u32 addr;
	__u16 port;
	__u8 proto;
};

struct flow_stats {
	__u64 packets;
	__s32 delta;
	char tag[6];
	enum color color;
	struct point where;
	unsigned int low : 3;
	unsigned int high : 5;
	__u16 hist[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

/* The less common leaves: chars, bools, pointers, unions, anonymous
 * members, char arrays that are not strings, quotes to escape, nested
 * arrays, an enum value without a name, a signed bitfield. */
typedef struct point point_t;
struct odd {
	char c;
	signed char sc;
	bool b;
	char raw[4];
	char quoted[8];
	__u64 *ptr;
	union {
		__u32 word;
		__u8 bytes[4];
	} u;
	struct {
		short lo, hi;
	};
	int grid[2][2];
	enum color shade;
	int neg : 4;
	volatile point_t pt;
	float f;
	__u64 big;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct odd);
} odds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct point);
} points SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

int counter = 7;
const volatile char banner[8] = "bee";
const volatile short limit = -3;
struct point origin;

__noinline int add_point(const struct point *p, int scale, char c)
{
	if (!p)
		return 0;
	return (p->x + p->y) * scale + c;
}

static __noinline void bump(__u64 *v)
{
	if (v)
		*v += 1;
}

SEC("socket")
int flow_count(struct __sk_buff *skb)
{
	struct flow_key k = {.addr = skb->len, .port = 80, .proto = 6};
	struct flow_stats *s = bpf_map_lookup_elem(&flows, &k);
	__u32 zero = 0;
	__u64 *h = bpf_map_lookup_elem(&hits, &zero);
	struct point *p = bpf_map_lookup_elem(&points, &zero);

	struct odd *o = bpf_map_lookup_elem(&odds, &zero);

	if (o)
		o->c++;
	bump(h);
	if (s)
		s->packets++;
	counter += limit;
	origin.x = banner[0];
	return p ? add_point(p, 2, 'a') : 0;
}

char LICENSE[] SEC("license") = "GPL";
