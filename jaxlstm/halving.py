"""Successive halving with epochs as the resource (``LSTMSearchCV(search="halving")``).

Like scikit-learn's ``HalvingGridSearchCV(resource=...)``: every candidate
trains ``min_epochs`` epochs on every fold; the best ``1/factor`` (by mean
CV score) survive and train on, ``factor`` times as many epochs in total,
until one candidate is left or the estimator's ``epochs`` is reached.
Survivors *continue* from their saved parameters and optimizer state
(:func:`jaxlstm.train.fit` with ``start=``), so a survivor's final model is
exactly the model trained straight through for the same number of epochs.
Each rung trains its members vmapped, one compiled program per static group.
"""

from __future__ import annotations

import math
import time

import jax
import numpy as np

from jaxlstm import sweep
from jaxlstm.tabulate import score_table
from jaxlstm.train import TrainConfig, fit, tuned_jit

__all__ = ["rung_schedule", "successive_halving"]


def rung_schedule(n_candidates: int, max_epochs: int, factor: int = 3, min_epochs: int | None = None
                  ) -> list[tuple[int, int]]:
    """``[(candidates, epochs), ...]`` per rung: candidates shrink by
    ``factor`` (rounded up), epochs grow by ``factor`` up to ``max_epochs``."""
    if factor < 2:
        raise ValueError(f"factor must be >= 2, got {factor}")
    if max_epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {max_epochs}")
    n_rungs = 1 + math.ceil(math.log(max(n_candidates, 1)) / math.log(factor) - 1e-9)
    if min_epochs is None:
        min_epochs = max(1, max_epochs // factor ** (n_rungs - 1))
    if not 1 <= min_epochs <= max_epochs:
        raise ValueError(f"min_epochs must be in [1, epochs={max_epochs}], got {min_epochs}")
    out, n, e = [], n_candidates, min_epochs
    while True:
        out.append((n, e))
        if n == 1 or e >= max_epochs:
            return out
        n, e = math.ceil(n / factor), min(max_epochs, e * factor)


def _fit_continue(x, lengths, y, split, hparams, seed, state, offset, config):
    return fit(x, lengths, y, split, hparams, jax.random.key(seed), config, start=(state, offset))


_vfit_continue = tuned_jit(jax.vmap(_fit_continue, in_axes=(None, None, None, 0, 0, 0, 0, None, None)),
                         static_argnums=8)


def successive_halving(search, ctx, candidates: list[dict], configs: list[dict]) -> tuple[list[dict], int]:
    """Run the rungs for :class:`~jaxlstm.search.LSTMSearchCV` over
    ``candidates`` (their sweep ``configs`` beside them); returns its table
    (one row per candidate per rung, with ``iter`` and ``n_resources``) and
    the number of rungs."""
    schedule = rung_schedule(len(candidates), int(ctx["base"].epochs), int(search.factor), search.min_epochs)
    x, lengths, y, folds, seeds = ctx["x"], ctx["lengths"], ctx["y"], ctx["folds"], ctx["seeds"]
    c = len(ctx["classes"])
    tr_idx, tr_mask = sweep.pad_indices([f[0] for f in folds])
    te_idx, te_mask = sweep.pad_indices([f[1] for f in folds])
    mesh = sweep._mesh()
    data = tuple(sweep._global(a, mesh) for a in (x, lengths, y))
    states: dict[tuple, object] = {}  # (candidate, fold, seed) -> TrainState (NumPy leaves)
    alive = list(range(len(candidates)))
    done = 0
    table: list[dict] = []
    for rung, (_, epochs) in enumerate(schedule):
        more = epochs - done
        members: dict[int, list] = {ci: [] for ci in alive}
        fit_time: dict[int, list] = {ci: [] for ci in alive}
        diverged: dict[int, bool] = dict.fromkeys(alive, False)
        groups: dict[tuple, list] = {}
        for ci in alive:
            static = tuple((k, configs[ci][k]) for k in sweep.STATIC_KEYS)
            for fi in range(len(folds)):
                for s in seeds:
                    groups.setdefault(static, []).append((ci, fi, s))
        for static, todo in groups.items():
            st = dict(static)
            model = sweep._model_config(x.shape[-1], c, st, lengths)
            tcfg = TrainConfig(model, batch_size=st["batch_size"], epochs=more, select="accuracy",
                               normalize=st["normalize"], record=("accuracy",), keep_val_probs=True,
                               progress=bool(search.verbose))
            size = search.chunk_size or sweep._default_chunk(len(todo), tcfg, len(x), x.shape[1])
            size = -(-max(int(size), 1) // jax.device_count()) * jax.device_count()
            for start in range(0, len(todo), size):
                chunk = todo[start : start + size]
                members_ = [(tuple(_dynamic(configs[ci]).items()), fi, s) for ci, fi, s in chunk]
                args, _ = sweep._chunk_args(data, mesh, c, tcfg, members_, size, tr_idx, tr_mask, te_idx, te_mask)
                t0 = time.perf_counter()
                if done == 0:
                    res = sweep._vfit(*args, tcfg)
                else:
                    padded = chunk + [chunk[-1]] * (size - len(chunk))
                    state = jax.tree.map(lambda *v: np.stack(v), *[states[m] for m in padded])
                    state = jax.tree.map(lambda a: sweep._global(a, mesh, member_axis=True), state)
                    res = _vfit_continue(*args, state, done, tcfg)
                res = sweep._fetch((res.state, res.history["val_probs"], res.diverged))
                elapsed = time.perf_counter() - t0
                new_state, probs, div = res
                for i, (ci, f, s) in enumerate(chunk):
                    states[(ci, f, s)] = jax.tree.map(lambda a, i=i: np.asarray(a[i]), new_state)
                    n_test = int(te_mask[f].sum())
                    members[ci].append({"fold": f, "seed": s, "probs": probs[i, -1, :n_test]})
                    fit_time[ci].append(elapsed / len(chunk))
                    diverged[ci] |= bool(div[i])
        # Splits in the table's order; fit time is this rung's (its added epochs).
        order = {(f, s): f * len(seeds) + seeds.index(s) for f in range(len(folds)) for s in seeds}
        cands = [candidates[ci] for ci in alive]
        mem = [sorted(members[ci], key=lambda m: order[(m["fold"], m["seed"])]) for ci in alive]
        ft = [fit_time[ci] for ci in alive]
        status = ["diverged" if diverged[ci] else "ok" for ci in alive]
        extra = [{"iter": rung, "n_resources": epochs} for _ in alive]
        rows = score_table(ctx, cands, mem, status, ft, extra)
        table.extend(rows)
        done = epochs
        if rung + 1 < len(schedule):
            keep = schedule[rung + 1][0]
            means = np.array([np.mean(r["scores"][ctx["key"]]) if r["status"] == "ok" else -np.inf
                              for r in rows])
            means = np.where(np.isnan(means), -np.inf, means)
            order_ = np.argsort(-means, kind="stable")[:keep]
            alive = [alive[i] for i in sorted(order_)]
            states = {k: v for k, v in states.items() if k[0] in alive}
    return table, len(schedule)


def _dynamic(cfg: dict) -> dict:
    return {k: cfg[k] for k in sweep.DYNAMIC_KEYS if k in cfg and cfg[k] is not None}
