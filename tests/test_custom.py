"""Custom losses: make_loss, the decorator, subclassing, autodiff, pickling, composition."""

import math
import pickle
import re

import cloudpickle
import numba
import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_losses.losses import (
    AbsoluteError,
    Asymmetric,
    CustomLoss,
    Huber,
    LogLoss,
    NonFiniteLossError,
    PerOutput,
    Quantile,
    SquaredError,
    WeightedSum,
    custom_loss,
    get_loss,
    make_loss,
)
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.metrics import make_loss_scorer
from sklearn_losses.losses._autodiff import AutodiffError
from sklearn_losses.testing import check_loss

RNG = np.random.default_rng(0)
Y = RNG.normal(size=200)
R = Y + RNG.normal(size=200)
W = RNG.uniform(0.1, 2.0, size=200)
UNDER_COST = 3.0
requires_jit = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="inspects compiled code / numba overflow")


def business_cost(y, r, under=3.0):
    """Under-forecasting costs ``under`` times more than over-forecasting."""
    e = y - r
    if e > 0:
        return under * e * e
    return e * e


def pseudo_huber(y, r, delta=1.0):
    e = (r - y) / delta
    if abs(e) > 1e150:  # hypot(1, e) = |e| there; its derivative e / hypot would be inf / inf at overflow
        return delta * delta * (abs(e) - 1.0)
    return delta * delta * (math.hypot(1.0, e) - 1.0)


def stable_log_loss(y, r):
    z = (2.0 * y - 1.0) * r
    if z > 0:
        return math.log1p(math.exp(-z))
    return -z + math.log1p(math.exp(z))


def _helper_square(x):
    return x * x


def with_helper(y, r, scale=2.0):
    return scale * _helper_square(y - r) + UNDER_COST * 0.0


def with_helper_gradient(y, r, scale=2.0):
    return 2.0 * scale * (r - y)


def huber_value(y, r, delta=1.0):
    e = abs(r - y)
    return 0.5 * e * e if e <= delta else delta * (e - 0.5 * delta)


def huber_gradient(y, r, delta=1.0):
    e = r - y
    return max(-delta, min(delta, e))


def huber_hessian(y, r, delta=1.0):
    return 1.0 if abs(r - y) <= delta else 0.0


def _rebuilt_value(loss):
    return loss(Y, R)


class Business(CustomLoss):
    """The business cost as a subclass (module level: picklable by reference)."""

    def __init__(self, under=3.0):
        self.under = under

    @staticmethod
    def sample_loss(y, r, under):
        e = y - r
        return under * e * e if e > 0 else e * e


# --------------------------------------------------------------- the contract
CUSTOM_CASES = {
    "business_cost": lambda: make_loss(business_cost),
    "business_cost_under_5": lambda: make_loss(business_cost, under=5.0),
    "pseudo_huber": lambda: make_loss(pseudo_huber, delta=0.7, growth="linear", robust=True, convex=True),
    "log_loss": lambda: make_loss(stable_log_loss, task="binary", link="logit", growth="linear"),
    "helper": lambda: make_loss(with_helper, with_helper_gradient),
    "huber_analytic": lambda: make_loss(huber_value, huber_gradient, huber_hessian, growth="linear"),
    "huber_gradient_only": lambda: make_loss(huber_value, huber_gradient, growth="linear"),
    "lambda": lambda: make_loss(lambda y, r, a=2.0: a * (y - r) ** 2),
    "asymmetric_squared": lambda: Asymmetric(under=3.0),
    "asymmetric_huber": lambda: Asymmetric(Huber(delta=0.5), under=0.5, over=2.0),
    "asymmetric_custom": lambda: Asymmetric(make_loss(pseudo_huber, growth="linear"), under=2.0),
    "weighted_sum": lambda: WeightedSum([(1.0, "squared_error"), (0.3, Huber(delta=2.0))]),
    "weighted_sum_multiclass": lambda: WeightedSum([(1.0, "cross_entropy"), (0.5, "multiclass_focal")]),
}


@pytest.mark.parametrize("case", sorted(CUSTOM_CASES))
def test_custom_losses_keep_the_contract(case):
    check_loss(CUSTOM_CASES[case]())


# ------------------------------------------------------------------ autodiff
def test_derived_derivatives_match_the_builtin_huber_to_machine_precision():
    custom = make_loss(huber_value, delta=1.3)
    builtin = Huber(delta=1.3)
    g1, h1 = custom.gradient_hessian(Y, R, W)
    g2, h2 = builtin.gradient_hessian(Y, R, W)
    np.testing.assert_allclose(custom(Y, R, W), builtin(Y, R, W), rtol=1e-14)
    np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(h1, h2, rtol=1e-13, atol=1e-300)


