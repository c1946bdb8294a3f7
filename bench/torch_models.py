#!/usr/bin/python3
"""gflow's models in PyTorch, batched: a speed baseline and an independent reference.

The models are computed exactly as gflow computes them (include/gflow/terms/*.hpp,
include/gflow/network.hpp, examples/names_model.hpp, examples/parens_model.hpp, and the Tiny
Shakespeare model of the issue "The paper's size on one machine"):

    x = rmsnorm(wte[tok] + wpe[t])
    per layer:  x = x + mixer(rmsnorm(x));  x = x + mlp_fc2 relu(mlp_fc1 rmsnorm(x))
    [Shakespeare only: x = rmsnorm(x)]      a final norm, as GPT-2's ln_f (no parameters)
    logits = lm_head x
    loss = the mean cross-entropy over the batch's predicted tokens

with rmsnorm(v) = v / sqrt(mean(v^2) + 1e-5), no biases, no learned gains. Parameter names are
gflow's (its checkpoint names): wte, wpe, layer{i}.W_red, W_plu, W_gate_h, W_gate_g (Grassmann) or
layer{i}.attn_wq, attn_wk, attn_wv, attn_wo (attention), layer{i}.mlp_fc1, mlp_fc2, lm_head.

A batch holds B sequences of unequal lengths, padded: sequence b predicts n_b = min(block,
len_b - 1) tokens, and positions t >= n_b are left out of the loss (so out of every gradient; both
mixers are causal, so a padded position never reaches a valid one).

Modes (see bench/README.md):
    speed  training throughput (tokens/s, median over chunks of steps)
    train  Tiny Shakespeare for a token budget, validation loss at fixed intervals
    grads  loss and every parameter gradient of a batch, from/to safetensors files
"""
import argparse
import json
import math
import os
import random
import statistics
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

NAMES_WINDOW = (1, 2, 4, 8, 12, 16)
PARENS_WINDOW = (1, 2, 4, 8, 16)
SHAKESPEARE_WINDOW = (1, 2, 4, 8, 12, 16)
PAPER_SCHEDULE = (1, 1, 2, 2, 4, 4, 8, 8, 12, 12, 16, 16)   # 12 layers, one offset each
DTYPES = {"f32": torch.float32, "f64": torch.float64}


# ---------------------------------------------------------------------------------------------
# configuration


@dataclass
class Config:
    vocab: int
    block: int
    width: int
    mixer: str                      # "grassmann" | "attention"
    windows: list                   # per layer: a tuple of offsets (Grassmann)
    r: int = 4
    heads: int = 4
    final_norm: bool = False
    init_std: float = 0.08
    layers: int = field(init=False)

    def __post_init__(self):
        self.layers = len(self.windows)
        if self.mixer == "attention" and self.width % self.heads:
            raise ValueError(f"attention: {self.heads} heads do not divide the width {self.width}")


def windows_for(layers, window):
    """Per-layer windows: the paper's schedule for 12 layers, else `window` in every layer."""
    if layers == 12:
        return [(d,) for d in PAPER_SCHEDULE]
    return [tuple(window)] * layers


def make_config(model, mixer, width=None, layers=None, block=None, r=None, heads=None,
                final_norm=None, vocab=None, window=None):
    """The benchmark models; any None takes the model's default."""
    if model == "names":
        d = dict(vocab=27, block=16, width=16, layers=1, r=4, heads=4, window=NAMES_WINDOW,
                 final_norm=False, init_std=0.08)
    elif model == "parens":
        d = dict(vocab=3, block=64, width=16, layers=1, r=4, heads=4, window=PARENS_WINDOW,
                 final_norm=False, init_std=0.08)
    elif model == "shakespeare":
        w = width or 256
        d = dict(vocab=65, block=256, width=w, layers=6, r=16 if w <= 64 else 32,
                 heads=8 if w >= 256 else 4, window=SHAKESPEARE_WINDOW, final_norm=True,
                 init_std=0.02)
    else:
        raise ValueError(f"unknown model {model}")
    for key, value in dict(vocab=vocab, block=block, width=width, layers=layers, r=r, heads=heads,
                           final_norm=final_norm, window=window).items():
        if value is not None:
            d[key] = value
    return Config(vocab=d["vocab"], block=d["block"], width=d["width"], mixer=mixer,
                  windows=windows_for(d["layers"], d["window"]), r=d["r"], heads=d["heads"],
                  final_norm=d["final_norm"], init_std=d["init_std"])


