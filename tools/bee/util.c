/*
 * util.c - reading files and programs for the bee command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bee/insn.h"
#include "bee_tool.h"

void tool_err(const char *fmt, ...)
{
	va_list ap;
	fputs("bee: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tool_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		tool_err("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		goto nomem;
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap) {
			if (ferror(f)) {
				tool_err("%s: read error", path);
				free(buf);
				if (f != stdin)
					fclose(f);
				return -1;
			}
			break;
		}
		cap *= 2;
		char *grown = realloc(buf, cap + 1);
		if (!grown)
			goto nomem;
		buf = grown;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
nomem:
	free(buf);
	if (f != stdin)
		fclose(f);
	tool_err("%s: out of memory", path);
	return -1;
}

int tool_load_program(const char *path, const char *format, struct bpf_insn **insns, size_t *n)
{
	char *text;
	size_t len;
	if (tool_read_file(path, &text, &len))
		return -1;
	struct bee_error err;
	bee_error_clear(&err);
	int ret;
	if (!strcmp(format, "raw"))
		ret = bee_insns_from_bytes(text, len, insns, n, &err);
	else if (!strcmp(format, "hex"))
		ret = bee_insns_from_hex(text, insns, n, &err);
	else
		ret = bee_asm(text, insns, n, &err);
	free(text);
	if (ret < 0) {
		char msg[512];
		tool_err("%s", bee_error_format(&err, path, msg, sizeof(msg)));
		return -1;
	}
	return 0;
}
