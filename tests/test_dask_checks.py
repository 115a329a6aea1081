"""scikit-learn's estimator checks on the Dask-aware LinearRegressor and LinearClassifier with in-memory data (left
out of the pure-Python CI pass with the other *_checks.py files)."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

pytest.importorskip("dask.array")

from sklearn_losses.dask import LinearClassifier, LinearRegressor  # noqa: E402


@parametrize_with_checks([LinearRegressor(), LinearClassifier()])
def test_sklearn_estimator_checks_in_memory(estimator, check):
    check(estimator)
