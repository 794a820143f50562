/*
 * printk.c - bpf_trace_printk (6), bpf_trace_vprintk (177) and
 * bpf_snprintf (165): the kernel's BPF format strings, one engine for all
 * three as in the kernel.
 *
 * The kernel formats in two steps, and bee keeps both because their
 * quirks are visible to programs:
 *
 *  1. bpf_bprintf_prepare checks the format and packs the arguments into
 *     a 512-byte "bin_args" buffer: integers as 4 or 8 bytes aligned to 4,
 *     %c as one byte, and everything that dereferences memory (%s, %pks,
 *     %pus, %pI4/%pi4/%pI6/%pi6, %pB) as a string made right there.  The
 *     rules (checked on Linux 6.18, see tests/kernel/diff_printk.c):
 *       - the format is NUL-terminated within fmt_size, and holds no ASCII
 *         control character other than \t \n \v \f \r (bytes >= 0x80 are
 *         allowed; 0x7f is not);
 *       - "%%" is a percent sign; any other '%' takes an argument, and a
 *         format with more conversions than arguments is -EINVAL (three
 *         for trace_printk, data_len / 8 for the others);
 *       - flags "0+- " (no '#'), a decimal width, no precision, no '*';
 *       - %d %i %u %x %X with no, 'l' or 'll' size; %c; %s; no %o, no 'h';
 *       - %p plain (followed by NUL, space or punctuation), %pK %px %ps
 *         %pS %pB %pks %pus %pi4 %pI4 %pi6 %pI6; %s, %pks and %pus must be
 *         followed by NUL, space or punctuation;
 *       - space in bin_args runs out with -ENOSPC (strings are cut to what
 *         is left).
 *  2. bstr_printf formats from bin_args: integers with the kernel's
 *     number() (which matches C for the flags allowed), %c and %s padded
 *     with spaces, pointers through pointer(), and the strings made in
 *     step 1 copied as they are (no width) - and after any %p conversion
 *     every alphanumeric character that follows is swallowed ("%pI4abc"
 *     prints no "abc").  The kernel's own quirk is kept too: once the
 *     output is full, a pre-made string is neither counted nor stepped
 *     over in bin_args.
 *
 * Where bee differs, because user space is not the kernel:
 *  - %s and %pus read the process's memory (every bee address is a user
 *    address) through bee_probe_copy_str, so a bad pointer prints an empty
 *    string as the kernel's failed copy does; %pks refuses, like
 *    bpf_probe_read_kernel, and prints an empty string;
 *  - %p and %pK print the address itself, as the kernel does when booted
 *    with no_hash_pointers (a hashed id would only hide bee's own memory
 *    from its own user); NULL and error pointers print the same in both;
 *  - %ps, %pS and %pB name the symbol with dladdr(3): "name",
 *    "name+0xoff/0xsize", with " [libfoo.so]" for a symbol outside the
 *    main executable as the kernel adds " [module]"; an address without a
 *    symbol prints as "0x..." as in the kernel.
 *
 * trace_printk/vprintk format into a 1024-byte buffer (MAX_BPRINTF_BUF),
 * emit the text up to its first NUL through bee_trace_emit, and return the
 * length the whole output would have had, as the kernel does.  snprintf
 * returns that length plus one (for the NUL).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "platform/platform.h"

#define FIELD_WIDTH_MAX ((1 << 23) - 1)

/* ---- the kernel's ctype (lib/ctype.c, Latin-1 in the top half) ---- */

static bool k_isspace(unsigned char c)
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0;
}

static bool k_ispunct(unsigned char c)
{
	return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
	       (c >= 123 && c <= 126) || (c >= 161 && c <= 191) || c == 215 || c == 247;
}

static bool k_isalnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= 192 && c != 215 && c != 247);
}

static bool k_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* After "%p<x>": may x end a plain %p (NUL, space, punctuation)? */
static bool ends_conversion(unsigned char c)
{
	return c == 0 || k_isspace(c) || k_ispunct(c);
}

