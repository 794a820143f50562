/*
 * vdata.c - the verifier corpus reader (vdata.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdata.h"

struct name_val {
	const char *name;
	unsigned val;
};

static const struct name_val prog_types[] = {
	{"socket_filter", BPF_PROG_TYPE_SOCKET_FILTER},
	{"kprobe", BPF_PROG_TYPE_KPROBE},
	{"tc", BPF_PROG_TYPE_SCHED_CLS},
	{"sched_cls", BPF_PROG_TYPE_SCHED_CLS},
	{"sched_act", BPF_PROG_TYPE_SCHED_ACT},
	{"tracepoint", BPF_PROG_TYPE_TRACEPOINT},
	{"xdp", BPF_PROG_TYPE_XDP},
	{"perf_event", BPF_PROG_TYPE_PERF_EVENT},
	{"cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB},
	{"cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK},
	{"lwt_in", BPF_PROG_TYPE_LWT_IN},
	{"sk_skb", BPF_PROG_TYPE_SK_SKB},
	{"raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT},
	{"raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT},
	{"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR},
	{"syscall", BPF_PROG_TYPE_SYSCALL},
};

static const struct name_val map_types[] = {
	{"hash", BPF_MAP_TYPE_HASH},
	{"array", BPF_MAP_TYPE_ARRAY},
	{"prog_array", BPF_MAP_TYPE_PROG_ARRAY},
	{"percpu_hash", BPF_MAP_TYPE_PERCPU_HASH},
	{"percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY},
	{"lru_hash", BPF_MAP_TYPE_LRU_HASH},
	{"queue", BPF_MAP_TYPE_QUEUE},
	{"stack", BPF_MAP_TYPE_STACK},
	{"ringbuf", BPF_MAP_TYPE_RINGBUF},
	{"perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY},
};

static const struct name_val attach_types[] = {
	{"cgroup_inet_ingress", BPF_CGROUP_INET_INGRESS},
	{"cgroup_inet_egress", BPF_CGROUP_INET_EGRESS},
	{"cgroup_inet_sock_create", BPF_CGROUP_INET_SOCK_CREATE},
	{"xdp", BPF_XDP},
};

static const struct name_val prog_flag_names[] = {
	{"strict_alignment", BPF_F_STRICT_ALIGNMENT},
	{"any_alignment", BPF_F_ANY_ALIGNMENT},
	{"sleepable", BPF_F_SLEEPABLE},
	{"xdp_has_frags", BPF_F_XDP_HAS_FRAGS},
};

static bool lookup(const struct name_val *t, size_t n, const char *s, unsigned *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, s) == 0) {
			*out = t[i].val;
			return true;
		}
	return false;
}
#define LOOKUP(t, s, out) lookup(t, sizeof(t) / sizeof((t)[0]), s, out)


static bool isalpha_ascii(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) {
		perror("strdup");
		exit(1);
	}
	return p;
}

static void corpus_error(struct vcorpus *c, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	c->errors++;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/* Append a line to a growing malloc'd text. */
static void text_append(char **text, size_t *len, const char *line)
{
	size_t add = strlen(line);
	char *p = realloc(*text, *len + add + 2);
	if (!p) {
		perror("realloc");
		exit(1);
	}
	memcpy(p + *len, line, add);
	*len += add;
	p[(*len)++] = '\n';
	p[*len] = '\0';
	*text = p;
}

/* A test is complete: check it has what it needs. */
static void finish_test(struct vcorpus *c, struct vtest *t)
{
	if (!t->type_name)
		corpus_error(c, t->file, t->line, "test '%s' has no '-- type'", t->name);
	if (!t->asm_text)
		corpus_error(c, t->file, t->line, "test '%s' has no '-- asm'", t->name);
	if (!t->has_expect)
		corpus_error(c, t->file, t->line, "test '%s' has neither '-- accept' nor '-- reject'",
			     t->name);
	for (size_t i = 0; i + 1 < c->n; i++)
		if (strcmp(c->tests[i].file, t->file) == 0 && strcmp(c->tests[i].name, t->name) == 0)
			corpus_error(c, t->file, t->line, "duplicate test name '%s'", t->name);
}

/* The reject message: the rest of the line, without surrounding quotes. */
static char *parse_message(char *s)
{
	s = trim(s);
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s[len - 1] = '\0';
		s++;
	}
	return xstrdup(s);
}

