"""Training loop: a step learns, padding batches are masked, divergence is
frozen, the best epoch is kept, and the digits reach >= 0.95 test accuracy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from jaxlstm import datasets, metrics
from jaxlstm.model import ModelConfig
from jaxlstm.train import (Split, TrainConfig, _batch_order, _fit_jit, _loss_fn, fit, init_state, make_hparams,
                           predict_proba, train_single, train_step)

MODEL = ModelConfig(num_features=3, num_classes=3, hidden_sizes=(8,))


def _toy(n=40, t=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n).astype(np.int32)
    x = rng.normal(size=(n, t, 3)).astype(np.float32) + y[:, None, None]
    lengths = rng.integers(2, t + 1, n).astype(np.int32)
    return x, lengths, y


def _batch(x, lengths, y, mask=None):
    mask = np.ones(len(y), bool) if mask is None else mask
    return {"x": jnp.asarray(x), "lengths": jnp.asarray(lengths), "y": jnp.asarray(y), "mask": jnp.asarray(mask)}


step = jax.jit(train_step)


def test_train_step_changes_params_and_lowers_the_loss():
    x, lengths, y = _toy()
    hp = make_hparams(3, learning_rate=1e-2)
    state = init_state(MODEL, hp, jnp.ones(3), jax.random.key(0))
    batch = _batch(x, lengths, y)
    first = None
    for i in range(30):
        new, m = step(state, batch, hp, jax.random.key(i))
        if i == 0:
            first = float(m["loss"])
            assert not np.allclose(new.params["logits"]["kernel"], state.params["logits"]["kernel"])
        state = new
    assert float(m["loss"]) < 0.7 * first
    assert int(state.step) == 30 and not bool(state.diverged)


def test_non_finite_loss_freezes_the_member():
    x, lengths, y = _toy()
    hp = make_hparams(3, learning_rate=1e-2)
    state = init_state(MODEL, hp, jnp.ones(3), jax.random.key(0))
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    frozen, m = step(state, _batch(bad, lengths, y), hp, jax.random.key(0))
    assert bool(frozen.diverged) and not np.isfinite(float(m["loss"]))
    for a, b in zip(jax.tree.leaves(frozen.params), jax.tree.leaves(state.params)):
        np.testing.assert_array_equal(a, b)
    later, _ = step(frozen, _batch(x, lengths, y), hp, jax.random.key(1))  # stays frozen
    np.testing.assert_array_equal(later.params["logits"]["kernel"], state.params["logits"]["kernel"])
    assert int(later.step) == 0


def test_empty_batch_is_a_no_op():
    x, lengths, y = _toy()
    hp = make_hparams(3, learning_rate=1e-2, l2=0.1)
    state = init_state(MODEL, hp, jnp.ones(3), jax.random.key(0))
    new, m = step(state, _batch(x, lengths, y, np.zeros(len(y), bool)), hp, jax.random.key(0))
    np.testing.assert_array_equal(new.params["logits"]["kernel"], state.params["logits"]["kernel"])
    assert int(m["count"]) == 0 and not bool(new.diverged)


def test_batch_order_visits_each_training_row_once_and_masks_the_rest():
    idx = jnp.arange(10) * 3
    mask = jnp.array([1, 1, 0, 1, 1, 1, 1, 0, 1, 1], bool)
    b_idx, b_mask = _batch_order(idx, mask, 4, jax.random.key(0))
    assert b_idx.shape == (3, 4)
    visited = np.asarray(b_idx)[np.asarray(b_mask)]
    np.testing.assert_array_equal(np.sort(visited), np.asarray(idx)[np.asarray(mask)])
    other, _ = _batch_order(idx, mask, 4, jax.random.key(1))
    assert not np.array_equal(np.asarray(other)[np.asarray(b_mask)], visited)  # shuffled per key



def test_batch_order_does_not_depend_on_padding():
    """Valid rows come in the same batches however far the index is padded
    (sweeps pad folds to the largest; estimators pad to shape buckets)."""
    idx = jnp.arange(10) + 5
    rng = jax.random.key(3)
    a_idx, a_mask = _batch_order(idx, jnp.ones(10, bool), 4, rng)
    padded = jnp.concatenate([idx, jnp.zeros(7, idx.dtype)])
    b_idx, b_mask = _batch_order(padded, jnp.arange(17) < 10, 4, rng)
    np.testing.assert_array_equal(np.asarray(b_idx)[:3][np.asarray(b_mask)[:3]],
                                  np.asarray(a_idx)[np.asarray(a_mask)])
    np.testing.assert_array_equal(np.asarray(b_mask)[:3], np.asarray(a_mask))
    assert not np.asarray(b_mask)[3:].any()

# One compiled program for the rest of the module: the same config and shapes.
DIGITS = datasets.load_digits()
IDX = np.arange(len(DIGITS.y))
TRVAL, TEST = train_test_split(IDX, test_size=0.25, stratify=DIGITS.y, random_state=0)
TRAIN, VAL = train_test_split(TRVAL, test_size=0.15, stratify=DIGITS.y[TRVAL], random_state=0)
DIGITS_CFG = TrainConfig(ModelConfig(8, 10, (64,)), batch_size=32, epochs=20, select="f1_macro")
DIGITS_HP = make_hparams(10, learning_rate=1e-2)


@pytest.fixture(scope="module")
def digits_run():
    return train_single(DIGITS.x, DIGITS.y, DIGITS.lengths, config=DIGITS_CFG, hparams=DIGITS_HP,
                        train_idx=TRAIN, val_idx=VAL, seed=0)


def test_digits_reach_095_test_accuracy(digits_run):
    result, timing = digits_run
    probs = predict_proba(result.best_params, DIGITS_CFG.model, result.scaler,
                          DIGITS.x[TEST], DIGITS.lengths[TEST])
    acc = float(metrics.accuracy_score(jnp.asarray(DIGITS.y[TEST]), jnp.asarray(probs.argmax(-1))))
    print(f"digits test accuracy {acc:.4f}; compile {timing.compile_s:.2f} s, "
          f"{timing.run_s / DIGITS_CFG.epochs:.4f} s/epoch")
    assert acc >= 0.95


def test_best_epoch_is_the_argmax_of_the_recorded_curve(digits_run):
    result, _ = digits_run
    curve = result.history["val_f1_macro"]
    assert curve.shape == (DIGITS_CFG.epochs,)
    assert int(result.best_epoch) == int(np.argmax(curve))
    assert float(result.best_score) == pytest.approx(float(curve.max()))
    # the kept parameters really score that on the validation rows
    probs = predict_proba(result.best_params, DIGITS_CFG.model, result.scaler,
                          DIGITS.x[VAL], DIGITS.lengths[VAL])
    f1 = metrics.f1_score(jnp.asarray(DIGITS.y[VAL]), jnp.asarray(probs.argmax(-1)), 10)
    assert float(f1) == pytest.approx(float(curve.max()), abs=1e-5)
    assert np.all(np.diff(result.history["train_loss"][:4]) < 0.05)  # it is learning


@pytest.mark.parametrize("select", ["roc_auc_ovr", "neg_log_loss"])
def test_best_epoch_by_other_metrics(select):
    x, lengths, y = _toy(60)
    cfg = TrainConfig(MODEL, batch_size=16, epochs=6, select=select, record=(select,))
    split = Split(jnp.arange(40), jnp.ones(40, bool), jnp.arange(40, 60), jnp.ones(20, bool))
    r = jax.jit(fit, static_argnames="config")(x, lengths, y, split, make_hparams(3, learning_rate=3e-2),
                                               jax.random.key(0), config=cfg)
    curve = np.asarray(r.history[f"val_{select}"])
    assert int(r.best_epoch) == int(np.argmax(curve))
    assert float(r.best_score) == pytest.approx(float(curve.max()))


def test_validation_rows_all_masked_out_keep_the_last_epoch_as_no_validation_rows_do():
    # with every validation row masked the F1 was 0 every epoch and the tie kept epoch 0, best_score 0.0
    x, lengths, y = _toy(60)
    cfg = TrainConfig(MODEL, batch_size=16, epochs=4, record=("f1_macro",))
    run = jax.jit(fit, static_argnames="config")
    hp, key = make_hparams(3, learning_rate=3e-2), jax.random.key(0)
    none = run(x, lengths, y, Split(jnp.arange(40), jnp.ones(40, bool), jnp.arange(0), jnp.ones(0, bool)),
               hp, key, config=cfg)
    masked = run(x, lengths, y, Split(jnp.arange(40), jnp.ones(40, bool), jnp.arange(40, 50), jnp.zeros(10, bool)),
                 hp, key, config=cfg)
    assert int(none.best_epoch) == int(masked.best_epoch) == 3
    assert np.isnan(float(masked.best_score)) and np.isnan(float(none.best_score))
    np.testing.assert_array_equal(masked.best_params["logits"]["kernel"], none.best_params["logits"]["kernel"])


def test_class_weights_are_fitted_on_training_rows_only():
    x, lengths, y = _toy(60)
    y = y.copy()
    y[:30] = 0  # training rows are mostly class 0
    cfg = TrainConfig(MODEL, batch_size=16, epochs=1, record=("accuracy",), select="accuracy")
    split = Split(jnp.arange(40), jnp.ones(40, bool), jnp.arange(40, 60), jnp.ones(20, bool))
    r = jax.jit(fit, static_argnames="config")(x, lengths, y, split,
                                               make_hparams(3, class_weight_exponent=1.0),
                                               jax.random.key(0), config=cfg)
    from sklearn.utils.class_weight import compute_class_weight

    np.testing.assert_allclose(r.class_weights, compute_class_weight("balanced", classes=np.arange(3),
                                                                     y=y[:40]), rtol=1e-6)


def test_patience_stops_updating():
    x, lengths, y = _toy(60)
    cfg = TrainConfig(MODEL, batch_size=16, epochs=8, patience=1, select="accuracy", record=("accuracy",))
    split = Split(jnp.arange(40), jnp.ones(40, bool), jnp.arange(40, 60), jnp.ones(20, bool))
    # a learning rate of 0 never improves after epoch 0, so epoch 2 on is stopped
    r = jax.jit(fit, static_argnames="config")(x, lengths, y, split, make_hparams(3, learning_rate=0.0),
                                               jax.random.key(0), config=cfg)
    loss = np.asarray(r.history["train_loss"])
    assert np.isfinite(loss[:2]).all() and np.isnan(loss[2:]).all()
    assert int(r.best_epoch) == 0


@pytest.mark.parametrize("bad, message", [
    (lambda x, l, y: (x[0], l, y), "3-D"),
    (lambda x, l, y: (x[:0], l[:0], y[:0]), "empty"),
    (lambda x, l, y: (x[:, :0], l, y), "zero time steps"),
    (lambda x, l, y: (np.where(np.arange(x.shape[1])[None, :, None] == 0, np.nan, x), l, y), "NaN or inf"),
    (lambda x, l, y: (x, l, np.where(np.arange(len(y)) == 3, 7, y)), "row 3 has label 7"),
    (lambda x, l, y: (x, l, np.zeros_like(y)), "1 distinct class"),
    (lambda x, l, y: (x, np.where(np.arange(len(l)) == 2, 0, l), y), "sequence 2 has length 0"),
    (lambda x, l, y: (x, l + 10, y), r"lengths must be in \[1, 6\]"),
    (lambda x, l, y: (x, l[:-1], y), "lengths must have shape"),
    (lambda x, l, y: (x, l, y[:-1]), "y must have shape"),
    (lambda x, l, y: (x, l, y + 0.5), "integer class labels"),
])
def test_bad_input_gets_a_clear_value_error(bad, message):
    x, lengths, y = _toy()
    bx, bl, by = bad(x, lengths, y)
    cfg = TrainConfig(MODEL, epochs=1)
    with pytest.raises(ValueError, match=message):
        train_single(bx, by, bl, config=cfg)


def test_nan_in_padding_is_allowed_and_harmless():
    x, lengths, y = _toy()
    pad = np.arange(x.shape[1])[None, :] >= lengths[:, None]
    x_nan = np.where(pad[..., None], np.nan, x)
    cfg = TrainConfig(MODEL, epochs=2, record=("accuracy",), select="accuracy")
    a, _ = train_single(x, y, lengths, config=cfg, train_idx=np.arange(30), val_idx=np.arange(30, 40))
    b, _ = train_single(x_nan, y, lengths, config=cfg, train_idx=np.arange(30), val_idx=np.arange(30, 40))
    np.testing.assert_array_equal(a.best_params["logits"]["kernel"], b.best_params["logits"]["kernel"])


@pytest.mark.parametrize("impl", ["scan", "kernel"])
def test_rows_outside_the_training_split_are_never_read_even_if_not_finite(impl):
    # until 2026-12-07 NaN in such a row froze training: the last batch is padded with row 0 (mask false), whose
    # input went through the network and made 0 * NaN gradients, so the member was marked diverged
    x, lengths, y = _toy()
    cfg = TrainConfig(ModelConfig(3, 3, hidden_sizes=(8,), lstm_impl=impl), epochs=2, batch_size=4)
    split = Split(jnp.arange(1, 15), jnp.ones(14, bool), jnp.arange(15, 24), jnp.ones(9, bool))  # 14 = 3 * 4 + 2
    runs = []
    for row0 in (x[0], np.full_like(x[0], np.nan), np.full_like(x[0], 1e30)):
        runs.append(_fit_jit(jnp.asarray(np.concatenate([row0[None], x[1:]])), jnp.asarray(lengths), jnp.asarray(y),
                             split, make_hparams(3, learning_rate=1e-2), jax.random.key(0), config=cfg))
    for r in runs:
        assert not bool(r.diverged) and int(r.state.step) == 8
        jax.tree.map(np.testing.assert_array_equal, r.best_params, runs[0].best_params)
    state = init_state(MODEL, make_hparams(3, learning_rate=1e-2), jnp.ones(3), jax.random.key(0))
    xb = x[:8].copy()
    xb[5] = np.nan  # a padding row of one step
    new, out = step(state, _batch(xb, lengths[:8], y[:8], np.arange(8) != 5), make_hparams(3, learning_rate=1e-2),
                    jax.random.key(1))
    assert int(new.step) == 1 and not bool(new.diverged) and np.isfinite(float(out["loss"]))


def test_train_single_reads_boolean_masks_as_rows_and_names_bad_indices():
    # A boolean val_idx was read as row numbers 0 and 1 (40 rows of index 0/1
    # scored), a boolean train_idx failed with a message about y's shape.
    x, lengths, y = _toy()
    cfg = TrainConfig(MODEL, epochs=2, record=("accuracy",), select="accuracy")
    mask = np.arange(len(y)) < 30
    a, _ = train_single(x, y, lengths, config=cfg, train_idx=np.flatnonzero(mask), val_idx=np.flatnonzero(~mask))
    b, _ = train_single(x, y, lengths, config=cfg, train_idx=mask, val_idx=~mask)
    np.testing.assert_array_equal(a.history["val_accuracy"], b.history["val_accuracy"])
    np.testing.assert_array_equal(a.best_params["logits"]["kernel"], b.best_params["logits"]["kernel"])
    for kw, message in ((dict(val_idx=np.arange(30, 40) + 0.5), "val_idx must be a 1-D array of row numbers"),
                        (dict(val_idx=mask[:-1]), r"val_idx must be a 1-D array of row numbers .* shape \(39,\)"),
                        (dict(train_idx=np.array([0, 1, -1])), r"train_idx must be in \[0, 39\] \(40 rows\), got -1")):
        with pytest.raises(ValueError, match=message):
            train_single(x, y, lengths, config=cfg, **kw)


@pytest.mark.parametrize("hp", [dict(noise_std=0.5), dict(dropout=0.3), dict(dropout=0.3, noise_std=0.5)])
def test_time_padding_does_not_change_training_with_noise_or_dropout_between_layers(hp):
    """A ragged subset pads to its own longest row, a sweep to the longest of
    all: the same rows padded 4 steps further train the same model. Until
    2026-12-04 input noise and the dropout between stacked layers were drawn
    batch-major, so a step's draws moved with the padded length (params
    differed by ~6e-3)."""
    x, lengths, y = _toy(n=16)
    x_long = np.concatenate([x, np.zeros((16, 4, 3), np.float32)], axis=1)
    cfg = TrainConfig(ModelConfig(3, 3, hidden_sizes=(4, 4)), batch_size=8, epochs=2, record=("accuracy",),
                      select="accuracy")
    fits = [train_single(v, y, lengths, config=cfg, hparams=make_hparams(3, **hp), train_idx=np.arange(12),
                         val_idx=np.arange(12, 16))[0] for v in (x, x_long)]
    for a, b in zip(jax.tree.leaves(fits[0].params), jax.tree.leaves(fits[1].params), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_input_noise_is_gaussian_noise_on_the_training_batch_only():
    """noise_std adds ``noise_std * N(0, 1)`` to every input value of a training
    batch (its own key: the dropout masks stay the same); predictions never see it."""
    x, lengths, y = _toy()
    hp = make_hparams(3, dropout=0.3, noise_std=0.5)
    state = init_state(MODEL, hp, jnp.ones(3), jax.random.key(0))
    rng = jax.random.key(7)
    # drawn time-major (step t's draws do not depend on the batch's padded length)
    noise = np.swapaxes(np.asarray(jax.random.normal(jax.random.fold_in(rng, 1), (x.shape[1], x.shape[0], 3))), 0, 1)
    assert abs(noise.std() - 1) < 0.1
    noisy, _ = _loss_fn(state.params, MODEL, _batch(x, lengths, y), hp, jnp.ones(3), rng)
    by_hand, _ = _loss_fn(state.params, MODEL, _batch(x + 0.5 * noise, lengths, y),
                          hp._replace(noise_std=jnp.float32(0)), jnp.ones(3), rng)
    clean, _ = _loss_fn(state.params, MODEL, _batch(x, lengths, y), hp._replace(noise_std=jnp.float32(0)),
                        jnp.ones(3), rng)
    np.testing.assert_allclose(noisy, by_hand, rtol=1e-5)
    assert abs(float(noisy) - float(clean)) > 1e-4
    cfg = TrainConfig(MODEL, epochs=2, record=("accuracy",), select="accuracy")
    a, _ = train_single(x, y, lengths, config=cfg, hparams=hp)
    assert not np.allclose(a.params["logits"]["kernel"],
                           train_single(x, y, lengths, config=cfg, hparams=make_hparams(3, dropout=0.3))[0]
                           .params["logits"]["kernel"])
    p1 = predict_proba(a.params, MODEL, a.scaler, x, lengths)
    np.testing.assert_array_equal(p1, predict_proba(a.params, MODEL, a.scaler, x, lengths))
    # a scaler of the wrong width failed with JAX's broadcasting error
    from jaxlstm.features import identity_scaler

    with pytest.raises(ValueError, match=r"scaler.offset has shape \(2,\), but the model reads 3 channels"):
        predict_proba(a.params, MODEL, identity_scaler(2), x, lengths)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="noise_std"):
        make_hparams(3, noise_std=-0.1)
    with pytest.raises(ValueError, match="noise_std"):
        make_hparams(3, noise_std=float("inf"))
    with pytest.raises(ValueError, match="dropout"):
        make_hparams(3, dropout=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        make_hparams(3, learning_rate=-1)
    with pytest.raises(ValueError, match="class_weights"):
        make_hparams(3, class_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="class_weights gives every class weight 0"):
        make_hparams(3, class_weights=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="class_weights gives every class weight 0"):  # one member of a sweep
        make_hparams(3, class_weights=[[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    assert make_hparams(3, class_weights=[0.0, 1.0, 0.0]).class_weights.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="unknown metric"):
        TrainConfig(MODEL, select="f2")


def _np_remedy_loss(logits, y, prior, tau, gamma, w):
    """float64 reference: focal loss (Lin et al.) of logits + tau * log(prior)
    (Menon et al.), alpha = the class weights; the mean over the rows."""
    z = np.asarray(logits, np.float64) + tau * np.log(prior)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    lpt = logp[np.arange(len(y)), y]
    return np.mean(-w[y] * (1 - np.exp(lpt)) ** gamma * lpt)


def test_remedies_in_the_training_loss_equal_the_published_formulas():
    """With tau, gamma and beta set, the training loss is the focal loss of the
    logit-adjusted logits weighted by effective-number weights, with the prior
    and counts of the fold's training rows (NumPy float64 reference)."""
    from jaxlstm.model import LSTMClassifierNet

    x, lengths, y = _toy(n=30)
    tr = np.arange(20)  # the fold's training rows
    tau, gamma, beta = 1.0, 2.0, 0.9
    hp = make_hparams(3, logit_adjust_tau=tau, focal_gamma=gamma, class_weight_beta=beta)
    split = Split(jnp.asarray(tr), jnp.ones(20, bool), jnp.asarray(np.arange(20, 30)), jnp.ones(10, bool))
    cfg = TrainConfig(MODEL, batch_size=8, epochs=1, record=("accuracy",), select="accuracy", normalize=None)
    res = jax.jit(fit, static_argnames="config")(x, lengths, y, split, hp, jax.random.key(0), config=cfg)
    counts = np.bincount(y[tr], minlength=3).astype(np.float64)
    w = (1 - beta) / (1 - beta ** counts)
    w = w * 3 / w.sum()
    np.testing.assert_allclose(res.class_weights, w, rtol=1e-5)
    np.testing.assert_allclose(res.state.class_prior, counts / counts.sum(), rtol=1e-6)
    params = res.params
    batch = _batch(x, lengths, y)
    hp0 = hp._replace(dropout=jnp.float32(0))
    loss, _ = _loss_fn(params, MODEL, batch, hp0, res.class_weights, jax.random.key(1), res.state.class_prior)
    logits = LSTMClassifierNet(MODEL).apply({"params": params}, jnp.asarray(x), jnp.asarray(lengths))
    ref = _np_remedy_loss(logits, y, counts / counts.sum(), tau, gamma, w)
    np.testing.assert_allclose(loss, ref, rtol=2e-5)
    plain, _ = _loss_fn(params, MODEL, batch, hp0._replace(logit_adjust_tau=jnp.float32(0),
                                                           focal_gamma=jnp.float32(0)),
                        res.class_weights, jax.random.key(1), res.state.class_prior)
    np.testing.assert_allclose(plain, _np_remedy_loss(logits, y, counts, 0.0, 0.0, w), rtol=2e-5)


