"""
Tuning a loss hyperparameter with GridSearchCV
==============================================

A loss's hyperparameters are scikit-learn parameters of the loss object, so
``loss__delta`` of a Huber loss is tuned like ``alpha``: nested in a pipeline
it is ``linearregressor__loss__delta``. The score to select with should be the
loss you care about, here the mean absolute error of predictions on data with
heavy-tailed noise, while the training loss is Huber with the threshold
``delta`` chosen by cross-validation.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Huber
from sklearn_losses.metrics import make_loss_scorer

rng = np.random.default_rng(0)
X = rng.normal(size=(600, 5))
y = X @ np.array([1.0, 2.0, 0.0, -1.0, 0.5]) + rng.standard_t(df=1.5, size=600)  # heavy tails

pipeline = make_pipeline(StandardScaler(), LinearRegressor(Huber()))
deltas = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 20.0]
search = GridSearchCV(pipeline, {"linearregressor__loss__delta": deltas}, cv=5,
                      scoring=make_loss_scorer("absolute_error"))
search.fit(X, y)
print("best delta:", search.best_params_["linearregressor__loss__delta"])
print(f"cross-validated mean absolute error: {-search.best_score_:.3f}")

# %%
# A small delta behaves like the absolute error, a large one like the squared
# error, which the heavy tails pull around; the best threshold lies between.
mae = -search.cv_results_["mean_test_score"]
fig, ax = plt.subplots()
ax.semilogx(deltas, mae, marker="o")
ax.set_xlabel("Huber delta")
ax.set_ylabel("cross-validated mean absolute error")
