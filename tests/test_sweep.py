"""Sweep engine: a member equals the same run alone, epochs are read off one
curve, divergence is isolated, folds fit their own statistics, a killed sweep
resumes, and 4 devices give the same numbers as one."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.preprocessing import StandardScaler

from jaxlstm.model import ModelConfig
from jaxlstm.sweep import make_folds, run_sweep
from jaxlstm.train import Split, TrainConfig, fit, make_hparams
from jaxlstm.train import _fit_jit  # the module's own compiled fit: runs alone without compiling throwaway programs


def _data(n=60, t=5, f=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n).astype(np.int32)
    x = rng.normal(size=(n, t, f)).astype(np.float32) + 0.7 * y[:, None, None]
    lengths = rng.integers(2, t + 1, n).astype(np.int32)
    return x, lengths, y


X, L, Y = _data()
SPACE = {"hidden_sizes": [(8,)], "batch_size": [16], "learning_rate": [1e-2, 3e-2],
         "dropout": [0.0, 0.2], "epochs": [2, 4],
         "noise_std": [0.1]}
SCORING = ("f1_macro", "accuracy")
W = np.random.default_rng(1).uniform(0, 2, len(Y))  # sample weights
W_SPACE = {"hidden_sizes": [(8,)], "batch_size": [16], "learning_rate": [1e-2, 3e-2], "epochs": [2]}


@pytest.fixture(scope="module")
def grid():
    return run_sweep(X, Y, L, space=SPACE, cv=3, seeds=(0, 1), scoring=SCORING, chunk_size=8)


def test_cv_results_layout(grid):
    r = grid.cv_results_
    assert len(r["params"]) == 8
    for k in range(6):  # 3 folds x 2 seeds
        assert r[f"split{k}_test_f1_macro"].shape == (8,)
    for key in ("mean_test_f1_macro", "std_test_f1_macro", "rank_test_f1_macro", "mean_fit_time",
                "param_learning_rate", "param_dropout", "status"):
        assert key in r
    np.testing.assert_allclose(r["mean_test_accuracy"],
                               np.mean([r[f"split{k}_test_accuracy"] for k in range(6)], axis=0))
    assert r["rank_test_f1_macro"][grid.best_index_] == 1
    assert grid.best_score_ == pytest.approx(r["mean_test_f1_macro"].max())
    assert len(grid.members) == 8 * 6


def test_member_equals_the_same_configuration_trained_alone(grid):
    folds = make_folds(Y, 3, 0)
    cfg = TrainConfig(ModelConfig(3, 3, (8,)), batch_size=16, epochs=4, select="f1_macro", record=SCORING)
    for m in grid.members[::7]:
        p = m["params"]
        tr, te = folds[m["fold"]]
        split = Split(jnp.asarray(tr), jnp.ones(len(tr), bool), jnp.asarray(te), jnp.ones(len(te), bool))
        hp = make_hparams(3, learning_rate=p["learning_rate"], dropout=p["dropout"], noise_std=p["noise_std"])
        alone = jax.jit(fit, static_argnames="config")(X, L, Y, split, hp, jax.random.key(m["seed"]), config=cfg)
        for k in ("train_loss", "val_f1_macro", "val_accuracy"):
            np.testing.assert_allclose(m["history"][k], alone.history[k], atol=1e-5, err_msg=k)


def test_epochs_are_read_off_one_curve():
    short = run_sweep(X, Y, L, space={**SPACE, "epochs": [2]}, cv=3, seeds=(0,), scoring=SCORING, chunk_size=4)
    long = run_sweep(X, Y, L, space={**SPACE, "epochs": [2, 4]}, cv=3, seeds=(0,), scoring=SCORING, chunk_size=4)
    two = [i for i, p in enumerate(long.cv_results_["params"]) if p["epochs"] == 2]
    for k in range(3):
        np.testing.assert_allclose(long.cv_results_[f"split{k}_test_f1_macro"][two],
                                   short.cv_results_[f"split{k}_test_f1_macro"], atol=1e-6)


def test_a_diverging_member_is_isolated():
    base = [{"hidden_sizes": (8,), "batch_size": 16, "learning_rate": lr, "epochs": 3} for lr in (1e-2, 3e-2)]
    bad = {"hidden_sizes": (8,), "batch_size": 16, "learning_rate": 1e-2, "l2": 1e38, "epochs": 3}
    clean = run_sweep(X, Y, L, configs=base, cv=3, seeds=(0,), scoring=SCORING, chunk_size=9)
    mixed = run_sweep(X, Y, L, configs=base[:1] + [bad] + base[1:], cv=3, seeds=(0,), scoring=SCORING,
                      chunk_size=9)
    assert list(mixed.cv_results_["status"]) == ["ok", "diverged", "ok"]
    assert mixed.cv_results_["rank_test_f1_macro"][1] == 3
    for k in range(3):
        np.testing.assert_allclose(mixed.cv_results_[f"split{k}_test_f1_macro"][[0, 2]],
                                   clean.cv_results_[f"split{k}_test_f1_macro"], atol=1e-6)


def test_per_fold_scaler_statistics_equal_sklearn():
    folds = make_folds(Y, 3, 0)
    size = max(len(tr) for tr, _ in folds)
    idx = np.zeros((3, size), np.int32)
    mask = np.zeros((3, size), bool)
    for k, (tr, _) in enumerate(folds):
        idx[k, : len(tr)], mask[k, : len(tr)] = tr, True
    te = np.stack([f[1][:15] for f in folds])
    split = Split(jnp.asarray(idx), jnp.asarray(mask), jnp.asarray(te), jnp.ones(te.shape, bool))
    cfg = TrainConfig(ModelConfig(3, 3, (4,)), epochs=1, record=("accuracy",), select="accuracy")
    vfit = jax.jit(jax.vmap(fit, in_axes=(None, None, None, 0, None, None, None)), static_argnums=6)
    res = vfit(X, L, Y, split, make_hparams(3), jax.random.key(0), cfg)
    for k, (tr, _) in enumerate(folds):
        steps = np.concatenate([X[i, : L[i]] for i in tr])
        ref = StandardScaler().fit(steps)
        np.testing.assert_allclose(res.scaler.offset[k], ref.mean_, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(1 / res.scaler.scale[k], ref.scale_, rtol=1e-5)


def test_random_search_with_scipy_distributions():
    r = run_sweep(X, Y, L, space={"hidden_sizes": [(8,)], "learning_rate": loguniform(1e-3, 1e-1), "epochs": [2]},
                  n_iter=3, cv=2, seeds=(0,), scoring=("accuracy",), select="accuracy", random_state=1)
    lrs = [p["learning_rate"] for p in r.cv_results_["params"]]
    assert len(set(lrs)) == 3 and all(1e-3 <= v <= 1e-1 for v in lrs)


def test_bad_search_spaces():
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        run_sweep(X, Y, L, space={"learnin_rate": [1e-3]})
    with pytest.raises(ValueError, match="exactly one"):
        run_sweep(X, Y, L)
    with pytest.raises(ValueError, match="fewer than cv"):
        run_sweep(X, np.r_[np.zeros(58), 1, 1].astype(int), L, space={"epochs": [1]}, cv=3)
    # until 2026-12-07: a dict as configs was "dictionary update sequence element #0 has length 1; 2 is required",
    # and chunk_size=-1 or 2.5 ran as 1 or 2
    for configs, got in (({"epochs": 1}, "got a dict {'epochs': 1}"),
                         ([("epochs", 1)], "got an element ('epochs', 1)")):
        with pytest.raises(ValueError, match=re.escape(f"configs must be a list of dicts (one per configuration, "
                                                       f"e.g. [{{'units': 32}}, {{'units': 64}}]), {got}")):
            run_sweep(X, Y, L, configs=configs)
    for size in (-1, 2.5, 0):
        with pytest.raises(ValueError, match=f"chunk_size must be None or a positive integer, got {size}"):
            run_sweep(X, Y, L, configs=[{"epochs": 1}], chunk_size=size)
    # until 2026-12-07 the first spelling replaced the second silently: class_weight="balanced" trained an
    # exponent of 1, not the 0.5 also given; units=4 dropped hidden_sizes=(8, 8)
    for configs, pair, where in (([{"epochs": 1}, {"class_weight": "balanced", "class_weight_exponent": 0.5}],
                                  "class_weight and class_weight_exponent", "configs[1]"),
                                 ([{"units": 4, "hidden_sizes": (8, 8)}], "units and hidden_sizes", "configs[0]")):
        with pytest.raises(ValueError, match=re.escape(f"{where} gives both {pair}, two spellings of one setting")):
            run_sweep(X, Y, L, configs=configs)
    with pytest.raises(ValueError, match=re.escape("candidates[0] gives both units and hidden_sizes")):
        run_sweep(X, Y, L, space={"units": [4, 8], "hidden_sizes": [(4,)]})



def test_unseeded_folds_with_an_out_dir_are_said_not_to_resume(tmp_path):
    # random_state=None shuffles new folds each call, so out_dir never resumed; until 2026-12-07 silently
    with pytest.warns(UserWarning, match=r"random_state=None shuffles cv=2 folds anew on every call, so the members "
                                         r"in .* will not resume"):
        run_sweep(X, Y, L, configs=[{"hidden_sizes": (4,), "epochs": 1}], cv=2, random_state=None, out_dir=tmp_path)


SCRIPT = textwrap.dedent("""
    import sys, json
    import numpy as np
    sys.path.insert(0, {root!r})
    from tests.test_sweep import X, L, Y
    from jaxlstm import enable_compilation_cache
    from jaxlstm.sweep import run_sweep
    enable_compilation_cache()  # this test run's ($JAXLSTM_CACHE_DIR): the rerun reads what the first run compiled
    space = {{"hidden_sizes": [(8,)], "batch_size": [16], "learning_rate": [1e-3, 3e-3, 1e-2, 3e-2],
              "dropout": [0.0, 0.1], "epochs": [3]}}
    r = run_sweep(X, Y, L, space=space, cv=3, seeds=(0,), scoring=("f1_macro",), out_dir=sys.argv[1],
                  chunk_size=1)
    json.dump({{"scores": [float(v) for v in r.cv_results_["mean_test_f1_macro"]],
               "n_members": len(r.members)}}, open(sys.argv[2], "w"))
