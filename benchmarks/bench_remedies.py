"""Which imbalance remedy helps where (issue 16): one LSTM, each remedy alone,
on UCR/UEA datasets with their standard train/test splits.

    python benchmarks/bench_remedies.py                                       # the development suite, 3 seeds
    python benchmarks/bench_remedies.py --datasets DistalPhalanxTW --seeds 0 --epochs 20

Per dataset, every remedy in :data:`REMEDIES` is added to the same base
(:data:`BASE`, bench_imbalance's (a)), fitted as an ``LSTMClassifier`` on the
whole train split and scored on the test split (accuracy, balanced accuracy =
macro recall, macro F1), once per seed; remedy "none" is bench_imbalance's (a).
Each remedy is also scored **with post-hoc decision offsets**: the offsets
that maximise balanced accuracy on the out-of-fold probabilities of the same
remedy and seed on 3 stratified folds of the train split
(:func:`jaxlstm.metrics.fit_logit_offsets`, as ``LSTMSearchCV(post_hoc_offsets=True)``
does), added to the log-probabilities of the test predictions. The
out-of-fold members (remedies x seeds x 3 folds) are one sweep, one compiled
program: the remedies are dynamic keys.

Rows are appended to ``--rows FILE`` (JSON lines) per dataset; ``--table-from
FILE`` prints the tables of such a file.
"""

from __future__ import annotations

import time

import bench_imbalance
import harness
import numpy as np
from sklearn.model_selection import StratifiedKFold

from jaxlstm import LSTMClassifier, metrics
from jaxlstm.sweep import run_sweep

BASE = {**bench_imbalance.BASE}  # (a) of bench_imbalance: units=64, batch_size=32, epochs=40, learning_rate=3e-3
AUGMENT = dict(augment_scale=0.1, augment_warp=0.2, augment_slice=0.1)
REMEDIES = {
    "none": {},
    "balanced weights": {"class_weight": "balanced"},
    "effective-number weights (beta 0.99)": {"class_weight_beta": 0.99},
    "logit-adjusted loss (tau 1)": {"logit_adjust_tau": 1.0},
    "focal loss (gamma 2)": {"focal_gamma": 2.0},
    "balanced sampling": {"sampling_exponent": 1.0},
    "augmentation": dict(AUGMENT),
    "balanced sampling + augmentation": {"sampling_exponent": 1.0, **AUGMENT},
}


