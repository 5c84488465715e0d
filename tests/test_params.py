"""jaxlstm.params: one table of parameter rules, one message from every entry point."""

import numpy as np
import pytest

from jaxlstm import LSTMClassifier, config, model, params
from jaxlstm.cli import main
from jaxlstm.sweep import run_sweep
from jaxlstm.train import make_hparams

# parameter, bad value, the CLI's flag and text for it (None: no flag), and the one message
BAD = [
    ("learning_rate", -1, ("--lr", "-1"), "learning_rate must be a finite number >= 0, got -1"),
    ("dropout", 1.5, ("--dropout", "1.5"), "dropout must be a number in [0, 1), got 1.5"),
    ("batch_size", 0, ("--batch-size", "0"), "batch_size must be a positive integer, got 0"),
    ("matmul_dtype", "fp8", None, "matmul_dtype must be one of 'float32', 'bfloat16', got 'fp8'"),
    ("class_weight", -1, ("--class-weight", "-1"),
     "class_weight must be None, 'balanced', a dict {label: weight >= 0} or an exponent >= 0 "
     "(weights balanced**e: 0 none, 1 balanced), got -1"),
    ("class_weight", {"0": [1]}, None,  # a list as a weight failed deep in training until 2026-12-04
     "class_weight must be None, 'balanced', a dict {label: weight >= 0} or an exponent >= 0 "
     "(weights balanced**e: 0 none, 1 balanced), got {'0': [1]}"),
    ("units", 0, None, "units must be None or a positive integer, got 0"),
    ("logit_adjust_tau", -0.5, ("--logit-adjust", "-0.5"), "logit_adjust_tau must be a finite number >= 0, got -0.5"),
    ("focal_gamma", -1, ("--focal-gamma", "-1"), "focal_gamma must be a finite number >= 0, got -1"),
    ("class_weight_beta", 1, ("--cb-beta", "1"), "class_weight_beta must be a number in [0, 1), got 1"),
    ("grad_clip", 0, None, "grad_clip must be None or a number > 0, got 0"),
    ("hidden_sizes", [0], ("--hidden", "0"), "hidden_sizes must be a positive integer or a list of them ([]: no "
                                             "LSTM, with conv_filters or minirocket_features), got [0]"),
    ("minirocket_features", 50, ("--minirocket", "50"), "minirocket_features must be 0 (none) or an integer >= 84, "
                                                        "got 50"),
    ("classifier", "ridge", ("--classifier", "ridge"),
     "classifier must be one of 'network', 'minirocket', 'multirocket', got 'ridge'"),
]
IDS = [b[0] + ("_dict" if isinstance(b[1], dict) else "") for b in BAD]
RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 4, 2)).astype(np.float32)
Y = np.array([0, 1] * 6)


def _toml(v) -> str:
    if isinstance(v, dict):  # an inline table
        return "{" + ", ".join(f'"{k}" = {_toml(w)}' for k, w in v.items()) + "}"
    return f'"{v}"' if isinstance(v, str) else str(v)


@pytest.mark.parametrize("name, value, flag, message", BAD, ids=IDS)
def test_a_bad_value_reads_the_same_from_every_entry_point(name, value, flag, message, tmp_path, capsys):
    with pytest.raises(ValueError) as e:
        LSTMClassifier(**{name: value}, epochs=1).fit(X, Y)
    assert str(e.value) == message

    p = tmp_path / "bad.toml"
    p.write_text(f"[model]\n{name} = {_toml(value)}\n[search.space]\nepochs = [1]\n")
    with pytest.raises(ValueError) as e:
        config.load_config(p)
    assert str(e.value) == f"{p}: model.{name}: {message}"
    assert main(["config", "check", str(p)]) == 2  # the TOML through the CLI
    assert capsys.readouterr().err.strip() == f"error: {p}: model.{name}: {message}"

    p.write_text(f"[search.space]\n{name} = [{_toml(value)}]\n")
    with pytest.raises(ValueError) as e:
        config.load_config(p)
    assert str(e.value) == f"{p}: search.space.{name}[0]: {message}"

    with pytest.raises(ValueError) as e:
        run_sweep(X, Y, space={name: [value], "epochs": [1]}, cv=2)
    assert str(e.value) == f"space.{name}[0]: {message}"

    if flag is not None:
        with pytest.raises(SystemExit) as e:
            main(["train", *flag, "--quiet"])
        assert e.value.code == 2
        assert capsys.readouterr().err.strip().endswith(f"error: argument {flag[0]}: {message}")


