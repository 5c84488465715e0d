"""Sweep configuration files (TOML, read with ``tomllib``).

A file has four tables; every key is optional and checked, and an unknown
key or a bad value raises a ``ValueError`` naming the key and what is allowed::

    [data]
    train = "digits_imbalanced"   # a dataset name (jaxlstm datasets) or a .npz / .csv path
    test = ""                     # held-out data for the best model; "" = hold out test_size (unset:
                                  # the same, but a UCR train split "ucr:NAME" is tested on its test split)
    test_size = 0.2

    [model]                       # LSTMClassifier settings shared by every candidate
    epochs = 20
    batch_size = 32

    [search]
    strategy = "grid"             # grid | random | bayes | halving
    n_iter = 20                   # candidates for random and bayes
    batch_size = 8                # candidates per bayes round
    cv = 3
    seeds = [0]
    metric = "f1_macro"           # a scikit-learn scoring name; ranks candidates
    budget_minutes = 0            # 0 = none; else no new round or chunk of members starts after this (not halving)

    [search.space]                # lists are grid choices; tables are distributions
    units = [32, 64]
    learning_rate = { loguniform = [1e-3, 3e-2] }
    dropout = { uniform = [0.0, 0.5] }
    class_weight = ["none", "balanced"]

    [output]
    dir = "runs/digits_imbalanced"
    plots = true
    heatmap = ["learning_rate", "units"]   # the heat map's axes; [] = the first two varied

Example files for each dataset ship in ``jaxlstm/configs/``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import warnings
import tomllib
from importlib import resources
from typing import Any

from jaxlstm._checks import CSV_COLUMNS, check_csv_columns, did_you_mean, ucr_test_split
from jaxlstm.bayes import range_ends
from jaxlstm.estimator import InactiveParameterWarning, LSTMClassifier
from jaxlstm.features import as_temporal_features
from jaxlstm.metrics import LABEL_SCORERS, SCORERS, check_scoring_name
from jaxlstm.search import LSTMSearchCV, check_search_settings
from jaxlstm.params import PARAMETER_RULES, check_param, check_seeds, message

__all__ = ["SweepConfig", "load_config", "example_path", "example_text", "EXAMPLES"]

EXAMPLES = ("digits_imbalanced", "intrusion", "japanese_vowels")
DISTRIBUTIONS = ("loguniform", "uniform", "randint")
STRATEGIES = ("grid", "random", "bayes", "halving")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {"train": "digits_imbalanced", "test": "", "test_size": 0.2, **CSV_COLUMNS},
    "model": {},
    "search": {"strategy": "grid", "n_iter": 20, "batch_size": 8, "cv": 3, "seeds": [0], "metric": "f1_macro",
               "budget_minutes": 0, "post_hoc_offsets": False, "ensemble_selection": None, "ensemble_rule": "greedy",
               "fold_models": False, "initial_points": [], "space": {}},
    "output": {"dir": "", "plots": True, "heatmap": []},
}
_MODEL_KEYS = tuple(k for k in LSTMClassifier._get_param_names()
                    if k not in ("random_state", "verbose", "validation_fraction", "patience", "select"))


@dataclasses.dataclass
class SweepConfig:
    """A validated configuration: ``data``, ``model`` (LSTMClassifier
    parameters), ``search`` (with ``space`` already turned into lists and
    scipy distributions) and ``output``."""

    data: dict
    model: dict
    search: dict
    output: dict
    source: str

    @property
    def space(self) -> dict:
        return self.search["space"]

    @property
    def has_distributions(self) -> bool:
        return any(not isinstance(v, list) for v in self.space.values())

    @property
    def grid_like(self) -> bool:
        """The search enumerates ``[search.space]`` as a grid (``param_grid``)."""
        return self.search["strategy"] in ("grid", "halving") and not self.has_distributions

    @property
    def scoring(self) -> list[str]:
        """The ranking metric first, then accuracy, balanced accuracy and macro F1."""
        return list(dict.fromkeys([self.search["metric"], "accuracy", "balanced_accuracy", "f1_macro"]))

    @property
    def feature_specs(self) -> list:
        """Every temporal-features spec in the config (``[model]``, each
        ``[search.space]`` choice, ``initial_points``), ``None`` ones left out."""
        specs = [self.model.get("features")]
        specs += self.space["features"] if isinstance(self.space.get("features"), list) else []
        specs += [p.get("features") for p in self.search["initial_points"]]
        return [s for s in specs if s is not None]

    @property
    def channel_names_needed(self) -> tuple[str, ...]:
        """Event channels named (not indexed) anywhere in the config."""
        return tuple(dict.fromkeys(n for s in self.feature_specs for n in s.channel_names_needed))

    def with_channel_names(self, names) -> SweepConfig:
        """This config with temporal features' event channels given by name
        (``events = [["new_port", 0.5]]``) turned into indices in ``names``, the
        training data's channel names -- in ``[model]``, ``[search.space]`` and
        ``search.initial_points``.

        Raises:
          ValueError: naming the key (``model.features``,
            ``search.space.features[i]``, ...) and the unknown channel, or two
            choices of ``search.space.features`` that become the same.
        """
        if not self.channel_names_needed:
            return self

        def resolve(where, spec):
            if spec is None or not spec.channel_names_needed:
                return spec
            try:
                return spec.with_channel_names(names)
            except ValueError as e:
                raise ValueError(f"{self.source}: {where}: features.{e}") from None

        model = dict(self.model)
        if "features" in model:
            model["features"] = resolve("model.features", model["features"])
        search = dict(self.search)
        space = dict(search["space"])
        if isinstance(space.get("features"), list):
            written = space["features"]
            space["features"] = [resolve(f"search.space.features[{i}]", v) for i, v in enumerate(written)]
            for j, v in enumerate(space["features"]):
                i = space["features"].index(v)
                if i < j and written[i] != written[j]:  # equal as written: the config's own choice
                    raise ValueError(f"{self.source}: search.space.features[{i}] and [{j}] are the same features "
                                     "once channel names are indices in this data: keep one of them")
        search["space"] = space
        search["initial_points"] = [
            {k: resolve(f"search.initial_points[{i}].features", v) if k == "features" else v for k, v in p.items()}
            for i, p in enumerate(search["initial_points"])]
        return dataclasses.replace(self, model=model, search=search)

    @property
    def csv_columns(self) -> dict:
        """``data.id_column``, ``time_column``, ``label_column`` where they are
        not the default names (``{}``: ``sequence_id``, ``time``, ``label``)."""
        return {k: self.data[k] for k in CSV_COLUMNS if self.data[k] != CSV_COLUMNS[k]}

    def make_search(self, *, out_dir: str | None = None, verbose: int = 0) -> LSTMSearchCV:
        """The :class:`~jaxlstm.search.LSTMSearchCV` this config describes
        (unfitted): the ``[model]`` settings on every candidate, the
        ``[search]`` strategy over ``[search.space]``, refitted by the metric.
        Event channels named by column must be indices first: call it on
        ``conf.with_channel_names(data.feature_names)``."""
        s = self.search
        seed = s["seeds"][0]
        grid_like = self.grid_like
        return LSTMSearchCV(LSTMClassifier(**self.model, random_state=seed),
                            param_grid=self.space if grid_like else None,
                            param_distributions=None if grid_like else self.space, search=s["strategy"],
                            n_iter=s["n_iter"], batch_size=s["batch_size"], cv=s["cv"], seeds=s["seeds"],
                            scoring=self.scoring, refit=s["metric"], random_state=seed,
                            max_time=s["budget_minutes"] * 60 or None, post_hoc_offsets=s["post_hoc_offsets"],
                            ensemble_selection=s["ensemble_selection"], ensemble_rule=s["ensemble_rule"],
                            fold_models=s["fold_models"], initial_points=s["initial_points"] or None,
                            out_dir=out_dir if s["strategy"] != "halving" else None, verbose=verbose)


EXAMPLE = """\
# A jaxlstm sweep config (TOML). Run it with: jaxlstm sweep my.toml
# Every key is optional; a line starting with # shows a key at its default, or an example value for
# a key whose default is to leave it out (units, head_size, max_length, ensemble_selection, features).
# Relative data paths (data.train, data.test) are read from this file's folder;
# output.dir, like --out, is relative to the folder you run jaxlstm in.

