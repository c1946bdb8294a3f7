#!/usr/bin/python3
"""Self-checks of bench/torch_models.py (plain asserts; exit 0 when all pass, 1 otherwise, 77 when
torch is missing):

1. names model, batch 1, f64: loss and every gradient equal tests/reference/torch_names.py's
   (the independent reference that gflow's gradients are checked against) to 1e-12;
2. masking, f64: a padded batch [doc_a, doc_b] gives the token-weighted mean of the two
   single-document losses and gradients, to 1e-12 (names, parens' 12-layer schedule, a small
   Shakespeare model; both mixers);
3. grads mode: safetensors and JSON in, safetensors out, equal to the in-process gradients;
4. Shakespeare at width 256 (6 layers, batch 8, block 256, lr 1e-3, f32) trains: the loss starts
   near ln 65 = 4.17 and falls below 2.8 within 30 steps (it stops as soon as it does);
5. a bad flag (--blas-threads 0, --threads -2, ...) is one line naming it, exit 2.
"""
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Waiting threads sleep instead of spinning: on a machine that others load (compiles), spinning
# OpenMP threads make a 2-thread step several times slower. Set before torch starts OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import torch
except ImportError:
    print("torch is missing (apt-get install -y python3-torch): skipped")
    sys.exit(77)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import torch_models as tm  # noqa: E402

TOL = 1e-12


