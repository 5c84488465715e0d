"""Losses and penalties: pure, per-example, mask aware; the caller reduces.

Class weights follow scikit-learn (``compute_class_weight("balanced")`` is
``n / (k * count)``) and a continuous exponent interpolates between no
weighting (0) and balanced (1), so the strength of re-weighting can be swept.
Penalties follow Keras: ``l2 * sum(w ** 2)`` and ``l1 * sum(|w|)`` over kernels
only (biases excluded).

Remedies for class imbalance beyond class weights, each with its hyperparameter
a traced scalar (so members of a vmapped sweep may differ in it):
:func:`logit_adjusted_cross_entropy` (Menon et al., ICLR 2021; ``tau=1`` is
Ren et al.'s balanced softmax), :func:`focal_loss` (Lin et al., ICCV 2017) and
:func:`effective_number_weights` (Cui et al., CVPR 2019), with
:func:`class_counts` / :func:`class_prior` fitted on masked training rows.
Their ranges are checked on the host by
:func:`jaxlstm.params.check_loss_hparams`.

Labels are class indices in ``[0, C)``; nothing here checks them (the
losses run traced, under ``jit``/``grad``): out of range, JAX's indexing
wraps ``-1`` to the last class and gives NaN past ``C - 1``. The training
wrapper and the estimator encode labels first (as
:mod:`jaxlstm.metrics` checks concrete ones).
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
    "class_counts",
    "class_prior",
    "effective_number_weights",
    "logit_adjusted_cross_entropy",
    "focal_loss",
    "is_kernel",
    "kernel_mask",
    "l1_penalty",
    "l2_penalty",
]


def _mask_rows(logits: Array, where: Array | None) -> Array:
    """Logits of rows outside ``where`` set to 0 before the softmax: their
    loss is 0 either way, and a NaN or inf there (a padded row) would make
    the gradient NaN through the final select (``0 * NaN``)."""
    return logits if where is None else jnp.where(jnp.asarray(where)[..., None], logits, 0.0)


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
    logits = _mask_rows(logits, where)
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(log_probs, labels[..., None].astype(jnp.int32), axis=-1)[..., 0]
    if class_weights is not None:
        nll = nll * jnp.asarray(class_weights, nll.dtype)[labels]
    if where is not None:
        nll = jnp.where(where, nll, 0.0)
    return nll


def masked_mean(values: Array, where: Array | None = None) -> Array:
    """Mean of ``values`` over rows where ``where`` is true (0 if none are);
    with ``where`` as numbers, the mean weighted by them (rows of weight 0
    never read, as :mod:`jaxlstm.metrics` takes weights). Until 2026-12-07
    weights were read as a mask over a count: ``[0.5, 0.5]`` averaged to
    twice the mean."""
    if where is None:
        return jnp.mean(values)
    if jnp.asarray(where).dtype != jnp.bool_:
        w = jnp.broadcast_to(jnp.asarray(where, values.dtype), values.shape)
        total, weight = jnp.sum(jnp.where(w > 0, values * w, 0.0)), jnp.sum(jnp.where(w > 0, w, 0.0))
        return jnp.where(weight > 0, total / jnp.where(weight > 0, weight, 1.0), 0.0)
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


def class_counts(labels: Array, num_classes: int, where: Array | None = None) -> Array:
    """Rows per class among the rows where ``where`` is true.

    Args:
      labels: ``Int[batch]``.
      num_classes: ``C`` (static).
      where: ``Bool[batch]`` or ``None`` (all rows).
    Returns:
      ``Float[classes]`` (float32, so it can feed the weight rules directly).
    """
    valid = jnp.ones(labels.shape, bool) if where is None else where
    return jnp.zeros(num_classes, jnp.float32).at[labels].add(valid.astype(jnp.float32))


def class_prior(labels: Array, num_classes: int, where: Array | None = None) -> Array:
    """Empirical class prior ``counts / sum(counts)`` over the rows where
    ``where`` is true (all zeros if no row is).

    Args:
      labels: ``Int[batch]``.
      num_classes: ``C`` (static).
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``Float[classes]``, summing to 1.

    Example:
      >>> prior = class_prior(y, C, where=train_rows)
      >>> loss = masked_mean(logit_adjusted_cross_entropy(logits, y, prior, tau), where=train_rows)
    """
    counts = class_counts(labels, num_classes, where)
    return counts / jnp.maximum(jnp.sum(counts), 1.0)


def effective_number_weights(counts: Array, beta: Array | float) -> Array:
    """Class-balanced weights from the effective number of samples (Cui et
    al., CVPR 2019): ``w[c] = (1 - beta) / (1 - beta ** counts[c])``,
    normalised so that the weights of the present classes sum to their number
    (to ``C`` when every class is present, as in the paper's code).

    ``beta=0`` gives 1 for every present class (no re-weighting); as ``beta``
    goes to 1 the weights approach inverse class frequency. A class with count
    0 gets weight 0 (it contributes no row to the loss), without NaN in values
    or gradients.

    Args:
      counts: ``Float[classes]`` rows per class (e.g. :func:`class_counts`).
      beta: scalar in ``[0, 1)``, may be traced (checked on the host by
        :func:`jaxlstm.params.check_loss_hparams`).
    Returns:
      ``Float[classes]``.

    Example:
      >>> w = effective_number_weights(class_counts(y, C, where=train_rows), 0.999)
      >>> loss = masked_mean(weighted_cross_entropy(logits, y, w), where=train_rows)
    """
    counts = jnp.asarray(counts, jnp.float32)
    beta = jnp.asarray(beta, counts.dtype)
    present = counts > 0
    n = jnp.where(present, counts, 1.0)
    # 1 - beta**n as -expm1(n log beta), accurate near beta = 1; at beta = 0
    # the plain power, whose gradient there is right (log 0 is never taken).
    safe_beta = jnp.where(beta > 0, beta, 0.5)
    one_minus_power = jnp.where(beta > 0, -jnp.expm1(n * jnp.log(safe_beta)), 1.0 - jnp.power(beta, n))
    effective = one_minus_power / (1.0 - beta)  # (1 - beta**n) / (1 - beta)
    raw = jnp.where(present, 1.0 / effective, 0.0)
    k = jnp.sum(present)
    return raw * (k / jnp.maximum(jnp.sum(raw), jnp.finfo(counts.dtype).tiny))


def logit_adjusted_cross_entropy(logits: Array, labels: Array, prior: Array, tau: Array | float = 1.0,
                                 class_weights: Array | None = None, where: Array | None = None) -> Array:
    """Per-example logit-adjusted softmax cross-entropy (Menon et al., ICLR 2021).

    ``loss[b] = w[y] * (logsumexp(z[b] + tau * log(prior)) - z[b, y] - tau * log(prior[y]))``:
    the softmax sees logits shifted by ``tau * log(prior)``, so the model's own
    logits ``z`` learn the balanced (prior-free) scores; predict with ``z``.
    ``tau=1`` is the balanced softmax of Ren et al. (NeurIPS 2020), ``tau=0``
    is plain (weighted) cross-entropy. A class with prior 0 gets
    ``log(prior)`` clamped to ``log(tiny)`` (about -87) instead of ``-inf``.

    Args:
      logits: ``Float[batch, classes]``.
      labels: ``Int[batch]`` in ``[0, classes)``.
      prior: ``Float[classes]`` class prior of the training rows
        (:func:`class_prior`); any positive multiple (e.g. counts) gives the
        same loss.
      tau: scalar ``>= 0``, may be traced.
      class_weights: ``Float[classes]`` or ``None``.
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``Float[batch]``, 0 where ``where`` is false.
    """
    prior = jnp.asarray(prior, logits.dtype)
    log_prior = jnp.log(jnp.maximum(prior, jnp.finfo(logits.dtype).tiny))
    adjusted = logits + jnp.asarray(tau, logits.dtype) * log_prior
    return weighted_cross_entropy(adjusted, labels, class_weights, where)


def focal_loss(logits: Array, labels: Array, gamma: Array | float = 2.0, alpha: Array | None = None,
               where: Array | None = None) -> Array:
    """Per-example multi-class focal loss (Lin et al., ICCV 2017), softmax form.

    ``loss[b] = -alpha[y] * (1 - p_t) ** gamma * log(p_t)`` with
    ``p_t = softmax(logits[b])[y[b]]``. ``gamma=0`` equals
    :func:`weighted_cross_entropy` with ``class_weights=alpha`` exactly.
    ``1 - p_t`` is computed as ``-expm1(log p_t)`` (no cancellation when
    ``p_t`` is near 1) and kept above ``tiny``, so values and gradients stay
    finite for any ``gamma >= 0``, even when ``p_t`` rounds to 1.

    Args:
      logits: ``Float[batch, classes]``.
      labels: ``Int[batch]`` in ``[0, classes)``.
      gamma: focusing parameter, scalar ``>= 0``, may be traced.
      alpha: ``Float[classes]`` per-class weights (e.g.
        :func:`effective_number_weights`, as Cui et al. pair them) or ``None``.
      where: ``Bool[batch]`` or ``None``.
    Returns:
      ``Float[batch]``, 0 where ``where`` is false.
    """
    logits = _mask_rows(logits, where)
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    log_pt = jnp.take_along_axis(log_probs, labels[..., None].astype(jnp.int32), axis=-1)[..., 0]
    one_minus_pt = jnp.maximum(-jnp.expm1(log_pt), jnp.finfo(log_pt.dtype).tiny)
    modulating = jnp.power(one_minus_pt, jnp.asarray(gamma, log_pt.dtype))  # exactly 1 at gamma = 0
    nll = -log_pt * modulating
    if alpha is not None:
        nll = nll * jnp.asarray(alpha, nll.dtype)[labels]
    if where is not None:
        nll = jnp.where(where, nll, 0.0)
    return nll


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
