"""MiniRocket features (Dempster, Schmidt and Webb, KDD 2021) for
right-padded, variable-length batches, as pure JAX functions.

Each of 84 length-9 kernels (weight -1 everywhere, 2 at three of the nine
taps) is convolved with the series at several dilations, spaced
exponentially from 1 up to ``(length - 1) / 8``; each convolution is compared
with biases drawn as quantiles of the same convolution of one random
training row, and a feature is the proportion of positions above its bias
(PPV). Alternate kernel/dilation pairs count only the positions whose window
lies inside the row (no padding), the others every position of the row (zero
"same" padding). Multivariate series: each kernel/dilation pair convolves the
sum of a random subset of the channels (MiniRocket's multivariate rule).
Variable lengths: steps past a row's length are zero and never counted.

The transform is fixed once fitted: :func:`fit_minirocket` draws the channel
subsets and biases from the training rows (so it can run per
cross-validation fold inside a compiled program), :func:`minirocket` maps
rows to ``Float[n, features]``. ``benchmarks/bench_minirocket.py`` holds the
float64 NumPy transform written from the paper that the tests compare with.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

__all__ = ["KERNELS", "MiniRocketParams", "minirocket_plan", "fit_minirocket", "minirocket"]

KERNELS = np.array(list(itertools.combinations(range(9), 3)))  # (84, 3): the taps with weight 2
_WEIGHTS = -np.ones((9, 84), np.float32)
_WEIGHTS[KERNELS.T, np.arange(84)[None, :]] = 2.0
_PHI = (math.sqrt(5) + 1) / 2


class MiniRocketParams(NamedTuple):
    """A fitted transform (arrays, so a sweep member carries its own).

    Attributes:
      channels: ``Float[dilations * 84, channels]``: 1 for the channels each
        kernel/dilation pair sums, 0 for the others.
      biases: ``Float[features]``: dilation-major, then kernel, then bias.
    """

    channels: Array
    biases: Array


def minirocket_plan(num_features: int, length: int, max_dilations: int = 32) -> tuple[tuple[int, ...],
                                                                                      tuple[int, ...]]:
    """Static shape of the transform: the dilations and the number of biases
    per kernel at each (``num_features // 84`` per kernel in all, shared over
    the dilations as the paper does). ``length``: the reference series length
    (the longest row); a length under 9 steps keeps dilation 1.

    Raises:
      ValueError: ``num_features`` below 84 or ``length`` below 1.
    """
    if int(num_features) < 84:
        raise ValueError(f"minirocket_features must be at least 84 (one per kernel), got {num_features}")
    if int(length) < 1:
        raise ValueError(f"the MiniRocket reference length must be >= 1, got {length}")
    per_kernel = int(num_features) // 84
    n_dil = min(per_kernel, max_dilations)
    top = math.log2((max(int(length), 9) - 1) / 8)
    dilations, counts = np.unique(np.floor(np.logspace(0, top, n_dil, base=2)).astype(int), return_counts=True)
    per_dilation = (counts * per_kernel / n_dil).astype(int)
    for i in range(per_kernel - int(per_dilation.sum())):
        per_dilation[i % len(per_dilation)] += 1
    return tuple(int(d) for d in dilations), tuple(int(c) for c in per_dilation)


def _dilated(s: Array, d: int, w: Array) -> Array:
    """``sum_j w[j] * s[:, t + (j - 4) d]``, zero outside the array: ``s:
    Float[n, time, k]``, ``w[j]`` broadcastable to it."""
    t = s.shape[1]
    padded = jnp.pad(s, ((0, 0), (4 * d, 4 * d), (0, 0)))
    return sum(padded[:, j * d: j * d + t] * w[j] for j in range(9))


def _channel_sums(x: Array, lengths: Array, channels: Array, subscripts: str) -> Array:
    """Sums of the channels each kernel reads, zero past each row's length,
    in full float32 (a TF32 or bfloat16 matmul on an accelerator would move
    convolutions across the biases)."""
    valid = jnp.arange(x.shape[1])[None, :] < lengths[:, None]
    return jnp.einsum(subscripts, jnp.where(valid[..., None], x, 0.0), channels.astype(x.dtype),
                      precision=jax.lax.Precision.HIGHEST)


def _convolutions(x: Array, lengths: Array, d: int, channels: Array) -> Array:
    """The 84 kernels at dilation ``d``, kernel ``k`` over the sum of the
    channels in ``channels[k]``: ``Float[n, time, 84]`` (zero past each row's length)."""
    return _dilated(_channel_sums(x, lengths, channels, "ntc,kc->ntk"), d, jnp.asarray(_WEIGHTS, x.dtype))


def _counted(lengths: Array, t: int, d: int, first: int) -> Array:
    """Which positions count, per kernel: ``Bool[n, time, 84]``. Kernel ``k``
    is unpadded when ``first + k`` is odd: positions ``[4d, length - 4d)``, or
    the whole row where that is empty."""
    pos = jnp.arange(t)[None, :]
    row = pos < lengths[:, None]
    inner = (pos >= 4 * d) & (pos < lengths[:, None] - 4 * d)
    inner = jnp.where(jnp.any(inner, axis=1, keepdims=True), inner, row)
    unpadded = (first + np.arange(84)) % 2 == 1
    return jnp.where(jnp.asarray(unpadded)[None, None, :], inner[..., None], row[..., None])


def _quantiles(values: Array, n: Array, q: Array) -> Array:
    """``np.quantile(values[:n], q)`` (linear interpolation) for each row of
    ``values: Float[rows, time]`` with ``n: Int[rows]`` valid leading values
    and ``q: Float[rows, k]``."""
    s = jnp.sort(jnp.where(jnp.arange(values.shape[1])[None, :] < n[:, None], values, jnp.inf), axis=1)
    pos = q * (jnp.maximum(n, 1) - 1)[:, None].astype(q.dtype)
    lo = jnp.floor(pos).astype(jnp.int32)
    hi = jnp.minimum(lo + 1, jnp.maximum(n, 1)[:, None] - 1)
    a, b = jnp.take_along_axis(s, lo, axis=1), jnp.take_along_axis(s, hi, axis=1)
    return a + (pos - lo) * (b - a)


def fit_minirocket(x: Array, lengths: Array, where: Array, rng: Array, dilations: tuple[int, ...],
                   per_dilation: tuple[int, ...]) -> MiniRocketParams:
    """Channel subsets and biases from the training rows (pure; jit/vmap-safe).

    Args:
      x: ``Float[n, time, channels]``.
      lengths: ``Int[n]``, each >= 1.
      where: ``Bool[n]``: the rows the biases may come from (training rows;
        at least one); each kernel/dilation pair draws one of them uniformly.
      rng: PRNG key.
      dilations, per_dilation: from :func:`minirocket_plan` (static).
    Returns:
      :class:`MiniRocketParams`.
    """
    n, t, c = x.shape
    k_rows, k_size, k_pick = jax.random.split(rng, 3)
    pairs = len(dilations) * 84
    # subset sizes 2 ** U(0, log2(min(c, 9) + 1)), floored; which channels: the smallest random keys
    size = jnp.floor(2 ** jax.random.uniform(k_size, (pairs,), maxval=math.log2(min(c, 9) + 1)))
    order = jnp.argsort(jnp.argsort(jax.random.uniform(k_pick, (pairs, c)), axis=1), axis=1)
    channels = (order < size[:, None]).astype(jnp.float32)
    p = jnp.asarray(where, jnp.float32)
    rows = jax.random.choice(k_rows, n, (pairs,), p=p / jnp.maximum(jnp.sum(p), 1.0))
    biases, f = [], 0
    for di, (d, nb) in enumerate(zip(dilations, per_dilation)):
        r = rows[di * 84:(di + 1) * 84]  # kernel k's row
        s = _channel_sums(x[r], lengths[r], channels[di * 84:(di + 1) * 84], "ktc,kc->kt")
        own = _dilated(s[..., None], d, jnp.asarray(_WEIGHTS, x.dtype)[:, :, None, None])[..., 0]  # (84, t)
        q = (np.arange(f + 1, f + 84 * nb + 1) * _PHI % 1).reshape(84, nb)
        biases.append(_quantiles(own, lengths[r], jnp.asarray(q, x.dtype)).reshape(-1))
        f += 84 * nb
    return MiniRocketParams(channels=channels, biases=jnp.concatenate(biases))


def minirocket(x: Array, lengths: Array, params: MiniRocketParams, dilations: tuple[int, ...],
               per_dilation: tuple[int, ...]) -> Array:
    """MiniRocket features: ``Float[n, 84 * sum(per_dilation)]``, each the
    proportion of a row's counted positions where a convolution exceeds a
    bias (pure; jit/vmap-safe; not differentiable in ``params``).

    Args:
      x: ``Float[n, time, channels]``; steps past ``lengths`` are ignored.
      lengths: ``Int[n]``, each >= 1.
      params: from :func:`fit_minirocket`.
      dilations, per_dilation: from :func:`minirocket_plan` (static).
    """
    n, t, _ = x.shape
    out, f = [], 0
    for di, (d, nb) in enumerate(zip(dilations, per_dilation)):
        conv = _convolutions(x, lengths, d, params.channels[di * 84:(di + 1) * 84])
        counted = _counted(lengths, t, d, di)
        b = params.biases[f:f + 84 * nb].reshape(84, nb)
        hits = jnp.sum((conv[..., None] > b) & counted[..., None], axis=1)  # (n, 84, nb)
        out.append((hits / jnp.sum(counted, axis=1)[..., None]).reshape(n, -1))
        f += 84 * nb
    return jnp.concatenate(out, axis=1).astype(x.dtype)
