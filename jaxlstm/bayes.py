"""Batch Bayesian optimisation: a Gaussian process proposes ``q``
configurations per round, because one vmapped sweep trains a batch about as
cheaply as one configuration.

Dimensions (a dict like ``RandomizedSearchCV``'s ``param_distributions``):
``scipy.stats.loguniform(a, b)`` (log scale), ``scipy.stats.uniform(loc,
scale)``, ``scipy.stats.randint(low, high)`` (integers ``low..high-1``), and
lists (categorical, one-hot). Each is mapped to ``[0, 1]`` for the GP
(scikit-learn's ``GaussianProcessRegressor``, Matérn 5/2 with one length scale
per coordinate plus a noise term). The acquisition is expected improvement;
a batch is built greedily with the *constant liar*: after choosing a point,
pretend it scored the mean of the values seen so far, refit, and choose
again, which pushes the batch apart (the mean lie beat the pessimistic and
optimistic lies on the test objective).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping

import numpy as np

__all__ = ["Dimension", "below", "range_ends", "parse_space", "check_points", "bayes_search", "expected_improvement"]


def below(high: float) -> float:
    """The largest value under ``high`` that stays under it in float32 (the
    training programs' precision): ``math.nextafter(1.0, 0)`` rounds to 1.0
    there, which ``class_weight_beta``, ``dropout`` and ``augment_slice``
    exclude. A continuous range's highest value searched or checked."""
    return float(np.nextafter(np.float32(high), np.float32(-np.inf)))


def range_ends(low: float, high: float, *, discrete: bool, exact_low: bool) -> tuple[float, float]:
    """The extreme values a search takes from a range, which must meet the
    parameter's rule: a discrete range's two ends (high included); a
    continuous one's low end (a Bayesian search proposes it; a random draw
    reaches it with probability 2**-53, so then the value just above) and
    :func:`below` its high end (sampled from [low, high))."""
    if discrete:
        return low, high
    return (low if exact_low else math.nextafter(low, math.inf)), below(high)


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One searched parameter: ``kind`` in loguniform / uniform / int / categorical."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    choices: tuple = ()

    @property
    def width(self) -> int:
        return len(self.choices) if self.kind == "categorical" else 1

    def encode(self, v) -> np.ndarray:
        if self.kind == "categorical":
            out = np.zeros(len(self.choices))
            out[_index(self.choices, v)] = 1.0
            return out
        if self.kind == "loguniform":
            return np.array([(math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))])
        if self.kind == "int":
            return np.array([(v - self.low + 0.5) / (self.high - self.low + 1)])
        return np.array([(v - self.low) / (self.high - self.low)])

    def decode(self, u: np.ndarray):
        if self.kind == "categorical":
            return self.choices[int(np.argmax(u))]
        z = float(np.clip(u[0], 0.0, 1.0))
        if self.kind == "int":
            return int(min(self.high, self.low + math.floor(z * (self.high - self.low + 1))))
        if self.kind == "loguniform":  # the low end exactly (exp(log(1e-3)) is 0.0010000000000000002)
            v = self.low if z == 0 else math.exp(math.log(self.low) + z * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + z * (self.high - self.low)
        # [low, high) as the distribution samples it: high itself may be outside the
        # parameter's range (dropout's [0, 1)), and the cube's edge decoded to it exactly
        return float(min(max(v, self.low), below(self.high)))


def _index(choices, v) -> int:
    for i, c in enumerate(choices):
        if c == v or (isinstance(c, (tuple, list)) and tuple(c) == tuple(np.atleast_1d(v))):
            return i
    raise ValueError(f"{v!r} is not one of {choices}")


def parse_space(space: Mapping[str, Any]) -> list[Dimension]:
    """Dimensions from a dict of scipy distributions and lists.

    Raises:
      ValueError: an empty list, or a distribution that is not loguniform,
        uniform or randint.
    """
    if not isinstance(space, Mapping):  # scikit-learn's samplers take a list of dicts; a Gaussian process one space
        raise ValueError(f"Bayesian search needs one dict of distributions and lists, got {type(space).__name__}"
                         " (a list of dicts is for random search)")
    if not space:
        raise ValueError("the search space is empty")
    dims = []
    for name, d in space.items():
        if isinstance(d, (list, tuple)):
            if not d:
                raise ValueError(f"{name}: an empty list of choices")
            dims.append(Dimension(name, "categorical", choices=tuple(d)))
            continue
        dist = getattr(getattr(d, "dist", None), "name", None)
        if dist is None or not hasattr(d, "support"):
            raise ValueError(f"{name}: Bayesian search supports loguniform, uniform, randint and lists of "
                             f"choices, got {d!r}")
        lo, hi = (float(v) for v in d.support())
        if dist in ("loguniform", "reciprocal"):
            dims.append(Dimension(name, "loguniform", lo, hi))
        elif dist == "uniform":
            dims.append(Dimension(name, "uniform", lo, hi))
        elif dist == "randint":
            dims.append(Dimension(name, "int", lo, hi))  # support() is inclusive: low..high-1
        else:
            raise ValueError(f"{name}: Bayesian search supports loguniform, uniform, randint and lists of "
                             f"choices, got {d!r}")
    return dims


def _encode(dims, params: dict) -> np.ndarray:
    return np.concatenate([d.encode(params[d.name]) for d in dims])


def _decode(dims, u: np.ndarray) -> dict:
    out, i = {}, 0
    for d in dims:
        out[d.name] = d.decode(u[i : i + d.width])
        i += d.width
    return out


def _sample(dims, n: int, rng: np.random.Generator, avoid: list | None = None) -> list[dict]:
    """``n`` uniform draws; with ``avoid``, each redrawn (up to 100 times)
    while it repeats one in ``avoid`` or an earlier draw, as scikit-learn's
    ``ParameterSampler`` samples a discrete space without replacement (a
    continuous dimension never repeats: there the draws are the plain
    uniform stream either way)."""
    width = sum(d.width for d in dims)
    if avoid is None:
        return [_decode(dims, rng.random(width)) for _ in range(n)]
    seen, out = list(avoid), []
    for _ in range(n):
        for _attempt in range(100):
            c = _decode(dims, rng.random(width))
            if c not in seen:
                break
        seen.append(c)
        out.append(c)
    return out


def _new(batch: list[dict], tried: list[dict]) -> list[dict]:
    """``batch`` without the configurations in ``tried`` and its repeats (a
    small discrete space runs out of new ones)."""
    out: list[dict] = []
    for c in batch:
        if c not in tried and c not in out:
            out.append(c)
    return out


def expected_improvement(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.01) -> np.ndarray:
    """EI for maximisation: ``E[max(f - best - xi, 0)]`` under ``N(mu, sigma)``."""
    from scipy.stats import norm

    sigma = np.maximum(sigma, 1e-12)
    imp = mu - best - xi
    z = imp / sigma
    return imp * norm.cdf(z) + sigma * norm.pdf(z)


def _gp(random_state: int):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=0.3, length_scale_bounds=(1e-2, 1e2), nu=2.5) \
        + WhiteKernel(1e-3, (1e-6, 1e-1))
    return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=random_state)


