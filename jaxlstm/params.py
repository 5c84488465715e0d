"""The one table of user-facing parameter rules (scikit-learn's
``_parameter_constraints``, for every entry point at once).

:data:`PARAMETER_RULES` maps each parameter name to a :class:`Rule`: what is
allowed, as a predicate and as the words a message uses. The estimator, the
TOML config, the sweep's space and the CLI all call :func:`check_param`, so a
bad value gives one message everywhere::

    learning_rate must be a finite number >= 0, got -1

with only a prefix saying where the value came from (``"bad.toml:
model.learning_rate: "``, ``"argument --lr: "``, ``"space.dropout[1]: "``).

Values that are arrays (one per sweep member) go through
:func:`check_each`: every element meets the same rule. Settings of a search
that pass alone but not together (``fold_models`` with halving, ...) are
:data:`jaxlstm.search.SEARCH_CONFLICTS`, likewise one table for the
estimator and the TOML config.

This module imports nothing from jaxlstm: it sits with ``_checks`` at the
bottom of the layers.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable, Mapping

import numpy as np

__all__ = ["Rule", "PARAMETER_RULES", "MATMUL_DTYPES", "LSTM_OVER", "NORMALIZE", "CLASSIFIERS", "check_param", "check_params",
           "check_each", "show", "LOSS_HPARAM_RULES", "check_loss_hparams"]

# the choices of the string parameters (jaxlstm.model keeps the same tuples; tests/test_params.py checks)
MATMUL_DTYPES = ("float32", "bfloat16")
LSTM_OVER = ("time", "channels")
NORMALIZE = ("standard", "minmax", None)
CLASSIFIERS = ("network", "minirocket", "multirocket")  # the last two: jaxlstm.model.RIDGE_CLASSIFIERS


def show(v) -> str:
    """A value as a user wrote it: Python scalars, no NumPy reprs, integral
    floats without ``.0`` (so ``-1``, ``-1.0`` and ``np.float32(-1)`` read
    the same from every entry point)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(a) for a in v) + "]"
    if isinstance(v, float):
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    return repr(v)


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a parameter allows: ``ok(value) -> bool`` and its words
    (``"a number in [0, 1)"``), which follow "<name> must be"."""

    ok: Callable[[Any], bool]
    allowed: str


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def number(low: float = 0.0, high: float = math.inf, *, closed: str = "left", finite: bool = False) -> Rule:
    """A real number in an interval (``closed``: ``"left"``, ``"right"``,
    ``"both"`` or ``"neither"``; as scikit-learn's ``Interval(Real, ...)``);
    NaN never passes."""
    lo_ok = (lambda v: v >= low) if closed in ("left", "both") else (lambda v: v > low)
    hi_ok = (lambda v: v <= high) if closed in ("right", "both") or high == math.inf else (lambda v: v < high)
    if high == math.inf and closed in ("left", "neither"):
        words = f"a {'finite ' if finite else ''}number {'>=' if closed == 'left' else '>'} {show(low)}"
    else:
        words = f"a number in {'[' if closed in ('left', 'both') else '('}{show(low)}, {show(high)}" \
                f"{']' if closed in ('right', 'both') else ')'}"
    return Rule(lambda v: _is_number(v) and lo_ok(v) and hi_ok(v) and (not finite or math.isfinite(v)), words)


def integer(low: int = 1) -> Rule:
    """An integer ``>= low`` (``True`` is not the number 1)."""
    return Rule(lambda v: _is_int(v) and v >= low, "a positive integer" if low == 1 else f"an integer >= {low}")


def options(*choices) -> Rule:
    """One of ``choices`` (as scikit-learn's ``StrOptions``; ``None`` may be one)."""
    return Rule(lambda v: (v is None or isinstance(v, str)) and v in choices,
                "one of " + ", ".join(show(c) for c in choices))


def or_none(rule: Rule) -> Rule:
    """``None`` or what ``rule`` allows."""
    return Rule(lambda v: v is None or rule.ok(v), f"None or {rule.allowed}")


def _sizes(v, *, empty: bool) -> bool:
    if _is_int(v):
        return v >= 1
    return isinstance(v, (list, tuple, np.ndarray)) and (empty or len(v) > 0) and all(
        _is_int(a) and a >= 1 for a in v)


def _class_weight(v) -> bool:
    if v is None or v == "balanced":
        return True
    if isinstance(v, Mapping):  # each weight a finite number >= 0 (a list or a string failed deep in training)
        return all(_is_number(w) and 0 <= w < math.inf for w in v.values())
    return _is_number(v) and 0 <= v < math.inf


def _whole(v) -> bool:  # 2.0 is seed 2; 1.7 is not truncated to seed 1
    return _is_int(v) or (_is_number(v) and math.isfinite(v) and float(v).is_integer())


def _seeds(v) -> bool:
    return (isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0 and all(_whole(a) and 0 <= a < 2**32 for a in v)
            and len({int(a) for a in v}) == len(v))


def _flag(v) -> bool:
    return isinstance(v, (bool, np.bool_)) or (_is_int(v) and v in (0, 1))


PARAMETER_RULES: dict[str, Rule] = {
    # architecture (static: one compiled program per distinct value)
    "units": or_none(integer(1)),
    "hidden_sizes": Rule(lambda v: _sizes(v, empty=True), "a positive integer or a list of them ([]: no LSTM, "
                                                           "with conv_filters or minirocket_features)"),
    "bidirectional": Rule(_flag, "True or False"),
    "head_size": or_none(integer(1)),
    "conv_filters": Rule(lambda v: v is None or _sizes(v, empty=True), "None or a list of positive integers"),
    "conv_kernel_sizes": Rule(lambda v: v is None or _sizes(v, empty=True), "None or a list of positive integers"),
    "lstm_over": options(*LSTM_OVER),
    "max_length": or_none(integer(1)),
    "minirocket_features": Rule(lambda v: _is_int(v) and (v == 0 or v >= 84), "0 (none) or an integer >= 84"),
    "classifier": options(*CLASSIFIERS),
    "matmul_dtype": options(*MATMUL_DTYPES),
    "normalize": options(*NORMALIZE),
    "features": Rule(lambda v: v is None or isinstance(v, Mapping) or callable(getattr(v, "num_outputs", None)),
                     "None, a jaxlstm.features.TemporalFeatures or a dict of its fields (rolling_mean, "
                     "rolling_std, diff, events, include_input)"),
    "batch_size": integer(1),
    "epochs": integer(1),
    # dynamic hyperparameters (arrays in HParams; swept per member)
    "learning_rate": number(0, finite=True),
    "l1": number(0, finite=True),
    "l2": number(0, finite=True),
    "weight_decay": number(0, finite=True),
    "dropout": number(0, 1),
    "noise_std": number(0, finite=True),
    "grad_clip": or_none(number(0, closed="neither")),  # 0 would clip every update to nothing
    "class_weight": Rule(_class_weight, "None, 'balanced', a dict {label: weight >= 0} or an exponent >= 0 "
                                        "(weights balanced**e: 0 none, 1 balanced)"),
    "class_weight_exponent": number(0, finite=True),
    # imbalance remedies (jaxlstm.losses); _checks.LOSS_HPARAM_RULES names these rules
    "logit_adjust_tau": number(0, finite=True),  # logit-adjusted loss (Menon et al. 2021); 0 = off
    "focal_gamma": number(0, finite=True),  # focal loss (Lin et al. 2017); 0 = plain cross-entropy
    "class_weight_beta": number(0, 1),  # effective-number weights (Cui et al. 2019); 0 = off
    "focal_alpha": number(0, finite=True),  # focal loss per-class weights (each element)
    "sampling_exponent": number(0, 1, closed="both"),  # class-balanced minibatches: 0 natural, 1 balanced
    "augment_scale": number(0, finite=True),  # time-series augmentation strengths; 0 = off
    "augment_warp": number(0, finite=True),
    "augment_slice": number(0, 1),
    # fitting
    "n_ensemble": integer(1),
    "verbose": Rule(lambda v: isinstance(v, (bool, np.bool_)) or (_is_int(v) and v >= 0), "True, False or an "
                    "integer >= 0"),
    "patience": or_none(integer(1)),
    "validation_fraction": or_none(number(0, 1, closed="neither")),
    # searching (LSTMSearchCV, [search] in a TOML config)
    "ensemble_selection": or_none(integer(1)),  # the refit ensemble's size: greedy picks or CAWPE members; None = off
    "ensemble_rule": options("greedy", "cawpe"),  # how ensemble_selection's candidates are chosen and weighted
    "fold_models": Rule(lambda v: isinstance(v, (bool, np.bool_)), "True or False"),  # refit from the CV's models
    "post_hoc_offsets": Rule(lambda v: (isinstance(v, (bool, np.bool_)) or v == "always"),  # decision offsets
                             "False, True or 'always'"),
    "n_iter": integer(1),  # a sampled search's candidates (initial points included)
    # (a search's batch_size, candidates per round, is an integer >= 1 as the minibatch size: the one rule above)
    "n_initial": or_none(integer(1)),  # Bayesian search: candidates before the Gaussian process takes over
    "cv": integer(2),  # a number of folds (LSTMSearchCV also takes a splitter or (train, test) pairs)
    "factor": integer(2),  # successive halving: keep 1/factor of the candidates each rung
    "min_epochs": or_none(integer(1)),  # successive halving's first rung (at most the estimator's epochs)
    "max_time": or_none(number(0)),  # seconds; None: no limit
    "return_train_score": Rule(lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "refit": Rule(lambda v: isinstance(v, (bool, np.bool_, str)) or callable(v),  # GridSearchCV's forms
                  "True, False, a scorer name or a callable"),
    "n_jobs": or_none(Rule(_is_int, "an integer")),  # accepted and ignored, as GridSearchCV's types
    "chunk_size": or_none(integer(1)),  # members vmapped together in one program call; None: by memory
    "budget_minutes": number(0),  # a config's or the preset's max_time in minutes; 0: no limit
    "seeds": Rule(_seeds, "a non-empty list of distinct integers in [0, 2**32)"),  # members' seeds are uint32
}


def message(name: str, value, where: str = "") -> str:
    """``"<where><name> must be <allowed>, got <value>"``."""
    rule = PARAMETER_RULES[name]
    v = value.item() if isinstance(value, np.generic) else value
    if isinstance(v, float) and v.is_integer() and rule.ok(int(v)):  # "must be an integer, got 2" said nothing
        return f"{where}{name} must be {rule.allowed}, got the float {v!r}: write the integer {int(v)}"
    return f"{where}{name} must be {rule.allowed}, got {show(value)}"


def check_param(name: str, value, *, where: str = "") -> None:
    """Raise ``ValueError`` unless ``value`` meets ``name``'s rule.

    ``where`` is prefixed to the message (e.g. ``"bad.toml: model.dropout: "``).
    Names without a rule pass (they are checked where they are used).
    """
    rule = PARAMETER_RULES.get(name)
    if rule is not None and not rule.ok(value):
        raise ValueError(message(name, value, where))


def check_seeds(seeds, *, where: str = "") -> tuple[int, ...]:
    """Training seeds of a sweep or search (``seeds``' rule: a repeated seed is
    the same member twice, its split's scores duplicated and their std too
    small; members' seeds are uint32)."""
    check_param("seeds", seeds, where=where)
    return tuple(int(s) for s in seeds)


def check_params(values: Mapping[str, Any], *, where: str = "") -> None:
    """:func:`check_param` for every item of ``values``."""
    for name, value in values.items():
        check_param(name, value, where=where)


def check_each(name: str, values, *, where: str = "") -> None:
    """Every element of ``values`` (a scalar, a list or an array: one value
    per sweep member) meets ``name``'s rule; the message shows the first
    element that does not, and its index when there are several."""
    if hasattr(values, "__array__") and not isinstance(values, (np.ndarray, np.generic)):
        values = np.asarray(values)  # a JAX array
    if isinstance(values, (list, tuple, np.ndarray)) and name not in ("hidden_sizes", "conv_filters",
                                                                       "conv_kernel_sizes"):
        flat = np.asarray(values, dtype=object).reshape(-1) if np.ndim(values) else [values]
        for i, v in enumerate(flat):
            check_param(name, v.item() if isinstance(v, np.generic) else v,
                        where=f"{where}{name}[{i}]: " if len(flat) > 1 else where)
        return
    check_param(name, values.item() if isinstance(values, np.generic) else values, where=where)


# The pure loss functions' argument names (jaxlstm.losses) -> their rule in PARAMETER_RULES.
LOSS_HPARAM_RULES = {"tau": "logit_adjust_tau", "gamma": "focal_gamma", "beta": "class_weight_beta",
                     "alpha": "focal_alpha"}


def check_loss_hparams(*, names: dict[str, str] | None = None, **values) -> dict[str, np.ndarray]:
    """Range-check the imbalance remedies' hyperparameters under the pure
    loss functions' argument names (``tau``, ``gamma``, ``beta``, ``alpha``),
    by the rules of ``logit_adjust_tau``, ``focal_gamma``,
    ``class_weight_beta`` and ``focal_alpha`` in :data:`PARAMETER_RULES`.
    Under ``jit`` a bad ``beta`` would only show up as NaN weights.

    Values are scalars or arrays (e.g. one per sweep member; ``None`` is
    skipped); every element is checked. ``names`` maps an argument to the
    name the caller's user wrote (``{"beta": "cb_beta"}``), so the message
    names that parameter.

    Returns:
      the given values as float64 arrays.

    Raises:
      ValueError: a value outside its range, NaN, or a non-number; the
        message names the parameter and the value.
      TypeError: a keyword that is not one of the rules.
    """
    names = names or {}
    out = {}
    for key, v in values.items():
        if key not in LOSS_HPARAM_RULES:
            raise TypeError(f"check_loss_hparams got an unknown parameter {key!r}; "
                            f"known: {sorted(LOSS_HPARAM_RULES)}")
        if v is None:
            continue
        label = names.get(key, key)
        rule = PARAMETER_RULES[LOSS_HPARAM_RULES[key]]
        try:
            a = np.asarray(v, np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{label} must be {rule.allowed}, got {v!r}") from None
        flat = a.reshape(-1)
        bad = [i for i, e in enumerate(flat.tolist()) if not rule.ok(e)]
        if bad:
            got = show(v) if a.ndim == 0 else f"{show(flat[bad[0]])} (among {a.size} values)"
            raise ValueError(f"{label} must be {rule.allowed}, got {got}")
        out[key] = a
    return out
