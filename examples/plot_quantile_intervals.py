"""
Prediction intervals with quantile regression
=============================================

Delivery times grow noisier with distance. A prediction interval that
contains 80% of deliveries needs the 10% and 90% quantiles of the time given
the distance, not a mean and a constant width. The pinball (quantile) loss
estimates a conditional quantile; we fit one model per quantile with
:class:`~sklearn_losses.linear_model.LinearRegressor` (here the quantiles are
linear in the distance; swap in
:class:`~sklearn_losses.neural_network.MLPRegressor` when they are not) and
check the coverage on held-out data.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Quantile

rng = np.random.default_rng(0)


def deliveries(n):
    distance = rng.uniform(0, 10, n)
    time = 10 + 3 * distance + rng.gamma(2.0, 0.4 + 0.4 * distance)  # skewed, wider with distance
    return distance[:, None], time


X, y = deliveries(2000)
X_test, y_test = deliveries(2000)

# %%
# One model per quantile
models = {q: LinearRegressor(Quantile(quantile=q), alpha=0.0).fit(X, y) for q in (0.1, 0.5, 0.9)}
low, mid, high = (models[q].predict(X_test) for q in (0.1, 0.5, 0.9))
print(f"below the 10% quantile: {np.mean(y_test < low):.3f}")
print(f"below the median:       {np.mean(y_test < mid):.3f}")
print(f"below the 90% quantile: {np.mean(y_test < high):.3f}")
print(f"coverage of the 80% interval: {np.mean((y_test >= low) & (y_test <= high)):.3f}")

# %%
# The interval widens where the deliveries are less predictable
order = np.argsort(X_test[:, 0])
fig, ax = plt.subplots()
ax.scatter(X_test[:, 0], y_test, s=3, alpha=0.3, color="0.5", label="deliveries")
ax.plot(X_test[order, 0], mid[order], label="median")
ax.fill_between(X_test[order, 0], low[order], high[order], alpha=0.3, label="10%-90% interval")
ax.set_xlabel("distance")
ax.set_ylabel("delivery time")
ax.legend()
