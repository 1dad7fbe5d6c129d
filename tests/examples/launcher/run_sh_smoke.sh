#!/usr/bin/env bash
# Goal: the README's first command keeps working. `./run.sh` builds what is
# missing, starts Redis, the card network simulator, three nodes and the
# example store, and pays checkouts through the hosted page with their
# webhooks verified by the store (exit 0 only then); its Redis asks for a
# password no process listing shows; `status` sees every
# process up, and fails while Redis refuses writes; a node killed with
# SIGKILL is `down`, and `restart` brings it
# back serving with the cluster; `stop` leaves no process of the run behind.
# The Node store is left out (`--no-node-store`): its first start needs
# `npm ci`, and node_stripe_suite covers the `stripe` package.
#
#   run_sh_smoke.sh REPO_ROOT
set -euo pipefail
repo=${1:?usage: run_sh_smoke.sh REPO_ROOT}
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/psp-run-smoke.XXXXXX")
out=$run_dir/run.out

fail() {
  echo "run_sh_smoke: FAIL: $*" >&2
  echo "--- run.sh output" >&2
  cat "$out" >&2 2>/dev/null || true
  for log in "$run_dir"/logs/*.log; do
    [[ -f "$log" ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}

cleanup() {
  "$repo/run.sh" stop --run-dir "$run_dir" >/dev/null 2>&1 || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

# Bases of their own, so a developer's cluster on the defaults is left
# alone; run.sh probes upward from them for free ports.
export PSP_PORT_BASE=21000 PSP_REDIS_PORT_BASE=21379 \
       PSP_CLUSTER_PORT_BASE=21500

# Running, not a zombie: a process whose parent is gone may wait for a
# reaper that never comes (PID 1 in some containers).
alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}
pid_file() { cat "$run_dir/pids/$1.pid"; }

"$repo/run.sh" --nodes 3 --checkouts 3 --no-node-store --run-dir "$run_dir" \
  >"$out" 2>&1 || fail "./run.sh exited with $?"
grep -q "^open to pay: *http://127.0.0.1:" "$out" ||
  fail "no 'open to pay' URL in run.sh's summary"

# The embedded Redis asks for its password; it is in no process's argv.
redis_port=$(cut -d: -f2 "$run_dir/redis_addr")
redis_password=$(cat "$run_dir/redis_password")
[[ "$(stat -c %a "$run_dir/redis_password")" == 600 ]] ||
  fail "redis_password is not mode 600"
[[ "$(redis-cli -p "$redis_port" PING 2>&1)" == *NOAUTH* ]] ||
  fail "Redis answered without its password"
[[ "$(REDISCLI_AUTH=$redis_password redis-cli -p "$redis_port" PING)" == PONG ]] ||
  fail "Redis refused its password"
for name in redis node-1; do
  if tr '\0' ' ' <"/proc/$(pid_file "$name")/cmdline" |
       grep -qF "$redis_password"; then
    fail "the Redis password is in $name's command line"
  fi
done

names="redis card-network node-1 node-2 node-3 store"
for name in $names; do
  [[ -f "$run_dir/pids/$name.pid" ]] || fail "no pid file for $name"
  alive "$(pid_file "$name")" || fail "$name is not running after start"
done

status=$("$repo/run.sh" status --run-dir "$run_dir" 2>&1) ||
  fail "status exited non-zero with everything up: $status"
for name in $names; do
  grep -Eq "^  $name +up " <<<"$status" || fail "status: $name not up: $status"
done
grep -q "node-3 .*healthz ok" <<<"$status" ||
  fail "status: node-3's /healthz is not ok: $status"

# A node killed outright, then brought back on its own port and id.
node2=$(pid_file node-2)
kill -KILL "$node2"
for _ in $(seq 1 50); do
  alive "$node2" || break
  sleep 0.1
done
alive "$node2" && fail "node-2 survived SIGKILL"
status=$("$repo/run.sh" status --run-dir "$run_dir" 2>&1) &&
  fail "status exited 0 with node-2 down: $status"
grep -Eq "^  node-2 +down " <<<"$status" ||
  fail "status: node-2 not down after SIGKILL: $status"
"$repo/run.sh" restart node-2 --run-dir "$run_dir" >>"$out" 2>&1 ||
  fail "restart node-2 exited with $?"
url=$(cat "$run_dir/pids/node-2.url")
health=""
for _ in $(seq 1 100); do
  health=$(curl -s -m 2 "$url/healthz" || true)
  # Back in the cluster: it works with all three members again.
  grep -q '"members":\["[^]]*,[^]]*,[^]]*\]' <<<"$health" && break
  sleep 0.1
done
grep -q '"status":"ok"' <<<"$health" || fail "node-2 after restart: $health"
grep -q '"members":\["[^]]*,[^]]*,[^]]*\]' <<<"$health" ||
  fail "node-2 did not rejoin all three members: $health"
# Its first life's log is kept; a second crash and restart keeps both.
grep -q "listening on" "$run_dir/logs/node-2.prev.log" ||
  fail "node-2's first log was not kept as node-2.prev.log"
kill -KILL "$(pid_file node-2)"
"$repo/run.sh" restart node-2 --run-dir "$run_dir" >>"$out" 2>&1 ||
  fail "a second restart of node-2 exited with $?"
for life in prev prev.2; do
  grep -q "listening on" "$run_dir/logs/node-2.$life.log" ||
    fail "node-2's earlier log is missing as node-2.$life.log"
done

# Redis refusing writes (out of memory): every node is degraded, and status
# says so and exits non-zero, though every process is up.
redis_addr=$(cat "$run_dir/redis_addr")
redis_cli() {
  REDISCLI_AUTH=$(cat "$run_dir/redis_password") \
    redis-cli -h "${redis_addr%:*}" -p "${redis_addr##*:}" "$@"
}
redis_cli CONFIG SET maxmemory 1 >/dev/null || fail "could not set maxmemory"
status=$("$repo/run.sh" status --run-dir "$run_dir" 2>&1) &&
  fail "status exited 0 with Redis refusing writes: $status"
redis_cli CONFIG SET maxmemory 0 >/dev/null || fail "could not reset maxmemory"
grep -q "node-1 .*healthz degraded" <<<"$status" ||
  fail "status: node-1 not degraded with Redis refusing writes: $status"

# Redis hung (SIGSTOP): Redis is the one named, the nodes are degraded, not
# hung (the operator audit saw every node called hung: status gave up on
# /healthz before the node's own Redis timeout did).
kill -STOP "$(pid_file redis)"
status=$("$repo/run.sh" status --run-dir "$run_dir" 2>&1) &&
  fail "status exited 0 with Redis stopped: $status"
kill -CONT "$(pid_file redis)"
grep -Eq "^  redis +hung " <<<"$status" ||
  fail "status: a stopped Redis is not hung: $status"
grep -q "node-1 .*healthz degraded" <<<"$status" ||
  fail "status: node-1 not degraded with Redis stopped: $status"

# Starting over a running cluster is refused, on stderr, naming the run dir.
again_err=$("$repo/run.sh" --nodes 3 --no-node-store --run-dir "$run_dir" \
  2>&1 >/dev/null) && fail "a second start over a running cluster exited 0"
grep -q -- "stop it first with ./run.sh stop --run-dir $run_dir" \
  <<<"$again_err" || fail "the refusal names no --run-dir: $again_err"

# A paused node is woken by stop and exits cleanly, not by SIGKILL.
kill -STOP "$(pid_file node-3)"
pids=""
for name in $names; do
  pids="$pids $(pid_file "$name")"
done
stop_out=$("$repo/run.sh" stop --run-dir "$run_dir" 2>&1) ||
  fail "stop exited with $?: $stop_out"
for pid in $pids; do
  alive "$pid" && fail "process $pid still runs after stop"
done
grep -q "SIGKILL" <<<"$stop_out" && fail "stop had to kill: $stop_out"
grep -q "event=node_stopping" "$run_dir/logs/node-3.log" ||
  fail "the paused node-3 did not stop cleanly"
echo "run_sh_smoke: ok (start, status, SIGKILL + restart of node-2, status" \
  "with Redis refusing writes and stopped, refused second start, stop with a" \
  "paused node)"
