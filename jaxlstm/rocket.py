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

MultiRocket (Tan, Dempster, Bergmeir and Webb, Data Min. Knowl. Disc. 2022)
pools the same convolutions four ways -- PPV, the mean of the positive values
(MPV), their mean index (MIPV) and the longest run of them (LSPV) -- on the
series and on its first differences (:func:`differences`), each with its own
fitted transform: :func:`multirocket`.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

__all__ = ["KERNELS", "MiniRocketParams", "minirocket_plan", "fit_minirocket", "minirocket", "differences",
           "multirocket"]

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


def _dilated(s: Array, d: Array, w: Array, top: int) -> Array:
    """``sum_j w[j] * s[:, t + (j - 4) d]``, zero outside the array: ``s:
    Float[n, time, k]``, ``w[j]`` broadcastable to it; ``d`` may be traced,
    at most ``top`` (static)."""
    t = s.shape[1]
    padded = jnp.pad(s, ((0, 0), (4 * top, 4 * top), (0, 0)))
    return sum(jax.lax.dynamic_slice_in_dim(padded, 4 * top + (j - 4) * d, t, axis=1) * w[j] for j in range(9))


def _channel_sums(x: Array, lengths: Array, channels: Array, per_kernel_rows: bool = False) -> Array:
    """Sums of the channels each kernel reads, zero past each row's length:
    ``Float[n, time, 84]``, or with ``per_kernel_rows`` (``x: Float[84, time,
    channels]``, kernel ``k``'s own row) ``Float[84, time]``. Added one channel
    at a time in channel order, not by a matmul: the same sums bit for bit in
    every program (a matmul's summation order, FMA use and TF32 depend on the
    backend and the fusion, and a bias is drawn from a row's own convolution,
    so its comparisons with itself sit exactly at ties), and in full float32."""
    valid = jnp.arange(x.shape[1])[None, :] < lengths[:, None]
    x = jnp.moveaxis(jnp.where(valid[..., None], x, 0.0), -1, 0)  # channels first, for the scan
    w = jnp.moveaxis(channels.astype(x.dtype), -1, 0)

    def term(xc, wc):  # one channel's share
        return xc * wc[:, None] if per_kernel_rows else xc[..., None] * wc

    def add(out, xw):  # a scan, so that hundreds of channels do not unroll into the program
        return out + term(*xw), None

    return jax.lax.scan(add, term(x[0], w[0]), (x[1:], w[1:]))[0]


def _convolutions(x: Array, lengths: Array, d: Array, channels: Array, top: int) -> Array:
    """The 84 kernels at dilation ``d``, kernel ``k`` over the sum of the
    channels in ``channels[k]``: ``Float[n, time, 84]`` (zero past each row's length)."""
    return _dilated(_channel_sums(x, lengths, channels), d, jnp.asarray(_WEIGHTS, x.dtype), top)


def _counted(lengths: Array, t: int, d: Array, first: Array) -> Array:
    """Which positions count, per kernel: ``Bool[n, time, 84]``. Kernel ``k``
    is unpadded when ``first + k`` is odd: positions ``[4d, length - 4d)``, or
    the whole row where that is empty."""
    pos = jnp.arange(t)[None, :]
    row = pos < lengths[:, None]
    inner = (pos >= 4 * d) & (pos < lengths[:, None] - 4 * d)
    inner = jnp.where(jnp.any(inner, axis=1, keepdims=True), inner, row)
    unpadded = (first + jnp.arange(84)) % 2 == 1
    return jnp.where(unpadded[None, None, :], inner[..., None], row[..., None])


