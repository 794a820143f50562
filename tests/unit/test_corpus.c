/*
 * test_corpus.c - the data-driven object corpus: every tests/objects/NAME.bpf.c
 * with a "// corpus:" line is opened, loaded into a fresh bee instance and
 * checked against the expectation lines in its own source, on the
 * interpreter and on the JIT.  The format is documented in
 * tests/objects/README.md; in short, each "// <verb>: <args>" line is one
 * step, done in file order after the object is loaded (open:, rodata:,
 * resize: and refuse: lines act before/at load):
 *
 *   // corpus: what the object covers          marks the file
 *   // open: btf=OBJ btfpath=P kern_version=N kconfig=K
 *                                               open options: target BTF from OBJ.bpf.o
 *                                               or a file (skipped when unreadable);
 *                                               K: ';'-separated CONFIG_X=v lines
 *   // rodata: map=M off=N val=SPEC             write into an internal map's image
 *   // resize: map=M max_entries=N
 *   // refuse: TEXT                             open or load must fail, message has TEXT
 *   // update: map=M key=SPEC (val=SPEC | prog=P | inner=M2)
 *   // run: prog=P [data=SPEC] [len=N] [ctx=SPEC] [repeat=N] ret=N
 *   // map: map=M key=SPEC val=SPEC              lookup equals SPEC (prefix)
 *   // nokey: map=M key=SPEC                     lookup fails
 *   // pop: map=M val=SPEC                       queue/stack: the next value
 *   // trace: TEXT                               trace pipe since last check has TEXT
 *   // ringbuf: map=M count=N [first=SPEC]       records since last poll
 *
 * SPEC: comma-separated u8:N u16:N u32:N u64:N (little-endian; N may be
 * negative), str:TEXT, zero:N, hex:BYTES.
 *
 * Without clang's BPF target there is no corpus: SKIP (exit 77).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bee/bee.h"
#include "bee/object.h"
#include "unit.h"

#ifndef BEE_TEST_OBJECTS_DIR
#define BEE_TEST_OBJECTS_DIR ""
#endif
#ifndef BEE_TEST_OBJECTS_SRC
#define BEE_TEST_OBJECTS_SRC ""
#endif

#define MAXLINES 128
#define LINELEN 512

struct step {
	int line;
	char verb[16];
	char args[LINELEN];
};

struct corpus_obj {
	char name[128];
	struct step steps[MAXLINES];
	int nsteps;
};

static char pin_dir[256];
static int n_objects, n_runs, n_steps;

/* ---- arguments ---- */

/* The value of key=... in args (up to the next space), or NULL. */
static const char *arg(const char *args, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	for (const char *p = args; *p;) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, ' ');
			size_t n = e ? (size_t)(e - v) : strlen(v);
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return out;
		}
		const char *e = strchr(p, ' ');
		if (!e)
			break;
		p = e;
	}
	return NULL;
}

/* SPEC into bytes; returns the length or -1. */
static long spec(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	char buf[LINELEN];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(it, ':');
		if (!colon)
			return -1;
		*colon = 0;
		const char *v = colon + 1;
		int w = !strcmp(it, "u8") ? 1 : !strcmp(it, "u16") ? 2 : !strcmp(it, "u32") ? 4
		       : !strcmp(it, "u64") ? 8 : 0;
		if (w) {
			uint64_t x = (uint64_t)strtoll(v, NULL, 0);
			if (v[0] != '-')
				x = strtoull(v, NULL, 0);
			if (n + (size_t)w > cap)
				return -1;
			for (int i = 0; i < w; i++)
				out[n++] = (uint8_t)(x >> (8 * i));
		} else if (!strcmp(it, "str")) {
			size_t l = strlen(v);
			if (n + l > cap)
				return -1;
			memcpy(out + n, v, l);
			n += l;
		} else if (!strcmp(it, "zero")) {
			size_t l = strtoul(v, NULL, 0);
			if (n + l > cap)
				return -1;
			memset(out + n, 0, l);
			n += l;
		} else if (!strcmp(it, "hex")) {
			for (; v[0] && v[1]; v += 2) {
				unsigned b;
				if (n >= cap || sscanf(v, "%2x", &b) != 1)
					return -1;
				out[n++] = (uint8_t)b;
			}
		} else {
			return -1;
		}
	}
	return (long)n;
}