def parameter_shapes(cfg):
    """(name, shape) in gflow's parameter order."""
    V, T, d, r = cfg.vocab, cfg.block, cfg.width, cfg.r
    out = [("wte", (V, d)), ("wpe", (T, d))]
    for i in range(cfg.layers):
        p = f"layer{i}."
        if cfg.mixer == "grassmann":
            P = r * (r - 1) // 2
            out += [(p + "W_red", (r, d)), (p + "W_plu", (d, P)), (p + "W_gate_h", (d, d)),
                    (p + "W_gate_g", (d, d))]
        else:
            out += [(p + n, (d, d)) for n in ("attn_wq", "attn_wk", "attn_wv", "attn_wo")]
        out += [(p + "mlp_fc1", (4 * d, d)), (p + "mlp_fc2", (d, 4 * d))]
    out.append(("lm_head", (V, d)))
    return out


def init_weights(cfg, seed=42, dtype=torch.float32):
    """Every weight ~ N(0, init_std^2) (torch's generator: not gflow's stream of numbers)."""
    gen = torch.Generator().manual_seed(seed)
    return {name: (torch.randn(shape, generator=gen, dtype=torch.float64) * cfg.init_std).to(dtype)
            for name, shape in parameter_shapes(cfg)}


# ---------------------------------------------------------------------------------------------
# the model


def rmsnorm(x):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)


_pairs_cache = {}


def pair_indices(r, device):
    """(i, j), i < j, in gflow's order (0,1), (0,2), ..., (r-2, r-1)."""
    key = (r, device)
    if key not in _pairs_cache:
        ij = torch.triu_indices(r, r, offset=1, device=device)
        _pairs_cache[key] = (ij[0].contiguous(), ij[1].contiguous())
    return _pairs_cache[key]


def grassmann(W, p, h, window, r):
    """h: [B, L, d]. z = W_red h; p_ij = z_t[i] z_{t-δ}[j] - z_t[j] z_{t-δ}[i];
    p̂ = p / sqrt(|p|^2 + 1e-8); g = W_plu mean_δ p̂ (over δ <= t; g_0 = 0);
    α = sigmoid(W_gate_h h + W_gate_g g); out = α h + (1 - α) g."""
    B, L, d = h.shape
    z = h @ W[p + "W_red"].t()                          # [B, L, r]
    I, J = pair_indices(r, h.device)
    zi, zj = z[..., I], z[..., J]                       # [B, L, C(r,2)]
    total, count = None, [0] * L
    for delta in window:
        if delta >= L:
            continue
        c = zi[:, delta:] * zj[:, :-delta] - zj[:, delta:] * zi[:, :-delta]   # [B, L-δ, C]
        c = c * torch.rsqrt((c * c).sum(-1, keepdim=True) + 1e-8)
        c = F.pad(c, (0, 0, delta, 0))
        total = c if total is None else total + c
        for t in range(delta, L):
            count[t] += 1
    if total is None:
        pbar = h.new_zeros(B, L, I.numel())
    else:
        scale = torch.tensor([1.0 / max(k, 1) for k in count], dtype=h.dtype, device=h.device)
        pbar = total * scale[:, None]
    g = pbar @ W[p + "W_plu"].t()                       # [B, L, d]
    alpha = torch.sigmoid(h @ W[p + "W_gate_h"].t() + g @ W[p + "W_gate_g"].t())
    return alpha * h + (1 - alpha) * g


_mask_cache = {}


