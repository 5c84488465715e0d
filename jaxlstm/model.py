"""LSTM sequence classifier: a Flax module over pure, scanned LSTM layers.

Axis vocabulary used in every docstring of the project:
``batch time feature hidden classes member fold``.

The recurrence lives in :func:`lstm_scan`, a pure function over arrays: the input
projection of every time step is one large matmul done before the scan (as cuDNN
does), so the scanned step holds only the recurrent ``h @ W_h``. Right-padded
batches carry ``lengths``; a padded step leaves the state untouched, so the final
state of each sequence is its state at its own last step and whatever sits in the
padding cannot change the result.

Gate order is ``i, f, g, o`` (input, forget, cell, output), the order of Flax's
``OptimizedLSTMCell`` and of Keras, so weights map one to one.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import flax.linen as nn
from flax.linen.recurrent import flip_sequences

from jaxlstm import kernel, rocket
from jaxlstm.params import LSTM_OVER, MATMUL_DTYPES, check_param, check_params  # noqa: F401  (re-exported)

Array = jax.Array

__all__ = [
    "ModelConfig",
    "LSTMClassifierNet",
    "lstm_scan",
    "sequence_mask",
    "dropout",
    "init_params",
]


def matmul(a: Array, b: Array, dtype: str = "float32") -> Array:
    """``a @ b`` with operands rounded to ``dtype`` and a float32 result
    (float32 accumulation); plain ``a @ b`` for ``"float32"``."""
    if dtype == "float32":
        return a @ b
    return jnp.matmul(a.astype(dtype), b.astype(dtype), preferred_element_type=jnp.float32)


def _project(x: Array, w: Array, b: Array, dtype: str = "float32") -> Array:
    """``x @ w + b`` over the last axis as one 2-D matmul over the flattened
    rows. Autodiff's weight gradient is then ``x^T dz`` on those rows; from a
    3-D product XLA:CPU transposed ``dz`` (steps x batch x 4H) in every
    training step, a quarter of the step's time outside the LSTM kernel with
    its element-wise code generator (``benchmarks/RESULTS.md``)."""
    return (matmul(x.reshape(-1, x.shape[-1]), w, dtype) + b).reshape(*x.shape[:-1], w.shape[-1])


LSTM_IMPLS = ("auto", "kernel", "scan")


# the classifiers fitted in closed form (jaxlstm.ridge) on fixed features, no network; minirocket_features 0 means
# their published default: MiniRocket's 10,000 features and MultiRocket's 6,250 kernel/bias pairs per series
# (x 4 operators x 2 series = its "50k"), each rounded down to a multiple of 84 kernels
RIDGE_CLASSIFIERS = {"minirocket": 9996, "multirocket": 6216}
# their names as the papers write them, for what the CLI and the benchmarks print
RIDGE_CLASSIFIER_NAMES = {"minirocket": "MiniRocket", "multirocket": "MultiRocket"}


def minirocket_classifier_keys(minirocket_features, classifier: str = "minirocket") -> dict:
    """The model keys of a classifier of :data:`RIDGE_CLASSIFIERS`: the
    network's set to none, ``minirocket_features`` 0 meaning its default.
    :class:`ModelConfig` and the sweep's ``plan.normalise`` both apply it."""
    return {"hidden_sizes": (), "bidirectional": False, "head_size": None, "conv_filters": (),
            "conv_kernel_sizes": (), "lstm_over": "time", "max_length": None,
            "minirocket_features": int(minirocket_features) or RIDGE_CLASSIFIERS[classifier]}


def minirocket_length(lengths, minirocket_features, classifier: str) -> int | None:
    """The ``minirocket_length`` the estimator and the sweep give
    :class:`ModelConfig` for rows of these ``lengths`` (every row the folds
    read): the longest, as sktime's variable-length MiniRocket; ``None``
    without MiniRocket. One rule for both, since training and prediction must
    agree on the plan."""
    return int(np.max(lengths)) if minirocket_features or classifier in RIDGE_CLASSIFIERS else None


