#!/bin/sh
# demo.sh - bee's main job, end to end: build bee, assemble an example,
# show it disassembled (bpftool's syntax and the mnemonic one), run it,
# and run the embedding example (maps and programs through bee_bpf).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh build
bee=build/bee
set -x
$bee asm examples/fib.s -o build/fib.bin
$bee disasm --opcodes build/fib.bin
$bee disasm --syntax mnemonic build/fib.bin
$bee run --raw build/fib.bin --mem-hex 5a000000
$bee run examples/checksum.s --mem-hex "45 00 00 1c 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
# Embedding bee: a program counts events into a hash map through the
# kernel-shaped bpf() interface; the host reads the counts back.
build/examples/count_events
