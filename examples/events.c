/*
 * events.c - load events.bpf.o, fire its program a few times (as the
 * sched_process_exec tracepoint would), and poll the ring buffer from the
 * host, printing each event as it arrives: libbpf's ring_buffer__poll loop.
 *
 * Usage: events [interp|jit]   (default: both engines)
 */
#include "example.h"

struct event {
	uint32_t pid;
	uint32_t seq;
	uint64_t arg;
	char comm[16];
};

static int print_event(void *ctx, void *data, size_t size)
{
	int *seen = ctx;
	struct event e;
	if (size < sizeof(e))
		return -1;
	memcpy(&e, data, sizeof(e));
	printf("  event #%u: pid %u comm %.16s arg %#llx\n", e.seq, e.pid, e.comm,
	       (unsigned long long)e.arg);
	++*seen;
	return 0;
}

static int events_on(enum bee_engine engine)
{
	struct bee *b = example_bee(engine);
	struct bee_object *obj = example_open("events", NULL);
	int rc = 1, seen = 0;
	if (!b || !obj || example_load(obj, b))
		goto out;
	int prog = bee_program_fd(bee_object_find_program_by_name(obj, "on_exec"));
	int rb = bee_object_map_fd(bee_object_find_map_by_name(obj, "events"));
	printf("[%s] ring buffer events:\n", example_engine_name(engine));
	for (uint64_t i = 0; i < 5; i++) {
		uint64_t args[1] = {0x1000 + i};
		struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = args,
					      .ctx_size_in = sizeof(args)};
		if (bee_prog_test_run(b, prog, &o) || o.retval)
			goto out;
		if (i % 2 == 1 || i == 4) /* poll every other run: records queue up */
			if (bee_ringbuf_poll(b, rb, print_event, &seen, 100) < 0)
				goto out;
	}
	rc = seen == 5 ? 0 : 1;
out:
	bee_object_close(obj);
	bee_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	return example_main(argc, argv, events_on);
}
