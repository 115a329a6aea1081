"""Kernel support vector machines trained on any margin or regression loss."""

from ._classes import SVMClassifier, SVMRegressor

__all__ = ["SVMClassifier", "SVMRegressor"]
