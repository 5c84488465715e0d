"""Classification metrics in pure JAX, equal to ``sklearn.metrics``.

Every function takes integer labels in ``[0, num_classes)``, ``num_classes``
explicitly (static: it fixes array shapes) and an optional sample mask
``where=`` (``Bool[batch]``) so the same compiled code scores padded batches,
held-out folds and vmapped sweep members. All are jit-able and vmappable.
``where`` may instead be sample weights (``Float[batch]`` or integers,
``>= 0``; a zero leaves its row out): each row then counts its weight, as
scikit-learn's ``sample_weight`` (a boolean mask is the same as weights 0 and 1).

Conventions (scikit-learn's, except the default ``average``):

* Precision, recall and F1 default to ``average="macro"`` for any number of
  classes, as multi-class code needs; scikit-learn's default,
  ``"binary"`` (class 1's score, two classes only), is ``average="binary"``.
  A 1-D ``y_score`` (two classes, the score of class 1) is scikit-learn's
  binary form: ROC-AUC and average precision then return class 1's score.
* Called with concrete arrays (not under ``jit``/``vmap``), labels outside
  ``[0, num_classes)`` (among the selected rows) are a ``ValueError`` in the
  metrics that take ``num_classes`` (``accuracy_score`` compares labels and
  does not check them); ``log_loss`` raises, as scikit-learn does, on
  probabilities outside ``[0, 1]`` and warns when they do not sum to 1;
  ROC-AUC and average precision raise on NaN scores, as scikit-learn does;
  sample weights (``where`` as numbers) must be finite and ``>= 0``.
  Traced code cannot check values and is not checked.
* Metrics compute in float32 (float64 inputs are cast unless JAX's x64 is
  on): they equal scikit-learn's up to float32 rounding, and ``log_loss``
  clips probabilities at the ``eps`` of the dtype it computes in.
* ``average="macro"`` averages over the classes that occur in ``y_true`` or
  ``y_pred`` among the selected rows, as scikit-learn does with
  ``labels=None``. ``average=None`` returns all ``num_classes`` entries
  (scikit-learn with ``labels=range(num_classes)``); a class that is neither
  true nor predicted there gets 0.
* ``zero_division=0``: a precision, recall or F1 whose denominator is 0 is 0.
* ROC-AUC and average precision are one-vs-rest; a class with no positive or no
  negative row among the selected rows has no defined score and is left out of
  the average (``average=None`` gives NaN for it; scikit-learn's macro average
  with ``labels`` is NaN then, and without them an error). If no class
  qualifies the result is NaN.
* With weights, a class all of whose rows weigh 0 counts as absent (scikit-
  learn's macro averages of precision, recall and F1 would count it, as 0).
"""

from __future__ import annotations

import warnings
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm._checks import did_you_mean

Array = jax.Array

__all__ = [
    "ensemble_selection",
    "fit_logit_offsets",
    "offset_decisions",
    "LABEL_SCORERS",
    "confusion_matrix",
    "accuracy_score",
    "balanced_accuracy_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "precision_recall_fscore_support",
    "matthews_corrcoef",
    "roc_auc_score",
    "average_precision_score",
    "log_loss",
    "classification_report",
    "Scorer",
    "SCORERS",
    "get_scorer",
    "check_scoring_name",
]

_AVERAGES = (None, "macro", "weighted", "micro", "binary")


def _concrete(x) -> np.ndarray | None:
    """``x`` as a NumPy array, or ``None`` while tracing (values unknown)."""
    return None if isinstance(x, jax.core.Tracer) else np.asarray(x)


def _selected(x, where) -> np.ndarray | None:
    """The rows of concrete ``x`` that ``where`` selects (padding rows may
    hold anything), or ``None`` while either is traced."""
    a, w = _concrete(x), None if where is None else _concrete(where)
    if a is None or (where is not None and w is None):
        return None
    if w is not None and w.shape != a.shape[:1]:
        return None  # a wrong shape is _valid's error, not a value's
    if w is not None:
        a = a[w > 0] if w.dtype != bool else a[w]
    return a


def _check_labels(y, num_classes: int, name: str, where=None) -> None:
    """Concrete labels (among the rows ``where`` selects) must be class
    indices in ``[0, num_classes)``: out of range they would be dropped
    from the counts (or clamped) silently."""
    a = _selected(y, where)
    if a is None or a.size == 0:
        return
    if a.dtype.kind not in "iub" and not np.all(np.isfinite(a) & (a == np.round(a))):
        raise ValueError(f"{name} must be class indices (integers in [0, {num_classes})); got values such as "
                         f"{a[~(np.isfinite(a) & (a == np.round(a)))][0].item()!r}")
    bad = (a < 0) | (a >= num_classes)
    if bad.any():
        raise ValueError(f"{name} must be class indices in [0, {num_classes}) for num_classes={num_classes}; got "
                         f"{a[bad][0].item()!r} ({int(bad.sum())} out of range): encode labels first, e.g. "
                         "np.unique(y, return_inverse=True)")


