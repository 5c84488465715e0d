"""Tabulation: trained members -> scikit-learn's ``cv_results_`` (pure host code).

:func:`score_table` scores every member's held-out probabilities with
scikit-learn's scorers, one row per candidate, exactly as ``GridSearchCV``
scores a fitted estimator.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["score_table", "curve_table", "mean_scores", "cv_results", "rank_scores", "param_columns",
           "accepts_sample_weight"]


class _Held(ClassifierMixin, BaseEstimator):
    """A fitted classifier stand-in whose predictions are a member's held-out
    probabilities, so scikit-learn's scorers score them exactly as
    ``GridSearchCV`` scores a fitted estimator (in float64, same code)."""

    def __init__(self, classes, probs):
        self.classes = classes
        self.probs = probs

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return self.classes

    def predict_proba(self, X):
        return self.probs

    def predict(self, X):
        return self.classes[np.argmax(self.probs, axis=1)]


def score_table(ctx, candidates, members, status, fit_time, extra=None) -> list[dict]:
    """One row per candidate: every split scored by scikit-learn's scorers
    from the member's held-out probabilities (``members[ci]``: dicts with
    ``fold``, ``seed``, ``probs`` and, for ``return_train_score``,
    ``train_probs``); ``score_time`` is the seconds the held-out scoring took."""
    n_splits = len(ctx["folds"]) * len(ctx["seeds"])
    rows = []
    for ci, cand in enumerate(candidates):
        scores = {name: np.zeros(n_splits) for name in ctx["scorers"]}
        train_scores = {name: np.zeros(n_splits) for name in ctx["scorers"]}
        score_time = np.zeros(n_splits)
        for m in members[ci]:
            k = m["fold"] * len(ctx["seeds"]) + ctx["seeds"].index(m["seed"])
            train, test = ctx["folds"][m["fold"]]
            t0 = time.perf_counter()
            for name, s in _score_probs(ctx, m["probs"], test).items():
                scores[name][k] = s
            score_time[k] = time.perf_counter() - t0
            if "train_probs" in m:
                for name, s in _score_probs(ctx, m["train_probs"], train).items():
                    train_scores[name][k] = s
        if status[ci] == "unfinished":  # no members: nothing to score
            scores = {name: np.full(n_splits, np.nan) for name in ctx["scorers"]}
            train_scores = scores
        row = {"params": cand, "scores": scores, "status": status[ci], "score_time": score_time,
               "fit_time": np.asarray(fit_time[ci], np.float64), "oof_probs": _out_of_fold(ctx, members[ci]),
               **(extra[ci] if extra else {})}
        if members[ci] and all("train_probs" in m for m in members[ci]) or status[ci] == "unfinished":
            row["train_scores"] = train_scores
        rows.append(row)
    return rows


def _out_of_fold(ctx, members) -> np.ndarray:
    """Each row's held-out probabilities, averaged over the seeds of the fold
    that held it out (NaN for a row no fold held out)."""
    n, c = len(ctx["y"]), len(ctx["classes"])
    total, count = np.zeros((n, c)), np.zeros(n)
    for m in members:
        test = ctx["folds"][m["fold"]][1]
        total[test] += np.asarray(m["probs"], np.float64)
        count[test] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count[:, None]


def status_at(member: dict, e: int) -> str:
    """``"ok"`` if the member's model read after ``e`` of its run's epochs
    (1-based) had not diverged, else ``"diverged"``: a run shared by
    candidates that differ only in ``epochs`` may diverge after the shorter
    ones' reading. Rows saved before ``finite_epochs`` existed give the
    whole run's status."""
    if "finite_epochs" not in member:
        return member["status"]
    return "ok" if e <= member["finite_epochs"] else "diverged"


def curve_table(candidates, epochs, members, scoring) -> tuple[list[dict], list[dict]]:
    """One row per candidate from its members' in-program validation curves,
    read at the candidate's ``epochs`` (``members[ci]``: its member rows in
    split order, each with ``history``, ``status`` and ``fit_time``, the
    member's whole run, of which the candidate's share is counted); and the
    members, each tagged with its ``candidate`` and ``params``."""
    table, tagged = [], []
    for ci, (cand, e, ms) in enumerate(zip(candidates, epochs, members, strict=True)):
        row = {"params": cand, "scores": {m: np.zeros(len(ms)) for m in scoring},
               "fit_time": np.zeros(len(ms)), "status": "ok"}
        for k, member in enumerate(ms):
            for m in scoring:
                row["scores"][m][k] = member["history"][f"val_{m}"][e - 1]
            row["fit_time"][k] = member["fit_time"] * e / len(member["history"]["train_loss"])
            status = status_at(member, e)
            if status != "ok":
                row["status"] = "diverged"
            tagged.append({"candidate": ci, "params": cand, **member, "status": status})
        table.append(row)
    return table, tagged


def mean_scores(rows, key: str) -> np.ndarray:
    """Each row's mean ``key`` score over its splits, NaN where a member
    diverged: what a search strategy is told."""
    means = np.array([np.mean(r["scores"][key]) for r in rows], np.float64)
    return np.where(np.array([r["status"] for r in rows]) == "ok", means, np.nan)


def accepts_sample_weight(scorer) -> bool:
    """Whether scikit-learn passes ``sample_weight`` to ``scorer`` in a
    search fitted with sample weights (its rule without metadata routing)."""
    if hasattr(scorer, "_accept_sample_weight"):
        return bool(scorer._accept_sample_weight())
    import inspect

    try:
        return "sample_weight" in inspect.signature(scorer).parameters
    except (TypeError, ValueError):
        return False


