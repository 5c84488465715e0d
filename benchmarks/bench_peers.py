"""jaxlstm against the tools users would pick instead, on the same work, in one run.

    python benchmarks/bench_peers.py                      # W1 and W2, every installed tool
    python benchmarks/bench_peers.py --workloads w1 --tools jaxlstm,torch
    python benchmarks/bench_peers.py --curve              # + members/s against sweep size
    python benchmarks/bench_peers.py --workloads w2one --tools jaxlstm,torch --lstm-impl scan

Peers (optional extra ``bench``; none is a dependency of jaxlstm or its CI, a
tool that is not installed is skipped with a note):

- ``torch``: ``nn.LSTM`` + ``nn.Linear``, a plain training loop, ``torch.optim.Adam``
  (``pip install torch==2.13.0``: the CPU build);
- ``keras``: Keras 3 on TensorFlow through scikeras ``KerasClassifier`` +
  scikit-learn ``GridSearchCV`` (W1, the tutorial's stack) and ``model.fit`` (W2);
- ``jaxlstm``: ``LSTMSearchCV`` (W1) and ``run_sweep`` (W2).

Workloads:

- W1 "tutorial grid": 300 x 20 x 10, 3 classes, units {64, 128, 256} x learning
  rate {1e-3, 1e-2, 1e-1} x batch size {32, 64}, 10 epochs, 3-fold CV, then a refit
  of the best on all rows (55 fits). Timed end to end, compilation included;
  jaxlstm's compile time is also shown apart (a second run in the same process
  reuses the compiled programs: compile = first - second), and the end-to-end
  time of a fresh process whose persistent compilation cache is warm.
- W2one: W2's data and model, one configuration (learning rate 3e-3, no L2,
  no dropout, seed 0): ``LSTMClassifier.fit`` + ``predict`` against one PyTorch
  fit. jaxlstm's compile time is shown apart (first fit - second fit).
- W2 "fixed architecture": 4,096 x 50 x 16, 5 imbalanced classes, LSTM(128),
  16 configurations (learning rate {1e-3, 3e-3} x L2 {0, 1e-4} x dropout
  {0, 0.2} x seed {0, 1}), batch 64, 5 epochs, balanced class-weighted
  cross-entropy, trained on a fixed 80 % and scored on the other 20 %.

FLOPs (the same count for every tool): the LSTM's matmuls only,
``2 * 4H * (F + H)`` per sequence step, x3 per training row and epoch (forward
and backward), x1 per scored row. The machine's float32 matmul rate is measured
in the same run (2048^3 through XLA, and through PyTorch when installed); each
tool's GFLOP/s is the workload's FLOPs over its wall time, and "of matmul" is
that over the XLA rate.

With a GPU (or ``--curve``), jaxlstm's members/s against sweep size
(1 ... 1,024 members, W1's shape with LSTM(64)) is added.

Each row is one end-to-end run of the workflow (wall time from the first call
to the scores, compilation included, as a user meets it); the machine header,
matmul rates and JSON output (``--json``) are ``harness.py``'s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import harness

W1_GRID = {"units": [64, 128, 256], "learning_rate": [1e-3, 1e-2, 1e-1], "batch_size": [32, 64]}
W1 = dict(n=300, t=20, f=10, classes=3, epochs=10, cv=3)
W2 = dict(n=4096, t=50, f=16, classes=5, hidden=128, batch=64, epochs=5)
W2_CONFIGS = [dict(learning_rate=lr, l2=l2, dropout=d, seed=s)
              for lr, l2, d, s in itertools.product([1e-3, 3e-3], [0.0, 1e-4], [0.0, 0.2], [0, 1])]


# ----------------------------------------------------------------------------- data and FLOPs

def w1_data(seed=0):
    """The tutorial's shapes (``np.random.rand(300, 20, 10)``, 3 classes) with a
    weak class signal so that accuracies mean something."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, W1["classes"], W1["n"])
    x = rng.random((W1["n"], W1["t"], W1["f"])) + 0.15 * y[:, None, None] * (np.arange(W1["f"]) < 3)
    return x.astype(np.float32), y.astype(np.int64)


