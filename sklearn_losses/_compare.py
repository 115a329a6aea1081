"""The engine of ``sklearn-losses compare``: data, candidate losses, cross-validation, tuning.

Kept apart from the command line (:mod:`sklearn_losses.cli`) so that it is
usable and testable from Python: :func:`load_data` returns a
:class:`Dataset`, :func:`compare` returns one :class:`Result` per loss.
"""

import csv
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ._targets import loss_kind
from .datasets import load_copenhagen_housing
from .losses import get_loss
from .losses._base import LABEL_TASKS
from .metrics import make_loss_scorer, make_ordinal_scorer

__all__ = ["DATASETS", "Dataset", "Result", "check_task", "compare", "default_losses", "load_data", "loss_label",
           "parse_loss", "resolve_metric"]

#: Bundled scikit-learn datasets, by name: loader and task.
DATASETS = {
    "diabetes": (datasets.load_diabetes, "regression"),
    "breast_cancer": (datasets.load_breast_cancer, "classification"),
    "iris": (datasets.load_iris, "classification"),
    "wine": (datasets.load_wine, "classification"),
    "digits": (datasets.load_digits, "classification"),
    "copenhagen_housing": (lambda: load_copenhagen_housing(expand=True), "ordinal"),
}

#: Candidate losses when none are named, by kind of target.
DEFAULT_LOSSES = {
    "regression": ["squared_error", "absolute_error", "huber", "pseudo_huber", "log_cosh",
                   "epsilon_insensitive"],
    "binary": ["log_loss", "hinge", "squared_hinge", "modified_huber", "exponential", "focal"],
    "multiclass": ["cross_entropy", "multiclass_hinge", "multiclass_focal", "log_loss", "hinge"],
    "ordinal": ["cumulative_logit", "cumulative_probit", "all_threshold", "immediate_threshold", "coral", "corn"],
}

#: Ranking metrics of ordinal targets besides scikit-learn's scorers (on the ranks of the classes).
ORDINAL_METRICS = {"ordinal_mae": "mae", "qwk": "qwk"}

#: Small grids for ``--tune``. Regression targets are divided by their
#: standard deviation first, so scale parameters are in those units.
TUNING_GRIDS = {
    "huber": {"delta": [0.25, 0.5, 1.0, 2.0]},
    "smooth_l1": {"beta": [0.25, 0.5, 1.0, 2.0]},
    "pseudo_huber": {"delta": [0.25, 0.5, 1.0, 2.0]},
    "quantile": {"quantile": [0.1, 0.25, 0.5, 0.75, 0.9]},
    "expectile": {"expectile": [0.1, 0.25, 0.5, 0.75, 0.9]},
    "linex": {"a": [-1.0, -0.5, 0.5, 1.0]},
    "epsilon_insensitive": {"epsilon": [0.05, 0.1, 0.25, 0.5]},
    "squared_epsilon_insensitive": {"epsilon": [0.05, 0.1, 0.25, 0.5]},
    "general_robust": {"alpha": [-2.0, 0.0, 1.0, 2.0], "scale": [0.5, 1.0]},
    "tweedie": {"power": [1.2, 1.5, 1.8]},
    "log_loss": {"pos_weight": [0.5, 1.0, 2.0]},
    "hinge": {"margin": [0.5, 1.0, 2.0]},
    "focal": {"gamma": [0.5, 1.0, 2.0, 4.0]},
    "multiclass_focal": {"gamma": [0.5, 1.0, 2.0, 4.0]},
    "cross_entropy": {"label_smoothing": [0.0, 0.05, 0.1]},
    "multiclass_hinge": {"kind": ["crammer_singer", "weston_watkins"]},
    "cumulative_link": {"distribution": ["logit", "probit", "cloglog"]},
    "all_threshold": {"threshold_weights": ["uniform", "squared"]},
}


@dataclass
class Dataset:
    """Features, target and what is known about them."""

    X: np.ndarray
    y: np.ndarray
    name: str
    task: str  # "regression", "binary", "multiclass" or "ordinal"
    feature_names: list = field(default_factory=list)
    target_scale: float = 1.0  # regression targets are divided by it
    categorical: list = field(default_factory=list)  # indices of categorical columns (one-hot encoded)
    impute: bool = False  # missing feature values (NaN, or None in categorical columns) are imputed
    notes: list = field(default_factory=list)  # what was done to the data, for the output
    classes: list = None  # ordinal targets: the classes from lowest to highest


