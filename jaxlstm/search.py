"""Hyperparameter search with scikit-learn's interface, run by the sweep engine.

:class:`LSTMSearchCV` is a drop-in for ``GridSearchCV`` / ``RandomizedSearchCV``
over :class:`~jaxlstm.estimator.LSTMClassifier`: every (candidate, fold)
member of a static group trains in one vmapped program instead of one Keras
fit at a time. ``search="bayes"`` proposes batches with a Gaussian process
(:mod:`jaxlstm.bayes`); ``search="halving"`` is successive halving with
epochs as the resource, survivors continuing from their saved state.
"""

from __future__ import annotations

import numbers
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.utils.validation import check_is_fitted

from jaxlstm import bayes, halving
from jaxlstm.estimator import LSTMClassifier, estimator_to_config, to_sequences
from jaxlstm.metrics import SCORERS
from jaxlstm.sweep import run_sweep
from jaxlstm.tabulate import cv_results, score_table

__all__ = ["LSTMSearchCV", "estimator_to_config"]

def _scorers(scoring, refit) -> tuple[dict[str, Any], bool]:
    """``{name: scikit-learn scorer}`` and whether it is multi-metric, with
    ``GridSearchCV``'s names and rules (``"score"`` for a single metric)."""
    from sklearn.metrics import get_scorer

    def one(s):
        if isinstance(s, str):
            return get_scorer(s)
        if callable(s):
            return s
        raise ValueError(f"scoring entries must be strings or callables, got {s!r}")

    if scoring is None:
        return {"score": _estimator_score}, False
    if isinstance(scoring, str) or callable(scoring):
        return {"score": one(scoring)}, False
    if isinstance(scoring, dict):
        out = {k: one(v) for k, v in scoring.items()}
    else:
        names = list(scoring)
        if len(set(names)) != len(names):
            raise ValueError("scoring lists a metric twice")
        out = {k: one(k) for k in names}
    if not out:
        raise ValueError("scoring is empty")
    if refit is True:
        raise ValueError("For multi-metric scoring, the parameter refit must be set to a scorer key "
                         f"or a callable to refit an estimator with the best parameter setting on the "
                         f"whole data; choose one of {sorted(out)}")
    if isinstance(refit, str) and refit not in out:
        raise ValueError(f"refit={refit!r} is not a key of scoring {sorted(out)}")
    return out, True


def _estimator_score(estimator, X, y):
    return estimator.score(X, y)


class LSTMSearchCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Grid, random, Bayesian or successive-halving search over
    :class:`~jaxlstm.estimator.LSTMClassifier`, trained by the sweep engine.

    Parameters (scikit-learn's meaning unless noted):
      estimator: the base :class:`LSTMClassifier` (default: one with default
        parameters); candidates set parameters on a clone of it.
      param_grid: a grid (dict or list of dicts) for ``search="grid"``.
      param_distributions: lists or scipy distributions for
        ``search="random"`` (``n_iter`` samples), ``"bayes"`` and ``"halving"``.
      search: ``"grid"`` (default when ``param_grid`` is given), ``"random"``
        (default with ``param_distributions``), ``"bayes"``, ``"halving"`` or
        ``"optuna"`` (``param_distributions`` of Optuna distributions; each
        round asks ``batch_size`` trials and trains them in one sweep).
      n_iter: candidates for random and Bayesian search.
      scoring: ``None`` (accuracy, the estimator's ``score``), a metric name,
        a list or a dict ``{name: metric}``; names from
        :data:`jaxlstm.metrics.SCORERS` (scikit-learn's strings). Callables
        are not accepted: scoring happens inside the compiled program.
      refit: ``True``, a scoring key, a callable ``cv_results_ -> index``, or
        ``False``.
      cv: int (``StratifiedKFold`` without shuffling, as ``GridSearchCV``), a
        splitter, or an iterable of ``(train, test)`` pairs.
      seeds: training seeds per candidate and fold (splits ``fold * len(seeds)
        + seed``); default: the estimator's ``random_state`` (0 if ``None``).
      random_state: seeds the sampling of candidates (random, Bayesian).
      batch_size: candidates per Bayesian round (each round is one sweep).
      n_initial: random candidates before the Gaussian process takes over.
      factor, min_epochs: successive halving keeps the best ``1/factor`` each
        rung and multiplies the epochs by ``factor`` from ``min_epochs`` up to
        the estimator's ``epochs``.
      max_time: seconds after which Bayesian and Optuna search start no new
        round (``None``: no limit).
      study: an Optuna study to continue (``search="optuna"``; default: a new
        TPE study seeded with ``random_state``), kept as ``study_``.
      chunk_size, out_dir: passed to :func:`jaxlstm.sweep.run_sweep`.
      verbose: progress bars.
      n_jobs: accepted for ``GridSearchCV`` compatibility and ignored: the
        candidates and folds of a static group already train in parallel as
        one vmapped program (sharded over every device), so there are no jobs
        to spread.
      return_train_score: also score every member on its fold's training rows
        (``split<k>_train_<metric>``, ``mean_/std_train_<metric>``), from the
        probabilities the program returns (grid, random, Bayesian, Optuna).

    Attributes: ``cv_results_`` (scikit-learn's keys, plus ``status``),
    ``best_index_``, ``best_params_``, ``best_score_``, ``best_estimator_``,
    ``refit_time_``, ``scorer_``, ``multimetric_``, ``n_splits_``,
    ``classes_``, ``n_features_in_``; ``rounds_`` for Bayesian and halving search;
    ``compile_time_`` and ``train_time_``: seconds the search's sweeps spent
    compiling and training (grid, random, Bayesian and Optuna search);
    ``members_``: every trained (candidate, fold, seed) member of this fit
    with its ``params``, ``status`` and per-epoch ``history`` (grid, random,
    Bayesian and Optuna search; ``val_<metric>`` for the ranking metric when
    it is one of :data:`jaxlstm.metrics.SCORERS`).
    """

    def __init__(self, estimator=None, param_grid=None, param_distributions=None, *, search=None,
                 n_iter=10, scoring=None, refit=True, cv=5, seeds=None, random_state=None,
                 batch_size=8, n_initial=None, factor=3, min_epochs=None, study=None, max_time=None,
                 chunk_size=None, out_dir=None, verbose=0, n_jobs=None, return_train_score=False):
        self.estimator = estimator
        self.param_grid = param_grid
        self.param_distributions = param_distributions
        self.search = search
        self.n_iter = n_iter
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.seeds = seeds
        self.random_state = random_state
        self.batch_size = batch_size
        self.n_initial = n_initial
        self.factor = factor
        self.min_epochs = min_epochs
        self.study = study
        self.max_time = max_time
        self.chunk_size = chunk_size
        self.out_dir = out_dir
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.return_train_score = return_train_score

    # -- fitting -----------------------------------------------------------------
    def _mode(self) -> str:
        if (self.param_grid is None) == (self.param_distributions is None):
            raise ValueError("give exactly one of param_grid and param_distributions")
        mode = self.search or ("grid" if self.param_grid is not None else "random")
        allowed = {"grid": "param_grid", "random": "param_distributions", "bayes": "param_distributions",
                   "halving": None, "optuna": "param_distributions"}
        if mode not in allowed:
            raise ValueError(f"search must be one of {sorted(allowed)}, got {mode!r}")
        if allowed[mode] and getattr(self, allowed[mode]) is None:
            raise ValueError(f"search={mode!r} needs {allowed[mode]}")
        return mode

    def fit(self, X, y):
        """Run the search; then refit the best candidate on all of ``X, y``."""
        mode = self._mode()
        if self.return_train_score and mode == "halving":
            raise ValueError("return_train_score=True is not available with search='halving'; use grid, random, "
                             "bayes or optuna")
        base = LSTMClassifier() if self.estimator is None else self.estimator
        if not isinstance(base, LSTMClassifier):
            raise ValueError(f"estimator must be an LSTMClassifier, got {type(base).__name__}")
        scorers, multi = _scorers(self.scoring, self.refit)
        x, lengths, ndim = to_sequences(X)
        probe = clone(base)
        yi = probe._read_y(y, len(x))
        classes = probe.classes_
        folds = [(np.asarray(a), np.asarray(b)) for a, b in
                 check_cv(self.cv, yi, classifier=True).split(np.zeros((len(yi), 1)), yi)]
        seeds = self.seeds
        if seeds is None:
            rs = base.random_state
            seeds = (int(rs) if isinstance(rs, numbers.Integral) else 0,)
        seeds = tuple(int(s) for s in np.atleast_1d(seeds))
        if not seeds:
            raise ValueError("seeds is empty")
        key = self.refit if isinstance(self.refit, str) else next(iter(scorers))
        ctx = dict(x=x, lengths=lengths, y=yi, classes=classes, folds=folds, seeds=seeds, base=base,
                   scorers=scorers, key=key)
        self.compile_time_ = self.train_time_ = 0.0
        self.members_ = []

        if mode == "grid":
            table = self._evaluate(ctx, list(ParameterGrid(self.param_grid)))
        elif mode == "random":
            table = self._evaluate(ctx, list(ParameterSampler(self.param_distributions, self.n_iter,
                                                              random_state=self.random_state)))
        elif mode == "bayes":
            table = self._bayes(ctx)
        elif mode == "optuna":
            table = self._optuna(ctx)
        else:
            table = self._halving(ctx)

        self.cv_results_ = cv_results(table, scorers, len(folds) * len(seeds), bool(self.return_train_score))
        self.multimetric_ = multi
        self.scorer_ = scorers if multi else scorers["score"]
        self.n_splits_ = len(folds) * len(seeds)
        self.classes_ = classes
        self.n_features_in_ = x.shape[1] if ndim == 2 else x.shape[-1]
        if callable(self.refit):
            self.best_index_ = int(self.refit(self.cv_results_))
        elif self.refit or not multi:
            ranks = np.asarray(self.cv_results_[f"rank_test_{key}"]).copy()
            if "iter" in self.cv_results_:  # halving: the best of the last rung, as scikit-learn's
                last = self.cv_results_["iter"] == self.cv_results_["iter"].max()
                ranks[~last] = np.iinfo(np.int32).max
            self.best_index_ = int(np.argmin(ranks))
        if hasattr(self, "best_index_"):
            self.best_params_ = self.cv_results_["params"][self.best_index_]
            if not callable(self.refit):
                self.best_score_ = float(self.cv_results_[f"mean_test_{key}"][self.best_index_])
        if self.refit:
            t0 = time.perf_counter()
            best = clone(base).set_params(**self.best_params_)
            if "random_state" not in self.best_params_:
                best.set_params(random_state=seeds[0])
            self.best_estimator_ = best.fit(X, y)
            self.refit_time_ = time.perf_counter() - t0
        return self

    def _configs(self, ctx, candidates) -> list[dict]:
        out = []
        for cand in candidates:
            if "random_state" in cand:
                raise ValueError("random_state cannot be searched over; pass seeds=[...] to average "
                                 "over training seeds")
            est = clone(ctx["base"]).set_params(**cand)  # scikit-learn's error for unknown names
            out.append(estimator_to_config(est, ctx["classes"]))
        return out

    def _sweep(self, ctx, configs):
        # learning curves per epoch of the ranking metric where the program can compute it
        sc = self.scoring
        names = [sc] if isinstance(sc, str) else list(sc.values()) if isinstance(sc, dict) else \
            list(sc) if isinstance(sc, (list, tuple)) else []
        record = tuple(dict.fromkeys(["accuracy"] + [k for k in names if isinstance(k, str) and k in SCORERS]))
        result = run_sweep(ctx["x"], ctx["y"], ctx["lengths"], configs=configs, cv=ctx["folds"],
                           seeds=ctx["seeds"], select="accuracy", scoring=record, out_dir=self.out_dir,
                           chunk_size=self.chunk_size, num_classes=len(ctx["classes"]),
                           progress=bool(self.verbose), return_probs=True,
                           return_train_probs=bool(self.return_train_score))
        self.compile_time_ += result.compile_s
        self.train_time_ += result.run_s
        return result

    def _evaluate(self, ctx, candidates, configs=None, extra=None) -> list[dict]:
        """Train ``candidates`` in one sweep and score every member's held-out
        probabilities with scikit-learn's scorers: one table row per candidate."""
        configs = self._configs(ctx, candidates) if configs is None else configs
        result = self._sweep(ctx, configs)
        self.members_.extend({"params": candidates[m["candidate"]], "fold": m["fold"], "seed": m["seed"],
                              "status": m["status"], "history": m["history"], "hash": m["hash"]}
                             for m in result.members)
        return _score_members(ctx, candidates, configs, result, extra)

    def _bayes(self, ctx) -> list[dict]:
        table: list[dict] = []

        def evaluate(candidates):
            rows = self._evaluate(ctx, candidates)
            table.extend(rows)
            out = np.array([np.mean(r["scores"][ctx["key"]]) for r in rows])
            return np.where(np.array([r["status"] for r in rows]) == "ok", out, np.nan)

        bayes.bayes_search(evaluate, self.param_distributions, n_iter=self.n_iter, batch_size=self.batch_size,
                           n_initial=self.n_initial, random_state=self.random_state, max_time=self.max_time)
        self.rounds_ = -(-len(table) // max(1, self.batch_size))
        return table

    def _optuna(self, ctx) -> list[dict]:
        """Ask Optuna for ``batch_size`` trials, train them in one sweep, tell
        it the mean CV scores (failed trials for diverged candidates)."""
        try:
            import optuna
        except ImportError:
            raise ImportError("search='optuna' needs Optuna: pip install 'jaxlstm[optuna]'") from None
        dists = dict(self.param_distributions)
        for name, d in dists.items():
            if not isinstance(d, optuna.distributions.BaseDistribution):
                raise ValueError(f"search='optuna' needs Optuna distributions; {name} is {d!r}")
        study = self.study
        if study is None:
            study = optuna.create_study(direction="maximize",
                                        sampler=optuna.samplers.TPESampler(seed=self.random_state))
        elif study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError("the Optuna study must maximise: scikit-learn scores are greater-is-better")
        table: list[dict] = []
        t0 = time.monotonic()
        while len(table) < self.n_iter:
            if table and self.max_time is not None and time.monotonic() - t0 >= self.max_time:
                break
            trials = [study.ask(dists) for _ in range(min(self.batch_size, self.n_iter - len(table)))]
            rows = self._evaluate(ctx, [dict(t.params) for t in trials])
            for t, r in zip(trials, rows, strict=True):
                v = float(np.mean(r["scores"][ctx["key"]]))
                if r["status"] == "ok" and np.isfinite(v):
                    study.tell(t, v)
                else:
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
            table.extend(rows)
        self.study_ = study
        self.rounds_ = -(-len(table) // max(1, self.batch_size))
        return table

    def _halving(self, ctx) -> list[dict]:
        if self.param_grid is not None:
            candidates = list(ParameterGrid(self.param_grid))
        else:
            candidates = list(ParameterSampler(self.param_distributions, self.n_iter,
                                               random_state=self.random_state))
        if any("epochs" in c for c in candidates):
            raise ValueError("epochs is the resource of successive halving: set it on the estimator, "
                             "not in the search space")
        table, rungs = halving.successive_halving(self, ctx, candidates, self._configs(ctx, candidates))
        self.rounds_ = rungs
        return table

    # -- delegation ----------------------------------------------------------------
    def predict(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y):
        """The refit scorer on the best estimator (its accuracy when scoring is ``None``)."""
        check_is_fitted(self, "best_estimator_")
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return scorer(self.best_estimator_, X, y)


def _score_members(ctx, candidates, configs, result, extra=None) -> list[dict]:
    """One row per candidate of a sweep: see :func:`score_table`."""
    n_splits = len(ctx["folds"]) * len(ctx["seeds"])
    members, fit_time = [], []
    for ci in range(len(candidates)):
        ms = result.members[ci * n_splits : (ci + 1) * n_splits]
        e = configs[ci]["epochs"]
        members.append([{"fold": m["fold"], "seed": m["seed"], "probs": m["val_probs"][str(e)],
                         **({"train_probs": m["train_probs"][str(e)]} if "train_probs" in m else {})}
                        for m in ms])
        fit_time.append([m["fit_time"] * e / len(m["history"]["train_loss"]) for m in ms])
    status = list(result.cv_results_["status"])
    return score_table(ctx, candidates, members, status, fit_time, extra)