def test_remedies_at_their_defaults_leave_training_bit_identical():
    x, lengths, y = _toy()
    cfg = TrainConfig(MODEL, batch_size=8, epochs=2, record=("accuracy",), select="accuracy")
    hp = make_hparams(3, learning_rate=1e-2, class_weight_exponent=1.0)
    explicit = make_hparams(3, learning_rate=1e-2, class_weight_exponent=1.0, logit_adjust_tau=0.0,
                            focal_gamma=0.0, class_weight_beta=0.0)
    a, _ = train_single(x, y, lengths, config=cfg, hparams=hp)
    b, _ = train_single(x, y, lengths, config=cfg, hparams=explicit)
    jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
    c, _ = train_single(x, y, lengths, config=cfg, hparams=hp._replace(focal_gamma=jnp.float32(2)))
    assert not np.array_equal(a.params["logits"]["kernel"], c.params["logits"]["kernel"])


def test_balanced_sampling_draws_by_class_weight_and_ignores_padding():
    from jaxlstm.train import _sampled_order

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(60), np.ones(15), np.full(5, 2)].astype(np.int32)
    idx = jnp.asarray(rng.permutation(80).astype(np.int32))
    key = jax.random.key(3)
    for e in (0.5, 1.0):
        got, mask = _sampled_order(idx, jnp.ones(80, bool), jnp.asarray(y), 3, jnp.float32(e), 16, key)
        # the reference, in NumPy from the same draws: the class by inverse CDF of count ** (1 - e), then a
        # uniform row of that class (rows of a class in index order)
        counts = np.bincount(y, minlength=3)
        cdf = np.cumsum(counts.astype(np.float32) ** np.float32(1 - e))
        rows_of = [np.asarray(idx)[y[np.asarray(idx)] == c] for c in range(3)]
        ref = []
        for j in range(80):
            k1, k2 = jax.random.split(jax.random.fold_in(key, j))
            c = min(int(np.searchsorted(cdf, np.float32(jax.random.uniform(k1)) * cdf[-1], side="right")), 2)
            ref.append(rows_of[c][int(jax.random.randint(k2, (), 0, counts[c]))])
        np.testing.assert_array_equal(np.asarray(got).ravel()[:80], ref)
        assert np.asarray(mask).sum() == 80
        # padding the index array (as a sweep pads folds) draws the same rows
        padded, pmask = _sampled_order(jnp.pad(idx, (0, 20)), jnp.arange(100) < 80, jnp.asarray(y), 3,
                                       jnp.float32(e), 16, key)
        np.testing.assert_array_equal(np.asarray(padded).ravel()[:80], ref)
        assert np.asarray(pmask).sum() == 80
    freq = np.bincount(y[np.asarray(got).ravel()[:80]], minlength=3) / 80  # e = 1: about a third each
    assert np.all(np.abs(freq - 1 / 3) < 0.15)


