"""Model checkpoints without pickle.

A checkpoint file is ``b"JAXLSTM2"`` (the format: files of format 1,
``b"JAXLSTM1"``, are read too) + the SHA-256 of the payload + the
payload, Flax's msgpack serialisation of plain data: the parameters (NumPy
arrays), the :class:`~jaxlstm.model.ModelConfig`, the normalisation
statistics, the class names and a JSON-able ``meta`` dict (hyperparameters,
scores, versions). Loading runs no code from the file; a truncated or
altered file fails the checksum with a clear ``ValueError``. One file may
hold several such models and a ``meta`` of the whole (:func:`save_parts`: a
soft-voting ensemble of different configurations).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from jaxlstm import blob, features, jsonable
from jaxlstm._checks import check_sequences
from jaxlstm.inference import predict_chunked
from jaxlstm.model import ModelConfig

__all__ = ["Checkpoint", "save", "save_parts", "load", "load_parts", "row_fingerprints", "MAGIC", "MAGICS"]

MAGIC = b"JAXLSTM2"  # what save writes. Format 2 (2026-12-08) is format 1's layout; its new header keeps
# older jaxlstm from reading fields it does not know as if absent (a file with decision offsets, a bfloat16
# model or a ridge classifier was read silently wrong): they say "not a jaxlstm checkpoint" instead. The
# next change that older versions would misread bumps the digit again.
MAGICS = (MAGIC, b"JAXLSTM1")  # what load reads, newest first


@dataclasses.dataclass
class Checkpoint:
    """A trained model ready to predict."""

    params: Any
    model: ModelConfig
    scaler: features.ScalerStats
    class_names: tuple[str, ...]
    meta: dict
    members: int = 1  # > 1: an ensemble, each params leaf with a leading member axis
    seen: np.ndarray | None = None  # row_fingerprints of the sequences it trained on (None: not recorded)

    def predict_proba(self, x, lengths=None) -> np.ndarray:
        """Probabilities for raw ``(n, T, F)`` sequences (validated)."""
        xa, la = check_sequences(x, lengths)
        if xa.shape[-1] != self.model.num_features:
            raise ValueError(f"the data has {xa.shape[-1]} features per step; the model expects "
                             f"{self.model.num_features}")
        p = predict_chunked(self.params, self.model, self.scaler, xa, la, members=self.members).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)


def save(path: str | os.PathLike, params, model: ModelConfig, scaler: features.ScalerStats,
         class_names, meta: dict | None = None, members: int = 1, seen=None) -> None:
    """Write a checkpoint (atomically: a temporary file renamed into place);
    ``members > 1``: ``params`` is an ensemble with a leading member axis;
    ``seen``: :func:`row_fingerprints` of the sequences it trained on (so
    that scoring them again can be said to be no held-out score)."""
    _write(path, _tree(params, model, scaler, class_names, meta, members, seen))


def save_parts(path: str | os.PathLike, parts: list[dict], meta: dict | None = None) -> None:
    """Write several models to one checkpoint (a soft-voting ensemble of
    different configurations): each of ``parts`` holds :func:`save`'s
    arguments by name; ``meta`` is the whole's."""
    if not parts:
        raise ValueError("save_parts needs at least one part")
    _write(path, {"parts": {str(i): _tree(**p) for i, p in enumerate(parts)},
                  "meta": jsonable.dumps(meta or {}, strict=False)})