def test_derived_derivatives_of_smooth_functions_are_accurate_to_1e_10():
    def smooth(y, r, a=0.5):
        t = math.tanh(a * (r - y))
        u = math.exp(-0.5 * (r - y) ** 2) / (1.0 + r * r)
        return t * t + math.log1p(r * r) + u ** 1.5 + math.atan(r) * math.sqrt(2.0 + math.sin(r))

    loss = make_loss(smooth, convex=False, growth="linear")
    _assert_derivatives_match(loss, smooth, np.linspace(-3.0, 3.0, 7), rtol=1e-8)


def test_derivative_at_a_kink_is_the_one_of_the_branch_taken():
    loss = make_loss(business_cost, under=3.0)
    g = loss.gradient([1.0, 1.0, 1.0], [0.5, 1.0, 1.5], reduction="none")
    np.testing.assert_allclose(g, [-3.0, 0.0, 1.0])  # e > 0 branch, e == 0 takes e * e


def test_loops_ifexp_augassign_and_min_max_differentiate():
    def series(y, r, n=6.0):
        total = 0.0
        term = 1.0
        for k in range(1, int(n)):
            term *= (r - y) / k
            total += term
        return total + (max(r, y) if r > 0 else min(r * r, 1.0))

    loss = make_loss(series, growth="polynomial")
    _assert_derivatives_match(loss, series, np.linspace(-2.0, 2.0, 9) + 0.05)


def _assert_derivatives_match(loss, func, r, rtol=1e-7):
    g, h = loss.gradient_hessian(np.zeros_like(r), r, reduction="none")

    def f(x):
        return float(func(0.0, x))

    for x, gi, hi in zip(r, g, h):
        step = 1e-4
        d1 = (f(x - 2 * step) - 8 * f(x - step) + 8 * f(x + step) - f(x + 2 * step)) / (12 * step)
        d2 = (-f(x - 2 * step) + 16 * f(x - step) - 30 * f(x) + 16 * f(x + step) - f(x + 2 * step)) / (
            12 * step * step)
        assert abs(gi - d1) <= rtol * max(1.0, abs(d1)), (x, gi, d1)
        assert abs(hi - d2) <= 1e3 * rtol * max(1.0, abs(d2)), (x, hi, d2)


def test_unsupported_call_is_a_clear_error():
    def uses_gamma(y, r):
        return math.lgamma(r * r + 1.0) - y

    with pytest.raises(AutodiffError, match="lgamma.*gradient="):
        make_loss(uses_gamma)
    # with an explicit gradient it works
    loss = make_loss(uses_gamma, gradient=lambda y, r: 0.0 * y + 2.0 * r * _digamma_stub(r * r + 1.0))
    assert np.isfinite(loss([0.0], [1.0]))


def _digamma_stub(x):
    return math.log(x) - 0.5 / x


def test_source_is_required_and_bad_globals_are_named():
    namespace = {}
    exec("def f(y, r):\n    return (y - r) ** 2\n", namespace)  # noqa: S102 - no source on purpose
    with pytest.raises(TypeError, match="source code"):
        make_loss(namespace["f"])
    table = {"a": 1.0}

    def uses_dict(y, r):
        return table["a"] * (y - r)

    with pytest.raises(TypeError, match="'table' of type dict"):
        make_loss(uses_dict)


def test_bad_parameters_are_named():
    with pytest.raises(TypeError, match="'alpha' of func has no value"):
        make_loss(lambda y, r, alpha: alpha * (y - r) ** 2)
    with pytest.raises(TypeError, match="not parameters of func"):
        make_loss(business_cost, beta=1.0)
    with pytest.raises(TypeError, match="'under' must be a real number"):
        make_loss(business_cost, under="3")
    loss = make_loss(business_cost)
    loss.set_params(under="high")
    with pytest.raises(TypeError, match="'under' must be a real number"):
        loss(Y, R)
    with pytest.raises(ValueError, match="task"):
        make_loss(business_cost, task="multiclass")


