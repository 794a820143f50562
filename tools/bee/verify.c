/*
 * verify.c - `bee verify`: run only the verifier on a program and print
 * its verdict, its statistics and its log (issue 6).
 *
 * Theory of operation.  Nothing here judges a program: the verdict is the
 * one BPF_PROG_LOAD gives on a user-space instance created with
 * bee_opts.trusted_fast_path, where the core runs bee's verifier and
 * refuses what it cannot prove safe, as the kernel does.  So what is
 * verified is exactly what `bee prog load` would load: for an object, the
 * program after the loader's relocations, against the maps the object
 * declares (created in the instance by the loader); for assembly text,
 * the program as assembled, against the maps given with --map (created in
 * order, so that map[idx:N] is the N-th, through fd_array, and map[fd:N]
 * the handle N).  Program types the user-space target cannot attach (xdp,
 * tc, kprobe, ...) load all the same: attaching is no part of verifying.
 *
 * Each program of an object is verified on its own: the object is opened
 * again with only that program autoloaded, into a fresh instance, so that
 * one program's refusal cannot hide another's verdict.
 *
 * A refusal by BPF_PROG_LOAD that comes with a log is the verdict
 * "rejected"; anything failing before that (a bad ELF, a relocation, a
 * map the target refuses) or a refusal without a word is an error, exit
 * status 2, with the loader's message (on stderr; with --json also as a
 * record whose verdict is "error" and whose log is that message).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/bee.h"
#include "bee/object.h"
#include "bee_tool.h"

#define VERIFY_LOG_SIZE (1u << 20) /* the loader's buffer is the same size */
#define VERIFY_MAX_MAPS 64

static void verify_usage(FILE *out)
{
	fprintf(out,
		"Usage: bee verify [OPTIONS] OBJ [--program NAME | --section SEC] [--type TYPE]\n"
		"       bee verify [OPTIONS] ASM [--type TYPE] [--map TYPE:KEY:VALUE:MAX]...\n"
		"\n"
		"Run only the verifier and print, for each program, its verdict\n"
		"(\"NAME (SECTION, TYPE): accepted\" or \"rejected\") and the verifier's log,\n"
		"which ends with its statistics (\"processed N insns (limit 1000000) ...\").\n"
		"OBJ is an object built by clang -target bpf: each program is verified after\n"
		"the loader's relocations, against the maps the object declares, as the type\n"
		"its section names (xdp, tc, kprobe, ... verify even where bee cannot attach\n"
		"them).  ASM is bee assembly text (bee asm, bee run).\n"
		"\n"
		"Options:\n"
		"  --program NAME     OBJ: only the program NAME\n"
		"  --section SEC      OBJ: only the programs of section SEC\n"
		"  --type TYPE        the program type (bpftool's names: socket_filter, xdp, tc,\n"
		"                     kprobe, tracepoint, ...); ASM default socket_filter, OBJ\n"
		"                     default the section's\n"
		"  --map TYPE:KEY:VALUE:MAX\n"
		"                     ASM: create a map (hash:4:8:64); the N-th is map[idx:N]\n"
		"  --log-level N      1 (default): the verdict and statistics; 2: also the\n"
		"                     verifier's per-instruction log, once it writes one\n"
		"  --explain          explain a refusal: the instruction, its source line, the\n"
		"                     branches that led there, the values, the usual fix\n"
		"  -j, --json         a JSON array of {name, section, type, verdict, log}\n"
		"  -p, --pretty       indented JSON\n"
		"\n"
		"Exit status: 0 if every program verified is accepted, 1 if one is rejected,\n"
		"2 on bad usage or an error before the verifier (bad file, relocation, map).\n");
}

struct verify_cfg {
	const char *file;
	const char *program, *section; /* OBJ selection */
	int type;                      /* -1: the default */
	uint32_t log_level;
	bool explain;
	struct bee_map_spec {
		int type;
		uint32_t key, value, max;
	} maps[VERIFY_MAX_MAPS];
	size_t n_maps;
};

enum verdict { VERDICT_ACCEPTED, VERDICT_REJECTED, VERDICT_ERROR };

static const char *const verdict_names[] = {"accepted", "rejected", "error"};

/* Print one verdict; returns the exit status it contributes (0, 1 or 2).
 * section may be NULL (assembly); text is the log, or the error message. */