def run(name: str, seeds, epochs: int, rows_path: str | None) -> list[dict]:
    train, test = bench_imbalance.splits(name)
    if list(train.class_names) != list(test.class_names):
        raise ValueError(f"{name}: train and test splits name different classes")
    counts = np.bincount(train.y, minlength=train.num_classes)
    print(f"\n{name}: {len(train.y)} train / {len(test.y)} test, length {train.x.shape[1]}, {train.num_features} "
          f"channel(s), {train.num_classes} classes, imbalance ratio {counts.max() / max(counts.min(), 1):.1f}",
          flush=True)
    # out-of-fold probabilities for the offsets: every remedy x seed x inner fold, one program
    inner = StratifiedKFold(3, shuffle=True, random_state=0)
    folds = list(inner.split(np.zeros((len(train.y), 1)), train.y))
    t0 = time.perf_counter()
    res = run_sweep(train.x, train.y, train.lengths, configs=[config(r, epochs) for r in REMEDIES.values()],
                    cv=folds, seeds=tuple(seeds), select="balanced_accuracy", num_classes=train.num_classes,
                    return_probs=True)
    oof_s = time.perf_counter() - t0
    by = {(m["candidate"], m["fold"], m["seed"]): np.asarray(m["val_probs"][str(epochs)]) for m in res.members}
    print(f"  out-of-fold: {res.n_members} members in {oof_s:.0f} s ({res.compile_s:.0f} s compiling)", flush=True)
    names = np.asarray(train.class_names)
    out = []
    t0 = time.perf_counter()
    for ci, (label, remedy) in enumerate(REMEDIES.items()):
        for seed in seeds:
            # labelled by class name, as (a) is: the estimator orders classes as strings ("10" < "2")
            est = LSTMClassifier(**config(remedy, epochs), random_state=seed).fit(bench_imbalance.sequences(train),
                                                                                 names[train.y])
            column = [list(est.classes_).index(n) for n in names]  # predict_proba's columns in train.y's order
            probs = est.predict_proba(bench_imbalance.sequences(test))[:, column]
            oof = np.full((len(train.y), train.num_classes), np.nan)
            for f, (_, held) in enumerate(folds):
                oof[held] = by[(ci, f, seed)]
            offsets = np.asarray(metrics.fit_logit_offsets(train.y, oof.astype(np.float32), train.num_classes,
                                                           "balanced_accuracy"))
            pred = probs.argmax(1)
            pred_off = np.asarray(metrics.offset_decisions(probs, offsets))
            out.append(dict(dataset=name, remedy=label, seed=seed, epochs=epochs, **bench_imbalance.scores(test.y, pred),
                            **{f"{k}_offsets": v for k, v in bench_imbalance.scores(test.y, pred_off).items()}))
    fits_s = time.perf_counter() - t0
    print(f"  {len(out)} fits on the train split in {fits_s:.0f} s", flush=True)
    for row in out:
        row.update(oof_seconds=oof_s, fits_seconds=fits_s)
    bench_imbalance.append_rows(rows_path, out)
    print(table(out), flush=True)
    return out


def config(remedy: dict, epochs: int) -> dict:
    """A remedy on the base LSTM, in :class:`~jaxlstm.LSTMClassifier`'s names (which sweeps accept too)."""
    return {**BASE, **remedy, "epochs": epochs}


def table(rows: list[dict]) -> str:
    """Markdown: per dataset and remedy, mean ± std over seeds of balanced
    accuracy, accuracy and macro F1, without and with post-hoc offsets. A
    balanced accuracy is **bold** where it beats the plain LSTM's (remedy
    "none", no offsets) by more than twice the standard error of the
    difference (seeds as samples): what is left is within the seed noise."""
    lines = ["| dataset | remedy | seeds | balanced accuracy | + offsets | accuracy | + offsets | macro F1 | + offsets |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        base = np.array([r["balanced_accuracy"] for r in rows if r["dataset"] == name and r["remedy"] == "none"])
        for label in REMEDIES:
            rs = [r for r in rows if r["dataset"] == name and r["remedy"] == label]
            if not rs:
                continue

            def cell(k):
                v = np.array([r[k] for r in rs])
                mark = ""
                if k.startswith("balanced") and len(base) and (label != "none" or k.endswith("offsets")):
                    se = np.sqrt(v.var(ddof=1) / len(v) + base.var(ddof=1) / len(base)) if min(len(v), len(base)) > 1 \
                        else 0.0
                    mark = "**" if v.mean() - base.mean() > 2 * se else ""
                return f"{mark}{v.mean():.3f} ± {v.std():.3f}{mark}"
            lines.append(f"| {name} | {label} | {len(rs)} | " + " | ".join(
                cell(k) for k in ("balanced_accuracy", "balanced_accuracy_offsets", "accuracy", "accuracy_offsets",
                                  "f1_macro", "f1_macro_offsets")) + " |")
    return "\n".join(lines)


def main():
    def arguments(ap):
        ap.add_argument("--epochs", type=int, default=40)
        harness.add_arguments(ap)

    args = bench_imbalance.suite_args(__doc__, table, arguments)
    if args is None:
        return
    header = harness.machine_header()
    harness.print_header(header)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = [r for name in args.datasets.split(",") for r in run(name, seeds, args.epochs, args.rows or None)]
    print("\n" + table(rows))
    harness.save(__file__, args, header, {"rows": rows})


if __name__ == "__main__":
    main()
