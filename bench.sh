#!/usr/bin/env bash
# Measures the PSP against the floors of its own stack, in one run.
#
#   ./bench.sh [--smoke] [--duration-s N] [--concurrency N] [--no-build]
#
# Builds into build/ (--no-build: uses what is there), then starts what it
# needs on 127.0.0.1 (ports from 18000 up, apart from run.sh's), measures,
# stops everything (also on error or Ctrl-C), prints a table and writes
# run/bench/results.json:
#   1. floors: a bare cpp-httplib hello world (examples/bench/hello_server.cpp,
#      configured like the node) under wrk, and redis-benchmark -t set
#      against a redis-server with the PSP's settings (AOF, fsync always);
#   2. create-checkout under the same wrk loop (unique Idempotency-Key each);
#   3. end-to-end payments (card confirm -> signed webhook) with payment-bench;
#   4. Redis round trips and commands per payment (INFO, plus MONITOR on a
#      tiny run to split top-level commands from those inside Lua);
#   5. one node, the same node while the card network takes 200 ms a call,
#      then three nodes sharing the Redis, twice (1 3 3 1: the ratio of the
#      sums cancels a steady drift of the machine's speed);
#   6. Redis memory per payment and node RSS;
#   7. the archive: every paid charge packed at the end (psp-admin archive),
#      its rate and CPU, and the memory per payment once archived.
# BENCH_NODE_ARGS='--flag=value ...' adds flags to every node (for A/B
# experiments; the results' commit line does not show them).
# --smoke runs the same steps with tiny counts in well under a minute (once
# built) and fails only when something is broken (errors, payments that do
# not complete, bad signatures), never on speed.
#
# Layout of run/bench/: raw/ (each tool's output), logs/, data/ (Redis AOF,
# vault key), results.json. docs/performance.md explains the figures.
set -Eeuo pipefail
# No silent exits: say which command failed (errexit alone would not).
trap 'echo "bench.sh: failed (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "${BASH_SOURCE[0]}")"
repo_root=$(pwd)

# ---- limits and defaults (every wait is bounded) -------------------------
smoke=0
do_build=1              # --no-build: 0
duration_s=10           # --duration-s: per measurement, 1..600
concurrency=16          # --concurrency: client connections in all, spread
                        # round-robin over the nodes; 3..256
http_threads=256        # the node's --psp.http-threads default; the floor
                        # server gets the same (one thread per connection)
port_base=${BENCH_PORT_BASE:-18000}
port_tries_max=200
ready_wait_s=30         # a started process must print its ready line by then
stop_wait_s=5           # SIGTERM, then SIGKILL after this long
monitor_wait_s=60       # MONITOR capture is cut off after this long
aof_rewrite_wait_s=120  # an AOF rewrite before a measurement, at most
card_connections=64     # the node's --psp.card-connections default
sim_threads=$((3 * card_connections + 16)) # >= connections of 3 nodes
slow_network_ms=200     # the card network's answer time in the slow phase
build_dir=${BENCH_BUILD_DIR:-$repo_root/build} # override only for experiments
run_dir=$repo_root/run/bench
raw_dir=$run_dir/raw
log_dir=$run_dir/logs
data_dir=$run_dir/data
targets=(psp-node psp-admin card-network-sim bench-hello-server payment-bench
         bench-report)

die() {
  echo "bench.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

in_range() { # VALUE MIN MAX
  [[ "$1" =~ ^[0-9]{1,6}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3))
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --no-build) do_build=0; shift ;;
    --duration-s) duration_s=${2:-}; shift 2 || usage ;;
    --duration-s=*) duration_s=${1#*=}; shift ;;
    --concurrency) concurrency=${2:-}; shift 2 || usage ;;
    --concurrency=*) concurrency=${1#*=}; shift ;;
    -h|--help) usage ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
in_range "$duration_s" 1 600 || die "--duration-s must be a number from 1 to 600"
# More connections than the node's handler threads would stall (httplib
# holds one thread per keep-alive connection).
in_range "$concurrency" 3 "$http_threads" ||
  die "--concurrency must be a number from 3 (one per node of the 3-node phase) to $http_threads"
