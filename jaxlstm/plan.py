"""Planning (pure host code): a search space -> configurations -> members.

A configuration is a dict of hyperparameters. Keys in :data:`STATIC_KEYS`
change array shapes or code (hidden sizes, bidirectional, head, batch size,
normalisation): configurations that share them form a *group*, compiled once.
Keys in :data:`DYNAMIC_KEYS` are arrays in :class:`~jaxlstm.train.HParams` and
are vmapped over, together with the fold and the seed. ``epochs`` is read off
the per-epoch curve: configurations that differ only in ``epochs`` are one
training run of the largest value, scored after each requested epoch count.

:func:`plan_members` turns configurations into the unique :class:`Member`
runs that :func:`jaxlstm.sweep.execute` trains, and says which members make
up each configuration's splits.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from jaxlstm._checks import row_indices
from jaxlstm.features import as_temporal_features
from jaxlstm.model import RIDGE_CLASSIFIERS, ModelConfig, minirocket_classifier_keys
from jaxlstm.params import check_param, check_params

__all__ = ["STATIC_KEYS", "DYNAMIC_KEYS", "DEFAULTS", "ALLOWED", "Member", "expand_space", "normalise",
           "make_folds", "check_folds", "absent_classes", "pad_indices", "plan_members"]

STATIC_KEYS = ("hidden_sizes", "bidirectional", "head_size", "batch_size", "normalize", "matmul_dtype",
               "conv_filters", "conv_kernel_sizes", "lstm_over", "max_length", "features", "minirocket_features",
               "classifier")
DYNAMIC_KEYS = ("learning_rate", "l1", "l2", "weight_decay", "dropout", "noise_std", "grad_clip",
                "class_weight_exponent", "class_weights", "logit_adjust_tau", "focal_gamma", "class_weight_beta",
                "sampling_exponent", "augment_scale", "augment_warp", "augment_slice")
DEFAULTS = {"hidden_sizes": (128,), "bidirectional": False, "head_size": None, "batch_size": 32,
            "normalize": "standard", "matmul_dtype": "float32", "conv_filters": (), "conv_kernel_sizes": (), "lstm_over": "time", "max_length": None,
            "features": None, "minirocket_features": 0, "classifier": "network",
            "epochs": 10, "learning_rate": 1e-3, "l1": 0.0, "l2": 0.0, "weight_decay": 0.0, "dropout": 0.0, "noise_std": 0.0, "grad_clip": math.inf,
            "class_weight_exponent": 0.0, "class_weights": None, "logit_adjust_tau": 0.0, "focal_gamma": 0.0,
            "class_weight_beta": 0.0, "sampling_exponent": 0.0, "augment_scale": 0.0, "augment_warp": 0.0,
            "augment_slice": 0.0}
# what classifier="minirocket" / "multirocket" does not use (its ridge reads the class weights, class_weight_beta's too)
_NOT_RIDGE = ("batch_size", "matmul_dtype", "learning_rate", "l1", "l2", "weight_decay", "dropout", "noise_std",
              "grad_clip", "logit_adjust_tau", "focal_gamma", "sampling_exponent", "augment_scale", "augment_warp",
              "augment_slice")
ALLOWED = set(DEFAULTS) | {"units", "class_weight"}  # LSTMClassifier's names, turned into the keys above


class Member(NamedTuple):
    """One training run for :func:`jaxlstm.sweep.execute`.

    Attributes:
      static: ``((name, value), ...)`` over :data:`STATIC_KEYS`: the compiled group.
      dyn: ``((name, value), ...)`` over :data:`DYNAMIC_KEYS` (floats, tuples
        or ``None``): the member's :class:`~jaxlstm.train.HParams`.
      fold, seed: the CV fold (index into the folds) and the training seed.
      epochs: epochs to train (after ``offset``).
      read_at: epoch counts (counted from the start of training, ``offset``
        included) whose held-out probabilities to keep.
      start: a :class:`~jaxlstm.train.TrainState` (NumPy leaves) to continue
        from, trained ``offset`` epochs; ``None``: start afresh.
      offset: epochs ``start`` has trained.
    """

    static: tuple
    dyn: tuple
    fold: int
    seed: int
    epochs: int
    read_at: tuple = ()
    start: Any = None
    offset: int = 0


_SYNONYMS = (("class_weight", "class_weight_exponent"), ("units", "hidden_sizes"))  # what normalise() maps


def expand_space(space=None, configs=None, n_iter: int | None = None, random_state=None) -> list[dict]:
    """Configurations from a grid (``ParameterGrid``), distributions
    (``ParameterSampler`` with ``n_iter``), or an explicit list."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    if (space is None) == (configs is None):
        raise ValueError("give exactly one of a search space or a list of configurations")
    if configs is not None:
        if isinstance(configs, Mapping) or not all(isinstance(c, Mapping) for c in configs):
            bad = configs if isinstance(configs, Mapping) else next(c for c in configs if not isinstance(c, Mapping))
            raise ValueError(f"configs must be a list of dicts (one per configuration, e.g. [{{'units': 32}}, "
                             f"{{'units': 64}}]), got {'a dict' if bad is configs else 'an element'} {bad!r}")
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
    for i, c in enumerate(out):  # two spellings of one setting: neither may silently replace the other
        for a, b in _SYNONYMS:
            if a in c and b in c:
                raise ValueError(f"{'configs' if configs is not None else 'candidates'}[{i}] gives both {a} and {b}, "
                                 f"two spellings of one setting; give one")
    for i, c in enumerate(out):  # explicit configurations and values drawn from distributions
        check_params({k: v.item() if isinstance(v, np.generic) else v for k, v in c.items()},
                     where=f"{'configs' if configs is not None else 'candidates'}[{i}]: ")
    return out


