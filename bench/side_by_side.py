#!/usr/bin/python3
"""gflow against PyTorch on this machine, interleaved: training throughput of the same models.

For every configuration it runs gflow's program and bench/torch_models.py speed in turn, --repeat
times (gflow first in even repetitions, PyTorch first in odd ones, so that a drift of the load
touches both alike), with the same number of threads, and prints the medians:

    configuration | unit | gflow | PyTorch | its layout | gflow/PyTorch | gflow's share of peak

Configurations (f32):
    shakespeare  width 64, 128, 256 (--widths), 6 layers, batch 8, block 256: tokens/s
    names        batch 1 (width 16, block 16)
    parens       batch 1 (width 16, block 64)
for each mixer (--mixers). Names and parens: gflow prints ms_per_step, not tokens. Their tokens/s
is steps/s times the mean predicted tokens of a step: from gflow's JSON when it says (a key
tokens_per_step / mean_tokens_per_step), else computed here from the data (names: min(16,
len + 1) over data/names.txt; parens: 36, the mean of the walk's 2·U{10..25} + 1). The unit column
says which. PyTorch counts its own tokens.

gflow's share of peak is its JSON's peak_fraction (or gflops_per_s / peak_gflops_per_s), "-" where
the program does not print them.

Each run lasts about --seconds of training (gflow: the steps are chosen from its rate, measured on
the previous run of the configuration; PyTorch: speed --seconds), or --steps steps on both sides.
OMP_WAIT_POLICY=PASSIVE is set for both unless the environment sets it.

PyTorch's figure is that of its fastest thread layout (--torch-layouts; a median of --repeat runs
each, interleaved with gflow's), for its OpenBLAS can share the cores with torch's threads in
more than one way, and the default one is not always its best:
    pool    OpenBLAS's own pthreads pool of N threads beside torch's N (Debian's default)
    blas1   OpenBLAS's pool at 1: products in the calling thread, torch's N threads for the rest
    openmp  libopenblas0-openmp (if installed): OpenBLAS's N threads in torch's OpenMP runtime
On a 2-core Zen 2 at width 64, pool ran 6,700-8,000 tokens/s in most runs (its OpenBLAS worker
yielding on one core while torch's own second thread waited for it), blas1 9,300-11,200;
at width 256 openmp was the fastest (bench/README.md).

    /usr/bin/python3 bench/side_by_side.py                    # everything, 3 repetitions
    /usr/bin/python3 bench/side_by_side.py --models shakespeare --widths 256 --repeat 5 --json
    /usr/bin/python3 bench/side_by_side.py --smoke            # width 64, 1 repetition, ~1 s runs

PyTorch must multiply with OpenBLAS: without libopenblas0, Debian's torch falls back to the
reference BLAS, about 12x slower, and the comparison means nothing. The script checks the
libraries a torch process has loaded and refuses otherwise (--allow-reference-blas overrides).
--install runs `apt-get install -y python3-torch libopenblas0 libopenblas0-openmp` first (the
OpenMP build's alternatives priority, 95, is below the pthreads build's 100: the system's
libblas.so.3 and gflow's libopenblas.so.0 stay the pthreads build; only torch's openmp runs get
the other, through LD_LIBRARY_PATH).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TORCH_MODELS = HERE / "torch_models.py"

SHAKESPEARE_BLOCK = 256
SHAKESPEARE_BATCH = 8
PARENS_MEAN_TOKENS = 36.0     # 2·pairs + 1 predicted tokens, pairs uniform in 10..25
# First guesses of gflow's rate (2 cores, f32), only to size the first run of a configuration;
# later runs use the rate measured.
GFLOW_GUESS = {("shakespeare", 64): 30000.0, ("shakespeare", 128): 10000.0,
               ("shakespeare", 256): 4000.0, ("names", 16): 80000.0, ("parens", 16): 25000.0}
# The directory of libopenblas0-openmp's libblas.so.3 (Debian's multiarch path).
OPENMP_BLAS_DIR = Path("/usr/lib/x86_64-linux-gnu/openblas-openmp")
TORCH_LAYOUTS = ("pool", "blas1", "openmp")
INSTALL = ["python3-torch", "libopenblas0", "libopenblas0-openmp"]
MIN_STEPS = {"shakespeare": 3, "names": 300, "parens": 300}   # names/parens: chunks of 100 steps
MAX_STEPS = {"shakespeare": 100000, "names": 5000000, "parens": 2000000}


class Failure(Exception):
    """One line for the user; the script exits 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not argparse's usage block
        print(f"side_by_side: {message} (see --help)"[:199], file=sys.stderr)
        sys.exit(2)


