"""
Choosing a robust regression loss when the data have outliers
=============================================================

A sensor reports a quantity that depends linearly on three inputs, but one
reading in ten is corrupted by a large positive error. The squared error lets
the corrupted readings pull the fit; Huber, pseudo-Huber, the absolute error
and Barron's general robust loss bound their influence. We fit
:class:`~sklearn_losses.linear_model.LinearRegressor` with each loss and
measure the error on clean held-out data, then draw the losses' shapes to see
why.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import GeneralRobust, Huber
from sklearn_losses.plotting import LossShapeDisplay

rng = np.random.default_rng(0)
coef = np.array([2.0, -1.0, 0.5])
X = rng.normal(size=(400, 3))
y = X @ coef + 0.3 * rng.normal(size=400)
corrupted = rng.random(400) < 0.1
y[corrupted] += rng.uniform(5, 15, corrupted.sum())  # one reading in ten is far too high
X_clean = rng.normal(size=(2000, 3))
y_clean = X_clean @ coef

# %%
# Fit one model per loss and measure it on clean data
losses = {
    "squared_error": "squared_error",
    "huber (delta=0.5)": Huber(delta=0.5),
    "pseudo_huber": "pseudo_huber",
    "absolute_error": "absolute_error",
    "general_robust (alpha=-2)": GeneralRobust(alpha=-2.0, scale=0.5),
}
print(f"{'loss':28s} {'clean RMSE':>10s} {'coef error':>10s}")
for name, loss in losses.items():
    model = LinearRegressor(loss, alpha=0.0).fit(X, y)
    rmse = np.sqrt(np.mean((model.predict(X_clean) - y_clean) ** 2))
    print(f"{name:28s} {rmse:10.3f} {np.linalg.norm(model.coef_ - coef):10.3f}")

# %%
# Why: beyond a few noise levels a robust loss grows slowly (or not at all),
# so its gradient, the pull of one residual on the fit, stays bounded.
display = LossShapeDisplay.from_losses(list(losses.values()), x_range=(-4, 4))
display.figure_.suptitle("loss and its gradient against the residual")
plt.tight_layout()
