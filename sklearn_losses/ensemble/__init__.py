"""Gradient boosting with any loss: histogram trees that train on the catalogue, custom losses included.

:class:`GradientBoostingRegressor` and :class:`GradientBoostingClassifier`
take scikit-learn's ``HistGradientBoosting*`` parameters; the loss's
declarations (hessian kind, piecewise-linear structure, batch structure,
baseline) decide how the trees' leaves are set. For users who stay on their
booster, :func:`as_lightgbm_objective` and :func:`as_xgboost_objective` turn a
loss into those libraries' custom objectives.
"""

from ._adapters import as_lightgbm_objective, as_xgboost_objective
from ._classes import GradientBoostingClassifier, GradientBoostingRegressor

__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor", "as_lightgbm_objective",
           "as_xgboost_objective"]
