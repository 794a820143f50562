/*
 * fuzz_common.h - what the fuzz targets share: REQUIRE, touch, and for the
 * command-level ones (fuzz_bpf, fuzz_pin, fuzz_object) reading the input
 * as a stream of values, buffers of exact sizes for attr pointers, and
 * temporary directories.
 */
#ifndef BEE_FUZZ_COMMON_H
#define BEE_FUZZ_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A promise the code under test broke: say which and abort, so the
 * fuzzer keeps the input. */
#define REQUIRE(cond)                                                                  \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s: broken promise: %s (line %d)\n", __FILE__, \
				#cond, __LINE__);                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* Read every byte of what the code under test handed out, so that ASan
 * sees a pointer outside its buffer (the sum keeps the reads). */
static volatile unsigned fuzz_sink;

static inline void touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	fuzz_sink += s;
}

static inline void touch_str(const char *s)
{
	REQUIRE(s != NULL);
	touch(s, strlen(s) + 1);
}

/* The input, consumed front to back; past its end every read is zero. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fuzz_empty(const struct fuzz_in *in)
{
	return in->n == 0;
}

/* Copy up to n input bytes to dst, zero the rest. */
static inline void fuzz_fill(struct fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;
	if (k)
		memcpy(dst, in->p, k);
	if (n > k)
		memset((unsigned char *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;
	fuzz_fill(in, &v, 1);
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v;
	fuzz_fill(in, &v, 2);
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v;
	fuzz_fill(in, &v, 4);
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v;
	fuzz_fill(in, &v, 8);
	return v;
}

static inline uint64_t fuzz_ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Buffers handed to one command, freed after it. */
struct fuzz_bufs {
	void **v;
	size_t n, cap;
};

/* A zeroed buffer of exactly n bytes (malloc(0) for 0: any access to
 * it is an ASan report). */
static inline void *fuzz_buf(struct fuzz_bufs *b, size_t n)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		void **v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			abort();
		b->v = v;
		b->cap = cap;
	}
	void *p = malloc(n);
	if (!p && n)
		abort();
	if (n)
		memset(p, 0, n);
	b->v[b->n++] = p;
	return p;
}

static inline void *fuzz_buf_fill(struct fuzz_bufs *b, struct fuzz_in *in, size_t n)
{
	void *p = fuzz_buf(b, n);
	fuzz_fill(in, p, n);
	return p;
}

static inline void fuzz_bufs_free(struct fuzz_bufs *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static inline int fuzz_rm_all(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Empty dir (and remove it too when also_dir). */
static inline void fuzz_rm_tree(const char *dir, bool also_dir)
{
	nftw(dir, also_dir ? fuzz_rm_all : fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a seed file dir/name; 0 or -1 (with a message). */
static inline int fuzz_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

#endif
