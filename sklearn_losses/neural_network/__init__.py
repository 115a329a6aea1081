"""Small multi-layer perceptrons trained on any loss.

:class:`MLPRegressor` and :class:`MLPClassifier` take the parameters of
:mod:`sklearn.neural_network` with the same meaning, so swapping the import
works, and add ``loss`` (any registered, composite or custom loss),
``class_weight``, ``sample_weight`` in every solver, gradient clipping and
early stopping on the validation loss. :class:`MLPOrdinalClassifier` trains
a network on ordered classes with any ordinal loss.
"""

from ._classes import MLPClassifier, MLPRegressor
from ._ordinal import MLPOrdinalClassifier

__all__ = ["MLPClassifier", "MLPOrdinalClassifier", "MLPRegressor"]