def test_balanced_sampling_keeps_rows_of_a_class_equally_likely_at_two_million_rows():
    # the probability of each row, by class: the mean draw count of a row of class c over many draws, and its
    # spread; until 2026-12-04 a float32 cumulative sum over 2e6 rows gave rows of one class 0.6x-1x chances
    from jaxlstm.train import _sampled_order

    n = 2_000_000
    y = (np.arange(n) % 4 == 0).astype(np.int32)  # class 1: a quarter of the rows
    idx = jnp.arange(n, dtype=jnp.int32)
    got, _ = jax.jit(_sampled_order, static_argnums=(3, 5))(idx, jnp.ones(n, bool), jnp.asarray(y), 2,
                                                              jnp.float32(1.0), 1000, jax.random.key(0))
    hits = np.bincount(np.asarray(got).ravel(), minlength=n)
    assert abs(hits[y == 1].sum() / n - 0.5) < 0.002  # balanced: half the draws from each class
    # within a class the draws are uniform: the rows' hit counts of the first and the second half of class 0
    # agree (the old rule drifted with the position in the cumulative sum)
    zero = np.flatnonzero(y == 0)
    a, b = hits[zero[: len(zero) // 2]].mean(), hits[zero[len(zero) // 2:]].mean()
    assert abs(a / b - 1) < 0.01


def test_sampling_and_augmentation_in_a_vmapped_program_equal_each_run_alone():
    x, lengths, y = (jnp.asarray(a) for a in _toy(n=48, t=7))
    split = Split(jnp.arange(36), jnp.ones(36, bool), jnp.arange(36, 48), jnp.ones(12, bool))
    cfg = TrainConfig(MODEL, batch_size=16, epochs=2, record=("f1_macro",))
    settings = [dict(), dict(sampling_exponent=1.0), dict(augment_scale=0.2, augment_warp=0.2, augment_slice=0.3)]
    hps = [make_hparams(3, **kw) for kw in settings]
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *hps)
    keys = jax.vmap(jax.random.key)(jnp.arange(3))
    together = jax.jit(jax.vmap(lambda h, k: fit(x, lengths, y, split, h, k, cfg)))(stacked, keys)
    for i, hp in enumerate(hps):
        alone = _fit_jit(x, lengths, y, split, hp, jax.random.key(i), config=cfg)
        np.testing.assert_allclose(together.history["train_loss"][i], alone.history["train_loss"], atol=1e-5)
    losses = together.history["train_loss"][:, 0]
    assert losses[0] != losses[1] and losses[0] != losses[2]  # each setting trains differently
    for name, bad in (("sampling_exponent", 1.5), ("augment_slice", 1.0), ("augment_warp", -0.1)):
        with pytest.raises(ValueError, match=f"{name} must be"):
            make_hparams(3, **{name: bad})


def test_compiler_options_choose_the_faster_compiling_cpu_code_generator_and_train_the_same(monkeypatch):
    """On CPU jaxlstm's programs compile with XLA's element-wise code generator
    (``xla_cpu_use_fusion_emitters=False``; compile time 0.58-0.72x, RESULTS.md)
    where this jaxlib has the option; a fit (LSTM-FCN over time, a remedy, the
    scaler) equals the same fit compiled with the fusion emitters."""
    from jaxlstm import train

    for name in ("JAXLSTM_XLA_OPT_LEVEL", "JAXLSTM_XLA_FUSION_EMITTERS"):  # the defaults, whatever the caller set
        monkeypatch.delenv(name, raising=False)
    assert train.compiler_options() == {"xla_backend_optimization_level": 2, "xla_cpu_use_fusion_emitters": False}
    assert train._xla_accepts("xla_cpu_no_such_option_in_any_jaxlib", False) is False  # a jaxlib without it
    monkeypatch.setenv("JAXLSTM_XLA_FUSION_EMITTERS", "1")
    assert train.compiler_options() == {"xla_backend_optimization_level": 2}
    monkeypatch.delenv("JAXLSTM_XLA_FUSION_EMITTERS")
    x, lengths, y = _toy(n=48, t=8)
    model = ModelConfig(num_features=3, num_classes=3, hidden_sizes=(8,), conv_filters=(4,), conv_kernel_sizes=(3,))
    cfg = TrainConfig(model, batch_size=8, epochs=4, record=("accuracy",), select="accuracy")
    split = Split(jnp.arange(32), jnp.ones(32, bool), jnp.arange(32, 48), jnp.ones(16, bool))
    hp = make_hparams(3, learning_rate=3e-2, logit_adjust_tau=1.0)
    shipped = train.compiler_options()  # what jaxlstm's programs compile with, against XLA's default generator
    runs = [jax.jit(fit, static_argnames="config", compiler_options=options)(x, lengths, y, split, hp,
                                                                            jax.random.key(0), config=cfg)
            for options in (shipped, {**shipped, "xla_cpu_use_fusion_emitters": True})]
    assert not np.allclose(runs[0].history["train_loss"][0], runs[0].history["train_loss"][-1])  # it trained
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), runs[0].params, runs[1].params)
    np.testing.assert_allclose(runs[0].history["val_accuracy"], runs[1].history["val_accuracy"])