def attention(W, p, h, heads):
    """Causal multi-head attention: softmax_s(q_t . k_s / sqrt(d/H)), s <= t; out = W_o concat."""
    B, L, d = h.shape
    D = d // heads
    q = (h @ W[p + "attn_wq"].t()).view(B, L, heads, D).transpose(1, 2)   # [B, H, L, D]
    k = (h @ W[p + "attn_wk"].t()).view(B, L, heads, D).transpose(1, 2)
    v = (h @ W[p + "attn_wv"].t()).view(B, L, heads, D).transpose(1, 2)
    key = (L, h.device)
    if key not in _mask_cache:
        _mask_cache[key] = torch.triu(torch.ones(L, L, dtype=torch.bool, device=h.device), 1)
    scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D))
    a = torch.softmax(scores.masked_fill(_mask_cache[key], float("-inf")), dim=-1)
    o = (a @ v).transpose(1, 2).reshape(B, L, d)
    return o @ W[p + "attn_wo"].t()


def logits_of(W, cfg, inputs):
    """inputs: [B, L] token ids (L <= block) -> logits [B, L, V]."""
    L = inputs.shape[1]
    x = rmsnorm(W["wte"][inputs] + W["wpe"][:L])
    for i, window in enumerate(cfg.windows):
        p = f"layer{i}."
        h = rmsnorm(x)
        if cfg.mixer == "grassmann":
            x = x + grassmann(W, p, h, window, cfg.r)
        else:
            x = x + attention(W, p, h, cfg.heads)
        x = x + torch.relu(rmsnorm(x) @ W[p + "mlp_fc1"].t()) @ W[p + "mlp_fc2"].t()
    if cfg.final_norm:
        x = rmsnorm(x)
    return x @ W["lm_head"].t()


@dataclass
class Batch:
    inputs: torch.Tensor            # [B, L] tokens at the predicting positions (0 past the end)
    targets: torch.Tensor           # [B, L] the next tokens
    lengths: list                   # n_b, predicted tokens of each sequence
    mask: torch.Tensor = None       # [B, L] bool, None when every sequence is full length

    @property
    def tokens(self):
        return sum(self.lengths)


def make_batch(sequences, block, device="cpu"):
    """Pads token sequences (each with >= 2 tokens) into a Batch; n_b = min(block, len_b - 1)."""
    lengths = [min(block, len(s) - 1) for s in sequences]
    if min(lengths) < 1:
        raise ValueError("a sequence needs at least 2 tokens")
    L = max(lengths)
    inputs = torch.zeros(len(sequences), L, dtype=torch.long)
    targets = torch.zeros(len(sequences), L, dtype=torch.long)
    for b, (s, n) in enumerate(zip(sequences, lengths)):
        inputs[b, :n] = torch.as_tensor(s[:n])
        targets[b, :n] = torch.as_tensor(s[1:n + 1])
    mask = None
    if min(lengths) < L:
        mask = torch.arange(L)[None, :] < torch.tensor(lengths)[:, None]
        mask = mask.to(device)
    return Batch(inputs.to(device), targets.to(device), lengths, mask)


def loss_of(W, cfg, batch):
    """Mean cross-entropy over the batch's predicted tokens (padded positions left out)."""
    logits = logits_of(W, cfg, batch.inputs)
    if batch.mask is None:
        return F.cross_entropy(logits.reshape(-1, cfg.vocab), batch.targets.reshape(-1))
    return F.cross_entropy(logits[batch.mask], batch.targets[batch.mask])


# ---------------------------------------------------------------------------------------------
# Adam with gflow's schedule (include/gflow/optim/adam.hpp)