/* ---- reading the source ---- */

static int read_steps(const char *path, struct corpus_obj *o)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[LINELEN + 64];
	int ln = 0, corpus = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		line[strcspn(line, "\r\n")] = 0;
		if (strncmp(line, "// ", 3))
			continue;
		char *v = line + 3, *colon = strchr(v, ':');
		if (!colon || colon - v >= 16 || strchr(v, ' ') < colon)
			continue;
		struct step s = {.line = ln};
		memcpy(s.verb, v, (size_t)(colon - v));
		snprintf(s.args, sizeof(s.args), "%s", colon[1] == ' ' ? colon + 2 : colon + 1);
		if (!strcmp(s.verb, "corpus")) {
			corpus = 1;
			continue;
		}
		static const char *const verbs[] = {"open", "rodata", "resize", "refuse", "update", "run",
						    "map", "nokey", "pop", "trace", "ringbuf"};
		int known = 0;
		for (size_t i = 0; i < LEN(verbs); i++)
			known |= !strcmp(verbs[i], s.verb);
		if (!known)
			continue;
		if (o->nsteps == MAXLINES)
			break;
		o->steps[o->nsteps++] = s;
	}
	fclose(f);
	return corpus;
}

/* ---- running one object on one engine ---- */

struct rb_ctx {
	int n;
	uint8_t first[256];
	size_t first_len;
};

static int rb_cb(void *ctx, void *data, size_t size)
{
	struct rb_ctx *r = ctx;
	if (!r->n) {
		r->first_len = size < sizeof(r->first) ? size : sizeof(r->first);
		memcpy(r->first, data, r->first_len);
	}
	r->n++;
	return 0;
}

#define FAILAT(st, ...)                                                                  \
	do {                                                                             \
		checks++;                                                                \
		failures++;                                                              \
		printf("FAIL %s.bpf.c:%d (%s) %s: ", o->name, (st)->line, eng, (st)->verb); \
		printf(__VA_ARGS__);                                                     \
		printf("\n");                                                            \
	} while (0)

static struct bee_object_map *need_map(struct bee_object *obj, const char *args, char *buf)
{
	if (!arg(args, "map", buf, 128))
		return NULL;
	return bee_object_find_map_by_name(obj, buf);
}

