"""Masked preprocessing and temporal features for right-padded sequences.

Scaler statistics are fitted on the valid steps of training rows only (padding
and held-out rows ignored), so they equal scikit-learn's ``StandardScaler`` /
``MinMaxScaler`` fitted on the unpadded training steps, and can be fitted per
cross-validation fold inside a compiled program without leaking.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm._checks import did_you_mean
from jaxlstm.model import sequence_mask

Array = jax.Array

__all__ = [
    "ScalerStats",
    "fit_standard_scaler",
    "fit_minmax_scaler",
    "fit_scaler",
    "apply_scaler",
    "identity_scaler",
    "rolling_mean",
    "rolling_std",
    "steps_since_event",
    "first_difference",
    "TemporalFeatures",
    "as_temporal_features",
    "temporal_features",
    "pad_sequences",
    "window_slice",
    "magnitude_warp",
]


class ScalerStats(NamedTuple):
    """``x_scaled = (x - offset) * scale`` per feature (``Float[feature]`` each)."""

    offset: Array
    scale: Array


def _step_weights(x: Array, lengths: Array, where: Array | None) -> Array:
    w = sequence_mask(lengths, x.shape[1])
    if where is not None:
        w = w & where[:, None]
    return w


def fit_standard_scaler(x: Array, lengths: Array, where: Array | None = None) -> ScalerStats:
    """Mean and ``1/std`` of each feature over valid steps of the selected rows.

    Equal to ``StandardScaler().fit(steps)`` with ``steps`` the unpadded steps of
    the rows where ``where`` is true: population std, and a constant feature
    gets scale 1 (scikit-learn's ``_handle_zeros_in_scale``).

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      where: ``Bool[batch]`` training rows, or ``None`` for all.
    Returns:
      :class:`ScalerStats` with ``offset = mean`` and ``scale = 1 / std``.
    """
    w = _step_weights(x, lengths, where)[..., None]
    n = jnp.maximum(jnp.sum(w, axis=(0, 1)), 1).astype(x.dtype)
    # select, not multiply: NaN padding times 0 would still be NaN.
    mean = jnp.sum(jnp.where(w, x, 0.0), axis=(0, 1)) / n
    # two-pass variance: no catastrophic cancellation in float32.
    var = jnp.sum(jnp.square(jnp.where(w, x - mean, 0.0)), axis=(0, 1)) / n
    std = jnp.sqrt(var)
    # constant = every valid step holds the same value (scikit-learn's
    # _is_constant_feature, computed in float64, is as strict): a feature of
    # a few rounding steps' spread (latitude 48.1 moving metres) is scaled.
    lo = jnp.min(jnp.where(w, x, jnp.inf), axis=(0, 1))
    hi = jnp.max(jnp.where(w, x, -jnp.inf), axis=(0, 1))
    std = jnp.where((hi <= lo) | (std <= jnp.finfo(x.dtype).tiny), 1.0, std)
    return ScalerStats(mean, 1.0 / std)


def fit_minmax_scaler(x: Array, lengths: Array, where: Array | None = None) -> ScalerStats:
    """Min-max scaling to ``[0, 1]`` fitted on valid steps of the selected rows.

    Equal to ``MinMaxScaler().fit(steps)``; a constant feature gets scale 1,
    and no selected step the identity (offset 0, scale 1).

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      where: ``Bool[batch]`` training rows, or ``None`` for all.
    Returns:
      :class:`ScalerStats` with ``offset = min`` and ``scale = 1 / (max - min)``.
    """
    w = _step_weights(x, lengths, where)[..., None]
    lo = jnp.min(jnp.where(w, x, jnp.inf), axis=(0, 1))
    hi = jnp.max(jnp.where(w, x, -jnp.inf), axis=(0, 1))
    rng = hi - lo
    # constant = one value (as scikit-learn's, whose threshold is float64's 10 eps)
    rng = jnp.where(rng <= jnp.finfo(x.dtype).tiny, 1.0, rng)
    lo = jnp.where(jnp.any(w, axis=(0, 1)), lo, 0.0)  # no step selected: the identity, as fit_standard_scaler's
    return ScalerStats(lo, 1.0 / rng)


def identity_scaler(num_features: int, dtype=jnp.float32) -> ScalerStats:
    """Statistics that leave inputs unchanged."""
    return ScalerStats(jnp.zeros(num_features, dtype), jnp.ones(num_features, dtype))


def fit_scaler(kind: str | None, x: Array, lengths: Array, where: Array | None = None) -> ScalerStats:
    """Dispatch on ``kind`` in ``{"standard", "minmax", None}`` (static)."""
    if kind == "standard":
        return fit_standard_scaler(x, lengths, where)
    if kind == "minmax":
        return fit_minmax_scaler(x, lengths, where)
    if kind is None or kind == "none":
        return identity_scaler(x.shape[-1], x.dtype)
    raise ValueError(f"normalize must be 'standard', 'minmax' or None, got {kind!r}")


def apply_scaler(x: Array, lengths: Array, stats: ScalerStats) -> Array:
    """``(x - offset) * scale`` on valid steps; padding set to 0.

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      stats: from a ``fit_*`` function.
    Returns:
      ``Float[batch, time, feature]``.
    """
    mask = sequence_mask(lengths, x.shape[1])[..., None]
    return jnp.where(mask, (x - stats.offset) * stats.scale, 0.0)


def _windows(x: Array, lengths: Array, window: int) -> tuple[Array, Array]:
    """Stack of the trailing ``window`` steps: ``(window, batch, time, feature)``
    values and a validity mask (inside the sequence and not before step 0)."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    t = x.shape[1]
    valid = sequence_mask(lengths, t)
    vals, masks = [], []
    for k in range(window):
        shifted = jnp.pad(x, ((0, 0), (k, 0), (0, 0)))[:, :t]
        m = jnp.pad(valid, ((0, 0), (k, 0)))[:, :t] & valid
        vals.append(jnp.where(m[..., None], shifted, 0.0))
        masks.append(m)
    return jnp.stack(vals), jnp.stack(masks)[..., None]


def rolling_mean(x: Array, lengths: Array, window: int) -> Array:
    """Trailing mean over the last ``window`` valid steps (fewer at the start,
    like pandas' ``rolling(window, min_periods=1).mean()``); padding gives 0.

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      window: static int >= 1.
    Returns:
      ``Float[batch, time, feature]``.
    """
    vals, m = _windows(x, lengths, window)
    return jnp.sum(vals, 0) / jnp.maximum(jnp.sum(m, 0), 1)


def rolling_std(x: Array, lengths: Array, window: int, ddof: int = 0) -> Array:
    """Trailing standard deviation over the last ``window`` valid steps.

    ``ddof=0`` is the population std (0 for a single step); ``ddof=1`` matches
    pandas' default and gives 0 (not NaN) where fewer than 2 steps exist.
    Padding gives 0.

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      window: static int >= 1.
      ddof: delta degrees of freedom.
    Returns:
      ``Float[batch, time, feature]``.
    """
    vals, m = _windows(x, lengths, window)
    n = jnp.sum(m, 0)
    mean = jnp.sum(vals, 0) / jnp.maximum(n, 1)
    sq = jnp.sum(jnp.where(m, jnp.square(vals - mean), 0.0), 0)
    var = sq / jnp.maximum(n - ddof, 1)
    # sqrt only of positive variances: sqrt's slope at 0 is inf, and a window of
    # one step (every sequence's first) or of equal values made the gradient NaN
    ok = (n > ddof) & (var > 0)
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, var, 1.0)), 0.0)


