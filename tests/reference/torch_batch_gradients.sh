#!/usr/bin/env bash
# Batched loss and gradients against an independent reference (PyTorch, Debian's python3-torch):
# each batch_gradients program (a small Tiny Shakespeare model, final norm, width 32, block 32;
# Grassmann or attention, 1 or 2 layers) computes in f64 the loss and every parameter gradient of
# one batch of four documents of unequal lengths (one past the block, one of a single prediction)
# and writes its weights, the batch and the gradients; bench/torch_models.py grads recomputes them
# from the same weights and batch with torch.autograd in f64, and the two are compared.
# Each program runs twice: with gflow::blas::min_work() = 0 (every product through the BLAS, where
# the build has one) and with a huge min_work (gflow's own kernels only).
# Skipped (exit 77) when /usr/bin/python3 cannot import torch.
#   torch_batch_gradients.sh TORCH_MODELS_PY WORK_DIR BATCH_GRADIENTS_EXE...
set -u
torch_models=$1; work=$2/torch_batch_gradients; shift 2
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "python3-torch is not installed: skipped"
    exit 77
fi
rm -rf "$work"; mkdir -p "$work"

# compare GFLOW_GRADS TORCH_GRADS LABEL: the loss and every element of every gradient.
#
# Criterion: |gflow - torch| <= 1e-9 * max(|torch|, 1e-3 * max |torch| over the tensor) for every
# entry, and |gflow - torch| <= 1e-9 |torch| for the loss. Both sides compute in f64 (rounding
# 1.1e-16) the same sums in different orders (BLAS blocking, OpenMP, torch's kernels), so they
# differ by a few roundings of the summed terms: observed <= 1.1e-15 of each tensor's largest entry
# and <= 3e-13 per entry by this criterion (the worst are entries near the floor). A plain
# per-entry relative error means nothing for an entry that is a near-cancellation of much larger
# terms (its error is relative to the terms, not to itself), so each entry's scale is floored at
# 1e-3 of the tensor's largest: 1e-9 relative down to there, 1e-12 of the tensor's largest below
# it (which also holds the exact zeros, such as the rows of unused tokens). Any real error (a padded
# row leaking into the loss, a mixer reading across documents, a missing term) moves the gradients
# by far more than 1e-9; 1e-9 leaves three to four orders of headroom over the rounding.
compare() {
    /usr/bin/python3 - "$@" <<'EOF'
import json, math, struct, sys

def read(path):   # safetensors, parsed with the standard library (F64 only: both sides are f64)
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F64":
            sys.exit(f"{path}: {name} is {info['dtype']}, not F64")
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        out[name] = (tuple(info["shape"]), struct.unpack(f"<{len(raw) // 8}d", raw))
    return out, meta

gflow_path, torch_path, label = sys.argv[1:4]
G, gmeta = read(gflow_path)
R, rmeta = read(torch_path)
TOL, FLOOR = 1e-9, 1e-3
ok = True
if list(G) != list(R):
    print(f"{label}: parameters differ: gflow {list(G)}, torch {list(R)}")
    sys.exit(1)
gl, tl = float(gmeta["loss"]), float(rmeta["loss"])
loss_err = abs(gl - tl) / abs(tl)
if not loss_err <= TOL:
    print(f"{label}: loss gflow {gl!r} torch {tl!r}: relative difference {loss_err:.3g} > {TOL}")
    ok = False
worst, worst_name, normwise = 0.0, "", 0.0
for name, (gshape, g) in G.items():
    tshape, t = R[name]
    if gshape != tshape:
        print(f"{label}: {name}: shape gflow {gshape}, torch {tshape}")
        ok = False
        continue
    floor = FLOOR * max(abs(x) for x in t)
    if floor > 0:
        normwise = max(normwise, max(abs(a - b) for a, b in zip(g, t)) / (floor / FLOOR))
    for i, (a, b) in enumerate(zip(g, t)):
        scale = max(abs(b), floor)
        err = abs(a - b) / scale if scale > 0 else (0.0 if a == b else math.inf)
        if not err <= worst:
            worst, worst_name = err, name
        if not err <= TOL:
            print(f"{label}: {name}[{i}]: gflow {a!r} torch {b!r}: relative difference {err:.3g} > {TOL}")
            ok = False
            break
print(f"{label}: loss {tl:.17g}, {len(G)} gradients: worst relative difference loss {loss_err:.2g}, "
      f"gradients {worst:.2g} ({worst_name or '-'}; relative to each tensor's largest: {normwise:.2g}) "
      f"{'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
EOF
}

status=0
for exe in "$@"; do
    name=$(basename "$exe")
    for path in blas:0 kernels:9223372036854775807; do
        label="$name/${path%%:*}"; dir=$work/$name/${path%%:*}; mkdir -p "$dir"
        "$exe" "$dir" --min-work "${path#*:}" >"$dir.log" 2>&1 || { cat "$dir.log"; echo "$label: gflow failed"; status=1; continue; }
        /usr/bin/python3 "$torch_models" grads --model shakespeare --heads 4 --dtype f64 --threads 1 \
            --weights "$dir/weights.safetensors" --batch-json "$dir/batch.json" \
            --save-grads "$dir/torch.safetensors" >"$dir.torch.log" 2>&1 \
            || { cat "$dir.torch.log"; echo "$label: torch_models.py grads failed"; status=1; continue; }
        head -n 1 "$dir.log"   # whether the build has a BLAS at all
        compare "$dir/grads.safetensors" "$dir/torch.safetensors" "$label" || status=1
    done
done
exit $status
