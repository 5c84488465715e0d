"""Sweep engine: configurations x CV folds x seeds as one vmapped program per
static group, results in scikit-learn's ``cv_results_`` layout.

A configuration is a dict of hyperparameters. Keys in :data:`STATIC_KEYS`
change array shapes or code (hidden sizes, bidirectional, head, batch size,
normalisation): configurations that share them form a *group*, compiled once.
Keys in :data:`DYNAMIC_KEYS` are arrays in :class:`~jaxlstm.train.HParams` and
are vmapped over, together with the fold and the seed. ``epochs`` is read off
the per-epoch curve: configurations that differ only in ``epochs`` are one
training run of the largest value, scored after each requested epoch count
(equal to training that many epochs, because each epoch's shuffling and
dropout keys depend only on the epoch index).

Each (configuration, fold, seed) *member* is scored on its fold's held-out rows
after exactly ``epochs`` epochs, as ``GridSearchCV`` scores a refitted Keras
model; scaler statistics and balanced class weights are fitted on the fold's
training rows inside the program.

With ``out_dir``, every member's result is appended to ``members.jsonl`` as
soon as its chunk finishes, keyed by a hash of its configuration, fold, seed
and the data; rerunning the same sweep skips finished members.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxlstm import jsonable
from jaxlstm import progress as progress_mod
from jaxlstm._checks import check_labels, check_sequences
from jaxlstm.tabulate import cv_results, param_columns  # noqa: F401  (param_columns: re-exported)
from jaxlstm.features import as_temporal_features
from jaxlstm.model import ModelConfig
from jaxlstm.params import check_param, check_params
from jaxlstm.train import Split, TrainConfig, fit, make_hparams, tuned_jit

__all__ = ["STATIC_KEYS", "DYNAMIC_KEYS", "SweepResult", "SweepInterrupted", "run_sweep", "make_folds",
           "expand_space", "estimate_member_bytes", "read_members", "pad_indices"]

STATIC_KEYS = ("hidden_sizes", "bidirectional", "head_size", "batch_size", "normalize", "matmul_dtype",
               "conv_filters", "conv_kernel_sizes", "lstm_over", "max_length", "features")
DYNAMIC_KEYS = ("learning_rate", "l1", "l2", "weight_decay", "dropout", "noise_std", "grad_clip",
                "class_weight_exponent", "class_weights", "logit_adjust_tau", "focal_gamma", "class_weight_beta")
DEFAULTS = {"hidden_sizes": (128,), "bidirectional": False, "head_size": None, "batch_size": 32,
            "normalize": "standard", "matmul_dtype": "float32", "conv_filters": (), "conv_kernel_sizes": (), "lstm_over": "time", "max_length": None,
            "features": None,
            "epochs": 10, "learning_rate": 1e-3, "l1": 0.0, "l2": 0.0, "weight_decay": 0.0, "dropout": 0.0, "noise_std": 0.0, "grad_clip": math.inf,
            "class_weight_exponent": 0.0, "class_weights": None, "logit_adjust_tau": 0.0, "focal_gamma": 0.0,
            "class_weight_beta": 0.0}
_REMEDIES = ("logit_adjust_tau", "focal_gamma", "class_weight_beta")  # hashed only when set: old runs resume
ALLOWED = set(DEFAULTS) | {"units", "class_weight"}  # LSTMClassifier's names, turned into the keys above


def expand_space(space=None, configs=None, n_iter: int | None = None, random_state=None) -> list[dict]:
    """Configurations from a grid (``ParameterGrid``), distributions
    (``ParameterSampler`` with ``n_iter``), or an explicit list."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    if (space is None) == (configs is None):
        raise ValueError("give exactly one of a search space or a list of configurations")
    if configs is not None:
        out = [dict(c) for c in configs]
    elif n_iter is None:
        out = list(ParameterGrid(space))
    else:
        out = list(ParameterSampler(space, n_iter, random_state=random_state))
    if not out:
        raise ValueError("the search space is empty")
    for c in out:
        unknown = set(c) - ALLOWED
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {sorted(unknown)}; allowed: {sorted(ALLOWED)}")
    for grid in [] if space is None else space if isinstance(space, list) else [space]:
        for k, values in grid.items():  # each member's value, by the rule LSTMClassifier uses
            if isinstance(values, (list, tuple, np.ndarray)):
                for i, v in enumerate(values):
                    check_param(k, v.item() if isinstance(v, np.generic) else v, where=f"space.{k}[{i}]: ")
    for i, c in enumerate(out):  # explicit configurations and values drawn from distributions
        check_params({k: v.item() if isinstance(v, np.generic) else v for k, v in c.items()},
                     where=f"{'configs' if configs is not None else 'candidates'}[{i}]: ")
    return out


