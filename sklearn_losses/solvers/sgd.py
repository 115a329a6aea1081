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

from dataclasses import dataclass

import numpy as np

from ._optim import SCHEDULES, Progress, adam_prox_rate, adam_step, lower_rate, schedule_rate, sgd_step

__all__ = ["StochasticSettings", "StochasticState", "stochastic_epochs"]

#: An epoch whose objective exceeds this multiple of the starting objective
#: has diverged (the step size is too large for the data's scale).
_DIVERGED = 1e6

@dataclass(frozen=True)
class StochasticSettings:
    """What a stochastic fit does per step: the method, its constants and SGD's schedule.

    ``method`` is ``"sgd"`` (momentum, optionally Nesterov's) or ``"adam"``;
    ``schedule`` (SGD only, as in scikit-learn's MLP) is one of
    :data:`._optim.SCHEDULES` with ``learning_rate_init`` as ``eta0``,
    ``power_t`` for ``"invscaling"`` and ``alpha``, ``t0`` for ``"optimal"``;
    ``average`` > 0 averages the iterates once ``average`` samples were seen
    (averaged SGD; 1 from the first step); ``shuffle`` visits the minibatches
    in a new random order every epoch.
    """

    method: str = "adam"
    learning_rate_init: float = 0.01
    schedule: str = "constant"
    power_t: float = 0.5
    alpha: float = 0.0
    t0: float = 1.0
    momentum: float = 0.9
    nesterov: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    average: int = 0
    shuffle: bool = True

    @property
    def adam(self):
        return self.method == "adam"

    @property
    def sgd_schedule(self):
        """The schedule in effect: ``schedule`` for SGD; Adam always steps by ``learning_rate_init``."""
        return "constant" if self.adam else self.schedule

    @property
    def optimizer(self):
        """``(momentum, nesterov, beta_1, beta_2, epsilon)``, the order the compiled epoch takes them."""
        return (float(self.momentum), bool(self.nesterov), float(self.beta_1), float(self.beta_2),
                float(self.epsilon))

    @property
    def schedule_args(self):
        """``(code, power_t, alpha, t0)`` of the schedule, the order the compiled epoch takes them."""
        return SCHEDULES[self.sgd_schedule], float(self.power_t), float(self.alpha), float(self.t0)


class StochasticState:
    """Optimizer state carried across epochs and ``partial_fit`` calls.

    ``m``, ``v``: the moments (SGD: ``m`` is the velocity); ``t``: steps
    taken; ``seen``: samples seen (the schedules' clock); ``rate``: the
    current rate of the ``"adaptive"`` schedule (None: not started);
    ``average``, ``n_average``: the running mean of the iterates and their
    count (averaged SGD); ``iterate``: the last iterate, from which an averaged
    fit continues (the model holds the average).
    """

    def __init__(self, n_params):
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)
        self.t = 0
        self.epochs = 0
        self.seen = 0.0
        self.rate = None
        self.average = np.zeros(n_params)
        self.n_average = 0
        self.iterate = None


def _step(settings, theta, grad, state, lr, n_coef, penalty, batch_samples):
    """One optimiser step in place on ``theta`` (:mod:`._optim`), then the L1 part's proximal map.

    ``lr`` is ``eta0`` (or the adaptive schedule's current rate); the step
    advances the sample clock by ``batch_samples`` and the average.
    """
    momentum, nesterov, b1, b2, eps = settings.optimizer
    if settings.adam:
        state.t = adam_step(theta, grad, state.m, state.v, state.t, lr, b1, b2, eps)
        prox_step = adam_prox_rate(lr, b2, state.t) / (np.sqrt(state.v[:n_coef]) + eps)
    else:
        state.t += 1
        code, power_t, alpha, t0 = settings.schedule_args
        prox_step = schedule_rate(code, lr, power_t, alpha, t0, state.seen + 1.0)
        sgd_step(theta, grad, state.m, prox_step, momentum, nesterov)
    if penalty.l1 > 0:
        theta[:n_coef] = penalty.soft_threshold(theta[:n_coef], prox_step)
    state.seen += batch_samples
    if settings.average and state.seen >= settings.average:
        state.n_average += 1
        state.average += (theta - state.average) / state.n_average
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


