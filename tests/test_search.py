"""LSTMSearchCV against scikit-learn's own searches over LSTMClassifier;
Bayesian batch search against random search; successive halving continues
survivors; the Optuna adapter."""

import re

import numpy as np
import pytest
from scipy.stats import loguniform, randint, uniform
from sklearn.base import clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import GridSearchCV, ParameterSampler, RandomizedSearchCV

from jaxlstm.bayes import bayes_search, parse_space
from jaxlstm.estimator import LSTMClassifier
from jaxlstm.halving import rung_schedule
from jaxlstm.search import LSTMSearchCV

rng = np.random.default_rng(0)
Y = rng.integers(0, 3, 90)
X = (rng.normal(size=(90, 6, 3)) + 0.6 * Y[:, None, None]).astype(np.float32)
BASE = LSTMClassifier(hidden_sizes=(8,), epochs=4, batch_size=16, random_state=0)


def _same(ref, ours, names):
    for name in names:
        for key in [k for k in ref.cv_results_ if k.endswith(f"_test_{name}")]:
            if key.startswith("rank"):
                np.testing.assert_array_equal(ours.cv_results_[key], ref.cv_results_[key], err_msg=key)
            else:
                np.testing.assert_allclose(ours.cv_results_[key], ref.cv_results_[key], atol=1e-4, err_msg=key)
    assert [p for p in ours.cv_results_["params"]] == [p for p in ref.cv_results_["params"]]
    for key in [k for k in ref.cv_results_ if k.startswith("param_")]:  # object dtype everywhere until 2026-12-05
        a, b = ours.cv_results_[key], ref.cv_results_[key]
        assert a.dtype == b.dtype, key
        np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b), err_msg=key)
        assert a.compressed().tolist() == b.compressed().tolist(), key
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_


def test_grid_matches_gridsearchcv_multimetric():
    grid = {"learning_rate": [1e-2, 3e-2], "dropout": [0.0, 0.3], "epochs": [2, 4],
            "class_weight": [None, "balanced"]}
    scoring = {"acc": "accuracy", "f1": make_scorer(f1_score, average="macro"), "nll": "neg_log_loss"}
    ref = GridSearchCV(BASE, grid, cv=3, scoring=scoring, refit="f1").fit(X, Y)
    ours = LSTMSearchCV(BASE, grid, cv=3, scoring=scoring, refit="f1").fit(X, Y)
    _same(ref, ours, scoring)
    assert ours.best_score_ == pytest.approx(ref.best_score_, abs=1e-4)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert ours.score(X, Y) == pytest.approx(ref.score(X, Y), abs=1e-6)
    assert set(ref.cv_results_) <= set(ours.cv_results_) and (ours.cv_results_["status"] == "ok").all()
    assert not any("_train_" in k for k in ours.cv_results_)  # return_train_score=False, as scikit-learn's default


def test_random_matches_randomizedsearchcv_single_metric():
    dist = {"learning_rate": loguniform(3e-3, 5e-2), "units": [4, 8]}
    ref = RandomizedSearchCV(BASE, dist, n_iter=4, cv=3, random_state=1).fit(X, Y)
    ours = LSTMSearchCV(BASE, param_distributions=dist, n_iter=4, cv=3, random_state=1).fit(X, Y)
    _same(ref, ours, ["score"])


def test_search_errors_are_named():
    with pytest.raises(ValueError, match="multi-metric"):
        LSTMSearchCV(BASE, {"dropout": [0.0]}, scoring=["accuracy", "f1_macro"]).fit(X, Y)
    with pytest.raises(ValueError, match="exactly one"):
        LSTMSearchCV(BASE).fit(X, Y)
    # a regression scorer would rank class indices read as numbers (r2 -1.02 on 3 random classes); a
    # samplewise one fails only after training: both named before anything trains
    with pytest.raises(ValueError, match="'r2' is a regression metric"):
        LSTMSearchCV(BASE, {"dropout": [0.0]}, scoring="r2").fit(X, Y)
    with pytest.raises(ValueError, match="'neg_mean_squared_error' is a regression metric"):
        LSTMSearchCV(BASE, {"dropout": [0.0]}, scoring=["accuracy", "neg_mean_squared_error"], refit="accuracy").fit(X, Y)
    with pytest.raises(ValueError, match="'f1_samples' averages over the labels of multilabel targets.*f1_macro"):
        LSTMSearchCV(BASE, {"dropout": [0.0]}, scoring="f1_samples").fit(X, Y)
    with pytest.raises(ValueError, match="Invalid parameter"):
        LSTMSearchCV(BASE, {"no_such": [1]}, cv=3).fit(X, Y)
    with pytest.raises(ValueError, match="validation_fraction"):
        LSTMSearchCV(BASE.set_params(validation_fraction=0.2), {"dropout": [0.0]}, cv=3).fit(X, Y)
    BASE.set_params(validation_fraction=None)
    with pytest.raises(ValueError, match="loguniform, uniform, randint"):
        parse_space({"lr": np.random.default_rng()})


def _objective(c):
    return (-(np.log10(c["learning_rate"]) + 2.5) ** 2 - 4 * (c["dropout"] - 0.3) ** 2
            - ((c["units"] - 96) / 100) ** 2 - (0.3 if c["cw"] == "none" else 0.0))


def test_bayesian_batches_beat_random_search_on_a_known_optimum():
    """Optimum 0 at lr 10**-2.5, dropout 0.3, 96 units, balanced weights;
    4 rounds of 8, averaged over seeds, against 32 random samples."""
    space = {"learning_rate": loguniform(1e-5, 1e-1), "dropout": uniform(0, 0.6), "units": randint(8, 257),
             "cw": ["none", "balanced"]}
    bayes, rand = [], []
    for seed in range(6):
        tried, scores = bayes_search(lambda b: np.array([_objective(c) for c in b]), space, n_iter=32,
                                     batch_size=8, random_state=seed)
        assert len(tried) == 32 and all(8 <= c["units"] <= 256 for c in tried)
        bayes.append(scores.max())
        rand.append(max(_objective(c) for c in ParameterSampler(space, 32, random_state=seed)))
    print(f"\nbest found, mean of 6 seeds: bayes {np.mean(bayes):.4f}, random {np.mean(rand):.4f}")
    assert np.mean(bayes) > np.mean(rand)


def test_bayes_search_cv_runs_rounds_as_sweeps():
    s = LSTMSearchCV(BASE, param_distributions={"learning_rate": loguniform(1e-3, 1e-1), "dropout": uniform(0, 0.5)},
                     search="bayes", n_iter=6, batch_size=3, cv=3, scoring="f1_macro", random_state=0).fit(X, Y)
    assert s.rounds_ == 2 and len(s.cv_results_["params"]) == 6
    assert s.best_score_ == pytest.approx(np.max(s.cv_results_["mean_test_score"]))


def test_rung_schedule():
    assert rung_schedule(9, 9, 3) == [(9, 1), (3, 3), (1, 9)]
    assert rung_schedule(10, 20, 3) == [(10, 1), (4, 3), (2, 9), (1, 20)]
    assert rung_schedule(5, 2, 2) == [(5, 1), (3, 2)]
    # a lone survivor before epochs is reached trains on to them: its score is the refitted model's
    assert rung_schedule(9, 30, 3, min_epochs=1) == [(9, 1), (3, 3), (1, 30)]
    assert rung_schedule(1, 20, 3, min_epochs=2) == [(1, 20)]


def test_halving_survivors_continue_from_their_state():
    base = BASE.set_params(epochs=4)
    grid = {"learning_rate": [3e-3, 3e-2], "dropout": [0.0, 0.3]}
    h = LSTMSearchCV(base, grid, search="halving", factor=2, cv=3, scoring="f1_macro", refit=False).fit(X, Y)
    r = h.cv_results_
    np.testing.assert_array_equal(np.bincount(r["iter"]), [4, 2, 1])
    np.testing.assert_array_equal(np.unique(r["n_resources"]), [1, 2, 4])
    last = int(np.flatnonzero(r["iter"] == 2)[0])
    assert h.best_index_ == last and h.rounds_ == 3
    # HalvingGridSearchCV's attributes (missing until 2026-12-07), matching cv_results_
    assert (h.n_candidates_, h.n_resources_, h.n_iterations_) == ([4, 2, 1], [1, 2, 4], 3)
    assert (h.min_resources_, h.max_resources_, h.n_remaining_candidates_) == (1, 4, 1)
    # each rung's members say where their epochs start (learning curves drew every rung from epoch 1 until 12-06)
    assert sorted({(m["offset"], len(m["history"]["train_loss"])) for m in h.members_}) == [(0, 1), (1, 1), (2, 2)]
    # The survivor's 4-epoch score (1 + 1 + 2 epochs, continued twice) equals training it straight through.
    alone = LSTMSearchCV(base, {k: [v] for k, v in r["params"][last].items()}, cv=3, scoring="f1_macro",
                         refit=False).fit(X, Y)
    for k in range(3):
        assert r[f"split{k}_test_score"][last] == pytest.approx(alone.cv_results_[f"split{k}_test_score"][0],
                                                                abs=1e-6)
    BASE.set_params(epochs=4)


