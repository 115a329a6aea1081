"""The ``sklearn-losses`` command: which loss should I use for my data?

``sklearn-losses compare``
    Cross-validate a set of losses with one estimator family on a bundled
    dataset or a CSV file and print a ranked table (``--json`` for machine
    output, ``--plot`` for a figure, ``--tune`` to tune each loss).
``sklearn-losses list``
    The catalogue of losses and their declared properties.
``sklearn-losses plot LOSS [LOSS ...]``
    Loss and gradient shapes of the named losses.
``sklearn-losses precompile [--estimators ...] [--losses ...] [--jobs N]``
    Compile the kernels of the chosen estimators and losses into the kernel
    cache ahead of need (a fresh install's first fits then load them).

Losses are named as in the registry, with optional hyperparameters:
``huber:delta=0.5``, ``quantile:quantile=0.9``.
"""

import argparse
import csv
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _compare
from .losses import available_losses

__all__ = ["main"]


class _Progress:
    """A progress bar on stderr (tqdm when installed, a counter line otherwise)."""

    def __init__(self, enabled, unit="fits"):
        self.enabled, self.bar, self.unit = enabled, None, unit
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
                self.bar = self.tqdm(total=total, unit=self.unit, file=sys.stderr, leave=False)
            self.bar.set_description(name)
            self.bar.update(done - self.bar.n)
            if done >= total:
                self.bar.close()
        else:
            end = "\n" if done >= total else ""
            print(f"\r[{done}/{total}] {name:<30}", end=end, file=sys.stderr, flush=True)


#: Width the table keeps to (a common terminal); wider tables wrap their loss columns into blocks.
TABLE_WIDTH = 100


def _rows(results):
    """The table as strings: header cells and one row of cells per result (the CSV has the same columns)."""
    metric = results[0].metric
    keys = list(dict.fromkeys(k for r in results for k in r.loss_scores))
    head = ["rank", "loss", f"{metric} (mean ± std)", *[f"-{k}" for k in keys], "fit time", "tuned"]
    rows = []
    for rank, r in enumerate(results, 1):
        label = _compare.loss_label(r.loss, r.params)
        if r.error:
            rows.append([str(rank), label, f"failed: {r.error}", *["" for _ in keys], "", ""])
            continue
        rows.append([str(rank), label, f"{r.mean:.4f} ± {r.std:.4f}",
                     *[f"{-r.loss_scores[k]:.4f}" if k in r.loss_scores else "-" for k in keys],
                     f"{r.fit_time:.3f}s", ", ".join(f"{k}={_common(v)}" for k, v in r.tuned.items())])
    return head, rows


def _blocks(head, rows, width=TABLE_WIDTH):
    """Fixed columns (rank, loss, metric, fit time, tuned) and the loss columns, wrapped to ``width``."""
    n = len(head)
    fixed_left, losses, fixed_right = [0, 1, 2], list(range(3, n - 2)), [n - 2, n - 1]
    failed = {i for i, row in enumerate(rows) if row[2].startswith("failed:")}
    # a failure's message is printed unpadded: it does not widen the metric column
    sizes = [max([len(head[j])] + [len(row[j]) for i, row in enumerate(rows) if not (j == 2 and i in failed)])
             for j in range(n)]

    def render(columns):
        def cell(row, j, i):
            if i in failed and j == 2:
                return row[j]  # the error message, unpadded
            return row[j].rjust(sizes[j]) if j not in (1, n - 1) else row[j].ljust(sizes[j])
        lines = ["  ".join(head[j].rjust(sizes[j]) if j not in (1, n - 1) else head[j].ljust(sizes[j])
                           for j in columns).rstrip()]
        lines.append("-" * max(len(lines[0]), 10))
        lines += ["  ".join(cell(row, j, i) for j in columns).rstrip() for i, row in enumerate(rows)]
        return lines

    used = [j for j in fixed_right if any(row[j] for row in rows)]
    base = sum(sizes[j] + 2 for j in [0, 1])
    blocks, current = [], []
    first_width = sum(sizes[j] + 2 for j in fixed_left + used)
    for j in losses:
        budget = width - (first_width if not blocks else base)
        if current and sum(sizes[k] + 2 for k in current) + sizes[j] > budget:
            blocks.append(current)
            current = []
        current.append(j)
    if current or not blocks:
        blocks.append(current)
    lines = render(fixed_left + blocks[0] + used)
    for block in blocks[1:]:
        lines += [""] + render([0, 1] + block)
    return lines


def _table(results, data, family, tuned, folds):
    metric = results[0].metric
    lines = [
        f"{data.name}: {data.X.shape[0]} samples, {data.X.shape[1]} features, {data.task} "
        f"({family} estimator, {folds}-fold cross-validation"
        + (", tuned by inner 3-fold grid search" if tuned else "") + ")",
    ]
    if data.task == "regression":
        lines.append(f"targets are divided by their standard deviation ({data.target_scale:.4g}); losses and")
        lines.append("their parameters are in those units")
    lines += list(data.notes)
    head, rows = _rows(results)
    lines += [""] + _blocks(head, rows)
    lines += ["", "Columns '-loss' are each candidate loss evaluated on held-out folds (lower is better);",
              f"ranked by {metric} (greater is better). Fit times are means over the folds and include the",
              "one-off compilation of kernels that were not cached yet."]
    return "\n".join(lines)