def _weighted(where) -> bool:
    """``where`` holds sample weights (numbers), not a ``Bool`` mask (static: the dtype)."""
    return where is not None and jnp.asarray(where).dtype != jnp.bool_


def _row_weights(y_true: Array, where: Array | None) -> Array:
    """``where`` as ``Float32[batch]`` weights: a mask's 0/1, or the weights (shape checked)."""
    valid = _valid(y_true, where)
    return jnp.asarray(where, jnp.float32) if _weighted(where) else valid.astype(jnp.float32)


def _valid(y_true: Array, where: Array | None) -> Array:
    if where is None:
        return jnp.ones(y_true.shape, bool)
    if np.shape(where) != np.shape(y_true):  # shapes are static: this raises while tracing
        raise ValueError(f"where must be a Bool mask or Float weights of y_true's shape "
                         f"{tuple(np.shape(y_true))}, got shape {tuple(np.shape(where))}")
    w = _concrete(where) if _weighted(where) else None
    if w is not None and not np.all(np.isfinite(w) & (w >= 0)):  # scikit-learn's F1 of 1.33 there means nothing
        bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(f"where holds sample weights, which must be finite and >= 0; row {bad} has {w[bad].item()!r}")
    return jnp.asarray(where) > 0 if _weighted(where) else jnp.asarray(where, bool)  # a list: as an array


def confusion_matrix(y_true: Array, y_pred: Array, num_classes: int,
                     where: Array | None = None) -> Array:
    """Counts ``C[i, j]`` of rows with true class ``i`` predicted as ``j``.

    Args:
      y_true, y_pred: ``Int[batch]``.
      num_classes: ``C`` (static).
      where: ``Bool[batch]``, ``Float[batch]`` weights (each row counts its weight) or ``None``.
    Returns:
      ``Float[classes, classes]`` (float so it can be averaged over members).
    """
    _check_labels(y_true, num_classes, "y_true", where)
    _check_labels(y_pred, num_classes, "y_pred", where)
    w = _row_weights(y_true, where)
    flat = y_true.astype(jnp.int32) * num_classes + y_pred.astype(jnp.int32)
    counts = jnp.zeros(num_classes * num_classes, jnp.float32).at[flat].add(w)
    return counts.reshape(num_classes, num_classes)


def _check_num_classes(num_classes) -> None:
    # accuracy_score and log_loss took the mask third until 2026-12-04: a mask there now is an error, not ignored
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}; pass a mask as where=")


def accuracy_score(y_true: Array, y_pred: Array, num_classes: int | None = None, *,
                   where: Array | None = None) -> Array:
    """Fraction of selected rows predicted correctly (0 if none selected).
    ``num_classes`` is accepted like every metric's, and not needed."""
    _check_num_classes(num_classes)
    w = _valid(y_true, where)
    if _weighted(where):
        v = _row_weights(y_true, where)
        return _safe_div(jnp.sum(jnp.where(y_true == y_pred, v, 0.0)), jnp.sum(v))
    correct = jnp.sum(jnp.where(w, y_true == y_pred, False))
    return correct / jnp.maximum(jnp.sum(w), 1)


def _safe_div(num: Array, den: Array) -> Array:
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)


def _average(per_class: Array, cm: Array, average: str | None) -> Array:
    support = cm.sum(axis=1)
    present = (support + cm.sum(axis=0)) > 0
    if average is None:
        return per_class
    if average == "macro":
        return jnp.sum(jnp.where(present, per_class, 0.0)) / jnp.maximum(jnp.sum(present), 1)
    if average == "weighted":
        return _safe_div(jnp.sum(per_class * support), jnp.sum(support))
    raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")


