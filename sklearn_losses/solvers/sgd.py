"""Minibatch stochastic solvers (SGD with momentum, Adam) for partial_fit and large data.

An epoch visits the samples in minibatches of consecutive rows, in a random
order of the batches; the estimator shuffles the rows once per ``fit``, so the
data are never copied again during training. For single-output element-wise
losses the whole epoch is one compiled kernel generated from the loss's
per-sample maths (:mod:`._kernels`); otherwise each batch is a zero-copy
slice evaluated by :class:`LinearObjective`. The L2 part of the penalty enters the
gradient; the L1 part is applied by its proximal map after each step (soft
thresholding), which produces exact zeros.
"""

import numpy as np

from ._optim import Progress, adam_prox_rate, adam_step, sgd_step

__all__ = ["StochasticState", "stochastic_epochs"]

#: An epoch whose objective exceeds this multiple of the starting objective
#: has diverged (the step size is too large for the data's scale).
_DIVERGED = 1e6

#: The optimiser's default constants (scikit-learn's MLP defaults), in the order the compiled
#: epoch takes them: SGD's momentum and Nesterov flag, then Adam's beta1, beta2 and epsilon.
OPTIMIZER = (0.9, True, 0.9, 0.999, 1e-8)


class StochasticState:
    """Optimizer state carried across epochs and ``partial_fit`` calls."""

    def __init__(self, n_params):
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)
        self.t = 0
        self.epochs = 0


def _step(method, theta, grad, state, lr, n_coef, penalty, optimizer=OPTIMIZER):
    """One optimiser step in place on ``theta`` (:mod:`._optim`), then the L1 part's proximal map."""
    momentum, nesterov, b1, b2, eps = optimizer
    if method == "adam":
        state.t = adam_step(theta, grad, state.m, state.v, state.t, lr, b1, b2, eps)
        prox_step = adam_prox_rate(lr, b2, state.t) / (np.sqrt(state.v[:n_coef]) + eps)
    else:
        state.t += 1
        sgd_step(theta, grad, state.m, lr, momentum, nesterov)
        prox_step = lr
    if penalty.l1 > 0:
        theta[:n_coef] = penalty.soft_threshold(theta[:n_coef], prox_step)
    return theta


def _generator(rng):
    """A numpy Generator from ``rng`` (None, a seed, a RandomState or a Generator).

    A RandomState shares its bit generator (so its state advances), as
    ``np.random.default_rng(RandomState)`` does from numpy 2.2 on; older numpy
    refuses a RandomState there.
    """
    if isinstance(rng, np.random.RandomState):
        return np.random.Generator(rng._bit_generator)
    return np.random.default_rng(rng)


def stochastic_epochs(objective, penalty, theta, state, *, method="adam", max_epochs=200, tol=1e-4,
                      n_iter_no_change=5, batch_size=256, learning_rate_init=0.01, power_t=0.5,
                      schedule="invscaling", optimizer=OPTIMIZER, rng=None, validation=None, verbose=0):
    """Run up to ``max_epochs`` epochs; returns ``(theta, n_epochs, converged, curve, val_curve)``.

    ``curve`` is the mean training loss plus penalty over each epoch (in the
    units of the objective), ``val_curve`` the same objective on the
    ``validation`` :class:`LinearObjective` after each epoch (early stopping:
    training stops when it has not improved by ``tol`` for
    ``n_iter_no_change`` epochs and the best parameters are restored).
    ``optimizer`` is ``(momentum, nesterov, beta_1, beta_2, epsilon)``.
    """
    rng = _generator(rng)
    n = objective.n_samples
    n_coef = objective.n_outputs * objective.n_features
    starts = np.arange(0, n, batch_size)
    weights = objective.sample_weight
    curve, val_curve = [], []
    progress, best_theta = Progress(), theta.copy()
    converged = False
    theta = np.array(theta, dtype=np.float64)
    epoch = 0
    start_value = objective.loss_gradient(theta)[0] + penalty.value(theta[:n_coef])
    start_value = max(start_value, 1e-12) if np.isfinite(start_value) else np.inf
    for epoch in range(1, max_epochs + 1):
        if method == "sgd" and schedule == "invscaling":
            lr = learning_rate_init / (state.epochs + 1) ** power_t
        else:
            lr = learning_rate_init
        if objective.has_epoch_kernel:  # the whole epoch compiled: no per-batch Python overhead
            train_loss = objective.run_epoch(theta, rng.permutation(starts), batch_size, method == "adam",
                                             lr, optimizer, penalty, state)
        else:
            total, mass = 0.0, 0.0
            for start in rng.permutation(starts):
                stop = min(start + batch_size, n)
                value, grad = objective.loss_gradient(theta, rows=(start, stop))
                grad[:n_coef] += penalty.gradient(theta[:n_coef])
                batch_mass = (stop - start) if weights is None else float(np.sum(weights[start:stop]))
                total += value * batch_mass
                mass += batch_mass
                theta = _step(method, theta, grad, state, lr, n_coef, penalty, optimizer)
            train_loss = total / max(mass, 1e-300)
        state.epochs += 1
        curve.append(train_loss + penalty.value(theta[:n_coef]))
        if not (np.all(np.isfinite(theta)) and curve[-1] <= _DIVERGED * start_value):
            raise ValueError(
                f"{method} diverged at epoch {epoch}: the training objective went from {start_value:.6g} "
                f"to {curve[-1]:.6g}; lower learning_rate_init or scale the features.")
        monitored = curve
        if validation is not None:
            value, _ = validation.loss_gradient(theta)
            val_curve.append(value + penalty.value(theta[:n_coef]))
            monitored = val_curve
        if verbose:
            extra = f", validation {val_curve[-1]:.6g}" if val_curve else ""
            print(f"{method} epoch {epoch}: training objective {curve[-1]:.6g}{extra}")
        # as scikit-learn's MLP: stop once more than n_iter_no_change epochs in
        # a row did not improve the best monitored value by at least tol
        if progress.update(monitored[-1], tol):
            best_theta = theta.copy()
        if progress.stalled(n_iter_no_change):
            converged = True
            break
    if validation is not None:
        theta = best_theta
    return theta, epoch, converged, curve, val_curve