def _ints(v) -> tuple[int, ...]:
    """``None`` -> ``()``, an int -> ``(int,)``, a sequence -> a tuple of ints."""
    return () if v is None else tuple(int(a) for a in np.atleast_1d(v))


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Static architecture of the classifier (hashable: a jit static argument).

    Attributes:
      num_features: input channels ``F``.
      num_classes: output classes ``C``.
      hidden_sizes: hidden size of each stacked LSTM layer, bottom first.
      bidirectional: run each layer forwards and backwards and concatenate.
      head_size: width of an optional ReLU dense layer before the logits
        (``Dense(64, relu)`` in the Keras tutorial); ``None`` for none.
      lstm_backward: ``"fused"`` (:func:`lstm_scan`, hand-written backward;
        1.3x faster measured) or ``"autodiff"`` (:func:`lstm_scan_reference`).
        Same values and gradients either way; a performance choice, except
        that the fused backward (and the CPU kernel) are ``custom_vjp``:
        forward-mode autodiff (``jax.jvp``, ``jax.jacfwd``, ``jax.hessian``)
        through the network needs ``"autodiff"``.
      matmul_dtype: ``"float32"``, or ``"bfloat16"`` for mixed precision: the
        LSTM's matmul operands (input projection, recurrent step and their
        gradients) are rounded to bfloat16 and accumulated in float32; states,
        gates, the dense layers, parameters, gradients and the optimizer stay
        float32. Faster only where the hardware multiplies bfloat16 natively
        (GPUs, TPUs, CPUs with AMX).
      conv_filters: channels of each block of an optional convolutional
        branch beside the LSTM, as in LSTM-FCN (Karim et al. 2017: blocks of
        128, 256, 128 filters); ``()`` or ``None`` for none. Each block is a masked 1-D
        convolution over time ("same" padding) and a ReLU; the branch ends in
        a global average over each sequence's valid steps, concatenated with
        the LSTM's final state before the head.
      conv_kernel_sizes: kernel width of each block (default ``(8, 5, 3)``,
        LSTM-FCN's, for up to three blocks).
      lstm_over: ``"time"`` (the LSTM reads one step per time step) or
        ``"channels"``, MLSTM-FCN's "dimension shuffle" (Karim et al. 2019):
        the LSTM reads one step per input channel, each step being that
        channel's whole series, zero-padded to ``max_length`` values. The
        convolutional branch always runs over time.
      max_length: the longest sequence a ``"channels"`` model accepts (its
        LSTM's input width); ``None`` with ``"time"``.
      lstm_impl: ``"scan"`` (:func:`lstm_scan`, any backend), ``"kernel"``
        (:func:`jaxlstm.kernel.lstm_layer`, the compiled whole-layer CPU
        kernel; float32 with the fused backward, traced for the CPU: set explicitly
        otherwise (or with float64 parameters, JAX's x64 mode), a ``ValueError``;
        set by ``JAXLSTM_LSTM_IMPL``, such models take the scan) or ``"auto"``: the kernel when the program is
        traced for the CPU, the kernel is built, ``matmul_dtype`` is float32
        and ``lstm_backward`` is ``"fused"``; else the scan. The environment
        variable ``JAXLSTM_LSTM_IMPL=scan|kernel`` overrides ``"auto"``.
        Same values either way (tested to 1e-5); a performance choice, not
        saved in checkpoints.
      features: a :class:`jaxlstm.features.TemporalFeatures` (rolling
        means/stds, first differences, steps since an event) computed from
        the raw input before scaling by :func:`jaxlstm.train.fit` and the
        predict functions; ``None`` for the raw channels. ``num_features``
        stays the raw input's channel count; the network reads
        :attr:`input_width` channels.
      minirocket_features: ``0`` for none, else a MiniRocket branch
        (:mod:`jaxlstm.rocket`; Dempster et al. 2021) of this many features
        (rounded down to a multiple of 84; the paper's default 10,000 gives
        9,996), standardised and concatenated with the LSTM's final state and
        the convolutional branch before the head. With ``hidden_sizes=()`` and
        no convolutional branch the model is MiniRocket with a linear (or
        ``head_size``) classifier trained by the same losses. Its channel
        subsets, biases and standardisation are parameters that
        :func:`jaxlstm.train.fit` fits on the training rows and training
        leaves fixed; training reads the features computed once (input noise
        and augmentation reach the LSTM and convolutional branches only).
      minirocket_length: the reference length its dilations are spaced
        from: callers fill in (:func:`minirocket_length`) the longest row
        the folds read (training and validation rows: a length, no label; one
        value for every fold, as shapes must be), as sktime's variable-length
        MiniRocket does
        (``reference_length="max"``). Until 2026-12-06 the shortest: one short
        row (JapaneseVowels: 7 steps) left every kernel at dilation 1; rows
        shorter than a dilated kernel count their whole length.
      classifier: ``"network"`` (the LSTM and the branches above, trained by
        the loss) or ``"minirocket"``: MiniRocket as published -- its features
        (``minirocket_features``, 0 meaning the default 9,996) and a ridge
        classifier fitted in closed form on the training rows, its penalty
        chosen by leave-one-out error (:mod:`jaxlstm.ridge`), weighted by the
        class and sample weights, scores scaled by a temperature fitted on
        the leave-one-out scores so ``softmax`` gives probabilities. No
        gradient step: the learning rate, the other loss remedies, dropout,
        noise, augmentation and balanced sampling do not apply, nor do the
        network's keys (``hidden_sizes``, ``conv_filters``, ``lstm_over``,
        ``head_size``, ...), which are set to none; each epoch scores the
        same fit. Seconds on hundreds of rows where a network takes minutes;
        the solve grows as ``min(n, features)**2 * max(n, features)``.
        ``"multirocket"``: the same with MultiRocket's features (Tan et al.
        2022; :func:`jaxlstm.rocket.multirocket`): four pooling operators of
        ``minirocket_features`` kernel/bias pairs (0: 6,216) on the series and
        as many on its first differences, 8 x that many features.
    """

    num_features: int
    num_classes: int
    hidden_sizes: tuple[int, ...] = (128,)
    bidirectional: bool = False
    head_size: int | None = None
    lstm_backward: str = "fused"
    matmul_dtype: str = "float32"
    conv_filters: tuple[int, ...] = ()
    conv_kernel_sizes: tuple[int, ...] = ()
    lstm_over: str = "time"
    max_length: int | None = None
    lstm_impl: str = "auto"
    features: Any = None
    minirocket_features: int = 0
    minirocket_length: int | None = None
    classifier: str = "network"

    @property
    def input_width(self) -> int:
        """Channels the network reads: ``num_features``, or what ``features``
        builds from them."""
        return self.num_features if self.features is None else self.features.num_outputs(self.num_features)

    @property
    def minirocket_plan(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(dilations, biases per kernel at each)`` of the MiniRocket branch
        (:func:`jaxlstm.rocket.minirocket_plan`)."""
        return rocket.minirocket_plan(self.minirocket_features, self.minirocket_length)

    @property
    def rocket_plans(self) -> tuple:
        """The transform's plans: MiniRocket's one, or MultiRocket's two (the
        series', its first differences' from one step shorter)."""
        if self.classifier != "multirocket":
            return (self.minirocket_plan,)
        diff = rocket.minirocket_plan(self.minirocket_features, max(self.minirocket_length - 1, 1))
        return self.minirocket_plan, diff

    def use_kernel(self) -> bool:
        """Trace-time choice between the compiled kernel and the scan (see
        ``lstm_impl``)."""
        impl = self.lstm_impl
        computable = self.matmul_dtype == "float32" and self.lstm_backward == "fused"
        if impl == "auto":
            impl = os.environ.get("JAXLSTM_LSTM_IMPL", "auto")
            if impl not in LSTM_IMPLS:
                raise ValueError(f"JAXLSTM_LSTM_IMPL must be one of {LSTM_IMPLS}, got {impl!r}")
            if impl == "kernel" and (not computable or jax.default_backend() != "cpu"):
                return False  # the variable is process-wide: what the kernel cannot compute takes the scan
        if impl == "scan":
            return False
        if impl == "kernel":
            if jax.default_backend() != "cpu":
                raise ValueError(f"lstm_impl='kernel' is a CPU kernel; this program is traced for "
                                 f"{jax.default_backend()!r}: use lstm_impl='auto' or 'scan'")
            if self.matmul_dtype != "float32" or self.lstm_backward != "fused":
                raise ValueError("lstm_impl='kernel' computes in float32 with its own backward pass; "
                                 f"got matmul_dtype={self.matmul_dtype!r}, lstm_backward={self.lstm_backward!r}")
            if not kernel.available():
                raise RuntimeError(f"lstm_impl='kernel' but the compiled kernel is not available: {kernel.reason()}")
            return True
        if self.matmul_dtype != "float32" or self.lstm_backward != "fused" or jax.default_backend() != "cpu":
            return False
        if not kernel.available():
            kernel.warn_unavailable()
            return False
        return True

    def check_lengths(self, lengths) -> None:
        """Host-side: a ``"channels"`` model cannot read sequences longer than
        ``max_length``.

        Raises:
          ValueError: naming the longest length and the limit.
        """
        if self.lstm_over == "channels" and np.size(lengths) and int(np.max(lengths)) > self.max_length:
            over = np.flatnonzero(np.asarray(lengths).ravel() > self.max_length)
            raise ValueError(f"sequence {int(over[0])} has {int(np.ravel(lengths)[over[0]])} steps"
                             f"{f' ({len(over)} sequences are longer)' if len(over) > 1 else ''} but this "
                             f"lstm_over='channels' model reads at most max_length={self.max_length}; set max_length "
                             "to the longest sequence expected when training")

    def __post_init__(self):
        # the rules users meet everywhere (jaxlstm.params), so a bad value reads the same here
        check_params({"classifier": self.classifier, "minirocket_features": self.minirocket_features})
        if self.classifier in RIDGE_CLASSIFIERS:  # MiniRocket or MultiRocket as published: no network
            for key, value in minirocket_classifier_keys(self.minirocket_features, self.classifier).items():
                object.__setattr__(self, key, value)
        check_params({"lstm_over": self.lstm_over, "matmul_dtype": self.matmul_dtype, "head_size": self.head_size,
                      "hidden_sizes": self.hidden_sizes})
        if self.lstm_over == "channels":
            if self.max_length is None or int(self.max_length) < 1:
                raise ValueError(f"lstm_over='channels' needs max_length >= 1, got {self.max_length!r}")
            object.__setattr__(self, "max_length", int(self.max_length))
        elif self.max_length is not None:
            raise ValueError("max_length is only used with lstm_over='channels'")
        filters, kernels = _ints(self.conv_filters), _ints(self.conv_kernel_sizes)
        if filters and not kernels:
            if len(filters) > 3:
                raise ValueError("conv_kernel_sizes must be given for more than 3 conv blocks")
            kernels = (8, 5, 3)[: len(filters)]
        if len(kernels) != len(filters):
            raise ValueError(f"conv_kernel_sizes {kernels} must have one width per conv block {filters}")
        if any(v < 1 for v in filters + kernels):
            raise ValueError(f"conv_filters and conv_kernel_sizes must be positive, got {filters}, {kernels}")
        object.__setattr__(self, "conv_filters", filters)
        object.__setattr__(self, "conv_kernel_sizes", kernels)
        if self.lstm_impl not in LSTM_IMPLS:
            raise ValueError(f"lstm_impl must be one of {LSTM_IMPLS}, got {self.lstm_impl!r}")
        if self.lstm_backward not in ("fused", "autodiff"):
            raise ValueError(f"lstm_backward must be 'fused' or 'autodiff', got {self.lstm_backward!r}")
        hs = self.hidden_sizes
        if isinstance(hs, int):
            object.__setattr__(self, "hidden_sizes", (hs,))
            hs = (hs,)
        else:
            object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in hs))
            hs = self.hidden_sizes
        if self.num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {self.num_features}")
        object.__setattr__(self, "minirocket_features", int(self.minirocket_features))
        if self.minirocket_features:
            if self.minirocket_length is None or int(self.minirocket_length) < 1:
                raise ValueError("minirocket_features needs minirocket_length >= 1 (the longest training row), "
                                 f"got {self.minirocket_length!r}")
            object.__setattr__(self, "minirocket_length", int(self.minirocket_length))
        elif self.minirocket_length is not None:
            raise ValueError("minirocket_length is only used with minirocket_features")
        if not hs and not self.conv_filters and not self.minirocket_features:
            raise ValueError("hidden_sizes=() needs another branch: conv_filters or minirocket_features")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        if self.features is not None:
            if not callable(getattr(self.features, "num_outputs", None)) or not hasattr(self.features, "check"):
                raise ValueError(f"features must be None or a jaxlstm.features.TemporalFeatures, got {self.features!r}")
            if self.input_width < 1:
                raise ValueError("features builds no channels (include_input=False and nothing else asked for)")


