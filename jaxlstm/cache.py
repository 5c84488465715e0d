"""JAX's persistent compilation cache, so that a rerun skips compilation."""

from __future__ import annotations

import os

__all__ = ["default_cache_dir", "enable_compilation_cache"]


def default_cache_dir() -> str:
    """``$JAXLSTM_CACHE_DIR`` if set (empty means off), else ``~/.cache/jaxlstm/xla``."""
    return os.environ.get("JAXLSTM_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "jaxlstm", "xla"))


def enable_compilation_cache(path: str | os.PathLike | None = None, min_compile_time_secs: float = 0.5) -> str | None:
    """Store compiled programs under ``path`` (default :func:`default_cache_dir`)
    and reuse them in later processes: a repeated sweep, search or CLI run
    then skips compilation. Programs that compile faster than
    ``min_compile_time_secs`` are not stored. Returns the directory, or
    ``None`` when ``path`` (or ``$JAXLSTM_CACHE_DIR``) is empty."""
    import jax

    path = default_cache_dir() if path is None else os.fspath(path)
    if not path:
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_secs))
    return path
