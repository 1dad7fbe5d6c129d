#!/bin/sh
# Runs the Node suite (official stripe client, webhook verification, hosted
# page in Chromium) against built binaries. CTest passes PSP_NODE_BINARY,
# PSP_ADMIN_BINARY and CARD_SIM_BINARY; by hand they default to build/.
# Installs what is missing: node_modules (npm ci from the lock file) and
# Debian's chromium (apt-get, as root).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if ! command -v node >/dev/null 2>&1; then
  echo "run.sh: node is not installed (Node 20 or newer is needed)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "run.sh: Node $(node --version) is too old: stripe and playwright-core" \
       "need Node 20 or newer" >&2
  exit 1
fi

if [ ! -d node_modules ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi

chromium=${CHROMIUM_BINARY:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    echo "run.sh: $chromium is missing; install it: apt-get install chromium" >&2
    exit 1
  fi
fi

# One test file at a time: each starts its own stack, and this box has few
# cores.
exec node --test --test-concurrency=1 "$here"/*.test.mjs