def test_optuna_asks_batches_and_is_told_the_scores():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True),
             "units": optuna.distributions.IntDistribution(4, 8)}
    s = LSTMSearchCV(BASE, param_distributions=dists, search="optuna", n_iter=3, batch_size=2, cv=3,
                     random_state=0, refit=False).fit(X, Y)
    done = [t for t in s.study_.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 3 and s.rounds_ == 2  # a round of 2, then 1
    np.testing.assert_allclose([t.value for t in done], s.cv_results_["mean_test_score"])
    assert [t.params for t in done] == s.cv_results_["params"]


def test_n_jobs_accepted_and_train_scores_equal_gridsearchcvs():
    grid = {"learning_rate": [1e-2, 3e-2], "epochs": [2, 4]}
    scoring = ["accuracy", "f1_macro"]
    ref = GridSearchCV(BASE, grid, cv=3, scoring=scoring, refit="f1_macro", return_train_score=True).fit(X, Y)
    ours = LSTMSearchCV(BASE, grid, cv=3, scoring=scoring, refit="f1_macro", return_train_score=True,
                        n_jobs=-1).fit(X, Y)
    r, o = ref.cv_results_, ours.cv_results_
    for key in [k for k in r if "_train_" in k or "_test_" in k]:
        np.testing.assert_allclose(o[key], r[key], atol=1e-4, err_msg=key)
    assert ours.get_params()["n_jobs"] == -1
    with pytest.raises(ValueError, match="return_train_score=True is not available with search='halving'"):
        LSTMSearchCV(BASE, param_distributions={"learning_rate": [1e-2]}, search="halving",
                     return_train_score=True).fit(X, Y)


def test_bayes_batches_hold_no_near_duplicates():
    """Issue 17 (14): near a sharp optimum the constant liar alone proposed
    four picks within 0.01 of each other (lr 0.0080-0.0085, dropout 0.15-0.17)."""
    from jaxlstm import bayes

    dims = parse_space({"learning_rate": loguniform(1e-3, 3e-2), "dropout": uniform(0, 0.4), "units": [32, 64]})
    noise = np.random.default_rng(1)
    tried = bayes._sample(dims, 16, np.random.default_rng(0))
    enc = lambda p: bayes._encode(dims, p)  # noqa: E731
    score = lambda u: float(np.exp(-((u[0] - 0.6) ** 2 + (u[1] - 0.5) ** 2) / 0.02) + 0.05 * u[2])  # noqa: E731
    observed = [(p, score(enc(p)) + noise.normal(0, 0.01)) for p in tried]
    for seed in range(2):
        batch = bayes.propose(dims, observed, 8, np.random.default_rng(seed))
        U, T = np.array([enc(p) for p in batch]), np.array([enc(p) for p in tried])
        d = np.sqrt(((U[:, None] - U[None]) ** 2).sum(-1))
        np.fill_diagonal(d, np.inf)
        assert d.min() >= 0.05 and np.sqrt(((U[:, None] - T[None]) ** 2).sum(-1)).min() >= 0.05
        best = np.array([score(u) for u in U]).max()
        assert best > max(s for _, s in observed) - 0.05  # still where the optimum is


def test_the_random_first_round_of_a_discrete_space_repeats_no_candidate():
    # as ParameterSampler: 8 of a 16-point grid, none twice (seed 0 drew one twice until 2026-12-04)
    tried, _ = bayes_search(lambda batch: np.zeros(len(batch)), {"a": [1, 2, 3, 4], "b": [16, 32, 64, 128]}, n_iter=8, batch_size=8, random_state=0,
                            initial=[{"a": 1, "b": 16}])
    assert len({tuple(sorted(p.items())) for p in tried}) == 8 and tried[0] == {"a": 1, "b": 16}
    # later rounds: a 4-point space with n_iter=12 stops after its 4, with a warning (it re-ran tried ones, as
    # identical cv_results_ rows, until 2026-12-06)
    with pytest.warns(UserWarning, match="the search space holds 4 configurations, all tried: stopping before "
                                         "n_iter=12"):
        tried, scores = bayes_search(lambda b: np.array([c["a"] + c["b"] for c in b], float),
                                     {"a": [1, 2], "b": [True, False]}, n_iter=12, batch_size=2, random_state=0)
    assert sorted((p["a"], p["b"]) for p in tried) == [(1, False), (1, True), (2, False), (2, True)]


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_ranks_follow_gridsearchcvs_rule_with_nan_last():
    """tabulate.rank_scores is scikit-learn's rule: GridSearchCV's own ranks for
    means with ties and NaN (a scorer that fails for one candidate)."""
    from sklearn.dummy import DummyClassifier

    from jaxlstm.tabulate import rank_scores

    def score(est, X_, y_):
        return {"prior": 0.5, "most_frequent": 0.5, "uniform": np.nan, "stratified": 0.7}[est.strategy]

    grid = {"strategy": ["prior", "uniform", "stratified", "most_frequent"]}
    ref = GridSearchCV(DummyClassifier(random_state=0), grid, scoring=score, cv=3).fit(X[:, :, 0], Y)
    means = ref.cv_results_["mean_test_score"]
    np.testing.assert_array_equal(rank_scores(means), ref.cv_results_["rank_test_score"])
    np.testing.assert_array_equal(rank_scores(means), [2, 4, 1, 2])
    np.testing.assert_array_equal(rank_scores([0.9, 0.8], np.array(["diverged", "ok"])), [2, 1])
    np.testing.assert_array_equal(rank_scores([np.nan, np.nan]), [1, 1])


def test_a_diverged_candidate_ranks_last_in_the_search_and_the_sweep_alike():
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm.estimator import estimator_to_config
    from jaxlstm.sweep import run_sweep

    grid = [{"learning_rate": [1e-2, 3e-2]}, {"l2": [1e38]}]  # the last diverges
    search = LSTMSearchCV(BASE, grid, cv=3, scoring="accuracy", refit=False).fit(X, Y)
    folds = list(StratifiedKFold(3).split(X[:, :, 0], Y))
    configs = [estimator_to_config(clone(BASE).set_params(**p), np.unique(Y)) for p in search.cv_results_["params"]]
    sweep = run_sweep(X, Y, None, configs=configs, cv=folds, seeds=(0,), scoring=("accuracy",), select="accuracy")
    for res in (search.cv_results_, sweep.cv_results_):
        assert list(res["status"]) == ["ok", "ok", "diverged"]
        assert res["rank_test_" + ("score" if res is search.cv_results_ else "accuracy")][2] == 3
    np.testing.assert_array_equal(search.cv_results_["rank_test_score"], sweep.cv_results_["rank_test_accuracy"])


def test_a_shorter_candidate_is_not_marked_diverged_when_the_run_it_shares_diverges_later():
    # epochs 1 and 3 of the same configuration share one run; at lr 7e17 it diverges in epoch 2 or 3. Until
    # 2026-12-04 the epochs=1 candidate took the whole run's status ("diverged", ranked last) though the model
    # it scores never diverged: the search and the sweep must score it as it scores alone.
    from jaxlstm.sweep import run_sweep

    x = np.random.default_rng(0).normal(size=(30, 6, 1)).astype(np.float32)
    y = (x[:, :, 0].mean(1) > 0).astype(int)
    base = LSTMClassifier(hidden_sizes=(4,), batch_size=8, random_state=0)
    alone = LSTMSearchCV(base, {"epochs": [1], "learning_rate": [7e17, 1e-3]}, cv=3, scoring="accuracy",
                         refit=False).fit(x, y)
    shared = LSTMSearchCV(base, {"epochs": [1, 3], "learning_rate": [7e17, 1e-3]}, cv=3, scoring="accuracy",
                          refit=False).fit(x, y)
    assert list(alone.cv_results_["status"]) == ["ok", "ok"]
    assert list(shared.cv_results_["status"]) == ["ok", "ok", "diverged", "ok"]
    np.testing.assert_allclose(shared.cv_results_["mean_test_score"][:2], alone.cv_results_["mean_test_score"])
    assert [m["status"] for m in shared.members_ if m["params"] == {"epochs": 1, "learning_rate": 7e17}] == ["ok"] * 3
    space = {"hidden_sizes": [(4,)], "batch_size": [8], "epochs": [1, 3], "learning_rate": [7e17, 1e-3]}
    sweep = run_sweep(x, y, space=space, cv=3, select="accuracy", scoring=["accuracy"]).cv_results_
    status = {(p["epochs"], p["learning_rate"]): st for p, st in zip(sweep["params"], sweep["status"])}
    assert status == {(1, 7e17): "ok", (1, 1e-3): "ok", (3, 7e17): "diverged", (3, 1e-3): "ok"}


def test_post_hoc_offsets_are_fitted_on_the_best_candidates_out_of_fold_probabilities():
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm.metrics import fit_logit_offsets

    rng = np.random.default_rng(5)
    y = rng.choice(3, size=120, p=[0.7, 0.2, 0.1])
    x = (rng.normal(size=(120, 6, 3)) + 0.5 * y[:, None, None]).astype(np.float32)
    grid = {"learning_rate": [1e-2, 3e-2]}
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, post_hoc_offsets="always").fit(x, y)
    # the reference: the best candidate trained alone on each fold's training rows, scored on its held-out rows
    oof = np.zeros((120, 3), np.float32)
    for tr, te in StratifiedKFold(3).split(x, y):
        oof[te] = clone_best(s).fit(x[tr], y[tr]).predict_proba(x[te])
    ref = np.asarray(fit_logit_offsets(y, oof, 3, "balanced_accuracy"))
    np.testing.assert_allclose(s.logit_offsets_, ref, atol=1e-6)
    assert s.best_estimator_.logit_offsets_ is s.logit_offsets_ and s.oof_score_["after"] >= s.oof_score_["before"]
    probs = s.predict_proba(x)
    np.testing.assert_array_equal(s.predict(x), s.classes_[np.argmax(np.log(probs).astype(np.float32) + ref, 1)])
    with pytest.raises(ValueError, match="post_hoc_offsets=True fits decision offsets for the ranking metric"):
        LSTMSearchCV(BASE, grid, scoring="roc_auc_ovr", post_hoc_offsets=True).fit(x, y)
    with pytest.raises(ValueError, match="post_hoc_offsets must be False, True or 'always', got 'yes'"):
        LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", post_hoc_offsets="yes").fit(x, y)


