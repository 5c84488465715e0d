"""Probe for issue 16's open targets: other ways to combine the default
search's finished candidates than the shipped refit (Caruana et al.'s
ensemble selection on out-of-fold probabilities), judged on the test split.

    python benchmarks/bench_blend.py --datasets DistalPhalanxOutlineAgeGroup,DistalPhalanxTW --rows rows.jsonl
    python benchmarks/bench_blend.py --table-from rows.jsonl
    python benchmarks/bench_blend.py --c-rows-from rows.jsonl --rule cawpe5_offsets --rows c.jsonl

Per dataset and seed: (c) of ``bench_imbalance.py`` (the same search, seeds
and 2-minute budget; its test predictions are the row's ``c_pred``), then
every candidate that finished is refitted on the whole train split as the
search refits its picks, and its out-of-fold and test probabilities are kept
in the row. ``--table-from`` scores these rules on them, none of which looks
at the test split:

- ``shipped``: (c)'s predictions: the refit ensemble, decision offsets when kept;
- ``best``: the best candidate by CV alone, plain argmax;
- ``ensemble``: the shipped refit ensemble's weights, plain argmax (no
  offsets): greedy ensemble selection (Caruana et al. 2004) in rows of the
  library before ``1869776``, CAWPE over the 5 best since (the row's
  ``ensemble["rule"]``);
- ``cawpe``: every finished candidate, weighted by its CV score to the power
  4 (CAWPE: Large, Lines and Bagnall, Data Min. Knowl. Disc. 2019, the
  weighting of HIVE-COTE 2);
- ``cawpe_offsets``: ``cawpe`` with the preset's decision offsets: fitted
  for balanced accuracy on its out-of-fold blend, kept only if they win
  cross-fitted (:func:`jaxlstm.search.fit_decision_offsets`, the search's
  own step under ``post_hoc_offsets=True``);
- ``cawpe5_offsets``: the same over the 5 best candidates by CV, what
  ``ensemble_selection=5, ensemble_rule="cawpe", post_hoc_offsets=True`` refits;
- ``cawpe_families``: ``cawpe`` over each model family's best candidate (the
  LSTM over time or over channels with or without the FCN branch, MiniRocket, MultiRocket);
- ``mean_families``: those family bests, equal weights.

``--c-rows-from`` writes one rule's predictions as ``bench_imbalance.py``'s
(c) rows, for its ``--targets`` and ``--paired-with`` tables. ``--offsets-from``,
``--caps-from`` and ``--metrics-from`` print other probes from stored rows: the
decision offsets' keep rule, near copies kept out of CAWPE's 5, and the same
candidates ranked by another ``--metric`` (:func:`metrics_table`).

Beside each, its out-of-fold balanced accuracy (what the search could see;
greedy selection's ``ensemble`` is optimistic: it was chosen on those rows; the offsets rules':
before offsets). Probabilities are
stored rounded to 5 decimals.
"""

from __future__ import annotations

import ast
import functools
import time

import bench_imbalance
import harness
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import check_cv

from jaxlstm.metrics import offset_decisions
from jaxlstm.search import CAWPE_ALPHA, fit_decision_offsets

RULES = ("shipped", "best", "ensemble", "cawpe", "cawpe_offsets", "cawpe5_offsets", "cawpe_families",
         "mean_families")


def family(params: dict) -> str:
    """The model family of a candidate's parameters (values as stored: strings)."""
    if params.get("classifier", "network") != "network":
        return params["classifier"]
    fcn = params.get("conv_filters", "()") not in ("()", "[]", "None")
    return f"LSTM over {params.get('lstm_over', 'time')}" + (" + FCN" if fcn else "")


