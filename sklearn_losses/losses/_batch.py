"""Losses of a whole batch that are not sums over samples (``structure = "batch"``).

A batch loss ``L(y, r, w)`` is one number for the batch given (soft F1, soft
Dice). Its reductions keep the units of the per-sample losses: ``"mean"`` is
``L`` itself, ``"sum"`` is the total weight times ``L`` (so a loss curve of
sums over minibatches stays comparable), and ``"none"`` does not exist.
Sample weights enter the statistics the loss is computed from, so where the
loss is defined on a multiset integer weights equal repeated rows.

A *decomposable* batch loss is a function of additive statistics
``S = sum_i s(y_i, r_i, w_i)``: :meth:`BatchLoss.statistics`,
:meth:`BatchLoss.value_from_statistics` and
:meth:`BatchLoss.gradient_from_statistics` let a fit compute ``S`` in chunks
(or on several machines), add the chunks, and then the gradient of each
chunk given the total. Subclasses write three vectorised functions:
``_sample_statistics(y, r)`` (one row of statistics per sample, before the
weights), ``_value(S)`` and ``_value_gradient(S)`` (``L`` and its derivative
in ``S``), and ``_statistics_gradient(y, r, dS)`` (the derivative of
``dS . s(y_i, r_i)`` in ``r_i``, per sample).
"""

import numpy as np

from ._base import BaseLoss, check_weights

__all__ = ["BatchLoss"]


class BatchLoss(BaseLoss):
    """Base class of decomposable batch losses (see the module docstring)."""

    structure = "batch"
    decomposable = True
    hessian = "none"
    twice_differentiable = False

    # ---------------------------------------------------------- subclasses
    def _sample_statistics(self, y, raw):  # pragma: no cover - abstract
        raise NotImplementedError

    def _value(self, S):  # pragma: no cover - abstract
        raise NotImplementedError

    def _value_gradient(self, S):  # pragma: no cover - abstract
        raise NotImplementedError

    def _statistics_gradient(self, y, raw, dS):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------- statistics
    def _inputs(self, y_true, raw_prediction, sample_weight, check_input):
        name = type(self).__name__
        raw = np.asarray(raw_prediction)
        if raw.dtype.kind not in "fiub":
            raise TypeError(f"{name}: raw_prediction must be numeric; got dtype {raw.dtype}.")
        dtype = np.float32 if raw.dtype == np.float32 else np.float64
        if raw.ndim != 1 or raw.shape[0] == 0:
            raise ValueError(f"{name}: raw_prediction must be a non-empty 1-D array; got shape {raw.shape}.")
        y = np.asarray(y_true)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name}: y_true must be numeric; got dtype {y.dtype}.")
        if y.shape != raw.shape:
            raise ValueError(f"{name}: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}.")
        if check_input:
            self.validate_target(y)
        w = check_weights(sample_weight, raw.shape[0], check_input)
        self._kernel_params()  # the hyperparameters are valid
        return y.astype(np.float64), raw.astype(np.float64), w, dtype

    def statistics(self, y_true, raw_prediction, sample_weight=None, check_input=True):
        """The additive statistics ``S = sum_i w_i s(y_i, r_i)`` of a batch (or of one chunk of it)."""
        y, raw, w, _ = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        s = self._sample_statistics(y, raw)
        return (s.sum(axis=0) if w is None else w @ s).astype(np.float64)

    def value_from_statistics(self, statistics):
        """The loss ``L`` from the statistics of the whole batch (the sum of its chunks')."""
        return float(self._value(np.asarray(statistics, dtype=np.float64)))

    def gradient_from_statistics(self, y_true, raw_prediction, statistics, sample_weight=None, check_input=True):
        """``dL / dr_i`` for the samples given (a chunk), where ``statistics`` are the whole batch's."""
        y, raw, w, dtype = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        grad = self._statistics_gradient(y, raw, self._value_gradient(np.asarray(statistics, dtype=np.float64)))
        return (grad if w is None else w * grad).astype(dtype)

    # -------------------------------------------------------------- public
    def _reduce(self, reduction, w, n):
        if reduction == "none":
            raise ValueError(f"{type(self).__name__} is a loss of the whole batch (structure='batch'): it has no "
                             "per-sample values; use reduction='mean' or 'sum'.")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be one of ('mean', 'sum', 'none'); got {reduction!r}.")
        total = float(n if w is None else np.sum(w))
        if reduction == "mean":
            return 1.0
        return total

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean", gradient_out=None,
                      check_input=True):
        """``(L, dL/dr)`` for ``"mean"``; the total weight times both for ``"sum"``."""
        y, raw, w, dtype = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        factor = self._reduce(reduction, w, raw.size)
        s = self._sample_statistics(y, raw)
        S = s.sum(axis=0) if w is None else w @ s
        value = factor * float(self._value(S))
        grad = factor * self._statistics_gradient(y, raw, self._value_gradient(S))
        if w is not None:
            grad *= w
        grad = grad.astype(dtype)
        if gradient_out is not None:
            if gradient_out.shape != grad.shape or gradient_out.dtype != grad.dtype:
                raise ValueError(f"gradient_out must be a {grad.dtype} array of shape {grad.shape}.")
            gradient_out[...] = grad
            grad = gradient_out
        return value, grad

    def loss(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        """The batch loss ``L`` (``"mean"``), or the total weight times it (``"sum"``)."""
        y, raw, w, _ = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        factor = self._reduce(reduction, w, raw.size)
        s = self._sample_statistics(y, raw)
        return factor * float(self._value(s.sum(axis=0) if w is None else w @ s))

    def __call__(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        return self.loss(y_true, raw_prediction, sample_weight, reduction, check_input)

    def gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean", gradient_out=None,
                 check_input=True):
        """``dL / dr`` over the batch (times the total weight for ``"sum"``)."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight, reduction, gradient_out, check_input)[1]
