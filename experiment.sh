#!/usr/bin/env bash
# Runs a fault-injection experiment against a local PSP cluster and checks
# that no payment is lost or charged twice.
#
#   ./experiment.sh EXPERIMENT.json [--run-dir DIR] [--binaries BUILD_DIR] [--no-build]
#                   [--port-base N]
#
# Builds psp-node, psp-admin, card-network-sim and example-store into
# BUILD_DIR (default build/) unless --no-build, then runs
# examples/experiments/run_experiment.mjs. Each run gets its own folder under
# DIR (default run/experiments): logs, Redis data, result.json, report.html.
# Exit status: 0 every invariant held (or, for an experiment with
# "expect_violation", that invariant was violated), 1 an invariant failed,
# 2 bad arguments, 3 the run broke. Whatever the outcome, every process the
# run started is stopped (the runner stops them; this script's trap kills any
# survivor listed in the run's pid files).
set -euo pipefail
caller_pwd=$(pwd)
cd "$(dirname "${BASH_SOURCE[0]}")"
repo_root=$(pwd)

# Paths on the command line are relative to where the caller stands.
from_caller() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$caller_pwd/$1" ;;
  esac
}

# The usage line, then the experiments that come with the repository, each
# with the first sentence of its description (python3 reads the JSON).
# Exit status $1 (default 2: bad arguments; --help: 0).
usage() {
  sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  if command -v python3 >/dev/null 2>&1; then
    echo "experiments in examples/experiments:" >&2
    python3 - "$repo_root"/examples/experiments/*.json >&2 <<'PY' || true
import json, sys
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        continue
    if not isinstance(doc, dict) or "faults" not in doc:
        continue  # package.json and the like
    text = doc.get("description", "").split(". ")[0]
    if len(text) > 100:
        text = text[:100].rsplit(" ", 1)[0] + " ..."
    print(f"  {path.rsplit('/', 1)[-1]:<22} {text}")
PY
  fi
  exit "${1:-2}"
}

experiment=""
run_dir=$repo_root/run/experiments
binaries=$repo_root/build
build=1
port_base=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --run-dir) run_dir=${2:-}; shift 2 || usage ;;
    --run-dir=*) run_dir=${1#*=}; shift ;;
    --binaries) binaries=${2:-}; shift 2 || usage ;;
    --binaries=*) binaries=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    # Where the free-port scan starts (the file's port_base, 19000 by
    # default): for two runs side by side.
    --port-base) port_base=${2:-}; shift 2 || usage ;;
    --port-base=*) port_base=${1#*=}; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "experiment.sh: unknown option '$1'" >&2; usage ;;
    *) [[ -z "$experiment" ]] || usage; experiment=$1; shift ;;
  esac
done
[[ -n "$experiment" ]] || usage
[[ -n "$run_dir" && -n "$binaries" ]] || usage
experiment=$(from_caller "$experiment")
run_dir=$(from_caller "$run_dir")
binaries=$(from_caller "$binaries")
[[ -f "$experiment" ]] || { echo "experiment.sh: no such file: $experiment" >&2; exit 2; }

for tool in node redis-server redis-cli cmake; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    [[ "$tool" == cmake && $build == 0 ]] && continue
    echo "experiment.sh: $tool is not installed (./deps.sh installs what the" \
         "project needs; Node 20 or newer for the runner)" >&2
    exit 2
  fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "experiment.sh: Node $(node --version) is too old; Node 20 or newer is needed" >&2
  exit 2
fi

mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
mkdir -p "$binaries"
binaries=$(cd "$binaries" && pwd)

targets=(psp-node psp-admin card-network-sim example-store)
if ((build)); then
  build_log=$run_dir/build.log
  echo "building into $binaries (log: $build_log)"
  if ! { { [[ -f "$binaries/CMakeCache.txt" ]] ||
           cmake -S "$repo_root" -B "$binaries" -DCMAKE_BUILD_TYPE=RelWithDebInfo; } &&
         cmake --build "$binaries" -j2 --target "${targets[@]}"; } >"$build_log" 2>&1; then
    echo "experiment.sh: build failed; last lines of $build_log:" >&2
    tail -n 30 "$build_log" >&2
    exit 3
  fi
fi

# Last resort after the runner: SIGKILL any process still listed in a pid
# file of a run started by this invocation, if it still runs our binary.
marker=$(mktemp "${TMPDIR:-/tmp}/experiment-start.XXXXXX")
runner_pid=""
kill_leftovers() {
  local f pid cmd
  if [[ -n "$runner_pid" ]] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$runner_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$runner_pid" 2>/dev/null || true
  fi
  while IFS= read -r f; do
    pid=$(tr -dc '0-9' <"$f" 2>/dev/null || true)
    [[ -n "$pid" ]] || continue
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)
    case "$cmd" in
      *redis-server*|*card-network-sim*|*psp-node*)
        echo "experiment.sh: stopping leftover pid $pid ($f)" >&2
        kill -CONT "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done < <(find "$run_dir" -path '*/pids/*.pid' -newer "$marker" 2>/dev/null)
  rm -f "$marker"
}
trap kill_leftovers EXIT
trap 'exit 130' INT TERM

status=0
node "$repo_root/examples/experiments/run_experiment.mjs" "$experiment" \
  --run-dir "$run_dir" --binaries "$binaries" \
  ${port_base:+--port-base "$port_base"} &
runner_pid=$!
wait "$runner_pid" || status=$?
runner_pid=""
exit "$status"