def steps_since_event(indicator: Array, lengths: Array, no_event: float | None = None) -> Array:
    """Steps since the last step (inclusive) where ``indicator`` is nonzero.

    0 at an event step, 1 one step later, and so on. Before the first event
    the count runs from the start of the sequence as if an event had happened
    at step -1 (``t + 1``), unless ``no_event`` gives a constant. Padding gives 0.

    Args:
      indicator: ``Float[batch, time]`` or ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      no_event: value before the first event, or ``None`` for ``t + 1``.
    Returns:
      float array shaped like ``indicator``.
    """
    squeeze = indicator.ndim == 2
    ind = indicator[..., None] if squeeze else indicator
    t = jnp.arange(ind.shape[1])[None, :, None]
    last = jax.lax.cummax(jnp.where(ind != 0, t, -1), axis=1)
    since = (t - last).astype(jnp.float32)
    if no_event is not None:
        since = jnp.where(last < 0, jnp.float32(no_event), since)
    since = jnp.where(sequence_mask(lengths, ind.shape[1])[..., None], since, 0.0)
    return since[..., 0] if squeeze else since


def first_difference(x: Array, lengths: Array) -> Array:
    """``x[t] - x[t - 1]`` on valid steps; 0 at step 0 (pandas' ``diff`` gives
    NaN there) and in the padding, whatever the padding holds.

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
    Returns:
      ``Float[batch, time, feature]``.
    """
    valid = sequence_mask(lengths, x.shape[1])[..., None]
    xv = jnp.where(valid, x, 0.0)  # select, not multiply: NaN padding stays out
    prev = jnp.pad(xv, ((0, 0), (1, 0), (0, 0)))[:, : x.shape[1]]
    has_prev = valid & (jnp.arange(x.shape[1]) > 0)[None, :, None]
    return jnp.where(has_prev, xv - prev, 0.0)


