/*
 * out.c - what bpftool-shaped commands (prog, map, btf, link, trace-pipe)
 * share: global options, the instance with every pin opened, argument
 * helpers, the names of program and map types, and output.
 *
 * Theory of operation.
 *
 * State across invocations lives in the pin directory, as bpffs holds it
 * for bpftool.  tool_bee() creates an instance on the pin directory
 * (--pin-dir, $BEE_PIN_DIR or the core's default) and walks it, getting
 * every pin (BPF_OBJ_GET) so that ids and `show` see what earlier
 * invocations pinned; the core gives recreated objects the ids they had
 * (pin.c).  The private .bee/ subdirectory is skipped by the walk: it
 * holds the maps of pinned programs (reached through those programs) and
 * the trace-pipe mirror, <pin_dir>/.bee/trace_pipe, which every instance
 * made here appends to (bee_trace_pipe_mirror) and `bee trace-pipe`
 * tails.  tool_done() frees the instance, which saves pinned maps.
 *
 * Output: each record is one list of fields (struct tool_field), printed
 * either as a JSON object (the field's key and typed value) or as plain
 * text (the field's plain rendering, already laid out with bpftool's
 * separators), so the two forms cannot drift apart.  The JSON writer
 * handles nesting, commas and --pretty indentation.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee_tool.h"

struct tool_globals tool_g;

/* ---- names ---- */

static const char *const prog_types[] = {
	"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint", "xdp",
	"perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out", "lwt_xmit", "sock_ops",
	"sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr",
	"lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector", "cgroup_sysctl",
	"raw_tracepoint_writable", "cgroup_sockopt", "tracing", "struct_ops", "ext", "lsm",
	"sk_lookup", "syscall", "netfilter",
};

static const char *const map_types[] = {
	"unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash",
	"percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie",
	"array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash",
	"cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack",
	"sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
	"bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *type_name(const char *const *names, size_t n, unsigned t, char *buf,
			     size_t len)
{
	if (t < n)
		return names[t];
	snprintf(buf, len, "type %u", t);
	return buf;
}

const char *tool_prog_type_name(unsigned t)
{
	static char buf[32];
	return type_name(prog_types, NELEM(prog_types), t, buf, sizeof(buf));
}

const char *tool_map_type_name(unsigned t)
{
	static char buf[32];
	return type_name(map_types, NELEM(map_types), t, buf, sizeof(buf));
}

