"""Probe for issue 16's open targets: what another model family would add to
the default search. MiniRocket features (Dempster et al., KDD 2021) with a
class-balanced ridge classifier, on the imbalanced suite's standard splits,
beside the recorded rows of (a), (b) and (c) of ``bench_imbalance.py``.

    python benchmarks/bench_minirocket.py --datasets DistalPhalanxOutlineAgeGroup,DistalPhalanxTW,FacesUCR,\
ChlorineConcentration,japanese_vowels,Earthquakes,FiftyWords,ECG200,ECG5000 --rows rows.jsonl
    python benchmarks/bench_minirocket.py --table-from rows.jsonl

Not part of jaxlstm: a float64 NumPy transform written from the paper (84
length-9 kernels with weights -1 and three 2s, dilations spaced
exponentially up to ``(length - 1) / 8``, 119 biases per kernel drawn as
low-discrepancy quantiles of one random training row's convolution,
"same" padding on alternate kernel/dilation pairs, features = proportion of
positive values). Multivariate series: each kernel/dilation sums the
convolutions of a random subset of the channels (MiniRocket's multivariate
rule); variable lengths: positions past a row's length are not counted.
Classifier: standardised features, scikit-learn's ``RidgeClassifierCV``
(alphas 1e-3..1e3, ``class_weight="balanced"``).

Per dataset and seed (the seed draws the bias rows and channel subsets), one
row: test accuracy / balanced accuracy / macro F1, and the cross-validated
balanced accuracy on the train split (``StratifiedKFold``, min(5, smallest
class) folds, shuffled with the seed; the biases come from the whole train
split, a small leak in the CV score only). ``--table-from`` prints them
beside the recorded (a), (b) and (c) rows of :data:`RECORDED`, and "(c) or
MiniRocket by CV": per seed, MiniRocket's test row where its CV score is
above the search's best CV score (``cv_balanced_accuracy``), else (c)'s: what
a search with MiniRocket as one more candidate would pick (the two CV scores
use different folds).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import pathlib
import time

import bench_imbalance
import harness
import numpy as np
from sklearn.linear_model import RidgeClassifierCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jaxlstm.model import RIDGE_CLASSIFIER_NAMES

KERNELS = np.array(list(itertools.combinations(range(9), 3)))  # the 84 kernels: weight 2 at these, -1 elsewhere
RESULTS = pathlib.Path(__file__).parent / "results"
RECORDED = [RESULTS / "bench_imbalance-rows-head-2026-12-04.jsonl",  # (a), (b), (c): the table to cite
            RESULTS / "bench_imbalance-rows-heldout-2026-12-05.jsonl"]  # the held-out check


def shifted(x, lengths, d: int) -> np.ndarray:
    """``S[j][:, t] = x[:, t + (j - 4) d]`` for j = 0..8, 0 outside a row's length: ``(9, n, T, C)``."""
    n, T, C = x.shape
    x = np.where((np.arange(T)[None, :] < lengths[:, None])[..., None], x, 0.0)
    S = np.zeros((9, n, T, C))
    for j in range(9):
        s = (j - 4) * d
        if s >= 0:
            S[j, :, :T - s] = x[:, s:]
        else:
            S[j, :, -s:] = x[:, :T + s]
    return S


def convolve(S, kernel: int) -> np.ndarray:
    """Kernel ``kernel``'s convolution, summed over the channels of ``S``: ``-sum_j S_j + 3 sum_{j in K} S_j``."""
    S = S.sum(-1)
    return -S.sum(0) + 3 * S[KERNELS[kernel]].sum(0)


def fit(x, lengths, num_features: int = 10_000, max_dilations: int = 32, seed: int = 0) -> dict:
    """Dilations, features per dilation, channel subsets and biases from the training rows."""
    n, T, C = x.shape
    per_kernel = num_features // 84
    n_dil = min(per_kernel, max_dilations)
    # the longest row (sktime's MiniRocketMultivariateVariable, reference_length="max"); a series shorter
    # than a kernel keeps dilation 1
    longest = max(int(lengths.max()), 9)
    dilations, counts = np.unique(np.floor(np.logspace(0, np.log2((longest - 1) / 8), n_dil, base=2))
                                  .astype(int), return_counts=True)
    per_dilation = (counts * per_kernel / n_dil).astype(int)
    for i in range(per_kernel - per_dilation.sum()):
        per_dilation[i % len(per_dilation)] += 1
    rng = np.random.default_rng(seed)
    quantiles = (np.arange(1, 84 * per_dilation.sum() + 1) * ((np.sqrt(5) + 1) / 2)) % 1
    channels = [rng.choice(C, int(2 ** rng.uniform(0, np.log2(min(C, 9) + 1))), replace=False)
                for _ in range(len(dilations) * 84)]
    biases, f = [], 0
    for di, d in enumerate(dilations):
        for k in range(84):
            e = rng.integers(n)
            c = convolve(shifted(x[e:e + 1], lengths[e:e + 1], d)[..., channels[di * 84 + k]], k)[0, :lengths[e]]
            biases.append(np.quantile(c, quantiles[f:f + per_dilation[di]]))
            f += per_dilation[di]
    return dict(dilations=dilations, channels=channels, biases=biases)


