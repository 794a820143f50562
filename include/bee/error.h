/*
 * bee/error.h - how bee reports what went wrong.
 *
 * Every function that can fail returns a negative errno value (as the
 * kernel and libbpf do) and, when given a struct bee_error, fills it with
 * a message that says where and why.
 */
#ifndef BEE_ERROR_H
#define BEE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

struct bee_error {
	int code;      /* negative errno; 0 when there is no error */
	long insn;     /* instruction index the error is about, or -1 */
	int line;      /* assembly source line (1-based), or 0 */
	int col;       /* assembly source column (1-based), or 0 */
	char msg[256]; /* human-readable reason, without the position */
};

/* Clear an error record (code 0, no position, empty message). */
void bee_error_clear(struct bee_error *err);

/*
 * Record an error: sets code, position and a printf-style message, and
 * returns code so callers can write `return bee_error_set(err, ...)`.
 * err may be NULL, in which case only code is returned.
 */
int bee_error_set(struct bee_error *err, int code, long insn, int line, int col,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Format an error the way the command-line tools print it:
 * "file:line:col: message", "insn N: message" or just the message.
 * Returns buf.
 */
const char *bee_error_format(const struct bee_error *err, const char *file, char *buf,
			     unsigned long len);

/* strerror for bee's negative errno returns. */
const char *bee_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
