/*
 * other.c - `bee btf`, `bee link` and `bee trace-pipe`.
 *
 * Theory of operation.
 *
 * btf dump file FILE reads a raw BTF file (as /sys/kernel/btf/vmlinux; it
 * starts with BTF's magic) or an object's .BTF section with the loader's ELF
 * reader, validates it with the BTF parser and prints it with the loader's
 * printers: raw (bpftool's `[id] KIND 'name' ...` lines, the default) or
 * format c (a header a C compiler accepts).
 *
 * link detach (id N | pinned PATH) detaches with BPF_LINK_DETACH.
 * link show lists the instance's links as bpftool does (`ID: TYPE  prog
 * PROG_ID`): the pinned ones (kept in the pin directory, detached ones
 * with prog 0) and what this invocation made itself.
 *
 * trace-pipe: programs run in many processes, each with an instance of
 * its own, so every instance the tool makes mirrors its trace pipe into
 * <pin_dir>/.bee/trace_pipe (out.c).  This command reads that file from a
 * saved position, <pin_dir>/.bee/trace_pipe.pos, and moves the position
 * past what it printed: as with the kernel's trace_pipe, reading consumes,
 * so lines printed before the reader started are shown once and then not
 * again.  It then waits for more, polling, until interrupted (or --timeout
 * seconds pass).  When everything has been read and the file has grown
 * past 1 MiB it is truncated; a line appended in that instant is lost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee_tool.h"
#include "btf/btf.h"
#include "loader/elf.h"

/* ---- btf ---- */

static void btf_help(FILE *out)
{
	fprintf(out, "Usage: bee btf dump file FILE [format {raw|c}]\n"
		     "       bee btf help\n"
		     "\n"
		     "Print the types of a BPF object's .BTF section: raw (the default) in\n"
		     "bpftool's '[ID] KIND 'name' ...' form, or c as a C header.\n");
}

static int btf_dump(int argc, char **argv)
{
	if (argc < 2 || !tool_is_prefix(argv[0], "file")) {
		tool_err("btf dump: expected 'file FILE'");
		return 2;
	}
	const char *file = argv[1];
	bool c = false;
	for (int i = 2; i < argc; i++) {
		if (tool_is_prefix(argv[i], "format") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "c"))
				c = true;
			else if (strcmp(argv[i], "raw")) {
				tool_err("unknown format '%s' (raw or c)", argv[i]);
				return 2;
			}
		} else {
			tool_err("btf dump: unexpected '%s'", argv[i]);
			return 2;
		}
	}
	struct bee_error err;
	bee_error_clear(&err);
	char msg[512];
	/* a raw BTF file (/sys/kernel/btf/vmlinux) or an ELF object's .BTF */
	char *raw = NULL;
	size_t raw_len = 0;
	if (tool_read_file(file, &raw, &raw_len))
		return 1;
	struct bee_elf *elf = NULL;
	const void *data = raw;
	size_t size = raw_len;
	if (raw_len < 2 || (uint8_t)raw[0] != 0x9f || (uint8_t)raw[1] != 0xeb) {
		elf = bee_elf_open_mem(raw, raw_len, &err);
		if (!elf) {
			tool_err("%s", bee_error_format(&err, file, msg, sizeof(msg)));
			free(raw);
			return 1;
		}
		const struct bee_elf_section *sec = bee_elf_section_by_name(elf, ".BTF");
		if (!sec || !sec->data) {
			tool_err("%s: no .BTF section", file);
			bee_elf_close(elf);
			free(raw);
			return 1;
		}
		data = sec->data;
		size = sec->size;
	}
	struct bee_btf_data *btf = bee_btf_parse(data, size, NULL, &err);
	int ret = -1;
	if (!btf)
		tool_err("%s", bee_error_format(&err, file, msg, sizeof(msg)));
	else
		ret = c ? bee_btf_dump_c(btf, stdout) : bee_btf_dump_raw(btf, stdout);
	bee_btf_free(btf);
	bee_elf_close(elf);
	free(raw);
	return ret < 0 ? 1 : 0;
}

static const struct tool_cmd btf_cmds[] = {{"dump", btf_dump}, {NULL, NULL}};

