#!/usr/bin/python3
"""A quick check of bench/side_by_side.py (about 35 s; exit 0 when all pass, 1 otherwise, 77 when
torch or gflow's programs are missing):

1. --smoke --json on every model (Grassmann): one row per configuration, positive rates on both
   sides, ratio = gflow / PyTorch, gflow's share of peak absent or in (0, 1.5];
   PyTorch's figure the fastest of its thread layouts' medians, each layout run once;
2. the table (--steps 3, parens attention, 2 repetitions, one layout and then two): its header,
   its row, the load lines, the runs interleaved (the second repetition in reverse order);
3. errors are one line under 200 characters with a non-zero exit: a missing build directory, a
   bad flag or layout, and a torch that does not use OpenBLAS (a fake interpreter that reports
   the reference BLAS), which must be refused.

    /usr/bin/python3 bench/test_side_by_side.py [BUILD_DIR]      (default: build)
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "side_by_side.py"
BUILD = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "build"

try:
    import torch  # noqa: F401
except ImportError:
    print("torch is missing (apt-get install -y python3-torch libopenblas0): skipped")
    sys.exit(77)
missing = [m for m in ("shakespeare", "names", "parens") if not (BUILD / "examples" / m).is_file()]
if missing:
    print(f"{BUILD}/examples/{missing[0]} is missing (ninja -C {BUILD} examples/{missing[0]}): skipped")
    sys.exit(77)


def run(*args, python=sys.executable):
    return subprocess.run([python, str(SCRIPT), "--build", str(BUILD), *args], capture_output=True, text=True,
                          timeout=300)


def one_line_error(done, code, words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code, f"exit {done.returncode}, expected {code}: {done.stderr[-300:]}"
    assert len(lines) == 1 and len(lines[0]) < 200, f"not one short line: {done.stderr!r}"
    assert words in lines[0], f"{words!r} not in {lines[0]!r}"


def check_smoke_json():
    done = run("--smoke", "--json", "--models", "shakespeare,names,parens", "--mixers", "grassmann")
    assert done.returncode == 0, done.stderr[-400:]
    rows = [json.loads(l) for l in done.stdout.splitlines()]
    assert [r["config"] for r in rows] == ["shakespeare w64 grassmann", "names grassmann", "parens grassmann"], rows
    for r in rows:
        assert r["gflow_tokens_per_s"] > 0 and r["torch_tokens_per_s"] > 0, r
        assert abs(r["ratio"] - r["gflow_tokens_per_s"] / r["torch_tokens_per_s"]) < 1e-2 * r["ratio"], r
        assert r["threads"] == len(os.sched_getaffinity(0)) and r["repeat"] == 1, r
        assert len(r["gflow_runs"]) == 1 and len(r["torch_runs"]) == 1, r
        layouts = r["torch_layouts"]
        assert set(layouts) >= {"pool", "blas1"} and r["torch_layout"] in layouts, r
        assert all(len(v["runs"]) == 1 and v["tokens_per_s"] > 0 for v in layouts.values()), r
        assert r["torch_tokens_per_s"] == max(v["tokens_per_s"] for v in layouts.values()), r
        assert r["torch_runs"] == layouts[r["torch_layout"]]["runs"], r
        assert [v["runs"][0]["blas_threads"] for v in (layouts["pool"], layouts["blas1"])] == [r["threads"], 1], r
        if "openmp" in layouts:
            assert "openblas-openmp" in (layouts["openmp"]["blas_library"] or ""), layouts["openmp"]
        share = r["gflow_peak_fraction"]
        assert share is None or 0 < share <= 1.5, r
        assert r["blas"] in ("openblas", "mkl"), r
    assert rows[0]["unit"] == "tokens/s", rows[0]
    assert rows[1]["unit"].startswith("tokens/s") and rows[1]["gflow_steps_per_s"] > 0, rows[1]
    assert "load average" in done.stderr and "at end" in done.stderr, done.stderr


def check_table():
    for layouts, order in (("pool", ["gflow", "torch", "torch", "gflow"]),
                           ("pool,blas1", ["gflow", "(pool)", "(blas1)", "(blas1)", "(pool)", "gflow"])):
        done = run("--steps", "3", "--models", "parens", "--mixers", "attention", "--repeat", "2",
                   "--torch-layouts", layouts)
        assert done.returncode == 0, done.stderr[-400:]
        out = done.stdout
        for words in ("configuration", "gflow/PyTorch", "its layout", "parens attention", "load average",
                      "at start", "at end"):
            assert words in out, f"{words!r} not in the output:\n{out}"
        runs = [l.split() for l in out.splitlines() if "parens attention" in l and " run " in l]
        seen = [w[4] if w[4] == "gflow" or "," not in layouts else w[5] for w in runs]
        assert seen == order, runs   # interleaved


def check_errors():
    one_line_error(run("--build", "/nonexistent-build"), 1, "missing")
    one_line_error(run("--widths", "32"), 2, "--widths")
    one_line_error(run("--torch-layouts", "mkl"), 2, "--torch-layouts")
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp) / "python"
        fake.write_text('#!/bin/sh\necho \'{"torch": "0", "libs": '
                        '["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"], "config": ""}\'\n')
        fake.chmod(0o755)
        one_line_error(run("--models", "names", "--python", str(fake)), 1, "not OpenBLAS")


def main():
    t0 = time.time()
    passed = failed = 0
    for check in (check_errors, check_table, check_smoke_json):
        try:
            check()
            passed += 1
            print(f"ok    {check.__name__} ({time.time() - t0:.1f} s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL  {check.__name__}\n{traceback.format_exc()}", flush=True)
    print(f"{passed} passed, {failed} failed ({time.time() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
