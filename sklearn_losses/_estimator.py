"""What every estimator's ``fit`` shares: validated weights and a fit that fails without side effects.

* :func:`check_sample_weight`: ``sample_weight`` as a float64 array, refused
  with a ``ValueError`` naming ``sample_weight`` when negative or not finite
  (the losses refuse such weights too).
* :func:`class_sample_weight`: the per-sample weights of ``class_weight``
  (a dict or ``"balanced"``), refused when an entry is negative or not finite.
* :func:`keeps_model_on_failure`: wraps ``fit`` and ``partial_fit`` so that a
  call that raises, for any reason (bad input, divergence, an interrupted
  fit), leaves every attribute as it was before the call; inside a Dask
  worker's task the call runs with that task's share of the host's cores as
  numba threads (:mod:`._workers`).
* :class:`NamedLossParamsMixin`: ``set_params(loss__<parameter>=...)`` works
  when ``loss`` is a name too (a grid search over a loss's parameters).
"""

import functools
from numbers import Real

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

from ._workers import numba_threads, worker_numba_threads

__all__ = ["NamedLossParamsMixin", "check_sample_weight", "class_sample_weight", "keeps_model_on_failure"]


def check_sample_weight(sample_weight, X, dtype=np.float64):
    """``sample_weight`` validated for ``X``: finite, non-negative, one per row (None: ones)."""
    if sample_weight is not None and not np.isscalar(sample_weight):
        values = np.asarray(sample_weight)
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            raise ValueError("sample_weight contains NaN or infinity; weights must be finite and non-negative.")
    return _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)


def class_sample_weight(class_weight, y):
    """Per-sample weights of ``class_weight`` for labels ``y`` (scikit-learn's ``compute_sample_weight``).

    Raises a ``ValueError`` naming ``class_weight`` when a weight of the dict
    is not a finite non-negative number.
    """
    if isinstance(class_weight, dict):
        for label, weight in class_weight.items():
            if isinstance(weight, bool) or not isinstance(weight, Real) or not (np.isfinite(weight) and weight >= 0):
                raise ValueError(f"class_weight[{label!r}] = {weight!r}: class weights must be finite and "
                                 "non-negative numbers.")
    return compute_sample_weight(class_weight, y)


def keeps_model_on_failure(method):
    """Decorator: if ``method`` raises, the estimator's attributes are restored to what they were.

    The state is copied before the call (fitted arrays are replaced by a fit,
    never written in place, so a shallow copy of the attribute dictionary
    suffices; mutable solver states that ``partial_fit`` advances in place
    are deep-copied by their owners).
    """
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        state = dict(self.__dict__)
        try:
            with numba_threads(worker_numba_threads()):  # in a Dask worker's task: its share of the cores
                return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    return wrapper



class NamedLossParamsMixin:
    """``set_params(loss__<parameter>=...)`` for a ``loss`` given by name as well as by instance.

    scikit-learn's ``set_params`` reaches a nested parameter through the
    object that holds it, so ``loss__delta`` needs ``loss`` to be a loss
    instance; with ``loss="huber"`` it would fail on the string. Here a name
    (the current ``loss``, or one set in the same call) is first replaced by
    its instance, ``get_loss(name)`` (the loss's default parameters), so
    ``GridSearchCV(make_pipeline(..., LinearRegressor("huber")), {"linearregressor__loss__delta": [...]})``
    works as with ``loss=Huber()``.
    """

    def set_params(self, **params):
        if any(key.startswith("loss__") for key in params):
            named = params.get("loss", getattr(self, "loss", None))
            if isinstance(named, str):
                from .losses import get_loss

                params = {**params, "loss": get_loss(named)}
        return super().set_params(**params)