@pytest.mark.parametrize("case", ["prior_shift", "calibrated"])
def test_post_hoc_offsets_are_kept_only_if_they_win_cross_fitted(case):
    """post_hoc_offsets=True keeps the offsets only if offsets fitted on two
    thirds of the out-of-fold rows raise balanced accuracy on the third left
    (scikit-learn's score, folds StratifiedKFold(3, shuffle, seed 0)). Out-of-
    fold probabilities that under-rate the minority classes keep them; well-
    calibrated ones on balanced classes, where in-sample offsets only fit
    noise, get zeros."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm.metrics import fit_logit_offsets

    r = np.random.default_rng(3)
    if case == "prior_shift":  # the model's scores favour class 0 by a constant: offsets generalise
        y = r.choice(3, size=300, p=[0.8, 0.15, 0.05])
        logits = 1.5 * np.eye(3)[y] + r.normal(size=(300, 3)) + np.array([2.0, 0.0, 0.0])
    else:
        y = r.choice(3, size=300)
        logits = 3.0 * np.eye(3)[y] + r.normal(size=(300, 3))
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    s = LSTMSearchCV(BASE, {"learning_rate": [1e-2]}, scoring="balanced_accuracy", post_hoc_offsets=True)
    s.best_estimator_ = LSTMClassifier()
    s._fit_offsets(probs, {"classes": np.arange(3), "y": y, "score_weight": None})
    crossed = np.log(probs).argmax(1)
    for fit_rows, held in StratifiedKFold(3, shuffle=True, random_state=0).split(probs, y):
        where = np.zeros(300, bool)
        where[fit_rows] = True
        crossed[held] = (np.log(probs[held]) + np.asarray(fit_logit_offsets(y, probs, 3, where=where))).argmax(1)
    full = np.asarray(fit_logit_offsets(y, probs, 3))
    assert s.oof_score_["before"] == pytest.approx(balanced_accuracy_score(y, probs.argmax(1)), abs=1e-6)
    assert s.oof_score_["after"] == pytest.approx(balanced_accuracy_score(y, (np.log(probs) + full).argmax(1)), abs=1e-6)
    assert s.oof_score_["cross_fitted"] == pytest.approx(balanced_accuracy_score(y, crossed), abs=1e-6)
    assert s.oof_score_["kept"] == (case == "prior_shift")
    assert s.oof_score_["after"] > s.oof_score_["before"]  # in-sample, offsets always look like a win
    np.testing.assert_allclose(s.logit_offsets_, full if case == "prior_shift" else 0.0, atol=1e-6)
    assert s.best_estimator_.logit_offsets_ is s.logit_offsets_


def test_fit_decision_offsets_skips_unscored_rows_weighs_rows_and_names_bad_input():
    """The public offsets fit the search uses: rows with a NaN are left out,
    ``sample_weight`` weighs the rest (against scikit-learn's weighted
    balanced accuracy and ``fit_logit_offsets`` on the scored rows alone), and
    ``keep="always"`` keeps offsets that lose cross-fitted."""
    from sklearn.metrics import balanced_accuracy_score

    from jaxlstm.metrics import fit_logit_offsets
    from jaxlstm.search import fit_decision_offsets

    r = np.random.default_rng(5)
    y = r.choice(3, size=240, p=[0.7, 0.2, 0.1])
    logits = 1.5 * np.eye(3)[y] + r.normal(size=(240, 3)) + np.array([1.5, 0.0, 0.0])
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    w = r.uniform(0.5, 2.0, size=240).astype(np.float32)
    oof = probs.copy()
    oof[:30] = np.nan  # rows no fold scored
    offsets, scores = fit_decision_offsets(y, oof, "balanced_accuracy", keep="always", sample_weight=w)
    ref = np.asarray(fit_logit_offsets(y[30:], probs[30:], 3, where=w[30:]))
    np.testing.assert_allclose(offsets, ref, atol=1e-6)
    assert scores["kept"] and np.abs(offsets).max() > 0
    assert scores["before"] == pytest.approx(
        balanced_accuracy_score(y[30:], probs[30:].argmax(1), sample_weight=w[30:]), abs=1e-5)
    assert scores["after"] == pytest.approx(balanced_accuracy_score(
        y[30:], (np.log(probs[30:]) + ref).argmax(1), sample_weight=w[30:]), abs=1e-5)
    for kwargs, message in (
            (dict(y=y[:-1]), r"y must be 240 class indices in \[0, 3\)"),
            (dict(y=np.where(y == 2, 3, y)), r"y must be 240 class indices in \[0, 3\)"),
            (dict(oof_probs=probs[:, 0]), r"oof_probs must be a \(rows, classes\) array"),
            (dict(oof_probs=np.full_like(probs, np.nan)), "oof_probs has no row without a NaN"),
            (dict(metric="roc_auc"), "metric must be a metric of predicted labels"),
            (dict(keep=True), "keep must be 'cross_fitted' or 'always', got True"),
            (dict(sample_weight=-w), "sample_weight must be 240 finite weights >= 0")):
        args = dict(y=y, oof_probs=probs) | kwargs
        with pytest.raises(ValueError, match=message):
            fit_decision_offsets(args.pop("y"), args.pop("oof_probs"), **args)


def clone_best(search):
    from sklearn.base import clone

    return clone(search.estimator).set_params(**search.best_params_)


def test_the_time_budget_cuts_a_round_and_keeps_what_finished():
    """max_time stops the executor between chunks: the first candidate
    finishes (with the scores it gets in a search without a budget), the
    others stay in cv_results_ as unfinished, NaN, ranked last."""
    kw = dict(param_distributions={"learning_rate": loguniform(1e-3, 1e-1)}, search="bayes", n_iter=3,
              batch_size=3, cv=2, scoring="balanced_accuracy", random_state=0, chunk_size=2)
    full = LSTMSearchCV(BASE, refit=False, **kw).fit(X, Y)
    cut = LSTMSearchCV(BASE, max_time=1e-9, **kw).fit(X, Y)
    assert list(cut.cv_results_["status"]) == ["ok", "unfinished", "unfinished"]
    assert cut.cv_results_["params"] == full.cv_results_["params"]
    for k in ("split0_test_score", "split1_test_score"):
        assert cut.cv_results_[k][0] == pytest.approx(full.cv_results_[k][0], abs=1e-6)
        assert np.isnan(cut.cv_results_[k][1:]).all()
    assert list(cut.cv_results_["rank_test_score"]) == [1, 2, 2] and cut.best_index_ == 0
    assert len(cut.members_) == 2 and cut.rounds_ == 1
    assert np.isnan(cut.oof_proba_[1:]).all() and np.isfinite(cut.oof_proba_[0]).all()
    np.testing.assert_allclose(cut.oof_proba_[0], full.oof_proba_[0], atol=1e-6)
    np.testing.assert_array_equal(cut.predict(X[:5]), LSTMClassifier(**{**BASE.get_params(), **cut.best_params_})
                                  .fit(X, Y).predict(X[:5]))


@pytest.mark.parametrize("strategy", ["random", "grid"])
def test_the_time_budget_holds_for_random_and_grid_search_and_halving_refuses_it(strategy):
    """max_time was read by Bayesian and Optuna search only: a random or
    grid search trained every candidate past it, silently."""
    lrs = [3e-3, 1e-2, 3e-2]
    space = {"learning_rate": lrs if strategy == "grid" else loguniform(1e-3, 1e-1)}
    cut = LSTMSearchCV(BASE, space if strategy == "grid" else None, param_distributions=None if strategy == "grid"
                       else space, search=strategy, n_iter=3, cv=2, random_state=0, chunk_size=2,
                       max_time=1e-9, refit=False).fit(X, Y)
    assert list(cut.cv_results_["status"]) == ["ok", "unfinished", "unfinished"]
    assert len(cut.members_) == 2
    with pytest.raises(ValueError, match="max_time=60 is not available with search='halving'"):
        LSTMSearchCV(BASE, param_distributions=space, search="halving", max_time=60).fit(X, Y)


def test_initial_points_come_first_and_the_rest_of_the_round_is_the_same_random_draw():
    space = {"learning_rate": loguniform(1e-4, 1e-1), "dropout": uniform(0, 0.5), "cw": ["none", "balanced"]}
    first = [{"learning_rate": 3e-3, "dropout": 0.0, "cw": "none"}, {"learning_rate": 1e-2, "dropout": 0.5, "cw": "balanced"}]
    seen = []

    def evaluate(batch):
        seen.append(list(batch))
        return np.array([_objective({**c, "units": 96}) for c in batch])

    tried, scores = bayes_search(evaluate, space, n_iter=9, batch_size=3, n_initial=4, initial=first, random_state=0)
    assert tried[:2] == first and [len(b) for b in seen] == [3, 1, 3, 2]  # 4 initial (2 given, 2 random), then GP
    alone = bayes_search(lambda b: np.zeros(len(b)), space, n_iter=1, batch_size=1, random_state=0)[0]
    assert tried[2] == alone[0]  # the random fill is the draw a search without initial points makes
    assert scores[0] == pytest.approx(_objective({**first[0], "units": 96}))
    for bad, match in [([{"learning_rate": 3e-3, "dropout": 0.0}], r"initial\[0\] gives no value for 'cw'"),
                       ([{**first[0], "units": 8}], r"initial\[0\]: \['units'\] not in the search space"),
                       ([first[0], {**first[1], "dropout": 0.7}], r"initial\[1\].dropout = 0.7 is outside .*0, 0.5"),
                       ([{**first[0], "cw": "auto"}], r"initial\[0\].cw = 'auto' is not one of"),
                       (first * 5, "10 initial points but n_iter=9")]:
        with pytest.raises(ValueError, match=match):
            bayes_search(evaluate, space, n_iter=9, initial=bad)


def test_an_initial_point_scores_as_that_candidate_alone_and_takes_the_estimators_values():
    dist = {"learning_rate": loguniform(3e-3, 5e-2), "dropout": uniform(0, 0.4)}
    point = {"learning_rate": 2e-2}  # dropout left out: the estimator's (0.0)
    for search in ("random", "bayes"):
        s = LSTMSearchCV(BASE, param_distributions=dist, search=search, n_iter=3, batch_size=3, cv=3,
                         random_state=1, initial_points=[point], refit=False).fit(X, Y)
        assert s.cv_results_["params"][0] == {"learning_rate": 2e-2, "dropout": 0.0}
        alone = LSTMSearchCV(BASE, {"learning_rate": [2e-2], "dropout": [0.0]}, cv=3, refit=False).fit(X, Y)
        for k in range(3):
            assert s.cv_results_[f"split{k}_test_score"][0] == pytest.approx(
                alone.cv_results_[f"split{k}_test_score"][0], abs=1e-6), search
    rand = LSTMSearchCV(BASE, param_distributions=dist, n_iter=3, cv=3, random_state=1, refit=False,
                        initial_points=[point]).fit(X, Y)  # then n_iter - 1 of scikit-learn's draw
    assert rand.cv_results_["params"][1:] == list(ParameterSampler(dist, 2, random_state=1))
    for kwargs, match in [(dict(param_grid={"dropout": [0.0]}), "a param_grid already lists every candidate"),
                          (dict(param_distributions=dist, initial_points=[{"units": 4}]),
                           r"initial_points\[0\]: \['units'\] not in param_distributions"),
                          (dict(param_distributions=dist, initial_points=[point] * 4), "4 initial_points but n_iter=3"),
                          (dict(param_distributions=[dist, {"dropout": [0.0]}]),
                           "initial_points needs param_distributions as one dict"),
                          (dict(param_distributions={**dist, "learnin_rate": [1e-3]}),
                           r"param_distributions: \['learnin_rate'\] not parameters of LSTMClassifier"),
                          (dict(param_distributions=dist, search="bayes", initial_points=[{"dropout": 0.9}]),
                           r"initial_points\[0\].learning_rate = 0.001 is outside .* takes the estimator value")]:
        kwargs.setdefault("initial_points", [point])
        with pytest.raises(ValueError, match=match):
            LSTMSearchCV(BASE, n_iter=3, cv=3, **kwargs).fit(X, Y)


def test_optuna_trains_the_initial_points_first():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True)}
    s = LSTMSearchCV(BASE, param_distributions=dists, search="optuna", n_iter=2, batch_size=2, cv=3, random_state=0,
                     refit=False, initial_points=[{"learning_rate": 5e-3}]).fit(X, Y)
    assert s.cv_results_["params"][0] == {"learning_rate": 5e-3} and s.study_.trials[0].params == {"learning_rate": 5e-3}


def _ensemble_data():
    """120 sequences of 3 imbalanced classes and a grid of 4 candidates on which the refit ensembles have
    more than one member."""
    r = np.random.default_rng(5)
    y = r.choice(3, size=120, p=[0.7, 0.2, 0.1])
    x = (r.normal(size=(120, 6, 3)) + 0.5 * y[:, None, None]).astype(np.float32)
    return x, y, {"learning_rate": [1e-2, 3e-2], "conv_filters": [(), (8,)]}


def _per_fold_probs(x, y, params) -> np.ndarray:
    """Each candidate trained alone on each of 3 stratified folds' training rows: its out-of-fold probabilities."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros((len(params), len(y), 3), np.float32)
    for tr, te in StratifiedKFold(3).split(x, y):
        for i, p in enumerate(params):
            oof[i, te] = clone(BASE).set_params(**p).fit(x[tr], y[tr]).predict_proba(x[te])
    return oof