# ------------------------------------------------------- the three front ends
def test_decorator_and_subclass_agree_with_make_loss():
    @custom_loss
    def plain(y, r, under=3.0):
        e = y - r
        return under * e * e if e > 0 else e * e

    @custom_loss(name="business", under=2.0)
    def configured(y, r, under):
        e = y - r
        return under * e * e if e > 0 else e * e

    reference = make_loss(business_cost)
    for loss in (plain, Business()):
        np.testing.assert_allclose(loss(Y, R, W), reference(Y, R, W), rtol=1e-14)
        np.testing.assert_allclose(loss.gradient(Y, R), reference.gradient(Y, R), rtol=1e-14)
    assert configured.name == "business" and configured.under == 2.0
    np.testing.assert_allclose(configured(Y, R), make_loss(business_cost, under=2.0)(Y, R))
    check_loss(Business(under=4.0))
    # gradient and hessian from the subclass are used as given
    class HuberLike(CustomLoss):
        growth = "linear"

        def __init__(self, delta=1.0):
            self.delta = delta

        sample_loss = staticmethod(huber_value)
        sample_gradient = staticmethod(huber_gradient)
        sample_hessian = staticmethod(huber_hessian)

    np.testing.assert_allclose(HuberLike(0.8).gradient_hessian(Y, R)[1], Huber(delta=0.8).gradient_hessian(Y, R)[1])


def test_subclass_parameters_must_match_init():
    with pytest.raises(TypeError, match="__init__ parameters"):
        class Broken(CustomLoss):
            def __init__(self, a=1.0):
                self.a = a

            @staticmethod
            def sample_loss(y, r, b):
                return b * (y - r) ** 2


# --------------------------------------------------- parameters and pickling
@requires_jit
def test_parameters_are_sklearn_parameters_and_do_not_recompile():
    loss = make_loss(business_cost)
    assert loss.get_params() == {"under": 3.0}
    twin = clone(loss).set_params(under=7.0)
    assert type(twin) is type(loss) and twin.under == 7.0
    loss(Y, R)
    from sklearn_losses.losses._factory import get_kernels

    dispatcher = get_kernels(loss._kernel_spec, loss.name).get("value_sum", False, False)
    before = len(dispatcher.signatures)
    for under in (0.5, 1.0, 2.0, 10.0):
        clone(loss).set_params(under=under)(Y, R)
        make_loss(business_cost, under=under)(Y, R)  # a new make_loss call shares class and kernels
    assert type(make_loss(business_cost, under=5.0)) is type(loss)
    assert len(dispatcher.signatures) == before
    e = Y - R
    expected = np.mean(np.where(e > 0, 10.0 * e * e, e * e))
    assert np.isclose(clone(loss).set_params(under=10.0)(Y, R), expected, rtol=1e-13)


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)])
def test_custom_losses_pickle_by_value(dumps, loads):
    for loss in (make_loss(business_cost, under=4.0), make_loss(lambda y, r, a=2.0: a * abs(y - r)),
                 Asymmetric(make_loss(pseudo_huber), under=2.0)):
        copy = loads(dumps(loss))
        assert repr(copy) == repr(loss)
        assert copy(Y, R) == loss(Y, R)


def test_custom_loss_in_joblib_worker_processes():
    losses = [make_loss(business_cost, under=u) for u in (1.0, 3.0)]
    losses.append(make_loss(lambda y, r, a=2.0: a * (y - r) ** 2))
    remote = Parallel(n_jobs=2, backend="loky")(delayed(_rebuilt_value)(loss) for loss in losses)
    assert remote == [loss(Y, R) for loss in losses]


# ------------------------------------------------------------- bad outputs
@requires_jit  # pure Python's math.log raises on negative input instead of returning NaN
def test_nan_output_names_the_loss_and_the_first_bad_sample():
    def bad_log(y, r):
        return math.log(r - y)

    loss = make_loss(bad_log)
    y = np.zeros(5)
    r = np.array([1.0, 2.0, -1.0, 3.0, -2.0])
    for call in (loss.loss, loss.loss_gradient):  # the gradient 1/(r - y) is finite there
        with pytest.raises(NonFiniteLossError, match=r"'bad_log'.*nan.*sample 2 .*raw_prediction=-1\.0"):
            call(y, r)
    with pytest.raises(NonFiniteLossError, match="sample 2"):
        loss.loss(y, r, reduction="none")
    assert np.isfinite(loss(y[:2], r[:2]))


@requires_jit  # pure Python's math.exp raises OverflowError instead
def test_overflow_to_inf_is_returned_as_for_builtin_losses():
    # a true value beyond the float range is +inf (DESIGN: overflow to +inf, never NaN), not the user's bug
    loss = make_loss(lambda y, r: math.exp(r) - y * r)
    assert loss([0.0, 0.0], [1.0, 800.0]) == np.inf
    np.testing.assert_array_equal(loss([0.0, 0.0], [1.0, 800.0], reduction="none"), [math.e, np.inf])

    def squared(y, r):
        return (y - r) ** 2

    assert make_loss(squared)(np.array([1e155]), np.array([0.0])) == np.inf