def propose(dims, observed: list[tuple[dict, float]], q: int, rng: np.random.Generator,
            n_candidates: int = 2000, min_distance: float = 0.05) -> list[dict]:
    """``q`` new configurations by expected improvement with a constant liar.

    The liar alone does not keep a batch apart: the GP's noise term lets it
    treat a lie as noisy, so expected improvement stays high right next to a
    pending point and a batch can hold five near-copies. So a pick must also
    lie at least ``min_distance`` (Euclidean, in the unit cube the dimensions
    are mapped to) from every pending and every tried point; if no candidate
    does (a tiny space), the farthest of the best is taken.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X = [_encode(dims, p) for p, _ in observed]
    y = np.array([s for _, s in observed], np.float64)
    y = np.where(np.isfinite(y), y, np.nanmin(np.where(np.isfinite(y), y, np.nan)) if np.isfinite(y).any() else 0.0)
    lie = float(y.mean())  # "CL-mean": beat CL-min and CL-max on the test objective
    pool = _sample(dims, n_candidates, rng)
    # Local moves around the best points: coordinate noise in the unit cube.
    top = np.argsort(-y)[: min(5, len(y))]
    for i in top:
        for _ in range(n_candidates // 10):
            u = X[i] + rng.normal(0, 0.05, X[i].shape)
            pool.append(_decode(dims, np.clip(u, 0, 1)))
    U = np.array([_encode(dims, p) for p in pool])
    chosen: list[dict] = []
    X_fit, y_fit = list(X), list(y)
    # distance from each pool candidate to its nearest tried or pending point
    near = np.sqrt(((U[:, None, :] - np.array(X)[None, :, :]) ** 2).sum(-1)).min(1) if X else np.full(len(U), np.inf)
    for _ in range(q):
        gp = _gp(int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(np.array(X_fit), np.array(y_fit))
        mu, sd = gp.predict(U, return_std=True)
        ei = expected_improvement(mu, sd, max(y_fit))
        far = np.flatnonzero(near >= min_distance)
        j = int(far[np.argmax(ei[far])]) if far.size else int(np.argmax(near))
        near = np.minimum(near, np.sqrt(((U - U[j]) ** 2).sum(-1)))
        chosen.append(pool[j])
        X_fit.append(U[j])
        y_fit.append(lie)  # the constant liar: the next pick moves away from this one
    return chosen


def check_points(dims, points, name: str = "initial") -> list[dict]:
    """``points`` as configurations of the space ``dims``: each a dict giving
    every dimension a value it can take (a listed choice; a number within a
    distribution's bounds).

    Raises:
      ValueError: naming ``name[i]`` and the key that is missing, unknown or
        out of range.
    """
    out = []
    for i, p in enumerate(points):
        if not isinstance(p, Mapping):
            raise ValueError(f"{name}[{i}] must be a dict of searched values, got {p!r}")
        unknown = sorted(set(p) - {d.name for d in dims})
        if unknown:
            raise ValueError(f"{name}[{i}]: {unknown} not in the search space {[d.name for d in dims]}")
        for d in dims:
            if d.name not in p:
                raise ValueError(f"{name}[{i}] gives no value for {d.name!r}")
            v = p[d.name]
            if d.kind == "categorical":
                try:
                    _index(d.choices, v)
                except (ValueError, TypeError):
                    raise ValueError(f"{name}[{i}].{d.name} = {v!r} is not one of {list(d.choices)}") from None
            elif isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not d.low <= v <= d.high:
                raise ValueError(f"{name}[{i}].{d.name} = {v!r} is outside the searched range "
                                 f"[{d.low:g}, {d.high:g}]")
        out.append(dict(p))
    return out


def bayes_search(evaluate: Callable[[list[dict]], np.ndarray], space: Mapping[str, Any], *, n_iter: int,
                 batch_size: int = 8, n_initial: int | None = None, initial=(), random_state=None,
                 max_time: float | None = None, stop: Callable[[], bool] | None = None
                 ) -> tuple[list[dict], np.ndarray]:
    """Maximise ``evaluate`` (a batch of configurations -> scores, NaN for
    failures) with ``n_iter`` evaluations in rounds of ``batch_size``.

    The first ``n_initial`` (default: one batch, at least ``len(initial)``)
    are the configurations ``initial`` (tried first, in order: known-good
    starting points, as Optuna's ``enqueue_trial``), then random ones; each
    later round is proposed by :func:`propose`. With ``max_time`` (seconds),
    no new round starts once that much time has passed (the first round
    always runs); ``stop`` (a predicate asked before each later round) ends
    the search the same way, e.g. a deadline that several processes share.
    Returns every configuration tried, in order, and its score.

    Raises:
      ValueError: ``n_iter`` or ``batch_size`` below 1, more ``initial``
        points than ``n_iter``, a point :func:`check_points` rejects.
    """
    if n_iter < 1 or batch_size < 1:
        raise ValueError(f"n_iter and batch_size must be >= 1, got {n_iter}, {batch_size}")
    dims = parse_space(space)
    initial = check_points(dims, initial)
    if len(initial) > n_iter:
        raise ValueError(f"{len(initial)} initial points but n_iter={n_iter}; n_iter counts them")
    rng = np.random.default_rng(random_state)
    n_initial = max(len(initial), batch_size if n_initial is None else max(1, int(n_initial)))
    tried: list[dict] = []
    scores: list[float] = []
    import time

    t0 = time.monotonic()
    while len(tried) < n_iter:
        if tried and (max_time is not None and time.monotonic() - t0 >= max_time or stop is not None and stop()):
            break
        q = min(batch_size, n_iter - len(tried))
        if len(tried) < n_initial or not np.isfinite(scores).any():
            n = min(q, max(1, n_initial - len(tried))) if len(tried) < n_initial else q
            given = initial[len(tried):len(tried) + n]
            batch = given + _new(_sample(dims, n - len(given), rng, avoid=tried + given), tried + given)
        else:
            batch = _new(propose(dims, list(zip(tried, scores, strict=True)), q, rng), tried)
        if not batch:  # a discrete space with every configuration tried: it re-ran them until 2026-12-06
            import warnings

            warnings.warn(f"the search space holds {len(tried)} configurations, all tried: stopping before "
                          f"n_iter={n_iter}", UserWarning, stacklevel=2)
            break
        out = np.asarray(evaluate(batch), np.float64)
        if out.shape != (len(batch),):
            raise ValueError(f"evaluate returned shape {out.shape} for {len(batch)} configurations")
        tried.extend(batch)
        scores.extend(out.tolist())
    return tried, np.array(scores)