def precision_recall_fscore_support(y_true: Array, y_pred: Array, num_classes: int,
                                    average: str | None = None,
                                    where: Array | None = None) -> tuple[Array, Array, Array, Array]:
    """Precision, recall, F1 and support (``zero_division=0``).

    Args:
      y_true, y_pred: ``Int[batch]``.
      num_classes: ``C`` (static).
      average: ``None`` (per class), ``"macro"``, ``"weighted"``, ``"micro"``
        or ``"binary"`` (class 1's, two classes only: scikit-learn's default).
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``(precision, recall, f1, support)``; ``Float[classes]`` each for
      ``average=None``, else scalars (support is then the number of rows).
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    if average == "binary" and num_classes != 2:
        raise ValueError(f"average='binary' scores class 1 of two classes; num_classes is {num_classes}: use "
                         "'macro', 'weighted', 'micro' or None")
    cm = confusion_matrix(y_true, y_pred, num_classes, where)
    tp = jnp.diag(cm)
    pred = cm.sum(axis=0)
    true = cm.sum(axis=1)
    if average == "micro":
        tp, pred, true = tp.sum(), pred.sum(), true.sum()
        p, r, f = _safe_div(tp, pred), _safe_div(tp, true), _safe_div(2 * tp, pred + true)
        return p, r, f, true
    p = _safe_div(tp, pred)
    r = _safe_div(tp, true)
    f = _safe_div(2 * tp, pred + true)
    if average is None:
        return p, r, f, true
    if average == "binary":
        return p[1], r[1], f[1], true.sum()
    return _average(p, cm, average), _average(r, cm, average), _average(f, cm, average), true.sum()


def precision_score(y_true, y_pred, num_classes: int, average: str | None = "macro",
                    where=None) -> Array:
    """``tp / (tp + fp)`` per class, then averaged; see module conventions."""
    return precision_recall_fscore_support(y_true, y_pred, num_classes, average, where)[0]


def recall_score(y_true, y_pred, num_classes: int, average: str | None = "macro",
                 where=None) -> Array:
    """``tp / (tp + fn)`` per class, then averaged; see module conventions."""
    return precision_recall_fscore_support(y_true, y_pred, num_classes, average, where)[1]


def f1_score(y_true, y_pred, num_classes: int, average: str | None = "macro",
             where=None) -> Array:
    """``2 tp / (2 tp + fp + fn)`` per class, then averaged; see module conventions."""
    return precision_recall_fscore_support(y_true, y_pred, num_classes, average, where)[2]


def balanced_accuracy_score(y_true, y_pred, num_classes: int, where=None) -> Array:
    """Mean recall over the classes present in ``y_true`` (scikit-learn's
    ``adjusted=False``)."""
    cm = confusion_matrix(y_true, y_pred, num_classes, where)
    support = cm.sum(axis=1)
    recall = _safe_div(jnp.diag(cm), support)
    return _safe_div(jnp.sum(jnp.where(support > 0, recall, 0.0)), jnp.sum(support > 0))


def matthews_corrcoef(y_true, y_pred, num_classes: int, where=None) -> Array:
    """Multi-class Matthews correlation (Gorodkin's R_K), 0 when undefined."""
    cm = confusion_matrix(y_true, y_pred, num_classes, where)
    n = jnp.maximum(cm.sum(), 1.0)
    cm = cm / n  # scale-free; keeps float32 products small
    t, p = cm.sum(axis=1), cm.sum(axis=0)
    s = cm.sum()
    cov_tp = jnp.trace(cm) * s - t @ p
    cov_pp = s * s - p @ p
    cov_tt = s * s - t @ t
    den = cov_pp * cov_tt
    return jnp.where(den > 0, cov_tp / jnp.sqrt(jnp.where(den > 0, den, 1.0)), 0.0)


def log_loss(y_true, y_prob, num_classes: int | None = None, *, where=None) -> Array:
    """Mean ``-log p[y]`` with ``p`` clipped to ``[eps, 1 - eps]`` as
    scikit-learn does (``eps`` of the dtype).

    Args:
      y_true: ``Int[batch]``.
      y_prob: ``Float[batch, classes]`` probabilities (or ``Float[batch]``
        or ``Float[batch, 1]``, class 1's of two); 0/1 integers and booleans
        are read as float32 probabilities (clipped at float32's eps).
      num_classes: accepted like every metric's (the classes are ``y_prob``'s
        last axis); if given it must equal it.
      where: ``Bool[batch]``, ``Float[batch]`` weights or ``None`` (keyword only).
    """
    _check_num_classes(num_classes)
    p_host = _selected(y_prob, where)  # as given, before the binary form's stacking and float32
    y_prob = jnp.asarray(y_prob)
    if not jnp.issubdtype(y_prob.dtype, jnp.inexact):  # 0/1 integers or booleans, as scikit-learn accepts
        y_prob = y_prob.astype(jnp.float32)
    if y_prob.ndim == 2 and y_prob.shape[1] == 1:  # scikit-learn reads one column as class 1's probability too
        y_prob = y_prob[:, 0]
    if y_prob.ndim == 1:  # scikit-learn's binary form: the probability of class 1
        y_prob = jnp.stack([1.0 - y_prob, y_prob], axis=1)
    if num_classes is not None and num_classes != y_prob.shape[-1]:
        raise ValueError(f"num_classes = {num_classes} but y_prob has {y_prob.shape[-1]} columns")
    _check_labels(y_true, y_prob.shape[-1], "y_true", where)
    if p_host is not None and p_host.size:
        tol = np.finfo(np.float32).eps  # a float64 blend of float32 probabilities may sum a row to 1 + 2e-16
        out = p_host[~((p_host >= -tol) & (p_host <= 1 + tol))]
        if out.size:  # scikit-learn raises too
            raise ValueError(f"y_prob must be probabilities in [0, 1]; got {out[0].item()!r} ({out.size} outside)")
        if p_host.ndim > 1 and p_host.shape[1] > 1 and not np.allclose(p_host.sum(-1), 1.0, rtol=0,
                                               atol=np.sqrt(np.finfo(np.float32).eps)):
            warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.", UserWarning,
                          stacklevel=2)  # scikit-learn's warning, word for word
    eps = jnp.finfo(y_prob.dtype).eps
    p = jnp.take_along_axis(y_prob, y_true[:, None].astype(jnp.int32), axis=1)[:, 0]
    nll = -jnp.log(jnp.clip(p, eps, 1 - eps))
    w = _valid(y_true, where)
    if _weighted(where):
        v = _row_weights(y_true, where)
        return _safe_div(jnp.sum(jnp.where(w, nll * v, 0.0)), jnp.sum(v))
    return jnp.sum(jnp.where(w, nll, 0.0)) / jnp.maximum(jnp.sum(w), 1)