class Adam:
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  w -= lr_s m̂ / (sqrt(v̂) + eps), with
    m̂ = m / (1-b1^(s+1)), v̂ = v / (1-b2^(s+1)), lr_s = lr (1 - s / decay_steps) (0: constant).
    torch.optim.Adam computes the same update; only the rate is set per step."""

    def __init__(self, params, lr, decay_steps=0, beta1=0.85, beta2=0.99, eps=1e-8):
        self.lr, self.decay_steps = lr, decay_steps
        self.opt = torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)

    def rate_at(self, step):
        return self.lr * (1.0 - step / self.decay_steps) if self.decay_steps > 0 else self.lr

    def step(self, step):
        for group in self.opt.param_groups:
            group["lr"] = self.rate_at(step)
        self.opt.step()


def train_step(W, cfg, batch, opt, step):
    for w in W.values():
        w.grad = None
    loss = loss_of(W, cfg, batch)
    loss.backward()
    opt.step(step)
    return loss.item()


# ---------------------------------------------------------------------------------------------
# data


def data_file(name):
    for path in (ROOT / "data" / name, ROOT.parent / "shared" / "data" / name):
        if path.exists():
            return path
    raise FileNotFoundError(f"{name}: not in {ROOT / 'data'} nor ../shared/data")


def names_documents(path=None, seed=42):
    """Token sequences [BOS] + chars + [BOS], vocabulary = sorted characters, BOS = 26; shuffled."""
    lines = [l.strip() for l in open(path or data_file("names.txt"), encoding="utf-8") if l.strip()]
    vocab = sorted(set("".join(lines)))
    bos = len(vocab)
    docs = [[bos] + [vocab.index(c) for c in l] + [bos] for l in lines]
    random.Random(seed).shuffle(docs)
    return docs, vocab


def parens_documents(count=10000, seed=42):
    """The random walk of docs/benchmarks.md#parens ('(' = 0, ')' = 1, BOS = 2); Python's random,
    so not gflow's strings, but the same distribution."""
    gen = random.Random(seed)
    docs = []
    for _ in range(count):
        pairs = gen.randint(10, 25)
        depth, s = 0, []
        for i in range(2 * pairs):
            remaining = 2 * pairs - i
            can_open = depth < pairs and remaining - depth > depth
            can_close = depth > 0
            opening = can_open and (not can_close or gen.random() < 0.5)
            s.append(0 if opening else 1)
            depth += 1 if opening else -1
        docs.append([2] + s + [2])
    return docs


class Shakespeare:
    """Character level: vocabulary = sorted distinct characters (65); first 90 % train, last 10 %
    validation, split by position. A training batch is B random windows of block + 1 characters."""

    def __init__(self, path=None):
        text = open(path or data_file("tinyshakespeare.txt"), encoding="utf-8").read()
        self.vocab = sorted(set(text))
        index = {c: i for i, c in enumerate(self.vocab)}
        data = torch.tensor([index[c] for c in text], dtype=torch.long)
        cut = int(0.9 * len(data))
        self.train, self.val = data[:cut], data[cut:]

    @staticmethod
    def windows(split, batch, block, gen):
        starts = torch.randint(0, len(split) - block, (batch,), generator=gen)
        x = torch.stack([split[s:s + block + 1] for s in starts.tolist()])
        return Batch(x[:, :-1].contiguous(), x[:, 1:].contiguous(), [block] * batch)


# ---------------------------------------------------------------------------------------------
# safetensors, read and written here directly


ST_DTYPES = {"F32": torch.float32, "F64": torch.float64}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


def read_safetensors(path):
    """{name: tensor}, metadata. 8-byte little-endian header length, JSON header, raw data."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in ST_DTYPES:
            raise ValueError(f"{path}: {name}: dtype {info['dtype']} is not F32 or F64")
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=ST_DTYPES[info["dtype"]]) if raw else \
            torch.empty(0, dtype=ST_DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Tensors in the given order; the header padded with spaces to a multiple of 8."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# modes


def config_from_args(args):
    return make_config(args.model, args.mixer, width=args.width, layers=args.layers,
                       block=args.block, r=args.r, heads=args.heads)


def set_threads(n, blas=None):
    """torch.set_num_threads(n), and OpenBLAS's own thread count (blas, default n): Debian's torch
    calls OpenBLAS (libblas.so.3 -> openblas-pthread), whose pool torch.set_num_threads does not
    reach (it keeps OPENBLAS_NUM_THREADS or the core count). Returns OpenBLAS's count, or None."""
    import ctypes
    torch.set_num_threads(n)
    for lib in ("libblas.so.3", "libopenblas.so.0"):
        try:
            b = ctypes.CDLL(lib)
            b.openblas_set_num_threads(ctypes.c_int(n if blas is None else blas))
            return b.openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
    return None


