#!/bin/sh
# test_tool_cli.sh - the bpftool-shaped `bee` nouns end to end, across
# invocations, on a private pin directory.
#
#   tests/unit/test_tool_cli.sh BEE_BINARY OBJECTS_DIR
#
# A realistic session: load the counter object and pin it, show it, dump
# its xlated code (map[id:N]), run it with data_in, see the counts with
# map dump, then in new processes see the same ids and counts; create and
# edit a map; load the printk object and read its line from trace-pipe
# (with a timeout); and error cases, which must give a one-line error and
# exit 1 or 2, never crash.  Exits 77 (SKIP) when the clang-built objects
# are absent.
set -u
bee=$1
objs=$2
if [ ! -f "$objs/obj_counter.bpf.o" ] || [ ! -f "$objs/obj_printk.bpf.o" ]; then
	echo "SKIP: no clang-built test objects in $objs"
	exit 77
fi
. "$(dirname "$0")/cli_lib.sh"
BEE_PIN_DIR=$tmp/pins
export BEE_PIN_DIR

# ok NAME ARGS...: bee ARGS must succeed; output in $tmp/NAME.out
ok() {
	name=$1
	shift
	"$bee" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	[ $rc -eq 0 ] || fail "$name: bee $* exited $rc: $(cat "$tmp/$name.err")"
}

# err NAME ARGS...: bee ARGS must fail with status 1 or 2 and a one-line error
err() {
	name=$1
	shift
	"$bee" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
		fail "$name: bee $* exited $rc (expected 1 or 2)"
	fi
	one_error "$name"
}

head -c 64 /dev/zero >"$tmp/pkt64"
head -c 20 /dev/zero >"$tmp/pkt20"

# ---- load and look ----
ok load prog load "$objs/obj_counter.bpf.o" /sys/fs/bpf/counter
ok show prog show
has show '^1: socket_filter  name count_len  tag [0-9a-f]{16}  gpl$'
has show '^	loaded_at [0-9T:+-]+  uid [0-9]+$'
has show '^	xlated 192B  (jited [0-9]+B|not jited)  memlock [0-9]+B  map_ids 1$'
ok mshow map show
has mshow '^1: hash  name counts  flags 0x0$'
has mshow '^	key 4B  value 8B  max_entries 64  memlock [0-9]+B$'
ok xlated prog dump xlated pinned counter
has xlated '^   6: \(18\) r1 = map\[id:1\]$'
has xlated '^   8: \(85\) call bpf_map_lookup_elem#1$'
has xlated '^  23: \(95\) exit$'
ok opcodes prog dump xlated id 1 opcodes
# source lines from line_info (the program's BTF), as bpftool prints them
has xlated '^; __u64 one = 1, \*v = bpf_map_lookup_elem\(&counts, &k\);$'
has xlated '^; if \(v\) \{$'
ok xlinum prog dump xlated pinned counter linum
has xlinum '^; __u64 one = 1, \*v = bpf_map_lookup_elem\(&counts, &k\); \[file:[^ ]*obj_counter\.bpf\.c line_num:15 line_col:[0-9]+\]$'
ok jxlinum --json prog dump xlated pinned counter linum
has jxlinum '\{"src":"if \(v\) \{","file":"[^"]*obj_counter\.bpf\.c","line_num":17,"line_col":[0-9]+,"disasm":"'
ok jxsrc --json prog dump xlated pinned counter
has jxsrc '\{"src":"if \(v\) \{","disasm":"'
# dump jited: the same source lines among the native code (where there is a
# JIT and Capstone)
if "$bee" --engine jit prog dump jited pinned counter linum >"$tmp/jsrc.out" 2>"$tmp/jsrc.err" &&
	grep -q '^ *[0-9a-f]*:	' "$tmp/jsrc.out"; then
	has jsrc '^; if \(v\) \{ \[file:[^ ]*obj_counter\.bpf\.c line_num:17 line_col:[0-9]+\]$'
fi
has opcodes '^       18 11 00 00 01 00 00 00  00 00 00 00 00 00 00 00$'
ok jshow --json prog show id 1
has jshow '^\{"id":1,"type":"socket_filter","name":"count_len","tag":"[0-9a-f]{16}","gpl_compatible":true,.*"bytes_xlated":192,.*"map_ids":\[1\]\}$'

# ---- run: three packets of 64 bytes (len 50), one of 20 (len 6) ----
ok run1 prog run pinned counter data_in "$tmp/pkt64"
has run1 '^Return value: 1, duration: [0-9]+ns$'
ok run2 prog run name count_len data_in "$tmp/pkt64" repeat 2
has run2 '^Return value: 3, duration \(average\): [0-9]+ns$'
ok run3 prog run id 1 data_in "$tmp/pkt20" data_out "$tmp/out"
cmp -s "$tmp/pkt20" "$tmp/out" || fail "data_out differs from data_in"
ok jrun -j prog run id 1 data_in "$tmp/pkt20"
has jrun '^\{"retval":2,"duration":[0-9]+\}$'
ok dump map dump id 1
has dump '^key: 32 00 00 00  value: 03 00 00 00 00 00 00 00$'
has dump '^key: 06 00 00 00  value: 02 00 00 00 00 00 00 00$'
has dump '^Found 2 elements$'