[data]
train = "digits_imbalanced"   # a dataset name (jaxlstm datasets) or a .npz / .csv file
# test = ""                   # held-out test data for the best model; "" = hold out test_size
#                             # (unset with train = "ucr:NAME": NAME's standard test split)
test_size = 0.2               # share of train held out (stratified) when test = ""
# id_column = "sequence_id"   # a CSV file's column names for the sequence id, the step's time and the label
# time_column = "time"        # (every other column is a feature)
# label_column = "label"

[model]                       # LSTMClassifier settings shared by every candidate
epochs = 20
batch_size = 32
# units = 64                  # one LSTM layer of this size (the Keras tutorial's name)
# hidden_sizes = [64]         # stacked LSTM layers
# bidirectional = false
# head_size = 32              # a ReLU dense layer before the logits (omit or "none": none)
# dropout = 0.0               # in [0, 1)
# noise_std = 0.0             # Gaussian noise on the scaled training inputs
# l1 = 0.0                    # L1 penalty on kernels
# l2 = 0.0                    # L2 penalty on kernels (Keras: l2 * sum(w**2))
# weight_decay = 0.0          # decoupled (AdamW) weight decay
# learning_rate = 0.001
# grad_clip = "none"          # or a global gradient-norm bound
# class_weight = "none"       # "none", "balanced", or an exponent e >= 0 (weights balanced**e)
# logit_adjust_tau = 0.0      # logit-adjusted loss (Menon et al. 2021): 0 off, 1 balanced softmax
# focal_gamma = 0.0           # focal loss (Lin et al. 2017): 0 = plain cross-entropy
# class_weight_beta = 0.0     # effective-number weights (Cui et al. 2019), in [0, 1); > 0 replaces balanced
# sampling_exponent = 0.0     # class-balanced minibatches: 0 every row once, 1 classes equally often
# augment_scale = 0.0         # augmentation of training batches: row scaling (std of the factor)
# augment_warp = 0.0          # magnitude warping (std of the curve's 4 knots)
# augment_slice = 0.0         # window slicing: share of each row cut away, in [0, 1)
# normalize = "standard"      # "standard", "minmax" or "none"
# matmul_dtype = "float32"    # or "bfloat16" (mixed precision)
# conv_filters = []           # an LSTM-FCN branch, e.g. [128, 256, 128]
# conv_kernel_sizes = []      # e.g. [8, 5, 3]
# lstm_over = "time"          # or "channels" (MLSTM-FCN)
# minirocket_features = 0     # a MiniRocket branch (Dempster et al. 2021) of this many features, e.g. 10000;
#                             # with hidden_sizes = [] the model is MiniRocket + a linear classifier
# classifier = "network"      # or "minirocket": MiniRocket's features + a ridge classifier in closed form
#                             # (Dempster et al. 2021; seconds; network keys and loss remedies but class
#                             # weights do not apply); "multirocket": the same on MultiRocket's features
#                             # (Tan et al. 2022; minirocket_features = its kernel/bias pairs per series)
# max_length = 100            # longest sequence a "channels" model reads (omit: the longest of the
#                             # training and test data); unused by "time" models
# n_ensemble = 1              # the refitted best model as an ensemble of this many seeds
# features = { rolling_mean = [5, 20], rolling_std = [20], diff = true, events = [[0, 0.5]] }
#                             # temporal features the LSTM reads (events: steps since channel 0 > 0.5;
#                             # a channel by name too, as the data file names it: [["new_port", 0.5]])