def _count_below(sorted_vals: Array, s: Array) -> tuple[Array, Array]:
    """Entries of ``sorted_vals`` strictly below / equal to each of ``s``."""
    lo = jnp.searchsorted(sorted_vals, s, side="left")
    hi = jnp.searchsorted(sorted_vals, s, side="right")
    return lo, hi - lo


def _binary_auc(score: Array, pos: Array, neg: Array) -> Array:
    # Mann-Whitney U: each (positive, negative) pair scores 1 if ordered
    # right and 1/2 if tied, which is exactly the trapezoidal area under the
    # ROC curve that scikit-learn integrates.
    # Each positive's share is divided by n_neg before the sum, never by the
    # integer n_pos * n_neg: in int32 that product wraps past ~46k x 46k rows.
    neg_sorted = jnp.sort(jnp.where(neg, score, jnp.inf))
    below, ties = _count_below(neg_sorted, score)
    n_pos, n_neg = jnp.sum(pos), jnp.sum(neg)
    share = (below + 0.5 * ties) / jnp.maximum(n_neg, 1).astype(score.dtype)
    auc = jnp.sum(jnp.where(pos, share, 0.0)) / jnp.maximum(n_pos, 1).astype(score.dtype)
    defined = (n_pos > 0) & (n_neg > 0)
    return jnp.where(defined, auc, jnp.nan)


def _weight_below(score: Array, weight: Array, s: Array) -> tuple[Array, Array]:
    """Total ``weight`` of the entries of ``score`` strictly below / equal to each of ``s``."""
    order = jnp.argsort(score)
    sorted_vals = score[order]
    cum = jnp.concatenate([jnp.zeros(1, weight.dtype), jnp.cumsum(weight[order])])
    lo = jnp.searchsorted(sorted_vals, s, side="left")
    hi = jnp.searchsorted(sorted_vals, s, side="right")
    return cum[lo], cum[hi] - cum[lo]


def _binary_auc_weighted(score: Array, pos: Array, neg: Array) -> Array:
    # _binary_auc with each row counting its weight (pos, neg: Float weights,
    # 0 off the class): sum_i wp_i (W_neg below s_i + W_neg tied / 2) / (W_pos W_neg),
    # the trapezoidal area under scikit-learn's weighted ROC curve.
    below, ties = _weight_below(jnp.where(neg > 0, score, jnp.inf), neg, score)
    w_pos, w_neg = jnp.sum(pos), jnp.sum(neg)
    share = (below + 0.5 * ties) / jnp.where(w_neg > 0, w_neg, 1.0)
    auc = jnp.sum(pos * share) / jnp.where(w_pos > 0, w_pos, 1.0)
    return jnp.where((w_pos > 0) & (w_neg > 0), auc, jnp.nan)


