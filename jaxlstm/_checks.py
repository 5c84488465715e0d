"""Host-side input validation: clear ``ValueError`` before anything is traced.

Pure functions cannot raise on values under ``jit``; every interface (the
training wrapper, the estimator, the CLI) calls these first so that bad input
is named here instead of surfacing as a NaN or a trace from deep inside JAX.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

__all__ = ["check_sequences", "check_labels"]


MAX_ABS = 1e18  # the largest input magnitude: its square (a variance) stays within float32's 3.4e38


def check_float32_range(x, name: str) -> None:
    """A finite float64 value past ``MAX_ABS`` (which float32 would turn
    into inf, or a variance of it into inf) named before the cast; ``where``
    it is, as an index. Not an array of floats: nothing to check."""
    a = np.asarray(x) if isinstance(x, np.ndarray) else None
    if a is None or a.dtype.kind != "f" or a.dtype.itemsize <= 4:
        return
    with np.errstate(invalid="ignore"):
        big = np.isfinite(a) & (np.abs(a) > MAX_ABS)
    if big.any():
        where = tuple(int(v) for v in np.argwhere(big)[0])
        at = ", ".join(f"{k} {v}" for k, v in zip(("sequence", "step", "feature")[3 - a.ndim:], where)) \
            if 1 <= a.ndim <= 3 else f"index {where}"
        raise ValueError(f"{name} has a value beyond ±{MAX_ABS:.0e} ({at}: {float(a[where]):.3g}): jaxlstm trains in "
                         "float32, where such values overflow when standardised; rescale the feature (e.g. log or "
                         "divide by a constant)")


def check_sequences(x, lengths=None, *, name: str = "x", one_step_warning: bool = True
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Validate a right-padded batch; returns ``(x float32, lengths int32)``.

    ``lengths=None`` means every sequence fills all ``T`` steps. An array
    ``(n, 1, F)`` warns (:func:`warn_one_step`) unless ``one_step_warning``
    is off (a caller that built it from sequences of one step each). Values in the
    padding are not inspected (NaN padding is allowed); valid steps must be
    finite.

    Raises:
      ValueError: ``x`` not 3-D, empty batch, zero time steps or features,
        non-numeric values, ``lengths`` of the wrong shape or outside
        ``[1, T]``, or NaN/inf in a valid step.
    """
    check_float32_range(x, name)
    try:
        xa = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a numeric array: {e}") from None
    if xa.ndim != 3:
        raise ValueError(f"{name} must be 3-D (batch, time, feature), got shape {xa.shape}")
    n, t, f = xa.shape
    if n == 0:
        raise ValueError(f"{name} is empty: no sequences")
    if t == 0:
        raise ValueError(f"{name} has zero time steps (shape {xa.shape})")
    if f == 0:
        raise ValueError(f"{name} has zero features (shape {xa.shape})")
    lname = name[:-1] + "lengths" if name.endswith("X") else "lengths"  # "{path}: X" -> "{path}: lengths"
    if lengths is None:
        la = np.full(n, t, np.int32)
    else:
        la = np.asarray(lengths)
        if la.ndim != 1 or la.shape[0] != n:
            raise ValueError(f"{lname} must have shape ({n},) to match {name}, got {la.shape}")
        if la.dtype == bool:  # a mask given for lengths: every length would silently be 0 or 1
            raise ValueError(f"{lname} must be integers (the number of valid steps of each sequence), got booleans")
        if la.size and not np.issubdtype(la.dtype, np.integer):
            if not np.all(np.isfinite(la)) or not np.all(la == np.round(la)):
                raise ValueError(f"{lname} must be integers")
        la = la.astype(np.int64)
        bad = np.flatnonzero((la < 1) | (la > t))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{lname} must be in [1, {t}]; sequence {i} has length {la[i]}"
                             f" ({bad.size} out of range)")
        la = la.astype(np.int32)
    valid = np.arange(t)[None, :] < la[:, None]
    finite = np.isfinite(xa).all(axis=-1)
    bad = np.argwhere(valid & ~finite)
    if bad.size:
        i, step = (int(v) for v in bad[0])
        hint = ""
        if _nan_padded_last_axis(xa):
            hint = ("; jaxlstm reads (n, T, F), and these NaN pad the last axis as aeon/sktime pad their "
                    "(n_cases, n_channels, n_timepoints) layout: if that is this array's layout, transpose it "
                    "(X.transpose(0, 2, 1))")
        elif lengths is None and not finite[i, step:].any():  # NaN to the end: padding, as the UCR archive writes it
            hint = ("; if NaN marks padding after each sequence's end, pass lengths (the number of valid steps "
                    "of each sequence; in an .npz, a key 'lengths')")
        raise ValueError(f"{name} has NaN or inf in a valid step (sequence {i}, step {step}; "
                         f"{len(bad)} such steps){hint}")
    big = np.argwhere(valid[..., None] & (np.abs(xa) > MAX_ABS))
    if big.size:  # float32 training standardises features by their variance, whose squares overflow past ~1.8e19
        i, step, feat = (int(v) for v in big[0])
        raise ValueError(f"{name} has a value beyond ±{MAX_ABS:.0e} (sequence {i}, step {step}, feature {feat}: "
                         f"{float(xa[i, step, feat]):.3g}): jaxlstm trains in float32, where such values "
                         "overflow when standardised; rescale the feature (e.g. log or divide by a constant)")
    if one_step_warning:
        warn_one_step(xa.shape, name)
    return xa, la