[search]
strategy = "grid"             # grid | random | bayes | halving
# n_iter = 20                 # candidates for random and bayes
# batch_size = 8              # candidates per bayes round
cv = 3                        # stratified folds
seeds = [0]                   # training seeds per candidate and fold; the first also draws the
                              # test_size hold-out and a random or Bayesian search's candidates
metric = "f1_macro"           # a scikit-learn scoring name; ranks candidates
# budget_minutes = 0          # 0 = none; else no new round or chunk of members starts after this (not halving)
# post_hoc_offsets = false    # fit per-class decision offsets for the metric on out-of-fold probabilities;
#                             # true: kept if they win cross-fitted too, "always": kept
# ensemble_selection = 5      # omit: refit the best candidate; k: a soft-voting ensemble of candidates
# ensemble_rule = "greedy"    # "greedy": k picks, with replacement, on their out-of-fold probabilities;
#                             # "cawpe": the k best by CV, weighted by their CV score ** 4
# fold_models = false         # true: the refit is each candidate's CV fold models averaged, not trained
#                             # again, so budget_minutes bounds the whole run (not halving)
# initial_points = []         # random/bayes/halving: candidates tried first, e.g. [{ learning_rate = 3e-3 }];
#                             # a searched key a point leaves out takes its [model] value

[search.space]                # lists are grid choices; tables are distributions (random, bayes)
units = [32, 64]
learning_rate = [3e-3, 1e-2]  # or { loguniform = [1e-3, 3e-2] }
class_weight = ["none", "balanced"]
# dropout = { uniform = [0.0, 0.5] }
# (a list-valued key such as hidden_sizes lists choices that are lists: [[64], [64, 64]])
# focal_gamma = [0.0, 2.0]    # imbalance remedies are dynamic: one compiled program
# logit_adjust_tau = [0.0, 1.0]
# features = [{}, { diff = true, rolling_std = [10] }]  # static: one compiled program per choice
# epochs = [10, 20]           # free: one run scored after 10 and 20 epochs

[output]
# dir = ""                    # "" = runs/<this file's name>, under the folder you run jaxlstm in
plots = true
# heatmap = []                # the heat map's two axes, e.g. ["learning_rate", "units"]
"""


PRESET = """\
# jaxlstm's default search for imbalanced sequences (`jaxlstm sweep FILE`).
# Save it (`jaxlstm sweep FILE --print-config > my.toml`), edit it, run `jaxlstm sweep my.toml`.
[data]
train = {train}
test = {test}                   # "" = hold out test_size (stratified)
{test_size}
{columns}
[model]
hidden_sizes = [64]
batch_size = 32
epochs = 60
n_ensemble = 3                # the refitted best model: a deep ensemble of 3 seeds
{max_length}{features}
[search]
strategy = "bayes"            # Gaussian-process rounds, each round one program per static group
n_iter = 25
batch_size = 9
cv = 3
seeds = [0]
metric = {metric}   # minority-aware: each class counts the same
budget_minutes = {budget}          # no new round or chunk of members starts after this (0 = no limit); then the refit
{offsets}
{ensemble}
{fold_models}

