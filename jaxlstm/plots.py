"""Plots (matplotlib, the optional ``plots`` extra): learning curves, a sweep
heat map over two hyperparameters, a confusion matrix and one-vs-rest ROC
curves. Each function returns a ``matplotlib.figure.Figure``; :func:`save`
writes it (PNG by default) without needing a display.
"""

from __future__ import annotations

import contextlib
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
    return len({(repr(m["params"]), m["fold"], m.get("seed"), m.get("member"))
                if "params" in m and "fold" in m else m.get("_source", id(m)) for m in curves})


def _member_rows(members) -> list[dict]:
    """``members`` as rows of one history each: a fitted model's ``history_``
    (an ensemble's members, ``n_ensemble`` of them, one row each), or rows
    whose histories hold several members (arrays ``(members, epochs)``) split;
    a candidate that shares a longer run (``epochs`` searched: one run scored
    after each) drawn to its own ``epochs``."""
    if hasattr(members, "estimators_"):  # a fitted LSTMEnsemble: its estimators' members
        return [r for e in members.estimators_ for r in _member_rows(e)]
    if hasattr(members, "history_"):  # a fitted LSTMClassifier
        members = [{"history": members.history_, "status": "diverged" if members.diverged_ else "ok",
                    "_source": id(members)}]
    elif isinstance(members, dict) or not isinstance(members, Sequence):
        raise ValueError("members must be a list of member rows (each with a 'history'), or a fitted "
                         f"LSTMClassifier / LSTMEnsemble, got {type(members).__name__}")
    rows = []
    for m in members:
        if not isinstance(m, dict) or "history" not in m:
            continue
        h = {k: np.asarray(v, float) for k, v in m["history"].items()}
        epochs = (m.get("params") or {}).get("epochs") if isinstance(m.get("params"), dict) else None
        cut = int(epochs) if isinstance(epochs, (int, np.integer)) and "offset" not in m else None
        if any(v.ndim == 2 for v in h.values()):  # a model with n_ensemble members: one row each
            rows += [dict(m, history={k: v[i, :cut] if v.ndim == 2 else v[:cut] for k, v in h.items()}, member=i,
                          _source=(m.get("_source", id(m)), i))
                     for i in range(max(len(v) for v in h.values() if v.ndim == 2))]
        else:
            rows.append(dict(m, history={k: v[:cut] for k, v in h.items()}, _source=m.get("_source", id(m))))
    return rows


