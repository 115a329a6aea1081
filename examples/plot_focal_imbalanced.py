"""
Focal loss for a rare class
===========================

A fraud detector sees one fraudulent transaction in fifty. With the log loss,
the many easy legitimate transactions dominate the gradient; the focal loss
(Lin et al., 2017) scales each sample's log loss by ``(1 - p_t)^gamma`` so
that well-classified samples count less and the hard, rare ones more. Class
weights are the other classical remedy. We compare the three with
:class:`~sklearn_losses.neural_network.MLPClassifier` on the ranking of the
rare class (average precision) and on its recall at the default threshold.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score, precision_recall_curve, recall_score
from sklearn.model_selection import train_test_split

from sklearn_losses.losses import Focal
from sklearn_losses.neural_network import MLPClassifier

X, y = make_classification(6000, 20, n_informative=6, weights=[0.98], flip_y=0.0, class_sep=0.8,
                           random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"rare class: {y.mean():.1%} of the samples")

# %%
# Three ways to train on the rare class
models = {
    "log loss": MLPClassifier("log_loss"),
    "log loss, balanced class weights": MLPClassifier("log_loss", class_weight="balanced"),
    "focal loss (gamma=2)": MLPClassifier(Focal(gamma=2.0)),
}
fig, ax = plt.subplots()
print(f"{'training loss':34s} {'average precision':>17s} {'recall':>7s}")
for name, model in models.items():
    model.set_params(hidden_layer_sizes=(32,), learning_rate_init=0.005, max_iter=60, random_state=0)
    model.fit(X_train, y_train)
    score = model.predict_proba(X_test)[:, 1]
    ap = average_precision_score(y_test, score)
    recall = recall_score(y_test, model.predict(X_test))
    print(f"{name:34s} {ap:17.3f} {recall:7.3f}")
    precision, rec, _ = precision_recall_curve(y_test, score)
    ax.plot(rec, precision, label=f"{name} (AP {ap:.2f})")
ax.set_xlabel("recall of the rare class")
ax.set_ylabel("precision")
ax.legend()