def _int_tuple(name: str, values, lo: int) -> tuple[int, ...]:
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = (values,)  # rolling_mean=5, as as_temporal_features and the TOML take it
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a list of integers >= {lo}, got {values!r}")
    out = tuple(values)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must hold integers >= {lo}, got {v!r}")
    return tuple(int(v) for v in out)


@dataclasses.dataclass(frozen=True)
class TemporalFeatures:
    """Which temporal features :func:`temporal_features` builds (static,
    hashable: a jit static argument and, later, a static sweep key).

    Attributes:
      rolling_mean: trailing windows (steps) for rolling means of every channel.
      rolling_std: trailing windows for rolling (population) standard deviations.
      diff: add first differences of every channel.
      events: ``(channel, threshold)`` pairs: steps since ``x[..., channel] >
        threshold`` last held (see :func:`steps_since_event`). A channel is an
        index, or a name (a CSV column, an ``.npz``'s ``feature_names``) that
        :meth:`with_channel_names` turns into its index before training; the
        CLI and TOML sweeps do that against the data file's names.
      include_input: keep the input channels first in the output.

    Example:
      >>> spec = TemporalFeatures(rolling_mean=(5,), rolling_std=(5,), diff=True, events=((4, 0.5),))
      >>> z = temporal_features(x, lengths, spec)   # (batch, time, spec.num_outputs(F))
      >>> data = jaxlstm.datasets.load("sessions.csv")   # columns named, e.g. "bytes", "new_port"
      >>> spec = TemporalFeatures(events=(("new_port", 0.5),)).with_channel_names(data.feature_names)
    """

    rolling_mean: tuple[int, ...] = ()
    rolling_std: tuple[int, ...] = ()
    diff: bool = False
    events: tuple[tuple[int, float], ...] = ()
    include_input: bool = True

    def __post_init__(self):
        object.__setattr__(self, "rolling_mean", _int_tuple("rolling_mean", self.rolling_mean, 1))
        object.__setattr__(self, "rolling_std", _int_tuple("rolling_std", self.rolling_std, 1))
        if isinstance(self.events, (str, bytes)) or not isinstance(self.events, Iterable):
            raise ValueError(f"events must be a list of (channel, threshold) pairs, got {self.events!r}")
        events = []
        for ev in self.events:
            try:
                channel, threshold = ev
            except (TypeError, ValueError):
                raise ValueError(f"events must hold (channel, threshold) pairs, got {ev!r}") from None
            if isinstance(channel, np.str_):
                channel = str(channel)
            if isinstance(channel, str):
                if not channel.strip():
                    raise ValueError(f"events channel must be an index >= 0 or a channel's name, got {channel!r}")
            else:
                (channel,) = _int_tuple("events channel", (channel,), 0)
            try:
                threshold = float(threshold)
            except (TypeError, ValueError):
                raise ValueError(f"events threshold must be a number, got {threshold!r}") from None
            if not np.isfinite(threshold):
                raise ValueError(f"events threshold must be finite, got {threshold!r}")
            events.append((channel, threshold))
        object.__setattr__(self, "events", tuple(events))
        for flag in ("diff", "include_input"):  # bool("no") is True: take only real booleans
            v = getattr(self, flag)
            if not isinstance(v, (bool, np.bool_)):
                raise ValueError(f"{flag} must be True or False, got {v!r}")
            object.__setattr__(self, flag, bool(v))

    @property
    def channel_names_needed(self) -> tuple[str, ...]:
        """The event channels given by name (resolved by :meth:`with_channel_names`)."""
        return tuple(c for c, _ in self.events if isinstance(c, str))

    def with_channel_names(self, names: Sequence[str] | None) -> TemporalFeatures:
        """This spec with every event channel given by name replaced by its
        index in ``names`` (the input's channel names, in order); indices stay.

        Raises:
          ValueError: naming ``events channel`` for a name not in ``names``
            (with close matches), or for names when ``names`` is ``None``.
        """
        if not self.channel_names_needed:
            return self
        if names is None:
            raise ValueError(f"events channel {self.channel_names_needed[0]!r} is a name, but the data's channels "
                             "have no names (a CSV's feature columns or an .npz's feature_names give them): give "
                             "its index instead")
        names = [str(n) for n in names]
        events = []
        for c, th in self.events:
            if isinstance(c, str):
                if c not in names:
                    shown = ", ".join(map(repr, names[:20])) + (", ..." if len(names) > 20 else "")
                    raise ValueError(f"events channel {c!r} is unknown{did_you_mean(c, names, 3)}: the data's "
                                     f"channels are {shown}")
                c = names.index(c)
            events.append((c, th))
        return dataclasses.replace(self, events=tuple(events))

    def num_outputs(self, num_features: int) -> int:
        """Output channels for ``num_features`` input channels."""
        per_channel = int(self.include_input) + len(self.rolling_mean) + len(self.rolling_std) + int(self.diff)
        return per_channel * num_features + len(self.events)

    def output_names(self, names: Sequence[str]) -> tuple[str, ...]:
        """Names of the output channels, in order, from the input channels' names."""
        out = list(names) if self.include_input else []
        out += [f"rolling_mean{w}({n})" for w in self.rolling_mean for n in names]
        out += [f"rolling_std{w}({n})" for w in self.rolling_std for n in names]
        out += [f"diff({n})" for n in names] if self.diff else []
        out += [f"steps_since({c if isinstance(c, str) else names[c]}>{th:g})" for c, th in self.events]
        return tuple(out)

    def min_length(self) -> int:
        """The fewest time steps (padding included) :func:`temporal_features`
        accepts: the longest window, else 1. Predicting on shorter batches
        pads time up to it, which changes no valid step."""
        return max((*self.rolling_mean, *self.rolling_std, 1))

    def check(self, num_features: int, max_length: int, what: str = "the sequences") -> None:
        """Raise ``ValueError`` naming the parameter if a window is longer than
        ``what`` (``max_length`` steps: the padded time axis, or the longest
        sequence when the caller knows the lengths), or an event channel is
        not among the ``num_features`` channels or is still a name."""
        for name in ("rolling_mean", "rolling_std"):
            for w in getattr(self, name):
                if w > max_length:
                    raise ValueError(f"{name} window {w} is longer than {what} ({max_length} steps)")
        for c, _ in self.events:
            if isinstance(c, str):
                raise ValueError(f"events channel {c!r} is a name: the model reads channels by index; turn names "
                                 "into indices with as_temporal_features(spec).with_channel_names("
                                 "data.feature_names), or SweepConfig.with_channel_names for a TOML config (the CLI "
                                 "does this against the data file's column names)")
            if c >= num_features:
                raise ValueError(f"events channel {c} is unknown: the input has {num_features} channels "
                                 f"(0..{num_features - 1})")