def sequence_mask(lengths: Array, max_length: int) -> Array:
    """``mask[b, t] = t < lengths[b]``.

    Args:
      lengths: ``Int[batch]``.
      max_length: ``T``.
    Returns:
      ``Bool[batch, time]``.
    """
    return jnp.arange(max_length)[None, :] < lengths[:, None]


def dropout(x: Array, rate: Array | float, rng: Array | None) -> Array:
    """Inverted dropout whose ``rate`` may be a traced array.

    Flax's ``nn.Dropout`` needs a Python float rate; a sweep needs the rate to
    differ per vmapped member, so it must be data. ``rate == 0`` is exactly the
    identity, ``rate >= 1`` gives zeros, ``rng=None`` disables dropout.

    Args:
      x: any shape.
      rate: scalar probability of dropping a unit.
      rng: a PRNG key, or ``None`` for deterministic (evaluation) mode.
    Returns:
      array like ``x``.
    """
    if rng is None:
        return x
    rate = jnp.asarray(rate, dtype=x.dtype)
    keep_prob = 1.0 - rate
    # uniform in [0, 1) < 1 is always true, so rate 0 keeps every unit.
    keep = jax.random.bernoulli(rng, keep_prob, x.shape)
    scale = jnp.where(keep_prob > 0, 1.0 / jnp.maximum(keep_prob, 1e-12), 0.0)
    return jnp.where(keep, x * scale, jnp.zeros_like(x))