@dataclass
class Result:
    """Cross-validated scores of one loss."""

    loss: str
    params: dict
    metric: str
    scores: list
    loss_scores: dict
    fit_time: float
    tuned: dict = field(default_factory=dict)
    error: str = None
    #: out-of-fold predictions (regression) or top-class probabilities
    #: (classifiers with predict_proba), NaN where unavailable
    out_of_fold: np.ndarray = None
    #: out-of-fold predicted labels (classification)
    predicted: np.ndarray = None
    #: out-of-fold probability of the second class (binary classifiers with predict_proba)
    positive: np.ndarray = None

    @property
    def mean(self):
        return float(np.mean(self.scores))

    @property
    def std(self):
        return float(np.std(self.scores))

    def as_dict(self):
        return {"loss": self.loss, "params": self.params, "tuned": self.tuned, "metric": self.metric,
                "mean": self.mean, "std": self.std, "scores": list(map(float, self.scores)),
                "loss_scores": self.loss_scores, "fit_time": self.fit_time, "error": self.error}


def _task_of(y, task):
    if task in ("regression", "ordinal"):
        return task
    return "binary" if np.unique(y).shape[0] == 2 else "multiclass"


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path, target, missing):
    """Features (float, or object with categorical columns), raw target strings, names, categorical indices
    and the number of empty feature cells."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise ValueError(f"--csv: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--csv: cannot read {path}: {error}") from None
    if len(rows) < 2:
        raise ValueError(f"--csv: {path} needs a header row and at least one data row.")
    header, body = rows[0], [row for row in rows[1:] if row]
    if target not in header:
        raise ValueError(f"--target: no column {target!r} in {path}; the columns are {header}.")
    if any(len(row) != len(header) for row in body):
        raise ValueError(f"--csv: {path} has rows with a different number of fields than its header.")
    column = header.index(target)
    labels = np.array([row[column].strip() for row in body])
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise ValueError(f"--target: column {target!r} has {empty.size} missing values (empty cells, first in data "
                         f"row {empty[0] + 1}); drop those rows first.")
    names, columns, categorical, missing_cells = [], [], [], 0
    for j in (j for j in range(len(header)) if j != column):
        cells = [row[j].strip() for row in body]
        gaps = [i for i, cell in enumerate(cells) if cell == ""]
        if gaps and missing == "refuse":
            raise ValueError(f"--csv: feature column {header[j]!r} has {len(gaps)} missing values (empty cells, "
                             f"first in data row {gaps[0] + 1}); pass --missing impute to fill them (median, or "
                             "the most frequent category), or fill them first.")
        missing_cells += len(gaps)
        present = [cell for cell in cells if cell != ""]
        if all(_is_number(cell) for cell in present):
            values = np.array([float(cell) if cell != "" else np.nan for cell in cells])
            if not np.all(np.isfinite(values) | np.isnan(values)):
                raise ValueError(f"--csv: feature column {header[j]!r} has infinite values.")
            columns.append(values.astype(object))
        else:
            categorical.append(len(names))
            columns.append(np.array([cell if cell != "" else None for cell in cells], dtype=object))
        names.append(header[j])
    X = np.column_stack(columns) if columns else np.empty((len(body), 0), dtype=object)
    if not categorical:
        X = X.astype(float)
    return X, labels, names, categorical, missing_cells


def load_data(dataset=None, csv_path=None, target=None, task="auto", missing="refuse", class_order=None):
    """Load a bundled dataset or a CSV file; returns a :class:`Dataset`.

    ``task`` is ``"auto"`` (classification for a non-numeric target, or an
    integer target with at most 20 distinct values; regression otherwise;
    the ordinal ``copenhagen_housing`` is ordinal), ``"regression"``,
    ``"classification"`` or ``"ordinal"`` (ordered classes: ``class_order``
    lists them from lowest to highest, default the numeric order of numeric
    labels, else their sorted order). CSV columns that are not
    numeric are categorical (one-hot encoded in the models' pipelines); empty
    cells are missing values, refused (``missing="refuse"``) or imputed in
    the pipelines (``"impute"``: median, most frequent category).
    """
    if missing not in ("refuse", "impute"):
        raise ValueError(f"--missing: choose refuse or impute; got {missing!r}.")
    categorical, notes = [], []
    if csv_path is not None:
        if target is None:
            raise ValueError("--csv needs --target COLUMN.")
        X, labels, names, categorical, gaps = _read_csv(csv_path, target, missing)
        numeric = all(_is_number(label) for label in labels)
        y = labels.astype(float) if numeric else None
        name = str(csv_path)
        if y is not None and not np.all(np.isfinite(y)):
            bad = np.flatnonzero(~np.isfinite(y))
            raise ValueError(f"--target: column {target!r} has {bad.size} NaN or infinite values (first in data "
                             f"row {bad[0] + 1}); drop those rows first.")
        if task == "regression" and y is None:
            raise ValueError(f"--target: column {target!r} is not numeric; regression needs a numeric target "
                             "(use --task classification for labels).")
        if task == "auto":
            discrete = y is not None and np.all(y == np.round(y)) and np.unique(y).shape[0] <= 20
            task = "classification" if y is None or discrete else "regression"
        if task in ("classification", "ordinal"):
            y = labels if y is None else y
        if categorical:
            notes.append("categorical columns one-hot encoded: " + ", ".join(names[j] for j in categorical))
        if gaps:
            notes.append(f"{gaps} missing feature values imputed (median, most frequent category) within each fit")
    else:
        dataset = dataset or {"classification": "breast_cancer", "ordinal": "copenhagen_housing"}.get(task, "diabetes")
        if dataset not in DATASETS:
            raise ValueError(f"--dataset: unknown dataset {dataset!r}; choose from {sorted(DATASETS)}.")
        loader, native = DATASETS[dataset]
        if task == "ordinal" and native == "classification":  # labels taken as ordered classes
            native = "ordinal"
        if task not in ("auto", native):
            raise ValueError(f"--dataset {dataset} is a {native} dataset; --task {task} does not apply.")
        bunch = loader()
        X, y, names, name, task = bunch.data, bunch.target, list(bunch.feature_names), dataset, native
        if X.dtype.kind in "OUS":  # categorical features (the ordinal dataset)
            categorical = list(range(X.shape[1]))
            X = X.astype(object)
            notes.append("categorical columns one-hot encoded: " + ", ".join(names))
            class_order = class_order if class_order is not None else getattr(bunch, "target_order", None)
        elif not np.all(np.isfinite(X)):
            raise ValueError(f"{name}: the features contain missing or infinite values.")
    kind = _task_of(y, task)
    scale = 1.0
    classes = None
    if class_order is not None and kind != "ordinal":
        raise ValueError("--class-order applies to ordinal targets only (--task ordinal).")
    if kind == "ordinal":
        classes = _class_order(y, class_order)
    if kind == "regression":
        y = np.asarray(y, dtype=float)
        scale = float(np.std(y)) or 1.0
        y = y / scale
    elif np.unique(y).shape[0] < 2:
        raise ValueError(f"{name}: the target has a single class.")
    return Dataset(X, y, name, kind, names, scale, categorical, missing == "impute", notes, classes)


def _class_order(y, class_order):
    """The ordinal classes from lowest to highest: as given (labels compared as text), else the labels' order."""
    labels = np.unique(y)
    if class_order is None:
        return labels.tolist()
    order = [label.strip() for label in class_order] if not isinstance(class_order, str) else \
        [label.strip() for label in class_order.split(",")]
    as_text = {str(label) if not isinstance(label, float) or not label.is_integer() else str(int(label)): label
               for label in labels.tolist()}
    if len(set(order)) != len(order):
        raise ValueError(f"--class-order: a class is listed twice: {order}.")
    missing = sorted(set(as_text) - set(order))
    if missing:
        raise ValueError(f"--class-order: the target has labels not in the order: {missing}; list every class, "
                         "lowest first.")
    return [as_text.get(label, label) for label in order]


def parse_loss(text):
    """``"huber"`` or ``"huber:delta=0.5,..."`` to ``(name, params)``; checks the loss exists."""
    name, _, rest = text.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        key, equal, value = item.partition("=")
        if not equal:
            raise ValueError(f"loss {text!r}: parameters are written name:param=value,param=value.")
        try:
            params[key] = float(value)
        except ValueError:
            params[key] = value
    get_loss(name, **params).kernel_arguments()  # unknown names and bad parameters raise here
    return name, params


def loss_label(name, params):
    """The inverse of :func:`parse_loss`: ``"huber:delta=0.5"``."""
    return name + (":" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in params.items()) if params else "")


