/*
 * error.c - filling and printing struct bee_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bee/error.h"

void bee_error_clear(struct bee_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->insn = -1;
	err->line = 0;
	err->col = 0;
	err->msg[0] = '\0';
}

int bee_error_set(struct bee_error *err, int code, long insn, int line, int col,
		  const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->insn = insn;
	err->line = line;
	err->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *bee_error_format(const struct bee_error *err, const char *file, char *buf,
			     unsigned long len)
{
	if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", file ? file : "<input>", err->line,
			 err->col > 0 ? err->col : 1, err->msg);
	else if (err->insn >= 0)
		snprintf(buf, len, "%s%sinsn %ld: %s", file ? file : "", file ? ": " : "", err->insn,
			 err->msg);
	else
		snprintf(buf, len, "%s%s%s", file ? file : "", file ? ": " : "", err->msg);
	return buf;
}

const char *bee_strerror(int code)
{
	return strerror(code < 0 ? -code : code);
}
