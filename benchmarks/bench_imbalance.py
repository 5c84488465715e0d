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
import gzip
import json
import time

import harness
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from jaxlstm import LSTMClassifier, LSTMEnsemble, config, datasets
from jaxlstm.model import RIDGE_CLASSIFIER_NAMES

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
           metric: str = "balanced_accuracy", fold_models: bool = False):
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
                             estimator__max_length=max_length, fold_models=fold_models)


def refit_arm(search, x, y) -> LSTMEnsemble:
    """What ``fold_models=False`` predicts after ``search``'s own search (``fold_models=True``): its
    ensemble's candidates trained again on all of ``x, y`` (``refit_candidate``), with its weights and
    decision offsets (both fitted on the out-of-fold probabilities, which the refit does not change)."""
    ens = LSTMEnsemble.from_fitted([search.refit_candidate(i, x, y) for i in search.ensemble_["indices"]],
                                   search.ensemble_["weights"])
    ens.logit_offsets_ = getattr(search, "logit_offsets_", None)
    return ens


def read_rows(path) -> list[dict]:
    """The rows of a JSON-lines file (gzip-compressed when its name ends in ``.gz``)."""
    with (gzip.open(path, "rt") if str(path).endswith(".gz") else open(path)) as f:
        return [json.loads(line) for line in f]


def append_rows(rows_path: str | None, rows: list[dict]) -> None:
    """Append ``rows`` to the JSON-lines file ``rows_path`` (``--rows``; nothing when empty or ``None``)."""
    if rows_path:
        with open(rows_path, "a") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)


def run(name: str, seeds, kinds, budget_minutes: float, rows_path: str | None,
        metric: str = "balanced_accuracy", fold_models: bool = False) -> list[dict]:
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
            est = method(kind, seed, budget_minutes, name, int(max(train.lengths.max(), test.lengths.max())), metric,
                         fold_models)
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
                row["refitted"] = list(est.refitted_)  # trained again after the search
                if fold_models:  # the paired arm: the same search's ensemble refitted, as fold_models=False does
                    row["fold_models"] = True
                    t1 = time.perf_counter()
                    refit = refit_arm(est, sequences(train), names[train.y]).predict(sequences(test))
                    row["refit"] = dict(seconds=seconds + time.perf_counter() - t1, **scores(y_true, refit),
                                        y_pred=[str(p) for p in refit])
            print(f"  ({kind}) seed {seed}: accuracy {row['accuracy']:.3f}  balanced {row['balanced_accuracy']:.3f}  "
                  f"macro F1 {row['f1_macro']:.3f}  {seconds:.0f} s", flush=True)
            append_rows(rows_path, [row])
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


# Best published accuracy on the standard split (benchmarks/RESULTS.md, first section: tsml-eval's bake-off
# result files, column 0; JapaneseVowels: hfawaz/InceptionTime results-mts.csv)
PUBLISHED = {"ChlorineConcentration": (0.876, "InceptionTime"), "DistalPhalanxTW": (0.719, "HIVE-COTE 2"),
             "DistalPhalanxOutlineAgeGroup": (0.777, "ROCKET"), "Earthquakes": (0.748, "HIVE-COTE 2"),
             "FacesUCR": (0.972, "InceptionTime"), "FiftyWords": (0.846, "InceptionTime"),
             "japanese_vowels": (0.992, "InceptionTime"),
             # held out (never used to choose the preset; RESULTS.md "Held-out check"): same files, column 0
             "ECG200": (0.92, "ROCKET"), "ECG5000": (0.949, "MrSQM"),
             # held out at scale (8,926 training rows; RESULTS.md "ElectricDevices"): TSFresh_accuracy.csv, column 0
             "ElectricDevices": (0.766, "TSFresh")}


