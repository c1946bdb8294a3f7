#!/usr/bin/python3
"""Tiny Shakespeare validation-loss curves: gflow's two mixers (and PyTorch's, --torch) trained for
the same token budget, drawn as an SVG of two panels (loss against tokens, loss against training
seconds), with the raw numbers as JSON beside it.

    /usr/bin/python3 scripts/shakespeare_curves.py                  # width 256, 1.2e6 tokens a mixer
    /usr/bin/python3 scripts/shakespeare_curves.py --torch          # PyTorch's models too
    /usr/bin/python3 scripts/shakespeare_curves.py --width 64 --tokens 50000 --out /tmp/c.svg
    /usr/bin/python3 scripts/shakespeare_curves.py --replot docs/shakespeare_loss.json   # no training

The runs go one after the other, never two at a time. gflow: build/examples/shakespeare --json
(f32, 6 layers, batch 8, block 256, --threads); its validation loss is over 16 fixed windows, before
training, every steps/--points steps (--eval-every) and at the end. PyTorch: bench/torch_models.py train
with the same steps, learning rate, report interval and 16 validation windows (its own windows:
the two implementations' losses differ by the sampling of those windows). "seconds" is training
time only, evaluations excluded, on both sides.

No matplotlib: the SVG is written here by hand. Check it with
`rsvg-convert docs/shakespeare_loss.svg -o /tmp/x.png`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from side_by_side import cpu_model, load_average  # noqa: E402  (the machine, as the side-by-side table reports it)
BLOCK = 256
EVAL_WINDOWS = 16        # gflow's validation windows
COLORS = {"grassmann": "#1f6fb4", "attention": "#d1495b"}
IMPL_LABEL = {"gflow": "gflow", "torch": "PyTorch"}


class Failure(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"shakespeare_curves: {message} (see --help)"[:199], file=sys.stderr)
        sys.exit(2)


def parse(argv=None):
    ap = Parser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=256, choices=[64, 128, 256])
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=float, default=1.2e6,
                    help="training tokens per mixer (default 1.2e6: ~5 min a mixer at 4,000 tokens/s)")
    ap.add_argument("--mixers", default="grassmann,attention")
    ap.add_argument("--torch", action="store_true", help="train bench/torch_models.py's models too")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                    help="threads of both programs (default: all cores, %(default)s here)")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--points", type=int, default=12,
                    help="reports after the start, evenly spaced (default 12)")
    ap.add_argument("--build", default="build", help="gflow's build directory (default build)")
    ap.add_argument("--python", default="/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable)
    ap.add_argument("--out", default=str(ROOT / "docs" / "shakespeare_loss.svg"),
                    help="the SVG (default docs/shakespeare_loss.svg); the JSON goes beside it (.json)")
    ap.add_argument("--replot", metavar="JSON", help="draw the SVG from this JSON (of an earlier run) only")
    args = ap.parse_args(argv)
    args.mixers = [m for m in args.mixers.split(",") if m]
    if any(m not in COLORS for m in args.mixers) or not args.mixers:
        ap.error("--mixers: grassmann, attention or both (comma-separated)")
    if args.tokens < 1 or args.threads < 1 or args.points < 1:
        ap.error("--tokens, --threads and --points must be positive")
    return args


def log(text):
    print(text, file=sys.stderr, flush=True)


def last_line(text):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1][:150] if lines else "(no output)"


def run_lines(cmd, env, what, on_line):
    """Runs cmd, calling on_line(obj) for each JSON line of its stdout as it comes."""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    except OSError as e:
        raise Failure(f"{what}: cannot run {cmd[0]}: {e.strerror}")
    for line in proc.stdout:
        if line.startswith("{"):
            try:
                on_line(json.loads(line))
            except json.JSONDecodeError:
                proc.kill()
                raise Failure(f"{what}: a line of its output is not JSON: {line[:80]}")
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise Failure(f"{what}: exit {proc.returncode}: {last_line(err)}")


def point(obj, tokens, seconds):
    return dict(step=obj.get("step"), tokens=tokens, seconds=round(seconds, 3),
                train_loss=obj.get("train_loss"), val_loss=obj["val_loss"])


def train_gflow(mixer, args, steps, every_steps, env):
    """gflow's run of `mixer`, reporting every `every_steps` steps (--eval-every) and at the end."""
    exe = Path(args.build) / "examples" / "shakespeare"
    cmd = [str(exe), "--json", "--mixer", mixer, "--width", str(args.width), "--layers", str(args.layers),
           "--batch", str(args.batch), "--steps", str(steps), "--threads", str(args.threads),
           "--dtype", args.dtype, "--lr", repr(args.lr), "--seed", str(args.seed), "--eval-every", str(every_steps)]
    per_step = args.batch * BLOCK
    points, result = [], {}
    what = f"gflow {mixer} w{args.width}"
    t0 = time.time()

    def on_line(obj):
        if obj.get("kind") == "report":
            p = point(obj, obj["step"] * per_step, obj["seconds"])
            points.append(p)
            log(f"  {what}: step {p['step']:>6}  tokens {p['tokens']:>9}  {p['seconds']:8.1f} s  "
                f"val {p['val_loss']:.4f}")
        elif obj.get("kind") == "result":
            result.clear()
            result.update(obj)

    run_lines(cmd, env, what, on_line)
    if not result:
        raise Failure(f"{what}: no result object in its output")
    result.pop("kind", None)
    seconds = points[-1]["seconds"] if points else 0.0
    return dict(implementation="gflow", mixer=mixer, points=points, tokens=steps * per_step,
                seconds=round(seconds, 3),
                tokens_per_s_overall=round(steps * per_step / seconds, 1) if seconds else None,
                wall_s=round(time.time() - t0, 1), result=result)


