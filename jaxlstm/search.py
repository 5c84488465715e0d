"""Hyperparameter search with scikit-learn's interface, run by the sweep engine.

:class:`LSTMSearchCV` is a drop-in for ``GridSearchCV`` / ``RandomizedSearchCV``
over :class:`~jaxlstm.estimator.LSTMClassifier`: every (candidate, fold)
member of a static group trains in one vmapped program instead of one Keras
fit at a time. ``search="bayes"`` proposes batches with a Gaussian process
(:mod:`jaxlstm.bayes`); ``search="halving"`` is successive halving with
epochs as the resource, survivors continuing from their saved state.

Every mode is a strategy of one shape (scikit-learn's
``_run_search(evaluate_candidates)``): it asks for candidates, one call of
the member executor (:func:`jaxlstm.sweep.execute`) trains them, and it is
told their scores.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import time
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from jaxlstm import bayes, halving, params
from jaxlstm._checks import check_sample_weight, check_standardisable
from jaxlstm.estimator import (InactiveParameterWarning, LSTMClassifier, LSTMEnsemble, encode_labels,
                               estimator_to_config, frames_by_name, labels_of, labels_view, to_sequences)
from jaxlstm.metrics import (LABEL_SCORERS, SCORERS, check_scoring_name, ensemble_selection, fit_logit_offsets,
                             log_loss, offset_decisions)
from jaxlstm.params import PARAMETER_RULES, check_param, check_params, check_seeds
from jaxlstm.plan import absent_classes, check_folds, expand_space, normalise, plan_members
from jaxlstm.sweep import SweepInterrupted, execute, members_path, past_deadline
from jaxlstm.tabulate import accepts_sample_weight, cv_results, mean_scores, score_table, status_at
from jaxlstm.train import OPTIONAL_PARTS

__all__ = ["LSTMSearchCV", "estimator_to_config", "fit_decision_offsets", "CAWPE_ALPHA", "SEARCH_CONFLICTS",
           "check_search_settings"]

CAWPE_ALPHA = 4  # ensemble_rule="cawpe": weights CV score ** 4 (Large, Lines and Bagnall 2019; HIVE-COTE 2's)

# Settings of a search that cannot work together (each value alone passes its rule in
# jaxlstm.params.PARAMETER_RULES), checked by LSTMSearchCV.fit and the TOML config alike through
# check_search_settings: (when, message) over the settings it names. In a message, {name} is how the caller's
# interface names a setting and {name_is} how it writes the setting's value ("search='halving'" in Python,
# 'search.strategy = "halving"' in a TOML file).
SEARCH_CONFLICTS = (
    (lambda s: s["ensemble_rule"] != "greedy" and s["ensemble_selection"] is None,
     "{ensemble_rule_is} weighs the refit ensemble's candidates: set {ensemble_selection} to how many (e.g. 5); "
     "without it the best candidate is refitted alone"),
    (lambda s: s["ensemble_rule"] == "cawpe" and str(s["metric"]).startswith("neg_"),
     f"{{ensemble_rule_is}} weighs candidates by their CV score ** {CAWPE_ALPHA}, and the scores of {{metric_is}} "
     "are negative (all would weigh 0): use the greedy rule or another metric"),
    (lambda s: s["post_hoc_offsets"] and s["metric"] not in LABEL_SCORERS,
     "{post_hoc_offsets_is} fits decision offsets for {metric}, which must be a metric of predicted labels ("
     + ", ".join(LABEL_SCORERS) + "); got {metric_is}"),
    (lambda s: s["max_time"] and s["strategy"] == "halving",
     "{max_time_is} is not available with {strategy_is} (each rung ranks every candidate's score, so none may be "
     "cut off); use a random or Bayesian search, or no time limit"),
    (lambda s: s["fold_models"] and s["strategy"] == "halving",
     "{fold_models_is} is not available with {strategy_is} (its rungs continue the members, whose last rung alone "
     "trained the epochs a refit trains); use a grid, random or Bayesian search, or turn {fold_models} off"),
    (lambda s: s["return_train_score"] and s["strategy"] == "halving",
     "{return_train_score_is} is not available with {strategy_is}; use a grid, random or Bayesian search"),
    (lambda s: s["initial_points"] and s["grid"],
     "{initial_points} is for sampled searches (random, Bayesian, Optuna, halving over distributions); "
     "{grid_is} already lists every candidate"),
    (lambda s: s["initial_points"] > s["n_iter"],
     "{initial_points_count} {initial_points} but {n_iter_is}; n_iter counts them"),
    (lambda s: s["hidden_sizes"] and s["units"] and "searched" in (s["hidden_sizes"], s["units"]),
     "{hidden_sizes_is} while {units_is}; units (one LSTM layer) replaces hidden_sizes (stacked layers), "
     "so every candidate would train units: keep one of them"),
)


def check_search_settings(settings: dict, names: dict, written: dict, where: str = "") -> None:
    """Raise the first of :data:`SEARCH_CONFLICTS` that ``settings`` meet.

    ``settings``: ``strategy``, ``max_time`` (a time limit, or a false value),
    ``fold_models``, ``ensemble_rule``, ``ensemble_selection``, ``metric``
    (the ranking metric's name, ``None`` for a callable),
    ``post_hoc_offsets``, ``return_train_score``, ``initial_points`` (how
    many), ``n_iter``, ``grid`` (the space lists every candidate), ``hidden_sizes``
    and ``units`` (each ``"searched"``, ``"set"`` or ``False``); ``names`` and
    ``written``: each setting as the caller's interface names it and as it
    writes its value (see :data:`SEARCH_CONFLICTS`); ``where`` prefixes the
    message (a file name)."""
    for when, message in SEARCH_CONFLICTS:
        if when(settings):
            raise ValueError(where + message.format(**names, **{f"{k}_is": v for k, v in written.items()}))


def _scorers(scoring, refit) -> tuple[dict[str, Any], bool]:
    """``{name: scikit-learn scorer}`` and whether it is multi-metric, with
    ``GridSearchCV``'s names and rules (``"score"`` for a single metric)."""
    from sklearn.metrics import get_scorer

    def one(s):
        if isinstance(s, str):
            check_scoring_name(s)
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
    elif not isinstance(scoring, (list, tuple, set, frozenset)):
        raise ValueError(f"scoring must be None, a metric name, a callable, a list of metric names or a dict of "
                         f"scorers (GridSearchCV's forms), got {scoring!r}")
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


def _possible_parts(base, space, initial) -> frozenset:
    """The optional parts of the training step (:data:`jaxlstm.train.OPTIONAL_PARTS`)
    that some candidate may turn on: the base estimator's, those a searched
    list holds a non-zero value for, every part a distribution searches, and
    the initial points'. Every round's programs hold them all, so that a
    later round reuses the first round's compiled programs."""
    values = {k: [getattr(base, k, 0.0)] + [p[k] for p in initial if k in p]
              for keys in OPTIONAL_PARTS.values() for k in keys}
    for d in (space if isinstance(space, (list, tuple)) else [space]):
        for k, v in (d.items() if isinstance(d, Mapping) else ()):
            if k in values:
                values[k] += list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]  # a distribution
    # off: a zero (or None); anything else -- a distribution, a value the candidate check will name -- may use it
    off = lambda v: v is None or (isinstance(v, numbers.Real) and v == 0)  # noqa: E731
    return frozenset(part for part, keys in OPTIONAL_PARTS.items() if not all(off(v) for k in keys for v in values[k]))


