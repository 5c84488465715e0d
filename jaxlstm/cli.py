"""``jaxlstm`` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


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
        raise argparse.ArgumentTypeError(
            f"--class-weight must be 'balanced', 'none' or an exponent in [0, 1], got {text!r}") from None
    if not 0 <= e <= 1:
        raise argparse.ArgumentTypeError(f"--class-weight exponent must be in [0, 1], got {e}")
    return e, f"balanced**{e:g}"


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--hidden sizes must be >= 1, got {text!r}")
    return sizes


def _cmd_train(args) -> int:
    import numpy as np
    from sklearn.model_selection import train_test_split

    from jaxlstm import datasets, metrics
    from jaxlstm.model import ModelConfig
    from jaxlstm.train import TrainConfig, make_hparams, predict_proba, train_single

    data = datasets.load(args.dataset)
    idx = np.arange(len(data.y))
    trval, test = train_test_split(idx, test_size=args.test_size, stratify=data.y, random_state=args.seed)
    tr, val = train_test_split(trval, test_size=args.val_size, stratify=data.y[trval],
                               random_state=args.seed)
    exponent, cw_name = args.class_weight
    model = ModelConfig(num_features=data.num_features, num_classes=data.num_classes,
                        hidden_sizes=args.hidden, bidirectional=args.bidirectional,
                        head_size=args.head or None)
    config = TrainConfig(model=model, batch_size=args.batch_size, epochs=args.epochs,
                         select=args.select, normalize=None if args.normalize == "none" else args.normalize)
    hp = make_hparams(data.num_classes, learning_rate=args.lr, l1=args.l1, l2=args.l2,
                      weight_decay=args.weight_decay, dropout=args.dropout,
                      class_weight_exponent=exponent)
    say = (lambda *a: None) if args.quiet else print
    counts = np.bincount(data.y, minlength=data.num_classes)
    say(f"dataset {data.name}: {len(data.y)} sequences x {data.x.shape[1]} steps x "
        f"{data.num_features} features, {data.num_classes} classes (counts {counts.min()}..{counts.max()})")
    say(f"split: {len(tr)} train / {len(val)} validation / {len(test)} test (stratified, seed {args.seed})")
    say(f"model: LSTM{list(args.hidden)}{' bidirectional' if args.bidirectional else ''}"
        f"{f' -> Dense({args.head}, relu)' if args.head else ''} -> {data.num_classes} logits; "
        f"class weights {cw_name}; {args.epochs} epochs, batch {args.batch_size}, lr {args.lr:g}")
    result, timing = train_single(data.x, data.y, data.lengths, config=config, hparams=hp,
                                  train_idx=tr, val_idx=val, seed=args.seed)
    if bool(result.diverged):
        print("error: training diverged (non-finite loss); lower the learning rate", file=sys.stderr)
        return 1
    say(f"compile {timing.compile_s:.2f} s, train {timing.run_s:.2f} s "
        f"({timing.run_s / args.epochs:.3f} s/epoch); best epoch {int(result.best_epoch) + 1} "
        f"by validation {args.select} = {float(result.best_score):.4f}")
    probs = predict_proba(result.best_params, model, result.scaler, data.x[test], data.lengths[test])
    pred = probs.argmax(-1)
    report = metrics.classification_report(data.y[test], pred, data.num_classes,
                                           target_names=data.class_names)
    auc = float(metrics.roc_auc_score(data.y[test], probs, data.num_classes))
    if args.json:
        print(json.dumps({"test": report, "test_roc_auc_ovr": auc, "best_epoch": int(result.best_epoch) + 1,
                          "compile_s": timing.compile_s, "run_s": timing.run_s}, indent=2))
    else:
        print(f"\nheld-out test set ({len(test)} sequences):")
        print(metrics.format_classification_report(report))
        print(f"{'roc auc (ovr, macro)':>20} {auc:.3f}")
    return 0


def _cmd_datasets(args) -> int:
    from jaxlstm.datasets import DATASETS

    for name, (_, desc) in DATASETS.items():
        print(f"{name:<20} {desc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxlstm", description="Train LSTM sequence classifiers in JAX.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train one model and report per-class metrics on a held-out split",
                       description="Train one LSTM classifier on a dataset with a class-weighted loss and "
                                   "print per-class precision, recall and F1 on a held-out test split.")
    t.add_argument("--dataset", default="digits_imbalanced", help="dataset name (see `jaxlstm datasets`)")
    t.add_argument("--hidden", type=_hidden, default=(128,), help="LSTM sizes, e.g. 128 or 64,64 (default 128)")
    t.add_argument("--bidirectional", action="store_true", help="bidirectional LSTM layers")
    t.add_argument("--head", type=int, default=0, help="hidden ReLU dense layer size (0 = none)")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    t.add_argument("--l1", type=float, default=0.0, help="L1 penalty on kernels")
    t.add_argument("--l2", type=float, default=0.0, help="L2 penalty on kernels (Keras meaning)")
    t.add_argument("--weight-decay", type=float, default=0.0, help="decoupled (AdamW) weight decay")
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--class-weight", type=_class_weight, default=(1.0, "balanced"),
                   help="'balanced' (default), 'none', or an exponent in [0, 1]")
    t.add_argument("--normalize", choices=["standard", "minmax", "none"], default="standard")
    t.add_argument("--select", default="f1_macro", help="validation metric that picks the best epoch")
    t.add_argument("--test-size", type=float, default=0.25)
    t.add_argument("--val-size", type=float, default=0.15, help="share of the non-test rows for validation")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json", action="store_true", help="print the report as JSON")
    t.add_argument("--quiet", action="store_true", help="print only the report")
    t.set_defaults(func=_cmd_train)

    d = sub.add_parser("datasets", help="list the datasets that need no download")
    d.set_defaults(func=_cmd_datasets)
    return parser


def _enable_compilation_cache() -> None:
    """Reuse compiled programs across runs (JAX's persistent cache); the
    directory is ``$JAXLSTM_CACHE_DIR`` or ``~/.cache/jaxlstm/xla``, and
    ``JAXLSTM_CACHE_DIR=`` (empty) turns it off."""
    import os

    path = os.environ.get("JAXLSTM_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "jaxlstm", "xla"))
    if not path:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _enable_compilation_cache()
    try:
        return args.func(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
