"""Sweep memory and scale on this machine.

    python benchmarks/bench_memory.py              # both parts (about 5 minutes on 2 cores)
    python benchmarks/bench_memory.py --part chunks
    python benchmarks/bench_memory.py --part thousand

Part "chunks": peak resident memory of one sweep chunk against the chunk size,
each size in a fresh process (peak RSS from getrusage, minus the RSS just
before the sweep), next to ``jaxlstm.sweep.estimate_member_bytes`` x chunk
size, the estimate the automatic chunk size is based on. Host memory only:
on a GPU it measures the host process, not the device's memory. The largest
chunk (128 members) peaks at about 13 GiB: run "chunks" on a machine with
more than 16 GiB.

Part "thousand": a 1,000-member sweep of a small model (200 random
configurations x 5 CV folds) with the default chunking, timed end to end
(compile included and shown apart) with its peak memory.

Each measurement is one fresh process (peak RSS is per process), so there is
no warm-up or repeat; the header and the JSON output (``--json``) are the
shared ones of ``harness.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import harness

CHILD = r"""
import json, resource, sys, time
import numpy as np, jax
from jaxlstm.model import ModelConfig
from jaxlstm.sweep import estimate_member_bytes, run_sweep
from jaxlstm.train import TrainConfig

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()

args = json.loads(sys.argv[1])
n, t, f, h, batch, chunk, epochs, configs, folds = (args[k] for k in
    ("n", "t", "f", "hidden", "batch", "chunk", "epochs", "configs", "folds"))
rng = np.random.default_rng(0)
y = rng.integers(0, 3, n).astype(np.int32)
x = (rng.normal(size=(n, t, f)) + 0.3 * y[:, None, None]).astype(np.float32)
lengths = rng.integers(t // 2, t + 1, n).astype(np.int32)
if configs is None:
    space = {"hidden_sizes": [(h,)], "batch_size": [batch], "epochs": [epochs],
             "learning_rate": list(np.geomspace(1e-3, 1e-2, chunk // folds))}
    kw = dict(space=space, cv=folds, seeds=(0,), chunk_size=chunk)  # one chunk of `chunk` members
    members = chunk
else:
    from scipy.stats import loguniform, uniform
    space = {"hidden_sizes": [(h,)], "batch_size": [batch], "epochs": [epochs],
             "learning_rate": loguniform(1e-4, 3e-2), "l2": loguniform(1e-6, 1e-2),
             "dropout": uniform(0, 0.5), "class_weight_exponent": [0.0, 0.5, 1.0]}
    kw = dict(space=space, n_iter=configs, cv=folds, seeds=(0,), random_state=0)
    members = configs * folds
base = rss()
t0 = time.perf_counter()
r = run_sweep(x, y, lengths, scoring=("f1_macro",), **kw)
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
est = estimate_member_bytes(TrainConfig(ModelConfig(f, 3, (h,)), batch_size=batch, epochs=epochs), n, t)
ok = int((r.cv_results_["status"] == "ok").sum())
print(json.dumps({"members": members, "wall": wall, "compile": r.compile_s, "run": r.run_s, "peak": peak, "base": base, "est": est,
                  "ok": ok, "candidates": len(r.cv_results_["params"]), "best": r.best_score_}))
"""


def child(**kw):
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(kw)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def chunks():
    shape = dict(n=2000, t=50, f=16, hidden=64, batch=64, epochs=1, configs=None, folds=2)
    print(f"\nchunks: {shape['n']} x {shape['t']} x {shape['f']}, hidden {shape['hidden']}, batch {shape['batch']}, "
          f"1 epoch; one chunk per process")
    print(f"{'chunk':>6} {'members':>7} {'wall s':>7} {'peak MiB':>9} {'over base MiB':>13} {'estimate MiB':>12} "
          f"{'measured/estimate':>17}")
    rows = []
    for chunk in (2, 8, 32, 128):
        r = child(chunk=chunk, **shape)
        over = (r["peak"] - r["base"]) / 2**20
        est = r["est"] * chunk / 2**20
        print(f"{chunk:>6} {r['members']:>7} {r['wall']:>7.1f} {r['peak'] / 2**20:>9.0f} {over:>13.0f} {est:>12.0f} "
              f"{over / est:>17.2f}")
        rows.append(dict(chunk=chunk, **r))
    return {"shape": shape, "rows": rows}


def thousand():
    shape = dict(n=300, t=20, f=10, hidden=32, batch=32, epochs=5, configs=200, folds=5, chunk=None)
    r = child(**shape)
    print("\nthousand: 300 x 20 x 10, hidden 32, 200 random configs x 5 folds, 5 epochs, default chunking")
    print(f"{'members':>7} {'configs ok':>10} {'wall s':>7} {'compile s':>9} {'run s':>7} {'members/s':>9} "
          f"{'peak MiB':>9} {'best f1_macro':>13}")
    print(f"{r['members']:>7} {r['ok']:>10} {r['wall']:>7.1f} {r['compile']:>9.1f} {r['run']:>7.1f} "
          f"{r['members'] / r['run']:>9.1f} {r['peak'] / 2**20:>9.0f} {r['best']:>13.3f}")
    return {"shape": shape, **r}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("chunks", "thousand", "all"), default="all")
    harness.add_arguments(ap)
    args = ap.parse_args()
    header = harness.machine_header()
    harness.print_header(header)
    results = {}
    if args.part in ("chunks", "all"):
        results["chunks"] = chunks()
    if args.part in ("thousand", "all"):
        results["thousand"] = thousand()
    harness.save(__file__, args, header, results)


if __name__ == "__main__":
    main()
