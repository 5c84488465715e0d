"""Imbalanced real data (issue 16): an unweighted LSTM, the tutorial's
balanced class weights and jaxlstm's default search, on UCR/UEA datasets with
their standard train/test splits.

    python benchmarks/bench_imbalance.py                                    # the development suite, 3 seeds
    python benchmarks/bench_imbalance.py --datasets DistalPhalanxTW --seeds 0 --budget-minutes 1

Per dataset and seed, fitted on the train split and scored on the test split:
  (a) ``LSTMClassifier(units=64, epochs=40, learning_rate=3e-3)``, unweighted;
  (b) the same with ``class_weight="balanced"`` (the tutorial's remedy);
  (c) the default search (``jaxlstm sweep FILE``: :func:`jaxlstm.config.preset`
      with ``--budget-minutes``), refitted as the preset does (since ensemble selection: the candidates it
      picks, each a 3-seed ensemble; seed s: models 3s, 3s+1, 3s+2 of every pick).
Accuracy, balanced accuracy (= macro recall) and macro F1 on the test split;
wall time of fit + predict (compilation included). UCR datasets need the
``ucr`` extra, JapaneseVowels the ``aeon`` extra. Rows are appended to
``--rows FILE`` (JSON lines) as they finish, so a stopped run keeps them;
each keeps its test predictions (``y_pred``, class names in test-split order),
so methods can later be compared row by row on the same test split.
"""

from __future__ import annotations

import argparse
import json
import time

import harness
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from jaxlstm import LSTMClassifier, config, datasets

SUITE = ("DistalPhalanxTW", "DistalPhalanxOutlineAgeGroup", "FacesUCR", "ChlorineConcentration", "Earthquakes",
         "FiftyWords", "japanese_vowels")
BASE = dict(units=64, batch_size=32, epochs=40, learning_rate=3e-3)


def splits(name: str):
    if name == "japanese_vowels":
        return datasets.load("japanese_vowels"), datasets.load("japanese_vowels_test")
    return datasets.load(f"ucr:{name}"), datasets.load(f"ucr:{name}:test")


def sequences(d):
    return [d.x[i, : d.lengths[i]] for i in range(len(d.y))]


def scores(y_true, pred) -> dict:
    """Accuracy, balanced accuracy (= macro recall) and macro F1, scikit-learn's."""
    return dict(accuracy=accuracy_score(y_true, pred), balanced_accuracy=balanced_accuracy_score(y_true, pred),
                f1_macro=f1_score(y_true, pred, average="macro"))


def method(kind: str, seed: int, budget_minutes: float, name: str, max_length: int,
           metric: str = "balanced_accuracy"):
    if kind == "a":
        return LSTMClassifier(**BASE, random_state=seed)
    if kind == "b":
        return LSTMClassifier(**BASE, class_weight="balanced", random_state=seed)
    search = config.preset(name, budget_minutes=budget_minutes, metric=metric).make_search()
    # Seed s trains its CV members and its refitted ensemble from seed s * n_ensemble (the ensemble takes
    # that seed and the next ones): seeds 0, 1, 2 refit disjoint ensembles (0-2, 3-5, 6-8), not ones sharing
    # two of three models. As `jaxlstm sweep` does, its "channels" candidates read up to the longest train
    # or test sequence.
    first = seed * int(search.estimator.n_ensemble)
    return search.set_params(random_state=seed, seeds=[first], estimator__random_state=first,
                             estimator__max_length=max_length)


