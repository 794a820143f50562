/*
 * log.c - the verifier's log, in the kernel's words.
 *
 * The log is a caller buffer filled at log_level >= 1 with the refusal's
 * message (the texts are the Linux verifier's, so that the corpus labels
 * match: "R0 !read_ok", "invalid access to map value, value_size=8 off=8
 * size=8", ...) and the closing statistics line "processed N insns (limit
 * 1000000) max_states_per_insn ... total_states ... peak_states ...
 * mark_read 0".  The per-instruction state dump of level 2 is not written
 * yet.  The buffer is always NUL-terminated; what does not fit is dropped.
 */
#include <stdio.h>
#include <string.h>

#include "verify/vpriv.h"

static void vlog_va(struct venv *env, const char *fmt, va_list ap)
{
	if (!env->log || env->log_size == 0 || env->log_len + 1 >= env->log_size)
		return;
	int w = vsnprintf(env->log + env->log_len, env->log_size - env->log_len, fmt, ap);
	if (w < 0)
		return;
	env->log_len += (size_t)w;
	if (env->log_len >= env->log_size)
		env->log_len = env->log_size - 1;
}

void vlog(struct venv *env, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_va(env, fmt, ap);
	va_end(ap);
}

int verr(struct venv *env, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(env->msg, sizeof(env->msg), fmt, ap);
	va_end(ap);
	vlog(env, "%s\n", env->msg);
	return err;
}

const char *vtype_name(enum vtype t)
{
	switch (t) {
	case NOT_INIT: return "?";
	case SCALAR: return "scalar";
	case PTR_TO_CTX: return "ctx";
	case PTR_TO_STACK: return "fp";
	case CONST_PTR_TO_MAP: return "map_ptr";
	case PTR_TO_MAP_VALUE: return "map_value";
	case PTR_TO_MAP_VALUE_OR_NULL: return "map_value_or_null";
	case PTR_TO_PACKET: return "pkt";
	case PTR_TO_PACKET_END: return "pkt_end";
	case PTR_TO_PACKET_META: return "pkt_meta";
	case PTR_TO_MEM: return "mem";
	case PTR_TO_MEM_OR_NULL: return "mem_or_null";
	}
	return "?";
}

void vlog_stats(struct venv *env)
{
	vlog(env,
	     "processed %llu insns (limit %u) max_states_per_insn %u total_states %u "
	     "peak_states %u mark_read 0\n",
	     (unsigned long long)env->processed, BEE_VERIFY_INSN_LIMIT, env->max_states_per_insn,
	     env->total_states, env->peak_states);
}
