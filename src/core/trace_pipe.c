/*
 * trace_pipe.c - an instance's trace pipe: bpf_trace_printk lines, in the
 * kernel's trace_pipe format, read (and consumed) by bee trace-pipe or an
 * embedder.
 *
 * A byte ring of whole lines under a mutex.  As the kernel's trace
 * buffer does, a full ring overwrites the oldest lines rather than
 * blocking the program that prints; readers wait on a condition variable.
 *
 * Mirroring (bee_trace_pipe_mirror): every line is also appended to a file,
 * with one write(2) on an O_APPEND descriptor so that lines from several
 * processes mirroring into the same file never interleave mid-line.  That
 * is how `bee trace-pipe` in one process sees what programs printed in
 * others: the tool mirrors into <pin_dir>/.bee/trace_pipe and tails it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "platform/platform.h"

#define TRACE_RING_SIZE (1u << 20)

struct bee_trace_pipe {
	pthread_mutex_t lock;
	pthread_cond_t readable;
	char *ring;
	size_t head, len; /* bytes [head, head + len) mod size are unread */
	int mirror_fd;    /* -1: no mirror */
};

struct bee_trace_pipe *bee_trace_pipe_new(void)
{
	struct bee_trace_pipe *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->ring = malloc(TRACE_RING_SIZE);
	if (!tp->ring) {
		free(tp);
		return NULL;
	}
	pthread_mutex_init(&tp->lock, NULL);
	pthread_cond_init(&tp->readable, NULL);
	tp->mirror_fd = -1;
	return tp;
}

void bee_trace_pipe_free(struct bee_trace_pipe *tp)
{
	if (!tp)
		return;
	if (tp->mirror_fd >= 0)
		close(tp->mirror_fd);
	pthread_mutex_destroy(&tp->lock);
	pthread_cond_destroy(&tp->readable);
	free(tp->ring);
	free(tp);
}

static char ring_at(const struct bee_trace_pipe *tp, size_t i)
{
	return tp->ring[(tp->head + i) % TRACE_RING_SIZE];
}

/* Drop whole lines from the front until n more bytes fit. */
static void make_room(struct bee_trace_pipe *tp, size_t n)
{
	while (tp->len + n > TRACE_RING_SIZE) {
		size_t i = 0;
		while (i < tp->len && ring_at(tp, i) != '\n')
			i++;
		size_t drop = i < tp->len ? i + 1 : tp->len;
		tp->head = (tp->head + drop) % TRACE_RING_SIZE;
		tp->len -= drop;
	}
}

void bee_trace_pipe_write(struct bee_trace_pipe *tp, const char *msg, size_t len, unsigned cpu)
{
	char comm[17] = {0};
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	char line[1024];
	size_t n = bee_trace_format_line(line, sizeof(line), comm, (int)gettid(), (int)cpu, now,
					 msg, len);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (n == 0 || line[n - 1] != '\n') /* a line is a line, even when cut short */
		line[n++] = '\n';
	pthread_mutex_lock(&tp->lock);
	make_room(tp, n);
	for (size_t i = 0; i < n; i++)
		tp->ring[(tp->head + tp->len + i) % TRACE_RING_SIZE] = line[i];
	tp->len += n;
	if (tp->mirror_fd >= 0 && write(tp->mirror_fd, line, n) != (ssize_t)n) {
		/* a full disk loses mirrored lines, never the program's run */
	}
	pthread_cond_broadcast(&tp->readable);
	pthread_mutex_unlock(&tp->lock);
}

long bee_trace_pipe_read(struct bee *bee, char *buf, size_t size, int timeout_ms)
{
	if (!bee || !buf)
		return -EINVAL;
	struct bee_trace_pipe *tp = bee->trace;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	if (timeout_ms > 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&tp->lock);
	while (tp->len == 0 && timeout_ms != 0) {
		if (timeout_ms < 0)
			pthread_cond_wait(&tp->readable, &tp->lock);
		else if (pthread_cond_timedwait(&tp->readable, &tp->lock, &deadline) == ETIMEDOUT)
			break;
	}
	/* Whole lines only: up to the last newline that fits. */
	size_t n = 0, whole = 0;
	while (n < tp->len && n < size) {
		if (ring_at(tp, n++) == '\n')
			whole = n;
	}
	if (whole == 0 && n == size && size > 0)
		whole = n; /* a line longer than the buffer: give what fits */
	for (size_t i = 0; i < whole; i++)
		buf[i] = ring_at(tp, i);
	tp->head = (tp->head + whole) % TRACE_RING_SIZE;
	tp->len -= whole;
	pthread_mutex_unlock(&tp->lock);
	return (long)whole;
}

int bee_trace_pipe_mirror(struct bee *bee, const char *path)
{
	if (!bee)
		return -EINVAL;
	int fd = -1;
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
	}
	struct bee_trace_pipe *tp = bee->trace;
	pthread_mutex_lock(&tp->lock);
	int old = tp->mirror_fd;
	tp->mirror_fd = fd;
	pthread_mutex_unlock(&tp->lock);
	if (old >= 0)
		close(old);
	return 0;
}
