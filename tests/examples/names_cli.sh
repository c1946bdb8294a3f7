#!/usr/bin/env bash
# The names program as a user runs it: outputs, determinism, checkpoints, gradient mode, and a
# one-line error with exit status 2 for each bad input.
#   names_cli.sh NAMES_EXE DATA_FILE WORK_DIR
set -u
names=$(realpath "$1"); data=$2; work=$3/names_cli
rm -rf "$work"; mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

# --json: one object per mixer with the documented keys
out=$("$names" --data "$data" --steps 40 --json) || fail "--json run exited $?"
[[ $(wc -l <<<"$out") -eq 2 ]] || fail "--json printed $(wc -l <<<"$out") lines, expected 2"
python3 - "$out" <<'PY' || fail "--json objects lack keys or values"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["mixer"] for r in rows] == ["grassmann", "attention"], rows
for r in rows:
    for k in ("mixer", "layers", "params", "steps", "eval_loss", "ms_per_step", "samples"):
        assert k in r, k
    assert r["steps"] == 40 and r["layers"] == 1 and len(r["samples"]) == 20
assert rows[0]["params"] == 3840 and rows[1]["params"] == 4192
PY

# no --data, from another working directory: the data that ships in data/ is found all the same
out=$(cd / && "$names" --steps 10 --mixer grassmann --json) || fail "a run from / without --data exited $?"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "a run from / without --data printed '$out'"

# same seed, same output (the timing aside); another seed, other samples
strip_time() { python3 -c "import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k not in ('ms_per_step', 'tokens_per_s', 'gflops_per_s', 'peak_gflops_per_s', 'peak_fraction')})) for l in sys.stdin]"; }
a=$("$names" --data "$data" --steps 40 --json --seed 7 | strip_time)
b=$("$names" --data "$data" --steps 40 --json --seed 7 | strip_time)
c=$("$names" --data "$data" --steps 40 --json --seed 8 | strip_time)
[[ "$a" == "$b" ]] || fail "same seed gave different output"
[[ "$a" != "$c" ]] || fail "different seeds gave the same output"

# human output: the table and 20 samples per mixer
out=$("$names" --data "$data" --steps 30 --mixer grassmann --layers 2 --dtype f64 --order file) || fail "table run exited $?"
grep -q "gflow grassmann (2L, f64)" <<<"$out" || fail "comparison table missing"
grep -q "reference Grassmann (Python)" <<<"$out" || fail "reference row missing"
"$names" --data "$data" --steps 10 --layers 4 --mixer attention >/dev/null || fail "--layers 4 failed"

