"""Losses and penalties against float64 NumPy and scikit-learn references."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.utils.class_weight import compute_class_weight

from jaxlstm import losses
from jaxlstm.model import ModelConfig, init_params
from jaxlstm.train import make_hparams, make_optimizer


def _np_weighted_ce(logits, y, w, mask):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.where(mask, -w[y] * logp[np.arange(len(y)), y], 0.0)


@pytest.mark.parametrize("jit", [False, True])
def test_weighted_cross_entropy_equals_float64_numpy(jit):
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=5, size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 5, 64)
    w = rng.uniform(0.1, 3, 5).astype(np.float32)
    mask = rng.random(64) < 0.8
    fn = jax.jit(losses.weighted_cross_entropy) if jit else losses.weighted_cross_entropy
    got = fn(logits, y, w, where=mask)
    ref = _np_weighted_ce(logits, y, w.astype(np.float64), mask)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses.masked_mean(got, mask), ref.sum() / mask.sum(), rtol=1e-5)


@pytest.mark.parametrize("name", ["weighted_cross_entropy", "logit_adjusted_cross_entropy", "focal_loss"])
def test_a_masked_row_with_non_finite_logits_has_loss_and_gradient_zero(name):
    # The masked row's loss was 0 but its gradient NaN (0 * NaN through the
    # final select), which marked a training member diverged.
    logits = jnp.array([[1.0, 2.0, 3.0], [jnp.nan, jnp.inf, 0.0]])
    y, mask = jnp.array([0, 0]), jnp.array([True, False])
    extra = {"logit_adjusted_cross_entropy": (jnp.array([0.5, 0.3, 0.2]), 1.0), "focal_loss": (2.0,)}.get(name, ())
    fn = getattr(losses, name)
    value = fn(logits, y, *extra, where=mask)
    alone = fn(logits[:1], y[:1], *extra)
    np.testing.assert_allclose(value, [float(alone[0]), 0.0], rtol=1e-6)
    grad = jax.grad(lambda z: losses.masked_mean(fn(z, y, *extra, where=mask), mask))(logits)
    np.testing.assert_array_equal(grad[1], 0.0)
    np.testing.assert_allclose(grad[0], jax.grad(lambda z: fn(z, y[:1], *extra)[0])(logits[:1])[0], rtol=1e-6)


def test_matches_the_tutorials_keras_loss():
    # The seed's weighted_categorical_crossentropy: mean over rows of
    # sum(class_weights * -onehot * log(clip(softmax))).
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    w = np.array([0.2, 0.3, 0.5], np.float32)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p = np.clip(p / p.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    keras = np.mean(np.sum(w * -np.eye(3)[y] * np.log(p), axis=-1))
    ours = jnp.mean(losses.weighted_cross_entropy(logits, y, w))
    np.testing.assert_allclose(ours, keras, rtol=1e-5)


def test_gradient_of_weighted_cross_entropy():
    rng = np.random.default_rng(2)
    logits = jnp.asarray(rng.normal(size=(6, 4)), jnp.float32)
    y = jnp.array([0, 1, 2, 3, 0, 1])
    w = jnp.array([1.0, 2.0, 0.5, 3.0])
    g = jax.grad(lambda z: losses.weighted_cross_entropy(z, y, w).sum())(logits)
    ref = (jax.nn.softmax(logits) - jax.nn.one_hot(y, 4)) * w[y][:, None]
    np.testing.assert_allclose(g, ref, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_balanced_class_weights_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.choice(6, size=200, p=[0.5, 0.2, 0.15, 0.1, 0.04, 0.01])
    where = rng.random(200) < 0.7
    present = np.unique(y[where])
    ref = compute_class_weight("balanced", classes=present, y=y[where])
    got = np.asarray(jax.jit(losses.balanced_class_weights, static_argnums=1)(y, 6, where))
    np.testing.assert_allclose(got[present], ref, rtol=1e-6)
    absent = np.setdiff1d(np.arange(6), present)
    np.testing.assert_array_equal(got[absent], 0.0)


def test_class_weight_exponent_interpolates_none_to_balanced():
    y = jnp.array([0] * 12 + [1] * 3 + [2] * 1)
    bal = np.asarray(losses.balanced_class_weights(y, 3))
    np.testing.assert_allclose(losses.class_weights(y, 3, 0.0), [1, 1, 1])
    np.testing.assert_allclose(losses.class_weights(y, 3, 1.0), bal, rtol=1e-6)
    np.testing.assert_allclose(losses.class_weights(y, 3, 0.5), np.sqrt(bal), rtol=1e-6)
    np.testing.assert_allclose(losses.class_weights(y, 3, 0.0, base=jnp.array([1.0, 2.0, 3.0])), [1, 2, 3])
    # traced and vmapped over exponents, as in a sweep
    exps = jnp.linspace(0, 1, 5)
    ws = jax.vmap(lambda e: losses.class_weights(y, 3, e))(exps)
    np.testing.assert_allclose(ws, bal[None, :] ** np.asarray(exps)[:, None], rtol=1e-5)


def _params():
    return init_params(ModelConfig(3, 4, (5, 2), bidirectional=True, head_size=6), jax.random.key(0))


def test_l1_l2_penalties_cover_kernels_only_with_keras_meaning():
    params = _params()
    flat = jax.tree_util.tree_leaves_with_path(params)
    kernels = [np.asarray(v, np.float64) for p, v in flat if str(p[-1].key).endswith("kernel")]
    biases = [v for p, v in flat if str(p[-1].key) == "bias"]
    assert len(kernels) == 2 * 2 * 2 + 2 and len(biases) == 2 * 2 + 2
    np.testing.assert_allclose(losses.l2_penalty(params), sum((k**2).sum() for k in kernels), rtol=1e-6)
    np.testing.assert_allclose(losses.l1_penalty(params), sum(np.abs(k).sum() for k in kernels), rtol=1e-6)
    # biases do not count
    shifted = jax.tree_util.tree_map_with_path(
        lambda p, v: v + 10.0 if str(p[-1].key) == "bias" else v, params)
    assert float(losses.l2_penalty(shifted)) == float(losses.l2_penalty(params))
    # gradient of l2 * penalty is 2 * l2 * w on kernels, 0 on biases
    g = jax.grad(lambda p: 0.01 * losses.l2_penalty(p))(params)
    np.testing.assert_allclose(g["logits"]["kernel"], 0.02 * params["logits"]["kernel"], rtol=1e-6)
    np.testing.assert_array_equal(g["logits"]["bias"], 0.0)


def test_decoupled_weight_decay_shrinks_kernels_only():
    params = _params()
    hp = make_hparams(4, learning_rate=0.1, weight_decay=0.5)
    tx = make_optimizer(hp)
    state = tx.init(params)
    zero = jax.tree.map(jnp.zeros_like, params)
    updates, _ = tx.update(zero, state, params)
    new = optax.apply_updates(params, updates)
    for (p, old), nv in zip(jax.tree_util.tree_leaves_with_path(params), jax.tree.leaves(new)):
        if str(p[-1].key).endswith("kernel"):
            np.testing.assert_allclose(nv, old * (1 - 0.1 * 0.5), rtol=1e-6)
        else:
            np.testing.assert_array_equal(nv, old)


def test_optimizer_hyperparameters_are_injected_and_vmappable():
    params = {"kernel": jnp.ones((2, 2))}
    grads = {"kernel": jnp.full((2, 2), 3.0)}
    lrs = jnp.array([0.1, 0.2, 0.4])

    def first_update(lr):
        hp = make_hparams(2, learning_rate=1.0)._replace(learning_rate=lr)
        tx = make_optimizer(hp)
        return tx.update(grads, tx.init(params), params)[0]["kernel"]

    ups = jax.vmap(first_update)(lrs)
    # Adam's first step is -lr * sign(g) (up to eps)
    np.testing.assert_allclose(ups[:, 0, 0], -lrs, rtol=1e-5)


def test_gradient_clipping_by_global_norm_happens_before_adam():
    params = {"kernel": jnp.zeros(4)}
    grads = [{"kernel": jnp.array([30.0, 40.0, 0.0, 0.0])}, {"kernel": jnp.array([0.0, 0.3, 0.4, 0.0])}]
    tx = make_optimizer(make_hparams(2, learning_rate=0.1, grad_clip=1.0))
    ref = optax.adam(0.1)
    st, rst = tx.init(params), ref.init(params)
    for g in grads:
        norm = float(optax.tree.norm(g))
        clipped = jax.tree.map(lambda v: v * min(1.0, 1.0 / norm), g)
        up, st = tx.update(g, st, params)
        rup, rst = ref.update(clipped, rst, params)
        np.testing.assert_allclose(up["kernel"], rup["kernel"], rtol=1e-5, atol=1e-7)
    assert float(st.hyperparams["grad_clip"]) == 1.0


# ---------------------------------------------------------------------------
# Imbalance remedies: float64 NumPy references of the published formulas
# ---------------------------------------------------------------------------

def _np_log_softmax(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _np_logit_adjusted(z, y, prior, tau, w=None):
    # Menon et al. (2021), eq. (10): -log( e^{z_y + tau log pi_y} / sum_j e^{z_j + tau log pi_j} )
    logp = _np_log_softmax(np.asarray(z, np.float64) + tau * np.log(np.asarray(prior, np.float64)))
    nll = -logp[np.arange(len(y)), y]
    return nll if w is None else nll * np.asarray(w, np.float64)[y]


def _np_balanced_softmax(z, y, counts):
    # Ren et al. (2020), eq. (4): -log( n_y e^{z_y} / sum_j n_j e^{z_j} )
    z = np.asarray(z, np.float64)
    num = counts[y] * np.exp(z[np.arange(len(y)), y])
    return -np.log(num / (counts[None, :] * np.exp(z)).sum(axis=1))


def _np_focal(z, y, gamma, alpha=None):
    # Lin et al. (2017), eq. (5), softmax form: -alpha_t (1 - p_t)^gamma log p_t
    logpt = _np_log_softmax(z)[np.arange(len(y)), y]
    a = 1.0 if alpha is None else np.asarray(alpha, np.float64)[y]
    return -a * (1.0 - np.exp(logpt)) ** gamma * logpt


def _np_effective_number(counts, beta):
    # Cui et al. (2019): (1 - beta) / (1 - beta^n), normalised to sum to the number of classes
    counts = np.asarray(counts, np.float64)
    present = counts > 0
    raw = np.zeros_like(counts)
    raw[present] = (1.0 - beta) / (1.0 - beta ** counts[present])
    return raw * present.sum() / raw.sum()


def _num_grad(f, x, h=1e-6):
    """Central differences of a float64 NumPy function, elementwise in x."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _imbalanced_batch(seed=0, n=48, c=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3, size=(n, c)).astype(np.float32)
    p = np.array([0.7, 0.2, 0.08, 0.02])[:c]
    y = rng.choice(c, n, p=p / p.sum())
    mask = rng.random(n) < 0.8
    return logits, y, mask