def _normalise(cfg: Mapping) -> dict:
    c = {**DEFAULTS, **cfg}
    if "units" in cfg:  # the Keras tutorial's name for a single LSTM size
        c["hidden_sizes"] = (int(cfg["units"]),)
        del c["units"]
    if "class_weight" in cfg:  # LSTMClassifier's spelling: None, "balanced" or an exponent
        cw = c.pop("class_weight")
        if isinstance(cw, Mapping):
            raise ValueError("a sweep takes class_weight as None, 'balanced' or an exponent; per-class "
                             "weights go in class_weights, in class index order")
        c["class_weight_exponent"] = 0.0 if cw is None else 1.0 if cw == "balanced" else float(cw)
    hs = c["hidden_sizes"]
    c["hidden_sizes"] = (int(hs),) if np.isscalar(hs) else tuple(int(h) for h in hs)
    probe = ModelConfig(1, 2, conv_filters=c["conv_filters"], conv_kernel_sizes=c["conv_kernel_sizes"])
    c["conv_filters"], c["conv_kernel_sizes"] = probe.conv_filters, probe.conv_kernel_sizes  # hashable, filled in
    c["features"] = as_temporal_features(c["features"])  # hashable: a static key
    c["epochs"] = int(c["epochs"])
    c["batch_size"] = int(c["batch_size"])
    return c


