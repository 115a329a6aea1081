"""Linear models trained on any loss: :class:`LinearRegressor`, :class:`LinearClassifier` and
:class:`OrdinalClassifier`."""

from ._classifier import LinearClassifier
from ._ordinal import OrdinalClassifier
from ._regressor import LinearRegressor

__all__ = ["LinearClassifier", "LinearRegressor", "OrdinalClassifier"]
