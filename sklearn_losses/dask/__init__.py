"""Fitting on Dask collections: full-batch linear models whose objective is distributed over row blocks.

``pip install "sklearn-losses[dask]"``. :class:`LinearRegressor` and
:class:`LinearClassifier` are the estimators of
:mod:`sklearn_losses.linear_model` (same parameters, same results in
memory); given Dask arrays or dataframes they fit without gathering the data
(each evaluation of the objective is a map over the row blocks and a tree
reduction on the client) and predict lazily.
"""

from ._linear import LinearClassifier, LinearRegressor, is_dask_collection

__all__ = ["LinearClassifier", "LinearRegressor", "is_dask_collection"]
