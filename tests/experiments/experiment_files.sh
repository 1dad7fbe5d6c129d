#!/usr/bin/env bash
# Goal: every shipped experiment file still validates, and a field a fault
# kind does not read is refused (exit 2, naming it) instead of ignored: a
# typo must not silently turn a fault off or leave a node paused for good.
# Seconds: --dry-run only checks the file and prints the schedule.
#
#   experiment_files.sh REPO_ROOT
set -euo pipefail
repo=$1
runner=$repo/examples/experiments/run_experiment.mjs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "experiment_files: $*" >&2; exit 1; }

for file in "$repo"/examples/experiments/*.json; do
  [[ "$(basename "$file")" == package*.json ]] && continue
  node "$runner" "$file" --dry-run >"$tmp/out" 2>&1 ||
    fail "$(basename "$file") does not validate: $(cat "$tmp/out")"
done

refused() { # JSON EXPECTED-MESSAGE-PART
  printf '%s\n' "$1" >"$tmp/bad.json"
  local status=0
  node "$runner" "$tmp/bad.json" --dry-run >"$tmp/out" 2>&1 || status=$?
  [[ $status == 2 ]] || fail "exit $status (want 2) for $1: $(cat "$tmp/out")"
  grep -qF -- "$2" "$tmp/out" || fail "no '$2' for $1: $(cat "$tmp/out")"
}
refused '{"faults":[{"at":1,"kind":"kill_redis","node":2}]}' \
  '"node" does not apply to kill_redis'
refused '{"faults":[{"at":1,"kind":"pause_node","node":1,"ms":3000}]}' \
  '"ms" does not apply to pause_node'
refused '{"faults":[{"at":1,"kind":"webhook","mode":"fail","delay_ms":5}]}' \
  '"delay_ms" does not apply to webhook fail'
refused '{"nodes":1,"faults":[{"at":1,"kind":"partition","node":1,"duration":2}]}' \
  'a partition needs "nodes": 2 or more'
refused '{"max_duration_s":10,"faults":[{"at":8,"kind":"kill_node","node":1,"duration":5}]}' \
  'restart_node (end of faults[0]) is scheduled at 13s'
refused '{"faults":[{"at":1,"kind":"card_network","mode":"fail","set":{"error_rate":1}}]}' \
  '"mode" does not apply to card_network'
# Comments ("_" fields) are allowed in a fault as at the top level.
printf '%s\n' '{"_c":"x","faults":[{"at":1,"kind":"kill_redis","_why":"y"}]}' \
  >"$tmp/ok.json"
node "$runner" "$tmp/ok.json" --dry-run >"$tmp/out" 2>&1 ||
  fail "a commented fault was refused: $(cat "$tmp/out")"
echo "experiment_files: ok"