def counted_convolutions(p: dict, x, lengths):
    """Each kernel/dilation pair's convolution ``(n, T)`` and the positions it counts ``Bool[n, T]``, in feature
    order: the whole row on even kernel + dilation indices ("same" padding), else the positions whose window
    lies inside the row (all, if none does); yields ``(pair, convolution, counted)``."""
    t = np.arange(x.shape[1])[None, :]
    for di, d in enumerate(p["dilations"]):
        S = shifted(x, lengths, d)
        pad = 4 * d
        for k in range(84):
            valid = t < lengths[:, None]
            if (di + k) % 2:
                inner = (t >= pad) & (t < lengths[:, None] - pad)
                valid = np.where(inner.any(1, keepdims=True), inner, valid)
            yield di * 84 + k, convolve(S[..., p["channels"][di * 84 + k]], k), valid


def transform(p: dict, x, lengths) -> np.ndarray:
    """Proportion of positive values of each convolution minus each bias: ``(n, features)``."""
    out = []
    for pair, c, valid in counted_convolutions(p, x, lengths):
        hits = (c[:, :, None] > p["biases"][pair][None, None, :]) & valid[:, :, None]
        out.append(hits.sum(1) / valid.sum(1)[:, None])
    return np.concatenate(out, 1)


def transform_multirocket(p: dict, x, lengths) -> np.ndarray:
    """MultiRocket's four pooling operators (Tan et al., Data Min. Knowl. Disc. 2022, as the paper defines
    them; ``z`` = a convolution minus a bias over the counted positions): PPV (proportion of positive ``z``),
    MPV (mean of the positive ``z``, 0 if none), MIPV (mean index of the positive ``z`` from the first counted
    position, -1 if none), LSPV (longest run of positive ``z``): ``(n, 4 * features)``, operator-major."""
    T = x.shape[1]
    pools = [[], [], [], []]
    for pair, c, valid in counted_convolutions(p, x, lengths):
        z = c[:, :, None] - p["biases"][pair][None, None, :]
        pos = (z > 0) & valid[:, :, None]
        m = pos.sum(1)
        first = np.argmax(valid, 1)[:, None, None]
        index = np.arange(T)[None, :, None] - first
        last_off = np.maximum.accumulate(np.where(pos, -1, np.arange(T)[None, :, None]), axis=1)
        pools[0].append(m / valid.sum(1)[:, None])
        pools[1].append(np.where(m > 0, np.where(pos, z, 0).sum(1) / np.maximum(m, 1), 0.0))
        pools[2].append(np.where(m > 0, np.where(pos, index, 0).sum(1) / np.maximum(m, 1), -1.0))
        pools[3].append(np.where(pos, np.arange(T)[None, :, None] - last_off, 0).max(1).astype(float))
    return np.concatenate([np.concatenate(q, 1) for q in pools], 1)


def differences(x, lengths):
    """First differences ``x[t + 1] - x[t]`` within each row: ``(n, T - 1, C)``, lengths ``max(length - 1, 1)``
    (a one-step row keeps one zero)."""
    d = np.diff(x, axis=1)
    return np.where((np.arange(x.shape[1] - 1)[None, :] < lengths[:, None] - 1)[..., None], d, 0.0), \
        np.maximum(lengths - 1, 1)


def fit_multirocket(x, lengths, seed: int = 0) -> dict:
    """MultiRocket's default: 6,250 kernel/bias pairs on the series and 6,250 on its first differences
    (biases drawn from each), four operators each: 49,728 features."""
    xd, ld = differences(x, lengths)
    return dict(base=fit(x, lengths, num_features=6_250, seed=seed),
                diff=fit(xd, ld, num_features=6_250, seed=seed + 10_000))


def transform_both(p: dict, x, lengths) -> np.ndarray:
    xd, ld = differences(x, lengths)
    return np.concatenate([transform_multirocket(p["base"], x, lengths), transform_multirocket(p["diff"], xd, ld)],
                          1)


def classifier():
    return make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10), class_weight="balanced"))


