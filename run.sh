#!/usr/bin/env bash
# Starts a local PSP cluster, shows a payment round trip, and leaves it up.
#
#   ./run.sh [--nodes N] [--checkouts N] [--run-dir DIR] [--redis HOST:PORT]
#            [--no-node-store] [--archive-after-s S] [--no-build]
#   ./run.sh status [--run-dir DIR]
#   ./run.sh stop   [--run-dir DIR]
#   ./run.sh restart NAME [--run-dir DIR]   (node-2, card-network, redis,
#                                            store, store-node: e.g. after
#                                            a kill -9)
#
# Start: installs missing packages (deps.sh), builds into build/, then starts
# redis-server (unless --redis is given), the card network simulator, N PSP
# nodes sharing that Redis, and the example store (talking to node-1). Then
# checkout-demo pays a few orders through the hosted page (served by the last
# node, to show that any node serves any session) and checks the store got
# the webhooks. Beside the C++ store, when Node >= 20 is installed (unless
# --no-node-store), the Node store examples/node_store (the official `stripe`
# package; npm ci on first use) runs as store-node, and its demo pays two
# orders through it. Everything binds to 127.0.0.1.
#
# Layout of the run directory (default ./run):
#   data/             redis AOF, vault.key (created by the first node)
#   logs/NAME.log     one per process (its previous lives' as NAME.prev.log,
#                     then NAME.prev.2.log .. NAME.prev.5.log, oldest last)
#   pids/NAME.pid     pid files; pids/NAME.url the process's URL
#   admin_token       bearer token of the nodes' /admin API (mode 600)
#   redis_password    the embedded Redis's password (mode 600); redis.conf
#                     holds it for redis-server (mode 600)
#   merchant.json     the demo merchant and its secret key (mode 600),
#                     reused while the Redis data still knows the key;
#                     secret_key the key alone (mode 600), for curl -u
set -euo pipefail
caller_dir=$(pwd) # a relative --run-dir is the caller's, not the repo's
cd "$(dirname "${BASH_SOURCE[0]}")"
repo_root=$(pwd)

# ---- limits and defaults (every wait is bounded) -------------------------
nodes=3                # --nodes, 1..nodes_max
nodes_max=16
checkouts=6            # --checkouts, 1..1000
run_dir=run            # --run-dir
redis_addr=""          # --redis HOST:PORT: use that Redis, start none
archive_after_s=600    # --archive-after-s: pack paid charges this long after
# Keep the bases below the ephemeral range (/proc/sys/net/ipv4/
# ip_local_port_range, 32768-60999 here): a port there may be the local end
# of some client connection, which a probe by connect does not see.
port_base=${PSP_PORT_BASE:-17000} # first HTTP port tried
redis_port_base=${PSP_REDIS_PORT_BASE:-16379}
cluster_port_base=${PSP_CLUSTER_PORT_BASE:-17500} # CAF cluster endpoints
port_tries_max=200     # ports probed before giving up
ready_wait_s=30        # per process: start-up line must appear by then
stop_wait_s=5          # SIGTERM, then SIGKILL after this long
demo_timeout_s=30      # checkout-demo --timeout-s
webhook_schedule="0s,2s,10s,1m,5m" # compressed for the demo
node_store=1           # --no-node-store: 0
build_first=1          # --no-build: 0 (use the binaries in build/ as they are)
node_major_min=20      # the Node store needs this Node or newer
npm_ci_wait_s=300      # npm ci of the Node store's node_modules
node_store_checkouts=2 # paid through the Node store by its demo

build_dir="$repo_root/build"
targets=(psp-node psp-admin card-network-sim example-store checkout-demo)

die() {
  echo "run.sh: $*" >&2
  exit 1
}

