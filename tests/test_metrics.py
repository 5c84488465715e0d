"""Metrics equal scikit-learn on random labels and scores, with ties, absent
classes and masks; jit and vmap give the same numbers."""

import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxlstm import metrics as M

TOL = 1e-6
C_MAX = 5
N_MAX = 40

# One compiled version of each metric for all examples: shapes are fixed by
# padding every drawn case to N_MAX rows and masking the rest.


@st.composite
def cases(draw):
    c = draw(st.integers(2, C_MAX))
    n = draw(st.integers(1, N_MAX))
    # few distinct values -> many ties; some classes may be absent
    present = draw(st.lists(st.integers(0, c - 1), min_size=1, max_size=c, unique=True))
    y_true = draw(st.lists(st.sampled_from(present), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    levels = draw(st.integers(2, 6))
    raw = draw(st.lists(st.lists(st.integers(0, levels), min_size=c, max_size=c), min_size=n, max_size=n))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    keep[0] = True
    scores = np.asarray(raw, np.float64) + 0.5
    probs = scores / scores.sum(1, keepdims=True)
    return c, np.asarray(y_true), np.asarray(y_pred), probs.astype(np.float32), np.asarray(keep)


def _pad(c, yt, yp, probs, keep):
    n = len(yt)
    pad = N_MAX - n
    yt_p = np.pad(yt, (0, pad), constant_values=0)
    yp_p = np.pad(yp, (0, pad), constant_values=c - 1)
    pr_p = np.pad(probs, ((0, pad), (0, 0)), constant_values=0.25)
    where = np.pad(keep, (0, pad), constant_values=False)
    return jnp.asarray(yt_p), jnp.asarray(yp_p), jnp.asarray(pr_p), jnp.asarray(where)


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_DIFF: dict[str, float] = {}


def _record(name, got, ref):
    diff = float(np.max(np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64)))) if np.size(ref) else 0.0
    MAX_DIFF[name] = max(MAX_DIFF.get(name, 0.0), diff)
    np.testing.assert_allclose(np.asarray(got, np.float64), ref, atol=TOL, rtol=0, err_msg=name)


JITTED = {}


def _get(name, fn, **static):
    key = (name, tuple(sorted(static.items())))
    if key not in JITTED:
        JITTED[key] = jax.jit(lambda a, b, w: fn(a, b, where=w, **static))
    return JITTED[key]


