#!/usr/bin/env bash
# The main job: builds gflow, then runs the name-generation benchmark for both mixers on the
# default data and prints the comparison table. Extra arguments go to the names program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build >/dev/null
ninja -C build examples/names >/dev/null
exec ./build/examples/names --mixer both "$@"