def _binary_ap_weighted(score: Array, pos: Array, valid: Array) -> Array:
    # _binary_ap with weights (pos, valid: Float weights): each positive adds
    # its weight / W_pos times the weighted precision at its score.
    key = jnp.where(valid > 0, -score, jnp.inf)  # descending scores: "at least s" is "below or equal" in -s
    below_all, tied_all = _weight_below(key, valid, -score)
    below_pos, tied_pos = _weight_below(jnp.where(pos > 0, -score, jnp.inf), pos, -score)
    ge_all, ge_pos = below_all + tied_all, below_pos + tied_pos
    prec = ge_pos / jnp.where(ge_all > 0, ge_all, 1.0)
    w_pos, w_neg = jnp.sum(pos), jnp.sum(valid - pos)
    ap = jnp.sum(pos * prec) / jnp.where(w_pos > 0, w_pos, 1.0)
    return jnp.where((w_pos > 0) & (w_neg > 0), ap, jnp.nan)


def _binary_ap(score: Array, pos: Array, valid: Array) -> Array:
    # AP = sum over thresholds of delta-recall * precision. Every positive j
    # adds 1/P times the precision at threshold s_j, counting all rows with
    # score >= s_j (ties share one threshold, as in precision_recall_curve).
    n = score.shape[0]
    all_sorted = jnp.sort(jnp.where(valid, score, -jnp.inf))
    pos_sorted = jnp.sort(jnp.where(pos, score, -jnp.inf))
    ge_all = n - jnp.searchsorted(all_sorted, score, side="left")
    ge_pos = n - jnp.searchsorted(pos_sorted, score, side="left")
    prec = ge_pos / jnp.maximum(ge_all, 1)
    n_pos = jnp.sum(pos)
    n_neg = jnp.sum(valid & ~pos)
    ap = jnp.sum(jnp.where(pos, prec, 0.0)) / jnp.maximum(n_pos, 1)
    return jnp.where((n_pos > 0) & (n_neg > 0), ap, jnp.nan)


def _ovr(binary: Callable, y_true, y_score, num_classes: int, average, where, needs_neg: bool):
    if average not in (None, "macro", "weighted"):
        raise ValueError(f"average must be None, 'macro' or 'weighted', got {average!r}")
    y_score = jnp.asarray(y_score)
    if y_score.ndim == 1:  # scikit-learn's binary form: the score of class 1; its result is class 1's
        if num_classes != 2:
            raise ValueError(f"y_score is 1-D, scikit-learn's binary form (the score of class 1), but num_classes is "
                             f"{num_classes}: pass Float[batch, {num_classes}] scores")
        return _ovr(binary, y_true, jnp.stack([-y_score, y_score], axis=1), 2, None, where, needs_neg)[1]
    if y_score.ndim != 2 or y_score.shape != (np.shape(y_true)[0], num_classes):
        raise ValueError(f"y_score must be Float[batch, num_classes] = ({np.shape(y_true)[0]}, {num_classes}) "
                         f"scores, got shape {tuple(y_score.shape)}")
    _check_labels(y_true, num_classes, "y_true", where)
    s_host = _selected(y_score, where)
    if s_host is not None and np.isnan(s_host).any():  # NaN sorts past every score: an AUC that means nothing
        raise ValueError(f"y_score contains NaN ({int(np.isnan(s_host).any(-1).sum())} row(s)); scikit-learn "
                         "refuses it too: a model that diverged has no ranking to score")
    valid = _valid(y_true, where)
    classes = jnp.arange(num_classes)
    if _weighted(where):  # the same formulas with each row counting its weight
        v = jnp.where(valid, _row_weights(y_true, where), 0.0)
        binary = {_binary_auc: _binary_auc_weighted, _binary_ap: _binary_ap_weighted}[binary]

        def one(c, s):
            pos = jnp.where(y_true == c, v, 0.0)
            return binary(s, pos, v - pos if needs_neg else v)
    else:
        def one(c, s):
            pos = valid & (y_true == c)
            other = valid & (y_true != c) if needs_neg else valid
            return binary(s, pos, other)

    per_class = jax.vmap(one, in_axes=(0, 1))(classes, y_score)
    if average is None:
        return per_class
    defined = ~jnp.isnan(per_class)
    vals = jnp.where(defined, per_class, 0.0)
    if average == "macro":
        w = defined.astype(vals.dtype)
    else:
        support = jnp.zeros(num_classes).at[y_true].add(v if _weighted(where) else valid.astype(jnp.float32))
        w = jnp.where(defined, support, 0.0)
    total = jnp.sum(w)
    return jnp.where(total > 0, jnp.sum(vals * w) / jnp.where(total > 0, total, 1.0), jnp.nan)