""")


@pytest.mark.slow
def test_resume_after_sigkill_equals_an_uninterrupted_run(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "sweep.py"
    script.write_text(SCRIPT.format(root=root))
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    run = lambda out, res: subprocess.Popen([sys.executable, str(script), str(out), str(res)], env=env)

    whole = tmp_path / "whole"
    assert run(whole, tmp_path / "whole.json").wait(timeout=300) == 0

    killed = tmp_path / "killed"
    proc = run(killed, tmp_path / "unused.json")
    members = killed / "members.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline:
        if members.exists() and len(members.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(members.read_text().splitlines())
    assert 5 <= before < 24, before  # it really was cut mid-run
    assert run(killed, tmp_path / "resumed.json").wait(timeout=300) == 0

    a = json.loads((tmp_path / "whole.json").read_text())
    b = json.loads((tmp_path / "resumed.json").read_text())
    assert a["n_members"] == b["n_members"] == 8 * 3
    np.testing.assert_allclose(b["scores"], a["scores"], atol=1e-6)
    rows = [json.loads(line) for line in members.read_text().splitlines() if line.strip()]
    hashes = [r["hash"] for r in rows]
    assert len(hashes) == len(set(hashes)) == 24  # none missing, none run twice


FOUR = textwrap.dedent("""
    import os, sys, json
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    sys.path.insert(0, {root!r})
    import jax
    assert len(jax.devices()) == 4, jax.devices()
    from tests.test_sweep import X, L, Y, SPACE, SCORING, W, W_SPACE
    from jaxlstm.sweep import run_sweep
    r = run_sweep(X, Y, L, space=SPACE, cv=3, seeds=(0, 1), scoring=SCORING, chunk_size=8)
    w = run_sweep(X, Y, L, space=W_SPACE, cv=2, scoring=SCORING, chunk_size=4, sample_weight=W)
    json.dump({{"scores": [float(v) for v in r.cv_results_["mean_test_f1_macro"]],
               "weighted": [float(v) for v in w.cv_results_["mean_test_f1_macro"]]}}, open(sys.argv[1], "w"))
