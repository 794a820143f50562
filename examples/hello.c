/*
 * hello.c - load hello.bpf.o into a bee instance, run its program once as
 * if the sys_enter raw tracepoint fired for openat (257), and print what it
 * wrote to the trace pipe - the line `cat /sys/kernel/tracing/trace_pipe`
 * would show for the kernel.
 *
 * Usage: hello [interp|jit]   (default: both engines)
 */
#include "example.h"

static int hello_on(enum bee_engine engine)
{
	struct bee *b = example_bee(engine);
	struct bee_object *obj = example_open("hello", NULL);
	int rc = 1;
	if (!b || !obj || example_load(obj, b))
		goto out;
	struct bee_program *p = bee_object_find_program_by_name(obj, "hello");
	uint64_t args[2] = {0, 257};
	struct bee_test_run_opts o = {.sz = sizeof(o), .ctx_in = args, .ctx_size_in = sizeof(args)};
	int err = bee_prog_test_run(b, bee_program_fd(p), &o);
	if (err) {
		fprintf(stderr, "run: %s\n", strerror(-err));
		goto out;
	}
	char line[512];
	long n = bee_trace_pipe_read(b, line, sizeof(line) - 1, 1000);
	line[n > 0 ? n : 0] = 0;
	printf("[%s] program %s (section %s) returned %u; trace pipe:\n%s", example_engine_name(engine),
	       bee_program_name(p), bee_program_section_name(p), o.retval, line);
	rc = n > 0 && strstr(line, "Hello, world! syscall 257") ? 0 : 1;
out:
	bee_object_close(obj);
	bee_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	return example_main(argc, argv, hello_on);
}