def csv(kind, allowed=None):
    def parse(text):
        items = [kind(t) for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError("empty list")
        if allowed is not None:
            bad = [i for i in items if i not in allowed]
            if bad:
                raise argparse.ArgumentTypeError(f"{bad[0]} is not one of {', '.join(map(str, allowed))}")
        return items
    return parse


def parse(argv=None):
    ap = Parser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=csv(str, ["shakespeare", "names", "parens"]),
                    default=["shakespeare", "names", "parens"], help="comma-separated (default: all three)")
    ap.add_argument("--widths", type=csv(int, [64, 128, 256]), default=[64, 128, 256],
                    help="Shakespeare widths (default 64,128,256)")
    ap.add_argument("--mixers", type=csv(str, ["grassmann", "attention"]), default=["grassmann", "attention"])
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="threads of both programs (default: all cores, %(default)s here)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each program per configuration (median)")
    ap.add_argument("--seconds", type=float, default=8.0, help="training time of a run (default 8)")
    ap.add_argument("--steps", type=int, help="steps of every run instead of --seconds (both programs)")
    ap.add_argument("--torch-layouts", type=csv(str, list(TORCH_LAYOUTS)),
                    help="PyTorch's thread layouts to run, the fastest counting (default: pool,blas1, "
                         "and openmp where libopenblas0-openmp is installed)")
    ap.add_argument("--build", default="build", help="gflow's build directory (default build)")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable,
                    help="the Python that has torch (default /usr/bin/python3)")
    ap.add_argument("--json", action="store_true", help="one JSON object per row on stdout, nothing else")
    ap.add_argument("--install", action="store_true",
                    help=f"first apt-get install -y {' '.join(INSTALL)} (needs root)")
    ap.add_argument("--allow-reference-blas", action="store_true",
                    help="run even when torch does not use OpenBLAS (its figures are then ~12x low)")
    ap.add_argument("--smoke", action="store_true",
                    help="a quick check of the script: width 64, 1 repetition, 1 s runs (few steps)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a run counts as hung")
    args = ap.parse_args(argv)
    if args.smoke:
        args.widths, args.repeat = [64], 1
        if args.steps is None:
            args.seconds = min(args.seconds, 1.0)
    if args.torch_layouts is None:
        args.torch_layouts = [l for l in TORCH_LAYOUTS if l != "openmp" or openmp_blas_installed()]
    if args.threads < 1 or args.repeat < 1 or args.seconds <= 0 or (args.steps is not None and args.steps < 1):
        ap.error("--threads, --repeat, --seconds and --steps must be positive")
    return args


# ---------------------------------------------------------------------------------------------
# the machine


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def log(args, text):
    """Progress and the header: stdout normally, stderr with --json (stdout is the rows)."""
    print(text, file=sys.stderr if args.json else sys.stdout, flush=True)


def openmp_blas_installed():
    return (OPENMP_BLAS_DIR / "libblas.so.3").exists()


def layout_env(layout, env):
    """The environment of PyTorch's runs in a layout: openmp puts libopenblas0-openmp's directory
    first on LD_LIBRARY_PATH, so that torch loads that libblas.so.3 (and only torch)."""
    if layout != "openmp":
        return env
    env = dict(env)
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (str(OPENMP_BLAS_DIR), env.get("LD_LIBRARY_PATH")) if p)
    return env


def install(args):
    log(args, f"--install: apt-get install -y {' '.join(INSTALL)} (libopenblas0: without it "
              "Debian's torch multiplies with the reference BLAS, about 12x slower)")
    try:
        done = subprocess.run(["apt-get", "install", "-y", *INSTALL],
                              stdout=sys.stderr, stderr=subprocess.STDOUT)
    except OSError as e:
        raise Failure(f"--install: cannot run apt-get ({e.strerror})")
    if done.returncode != 0:
        raise Failure(f"--install: apt-get install failed (exit {done.returncode}; root needed)")


