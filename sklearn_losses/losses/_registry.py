"""The registry of losses: names to classes, used by estimators, docs and tests."""

import re
from typing import NamedTuple

from sklearn.base import clone

from ._base import BaseLoss

__all__ = ["LossInfo", "available_losses", "get_loss", "register_alias", "register_loss"]

_REGISTRY = {}
_ALIASES = {}  # name -> (class, parameters)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class LossInfo(NamedTuple):
    """One row of :func:`available_losses`."""

    name: str
    cls: type
    task: str
    properties: dict


def register_loss(cls):
    """Class decorator: add a loss class to the registry under ``cls.name``.

    Every registered loss is checked by the test suite's loss contract
    (:func:`sklearn_losses.testing.check_loss`) automatically.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseLoss)):
        raise TypeError(f"register_loss expects a BaseLoss subclass; got {cls!r}.")
    name = cls.name
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{cls.__name__}.name must be a snake_case string; got {name!r}.")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"A loss named {name!r} is already registered ({_REGISTRY[name].__name__}).")
    _REGISTRY[name] = cls
    return cls


def register_alias(name, cls, **params):
    """Register ``name`` as a registered loss class with fixed parameters (``"cumulative_probit"``).

    Aliases are accepted by :func:`get_loss` (and so by every estimator's
    ``loss``); :func:`available_losses` lists the classes under their own names.
    """
    if not isinstance(name, str) or not _NAME.match(name) or name in _REGISTRY:
        raise ValueError(f"Cannot register the alias {name!r}: not a snake_case name, or a loss's name.")
    if _REGISTRY.get(cls.name) is not cls:
        raise ValueError(f"register_alias: {cls.__name__} is not a registered loss.")
    _ALIASES[name] = (cls, params)


def get_loss(loss, **params):
    """Return a loss instance from a registry name or a loss instance.

    Parameters
    ----------
    loss : str or BaseLoss
        A registered name such as ``"huber"`` (see :func:`available_losses`)
        or a loss instance, which is cloned; aliases (``"cumulative_probit"``:
        a registered loss with fixed parameters) are accepted too.
    **params
        Hyperparameters of the loss, e.g. ``get_loss("huber", delta=2.0)``.

    Returns
    -------
    BaseLoss
    """
    if isinstance(loss, BaseLoss):
        instance = clone(loss)
    elif isinstance(loss, str):
        if loss in _ALIASES:
            cls, fixed = _ALIASES[loss]
            instance = cls(**fixed)
        elif loss in _REGISTRY:
            instance = _REGISTRY[loss]()
        else:
            raise ValueError(
                f"Unknown loss {loss!r}. Available losses: {', '.join(sorted(_REGISTRY))} "
                f"(and the aliases {', '.join(sorted(_ALIASES))})."
            )
    else:
        raise TypeError(f"loss must be a loss name (str) or a loss instance; got {type(loss).__name__}.")
    if params:
        instance.set_params(**params)
    return instance


def available_losses(task=None):
    """List the registered losses.

    Parameters
    ----------
    task : str, default=None
        Keep only the losses of this task ("regression", "binary", ...).

    Returns
    -------
    list of LossInfo
        ``(name, cls, task, properties)`` sorted by task and name; the
        properties are those of the loss with its default parameters.
    """
    rows = []
    for name, cls in _REGISTRY.items():
        instance = cls()
        if task is None or instance.task == task:
            rows.append(LossInfo(name, cls, instance.task, instance.properties()))
    return sorted(rows, key=lambda row: (row.task, row.name))
