"""
Multilabel tagging trained for Dice and Jaccard
===============================================

Each document of a multilabel problem carries any number of tags, and a
tagger is judged per tag (macro F1 or Jaccard over the tags). Both
:class:`~sklearn_losses.linear_model.LinearClassifier` and
:class:`~sklearn_losses.neural_network.MLPClassifier` take the 0/1 indicator
matrix ``y`` of shape (n_samples, n_tags) with any binary or overlap loss;
an overlap loss is then the mean over the tags of each tag's loss of the
batch. We train on the log loss, the soft Dice, and their sum (the robust
choice: the log loss keeps a gradient where the Dice saturates).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score, jaccard_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_losses.linear_model import LinearClassifier
from sklearn_losses.losses import WeightedSum
from sklearn_losses.neural_network import MLPClassifier

X, Y = make_multilabel_classification(2000, 20, n_classes=6, n_labels=2, random_state=0)
X = StandardScaler().fit_transform(X)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
print("positives per tag:", np.round(Y.mean(axis=0), 2))

losses = {"log loss": "log_loss", "soft Dice": "soft_dice",
          "log loss + soft Dice": WeightedSum([(1.0, "log_loss"), (1.0, "soft_dice")])}
rows = []
for estimator_name, make in (("linear", lambda loss: LinearClassifier(loss, alpha=1e-3)),
                             ("MLP", lambda loss: MLPClassifier(loss, hidden_layer_sizes=(32,), solver="lbfgs",
                                                                alpha=0.1, max_iter=500, tol=2e-3, random_state=0))):
    for loss_name, loss in losses.items():
        model = make(loss).fit(X_train, Y_train)
        predicted = model.predict(X_test)  # the indicator matrix
        rows.append((f"{estimator_name}, {loss_name}", f1_score(Y_test, predicted, average="macro"),
                     jaccard_score(Y_test, predicted, average="macro")))
        print(f"{rows[-1][0]:30s} macro F1 {rows[-1][1]:.3f}  macro Jaccard {rows[-1][2]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
positions = np.arange(len(rows))
ax.barh(positions - 0.2, [r[1] for r in rows], 0.4, label="macro F1")
ax.barh(positions + 0.2, [r[2] for r in rows], 0.4, label="macro Jaccard")
ax.set_yticks(positions, [r[0] for r in rows])
ax.set_xlim(0.4, 0.9)
ax.set_xlabel("held-out score")
ax.legend(loc="lower right")
ax.set_title("Six tags: log loss against the overlap losses")
fig.tight_layout()
