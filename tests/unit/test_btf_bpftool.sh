#!/bin/sh
# test_btf_bpftool.sh - `bee btf dump file` against the installed bpftool,
# byte for byte, raw and as C.
#
#   tests/unit/test_btf_bpftool.sh BEE_BINARY OBJECTS_DIR [EXAMPLES_DIR]
#
# Inputs: /sys/kernel/btf/vmlinux (raw BTF) when readable, and every
# *.bpf.o in the objects and examples build directories.  Each is dumped
# by both tools in both formats; any difference fails, with the first
# differing lines shown.  The one difference bee keeps on purpose is
# dropped from its C before comparing: ` __attribute__((mode(byte)))` on
# a 1-byte enum (bpftool 7.1 prints none; without it the header gives the
# enum 4 bytes).  A file bpftool itself cannot dump is reported and not
# compared.  Exits 77 (SKIP) without bpftool ($BPFTOOL, else on PATH or
# in /usr/sbin) or without anything to compare.
set -u
bee=$1
objs=$2
examples=${3:-}

bpftool=${BPFTOOL:-}
if [ -z "$bpftool" ]; then
	bpftool=$(command -v bpftool 2>/dev/null) ||
		for p in /usr/sbin/bpftool /sbin/bpftool /usr/local/sbin/bpftool; do
			if [ -x "$p" ]; then
				bpftool=$p
				break
			fi
		done
fi
if [ -z "$bpftool" ] || ! "$bpftool" version >/dev/null 2>&1; then
	echo "SKIP: bpftool is not installed"
	exit 77
fi

files=
if [ -r /sys/kernel/btf/vmlinux ]; then
	files=/sys/kernel/btf/vmlinux
fi
for f in "$objs"/*.bpf.o ${examples:+"$examples"/*.bpf.o}; do
	[ -f "$f" ] && files="$files $f"
done
if [ -z "$files" ]; then
	echo "SKIP: no vmlinux BTF readable and no objects in $objs ${examples}"
	exit 77
fi

. "$(dirname "$0")/cli_lib.sh"

compared=0
for f in $files; do
	for format in raw c; do
		want=$tmp/want.$format
		got=$tmp/got.$format
		if ! "$bpftool" btf dump file "$f" format $format >"$want" 2>"$tmp/want.err"; then
			echo "note: $bpftool cannot dump $f ($format): $(head -1 "$tmp/want.err"); not compared"
			continue
		fi
		if ! "$bee" btf dump file "$f" format $format >"$got" 2>"$tmp/got.err"; then
			fail "$f ($format): bee exited non-zero: $(head -3 "$tmp/got.err")"
			continue
		fi
		if [ $format = c ]; then
			sed 's/ __attribute__((mode(byte)))//' "$got" >"$got.cmp"
			mv "$got.cmp" "$got"
		fi
		if ! cmp -s "$want" "$got"; then
			n=$(diff "$want" "$got" | grep -c '^[<>]')
			fail "$f ($format): $n lines differ from bpftool's (< bpftool, > bee):"
			diff "$want" "$got" | head -20 | sed 's/^/    /'
		fi
		compared=$((compared + 1))
	done
done

echo "$compared dumps compared with $bpftool ($("$bpftool" version | head -1))"
[ "$compared" -gt 0 ] || fail "bpftool dumped none of the inputs: nothing was compared"
if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all match"
