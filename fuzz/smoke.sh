#!/usr/bin/env bash
# Runs each built fuzz target for SECONDS (default 30) on a copy of its seed
# corpus and prints total executions and final corpus size. Builds nothing:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DDAGRAD_FUZZ=ON
#   ninja -C build-fuzz fuzz_targets
# Usage: fuzz/smoke.sh [SECONDS] [BUILD_DIR]   (BUILD_DIR defaults to build-fuzz)
# Targets run side by side, as many at once as there are cores
# (DAGRAD_FUZZ_JOBS overrides); each one's report is printed whole when it ends.
# Crashing inputs are kept in BUILD_DIR/fuzz-crashes/<target>/.
# NOTE: fuzz_h5 runs with -fork=1 -ignore_crashes=1 because libhdf5 1.10.8
# itself segfaults on some corrupt files that carry a valid signature (see
# fuzz/libhdf5_crashers/README.md). Each saved input is then re-run and its
# stack read: a crash whose first libhdf5-or-dagrad frame is in libhdf5 is
# counted, not failed; any other crash (in our code) fails the run.
set -eu
seconds=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${2:-$here/../build-fuzz}" && pwd)
bin=$build/fuzz
[ -d "$bin" ] || bin=$build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# Prints "libhdf5" or "dagrad": who owns the first frame of the sanitizer's
# (or libFuzzer's) stack that lies in either. No such frame counts as ours.
# Prints "none" when the input does not crash when run on its own: in fork
# mode one child runs many inputs, and libhdf5 keeps global state between
# them, so a child can die on an input that is harmless by itself.
# NOTE: a sanitizer interceptor frame names the fuzz binary's path
# (".../fuzz/fuzz_h5+0x..."), so frames are matched by symbol or source file.
owner_of() {
  if "$1" -detect_leaks=0 -timeout=30 -rss_limit_mb=2048 "$2" >/dev/null 2>&1; then
    echo none; return
  fi
  "$1" -detect_leaks=0 -timeout=30 -rss_limit_mb=2048 "$2" 2>&1 | awk '
    /^ *#[0-9]+ 0x/ {
      if ($0 ~ /libhdf5/) { print "libhdf5"; found = 1; exit }
      if ($0 ~ /dagrad::|LLVMFuzzerTestOneInput|\/(io|graph)\/[a-z_]+\.[ch]pp:/) { print "dagrad"; found = 1; exit }
    }
    END { if (!found) print "dagrad" }'
}

# Re-runs every input fuzz_h5 saved; fails on any crash that is not libhdf5's.
triage_h5() {
  ours=0; theirs=0; alone=0
  for input in "$2"/crash-* "$2"/timeout-* "$2"/oom-*; do
    [ -f "$input" ] || continue
    case "$(owner_of "$1" "$input")" in
      libhdf5) theirs=$((theirs + 1)) ;;
      none) alone=$((alone + 1)); echo "fuzz_h5: does not crash when run on its own: $input" ;;
      *) ours=$((ours + 1)); echo "fuzz_h5: crash in dagrad code: $input" ;;
    esac
  done
  echo "fuzz_h5: saved crashing inputs: $theirs inside libhdf5, $ours in dagrad code, $alone not reproducible alone"
  [ "$ours" -eq 0 ]
}

# Fuzzes one target; its exit status says whether it failed.
fuzz_one() {
  target=$1; failed=0
  exe=$bin/fuzz_$target
  # fuzz_onnx exists only where libonnx does (DAGRAD_WITH_ONNX).
  if [ ! -x "$exe" ] && [ "$target" = onnx ] && ! grep -q "DAGRAD_WITH_ONNX:BOOL=ON" "$build/CMakeCache.txt" 2>/dev/null; then
    echo "fuzz_onnx: skipped (built without ONNX)"; return 0
  fi
  if [ ! -x "$exe" ]; then echo "fuzz_$target: not built in $bin"; return 1; fi
  crashes=$build/fuzz-crashes/$target
  mkdir -p "$work/$target" "$crashes"
  cp "$here/corpus/$target/"* "$work/$target/" 2>/dev/null || true
  extra=""
  [ "$target" = h5 ] && extra="-fork=1 -ignore_crashes=1 -detect_leaks=0"
  # shellcheck disable=SC2086
  if ! "$exe" $extra -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work/$target" >"$work/$target.log" 2>&1 && [ -z "$extra" ]; then
    failed=1
    echo "fuzz_$target: FAILED (inputs in $crashes)"; grep -E "ERROR|SUMMARY|#[0-9]+ 0x" "$work/$target.log" | head -20
  fi
  if [ -n "$extra" ]; then
    execs=$(grep -o '^#[0-9]*' "$work/$target.log" | tail -1 | tr -d '#')
    # The triage must recognise the known libhdf5 crasher, or it proves nothing.
    for known in "$here"/../tests/io/regressions/h5/crash-*; do
      [ -f "$known" ] || continue
      if [ "$(owner_of "$exe" "$known")" != libhdf5 ]; then
        echo "fuzz_h5: triage does not recognise the known libhdf5 crasher $known"; failed=1
      fi
    done
    triage_h5 "$exe" "$crashes" || failed=1
  else
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log")
  fi
  echo "fuzz_$target: ${execs:-0} executions in ${seconds}s, corpus $(ls "$work/$target" | wc -l) files"
  return $failed
}

jobs=${DAGRAD_FUZZ_JOBS:-$(nproc)}
declare -A pid_of=()
finish() {  # waits for the target, prints its report, records a failure
  wait "${pid_of[$1]}" || status=1
  cat "$work/$1.report"
  unset "pid_of[$1]"
}
for target in ${DAGRAD_FUZZ_TARGETS:-npy npz csv h5 graph_json model onnx}; do
  while [ "${#pid_of[@]}" -ge "$jobs" ]; do
    for running in "${!pid_of[@]}"; do
      kill -0 "${pid_of[$running]}" 2>/dev/null || finish "$running"
    done
    [ "${#pid_of[@]}" -ge "$jobs" ] && sleep 1
  done
  fuzz_one "$target" >"$work/$target.report" 2>&1 &
  pid_of[$target]=$!
done
for running in "${!pid_of[@]}"; do finish "$running"; done
exit $status