@SETTINGS
@given(cases())
def test_label_metrics_equal_sklearn(case):
    c, yt, yp, probs, keep = case
    ytp, ypp, _, where = _pad(c, yt, yp, probs, keep)
    yt_m, yp_m = yt[keep], yp[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _record("confusion_matrix", _get("cm", M.confusion_matrix, num_classes=c)(ytp, ypp, where),
                skm.confusion_matrix(yt_m, yp_m, labels=range(c)))
        _record("accuracy_score", _get("acc", M.accuracy_score)(ytp, ypp, where), skm.accuracy_score(yt_m, yp_m))
        _record("balanced_accuracy_score", _get("bal", M.balanced_accuracy_score, num_classes=c)(ytp, ypp, where),
                skm.balanced_accuracy_score(yt_m, yp_m))
        _record("matthews_corrcoef", _get("mcc", M.matthews_corrcoef, num_classes=c)(ytp, ypp, where),
                skm.matthews_corrcoef(yt_m, yp_m))
        for avg in ("macro", "weighted", "micro"):
            for name, ours, ref in (("precision_score", M.precision_score, skm.precision_score),
                                    ("recall_score", M.recall_score, skm.recall_score),
                                    ("f1_score", M.f1_score, skm.f1_score)):
                got = _get(name, ours, num_classes=c, average=avg)(ytp, ypp, where)
                _record(f"{name}[{avg}]", got, ref(yt_m, yp_m, average=avg, zero_division=0))
        p, r, f, s = _get("prfs", M.precision_recall_fscore_support, num_classes=c)(ytp, ypp, where)
        rp, rr, rf, rs = skm.precision_recall_fscore_support(yt_m, yp_m, labels=range(c), zero_division=0)
        for name, a, b in (("precision[None]", p, rp), ("recall[None]", r, rr), ("f1[None]", f, rf),
                           ("support[None]", s, rs)):
            _record(name, a, b)


def _sk_ovr(binary, yt, probs, c, average):
    """scikit-learn's binary score per class, averaged over the classes with
    both positive and negative rows (the documented jaxlstm convention)."""
    vals, weights = [], []
    for k in range(c):
        pos = yt == k
        if pos.any() and (~pos).any():
            vals.append(binary(pos.astype(int), probs[:, k]))
            weights.append(pos.sum())
    if not vals:
        return np.nan
    return np.average(vals, weights=weights if average == "weighted" else None)


@SETTINGS
@given(cases())
def test_score_metrics_equal_sklearn(case):
    c, yt, yp, probs, keep = case
    ytp, _, prp, where = _pad(c, yt, yp, probs, keep)
    yt_m, pr_m = yt[keep], probs[keep].astype(np.float64)
    for avg in ("macro", "weighted"):
        for name, ours, binary in (("roc_auc_score", M.roc_auc_score, skm.roc_auc_score),
                                   ("average_precision_score", M.average_precision_score,
                                    skm.average_precision_score)):
            got = _get(name, ours, num_classes=c, average=avg)(ytp, prp, where)
            ref = _sk_ovr(binary, yt_m, pr_m, c, avg)
            if np.isnan(ref):
                assert np.isnan(float(got))
            else:
                _record(f"{name}[{avg}]", got, ref)
    # when every class is present, scikit-learn's own multi-class OvR agrees too
    if len(np.unique(yt_m)) == c and c > 2:
        sk = skm.roc_auc_score(yt_m, pr_m, multi_class="ovr", average="macro", labels=range(c))
        _record("roc_auc_score[sklearn ovr]", _get("roc_auc_score", M.roc_auc_score, num_classes=c, average="macro")(ytp, prp, where), sk)
    _record("log_loss", _get("ll", M.log_loss)(ytp, prp, where),
            skm.log_loss(yt_m, probs[keep], labels=range(c)))


def test_classification_report_equals_sklearn_dict():
    rng = np.random.default_rng(0)
    yt = rng.choice(5, 200, p=[0.5, 0.3, 0.1, 0.1, 0.0])
    yp = np.where(rng.random(200) < 0.7, yt, rng.integers(0, 4, 200))
    names = ["a", "b", "c", "d", "e"]
    ours = M.classification_report(yt, yp, 5, target_names=names)
    present = np.union1d(yt, yp)
    ref = skm.classification_report(yt, yp, labels=present, target_names=[names[i] for i in present],
                                     output_dict=True, zero_division=0)
    assert set(ours) == set(ref)
    for k, v in ref.items():
        if isinstance(v, dict):
            for m, x in v.items():
                assert ours[k][m] == pytest.approx(x, abs=1e-6), (k, m)
        else:
            assert ours[k] == pytest.approx(v, abs=1e-6)


def test_masked_equals_sklearn_on_unmasked_rows_and_vmap_equals_loop():
    rng = np.random.default_rng(1)
    members, n, c = 8, 64, 4
    yt = jnp.asarray(rng.integers(0, c, (members, n)))
    logits = rng.normal(size=(members, n, c)).astype(np.float32)
    probs = jnp.asarray(jax.nn.softmax(logits, -1))
    where = jnp.asarray(rng.random((members, n)) < 0.7)
    funcs = {
        "f1": lambda y, p, w: M.f1_score(y, jnp.argmax(p, -1), c, "macro", w),
        "auc": lambda y, p, w: M.roc_auc_score(y, p, c, "macro", w),
        "ap": lambda y, p, w: M.average_precision_score(y, p, c, "weighted", w),
        "mcc": lambda y, p, w: M.matthews_corrcoef(y, jnp.argmax(p, -1), c, w),
        "ll": lambda y, p, w: M.log_loss(y, p, where=w),
    }
    for name, fn in funcs.items():
        batched = jax.jit(jax.vmap(fn))(yt, probs, where)
        loop = np.array([fn(yt[i], probs[i], where[i]) for i in range(members)])
        np.testing.assert_allclose(batched, loop, atol=1e-6, err_msg=name)
    for i in range(members):
        w = np.asarray(where[i])
        y_i, p_i = np.asarray(yt[i])[w], np.asarray(probs[i])[w].astype(np.float64)
        np.testing.assert_allclose(funcs["f1"](yt[i], probs[i], where[i]),
                                   skm.f1_score(y_i, p_i.argmax(-1), average="macro"), atol=1e-6)
        np.testing.assert_allclose(funcs["auc"](yt[i], probs[i], where[i]),
                                   skm.roc_auc_score(y_i, p_i / p_i.sum(1, keepdims=True), multi_class="ovr"),
                                   atol=1e-6)


def test_every_metric_takes_num_classes_third_and_where_only_by_keyword():
    # accuracy_score and log_loss took `where` third: accuracy_score(y, p, 3)
    # returned the count correct (4.0) and log_loss(y, probs, 3) the sum.
    yt, yp = jnp.array([0, 1, 2, 0, 1, 2]), jnp.array([0, 1, 2, 0, 0, 0])
    probs = jnp.asarray(np.random.default_rng(0).dirichlet(np.ones(3), 6), jnp.float32)
    assert float(M.accuracy_score(yt, yp, 3)) == pytest.approx(skm.accuracy_score(yt, yp))
    assert float(M.log_loss(yt, probs, 3)) == pytest.approx(skm.log_loss(yt, np.asarray(probs, np.float64)), rel=1e-5)
    keep = jnp.array([True, True, False, True, False, True])
    assert float(M.accuracy_score(yt, yp, 3, where=keep)) == pytest.approx(skm.accuracy_score(yt[keep], yp[keep]))
    with pytest.raises(TypeError):
        M.accuracy_score(yt, yp, 3, keep)
    for fn, second in ((M.accuracy_score, yp), (M.log_loss, probs)):  # the old call with the mask third
        with pytest.raises(TypeError, match="num_classes must be an int, got ArrayImpl; pass a mask as where="):
            fn(yt, second, keep)
    with pytest.raises(ValueError, match="num_classes = 4 but y_prob has 3 columns"):
        M.log_loss(yt, probs, 4)
    with pytest.raises(ValueError, match=r"where must be a Bool mask or Float weights of y_true's shape \(6,\), got "
                                         r"shape \(\)"):
        M.f1_score(yt, yp, 3, where=True)


@pytest.mark.parametrize("seed", range(6))
def test_weights_as_where_equal_sklearn_sample_weight(seed):
    """``where`` as float weights: every scorer equals scikit-learn's with
    ``sample_weight`` (ties in the scores included), a zero weight leaves its
    row out, and 0/1 weights equal the boolean mask."""
    rng = np.random.default_rng(seed)
    n, c = (40, 2) if seed % 2 else (60, 4)
    y = rng.integers(0, c, n)
    y[:c] = np.arange(c)
    probs = rng.dirichlet(np.ones(c), n)
    if seed % 3 == 0:  # coarse scores: many ties
        probs = np.round(probs, 1) + 1e-3
        probs /= probs.sum(1, keepdims=True)
    probs = probs.astype(np.float32)
    w = rng.uniform(0.1, 3.0, n).astype(np.float32)
    w[c + rng.choice(n - c, 5, replace=False)] = 0.0
    pred = probs.argmax(1)
    sw, p64 = w.astype(np.float64), probs.astype(np.float64)
    pos = w > 0  # scikit-learn's macro averages count a class present only in zero-weight rows (see conventions)
    want = {
        "accuracy": skm.accuracy_score(y, pred, sample_weight=sw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=sw),
        "f1_macro": skm.f1_score(y[pos], pred[pos], average="macro", sample_weight=sw[pos], zero_division=0),
        "f1_weighted": skm.f1_score(y, pred, average="weighted", sample_weight=sw, zero_division=0),
        "precision_macro": skm.precision_score(y[pos], pred[pos], average="macro", sample_weight=sw[pos],
                                               zero_division=0),
        "recall_weighted": skm.recall_score(y, pred, average="weighted", sample_weight=sw, zero_division=0),
        "matthews_corrcoef": skm.matthews_corrcoef(y, pred, sample_weight=sw),
        "neg_log_loss": -skm.log_loss(y, p64, sample_weight=sw, labels=range(c)),
    }
    if c == 2:
        want["roc_auc"] = skm.roc_auc_score(y, p64[:, 1], sample_weight=sw)
        want["average_precision"] = skm.average_precision_score(y, p64[:, 1], sample_weight=sw)
    else:
        want["roc_auc_ovr"] = skm.roc_auc_score(y, p64, multi_class="ovr", sample_weight=sw)
        want["roc_auc_ovr_weighted"] = skm.roc_auc_score(y, p64, multi_class="ovr", average="weighted",
                                                         sample_weight=sw)
        want["average_precision"] = skm.average_precision_score(np.eye(c)[y], p64, sample_weight=sw)
    for name, value in want.items():
        got = M.SCORERS[name].fn(jnp.asarray(y), jnp.asarray(probs), c, jnp.asarray(w))
        assert float(got) == pytest.approx(value, abs=2e-5), name
        ones = M.SCORERS[name].fn(jnp.asarray(y), jnp.asarray(probs), c, jnp.asarray(pos, jnp.float32))
        mask = M.SCORERS[name].fn(jnp.asarray(y), jnp.asarray(probs), c, jnp.asarray(pos))
        assert float(ones) == pytest.approx(float(mask), abs=1e-6), name
    np.testing.assert_allclose(M.confusion_matrix(jnp.asarray(y), jnp.asarray(pred), c, where=jnp.asarray(w)),
                               skm.confusion_matrix(y, pred, labels=range(c), sample_weight=sw), rtol=1e-6)
    counts = np.where(w > 0, 1 + np.arange(n) % 3, 0)  # integer weights are weights too, not a 0/1 mask
    assert float(M.f1_score(jnp.asarray(y), jnp.asarray(pred), c, "weighted", where=counts)) == pytest.approx(
        skm.f1_score(y, pred, average="weighted", sample_weight=counts, zero_division=0), abs=2e-5)
    assert float(M.accuracy_score(jnp.asarray(y), jnp.asarray(pred), where=list(pos))) == pytest.approx(
        skm.accuracy_score(y[pos], pred[pos]))  # a list mask (a TypeError for one state of this change)


def test_absent_class_conventions():
    yt = jnp.array([0, 0, 1, 1])
    yp = jnp.array([0, 1, 1, 1])
    probs = jnp.array([[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    per_class = M.f1_score(yt, yp, 3, average=None)
    assert float(per_class[2]) == 0.0  # zero_division=0
    assert float(M.f1_score(yt, yp, 3)) == pytest.approx(skm.f1_score(yt, yp, average="macro"))
    auc = M.roc_auc_score(yt, probs, 3, average=None)
    assert np.isnan(float(auc[2]))  # no positives: undefined, left out
    assert float(M.roc_auc_score(yt, probs, 3)) == pytest.approx(np.mean([skm.roc_auc_score(yt == k, probs[:, k]) for k in (0, 1)]))
    assert np.isnan(float(M.roc_auc_score(jnp.array([0, 0]), probs[:2], 3)))


def test_nan_scores_are_refused_as_scikit_learn_refuses_them():
    # until 2026-12-07 a NaN score gave a plausible ROC-AUC (0.583) and average precision (0.581)
    p = np.random.default_rng(0).dirichlet(np.ones(3), 6)
    p[0, 0] = np.nan
    y = np.array([0, 1, 2, 0, 1, 2])
    for metric, args in ((M.roc_auc_score, (y, p, 3)), (M.average_precision_score, (y, p, 3)),
                         (M.roc_auc_score, (y[:4] % 2, p[:4, 0], 2))):
        with pytest.raises(ValueError, match=re.escape("y_score contains NaN (1 row(s)); scikit-learn refuses it")):
            metric(*args)
        with pytest.raises(ValueError, match="Input contains NaN"):
            skm.roc_auc_score(y, p, multi_class="ovr") if args[2] == 3 else skm.roc_auc_score(*args[:2])
    keep = np.arange(6) > 0  # a NaN in a row left out is padding: scored without it
    assert float(M.roc_auc_score(y, p, 3, where=keep)) == pytest.approx(
        skm.roc_auc_score(y[keep], p[keep], multi_class="ovr"))


def test_roc_auc_on_more_rows_than_an_int32_pair_count_holds():
    # 50k positives x 50k negatives = 2.5e9 pairs > 2**31 - 1: the pair count
    # must not be an int32 product (it wrapped to a negative and gave ~1e9).
    rng = np.random.default_rng(0)
    n = 100_000
    y = np.repeat(np.arange(2, dtype=np.int32), n // 2)
    p1 = np.clip(rng.random(n) + 0.3 * y, 0, 1).astype(np.float32)
    probs = jnp.asarray(np.c_[1 - p1, p1])
    want = skm.roc_auc_score(y, p1)
    assert 0.6 < want < 0.9
    assert float(M.roc_auc_score(jnp.asarray(y), probs, 2, average=None)[1]) == pytest.approx(want, abs=1e-5)
    assert float(M.SCORERS["roc_auc"].fn(jnp.asarray(y), probs, 2, None)) == pytest.approx(want, abs=1e-5)


def test_scorers_registry():
    y = jnp.array([0, 1, 2, 2])
    p = jnp.eye(3)[jnp.array([0, 1, 2, 1])] * 0.85 + 0.05
    assert float(M.get_scorer("accuracy").fn(y, p, 3, None)) == 0.75
    assert float(M.get_scorer("neg_log_loss").fn(y, p, 3, None)) < 0
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_scorer("auc")


def test_report_max_differences():
    """Runs last in this module: prints the largest difference seen per metric."""
    for name, diff in sorted(MAX_DIFF.items()):
        print(f"max |jaxlstm - sklearn| {name:<38} {diff:.2e}")
    assert all(d <= TOL for d in MAX_DIFF.values())


def test_binary_scorers_match_scikit_learn():
    from jaxlstm.metrics import SCORERS

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    p = rng.random(50)
    probs = jnp.asarray(np.c_[1 - p, p], jnp.float32)
    for name, ref in [("f1", skm.f1_score(y, p > 0.5)), ("precision", skm.precision_score(y, p > 0.5)),
                      ("recall", skm.recall_score(y, p > 0.5)), ("roc_auc", skm.roc_auc_score(y, p)),
                      ("average_precision", skm.average_precision_score(y, p))]:
        np.testing.assert_allclose(float(SCORERS[name].fn(jnp.asarray(y), probs, 2, None)), ref, atol=1e-6,
                                   err_msg=name)
    with pytest.raises(ValueError, match="two classes"):
        SCORERS["f1"].fn(jnp.asarray(y), jnp.ones((50, 3)) / 3, 3, None)


def _biased_probs(seed, n, c, prior):
    """Probabilities of a model that leans towards the frequent classes."""
    rng = np.random.default_rng(seed)
    y = rng.choice(c, size=n, p=prior)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[y] + 2.0 * np.log(prior)
    p = np.exp(logits - logits.max(1, keepdims=True))
    return y.astype(np.int32), (p / p.sum(1, keepdims=True)).astype(np.float32)


def test_fit_logit_offsets_is_the_exhaustive_threshold_search_for_two_classes():
    from sklearn.metrics import balanced_accuracy_score, f1_score

    for seed, metric, sk in ((0, "balanced_accuracy", balanced_accuracy_score),
                             (1, "f1_macro", lambda a, b: f1_score(a, b, average="macro"))):
        y, p = _biased_probs(seed, 300, 2, np.array([0.85, 0.15]))
        got = np.asarray(M.fit_logit_offsets(y, p, 2, metric))
        logp = np.log(p)
        grid = np.asarray(M.OFFSET_GRID, np.float32)
        scores = np.array([sk(y, np.argmax(logp + np.array([0, v], np.float32), 1)) for v in grid])
        base = sk(y, np.argmax(logp, 1))
        expect = 0.0 if base >= scores.max() else grid[scores == scores.max()][np.argmin(np.abs(grid[scores == scores.max()]))]
        assert got[0] == 0 and got[1] == pytest.approx(expect)
        after = sk(y, np.argmax(logp + got, 1))
        assert after == pytest.approx(scores.max()) and after > base + 0.02


def test_fit_logit_offsets_raise_balanced_accuracy_on_imbalanced_multiclass_to_a_coordinate_optimum():
    from sklearn.metrics import balanced_accuracy_score

    y, p = _biased_probs(2, 600, 4, np.array([0.6, 0.25, 0.1, 0.05]))
    where = np.arange(600) < 500  # the last rows do not count
    o = np.asarray(jax.jit(M.fit_logit_offsets, static_argnums=(2, 3, 5, 6))(y, p, 4, "balanced_accuracy",
                                                                                     where, M.OFFSET_GRID, 10))
    before = balanced_accuracy_score(y[:500], np.argmax(p[:500], 1))
    after = balanced_accuracy_score(y[:500], np.argmax(np.log(p[:500]) + o, 1))
    assert after > before + 0.05 and o[0] == 0 and (o[1:] > 0).all()  # rare classes are pushed up
    # coordinate-wise optimal: no single class's offset on the grid scores higher with the others held
    logp, grid = np.log(p[:500]), np.asarray(M.OFFSET_GRID, np.float32)
    for c in range(1, 4):
        for v in grid:
            moved = o.copy()
            moved[c] = v
            assert balanced_accuracy_score(y[:500], np.argmax(logp + moved, 1)) <= after + 1e-12
    with pytest.raises(ValueError, match="needs a metric of predicted labels"):
        M.fit_logit_offsets(y, p, 4, "roc_auc_ovr")


def test_offset_decisions_are_the_argmax_of_log_probabilities_plus_offsets():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(4), 200)
    p[:5] = [1.0, 0.0, 0.0, 0.0]  # a zero probability: a very negative log, not -inf + offset = nan
    o = np.array([0.0, 0.7, -0.4, 2.5])
    ref = np.argmax(np.log(np.maximum(p, np.finfo(np.float32).tiny)) + o, 1)  # float64 NumPy
    np.testing.assert_array_equal(M.offset_decisions(p.astype(np.float32), o), ref)
    np.testing.assert_array_equal(M.offset_decisions(p, np.zeros(4)), p.argmax(1))
    assert (np.asarray(M.offset_decisions(p[:5], [0.0, 90.0, 0.0, 0.0])) == 1).all()  # log(tiny) ~ -87.3


def _selection_reference(y, probs, metric, picks, first):
    """Caruana et al.'s greedy forward selection with replacement in float64
    NumPy with scikit-learn's metric: candidates compared by (metric, -log
    loss), the first of equals; the best step of the path kept."""
    def quality(counts):
        p = sum(c * probs[i] for i, c in counts.items()) / sum(counts.values())
        return metric(y, p), -skm.log_loss(y, p, labels=range(probs.shape[2]))

    counts = {first: 1}
    best = (quality(counts), dict(counts))
    for _ in range(picks - 1):
        trials = [quality({**counts, i: counts.get(i, 0) + 1}) for i in range(len(probs))]
        i = max(range(len(probs)), key=lambda i: (trials[i], -i))
        q = trials[i]
        counts[i] = counts.get(i, 0) + 1
        if q > best[0]:
            best = (q, dict(counts))
    out = np.zeros(len(probs), int)
    for i, c in best[1].items():
        out[i] = c
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [90, 20])
def test_ensemble_selection_is_caruanas_greedy_selection(seed, n):
    """Against a float64 NumPy + scikit-learn reference on noisy models of an
    imbalanced 3-class problem, with balanced accuracy (on 20 rows its ties
    are common, so log loss decides) and ROC-AUC; jitted; one pick is the
    first model alone."""
    r = np.random.default_rng(seed)
    y = np.r_[0, 1, 2, r.choice(3, size=n - 3, p=[0.6, 0.3, 0.1])]
    logits = 1.2 * np.eye(3)[y][None] + r.normal(size=(6, n, 3)) * r.uniform(0.8, 2.0, size=(6, 1, 1))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    first = int(r.integers(6))
    bal = lambda t, p: skm.balanced_accuracy_score(t, p.argmax(1))
    auc = lambda t, p: skm.roc_auc_score(t, p, multi_class="ovr")
    for name, ref in (("balanced_accuracy", bal), ("roc_auc_ovr", auc)):
        got = jax.jit(M.ensemble_selection, static_argnames=("num_classes", "metric", "picks"))(
            y, probs.astype(np.float32), 3, name, 5, first)
        np.testing.assert_array_equal(got, _selection_reference(y, probs, ref, 5, first), err_msg=name)
    only = np.zeros(6, int)
    only[first] = 1
    np.testing.assert_array_equal(M.ensemble_selection(y, probs, 3, picks=1, first=first), only)
    with pytest.raises(ValueError, match="picks must be an integer >= 1"):
        M.ensemble_selection(y, probs, 3, picks=0)
    for bad in (6, -1):
        with pytest.raises(ValueError, match=f"first must index one of the 6 models, got {bad}"):
            M.ensemble_selection(y, probs, 3, first=bad)


@pytest.mark.parametrize("name", ["roc_auc", "f1", "precision", "recall"])
def test_a_two_class_scorer_on_three_classes_names_scorers_that_exist(name):
    # 'roc_auc' pointed at roc_auc_macro / roc_auc_weighted, which are not scorers, until 2026-12-04
    y, p = jnp.array([0, 1, 2, 1]), jnp.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=f"scorer '{name}' is for two classes, got 3; use ") as e:
        M.SCORERS[name].fn(y, p, 3, None)
    for suggested in re.findall(r"use (\w+) or (\w+)", str(e.value))[0]:
        assert suggested in M.SCORERS, suggested


def test_scikit_learns_binary_forms_and_label_checks():
    """``average="binary"`` and a 1-D score or probability are scikit-learn's
    binary defaults (class 1's score); out-of-range labels and unnormalised
    probabilities are named in concrete calls. Until 2026-12-05 binary F1
    was macro while the docs said scikit-learn's defaults, a 1-D score raised
    from inside vmap, and a label of 3 with 3 classes dropped out of the counts."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 50)
    s = np.clip(0.3 * y + rng.uniform(0, 0.7, 50), 0, 1).round(2).astype(np.float32)  # ties included
    pred = (s > 0.5).astype(int)
    for ours, theirs in ((M.f1_score, skm.f1_score), (M.precision_score, skm.precision_score),
                         (M.recall_score, skm.recall_score)):
        assert float(ours(jnp.asarray(y), jnp.asarray(pred), 2, average="binary")) == pytest.approx(
            theirs(y, pred), abs=1e-6)
        assert float(ours(jnp.asarray(y), jnp.asarray(pred), 2)) == pytest.approx(
            theirs(y, pred, average="macro"), abs=1e-6)  # the default stays macro, as documented
    assert float(M.roc_auc_score(jnp.asarray(y), s, 2)) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-6)
    ap = float(M.average_precision_score(jnp.asarray(y), s, 2))
    assert ap == pytest.approx(skm.average_precision_score(y, s), abs=1e-6)
    assert ap != pytest.approx(float(M.average_precision_score(jnp.asarray(y), np.stack([1 - s, s], 1), 2)),
                               abs=1e-3)  # 2-D scores average both classes: the 1-D form really is class 1's
    assert float(M.log_loss(jnp.asarray(y), s * 0.98 + 0.01)) == pytest.approx(
        skm.log_loss(y, s.astype(np.float64) * 0.98 + 0.01), rel=1e-5)
    with pytest.raises(ValueError, match=r"average='binary' scores class 1 of two classes; num_classes is 3"):
        M.f1_score(jnp.array([0, 1, 2]), jnp.array([0, 1, 2]), 3, average="binary")
    with pytest.raises(ValueError, match=r"y_score is 1-D.*num_classes is 3: pass Float\[batch, 3\]"):
        M.roc_auc_score(jnp.array([0, 1, 2]), jnp.array([0.1, 0.5, 0.9]), 3)
    with pytest.raises(ValueError, match=r"y_score must be Float\[batch, num_classes\] = \(3, 3\).*got shape \(3, 2\)"):
        M.roc_auc_score(jnp.array([0, 1, 2]), jnp.ones((3, 2)), 3)
    with pytest.raises(ValueError, match=r"y_true must be class indices in \[0, 3\) for num_classes=3; got 3 \(1 out"):
        M.balanced_accuracy_score(jnp.array([0, 1, 3]), jnp.array([0, 1, 2]), 3)
    with pytest.raises(ValueError, match=r"y_pred must be class indices in \[0, 2\).*got -1"):
        M.f1_score(jnp.array([0, 1, 1]), jnp.array([0, -1, 1]), 2)
    with pytest.raises(ValueError, match=r"y_true must be class indices in \[0, 2\).*got 2"):
        M.roc_auc_score(jnp.array([0, 1, 2]), jnp.ones((3, 2)) / 2, 2)
    # rows left out by where are not checked (padding may hold any label); traced code is not checked
    assert float(M.accuracy_score(jnp.array([0, 1, 5]), jnp.array([0, 1, 5]), 2)) == 1.0
    assert float(M.f1_score(jnp.array([0, 1, -1]), jnp.array([0, 1, 0]), 2, where=jnp.array([True, True, False]))) \
        == 1.0
    assert np.isfinite(float(jax.jit(M.balanced_accuracy_score, static_argnums=2)(
        jnp.array([0, 1, 3]), jnp.array([0, 1, 2]), 3)))
    with pytest.warns(UserWarning, match="The y_prob values do not sum to one"):
        M.log_loss(jnp.array([0, 1]), jnp.array([[0.2, 0.3], [0.1, 0.6]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a padding row left out by where is not checked
        M.log_loss(jnp.array([0, 1]), jnp.array([[0.4, 0.6], [0.0, 0.0]]), where=jnp.array([True, False]))
        M.log_loss(jnp.array([0, 1]), jnp.array([[0.4, 0.6], [-1.0, 2.0]]), where=jnp.array([True, False]))
    # probabilities outside [0, 1] are an error, as scikit-learn's (a 1-D 1.3 was read as [-0.3, 1.3] until 2026-12-05)
    with pytest.raises(ValueError, match=r"y_prob must be probabilities in \[0, 1\]; got 1.3 \(1 outside\)"):
        M.log_loss(jnp.array([0, 1]), np.array([0.2, 1.3]))
    with pytest.raises(ValueError, match=r"y_prob must be probabilities in \[0, 1\]; got -1.0 \(2 outside\)"):
        M.log_loss(jnp.array([0, 1]), np.array([[0.8, 0.2], [-1.0, 2.0]]))
    w = np.array([1, 5, 1, 1, 1]) / 9  # ensemble selection's float64 blend of saturated float32 rows: 1 + 2e-16
    assert float(M.log_loss(np.ones(4, int), np.tensordot(w, np.tile([0.0, 1.0], (5, 4, 1)), axes=1))) < 1e-6
    with pytest.raises(ValueError, match=r"where must be a Bool mask.*got shape \(2, 1\)"):
        M.log_loss(jnp.array([0, 1]), np.array([[0.8, 0.2], [-1.0, 2.0]]), where=np.array([[True], [False]]))


def test_log_loss_takes_the_probability_forms_scikit_learn_takes():
    # one column is class 1's probability, as a 1-D array is; 0/1 integers and booleans are probabilities too
    # (until 2026-12-05 one column raised "y_true must be class indices in [0, 1)" and integers a dtype error);
    # jaxlstm computes in float32, so the reference is scikit-learn on float32 input (on raw integers scikit-learn
    # clips at float64's eps: a wrong hard 0 costs 36.0 there, 15.9 in float32)
    y = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.2, 0.7, 0.9, 0.1, 0.4])
    hard = np.eye(2, dtype=int)[[0, 1, 0, 0, 1]]
    for given, ref in ((p1[:, None], p1), (hard, hard), (hard.astype(bool), hard), (hard[:, 1], hard[:, 1])):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # one column does not "sum to one" and is not warned about
            got = float(M.log_loss(y, given))
        assert got == pytest.approx(skm.log_loss(y, np.asarray(ref, np.float32)), rel=1e-4), given.dtype


def test_negative_or_nan_sample_weights_are_refused_with_the_row_named():
    # until 2026-12-07 accepted: f1_score 1.333 (as scikit-learn's), a NaN weight a NaN score
    y, p = np.array([0, 1, 1]), np.array([0, 0, 1])
    for w, said in (([1.0, -0.5, 1.0], "row 1 has -0.5"), ([1.0, 1.0, np.nan], "row 2 has nan")):
        w = np.array(w)
        for metric in (lambda: M.f1_score(y, p, 2, where=w), lambda: M.accuracy_score(y, p, where=w),
                       lambda: M.roc_auc_score(y, np.eye(2)[p], 2, where=w)):
            with pytest.raises(ValueError, match=re.escape("where holds sample weights, which must be finite and "
                                                           f">= 0; {said}")):
                metric()
    assert float(M.f1_score(y, p, 2, where=np.array([1.0, 0.0, 2.0]))) == pytest.approx(
        skm.f1_score(y, p, average="macro", sample_weight=[1.0, 0.0, 2.0]))

