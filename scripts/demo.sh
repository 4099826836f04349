#!/usr/bin/env bash
# The main job: a local P2C2R network on this machine. Installs what is
# needed, builds, starts `p2c2r server` (embedded SQLite in a temp dir) and
# three `p2c2r peer` processes on the machine's Vulkan device, submits a game
# workload that uses every kernel family (NPC AI, physics, ray-traced tiles,
# video), waits for it with a progress bar, prints the validator's report and
# stops everything it started.
#
# Environment: FRAMES (default 2), TILES (default 4), PEERS (default 3),
# FAULTY=N makes the last N peers corrupt every output (a test-only flag) to
# show the validator catching and quarantining them, KEEP=1 keeps the temp
# dir (logs, database) for a look afterwards, OUTPUT=DIR is where the game's
# outputs go (default: a new directory under /tmp, printed; never removed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
p2c2r="$root/build/cli/p2c2r"
frames=${FRAMES:-2}
tiles=${TILES:-4}
peers=${PEERS:-3}
faulty=${FAULTY:-0}

work=$(mktemp -d -t p2c2r-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== Vulkan devices"
"$p2c2r" devices
echo

echo "== server"
"$p2c2r" server --data-dir "$work/server" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
pids+=($!)
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^listening on //p' "$work/server.log")
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }
pin=$(sed -n 's/^server key pin //p' "$work/server.log")
echo "serving $url (data in $work/server)"
echo

echo "== host benchmark (measured once with the real kernels; all $peers peers share this device)"
"$p2c2r" bench host --json >"$work/bench.json"
echo

echo "== $peers peers"
for i in $(seq "$peers"); do
  extra=()
  if (( i > peers - faulty )); then extra=(--test-corrupt-outputs); fi
  "$p2c2r" peer --server "$url" --pin "$pin" --state-dir "$work/peer$i" --name "peer-$i" \
    --benchmark-file "$work/bench.json" --poll-wait-ms 2000 "${extra[@]}" 2>"$work/peer$i.log" &
  pids+=($!)
done
export P2C2R_SERVER="$url" P2C2R_CA="$work/server/tls.crt"
P2C2R_TOKEN=$(cat "$work/server/admin.token")
export P2C2R_TOKEN
for _ in $(seq 300); do
  [[ $("$p2c2r" hosts --json 2>/dev/null | grep -c '"id"' || true) -ge "$peers" ]] && break
  sleep 0.2
done
"$p2c2r" hosts
echo

echo "== a game workload: $frames frame(s) of AI -> physics -> $tiles ray-traced tiles -> video"
status=0
"$p2c2r" submit --kind game --frames "$frames" --tiles "$tiles" --seed 7 --name demo-game --wait || status=$?
echo

echo "== validator report"
"$p2c2r" report summary || status=1
echo
"$p2c2r" report hosts || status=1
echo

# The first workload on this fresh server is workload 1.
echo "== the game's validated outputs (video frames and ray-traced tiles as PNG, worlds as CSV)"
output=${OUTPUT:-$(mktemp -d -t p2c2r-demo-output.XXXXXX)}
"$p2c2r" fetch 1 --out "$output" || status=1
exit $status
