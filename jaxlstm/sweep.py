"""The sweep engine: the member executor, and :func:`run_sweep` on top of it.

:func:`execute` is the one place that trains members (:class:`~jaxlstm.plan.Member`:
static group, dynamic hyperparameters, fold, seed, optional start state): it
chunks them, compiles one vmapped program per static group and chunk size
(kept for the process), shards the member axis over every device of every
process, shows progress, and with ``out_dir`` appends each member's result to
``members.jsonl`` as soon as its chunk finishes, keyed by a hash of its
configuration, fold, seed and the data, so rerunning skips finished members.

:func:`run_sweep` is planning (:mod:`jaxlstm.plan`: space -> members), then
:func:`execute`, then tabulation (:mod:`jaxlstm.tabulate`: members ->
``cv_results_``). Each (configuration, fold, seed) member is scored on its
fold's held-out rows after exactly ``epochs`` epochs, as ``GridSearchCV``
scores a refitted Keras model; scaler statistics and balanced class weights
are fitted on the fold's training rows inside the program. ``epochs`` is read
off the per-epoch curve (equal to training that many epochs, because each
epoch's shuffling and dropout keys depend only on the epoch index).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
import sys
import time
import warnings
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm import blob, jsonable
from jaxlstm import progress as progress_mod
from jaxlstm._checks import check_labels, check_sample_weight, check_sequences
from jaxlstm.cache import register_compiled, relieve_memory_maps
from jaxlstm.features import ScalerStats
from jaxlstm.model import RIDGE_CLASSIFIERS, ModelConfig, minirocket_length, rocket_width
from jaxlstm.params import check_param, check_seeds
from jaxlstm.plan import (ALLOWED, DEFAULTS, DYNAMIC_KEYS, STATIC_KEYS, Member, expand_space,  # noqa: F401  (re-exported)
                          make_folds, normalise, pad_indices, plan_members)
from jaxlstm.tabulate import curve_table, cv_results, param_columns  # noqa: F401  (param_columns: re-exported)
from jaxlstm.train import Split, TrainConfig, fit, make_hparams, parts_used, program_key, tuned_jit

__all__ = ["STATIC_KEYS", "DYNAMIC_KEYS", "Member", "Execution", "execute", "SweepResult", "SweepInterrupted",
           "members_path", "run_sweep", "make_folds", "expand_space", "estimate_member_bytes", "even_chunk",
           "read_members", "pad_indices", "past_deadline"]

_REMEDIES = ("logit_adjust_tau", "focal_gamma", "class_weight_beta", "sampling_exponent", "augment_scale",
             "augment_warp", "augment_slice")  # hashed only when set: old runs resume

@dataclasses.dataclass
class SweepResult:
    """What a sweep returns.

    Attributes:
      cv_results_: scikit-learn's layout: ``params``, ``param_<name>``,
        ``split<k>_test_<metric>`` (split ``k`` runs over folds x seeds),
        ``mean_/std_/rank_test_<metric>``, ``mean_fit_time``, plus ``status``
        (``"ok"`` or ``"diverged"`` if any member of the candidate diverged).
      members: one dict per (configuration, fold, seed): its params, fold,
        seed, status, learning curves (``history``) and hash.
      best_index_, best_params_, best_score_: by ``rank_test_<select>``.
      compile_s: seconds spent compiling in this call (once per static group
        and chunk size; 0 when every program was already compiled).
      run_s: seconds spent training in this call (``fit_time`` per member is
        its share of the time its chunk's compiled program ran: neither
        compilation nor preparing the arguments is in it).
      resumed: members read back from ``out_dir`` instead of trained;
        n_members: members the sweep needed in all.
    """

    cv_results_: dict
    members: list[dict]
    best_index_: int
    best_params_: dict
    best_score_: float
    select: str
    compile_s: float = 0.0
    run_s: float = 0.0
    resumed: int = 0
    n_members: int = 0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`: ``saved`` of ``total`` members are in
    ``path`` (``None`` without ``out_dir``), so the same call resumes.
    ``during``: what was running, when not the members themselves (a
    search's refit, after its CV members were saved)."""

    def __init__(self, saved: int, total: int, path: str | None, during: str = ""):
        super().__init__(f"interrupted{f' during {during}' if during else ''}; {saved}/{total} members saved"
                         + (f" in {path}; rerun to resume" if path else " (no out_dir, nothing kept)")
                         + (f" ({during} runs again)" if during and path else ""))
        self.saved, self.total, self.path = saved, total, path


# The random-draw rule a member trained under, hashed only for the members whose
# draws it changed: 2 = input noise and the dropout between stacked layers drawn
# time-major, class-balanced sampling in two stages (2026-12-04). Rows saved under
# rule 1 then do not resume such members (they train again, the old rows stay in
# the file); every other member's hash, and so its resume, is unchanged.
# Bump it, and widen _redrawn, when a change alters some members' draws.
_DRAW_RULE = 2


