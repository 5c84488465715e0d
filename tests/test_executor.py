"""The member executor: continuing members from a start state equals training
straight through; executing the same members again with out_dir resumes them
all and trains nothing; planning shares one run between epoch counts."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from jaxlstm.plan import Member, make_folds, normalise, plan_members
from jaxlstm.sweep import execute

rng = np.random.default_rng(0)
Y = rng.integers(0, 3, 48).astype(np.int32)
X = (rng.normal(size=(48, 5, 3)) + 0.7 * Y[:, None, None]).astype(np.float32)
L = rng.integers(2, 6, 48).astype(np.int32)
FOLDS = make_folds(Y, 2, 0)
CONFIGS = [normalise({"hidden_sizes": (6,), "batch_size": 16, "learning_rate": lr, "dropout": 0.1, "epochs": 4})
           for lr in (1e-2, 3e-2)]
RECORD = ("accuracy", "f1_macro")


def _run(members, **kw):
    return execute(X, L, Y, FOLDS, members, num_classes=3, record=RECORD, keep_val_probs=True, chunk_size=2, **kw)


def test_continuing_from_a_start_state_equals_training_straight_through():
    straight, index = plan_members(CONFIGS, len(FOLDS), [0])
    whole = _run(straight)
    half, _ = plan_members([{**c, "epochs": 2} for c in CONFIGS], len(FOLDS), [0])
    first = _run(half, keep_state=True)
    states = [[first.rows[i]["state"] for i in idx] for idx in index]
    rest, rest_index = plan_members([{**c, "epochs": 2} for c in CONFIGS], len(FOLDS), [0], start=states, offset=2)
    assert all(m.start is not None and m.offset == 2 and m.read_at == (4,) for m in rest)
    second = _run(rest)
    assert rest_index == index
    for i in range(len(straight)):
        a, b, c = whole.rows[i], first.rows[i], second.rows[i]
        np.testing.assert_allclose(c["val_probs"]["4"], a["val_probs"]["4"], atol=1e-5)
        for k in ("train_loss", "val_accuracy", "val_f1_macro"):  # epochs 1-2, then 3-4
            np.testing.assert_allclose(b["history"][k] + c["history"][k], a["history"][k], atol=1e-5, err_msg=k)
        assert a["hash"] != c["hash"]  # a continued member is not the member trained from scratch


def test_executing_the_same_members_again_resumes_them_and_trains_nothing(tmp_path):
    members, _ = plan_members(CONFIGS, len(FOLDS), [0, 1])
    first = _run(members, out_dir=tmp_path)
    assert first.resumed == 0 and len((tmp_path / "members.jsonl").read_text().splitlines()) == len(members) == 8
    again = _run(members, out_dir=tmp_path)
    assert again.resumed == len(members) and again.run_s == again.compile_s == 0.0
    assert len((tmp_path / "members.jsonl").read_text().splitlines()) == 8  # nothing appended
    for a, b in zip(first.rows, again.rows, strict=True):
        assert (a["hash"], a["fold"], a["seed"]) == (b["hash"], b["fold"], b["seed"])
        assert a["history"] == b["history"] and a["val_probs"] == b["val_probs"]


def test_a_saved_member_without_the_probabilities_of_a_new_epoch_count_trains_again(tmp_path):
    # A rerun on the same out_dir with epochs [2, 4] where the first run had [4]: the member hash (the longest
    # epochs) matches, but the saved rows hold probabilities after 4 epochs only (this was a KeyError '2').
    first = _run(plan_members([CONFIGS[0]], len(FOLDS), [0])[0], out_dir=tmp_path)
    members, index = plan_members([{**CONFIGS[0], "epochs": e} for e in (2, 4)], len(FOLDS), [0])
    assert index[0] == index[1] and all(m.read_at == (2, 4) for m in members)
    again = _run(members, out_dir=tmp_path)
    assert again.resumed == 0 and all(set(r["val_probs"]) == {"2", "4"} for r in again.rows)
    for a, b in zip(first.rows, again.rows, strict=True):
        np.testing.assert_allclose(b["val_probs"]["4"], a["val_probs"]["4"], atol=1e-6)
    third = _run(members, out_dir=tmp_path)  # the complete rows, appended last, are the ones read back
    assert third.resumed == len(members) and [r["val_probs"] for r in third.rows] == [r["val_probs"]
                                                                                     for r in again.rows]


def test_a_saved_member_of_another_class_count_is_not_resumed(tmp_path):
    # y implies 3 classes; a 5-class output layer is another model (until 2026-12-04 it resumed the 3-class rows)
    members, _ = plan_members([CONFIGS[0]], len(FOLDS), [0])
    three = _run(members, out_dir=tmp_path)
    five = execute(X, L, Y, FOLDS, members, num_classes=5, record=RECORD, keep_val_probs=True, out_dir=tmp_path)
    assert five.resumed == 0 and all(len(r["val_probs"]["4"][0]) == 5 for r in five.rows)
    assert _run(members, out_dir=tmp_path).resumed == len(members)  # the 3-class rows still resume
    assert all(len(r["val_probs"]["4"][0]) == 3 for r in three.rows)


def test_epoch_counts_share_one_run_and_states_are_not_streamed(tmp_path):
    configs = [{**CONFIGS[0], "epochs": e} for e in (1, 3)] + [CONFIGS[1]]
    members, index = plan_members(configs, len(FOLDS), [0])
    assert len(members) == 4 and index[0] == index[1] == [0, 1] and index[2] == [2, 3]
    # each configuration's run is as long as it needs, not its program's longest (4): configuration 0 trains 3
    assert [(m.epochs, m.read_at) for m in members] == [(3, (1, 3))] * 2 + [(4, (4,))] * 2
    run = _run(members)
    assert [len(r["history"]["train_loss"]) for r in run.rows] == [3, 3, 4, 4]
    alone = _run(plan_members([configs[1]], len(FOLDS), [0])[0])
    for a, b in zip(run.rows[:2], alone.rows, strict=True):
        np.testing.assert_allclose(a["val_probs"]["3"], b["val_probs"]["3"], atol=1e-6)
    own, own_index = plan_members(configs, len(FOLDS), [0], share_epochs=False)  # each its own run
    assert [(m.epochs, m.read_at) for m in own] == [(1, (1,))] * 2 + [(3, (3,))] * 2 + [(4, (4,))] * 2
    assert own_index == [[0, 1], [2, 3], [4, 5]]
    start = Member(*members[0][:5], read_at=(5,), start=object(), offset=4)
    with pytest.raises(ValueError, match="continued members and states are not stored"):
        _run([start], out_dir=tmp_path)


def test_keep_model_last_keeps_the_last_epochs_model_not_the_best_and_out_dir_stores_it(tmp_path):
    """keep_model="last": the final state's parameters (those of the last epoch's held-out probabilities),
    where True keeps the select epoch's; out_dir stores each kept model beside members.jsonl (not in it), so a
    member read back has the same model, leaf for leaf and type for type; a member whose model file is missing
    or altered, or a run asking for the other epoch's model, trains again; a bad value is named."""
    members, _ = plan_members(CONFIGS, len(FOLDS), [0])
    best = _run(members, keep_model=True, keep_state=True)
    last = _run(members, keep_model="last", out_dir=tmp_path)
    assert any(r["model"]["best_epoch"] != 3 for r in best.rows)  # the data is such that "last" differs
    for b, r in zip(best.rows, last.rows, strict=True):
        assert int(r["model"]["best_epoch"]) == 3
        for got, want in zip(jax.tree.leaves(r["model"]["params"]), jax.tree.leaves(b["state"].params), strict=True):
            np.testing.assert_array_equal(got, want)
    assert '"model"' not in (tmp_path / "members.jsonl").read_text()
    again = _run(members, keep_model="last", out_dir=tmp_path)
    assert again.resumed == len(members)
    for r, a in zip(last.rows, again.rows, strict=True):
        assert jax.tree.structure(a["model"]) == jax.tree.structure(r["model"])
        for got, want in zip(jax.tree.leaves(a["model"]), jax.tree.leaves(r["model"]), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    files = sorted((tmp_path / "models").iterdir())
    assert len(files) == len(members) and all(f.name.endswith("-last.msgpack") for f in files)
    files[0].unlink()  # lost
    files[1].write_bytes(files[1].read_bytes()[:-1] + b"x")  # altered
    partial = _run(members, keep_model="last", out_dir=tmp_path)
    assert partial.resumed == len(members) - 2
    for r, a in zip(last.rows, partial.rows, strict=True):  # trained again: the same model (same seed)
        for got, want in zip(jax.tree.leaves(a["model"]["params"]), jax.tree.leaves(r["model"]["params"])):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert _run(members, keep_model=True, out_dir=tmp_path).resumed == 0  # no best-epoch models stored
    assert _run(members, out_dir=tmp_path).resumed == len(members)  # no model asked for: the rows suffice
    with pytest.raises(ValueError, match="keep_model must be False, True or 'last', got 'best'"):
        _run(members, keep_model="best")
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "models").write_text("")  # a file where the folder would go: the error names the model's path
    with pytest.raises(OSError, match=r"cannot write .*blocked/models/[0-9a-f]+-last\.msgpack"):
        _run(members, keep_model="last", out_dir=blocked)