def lstm_scan_reference(x_proj: Array, recurrent_kernel: Array, mask: Array,
                        matmul_dtype: str = "float32") -> tuple[Array, tuple[Array, Array]]:
    """Scan the recurrent part of an LSTM over time; differentiated by
    autodiff. :func:`lstm_scan` computes the same values with a hand-written
    backward pass; this is the reference it is tested against.

    Args:
      x_proj: ``Float[batch, time, 4*hidden]``, the input projection
        ``x @ W_x + b`` of every step, gates ordered ``i, f, g, o``.
      recurrent_kernel: ``Float[hidden, 4*hidden]``.
      mask: ``Bool[batch, time]``; where false the state is carried unchanged
        and the output is zero.
      matmul_dtype: operand dtype of ``h @ W_h`` (see :func:`matmul`).
    Returns:
      ``(outputs, (c, h))``: ``Float[batch, time, hidden]`` and the final cell
      and hidden states ``Float[batch, hidden]`` (each row's state at its own
      last valid step).
    """
    ys, state, _ = _lstm_forward(x_proj, recurrent_kernel, mask, False, matmul_dtype)
    return ys, state


def _lstm_cell(xp_t, h, c, w_h, dtype):
    z = xp_t + matmul(h, w_h, dtype)
    i, f, g, o = jnp.split(z, 4, axis=-1)
    i, f, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jax.nn.sigmoid(o)
    g = jnp.tanh(g)
    new_c = f * c + i * g
    tc = jnp.tanh(new_c)
    return i, f, g, o, new_c, tc, o * tc