def test_ensemble_selection_refits_the_picked_candidates_as_one_soft_voting_model(tmp_path):
    """ensemble_selection=5: the picks are metrics.ensemble_selection on each
    candidate's out-of-fold probabilities (each candidate trained alone on
    each fold's training rows), from the best; best_estimator_ averages the
    picked candidates refitted alone with those weights, its decision offsets
    are fitted on the blended out-of-fold probabilities, and it round-trips
    through one checkpoint file."""
    from sklearn.base import clone

    from jaxlstm import checkpoint
    from jaxlstm.estimator import LSTMEnsemble, load_model
    from jaxlstm.metrics import ensemble_selection, fit_logit_offsets

    x, y, grid = _ensemble_data()
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=5,
                     post_hoc_offsets="always").fit(x, y)
    params = s.cv_results_["params"]
    oof = _per_fold_probs(x, y, params)
    counts = np.asarray(ensemble_selection(y, oof, 3, "balanced_accuracy", 5, s.best_index_))
    picked = [s.best_index_] + [i for i in np.flatnonzero(counts) if i != s.best_index_]
    assert len(picked) > 1  # the data is chosen so that the ensemble path runs
    assert s.ensemble_["indices"] == picked and s.ensemble_["weights"] == counts[picked].tolist()
    assert s.ensemble_["rule"] == "greedy"
    assert isinstance(s.best_estimator_, LSTMEnsemble) and s.best_params_ == params[s.best_index_]
    w = counts[picked] / counts.sum()
    probs = sum(wi * clone(BASE).set_params(**params[i]).fit(x, y).predict_proba(x) for wi, i in zip(w, picked))
    np.testing.assert_allclose(s.predict_proba(x), probs, atol=1e-6)
    blend = np.tensordot(w, oof[picked], axes=1)
    np.testing.assert_allclose(s.logit_offsets_, fit_logit_offsets(y, blend, 3, "balanced_accuracy"), atol=1e-6)
    assert s.oof_score_["before"] == pytest.approx(s.ensemble_["oof_score"]["ensemble"], abs=1e-6)
    np.testing.assert_array_equal(s.predict(x), s.classes_[np.argmax(np.log(s.predict_proba(x)).astype(np.float32)
                                                                     + s.logit_offsets_, 1)])
    s.best_estimator_.save(tmp_path / "ens.jaxlstm")
    back = load_model(tmp_path / "ens.jaxlstm")
    assert isinstance(back, LSTMEnsemble) and back.weights_.tolist() == s.best_estimator_.weights_.tolist()
    np.testing.assert_array_equal(back.predict_proba(x), s.predict_proba(x))
    np.testing.assert_array_equal(back.predict(x), s.predict(x))
    with pytest.raises(ValueError, match="holds an ensemble of 3 models"):
        LSTMClassifier.load(tmp_path / "ens.jaxlstm")
    with pytest.raises(ValueError, match="holds an ensemble of 3 models"):
        checkpoint.load(tmp_path / "ens.jaxlstm")


def test_cawpe_refits_the_k_best_candidates_weighted_by_their_cv_score_to_the_fourth():
    """ensemble_rule="cawpe", ensemble_selection=3: the 3 best of 4 finished candidates, the best first, then
    by rank, weighted by their mean CV score ** 4 (Large et al. 2019); best_estimator_ averages them refitted
    alone with those weights, and the ensemble's out-of-fold score is that weighted blend of each candidate
    trained on each fold."""
    from sklearn.base import clone
    from sklearn.metrics import balanced_accuracy_score

    from jaxlstm.estimator import LSTMEnsemble

    x, y, grid = _ensemble_data()
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=3,
                     ensemble_rule="cawpe").fit(x, y)
    params, cv = s.cv_results_["params"], s.cv_results_["mean_test_score"]
    order = ([s.best_index_] + [i for i in np.argsort(-cv, kind="stable") if i != s.best_index_])[:3]
    assert len(params) == 4 and cv[order].min() >= np.delete(cv, order).max()
    assert s.ensemble_["indices"] == order and s.ensemble_["rule"] == "cawpe"
    np.testing.assert_allclose(s.ensemble_["weights"], cv[order] ** 4, rtol=1e-12)
    assert isinstance(s.best_estimator_, LSTMEnsemble) and len(set(np.round(cv, 6))) > 1  # not equal weights
    w = cv[order] ** 4 / np.sum(cv[order] ** 4)
    probs = sum(wi * clone(BASE).set_params(**params[i]).fit(x, y).predict_proba(x) for wi, i in zip(w, order))
    np.testing.assert_allclose(s.predict_proba(x), probs, atol=1e-6)
    oof = _per_fold_probs(x, y, params)
    blend = np.tensordot(w, oof[order], axes=1)
    assert s.ensemble_["oof_score"]["ensemble"] == pytest.approx(balanced_accuracy_score(y, blend.argmax(1)),
                                                                 abs=1e-6)


def test_oof_proba_and_refit_candidate_give_each_candidate_as_trained_alone():
    """oof_proba_[i]: candidate i trained alone on each fold's training rows, on the rows that fold holds out;
    refit_candidate(i, X, y): candidate i trained alone on all of them (the best: best_estimator_, before the
    ensemble); both for every candidate, not only those the refit picked; a bad index is named."""
    from sklearn.base import clone

    x, y, grid = _ensemble_data()
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=2,
                     ensemble_rule="cawpe").fit(x, y)
    params = s.cv_results_["params"]
    assert s.oof_proba_.shape == (4, 120, 3) and s.oof_proba_.dtype == np.float64
    np.testing.assert_allclose(s.oof_proba_, _per_fold_probs(x, y, params), atol=1e-6)
    left_out = next(i for i in range(4) if i not in s.ensemble_["indices"])
    for i in (s.best_index_, left_out):
        alone = clone(BASE).set_params(**params[i]).fit(x, y).predict_proba(x)
        np.testing.assert_array_equal(s.refit_candidate(i, x, y).predict_proba(x), alone)
    np.testing.assert_array_equal(s.refit_candidate(np.int64(s.best_index_), x, y).predict_proba(x),
                                  s.best_estimator_.estimators_[0].predict_proba(x))
    for bad in (4, -1, 1.0, True, "0"):
        with pytest.raises(ValueError, match=rf"index must be a candidate's row of cv_results_, an integer in "
                                             rf"\[0, 4\), got {bad!r}"):
            s.refit_candidate(bad, x, y)
    with pytest.raises(ValueError, match="sample_weight"):
        s.refit_candidate(0, x, y, sample_weight=np.ones(3))


def test_fold_models_refit_the_ensemble_from_the_cvs_own_models_and_train_nothing_after_the_search(
        tmp_path, monkeypatch, capsys):
    """fold_models=True: best_estimator_ holds, for each of CAWPE's 3 candidates, its 3 fold models, each
    the candidate trained alone on that fold's training rows (its predictions on the rows the fold held out
    are oof_proba_'s), weighted by the candidate's CAWPE weight shared equally; no LSTMClassifier trains
    after the search; the ensemble round-trips through one checkpoint file."""
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm import checkpoint
    from jaxlstm.estimator import LSTMEnsemble, load_model

    x, y, grid = _ensemble_data()

    def no_training(*args, **kwargs):
        raise AssertionError("a model trained after the search")

    with monkeypatch.context() as m:
        m.setattr(LSTMClassifier, "_fit", no_training)
        s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=3, ensemble_rule="cawpe",
                         fold_models=True, verbose=1).fit(x, y)
    params, cv = s.cv_results_["params"], s.cv_results_["mean_test_score"]
    order = s.ensemble_["indices"]
    assert len(order) == 3 and s.refitted_ == []
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("refit: ")]
    assert lines == [f"refit: candidate {order[0]}, the best: its 3 fold models (nothing trains)"] + [
        f"refit: candidate {i} for the ensemble ({n} of 3): its 3 fold models (nothing trains)"
        for n, i in enumerate(order[1:], 2)]
    ens = s.best_estimator_
    assert isinstance(ens, LSTMEnsemble) and len(ens.estimators_) == 9
    w = cv[order] ** 4 / np.sum(cv[order] ** 4)
    np.testing.assert_allclose(ens.weights_, np.repeat(w / 3, 3), rtol=1e-12)
    probs = 0.0
    for n, i in enumerate(order):
        for k, (tr, te) in enumerate(StratifiedKFold(3).split(x, y)):
            model = ens.estimators_[3 * n + k]
            alone = clone(BASE).set_params(**params[i]).fit(x[tr], y[tr])
            np.testing.assert_allclose(model.predict_proba(x), alone.predict_proba(x), atol=1e-6)
            np.testing.assert_allclose(model.predict_proba(x[te]), s.oof_proba_[i, te], atol=1e-6)
            np.testing.assert_array_equal(model.seen_rows_, checkpoint.row_fingerprints(x[tr], np.full(len(tr), 6)))
            assert model.n_members_ == 1 and model.get_params()["learning_rate"] == params[i]["learning_rate"]
            probs = probs + w[n] / 3 * alone.predict_proba(x)
    np.testing.assert_allclose(s.predict_proba(x), probs, atol=1e-6)
    s.best_estimator_.save(tmp_path / "ens.jaxlstm")
    np.testing.assert_array_equal(load_model(tmp_path / "ens.jaxlstm").predict_proba(x), s.predict_proba(x))