def run(name: str, seeds, kinds, budget_minutes: float, rows_path: str | None,
        metric: str = "balanced_accuracy") -> list[dict]:
    train, test = splits(name)
    counts = np.bincount(train.y, minlength=train.num_classes)
    print(f"\n{name}: {len(train.y)} train / {len(test.y)} test, length {train.x.shape[1]}, {train.num_features} "
          f"channel(s), {train.num_classes} classes, imbalance ratio {counts.max() / max(counts.min(), 1):.1f}",
          flush=True)
    names = np.asarray(train.class_names)
    y_true = np.asarray(test.class_names)[test.y]
    out = []
    for kind in kinds:
        for seed in seeds:
            est = method(kind, seed, budget_minutes, name, int(max(train.lengths.max(), test.lengths.max())), metric)
            t0 = time.perf_counter()
            pred = est.fit(sequences(train), names[train.y]).predict(sequences(test))
            seconds = time.perf_counter() - t0
            row = dict(dataset=name, method=kind, seed=seed, seconds=seconds,
                       **scores(y_true, pred), y_pred=[str(p) for p in pred])  # for paired comparisons later
            if kind == "c":
                row["best_params"] = {k: (v if isinstance(v, (int, float, str)) else str(v))
                                      for k, v in est.best_params_.items()}
                row[f"cv_{metric}"] = float(est.best_score_)
                if metric != "balanced_accuracy":
                    row["metric"] = metric  # the search's ranking metric (rows without it: balanced accuracy)
                row["budget_minutes"] = budget_minutes
                # the search's executor: seconds compiling its programs and training them (the rest of `seconds`
                # is the refit, the offsets and predict); compile time is cold unless a compilation cache is on
                row["compile_seconds"] = round(float(est.compile_time_), 1)
                row["train_seconds"] = round(float(est.train_time_), 1)
                row["initial_points"] = len(est.initial_points or ())  # 0: rows of the preset before d65bb60
                row["best_index"] = int(est.best_index_)  # < initial_points: a fixed first candidate won
                row["decision_offsets"] = getattr(est, "oof_score_", None)
                row["ensemble_selection"] = getattr(est, "ensemble_", None)  # the candidates it refitted, weights
                row["candidates"] = {s: int(np.sum(est.cv_results_["status"] == s)) for s in ("ok", "diverged",
                                                                                            "unfinished")}
            print(f"  ({kind}) seed {seed}: accuracy {row['accuracy']:.3f}  balanced {row['balanced_accuracy']:.3f}  "
                  f"macro F1 {row['f1_macro']:.3f}  {seconds:.0f} s", flush=True)
            if rows_path:
                with open(rows_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
            out.append(row)
    return out


def table(rows: list[dict]) -> str:
    """Markdown: per dataset and method, mean ± std over seeds."""
    lines = ["| dataset | method | seeds | accuracy | balanced accuracy | macro F1 | s (median) |",
             "|---|---|---|---|---|---|---|"]
    labels = {"a": "(a) unweighted", "b": "(b) balanced weights", "c": "(c) default search"}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        for kind in "abc":
            rs = [r for r in rows if r["dataset"] == name and r["method"] == kind]
            if not rs:
                continue
            cell = lambda k: f"{np.mean([r[k] for r in rs]):.3f} ± {np.std([r[k] for r in rs]):.3f}"
            lines.append(f"| {name} | {labels[kind]} | {len(rs)} | {cell('accuracy')} | {cell('balanced_accuracy')} | "
                         f"{cell('f1_macro')} | {np.median([r['seconds'] for r in rs]):.0f} |")
    return "\n".join(lines)


def suite_args(doc: str, table, add_arguments):
    """The development-suite scripts' command line: ``--datasets``, ``--seeds``,
    ``--rows FILE`` (JSON lines appended as rows finish) and ``--table-from
    FILE`` (print ``table`` of such a file and return ``None``), plus what
    ``add_arguments(ap)`` adds."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--datasets", default=",".join(SUITE))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rows", default="", help="append each finished row to this JSON-lines file")
    ap.add_argument("--table-from", default="", help="only print the table of a --rows file")
    add_arguments(ap)
    args = ap.parse_args()
    if args.table_from:
        print(table([json.loads(line) for line in open(args.table_from)]))
        return None
    return args


def main():
    def arguments(ap):
        ap.add_argument("--methods", default="a,b,c", help="a: unweighted, b: balanced weights, c: default search")
        ap.add_argument("--budget-minutes", type=float, default=2.0, help="(c)'s budget per fit")
        ap.add_argument("--metric", default="balanced_accuracy",
                        help="(c)'s ranking metric (the preset's metric: balanced_accuracy or f1_macro)")
        harness.add_arguments(ap)

    args = suite_args(__doc__, table, arguments)
    if args is None:
        return
    header = harness.machine_header()
    harness.print_header(header)
    seeds = [int(s) for s in args.seeds.split(",")]
    kinds = args.methods.split(",")
    rows = [r for name in args.datasets.split(",") for r in run(name, seeds, kinds, args.budget_minutes,
                                                                   args.rows or None, args.metric)]
    print("\n" + table(rows))
    harness.save(__file__, args, header, {"rows": rows})


if __name__ == "__main__":
    main()
