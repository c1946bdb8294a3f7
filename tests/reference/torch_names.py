"""An independent reference for gflow's gradients: the names model of docs/benchmarks.md#names
written in PyTorch.

Reads gflow's weights and its gradient file (safetensors, parsed here with the standard library
so that nothing of gflow is reused), recomputes the loss of one document and every parameter's
gradient with torch.autograd in double precision, and compares. The weights are loaded as a
PyTorch user loads a model.safetensors: into an nn.Module whose parameters are declared here, with
load_state_dict(strict=True) (exactly the module's tensors, names and shapes, nothing more).

    python3 torch_names.py WEIGHTS GRADS DOCUMENT MIXER LAYERS GFLOW_LOSS
    python3 torch_names.py --strict-load WEIGHTS TRAINING_STATE MIXER LAYERS

The second form only checks that gflow's --save output loads strictly, that the training state
beside it (Adam's moments) is not part of it, and that another model's module refuses it.
"""
import json
import struct
import sys

import torch
import torch.nn.functional as F

BLOCK, HEADS, R, WINDOW = 16, 4, 4, (1, 2, 4, 8, 12, 16)
VOCAB, WIDTH, HIDDEN = 27, 16, 64

# The parameters of one layer, as the benchmark names them (docs/benchmarks.md#parameter-names).
MIXER_SHAPES = {
    "grassmann": {"W_red": (R, WIDTH), "W_plu": (WIDTH, R * (R - 1) // 2),
                  "W_gate_h": (WIDTH, WIDTH), "W_gate_g": (WIDTH, WIDTH)},
    "attention": {"attn_wq": (WIDTH, WIDTH), "attn_wk": (WIDTH, WIDTH),
                  "attn_wv": (WIDTH, WIDTH), "attn_wo": (WIDTH, WIDTH)},
}
FFN_SHAPES = {"mlp_fc1": (HIDDEN, WIDTH), "mlp_fc2": (WIDTH, HIDDEN)}


def parameter(shape):
    return torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64))


class Layer(torch.nn.Module):
    def __init__(self, shapes):
        super().__init__()
        for name, shape in shapes.items():
            self.register_parameter(name, parameter(shape))


class NamesModel(torch.nn.Module):
    """The names model's parameters: state_dict keys wte, wpe, layer0.W_red, ..., lm_head."""

    def __init__(self, mixer, layers):
        super().__init__()
        self.wte = parameter((VOCAB, WIDTH))
        self.wpe = parameter((BLOCK, WIDTH))
        for layer in range(layers):
            setattr(self, f"layer{layer}", Layer({**MIXER_SHAPES[mixer], **FFN_SHAPES}))
        self.lm_head = parameter((VOCAB, WIDTH))


def load_strict(path, mixer, layers):
    """The model of `path` as a PyTorch user loads it; raises RuntimeError when it does not fit."""
    tensors, metadata = read_safetensors(path)
    model = NamesModel(mixer, layers)
    model.load_state_dict(tensors, strict=True)
    return model, tensors, metadata


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        dtype = {"F32": torch.float32, "F64": torch.float64}[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(info["shape"]).double()
    return tensors, metadata


def rmsnorm(x):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-5)


def grassmann(W, p, h):
    z = h @ W[p + "W_red"].T  # [n][r]
    n = h.shape[0]
    pairs = [(i, j) for i in range(R) for j in range(i + 1, R)]
    g = []
    for t in range(n):
        coords = []
        for delta in WINDOW:
            if t - delta >= 0:
                v, u = z[t], z[t - delta]
                c = torch.stack([v[i] * u[j] - v[j] * u[i] for i, j in pairs])
                coords.append(c / torch.sqrt((c * c).sum() + 1e-8))
        mean = torch.stack(coords).mean(0) if coords else torch.zeros(len(pairs), dtype=h.dtype)
        g.append(W[p + "W_plu"] @ mean)
    g = torch.stack(g)
    alpha = torch.sigmoid(h @ W[p + "W_gate_h"].T + g @ W[p + "W_gate_g"].T)
    return alpha * h + (1 - alpha) * g