def _scores(loss, task):
    """Whether ``loss`` can score predictions for targets of ``task`` (a binary loss cannot score 3 classes)."""
    if task in ("regression", "ordinal"):
        return loss.task == task
    if loss.task == "overlap":  # a loss of 0/1 labels, as a binary one
        return task == "binary"
    return loss.task in (task, "distribution") or (task == "binary" and loss.task == "multiclass")


def _trains(loss, task):
    """Whether an estimator can train on ``task`` with ``loss`` (binary and overlap losses also one-vs-rest)."""
    return _scores(loss, task) or (task == "multiclass" and loss.task in LABEL_TASKS)


def check_task(loss, task, where):
    """Refuse a loss of another task than the data's, naming it (a usage error, not a failed fit)."""
    if not _trains(loss, task):
        kind = task if task in ("regression", "ordinal") else "classification"
        raise ValueError(f"{where}: {type(loss).__name__} is {loss_kind(loss)}; the data are a {kind} problem.")


def resolve_metric(metric, task):
    """``(label, scorer)`` of ``--metric``: a scikit-learn scorer name or a catalogue loss (``name:param=value``).

    A loss ranks by minus its held-out mean (greater is better), labelled ``-name``.
    """
    if metric is None:
        metric = {"regression": "r2", "ordinal": "ordinal_mae"}.get(task, "accuracy")
    if metric in ORDINAL_METRICS:
        if task != "ordinal":
            raise ValueError(f"--metric {metric}: an ordinal metric needs ordinal targets (--task ordinal).")
        return ("-" if metric == "ordinal_mae" else "") + metric, make_ordinal_scorer(ORDINAL_METRICS[metric])
    try:
        return metric, get_scorer(metric)
    except ValueError:
        pass
    try:
        name, params = parse_loss(metric)
    except (ValueError, TypeError):
        raise ValueError(f"--metric: {metric!r} is neither a scikit-learn scorer name (see "
                         "sklearn.metrics.get_scorer_names()) nor a loss of the catalogue (sklearn-losses list)."
                         ) from None
    loss = get_loss(name, **params)
    check_task(loss, task, f"--metric {metric}")
    if not _scores(loss, task):
        raise ValueError(f"--metric {metric}: a binary loss cannot score {task} predictions.")
    return f"-{loss_label(name, params)}", make_loss_scorer(loss)


