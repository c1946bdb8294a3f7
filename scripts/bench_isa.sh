#!/usr/bin/env bash
# The names step on two instruction sets, in one run: the native build (build/) and a build for
# AVX2 machines (build-x86-64-v3/, -Dmarch=x86-64-v3), run alternately so that both see the same
# machine load. Prints the median time per step of each run and the ratio.
#   scripts/bench_isa.sh [ROUNDS] [MARCH]      (defaults: 3 rounds, x86-64-v3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
march=${2:-x86-64-v3}
other=build-$march
bash scripts/setup.sh build >/dev/null
bash scripts/setup.sh "$other" -Dmarch="$march" -Dtests=false >/dev/null
ninja -C build examples/names >/dev/null
ninja -C "$other" examples/names >/dev/null
for ((i = 1; i <= rounds; ++i)); do
    for dir in build "$other"; do
        for dtype in f32 f64; do
            "$dir/examples/names" --mixer grassmann --dtype "$dtype" --steps 3000 --json |
                python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(sys.argv[1], r["dtype"], r["instruction_set"], r["ms_per_step"]*1000)' "$dir"
        done
    done
done | python3 -c '
import sys, statistics, collections
times = collections.defaultdict(list); isa = {}
for line in sys.stdin:
    build, dtype, rest = line.split(" ", 2)
    name, us = rest.rsplit(" ", 1)
    times[(build, dtype)].append(float(us)); isa[build] = name
builds = list(dict.fromkeys(b for b, _ in times))
print("%-22s%-30s%12s%12s" % ("build", "compiled for", "f32 us/step", "f64 us/step"))
for b in builds:
    print("%-22s%-30s" % (b, isa[b]) + "".join("%12.2f" % statistics.median(times[(b, d)]) for d in ("f32", "f64")))
if len(builds) == 2:
    for d in ("f32", "f64"):
        print("ratio %s / %s (%s): %.2f" % (builds[1], builds[0], d,
              statistics.median(times[(builds[1], d)]) / statistics.median(times[(builds[0], d)])))
'
