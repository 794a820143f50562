#!/bin/sh
# test_jited_cli.sh - `bee disasm --jited` end to end: the listing of
# examples/fib.s and of a hex program that uses lddw and a helper.
#
#   tests/unit/test_jited_cli.sh BEE_BINARY SOURCE_DIR
#
# Checks that every eBPF instruction `bee disasm` prints appears, in order,
# with at least one native instruction under it, that the JIT's own
# routines are listed and hold a ret, and that the output options work.
# Exits 77 (SKIP) with the reason where there is no JIT or bee was built
# without Capstone.
set -u
bee=$1
src=$2
. "$(dirname "$0")/cli_lib.sh"

# A program with a two-slot lddw, a helper call, a taken-or-not jump and
# an add: b7/15/0f/85/18/95.
cat >"$tmp/prog.hex" <<'EOF'
18 00 00 00 88 77 66 55  00 00 00 00 44 33 22 11
85 00 00 00 05 00 00 00
b7 01 00 00 01 00 00 00
15 01 01 00 00 00 00 00
0f 10 00 00 00 00 00 00
95 00 00 00 00 00 00 00
EOF

# run NAME ARGS...: bee disasm ARGS into $tmp/NAME.out; skips the whole test
# where the JIT or Capstone is missing.
run() {
	name=$1
	shift
	if "$bee" disasm "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		return 0
	fi
	if grep -q -e "no JIT available" -e "built without Capstone" "$tmp/$name.err"; then
		echo "SKIP: $(cat "$tmp/$name.err")"
		exit 77
	fi
	fail "bee disasm $*: exit status not 0"
	cat "$tmp/$name.err"
	return 1
}

# check_listing NAME FORMAT FILE: the jited listing of FILE against the
# plain disassembly of the same program.
check_listing() {
	name=$1
	format=$2
	file=$3
	run "$name" --jited "$format" "$file" || return
	"$bee" disasm "$format" "$file" >"$tmp/$name.plain" || {
		fail "$name: plain disasm failed"
		return
	}
	# eBPF lines: "%4u: text" (at most 3 spaces in front); native lines:
	# 6 spaces, a hex offset, ":  " and the instruction.
	grep -E '^ {0,3}[0-9]+: ' "$tmp/$name.out" >"$tmp/$name.bpf"
	if ! cmp -s "$tmp/$name.plain" "$tmp/$name.bpf"; then
		fail "$name: the eBPF lines differ from bee disasm's"
		diff "$tmp/$name.plain" "$tmp/$name.bpf"
	fi
	awk -v name="$name" '
		function close_insn() {
			if (cur != "" && count == 0) {
				print "FAIL: " name ": no native code under \"" cur "\""
				bad = 1
			}
		}
		# native lines first: their offsets may be all digits
		/^      +[0-9a-f]+:  / {
			count++
			if (routines && $0 ~ /:  ret( |$)/)
				rets++
			next
		}
		/^ *[0-9]+: / { close_insn(); cur = $0; count = 0; routines = 0; next }
		/^; (before|after) the program: / { close_insn(); cur = ""; routines = 1; headers++; next }
		{ print "FAIL: " name ": unexpected line \"" $0 "\""; bad = 1 }
		END {
			close_insn()
			if (headers == 0) { print "FAIL: " name ": no JIT routines listed"; bad = 1 }
			if (rets == 0) { print "FAIL: " name ": no ret in the JIT routines"; bad = 1 }
			exit bad
		}' "$tmp/$name.out" || failures=$((failures + 1))
}

check_listing fib --asm "$src/examples/fib.s"
check_listing hex --hex "$tmp/prog.hex"

# The helper call loads the helper's address: it is named.
if grep -q 'movabs' "$tmp/hex.out" && ! grep -q 'bpf_ktime_get_ns#5' "$tmp/hex.out"; then
	fail "hex: the helper's address is not annotated"
fi
# A jump to another instruction names it.
grep -q '; insn [0-9]' "$tmp/fib.out" || fail "fib: no jump names its target instruction"

# Options: the fast image, AT&T syntax, native bytes, blinding.
native() { grep -E '^      +[0-9a-f]+:  ' "$tmp/$1.out"; }
if run fast --jited --fast --asm "$src/examples/fib.s"; then
	if ! grep -q '^   0: r0 = 0$' "$tmp/fast.out" || [ -z "$(native fast)" ]; then
		fail "--fast: no listing"
	fi
fi
if run att --jited --att --asm "$src/examples/fib.s"; then
	native att | grep -q '%r' || fail "--att: no AT&T operands"
fi
if run opcodes --jited --opcodes --asm "$src/examples/fib.s"; then
	if ! native opcodes | grep -qE ':  ([0-9a-f]{2} )+ +[a-z]' ||
		! grep -q '^   0: (b7) r0 = 0$' "$tmp/opcodes.out"; then
		fail "--opcodes: no bytes"
	fi
fi
# The lddw constant is in the native code as it is, unless blinded.
native hex | grep -q '0x1122334455667788' || fail "hex: the lddw constant is not in the code"
if run blind --jited --blind --hex "$tmp/prog.hex"; then
	! native blind | grep -q '0x1122334455667788' || fail "--blind: the lddw constant shows"
fi

# Usage errors.
"$bee" disasm --fast --asm "$src/examples/fib.s" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--fast without --jited is not a usage error"
"$bee" disasm --jited --labels --asm "$src/examples/fib.s" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--labels with --jited is not a usage error"

if [ "$failures" -ne 0 ]; then
	echo "$failures failed"
	exit 1
fi
echo "bee disasm --jited: all checks passed"
