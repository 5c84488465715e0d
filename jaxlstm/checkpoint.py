"""Model checkpoints without pickle.

A checkpoint file is ``b"JAXLSTM1"`` + the SHA-256 of the payload + the
payload, Flax's msgpack serialisation of plain data: the parameters (NumPy
arrays), the :class:`~jaxlstm.model.ModelConfig`, the normalisation
statistics, the class names and a JSON-able ``meta`` dict (hyperparameters,
scores, versions). Loading runs no code from the file; a truncated or
altered file fails the checksum with a clear ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any

import numpy as np

from jaxlstm import features, jsonable
from jaxlstm._checks import check_sequences
from jaxlstm.inference import predict_chunked
from jaxlstm.model import ModelConfig

__all__ = ["Checkpoint", "save", "load"]

MAGIC = b"JAXLSTM1"


@dataclasses.dataclass
class Checkpoint:
    """A trained model ready to predict."""

    params: Any
    model: ModelConfig
    scaler: features.ScalerStats
    class_names: tuple[str, ...]
    meta: dict
    members: int = 1  # > 1: an ensemble, each params leaf with a leading member axis

    def predict_proba(self, x, lengths=None) -> np.ndarray:
        """Probabilities for raw ``(n, T, F)`` sequences (validated)."""
        xa, la = check_sequences(x, lengths)
        if xa.shape[-1] != self.model.num_features:
            raise ValueError(f"the data has {xa.shape[-1]} features per step; the model expects "
                             f"{self.model.num_features}")
        p = predict_chunked(self.params, self.model, self.scaler, xa, la, members=self.members).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)


def save(path: str | os.PathLike, params, model: ModelConfig, scaler: features.ScalerStats,
         class_names, meta: dict | None = None, members: int = 1) -> None:
    """Write a checkpoint (atomically: a temporary file renamed into place);
    ``members > 1``: ``params`` is an ensemble with a leading member axis."""
    from flax import serialization

    if len(class_names) != model.num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {model.num_classes} classes")
    tree = {
        "model": {"num_features": model.num_features, "num_classes": model.num_classes,
                  "hidden_sizes": list(model.hidden_sizes), "bidirectional": model.bidirectional,
                  "head_size": -1 if model.head_size is None else model.head_size,
                  "matmul_dtype": model.matmul_dtype, "conv_filters": list(model.conv_filters),
                  "conv_kernel_sizes": list(model.conv_kernel_sizes), "lstm_over": model.lstm_over,
                  "max_length": -1 if model.max_length is None else model.max_length,
                  "features": "" if model.features is None else json.dumps(dataclasses.asdict(model.features))},
        "params": _to_numpy(params),
        "scaler": {"offset": np.asarray(scaler.offset), "scale": np.asarray(scaler.scale)},
        "class_names": json.dumps([str(c) for c in class_names]),
        "meta": jsonable.dumps(meta or {}, strict=False),
        "members": int(members),
    }
    payload = serialization.msgpack_serialize(tree)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`save`.

    Raises:
      ValueError: not a jaxlstm checkpoint, truncated, corrupted, or missing
        fields.
    """
    from flax import serialization

    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise ValueError(f"cannot read checkpoint {path}: {e}") from None
    if not blob.startswith(MAGIC):
        raise ValueError(f"{path} is not a jaxlstm checkpoint (bad header)")
    digest, payload = blob[len(MAGIC) : len(MAGIC) + 32], blob[len(MAGIC) + 32 :]
    if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
        raise ValueError(f"{path} is truncated or corrupted (checksum mismatch)")
    try:
        tree = serialization.msgpack_restore(payload)
        m = tree["model"]
        model = ModelConfig(int(m["num_features"]), int(m["num_classes"]), tuple(int(h) for h in m["hidden_sizes"]),
                            bool(m["bidirectional"]), None if int(m["head_size"]) < 0 else int(m["head_size"]),
                            matmul_dtype=str(m.get("matmul_dtype", "float32")),
                            conv_filters=tuple(int(v) for v in m.get("conv_filters", ())),
                            conv_kernel_sizes=tuple(int(v) for v in m.get("conv_kernel_sizes", ())),
                            lstm_over=str(m.get("lstm_over", "time")),
                            max_length=None if int(m.get("max_length", -1)) < 0 else int(m["max_length"]),
                            features=features.TemporalFeatures(**json.loads(m["features"])) if m.get("features")
                            else None)
        scaler = features.ScalerStats(np.asarray(tree["scaler"]["offset"]), np.asarray(tree["scaler"]["scale"]))
        names = tuple(json.loads(tree["class_names"]))
        meta = json.loads(tree["meta"])
        params = tree["params"]
        members = int(tree.get("members", 1))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: checkpoint is missing or has malformed fields ({e!r})") from None
    return Checkpoint(params, model, scaler, names, meta, members)


def _to_numpy(tree):
    if isinstance(tree, dict):
        return {k: _to_numpy(v) for k, v in tree.items()}
    return np.asarray(tree)