static int type_parse(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int tool_prog_type_parse(const char *s)
{
	/* libbpf's section names, too: "socket", "xdp", "tc", "classifier". */
	if (!strcmp(s, "socket"))
		return BPF_PROG_TYPE_SOCKET_FILTER;
	if (!strcmp(s, "tc") || !strcmp(s, "classifier"))
		return BPF_PROG_TYPE_SCHED_CLS;
	return type_parse(prog_types, NELEM(prog_types), s);
}

int tool_map_type_parse(const char *s)
{
	return type_parse(map_types, NELEM(map_types), s);
}

/* ---- arguments ---- */

bool tool_is_prefix(const char *arg, const char *word)
{
	return arg && *arg && !strncmp(word, arg, strlen(arg));
}

int tool_parse_u32(const char *s, const char *what, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = s ? strtoull(s, &end, 0) : 0;
	if (!s || !*s || *end || errno || v > UINT32_MAX || *s == '-') {
		tool_err("%s: '%s' is not a number", what, s ? s : "");
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int tool_dispatch(const struct tool_cmd *cmds, int argc, char **argv, const char *noun,
		  void (*help)(FILE *))
{
	if (argc < 1) {
		tool_err("%s: expected a command (try 'bee %s help')", noun, noun);
		return 2;
	}
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		help(stdout);
		return 0;
	}
	const struct tool_cmd *found = NULL;
	for (const struct tool_cmd *c = cmds; c->name; c++) {
		if (!tool_is_prefix(argv[0], c->name))
			continue;
		if (!strcmp(argv[0], c->name)) {
			found = c;
			break;
		}
		if (found && found->fn != c->fn) {
			tool_err("%s: '%s' is ambiguous: %s or %s", noun, argv[0], found->name, c->name);
			return 2;
		}
		if (!found)
			found = c;
	}
	if (!found) {
		tool_err("%s: unknown command '%s' (try 'bee %s help')", noun, argv[0], noun);
		return 2;
	}
	return found->fn(argc - 1, argv + 1);
}

/* ---- the instance ---- */

void tool_pin_err(const char *what, const char *path, int err)
{
	/* The core's reason names the file and what is wrong with it; it is
	 * left out when it says no more than the errno (a missing file). */
	const char *why = bee_pin_error(), *msg = strerror(-err);
	size_t wl = strlen(why), ml = strlen(msg);
	const char *sep = strstr(why, ": ");
	bool plain = !wl || (wl >= ml + 2 && !strcmp(why + wl - ml, msg) &&
			     sep == why + wl - ml - 2);
	if (plain)
		tool_err("%s (%s): %s", what, path, msg);
	else
		tool_err("%s (%s): %s (%s)", what, path, msg, why);
}

static int walk(struct bee *bee, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp"))
			continue; /* ".", "..", ".bee" and half-written files */
		char path[PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		struct stat st;
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 16)
				n += walk(bee, path, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		int fd = bee_obj_get(bee, path);
		if (fd >= 0) {
			bee_close(bee, fd); /* the pin keeps it */
			n++;
		} else if (tool_g.verbose) {
			tool_pin_err("warning: bpf obj get", path, fd);
		}
	}
	closedir(d);
	return n;
}

struct bee *tool_bee(void)
{
	if (tool_g.bee)
		return tool_g.bee;
	static char dir[PATH_MAX / 2];
	const char *env = getenv("BEE_PIN_DIR");
	if (tool_g.pin_dir)
		snprintf(dir, sizeof(dir), "%s", tool_g.pin_dir);
	else if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "/tmp/bee-pins-%u", (unsigned)getuid());
	tool_g.pin_dir = dir;
	struct bee_opts o = {.sz = sizeof(o), .pin_dir = dir, .engine = tool_g.engine};
	struct bee *bee = bee_new(&o);
	if (!bee) {
		tool_err("cannot create an instance: %s", strerror(errno));
		return NULL;
	}
	mkdir(dir, 0700);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.bee", dir);
	mkdir(path, 0700);
	walk(bee, dir, 0);
	snprintf(path, sizeof(path), "%s/.bee/trace_pipe", dir);
	if (bee_trace_pipe_mirror(bee, path) < 0 && tool_g.verbose)
		tool_err("warning: cannot mirror the trace pipe into %s", path);
	tool_g.bee = bee;
	return bee;
}

void tool_done(void)
{
	bee_free(tool_g.bee);
	tool_g.bee = NULL;
}

/* ---- JSON ---- */

/*
 * bpftool's JSON writer, rule for rule, so that --pretty lays out what
 * bpftool lays out: a new line and indentation (four spaces a level) come
 * only before a key and before the bracket that closes a non-empty object
 * or array; values inside an array follow each other on one line
 * ("map_ids": [1,2\n    ]).  sep is what must come before the next item:
 * a comma, or nothing right after an opening bracket or a key.
 */
static struct {
	int depth;
	char sep;
} jw;

static void jw_newline(void)
{
	if (!tool_g.pretty)
		return;
	putchar('\n');
	for (int i = 0; i < jw.depth; i++)
		fputs("    ", stdout);
}

/* Before any item: the separator the previous one left. */
static void jw_pre(void)
{
	if (jw.sep)
		putchar(jw.sep);
	jw.sep = ',';
}

static void jw_open(char c)
{
	jw_pre();
	putchar(c);
	jw.depth++;
	jw.sep = 0;
}

static void jw_close(char c)
{
	if (jw.depth > 0)
		jw.depth--;
	if (jw.sep)
		jw_newline();
	putchar(c);
	jw.sep = ',';
	if (jw.depth == 0) {
		putchar('\n');
		jw.sep = 0;
	}
}

void jw_start_object(void) { jw_open('{'); }
void jw_end_object(void) { jw_close('}'); }
void jw_start_array(void) { jw_open('['); }
void jw_end_array(void) { jw_close(']'); }

/*
 * bpftool's escapes (\t \n \r \f \b \" as its json_writer writes them; a
 * single quote as it is, which is what the bpftool of Debian 12 prints).
 * Two deliberate differences, both where bpftool's output is not JSON: a
 * backslash is written \\ (bpftool's writer has the typo "\n" for it,
 * fixed in iproute2's copy in 2019) and other control characters \u00XX.
 */
static void jw_string_raw(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '\t': fputs("\\t", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '"': fputs("\\\"", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
			break;
		}
	}
	putchar('"');
}

void jw_key(const char *key)
{
	jw_pre();
	jw_newline();
	jw_string_raw(key);
	putchar(':');
	if (tool_g.pretty)
		putchar(' ');
	jw.sep = 0;
}

void jw_string(const char *s)
{
	jw_pre();
	jw_string_raw(s);
}

void jw_null(void)
{
	jw_pre();
	fputs("null", stdout);
	if (jw.depth == 0) {
		putchar('\n');
		jw.sep = 0;
	}
}

bool jw_awaits_value(void) { return jw.depth > 0 && jw.sep == 0; }

void jw_raw(const char *text)
{
	jw_pre();
	fputs(text, stdout);
}

void jw_uint(uint64_t v)
{
	jw_pre();
	printf("%" PRIu64, v);
}

void jw_int(int64_t v)
{
	jw_pre();
	printf("%" PRId64, v);
}

void jw_bool(bool v)
{
	jw_pre();
	fputs(v ? "true" : "false", stdout);
}

void jw_hex_bytes(const uint8_t *p, size_t n)
{
	jw_start_array();
	char b[8];
	for (size_t i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "0x%02x", p[i]);
		jw_string(b);
	}
	jw_end_array();
}

