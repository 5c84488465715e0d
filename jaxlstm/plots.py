"""Plots (matplotlib, the optional ``plots`` extra): learning curves, a sweep
heat map over two hyperparameters, a confusion matrix and one-vs-rest ROC
curves. Each function returns a ``matplotlib.figure.Figure``; :func:`save`
writes it (PNG by default) without needing a display.
"""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Sequence

import numpy as np

__all__ = ["learning_curves", "sweep_heatmap", "confusion_matrix", "roc_curves", "save", "pyplot"]


def pyplot(headless: bool = False):
    """``matplotlib.pyplot``, the backend left as the user set it (switching
    it would close their open figures); ``headless=True`` (the CLI, which
    only writes files) picks Agg if pyplot is not imported yet. An
    ``ImportError`` naming the ``plots`` extra when matplotlib is missing."""
    try:
        import matplotlib

        if headless and "matplotlib.pyplot" not in sys.modules:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install matplotlib (or pip install -e \".[plots]\" in a jaxlstm checkout)") from None
    return plt


def _count(curves: Sequence[dict]) -> int:
    """Members among ``curves``: successive halving draws one curve per rung
    of a (candidate, fold, seed), continued from its ``offset``."""
    return len({(repr(m["params"]), m["fold"], m.get("seed")) if "params" in m and "fold" in m else id(m)
                for m in curves})