def _estimator_score(estimator, X, y, sample_weight=None):  # GridSearchCV's scoring=None passes weights too
    return estimator.score(X, y, sample_weight=sample_weight)


def _check_space_values(space, exact_low: bool, name: str) -> None:
    """Each listed value, and each scipy distribution's extreme values
    (:func:`jaxlstm.bayes.range_ends`), meet the parameter's rule, before
    anything trains, named in ``name`` (``param_grid`` or
    ``param_distributions``): a bad value was named as an internal list's
    (``configs[3]: ...``), and a Bayesian search proposes the ends of a
    range, so a range reaching past the rule (``class_weight_beta`` up to 1)
    failed only when a later round drew it."""
    from scipy import stats

    dicts = space if isinstance(space, (list, tuple)) else [space]
    for j, d in enumerate(dicts):
        if not isinstance(d, Mapping):
            continue
        at = f"{name}[{j}]" if isinstance(space, (list, tuple)) else name
        for key, dist in d.items():
            if type(dist).__module__.split(".")[0] == "optuna":  # its ranges include both ends
                choices = getattr(dist, "choices", None)
                if choices is not None:
                    for i, v in enumerate(choices):
                        check_param(key, v, where=f"{at}[{key!r}].choices[{i}]: ")
                elif hasattr(dist, "low") and hasattr(dist, "high"):
                    discrete = type(dist).__name__ == "IntDistribution"
                    ends = bayes.range_ends(dist.low, dist.high, discrete=discrete, exact_low=True)
                    rule = PARAMETER_RULES.get(key)
                    for end, given, which in zip(ends, (dist.low, dist.high), ("low", "high")):
                        if rule is not None and not rule.ok(int(end) if discrete else end):
                            raise ValueError(params.message(key, given, f"{at}[{key!r}] ({which} end): "))
                continue
            if isinstance(dist, (list, tuple, np.ndarray)):
                for i, v in enumerate(dist):
                    check_param(key, v.item() if isinstance(v, np.generic) else v, where=f"{at}[{key!r}][{i}]: ")
            if not hasattr(dist, "support") or not hasattr(dist, "rvs"):
                continue
            lo, hi = (float(v) for v in dist.support())
            discrete = isinstance(getattr(dist, "dist", None), stats.rv_discrete)
            for end, which in zip(bayes.range_ends(lo, hi, discrete=discrete, exact_low=exact_low),
                                  ("lowest", "highest")):
                if math.isfinite(end):
                    check_param(key, int(end) if discrete else end,
                                where=f"{at}[{key!r}] ({which} value of the distribution): ")


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
        a callable ``scorer(estimator, X, y)``, a list of names or a dict
        ``{name: name or callable}``, as ``GridSearchCV`` takes them
        (scikit-learn's scoring names for classifiers). Each scorer is called
        as ``GridSearchCV`` calls it, with a fitted stand-in estimator that
        serves the member's held-out probabilities; the per-epoch learning
        curves (``members_``) are computed in the program for the names in
        :data:`jaxlstm.metrics.SCORERS`.
      refit: ``True``, a scoring key, a callable ``cv_results_ -> index``, or
        ``False``.
      cv: int (``StratifiedKFold`` without shuffling, as ``GridSearchCV``), a
        splitter, or an iterable of ``(train, test)`` pairs. A fold whose
        training rows lack a class is warned about: its members still have
        that class's output (untrained, rarely predicted), where
        ``GridSearchCV``'s fold model knows only the classes it saw, so its
        scores can differ from ``GridSearchCV``'s.
      seeds: training seeds per candidate and fold (splits ``fold * len(seeds)
        + seed``); default: the estimator's ``random_state`` (0 if ``None``).
      random_state: seeds the sampling of candidates (random, Bayesian).
      batch_size: candidates per Bayesian (or Optuna) round (each round is one
        sweep); not the minibatch size, which is the estimator's ``batch_size``
        (a searchable parameter like any other).
      n_initial: candidates before the Gaussian process takes over: the
        ``initial_points``, then random ones (default: one ``batch_size``).
      initial_points: candidates tried first, in order, before any sampled
        one (random, Bayesian, halving over distributions, Optuna's
        ``enqueue_trial``): known-good starting points, so that a search a
        time budget cuts short has trained them. Each a dict of searched
        values; a searched key it leaves out takes the estimator's value.
        ``n_iter`` counts them.
      factor, min_epochs: successive halving keeps the best ``1/factor`` each
        rung and multiplies the epochs by ``factor`` from ``min_epochs`` up to
        the estimator's ``epochs``.
      max_time: the search's time budget in seconds (``None``: no limit):
        after it no new round and no new chunk of members starts (the first
        candidate always finishes); grid, random, Bayesian and Optuna search
        (successive halving's rungs need every candidate's score: a
        ``ValueError``). Candidates cut
        off by it stay in ``cv_results_`` with ``status`` ``"unfinished"``
        and NaN scores, ranked last. The refit comes after the budget.
      study: an Optuna study to continue (``search="optuna"``; default: a new
        TPE study seeded with ``random_state``), kept as ``study_``. Trials
        without a score are told failed, their user attribute ``status``
        ``"diverged"`` or ``"unfinished"``; ``max_time``'s unfinished ones
        are enqueued again, so fitting again with ``study=search.study_``
        trains them first (and ``initial_points`` the study already holds
        are not enqueued twice).
      chunk_size, out_dir: passed to the member executor,
        :func:`jaxlstm.sweep.execute` (``out_dir``: grid, random, Bayesian
        and Optuna search; halving's continued members are not stored).
      verbose: progress bars, and a line on stderr as each refit starts.
      n_jobs: accepted for ``GridSearchCV`` compatibility and ignored: the
        candidates and folds of a static group already train in parallel as
        one vmapped program (sharded over every device), so there are no jobs
        to spread.
      post_hoc_offsets: after the refit, fit per-class decision offsets on
        the best candidate's out-of-fold probabilities that maximise the
        ranking metric (a metric of predicted labels, e.g. balanced accuracy)
        and give them to ``best_estimator_`` (``logit_offsets_``): ``predict``
        applies them, ``predict_proba`` stays calibrated. ``True`` keeps them
        only if they also raise the metric cross-fitted (fitted on two thirds
        of the out-of-fold rows, scored on the third left; else zeros: on
        small data they often lose on new rows); ``"always"`` keeps them.
        ``oof_score_`` says the metric before, after and cross-fitted.
      ensemble_selection: ``None`` (default) refits the best candidate; an
        integer ``k >= 1`` refits a soft-voting ensemble of candidates, by
        default (``ensemble_rule="greedy"``) chosen by Caruana et al.'s
        ensemble selection (ICML 2004,
        :func:`jaxlstm.metrics.ensemble_selection`): from the best, ``k - 1``
        greedy picks with replacement, each the finished candidate whose
        out-of-fold probabilities, added to the average, raise the ranking
        metric most; the best step of that path is kept. Each candidate picked
        is refitted as the best one is (the estimator's ``n_ensemble`` seeds)
        and weighted by how often it was picked: ``best_estimator_`` is then an
        :class:`~jaxlstm.estimator.LSTMEnsemble` (still the best candidate alone
        when only it was picked), ``ensemble_`` says which candidates (indices
        into ``cv_results_``), their weights and the out-of-fold metric and
        log loss (the tie-break) of the best alone and of the ensemble, and ``post_hoc_offsets`` are fitted on
        the ensemble's out-of-fold probabilities.
      ensemble_rule: how ``ensemble_selection``'s ensemble is chosen:
        ``"greedy"`` (default, above) or ``"cawpe"``: the ``k`` finished
        candidates that rank best by CV (all of them if fewer), each weighted
        by its CV score (the ranking metric's ``mean_test_<metric>``, floored
        at 0) to the power :data:`CAWPE_ALPHA` = 4: CAWPE (Large, Lines and
        Bagnall, Data Min. Knowl. Disc. 2019), how HIVE-COTE 2 weighs its
        members. Chosen without a search over the out-of-fold rows, it leans
        less on them: where the archive's test split differs from its train
        split (DistalPhalanx*) it scored above the greedy ensemble
        (``benchmarks/RESULTS.md``). ``ensemble_["rule"]`` says which.
      fold_models: ``False`` (default) trains every candidate the refit
        needs again on all of ``X, y``. ``True`` builds it from the models the
        cross-validation trained instead: each candidate is the soft-voting
        ensemble (equal weights) of its folds' (and seeds') models, the very
        models its out-of-fold probabilities came from, so nothing trains
        after the search and ``max_time`` bounds the whole fit (k-fold
        bagging, as AutoGluon-Tabular's default, Erickson et al. 2020; each
        model saw ``(k - 1) / k`` of the rows). ``best_estimator_`` is then an
        :class:`~jaxlstm.estimator.LSTMEnsemble` of them (with
        ``ensemble_selection``: of every picked candidate's, weighted by its
        weight over its models). Candidates that differ only in ``epochs``
        then train their own members instead of sharing one run read at each.
        With ``out_dir`` the fold models are stored there too
        (``models/``), so a search resumed from it needs no refit either; a
        diverged candidate is trained again as with ``False`` (which warns).
        Every member's model stays in memory until the refit. Not with
        ``search="halving"``. On the UCR suite (``benchmarks/RESULTS.md``) the
        default search's ensemble scored 1.2 points less macro recall this way
        than refitted after the same search (less on 8 of 9 sets), in half the
        wall time.
      return_train_score: also score every member on its fold's training rows
        (``split<k>_train_<metric>``, ``mean_/std_train_<metric>``), from the
        probabilities the program returns (grid, random, Bayesian, Optuna).

    Attributes: ``cv_results_`` (scikit-learn's keys, plus ``status``),
    ``best_index_``, ``best_params_``, ``best_score_``, ``best_estimator_``,
    ``refit_time_`` (with ``ensemble_selection``: every refit), ``refitted_``
    (the candidates trained again after the search, in order: every one
    ``best_estimator_`` holds, or with ``fold_models`` only those without
    fold models), ``ensemble_``,
    ``scorer_``, ``multimetric_``, ``n_splits_``, ``classes_``, ``n_features_in_``; ``rounds_`` for Bayesian and halving search;
    halving also ``n_candidates_``, ``n_resources_`` (epochs) per rung,
    ``n_iterations_``, ``min_resources_``, ``max_resources_``,
    ``n_remaining_candidates_`` (``HalvingGridSearchCV``'s names);
    ``oof_proba_``: ``Float[candidates, n, C]``, each candidate's (row of
    ``cv_results_``) out-of-fold probabilities of ``classes_``: each row's
    from the fold that held it out, averaged over the seeds (NaN for a row
    no fold held out, or a candidate that did not finish; a diverged
    member's rows as it gave them), what ``ensemble_selection`` and
    ``post_hoc_offsets`` fit on (:meth:`refit_candidate` trains one);
    ``compile_time_`` and ``train_time_``: seconds the search's executor
    calls spent compiling and training; ``members_``: every trained
    (candidate, fold, seed) member of this fit with its ``params``,
    ``status`` and per-epoch ``history`` (``val_<metric>`` for the ranking
    metric when it is one of :data:`jaxlstm.metrics.SCORERS`; halving: one
    entry per rung, with that rung's epochs, after ``offset`` epochs of the
    rungs before).
    """

    def __init__(self, estimator=None, param_grid=None, param_distributions=None, *, search=None,
                 n_iter=10, scoring=None, refit=True, cv=5, seeds=None, random_state=None,
                 batch_size=8, n_initial=None, factor=3, min_epochs=None, study=None, max_time=None,
                 chunk_size=None, out_dir=None, verbose=0, n_jobs=None, return_train_score=False,
                 post_hoc_offsets=False, initial_points=None, ensemble_selection=None, ensemble_rule="greedy",
                 fold_models=False):
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
        self.post_hoc_offsets = post_hoc_offsets
        self.initial_points = initial_points
        self.ensemble_selection = ensemble_selection
        self.ensemble_rule = ensemble_rule
        self.fold_models = fold_models

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
            raise ValueError(f"search={mode!r} needs {allowed[mode]}" + (
                "= (LSTMSearchCV's second positional argument is param_grid, as GridSearchCV's; "
                "RandomizedSearchCV's is param_distributions)" if allowed[mode] == "param_distributions" else ""))
        return mode

    def _check_settings(self, mode: str, searched: set, base) -> None:
        """:func:`check_search_settings` with this estimator's parameters, named as in Python (``searched``: the
        space's keys; ``base``: the estimator)."""
        units, sizes = base.units, base.hidden_sizes
        sizes_set = len(np.atleast_1d(sizes)) != 1  # not one layer (stacked, or none): units would drop a structure
        metric = self._ranking_metric()
        settings = dict(strategy=mode, max_time=self.max_time is not None, fold_models=self.fold_models,
                        ensemble_rule=self.ensemble_rule, ensemble_selection=self.ensemble_selection, metric=metric,
                        post_hoc_offsets=self.post_hoc_offsets, return_train_score=self.return_train_score,
                        initial_points=len(self.initial_points or ()), n_iter=self.n_iter,
                        grid=self.param_grid is not None,
                        hidden_sizes="searched" if "hidden_sizes" in searched else "set" if sizes_set else False,
                        units="searched" if "units" in searched else "set" if units is not None else False)
        names = {k: k for k in settings} | {"metric": "the ranking metric", "strategy": "search",
                                            "initial_points_count": str(settings["initial_points"])}
        written = {k: f"{k}={getattr(self, k)!r}" for k in ("max_time", "fold_models", "ensemble_rule",
                                                            "post_hoc_offsets", "return_train_score", "n_iter")}
        written |= {"strategy": f"search={mode!r}", "grid": "a param_grid",
                    "units": "units is searched" if "units" in searched else f"units is set (units={units!r})",
                    "hidden_sizes": "hidden_sizes is searched" if "hidden_sizes" in searched else
                    f"hidden_sizes is set (hidden_sizes={sizes!r})",
                    "metric": f"{metric!r} (scoring={self.scoring!r}, refit={self.refit!r})"}
        check_search_settings(settings, names, written)

    def fit(self, X, y, sample_weight=None, groups=None):
        """Run the search; then refit the best candidate on all of ``X, y``.
        ``sample_weight`` (one number >= 0 per sequence) weighs the rows'
        training losses in every fold and the refit (see
        :meth:`LSTMClassifier.fit`) and the held-out scores of every scorer
        that takes it, as scikit-learn's ``GridSearchCV.fit(X, y,
        sample_weight=...)`` does; ``ensemble_selection`` and
        ``post_hoc_offsets`` fit on the weighted out-of-fold scores too.
        ``groups`` (one label per sequence: its user, session, patient) go to
        ``cv``'s ``split``, as ``GridSearchCV.fit(X, y, groups=...)``'s, for a
        group splitter (``cv=GroupKFold(3)``): no group in two folds' test
        rows and training rows at once. Only the CV's folds are grouped (the
        decision offsets' cross-fitted check is stratified)."""
        mode = self._mode()
        for name in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, name)  # a previous fit's results (best_index_, ensemble_, offsets, ...) must not leak in
        for name in ("post_hoc_offsets", "ensemble_selection", "ensemble_rule", "fold_models", "n_iter", "batch_size",
                     "n_initial", "factor", "min_epochs", "max_time", "verbose", "return_train_score", "refit",
                     "n_jobs"):
            check_param(name, getattr(self, name))
        unused = [(f"{k}={getattr(self, k)!r}", "a setting of the refit, and refit=False") for k in
                  ("post_hoc_offsets", "fold_models") if not self.refit and getattr(self, k) is not False]
        if self.study is not None and mode != "optuna":
            unused.append(("study", f"continued by search='optuna' only, and this search is {mode!r}"))
        for setting, why in unused:  # nothing the user wrote dropped silently
            warnings.warn(f"{setting} is ignored: {why}", InactiveParameterWarning, stacklevel=2)
        if isinstance(self.cv, numbers.Number):  # else a splitter or (train, test) pairs: scikit-learn's check_cv
            check_param("cv", self.cv)
        if self.ensemble_selection is not None and (not self.refit or self._ranking_metric() not in SCORERS):
            raise ValueError("ensemble_selection picks candidates by the ranking metric on their out-of-fold "
                             f"probabilities: it needs refit and a metric name from jaxlstm.metrics.SCORERS; got "
                             f"scoring={self.scoring!r}, refit={self.refit!r}")
        base = LSTMClassifier() if self.estimator is None else self.estimator
        if not isinstance(base, LSTMClassifier):
            raise ValueError(f"estimator must be an LSTMClassifier, got {type(base).__name__}")
        space = self.param_grid if self.param_grid is not None else self.param_distributions
        searched = {k for d in (space if isinstance(space, (list, tuple)) else [space]) if isinstance(d, Mapping)
                    for k in d}
        # the base estimator's values no candidate replaces, named as its (were "configs[0]: ..." after training)
        check_params({k: v for k, v in base.get_params(deep=False).items() if k not in searched}, where="estimator.")
        if "n_ensemble" in searched:  # every candidate would score the same: members are single models
            raise ValueError("n_ensemble cannot be searched: candidates are scored as single models (each fold's "
                             "member is one network); set n_ensemble on the estimator for the refitted model")
        grids = [d for d in (space if isinstance(space, (list, tuple)) else [space]) if isinstance(d, Mapping)]
        for d in grids or [{}]:  # per grid: a list of grids may search hidden_sizes in one, units in another
            self._check_settings(mode, set(d), base)
        if self.param_grid is not None:
            for d in (space if isinstance(space, (list, tuple)) else [space]):
                for k, v in (d.items() if isinstance(d, Mapping) else ()):
                    if hasattr(v, "rvs") or type(v).__module__.split(".")[0] == "optuna":
                        raise ValueError(f"param_grid[{k!r}] is a distribution ({type(v).__name__}), which a grid "
                                         "cannot list: pass it as param_distributions= (LSTMSearchCV's second "
                                         "positional argument is param_grid, as GridSearchCV's; RandomizedSearchCV's "
                                         "is param_distributions)")
        if mode == "optuna" and not isinstance(self.param_distributions, Mapping):
            raise ValueError(f"search='optuna' needs param_distributions as one dict (a study has one space), got a "
                             f"{type(self.param_distributions).__name__}")
        if self.out_dir is not None and not isinstance(self.out_dir, (str, os.PathLike)):
            raise ValueError(f"out_dir must be a folder path (str or os.PathLike) or None, got {self.out_dir!r}")
        _check_space_values(space, exact_low=mode == "bayes",
                            name="param_grid" if self.param_grid is not None else "param_distributions")
        scorers, multi = _scorers(self.scoring, self.refit)
        ctx = self._context(X, y, base, scorers, sample_weight, groups)
        ctx["initial"] = self._initial_points(base, mode)
        ctx["parts"] = _possible_parts(base, space, ctx["initial"])
        if self.max_time is not None:
            ctx["deadline"] = time.monotonic() + float(self.max_time)
        self.compile_time_ = self.train_time_ = 0.0
        self.members_, table = [], []

        def evaluate_candidates(candidates, **kwargs):
            rows = self._evaluate(ctx, list(candidates), **kwargs)
            table.extend(rows)
            return rows

        self._run_search(evaluate_candidates, mode, ctx)
        self.n_splits_ = len(ctx["folds"]) * len(ctx["seeds"])
        self.cv_results_ = cv_results(table, scorers, self.n_splits_, bool(self.return_train_score))
        self.multimetric_ = multi
        self.scorer_ = scorers if multi else scorers["score"]
        self.classes_ = ctx["classes"]
        self.n_features_in_ = ctx["n_features_in"]
        self.oof_proba_ = np.stack([np.asarray(r["oof_probs"], np.float64) for r in table])
        self._refit_ctx = {"base": base, "seeds": ctx["seeds"], "parts": ctx["parts"]}
        self._select_best(ctx["key"], multi)
        if self.refit:
            t0 = time.perf_counter()
            self.refitted_ = []
            try:
                self.best_estimator_ = self._candidate_model(table, self.best_index_, ", the best", ctx, X, y)
                oof = table[self.best_index_]["oof_probs"]
                if self.ensemble_selection is not None:
                    oof = self._select_ensemble(table, ctx, X, y)
            except KeyboardInterrupt:  # the refit's own run keeps nothing; the CV's members are what a rerun resumes
                kept = self.out_dir is not None and mode != "halving"
                trained = sum(r["status"] != "unfinished" for r in table) * self.n_splits_
                raise SweepInterrupted(trained if kept else 0, len(table) * self.n_splits_,
                                       members_path(self.out_dir) if kept else None, "the refit") from None
            self.refit_time_ = time.perf_counter() - t0
            if self.post_hoc_offsets:
                self._fit_offsets(oof, ctx)
        return self

    def refit_candidate(self, index, X, y, sample_weight=None) -> LSTMClassifier:
        """Candidate ``index`` (a row of ``cv_results_``) trained on ``X, y``
        as the search's refit trains its best one: the same estimator, seed
        and compiled program (``refit_candidate(best_index_, X, y)`` with
        the data and ``sample_weight`` of ``fit`` is ``best_estimator_``
        before any ensemble and decision offsets). With ``oof_proba_`` it
        is what a blend of one's own needs: ``ensemble_selection`` refits
        its members so.

        Raises:
          ValueError: naming ``index`` when it is not a row of
            ``cv_results_``.
        """
        check_is_fitted(self, "cv_results_")
        n = len(self.cv_results_["params"])
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral) or not 0 <= index < n:
            raise ValueError(f"index must be a candidate's row of cv_results_, an integer in [0, {n}), got {index!r}")
        ctx = dict(self._refit_ctx, score_weight=sample_weight)  # checked by LSTMClassifier.fit, naming it
        return self._refit_one(ctx["base"], self.cv_results_["params"][int(index)], ctx, X, y)

    def _say(self, line: str) -> None:
        """With ``verbose``, a line on stderr: what the search starts that no progress bar shows (a refit takes
        minutes on long series, after the bars are done); process 0's only, as the bars are."""
        if self.verbose and jax.process_index() == 0:
            print(line, file=sys.stderr, flush=True)

    def _candidate_model(self, table, index, what, ctx, X, y) -> LSTMClassifier | LSTMEnsemble:
        """Candidate ``index`` for ``best_estimator_``: with ``fold_models``,
        the ensemble of its fold models when this fit trained them all, else
        trained again on all of ``X, y`` (:meth:`_refit_one`)."""
        params, folds = self.cv_results_["params"][index], table[index].get("fold_models")
        if not (self.fold_models and folds):
            self.refitted_.append(int(index))
            self._say(f"refit: candidate {index}{what}" + (f", on all {len(y)} training rows" if index ==
                                                             self.best_index_ else ""))
            return self._refit_one(ctx["base"], params, ctx, X, y)
        self._say(f"refit: candidate {index}{what}: its {len(folds)} fold models (nothing trains)")
        models = []
        with warnings.catch_warnings():  # a ridge candidate from a joint space lists the network's keys too
            warnings.simplefilter("ignore", InactiveParameterWarning)
            for m in folds:
                est = clone(ctx["base"]).set_params(**{"random_state": m["seed"], **params})
                models.append(est.fit_from_member(X, y, m, ctx["folds"][m["fold"]][0]))
        return LSTMEnsemble.from_fitted(models)

    @staticmethod
    def _refit_one(base, params, ctx, X, y) -> LSTMClassifier:
        """A candidate trained on all of ``X, y`` (with the search's first seed unless it sets one)."""
        est = clone(base).set_params(**params)
        if "random_state" not in params:
            est.set_params(random_state=ctx["seeds"][0])
        with warnings.catch_warnings():  # a ridge candidate from a joint space lists the network's keys too
            warnings.simplefilter("ignore", InactiveParameterWarning)
            # refits of one static group share a program
            return est.fit(X, y, ctx["score_weight"], program_parts=ctx["parts"])

    def _select_ensemble(self, table, ctx, X, y) -> np.ndarray:
        """Ensemble selection over the finished candidates' out-of-fold
        probabilities from the best (see ``ensemble_selection``); refits the
        candidates picked besides the best into ``best_estimator_``, sets
        ``ensemble_`` and returns the ensemble's out-of-fold probabilities."""
        key, n_classes, best = self._ranking_metric(), len(ctx["classes"]), self.best_index_
        rule = self.ensemble_rule
        covered = np.isfinite(table[best]["oof_probs"]).all(1)
        where = _oof_where(covered, ctx["score_weight"])
        last = self.cv_results_["iter"] == self.cv_results_["iter"].max() if "iter" in self.cv_results_ else \
            np.ones(len(table), bool)  # halving: the last rung's, trained the epochs a refit trains
        pool = [i for i, r in enumerate(table)
                if last[i] and r["status"] == "ok" and np.isfinite(r["oof_probs"][covered]).all()]
        if best not in pool:  # the best diverged or has no held-out rows: nothing to blend it with
            self.ensemble_ = {"indices": [best], "weights": [1], "oof_score": {}, "rule": rule}
            return table[best]["oof_probs"]
        probs = np.stack([np.where(covered[:, None], table[i]["oof_probs"], 1.0 / n_classes) for i in pool])
        if rule == "cawpe":  # the best k finished candidates by CV, weighted by CV score ** 4
            cv = self.cv_results_[f"mean_test_{ctx['key']}"][pool].astype(np.float64)
            counts = np.maximum(cv, 0.0) ** CAWPE_ALPHA
            if counts[pool.index(best)] <= 0:  # a best of score <= 0 (e.g. MCC): nothing to weigh by
                counts = (np.asarray(pool) == best).astype(np.float64)
            ranked = np.argsort(-cv, kind="stable")
            picked = [pool.index(best)] + [j for j in ranked if pool[j] != best and counts[j] > 0]
            picked = picked[:int(self.ensemble_selection)]
        else:
            counts = np.asarray(_ensemble_selection_jit(ctx["y"], probs.astype(np.float32), n_classes, key,
                                                        int(self.ensemble_selection), pool.index(best), where=where))
            picked = [pool.index(best)] + [j for j in np.flatnonzero(counts) if pool[j] != best]
        blend = np.tensordot(counts[picked] / counts[picked].sum(), probs[picked], axes=1)
        score = SCORERS[key].fn
        self.ensemble_ = {"indices": [pool[j] for j in picked], "weights": counts[picked].tolist(),
                          "rule": rule,
                          "oof_score": {"best": float(score(ctx["y"], probs[picked[0]], n_classes, where)),
                                        "ensemble": float(score(ctx["y"], blend, n_classes, where)),
                                        # the tie-break between equal scores (metrics.ensemble_selection)
                                        "best_log_loss": float(log_loss(ctx["y"], probs[picked[0]], where=where)),
                                        "ensemble_log_loss": float(log_loss(ctx["y"], blend, where=where))}}
        if len(picked) > 1:
            models = [self.best_estimator_] + [
                self._candidate_model(table, pool[j], f" for the ensemble ({n} of {len(picked)})", ctx, X, y)
                for n, j in enumerate(picked[1:], 2)]
            estimators, weights = [], []  # a fold-model ensemble's models join the blend, sharing its weight
            for model, w in zip(models, counts[picked]):
                inner = model.estimators_ if isinstance(model, LSTMEnsemble) else [model]
                inner_w = model.weights_ if isinstance(model, LSTMEnsemble) else [1.0]
                estimators.extend(inner)
                weights.extend(float(w) * float(v) for v in inner_w)
            self.best_estimator_ = LSTMEnsemble.from_fitted(estimators, weights)
        return np.where(covered[:, None], blend, np.nan)

    def _ranking_metric(self) -> str | None:
        """The scoring name that ranks candidates (``None`` for a callable)."""
        sc, refit = self.scoring, self.refit
        if sc is None:
            return "accuracy"
        if isinstance(sc, str):
            return sc
        if isinstance(refit, str):
            named = sc.get(refit) if isinstance(sc, dict) else refit
            return named if isinstance(named, str) else None
        return None

    def _fit_offsets(self, oof: np.ndarray, ctx) -> None:
        """``logit_offsets_`` (also set on ``best_estimator_``, whose
        ``predict`` applies them) and ``oof_score_``: :func:`fit_decision_offsets`
        for the ranking metric on the best candidate's (or the ensemble's)
        out-of-fold probabilities, kept as ``post_hoc_offsets`` says."""
        keep = "always" if self.post_hoc_offsets == "always" else "cross_fitted"
        offsets, self.oof_score_ = fit_decision_offsets(ctx["y"], oof, self._ranking_metric(), keep=keep,
                                                        sample_weight=ctx["score_weight"])
        self.logit_offsets_ = self.best_estimator_.logit_offsets_ = offsets

    def _initial_points(self, base, mode) -> list[dict]:
        """``initial_points`` with every searched key: those a point leaves
        out take ``base``'s value. Raises ``ValueError`` naming a point that
        is not a dict or a key not searched (more points than ``n_iter``: :data:`SEARCH_CONFLICTS`)."""
        points = list(self.initial_points or ())
        space = self.param_distributions if self.param_distributions is not None else {}
        out, defaults = [], base.get_params(deep=False)
        if points and not isinstance(space, Mapping):
            raise ValueError(f"initial_points needs param_distributions as one dict of searched keys, got a "
                             f"{type(space).__name__} of {len(space)}: a point belongs to one space")
        unknown = sorted(set(space) - set(defaults)) if points else []
        if unknown:
            raise ValueError(f"param_distributions: {unknown} not parameters of {type(base).__name__}; see "
                             "get_params()")
        for i, p in enumerate(points):
            if not isinstance(p, Mapping):
                raise ValueError(f"initial_points[{i}] must be a dict of searched values, got {p!r}")
            unknown = sorted(set(p) - set(space))
            if unknown:
                raise ValueError(f"initial_points[{i}]: {unknown} not in param_distributions {sorted(space)}")
            for k, v in p.items():  # the value's rule, named by the point (was "configs[0]: ..." after a round)
                check_param(k, v.item() if isinstance(v, np.generic) else v, where=f"initial_points[{i}]: ")
            out.append({k: p[k] if k in p else defaults[k] for k in space})
        if mode == "bayes" and out:  # values the Gaussian process can place: choices, numbers within bounds
            try:
                bayes.check_points(bayes.parse_space(space), out, "initial_points")
            except ValueError as e:
                hint = " (a searched key a point leaves out takes the estimator value)"
                raise ValueError(f"{e}{hint if any(set(space) - set(p) for p in points) else ''}") from None
        return out

    def _run_search(self, evaluate, mode, ctx) -> None:
        """Every strategy has one shape, as scikit-learn's
        ``BaseSearchCV._run_search(evaluate_candidates)``: it asks for
        candidates, ``evaluate`` trains them (one executor call) and returns
        their table rows, and the strategy is told their scores."""
        if mode == "bayes":
            n = len(bayes.bayes_search(lambda c: mean_scores(evaluate(c), ctx["key"]), self.param_distributions,
                                       n_iter=self.n_iter, batch_size=self.batch_size, n_initial=self.n_initial,
                                       initial=ctx["initial"], random_state=self.random_state,
                                       stop=None if ctx["deadline"] is None else
                                       lambda: past_deadline(ctx["deadline"]))[0])
            self.rounds_ = -(-n // max(1, self.batch_size))
        elif mode == "optuna":
            self.rounds_ = self._optuna(evaluate, ctx["key"], ctx["deadline"], ctx["initial"])
        else:
            initial = ctx["initial"]
            candidates = initial + list(ParameterGrid(self.param_grid) if self.param_grid is not None else
                                        ParameterSampler(self.param_distributions, self.n_iter - len(initial),
                                                         random_state=self.random_state))
            if mode != "halving":
                evaluate(candidates)
            else:
                rungs = halving.successive_halving(evaluate, candidates, max_epochs=int(ctx["base"].epochs),
                                                   factor=int(self.factor), min_epochs=self.min_epochs, key=ctx["key"])
                self.rounds_ = self.n_iterations_ = len(rungs)  # and HalvingGridSearchCV's names, epochs the resource
                self.n_candidates_, self.n_resources_ = [n for n, _ in rungs], [e for _, e in rungs]
                self.min_resources_, self.max_resources_ = rungs[0][1], int(ctx["base"].epochs)
                self.n_remaining_candidates_ = -(-rungs[-1][0] // int(self.factor))

    def _context(self, X, y, base, scorers, sample_weight=None, groups=None) -> dict:
        """The data, classes, folds, seeds, scorers and sample weights (the
        program's float32 ``w``; ``score_weight`` in float64 for the refits
        and the scorers named in ``weighted``) every evaluation uses."""
        x, lengths, ndim = to_sequences(frames_by_name(X)[0])  # DataFrames by column name, as the refit reads them
        classes, yi = encode_labels(y, len(x))
        if base.normalize == "standard":  # before any candidate trains on a feature scaled to zeros
            check_standardisable(x, lengths, "X")
        if groups is not None and np.shape(groups) != (len(yi),):
            raise ValueError(f"groups must hold one label per sequence ({len(yi)}), got shape {np.shape(groups)}")
        try:
            folds = check_cv(self.cv, yi, classifier=True).split(np.zeros((len(yi), 1)), yi, groups)
            folds = check_folds(folds, len(yi))
        except ValueError as e:
            if groups is None and "groups" in str(e):  # scikit-learn: "The 'groups' parameter should not be None."
                raise ValueError(f"cv: {e} {type(self.cv).__name__} splits by group: pass fit(X, y, groups=...), "
                                 "one label per sequence") from None
            raise
        absent = absent_classes(folds, yi, len(classes))
        if absent:
            said = "; ".join(f"fold {k}: {', '.join(repr(c) for c in classes[m].tolist())}" for k, m in absent.items())
            warnings.warn(f"cv: the training rows of {len(absent)} fold(s) have no sequence of a class ({said}). "
                          "The search's members still have an output for every class (untrained for the missing "
                          "one, so rarely predicted); GridSearchCV's fold model would know only the classes it saw, "
                          "so these folds' scores can differ from GridSearchCV's", UserWarning, stacklevel=3)
        seeds = self.seeds
        if seeds is None:
            rs = base.random_state
            seeds = (int(rs) if isinstance(rs, numbers.Integral) else 0,)
        seeds = check_seeds(np.atleast_1d(seeds))
        # a single metric is "score" whatever refit names (GridSearchCV's rule; multi-metric refit names are checked)
        key = self.refit if isinstance(self.refit, str) and self.refit in scorers else next(iter(scorers))
        w = check_sample_weight(sample_weight, len(yi), folds=folds)
        score_weight, weighted = None, frozenset()
        if w is not None:  # held-out scores weighted as GridSearchCV weighs them (float64, as given)
            score_weight = np.broadcast_to(np.asarray(sample_weight, np.float64), (len(yi),))
            weighted = frozenset(name for name, scorer in scorers.items() if accepts_sample_weight(scorer))
            for name in scorers.keys() - weighted:
                warnings.warn(f"the scoring {name}={scorers[name]} does not take sample_weight: its held-out scores "
                              "are unweighted while training is weighted", UserWarning, stacklevel=3)
            if weighted:
                for k, (_, te) in enumerate(folds):  # found now, not by the scorer after every member trained
                    if not np.any(score_weight[te] > 0):
                        raise ValueError(f"sample_weight is zero on every held-out row of fold {k}: its weighted "
                                         "scores would be undefined")
        return dict(x=x, lengths=lengths, y=yi, w=w, score_weight=score_weight, weighted=weighted,
                    classes=classes, folds=folds, seeds=seeds, base=base,
                    scorers=scorers, key=key, n_features_in=x.shape[1] if ndim == 2 else x.shape[-1],
                    deadline=None, finished=0)

    def _select_best(self, key, multi) -> None:
        """``best_index_``, ``best_params_`` and ``best_score_`` by scikit-learn's rules."""
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

    def _configs(self, ctx, candidates) -> list[dict]:
        out = []
        for cand in candidates:
            if "random_state" in cand:
                raise ValueError("random_state cannot be searched over; pass seeds=[...] to average "
                                 "over training seeds")
            est = clone(ctx["base"]).set_params(**cand)  # scikit-learn's error for unknown names
            out.append(estimator_to_config(est, ctx["classes"]))
        return out

    def _record(self) -> tuple[str, ...]:
        """Learning curves per epoch of the ranking metric where the program can compute it."""
        sc = self.scoring
        names = [sc] if isinstance(sc, str) else list(sc.values()) if isinstance(sc, dict) else \
            list(sc) if isinstance(sc, (list, tuple)) else []
        return tuple(dict.fromkeys(["accuracy"] + [k for k in names if isinstance(k, str) and k in SCORERS]))

    def _evaluate(self, ctx, candidates, epochs=None, start=None, offset=0, extra=None) -> list[dict]:
        """Train ``candidates`` in one executor call and score every member's
        held-out probabilities with scikit-learn's scorers: one table row per
        candidate. With ``epochs`` (successive halving) every candidate trains
        that many epochs more, from ``start`` (per candidate, its splits'
        states after ``offset`` epochs), and its row keeps the new ``states``."""
        configs = [normalise(c) for c in expand_space(configs=self._configs(ctx, candidates))]
        if epochs is not None:
            configs = [{**c, "epochs": int(epochs)} for c in configs]
        keep = self.fold_models and epochs is None  # each candidate's own models: no run shared across epochs
        members, index = plan_members(configs, len(ctx["folds"]), ctx["seeds"], start, offset, share_epochs=not keep)
        deadline = ctx["deadline"] if epochs is None else None
        run = execute(ctx["x"], ctx["lengths"], ctx["y"], ctx["folds"], members, num_classes=len(ctx["classes"]),
                      record=self._record(), keep_val_probs=True, keep_train_probs=bool(self.return_train_score),
                      keep_state=epochs is not None, chunk_size=self.chunk_size,
                      keep_model="last" if keep else False,
                      out_dir=None if epochs is not None else self.out_dir, progress=bool(self.verbose),
                      deadline=deadline, until_done=index[0] if deadline is not None and not ctx["finished"] else (),
                      parts=ctx["parts"], sample_weight=ctx["w"])
        self.compile_time_ += run.compile_s
        self.train_time_ += run.run_s
        split_rows = [[run.rows[i] for i in idx] for idx in index]
        ctx["finished"] += sum(all(m is not None for m in ms) for ms in split_rows)
        self.members_.extend({"params": cand, "fold": m["fold"], "seed": m["seed"],
                              "status": status_at(m, c["epochs"]), "history": m["history"], "hash": m["hash"],
                              "offset": offset}
                             for cand, c, ms in zip(candidates, configs, split_rows) for m in ms if m is not None)
        table = _score_members(ctx, candidates, [c["epochs"] for c in configs], offset, split_rows,
                               [extra] * len(candidates) if extra else None)
        for row, ms in zip(table, split_rows) if epochs is not None else ():
            row["states"] = [m["state"] for m in ms]
        for row, ms in zip(table, split_rows) if keep else ():
            # resumed members have theirs from out_dir's models/; a diverged candidate is refitted, which warns
            if row["status"] == "ok" and all(m is not None and "model" in m for m in ms):
                row["fold_models"] = ms
        return table

    def _optuna(self, evaluate, key, deadline, initial=()) -> int:
        """Ask Optuna for ``batch_size`` trials (the ``initial`` points
        enqueued first), train them in one executor call, tell it the mean CV
        scores (failed trials, user attribute ``status``, for diverged
        candidates and for those ``max_time`` cut off, which are enqueued
        again); returns the number of rounds."""
        try:
            import optuna
        except ImportError:
            raise ImportError("search='optuna' needs Optuna: pip install optuna (or pip install -e \".[optuna]\" in a jaxlstm checkout)") from None
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
        for point in initial:  # a continued study may hold them already (done, or cut and waiting)
            study.enqueue_trial(point, skip_if_exists=self.study is not None)
        told, rounds = 0, 0
        while told < self.n_iter and not (told and deadline is not None and past_deadline(deadline)):
            trials = [study.ask(dists) for _ in range(min(self.batch_size, self.n_iter - told))]
            rows = evaluate([dict(t.params) for t in trials])
            for t, row, v in zip(trials, rows, mean_scores(rows, key), strict=True):
                if np.isfinite(v):
                    study.tell(t, float(v))
                    continue
                # not a score: diverged, or never trained (cut by max_time). Either way a
                # failed trial for the sampler; the reason in its user attribute "status",
                # and a cut one enqueued again, so that continuing study_ trains it first
                if row["status"] != "ok":  # else a scorer's NaN
                    t.set_user_attr("status", row["status"])
                study.tell(t, state=optuna.trial.TrialState.FAIL)
                if row["status"] == "unfinished":
                    study.enqueue_trial(dict(t.params), skip_if_exists=False)
            told, rounds = told + len(trials), rounds + 1
        self.study_ = study
        return rounds

    # -- delegation ----------------------------------------------------------------
    def _refits(self) -> bool:
        """``available_if``'s check: with ``refit=False`` there is no model to
        predict with, so ``hasattr(search, "predict")`` is False, as for
        ``GridSearchCV`` (scikit-learn's tools ask before calling)."""
        if not self.refit:
            raise AttributeError(f"{type(self).__name__} was made with refit=False, so it holds no refitted model "
                                 "to predict with: set refit, or refit a candidate with refit_candidate")
        return True

    @available_if(_refits)
    def predict(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_refits)
    def predict_proba(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y):
        """The refit scorer on the best estimator (its accuracy when scoring is ``None``)."""
        check_is_fitted(self, "best_estimator_")
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        # one-hot rows (fitted on them or not) scored as labels, as the candidates were
        return scorer(labels_view(self.best_estimator_), X, None if y is None else labels_of(y))


def fit_decision_offsets(y, oof_probs, metric: str = "balanced_accuracy", *, keep: str = "cross_fitted",
                         sample_weight=None) -> tuple[np.ndarray, dict]:
    """Per-class decision offsets that maximise ``metric`` on out-of-fold
    probabilities (:func:`jaxlstm.metrics.fit_logit_offsets`), as
    ``LSTMSearchCV(post_hoc_offsets=True)`` fits them for its best model or
    ensemble; give them to a model as ``logit_offsets_``, or to
    :func:`jaxlstm.metrics.offset_decisions` with its probabilities.

    With ``keep="cross_fitted"`` they are kept only if they also win
    cross-fitted -- each third of the rows (stratified, shuffled with seed 0)
    decided by offsets fitted on the other two thirds, against no offsets --
    else they are zeros; ``keep="always"`` keeps them.

    Args:
      y: ``Int[n]`` class indices in ``[0, C)``.
      oof_probs: ``Float[n, C]`` out-of-fold probabilities; a row with a NaN
        (one the cross-validation did not score) is left out.
      metric: a metric of predicted labels (:data:`jaxlstm.metrics.LABEL_SCORERS`).
      keep: ``"cross_fitted"`` or ``"always"``.
      sample_weight: ``Float[n]`` weights of the metric's rows, or ``None``.
    Returns:
      ``(offsets, scores)``: ``Float[C]`` offsets (zeros when not kept) and
      the metric on the scored rows without offsets (``"before"``), with the
      offsets fitted on all of them (``"after"``, in-sample, optimistic),
      cross-fitted (``"cross_fitted"``, NaN with fewer than 6 rows), and
      ``"kept"``.
    Raises:
      ValueError: naming ``y``, ``oof_probs``, ``metric``, ``keep`` or
        ``sample_weight``.
    """
    probs = np.asarray(oof_probs, np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"oof_probs must be a (rows, classes) array with at least 2 classes, got shape {probs.shape}")
    n, n_classes = probs.shape
    labels = np.asarray(y)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or (len(labels) and (
            labels.min() < 0 or labels.max() >= n_classes)):
        raise ValueError(f"y must be {n} class indices in [0, {n_classes}) (one per row of oof_probs), got "
                         f"{labels.dtype} of shape {labels.shape}")
    if metric not in LABEL_SCORERS:
        raise ValueError(f"metric must be a metric of predicted labels, one of {list(LABEL_SCORERS)}; got {metric!r}")
    if keep not in ("cross_fitted", "always"):
        raise ValueError(f"keep must be 'cross_fitted' or 'always', got {keep!r}")
    covered = np.isfinite(probs).all(1)
    if not covered.any():
        raise ValueError("oof_probs has no row without a NaN: there is nothing to fit offsets on")
    if sample_weight is not None:
        w = np.asarray(sample_weight, np.float64)
        if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"sample_weight must be {n} finite weights >= 0 (one per row of oof_probs), got shape "
                             f"{w.shape}")
    where = _oof_where(covered, sample_weight)
    probs = np.where(covered[:, None], probs, 1.0 / n_classes).astype(np.float32)
    offsets = np.asarray(_fit_offsets_jit(labels, probs, n_classes, metric, where=where))
    score = SCORERS[metric].fn
    onehot = np.eye(n_classes, dtype=np.float32)
    crossed = _cross_fitted_labels(labels, probs, n_classes, metric, covered, where)
    scores = {"before": float(score(labels, probs, n_classes, where)),
              "after": float(score(labels, onehot[np.asarray(offset_decisions(probs, offsets))], n_classes, where)),
              "cross_fitted": float("nan") if crossed is None else float(score(labels, onehot[crossed], n_classes,
                                                                                where))}
    scores["kept"] = bool(keep == "always" or scores["cross_fitted"] > scores["before"])
    return (offsets if scores["kept"] else np.zeros_like(offsets)), scores


# one compiled program per (classes, metric) for every offsets fit of a process: eager, its loop recompiles per call
_fit_offsets_jit = jax.jit(fit_logit_offsets, static_argnames=("num_classes", "metric", "grid", "rounds"))
_ensemble_selection_jit = jax.jit(ensemble_selection, static_argnames=("num_classes", "metric", "picks"))


def _oof_where(covered: np.ndarray, weight) -> np.ndarray:
    """The ``where`` of out-of-fold scores: the covered rows, weighted by
    ``weight`` (the fit's ``sample_weight``) if given (float32, as the metrics take it)."""
    if weight is None:
        return covered
    return np.where(covered, weight, 0.0).astype(np.float32)


def _cross_fitted_labels(y, probs, n_classes: int, key: str, covered, where, k: int = 3) -> np.ndarray | None:
    """Each covered row's label under offsets fitted (for ``key``) on the
    other covered rows (weighted as ``where``): ``k``
    stratified folds, shuffled with seed 0 -- what the offsets do on rows
    they were not fitted on. ``None`` when there are fewer than ``2 * k``
    covered rows."""
    from sklearn.model_selection import StratifiedKFold

    rows = np.flatnonzero(covered)
    if len(rows) < 2 * k:
        return None
    labels = probs.argmax(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes with fewer rows than folds
        for fit_rows, held in StratifiedKFold(k, shuffle=True, random_state=0).split(rows, y[rows]):
            fit = np.zeros_like(where)
            fit[rows[fit_rows]] = where[rows[fit_rows]]
            offsets = np.asarray(_fit_offsets_jit(y, probs, n_classes, key, where=fit))
            labels[rows[held]] = np.asarray(offset_decisions(probs[rows[held]], offsets))
    return labels



def _score_members(ctx, candidates, epochs, offset, split_rows, extra=None) -> list[dict]:
    """One row per candidate from its members (in split order), read after
    ``offset`` + its ``epochs`` epochs: see :func:`score_table`."""
    members, fit_time, status = [], [], []
    for ms, e in zip(split_rows, epochs, strict=True):
        if any(m is None for m in ms):  # the time budget ran out before all its members trained
            members.append([])
            fit_time.append([0.0] * len(ms))
            status.append("unfinished")
            continue
        at = str(offset + e)
        members.append([{"fold": m["fold"], "seed": m["seed"], "probs": m["val_probs"][at],
                         **({"train_probs": m["train_probs"][at]} if "train_probs" in m else {})} for m in ms])
        fit_time.append([m["fit_time"] * e / len(m["history"]["train_loss"]) for m in ms])
        status.append("ok" if all(status_at(m, e) == "ok" for m in ms) else "diverged")
    return score_table(ctx, candidates, members, status, fit_time, extra)