def test_compiler_options_and_lstm_impl_set_later_in_the_process_take_effect(monkeypatch):
    """A program compiled with one JAXLSTM_XLA_OPT_LEVEL or JAXLSTM_LSTM_IMPL
    is not reused after it changes in the same process (it was: the jit and the
    compiled programs were kept by config and shapes alone)."""
    from jaxlstm import train

    x, lengths, y = _toy(n=16, t=4)
    cfg = TrainConfig(ModelConfig(num_features=3, num_classes=3, hidden_sizes=(4,)), batch_size=8, epochs=1)
    keys = []
    for level, impl in (("1", "scan"), ("0", "scan"), ("0", "auto")):
        monkeypatch.setenv("JAXLSTM_XLA_OPT_LEVEL", level)
        monkeypatch.setenv("JAXLSTM_LSTM_IMPL", impl)
        before = set(train._compiled)
        result, _ = train_single(x, y, lengths, config=cfg)
        (key,) = set(train._compiled) - before  # compiled anew, not read from the other setting's program
        options, used_impl = key[-1]
        keys.append((dict(options)["xla_backend_optimization_level"], used_impl))
        train.predict_proba(result.params, cfg.model, result.scaler, x, lengths)  # prediction: one program each
    assert keys == [(1, "scan"), (0, "scan"), (0, "auto")]
    assert train.program_key() in train.probabilities._jits and len(train.probabilities._jits) >= 3