static int report(const char *name, const char *section, unsigned type, enum verdict v,
		  const char *text)
{
	if (v == VERDICT_ERROR)
		tool_err("%s: %s", name, text);
	/* the log without its last newlines (the loader trims a refusal's) */
	size_t tlen = strlen(text);
	while (tlen && text[tlen - 1] == '\n')
		tlen--;
	char *trimmed = strndup(text, tlen);
	if (trimmed)
		text = trimmed;
	if (tool_g.json) {
		jw_start_object();
		jw_key("name");
		jw_string(name);
		jw_key("section");
		jw_string(section ? section : "");
		jw_key("type");
		jw_string(tool_prog_type_name(type));
		jw_key("verdict");
		jw_string(verdict_names[v]);
		jw_key("log");
		jw_string(text);
		jw_end_object();
	} else if (v != VERDICT_ERROR) {
		static bool printed;
		if (printed)
			putchar('\n'); /* a blank line between programs */
		printed = true;
		if (section)
			printf("%s (%s, %s): %s\n", name, section, tool_prog_type_name(type),
			       verdict_names[v]);
		else
			printf("%s (%s): %s\n", name, tool_prog_type_name(type), verdict_names[v]);
		/* the log as the verifier wrote it, indented under its verdict */
		for (const char *line = text; *line;) {
			size_t len = strcspn(line, "\n");
			printf("  %.*s\n", (int)len, line);
			line += len + (line[len] == '\n');
		}
	}
	free(trimmed);
	return v == VERDICT_ACCEPTED ? 0 : v == VERDICT_REJECTED ? 1 : 2;
}

static int worse(int a, int b)
{
	return a > b ? a : b;
}

static struct bee *verify_instance(void)
{
	struct bee_opts o = {.sz = sizeof(o), .trusted_fast_path = true};
	struct bee *bee = bee_new(&o);
	if (!bee)
		tool_err("cannot create an instance: %s", strerror(errno));
	return bee;
}

/* ---- objects ---- */

static struct bee_object *open_object(const char *path)
{
	struct bee_error err;
	bee_error_clear(&err);
	struct bee_object_open_opts oo = {.sz = sizeof(oo), .err = &err};
	struct bee_object *obj = bee_object_open_file(path, &oo);
	if (!obj) {
		char msg[512];
		tool_err("%s", bee_error_format(&err, NULL, msg, sizeof(msg)));
	}
	return obj;
}

static bool selected(const struct verify_cfg *cfg, const struct bee_program *p)
{
	if (cfg->program)
		return !strcmp(bee_program_name(p), cfg->program);
	if (cfg->section)
		return !strcmp(bee_program_section_name(p), cfg->section);
	return true;
}

/* Verify program number idx of the object, alone, in a fresh instance. */
static int verify_object_program(const struct verify_cfg *cfg, size_t idx)
{
	struct bee_object *obj = open_object(cfg->file);
	if (!obj)
		return 2;
	struct bee_program *prog = NULL, *p = NULL;
	for (size_t i = 0; (p = bee_object_next_program(obj, p)); i++) {
		bee_program_set_autoload(p, i == idx);
		if (i == idx)
			prog = p;
	}
	if (cfg->type >= 0)
		bee_program_set_type(prog, (enum bpf_prog_type)cfg->type);
	bee_program_set_log_level(prog, cfg->log_level);
	struct bee *bee = verify_instance();
	if (!bee) {
		bee_object_close(obj);
		return 2;
	}
	struct bee_target target = bee_target_of(bee);
	int err = bee_object_load(obj, &target);
	enum verdict v = VERDICT_ACCEPTED;
	const char *text = bee_program_log(prog);
	if (err < 0) {
		/* A log means BPF_PROG_LOAD itself refused: the verifier's verdict. */
		v = bee_program_fd(prog) < 0 && *text ? VERDICT_REJECTED : VERDICT_ERROR;
		if (v == VERDICT_ERROR)
			text = bee_object_error(obj);
	}
	int status = report(bee_program_name(prog), bee_program_section_name(prog),
			    bee_program_type(prog), v, text);
	bee_object_close(obj);
	bee_free(bee);
	return status;
}

