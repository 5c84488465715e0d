"""Compiled programs: JAX's persistent compilation cache, so that a rerun
skips compilation; and the in-process caches of compiled programs, which
:func:`relieve_memory_maps` empties before the process runs out of memory
maps.

Why: XLA:CPU JIT-compiles every fused kernel of a program into its own
memory mappings -- about 850 for one jaxlstm training program (measured,
jaxlib 0.10.2) -- and Linux allows a process ``vm.max_map_count`` of them
(65,530 by default). A process that keeps ~75 training programs alive fails
inside the next compilation (a segfault or abort in XLA, not a Python error).
"""

from __future__ import annotations

import gc
import os
import warnings

__all__ = ["default_cache_dir", "enable_compilation_cache", "register_compiled", "memory_maps",
           "relieve_memory_maps", "clear_compiled"]

_registered: list[dict] = []


def default_cache_dir() -> str:
    """``$JAXLSTM_CACHE_DIR`` if set (empty means off), else JAX's own
    ``$JAX_COMPILATION_CACHE_DIR`` if set, else ``~/.cache/jaxlstm/xla``
    (``~`` expanded: it was a folder named "~" until 2026-12-06)."""
    default = os.environ.get("JAX_COMPILATION_CACHE_DIR") or os.path.join("~", ".cache", "jaxlstm", "xla")
    return os.path.expanduser(os.environ.get("JAXLSTM_CACHE_DIR", default))


def enable_compilation_cache(path: str | os.PathLike | None = None, min_compile_time_secs: float = 0.5) -> str | None:
    """Store compiled programs under ``path`` (default :func:`default_cache_dir`)
    and reuse them in later processes: a repeated sweep, search or CLI run
    then skips compilation. Programs that compile faster than
    ``min_compile_time_secs`` are not stored. Returns the directory, or
    ``None`` when ``path`` (or ``$JAXLSTM_CACHE_DIR``) is empty, or when the
    folder cannot be created or written: then one warning says why and the
    cache stays as it was (JAX warned once per program instead)."""
    import tempfile

    import jax

    path = default_cache_dir() if path is None else os.fspath(path)
    if not path:
        return None
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        warnings.warn(f"compilation cache not used: cannot write to {path!r} ({e.strerror or e}); set "
                      "JAXLSTM_CACHE_DIR to a writable folder, or to '' to turn the cache off", RuntimeWarning,
                      stacklevel=2)
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_secs))
    return path


def register_compiled(cache: dict) -> dict:
    """Register a module's dict of compiled programs, so that
    :func:`clear_compiled` empties it; returns it."""
    _registered.append(cache)
    return cache


def clear_compiled() -> None:
    """Drop every compiled program this process holds (jaxlstm's registered
    caches and JAX's); they recompile on demand. Their memory maps are
    released."""
    import jax

    for cache in _registered:
        cache.clear()
    jax.clear_caches()
    gc.collect()


def memory_maps() -> tuple[int, int] | None:
    """``(mappings this process holds, the kernel's limit)``, or ``None``
    where ``/proc`` does not tell (not Linux)."""
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            limit = int(f.read())
        with open("/proc/self/maps") as f:
            held = sum(1 for _ in f)
    except (OSError, ValueError):
        return None
    return held, limit


def relieve_memory_maps(fraction: float = 0.7) -> bool:
    """Before compiling: if the process holds more than ``fraction`` of its
    memory-map limit, :func:`clear_compiled` (with a warning saying so) and
    return ``True``. Called by jaxlstm before each training program it
    compiles, so long-running processes (many sweeps in one notebook) do not
    crash inside XLA."""
    maps = memory_maps()
    if maps is None or maps[0] <= fraction * maps[1]:
        return False
    clear_compiled()
    after = memory_maps()
    warnings.warn(f"this process held {maps[0]} of its {maps[1]} memory maps (vm.max_map_count); XLA:CPU maps "
                  "hundreds per compiled program, so jaxlstm dropped the compiled programs (now "
                  f"{after[0] if after else '?'} maps); they recompile when needed", RuntimeWarning, stacklevel=3)
    return True