def test_class_counts_and_prior_are_masked_bincounts():
    _, y, mask = _imbalanced_batch(1, 200)
    counts = jax.jit(losses.class_counts, static_argnums=1)(y, 5, mask)
    np.testing.assert_array_equal(counts, np.bincount(y[mask], minlength=5))
    prior = losses.class_prior(y, 5, where=mask)
    np.testing.assert_allclose(prior, np.bincount(y[mask], minlength=5) / mask.sum(), rtol=1e-6)
    assert float(prior[4]) == 0.0  # class 4 never occurs
    np.testing.assert_array_equal(losses.class_prior(y, 5, where=np.zeros(200, bool)), 0.0)


@pytest.mark.parametrize("jit", [False, True])
def test_logit_adjusted_cross_entropy_equals_menon_and_ren(jit):
    logits, y, mask = _imbalanced_batch()
    counts = np.bincount(y[mask], minlength=4).astype(np.float64)
    prior = counts / counts.sum()
    w = np.array([0.5, 1.0, 2.0, 4.0], np.float32)
    fn = jax.jit(losses.logit_adjusted_cross_entropy) if jit else losses.logit_adjusted_cross_entropy
    for tau in (0.0, 0.5, 1.0, 2.0):
        got = fn(logits, y, prior.astype(np.float32), tau, w, where=mask)
        ref = np.where(mask, _np_logit_adjusted(logits, y, prior, tau, w), 0.0)
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6)
    # tau = 1 is the balanced softmax; counts instead of the prior give the same loss
    got = fn(logits, y, counts.astype(np.float32), 1.0)
    np.testing.assert_allclose(got, _np_balanced_softmax(logits, y, counts), rtol=2e-5, atol=1e-6)
    # tau = 0 is plain (weighted) cross-entropy, bit for bit
    np.testing.assert_array_equal(fn(logits, y, prior.astype(np.float32), 0.0, w, where=mask),
                                  losses.weighted_cross_entropy(logits, y, w, where=mask))
    # a class absent from the prior stays finite
    zero = np.array([0.5, 0.5, 0.0, 0.0], np.float32)
    assert np.all(np.isfinite(fn(logits, y, zero, 1.0)))


