#!/bin/sh
# test.sh - build bee and run the whole test suite twice: a normal build
# and an AddressSanitizer + UndefinedBehaviorSanitizer build.
#
# Tests that need the real kernel's bpf() (root, a BPF kernel) print SKIP
# with the reason where it is missing.
set -eu
cd "$(dirname "$0")/.."

scripts/setup.sh build -DBEE_WERROR=ON
ctest --test-dir build --output-on-failure -j 2

# The sanitizer build uses clang where it is installed, so that both
# compilers build bee warning-free with -Werror.
cc=gcc
command -v clang >/dev/null 2>&1 && cc=clang
scripts/setup.sh build-asan -DCMAKE_C_COMPILER=$cc -DBEE_SANITIZE=ON -DBEE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -j 2

# ThreadSanitizer: the multi-threaded tests only (programs on several
# threads against host map operations).  No suppressions: a report is a bug.
tsan_tests=""
for t in test_epoch test_core_threads test_map_hash test_map_misc; do
	[ -f "tests/unit/$t.c" ] && tsan_tests="$tsan_tests $t"
done
cmake -S . -B build-tsan -DCMAKE_C_COMPILER=$cc -DBEE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
# shellcheck disable=SC2086
cmake --build build-tsan -j "$(nproc)" --target $tsan_tests
for t in $tsan_tests; do
	echo "tsan: $t"
	TSAN_OPTIONS=halt_on_error=1 "build-tsan/tests/$t"
done