def targets_table(rows: list[dict]) -> str:
    """Markdown: the issue's targets per dataset -- macro recall of (a), (b),
    (c) as mean ± sample std over seeds, bold where (c) is above both by more
    than twice the standard error of the difference; (c)'s accuracy, macro F1,
    finished candidates per seed and median seconds; the best published
    accuracy and (c)'s distance to it."""
    lines = ["| dataset | (a) | (b) | **(c)** | (c) accuracy | (c) macro F1 | (c) finished candidates | "
             "(c) s (median) | best published accuracy | (c) accuracy - published |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        by = {k: [r for r in rows if r["dataset"] == name and r["method"] == k] for k in "abc"}
        if not by["c"]:
            continue
        recall = {k: np.array([r["balanced_accuracy"] for r in rs]) for k, rs in by.items()}
        sd = {k: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan") for k, v in recall.items()}
        cell = lambda k: "" if not len(recall[k]) else f"{recall[k].mean():.3f} ± {sd[k]:.3f}"
        wins = all(len(recall[k]) and recall["c"].mean() - recall[k].mean()
                   > 2 * np.sqrt(sd["c"] ** 2 / len(recall["c"]) + sd[k] ** 2 / len(recall[k])) for k in "ab")
        c = by["c"]
        acc = float(np.mean([r["accuracy"] for r in c]))
        finished = " / ".join(str(r.get("candidates", {}).get("ok", "?")) for r in c)
        published = PUBLISHED.get(name, (float("nan"), ""))[0]
        lines.append(f"| {name} | {cell('a')} | {cell('b')} | {f'**{cell(chr(99))}**' if wins else cell('c')} | "
                     f"{acc:.3f} | {np.mean([r['f1_macro'] for r in c]):.3f} | {finished} | "
                     f"{np.median([r['seconds'] for r in c]):.0f} | {published:.3f} | {acc - published:.3f} |")
    return "\n".join(lines)


def paired_table(before: list[dict], after: list[dict], method: str = "c") -> str:
    """Markdown: one method's rows of two runs (e.g. two commits) side by side
    on the datasets and seeds both have: macro recall, accuracy, finished
    candidates and the winning candidate's branches, per dataset and seed,
    and the accuracy's distance to the best published."""
    lines = ["| dataset | seed | macro recall before | after | accuracy before | after | after - published | "
             "finished before / after | after's best candidate |", "|---|---|---|---|---|---|---|---|---|"]
    old = {(r["dataset"], r["seed"]): r for r in before if r["method"] == method}
    for r in after:
        b = old.get((r["dataset"], r["seed"]))
        if r["method"] != method or b is None:
            continue
        best = r.get("best_params") or {}
        parts = [p for p, on in (("LSTM over " + str(best.get("lstm_over", "time")), True),
                                 ("FCN", best.get("conv_filters", "()") not in ("()", "[]", ())),
                                 ("MiniRocket", best.get("minirocket_features", 0))) if on]
        rocket = RIDGE_CLASSIFIER_NAMES.get(best.get("classifier"))
        if rocket:  # no network: MiniRocket or MultiRocket and a ridge classifier
            cw = float(best.get("class_weight") or 0)
            weights = "" if not cw else " (balanced weights)" if cw == 1 else f" (weights balanced^{cw:.2f})"
            parts = [rocket + " + ridge" + weights]
        ok = lambda row: row.get("candidates", {}).get("ok", "?")
        published = PUBLISHED.get(r["dataset"], (float("nan"), ""))[0]
        lines.append(f"| {r['dataset']} | {r['seed']} | {b['balanced_accuracy']:.3f} | {r['balanced_accuracy']:.3f} | "
                     f"{b['accuracy']:.3f} | {r['accuracy']:.3f} | {r['accuracy'] - published:+.3f} | "
                     f"{ok(b)} / {ok(r)} | {' + '.join(parts)} |")
    return "\n".join(lines)


def refit_rows(rows: list[dict]) -> list[dict]:
    """The (c) rows of a ``--fold-models`` run as the same search refitted (each row's ``refit``: what
    ``fold_models=False`` predicts), the other rows as they are."""
    return [{**r, **r["refit"]} if "refit" in r else r for r in rows]


def fold_vs_refit(rows: list[dict]) -> str:
    """Markdown: per dataset, the paired difference fold models - refit (same search) in macro recall and
    accuracy, mean ± standard error over seeds, with the seconds of each."""
    lines = ["| dataset | seeds | macro recall: fold models | refit | fold - refit | accuracy: fold models | refit | "
             "fold - refit | s fold models (median) | s refit (median) | candidates trained again |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    names = list(dict.fromkeys(r["dataset"] for r in rows if "refit" in r))
    for name in names:
        rs = [r for r in rows if r["dataset"] == name and "refit" in r]
        cells = []
        for k in ("balanced_accuracy", "accuracy"):
            f, b = np.array([r[k] for r in rs]), np.array([r["refit"][k] for r in rs])
            se = np.std(f - b, ddof=1) / np.sqrt(len(rs)) if len(rs) > 1 else float("nan")
            cells += [f"{f.mean():.3f}", f"{b.mean():.3f}", f"{(f - b).mean():+.3f} ± {se:.3f}"]
        again = " / ".join(str(len(r["refitted"])) for r in rs)
        lines.append(f"| {name} | {len(rs)} | {' | '.join(cells)} | {np.median([r['seconds'] for r in rs]):.0f} | "
                     f"{np.median([r['refit']['seconds'] for r in rs]):.0f} | {again} |")
    diff = {k: [np.mean([r[k] - r["refit"][k] for r in rows if r["dataset"] == n and "refit" in r]) for n in names]
            for k in ("balanced_accuracy", "accuracy")}
    share = [r["seconds"] / r["refit"]["seconds"] for r in rows if "refit" in r]
    recall, acc = diff["balanced_accuracy"], diff["accuracy"]
    lines.append(f"\nMean over the {len(names)} datasets, fold models - refit: macro recall "
                 f"{np.mean(recall):+.3f} (lower on {sum(d < 0 for d in recall)}), "
                 f"accuracy {np.mean(acc):+.3f} (lower on {sum(d < 0 for d in acc)}); "
                 f"wall time {min(share):.0%}-{max(share):.0%} of the refit's (median {np.median(share):.0%}).")
    return "\n".join(lines)


def suite_args(doc: str, table, add_arguments, targets=None):
    """The development-suite scripts' command line: ``--datasets``, ``--seeds``,
    ``--rows FILE`` (JSON lines appended as rows finish) and ``--table-from
    FILE`` (print ``table`` of such a file and return ``None``; with
    ``--targets``, ``targets`` of it), plus what ``add_arguments(ap)`` adds."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--datasets", default=",".join(SUITE))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rows", default="", help="append each finished row to this JSON-lines file")
    ap.add_argument("--table-from", default="", help="only print the table of a --rows file")
    if targets is not None:
        ap.add_argument("--targets", action="store_true",
                        help="with --table-from: the issue's targets table (RESULTS.md's table to cite)")
        ap.add_argument("--paired-with", default="", metavar="BEFORE",
                        help="with --table-from: its (c) rows beside those of the rows file BEFORE")
        ap.add_argument("--refit-arm", action="store_true",
                        help="with --table-from: a --fold-models run's (c) rows as the same search refitted "
                             "(with --paired-with: BEFORE's rows)")
        ap.add_argument("--fold-vs-refit", action="store_true",
                        help="with --table-from: a --fold-models run's fold models against its refit, paired")
    add_arguments(ap)
    args = ap.parse_args()
    if args.table_from:
        rows = read_rows(args.table_from)
        if getattr(args, "fold_vs_refit", False):
            print(fold_vs_refit(rows))
            return None
        refit = refit_rows if getattr(args, "refit_arm", False) else (lambda rs: rs)
        if getattr(args, "paired_with", ""):
            print(paired_table(refit(read_rows(args.paired_with)), rows))
        else:
            rows = refit(rows)
            print(targets(rows) if getattr(args, "targets", False) else table(rows))
        return None
    return args


def main():
    def arguments(ap):
        ap.add_argument("--methods", type=harness.names(("a", "b", "c")), default="a,b,c",
                        help="a: unweighted, b: balanced weights, c: default search")
        ap.add_argument("--budget-minutes", type=float, default=2.0, help="(c)'s budget per fit")
        ap.add_argument("--metric", default="balanced_accuracy",
                        help="(c)'s ranking metric (the preset's metric: balanced_accuracy or f1_macro)")
        ap.add_argument("--fold-models", action="store_true",
                        help="(c) with fold_models=True; each row also keeps the same search refitted (`refit`)")
        harness.add_arguments(ap)

    args = suite_args(__doc__, table, arguments, targets_table)
    if args is None:
        return
    header = harness.machine_header()
    harness.print_header(header)
    seeds = [int(s) for s in args.seeds.split(",")]
    kinds = args.methods
    rows = [r for name in args.datasets.split(",") for r in run(name, seeds, kinds, args.budget_minutes,
                                                                   args.rows or None, args.metric,
                                                                   args.fold_models)]
    print("\n" + table(rows))
    harness.save(__file__, args, header, {"rows": rows})


if __name__ == "__main__":
    main()