def load(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save`.

    Raises:
      ValueError: not a jaxlstm checkpoint, truncated, corrupted, missing
        fields, or several models (:func:`load_parts` reads those).
    """
    tree = _read(path)
    if "parts" in tree:
        raise ValueError(f"{path} holds an ensemble of {len(tree['parts'])} models: read it with "
                         "jaxlstm.estimator.load_model (or checkpoint.load_parts)")
    return _checkpoint(tree, path)


def load_parts(path: str | os.PathLike) -> tuple[list[Checkpoint], dict]:
    """Every model of a checkpoint and the whole's ``meta``: one model and
    ``{}`` for a file written by :func:`save`, the parts for one written by
    :func:`save_parts`. Raises ``ValueError`` as :func:`load`."""
    tree = _read(path)
    if "parts" not in tree:
        return [_checkpoint(tree, path)], {}
    try:
        parts = [tree["parts"][k] for k in sorted(tree["parts"], key=int)]
        meta = json.loads(tree["meta"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: checkpoint is missing or has malformed fields ({e!r})") from None
    return [_checkpoint(t, path) for t in parts], meta


def _tree(params, model: ModelConfig, scaler: features.ScalerStats, class_names, meta: dict | None = None,
          members: int = 1, seen=None) -> dict:
    if len(class_names) != model.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {model.num_classes} classes")
    return {
        "model": {"num_features": model.num_features, "num_classes": model.num_classes,
                  "hidden_sizes": list(model.hidden_sizes), "bidirectional": model.bidirectional,
                  "head_size": -1 if model.head_size is None else model.head_size,
                  "matmul_dtype": model.matmul_dtype, "conv_filters": list(model.conv_filters),
                  "conv_kernel_sizes": list(model.conv_kernel_sizes), "lstm_over": model.lstm_over,
                  "max_length": -1 if model.max_length is None else model.max_length,
                  "features": "" if model.features is None else json.dumps(dataclasses.asdict(model.features)),
                  "minirocket_features": model.minirocket_features,
                  "minirocket_length": -1 if model.minirocket_length is None else model.minirocket_length,
                  "classifier": model.classifier},
        "params": _to_numpy(params),
        "scaler": {"offset": np.asarray(scaler.offset), "scale": np.asarray(scaler.scale)},
        "class_names": json.dumps([str(c) for c in class_names]),
        "meta": jsonable.dumps(meta or {}, strict=False),
        "members": int(members),
        **({} if seen is None else {"seen": np.asarray(seen, np.uint64)}),
    }


def _write(path, tree: dict) -> None:
    blob.write(path, tree, MAGIC)


def _read(path) -> dict:
    return blob.read(path, MAGICS, "checkpoint")


def _checkpoint(tree: dict, path) -> Checkpoint:
    try:
        m = tree["model"]
        model = ModelConfig(int(m["num_features"]), int(m["num_classes"]), tuple(int(h) for h in m["hidden_sizes"]),
                            bool(m["bidirectional"]), None if int(m["head_size"]) < 0 else int(m["head_size"]),
                            matmul_dtype=str(m.get("matmul_dtype", "float32")),
                            conv_filters=tuple(int(v) for v in m.get("conv_filters", ())),
                            conv_kernel_sizes=tuple(int(v) for v in m.get("conv_kernel_sizes", ())),
                            lstm_over=str(m.get("lstm_over", "time")),
                            max_length=None if int(m.get("max_length", -1)) < 0 else int(m["max_length"]),
                            features=features.TemporalFeatures(**json.loads(m["features"])) if m.get("features")
                            else None, minirocket_features=int(m.get("minirocket_features", 0)),
                            minirocket_length=None if int(m.get("minirocket_length", -1)) < 0
                            else int(m["minirocket_length"]), classifier=str(m.get("classifier", "network")))
        scaler = features.ScalerStats(np.asarray(tree["scaler"]["offset"]), np.asarray(tree["scaler"]["scale"]))
        names = tuple(json.loads(tree["class_names"]))
        meta = json.loads(tree["meta"])
        params = tree["params"]
        members = int(tree.get("members", 1))
        seen = None if tree.get("seen") is None else np.asarray(tree["seen"], np.uint64)  # older files: none
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: checkpoint is missing or has malformed fields ({e!r})") from None
    return Checkpoint(params, model, scaler, names, meta, members, seen)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(0x9E3779B97F4A7C15)  # uint64 arithmetic wraps, as the mixer wants
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def row_fingerprints(x, lengths) -> np.ndarray:
    """One 64-bit fingerprint per sequence of ``(n, T, F)`` ``x`` (its valid
    steps' float32 values and its length; padding, and how far ``x`` is
    padded, do not count), so that rows read again from a file can be matched
    to the rows a model trained on. Read ~32 MB of rows at a time."""
    x = np.asarray(x, np.float32)
    lengths = np.asarray(lengths, np.int64)
    n, t, f = x.shape
    mult = _splitmix64(np.arange(t * f, dtype=np.uint64)) | np.uint64(1)  # by (step, feature): not by T
    out = np.empty(n, np.uint64)
    step = max(1, (4 << 20) // max(1, t * f))
    for s in range(0, n, step):
        block, ln = x[s : s + step], lengths[s : s + step]
        valid = np.arange(t)[None, :, None] < ln[:, None, None]
        bits = np.where(valid, block, np.float32(0)).view(np.uint32).reshape(len(block), -1).astype(np.uint64)
        out[s : s + step] = (bits * mult).sum(axis=1, dtype=np.uint64) ^ _splitmix64(ln.astype(np.uint64))
    return out


def _to_numpy(tree):
    if isinstance(tree, dict):
        return {k: _to_numpy(v) for k, v in tree.items()}
    return np.asarray(tree)
