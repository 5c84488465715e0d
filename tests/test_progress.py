"""Progress bar: counts, ETA, epoch ticks from compiled (vmapped) code."""

import io

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm import progress
from jaxlstm.sweep import run_sweep
from tests.test_sweep import L, X, Y


def test_format_seconds():
    assert progress.format_seconds(75.2) == "01:15"
    assert progress.format_seconds(3725) == "1:02:05"
    assert progress.format_seconds(float("nan")) == "?"


def test_eta_extrapolates_the_rate_since_the_first_tick():
    bar = progress.Progress(100, "x", "u", stream=io.StringIO(), log_interval=0)
    bar.set(10)
    assert np.isnan(bar.eta())  # one tick: no rate yet
    bar._t_first -= 2.0  # pretend 10 -> 30 took 2 s
    bar.set(30)
    assert abs(bar.eta() - 7.0) < 0.5  # 70 left at 10 per second


def test_epoch_ticks_from_a_vmapped_scan_are_counted_once_per_epoch():
    out = io.StringIO()

    def body(carry, e):
        jax.debug.callback(progress.epoch_tick, e)
        return carry + 1.0, None

    f = jax.jit(jax.vmap(lambda c: jax.lax.scan(body, c, jnp.arange(5))[0]))
    with progress.Progress(40, "t", "member-epochs", stream=out, log_interval=0) as bar:
        bar.begin_step(units=20, epochs=5)  # 4 members x 5 epochs
        jax.block_until_ready(f(jnp.zeros(4)))
        assert bar.done == 20
        bar.end_step()
        bar.begin_step(units=20, epochs=5)
        jax.block_until_ready(f(jnp.zeros(4)))
    lines = out.getvalue().splitlines()
    counts = [int(line.split("] ")[1].split("/")[0]) for line in lines]
    assert counts == sorted(counts) and counts[-1] == 40
    assert 4 in counts and 36 in counts  # one line per epoch, not per member
    assert progress._active is None


def test_sweep_progress_reaches_all_member_epochs(capsys):
    run_sweep(X[:30], Y[:30], L[:30], configs=[{"hidden_sizes": (4,), "epochs": 3}], cv=2, progress=True)
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "100.0%" in err[-1] and "6/6 member-epochs" in err[-1]


def test_disabled_bar_writes_nothing():
    out = io.StringIO()
    with progress.Progress(3, stream=out, enabled=False) as bar:
        bar.update(3)
    assert out.getvalue() == ""


def test_estimator_verbose_shows_fit_and_predict_bars(capsys):
    from jaxlstm.estimator import PREDICT_CHUNK, LSTMClassifier

    m = LSTMClassifier(hidden_sizes=(4,), epochs=2, random_state=0, verbose=1).fit(X[:30], Y[:30])
    m.predict_proba(np.repeat(X, 1 + 2 * PREDICT_CHUNK // len(X), axis=0))
    err = capsys.readouterr().err
    assert "fit" in err and "2/2 epochs" in err and "predict" in err and "sequences" in err
