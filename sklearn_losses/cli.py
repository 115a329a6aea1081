"""The ``sklearn-losses`` command: which loss should I use for my data?

``sklearn-losses compare``
    Cross-validate a set of losses with one estimator family on a bundled
    dataset or a CSV file and print a ranked table (``--json`` for machine
    output, ``--plot`` for a figure, ``--tune`` to tune each loss).
``sklearn-losses list``
    The catalogue of losses and their declared properties.
``sklearn-losses plot LOSS [LOSS ...]``
    Loss and gradient shapes of the named losses.

Losses are named as in the registry, with optional hyperparameters:
``huber:delta=0.5``, ``quantile:quantile=0.9``.
"""

import argparse
import json
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _compare
from .losses import available_losses

__all__ = ["main"]


class _Progress:
    """A progress bar on stderr (tqdm when installed, a counter line otherwise)."""

    def __init__(self, enabled):
        self.enabled, self.bar = enabled, None
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self.tqdm = tqdm

    def __call__(self, done, total, name):
        if not self.enabled:
            return
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=total, unit="fits", file=sys.stderr, leave=False)
            self.bar.set_description(name)
            self.bar.update(done - self.bar.n)
            if done >= total:
                self.bar.close()
        else:
            end = "\n" if done >= total else ""
            print(f"\r[{done}/{total}] {name:<30}", end=end, file=sys.stderr, flush=True)


def _table(results, data, family, tuned, folds):
    metric = results[0].metric
    keys = list(dict.fromkeys(k for r in results for k in r.loss_scores))
    widths = [max(10, len(k) + 1) for k in keys]
    head = f"{'rank':>4}  {'loss':<28} {metric + ' (mean ± std)':>24}"
    head += "".join(f" {'-' + k:>{w}}" for k, w in zip(keys, widths)) + f" {'fit time':>9}"
    lines = [
        f"{data.name}: {data.X.shape[0]} samples, {data.X.shape[1]} features, {data.task} "
        f"({family} estimator, {folds}-fold cross-validation"
        + (", tuned by inner 3-fold grid search" if tuned else "") + ")",
    ]
    if data.task == "regression":
        lines.append(f"targets are divided by their standard deviation ({data.target_scale:.4g}); losses and "
                     "their parameters are in those units")
    lines += ["", head, "-" * len(head)]
    for rank, r in enumerate(results, 1):
        label = _compare.loss_label(r.loss, r.params)
        if r.error:
            lines.append(f"{rank:>4}  {label:<28} failed: {r.error}")
            continue
        row = f"{rank:>4}  {label:<28} {f'{r.mean:.4f} ± {r.std:.4f}':>24}"
        row += "".join(f" {-r.loss_scores[k]:>{w}.4f}" if k in r.loss_scores else f" {'-':>{w}}"
                       for k, w in zip(keys, widths))
        row += f" {r.fit_time:>8.3f}s"
        if r.tuned:
            row += "  tuned: " + ", ".join(f"{k}={_common(v)}" for k, v in r.tuned.items())
        lines.append(row)
    lines += ["", f"Columns '-loss' are each candidate loss evaluated on held-out folds (lower is better); "
              f"ranked by {metric} (greater is better).",
              "Fit times are means over the folds and include the one-off compilation of kernels that were "
              "not cached yet."]
    return "\n".join(lines)


def _common(values):
    values, counts = np.unique(np.asarray(values, dtype=object).astype(str), return_counts=True)
    return values[np.argmax(counts)]


