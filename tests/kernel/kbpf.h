/*
 * kbpf.h - the few raw bpf(2) calls the kernel oracle tests and the
 * benchmarks need.
 *
 * Deliberately independent of bee: these wrappers talk to the real kernel
 * through syscall(__NR_bpf, ...) with union bpf_attr from <linux/bpf.h>,
 * so a test can compare bee against the kernel without sharing any code
 * path with the thing under test.  Every function returns a negative errno
 * on failure, as the kernel does.
 */
#ifndef BEE_TESTS_KBPF_H
#define BEE_TESTS_KBPF_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/*
 * Check that this process may load and test-run a socket filter: load
 * "r0 = 0; exit", run it once, close it.  Returns 0 when it works, else a
 * negative errno with a one-line reason in why ("bpf() not permitted:
 * Operation not permitted").
 */
int kbpf_probe(char *why, size_t why_len);

/*
 * Load a program of type prog_type, license "GPL".  Returns the program's
 * file descriptor, or a negative errno.  When log is not NULL the verifier
 * log (level 1) is written into it; loading with a log is slower, so pass
 * NULL first and ask for the log only to explain a refusal.
 */
int kbpf_prog_load(enum bpf_prog_type prog_type, const struct bpf_insn *insns, size_t n,
		   char *log, size_t log_len);

/*
 * BPF_PROG_TEST_RUN: run prog_fd on a copy of data, repeat times (0 is
 * taken as 1 by the kernel).  On success *retval holds the program's
 * 32-bit return value and, when duration_ns is not NULL, *duration_ns the
 * kernel's own measure (average ns of one run), and 0 is returned.
 */
int kbpf_test_run(int prog_fd, const void *data, uint32_t data_len, uint32_t repeat,
		  uint32_t *retval, uint32_t *duration_ns);

/*
 * The native code the kernel's JIT made of prog_fd (BPF_OBJ_GET_INFO_BY_FD
 * with jited_prog_insns): copies up to cap bytes to out and returns the
 * image's full length, or a negative errno.
 */
long kbpf_prog_jited(int prog_fd, uint8_t *out, uint32_t cap);

/* BPF_OBJ_GET_INFO_BY_FD: fill info (len bytes, the caller's pointers
 * and counts set in it) for the program, map, BTF or link fd.  0 or a
 * negative errno. */
int kbpf_obj_info(int fd, void *info, uint32_t len);

/* Close a file descriptor from kbpf_prog_load (ignores fd < 0). */
void kbpf_close(int fd);

/* The differential tests' kernel target: bpf(cmd, attr, size) returning
 * -errno on failure (bee_bpf's convention), and close(fd) of a handle,
 * both with an unused self pointer so they fit a target table. */
long kbpf_target_bpf(void *self, int cmd, union bpf_attr *attr, unsigned size);
int kbpf_target_close(void *self, int fd);

/* ---- maps (for benchmarks and map tests) ---- */

/* BPF_MAP_CREATE with the given shape.  Returns an fd or a negative errno. */
int kbpf_map_create(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
		    uint32_t max_entries, uint32_t map_flags);
/* BPF_MAP_UPDATE_ELEM / LOOKUP_ELEM: 0 or a negative errno. */
int kbpf_map_update(int fd, const void *key, const void *value, uint64_t flags);
int kbpf_map_lookup(int fd, const void *key, void *value);
/* BPF_MAP_UPDATE_BATCH of count keys and values (BPF_ANY). */
int kbpf_map_update_batch(int fd, const void *keys, const void *values, uint32_t count);

#endif
