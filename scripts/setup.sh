#!/bin/sh
# setup.sh - install what bee needs to build (on Debian) and build it.
#
#   scripts/setup.sh [BUILD_DIR] [extra cmake arguments...]
#
# Installs only what is missing: a C compiler, CMake, make, the kernel's
# UAPI headers (<linux/bpf.h>), clang (it compiles the BPF C test objects),
# and pkg-config with Capstone's headers (the
# bee tool disassembles JIT output with it; libbee itself needs only libc).
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
if [ -n "$need" ]; then
	echo "setup: installing$need"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need
fi

cmake -S . -B "$build" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
