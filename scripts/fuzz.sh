#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang-16, build-fuzz/) and runs each for a bounded
# time, starting from the seed corpus in fuzz/corpus/; what they learn is kept in
# build-fuzz/fuzz/corpus/ for the next run. Prints executions and coverage per target.
# A crash, a timeout (10 s on one input) or running out of memory fails the run: the input is
# written to build-fuzz/fuzz/<target>-crash-<sha1> (or -timeout-, -oom-), and this script exits
# non-zero. Turn it into a regression test by copying it to tests/io/regression/<target>/.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
# Environment: GFLOW_FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]; got '$seconds'" >&2
    exit 2
fi
build_dir=${GFLOW_FUZZ_BUILD_DIR:-build-fuzz}
start=$SECONDS

# libFuzzer's runtime is in libclang-rt-16-dev, which clang-16 only recommends.
packages=(clang-16 libclang-rt-16-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "gflow: missing Debian packages: ${missing[*]}; run this as root or: sudo apt-get install ${missing[*]}" >&2
        exit 2
    fi
    echo "gflow: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The fuzz targets only: no test suite, no -march=native (inputs found here run anywhere).
options=(-Dfuzz=true -Dtests=false -Dbuildtype=debugoptimized -Dnative=false)
CXX=clang++-16 bash scripts/setup.sh "$build_dir" "${options[@]}"
meson configure "$build_dir" "${options[@]}" >/dev/null
targets=(text_data safetensors)
ninja -C "$build_dir" "${targets[@]/#/fuzz/fuzz_}"

status=0
echo "fuzzing each target for ${seconds} s"
meson test -C "$build_dir" --setup fuzz --suite fuzz --no-rebuild --num-processes 1 \
    --print-errorlogs "--test-args=-max_total_time=$seconds" || status=$?

python3 - "$build_dir/meson-logs/testlog-fuzz.json" <<'PY' || status=1
import json, re, sys
failed = False
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    test = json.loads(line)
    out = test.get("stdout", "") + test.get("stderr", "")
    def last(pattern):
        found = re.findall(pattern, out, re.M)
        return found[-1] if found else None
    stats = dict(re.findall(r"^stat::(\w+):\s*(\d+)", out, re.M))
    progress = last(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)")
    seeds = last(r"^#\d+\s+INITED cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)")
    print(f"{test['name']}: {test['result']} after {test['duration']:.0f} s")
    if progress:
        execs, cov, ft, corp, size = progress
        print(f"  executions {stats.get('number_of_executed_units', execs)}"
              f" ({stats.get('average_exec_per_sec', '?')}/s), coverage: cov {cov} edges,"
              f" ft {ft} features, corpus {corp} inputs ({size}),"
              f" {stats.get('new_units_added', '?')} new this run,"
              f" peak RSS {stats.get('peak_rss_mb', '?')} MB")
    if seeds:
        print(f"  from the corpus at start: cov {seeds[0]}, ft {seeds[1]}, corpus {seeds[2]} inputs")
    artifacts = re.findall(r"Test unit written to (\S+)", out)
    for artifact in artifacts:
        print(f"  FOUND A PROBLEM; input written to {artifact}")
    # Anything but a clean OK (a crash read as SKIP, say) fails the run.
    failed |= bool(artifacts) or test["result"] != "OK"
sys.exit(1 if failed else 0)
PY
echo "scripts/fuzz.sh: $((SECONDS - start)) s"
exit $status