def learning_curves(members, metric: str = "val_f1_macro", *, best=None, max_lines: int = 200,
                    figsize=(8, 4.5)):
    """Per-member training loss (left) and validation ``metric`` (right) per
    epoch; ``members`` as in :attr:`jaxlstm.sweep.SweepResult.members`,
    :attr:`jaxlstm.search.LSTMSearchCV.members_` or ``members.jsonl`` rows
    (each with ``history``), or a fitted :class:`~jaxlstm.estimator.LSTMClassifier`
    or ``LSTMEnsemble`` (one curve per ensemble member, from ``history_``).
    ``best``: a candidate's ``params`` dict (rows that carry ``params``); its
    members are drawn thick and named in the legend, the others thin and grey
    (diverged ones red). ``max_lines`` caps the lines drawn, not the counts
    the title and legend give."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    shown = _member_rows(members)
    if not shown:
        raise ValueError("no member has a history to plot")
    for i, m in enumerate(shown):  # every member, not the first only: a KeyError halfway left a figure open
        missing = [k for k in ("train_loss", metric) if k not in m["history"]]
        if missing:
            raise ValueError(f"member {i} has no {missing[0]!r} in its history; available: {sorted(m['history'])}"
                             if i else f"members have no {missing[0]!r}; available: {sorted(m['history'])}")
    top = [m for m in shown if best is not None and m.get("params") == best]
    top_ids = {id(m) for m in top}  # by identity: histories are arrays (== compares them elementwise)
    rest = [m for m in shown if id(m) not in top_ids]
    n_top, n_rest = _count(top), _count(rest)
    drawn_rest = rest[: max(0, max_lines - len(top))]
    folds = any("fold" in m for m in shown)
    fig, (a, b) = plt.subplots(1, 2, figsize=figsize)  # after the checks: a bad call leaves no empty figure
    from matplotlib.lines import Line2D

    grey, thick = {"lw": 0.7, "alpha": 0.5, "color": "0.6"}, {"lw": 2.0, "color": "tab:blue"}
    for group, style in ((drawn_rest, grey), (top, thick)):
        for m in group:
            h = m["history"]
            epochs = m.get("offset", 0) + np.arange(1, len(h["train_loss"]) + 1)  # halving: a rung goes on
            st = dict(style, color="tab:red") if m.get("status") == "diverged" else style
            a.plot(epochs, h["train_loss"], **st)
            b.plot(epochs, h[metric], **st)
    handles = []  # proxies: a legend entry in its group's colour whichever member is drawn first
    if top:
        # wrapped to the axes: the default search's best names 10 parameters, one line wider than the
        # figure (tight_layout gave up with a warning until 2026-12-07)
        handles.append(Line2D([], [], **thick, label=textwrap.fill(f"best: {_params_label(best)} ({n_top} members)",
                                                                   50)))
    if rest:
        handles.append(Line2D([], [], **grey, label=f"other members ({n_rest}"
                              + (f", {_count(drawn_rest)} drawn)" if len(drawn_rest) < len(rest) else ")")))
    diverged = [m for m in top + drawn_rest if m.get("status") == "diverged"]
    if diverged:
        handles.append(Line2D([], [], **dict(grey, color="tab:red"), label=f"diverged ({_count(diverged)})"))
        ok = np.concatenate([[np.nan]] + [m["history"]["train_loss"] for m in top + drawn_rest
                                          if m.get("status") != "diverged"])
        ok = ok[np.isfinite(ok)]
        if ok.size:  # a diverged loss of 1e30 flattened every other curve to 0: the axis fits the others
            lo, hi = ok.min(), ok.max()
            a.set_ylim(lo - 0.05 * (hi - lo + 1e-12), hi + 0.25 * (hi - lo + 1e-12))
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set(xlabel="epoch", ylabel="training loss", title=f"training loss ({n_top + n_rest} members)")
    b.set(xlabel="epoch", ylabel=metric, title=f"validation {metric.removeprefix('val_')}"
          + (" per fold" if folds else ""))
    if not any(np.isfinite(m["history"][metric]).any() for m in shown):
        b.text(0.5, 0.5, f"no validation scores\n(every {metric} is NaN: no validation rows)", ha="center",
               va="center", transform=b.transAxes)
    a.legend(handles=handles, fontsize=7, loc="best")
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
    status = [str(v) for v in cv_results.get("status", ["ok"] * len(params))]
    rung = np.asarray(cv_results.get("iter", np.zeros(len(params), int)))
    if not len(scores) == len(status) == len(rung) == len(params):
        raise ValueError(f"cv_results holds {len(params)} params but {len(scores)} {key!r}"
                         + ("" if len(status) == len(params) else f" and {len(status)} 'status'")
                         + ("" if len(rung) == len(params) else f" and {len(rung)} 'iter'") + ": one per candidate")
    last = {}  # halving: a candidate's rows at every rung it reached; its furthest one speaks for it
    for i, c in enumerate(params):
        k = repr(c) if "iter" in cv_results else i
        if k not in last or rung[i] > rung[last[k]]:
            last[k] = i
    keep = sorted(last.values())
    params, scores, status, rung = [params[i] for i in keep], scores[keep], [status[i] for i in keep], rung[keep]
    scored = np.array([st == "ok" for st in status]) & np.isfinite(scores)  # diverged ones rank last, shown apart
    others = sorted(k for k in {k for c in params for k in c} - {x_param, y_param}
                    if len({repr(c.get(k)) for c in params}) > 1)
    over = f"; best over {', '.join(others)}" if others else ""
    halving = "iter" in cv_results and len(set(rung.tolist())) > 1
    if halving:
        over += "; each at the furthest rung it reached"
    fig, ax = plt.subplots(figsize=figsize)
    with _drawing(plt, fig):
        _draw_heatmap(fig, ax, params, scores, scored, status, rung, x_param, y_param, metric, over)
    return fig


def _draw_heatmap(fig, ax, params, scores, scored, status, rung, x_param, y_param, metric, over) -> None:
    xv, yv = [c.get(x_param) for c in params], [c.get(y_param) for c in params]
    n_bad = int((~scored).sum())
    if _continuous(xv) or _continuous(yv):
        xs, ys = (_axis_values(v) for v in (xv, yv))
        sc = ax.scatter(xs[scored], ys[scored], c=scores[scored], cmap="viridis", s=40, edgecolors="k",
                        linewidths=0.3)
        if n_bad:  # drawn, not dropped: a diverged or unscored candidate is a result too
            ax.scatter(xs[~scored], ys[~scored], marker="x", color="tab:red", s=30,
                       label=f"diverged or not scored ({n_bad})")
            ax.legend(fontsize=7, loc="best")
        for axis, v, setter, ticks in ((xs, xv, ax.set_xscale, ax.set_xticks), (ys, yv, ax.set_yscale, ax.set_yticks)):
            if _continuous(v) and min(v) > 0 and max(v) / min(v) > 20:
                setter("log")
            cats = _categories(v)
            if cats is not None:  # positions 0..k-1, named (until 2026-12-06 the axis read 0, 0.5, 1)
                ticks(range(len(cats)), cats)
        ax.set(xlabel=x_param, ylabel=y_param,
               title=f"mean CV {metric} of each of {len(params)} candidates" + over.replace("; best over", "; over"))
        fig.colorbar(sc, ax=ax, label=f"mean CV {metric}")
        return
    lx, ly = _labeller(xv), _labeller(yv)
    xs = sorted({lx(v) for v in xv}, key=_sort_key)
    ys = sorted({ly(v) for v in yv}, key=_sort_key)
    grid = np.full((len(ys), len(xs)), np.nan)
    reach = np.full((len(ys), len(xs)), -1)  # the furthest rung among a cell's scored candidates
    failed = {}  # cells with candidates but none scored: what became of them
    for c, v, ok, st, r in zip(params, scores, scored, status, rung, strict=True):
        i, j = ys.index(ly(c.get(y_param))), xs.index(lx(c.get(x_param)))
        if not ok:
            failed.setdefault((i, j), st if st != "ok" else "no score")
            continue
        if r > reach[i, j] or (r == reach[i, j] and not v <= grid[i, j]):
            grid[i, j], reach[i, j] = v, r
    im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(xs)), xs, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(ys)), ys)
    ax.set(xlabel=x_param, ylabel=y_param, title=textwrap.fill(f"mean CV {metric}{over}", 60))
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):  # dark text on the light end of viridis
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=8,
                        color="k" if im.norm(grid[i, j]) > 0.6 else "w")
            elif (i, j) in failed:
                ax.text(j, i, failed[(i, j)], ha="center", va="center", fontsize=7, color="tab:red")
    fig.colorbar(im, ax=ax, label=f"mean CV {metric}")


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


_NORMALIZE = {True: "true", False: None, None: None, "true": "true", "pred": "pred", "all": "all"}
_NORMALIZED = {"true": " (recall per row)", "pred": " (precision per column)", "all": " (share of all rows)", None: ""}


@contextlib.contextmanager
def _drawing(plt, fig, made: bool = True):
    """Draw into ``fig``: laid out after, closed if drawing fails (a bad call
    leaves no figure open); a caller's own figure (``made`` false) neither."""
    try:
        yield
    except BaseException:
        if made:
            plt.close(fig)
        raise
    if made:
        fig.tight_layout()


