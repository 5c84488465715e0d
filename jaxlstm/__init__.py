"""jaxlstm: LSTM sequence classifiers in JAX, and whole hyperparameter sweeps
trained as one jit-compiled, vmapped program.

Modules, bottom to top: ``rocket`` (MiniRocket's transform), ``ridge`` (its classifier), ``model``, ``losses``, ``metrics``, ``features``
(pure functions), ``train`` (pure training loop plus a validated wrapper),
``plan`` and ``tabulate`` (host: space -> members, members -> ``cv_results_``),
``sweep`` (the member executor, ``execute``, and ``run_sweep``: configurations
x folds x seeds), ``bayes`` and ``halving`` (search strategies), ``estimator`` and ``search`` (scikit-learn interfaces),
``datasets``, ``config`` (TOML sweeps and the default search, ``config.preset``), ``progress``, ``cli``.
"""

from jaxlstm import (bayes, cache, config, datasets, estimator, features, halving, losses, metrics, model, plan,
                     progress, ridge, rocket, search, sweep, tabulate, train)
from jaxlstm.estimator import LSTMClassifier, LSTMEnsemble, load_model
from jaxlstm.search import LSTMSearchCV
from jaxlstm.cache import enable_compilation_cache
from jaxlstm.datasets import Dataset, load_ucr, ucr_datasets
from jaxlstm.features import TemporalFeatures, first_difference, pad_sequences, temporal_features
from jaxlstm.losses import (class_counts, class_prior, effective_number_weights, focal_loss,
                            logit_adjusted_cross_entropy)
from jaxlstm.model import LSTMClassifierNet, ModelConfig
from jaxlstm.plan import Member
from jaxlstm.sweep import Execution, SweepResult, execute, run_sweep
from jaxlstm.train import (FitResult, HParams, Split, TrainConfig, fit, make_hparams,
                           predict_proba, train_single, train_step)

__version__ = "0.1.0"

__all__ = [
    "bayes",
    "cache",
    "config",
    "enable_compilation_cache",
    "estimator",
    "halving",
    "progress",
    "search",
    "LSTMClassifier",
    "LSTMEnsemble",
    "load_model",
    "LSTMSearchCV",
    "datasets",
    "features",
    "losses",
    "metrics",
    "model",
    "plan",
    "ridge",
    "rocket",
    "sweep",
    "tabulate",
    "train",
    "Dataset",
    "load_ucr",
    "ucr_datasets",
    "pad_sequences",
    "TemporalFeatures",
    "first_difference",
    "temporal_features",
    "class_counts",
    "class_prior",
    "effective_number_weights",
    "focal_loss",
    "logit_adjusted_cross_entropy",
    "LSTMClassifierNet",
    "ModelConfig",
    "Member",
    "Execution",
    "execute",
    "SweepResult",
    "run_sweep",
    "FitResult",
    "HParams",
    "Split",
    "TrainConfig",
    "fit",
    "make_hparams",
    "predict_proba",
    "train_single",
    "train_step",
    "__version__",
]