def test_check_loss_catches_a_wrong_user_gradient():
    loss = make_loss(huber_value, gradient=lambda y, r, delta=1.0: 2.0 * (r - y))
    with pytest.raises(AssertionError, match="gradient disagrees with finite differences"):
        check_loss(loss)


# ------------------------------------------------------------- composition
def test_asymmetric_equals_the_custom_business_cost():
    composite = Asymmetric(SquaredError(), under=UNDER_COST, over=1.0)
    custom = make_loss(business_cost, under=UNDER_COST)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(composite(Y, R, W, reduction), custom(Y, R, W, reduction), rtol=1e-13)
        np.testing.assert_allclose(composite.gradient(Y, R, W, reduction), custom.gradient(Y, R, W, reduction),
                                   rtol=1e-13)
    assert Asymmetric(AbsoluteError(), under=0.7, over=0.3)(Y, R) == pytest.approx(Quantile(quantile=0.7)(Y, R))
    assert "base" in Asymmetric(Huber()).get_params() and "base__delta" in Asymmetric(Huber()).get_params()
    with pytest.raises(ValueError, match="element-wise regression loss"):
        Asymmetric(LogLoss())(Y, R)
    with pytest.raises(ValueError, match="under"):
        Asymmetric(under=-1.0)(Y, R)


def test_asymmetric_multi_output_and_float32():
    y = RNG.normal(size=(40, 3))
    r = y + RNG.normal(size=(40, 3))
    loss = Asymmetric(Huber(), under=2.0)
    factor = np.where(r < y, 2.0, 1.0).ravel()
    expected = np.mean(factor * Huber(delta=1.0).loss(y.ravel(), r.ravel(), reduction="none"))
    assert loss(y, r) == pytest.approx(expected, rel=1e-13)
    g32 = loss.gradient(y.astype(np.float32), r.astype(np.float32))
    assert g32.dtype == np.float32 and g32.shape == (40, 3)


def test_weighted_sum_and_per_output():
    ws = WeightedSum([(2.0, SquaredError()), (0.5, "absolute_error")])
    expected = 2.0 * SquaredError()(Y, R, W) + 0.5 * AbsoluteError()(Y, R, W)
    assert ws(Y, R, W) == pytest.approx(expected, rel=1e-13)
    assert ws.convex and not ws.differentiable
    with pytest.raises(ValueError, match="same task"):
        WeightedSum([(1.0, "squared_error"), (1.0, "log_loss")])(Y, R)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedSum([(-1.0, "squared_error")])(Y, R)
    y = np.stack([Y, Y], axis=1)
    r = np.stack([R, R + 1.0], axis=1)
    po = PerOutput([SquaredError(), Quantile(quantile=0.9)])
    expected = 0.5 * (SquaredError()(Y, R, W) + Quantile(quantile=0.9)(Y, R + 1.0, W))
    assert po(y, r, W) == pytest.approx(expected, rel=1e-13)
    g = po.gradient(y, r, W)
    np.testing.assert_allclose(g[:, 1], 0.5 * Quantile(quantile=0.9).gradient(Y, R + 1.0, W))
    check_loss_multi = PerOutput([make_loss(business_cost), Huber()])
    v, g = check_loss_multi.loss_gradient(y, r)
    assert np.isfinite(v) and g.shape == y.shape
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        po(Y, R)


# ------------------------------------------------- the business-cost story
def test_business_cost_story_grid_searched_with_two_workers_and_scored():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.gumbel(size=600)  # skewed noise: the asymmetry matters
    loss = make_loss(business_cost)  # gradient derived automatically
    scorer = make_loss_scorer(make_loss(business_cost, under=UNDER_COST))
    search = GridSearchCV(LinearRegressor(loss=loss, alpha=0.0), {"loss__under": [1.0, 3.0, 9.0]}, scoring=scorer,
                          cv=3, n_jobs=2)
    search.fit(X, y)
    assert search.best_params_ == {"loss__under": UNDER_COST}
    # under-forecasting costs more: the fitted model leans high
    symmetric = LinearRegressor(loss=clone(loss).set_params(under=1.0), alpha=0.0).fit(X, y)
    assert np.mean(search.best_estimator_.predict(X) - symmetric.predict(X)) > 0.1
    scores = cross_val_score(search.best_estimator_, X, y, scoring=scorer, cv=3, n_jobs=2)
    assert np.all(scores < 0)


