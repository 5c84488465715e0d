"""The closed-form ridge classifier (``classifier="minirocket"``) against
scikit-learn's ``RidgeClassifierCV`` in float64 and a brute-force
leave-one-out loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeClassifierCV

from jaxlstm import ridge


def _data(seed, n, f, k, signal):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = rng.normal(size=(n, f)) + signal * rng.normal(size=(k, f))[y]
    w = rng.uniform(0.2, 3.0, n)
    w[rng.choice(n, 6, replace=False)] = 0.0  # rows left out (a fold's padding): garbage must not matter
    x[w == 0] = 1e3
    x[np.flatnonzero(w == 0)[::2]] = np.nan  # NaN too (it reached the kernel through 0 * NaN until 2026-12-06)
    return x.astype(np.float32), y, w.astype(np.float32)


@pytest.mark.parametrize("seed,n,f,k,signal", [(1, 46, 120, 3, 0.2), (1, 46, 120, 2, 0.1), (1, 46, 120, 3, 0.4),
                                               (0, 60, 30, 4, 0.4)])
def test_the_ridge_classifier_equals_scikit_learns_and_its_leave_one_out_scores_a_refit_loop(seed, n, f, k, signal):
    """Weighted rows, rows of weight 0 left out, an unpenalised intercept,
    fewer rows than features (the Gram matrix's decomposition) and more (the
    covariance's):
    the penalty chosen, the coefficients and the intercept equal
    ``RidgeClassifierCV(alphas).fit(x, y, sample_weight)`` in float64 (two
    classes: its one column is the second, the first its negation); the
    temperature is the grid's smallest within the tolerance of the least
    cross-entropy of the leave-one-out scores, here from an actual refit
    without each row (not the grid's largest when every score is right)."""
    x, y, w = _data(seed, n, f, k, signal)
    got = jax.jit(ridge.fit_ridge_classifier, static_argnums=2)(jnp.asarray(x), jnp.asarray(y), k, jnp.asarray(w))
    used = w > 0
    xu, yu, wu = x[used].astype(np.float64), y[used], w[used].astype(np.float64)
    ref = RidgeClassifierCV(alphas=ridge.ALPHAS, store_cv_results=True).fit(xu, yu, sample_weight=wu)
    errors = ref.cv_results_.reshape(len(yu), -1, len(ridge.ALPHAS)).mean(axis=(0, 1))
    assert np.sort(errors)[1] > 1.001 * errors.min()  # the choice is not a rounding tie
    assert float(got.alpha) == pytest.approx(ref.alpha_, rel=1e-6)
    assert float(got.loo_error) == pytest.approx(-ref.best_score_, rel=1e-3)
    temp = float(got.temperature)
    coef, intercept = ref.coef_.T, ref.intercept_
    if k == 2:
        coef, intercept = np.stack([-coef.ravel(), coef.ravel()], 1), np.array([-intercept[0], intercept[0]])
    scale = np.abs(coef).max()
    np.testing.assert_allclose(np.asarray(got.kernel) / temp, coef, atol=2e-3 * scale)
    np.testing.assert_allclose(np.asarray(got.bias) / temp, intercept, atol=2e-3 * max(1.0, np.abs(intercept).max()))
    # leave-one-out scores from refitting without each row, then the temperature grid's best cross-entropy
    t = 2.0 * np.eye(k)[yu] - 1.0
    loo = np.stack([Ridge(alpha=ref.alpha_).fit(np.delete(xu, i, 0), np.delete(t, i, 0),
                                                sample_weight=np.delete(wu, i)).predict(xu[i:i + 1])[0]
                    for i in range(len(yu))])

    def cross_entropy(tau):
        z = tau * loo
        z = z - z.max(1, keepdims=True)
        return -np.mean(z[np.arange(len(yu)), yu] - np.log(np.exp(z).sum(1)))

    ces = np.array([cross_entropy(tau) for tau in ridge.TEMPERATURES])
    threshold = ces.min() + ridge.TEMPERATURE_TOLERANCE
    assert temp == pytest.approx(ridge.TEMPERATURES[int(np.argmax(ces <= threshold))], rel=1e-6)
    assert np.abs(ces - threshold).min() > 1e-5  # not a tie either
    if signal == 0.4 and f > n:  # every leave-one-out score right: the loss only approaches 0 as it grows
        assert np.all(np.diff(ces) <= 1e-9) and temp < ridge.TEMPERATURES[-1] / 10


@pytest.mark.parametrize("f", [10, 3])
def test_degenerate_folds_give_finite_coefficients(f):
    """One row per class of identical rows, or every weight 0: finite
    coefficients (both decompositions), not NaN."""
    x, y = jnp.ones((4, f)), jnp.asarray([0, 1, 0, 1])
    for w in ([1.0, 1.0, 0.0, 0.0], [0.0] * 4):
        got = ridge.fit_ridge_classifier(x, y, 2, jnp.asarray(w))
        assert np.isfinite(np.asarray(got.kernel)).all() and np.isfinite(np.asarray(got.bias)).all()


@pytest.mark.parametrize("signal", [0.05, 0.08])
def test_duplicate_rows_predict_as_scikit_learns_float64(signal):
    """A quarter of the rows repeated (the Gram matrix singular beyond the
    intercept) on standardised, nearly low-rank features, where float32's
    small eigenvalues are least accurate: the chosen penalty is one whose
    float64 leave-one-out error is within 0.5% of scikit-learn's best (near
    ties may pick another), and the predictions on new rows and the
    coefficients are float64 scikit-learn's at that penalty."""
    rng = np.random.default_rng(0)
    n, f, k = 160, 600, 3
    y = np.arange(n + 400) % k
    centres = signal * rng.normal(size=(k, f))
    mix = rng.normal(size=(20, f))
    x = rng.normal(size=(n + 400, 20)) @ mix + 0.3 * rng.normal(size=(n + 400, f)) + centres[y]
    x, new, y, y_new = x[:n], x[n:], y[:n], y[n:]
    copies = rng.choice(n, n // 4, replace=False)
    x[copies], y[copies] = x[copies - 1], y[copies - 1]
    mu, sd = x.mean(0), x.std(0)
    x, new = (x - mu) / sd, (new - mu) / sd
    got = jax.jit(ridge.fit_ridge_classifier, static_argnums=2)(jnp.asarray(x, jnp.float32), jnp.asarray(y), k,
                                                                jnp.ones(n, jnp.float32))
    ref = RidgeClassifierCV(alphas=ridge.ALPHAS, store_cv_results=True).fit(x, y)
    errors = ref.cv_results_.reshape(n, -1, len(ridge.ALPHAS)).mean(axis=(0, 1))
    chosen = ridge.ALPHAS.index(min(ridge.ALPHAS, key=lambda a: abs(a - float(got.alpha))))
    assert errors[chosen] <= 1.005 * errors.min()
    predicted = np.argmax(new.astype(np.float32) @ np.asarray(got.kernel) + np.asarray(got.bias), axis=1)
    fitted = Ridge(alpha=ridge.ALPHAS[chosen]).fit(x, 2.0 * np.eye(k)[y] - 1.0)
    reference = fitted.predict(new).argmax(1)
    np.testing.assert_array_equal(predicted, reference)
    temp = float(got.temperature)  # the coefficients too (they were 1-2% off until the eigenvalues' shift, 2026-12-06)
    np.testing.assert_allclose(np.asarray(got.kernel) / temp, fitted.coef_.T, atol=3e-3 * np.abs(fitted.coef_).max())
    assert 0.5 < np.mean(reference == y_new) < 1.0  # neither chance nor trivially separable
