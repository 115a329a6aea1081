"""The boosting loop shared by GradientBoostingRegressor and GradientBoostingClassifier.

Each iteration takes the loss's per-sample gradients (and hessians where it
declares exact ones) at the current raw predictions, grows one histogram tree
per column of the raw prediction (per output, per class, or per label), sets
its leaf values by the rule the loss's declarations choose (:mod:`._leaves`),
shrinks them by the learning rate and adds them. The first raw prediction is
the loss's :meth:`baseline_prediction`. The estimators reach the loss only
through its public methods and declared properties.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import NamedLossParamsMixin, check_sample_weight, keeps_model_on_failure
from .._targets import resolve_loss
from ..losses import BaseLoss
from ..solvers._objective import flat_start, start_constant
from ._binning import BinMapper
from ._grower import GrowthParams, constant_ratio, grow_tree
from ._leaves import LeafProblem, leaf_rule, leaf_values, left_slopes, split_hessian
from ._tree_kernels import add_leaves

__all__ = ["BaseGradientBoosting"]


def interaction_groups(interaction_cst, n_features):
    """The feature groups of ``interaction_cst`` (scikit-learn's meaning) as index arrays, or None.

    ``"pairwise"``: every pair; ``"no_interactions"``: every feature alone;
    a list of feature-index collections: those groups, plus one group of
    the features they leave out.
    """
    if interaction_cst is None:
        return None
    if isinstance(interaction_cst, str):
        if interaction_cst == "pairwise":
            groups = [{i, j} for i in range(n_features) for j in range(i + 1, n_features)] or [{0}]
        else:
            groups = [{i} for i in range(n_features)]
    else:
        groups = [list(group) if isinstance(group, (list, tuple, set, frozenset, np.ndarray)) else None
                  for group in interaction_cst]
        if any(group is None or not all(isinstance(i, Integral) and not isinstance(i, bool) for i in group)
               for group in groups):
            raise ValueError("interaction_cst must be None, 'pairwise', 'no_interactions' or a sequence of "
                             f"collections of feature indices; got {interaction_cst!r}.")
        groups = [{int(i) for i in group} for group in groups]
        for group in groups:
            bad = [i for i in group if not 0 <= i < n_features]
            if bad:
                raise ValueError(f"interaction_cst: feature indices must be in [0, {n_features - 1}]; got {bad}.")
        rest = set(range(n_features)).difference(*groups)
        if rest:
            groups.append(rest)
    return [np.array(sorted(group), dtype=np.intp) for group in groups]


def category_columns(X):
    """The names of a DataFrame's ``category``-dtype columns (none for other inputs)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return []
    return [c for c, dtype in zip(X.columns, dtypes) if getattr(dtype, "name", "") == "category"]


def categorical_mask(spec, n_features, feature_names, from_dtype):
    """``categorical_features`` (scikit-learn's meanings) as a boolean mask over the features.

    None: no categorical feature; ``"from_dtype"``: the DataFrame's
    ``category`` columns (``from_dtype``, a mask); a boolean mask; integer
    indices; or feature names (when fitted on a DataFrame).
    """
    name = "categorical_features"
    if spec is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(spec, str):
        return np.asarray(from_dtype, dtype=bool)
    values = np.asarray(spec)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {values.shape}.")
    mask = np.zeros(n_features, dtype=bool)
    if values.size == 0:
        return mask
    if values.dtype.kind == "b":
        if values.shape[0] != n_features:
            raise ValueError(f"{name}: a boolean mask needs one entry per feature ({n_features}); got "
                             f"{values.shape[0]}.")
        return values.astype(bool)
    if values.dtype.kind in "iu":
        bad = values[(values < 0) | (values >= n_features)]
        if bad.size:
            raise ValueError(f"{name}: feature indices must be in [0, {n_features - 1}]; got {bad.tolist()}.")
        mask[values] = True
        return mask
    if values.dtype.kind in "UO":
        if feature_names is None:
            raise ValueError(f"{name}: feature names need X as a DataFrame with string column names; got "
                             f"{values.tolist()}.")
        index = {str(n): i for i, n in enumerate(feature_names)}
        unknown = [str(v) for v in values if str(v) not in index]
        if unknown:
            raise ValueError(f"{name}: {unknown} are not among the feature names {list(index)}.")
        mask[[index[str(v)] for v in values]] = True
        return mask
    raise ValueError(f"{name} must be None, 'from_dtype', a boolean mask, integer indices or feature names; "
                     f"got {spec!r}.")


def histogram_precision(values):
    """``values`` (gradients or hessians) rounded to float32, the precision in which scikit-learn's
    histogram boosting and LightGBM keep them; the histograms sum them in float64.

    Rounding costs nothing measurable in the fit (a relative 6e-8 per
    sample) and makes splits of equal gain in exact arithmetic tie alike:
    on the first trees of a log-loss fit, the gradients take two values and
    many splits tie exactly, so that otherwise last-bit differences pick
    another split and the models drift apart. The histograms also read half
    the bytes. Values whose largest magnitude is outside float32's normal
    range (beyond 1e38, or all below 1e-30) stay float64.
    """
    values = np.asarray(values)
    scale = max(abs(float(np.max(values))), abs(float(np.min(values)))) if values.size else 0.0
    if not np.isfinite(scale):  # NaN or inf among them (a rare path): the scale of the finite ones
        finite = values[np.isfinite(values)]
        scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    if scale == 0.0 or 1e-30 < scale < 1e38:
        return np.ascontiguousarray(values, dtype=np.float32)
    return values


class BaseGradientBoosting(NamedLossParamsMixin, BaseEstimator):
    """Histogram gradient boosting on any loss; see the regressor's and classifier's docstrings."""

    _y_numeric = True

    _parameter_constraints = {
        "loss": [str, BaseLoss],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "max_bins": [Interval(Integral, 2, 255, closed="both")],
        "interaction_cst": [list, tuple, StrOptions({"pairwise", "no_interactions"}), None],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "warm_start": ["boolean"],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), Interval(Integral, 1, None, closed="left"),
                                None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # ------------------------------------------------------------------ fit
    def _check_X(self, X, reset):
        return validate_data(self, self._category_codes(X, reset=False), dtype=np.float64, order="C",
                             ensure_all_finite="allow-nan", reset=reset)

    def _category_codes(self, X, reset):
        """A DataFrame's ``category`` columns as their codes in fit's categories (NaN: missing or unseen)."""
        columns = category_columns(X)
        if reset:
            self._frame_categories = {c: X[c].cat.categories for c in columns}
        known = getattr(self, "_frame_categories", {})
        columns = [c for c in columns if c in known]
        if not columns:
            return X
        X = X.copy()
        for c in columns:
            codes = known[c].get_indexer(np.asarray(X[c], dtype=object)).astype(np.float64)
            codes[codes < 0] = np.nan
            X[c] = codes
        return X

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the ensemble.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Missing values (NaN) are allowed: they have a bin of their own,
            and each split sends them to the side that gains most.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "_predictors")
        by_dtype = set(category_columns(X))
        from_dtype = [c in by_dtype for c in getattr(X, "columns", [])]
        X = self._category_codes(X, reset=not warm)
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", ensure_all_finite="allow-nan",
                             multi_output=True, y_numeric=self._y_numeric, reset=not warm)
        categorical = categorical_mask(self.categorical_features, X.shape[1], getattr(self, "feature_names_in_", None),
                                       from_dtype or np.zeros(X.shape[1], dtype=bool))
        loss = resolve_loss(self, self.loss)
        if warm and type(loss) is not type(self.loss_):
            raise ValueError(f"warm_start: loss={self.loss!r} differs from the fitted loss "
                             f"{type(self.loss_).__name__}; fit without warm_start to change the loss.")
        weight = check_sample_weight(sample_weight, X)
        y_fit, width, squeeze, weight, fitted, stratify = self._targets(y, loss, weight, warm)
        if not weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum.")
        weighted = sample_weight is not None or not np.all(weight == 1.0)
        early = self.early_stopping if self.early_stopping != "auto" else X.shape[0] > 10_000
        if warm:
            seed = self._random_seed
            if self.max_iter < self.n_iter_:
                raise ValueError(f"max_iter={self.max_iter} must be at least n_iter_={self.n_iter_} when "
                                 "warm_start is True.")
        else:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.uint32).max, dtype=np.int64)
        train, valid = self._split(X.shape[0], early, stratify, seed)
        Xt, yt, wt = X[train], y_fit[train], weight[train]
        self._check_split(loss, yt, wt)
        if warm:
            binner, baseline = self._bin_mapper, self._baseline_prediction
            predictors = list(self._predictors)
        else:
            keep = wt > 0
            binner = BinMapper(self.max_bins, random_state=np.random.default_rng(seed),
                               categorical=categorical).fit(Xt[keep])
            baseline = self._start(loss, yt, wt if weighted else None, self._n_classes_for(loss, fitted), width,
                                   squeeze)
            predictors = []
        binned = binner.transform(Xt)
        raw = self._raw_from(Xt, baseline, predictors)
        has_valid = valid is not None
        if has_valid:
            Xv, yv, wv = X[valid], y_fit[valid], weight[valid]
            raw_valid = self._raw_from(Xv, baseline, predictors)
        sw = wt if weighted else None
        rule = leaf_rule(loss)
        params = GrowthParams(self.max_leaf_nodes, self.max_depth, self.min_samples_leaf, self.l2_regularization,
                              interaction_groups(self.interaction_cst, X.shape[1]))
        pieces = None
        if rule == "pieces":
            pieces = [loss.linear_pieces(yt if yt.ndim == 1 else np.ascontiguousarray(yt[:, k]))
                      for k in range(width)]
        objective = self._objective(loss, squeeze)
        curve = list(self.loss_curve_) if warm else []
        vcurve = list(self.validation_loss_curve_ or []) if warm else []
        start = [objective(yt, raw, sw)] if not warm else [self._baseline_loss]
        vstart = [objective(yv, raw_valid, wv if weighted else None)] if has_valid and not warm else \
            ([self._baseline_validation_loss] if warm and has_valid else [])
        history = (vstart + vcurve) if has_valid else (start + curve)
        count = np.ascontiguousarray(wt)
        for iteration in range(len(predictors), self.max_iter):
            gradient, hessian = self._derivatives(loss, rule, yt, raw, sw, squeeze, width, wt, pieces)
            snapshot = raw.copy() if width > 1 else raw
            grown = []
            for k in range(width):
                g = np.ascontiguousarray(gradient[:, k])
                h = np.ascontiguousarray(hessian[:, k]) if hessian is not None else count
                # rows in order for each tree (4-byte indices: less to read per histogram row); the growth
                # reorders them so that each leaf's rows are contiguous, still in increasing order
                rows = np.arange(Xt.shape[0], dtype=np.int32)
                scale = constant_ratio(h, count)  # > 0: a constant hessian (then the Newton step is exact)
                tree, leaves = grow_tree(binned, binner, g, h, count, rows, params, scale)
                problem = LeafProblem(loss, yt, count, sw, snapshot, squeeze, self.l2_regularization,
                                      None if pieces is None else pieces[k])
                grown.append((tree, leaves, rows, problem, scale > 0))
            # Newton leaves are safeguarded: where the iteration raises the training loss (a loss far from
            # quadratic over the step, as on an exponential tail where the hessian is tiny and the step huge),
            # its leaves are set again by the line search, which minimises each leaf's loss
            guarded = rule == "newton" and not all(entry[4] for entry in grown)
            before = raw.copy() if guarded else None
            self._set_leaves(grown, rule, raw, iteration, loss)
            value = objective(yt, raw, sw)
            previous = curve[-1] if curve else start[0]
            if guarded and not value <= previous + 1e-12 * abs(previous):
                raw[...] = before
                self._set_leaves(grown, "search", raw, iteration, loss)
                value = objective(yt, raw, sw)
            trees = [entry[0] for entry in grown]
            predictors.append(trees)
            curve.append(value)
            if not np.isfinite(curve[-1]):
                raise ValueError(f"{type(self).__name__}: the training loss is not finite after iteration "
                                 f"{iteration + 1} ({type(loss).__name__}); lower learning_rate.")
            if has_valid:
                for k, tree in enumerate(trees):
                    tree.add_to(Xv, raw_valid, k)
                vcurve.append(objective(yv, raw_valid, wv if weighted else None))
                history.append(vcurve[-1])
            else:
                history.append(curve[-1])
            if self.verbose:
                shown = f", validation {vcurve[-1]:.6g}" if has_valid else ""
                print(f"[{type(self).__name__}] iteration {iteration + 1}: training loss {curve[-1]:.6g}{shown}")
            if early and self._should_stop(history):
                break
        self.loss_ = loss
        self._bin_mapper, self._baseline_prediction, self._predictors = binner, baseline, predictors
        self._random_seed, self._squeeze, self._width = seed, squeeze, width
        self._baseline_loss = start[0]
        self._baseline_validation_loss = vstart[0] if has_valid else None
        self.n_iter_ = len(predictors)
        self.n_trees_per_iteration_ = width
        self.loss_curve_ = curve
        self.validation_loss_curve_ = vcurve if has_valid else None
        self.do_early_stopping_ = bool(early)
        self._set_fitted(fitted)
        return self

    def _set_leaves(self, grown, rule, raw, iteration, loss):
        """Set the leaf values of each grown tree by ``rule`` (times the learning rate) and add them to ``raw``."""
        for k, (tree, leaves, rows, problem, _) in enumerate(grown):
            values = leaf_values(problem, rule, k, rows, leaves) * self.learning_rate
            if not np.all(np.isfinite(values)):
                raise ValueError(f"{type(self).__name__}: leaf values of iteration {iteration + 1} are not "
                                 f"finite with loss {type(loss).__name__}; lower learning_rate or check the "
                                 "targets' scale.")
            tree.value[np.array([leaf[0] for leaf in leaves], dtype=np.intp)] = values
            add_leaves(rows, np.array([leaf[1] for leaf in leaves], dtype=np.intp),
                       np.array([leaf[2] for leaf in leaves], dtype=np.intp), values, raw, k)

    @staticmethod
    def _start(loss, y, weight, n_classes, width, squeeze):
        """The first raw prediction: the loss's best constant (the link of the mean target where the loss's
        baseline is a local search), or 0 where the gradient there is too flat to learn from (a saturating
        batch loss's best constant is "every sample positive", where its gradients vanish)."""
        b = start_constant(loss, y, weight, n_classes)
        b = np.atleast_1d(np.asarray(b, dtype=np.float64)).reshape(width)
        zero = np.zeros((y.shape[0], width))
        with np.errstate(all="ignore"):
            at_zero = loss.gradient(y, zero[:, 0] if squeeze else zero, weight, check_input=False)
            at_b = loss.gradient(y, (zero + b)[:, 0] if squeeze else zero + b, weight, check_input=False)
        if not np.all(np.isfinite(b)) or flat_start(loss, at_b, at_zero):
            return np.zeros(width)
        return b

    def _split(self, n, early, stratify, seed):
        if not early or self.validation_fraction is None:
            return np.arange(n), None
        try:
            train, valid = train_test_split(np.arange(n), test_size=self.validation_fraction, stratify=stratify,
                                            random_state=int(seed % (2**31)))
        except ValueError as error:
            raise ValueError(f"validation_fraction={self.validation_fraction!r}: cannot split off a validation "
                             f"set: {error}") from None
        return np.sort(train), np.sort(valid)

    def _check_split(self, loss, y, weight):
        """Hook: subclasses check the training part (e.g. every class present)."""

    @staticmethod
    def _objective(loss, squeeze):
        def objective(y, raw, weight):
            return float(loss.loss(y, raw[:, 0] if squeeze else raw, weight, reduction="mean", check_input=False))
        return objective

    @staticmethod
    def _derivatives(loss, rule, y, raw, weight, squeeze, width, count, pieces=None):
        """``(gradient, hessian)`` as (n, width) arrays in the split search's precision
        (:func:`histogram_precision`); hessian None where the split search uses the weights.

        The unweighted derivatives are rounded and then multiplied by the
        sample weights (in float64), so that an integer weight sums to the
        same bits as that many copies of the row. A batch loss's weighted
        gradient is not the weight times its unweighted one: it is rounded
        as it is.
        """
        separable = weight is not None and rule != "batch"
        g, h = BaseGradientBoosting._float64_derivatives(loss, rule, y, raw, None if separable else weight, squeeze,
                                                         width, count, pieces)
        g, h = histogram_precision(g), None if h is None else histogram_precision(h)
        if separable:
            g = g * weight[:, None]
            h = None if h is None else h * weight[:, None]
        return g, h

    @staticmethod
    def _float64_derivatives(loss, rule, y, raw, weight, squeeze, width, count, pieces=None):
        r = raw[:, 0] if squeeze else raw
        n = raw.shape[0]
        if rule == "pieces":
            g = np.column_stack([left_slopes(*pieces[k], raw[:, k]) for k in range(width)])
            return g if weight is None else g * weight[:, None], None
        if rule == "batch":
            g = loss.gradient(y, r, weight, reduction="mean", check_input=False)
            return np.asarray(g).reshape(n, width) * n, None
        if rule == "newton" or (rule == "search" and loss.hessian == "indefinite"):
            g, h = loss.gradient_hessian(y, r, weight, reduction="none", check_input=False)
            h = split_hessian(loss, rule, np.asarray(h).reshape(n, width), count)
            return np.asarray(g).reshape(n, width), h
        if not loss.differentiable and loss.structure == "elementwise":
            # at a kink, the one-sided derivative from below (as the piecewise rule's slopes): samples that a
            # line-searched leaf left exactly at a kink still take part in the split search
            r = r - 1e-9 * (1.0 + np.abs(r))
        g = loss.gradient(y, r, weight, reduction="none", check_input=False)
        return np.asarray(g).reshape(n, width), None

    def _should_stop(self, history):
        """scikit-learn's rule: none of the last ``n_iter_no_change`` losses beats the one before them by ``tol``."""
        k = self.n_iter_no_change
        if len(history) <= k:
            return False
        reference = history[-k - 1]
        return not any(value < reference - self.tol for value in history[-k:])

    # -------------------------------------------------------------- predict
    def _raw_from(self, X, baseline, predictors, stop=None):
        raw = np.tile(baseline, (X.shape[0], 1))
        for trees in predictors[:stop]:
            for k, tree in enumerate(trees):
                tree.add_to(X, raw, k)
        return raw

    def _raw_predict(self, X):
        check_is_fitted(self, "_predictors")
        X = self._check_X(X, reset=False)
        return self._raw_from(X, self._baseline_prediction, self._predictors)

    def _staged_raw(self, X):
        check_is_fitted(self, "_predictors")
        X = self._check_X(X, reset=False)
        raw = np.tile(self._baseline_prediction, (X.shape[0], 1))
        for trees in self._predictors:
            for k, tree in enumerate(trees):
                tree.add_to(X, raw, k)
            yield raw.copy()

    def _squeezed(self, raw):
        return raw[:, 0] if self._squeeze else raw

    def predict_raw(self, X):
        """The raw prediction (the loss's ``raw_prediction``, before the inverse link)."""
        return self._squeezed(self._raw_predict(X))

    @property
    def feature_importances_(self):
        """Total split gain of each feature over all trees, normalised to sum to 1 (zeros without splits)."""
        check_is_fitted(self, "_predictors")
        total = np.zeros(self.n_features_in_)
        for trees in self._predictors:
            for tree in trees:
                inner = tree.left >= 0
                np.add.at(total, tree.feature[inner], tree.gain[inner])
        s = total.sum()
        return total / s if s > 0 else total

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
