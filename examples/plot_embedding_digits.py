"""
Embeddings of handwritten digits: triplet, SupCon and NCA
=========================================================

A metric learner maps samples so that neighbours share a label. scikit-learn
has one, :class:`~sklearn.neighbors.NeighborhoodComponentsAnalysis`, with a
fixed objective and memory quadratic in the number of samples;
:class:`~sklearn_losses.embedding.LinearEmbedding` takes any embedding loss
and trains on class-balanced minibatches, so its memory is that of a batch.
We embed the 8x8 digits (standardised, stratified 70/30 split) in two
dimensions with the triplet loss, the supervised contrastive loss (SupCon)
and NCA, plot the held-out digits in each embedding, and compare the
accuracy of a 3-nearest-neighbour classifier on the embeddings at 2 and at 16
dimensions. The losses here keep their embeddings unnormalised
(``normalize=False``): in two dimensions a normalising loss would put every
digit on the unit circle.
"""

import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.embedding import LinearEmbedding, MLPEmbedding
from sklearn_losses.losses import SupCon, TripletMargin

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def methods(n_components):
    return {
        "triplet": LinearEmbedding(TripletMargin(margin=1.0, normalize=False), n_components, random_state=0),
        "SupCon": LinearEmbedding(SupCon(temperature=0.5, distance="euclidean", normalize=False), n_components,
                                  random_state=0),
        "NCA": NeighborhoodComponentsAnalysis(n_components, random_state=0),
        "SupCon, MLP (64 hidden)": MLPEmbedding(SupCon(temperature=0.5, distance="euclidean", normalize=False),
                                                (64,), n_components, learning_rate_init=0.003, random_state=0),
    }


# %%
# 3-NN accuracy on the held-out digits, and fit times
fitted = {}
for n_components in (2, 16):
    for name, embedding in methods(n_components).items():
        model = make_pipeline(StandardScaler(), embedding, KNeighborsClassifier(3))
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(f"{n_components:2d} dims  {name:24s} 3-NN accuracy {model.score(X_test, y_test):.3f}  "
              f"fit {seconds:.2f} s")
        if n_components == 2:
            fitted[name] = model

# %%
# The held-out digits in each 2-D embedding, coloured by digit
fig, axes = plt.subplots(1, len(fitted), figsize=(4.2 * len(fitted), 4))
for ax, (name, model) in zip(axes, fitted.items()):
    points = model[:-1].transform(X_test)
    scatter = ax.scatter(points[:, 0], points[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set_title(f"{name}: 3-NN {model.score(X_test, y_test):.2f}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(scatter, ax=axes, ticks=range(10), label="digit")
plt.show()