def _lstm_forward(x_proj, w_h, mask, keep: bool, dtype: str):
    """The forward scan; with ``keep`` it also returns, per step, the gate
    activations, the previous states and ``tanh(c)`` for the backward pass."""
    batch, _, four_h = x_proj.shape
    hidden = four_h // 4
    if dtype == "float32" and jnp.result_type(x_proj.dtype, w_h.dtype) != x_proj.dtype:
        raise ValueError(f"x_proj is {x_proj.dtype} but recurrent_kernel is {w_h.dtype}: give both one dtype (the "
                         "states take x_proj's)")

    def step(carry, inputs):
        c, h = carry
        xp_t, m_t = inputs
        i, f, g, o, new_c, tc, new_h = _lstm_cell(xp_t, h, c, w_h, dtype)
        m = m_t[:, None]
        saved = (i, f, g, o, c, tc, h) if keep else None
        return (jnp.where(m, new_c, c), jnp.where(m, new_h, h)), (jnp.where(m, new_h, 0.0), saved)

    init = (jnp.zeros((batch, hidden), x_proj.dtype), jnp.zeros((batch, hidden), x_proj.dtype))
    # time-major for the scan: one contiguous slice per step.
    (c, h), (ys, saved) = jax.lax.scan(step, init, (jnp.swapaxes(x_proj, 0, 1), mask.T))
    return jnp.swapaxes(ys, 0, 1), (c, h), saved


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def lstm_scan(x_proj: Array, recurrent_kernel: Array, mask: Array,
              matmul_dtype: str = "float32") -> tuple[Array, tuple[Array, Array]]:
    """:func:`lstm_scan_reference` with a hand-written backward pass, as cuDNN
    and oneDNN do it: the forward scan stores the gate activations; the
    backward scan carries only ``(dh, dc)`` through ``dz @ W_h.T``; the
    recurrent-kernel gradient is one matmul over all steps afterwards instead
    of a small accumulation inside every step. Values equal the reference;
    gradients agree to float32 rounding (tested to 1e-5). Forward-mode
    differentiation (``jvp``) is not defined for it; use the reference.
    With ``matmul_dtype="bfloat16"`` the backward pass's matmuls round their
    operands to bfloat16 as the forward's do.
    """
    ys, state, _ = _lstm_forward(x_proj, recurrent_kernel, mask, False, matmul_dtype)
    return ys, state


def _lstm_scan_fwd(x_proj, w_h, mask, dtype):
    ys, state, saved = _lstm_forward(x_proj, w_h, mask, True, dtype)
    return (ys, state), (saved, w_h, mask)


