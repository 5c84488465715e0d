"""Record of a one-off probe (2026-12-03), not a tool: does the default search's refit by ensemble selection
(``ensemble_selection = 5``: Caruana et al. 2004, greedy selection with replacement on the candidates'
out-of-fold probabilities) beat its refit before (the CV-best candidate alone as a 3-seed ensemble, decision
offsets fitted on its out-of-fold probabilities, kept if they win cross-fitted)?

One run of bench_imbalance's (c) per dataset and seed (same preset, budget, seeds) gives both, so they are
compared on the same candidates: "c" is the search as shipped (the ensemble); "c_best_alone" is its best
candidate's refit (the ensemble's first member) with the decision offsets the search fits on that candidate's
out-of-fold probabilities (the search's own ``_fit_offsets``), i.e. the refit before ensemble selection.

The first version of this script (at 0f20443, before the library had ensemble selection) computed the blend
itself, with the same rule in float64 NumPy; its rows are labelled "c_best_alone" -> "c" / "blend+offsets" ->
"c" by the RESULTS.md section that cites them.

Usage: python probe_ensemble_selection-2026-12-03.py DATASET[,DATASET...] SEED[,SEED...]
Output: JSON lines on stdout.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bench_imbalance import method, scores, sequences, splits  # noqa: E402

from jaxlstm import search as S  # noqa: E402
from jaxlstm.estimator import LSTMEnsemble  # noqa: E402
from jaxlstm.metrics import offset_decisions  # noqa: E402

captured = []
_evaluate = S.LSTMSearchCV._evaluate


def evaluate(self, ctx, candidates, **kw):
    rows = _evaluate(self, ctx, candidates, **kw)
    captured.extend({"oof": r["oof_probs"], "y": ctx["y"]} for r in rows)
    return rows


S.LSTMSearchCV._evaluate = evaluate


def main():
    for name in sys.argv[1].split(","):
        tr, te = splits(name)
        max_len = int(max(tr.lengths.max(), te.lengths.max()))
        cls = np.asarray(tr.class_names)
        y_true = np.asarray(te.class_names)[te.y]
        for seed in (int(s) for s in sys.argv[2].split(",")):
            captured.clear()
            est = method("c", seed, 2.0, name, max_len)
            t0 = time.perf_counter()
            est.fit(sequences(tr), cls[tr.y])
            pred = est.predict(sequences(te))
            seconds = time.perf_counter() - t0
            ens, oof_new = dict(est.ensemble_), dict(est.oof_score_)
            best = est.best_estimator_.estimators_[0] if isinstance(est.best_estimator_, LSTMEnsemble) \
                else est.best_estimator_
            probs = best.predict_proba(sequences(te))
            est._fit_offsets(captured[est.best_index_]["oof"], {"y": captured[0]["y"], "classes": est.classes_})
            pred_best = est.classes_[np.asarray(offset_decisions(probs, est.logit_offsets_))]
            base = dict(dataset=name, seed=seed, candidates_ok=int(np.sum(est.cv_results_["status"] == "ok")),
                        cv_best=float(est.best_score_), best_index=int(est.best_index_))
            for label, p, extra in (("c", pred, dict(seconds=round(seconds, 1), ensemble=ens, offsets=oof_new)),
                                    ("c_best_alone", pred_best, dict(offsets=dict(est.oof_score_)))):
                print(json.dumps(dict(base, method=label, **{k: round(v, 4) for k, v in scores(y_true, p).items()},
                                      **extra, y_pred=[str(v) for v in p]), default=float), flush=True)


if __name__ == "__main__":
    main()
