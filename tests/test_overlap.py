"""Overlap losses on labels and multilabel targets, their conventions, and the classifiers that fit them."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, make_multilabel_classification
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import StandardScaler

from sklearn_losses._reference import REFERENCE_BATCH_VALUES
from sklearn_losses.linear_model import LinearClassifier
from sklearn_losses.losses import (FocalTversky, LovaszHinge, LovaszSoftmax, SoftDice, SoftFBeta, SoftJaccard,
                                   Tversky, WeightedSum, get_loss)
from sklearn_losses.losses.lovasz import lovasz_weights
from sklearn_losses.metrics import make_loss_scorer
from sklearn_losses.neural_network import MLPClassifier
from sklearn_losses.solvers._optim import AUTO_BATCH_SIZE_BATCH_LOSS, resolve_batch_size

INDEX_LOSSES = [SoftFBeta(beta=2.0), SoftDice(), SoftDice(smooth=1.0, log_loss=True), SoftJaccard(),
                Tversky(alpha=0.3, beta=0.7), FocalTversky()]

X_ML, Y_ML = make_multilabel_classification(240, 8, n_classes=4, random_state=0)
X_ML = StandardScaler().fit_transform(X_ML)


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- the losses ------------------------------------------------------------------------------------
def test_index_identities(rng):
    """Dice is F1 is Tversky(0.5, 0.5); Jaccard is Tversky(1, 1); smoothing maps through the coefficients."""
    y = rng.integers(0, 2, 50).astype(float)
    raw = rng.normal(size=50)
    w = rng.uniform(0.5, 2, 50)
    dice = SoftDice().loss_gradient(y, raw, w)
    for other in (SoftFBeta(beta=1.0), Tversky(alpha=0.5, beta=0.5)):
        np.testing.assert_allclose(other.loss_gradient(y, raw, w)[0], dice[0], rtol=1e-13)
        np.testing.assert_allclose(other.loss_gradient(y, raw, w)[1], dice[1], rtol=1e-12)
    np.testing.assert_allclose(SoftDice(smooth=2.0).loss(y, raw, w), Tversky(smooth=1.0).loss(y, raw, w), rtol=1e-13)
    np.testing.assert_allclose(SoftJaccard().loss(y, raw, w), Tversky(alpha=1.0, beta=1.0).loss(y, raw, w),
                               rtol=1e-13)
    # focal Tversky with gamma = 1 is the Tversky loss
    np.testing.assert_allclose(FocalTversky(alpha=0.3, beta=0.7, gamma=1.0).loss(y, raw, w),
                               Tversky(alpha=0.3, beta=0.7).loss(y, raw, w), rtol=1e-13)


def test_tversky_alpha_weighs_false_positives(rng):
    """alpha on FP: with only false positives (no positive in y) raising alpha raises the loss."""
    y = np.r_[np.ones(5), np.zeros(45)]
    raw = np.r_[np.full(5, 3.0), np.full(45, 1.0)]  # mass on the negatives: false positives dominate
    fp_heavy, fn_heavy = Tversky(alpha=0.9, beta=0.1).loss(y, raw), Tversky(alpha=0.1, beta=0.9).loss(y, raw)
    assert fp_heavy > fn_heavy
    raw = np.r_[np.full(5, -3.0), np.full(45, -6.0)]  # positives missed: false negatives dominate
    assert Tversky(alpha=0.1, beta=0.9).loss(y, raw) > Tversky(alpha=0.9, beta=0.1).loss(y, raw)


@pytest.mark.parametrize("loss", INDEX_LOSSES, ids=repr)
def test_multilabel_value_is_the_mean_over_labels_and_matches_the_reference(loss, rng):
    Y = rng.integers(0, 2, (80, 3)).astype(float)
    R = rng.normal(size=(80, 3))
    w = rng.uniform(0.2, 2.0, 80)
    value, grad = loss.loss_gradient(Y, R, w)
    np.testing.assert_allclose(value, REFERENCE_BATCH_VALUES[loss.name](loss, Y, R, w), rtol=1e-12)
    for c in range(3):
        np.testing.assert_allclose(grad[:, c], loss.gradient(Y[:, c], R[:, c], w) / 3, rtol=1e-12, atol=1e-300)
    S = loss.statistics(Y, R, w)
    assert S.shape == (3, 3)
    np.testing.assert_allclose(loss.value_from_statistics(S), value, rtol=1e-13)


@pytest.mark.parametrize("loss", INDEX_LOSSES, ids=repr)
def test_a_label_without_positives_or_mass_is_a_perfect_score_without_nan(loss):
    y = np.zeros(6)
    raw = np.full(6, -800.0)  # sigmoid underflows to 0: no predicted mass at all
    value, grad = loss.loss_gradient(y, raw)
    assert value == 0.0 and np.all(grad == 0.0)
    # beside a label that has positives, it adds 0 to the mean over labels
    Y = np.column_stack([y, [1, 0, 1, 0, 0, 1]])
    R = np.column_stack([raw, np.linspace(-2, 2, 6)])
    np.testing.assert_allclose(loss.loss(Y, R), loss.loss(Y[:, 1], R[:, 1]) / 2, rtol=1e-13)


def test_a_label_without_positives_pays_for_its_mass_only_when_smoothed():
    y = np.zeros(5)
    raw = np.linspace(-1.0, 1.0, 5)
    value, grad = SoftDice().loss_gradient(y, raw)
    assert value == 1.0 and np.all(grad == 0.0)  # index 0 whatever is predicted: documented
    value, grad = SoftDice(smooth=1.0).loss_gradient(y, raw)
    p = expit(raw)
    np.testing.assert_allclose(value, 1.0 - 1.0 / (p.sum() + 1.0), rtol=1e-13)
    assert np.all(grad > 0)  # less mass on the negatives lowers the loss


def test_smoothing_and_eps_match_the_segmentation_models_convention(rng):
    """smp: dice = (2 I + smooth) / (sum p + sum y + smooth).clamp_min(eps), loss = 1 - dice (or -log)."""
    y = rng.integers(0, 2, 40).astype(float)
    raw = rng.normal(size=40)
    p = expit(raw)
    for smooth in (0.0, 1.0):
        dice = (2 * (p * y).sum() + smooth) / max(p.sum() + y.sum() + smooth, 1e-7)
        np.testing.assert_allclose(SoftDice(smooth=smooth).loss(y, raw), 1 - dice, rtol=1e-13)
        np.testing.assert_allclose(SoftDice(smooth=smooth, log_loss=True).loss(y, raw), -np.log(dice), rtol=1e-13)
        iou = ((p * y).sum() + smooth) / max(p.sum() + y.sum() - (p * y).sum() + smooth, 1e-7)
        np.testing.assert_allclose(SoftJaccard(smooth=smooth).loss(y, raw), 1 - iou, rtol=1e-13)


def test_focal_tversky_applies_gamma_per_label(rng):
    Y = rng.integers(0, 2, (50, 2)).astype(float)
    R = rng.normal(size=(50, 2))
    per_label = [Tversky(alpha=0.7, beta=0.3).loss(Y[:, c], R[:, c]) for c in range(2)]
    np.testing.assert_allclose(FocalTversky(gamma=0.75).loss(Y, R), np.mean(np.power(per_label, 0.75)), rtol=1e-13)
    assert not np.isclose(FocalTversky(gamma=0.75).loss(Y, R), np.mean(per_label) ** 0.75)


def test_overlap_losses_chunk_large_batches_exactly(rng):
    """Batches beyond one chunk are processed in chunks; the result equals the one-pass sums."""
    n = 200_001
    y = (rng.random(n) < 0.1).astype(float)
    raw = rng.normal(size=n)
    loss = SoftDice(smooth=0.5)
    p = expit(raw)
    tp, fp, fn = (y * p).sum(), ((1 - y) * p).sum(), (y * (1 - p)).sum()
    np.testing.assert_allclose(loss.loss(y, raw), 1 - (2 * tp + 0.5) / (2 * tp + fp + fn + 0.5), rtol=1e-11)
    grad = loss.gradient(y, raw)
    assert grad.shape == (n,) and grad.dtype == np.float64 and np.all(np.isfinite(grad))
    np.testing.assert_allclose(loss.gradient(y.astype(np.float32), raw.astype(np.float32)), grad, rtol=1e-4,
                               atol=1e-12)


def test_bad_inputs_name_the_loss():
    with pytest.raises(ValueError, match="SoftDice: y_true must be 0 or 1"):
        SoftDice().loss(np.array([0.0, 2.0]), np.zeros(2))
    with pytest.raises(ValueError, match="SoftDice: y_true has shape"):
        SoftDice().loss(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="SoftDice is a loss of the whole batch"):
        SoftDice().loss(np.zeros(3), np.zeros(3), reduction="none")
    with pytest.raises(ValueError, match="both be 0"):
        Tversky(alpha=0.0, beta=0.0).loss(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="gamma"):
        FocalTversky(gamma=0.0).loss(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="not decomposable"):
        LovaszHinge().statistics(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="WeightedSum has a component that is a loss of the whole batch"):
        WeightedSum([(1.0, "log_loss"), (1.0, "soft_dice")]).loss(np.zeros(3), np.zeros(3), reduction="none")
    with pytest.raises(ValueError, match="same task"):
        WeightedSum([(1.0, "squared_error"), (1.0, "soft_dice")]).loss(np.zeros(3), np.zeros(3))


# -- Lovász -----------------------------------------------------------------------------------------
def test_lovasz_weights_sum_to_the_jaccard_loss_of_everything():
    positive = np.array([1.0, 0, 1, 0, 0])
    g = lovasz_weights(positive, np.ones(5))
    np.testing.assert_allclose(g.sum(), 1.0)  # all mispredicted: intersection 0
    assert np.all(g >= 0)  # the Jaccard loss is monotone
    # ties: the extension's value does not depend on their order
    loss = LovaszHinge()
    y = np.array([1.0, 0.0, 1.0, 0.0])
    raw = np.array([0.5, -0.5, 0.5, -0.5])  # errors 0.5 for all
    assert loss.loss(y, raw) == pytest.approx(loss.loss(y[::-1], raw[::-1]), rel=1e-15)


def test_lovasz_hinge_is_zero_beyond_the_margin_and_matches_its_reference(rng):
    y = rng.integers(0, 2, 30).astype(float)
    assert LovaszHinge().loss(y, (2 * y - 1) * 1.5) == 0.0
    raw = rng.normal(size=30)
    w = rng.uniform(0.5, 2.0, 30)
    np.testing.assert_allclose(LovaszHinge().loss(y, raw, w), REFERENCE_BATCH_VALUES["lovasz_hinge"](None, y, raw, w),
                               rtol=1e-12)
    Y = rng.integers(0, 2, (30, 3)).astype(float)
    R = rng.normal(size=(30, 3))
    np.testing.assert_allclose(LovaszHinge().loss(Y, R), REFERENCE_BATCH_VALUES["lovasz_hinge"](None, Y, R),
                               rtol=1e-12)


def test_lovasz_softmax_classes(rng):
    y = np.array([0, 0, 1, 1, 1, 0], dtype=float)  # class 2 absent
    raw = rng.normal(size=(6, 3))
    present, every = LovaszSoftmax().loss(y, raw), LovaszSoftmax(classes="all").loss(y, raw)
    assert present != every
    np.testing.assert_allclose(every, REFERENCE_BATCH_VALUES["lovasz_softmax"](LovaszSoftmax("all"), y, raw),
                               rtol=1e-12)


# -- estimators -------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["soft_dice", "soft_jaccard", Tversky(alpha=0.3, beta=0.7)])
def test_linear_full_batch_fit_is_a_stationary_point_of_the_batch_objective(loss):
    X, y = _cancer()
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    est = LinearClassifier(loss, alpha=1e-3, tol=1e-10, max_iter=5000).fit(X, y, w)
    loss = get_loss(loss)

    def objective(theta):
        return loss.loss(y, X @ theta[:-1] + theta[-1], w) + 0.5 * 1e-3 * theta[:-1] @ theta[:-1]

    theta = np.r_[est.coef_[0], est.intercept_]
    assert np.isclose(objective(theta), est.objective_, rtol=1e-10)
    assert np.max(np.abs(approx_fprime(theta, objective, 1e-7))) < 1e-5


def test_multilabel_linear_classifier_is_one_problem_per_label():
    est = LinearClassifier("soft_dice", alpha=1e-3).fit(X_ML, Y_ML)
    pred = est.predict(X_ML)
    assert pred.shape == Y_ML.shape and pred.dtype == Y_ML.dtype
    np.testing.assert_array_equal(est.classes_, np.arange(4))
    proba = est.predict_proba(X_ML)
    np.testing.assert_allclose(proba, expit(est.decision_function(X_ML)), rtol=1e-12)
    for j in range(4):
        single = LinearClassifier("soft_dice", alpha=1e-3).fit(X_ML, Y_ML[:, j])
        np.testing.assert_allclose(est.coef_[j], single.coef_[0], rtol=1e-8, atol=1e-10)
    # the fitted objective is the loss of the indicator (the mean over labels) plus the penalty
    loss = get_loss("soft_dice")
    raw = est.decision_function(X_ML)
    penalty = 0.5 * 1e-3 * np.mean(np.sum(est.coef_**2, axis=1))
    np.testing.assert_allclose(est.objective_, loss.loss(Y_ML, raw) + penalty, rtol=1e-9)


def test_multilabel_errors():
    with pytest.raises(ValueError, match="multilabel targets need a binary or overlap loss"):
        LinearClassifier("cross_entropy").fit(X_ML, Y_ML)
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        MLPClassifier(class_weight="balanced").fit(X_ML, Y_ML)
    with pytest.raises(ValueError, match="multilabel indicator"):
        LinearClassifier().fit(X_ML, np.column_stack([Y_ML[:, 0], 2 * Y_ML[:, 1]]))
    for estimator in (LinearClassifier("soft_dice"), MLPClassifier(hidden_layer_sizes=(4,), max_iter=5)):
        with pytest.raises(ValueError, match=r"indicator matrix \(0/1.*values \[0, 2\]"):
            estimator.fit(X_ML, 2 * Y_ML)  # two values, so scikit-learn calls it multilabel: not 0/1 here
    with pytest.raises(ValueError, match="y contains NaN"):
        LinearClassifier().fit(X_ML, np.where(Y_ML == 1, np.nan, 0.0))
    with pytest.raises(ValueError, match="batch_sampler='stratified' needs one class per sample"):
        LinearClassifier(solver="adam", batch_sampler="stratified").fit(X_ML, Y_ML)
    est = LinearClassifier().fit(X_ML, Y_ML)
    with pytest.raises(ValueError, match="multilabel"):
        est.partial_fit(X_ML, Y_ML[:, 0])


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_multilabel_mlp_fits_the_indicator(solver):
    est = MLPClassifier(WeightedSum([(1.0, "log_loss"), (1.0, "soft_dice")]), hidden_layer_sizes=(8,),
                        solver=solver, max_iter=100, learning_rate_init=0.02, random_state=0).fit(X_ML, Y_ML)
    pred = est.predict(X_ML)
    assert pred.shape == Y_ML.shape and pred.dtype == Y_ML.dtype
    assert est.decision_function(X_ML).shape == Y_ML.shape
    assert est.predict_proba(X_ML).shape == Y_ML.shape
    assert np.mean(pred == Y_ML) > 0.75
    if solver == "adam":  # streaming on the indicator, without classes=
        before = est.loss_curve_[-1]
        est.partial_fit(X_ML, Y_ML)
        assert est.loss_curve_[-1] <= before + 1e-3
        streamed = MLPClassifier("soft_dice", hidden_layer_sizes=(8,), random_state=0).partial_fit(X_ML, Y_ML)
        assert streamed.predict(X_ML).shape == Y_ML.shape


def test_warm_start_from_the_log_loss_fit(rng):
    """The documented route out of the saturated start on unscaled features."""
    X, y = load_breast_cancer(return_X_y=True)
    cold = LinearClassifier("soft_dice", alpha=1e-3, max_iter=3000).fit(X, y)
    warm = LinearClassifier("log_loss", alpha=1e-3, max_iter=3000, warm_start=True).fit(X, y)
    warm.set_params(loss="soft_dice").fit(X, y)
    assert warm.objective_ <= cold.objective_ + 1e-9


def test_minibatch_default_batch_is_larger_for_batch_losses():
    assert resolve_batch_size("auto", 10_000, get_loss("soft_dice")) == AUTO_BATCH_SIZE_BATCH_LOSS
    assert resolve_batch_size("auto", 10_000, get_loss("log_loss")) == 200
    assert resolve_batch_size(64, 10_000, get_loss("soft_dice")) == 64


def test_lovasz_needs_a_subgradient_solver():
    X, y = _cancer()
    with pytest.raises(ValueError, match="solver='sgd' or solver='adam'"):
        LinearClassifier("lovasz_hinge").fit(X, y)
    est = LinearClassifier("lovasz_hinge", solver="adam", max_iter=30, random_state=0).fit(X, y)
    assert est.score(X, y) > 0.9


def test_batch_loss_scorer_scores_the_fold_as_one_batch():
    X, y = _cancer()
    est = LinearClassifier("soft_dice", alpha=1e-3).fit(X, y)
    scorer = make_loss_scorer("soft_dice")
    np.testing.assert_allclose(scorer(est, X, y), -get_loss("soft_dice").loss(y, est.decision_function(X)))
    scores = cross_val_score(LinearClassifier("log_loss"), X, y, cv=3, scoring=scorer)
    assert np.all((-1 <= scores) & (scores <= 0))
    multilabel = LinearClassifier().fit(X_ML, Y_ML)
    np.testing.assert_allclose(make_loss_scorer("soft_jaccard")(multilabel, X_ML, Y_ML),
                               -get_loss("soft_jaccard").loss(Y_ML, multilabel.decision_function(X_ML)))


@pytest.mark.parametrize("loss", [SoftDice(smooth=0.5), FocalTversky(), SoftJaccard(log_loss=True)], ids=repr)
def test_compiled_passes_equal_the_numpy_ones_and_ignore_the_thread_count(loss, monkeypatch):
    import numba

    rng = np.random.default_rng(3)
    Y = (rng.random((2000, 3)) < 0.2).astype(float)
    R = 3 * rng.normal(size=(2000, 3))
    w = rng.uniform(0.2, 2.0, 2000)
    numpy_value, numpy_grad = loss.loss_gradient(Y, R, w)  # below the threshold: NumPy
    monkeypatch.setenv("SKLEARN_LOSSES_PARALLEL_THRESHOLD", "0")
    results = []
    for threads in (1, 2):
        previous = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        try:
            results.append(loss.loss_gradient(Y, R, w))
        finally:
            numba.set_num_threads(previous)
    (v1, g1), (v2, g2) = results
    assert v1 == v2 and np.array_equal(g1, g2)
    np.testing.assert_allclose(v1, numpy_value, rtol=1e-13)
    np.testing.assert_allclose(g1, numpy_grad, rtol=1e-11, atol=1e-18)
    S = loss.statistics(Y, R, w)
    np.testing.assert_allclose(np.concatenate([loss.gradient_from_statistics(Y[:900], R[:900], S, w[:900]),
                                               loss.gradient_from_statistics(Y[900:], R[900:], S, w[900:])]),
                               numpy_grad, rtol=1e-11, atol=1e-18)
    g_out = np.empty_like(R)
    value, grad = loss.loss_gradient(Y, R, w, gradient_out=g_out)
    assert grad is g_out and value == v1 and np.array_equal(g_out, g1)


def test_multilabel_linear_streaming_and_parallel_problems():
    streamed = LinearClassifier("soft_dice", solver="adam", random_state=0)
    for _ in range(3):
        streamed.partial_fit(X_ML, Y_ML)  # no classes=: the indicator's columns are the labels
    assert streamed.predict(X_ML).shape == Y_ML.shape
    serial = LinearClassifier("soft_jaccard").fit(X_ML, Y_ML)
    parallel = LinearClassifier("soft_jaccard", n_jobs=2).fit(X_ML, Y_ML)
    np.testing.assert_array_equal(serial.coef_, parallel.coef_)