def _lstm_scan_bwd(dtype, res, cotangents):
    (i, f, g, o, c_prev, tc, h_prev), w_h, mask = res
    d_ys, (d_c, d_h) = cotangents
    w_t = w_h.T

    def step(carry, inputs):
        dc, dh = carry
        i_t, f_t, g_t, o_t, c_t, tc_t, m_t, dy_t = inputs
        m = m_t[:, None]
        dh_new = dh + dy_t
        do = dh_new * tc_t
        dc_new = dc + dh_new * o_t * (1.0 - tc_t * tc_t)
        dz = jnp.concatenate([dc_new * g_t * i_t * (1.0 - i_t), dc_new * c_t * f_t * (1.0 - f_t),
                              dc_new * i_t * (1.0 - g_t * g_t), do * o_t * (1.0 - o_t)], axis=-1)
        dz = jnp.where(m, dz, 0.0)  # a masked step carried the state through untouched
        return (jnp.where(m, dc_new * f_t, dc), jnp.where(m, matmul(dz, w_t, dtype), dh)), dz

    dy = jnp.swapaxes(d_ys, 0, 1)
    _, dz = jax.lax.scan(step, (d_c, d_h), (i, f, g, o, c_prev, tc, mask.T, dy), reverse=True)
    if dtype == "float32":
        d_w = jnp.einsum("tbh,tbg->hg", h_prev, dz)
    else:
        d_w = jnp.einsum("tbh,tbg->hg", h_prev.astype(dtype), dz.astype(dtype), preferred_element_type=jnp.float32)
    return jnp.swapaxes(dz, 0, 1), d_w, None


lstm_scan.defvjp(_lstm_scan_fwd, _lstm_scan_bwd)


def _keras_lstm_bias_init(key, shape, dtype=jnp.float32):
    # Keras' unit_forget_bias=True: zeros, but ones for the forget gate.
    hidden = shape[0] // 4
    return jnp.zeros(shape, dtype).at[hidden : 2 * hidden].set(1.0)


class LSTMLayer(nn.Module):
    """One LSTM direction. Params: ``input_kernel (F, 4H)``,
    ``recurrent_kernel (H, 4H)``, ``bias (4H,)``; initialised as Keras does
    (Glorot-uniform input kernel, orthogonal recurrent kernel, forget bias 1)."""

    hidden: int
    fused: bool = True
    matmul_dtype: str = "float32"
    use_kernel: bool = False
    kernel_required: bool = False  # lstm_impl="kernel" set explicitly: no silent scan for float64

    @nn.compact
    def __call__(self, x: Array, mask: Array) -> tuple[Array, Array]:
        features = x.shape[-1]
        # float32 written out: an initializer's default dtype is float64 under JAX's x64 mode (other draws, other
        # training than without it, until 2026-12-08)
        w_x = self.param("input_kernel", nn.initializers.glorot_uniform(), (features, 4 * self.hidden), jnp.float32)
        w_h = self.param("recurrent_kernel", nn.initializers.orthogonal(), (self.hidden, 4 * self.hidden), jnp.float32)
        b = self.param("bias", _keras_lstm_bias_init, (4 * self.hidden,))
        # Padded steps are zeroed first so that inf/NaN padding cannot leak
        # into the matmul (nor into gradients through the masked select).
        x = jnp.where(mask[..., None], x, 0.0)
        if self.kernel_required and not x.dtype == w_h.dtype == jnp.float32:
            raise ValueError(f"lstm_impl='kernel' computes in float32; this layer's input is {x.dtype} and its "
                             f"recurrent kernel {w_h.dtype} (JAX's x64 mode): use lstm_impl='auto' or 'scan'")
        if self.use_kernel and x.dtype == w_h.dtype == jnp.float32:  # float32 only; else the scan
            # the kernel walks time-major: transpose the narrow input, not x_proj
            x_proj = _project(jnp.swapaxes(x, 0, 1), w_x, b, "float32")
            ys, (_, h) = kernel.lstm_layer(x_proj, w_h, mask.T)
            return jnp.swapaxes(ys, 0, 1), h
        x_proj = _project(x, w_x, b, self.matmul_dtype)
        ys, (_, h) = (lstm_scan if self.fused else lstm_scan_reference)(x_proj, w_h, mask, self.matmul_dtype)
        return ys, h