def _write_csv(results, path):
    head, rows = _rows(results)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "loss", "metric", "mean", "std", "scores", *head[3:-2], "fit_time_s", "tuned",
                         "error"])
        for r, row in zip(results, rows):
            writer.writerow([row[0], row[1], r.metric, "" if r.error else f"{r.mean:.6g}",
                             "" if r.error else f"{r.std:.6g}", " ".join(f"{v:.6g}" for v in r.scores),
                             *row[3:-2], "" if r.error else f"{r.fit_time:.6g}", row[-1], r.error or ""])


def _check_output(path, option):
    """Refuse an output file that cannot be written, before any work is done."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"{option}: the directory {folder} does not exist.")
    if os.path.isdir(path):
        raise ValueError(f"{option}: {path} is a directory; give a file name.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option}: the directory {folder} is not writable.")


def _common(values):
    values, counts = np.unique(np.asarray(values, dtype=object).astype(str), return_counts=True)
    return values[np.argmax(counts)]


def _plot(results, data, path):
    from .plotting import check_matplotlib

    plt = check_matplotlib("--plot")
    ok = [r for r in results if not r.error]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [_compare.loss_label(r.loss, r.params) for r in ok]
    for k, r in enumerate(ok):  # every fold's score as a point (a few folds make no box), and their mean
        left.scatter(r.scores, np.full(len(r.scores), k), s=18, color="C0", alpha=0.7,
                     label="fold" if k == 0 else None)
        left.scatter([r.mean], [k], marker="|", s=300, color="C3", label="mean" if k == 0 else None)
    left.set_yticks(range(len(ok)))
    left.set_yticklabels(labels)
    left.invert_yaxis()
    left.set_xlabel(ok[0].metric if ok else "score")
    left.set_title(f"score per fold ({len(ok[0].scores) if ok else 0} folds, best first)")
    if ok:
        left.legend(fontsize="small")
    if data.task == "regression":
        for r in ok[:3]:
            right.scatter(r.out_of_fold, data.y - r.out_of_fold, s=8, alpha=0.5,
                          label=_compare.loss_label(r.loss, r.params))
        right.axhline(0.0, color="0.5", linewidth=0.8)
        right.set_xlabel("out-of-fold prediction (target units / std)")
        right.set_ylabel("residual")
        right.set_title("residuals of the three best losses")
    else:
        _reliability(right, ok, data)
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _reliability(ax, results, data):
    """Reliability diagram: mean predicted probability against observed frequency in 10 equal-width bins.

    Binary: the probability of the second class and how often it is the
    label; more classes: the top-label probability and how often the top
    label is right. Marker areas grow with the number of samples in the bin.
    """
    binary = np.unique(data.y).shape[0] == 2
    edges = np.linspace(0.0, 1.0, 11)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.8, label="perfectly calibrated")
    for r in results:
        confidence = r.positive if binary else r.out_of_fold
        if confidence is None or np.all(np.isnan(confidence)):
            continue
        outcome = (data.y == np.unique(data.y)[1]) if binary else (r.predicted == data.y)
        which = np.clip(np.digitize(confidence, edges[1:-1]), 0, 9)
        used = [b for b in range(10) if np.any(which == b)]
        counts = np.array([np.sum(which == b) for b in used])
        ax.plot([confidence[which == b].mean() for b in used], [outcome[which == b].mean() for b in used],
                marker="o", markersize=3, label=_compare.loss_label(r.loss, r.params))
        ax.scatter([confidence[which == b].mean() for b in used], [outcome[which == b].mean() for b in used],
                   s=10 + 200 * counts / counts.sum(), alpha=0.4)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    what = "second class" if binary else "predicted class"
    ax.set_xlabel(f"mean predicted probability of the {what} (10 bins)")
    ax.set_ylabel("observed frequency" if binary else "fraction correct")
    ax.set_title("reliability diagram (losses with probabilities)")


def _compare_command(args):
    for path, option in ((args.plot, "--plot"), (args.csv_out, "--csv-out")):
        if path:
            _check_output(path, option)
    if args.plot:
        from .plotting import check_matplotlib

        check_matplotlib("--plot")
    data = _compare.load_data(args.dataset, args.csv, args.target, args.task, missing=args.missing,
                              class_order=args.class_order)
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
    if args.csv_out:
        _write_csv(results, args.csv_out)
        if not args.json:
            print(f"table written to {args.csv_out}")
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

    _check_output(args.output, "--output")
    plt = check_matplotlib("sklearn-losses plot")
    losses = [get_loss(name, **params) for name, params in map(_compare.parse_loss, args.losses)]
    display = LossShapeDisplay.from_losses(losses, x_range=(args.low, args.high))
    if args.logy:
        display.ax_[0].set_yscale("symlog", linthresh=1e-3)
    if args.ylim is not None:
        low, high = args.ylim
        if not low < high:
            raise ValueError(f"--ylim: LOW must be below HIGH; got {low} {high}.")
        display.ax_[0].set_ylim(low, high)
    display.figure_.tight_layout()
    display.figure_.savefig(args.output)
    plt.close(display.figure_)
    print(f"figure saved to {args.output}")
    return 0


def _precompile_command(args):
    from ._precompile import cache_locations, precompile

    start = time.perf_counter()
    progress = _Progress(not args.quiet, unit="pairs")
    losses = args.losses[0] if args.losses in (["default"], ["all"]) else args.losses
    results = precompile(args.estimators, losses, jobs=args.jobs, threaded=not args.no_threaded,
                         weighted=not args.no_weighted, progress=progress)
    skipped = [r for r in results if r["skipped"]]
    done = len(results) - len(skipped)
    print(f"compiled the kernels of {done} estimator-loss pairs in {time.perf_counter() - start:.1f} s "
          f"({args.jobs} process{'es' if args.jobs > 1 else ''}) into {cache_locations()}")
    if skipped and not args.quiet:
        print(f"skipped {len(skipped)} pairs that the estimators do not take:")
        for r in skipped:
            print(f"  {r['estimator']} {r['loss']}: {r['skipped']}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="sklearn-losses", description="Which loss should I use for my data?")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="cross-validate a set of losses on a dataset")
    source = compare.add_mutually_exclusive_group()
    source.add_argument("--dataset", help=f"a dataset bundled with scikit-learn: {', '.join(_compare.DATASETS)} "
                                          "(default: diabetes; breast_cancer with --task classification; "
                                          "copenhagen_housing, an ordinal target, with --task ordinal)")
    source.add_argument("--csv", metavar="PATH", help="a CSV file with a header row (non-numeric feature columns "
                                                      "are one-hot encoded)")
    compare.add_argument("--target", metavar="COLUMN", help="the target column of --csv")
    compare.add_argument("--task", choices=("auto", "regression", "classification", "ordinal"), default="auto",
                         help="kind of target (ordinal: ordered classes; see --class-order)")
    compare.add_argument("--class-order", metavar="A,B,C", help="ordinal targets: the classes from lowest to "
                                                                "highest, comma-separated (default: sorted labels)")
    compare.add_argument("--estimator", choices=("linear", "svm", "mlp", "boosting"), default="linear")
    compare.add_argument("--losses", nargs="+", metavar="LOSS",
                         help="losses to compare, e.g. huber:delta=0.5 quantile:quantile=0.9 (default: a "
                              "sensible set for the task)")
    compare.add_argument("--metric", help="ranking metric: a scikit-learn scorer name or a catalogue loss such as "
                                          "quantile:quantile=0.9 (default: r2 or accuracy)")
    compare.add_argument("--missing", choices=("refuse", "impute"), default="refuse",
                         help="empty cells of --csv: refuse them (default) or impute them within each fit (median, "
                              "most frequent category)")
    compare.add_argument("--csv-out", metavar="PATH", help="also write the results table as CSV")
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
    plot.add_argument("--low", type=float, default=-3.0, help="left end of the horizontal axis")
    plot.add_argument("--high", type=float, default=3.0, help="right end of the horizontal axis")
    plot.add_argument("--ylim", type=float, nargs=2, metavar=("LOW", "HIGH"), help="limits of the loss axis")
    plot.add_argument("--logy", action="store_true", help="a logarithmic loss axis (symmetric log near 0)")
    pre = commands.add_parser("precompile", help="compile kernels into the cache ahead of need")
    pre.add_argument("--estimators", nargs="+", choices=("linear", "svm", "mlp", "boosting"), default=None,
                     help="estimator families (default: all)")
    pre.add_argument("--losses", nargs="+", metavar="LOSS", default=None,
                     help="registered loss names, 'default' (the estimators' defaults and compare's candidates; "
                          "the default) or 'all'")
    pre.add_argument("--jobs", type=int, default=1, help="processes compiling in parallel (default: 1)")
    pre.add_argument("--no-threaded", action="store_true", help="skip the threaded kernels of large arrays")
    pre.add_argument("--no-weighted", action="store_true", help="skip the kernels with sample weights")
    pre.add_argument("--quiet", action="store_true", help="no progress bar or list of skipped pairs")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (2 for a usage error, as argparse)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "compare" and args.cv < 2:
        parser.error("--cv must be at least 2")
    if args.command == "precompile" and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    command = {"compare": _compare_command, "list": _list_command, "plot": _plot_command,
               "precompile": _precompile_command}[args.command]
    try:
        return command(args)
    except (ValueError, TypeError, ImportError, OSError) as error:
        print(f"sklearn-losses {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