def w2_data(seed=0):
    rng = np.random.default_rng(seed)
    c = W2["classes"]
    p = np.geomspace(1, 0.05, c)
    y = rng.choice(c, W2["n"], p=p / p.sum())
    x = rng.normal(size=(W2["n"], W2["t"], W2["f"])) + 0.25 * y[:, None, None] * (np.arange(W2["f"]) < 4)
    n_tr = int(0.8 * W2["n"])
    return x.astype(np.float32), y.astype(np.int64), np.arange(n_tr), np.arange(n_tr, W2["n"])


def lstm_flops(hidden, features, steps, train_rows, epochs, scored_rows):
    return steps * 2 * 4 * hidden * (features + hidden) * (3 * train_rows * epochs + scored_rows)


def w1_flops(best_units):
    n_tr = W1["n"] * (W1["cv"] - 1) // W1["cv"]
    n_te = W1["n"] - n_tr
    per = {h: lstm_flops(h, W1["f"], W1["t"], n_tr, W1["epochs"], n_te) for h in W1_GRID["units"]}
    grid = sum(per[h] for h in W1_GRID["units"]) * len(W1_GRID["learning_rate"]) * len(W1_GRID["batch_size"])
    return grid * W1["cv"] + lstm_flops(best_units, W1["f"], W1["t"], W1["n"], W1["epochs"], 0)


def w2_flops():
    n_tr = int(0.8 * W2["n"])
    return len(W2_CONFIGS) * lstm_flops(W2["hidden"], W2["f"], W2["t"], n_tr, W2["epochs"], W2["n"] - n_tr)


def balanced(y, classes):
    counts = np.bincount(y, minlength=classes)
    return len(y) / (classes * np.maximum(counts, 1))


def matmul_rates(n=2048, reps=10):
    """float32 ``n^3`` matmul GFLOP/s through XLA (``harness.matmul_rate``) and PyTorch (median call)."""
    out = {"xla": harness.matmul_rate(n, reps)}
    try:
        import torch
    except ImportError:
        return out
    b = torch.randn(n, n)
    out["torch"] = 2 * n**3 / harness.time_call(lambda: b @ b, warmup=1, repeats=reps).median / 1e9
    return out


# ----------------------------------------------------------------------------- jaxlstm

def jaxlstm_w1(x, y):
    from jaxlstm import LSTMClassifier, LSTMSearchCV

    search = LSTMSearchCV(LSTMClassifier(epochs=W1["epochs"], random_state=0), param_grid=W1_GRID,
                          cv=W1["cv"], scoring="accuracy")
    t0 = time.perf_counter()
    search.fit(x, y)
    wall = time.perf_counter() - t0
    return dict(wall=wall, best=search.best_params_, score=search.best_score_,
                compile_reported=getattr(search, "compile_time_", None))


def jaxlstm_w2(x, y, tr, va, matmul_dtype="float32"):
    from jaxlstm import run_sweep

    configs = [dict(hidden_sizes=(W2["hidden"],), batch_size=W2["batch"], epochs=W2["epochs"], matmul_dtype=matmul_dtype,
                    class_weight_exponent=1.0, learning_rate=c["learning_rate"], l2=c["l2"],
                    dropout=c["dropout"]) for c in W2_CONFIGS if c["seed"] == 0]
    t0 = time.perf_counter()
    res = run_sweep(x, y, configs=configs, cv=[(tr, va)], seeds=(0, 1), scoring=("accuracy", "f1_macro"))
    wall = time.perf_counter() - t0
    cv = res.cv_results_
    return dict(wall=wall, compile=res.compile_s, run=res.run_s,
                score=float(np.max(cv["mean_test_accuracy"])),
                f1=float(np.mean(cv["mean_test_f1_macro"])))


