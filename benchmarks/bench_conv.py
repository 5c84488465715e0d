"""The LSTM-FCN convolutional branch: ``lax.conv`` vs stacked windows + one
matmul (the formulation jaxlstm's model uses for its convolution blocks; its
module is private, so this file writes the same computation out), alone and
inside a scanned training loop, as ``jaxlstm.train.fit`` runs it.

    python benchmarks/bench_conv.py          # about 1 minute on 2 cores

Workload: JapaneseVowels' shape, a minibatch of 16 x 29 steps x 12 features
through blocks of 128, 256, 128 filters (widths 8, 5, 3), forward + backward
(value_and_grad of the mean output), 50 steps. FLOPs: 2 * width * in * out per
step and block, x3 for forward + backward. Compile time is AOT lower +
compile, apart; run time the median of ``--repeats`` samples, each the mean
of a series of blocked calls (``harness.py``). Results also as JSON (``--json``).
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import harness

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


def conv_windows(p, h):
    """A 'SAME' 1-D convolution as one matmul over stacked shifted windows (as
    jaxlstm.model's convolution blocks compute it); ``p["kernel"]: [width, in, out]``."""
    width, _, filters = p["kernel"].shape
    left = (width - 1) // 2  # flax/XLA 'SAME': the extra pad goes on the right
    padded = jnp.pad(h, ((0, 0), (left, width - 1 - left), (0, 0)))
    t = h.shape[1]
    windows = jnp.concatenate([padded[:, i:i + t] for i in range(width)], axis=-1)
    return windows @ p["kernel"].reshape(-1, filters) + p["bias"]


def window_matmul(params, x):
    h = x
    for p in params:
        h = jax.nn.relu(conv_windows(p, h))
    return h.mean()


def init_params(key):
    """``nn.Conv``'s parameters and initialisers for each block."""
    import flax.linen as nn

    params, f = [], FEATURES
    for k, (filters, width) in enumerate(BLOCKS):
        kernel = nn.linear.default_kernel_init(jax.random.fold_in(key, k), (width, f, filters))
        params.append({"kernel": kernel, "bias": jnp.zeros(filters)})
        f = filters
    return params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=harness.count(1), default=50, help="training steps per timed call")
    harness.add_arguments(ap, warmup=1, repeats=3)
    args = ap.parse_args(argv)
    header = harness.machine_header()
    harness.print_header(header)
    key = jax.random.key(0)
    x = jax.random.normal(key, (BATCH, STEPS, FEATURES))
    params = init_params(key)
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

    print(f"max |grad difference| {err:.1e}; run s per step: median of {args.repeats} samples")
    print(f"{'what':<42}{'shape':>14}{'compile s':>11}{'run s':>9}{'GFLOP/s':>9}{'ratio':>7}")
    rows, results = [], []
    for where, make, number in (("one step", lambda l: jax.jit(jax.value_and_grad(l)), args.steps),
                                (f"{args.steps} steps in lax.scan", in_scan, 1)):
        base = None
        for name, loss in (("lax.conv", lax_conv), ("windows + matmul", window_matmul)):
            c = harness.time_compile(make(loss), params, x)
            timing = harness.time_call(c.compiled, params, x, warmup=args.warmup, repeats=args.repeats, number=number)
            per_step = timing.median if where == "one step" else timing.median / args.steps
            base = base or per_step
            rows.append((f"{name}, {where}", c.seconds, per_step))
            print(f"{name + ', ' + where:<42}{f'{BATCH}x{STEPS}x{FEATURES}':>14}{c.seconds:>11.2f}{per_step:>9.4f}"
                  f"{_flops() / per_step / 1e9:>9.1f}{base / per_step:>6.2f}x")
            results.append({"what": f"{name}, {where}", "compile": c, "time": timing, "per_step_s": per_step,
                            "gflops": _flops() / per_step / 1e9, "ratio": base / per_step})
    harness.save(__file__, args, header, {"grad_max_abs_diff": err, "steps": args.steps, "rows": results})
    return rows


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
