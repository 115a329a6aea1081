"""Link functions: map between target space and ``raw_prediction``.

``raw_prediction = link(prediction)`` and ``prediction = inverse(raw_prediction)``.
Losses declare their link as data (``loss.link``); estimators and scorers use it
to turn raw predictions into predictions and back.
"""

import numpy as np
from scipy.special import expit, logit, softmax

__all__ = ["IdentityLink", "LogLink", "LogitLink", "SoftmaxLink", "get_link"]



def _floating(values):
    """``values`` as a float array: float32 stays float32 (as scikit-learn preserves it), else float64."""
    values = np.asarray(values)
    return values if values.dtype in (np.float32, np.float64) else values.astype(np.float64)

class BaseLink:
    """A link function g with ``link(prediction) = g(prediction)``."""

    name = "base"

    def link(self, prediction):
        raise NotImplementedError  # pragma: no cover - abstract

    def inverse(self, raw_prediction):
        raise NotImplementedError  # pragma: no cover - abstract

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


class IdentityLink(BaseLink):
    """raw_prediction = prediction."""

    name = "identity"

    def link(self, prediction):
        return _floating(prediction)

    def inverse(self, raw_prediction):
        return _floating(raw_prediction)


class LogLink(BaseLink):
    """raw_prediction = log(prediction); prediction = exp(raw_prediction)."""

    name = "log"

    def link(self, prediction):
        with np.errstate(divide="ignore"):
            return np.log(_floating(prediction))

    def inverse(self, raw_prediction):
        with np.errstate(over="ignore"):
            return np.exp(_floating(raw_prediction))


class LogitLink(BaseLink):
    """raw_prediction = log(p / (1 - p)); p = sigmoid(raw_prediction)."""

    name = "logit"

    def link(self, prediction):
        return logit(_floating(prediction))

    def inverse(self, raw_prediction):
        return expit(_floating(raw_prediction))


class SoftmaxLink(BaseLink):
    """Rows of probabilities from rows of logits (defined up to a constant)."""

    name = "softmax"

    def link(self, prediction):
        with np.errstate(divide="ignore"):
            raw = np.log(_floating(prediction))
        return raw - raw.mean(axis=1, keepdims=True)

    def inverse(self, raw_prediction):
        return softmax(_floating(raw_prediction), axis=1)


_LINKS = {cls.name: cls for cls in (IdentityLink, LogLink, LogitLink, SoftmaxLink)}


def get_link(name):
    """Return the link instance called ``name`` ("identity", "log", "logit", "softmax")."""
    try:
        return _LINKS[name]()
    except KeyError:
        raise ValueError(f"Unknown link {name!r}; expected one of {sorted(_LINKS)}.") from None
