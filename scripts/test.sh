#!/usr/bin/env bash
# Builds gflow and runs the whole test suite (unit, gradient, model, I/O, must-not-compile and
# example tests). Extra arguments go to `meson test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build
ninja -C build
status=0
meson test -C build --print-errorlogs "$@" || status=$?
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
skipped = sum(r == "SKIP" for r in results)
print(f"{passed} passed, {len(results) - passed - skipped} failed, {skipped} skipped")
PY
exit $status
