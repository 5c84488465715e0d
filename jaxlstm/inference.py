"""Host-side prediction in fixed chunks, shared by :class:`~jaxlstm.estimator.LSTMClassifier`
and :class:`~jaxlstm.checkpoint.Checkpoint` (below both, so neither imports the other)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxlstm import train
from jaxlstm.progress import Progress

__all__ = ["PREDICT_CHUNK", "bucket", "predict_chunked"]

PREDICT_CHUNK = 256  # rows per compiled forward pass; every row sees the same program


def bucket(n: int, minimum: int = 8) -> int:
    """Round ``n`` up to a shape bucket: a multiple of ``2**(floor(log2 n) - 3)``
    (at most 12.5 % padding), at least ``minimum``."""
    n = max(int(n), minimum)
    step = 1 << max(n.bit_length() - 4, 0)
    return -(-n // step) * step



def predict_chunked(params, model, scaler, x, lengths, members: int = 1, progress: bool = False) -> np.ndarray:
    """Probabilities in fixed chunks of :data:`PREDICT_CHUNK` rows, time padded
    to a bucket: one compiled program per (time bucket, features), and each
    row's result does not depend on which other rows share its call.
    ``members > 1``: ``params`` is an ensemble (leading member axis) and the
    members' probabilities are averaged in the same program.

    Raises:
      ValueError: a sequence longer than a ``"channels"`` model's max_length.
    """
    model.check_lengths(lengths)
    predict = train.probabilities if members == 1 else train.ensemble_probabilities
    n, t, f = x.shape
    tb = max(bucket(t, minimum=1) if t > 8 else t, train.min_length(model))  # padding changes no valid step

    out = np.empty((n, model.num_classes), np.float32)
    bar = Progress(n, "predict", "sequences", enabled=progress and n > PREDICT_CHUNK)
    for s in range(0, n, PREDICT_CHUNK):
        xc = np.zeros((PREDICT_CHUNK, tb, f), np.float32)
        lc = np.ones(PREDICT_CHUNK, np.int32)
        m = min(PREDICT_CHUNK, n - s)
        xc[:m, :t] = x[s : s + m]
        lc[:m] = lengths[s : s + m]
        p = predict(params, scaler, jnp.asarray(xc), jnp.asarray(lc), model, PREDICT_CHUNK)
        out[s : s + m] = np.asarray(p)[:m]
        bar.update(m)
    bar.close()
    return out
