#!/bin/sh
# Configures, builds and runs the consumer against a dagrad installed under
# PREFIX (cmake --install <build> --prefix PREFIX). Exits non-zero when any
# step fails or the program's J is wrong.
#   examples/consumer/build_and_run.sh /tmp/dagrad-prefix
set -eu
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d "${TMPDIR:-/tmp}/dagrad-consumer.XXXXXX")
trap 'rm -rf "$build"' EXIT
generator=""
if command -v ninja >/dev/null 2>&1; then generator="-G Ninja"; fi
# shellcheck disable=SC2086
cmake -S "$here" -B "$build" $generator -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$build"
"$build/consumer"