def attention(W, p, h):
    n, d = h.shape
    hd = d // HEADS
    q = (h @ W[p + "attn_wq"].T).view(n, HEADS, hd).transpose(0, 1)
    k = (h @ W[p + "attn_wk"].T).view(n, HEADS, hd).transpose(0, 1)
    v = (h @ W[p + "attn_wv"].T).view(n, HEADS, hd).transpose(0, 1)
    scores = q @ k.transpose(1, 2) / hd**0.5
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    a = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
    o = (a @ v).transpose(0, 1).reshape(n, d)
    return o @ W[p + "attn_wo"].T


def loss_of(W, tokens, mixer, layers):
    n = min(BLOCK, len(tokens) - 1)
    x = rmsnorm(W["wte"][tokens[:n]] + W["wpe"][:n])
    for layer in range(layers):
        p = f"layer{layer}."
        h = rmsnorm(x)
        x = x + (grassmann(W, p, h) if mixer == "grassmann" else attention(W, p, h))
        x = x + torch.relu(rmsnorm(x) @ W[p + "mlp_fc1"].T) @ W[p + "mlp_fc2"].T
    logits = x @ W["lm_head"].T
    return F.cross_entropy(logits, torch.tensor(tokens[1 : n + 1]))


def main():
    if sys.argv[1] == "--strict-load":
        sys.exit(strict_load_main(*sys.argv[2:6]))
    weights_path, grads_path, document, mixer, layers, gflow_loss = sys.argv[1:7]
    model, _, metadata = load_strict(weights_path, mixer, int(layers))
    W = dict(model.named_parameters())
    G, _ = read_safetensors(grads_path)
    vocab = list(metadata["gflow.vocabulary"])
    bos = len(vocab)
    tokens = [bos] + [vocab.index(c) for c in document] + [bos]
    loss = loss_of(W, tokens, mixer, int(layers))
    loss.backward()
    failures = 0
    loss_error = abs(loss.item() - float(gflow_loss)) / abs(loss.item())
    print(f"loss: torch {loss.item():.17g}  gflow {float(gflow_loss):.17g}  relative error {loss_error:.2e}")
    failures += loss_error > 1e-12
    if set(W) != set(G):
        print(f"FAIL: gradient file names {sorted(G)} differ from the weights' {sorted(W)}")
        failures += 1
    worst = 0.0
    for name, w in W.items():
        reference, ours = w.grad, G[name]
        error = ((reference - ours).abs() / reference.abs().clamp(min=1e-4)).max().item()
        worst = max(worst, error)
        if error > 1e-9:
            print(f"FAIL: {name}: max relative error {error:.2e}")
            failures += 1
    print(f"{mixer}, {layers} layer(s): {sum(w.numel() for w in W.values())} gradients, max relative error {worst:.2e}")
    sys.exit(1 if failures else 0)


def strict_load_main(weights_path, state_path, mixer, layers):
    layers = int(layers)
    failures = 0
    try:
        model, tensors, _ = load_strict(weights_path, mixer, layers)
    except RuntimeError as e:
        print(f"FAIL: load_state_dict(strict=True) refused {weights_path}: {e}")
        return 1
    for name, p in model.named_parameters():
        if not torch.equal(p.detach(), tensors[name]):
            print(f"FAIL: {name} differs after loading")
            failures += 1
    count = sum(p.numel() for p in model.parameters())
    print(f"{weights_path}: {mixer}, {layers} layer(s), {len(tensors)} tensors, {count} parameters: loaded strictly")
    # the training state is a file of its own, and is not weights: a strict loader refuses both it
    # and the weights with it (what --save wrote in one file before), as it refuses another model
    state, state_metadata = read_safetensors(state_path)
    if not state or not all(k.startswith("optimizer.") for k in state) or "gflow.step" not in state_metadata:
        print(f"FAIL: {state_path} is not Adam's moments and the step: {sorted(state)}")
        failures += 1
    other = "attention" if mixer == "grassmann" else "grassmann"
    for what, module, tensors_given in (("weights with the training state", NamesModel(mixer, layers), {**tensors, **state}),
                                        (f"a {other} model", NamesModel(other, layers), tensors),
                                        (f"{layers + 1} layers", NamesModel(mixer, layers + 1), tensors)):
        try:
            module.load_state_dict(tensors_given, strict=True)
            print(f"FAIL: load_state_dict(strict=True) accepted {what}")
            failures += 1
        except RuntimeError:
            pass
    return 1 if failures else 0


if __name__ == "__main__":
    main()