# Tried first, in order, so that a budget which cuts the search short has trained them (9: one round):
# MiniRocket as published (Dempster et al. 2021: its features and a ridge classifier in closed form; seconds,
# and the family that was strong where LSTM-FCN was weakest: FacesUCR, FiftyWords, ChlorineConcentration in
# benchmarks/RESULTS.md), with balanced weights; LSTM-FCN with the logit-adjusted loss over channels (the
# published "dimension shuffle": each step a channel's whole series; cheap, so it finishes first on long
# series); MultiRocket as published (Tan et al. 2022: four poolings of MiniRocket's convolutions of the series
# and of its differences; stronger on DistalPhalanxOutlineAgeGroup and ChlorineConcentration, about 5x
# MiniRocket's cost, so after the cheap ones); LSTM-FCN with the logit-adjusted loss over time steps; then
# LSTM-FCN over channels trained long (one 200-epoch run, scored after 100 and 200: the convolutional
# branch is still learning at 60 on some series), then the plain LSTM, LSTM-FCN with balanced
# minibatches, the LSTM with the logit-adjusted loss (benchmarks/RESULTS.md: the remedies that won
# somewhere on the UCR suite; either LSTM-FCN wins where the other loses, and CV chooses).
initial_points = [
  {{ classifier = "minirocket", minirocket_features = 9996, conv_filters = [], class_weight = 1.0, epochs = 20 }},
  {{ conv_filters = [64, 128, 64], lstm_over = "channels", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 1.0, sampling_exponent = 0.0, epochs = 60 }},
  {{ classifier = "multirocket", minirocket_features = 0, conv_filters = [], class_weight = 1.0, epochs = 20 }},
  {{ conv_filters = [64, 128, 64], lstm_over = "time", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 1.0, sampling_exponent = 0.0, epochs = 60 }},
  {{ conv_filters = [64, 128, 64], lstm_over = "channels", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 0.0, sampling_exponent = 0.0, epochs = 200 }},
  {{ conv_filters = [64, 128, 64], lstm_over = "channels", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 0.0, sampling_exponent = 0.0, epochs = 100 }},
  {{ conv_filters = [], lstm_over = "time", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 0.0, sampling_exponent = 0.0, epochs = 40 }},
  {{ conv_filters = [64, 128, 64], lstm_over = "time", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 0.0, sampling_exponent = 1.0, epochs = 60 }},
  {{ conv_filters = [], lstm_over = "time", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 1.0, sampling_exponent = 0.0, epochs = 40 }},
]

[search.space]
lstm_over = ["time", "channels"]              # one LSTM step per time step, or per channel (dimension shuffle)
conv_filters = [[], [64, 128, 64]]            # the LSTM alone, or with LSTM-FCN's convolutional branch
minirocket_features = [0, 9996]               # and/or a MiniRocket branch (84 kernels x 119 biases)
classifier = ["network", "minirocket", "multirocket"]  # or MiniRocket / MultiRocket (0 features: 6216) alone
learning_rate = {{ loguniform = [1e-3, 1e-2] }}
dropout = {{ uniform = [0.0, 0.4] }}
class_weight = {{ uniform = [0.0, 1.0] }}       # weights balanced**e: 0 none .. 1 balanced
logit_adjust_tau = {{ uniform = [0.0, 1.5] }}   # logit-adjusted loss (Menon et al. 2021); 1 = balanced softmax
sampling_exponent = {{ uniform = [0.0, 1.0] }}  # class-balanced minibatches: 0 natural .. 1 balanced
epochs = [20, 40, 60, 100, 200]               # candidates differing only in epochs: one run, scored after each
# not searched: focal loss (wins only where logit adjustment and balanced sampling win more) and
# effective-number weights (win nowhere) on the UCR suite (benchmarks/RESULTS.md)