def load_reference():
    spec = importlib.util.spec_from_file_location(
        "torch_names", HERE.parent / "tests" / "reference" / "torch_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gradients(W, cfg, sequences):
    """Loss and {name: gradient} of one padded batch, f64."""
    W = {k: v.detach().clone().requires_grad_(True) for k, v in W.items()}
    loss = tm.loss_of(W, cfg, tm.make_batch(sequences, cfg.block))
    loss.backward()
    return loss.item(), {k: v.grad for k, v in W.items()}


def worst_error(a, b):
    """Largest per-tensor max |a - b| / max |b|."""
    return max((a[k] - b[k]).abs().max().item() / max(b[k].abs().max().item(), 1e-300) for k in b)


def check_names_reference():
    ref = load_reference()
    docs, vocab = tm.names_documents()
    bos = len(vocab)
    worst = 0.0
    for mixer in ("grassmann", "attention"):
        for layers in (1, 2):
            cfg = tm.make_config("names", mixer, layers=layers)
            W = tm.init_weights(cfg, seed=7 + layers, dtype=torch.float64)
            for doc in ("emma", "christopher", "mariaelizabethanne"):   # the last exceeds the block
                tokens = [bos] + [vocab.index(c) for c in doc] + [bos]
                ours_loss, ours = gradients(W, cfg, [tokens])
                Wr = {k: v.detach().clone().requires_grad_(True) for k, v in W.items()}
                loss = ref.loss_of(Wr, tokens, mixer, layers)
                loss.backward()
                theirs = {k: v.grad for k, v in Wr.items()}
                assert set(ours) == set(theirs), f"names differ: {sorted(ours)} vs {sorted(theirs)}"
                e_loss = abs(ours_loss - loss.item()) / abs(loss.item())
                e_grad = worst_error(ours, theirs)
                assert e_loss <= TOL and e_grad <= TOL, \
                    f"{mixer} {layers} layer(s) '{doc}': loss {e_loss:.1e}, gradients {e_grad:.1e}"
                worst = max(worst, e_loss, e_grad)
    return f"names vs tests/reference/torch_names.py (2 mixers x 1, 2 layers x 3 documents): " \
           f"worst relative error {worst:.1e}"


def check_masking():
    _, vocab = tm.names_documents()
    bos = len(vocab)
    long_doc = [bos] + [vocab.index(c) for c in "mariaelizabethanne"] + [bos]   # past the block (16)
    short_doc = [bos] + [vocab.index(c) for c in "ava"] + [bos]
    parens = tm.parens_documents(20, seed=3)
    parens = sorted(parens, key=len)
    text = tm.Shakespeare().train
    cases = []
    for mixer in ("grassmann", "attention"):
        cases.append((tm.make_config("names", mixer), long_doc, short_doc))
        cases.append((tm.make_config("parens", mixer, layers=12 if mixer == "grassmann" else 2),
                      parens[-1], parens[0]))
        cases.append((tm.make_config("shakespeare", mixer, width=64, layers=2, block=32),
                      text[:33].tolist(), text[100:111].tolist()))
    worst = 0.0
    for cfg, a, b in cases:
        W = tm.init_weights(cfg, seed=11, dtype=torch.float64)
        na, nb = min(cfg.block, len(a) - 1), min(cfg.block, len(b) - 1)
        assert na > nb
        la, ga = gradients(W, cfg, [a])
        lb, gb = gradients(W, cfg, [b])
        for order in ([a, b], [b, a]):
            loss, g = gradients(W, cfg, order)
            want_loss = (na * la + nb * lb) / (na + nb)
            want = {k: (na * ga[k] + nb * gb[k]) / (na + nb) for k in ga}
            e_loss = abs(loss - want_loss) / abs(want_loss)
            e_grad = worst_error(g, want)
            assert e_loss <= TOL and e_grad <= TOL, \
                f"{cfg.mixer} vocab {cfg.vocab} {cfg.layers} layers: loss {e_loss:.1e}, gradients {e_grad:.1e}"
            worst = max(worst, e_loss, e_grad)
    return f"masking, padded batch = token-weighted mean of single documents ({len(cases)} models, " \
           f"both orders): worst relative error {worst:.1e}"


def check_grads_mode():
    cfg = tm.make_config("shakespeare", "grassmann", width=64, layers=12, block=32)
    W = tm.init_weights(cfg, seed=5, dtype=torch.float64)
    text = tm.Shakespeare().val
    seqs = [text[:40].tolist(), text[50:60].tolist(), text[70:72].tolist()]
    with tempfile.TemporaryDirectory() as d:
        wpath, bpath, gpath = f"{d}/w.safetensors", f"{d}/batch.json", f"{d}/g.safetensors"
        tm.write_safetensors(wpath, W, {"note": "test"})
        json.dump({"sequences": seqs}, open(bpath, "w"))
        loss = tm.main(["grads", "--model", "shakespeare", "--weights", wpath, "--batch-json", bpath,
                        "--save-grads", gpath, "--threads", "1"])
        G, meta = tm.read_safetensors(gpath)
        W2, _ = tm.read_safetensors(wpath)
    assert all(torch.equal(W[k], W2[k]) for k in W), "weights do not round-trip"
    want_loss, want = gradients(W, cfg, seqs)
    assert list(G) == [n for n, _ in tm.parameter_shapes(cfg)], "gradient names or order"
    assert all(G[k].dtype == torch.float64 for k in G)
    assert float(meta["loss"]) == loss == want_loss, (meta["loss"], loss, want_loss)
    assert int(meta["tokens"]) == 32 + 9 + 1
    assert all(torch.equal(G[k], want[k]) for k in want), "gradients differ"
    return f"grads mode round trip (12-layer schedule, 3 sequences of 32/9/1 predicted tokens): exact"


def check_training(max_steps=30, target=2.8):
    tm.set_threads(2)
    cfg = tm.make_config("shakespeare", "grassmann")             # width 256, 6 layers, r 32
    W = tm.init_weights(cfg, seed=42)
    for w in W.values():
        w.requires_grad_(True)
    data, gen = tm.Shakespeare(), torch.Generator().manual_seed(1)
    opt = tm.Adam(list(W.values()), lr=1e-3)
    losses, t0 = [], time.perf_counter()
    for step in range(max_steps):
        losses.append(tm.train_step(W, cfg, tm.Shakespeare.windows(data.train, 8, 256, gen), opt, step))
        if step == 0:
            assert abs(losses[0] - math.log(65)) < 0.2, f"initial loss {losses[0]:.3f}, not ~4.17"
        if losses[-1] < target:
            break
    assert losses[-1] < target, f"loss {losses[0]:.3f} -> {losses[-1]:.3f} after {max_steps} steps"
    return f"Shakespeare width 256 Grassmann, batch 8, lr 1e-3: loss {losses[0]:.3f} -> " \
           f"{losses[-1]:.3f} (< {target}) in {len(losses)} steps, {time.perf_counter() - t0:.0f} s"


def check_flag_errors():
    """A bad flag is one line under 200 characters that names it, exit 2, before any work."""
    import subprocess
    cases = [(["--blas-threads", "0"], "--blas-threads"), (["--threads", "-2"], "--threads"),
             (["--width", "sixty"], "--width"), (["--seconds", "0"], "--seconds"),
             (["--mode-that-is-not"], "unrecognized")]
    for flags, words in cases:
        done = subprocess.run([sys.executable, str(HERE / "torch_models.py"), "speed", *flags],
                              capture_output=True, text=True, timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, f"{flags}: exit {done.returncode}: {done.stderr[-300:]}"
        assert len(lines) == 1 and len(lines[0]) < 200, f"{flags}: not one short line: {done.stderr!r}"
        assert words in lines[0], f"{flags}: {words!r} not in {lines[0]!r}"
        assert done.stdout == "", f"{flags}: printed {done.stdout!r}"
    return f"{len(cases)} bad flags, each one line naming it, exit 2"


def main():
    torch.set_num_threads(2)
    passed = failed = 0
    for check in (check_flag_errors, check_names_reference, check_masking, check_grads_mode,
                  check_training):
        t0 = time.perf_counter()
        try:
            message = check()
            print(f"PASS {check.__name__}: {message} [{time.perf_counter() - t0:.1f} s]", flush=True)
            passed += 1
        except Exception:   # an AssertionError or a crash both count as a failure
            print(f"FAIL {check.__name__}:\n{traceback.format_exc()}", flush=True)
            failed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