def run(name: str, seeds, rows_path: str | None, budget_minutes: float = 2.0) -> list[dict]:
    train, test = bench_imbalance.splits(name)
    names = np.asarray(train.class_names)
    x_train, y_train = bench_imbalance.sequences(train), names[train.y]
    y_test = np.asarray(test.class_names)[test.y]
    x_test = bench_imbalance.sequences(test)
    out = []
    for seed in seeds:
        longest = int(max(train.lengths.max(), test.lengths.max()))
        search = bench_imbalance.method("c", seed, budget_minutes, name, longest)
        t0 = time.perf_counter()
        pred = search.fit(x_train, y_train).predict(x_test)
        seconds = time.perf_counter() - t0
        res = search.cv_results_
        key = f"mean_test_{search.refit if search.multimetric_ else 'score'}"  # the ranking metric's CV score
        t1 = time.perf_counter()
        candidates = []
        for i, params in enumerate(res["params"]):
            if res["status"][i] != "ok":
                continue
            model = search.refit_candidate(i, x_train, y_train)  # as the search refits the ones it picks
            candidates.append(dict(index=i, params={k: str(v) for k, v in params.items()},
                                   cv=float(res[key][i]),
                                   oof=np.round(search.oof_proba_[i], 5).tolist(),
                                   test=np.round(model.predict_proba(x_test), 5).tolist()))
        covered = np.isfinite(search.oof_proba_[search.best_index_]).all(1)
        row = dict(dataset=name, seed=seed, seconds_c=seconds, seconds_refits=time.perf_counter() - t1,
                   classes=[str(c) for c in search.classes_],
                   y_oof=np.searchsorted(search.classes_, y_train).tolist(),  # classes_ are sorted
                   where=covered.astype(np.float64).tolist(),  # rows the search scores (no sample weights here)
                   y_test=[str(v) for v in y_test], c_pred=[str(p) for p in pred], best_index=int(search.best_index_),
                   ensemble=search.ensemble_, offsets=getattr(search, "oof_score_", None), candidates=candidates)
        print(f"{name} seed {seed}: (c) macro recall {balanced_accuracy_score(y_test, pred):.3f}, {seconds:.0f} s; "
              f"{len(candidates)} candidates refitted in {row['seconds_refits']:.0f} s", flush=True)
        bench_imbalance.append_rows(rows_path, [row])
        out.append(row)
    return out


def offset_labels(y_oof, where, p_oof, p_test, metric: str = "balanced_accuracy") -> np.ndarray:
    """Test labels (indices) of a blend under the preset's ``post_hoc_offsets=True``: the search's own offsets
    fit (for ``metric``, kept only if they win cross-fitted) on its out-of-fold rows."""
    offsets, _ = fit_decision_offsets(y_oof, np.where(where[:, None] > 0, p_oof, np.nan), metric)
    return np.asarray(offset_decisions(p_test.astype(np.float32), offsets))


def top(row: dict, k: int | None = None, cv: dict[int, float] | None = None) -> dict[int, float]:
    """The CV scores of the row's ``k`` best finished candidates (every one for ``None``), the search's best
    first, then by CV score: the candidates ``ensemble_rule="cawpe"`` weighs. ``cv``: the candidates' scores
    under another ranking metric (:func:`cv_scores`; its best: the first of the highest, as the search's rank)."""
    best = row["best_index"] if cv is None else max(cv, key=lambda i: (cv[i], -i))
    cv = {c["index"]: c["cv"] for c in row["candidates"]} if cv is None else cv
    ranked = [best] + [i for i in sorted(cv, key=lambda i: -cv[i]) if i != best]
    return {i: cv[i] for i in ranked[:k]}


def cawpe_weights(row: dict, k: int | None, cv: dict[int, float] | None = None) -> dict[int, float]:
    """``ensemble_rule="cawpe"``'s weights over the row's ``k`` best candidates (every one for ``None``):
    CV score ** 4 (the row's ranking metric's; ``cv``: each candidate's score under another)."""
    return {i: v ** CAWPE_ALPHA for i, v in top(row, k, cv).items()}