# ------------------------------------------------------------- what make_loss refuses, and where
def _logistic(y, r):
    return math.log1p(math.exp(-(2.0 * y - 1.0) * r))


def test_a_binary_custom_loss_checks_its_targets():
    loss = make_loss(_logistic, task="binary")
    with pytest.raises(ValueError, match="0 or 1"):
        loss(np.array([2.0]), np.array([0.0]))
    assert np.isfinite(loss(np.array([1.0, 0.0]), np.array([0.3, -0.2])))


def _uses_comb(y, r):
    return math.comb(3, 2) * (y - r) ** 2


def _adds_a_string(y, r):
    return "a" + (y - r)


@requires_jit  # without the JIT, Python runs both (and fails only at the call)
@pytest.mark.parametrize("func, statement, reason", [
    (_uses_comb, "math.comb(3, 2)", "Unknown attribute 'comb'"),
    (_adds_a_string, "'a' + (y - r)", "No implementation of function"),
])
def test_code_numba_cannot_compile_fails_in_make_loss_naming_function_and_statement(func, statement, reason):
    def build():
        make_loss(func, gradient=lambda y, r: 0.0 * r, hessian=lambda y, r: 0.0 * r)

    with pytest.raises(TypeError, match=rf"custom loss '{func.__name__.strip('_')}': numba cannot compile func at "
                                        rf"`return .*{re.escape(statement)}.*`: {reason}"):
        build()


def _refuses_negative_targets(y, r):
    if y < 0:
        raise ValueError("negative target")
    return (y - r) ** 2


def test_a_raise_statement_compiles_and_raises():
    loss = make_loss(_refuses_negative_targets)
    assert loss(np.array([1.0]), np.array([0.0])) == 1.0
    np.testing.assert_allclose(loss.gradient(np.ones(3), np.zeros(3)), -2.0 / 3.0)
    with pytest.raises(ValueError, match="negative target"):
        loss(np.array([-1.0]), np.array([0.0]))
    big = np.full(300_000, -1.0)  # the threaded kernels too (they run serially when a loss can raise)
    with pytest.raises(ValueError, match="negative target"):
        loss(big, np.zeros_like(big))


def _square(e):
    return e * e


def _through_a_helper(y, r):
    return _square(y - r)


def test_a_helper_of_r_needs_an_explicit_gradient_and_works_with_one():
    with pytest.raises(AutodiffError, match=r"_square\(y - r\).*gradient="):
        make_loss(_through_a_helper)
    loss = make_loss(_through_a_helper, gradient=lambda y, r: 2.0 * (r - y), hessian=lambda y, r: 2.0 + 0.0 * r)
    np.testing.assert_allclose(loss(np.array([3.0]), np.array([1.0])), 4.0)


@requires_jit  # sqrt of a negative number is NaN only when compiled (Python raises)
def test_a_linear_fit_of_a_nan_loss_raises_the_precise_error():
    def sqrt_of_negative(y, r):
        return math.sqrt(r - 1e9) + (y - r) ** 2

    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(NonFiniteLossError, match=r"'sqrt_of_negative'\) returned nan .*sample 0"):
        LinearRegressor(make_loss(sqrt_of_negative)).fit(X, X[:, 0])


def test_a_loss_unbounded_below_warns():
    from sklearn.exceptions import ConvergenceWarning

    def linear_reward(y, r):
        return -r

    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.warns(ConvergenceWarning, match="unbounded below"):
        LinearRegressor(make_loss(linear_reward), alpha=0.0).fit(X, X[:, 0])


@requires_jit
def test_a_user_gradient_numba_cannot_compile_is_named_in_make_loss():
    def squared(y, r):
        return (y - r) ** 2

    def gradient_with_comb(y, r):
        return math.comb(2, 1) * (r - y)

    with pytest.raises(TypeError, match=r"numba cannot compile gradient at `return math.comb\(2, 1\)"):
        make_loss(squared, gradient=gradient_with_comb)


@requires_jit
def test_a_subclass_numba_cannot_compile_fails_at_its_definition():
    from sklearn_losses.losses import CustomLoss

    with pytest.raises(TypeError, match=r"custom loss 'comb_cost': numba cannot compile func at `return math.comb"):
        class CombCost(CustomLoss):
            def __init__(self):
                pass

            @staticmethod
            def sample_loss(y, r):
                return math.comb(3, 2) * (y - r) ** 2
