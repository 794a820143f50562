#!/bin/sh
# test_verify_cli.sh - `bee verify` end to end: verdicts, logs, selection,
# JSON and exit statuses (0 all accepted, 1 one rejected, 2 usage or an
# error before the verifier).
#
#   tests/unit/test_verify_cli.sh BEE_BINARY OBJECTS_DIR
#
# Assembly programs (written here) against maps given with --map, then
# clang-built objects from OBJECTS_DIR: program types the user-space
# target cannot attach (xdp, tc, kprobe) verify as their types.  Only
# verdicts the verifier gives today and the kernel gives too are checked.
# Exits 77 (SKIP) after the assembly checks when the objects are absent.
set -u
bee=$1
objs=$2
. "$(dirname "$0")/cli_lib.sh"

# st WANT NAME ARGS...: `bee verify ARGS` must exit WANT; output in
# $tmp/NAME.out and $tmp/NAME.err
st() {
	want=$1
	name=$2
	shift 2
	"$bee" verify "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	[ $rc -eq "$want" ] ||
		fail "$name: bee verify $* exited $rc (expected $want): $(cat "$tmp/$name.out" "$tmp/$name.err")"
}

# usage NAME ARGS...: exit 2 with one "bee: " line and nothing on stdout
usage() {
	name=$1
	shift
	st 2 "$name" "$@"
	one_error "$name"
	[ -s "$tmp/$name.out" ] && fail "$name: printed on stdout: $(cat "$tmp/$name.out")"
}

# ---- assembly ----
cat >"$tmp/checked.s" <<'EOF'
*(u64 *)(r10 -8) = 0
r2 = r10
r2 += -8
r1 = map[idx:0] ll
call bpf_map_lookup_elem
if r0 == 0 goto out
r0 = *(u64 *)(r0 +0)
out:
r0 = 0
exit
EOF
# the same lookup without the null check
cat >"$tmp/unchecked.s" <<'EOF'
*(u64 *)(r10 -8) = 0
r2 = r10
r2 += -8
r1 = map[idx:0] ll
call bpf_map_lookup_elem
r0 = *(u64 *)(r0 +0)
exit
EOF
printf 'r0 = 2\nexit\n' >"$tmp/ret2.s"

st 0 acc "$tmp/checked.s" --map hash:8:16:4
has acc '^checked\.s \(socket_filter\): accepted$'
st 1 rej "$tmp/unchecked.s" --map hash:8:16:4
has rej '^unchecked\.s \(socket_filter\): rejected$'
has rej "^  R0 invalid mem access 'map_value_or_null'$"
has rej '^  processed [0-9]+ insns \(limit 1000000\) max_states_per_insn [0-9]+ total_states [0-9]+ peak_states [0-9]+'
st 1 jrej --json "$tmp/unchecked.s" --map hash:8:16:4
has jrej '^\[\{"name":"unchecked\.s","section":"","type":"socket_filter","verdict":"rejected","log":"0: R1=ctx\(\) R10=fp0\\n0: \(7a\) \*\(u64 \*\)\(r10 -8\) = 0\\n.*R0 invalid mem access '"'"'map_value_or_null'"'"'\\nprocessed [0-9]+ insns'
st 0 jacc -j "$tmp/checked.s" --map hash:8:16:4
has jacc '^\[\{"name":"checked\.s","section":"","type":"socket_filter","verdict":"accepted","log":"[^"]*"\}\]$'
# the types' rules: an XDP program may return 2 (XDP_PASS), a kprobe any value
st 0 xdp2 "$tmp/ret2.s" --type xdp
has xdp2 '^ret2\.s \(xdp\): accepted$'
st 0 kp2 "$tmp/ret2.s" --type kprobe
has kp2 '^ret2\.s \(kprobe\): accepted$'
# a map index past the maps given
st 1 noidx "$tmp/checked.s"
has noidx '^checked\.s \(socket_filter\): rejected$'
# level 1: the failing path, instruction by instruction, as the kernel
has rej '^  5: \(85\) call bpf_map_lookup_elem#1$'
# level 2: the state after each instruction; --explain: why and the fix
st 1 lvl2 "$tmp/unchecked.s" --map hash:8:16:4 --log-level 2 --explain
has lvl2 "invalid mem access 'map_value_or_null'"
has lvl2 '; R0=map_value_or_null\(id=1,ks=8,vs=16\) R10=fp0 fp-8=00000000$'
has lvl2 '^  refused at insn 6: r0 = \*\(u64 \*\)\(r0 \+0\)$'
has lvl2 '^    values: R0=map_value_or_null\(id=1,ks=8,vs=16\)$'
has lvl2 '^    fix: check the pointer against NULL first'

