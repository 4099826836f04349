#!/usr/bin/env bash
# The main job: installs what is needed, builds, lists the Vulkan devices
# and runs every registered kernel once on the default device, checked byte
# for byte against its CPU reference.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
p2c2r="$root/build/cli/p2c2r"

echo "== Vulkan devices"
"$p2c2r" devices
echo
echo "== every kernel, one unit each, against its CPU reference"
status=0
for kernel in $("$p2c2r" kernels | awk '/^[^ ]/ {print $1}'); do
  echo "-- $kernel"
  "$p2c2r" run "$kernel" --seed 1 || status=1
done
exit $status
