#!/bin/sh
# Runs each built fuzz target for SECONDS (default 30) on a copy of its seed
# corpus and prints total executions and final corpus size. Builds nothing:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DDAGRAD_FUZZ=ON
#   ninja -C build-fuzz fuzz_npy fuzz_npz fuzz_csv fuzz_h5
# Usage: fuzz/smoke.sh [SECONDS] [BUILD_DIR]   (BUILD_DIR defaults to build-fuzz)
# Crashing inputs are kept in BUILD_DIR/fuzz-crashes/<target>/.
# NOTE: fuzz_h5 runs with -fork=1 -ignore_crashes=1 because libhdf5 1.10.8
# itself segfaults on some corrupt files that carry a valid signature (see
# fuzz/libhdf5_crashers/); its crash count is printed, not treated as failure.
set -eu
seconds=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${2:-$here/../build-fuzz}" && pwd)
bin=$build/fuzz
[ -d "$bin" ] || bin=$build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in ${DAGRAD_FUZZ_TARGETS:-npy npz csv h5}; do
  exe=$bin/fuzz_$target
  if [ ! -x "$exe" ]; then echo "fuzz_$target: not built in $bin"; status=1; continue; fi
  crashes=$build/fuzz-crashes/$target
  mkdir -p "$work/$target" "$crashes"
  cp "$here/corpus/$target/"* "$work/$target/" 2>/dev/null || true
  extra=""
  [ "$target" = h5 ] && extra="-fork=1 -ignore_crashes=1 -detect_leaks=0"
  # shellcheck disable=SC2086
  if ! "$exe" $extra -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work/$target" >"$work/$target.log" 2>&1 && [ -z "$extra" ]; then
    status=1
    echo "fuzz_$target: FAILED (inputs in $crashes)"; grep -E "ERROR|SUMMARY|#[0-9]+ 0x" "$work/$target.log" | head -20
  fi
  if [ -n "$extra" ]; then
    execs=$(grep -o '^#[0-9]*' "$work/$target.log" | tail -1 | tr -d '#')
    echo "fuzz_$target: oom/timeout/crash inside libhdf5: $(grep -o 'crash: [0-9/]*' "$work/$target.log" | tail -1 | cut -d' ' -f2)"
  else
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log")
  fi
  echo "fuzz_$target: ${execs:-0} executions in ${seconds}s, corpus $(ls "$work/$target" | wc -l) files"
done
exit $status
