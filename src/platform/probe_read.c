/*
 * probe_read.c - the probe-read helpers: reading memory that may not be
 * there without faulting.
 *
 * The kernel reads "nofault" (page faults disabled: a bad address gives
 * -EFAULT instead of an oops).  In user space the equivalent is to let the
 * kernel do the reading for us: process_vm_readv(2) on our own pid copies
 * from any address and fails with EFAULT where nothing is mapped, so a
 * wild pointer becomes an error code, never a SIGSEGV.  Reads are split at
 * page boundaries so a fault is found at page granularity (the kernel's
 * partial-transfer rules for a single iovec are not something to rely
 * on), which is what the _str variants need: a string that ends just
 * before an unmapped page is still read whole.  Where process_vm_readv is
 * not allowed (a seccomp filter, an old kernel) the same check is made by
 * write(2)-ing the bytes into a per-thread pipe, which also fails with
 * EFAULT instead of faulting.
 *
 * Address spaces.  In bee every address is a user-space address: the
 * program's stack, its maps and its context all live in the process.  So
 * the old bpf_probe_read/bpf_probe_read_str (which on x86 read user memory
 * for addresses below TASK_SIZE) and the _user variants all read process
 * memory, and the _kernel variants refuse every address exactly as an
 * x86 kernel refuses a user-space address in copy_from_kernel_nofault:
 * the destination is zeroed and -ERANGE returned (observed on Linux 6.18
 * with BPF_PROG_TEST_RUN of a raw tracepoint program, NULL included).
 *
 * Kernel semantics kept: on a fault the whole destination is zeroed and
 * -EFAULT returned; the _str variants return the length copied including
 * the NUL (1 for an empty string; size when truncated, with the last byte
 * set to NUL) and leave the destination after the NUL untouched; a size
 * of 0 copies nothing and returns 0.  The destination is the program's
 * memory: in a checked run it must be writable to the program
 * (bee_run_mem_ok), else the helper returns -EFAULT without writing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "platform/platform.h"

#define PROBE_PAGE 4096u

static atomic_bool vm_readv_unusable;
static __thread int probe_pipe[2] = {-1, -1};

/* The pipe fallback: write(2) reads the source in the kernel and reports
 * EFAULT for an unmapped one.  chunk <= PROBE_PAGE < the pipe's capacity. */
