"""scikit-learn estimators: :class:`LSTMClassifier` and :class:`LSTMEnsemble`
(soft voting over LSTMClassifiers of different configurations).

A thin host-side layer over the member executor (:func:`jaxlstm.sweep.execute`,
which runs :func:`jaxlstm.train.fit`): it converts inputs,
encodes labels, pads shapes to buckets (so scikit-learn's many small fits
reuse a few compiled programs) and stores fitted parameters as NumPy, so
``clone``, ``pickle``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``
work as with any scikit-learn classifier.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import numbers
import warnings

import jax
import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from jaxlstm import checkpoint, features, train
from jaxlstm.metrics import offset_decisions
from jaxlstm._checks import (check_float32_range, check_sample_weight, check_sequences, check_standardisable,
                             nan_padded_lengths, warn_zero_padding)
from jaxlstm.inference import PREDICT_CHUNK, bucket, predict_chunked  # noqa: F401  (PREDICT_CHUNK: re-exported)
from jaxlstm.model import RIDGE_CLASSIFIERS, ModelConfig, minirocket_length
from jaxlstm.params import check_param, check_params
from jaxlstm.plan import normalise, plan_members
from jaxlstm.sweep import execute

__all__ = ["LSTMClassifier", "LSTMEnsemble", "InactiveParameterWarning", "load_model", "to_sequences",
           "encode_labels", "frames_by_name", "labels_of", "labels_view", "bucket", "estimator_to_config"]

# what classifier="minirocket" / "multirocket" does not use: it trains no network (its ridge reads class_weight,
# class_weight_beta and sample_weight)
NOT_RIDGE_PARAMS = ("hidden_sizes", "units", "bidirectional", "head_size", "conv_filters", "conv_kernel_sizes",
                    "lstm_over", "max_length", "learning_rate", "grad_clip", "l1", "l2", "weight_decay", "dropout",
                    "noise_std", "logit_adjust_tau", "focal_gamma", "sampling_exponent", "augment_scale",
                    "augment_warp", "augment_slice")


class InactiveParameterWarning(UserWarning):
    """Parameters set to values the chosen ``classifier`` does not use
    (``classifier="minirocket"`` trains no network)."""


DIVERGED_RIDGE = ("the ridge classifier's fit is not finite (row weights overflow float32: a large class_weight "
                  "exponent or sample_weight); its logits are unfitted. Lower the weights.")


def to_sequences(X, *, name: str = "X") -> tuple[np.ndarray, np.ndarray, int]:
    """Sequences from what users pass, as ``(x (n, T, F) float32, lengths, ndim)``.

    Accepted:
      - a 3-D array ``(n, T, F)``; trailing steps that are NaN in every
        feature are padding (as the UCR archive pads unequal lengths);
      - a list (or a 1-D object array, or a pandas Series) of 2-D ``(T_i, F)`` (or 1-D
        ``(T_i,)``) arrays of any lengths;
      - a 2-D array ``(n, T)``, read as univariate sequences (a table whose
        columns are time steps), validated as scikit-learn validates tables
        (NaN is an error there, with the hint ``np.asarray(X)[..., None]``).

    Zeros are data: runs of all-zero steps of different lengths at either
    end (Keras' ``pad_sequences``) warn that they are read so.

    ``ndim`` is 2 for table input, 3 otherwise. aeon/sktime's own layout,
    ``(n_cases, n_channels, n_timepoints)``, is not detected: a 3-D array
    is always read as ``(n, T, F)``. Two signs of it are named: a
    ``UserWarning`` when every sequence would be one time step
    (``(n, 1, T)``, a univariate series in that layout), and the transpose
    in the error when NaN padding runs along the last axis. An equal-length
    multivariate array in that layout, ``(n, C, T)``, cannot be told from
    ``(n, T, F)`` and is read as ``C`` steps of ``T`` features.

    Raises:
      ValueError: wrong ndim, empty input, a sequence of length zero,
        channels that differ between sequences, or NaN/inf inside a sequence
        (NaN padding before a sequence's steps is named so).
    """
    if isinstance(X, (list, tuple)) and not X or isinstance(X, np.ndarray) and X.ndim and not X.shape[0]:
        raise ValueError(f"{name} is empty: no sequences")
    if hasattr(X, "iloc") and getattr(X, "ndim", 0) == 2 and X.shape[0] and X.shape[1] and \
            hasattr(X.iloc[0, 0], "__len__") and not isinstance(X.iloc[0, 0], (str, bytes)):
        raise ValueError(f"{name} is a nested DataFrame (sktime/aeon's format: a cell per channel holding its "
                         "series); pass a list of (T_i, channels) arrays: [np.column_stack([np.asarray(c) for c in "
                         f"row]) for row in {name}.itertuples(index=False)]")
    if getattr(X, "ndim", None) == 1 and hasattr(X, "__array__") and not isinstance(X, np.ndarray):
        a = np.asarray(X)  # a pandas Series of per-sequence arrays (df.groupby(id)[cols].apply(np.asarray))
        X = a if a.dtype == object and a.ndim == 1 else X
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:  # a ragged array of sequences
        X = list(X)
    if _is_sequence_list(X):
        seqs = []
        for i, s in enumerate(X):
            check_float32_range(s, f"{name}[{i}]")
            a = np.asarray(s, dtype=np.float32)
            a = a[:, None] if a.ndim == 1 else a
            if a.shape[0] == 0:
                raise ValueError(f"{name}[{i}] is a sequence of length zero")
            seqs.append(a)
        f = {a.shape[1] for a in seqs}
        if len(f) > 1:
            raise ValueError(f"the sequences in {name} have different numbers of features: {sorted(f)}")
        x, lengths = features.pad_sequences(seqs)
        x, lengths = check_sequences(x, lengths, name=name, one_step_warning=False)  # one-step sequences given as such
        return x, lengths, 3
    if not scipy.sparse.issparse(X) and np.asarray(X).ndim == 3:
        check_float32_range(X, name)
        a = check_array(np.asarray(X), allow_nd=True, dtype=np.float32, ensure_all_finite=False, input_name=name)
        if a.shape[1] == 0:
            raise ValueError(f"{name} has zero time steps (shape {a.shape})")
        x, lengths = check_sequences(a, nan_padded_lengths(a, name), name=name)
        warn_zero_padding(x, lengths, name)
        return x, lengths, 3
    table = None if scipy.sparse.issparse(X) else np.asarray(X)
    if table is not None and table.ndim > 3:
        raise ValueError(f"{name} must be (n, T, F) sequences, a list of (T_i, F) arrays or an (n, T) table; "
                         f"got a {table.ndim}-D array of shape {table.shape}")
    if table is not None and table.ndim == 2 and table.dtype.kind == "f" and np.isnan(table).any():
        raise ValueError(f"{name} contains NaN: a 2-D array is read as a table of univariate sequences (n, T), where "
                         f"NaN is not padding; for NaN-padded univariate sequences pass np.asarray({name})[..., None] "
                         "(also for a DataFrame or a list of rows), shape (n, T, 1), whose trailing all-NaN steps are "
                         "padding")
    a = check_array(X, dtype=np.float32, input_name=name)  # 2-D tables: scikit-learn's own errors
    return a[:, :, None], np.full(a.shape[0], a.shape[1], np.int32), 2


def _is_sequence_list(X) -> bool:
    """A non-empty list of 1-D/2-D arrays, except equal-length 1-D rows: those
    are a table ``(n, T)``, as scikit-learn reads them."""
    if not isinstance(X, (list, tuple)) or not X or not all(np.ndim(s) in (1, 2) for s in X):
        return False
    return not (all(np.ndim(s) == 1 for s in X) and len({len(s) for s in X}) == 1)


class LSTMClassifier(ClassifierMixin, BaseEstimator):
    """LSTM sequence classifier with scikit-learn's interface.

    Parameters:
      hidden_sizes: LSTM sizes, one per stacked layer (an int for one layer).
      units: the Keras tutorial's name for a single layer's size; overrides
        ``hidden_sizes`` when set (a search over ``hidden_sizes`` with
        ``units`` set is a ``ValueError``).
      bidirectional: run each layer both ways.
      head_size: a ReLU dense layer before the logits (``None``: none).
      dropout: on LSTM outputs between layers and before the head, in [0, 1).
      noise_std: Gaussian noise added to the scaled training inputs (Keras'
        ``GaussianNoise``; 0.1 = a tenth of each feature's standard
        deviation under ``normalize="standard"``); never when predicting.
      l1, l2: Keras penalties on every kernel (``l2 * sum(w**2)``): the LSTM's input
        and recurrent kernels, convolutions and the output layer, not biases --
        Keras' ``kernel_regularizer`` and ``recurrent_regularizer`` with one factor.
      weight_decay: AdamW decoupled decay on kernels.
      class_weight: ``None``; ``"balanced"`` (scikit-learn's); a dict
        ``{label: weight}``; or a float exponent ``e`` (weights
        ``balanced ** e``: 0 none, 1 balanced).
      logit_adjust_tau: logit-adjusted cross-entropy (Menon et al. 2021):
        the loss's softmax sees ``logits + tau * log(prior)``, the prior of
        the training rows; 0 = off, 1 = balanced softmax. >= 0.
      focal_gamma: focal loss (Lin et al. 2017) with the class weights as
        its alpha; 0 = plain (weighted) cross-entropy. >= 0.
      class_weight_beta: class-balanced "effective number" weights (Cui et
        al. 2019), in [0, 1); when > 0 they replace the balanced part of
        ``class_weight`` (a dict's weights still multiply); 0 = off.
      sampling_exponent: class-balanced minibatch sampling, in [0, 1]: each
        epoch draws rows with replacement with probability ``∝ count(class)
        ** -e`` (0 = every row once, shuffled; 1 = classes equally often).
      augment_scale, augment_warp, augment_slice: time-series augmentation
        of the training batches (scaling, magnitude warping, window slicing;
        see :class:`~jaxlstm.train.HParams`); 0 = off.
      learning_rate, batch_size, epochs: Adam(W) settings.
      grad_clip: global gradient-norm clip (``None``: none).
      normalize: ``"standard"``, ``"minmax"`` or ``None``, fitted on the
        training rows' valid steps.
      matmul_dtype: ``"float32"`` or ``"bfloat16"`` (mixed precision: LSTM
        matmul operands in bfloat16, float32 accumulation, state and
        optimizer; see :class:`~jaxlstm.model.ModelConfig`).
      conv_filters, conv_kernel_sizes: an LSTM-FCN convolutional branch
        beside the LSTM (e.g. ``(128, 256, 128)``; ``None``: none); see
        :class:`~jaxlstm.model.ModelConfig`.
      lstm_over: ``"time"``, or ``"channels"`` for MLSTM-FCN's dimension
        shuffle (the LSTM reads each channel's whole series as one step).
      max_length: longest sequence a ``"channels"`` model accepts (``None``:
        the longest training sequence); predicting longer ones is an error.
        Unused by ``"time"`` models, so that a search over ``lstm_over`` can
        set it once for the channels candidates.
      features: temporal features the network reads instead of the raw
        channels -- a :class:`~jaxlstm.features.TemporalFeatures` or a dict
        of its fields, e.g. ``{"rolling_mean": [5, 20], "rolling_std": [20],
        "diff": True, "events": [(0, 0.5)]}`` (rolling means/stds over
        trailing windows, first differences, steps since channel 0 last
        exceeded 0.5; the input channels are kept unless
        ``include_input=False``). Event channels are indices, or column
        names where ``fit`` reads sequences as DataFrames (or turn a data
        file's names into indices with
        ``TemporalFeatures.with_channel_names(data.feature_names)``).
        Computed inside the compiled program and then scaled with
        statistics of the training rows; saved with the
        model. ``None``: the raw channels.
      minirocket_features: a MiniRocket branch (Dempster et al. 2021) of
        this many features (e.g. 10000; 0: none), fitted on the training rows
        and concatenated with the other branches before the head. With
        ``hidden_sizes=()`` the model is MiniRocket plus a linear classifier
        trained with the losses above; see :class:`~jaxlstm.model.ModelConfig`.
      classifier: ``"network"`` (the LSTM and branches above) or
        ``"minirocket"``: MiniRocket as published, its features
        (``minirocket_features``; 0: 9,996) and a ridge classifier fitted in
        closed form, penalty by leave-one-out error, rows weighted by
        ``class_weight`` (and ``class_weight_beta``) and ``sample_weight``;
        no gradient training, so the network's keys, the learning rate, L1/L2,
        dropout, noise, logit adjustment, focal loss, balanced sampling and
        augmentation do not apply: set away from their defaults, ``fit``
        warns (:class:`InactiveParameterWarning`; an :class:`LSTMSearchCV`
        refit does not, its joint space lists them for every candidate).
        Seconds per fit on hundreds of rows. ``"multirocket"``: the same
        with MultiRocket's features (Tan et al. 2022): four pooling
        operators of ``minirocket_features`` kernel/bias pairs (0: 6,216) on
        the series and on its first differences, 8x as many features.
      n_ensemble: train this many models with seeds ``seed_, seed_ + 1, ...``
        as one vmapped program and average their class probabilities (a deep
        ensemble; InceptionTime is one of 5). In :class:`LSTMSearchCV` the
        candidates are scored as single models and the refit is the ensemble.
      validation_fraction: hold out this stratified share of the training
        rows and keep the epoch with the best ``select`` score on it
        (``None``: train on all rows, keep the last epoch).
      patience: with a validation fraction, stop after this many epochs
        without improvement (without one it is ignored, with an
        :class:`InactiveParameterWarning`).
      select: scorer name from :data:`jaxlstm.metrics.SCORERS`.
      random_state: seed for initialisation, shuffling, dropout and the
        validation split (``None``: a fresh seed per fit).
      verbose: progress bars over epochs (fit) and sequences (predict), on stderr.

    Attributes:
      classes_: labels seen in ``fit``, sorted.
      n_features_in_: for 2-D (table) input the number of columns (time
        steps), as scikit-learn defines it; for sequence input the number of
        features per step.
      params_: fitted parameters (a pytree of NumPy arrays; with n_ensemble > 1 each leaf
        has a leading member axis).
      n_members_: how many models ``params_`` holds (``n_ensemble`` at fit time).
      scaler_: the normalisation statistics (NumPy).
      model_config_: the :class:`~jaxlstm.model.ModelConfig`.
      class_weights_: the per-class loss weights used (NumPy).
      history_: ``{"train_loss": [...], "val_<scorer>": [...]}`` per epoch.
      best_epoch_: the kept epoch (0-based).
      diverged_: the loss became NaN/inf and training stopped there.
      seed_: the seed actually used.
      seen_rows_: :func:`jaxlstm.checkpoint.row_fingerprints` of the
        sequences ``fit`` read (training and validation rows), saved with the
        model, so that ``jaxlstm evaluate`` can say when it scores rows the
        model trained on (``None`` for checkpoints written before 2026-12-04).
      compile_time_, train_time_: seconds ``fit`` spent compiling and running
        the training program (argument building and prediction apart).
      logit_offsets_: per-class decision offsets ``predict`` adds to the
        log-probabilities (``None``: plain argmax); fitted on out-of-fold
        probabilities by ``LSTMSearchCV(post_hoc_offsets=True)``, saved with
        the model. ``predict_proba`` ignores them: it stays calibrated.
      channel_names_: the training file's feature names (``None``: unnamed),
        saved with the model; the CLI reads a new file's columns by them.
      csv_columns_: the training CSV's names for the sequence id, time and
        label columns where they were not the defaults (``{"label_column":
        "target"}``; ``None``: defaults), saved with the model; the CLI's
        ``predict`` and ``evaluate`` read a CSV by them unless told otherwise.
    """

    def __init__(self, hidden_sizes=(64,), *, units=None, bidirectional=False, head_size=None,
                 dropout=0.0, noise_std=0.0, l1=0.0, l2=0.0, weight_decay=0.0, class_weight=None,
                 logit_adjust_tau=0.0, focal_gamma=0.0, class_weight_beta=0.0, sampling_exponent=0.0,
                 augment_scale=0.0, augment_warp=0.0, augment_slice=0.0,
                 learning_rate=1e-3, batch_size=32, epochs=20, grad_clip=None, normalize="standard",
                 matmul_dtype="float32", conv_filters=None, conv_kernel_sizes=None, lstm_over="time",
                 max_length=None, features=None, minirocket_features=0, classifier="network", n_ensemble=1,
                 validation_fraction=None, patience=None, select="f1_macro", random_state=None,
                 verbose=0):
        self.hidden_sizes = hidden_sizes
        self.units = units
        self.bidirectional = bidirectional
        self.head_size = head_size
        self.dropout = dropout
        self.noise_std = noise_std
        self.l1 = l1
        self.l2 = l2
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.logit_adjust_tau = logit_adjust_tau
        self.focal_gamma = focal_gamma
        self.class_weight_beta = class_weight_beta
        self.sampling_exponent = sampling_exponent
        self.augment_scale = augment_scale
        self.augment_warp = augment_warp
        self.augment_slice = augment_slice
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.grad_clip = grad_clip
        self.normalize = normalize
        self.matmul_dtype = matmul_dtype
        self.conv_filters = conv_filters
        self.conv_kernel_sizes = conv_kernel_sizes
        self.lstm_over = lstm_over
        self.max_length = max_length
        self.features = features
        self.minirocket_features = minirocket_features
        self.classifier = classifier
        self.n_ensemble = n_ensemble
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.select = select
        self.random_state = random_state
        self.verbose = verbose

    # -- helpers shared with LSTMSearchCV --------------------------------------
    def _validate_params(self) -> None:
        """Every parameter against :data:`jaxlstm.params.PARAMETER_RULES`
        (scikit-learn's ``_validate_params``)."""
        check_params(self.get_params(deep=False))

    def _warn_inactive(self) -> None:
        """Warn about the parameters set away from their defaults that
        ``classifier="minirocket"`` does not use (nothing the user wrote
        dropped silently)."""
        defaults = {k: p.default for k, p in inspect.signature(LSTMClassifier.__init__).parameters.items()}
        plain = lambda v: [] if v is None else np.atleast_1d(v).tolist()  # noqa: E731  (None, [] and () are none)
        unused = [f"{k}={getattr(self, k)!r}" for k in NOT_RIDGE_PARAMS
                  if plain(getattr(self, k)) != plain(defaults[k])]
        if unused:
            warnings.warn(f"classifier={self.classifier!r} fits a ridge classifier in closed form and trains no "
                          f"network; these parameters do not apply and are ignored: {', '.join(unused)}",
                          InactiveParameterWarning, stacklevel=4)

    def _hidden(self) -> tuple[int, ...]:
        check_params({"units": self.units, "hidden_sizes": self.hidden_sizes})
        return _as_sizes((self.units,) if self.units is not None else self.hidden_sizes)

    def _class_weight_args(self, classes: np.ndarray) -> dict:
        cw = self.class_weight
        check_param("class_weight", cw)
        if cw is None:
            return {"class_weight_exponent": 0.0}
        if isinstance(cw, str):
            return {"class_weight_exponent": 1.0}
        if isinstance(cw, dict):  # keys as Python values, as classes.tolist() gives the labels (a NumPy
            # datetime64 key matched no label until 2026-12-08)
            cw = _plain_keys(cw)
            unknown = set(cw) - set(classes.tolist())
            if unknown:
                raise ValueError(f"class_weight has labels not in y: {sorted(unknown, key=str)}")
            weights = np.array([float(cw.get(c, 1.0)) for c in classes.tolist()])
            if not weights.any():  # the loss is 0 for every row: training would silently learn nothing
                raise ValueError(f"class_weight gives every class weight 0 ({cw!r}): nothing would train")
            return {"class_weight_exponent": 0.0, "class_weights": weights}
        return {"class_weight_exponent": float(cw)}

    def _hparams(self, classes: np.ndarray) -> train.HParams:
        clip = math.inf if self.grad_clip is None else float(self.grad_clip)
        return train.make_hparams(len(classes), learning_rate=self.learning_rate, l1=self.l1, l2=self.l2,
                                  weight_decay=self.weight_decay, dropout=self.dropout, grad_clip=clip,
                                  noise_std=self.noise_std, logit_adjust_tau=self.logit_adjust_tau,
                                  focal_gamma=self.focal_gamma, class_weight_beta=self.class_weight_beta,
                                  sampling_exponent=self.sampling_exponent, augment_scale=self.augment_scale,
                                  augment_warp=self.augment_warp, augment_slice=self.augment_slice,
                                  **self._class_weight_args(classes))

    def _config(self, num_features: int, num_classes: int, lengths: np.ndarray) -> train.TrainConfig:
        model = ModelConfig(num_features, num_classes, self._hidden(), bool(self.bidirectional),
                            None if self.head_size is None else int(self.head_size), matmul_dtype=self.matmul_dtype,
                            conv_filters=self.conv_filters, conv_kernel_sizes=self.conv_kernel_sizes,
                            lstm_over=self.lstm_over, max_length=self._max_length(lengths),
                            features=self._features(),
                            minirocket_features=self.minirocket_features,
                            minirocket_length=minirocket_length(lengths, self.minirocket_features, self.classifier),
                            classifier=self.classifier)
        model.check_lengths(lengths)
        return train.TrainConfig(model, batch_size=int(self.batch_size), epochs=int(self.epochs),
                                 select=self.select, normalize=self.normalize,
                                 patience=None if self.patience is None else int(self.patience),
                                 progress=bool(self.verbose))

    def _features(self):
        """``features`` as a spec, event channels named by column resolved
        against the columns of the DataFrames ``fit`` read (``feature_names_in_``)."""
        spec = features.as_temporal_features(self.features)
        names = getattr(self, "feature_names_in_", None)
        if spec is None or not spec.channel_names_needed or names is None or getattr(self, "_input_ndim", 3) != 3:
            return spec
        return spec.with_channel_names([str(n) for n in names])

    def _max_length(self, lengths: np.ndarray) -> int | None:
        if self.lstm_over != "channels":
            return None  # unused over time (as in a sweep's static groups)
        return int(np.max(lengths)) if self.max_length is None else int(self.max_length)

    def _read_X(self, X, reset: bool):
        known = getattr(self, "feature_names_in_", None)
        fitted = not reset and known is not None and getattr(self, "_input_ndim", 3) == 3
        X, columns = frames_by_name(X, known if fitted else None, type(self).__name__ if fitted else None)
        x, lengths, ndim = to_sequences(X)
        if ndim == 2 and (reset or getattr(self, "_input_ndim", 3) == 2):
            validate_data(self, X, reset=reset, dtype=np.float32)  # n_features_in_, feature names
        elif reset:
            self.n_features_in_ = x.shape[-1]
            if columns is not None:  # sequences as DataFrames: predict reads their columns by these names
                self.feature_names_in_ = np.asarray(columns, dtype=object)
            elif hasattr(self, "feature_names_in_"):  # a table's column names do not describe sequences
                del self.feature_names_in_
        if reset:
            self._input_ndim = ndim
        elif x.shape[-1] != self.model_config_.num_features:
            raise ValueError(f"X has {x.shape[-1]} features per step, but {type(self).__name__} "
                             f"is expecting {self.model_config_.num_features} features per step")
        return x, lengths

    def _read_y(self, y, n: int) -> np.ndarray:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        ya = np.asarray(y)
        self._onehot = None  # predict answers in the form y had: labels, or one-hot rows of these columns
        if _is_onehot(ya):
            self._onehot = (int(ya.shape[1]), ya.dtype.str)
            ya = ya.argmax(1)  # one-hot labels, as Keras' to_categorical makes them
        elif ya.ndim == 2 and ya.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please change "
                          "the shape of y to (n_samples,), for example using ravel().",
                          DataConversionWarning, stacklevel=4)  # the user's fit, through fit and _fit
            ya = ya.ravel()
        if ya.ndim != 1 or ya.shape[0] != n:
            raise ValueError(f"y must have shape ({n},) (or one-hot ({n}, classes)), got {ya.shape}")
        try:
            check_classification_targets(ya)
            classes, yi = np.unique(ya, return_inverse=True)
        except TypeError:  # NumPy's "'<' not supported between instances of 'NoneType' and 'str'"
            kinds = sorted({type(v).__name__ for v in ya.tolist()})
            missing = [i for i, v in enumerate(ya.tolist()) if v is None or (isinstance(v, float) and v != v)]
            raise ValueError(f"y mixes labels of types {kinds} that cannot be sorted"
                             + (f"; row {missing[0]} has no label ({ya[missing[0]]!r})" if missing else "")) from None
        if len(classes) < 2:
            one = classes[0].item() if isinstance(classes[0], np.generic) else classes[0]
            raise ValueError(f"y has one class ({one!r}): a classifier needs at least two classes")
        self.classes_ = classes
        return yi.astype(np.int32)

    # -- scikit-learn API ------------------------------------------------------
    def fit(self, X, y, sample_weight=None, *, program_parts=None):
        """Train on sequences ``X`` (see :func:`to_sequences`) and labels ``y``.
        ``sample_weight`` (one number >= 0 per sequence, or ``None``) multiplies
        each sequence's training loss, with its class weight, as Keras's
        ``fit(sample_weight=...)``: the loss stays divided by the batch's rows,
        and the scaler, "balanced" class weights, balanced sampling and the
        validation score that picks the epoch are unweighted. A fit that
        raises (bad input, an interrupt) leaves the estimator as it was: a
        fitted model stays whole, not new classes on old parameters.
        ``program_parts``: optional parts of the training step
        (:data:`jaxlstm.train.OPTIONAL_PARTS`) the compiled program holds
        besides those this model uses (the same model either way; a search
        passes its own, so that its refits share compiled programs)."""
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, program_parts, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, program_parts=None, sample_weight=None):
        self._validate_params()
        if self.classifier in RIDGE_CLASSIFIERS:
            self._warn_inactive()
        x, lengths = self._read_X(X, reset=True)
        yi = self._read_y(y, len(x))
        if self.normalize == "standard":
            check_standardisable(x, lengths, "X")
        n_classes = len(self.classes_)
        config = self._config(x.shape[-1], n_classes, lengths)
        train.check_inputs(x, config.model, lengths)
        self._hparams(self.classes_)  # its values' checks, before anything compiles
        self.seed_ = int(check_random_state(self.random_state).randint(2**31 - 1)) \
            if not isinstance(self.random_state, numbers.Integral) else int(self.random_state)
        if not 0 <= self.seed_ <= 2**32 - int(self.n_ensemble):  # the members' seeds are uint32
            raise ValueError(f"random_state must be an integer in [0, 2**32 - n_ensemble] (n_ensemble="
                             f"{self.n_ensemble} seeds from it), None or a RandomState, got {self.random_state!r}")
        rows = np.arange(len(x))
        val = np.zeros(0, np.int64)
        default = inspect.signature(LSTMClassifier.__init__).parameters["hidden_sizes"].default
        if self.units is not None and _as_sizes(self.hidden_sizes) not in (self._hidden(), _as_sizes(default)):
            warnings.warn(f"units={self.units!r} sets one LSTM layer of {self.units} units and replaces "
                          f"hidden_sizes={self.hidden_sizes!r}, which is ignored; leave units=None to use "
                          "hidden_sizes", InactiveParameterWarning, stacklevel=3)
        if self.patience is not None and self.validation_fraction is None:
            warnings.warn(f"patience={self.patience!r} stops on a validation score, and validation_fraction=None "
                          "holds no rows out: it is ignored, every epoch trains; set validation_fraction (e.g. 0.1) "
                          "for early stopping", InactiveParameterWarning, stacklevel=3)
        if self.validation_fraction is not None:
            frac = float(self.validation_fraction)
            from sklearn.model_selection import train_test_split

            counts = np.bincount(yi)
            stratify = yi if counts.min() >= 2 else None
            n_val = int(np.ceil(frac * len(rows)))
            # scikit-learn's errors named test_size and train_test_split, which the user never called
            if stratify is not None and not len(counts) <= n_val <= len(rows) - len(counts):
                raise ValueError(f"validation_fraction={frac:g} of {len(rows)} sequences in {len(counts)} classes "
                                 f"holds out {n_val}: a stratified split needs at least one per class on each side "
                                 f"({len(counts)} to {len(rows) - len(counts)})")
            if n_val > len(rows) - 2:  # a class of one sequence: not stratified, but 2 rows must train
                raise ValueError(f"validation_fraction={frac:g} of {len(rows)} sequences holds out {n_val}, leaving "
                                 f"fewer than 2 to train on")
            rows, val = train_test_split(rows, test_size=frac, stratify=stratify, random_state=self.seed_)
            rows, val = np.sort(rows), np.sort(val)
            lost = np.setdiff1d(yi, yi[rows])  # a class of one sequence held out: never trained (silent until 12-06)
            if len(lost) and len(lost) < n_classes - 1:
                warnings.warn(f"validation_fraction={frac:g} held out every training sequence of class(es) "
                              f"{[self.classes_[c].item() for c in lost]} (one sequence each): the model never "
                              "learns them; give them more sequences or set validation_fraction=None",
                              UserWarning, stacklevel=3)
        if len(np.unique(yi[rows])) < 2:
            raise ValueError("the training rows hold one class: a classifier needs at least two classes"
                             + (f" (validation_fraction={self.validation_fraction:g} held out the others)"
                                if self.validation_fraction is not None and len(np.unique(yi)) > 1 else ""))
        w = check_sample_weight(sample_weight, len(x), rows)

        k = int(self.n_ensemble)  # seeds seed_, seed_ + 1, ...: one executor call, one vmapped program
        members, _ = plan_members([normalise(_sweep_config(self, self.classes_))], 1,
                                  [self.seed_ + i for i in range(k)])
        xp, lp, yp = _pad_rows(x, lengths, yi)
        run = execute(xp, lp, yp, [(rows, val)], members, num_classes=n_classes,
                      sample_weight=None if w is None else np.pad(w, (0, len(xp) - len(w))),
                      select=self.select, record=config.record, patience=config.patience, keep_model=True,
                      chunk_size=k, index_bucket=bucket, progress=bool(self.verbose),
                      label=("fit", "epochs" if k == 1 else "member-epochs"),
                      parts=program_parts)
        self._keep_members(run.rows, config.model)
        self.seen_rows_ = checkpoint.row_fingerprints(x, lengths)  # saved: `evaluate` names data it trained on
        self.compile_time_, self.train_time_ = run.compile_s, run.run_s
        self.logit_offsets_ = self.channel_names_ = self.csv_columns_ = None
        if self.diverged_:
            warnings.warn(DIVERGED_RIDGE if config.model.classifier in RIDGE_CLASSIFIERS else
                          "training diverged (NaN/inf loss); parameters are those before it. Lower the "
                          "learning rate or add grad_clip.", RuntimeWarning, stacklevel=3)
        return self

    def fit_from_member(self, X, y, member: dict, train_rows) -> LSTMClassifier:
        """This estimator, fitted as the sweep member ``member`` (a row of
        :func:`jaxlstm.sweep.execute` with a kept ``model``) that trained this
        estimator's parameters on rows ``train_rows`` of ``X, y``, without
        training: how :class:`~jaxlstm.search.LSTMSearchCV` with
        ``fold_models`` makes its fold models. Its model configuration is the
        one the sweep's program had, from all of ``X``'s lengths;
        ``seen_rows_`` are the rows it trained on."""
        self._validate_params()
        x, lengths = self._read_X(X, reset=True)
        self._read_y(y, len(x))
        config = self._config(x.shape[-1], len(self.classes_), lengths)
        self.seed_ = int(member["seed"])
        self._keep_members([member], config.model)
        rows = np.asarray(train_rows)
        self.seen_rows_ = checkpoint.row_fingerprints(x[rows], lengths[rows])
        self.compile_time_, self.train_time_ = 0.0, float(member.get("fit_time", 0.0))
        self.logit_offsets_ = self.channel_names_ = self.csv_columns_ = None
        return self

    def _keep_members(self, rows: list[dict], model: ModelConfig) -> None:
        """The fitted attributes from the executor's member rows (kept
        models): one model's leaves, or with several a leading member axis."""
        one = (lambda *v: v[0]) if len(rows) == 1 else (lambda *v: np.stack(v))
        kept = jax.tree.map(one, *[r["model"] for r in rows])
        self.model_config_ = model
        self.params_ = kept["params"]
        self.n_members_ = len(rows)
        self.scaler_ = rows[0]["model"]["scaler"]  # scaler and class weights: the same for every member
        self.class_weights_ = rows[0]["model"]["class_weights"]
        self.best_epoch_ = np.asarray(kept["best_epoch"]).tolist()
        self.diverged_ = any(r["status"] != "ok" for r in rows)
        self.history_ = {name: np.asarray(one(*[r["history"][name] for r in rows]), np.float32)
                         for name in rows[0]["history"]}

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, ``(n, n_classes)``, columns in ``classes_`` order."""
        check_is_fitted(self, "params_")
        x, lengths = self._read_X(X, reset=False)
        p = predict_chunked(self.params_, self.model_config_, self.scaler_, x, lengths,
                             members=self.n_members_, progress=bool(self.verbose)).astype(np.float64)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sequence, as labels from ``classes_``
        (one-hot rows of ``y``'s columns and dtype where ``fit`` was given one-hot
        ``y``, as scikit-learn's and scikeras' classifiers answer); with
        ``logit_offsets_`` (post-hoc decision offsets, set by
        :class:`~jaxlstm.search.LSTMSearchCV` with ``post_hoc_offsets``) the
        class maximising ``log(probability) + offset``."""
        pred = self.decide(self.predict_proba(X))  # not fitted: predict_proba says so
        return _as_fitted_form(self, self.classes_[pred])

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of ``predict`` on ``X`` against ``y`` (labels, or one-hot
        rows as in ``fit``), as scikit-learn's classifiers' ``score``."""
        return _accuracy(self, X, y, sample_weight)

    def decide(self, probs) -> np.ndarray:
        """The class indices ``predict`` chooses from ``predict_proba``'s
        ``probs``: the argmax, after adding ``logit_offsets_`` to the
        log-probabilities when they are set."""
        return _decide(probs, getattr(self, "logit_offsets_", None))

    def save(self, path) -> None:
        """Write the fitted model as a pickle-free checkpoint (:mod:`jaxlstm.checkpoint`)."""
        checkpoint.save(path, **self._checkpoint_args())

    def _checkpoint_args(self) -> dict:
        """:func:`jaxlstm.checkpoint.save`'s arguments for this fitted model."""
        check_is_fitted(self, "params_")
        est_params = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
                      for k, v in self.get_params().items()}  # a features spec as its fields
        if not (self.random_state is None or isinstance(self.random_state, numbers.Integral)):
            est_params["random_state"] = self.seed_  # a RandomState was saved as its repr, which cannot seed a refit
        if isinstance(self.class_weight, dict):  # JSON keys are strings: a label's text, typed again on load
            # keyed by the fitted class each key equals (the key 1 of float labels 1.0, or of bool labels True;
            # NumPy keys as Python values, as the fit matched them: a datetime64 key was dropped)
            cw = _plain_keys(self.class_weight)
            est_params["class_weight"] = {"label_weights": [[str(c), float(cw[c])]
                                                            for c in self.classes_.tolist() if c in cw]}
        meta = {"estimator_params": est_params,
                "classes_kind": self.classes_.dtype.kind, "classes_dtype": self.classes_.dtype.str,
                "input_ndim": self._input_ndim, "onehot_y": getattr(self, "_onehot", None),
                "features_spec": dataclasses.is_dataclass(self.features),
                "n_features_in": int(self.n_features_in_), "seed": self.seed_, "best_epoch": self.best_epoch_,
                "diverged": self.diverged_, "compile_time": self.compile_time_, "train_time": self.train_time_,
                "class_weights": np.asarray(self.class_weights_).tolist(),
                "channel_names": None if getattr(self, "channel_names_", None) is None
                else [str(n) for n in self.channel_names_],
                "feature_names_in": None if getattr(self, "feature_names_in_", None) is None
                else [str(n) for n in self.feature_names_in_],  # a DataFrame's columns, checked by predict
                **({"class_values": self.classes_.astype(np.int64).tolist()}
                   if self.classes_.dtype.kind in "Mm" else {}),  # datetimes: their text does not parse back
                "csv_columns": getattr(self, "csv_columns_", None) or None,
                "logit_offsets": None if getattr(self, "logit_offsets_", None) is None
                else np.asarray(self.logit_offsets_, np.float32).tolist(),
                "history": {k: np.asarray(v).tolist() for k, v in self.history_.items()}}
        return dict(params=self.params_, model=self.model_config_, scaler=self.scaler_,
                    class_names=[str(c) for c in self.classes_], meta=meta, members=self.n_members_,
                    seen=getattr(self, "seen_rows_", None))

    @classmethod
    def load(cls, path) -> LSTMClassifier:
        """A fitted estimator from :meth:`save`'s file; predictions are
        identical. (:func:`load_model` reads any jaxlstm model file.)"""
        return cls._from_checkpoint(checkpoint.load(path))

    @classmethod
    def _from_checkpoint(cls, ck: checkpoint.Checkpoint) -> LSTMClassifier:
        meta = ck.meta
        params = dict(meta.get("estimator_params", {}))
        if "estimator_params" not in meta:  # checkpoint.save of the pure functions: the network from its model
            m = ck.model  # (an estimator of the default network's parameters would refit another network)
            params = {k: getattr(m, k) for k in ("hidden_sizes", "bidirectional", "head_size", "matmul_dtype",
                                                 "conv_filters", "conv_kernel_sizes", "lstm_over", "max_length",
                                                 "features", "minirocket_features", "classifier")}
            params["n_ensemble"] = int(ck.members)
        for k in ("hidden_sizes", "conv_filters", "conv_kernel_sizes"):  # as given (tuples), not JSON's lists
            if isinstance(params.get(k), list):
                params[k] = tuple(params[k])
        if meta.get("features_spec") and isinstance(params.get("features"), dict):  # saved as its fields
            params["features"] = features.as_temporal_features(params["features"])
        classes = _classes(ck.class_names, meta.get("classes_kind", "U"), meta.get("classes_dtype"),
                           meta.get("class_values"))
        cw = params.get("class_weight")
        if isinstance(cw, dict) and "label_weights" in cw:
            typed = {str(c): c.item() if isinstance(c, np.generic) else c for c in classes}  # object: plain str
            for text, _ in cw["label_weights"]:  # files before 2026-12-04 kept the key's own text: "1" of 1.0 / True
                if text not in typed and classes.dtype.kind in "biuf":
                    try:
                        typed[text] = next(c for c in classes.tolist() if c == float(text))
                    except (ValueError, StopIteration):
                        pass
            unknown = [text for text, _ in cw["label_weights"] if text not in typed]
            if unknown:
                raise ValueError(f"the checkpoint's class_weight names label(s) {unknown} that are not classes of "
                                 f"the model {sorted(map(str, classes.tolist()))}")
            params["class_weight"] = {typed[text]: w for text, w in cw["label_weights"]}
        est = cls(**{k: v for k, v in params.items() if k in cls._get_param_names()})
        est.classes_ = classes
        est.params_, est.model_config_, est.scaler_ = ck.params, ck.model, ck.scaler
        est.n_members_ = ck.members
        est._input_ndim = int(meta.get("input_ndim", 3))
        onehot = meta.get("onehot_y")
        est._onehot = None if onehot is None else (int(onehot[0]), str(onehot[1]))
        est.n_features_in_ = int(meta.get("n_features_in", ck.model.num_features))
        est.seed_ = meta.get("seed")
        est.best_epoch_ = meta.get("best_epoch")
        names = meta.get("channel_names")
        est.channel_names_ = None if names is None else tuple(names)
        if meta.get("feature_names_in") is not None:
            est.feature_names_in_ = np.asarray(meta["feature_names_in"], dtype=object)
        est.csv_columns_ = meta.get("csv_columns")
        est.diverged_ = bool(meta.get("diverged", False))
        est.compile_time_, est.train_time_ = meta.get("compile_time"), meta.get("train_time")  # None: saved before
        est.class_weights_ = np.asarray(meta.get("class_weights", np.ones(ck.model.num_classes)))
        est.history_ = {k: np.asarray(v) for k, v in meta.get("history", {}).items()}
        est.logit_offsets_ = _offsets(meta)
        est.seen_rows_ = ck.seen
        return est

    def __sklearn_tags__(self):
        return _sequence_tags(super().__sklearn_tags__())


class LSTMEnsemble(ClassifierMixin, BaseEstimator):
    """Soft voting over :class:`LSTMClassifier` models of different
    configurations: ``predict_proba`` is the weighted mean of the members'
    probabilities, ``predict`` its argmax (after ``logit_offsets_`` when
    set, as :meth:`LSTMClassifier.predict`). What
    :class:`~jaxlstm.search.LSTMSearchCV` refits with ``ensemble_selection``.

    Parameters:
      estimators: a non-empty list of :class:`LSTMClassifier` (``fit`` trains
        a clone of each on the same data).
      weights: one weight >= 0 per estimator (default: equal); normalised to
        sum to 1 (``weights_``).

    Attributes: ``estimators_``, ``weights_``, ``classes_``,
    ``n_features_in_``, ``logit_offsets_`` (``None``: plain argmax).

    Example::

        ens = LSTMEnsemble([LSTMClassifier(epochs=20), LSTMClassifier(conv_filters=(16,))], weights=[2, 1])
        ens.fit(X, y).predict(X)
    """

    def __init__(self, estimators=(), weights=None):
        self.estimators = estimators
        self.weights = weights

    def fit(self, X, y, sample_weight=None):
        """Train a clone of every estimator on ``X, y`` (and ``sample_weight``)."""
        self._weights()
        return self._set_fitted([clone(e).fit(X, y, sample_weight) for e in self.estimators])

    @classmethod
    def from_fitted(cls, estimators, weights=None) -> LSTMEnsemble:
        """An ensemble of already fitted :class:`LSTMClassifier` models (its
        ``estimators`` are their unfitted clones; ``fit`` would retrain)."""
        ens = cls([clone(e) for e in estimators], weights)
        ens._weights()
        return ens._set_fitted(list(estimators))

    def get_params(self, deep=True) -> dict:
        """``estimators`` and ``weights``; with ``deep``, also each member's
        own as ``estimators__<i>`` and ``estimators__<i>__<name>`` (so
        ``GridSearchCV`` can search ``estimators__0__learning_rate``)."""
        out = super().get_params(deep=False)
        if deep and isinstance(self.estimators, (list, tuple)):
            for i, e in enumerate(self.estimators):
                if isinstance(e, BaseEstimator):
                    out[f"estimators__{i}"] = e
                    out.update({f"estimators__{i}__{k}": v for k, v in e.get_params(deep=True).items()})
        return out

    def set_params(self, **params) -> LSTMEnsemble:
        """Set ``estimators``/``weights`` and members' parameters by the names
        :meth:`get_params` gives (``estimators__1__epochs=50``)."""
        nested = {k: params.pop(k) for k in list(params) if k.startswith("estimators__")}
        super().set_params(**params)
        for key, value in nested.items():
            i, _, name = key.removeprefix("estimators__").partition("__")
            if f"estimators__{i}" not in self.get_params(deep=True):
                n = len(self.estimators) if isinstance(self.estimators, (list, tuple)) else 0
                raise ValueError(f"invalid parameter {key!r} for LSTMEnsemble: its members are estimators__0 .. "
                                 f"estimators__{n - 1}")
            if name:  # the member's own check names a parameter it does not have
                self.estimators[int(i)].set_params(**{name: value})
            else:  # a whole member replaced: a new list, so a tuple or the caller's list is not changed in place
                self.estimators = [value if j == int(i) else e for j, e in enumerate(self.estimators)]
        return self

    def _weights(self) -> np.ndarray:
        ests = self.estimators
        if not isinstance(ests, (list, tuple)) or not ests or not all(isinstance(e, LSTMClassifier) for e in ests):
            raise ValueError(f"estimators must be a non-empty list of LSTMClassifier, got {ests!r}")
        if self.weights is None:
            return np.full(len(ests), 1.0 / len(ests))
        try:
            w = np.asarray(self.weights, np.float64)
        except (TypeError, ValueError):  # {"a": 1}, ["a", "b"]: NumPy's messages named no parameter
            w = np.full(0, np.nan)
        if w.shape != (len(ests),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {len(ests)} finite numbers >= 0 with a positive sum (one per "
                             f"estimator), got {self.weights!r}")
        return w / w.sum()

    def _set_fitted(self, fitted: list) -> LSTMEnsemble:
        for i, e in enumerate(fitted):
            check_is_fitted(e, "params_")
            if not np.array_equal(e.classes_, fitted[0].classes_) or e.n_features_in_ != fitted[0].n_features_in_:
                raise ValueError(f"estimators[{i}] was fitted on other classes or features than estimators[0]")
        self.estimators_, self.weights_ = fitted, self._weights()
        self.classes_, self.n_features_in_ = fitted[0].classes_, fitted[0].n_features_in_
        self._onehot = getattr(fitted[0], "_onehot", None)  # the members' y form: predict answers in it
        self.logit_offsets_ = None
        return self

    def predict_proba(self, X) -> np.ndarray:
        """The weighted mean of the members' probabilities, ``(n, n_classes)``."""
        check_is_fitted(self, "estimators_")
        return sum(w * e.predict_proba(X) for w, e in zip(self.weights_, self.estimators_))

    def predict(self, X) -> np.ndarray:
        """The chosen class of each sequence (see :meth:`decide`), as labels from ``classes_``
        (one-hot rows where the members were fitted on one-hot ``y``)."""
        probs = self.predict_proba(X)  # NotFittedError before classes_ is read
        return _as_fitted_form(self, self.classes_[self.decide(probs)])

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of ``predict`` on ``X`` against ``y`` (labels, or one-hot rows)."""
        return _accuracy(self, X, y, sample_weight)

    def decide(self, probs) -> np.ndarray:
        """The class indices ``predict`` chooses from ``predict_proba``'s ``probs``."""
        return _decide(probs, getattr(self, "logit_offsets_", None))

    def save(self, path) -> None:
        """Write every member and the weights to one pickle-free checkpoint
        (:func:`jaxlstm.checkpoint.save_parts`); :func:`load_model` reads it."""
        check_is_fitted(self, "estimators_")
        offsets = getattr(self, "logit_offsets_", None)
        checkpoint.save_parts(path, [e._checkpoint_args() for e in self.estimators_],
                              {"kind": "LSTMEnsemble", "weights": self.weights_.tolist(),
                               "logit_offsets": None if offsets is None else np.asarray(offsets, np.float32).tolist()})

    @classmethod
    def load(cls, path) -> LSTMEnsemble:
        """An ensemble from :meth:`save`'s file; predictions are identical."""
        model = load_model(path)
        if not isinstance(model, cls):
            raise ValueError(f"{path} holds one LSTMClassifier, not an ensemble: read it with LSTMClassifier.load")
        return model

    def __sklearn_tags__(self):
        return _sequence_tags(super().__sklearn_tags__())


def load_model(path) -> LSTMClassifier | LSTMEnsemble:
    """The fitted model a jaxlstm checkpoint holds: an :class:`LSTMClassifier`
    (:meth:`LSTMClassifier.save`) or an :class:`LSTMEnsemble`.

    Raises:
      ValueError: not a jaxlstm checkpoint, truncated, corrupted, or missing fields.
    """
    parts, meta = checkpoint.load_parts(path)
    if meta.get("kind") != "LSTMEnsemble":
        if len(parts) > 1:  # checkpoint.save_parts' file of another kind: its first part alone is not the model
            raise ValueError(f"{path} holds {len(parts)} models but no ensemble's weights (meta kind "
                             f"{meta.get('kind')!r}, not 'LSTMEnsemble'): read them with checkpoint.load_parts")
        return LSTMClassifier._from_checkpoint(parts[0])
    ens = LSTMEnsemble.from_fitted([LSTMClassifier._from_checkpoint(ck) for ck in parts], meta["weights"])
    ens.logit_offsets_ = _offsets(meta)
    return ens


def _sequence_tags(tags):
    """Both estimators' tags: deterministic given ``random_state``; NaN only as padding, never inside a sequence."""
    tags.non_deterministic = False
    tags.input_tags.allow_nan = False
    return tags


def _as_sizes(hs) -> tuple[int, ...]:
    """``hidden_sizes`` as a tuple of ints (an int is one layer)."""
    return (int(hs),) if isinstance(hs, numbers.Integral) else tuple(int(h) for h in hs)


def _offsets(meta: dict) -> np.ndarray | None:
    """The decision offsets a checkpoint's ``meta`` stores (``None``: plain argmax)."""
    offsets = meta.get("logit_offsets")
    return None if offsets is None else np.asarray(offsets, np.float32)


def _classes(names, kind: str, dtype: str | None = None, values=None) -> np.ndarray:
    """``classes_`` from a checkpoint's label texts, with the fitted labels'
    kind and dtype (bool and float32 labels compare equal again; datetime
    and timedelta labels from their int64 ``values``)."""
    names = np.array(names, dtype=str)
    if kind in "Mm" and values is not None and dtype:
        return np.asarray(values, np.int64).view(dtype)
    if kind == "b":
        out = names == "True"
    elif kind in "iu":
        return names.astype(dtype or np.int64)  # straight to the dtype: uint64 labels >= 2**63 overflowed int64
    elif kind == "f":
        out = names.astype(np.float64)
    elif kind == "O":  # text labels held as objects (a pandas column of str): object dtype again, as predict gave
        return np.array(names.tolist(), dtype=object)
    else:
        return names
    return out.astype(dtype) if dtype else out


def _decide(probs, offsets) -> np.ndarray:
    """``argmax`` of ``probs``, or with ``offsets`` :func:`offset_decisions`."""
    probs = np.asarray(probs)
    if offsets is None:
        return np.argmax(probs, axis=1)
    return np.asarray(offset_decisions(probs, offsets))


def frames_by_name(X, names=None, fitted_by: str | None = None):
    """``(X, column names)``: a list (or Series) of per-sequence DataFrames
    with every frame's columns put in ``names``' order (default: X[0]'s), so
    that they are read by name, not position (reordered columns mixed
    features silently); anything else ``(X, None)`` as given.

    Raises:
      ValueError: a frame lacking one of ``names`` or holding others (named;
        ``fitted_by``: the estimator that was fitted on ``names``).
    """
    frames = _frame_columns(X)
    if frames is None:
        return X, None
    columns = [str(c) for c in (frames[0] if names is None else names)]
    by_name = [{str(c): c for c in cols} for cols in frames]
    for i, have in enumerate(by_name):
        missing = [c for c in columns if c not in have]
        if missing or len(have) != len(columns):
            raise ValueError(f"X[{i}] has columns {list(have)}, but "
                             + (f"{fitted_by} was fitted on" if fitted_by else "X[0] has")
                             + f" {columns}" + (f" (missing {missing})" if missing else ""))
    return [f[[have[n] for n in columns]] for f, have in zip(X, by_name)], columns


def _frame_columns(X) -> list | None:
    """Each sequence's column labels when ``X`` is a list (or Series) of
    per-sequence DataFrames, else ``None``."""
    items = list(X) if isinstance(X, (list, tuple)) or (getattr(X, "ndim", None) == 1 and
                                                      getattr(X, "dtype", None) == object) else []
    if not items or not all(hasattr(f, "columns") and getattr(f, "ndim", 0) == 2 for f in items):
        return None
    return [list(f.columns) for f in items]


def _is_onehot(ya: np.ndarray) -> bool:
    """Whether ``ya`` is one-hot rows (Keras' ``to_categorical``): 0/1, one 1 a row."""
    return ya.ndim == 2 and ya.shape[1] > 1 and bool(np.isin(ya, (0, 1)).all()) and bool((ya.sum(1) == 1).all())


def labels_of(y) -> np.ndarray:
    """``y``'s labels: one-hot rows as their column indices, anything else as given."""
    ya = np.asarray(y)
    return ya.argmax(1) if _is_onehot(ya) else ya


def _as_fitted_form(model, labels: np.ndarray) -> np.ndarray:
    """``labels`` in the form the model's ``y`` had in ``fit``: one-hot rows of
    its columns and dtype (as scikit-learn's and scikeras' classifiers answer
    one-hot targets, so ``accuracy_score(Y, predict(X))`` compares like with
    like), or as they are."""
    onehot = getattr(model, "_onehot", None)
    if onehot is None:
        return labels
    columns, dtype = onehot
    return np.eye(columns, dtype=np.dtype(dtype))[labels.astype(np.int64)]


def _accuracy(model, X, y, sample_weight=None) -> float:
    """``score`` of both estimators: accuracy of the chosen labels against
    ``y``'s labels (one-hot rows read as their columns)."""
    pred = model.classes_[model.decide(model.predict_proba(X))]
    return float(accuracy_score(labels_of(y), pred, sample_weight=sample_weight))


def _plain_keys(weights: dict) -> dict:
    """A ``class_weight`` dict keyed by Python values, as ``classes_.tolist()``
    gives the labels (a NumPy ``datetime64`` key equals no ``datetime.date``)."""
    return {k.item() if isinstance(k, np.generic) else k: v for k, v in weights.items()}


def labels_view(model):
    """``model`` itself, or (fitted on one-hot ``y``) a shallow copy whose
    ``predict`` answers labels: for scorers given labels, as
    :meth:`~jaxlstm.search.LSTMSearchCV.score` gives them."""
    if getattr(model, "_onehot", None) is None:
        return model
    view = copy.copy(model)
    view._onehot = None
    return view


def encode_labels(y, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, codes)``: the sorted labels of ``y`` (for ``n`` sequences)
    and each row's index into them (int32), by :class:`LSTMClassifier`'s rules."""
    est = LSTMClassifier()
    codes = est._read_y(y, n)
    return est.classes_, codes


def _pad_rows(x, lengths, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows padded to a shape bucket (the executor pads the index arrays to
    buckets too), so different data sizes share compiled programs. Padding
    does not change the result: masked rows never enter a batch, a loss, a
    statistic or a score, and the batch order ignores padding."""
    n, nb = len(x), bucket(len(x))
    xp = np.zeros((nb,) + x.shape[1:], np.float32)
    xp[:n] = x
    lp = np.ones(nb, np.int32)
    lp[:n] = lengths
    yp = np.zeros(nb, np.int32)
    yp[:n] = y
    return xp, lp, yp


# LSTMClassifier parameters that become sweep configuration keys as they are.
_DIRECT = ("bidirectional", "head_size", "batch_size", "normalize", "matmul_dtype", "conv_filters",
           "conv_kernel_sizes", "lstm_over", "max_length", "epochs", "learning_rate", "l1", "l2",
           "weight_decay", "dropout", "noise_std", "logit_adjust_tau", "focal_gamma", "class_weight_beta",
           "sampling_exponent", "augment_scale", "augment_warp", "augment_slice", "features", "minirocket_features",
           "classifier")


def estimator_to_config(est: LSTMClassifier, classes: np.ndarray) -> dict:
    """The sweep configuration that trains exactly what ``est.fit`` trains
    (without a validation fraction)."""
    if est.validation_fraction is not None or est.patience is not None:
        raise ValueError("LSTMSearchCV scores each candidate on the CV folds' held-out rows; set "
                         "validation_fraction=None and patience=None on the estimator")
    return _sweep_config(est, classes)


def _sweep_config(est: LSTMClassifier, classes: np.ndarray) -> dict:
    cfg: dict = {k: getattr(est, k) for k in _DIRECT}
    cfg["hidden_sizes"] = est._hidden()
    cfg["features"] = est._features()  # event channels by name: indices of a fit's DataFrame columns
    cfg["grad_clip"] = float("inf") if est.grad_clip is None else float(est.grad_clip)
    cfg.update(est._class_weight_args(classes))
    if cfg["head_size"] is not None:
        cfg["head_size"] = int(cfg["head_size"])
    return cfg
