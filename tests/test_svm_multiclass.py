"""The multiclass hinge fitted jointly by the kernel SVM (block coordinate descent in the dual)."""

import warnings

import numpy as np
import pytest
from scipy.optimize import LinearConstraint, minimize
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel

from sklearn_losses.losses import CrossEntropy, MulticlassHinge
from sklearn_losses.svm import SVMClassifier

X, Y = make_classification(40, 4, n_informative=3, n_redundant=0, n_classes=3, n_clusters_per_class=1,
                           random_state=1)
W = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
KINDS = ["crammer_singer", "weston_watkins"]


def _primal_qp(K, y, cost, weston_watkins):
    """Decision values of the primal problem in the span of K, by SLSQP (variables a, b and slacks).

    Crammer-Singer: ``xi_i >= 1 + f_im - f_iy`` for ``m != y_i``; Weston-Watkins:
    ``xi_im >= (1 + f_im - f_iy) / K``; minimise ``sum cost * xi + 1/2 sum_m a_m^T K a_m``.
    """
    n, k = K.shape[0], int(y.max()) + 1
    pairs = [(i, m) for i in range(n) for m in range(k) if m != y[i]]
    n_slack = len(pairs) if weston_watkins else n
    scale = k if weston_watkins else 1
    A = np.zeros((len(pairs), n * k + k + n_slack))
    for r, (i, m) in enumerate(pairs):
        A[r, m * n:(m + 1) * n] -= K[i] / scale
        A[r, y[i] * n:(y[i] + 1) * n] += K[i] / scale
        A[r, n * k + m] -= 1 / scale
        A[r, n * k + y[i]] += 1 / scale
        A[r, n * k + k + (r if weston_watkins else i)] = 1
    cost = np.array([cost[i] for i, _ in pairs]) if weston_watkins else cost

    def objective(v):
        Ka = v[:n * k].reshape(k, n) @ K
        return 0.5 * np.sum(v[:n * k].reshape(k, n) * Ka) + cost @ v[n * k + k:], \
            np.concatenate([Ka.ravel(), np.zeros(k), cost])

    bounds = [(None, None)] * (n * k + k) + [(0, None)] * n_slack
    result = minimize(objective, np.zeros(A.shape[1]), jac=True, method="SLSQP", bounds=bounds,
                      constraints=[LinearConstraint(A, 1 / scale, np.inf)], options=dict(ftol=1e-14, maxiter=2000))
    assert result.status in (0, 8), result.message  # 8: the line search is at machine precision
    return K @ result.x[:n * k].reshape(k, n).T + result.x[n * k:n * k + k]


@pytest.mark.parametrize("kind", KINDS)
def test_solution_is_the_primal_optimum_with_free_intercepts(kind):
    est = SVMClassifier(MulticlassHinge(kind), C=2.0, gamma=0.3, tol=1e-9, random_state=0)
    est.fit(X, Y, sample_weight=W)
    expected = _primal_qp(rbf_kernel(X, gamma=0.3), Y, 2.0 * W, kind == "weston_watkins")
    np.testing.assert_allclose(est.decision_function(X), expected, atol=1e-5)
    assert est.dual_coef_.shape == (3, est.support_.size) and est.intercept_.shape == (3,)
    # free intercepts: the dual coefficients of each class sum to zero (to tol / rho)
    np.testing.assert_allclose(est.dual_coef_.sum(axis=1), 0.0, atol=1e-7)
    np.testing.assert_array_equal(est.predict(X), est.classes_[np.argmax(expected, axis=1)])


@pytest.mark.parametrize("kind", KINDS)
def test_weights_equal_repeated_rows_and_class_weight(kind):
    counts = np.arange(X.shape[0]) % 3
    params = dict(loss=MulticlassHinge(kind), gamma=0.3, tol=1e-9, random_state=0)
    weighted = SVMClassifier(**params).fit(X, Y, sample_weight=counts)
    repeated = SVMClassifier(**params).fit(np.repeat(X, counts, axis=0), np.repeat(Y, counts))
    np.testing.assert_allclose(weighted.decision_function(X), repeated.decision_function(X), atol=1e-6)
    by_class = SVMClassifier(**params, class_weight={0: 2.0, 1: 0.5}).fit(X, Y)
    by_sample = SVMClassifier(**params).fit(X, Y, sample_weight=np.array([2.0, 0.5, 1.0])[Y])
    np.testing.assert_allclose(by_class.decision_function(X), by_sample.decision_function(X), atol=1e-6)


def test_kernels_order_and_binary_targets():
    ref = SVMClassifier("multiclass_hinge", gamma=0.3, tol=1e-9, random_state=0).fit(X, Y).decision_function(X)
    pre = SVMClassifier("multiclass_hinge", kernel="precomputed", tol=1e-9, random_state=0)
    np.testing.assert_allclose(pre.fit(rbf_kernel(X, gamma=0.3), Y).decision_function(rbf_kernel(X, gamma=0.3)),
                               ref, atol=1e-6)
    other_order = SVMClassifier("multiclass_hinge", gamma=0.3, tol=1e-9, random_state=5).fit(X, Y)
    np.testing.assert_allclose(other_order.decision_function(X), ref, atol=1e-6)
    linear = SVMClassifier("multiclass_hinge", kernel="linear", tol=1e-9).fit(X, Y)
    np.testing.assert_allclose(X @ linear.coef_.T + linear.intercept_, linear.decision_function(X), atol=1e-9)
    # two classes: the difference of the two class scores, positive for classes_[1]
    y2 = np.where(Y == 2, "b", "a")
    binary = SVMClassifier("multiclass_hinge", tol=1e-9).fit(X, y2)
    scores = binary._decision(X)
    np.testing.assert_allclose(binary.decision_function(X), scores[:, 1] - scores[:, 0])
    np.testing.assert_array_equal(binary.predict(X), np.where(scores[:, 1] > scores[:, 0], "b", "a"))


def test_probability_convergence_and_errors():
    est = SVMClassifier("multiclass_hinge", probability=True, random_state=0).fit(X, Y)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(np.argmax(proba, axis=1) == Y) > 0.8
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        SVMClassifier("multiclass_hinge", max_iter=1, tol=1e-9).fit(X, Y)
    with pytest.raises(ValueError, match="polyhedral"):
        SVMClassifier(CrossEntropy()).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        approx = SVMClassifier(CrossEntropy(), kernel_approximation="nystroem", n_components=20, random_state=0)
        np.testing.assert_allclose(approx.fit(X, Y).predict_proba(X).sum(axis=1), 1.0)


def test_a_refit_starts_afresh():
    """Nothing of an earlier fit with other parameters survives a new fit."""
    fresh = SVMClassifier(tol=1e-6).fit(X, Y)
    refit = SVMClassifier(kernel_approximation="nystroem", n_components=20, random_state=0, tol=1e-6).fit(X, Y)
    refit.set_params(kernel_approximation=None).fit(X, Y)
    assert not hasattr(refit, "linear_")
    np.testing.assert_allclose(refit.decision_function(X), fresh.decision_function(X))
    # from a joint multiclass loss to one-vs-one log loss: the probabilities need Platt scaling
    fresh = SVMClassifier("log_loss", probability=True, tol=1e-6).fit(X, Y)
    refit = SVMClassifier("multiclass_hinge", random_state=0).fit(X, Y)
    refit.set_params(loss="log_loss", probability=True, tol=1e-6).fit(X, Y)
    assert refit.calibrator_ is not None
    np.testing.assert_allclose(refit.predict_proba(X), fresh.predict_proba(X))
