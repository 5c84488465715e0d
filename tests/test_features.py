"""Masked scalers against scikit-learn, temporal features against loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from jaxlstm import features


def _ragged(seed=0, n=12, t=9, f=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=3.0, scale=[1.0, 10.0, 0.1, 2.0][:f], size=(n, t, f)).astype(np.float32)
    lengths = rng.integers(1, t + 1, n).astype(np.int32)
    mask = np.arange(t)[None] < lengths[:, None]
    x[~mask] = 1e4  # padding far away: must be ignored
    return x, lengths


def _steps(x, lengths, rows):
    return np.concatenate([x[i, : lengths[i]] for i in rows])


@pytest.mark.parametrize("seed", range(3))
def test_standard_scaler_equals_sklearn_on_valid_steps_of_training_rows(seed):
    x, lengths = _ragged(seed)
    train = np.random.default_rng(seed).random(len(x)) < 0.6
    train[:2] = True
    stats = jax.jit(features.fit_standard_scaler)(x, lengths, train)
    ref = StandardScaler().fit(_steps(x, lengths, np.flatnonzero(train)))
    np.testing.assert_allclose(stats.offset, ref.mean_, rtol=1e-5)
    np.testing.assert_allclose(1 / np.asarray(stats.scale), ref.scale_, rtol=1e-4)
    out = np.asarray(features.apply_scaler(x, lengths, stats))
    np.testing.assert_allclose(_steps(out, lengths, range(len(x))),
                               ref.transform(_steps(x, lengths, range(len(x)))), rtol=1e-4, atol=1e-4)
    mask = np.arange(x.shape[1])[None] < lengths[:, None]
    np.testing.assert_array_equal(out[~mask], 0.0)


def test_minmax_scaler_equals_sklearn():
    x, lengths = _ragged(5)
    train = np.arange(len(x)) % 3 != 0
    stats = features.fit_minmax_scaler(x, lengths, train)
    ref = MinMaxScaler().fit(_steps(x, lengths, np.flatnonzero(train)))
    out = features.apply_scaler(x, lengths, stats)
    np.testing.assert_allclose(_steps(np.asarray(out), lengths, range(len(x))),
                               ref.transform(_steps(x, lengths, range(len(x)))), rtol=1e-5, atol=1e-5)


def test_scalers_fitted_on_no_rows_are_the_identity():
    # until 2026-12-07 fit_minmax_scaler's offset was inf there, so apply_scaler made every step -inf
    x, lengths = _ragged(5)
    for fit in (features.fit_standard_scaler, features.fit_minmax_scaler):
        stats = fit(x, lengths, np.zeros(len(x), bool))
        np.testing.assert_array_equal(stats.offset, 0.0)
        np.testing.assert_array_equal(stats.scale, 1.0)


def test_constant_feature_gets_unit_scale_like_sklearn():
    x = np.ones((4, 3, 2), np.float32) * 5
    x[..., 1] = np.arange(12).reshape(4, 3)
    lengths = np.full(4, 3)
    std = features.fit_standard_scaler(x, lengths)
    mm = features.fit_minmax_scaler(x, lengths)
    assert float(std.scale[0]) == 1.0 and float(mm.scale[0]) == 1.0
    np.testing.assert_allclose(1 / std.scale[1], StandardScaler().fit(x.reshape(-1, 2)).scale_[1], rtol=1e-6)


def test_small_scale_feature_is_scaled_like_sklearn_not_taken_for_constant():
    # std 1e-7 around 0 is a feature, not rounding noise: StandardScaler scales
    # it to unit variance (until 2026-12-04 it was passed through at 1e-7).
    rng = np.random.default_rng(0)
    x = np.stack([rng.normal(0, 1e-7, (8, 10)), rng.normal(3, 1, (8, 10))], -1).astype(np.float32)
    lengths = np.full(8, 10)
    stats = features.fit_standard_scaler(x, lengths)
    ref = StandardScaler().fit(x.reshape(-1, 2))
    np.testing.assert_allclose(1 / np.asarray(stats.scale), ref.scale_, rtol=1e-4)
    out = np.asarray(features.apply_scaler(x, lengths, stats))
    np.testing.assert_allclose(out.reshape(-1, 2), ref.transform(x.reshape(-1, 2)), rtol=1e-3, atol=1e-4)


def test_feature_spread_over_a_few_rounding_steps_is_scaled_like_sklearn():
    # latitude-like: 1e4 + 0.005 N(0, 1) in float32 holds ~35 distinct values,
    # a real signal; until 2026-12-04 (std <= 1.2e-6 |mean| taken for constant)
    # it was passed through at scale 1.
    rng = np.random.default_rng(0)
    x = np.stack([1e4 + 0.005 * rng.standard_normal((20, 10)), rng.normal(3, 1, (20, 10))], -1).astype(np.float32)
    assert len(np.unique(x[..., 0])) > 10
    lengths = np.full(20, 10)
    stats = features.fit_standard_scaler(x, lengths)
    np.testing.assert_allclose(1 / np.asarray(stats.scale), StandardScaler().fit(x.reshape(-1, 2)).scale_, rtol=1e-3)
    mm = features.fit_minmax_scaler(x, lengths)
    np.testing.assert_allclose(1 / np.asarray(mm.scale), np.ptp(x.reshape(-1, 2), axis=0), rtol=1e-6)


def test_scalers_vmap_over_folds():
    x, lengths = _ragged(7)
    folds = jnp.asarray(np.stack([np.arange(len(x)) % 3 != k for k in range(3)]))
    stats = jax.vmap(features.fit_standard_scaler, in_axes=(None, None, 0))(x, lengths, folds)
    for k in range(3):
        ref = StandardScaler().fit(_steps(x, lengths, np.flatnonzero(np.asarray(folds[k]))))
        np.testing.assert_allclose(stats.offset[k], ref.mean_, rtol=1e-5)


def _loop_rolling(x, lengths, window, ddof):
    mean = np.zeros_like(x, dtype=np.float64)
    std = np.zeros_like(x, dtype=np.float64)
    for b in range(x.shape[0]):
        for t in range(lengths[b]):
            w = x[b, max(0, t - window + 1) : t + 1].astype(np.float64)
            mean[b, t] = w.mean(0)
            std[b, t] = w.std(0, ddof=ddof) if len(w) > ddof else 0.0
    return mean, std


@pytest.mark.parametrize("window", [1, 3, 20])
@pytest.mark.parametrize("ddof", [0, 1])
def test_rolling_mean_and_std_respect_lengths(window, ddof):
    x, lengths = _ragged(3)
    ref_mean, ref_std = _loop_rolling(x, lengths, window, ddof)
    np.testing.assert_allclose(features.rolling_mean(x, lengths, window), ref_mean, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(features.rolling_std(x, lengths, window, ddof), ref_std, rtol=1e-4, atol=1e-4)


def test_rolling_std_gradient_is_finite_and_equals_float64_differences():
    # Every sequence's first step is a one-value window (std 0): sqrt's infinite
    # slope there made the whole input gradient NaN.
    x, lengths = _ragged(3)
    x[0, 2:5, 0] = 1.5  # a window of equal values inside a sequence too
    fn = lambda v: jnp.sum(jnp.sin(features.rolling_std(v, lengths, 3, 1)))
    grad = np.asarray(jax.grad(fn)(jnp.asarray(x)))
    assert np.isfinite(grad).all()
    b, f, eps = 1, 1, 1e-3  # central differences at steps where every window has spread
    for t in range(1, lengths[b]):
        up, down = x.astype(np.float64).copy(), x.astype(np.float64).copy()
        up[b, t, f] += eps
        down[b, t, f] -= eps
        ref = lambda v: np.sum(np.sin(_loop_rolling(v, lengths, 3, 1)[1]))
        assert grad[b, t, f] == pytest.approx((ref(up) - ref(down)) / (2 * eps), rel=1e-2, abs=1e-3)


def test_steps_since_event():
    ind = np.array([[0, 1, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]], np.float32)
    lengths = np.array([7, 4, 5])
    got = np.asarray(features.steps_since_event(ind, lengths))
    np.testing.assert_array_equal(got[0], [1, 0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(got[1], [0, 1, 2, 3, 0, 0, 0])  # event at step 6 is padding
    np.testing.assert_array_equal(got[2], [1, 2, 3, 4, 5, 0, 0])
    const = np.asarray(features.steps_since_event(ind, lengths, no_event=-1))
    np.testing.assert_array_equal(const[2, :5], -1)
    # several indicator channels at once
    both = np.asarray(features.steps_since_event(np.stack([ind, 1 - ind], -1), lengths))
    np.testing.assert_array_equal(both[..., 0], got)


def test_pad_sequences_roundtrip_and_errors():
    seqs = [np.ones((3, 2)), np.zeros((5, 2)), np.full((1, 2), 7.0)]
    x, lengths = features.pad_sequences(seqs)
    assert x.shape == (3, 5, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(lengths, [3, 5, 1])
    np.testing.assert_array_equal(x[2, 0], [7, 7])
    np.testing.assert_array_equal(x[2, 1:], 0)
    x1, l1 = features.pad_sequences([np.arange(4), np.arange(2)])  # univariate
    assert x1.shape == (2, 4, 1)
    with pytest.raises(ValueError, match="empty list"):
        features.pad_sequences([])
    with pytest.raises(ValueError, match="sequence 1 has zero length"):
        features.pad_sequences([np.ones((2, 2)), np.ones((0, 2))])
    with pytest.raises(ValueError, match="different feature counts"):
        features.pad_sequences([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="max_length"):
        features.pad_sequences(seqs, max_length=4)
    with pytest.raises(ValueError, match="1-D"):
        features.pad_sequences([np.ones((2, 2, 2))])


def _np_first_difference(x, lengths):
    out = np.zeros(x.shape, np.float64)
    for b, n in enumerate(lengths):
        out[b, 1:n] = np.diff(x[b, :n].astype(np.float64), axis=0)
    return out


def test_first_difference_equals_numpy_diff_and_ignores_padding():
    x, lengths = _ragged(4)
    got = jax.jit(features.first_difference)(x, lengths)
    np.testing.assert_allclose(got, _np_first_difference(x, lengths), rtol=1e-5, atol=1e-4)
    nan_pad = np.where(np.arange(x.shape[1])[None, :, None] < lengths[:, None, None], x, np.nan)
    np.testing.assert_array_equal(features.first_difference(nan_pad, lengths), got)


def _np_temporal_features(x, lengths, spec):
    """Loop reference: one sequence at a time, float64, on its valid steps only."""
    n, t, f = x.shape
    out = np.zeros((n, t, spec.num_outputs(f)))
    for b, m in enumerate(lengths):
        s = x[b, :m].astype(np.float64)
        cols = [s] if spec.include_input else []
        for w in spec.rolling_mean:
            cols.append(np.stack([s[max(0, i - w + 1): i + 1].mean(0) for i in range(m)]))
        for w in spec.rolling_std:
            cols.append(np.stack([s[max(0, i - w + 1): i + 1].std(0) for i in range(m)]))
        if spec.diff:
            cols.append(np.vstack([np.zeros((1, f)), np.diff(s, axis=0)]))
        for c, th in spec.events:
            last, since = -1, []
            for i in range(m):
                last = i if s[i, c] > th else last
                since.append(i - last)
            cols.append(np.array(since, np.float64)[:, None])
        out[b, :m] = np.concatenate(cols, axis=1)
    return out


@pytest.mark.parametrize("spec", [
    features.TemporalFeatures(rolling_mean=(1, 3), rolling_std=(4,), diff=True, events=((0, 3.5), (2, 3.0))),
    features.TemporalFeatures(rolling_std=[2], events=[(1, 0.0)], include_input=False),
    features.TemporalFeatures(),
])
def test_temporal_features_equal_a_numpy_loop_and_ignore_nan_padding(spec):
    x, lengths = _ragged(5, f=3)
    fn = jax.jit(features.temporal_features, static_argnames="spec")
    got = np.asarray(fn(x, lengths, spec=spec))
    assert got.shape == (len(x), x.shape[1], spec.num_outputs(3)) == (len(x), x.shape[1], len(
        spec.output_names(["a", "b", "c"])))
    np.testing.assert_allclose(got, _np_temporal_features(x, lengths, spec), rtol=1e-4, atol=1e-4)
    mask = np.arange(x.shape[1])[None, :, None] < lengths[:, None, None]
    nan_pad = np.where(mask, x, np.nan)
    np.testing.assert_array_equal(fn(nan_pad, lengths, spec=spec), got)
    assert np.all(got[~mask[..., 0]] == 0)


def test_temporal_features_spec_is_hashable_and_checked():
    spec = features.TemporalFeatures(rolling_mean=[5], events=[(1, 0.5)])
    assert spec == features.TemporalFeatures(rolling_mean=(5,), events=((1, 0.5),)) and hash(spec)
    assert spec.output_names(["bytes", "fail"]) == ("bytes", "fail", "rolling_mean5(bytes)",
                                                    "rolling_mean5(fail)", "steps_since(fail>0.5)")
    x, lengths = _ragged(6, t=4, f=2)
    for bad, match in [(features.TemporalFeatures(rolling_mean=(5,)), "rolling_mean window 5 is longer than"),
                       (features.TemporalFeatures(rolling_std=(9,)), r"rolling_std window 9 is longer than the "
                                                                     r"sequences \(4 steps\)"),
                       (features.TemporalFeatures(events=((2, 0.0),)), r"events channel 2 is unknown: the input "
                                                                       r"has 2 channels")]:
        with pytest.raises(ValueError, match=match):
            features.temporal_features(x, lengths, bad)
    for kw, match in [({"rolling_mean": (0,)}, "rolling_mean must hold integers >= 1"),
                      ({"rolling_std": (2.5,)}, "rolling_std must hold integers >= 1"),
                      ({"events": ((-1, 0.0),)}, "events channel must hold integers >= 0"),
                      ({"events": ((0, float("nan")),)}, "events threshold must be finite"),
                      ({"events": (3,)}, r"events must hold \(channel, threshold\) pairs"),
                      ({"diff": "no"}, "diff must be True or False, got 'no'"),
                      ({"include_input": 0}, "include_input must be True or False, got 0"),
                      # TypeErrors ("'int' object is not iterable") until 2026-12-06
                      ({"rolling_std": None}, "rolling_std must be a list of integers >= 1, got None"),
                      ({"events": None}, r"events must be a list of \(channel, threshold\) pairs, got None")]:
        with pytest.raises(ValueError, match=match):
            features.TemporalFeatures(**kw)
    assert features.TemporalFeatures(rolling_mean=5) == features.TemporalFeatures(rolling_mean=(5,))  # as in TOML


def test_event_channels_by_name_become_indices_of_the_data_channels():
    names = ["bytes", "fail", "port"]
    spec = features.TemporalFeatures(rolling_mean=[2], events=[("port", 0.5), (0, 1.0), (np.str_("fail"), 0.0)])
    assert spec.channel_names_needed == ("port", "fail") and hash(spec)
    resolved = spec.with_channel_names(names)
    assert resolved == features.TemporalFeatures(rolling_mean=(2,), events=((2, 0.5), (0, 1.0), (1, 0.0)))
    assert resolved.with_channel_names(None) is resolved and not resolved.channel_names_needed
    assert spec.output_names(names) == resolved.output_names(names)
    x, lengths = _ragged(5, t=4, f=3)
    np.testing.assert_array_equal(features.temporal_features(x, lengths, resolved),
                                  features.temporal_features(x, lengths, features.TemporalFeatures(
                                      rolling_mean=(2,), events=((2, 0.5), (0, 1.0), (1, 0.0)))))
    for call, match in [(lambda: spec.with_channel_names(["bytes", "fail", "prt"]),
                         r"events channel 'port' is unknown \(did you mean 'prt'\?\): the data's channels are "
                         r"'bytes', 'fail', 'prt'"),
                        (lambda: spec.with_channel_names(None), r"events channel 'port' is a name, but the data's "
                                                                r"channels have no names"),
                        (lambda: features.temporal_features(x, lengths, spec), r"events channel 'port' is a name: "
                                                                               r"the model reads channels by index"),
                        (lambda: features.TemporalFeatures(events=((" ", 0.0),)), r"events channel must be an "
                                                                                  r"index >= 0 or a channel's name")]:
        with pytest.raises(ValueError, match=match):
            call()


# -- temporal features as an estimator/checkpoint option (issue 16 item 3) ------------------------------

_SPEC = {"rolling_mean": [3], "rolling_std": [4], "diff": True, "events": [[1, 0.0]]}


def _labelled(seed=1, n=48, t=12, f=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t, f)).astype(np.float32)
    lengths = rng.integers(5, t + 1, n).astype(np.int32)
    y = (x[:, :5, 0].mean(1) > 0).astype(np.int64) + (x[:, :5, 1].std(1) > 1.0)
    seqs = [x[i, : lengths[i]] for i in range(n)]
    return seqs, y, x, lengths


def test_estimator_features_equal_training_on_the_precomputed_features(tmp_path):
    from jaxlstm import LSTMClassifier

    seqs, y, x, lengths = _labelled()
    spec = features.as_temporal_features(_SPEC)
    assert spec == features.TemporalFeatures(rolling_mean=(3,), rolling_std=(4,), diff=True, events=((1, 0.0),))
    z = np.asarray(features.temporal_features(jnp.asarray(x), jnp.asarray(lengths), spec))
    zseqs = [z[i, : lengths[i]] for i in range(len(z))]
    kw = dict(hidden_sizes=(8,), epochs=3, batch_size=16, random_state=0)
    with_features = LSTMClassifier(features=_SPEC, **kw).fit(seqs, y)
    precomputed = LSTMClassifier(**kw).fit(zseqs, y)
    assert with_features.model_config_.features == spec and with_features.model_config_.input_width == z.shape[-1]
    np.testing.assert_allclose(with_features.history_["train_loss"], precomputed.history_["train_loss"], rtol=1e-5)
    p = with_features.predict_proba(seqs)
    np.testing.assert_allclose(p, precomputed.predict_proba(zseqs), atol=1e-5)
    # scaled with statistics of the feature channels (the network never sees raw event counts)
    assert with_features.scaler_.offset.shape == (z.shape[-1],)
    np.testing.assert_allclose(with_features.scaler_.offset, precomputed.scaler_.offset, rtol=1e-5, atol=1e-6)
    # saved with the model
    with_features.save(tmp_path / "m.jaxlstm")
    back = LSTMClassifier.load(tmp_path / "m.jaxlstm")
    assert back.model_config_.features == spec
    np.testing.assert_array_equal(back.predict_proba(seqs), p)
    # a batch shorter than the longest window is padded: each row scores as it does among longer ones
    short = [s[:2] for s in seqs[:3]]
    np.testing.assert_allclose(with_features.predict_proba(short), with_features.predict_proba(short + seqs)[:3],
                               atol=1e-6)


@pytest.mark.parametrize("value, match", [
    ({"rolling_mean": [30]}, r"features\.rolling_mean window 30 is longer than the longest sequence \(12 steps\)"),
    ({"events": [[5, 0.5]]}, r"features\.events channel 5 is unknown: the input has 2 channels"),
    ({"rolling_mean": [0]}, r"features\.rolling_mean must hold integers >= 1, got 0"),
    ({"windows": [3]}, r"features has unknown key\(s\) 'windows'; known: rolling_mean"),
    ("diff", r"features must be None, a jaxlstm.features.TemporalFeatures or a dict"),
    ({"events": [[0, float("nan")]]}, r"features\.events threshold must be finite"),
])
def test_estimator_features_bad_values_name_the_parameter(value, match):
    from jaxlstm import LSTMClassifier

    seqs, y, _, _ = _labelled()
    with pytest.raises(ValueError, match=match):
        LSTMClassifier(hidden_sizes=(4,), epochs=1, features=value).fit(seqs, y)


# -- augmentations (issue 16 item 2) ----------------------------------------------------------------


def test_window_slice_and_magnitude_warp_equal_numpy_interpolation_and_leave_padding():
    x, lengths = _ragged(seed=4, n=6, t=11, f=2)
    x[0, lengths[0]:] = np.nan  # NaN padding is never read
    rng = np.random.default_rng(9)
    start, knots = rng.uniform(size=6).astype(np.float32), rng.normal(1, 0.3, (6, 4)).astype(np.float32)
    sliced = np.asarray(features.window_slice(jnp.asarray(x), jnp.asarray(lengths), 0.6, jnp.asarray(start)))
    warped = np.asarray(features.magnitude_warp(jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(knots)))
    for b in range(6):
        n = int(lengths[b])
        span = n - 1
        steps = np.arange(n, dtype=np.float64)
        pos = start[b] * (span - 0.6 * span) + (steps * 0.6 if span else 0 * steps)
        ref = np.stack([np.interp(pos, np.arange(n), x[b, :n, c].astype(np.float64)) for c in range(2)], -1)
        np.testing.assert_allclose(sliced[b, :n], ref, rtol=1e-5, atol=1e-4)
        curve = np.interp(steps / max(span, 1) * 3, np.arange(4), knots[b].astype(np.float64))
        np.testing.assert_allclose(warped[b, :n], x[b, :n] * curve[:, None], rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(sliced[b, n:], x[b, n:])  # padding as it was (NaN included)
        np.testing.assert_array_equal(warped[b, n:], x[b, n:])
    # ratio 1 and unit knots change nothing, exactly
    ones = jnp.ones((6, 4))
    same = features.window_slice(jnp.asarray(x), jnp.asarray(lengths), 1.0, jnp.asarray(start))
    np.testing.assert_array_equal(np.asarray(same), x)
    np.testing.assert_array_equal(np.asarray(features.magnitude_warp(jnp.asarray(x), jnp.asarray(lengths), ones)), x)


@pytest.mark.parametrize("hp", [dict(augment_scale=0.3), dict(augment_warp=0.2), dict(augment_slice=0.4),
                                dict(augment_scale=0.3, augment_warp=0.2, augment_slice=0.4)])
def test_training_augmentation_equals_a_float64_reference_of_slice_then_scale_times_warp(hp):
    """train.augment: window slicing to 1 - augment_slice of each row, then each
    row times (1 + augment_scale * N) and a piecewise-linear warp through 4 knots
    (1 + augment_warp * N); the draws are the step's own keys. Scaling alone had
    no test that could fail (a test only asserted it changed the loss)."""
    from jaxlstm.train import augment, make_hparams

    x, lengths = _ragged(seed=5, n=5, t=10, f=2)
    key = jax.random.key(3)
    got = np.asarray(augment(jnp.asarray(x), jnp.asarray(lengths), make_hparams(3, **hp), key))
    k_start, k_scale, k_warp = jax.random.split(key, 3)
    start = np.asarray(jax.random.uniform(k_start, (5,)), np.float64)
    scale = 1 + hp.get("augment_scale", 0) * np.asarray(jax.random.normal(k_scale, (5, 1)), np.float64)
    knots = scale * (1 + hp.get("augment_warp", 0) * np.asarray(jax.random.normal(k_warp, (5, 4)), np.float64))
    ratio = 1 - hp.get("augment_slice", 0)
    for b in range(5):
        n = int(lengths[b])
        span, steps = n - 1, np.arange(n, dtype=np.float64)
        pos = start[b] * (span - ratio * span) + steps * ratio
        sliced = np.stack([np.interp(pos, np.arange(n), x[b, :n, c].astype(np.float64)) for c in range(2)], -1)
        curve = np.interp(steps / max(span, 1) * 3, np.arange(4), knots[b])
        np.testing.assert_allclose(got[b, :n], sliced * curve[:, None], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(got[b, n:], x[b, n:])
    if set(hp) == {"augment_scale"}:  # a scaling: one factor per row, not 1
        factors = got[:, 0] / x[:, 0]
        np.testing.assert_allclose(factors, scale.repeat(2, 1), rtol=1e-5)
        assert np.abs(scale - 1).max() > 0.05

