"""Losses of a whole batch that are not sums over samples (``structure = "batch"``).

A batch loss ``L(y, r, w)`` is one number for the batch given (soft F1, soft
Dice, Lovász). Its reductions keep the units of the per-sample losses:
``"mean"`` is ``L`` itself, ``"sum"`` is the total weight times ``L`` (so a
loss curve of sums over minibatches stays comparable), and ``"none"`` does
not exist. Sample weights enter the statistics the loss is computed from, so
where the loss is defined on a multiset integer weights equal repeated rows.

Targets are one label, ``y`` and ``r`` of shape (n,), or several, a
multilabel indicator ``y`` and scores ``r`` of shape (n, C): the loss is then
the mean over the labels of each label's batch loss (its column's), and its
gradient in column ``c`` is ``1 / C`` times that label's.

A *decomposable* batch loss is a function of additive statistics
``S = sum_i w_i s(y_i, r_i)`` (per label): :meth:`BatchLoss.statistics`,
:meth:`BatchLoss.value_from_statistics` and
:meth:`BatchLoss.gradient_from_statistics` let a fit compute ``S`` in chunks
(or on several machines), add the chunks, and then the gradient of each
chunk given the total. Subclasses write vectorised functions over the labels:
``_sample_statistics(y, r)`` (y, r of shape (n, C); the statistics (n, C, m)
before the weights), ``_value(S)`` and ``_value_gradient(S)`` (S of shape
(C, m): each label's loss (C,) and its derivative in ``S`` (C, m)), and
``_statistics_gradient(y, r, dS)`` (the derivative of ``dS[c] . s(y_ic, r_ic)``
in ``r_ic``, shape (n, C)). The batch is processed in chunks of
:data:`CHUNK` rows, so the temporaries stay small whatever its size.

Losses that are not decomposable (the Lovász losses sort the batch) override
:meth:`BatchLoss._batch_loss_gradient` instead.
"""

import numpy as np

from ._base import BaseLoss, check_weights

__all__ = ["CHUNK", "BatchLoss"]

#: Rows per chunk of the statistics and gradient passes (bounded temporaries).
CHUNK = 1 << 16


def _chunks(n):
    return [slice(start, min(start + CHUNK, n)) for start in range(0, n, CHUNK)]


