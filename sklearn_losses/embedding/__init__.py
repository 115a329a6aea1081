"""Embedding estimators: linear and MLP transformers trained on any embedding loss.

:class:`LinearEmbedding` learns a linear map (a metric learner, as
:class:`~sklearn.neighbors.NeighborhoodComponentsAnalysis`) and
:class:`MLPEmbedding` a small network, each minimising a loss with
``task="embedding"`` (:class:`~sklearn_losses.losses.Contrastive`,
:class:`~sklearn_losses.losses.TripletMargin`,
:class:`~sklearn_losses.losses.NTXent`, :class:`~sklearn_losses.losses.SupCon`
or a user's); both are transformers (``fit(X, y)``, ``transform(X)``).
"""

from ._linear import LinearEmbedding
from ._mlp import MLPEmbedding

__all__ = ["LinearEmbedding", "MLPEmbedding"]
