"""The stochastic optimisers and the early-stopping rule: one definition for every stochastic fit.

The linear models' minibatch solvers (their Python steps and their compiled
epochs), the MLPs and the approximate-kernel SVM all update their parameters
here, with the constants and formulas of scikit-learn's
``sklearn.neural_network`` optimisers:

* SGD with momentum ``mu`` (and Nesterov's variant): ``v <- mu v - eta g``,
  then ``theta <- theta + v`` (Nesterov: ``theta <- theta + mu v - eta g``);
* Adam: ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2`` and
  ``theta <- theta - eta_t m / (sqrt(v) + eps)`` with
  ``eta_t = eta sqrt(1 - b2^t) / (1 - b1^t)`` (epsilon added to ``sqrt(v)``,
  as scikit-learn places it).

The per-coordinate updates (:func:`sgd_coordinate`, :func:`adam_coordinate`)
are inlined into the array steps below and into the generated epochs of the
linear models (:mod:`sklearn_losses._codegen.linear`); they also return the
coordinate's step size, the scale of the proximal map of an L1 penalty.

Early stopping (:class:`Progress`) counts, as scikit-learn's MLP, the epochs
whose monitored value does not improve the best one by at least ``tol``, and
stops when that count exceeds ``n_iter_no_change``. ``batch_size="auto"``
means ``min(200, n_samples)`` (:func:`resolve_batch_size`), as in
scikit-learn's MLP.
"""

import math

import numpy as np

from .._config import KERNEL_OPTIONS, SCALAR_OPTIONS
from .._jit import njit

__all__ = ["ADAPTIVE_FLOOR", "AUTO_BATCH_SIZE", "AUTO_BATCH_SIZE_BATCH_LOSS", "SCHEDULES", "Progress", "lower_rate", "optimal_t0", "schedule_rate", "adam_coordinate", "adam_prox_rate", "adam_rate", "adam_step", "resolve_batch_size",
           "sgd_coordinate", "sgd_step", "validation_split"]

#: The minibatch size of ``batch_size="auto"`` (at most the number of samples).
AUTO_BATCH_SIZE = 200

#: ``batch_size="auto"`` for batch losses (soft Dice, Lovász, ...): see :func:`resolve_batch_size`.
AUTO_BATCH_SIZE_BATCH_LOSS = 1024


def resolve_batch_size(batch_size, n_samples, loss=None):
    """The minibatch size for ``batch_size`` (``"auto"`` or a positive int) on ``n_samples`` rows.

    ``"auto"`` is :data:`AUTO_BATCH_SIZE`, and :data:`AUTO_BATCH_SIZE_BATCH_LOSS`
    for a batch loss (``loss.structure == "batch"``): a minibatch's loss is
    then the batch objective of that minibatch (a soft Dice of 200 samples
    of a rare class is a noisy, biased estimate of the full data's), so its
    batches are larger.
    """
    if batch_size == "auto":
        size = AUTO_BATCH_SIZE_BATCH_LOSS if loss is not None and loss.structure == "batch" else AUTO_BATCH_SIZE
        return max(1, min(size, n_samples))
    return max(1, min(int(batch_size), n_samples))


#: Learning-rate schedules of SGD, as scikit-learn's SGD estimators name them, and their codes in
#: the compiled epochs ("adaptive" is "constant" within an epoch; the driver divides it by 5).
SCHEDULES = {"constant": 0, "invscaling": 1, "optimal": 2, "adaptive": 0}


@njit(**SCALAR_OPTIONS)
def schedule_rate(code, learning_rate, power_t, alpha, t0, t):
    """SGD's learning rate at sample count ``t`` (1-based: the samples seen before the step, plus one).

    ``constant``: ``eta0``; ``invscaling``: ``eta0 / t^power_t``; ``optimal``:
    ``1 / (alpha (t0 + t - 1))``, Bottou's schedule as scikit-learn's
    SGDClassifier (``t0`` from :func:`optimal_t0`).
    """
    if code == 1:
        return learning_rate / t ** power_t
    if code == 2:
        return 1.0 / (alpha * (t0 + t - 1.0))
    return learning_rate


def optimal_t0(loss, alpha):
    """The offset ``t0`` of the ``"optimal"`` schedule, by scikit-learn's SGD heuristic (Bottou's).

    ``t0 = 1 / (eta0 alpha)`` with ``eta0 = typw / max(1, l'(-typw; y=1))``
    and ``typw = sqrt(1 / sqrt(alpha))``: the first step is about the size of
    a typical weight. The derivative is signed, as scikit-learn takes it
    (negative for the usual losses, so that ``eta0 = typw``).
    """
    if not alpha > 0:
        raise ValueError("learning_rate='optimal' needs alpha > 0 (its step sizes are 1 / (alpha (t0 + t))); "
                         f"got alpha={alpha!r}.")
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    slope = 1.0
    if loss.structure == "elementwise":
        slope = float(loss.gradient(np.ones(1), np.full(1, -typw), reduction="none", check_input=False)[0])
        slope = slope if np.isfinite(slope) else 1.0
    eta0 = typw / max(1.0, slope)
    return 1.0 / (eta0 * alpha)


@njit(**SCALAR_OPTIONS)
def adam_rate(learning_rate, beta_1, beta_2, t):
    """Adam's step size at step ``t`` (1-based): ``eta sqrt(1 - b2^t) / (1 - b1^t)``."""
    return learning_rate * math.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)