def blas_library():
    """The BLAS this process loaded (its path: openblas-pthread, openblas-openmp, ...), or None."""
    try:
        for line in open("/proc/self/maps"):
            path = line.split()[-1]
            if "blas" in path.lower() and ".so" in path:
                return os.path.realpath(path)
    except OSError:
        pass
    return None


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_speed(args):
    blas_threads = set_threads(args.threads, args.blas_threads)
    dtype = DTYPES[args.dtype]
    cfg = config_from_args(args)
    W = init_weights(cfg, args.seed, dtype)
    for w in W.values():
        w.requires_grad_(True)
    opt = Adam(list(W.values()), lr=args.lr or (1e-3 if args.model == "shakespeare" else 0.01))
    if args.model == "shakespeare":
        data, gen = Shakespeare(args.data), torch.Generator().manual_seed(args.seed)
        next_batch = lambda s: Shakespeare.windows(data.train, args.batch, cfg.block, gen)
        chunk = args.chunk or 1
    else:
        docs = names_documents(args.data)[0] if args.model == "names" else parens_documents()
        B = args.batch or 1
        next_batch = lambda s: make_batch([docs[(s * B + b) % len(docs)] for b in range(B)], cfg.block)
        chunk = args.chunk or 50
    warmup = args.warmup
    rates, step_rates, tokens_total, t_start = [], [], 0, time.perf_counter()
    step = 0
    load_before = load_average()
    while True:
        t0, tokens, steps = time.perf_counter(), 0, 0
        for _ in range(chunk):
            batch = next_batch(step)
            train_step(W, cfg, batch, opt, step)
            tokens += batch.tokens
            steps += 1
            step += 1
        dt = time.perf_counter() - t0
        if step > warmup:
            rates.append(tokens / dt)
            step_rates.append(steps / dt)
            tokens_total += tokens
        elapsed = time.perf_counter() - t_start
        if args.steps and step >= args.steps + warmup:
            break
        if not args.steps and elapsed >= args.seconds and rates:   # at least one timed chunk, however slow
            break
    params = sum(w.numel() for w in W.values())
    result = dict(model=args.model, mixer=args.mixer, width=cfg.width, layers=cfg.layers,
                  block=cfg.block, batch=args.batch if args.model == "shakespeare" else (args.batch or 1),
                  r=cfg.r if cfg.mixer == "grassmann" else None,
                  heads=cfg.heads if cfg.mixer == "attention" else None,
                  dtype=args.dtype, threads=args.threads, blas_threads=blas_threads, blas_library=blas_library(),
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), params=params, steps=step,
                  chunks=len(rates), tokens_per_s=round(statistics.median(rates), 1),
                  steps_per_s=round(statistics.median(step_rates), 3),
                  load_avg=round(max(load_before, load_average()), 2), torch=torch.__version__)
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        cols = ["model", "mixer", "width", "layers", "batch", "threads", "dtype", "params",
                "tokens_per_s", "steps_per_s", "load_avg"]
        print("  ".join(f"{c:>12}" for c in cols))
        print("  ".join(f"{str(result[c]):>12}" for c in cols))
    return result


def evaluate(W, cfg, windows):
    with torch.no_grad():
        total, count = 0.0, 0
        for batch in windows:
            total += loss_of(W, cfg, batch).item() * batch.tokens
            count += batch.tokens
    return total / count