def test_fold_models_give_candidates_that_differ_only_in_epochs_their_own_runs_and_resume_with_them(tmp_path):
    """With fold_models, candidates that differ only in epochs (2 and 4) train their own members, so each
    one's fold models are its own (its out-of-fold probabilities: those of the candidate trained alone);
    resumed from out_dir, which stores the fold models, nothing trains, during or after the search, and the
    same ensemble predicts the same; bad values and halving are named."""
    x, y, _ = _ensemble_data()
    grid = {"epochs": [2, 4], "learning_rate": [1e-2, 3e-2]}
    kw = dict(scoring="balanced_accuracy", cv=3, ensemble_selection=4, ensemble_rule="cawpe")
    ref = LSTMSearchCV(BASE, grid, **kw).fit(x, y)
    s = LSTMSearchCV(BASE, grid, fold_models=True, out_dir=str(tmp_path), **kw).fit(x, y)
    params, order = s.cv_results_["params"], s.ensemble_["indices"]
    assert order == ref.ensemble_["indices"] and len(order) == 4 and s.refitted_ == [] and ref.refitted_ == order
    np.testing.assert_allclose(s.oof_proba_, _per_fold_probs(x, y, params), atol=1e-6)
    short = [i for i in order if params[i]["epochs"] == 2]
    for i in short:
        for k in range(3):
            model = s.best_estimator_.estimators_[3 * order.index(i) + k]
            assert model.best_epoch_ == 1 and len(model.history_["train_loss"]) == 2
    again = LSTMSearchCV(BASE, grid, fold_models=True, out_dir=str(tmp_path), **kw).fit(x, y)  # resumed
    assert again.refitted_ == [] and again.train_time_ == 0 and again.ensemble_ == s.ensemble_
    np.testing.assert_array_equal(again.predict_proba(x), s.predict_proba(x))
    with pytest.raises(ValueError, match="fold_models must be True or False, got 'yes'"):
        LSTMSearchCV(BASE, grid, fold_models="yes").fit(x, y)
    with pytest.raises(ValueError, match="fold_models=True is not available with search='halving'"):
        LSTMSearchCV(BASE, param_distributions={"learning_rate": [1e-2, 3e-2]}, search="halving",
                     fold_models=True).fit(x, y)


def test_fold_models_refit_a_diverged_best_candidate_which_warns():
    """The only candidate diverged: with fold_models its fold models are not used; it is trained again (as
    fold_models=False does), which warns that training diverged."""
    with pytest.warns(RuntimeWarning, match="training diverged"):
        s = LSTMSearchCV(BASE, {"l2": [1e38]}, cv=3, fold_models=True).fit(X, Y)
    assert list(s.cv_results_["status"]) == ["diverged"] and s.refitted_ == [0]
    assert isinstance(s.best_estimator_, LSTMClassifier)


def test_a_verbose_search_says_which_candidate_each_refit_trains(capsys):
    """verbose=1: a line on stderr as each refit starts (the best, then each other member of the ensemble, in
    order), since a refit takes minutes on long series after the progress bars are done; verbose=0: none."""
    x, y, grid = _ensemble_data()
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=3, ensemble_rule="cawpe",
                     verbose=1).fit(x, y)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("refit: ")]
    best, *others = s.ensemble_["indices"]
    assert lines == [f"refit: candidate {best}, the best, on all 120 training rows"] + [
        f"refit: candidate {i} for the ensemble ({n} of 3)" for n, i in enumerate(others, 2)]
    s.set_params(verbose=0).fit(x, y)
    assert capsys.readouterr().err == ""


def test_ensemble_selection_errors_are_named():
    grid = {"learning_rate": [1e-2]}
    for bad in (0, True, "cawpe", 2.5):
        with pytest.raises(ValueError, match=f"ensemble_selection must be None or a positive integer, got {bad!r}"):
            LSTMSearchCV(BASE, grid, ensemble_selection=bad).fit(X, Y)
    for bad in ("Cawpe", None, 3):
        with pytest.raises(ValueError, match=f"ensemble_rule must be one of 'greedy', 'cawpe', got {bad!r}"):
            LSTMSearchCV(BASE, grid, ensemble_selection=3, ensemble_rule=bad).fit(X, Y)
    with pytest.raises(ValueError, match=r"ensemble_rule='cawpe' weighs the refit ensemble's candidates: set "
                                         r"ensemble_selection to how many \(e.g. 5\)"):
        LSTMSearchCV(BASE, grid, ensemble_rule="cawpe").fit(X, Y)
    with pytest.raises(ValueError, match=r"ensemble_rule='cawpe' weighs candidates by their CV score \*\* 4, and "
                                         r"the scores of 'neg_log_loss' \(scoring='neg_log_loss', refit=True\) are "
                                         "negative"):
        LSTMSearchCV(BASE, grid, scoring="neg_log_loss", ensemble_selection=5, ensemble_rule="cawpe").fit(X, Y)
    with pytest.raises(ValueError, match="ensemble_selection picks candidates by the ranking metric"):
        LSTMSearchCV(BASE, grid, ensemble_selection=3, refit=False).fit(X, Y)
    from sklearn.base import clone

    from jaxlstm.estimator import LSTMEnsemble

    # fit trains a clone of each estimator: one of weight 1 is that estimator fitted alone
    np.testing.assert_allclose(LSTMEnsemble([BASE], weights=[2.0]).fit(X, Y).predict_proba(X[:5]),
                               clone(BASE).fit(X, Y).predict_proba(X[:5]), atol=1e-7)
    with pytest.raises(ValueError, match="weights must be 2 finite numbers >= 0 with a positive sum"):
        LSTMEnsemble([BASE, BASE], weights=[1.0, -1.0]).fit(X, Y)
    for bad in ({"a": 1}, ["a", "b"]):  # TypeError / NumPy's "could not convert string to float" until 2026-12-06
        with pytest.raises(ValueError, match="weights must be 2 finite numbers"):
            LSTMEnsemble([BASE, BASE], weights=bad).fit(X, Y)
    with pytest.raises(ValueError, match="estimators must be a non-empty list of LSTMClassifier"):
        LSTMEnsemble([]).fit(X, Y)


def test_ensemble_selection_after_halving_picks_only_from_the_last_rung():
    """Earlier rungs' rows were read after fewer epochs than a refit trains."""
    s = LSTMSearchCV(BASE, param_distributions={"learning_rate": loguniform(1e-3, 3e-2)}, search="halving",
                     n_iter=6, factor=2, min_epochs=1, scoring="balanced_accuracy", cv=3, ensemble_selection=6,
                     random_state=1).fit(X, Y)
    last = np.flatnonzero(s.cv_results_["iter"] == s.cv_results_["iter"].max())
    assert s.ensemble_["indices"][0] == s.best_index_ and set(s.ensemble_["indices"]) <= set(last)


def test_bad_seeds_and_units_with_searched_hidden_sizes_are_named_before_training():
    grid = {"learning_rate": [1e-2]}
    for kwargs, match in [(dict(seeds=[0, 0]), r"seeds must be a non-empty list of distinct integers in \[0, 2\*\*32\), "
                                               r"got \[0, 0\]"),
                          (dict(seeds=[-1]), r"seeds must be a non-empty list of distinct .*got \[-1\]"),
                          # until 2026-12-07 int() made 1.7 seed 1 and True seed 1
                          (dict(seeds=[1.7, 2]), r"seeds must be .*got \[1.7, 2\]"),
                          (dict(seeds=True), r"seeds must be .*got \[True\]"),
                          (dict(n_iter=None), "n_iter must be a positive integer, got None"),
                          # until 2026-12-07 named as an internal list's: "configs[1]: learning_rate must be ..."
                          (dict(param_grid={"learning_rate": [1e-2, -1.0]}),
                           r"^param_grid\['learning_rate'\]\[1\]: learning_rate must be a finite number >= 0, got -1$"),
                          (dict(param_grid=None, param_distributions=[grid, {"dropout": [0.1, 1.5]}], n_iter=2),
                           r"^param_distributions\[1\]\['dropout'\]\[1\]: dropout must be a number in \[0, 1\), "
                           r"got 1.5$"),
                          (dict(param_grid={"hidden_sizes": [(8,), (8, 8)]}),
                           r"hidden_sizes is searched while units is set \(units=4\)"),
                          # until 2026-12-07 the mirror case trained one layer silently
                          (dict(param_grid={"units": [4, 8]}),
                           r"hidden_sizes is set \(hidden_sizes=\(8, 8\)\) while units is searched; units"),
                          (dict(param_grid=None, param_distributions=[grid], search="bayes"),
                           "Bayesian search needs one dict of distributions and lists, got list")]:
        with pytest.raises(ValueError, match=match):
            LSTMSearchCV(clone(BASE).set_params(units=4) if "hidden_sizes" in str(kwargs) else
                         clone(BASE).set_params(hidden_sizes=(8, 8)) if "units" in str(kwargs) else BASE,
                         **{"param_grid": grid, **kwargs}, cv=3).fit(X, Y)
    from jaxlstm.sweep import run_sweep  # the sweep's rule is the search's (it used to score split 0 twice)

    for seeds in ([0, 0], [0.5], 3):
        with pytest.raises(ValueError, match=r"seeds must be a non-empty list of distinct integers in \[0, 2\*\*32\), "
                                             + re.escape(f"got {seeds}")):
            run_sweep(X, Y, configs=[{"hidden_sizes": (8,), "epochs": 1}], cv=3, seeds=seeds)