def test_logit_adjusted_gradients_and_vmap_over_tau():
    logits, y, _ = _imbalanced_batch(2, 12)
    prior = np.array([0.6, 0.25, 0.1, 0.05])
    tau = 0.7
    g = jax.grad(lambda z: losses.logit_adjusted_cross_entropy(z, y, prior, tau).sum())(logits)
    ref = _num_grad(lambda z: _np_logit_adjusted(z, y, prior, tau).sum(), logits)
    np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5)
    gt = jax.grad(lambda t: losses.logit_adjusted_cross_entropy(logits, y, prior, t).sum())(tau)
    reft = _num_grad(lambda t: _np_logit_adjusted(logits, y, prior, t).sum(), tau)
    np.testing.assert_allclose(gt, reft, rtol=1e-4)
    taus = jnp.array([0.0, 0.5, 1.0, 1.5])
    got = jax.jit(jax.vmap(losses.logit_adjusted_cross_entropy, in_axes=(None, None, None, 0)))(
        logits, y, prior, taus)
    for t, row in zip(np.asarray(taus), np.asarray(got)):
        np.testing.assert_allclose(row, _np_logit_adjusted(logits, y, prior, t), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_focal_loss_equals_lin_et_al(jit):
    logits, y, mask = _imbalanced_batch(3)
    alpha = np.array([0.25, 1.0, 2.0, 3.0], np.float32)
    fn = jax.jit(losses.focal_loss) if jit else losses.focal_loss
    for gamma in (0.5, 1.0, 2.0, 5.0):
        got = fn(logits, y, gamma, alpha, where=mask)
        ref = np.where(mask, _np_focal(logits, y, gamma, alpha), 0.0)
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6)
    # gamma = 0 is (weighted) cross-entropy exactly
    np.testing.assert_array_equal(fn(logits, y, 0.0, alpha, where=mask),
                                  losses.weighted_cross_entropy(logits, y, alpha, where=mask))
    np.testing.assert_array_equal(fn(logits, y, 0.0), losses.weighted_cross_entropy(logits, y))


