"""Datasets that need no network: embedded in installed packages or generated.

``digits`` is scikit-learn's handwritten digits (1,797 8x8 images, shipped
inside scikit-learn) read as sequences of 8 rows of 8 pixels: 10 classes,
balanced. ``digits_imbalanced`` keeps a geometric share of each class (class
``k`` keeps ``ratio ** k`` of its rows), the imbalanced setting this project is
about.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Dataset", "load_digits", "load_digits_imbalanced", "load", "DATASETS"]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Right-padded sequences with integer labels.

    Attributes:
      x: ``(n, T, F)`` float32.
      lengths: ``(n,)`` int32.
      y: ``(n,)`` int32 in ``[0, len(class_names))``.
      class_names: one name per class.
      name: registry name.
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    name: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_features(self) -> int:
        return self.x.shape[-1]

    def subset(self, idx) -> "Dataset":
        """Rows ``idx`` as a new dataset."""
        return dataclasses.replace(self, x=self.x[idx], lengths=self.lengths[idx], y=self.y[idx])


def load_digits() -> Dataset:
    """scikit-learn's digits as 8-step sequences of 8 features (pixel rows, 0-16)."""
    from sklearn.datasets import load_digits as _load

    d = _load()
    x = d.images.astype(np.float32)
    return Dataset(x=x, lengths=np.full(len(x), x.shape[1], np.int32),
                   y=d.target.astype(np.int32), class_names=tuple(str(c) for c in range(10)),
                   name="digits")


def load_digits_imbalanced(ratio: float = 0.75, seed: int = 0) -> Dataset:
    """Digits with class ``k`` subsampled to ``ratio ** k`` of its rows.

    With the default 0.75 the shares run from 100 % (digit 0, 178 rows) down to
    7.5 % (digit 9, 13 rows): the majority class outnumbers the rarest by ~14x.

    Args:
      ratio: geometric keep ratio in ``(0, 1]``.
      seed: which rows are kept.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    d = load_digits()
    rng = np.random.default_rng(seed)
    keep = []
    for k in range(d.num_classes):
        rows = np.flatnonzero(d.y == k)
        m = max(2, int(round(len(rows) * ratio**k)))
        keep.append(np.sort(rng.choice(rows, m, replace=False)))
    out = d.subset(np.sort(np.concatenate(keep)))
    return dataclasses.replace(out, name="digits_imbalanced")


DATASETS = {
    "digits": (load_digits, "sklearn digits, 8 steps x 8 features, 10 balanced classes (embedded)"),
    "digits_imbalanced": (load_digits_imbalanced,
                          "digits with class k kept at 0.75**k: 178 down to 13 rows per class (embedded)"),
}


def load(name: str) -> Dataset:
    """Load a dataset by registry name (see ``DATASETS``)."""
    try:
        loader = DATASETS[name][0]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}") from None
    return loader()
