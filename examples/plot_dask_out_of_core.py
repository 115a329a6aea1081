"""
Fitting on a Dask array that is never gathered
==============================================

:mod:`sklearn_losses.dask` fits :class:`~sklearn_losses.dask.LinearClassifier`
and :class:`~sklearn_losses.dask.LinearRegressor` on Dask collections: every
evaluation of the objective is one task per block of rows plus a tree
reduction, so the data stay on the workers (or are generated, read, and
dropped block by block). We start a small LocalCluster, build X lazily from a
seeded generator, fit a Huber regression with outliers in the targets and a
log-loss classifier, compare them with the in-memory fits of the same data,
and plot the coefficients and the lazily computed predictions.
"""

import warnings

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster

from sklearn_losses import linear_model
from sklearn_losses.dask import LinearClassifier, LinearRegressor

# the workers are threads of this process (processes=False): nothing to guard for spawned processes
warnings.simplefilter("ignore", UserWarning)  # the cluster's start-up notices
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)

# %%
# 400,000 rows in 8 blocks, generated on the workers when a task needs them
rng = da.random.RandomState(0)
X = rng.standard_normal((400_000, 8), chunks=(50_000, 8))
beta = np.linspace(-2.0, 2.0, 8)
noise = rng.standard_normal(400_000, chunks=50_000)
y = X @ beta + noise + 20.0 * (rng.random_sample(400_000, chunks=50_000) < 0.05)  # 5% gross outliers
labels = (X @ beta + noise > 0).astype(int)

huber = LinearRegressor("huber", alpha=1e-4).fit(X, y)
classifier = LinearClassifier("log_loss", alpha=1e-4).fit(X, labels)
print(f"Huber: {huber.n_iter_} iterations, objective {huber.objective_:.8f}")
print(f"log loss: {classifier.n_iter_} iterations, objective {classifier.objective_:.8f}")

# %%
# The same fits in memory agree to the last digits
X_memory, y_memory, labels_memory = X.compute(), y.compute(), labels.compute()
reference = linear_model.LinearRegressor("huber", alpha=1e-4).fit(X_memory, y_memory)
print(f"Huber coefficients, largest difference from the in-memory fit: "
      f"{np.max(np.abs(huber.coef_ - reference.coef_)):.2e}")
squared = linear_model.LinearRegressor("squared_error", alpha=1e-4).fit(X_memory, y_memory)

# %%
# Predictions are lazy Dask arrays; the accuracy is a lazy 0-d array
proba = classifier.predict_proba(X)
print(f"predict_proba is a {type(proba).__name__} of shape {proba.shape}; accuracy "
      f"{float(classifier.score(X, labels).compute()):.4f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
positions = np.arange(8)
left.bar(positions - 0.2, beta, width=0.2, label="true")
left.bar(positions, huber.coef_, width=0.2, label="Huber on the Dask array")
left.bar(positions + 0.2, squared.coef_, width=0.2, label="squared error (in memory)")
left.set_xlabel("feature")
left.set_ylabel("coefficient")
left.legend()
left.set_title("Outliers pull the squared error, not Huber")
sample = proba[:2000, 1].compute()
right.hist(sample, bins=30)
right.set_xlabel("P(y = 1), first 2,000 rows")
right.set_title("Lazy predict_proba, computed for a slice")
plt.tight_layout()
plt.show()
client.close()
cluster.close()
