"""Record of a one-off probe (2026-12-03), not a tool: does the default search do better on macro recall when
the plain LSTM (the tutorial's unweighted model, bench_imbalance's (a)) is its second fixed candidate instead of
its fifth? On DistalPhalanxTW a 2-minute budget on the 2-core VM finished only the first four (all LSTM-FCN), so
(a)'s configuration, which scores the higher test macro recall there, was never a candidate for the refit or
for ensemble selection.

Runs bench_imbalance's (c) (same budget, seeds, refit) with the preset's initial points reordered: the plain
LSTM moved from index 4 to index 1, the rest in their order. "--shipped" runs the preset as shipped instead
(same output), for a paired comparison in one session.

Usage: python probe_lstm_second-2026-12-03.py DATASET[,DATASET...] SEED[,SEED...] [--shipped]
Output: JSON lines on stdout, one per dataset and seed, with every candidate's status, CV score and fit time.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_imbalance import method, scores, sequences, splits  # noqa: E402

from jaxlstm import config  # noqa: E402

SHIPPED = "--shipped" in sys.argv
if not SHIPPED:
    lines = config.PRESET.split("\n")
    start = lines.index("initial_points = [") + 1
    end = lines.index("]", start)
    points = lines[start:end]
    plain = [p for p in points if "conv_filters = [], " in p and "logit_adjust_tau = 0.0" in p]
    assert len(plain) == 1, plain
    rest = [p for p in points if p is not plain[0]]
    lines[start:end] = [rest[0], plain[0], *rest[1:]]
    config.PRESET = "\n".join(lines)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    for name in args[0].split(","):
        tr, te = splits(name)
        max_len = int(max(tr.lengths.max(), te.lengths.max()))
        cls = np.asarray(tr.class_names)
        y_true = np.asarray(te.class_names)[te.y]
        for seed in (int(s) for s in args[1].split(",")):
            est = method("c", seed, 2.0, name, max_len)
            t0 = time.perf_counter()
            pred = est.fit(sequences(tr), cls[tr.y]).predict(sequences(te))
            seconds = time.perf_counter() - t0
            cv = est.cv_results_
            cands = [dict(conv=str(p.get("conv_filters")), over=p.get("lstm_over"), tau=p.get("logit_adjust_tau"),
                          samp=p.get("sampling_exponent"), epochs=p.get("epochs"), status=str(s),
                          cv=round(float(m), 4), fit_s=round(float(f), 1))
                     for p, s, m, f in zip(cv["params"], cv["status"], cv["mean_test_balanced_accuracy"],
                                           cv["mean_fit_time"])]
            print(json.dumps(dict(dataset=name, seed=seed, order="shipped" if SHIPPED else "lstm_second",
                                  **{k: round(v, 4) for k, v in scores(y_true, pred).items()},
                                  seconds=round(seconds, 1), compile_s=round(est.compile_time_, 1),
                                  train_s=round(est.train_time_, 1), best_index=int(est.best_index_),
                                  ensemble=est.ensemble_, offsets=est.oof_score_, candidates=cands,
                                  y_pred=[str(v) for v in pred]), default=float), flush=True)


if __name__ == "__main__":
    main()
