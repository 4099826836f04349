#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test twice: in the normal
# build and in a Debug build with AddressSanitizer and UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Tests that start servers and peers use 127.0.0.1 only; keep the pipeline
# cache of test runs out of the user's home.
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$(mktemp -d)}

echo "== release build and tests"
"$root/scripts/build.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j2 --timeout 600

echo "== ASan/UBSan build and tests"
"$root/scripts/build.sh" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DP2C2R_SANITIZE=ON
ctest --test-dir "$root/build-asan" --output-on-failure -j2 --timeout 900