int cmd_btf(int argc, char **argv)
{
	return tool_dispatch(btf_cmds, argc - 1, argv + 1, "btf", btf_help);
}

/* ---- link ---- */

static void link_help(FILE *out)
{
	fprintf(out, "Usage: bee link { show | list } [LINK]\n"
		     "       bee link detach LINK\n"
		     "       bee link help\n"
		     "\n"
		     "       LINK := { id LINK_ID | pinned FILE }\n"
		     "\n"
		     "A link lasts while it is pinned (in the pin directory) or held by the\n"
		     "process that made it.\n");
}

static const char *link_type_name(unsigned t)
{
	static const char *const names[] = {
		"unspec", "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp",
		"perf_event", "kprobe_multi", "struct_ops", "netfilter", "tcx", "uprobe_multi",
		"netkit",
	};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static void show_link(struct bee *bee, int fd)
{
	struct bpf_link_info info;
	memset(&info, 0, sizeof(info));
	uint32_t len = sizeof(info);
	if (bee_obj_get_info_by_fd(bee, fd, &info, &len) < 0)
		return;
	char id[24], type[40], prog[32];
	snprintf(id, sizeof(id), "%u: ", info.id);
	snprintf(type, sizeof(type), "%s  ", link_type_name(info.type));
	snprintf(prog, sizeof(prog), "prog %u", info.prog_id);
	struct tool_field f[] = {
		{"id", TF_UINT, .u = info.id, .plain = id},
		{"type", TF_STR, .s = link_type_name(info.type), .plain = type},
		{"prog_id", TF_UINT, .u = info.prog_id, .plain = prog},
	};
	tool_print_fields(f, sizeof(f) / sizeof(f[0]));
}

/* LINK := id LINK_ID | pinned FILE: a handle in the instance, or -1 (the
 * message printed; *usage set for a malformed LINK). */
static int link_parse_fd(struct bee *bee, int argc, char **argv, bool *usage)
{
	*usage = false;
	if (argc != 2 || (!tool_is_prefix(argv[0], "id") && !tool_is_prefix(argv[0], "pinned"))) {
		tool_err("expected 'id LINK_ID' or 'pinned FILE'");
		*usage = true;
		return -1;
	}
	if (tool_is_prefix(argv[0], "id")) {
		uint32_t id;
		if (tool_parse_u32(argv[1], "id", &id)) {
			*usage = true;
			return -1;
		}
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.link_id = id;
		int fd = (int)bee_bpf(bee, BPF_LINK_GET_FD_BY_ID, &a, sizeof(a));
		if (fd < 0)
			tool_err("get link by id (%u): %s", id, strerror(-fd));
		return fd < 0 ? -1 : fd;
	}
	int fd = bee_obj_get(bee, argv[1]);
	if (fd < 0) {
		tool_pin_err("bpf obj get", argv[1], fd);
		return -1;
	}
	if (tool_fd_kind(bee, fd) != TOOL_FD_LINK) {
		tool_err("%s: not a link", argv[1]);
		bee_close(bee, fd);
		return -1;
	}
	return fd;
}

/* bee link detach LINK: BPF_LINK_DETACH; the link object stays (pinned
 * or held) but no longer runs its program, as bpftool's. */
static int link_detach(int argc, char **argv)
{
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	bool usage;
	int fd = link_parse_fd(bee, argc, argv, &usage);
	if (fd < 0)
		return usage ? 2 : 1;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (uint32_t)fd;
	long r = bee_bpf(bee, BPF_LINK_DETACH, &a, sizeof(a));
	bee_close(bee, fd);
	if (r < 0) {
		tool_err("link detach failed: %s", strerror((int)-r));
		return 1;
	}
	if (tool_g.json)
		jw_null();
	return 0;
}

static int link_show(int argc, char **argv)
{
	struct bee *bee = tool_bee();
	if (!bee)
		return 1;
	if (argc > 0) {
		bool usage;
		int fd = link_parse_fd(bee, argc, argv, &usage);
		if (fd < 0)
			return usage ? 2 : 1;
		show_link(bee, fd);
		bee_close(bee, fd);
		return 0;
	}
	if (argc > 0) {
		tool_err("link show: unexpected '%s'", argv[0]);
		return 2;
	}
	if (tool_g.json)
		jw_start_array();
	uint32_t id = 0;
	for (;;) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.start_id = id;
		if (bee_bpf(bee, BPF_LINK_GET_NEXT_ID, &a, sizeof(a)) < 0)
			break;
		id = a.next_id;
		memset(&a, 0, sizeof(a));
		a.link_id = id;
		int fd = (int)bee_bpf(bee, BPF_LINK_GET_FD_BY_ID, &a, sizeof(a));
		if (fd >= 0) {
			show_link(bee, fd);
			bee_close(bee, fd);
		}
	}
	if (tool_g.json)
		jw_end_array();
	return 0;
}

