"""LSTM training throughput: autodiff through the scan vs the hand-written
backward pass (``ModelConfig(lstm_backward=...)``), against this machine's
float32 matmul rate measured in the same run.

    python benchmarks/bench_lstm.py              # W2 shape, 2 epochs, best of 3 (about 1 minute on 2 cores)
    python benchmarks/bench_lstm.py --epochs 5

Workload (the benchmark issue's W2): 4,096 sequences x 50 steps x 16
features, 5 imbalanced classes, LSTM(128), batch 64, class-weighted loss,
80/20 train/validation split, one member. FLOPs counted: the LSTM matmuls,
2 * 4H * (F + H) per sequence step, x3 for training rows (forward +
backward), x1 for the per-epoch validation pass.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm.model import ModelConfig
from jaxlstm.train import Split, TrainConfig, fit, make_hparams


def matmul_rate(n=2048, reps=10) -> float:
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    jax.block_until_ready(f(a))
    t0 = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(f(a))
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timed runs per variant (best kept)")
    args = ap.parse_args()
    n, t, f, h, c, batch = 4096, 50, 16, 128, 5, 64
    rng = np.random.default_rng(0)
    p = np.geomspace(1, 0.1, c)
    y = rng.choice(c, n, p=p / p.sum()).astype(np.int32)
    x = (rng.normal(size=(n, t, f)) + 0.3 * y[:, None, None]).astype(np.float32)
    lengths = np.full(n, t, np.int32)
    n_tr = int(n * 0.8)
    split = Split(jnp.arange(n_tr), jnp.ones(n_tr, bool), jnp.arange(n_tr, n), jnp.ones(n - n_tr, bool))
    hp = make_hparams(c, learning_rate=1e-3, class_weight_exponent=1.0)
    flops = args.epochs * t * 2 * 4 * h * (f + h) * (3 * n_tr + (n - n_tr))
    peak = matmul_rate()
    print(f"machine: {platform.processor() or platform.machine()}, {jax.device_count()} x "
          f"{jax.devices()[0].device_kind} ({jax.default_backend()}), jax {jax.__version__}")
    print(f"float32 matmul rate (2048^3, jit): {peak:.1f} GFLOP/s")
    print(f"W2 single member: {n} x {t} x {f}, LSTM({h}), batch {batch}, {args.epochs} epochs; "
          f"{flops / 1e9:.0f} GFLOP")
    print(f"{'backward':<10} {'compile s':>9} {'run s':>7} {'s/epoch':>8} {'GFLOP/s':>8} {'of matmul':>9} {'vs autodiff':>11}")
    data = (jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(y))
    base = None
    outs = {}
    compiled, compile_s, runs = {}, {}, {"autodiff": [], "fused": []}
    for how in runs:
        cfg = TrainConfig(ModelConfig(f, c, (h,), lstm_backward=how), batch_size=batch, epochs=args.epochs,
                          record=("f1_macro",))
        t0 = time.perf_counter()
        compiled[how] = jax.jit(fit, static_argnums=6).lower(*data, split, hp, jax.random.key(0), cfg).compile()
        compile_s[how] = time.perf_counter() - t0
    for _ in range(args.repeats):  # interleaved, best of each: the machine is shared and noisy
        for how in runs:
            t1 = time.perf_counter()
            outs[how] = jax.block_until_ready(compiled[how](*data, split, hp, jax.random.key(0)))
            runs[how].append(time.perf_counter() - t1)
    for how in runs:
        run = min(runs[how])
        base = base or run
        print(f"{how:<10} {compile_s[how]:>9.2f} {run:>7.2f} {run / args.epochs:>8.2f} {flops / run / 1e9:>8.1f} "
              f"{flops / run / 1e9 / peak:>8.1%} {base / run:>10.2f}x")
    print("final validation f1_macro: " + ", ".join(
        f"{k} {float(v.history['val_f1_macro'][-1]):.4f}" for k, v in outs.items()))
    print("(gradients agree to float32 rounding, tests/test_model.py; unclipped training amplifies that "
          "rounding into different trajectories, so final scores may differ)")

if __name__ == "__main__":
    main()