def make_folds(y: np.ndarray, cv=5, random_state: int | None = 0, x=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_idx, test_idx)`` pairs: an int means ``StratifiedKFold`` (shuffled
    with ``random_state``); a scikit-learn splitter or a list of pairs is used as is."""
    from sklearn.model_selection import StratifiedKFold

    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise ValueError(f"cv must be >= 2 folds, got {cv}")
        counts = np.bincount(y)
        if counts[counts > 0].min() < cv:
            raise ValueError(f"the smallest class has {counts[counts > 0].min()} rows, fewer than cv={cv} folds")
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    if hasattr(cv, "split"):
        dummy = np.zeros((len(y), 1)) if x is None else x
        return [(np.asarray(a), np.asarray(b)) for a, b in cv.split(dummy, y)]
    return [(np.asarray(a), np.asarray(b)) for a, b in cv]


def pad_indices(idx_list: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays of unequal length (e.g. CV folds) as one ``Int[k, longest]``
    index array, zero-padded, and its ``Bool[k, longest]`` mask."""
    size = max(len(i) for i in idx_list)
    idx = np.zeros((len(idx_list), size), np.int32)
    mask = np.zeros((len(idx_list), size), bool)
    for k, i in enumerate(idx_list):
        idx[k, : len(i)] = i
        mask[k, : len(i)] = True
    return idx, mask


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
    ``path`` (``None`` without ``out_dir``), so the same call resumes."""

    def __init__(self, saved: int, total: int, path: str | None):
        super().__init__(f"interrupted; {saved}/{total} members saved"
                         + (f" in {path}; rerun to resume" if path else " (no out_dir, nothing kept)"))
        self.saved, self.total, self.path = saved, total, path


def _member_hash(static: dict, dyn: dict, fold: int, seed: int, fingerprint: str, max_epochs: int) -> str:
    dyn = {k: v for k, v in dyn.items() if not (k in _REMEDIES and v == 0.0)}
    static = {k: v for k, v in _plain(static).items() if not (k == "features" and v is None)}  # old runs resume
    payload = jsonable.dumps({"static": static, "dyn": dyn, "fold": fold, "seed": seed, "data": fingerprint,
                              "epochs": max_epochs}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _fingerprint(x, lengths, y, folds, scoring) -> str:
    h = hashlib.sha256()
    for a in (x, lengths, y):
        h.update(np.ascontiguousarray(a).tobytes())
    for tr, te in folds:
        h.update(np.asarray(tr, np.int64).tobytes())
        h.update(np.asarray(te, np.int64).tobytes())
    h.update(json.dumps(list(scoring)).encode())
    return h.hexdigest()[:20]


def _fit_member(x, lengths, y, split, hparams, seed, config):
    return fit(x, lengths, y, split, hparams, jax.random.key(seed), config)


_vfit = tuned_jit(jax.vmap(_fit_member, in_axes=(None, None, None, 0, 0, 0, None)), static_argnums=6)
_compiled: dict = {}  # one executable per (static group, chunk size, shapes) in this process


def estimate_member_bytes(train_cfg: TrainConfig, n: int, t: int) -> int:
    """Estimated working set of one sweep member in bytes (float32): its
    scaled copy of the data and the minibatch gathered from it, the
    activations kept for backprop of one minibatch, the forward pass over one
    evaluation batch, and parameters with gradients, Adam moments and the best
    copy. ``benchmarks/bench_memory.py`` checks it against measured peaks
    (98.5 MiB per member measured against 113 MiB estimated on CPU;
    ``benchmarks/RESULTS.md``)."""
    m = train_cfg.model
    hidden = sum(m.hidden_sizes) * (2 if m.bidirectional else 1)
    eval_rows = min(train_cfg.eval_batch_size, n)
    return 4 * (2 * n * t * m.input_width                         # scaled data, gathered rows
                + 12 * train_cfg.batch_size * t * 4 * hidden      # activations kept for backprop
                + 2 * eval_rows * t * 5 * hidden                  # evaluation forward pass
                + 12 * (m.input_width + hidden) * 4 * hidden)     # params, grads, Adam, best


def _auto_chunk(n_members: int, train_cfg: TrainConfig, n: int, t: int, memory_fraction=0.25) -> int:
    """Members per chunk so a chunk's working set stays under a share of memory."""
    per = estimate_member_bytes(train_cfg, n, t)
    stats = jax.devices()[0].memory_stats() or {}
    total = stats.get("bytes_limit")  # accelerators report their own memory
    if not total:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 << 30
    total *= jax.device_count()
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


