"""Compile time and training time of jaxlstm's programs with XLA:CPU's two code
generators: the element-wise one jaxlstm asks for (``xla_cpu_use_fusion_emitters
= False`` in ``jaxlstm.train.compiler_options``) and the fusion emitters (XLA's
default; ``JAXLSTM_XLA_FUSION_EMITTERS=1``).

    python benchmarks/bench_compile.py                 # about 6 minutes on 2 cores
    python benchmarks/bench_compile.py --repeats 1 --workloads digits

Each sample is a fresh process with the persistent compilation cache off
(``JAXLSTM_CACHE_DIR=''``), so every compile is cold; the two generators
alternate (fusion, element-wise, fusion, ...) so that a noisy machine slows
both alike. Per sample: the search's ``compile_time_`` (tracing, lowering and
XLA compilation of its training programs) and ``train_time_`` (running them),
apart, and the CV scores, which must agree. Workloads:

- ``digits``: the README's main job (``jaxlstm sweep``'s shipped grid: 12
  candidates x 3 folds, 3 programs) without the refit;
- ``chlorine``: ChlorineConcentration (467 x 166 steps), LSTM(64) alone and
  with LSTM-FCN's branch over time steps and over channels, 20 epochs, 3 folds
  (the default search's first candidates, shorter); needs the ``ucr`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import harness

CHILD = r"""
import json, sys, time
import numpy as np
from jaxlstm import LSTMClassifier, LSTMSearchCV, config, datasets
which = sys.argv[1]
if which == "digits":
    search = config.load_config().make_search().set_params(refit=False)
    d = datasets.load("digits_imbalanced")
else:
    d = datasets.load("ucr:ChlorineConcentration")
    grid = [{"conv_filters": [()], "lstm_over": ["time"]},
            {"conv_filters": [(64, 128, 64)], "lstm_over": ["time", "channels"]}]
    est = LSTMClassifier(hidden_sizes=(64,), batch_size=32, epochs=20, learning_rate=3e-3, random_state=0,
                         max_length=int(d.lengths.max()))
    search = LSTMSearchCV(est, grid, cv=3, refit=False, scoring="balanced_accuracy")
seqs = [d.x[i, : d.lengths[i]] for i in range(len(d.y))]
t = time.perf_counter()
search.fit(seqs, d.y)
key = [k for k in search.cv_results_ if k.startswith("mean_test_")][0]
print(json.dumps(dict(compile_s=search.compile_time_, train_s=search.train_time_, wall_s=time.perf_counter() - t,
                      scores=[round(float(v), 6) for v in search.cv_results_[key]])))
"""

GENERATORS = {"fusion emitters (XLA default)": "1", "element-wise (jaxlstm)": "0"}


def sample(workload: str, fusion: str) -> dict:
    env = dict(os.environ, JAXLSTM_CACHE_DIR="", JAXLSTM_XLA_FUSION_EMITTERS=fusion)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # JAX's own persistent cache: a second sample was a cache hit
    res = subprocess.run([sys.executable, "-c", CHILD, workload], env=env, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"{workload} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", type=harness.names(("digits", "chlorine")), default="digits,chlorine")
    harness.add_arguments(ap, repeats=2)
    args = ap.parse_args()
    header = harness.machine_header()
    harness.print_header(header)
    results = {}
    print(f"\n{'workload':9s} {'code generator':31s} {'compile s':>10s} {'train s':>8s}  CV scores agree")
    for workload in args.workloads:
        runs = {name: [] for name in GENERATORS}
        for _ in range(args.repeats):
            for name, fusion in GENERATORS.items():
                runs[name].append(sample(workload, fusion))
        base = runs["fusion emitters (XLA default)"][0]["scores"]
        for name, rs in runs.items():
            comp, train = statistics.median(r["compile_s"] for r in rs), statistics.median(r["train_s"] for r in rs)
            agree = all(max(abs(a - b) for a, b in zip(r["scores"], base, strict=True)) < 1e-3 for r in rs)
            print(f"{workload:9s} {name:31s} {comp:10.1f} {train:8.1f}  {agree}")
            results.setdefault(workload, {})[name] = dict(samples=rs, compile_s_median=comp, train_s_median=train,
                                                          scores_agree=agree)
        f, e = (results[workload][n] for n in GENERATORS)
        print(f"{workload:9s} element-wise / fusion: compile {e['compile_s_median'] / f['compile_s_median']:.2f}x, "
              f"train {e['train_s_median'] / f['train_s_median']:.2f}x")
    harness.save(__file__, args, header, results)


if __name__ == "__main__":
    main()
