"""
Loss curves and early stopping
==============================

With ``early_stopping=True`` an estimator holds out ``validation_fraction`` of
the training data, records the loss on it after every epoch
(``validation_loss_curve_``), stops when it has not improved for
``n_iter_no_change`` epochs and restores the weights of the best epoch.
:class:`~sklearn_losses.plotting.LossCurveDisplay` draws both curves.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import make_regression
from sklearn.model_selection import train_test_split

from sklearn_losses.losses import get_loss
from sklearn_losses.neural_network import MLPRegressor
from sklearn_losses.plotting import LossCurveDisplay

X, y = make_regression(600, 20, n_informative=5, noise=40.0, random_state=0)
y = y / y.std()
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

common = dict(hidden_layer_sizes=(256,), learning_rate_init=0.01, max_iter=300, random_state=0)
stopped = MLPRegressor("huber", early_stopping=True, n_iter_no_change=10, **common).fit(X_train, y_train)
full = MLPRegressor("huber", **common, tol=0.0, n_iter_no_change=300).fit(X_train, y_train)

huber = get_loss("huber")
best = min(range(len(stopped.validation_loss_curve_)), key=stopped.validation_loss_curve_.__getitem__)
print(f"early stopping: {stopped.n_iter_} epochs, best at epoch {best + 1}, "
      f"test Huber loss {huber(y_test, stopped.predict(X_test)):.4f}")
print(f"all {full.n_iter_} epochs: test Huber loss {huber(y_test, full.predict(X_test)):.4f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
LossCurveDisplay.from_estimator(stopped, ax=left)
left.set_title("early stopping (best weights restored)")
LossCurveDisplay.from_estimator(full, ax=right)
right.set_title("300 epochs: the training loss keeps falling")
plt.tight_layout()