static int pipe_copy(void *dst, uintptr_t src, size_t chunk)
{
	if (probe_pipe[0] < 0 && pipe2(probe_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		probe_pipe[0] = probe_pipe[1] = -1;
		return -EFAULT;
	}
	ssize_t w = write(probe_pipe[1], (const void *)src, chunk);
	if (w < 0)
		return -EFAULT;
	ssize_t r = read(probe_pipe[0], dst, (size_t)w);
	if (r != w || (size_t)w != chunk) {
		/* Drain whatever is left so the next read starts clean. */
		char sink[256];
		while (read(probe_pipe[0], sink, sizeof(sink)) > 0)
			;
		return -EFAULT;
	}
	return 0;
}

/* Copy one chunk that does not cross a page boundary: all or nothing. */
static int copy_chunk(void *dst, uintptr_t src, size_t chunk)
{
	if (!atomic_load_explicit(&vm_readv_unusable, memory_order_relaxed)) {
		struct iovec local = {dst, chunk};
		struct iovec remote = {(void *)src, chunk};
		ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
		if (n == (ssize_t)chunk)
			return 0;
		if (n >= 0 || errno == EFAULT || errno == ENOMEM || errno == EINVAL)
			return -EFAULT;
		/* ENOSYS, EPERM (seccomp, ptrace policy): fall back for good. */
		atomic_store_explicit(&vm_readv_unusable, true, memory_order_relaxed);
	}
	return pipe_copy(dst, src, chunk);
}

static size_t page_room(uintptr_t addr)
{
	return PROBE_PAGE - (addr & (PROBE_PAGE - 1));
}

int bee_probe_copy(void *dst, uintptr_t src, size_t len)
{
	char *out = dst;
	if (len && src + len - 1 < src)
		return -EFAULT; /* wraps around the address space */
	while (len) {
		size_t chunk = page_room(src);
		if (chunk > len)
			chunk = len;
		if (copy_chunk(out, src, chunk))
			return -EFAULT;
		out += chunk;
		src += chunk;
		len -= chunk;
	}
	return 0;
}

long bee_probe_copy_str(char *dst, uintptr_t src, long count)
{
	if (count <= 0)
		return 0;
	long done = 0;
	char tmp[PROBE_PAGE];
	while (done < count) {
		size_t chunk = page_room(src + (uintptr_t)done);
		if (chunk > (size_t)(count - done))
			chunk = (size_t)(count - done);
		if (src + (uintptr_t)done + chunk - 1 < src)
			return -EFAULT;
		/* Read into a scratch buffer so the destination past the
		 * string's NUL stays untouched, as in the kernel. */
		if (copy_chunk(tmp, src + (uintptr_t)done, chunk))
			return -EFAULT;
		const char *nul = memchr(tmp, '\0', chunk);
		size_t take = nul ? (size_t)(nul - tmp) + 1 : chunk;
		memcpy(dst + done, tmp, take);
		done += (long)take;
		if (nul)
			return done;
	}
	dst[count - 1] = '\0';
	return count;
}

/* ---- the helpers ---- */

static uint64_t probe_read_common(uint64_t dst, uint64_t size, uint64_t src)
{
	void *out = (void *)(uintptr_t)dst;
	uint32_t n = (uint32_t)size; /* the kernel's u32 size */
	if (n && (!out || !bee_run_mem_ok(out, n, true)))
		return (uint64_t)-EFAULT;
	if (bee_probe_copy(out, (uintptr_t)src, n)) {
		memset(out, 0, n);
		return (uint64_t)-EFAULT;
	}
	return 0;
}

static uint64_t probe_read_str_common(uint64_t dst, uint64_t size, uint64_t src)
{
	char *out = (char *)(uintptr_t)dst;
	uint32_t n = (uint32_t)size;
	if (n && (!out || !bee_run_mem_ok(out, n, true)))
		return (uint64_t)-EFAULT;
	long ret = bee_probe_copy_str(out, (uintptr_t)src, n);
	if (ret < 0)
		memset(out, 0, n);
	return (uint64_t)(int64_t)ret;
}

uint64_t bee_helper_probe_read_user(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				    uint64_t r5)
{
	return probe_read_common(dst, size, src);
}

uint64_t bee_helper_probe_read_user_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
					uint64_t r5)
{
	return probe_read_str_common(dst, size, src);
}

/* bpf_probe_read (4) and bpf_probe_read_str (45): on x86 a user-space
 * address is read as user memory, and every bee address is one. */
uint64_t bee_helper_probe_read(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4, uint64_t r5)
{
	return probe_read_common(dst, size, src);
}

uint64_t bee_helper_probe_read_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				   uint64_t r5)
{
	return probe_read_str_common(dst, size, src);
}

/* bpf_probe_read_kernel (113): there is no kernel memory in user space;
 * refuse every address as copy_from_kernel_nofault refuses a user one. */
uint64_t bee_helper_probe_read_kernel(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
				      uint64_t r5)
{
	void *out = (void *)(uintptr_t)dst;
	uint32_t n = (uint32_t)size;
	if (n && (!out || !bee_run_mem_ok(out, n, true)))
		return (uint64_t)-EFAULT;
	if (n)
		memset(out, 0, n);
	return (uint64_t)-ERANGE;
}

/* bpf_probe_read_kernel_str (115): strncpy_from_kernel_nofault returns 0
 * for a zero size before it looks at the address, -ERANGE otherwise. */
uint64_t bee_helper_probe_read_kernel_str(uint64_t dst, uint64_t size, uint64_t src, uint64_t r4,
					  uint64_t r5)
{
	char *out = (char *)(uintptr_t)dst;
	uint32_t n = (uint32_t)size;
	if (n == 0)
		return 0;
	if (!out || !bee_run_mem_ok(out, n, true))
		return (uint64_t)-EFAULT;
	memset(out, 0, n);
	return (uint64_t)-ERANGE;
}