def roc_auc_score(y_true, y_score, num_classes: int, average: str | None = "macro",
                  where=None) -> Array:
    """One-vs-rest ROC-AUC from scores, ties counted as scikit-learn does.

    Args:
      y_true: ``Int[batch]``.
      y_score: ``Float[batch, classes]`` (probabilities or any monotone score;
        or ``Float[batch]``, class 1's of two, whose result is class 1's;
        finite, or ``-inf`` such as a log-probability of 0: ``+inf`` is the
        internal fill value, and a row scored ``+inf`` counts it as a tie).
      num_classes: ``C`` (static).
      average: ``"macro"``, ``"weighted"`` (by support) or ``None``.
      where: ``Bool[batch]`` or ``None``.
    Returns:
      scalar, or ``Float[classes]`` (NaN where undefined) for ``average=None``.
    """
    return _ovr(_binary_auc, y_true, y_score, num_classes, average, where, needs_neg=True)


def average_precision_score(y_true, y_score, num_classes: int, average: str | None = "macro",
                            where=None) -> Array:
    """One-vs-rest average precision (area under the step precision-recall
    curve, scikit-learn's definition), averaged like :func:`roc_auc_score`."""
    return _ovr(_binary_ap, y_true, y_score, num_classes, average, where, needs_neg=False)


def classification_report(y_true, y_pred, num_classes: int, target_names=None,
                          where=None) -> dict:
    """Per-class precision/recall/F1/support plus accuracy and averages, as the
    dict of ``sklearn.metrics.classification_report(..., output_dict=True)``.

    Host-side: returns Python floats. Lists the classes present in ``y_true``
    or ``y_pred`` (scikit-learn's default). ``target_names`` names all
    ``num_classes`` classes, in order.
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    p, r, f, s = (np.asarray(a) for a in
                  precision_recall_fscore_support(y_true, y_pred, num_classes, None, where))
    cm = np.asarray(confusion_matrix(y_true, y_pred, num_classes, where))
    present = np.flatnonzero(cm.sum(0) + cm.sum(1) > 0)
    names = [str(c) for c in range(num_classes)] if target_names is None else [str(t) for t in target_names]
    if len(names) != num_classes:
        raise ValueError(f"target_names has {len(names)} names for {num_classes} classes")
    report = {}
    for c in present:
        report[names[c]] = {"precision": float(p[c]), "recall": float(r[c]),
                            "f1-score": float(f[c]), "support": float(s[c])}
    sup = s[present]
    total = float(sup.sum())
    report["accuracy"] = float(np.trace(cm) / total) if total else 0.0
    for key, weights in (("macro avg", np.ones(len(present))), ("weighted avg", sup)):
        wsum = weights.sum()
        report[key] = {
            m: (float(np.dot(v[present], weights) / wsum) if wsum else 0.0)
            for m, v in (("precision", p), ("recall", r), ("f1-score", f))
        }
        report[key]["support"] = total
    return report


class Scorer(NamedTuple):
    """A selection metric: ``fn(y_true, probs, num_classes, where) -> scalar``
    and whether greater is better. Names follow scikit-learn's scoring strings."""

    fn: Callable
    greater_is_better: bool


def _from_pred(metric, **kw):
    def fn(y, probs, num_classes, where):
        return metric(y, jnp.argmax(probs, -1), num_classes, where=where, **kw)
    return fn


def _binary_only(num_classes: int, name: str) -> None:
    if num_classes != 2:
        instead = ("roc_auc_ovr or roc_auc_ovr_weighted" if name == "roc_auc"  # scikit-learn's names: there is
                   else f"{name}_macro or {name}_weighted")                       # no roc_auc_macro
        raise ValueError(f"scorer {name!r} is for two classes, got {num_classes}; use {instead}")


def _positive(metric, y, probs, num_classes, where):
    _binary_only(num_classes, metric.__name__.removesuffix("_score"))
    return metric(y, jnp.argmax(probs, -1), num_classes, average=None, where=where)[1]


def _ap_scorer(y, probs, num_classes, where):
    """scikit-learn's "average_precision": of the positive class for two
    classes, macro one-vs-rest for more."""
    if num_classes == 2:
        return average_precision_score(y, probs, num_classes, None, where)[1]
    return average_precision_score(y, probs, num_classes, "macro", where)