duration_s=$((10#$duration_s))
concurrency=$((10#$concurrency))

# What each mode runs. Smoke: the same steps, tiny and short.
if ((smoke)); then
  wrk_s=1; set_requests=2000; set_p16_requests=5000
  e2e_args=(--count 40 --warmup 5); monitor_count=10; light_count=20
  # A broken stack fails within one drain timeout, not minutes.
  drain_args=(--drain-timeout-s 10)
else
  wrk_s=$duration_s; set_requests=$((duration_s * 10000))
  set_p16_requests=$((duration_s * 50000))
  e2e_args=(--duration-s "$duration_s"); monitor_count=20; light_count=300
  drain_args=(--drain-timeout-s 30)
fi

# ---- processes ------------------------------------------------------------
declare -A pids=()      # name -> pid of what this run started
names=()                # start order

# spawn NAME COMMAND...: a process in its own session, logging to logs/NAME.log
spawn() {
  local name=$1
  shift
  # Gone before the start: await must not find the last run's ready line
  # (the background job's own redirection truncates it only later).
  rm -f "$log_dir/$name.log"
  setsid "$@" </dev/null >"$log_dir/$name.log" 2>&1 &
  pids[$name]=$!
  names+=("$name")
}

stop() { # NAME...: SIGTERM, bounded wait, then SIGKILL
  local n pid waited=0 alive
  for n in "$@"; do
    pid=${pids[$n]:-}
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  while ((waited < stop_wait_s * 10)); do
    alive=0
    for n in "$@"; do
      pid=${pids[$n]:-}
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && alive=1
    done
    ((alive)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for n in "$@"; do
    pid=${pids[$n]:-}
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      echo "bench.sh: $n (pid $pid) ignored SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
    unset "pids[$n]"
  done
}

# Everything still running, clients first and Redis last.
stop_all() {
  local n front=() back=()
  for n in "${names[@]}"; do
    [[ -n "${pids[$n]:-}" ]] || continue
    if [[ "$n" == *redis* ]]; then back+=("$n"); else front+=("$n"); fi
  done
  ((${#front[@]} == 0)) || stop "${front[@]}"
  ((${#back[@]} == 0)) || stop "${back[@]}"
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM
  stop_all
  exit "$status"
}

assigned_ports=" "
free_port_found=""
# Sets free_port_found to the first port from port_base up that nothing
# listens on and this run has not taken (a global: $(...) would forget).
free_port() {
  local port=$port_base tries=0
  while ((tries < port_tries_max)); do
    if [[ "$assigned_ports" != *" $port "* ]] &&
       ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      assigned_ports+="$port "
      free_port_found=$port
      return 0
    fi
    port=$((port + 1))
    tries=$((tries + 1))
  done
  die "no free port in $port_base..$port"
}

# await NAME PATTERN: bounded wait for PATTERN in NAME's log.
await() {
  local name=$1 pattern=$2 log=$log_dir/$1.log i
  for ((i = 0; i < ready_wait_s * 10; i++)); do
    grep -q -- "$pattern" "$log" 2>/dev/null && return 0
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      echo "bench.sh: $name exited during start-up; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "bench.sh: $name printed no '$pattern' within ${ready_wait_s}s" >&2
  tail -n 20 "$log" >&2
  return 1
}

# ---- set-up ----------------------------------------------------------------
# wrk is not among deps.sh's packages: install it the same way when missing.
ensure_tools() {
  "$repo_root/deps.sh"
  local status
  status=$(dpkg-query -W -f='${Status}' wrk 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]] || ! command -v wrk >/dev/null
  then
    echo "bench.sh: installing wrk"
    local as_root=()
    ((EUID == 0)) || as_root=(sudo -n)
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get update -q \
      </dev/null >/dev/null
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q \
      --no-install-recommends wrk </dev/null >/dev/null
  fi
  command -v redis-benchmark >/dev/null || die "redis-benchmark is missing"
}

build() {
  local log=$log_dir/build.log
  echo "building into build/ (log: $log)"
  if ! { cmake -S "$repo_root" -B "$build_dir" \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
         cmake --build "$build_dir" -j2 --target "${targets[@]}"; } \
       >"$log" 2>&1; then
    echo "bench.sh: build failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

# start_redis NAME DIR: a redis-server with the PSP's settings; sets
# redis_port.
redis_port=""
start_redis() {
  local name=$1 dir=$2
  mkdir -p "$dir"
  free_port
  redis_port=$free_port_found
  spawn "$name" redis-server --bind 127.0.0.1 --port "$redis_port" \
    --dir "$dir" --appendonly yes --appendfsync always --save "" \
    --daemonize no --protected-mode yes --hash-max-listpack-value 1024 \
    --hash-max-listpack-entries 512
  await "$name" "Ready to accept connections"
}

# ---- measurements --------------------------------------------------------
wrk_run() { # NAME URL MODE [API_KEY]: writes raw/NAME.wrk.json
  local name=$1 url=$2 mode=$3 key=${4:-}
  BENCH_MODE=$mode BENCH_API_KEY=$key BENCH_RUN_ID="$name-$$-$RANDOM" \
    BENCH_OUT="$raw_dir/$name.wrk.json" \
    timeout $((wrk_s + 30)) wrk -t1 -c"$concurrency" -d"${wrk_s}s" \
    -s "$repo_root/examples/bench/wrk_bench.lua" "$url" \
    >"$log_dir/wrk-$name.log" 2>&1 ||
    die "wrk $name failed: $(tail -n 5 "$log_dir/wrk-$name.log")"
  [[ -s "$raw_dir/$name.wrk.json" ]] || die "wrk $name wrote no summary"
}

# Fails when wrk saw HTTP errors or no answer at all: that is breakage.
check_wrk() {
  local file=$raw_dir/$1.wrk.json
  grep -q '"status":0' "$file" && grep -q '"connect":0' "$file" &&
    ! grep -q '"requests":0,' "$file" ||
    die "wrk $1 got errors: $(cat "$file")"
}

measure_floors() {
  echo "== floors =="
  start_redis floor-redis "$run_dir/floor-redis"
  timeout 300 redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set -c 50 \
    -n "$set_requests" --csv >"$raw_dir/redis_set.csv" 2>"$log_dir/rb.log" ||
    die "redis-benchmark failed: $(tail -n 3 "$log_dir/rb.log")"
  timeout 300 redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set -c 50 \
    -P 16 -n "$set_p16_requests" --csv >"$raw_dir/redis_set_p16.csv" \
    2>>"$log_dir/rb.log" || die "redis-benchmark -P 16 failed"
  stop floor-redis
  rm -rf "$run_dir/floor-redis"
  free_port
  local port=$free_port_found
  spawn hello "$build_dir/examples/bench/bench-hello-server" --host 127.0.0.1 \
    --port "$port" --threads "$http_threads"
  await hello "bench-hello-server listening on"
  wrk_run hello "http://127.0.0.1:$port/" hello
  check_wrk hello
  stop hello
}

node_urls=()
# Every node runs as a cluster member (as run.sh starts them): membership,
# ownership, forwarding to the owner and the quorum rule are all measured.
# The webhook receiver is on 127.0.0.1, which a node refuses unless told
# (decision 48); everything here runs on loopback.
start_node() { # N
  local name=node-$1 port cluster_port
  free_port
  port=$free_port_found
  free_port
  cluster_port=$free_port_found
  spawn "$name" "$build_dir/runtime/psp-node" --psp.node-id="bench-$1" \
    --psp.http-host=127.0.0.1 --psp.http-port="$port" \
    --psp.public-url="http://127.0.0.1:$port" \
    --psp.http-threads="$http_threads" --psp.card-connections="$card_connections" \
    --psp.redis="127.0.0.1:$psp_redis_port" \
    --psp.card-network-url="$card_url" --psp.data-dir="$data_dir" \
    --psp.cluster-host=127.0.0.1 --psp.cluster-port="$cluster_port" \
    --psp.webhook-private-addresses=true \
    --psp.log-level=warn ${BENCH_NODE_ARGS:-}
  node_urls+=("http://127.0.0.1:$port")
}

# await_cluster N: bounded wait until every started node's /healthz lists
# the members bench-1..bench-N (registered and connected to each other).
await_cluster() {
  local n=$1 want='"members":[' i k url ok
  for ((k = 1; k <= n; k++)); do
    want+="\"bench-$k\""
    ((k < n)) && want+=","
  done
  want+="]"
  for ((i = 0; i < ready_wait_s * 10; i++)); do
    ok=1
    for url in "${node_urls[@]}"; do
      curl -s --max-time 2 "$url/healthz" | grep -qF -- "$want" || ok=0
    done
    ((ok)) && return 0
    sleep 0.1
  done
  die "the nodes did not form a cluster of $n within ${ready_wait_s}s"
}

new_merchant() { # prints the secret key of a fresh merchant
  "$build_dir/runtime/psp-admin" --redis "127.0.0.1:$psp_redis_port" \
    create-merchant --name "Bench $1" |
    sed -n 's/.*"secret_key": *"\([^"]*\)".*/\1/p'
}

redis_info() { # FILE: INFO stats, commandstats, memory, cpu of the PSP's Redis
  local s
  {
    for s in stats commandstats memory cpu persistence keyspace; do
      redis-cli -p "$psp_redis_port" info "$s"
    done
    # The key tables' bytes (MEMORY STATS), for the amortized memory figure
    # (examples/bench/redis_info.hpp); one line in INFO's own format.
    redis-cli -p "$psp_redis_port" memory stats | awk '
      prev ~ /^overhead\.hashtable\.(main|expires)$/ { sum += $1 }
      { prev = $1 }
      END { printf "key_table_bytes:%d\n", sum }'
  } >"$1"
}

# Rewrites the PSP Redis's AOF and waits for it (bounded): Redis rewrites on
# its own each time the AOF doubles, which on a young dataset would land in
# some measurements and not others (payment-bench does the same before each
# of its phases).
compact_aof() {
  local i info
  redis-cli -p "$psp_redis_port" bgrewriteaof >/dev/null
  for ((i = 0; i < aof_rewrite_wait_s * 10; i++)); do
    info=$(redis-cli -p "$psp_redis_port" info persistence)
    if [[ "$info" == *"aof_rewrite_in_progress:0"* &&
          "$info" == *"aof_rewrite_scheduled:0"* ]]; then
      return 0
    fi
    sleep 0.1
  done
  die "the AOF rewrite did not finish within ${aof_rewrite_wait_s}s"
}

start_psp() {
  echo "== PSP: Redis, card network simulator, node-1 =="
  rm -rf "$data_dir"
  start_redis psp-redis "$data_dir"
  psp_redis_port=$redis_port
  free_port
  card_url=http://127.0.0.1:$free_port_found
  # The simulator holds one handler thread per keep-alive connection: with
  # its default 32 threads, 3 nodes x 16 card workers stall on each other
  # (2 s pauses until a connection times out). Give it enough.
  spawn card-network "$build_dir/examples/card_network_sim/card-network-sim" \
    --host 127.0.0.1 --port "$free_port_found" --threads "$sim_threads"
  await card-network "card-network-sim listening on"
  start_node 1
  await node-1 "listening on"
  await_cluster 1
}

measure_checkout() {
  echo "== create-checkout (wrk, 1 node) =="
  local key
  key=$(new_merchant checkout)
  [[ -n "$key" ]] || die "psp-admin printed no key"
  compact_aof
  redis_info "$raw_dir/checkout.info.before"
  wrk_run checkout "${node_urls[0]}" checkout "$key"
  redis_info "$raw_dir/checkout.info.after"
  check_wrk checkout
}

# payment_bench NAME [ARGS...]: payment-bench against all started nodes.
payment_bench() {
  local name=$1 key node_pids=() n
  shift
  key=$(new_merchant "$name")
  [[ -n "$key" ]] || die "psp-admin printed no key"
  for n in "${names[@]}"; do
    [[ "$n" == node-* && -n "${pids[$n]:-}" ]] && node_pids+=("${pids[$n]}")
  done
  local IFS=,
  timeout 900 "$build_dir/examples/bench/payment-bench" \
    --nodes "${node_urls[*]}" --node-pids "${node_pids[*]}" \
    --sim-pid "${pids[card-network]}" \
    --api-key "$key" --redis "127.0.0.1:$psp_redis_port" \
    --concurrency "$concurrency" --label "$name" "${drain_args[@]}" \
    --out "$raw_dir/$name.json" "$@" 2>&1 | tee "$log_dir/$name.log" ||
    die "payment-bench $name failed (see $log_dir/$name.log)"
}

# A tiny run under MONITOR: which commands are top-level, which in Lua.
measure_monitor() {
  echo "== Redis MONITOR on a tiny run =="
  timeout "$monitor_wait_s" redis-cli -p "$psp_redis_port" monitor \
    >"$raw_dir/monitor.log" 2>/dev/null &
  local monitor_pid=$!
  sleep 0.3
  payment_bench monitor_run --count "$monitor_count" --warmup 5 \
    --concurrency 4 --settle-timeout-s 3
  kill "$monitor_pid" 2>/dev/null || true
  wait "$monitor_pid" 2>/dev/null || true
}

set_network_latency() { # MS: the simulator answers every call this late
  curl -fsS -X POST -H 'Content-Type: application/json' \
    -d "{\"latency_ms\": $1}" "$card_url/admin/faults" >/dev/null ||
    die "cannot set the card network's latency"
}

# One node while the card network takes slow_network_ms per call: enough
# payments in flight to use every card connection the node has.
measure_slow_network() {
  echo "== end-to-end payments, 1 node, card network answering in" \
       "$slow_network_ms ms =="
  set_network_latency "$slow_network_ms"
  payment_bench e2e_slow_network "${e2e_args[@]}" \
    --outstanding-max $((2 * card_connections))
  set_network_latency 0
}

measure_e2e() {
  echo "== end-to-end payments, 1 node, light load (2 in flight) =="
  payment_bench e2e_light --count "$light_count" --warmup 20 \
    --outstanding-max 2 --concurrency 2
  echo "== end-to-end payments, 1 node =="
  payment_bench e2e_1node "${e2e_args[@]}"
  measure_slow_network
  echo "== end-to-end payments, 3 nodes, one Redis =="
  start_node 2
  start_node 3
  await node-2 "listening on"
  await node-3 "listening on"
  await_cluster 3
  payment_bench e2e_3nodes "${e2e_args[@]}"
  # The second round in the opposite order: on a shared machine the speed
  # drifts by 10-20 % within minutes, which decided the 3-node ratio of a
  # single round (0.68-0.80x over eight runs of one code).
  echo "== end-to-end payments, 3 nodes, second round =="
  payment_bench e2e_3nodes_b "${e2e_args[@]}"
  echo "== end-to-end payments, 1 node, second round =="
  stop node-2 node-3 # they leave the cluster on SIGTERM
  node_urls=("${node_urls[0]}")
  await_cluster 1
  payment_bench e2e_1node_b "${e2e_args[@]}"
}

# Every paid charge of the run packed into the archive at once (the nodes
# would do it ten minutes after each payment): its rate, CPU and the memory it
# frees (docs/decisions.md 38).
measure_archive() {
  echo "== archive: every paid charge packed (psp-admin archive) =="
  redis_info "$raw_dir/archive.info.before"
  "$build_dir/runtime/psp-admin" --redis "127.0.0.1:$psp_redis_port" \
    archive --after-s 0 >"$raw_dir/archive.json" ||
    die "psp-admin archive failed"
  redis_info "$raw_dir/archive.info.after"
  cat "$raw_dir/archive.json"
}

# The commit measured; "+dirty" when the working tree differs from it.
code_version() {
  local commit
  commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null) || {
    echo "unknown"
    return 0
  }
  git -C "$repo_root" diff --quiet HEAD -- 2>/dev/null || commit+="+dirty"
  echo "$commit"
}

write_meta() {
  cat >"$raw_dir/meta.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "mode": "$( ((smoke)) && echo smoke || echo full)",
 "cores": $(nproc), "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/"//g')",
 "load_average_at_start": "$load_at_start",
 "duration_s": $duration_s, "concurrency": $concurrency,
 "http_threads": $http_threads, "wrk": "wrk -t1 -c$concurrency -d${wrk_s}s",
 "card_connections": $card_connections, "slow_network_latency_ms": $slow_network_ms,
 "redis_benchmark": "redis-benchmark -t set -c 50 -n $set_requests",
 "commit": "$(code_version)"}
EOF
}

# ---- main -----------------------------------------------------------------
main() {
  local started_s=$SECONDS status=0
  mkdir -p "$log_dir"
  ensure_tools
  if ((do_build)); then
    build
  else
    local t
    for t in runtime/psp-node runtime/psp-admin \
             examples/card_network_sim/card-network-sim \
             examples/bench/bench-hello-server examples/bench/payment-bench \
             examples/bench/bench-report; do
      [[ -x "$build_dir/$t" ]] || die "--no-build: $build_dir/$t is missing"
    done
  fi
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  rm -rf "$raw_dir"
  mkdir -p "$raw_dir"
  load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
  write_meta
  local bench_start_s=$SECONDS
  measure_floors
  start_psp
  measure_checkout
  measure_monitor
  measure_e2e
  measure_archive
  stop_all
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 \
    'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), code at" \
    "$(code_version), load average at start $(cut -d' ' -f1 \
    <<<"$load_at_start")"
  "$build_dir/examples/bench/bench-report" --raw "$raw_dir" \
    --meta "$raw_dir/meta.json" --out "$run_dir/results.json" \
    $( ((smoke)) && echo --smoke) || status=$?
  echo
  echo "results: $run_dir/results.json (raw: $raw_dir/, logs: $log_dir/)"
  echo "measured in $((SECONDS - bench_start_s)) s" \
       "(with build: $((SECONDS - started_s)) s)"
  return "$status"
}

main
