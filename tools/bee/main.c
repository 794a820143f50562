/*
 * main.c - the bee command: a table of commands, prefix-matched as
 * bpftool matches its nouns ("bee dis" runs "disasm").
 *
 * bee's own commands (run, asm, disasm, verify) parse their options themselves.
 * The bpftool-shaped nouns (prog, map, btf, link, trace-pipe) share
 * global options, taken before the noun or anywhere among its words as
 * bpftool takes them: -j/--json, -p/--pretty, --pin-dir DIR, --engine
 * {jit|interp}, -d/--debug.  Their instance is freed (pinned maps saved)
 * when the command returns.  `bee batch file FILE` runs one noun command
 * a line, as bpftool's batch does, on one instance: what one line creates
 * the next sees in memory (maps keep their BTF, for instance), not only
 * through the pin files.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/vm.h"

#include "bee_tool.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool noun; /* bpftool-shaped: global options and an instance */
};

static int cmd_batch(int argc, char **argv);

static const struct command commands[] = {
	{"run", cmd_run, "run a program (assembly, raw or hex bytecode) and print r0", false},
	{"asm", cmd_asm, "assemble text into bytecode", false},
	{"disasm", cmd_disasm, "disassemble bytecode into text", false},
	{"verify", cmd_verify, "run only the verifier on a program or object: verdict and log", false},
	{"prog", cmd_prog, "load, show, dump, run and pin programs (bpftool prog)", true},
	{"map", cmd_map, "create, show, dump and edit maps (bpftool map)", true},
	{"btf", cmd_btf, "dump the BTF of an object file (bpftool btf)", true},
	{"link", cmd_link, "show links (bpftool link)", true},
	{"trace-pipe", cmd_trace_pipe, "print bpf_trace_printk lines as they arrive", true},
	{"batch", cmd_batch, "run the noun commands of a file, one a line (bpftool batch)", true},
};

/* Take one global option at argv[i]; returns the words used (0: none,
 * -1: bad). */
static int global_option(int argc, char **argv, int i)
{
	const char *a = argv[i];
	if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
		tool_g.json = true;
		return 1;
	}
	if (!strcmp(a, "-p") || !strcmp(a, "--pretty")) {
		tool_g.json = tool_g.pretty = true;
		return 1;
	}
	if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
		tool_g.verbose = true;
		return 1;
	}
	if (!strncmp(a, "--pin-dir=", 10)) {
		tool_g.pin_dir = a + 10;
		return 1;
	}
	bool pd = !strcmp(a, "--pin-dir"), en = !strcmp(a, "--engine");
	if (pd || en) {
		if (i + 1 >= argc) {
			tool_err("%s needs an argument", a);
			return -1;
		}
		if (pd) {
			tool_g.pin_dir = argv[i + 1];
		} else if (!strcmp(argv[i + 1], "jit")) {
			tool_g.engine = BEE_ENGINE_JIT;
		} else if (!strcmp(argv[i + 1], "interp")) {
			tool_g.engine = BEE_ENGINE_INTERP;
		} else {
			tool_err("unknown engine '%s' (jit or interp)", argv[i + 1]);
			return -1;
		}
		return 2;
	}
	return 0;
}

/* The command named by word (a unique prefix, or exact); NULL after an
 * error message. */
static const struct command *find_command(const char *word)
{
	const struct command *found = NULL;
	size_t len = strlen(word);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strncmp(commands[i].name, word, len) != 0)
			continue;
		if (strlen(commands[i].name) == len) /* exact match wins */
			return &commands[i];
		if (found) {
			tool_err("'%s' is ambiguous: %s or %s", word, found->name, commands[i].name);
			return NULL;
		}
		found = &commands[i];
	}
	if (!found)
		tool_err("unknown command '%s'", word);
	return found;
}

/* Take the global options out of a noun's words (not after "--"); the
 * new count, or -1 after an error. */
static int strip_global_options(int argc, char **argv, int from)
{
	int out = from;
	for (int i = from; i < argc;) {
		int used = !strcmp(argv[i], "--") ? 0 : global_option(argc, argv, i);
		if (used < 0)
			return -1;
		if (used == 0)
			argv[out++] = argv[i++];
		else
			i += used;
	}
	argv[out] = NULL;
	return out;
}

#define BATCH_MAX_WORDS 255

/*
 * Split a batch line into words as bpftool's make_args does: blanks
 * separate words, '...' and "..." quote (a backslash escapes the next
 * character), '#' outside quotes starts a comment.  The words point into
 * line, which is rewritten.  Returns the count, or -1 (message printed).
 */
