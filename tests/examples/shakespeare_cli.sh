#!/usr/bin/env bash
# The Tiny Shakespeare program as a user runs it, at width 64 and small batches (fast): the JSON
# keys, a loss that falls, the same losses with 1 and 2 threads, --save/--resume bit for bit, and a
# one-line error with exit status 2 for each bad flag.
#   shakespeare_cli.sh SHAKESPEARE_EXE DATA_FILE WORK_DIR
set -u
exe=$(realpath "$1"); data=$2; work=$3/shakespeare_cli
rm -rf "$work"; mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# OpenMP threads that spin while waiting make 2-thread steps many times slower on a busy machine.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
small=(--data "$data" --width 64 --batch 2 --threads 2)

# --json: a report before training and at the end, then the result, for each mixer
out=$("$exe" "${small[@]}" --tokens 1024 --json) || fail "--json run exited $?"
python3 - "$out" "${GFLOW_TEST_THREADS:-2}" <<'PY' || fail "--json lines lack keys or values: $out"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
threads = int(sys.argv[2])   # what --threads 2 gives: 1 in a build without OpenMP
assert [(r["kind"], r["mixer"]) for r in rows] == [
    ("report", "grassmann"), ("report", "grassmann"), ("result", "grassmann"),
    ("report", "attention"), ("report", "attention"), ("result", "attention")], rows
for r in rows:
    for k in ("tokens_per_s", "train_loss", "val_loss", "mixer", "width", "layers", "dtype"):
        assert k in r, k
    assert r["width"] == 64 and r["layers"] == 6 and r["dtype"] == "f32"
for r in rows[0], rows[3]:
    assert r["step"] == 0 and r["train_loss"] is None and abs(r["val_loss"] - 4.17) < 0.1, r
for r in rows[1], rows[4]:
    assert r["step"] == 2 and r["tokens"] == 1024 and r["tokens_per_s"] > 0, r
for r in rows[2], rows[5]:
    for k in ("params", "steps", "tokens", "peak_memory_mib", "samples", "batch", "threads", "seed"):
        assert k in r, k
    assert r["steps"] == 2 and r["tokens"] == 1024 and r["batch"] == 2 and r["threads"] == threads, r
    assert r["tokens_per_s"] > 0 and r["peak_memory_mib"] > 0, r
    assert len(r["samples"]) == 3 and all(len(s) == 256 for s in r["samples"]), r["samples"]
assert rows[2]["params"] == 322688 and rows[5]["params"] == 319616, (rows[2]["params"], rows[5]["params"])
PY

# the loss falls: 30 steps at width 64 (from ln 65 = 4.17)
out=$("$exe" "${small[@]}" --mixer grassmann --steps 30 --json) || fail "30-step run exited $?"
python3 - "$out" <<'PY' || fail "the loss did not fall in 30 steps: $out"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
first, last = rows[0], rows[-1]
assert last["kind"] == "result" and last["steps"] == 30
assert last["val_loss"] < first["val_loss"] - 0.4 and last["train_loss"] < 3.9, (first, last)
PY

# 1 and 2 threads: the same losses, samples and weights, bit for bit
strip_time() { python3 -c "
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    print(json.dumps({k: v for k, v in r.items()
                      if k not in ('seconds', 'tokens_per_s', 'tokens_per_s_overall', 'threads', 'peak_memory_mib',
                               'gflops_per_s', 'peak_gflops_per_s', 'peak_fraction')}))"; }
# (on both step schedules: by document, the default, and by operation)
for schedule in documents operations; do
    for mixer in grassmann attention; do
        run=(--data "$data" --width 64 --batch 2 --steps 3 --mixer $mixer --schedule $schedule --json)
        a=$("$exe" "${run[@]}" --threads 1 --save "$work/t1_$mixer.safetensors" | strip_time)
        b=$("$exe" "${run[@]}" --threads 2 --save "$work/t2_$mixer.safetensors" | strip_time)
        [[ -n "$a" && "$a" == "$b" ]] || fail "$mixer, $schedule: --threads 1 and --threads 2 gave other losses or samples"
        cmp -s "$work/t1_$mixer.safetensors" "$work/t2_$mixer.safetensors" || fail "$mixer, $schedule: --threads 1 and 2 gave other weights"
    done
done

# --save/--resume: a run split in two ends with the same weights and training state, bit for bit
"$exe" "${small[@]}" --mixer grassmann --steps 4 --save "$work/once.safetensors" >/dev/null || fail "run at once failed"
"$exe" "${small[@]}" --mixer grassmann --steps 4 --stop-after 2 --save "$work/half.safetensors" >/dev/null || fail "first half failed"
"$exe" "${small[@]}" --mixer grassmann --steps 4 --resume "$work/half.safetensors" --save "$work/twice.safetensors" >/dev/null || fail "resume failed"
cmp -s "$work/once.safetensors" "$work/twice.safetensors" || fail "a run split in two differs from the run done at once"
cmp -s "$work/once.train.safetensors" "$work/twice.train.safetensors" || fail "a run split in two ends in another training state"

expect_error() {   # expect_error WORD ARGS...: exit 2, one line on stderr that contains WORD
    local word=$1; shift
    local err rc
    err=$("$exe" "$@" 2>&1 >/dev/null); rc=$?
    [[ $rc -eq 2 ]] || fail "'$*' exited $rc, expected 2"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "'$*' printed $(wc -l <<<"$err") lines on stderr: $err"
    grep -q -F -- "$word" <<<"$err" || fail "'$*' said '$err', expected it to mention '$word'"
    [[ $err == "shakespeare: "* && $err != *"shakespeare: shakespeare:"* ]] || fail "'$*' said '$err', expected the program's name once, first"
    [[ ${#err} -lt 200 ]] || fail "'$*' said ${#err} characters: $err"
}
expect_error "--width 100" --data "$data" --width 100
expect_error "64, 128, 256" --data "$data" --width 100
expect_error "--batch 0" --data "$data" --batch 0
expect_error "--batch 99" --data "$data" --batch 99
expect_error "--bogus" --bogus
expect_error "--steps" --data "$data" --steps 0
expect_error "--steps" --data "$data" --steps abc
expect_error "--tokens" --data "$data" --tokens 0
expect_error "not both" --data "$data" --steps 3 --tokens 1000
expect_error "--lr" --data "$data" --lr -1
expect_error "--layers 5" --data "$data" --layers 5
expect_error "--layers 12" --data "$data" --layers 12 --mixer attention
expect_error "--width 256" --data "$data" --layers 12 --width 64
expect_error "--mixer" --data "$data" --mixer convolution
expect_error "--dtype" --data "$data" --dtype f16
expect_error "--save needs one --mixer" --data "$data" --save "$work/x.safetensors"
expect_error "--stop-after" --data "$data" --steps 4 --stop-after 5
expect_error "no such file" --data "$work/missing.txt"
expect_error "--steps 4 (this run: --steps 8)" "${small[@]}" --mixer grassmann --steps 8 --resume "$work/half.safetensors"
expect_error "holds a grassmann model" "${small[@]}" --mixer attention --steps 4 --resume "$work/half.safetensors"
expect_error "--schedule documents (this run: --schedule operations)" "${small[@]}" --mixer grassmann --steps 4 --schedule operations --resume "$work/half.safetensors"
expect_error "--schedule 'sideways'" --data "$data" --schedule sideways
for i in $(seq 300); do echo "abc def"; done >"$work/small_vocab.txt"
expect_error "distinct characters" --data "$work/small_vocab.txt" --width 64 --steps 1

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "shakespeare CLI: all checks passed"
