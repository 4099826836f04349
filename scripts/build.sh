#!/usr/bin/env bash
# Configures and builds P2C2R into a build directory.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Warnings are errors here, as in CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
cmake -S "$root" -B "$build" -G Ninja -DP2C2R_WERROR=ON "$@" >/dev/null
ninja -C "$build"