# usage [STATUS]: the synopsis at the top of this file; exits STATUS (2: a
# usage error, 0 for --help).
usage() {
  sed -n '4,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

# needs_value FLAG VALUE: a flag given without its value is a usage error
# that names it.
needs_value() {
  [[ -n "${2:-}" && "$2" != --* ]] && return 0
  echo "run.sh: $1 needs a value" >&2
  usage
}

# ---- arguments ------------------------------------------------------------
command=start
target=""   # restart: the process
run_dir_given=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    status|stop) command=$1; shift ;;
    restart)
      command=restart; target=${2:-}
      [[ -n "$target" && "$target" != -* ]] ||
        die "restart needs a process name first (./run.sh restart node-2 ...)"
      shift 2 ;;
    --nodes) needs_value "$@"; nodes=$2; shift 2 ;;
    --checkouts) needs_value "$@"; checkouts=$2; shift 2 ;;
    --run-dir) needs_value "$@"; run_dir=$2; run_dir_given=1; shift 2 ;;
    --redis) needs_value "$@"; redis_addr=$2; shift 2 ;;
    --no-node-store) node_store=0; shift ;;
    --no-build) build_first=0; shift ;;
    --archive-after-s) needs_value "$@"; archive_after_s=$2; shift 2 ;;
    --archive-after-s=*) archive_after_s=${1#*=}; shift ;;
    --nodes=*) nodes=${1#*=}; shift ;;
    --checkouts=*) checkouts=${1#*=}; shift ;;
    --run-dir=*) run_dir=${1#*=}; run_dir_given=1; shift ;;
    --redis=*) redis_addr=${1#*=}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
# in_range VALUE MIN MAX: a decimal number within the bounds.
in_range() {
  [[ "$1" =~ ^[0-9]{1,6}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3))
}
in_range "$nodes" 1 "$nodes_max" ||
  die "--nodes must be a number from 1 to $nodes_max"
in_range "$checkouts" 1 1000 || die "--checkouts must be a number from 1 to 1000"
[[ "$archive_after_s" == -1 ]] || in_range "$archive_after_s" 0 31622400 ||
  die "--archive-after-s must be -1 (never) or seconds up to 31622400"
nodes=$((10#$nodes))
checkouts=$((10#$checkouts))
[[ -z "$redis_addr" || "$redis_addr" =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] ||
  die "--redis must be HOST:PORT"
[[ -n "$run_dir" ]] || die "--run-dir must not be empty"
if ((run_dir_given)) && [[ "$run_dir" != /* ]]; then
  run_dir=$caller_dir/$run_dir
fi
[[ "$run_dir" == /* ]] || run_dir=$repo_root/$run_dir
if [[ "$command" != start && ! -d "$run_dir" ]]; then
  echo "run.sh: no cluster in $run_dir (start one with ./run.sh)"
  [[ "$command" == stop ]] && exit 0
  exit 1
fi
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
data_dir=$run_dir/data
log_dir=$run_dir/logs
pid_dir=$run_dir/pids

# ---- processes and pid files ---------------------------------------------
# The binary each process name runs: a pid is only ours if its command line
# still names that binary (pids get reused after a reboot or crash).
binary_of() {
  case "$1" in
    redis) echo redis-server ;;
    card-network) echo card-network-sim ;;
    node-*) echo psp-node ;;
    store) echo example-store ;;
    store-node) echo node_store/store.mjs ;;
    *) echo "?" ;;
  esac
}

pid_of() {
  local file=$pid_dir/$1.pid
  [[ -f "$file" ]] && tr -dc '0-9' <"$file"
}

# True when NAME's pid file points at a live process running its binary.
is_up() {
  local pid cmdline
  pid=$(pid_of "$1") || return 1
  [[ -n "$pid" ]] || return 1
  # A zombie's command line is empty, so an exited process counts as down.
  cmdline=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
  [[ "$cmdline" == *"$(binary_of "$1")"* ]]
}

# True when PID is gone or a zombie (exited, not yet reaped).
has_exited() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  # The state follows the command name, which is in parentheses.
  [[ "${stat##*) }" == Z* ]]
}

# Every process with a pid file, in start order.
known_names() {
  local n names=()
  [[ -d "$pid_dir" ]] || return 0
  for n in redis card-network; do
    [[ -f "$pid_dir/$n.pid" ]] && names+=("$n")
  done
  while read -r n; do
    [[ -n "$n" ]] && names+=("$n")
  done < <(cd "$pid_dir" && ls node-*.pid 2>/dev/null | sed 's/\.pid$//' |
           sort -V)
  [[ -f "$pid_dir/store.pid" ]] && names+=(store)
  [[ -f "$pid_dir/store-node.pid" ]] && names+=(store-node)
  echo "${names[@]:-}"
}

any_up() {
  local n
  for n in $(known_names); do
    is_up "$n" && return 0
  done
  return 1
}

url_of() {
  cat "$pid_dir/$1.url" 2>/dev/null || true
}

# ---- stop -----------------------------------------------------------------
# SIGTERM to NAMES, wait up to stop_wait_s for them to go, then SIGKILL.
stop_group() {
  local n pid waited=0 alive
  for n in "$@"; do
    # A stopped (SIGSTOP) process would hold SIGTERM pending and be killed
    # without its clean exit (registration deleted, claims released).
    is_up "$n" && kill -CONT "$(pid_of "$n")" 2>/dev/null || true
    is_up "$n" && kill -TERM "$(pid_of "$n")" 2>/dev/null || true
  done
  while ((waited < stop_wait_s * 10)); do
    alive=0
    for n in "$@"; do
      is_up "$n" && alive=1
    done
    ((alive)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for n in "$@"; do
    if is_up "$n"; then
      pid=$(pid_of "$n")
      echo "  $n (pid $pid) ignored SIGTERM for ${stop_wait_s}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for n in "$@"; do
    rm -f "$pid_dir/$n.pid" "$pid_dir/$n.url"
  done
}

# Clients first, Redis last, so nodes finish their work against a live Redis.
# The Node store goes first: it deletes its webhook endpoint on the way
# out and needs a live node for that.
stop_all() {
  local names n front=()
  names=$(known_names)
  [[ " $names " == *" store-node "* ]] && stop_group store-node
  for n in $names; do
    [[ "$n" != redis && "$n" != store-node ]] && front+=("$n")
  done
  ((${#front[@]} == 0)) || stop_group "${front[@]}"
  [[ " $names " == *" redis "* ]] && stop_group redis
  return 0
}

cmd_stop() {
  local names
  names=$(known_names)
  if [[ -z "$names" ]]; then
    echo "run.sh: nothing to stop in $run_dir"
    return 0
  fi
  echo "stopping: $names"
  stop_all
  echo "stopped"
}

# ---- status ---------------------------------------------------------------
metric() { # metric TEXT NAME → value or "?"
  local v
  v=$(awk -v m="$2" '$1 == m { print $2; exit }' <<<"$1")
  echo "${v:-?}"
}

# A node answers /healthz within its Redis timeout (--psp.redis-timeout-ms,
# 2 s) even when Redis hangs ("degraded"); a shorter wait here called every
# node hung while Redis was the one stopped (the operator audit).
health_wait_s=5

node_health() { # node_health HEALTHZ METRICS
  local health=$1 metrics=$2
  printf 'healthz %s  since start: sessions %s  card submissions %s' \
    "$(sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p' <<<"$health" |
       grep . || echo unreachable)" \
    "$(metric "$metrics" psp_checkout_sessions_created_total)" \
    "$(metric "$metrics" psp_payments_submitted_total)"
}

# The node's cluster endpoint, the members it works with (its last logged
# view) and the payment stream partitions that view gives it (/healthz).
cluster_line() { # cluster_line NAME HEALTHZ
  local log=$log_dir/$1.log health=$2 endpoint view partitions
  endpoint=$(sed -n 's/^psp-node [^ ]* cluster endpoint \(.*\)$/\1/p' "$log" |
             tail -n 1)
  # The node's own answer; its last logged view only when it gives none.
  view=$(sed -n 's/.*"members":\[\([^]]*\)\].*/\1/p' <<<"$health" | tr -d '"')
  if [[ -z "$view" ]]; then
    view=$(grep -o 'event=cluster_view .*members=[^ ]*' "$log" | tail -n 1 |
           sed 's/.*members=//')
    [[ -z "$view" ]] || view="$view (last logged)"
  fi
  partitions=$(sed -n 's/.*"partitions":\[\([0-9,]*\)\].*/\1/p' <<<"$health")
  printf 'cluster %s  view %s  partitions %s' "${endpoint:-?}" "${view:-?}" \
    "${partitions:-?}"
}

print_queues() { # print_queues URL METRICS
  local url=$1 metrics=$2
  [[ -n "$metrics" ]] || return 0
  echo "queues (Redis, via $url/metrics):"
  echo "  payment stream: $(metric "$metrics" psp_payment_stream_length)" \
       "entries, $(metric "$metrics" psp_payment_stream_pending) pending"
  echo "  webhook deliveries scheduled:" \
       "$(metric "$metrics" psp_webhook_deliveries_scheduled)"
  echo "  dead letters: $(metric "$metrics" psp_dead_letters)"
}

cmd_status() {
  local n names all_up=1 first_node="" first_metrics="" extra state
  local health metrics
  names=$(known_names)
  if [[ -z "$names" ]]; then
    echo "run.sh: no cluster in $run_dir (start one with ./run.sh)"
    return 1
  fi
  echo "cluster in $run_dir"
  if [[ -f "$run_dir/redis_addr" && ! -f "$pid_dir/redis.pid" ]]; then
    printf '  %-13s %-5s %-10s %s\n' redis external "" \
      "redis://$(cat "$run_dir/redis_addr")"
  fi
  for n in $names; do
    extra=""
    if is_up "$n"; then
      state=up
      if [[ "$n" == redis ]] && ! redis_answers; then
        state=hung # its process lives but it does not answer (stopped?)
        extra="  does not answer PING within 2 s"
        all_up=0
      fi
      if [[ "$n" == node-* ]]; then
        health=$(curl -s -m "$health_wait_s" "$(url_of "$n")/healthz" || true)
        metrics=$(curl -s -m "$health_wait_s" "$(url_of "$n")/metrics" || true)
        extra="  $(node_health "$health" "$metrics")  $(cluster_line "$n" "$health")"
        if [[ "$extra" == *"healthz unreachable"* ]]; then
          state=hung # its process lives but it does not answer (stopped?)
          all_up=0
        else
          # degraded: Redis down or refusing writes; every payment would fail.
          [[ "$extra" == *"healthz ok"* ]] || all_up=0
          if [[ -z "$first_node" ]]; then
            first_node=$(url_of "$n")
            first_metrics=$metrics
          fi
        fi
      fi
      printf '  %-13s %-5s %-10s %s%s\n' "$n" "$state" "pid $(pid_of "$n")" \
        "$(url_of "$n")" "$extra"
    else
      all_up=0
      printf '  %-13s %-5s %-10s %s\n' "$n" down "" \
        "(log: $log_dir/$n.log)"
    fi
  done
  print_other_members "$names"
  [[ -z "$first_node" ]] || print_queues "$first_node" "$first_metrics"
  ((all_up))
}

# Sets the array named $1 to a redis-cli command for this run's Redis
# (its password from PSP_REDIS_PASSWORD or the run dir, handed to
# redis-cli as REDISCLI_AUTH), each call bounded:
# a stopped Redis would hang redis-cli. False when the run has no Redis
# address.
redis_cli_of_run() {
  local -n out=$1
  local addr password
  [[ -f "$run_dir/redis_addr" ]] || return 1
  addr=$(cat "$run_dir/redis_addr")
  password=${PSP_REDIS_PASSWORD:-}
  [[ -n "$password" || ! -f "$run_dir/redis_password" ]] ||
    password=$(cat "$run_dir/redis_password")
  out=(timeout 2 redis-cli -h "${addr%:*}" -p "${addr##*:}" --no-auth-warning)
  # In the environment, not on a command line any process listing shows.
  [[ -z "$password" ]] || export REDISCLI_AUTH=$password
}

# Whether this run's Redis answers PING (a SIGSTOPped one lives and hangs).
redis_answers() {
  local cli=()
  redis_cli_of_run cli || return 0
  [[ "$("${cli[@]}" PING 2>/dev/null)" == PONG ]]
}

# Members Redis knows that this run dir did not start (nodes added by
# hand, or gone for good): the cluster is what Redis says, not only what
# run.sh started (decision 69; psp-admin members has the details). They do
# not change the exit status.
print_other_members() {
  local names=" ${1//$'\n'/ } " id registration cli=()
  redis_cli_of_run cli || return 0
  for id in $("${cli[@]}" SMEMBERS cluster:members 2>/dev/null | sort); do
    [[ "$names" == *" $id "* ]] && continue
    registration=$("${cli[@]}" GET "cluster:node:$id" 2>/dev/null || true)
    if [[ -n "$registration" ]]; then
      printf '  %-13s %-5s %-10s %s\n' "$id" member "" \
        "cluster ${registration##*|} (registered, not started by run.sh)"
    else
      printf '  %-13s %-5s %-10s %s\n' "$id" gone "" \
        "(not registered; psp-admin forget-node --node $id drops it)"
    fi
  done
}

# ---- start helpers --------------------------------------------------------
started=() # names this invocation started; stopped again if start-up fails

on_abort() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#started[@]} > 0)); then
    echo "run.sh: start-up failed; stopping what was started:" \
         "${started[*]}" >&2
    stop_all >&2
  fi
  exit $((status == 0 ? 1 : status))
}

assigned_ports=" "
free_port_found=""
# Sets free_port_found to the first port from $1 up that nothing listens on
# and this run has not taken yet. (A global, not stdout: a $(...) subshell
# would forget the port was taken.)
free_port() {
  local port=$1 tries=0
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
  echo "run.sh: no free port in $1..$port" >&2
  return 1
}

# rotate_log DIR/NAME: NAME.log becomes NAME.prev.log, older lives move to
# NAME.prev.2.log .. NAME.prev.5.log: after a crash loop the first crash's
# log is still there (one previous log lost it: the rolling-deploy drill).
rotate_log() {
  local base=$1 i
  [[ -f "$base.log" ]] || return 0
  for i in 4 3 2; do
    [[ -f "$base.prev.$i.log" ]] &&
      mv -f "$base.prev.$i.log" "$base.prev.$((i + 1)).log"
  done
  [[ -f "$base.prev.log" ]] && mv -f "$base.prev.log" "$base.prev.2.log"
  mv -f "$base.log" "$base.prev.log"
}

# spawn NAME URL ENV... -- COMMAND...: a detached process in its own session
# (so closing the terminal does not stop it), logging to logs/NAME.log.
spawn() {
  local name=$1 url=$2 log=$log_dir/$1.log
  shift 2
  local envs=()
  while [[ "$1" != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  rotate_log "$log_dir/$name"
  # How to start it again alone (./run.sh restart); holds the admin token.
  (umask 077 && printf '%q ' "$name" "$url" "${envs[@]}" -- "$@" \
     >"$pid_dir/$name.cmd")
  env "${envs[@]}" setsid "$@" </dev/null >"$log" 2>&1 &
  echo $! >"$pid_dir/$name.pid"
  echo "$url" >"$pid_dir/$name.url"
  started+=("$name")
}

# What an exit status of a process means, where the binary documents it.
exit_reason() {
  case "$1:$2" in
    node-*:2) echo "bad configuration" ;;
    node-*:3) echo "Redis unreachable or refusing it (password, out of memory: see the log)" ;;
    node-*:4) echo "port in use" ;;
    node-*:5) echo "another live node has this node id" ;;
    node-*:6) echo "no cluster seed answered" ;;
    node-*:8) echo "Redis would lose acknowledged writes; see the log" ;;
    node-*:9) echo "the vault key differs from the other nodes'" ;;
    node-*:10) echo "the clock is too far off Redis's" ;;
    *) echo "exit status $2" ;;
  esac
}