static void parse_section(struct vcorpus *c, struct vtest *t, const char *file, unsigned line,
			  char *hdr, bool *in_asm)
{
	char *word = hdr, *rest = hdr;
	while (*rest && *rest != ' ' && *rest != '\t')
		rest++;
	if (*rest)
		*rest++ = '\0';
	rest = trim(rest);
	*in_asm = false;
	unsigned v;
	if (strcmp(word, "type") == 0) {
		if (!LOOKUP(prog_types, rest, &v)) {
			corpus_error(c, file, line, "unknown program type '%s'", rest);
			return;
		}
		t->prog_type = (enum bpf_prog_type)v;
		t->type_name = file; /* replaced below by a stable string */
		for (size_t i = 0; i < sizeof(prog_types) / sizeof(prog_types[0]); i++)
			if (strcmp(prog_types[i].name, rest) == 0)
				t->type_name = prog_types[i].name;
		if (t->prog_type == BPF_PROG_TYPE_SYSCALL)
			t->prog_flags |= BPF_F_SLEEPABLE;
	} else if (strcmp(word, "attach") == 0) {
		if (!LOOKUP(attach_types, rest, &v)) {
			corpus_error(c, file, line, "unknown attach type '%s'", rest);
			return;
		}
		t->attach_type = (enum bpf_attach_type)v;
		t->has_attach_type = true;
	} else if (strcmp(word, "flags") == 0) {
		for (char *f = strtok(rest, " \t,"); f; f = strtok(NULL, " \t,")) {
			if (!LOOKUP(prog_flag_names, f, &v)) {
				corpus_error(c, file, line, "unknown program flag '%s'", f);
				return;
			}
			t->prog_flags |= v;
		}
	} else if (strcmp(word, "map") == 0) {
		char tname[64];
		unsigned k, val, ent, fl = 0;
		int got = sscanf(rest, "%63s %u %u %u %i", tname, &k, &val, &ent, (int *)&fl);
		if (got < 4) {
			corpus_error(c, file, line, "'-- map TYPE KEY VALUE ENTRIES [FLAGS]' expected");
			return;
		}
		if (!LOOKUP(map_types, tname, &v)) {
			corpus_error(c, file, line, "unknown map type '%s'", tname);
			return;
		}
		if (t->n_maps == VDATA_MAX_MAPS) {
			corpus_error(c, file, line, "more than %d maps", VDATA_MAX_MAPS);
			return;
		}
		t->maps[t->n_maps++] = (struct vmap){(enum bpf_map_type)v, k, val, ent, fl};
	} else if (strcmp(word, "btf") == 0) {
		t->btf = true;
	} else if (strcmp(word, "slow") == 0) {
		t->slow = true;
	} else if (strcmp(word, "asm") == 0) {
		if (t->asm_text)
			corpus_error(c, file, line, "second '-- asm'");
		*in_asm = true;
		if (!t->asm_text)
			t->asm_text = xstrdup("");
	} else if (strcmp(word, "accept") == 0 || strcmp(word, "reject") == 0) {
		if (t->has_expect)
			corpus_error(c, file, line, "second expectation");
		t->has_expect = true;
		t->expect_accept = word[0] == 'a';
		if (t->expect_accept && *rest)
			corpus_error(c, file, line, "'-- accept' takes no message");
		if (!t->expect_accept) {
			t->expect_msg = parse_message(rest);
			if (!*t->expect_msg)
				corpus_error(c, file, line, "'-- reject' needs a message substring");
		}
	} else {
		corpus_error(c, file, line, "unknown section '-- %s'", word);
	}
}

static void parse_file(struct vcorpus *c, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		corpus_error(c, path, 0, "%s", strerror(errno));
		return;
	}
	const char *base = strrchr(path, '/');
	base = xstrdup(base ? base + 1 : path);
	char *buf = NULL;
	size_t cap = 0, asm_len = 0;
	unsigned line = 0;
	struct vtest *t = NULL;
	bool in_asm = false;
	while (getline(&buf, &cap, f) >= 0) {
		line++;
		char *s = trim(buf);
		if (strncmp(s, "==", 2) == 0) {
			if (t)
				finish_test(c, t);
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 256;
				c->tests = realloc(c->tests, c->cap * sizeof(*c->tests));
				if (!c->tests) {
					perror("realloc");
					exit(1);
				}
			}
			t = &c->tests[c->n++];
			memset(t, 0, sizeof(*t));
			t->file = base;
			t->line = line;
			t->name = xstrdup(trim(s + 2));
			if (!*t->name)
				corpus_error(c, base, line, "a test needs a name");
			in_asm = false;
			asm_len = 0;
			continue;
		}
		if (strncmp(s, "--", 2) == 0 && (s[2] == ' ' || s[2] == '\t' || isalpha_ascii(s[2]))) {
			if (!t) {
				corpus_error(c, base, line, "section outside a test");
				continue;
			}
			parse_section(c, t, base, line, trim(s + 2), &in_asm);
			continue;
		}
		if (in_asm) {
			text_append(&t->asm_text, &asm_len, s);
			continue;
		}
		if (*s == '\0' || *s == '#')
			continue;
		corpus_error(c, base, line, "stray text outside a section: '%s'", s);
	}
	if (t)
		finish_test(c, t);
	free(buf);
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void vdata_parse_path(struct vcorpus *c, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		parse_file(c, path);
		return;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 6, ".vdata") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names || asprintf(&names[n], "%s/%s", path, e->d_name) < 0) {
			perror("alloc");
			exit(1);
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		parse_file(c, names[i]);
		free(names[i]);
	}
	free(names);
}

void vdata_free(struct vcorpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->tests[i].name);
		free(c->tests[i].asm_text);
		free(c->tests[i].expect_msg);
	}
	for (size_t i = 0; i < c->n; i++)
		if (i == 0 || c->tests[i].file != c->tests[i - 1].file)
			free((char *)c->tests[i].file);
	free(c->tests);
	c->tests = NULL;
	c->n = c->cap = 0;
}