def _groups(per_dilation: tuple[int, ...]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The dilations grouped by their number of biases, each group one
    ``lax.scan`` (so a program's size grows with the distinct counts, a few,
    not with the dilations, up to 32): ``(biases, dilation indices, the
    group's features in feature order)`` per group."""
    bounds = np.concatenate([[0], np.cumsum(84 * np.asarray(per_dilation))])
    out = []
    for nb in dict.fromkeys(per_dilation):
        dis = np.flatnonzero(np.asarray(per_dilation) == nb)
        out.append((int(nb), dis, np.concatenate([np.arange(bounds[di], bounds[di + 1]) for di in dis])))
    return out


def _in_feature_order(per_dilation: tuple[int, ...], group) -> Array:
    """``group(nb, dilation indices, features)`` for each of :func:`_groups`
    (an array whose last axis is that group's features), concatenated and
    put in feature order."""
    blocks, order = zip(*((group(nb, dis, feats), feats) for nb, dis, feats in _groups(per_dilation)))
    return jnp.concatenate(blocks, axis=-1)[..., np.argsort(np.concatenate(order))]


_POOL_BYTES = 64 << 20  # one (rows, time, 84, biases) float32 array of a block of rows in _scan_dilations


def _scan_dilations(x: Array, lengths: Array, params: MiniRocketParams, dilations: tuple[int, ...],
                    per_dilation: tuple[int, ...], pool) -> Array:
    """``pool(convolutions, counted, biases: Float[84, nb])`` -> ``Float[n,
    operators, 84, nb]`` at each dilation, gathered into ``Float[n, operators
    * features]``: operator-major, each operator's features dilation-major,
    then kernel, then bias."""
    n, t, c = x.shape
    channels = params.channels.reshape(len(dilations), 84, -1)

    def features(x, lengths):
        m = x.shape[0]

        def group(nb, dis, feats):
            def step(_, each):
                d, di, chans, b = each
                conv = _convolutions(x, lengths, d, chans, max(dilations))
                return None, pool(conv, _counted(lengths, t, d, di), b)

            _, out = jax.lax.scan(step, None, (jnp.asarray(np.asarray(dilations)[dis]), jnp.asarray(dis),
                                               channels[dis], params.biases[feats].reshape(len(dis), 84, nb)))
            return jnp.moveaxis(out, 0, 2).reshape(m, out.shape[2], -1)  # (m, operators, group's features)

        return _in_feature_order(per_dilation, group).reshape(m, -1).astype(x.dtype)

    # the pools hold (rows, time, 84, biases) arrays: all rows at once asked for 30.6 GB at ChlorineConcentration's
    # 4,307 rows (MultiRocket), so rows go through in blocks; each row's features are computed alone either way
    block = max(1, _POOL_BYTES // (t * 84 * max(per_dilation) * 4))
    if n <= block:
        return features(x, lengths)
    # whole blocks, not lax.map's batch_size (which vmaps a one-row call: MultiRocket's sums then differ in the
    # last bit on ChlorineConcentration); the last block is padded with one-step zero rows, dropped after
    pad = -n % block
    xb = jnp.pad(x, ((0, pad), (0, 0), (0, 0))).reshape(-1, block, t, c)
    lb = jnp.pad(lengths, (0, pad), constant_values=1).reshape(-1, block)
    return jax.lax.map(lambda a: features(*a), (xb, lb)).reshape(n + pad, -1)[:n]


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
    q = np.arange(1, 84 * sum(per_dilation) + 1) * _PHI % 1  # the paper's low-discrepancy quantiles, feature order
    w = jnp.asarray(_WEIGHTS, x.dtype)[:, :, None, None]
    def group(nb, dis, feats):
        def step(_, each):
            d, r, chans, qs = each  # kernel k's row r[k]
            s = _channel_sums(x[r], lengths[r], chans, per_kernel_rows=True)
            own = _dilated(s[..., None], d, w, max(dilations))[..., 0]  # (84, t)
            return None, _quantiles(own, lengths[r], qs)

        _, b = jax.lax.scan(step, None, (jnp.asarray(np.asarray(dilations)[dis]), rows.reshape(-1, 84)[dis],
                                         channels.reshape(-1, 84, c)[dis],
                                         jnp.asarray(q[feats], x.dtype).reshape(len(dis), 84, nb)))
        return b.reshape(-1)

    return MiniRocketParams(channels=channels, biases=_in_feature_order(per_dilation, group))


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
    def ppv(conv, counted, b):
        hits = jnp.sum((conv[..., None] > b) & counted[..., None], axis=1)  # (n, 84, widest)
        return (hits / jnp.sum(counted, axis=1)[..., None])[:, None]

    return _scan_dilations(x, lengths, params, dilations, per_dilation, ppv)


def differences(x: Array, lengths: Array) -> tuple[Array, Array]:
    """First differences within each row, MultiRocket's second series:
    ``x[t + 1] - x[t]`` for ``t < length - 1``, zero after (the same ``time``
    axis, its last step always zero), and lengths ``max(length - 1, 1)`` (a
    one-step row keeps one zero)."""
    t = x.shape[1]
    d = jnp.pad(x[:, 1:] - x[:, :-1], ((0, 0), (0, 1), (0, 0)))
    d = jnp.where((jnp.arange(t)[None, :] < lengths[:, None] - 1)[..., None], d, 0.0)
    return d, jnp.maximum(lengths - 1, 1)


def multirocket(x: Array, lengths: Array, params: MiniRocketParams, dilations: tuple[int, ...],
                per_dilation: tuple[int, ...]) -> Array:
    """MultiRocket's four pooling operators of one series' convolutions minus
    their biases, ``z``, over each row's counted positions (the paper's
    definitions): ``Float[n, 4 * features]``, operator-major -- PPV (the
    proportion of positive ``z``, :func:`minirocket`'s features), MPV (the mean
    of the positive ``z``; 0 if none), MIPV (their mean index from the first
    counted position; -1 if none), LSPV (the longest run of positive ``z``, in
    steps). Pure; jit/vmap-safe. Apply it to the series and to its
    :func:`differences`, each with its own :func:`fit_minirocket`."""
    t = x.shape[1]
    step = jnp.arange(t)[None, :, None, None]

    def pools(conv, counted, b):
        counted = counted[..., None]  # (n, t, 84, 1)
        z = conv[..., None] - b
        pos = (z > 0) & counted
        m = jnp.sum(pos, axis=1)  # (n, 84, widest)
        some = m > 0
        per = jnp.maximum(m, 1).astype(x.dtype)
        first = jnp.argmax(counted, axis=1)[:, None]  # the first counted position
        last_off = jax.lax.cummax(jnp.where(pos, -1, step), axis=1)  # the last position not positive so far
        return jnp.stack([m / jnp.sum(counted, axis=1),
                          jnp.where(some, jnp.sum(jnp.where(pos, z, 0.0), axis=1) / per, 0.0),
                          jnp.where(some, jnp.sum(jnp.where(pos, (step - first).astype(x.dtype), 0.0), axis=1) / per,
                                    -1.0),  # summed as floats: int32 index sums overflow past ~65,000 steps
                          jnp.max(jnp.where(pos, step - last_off, 0), axis=1).astype(x.dtype)], axis=1)

    return _scan_dilations(x, lengths, params, dilations, per_dilation, pools)