def test_an_estimator_fit_is_one_executor_call_equal_to_fit_alone_and_an_ensemble_to_its_members():
    import jax
    import jax.numpy as jnp

    from jaxlstm.estimator import LSTMClassifier
    from jaxlstm.model import ModelConfig
    from jaxlstm.train import Split, TrainConfig, fit, make_hparams

    kw = dict(hidden_sizes=(6,), batch_size=16, epochs=3, dropout=0.1)
    one = LSTMClassifier(**kw, random_state=5).fit(X, Y)
    cfg = TrainConfig(ModelConfig(3, 3, (6,)), batch_size=16, epochs=3, select="f1_macro")
    split = Split(jnp.arange(len(X)), jnp.ones(len(X), bool), jnp.zeros(0, jnp.int32), jnp.zeros(0, bool))
    alone = jax.jit(fit, static_argnames="config")(X, jnp.full(len(X), 5), Y, split, make_hparams(3, dropout=0.1),
                                                   jax.random.key(5), config=cfg)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5), one.params_, jax.device_get(alone.best_params))
    np.testing.assert_allclose(one.history_["train_loss"], alone.history["train_loss"], atol=1e-5)
    assert one.n_members_ == 1 and one.best_epoch_ == int(alone.best_epoch)

    ens = LSTMClassifier(**kw, random_state=5, n_ensemble=3).fit(X, Y)
    singles = [one] + [LSTMClassifier(**kw, random_state=s).fit(X, Y) for s in (6, 7)]
    for i, single in enumerate(singles):
        jax.tree.map(lambda a, b, i=i: np.testing.assert_allclose(a[i], b, atol=1e-5), ens.params_, single.params_)
    np.testing.assert_allclose(ens.predict_proba(X), np.mean([s.predict_proba(X) for s in singles], axis=0), atol=1e-5)
    assert ens.history_["train_loss"].shape == (3, 3) and len(ens.best_epoch_) == 3


