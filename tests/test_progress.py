"""Progress bar: counts, ETA, epoch ticks from compiled (vmapped) code."""

import io
import re

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm import progress
from jaxlstm.sweep import run_sweep
from tests.test_sweep import L, X, Y


def _frames(out):
    """tqdm's redraws of one bar, oldest first."""
    return [f for f in out.getvalue().replace("\n", "\r").split("\r") if f.strip()]


def test_eta_extrapolates_the_rate_since_the_first_tick():
    out = io.StringIO()
    bar = progress.Progress(100, "x", "u", stream=out, log_interval=0)
    bar.set(10)
    assert "10/100 u [00:00<?" in _frames(out)[-1]  # one tick: no rate yet (compilation came before it)
    bar._bar.start_t -= 2.0  # pretend 10 -> 30 took 2 s
    bar.set(30)
    assert "30/100 u [00:02<00:07" in _frames(out)[-1]  # 70 left at 10 per second
    bar.close()


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
    counts = [int(re.search(r" (\d+)/40 ", f).group(1)) for f in _frames(out)]
    assert counts == sorted(counts) and counts[-1] == 40
    assert 4 in counts and 36 in counts  # one line per epoch, not per member
    assert progress._active is None


def test_sweep_progress_reaches_all_member_epochs(capsys):
    run_sweep(X[:30], Y[:30], L[:30], configs=[{"hidden_sizes": (4,), "epochs": 3}], cv=2, progress=True)
    err = capsys.readouterr().err.replace("\n", "\r").split("\r")
    last = [f for f in err if f.strip()][-1]
    assert "100%" in last and "6/6 member-epochs" in last


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