static int verify_object(const struct verify_cfg *cfg)
{
	struct bee_object *obj = open_object(cfg->file);
	if (!obj)
		return 2;
	size_t n = 0, count = bee_object_program_count(obj);
	bool *want = calloc(count ? count : 1, sizeof(*want));
	if (!want) {
		bee_object_close(obj);
		tool_err("out of memory");
		return 2;
	}
	size_t i = 0;
	for (struct bee_program *p = bee_object_next_program(obj, NULL); p;
	     p = bee_object_next_program(obj, p), i++)
		if ((want[i] = selected(cfg, p)))
			n++;
	if (!n) {
		if (cfg->program)
			tool_err("%s: no program named '%s'", cfg->file, cfg->program);
		else if (cfg->section)
			tool_err("%s: no program in section '%s'", cfg->file, cfg->section);
		else
			tool_err("%s: no program", cfg->file);
		free(want);
		bee_object_close(obj);
		return 2;
	}
	bee_object_close(obj);
	int status = 0;
	if (tool_g.json)
		jw_start_array();
	for (i = 0; i < count; i++)
		if (want[i])
			status = worse(status, verify_object_program(cfg, i));
	if (tool_g.json)
		jw_end_array();
	free(want);
	return status;
}

/* ---- assembly ---- */

static int parse_map_spec(const char *s, struct bee_map_spec *m)
{
	char type[32];
	const char *colon = strchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(type))
		goto bad;
	memcpy(type, s, (size_t)(colon - s));
	type[colon - s] = 0;
	m->type = tool_map_type_parse(type);
	if (m->type < 0) {
		tool_err("--map: unknown map type '%s'", type);
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long v[3];
	const char *at = colon + 1;
	for (int k = 0; k < 3; k++) {
		if (*at < '0' || *at > '9')
			goto bad;
		v[k] = strtoul(at, &end, 0);
		if (errno || v[k] > UINT32_MAX || *end != (k < 2 ? ':' : '\0'))
			goto bad;
		at = end + 1;
	}
	m->key = (uint32_t)v[0];
	m->value = (uint32_t)v[1];
	m->max = (uint32_t)v[2];
	return 0;
bad:
	tool_err("--map: expected TYPE:KEY:VALUE:MAX (e.g. hash:4:8:64), got '%s'", s);
	return -1;
}

static int verify_asm(const struct verify_cfg *cfg)
{
	struct bpf_insn *insns;
	size_t n;
	if (tool_load_program(cfg->file, "asm", &insns, &n))
		return 2;
	unsigned type = cfg->type >= 0 ? (unsigned)cfg->type : BPF_PROG_TYPE_SOCKET_FILTER;
	const char *slash = strrchr(cfg->file, '/');
	const char *name = slash ? slash + 1 : cfg->file;
	struct bee *bee = verify_instance();
	char *log = calloc(1, VERIFY_LOG_SIZE);
	int status = 2;
	if (!bee || !log) {
		if (bee)
			tool_err("out of memory");
		goto out;
	}
	int fds[VERIFY_MAX_MAPS];
	for (size_t i = 0; i < cfg->n_maps; i++) {
		const struct bee_map_spec *m = &cfg->maps[i];
		char mname[16];
		snprintf(mname, sizeof(mname), "map%zu", i);
		fds[i] = bee_map_create(bee, (enum bpf_map_type)m->type, mname, m->key, m->value,
					m->max, NULL);
		if (fds[i] < 0) {
			tool_err("--map %s:%u:%u:%u: cannot create the map: %s",
				 tool_map_type_name((unsigned)m->type), m->key, m->value, m->max,
				 strerror(-fds[i]));
			goto out;
		}
	}
	/* map[idx:N] becomes map[fd:<handle of the N-th map>]: the core's
	 * verifier does not look idx forms up in fd_array yet (it reports
	 * "fd_array[0] is not a map"), although the rest of PROG_LOAD does.
	 * An index past the maps is left for PROG_LOAD to refuse. */
	for (size_t i = 0; i + 1 < n; i++) {
		struct bpf_insn *in = &insns[i];
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if ((in->src_reg == BPF_PSEUDO_MAP_IDX || in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE) &&
		    in->imm >= 0 && (size_t)in->imm < cfg->n_maps) {
			in->src_reg = in->src_reg == BPF_PSEUDO_MAP_IDX ? BPF_PSEUDO_MAP_FD
									: BPF_PSEUDO_MAP_VALUE;
			in->imm = fds[in->imm];
		}
		i++; /* the second half of the lddw */
	}
	struct bee_prog_load_opts lo = {
		.sz = sizeof(lo),
		.log_buf = log,
		.log_size = VERIFY_LOG_SIZE,
		.log_level = cfg->log_level,
		.fd_array = cfg->n_maps ? fds : NULL,
	};
	/* GPL: an assembly program has no license section, and helpers the
	 * kernel keeps for GPL programs are no part of what is verified. */
	int fd = bee_prog_load(bee, (enum bpf_prog_type)type, NULL, "GPL", insns, n, &lo);
	if (tool_g.json)
		jw_start_array();
	if (fd >= 0) {
		status = report(name, NULL, type, VERDICT_ACCEPTED, log);
	} else if (log[0]) {
		status = report(name, NULL, type, VERDICT_REJECTED, log);
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg), "BPF_PROG_LOAD failed: %s", strerror(-fd));
		status = report(name, NULL, type, VERDICT_ERROR, msg);
	}
	if (tool_g.json)
		jw_end_array();