[output]
plots = true
"""


def _toml_str(v) -> str:
    """A TOML basic string: JSON's escapes, but characters outside ASCII as
    themselves (JSON writes U+1F600 as a surrogate pair, which TOML rejects)."""
    return json.dumps(str(v), ensure_ascii=False)


PRESET_SOURCE = "the default search on "  # a preset's SweepConfig.source: the data file after it


def preset_text(train: str = "digits_imbalanced", *, test: str = "", metric: str = "balanced_accuracy",
                budget_minutes: float = 10, columns: dict | None = None, max_length: int | None = None,
                fold_models: bool = False, features: dict | None = None) -> str:
    """The default search as a TOML config (what ``jaxlstm sweep FILE`` runs
    and prints): Bayesian search over MiniRocket and MultiRocket with a ridge classifier
    (``classifier="minirocket"``, ``"multirocket"``) and the LSTM with and without LSTM-FCN's
    convolutional branch and/or a MiniRocket branch, over time steps or over channels (``lstm_over``),
    learning rate, dropout, class-weight exponent, logit adjustment, balanced
    sampling and epochs, 3-fold CV ranked by ``metric``, starting from nine
    fixed candidates (``initial_points``), within ``budget_minutes``; then the
    5 candidates that rank best by CV refitted as a soft-voting ensemble, each
    weighted by its CV score ** 4 (CAWPE) and itself an ensemble of 3 seeds."""
    test = test or ucr_test_split(train)  # a UCR train split: its standard test split
    offsets = ("post_hoc_offsets = true       # per-class decision offsets fitted on the out-of-fold probabilities, "
               "kept if they win cross-fitted" if metric in LABEL_SCORERS else
               f"post_hoc_offsets = false      # decision offsets maximise one of jaxlstm.metrics.LABEL_SCORERS; "
               f"{metric} is not")
    if metric not in SCORERS:
        ensemble = (f"# ensemble_selection = 5      # needs a metric of jaxlstm.metrics.SCORERS; {metric} is not: the "
                    "best candidate is refitted")
    elif metric.startswith("neg_"):  # CAWPE weighs by score ** 4: a loss's negative scores would all weigh 0
        ensemble = ("ensemble_selection = 5        # refit the candidates that score best averaged out of fold (5 "
                    f'picks in all: the best, then 4 greedy ones)\nensemble_rule = "greedy"      # not "cawpe": it '
                    f"weighs by CV score ** 4, and {metric}'s scores are negative")
    else:
        ensemble = ("ensemble_selection = 5        # refit the 5 candidates that rank best by CV as one soft-voting "
                    'ensemble\nensemble_rule = "cawpe"       # each weighted by its CV score ** 4 (CAWPE: Large et '
                    "al. 2019, as HIVE-COTE 2 weighs its members)")
    if columns:
        check_csv_columns(columns)  # before it becomes TOML text (which would turn any value into a string)
    cols = "".join(f"{k} = {_toml_str(v)}\n" for k, v in (columns or {}).items())
    check_param("max_length", max_length)  # before it becomes TOML text too
    longest = ("" if max_length is None else f"max_length = {int(max_length)}              # the longest sequence "
               "a candidate with its LSTM over channels reads\n")
    check_param("fold_models", fold_models)
    folds = ("fold_models = true            # no training after the budget: each candidate's CV fold models averaged"
             if fold_models else "fold_models = false           # true: no training after the budget (CV fold models "
             "averaged; 1.2 points less macro recall on the UCR suite)")
    test_size = "# test_size = 0.2             # with test = \"\"" if test else "test_size = 0.2"  # else unused
    feats = ""
    if features:  # checked before it becomes TOML text (a bad window named as the parameter's, not as TOML's)
        from jaxlstm.features import as_temporal_features

        as_temporal_features(features)
        values = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in features.items())  # JSON's
        feats = f"features = {{ {values} }}  # temporal features every candidate reads\n"  # lists are TOML's
    return PRESET.format(train=_toml_str(train), test=_toml_str(test), test_size=test_size, metric=_toml_str(metric),
                         budget=repr(float(budget_minutes)), offsets=offsets, ensemble=ensemble, columns=cols,
                         max_length=longest, fold_models=folds, features=feats)


def preset(train: str = "digits_imbalanced", *, test: str = "", metric: str = "balanced_accuracy",
           budget_minutes: float = 10, columns: dict | None = None, max_length: int | None = None,
           fold_models: bool = False, features: dict | None = None) -> SweepConfig:
    """:func:`preset_text` validated; run it with :meth:`SweepConfig.make_search`::

        conf = preset(budget_minutes=5)
        search = conf.make_search().fit(X, y)      # an LSTMSearchCV

    ``columns`` (``{"label_column": "target"}``): a CSV file's column names,
    as ``data.id_column``, ``time_column``, ``label_column``. ``max_length``:
    the longest sequence its candidates with the LSTM over channels will read
    (``None``: the training rows' longest, so predicting longer ones is an
    error; the CLI sets it from ``--test``). ``features``: temporal features
    every candidate reads, as ``[model] features`` (``{"rolling_std": [10],
    "diff": True, "events": [["new_port", 0.5]]}``; the CLI's ``--rolling-mean``,
    ``--rolling-std``, ``--diff``, ``--event``).

    Raises:
      ValueError: a metric that is not a scoring name, a negative budget, a bad column name, a ``max_length``
        that is not a positive integer, a bad features spec.
    """
    return parse_config(tomllib.loads(preset_text(train, test=test, metric=metric, budget_minutes=budget_minutes,
                                                  columns=columns, max_length=max_length, fold_models=fold_models,
                                                  features=features)),
                        f"{PRESET_SOURCE}{train}")


def example_text() -> str:
    """A commented example config showing every key (``jaxlstm config example``)."""
    return EXAMPLE


def example_path(name: str = "digits_imbalanced") -> str:
    """Path of a shipped example config."""
    if name not in EXAMPLES:
        raise ValueError(f"no example config {name!r}; examples: {list(EXAMPLES)}")
    return str(resources.files("jaxlstm") / "configs" / f"{name}.toml")


def load_config(path: str | os.PathLike | None = None) -> SweepConfig:
    """Read and validate a TOML file (``None``: the digits_imbalanced example).
    ``data.train`` and ``data.test`` paths that are relative are read from
    the TOML file's folder, wherever the command runs (``~`` is the home folder)."""
    path = example_path() if path is None else path
    if os.path.splitext(str(path))[1].lower() in (".csv", ".npz"):
        raise ValueError(f"{path} is a data file, not a config: for the default search on it use "
                         f"jaxlstm.config.preset(train={str(path)!r}); or write a config with `jaxlstm config "
                         f"example > my.toml` and set data.train = \"{os.path.basename(str(path))}\"")
    try:
        with open(path, "rb") as f:
            raw = tomllib.loads(f.read().decode("utf-8-sig"))  # -sig: Windows editors start with a byte-order mark
    except OSError as e:
        raise ValueError(f"cannot read config {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (a byte {e.object[e.start]:#04x}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    conf = parse_config(raw, str(path))
    here = os.path.dirname(os.path.abspath(path))
    for key in ("train", "test"):
        v = conf.data[key]
        if os.path.splitext(v)[1].lower() in (".csv", ".npz"):
            v = conf.data[key] = os.path.expanduser(v)
        if os.path.splitext(v)[1].lower() in (".csv", ".npz") and not os.path.isabs(v):
            conf.data[key] = os.path.normpath(os.path.join(here, v))
    return conf


def parse_config(raw: dict, source: str = "<config>") -> SweepConfig:
    """Validate a config dict (as TOML gives it)."""
    cfg = copy.deepcopy(_DEFAULTS)
    for table, values in raw.items():
        if table not in cfg:
            raise ValueError(f"{source}: unknown table [{table}]; allowed: {list(cfg)}")
        if not isinstance(values, dict):
            raise ValueError(f"{source}: [{table}] must be a table")
        for key, v in values.items():
            allowed = _MODEL_KEYS if table == "model" else tuple(cfg[table])
            if key not in allowed:
                raise ValueError(f"{source}: unknown key {table}.{key}{did_you_mean(key, allowed, 2)}; allowed: "
                                 f"{sorted(allowed)}")
            cfg[table][key] = v
    d, s, o = cfg["data"], cfg["search"], cfg["output"]
    _check(source, "data.train", d["train"], str, lambda v: bool(v), "a dataset name or a file path")
    _check(source, "data.test", d["test"], str, lambda v: True, "a dataset name, a path, or \"\"")
    _check(source, "data.test_size", d["test_size"], (int, float), lambda v: 0 < v < 1, "a fraction in (0, 1)")
    d.update(check_csv_columns({k: d[k] for k in CSV_COLUMNS}, f"{source}: data."))
    if "test" not in raw.get("data", {}):  # a UCR train split: its standard test split, as `jaxlstm sweep ucr:NAME`
        d["test"] = ucr_test_split(d["train"])  # reads it (until 2026-12-07 a hold-out of train; test = "": that)
    renamed = [k for k in CSV_COLUMNS if d[k] != CSV_COLUMNS[k]]
    if renamed and not any(os.path.splitext(d[k])[1].lower() == ".csv" for k in ("train", "test")):
        raise ValueError(f"{source}: data.{renamed[0]} names a CSV file's column, but neither data.train "
                         f"({d['train']!r}) nor data.test ({d['test']!r}) is a .csv file")
    _check(source, "search.strategy", s["strategy"], str, lambda v: v in STRATEGIES, f"one of {list(STRATEGIES)}")
    for k in ("n_iter", "batch_size", "cv"):
        check_param(k, s[k], where=f"{source}: search.{k}: ")
    s["seeds"] = list(check_seeds(s["seeds"], where=f"{source}: search.seeds: "))  # [1.0] is seed 1
    try:
        check_scoring_name(s["metric"])
    except ValueError as e:
        raise ValueError(f"{source}: search.metric = {s['metric']!r}: {e}") from None
    for k in ("budget_minutes", "post_hoc_offsets", "ensemble_selection", "ensemble_rule", "fold_models"):
        check_param(k, s[k], where=f"{source}: search.{k}: ")
    _check(source, "output.dir", o["dir"], str, lambda v: True, "a directory path")
    o["dir"] = os.path.expanduser(o["dir"])  # as data.train's: "~/runs" is the home folder's, not ./~/runs
    _check(source, "output.plots", o["plots"], bool, lambda v: True, "true or false")
    _check(source, "output.heatmap", o["heatmap"], list,
           lambda v: v == [] or (len(v) == 2 and all(isinstance(a, str) for a in v) and v[0] != v[1]),
           "[] (the first two varied parameters) or two different names from [search.space], e.g. "
           "[\"learning_rate\", \"units\"]")
    model = {k: _model_value(source, f"model.{k}", k, v) for k, v in cfg["model"].items()}
    _check(source, "search.space", s["space"], dict, lambda v: True,
           "a table of the values to search, e.g. [search.space] then learning_rate = [1e-3, 3e-3]")
    space = {}
    for k, v in s["space"].items():
        if k == "n_ensemble":
            raise ValueError(f"{source}: search.space.n_ensemble cannot be searched (candidates are scored "
                             "as single models); set model.n_ensemble for the refitted best model")
        if k not in _MODEL_KEYS:
            raise ValueError(f"{source}: unknown key search.space.{k}{did_you_mean(k, _MODEL_KEYS, 2)}; allowed: "
                             f"{sorted(set(_MODEL_KEYS) - {'n_ensemble'})}")
        space[k] = _space_value(source, k, v, bayes=s["strategy"] == "bayes")
    if not space:
        raise ValueError(f"{source}: [search.space] is empty; give at least one hyperparameter to search")
    s["space"] = space
    _check(source, "search.initial_points", s["initial_points"], list, lambda v: all(isinstance(p, dict) for p in v),
           "a list of tables of searched values, e.g. [{ learning_rate = 3e-3, dropout = 0.1 }]")
    points = []
    for i, p in enumerate(s["initial_points"]):
        for k in p:
            if k not in space:
                raise ValueError(f"{source}: search.initial_points[{i}].{k} is not in [search.space] "
                                 f"({sorted(space)})")
        points.append({k: _model_value(source, f"search.initial_points[{i}].{k}", k, v) for k, v in p.items()})
    s["initial_points"] = points
    for k in o["heatmap"]:
        if k not in space:
            raise ValueError(f"{source}: output.heatmap names {k!r}, which is not in [search.space] "
                             f"({sorted(space)})")
    conf = SweepConfig(d, model, s, o, source)
    if conf.has_distributions and s["strategy"] == "grid":
        raise ValueError(f"{source}: search.strategy = \"grid\" needs lists of choices; the space has "
                         "distributions, so use \"random\" or \"bayes\"")
    _check_search_settings(source, s, grid=conf.grid_like, model=model)
    if s["strategy"] == "halving" and "epochs" in space:
        raise ValueError(f"{source}: with strategy \"halving\" epochs is the resource: set model.epochs, "
                         "not search.space.epochs")
    written = {f"{t}.{k}" for t, values in raw.items() if isinstance(values, dict) for k in values}
    unused = [(f"search.n_iter = {s['n_iter']}", "a grid trains every candidate it lists") if conf.grid_like else None,
              (f"search.batch_size = {s['batch_size']}", "it is the candidates per round of strategy = \"bayes\" "
               "(the minibatch size is model.batch_size)") if s["strategy"] != "bayes" else None,
              (f"data.test_size = {d['test_size']}", f"data.test ({d['test']}) is the test data" if "data.test" in
               written else f"the test data is {d['test']}, {d['train']}'s standard test split (test = \"\" holds out "
               "test_size instead)") if d["test"] else None]
    for said, why in (u for u in unused if u and u[0].split(" =")[0] in written):
        warnings.warn(f"{source}: {said} does nothing here: {why}", InactiveParameterWarning, stacklevel=2)
    return conf


def _check_search_settings(source: str, s: dict, grid: bool, model: dict) -> None:
    """:func:`jaxlstm.search.check_search_settings` on ``[search]`` (and ``[model]``'s units, hidden_sizes),
    named and written as in the file."""
    def toml(v) -> str:
        return str(v).lower() if isinstance(v, bool) else f'"{v}"' if isinstance(v, str) else repr(v)

    settings = dict(strategy=s["strategy"], max_time=s["budget_minutes"], fold_models=s["fold_models"],
                    ensemble_rule=s["ensemble_rule"], ensemble_selection=s["ensemble_selection"], metric=s["metric"],
                    post_hoc_offsets=s["post_hoc_offsets"], return_train_score=False,
                    initial_points=len(s["initial_points"]), n_iter=s["n_iter"], grid=grid,
                    hidden_sizes="searched" if "hidden_sizes" in s["space"] else "set"
                    if len(model.get("hidden_sizes", (0,))) != 1 else False,  # stacked or no layers: units drops them
                    units="searched" if "units" in s["space"] else "set" if "units" in model else False)
    keys = {k: k for k in settings} | {"max_time": "budget_minutes"}  # the settings' keys in [search]
    written = {k: f"search.{key} = {toml(s[key])}" for k, key in keys.items() if key in s}
    names = {k: f"search.{key}" for k, key in keys.items()} | {
        "hidden_sizes": "search.space.hidden_sizes", "initial_points_count": str(len(s["initial_points"]))}
    written |= {"grid": "a grid (lists of choices)"}
    for k in ("units", "hidden_sizes"):  # searched, else set in [model]
        written[k] = f"search.space.{k} is searched" if k in s["space"] else f"model.{k} is set"
    check_search_settings(settings, names, written, where=f"{source}: ")


def _check(source, key, v, types, ok, allowed) -> None:
    types = types if isinstance(types, tuple) else (types,)
    bool_mistaken_for_number = isinstance(v, bool) and bool not in types  # TOML true is not the number 1
    if bool_mistaken_for_number or not isinstance(v, types) or not ok(v):
        raise ValueError(f"{source}: {key} = {v!r}; expected {allowed}")


# what TOML cannot write: None is spelled "none"; lists are tuples; rates are floats
_NONE_SPELLED = ("class_weight", "normalize", "grad_clip", "head_size", "max_length", "units")
_TUPLES = ("hidden_sizes", "conv_filters", "conv_kernel_sizes")
_FLOATS = ("learning_rate", "l1", "l2", "weight_decay", "dropout", "noise_std", "grad_clip", "logit_adjust_tau",
           "focal_gamma", "class_weight_beta", "sampling_exponent", "augment_scale", "augment_warp", "augment_slice")


def _model_value(source, where, key, v):
    """A TOML value of an LSTMClassifier parameter, checked by its rule in
    :data:`jaxlstm.params.PARAMETER_RULES` (the message is the estimator's,
    after ``"<file>: <key path>: "``)."""
    if key in _NONE_SPELLED and v == "none":
        v = None
    check_param(key, v, where=f"{source}: {where}: ")
    if key == "features":
        try:
            return as_temporal_features(v)
        except ValueError as e:
            raise ValueError(f"{source}: {where}: {e}") from None
    if key in _TUPLES and v is not None:
        return (v,) if isinstance(v, int) else tuple(v)
    if key in _FLOATS and v is not None:
        return float(v)
    if key == "bidirectional" and not isinstance(v, bool):  # TOML has true and false (1 made [0, 1, true] repeat one)
        raise ValueError(f"{source}: {where} = {v!r}; expected true or false")
    return v


def _space_value(source, key, v, bayes: bool = True):
    where = f"search.space.{key}"
    if isinstance(v, list):
        if not v:
            raise ValueError(f"{source}: {where} is an empty list")
        if key in _TUPLES and not all(isinstance(a, list) for a in v):
            # [64, 128, 64] copied from [model] would be three one-layer choices, one of them twice
            raise ValueError(f"{source}: {where} = {v!r}; each choice is a list of sizes: write "
                             f"[{v!r}] for that one choice, or [[64], [128]] to choose among single sizes")
        return [_model_value(source, f"{where}[{i}]", key, a) for i, a in enumerate(v)]
    if isinstance(v, dict):
        if len(v) != 1 or next(iter(v)) not in DISTRIBUTIONS:
            raise ValueError(f"{source}: {where} = {v!r}; a distribution is one of "
                             + ", ".join(f"{{ {d} = [low, high] }}" for d in DISTRIBUTIONS))
        name, bounds = next(iter(v.items()))
        if not (isinstance(bounds, list) and len(bounds) == 2
                and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
                and bounds[0] < bounds[1]):
            raise ValueError(f"{source}: {where}.{name} = {bounds!r}; expected [low, high], finite numbers with "
                             "low < high")
        from scipy import stats

        lo, hi = bounds
        if name == "randint" and not all(isinstance(b, int) for b in bounds):
            raise ValueError(f"{source}: {where}.randint = {bounds!r}; expected integer bounds")
        ends = range_ends(lo, hi, discrete=name == "randint", exact_low=bayes)  # values the search can take
        for end, written in zip(ends, (lo, hi)):
            rule = PARAMETER_RULES.get(key)
            if rule is None or rule.ok(end):
                continue
            if name != "randint" and rule.ok(1) and rule.ok(2) and not rule.ok(1.5):  # integers
                raise ValueError(f"{source}: {where}.{name}: {key} takes integers; write "
                                 f"{{ randint = [{int(lo)}, {int(hi)}] }} (high included)")
            raise ValueError(message(key, written, f"{source}: {where}.{name}: "))  # the bound as written
        if name == "loguniform":
            if lo <= 0:
                raise ValueError(f"{source}: {where}.loguniform needs low > 0, got {lo}")
            return stats.loguniform(lo, hi)
        if name == "uniform":
            return stats.uniform(lo, hi - lo)
        return stats.randint(int(lo), int(hi) + 1)  # inclusive high, as people write it
    raise ValueError(f"{source}: {where} = {v!r}; expected a list of choices or a distribution table")