def normalise(cfg: Mapping) -> dict:
    """A configuration with every key of :data:`DEFAULTS`, in the sweep's spelling."""
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
    if c["classifier"] in RIDGE_CLASSIFIERS:  # no network, no gradient steps: their keys would only split groups
        c.update(minirocket_classifier_keys(c["minirocket_features"], c["classifier"]))  # of equal members
        c.update({k: DEFAULTS[k] for k in _NOT_RIDGE})
    hs = c["hidden_sizes"]
    c["hidden_sizes"] = (int(hs),) if np.isscalar(hs) else tuple(int(h) for h in hs)
    probe = ModelConfig(1, 2, conv_filters=c["conv_filters"], conv_kernel_sizes=c["conv_kernel_sizes"])
    c["conv_filters"], c["conv_kernel_sizes"] = probe.conv_filters, probe.conv_kernel_sizes  # hashable, filled in
    c["features"] = as_temporal_features(c["features"])  # hashable: a static key
    if c["lstm_over"] != "channels":
        c["max_length"] = None  # unused over time: neither a group of its own nor another member hash
    c["epochs"] = int(c["epochs"])
    c["batch_size"] = int(c["batch_size"])
    return c


def make_folds(y: np.ndarray, cv=5, random_state: int | None = 0, x=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_idx, test_idx)`` pairs: an int means ``StratifiedKFold`` (shuffled
    with ``random_state``); a scikit-learn splitter or a list of pairs is used as is."""
    from sklearn.model_selection import StratifiedKFold

    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be >= 2 folds, got {cv}")
        counts = np.unique(np.asarray(y), return_counts=True)[1]  # any labels StratifiedKFold takes
        if counts.min() < cv:
            raise ValueError(f"the smallest class has {counts.min()} rows, fewer than cv={cv} folds")
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    if isinstance(cv, (str, bytes, float, bool)) or not hasattr(cv, "split") and not hasattr(cv, "__iter__"):
        raise ValueError(f"cv must be a number of folds >= 2, a scikit-learn splitter or a list of "
                         f"(train indices, test indices) pairs, got {cv!r}")
    if hasattr(cv, "split"):
        dummy = np.zeros((len(y), 1)) if x is None else x
        return check_folds(cv.split(dummy, y), len(y))
    return check_folds(cv, len(y))


def check_folds(folds, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train_idx, test_idx)`` pairs of row indices in ``[0, n)`` (a
    boolean mask of length ``n`` becomes its indices), each part non-empty.

    Raises:
      ValueError: naming the fold and the part: not integers, an index out of
        range or negative (NumPy would wrap it: silently other rows), empty.
    """
    out = []
    for k, fold in enumerate(folds):
        try:
            train, test = fold
        except (TypeError, ValueError):
            raise ValueError(f"cv: fold {k} is not a (train indices, test indices) pair") from None
        pair = []
        for part, idx in (("train", train), ("test", test)):
            a = row_indices(idx, n, f"cv: fold {k}'s {part} indices")
            if a.size == 0:
                raise ValueError(f"cv: fold {k} has no {part} rows")
            pair.append(a)
        out.append(tuple(pair))
    if not out:
        raise ValueError("cv gives no folds")
    return out