def default_losses(task):
    """The candidate losses compared when none are named."""
    return [(name, {}) for name in DEFAULT_LOSSES[task]]


def _estimator(family, loss, data, random_state):
    task = data.task
    if task == "ordinal":
        return make_pipeline(_preprocessor(data), _ordinal_estimator(family, loss, data, random_state))
    if family == "linear":
        from .linear_model import LinearClassifier, LinearRegressor

        cls = LinearRegressor if task == "regression" else LinearClassifier
        model = cls(loss)
    elif family == "svm":
        from .svm import SVMClassifier, SVMRegressor

        model = SVMRegressor(loss) if task == "regression" else SVMClassifier(loss, random_state=random_state)
    elif family == "mlp":
        from .neural_network import MLPClassifier, MLPRegressor

        cls = MLPRegressor if task == "regression" else MLPClassifier
        model = cls(loss, hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                    random_state=random_state)
    elif family == "boosting":
        from .ensemble import GradientBoostingClassifier, GradientBoostingRegressor

        cls = GradientBoostingRegressor if task == "regression" else GradientBoostingClassifier
        # trees need no scaling and take missing values and category codes natively (the codes come last)
        n_numeric = data.X.shape[1] - len(data.categorical)
        model = cls(loss, categorical_features=list(range(n_numeric, data.X.shape[1])) or None,
                    random_state=random_state)
        return make_pipeline(_tree_preprocessor(data), model)
    else:
        raise ValueError(f"--estimator: unknown family {family!r}; choose linear, svm, mlp or boosting.")
    return make_pipeline(_preprocessor(data), model)


def _tree_preprocessor(data):
    """Numeric columns as they are (NaN included); categorical ones as integer codes, unknown or missing: -1."""
    if not data.categorical:
        return "passthrough"
    numeric = [j for j in range(data.X.shape[1]) if j not in data.categorical]
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    return ColumnTransformer([("numeric", "passthrough", numeric), ("categorical", codes, data.categorical)])


def _ordinal_estimator(family, loss, data, random_state):
    if family == "linear":
        from .linear_model import OrdinalClassifier

        return OrdinalClassifier(loss, classes=data.classes)
    if family == "mlp":
        from .neural_network import MLPOrdinalClassifier

        return MLPOrdinalClassifier(loss, hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                                    classes=data.classes, random_state=random_state)
    raise ValueError(f"--estimator {family}: ordinal targets are fitted by the linear and mlp estimators.")