""")


@pytest.mark.slow
def test_four_simulated_devices_give_the_same_results(grid, tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "four.py"
    script.write_text(FOUR.format(root=root))
    out = tmp_path / "four.json"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    subprocess.run([sys.executable, str(script), str(out)], env={**env, "JAX_PLATFORMS": "cpu"},
                   check=True, timeout=300)
    four = json.loads(out.read_text())
    np.testing.assert_allclose(four["scores"], grid.cv_results_["mean_test_f1_macro"], atol=1e-5)
    one = run_sweep(X, Y, L, space=W_SPACE, cv=2, scoring=SCORING, chunk_size=4, sample_weight=W)
    np.testing.assert_allclose(four["weighted"], one.cv_results_["mean_test_f1_macro"], atol=1e-5)


TWO_HOSTS = textwrap.dedent("""
    import os, sys, json
    sys.path.insert(0, {root!r})
    import jax
    jax.config.update("jax_num_cpu_devices", 2)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    pid = int(sys.argv[1])
    jax.distributed.initialize("127.0.0.1:{port}", num_processes=2, process_id=pid)
    assert (jax.process_count(), jax.device_count(), jax.local_device_count()) == (2, 4, 2)
    from tests.test_sweep import X, L, Y, SPACE, SCORING
    from jaxlstm.sweep import run_sweep
    # the default chunk_size: until 2026-12-07 process 1 asked process 0's device for its memory and failed
    r = run_sweep(X, Y, L, space=SPACE, cv=3, seeds=(0, 1), scoring=SCORING, out_dir={out_dir!r})
    keys = [k for k in r.cv_results_ if k.startswith("split")]
    out = {{k: [float(v) for v in r.cv_results_[k]] for k in keys}}
    # each process its own members (or out_dir): every process refuses (counts alone were compared, by process 1)
    try:
        run_sweep(X, Y, L, space={{**SPACE, "learning_rate": [1e-2 * (pid + 1)]}}, cv=2, chunk_size=4)
        out["differ"] = "ran"
    except ValueError as e:
        out["differ"] = str(e)
    # a Bayesian search under max_time, process 1 starting later: process 0's clock ends both at one round
    # (each process read its own clock until 2026-12-07: process 0 stopped, process 1 asked for a round, both hung)
    import time
    from scipy.stats import loguniform
    from jaxlstm import LSTMClassifier, LSTMSearchCV
    if pid == 1:
        time.sleep(12)
    s = LSTMSearchCV(LSTMClassifier(hidden_sizes=(4,), epochs=1, batch_size=16, random_state=0),
                     param_distributions={{"learning_rate": loguniform(1e-3, 1e-1)}}, search="bayes", n_iter=6,
                     batch_size=2, cv=2, max_time=12, chunk_size=4, refit=False, random_state=0).fit(X, Y)
    out["rounds"] = s.rounds_
    json.dump(out, open(sys.argv[2], "w"))
    jax.distributed.shutdown()