_SPEC_KEYS = tuple(f.name for f in dataclasses.fields(TemporalFeatures))


def as_temporal_features(value) -> TemporalFeatures | None:
    """What a user may write for ``features`` -- ``None``, a
    :class:`TemporalFeatures`, or a dict of its fields (as in TOML:
    ``{rolling_mean = [5, 20], diff = true, events = [[0, 0.5]]}``) -- as a
    spec, or ``None`` for the raw channels (an empty dict too).

    Raises:
      ValueError: naming ``features.<field>`` for a bad field, or an unknown key.
    """
    if value is None or isinstance(value, TemporalFeatures):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"features must be None, a TemporalFeatures or a dict with keys {', '.join(_SPEC_KEYS)}; "
                         f"got {value!r}")
    unknown = sorted(set(value) - set(_SPEC_KEYS))
    if unknown:
        raise ValueError(f"features has unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(_SPEC_KEYS)}")
    if not value:
        return None
    try:  # TemporalFeatures checks each value (a window given as one int is a list of one)
        return TemporalFeatures(**value)
    except ValueError as e:
        raise ValueError(f"features.{e}") from None


def temporal_features(x: Array, lengths: Array, spec: TemporalFeatures) -> Array:
    """The feature tensor ``spec`` describes, channels concatenated in the
    order input, rolling means (by window, then channel), rolling stds,
    differences, steps since events (``spec.output_names`` names them).
    Padding gives 0 and never changes a valid step (NaN in padding is fine).

    Args:
      x: ``Float[batch, time, feature]``.
      lengths: ``Int[batch]``.
      spec: :class:`TemporalFeatures` (static).
    Returns:
      ``Float[batch, time, spec.num_outputs(feature)]``.

    Raises:
      ValueError: at trace time, a window longer than ``time`` or an event
        channel ``>= feature`` (see :meth:`TemporalFeatures.check`).
    """
    spec.check(x.shape[-1], x.shape[1])
    valid = sequence_mask(lengths, x.shape[1])[..., None]
    parts = [jnp.where(valid, x, 0.0)] if spec.include_input else []
    parts += [rolling_mean(x, lengths, w) for w in spec.rolling_mean]
    parts += [rolling_std(x, lengths, w) for w in spec.rolling_std]
    if spec.diff:
        parts.append(first_difference(x, lengths))
    if spec.events:
        channels = jnp.stack([x[..., c] for c, _ in spec.events], -1)
        thresholds = jnp.asarray([th for _, th in spec.events], x.dtype)
        indicator = jnp.where(valid, channels > thresholds, False)
        parts.append(steps_since_event(indicator, lengths).astype(x.dtype))
    if not parts:
        return jnp.zeros(x.shape[:2] + (0,), x.dtype)
    return jnp.concatenate(parts, axis=-1)