def _plot(results, data, path):
    from .plotting import check_matplotlib

    plt = check_matplotlib("--plot")
    ok = [r for r in results if not r.error]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.boxplot([r.scores for r in ok], vert=False, tick_labels=[_compare.loss_label(r.loss, r.params) for r in ok])
    left.invert_yaxis()
    left.set_xlabel(ok[0].metric if ok else "score")
    left.set_title("score per fold (best first)")
    if data.task == "regression":
        for r in ok[:3]:
            right.scatter(r.out_of_fold, data.y - r.out_of_fold, s=8, alpha=0.5,
                          label=_compare.loss_label(r.loss, r.params))
        right.axhline(0.0, color="0.5", linewidth=0.8)
        right.set_xlabel("out-of-fold prediction (target units / std)")
        right.set_ylabel("residual")
        right.set_title("residuals of the three best losses")
    else:
        right.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.8)
        for r in ok:
            if np.all(np.isnan(r.out_of_fold)):
                continue
            confidence, correct = r.out_of_fold, (r.predicted == data.y)
            edges = np.unique(np.quantile(confidence, np.linspace(0.0, 1.0, 9)))  # bins of equal counts
            which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, len(edges) - 2)
            used = [b for b in range(len(edges) - 1) if np.any(which == b)]
            right.plot([confidence[which == b].mean() for b in used], [correct[which == b].mean() for b in used],
                       marker="o", label=_compare.loss_label(r.loss, r.params))
        right.set_xlabel("predicted probability of the predicted class")
        right.set_ylabel("fraction correct")
        right.set_title("calibration (losses with probabilities)")
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _compare_command(args):
    data = _compare.load_data(args.dataset, args.csv, args.target, args.task)
    losses = [_compare.parse_loss(text) for text in args.losses] if args.losses else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        results = _compare.compare(data, losses, estimator=args.estimator, metric=args.metric, cv=args.cv,
                                   tune=args.tune, random_state=args.random_state,
                                   progress=_Progress(not args.quiet and not args.json))
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    if args.json:
        print(json.dumps({"dataset": data.name, "task": data.task, "n_samples": int(data.X.shape[0]),
                          "n_features": int(data.X.shape[1]), "estimator": args.estimator,
                          "target_scale": data.target_scale, "unconverged_fits": unconverged,
                          "results": [r.as_dict() for r in results]}, indent=2, default=_json_default))
    else:
        print(_table(results, data, args.estimator, args.tune, args.cv))
        if unconverged:
            print(f"{unconverged} fits stopped at max_iter before converging (scores are still reported).")
    if args.plot:
        _plot(results, data, args.plot)
        if not args.json:
            print(f"figure saved to {args.plot}")
    return 0 if any(not r.error for r in results) else 1


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _list_command(args):
    rows = []
    for info in available_losses(task=args.task):
        p = info.properties
        params = ", ".join(f"{k}={v!r}" for k, v in info.cls().get_params().items()) or "-"
        rows.append((info.name, info.task, info.cls().link.name, str(p.get("convex")), str(p.get("differentiable")),
                     str(p.get("robust")), params))
    if not rows:
        raise ValueError(f"--task: no loss has task {args.task!r}.")
    head = ("loss", "task", "link", "convex", "differentiable", "robust", "hyperparameters")
    widths = [max(len(str(row[j])) for row in rows + [head]) for j in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths)).rstrip())
    return 0


def _plot_command(args):
    from .losses import get_loss
    from .plotting import LossShapeDisplay, check_matplotlib

    plt = check_matplotlib("sklearn-losses plot")
    losses = [get_loss(name, **params) for name, params in map(_compare.parse_loss, args.losses)]
    display = LossShapeDisplay.from_losses(losses, x_range=(args.low, args.high))
    display.figure_.tight_layout()
    display.figure_.savefig(args.output)
    plt.close(display.figure_)
    print(f"figure saved to {args.output}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="sklearn-losses", description="Which loss should I use for my data?")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="cross-validate a set of losses on a dataset")
    source = compare.add_mutually_exclusive_group()
    source.add_argument("--dataset", help=f"a dataset bundled with scikit-learn: {', '.join(_compare.DATASETS)} "
                                          "(default: diabetes, or breast_cancer with --task classification)")
    source.add_argument("--csv", metavar="PATH", help="a CSV file with a header row (numeric features)")
    compare.add_argument("--target", metavar="COLUMN", help="the target column of --csv")
    compare.add_argument("--task", choices=("auto", "regression", "classification"), default="auto")
    compare.add_argument("--estimator", choices=("linear", "svm", "mlp"), default="linear")
    compare.add_argument("--losses", nargs="+", metavar="LOSS",
                         help="losses to compare, e.g. huber:delta=0.5 quantile:quantile=0.9 (default: a "
                              "sensible set for the task)")
    compare.add_argument("--metric", help="a scikit-learn scorer name (default: r2 or accuracy)")
    compare.add_argument("--cv", type=int, default=5, help="number of folds (default: 5)")
    compare.add_argument("--tune", action="store_true", help="tune each loss's hyperparameters (inner grid search)")
    compare.add_argument("--plot", metavar="PNG", help="save a figure: scores per loss, residuals or calibration")
    compare.add_argument("--json", action="store_true", help="print the results as JSON")
    compare.add_argument("--random-state", type=int, default=0)
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    listing = commands.add_parser("list", help="the catalogue of losses and their properties")
    listing.add_argument("--task", help="only losses of this task (regression, binary, multiclass, ...)")
    plot = commands.add_parser("plot", help="draw loss and gradient shapes")
    plot.add_argument("losses", nargs="+", metavar="LOSS")
    plot.add_argument("--output", "-o", default="loss_shapes.png", help="PNG file (default: loss_shapes.png)")
    plot.add_argument("--low", type=float, default=-3.0)
    plot.add_argument("--high", type=float, default=3.0)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (2 for a usage error, as argparse)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "compare" and args.cv < 2:
        parser.error("--cv must be at least 2")
    command = {"compare": _compare_command, "list": _list_command, "plot": _plot_command}[args.command]
    try:
        return command(args)
    except (ValueError, TypeError, ImportError) as error:
        print(f"sklearn-losses {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
