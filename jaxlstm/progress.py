"""A dependency-free progress bar with an ETA, fed from the host and, inside
compiled programs, from ``jax.debug.callback`` once per epoch.

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

__all__ = ["Progress", "epoch_tick", "format_seconds"]

_active: Progress | None = None
_lock = threading.Lock()


def format_seconds(s: float) -> str:
    """``75.2`` -> ``"01:15"``, ``3725`` -> ``"1:02:05"``."""
    if s != s or s == float("inf"):
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    """A text bar over ``total`` units with elapsed time and ETA.

    On a terminal it redraws one line; elsewhere (logs, CI) it prints a line
    at most every ``log_interval`` seconds and at the end. Disabled bars do
    nothing. Use as a context manager to make it the target of
    :func:`epoch_tick`.

    The ETA extrapolates the rate measured since the first tick, so the
    compilation before it does not inflate the estimate (it is unknown, "?",
    until the second tick).
    """

    def __init__(self, total: float, desc: str = "", unit: str = "", *, enabled: bool = True,
                 stream: TextIO | None = None, width: int = 24, log_interval: float = 10.0):
        self.total = max(float(total), 1e-12)
        self.desc, self.unit, self.enabled, self.width = desc, unit, enabled, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_interval = log_interval
        self.done = 0.0
        self._base = 0.0          # units finished before the current step
        self._step_units = 0.0    # units the current step (a chunk) is worth
        self._step_epochs = 0     # epochs in the current step
        self._epoch = 0
        self.t0 = time.perf_counter()
        self._t_first: float | None = None
        self._done_first = 0.0
        self._last_print = -1e9
        self._closed = False

    # -- host-side updates ----------------------------------------------------
    def begin_step(self, units: float, epochs: int) -> None:
        """The next compiled call is worth ``units`` and runs ``epochs`` epochs."""
        self._base = self.done
        self._step_units, self._step_epochs, self._epoch = float(units), max(int(epochs), 1), 0

    def update(self, n: float = 1.0) -> None:
        self.set(self.done + n)

    def set(self, done: float) -> None:
        now = time.perf_counter()
        done = min(float(done), self.total)
        if done == self.done:
            return
        self.done = done
        if self._t_first is None:
            # The rate counts from the first tick: compilation came before it.
            self._t_first, self._done_first = now, done
        self._draw(now)

    def end_step(self) -> None:
        self.set(self._base + self._step_units)

    def _epoch_done(self, e: int) -> None:
        with _lock:
            if e + 1 <= self._epoch or not self._step_epochs:
                return
            self._epoch = e + 1
            self.set(self._base + self._step_units * self._epoch / self._step_epochs)

    # -- drawing --------------------------------------------------------------
    def eta(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        if self._t_first is None or self.done <= self._done_first:
            return float("nan")
        rate = (self.done - self._done_first) / max(now - self._t_first, 1e-9)
        return (self.total - self.done) / rate

    def line(self, now: float | None = None) -> str:
        now = time.perf_counter() if now is None else now
        frac = self.done / self.total
        fill = int(round(frac * self.width))
        bar = "#" * fill + "." * (self.width - fill)
        total = f"{self.total:.0f}" if self.total >= 1 else f"{self.total:g}"
        return (f"{self.desc} {frac * 100:5.1f}% [{bar}] {self.done:.0f}/{total} {self.unit} "
                f"elapsed {format_seconds(now - self.t0)} ETA {format_seconds(self.eta(now))}").strip()

    def _draw(self, now: float, final: bool = False) -> None:
        if not self.enabled or self._closed:
            return
        if self.tty:
            self.stream.write("\r" + self.line(now) + ("\n" if final else ""))
            self.stream.flush()
        elif final or now - self._last_print >= self.log_interval:
            self._last_print = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if not self._closed:
            self._draw(time.perf_counter(), final=True)
            self._closed = True

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
