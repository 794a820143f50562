/*
 * main.c - the bee command: a table of commands, prefix-matched as
 * bpftool matches its nouns ("bee dis" runs "disasm").
 */
#include <stdio.h>
#include <string.h>

#include "bee_tool.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", cmd_run, "run a program (assembly, raw or hex bytecode) and print r0"},
	{"asm", cmd_asm, "assemble text into bytecode"},
	{"disasm", cmd_disasm, "disassemble bytecode into text"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: bee COMMAND [ARGS...]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'bee COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
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
	return found->fn(argc - 1, argv + 1);
}
