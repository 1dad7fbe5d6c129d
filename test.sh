#!/usr/bin/env bash
# Builds everything into build/ and runs the whole CTest suite.
#   ./test.sh              all tests
#   ./test.sh -R payment   extra arguments go to ctest unchanged
# Exits with ctest's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

./deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2

status=0
ctest --test-dir build --output-on-failure -j2 --timeout 300 "$@" || status=$?
exit "$status"
