"""LSTM training throughput: the compiled CPU kernel (``lstm_impl="kernel"``)
vs the scan with the hand-written backward pass vs autodiff through the scan
(``ModelConfig(lstm_backward=...)``), against this machine's float32 matmul
rate measured in the same run.

    python benchmarks/bench_lstm.py              # W2 shape, 2 epochs, median of 3 (about 1 minute on 2 cores)
    python benchmarks/bench_lstm.py --epochs 5
    python benchmarks/bench_lstm.py --profile    # + where one training step's time goes

Workload (the benchmark issue's W2): 4,096 sequences x 50 steps x 16
features, 5 imbalanced classes, LSTM(128), batch 64, class-weighted loss,
80/20 train/validation split, one member. FLOPs counted: the LSTM matmuls,
2 * 4H * (F + H) per sequence step, x3 for training rows (forward +
backward), x1 for the per-epoch validation pass.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import harness
from harness import matmul_rate
from jaxlstm.model import ModelConfig
from jaxlstm.train import Split, TrainConfig, fit, make_hparams


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=harness.count(1), default=2)
    ap.add_argument("--profile", action="store_true", help="also time the parts of one training step")
    harness.add_arguments(ap, warmup=1, repeats=3)
    args = ap.parse_args()
    header = harness.machine_header()
    harness.print_header(header)
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
    peak_bf16 = matmul_rate(dtype="bfloat16")
    print(f"matmul rate (2048^3, jit): float32 {peak:.1f} GFLOP/s, bfloat16 operands {peak_bf16:.1f} GFLOP/s")
    print(f"W2 single member: {n} x {t} x {f}, LSTM({h}), batch {batch}, {args.epochs} epochs; "
          f"{flops / 1e9:.0f} GFLOP; run s: median of {args.repeats} interleaved runs after {args.warmup} warm-up")
    print(f"{'variant':<10} {'compile s':>9} {'run s':>7} {'spread':>6} {'s/epoch':>8} {'GFLOP/s':>8} {'of matmul':>9} "
          f"{'vs autodiff':>11}")
    data = (jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(y))
    variants = {"autodiff": dict(lstm_backward="autodiff", lstm_impl="scan"), "fused": dict(lstm_impl="scan"),
                "fused-bf16": dict(matmul_dtype="bfloat16", lstm_impl="scan"), "kernel": dict(lstm_impl="kernel")}
    from jaxlstm import kernel

    if not (kernel.available() and jax.default_backend() == "cpu"):  # an install without a compiler, or a GPU
        del variants["kernel"]
        print(f"note: no kernel row: {kernel.reason() if jax.default_backend() == 'cpu' else 'a CPU kernel'}")
    compiled = {}
    for how in variants:
        cfg = TrainConfig(ModelConfig(f, c, (h,), **variants[how]), batch_size=batch, epochs=args.epochs,
                          record=("f1_macro",))
        compiled[how] = harness.time_compile(jax.jit(fit, static_argnums=6), *data, split, hp, jax.random.key(0), cfg)
    run_args = (*data, split, hp, jax.random.key(0))
    # interleaved, one run of each variant in turn: the machine is shared and noisy
    outs = {}

    def keep(how):  # the last timed run's result, for its score
        def call(*a):
            outs[how] = compiled[how].compiled(*a)
            return outs[how]
        return call

    runs = harness.time_interleaved({how: (keep(how), run_args) for how in variants},
                                    warmup=args.warmup, repeats=args.repeats)
    base = None
    results = {"workload": dict(n=n, t=t, f=f, hidden=h, classes=c, batch=batch, epochs=args.epochs),
               "flops": flops, "matmul_gflops": {"float32": peak, "bfloat16": peak_bf16}, "variants": {}}
    for how, timing in runs.items():
        run = timing.median
        base = base or run
        print(f"{how:<10} {compiled[how].seconds:>9.2f} {run:>7.2f} {timing.spread:>6.0%} {run / args.epochs:>8.2f} "
              f"{flops / run / 1e9:>8.1f} {flops / run / 1e9 / peak:>8.1%} {base / run:>10.2f}x")
        results["variants"][how] = {"config": variants[how], "compile": compiled[how], "run": timing,
                                    "gflops": flops / run / 1e9,
                                    "val_f1_macro": float(outs[how].history["val_f1_macro"][-1])}
    print("final validation f1_macro: " + ", ".join(
        f"{k} {v['val_f1_macro']:.4f}" for k, v in results["variants"].items()))
    print("(gradients agree to float32 rounding, tests/test_model.py; unclipped training amplifies that "
          "rounding into different trajectories, so final scores may differ)")
    if args.profile and "kernel" in variants:  # it times the kernel's parts
        results["profile"] = profile(x, y, lengths, f, c, h, batch, peak)
    harness.save(__file__, args, header, results)


def profile(x, y, lengths, f, c, h, batch, peak):
    """Milliseconds per minibatch of each part of a training step (float32),
    each jitted alone and timed over repeated calls: the scan's parts, the
    kernel's, then the whole model and step with each."""
    from jaxlstm import kernel, losses
    from jaxlstm.model import LSTMClassifierNet, init_params, lstm_scan, sequence_mask
    from jaxlstm.train import init_state, train_step

    t = x.shape[1]
    model = ModelConfig(f, c, (h,), lstm_impl="scan")
    hp = make_hparams(c, learning_rate=1e-3)
    params = init_params(model, jax.random.key(0))
    net = LSTMClassifierNet(model)
    xb, lb, yb = jnp.asarray(x[:batch]), jnp.asarray(lengths[:batch]), jnp.asarray(y[:batch])
    mask = sequence_mask(lb, t)
    lp = params["lstm_0_fwd"]
    xp = jnp.einsum("btf,fg->btg", xb, lp["input_kernel"]) + lp["bias"]
    wh = lp["recurrent_kernel"]
    _, bwd = jax.vjp(lambda a, w: lstm_scan(a, w, mask), xp, wh)
    ct = (jnp.ones((batch, t, h)), (jnp.ones((batch, h)), jnp.ones((batch, h))))

    xp_tm = jnp.swapaxes(xp, 0, 1)
    _, kbwd = jax.vjp(lambda a, w: kernel.lstm_layer(a, w, mask.T), xp_tm, wh)
    ct_tm = (jnp.ones((t, batch, h)), (jnp.ones((batch, h)), jnp.ones((batch, h))))
    nets = {impl: LSTMClassifierNet(ModelConfig(f, c, (h,), lstm_impl=impl)) for impl in ("scan", "kernel")}

    def loss(p, impl):
        return jnp.mean(losses.weighted_cross_entropy(nets[impl].apply({"params": p}, xb, lb), yb))

    b = {"x": xb, "lengths": lb, "y": yb, "mask": jnp.ones(batch, bool)}
    rec = t * 2 * batch * h * 4 * h  # one direction of the recurrent matmuls
    parts = [
        ("input projection x @ W_x (all steps)", jax.jit(lambda a: jnp.einsum("btf,fg->btg", a, lp["input_kernel"])),
         (xb,), t * 2 * batch * f * 4 * h),
        ("scan: forward (recurrent h @ W_h)", jax.jit(lambda a, w: lstm_scan(a, w, mask)), (xp, wh), rec),
        ("scan: backward + dW_h matmul", jax.jit(bwd), (ct,), 2 * rec),
        ("kernel: forward", jax.jit(lambda a, w: kernel.lstm_layer(a, w, mask.T)), (xp_tm, wh), rec),
        ("kernel: backward + dW_h", jax.jit(kbwd), (ct_tm,), 2 * rec),
    ]
    for impl in ("scan", "kernel"):
        state = init_state(ModelConfig(f, c, (h,), lstm_impl=impl), hp, jnp.ones(c), jax.random.key(0))
        parts += [
            (f"{impl}: model forward (loss)", jax.jit(lambda p, i=impl: loss(p, i)), (params,), None),
            (f"{impl}: forward + backward (grad)", jax.jit(jax.grad(lambda p, i=impl: loss(p, i))), (params,), None),
            (f"{impl}: train step (grad + Adam + checks)", jax.jit(train_step), (state, b, hp, jax.random.key(1)),
             3 * rec),
        ]
    print(f"\nprofile: one minibatch of {batch} x {t} x {f}, LSTM({h}), float32; ms: median of 3 means of 30 calls")
    print(f"{'part':<40} {'ms':>7} {'GFLOP/s':>8} {'of matmul':>9}")
    rows = []
    for name, fn, a, flops in parts:
        timing = harness.time_call(fn, *a, warmup=1, repeats=3, number=30)
        ms = timing.median * 1e3
        rate = "" if flops is None else f"{flops / ms / 1e6:>8.1f} {flops / ms / 1e6 / peak:>8.1%}"
        print(f"{name:<40} {ms:>7.3f} {rate}")
        rows.append({"part": name, "time": timing, "flops": flops,
                     "gflops": None if flops is None else flops / ms / 1e6})
    return rows


if __name__ == "__main__":
    main()