def _redrawn(dyn: dict, static: dict) -> bool:
    """Whether a member's training draws changed with :data:`_DRAW_RULE`."""
    between_layers = len(static.get("hidden_sizes") or ()) > 1 and dyn.get("dropout", 0.0) > 0
    return between_layers or bool(parts_used(dyn) & {"input_noise", "balanced_sampling"})


def _member_hash(m: Member, fingerprint: str) -> str:
    dyn = {k: v for k, v in m.dyn if not (k in _REMEDIES and v == 0.0)}
    static = {k: v for k, v in _plain(dict(m.static)).items()  # keys at their "off" value left out: old runs resume
              if not (k == "features" and v is None) and not (k == "minirocket_features" and v == 0)
              and not (k == "classifier" and v == "network")}
    payload = {"static": static, "dyn": dyn, "fold": m.fold, "seed": m.seed, "data": fingerprint,
               "epochs": m.epochs, **({"offset": m.offset} if m.offset else {}),
               **({"draws": _DRAW_RULE} if _redrawn(dict(m.dyn), static) else {})}
    return hashlib.sha256(jsonable.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


def _fingerprint(x, lengths, y, folds, scoring, num_classes: int, sample_weight=None) -> str:
    h = hashlib.sha256()
    for a in (x, lengths, y):
        h.update(np.ascontiguousarray(a).tobytes())
    if sample_weight is not None:  # hashed only when given: unweighted folders saved before still resume
        h.update(b"sample_weight" + np.ascontiguousarray(sample_weight, np.float32).tobytes())
    if len(y) and num_classes != int(np.max(y)) + 1:
        # the output width is part of the data's meaning; hashed only when y does
        # not imply it, so folders saved before it was hashed still resume
        h.update(f"num_classes={num_classes}".encode())
    for tr, te in folds:
        h.update(np.asarray(tr, np.int64).tobytes())
        h.update(np.asarray(te, np.int64).tobytes())
    h.update(json.dumps(list(scoring)).encode())
    return h.hexdigest()[:20]


# w: the rows' sample weights, or None (an empty pytree: the program traced without them)
def _fit_member(x, lengths, y, w, split, hparams, seed, config):
    return fit(x, lengths, y, split, hparams, jax.random.key(seed), config, sample_weight=w)


def _fit_continue(x, lengths, y, w, split, hparams, seed, state, offset, config):
    return fit(x, lengths, y, split, hparams, jax.random.key(seed), config, start=(state, offset), sample_weight=w)


_vfit = tuned_jit(jax.vmap(_fit_member, in_axes=(None, None, None, None, 0, 0, 0, None)), static_argnums=7)
_vfit_continue = tuned_jit(jax.vmap(_fit_continue, in_axes=(None, None, None, None, 0, 0, 0, 0, None, None)),
                           static_argnums=9)
_compiled: dict = register_compiled({})  # one per (static group, chunk size, shapes, program_key(), continued)


def estimate_member_bytes(train_cfg: TrainConfig, n: int, t: int) -> int:
    """Estimated working set of one sweep member in bytes (float32): its
    scaled copy of the data and the minibatch gathered from it, the
    activations kept for backprop of one minibatch, the forward pass over one
    evaluation batch, and parameters with gradients, Adam moments and the best
    copy. ``benchmarks/bench_memory.py`` checks it against measured peaks
    (98.5 MiB per member measured against 113 MiB estimated on CPU;
    ``benchmarks/RESULTS.md``). With a MiniRocket branch, also its features
    of every row, one 64-row chunk's convolutions and its head; with
    ``classifier="minirocket"`` the ridge's Gram (or covariance) matrix, its
    eigenvectors and centred rows (not measured)."""
    m = train_cfg.model
    hidden = sum(m.hidden_sizes) * (2 if m.bidirectional else 1)
    width = rocket_width(m.rocket_plans) if m.minirocket_features else 0
    eval_rows = min(train_cfg.eval_batch_size, n)
    return 4 * (2 * n * t * m.input_width                         # scaled data, gathered rows
                + 12 * train_cfg.batch_size * t * 4 * hidden      # activations kept for backprop
                + 2 * eval_rows * t * 5 * hidden                  # evaluation forward pass
                + 12 * (m.input_width + hidden) * 4 * hidden      # params, grads, Adam, best
                + (2 * n * width + 64 * t * 84 * 8 + 12 * width * m.num_classes
                   if m.minirocket_features else 0)  # features, convolutions of 64 rows, their head
                + (64 * t * 84 * max(max(p[1]) for p in m.rocket_plans) * 6 + 2 * n * t * m.input_width
                   if m.classifier == "multirocket" else 0)  # its pools, the differences
                + (6 * min(n, width) ** 2 + 2 * n * width
                   if m.classifier in RIDGE_CLASSIFIERS else 0))  # ridge: decomposed matrix, eigenvectors, centred rows


def _auto_chunk(n_members: int, train_cfg: TrainConfig, n: int, t: int, memory_fraction=0.25) -> int:
    """Members per chunk so a chunk's working set stays under a share of memory."""
    per = estimate_member_bytes(train_cfg, n, t)
    # this process's device: another process's cannot be asked (until 2026-12-07 jax.devices()[0], which
    # made every process but 0 of a multi-process sweep fail unless chunk_size was given)
    stats = jax.local_devices()[0].memory_stats() or {}
    total = stats.get("bytes_limit")  # accelerators report their own memory
    if total:
        total *= jax.device_count()
    else:  # CPU devices: each process's share one RAM
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 << 30
        total *= jax.process_count()
    return int(max(1, min(n_members, (total * memory_fraction) // max(per, 1))))


def _default_chunk(n_members: int, train_cfg: TrainConfig, n: int, t: int) -> int:
    """Measured in ``benchmarks/bench_sweep.py`` (``benchmarks/RESULTS.md``): on
    CPU, vmapping all members is slower than a loop, while chunks of 4 were
    1.21x faster than a loop on the medium workload and within 10 % of it on
    the small one; so CPU runs 4 members per device per call. Accelerators
    take the largest chunk that fits the memory estimate. Either way the
    members are then spread evenly over the fewest calls of at most that
    size (9 members in chunks of at most 4: 3 calls of 3, not 4 + 4 + 1
    padded to 12, which trained a third more than needed)."""
    if jax.default_backend() == "cpu":
        cap = max(1, min(n_members, 4 * jax.device_count(), _auto_chunk(n_members, train_cfg, n, t)))
    else:
        cap = _auto_chunk(n_members, train_cfg, n, t)
    return even_chunk(n_members, cap)


def even_chunk(n_members: int, cap: int) -> int:
    """The smallest chunk size that covers ``n_members`` in as few calls as
    chunks of ``cap`` would: ``ceil(n / ceil(n / cap))``."""
    n_members, cap = max(1, n_members), max(1, cap)
    return -(-n_members // -(-n_members // cap))


@dataclasses.dataclass
class Execution:
    """What :func:`execute` returns.

    Attributes:
      rows: one dict per member, in the order given: ``status`` (``"ok"`` or
        ``"diverged"``), per-epoch ``history`` of this call's epochs,
        ``val_probs``/``train_probs`` (``{str(epochs): (rows, classes) list}``
        at the member's ``read_at``, when kept), ``state`` (its final
        :class:`~jaxlstm.train.TrainState`, NumPy leaves, when kept),
        ``model`` (its kept epoch's ``params``, ``scaler``, ``class_weights``
        and ``best_epoch``, NumPy leaves, when kept: the best epoch's, or
        with ``keep_model="last"`` the last epoch's; with ``out_dir``
        stored beside ``members.jsonl`` in ``models/`` and read back with
        the member),
        ``static``, ``dyn``, ``fold``, ``seed``, ``hash`` and ``fit_time``
        (its share of the time its chunk's compiled program ran).
      compile_s, run_s, resumed: as in :class:`SweepResult`.
      skipped: members not trained because ``deadline`` passed (their
        ``rows`` are ``None``).
    """

    rows: list[dict]
    compile_s: float = 0.0
    run_s: float = 0.0
    resumed: int = 0
    skipped: int = 0


def execute(x, lengths, y, folds, members: Sequence[Member], *, num_classes: int, select: str = "accuracy",
            record: Sequence[str] = ("accuracy",), keep_val_probs: bool = False, keep_train_probs: bool = False,
            keep_state: bool = False, keep_model: bool | str = False, patience: int | None = None,
            chunk_size: int | None = None, index_bucket: Callable[[int], int] | None = None,
            out_dir: str | os.PathLike | None = None, progress: bool = False,
            label: tuple[str, str] = ("sweep", "member-epochs"), deadline: float | None = None,
            until_done: Sequence[int] = (), parts: frozenset | None = None,
            sample_weight: np.ndarray | None = None) -> Execution:
    """Train ``members`` on ``x, lengths, y`` (checked arrays) with ``folds``
    (``(train_idx, test_idx)`` pairs): one compiled program per static group,
    epochs, offset and chunk size, members vmapped in chunks (``chunk_size``;
    default: 4 per device on CPU, else the most that fit a memory estimate)
    sharded over every device. ``record``: scorers per epoch on the held-out
    rows (``select`` keeps the best epoch's parameters, ``patience`` stops
    early); ``keep_*``: return probabilities, final states, kept models
    (``keep_model``: ``True`` the ``select`` epoch's, ``"last"`` the last
    epoch's, the model the held-out probabilities of the last reading are of).
    ``index_bucket`` rounds the padded fold index arrays up (shape buckets,
    so different data sizes share compiled programs). With ``out_dir``,
    members trained from scratch stream to ``members.jsonl`` (kept models to
    ``models/``, one file each) and finished ones are read back; with
    ``keep_model``, a member whose model file is missing or unreadable is
    trained again. ``progress``: a bar named and counted by ``label``.
    ``deadline`` (a :func:`time.monotonic` value): no chunk starts after it,
    except while a member of ``until_done`` (indices) is still untrained; the
    members left have ``None`` rows (``skipped``). ``parts``: the optional
    parts of the training step (:data:`jaxlstm.train.OPTIONAL_PARTS`) every
    program holds besides those its members use (``None``: only those), so
    that the calls of a search whose later rounds may use a part compile
    its programs once. ``sample_weight``: float32 ``(n,)`` weights of the
    rows' training losses (checked), or ``None``. Chunks run in the order of
    their first member, so under a deadline the members listed first (a
    search's ``initial_points``, in order) train first, whichever compiled
    program each needs. With several processes,
    process 0's clock decides for all.

    Raises:
      SweepInterrupted: Ctrl-C (what is on disk is complete members only).
    """
    if keep_model not in (False, True, "last"):
        raise ValueError(f"keep_model must be False, True or 'last', got {keep_model!r}")
    check_param("chunk_size", chunk_size)  # -1 and 2.5 were clamped to 1 and truncated to 2
    if out_dir is not None and (keep_state or any(m.start is not None for m in members)):
        raise ValueError("out_dir keeps members trained from scratch; continued members and states are not stored")
    fingerprint = _fingerprint(x, lengths, y, folds, tuple(record) + (("probs",) if keep_val_probs else ())
                               + (("train_probs",) if keep_train_probs else ()), num_classes, sample_weight)
    hashes = [_member_hash(m, fingerprint) for m in members]
    done = _load_done(out_dir, fingerprint)
    _check_same_done(done, fingerprint, hashes)
    rows = [_if_complete(done.get(h), m) for h, m in zip(hashes, members)]
    if keep_model:  # a resumed member needs its kept model too, or it trains again
        rows = [None if r is None else _with_model(out_dir, r, keep_model) for r in rows]
    resumed = sum(r is not None for r in rows)
    opts = dict(select=select, record=tuple(record), progress=progress, keep_val_probs=keep_val_probs,
                keep_train_probs=keep_train_probs, patience=patience)
    used = np.unique(np.concatenate([np.asarray(i, np.int64).ravel() for f in folds for i in f[:2]]
                                    or [np.zeros(0, np.int64)]))
    plan = _schedule(x, np.asarray(lengths)[used] if used.size else np.asarray(lengths), num_classes, members,
                     [i for i, r in enumerate(rows) if r is None], opts, chunk_size,
                     frozenset() if parts is None else frozenset(parts))
    show = progress and jax.process_index() == 0
    if show and resumed:
        print(f"resumed {resumed}/{len(members)} members from {members_path(out_dir)}; "
              f"{len(members) - resumed} to train", file=sys.stderr, flush=True)
    mesh = _mesh()
    data = tuple(_global(a, mesh) for a in (x, lengths, y))  # on the devices once, not per chunk
    data += (None if sample_weight is None else _global(np.asarray(sample_weight, np.float32), mesh),)
    idx = pad_indices([f[0] for f in folds], index_bucket) + pad_indices([f[1] for f in folds], index_bucket)
    total = sum(len(todo) * tcfg.epochs for tcfg, todo, _ in plan)
    out = Execution(rows, resumed=resumed)
    # by first member, not group by group: a later group's first members must not wait behind an
    # earlier group's last ones (a deadline would cut them off; the programs are compiled once either way)
    chunks = sorted(((tcfg, todo[s : s + size], size) for tcfg, todo, size in plan
                     for s in range(0, len(todo), size)), key=lambda t: t[1][0])

    def stop() -> bool:
        return deadline is not None and past_deadline(deadline) and all(rows[i] is not None for i in until_done)

    if chunks and stop():  # past the deadline already (a later round): no bar left behind at 0 %
        out.skipped = sum(r is None for r in rows)
        return out
    try:
        with progress_mod.Progress(total, *label, enabled=show and total > 0) as bar:
            for k, (tcfg, chunk, size) in enumerate(chunks):
                if k and stop():
                    out.skipped = sum(r is None for r in rows)
                    return out
                bar.begin_step(len(chunk) * tcfg.epochs, tcfg.epochs)
                t0 = time.perf_counter()
                new, c_s, exec_s = _run_chunk(data, mesh, num_classes, tcfg, [members[i] for i in chunk], size,
                                              idx, keep_state, keep_model)
                out.compile_s += c_s
                out.run_s += time.perf_counter() - t0 - c_s
                for i, row in zip(chunk, new, strict=True):
                    m = members[i]
                    row.update(static=_plain(dict(m.static)), dyn=_plain(dict(m.dyn)), fold=m.fold, seed=m.seed,
                               hash=hashes[i], fit_time=exec_s / len(chunk))
                    rows[i] = row
                _append(out_dir, fingerprint, new, keep_model)
                bar.end_step()
    except KeyboardInterrupt:
        raise SweepInterrupted(sum(r is not None for r in rows), len(members),
                               members_path(out_dir) if out_dir is not None else None) from None
    return out


def past_deadline(deadline: float) -> bool:
    """Whether ``time.monotonic()`` is past ``deadline``, on process 0's clock
    (so that every process stops at the same chunk of a collective program,
    or the same round of a search, whenever each started)."""
    late = time.monotonic() >= deadline
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        late = bool(multihost_utils.broadcast_one_to_all(np.asarray(late)))
    return late


def _schedule(x, lengths, c, members, todo, opts, chunk_size, parts=frozenset()
              ) -> list[tuple[TrainConfig, list[int], int]]:
    """The members still to train (indices), grouped by compiled program in
    the order they first appear, each group with its ``TrainConfig`` and chunk
    size; a group's program holds ``parts`` and the optional parts its members use.
    ``lengths``: those of the rows the folds use (not shape-bucket padding)."""
    groups: dict[tuple, list[int]] = {}
    for i in todo:
        m = members[i]
        groups.setdefault((m.static, m.epochs, m.offset, m.start is not None), []).append(i)
    plan = []
    for (static, epochs, _, _), group in groups.items():
        st = dict(static)
        model = _model_config(x.shape[-1], c, st, lengths)
        used = parts.union(*(parts_used(dict(members[i].dyn)) for i in group))
        tcfg = TrainConfig(model, batch_size=st["batch_size"], epochs=epochs, normalize=st["normalize"], parts=used,
                           **opts)
        size = chunk_size or _default_chunk(len(group), tcfg, len(x), x.shape[1])
        ndev = jax.device_count()
        plan.append((tcfg, group, -(-max(int(size), 1) // ndev) * ndev))  # whole members on every device
    return plan


def run_sweep(x, y, lengths=None, *, space=None, configs=None, n_iter=None, cv=5, seeds=(0,),
              select: str = "f1_macro", scoring: Sequence[str] | None = None,
              out_dir: str | os.PathLike | None = None, chunk_size: int | None = None,
              random_state: int | None = 0, num_classes: int | None = None, progress: bool = False,
              return_probs: bool = False, return_train_probs: bool = False, sample_weight=None) -> SweepResult:
    """Train every (configuration, fold, seed) member and tabulate the results.

    Args:
      x: ``(n, T, F)``; ``y``: ``(n,)`` ints; ``lengths``: ``(n,)`` or ``None``.
      space: a grid (dict of lists) or distributions (with ``n_iter``).
      configs: an explicit list of configuration dicts instead of ``space``.
      n_iter: sample this many configurations from ``space`` (random search).
      cv: folds (int: stratified, shuffled with ``random_state``), a splitter,
        or a list of ``(train_idx, test_idx)``.
      seeds: one member per seed per fold; split ``k`` of ``cv_results_`` is
        ``fold * len(seeds) + seed_index``.
      select: the scorer that ranks candidates.
      scoring: all scorers to report (default: ``select`` plus accuracy,
        balanced accuracy, macro F1, OvR ROC-AUC, log loss).
      out_dir: stream results there and resume from them.
      chunk_size: members per compiled call (default: 4 per device on CPU,
        else the most that fit a memory estimate); rounded up to a multiple
        of the device count, since every device trains the same number (the
        extra slots are padding copies, their results dropped).
      num_classes: default ``max(y) + 1``.
      return_probs: keep each member's class probabilities for its fold's
        held-out rows after each requested epoch count (``val_probs`` in
        ``members``: ``{str(epochs): (n_test, classes) list}``, keyed by
        text as JSON keys are, so a resumed member reads the same), so they can be
        scored on the host with any scikit-learn scorer (``LSTMSearchCV``).
      return_train_probs: the same for the fold's training rows
        (``train_probs``), for ``return_train_score``.
      progress: show a progress bar over member-epochs with an ETA (on
        stderr; on process 0 only when several processes run the sweep).
      sample_weight: ``(n,)`` non-negative weights of the rows' training
        losses (see :func:`jaxlstm.train.fit`), or ``None``; the held-out
        scores here are the program's, unweighted (``LSTMSearchCV`` weighs
        its scikit-learn scorers as ``GridSearchCV`` does).
    Returns:
      :class:`SweepResult`.
    """
    xa, la = check_sequences(x, lengths)
    ya = check_labels(y, len(xa), num_classes)
    scoring = tuple(scoring or dict.fromkeys((select, "accuracy", "balanced_accuracy", "f1_macro",
                                               "roc_auc_ovr", "neg_log_loss")))
    if select not in scoring:
        scoring = (select,) + scoring
    candidates = expand_space(space, configs, n_iter, random_state)
    norm = [normalise(cfg) for cfg in candidates]
    folds = make_folds(ya, cv, random_state, xa)
    if out_dir is not None and random_state is None and isinstance(cv, numbers.Integral):
        warnings.warn(f"random_state=None shuffles cv={cv} folds anew on every call, so the members in {out_dir} "
                      "will not resume (they belong to other folds); pass an integer random_state to resume",
                      UserWarning, stacklevel=2)
    w = check_sample_weight(sample_weight, len(ya), folds=folds)
    seeds = list(check_seeds(seeds))
    members, index = plan_members(norm, len(folds), seeds)
    run = execute(xa, la, ya, folds, members, num_classes=int(num_classes or ya.max() + 1), select=select,
                  record=scoring, keep_val_probs=return_probs, keep_train_probs=return_train_probs,
                  chunk_size=chunk_size, out_dir=out_dir, progress=progress, sample_weight=w)
    table, tagged = curve_table(candidates, [cfg["epochs"] for cfg in norm],
                                [[run.rows[i] for i in idx] for idx in index], scoring)
    res = cv_results(table, scoring, len(folds) * len(seeds))
    best = int(np.argmin(res[f"rank_test_{select}"]))
    return SweepResult(res, tagged, best, candidates[best], float(res[f"mean_test_{select}"][best]), select,
                       run.compile_s, run.run_s, run.resumed, len(members))


def _model_config(num_features: int, num_classes: int, st: dict, lengths: np.ndarray) -> ModelConfig:
    """The :class:`ModelConfig` of a static group; a ``"channels"`` LSTM
    without ``max_length`` reads up to the longest sequence in ``lengths``."""
    channels = st["lstm_over"] == "channels"
    max_length = st["max_length"] if st["max_length"] is not None or not channels else int(np.max(lengths))
    model = ModelConfig(num_features, num_classes, tuple(st["hidden_sizes"]), st["bidirectional"], st["head_size"],
                        matmul_dtype=st["matmul_dtype"], conv_filters=st["conv_filters"],
                        conv_kernel_sizes=st["conv_kernel_sizes"], lstm_over=st["lstm_over"],
                        max_length=max_length if channels else None, features=st.get("features"),
                        minirocket_features=st.get("minirocket_features", 0),
                        minirocket_length=minirocket_length(lengths, st.get("minirocket_features", 0),
                                                            st.get("classifier", "network")),
                        classifier=st.get("classifier", "network"))
    model.check_lengths(lengths)
    if model.features is not None:
        try:
            model.features.check(num_features, int(np.max(lengths)), "the longest sequence")
        except ValueError as e:
            raise ValueError(f"features.{e}") from None
    return model


def _plain(d: dict) -> dict:
    """JSON-ready: tuples as lists, a features spec as the dict of its fields."""
    return {k: (list(v) if isinstance(v, tuple) else dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v)
            for k, v in d.items()}


def _chunk_args(data, mesh, c, tcfg, chunk, size, idx) -> tuple[tuple, tuple]:
    """The vmapped ``fit``'s arguments for one chunk of members padded to
    ``size`` (the member axis sharded over every device of every process when
    there are several; continued members add their states and offset), and
    the key of its compiled program."""
    tr_idx, tr_mask, te_idx, te_mask = idx
    padded = chunk + [chunk[-1]] * (size - len(chunk))  # fixed shape: one compile per group
    hps = [make_hparams(c, **{k: v for k, v in m.dyn if v is not None}) for m in padded]
    stack = lambda *v: np.stack([np.asarray(a) for a in v])  # noqa: E731
    fi = np.array([m.fold for m in padded])
    split = Split(tr_idx[fi], tr_mask[fi], te_idx[fi], te_mask[fi])
    seeds = np.array([m.seed for m in padded], np.uint32)
    state = () if chunk[0].start is None else (jax.tree.map(stack, *[m.start for m in padded]),)
    hp, split, seeds, state = jax.tree.map(lambda a: _global(a, mesh, member_axis=True),
                                           (jax.tree.map(stack, *hps), split, seeds, state))
    offset = (_global(np.int32(chunk[0].offset), mesh),) if state else ()
    key = (tcfg, size, data[0].shape, split.train_idx.shape, split.val_idx.shape, mesh is not None, data[3] is None,
           program_key(), bool(state))
    return (*data, split, hp, seeds, *state, *offset), key


def _run_chunk(data, mesh, c, tcfg, chunk, size, idx, keep_state=False, keep_model: bool | str = False
               ) -> tuple[list[dict], float, float]:
    """Run one padded chunk of members through the vmapped ``fit``; returns
    the members' rows, the seconds spent compiling (the program, and the
    small programs that build its arguments the first time) and the seconds
    the compiled program ran."""
    t0 = time.perf_counter()
    cold = False
    args, key = _chunk_args(data, mesh, c, tcfg, chunk, size, idx)
    if key not in _compiled:
        cold = True
        relieve_memory_maps()
        _compiled[key] = (_vfit_continue if key[-1] else _vfit).lower(*args, tcfg).compile()
    compile_s = time.perf_counter() - t0 if cold else 0.0
    t1 = time.perf_counter()
    res = jax.block_until_ready(_compiled[key](*args))
    exec_s = time.perf_counter() - t1
    kept_trees = {**({"state": res.state} if keep_state else {}),
                  **({"model": dict(params=res.params if keep_model == "last" else res.best_params,
                                    scaler=res.scaler, class_weights=res.class_weights,
                                    best_epoch=jnp.full_like(res.best_epoch, chunk[0].offset + tcfg.epochs - 1)
                                    if keep_model == "last" else res.best_epoch)} if keep_model else {})}
    history, diverged, finite, kept_trees = _fetch((res.history, res.diverged, res.finite_epochs, kept_trees))
    kept = {name: (history.pop(name, None), mask) for name, mask in (("val_probs", idx[3]), ("train_probs", idx[1]))}
    rows = []
    for i, m in enumerate(chunk):
        row = {"status": "diverged" if bool(diverged[i]) else "ok", "finite_epochs": int(finite[i]),
               "history": {k: [float(v) for v in np.asarray(h[i])] for k, h in history.items()}}
        for name, (probs, mask) in kept.items():
            if probs is not None:
                n = int(mask[m.fold].sum())
                row[name] = {str(e): np.asarray(probs[i, e - m.offset - 1, :n]).tolist() for e in m.read_at}
        for name, tree in kept_trees.items():
            row[name] = jax.tree.map(lambda a, i=i: np.asarray(a[i]), tree)
        rows.append(row)
    return rows, compile_s, exec_s


def _mesh():
    """A 1-D mesh over every device of every process, or ``None`` for one device."""
    if jax.device_count() == 1:
        return None
    from jax.sharding import Mesh

    return Mesh(np.array(jax.devices()), ("member",))


def _global(a, mesh, member_axis: bool = False):
    """A host array as a (global) device array: split along its first axis
    over the mesh, or replicated. Every process passes the same host value;
    each places only its own devices' shards, which works on one host and
    across hosts (``jax.distributed.initialize``) alike."""
    a = np.asarray(a)
    if mesh is None:
        return jnp.asarray(a)
    from jax.sharding import NamedSharding, PartitionSpec

    sharding = NamedSharding(mesh, PartitionSpec("member") if member_axis else PartitionSpec())
    return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])


def _fetch(tree):
    """Device results to host NumPy; across processes, gathered to every process."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def _if_complete(row: dict | None, m: Member) -> dict | None:
    """A saved member row, or ``None`` (train it again) when it lacks the
    probabilities of an epoch count this member is read at: the run that
    saved it had another epochs grid (its hash is the longest epochs only)."""
    for name in ("val_probs", "train_probs"):
        if row is not None and name in row and not all(str(e) in row[name] for e in m.read_at):
            return None
    return row


def _check_same_done(done: dict, fingerprint: str, hashes: list[str]) -> None:
    """With several processes every one must hold the same data, members and
    finished members (``out_dir`` on a shared file system), or they would run
    different chunks: each process's digest of the three is gathered by all,
    so every process raises. (Until 2026-12-07 only the count of finished
    members was compared, by the processes other than 0: two out_dirs of
    equal counts mixed their members' results silently.)"""
    if jax.process_count() == 1:
        return
    if jax.local_device_count() * jax.process_count() != jax.device_count():  # JAX's collectives need it
        raise ValueError(f"process {jax.process_index()} has {jax.local_device_count()} of the "
                         f"{jax.device_count()} devices: every process must have as many devices as the others")
    import hashlib

    from jax.experimental import multihost_utils

    def digest(text: str) -> int:
        return int(np.frombuffer(hashlib.sha256(text.encode()).digest()[:4], np.int32)[0])

    parts = ("the data (x, lengths, y, folds, sample weights)", "the members to train",
             "the finished members read from out_dir")
    mine = np.array([digest(fingerprint), digest("\n".join(hashes)), digest("\n".join(sorted(done))), len(done)],
                    np.int32)
    every = np.asarray(multihost_utils.process_allgather(mine)).reshape(jax.process_count(), 4)
    differ = [what for k, what in enumerate(parts) if (every[:, k] != every[0, k]).any()]
    if differ:
        raise ValueError(f"the {jax.process_count()} processes differ in {' and '.join(differ)} (finished members "
                         f"per process: {every[:, 3].tolist()}): give every process the same data and search, and "
                         "out_dir one directory shared by every process")


def members_path(out_dir) -> str:
    """Where :func:`execute` streams its finished members in ``out_dir``."""
    return os.path.join(out_dir, "members.jsonl")


def read_members(path: str | os.PathLike) -> list[dict]:
    """The rows of a ``members.jsonl``. A line that is not JSON (a last line
    cut short by a kill or a full disk, or such a fragment that a run before
    this fix appended onto) is skipped: its member is trained again.

    Raises:
      ValueError: the file cannot be read (the path is named).
    """
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and "hash" in row:
                    rows.append(row)
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e}") from None
    return rows


def _cut_torn_tail(path: str) -> None:
    """Drop a last line without its newline (a write cut short), so that the
    next append starts on a line of its own instead of gluing onto it."""
    try:
        with open(path, "rb+") as f:
            end = f.seek(0, os.SEEK_END)
            if end == 0:
                return
            f.seek(end - 1)
            if f.read(1) == b"\n":
                return
            pos, block = end, 1 << 16
            while pos > 0:  # the last newline, read backwards a block at a time
                start = max(0, pos - block)
                f.seek(start)
                i = f.read(pos - start).rfind(b"\n")
                if i >= 0:
                    pos = start + i + 1
                    break
                pos = start
            f.truncate(pos)
    except OSError as e:
        raise ValueError(f"cannot repair {path}: {e}") from None


def _load_done(out_dir, fingerprint) -> dict:
    if out_dir is None:
        return {}
    path = members_path(out_dir)
    if not os.path.exists(path):
        return {}
    if jax.process_index() == 0:  # the one writer
        _cut_torn_tail(path)
    return {row["hash"]: row for row in read_members(path) if row.get("data") == fingerprint}


def _model_path(out_dir, member_hash: str, keep_model: bool | str) -> str:
    """Where a member's kept model is stored: by hash and by which epoch's
    model it is (``keep_model=True``'s best or ``"last"``'s last)."""
    return os.path.join(out_dir, "models", f"{member_hash}-{'last' if keep_model == 'last' else 'best'}.msgpack")


_MODEL_MAGIC = b"JAXLSTMM"  # a stored member model (jaxlstm.blob), not a checkpoint


def _save_model(path: str, model: dict) -> None:
    """Write a kept model (:mod:`jaxlstm.blob`: its NumPy leaves, checksummed,
    atomically: a torn write leaves no file, so its member trains again)."""
    tree = {"params": model["params"], "scaler": dict(model["scaler"]._asdict()),
            "class_weights": model["class_weights"], "best_epoch": model["best_epoch"]}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    blob.write(path, jax.tree.map(np.asarray, tree), _MODEL_MAGIC)


def _load_model(path: str) -> dict | None:
    """A kept model written by :func:`_save_model`, or ``None`` when the
    file is missing, cut short or altered (its checksum), or not such a model."""
    try:
        tree = blob.read(path, _MODEL_MAGIC, "stored member model")
        return {"params": tree["params"], "scaler": ScalerStats(**tree["scaler"]),
                "class_weights": tree["class_weights"], "best_epoch": tree["best_epoch"]}
    except (TypeError, ValueError, KeyError):
        return None


def _with_model(out_dir, row: dict, keep_model: bool | str) -> dict | None:
    """A resumed member's row with its stored kept model, or ``None`` (train
    it again) when there is none: saved before models were stored, or lost."""
    model = _load_model(_model_path(out_dir, row["hash"], keep_model))
    return None if model is None else {**row, "model": model}


def _append(out_dir, fingerprint, rows, keep_model: bool | str = False) -> None:
    if out_dir is None or jax.process_index() != 0:  # one writer across processes
        return
    os.makedirs(out_dir, exist_ok=True)
    path = members_path(out_dir)
    for r in rows:  # the model file first: a member row in members.jsonl then always has its model
        if "model" in r:
            model_path = _model_path(out_dir, r["hash"], keep_model)
            try:
                _save_model(model_path, r["model"])
            except OSError as e:
                raise OSError(f"cannot write {model_path}: {e}") from None
    text = "".join(jsonable.dumps({**{k: v for k, v in r.items() if k != "model"}, "data": fingerprint}) + "\n"
                   for r in rows)
    if os.path.exists(path):
        _cut_torn_tail(path)
    try:
        with open(path, "a") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OSError(f"cannot append to {path}: {e}") from None
