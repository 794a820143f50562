# cli_lib.sh - what the CLI test scripts share, sourced after they have
# set $bee: a temporary directory $tmp (removed at exit), failures counted
# by fail, and the checks on a command's saved output.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# has NAME PATTERN [EXT]: $tmp/NAME.out (or .EXT) has a line matching the
# grep -E PATTERN
has() {
	f=$tmp/$1.${3:-out}
	grep -Eq -- "$2" "$f" || {
		fail "$1: no line matching '$2' in:"
		sed 's/^/    /' "$f"
	}
}

# one_error NAME: $tmp/NAME.err is one line, "bee: ..." (how the tool reports
# an error)
one_error() {
	lines=$(grep -c . "$tmp/$1.err")
	[ "$lines" -eq 1 ] || fail "$1: expected one error line, got $lines: $(cat "$tmp/$1.err")"
	grep -q '^bee: ' "$tmp/$1.err" || fail "$1: error not 'bee: ...'"
}
