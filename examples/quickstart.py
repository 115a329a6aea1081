"""
Quickstart: losses as objects and as scorers
============================================

Load the diabetes data bundled with scikit-learn, look at a few losses from
the catalogue, evaluate losses and gradients directly, and compare two
scikit-learn regressors under several losses with cross-validation.
"""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import HuberRegressor, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses import available_losses, get_loss
from sklearn_losses.metrics import make_loss_scorer

# %%
# The catalogue, with the properties every loss declares
print(f"{'loss':28s} {'task':13s} {'convex':7s} {'robust':7s} growth")
for info in available_losses():
    p = info.properties
    print(f"{info.name:28s} {info.task:13s} {str(p['convex']):7s} {str(p['robust']):7s} {p['growth']}")

# %%
# A loss is an object: value, gradient and hessian with weights and reductions
X, y = load_diabetes(return_X_y=True)
prediction = np.full_like(y, y.mean())
huber = get_loss("huber", delta=30.0)
value, gradient = huber.loss_gradient(y, prediction)
print(f"\n{huber!r}: mean loss {value:.2f}, gradient norm {np.linalg.norm(gradient):.4f}")
print("pinball loss at q=0.9:", get_loss("quantile", quantile=0.9)(y, prediction))

# %%
# Any loss is a scorer: compare two regressors under the loss you care about
models = {
    "Ridge": make_pipeline(StandardScaler(), Ridge()),
    "HuberRegressor": make_pipeline(StandardScaler(), HuberRegressor(max_iter=1000)),
}
losses = {
    "squared_error": {},
    "huber": {"delta": 30.0},
    "quantile": {"quantile": 0.9},
    "log_cosh": {},
}
print(f"\n{'model':16s}" + "".join(f"{name:>16s}" for name in losses))
for model_name, model in models.items():
    row = [
        -cross_val_score(model, X, y, cv=5, scoring=make_loss_scorer(name, **params)).mean()
        for name, params in losses.items()
    ]
    print(f"{model_name:16s}" + "".join(f"{v:16.2f}" for v in row))