/* ---- fields ---- */

void tool_print_fields(const struct tool_field *f, size_t n)
{
	if (!tool_g.json) {
		for (size_t i = 0; i < n; i++)
			if (f[i].plain)
				fputs(f[i].plain, stdout);
		putchar('\n');
		return;
	}
	jw_start_object();
	for (size_t i = 0; i < n; i++) {
		if (!f[i].key)
			continue;
		jw_key(f[i].key);
		switch (f[i].kind) {
		case TF_UINT: jw_uint(f[i].u); break;
		case TF_INT: jw_int((int64_t)f[i].u); break;
		case TF_STR: jw_string(f[i].s ? f[i].s : ""); break;
		case TF_BOOL: jw_bool(f[i].u != 0); break;
		case TF_UINTS:
			jw_start_array();
			for (size_t k = 0; k < f[i].nv; k++)
				jw_uint(f[i].v[k]);
			jw_end_array();
			break;
		}
	}
	jw_end_object();
}

void tool_hex(FILE *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%02x", !i ? "" : !(i % 8) ? "  " : " ", p[i]);
}

int tool_fd_kind(struct bee *bee, int fd)
{
	/* The info struct's length says what fd is: the core copies out as
	 * much as its struct for the object's kind (bpftool reads fdinfo). */
	union {
		struct bpf_prog_info p;
		struct bpf_map_info m;
		struct bpf_btf_info b;
		struct bpf_link_info l;
		uint8_t raw[1024];
	} u;
	memset(&u, 0, sizeof(u));
	uint32_t len = sizeof(u);
	if (bee_obj_get_info_by_fd(bee, fd, &u, &len) < 0)
		return TOOL_FD_NONE;
	if (len == sizeof(u.p))
		return TOOL_FD_PROG;
	if (len == sizeof(u.m))
		return TOOL_FD_MAP;
	if (len == sizeof(u.l))
		return TOOL_FD_LINK;
	if (len == sizeof(u.b))
		return TOOL_FD_BTF;
	return TOOL_FD_NONE;
}

int tool_pin(int fd, const char *path)
{
	int err = bee_obj_pin(tool_g.bee, fd, path);
	if (err < 0) {
		tool_err("can't pin the object (%s): %s", path, strerror(-err));
		return 1;
	}
	if (tool_g.json)
		jw_null(); /* bpftool: a command with nothing to say prints null */
	return 0;
}
