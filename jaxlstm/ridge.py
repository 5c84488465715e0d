"""A ridge classifier in closed form, its penalty chosen by leave-one-out
error: scikit-learn's ``RidgeClassifierCV`` (one eigendecomposition serves
every penalty: of the ``n x n`` Gram matrix of the training rows when they are
no more than the features, its "gram" mode, else of the ``features x features``
covariance, its "svd"-like primal mode; memory bounded by the smaller), in pure
JAX so that it is fitted per member and fold inside a compiled sweep.
MiniRocket's classifier (Dempster et al., KDD 2021) is this on its features
with ``alphas = logspace(-3, 3, 10)``.

Targets are ``+1`` for a row's class and ``-1`` for the others; rows are
weighted (class weights, sample weights; weight 0 leaves a row out); the
intercept is not penalised. The scores are then multiplied by one temperature,
(nearly) the one whose softmax of the *leave-one-out* scores has the least
cross-entropy on the training rows, so that ``softmax(logits)`` is a probability estimate
(ridge scores near +-1 would make it nearly uniform) -- argmax is unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array

ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 10))  # MiniRocket's and aeon's
TEMPERATURES = tuple(float(t) for t in np.logspace(-2, 3, 51))
TEMPERATURE_TOLERANCE = 1e-3  # nats: the smallest temperature this close to the best cross-entropy


class RidgeFit(NamedTuple):
    """``kernel: Float[features, classes]`` and ``bias: Float[classes]`` (the
    temperature folded in); ``alpha``, ``temperature`` chosen; ``loo_error``:
    mean squared leave-one-out error of the weighted targets at ``alpha`` over
    the rows used (scikit-learn's ``best_score_`` negated when no weight is 0)."""

    kernel: Array
    bias: Array
    alpha: Array
    temperature: Array
    loo_error: Array


def fit_ridge_classifier(x: Array, y: Array, num_classes: int, weight: Array,
                         alphas: tuple[float, ...] = ALPHAS,
                         temperatures: tuple[float, ...] = TEMPERATURES) -> RidgeFit:
    """Fit on the rows of ``x`` with ``weight > 0``.

    With no more rows than features (MiniRocket's usual case) it decomposes
    the ``n x n`` Gram matrix, as scikit-learn's "gram" mode; with more rows
    the ``features x features`` covariance ("cov" mode), so memory stays
    bounded by the smaller of the two (a static choice: shapes are static).

    Args:
      x: ``Float[n, features]``.
      y: ``Int[n]`` in ``[0, num_classes)``.
      num_classes: static.
      weight: ``Float[n] >= 0``; 0 leaves a row out (padding rows of a fold).
      alphas, temperatures: the candidates (static); ties keep the first
        penalty; the temperature is the smallest whose cross-entropy is
        within :data:`TEMPERATURE_TOLERANCE` nats of the best (when every
        leave-one-out score is right, larger ones only approach zero loss and
        would make the probabilities one-hot).
    Returns:
      :class:`RidgeFit`. Equals ``RidgeClassifierCV(alphas).fit(x, y,
      sample_weight)``'s ``coef_``/``intercept_``/``alpha_`` up to float32
      rounding (two classes: scikit-learn's one column is this one's second,
      the first is its negation).
    """
    hi = jax.lax.Precision.HIGHEST
    n, f = x.shape
    x = x.astype(jnp.float32)
    w = jnp.maximum(weight.astype(jnp.float32), 0.0)
    used = w > 0
    x = jnp.where(used[:, None], x, 0.0)  # a row left out may hold anything, NaN too (0 * NaN is NaN)
    total = jnp.maximum(jnp.sum(w), 1e-30)
    t = 2.0 * jax.nn.one_hot(y, num_classes, dtype=jnp.float32) - 1.0
    x_off = jnp.einsum("n,nf->f", w, x, precision=hi) / total
    y_off = jnp.einsum("n,nk->k", w, t, precision=hi) / total
    s = jnp.sqrt(w)
    xs = (x - x_off) * s[:, None]  # rows left out are zero rows: they add nothing to either decomposition
    ys = (t - y_off) * s[:, None]
    u = s / jnp.sqrt(total)  # the unpenalised intercept's direction (xs and ys are orthogonal to it)
    count = jnp.maximum(jnp.sum(used), 1)

    if n <= f:
        gram = jnp.einsum("if,jf->ij", xs, xs, precision=hi)
        # The intercept's direction and the rows left out have eigenvalue 0; move them to -c, below the data's
        # (all >= 0), so float32 cannot mix them with its small eigenvalues, then give them no weight
        # (scikit-learn adds s s^T and zeroes the closest eigenvector). c is the mean eigenvalue, at most the
        # largest: the matrix's norm, hence float32's error in every eigenvalue, stays the data's (a lift above
        # the data, by the trace, made it up to 10x larger on standardised MiniRocket features).
        c = jnp.trace(gram) / count + 1e-30
        gram = gram - c * jnp.outer(u, u)
        gram = gram.at[jnp.diag_indices(n)].add(jnp.where(used, 0.0, -c))
        lam, q = jnp.linalg.eigh(gram)
        data_dim = lam > -c / 2
        lam = jnp.maximum(lam, 0.0)
        qty = jnp.einsum("ni,nk->ik", q, ys, precision=hi)
        q2 = jnp.square(q)

        def solve(alpha):
            d = jnp.where(data_dim, 1.0 / (lam + alpha), 0.0)
            c = jnp.einsum("ni,ik->nk", q, d[:, None] * qty, precision=hi)  # dual coefficients
            g_inv = jnp.einsum("ni,i->n", q2, d, precision=hi)
            looe = c / jnp.where(used, g_inv, 1.0)[:, None]
            return jnp.einsum("nf,nk->fk", xs, c, precision=hi), looe
    else:
        lam, v = jnp.linalg.eigh(jnp.einsum("nf,ng->fg", xs, xs, precision=hi))
        lam = jnp.maximum(lam, 0.0)
        xv = jnp.einsum("nf,fj->nj", xs, v, precision=hi)
        vty = jnp.einsum("nj,nk->jk", xv, ys, precision=hi)
        xv2 = jnp.square(xv)

        def solve(alpha):
            d = 1.0 / (lam + alpha)
            coef = jnp.einsum("fj,jk->fk", v, d[:, None] * vty, precision=hi)
            hat = jnp.einsum("nj,j->n", xv2, d, precision=hi) + jnp.square(u)  # the hat matrix's diagonal
            resid = ys - jnp.einsum("nf,fk->nk", xs, coef, precision=hi)
            return coef, resid / jnp.maximum(1.0 - hat, 1e-12)[:, None]

    def scored(alpha):
        coef, looe = solve(alpha)
        looe = jnp.where(used[:, None], looe, 0.0)
        err = jnp.sum(jnp.square(looe)) / (count * num_classes)
        return coef, looe, jnp.where(jnp.isnan(err), jnp.inf, err)

    coefs, looes, errors = jax.vmap(scored)(jnp.asarray(alphas, jnp.float32))
    best = jnp.argmin(errors)  # the first of equal errors, as scikit-learn's strict ">"
    kernel, looe = coefs[best], looes[best]
    bias = y_off - jnp.einsum("f,fk->k", x_off, kernel, precision=hi)
    loo_scores = (ys - looe) / jnp.where(used, s, 1.0)[:, None] + y_off

    def cross_entropy(temp):
        nll = optax.softmax_cross_entropy_with_integer_labels(temp * loo_scores, y)
        return jnp.sum(jnp.where(used, nll, 0.0)) / count

    temps = jnp.asarray(temperatures, jnp.float32)
    ce = jax.vmap(cross_entropy)(temps)
    ce = jnp.where(jnp.isnan(ce), jnp.inf, ce)
    temp = temps[jnp.argmax(ce <= jnp.min(ce) + TEMPERATURE_TOLERANCE)]
    return RidgeFit(kernel * temp, bias * temp, jnp.asarray(alphas, jnp.float32)[best], temp, errors[best])