# checkpoints: save, load and continue, gradient mode
"$names" --data "$data" --steps 30 --mixer grassmann --save "$work/g.safetensors" >/dev/null || fail "--save failed"
[[ -s "$work/g.safetensors" && ! -e "$work/g.safetensors.tmp" ]] || fail "--save left no file or a temp file"
[[ -s "$work/g.train.safetensors" ]] || fail "--save wrote no training state beside the weights (g.train.safetensors)"
# the weights file holds the model's weights alone: nothing of the optimizer, no step
python3 - "$work/g.safetensors" <<'PY' || fail "g.safetensors holds more than the weights"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
header = json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])
metadata = header.pop("__metadata__", {})
assert len(header) == 9 and not any(k.startswith("optimizer.") for k in header), sorted(header)
assert "gflow.step" not in metadata, metadata
PY
# a file made for another model: one line, in the flags' words, naming the flag that fits it
err=$(cd "$work" && "$names" --data "$(realpath "$data")" --steps 5 --mixer attention --load g.safetensors 2>&1 >/dev/null)
expected="names: g.safetensors holds a grassmann model (1 layer, 3,840 parameters); this run builds attention (4,192): use --mixer grassmann"
[[ "$err" == "$expected" ]] || fail "loading a grassmann file into attention said '$err', expected '$expected'"
[[ ${#err} -lt 200 ]] || fail "the mismatch message is ${#err} characters long"
err=$(cd "$work" && "$names" --data "$(realpath "$data")" --steps 5 --mixer grassmann --layers 2 --load g.safetensors 2>&1 >/dev/null)
[[ "$err" == *"this run builds grassmann with 2 layers (6,560): use --layers 1" ]] || fail "--layers 2 on a 1-layer file said '$err'"
"$names" --data "$data" --steps 5 --mixer grassmann --load "$work/g.safetensors" >/dev/null || fail "--load failed"
grad=$("$names" --data "$data" --mixer grassmann --load "$work/g.safetensors" --grad-doc emma --save-grads "$work/grads.safetensors" --dtype f64) || fail "gradient mode failed"
# {:.17g}: up to 17 significant digits (%g drops trailing zeros), enough to round-trip a double
[[ "$grad" =~ ^loss\ [0-9]\.[0-9]{1,16}(e[-+][0-9]+)?$ ]] || fail "gradient mode printed '$grad', expected 'loss <up to 17 significant digits>'"
[[ -s "$work/grads.safetensors" ]] || fail "no gradient file"

# --resume: a run split in two (--stop-after, then --resume) ends with the same weights, bit for bit
"$names" --data "$data" --mixer grassmann --steps 150 --save "$work/once.safetensors" >/dev/null || fail "run at once failed"
"$names" --data "$data" --mixer grassmann --steps 150 --stop-after 70 --save "$work/half.safetensors" >/dev/null || fail "first half failed"
"$names" --data "$data" --mixer grassmann --steps 150 --resume "$work/half.safetensors" --save "$work/twice.safetensors" >/dev/null || fail "resume failed"
cmp -s "$work/once.safetensors" "$work/twice.safetensors" || fail "a run split in two differs from the run done at once"
cmp -s "$work/once.train.safetensors" "$work/twice.train.safetensors" || fail "a run split in two ends in another training state"

expect_error() {   # expect_error WORD ARGS...: exit 2, one line on stderr that contains WORD
    local word=$1; shift
    local err rc
    err=$("$names" "$@" 2>&1 >/dev/null); rc=$?
    [[ $rc -eq 2 ]] || fail "'$*' exited $rc, expected 2"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "'$*' printed $(wc -l <<<"$err") lines on stderr: $err"
    grep -q -F -- "$word" <<<"$err" || fail "'$*' said '$err', expected it to mention '$word'"
    [[ $err == "names: "* && $err != *"names: names:"* ]] || fail "'$*' said '$err', expected the program's name once, first"
    [[ ${#err} -lt 200 ]] || fail "'$*' said ${#err} characters: $err"
}
expect_error "--bogus" --bogus
expect_error "--layers 3" --data "$data" --layers 3
expect_error "1, 2, 4" --data "$data" --layers 3
expect_error "--dtype" --data "$data" --dtype f16
expect_error "--steps" --data "$data" --steps 0
expect_error "--steps" --data "$data" --steps -5
expect_error "--steps" --data "$data" --steps abc
expect_error "--mixer" --data "$data" --mixer convolution
expect_error "--order" --data "$data" --order random
expect_error "no such file" --data "$work/missing.txt"
expect_error "no-such-dir" --data "$data" --mixer grassmann --steps 5 --save "$work/no-such-dir/w.safetensors"
expect_error "model" --data "$data" --mixer attention --steps 5 --load "$work/g.safetensors"
expect_error "--grad-doc needs --load" --data "$data" --mixer grassmann --grad-doc emma --save-grads "$work/x"
expect_error "--steps 150 (this run: --steps 300)" --data "$data" --mixer grassmann --steps 300 --resume "$work/half.safetensors"
expect_error "grads.train.safetensors is missing" --data "$data" --mixer grassmann --steps 150 --resume "$work/grads.safetensors"
expect_error "not weights: the weights are half.safetensors beside it" --data "$data" --mixer grassmann --steps 150 --resume "$work/half.train.safetensors"
expect_error "not weights" --data "$data" --mixer grassmann --steps 5 --load "$work/g.train.safetensors"
"$names" --data "$data" --mixer grassmann --steps 150 --stop-after 30 --save "$work/early.safetensors" >/dev/null || fail "--stop-after 30 failed"
cp "$work/half.safetensors" "$work/mixed.safetensors"; cp "$work/early.train.safetensors" "$work/mixed.train.safetensors"
expect_error "its weights are of step 70, its training state mixed.train.safetensors of step 30" --data "$data" --mixer grassmann --steps 150 --resume "$work/mixed.safetensors"
expect_error "--stop-after" --data "$data" --mixer grassmann --steps 150 --stop-after 151
printf 'abc\n\xff\n' >"$work/bad_utf8.txt"
expect_error "bad_utf8.txt:2" --data "$work/bad_utf8.txt"
printf 'emma\nOlivia\n' >"$work/upper.txt"
expect_error "distinct characters" --data "$work/upper.txt" --steps 5

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "names CLI: all checks passed"
