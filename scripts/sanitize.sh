#!/usr/bin/env bash
# Builds gflow with AddressSanitizer and UndefinedBehaviorSanitizer (g++, build-san/) and runs
# the whole test suite there: every suite but fuzz (scripts/fuzz.sh runs that) and pytorch
# (below). Any sanitizer report (memory error, leak, undefined behaviour) stops the program and
# fails its test.
#   scripts/sanitize.sh [MESON_TEST_ARGS...]
# Environment: CXX (default g++), GFLOW_SAN_BUILD_DIR (default build-san).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${GFLOW_SAN_BUILD_DIR:-build-san}
start=$SECONDS

# UBSan only prints and carries on by default; this makes its first report fatal.
no_recover=-fno-sanitize-recover=undefined
# -O1 (the sanitizers' own advice): about a third less compile time than -O2 (measured on the
# largest translation unit, bench/products.cpp: 116 -> 74 s), and CI's time is mostly compiling.
# -g1 after -g (the last one wins): line tables only, so a report's stack still names file and
# line, not the variables; tests/core/test_kernels.cpp (f32) compiled in 63 s instead of 90.
options=(-Db_sanitize=address,undefined -Doptimization=1 -Ddebug=true -Dnative=false
         "-Dcpp_args=-g1 $no_recover" "-Dcpp_link_args=$no_recover")
if [[ ${CXX:-g++} == clang* ]]; then
    options+=(-Db_lundef=false)   # clang: a shared_library fails to link without it
fi
# Installs the Debian packages when missing and configures the build directory the first time.
CXX=${CXX:-g++} bash scripts/setup.sh "$build_dir" "${options[@]}"
meson configure "$build_dir" "${options[@]}" >/dev/null   # an existing directory: same options
# Only what the tests run: a program no test runs (weighted_window, activation_memory, the docs'
# plotting tools) is left unbuilt.
mapfile -t needed < <(meson introspect "$build_dir" --targets --tests | python3 -c '
import json, os, sys
info = json.load(sys.stdin)
wanted = {d for test in info["tests"] for d in test["depends"]}
for target in info["targets"]:
    if target["id"] in wanted:
        for f in target["filename"]:
            print(os.path.relpath(f, sys.argv[1]))
' "$build_dir")
ninja -C "$build_dir" "${needed[@]}"

# Strict: stop at the first error, report leaks, check what is cheap to check.
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1:print_summary=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_summary=1:print_stacktrace=1
export LSAN_OPTIONS=report_objects=1
status=0
# The default test setup already leaves the fuzz suite out; --no-suite says so explicitly.
# Sanitized code runs 2-3 times slower, hence the longer timeouts. ninja has just built
# what the tests run, so meson test need not check again.
# Not the suite pytorch: its tests check PyTorch's side of the benchmarks (bench/torch_models runs
# no gflow code) or time gflow against it (bench/side_by_side, whose gflow runs are the example
# programs that the examples suite runs here too); under the sanitizers they took 160 s.
meson test -C "$build_dir" --no-rebuild --print-errorlogs --no-suite fuzz --no-suite pytorch --timeout-multiplier 4 "$@" || status=$?
python3 - "$build_dir/meson-logs/testlog.json" <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
skipped = sum(r == "SKIP" for r in results)
print(f"sanitizers (address, undefined): {passed} passed, "
      f"{len(results) - passed - skipped} failed, {skipped} skipped")
PY
echo "scripts/sanitize.sh: $((SECONDS - start)) s"
exit $status