def test_focal_loss_gradients_finite_at_certainty_and_equal_to_numerical():
    logits, y, _ = _imbalanced_batch(4, 10)
    for gamma in (0.0, 0.5, 2.0):
        g = jax.grad(lambda z: losses.focal_loss(z, y, gamma).sum())(logits)
        ref = _num_grad(lambda z: _np_focal(z, y, gamma).sum(), logits)
        np.testing.assert_allclose(g, ref, rtol=1e-4, atol=1e-5)
    reff = _num_grad(lambda gm: _np_focal(logits, y, gm).sum(), 1.5)
    np.testing.assert_allclose(jax.grad(lambda gm: losses.focal_loss(logits, y, gm).sum())(1.5), reff, rtol=1e-4)
    # p_t rounds to 1 in float32: values and gradients (logits and gamma) finite
    sure = jnp.array([[60.0, 0.0, -3.0], [0.0, 100.0, 0.0], [20.0, 0.0, 0.0]])
    ys = jnp.array([0, 1, 0])
    for gamma in (0.0, 0.25, 0.5, 1.0, 2.0):
        v, (gz, gg) = jax.value_and_grad(lambda z, gm: losses.focal_loss(z, ys, gm).sum(), argnums=(0, 1))(
            sure, gamma)
        assert np.isfinite(v) and np.all(np.isfinite(gz)) and np.isfinite(gg), gamma
    # vmapped over gamma, as a sweep does
    gammas = jnp.array([0.0, 1.0, 2.0])
    got = jax.jit(jax.vmap(losses.focal_loss, in_axes=(None, None, 0)))(logits, y, gammas)
    for gm, row in zip(np.asarray(gammas), np.asarray(got)):
        np.testing.assert_allclose(row, _np_focal(logits, y, gm), rtol=2e-5, atol=1e-6)