static void run_object(const struct corpus_obj *o, enum bee_engine engine)
{
	const char *eng = engine == BEE_ENGINE_JIT ? "jit" : "interp";
	struct bee_opts bo = {.sz = sizeof(bo), .pin_dir = pin_dir, .engine = engine, .ncpus = 2};
	struct bee *b = bee_new(&bo);
	CHECK(b, "bee_new: %s", strerror(errno));
	if (!b)
		return;
	char path[4096], btfpath[4096], kconfig[LINELEN], tmp[LINELEN];
	uint8_t val[1024], key[256];
	snprintf(path, sizeof(path), "%s/%s.bpf.o", BEE_TEST_OBJECTS_DIR, o->name);
	struct bee_error err;
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	const char *refuse[8];
	int nrefuse = 0;
	for (int i = 0; i < o->nsteps; i++) {
		const struct step *st = &o->steps[i];
		if (!strcmp(st->verb, "refuse") && nrefuse < 8)
			refuse[nrefuse++] = st->args;
		if (strcmp(st->verb, "open"))
			continue;
		if (arg(st->args, "btf", tmp, sizeof(tmp))) {
			snprintf(btfpath, sizeof(btfpath), "%s/%s.bpf.o", BEE_TEST_OBJECTS_DIR, tmp);
			oo.btf_custom_path = btfpath;
		}
		if (arg(st->args, "btfpath", btfpath, sizeof(btfpath))) {
			if (access(btfpath, R_OK)) {
				printf("%s (%s): %s not readable, not run\n", o->name, eng, btfpath);
				bee_free(b);
				return;
			}
			oo.btf_custom_path = btfpath;
		}
		if (arg(st->args, "kern_version", tmp, sizeof(tmp)))
			oo.kern_version = (uint32_t)strtoul(tmp, NULL, 0);
		if (arg(st->args, "kconfig", kconfig, sizeof(kconfig))) {
			for (char *p = kconfig; *p; p++)
				if (*p == ';')
					*p = '\n';
			oo.kconfig = kconfig;
		}
	}
	struct bee_object *obj = bee_object_open_file(path, &oo);
	if (!obj) {
		CHECK(nrefuse, "%s (%s): open failed: %s", o->name, eng, err.msg);
		for (int i = 0; i < nrefuse; i++)
			CHECK(strstr(err.msg, refuse[i]), "%s (%s): open error '%s' lacks '%s'", o->name,
			      eng, err.msg, refuse[i]);
		goto out;
	}
	for (int i = 0; i < o->nsteps; i++) {
		const struct step *st = &o->steps[i];
		char mname[128];
		if (!strcmp(st->verb, "rodata")) {
			struct bee_object_map *m = need_map(obj, st->args, mname);
			size_t sz = 0;
			uint8_t *img = m ? bee_object_map_initial_value(m, &sz) : NULL;
			long off = arg(st->args, "off", tmp, sizeof(tmp)) ? strtol(tmp, NULL, 0) : 0;
			long n = arg(st->args, "val", tmp, sizeof(tmp)) ? spec(tmp, val, sizeof(val)) : -1;
			if (!img || n < 0 || off < 0 || (size_t)(off + n) > sz)
				FAILAT(st, "bad map/offset/value (image %zu bytes)", sz);
			else
				memcpy(img + off, val, (size_t)n);
		} else if (!strcmp(st->verb, "resize")) {
			struct bee_object_map *m = need_map(obj, st->args, mname);
			arg(st->args, "max_entries", tmp, sizeof(tmp));
			if (!m || bee_object_map_set_max_entries(m, (uint32_t)strtoul(tmp, NULL, 0)))
				FAILAT(st, "resize failed");
		}
	}
	struct bee_target t = bee_target_of(b);
	int lerr = bee_object_load(obj, &t);
	if (nrefuse) {
		CHECK(lerr < 0, "%s (%s): loaded but must be refused", o->name, eng);
		for (int i = 0; i < nrefuse; i++)
			CHECK(strstr(bee_object_error(obj), refuse[i]), "%s (%s): '%s' lacks '%s'",
			      o->name, eng, bee_object_error(obj), refuse[i]);
		goto out;
	}
	CHECK(!lerr, "%s (%s): load: %d %s", o->name, eng, lerr, bee_object_error(obj));
	if (lerr)
		goto out;
	char trace[16384];
	size_t trace_len = 0;
	char rd[4096];
	while (bee_trace_pipe_read(b, rd, sizeof(rd), 0) > 0)
		;
	for (int i = 0; i < o->nsteps; i++) {
		const struct step *st = &o->steps[i];
		char mname[128];
		struct bee_object_map *m = NULL;
		long kn = 0, vn = 0;
		n_steps++;
		if (!strcmp(st->verb, "update") || !strcmp(st->verb, "map") ||
		    !strcmp(st->verb, "nokey") || !strcmp(st->verb, "pop") ||
		    !strcmp(st->verb, "ringbuf")) {
			m = need_map(obj, st->args, mname);
			if (!m) {
				FAILAT(st, "no map");
				continue;
			}
			kn = arg(st->args, "key", tmp, sizeof(tmp)) ? spec(tmp, key, sizeof(key)) : 0;
			vn = arg(st->args, "val", tmp, sizeof(tmp)) ? spec(tmp, val, sizeof(val)) : 0;
			if (kn < 0 || vn < 0) {
				FAILAT(st, "bad key/val spec");
				continue;
			}
		}
		int mfd = m ? bee_object_map_fd(m) : -1;
		if (!strcmp(st->verb, "update")) {
			int32_t fd;
			if (arg(st->args, "prog", tmp, sizeof(tmp))) {
				struct bee_program *p = bee_object_find_program_by_name(obj, tmp);
				fd = p ? bee_program_fd(p) : -1;
				memcpy(val, &fd, 4);
			} else if (arg(st->args, "inner", tmp, sizeof(tmp))) {
				struct bee_object_map *im = bee_object_find_map_by_name(obj, tmp);
				fd = im ? bee_object_map_fd(im) : -1;
				memcpy(val, &fd, 4);
			}
			int e = bee_map_update(b, mfd, kn ? key : NULL, val, 0);
			if (e)
				FAILAT(st, "update: %d", e);
		} else if (!strcmp(st->verb, "map") || !strcmp(st->verb, "nokey")) {
			static uint8_t got[1 << 16];
			int e = bee_map_lookup(b, mfd, key, got);
			if (!strcmp(st->verb, "nokey")) {
				if (e != -ENOENT)
					FAILAT(st, "lookup: %d, want -ENOENT", e);
			} else if (e) {
				FAILAT(st, "lookup: %d", e);
			} else if (memcmp(got, val, (size_t)vn)) {
				char h[200] = "";
				for (long j = 0; j < vn && j < 32; j++)
					snprintf(h + strlen(h), sizeof(h) - strlen(h), "%02x", got[j]);
				FAILAT(st, "value %s", h);
			}
		} else if (!strcmp(st->verb, "pop")) {
			uint8_t got[256];
			int e = bee_map_lookup_and_delete(b, mfd, NULL, got);
			if (e || memcmp(got, val, (size_t)vn))
				FAILAT(st, "pop: %d", e);
		} else if (!strcmp(st->verb, "ringbuf")) {
			struct rb_ctx rc = {0};
			int n = bee_ringbuf_poll(b, mfd, rb_cb, &rc, 0);
			long want = arg(st->args, "count", tmp, sizeof(tmp)) ? strtol(tmp, NULL, 0) : -1;
			long fn = arg(st->args, "first", tmp, sizeof(tmp)) ? spec(tmp, val, sizeof(val)) : 0;
			if (n != want || rc.n != want)
				FAILAT(st, "%d records, want %ld", n, want);
			else if (fn > 0 && ((size_t)fn > rc.first_len || memcmp(rc.first, val, (size_t)fn)))
				FAILAT(st, "first record differs (%zu bytes)", rc.first_len);
		} else if (!strcmp(st->verb, "trace")) {
			long n;
			while ((n = bee_trace_pipe_read(b, trace + trace_len,
							sizeof(trace) - 1 - trace_len, 0)) > 0)
				trace_len += (size_t)n;
			trace[trace_len] = 0;
			if (!strstr(trace, st->args))
				FAILAT(st, "trace pipe lacks it: '%s'", trace);
			trace_len = 0;
		} else if (!strcmp(st->verb, "run")) {
			static uint8_t data[4096], ctx[1024];
			long dn = -1, cn = -1;
			arg(st->args, "prog", tmp, sizeof(tmp));
			struct bee_program *p = bee_object_find_program_by_name(obj, tmp);
			if (!p || bee_program_fd(p) < 0) {
				FAILAT(st, "no loaded program '%s'", tmp);
				continue;
			}
			enum bpf_prog_type pt = bee_program_type(p);
			bool pkt = pt == BPF_PROG_TYPE_SOCKET_FILTER || pt == BPF_PROG_TYPE_SCHED_CLS ||
				   pt == BPF_PROG_TYPE_SCHED_ACT || pt == BPF_PROG_TYPE_XDP ||
				   pt == BPF_PROG_TYPE_CGROUP_SKB;
			memset(data, 0, sizeof(data));
			if (arg(st->args, "data", tmp, sizeof(tmp)))
				dn = spec(tmp, data, sizeof(data));
			if (arg(st->args, "len", tmp, sizeof(tmp)))
				dn = strtol(tmp, NULL, 0);
			if (dn < 0 && pkt)
				dn = 64;
			if (arg(st->args, "ctx", tmp, sizeof(tmp)))
				cn = spec(tmp, ctx, sizeof(ctx));
			if (dn > (long)sizeof(data) || (arg(st->args, "data", tmp, sizeof(tmp)) && dn < 0)) {
				FAILAT(st, "bad data");
				continue;
			}
			struct bee_test_run_opts ro = {.sz = sizeof(ro)};
			if (dn >= 0) {
				ro.data_in = data;
				ro.data_size_in = (uint32_t)dn;
			}
			if (cn >= 0) {
				ro.ctx_in = ctx;
				ro.ctx_size_in = (uint32_t)cn;
			}
			if (arg(st->args, "repeat", tmp, sizeof(tmp)))
				ro.repeat = (int)strtol(tmp, NULL, 0);
			int e = bee_prog_test_run(b, bee_program_fd(p), &ro);
			n_runs++;
			if (!arg(st->args, "ret", tmp, sizeof(tmp))) {
				FAILAT(st, "no ret=");
				continue;
			}
			uint32_t want = (uint32_t)(tmp[0] == '-' ? (uint64_t)strtoll(tmp, NULL, 0)
								 : strtoull(tmp, NULL, 0));
			if (e) {
				const struct bee_error *re = bee_last_run_error();
				FAILAT(st, "test run: %d %s", e, re ? re->msg : "");
			} else if (ro.retval != want) {
				FAILAT(st, "ret %u (%#x), want %u (%#x)", ro.retval, ro.retval, want, want);
			}
		}
	}
out:
	bee_object_close(obj);
	bee_free(b);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_source(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 6 && !strcmp(d->d_name + n - 6, ".bpf.c");
}

int main(int argc, char **argv)
{
	if (!BEE_TEST_OBJECTS_DIR[0] || !BEE_TEST_OBJECTS_SRC[0]) {
		printf("SKIP: no clang with a BPF target, no test objects\n");
		return 77;
	}
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/bee-test-corpus-XXXXXX");
	if (!mkdtemp(pin_dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct dirent **ents;
	int n = scandir(BEE_TEST_OBJECTS_SRC, &ents, is_source, by_name);
	if (n < 0) {
		perror(BEE_TEST_OBJECTS_SRC);
		return 1;
	}
	static struct corpus_obj o;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", BEE_TEST_OBJECTS_SRC, ents[i]->d_name);
		memset(&o, 0, sizeof(o));
		snprintf(o.name, sizeof(o.name), "%.*s", (int)(strlen(ents[i]->d_name) - 6),
			 ents[i]->d_name);
		free(ents[i]);
		if (argc > 1 && strcmp(argv[1], o.name))
			continue;
		int c = read_steps(path, &o);
		CHECK(c >= 0, "%s: %s", path, strerror(-c));
		if (c <= 0)
			continue;
		n_objects++;
		int before = failures;
		run_object(&o, BEE_ENGINE_INTERP);
		run_object(&o, BEE_ENGINE_JIT);
		if (argc > 1 || failures != before)
			printf("%-24s %s\n", o.name, failures == before ? "ok" : "FAILED");
	}
	free(ents);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin_dir);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", pin_dir);
	printf("%d corpus objects, %d steps, %d program runs (interpreter and JIT); %d checks, "
	       "%d failures\n", n_objects, n_steps, n_runs, checks, failures);
	return failures ? 1 : 0;
}