class BatchLoss(BaseLoss):
    """Base class of batch losses (see the module docstring)."""

    structure = "batch"
    decomposable = True
    hessian = "none"
    twice_differentiable = False

    @property
    def weight_scale_invariant(self):
        """Whether scaling every sample weight by one factor leaves the loss unchanged (True unless a
        constant in the units of the weighted counts, such as a smoothing term, enters the loss)."""
        return True

    # ---------------------------------------------------------- subclasses
    def _sample_statistics(self, y, raw):  # pragma: no cover - abstract
        raise NotImplementedError

    def _value(self, S):  # pragma: no cover - abstract
        raise NotImplementedError

    def _value_gradient(self, S):  # pragma: no cover - abstract
        raise NotImplementedError

    def _statistics_gradient(self, y, raw, dS):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------- inputs
    def _check_shapes(self, y, raw):
        """``y`` and ``raw`` as validated arrays of the loss's shapes (override for other shapes)."""
        name = type(self).__name__
        if raw.ndim not in (1, 2) or raw.shape[0] == 0 or (raw.ndim == 2 and raw.shape[1] == 0):
            raise ValueError(f"{name}: raw_prediction must be a non-empty array of shape (n_samples,) or "
                             f"(n_samples, n_labels); got shape {raw.shape}.")
        if y.shape != raw.shape:
            raise ValueError(f"{name}: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}.")

    def _inputs(self, y_true, raw_prediction, sample_weight, check_input):
        name = type(self).__name__
        raw = np.asarray(raw_prediction)
        if raw.dtype.kind not in "fiub":
            raise TypeError(f"{name}: raw_prediction must be numeric; got dtype {raw.dtype}.")
        dtype = np.float32 if raw.dtype == np.float32 else np.float64
        y = np.asarray(y_true)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name}: y_true must be numeric; got dtype {y.dtype}.")
        self._check_shapes(y, raw)
        if check_input:
            self.validate_target(y, raw.shape[1] if raw.ndim == 2 else None)
        w = check_weights(sample_weight, raw.shape[0], check_input)
        self._kernel_params()  # the hyperparameters are valid
        return y, raw, w, dtype

    @staticmethod
    def _columns(a):
        """A chunk as float64 columns (n, C): no copy for float64 input."""
        a = np.asarray(a, dtype=np.float64)
        return a[:, None] if a.ndim == 1 else a

    # ---------------------------------------------------------- statistics
    def _statistics(self, y, raw, w):
        """``S`` of shape (C, m), summed over chunks of rows."""
        total = None
        for rows in _chunks(raw.shape[0]):
            s = self._sample_statistics(self._columns(y[rows]), self._columns(raw[rows]))
            part = s.sum(axis=0) if w is None else np.tensordot(w[rows], s, axes=1)
            total = part if total is None else total + part
        return total

    def _gradient_into(self, y, raw, w, dS, factor, out):
        """``out`` (n, C) = factor * w_i * d(dS . s) / dr, chunk by chunk."""
        for rows in _chunks(raw.shape[0]):
            g = self._statistics_gradient(self._columns(y[rows]), self._columns(raw[rows]), dS)
            g *= factor
            if w is not None:
                g *= w[rows, None]
            out[rows] = g
        return out

    def statistics(self, y_true, raw_prediction, sample_weight=None, check_input=True):
        """The additive statistics ``S = sum_i w_i s(y_i, r_i)`` of a batch (or of one chunk of it).

        Shape (m,) for a single label, (C, m) for C labels.
        """
        self._require_decomposable("statistics")
        y, raw, w, _ = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        S = self._statistics(y, raw, w).astype(np.float64)
        return S[0] if raw.ndim == 1 else S

    def value_from_statistics(self, statistics):
        """The loss ``L`` from the statistics of the whole batch (the sum of its chunks')."""
        self._require_decomposable("value_from_statistics")
        self._kernel_params()
        S = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
        return float(np.mean(self._value(S)))

    def gradient_from_statistics(self, y_true, raw_prediction, statistics, sample_weight=None, check_input=True):
        """``dL / dr_i`` for the samples given (a chunk), where ``statistics`` are the whole batch's."""
        self._require_decomposable("gradient_from_statistics")
        y, raw, w, dtype = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        S = np.atleast_2d(np.asarray(statistics, dtype=np.float64))
        dS = self._value_gradient(S)
        out = np.empty((raw.shape[0], S.shape[0]), dtype=np.float64)
        self._gradient_into(y, raw, w, dS, 1.0 / S.shape[0], out)
        return out.reshape(raw.shape).astype(dtype, copy=False)

    def _require_decomposable(self, what):
        if not self.decomposable:
            raise ValueError(f"{type(self).__name__} is not decomposable (decomposable=False): it has no "
                             f"additive statistics, so {what} is not defined.")

    # -------------------------------------------------------------- the loss
    def _batch_loss_gradient(self, y, raw, w, gradient, out=None):
        """The batch loss, and (when ``gradient`` is true) its gradient as float64 of ``raw``'s shape.

        ``out``: a C-contiguous float64 array of ``raw``'s shape that may
        receive the gradient (the caller's ``gradient_out``), or None. The
        decomposable path; non-decomposable losses override it.
        """
        S = self._statistics(y, raw, w)
        labels = S.shape[0]
        value = float(np.mean(self._value(S)))
        if not gradient:
            return value, None
        out = np.empty(raw.shape, dtype=np.float64) if out is None else out
        self._gradient_into(y, raw, w, self._value_gradient(S), 1.0 / labels, out.reshape(raw.shape[0], labels))
        return value, out

    def _reduce(self, reduction, w, n):
        if reduction == "none":
            raise ValueError(f"{type(self).__name__} is a loss of the whole batch (structure={self.structure!r}): it "
                             "has no per-sample values; use reduction='mean' or 'sum'.")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be one of ('mean', 'sum', 'none'); got {reduction!r}.")
        if reduction == "mean":
            return 1.0
        return float(n if w is None else np.sum(w))

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean", gradient_out=None,
                      check_input=True):
        """``(L, dL/dr)`` for ``"mean"``; the total weight times both for ``"sum"``."""
        y, raw, w, dtype = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        factor = self._reduce(reduction, w, raw.shape[0])
        if gradient_out is not None and (gradient_out.shape != raw.shape or gradient_out.dtype != dtype):
            raise ValueError(f"gradient_out must be a {np.dtype(dtype).name} array of shape {raw.shape}.")
        direct = gradient_out is not None and dtype == np.float64 and gradient_out.flags.c_contiguous
        value, grad = self._batch_loss_gradient(y, raw, w, True, gradient_out if direct else None)
        if factor != 1.0:
            grad *= factor
        grad = grad.astype(dtype, copy=False)
        if gradient_out is not None and grad is not gradient_out:  # a loss that does not write into it
            gradient_out[...] = grad
            grad = gradient_out
        return factor * value, grad

    def loss(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        """The batch loss ``L`` (``"mean"``), or the total weight times it (``"sum"``)."""
        y, raw, w, _ = self._inputs(y_true, raw_prediction, sample_weight, check_input)
        factor = self._reduce(reduction, w, raw.shape[0])
        return factor * self._batch_loss_gradient(y, raw, w, False)[0]

    def __call__(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        return self.loss(y_true, raw_prediction, sample_weight, reduction, check_input)

    def gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean", gradient_out=None,
                 check_input=True):
        """``dL / dr`` over the batch (times the total weight for ``"sum"``)."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight, reduction, gradient_out, check_input)[1]
