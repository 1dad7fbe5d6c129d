#!/usr/bin/env bash
# Installs the Debian packages this project builds and runs with, and only
# those that are missing. Safe to run again and again: when everything is
# present it changes nothing and says so in one line.
#
# Works as root (or through sudo) with no terminal: CI=true, no stdin.
# It never starts the distribution's redis service; run.sh and the tests
# start their own redis-server processes.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev libhiredis-dev libmsgpack-cxx-dev libcpp-httplib-dev
  nlohmann-json3-dev libspdlog-dev libssl-dev libjemalloc-dev
  libcurl4-openssl-dev libzstd-dev
  libgtest-dev googletest
  redis-server curl
)

# True when dpkg reports the package as fully installed.
is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps.sh: all ${#packages[@]} packages are present"
  exit 0
fi

as_root=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: missing ${missing[*]}; run as root (or install sudo)" >&2
    exit 1
  fi
  as_root=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit code 101 tells invoke-rc.d not to start services, so
# installing redis-server does not launch the distribution's redis.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod +x "$policy"
  made_policy=1
fi
remove_policy() {
  if ((made_policy)); then
    "${as_root[@]}" rm -f "$policy"
  fi
}
trap remove_policy EXIT

apt_opts=(-y -q -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)
"${as_root[@]}" apt-get update -q </dev/null >/dev/null
"${as_root[@]}" apt-get install "${apt_opts[@]}" --no-install-recommends \
  "${missing[@]}" </dev/null >/dev/null

echo "deps.sh: installed ${missing[*]}"