""")


@pytest.mark.slow
def test_two_processes_joined_by_jax_distributed_give_the_same_results(grid, tmp_path):
    """Multi-host as two local processes (2 CPU devices each) on 127.0.0.1:
    members are sharded over all 4 devices, every process gets every result,
    and only process 0 writes ``members.jsonl``."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "two.py"
    script.write_text(TWO_HOSTS.format(root=root, port=port, out_dir=str(tmp_path / "runs")))
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    procs = [subprocess.Popen([sys.executable, str(script), str(i), str(tmp_path / f"p{i}.json")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for i in range(2):
        got = json.loads((tmp_path / f"p{i}.json").read_text())
        assert got.pop("differ") == ("the 2 processes differ in the members to train (finished members per process: "
                                     "[0, 0]): give every process the same data and search, and out_dir one "
                                     "directory shared by every process")
        assert got.pop("rounds") == 1  # process 0 was 12 s past max_time after round 1, process 1 not
        assert len(got) == 6 * 2  # 6 splits x 2 scorers
        for k, v in got.items():
            np.testing.assert_allclose(v, grid.cv_results_[k], atol=1e-5, err_msg=k)
    lines = (tmp_path / "runs" / "members.jsonl").read_text().splitlines()
    hashes = [json.loads(line)["hash"] for line in lines]
    assert len(hashes) == len(set(hashes)) == 24


def test_members_are_spread_evenly_over_the_fewest_calls():
    from jaxlstm.sweep import even_chunk

    for n in range(1, 60):
        for cap in (1, 3, 4, 8, 128):
            size = even_chunk(n, cap)
            calls = -(-n // size)
            assert size <= cap and calls == -(-n // cap)  # no more calls than chunks of cap
            assert calls * size - n < calls  # less than one padded member per call
    assert even_chunk(9, 4) == 3


def test_ctrl_c_says_what_was_saved_and_a_rerun_resumes_it(tmp_path, monkeypatch, capsys):
    from jaxlstm import sweep

    appended = []
    append = sweep._append

    def append_then_ctrl_c(*args):
        append(*args)
        appended.append(1)
        raise KeyboardInterrupt

    space = {"hidden_sizes": [(8,)], "batch_size": [16], "learning_rate": [1e-2, 3e-2], "epochs": [2]}
    monkeypatch.setattr(sweep, "_append", append_then_ctrl_c)
    with pytest.raises(sweep.SweepInterrupted) as e:
        run_sweep(X, Y, L, space=space, cv=2, chunk_size=2, out_dir=tmp_path)
    assert (e.value.saved, e.value.total) == (2, 4) and appended == [1]
    assert str(e.value) == f"interrupted; 2/4 members saved in {tmp_path / 'members.jsonl'}; rerun to resume"
    assert isinstance(e.value, KeyboardInterrupt)  # code that catches Ctrl-C still does
    monkeypatch.setattr(sweep, "_append", append)
    capsys.readouterr()
    r = run_sweep(X, Y, L, space=space, cv=2, chunk_size=2, out_dir=tmp_path, progress=True)
    assert (r.resumed, r.n_members) == (2, 4)
    assert f"resumed 2/4 members from {tmp_path / 'members.jsonl'}; 2 to train" in capsys.readouterr().err
    whole = run_sweep(X, Y, L, space=space, cv=2, chunk_size=2)
    np.testing.assert_allclose(r.cv_results_["mean_test_f1_macro"], whole.cv_results_["mean_test_f1_macro"],
                               atol=1e-6)


def test_fit_time_leaves_out_compilation_and_argument_building(monkeypatch):
    """The first call compiles the program and the small programs that build
    its arguments; neither is fit time (mean_fit_time is the program's run)."""
    from jaxlstm import sweep

    build = sweep._chunk_args

    def slow_build(*args, **kwargs):
        time.sleep(0.4)
        return build(*args, **kwargs)

    monkeypatch.setattr(sweep, "_chunk_args", slow_build)
    space = {"hidden_sizes": [(5,)], "batch_size": [16], "learning_rate": [1e-2, 3e-2], "epochs": [2]}
    cold = run_sweep(X, Y, L, space=space, cv=2, chunk_size=4)
    warm = run_sweep(X, Y, L, space=space, cv=2, chunk_size=4)
    assert cold.compile_s >= 0.4 and warm.compile_s == 0.0
    assert warm.run_s >= 0.4  # warm, building the arguments is run time, but no member's fit time
    for r in (cold, warm):
        fit = r.cv_results_["mean_fit_time"]
        assert (fit > 0).all() and fit.sum() * 2 <= r.run_s  # the 4 members' shares of one program run
        assert fit.max() < 0.1


def test_a_remedy_sweep_is_one_program_and_each_member_equals_its_run_alone():
    from jaxlstm import sweep

    before = set(sweep._compiled)  # (compiled programs stay alive: dropping them mid-suite is not what is tested)
    yi = np.where((Y == 2) & (np.arange(len(Y)) % 2 == 0), 0, Y).astype(np.int32)  # imbalanced: the prior matters
    space = {"hidden_sizes": [(8,)], "batch_size": [16], "epochs": [2], "focal_gamma": [0.0, 2.0],
             "logit_adjust_tau": [0.0, 1.0], "class_weight_beta": [0.9]}
    res = run_sweep(X, yi, L, space=space, cv=2, seeds=(0,), scoring=SCORING, chunk_size=8)
    assert len(set(sweep._compiled) - before) == 1  # one static group, one compiled program
    folds = make_folds(yi, 2, 0)
    cfg = TrainConfig(ModelConfig(3, 3, (8,)), batch_size=16, epochs=2, select="f1_macro", record=SCORING)
    for m in res.members:
        p = m["params"]
        tr, te = folds[m["fold"]]
        split = Split(jnp.asarray(tr), jnp.ones(len(tr), bool), jnp.asarray(te), jnp.ones(len(te), bool))
        hp = make_hparams(3, focal_gamma=p["focal_gamma"], logit_adjust_tau=p["logit_adjust_tau"],
                          class_weight_beta=p["class_weight_beta"])
        alone = _fit_jit(X, L, yi, split, hp, jax.random.key(m["seed"]), config=cfg)
        for k in ("train_loss", "val_f1_macro"):
            np.testing.assert_allclose(m["history"][k], alone.history[k], atol=1e-5, err_msg=k)
    losses_by_member = {(m["params"]["focal_gamma"], m["params"]["logit_adjust_tau"]): m["history"]["train_loss"][0]
                        for m in res.members if m["fold"] == 0}
    assert len(set(losses_by_member.values())) == 4  # each member its own loss


def test_features_are_a_static_key_and_a_member_equals_its_run_alone():
    from jaxlstm.features import TemporalFeatures

    spec = {"rolling_mean": [2], "diff": True, "events": [[1, 0.5]]}
    space = {"hidden_sizes": [(8,)], "batch_size": [16], "epochs": [2], "features": [None, spec]}
    res = run_sweep(X, Y, L, space=space, cv=2, seeds=(0,), scoring=SCORING, chunk_size=2)
    folds = make_folds(Y, 2, 0)
    model = ModelConfig(3, 3, (8,), features=TemporalFeatures(rolling_mean=(2,), diff=True, events=((1, 0.5),)))
    cfg = TrainConfig(model, batch_size=16, epochs=2, select="f1_macro", record=SCORING)
    with_features = [m for m in res.members if m["static"]["features"]]
    assert len(with_features) == 2 and res.cv_results_["params"][1]["features"] == spec
    for m in with_features:
        tr, te = folds[m["fold"]]
        split = Split(jnp.asarray(tr), jnp.ones(len(tr), bool), jnp.asarray(te), jnp.ones(len(te), bool))
        alone = _fit_jit(X, L, Y, split, make_hparams(3), jax.random.key(0), config=cfg)
        for k in ("train_loss", "val_f1_macro"):
            np.testing.assert_allclose(m["history"][k], alone.history[k], atol=1e-5, err_msg=k)
    with pytest.raises(ValueError, match=r"features\.rolling_mean window 9 is longer than the longest "
                                         r"sequence \(5 steps\)"):
        run_sweep(X, Y, L, space={**space, "features": [{"rolling_mean": [9]}]}, cv=2, scoring=SCORING)


def test_member_hashes_change_only_for_members_whose_random_draws_changed():
    """Resume matches members.jsonl rows by hash. Members whose draws the
    2026-12-04 rules changed (input noise, dropout between stacked layers,
    class-balanced sampling) must not resume rows trained under the old
    draws; every other member must keep the hash older folders saved. The
    literals are the hashes the code before the change computed."""
    from jaxlstm.plan import normalise, plan_members
    from jaxlstm.sweep import _member_hash

    cfgs = [{"hidden_sizes": (8,), "epochs": 3}, {"hidden_sizes": (8,), "epochs": 3, "noise_std": 0.1},
            {"hidden_sizes": (8,), "epochs": 3, "sampling_exponent": 0.5},
            {"hidden_sizes": (8, 8), "epochs": 3, "dropout": 0.2}, {"hidden_sizes": (8,), "epochs": 3, "dropout": 0.2}]
    members, _ = plan_members([normalise(c) for c in cfgs], 1, [0])
    old = ["5d707580ca538ba4c52c", "55b2a88d8c95af69e13d", "357c026a63335d8320b4", "6075bade6e2101ca2d50",
           "e231c871952938a7112b"]
    new = [_member_hash(m, "f" * 20) for m in members]
    assert [a == b for a, b in zip(new, old)] == [True, False, False, False, True]
    assert len(set(new)) == len(new)


def test_a_vmapped_program_without_the_unused_optional_parts_trains_the_same_members():
    """The executor's programs hold only the optional parts some member uses
    (there both sides of a part's cond run and one is selected): members
    without a part, in a chunk with one that uses it or alone, train what
    the program holding every part trains; and a member that uses a part gets
    it even where the caller asks for none."""
    from jaxlstm.plan import normalise, plan_members
    from jaxlstm.sweep import execute
    from jaxlstm.train import OPTIONAL_PARTS

    folds = make_folds(Y, cv=2)
    cfgs = [{"hidden_sizes": (8,), "batch_size": 16, "epochs": 2, "learning_rate": 1e-2, **extra}
            for extra in ({}, {"dropout": 0.2}, {"noise_std": 0.3, "sampling_exponent": 1.0})]
    members, _ = plan_members([normalise(c) for c in cfgs], len(folds), [0])
    kw = dict(num_classes=3, keep_val_probs=True, chunk_size=2)
    probs = lambda run: [np.asarray(r["val_probs"]["2"]) for r in run.rows]
    plain = [m for m in members if dict(m.dyn)["noise_std"] == 0]
    for some in (plain, members):  # a program with no part; then one with noise and sampling
        got = execute(X, L, Y, folds, some, parts=frozenset(), **kw)
        want = execute(X, L, Y, folds, some, parts=OPTIONAL_PARTS, **kw)
        for a, b in zip(probs(got), probs(want), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_sample_weights_train_each_member_as_alone_and_never_resume_an_unweighted_run(tmp_path):
    # a weighted member equals the same fit alone with the same weights; the weights are part of the data a
    # run's folder is keyed by, so a weighted run neither reads an unweighted run's members nor they its
    r = run_sweep(X, Y, L, space=W_SPACE, cv=2, scoring=SCORING, chunk_size=4, sample_weight=W,
                  out_dir=tmp_path)
    folds = make_folds(Y, 2, 0, X)
    cfg = TrainConfig(ModelConfig(3, 3, (8,)), batch_size=16, epochs=2, record=SCORING, select="f1_macro")
    for k, (tr, te) in enumerate(folds):
        split = Split(jnp.asarray(tr), jnp.ones(len(tr), bool), jnp.asarray(te), jnp.ones(len(te), bool))
        alone = _fit_jit(X, L, Y, split, make_hparams(3, learning_rate=1e-2), jax.random.key(0), config=cfg,
                         sample_weight=jnp.asarray(W, jnp.float32))
        assert r.cv_results_[f"split{k}_test_f1_macro"][0] == pytest.approx(float(alone.history["val_f1_macro"][-1]),
                                                                           abs=1e-6)
    plain = run_sweep(X, Y, L, space=W_SPACE, cv=2, scoring=SCORING, chunk_size=4, out_dir=tmp_path)
    assert plain.resumed == 0 and not np.allclose(plain.cv_results_["mean_test_f1_macro"],
                                                  r.cv_results_["mean_test_f1_macro"])
    again = run_sweep(X, Y, L, space=W_SPACE, cv=2, scoring=SCORING, chunk_size=4, sample_weight=W,
                      out_dir=tmp_path)
    assert again.resumed == 4
    np.testing.assert_array_equal(again.cv_results_["mean_test_f1_macro"], r.cv_results_["mean_test_f1_macro"])
    with pytest.raises(ValueError, match="sample_weight is zero on every training row of fold 1"):
        run_sweep(X, Y, L, space=W_SPACE, cv=[(np.arange(30), np.arange(30, 60)), (np.arange(30, 60), np.arange(30))],
                  sample_weight=np.r_[np.ones(30), np.zeros(30)])