def _preprocessor(data):
    """Scaling (and imputation, one-hot encoding) fitted inside each fold, so no fold sees another's data."""
    numeric = [j for j in range(data.X.shape[1]) if j not in data.categorical]
    scale = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()) if data.impute else StandardScaler()
    if not data.categorical:
        return scale
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if data.impute:
        encode = make_pipeline(SimpleImputer(strategy="most_frequent", missing_values=None), encode)
    return ColumnTransformer([("numeric", scale, numeric), ("categorical", encode, data.categorical)])


def compare(data, losses=None, *, estimator="linear", metric=None, cv=5, tune=False, random_state=0,
            progress=None):
    """Cross-validate ``estimator`` with each of ``losses`` on ``data``; returns results, best first.

    Each result holds the per-fold ``metric`` (a scikit-learn scorer name;
    default ``r2`` for regression, ``accuracy`` for classification), the mean
    of every candidate loss of the same task evaluated as a scorer (minus the
    mean loss: greater is better), and the mean fit time. With ``tune``, each
    loss's hyperparameters are chosen by an inner 3-fold grid search.
    ``progress`` is called with ``(done, total, label)`` after each fit.
    """
    losses = default_losses(data.task) if losses is None else losses
    for name, params in losses:
        check_task(get_loss(name, **params), data.task, f"--losses {loss_label(name, params)}")
    metric, scorer = resolve_metric(metric, data.task)
    splitter = (KFold if data.task == "regression" else StratifiedKFold)(cv, shuffle=True,
                                                                        random_state=random_state)
    scorers = {}
    for name, params in losses:
        loss = get_loss(name, **params)
        if _scores(loss, data.task):
            scorers[loss_label(name, params)] = make_loss_scorer(loss)
    folds = list(splitter.split(data.X, data.y))
    total = len(losses) * len(folds)
    done = [0]

    def step(name):
        done[0] += 1
        if progress is not None:
            progress(done[0], total, name)

    results = []
    for name, params in losses:
        model = _estimator(estimator, get_loss(name, **params), data, random_state)
        grid = {f"{model.steps[-1][0]}__loss__{key}": values
                for key, values in TUNING_GRIDS.get(name, {}).items() if key not in params} if tune else {}
        start = done[0]
        try:
            results.append(_cross_validate(data, name, params, model, grid, folds, metric, scorer, scorers,
                                           step))
        except Exception as error:  # one loss failing must not hide the others' results
            results.append(Result(name, params, metric, [np.nan], {}, np.nan,
                                  error=f"{type(error).__name__}: {error}"))
            for _ in range(len(folds) - (done[0] - start)):
                step(name)
    return sorted(results, key=lambda r: -r.mean if np.isfinite(r.mean) else np.inf)


def _cross_validate(data, name, params, model, grid, folds, metric, scorer, scorers, step):
    n = data.y.shape[0]
    scores, loss_scores, seconds, chosen = [], {key: [] for key in scorers}, [], []
    out_of_fold = np.full(n, np.nan)
    positive = np.full(n, np.nan)
    predicted = np.empty(n, dtype=data.y.dtype) if data.task != "regression" else None
    for train, test in folds:
        fitted = GridSearchCV(clone(model), grid, cv=3, scoring=scorer) if grid else clone(model)
        start = time.perf_counter()
        fitted.fit(data.X[train], data.y[train])
        seconds.append(time.perf_counter() - start)
        if grid:
            chosen.append({key.rsplit("__", 1)[1]: value for key, value in fitted.best_params_.items()})
        X_test, y_test = data.X[test], data.y[test]
        scores.append(scorer(fitted, X_test, y_test))
        for key, loss_scorer in scorers.items():
            try:
                loss_scores[key].append(loss_scorer(fitted, X_test, y_test))
            except (ValueError, TypeError):  # e.g. a log-link loss on non-positive predictions
                loss_scores[key].append(np.nan)
        if data.task == "regression":
            out_of_fold[test] = fitted.predict(X_test)
        else:
            predicted[test] = fitted.predict(X_test)
            if hasattr(fitted, "predict_proba"):
                proba = fitted.predict_proba(X_test)
                out_of_fold[test] = proba.max(axis=1)
                if proba.shape[1] == 2:
                    positive[test] = proba[:, 1]
        step(name)
    tuned = {}
    for choice in chosen:
        for key, value in choice.items():
            tuned.setdefault(key, []).append(value)
    return Result(name, params, metric, scores,
                  {k: float(np.mean(v)) for k, v in loss_scores.items()}, float(np.mean(seconds)), tuned,
                  out_of_fold=out_of_fold, predicted=predicted, positive=positive)
