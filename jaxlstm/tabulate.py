"""Tabulation: trained members -> scikit-learn's ``cv_results_`` (pure host code).

:func:`score_table` scores every member's held-out probabilities with
scikit-learn's scorers, one row per candidate, exactly as ``GridSearchCV``
scores a fitted estimator.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["score_table"]


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
        row = {"params": cand, "scores": scores, "status": status[ci], "score_time": score_time,
               "fit_time": np.asarray(fit_time[ci], np.float64), **(extra[ci] if extra else {})}
        if all("train_probs" in m for m in members[ci]) and members[ci]:
            row["train_scores"] = train_scores
        rows.append(row)
    return rows


def _score_probs(ctx, probs, rows) -> dict[str, float]:
    """Every scorer on a member's probabilities for ``rows`` of the data."""
    p = np.asarray(probs, np.float64)
    held = _Held(ctx["classes"], p / p.sum(axis=1, keepdims=True))  # as predict_proba renormalises
    y_true = ctx["classes"][ctx["y"][rows]]
    dummy = np.zeros((len(rows), 1))
    return {name: scorer(held, dummy, y_true) for name, scorer in ctx["scorers"].items()}