def test_a_program_without_the_optional_parts_its_run_leaves_off_trains_the_same_model():
    """TrainConfig.parts leaves out of the compiled program the optional parts
    (input noise, augmentation, balanced sampling, the remedied loss) that a
    run's hyperparameters never turn on: the models must be those the full
    program trains, with and without some parts on."""
    import dataclasses

    from jaxlstm.train import OPTIONAL_PARTS, parts_used

    x, lengths, y = _toy()
    split = Split(jnp.arange(30), jnp.ones(30, bool), jnp.arange(30, 40), jnp.ones(10, bool))
    full = TrainConfig(MODEL, batch_size=8, epochs=3)
    assert full.parts == set(OPTIONAL_PARTS)
    args = (jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(y), split)
    for hp, used in ((make_hparams(3, learning_rate=1e-2, dropout=0.2), set()),
                     (make_hparams(3, learning_rate=1e-2, noise_std=0.3, sampling_exponent=0.5),
                      {"input_noise", "balanced_sampling"})):
        assert parts_used(hp) == used
        a = _fit_jit(*args, hp, jax.random.key(0), config=full)
        b = _fit_jit(*args, hp, jax.random.key(0), config=dataclasses.replace(full, parts=used))
        for u, v in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
            np.testing.assert_allclose(u, v, atol=1e-6)
        np.testing.assert_allclose(a.history["train_loss"], b.history["train_loss"], rtol=1e-6)
    assert parts_used({"augment_warp": 0.2, "focal_gamma": [0.0, 2.0]}) == {"augmentation", "loss_remedy"}
    assert parts_used({"noise_std": np.nan}) == {"input_noise"}  # whatever the step would do with it, kept
    with pytest.raises(ValueError, match=r"config.parts leaves out \['balanced_sampling'\]"):
        train_single(x, y, lengths, config=dataclasses.replace(full, parts=()),
                     hparams=make_hparams(3, sampling_exponent=1.0))
    with pytest.raises(ValueError, match=r"TrainConfig.parts: unknown \['noise'\]"):
        TrainConfig(MODEL, parts={"noise"})