def _score_probs(ctx, probs, rows) -> dict[str, float]:
    """Every scorer on a member's probabilities for ``rows`` of the data,
    with those rows' ``ctx["score_weight"]`` for the scorers named in
    ``ctx["weighted"]`` (those that take sample weights), as
    ``GridSearchCV.fit(X, y, sample_weight=...)``."""
    p = np.asarray(probs, np.float64)
    held = _Held(ctx["classes"], p / p.sum(axis=1, keepdims=True))  # as predict_proba renormalises
    y_true = ctx["classes"][ctx["y"][rows]]
    dummy = np.zeros((len(rows), 1))
    weighted, sw = ctx.get("weighted", ()), ctx.get("score_weight")
    out = {}
    for name, scorer in ctx["scorers"].items():
        try:
            out[name] = scorer(held, dummy, y_true, **({"sample_weight": sw[rows]} if name in weighted else {}))
        except Exception as e:  # noqa: BLE001  GridSearchCV's error_score=np.nan: the split's score, not the search
            warnings.warn(f"scoring {name!r} failed on a split, so its score there is NaN (as GridSearchCV's "
                          f"default error_score=nan): {type(e).__name__}: {e}", UserWarning, stacklevel=2)
            out[name] = np.nan
        if isinstance(out[name], Mapping):
            raise ValueError(f"scoring: the callable returned a dict ({sorted(out[name])}); pass several metrics "
                             "as a dict of scorers, e.g. scoring={'a': scorer_a, 'b': scorer_b}, and name one "
                             "in refit")
    return out


def param_columns(candidates: Sequence[Mapping]) -> dict[str, np.ma.MaskedArray]:
    """scikit-learn's ``param_<name>`` columns (1.9, ``_yield_masked_array_for_each_param``):
    one masked array per name, masked where a candidate does not set it, of
    the values' NumPy dtype (float for learning rates, int for epochs), or
    object for strings, mixed values and sequences. Filled element by element,
    so equal-length tuples (``conv_filters``) stay one tuple per candidate
    instead of becoming a 2-D array."""
    out = {}
    for k in sorted({k for cfg in candidates for k in cfg}):
        given = [cfg[k] for cfg in candidates if k in cfg]
        try:
            arr = np.array(given)
        except ValueError:  # sequences of different lengths
            dtype = np.dtype(object)
        else:
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else np.dtype(object)
        column = np.ma.masked_array(np.empty(len(candidates), dtype=dtype), mask=True)
        for i, cfg in enumerate(candidates):
            if k in cfg:
                column[i] = cfg[k]
        out[f"param_{k}"] = column
    return out


def rank_scores(means: np.ndarray, status: np.ndarray | None = None) -> np.ndarray:
    """``GridSearchCV``'s ranks (scikit-learn 1.9, ``_format_results``):
    ``rankdata(-mean, method="min")`` with NaN means tied with each other
    after the worst finite one (all NaN: all rank 1). A candidate whose
    ``status`` is not ``"ok"`` (a diverged member) counts as NaN.

    Example: ``rank_scores([0.5, nan, 0.9, 0.5])`` is ``[2, 4, 1, 2]``."""
    key = np.array(means, np.float64)
    if status is not None:
        key[np.asarray(status) != "ok"] = np.nan
    if np.isnan(key).all():
        return np.ones(len(key), np.int32)
    key = np.where(np.isnan(key), np.nanmin(key) - 1, key)
    return rankdata(-key, method="min").astype(np.int32)


def cv_results(table: list[dict], scorers, n_splits: int, train_score: bool = False) -> dict:
    """scikit-learn's ``cv_results_`` from one row per candidate, with
    ``GridSearchCV``'s arithmetic (float64 means, population std, ranks by
    :func:`rank_scores`) so they agree with it exactly.

    Args:
      table: rows with ``params``, ``scores`` (``{name: (n_splits,)}``),
        ``status`` (``"ok"`` / ``"diverged"``), ``fit_time`` ``(n_splits,)``;
        optional ``score_time``, ``train_scores``, ``iter``, ``n_resources``.
      scorers: the metric names (an iterable; a dict's keys).
      train_score: also ``split<k>_train_<name>`` and their mean/std.
    """
    res: dict[str, Any] = {}
    fit = np.array([r["fit_time"] for r in table], np.float64)
    res["mean_fit_time"] = fit.mean(1)
    res["std_fit_time"] = fit.std(1)
    if "score_time" in table[0]:  # scikit-learn's scorers on the probabilities the program returned
        score = np.array([r["score_time"] for r in table], np.float64)
        res["mean_score_time"] = score.mean(1)
        res["std_score_time"] = score.std(1)
    candidates = [r["params"] for r in table]
    res.update(param_columns(candidates))
    res["params"] = candidates
    for extra in ("iter", "n_resources"):
        if extra in table[0]:
            res[extra] = np.array([r[extra] for r in table])
    status = np.array([r["status"] for r in table])
    for name in scorers:
        a = np.array([r["scores"][name] for r in table], np.float64)
        for k in range(n_splits):
            res[f"split{k}_test_{name}"] = a[:, k]
        means = np.average(a, axis=1)
        res[f"mean_test_{name}"] = means
        res[f"std_test_{name}"] = np.sqrt(np.average((a - means[:, None]) ** 2, axis=1))
        res[f"rank_test_{name}"] = rank_scores(means, status)
        if train_score:
            t = np.array([r["train_scores"][name] for r in table], np.float64)
            for k in range(n_splits):
                res[f"split{k}_train_{name}"] = t[:, k]
            res[f"mean_train_{name}"] = np.average(t, axis=1)
            res[f"std_train_{name}"] = np.sqrt(np.average((t - res[f"mean_train_{name}"][:, None]) ** 2, axis=1))
    res["status"] = status
    return res
