/* Corpus: a ring buffer written with reserve/submit, reserve/discard and output. */
// corpus: BPF_MAP_TYPE_RINGBUF (reserve+submit, discard skipped, ringbuf_output)
// run: prog=rb_events ctx=u32:7 ret=0
// ringbuf: map=events count=2 first=u32:7,u32:0xbee
// run: prog=rb_events ctx=u32:8 ret=0
// run: prog=rb_events ctx=u32:9 ret=0
// ringbuf: map=events count=4 first=u32:8,u32:0xbee
#include "bee_bpf.h"

struct event {
	__u32 seq;
	__u32 magic;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("syscall")
int rb_events(__u32 *seq)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return -1;
	e->seq = *seq;
	e->magic = 0xbee;
	bpf_ringbuf_submit(e, 0);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return -2;
	bpf_ringbuf_discard(e, 0);
	struct event copy = {.seq = *seq + 100, .magic = 1};
	return (int)bpf_ringbuf_output(&events, &copy, sizeof(copy), 0);
}

char LICENSE[] SEC("license") = "GPL";
