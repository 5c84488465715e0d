"""The compiled whole-layer LSTM recurrence for XLA:CPU (``jax.ffi``).

:func:`lstm_layer` computes what :func:`jaxlstm.model.lstm_scan` computes —
the recurrence of one LSTM direction over all time steps, forward and
backward — in one call to a C++ kernel (``jaxlstm/_csrc/lstm_cpu.cc``)
instead of a ``lax.scan`` of small dots. Its work runs on XLA's own intra-op
thread pool: vmapped sweep members are spread over the cores, and a single
member's hidden units are split between them. The per-step products use a
packed AVX-512 GEMM (``W_h`` packed once per call); the recurrent kernel's
gradient, one GEMM over all steps, and the per-step products on CPUs
without AVX-512 use SciPy's ``sgemm`` (from ``scipy.linalg.cython_blas``,
as jaxlib takes LAPACK; no BLAS is linked). The input projection stays
outside the kernel, one large XLA matmul.

Loading the kernel sets SciPy's bundled OpenBLAS to one thread for the rest
of the process (its workers would otherwise spin between calls and take
the cores from the kernel's work: measured 5x slower on small fits);
NumPy's own BLAS is not touched.

The kernel is built by ``pip install`` (``setup.py``) when a C++ compiler is
there; if it was not built or cannot be loaded, :func:`available` is false,
:func:`reason` says why, and the model runs the scan (``ModelConfig(lstm_impl=
"auto")`` warns once). It runs on the CPU only; on GPU/TPU the scan is used.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
import warnings

import jax
import jax.numpy as jnp

Array = jax.Array

__all__ = ["available", "reason", "blas", "num_threads", "lstm_layer"]

_state: dict = {}


def _single_threaded_scipy_openblas() -> bool:
    """Set the OpenBLAS that SciPy's ``cython_blas`` calls into to one thread
    (the kernel runs its own threads, one GEMM each). Returns whether it was
    found; with another BLAS nothing is changed."""
    import scipy

    libs = os.path.join(os.path.dirname(scipy.__file__), os.pardir, "scipy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return True
    return False


def _cpu_flags() -> set[str] | None:
    """This CPU's flags from ``/proc/cpuinfo`` (``None`` where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return None


