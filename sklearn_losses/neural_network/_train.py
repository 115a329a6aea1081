"""Training loops of the MLP estimators: minibatch SGD / Adam, and full-batch L-BFGS.

Both follow scikit-learn's ``sklearn.neural_network`` step for step (the same
optimizer updates, learning-rate schedules, stopping rules and order of
random draws), so that with the same initial weights and a loss of the same
scale the trajectories agree. What is added: any loss, sample and class
weights in every solver, gradient clipping, early stopping on the validation
*loss* with the best weights restored, and a divergence check after every
batch.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ..solvers._optim import adam_step, lower_rate, resolve_batch_size, sgd_step
from ._kernels import clip_norm

__all__ = ["Optimizer", "Diverged", "fit_lbfgs", "fit_stochastic"]


class Diverged(ValueError):
    """The training objective or the parameters became NaN or infinite."""


class Optimizer:
    """State of the stochastic optimizer (kept across ``partial_fit`` calls)."""

    def __init__(self, estimator, n_params, dtype):
        self.solver = estimator.solver
        self.learning_rate = float(estimator.learning_rate_init)
        self.first = np.zeros(n_params, dtype=dtype)  # Adam's m, or SGD's velocity
        self.second = np.zeros(n_params, dtype=dtype) if self.solver == "adam" else None
        self.t = 0

    def step(self, estimator, params, grad):
        if estimator.max_grad_norm is not None:
            clip_norm(grad, estimator.max_grad_norm)
        if self.solver == "adam":
            self.t = adam_step(params, grad, self.first, self.second, self.t, self.learning_rate,
                               estimator.beta_1, estimator.beta_2, estimator.epsilon)
        else:
            sgd_step(params, grad, self.first, self.learning_rate, estimator.momentum,
                     estimator.nesterovs_momentum)

    def epoch_ends(self, estimator, samples_seen):
        if self.solver == "sgd" and estimator.learning_rate == "invscaling":
            self.learning_rate = estimator.learning_rate_init / (samples_seen + 1) ** estimator.power_t

    def stop(self, estimator, message):
        """Whether to stop after ``n_iter_no_change`` epochs without progress (else lower the rate)."""
        lowered = lower_rate(self.learning_rate) if self.solver == "sgd" and estimator.learning_rate == "adaptive" \
            else None
        if lowered is None:
            if estimator.verbose:
                print(message + " Stopping.")
            return True
        self.learning_rate = lowered
        if estimator.verbose:
            print(message + f" Setting learning rate to {self.learning_rate:f}")
        return False


def _diverged(estimator, loss, where):
    return Diverged(
        f"{type(estimator).__name__}: training diverged ({where} is NaN or infinite) with loss "
        f"{type(loss).__name__} and solver {estimator.solver!r}. Lower learning_rate_init, set "
        "max_grad_norm, increase alpha or scale the features; the previously fitted model (if any) is kept."
    )


def _batches(n, batch_size):
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def fit_stochastic(estimator, loss, network, params, optimizer, data, validation, record, incremental):
    """Epochs of minibatch training; updates ``params`` in place and ``record`` (curves, counters).

    ``data`` is ``(X, y, sample_weight, rows, rng)`` with ``rows`` the training
    rows of ``X`` in their initial order; ``validation`` is ``None`` or
    ``(X, y, sample_weight)``. Returns the parameters to keep (the best on
    the validation loss with early stopping).
    """
    X, Y, w, rows, rng = data
    alpha = estimator.alpha
    n = rows.shape[0]
    batch_size = resolve_batch_size(estimator.batch_size, n, loss)
    if estimator.batch_size != "auto" and estimator.batch_size > n:
        warnings.warn("Got `batch_size` larger than the number of samples; it is clipped to "
                      f"{n}.")
    grad = np.empty_like(params)
    order = np.arange(n)
    if validation is not None:
        record.progress.best_params = params.copy()
    total_weight = float(n if w is None else np.sum(w[rows]))
    for _ in range(1 if incremental else estimator.max_iter):
        if estimator.shuffle:
            order = order[rng.permutation(n)]
        epoch_rows = rows[order]
        accumulated = 0.0
        for start, stop in _batches(n, batch_size):
            Xb = network.batch(X, epoch_rows, start, stop)
            batch_rows = epoch_rows[start:stop]
            wb = None if w is None else w[batch_rows]
            if wb is not None and not np.sum(wb) > 0:
                continue  # nothing to learn from this batch
            value, weight = network.objective(params, Xb, Y[batch_rows], wb, loss, alpha, grad)
            if not np.isfinite(value):
                raise _diverged(estimator, loss, "the training loss")
            accumulated += value * weight
            optimizer.step(estimator, params, grad)
        if not np.all(np.isfinite(params)):
            raise _diverged(estimator, loss, "a weight")
        record.n_iter += 1
        record.t += n
        record.loss_curve.append(accumulated / total_weight)
        message = ""
        if validation is not None:
            X_val, Y_val, w_val = validation
            raw = network.raw_prediction(params, X_val)
            record.validation_curve.append(float(loss.loss(Y_val, raw, sample_weight=w_val, check_input=False)))
            monitored = record.validation_curve[-1]
            message = f", validation loss = {monitored:.8f}"
        else:
            monitored = record.loss_curve[-1]
        if estimator.verbose:
            print(f"Iteration {record.n_iter}, loss = {record.loss_curve[-1]:.8f}{message}")
        record.progress.update(monitored, estimator.tol, params if validation is not None else None)
        optimizer.epoch_ends(estimator, record.t)
        if record.progress.stalled(estimator.n_iter_no_change):
            what = "Validation loss" if validation is not None else "Training loss"
            message = (f"{what} did not improve more than tol={estimator.tol:f} for "
                       f"{estimator.n_iter_no_change} consecutive epochs.")
            if optimizer.stop(estimator, message):
                break
            record.progress.no_improvement = 0
    else:
        if not incremental:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) reached and the "
                "optimization hasn't converged yet.", ConvergenceWarning,
            )
    return record.progress.best_params if validation is not None else params


def fit_lbfgs(estimator, loss, network, params, X, Y, w, record):
    """Full-batch L-BFGS-B (scipy) on the training objective, as scikit-learn's ``solver="lbfgs"``."""
    alpha = estimator.alpha
    X = X.toarray() if sp.issparse(X) else X  # full batch: one dense pass per evaluation
    grad = np.empty_like(params)
    work = np.empty_like(params)

    def fun(theta):
        work[:] = theta
        value, _ = network.objective(work, X, Y, w, loss, alpha, grad)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            raise _diverged(estimator, loss, "the training loss")
        return value, grad.astype(np.float64)

    def callback(intermediate_result):
        record.loss_curve.append(float(intermediate_result.fun))
        if estimator.verbose:
            print(f"Iteration {len(record.loss_curve)}, loss = {record.loss_curve[-1]:.8f}")

    x0 = params.astype(np.float64)
    initial = float(np.max(np.abs(fun(x0)[1]))) if x0.size else 0.0
    result = scipy.optimize.minimize(
        fun, x0, method="L-BFGS-B", jac=True, callback=callback,
        options={"maxfun": estimator.max_fun, "maxiter": estimator.max_iter, "gtol": estimator.tol},
    )
    record.n_iter += int(result.nit)
    # judged by the gradient reached, not by scipy's status alone: its "no
    # progress" exit (relative reduction below ftol) also happens far from a
    # stationary point, for instance with a wrong gradient; accepted when the
    # gradient is below tol or down by five orders of magnitude from the start
    reached = float(np.max(np.abs(result.jac))) if result.jac.size else 0.0
    if result.status != 0 or not (reached <= estimator.tol or reached <= 1e-5 * initial):
        warnings.warn(
            f"{type(estimator).__name__}: lbfgs did not converge for loss {type(loss).__name__} "
            f"({result.message}; largest gradient component {reached:.3g}, tol={estimator.tol:g}); increase "
            "max_iter (and max_fun), scale the features, or check the loss's gradient.", ConvergenceWarning,
        )
    out = result.x.astype(network.dtype)
    if not np.all(np.isfinite(out)):
        raise _diverged(estimator, loss, "a weight")
    return out
