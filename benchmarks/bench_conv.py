"""The LSTM-FCN convolutional branch: ``lax.conv`` vs stacked windows + one
matmul (what :class:`jaxlstm.model._Conv1D` does), alone and inside a scanned
training loop, as ``jaxlstm.train.fit`` runs it.

    python benchmarks/bench_conv.py          # about 1 minute on 2 cores

Workload: JapaneseVowels' shape, a minibatch of 16 x 29 steps x 12 features
through blocks of 128, 256, 128 filters (widths 8, 5, 3), forward + backward
(value_and_grad of the mean output), 50 steps. FLOPs: 2 * width * in * out per
step and block, x3 for forward + backward.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm.model import _Conv1D

BATCH, STEPS, FEATURES = 16, 29, 12
BLOCKS = ((128, 8), (256, 5), (128, 3))


def _flops() -> float:
    f, total = FEATURES, 0
    for filters, width in BLOCKS:
        total += 2 * width * f * filters * BATCH * STEPS
        f = filters
    return 3.0 * total


def lax_conv(params, x):
    h = x
    for p in params:
        h = jax.lax.conv_general_dilated(h, p["kernel"], (1,), "SAME", dimension_numbers=("NWC", "WIO", "NWC"))
        h = jax.nn.relu(h + p["bias"])
    return h.mean()


def window_matmul(params, x):
    h = x
    for (filters, width), p in zip(BLOCKS, params, strict=True):
        h = jax.nn.relu(_Conv1D(filters, width).apply({"params": p}, h))
    return h.mean()


def _time(fn, args, reps):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn(*args)
    jax.block_until_ready(out)
    return compile_s, (time.perf_counter() - t0) / reps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="training steps per timed call")
    args = ap.parse_args(argv)
    key = jax.random.key(0)
    x = jax.random.normal(key, (BATCH, STEPS, FEATURES))
    params, f = [], FEATURES
    for k, (filters, width) in enumerate(BLOCKS):
        params.append(_Conv1D(filters, width).init(jax.random.fold_in(key, k), jnp.zeros((1, 4, f)))["params"])
        f = filters
    a, b = jax.grad(lax_conv)(params, x), jax.grad(window_matmul)(params, x)
    err = max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True))

    def in_scan(loss):
        g = jax.value_and_grad(loss)

        def run(p, x):
            def body(p, _):
                v, gr = g(p, x)
                return jax.tree.map(lambda w, d: w - 1e-6 * d, p, gr), v
            return jax.lax.scan(body, p, None, length=args.steps)[1]
        return jax.jit(run)

    print(f"# {platform.processor() or platform.machine()}, {jax.devices()[0].platform}, jax {jax.__version__}; "
          f"max |grad difference| {err:.1e}")
    print(f"{'what':<42}{'shape':>14}{'compile s':>11}{'run s':>9}{'GFLOP/s':>9}{'ratio':>7}")
    rows = []
    for where, make, reps in (("one step", lambda l: jax.jit(jax.value_and_grad(l)), args.steps),
                              (f"{args.steps} steps in lax.scan", in_scan, 3)):
        base = None
        for name, loss in (("lax.conv", lax_conv), ("windows + matmul", window_matmul)):
            c, r = _time(make(loss), (params, x), reps)
            per_step = r if where == "one step" else r / args.steps
            base = base or per_step
            rows.append((f"{name}, {where}", c, per_step))
            print(f"{name + ', ' + where:<42}{f'{BATCH}x{STEPS}x{FEATURES}':>14}{c:>11.2f}{per_step:>9.4f}"
                  f"{_flops() / per_step / 1e9:>9.1f}{base / per_step:>6.2f}x")
    return rows


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
