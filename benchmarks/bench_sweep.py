"""Sweep execution strategies on this machine: a Python loop of single runs,
one vmapped call, chunked vmaps, and lax.map over members.

    python benchmarks/bench_sweep.py            # small workload (about 2 minutes on 2 cores)
    python benchmarks/bench_sweep.py --medium   # adds 4096 x 50 x 16, hidden 128 (long on CPU)

Prints one table per workload: strategy, members, compile s, run s, members/s,
GFLOP/s and the ratio of run time to the loop. Compile time is measured apart
(AOT lower + compile); run time after jax.block_until_ready.

FLOPs counted per member: the LSTM matmuls only, 2 * 4H * (F + H) per sequence
step, times 3 for training (forward + backward) on the training rows and times
1 for the per-epoch validation pass, over all epochs.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm.model import ModelConfig
from jaxlstm.sweep import make_folds, _padded
from jaxlstm.train import Split, TrainConfig, fit, make_hparams


def workload(n, t, f, classes, seed=0, imbalanced=False):
    rng = np.random.default_rng(seed)
    p = np.geomspace(1, 0.1, classes) if imbalanced else np.ones(classes)
    y = rng.choice(classes, n, p=p / p.sum()).astype(np.int32)
    x = rng.normal(size=(n, t, f)).astype(np.float32) + 0.3 * y[:, None, None]
    return x, np.full(n, t, np.int32), y


def members(configs, folds, classes):
    tr_idx, tr_mask = _padded([a for a, _ in folds])
    te_idx, te_mask = _padded([b for _, b in folds])
    hps, fi = [], []
    for cfg, k in itertools.product(configs, range(len(folds))):
        hps.append(make_hparams(classes, **cfg))
        fi.append(k)
    fi = np.array(fi)
    hp = jax.tree.map(lambda *v: jnp.stack(v), *hps)
    split = Split(jnp.asarray(tr_idx[fi]), jnp.asarray(tr_mask[fi]), jnp.asarray(te_idx[fi]), jnp.asarray(te_mask[fi]))
    rngs = jax.vmap(jax.random.key)(jnp.zeros(len(fi), jnp.uint32))
    return hp, split, rngs


def take(tree, sl):
    return jax.tree.map(lambda a: a[sl], tree)


def timed(fn, *args):
    t0 = time.perf_counter()
    compiled = jax.jit(fn, static_argnums=()).lower(*args).compile()
    t1 = time.perf_counter()
    out = jax.block_until_ready(compiled(*args))
    t2 = time.perf_counter()
    return compiled, t1 - t0, t2 - t1, out


def run(name, n, t, f, classes, hidden, configs, n_folds, epochs, batch, chunk_sizes, strategies):
    x, lengths, y = workload(n, t, f, classes, imbalanced=classes > 3)
    folds = make_folds(y, n_folds, 0) if n_folds > 1 else [(np.arange(int(n * 0.8)), np.arange(int(n * 0.8), n))]
    hp, split, rngs = members(configs, folds, classes)
    m = len(configs) * len(folds)
    cfg = TrainConfig(ModelConfig(f, classes, (hidden,)), batch_size=batch, epochs=epochs,
                      record=("f1_macro",), select="f1_macro")
    n_tr, n_va = len(folds[0][0]), len(folds[0][1])
    flops = m * epochs * t * 2 * 4 * hidden * (f + hidden) * (3 * n_tr + n_va)
    data = (jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(y))
    one = lambda s, h, r: fit(*data, s, h, r, cfg)
    rows = []

    if "loop" in strategies:
        compiled, c_s, _, _ = timed(one, take(split, 0), take(hp, 0), rngs[0])
        t0 = time.perf_counter()
        for i in range(m):
            jax.block_until_ready(compiled(take(split, i), take(hp, i), rngs[i]))
        rows.append(("loop of single runs", m, c_s, time.perf_counter() - t0))
    if "vmap" in strategies:
        _, c_s, r_s, _ = timed(jax.vmap(one), split, hp, rngs)
        rows.append(("vmap, all members", m, c_s, r_s))
    for size in chunk_sizes:
        if size >= m:
            continue
        pad = -m % size
        idx = np.r_[np.arange(m), np.zeros(pad, int)]
        compiled, c_s, _, _ = timed(jax.vmap(one), take(split, idx[:size]), take(hp, idx[:size]), rngs[idx[:size]])
        t0 = time.perf_counter()
        for s in range(0, len(idx), size):
            sl = idx[s : s + size]
            jax.block_until_ready(compiled(take(split, sl), take(hp, sl), rngs[sl]))
        rows.append((f"vmap chunks of {size}", m, c_s, time.perf_counter() - t0))
        _, c_s, r_s, _ = timed(lambda s, h, r: jax.lax.map(lambda a: one(*a), (s, h, r), batch_size=size),
                               split, hp, rngs)
        rows.append((f"lax.map batch_size={size}", m, c_s, r_s))

    base = rows[0][3]
    print(f"\n{name}: {n} x {t} x {f}, {classes} classes, hidden {hidden}, {len(configs)} configs x "
          f"{len(folds)} folds = {m} members, {epochs} epochs, batch {batch}; {flops / 1e9:.1f} GFLOP")
    print(f"{'strategy':<26} {'members':>7} {'compile s':>9} {'run s':>8} {'members/s':>9} {'GFLOP/s':>8} {'vs loop':>8}")
    for label, mm, c_s, r_s in rows:
        print(f"{label:<26} {mm:>7} {c_s:>9.2f} {r_s:>8.2f} {mm / r_s:>9.2f} {flops / r_s / 1e9:>8.1f} {base / r_s:>7.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--medium", action="store_true", help="also run the 4096 x 50 x 16 workload")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {jax.device_count()} x "
          f"{jax.devices()[0].device_kind} ({jax.default_backend()}), jax {jax.__version__}")
    small = [dict(learning_rate=lr, l2=l2, dropout=d) for lr in (1e-3, 3e-3, 1e-2)
             for l2 in (0.0, 1e-4, 1e-3) for d in (0.0, 0.2)]
    run("small", 300, 20, 10, 3, 64, small, 3, 10, 32, (6, 18), ("loop", "vmap"))
    if args.medium:
        medium = [dict(learning_rate=lr, l2=l2, dropout=d, class_weight_exponent=1.0)
                  for lr in (1e-3, 3e-3) for l2 in (0.0, 1e-4) for d in (0.0, 0.2)] * 2
        run("medium", 4096, 50, 16, 5, 128, medium, 1, 5, 64, (4,), ("loop", "vmap"))


if __name__ == "__main__":
    main()