def _nan_padded_last_axis(a: np.ndarray) -> bool:
    """NaN padding the way aeon/sktime store unequal lengths in
    ``(n, channels, T)``: NaN only as a suffix of the last axis, the same for
    every channel of a case, some case unpadded (the longest), and the last
    axis longer than the middle one (time points outnumber channels). A
    feature missing from (n, T, F) data fails the last two."""
    nan = np.isnan(a)
    if not nan.any() or a.shape[-1] <= a.shape[1]:
        return False
    t = a.shape[-1]
    end = np.where(nan.all(axis=-1), 0, t - np.argmax(~nan[..., ::-1], axis=-1))  # after the last non-NaN
    return bool((nan.sum(axis=-1) == t - end).all() and (end == end[:, :1]).all() and (end == t).any())


def warn_one_step(shape: tuple, name: str) -> None:
    """Warn (at the first caller outside jaxlstm) when 3-D input ``(n, 1, F)``
    makes every sequence one time step: most likely aeon/sktime's
    ``(n_cases, n_channels, n_timepoints)`` layout of univariate series.
    (Not for lists of one-step sequences, which say their layout.)"""
    if len(shape) != 3 or shape[1] != 1 or shape[2] <= 1:
        return
    frame, level = sys._getframe(1), 2  # stacklevel 2 = the frame that called this function
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "jaxlstm":
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{name} has shape (n, 1, {shape[2]}): every sequence is one time step of {shape[2]} features. "
                  f"jaxlstm reads (n, T, F); if it is in aeon/sktime's (n_cases, n_channels, n_timepoints) "
                  f"layout, transpose it (X.transpose(0, 2, 1))", UserWarning, stacklevel=level)


def check_labels(y, n: int, num_classes: int | None = None, *, min_classes: int = 2) -> np.ndarray:
    """Validate integer labels in ``[0, num_classes)``; returns int32.

    Raises:
      ValueError: wrong shape, non-integer values, a label out of range, or
        fewer than ``min_classes`` distinct classes (a single class cannot be
        classified).
    """
    ya = np.asarray(y)
    if ya.ndim != 1 or ya.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) to match x, got {ya.shape}")
    if not np.issubdtype(ya.dtype, np.integer):
        if not np.issubdtype(ya.dtype, np.number) or not np.all(np.isfinite(ya)) \
                or not np.all(ya == np.round(ya)):
            raise ValueError("y must hold integer class labels 0..num_classes-1 "
                             "(use LSTMClassifier for arbitrary label types)")
    ya = ya.astype(np.int64)
    if num_classes is not None:
        bad = np.flatnonzero((ya < 0) | (ya >= num_classes))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"labels must be in [0, {num_classes}); row {i} has label {ya[i]}")
    elif ya.size and ya.min() < 0:
        raise ValueError(f"labels must be >= 0; got {ya.min()}")
    k = np.unique(ya).size
    if k < min_classes:
        raise ValueError(f"y has {k} distinct class(es); at least {min_classes} are needed")
    return ya.astype(np.int32)