def _interp_rows(x: Array, lengths: Array, pos: Array) -> Array:
    """``x`` read at fractional step positions ``pos`` (``Float[batch, time]``,
    each in ``[0, length - 1]``) by linear interpolation between valid steps;
    padding steps keep ``x``."""
    t = x.shape[1]
    last = jnp.maximum(lengths - 1, 0)[:, None]
    lo = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, last)
    hi = jnp.minimum(lo + 1, last)
    frac = (pos - lo)[..., None].astype(x.dtype)
    take = lambda i: jnp.take_along_axis(x, i[..., None], axis=1)
    out = (1 - frac) * take(lo) + frac * jnp.where(frac > 0, take(hi), 0.0)
    return jnp.where(sequence_mask(lengths, t)[..., None], out, x)


def window_slice(x: Array, lengths: Array, ratio, start: Array) -> Array:
    """Window slicing (Le Guennec et al. 2016): each row's window of
    ``ratio`` of its valid span, starting at ``start`` (``Float[batch]`` in
    ``[0, 1)``: the fraction of the remaining span before it), stretched back
    over the row's valid steps by linear interpolation. ``ratio = 1`` returns
    the valid steps unchanged; padding is never read or changed.

    Args:
      x: ``Float[batch, time, feature]``; lengths: ``Int[batch]``;
      ratio: scalar in ``(0, 1]`` (may be traced).
    """
    span = jnp.maximum(lengths - 1, 0).astype(jnp.float32)[:, None]
    begin = start[:, None] * (span - ratio * span)
    steps = jnp.arange(x.shape[1], dtype=jnp.float32)[None, :]
    return _interp_rows(x, lengths, jnp.clip(begin + steps * ratio, 0.0, span))  # step t reads begin + t * ratio


