/*
 * run.c - `bee run`: run one program and print r0, for people and for
 * scripts and other test suites.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "bee/vm.h"
#include "bee_tool.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"Usage: bee run [OPTIONS] FILE|-\n"
		"       bee run [OPTIONS] --program HEX\n"
		"\n"
		"Run an eBPF program once and print r0 in hex. The program gets the input\n"
		"memory in r1 and its length in r2, and a 512-byte stack per frame.\n"
		"Programs not proven safe by the verifier run in checked mode: every memory\n"
		"access is bounds-checked and a bad one stops the program with an error\n"
		"naming the instruction.\n"
		"\n"
		"Program format (default: assembly text in either syntax):\n"
		"  --asm              assembly text\n"
		"  --raw              raw bytecode, 8-byte little-endian instructions\n"
		"  --hex              bytecode as hex text\n"
		"  --program HEX      bytecode given inline as hex\n"
		"Input memory:\n"
		"  --mem FILE         contents of FILE\n"
		"  --mem-hex HEX      bytes given as hex (\"01 02 ff\" or \"0102ff\")\n"
		"  --mem-readonly     the program may not write its input memory\n"
		"Execution:\n"
		"  --engine NAME      execution engine: interp (default) or jit (x86-64)\n"
		"  --blind            JIT: blind the program's constants in the native code\n"
		"  --max-insns N      stop after N instructions (default: no limit)\n"
		"  --stats            also print the number of instructions executed\n"
		"  --no-helpers       do not provide bee's built-in helpers\n");
}

static int parse_engine(const char *s, enum bee_engine *out)
{
	if (!strcmp(s, "interp") || !strcmp(s, "interpreter")) {
		*out = BEE_ENGINE_INTERP;
		return 0;
	}
	if (!strcmp(s, "jit")) {
		*out = BEE_ENGINE_JIT;
		return 0;
	}
	tool_err("unknown engine '%s' (available: interp, jit)", s);
	return -1;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"asm", no_argument, NULL, 'a'},
		{"raw", no_argument, NULL, 'r'},
		{"hex", no_argument, NULL, 'x'},
		{"program", required_argument, NULL, 'p'},
		{"mem", required_argument, NULL, 'm'},
		{"mem-hex", required_argument, NULL, 'M'},
		{"mem-readonly", no_argument, NULL, 'R'},
		{"engine", required_argument, NULL, 'e'},
		{"max-insns", required_argument, NULL, 'n'},
		{"stats", no_argument, NULL, 's'},
		{"no-helpers", no_argument, NULL, 'H'},
		{"blind", no_argument, NULL, 'B'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *format = "asm", *program_hex = NULL, *mem_file = NULL, *mem_hex = NULL;
	bool mem_readonly = false, stats = false, helpers = true, blind = false;
	enum bee_engine engine = BEE_ENGINE_INTERP;
	uint64_t max_insns = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': format = "asm"; break;
		case 'r': format = "raw"; break;
		case 'x': format = "hex"; break;
		case 'p': program_hex = optarg; break;
		case 'm': mem_file = optarg; break;
		case 'M': mem_hex = optarg; break;
		case 'R': mem_readonly = true; break;
		case 'e':
			if (parse_engine(optarg, &engine))
				return 2;
			break;
		case 'n': {
			char *end;
			errno = 0;
			max_insns = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg) {
				tool_err("--max-insns: '%s' is not a number", optarg);
				return 2;
			}
			break;
		}
		case 's': stats = true; break;
		case 'H': helpers = false; break;
		case 'B': blind = true; break;
		case 'h': run_usage(stdout); return 0;
		default: run_usage(stderr); return 2;
		}
	}
	int nfiles = argc - optind;
	if ((program_hex && nfiles != 0) || (!program_hex && nfiles != 1)) {
		tool_err("give exactly one program: a FILE, '-' or --program HEX");
		run_usage(stderr);
		return 2;
	}
	if (mem_file && mem_hex) {
		tool_err("give at most one of --mem and --mem-hex");
		return 2;
	}

	struct bpf_insn *insns = NULL;
	size_t n = 0;
	struct bee_error err;
	bee_error_clear(&err);
	char msg[512];
	if (program_hex) {
		if (bee_insns_from_hex(program_hex, &insns, &n, &err) < 0) {
			tool_err("--program: %s", bee_error_format(&err, NULL, msg, sizeof(msg)));
			return 1;
		}
	} else if (tool_load_program(argv[optind], format, &insns, &n)) {
		return 1;
	}

	uint8_t *mem = NULL;
	size_t mem_len = 0;
	if (mem_file) {
		char *buf;
		if (tool_read_file(mem_file, &buf, &mem_len)) {
			free(insns);
			return 1;
		}
		mem = (uint8_t *)buf;
	} else if (mem_hex) {
		if (bee_bytes_from_hex(mem_hex, &mem, &mem_len, &err) < 0) {
			tool_err("--mem-hex: %s", bee_error_format(&err, NULL, msg, sizeof(msg)));
			free(insns);
			return 1;
		}
	}

	struct bee_helper_table *table = bee_helper_table_new();
	if (!table || (helpers && bee_helper_table_add_builtins(table))) {
		tool_err("out of memory");
		bee_helper_table_free(table);
		free(insns);
		free(mem);
		return 1;
	}
	const char *name = program_hex ? "--program" : argv[optind];
	struct bee_code_opts copts = {.sz = sizeof(copts), .helpers = table, .jit_blind = blind};
	struct bee_code *code = bee_code_load(insns, n, &copts, &err);
	int status = 0;
	if (!code) {
		tool_err("%s", bee_error_format(&err, name, msg, sizeof(msg)));
		status = 1;
		goto out;
	}
	struct bee_run_opts ropts = {
		.sz = sizeof(ropts),
		.engine = engine,
		.flags = BEE_RUN_CHECKED, /* no verifier yet: everything runs checked */
		.mem = mem,
		.mem_len = mem_len,
		.mem_readonly = mem_readonly,
		.max_insns = max_insns,
	};
	struct bee_run_result res;
	int ret = bee_code_run(code, &ropts, &res);
	if (ret < 0) {
		tool_err("%s", bee_error_format(&res.err, name, msg, sizeof(msg)));
		status = 1;
		goto out;
	}
	printf("0x%" PRIx64 "\n", res.r0);
	if (stats)
		printf("insns %" PRIu64 "\n", res.insns);
out:
	bee_code_free(code);
	bee_helper_table_free(table);
	free(insns);
	free(mem);
	return status;
}
