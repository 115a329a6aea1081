"""Link functions: map between target space and ``raw_prediction``.

``raw_prediction = link(prediction)`` and ``prediction = inverse(raw_prediction)``.
Losses declare their link as data (``loss.link``); estimators and scorers use it
to turn raw predictions into predictions and back.
"""

import numpy as np
from scipy.special import expit, logit, ndtr, ndtri, softmax

__all__ = ["ConditionalLink", "CumulativeLink", "IdentityLink", "LogLink", "LogitLink", "SoftmaxLink", "get_link"]



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


#: ``(cdf, survival function, inverse)`` of the cumulative models' latent distributions; the inverse maps
#: ``(p, 1 - p)``, each computed without cancellation, to ``F^{-1}(p)``.
_DISTRIBUTIONS = {
    "logit": (expit, lambda z: expit(-z), lambda p, q: np.log(p) - np.log(q)),
    "probit": (ndtr, lambda z: ndtr(-z), lambda p, q: np.where(p < 0.5, ndtri(p), -ndtri(q))),
    "cloglog": (lambda z: -np.expm1(-np.exp(z)), lambda z: np.exp(-np.exp(z)),
                lambda p, q: np.where(p < 0.5, np.log(-np.log1p(-p)), np.log(-np.log(q)))),
}


def _normalised(p):
    p = np.maximum(p, 0.0)
    return p / np.maximum(p.sum(axis=1, keepdims=True), np.finfo(p.dtype).tiny)


class CumulativeLink(BaseLink):
    """Ordinal probabilities from thresholds: ``P(y > k) = F(z_k)`` for rows ``z`` of K - 1 columns.

    ``z_k = f - theta_k`` with ordered thresholds gives non-increasing rows,
    and the class probabilities ``P(y = k) = F(z_{k-1}) - F(z_k)`` are
    differences of the cdf F (logistic, standard normal or Gumbel-min for
    ``"logit"``, ``"probit"`` and ``"cloglog"``); each difference is taken
    between survival functions in the upper tail and cdfs in the lower
    one, so small probabilities keep their relative accuracy. Rows that
    increase somewhere (not from a fitted model) have their negative
    differences set to 0 before the rows are normalised.
    """

    name = "cumulative"

    def __init__(self, distribution="logit"):
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {sorted(_DISTRIBUTIONS)}; got {distribution!r}.")
        self.distribution = distribution

    def __repr__(self):
        return f"CumulativeLink(distribution={self.distribution!r})"

    def __eq__(self, other):
        return type(self) is type(other) and self.distribution == other.distribution

    def __hash__(self):
        return hash((type(self), self.distribution))

    def inverse(self, raw_prediction):
        z = _floating(raw_prediction)
        cdf, sf, _ = _DISTRIBUTIONS[self.distribution]
        with np.errstate(over="ignore", under="ignore"):
            n = z.shape[0]
            upper = np.concatenate([np.full((n, 1), np.inf, z.dtype), z], axis=1)  # z_{k-1}
            lower = np.concatenate([z, np.full((n, 1), -np.inf, z.dtype)], axis=1)  # z_k
            p = np.where(lower > 0, sf(lower) - sf(upper), cdf(upper) - cdf(lower))
        return _normalised(p).astype(z.dtype, copy=False)

    def link(self, prediction):
        """Rows of K class probabilities to the K - 1 scores ``F^{-1}(P(y > k))``."""
        p = np.maximum(_floating(prediction), 0.0)
        below = np.cumsum(p, axis=1)[:, :-1]  # P(y <= k) and P(y > k), each summed from its own side
        above = np.cumsum(p[:, ::-1], axis=1)[:, ::-1][:, 1:]
        total = below + above
        with np.errstate(divide="ignore", invalid="ignore"):
            return _DISTRIBUTIONS[self.distribution][2](above / total, below / total)


class ConditionalLink(BaseLink):
    """Ordinal probabilities from conditional ones (CORN): ``P(y > k | y > k - 1) = sigmoid(z_k)``.

    ``P(y > k)`` is the running product of the conditional probabilities, so
    the class probabilities ``P(y > k - 1) sigmoid(-z_k)`` are non-negative
    and consistent (non-increasing cumulative probabilities) for any rows.
    """

    name = "conditional"

    def inverse(self, raw_prediction):
        z = _floating(raw_prediction)
        n = z.shape[0]
        above = np.cumprod(expit(z), axis=1)  # P(y > k)
        reached = np.concatenate([np.ones((n, 1), z.dtype), above], axis=1)  # P(y > k - 1)
        stop = np.concatenate([expit(-z), np.ones((n, 1), z.dtype)], axis=1)
        return _normalised(reached * stop).astype(z.dtype, copy=False)

    def link(self, prediction):
        """Rows of K class probabilities to the K - 1 conditional logits."""
        p = _floating(prediction)
        tail = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]  # P(y >= k)
        with np.errstate(divide="ignore", invalid="ignore"):
            return logit(np.clip(tail[:, 1:] / tail[:, :-1], 0.0, 1.0))


_LINKS = {cls.name: cls for cls in (IdentityLink, LogLink, LogitLink, SoftmaxLink, CumulativeLink, ConditionalLink)}


def get_link(name):
    """Return the link instance called ``name`` ("identity", "log", "logit", "softmax", "cumulative",
    "conditional")."""
    try:
        return _LINKS[name]()
    except KeyError:
        raise ValueError(f"Unknown link {name!r}; expected one of {sorted(_LINKS)}.") from None