def jaxlstm_w2one(x, y, tr, va):
    from jaxlstm import LSTMClassifier

    def fit():
        clf = LSTMClassifier(units=W2["hidden"], batch_size=W2["batch"], epochs=W2["epochs"], learning_rate=3e-3,
                             class_weight="balanced", random_state=0)
        t0 = time.perf_counter()
        acc = float(np.mean(clf.fit(x[tr], y[tr]).predict(x[va]) == y[va]))
        return time.perf_counter() - t0, acc

    cold, acc = fit()
    warm, _ = fit()
    return dict(wall=cold, compile=cold - warm, run=warm, score=acc)


def jaxlstm_w1_fresh_processes(reps=2):
    """End-to-end W1 in fresh processes sharing a persistent compilation cache:
    the first fills it, the next ones read it."""
    walls = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=cache)
        for _ in range(reps):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--_w1-child"], env=env, check=True,
                                 capture_output=True, text=True)
            walls.append((time.perf_counter() - t0, json.loads(out.stdout.strip().splitlines()[-1])))
    return walls


def _w1_child():
    import jaxlstm

    jaxlstm.enable_compilation_cache(os.environ["JAX_COMPILATION_CACHE_DIR"], min_compile_time_secs=0)
    t0 = time.perf_counter()
    out = jaxlstm_w1(*w1_data())
    out["in_process"] = time.perf_counter() - t0
    print(json.dumps({k: v for k, v in out.items() if k != "best"}))


def jaxlstm_curve(sizes):
    import jax

    from jaxlstm import run_sweep

    x, y = w1_data()
    rows = []
    for m in sizes:
        configs = [dict(hidden_sizes=(64,), batch_size=32, epochs=W1["epochs"], learning_rate=float(lr))
                   for lr in np.geomspace(1e-4, 1e-1, m)]
        folds = [(np.arange(200), np.arange(200, 300))]
        res = run_sweep(x, y, configs=configs, cv=folds, chunk_size=m if jax.default_backend() != "cpu" else None)
        rows.append((m, res.compile_s, res.run_s, m / res.run_s))
    return rows


# ----------------------------------------------------------------------------- PyTorch