def learning_curves(members: Sequence[dict], metric: str = "val_f1_macro", *, best=None, max_lines: int = 200,
                    figsize=(8, 4.5)):
    """Per-member training loss (left) and validation ``metric`` (right) per
    epoch; ``members`` as in :attr:`jaxlstm.sweep.SweepResult.members`,
    :attr:`jaxlstm.search.LSTMSearchCV.members_` or ``members.jsonl`` rows
    (each with ``history``). ``best``: a candidate's ``params`` dict; its
    members are drawn thick and named in the legend, the others thin and grey
    (diverged ones red)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    shown = [m for m in members if "history" in m]
    if not shown:
        raise ValueError("no member has a history to plot")
    if metric not in shown[0]["history"]:
        raise ValueError(f"members have no {metric!r}; available: {sorted(shown[0]['history'])}")
    fig, (a, b) = plt.subplots(1, 2, figsize=figsize)  # after the checks: a bad call leaves no empty figure
    top = [m for m in shown if best is not None and m.get("params") == best]
    rest = [m for m in shown if m not in top][: max(0, max_lines - len(top))]
    for group, style in ((rest, {"lw": 0.7, "alpha": 0.5, "color": "0.6"}), (top, {"lw": 2.0, "color": "tab:blue"})):
        for i, m in enumerate(group):
            h = m["history"]
            epochs = m.get("offset", 0) + np.arange(1, len(h["train_loss"]) + 1)  # halving: a rung goes on
            st = dict(style, color="tab:red") if m.get("status") == "diverged" else style
            label = None
            if i == 0:
                # wrapped to the axes: the default search's best names 10 parameters, one line wider than the
                # figure (tight_layout gave up with a warning until 2026-12-07)
                label = (textwrap.fill(f"best: {_params_label(best)} ({_count(top)} members)", 50)
                         if group is top else f"other members ({_count(rest)})")
            a.plot(epochs, h["train_loss"], label=label, **st)
            b.plot(epochs, h[metric], **st)
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set(xlabel="epoch", ylabel="training loss", title=f"training loss ({_count(top) + _count(rest)} members)")
    b.set(xlabel="epoch", ylabel=metric, title=f"validation {metric.removeprefix('val_')} per fold")
    a.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _params_label(p) -> str:
    return ", ".join(f"{k}={_label(v)}" for k, v in sorted(p.items())) if isinstance(p, dict) else str(p)


def _continuous(values) -> bool:
    """Numbers with many distinct values (random or Bayesian search): plotted
    as points, not as categories."""
    nums = [v for v in values if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
    return len(nums) == len(values) and len(set(nums)) > 6


def sweep_heatmap(cv_results: dict, x_param: str, y_param: str, metric: str = "score", *, figsize=(6, 4.5)):
    """Mean CV ``metric`` over two hyperparameters: a heat map of the best
    candidate per cell (the title names the parameters it is the best over)
    for categorical values, a scatter of every candidate coloured by its
    score when either parameter is continuous (log axes for positive values
    spanning more than a factor of 20)."""
    plt = pyplot()
    key = f"mean_test_{metric}"
    if key not in cv_results:
        have = sorted(k[len("mean_test_"):] for k in cv_results if k.startswith("mean_test_"))
        raise ValueError(f"cv_results has no {key!r}: metric must be one of {have}")
    if x_param == y_param:
        raise ValueError(f"x_param and y_param are both {x_param!r}: name two different parameters")
    params = cv_results["params"]
    for p in (x_param, y_param):
        if not any(p in c for c in params):
            raise ValueError(f"{p!r} is not a searched parameter; searched: {sorted({k for c in params for k in c})}")
    scores = np.asarray(cv_results[key], float)
    others = sorted(k for k in {k for c in params for k in c} - {x_param, y_param}
                    if len({repr(c.get(k)) for c in params}) > 1)
    over = f"; best over {', '.join(others)}" if others else ""
    fig, ax = plt.subplots(figsize=figsize)
    xv, yv = [c.get(x_param) for c in params], [c.get(y_param) for c in params]
    if _continuous(xv) or _continuous(yv):
        xs, ys = (_axis_values(v) for v in (xv, yv))
        sc = ax.scatter(xs, ys, c=scores, cmap="viridis", s=40, edgecolors="k", linewidths=0.3)
        for axis, v, setter, ticks in ((xs, xv, ax.set_xscale, ax.set_xticks), (ys, yv, ax.set_yscale, ax.set_yticks)):
            if _continuous(v) and min(v) > 0 and max(v) / min(v) > 20:
                setter("log")
            cats = _categories(v)
            if cats is not None:  # positions 0..k-1, named (until 2026-12-06 the axis read 0, 0.5, 1)
                ticks(range(len(cats)), cats)
        ax.set(xlabel=x_param, ylabel=y_param,
               title=f"mean CV {metric} of each of {len(params)} candidates")
        fig.colorbar(sc, ax=ax, label=f"mean CV {metric}")
        fig.tight_layout()
        return fig
    xs = sorted({_label(v) for v in xv}, key=_sort_key)
    ys = sorted({_label(v) for v in yv}, key=_sort_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    for c, v in zip(params, scores, strict=True):
        i, j = ys.index(_label(c.get(y_param))), xs.index(_label(c.get(x_param)))
        grid[i, j] = v if np.isnan(grid[i, j]) else max(grid[i, j], v)
    im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), xs, rotation=30, ha="right")
    ax.set_yticks(range(len(ys)), ys)
    ax.set(xlabel=x_param, ylabel=y_param, title=f"mean CV {metric}{over}")
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def _categories(values) -> list[str] | None:
    """The sorted labels of a categorical axis; ``None`` for numbers."""
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        return None
    return sorted({_label(v) for v in values}, key=_sort_key)


def _axis_values(values):
    """Numbers stay numbers; categories become their position in sorted order."""
    cats = _categories(values)
    if cats is None:
        return np.asarray(values, float)
    return np.array([cats.index(_label(v)) for v in values], float)


def _class_indices(y, class_names: Sequence, what: str) -> np.ndarray:
    """``y`` as indices into ``class_names``: class indices (integers, with
    names that are text) or labels that are elements of ``class_names`` (as
    :meth:`LSTMClassifier.predict` returns them).

    Raises:
      ValueError: ``y`` is not 1-D, an index is out of range, or a label is
        not one of ``class_names``.
    """
    y, names = np.asarray(y), list(class_names)
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D, one class per sequence, got shape {y.shape}")
    if y.dtype.kind in "iu" and all(isinstance(n, str) for n in names):
        bad = (y < 0) | (y >= len(names))
        if bad.any():
            raise ValueError(f"{what} holds class index {y[bad][0]}, but class_names names {len(names)} classes "
                             f"{names}: give one name per class")
        return y
    lookup = {v: i for i, v in enumerate(np.asarray(names).tolist())}
    out = np.empty(len(y), np.int64)
    for i, v in enumerate(y.tolist()):
        try:
            out[i] = lookup[v]
        except (KeyError, TypeError):  # TypeError: an unhashable label
            raise ValueError(f"{what} holds {v!r}, which is not one of class_names {names}: give labels from "
                             "class_names (model.classes_) or class indices") from None
    return out


def confusion_matrix(y_true, y_pred, class_names: Sequence[str], *, normalize: bool = True, figsize=(6, 5)):
    """Rows: true class; columns: predicted; normalised per true class
    (scikit-learn's ``ConfusionMatrixDisplay``). ``y_true``, ``y_pred``: class
    indices into ``class_names``, or labels from it (``model.classes_`` and
    ``model.predict``'s output)."""
    y_true = _class_indices(y_true, class_names, "y_true")
    y_pred = _class_indices(y_pred, class_names, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    plt = pyplot()
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=figsize)
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=np.arange(len(class_names)), display_labels=[str(n) for n in class_names],
        normalize="true" if normalize else None, values_format=".2f" if normalize else "d", cmap="Blues",
        xticks_rotation=45, ax=ax, text_kw={"fontsize": 7})
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix" + (" (recall per row)" if normalize else ""))
    fig.tight_layout()
    return fig


def roc_curves(y_true, probs, class_names: Sequence[str], *, figsize=(6, 5)):
    """One-vs-rest ROC curve per class with its AUC (scikit-learn's
    ``RocCurveDisplay``; classes without both positives and negatives are
    skipped, and a plot with none says so). ``y_true``: class indices into
    ``class_names`` or labels from it; ``probs``: ``(n, len(class_names))``
    (``model.predict_proba``'s output)."""
    y_true = _class_indices(y_true, class_names, "y_true")
    probs = np.asarray(probs)
    if probs.shape != (len(y_true), len(class_names)):
        raise ValueError(f"probs must have one row per sequence and one column per class, shape "
                         f"({len(y_true)}, {len(class_names)}), got {probs.shape}")
    plt = pyplot()
    from sklearn.metrics import RocCurveDisplay

    fig, ax = plt.subplots(figsize=figsize)
    drawn = 0
    for k, name in enumerate(class_names):
        pos = y_true == k
        if pos.all() or not pos.any():
            continue
        RocCurveDisplay.from_predictions(pos, probs[:, k], name=str(name), ax=ax, plot_chance_level=drawn == 0,
                                         curve_kwargs={"lw": 1})
        drawn += 1
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, one vs rest")
    if drawn:
        ax.legend(fontsize=7, loc="lower right")
    else:  # one class in y_true: no curve has both positives and negatives
        ax.text(0.5, 0.5, "no ROC curve: y_true holds one class", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def save(fig, path: str | os.PathLike, dpi: int = 100) -> str:
    """Write ``fig`` (format from the extension) and close it."""
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return str(path)


def _label(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(str(a) for a in v) or "[]"  # () as a tick label: "[]", not blank
    return str(v)


def _sort_key(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)
