"""Loss curves and loss shapes as scikit-learn style displays (matplotlib optional).

As scikit-learn's displays (``RocCurveDisplay``, ...): a class method builds
the display from an estimator or from losses, computes what is drawn and
calls :meth:`plot`, which draws on ``ax`` (a new figure when ``None``) and
stores the matplotlib objects in ``ax_``, ``figure_`` and ``lines_``. The
computed values stay on the display, so it can be redrawn or inspected.
"""

import numpy as np

from .losses import get_loss
from .losses._base import LABEL_TASKS

__all__ = ["LossCurveDisplay", "LossShapeDisplay", "check_matplotlib"]


def check_matplotlib(caller):
    """Import ``matplotlib.pyplot``, or raise an ``ImportError`` that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{caller} requires matplotlib; install it with: pip install 'sklearn-losses[plot]'"
        ) from error
    return plt


def _axes(ax, caller):
    plt = check_matplotlib(caller)
    if ax is None:
        _, ax = plt.subplots()
    return ax


class LossCurveDisplay:
    """Training (and validation) loss per iteration of a fitted estimator.

    Parameters
    ----------
    loss_curve : list of float
        Training objective per epoch or iteration (``estimator.loss_curve_``).
    validation_loss_curve : list of float or None, default=None
        Validation loss per epoch (``estimator.validation_loss_curve_``).
    estimator_name : str, default=None
    loss_name : str, default=None

    Attributes
    ----------
    ax_, figure_ : matplotlib Axes and Figure
    lines_ : list of matplotlib Line2D
        The training curve, then the validation curve if any.
    """

    def __init__(self, loss_curve, validation_loss_curve=None, *, estimator_name=None, loss_name=None):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.estimator_name = estimator_name
        self.loss_name = loss_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False):
        """Plot ``estimator.loss_curve_`` and, if recorded, ``validation_loss_curve_``.

        Parameters
        ----------
        estimator : fitted estimator with a ``loss_curve_`` attribute
            Any of this library's estimators fitted by an iterative solver,
            or scikit-learn's MLPs.
        ax : matplotlib Axes, default=None
        log_scale : bool, default=False
            Logarithmic y axis.

        Returns
        -------
        LossCurveDisplay
        """
        curve = getattr(estimator, "loss_curve_", None)
        if curve is None or len(curve) == 0:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_: fit it first, with an iterative solver "
                "(loss curves are recorded by the stochastic, L-BFGS and Newton solvers)."
            )
        loss = getattr(estimator, "loss_", None)
        loss_name = type(loss).__name__ if loss is not None and not isinstance(loss, (int, float)) else None
        display = cls(list(curve), getattr(estimator, "validation_loss_curve_", None),
                      estimator_name=type(estimator).__name__, loss_name=loss_name)
        return display.plot(ax=ax, log_scale=log_scale)

    def plot(self, ax=None, *, log_scale=False):
        """Draw the curves on ``ax``; returns the display."""
        ax = _axes(ax, "LossCurveDisplay")
        iterations = np.arange(1, len(self.loss_curve) + 1)
        self.lines_ = ax.plot(iterations, self.loss_curve, label="training")
        if self.validation_loss_curve:
            self.lines_ += ax.plot(np.arange(1, len(self.validation_loss_curve) + 1),
                                   self.validation_loss_curve, label="validation")
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"loss ({self.loss_name})" if self.loss_name else "loss")
        if log_scale:
            ax.set_yscale("log")
        if self.estimator_name:
            ax.set_title(self.estimator_name)
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self


_MARGIN = "margin z of the true class"
_ORDINAL = "latent score f (thresholds -1, 1; the middle class true)"
_BOX = "horizontal offset of a unit box from its target"
_EMBEDDING = "angle of the negative (anchor at 0, positive at 0.5 rad, unit circle)"


def _per_point(loss, y, raw):
    """Per-point loss and gradient; a batch loss (no per-sample values) on a batch of one sample per point."""
    if loss.structure != "batch":
        return loss.loss_gradient(y, raw, reduction="none")
    pairs = [loss.loss_gradient(y[i:i + 1], raw[i:i + 1]) for i in range(raw.shape[0])]
    return np.array([value for value, _ in pairs]), np.concatenate([grad for _, grad in pairs])


def _shape(loss, x):
    """``(loss values, gradients, axis label)`` of ``loss`` along ``x``.

    Regression losses with identity link: against the residual ``y - r``
    (``y = x``, ``r = 0``). The gradient is always ``loss.gradient``, the
    derivative with respect to the raw prediction (so it is minus the
    derivative in the residual). Log-link
    losses: against the raw prediction ``log(mu)`` for ``y = 1``. Binary
    losses: against the margin ``z`` for the positive class. Multiclass and
    distribution losses: two classes, scores ``(0, z)``, true class 1, so
    that ``z`` is again the margin and binary and multiclass losses share
    the axis. Ordinal losses: three classes with thresholds (-1, 1), the
    middle class true, against the latent score ``f`` (rows ``z = f -
    theta``); the gradient is the derivative in ``f``. Box losses: a unit
    box moved sideways by ``x`` from its target; the gradient is the
    derivative in ``x``. Overlap losses, like binary ones, on batches of one
    positive sample. Embedding losses: a batch of three unit vectors in the
    plane, an anchor at angle 0 and a positive of its class at 0.5 rad, and a
    negative of another class at angle ``x``; the value is the batch mean and
    the gradient the derivative in ``x``.
    """
    n = x.shape[0]
    if loss.link.name == "box":  # a unit box moved sideways from its target
        target = np.tile([[-0.5, -0.5, 0.5, 0.5]], (n, 1))
        moved = target + x[:, None] * np.array([1.0, 0.0, 1.0, 0.0])
        raw = loss.link.link(moved)
        direction = loss.link.link(target + np.array([1.0, 0.0, 1.0, 0.0])) - loss.link.link(target)
        value, grad = loss.loss_gradient(target, raw, reduction="none")
        return value, np.sum(grad * direction, axis=1), _BOX
    if loss.task == "regression":
        if loss.link.name == "identity":
            y, raw, label = x.copy(), np.zeros(n), "residual y - raw_prediction"
        else:
            y, raw, label = np.ones(n), x.copy(), f"raw_prediction ({loss.link.name} link), y = 1"
        value, grad = _per_point(loss, y, raw)
        return value, grad, label
    if loss.task in LABEL_TASKS:
        value, grad = _per_point(loss, np.ones(n), x.copy())
        return value, grad, _MARGIN + (" (one-sample batches)" if loss.structure == "batch" else "")
    if loss.task in ("multiclass", "distribution"):
        raw = np.column_stack([np.zeros(n), x])
        y = np.ones(n) if loss.task == "multiclass" else np.column_stack([np.zeros(n), np.ones(n)])
        value, grad = _per_point(loss, y, raw)
        return value, grad[:, 1], _MARGIN
    if loss.task == "ordinal":
        raw = np.column_stack([x + 1.0, x - 1.0])
        value, grad = _per_point(loss, np.ones(n), raw)
        return value, grad.sum(axis=1), _ORDINAL
    if loss.task == "embedding":
        y = np.array([0.0, 0.0, 1.0])
        value, grad = np.empty(n), np.empty(n)
        for i, angle in enumerate(x):
            raw = np.array([[1.0, 0.0], [np.cos(0.5), np.sin(0.5)], [np.cos(angle), np.sin(angle)]])
            value[i], g = loss.loss_gradient(y, raw)
            grad[i] = g[2] @ np.array([-np.sin(angle), np.cos(angle)])
        return value, grad, _EMBEDDING
    raise ValueError(f"LossShapeDisplay cannot draw {type(loss).__name__} (task {loss.task!r}).")


def _legend(loss):
    """``name(param=value, ...)`` with every hyperparameter, defaults included."""
    params = ", ".join(f"{k}={v!r}" for k, v in loss.get_params(deep=False).items())
    return f"{loss.name or type(loss).__name__}({params})"


class LossShapeDisplay:
    """Loss and gradient of several losses against the residual or the margin.

    Parameters
    ----------
    x : ndarray
        Points along the horizontal axis.
    values, gradients : dict of str to ndarray
        Per-sample loss and its derivative with respect to the raw prediction
        (``loss.gradient``) for each loss label (the loss's name and every
        hyperparameter).
    xlabel : str

    Attributes
    ----------
    ax_ : ndarray of two matplotlib Axes (loss, gradient)
    figure_ : matplotlib Figure
    lines_ : dict of str to (Line2D, Line2D)
    """

    def __init__(self, x, values, gradients, *, xlabel="residual"):
        self.x = x
        self.values = values
        self.gradients = gradients
        self.xlabel = xlabel

    @classmethod
    def from_losses(cls, losses, *, x_range=(-3.0, 3.0), n_points=401, ax=None):
        """Compute and draw the shapes of ``losses`` (names or instances) of one kind.

        Parameters
        ----------
        losses : list of str or loss instances
            Regression losses are drawn against the residual, classification
            losses against the margin; all must share the horizontal axis.
        x_range : (float, float), default=(-3, 3)
        n_points : int, default=401
        ax : array of two matplotlib Axes, default=None

        Returns
        -------
        LossShapeDisplay
        """
        if isinstance(losses, (str,)) or not len(losses):
            raise ValueError("losses must be a non-empty list of loss names or instances.")
        low, high = map(float, x_range)
        if not low < high:
            raise ValueError(f"x_range must be increasing; got {x_range!r}.")
        x = np.linspace(low, high, int(n_points))
        values, gradients, labels = {}, {}, set()
        for item in losses:
            loss = get_loss(item)
            value, grad, label = _shape(loss, x)
            labels.add(label)
            name = _legend(loss)
            values[name], gradients[name] = value, grad
        if len(labels) > 1:
            raise ValueError(f"losses of different kinds cannot share an axis: {sorted(labels)}.")
        return cls(x, values, gradients, xlabel=labels.pop()).plot(ax=ax)

    def plot(self, ax=None):
        """Draw loss (left) and gradient (right); returns the display."""
        plt = check_matplotlib("LossShapeDisplay")
        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax = np.asarray(ax).ravel()
        if ax.shape[0] != 2:
            raise ValueError("ax must hold two Axes: loss and gradient.")
        self.lines_ = {}
        for name in self.values:
            (loss_line,) = ax[0].plot(self.x, self.values[name], label=name)
            (grad_line,) = ax[1].plot(self.x, self.gradients[name], label=name)
            self.lines_[name] = (loss_line, grad_line)
        ax[0].set_ylabel("loss")
        ax[1].set_ylabel("gradient d loss / d raw_prediction")
        for a in ax:
            a.set_xlabel(self.xlabel)
            a.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
        ax[0].legend()
        self.ax_, self.figure_ = ax, ax[0].figure
        return self