def blend_probs(row: dict, weights: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean of the candidates' out-of-fold (NaN rows: uniform) and test probabilities."""
    n_classes, total = len(row["classes"]), sum(weights.values())
    by_index = {c["index"]: c for c in row["candidates"]}
    p_oof = sum(w * np.nan_to_num(np.asarray(by_index[i]["oof"], np.float64), nan=1.0 / n_classes)
                for i, w in weights.items()) / total
    p_test = sum(w * np.asarray(by_index[i]["test"], np.float64) for i, w in weights.items()) / total
    return p_oof, p_test


def rules(row: dict) -> dict[str, tuple[np.ndarray, float]]:
    """Each rule's test predictions (class names) and out-of-fold balanced accuracy (NaN for ``shipped``)."""
    classes = np.asarray(row["classes"])
    y_oof, where = np.asarray(row["y_oof"]), np.asarray(row["where"], np.float64)
    keep = where > 0

    def blend(weights: dict, offsets: bool = False) -> tuple[np.ndarray, float]:
        p_oof, p_test = blend_probs(row, weights)
        score = balanced_accuracy_score(y_oof[keep], p_oof[keep].argmax(1), sample_weight=where[keep])
        labels = offset_labels(y_oof, where, p_oof, p_test) if offsets else p_test.argmax(1)
        return classes[labels], float(score)

    cv = top(row)
    families: dict[str, int] = {}
    for c in row["candidates"]:
        f = family(c["params"])
        if f not in families or c["cv"] > cv[families[f]]:
            families[f] = c["index"]
    ens = row["ensemble"]
    cawpe = {c["index"]: c["cv"] ** CAWPE_ALPHA for c in row["candidates"]}  # in the rows' order, as before
    cawpe5 = cawpe_weights(row, 5)
    return {"shipped": (np.asarray(row["c_pred"]), float("nan")),
            "best": blend({row["best_index"]: 1.0}),
            "ensemble": blend(dict(zip(ens["indices"], ens["weights"]))),
            "cawpe": blend(cawpe),
            "cawpe_offsets": blend(cawpe, offsets=True),
            "cawpe5_offsets": blend(cawpe5, offsets=True),
            "cawpe_families": blend({i: cv[i] ** CAWPE_ALPHA for i in families.values()}),
            "mean_families": blend({i: 1.0 for i in families.values()})}


KEEP_RULES = (("never", None), ("gain > 0 (shipped)", 0.0), ("gain > 0.02", 0.02), ("gain > 0.05", 0.05),
              ("always", -np.inf))


def offsets_table(rows: list[dict]) -> str:
    """Per fit, the preset's decision-offsets step on ``cawpe5_offsets``' blend: its out-of-fold balanced
    accuracy before offsets, the cross-fitted gain that decides whether they are kept, and what keeping them
    would do to the test split's macro recall and accuracy; then per dataset the test scores of keep rules
    (offsets kept when the cross-fitted gain is above a threshold) -- whether a stricter rule than the shipped
    "above 0" separates the fits where they help from those where they hurt."""
    lines = ["| dataset | seed | OOF before | cross-fitted gain | kept | test macro recall: without → with offsets "
             "| test accuracy: without → with |", "|---|---|---|---|---|---|---|"]
    fits = []
    for row in rows:
        classes, y_test = np.asarray(row["classes"]), row["y_test"]
        y_oof, where = np.asarray(row["y_oof"]), np.asarray(row["where"], np.float64)
        p_oof, p_test = blend_probs(row, cawpe_weights(row, 5))
        offsets, s = fit_decision_offsets(y_oof, np.where(where[:, None] > 0, p_oof, np.nan), "balanced_accuracy",
                                          keep="always")
        plain = classes[p_test.argmax(1)]
        moved = classes[np.asarray(offset_decisions(p_test.astype(np.float32), offsets))]
        scores = [(balanced_accuracy_score(y_test, p), accuracy_score(y_test, p)) for p in (plain, moved)]
        gain = s["cross_fitted"] - s["before"]
        fits.append((row["dataset"], gain, scores))
        lines.append(f"| {row['dataset']} | {row['seed']} | {s['before']:.3f} | {gain:+.3f} "
                     f"| {'yes' if gain > 0 else 'no'} | {scores[0][0]:.3f} → {scores[1][0]:.3f} "
                     f"| {scores[0][1]:.3f} → {scores[1][1]:.3f} |")
    lines += ["", "| dataset | " + " | ".join(name for name, _ in KEEP_RULES) + " |",
              "|---|" + "---|" * len(KEEP_RULES)]
    for name in dict.fromkeys(f[0] for f in fits):
        cells = []
        for _, threshold in KEEP_RULES:
            got = np.array([sc[threshold is not None and gain > threshold] for n, gain, sc in fits if n == name])
            cells.append(f"{got[:, 0].mean():.3f}, acc {got[:, 1].mean():.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


CAPS = (("cawpe5_offsets (shipped)", None, None), ("at most 2 per family", 2, None),
        ("at most 1 per family", 1, None), ("out-of-fold labels < 95% the same", None, 0.95))


def capped_weights(row: dict, k: int, per_family: int | None, agree: float | None) -> dict[int, float]:
    """CAWPE's weights over the ``k`` best candidates by CV (the search's best first, as :func:`top`), skipping
    near copies of those already picked: a candidate of a model family (:func:`family`) that has ``per_family``
    picked, or one whose out-of-fold labels agree with a picked one's on ``agree`` of the scored rows or more."""
    by_index, keep = {c["index"]: c for c in row["candidates"]}, np.asarray(row["where"], np.float64) > 0
    labels = {i: np.nan_to_num(np.asarray(c["oof"], np.float64)).argmax(1)[keep] for i, c in by_index.items()}
    picked: list[int] = []
    for i in top(row):
        same = [j for j in picked if family(by_index[j]["params"]) == family(by_index[i]["params"])]
        if per_family is not None and len(same) >= per_family:
            continue
        if agree is not None and any((labels[i] == labels[j]).mean() >= agree for j in picked):
            continue
        picked.append(i)
        if len(picked) == k:
            break
    return {i: by_index[i]["cv"] ** CAWPE_ALPHA for i in picked}


def caps_table(rows: list[dict]) -> str:
    """Per dataset, test macro recall and accuracy (means over its fits) of CAWPE's 5 with the preset's decision
    offsets step when near copies are kept out of the 5 (:data:`CAPS`), and of CAWPE over every finished
    candidate (``cawpe_offsets``): whether a cap on near copies, the rule earlier notes proposed for
    DistalPhalanxTW at the default budget, helps without costing another set."""
    names = [name for name, _, _ in CAPS] + ["every candidate (cawpe_offsets)"]
    lines = ["| dataset | fits | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        got = np.zeros((len(mine), len(names), 2))
        for a, row in enumerate(mine):
            classes, y_oof = np.asarray(row["classes"]), np.asarray(row["y_oof"])
            where = np.asarray(row["where"], np.float64)
            every = cawpe_weights(row, None)
            for b, weights in enumerate([capped_weights(row, 5, cap, agree) for _, cap, agree in CAPS] + [every]):
                pred = classes[offset_labels(y_oof, where, *blend_probs(row, weights))]
                got[a, b] = balanced_accuracy_score(row["y_test"], pred), accuracy_score(row["y_test"], pred)
        mean = got.mean(0)
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(f"{m:.3f}, acc {c:.3f}" for m, c in mean) + " |")
    return "\n".join(lines)


# the ranking metrics probed, as the search's scikit-learn scorers compute them on a fold's predicted labels
RANKING_METRICS = {"balanced_accuracy": balanced_accuracy_score,
                   "f1_macro": functools.partial(f1_score, average="macro"), "accuracy": accuracy_score}
FIXED_FIRST = 9  # the preset's initial_points: candidates 0-8 are the same whatever the ranking metric


def cv_scores(row: dict, metric: str) -> dict[int, float]:
    """Each finished candidate's CV score under ``metric`` as the search computes it: the mean over the folds of
    ``cv=3`` (``check_cv``: unshuffled, stratified) of ``metric`` (:data:`RANKING_METRICS`) on the labels its
    out-of-fold probabilities predict (stored rounded to 5 decimals; for the row's own metric this gives its
    ``cv``)."""
    y, keep = np.asarray(row["y_oof"]), np.asarray(row["where"], np.float64) > 0
    held = [te[keep[te]] for _, te in check_cv(3, y, classifier=True).split(np.zeros((len(y), 1)), y)]
    score = RANKING_METRICS[metric]
    return {c["index"]: float(np.mean([score(y[te], np.asarray(c["oof"], np.float64)[te].argmax(1)) for te in held]))
            for c in row["candidates"]}


def metrics_table(rows: list[dict]) -> str:
    """Per dataset, test macro recall (mean ± sample std over its fits) and accuracy of what the preset refits
    (CAWPE's 5 best with its decision offsets, ``cawpe5_offsets``) when the same finished candidates are ranked,
    weighted and offset by another metric (:data:`RANKING_METRICS`, :func:`cv_scores`), and the accuracy's
    distance to the best published; ``fixed only``: fits whose every finished candidate is one of the
    preset's first :data:`FIXED_FIRST` (there the search under that metric trains exactly these candidates;
    elsewhere its Bayesian rounds would propose others). Last line: per metric, the development sets
    (``bench_imbalance.SUITE``) within 2 points of the best published accuracy."""
    head = " | ".join(f"ranked by {m}" for m in RANKING_METRICS)
    lines = [f"| dataset | fits | fixed only | {head} |", "|---|---|---|" + "---|" * len(RANKING_METRICS)]
    near = dict.fromkeys(RANKING_METRICS, 0)
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    for name in names:
        mine = [r for r in rows if r["dataset"] == name]
        published = bench_imbalance.PUBLISHED.get(name, (float("nan"), ""))[0]
        fixed = sum(all(c["index"] < FIXED_FIRST for c in r["candidates"]) for r in mine)
        cells = []
        for metric in RANKING_METRICS:
            got = []
            for row in mine:
                classes, y_oof = np.asarray(row["classes"]), np.asarray(row["y_oof"])
                where = np.asarray(row["where"], np.float64)
                blend = blend_probs(row, cawpe_weights(row, 5, cv_scores(row, metric)))
                pred = classes[offset_labels(y_oof, where, *blend, metric=metric)]
                got.append((balanced_accuracy_score(row["y_test"], pred), accuracy_score(row["y_test"], pred)))
            rec, acc = np.asarray(got).T
            sd = f" ± {np.std(rec, ddof=1):.3f}" if len(rec) > 1 else ""
            near[metric] += bool(name in bench_imbalance.SUITE and acc.mean() >= published - 0.02)
            gap = "" if np.isnan(published) else f" ({acc.mean() - published:+.3f})"
            cells.append(f"{rec.mean():.3f}{sd}, acc {acc.mean():.3f}{gap}")
        lines.append(f"| {name} | {len(mine)} | {fixed} | " + " | ".join(cells) + " |")
    counted = sum(n in bench_imbalance.SUITE for n in names)
    lines.append("| development sets within 2 points of the best published accuracy | | | "
                 + " | ".join(f"{near[m]} of {counted}" for m in RANKING_METRICS) + " |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    """Per dataset, each rule's test macro recall (mean ± sample std over
    seeds), accuracy and out-of-fold macro recall."""
    lines = ["| dataset | seeds | " + " | ".join(RULES) + " |", "|---|---|" + "---|" * len(RULES)]
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        got = [rules(r) for r in mine]
        cells = []
        for rule in RULES:
            rec = [balanced_accuracy_score(r["y_test"], g[rule][0]) for r, g in zip(mine, got)]
            acc = np.mean([accuracy_score(r["y_test"], g[rule][0]) for r, g in zip(mine, got)])
            sd = f" ± {np.std(rec, ddof=1):.3f}" if len(rec) > 1 else ""
            seen = "" if rule == "shipped" else f" (OOF {np.mean([g[rule][1] for g in got]):.3f})"
            cells.append(f"{np.mean(rec):.3f}{sd}, acc {acc:.3f}{seen}")
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def literal(text: str):
    """A stored parameter value (a string) as the value it spells (a list as a tuple, as the search's), else the
    string."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return tuple(value) if isinstance(value, list) else value


def c_rows(rows: list[dict], rule: str) -> list[dict]:
    """``bench_imbalance.py``'s (c) rows of one rule's test predictions (for its ``--targets`` and
    ``--paired-with`` tables): the scores, the finished candidates, and as ``seconds`` the probe's search plus
    the refit of every finished candidate (an upper bound on a search that refits only the rule's; for
    ``shipped``, the search's own fit and predict alone)."""
    out = []
    for row in rows:
        pred = rules(row)[rule][0]
        best = next(c for c in row["candidates"] if c["index"] == row["best_index"])
        out.append(dict(dataset=row["dataset"], method="c", seed=row["seed"],
                        seconds=row["seconds_c"] + (0.0 if rule == "shipped" else row["seconds_refits"]),
                        **bench_imbalance.scores(row["y_test"], pred), y_pred=[str(p) for p in pred],
                        candidates={"ok": len(row["candidates"])}, rule=rule,
                        best_params={k: literal(v) for k, v in best["params"].items()}))
    return out


def main():
    def arguments(ap):
        ap.add_argument("--budget-minutes", type=float, default=2.0, help="(c)'s budget per fit")
        ap.add_argument("--c-rows-from", default="", metavar="ROWS",
                        help="append to --rows the (c) rows of --rule's predictions in this rows file, then stop")
        ap.add_argument("--rule", default="cawpe5_offsets", choices=RULES, help="with --c-rows-from")
        ap.add_argument("--offsets-from", default="", metavar="ROWS[,ROWS...]",
                        help="print, per fit of these rows files, what the decision-offsets step does to "
                             "cawpe5_offsets' blend (offsets_table), then stop")
        ap.add_argument("--caps-from", default="", metavar="ROWS[,ROWS...]",
                        help="print caps_table of these rows files (near copies kept out of CAWPE's 5), then stop")
        ap.add_argument("--metrics-from", default="", metavar="ROWS[,ROWS...]",
                        help="print metrics_table of these rows files (the same candidates ranked by another "
                             "metric), then stop")
        harness.add_arguments(ap)

    args = bench_imbalance.suite_args(__doc__, table, arguments)
    if args is None:
        return
    if args.offsets_from:
        print(offsets_table([r for f in args.offsets_from.split(",") for r in bench_imbalance.read_rows(f)]))
        return
    if args.metrics_from:
        print(metrics_table([r for f in args.metrics_from.split(",") for r in bench_imbalance.read_rows(f)]))
        return
    if args.caps_from:
        print(caps_table([r for f in args.caps_from.split(",") for r in bench_imbalance.read_rows(f)]))
        return
    if args.c_rows_from:
        if not args.rows:  # the rows go nowhere else: the work was done and lost, silently (until 2026-12-07)
            raise SystemExit("bench_blend.py: error: --c-rows-from writes its rows, as (c)'s, to --rows FILE: give "
                             "--rows")
        rows = c_rows(bench_imbalance.read_rows(args.c_rows_from), args.rule)
        bench_imbalance.append_rows(args.rows, rows)
        print(f"appended {len(rows)} rows of rule {args.rule} to {args.rows}")
        return
    header = harness.machine_header()
    harness.print_header(header)
    rows = [r for name in args.datasets.split(",")
            for r in run(name, [int(s) for s in args.seeds.split(",")], args.rows or None, args.budget_minutes)]
    print("\n" + table(rows))
    harness.save(__file__, args, header, {"rows": len(rows)})


if __name__ == "__main__":
    main()
