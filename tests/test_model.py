"""The LSTM classifier against Flax's own cells stepped by hand, padding
invariance, numerical gradients and traced-rate dropout."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxlstm.model import (LSTMClassifierNet, ModelConfig, dropout, init_params, lstm_scan,
                           lstm_scan_reference)

F, C = 3, 4


def _data(seed=0, n=5, t=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t, F)).astype(np.float32)
    lengths = rng.integers(1, t + 1, size=n).astype(np.int32)
    lengths[0] = t  # one full-length row
    lengths[1] = 1  # one single-step row
    return jnp.asarray(x), jnp.asarray(lengths)


def _cell_params(layer, cell):
    """Our fused (F,4H)/(H,4H)/(4H,) weights in the layout of a Flax cell."""
    wx, wh, b = (np.asarray(layer[k]) for k in ("input_kernel", "recurrent_kernel", "bias"))
    h = wh.shape[0]
    p = {}
    for gi, g in enumerate("ifgo"):
        cols = slice(gi * h, (gi + 1) * h)
        p[f"i{g}"] = {"kernel": wx[:, cols]}
        p[f"h{g}"] = {"kernel": wh[:, cols], "bias": b[cols]}
    return {"params": p}


_STEPS = {}


def _run_cell(cell, params, seq):
    """Step a Flax cell over a (T, in) sequence; returns all h_t and final h."""
    hidden = params["params"]["hi"]["kernel"].shape[0]
    carry = (jnp.zeros((1, hidden)), jnp.zeros((1, hidden)))
    outs = []
    step = _STEPS.setdefault(type(cell), jax.jit(cell.apply))
    for t in range(seq.shape[0]):
        carry, h = step(params, carry, seq[t][None])
        outs.append(h[0])
    return jnp.stack(outs), carry[1][0]


def _reference_logits(params, cfg, x, lengths, cell_cls):
    """Row by row, valid steps only, Flax cells stepped in Python."""
    cell = cell_cls(features=1)  # features is taken from the carry
    rows = []
    for b in range(x.shape[0]):
        seq = x[b, : int(lengths[b])]
        for depth in range(len(cfg.hidden_sizes)):
            fwd_out, fwd_h = _run_cell(cell, _cell_params(params[f"lstm_{depth}_fwd"], cell), seq)
            if cfg.bidirectional:
                bwd_out, bwd_h = _run_cell(cell, _cell_params(params[f"lstm_{depth}_bwd"], cell), seq[::-1])
                seq = jnp.concatenate([fwd_out, bwd_out[::-1]], axis=-1)
                final = jnp.concatenate([fwd_h, bwd_h])
            else:
                seq, final = fwd_out, fwd_h
        z = final
        if cfg.head_size:
            z = jax.nn.relu(z @ params["head"]["kernel"] + params["head"]["bias"])
        rows.append(z @ params["logits"]["kernel"] + params["logits"]["bias"])
    return jnp.stack(rows)


CONFIGS = [
    ModelConfig(F, C, (6,)),
    ModelConfig(F, C, (5, 4), head_size=3),
    ModelConfig(F, C, (4,), bidirectional=True),
    ModelConfig(F, C, (4, 3), bidirectional=True, head_size=5),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"h{c.hidden_sizes}-bi{int(c.bidirectional)}-head{c.head_size}")
@pytest.mark.parametrize("cell_cls", [nn.OptimizedLSTMCell, nn.LSTMCell], ids=["optimized", "plain"])
def test_equals_flax_cells_stepped_by_hand(cfg, cell_cls):
    x, lengths = _data()
    params = init_params(cfg, jax.random.key(1))
    ours = jax.jit(LSTMClassifierNet(cfg).apply)({"params": params}, x, lengths)
    ref = _reference_logits(params, cfg, x, lengths, cell_cls)
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cfg", CONFIGS[:3], ids=["uni", "stacked-head", "bi"])
def test_garbage_after_lengths_changes_nothing(cfg):
    x, lengths = _data(seed=2)
    params = init_params(cfg, jax.random.key(3))
    apply = jax.jit(lambda p, x, lengths: LSTMClassifierNet(cfg).apply({"params": p}, x, lengths))
    grad = jax.jit(jax.grad(lambda p, x, lengths: apply(p, x, lengths).sum()))
    clean = apply(params, x, lengths)
    pad = ~(jnp.arange(x.shape[1])[None, :] < lengths[:, None])
    for garbage in (1e6, jnp.nan, jnp.inf):
        dirty = jnp.where(pad[..., None], garbage, x)
        np.testing.assert_array_equal(apply(params, dirty, lengths), clean)
        # and the gradient stays finite: padding cannot poison training
        g = grad(params, dirty, lengths)
        assert all(bool(jnp.all(jnp.isfinite(v))) for v in jax.tree.leaves(g))
    # appending extra padded steps changes nothing either
    longer = jnp.concatenate([x, jnp.full((x.shape[0], 3, F), 7.0)], axis=1)
    np.testing.assert_allclose(apply(params, longer, lengths), clean, atol=1e-6)


def test_each_row_is_independent_of_the_batch():
    cfg = CONFIGS[2]
    x, lengths = _data(seed=4)
    params = init_params(cfg, jax.random.key(0))
    apply = jax.jit(LSTMClassifierNet(cfg).apply)
    batch = apply({"params": params}, x, lengths)
    for b in range(x.shape[0]):
        alone = apply({"params": params}, x[b : b + 1, : int(lengths[b])], lengths[b : b + 1])
        np.testing.assert_allclose(alone[0], batch[b], atol=1e-5)


def test_gradients_match_finite_differences():
    cfg = ModelConfig(2, 3, (3,), bidirectional=True, head_size=2)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 4, 2)))
    lengths = jnp.array([4, 2])
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), init_params(cfg, jax.random.key(0)))
        x64 = jnp.asarray(x, jnp.float64)
        net = LSTMClassifierNet(cfg)

        @jax.jit
        def loss(p):
            logits = net.apply({"params": p}, x64, lengths)
            return jnp.sum(jax.nn.log_softmax(logits)[:, 0])

        check_grads(loss, (params,), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


def test_lstm_scan_masks_state_and_outputs():
    rng = np.random.default_rng(5)
    xp = jnp.asarray(rng.normal(size=(2, 5, 8)), jnp.float32)
    wh = jnp.asarray(rng.normal(size=(2, 8)), jnp.float32)
    mask = jnp.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    ys, (c, h) = lstm_scan(xp, wh, mask)
    np.testing.assert_array_equal(ys[0, 3:], 0.0)
    np.testing.assert_allclose(h[0], ys[0, 2], atol=1e-7)
    np.testing.assert_allclose(h[1], ys[1, 4], atol=1e-7)
    with jax.enable_x64(True):  # until 2026-12-07 lax.scan's "carry input and carry output must have equal types"
        for scan in (lstm_scan, lstm_scan_reference):
            with pytest.raises(ValueError, match="x_proj is float32 but recurrent_kernel is float64: give both one"):
                scan(xp, jnp.asarray(wh, jnp.float64), mask)


def test_fused_backward_equals_autodiff():
    """The hand-written LSTM backward pass against autodiff of the same scan:
    gradients w.r.t. the input projection and the recurrent kernel, through
    outputs and both final states, with ragged masks, alone and vmapped."""
    rng = np.random.default_rng(6)
    b, t, h = 5, 9, 6
    xp = jnp.asarray(rng.normal(size=(b, t, 4 * h)), jnp.float32)
    wh = jnp.asarray(rng.normal(size=(h, 4 * h)) * 0.5, jnp.float32)
    mask = jnp.arange(t)[None, :] < jnp.array([9, 1, 4, 7, 2])[:, None]
    wy = jnp.asarray(rng.normal(size=(b, t, h)), jnp.float32)

    def loss(fn):
        def f(xp, wh):
            ys, (c, hh) = fn(xp, wh, mask)
            return jnp.sum(ys * wy) + jnp.sum(jnp.sin(c)) + jnp.sum(hh**2)
        return f

    ref = jax.grad(loss(lstm_scan_reference), argnums=(0, 1))(xp, wh)
    got = jax.grad(loss(lstm_scan), argnums=(0, 1))(xp, wh)
    for a, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(g, a, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(lstm_scan(xp, wh, mask)[0], lstm_scan_reference(xp, wh, mask)[0])
    many = jax.vmap(jax.grad(loss(lstm_scan), argnums=1), in_axes=(None, 0))(xp, jnp.stack([wh, 2 * wh]))
    np.testing.assert_allclose(many[0], got[1], atol=1e-6)


def test_model_gradients_equal_with_either_backward():
    rng = np.random.default_rng(7)
    x = jnp.asarray(rng.normal(size=(4, 6, 3)), jnp.float32)
    lengths = jnp.array([6, 2, 4, 1])
    grads = []
    for how in ("fused", "autodiff"):
        cfg = ModelConfig(3, 4, (5,), bidirectional=True, lstm_backward=how)
        params = init_params(cfg, jax.random.key(0))
        net = LSTMClassifierNet(cfg)
        grads.append(jax.grad(lambda p: jnp.sum(jnp.tanh(net.apply({"params": p}, x, lengths))))(params))
    for a, b in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(grads[1]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


def test_dropout_rate_zero_is_identity_and_rate_r_keeps_about_1_minus_r():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(200, 500)), jnp.float32)
    key = jax.random.key(0)
    np.testing.assert_array_equal(dropout(x, 0.0, key), x)
    np.testing.assert_array_equal(dropout(x, 0.7, None), x)
    f = jax.jit(dropout)  # the rate is a traced argument
    for r in (0.1, 0.5, 0.8):
        y = f(x, jnp.float32(r), key)
        kept = y != 0
        assert abs(float(kept.mean()) - (1 - r)) < 0.01
        np.testing.assert_allclose(y[kept], x[kept] / (1 - r), rtol=1e-6)
    # vmapped over per-member rates, as in a sweep
    rates = jnp.array([0.0, 0.25, 0.5, 0.75])
    ys = jax.vmap(dropout, in_axes=(None, 0, None))(x, rates, key)
    np.testing.assert_allclose((ys != 0).mean(axis=(1, 2)), 1 - rates, atol=0.01)
    np.testing.assert_array_equal(dropout(x, 1.0, key), 0.0)


def test_network_dropout_traced_rate_zero_equals_deterministic():
    cfg = ModelConfig(F, C, (4, 4), head_size=3)
    x, lengths = _data()
    params = init_params(cfg, jax.random.key(0))
    net = LSTMClassifierNet(cfg)
    det = net.apply({"params": params}, x, lengths)

    @jax.jit
    def stochastic(rate):
        return net.apply({"params": params}, x, lengths, dropout_rate=rate, deterministic=False,
                         rngs={"dropout": jax.random.key(1)})

    np.testing.assert_allclose(stochastic(jnp.float32(0.0)), det, atol=1e-6)
    assert not np.allclose(stochastic(jnp.float32(0.5)), det)


def test_keras_initialisation():
    params = init_params(ModelConfig(F, C, (4,)), jax.random.key(0))
    b = np.asarray(params["lstm_0_fwd"]["bias"])
    np.testing.assert_array_equal(b, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])  # forget bias 1
    wh = np.asarray(params["lstm_0_fwd"]["recurrent_kernel"])
    np.testing.assert_allclose(wh @ wh.T, np.eye(4), atol=1e-5)  # orthogonal rows


def test_bad_config_and_input_shapes():
    with pytest.raises(ValueError, match="hidden_sizes"):
        ModelConfig(F, C, (0,))
    with pytest.raises(ValueError, match="num_classes"):
        ModelConfig(F, 1)
    cfg = ModelConfig(F, C, (4,))
    params = init_params(cfg, jax.random.key(0))
    with pytest.raises(ValueError, match="shape"):
        LSTMClassifierNet(cfg).apply({"params": params}, jnp.zeros((2, 3, F + 1)), jnp.ones(2, jnp.int32))


def test_bfloat16_matmuls_round_operands_and_keep_float32_state():
    """Mixed precision: the recurrent matmul's operands are bfloat16 (visible
    in the program), states and results stay float32, values move by about
    bfloat16's rounding, and the fused backward still matches autodiff of the
    float32 scan to bfloat16 accuracy."""
    rng = np.random.default_rng(8)
    b, t, h = 4, 7, 8
    xp = jnp.asarray(rng.normal(size=(b, t, 4 * h)), jnp.float32)
    wh = jnp.asarray(rng.normal(size=(h, 4 * h)) * 0.5, jnp.float32)
    mask = jnp.arange(t)[None, :] < jnp.array([7, 3, 5, 1])[:, None]
    text = str(jax.make_jaxpr(lambda a, w: lstm_scan(a, w, mask, "bfloat16"))(xp, wh))
    assert "bf16" in text and "preferred_element_type=float32" in text
    assert "bf16" not in str(jax.make_jaxpr(lambda a, w: lstm_scan(a, w, mask))(xp, wh))
    ys32, (c32, _) = lstm_scan(xp, wh, mask)
    ys16, (c16, _) = lstm_scan(xp, wh, mask, "bfloat16")
    assert ys16.dtype == c16.dtype == jnp.float32
    np.testing.assert_array_equal(ys16, lstm_scan_reference(xp, wh, mask, "bfloat16")[0])
    diff = float(jnp.max(jnp.abs(ys16 - ys32)))
    assert 0 < diff < 3e-2  # rounding to 8 mantissa bits, not a different function

    def loss(dtype):
        return lambda a, w: jnp.sum(jnp.sin(lstm_scan(a, w, mask, dtype)[0]))

    g32 = jax.grad(loss("float32"), argnums=(0, 1))(xp, wh)
    g16 = jax.grad(loss("bfloat16"), argnums=(0, 1))(xp, wh)
    for a, g in zip(g32, g16, strict=True):
        assert g.dtype == jnp.float32
        np.testing.assert_allclose(g, a, atol=3e-2 * float(jnp.max(jnp.abs(a))))
    with pytest.raises(ValueError, match="matmul_dtype"):
        ModelConfig(3, 2, matmul_dtype="float16")


def test_conv_branch_equals_a_numpy_reference_and_ignores_padding():
    """LSTM-FCN's branch: masked 'same' convolutions + ReLU + mean over valid
    steps, concatenated with the LSTM's final state, checked against float64
    NumPy; NaN padding and extra padded steps change nothing."""
    cfg = ModelConfig(3, 4, (5,), conv_filters=(6, 7))
    assert cfg.conv_kernel_sizes == (8, 5)  # LSTM-FCN's widths by default
    params = init_params(cfg, jax.random.key(1))
    net = LSTMClassifierNet(cfg)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(3, 9, 3)).astype(np.float32)
    lengths = np.array([9, 4, 1])
    x[1, 4:] = np.nan
    x[2, 1:] = np.nan

    def conv_same(h, w, b):  # flax 'SAME': left pad (k - 1) // 2, right pad k // 2
        k = w.shape[0]
        hp = np.pad(h, (((k - 1) // 2, k // 2), (0, 0)))
        return np.stack([np.einsum("kf,kfg->g", hp[t:t + k], w) for t in range(len(h))]) + b

    p64 = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
    feats = []
    for i in range(3):
        h = x[i, : lengths[i]].astype(np.float64)
        for k in range(2):
            h = np.maximum(conv_same(h, p64[f"conv_{k}"]["kernel"], p64[f"conv_{k}"]["bias"]), 0)
        feats.append(h.mean(axis=0))
    got = net.apply({"params": params}, jnp.asarray(x), jnp.asarray(lengths))
    # Take the LSTM's contribution from the model itself (zero the conv part of the logits kernel).
    w = np.asarray(params["logits"]["kernel"], np.float64)
    no_conv = {**params, "logits": {"kernel": params["logits"]["kernel"].at[5:].set(0.0),
                                    "bias": params["logits"]["bias"]}}
    lstm_part = np.asarray(net.apply({"params": no_conv}, jnp.asarray(x), jnp.asarray(lengths)), np.float64)
    want = lstm_part + np.stack(feats) @ w[5:]
    np.testing.assert_allclose(got, want, atol=1e-5)
    longer = np.concatenate([x, np.full((3, 4, 3), np.inf, np.float32)], axis=1)
    np.testing.assert_allclose(net.apply({"params": params}, jnp.asarray(longer), jnp.asarray(lengths)), got,
                               atol=1e-6)
    # a row of length 0 (a batch's padding row) reads as all-zero features: finite, not 0/0, gradients too
    zero = net.apply({"params": params}, jnp.asarray(x), jnp.asarray([9, 4, 0]))
    np.testing.assert_allclose(zero[:2], got[:2], atol=1e-6)
    bias_only = {**params, "logits": {"kernel": params["logits"]["kernel"].at[5:].set(0.0),
                                      "bias": params["logits"]["bias"]}}
    np.testing.assert_allclose(zero[2], net.apply({"params": bias_only}, jnp.asarray(x), jnp.asarray([9, 4, 0]))[2],
                               atol=1e-6)
    grads = jax.grad(lambda p: net.apply({"params": p}, jnp.asarray(x), jnp.asarray([9, 4, 0])).sum())(params)
    assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grads))
    with pytest.raises(ValueError, match="one width per conv block"):
        ModelConfig(3, 4, conv_filters=(4, 4), conv_kernel_sizes=(3,))


def test_lstm_over_channels_is_the_time_lstm_on_the_transposed_series():
    """MLSTM-FCN's dimension shuffle: the LSTM reads one step per channel, each
    step that channel's zero-padded series of max_length values. It equals a
    plain LSTM with max_length inputs run over the transposed input for F
    steps; padding (NaN, extra steps) changes nothing."""
    cfg = ModelConfig(3, 4, (5,), lstm_over="channels", max_length=8)
    params = init_params(cfg, jax.random.key(2))
    assert params["lstm_0_fwd"]["input_kernel"].shape == (8, 20)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 6, 3)).astype(np.float32)
    lengths = np.array([6, 4, 1])
    x[1, 4:], x[2, 1:] = np.nan, np.inf
    got = LSTMClassifierNet(cfg).apply({"params": params}, jnp.asarray(x), jnp.asarray(lengths))
    clean = np.where(np.arange(6)[None, :, None] < lengths[:, None, None], x, 0.0)
    shuffled = np.swapaxes(np.pad(clean, ((0, 0), (0, 2), (0, 0))), 1, 2)  # (batch, 3 channels, 8)
    plain = LSTMClassifierNet(ModelConfig(8, 4, (5,)))
    want = plain.apply({"params": params}, jnp.asarray(shuffled), jnp.full(3, 3))
    np.testing.assert_allclose(got, want, atol=1e-6)
    longer = np.concatenate([x, np.full((3, 5, 3), np.nan, np.float32)], axis=1)  # 11 > max_length steps
    np.testing.assert_allclose(LSTMClassifierNet(cfg).apply({"params": params}, jnp.asarray(longer),
                                                            jnp.asarray(lengths)), got, atol=1e-6)
    with pytest.raises(ValueError, match=r"sequence 1 has 9 steps but this lstm_over='channels' model reads at most "
                                         r"max_length=8"):
        cfg.check_lengths(np.array([3, 9]))
    with pytest.raises(ValueError, match="needs max_length"):
        ModelConfig(3, 4, lstm_over="channels")
    with pytest.raises(ValueError, match="lstm_over"):
        ModelConfig(3, 4, lstm_over="features")
