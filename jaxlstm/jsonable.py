"""The one JSON converter: NumPy scalars and arrays as plain JSON (host code).

Used by the sweep's ``members.jsonl`` and member hashes (strict: an unknown
type is an error, so a hash never depends on a ``repr``), by checkpoint
metadata and by the CLI's result files (lenient: anything else as ``str``).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["default", "dumps", "plain"]


def default(v):
    """``json.dumps(default=...)`` hook: a NumPy scalar as its Python value, an
    array as nested lists (tuples are lists in JSON already).

    Raises:
      TypeError: anything else.
    """
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {v!r}")


def _lenient(v):
    try:
        return default(v)
    except TypeError:
        return str(v)


def dumps(obj, *, strict: bool = True, **kw) -> str:
    """``json.dumps`` with :func:`default`; ``strict=False`` writes any other
    object as its ``str``."""
    return json.dumps(obj, default=default if strict else _lenient, **kw)


def plain(obj) -> Any:
    """A copy of ``obj`` made of plain Python values (tuples as lists, NumPy
    scalars as numbers), as it reads back from JSON."""
    return json.loads(dumps(obj, strict=False))
