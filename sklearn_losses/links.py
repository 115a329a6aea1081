"""Link functions: map between target space and ``raw_prediction``.

``raw_prediction = link(prediction)`` and ``prediction = inverse(raw_prediction)``.
Losses declare their link as data (``loss.link``); estimators and scorers use it
to turn raw predictions into predictions and back.
"""

import numpy as np
from scipy.special import expit, logit, softmax

__all__ = ["IdentityLink", "LogLink", "LogitLink", "SoftmaxLink", "get_link"]


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
        return np.asarray(prediction, dtype=float)

    def inverse(self, raw_prediction):
        return np.asarray(raw_prediction, dtype=float)


class LogLink(BaseLink):
    """raw_prediction = log(prediction); prediction = exp(raw_prediction)."""

    name = "log"

    def link(self, prediction):
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(prediction, dtype=float))

    def inverse(self, raw_prediction):
        with np.errstate(over="ignore"):
            return np.exp(np.asarray(raw_prediction, dtype=float))


class LogitLink(BaseLink):
    """raw_prediction = log(p / (1 - p)); p = sigmoid(raw_prediction)."""

    name = "logit"

    def link(self, prediction):
        return logit(np.asarray(prediction, dtype=float))

    def inverse(self, raw_prediction):
        return expit(np.asarray(raw_prediction, dtype=float))


class SoftmaxLink(BaseLink):
    """Rows of probabilities from rows of logits (defined up to a constant)."""

    name = "softmax"

    def link(self, prediction):
        with np.errstate(divide="ignore"):
            raw = np.log(np.asarray(prediction, dtype=float))
        return raw - raw.mean(axis=1, keepdims=True)

    def inverse(self, raw_prediction):
        return softmax(np.asarray(raw_prediction, dtype=float), axis=1)


_LINKS = {cls.name: cls for cls in (IdentityLink, LogLink, LogitLink, SoftmaxLink)}


def get_link(name):
    """Return the link instance called ``name`` ("identity", "log", "logit", "softmax")."""
    try:
        return _LINKS[name]()
    except KeyError:
        raise ValueError(f"Unknown link {name!r}; expected one of {sorted(_LINKS)}.") from None
