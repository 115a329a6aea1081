"""Solvers for linear models, chosen from what a loss declares.

Each solver states, as data, what it needs from the loss and the penalty
(:class:`SolverInfo`); estimators never look at loss classes. ``"auto"``
takes the first solver whose needs are met, in the order of :data:`AUTO_ORDER`.

==============  ========================================================
``"lbfgs"``     smooth (differentiable) losses; any penalty (L1 exact via
                a bound-constrained split)
``"newton"``    smooth losses with a hessian, L2 or no penalty; few
                features
``"newton-cg"`` smooth, twice differentiable losses (also softmax and
                multi-output), L2 or no penalty: truncated Newton in a
                trust region with hessian-vector products from the gradient
``"ipm"``       piecewise-linear losses (absolute, pinball, hinge,
                epsilon-insensitive); any penalty; exact optimum; up to
                10,000 features (chosen by ``"auto"`` for dense X and for
                sparse X with fewer than 1,000 features)
``"dcd"``       piecewise-linear losses with a pure L2 penalty (alpha > 0):
                dual coordinate descent, any number of features (chosen by
                ``"auto"`` for wider sparse X); to a certified duality gap
``"sgd"``,      minibatch stochastic gradient for ``partial_fit`` and very
``"adam"``      large data; differentiable losses (subgradients otherwise)
==============  ========================================================
"""

from dataclasses import dataclass

import scipy.sparse as sp

from .dcd import dual_coordinate_descent
from .ipm import MAX_FEATURES, interior_point
from .lbfgs import lbfgs
from .newton import newton
from .newton_cg import newton_cg

__all__ = ["AUTO_ORDER", "SOLVERS", "SolverInfo", "select_solver"]


@dataclass(frozen=True)
class SolverInfo:
    """A full-batch solver and what it needs."""

    name: str
    func: object
    needs_differentiable: bool = False
    needs_hessian: bool = False
    needs_piecewise_linear: bool = False
    needs_smooth_penalty: bool = False
    single_output: bool = False
    needs_elementwise: bool = False
    needs_pure_l2: bool = False

    def unmet(self, loss, penalty):
        """Reasons this solver cannot minimise ``loss`` with ``penalty`` (empty: it can)."""
        reasons = []
        name = type(loss).__name__
        if self.needs_differentiable and not loss.differentiable:
            reasons.append(f"{name} is not differentiable (differentiable=False)")
        if self.needs_hessian and loss.hessian not in ("exact", "indefinite"):
            reasons.append(f"{name} declares hessian={loss.hessian!r} (the solver needs 'exact' or 'indefinite')")
        elif self.needs_hessian and not loss.twice_differentiable:
            reasons.append(f"{name} is not twice differentiable (twice_differentiable=False)")
        if self.needs_piecewise_linear and not loss.piecewise_linear:
            reasons.append(f"{name} is not piecewise linear (piecewise_linear=False)")
        if self.needs_elementwise and loss.structure != "elementwise":
            reasons.append(f"{name} has structure={loss.structure!r} (the solver needs 'elementwise': a "
                           "diagonal hessian)")
        if self.needs_smooth_penalty and not penalty.smooth:
            reasons.append("the penalty has an L1 part")
        if self.needs_pure_l2 and not (penalty.smooth and penalty.l2 > 0):
            reasons.append("it needs penalty='l2' with alpha > 0")
        return reasons


SOLVERS = {
    info.name: info for info in (
        SolverInfo("lbfgs", lbfgs, needs_differentiable=True),
        SolverInfo("newton", newton, needs_differentiable=True, needs_hessian=True,
                   needs_smooth_penalty=True, single_output=True, needs_elementwise=True),
        SolverInfo("newton-cg", newton_cg, needs_differentiable=True, needs_hessian=True,
                   needs_smooth_penalty=True),
        SolverInfo("ipm", interior_point, needs_piecewise_linear=True, single_output=True),
        SolverInfo("dcd", dual_coordinate_descent, needs_piecewise_linear=True, single_output=True,
                   needs_pure_l2=True),
    )
}


#: Up to this many features "auto" prefers the interior-point method for
#: sparse X too: its cost does not grow as alpha falls, while dual coordinate
#: descent, like LIBLINEAR, needs thousands of passes when alpha is tiny.
NARROW = 1000


def _interior_point_first(X):
    return X.shape[1] < (MAX_FEATURES if not sp.issparse(X) else NARROW)


def _fits(X):
    return X.shape[1] < MAX_FEATURES


#: Order in which ``solver="auto"`` tries the full-batch solvers, each with a
#: condition on X. For piecewise-linear losses the interior-point method is
#: exact in 30-50 factorisations and fastest on dense X (hinge, 100,000 rows,
#: 50 / 200 / 500 features: 2.3 / 17 / 48 s against 11 / 28 / over 61 s for
#: dual coordinate descent); dual coordinate descent needs no (p, p) matrix
#: and takes wide sparse X.
AUTO_ORDER = (("ipm", _interior_point_first), ("dcd", None), ("ipm", _fits), ("lbfgs", None))


def select_solver(solver, loss, penalty, X=None):
    """Return the :class:`SolverInfo` for the ``solver`` parameter of an estimator.

    ``X`` (the training data) lets ``"auto"`` choose by its sparsity and width.
    """
    if solver == "auto":
        for name, condition in AUTO_ORDER:
            if condition is not None and X is not None and not condition(X):
                continue
            if not SOLVERS[name].unmet(loss, penalty):
                return SOLVERS[name]
        if loss.piecewise_linear:
            why = (f"with an L1 part in the penalty (or alpha=0) it needs the interior-point method, "
                   f"which takes fewer than {MAX_FEATURES} features")
        else:
            why = "it is not differentiable and declares no piecewise-linear structure"
        raise ValueError(
            f"No exact solver for {type(loss).__name__}: {why}. Pass solver='sgd' or solver='adam' "
            "(subgradient steps) or use a smooth loss."
        )
    if solver not in SOLVERS:
        raise ValueError(f"solver must be 'auto' or one of {sorted(SOLVERS)}; got {solver!r}.")
    info = SOLVERS[solver]
    reasons = info.unmet(loss, penalty)
    if reasons:
        raise ValueError(f"solver={solver!r} cannot be used: {'; '.join(reasons)}.")
    return info
