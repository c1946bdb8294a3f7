#!/usr/bin/env bash
# The parens program as a user runs it: outputs (JSON keys with valid_fraction, the table, 5 of
# the 50 samples), determinism, the 12-layer schedule, --data, checkpoints, gradient mode, and a
# one-line error with exit status 2 for each bad input.
#   parens_cli.sh PARENS_EXE WORK_DIR
set -u
parens=$1; work=$2/parens_cli
rm -rf "$work"; mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --json: one object per mixer with the documented keys, 50 samples, valid_fraction in [0, 1]
out=$("$parens" --steps 40 --json) || fail "--json run exited $?"
[[ $(wc -l <<<"$out") -eq 2 ]] || fail "--json printed $(wc -l <<<"$out") lines, expected 2"
python3 - "$out" <<'PY' || fail "--json objects lack keys or values"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["mixer"] for r in rows] == ["grassmann", "attention"], rows
for r in rows:
    for k in ("mixer", "layers", "params", "steps", "eval_loss", "ms_per_step", "samples", "valid_fraction", "loss_curve"):
        assert k in r, k
    assert r["steps"] == 40 and r["layers"] == 1 and len(r["samples"]) == 50
    assert 0 <= r["valid_fraction"] <= 1
    assert set("".join(r["samples"])) <= set("()"), r["samples"]
    valid = sum(1 for s in r["samples"] if s and s.count("(") == s.count(")")
                and all(s[:i].count("(") >= s[:i].count(")") for i in range(len(s) + 1)))
    assert abs(r["valid_fraction"] - valid / 50) < 1e-12, (r["valid_fraction"], valid)
assert rows[0]["params"] == 3840 and rows[1]["params"] == 4192
PY

# same seed, same output (the timing aside); another seed, other data and samples
strip_time() { python3 -c "import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k not in ('ms_per_step', 'tokens_per_s', 'gflops_per_s', 'peak_gflops_per_s', 'peak_fraction')})) for l in sys.stdin]"; }
a=$("$parens" --steps 40 --json --seed 7 | strip_time)
b=$("$parens" --steps 40 --json --seed 7 | strip_time)
c=$("$parens" --steps 40 --json --seed 8 | strip_time)
[[ "$a" == "$b" ]] || fail "same seed gave different output"
[[ "$a" != "$c" ]] || fail "different seeds gave the same output"

# human output: the table with the reference rows, the valid share, 5 samples
out=$("$parens" --steps 30 --mixer grassmann --layers 2 --dtype f64 --order file) || fail "table run exited $?"
grep -q "gflow grassmann (2L, f64)" <<<"$out" || fail "comparison table missing"
grep -q "reference Grassmann (Python) .* 0.6660 .* 246 ms .* 20 %" <<<"$out" || fail "Grassmann reference row missing"
grep -q "reference attention (Python) .* 0.5967 .* 352 ms .* 100 %" <<<"$out" || fail "attention reference row missing"
grep -q "^valid_fraction" <<<"$out" || fail "valid share missing"
grep -q "mean length 3[45]\." <<<"$out" || fail "data line missing or mean length not about 35"
shown=$(sed -n '/^samples:/{n;p}' <<<"$out" | wc -w)
[[ $shown -le 5 ]] || fail "showed $shown samples, expected at most 5"
"$parens" --steps 10 --layers 6 --mixer attention >/dev/null || fail "--layers 6 failed"
"$parens" --steps 10 --layers 4 >/dev/null || fail "--layers 4 failed"

# --layers 12: the paper's schedule, Grassmann only (also under the default --mixer both)
out=$("$parens" --steps 10 --layers 12 --json) || fail "--layers 12 exited $?"
python3 - "$out" <<'PY' || fail "--layers 12 is not the 12-layer Grassmann schedule"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(rows) == 1 and rows[0]["mixer"] == "grassmann" and rows[0]["layers"] == 12, rows
assert rows[0]["params"] == 1120 + 12 * 2720, rows[0]["params"]
PY

# --data: bracket strings from a file
printf '(())\n()()()\n((()))()\n' >"$work/brackets.txt"
out=$("$parens" --data "$work/brackets.txt" --steps 20 --mixer grassmann --json) || fail "--data run exited $?"
steps=$(python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['steps'])" <<<"$out")
[[ "$steps" == 20 ]] || fail "--data run trained '$steps' steps, expected 20"

# checkpoints: save, load and continue, gradient mode with a bracket string
"$parens" --steps 30 --mixer grassmann --save "$work/g.safetensors" >/dev/null || fail "--save failed"
[[ -s "$work/g.safetensors" && ! -e "$work/g.safetensors.tmp" ]] || fail "--save left no file or a temp file"
"$parens" --steps 5 --mixer grassmann --load "$work/g.safetensors" >/dev/null || fail "--load failed"
grad=$("$parens" --mixer grassmann --load "$work/g.safetensors" --grad-doc '(()())' --save-grads "$work/grads.safetensors" --dtype f64) ||
    fail "gradient mode failed"
[[ "$grad" =~ ^loss\ [0-9]\.[0-9]{1,16}(e[-+][0-9]+)?$ ]] || fail "gradient mode printed '$grad', expected 'loss <17 significant digits>'"
[[ -s "$work/grads.safetensors" ]] || fail "no gradient file"

expect_error() {   # expect_error WORD ARGS...: exit 2, one line on stderr that contains WORD
    local word=$1; shift
    local err rc
    err=$("$parens" "$@" 2>&1 >/dev/null); rc=$?
    [[ $rc -eq 2 ]] || fail "'$*' exited $rc, expected 2"
    [[ $(wc -l <<<"$err") -eq 1 ]] || fail "'$*' printed $(wc -l <<<"$err") lines on stderr: $err"
    grep -q -F -- "$word" <<<"$err" || fail "'$*' said '$err', expected it to mention '$word'"
    [[ $err == "parens: "* && $err != *"parens: parens:"* ]] || fail "'$*' said '$err', expected the program's name once, first"
    [[ ${#err} -lt 200 ]] || fail "'$*' said ${#err} characters: $err"
}
expect_error "--bogus" --bogus
expect_error "1, 2, 4, 6, 12" --layers 3
expect_error "attention is built for 1, 2, 4, 6" --layers 12 --mixer attention
expect_error "--steps" --steps 0
expect_error "--mixer" --mixer convolution
expect_error "no such file" --data "$work/missing.txt"
printf '(())\n(a)\n' >"$work/letters.txt"
expect_error "document 2" --data "$work/letters.txt" --steps 5
expect_error "model" --mixer attention --steps 5 --load "$work/g.safetensors"
expect_error "use --layers 1" --mixer grassmann --layers 12 --steps 5 --load "$work/g.safetensors"
expect_error "--grad-doc" --mixer grassmann --load "$work/g.safetensors" --grad-doc '(x)' --save-grads "$work/x.safetensors"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "parens CLI: all checks passed"
