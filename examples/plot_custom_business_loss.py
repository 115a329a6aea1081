"""
A business cost as a custom loss
================================

Write one function, then fit, tune and score with it.

A retailer forecasts demand. Running out of stock (forecast below demand)
costs three times more than overstock (forecast above demand). We write that
cost as one scalar function, let sklearn_losses compile it and derive its
gradient and hessian, fit a linear model on it, grid-search its asymmetry with
two worker processes, and score every candidate with the business cost itself.

The model is :class:`sklearn_losses.linear_model.LinearRegressor`, which
takes any loss (registered or custom) and reaches it only through its public
methods and declared properties.

Run:  python examples/plot_custom_business_loss.py
"""

import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import make_loss
from sklearn_losses.metrics import make_loss_scorer
from sklearn_losses.testing import check_loss


def business_cost(y, r, under=3.0):
    """Squared error, ``under`` times more expensive when the forecast r is below the demand y."""
    e = y - r
    if e > 0:
        return under * e * e
    return e * e


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    demand = 20 + X @ [3.0, -2.0, 1.0, 0.5] + 2.0 * rng.gumbel(size=2000)  # right-skewed surprises
    X_train, X_test, y_train, y_test = train_test_split(X, demand, random_state=0)

    loss = make_loss(business_cost)  # gradient and hessian derived automatically
    check_loss(loss)  # the same contract every built-in loss passes
    print(f"custom loss: {loss!r}, parameters {loss.get_params()}, hessian: {loss.has_hessian}")

    cost = make_loss_scorer(make_loss(business_cost, under=3.0))  # what the business pays
    search = GridSearchCV(LinearRegressor(loss=loss, alpha=0.0), {"loss__under": [1.0, 2.0, 3.0, 5.0, 8.0]},
                          scoring=cost, cv=5, n_jobs=2)
    search.fit(X_train, y_train)
    print("cross-validated business cost for each asymmetry:")
    for under, score in zip(search.cv_results_["param_loss__under"], search.cv_results_["mean_test_score"]):
        print(f"  under={under:4.1f}: {-score:8.3f}")
    print(f"best: {search.best_params_}")

    symmetric = LinearRegressor(loss="squared_error", alpha=0.0).fit(X_train, y_train)
    for label, model in (("squared error", symmetric), ("business cost", search.best_estimator_)):
        shortfall = np.mean(model.predict(X_test) < y_test)
        print(f"{label:14s}: test business cost {-cost(model, X_test, y_test):7.3f}, "
              f"stock-outs {shortfall:.0%}")


if __name__ == "__main__":
    main()