def magnitude_warp(x: Array, lengths: Array, knots: Array) -> Array:
    """Magnitude warping (Um et al. 2017, with a piecewise-linear curve for
    their cubic spline): each row's valid steps times a smooth curve through
    ``knots`` (``Float[batch, k]``, ``k >= 1``) placed evenly from its first to
    its last valid step; one knot is a per-row scaling. Padding is unchanged.
    """
    k = knots.shape[1]
    span = jnp.maximum(lengths - 1, 0).astype(jnp.float32)[:, None]
    steps = jnp.arange(x.shape[1], dtype=jnp.float32)[None, :]
    u = jnp.where(span > 0, steps / jnp.maximum(span, 1.0), 0.0) * (k - 1)  # knot coordinate of each step
    lo = jnp.clip(jnp.floor(u).astype(jnp.int32), 0, k - 1)
    hi = jnp.minimum(lo + 1, k - 1)
    frac = u - lo
    curve = (1 - frac) * jnp.take_along_axis(knots, lo, 1) + frac * jnp.take_along_axis(knots, hi, 1)
    return jnp.where(sequence_mask(lengths, x.shape[1])[..., None], x * curve[..., None].astype(x.dtype), x)


def pad_sequences(sequences: Sequence, max_length: int | None = None,
                  dtype=np.float32, pad_value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad a ragged list of ``(T_i, F)`` arrays (or 1-D ``(T_i,)``) into
    ``(x, lengths)``. Host-side NumPy: it decides array shapes.

    Args:
      sequences: list of array-likes, each ``(T_i, F)`` or ``(T_i,)``.
      max_length: pad to this many steps (default ``max(T_i)``); longer
        sequences are an error, not silently cut.
      dtype: output dtype.
      pad_value: value written to the padding.
    Returns:
      ``x: (n, T, F)`` and ``lengths: (n,)`` int32.

    Raises:
      ValueError: empty list, empty or zero-length sequence, inconsistent
        feature counts, wrong ndim, or a sequence longer than ``max_length``.
    """
    if len(sequences) == 0:
        raise ValueError("pad_sequences got an empty list of sequences")
    arrays = []
    for i, s in enumerate(sequences):
        a = np.asarray(s, dtype=dtype)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            raise ValueError(f"sequence {i} must be 1-D (T,) or 2-D (T, F), got shape {a.shape}")
        if a.shape[0] == 0:
            raise ValueError(f"sequence {i} has zero length")
        arrays.append(a)
    n_feat = {a.shape[1] for a in arrays}
    if len(n_feat) != 1:
        raise ValueError(f"sequences have different feature counts: {sorted(n_feat)}")
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int32)
    t = int(lengths.max()) if max_length is None else int(max_length)
    if lengths.max() > t:
        i = int(np.argmax(lengths))
        raise ValueError(f"sequence {i} has length {lengths[i]} > max_length={t}")
    x = np.full((len(arrays), t, arrays[0].shape[1]), pad_value, dtype=dtype)
    for i, a in enumerate(arrays):
        x[i, : a.shape[0]] = a
    return x, lengths
