/*
 * kbpf.c - raw bpf(2) wrappers for the kernel oracle tests and the
 * benchmarks (see kbpf.h).
 */
#include "kbpf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int kbpf_prog_load(enum bpf_prog_type prog_type, const struct bpf_insn *insns, size_t n,
		   char *log, size_t log_len)
{
	static const char license[] = "GPL";
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = prog_type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	if (log && log_len > 1) {
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_len;
		attr.log_level = 1;
	}
	long fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd < 0) {
		int e = errno;
		/* A log too small for the whole story still says why at its
		 * end; the kernel then fails with ENOSPC even when the program
		 * itself was fine.  Retrying without a log tells the two apart. */
		if (e == ENOSPC && log) {
			int again = kbpf_prog_load(prog_type, insns, n, NULL, 0);
			if (again >= 0)
				return again;
		}
		return -e;
	}
	return (int)fd;
}

int kbpf_test_run(int prog_fd, const void *data, uint32_t data_len, uint32_t repeat,
		  uint32_t *retval, uint32_t *duration_ns)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)prog_fd;
	attr.test.data_in = (uint64_t)(uintptr_t)data;
	attr.test.data_size_in = data_len;
	attr.test.repeat = repeat;
	if (sys_bpf(BPF_PROG_TEST_RUN, &attr) < 0)
		return -errno;
	*retval = attr.test.retval;
	if (duration_ns)
		*duration_ns = attr.test.duration;
	return 0;
}

int kbpf_obj_info(int fd, void *info, uint32_t len)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = len;
	attr.info.info = (uint64_t)(uintptr_t)info;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 ? -errno : 0;
}

long kbpf_prog_jited(int prog_fd, uint8_t *out, uint32_t cap)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = cap;
	info.jited_prog_insns = (uint64_t)(uintptr_t)out;
	int err = kbpf_obj_info(prog_fd, &info, sizeof(info));
	return err ? err : (long)info.jited_prog_len;
}

void kbpf_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int kbpf_probe(char *why, size_t why_len)
{
	/* r0 = 0; exit */
	static const struct bpf_insn prog[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	unsigned char packet[64] = {0};
	uint32_t retval = 0;

	int fd = kbpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, prog, 2, NULL, 0);
	if (fd < 0) {
		snprintf(why, why_len, "bpf(BPF_PROG_LOAD) of a socket filter failed: %s",
			 strerror(-fd));
		return fd;
	}
	int err = kbpf_test_run(fd, packet, sizeof(packet), 1, &retval, NULL);
	kbpf_close(fd);
	if (err < 0) {
		snprintf(why, why_len, "bpf(BPF_PROG_TEST_RUN) failed: %s", strerror(-err));
		return err;
	}
	if (retval != 0) {
		snprintf(why, why_len, "BPF_PROG_TEST_RUN returned %u for a program returning 0",
			 retval);
		return -EIO;
	}
	snprintf(why, why_len, "ok");
	return 0;
}

int kbpf_map_create(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
		    uint32_t max_entries, uint32_t map_flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = max_entries;
	attr.map_flags = map_flags;
	long fd = sys_bpf(BPF_MAP_CREATE, &attr);
	return fd < 0 ? -errno : (int)fd;
}

static int kbpf_map_elem(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = flags;
	return sys_bpf(cmd, &attr) < 0 ? -errno : 0;
}

int kbpf_map_update(int fd, const void *key, const void *value, uint64_t flags)
{
	return kbpf_map_elem(BPF_MAP_UPDATE_ELEM, fd, key, (void *)(uintptr_t)value, flags);
}

int kbpf_map_lookup(int fd, const void *key, void *value)
{
	return kbpf_map_elem(BPF_MAP_LOOKUP_ELEM, fd, key, value, 0);
}

int kbpf_map_update_batch(int fd, const void *keys, const void *values, uint32_t count)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.batch.map_fd = (uint32_t)fd;
	attr.batch.keys = (uint64_t)(uintptr_t)keys;
	attr.batch.values = (uint64_t)(uintptr_t)values;
	attr.batch.count = count;
	return sys_bpf(BPF_MAP_UPDATE_BATCH, &attr) < 0 ? -errno : 0;
}

long kbpf_target_bpf(void *self, int cmd, union bpf_attr *attr, unsigned size)
{
	(void)self;
	long r = syscall(__NR_bpf, cmd, attr, size);
	return r < 0 ? -errno : r;
}

int kbpf_target_close(void *self, int fd)
{
	(void)self;
	return fd >= 0 ? close(fd) : 0;
}