static const struct tool_cmd link_cmds[] = {
	{"show", link_show}, {"list", link_show}, {"detach", link_detach}, {NULL, NULL}};

int cmd_link(int argc, char **argv)
{
	return tool_dispatch(link_cmds, argc - 1, argv + 1, "link", link_help);
}

/* ---- trace-pipe ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long read_pos(const char *path)
{
	FILE *f = fopen(path, "r");
	long pos = 0;
	if (f) {
		if (fscanf(f, "%ld", &pos) != 1 || pos < 0)
			pos = 0;
		fclose(f);
	}
	return pos;
}

static void write_pos(const char *path, long pos)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%ld\n", pos);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

int cmd_trace_pipe(int argc, char **argv)
{
	double timeout = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "help")) {
			printf("Usage: bee [--pin-dir DIR] trace-pipe [--timeout SECONDS]\n"
			       "\n"
			       "Print bpf_trace_printk lines from programs run by any bee invocation on\n"
			       "this pin directory, as they arrive, until Ctrl-C (or SECONDS pass).\n"
			       "Reading consumes, as the kernel's trace_pipe does.\n");
			return 0;
		}
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			timeout = strtod(argv[++i], &end);
			if (*end || timeout < 0) {
				tool_err("--timeout: '%s' is not a number of seconds", argv[i]);
				return 2;
			}
		} else {
			tool_err("trace-pipe: unexpected '%s'", argv[i]);
			return 2;
		}
	}
	if (!tool_bee()) /* the pin directory and its .bee/ exist */
		return 1;
	char path[PATH_MAX], pos_path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.bee/trace_pipe", tool_g.pin_dir);
	snprintf(pos_path, sizeof(pos_path), "%s/.bee/trace_pipe.pos", tool_g.pin_dir);
	/* Our own instance runs nothing: stop mirroring, then read. */
	bee_trace_pipe_mirror(tool_g.bee, NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		tool_err("%s: %s", path, strerror(errno));
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	long pos = read_pos(pos_path);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char buf[65536];
	size_t have = 0; /* bytes of an unfinished line kept in buf */
	while (!stop) {
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_size < pos) {
			pos = 0; /* truncated by another reader */
			have = 0;
		}
		ssize_t got = pread(fd, buf + have, sizeof(buf) - have, pos + (long)have);
		if (got > 0) {
			size_t len = have + (size_t)got, end = len;
			while (end > 0 && buf[end - 1] != '\n')
				end--;
			if (end == 0 && len == sizeof(buf))
				end = len; /* a line longer than the buffer */
			if (end > 0) {
				fwrite(buf, 1, end, stdout);
				fflush(stdout);
				pos += (long)end;
				write_pos(pos_path, pos);
			}
			have = 0; /* unfinished tail: read again from pos */
			continue;
		}
		if (fstat(fd, &st) == 0 && st.st_size == pos && pos > (1L << 20)) {
			if (ftruncate(fd, 0) == 0) {
				pos = 0;
				write_pos(pos_path, pos);
			}
		}
		if (timeout >= 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double el = (double)(now.tv_sec - start.tv_sec) +
				    (double)(now.tv_nsec - start.tv_nsec) / 1e9;
			if (el >= timeout)
				break;
		}
		usleep(50000);
	}
	close(fd);
	return 0;
}
