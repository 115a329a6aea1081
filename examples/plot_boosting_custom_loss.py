"""
Boosted trees on the loss you care about
========================================

Quantile intervals and an asymmetric business cost with gradient-boosted
trees, next to the linear model with the same losses.

Delivery times grow with distance in steps (a new depot zone every 5 km)
and are far less predictable in rush hour. A linear model cannot follow
the steps; boosted trees can, with the same losses:

* **quantile intervals**: the pinball loss at 0.1 and 0.9. Its hessian is
  zero, so XGBoost and LightGBM custom objectives barely train on it;
  :class:`~sklearn_losses.ensemble.GradientBoostingRegressor` splits on its
  gradient and sets each leaf to the exact quantile of its residuals;
* **a business cost written as one function**: a late promise (forecast
  below the actual time) costs three times an early one. ``make_loss``
  compiles it and derives its gradient and hessian; the trees use them.

Run:  python examples/plot_boosting_custom_loss.py
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from sklearn_losses.ensemble import GradientBoostingRegressor
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Quantile, SquaredError, make_loss


def late_costs_more(y, r, late=3.0):
    """Squared error, ``late`` times more expensive when the promised time r is below the actual y."""
    e = y - r
    if e > 0:
        return late * e * e
    return e * e


def deliveries(n, rng):
    distance = rng.uniform(0, 20, n)
    rush = rng.integers(0, 2, n).astype(float)
    weekday = rng.integers(0, 7, n).astype(float)
    zone = np.floor(distance / 5)  # a new depot zone every 5 km
    time = 15 + 8 * zone + 0.5 * distance + 4 * rush
    noise = rng.gamma(2.0, 0.5 + 1.5 * rush, n)  # right-skewed, wider in rush hour
    return np.column_stack([distance, rush, weekday]), time + noise


rng = np.random.default_rng(0)
X, y = deliveries(3000, rng)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
trees = dict(max_iter=100, learning_rate=0.1, max_leaf_nodes=7, min_samples_leaf=40, early_stopping=False,
             random_state=0)

# %%
# Quantile intervals: trees against the linear model
intervals = {}
for label, make in (("boosted trees", lambda q: GradientBoostingRegressor(Quantile(quantile=q), **trees)),
                    ("linear", lambda q: LinearRegressor(Quantile(quantile=q)))):
    bounds = [make(0.1).fit(X_train, y_train), make(0.9).fit(X_train, y_train)]
    intervals[label] = bounds
    low, high = (bound.predict(X_test) for bound in bounds)
    pinball = Quantile(quantile=0.1).loss(y_test, low) + Quantile(quantile=0.9).loss(y_test, high)
    covered = np.mean((y_test >= low) & (y_test <= high))
    print(f"{label:>14}: 10%-90% interval covers {covered:.3f} of held-out deliveries, "
          f"mean width {np.mean(high - low):5.2f} min, pinball (0.1 + 0.9) {pinball:.3f}")

# %%
# The business cost: fit on it, judge by it
cost = make_loss(late_costs_more, name="late_costs_more", late=3.0)
models = {
    "boosted trees, business cost": GradientBoostingRegressor(cost, **trees),
    "boosted trees, squared error": GradientBoostingRegressor(SquaredError(), **trees),
    "linear, business cost": LinearRegressor(cost),
}
print()
for label, model in models.items():
    promised = model.fit(X_train, y_train).predict(X_test)
    print(f"{label:>30}: held-out business cost {cost.loss(y_test, promised):7.3f}, "
          f"late in {np.mean(promised < y_test):.0%} of deliveries")

# %%
# In rush hour: the trees follow the depot zones, the linear interval cannot
grid = np.column_stack([np.linspace(0, 20, 400), np.ones(400), np.full(400, 3.0)])
rush = X_test[:, 1] == 1
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (label, (low, high)) in zip(axes, intervals.items()):
    ax.scatter(X_test[rush, 0], y_test[rush], s=3, alpha=0.3, color="0.5", label="rush-hour deliveries")
    ax.fill_between(grid[:, 0], low.predict(grid), high.predict(grid), alpha=0.3, label="10%-90%")
    ax.set_title(label)
    ax.set_xlabel("distance (km)")
axes[0].set_ylabel("delivery time (min)")
axes[0].legend()
fig.tight_layout()
plt.show()
