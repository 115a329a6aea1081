"""
Ordered ratings: satisfaction with housing
==========================================

1681 residents of Copenhagen rated their satisfaction with their housing as
Low < Medium < High (the Copenhagen housing survey, bundled as
:func:`sklearn_losses.datasets.load_copenhagen_housing`; it is a frequency
table of 72 cells). A multiclass classifier ignores that the classes are
ordered; an ordinal model has one latent score ``f(x)`` and ordered
thresholds, ``P(y > k) = F(f(x) - theta_k)``. We fit the proportional-odds
model on the table with its counts as sample weights, draw the cumulative
probabilities against the latent score with the thresholds, and compare the
ordinal error (mean absolute error of the ranks) of the cumulative-logit and
all-threshold models with multinomial logistic regression.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder

from sklearn_losses.datasets import load_copenhagen_housing
from sklearn_losses.linear_model import OrdinalClassifier
from sklearn_losses.metrics import mean_absolute_rank_error, quadratic_weighted_kappa

table = load_copenhagen_housing()
order = table.target_order
encoder = OneHotEncoder(categories=[table.categories[name] for name in table.feature_names], drop="first",
                        sparse_output=False)
X_table = encoder.fit_transform(table.data)
names = encoder.get_feature_names_out(table.feature_names)

# %%
# The proportional-odds model, fitted on the table's 72 cells with their counts
# as frequencies (the same fit as on the 1681 expanded rows)
model = OrdinalClassifier("cumulative_logit", penalty=None, classes=order)
model.fit(X_table, table.target, sample_weight=table.counts)
for name, coef in zip(names, model.coef_):
    print(f"{name:<16} {coef:+.3f}")
print("thresholds", np.round(model.thresholds_, 3))

# %%
# Cumulative probabilities P(y > k) against the latent score, and the thresholds
scores = np.linspace(-3.0, 3.0, 200)
raw = scores[:, None] - model.thresholds_[None, :]
probabilities = model.loss_.inverse_link(raw)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for k in range(len(order) - 1):
    left.plot(scores, 1.0 - np.cumsum(probabilities, axis=1)[:, k], label=f"P(y > {order[k]})")
    left.axvline(model.thresholds_[k], color="0.6", linestyle="--", linewidth=0.8)
left.set_xlabel("latent score f(x) = x @ coef_ (thresholds dashed)")
left.set_ylabel("cumulative probability")
left.legend()
for k, label in enumerate(order):
    right.plot(scores, probabilities[:, k], label=f"P(y = {label})")
right.set_xlabel("latent score f(x)")
right.set_ylabel("class probability")
right.legend()
fig.tight_layout()

# %%
# Held-out ordinal error: one row per resident, 5-fold cross-validation
rows = load_copenhagen_housing(expand=True)
X, y = encoder.transform(rows.data), rows.target
models = {
    "cumulative logit (OrdinalClassifier)": lambda: OrdinalClassifier("cumulative_logit", classes=order),
    "all-threshold log loss (OrdinalClassifier)": lambda: OrdinalClassifier("all_threshold", classes=order),
    "multinomial LogisticRegression": lambda: LogisticRegression(max_iter=1000),
}
print(f"\n{'model':<44}{'ordinal MAE':>12}{'QWK':>8}")
for label, make in models.items():
    predicted = np.empty_like(y)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        predicted[test] = make().fit(X[train], y[train]).predict(X[test])
    print(f"{label:<44}{mean_absolute_rank_error(y, predicted, classes=order):>12.4f}"
          f"{quadratic_weighted_kappa(y, predicted, classes=order):>8.4f}")
