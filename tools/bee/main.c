/*
 * main.c - the bee command: a table of commands, prefix-matched as
 * bpftool matches its nouns ("bee dis" runs "disasm").
 *
 * bee's own commands (run, asm, disasm, verify) parse their options themselves.
 * The bpftool-shaped nouns (prog, map, btf, link, trace-pipe) share
 * global options, taken before the noun or anywhere among its words as
 * bpftool takes them: -j/--json, -p/--pretty, --pin-dir DIR, --engine
 * {jit|interp}, -d/--debug.  Their instance is freed (pinned maps saved)
 * when the command returns.
 */
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
	const struct command *found = NULL;
	size_t len = strlen(argv[1]);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strncmp(commands[i].name, argv[1], len) != 0)
			continue;
		if (strlen(commands[i].name) == len) { /* exact match wins */
			found = &commands[i];
			break;
		}
		if (found) {
			tool_err("'%s' is ambiguous: %s or %s", argv[1], found->name, commands[i].name);
			return 2;
		}
		found = &commands[i];
	}
	if (!found) {
		tool_err("unknown command '%s'", argv[1]);
		usage(stderr);
		return 2;
	}
	if (!found->noun)
		return found->fn(argc - 1, argv + 1);
	/* Global options among the noun's words (not after "--"). */
	int out = 2;
	for (int i = 2; i < argc;) {
		int used = !strcmp(argv[i], "--") ? 0 : global_option(argc, argv, i);
		if (used < 0)
			return 2;
		if (used == 0)
			argv[out++] = argv[i++];
		else
			i += used;
	}
	argv[out] = NULL;
	int status = found->fn(out - 1, argv + 1);
	tool_done();
	if (fflush(stdout) != 0) {
		tool_err("standard output: write error");
		status = 1;
	}
	return status;
}