def test_a_single_metric_with_refit_naming_it_ranks_by_score_as_gridsearchcv():
    # GridSearchCV accepts scoring="accuracy", refit="accuracy" (a single metric is "score"); this was a KeyError
    grid = {"learning_rate": [3e-3, 3e-2]}
    ours = LSTMSearchCV(BASE, grid, cv=3, scoring="accuracy", refit="accuracy").fit(X, Y)
    ref = GridSearchCV(BASE, grid, cv=3, scoring="accuracy", refit="accuracy").fit(X, Y)
    _same(ref, ours, ["score"])


def test_a_second_fit_keeps_nothing_of_the_first():
    # refit=False with several metrics sets no best_index_; the first fit's must not be applied to the second
    s = LSTMSearchCV(BASE, {"learning_rate": [3e-3, 1e-2, 3e-2]}, cv=3, scoring=["accuracy", "f1_macro"],
                     refit="accuracy").fit(X, Y)
    assert s.best_index_ in (0, 1, 2) and hasattr(s, "best_estimator_")
    s.set_params(param_grid={"dropout": [0.0]}, refit=False).fit(X, Y)
    assert len(s.cv_results_["params"]) == 1
    for name in ("best_index_", "best_params_", "best_score_", "best_estimator_", "refit_time_"):
        assert not hasattr(s, name), name