def run(name: str, seeds, rows_path: str | None, method: str = "minirocket") -> list[dict]:
    fitted, transformed = (fit, transform) if method == "minirocket" else (fit_multirocket, transform_both)
    train, test = bench_imbalance.splits(name)
    xtr, xte = train.x.astype(np.float64), test.x.astype(np.float64)
    folds = max(2, min(5, int(np.bincount(train.y).min())))
    out = []
    for seed in seeds:
        t0 = time.perf_counter()
        p = fitted(xtr, train.lengths, seed=seed)
        features = transformed(p, xtr, train.lengths)
        oof = cross_val_predict(classifier(), features, train.y,
                                cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
        pred = classifier().fit(features, train.y).predict(transformed(p, xte, test.lengths))
        row = dict(dataset=name, method=method, seed=seed, seconds=time.perf_counter() - t0,
                   **bench_imbalance.scores(test.y, pred), cv_folds=folds,
                   cv_balanced_accuracy=bench_imbalance.scores(train.y, oof)["balanced_accuracy"],
                   features=int(features.shape[1]))
        print(f"  {name} seed {seed}: accuracy {row['accuracy']:.3f}  balanced {row['balanced_accuracy']:.3f}  "
              f"macro F1 {row['f1_macro']:.3f}  CV balanced {row['cv_balanced_accuracy']:.3f}  "
              f"{row['seconds']:.0f} s", flush=True)
        bench_imbalance.append_rows(rows_path, [row])
        out.append(row)
    return out


def table(rows: list[dict], recorded: list[dict] | None = None) -> str:
    """Markdown: balanced accuracy of (a), (b), (c), MiniRocket and "(c) or
    MiniRocket by CV" (mean ± sample std over the seeds both have), and the
    accuracies beside the best published."""
    if recorded is None:
        recorded = [json.loads(line) for f in RECORDED for line in open(f)]
    label = RIDGE_CLASSIFIER_NAMES[rows[0].get("method", "minirocket")]
    lines = [f"| dataset | (a) | (b) | (c) | {label} | (c) or {label} by CV ({label} picked) | "
             f"(c) accuracy | {label} accuracy | by CV accuracy | best published accuracy |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    cell = lambda v: f"{np.mean(v):.3f} ± {np.std(v, ddof=1) if len(v) > 1 else 0.0:.3f}"
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mr = {r["seed"]: r for r in rows if r["dataset"] == name}
        rec = {(r["method"], r["seed"]): r for r in recorded if r["dataset"] == name}
        seeds = [s for s in mr if ("c", s) in rec]
        if not seeds:
            continue
        c = [rec[("c", s)] for s in seeds]
        m = [mr[s] for s in seeds]
        picked = [mi if mi["cv_balanced_accuracy"] > ci["cv_balanced_accuracy"] else ci for mi, ci in zip(m, c)]
        ab = [cell([rec[(k, s)]["balanced_accuracy"] for s in seeds if (k, s) in rec]) for k in "ab"]
        bal = lambda rs: cell([r["balanced_accuracy"] for r in rs])
        acc = lambda rs: f"{np.mean([r['accuracy'] for r in rs]):.3f}"
        published = bench_imbalance.PUBLISHED.get(name, (float("nan"), ""))
        lines.append(f"| {name} | {ab[0]} | {ab[1]} | {bal(c)} | {bal(m)} | {bal(picked)} "
                     f"({sum(p is q for p, q in zip(picked, m))} of {len(seeds)}) | {acc(c)} | {acc(m)} | "
                     f"{acc(picked)} | {published[0]:.3f} {published[1]} |")
    return "\n".join(lines)


def main():
    def arguments(ap):
        harness.add_arguments(ap)
        ap.add_argument("--method", choices=("minirocket", "multirocket"), default="minirocket",
                        help="multirocket: MultiRocket's four operators on the series and its first differences")
        ap.add_argument("--recorded", default=",".join(str(f) for f in RECORDED),
                        help="comma-separated bench_imbalance rows files holding (a), (b), (c)")

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--recorded", default="")
    known, _ = pre.parse_known_args()
    recorded = ([json.loads(line) for f in known.recorded.split(",") for line in open(f)]
                if known.recorded else None)
    args = bench_imbalance.suite_args(__doc__, functools.partial(table, recorded=recorded), arguments)
    if args is None:
        return
    header = harness.machine_header()
    harness.print_header(header)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = [r for name in args.datasets.split(",") for r in run(name, seeds, args.rows or None, args.method)]
    print("\n" + table(rows, recorded))
    harness.save(__file__, args, header, {"rows": rows})


if __name__ == "__main__":
    main()
