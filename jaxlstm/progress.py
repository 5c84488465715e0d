"""Progress bars drawn by tqdm, fed from the host and, inside compiled
programs, from ``jax.debug.callback`` once per epoch.

Compiled code cannot hold a Python object, so a program compiled with
``TrainConfig(progress=True)`` calls :func:`epoch_tick` with the epoch index;
it advances whichever :class:`Progress` is *active* (set with ``with bar:``).
Under ``vmap`` the callback runs once per member, so ticks are de-duplicated
by epoch index and the bar counts member-epochs as ``members x epochs done``.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from tqdm import tqdm

__all__ = ["Progress", "epoch_tick"]

_active: Progress | None = None
_lock = threading.Lock()


class Progress:
    """A tqdm bar over ``total`` units, advanced per chunk and per epoch.

    On a terminal it redraws one line; elsewhere (logs, CI) it redraws at most
    every ``log_interval`` seconds. Disabled bars draw nothing. Use as a
    context manager to make it the target of :func:`epoch_tick`.

    The rate (and so the ETA) counts from the first tick, so the compilation
    before it does not inflate the estimate; tqdm shows it from the second.
    """

    def __init__(self, total: float, desc: str = "", unit: str = "", *, enabled: bool = True,
                 stream: TextIO | None = None, log_interval: float = 10.0):
        stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(stream, "isatty", lambda: False)())
        self.total = max(float(total), 1e-12)
        self.done = 0.0
        self._bar = tqdm(total=total, desc=desc or None, unit=f" {unit}" if unit else "it", file=stream,
                         disable=not enabled, mininterval=0.1 if tty else log_interval, miniters=1,
                         smoothing=0, dynamic_ncols=tty, leave=True,
                         bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}{unit} [{elapsed}<{remaining}, {rate_fmt}{postfix}]")
        self._ticked = False
        self._base = 0.0          # units finished before the current step
        self._step_units = 0.0    # units the current step (a chunk) is worth
        self._step_epochs = 0     # epochs in the current step
        self._epoch = 0

    # -- host-side updates ----------------------------------------------------
    def begin_step(self, units: float, epochs: int) -> None:
        """The next compiled call is worth ``units`` and runs ``epochs`` epochs."""
        self._base = self.done
        self._step_units, self._step_epochs, self._epoch = float(units), max(int(epochs), 1), 0

    def update(self, n: float = 1.0) -> None:
        self.set(self.done + n)

    def set(self, done: float) -> None:
        done = min(float(done), self.total)
        if done == self.done:
            return
        step, self.done = done - self.done, done
        if not self._ticked and not self._bar.disable:
            # rate from the first tick on: compilation came before it (tqdm's
            # average rate with smoothing=0 is (n - initial) / (now - start_t))
            self._ticked = True
            self._bar.n = self._bar.initial = self._bar.last_print_n = done
            self._bar.start_t = self._bar.last_print_t = time.time()
            self._bar.refresh()
            return
        self._bar.update(step)

    def end_step(self) -> None:
        self.set(self._base + self._step_units)

    def _epoch_done(self, e: int) -> None:
        with _lock:
            if e + 1 <= self._epoch or not self._step_epochs:
                return
            self._epoch = e + 1
            self.set(self._base + self._step_units * self._epoch / self._step_epochs)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        global _active
        self._prev = _active
        _active = self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = self._prev
        self.close()


def epoch_tick(epoch) -> None:
    """``jax.debug.callback`` target: epoch ``epoch`` of the running step ended."""
    bar = _active
    if bar is not None:
        bar._epoch_done(int(epoch))