SCORERS: dict[str, Scorer] = {
    "accuracy": Scorer(lambda y, p, c, w: accuracy_score(y, jnp.argmax(p, -1), where=w), True),
    "balanced_accuracy": Scorer(_from_pred(balanced_accuracy_score), True),
    "f1_macro": Scorer(_from_pred(f1_score, average="macro"), True),
    "f1_weighted": Scorer(_from_pred(f1_score, average="weighted"), True),
    "f1_micro": Scorer(_from_pred(f1_score, average="micro"), True),
    "precision_macro": Scorer(_from_pred(precision_score, average="macro"), True),
    "precision_weighted": Scorer(_from_pred(precision_score, average="weighted"), True),
    "recall_macro": Scorer(_from_pred(recall_score, average="macro"), True),
    "recall_weighted": Scorer(_from_pred(recall_score, average="weighted"), True),
    "matthews_corrcoef": Scorer(_from_pred(matthews_corrcoef), True),
    "roc_auc_ovr": Scorer(lambda y, p, c, w: roc_auc_score(y, p, c, "macro", w), True),
    "roc_auc_ovr_weighted": Scorer(lambda y, p, c, w: roc_auc_score(y, p, c, "weighted", w), True),
    "average_precision": Scorer(lambda y, p, c, w: _ap_scorer(y, p, c, w), True),
    # Binary problems, class index 1 positive (scikit-learn's pos_label=1 with labels {0, 1}):
    "f1": Scorer(lambda y, p, c, w: _positive(f1_score, y, p, c, w), True),
    "precision": Scorer(lambda y, p, c, w: _positive(precision_score, y, p, c, w), True),
    "recall": Scorer(lambda y, p, c, w: _positive(recall_score, y, p, c, w), True),
    "roc_auc": Scorer(lambda y, p, c, w: _binary_only(c, "roc_auc") or roc_auc_score(y, p, c, None, w)[1], True),
    "neg_log_loss": Scorer(lambda y, p, c, w: -log_loss(y, p, where=w), True),
}


# Scorers that read only the predicted labels: the ones a decision offset can change.
LABEL_SCORERS = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "f1_micro", "precision_macro",
                 "precision_weighted", "recall_macro", "recall_weighted", "matthews_corrcoef", "f1", "precision",
                 "recall")
OFFSET_GRID = tuple(round(v, 2) for v in np.arange(-4.0, 4.0001, 0.1))


def offset_decisions(y_prob: Array, offsets: Array) -> Array:
    """The class each row chooses under per-class decision offsets:
    ``argmax(log(y_prob) + offsets)`` in float32, probabilities floored at
    the smallest normal float32 (a zero probability is a very negative log,
    not ``-inf``). Zero offsets choose ``argmax(y_prob)``."""
    logp = jnp.log(jnp.maximum(jnp.asarray(y_prob, jnp.float32), jnp.finfo(jnp.float32).tiny))
    return jnp.argmax(logp + jnp.asarray(offsets, jnp.float32), -1)


def fit_logit_offsets(y_true: Array, y_prob: Array, num_classes: int, metric: str = "balanced_accuracy",
                      where: Array | None = None, grid=OFFSET_GRID, rounds: int = 3) -> Array:
    """Per-class offsets ``o`` added to ``log(y_prob)`` before the argmax that
    maximise ``metric`` on these rows -- post-hoc decision thresholds, fitted
    on out-of-fold probabilities (Collell et al. 2018's threshold moving;
    ``o = -tau * log(prior)`` would be Menon et al.'s post-hoc logit
    adjustment). The probabilities themselves stay as they are.

    Coordinate ascent: ``rounds`` passes over classes ``1..C-1`` (class 0's
    offset stays 0: adding a constant to every offset changes no
    prediction), each trying every value of ``grid`` for one class with the
    others held; a class keeps its current value unless another scores
    strictly higher, and among the best new values the one nearest 0 wins.
    With two classes this is the exhaustive search over thresholds on
    ``log(p1 / p0)``. Pure and jit-able (``num_classes``, ``metric``,
    ``grid``, ``rounds`` static).

    Args:
      y_true: ``Int[n]``; y_prob: ``Float[n, C]``; where: ``Bool[n]`` rows to use.
    Returns:
      ``Float[C]`` offsets (``0`` for class 0).
    Raises:
      ValueError: a ``metric`` that does not read predicted labels (see
        :data:`LABEL_SCORERS`).
    """
    if metric not in LABEL_SCORERS:
        raise ValueError(f"fit_logit_offsets needs a metric of predicted labels, one of {LABEL_SCORERS}; "
                         f"got {metric!r}")
    score = get_scorer(metric).fn
    values = jnp.asarray(grid, jnp.float32)

    def evaluate(o):
        return score(y_true, jax.nn.one_hot(offset_decisions(y_prob, o), num_classes), num_classes, where)

    def step(i, o):
        c = 1 + i % (num_classes - 1)
        scores = jax.vmap(lambda v: evaluate(o.at[c].set(v)))(values)
        best = jnp.max(scores)
        candidate = values[jnp.argmin(jnp.where(scores == best, jnp.abs(values), jnp.inf))]
        return o.at[c].set(jnp.where(best > evaluate(o), candidate, o[c]))

    return jax.lax.fori_loop(0, rounds * (num_classes - 1), step, jnp.zeros(num_classes, jnp.float32))


