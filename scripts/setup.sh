#!/bin/sh
# setup.sh - install what bee needs to build (on Debian) and build it.
#
#   scripts/setup.sh [BUILD_DIR] [extra cmake arguments...]
#
# Installs only what is missing: a C compiler, CMake, make, the kernel's
# UAPI headers (<linux/bpf.h>), clang (it compiles the BPF C test objects),
# pkg-config with Capstone's headers (the bee tool disassembles JIT output
# with it; libbee itself needs only libc), libbpf's headers and bpftool
# (tests compare bee's loader with libbpf and its dumps with bpftool's).
# Runs apt-get as root, or through sudo.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift

need=""
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v make >/dev/null 2>&1 || need="$need make"
[ -f /usr/include/linux/bpf.h ] || need="$need linux-libc-dev"
# clang compiles the BPF C test objects (tests/objects) with -target bpf.
command -v clang >/dev/null 2>&1 || need="$need clang"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists capstone 2>/dev/null || need="$need libcapstone-dev"
# Wanted, not needed: libbpf's headers and bpftool, the references some
# tests compare bee with (kernel/diff_libbpf: the loader against libbpf;
# cli/btf_bpftool: BTF dumps against bpftool's).  Without them those tests
# print SKIP with the reason.
want=""
pkg-config --exists libbpf 2>/dev/null || want="$want libbpf-dev"
[ -x /usr/sbin/bpftool ] || command -v bpftool >/dev/null 2>&1 || want="$want bpftool"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if [ -n "$need$want" ]; then
	$sudo apt-get update -qq || true
fi
if [ -n "$need" ]; then
	echo "setup: installing$need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need
fi
if [ -n "$want" ]; then
	echo "setup: installing$want (optional: the tests that compare with them skip without)"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $want ||
		echo "setup: could not install$want; continuing without"
fi

cmake -S . -B "$build" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