class LSTMClassifierNet(nn.Module):
    """Stacked (optionally bidirectional) LSTM -> [Dense(head, relu)] -> logits.

    Dropout (rate may be traced) is applied to the sequence between stacked
    layers, to the final hidden state before the head, and after the hidden
    dense layer, as in the Keras tutorial's ``LSTM -> Dropout -> Dense(64) ->
    Dropout -> Dense``.
    """

    config: ModelConfig

    @nn.compact
    def __call__(self, x: Array, lengths: Array, dropout_rate: Array | float = 0.0,
                 deterministic: bool = True, minirocket: Array | None = None) -> Array:
        """Logits of a right-padded batch.

        Args:
          x: ``Float[batch, time, feature]``.
          lengths: ``Int[batch]``, each in ``[1, time]``.
          dropout_rate: scalar, may be traced.
          deterministic: if false, draws dropout masks from the ``"dropout"`` rng.
          minirocket: ``Float[batch, features]``: the MiniRocket branch's
            standardised features already computed (training computes them
            once); ``None`` computes them from ``x``.
        Returns:
          ``Float[batch, classes]`` logits.
        """
        cfg = self.config
        if x.ndim != 3 or x.shape[-1] != cfg.input_width:
            raise ValueError(
                f"x must have shape (batch, time, {cfg.input_width}), got {x.shape}")
        mask = sequence_mask(lengths, x.shape[1])

        def drop(v):
            return dropout(v, dropout_rate, None if deterministic else self.make_rng("dropout"))

        def drop_steps(v):
            # masks drawn time-major: step t's draws do not depend on how far
            # the batch is padded in time (a ragged subset pads less)
            return jnp.swapaxes(drop(jnp.swapaxes(v, 0, 1)), 0, 1)

        seq, lstm_mask, lstm_lengths = x, mask, lengths
        if cfg.lstm_over == "channels":
            # Dimension shuffle: (batch, time, feature) -> (batch, feature, max_length).
            # Steps past max_length can only be padding (callers check lengths).
            valid = jnp.where(mask[..., None], x, 0.0)[:, : cfg.max_length]
            valid = jnp.pad(valid, ((0, 0), (0, cfg.max_length - valid.shape[1]), (0, 0)))
            seq = jnp.swapaxes(valid, 1, 2)
            lstm_lengths = jnp.full(x.shape[:1], cfg.input_width, lengths.dtype)
            lstm_mask = jnp.ones(seq.shape[:2], bool)
        finals = None
        fused, use_kernel = cfg.lstm_backward == "fused", cfg.use_kernel()
        required = use_kernel and cfg.lstm_impl == "kernel"
        for depth, hidden in enumerate(cfg.hidden_sizes):
            if depth > 0:
                seq = drop_steps(seq)
            fwd_seq, fwd_h = LSTMLayer(hidden, fused, cfg.matmul_dtype, use_kernel, required,
                                       name=f"lstm_{depth}_fwd")(seq, lstm_mask)
            if cfg.bidirectional:
                rev = flip_sequences(seq, lstm_lengths, num_batch_dims=1, time_major=False)
                bwd_rev, bwd_h = LSTMLayer(hidden, fused, cfg.matmul_dtype, use_kernel, required,
                                           name=f"lstm_{depth}_bwd")(rev, lstm_mask)
                bwd_seq = flip_sequences(bwd_rev, lstm_lengths, num_batch_dims=1, time_major=False)
                seq = jnp.concatenate([fwd_seq, bwd_seq], axis=-1)
                finals = jnp.concatenate([fwd_h, bwd_h], axis=-1)
            else:
                seq, finals = fwd_seq, fwd_h
        branches = [] if finals is None else [finals]
        if cfg.conv_filters:
            branches.append(self._conv_branch(x, mask, lengths))
        if cfg.minirocket_features:
            branch = MiniRocketBranch(cfg.rocket_plans, name="minirocket")
            branches.append(branch(x, lengths) if minirocket is None else minirocket)
        z = drop(jnp.concatenate(branches, axis=-1))
        if cfg.head_size is not None:
            z = nn.relu(nn.Dense(cfg.head_size, name="head")(z))
            z = drop(z)
        exact = jax.lax.Precision.HIGHEST if cfg.classifier in RIDGE_CLASSIFIERS else None  # as fitted, not TF32
        return nn.Dense(cfg.num_classes, precision=exact, name="logits")(z)

    def _conv_branch(self, x: Array, mask: Array, lengths: Array) -> Array:
        """LSTM-FCN's convolutional branch: ``Float[batch, conv_filters[-1]]``.
        Padded steps are zeroed before every convolution, so a sequence's
        result does not depend on its padding."""
        m = mask[..., None]
        h = jnp.where(m, x, 0.0)
        for k, (filters, width) in enumerate(zip(self.config.conv_filters, self.config.conv_kernel_sizes,
                                                 strict=True)):
            h = jnp.where(m, nn.relu(_Conv1D(filters, width, name=f"conv_{k}")(h)), 0.0)
        return jnp.sum(h, axis=1) / jnp.maximum(lengths, 1)[:, None].astype(h.dtype)  # length 0: zeros, not NaN