BLAS_PROBE = r"""
import json, torch
a = torch.ones(64, 64); a @ a
libs = sorted({l.split()[-1] for l in open('/proc/self/maps')
               if any(k in l.lower() for k in ('blas', 'lapack', 'mkl'))})
core = None
for l in libs:   # the kernels OpenBLAS picked (or OPENBLAS_CORETYPE named), as gflow reports its own
    if 'openblas' in l.lower():
        import ctypes
        try:
            f = ctypes.CDLL(l).openblas_get_corename
            f.restype = ctypes.c_char_p
            core = f().decode()
        except (OSError, AttributeError):
            pass
print(json.dumps({"torch": torch.__version__, "libs": libs, "config": torch.__config__.show(), "blas_core": core}))
"""


def blas_of(libs, config=""):
    """'openblas', 'mkl', 'reference' or 'unknown', from the loaded libraries (torch's config says
    BLAS_INFO=generic on Debian whatever libblas.so.3 points to)."""
    names = " ".join(libs).lower()
    if "openblas" in names or "BLAS_INFO=open" in config:
        return "openblas"
    if "mkl" in names or "BLAS_INFO=mkl" in config:
        return "mkl"
    if "blas" in names:
        return "reference"
    return "unknown"


def check_torch(args, env):
    try:
        done = subprocess.run([args.python, "-c", BLAS_PROBE], capture_output=True, text=True, env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure(f"cannot run {args.python}: {e}")
    if done.returncode != 0:
        if "No module named 'torch'" in done.stderr:
            raise Failure(f"{args.python} has no torch: apt-get install -y python3-torch libopenblas0 (or --install)")
        raise Failure(f"{args.python}: torch does not start: {last_line(done.stderr)}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    info["blas"] = blas_of(info["libs"], info.get("config", ""))
    if info["blas"] not in ("openblas", "mkl") and not args.allow_reference_blas:
        raise Failure(f"torch uses the {info['blas']} BLAS, not OpenBLAS (~12x slower): "
                      "apt-get install -y libopenblas0, or --allow-reference-blas")
    return info


# ---------------------------------------------------------------------------------------------
# runs


def last_line(text):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1][:150] if lines else "(no output)"


def run_json(cmd, env, timeout, what):
    """Runs cmd; returns its stdout's JSON objects (lines starting with '{')."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"{what}: no result after {timeout:.0f} s (--timeout)")
    except OSError as e:
        raise Failure(f"{what}: cannot run {cmd[0]}: {e.strerror}")
    if done.returncode != 0:
        raise Failure(f"{what}: exit {done.returncode}: {last_line(done.stderr or done.stdout)}")
    objects = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                raise Failure(f"{what}: a line of its output is not JSON: {line[:80]}")
    if not objects:
        raise Failure(f"{what}: no JSON in its output")
    return objects, time.perf_counter() - t0


def names_mean_tokens():
    path = ROOT / "data" / "names.txt"
    if not path.exists():
        path = ROOT.parent / "shared" / "data" / "names.txt"
    lines = [l.strip() for l in open(path, encoding="utf-8") if l.strip()]
    return statistics.fmean(min(16, len(l) + 1) for l in lines)


def peak_share(obj):
    """gflow's share of its peak: peak_fraction, or gflops_per_s / peak_gflops_per_s; None if absent."""
    value = obj.get("peak_fraction")
    if isinstance(value, (int, float)):
        return float(value)
    g, p = obj.get("gflops_per_s"), obj.get("peak_gflops_per_s")
    if isinstance(g, (int, float)) and isinstance(p, (int, float)) and p > 0:
        return g / p
    return None


class Config:
    def __init__(self, model, mixer, width=None):
        self.model, self.mixer = model, mixer
        self.width = width if model == "shakespeare" else 16
        self.batch = SHAKESPEARE_BATCH if model == "shakespeare" else 1
        self.block = SHAKESPEARE_BLOCK if model == "shakespeare" else (16 if model == "names" else 64)
        self.layers = 6 if model == "shakespeare" else 1
        self.rate = GFLOW_GUESS[(model, self.width)]   # gflow tokens/s (shakespeare) or steps/s

    @property
    def name(self):
        if self.model == "shakespeare":
            return f"shakespeare w{self.width} {self.mixer}"
        return f"{self.model} {self.mixer}"

    def gflow_steps(self, args):
        if args.steps:
            return args.steps
        per_step = self.batch * self.block if self.model == "shakespeare" else 1
        steps = int(args.seconds * self.rate / per_step)
        return max(MIN_STEPS[self.model], min(MAX_STEPS[self.model], steps))


def run_gflow(cfg, args, env, mean_tokens):
    exe = Path(args.build) / "examples" / cfg.model
    cmd = [str(exe), "--json", "--mixer", cfg.mixer, "--steps", str(cfg.gflow_steps(args)),
           "--threads", str(args.threads), "--dtype", "f32"]
    if cfg.model == "shakespeare":
        cmd += ["--width", str(cfg.width), "--batch", str(cfg.batch), "--layers", str(cfg.layers)]
    objects, wall = run_json(cmd, env, args.timeout, f"gflow {cfg.name}")
    if cfg.model == "shakespeare":
        found = [o for o in objects if o.get("kind") == "result" and o.get("mixer") == cfg.mixer]
    else:
        found = [o for o in objects if o.get("mixer") == cfg.mixer]
    if not found:
        raise Failure(f"gflow {cfg.name}: no result object for mixer {cfg.mixer} in its JSON")
    r = found[-1]
    out = dict(wall_s=round(wall, 2), steps=r.get("steps"), peak_fraction=peak_share(r),
               gflops_per_s=r.get("gflops_per_s"), flops_per_token=r.get("flops_per_token"),
               flops_per_step=r.get("flops_per_step"), peak_gflops_per_s=r.get("peak_gflops_per_s"),
               blas_core=r.get("blas_core"))
    if cfg.model == "shakespeare":
        if "tokens_per_s" not in r:
            raise Failure(f"gflow {cfg.name}: its result has no tokens_per_s")
        out["tokens_per_s"] = float(r["tokens_per_s"])
        out["steps_per_s"] = out["tokens_per_s"] / (cfg.batch * cfg.block)
        out["unit"] = "tokens/s"
        cfg.rate = out["tokens_per_s"]
    else:
        ms = r.get("ms_per_step")
        if not isinstance(ms, (int, float)) or ms <= 0:
            raise Failure(f"gflow {cfg.name}: no positive ms_per_step in its JSON")
        out["steps_per_s"] = 1000.0 / ms
        per_step = next((r[k] for k in ("tokens_per_step", "mean_tokens_per_step")
                         if isinstance(r.get(k), (int, float))), None)
        if isinstance(r.get("tokens_per_s"), (int, float)):
            out["tokens_per_s"], out["unit"] = float(r["tokens_per_s"]), "tokens/s"
        elif per_step is not None:
            out["tokens_per_s"], out["unit"] = per_step * out["steps_per_s"], "tokens/s (gflow: its tokens/step x steps/s)"
        else:
            out["tokens_per_s"] = mean_tokens[cfg.model] * out["steps_per_s"]
            out["unit"] = f"tokens/s (gflow: steps/s x {mean_tokens[cfg.model]:.2f} mean tokens/step of the data)"
        cfg.rate = out["steps_per_s"]
    return out


def run_torch(cfg, args, env, layout):
    cmd = [args.python, str(TORCH_MODELS), "speed", "--json", "--model", cfg.model, "--mixer", cfg.mixer,
           "--threads", str(args.threads), "--blas-threads", str(1 if layout == "blas1" else args.threads),
           "--dtype", "f32", "--batch", str(cfg.batch)]
    if cfg.model == "shakespeare":
        cmd += ["--width", str(cfg.width), "--block", str(cfg.block), "--layers", str(cfg.layers)]
    if args.steps:
        cmd += ["--steps", str(args.steps)]
        if cfg.model != "shakespeare":
            cmd += ["--chunk", str(max(1, min(50, args.steps // 4)))]
    else:
        cmd += ["--seconds", str(args.seconds)]
        if args.seconds < 2 and cfg.model != "shakespeare":
            cmd += ["--chunk", "10"]
    objects, wall = run_json(cmd, layout_env(layout, env), args.timeout, f"torch ({layout}) {cfg.name}")
    r = objects[-1]
    if "tokens_per_s" not in r:
        raise Failure(f"torch ({layout}) {cfg.name}: its JSON has no tokens_per_s")
    return dict(wall_s=round(wall, 2), steps=r.get("steps"), tokens_per_s=float(r["tokens_per_s"]),
                steps_per_s=float(r.get("steps_per_s") or 0), layout=layout, blas_threads=r.get("blas_threads"),
                blas_library=r.get("blas_library"))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------------------------
# output


def fmt_rate(x):
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_share(x):
    return "-" if x is None else f"{100 * x:.1f} %"


def print_table(rows, args, info):
    head = ["configuration", "unit", "gflow", "PyTorch", "its layout", "gflow/PyTorch", "gflow % of peak", "load"]
    body = []
    notes = {}
    for r in rows:
        unit = r["unit"]
        if unit != "tokens/s":
            mark = notes.setdefault(unit, "*" * (len(notes) + 1))
            unit = "tokens/s" + mark
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        body.append([r["config"], unit, fmt_rate(r["gflow_tokens_per_s"]), fmt_rate(r["torch_tokens_per_s"]),
                     r["torch_layout"], ratio, fmt_share(r["gflow_peak_fraction"]), f"{r['load_start']}-{r['load_end']}"])
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < 2 or i == 4 else str(c).rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print()
    print(f"medians of {args.repeat} run(s) each, f32, {args.threads} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')}, torch {info['torch']} ({info['blas']})")
    gflow_cores = sorted({r["gflow_blas_core"] for r in rows if r.get("gflow_blas_core")})
    print(f"OpenBLAS kernels: gflow {', '.join(gflow_cores) or '-'}, torch {info.get('blas_core') or '-'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: OpenBLAS chooses)')}")
    print(line(head))
    print(line(["-" * w for w in widths]))
    for cells in body:
        print(line(cells))
    for unit, mark in notes.items():
        print(f"{mark} {unit}; PyTorch counts its own tokens")
    print(f"its layout: PyTorch's fastest thread layout of {', '.join(args.torch_layouts)} (--help); "
          "the medians of each:")
    for r in rows:
        print(f"    {r['config']:<28} " + "  ".join(f"{l} {fmt_rate(v['tokens_per_s'])}" for l, v in r["torch_layouts"].items()))
    print("load: the 1-minute load average before the configuration's first run and after its last")


def main(argv=None):
    args = parse(argv)
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OMP_WAIT_POLICY", env["OMP_WAIT_POLICY"])
    if args.install:
        install(args)
    for model in args.models:
        exe = Path(args.build) / "examples" / model
        if not exe.is_file():
            raise Failure(f"{exe} is missing: ninja -C {args.build} examples/{model} (or --build DIR)")
    if not TORCH_MODELS.is_file():
        raise Failure(f"{TORCH_MODELS} is missing")
    info = check_torch(args, env)
    if "openmp" in args.torch_layouts:
        if not openmp_blas_installed():
            raise Failure(f"--torch-layouts openmp: {OPENMP_BLAS_DIR}/libblas.so.3 is missing "
                          "(apt-get install -y libopenblas0-openmp, or --install)")
        libs = check_torch(args, layout_env("openmp", env))["libs"]
        if not any(str(OPENMP_BLAS_DIR) in l for l in libs):
            raise Failure(f"--torch-layouts openmp: torch did not load {OPENMP_BLAS_DIR}/libblas.so.3 "
                          f"(it loaded {', '.join(Path(l).name for l in libs) or 'no BLAS'})")
    machine = dict(cpu=cpu_model(), cores=os.cpu_count(), threads=args.threads,
                   omp_wait_policy=env["OMP_WAIT_POLICY"], torch=info["torch"], blas=info["blas"])
    load_start = load_average()
    log(args, f"machine: {machine['cpu']}, {machine['cores']} cores; threads {args.threads}; "
              f"load average {load_start} at start")
    log(args, f"PyTorch's thread layouts: {', '.join(args.torch_layouts)} (its fastest counts, per configuration)")
    log(args, f"torch {info['torch']}, BLAS: {info['blas']} ({', '.join(Path(l).name for l in info['libs']) or 'none loaded'})"
              f", core {info.get('blas_core') or '-'}; OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}; gflow: {args.build}/examples")
    if "OPENBLAS_CORETYPE" in env:
        log(args, f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} is set: both sides run those OpenBLAS kernels, "
                  "whatever the CPU has (unset it for OpenBLAS's own choice)")

    configs = []
    for model in args.models:
        for mixer in args.mixers:
            if model == "shakespeare":
                configs += [Config(model, mixer, w) for w in args.widths]
            else:
                configs.append(Config(model, mixer))
    mean_tokens = {"parens": PARENS_MEAN_TOKENS}
    if "names" in args.models:
        mean_tokens["names"] = names_mean_tokens()

    rows = []
    for cfg in configs:
        runs = {"gflow": [], **{layout: [] for layout in args.torch_layouts}}
        load_before = load_average()
        for rep in range(args.repeat):
            order = list(runs) if rep % 2 == 0 else list(runs)[::-1]
            for side in order:
                r = run_gflow(cfg, args, env, mean_tokens) if side == "gflow" else run_torch(cfg, args, env, side)
                runs[side].append(r)
                who = "gflow" if side == "gflow" else "torch"
                layout = "" if side == "gflow" else f"({side})"
                log(args, f"  {cfg.name:<28} run {rep + 1}/{args.repeat} {who:<5} {layout:<8}"
                          f"{fmt_rate(r['tokens_per_s']):>9} tokens/s  {r['steps']} steps  {r['wall_s']:.1f} s wall"
                          f"  (load {load_average()})")
        layouts = {layout: dict(tokens_per_s=round(median([r["tokens_per_s"] for r in runs[layout]]), 1),
                                steps_per_s=round(median([r["steps_per_s"] for r in runs[layout]]), 3),
                                blas_library=runs[layout][0].get("blas_library"), runs=runs[layout])
                   for layout in args.torch_layouts}
        best = max(layouts, key=lambda layout: layouts[layout]["tokens_per_s"])
        g = median([r["tokens_per_s"] for r in runs["gflow"]])
        t = layouts[best]["tokens_per_s"]
        gs = median([r["steps_per_s"] for r in runs["gflow"]])
        ts = layouts[best]["steps_per_s"]
        row = dict(kind="side_by_side", config=cfg.name, model=cfg.model, mixer=cfg.mixer, width=cfg.width,
                   layers=cfg.layers, batch=cfg.batch, block=cfg.block, dtype="f32", threads=args.threads,
                   repeat=args.repeat, unit=runs["gflow"][0]["unit"],
                   gflow_tokens_per_s=round(g, 1), torch_tokens_per_s=round(t, 1),
                   ratio=round(g / t, 3) if t else None,
                   gflow_steps_per_s=round(gs, 3), torch_steps_per_s=round(ts, 3),
                   gflow_peak_fraction=median([r["peak_fraction"] for r in runs["gflow"]]),
                   gflow_gflops_per_s=median([r["gflops_per_s"] for r in runs["gflow"]]),
                   torch_layout=best, torch_layouts=layouts,
                   gflow_runs=runs["gflow"], torch_runs=runs[best],
                   load_start=load_before, load_end=load_average(), cpu=machine["cpu"],
                   omp_wait_policy=machine["omp_wait_policy"], torch=info["torch"], blas=info["blas"],
                   gflow_blas_core=next((r["blas_core"] for r in runs["gflow"] if r.get("blas_core")), None),
                   torch_blas_core=info.get("blas_core"),
                   openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"))
        if cfg.model == "names" and "tokens_per_step" not in row["unit"]:
            row["mean_tokens_per_step"] = round(mean_tokens["names"], 4)
        elif cfg.model == "parens":
            row["mean_tokens_per_step"] = mean_tokens["parens"]
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
    if not args.json:
        print_table(rows, args, info)
    log(args, f"load average {load_average()} at end (was {load_start} at start); cpu {machine['cpu']}, "
              f"{args.threads} threads")
    return rows


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"side_by_side: {e}"[:199], file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("side_by_side: interrupted", file=sys.stderr)
        sys.exit(130)