# ---- bad usage ----
usage u_none
usage u_two "$tmp/checked.s" "$tmp/ret2.s"
usage u_opt "$tmp/checked.s" --frobnicate
usage u_type "$tmp/checked.s" --type nosuch
usage u_map "$tmp/checked.s" --map hash:8:16
usage u_maptype "$tmp/checked.s" --map nosuch:8:16:4
usage u_level "$tmp/checked.s" --log-level 0
usage u_prog "$tmp/checked.s" --program x
usage u_missing "$tmp/nothing.s"
printf 'r0 = \n' >"$tmp/syntax.s"
usage u_syntax "$tmp/syntax.s"
printf '\177ELF not really' >"$tmp/junk.o"
usage u_elf "$tmp/junk.o"
st 0 help --help
has help '^Usage: bee verify'

if [ ! -f "$objs/c_sec_xdp.bpf.o" ] || [ ! -f "$objs/c_sec_kprobe.bpf.o" ]; then
	[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
	echo "SKIP: no clang-built test objects in $objs (assembly checks passed)"
	exit 77
fi

# ---- objects: every program in turn, each as its section's type ----
st 0 xdp "$objs/c_sec_xdp.bpf.o"
has xdp '^xdp_filter \(xdp, xdp\): accepted$'
has xdp '^xdp_sum4 \(xdp, xdp\): accepted$'
st 0 kprobe "$objs/c_sec_kprobe.bpf.o"
has kprobe '^kp_args \(kprobe/do_unlinkat, kprobe\): accepted$'
has kprobe '^krp_rc \(kretprobe/do_unlinkat, kprobe\): accepted$'
st 0 tc "$objs/c_sec_tc.bpf.o"
has tc '^tc_mark \(tc, sched_cls\): accepted$'
# against the maps the object declares (a hash map lookup, null-checked)
st 0 counter "$objs/obj_counter.bpf.o"
has counter '^count_len \(socket, socket_filter\): accepted$'

# ---- selection ----
st 0 sel "$objs/c_sec_kprobe.bpf.o" --program krp_rc
has sel '^krp_rc '
grep -q kp_args "$tmp/sel.out" && fail "sel: --program krp_rc verified kp_args too"
st 0 sec "$objs/c_sec_kprobe.bpf.o" --section kretprobe/do_unlinkat
has sec '^krp_rc '
grep -q kp_args "$tmp/sec.out" && fail "sec: --section verified kp_args too"
usage u_noprog "$objs/c_sec_xdp.bpf.o" --program nosuch
usage u_nosec "$objs/c_sec_xdp.bpf.o" --section nosuch
usage u_both "$objs/c_sec_xdp.bpf.o" --program xdp_filter --section xdp
usage u_objmap "$objs/c_sec_xdp.bpf.o" --map hash:4:4:1

# ---- another type's rules: __sk_buff programs verified as XDP ----
st 1 astype "$objs/c_sec_socket.bpf.o" --type xdp
# sock_len returns a packet pointer read from xdp_md's first field: root may
# (the kernel accepts it too); sock_cb reads past the end of xdp_md.
has astype '^sock_len \(socket, xdp\): accepted$'
has astype '^sock_cb \(socket, xdp\): rejected$'
has astype 'invalid bpf_context access'

# ---- JSON: one record per program ----
st 0 jxdp --json "$objs/c_sec_xdp.bpf.o"
has jxdp '^\[\{"name":"xdp_filter","section":"xdp","type":"xdp","verdict":"accepted","log":"[^"]*"\},\{"name":"xdp_sum4",'
st 0 pxdp -p "$objs/c_sec_xdp.bpf.o" --program xdp_sum4
has pxdp '^        "verdict": "accepted",$'

# ---- errors before the verifier: exit 2, the loader's message ----
st 2 badsec "$objs/c_bad_section.bpf.o"
has badsec "section 'bogus/thing' names no known program type" err
[ -s "$tmp/badsec.out" ] && fail "badsec: printed a verdict: $(cat "$tmp/badsec.out")"

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "verify cli: all checks passed"