/* ---- step 1: bpf_bprintf_prepare ---- */

struct bin_args {
	/* The kernel's buffer, with room for reads that a misaligned
	 * bstr_printf makes past its end (they see zeros here). */
	unsigned char buf[BEE_BPRINTF_BIN_ARGS + 16];
	size_t used;
};

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Put a pre-made string into bin_args, cut to the room left. */
static void bin_put_str(struct bin_args *b, const char *s, size_t len)
{
	size_t room = BEE_BPRINTF_BIN_ARGS - b->used;
	if (room == 0)
		return;
	if (len + 1 > room)
		len = room - 1;
	memcpy(b->buf + b->used, s, len);
	b->buf[b->used + len] = '\0';
	b->used += len + 1;
}

static size_t main_exe_base(void)
{
	Dl_info info;
	unsigned long phdr = getauxval(AT_PHDR);
	if (phdr && dladdr((void *)phdr, &info))
		return (size_t)info.dli_fbase;
	return 0;
}

/*
 * The kernel's __sprint_symbol with dladdr for kallsyms: mode 's' is the
 * name only, 'S' adds "+off/size", 'B' looks up address - 1 (a return
 * address) and prints the offset of the address itself.
 */
static size_t symbol_string(char *out, size_t size, uintptr_t addr, char mode)
{
	uintptr_t lookup = mode == 'B' ? addr - 1 : addr;
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	int n = -1;
	if (lookup && dladdr1((void *)lookup, &info, (void **)&sym, RTLD_DL_SYMENT) &&
	    info.dli_sname && info.dli_saddr && sym) {
		uintptr_t off = lookup - (uintptr_t)info.dli_saddr;
		uintptr_t symsize = sym->st_size;
		/* dladdr only knows exported symbols: an address past the end
		 * of the nearest one belongs to something it cannot name. */
		if (symsize == 0 || off < symsize) {
			if (mode == 'B')
				off++;
			if (mode == 's')
				n = snprintf(out, size, "%s", info.dli_sname);
			else
				n = snprintf(out, size, "%s+0x%lx/0x%lx", info.dli_sname,
					     (unsigned long)off, (unsigned long)symsize);
			if (n >= 0 && (size_t)n < size && info.dli_fname &&
			    (size_t)info.dli_fbase != main_exe_base()) {
				const char *base = strrchr(info.dli_fname, '/');
				base = base ? base + 1 : info.dli_fname;
				int m = snprintf(out + n, size - (size_t)n, " [%s]", base);
				if (m > 0)
					n += m;
			}
		}
	}
	if (n < 0)
		n = snprintf(out, size, "0x%lx", (unsigned long)addr);
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static size_t ip_string(char *out, size_t size, const unsigned char *ip, char kind, char ver)
{
	size_t n = 0;
	int w;
	if (ver == '4') {
		for (int i = 0; i < 4 && n < size; i++) {
			w = snprintf(out + n, size - n, kind == 'i' ? "%03u%s" : "%u%s", ip[i],
				     i < 3 ? "." : "");
			if (w > 0)
				n += (size_t)w;
		}
	} else {
		for (int i = 0; i < 8 && n < size; i++) {
			w = snprintf(out + n, size - n, "%02x%02x%s", ip[2 * i], ip[2 * i + 1],
				     kind == 'I' && i < 7 ? ":" : "");
			if (w > 0)
				n += (size_t)w;
		}
	}
	return n < size ? n : size - 1;
}

/*
 * Check fmt (fmt_len bytes before its NUL) and fill bin with the
 * arguments, exactly as bpf_bprintf_prepare.  Returns 0 or -EINVAL /
 * -ENOSPC.
 */
static int prepare(const char *fmt, size_t fmt_len, const uint64_t *raw, unsigned nargs,
		   struct bin_args *bin)
{
	unsigned num_spec = 0;
	memset(bin, 0, sizeof(*bin));
	for (size_t i = 0; i < fmt_len; i++) {
		unsigned char c = (unsigned char)fmt[i];
		if (c < 0x80 && (c < 0x20 || c == 0x7f) && !k_isspace(c))
			return -EINVAL;
		if (c != '%')
			continue;
		if (fmt[i + 1] == '%') {
			i++;
			continue;
		}
		if (num_spec >= nargs)
			return -EINVAL;
		/* fmt is NUL-terminated, so fmt[i + 1] is readable. */
		i++;
		while (fmt[i] == '0' || fmt[i] == '+' || fmt[i] == '-' || fmt[i] == ' ')
			i++;
		if (fmt[i] >= '1' && fmt[i] <= '9') {
			i++;
			while (k_isdigit((unsigned char)fmt[i]))
				i++;
		}

		uint64_t arg = raw[num_spec];
		size_t argsize;
		char strtype = 0;
		if (fmt[i] == 'p') {
			unsigned char n1 = (unsigned char)fmt[i + 1];
			argsize = 8;
			if (ends_conversion(n1))
				goto store_value;
			if ((n1 == 'k' || n1 == 'u') && fmt[i + 2] == 's') {
				strtype = (char)n1;
				i += 2;
				goto copy_string;
			}
			if (n1 == 'K' || n1 == 'x' || n1 == 's' || n1 == 'S') {
				i++;
				goto store_value;
			}
			if (n1 == 'B') {
				char sym[256];
				size_t len = symbol_string(sym, sizeof(sym), (uintptr_t)arg, 'B');
				bin_put_str(bin, sym, len);
				i++;
				num_spec++;
				continue;
			}
			/* only %pi4, %pI4, %pi6 and %pI6 remain */
			if ((n1 != 'i' && n1 != 'I') || (fmt[i + 2] != '4' && fmt[i + 2] != '6'))
				return -EINVAL;
			i += 2;
			size_t iplen = fmt[i] == '4' ? 4 : 16;
			if (BEE_BPRINTF_BIN_ARGS - bin->used < iplen)
				return -ENOSPC;
			unsigned char ip[16];
			if (bee_probe_copy(ip, (uintptr_t)arg, iplen))
				memset(ip, 0, sizeof(ip));
			char text[48];
			size_t len = ip_string(text, sizeof(text), ip, fmt[i - 1], fmt[i]);
			bin_put_str(bin, text, len);
			num_spec++;
			continue;
		} else if (fmt[i] == 's') {
			strtype = 's';
copy_string:
			if (!ends_conversion((unsigned char)fmt[i + 1]))
				return -EINVAL;
			if (bin->used == BEE_BPRINTF_BIN_ARGS)
				return -ENOSPC;
			char *dst = (char *)bin->buf + bin->used;
			long got = -EFAULT;
			/* 'k': there is no kernel memory to read (probe_read.c) */
			if (strtype != 'k')
				got = bee_probe_copy_str(dst, (uintptr_t)arg,
							 (long)(BEE_BPRINTF_BIN_ARGS - bin->used));
			if (got <= 0) {
				dst[0] = '\0';
				got = 1;
			}
			bin->used += (size_t)got;
			num_spec++;
			continue;
		} else if (fmt[i] == 'c') {
			if (bin->used == BEE_BPRINTF_BIN_ARGS)
				return -ENOSPC;
			bin->buf[bin->used++] = (unsigned char)arg;
			num_spec++;
			continue;
		}

		argsize = 4;
		if (fmt[i] == 'l') {
			argsize = 8;
			i++;
		}
		if (fmt[i] == 'l')
			i++;
		if (fmt[i] != 'i' && fmt[i] != 'd' && fmt[i] != 'u' && fmt[i] != 'x' &&
		    fmt[i] != 'X')
			return -EINVAL;
store_value:
		bin->used = align4(bin->used);
		if (BEE_BPRINTF_BIN_ARGS - bin->used < argsize)
			return -ENOSPC;
		if (argsize == 8)
			memcpy(bin->buf + bin->used, &arg, 8);
		else {
			uint32_t v = (uint32_t)arg;
			memcpy(bin->buf + bin->used, &v, 4);
		}
		bin->used += argsize;
		num_spec++;
	}
	return 0;
}

/* ---- step 2: bstr_printf ---- */

struct out {
	char *buf;
	size_t size; /* bytes of buf that may be written (the kernel's end - buf) */
	size_t pos;  /* what the output would have reached */
};

static void put(struct out *o, char c)
{
	if (o->pos < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void pad(struct out *o, char c, long n)
{
	if (n <= 0)
		return;
	for (long k = 0; k < n && o->pos + (size_t)k < o->size; k++)
		o->buf[o->pos + (size_t)k] = c;
	o->pos += (size_t)n;
}

struct spec {
	bool left, plus, space, zero;
	long width; /* -1: none */
};

/* The kernel's number() for the flags BPF formats allow (no precision,
 * no '#'): a sign for signed conversions, then padding. */
static void number(struct out *o, uint64_t num, unsigned base, bool is_signed, bool upper,
		   struct spec sp)
{
	char tmp[24];
	int nd = 0;
	char sign = 0;
	long width = sp.width;
	bool zero = sp.zero && !sp.left;
	if (is_signed) {
		if ((int64_t)num < 0) {
			sign = '-';
			num = 0 - num;
			width--;
		} else if (sp.plus) {
			sign = '+';
			width--;
		} else if (sp.space) {
			sign = ' ';
			width--;
		}
	}
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		tmp[nd++] = digits[num % base];
		num /= base;
	} while (num);
	width -= nd;
	if (!zero && !sp.left) {
		pad(o, ' ', width);
		width = 0;
	}
	if (sign)
		put(o, sign);
	if (!sp.left) {
		pad(o, zero ? '0' : ' ', width);
		width = 0;
	}
	while (nd > 0)
		put(o, tmp[--nd]);
	pad(o, ' ', width); /* left-justified: what is left of the width */
}

static void string_out(struct out *o, const char *s, size_t len, struct spec sp)
{
	long room = sp.width - (long)len;
	if (!sp.left)
		pad(o, ' ', room);
	for (size_t k = 0; k < len; k++)
		put(o, s[k]);
	if (sp.left)
		pad(o, ' ', room);
}

/* pointer_string: hex, 16 digits zero-padded unless a width was given */
static void pointer_out(struct out *o, uint64_t ptr, struct spec sp)
{
	if (sp.width == -1) {
		sp.width = 16;
		sp.zero = true;
	}
	number(o, ptr, 16, false, false, sp);
}

/* bstr_printf's get_arg: align (to 4 at most), read, step over. */
static uint64_t get_arg(const struct bin_args *b, size_t *at, size_t size)
{
	if (size > 1)
		*at = align4(*at);
	uint64_t v = 0;
	if (*at + size <= sizeof(b->buf))
		memcpy(&v, b->buf + *at, size);
	*at += size;
	return v;
}

/* A string in bin_args (never past its end: the buffer has zero slack). */
static const char *get_str(const struct bin_args *b, size_t *at, size_t *len)
{
	if (*at >= BEE_BPRINTF_BIN_ARGS) {
		*len = 0;
		return "";
	}
	const char *s = (const char *)b->buf + *at;
	*len = strnlen(s, sizeof(b->buf) - *at);
	return s;
}

static long parse_width(const char **p)
{
	/* skip_atoi into an int, then the FIELD_WIDTH_MAX clamp; a width
	 * that wrapped negative pads nothing. */
	uint32_t w = 0;
	while (k_isdigit((unsigned char)**p))
		w = w * 10 + (uint32_t)(*(*p)++ - '0');
	int32_t sw = (int32_t)w;
	if (sw > FIELD_WIDTH_MAX)
		sw = FIELD_WIDTH_MAX;
	if (sw < -FIELD_WIDTH_MAX)
		sw = -FIELD_WIDTH_MAX;
	return sw;
}

static size_t format(char *buf, size_t size, const char *fmt, const struct bin_args *bin)
{
	struct out o = {buf, size, 0};
	size_t at = 0;
	const char *p = fmt;
	while (*p) {
		if (*p != '%') {
			put(&o, *p++);
			continue;
		}
		p++;
		if (*p == '%') {
			put(&o, '%');
			p++;
			continue;
		}
		struct spec sp = {.width = -1};
		for (;; p++) {
			if (*p == '-')
				sp.left = true;
			else if (*p == '+')
				sp.plus = true;
			else if (*p == ' ')
				sp.space = true;
			else if (*p == '0')
				sp.zero = true;
			else
				break;
		}
		if (k_isdigit((unsigned char)*p))
			sp.width = parse_width(&p);

		if (*p == 'c') {
			p++;
			char ch = (char)get_arg(bin, &at, 1);
			long w = sp.width;
			if (!sp.left)
				while (--w > 0)
					put(&o, ' ');
			put(&o, ch);
			while (--w > 0)
				put(&o, ' ');
			continue;
		}
		if (*p == 's') {
			p++;
			size_t len;
			const char *s = get_str(bin, &at, &len);
			at += len + 1;
			string_out(&o, s, len, sp);
			continue;
		}
		if (*p == 'p') {
			p++;
			unsigned char t = (unsigned char)*p;
			if (t == 's' || t == 'S') {
				char sym[256];
				size_t len = symbol_string(sym, sizeof(sym),
							   (uintptr_t)get_arg(bin, &at, 8), (char)t);
				string_out(&o, sym, len, sp);
			} else if (t == 'x' || t == 'K' || !k_isalnum(t)) {
				pointer_out(&o, get_arg(bin, &at, 8), sp);
			} else if (o.pos < o.size) {
				/* made in step 1: copied as is; the kernel neither
				 * counts nor steps over it once the output is full */
				size_t len;
				const char *s = get_str(bin, &at, &len);
				for (size_t k = 0; k < len; k++)
					put(&o, s[k]);
				at += len + 1;
			}
			while (k_isalnum((unsigned char)*p))
				p++;
			continue;
		}
		bool is_long = false;
		if (*p == 'l') {
			is_long = true;
			p++;
			if (*p == 'l')
				p++;
		}
		char t = *p++;
		uint64_t v = is_long ? get_arg(bin, &at, 8) : get_arg(bin, &at, 4);
		bool is_signed = t == 'd' || t == 'i';
		if (!is_long)
			v = is_signed ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
		number(&o, v, t == 'x' || t == 'X' ? 16 : 10, is_signed, t == 'X', sp);
	}
	if (size > 0) {
		if (o.pos < size)
			buf[o.pos] = '\0';
		else
			buf[size - 1] = '\0';
	}
	return o.pos;
}

int bee_bprintf(char *out, size_t out_size, const char *fmt, size_t fmt_size,
		const uint64_t *args, unsigned nargs)
{
	const char *nul = fmt ? memchr(fmt, '\0', fmt_size) : NULL;
	if (!nul || nargs > BEE_BPRINTF_MAX_ARGS)
		return -EINVAL;
	struct bin_args bin;
	int err = prepare(fmt, (size_t)(nul - fmt), args, nargs, &bin);
	if (err)
		return err;
	size_t n = format(out, out_size, fmt, &bin);
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* ---- the helpers ---- */

/* Format and emit, as bpf_trace_printk and bpf_trace_vprintk both do. */
static uint64_t trace_common(const char *fmt, uint32_t fmt_size, const uint64_t *args,
			     unsigned nargs)
{
	if (fmt_size == 0)
		return (uint64_t)-EINVAL; /* strnchr over no bytes finds no NUL */
	if (!fmt || !bee_run_mem_ok(fmt, fmt_size, false))
		return (uint64_t)-EFAULT;
	char buf[BEE_BPRINTF_BUF];
	int ret = bee_bprintf(buf, sizeof(buf), fmt, fmt_size, args, nargs);
	if (ret < 0)
		return (uint64_t)(int64_t)ret;
	bee_trace_emit(buf, strlen(buf));
	return (uint64_t)ret;
}

uint64_t bee_helper_trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a1, uint64_t a2,
				 uint64_t a3)
{
	/* MAX_TRACE_PRINTK_VARARGS: always three, used or not */
	const uint64_t args[3] = {a1, a2, a3};
	return trace_common((const char *)(uintptr_t)fmt, (uint32_t)fmt_size, args, 3);
}

/* The data array of vprintk and snprintf: a multiple of 8 bytes, at most
 * twelve arguments, readable by the program.  Returns the count or an
 * error. */
static int get_data(uint64_t data, uint32_t data_len, uint64_t *args)
{
	if (data_len % 8 || data_len > BEE_BPRINTF_MAX_ARGS * 8 || (data_len && !data))
		return -EINVAL;
	const void *p = (const void *)(uintptr_t)data;
	if (data_len && !bee_run_mem_ok(p, data_len, false))
		return -EFAULT;
	if (data_len)
		memcpy(args, p, data_len);
	return (int)(data_len / 8);
}

uint64_t bee_helper_trace_vprintk(uint64_t fmt, uint64_t fmt_size, uint64_t data,
				  uint64_t data_len, uint64_t r5)
{
	uint64_t args[BEE_BPRINTF_MAX_ARGS];
	int n = get_data(data, (uint32_t)data_len, args);
	if (n < 0)
		return (uint64_t)(int64_t)n;
	return trace_common((const char *)(uintptr_t)fmt, (uint32_t)fmt_size, args, (unsigned)n);
}

/* bpf_snprintf's fmt is a read-only string the verifier proved
 * NUL-terminated; bee only asks that it be NUL-terminated in memory the
 * program may read.  Returns its size including the NUL, or an error. */
static long const_str_size(const char *fmt)
{
	if (!fmt)
		return -EFAULT;
	for (size_t n = 0;; n++) {
		if (!bee_run_mem_ok(fmt + n, 1, false))
			return n ? -EINVAL : -EFAULT;
		if (fmt[n] == '\0')
			return (long)n + 1;
	}
}

uint64_t bee_helper_snprintf(uint64_t str, uint64_t str_size, uint64_t fmt, uint64_t data,
			     uint64_t data_len)
{
	uint64_t args[BEE_BPRINTF_MAX_ARGS];
	int n = get_data(data, (uint32_t)data_len, args);
	if (n < 0)
		return (uint64_t)(int64_t)n;
	char *out = (char *)(uintptr_t)str;
	uint32_t size = (uint32_t)str_size;
	if (size && (!out || !bee_run_mem_ok(out, size, true)))
		return (uint64_t)-EFAULT;
	const char *f = (const char *)(uintptr_t)fmt;
	long fsize = const_str_size(f);
	if (fsize < 0)
		return (uint64_t)(int64_t)fsize;
	/* bstr_printf refuses (prints nothing, returns 0) sizes over INT_MAX */
	if (size > INT_MAX) {
		char none;
		int ret = bee_bprintf(&none, 0, f, (size_t)fsize, args, (unsigned)n);
		return ret < 0 ? (uint64_t)(int64_t)ret : 1;
	}
	int ret = bee_bprintf(out, size, f, (size_t)fsize, args, (unsigned)n);
	if (ret < 0)
		return (uint64_t)(int64_t)ret;
	return (uint64_t)ret + 1;
}