def _torch_fit_predict(x_tr, y_tr, x_te, *, hidden, lr, batch, epochs, seed, classes, l2=0.0, dropout=0.0,
                       weights=None):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mu, sd = x_tr.mean((0, 1)), x_tr.std((0, 1)) + 1e-7  # jaxlstm's default per-fit standardisation
    xt = torch.from_numpy((x_tr - mu) / sd)
    yt = torch.from_numpy(y_tr)
    lstm = nn.LSTM(x_tr.shape[-1], hidden, batch_first=True)
    drop = nn.Dropout(dropout)
    head = nn.Linear(hidden, classes)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=lr)
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    lstm.train(), head.train(), drop.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            _, (h, _) = lstm(xt[idx])
            logits = head(drop(h[-1]))
            loss = nn.functional.cross_entropy(logits, yt[idx], reduction="none")
            if w is not None:
                loss = loss * w[yt[idx]]
            loss = loss.mean()
            if l2:
                loss = loss + l2 * (lstm.weight_ih_l0.square().sum() + lstm.weight_hh_l0.square().sum()
                                    + head.weight.square().sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    lstm.eval(), drop.eval()
    with torch.no_grad():
        _, (h, _) = lstm(torch.from_numpy((x_te - mu) / sd))
        return head(h[-1]).argmax(-1).numpy()


def torch_w1(x, y):
    from sklearn.model_selection import ParameterGrid, StratifiedKFold

    folds = list(StratifiedKFold(W1["cv"], shuffle=True, random_state=0).split(x, y))
    t0 = time.perf_counter()
    scores = []
    for p in ParameterGrid(W1_GRID):
        accs = [np.mean(_torch_fit_predict(x[a], y[a], x[b], hidden=p["units"], lr=p["learning_rate"],
                                           batch=p["batch_size"], epochs=W1["epochs"], seed=0,
                                           classes=W1["classes"]) == y[b]) for a, b in folds]
        scores.append((np.mean(accs), p))
    best_score, best = max(scores, key=lambda s: s[0])
    _torch_fit_predict(x, y, x[:1], hidden=best["units"], lr=best["learning_rate"], batch=best["batch_size"],
                       epochs=W1["epochs"], seed=0, classes=W1["classes"])
    return dict(wall=time.perf_counter() - t0, best=best, score=best_score)


def torch_w2one(x, y, tr, va):
    t0 = time.perf_counter()
    pred = _torch_fit_predict(x[tr], y[tr], x[va], hidden=W2["hidden"], lr=3e-3, batch=W2["batch"],
                              epochs=W2["epochs"], seed=0, classes=W2["classes"], weights=balanced(y[tr], W2["classes"]))
    return dict(wall=time.perf_counter() - t0, score=float(np.mean(pred == y[va])))


def torch_w2(x, y, tr, va):
    t0 = time.perf_counter()
    accs = []
    w = balanced(y[tr], W2["classes"])
    for c in W2_CONFIGS:
        pred = _torch_fit_predict(x[tr], y[tr], x[va], hidden=W2["hidden"], lr=c["learning_rate"],
                                  batch=W2["batch"], epochs=W2["epochs"], seed=c["seed"], classes=W2["classes"],
                                  l2=c["l2"], dropout=c["dropout"], weights=w)
        accs.append(np.mean(pred == y[va]))
    return dict(wall=time.perf_counter() - t0, score=float(np.max(accs)))


# ----------------------------------------------------------------------------- Keras + scikeras

def _keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ImportError(f"Keras uses the {keras.backend.backend()!r} backend, not tensorflow")
    return keras


def keras_w1(x, y):
    keras = _keras()
    from scikeras.wrappers import KerasClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    def create_model(units=128, learning_rate=1e-3):  # the tutorial's model
        model = keras.Sequential([keras.Input((None, W1["f"])), keras.layers.LSTM(units),
                                  keras.layers.Dense(W1["classes"], activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    clf = KerasClassifier(model=create_model, model__units=128, model__learning_rate=1e-3, epochs=W1["epochs"],
                          verbose=0, random_state=0)
    grid = {"model__units": W1_GRID["units"], "model__learning_rate": W1_GRID["learning_rate"],
            "batch_size": W1_GRID["batch_size"]}
    cv = StratifiedKFold(W1["cv"], shuffle=True, random_state=0)
    t0 = time.perf_counter()
    search = GridSearchCV(clf, grid, cv=cv, scoring="accuracy").fit(x, y)
    best = {k.replace("model__", ""): v for k, v in search.best_params_.items()}
    return dict(wall=time.perf_counter() - t0, best=best, score=search.best_score_)


def keras_w2(x, y, tr, va):
    keras = _keras()
    w = balanced(y[tr], W2["classes"])
    t0 = time.perf_counter()
    accs = []
    for c in W2_CONFIGS:
        keras.utils.set_random_seed(c["seed"])
        reg = keras.regularizers.l2(c["l2"]) if c["l2"] else None
        model = keras.Sequential([keras.Input((W2["t"], W2["f"])),
                                  keras.layers.LSTM(W2["hidden"], kernel_regularizer=reg, recurrent_regularizer=reg),
                                  keras.layers.Dropout(c["dropout"]),
                                  keras.layers.Dense(W2["classes"], kernel_regularizer=reg)])
        model.compile(optimizer=keras.optimizers.Adam(c["learning_rate"]),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x[tr], y[tr], batch_size=W2["batch"], epochs=W2["epochs"], verbose=0,
                  class_weight=dict(enumerate(w)))
        accs.append(np.mean(model.predict(x[va], verbose=0).argmax(-1) == y[va]))
    return dict(wall=time.perf_counter() - t0, score=float(np.max(accs)))


# ----------------------------------------------------------------------------- report

def _available(tool):
    try:
        if tool == "torch":
            import torch  # noqa: F401
        elif tool == "keras":
            _keras()
            import scikeras  # noqa: F401
        return None
    except ImportError as e:
        how = "pip install torch==2.13.0 (exactly: the CPU build)" if tool == "torch" else \
            "pip install 'tensorflow-cpu>=2.16' 'scikeras>=0.13'"
        return f"{tool} skipped: not installed ({e}); {how}"


def table(title, rows, flops, peak, members):
    """Print one workload's rows; return them with GFLOP/s and the ratio to jaxlstm added (for the JSON)."""
    print(f"\n{title}")
    print(f"{'tool':<34} {'wall s':>8} {'compile s':>9} {'run s':>8} {'members/s':>9} {'GFLOP/s':>8} "
          f"{'of matmul':>9} {'best acc':>8} {'jaxlstm faster':>14}")
    jl = next((r for r in rows if r["tool"].startswith("jaxlstm")), None)
    out = []
    for r in rows:
        gf = flops(r) / r["wall"] / 1e9
        ratio = "" if jl is None else f"{r['wall'] / jl['wall']:.2f}x"
        comp = "" if r.get("compile") is None else f"{r['compile']:.1f}"
        run = "" if r.get("run") is None else f"{r['run']:.1f}"
        print(f"{r['tool']:<34} {r['wall']:>8.1f} {comp:>9} {run:>8} {members / r['wall']:>9.2f} {gf:>8.1f} "
              f"{gf / peak:>8.1%} {r['score']:>8.3f} {ratio:>14}")
        out.append(dict(r, gflops=gf, of_matmul=gf / peak, members_per_s=members / r["wall"],
                        jaxlstm_faster=None if jl is None else r["wall"] / jl["wall"]))
    return {"title": title, "rows": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", type=harness.names(("w1", "w2", "w2one", "none")), default="w1,w2",
                    help="w1, w2, w2one (none: the curve alone)")
    ap.add_argument("--tools", type=harness.names(("jaxlstm", "torch", "keras")), default="jaxlstm,torch,keras")
    ap.add_argument("--curve", action="store_true", help="members/s against sweep size (default on a GPU)")
    ap.add_argument("--curve-max", type=harness.count(1), default=None, help="largest sweep in the curve, a power "
                    "of two (default 1024 on an accelerator, 64 on CPU)")
    ap.add_argument("--bf16", action="store_true", help="add jaxlstm with bfloat16 matmuls to W2")
    ap.add_argument("--no-fresh", action="store_true", help="skip the fresh-process persistent-cache W1 runs")
    ap.add_argument("--lstm-impl", choices=("auto", "kernel", "scan"), default=None,
                    help="jaxlstm's LSTM: the compiled CPU kernel, the scan, or automatic (sets JAXLSTM_LSTM_IMPL; "
                         "default: JAXLSTM_LSTM_IMPL as set, else auto)")
    ap.add_argument("--_w1-child", action="store_true", help=argparse.SUPPRESS)
    harness.add_arguments(ap)
    args = ap.parse_args()
    if args.curve_max is not None and args.curve_max & (args.curve_max - 1):
        ap.error(f"argument --curve-max: {args.curve_max} is not a power of two (the curve doubles from 1)")
    # before anything is traced; children inherit it (a JAXLSTM_LSTM_IMPL the user set is kept without the flag)
    args.lstm_impl = args.lstm_impl or os.environ.get("JAXLSTM_LSTM_IMPL", "auto")
    os.environ["JAXLSTM_LSTM_IMPL"] = args.lstm_impl
    if args._w1_child:
        return _w1_child()
    import jax

    tools = list(args.tools)
    notes = []
    for t in list(tools):
        why = _available(t)
        if why:
            notes.append(why)
            tools.remove(t)
    header = harness.machine_header()
    harness.print_header(header)
    rates = matmul_rates()
    peak = rates["xla"]
    print(f"jaxlstm LSTM: lstm_impl={args.lstm_impl}; tools: {', '.join(tools)}")
    print("float32 matmul 2048^3: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in rates.items()))
    for n in notes:
        print("note: " + n)
    results = {"tools": tools, "notes": notes, "matmul_gflops": rates, "tables": []}

    if "w1" in args.workloads:
        x, y = w1_data()
        rows = []
        if "jaxlstm" in tools:
            cold = jaxlstm_w1(x, y)
            warm = jaxlstm_w1(x, y)
            rows.append(dict(tool="jaxlstm LSTMSearchCV (cold)", compile=cold["wall"] - warm["wall"],
                             run=warm["wall"], **cold))
            if not args.no_fresh:
                for k, (wall, child) in enumerate(jaxlstm_w1_fresh_processes()):
                    rows.append(dict(tool=f"jaxlstm new process, cache {'cold' if k == 0 else 'warm'}", wall=wall,
                                     score=child["score"], best=cold["best"]))
        if "torch" in tools:
            rows.append(dict(tool="PyTorch loop + ParameterGrid", **torch_w1(x, y)))
        if "keras" in tools:
            rows.append(dict(tool="Keras/TF + scikeras GridSearchCV", **keras_w1(x, y)))
        members = len(list(itertools.product(*W1_GRID.values()))) * W1["cv"] + 1
        results["tables"].append(table(f"W1 tutorial grid: {W1['n']} x {W1['t']} x {W1['f']}, 18 configs x {W1['cv']} folds + refit = "
              f"{members} fits, {W1['epochs']} epochs, {w1_flops(256) / 1e12:.2f}-{w1_flops(64) / 1e12:.2f}e12 FLOP",
              rows, lambda r: w1_flops(r["best"]["units"]), peak, members))

    if "w2one" in args.workloads:
        x, y, tr, va = w2_data()
        rows = []
        if "jaxlstm" in tools:
            rows.append(dict(tool=f"jaxlstm LSTMClassifier ({args.lstm_impl})", **jaxlstm_w2one(x, y, tr, va)))
        if "torch" in tools:
            rows.append(dict(tool="PyTorch nn.LSTM loop", **torch_w2one(x, y, tr, va)))
        results["tables"].append(table(f"W2one: one configuration of W2, LSTMClassifier.fit + predict, "
              f"{w2_flops() / len(W2_CONFIGS) / 1e12:.3f}e12 FLOP", rows, lambda r: w2_flops() / len(W2_CONFIGS), peak,
                                      1))

    if "w2" in args.workloads:
        x, y, tr, va = w2_data()
        rows = []
        if "jaxlstm" in tools:
            rows.append(dict(tool="jaxlstm run_sweep", **jaxlstm_w2(x, y, tr, va)))
            if args.bf16:
                rows.append(dict(tool="jaxlstm run_sweep, bfloat16 matmuls", **jaxlstm_w2(x, y, tr, va, "bfloat16")))
        if "torch" in tools:
            rows.append(dict(tool="PyTorch nn.LSTM loop", **torch_w2(x, y, tr, va)))
        if "keras" in tools:
            rows.append(dict(tool="Keras/TF model.fit loop", **keras_w2(x, y, tr, va)))
        results["tables"].append(table(f"W2 fixed architecture: {W2['n']} x {W2['t']} x {W2['f']}, LSTM({W2['hidden']}), "
              f"{len(W2_CONFIGS)} configs, batch {W2['batch']}, {W2['epochs']} epochs, "
              f"{w2_flops() / 1e12:.2f}e12 FLOP", rows, lambda r: w2_flops(), peak, len(W2_CONFIGS)))

    if args.curve or jax.default_backend() != "cpu":
        top = args.curve_max if args.curve_max is not None else 1024 if jax.default_backend() != "cpu" else 64
        sizes = [2**k for k in range(int(np.log2(top)) + 1)]
        print(f"\njaxlstm members/s against sweep size (W1 shape, LSTM(64), {W1['epochs']} epochs, "
              f"{jax.default_backend()})")
        print(f"{'members':>8} {'compile s':>9} {'run s':>8} {'members/s':>9}")
        results["curve"] = []
        for m, c, r, mps in jaxlstm_curve(sizes):
            print(f"{m:>8} {c:>9.1f} {r:>8.2f} {mps:>9.2f}")
            results["curve"].append(dict(members=m, compile_s=c, run_s=r, members_per_s=mps))
    harness.save(__file__, args, header, results)


if __name__ == "__main__":
    main()