def run_train(args):
    if args.model != "shakespeare":
        raise SystemExit("train: only --model shakespeare")
    set_threads(args.threads)
    torch.manual_seed(args.seed)
    dtype = DTYPES[args.dtype]
    cfg = config_from_args(args)
    data = Shakespeare(args.data)
    W = init_weights(cfg, args.seed, dtype)
    for w in W.values():
        w.requires_grad_(True)
    per_step = args.batch * cfg.block
    steps = max(1, int(args.tokens) // per_step)
    opt = Adam(list(W.values()), lr=args.lr or 1e-3, decay_steps=steps)
    gen = torch.Generator().manual_seed(args.seed)
    val_gen = torch.Generator().manual_seed(12345)   # the same validation windows in every run
    val = [Shakespeare.windows(data.val, args.batch, cfg.block, val_gen)
           for _ in range(max(1, args.eval_windows // args.batch))]
    every = max(1, int(args.eval_every) // per_step)

    def report(step, seconds, train_losses):
        row = dict(tokens=step * per_step, seconds=round(seconds, 2),
                   train_loss=round(statistics.mean(train_losses), 4) if train_losses else None,
                   val_loss=round(evaluate(W, cfg, val), 4))
        print(json.dumps(row) if args.json else
              f"tokens {row['tokens']:>10}  {row['seconds']:>8.1f} s  train {row['train_loss']}  "
              f"val {row['val_loss']}", flush=True)

    report(0, 0.0, [])
    seconds, recent = 0.0, []
    for step in range(steps):
        t0 = time.perf_counter()
        recent.append(train_step(W, cfg, Shakespeare.windows(data.train, args.batch, cfg.block, gen),
                                 opt, step))
        seconds += time.perf_counter() - t0
        if not math.isfinite(recent[-1]):
            raise SystemExit(f"non-finite loss at step {step}")
        if (step + 1) % every == 0 or step + 1 == steps:
            report(step + 1, seconds, recent)   # seconds: training only, evaluation excluded
            recent = []
    if args.save:
        write_safetensors(args.save, W, {"torch_models.config": json.dumps(vars(cfg))})


def read_sequences(path):
    obj = json.load(open(path))
    seqs = obj["sequences"] if isinstance(obj, dict) else obj
    if not seqs or not all(isinstance(s, list) for s in seqs):
        raise ValueError(f"{path}: expected a list of token lists or {{\"sequences\": [...]}}")
    return [[int(t) for t in s] for s in seqs]


def grads_config(args, W):
    """The model of the weights: sizes from the shapes, the mixer and layer count from the names,
    the window/heads/final norm from --model (or the flags)."""
    layers = len({k.split(".")[0] for k in W if k.startswith("layer")})
    mixer = "grassmann" if "layer0.W_red" in W else "attention"
    V, d = W["wte"].shape
    T = W["wpe"].shape[0]
    r = W["layer0.W_red"].shape[0] if mixer == "grassmann" else None
    cfg = make_config(args.model, mixer, width=d, layers=layers, block=T, vocab=V, r=r,
                      heads=args.heads)
    expected = dict(parameter_shapes(cfg))
    got = {k: tuple(v.shape) for k, v in W.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        raise SystemExit(f"weights do not fit the {args.model} model: missing {missing}, "
                         f"extra {extra}, wrong shapes {wrong}")
    return cfg


def run_grads(args):
    set_threads(args.threads)
    W, _ = read_safetensors(args.weights)
    W = {k: v for k, v in W.items() if not k.startswith("optimizer.")}   # a training state's moments
    cfg = grads_config(args, W)
    dtype = DTYPES[args.dtype] if args.dtype_given else next(iter(W.values())).dtype
    order = [name for name, _ in parameter_shapes(cfg)]
    W = {k: W[k].to(dtype).requires_grad_(True) for k in order}
    seqs = read_sequences(args.batch_json)
    for s in seqs:
        if len(s) < 2 or min(s) < 0 or max(s) >= cfg.vocab:
            raise SystemExit(f"a sequence needs >= 2 tokens in [0, {cfg.vocab})")
    batch = make_batch(seqs, cfg.block)
    loss = loss_of(W, cfg, batch)
    loss.backward()
    meta = {"loss": repr(loss.item()), "tokens": batch.tokens, "sequences": len(seqs),
            "torch_models.config": json.dumps(vars(cfg))}
    write_safetensors(args.save_grads, {k: W[k].grad for k in order}, meta)
    print(f"loss {loss.item():.17g}")
    return loss.item()


class Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not argparse's usage block
        print(f"torch_models: {message} (see --help)"[:199], file=sys.stderr)
        sys.exit(2)


def at_least(low):
    """An integer flag's type: a number below `low` is refused by name (torch.set_num_threads(0)
    and openblas_set_num_threads(0) would otherwise fail or be ignored far from the flag)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value
    return parse


def parse(argv=None):
    ap = Parser(description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["speed", "train", "grads"])
    ap.add_argument("--model", choices=["names", "parens", "shakespeare"], default="shakespeare")
    ap.add_argument("--mixer", choices=["grassmann", "attention"], default="grassmann")
    ap.add_argument("--width", type=at_least(1), help="names/parens 16; shakespeare 256 (64, 128, ...)")
    ap.add_argument("--layers", type=at_least(1), help="default 1 (names, parens), 6 (shakespeare); "
                    "12: the paper's schedule, one offset per layer 1,1,2,2,...,16,16")
    ap.add_argument("--block", type=at_least(1), help="names 16, parens 64, shakespeare 256")
    ap.add_argument("--r", type=at_least(1), help="Grassmann r (names/parens 4; shakespeare 16 at width "
                    "64, else 32)")
    ap.add_argument("--heads", type=at_least(1), help="attention heads (4; shakespeare width 256: 8)")
    ap.add_argument("--batch", type=at_least(1), help="sequences per step (shakespeare 8, names/parens 1)")
    ap.add_argument("--threads", type=at_least(1), default=2, help="torch.set_num_threads and OpenBLAS threads")
    ap.add_argument("--blas-threads", type=at_least(1), help="speed: OpenBLAS's threads, if not --threads (1: "
                    "products in the calling thread, torch's --threads for the rest)")
    ap.add_argument("--steps", type=at_least(0), default=0, help="speed: timed steps (after the warm-up)")
    ap.add_argument("--seconds", type=float, default=15, help="speed: time to run, when no --steps")
    ap.add_argument("--chunk", type=at_least(1), help="speed: steps per timed chunk (shakespeare 1, else 50)")
    ap.add_argument("--warmup", type=at_least(0), default=2, help="speed: untimed steps first")
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--lr", type=float, help="shakespeare 1e-3, names/parens 0.01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", help="the data file (default data/<file> or ../shared/data/<file>)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--tokens", type=float, default=1e6, help="train: training tokens")
    ap.add_argument("--eval-every", type=float, default=1e5, help="train: tokens between reports")
    ap.add_argument("--eval-windows", type=at_least(1), default=64,
                    help="train: validation windows (fixed, seeded) per report")
    ap.add_argument("--save", help="train: write the final weights (safetensors)")
    ap.add_argument("--weights", help="grads: safetensors weights (gflow's names; F32 or F64)")
    ap.add_argument("--batch-json", help='grads: [[tokens...], ...] or {"sequences": [...]}')
    ap.add_argument("--save-grads", help="grads: where to write the gradients (safetensors; "
                    "the loss is in the metadata under 'loss')")
    args = ap.parse_args(argv)
    args.dtype_given = any(a == "--dtype" or a.startswith("--dtype=") for a in (argv or sys.argv[1:]))
    if args.model == "shakespeare" and args.batch is None:
        args.batch = 8
    for flag, value in (("--seconds", args.seconds), ("--tokens", args.tokens), ("--eval-every", args.eval_every)):
        if not value > 0:   # also refuses nan
            ap.error(f"argument {flag}: {value} is not a positive number")
    if args.mode == "grads" and not (args.weights and args.batch_json and args.save_grads):
        ap.error("grads needs --weights, --batch-json and --save-grads")
    return args


def main(argv=None):
    args = parse(argv)
    return {"speed": run_speed, "train": run_train, "grads": run_grads}[args.mode](args)


if __name__ == "__main__":
    main()