# Waits (bounded) until NAME's log contains PATTERN; fails with the log tail
# when the process exits or the time is up.
await_line() {
  local name=$1 pattern=$2 log=$log_dir/$1.log pid status i
  pid=$(pid_of "$name")
  for ((i = 0; i < ready_wait_s * 10; i++)); do
    grep -q -- "$pattern" "$log" 2>/dev/null && return 0
    # Only a process that has exited fails the start: right after the spawn
    # the child may still be the forked shell (not yet exec'd), and a wait
    # on a live server would block for its whole life.
    if has_exited "$pid"; then
      status=0
      wait "$pid" 2>/dev/null || status=$?
      echo "run.sh: $name exited during start-up ($(exit_reason "$name" \
        "$status")); last lines of $log:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run.sh: $name printed no '$pattern' within ${ready_wait_s}s;" \
       "last lines of $log:" >&2
  tail -n 20 "$log" >&2
  return 1
}

# ---- start steps ----------------------------------------------------------
build() {
  local log=$log_dir/build.log
  echo "building into build/ (log: $log)"
  if ! { cmake -S "$repo_root" -B "$build_dir" \
           -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
         cmake --build "$build_dir" -j2 --target "${targets[@]}"; } \
       >"$log" 2>&1; then
    echo "run.sh: build failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

start_redis() {
  local port
  if [[ -n "$redis_addr" ]]; then
    echo "$redis_addr" >"$run_dir/redis_addr"
    echo "using Redis at $redis_addr (not started by run.sh)"
    return 0
  fi
  free_port "$redis_port_base"
  port=$free_port_found
  redis_addr=127.0.0.1:$port
  echo "$redis_addr" >"$run_dir/redis_addr"
  ensure_redis_password
  # The password goes in a config file (mode 600), not argv: a process
  # listing shows every argument to every local user.
  (umask 077 && printf 'requirepass %s\n' "$redis_password" \
     >"$run_dir/redis.conf")
  spawn redis "redis://$redis_addr" -- redis-server "$run_dir/redis.conf" \
    --bind 127.0.0.1 \
    --port "$port" --dir "$data_dir" --appendonly yes \
    --appendfsync always --save "" --daemonize no --protected-mode yes \
    --hash-max-listpack-value 1024 --hash-max-listpack-entries 512
  await_line redis "Ready to accept connections"
}

start_card_network() {
  local port
  free_port "$port_base"
  port=$free_port_found
  card_url=http://127.0.0.1:$port
  spawn card-network "$card_url" -- \
    "$build_dir/examples/card_network_sim/card-network-sim" \
    --host 127.0.0.1 --port "$port" --threads $((64 * nodes + 32)) \
    --journal "$data_dir/card-network.journal"
  await_line card-network "card-network-sim listening on"
}

spawn_node() {
  local name=node-$1 port url cluster_port
  free_port "$port_base"
  port=$free_port_found
  free_port "$cluster_port_base"
  cluster_port=$free_port_found
  url=http://127.0.0.1:$port
  spawn "$name" "$url" "PSP_ADMIN_TOKEN=$admin_token" \
    $(redis_password_env) -- "$build_dir/runtime/psp-node" --psp.node-id="$name" \
    --psp.http-host=127.0.0.1 --psp.http-port="$port" \
    --psp.public-url="$url" --psp.redis="$redis_addr" \
    --psp.card-network-url="$card_url" --psp.data-dir="$data_dir" \
    --psp.webhook-schedule="$webhook_schedule" --psp.log-level=info \
    --psp.cluster-host=127.0.0.1 --psp.cluster-port="$cluster_port" \
    --psp.archive-after-s="$archive_after_s" \
    --psp.webhook-private-addresses=true
}

# node-1 first: it creates data/vault.key, which all nodes must share.
start_nodes() {
  local i
  # The stores' webhook endpoints are on 127.0.0.1, which a node refuses
  # by default (decision 48: a merchant must not reach the operator's own
  # network); here every process is on loopback and ours.
  echo "nodes allow webhook endpoints on private addresses" \
       "(--psp.webhook-private-addresses=true): everything runs on loopback"
  spawn_node 1
  await_line node-1 "psp-node node-1 listening on"
  for ((i = 2; i <= nodes; i++)); do
    spawn_node "$i"
  done
  for ((i = 2; i <= nodes; i++)); do
    await_line "node-$i" "psp-node node-$i listening on"
  done
}

# The reason a /healthz answer gives for refusing its Redis.
redis_error_of() {
  sed -n 's/.*"redis_error":"\(.*\)","status".*/\1/p' <<<"$1"
}

# After Redis lost data (emptied, restored from an older backup: decisions
# 62 and 67) the nodes refuse every request until an operator accepts the
# data set. Then nothing more is started or written into it (no merchant,
# no store, no demo), and what runs stays up, refusing, for the steps of
# docs/faults.md ("Redis lost data"). True when that is the case.
stop_here_if_redis_lost() {
  local i url health lost=""
  for ((i = 1; i <= nodes; i++)); do
    url=$(url_of "node-$i")
    [[ -n "$url" ]] || continue
    health=$(curl -s -m "$health_wait_s" "$url/healthz" || true)
    if [[ "$health" == *'"status":"redis_state_lost"'* ]]; then
      lost+="  node-$i: $(redis_error_of "$health")"$'\n'
    fi
  done
  [[ -n "$lost" ]] || return 1
  trap - EXIT INT TERM # keep them up, refusing
  {
    echo "run.sh: the nodes refuse this Redis: it lost data they had seen"
    printf '%s' "$lost"
    echo "Nothing more was started or written. Redis, the card network and"
    echo "the nodes are left running for the steps of docs/faults.md (\"Redis"
    echo "lost data\"): reconcile, psp-admin end-reopened-sessions, then"
    echo "psp-admin accept-redis-state, then ./run.sh restart node-N."
    echo "(psp-admin: PSP_REDIS_PASSWORD=\$(cat $run_dir/redis_password)" \
         "build/runtime/psp-admin --redis $redis_addr ...)"
  } >&2
  return 0
}

# The secret kept in FILE (24 random bytes as hex, mode 600), made on first
# use and reused while the file lasts.
secret_in_file() {
  local file=$1
  if [[ ! -s "$file" ]]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$file")
  fi
  cat "$file"
}

# The embedded Redis asks for a password (any local user could otherwise
# read sealed cards and webhook secrets, or write ledger entries, on its
# loopback port). Kept across runs like the admin token; nodes and psp-admin
# get it in PSP_REDIS_PASSWORD. With --redis, the caller's
# PSP_REDIS_PASSWORD (if any) is passed on as it is.
redis_password=${PSP_REDIS_PASSWORD:-}
ensure_redis_password() {
  redis_password=$(secret_in_file "$run_dir/redis_password")
}

# "PSP_REDIS_PASSWORD=..." for spawn and env, or nothing without one.
redis_password_env() {
  [[ -z "$redis_password" ]] || echo "PSP_REDIS_PASSWORD=$redis_password"
}

ensure_admin_token() {
  admin_token=$(secret_in_file "$run_dir/admin_token")
}

secret_key_in() {
  sed -n 's/.*"secret_key": *"\([^"]*\)".*/\1/p' "$1" 2>/dev/null
}

# The key alone, for `curl -u "$(cat <run dir>/secret_key):"`.
write_secret_key() {
  (umask 077 && printf '%s\n' "$secret_key" >"$run_dir/secret_key")
}

# Reuses merchant.json while the PSP still accepts its key (same Redis
# data); otherwise creates a new merchant with psp-admin.
ensure_merchant() {
  local file=$run_dir/merchant.json key code
  key=$(secret_key_in "$file" || true)
  if [[ -n "$key" ]]; then
    code=$(printf 'Authorization: Bearer %s\n' "$key" |
           curl -s -m 10 -o /dev/null -w '%{http_code}' -H @- \
             "$(url_of node-1)/v1/checkout/sessions?limit=1" || true)
    if [[ "$code" == 200 ]]; then
      secret_key=$key
      write_secret_key
      echo "merchant: reusing $(sed -n 's/.*"merchant": *"\([^"]*\)".*/\1/p' \
        "$file") from $file"
      return 0
    fi
    echo "merchant: the key in $file is not accepted (HTTP $code);" \
         "creating a new merchant"
  fi
  (umask 077 && env $(redis_password_env) \
     "$build_dir/runtime/psp-admin" --redis "$redis_addr" \
     create-merchant --name "Demo Store" >"$file.tmp") || return 1
  mv -f "$file.tmp" "$file"
  secret_key=$(secret_key_in "$file")
  [[ -n "$secret_key" ]] || { echo "run.sh: psp-admin printed no key" >&2;
                              return 1; }
  write_secret_key
  echo "merchant: created $(sed -n \
    's/.*"merchant": *"\([^"]*\)".*/\1/p' "$file") (saved in $file)"
}

start_store() {
  local port
  free_port "$port_base"
  port=$free_port_found
  store_url=http://127.0.0.1:$port
  # The journal keeps the orders across a restart (or kill -9), so order
  # ids and their Idempotency-Keys never start over at ord_1.
  spawn store "$store_url" "PSP_API_KEY=$secret_key" -- \
    "$build_dir/examples/store/example-store" --host 127.0.0.1 \
    --port "$port" --psp-url "$(url_of node-1)" \
    --journal "$data_dir/store.journal"
  await_line store "example-store listening on"
}

# The Node store (examples/node_store) beside the C++ one, when Node >=
# node_major_min is here. Without Node, npm or its node_modules it is
# skipped with a note, not an error: the C++ store still shows everything.
node_store_url=""
start_node_store() {
  local port major dir=$repo_root/examples/node_store
  local npm_log=$log_dir/store-node-npm.log
  ((node_store)) || return 0
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < node_major_min)); then
    echo "node store: skipped (needs Node $node_major_min or newer:" \
         "$(node --version 2>/dev/null || echo 'no node on PATH'))"
    return 0
  fi
  if [[ ! -d "$dir/node_modules/stripe" ]]; then
    echo "node store: npm ci in $dir (log: $npm_log)"
    if ! (cd "$dir" && timeout "$npm_ci_wait_s" npm ci --no-audit --no-fund) \
         >"$npm_log" 2>&1; then
      echo "node store: skipped (npm ci failed; last lines of $npm_log:)"
      tail -n 5 "$npm_log"
      return 0
    fi
  fi
  # Port 0: the kernel picks one Node can bind. free_port's connect probe
  # cannot see a port that is bound but not listening, which Node then
  # fails to bind. The journal keeps its orders and its webhook endpoint
  # across a restart, as the C++ store's does.
  local args=(node "$dir/store.mjs" --psp-url "$(url_of node-1)"
              --journal "$data_dir/store-node.journal")
  spawn store-node "" "PSP_API_KEY=$secret_key" -- "${args[@]}" --port 0
  await_line store-node "node-store listening on" || return 1
  port=$(sed -n 's/^node-store listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
           "$log_dir/store-node.log" | head -n 1)
  [[ -n "$port" ]] || { echo "run.sh: store-node printed no port" >&2;
                        return 1; }
  node_store_url=http://127.0.0.1:$port
  echo "$node_store_url" >"$pid_dir/store-node.url"
  # ./run.sh restart store-node starts it on this port again: its endpoint
  # at the PSP is registered for this URL.
  (umask 077 && printf '%q ' store-node "$node_store_url" \
     "PSP_API_KEY=$secret_key" -- "${args[@]}" --port "$port" \
     >"$pid_dir/store-node.cmd")
}

# Runs the demo against the store and the last node; returns its status.
run_demo() {
  local psp_url status=0
  psp_url=$(url_of "node-$nodes")
  echo
  echo "== checkout demo: store -> node-1, hosted pages on node-$nodes =="
  "$build_dir/examples/demo/checkout-demo" --store "$store_url" \
    --psp "$psp_url" --checkouts "$checkouts" --timeout-s "$demo_timeout_s" \
    2>&1 | tee "$log_dir/demo.log" || status=$?
  if [[ -n "$node_store_url" ]]; then
    echo
    echo "== Node store demo: store-node (stripe package) -> node-1," \
         "hosted pages on node-$nodes =="
    node "$repo_root/examples/node_store/demo.mjs" --store "$node_store_url" \
      --pay-at "$psp_url" --checkouts "$node_store_checkouts" \
      --timeout-s "$demo_timeout_s" 2>&1 |
      tee "$log_dir/store-node-demo.log" || status=$?
  fi
  return "$status"
}

fresh_checkout_url() {
  local url
  url=$(sed -n 's/^fresh checkout URL (open in a browser): //p' \
          "$log_dir/demo.log" | tail -n 1)
  if [[ -z "$url" ]]; then
    url=$(curl -s -m 10 -o /dev/null -w '%{redirect_url}' -X POST \
            -d product=tshirt -d quantity=1 "$store_url/buy" || true)
  fi
  echo "${url:-"(could not create one; POST $store_url/buy)"}"
}

print_summary() {
  local n
  echo
  echo "== cluster running (run dir: $run_dir) =="
  for n in $(known_names); do
    printf '  %-13s pid %-8s %s\n' "$n" "$(pid_of "$n")" "$(url_of "$n")"
  done
  [[ -f "$pid_dir/redis.pid" ]] ||
    printf '  %-13s %-12s %s\n' redis external "redis://$redis_addr"
  echo "  logs:         $log_dir/"
  echo "  admin token:  $run_dir/admin_token  (e.g. curl -H \"Authorization:" \
       "Bearer \$(cat $run_dir/admin_token)\" $(url_of node-1)/admin/dead_letters)"
  [[ ! -f "$pid_dir/redis.pid" ]] ||
    echo "  redis password: $run_dir/redis_password  (e.g." \
         "PSP_REDIS_PASSWORD=\$(cat $run_dir/redis_password)" \
         "$build_dir/runtime/psp-admin --redis $redis_addr verify-ledger)"
  echo "  API key:      $run_dir/secret_key, the demo merchant's (e.g." \
       "curl -u \"\$(cat $run_dir/secret_key):\"" \
       "$(url_of node-1)/v1/payment_intents -d amount=2000 -d currency=usd" \
       "-d confirm=true -d payment_method=pm_card_visa)"
  echo
  echo "store:          $store_url/"
  [[ -z "$node_store_url" ]] ||
    echo "node store:     $node_store_url/" \
         "(orders: $node_store_url/orders.json)"
  echo "open to pay:    $(fresh_checkout_url)"
  echo "  (test cards: 4242424242424242 ok, 4000000000000002 declined;" \
       "any future expiry, any CVC)"
  echo "status:         $(self_command) status$(run_dir_flag)"
  echo "stop:           $(self_command) stop$(run_dir_flag)"
}

# How to call this script from where the user stands.
self_command() {
  [[ "$caller_dir" == "$repo_root" ]] && echo ./run.sh ||
    echo "$repo_root/run.sh"
}

# The --run-dir a later command needs to find this run ("" for the default).
run_dir_flag() {
  [[ "$run_dir" == "$repo_root/run" ]] || echo " --run-dir $run_dir"
}

cmd_start() {
  if any_up; then
    {
      echo "run.sh: a cluster is already running in $run_dir:"
      cmd_status || true
      echo "(stop it first with ./run.sh stop$(run_dir_flag))"
    } >&2
    return 1
  fi
  stop_all >/dev/null # forget stale pid files of a cluster that died
  mkdir -p "$data_dir" "$log_dir" "$pid_dir"
  # Redis's AOF holds webhook secrets and sealed cards: the run's user only.
  chmod 700 "$data_dir"
  "$repo_root/deps.sh"
  if ((build_first)); then
    build
  else
    local binary
    for binary in runtime/psp-node runtime/psp-admin \
        examples/card_network_sim/card-network-sim \
        examples/store/example-store examples/demo/checkout-demo; do
      [[ -x "$build_dir/$binary" ]] ||
        die "--no-build: $build_dir/$binary is missing (run without --no-build)"
    done
  fi
  trap on_abort EXIT
  trap 'exit 130' INT TERM
  ensure_admin_token
  start_redis
  start_card_network
  start_nodes
  if stop_here_if_redis_lost; then
    return 3
  fi
  ensure_merchant
  start_store
  start_node_store
  trap - EXIT INT TERM # from here on the cluster stays up, come what may
  local demo_status=0
  run_demo || demo_status=$?
  print_summary
  if ((demo_status != 0)); then
    echo "run.sh: the demo failed (status $demo_status); the cluster is" \
         "left running for inspection" >&2
    return 1
  fi
}

# One node stopped (or killed) and started again with its own port, id and
# cluster endpoint, while the rest of the cluster keeps running.
# The line each restartable process prints once it serves.
ready_line_of() {
  case "$1" in
    node-[0-9]|node-[0-9][0-9]) echo "psp-node $1 listening on" ;;
    card-network) echo "card-network-sim listening on" ;;
    redis) echo "Ready to accept connections" ;;
    store) echo "example-store listening on" ;;
    store-node) echo "node-store listening on" ;;
    *) return 1 ;;
  esac
}

cmd_restart() {
  local ready
  ready=$(ready_line_of "$target") ||
    die "restart takes node-N, card-network, redis, store or store-node," \
        "not '$target'"
  [[ -f "$pid_dir/$target.cmd" ]] ||
    die "$target was not started from $run_dir by this run.sh"
  if is_up "$target"; then
    echo "stopping $target"
    stop_group "$target"
  fi
  local saved
  saved=$(cat "$pid_dir/$target.cmd")
  eval "spawn $saved"
  await_line "$target" "$ready"
  echo "$target up again: $(url_of "$target")"
  if [[ "$target" == node-* ]]; then
    local health
    health=$(curl -s -m "$health_wait_s" "$(url_of "$target")/healthz" || true)
    if [[ "$health" == *'"status":"redis_state_lost"'* ]]; then
      # Up, but refusing every request (decision 67): not a success.
      echo "run.sh: $target refuses its Redis: $(redis_error_of "$health")" >&2
      echo "(docs/faults.md, \"Redis lost data\": a restart does not clear" \
           "it; psp-admin accept-redis-state does)" >&2
      return 3
    fi
  fi
}

case "$command" in
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  restart) cmd_restart ;;
esac
