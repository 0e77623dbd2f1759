#!/usr/bin/env bash
# Builds dagrad and runs every test:
#   1. the Release build and the whole suite through ctest (Catch2, the
#      browser and peer scripts, the Python module's pytest and notebooks);
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
#      in its own build directory;
#   3. a short libFuzzer smoke run of each file reader (clang);
#   4. an example project that consumes the installed package.
# Usage: scripts/run-tests.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

[[ "${1:-}" == "--quick" ]] && exit 0

echo "== sanitizer build (ASan + UBSan) and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDAGRAD_SANITIZE=ON \
  -DDAGRAD_BUILD_EXAMPLES=OFF
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

if [[ -f fuzz/CMakeLists.txt ]]; then
  echo "== fuzz smoke run"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDAGRAD_FUZZ=ON -DDAGRAD_BUILD_TESTS=OFF -DDAGRAD_BUILD_EXAMPLES=OFF
  cmake --build build-fuzz -j "$jobs" --target fuzz_targets
  bash fuzz/smoke.sh "${DAGRAD_FUZZ_SECONDS:-20}" build-fuzz
fi

if [[ -f examples/consumer/build_and_run.sh ]]; then
  echo "== installed package consumer"
  prefix=$(mktemp -d)
  cmake --install build --prefix "$prefix"
  bash examples/consumer/build_and_run.sh "$prefix"
fi
echo "== all tests passed"