FOUR = textwrap.dedent("""
    import os, sys, json
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    sys.path.insert(0, {root!r})
    import jax
    assert jax.device_count() == 4
    from tests.test_executor import CONFIGS, FOLDS, _run, plan_members
    half, index = plan_members([{{**c, "epochs": 2}} for c in CONFIGS], len(FOLDS), [0])
    first = _run(half, keep_state=True)
    states = [[first.rows[i]["state"] for i in idx] for idx in index]
    rest, _ = plan_members([{{**c, "epochs": 2}} for c in CONFIGS], len(FOLDS), [0], start=states, offset=2)
    json.dump([r["val_probs"]["4"] for r in _run(rest).rows], open(sys.argv[1], "w"))
""")


@pytest.mark.slow
def test_continued_members_sharded_over_four_devices_equal_one_device(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "four.py"
    script.write_text(FOUR.format(root=root))
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    subprocess.run([sys.executable, str(script), str(tmp_path / "four.json")], env={**env, "JAX_PLATFORMS": "cpu"},
                   check=True, timeout=300)
    four = json.loads((tmp_path / "four.json").read_text())
    straight, _ = plan_members(CONFIGS, len(FOLDS), [0])
    for got, row in zip(four, _run(straight).rows, strict=True):
        np.testing.assert_allclose(got, row["val_probs"]["4"], atol=1e-5)


def test_past_its_deadline_the_executor_starts_no_chunk_but_finishes_until_done(capsys):
    import time

    members, index = plan_members(CONFIGS, len(FOLDS), [0])  # 2 configurations x 2 folds, chunks of 2
    whole = _run(members)
    late = time.monotonic() - 1.0
    none = _run(members, deadline=late, progress=True)
    assert none.skipped == 4 and none.rows == [None] * 4 and none.run_s == 0.0
    # nothing started: no progress bar left on stderr at 0 % (a later round of a budgeted search, until 2026-12-04)
    assert "member-epochs" not in capsys.readouterr().err
    first = _run(members, deadline=late, until_done=index[0])
    assert first.skipped == 2 and [r is None for r in first.rows] == [i not in index[0] for i in range(4)]
    for i in index[0]:
        np.testing.assert_allclose(first.rows[i]["val_probs"]["4"], whole.rows[i]["val_probs"]["4"], atol=1e-6)
    assert _run(members, deadline=time.monotonic() + 600).skipped == 0


def test_under_a_deadline_members_train_in_the_order_given_across_compiled_programs():
    """Chunks run by their first member, not group by group: a search's
    second initial point (another program: 7 units) trains before a
    later candidate that shares the first one's program."""
    import time

    a, b = CONFIGS
    members, index = plan_members([a, {**a, "hidden_sizes": (7,)}, b], len(FOLDS), [0])  # 0 and 2: one program
    late = time.monotonic() - 1.0
    run = _run(members, deadline=late, until_done=index[0] + index[1])
    assert [r is None for r in run.rows] == [False] * 4 + [True] * 2 and run.skipped == 2
    alone = _run(members[2:4])
    for i in index[1]:
        np.testing.assert_allclose(run.rows[i]["val_probs"]["4"], alone.rows[i - 2]["val_probs"]["4"], atol=1e-6)


def test_max_length_is_part_of_a_channels_group_only():
    """A search over lstm_over sets max_length once: "time" members ignore it
    (one static group, the member hashes of a run without it), "channels"
    members are grouped by it."""
    over_time = [normalise({**c, "max_length": 9}) for c in CONFIGS]
    assert over_time == CONFIGS
    assert plan_members(over_time, len(FOLDS), [0]) == plan_members(CONFIGS, len(FOLDS), [0])
    channels = normalise({**CONFIGS[0], "lstm_over": "channels", "max_length": 9})
    assert channels["max_length"] == 9
    groups = {m.static for m in plan_members([channels, {**channels, "max_length": 7}], len(FOLDS), [0])[0]}
    assert len(groups) == 2
