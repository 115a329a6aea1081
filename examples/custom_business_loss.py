"""A business cost as a custom loss: write one function, fit, tune and score with it.

A retailer forecasts demand. Running out of stock (forecast below demand)
costs three times more than overstock (forecast above demand). We write that
cost as one scalar function, let sklearn_losses compile it and derive its
gradient and hessian, fit a linear model on it, grid-search its asymmetry with
two worker processes, and score every candidate with the business cost itself.

Until the library's own linear estimators land, the model is a ten-line
linear model fitted with L-BFGS on any loss (``LinearModelOnLoss`` below): it
reaches the loss only through ``loss.loss_gradient``, as every estimator does.

Run:  python examples/custom_business_loss.py
"""

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_losses.losses import get_loss, make_loss
from sklearn_losses.metrics import make_loss_scorer
from sklearn_losses.testing import check_loss


def business_cost(y, r, under=3.0):
    """Squared error, ``under`` times more expensive when the forecast r is below the demand y."""
    e = y - r
    if e > 0:
        return under * e * e
    return e * e


class LinearModelOnLoss(RegressorMixin, BaseEstimator):
    """Linear model fitted by minimising any loss's weighted mean with L-BFGS."""

    def __init__(self, loss="squared_error"):
        self.loss = loss

    def fit(self, X, y, sample_weight=None):
        X, y = np.asarray(X, float), np.asarray(y, float)
        loss = get_loss(self.loss)
        design = np.hstack([X, np.ones((X.shape[0], 1))])

        def objective(w):
            value, grad = loss.loss_gradient(y, design @ w, sample_weight)
            return value, design.T @ grad

        w = minimize(objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x
        self.coef_, self.intercept_ = w[:-1], w[-1]
        return self

    def predict(self, X):
        return np.asarray(X, float) @ self.coef_ + self.intercept_


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    demand = 20 + X @ [3.0, -2.0, 1.0, 0.5] + 2.0 * rng.gumbel(size=2000)  # right-skewed surprises
    X_train, X_test, y_train, y_test = train_test_split(X, demand, random_state=0)

    loss = make_loss(business_cost)  # gradient and hessian derived automatically
    check_loss(loss)  # the same contract every built-in loss passes
    print(f"custom loss: {loss!r}, parameters {loss.get_params()}, hessian: {loss.has_hessian}")

    cost = make_loss_scorer(make_loss(business_cost, under=3.0))  # what the business pays
    search = GridSearchCV(LinearModelOnLoss(loss=loss), {"loss__under": [1.0, 2.0, 3.0, 5.0, 8.0]},
                          scoring=cost, cv=5, n_jobs=2)
    search.fit(X_train, y_train)
    print("cross-validated business cost for each asymmetry:")
    for under, score in zip(search.cv_results_["param_loss__under"], search.cv_results_["mean_test_score"]):
        print(f"  under={under:4.1f}: {-score:8.3f}")
    print(f"best: {search.best_params_}")

    symmetric = LinearModelOnLoss(loss="squared_error").fit(X_train, y_train)
    for label, model in (("squared error", symmetric), ("business cost", search.best_estimator_)):
        shortfall = np.mean(model.predict(X_test) < y_test)
        print(f"{label:14s}: test business cost {-cost(model, X_test, y_test):7.3f}, "
              f"stock-outs {shortfall:.0%}")


if __name__ == "__main__":
    main()
