"""Which imbalance remedy helps where (issue 16): one LSTM, each remedy alone,
on UCR/UEA datasets with their standard train/test splits, as one sweep per
dataset (the remedies are dynamic keys, so every remedy x seed is one member of
one compiled program).

    python benchmarks/bench_remedies.py                                       # the development suite, 3 seeds
    python benchmarks/bench_remedies.py --datasets DistalPhalanxTW --seeds 0 --epochs 20

Per dataset, every remedy in :data:`REMEDIES` is trained with the same base
(:data:`BASE`) on the whole train split and scored on the test split
(accuracy, balanced accuracy = macro recall, macro F1), once per seed. Each
remedy is also scored **with post-hoc decision offsets**: the same remedy and
seed is trained on 3 stratified folds of the train split, the offsets that
maximise balanced accuracy on its out-of-fold probabilities are fitted
(:func:`jaxlstm.metrics.fit_logit_offsets`, as ``LSTMSearchCV(post_hoc_offsets=True)``
does) and added to the log-probabilities of the test predictions. So each
dataset is one sweep of remedies x seeds x 4 folds (3 inner folds + the
train/test split), compiled once.

Rows are appended to ``--rows FILE`` (JSON lines) per dataset; ``--table-from
FILE`` prints the tables of such a file.
"""

from __future__ import annotations

import json
import time

import bench_imbalance
import harness
import jax.numpy as jnp
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from jaxlstm import metrics
from jaxlstm.sweep import run_sweep

BASE = dict(hidden_sizes=(64,), batch_size=32, learning_rate=3e-3)
AUGMENT = dict(augment_scale=0.1, augment_warp=0.2, augment_slice=0.1)
REMEDIES = {
    "none": {},
    "balanced weights": {"class_weight_exponent": 1.0},
    "effective-number weights (beta 0.99)": {"class_weight_beta": 0.99},
    "logit-adjusted loss (tau 1)": {"logit_adjust_tau": 1.0},
    "focal loss (gamma 2)": {"focal_gamma": 2.0},
    "balanced sampling": {"sampling_exponent": 1.0},
    "augmentation": dict(AUGMENT),
    "balanced sampling + augmentation": {"sampling_exponent": 1.0, **AUGMENT},
}


def stacked(train, test):
    """Train and test rows as one ``(n, T, F)`` array (NaN-free, zero-padded to
    the longer of the two), their lengths and labels, and the test rows' index."""
    t = max(train.x.shape[1], test.x.shape[1])
    x = np.zeros((len(train.y) + len(test.y), t, train.x.shape[2]), np.float32)
    x[: len(train.y), : train.x.shape[1]] = train.x
    x[len(train.y):, : test.x.shape[1]] = test.x
    lengths = np.concatenate([train.lengths, test.lengths])
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    return x, lengths, np.concatenate([train.y, test.y]), np.arange(len(train.y), len(lengths))


def scores(y_true, pred) -> dict:
    return dict(accuracy=accuracy_score(y_true, pred), balanced_accuracy=balanced_accuracy_score(y_true, pred),
                f1_macro=f1_score(y_true, pred, average="macro"))


def run(name: str, seeds, epochs: int, rows_path: str | None) -> list[dict]:
    train, test = bench_imbalance.splits(name)
    if list(train.class_names) != list(test.class_names):
        raise ValueError(f"{name}: train and test splits name different classes")
    x, lengths, y, test_idx = stacked(train, test)
    train_idx = np.arange(len(train.y))
    counts = np.bincount(train.y, minlength=train.num_classes)
    print(f"\n{name}: {len(train.y)} train / {len(test.y)} test, length {x.shape[1]}, {x.shape[2]} channel(s), "
          f"{train.num_classes} classes, imbalance ratio {counts.max() / max(counts.min(), 1):.1f}", flush=True)
    inner = [(train_idx[a], train_idx[b]) for a, b in
             StratifiedKFold(3, shuffle=True, random_state=0).split(train_idx, train.y)]
    folds = inner + [(train_idx, test_idx)]
    configs = [{**BASE, **remedy, "epochs": epochs} for remedy in REMEDIES.values()]
    t0 = time.perf_counter()
    res = run_sweep(x, y, lengths, configs=configs, cv=folds, seeds=tuple(seeds), select="balanced_accuracy",
                    num_classes=train.num_classes, return_probs=True)
    seconds = time.perf_counter() - t0
    print(f"  {res.n_members} members in {seconds:.0f} s ({res.compile_s:.0f} s compiling)", flush=True)
    key = str(epochs)
    by = {(m["candidate"], m["fold"], m["seed"]): np.asarray(m["val_probs"][key]) for m in res.members}
    out = []
    for ci, label in enumerate(REMEDIES):
        for seed in seeds:
            probs = by[(ci, len(inner), seed)]
            oof = np.full((len(train.y), train.num_classes), np.nan)
            for f, (_, held) in enumerate(inner):
                oof[held] = by[(ci, f, seed)]
            offsets = np.asarray(metrics.fit_logit_offsets(jnp.asarray(train.y), jnp.asarray(oof), train.num_classes,
                                                           "balanced_accuracy"))
            pred = probs.argmax(1)
            pred_off = (np.log(np.maximum(probs, np.finfo(np.float32).tiny)) + offsets).argmax(1)
            row = dict(dataset=name, remedy=label, seed=seed, epochs=epochs, seconds=seconds,
                       **scores(test.y, pred), **{f"{k}_offsets": v for k, v in scores(test.y, pred_off).items()})
            out.append(row)
    if rows_path:
        with open(rows_path, "a") as f:
            for row in out:
                f.write(json.dumps(row) + "\n")
    print(table(out), flush=True)
    return out


def table(rows: list[dict]) -> str:
    """Markdown: per dataset and remedy, mean ± std over seeds of balanced
    accuracy, accuracy and macro F1, without and with post-hoc offsets."""
    lines = ["| dataset | remedy | seeds | balanced accuracy | + offsets | accuracy | + offsets | macro F1 | + offsets |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        base = [r for r in rows if r["dataset"] == name and r["remedy"] == "none"]
        for label in REMEDIES:
            rs = [r for r in rows if r["dataset"] == name and r["remedy"] == label]
            if not rs:
                continue

            def cell(k):
                m = np.mean([r[k] for r in rs])
                mark = "**" if base and label != "none" and m > np.mean([r["balanced_accuracy"] for r in base]) + 0.01 \
                    and k.startswith("balanced") else ""
                return f"{mark}{m:.3f} ± {np.std([r[k] for r in rs]):.3f}{mark}"
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