def _axes(plt, ax, figsize):
    """``(fig, ax, made)``: the caller's axes, or a new figure's."""
    if ax is not None:
        return ax.figure, ax, False
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax, True


def confusion_matrix(y_true, y_pred, class_names: Sequence[str], *, normalize: bool | str | None = True,
                     figsize=(6, 5), ax=None):
    """Rows: true class; columns: predicted (scikit-learn's
    ``ConfusionMatrixDisplay``). ``normalize``: ``True`` or ``"true"`` per
    true class (recall per row), ``"pred"`` per predicted class, ``"all"``
    over all rows, ``False``/``None`` counts. A class with no true row is a
    row of NaN when normalised per row, not of 0: it has no recall. ``y_true``,
    ``y_pred``: class indices into ``class_names``, or labels from it
    (``model.classes_`` and ``model.predict``'s output). ``ax``: draw there
    (its figure is returned) instead of in a new figure."""
    if isinstance(normalize, (bool, str, type(None))) and normalize in _NORMALIZE:
        norm = _NORMALIZE[normalize]
    else:
        raise ValueError(f"normalize must be True, False, None, 'true', 'pred' or 'all', got {normalize!r}")
    y_true = _class_indices(y_true, class_names, "y_true")
    y_pred = _class_indices(y_pred, class_names, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    plt = pyplot()
    from sklearn.metrics import ConfusionMatrixDisplay
    from sklearn.metrics import confusion_matrix as counts

    labels = np.arange(len(class_names))
    cm = counts(y_true, y_pred, labels=labels).astype(float)
    if norm is not None:
        total = {"true": cm.sum(1, keepdims=True), "pred": cm.sum(0, keepdims=True), "all": cm.sum()}[norm]
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = cm / total  # 0/0: NaN, drawn blank (scikit-learn writes 0, a recall the class never had)
    fig, ax, made = _axes(plt, ax, figsize)
    with _drawing(plt, fig, made):
        ConfusionMatrixDisplay(cm if norm else cm.astype(int), display_labels=[str(n) for n in class_names]).plot(
            values_format=".2f" if norm else "d", cmap="Blues", xticks_rotation=45, ax=ax, colorbar=made,
            text_kw={"fontsize": 7})
        for t in ax.texts:
            if t.get_text() == "nan":
                t.set_text("")
        ax.set(xlabel="predicted", ylabel="true", title="confusion matrix" + _NORMALIZED[norm])
    return fig


def roc_curves(y_true, probs, class_names: Sequence[str], *, figsize=(6, 5), ax=None):
    """One-vs-rest ROC curve per class with its AUC (scikit-learn's
    ``RocCurveDisplay``; with two classes one curve, the second class's, as
    scikit-learn's binary ROC; classes without both positives and negatives
    are skipped, and a plot with none says so). ``y_true``: class indices into
    ``class_names`` or labels from it; ``probs``: ``(n, len(class_names))``
    (``model.predict_proba``'s output). ``ax``: draw there instead of in a new
    figure."""
    y_true = _class_indices(y_true, class_names, "y_true")
    probs = np.asarray(probs)
    if probs.shape != (len(y_true), len(class_names)):
        raise ValueError(f"probs must have one row per sequence and one column per class, shape "
                         f"({len(y_true)}, {len(class_names)}), got {probs.shape}")
    if not np.isfinite(probs).all():
        raise ValueError(f"probs holds NaN or infinite values ({int((~np.isfinite(probs)).any(1).sum())} row(s)): "
                         "a model that diverged has no ROC curve")
    plt = pyplot()
    from sklearn.metrics import RocCurveDisplay

    classes = [k for k in range(len(class_names)) if 0 < (y_true == k).sum() < len(y_true)]
    if len(class_names) == 2:
        classes = classes[1:]  # class 0's curve mirrors class 1's
    fig, ax, made = _axes(plt, ax, figsize)
    with _drawing(plt, fig, made):
        for k in classes:
            RocCurveDisplay.from_predictions(y_true == k, probs[:, k], name=str(class_names[k]), ax=ax,
                                             plot_chance_level=k == classes[-1], curve_kwargs={"lw": 1})
        ax.set(xlabel="false positive rate", ylabel="true positive rate",
               title="ROC" if len(class_names) == 2 else "ROC, one vs rest")
        if classes:
            ax.legend(fontsize=7, loc="lower right")
        else:  # one class in y_true: no curve has both positives and negatives
            ax.text(0.5, 0.5, "no ROC curve: y_true holds one class", ha="center", va="center", transform=ax.transAxes)
    return fig


def save(fig, path: str | os.PathLike, dpi: int = 100) -> str:
    """Write ``fig`` (format from the extension) and close it."""
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return str(path)


def _labeller(values):
    """:func:`_label`, or ``repr`` for floats where 6 digits would make two
    values one label (one heat-map cell for two candidates' values)."""
    short = {_label(v) for v in values}
    exact = {repr(v) if isinstance(v, float) else _label(v) for v in values}
    return _label if len(short) == len(exact) else (lambda v: repr(v) if isinstance(v, float) else _label(v))


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
