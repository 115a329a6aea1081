"""Linear models trained on any loss: :class:`LinearRegressor` and :class:`LinearClassifier`."""

from ._classifier import LinearClassifier
from ._regressor import LinearRegressor

__all__ = ["LinearClassifier", "LinearRegressor"]