def test_effective_number_weights_equal_cui_et_al():
    counts = np.array([500.0, 120.0, 30.0, 4.0, 1.0])
    fn = jax.jit(losses.effective_number_weights)
    for beta in (0.5, 0.9, 0.99, 0.999, 0.9999):
        b32 = float(np.float32(beta))  # the reference sees the same rounded beta
        np.testing.assert_allclose(fn(counts, beta), _np_effective_number(counts, b32), rtol=1e-5)
        np.testing.assert_allclose(np.sum(fn(counts, beta)), 5.0, rtol=1e-6)
    # beta = 0: no re-weighting; beta -> 1: inverse frequency (normalised)
    np.testing.assert_array_equal(fn(counts, 0.0), np.ones(5))
    inv = (1 / counts) * 5 / np.sum(1 / counts)
    np.testing.assert_allclose(fn(counts, 1 - 1e-7), inv, rtol=1e-3)
    # a class with count 0 gets 0 and the others sum to their number, with finite gradients
    zc = np.array([50.0, 0.0, 5.0, 1.0])
    w = fn(zc, 0.9)
    ref = _np_effective_number(zc, float(np.float32(0.9)))
    np.testing.assert_allclose(w, ref, rtol=1e-5)
    assert float(w[1]) == 0.0 and abs(float(w.sum()) - 3.0) < 1e-5
    for beta in (0.0, 0.3, 0.9):
        g = jax.jacobian(losses.effective_number_weights, argnums=1)(jnp.asarray(zc, jnp.float32), beta)
        h = 1e-7
        if beta == 0:  # one-sided: beta >= 0
            ref = (_np_effective_number(zc, h) - _np_effective_number(zc, 0.0)) / h
        else:
            ref = (_np_effective_number(zc, beta + h) - _np_effective_number(zc, beta - h)) / (2 * h)
        np.testing.assert_allclose(g, ref, rtol=1e-3, atol=1e-4)
    # traced beta: vmapped over a sweep's members
    betas = jnp.array([0.0, 0.9, 0.99, 0.999])
    ws = jax.jit(jax.vmap(losses.effective_number_weights, in_axes=(None, 0)))(counts, betas)
    for b, row in zip(np.asarray(betas), np.asarray(ws)):
        np.testing.assert_allclose(row, _np_effective_number(counts, float(b)), rtol=1e-5)


def test_effective_number_weights_with_focal_loss_train_signal():
    # Cui et al. pair their weights with the focal loss: alpha = class-balanced weights
    logits, y, mask = _imbalanced_batch(5)
    counts = losses.class_counts(y, 4, where=mask)
    w = losses.effective_number_weights(counts, 0.99)
    got = losses.masked_mean(losses.focal_loss(logits, y, 2.0, alpha=w, where=mask), where=mask)
    ref = np.where(mask, _np_focal(logits, y, 2.0, np.asarray(w, np.float64)), 0.0).sum() / mask.sum()
    np.testing.assert_allclose(got, ref, rtol=2e-5)


def test_loss_hparams_are_checked_on_the_host_naming_the_parameter():
    from jaxlstm.params import check_loss_hparams

    ok = check_loss_hparams(tau=[0.0, 1.0], gamma=2, beta=0.999, alpha=[1, 2])
    assert set(ok) == {"tau", "gamma", "beta", "alpha"}
    for kw, match in [({"tau": -0.5}, r"tau must be a finite number >= 0, got -0.5"),
                      ({"gamma": -1}, r"gamma must be a finite number >= 0, got -1"),
                      ({"gamma": float("nan")}, "gamma must be"),
                      ({"tau": np.inf}, "tau must be"),
                      ({"beta": 1.0}, r"beta must be a number in \[0, 1\), got 1$"),
                      ({"beta": -0.1}, r"beta must be a number in \[0, 1\)"),
                      ({"beta": [0.5, 0.9, 1.2]}, r"beta must be a number in \[0, 1\), got 1.2 \(among 3 values\)"),
                      ({"alpha": [1.0, -1.0]}, "alpha must be a finite number >= 0"),
                      ({"tau": "big"}, "tau must be")]:
        with pytest.raises(ValueError, match=match):
            check_loss_hparams(**kw)
    with pytest.raises(ValueError, match=r"cb_beta must be a number in \[0, 1\)"):
        check_loss_hparams(beta=1.5, names={"beta": "cb_beta"})
    with pytest.raises(TypeError, match="unknown parameter 'delta'"):
        check_loss_hparams(delta=1.0)


def test_masked_mean_with_weights_is_the_weighted_mean():
    # until 2026-12-07 weights were read as a mask over a count: masked_mean(ones, [0.5, 0.5]) was 2.0
    v = np.array([1.0, 2.0, 4.0, np.nan], np.float32)
    w = np.array([0.5, 1.5, 2.0, 0.0], np.float32)  # the NaN row has weight 0: never read
    np.testing.assert_allclose(losses.masked_mean(jnp.asarray(v), jnp.asarray(w)),
                               np.average(v[:3], weights=w[:3]), rtol=1e-6)
    assert float(losses.masked_mean(jnp.ones(2), jnp.array([0.5, 0.5]))) == 1.0
    assert float(losses.masked_mean(jnp.ones(2), jnp.zeros(2))) == 0.0  # no weight: 0, as an all-false mask
    mask = np.array([True, False, True, False])
    assert float(losses.masked_mean(jnp.asarray(v), jnp.asarray(mask))) == 2.5  # a mask: unchanged
    np.testing.assert_allclose(jax.grad(lambda a: losses.masked_mean(a, jnp.asarray(w)))(jnp.asarray(v[:3].tolist()
                               + [0.0])), w / w.sum(), rtol=1e-6)