def test_per_member_values_are_checked_one_by_one_without_numpy_reprs():
    with pytest.raises(ValueError) as e:
        make_hparams(2, dropout=np.array([0.1, 0.2, 1.5], np.float32))
    assert str(e.value) == "dropout[2]: dropout must be a number in [0, 1), got 1.5"
    with pytest.raises(ValueError) as e:
        make_hparams(2, learning_rate=np.float64(np.nan))
    assert str(e.value) == "learning_rate must be a finite number >= 0, got nan"
    with pytest.raises(ValueError) as e:
        run_sweep(X, Y, configs=[{"epochs": 1}, {"epochs": np.int64(0)}], cv=2)
    assert str(e.value) == "configs[1]: epochs must be a positive integer, got 0"
    # a whole-number float where an integer is needed: until 2026-12-07 "must be a positive integer, got 2"
    for name, value, said in (("epochs", 2.0, "epochs must be a positive integer, got the float 2.0: write the "
                                                "integer 2"),
                              ("cv", np.float32(3),
                               "cv must be an integer >= 2, got the float 3.0: write the integer 3"),
                              ("epochs", 2.5, "epochs must be a positive integer, got 2.5")):
        with pytest.raises(ValueError) as e:
            params.check_param(name, value)
        assert str(e.value) == said
    hp = make_hparams(2, dropout=np.array([0.0, 0.5]), grad_clip=None)
    assert np.asarray(hp.dropout).tolist() == [0.0, 0.5] and float(hp.grad_clip) == np.inf


def test_the_table_covers_the_estimator_and_agrees_with_the_model():
    assert params.MATMUL_DTYPES == model.MATMUL_DTYPES and params.LSTM_OVER == model.LSTM_OVER
    unchecked = set(LSTMClassifier._get_param_names()) - set(params.PARAMETER_RULES)
    assert unchecked == {"select", "random_state"}  # a scorer name, scikit-learn's own
    for name, rule in params.PARAMETER_RULES.items():
        assert not rule.ok(float("nan")), name
        takes_true = ("bidirectional", "fold_models", "post_hoc_offsets", "verbose", "return_train_score", "refit")
        assert not rule.ok(True) or name in takes_true, name  # not 1
    defaults = LSTMClassifier().get_params()
    params.check_params(defaults)  # the defaults are allowed
    assert params.show(np.float32(0.5)) == "0.5" and params.show((np.int64(3), 4.0)) == "[3, 4]"


def test_settings_a_ridge_classifier_does_not_use_are_refused_or_named_not_dropped(tmp_path, capsys):
    """``classifier="minirocket"`` trains no network: the CLI refuses the
    network's flags (the estimator warns: tests/test_estimator.py), and TOML
    spells None as "none" for the keys whose None means "without"."""
    assert main(["train", "--classifier", "minirocket", "--logit-adjust", "1", "--lr", "0.01", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --classifier minirocket fits a ridge classifier in closed form and trains no network: --lr, "
        "--logit-adjust do not apply; leave them out (the ridge reads --class-weight, --cb-beta)")
    assert main(["train", "--classifier", "multirocket", "--dropout", "0.2", "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith(
        "error: --classifier multirocket fits a ridge classifier in closed form and trains no network: --dropout")
    p = tmp_path / "none.toml"
    p.write_text('[model]\nmax_length = "none"\n[search.space]\nhead_size = ["none", 32]\n')
    conf = config.load_config(p)
    assert conf.space["head_size"] == [None, 32] and conf.model["max_length"] is None


def test_what_the_estimator_says_a_ridge_ignores_is_what_the_sweep_resets():
    """``estimator.NOT_RIDGE_PARAMS`` (estimator names, warned about) and the
    sweep's keys for ``classifier="minirocket"`` (``model.minirocket_classifier_keys``,
    ``plan._NOT_RIDGE``) are one fact in two naming spaces: a new remedy key must join both."""
    from jaxlstm import estimator, plan
    network = set(model.minirocket_classifier_keys(0)) - {"minirocket_features"}
    training = set(plan._NOT_RIDGE) - {"batch_size", "matmul_dtype"}  # chunking and precision: not the user's intent
    assert set(estimator.NOT_RIDGE_PARAMS) == network | training | {"units"}
    assert params.CLASSIFIERS == ("network", *model.RIDGE_CLASSIFIERS)  # the rule table's values, the ridge's list
