"""Losses and penalties: pure, per-example, mask aware; the caller reduces.

Class weights follow scikit-learn (``compute_class_weight("balanced")`` is
``n / (k * count)``) and a continuous exponent interpolates between no
weighting (0) and balanced (1), so the strength of re-weighting can be swept.
Penalties follow Keras: ``l2 * sum(w ** 2)`` and ``l1 * sum(|w|)`` over kernels
only (biases excluded).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

Array = jax.Array

__all__ = [
    "weighted_cross_entropy",
    "masked_mean",
    "balanced_class_weights",
    "class_weights",
    "is_kernel",
    "kernel_mask",
    "l1_penalty",
    "l2_penalty",
]


def weighted_cross_entropy(logits: Array, labels: Array, class_weights: Array | None = None,
                           where: Array | None = None) -> Array:
    """Per-example softmax cross-entropy scaled by the weight of the true class.

    ``loss[b] = w[y[b]] * (logsumexp(logits[b]) - logits[b, y[b]])``, and 0 where
    ``where`` is false. The Keras tutorial's loss is
    ``mean(weighted_cross_entropy(...))``: divide the sum by the number of valid
    rows (not by the sum of weights), as :func:`masked_mean` does.

    Args:
      logits: ``Float[batch, classes]``.
      labels: ``Int[batch]`` in ``[0, classes)``.
      class_weights: ``Float[classes]`` or ``None`` (all ones).
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``Float[batch]``.

    Example:
      >>> loss = masked_mean(weighted_cross_entropy(logits, y, w), where=mask)
    """
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(log_probs, labels[..., None].astype(jnp.int32), axis=-1)[..., 0]
    if class_weights is not None:
        nll = nll * jnp.asarray(class_weights, nll.dtype)[labels]
    if where is not None:
        nll = jnp.where(where, nll, 0.0)
    return nll


def masked_mean(values: Array, where: Array | None = None) -> Array:
    """Mean of ``values`` over rows where ``where`` is true (0 if none are)."""
    if where is None:
        return jnp.mean(values)
    where = jnp.broadcast_to(where, values.shape)
    total = jnp.sum(jnp.where(where, values, 0.0))
    return total / jnp.maximum(jnp.sum(where), 1)


def balanced_class_weights(labels: Array, num_classes: int, where: Array | None = None) -> Array:
    """scikit-learn's ``compute_class_weight("balanced")``: ``n / (k * count)``.

    ``n`` counts the rows where ``where`` is true, ``k`` the classes present
    among them (as scikit-learn counts ``np.unique(y)``). A class absent from
    those rows gets weight 0: it contributes no row to the loss anyway.

    Args:
      labels: ``Int[batch]``.
      num_classes: ``C`` (static).
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``Float[classes]``.
    """
    valid = jnp.ones(labels.shape, bool) if where is None else where
    counts = jnp.zeros(num_classes, jnp.float32).at[labels].add(valid.astype(jnp.float32))
    n = jnp.sum(counts)
    k = jnp.sum(counts > 0)
    return jnp.where(counts > 0, n / (k * jnp.maximum(counts, 1.0)), 0.0)


def class_weights(labels: Array, num_classes: int, exponent: Array | float = 1.0,
                  base: Array | None = None, where: Array | None = None) -> Array:
    """Class weights ``base * balanced ** exponent``, sweepable in ``exponent``.

    ``exponent=0`` is no re-weighting, ``1`` is scikit-learn's "balanced",
    values between interpolate geometrically. ``base`` is an explicit per-class
    vector (default ones); an explicit vector alone is ``exponent=0, base=w``.

    Args:
      labels: ``Int[batch]`` training labels the balanced part is fitted on.
      num_classes: ``C`` (static).
      exponent: scalar, may be traced.
      base: ``Float[classes]`` or ``None``.
      where: ``Bool[batch]``: the training rows.
    Returns:
      ``Float[classes]``.
    """
    balanced = balanced_class_weights(labels, num_classes, where)
    present = balanced > 0
    w = jnp.where(present, jnp.power(jnp.where(present, balanced, 1.0), exponent), 0.0)
    if base is not None:
        w = w * jnp.asarray(base, w.dtype)
    return w


def _path_name(path) -> str:
    last = path[-1]
    return str(getattr(last, "key", getattr(last, "name", last)))


def is_kernel(path, leaf) -> bool:
    """True for weight matrices (leaf names ending in ``kernel``), not biases."""
    return _path_name(path).endswith("kernel")


def kernel_mask(params: Any, include: Callable = is_kernel) -> Any:
    """Boolean pytree like ``params``: which leaves are penalised / decayed
    (the ``mask=`` of ``optax.adamw``)."""
    return jax.tree_util.tree_map_with_path(lambda p, x: bool(include(p, x)), params)


def _kernel_sum(params: Any, fn: Callable, include: Callable) -> Array:
    leaves = [fn(x) for p, x in jax.tree_util.tree_leaves_with_path(params) if include(p, x)]
    return sum(leaves, jnp.zeros((), jnp.float32))


def l2_penalty(params: Any, include: Callable = is_kernel) -> Array:
    """``sum(w ** 2)`` over kernels; the loss adds ``l2 * l2_penalty(params)``
    (Keras' ``regularizers.l2(l2)``, applied to input, recurrent and dense
    kernels alike — Keras' ``kernel_regularizer`` plus ``recurrent_regularizer``
    with the same factor)."""
    return _kernel_sum(params, lambda w: jnp.sum(jnp.square(w)), include)


def l1_penalty(params: Any, include: Callable = is_kernel) -> Array:
    """``sum(|w|)`` over kernels; the loss adds ``l1 * l1_penalty(params)``."""
    return _kernel_sum(params, lambda w: jnp.sum(jnp.abs(w)), include)
