"""Sweep execution strategies on this machine: a Python loop of single runs,
one vmapped call, chunked vmaps, and lax.map over members.

    python benchmarks/bench_sweep.py            # small workload (about 2 minutes on 2 cores)
    python benchmarks/bench_sweep.py --medium   # adds 4096 x 50 x 16, hidden 128 (long on CPU)

Prints one table per workload: strategy, members, compile s, run s, members/s,
GFLOP/s and the ratio of run time to the loop. Compile time is measured apart
(AOT lower + compile, ``harness.time_compile``); run time is the median of
``--repeats`` runs of the whole sweep (after ``--warmup`` untimed ones), each
call blocked until ready (``harness.time_call``). Results also as JSON
(``--json``).

FLOPs counted per member: the LSTM matmuls only, 2 * 4H * (F + H) per sequence
step, times 3 for training (forward + backward) on the training rows and times
1 for the per-epoch validation pass, over all epochs.
"""

from __future__ import annotations

import argparse
import itertools

import jax
import jax.numpy as jnp
import numpy as np

import harness
from jaxlstm.model import ModelConfig
from jaxlstm.sweep import make_folds, pad_indices
from jaxlstm.train import Split, TrainConfig, fit, make_hparams


def workload(n, t, f, classes, seed=0, imbalanced=False):
    rng = np.random.default_rng(seed)
    p = np.geomspace(1, 0.1, classes) if imbalanced else np.ones(classes)
    y = rng.choice(classes, n, p=p / p.sum()).astype(np.int32)
    x = rng.normal(size=(n, t, f)).astype(np.float32) + 0.3 * y[:, None, None]
    return x, np.full(n, t, np.int32), y


def members(configs, folds, classes):
    tr_idx, tr_mask = pad_indices([a for a, _ in folds])
    te_idx, te_mask = pad_indices([b for _, b in folds])
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


def run(name, n, t, f, classes, hidden, configs, n_folds, epochs, batch, chunk_sizes, strategies, warmup=0,
        repeats=1):
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

    def timed(fn, *args):  # the whole sweep in one call: compile apart, then the runs
        c = harness.time_compile(jax.jit(fn), *args)
        return c, harness.time_call(c.compiled, *args, warmup=warmup, repeats=repeats)

    # each call's member arguments are sliced before the clock starts: the first slicing compiles small programs
    # (0.3-0.4 s, 5-7 % of the small loop's run), which the vmap and lax.map rows never paid (until 2026-12-07)
    if "loop" in strategies:
        c = harness.time_compile(jax.jit(one), take(split, 0), take(hp, 0), rngs[0])
        each = jax.block_until_ready([(take(split, i), take(hp, i), rngs[i]) for i in range(m)])

        def loop():
            for a in each:
                jax.block_until_ready(c.compiled(*a))

        rows.append(("loop of single runs", m, c, harness.time_call(loop, warmup=warmup, repeats=repeats)))
    if "vmap" in strategies:
        rows.append(("vmap, all members", m, *timed(jax.vmap(one), split, hp, rngs)))
    for size in chunk_sizes:
        if size >= m:
            continue
        pad = -m % size
        idx = np.r_[np.arange(m), np.zeros(pad, int)]
        c = harness.time_compile(jax.jit(jax.vmap(one)), take(split, idx[:size]), take(hp, idx[:size]),
                                 rngs[idx[:size]])

        parts = jax.block_until_ready([(take(split, idx[s : s + size]), take(hp, idx[s : s + size]),
                                        rngs[idx[s : s + size]]) for s in range(0, len(idx), size)])

        def chunks(c=c, parts=parts):
            for a in parts:
                jax.block_until_ready(c.compiled(*a))

        rows.append((f"vmap chunks of {size}", m, c, harness.time_call(chunks, warmup=warmup, repeats=repeats)))
        rows.append((f"lax.map batch_size={size}", m,
                     *timed(lambda s, h, r, size=size: jax.lax.map(lambda a: one(*a), (s, h, r), batch_size=size),
                            split, hp, rngs)))

    base = rows[0][3].median
    print(f"\n{name}: {n} x {t} x {f}, {classes} classes, hidden {hidden}, {len(configs)} configs x "
          f"{len(folds)} folds = {m} members, {epochs} epochs, batch {batch}; {flops / 1e9:.1f} GFLOP")
    print(f"{'strategy':<26} {'members':>7} {'compile s':>9} {'run s':>8} {'members/s':>9} {'GFLOP/s':>8} {'vs loop':>8}")
    for label, mm, c, r in rows:
        r_s = r.median
        print(f"{label:<26} {mm:>7} {c.seconds:>9.2f} {r_s:>8.2f} {mm / r_s:>9.2f} {flops / r_s / 1e9:>8.1f} "
              f"{base / r_s:>7.2f}x")
    return {"name": name, "shape": dict(n=n, t=t, f=f, classes=classes, hidden=hidden, configs=len(configs),
                                        folds=len(folds), members=m, epochs=epochs, batch=batch),
            "flops": flops, "rows": [{"strategy": label, "members": mm, "compile": c, "run": r,
                                      "members_per_s": mm / r.median, "gflops": flops / r.median / 1e9}
                                     for label, mm, c, r in rows]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--medium", action="store_true", help="also run the 4096 x 50 x 16 workload")
    harness.add_arguments(ap, warmup=0, repeats=1)
    args = ap.parse_args()
    header = harness.machine_header()
    harness.print_header(header)
    timing = dict(warmup=args.warmup, repeats=args.repeats)
    small = [dict(learning_rate=lr, l2=l2, dropout=d) for lr in (1e-3, 3e-3, 1e-2)
             for l2 in (0.0, 1e-4, 1e-3) for d in (0.0, 0.2)]
    results = [run("small", 300, 20, 10, 3, 64, small, 3, 10, 32, (6, 18), ("loop", "vmap"), **timing)]
    if args.medium:
        medium = [dict(learning_rate=lr, l2=l2, dropout=d, class_weight_exponent=1.0)
                  for lr in (1e-3, 3e-3) for l2 in (0.0, 1e-4) for d in (0.0, 0.2)] * 2
        results.append(run("medium", 4096, 50, 16, 5, 128, medium, 1, 5, 64, (4,), ("loop", "vmap"), **timing))
    harness.save(__file__, args, header, {"workloads": results})


if __name__ == "__main__":
    main()