def absent_classes(folds, y: np.ndarray, n_classes: int) -> dict[int, np.ndarray]:
    """``{fold: class indices}`` for the folds whose training rows lack a
    class of ``y`` (``Int[n]`` in ``[0, n_classes)``); folds with every class
    are left out."""
    out = {}
    for k, (train, _) in enumerate(folds):
        missing = np.setdiff1d(np.arange(n_classes), np.asarray(y)[train])
        if missing.size:
            out[k] = missing
    return out


def pad_indices(idx_list: Sequence[np.ndarray], bucket: Callable[[int], int] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays of unequal length (e.g. CV folds) as one ``Int[k, longest]``
    index array, zero-padded, and its ``Bool[k, longest]`` mask; with
    ``bucket``, ``longest`` (when not 0) is rounded up by it."""
    size = max(len(i) for i in idx_list)
    size = bucket(size) if bucket is not None and size else size
    idx = np.zeros((len(idx_list), size), np.int32)
    mask = np.zeros((len(idx_list), size), bool)
    for k, i in enumerate(idx_list):
        idx[k, : len(i)] = i
        mask[k, : len(i)] = True
    return idx, mask


def freeze(v):
    """A dynamic value as something hashable: ``None``, a float or a tuple of floats."""
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return tuple(float(a) for a in np.asarray(v).ravel())
    return float(v)


def plan_members(configs: Sequence[Mapping], n_folds: int, seeds: Sequence[int], start=None, offset: int = 0,
                 *, share_epochs: bool = True) -> tuple[list[Member], list[list[int]]]:
    """The unique members that train normalised ``configs`` on every fold and
    seed, in the order of the first configuration that needs each, and for
    each configuration the indices of its members in split order
    (``fold * len(seeds) + seed index``).

    Configurations that differ only in ``epochs`` share members: one run of
    their largest ``epochs``, read at each (``share_epochs=False``: each its
    own run, so that every configuration's members end at its own epochs and
    their final models are its models). Other configurations of the same
    compiled program train their own ``epochs``, not the program's largest
    (the executor compiles one program per epoch count). With ``start`` (one list of
    split states per configuration), every member continues from its state,
    trained ``offset`` epochs, for the configuration's ``epochs`` more.
    """
    keys = [(tuple((k, c[k]) for k in STATIC_KEYS), tuple((k, freeze(c[k])) for k in DYNAMIC_KEYS),
             None if share_epochs else c["epochs"]) for c in configs]
    longest: dict[tuple, int] = {}
    read_at: dict[tuple, set] = {}
    for key, c in zip(keys, configs):
        longest[key] = max(longest.get(key, 0), c["epochs"])
        read_at.setdefault(key, set()).add(offset + c["epochs"])
    members, at = [], {}
    for ci, run in enumerate(keys):  # in the order of the configurations (the executor runs them so)
        for split in range(n_folds * len(seeds)):
            fold, s = divmod(split, len(seeds))
            key = (run, fold, seeds[s])
            if key not in at:
                at[key] = len(members)
                members.append(Member(run[0], run[1], fold, seeds[s], longest[run], tuple(sorted(read_at[run])),
                                      None if start is None else start[ci][split], offset))
    index = [[at[(run, split // len(seeds), seeds[split % len(seeds)])] for split in range(n_folds * len(seeds))]
             for run in keys]
    return members, index
