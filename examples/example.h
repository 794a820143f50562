/*
 * example.h - what the object examples share: where their clang-built BPF
 * objects are, and opening and loading one into a bee instance with the
 * engine named on the command line ("interp" or "jit"; default both, one
 * after the other, is up to each example's main).
 */
#ifndef BEE_EXAMPLE_H
#define BEE_EXAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/bee.h"
#include "bee/object.h"

#ifndef BEE_EXAMPLE_OBJ_DIR
#define BEE_EXAMPLE_OBJ_DIR ""
#endif

/* Exit 77 (a skipped test) when the build had no clang for BPF objects. */
static inline void example_need_objects(void)
{
	if (!BEE_EXAMPLE_OBJ_DIR[0]) {
		printf("SKIP: built without a clang that targets BPF: no example objects\n");
		exit(77);
	}
}

static inline const char *example_obj_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s.bpf.o", BEE_EXAMPLE_OBJ_DIR, name);
	return buf;
}

static inline const char *example_engine_name(enum bee_engine e)
{
	return e == BEE_ENGINE_JIT ? "JIT" : "interpreter";
}

/* A fresh instance on engine e (pins under /tmp, unused by the examples)
 * that loads programs as the kernel does: only what bee's verifier proves
 * safe loads, and it runs on the fast path (no run-time checks). */
static inline struct bee *example_bee(enum bee_engine e)
{
	struct bee_opts o = {.sz = sizeof(o), .engine = e, .trusted_fast_path = true};
	struct bee *b = bee_new(&o);
	if (!b)
		fprintf(stderr, "bee_new: %s\n", strerror(errno));
	return b;
}

/* Open NAME.bpf.o with opts (may be NULL); NULL after printing why. */
static inline struct bee_object *example_open(const char *name, struct bee_object_open_opts *opts)
{
	struct bee_error err;
	struct bee_object_open_opts o = {.sz = sizeof(o)};
	if (opts)
		o = *opts;
	o.err = &err;
	struct bee_object *obj = bee_object_open_file(example_obj_path(name), &o);
	if (!obj)
		fprintf(stderr, "open %s: %s\n", example_obj_path(name), err.msg);
	return obj;
}

/* Load obj into b; prints the loader's message on failure.  Every program
 * loaded must have been proven safe by the verifier (the kernel reports the
 * instructions its verifier processed in verified_insns; so does bee). */
static inline int example_load(struct bee_object *obj, struct bee *b)
{
	struct bee_target t = bee_target_of(b);
	int err = bee_object_load(obj, &t);
	if (err) {
		fprintf(stderr, "load %s: %s\n", bee_object_name(obj), bee_object_error(obj));
		return err;
	}
	for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
	     p = bee_object_next_program(obj, p)) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bee_program_fd(p) < 0)
			continue;
		if (bee_obj_get_info_by_fd(b, bee_program_fd(p), &info, &len) < 0 ||
		    info.verified_insns == 0) {
			fprintf(stderr, "%s: not verified\n", bee_program_name(p));
			return -EINVAL;
		}
		printf("  %s: verified (%u insns processed), runs on the fast path\n",
		       bee_program_name(p), info.verified_insns);
	}
	return 0;
}

/* The engines to run on: argv[1] "interp" or "jit", else both. */
static inline int example_engines(int argc, char **argv, enum bee_engine out[2])
{
	if (argc > 1 && !strcmp(argv[1], "interp")) {
		out[0] = BEE_ENGINE_INTERP;
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "jit")) {
		out[0] = BEE_ENGINE_JIT;
		return 1;
	}
	out[0] = BEE_ENGINE_INTERP;
	out[1] = BEE_ENGINE_JIT;
	return 2;
}

/* The examples' main: run_on(engine) for each engine the command line
 * names (both by default); the exit status is 1 if any run failed. */
static inline int example_main(int argc, char **argv, int (*run_on)(enum bee_engine))
{
	example_need_objects();
	enum bee_engine e[2];
	int n = example_engines(argc, argv, e), rc = 0;
	for (int i = 0; i < n; i++)
		rc |= run_on(e[i]);
	return rc;
}

#endif