out:
	free(log);
	bee_free(bee);
	free(insns);
	return status;
}

/* ---- the command ---- */

static bool is_elf(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
	unsigned char magic[4] = {0};
	bool elf = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\177ELF", 4);
	if (f)
		fclose(f);
	return elf;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"program", required_argument, NULL, 'P'},
		{"section", required_argument, NULL, 'S'},
		{"type", required_argument, NULL, 't'},
		{"map", required_argument, NULL, 'm'},
		{"log-level", required_argument, NULL, 'l'},
		{"explain", no_argument, NULL, 'E'},
		{"json", no_argument, NULL, 'j'},
		{"pretty", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct verify_cfg cfg = {.type = -1, .log_level = 1};
	int c;
	optind = 1;
	opterr = 0; /* one "bee: " line instead of getopt's message */
	while ((c = getopt_long(argc, argv, ":jph", longopts, NULL)) != -1) {
		switch (c) {
		case 'P': cfg.program = optarg; break;
		case 'S': cfg.section = optarg; break;
		case 't':
			cfg.type = tool_prog_type_parse(optarg);
			if (cfg.type < 0) {
				tool_err("unknown program type '%s'", optarg);
				return 2;
			}
			break;
		case 'm':
			if (cfg.n_maps == VERIFY_MAX_MAPS) {
				tool_err("--map: at most %d maps", VERIFY_MAX_MAPS);
				return 2;
			}
			if (parse_map_spec(optarg, &cfg.maps[cfg.n_maps++]))
				return 2;
			break;
		case 'l':
			/* the kernel's log_level bits: 1 verdict, 2 per instruction, 4 stats */
			if (tool_parse_u32(optarg, "--log-level", &cfg.log_level))
				return 2;
			if (cfg.log_level < 1 || cfg.log_level > 15) {
				tool_err("--log-level: expected 1 to 15 (1: verdict and statistics, "
					 "2: per instruction), got %u", cfg.log_level);
				return 2;
			}
			break;
		case 'E': cfg.explain = true; break;
		case 'j': tool_g.json = true; break;
		case 'p': tool_g.json = tool_g.pretty = true; break;
		case 'h': verify_usage(stdout); return 0;
		case ':':
			tool_err("verify: %s needs an argument", argv[optind - 1]);
			return 2;
		default:
			tool_err("verify: unknown option '%s' (try 'bee verify --help')",
				 argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		tool_err("verify: expected one OBJ or ASM file (try 'bee verify --help')");
		return 2;
	}
	cfg.file = argv[optind];
	if (cfg.program && cfg.section) {
		tool_err("verify: give --program or --section, not both");
		return 2;
	}
	if (cfg.explain) /* bee's own log_level bit, beyond the kernel's */
		cfg.log_level |= BEE_LOG_EXPLAIN;
	bool elf = is_elf(cfg.file);
	if (elf && cfg.n_maps) {
		tool_err("verify: --map is for assembly; %s declares its own maps", cfg.file);
		return 2;
	}
	if (!elf && (cfg.program || cfg.section)) {
		tool_err("verify: --%s selects a program of an object; %s is assembly",
			 cfg.program ? "program" : "section", cfg.file);
		return 2;
	}
	int status = elf ? verify_object(&cfg) : verify_asm(&cfg);
	if (fflush(stdout) != 0) {
		tool_err("standard output: write error");
		status = 2;
	}
	return status;
}