def stochastic_epochs(objective, penalty, theta, state, settings, *, max_epochs=200, tol=1e-4,
                      n_iter_no_change=5, batch_size=256, rng=None, validation=None, verbose=0):
    """Run up to ``max_epochs`` epochs; returns ``(theta, n_epochs, converged, curve, val_curve)``.

    ``settings`` is a :class:`StochasticSettings`. ``curve`` is the mean
    training loss plus penalty over each epoch (in the units of the
    objective), ``val_curve`` the same objective on the ``validation``
    :class:`LinearObjective` after each epoch. Early stopping follows
    :class:`._optim.Progress` on the validation objective if given, else on
    the training objective; with validation the best parameters are restored.
    The ``"adaptive"`` schedule divides its rate by 5 where the others stop,
    and stops once the rate is below 1e-6 (scikit-learn's rule). With
    averaging the returned parameters (and the monitored objectives) are the
    averaged ones.
    """
    rng = _generator(rng)
    n = objective.n_samples
    n_coef = objective.n_outputs * objective.n_features
    starts = np.arange(0, n, batch_size)
    weights = objective.sample_weight
    curve, val_curve = [], []
    converged = False
    theta = np.array(theta if state.iterate is None else state.iterate, dtype=np.float64)
    progress = Progress(theta if validation is not None else None)
    if state.rate is None:
        state.rate = float(settings.learning_rate_init)
    epoch = 0
    start_value = objective.known_value(theta)  # known when theta is the start (computed with it)
    if start_value is None:
        start_value = objective.loss_gradient(theta)[0]
    start_value += penalty.value(theta[:n_coef])
    start_value = max(start_value, 1e-12) if np.isfinite(start_value) else np.inf
    for epoch in range(1, max_epochs + 1):
        lr = state.rate if settings.sgd_schedule == "adaptive" else settings.learning_rate_init
        order = rng.permutation(starts) if settings.shuffle else starts
        if objective.has_epoch_kernel:  # the whole epoch compiled: no per-batch Python overhead
            train_loss = objective.run_epoch(theta, order, batch_size, lr, settings, penalty, state)
        else:
            total, mass = 0.0, 0.0
            for start in order:
                stop = min(start + batch_size, n)
                value, grad = objective.loss_gradient(theta, rows=(start, stop))
                grad[:n_coef] += penalty.gradient(theta[:n_coef])
                batch_mass = (stop - start) if weights is None else float(np.sum(weights[start:stop]))
                total += value * batch_mass
                mass += batch_mass
                theta = _step(settings, theta, grad, state, lr, n_coef, penalty, stop - start)
            train_loss = total / max(mass, 1e-300)
        state.epochs += 1
        model = state.average if state.n_average else theta
        curve.append(train_loss + penalty.value(model[:n_coef]))
        if not (np.all(np.isfinite(theta)) and curve[-1] <= _DIVERGED * start_value):
            remedy = ("the 'optimal' schedule's steps 1 / (alpha (t0 + t)) are too large for this loss and data: "
                      "increase alpha, use learning_rate='constant' or 'invscaling', or scale the features"
                      if settings.sgd_schedule == "optimal"
                      else "lower learning_rate_init or scale the features")
            raise ValueError(
                f"{settings.method} diverged at epoch {epoch}: the training objective went from "
                f"{start_value:.6g} to {curve[-1]:.6g}; {remedy}.")
        monitored = curve
        if validation is not None:
            value, _ = validation.loss_gradient(model)
            val_curve.append(value + penalty.value(model[:n_coef]))
            monitored = val_curve
        if verbose:
            extra = f", validation {val_curve[-1]:.6g}" if val_curve else ""
            print(f"{settings.method} epoch {epoch}: training objective {curve[-1]:.6g}{extra}")
        progress.update(monitored[-1], tol, model if validation is not None else None)
        if progress.stalled(n_iter_no_change):
            lowered = lower_rate(state.rate) if settings.sgd_schedule == "adaptive" else None
            if lowered is not None:
                state.rate = lowered
                progress.no_improvement = 0
                if verbose:
                    print(f"{settings.method}: no improvement; learning rate lowered to {state.rate:.6g}")
                continue
            converged = True
            break
    state.iterate = theta.copy() if settings.average else None
    if validation is not None:
        return progress.best_params, epoch, converged, curve, val_curve
    return (state.average.copy() if state.n_average else theta), epoch, converged, curve, val_curve
