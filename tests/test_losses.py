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
