/*
 * count_events.c - embedding bee: an application that uses eBPF as a safe
 * extension language.
 *
 * The application creates a bee instance and a hash map, loads a small
 * program (written here in bee's assembly, as an extension author might
 * ship it) that counts events per kind into the map, fires it on a stream
 * of events, and reads the counts back from the map.  Everything goes
 * through bee_bpf(), the kernel's bpf() command interface, so the same
 * code would drive the kernel's maps and programs.
 *
 * Build: part of the bee build (build/examples/count_events); run it with
 * no arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/bee.h"
#include "bee/insn.h"

/* The extension: the event's kind is the first byte of the packet handed
 * to it (an XDP-shaped context: data and data_end at offsets 0 and 4). */
static const char *program_text =
	"r6 = *(u32 *)(r1 + 0)          ; data\n"
	"r7 = *(u32 *)(r1 + 4)          ; data_end\n"
	"r2 = r6\n"
	"r2 += 1\n"
	"if r2 > r7 goto out            ; no byte: ignore\n"
	"r3 = *(u8 *)(r6 + 0)\n"
	"*(u32 *)(r10 - 4) = r3         ; key = kind\n"
	"r1 = map[fd:%d] ll\n"
	"r2 = r10\n"
	"r2 += -4\n"
	"call bpf_map_lookup_elem#1\n"
	"if r0 == 0 goto first\n"
	"r1 = 1\n"
	"lock *(u64 *)(r0 + 0) += r1    ; seen again: count it\n"
	"goto out\n"
	"first:\n"
	"*(u64 *)(r10 - 16) = 1\n"
	"r1 = map[fd:%d] ll\n"
	"r2 = r10\n"
	"r2 += -4\n"
	"r3 = r10\n"
	"r3 += -16\n"
	"r4 = 0                          ; BPF_ANY\n"
	"call bpf_map_update_elem#2\n"
	"out:\n"
	"r0 = 2                          ; XDP_PASS\n"
	"exit\n";

static int fail(const char *what, int err)
{
	fprintf(stderr, "count_events: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(void)
{
	struct bee *bee = bee_new(NULL);
	if (!bee)
		return fail("bee_new", -errno);

	int map = bee_map_create(bee, BPF_MAP_TYPE_HASH, "counts", sizeof(uint32_t),
				 sizeof(uint64_t), 256, NULL);
	if (map < 0)
		return fail("map create", map);

	char text[2048];
	snprintf(text, sizeof(text), program_text, map, map);
	struct bpf_insn *insns;
	size_t n;
	struct bee_error err;
	if (bee_asm(text, &insns, &n, &err) < 0) {
		fprintf(stderr, "count_events: line %d: %s\n", err.line, err.msg);
		return 1;
	}
	char log[1024] = "";
	struct bee_prog_load_opts lo = {.sz = sizeof(lo), .log_buf = log, .log_size = sizeof(log),
					.log_level = 1};
	int prog = bee_prog_load(bee, BPF_PROG_TYPE_XDP, "count_events", "GPL", insns, n, &lo);
	free(insns);
	if (prog < 0) {
		fprintf(stderr, "%s", log);
		return fail("prog load", prog);
	}

	/* The event stream: kinds 1, 2, 3 with 10, 20 and 30 events each. */
	for (int i = 0; i < 60; i++) {
		unsigned char event[16] = {(unsigned char)(i < 10 ? 1 : i < 30 ? 2 : 3)};
		struct bee_test_run_opts run = {.sz = sizeof(run), .data_in = event,
						.data_size_in = sizeof(event)};
		int e = bee_prog_test_run(bee, prog, &run);
		if (e < 0)
			return fail("run", e);
	}

	/* Read the counts back. */
	uint32_t key, *prev = NULL;
	int rc = 0;
	while (bee_map_get_next_key(bee, map, prev, &key) == 0) {
		uint64_t count = 0;
		if (bee_map_lookup(bee, map, &key, &count) == 0)
			printf("kind %u: %llu events\n", key, (unsigned long long)count);
		if (count != key * 10ull)
			rc = 1;
		prev = &key;
	}
	bee_free(bee);
	return rc;
}
