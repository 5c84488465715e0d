"""Host-side prediction in fixed chunks, shared by :class:`~jaxlstm.estimator.LSTMClassifier`
and :class:`~jaxlstm.checkpoint.Checkpoint` (below both, so neither imports the other)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxlstm import train
from jaxlstm.progress import Progress

__all__ = ["PREDICT_CHUNK", "CHUNK_BYTES", "bucket", "chunk_rows", "predict_chunked"]

PREDICT_CHUNK = 256  # rows per compiled forward pass; every row sees the same program


def bucket(n: int, minimum: int = 8) -> int:
    """Round ``n`` up to a shape bucket: a multiple of ``2**(floor(log2 n) - 3)``
    (at most 12.5 % padding), at least ``minimum``."""
    n = max(int(n), minimum)
    step = 1 << max(n.bit_length() - 4, 0)
    return -(-n // step) * step



CHUNK_BYTES = 256 << 20  # the widest per-step tensor of one chunk (input, gate pre-activations, convolutions):
# 256 rows of 512 steps x LSTM(128)'s gates fit, so the UCR sets predict in the chunks they always had


def chunk_rows(model, steps: int, features: int, members: int = 1) -> int:
    """Rows per forward pass for sequences of ``steps`` (padded) and
    ``features``: :data:`PREDICT_CHUNK`, fewer (a power of two, at least 1)
    where a chunk's widest per-step tensor would pass :data:`CHUNK_BYTES` (one
    row of 15,000 steps x 200 features was padded to 256 rows: 6.8 GB to
    predict it). A function of the shapes only, not of how many rows there
    are, so a row's result never depends on the others'. ``members``: an
    ensemble's members, each with its own activations."""
    width = max([features, *(4 * h for h in model.hidden_sizes), *model.conv_filters])
    fit = CHUNK_BYTES // max(1, steps * width * 4 * members)
    return int(min(PREDICT_CHUNK, 1 << max(0, int(fit).bit_length() - 1)))


def predict_chunked(params, model, scaler, x, lengths, members: int = 1, progress: bool = False) -> np.ndarray:
    """Probabilities in fixed chunks of :func:`chunk_rows` rows (256, fewer for
    very long or wide sequences), time padded to a bucket: one compiled
    program per (time bucket, features), and each row's result does not
    depend on which other rows share its call.
    ``members > 1``: ``params`` is an ensemble (leading member axis) and the
    members' probabilities are averaged in the same program.

    Raises:
      ValueError: a sequence longer than a ``"channels"`` model's max_length.
    """
    model.check_lengths(lengths)
    predict = train.probabilities if members == 1 else train.ensemble_probabilities
    n, t, f = x.shape
    tb = max(bucket(t, minimum=1) if t > 8 else t, train.min_length(model))  # padding changes no valid step

    rows = chunk_rows(model, tb, f, members)
    out = np.empty((n, model.num_classes), np.float32)
    bar = Progress(n, "predict", "sequences", enabled=progress and n > rows)
    for s in range(0, n, rows):
        xc = np.zeros((rows, tb, f), np.float32)
        lc = np.ones(rows, np.int32)
        m = min(rows, n - s)
        xc[:m, :t] = x[s : s + m]
        lc[:m] = lengths[s : s + m]
        p = predict(params, scaler, jnp.asarray(xc), jnp.asarray(lc), model, rows)
        out[s : s + m] = np.asarray(p)[:m]
        bar.update(m)
    bar.close()
    return out