def train_torch(mixer, args, steps, every_steps, env):
    per_step = args.batch * BLOCK
    cmd = [args.python, str(ROOT / "bench" / "torch_models.py"), "train", "--json", "--model", "shakespeare",
           "--mixer", mixer, "--width", str(args.width), "--layers", str(args.layers), "--batch", str(args.batch),
           "--tokens", str(steps * per_step), "--eval-every", str(every_steps * per_step),
           "--eval-windows", str(EVAL_WINDOWS), "--threads", str(args.threads), "--dtype", args.dtype,
           "--lr", repr(args.lr), "--seed", str(args.seed)]
    pts, what, t0 = [], f"torch {mixer} w{args.width}", time.time()

    def on_line(obj):
        p = point(obj, obj["tokens"], obj["seconds"])
        p["step"] = obj["tokens"] // per_step
        pts.append(p)
        log(f"  {what}: step {p['step']:>6}  tokens {p['tokens']:>9}  {p['seconds']:8.1f} s  val {p['val_loss']:.4f}")

    run_lines(cmd, env, what, on_line)
    if not pts:
        raise Failure(f"{what}: no reports in its output")
    secs = pts[-1]["seconds"]
    return dict(implementation="torch", mixer=mixer, points=pts, tokens=pts[-1]["tokens"],
                seconds=secs, tokens_per_s_overall=round(pts[-1]["tokens"] / secs, 1) if secs else None,
                wall_s=round(time.time() - t0, 1))


# ---------------------------------------------------------------------------------------------
# the SVG


