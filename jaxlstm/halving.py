"""Successive halving with epochs as the resource (``LSTMSearchCV(search="halving")``).

Like scikit-learn's ``HalvingGridSearchCV(resource=...)``: every candidate
trains ``min_epochs`` epochs on every fold; the best ``1/factor`` (by mean
CV score) survive and train on, ``factor`` times as many epochs in total,
until the estimator's ``epochs`` is reached (a last lone survivor trains up
to it, so ``best_score_`` scores what the refit trains).
Survivors *continue* from their saved parameters and optimizer state: the
strategy hands their states back to the member executor
(:func:`jaxlstm.sweep.execute`, members with a ``start``), so a survivor's
final model is exactly the model trained straight through for the same
number of epochs. Pure host code: it asks for candidates to be evaluated
and is told their scores, as every search strategy is.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from jaxlstm.tabulate import mean_scores

__all__ = ["rung_schedule", "successive_halving"]


def rung_schedule(n_candidates: int, max_epochs: int, factor: int = 3, min_epochs: int | None = None
                  ) -> list[tuple[int, int]]:
    """``[(candidates, epochs), ...]`` per rung: candidates shrink by
    ``factor`` (rounded up), epochs grow by ``factor`` up to ``max_epochs``;
    a rung of one candidate trains ``max_epochs`` (what the refit trains)."""
    if factor < 2:
        raise ValueError(f"factor must be >= 2, got {factor}")
    if max_epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {max_epochs}")
    n_rungs = 1 + math.ceil(math.log(max(n_candidates, 1)) / math.log(factor) - 1e-9)
    if min_epochs is None:
        min_epochs = max(1, max_epochs // factor ** (n_rungs - 1))
    if not 1 <= min_epochs <= max_epochs:
        raise ValueError(f"min_epochs must be in [1, epochs={max_epochs}], got {min_epochs}")
    out, n, e = [], n_candidates, min_epochs
    while True:
        if n == 1:  # the last candidate trains what the refit trains, so its score is the refitted model's
            e = max_epochs
        out.append((n, e))
        if n == 1 or e >= max_epochs:
            return out
        n, e = math.ceil(n / factor), min(max_epochs, e * factor)


def successive_halving(evaluate: Callable[..., list[dict]], candidates: list[dict], *, max_epochs: int,
                       factor: int = 3, min_epochs: int | None = None, key: str = "score") -> list[tuple[int, int]]:
    """Run the rungs over ``candidates``; returns the rungs run, ``[(candidates, epochs), ...]``.

    ``evaluate(candidates, epochs=, start=, offset=, extra=)`` trains each
    candidate ``epochs`` more epochs on every split (from ``start``: per
    candidate, its splits' states after ``offset`` epochs; ``None``: afresh)
    and returns one table row per candidate, with ``extra`` merged in and
    the splits' final ``states``. Survivors are ranked by their mean ``key``
    score; a diverged or NaN candidate ranks last.
    """
    if any("epochs" in c for c in candidates):
        raise ValueError("epochs is the resource of successive halving: set it on the estimator, "
                         "not in the search space")
    schedule = rung_schedule(len(candidates), max_epochs, factor, min_epochs)
    alive, states, done = list(range(len(candidates))), None, 0
    for rung, (_, epochs) in enumerate(schedule):
        rows = evaluate([candidates[ci] for ci in alive], epochs=epochs - done, start=states, offset=done,
                        extra={"iter": rung, "n_resources": epochs})
        states, done = [r.pop("states") for r in rows], epochs
        if rung + 1 < len(schedule):
            means = mean_scores(rows, key)
            means = np.where(np.isnan(means), -np.inf, means)
            keep = sorted(np.argsort(-means, kind="stable")[: schedule[rung + 1][0]])
            alive, states = [alive[i] for i in keep], [states[i] for i in keep]
    return schedule
