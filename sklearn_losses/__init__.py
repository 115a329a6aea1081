"""sklearn_losses: train scikit-learn models on the loss you actually care about.

Losses are first-class objects (``sklearn_losses.losses``) with compiled value,
gradient and hessian kernels, sklearn parameters and a registry; any loss is
also a scorer (``sklearn_losses.metrics``). :func:`precompile` compiles the
kernels of chosen estimators and losses ahead of need.
"""

from ._precompile import precompile
from .losses import available_losses, get_loss

__version__ = "0.1.0"

__all__ = ["__version__", "available_losses", "get_loss", "precompile"]