def test_sample_weights_multiply_each_rows_loss_as_kerass_sample_weight(shipped_compiler_options):
    """The training loss with sample weights is sum(w_b * cw[y_b] * nll_b) /
    valid rows (float64 reference); a zero weight removes the row's gradient;
    weights of ones train bit-identically to none; fit uses them."""
    from jaxlstm.model import LSTMClassifierNet

    x, lengths, y = _toy(n=30)
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 3, 30).astype(np.float32)
    w[[2, 7]] = 0.0
    cw = jnp.asarray([1.0, 2.0, 0.5])
    params = init_state(MODEL, make_hparams(3), cw, jax.random.key(0)).params
    hp = make_hparams(3, class_weights=[1.0, 2.0, 0.5])
    batch = {**_batch(x, lengths, y), "w": jnp.asarray(w)}
    loss, data_loss = _loss_fn(params, MODEL, batch, hp, cw, jax.random.key(1))
    logits = np.asarray(LSTMClassifierNet(MODEL).apply({"params": params}, jnp.asarray(x), jnp.asarray(lengths)),
                        np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    ref = np.sum(w * np.asarray(cw, np.float64)[y] * -logp[np.arange(30), y]) / 30
    np.testing.assert_allclose(data_loss, ref, rtol=2e-6)
    # a zero weight is the row left out of the sum, not out of the count: its gradient times 30/28 is the
    # gradient with the two rows masked (their weights are 0; the others' the same)
    keep = w > 0
    g_w = jax.grad(lambda p: _loss_fn(p, MODEL, batch, hp, cw, jax.random.key(1))[1])(params)
    masked = {**_batch(x, lengths, y, keep), "w": jnp.asarray(w)}
    g_m = jax.grad(lambda p: _loss_fn(p, MODEL, masked, hp, cw, jax.random.key(1))[1])(params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a * 30 / 28, b, rtol=2e-5, atol=1e-7), g_w, g_m)

    cfg = TrainConfig(MODEL, batch_size=8, epochs=2, record=("accuracy",), select="accuracy")
    a, _ = train_single(x, y, lengths, config=cfg, hparams=hp)
    b, _ = train_single(x, y, lengths, config=cfg, hparams=hp, sample_weight=np.ones(30))
    jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
    c, _ = train_single(x, y, lengths, config=cfg, hparams=hp, sample_weight=w)
    assert not np.array_equal(a.params["logits"]["kernel"], c.params["logits"]["kernel"])
    d, _ = train_single(x, y, lengths, config=cfg, hparams=hp, sample_weight=2 * w)  # the loss doubles, Adam
    jax.tree.map(lambda p, q: np.testing.assert_allclose(p, q, atol=2e-5), c.params, d.params)  # barely moves
    for bad, match in [(np.ones(29), r"sample_weight must have shape \(30,\)"),
                       (np.r_[np.ones(29), -1.0], "sample_weight must be finite, >= 0 .*; row 29 has -1.0"),
                       (np.r_[np.nan, np.ones(29)], "row 0 has nan"),
                       (np.r_[np.ones(29), 1e39], "within float32's range; row 29"),
                       (["a"] * 30, "sample_weight must hold numbers"),
                       (np.zeros(30), "sample_weight is zero on every training row"),
                       (np.full(30, 1e-46), r"zero on every training row \(in float32"),
                       (np.full(30, 1e-40), r"below 1.18e-38 counts as 0")]:  # subnormal: XLA:CPU flushes it
        with pytest.raises(ValueError, match=match):
            train_single(x, y, lengths, config=cfg, hparams=hp, sample_weight=bad)
    with pytest.raises(ValueError, match="sample_weight is zero on every training row"):  # rows 0..9 train
        train_single(x, y, lengths, config=cfg, hparams=hp, sample_weight=np.r_[np.zeros(10), np.ones(20)],
                     train_idx=np.arange(10), val_idx=np.arange(10, 30))