class MiniRocketBranch(nn.Module):
    """Standardised MiniRocket (one plan) or MultiRocket (two: the series',
    its first differences') features, ``Float[batch, features]``. Its
    parameters (``channels``, ``biases``, with MultiRocket ``channels_diff``,
    ``biases_diff``, then ``mean``, ``scale``) are fitted, not trained:
    :func:`jaxlstm.train.fit` sets them from the training rows, the branch
    passes no gradient to them (none is a kernel, so no penalty or weight
    decay reaches them either). Initialised to a placeholder (all channels,
    zero biases)."""

    plans: tuple

    @nn.compact
    def __call__(self, x: Array, lengths: Array) -> Array:
        fitted = {}
        for suffix, (dilations, per) in zip(("", "_diff"), self.plans):
            fitted["channels" + suffix] = self.param("channels" + suffix, nn.initializers.ones_init(),
                                                     (84 * len(dilations), x.shape[-1]), jnp.float32)
            fitted["biases" + suffix] = self.param("biases" + suffix, nn.initializers.zeros_init(), (84 * sum(per),),
                                                   jnp.float32)
        width = rocket_width(self.plans)
        mean = self.param("mean", nn.initializers.zeros_init(), (width,), jnp.float32)
        scale = self.param("scale", nn.initializers.ones_init(), (width,), jnp.float32)
        f = minirocket_rows(x, lengths, jax.lax.stop_gradient(fitted), self.plans)
        return (f - jax.lax.stop_gradient(mean)) / jax.lax.stop_gradient(scale)


def rocket_width(plans: tuple) -> int:
    """Features of :func:`minirocket_rows` for these plans."""
    pairs = sum(84 * sum(per) for _, per in plans)
    return pairs if len(plans) == 1 else 4 * pairs


def minirocket_rows(x: Array, lengths: Array, fitted: dict, plans: tuple, chunk: int = 64) -> Array:
    """:func:`jaxlstm.rocket.minirocket` (one plan) or MultiRocket's features
    (two: :func:`jaxlstm.rocket.multirocket` of the series, then of its
    :func:`jaxlstm.rocket.differences`) of ``fitted``'s arrays, over ``chunk``
    rows at a time (``lax.map``), so the convolutions at one dilation,
    ``Float[chunk, time, 84]``, are all that is held at once."""
    def one(row):
        xr, lr = row[0][None], row[1][None]
        base = rocket.MiniRocketParams(fitted["channels"], fitted["biases"])
        if len(plans) == 1:
            return rocket.minirocket(xr, lr, base, *plans[0])[0]
        xd, ld = rocket.differences(xr, lr)
        diff = rocket.MiniRocketParams(fitted["channels_diff"], fitted["biases_diff"])
        return jnp.concatenate([rocket.multirocket(xr, lr, base, *plans[0]),
                                rocket.multirocket(xd, ld, diff, *plans[1])], axis=1)[0]

    return jax.lax.map(one, (x, lengths), batch_size=min(chunk, max(x.shape[0], 1)))


class _Conv1D(nn.Module):
    """A 'SAME' 1-D convolution with ``nn.Conv``'s parameters (``kernel:
    Float[width, in, out]``, ``bias: Float[out]``, same initialisers), computed
    as one matmul over stacked shifted windows. XLA:CPU runs a convolution
    inside a scanned training loop ~16x slower than the same matmul, though
    alone the two are equally fast (``benchmarks/bench_conv.py``; not measured
    on accelerators)."""

    features: int
    width: int

    @nn.compact
    def __call__(self, h: Array) -> Array:
        kernel = self.param("kernel", nn.linear.default_kernel_init, (self.width, h.shape[-1], self.features),
                            jnp.float32)
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
        left = (self.width - 1) // 2  # flax/XLA 'SAME': the extra pad goes on the right
        padded = jnp.pad(h, ((0, 0), (left, self.width - 1 - left), (0, 0)))
        t = h.shape[1]
        windows = jnp.concatenate([padded[:, i:i + t] for i in range(self.width)], axis=-1)
        return windows @ kernel.reshape(-1, self.features) + bias


def init_params(config: ModelConfig, rng: Array, max_length: int = 1) -> Any:
    """Initial parameters of :class:`LSTMClassifierNet` (pure; vmappable over ``rng``)."""
    net = LSTMClassifierNet(config)
    x = jnp.zeros((1, max_length, config.input_width), jnp.float32)
    return net.init(rng, x, jnp.ones((1,), jnp.int32))["params"]