def ensemble_selection(y_true: Array, y_probs: Array, num_classes: int, metric: str = "balanced_accuracy",
                       picks: int = 5, first: int = 0, where: Array | None = None) -> Array:
    """How many times each model enters a soft-voting ensemble chosen by
    Caruana et al.'s ensemble selection (ICML 2004): greedy forward
    selection with replacement on held-out (e.g. out-of-fold) probabilities.
    From model ``first`` alone, each of ``picks - 1`` steps adds the model
    whose addition to the average of the picked ones scores highest on
    ``metric`` (ties: the lower log loss, then the lower index); the result
    is the step of the path that scored highest, by ``metric`` then log loss
    (the earliest among equals). Weights are ``counts / counts.sum()``.
    Pure and jit-able (``num_classes``, ``metric``, ``picks`` static).

    Args:
      y_true: ``Int[n]``; y_probs: ``Float[model, n, C]``; where: ``Bool[n]``
        rows to use; first: the model to start from (the best alone, say).
    Returns:
      ``Int[model]`` counts, summing to at most ``picks``.
    Raises:
      ValueError: an unknown ``metric``, ``picks < 1`` or ``first`` out of range.
    """
    if int(picks) < 1:
        raise ValueError(f"picks must be an integer >= 1, got {picks!r}")
    score = get_scorer(metric).fn
    probs = jnp.asarray(y_probs, jnp.float32)
    if isinstance(first, (int, np.integer)) and not 0 <= first < probs.shape[0]:
        # JAX would clamp the gather and drop the scatter: a silent wrong start
        raise ValueError(f"first must index one of the {probs.shape[0]} models, got {first}")

    def quality(p):  # (metric, -log loss): compared lexicographically
        return score(y_true, p, num_classes, where), -log_loss(y_true, p, where=where)

    def better(a, b):
        return (a[0] > b[0]) | ((a[0] == b[0]) & (a[1] > b[1]))

    def step(k, carry):
        counts, total, best_counts, best = carry
        s, ll = jax.vmap(lambda p: quality((total + p) / (k + 1)))(probs)
        i = jnp.argmax(jnp.where(s == jnp.max(s), ll, -jnp.inf))  # argmax: the first of equals
        counts, total = counts.at[i].add(1), total + probs[i]
        win = better((s[i], ll[i]), best)
        return counts, total, jnp.where(win, counts, best_counts), jax.tree.map(
            lambda new, old: jnp.where(win, new, old), (s[i], ll[i]), best)

    counts = jnp.zeros(probs.shape[0], jnp.int32).at[first].set(1)
    start = (counts, probs[first], counts, quality(probs[first]))
    return jax.lax.fori_loop(1, int(picks), step, start)[2]


def get_scorer(name: str) -> Scorer:
    """Look up a scorer by scikit-learn scoring name (e.g. ``"f1_macro"``)."""
    try:
        return SCORERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown metric {name!r}{did_you_mean(name, SCORERS)}; choose one of "
                         f"{sorted(SCORERS)}") from None


def check_scoring_name(name: str) -> None:
    """Raise a ``ValueError`` unless ``name`` is a scikit-learn scoring name
    that scores a single-label classifier: a regression scorer (``"r2"``,
    ``"neg_mean_squared_error"``) would score class indices as numbers and a
    ``*_samples`` one needs multilabel targets, both only after training."""
    from sklearn.metrics import get_scorer as sk_get_scorer
    from sklearn.metrics import get_scorer_names

    examples = "f1_macro, balanced_accuracy, accuracy, roc_auc_ovr"
    if not isinstance(name, str) or name not in get_scorer_names():
        raise ValueError(f"{name!r} is not a scikit-learn scoring name; use one such as {examples}")
    module = getattr(getattr(sk_get_scorer(name), "_score_func", None), "__module__", "") or ""
    if module.endswith("._regression"):
        raise ValueError(f"{name!r} is a regression metric: it would score class indices as numbers; use a "
                         f"classification metric such as {examples}")
    if name.endswith("_samples"):
        raise ValueError(f"{name!r} averages over the labels of multilabel targets; a sequence classifier predicts "
                         f"one label per row: use {name.removesuffix('_samples')}_macro or another such as {examples}")
