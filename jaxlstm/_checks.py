"""Host-side input validation: clear ``ValueError`` before anything is traced.

Pure functions cannot raise on values under ``jit``; every interface (the
training wrapper, the estimator, the CLI) calls these first so that bad input
is named here instead of surfacing as a NaN or a trace from deep inside JAX.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

__all__ = ["plain_decimal", "check_sequences", "nan_padded_lengths", "warn_zero_padding", "check_labels",
           "check_sample_weight", "check_float32_range", "check_standardisable", "row_indices", "did_you_mean",
           "user_stacklevel"]


F32_MAX = float(np.finfo(np.float32).max)  # 3.4e38: jaxlstm trains in float32


def _beyond(a: np.ndarray, where: tuple, name: str) -> ValueError:
    dims = {1: ("step",), 2: ("step", "feature"), 3: ("sequence", "step", "feature")}.get(a.ndim)
    at = ", ".join(f"{k} {v}" for k, v in zip(dims, where)) if dims else f"index {where}"
    return ValueError(f"{name} has a value beyond float32's range ±{F32_MAX:.2g} ({at}: {float(a[where]):.3g}): "
                      "jaxlstm trains in float32; rescale the feature (e.g. log or divide by a constant)")


def plain_decimal(text: str):
    """``text`` as an exact decimal number (``Decimal``) when it is a plain
    ASCII decimal literal (``1``, ``-2.50``), else ``None``: no exponents,
    underscores or other digits, and no float rounding (``2**53 + 1`` is not
    ``2**53``). Labels that read so are matched by value (``"1"`` is
    ``"1.0"``, as pandas writes whole floats)."""
    import re
    from decimal import Decimal

    return Decimal(text) if re.fullmatch(r"[+-]?[0-9]+(\.[0-9]*)?", text) else None


def check_float32_range(x, name: str) -> None:
    """A finite float64 value past float32's range (the cast would make it
    inf, then "NaN or inf") named before the cast, with where it is. Only
    for arrays of floats whose every value is data (no padding): a list's
    sequence, an array whose padding is NaN; :func:`check_sequences` checks
    valid steps only."""
    a = x if isinstance(x, np.ndarray) else None
    if a is None or a.dtype.kind != "f" or a.dtype.itemsize <= 4:
        return
    with np.errstate(invalid="ignore"):
        big = np.isfinite(a) & (np.abs(a) > F32_MAX)
    if big.any():
        raise _beyond(a, tuple(int(v) for v in np.argwhere(big)[0]), name)


def check_standardisable(x: np.ndarray, lengths: np.ndarray, name: str) -> None:
    """``normalize="standard"`` divides by each feature's standard deviation,
    computed in float32 as a sum of squared deviations over valid steps: past
    float32's range it is inf and the feature silently scales to 0 (values of
    1e19, or 9e17 over 1,000 steps). Raises naming the feature; summed here in
    float64 over all rows (a fold's rows sum to less)."""
    lengths = np.asarray(lengths)
    rows = max(1, (1 << 22) // max(1, x.shape[1] * x.shape[2]))  # float64 copies of ~32 MB at a time, not of all X

    def chunks():
        for s in range(0, len(x), rows):
            valid = (np.arange(x.shape[1])[None, :] < lengths[s : s + rows, None])[..., None]
            yield valid, np.where(valid, np.asarray(x[s : s + rows], np.float64), 0.0)

    mean = sum(xv.sum((0, 1)) for _, xv in chunks()) / max(int(np.sum(lengths)), 1)
    ss = sum(np.sum(np.where(valid, np.square(xv - mean), 0.0), axis=(0, 1)) for valid, xv in chunks())
    over = np.flatnonzero(ss > F32_MAX)
    if over.size:
        raise ValueError(f"{name}: feature {int(over[0])}'s squared deviations sum to {ss[over[0]]:.3g}, past float32's "
                         f"range: normalize='standard' cannot scale it (it would train on zeros); rescale the feature "
                         "(e.g. log or divide by a constant) or use normalize='minmax'")


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
        ``[1, T]``, or NaN/inf (or a float64 value past float32's range) in a
        valid step.
    """
    try:
        with np.errstate(over="ignore"):  # a float64 value past float32's range: named below if in a valid step
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
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and np.isfinite(x[i, step]).all():
            raise _beyond(x, (i, step, int(np.argmax(~np.isfinite(xa[i, step])))), name)  # float64 past float32
        hint = ""
        if _nan_padded_last_axis(xa):
            hint = ("; jaxlstm reads (n, T, F), and these NaN pad the last axis as aeon/sktime pad their "
                    "(n_cases, n_channels, n_timepoints) layout: if that is this array's layout, transpose it "
                    "(X.transpose(0, 2, 1))")
        elif step == 0 and np.isnan(xa[i, 0]).all() and (finite & valid)[i].any():  # padding before it (Keras' 'pre')
            hint = ("; only steps after a sequence's end that are NaN in every feature are padding, and this NaN "
                    "step comes before valid ones: pad after each sequence's end (Keras' pad_sequences(..., "
                    "padding='post', value=np.nan, dtype='float32')) or pass a list of arrays of their own lengths")
        elif np.isnan(xa[i, step]).all() and (finite & valid)[i, step:].any():  # a gap between valid steps
            hint = ("; a step NaN in every feature between valid ones is a missing value, not padding: fill it "
                    "(e.g. interpolate) or leave the sequence out")
        elif lengths is None and not finite[i, step:].any():  # NaN to the end: padding, as the UCR archive writes it
            hint = ("; if NaN marks padding after each sequence's end, pass lengths (the number of valid steps "
                    "of each sequence; in an .npz, a key 'lengths')")
        raise ValueError(f"{name} has NaN or inf in a valid step (sequence {i}, step {step}; "
                         f"{len(bad)} such steps){hint}")
    if one_step_warning:
        warn_one_step(xa.shape, name)
    return xa, la


def nan_padded_lengths(a: np.ndarray, name: str) -> np.ndarray:
    """Each sequence's length in a 3-D array ``(n, T, F)`` whose trailing
    steps that are NaN in every feature are padding (as the UCR archive pads
    unequal lengths); raises naming a sequence that has no other step."""
    finite_step = ~np.isnan(a).all(axis=-1)
    lengths = np.where(finite_step.any(1), a.shape[1] - np.argmax(finite_step[:, ::-1], axis=1), 0)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(f"{name}[{empty[0]}] has no valid step (all NaN): a sequence of length zero")
    return lengths.astype(np.int32)


def warn_zero_padding(x: np.ndarray, lengths: np.ndarray, name: str) -> None:
    """Warn (at the first caller outside jaxlstm) when at least a tenth of the
    sequences start or end with runs of steps that are 0 in every feature, of
    different lengths, as Keras' ``pad_sequences`` pads them: jaxlstm reads
    those steps as data (only trailing all-NaN steps, or ``lengths``, mark
    padding)."""
    t, lengths = x.shape[1], np.asarray(lengths)
    valid = np.arange(t)[None, :] < lengths[:, None]
    zero = np.all(x == 0, axis=-1) & valid
    lead = np.cumprod(zero, axis=1).sum(1)
    trail = np.cumprod((zero | ~valid)[:, ::-1], axis=1).sum(1) - (t - lengths)
    # an all-zero step between a sequence's first and last nonzero steps is data (digits with pixel columns as
    # steps, event counts), so zeros at the edges are likely data too (an all-zero sequence: lead = trail = length)
    if np.any(zero.sum(1) > np.minimum(lead + trail, lengths)):
        return
    for where, run in (("end", trail), ("start", lead)):
        # padding to one length leaves runs of different lengths in many sequences; a few sequences of real data
        # that end at 0 (3 of 7,200 in the UCR archive's Crop) are not padding
        if run.max() < 2 or len(np.unique(run)) < 2 or np.sum(run > 0) < max(2, 0.1 * len(run)):
            continue
        fix = ("mark them NaN (only trailing steps NaN in every feature are padding)" if where == "end" else
               "pad after each sequence's end with NaN instead (only trailing all-NaN steps are padding)")
        warnings.warn(f"{name}: {int(np.sum(run > 0))} of {len(run)} sequences {where} with steps that are 0 in every "
                      f"feature (up to {int(run.max())} steps), as Keras' pad_sequences pads: jaxlstm reads these "
                      f"steps as data. If they are padding, {fix}: pad_sequences(..., padding='post', value=np.nan, "
                      "dtype='float32'), or pass a list of arrays of their own lengths (an .npz: a key 'lengths'); "
                      "if they are data, ignore this warning", UserWarning, stacklevel=user_stacklevel())
        return


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning raised by the caller of this
    function at the first frame outside jaxlstm (the user's line)."""
    frame, level = sys._getframe(2), 2  # stacklevel 2 = the frame that called the warning function
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "jaxlstm":
        frame, level = frame.f_back, level + 1
    return level


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
    warnings.warn(f"{name} has shape (n, 1, {shape[2]}): every sequence is one time step of {shape[2]} features. "
                  f"jaxlstm reads (n, T, F); if it is in aeon/sktime's (n_cases, n_channels, n_timepoints) "
                  f"layout, transpose it (X.transpose(0, 2, 1))", UserWarning, stacklevel=user_stacklevel())


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


def did_you_mean(word, options, n: int = 1) -> str:
    """`` (did you mean 'x'?)`` for the ``n`` closest of ``options`` to a
    mistyped ``word`` (``difflib``), or ``""`` when none is close."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=n)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def check_sample_weight(sample_weight, n: int, train_rows=None, folds=None) -> np.ndarray | None:
    """``sample_weight`` (``None``, or one number per row, as scikit-learn's
    estimators take it) as float32 ``(n,)``; ``None`` stays ``None``.

    Raises:
      ValueError: naming ``sample_weight`` and the first bad row for a wrong
        shape, a non-number, a negative, non-finite or float32-overflowing
        weight (a weight near float32's largest may still overflow the
        weighted loss: the run then stops as diverged), or weights that
        are 0 in float32 (or subnormal: the CPU program flushes those to 0)
        on every row of ``train_rows``
        (default: all rows) or of a fold's training rows (``folds``:
        ``(train, test)`` index pairs): the loss would be 0 and nothing learnt.
    """
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"sample_weight must hold numbers, one per sequence; got {sample_weight!r:.80}") from None
    if w.ndim == 0:  # scikit-learn's convention: a scalar is every row's weight
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per sequence, got {w.shape}")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0) | (w > np.finfo(np.float32).max))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"sample_weight must be finite, >= 0 and within float32's range; row {i} has "
                         f"{float(w[i])!r}")
    w = w.astype(np.float32)  # as the program holds them: 1e-46 is 0 there, and XLA:CPU flushes 1e-40 to 0
    parts = [("", slice(None) if train_rows is None else np.asarray(train_rows))]
    parts += [(f" of fold {k}", np.asarray(tr)) for k, (tr, _) in enumerate(folds or ())]
    for where, rows in parts:
        if w.size and not np.any(w[rows] >= np.finfo(np.float32).tiny):
            raise ValueError(f"sample_weight is zero on every training row{where} (in float32, below "
                             f"{np.finfo(np.float32).tiny:.3g} counts as 0): the loss would be 0 and nothing learnt")
    return w


def row_indices(idx, n: int, what: str) -> np.ndarray:
    """``idx`` as int64 row numbers in ``[0, n)``; a boolean mask of the ``n``
    rows becomes its indices (as NumPy indexing reads it).

    Raises:
      ValueError: naming ``what``: not a 1-D array of integers (fractional
        numbers, a mask of another length), or a number out of range or
        negative (NumPy would wrap it: silently other rows).
    """
    a = np.asarray(idx)
    if a.dtype == bool and a.shape == (n,):
        a = np.flatnonzero(a)
    if a.ndim != 1 or not (a.size == 0 or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{what} must be a 1-D array of row numbers (or a boolean mask of the {n} rows), "
                         f"got dtype {a.dtype} and shape {a.shape}")
    if a.size and (a.min() < 0 or a.max() >= n):
        bad = a[(a < 0) | (a >= n)]
        raise ValueError(f"{what} must be in [0, {n - 1}] ({n} rows), got {bad[0]}")
    return a.astype(np.int64)


CSV_COLUMNS = {"id_column": "sequence_id", "time_column": "time", "label_column": "label"}


def check_csv_columns(columns: dict, where: str = "") -> dict:
    """``columns`` ({``"id_column"``, ``"time_column"``, ``"label_column"``:
    a name}, any of them) completed with :data:`CSV_COLUMNS`'s defaults.

    Raises:
      ValueError: an unknown key, a name that is not a non-empty string, or
        two roles given the same column (the parameters named).
    """
    for k, v in columns.items():
        if k not in CSV_COLUMNS:
            raise ValueError(f"{where}unknown CSV column role {k!r}{did_you_mean(k, CSV_COLUMNS, 2)}; "
                             f"allowed: {list(CSV_COLUMNS)}")
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{where}{k} must be a column name (a non-empty string), got {v!r}")
    cols = {**CSV_COLUMNS, **{k: v.strip() for k, v in columns.items()}}
    same = [k for k in cols if list(cols.values()).count(cols[k]) > 1]
    if same:
        raise ValueError(f"{where}{' and '.join(same)} name the same column {cols[same[0]]!r}; each role needs "
                         "its own column")
    return cols


def ucr_parts(spec: str) -> tuple[str, str, str]:
    """``"ucr:NAME[:SPLIT[:MISSING]]"`` as ``(NAME, SPLIT, MISSING)``
    (defaults ``"train"``, ``"error"``; :func:`load_ucr` checks the values)."""
    name, *rest = spec[len("ucr:"):].split(":")
    if len(rest) > 2:
        raise ValueError(f"{spec!r}: expected ucr:NAME, ucr:NAME:test or ucr:NAME:train|test:interpolate")
    return name, (rest[0] if rest and rest[0] else "train"), (rest[1] if len(rest) > 1 else "error")


def ucr_test_split(spec: str) -> str:
    """The standard test split of ``"ucr:NAME"`` (a train split, with its
    missing-value handling), or ``""`` for anything else."""
    if not str(spec).startswith("ucr:"):
        return ""
    name, split, missing = ucr_parts(spec)
    return f"ucr:{name}:test" + ("" if missing == "error" else f":{missing}") if split == "train" else ""