def _check_isa() -> None:
    """Raise if the kernel was compiled (``-march=native``, setup.py records
    the extensions in ``_lstm_cpu.isa``) for instructions this CPU lacks:
    loading it would end the process with an illegal instruction, not an
    error (a venv shared by machines of several CPU types)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), "_lstm_cpu.isa")) as f:
            built = set(f.read().split())
    except OSError:
        return  # built with JAXLSTM_KERNEL_CFLAGS, or before the record: nothing to compare
    here = _cpu_flags()
    missing = sorted(built - here) if here is not None else []
    if missing:
        raise RuntimeError(f"the kernel was compiled (-march=native) on a CPU with {', '.join(missing)}, which this "
                           "CPU lacks; reinstall jaxlstm on this machine, or build it for several with "
                           "JAXLSTM_KERNEL_CFLAGS=\"-mavx2 -mfma\" pip install ...")


def _load() -> dict:
    if _state:
        return _state
    try:
        _check_isa()  # before the import: the module's own code may use those instructions
        from jaxlstm import _lstm_cpu
        import scipy.linalg.cython_blas as cython_blas

        _lstm_cpu.set_blas(cython_blas.__pyx_capi__["sgemm"])
        openblas = _single_threaded_scipy_openblas()
        for name, capsule in _lstm_cpu.registrations().items():
            jax.ffi.register_ffi_target(name, capsule, platform="cpu")
        _state.update(module=_lstm_cpu, reason=None, blas="scipy-openblas" if openblas else "scipy")
    except Exception as e:  # noqa: BLE001 - any failure means "use the scan"
        _state.update(module=None, reason=f"{type(e).__name__}: {e}", blas=None)
    return _state


def available() -> bool:
    """Whether the compiled kernel is built and loaded."""
    return _load()["module"] is not None


def reason() -> str | None:
    """Why the kernel is not available (``None`` when it is)."""
    return _load()["reason"]


def blas() -> str | None:
    """Whose ``sgemm`` the kernel calls: ``"scipy-openblas"`` (set to one
    thread) or ``"scipy"`` (some other BLAS SciPy was built with)."""
    return _load()["blas"]


def num_threads() -> int:
    """Threads the kernel may spread a call over: ``JAXLSTM_KERNEL_THREADS``,
    else the machine's cores (``os.cpu_count()``, the default size of XLA's
    intra-op pool, which runs the kernel's work; the kernel itself asks the
    pool, so ``XLA_FLAGS`` that shrink it are not seen here); 0 when the
    kernel is not available."""
    if not available():
        return 0
    # read as the C++ kernel reads it (std::atoi: leading blanks and sign, the digits up to the first other
    # character; "+4", " 4", "4 threads" are 4), so that this says what the kernel does
    lead = re.match(r"\s*([+-]?\d+)", os.environ.get("JAXLSTM_KERNEL_THREADS", ""))
    n = int(lead.group(1)) if lead else 0
    return n if n > 0 else (os.cpu_count() or 1)


def warn_unavailable() -> None:
    """Warn once that the kernel is missing and the scan is used instead."""
    if not _state.get("warned"):
        _state["warned"] = True
        warnings.warn(
            "jaxlstm's compiled CPU LSTM kernel is not available "
            f"({reason()}); training uses the scanned LSTM, which is slower on CPU. "
            "Reinstall with a C++ compiler (pip install -e .) to build it, or pass "
            "set JAXLSTM_LSTM_IMPL=scan (or ModelConfig(lstm_impl='scan')) to silence this.", RuntimeWarning,
            stacklevel=3)


def _forward(x_proj, w_h, mask, train: bool):
    if not available():
        raise RuntimeError(f"jaxlstm's compiled CPU LSTM kernel is not available: {reason()}")
    t, b, four_h = x_proj.shape[-3:]
    lead, h = x_proj.shape[:-3], four_h // 4
    f32 = jnp.float32
    out = [jax.ShapeDtypeStruct((*lead, t, b, h), f32), jax.ShapeDtypeStruct((*lead, b, h), f32),
           jax.ShapeDtypeStruct((*lead, b, h), f32)]
    if train:
        out += [jax.ShapeDtypeStruct((*lead, t, b, four_h), f32), jax.ShapeDtypeStruct((*lead, t, b, h), f32),
                jax.ShapeDtypeStruct((*lead, t, b, h), f32)]
    name = "jaxlstm_lstm_forward_train" if train else "jaxlstm_lstm_forward"
    return jax.ffi.ffi_call(name, out, vmap_method="broadcast_all")(x_proj, w_h, mask)


@jax.custom_vjp
def lstm_layer(x_proj: Array, recurrent_kernel: Array, mask: Array) -> tuple[Array, tuple[Array, Array]]:
    """One LSTM direction over all steps, in the compiled kernel (CPU only).

    The same values as :func:`jaxlstm.model.lstm_scan` (float32), but
    time-major, the layout the kernel walks.

    Args:
      x_proj: ``Float[time, batch, 4*hidden]``, ``x @ W_x + b`` of every
        step, gates ordered ``i, f, g, o``.
      recurrent_kernel: ``Float[hidden, 4*hidden]``.
      mask: ``Bool[time, batch]``; where false the state is carried through
        unchanged and the output is zero.
    Returns:
      ``(outputs, (c, h))``: ``Float[time, batch, hidden]`` and the final
      cell and hidden states ``Float[batch, hidden]``.
    """
    ys, c, h = _forward(x_proj.astype(jnp.float32), recurrent_kernel.astype(jnp.float32), mask.astype(bool), False)
    return ys, (c, h)


def _lstm_layer_fwd(x_proj, w_h, mask):
    mask = mask.astype(bool)
    ys, c, h, act, c_all, h_prev = _forward(x_proj.astype(jnp.float32), w_h.astype(jnp.float32), mask, True)
    return (ys, (c, h)), (w_h, mask, act, c_all, h_prev)


def _lstm_layer_bwd(res, cotangents):
    w_h, mask, act, c_all, h_prev = res
    d_ys, (d_c, d_h) = cotangents
    f32 = jnp.float32
    dz, d_w = jax.ffi.ffi_call(
        "jaxlstm_lstm_backward", (jax.ShapeDtypeStruct(act.shape, f32), jax.ShapeDtypeStruct(w_h.shape, f32)),
        vmap_method="broadcast_all")(w_h.astype(f32), mask, act, c_all, h_prev, d_ys, d_c, d_h)
    return dz, d_w.astype(w_h.dtype), None


lstm_layer.defvjp(_lstm_layer_fwd, _lstm_layer_bwd)