def nice_ticks(lo, hi, count=6):
    """Round tick values covering [lo, hi], about `count` of them."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks = [round(first, 10)]
    while ticks[-1] < hi - step * 1e-9 or len(ticks) < 2:   # the last tick at or above hi
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def fmt_tokens(v):
    if v == 0:
        return "0"
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def fmt_plain(v):
    return f"{v:g}"


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(out, x0, y0, w, h, runs, key, xlabel, xfmt, ylo, yhi):
    """One plot: frame, grid, ticks, labels, a polyline and markers per run."""
    xs = [p[key] for r in runs for p in r["points"]]
    xt = nice_ticks(0, max(xs) if xs else 1)
    yt = nice_ticks(ylo, yhi)
    digits = next(d for d in range(7) if d == 6 or abs(round((yt[1] - yt[0]) * 10 ** d) - (yt[1] - yt[0]) * 10 ** d) < 1e-6)
    xmin, xmax, ymin, ymax = xt[0], xt[-1], yt[0], yt[-1]
    X = lambda v: x0 + (v - xmin) / (xmax - xmin) * w
    Y = lambda v: y0 + h - (v - ymin) / (ymax - ymin) * h
    for t in yt:
        out.append(f'<line x1="{x0:.1f}" y1="{Y(t):.1f}" x2="{x0 + w:.1f}" y2="{Y(t):.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{x0 - 8:.1f}" y="{Y(t) + 4.5:.1f}" font-size="13" text-anchor="end">{t:.{digits}f}</text>')
    for t in xt:
        out.append(f'<line x1="{X(t):.1f}" y1="{y0:.1f}" x2="{X(t):.1f}" y2="{y0 + h:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<line x1="{X(t):.1f}" y1="{y0 + h:.1f}" x2="{X(t):.1f}" y2="{y0 + h + 5:.1f}" stroke="#333"/>')
        out.append(f'<text x="{X(t):.1f}" y="{y0 + h + 20:.1f}" font-size="13" text-anchor="middle">{xfmt(t)}</text>')
    for t in yt:
        out.append(f'<line x1="{x0 - 5:.1f}" y1="{Y(t):.1f}" x2="{x0:.1f}" y2="{Y(t):.1f}" stroke="#333"/>')
    out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{x0 + w / 2:.1f}" y="{y0 + h + 42:.1f}" font-size="14" text-anchor="middle">{esc(xlabel)}</text>')
    cy = y0 + h / 2
    out.append(f'<text x="{x0 - 48:.1f}" y="{cy:.1f}" font-size="14" text-anchor="middle" '
               f'transform="rotate(-90 {x0 - 48:.1f} {cy:.1f})">validation loss (nats/char)</text>')
    for r in runs:
        color = COLORS[r["mixer"]]
        pts = [(X(p[key]), Y(p["val_loss"])) for p in r["points"] if p.get("val_loss") is not None]
        dash = ' stroke-dasharray="7 4"' if r["implementation"] == "torch" else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y in pts:
            if r["implementation"] == "torch":
                out.append(f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="white" '
                           f'stroke="{color}" stroke-width="1.5"/>')
            else:
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')


def write_svg(path, data):
    cfg, machine, runs = data["config"], data["machine"], data["runs"]
    W, H = 1100, 600
    vals = [p["val_loss"] for r in runs for p in r["points"] if p.get("val_loss") is not None]
    ylo, yhi = (min(vals), max(vals)) if vals else (0, 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    impls = sorted({r["implementation"] for r in runs}, key=lambda s: s != "gflow")
    title = "Tiny Shakespeare: validation loss, " + " and ".join(IMPL_LABEL[i] for i in impls)
    sub = (f"width {cfg['width']}, {cfg['layers']} layers, batch {cfg['batch']} x {BLOCK}, {cfg['dtype']}, "
           f"lr {cfg['lr']:g} (linear decay), {cfg['steps']} steps = {cfg['tokens']:,} tokens; "
           f"{machine['threads']} threads, {machine['cpu']} ({machine['cores']} cores)")
    out.append(f'<text x="80" y="32" font-size="20" font-weight="bold">{esc(title)}</text>')
    out.append(f'<text x="80" y="54" font-size="13" fill="#555">{esc(sub)}</text>')
    note = (f"validation loss: {EVAL_WINDOWS} fixed windows of {BLOCK + 1} characters from the last 10 % "
            f"(each implementation its own), every {cfg['report_every_steps']} steps; "
            f"seconds: training only")
    out.append(f'<text x="80" y="72" font-size="12" fill="#555">{esc(note)}</text>')
    when = f"{data.get('date', '')}; " if data.get("date") else ""
    note2 = (f"{when}1-minute load average {machine.get('load_start')} at the start, {machine.get('load_end')} "
             f"at the end; tokens/s in the legend: all tokens over all training seconds")
    out.append(f'<text x="80" y="88" font-size="12" fill="#555">{esc(note2)}</text>')
    pw, ph, top = 440, 360, 112
    panel(out, 80, top, pw, ph, runs, "tokens", "training tokens", fmt_tokens, ylo, yhi)
    panel(out, 80 + pw + 110, top, pw, ph, runs, "seconds", "training time (s)", fmt_plain, ylo, yhi)
    # the legend, in a row under the panels
    x, y = 80, top + ph + 72
    for r in runs:
        color = COLORS[r["mixer"]]
        dash = ' stroke-dasharray="7 4"' if r["implementation"] == "torch" else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 34}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/>')
        if r["implementation"] == "torch":
            out.append(f'<rect x="{x + 13.5}" y="{y - 3.5}" width="7" height="7" fill="white" stroke="{color}" stroke-width="1.5"/>')
        else:
            out.append(f'<circle cx="{x + 17}" cy="{y}" r="3.5" fill="{color}"/>')
        last = r["points"][-1]
        rate = f", {r['tokens_per_s_overall']:,.0f} tokens/s" if r.get("tokens_per_s_overall") else ""
        label = f"{IMPL_LABEL[r['implementation']]} {r['mixer']}: final {last['val_loss']:.3f}{rate}"
        out.append(f'<text x="{x + 42}" y="{y + 4.5}" font-size="13">{esc(label)}</text>')
        x += 550
        if x > W - 300:
            x, y = 80, y + 24
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse(argv)
    out_svg = Path(args.out)
    out_json = out_svg.with_suffix(".json")
    if args.replot:
        data = json.loads(Path(args.replot).read_text())
        write_svg(out_svg, data)
        log(f"wrote {out_svg}")
        return data
    exe = Path(args.build) / "examples" / "shakespeare"
    if not exe.is_file():
        raise Failure(f"{exe} is missing: ninja -C {args.build} examples/shakespeare (or --build DIR)")
    if not out_svg.parent.is_dir():
        raise Failure(f"{out_svg.parent}: no such directory")
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    per_step = args.batch * BLOCK
    steps = max(1, int(args.tokens) // per_step)
    every_steps = max(1, math.ceil(steps / args.points))
    machine = dict(cpu=cpu_model(), cores=os.cpu_count(), threads=args.threads,
                   omp_wait_policy=env["OMP_WAIT_POLICY"], load_start=load_average())
    log(f"{steps} steps ({steps * per_step:,} tokens) a mixer, width {args.width}, {args.layers} layers, "
        f"batch {args.batch}, {args.threads} threads, {machine['cpu']}; load average {machine['load_start']}")
    runs = []
    for mixer in args.mixers:
        runs.append(train_gflow(mixer, args, steps, every_steps, env))
        if args.torch:
            runs.append(train_torch(mixer, args, steps, every_steps, env))
    machine["load_end"] = load_average()
    data = dict(config=dict(width=args.width, layers=args.layers, batch=args.batch, block=BLOCK,
                            dtype=args.dtype, lr=args.lr, seed=args.seed, steps=steps, tokens=steps * per_step,
                            report_every_steps=every_steps, eval_windows=EVAL_WINDOWS),
                machine=machine, command=[sys.argv[0]] + (argv if argv is not None else sys.argv[1:]),
                date=time.strftime("%Y-%m-%d %H:%M"), runs=runs)
    out_json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    write_svg(out_svg, data)
    log(f"wrote {out_svg} and {out_json}; load average {machine['load_end']} at end")
    return data


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"shakespeare_curves: {e}"[:199], file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("shakespeare_curves: interrupted", file=sys.stderr)
        sys.exit(130)