static int split_line(char *line, char **words, int max, unsigned lineno)
{
	int n = 0;
	char *r = line, *w = line;
	while (*r) {
		while (isspace((unsigned char)*r))
			r++;
		if (!*r || *r == '#')
			break;
		if (n >= max) {
			tool_err("batch line %u: too many words (at most %d)", lineno, max);
			return -1;
		}
		words[n++] = w;
		char quote = 0;
		while (*r && (quote || !isspace((unsigned char)*r))) {
			if (quote && *r == quote) {
				quote = 0, r++;
			} else if (!quote && (*r == '\'' || *r == '"')) {
				quote = *r++;
			} else if (*r == '\\' && r[1]) {
				*w++ = r[1], r += 2;
			} else if (!quote && *r == '#') {
				break;
			} else {
				*w++ = *r++;
			}
		}
		if (quote) {
			tool_err("batch line %u: unterminated quoted string", lineno);
			return -1;
		}
		bool comment = *r == '#';
		if (*r && !comment)
			r++;
		*w++ = 0;
		if (comment)
			break;
	}
	return n;
}

/*
 * bee batch file FILE: each line (a trailing backslash continues it) is a
 * noun command without "bee" ("map dump id 1").  The first that fails
 * stops the batch (exit 1); after all, "processed N commands".  With
 * --json the whole is one array of {"command": [words], "output": ...}.
 */
static int cmd_batch(int argc, char **argv)
{
	if (argc != 3 || !tool_is_prefix(argv[1], "file")) {
		tool_err("batch: expected 'file FILE'");
		return 2;
	}
	const char *path = argv[2];
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		tool_err("can't open file (%s): %m", path);
		return 1;
	}
	if (tool_g.json)
		jw_start_array();
	char *line = NULL, *buf = NULL;
	size_t cap = 0, len = 0;
	unsigned lineno = 0, done = 0;
	int status = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = 0;
		bool more = got > 0 && line[got - 1] == '\\';
		if (more)
			line[--got] = 0;
		char *nb = realloc(buf, len + (size_t)got + 2);
		if (!nb) {
			tool_err("out of memory");
			status = 1;
			break;
		}
		buf = nb;
		memcpy(buf + len, line, (size_t)got + 1);
		len += (size_t)got;
		if (more)
			continue;
		char *words[BATCH_MAX_WORDS + 2];
		int n = split_line(buf, words, BATCH_MAX_WORDS, lineno);
		len = 0;
		if (n < 0) {
			status = 1;
			break;
		}
		if (n == 0)
			continue;
		words[n] = NULL;
		const struct command *c = find_command(words[0]);
		if (c && (!c->noun || c->fn == cmd_batch)) {
			tool_err("batch line %u: '%s' cannot run in a batch", lineno, c->name);
			c = NULL;
		}
		int wn = c ? strip_global_options(n, words, 1) : -1;
		if (wn < 0) {
			status = 1;
			break;
		}
		if (tool_g.json) {
			jw_start_object();
			jw_key("command");
			jw_start_array();
			for (int i = 0; i < wn; i++)
				jw_string(words[i]);
			jw_end_array();
			jw_key("output");
		}
		status = c->fn(wn, words);
		if (tool_g.json) {
			if (jw_awaits_value())
				jw_null(); /* a command that prints nothing: "output": null */
			jw_end_object();
		}
		if (status) {
			tool_err("%s line %u: command failed", path, lineno);
			break;
		}
		done++;
	}
	if (tool_g.json)
		jw_end_array();
	else if (!status)
		printf("processed %u commands\n", done);
	free(line);
	free(buf);
	if (f != stdin)
		fclose(f);
	return status;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bee COMMAND [ARGS...]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'bee COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	tool_g.engine = BEE_ENGINE_JIT; /* as the kernel: programs are JIT-compiled */
	while (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
		int used = global_option(argc, argv, 1);
		if (used <= 0) {
			if (used == 0)
				tool_err("unknown option '%s'", argv[1]);
			return 2;
		}
		memmove(&argv[1], &argv[1 + used], (size_t)(argc - 1 - used + 1) * sizeof(*argv));
		argc -= used;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	const struct command *found = find_command(argv[1]);
	if (!found) {
		usage(stderr);
		return 2;
	}
	if (!found->noun)
		return found->fn(argc - 1, argv + 1);
	/* Global options among the noun's words (not after "--"). */
	int out = strip_global_options(argc, argv, 2);
	if (out < 0)
		return 2;
	int status = found->fn(out - 1, argv + 1);
	tool_done();
	if (fflush(stdout) != 0) {
		tool_err("standard output: write error");
		status = 1;
	}
	return status;
}