@njit(**SCALAR_OPTIONS)
def adam_prox_rate(learning_rate, beta_2, t):
    """The numerator of the coordinates' step sizes at step ``t``: ``eta sqrt(1 - b2^t)``.

    The step is ``eta m_hat / (sqrt(v_hat) + eps')``, so the scale that
    multiplies the (bias-corrected) gradient, the one a proximal map uses, is
    ``eta sqrt(1 - b2^t) / (sqrt(v) + eps)``.
    """
    return learning_rate * math.sqrt(1.0 - beta_2 ** t)


@njit(**SCALAR_OPTIONS)
def adam_coordinate(g, m, v, rate, prox_rate, beta_1, beta_2, epsilon):
    """One coordinate's Adam update: returns ``(m, v, step, step_size)``; the parameter moves by ``-step``.

    ``rate`` is :func:`adam_rate`, ``prox_rate`` :func:`adam_prox_rate`.
    """
    m = beta_1 * m + (1.0 - beta_1) * g
    v = beta_2 * v + (1.0 - beta_2) * (g * g)
    denominator = math.sqrt(v) + epsilon
    return m, v, rate * m / denominator, prox_rate / denominator


@njit(**SCALAR_OPTIONS)
def sgd_coordinate(g, velocity, learning_rate, momentum, nesterov):
    """One coordinate's SGD update: returns ``(velocity, step, step_size)``; the parameter moves by ``-step``."""
    velocity = momentum * velocity - learning_rate * g
    if nesterov:
        return velocity, -(momentum * velocity - learning_rate * g), learning_rate
    return velocity, -velocity, learning_rate


@njit(**KERNEL_OPTIONS)
def adam_step(params, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """One Adam step in place on ``params`` and the moments ``m``, ``v``; returns ``t + 1``."""
    t += 1
    rate = adam_rate(learning_rate, beta_1, beta_2, t)
    for k in range(params.shape[0]):
        m[k], v[k], step, _ = adam_coordinate(grad[k], m[k], v[k], rate, 0.0, beta_1, beta_2, epsilon)
        params[k] -= step
    return t


@njit(**KERNEL_OPTIONS)
def sgd_step(params, grad, velocity, learning_rate, momentum, nesterov):
    """One SGD step with (Nesterov) momentum in place on ``params`` and ``velocity``."""
    for k in range(params.shape[0]):
        velocity[k], step, _ = sgd_coordinate(grad[k], velocity[k], learning_rate, momentum, nesterov)
        params[k] -= step


def validation_split(n_samples, validation_fraction, random_state, stratify=None, sample_weight=None):
    """``(train, validation)`` row indices for early stopping, as scikit-learn's MLP splits them.

    ``train_test_split`` with ``test_size=validation_fraction``, stratified by
    ``stratify`` (the class labels, for classifiers); a validation set of
    fewer than 2 rows, or one whose sample weights are all zero, is a
    ``ValueError`` naming ``validation_fraction``.
    """
    from sklearn.model_selection import train_test_split

    try:
        train, val = train_test_split(np.arange(n_samples), random_state=random_state,
                                      test_size=validation_fraction, stratify=stratify)
    except ValueError as error:  # e.g. fewer validation rows than classes to stratify
        raise ValueError(f"early_stopping cannot hold out validation_fraction={validation_fraction} of "
                         f"{n_samples} samples: {error}. Increase 'validation_fraction' or the size of your "
                         "dataset.") from None
    if val.shape[0] < 2 or train.shape[0] < 1:
        raise ValueError(f"The validation set is too small (validation_fraction={validation_fraction} of "
                         f"{n_samples} samples). Increase 'validation_fraction' or the size of your dataset.")
    if sample_weight is not None and not np.sum(sample_weight[val]) > 0:
        raise ValueError("early_stopping: every sample weight of the validation set is zero "
                         f"(validation_fraction={validation_fraction}).")
    return train, val


class Progress:
    """The early-stopping count: epochs without an improvement of at least ``tol`` on the best value.

    ``update(value, tol)`` records one epoch's monitored value (training or
    validation objective, lower is better) and returns whether it is a new
    best; ``stalled(n_iter_no_change)`` is true once more than
    ``n_iter_no_change`` consecutive epochs failed to improve the best value
    by ``tol``, scikit-learn's MLP rule. With early stopping the best
    parameters are kept (``params`` at construction, then each new best given
    to ``update``) for the estimator to restore. The state is kept across
    ``partial_fit`` calls by the estimators that own it.
    """

    def __init__(self, params=None):
        self.best = np.inf
        self.no_improvement = 0
        self.best_params = None if params is None else params.copy()  # kept if no epoch is ever finite

    def update(self, value, tol, params=None):
        """Record an epoch; with ``params``, a copy of the best ones is kept in ``best_params``."""
        self.no_improvement = self.no_improvement + 1 if value > self.best - tol else 0
        if value < self.best:
            self.best = value
            if params is not None:
                self.best_params = params.copy()
            return True
        return False

    def stalled(self, n_iter_no_change):
        return self.no_improvement > n_iter_no_change


#: The ``"adaptive"`` schedule stops once its rate is at most this (scikit-learn's threshold).
ADAPTIVE_FLOOR = 1e-6


def lower_rate(rate):
    """The ``"adaptive"`` schedule's rate after a stall: divided by 5, or None (stop) at the floor."""
    return rate / 5.0 if rate > ADAPTIVE_FLOOR else None