def run_sweep(x, y, lengths=None, *, space=None, configs=None, n_iter=None, cv=5, seeds=(0,),
              select: str = "f1_macro", scoring: Sequence[str] | None = None,
              out_dir: str | os.PathLike | None = None, chunk_size: int | None = None,
              random_state: int | None = 0, num_classes: int | None = None, progress: bool = False,
              return_probs: bool = False, return_train_probs: bool = False) -> SweepResult:
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
        else the most that fit a memory estimate).
      num_classes: default ``max(y) + 1``.
      return_probs: keep each member's class probabilities for its fold's
        held-out rows after each requested epoch count (``val_probs`` in
        ``members``: ``{epochs: (n_test, classes) list}``), so they can be
        scored on the host with any scikit-learn scorer (``LSTMSearchCV``).
      return_train_probs: the same for the fold's training rows
        (``train_probs``), for ``return_train_score``.
      progress: show a progress bar over member-epochs with an ETA (on
        stderr; on process 0 only when several processes run the sweep).
    Returns:
      :class:`SweepResult`.
    """
    xa, la = check_sequences(x, lengths)
    ya = check_labels(y, len(xa), num_classes)
    c = int(num_classes or ya.max() + 1)
    scoring = tuple(scoring or dict.fromkeys((select, "accuracy", "balanced_accuracy", "f1_macro",
                                               "roc_auc_ovr", "neg_log_loss")))
    if select not in scoring:
        scoring = (select,) + scoring
    candidates = expand_space(space, configs, n_iter, random_state)
    norm = [_normalise(cfg) for cfg in candidates]
    folds = make_folds(ya, cv, random_state, xa)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty")
    tr_idx, tr_mask = pad_indices([f[0] for f in folds])
    te_idx, te_mask = pad_indices([f[1] for f in folds])
    fingerprint = _fingerprint(xa, la, ya, folds, scoring + (("probs",) if return_probs else ())
                               + (("train_probs",) if return_train_probs else ()))

    # Members: unique (static, dynamic-without-epochs, fold, seed); epochs read off.
    groups: dict[tuple, dict] = {}
    for ci, cfg in enumerate(norm):
        static = tuple((k, cfg[k]) for k in STATIC_KEYS)
        dyn = tuple((k, _freeze(cfg[k])) for k in DYNAMIC_KEYS)
        g = groups.setdefault(static, {"runs": {}, "max_epochs": 0})
        g["max_epochs"] = max(g["max_epochs"], cfg["epochs"])
        g["runs"].setdefault(dyn, []).append(ci)

    mesh = _mesh()
    data = tuple(_global(a, mesh) for a in (xa, la, ya))  # on the devices once, not per chunk
    done = _load_done(out_dir, fingerprint)
    _check_same_done(done)
    plan = []
    member_rows: dict[tuple, dict] = {}
    for static, g in groups.items():
        st = dict(static)
        model = _model_config(xa.shape[-1], c, st, la)
        tcfg = TrainConfig(model, batch_size=st["batch_size"], epochs=g["max_epochs"], select=select,
                           normalize=st["normalize"], record=scoring, progress=progress,
                           keep_val_probs=return_probs, keep_train_probs=return_train_probs)
        wanted = {dyn: sorted({norm[ci]["epochs"] for ci in cis}) for dyn, cis in g["runs"].items()}
        todo = []
        for dyn in g["runs"]:
            for fi in range(len(folds)):
                for s in seeds:
                    key = _member_hash(st, dict(dyn), fi, s, fingerprint, g["max_epochs"])
                    if key in done:
                        member_rows[(static, dyn, fi, s)] = done[key]
                    else:
                        todo.append((dyn, fi, s, key, wanted[dyn]))
        size = chunk_size or _default_chunk(len(todo), tcfg, len(xa), xa.shape[1])
        ndev = jax.device_count()
        size = -(-max(int(size), 1) // ndev) * ndev  # whole members on every device
        plan.append((static, st, tcfg, todo, size))

    total = sum(len(todo) * tcfg.epochs for _, _, tcfg, todo, _ in plan)
    n_members = len(member_rows) + sum(len(todo) for *_, todo, _ in plan)
    resumed = len(member_rows)
    show = progress and jax.process_index() == 0
    if show and resumed:
        print(f"resumed {resumed}/{n_members} members from {_members_path(out_dir)}; "
              f"{n_members - resumed} to train", file=sys.stderr, flush=True)
    bar = progress_mod.Progress(total, "sweep", "member-epochs", enabled=show and total > 0)
    compile_s = run_s = 0.0
    try:
        with bar:
            for static, st, tcfg, todo, size in plan:
                for start in range(0, len(todo), size):
                    chunk = todo[start : start + size]
                    bar.begin_step(len(chunk) * tcfg.epochs, tcfg.epochs)
                    t0 = time.perf_counter()
                    rows, c_s, exec_s = _run_chunk(data, mesh, c, tcfg, chunk, size, tr_idx, tr_mask, te_idx,
                                                   te_mask)
                    compile_s += c_s
                    run_s += time.perf_counter() - t0 - c_s
                    for (dyn, fi, s, key, _), row in zip(chunk, rows, strict=True):
                        row.update(static=_plain(st), dyn=_plain(dict(dyn)), fold=fi, seed=s, hash=key,
                                   fit_time=exec_s / len(chunk))
                        member_rows[(static, dyn, fi, s)] = row
                    _append(out_dir, fingerprint, rows)
                    bar.end_step()
    except KeyboardInterrupt:
        # what is on disk is complete rows only (each chunk is appended whole and fsynced)
        raise SweepInterrupted(len(member_rows), n_members,
                               _members_path(out_dir) if out_dir is not None else None) from None

    result = _tabulate(candidates, norm, groups, member_rows, folds, seeds, scoring, select)
    return dataclasses.replace(result, compile_s=compile_s, run_s=run_s, resumed=resumed, n_members=n_members)


def _model_config(num_features: int, num_classes: int, st: dict, lengths: np.ndarray) -> ModelConfig:
    """The :class:`ModelConfig` of a static group; a ``"channels"`` LSTM
    without ``max_length`` reads up to the longest sequence in ``lengths``."""
    channels = st["lstm_over"] == "channels"
    max_length = st["max_length"] if st["max_length"] is not None or not channels else int(np.max(lengths))
    model = ModelConfig(num_features, num_classes, tuple(st["hidden_sizes"]), st["bidirectional"], st["head_size"],
                        matmul_dtype=st["matmul_dtype"], conv_filters=st["conv_filters"],
                        conv_kernel_sizes=st["conv_kernel_sizes"], lstm_over=st["lstm_over"],
                        max_length=max_length if channels else None, features=st.get("features"))
    model.check_lengths(lengths)
    if model.features is not None:
        try:
            model.features.check(num_features, int(np.max(lengths)))
        except ValueError as e:
            raise ValueError(f"features.{e}") from None
    return model


def _freeze(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return tuple(float(a) for a in np.asarray(v).ravel())
    return float(v)


def _plain(d: dict) -> dict:
    """JSON-ready: tuples as lists, a features spec as the dict of its fields."""
    return {k: (list(v) if isinstance(v, tuple) else dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v)
            for k, v in d.items()}


def _chunk_args(data, mesh, c, tcfg, chunk, size, tr_idx, tr_mask, te_idx, te_mask) -> tuple[tuple, tuple]:
    """The vmapped ``fit``'s arguments for one chunk padded to ``size`` members
    (the member axis sharded over every device of every process when there
    are several), and the key of its compiled program."""
    padded = chunk + [chunk[-1]] * (size - len(chunk))  # fixed shape: one compile per group
    hps = [make_hparams(c, **{k: v for k, v in dict(dyn).items() if v is not None}) for dyn, *_ in padded]
    hp = jax.tree.map(lambda *v: np.stack([np.asarray(a) for a in v]), *hps)
    fi = np.array([m[1] for m in padded])
    split = Split(tr_idx[fi], tr_mask[fi], te_idx[fi], te_mask[fi])
    seeds = np.array([m[2] for m in padded], np.uint32)
    hp, split, seeds = jax.tree.map(lambda a: _global(a, mesh, member_axis=True), (hp, split, seeds))
    key = (tcfg, size, data[0].shape, split.train_idx.shape, split.val_idx.shape, mesh is not None)
    return (*data, split, hp, seeds), key


def _run_chunk(data, mesh, c, tcfg, chunk, size, tr_idx, tr_mask, te_idx, te_mask
               ) -> tuple[list[dict], float, float]:
    """Run one padded chunk of members through the vmapped ``fit``; returns
    the members' rows, the seconds spent compiling (the program, and the
    small programs that build its arguments the first time) and the seconds
    the compiled program ran."""
    t0 = time.perf_counter()
    cold = False
    args, key = _chunk_args(data, mesh, c, tcfg, chunk, size, tr_idx, tr_mask, te_idx, te_mask)
    if key not in _compiled:
        cold = True
        _compiled[key] = _vfit.lower(*args, tcfg).compile()
    compile_s = time.perf_counter() - t0 if cold else 0.0
    t1 = time.perf_counter()
    res = jax.block_until_ready(_compiled[key](*args))
    exec_s = time.perf_counter() - t1
    history, diverged = _fetch((res.history, res.diverged))
    probs = history.pop("val_probs", None)
    train_probs = history.pop("train_probs", None)
    rows = []
    for i, (_, f, _, _, wanted) in enumerate(chunk):
        row = {"status": "diverged" if bool(diverged[i]) else "ok",
               "history": {k: [float(v) for v in np.asarray(h[i])] for k, h in history.items()}}
        if probs is not None:
            n_test = int(te_mask[f].sum())
            row["val_probs"] = {str(e): np.asarray(probs[i, e - 1, :n_test]).tolist() for e in wanted}
        if train_probs is not None:
            n_train = int(tr_mask[f].sum())
            row["train_probs"] = {str(e): np.asarray(train_probs[i, e - 1, :n_train]).tolist() for e in wanted}
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


def _check_same_done(done: dict) -> None:
    """With several processes every one must see the same finished members
    (``out_dir`` on a shared file system), or they would run different chunks."""
    if jax.process_count() == 1:
        return
    from jax.experimental import multihost_utils

    mine = np.int64(len(done))
    first = multihost_utils.broadcast_one_to_all(mine)
    if int(first) != int(mine):
        raise ValueError(f"process {jax.process_index()} sees {int(mine)} finished members in out_dir "
                         f"but process 0 sees {int(first)}: out_dir must be one directory shared by "
                         "every process")


def _members_path(out_dir) -> str:
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
    path = _members_path(out_dir)
    if not os.path.exists(path):
        return {}
    if jax.process_index() == 0:  # the one writer
        _cut_torn_tail(path)
    return {row["hash"]: row for row in read_members(path) if row.get("data") == fingerprint}


def _append(out_dir, fingerprint, rows) -> None:
    if out_dir is None or jax.process_index() != 0:  # one writer across processes
        return
    os.makedirs(out_dir, exist_ok=True)
    path = _members_path(out_dir)
    text = "".join(jsonable.dumps({**r, "data": fingerprint}) + "\n" for r in rows)
    if os.path.exists(path):
        _cut_torn_tail(path)
    try:
        with open(path, "a") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise OSError(f"cannot append to {path}: {e}") from None


def _tabulate(candidates, norm, groups, member_rows, folds, seeds, scoring, select) -> SweepResult:
    """``cv_results_`` from the members' in-program validation curves, read at
    each candidate's ``epochs``."""
    n_splits = len(folds) * len(seeds)
    table, members = [], []
    for ci, cfg in enumerate(norm):
        static = tuple((k, cfg[k]) for k in STATIC_KEYS)
        dyn = tuple((k, _freeze(cfg[k])) for k in DYNAMIC_KEYS)
        e = cfg["epochs"] - 1
        row = {"params": candidates[ci], "scores": {m: np.zeros(n_splits) for m in scoring},
               "fit_time": np.zeros(n_splits), "status": "ok"}
        for fi in range(len(folds)):
            for si, s in enumerate(seeds):
                member = member_rows[(static, dyn, fi, s)]
                k = fi * len(seeds) + si
                for m in scoring:
                    row["scores"][m][k] = member["history"][f"val_{m}"][e]
                row["fit_time"][k] = member["fit_time"] * (e + 1) / len(member["history"]["train_loss"])
                if member["status"] != "ok":
                    row["status"] = "diverged"
                members.append({"candidate": ci, "params": candidates[ci], **member})
        table.append(row)
    res = cv_results(table, scoring, n_splits)
    best = int(np.argmin(res[f"rank_test_{select}"]))
    return SweepResult(res, members, best, candidates[best], float(res[f"mean_test_{select}"][best]), select)