def test_optuna_trials_cut_by_the_budget_are_marked_and_trained_first_when_the_study_continues():
    """A trial max_time cut off was told FAIL like a diverged one, so that
    continuing the study never trained it. Now its user attribute says
    "unfinished" and it is enqueued again: the next fit trains it first,
    with the scores a search without a budget gives it."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {"learning_rate": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True)}
    kw = dict(param_distributions=dists, search="optuna", n_iter=3, batch_size=3, cv=2, random_state=0,
              refit=False, chunk_size=2)
    cut = LSTMSearchCV(BASE, max_time=1e-9, **kw).fit(X, Y)
    assert list(cut.cv_results_["status"]) == ["ok", "unfinished", "unfinished"]
    states = [(t.state, t.user_attrs.get("status")) for t in cut.study_.trials]
    fail, waiting = optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING
    assert states[:3] == [(optuna.trial.TrialState.COMPLETE, None), (fail, "unfinished"), (fail, "unfinished")]
    assert states[3:] == [(waiting, None), (waiting, None)]
    # an initial point the continued study already holds (cut, waiting) is not enqueued a second time
    again = LSTMSearchCV(BASE, study=cut.study_, initial_points=[cut.cv_results_["params"][1]], **kw).fit(X, Y)
    assert again.cv_results_["params"][:2] == cut.cv_results_["params"][1:]
    assert again.cv_results_["params"][2] not in cut.cv_results_["params"]
    full = LSTMSearchCV(BASE, **kw).fit(X, Y)
    np.testing.assert_allclose(again.cv_results_["mean_test_score"][:2], full.cv_results_["mean_test_score"][1:],
                               atol=1e-6)


def test_every_round_of_a_search_compiles_the_parts_any_candidate_may_use_once():
    """Programs leave out the optional training parts no candidate can turn
    on (smaller, faster to compile), but hold every part the space or the
    initial points may turn on: a first round that happens not to use balanced
    sampling compiles the program the second round reuses."""
    from jaxlstm import sweep
    from jaxlstm.search import _possible_parts

    base = LSTMClassifier(hidden_sizes=(8,), epochs=2, batch_size=16, random_state=0, noise_std=0.1)
    assert _possible_parts(base, {"sampling_exponent": uniform(0, 1), "focal_gamma": [0.0]}, []) == \
        {"input_noise", "balanced_sampling"}
    assert _possible_parts(BASE, [{"focal_gamma": [0.0, 2.0]}, {"dropout": [0.1]}], [{"augment_warp": 0.2}]) == \
        {"loss_remedy", "augmentation"}
    assert _possible_parts(BASE, {"learning_rate": [1e-2]}, []) == set()
    before = len(sweep._compiled)
    s = LSTMSearchCV(BASE, param_distributions={"sampling_exponent": uniform(0, 1), "learning_rate": [1e-2, 3e-2]},
                     search="bayes", n_iter=4, batch_size=2, cv=2, random_state=0, refit=False, chunk_size=2,
                     initial_points=[{"sampling_exponent": 0.0, "learning_rate": 3e-2},
                                     {"sampling_exponent": 0.0, "learning_rate": 1e-2}]
                     ).fit(X, Y)
    assert s.rounds_ == 2 and s.cv_results_["params"][0]["sampling_exponent"] == 0.0
    assert s.cv_results_["params"][2]["sampling_exponent"] > 0
    assert len(sweep._compiled) == before + 1
    assert [k[0].parts for k in list(sweep._compiled)[before:]] == [{"balanced_sampling"}]
    # the refit takes the search's parts too, whichever candidate it trains (here the one without the
    # remedy), so that refits of one static group (ensemble selection's picks) share a program
    before = len(sweep._compiled)
    s = LSTMSearchCV(BASE, {"logit_adjust_tau": [0.0, 1.0]}, cv=2, refit=lambda r: 0).fit(X, Y)
    assert s.best_estimator_.logit_adjust_tau == 0.0
    assert [k[0].parts for k in list(sweep._compiled)[before:]] == [{"loss_remedy"}] * 2  # CV, refit
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0, got 'high'"):
        LSTMSearchCV(BASE, {"noise_std": ["high"]}, cv=2).fit(X, Y)  # named, not numpy's conversion error


@pytest.mark.parametrize("bad, message", [
    ([(np.arange(12, 30), np.arange(12))], r"cv: fold 0's train indices must be in \[0, 23\] \(24 rows\), got 24"),
    ([(np.arange(-6, 12), np.arange(12, 24))], r"fold 0's train indices must be in \[0, 23\].*got -6"),
    ([(np.arange(12) + 0.5, np.arange(12, 24))], r"fold 0's train indices must be a 1-D array of row numbers"),
    ([(np.arange(12), np.arange(12, 24)), (np.arange(24), np.array([], int))], r"cv: fold 1 has no test rows"),
])
def test_custom_folds_are_checked_before_training(bad, message):
    # NumPy wraps a negative index and JAX clamps one out of range: these folds trained on other rows and got
    # a score (best_score_ 0.583) until 2026-12-04, where GridSearchCV raises
    from jaxlstm.plan import check_folds

    r = np.random.default_rng(0)
    x, y = r.normal(size=(24, 5, 2)).astype(np.float32), np.tile([0, 1], 12)
    with pytest.raises(ValueError, match=message):
        LSTMSearchCV(BASE, {"dropout": [0.1]}, cv=bad).fit(x, y)
    # a boolean mask of the rows is its indices, as scikit-learn's indexing reads it
    mask = np.arange(24) < 12
    (tr, te), = check_folds([(mask, ~mask)], 24)
    np.testing.assert_array_equal(tr, np.arange(12))
    np.testing.assert_array_equal(te, np.arange(12, 24))


def test_make_folds_takes_any_labels_stratifiedkfold_takes_and_names_a_bad_cv():
    # np.bincount refused string labels (a TypeError about casting) and negative ones; a float cv failed
    # with "'float' object is not iterable"
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm.plan import make_folds

    y = np.array(list("aaabbbcccaab"))
    for labels in (y, np.searchsorted(np.unique(y), y) - 1):
        ours = make_folds(labels, 3, random_state=0)
        ref = StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros((12, 1)), labels)
        for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(tr, rtr)
            np.testing.assert_array_equal(te, rte)
    with pytest.raises(ValueError, match="the smallest class has 3 rows, fewer than cv=4 folds"):
        make_folds(y, 4)
    for bad in (3.0, "3", True):
        with pytest.raises(ValueError, match="cv must be a number of folds >= 2, a scikit-learn splitter or a list"):
            make_folds(y, bad)


def test_bayes_never_proposes_a_half_open_ranges_excluded_end_and_bad_ranges_stop_before_training():
    # The Gaussian process clipped to the unit cube and decoded its edge to the range's high end exactly:
    # class_weight_beta from uniform(0, 1) was proposed as 1 in 14 of 40 proposals and the search stopped
    # after training earlier rounds
    from jaxlstm.train import make_hparams

    dims = parse_space({"class_weight_beta": uniform(0, 1), "learning_rate": loguniform(1e-3, 1e-2),
                        "epochs": randint(1, 4)})
    top = {d.name: d.decode(np.ones(d.width)) for d in dims}
    bottom = {d.name: d.decode(np.zeros(d.width)) for d in dims}
    # the largest float32 below high: nextafter(1.0, 0) in float64 is 1.0 in the float32 training program
    assert top == {"class_weight_beta": float(np.nextafter(np.float32(1), np.float32(0))),
                   "learning_rate": float(np.nextafter(np.float32(1e-2), np.float32(0))), "epochs": 3}
    assert np.float32(top["class_weight_beta"]) < 1
    with pytest.raises(ValueError, match=r"class_weight_beta in float32 \(the training precision\): "
                                         r"class_weight_beta must be a number in \[0, 1\), got 1"):
        make_hparams(3, class_weight_beta=np.nextafter(1.0, 0.0))  # rounds to 1 in float32: NaN weights
    assert bottom == {"class_weight_beta": 0.0, "learning_rate": 1e-3, "epochs": 1}
    tried, _ = bayes_search(lambda cands: np.array([-(c["class_weight_beta"] - 1) ** 2 for c in cands]),
                            {"class_weight_beta": uniform(0, 1)}, n_iter=24, batch_size=4, random_state=0)
    assert 0.99 < max(c["class_weight_beta"] for c in tried) < 1.0  # pressed against the end, never on it
    from jaxlstm import sweep

    before = len(sweep._compiled)
    for space, message in (({"class_weight_beta": uniform(0.5, 1.0)}, r"param_distributions\['class_weight_beta'\] "
                            r"\(highest value of the distribution\): class_weight_beta must be a number in \[0, 1\)"),
                           ({"dropout": uniform(-0.1, 0.5)}, r"\(lowest value of the distribution\): dropout must"),
                           ({"units": randint(0, 3)}, r"param_distributions\['units'\] \(lowest value")):
        for search in ("bayes", "random"):
            with pytest.raises(ValueError, match=message):
                LSTMSearchCV(BASE, param_distributions=space, search=search, n_iter=4, cv=2).fit(X, Y)
    assert len(sweep._compiled) == before  # refused before anything compiled
    # a random draw reaches a continuous low end with probability 2**-53; discrete distributions are integers
    from jaxlstm.search import _check_space_values
    from scipy.stats import binom, geom

    _check_space_values({"grad_clip": uniform(0, 5), "units": geom(0.1), "epochs": binom(8, 0.5, loc=1)},
                        exact_low=False, name="param_distributions")
    with pytest.raises(ValueError, match=r"param_distributions\['grad_clip'\] \(lowest value.*got 0"):
        _check_space_values({"grad_clip": uniform(0, 5)}, exact_low=True, name="param_distributions")


def test_sample_weights_train_every_fold_and_refit_as_gridsearchcv_passes_them():
    # scikit-learn's GridSearchCV slices sample_weight to each fold's training rows for LSTMClassifier.fit
    # alone and to its held-out rows for the scorers; the vmapped sweep must train and score the same, and refit

    w = np.where(Y == 2, 3.0, 1.0) * rng.uniform(0.5, 1.5, len(Y))
    grid = {"learning_rate": [1e-2, 3e-2], "class_weight": [None, "balanced"]}
    ref = GridSearchCV(BASE, grid, cv=3, scoring=["accuracy", "balanced_accuracy"],
                       refit="balanced_accuracy").fit(X, Y, sample_weight=w)
    ours = LSTMSearchCV(BASE, grid, cv=3, scoring=["accuracy", "balanced_accuracy"],
                        refit="balanced_accuracy").fit(X, Y, sample_weight=w)
    _same(ref, ours, ["accuracy", "balanced_accuracy"])
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    # scoring=None: the estimator's score (accuracy), weighted as GridSearchCV's passthrough scorer weighs it;
    # train scores too
    ref1 = GridSearchCV(BASE, {"learning_rate": [1e-2]}, cv=3, return_train_score=True).fit(X, Y, sample_weight=w)
    ours1 = LSTMSearchCV(BASE, {"learning_rate": [1e-2]}, cv=3, return_train_score=True).fit(X, Y, sample_weight=w)
    for key in [k for k in ref1.cv_results_ if k.startswith("split")]:
        np.testing.assert_allclose(ours1.cv_results_[key], ref1.cv_results_[key], atol=1e-6, err_msg=key)
    plain = LSTMSearchCV(BASE, grid, cv=3, scoring="balanced_accuracy").fit(X, Y)
    assert not np.allclose(plain.cv_results_["mean_test_score"], ours.cv_results_["mean_test_balanced_accuracy"])
    from sklearn.model_selection import KFold

    with pytest.raises(ValueError, match="sample_weight is zero on every training row of fold 2"):  # rows 0..59
        LSTMSearchCV(BASE, grid, cv=KFold(3), scoring="accuracy").fit(X, Y, sample_weight=np.where(
            np.arange(len(Y)) < 60, 0.0, 1.0))
    with pytest.raises(ValueError, match="sample_weight is zero on every held-out row of fold 0"):
        LSTMSearchCV(BASE, grid, cv=KFold(3), scoring="accuracy").fit(X, Y, sample_weight=np.where(
            np.arange(len(Y)) < 30, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(90,\)"):
        LSTMSearchCV(BASE, grid, cv=3).fit(X, Y, sample_weight=w[:10])
    with pytest.warns(UserWarning, match="does not take sample_weight: its held-out scores are unweighted"):
        LSTMSearchCV(BASE, {"learning_rate": [1e-2]}, cv=2, scoring=lambda est, x, y: 0.0).fit(X, Y, sample_weight=w)


def test_sample_weights_weigh_ensemble_selection_and_decision_offsets():
    # both fitted on unweighted out-of-fold scores while the rest of the search was weighted (until 2026-12-05)
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm.metrics import ensemble_selection, fit_logit_offsets

    from sklearn.metrics import balanced_accuracy_score

    w = np.random.default_rng(2).exponential(1.0, len(Y)) ** 2  # heavy-tailed: the weighted offsets differ
    grid = {"learning_rate": [1e-2, 3e-2], "conv_filters": [(), (8,)]}
    s = LSTMSearchCV(BASE, grid, scoring="balanced_accuracy", cv=3, ensemble_selection=4,
                     post_hoc_offsets="always").fit(X, Y, sample_weight=w)
    params, w32 = s.cv_results_["params"], w.astype(np.float32)
    oof = np.zeros((len(params), len(Y), 3), np.float32)
    for tr, te in StratifiedKFold(3).split(X, Y):
        for i, p in enumerate(params):
            oof[i, te] = clone(BASE).set_params(**p).fit(X[tr], Y[tr], sample_weight=w[tr]).predict_proba(X[te])
    counts = np.asarray(ensemble_selection(Y, oof, 3, "balanced_accuracy", 4, s.best_index_, where=w32))
    picked = [s.best_index_] + [i for i in np.flatnonzero(counts) if i != s.best_index_]
    assert s.ensemble_["indices"] == picked and s.ensemble_["weights"] == counts[picked].tolist()
    assert s.ensemble_["rule"] == "greedy"
    blend = np.tensordot(counts[picked] / counts.sum(), oof[picked], axes=1)
    np.testing.assert_allclose(s.logit_offsets_, fit_logit_offsets(Y, blend, 3, "balanced_accuracy", where=w32),
                               atol=1e-6)
    assert s.oof_score_["before"] == pytest.approx(balanced_accuracy_score(Y, blend.argmax(1), sample_weight=w),
                                                   abs=1e-5)
    unweighted = np.asarray(fit_logit_offsets(Y, blend, 3, "balanced_accuracy"))
    assert not np.allclose(unweighted, s.logit_offsets_)  # the data is chosen so that the weights matter


def test_a_fold_whose_training_rows_lack_a_class_is_named():
    # the search's members keep an output for every class, GridSearchCV's fold model knows only the classes it saw:
    # their scores differ on such a fold, which went unsaid until 2026-12-05
    from jaxlstm.plan import absent_classes

    r = np.random.default_rng(1)
    x = r.normal(size=(30, 5, 2)).astype(np.float32)
    y = np.array(["a", "b"] * 14 + ["c", "c"])
    folds = [(np.arange(28), np.arange(28, 30)), (np.arange(2, 30), np.arange(2))]
    found = absent_classes(folds, np.searchsorted(np.unique(y), y), 3)
    assert list(found) == [0] and found[0].tolist() == [2]
    with pytest.warns(UserWarning, match=r"training rows of 1 fold\(s\) have no sequence of a class \(fold 0: 'c'\)"):
        LSTMSearchCV(clone(BASE).set_params(epochs=1), {"dropout": [0.1]}, cv=folds).fit(x, y)


def test_a_distribution_given_as_the_grid_says_to_use_param_distributions():
    # RandomizedSearchCV(est, {"lr": loguniform(...)}) passes distributions second; here that is param_grid, and
    # scikit-learn's ParameterGrid said only "needs to be a list or a numpy array"
    with pytest.raises(ValueError, match=r"param_grid\['learning_rate'\] is a distribution \(rv_continuous_frozen\).*"
                                         r"pass it as param_distributions="):
        LSTMSearchCV(BASE, {"learning_rate": loguniform(1e-3, 1e-1), "dropout": [0.0]}, n_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match=r"search='random' needs param_distributions= \(LSTMSearchCV's second "
                                         r"positional argument is param_grid"):
        LSTMSearchCV(BASE, {"learning_rate": loguniform(1e-3, 1e-1)}, search="random", n_iter=2).fit(X, Y)


@pytest.mark.parametrize("python, toml", [
    (dict(ensemble_rule="cawpe"), {"ensemble_rule": "cawpe"}),
    (dict(ensemble_rule="cawpe", ensemble_selection=5, scoring="neg_log_loss"),
     {"ensemble_rule": "cawpe", "ensemble_selection": 5, "metric": "neg_log_loss"}),
    (dict(post_hoc_offsets=True, scoring="roc_auc_ovr"), {"post_hoc_offsets": True, "metric": "roc_auc_ovr"}),
    (dict(search="halving", max_time=60), {"strategy": "halving", "budget_minutes": 1}),
    (dict(search="halving", fold_models=True), {"strategy": "halving", "fold_models": True}),
    (dict(param_grid={"learning_rate": [1e-2]}, initial_points=[{"learning_rate": 1e-2}]),
     {"strategy": "grid", "initial_points": [{"learning_rate": 1e-2}]}),
    (dict(n_iter=1, initial_points=[{"learning_rate": 1e-2}, {"learning_rate": 3e-2}]),
     {"strategy": "random", "n_iter": 1, "initial_points": [{"learning_rate": 1e-2}, {"learning_rate": 3e-2}]}),
    (dict(param_grid={"hidden_sizes": [(8,), (8, 8)], "units": [4]}),
     {"space": {"hidden_sizes": [[8], [8, 8]], "units": [4]}}),
])
def test_a_conflict_of_search_settings_is_one_rule_with_one_message_in_python_and_in_toml(python, toml):
    """Settings that cannot work together are one row of SEARCH_CONFLICTS, raised by LSTMSearchCV.fit and by the
    TOML config with the same words; only the settings' names and spellings differ ("search='halving'" vs
    'search.strategy = "halving"')."""
    import re

    from jaxlstm import config
    from jaxlstm.search import SEARCH_CONFLICTS

    space = {"learning_rate": [1e-2, 3e-2]}
    kw = {"param_distributions": space} if "param_grid" not in python else {}
    with pytest.raises(ValueError) as py:
        LSTMSearchCV(BASE, **kw, **python).fit(X, Y)
    with pytest.raises(ValueError) as tm:
        config.parse_config({"search": {"space": space, **toml}})
    py, tm = str(py.value), str(tm.value)
    assert tm.startswith("<config>: ")
    def pattern(template):  # the template's words, anything where it names a setting
        return "(.+?)".join(map(re.escape, re.split(r"\{\w+\}", template)))

    (template,) = [m for _, m in SEARCH_CONFLICTS if re.fullmatch(pattern(m), py)]
    assert re.fullmatch("<config>: " + pattern(template), tm)


@pytest.mark.parametrize("setting, value", [
    ("batch_size", None), ("batch_size", 2.5), ("n_initial", -3), ("n_initial", 2.5), ("factor", 2.5),
    ("min_epochs", 0), ("max_time", -1), ("max_time", float("nan")), ("cv", 1), ("cv", 2.5), ("n_iter", 0)])
def test_a_bad_search_setting_is_its_rule_tables_message(setting, value):
    """LSTMSearchCV's own settings are checked by jaxlstm.params' rule table before anything trains, each with its
    one message (until 2026-12-07 batch_size=None was a TypeError from a comparison, 2.5 one from a slice,
    n_initial=2.5 and factor=2.5 were silently truncated, n_initial=-3 ran); the TOML's search.n_iter, batch_size
    and cv use the same rules and words."""
    from jaxlstm import config, params

    search = "halving" if setting in ("factor", "min_epochs") else "bayes"
    with pytest.raises(ValueError) as e:
        LSTMSearchCV(BASE, param_distributions={"learning_rate": [1e-2, 3e-2]}, search=search,
                     **{"n_iter": 2, setting: value}).fit(X, Y)
    assert str(e.value) == params.message(setting, value)
    if setting in ("batch_size", "cv", "n_iter"):
        with pytest.raises(ValueError) as e:
            config.parse_config({"search": {"space": {"learning_rate": [1e-2]}, setting: value}})
        assert str(e.value) == f"<config>: search.{setting}: " + params.message(setting, value)


def test_ctrl_c_during_the_refit_names_the_cv_members_a_rerun_resumes(tmp_path, monkeypatch):
    """Ctrl-C in the refit: the search's CV members are in out_dir and a rerun resumes them; until 2026-12-07 the
    refit's own run (no out_dir) said "0/3 members saved (no out_dir, nothing kept)"."""
    from jaxlstm.sweep import SweepInterrupted

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    base = clone(BASE).set_params(epochs=1)
    grid = {"learning_rate": [1e-2, 3e-2]}
    monkeypatch.setattr(LSTMSearchCV, "_refit_one", staticmethod(interrupted))
    with pytest.raises(SweepInterrupted) as e:
        LSTMSearchCV(base, grid, cv=3, out_dir=str(tmp_path)).fit(X, Y)
    assert str(e.value) == (f"interrupted during the refit; 6/6 members saved in {tmp_path / 'members.jsonl'}; "
                            "rerun to resume (the refit runs again)")
    with pytest.raises(SweepInterrupted) as e:
        LSTMSearchCV(base, grid, cv=3).fit(X, Y)
    assert str(e.value) == "interrupted during the refit; 0/6 members saved (no out_dir, nothing kept)"
    monkeypatch.undo()
    again = LSTMSearchCV(base, grid, cv=3, out_dir=str(tmp_path)).fit(X, Y)
    assert again.train_time_ == 0.0  # every CV member resumed


