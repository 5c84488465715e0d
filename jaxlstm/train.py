"""Training: a pure train step, epochs as ``lax.scan``, best-epoch selection.

Everything here is a pure function of arrays; callers apply ``jax.jit`` (and,
in a sweep, ``jax.vmap`` over members). The dataset stays resident on the
device: an epoch gathers shuffled minibatches from it by index inside the
scan, and the last partial batch is masked rather than dropped.

``HParams`` is a pytree of arrays, so every field can differ between members
of a vmapped sweep; :class:`TrainConfig` is the static part (it changes array
shapes or code) and is a jit static argument.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from jaxlstm import features, losses, metrics, progress, ridge, rocket
from jaxlstm._checks import check_labels, check_sample_weight, check_sequences, row_indices
from jaxlstm.cache import register_compiled, relieve_memory_maps
from jaxlstm.params import check_each, check_params
from jaxlstm.model import RIDGE_CLASSIFIERS, LSTMClassifierNet, ModelConfig, init_params, minirocket_rows

Array = jax.Array

__all__ = [
    "HParams",
    "make_hparams",
    "TrainConfig",
    "TrainState",
    "Split",
    "FitResult",
    "make_optimizer",
    "init_state",
    "train_step",
    "run_epoch",
    "predict_logits",
    "probabilities",
    "ensemble_probabilities",
    "model_inputs",
    "check_inputs",
    "min_length",
    "augment",
    "fit",
    "compiler_options",
    "OPTIONAL_PARTS",
    "parts_used",
    "tuned_jit",
]


class HParams(NamedTuple):
    """Dynamic hyperparameters: scalars (``Float[]``, or ``Float[member]`` in a
    sweep) except ``class_weights`` (``Float[classes]``).

    Attributes:
      learning_rate: Adam step size.
      l1, l2: Keras-style penalties ``l1 * sum|w| + l2 * sum w**2`` over kernels.
      weight_decay: decoupled (AdamW) decay of kernels; the alternative to ``l2``.
      dropout: dropout rate between layers and before/inside the head.
      noise_std: standard deviation of Gaussian noise added to every input
        value of a training batch after scaling (Keras' ``GaussianNoise``;
        with ``normalize="standard"`` it is in units of each feature's
        standard deviation). Never applied when predicting.
      grad_clip: maximum global gradient norm (``inf`` = no clipping).
      class_weight_exponent: 0 = unweighted, 1 = "balanced", fitted on the
        training rows inside the program.
      class_weights: explicit per-class multipliers (ones = none).
      logit_adjust_tau: logit-adjusted cross-entropy (Menon et al., ICLR
        2021): the softmax sees ``logits + tau * log(prior)``, the prior
        fitted on the training rows inside the program; 0 = off, 1 = the
        balanced softmax. Predictions use the unadjusted logits.
      focal_gamma: focal loss (Lin et al., ICCV 2017) focusing parameter,
        with the class weights as its ``alpha``; 0 = weighted cross-entropy.
      class_weight_beta: class-balanced "effective number" weights (Cui et
        al., CVPR 2019), fitted on the training rows. One rule: ``beta > 0``
        *replaces* ``balanced ** class_weight_exponent`` by
        ``effective_number_weights(counts, beta)`` (explicit
        ``class_weights`` still multiply); ``beta = 0`` leaves the exponent's
        weights as they are.
      sampling_exponent: class-balanced minibatch sampling: each epoch draws
        as many rows as there are training rows, with replacement, row ``i``
        with probability ``∝ count(y_i) ** -e`` (0 = today's shuffled pass
        over every row, bit-identical; 1 = every class equally often).
      augment_scale: time-series augmentation of training batches (after
        scaling, never when predicting): each row times ``1 + s * N(0, 1)``.
      augment_warp: magnitude warping: each row times a piecewise-linear
        curve through 4 knots ``1 + w * N(0, 1)`` (Um et al. 2017).
      augment_slice: window slicing: each row's window of ``1 - r`` of its
        span at a random start, stretched over the row (Le Guennec et al.
        2016); in ``[0, 1)``. All three 0 = no augmentation (bit-identical).
    """

    learning_rate: Array
    l1: Array
    l2: Array
    weight_decay: Array
    dropout: Array
    grad_clip: Array
    class_weight_exponent: Array
    class_weights: Array
    noise_std: Array
    logit_adjust_tau: Array
    focal_gamma: Array
    class_weight_beta: Array
    sampling_exponent: Array
    augment_scale: Array
    augment_warp: Array
    augment_slice: Array


def make_hparams(num_classes: int, learning_rate=1e-3, l1=0.0, l2=0.0, weight_decay=0.0,
                 dropout=0.0, grad_clip=math.inf, class_weight_exponent=0.0,
                 class_weights=None, noise_std=0.0, logit_adjust_tau=0.0, focal_gamma=0.0,
                 class_weight_beta=0.0, sampling_exponent=0.0, augment_scale=0.0, augment_warp=0.0,
                 augment_slice=0.0) -> HParams:
    """:class:`HParams` as float32 arrays, with checked ranges.

    Raises:
      ValueError: a negative rate or penalty, dropout outside ``[0, 1)``, a
        negative ``logit_adjust_tau`` or ``focal_gamma``, ``class_weight_beta``
        outside ``[0, 1)``, or ``class_weights`` of the wrong length, negative,
        or 0 for every class.
    """
    f = lambda v: jnp.asarray(v, jnp.float32)
    for name, v in (("learning_rate", learning_rate), ("l1", l1), ("l2", l2), ("weight_decay", weight_decay),
                    ("grad_clip", grad_clip), ("class_weight_exponent", class_weight_exponent),
                    ("noise_std", noise_std), ("dropout", dropout), ("logit_adjust_tau", logit_adjust_tau),
                    ("focal_gamma", focal_gamma), ("class_weight_beta", class_weight_beta),
                    ("sampling_exponent", sampling_exponent), ("augment_scale", augment_scale),
                    ("augment_warp", augment_warp), ("augment_slice", augment_slice)):
        check_each(name, v)
        if v is not None and np.all(np.isfinite(np.asarray(v, np.float64))):  # as the program holds them:
            check_each(name, np.asarray(v, np.float32).tolist(), where=f"{name} in float32 (the training precision): ")
    grad_clip = math.inf if grad_clip is None else grad_clip
    if class_weights is None:
        cw = jnp.ones(num_classes, jnp.float32)
    else:
        cw = f(class_weights)
        if cw.shape[-1:] != (num_classes,):
            raise ValueError(f"class_weights must have {num_classes} entries, got shape {cw.shape}")
        if not np.all(np.isfinite(np.asarray(cw))) or np.any(np.asarray(cw) < 0):
            raise ValueError("class_weights must be finite and >= 0")
        if np.any(np.all(np.asarray(cw) == 0, axis=-1)):
            raise ValueError("class_weights gives every class weight 0: the loss would be 0 and nothing learnt")
    return HParams(f(learning_rate), f(l1), f(l2), f(weight_decay), f(dropout), f(grad_clip),
                   f(class_weight_exponent), cw, f(noise_std), f(logit_adjust_tau), f(focal_gamma),
                   f(class_weight_beta), f(sampling_exponent), f(augment_scale), f(augment_warp), f(augment_slice))


# The training step's optional parts, each with the hyperparameters that turn it on
# (a non-zero value). Each is a ``lax.cond`` (or a select) that a model without it never
# takes; :class:`TrainConfig` ``parts`` leaves the unused ones out of the program.
OPTIONAL_PARTS = {
    "input_noise": ("noise_std",),
    "augmentation": ("augment_scale", "augment_warp", "augment_slice"),
    "balanced_sampling": ("sampling_exponent",),
    "loss_remedy": ("logit_adjust_tau", "focal_gamma"),
}


def parts_used(hparams) -> frozenset:
    """The :data:`OPTIONAL_PARTS` that hyperparameters turn on: an
    :class:`HParams` (a vmapped sweep's batched one counts a part if any
    member uses it) or a mapping of names to values (absent names: off).
    Host-side; any value other than 0 counts, NaN included, so a part is
    only ever left out where the step's own test would skip it."""
    get = hparams.get if isinstance(hparams, Mapping) else lambda k, d: getattr(hparams, k, d)
    return frozenset(part for part, keys in OPTIONAL_PARTS.items()
                     if any(np.any(np.asarray(get(k, 0.0), np.float64) != 0) for k in keys))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Static training settings (hashable; a jit static argument).

    Attributes:
      model: the architecture.
      batch_size: minibatch size.
      epochs: number of epochs.
      select: scorer name (``jaxlstm.metrics.SCORERS``) whose best validation
        value picks the kept epoch.
      normalize: ``"standard"``, ``"minmax"`` or ``None``; fitted on training rows.
      patience: stop updating after this many epochs without improvement
        (``None``: train all epochs; the best epoch is kept either way).
      record: scorers recorded per epoch on the validation rows.
      eval_batch_size: rows per forward pass when scoring.
      keep_val_probs: also record the validation rows' class probabilities
        after every epoch (``history["val_probs"]``, ``(epochs, n_val,
        classes)``), so a host can score them with any scikit-learn scorer.
      keep_train_probs: the same for the training rows (``history["train_probs"]``,
        ``(epochs, n_train, classes)``; scikit-learn's ``return_train_score``).
      progress: report each finished epoch to the active
        :class:`jaxlstm.progress.Progress` (a host callback per epoch).
      parts: the optional parts of the training step (:data:`OPTIONAL_PARTS`)
        the compiled program holds; default all. A part left out is one no
        member's hyperparameters turn on (:func:`parts_used`): its branch would
        never be taken, so the models are the same and the program smaller
        (a small model's training program compiles in about two thirds of the
        time without all four). A member that turns on a part left out trains
        without it: callers pass at least ``parts_used(hparams)``.
    """

    model: ModelConfig
    batch_size: int = 32
    epochs: int = 10
    select: str = "f1_macro"
    normalize: str | None = "standard"
    patience: int | None = None
    record: tuple[str, ...] = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_ovr", "neg_log_loss")
    eval_batch_size: int = 512
    progress: bool = False
    keep_val_probs: bool = False
    keep_train_probs: bool = False
    parts: frozenset = frozenset(OPTIONAL_PARTS)

    def __post_init__(self):
        object.__setattr__(self, "parts", frozenset(self.parts))
        if not self.parts <= set(OPTIONAL_PARTS):
            raise ValueError(f"TrainConfig.parts: unknown {sorted(self.parts - set(OPTIONAL_PARTS))}; "
                             f"the optional parts are {list(OPTIONAL_PARTS)}")
        check_params({"batch_size": self.batch_size, "epochs": self.epochs, "patience": self.patience,
                      "normalize": self.normalize})
        metrics.get_scorer(self.select)
        for name in self.record:
            metrics.get_scorer(name)
        if self.select not in self.record:
            object.__setattr__(self, "record", tuple(self.record) + (self.select,))


@struct.dataclass
class TrainState:
    """What a train step reads and writes.

    ``class_weights`` and ``class_prior`` are fitted on the training rows
    (like scaler statistics) and fixed during training. ``diverged`` turns true the first time a loss
    or gradient is not finite; from then on the member is frozen.
    """

    params: Any
    opt_state: Any
    step: Array
    class_weights: Array
    class_prior: Array
    diverged: Array
    model: ModelConfig = struct.field(pytree_node=False)


class Split(NamedTuple):
    """Row indices into the resident dataset, padded to static sizes.

    ``train_idx: Int[n_train]`` with ``train_mask: Bool[n_train]`` (false =
    padding), and likewise for validation. A sweep pads every fold to the same
    sizes so that folds are a vmapped axis.
    """

    train_idx: Array
    train_mask: Array
    val_idx: Array
    val_mask: Array


class FitResult(NamedTuple):
    """Output of :func:`fit`. ``history`` maps names to ``Float[epochs]``:
    ``train_loss`` and ``val_<scorer>`` for each recorded scorer. ``state``
    is the final :class:`TrainState` (parameters and optimizer state), from
    which ``fit(..., start=(state, epochs_done))`` continues. ``finite_epochs``
    counts this call's epochs that ended before the run diverged (all of
    them when it did not): a reading of the curve at epoch ``e <= finite_epochs``
    is of a model that never diverged."""

    params: Any
    best_params: Any
    best_epoch: Array
    best_score: Array
    diverged: Array
    scaler: features.ScalerStats
    class_weights: Array
    history: dict
    state: Any = None
    finite_epochs: Any = None


def _adamw_with_clipping(learning_rate, weight_decay, grad_clip):
    return optax.chain(
        optax.clip_by_global_norm(grad_clip),
        optax.adamw(learning_rate, weight_decay=weight_decay, mask=losses.kernel_mask),
    )


def make_optimizer(hparams: HParams) -> optax.GradientTransformation:
    """Adam(W) with global-norm clipping; learning rate, decay and clip norm are
    injected into the optimizer state (``optax.inject_hyperparams``) so they
    may be traced values that differ per sweep member."""
    return optax.inject_hyperparams(_adamw_with_clipping)(
        learning_rate=hparams.learning_rate, weight_decay=hparams.weight_decay,
        grad_clip=hparams.grad_clip)


def init_state(model: ModelConfig, hparams: HParams, class_weights: Array, rng: Array,
               class_prior: Array | None = None) -> TrainState:
    """Fresh parameters and optimizer state (pure; vmappable over ``rng``).
    ``class_prior`` (``Float[classes]``, for ``logit_adjust_tau``) defaults to
    uniform, under which logit adjustment changes nothing."""
    params = init_params(model, rng)
    opt_state = make_optimizer(hparams).init(params)
    if class_prior is None:
        class_prior = jnp.full(model.num_classes, 1.0 / model.num_classes, jnp.float32)
    return TrainState(params=params, opt_state=opt_state, step=jnp.zeros((), jnp.int32),
                      class_weights=class_weights, class_prior=class_prior, diverged=jnp.zeros((), bool),
                      model=model)


def _data_loss(logits, y, mask, hparams, class_weights, class_prior):
    """Per-example training loss: weighted cross-entropy, or with
    ``logit_adjust_tau``/``focal_gamma`` set the focal loss of the adjusted
    logits (``focal_loss(logits + tau * log(prior), y, gamma, alpha=w)``; at
    gamma = 0 that is the logit-adjusted weighted cross-entropy). The cond
    runs today's loss untouched when both are 0 (bit-identical; a vmapped
    sweep evaluates both branches and selects)."""
    def remedied(z):
        # the shift of losses.logit_adjusted_cross_entropy (log prior clamped at tiny), then focal
        log_prior = jnp.log(jnp.maximum(class_prior, jnp.finfo(z.dtype).tiny))
        return losses.focal_loss(z + hparams.logit_adjust_tau * log_prior, y, hparams.focal_gamma,
                                 class_weights, where=mask)

    return jax.lax.cond(
        (hparams.logit_adjust_tau == 0) & (hparams.focal_gamma == 0),
        lambda z: losses.weighted_cross_entropy(z, y, class_weights, where=mask), remedied, logits)


def augment(x: Array, lengths: Array, hparams: HParams, rng: Array) -> Array:
    """A training batch's time-series augmentation (see :class:`HParams`):
    window slicing, then magnitude warping whose 4 knots carry the row's
    scaling too. Pure; padding is never read or changed."""
    k_start, k_scale, k_warp = jax.random.split(rng, 3)
    b = x.shape[0]
    x = features.window_slice(x, lengths, 1.0 - hparams.augment_slice, jax.random.uniform(k_start, (b,)))
    scale = 1.0 + hparams.augment_scale * jax.random.normal(k_scale, (b, 1))
    knots = scale * (1.0 + hparams.augment_warp * jax.random.normal(k_warp, (b, 4)))
    return features.magnitude_warp(x, lengths, knots)


def _time_major_normal(key: Array, v: Array) -> Array:
    """Standard normal draws shaped like ``v`` (``[batch, time, feature]``),
    drawn time-major so step t's draws do not depend on how far ``v`` is
    padded in time."""
    return jnp.swapaxes(jax.random.normal(key, (v.shape[1], v.shape[0], *v.shape[2:]), v.dtype), 0, 1)


def _loss_fn(params, model, batch, hparams, class_weights, rng, class_prior=None, parts=frozenset(OPTIONAL_PARTS)):
    # Input noise draws from its own key, so the dropout masks do not depend on it; the
    # cond skips the draw (0.3 ms of a ~20 ms W2 step) when there is none (a vmapped
    # sweep evaluates both branches). A part not in ``parts`` is not traced at all.
    # a padding row (mask false) is never read: even NaN in it would make 0 * NaN gradients and stop training
    x = jnp.where(batch["mask"][:, None, None], batch["x"], 0.0)
    if "input_noise" in parts:
        x = jax.lax.cond(
            hparams.noise_std > 0,
            lambda v: v + hparams.noise_std * _time_major_normal(jax.random.fold_in(rng, 1), v),
            lambda v: v, x)
    if "augmentation" in parts:
        x = jax.lax.cond((hparams.augment_scale > 0) | (hparams.augment_warp > 0) | (hparams.augment_slice > 0),
                         lambda v: augment(v, batch["lengths"], hparams, jax.random.fold_in(rng, 2)), lambda v: v, x)
    logits = LSTMClassifierNet(model).apply(
        {"params": params}, x, batch["lengths"], dropout_rate=hparams.dropout,
        deterministic=False, rngs={"dropout": rng},
        minirocket=None if batch.get("r") is None else jnp.where(batch["mask"][:, None], batch["r"], 0.0))
    if class_prior is None:
        class_prior = jnp.full(logits.shape[-1], 1.0 / logits.shape[-1], jnp.float32)
    if "loss_remedy" in parts:
        ce = _data_loss(logits, batch["y"], batch["mask"], hparams, class_weights, class_prior)
    else:
        ce = losses.weighted_cross_entropy(logits, batch["y"], class_weights, where=batch["mask"])
    if "w" in batch:  # sample weights multiply each row's loss (and its class weight), Keras's sample_weight
        ce = ce * batch["w"]
    data_loss = losses.masked_mean(ce, batch["mask"])
    penalty = hparams.l1 * losses.l1_penalty(params) + hparams.l2 * losses.l2_penalty(params)
    return data_loss + penalty, data_loss


def train_step(state: TrainState, batch: dict, hparams: HParams, rng: Array,
               parts: frozenset = frozenset(OPTIONAL_PARTS)) -> tuple[TrainState, dict]:
    """One optimizer step on a minibatch.

    Args:
      state: :class:`TrainState`.
      batch: ``x: Float[batch, time, feature]``, ``lengths: Int[batch]``,
        ``y: Int[batch]``, ``mask: Bool[batch]`` (false rows are padding),
        optionally ``w: Float[batch]``, sample weights multiplying each row's
        loss (the data loss stays divided by the number of valid rows).
      hparams: :class:`HParams`.
      rng: dropout key for this step.
      parts: static; the optional parts to trace (see :class:`TrainConfig`).
    Returns:
      ``(state, metrics)`` with ``loss`` (data term + penalties),
      ``data_loss`` and ``count`` (valid rows).

    A step whose loss or gradient is not finite leaves the state unchanged
    and sets ``diverged``; so does any step once ``diverged`` is set. A batch
    with no valid rows leaves the state unchanged.
    """
    (loss, data_loss), grads = jax.value_and_grad(_loss_fn, has_aux=True)(
        state.params, state.model, batch, hparams, state.class_weights, rng, state.class_prior, parts)
    updates, new_opt = make_optimizer(hparams).update(grads, state.opt_state, state.params)
    new_params = optax.apply_updates(state.params, updates)
    finite = jnp.isfinite(loss) & jnp.isfinite(optax.tree.norm(grads))
    count = jnp.sum(batch["mask"])
    take = finite & ~state.diverged & (count > 0)
    keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(take, a, b), new, old)
    state = state.replace(
        params=keep(new_params, state.params),
        opt_state=keep(new_opt, state.opt_state),
        step=state.step + take.astype(jnp.int32),
        diverged=state.diverged | (~finite & (count > 0)),
    )
    return state, {"loss": loss, "data_loss": data_loss, "count": count}


def _batch_order(split_idx: Array, split_mask: Array, batch_size: int, rng: Array | None):
    """Shuffled (if ``rng``) training rows first, reshaped to ``(n_batches, batch)``.

    Each position draws its own sort key from ``fold_in(rng, position)``, so
    the order of the valid rows does not depend on how far the index array
    is padded: a fold padded to the largest fold of a sweep, or a dataset
    padded to a shape bucket, trains on exactly the batches it would alone.
    """
    n = split_idx.shape[0]
    n_batches = max(1, -(-n // batch_size))
    if rng is None:
        keys = jnp.where(split_mask, jnp.arange(n, dtype=jnp.float32), jnp.inf)
    else:
        draws = jax.vmap(lambda j: jax.random.uniform(jax.random.fold_in(rng, j)))(jnp.arange(n))
        keys = jnp.where(split_mask, draws, 2.0)
    perm = jnp.argsort(keys)
    pad = n_batches * batch_size - n
    idx = jnp.pad(split_idx[perm], (0, pad))
    mask = jnp.pad(split_mask[perm], (0, pad))
    return idx.reshape(n_batches, batch_size), mask.reshape(n_batches, batch_size)


def _sampled_order(split_idx: Array, split_mask: Array, y: Array, num_classes: int, exponent: Array,
                   batch_size: int, rng: Array) -> tuple[Array, Array]:
    """Class-balanced sampling with replacement, as many draws as valid
    training rows, reshaped like :func:`_batch_order`: row ``i`` is drawn with
    probability proportional to ``count(y_i) ** -exponent``, in two stages so
    that rows of one class stay equally likely at any row count (counted in
    int32): draw ``j`` takes the class where ``uniform(k1) * total`` falls in the cumulative
    class weights ``count_c ** (1 - exponent)``, then row ``randint(k2, 0,
    count_c)`` of that class's valid rows in index order (``k1, k2 =
    split(fold_in(rng, j))``). Padding is never drawn and changes no draw.
    (Until 2026-12-04 one float32 cumulative sum over the rows made rows of
    a class unequally likely past ~1e5 rows: 0.6 min/max at 2e6.)"""
    n = split_idx.shape[0]
    rows_y = y[split_idx]
    counts = jnp.zeros(num_classes, jnp.int32).at[rows_y].add(split_mask.astype(jnp.int32))  # exact past 2**24
    class_w = jnp.where(counts > 0, jnp.maximum(counts, 1).astype(jnp.float32) ** (1.0 - exponent), 0.0)
    class_cdf = jnp.cumsum(class_w)
    by_class = jnp.argsort(jnp.where(split_mask, rows_y, num_classes), stable=True)  # each class's rows, index order
    starts = jnp.cumsum(counts) - counts

    def draw(j):
        k1, k2 = jax.random.split(jax.random.fold_in(rng, j))
        c = jnp.minimum(jnp.searchsorted(class_cdf, jax.random.uniform(k1) * class_cdf[-1], side="right"),
                        num_classes - 1)
        return by_class[jnp.minimum(starts[c] + jax.random.randint(k2, (), 0, jnp.maximum(counts[c], 1)), n - 1)]

    pos = jax.vmap(draw)(jnp.arange(n))
    take = jnp.arange(n) < split_mask.sum()
    n_batches = max(1, -(-n // batch_size))
    pad = n_batches * batch_size - n
    idx = jnp.pad(jnp.where(take, split_idx[pos], 0), (0, pad))
    mask = jnp.pad(take, (0, pad))
    return idx.reshape(n_batches, batch_size), mask.reshape(n_batches, batch_size)


def run_epoch(state: TrainState, data: dict, split: Split, hparams: HParams, rng: Array,
              batch_size: int, parts: frozenset = frozenset(OPTIONAL_PARTS)) -> tuple[TrainState, Array]:
    """One pass over the shuffled training rows as a ``lax.scan`` of steps.

    Args:
      data: ``x: Float[n, time, feature]`` (already scaled), ``lengths: Int[n]``,
        ``y: Int[n]``, optionally ``w: Float[n]`` (sample weights) and ``r:
        Float[n, features]`` (the MiniRocket branch's features), resident on the device.
      split: which rows train.
      rng: shuffling and dropout key for this epoch.
      batch_size: static.
      parts: static; the optional parts to trace (see :class:`TrainConfig`).
    Returns:
      ``(state, mean training loss over the epoch's valid rows)``.
    """
    shuffle_rng, drop_rng = jax.random.split(rng)
    idx, mask = _batch_order(split.train_idx, split.train_mask, batch_size, shuffle_rng)
    if "balanced_sampling" in parts:
        num_classes = state.class_weights.shape[-1]
        balanced = hparams.sampling_exponent > 0  # selected, not branched: a vmapped sweep mixes both
        s_idx, s_mask = _sampled_order(split.train_idx, split.train_mask, data["y"], num_classes,
                                       hparams.sampling_exponent, batch_size, jax.random.fold_in(shuffle_rng, 1))
        idx, mask = jnp.where(balanced, s_idx, idx), jnp.where(balanced, s_mask, mask)

    def body(carry, inputs):
        st, total, count = carry
        i, b_idx, b_mask = inputs
        batch = {"x": data["x"][b_idx], "lengths": data["lengths"][b_idx],
                 "y": data["y"][b_idx], "mask": b_mask, **{k: data[k][b_idx] for k in ("w", "r") if k in data}}
        st, m = train_step(st, batch, hparams, jax.random.fold_in(drop_rng, i), parts)
        # cast: under JAX's x64 mode a step's loss and count come back 64-bit (the carry's types must hold)
        loss_sum, n = (m["data_loss"] * m["count"]).astype(total.dtype), m["count"].astype(count.dtype)
        return (st, total + loss_sum, count + n), None

    zero = jnp.zeros((), jnp.float32)
    (state, total, count), _ = jax.lax.scan(
        body, (state, zero, jnp.zeros((), jnp.int32)), (jnp.arange(idx.shape[0]), idx, mask))
    return state, total / jnp.maximum(count, 1)


def predict_logits(params, model: ModelConfig, x: Array, lengths: Array,
                   batch_size: int = 512, minirocket: Array | None = None) -> Array:
    """Deterministic logits, ``batch_size`` rows per forward pass.

    Rows are scored as real batches (the last one padded with length-1 rows
    and cut off), not as a map over single rows: a row's logits do not depend
    on the others in its batch, and the compiled LSTM kernel runs a batch as
    one GEMM per step where single rows would be GEMVs (819 W2 rows: 0.75 s
    -> see ``benchmarks/RESULTS.md``).

    Args:
      x: ``Float[n, time, feature]`` (scaled as in training).
      lengths: ``Int[n]``.
      minirocket: ``Float[n, features]``, the MiniRocket branch's features
        already computed, or ``None`` (computed from ``x``).
    Returns:
      ``Float[n, classes]``.
    """
    net = LSTMClassifierNet(model)
    n = x.shape[0]
    if n == 0:
        return jnp.zeros((0, model.num_classes), x.dtype)
    size = min(batch_size, n)
    chunks = -(-n // size)
    pad = chunks * size - n
    xs = jnp.pad(x, ((0, pad), (0, 0), (0, 0))).reshape(chunks, size, *x.shape[1:])
    ls = jnp.pad(lengths, (0, pad), constant_values=1).reshape(chunks, size)
    rs = None if minirocket is None else jnp.pad(minirocket, ((0, pad), (0, 0))).reshape(chunks, size, -1)
    out = jax.lax.map(lambda c: net.apply({"params": params}, c[0], c[1], minirocket=c[2]), (xs, ls, rs))
    return out.reshape(chunks * size, -1)[:n]


@functools.cache
def _xla_accepts(option: str, value) -> bool:
    """Whether this jaxlib's XLA has the compile option (a newer one may drop
    it, and then a program compiled with it fails): one tiny compile, once."""
    try:
        jax.jit(lambda a: a + 1, compiler_options={option: value})(jnp.zeros(1)).block_until_ready()
    except Exception as e:  # noqa: BLE001 -- XLA says "No such compile option" as a JaxRuntimeError
        if "compile option" in str(e):
            return False
        raise
    return True


def compiler_options() -> dict:
    """XLA options for jaxlstm's training and prediction programs.

    On CPU: LLVM backend optimisation level 2 instead of XLA's default 3.
    The heavy work there is library GEMMs and the compiled LSTM kernel, not
    generated code, so the higher level costs compile time and buys nothing:
    a W1-sized sweep group compiled in 4.0 s instead of 7.2 s and ran in
    0.49 s instead of 0.52 s (``benchmarks/RESULTS.md``). And XLA:CPU's
    element-wise code generator instead of its newer fusion emitters
    (``xla_cpu_use_fusion_emitters=False``, where this jaxlib has the option):
    compile time 0.58-0.72x again, training 0.95-1.13x the time, the same
    results (``benchmarks/RESULTS.md``, "Compile time"): it pays wherever a
    program trains for less than about a minute and a half.
    Other backends: XLA's defaults. ``JAXLSTM_XLA_OPT_LEVEL`` overrides the
    level; ``JAXLSTM_XLA_FUSION_EMITTERS=1`` keeps the fusion emitters.
    """
    if jax.default_backend() != "cpu":
        return {}
    options = {"xla_backend_optimization_level": int(os.environ.get("JAXLSTM_XLA_OPT_LEVEL", "2"))}
    if os.environ.get("JAXLSTM_XLA_FUSION_EMITTERS", "") != "1" and _xla_accepts("xla_cpu_use_fusion_emitters", False):
        options["xla_cpu_use_fusion_emitters"] = False
    return options


def program_key() -> tuple:
    """What a compiled program depends on beyond its config and shapes: the
    :func:`compiler_options` and ``JAXLSTM_LSTM_IMPL`` (read while tracing).
    Part of every key programs are kept by, so that either set later in a
    process takes effect instead of reusing a program built without it."""
    return tuple(sorted(compiler_options().items())), os.environ.get("JAXLSTM_LSTM_IMPL", "auto")


class tuned_jit:
    """``jax.jit(fun, **kwargs)`` with :func:`compiler_options`, created on
    first use: the backend is not known (and must not be initialised) at
    import time. One per :func:`program_key`. Supports calling and ``.lower``."""

    def __init__(self, fun, **kwargs):
        self._fun, self._kwargs, self._jits = fun, kwargs, {}
        functools.update_wrapper(self, fun)

    def _get(self):
        key = program_key()
        if key not in self._jits:
            self._jits[key] = jax.jit(self._fun, compiler_options=dict(key[0]), **self._kwargs)
        return self._jits[key]

    def __call__(self, *args, **kwargs):
        return self._get()(*args, **kwargs)

    def lower(self, *args, **kwargs):
        return self._get().lower(*args, **kwargs)


def _tree_where(cond, a, b):
    return jax.tree.map(lambda u, v: jnp.where(cond, u, v), a, b)


def _rows(data: dict, idx: Array) -> Array | None:
    return data["r"][idx] if "r" in data else None


def _fit_minirocket(state: TrainState, data: dict, split: Split, rng: Array, model: ModelConfig, refit: bool,
                    batch_size: int) -> tuple[TrainState, Array]:
    """The MiniRocket (MultiRocket) branch's channel subsets, biases and standardisation
    from the training rows (``refit``; else those already in ``state``), and
    every row's standardised features, computed once: ``(state, Float[n, features])``.
    Like the scaler, they read every training row, sample weights aside (a row
    of weight 0 may still give a bias)."""
    x, lengths = data["x"], data["lengths"]
    fitted = state.params["minirocket"]
    train_rows = jnp.zeros(x.shape[0], bool).at[split.train_idx].max(split.train_mask)
    plans = model.rocket_plans
    if refit:
        series = [(x, lengths)] + ([rocket.differences(x, lengths)] if len(plans) > 1 else [])  # MultiRocket's
        for i, ((xs, ls), suffix, (dilations, per)) in enumerate(zip(series, ("", "_diff"), plans)):
            p = rocket.fit_minirocket(xs, ls, train_rows, jax.random.fold_in(rng, i) if i else rng, dilations, per)
            fitted = dict(fitted, **{"channels" + suffix: p.channels, "biases" + suffix: p.biases})
    feats = minirocket_rows(x, lengths, fitted, plans, min(64, batch_size))
    if refit:
        w = train_rows.astype(feats.dtype)[:, None]
        count = jnp.maximum(jnp.sum(w), 1.0)
        mean = jnp.sum(feats * w, axis=0) / count
        std = jnp.sqrt(jnp.sum(jnp.square(feats - mean) * w, axis=0) / count)
        fitted = dict(fitted, mean=mean, scale=jnp.where(std > 0, std, 1.0))  # constant features: as StandardScaler
        state = state.replace(params={**state.params, "minirocket": fitted})
    return state, (feats - fitted["mean"]) / fitted["scale"]


def _fit_ridge(state: TrainState, data: dict, split: Split, class_weights: Array, model: ModelConfig) -> TrainState:
    """``classifier="minirocket"`` or ``"multirocket"``: the logits layer fitted in closed form on
    the training rows' MiniRocket (MultiRocket) features (:func:`jaxlstm.ridge.fit_ridge_classifier`),
    each row weighted by its class's weight and its sample weight (an
    ``n x n`` or ``features x features`` decomposition, the smaller)."""
    ti = split.train_idx
    y = data["y"][ti]
    w = split.train_mask * class_weights[y] * (data["w"][ti] if "w" in data else 1.0)
    r = ridge.fit_ridge_classifier(data["r"][ti], y, model.num_classes, w)
    finite = jnp.all(jnp.isfinite(r.kernel)) & jnp.all(jnp.isfinite(r.bias))
    # not finite (weights overflowing float32): reported as a diverged run that keeps the parameters it had,
    # as a network's does, not NaN logits whose argmax is class 0 for every row
    logits = _tree_where(finite, {"kernel": r.kernel, "bias": r.bias}, state.params["logits"])
    return state.replace(params={**state.params, "logits": logits}, diverged=state.diverged | ~finite)


def fit(x: Array, lengths: Array, y: Array, split: Split, hparams: HParams, rng: Array,
        config: TrainConfig, start: tuple[TrainState, Array] | None = None,
        sample_weight: Array | None = None) -> FitResult:
    """Train one model from scratch; pure, so ``jit`` it (``config`` static)
    and ``vmap`` it over ``split``/``hparams``/``rng`` for a sweep.

    Scaler statistics, "balanced" or effective-number class weights and the
    class prior (for ``logit_adjust_tau``) are fitted on the training rows only. After each epoch the validation rows are scored with every
    scorer in ``config.record``; the parameters of the epoch with the best
    ``config.select`` score are kept (ties keep the earlier epoch). With no
    validation rows the last epoch is kept.

    Args:
      x: ``Float[n, time, feature]``.
      lengths: ``Int[n]``.
      y: ``Int[n]`` in ``[0, classes)``.
      split: :class:`Split`.
      hparams: :class:`HParams`.
      rng: PRNG key (initialisation, shuffling, dropout).
      config: :class:`TrainConfig` (static).
      start: ``(state, epochs_done)`` to continue a run for ``config.epochs``
        more epochs instead of starting afresh: with the same ``rng``, data
        and hyperparameters, training 5 epochs and continuing for 5 equals
        training 10 (each epoch's shuffling and dropout keys depend only on
        the epoch index). The best epoch is tracked within this call.
      sample_weight: ``Float[n]`` (>= 0) or ``None``: each training row's loss
        is multiplied by its weight (and its class's weight), the sum divided
        by the batch's valid rows as without weights -- Keras's
        ``sample_weight``. Scaler statistics, class weights, the class prior,
        balanced sampling and validation scores do not use them. ``None``
        traces the program without them (not a vector of ones).
    Returns:
      :class:`FitResult`.
    """
    model = config.model
    x = model_inputs(x, lengths, model)
    tr_x, tr_len = x[split.train_idx], lengths[split.train_idx]
    scaler = features.fit_scaler(config.normalize, tr_x, tr_len, where=split.train_mask)
    data = {"x": features.apply_scaler(x, lengths, scaler), "lengths": lengths, "y": y}
    if sample_weight is not None:
        data["w"] = jnp.asarray(sample_weight, jnp.float32)
    tr_y = y[split.train_idx]
    cw = losses.class_weights(tr_y, model.num_classes, hparams.class_weight_exponent,
                              hparams.class_weights, where=split.train_mask)
    counts = losses.class_counts(tr_y, model.num_classes, where=split.train_mask)
    # class_weight_beta > 0 replaces balanced ** exponent (explicit weights still multiply)
    cb = losses.effective_number_weights(counts, hparams.class_weight_beta) * hparams.class_weights
    cw = jnp.where(hparams.class_weight_beta > 0, cb, cw)
    prior = losses.class_prior(tr_y, model.num_classes, where=split.train_mask)
    init_rng, data_rng = jax.random.split(rng)
    if start is None:
        state, offset = init_state(model, hparams, cw, init_rng, prior), jnp.int32(0)
    else:
        state, offset = start[0], jnp.asarray(start[1], jnp.int32)
    if model.minirocket_features:
        state, data["r"] = _fit_minirocket(state, data, split, jax.random.fold_in(init_rng, 1), model,
                                           refit=start is None, batch_size=config.eval_batch_size)
    if model.classifier in RIDGE_CLASSIFIERS:
        if start is None:
            state = _fit_ridge(state, data, split, cw, model)
        ti = split.train_idx  # no gradient steps: one training loss for every epoch
        ridge_loss = losses.masked_mean(losses.weighted_cross_entropy(predict_logits(
            state.params, model, data["x"][ti], lengths[ti], config.eval_batch_size, _rows(data, ti)), y[ti]),
            split.train_mask)
    has_val = split.val_idx.shape[0] > 0  # static: no validation rows at all, nothing to evaluate
    any_val = jnp.any(split.val_mask) if has_val else jnp.asarray(False)  # traced: rows all masked out
    scorers = {name: metrics.get_scorer(name) for name in config.record}
    sel = metrics.get_scorer(config.select)

    def evaluate(params):
        if not has_val:
            return {name: jnp.float32(jnp.nan) for name in scorers}, None
        vi = split.val_idx
        logits = predict_logits(params, model, data["x"][vi], lengths[vi], config.eval_batch_size, _rows(data, vi))
        probs = jax.nn.softmax(logits, axis=-1)
        scores = {name: s.fn(y[vi], probs, model.num_classes, split.val_mask) for name, s in scorers.items()}
        return scores, probs

    def epoch(carry, e):
        st, best_params, best_score, best_epoch, since_best = carry
        first = e == 0
        e = e + offset  # the global epoch index: keys continue where a previous call stopped
        stopped = jnp.asarray(False) if config.patience is None else since_best >= config.patience
        if model.classifier in RIDGE_CLASSIFIERS:  # fitted in closed form: each epoch scores the same fit
            new_st, train_loss = st, ridge_loss
        else:
            new_st, train_loss = run_epoch(st, data, split, hparams, jax.random.fold_in(data_rng, e),
                                           config.batch_size, config.parts)
        st = _tree_where(stopped, st, new_st)
        scores, probs = evaluate(st.params)
        s = scores[config.select]
        s = s if sel.greater_is_better else -s
        s = jnp.where(jnp.isnan(s), -jnp.inf, s).astype(jnp.float32)  # a scorer's float64 under x64: the carry's
        improved = (s > best_score) | first | ~any_val  # no validation row: the last epoch is kept
        improved = improved & ~stopped
        best_params = _tree_where(improved, st.params, best_params)
        best_epoch = jnp.where(improved, e, best_epoch)
        best_score = jnp.where(improved, s, best_score)
        since_best = jnp.where(improved, 0, since_best + 1)
        if config.progress:
            jax.debug.callback(progress.epoch_tick, e - offset)
        row = {"train_loss": jnp.where(stopped, jnp.nan, train_loss), "diverged": st.diverged,
               **{f"val_{k}": v for k, v in scores.items()}}
        if config.keep_val_probs and probs is not None:
            row["val_probs"] = probs
        if config.keep_train_probs:
            ti = split.train_idx
            row["train_probs"] = jax.nn.softmax(
                predict_logits(st.params, model, data["x"][ti], lengths[ti], config.eval_batch_size, _rows(data, ti)),
                axis=-1)
        return (st, best_params, best_score, best_epoch, since_best), row

    init = (state, state.params, jnp.float32(-jnp.inf), jnp.int32(0), jnp.int32(0))
    (state, best_params, best_score, best_epoch, _), history = jax.lax.scan(
        epoch, init, jnp.arange(config.epochs, dtype=jnp.int32))  # int32 under x64 too: the carry's type
    if not sel.greater_is_better:
        best_score = -best_score
    finite_epochs = jnp.sum(~history.pop("diverged")).astype(jnp.int32)  # diverged stays set once set
    return FitResult(params=state.params, best_params=best_params, best_epoch=best_epoch,
                     best_score=jnp.where(any_val, best_score, jnp.nan), diverged=state.diverged,
                     scaler=scaler, class_weights=cw, history=history, state=state, finite_epochs=finite_epochs)


# ---------------------------------------------------------------------------
# Host-side convenience: validated inputs, compiled once per shape, timed.
# ---------------------------------------------------------------------------

_fit_jit = tuned_jit(fit, static_argnames="config")
_compiled: dict = register_compiled({})


class Timing(NamedTuple):
    """Seconds spent compiling and running (``jax.block_until_ready`` before
    the clock is read)."""

    compile_s: float
    run_s: float


def _full_split(train_idx, val_idx) -> Split:
    tr = jnp.asarray(np.asarray(train_idx, np.int32))
    va = jnp.asarray(np.asarray(val_idx, np.int32))
    return Split(tr, jnp.ones(tr.shape, bool), va, jnp.ones(va.shape, bool))


def train_single(x, y, lengths=None, *, config: TrainConfig, hparams: HParams | None = None,
                 train_idx=None, val_idx=None, seed: int = 0, sample_weight=None) -> tuple[FitResult, Timing]:
    """Validate, compile (once per shape and config) and run :func:`fit`.

    Args:
      x: ``(n, T, F)``; ``y``: ``(n,)`` ints in ``[0, classes)``; ``lengths``:
        ``(n,)`` or ``None`` (full length).
      config: :class:`TrainConfig` (its ``parts`` narrowed to those ``hparams`` use).
      hparams: :class:`HParams` (default: :func:`make_hparams` defaults).
      train_idx, val_idx: row indices or boolean masks of the rows (default: all
        rows train, none validate).
      seed: PRNG seed.
      sample_weight: ``(n,)`` non-negative weights of the rows' losses, or
        ``None`` (see :func:`fit`).
    Returns:
      ``(FitResult as NumPy arrays, Timing)``.

    Raises:
      ValueError: bad shapes or values (see :mod:`jaxlstm._checks`), a
        training set with fewer than two classes, indices out of range, or
        ``config.parts`` leaving out a part that ``hparams`` turn on.
    """
    model = config.model
    xa, la = check_sequences(x, lengths)
    check_inputs(xa, model, la)
    ya = check_labels(y, len(xa), model.num_classes, min_classes=1)
    n = len(xa)
    tr = np.arange(n) if train_idx is None else row_indices(train_idx, n, "train_idx")
    va = np.zeros(0, np.int64) if val_idx is None else row_indices(val_idx, n, "val_idx")
    if tr.size == 0:
        raise ValueError("train_idx selects no rows")
    check_labels(ya[tr], tr.size, model.num_classes)  # at least two classes to learn
    w = check_sample_weight(sample_weight, n, tr)
    hp = make_hparams(model.num_classes) if hparams is None else hparams
    used = parts_used(hp)
    if used - config.parts:
        raise ValueError(f"config.parts leaves out {sorted(used - config.parts)}, which hparams turn on")
    config = dataclasses.replace(config, parts=used)  # the program holds what this run uses
    split = _full_split(tr, va)
    args = (jnp.asarray(xa), jnp.asarray(la), jnp.asarray(ya), split, hp, jax.random.key(seed))
    kw = {} if w is None else {"sample_weight": jnp.asarray(w)}
    key = (config, xa.shape, tr.size, va.size, w is None, program_key())
    t0 = time.perf_counter()
    if key not in _compiled:
        relieve_memory_maps()
        _compiled[key] = _fit_jit.lower(*args, config=config, **kw).compile()
    t1 = time.perf_counter()
    result = jax.block_until_ready(_compiled[key](*args, **kw))
    t2 = time.perf_counter()
    return jax.tree.map(np.asarray, result), Timing(t1 - t0, t2 - t1)


def predict_proba(params, model: ModelConfig, scaler: features.ScalerStats, x, lengths=None,
                  batch_size: int = 512) -> np.ndarray:
    """Class probabilities for raw (unscaled) sequences, host-side and validated.

    Returns:
      ``(n, classes)`` float32 NumPy array.
    """
    xa, la = check_sequences(x, lengths)
    if xa.shape[1] < min_length(model):
        xa = np.pad(xa, ((0, 0), (0, min_length(model) - xa.shape[1]), (0, 0)))
    check_inputs(xa, model)
    model.check_lengths(la)
    for name in ("offset", "scale"):
        width = np.shape(getattr(scaler, name))
        if width != (model.input_width,):
            raise ValueError(f"scaler.{name} has shape {width}, but the model reads {model.input_width} channels "
                             f"({model.num_features} features" + ("" if model.features is None else
                             " and the temporal features built from them") + "): fit the scaler on "
                             "model_inputs(x, lengths, model)")
    return np.asarray(probabilities(params, scaler, jnp.asarray(xa), jnp.asarray(la), model, batch_size))


def model_inputs(x: Array, lengths: Array, model: ModelConfig) -> Array:
    """What the network reads before scaling: ``x``, or the temporal
    features ``model.features`` builds from it (pure; ``Float[n, time,
    model.input_width]``). The scaler's statistics are fitted on this."""
    return x if model.features is None else features.temporal_features(x, lengths, model.features)


def min_length(model: ModelConfig) -> int:
    """The fewest time steps a batch for ``model`` needs (its temporal
    features' longest window); prediction pads shorter batches to it."""
    return 1 if model.features is None else model.features.min_length()


def check_inputs(xa: np.ndarray, model: ModelConfig, lengths: np.ndarray | None = None) -> None:
    """Host-side: ``xa`` (``(n, T, F)``) has the model's channels and suits
    its temporal features (windows no longer than the longest of ``lengths``,
    else ``T``; event channels among ``F``).

    Raises:
      ValueError: naming the mismatch, or ``features.<parameter>``.
    """
    if xa.shape[-1] != model.num_features:
        raise ValueError(f"x has {xa.shape[-1]} features but the model expects {model.num_features}")
    if model.features is not None:
        try:
            if lengths is None:
                model.features.check(model.num_features, xa.shape[1])
            else:
                model.features.check(model.num_features, int(np.max(lengths)), "the longest sequence")
        except ValueError as e:
            raise ValueError(f"features.{e}") from None


def probabilities(params, scaler, x, lengths, model, batch_size):
    """Class probabilities of raw (unscaled) sequences, compiled: the model's
    temporal features, the fitted scaler, then :func:`predict_logits` in
    batches of ``batch_size``; ``Float[n, classes]``."""
    xs = features.apply_scaler(model_inputs(x, lengths, model), lengths, scaler)
    return jax.nn.softmax(predict_logits(params, model, xs, lengths, batch_size), axis=-1)


def ensemble_probabilities(params, scaler, x, lengths, model, batch_size):
    """The mean probabilities of an ensemble (``params`` with a leading
    member axis), in one program."""
    probs = jax.vmap(lambda p: _probabilities(p, scaler, x, lengths, model, batch_size))(params)
    return probs.mean(axis=0)


# compiled as the training programs are (tuned_jit: the compiler options, and the LSTM implementation in force);
# XLA takes compiler options on a top-level program only, so the ensemble vmaps the function, not the program
_probabilities = probabilities
probabilities = tuned_jit(_probabilities, static_argnames=("model", "batch_size"))
ensemble_probabilities = tuned_jit(ensemble_probabilities, static_argnames=("model", "batch_size"))
