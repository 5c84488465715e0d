"""A ridge classifier in closed form, its penalty chosen by leave-one-out
error: scikit-learn's ``RidgeClassifierCV`` (its "gram" mode: one eigen
decomposition of the ``n x n`` Gram matrix of the training rows serves every
penalty), in pure JAX so that it is fitted per member and fold inside a
compiled sweep. MiniRocket's classifier (Dempster et al., KDD 2021) is this on
its features with ``alphas = logspace(-3, 3, 10)``.

Targets are ``+1`` for a row's class and ``-1`` for the others; rows are
weighted (class weights, sample weights; weight 0 leaves a row out); the
intercept is not penalised. The scores are then multiplied by one temperature,
the one whose softmax of the *leave-one-out* scores has the least cross-entropy
on the training rows, so that ``softmax(logits)`` is a probability estimate
(ridge scores near +-1 would make it nearly uniform) -- argmax is unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 10))  # MiniRocket's and aeon's
TEMPERATURES = tuple(float(t) for t in np.logspace(-2, 3, 51))


class RidgeFit(NamedTuple):
    """``kernel: Float[features, classes]`` and ``bias: Float[classes]`` (the
    temperature folded in); ``alpha``, ``temperature`` chosen; ``loo_error``:
    mean squared leave-one-out error of the weighted targets at ``alpha``
    (scikit-learn's ``best_score_`` negated)."""

    kernel: Array
    bias: Array
    alpha: Array
    temperature: Array
    loo_error: Array


def fit_ridge_classifier(x: Array, y: Array, num_classes: int, weight: Array,
                         alphas: tuple[float, ...] = ALPHAS,
                         temperatures: tuple[float, ...] = TEMPERATURES) -> RidgeFit:
    """Fit on the rows of ``x`` with ``weight > 0``.

    Args:
      x: ``Float[n, features]``.
      y: ``Int[n]`` in ``[0, num_classes)``.
      num_classes: static.
      weight: ``Float[n] >= 0``; 0 leaves a row out (padding rows of a fold).
      alphas, temperatures: the candidates (static); ties keep the first.
    Returns:
      :class:`RidgeFit`. Equals ``RidgeClassifierCV(alphas).fit(x, y,
      sample_weight)``'s ``coef_``/``intercept_`` up to float32 rounding (two
      classes: scikit-learn's one column is this one's second, the first is
      its negation).
    """
    hi = jax.lax.Precision.HIGHEST
    x = x.astype(jnp.float32)
    w = jnp.maximum(weight.astype(jnp.float32), 0.0)
    used = w > 0
    total = jnp.maximum(jnp.sum(w), 1e-30)
    t = 2.0 * jax.nn.one_hot(y, num_classes, dtype=jnp.float32) - 1.0
    x_off = jnp.einsum("n,nf->f", w, x, precision=hi) / total
    y_off = jnp.einsum("n,nk->k", w, t, precision=hi) / total
    s = jnp.sqrt(w)
    xs = (x - x_off) * s[:, None]
    ys = (t - y_off) * s[:, None]
    gram = jnp.einsum("if,jf->ij", xs, xs, precision=hi)
    # The intercept's direction u = s / |s| has eigenvalue 0 (xs is centred), as do the rows left out; lift
    # them far above the rest so float32 cannot mix them with the data's small eigenvalues, then give u no
    # weight (scikit-learn adds s s^T and zeroes the closest eigenvector the same way).
    lift = 2.0 * jnp.trace(gram) + 1.0
    u = s / jnp.sqrt(total)
    gram = gram + lift * jnp.outer(u, u) + jnp.diag(jnp.where(used, 0.0, 2.0 * lift))
    lam, q = jnp.linalg.eigh(gram)
    intercept_dim = jnp.argmax(jnp.abs(q.T @ u))
    qty = jnp.einsum("ni,nk->ik", q, ys, precision=hi)
    q2 = jnp.square(q)
    count = jnp.maximum(jnp.sum(used), 1)

    def solve(alpha):
        d = jnp.where(jnp.arange(lam.shape[0]) == intercept_dim, 0.0, 1.0 / (lam + alpha))
        c = jnp.einsum("ni,ik->nk", q, d[:, None] * qty, precision=hi)  # dual coefficients
        g_inv = jnp.einsum("ni,i->n", q2, d, precision=hi)
        looe = jnp.where(used[:, None], c / jnp.where(used, g_inv, 1.0)[:, None], 0.0)
        return c, looe, jnp.sum(jnp.square(looe)) / (count * num_classes)

    cs, looes, errors = jax.vmap(solve)(jnp.asarray(alphas, jnp.float32))
    best = jnp.argmin(errors)  # the first of equal errors, as scikit-learn's strict ">"
    c, looe = cs[best], looes[best]
    kernel = jnp.einsum("nf,nk->fk", xs, c, precision=hi)
    bias = y_off - jnp.einsum("f,fk->k", x_off, kernel, precision=hi)
    loo_scores = (ys - looe) / jnp.where(used, s, 1.0)[:, None] + y_off

    def cross_entropy(temp):
        logp = jax.nn.log_softmax(temp * loo_scores, axis=-1)
        nll = -jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]
        return jnp.sum(jnp.where(used, nll, 0.0)) / count

    temps = jnp.asarray(temperatures, jnp.float32)
    temp = temps[jnp.argmin(jax.vmap(cross_entropy)(temps))]
    return RidgeFit(kernel * temp, bias * temp, jnp.asarray(alphas, jnp.float32)[best], temp, errors[best])