def test_groups_go_to_a_group_splitter_as_in_gridsearchcv():
    """fit(X, y, groups=...) folds as GridSearchCV.fit's groups do (the same scores as the splitter's folds given as
    cv); a group splitter without groups, or groups of another length, is a ValueError saying so (until 2026-12-07
    fit took no groups: a TypeError, or scikit-learn's "The 'groups' parameter should not be None")."""
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(Y)) // 10
    base, grid = clone(BASE).set_params(epochs=2), {"learning_rate": [1e-2, 3e-2]}
    grouped = LSTMSearchCV(base, grid, cv=GroupKFold(3), refit=False).fit(X, Y, groups=groups)
    folds = list(GroupKFold(3).split(X, Y, groups))
    given = LSTMSearchCV(base, grid, cv=folds, refit=False).fit(X, Y)
    np.testing.assert_array_equal(grouped.cv_results_["mean_test_score"], given.cv_results_["mean_test_score"])
    assert all(not set(groups[tr]) & set(groups[te]) for tr, te in folds)
    with pytest.raises(ValueError, match=r"^cv: The 'groups' parameter should not be None. GroupKFold splits by group: "
                                         r"pass fit\(X, y, groups=...\), one label per sequence$"):
        LSTMSearchCV(base, grid, cv=GroupKFold(3)).fit(X, Y)
    with pytest.raises(ValueError, match=r"groups must hold one label per sequence \(90\), got shape \(89,\)"):
        LSTMSearchCV(base, grid, cv=GroupKFold(3)).fit(X, Y, groups=groups[:-1])


def test_bad_search_inputs_are_named_before_training_and_a_failing_scorer_scores_nan():
    """Until 2026-12-07: scoring=3 and out_dir=3 were TypeErrors, a searched n_ensemble tied every candidate (they
    are scored as single models), a bad value of the base estimator or of a random search's initial point was
    named "configs[0]: ..." after a round trained, an Optuna range past a rule failed after a round, and a scorer
    failing on one split (a class absent from its test rows) lost the whole search; GridSearchCV scores NaN."""
    from sklearn.model_selection import StratifiedKFold

    from jaxlstm import sweep

    before = len(sweep._compiled)
    grid = {"learning_rate": [1e-2]}
    for kwargs, match in [(dict(scoring=3), "scoring must be None, a metric name, a callable, a list of metric "
                                            "names or a dict of scorers"),
                          (dict(out_dir=3), "out_dir must be a folder path"),
                          (dict(param_grid={"n_ensemble": [1, 3]}), "n_ensemble cannot be searched"),
                          (dict(estimator=clone(BASE).set_params(epochs=0)),
                           "^estimator.epochs must be a positive integer, got 0$"),
                          (dict(param_grid=None, param_distributions={"learning_rate": [1e-2, 2e-2]}, n_iter=2,
                                initial_points=[{"learning_rate": -1.0}]),
                           r"^initial_points\[0\]: learning_rate must be a finite number >= 0, got -1$")]:
        with pytest.raises(ValueError, match=match):
            LSTMSearchCV(**{"estimator": BASE, "param_grid": grid, "cv": 3, **kwargs}).fit(X, Y)
    optuna = pytest.importorskip("optuna")
    for space, match in [({"dropout": optuna.distributions.FloatDistribution(0, 1.2)},
                           r"^param_distributions\['dropout'\] \(high end\): dropout must be a number in \[0, 1\), "
                           r"got 1.2$"),
                          ({"dropout": optuna.distributions.CategoricalDistribution([0.1, 1.5])},
                           r"param_distributions\['dropout'\].choices\[1\]: dropout must be"),
                          ([{"dropout": [0.1]}], "search='optuna' needs param_distributions as one dict")]:
        with pytest.raises(ValueError, match=match):
            LSTMSearchCV(BASE, param_distributions=space, search="optuna", n_iter=2, cv=3).fit(X, Y)
    assert len(sweep._compiled) == before  # refused before anything compiled
    y = Y.copy()
    y[np.flatnonzero(Y == 2)[2:]] = 1  # two rows of class 2: one of 3 stratified test folds has none
    with pytest.warns(UserWarning, match="scoring 'score' failed on a split, so its score there is NaN"):
        s = LSTMSearchCV(BASE, grid, cv=StratifiedKFold(3), scoring="neg_log_loss").fit(X, y)
    folds = list(StratifiedKFold(3).split(X[:, :, 0], y))
    split = np.array([s.cv_results_[f"split{k}_test_score"][0] for k in range(3)])
    np.testing.assert_array_equal(np.isnan(split), [2 not in y[te] for _, te in folds])
    with pytest.raises(ValueError, match=r"scoring: the callable returned a dict \(\['a'\]\); pass several metrics"):
        LSTMSearchCV(BASE, grid, cv=3, scoring=lambda est, X, y: {"a": 1.0}, refit=False).fit(X, Y)


def test_the_search_checks_scikit_learn_settings_and_says_which_do_nothing():
    # until 2026-12-07 verbose="x", n_jobs="x", return_train_score="yes", refit=1 and refit=None were accepted
    # (GridSearchCV refuses them), and study= without search="optuna" or post_hoc_offsets / fold_models with
    # refit=False were dropped silently
    import warnings

    from jaxlstm.estimator import InactiveParameterWarning

    grid = {"learning_rate": [1e-2]}
    for kwargs, match in [(dict(verbose="x"), "verbose must be True, False or an integer >= 0, got 'x'"),
                          (dict(n_jobs="x"), "n_jobs must be None or an integer, got 'x'"),
                          (dict(return_train_score="yes"), "return_train_score must be True or False, got 'yes'"),
                          (dict(refit=1), "refit must be True, False, a scorer name or a callable, got 1"),
                          (dict(refit=None), "refit must be True, False, a scorer name or a callable, got None")]:
        with pytest.raises(ValueError, match=match):
            LSTMSearchCV(BASE, grid, cv=3, **kwargs).fit(X, Y)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", InactiveParameterWarning)
        LSTMSearchCV(BASE, grid, cv=3, refit=False, post_hoc_offsets=True, fold_models=True, study=object()).fit(X, Y)
    assert [str(w.message) for w in said if w.category is InactiveParameterWarning] == [
        "post_hoc_offsets=True is ignored: a setting of the refit, and refit=False",
        "fold_models=True is ignored: a setting of the refit, and refit=False",
        "study is ignored: continued by search='optuna' only, and this search is 'grid'"]


def test_a_search_without_refit_has_no_predict_as_gridsearchcv():
    # until 2026-12-07 hasattr(search, "predict") was True with refit=False and calling it raised NotFittedError;
    # scikit-learn's tools (stacking, scorers) ask hasattr first, and GridSearchCV hides the method
    grid = {"learning_rate": [1e-2]}
    off = LSTMSearchCV(BASE, grid, cv=3, refit=False)
    assert not hasattr(off, "predict") and not hasattr(off, "predict_proba")
    assert hasattr(GridSearchCV(BASE, grid, refit=False), "predict") is False
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as e:
        off.fit(X, Y).predict(X)
    assert "refit=False, so it holds no refitted model" in str(e.value.__cause__)  # scikit-learn chains ours
    assert hasattr(LSTMSearchCV(BASE, grid, cv=3), "predict_proba")


def test_a_list_of_grids_may_search_hidden_sizes_in_one_and_units_in_another():
    # refused until 2026-12-08 ("every candidate would train units"): the rule is per grid, where it holds
    search = LSTMSearchCV(clone(BASE).set_params(epochs=1), [{"hidden_sizes": [(4,), (4, 4)]}, {"units": [6]}],
                          cv=2, refit=False).fit(X, Y)
    assert search.cv_results_["params"] == [{"hidden_sizes": (4,)}, {"hidden_sizes": (4, 4)}, {"units": 6}]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="hidden_sizes is searched while units is searched"):
        LSTMSearchCV(BASE, {"hidden_sizes": [(4,)], "units": [6]}, cv=2).fit(X, Y)