# ---- a new process sees the same objects, ids and counts ----
ok show2 prog show
has show2 '^1: socket_filter  name count_len'
ok look map lookup id 1 key 0x32 0 0 0
has look '^key: 32 00 00 00  value: 03 00 00 00 00 00 00 00$'
ok run4 prog run pinned /sys/fs/bpf/counter data_in "$tmp/pkt64"
has run4 '^Return value: 4, duration'
ok dump2 -j map dump pinned .bee/maps/m1
has dump2 '"key":\["0x32","0x00","0x00","0x00"\],"value":\["0x04",'

# ---- map create and edit ----
ok create map create /sys/fs/bpf/m type hash key 4 value 8 entries 16 name mymap
ok upd map update pinned m key 1 0 0 0 value 0x2a 0 0 0 0 0 0 0
ok upd2 map update name mymap key hex 02 00 00 00 value hex 07 00 00 00 00 00 00 00 noexist
ok mlook map lookup name mymap key 1 0 0 0
has mlook '^key: 01 00 00 00  value: 2a 00 00 00 00 00 00 00$'
ok next map getnext pinned m
has next '^key: None$'
ok del map delete pinned m key 2 0 0 0
ok mdump map dump pinned m
has mdump '^Found 1 element$'
ok gone map lookup pinned m key 2 0 0 0
has gone '^Not found$'
ok qcreate map create q type queue key 0 value 4 entries 4 name myq
ok push map push pinned q value 5 0 0 0
ok push2 map enqueue pinned q value 6 0 0 0
ok peek map peek pinned q
has peek '^value: 05 00 00 00$'
ok pop map pop pinned q
has pop '^value: 05 00 00 00$'
ok freeze map freeze pinned m
err frozen map update pinned m key 3 0 0 0 value 0 0 0 0 0 0 0 0

# ---- pin, loadall, btf, link ----
ok pin prog pin id 1 /sys/fs/bpf/dir/again
ok pinned prog show pinned dir/again
has pinned '^1: socket_filter'
ok once prog show
[ "$(grep -c 'name count_len' "$tmp/once.out")" -eq 1 ] || fail "a program pinned twice came back twice"
ok oncem map show
[ "$(grep -c 'name counts' "$tmp/oncem.out")" -eq 1 ] || fail "a map came back twice"
ok loadall prog loadall "$objs/obj_counter.bpf.o" all pinmaps maps
ok shall prog show name count_len
has shall '^[0-9]+: socket_filter  name count_len'
[ -f "$BEE_PIN_DIR/maps/counts" ] || fail "pinmaps did not pin maps/counts"
ok btf btf dump file "$objs/obj_counter.bpf.o"
has btf "^\[[0-9]+\] FUNC 'count_len'"
ok btfc btf dump file "$objs/obj_counter.bpf.o" format c
has btfc 'count_len|__u32|unsigned int'
ok links link show
err ldetach link detach id 4000000
grep -q 'get link by id (4000000)' "$tmp/ldetach.err" || fail "link detach of a missing id: $(cat "$tmp/ldetach.err")"
err ldetachp link detach pinned dir/again
grep -q 'not a link' "$tmp/ldetachp.err" || fail "link detach of a program: $(cat "$tmp/ldetachp.err")"

# ---- the trace pipe across processes ----
ok hload prog load "$objs/obj_printk.bpf.o" hello
ok hx prog dump xlated pinned hello
has hx '^   1: \(18\) r1 = map\[id:[0-9]+\]\[0\]\+0$'
ok hrun prog run pinned hello data_in "$tmp/pkt64"
ok trace trace-pipe --timeout 1
has trace 'bpf_trace_printk: hello from bee 50$'
ok trace2 trace-pipe --timeout 0.2
[ -s "$tmp/trace2.out" ] && fail "trace-pipe showed a consumed line again"

# ---- errors ----
err e_missing prog load "$tmp/nothing.o" x
err e_badid prog show id 99
err e_badid2 map dump id 12345
err e_keysize map lookup id 1 key 1 0 0
err e_noprog prog dump xlated pinned nothing
err e_notprog prog show pinned .bee/maps/m1
err e_badnum prog show id abc
err e_cmd prog frobnicate
err e_noun map
err e_type map create x type nosuch key 4 value 4 entries 1 name x
err e_exists map create m type hash key 4 value 8 entries 16 name again
err e_junk map lookup id 1 key 1 0 0 0 bogus
err e_btf btf dump file "$tmp/pkt64"
err e_run prog run id 1 data_in "$tmp/nothing"

# ---- help ----
ok phelp prog help
has phelp '^Usage: bee \[OPTIONS\] prog'
ok mhelp map help
has mhelp 'map create FILE type TYPE'

if [ $failures -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "tool cli: all checks passed"
