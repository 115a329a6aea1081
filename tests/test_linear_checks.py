"""scikit-learn's own estimator checks for the linear estimators, with several losses."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import Focal, Hinge, Huber, Quantile, make_loss


def log_cosh_like(y, r, scale=1.0):
    """A smooth robust custom loss: scale^2 * (sqrt(1 + (e/scale)^2) - 1)."""
    e = (y - r) / scale
    return scale * scale * ((1.0 + e * e) ** 0.5 - 1.0)


CUSTOM = make_loss(log_cosh_like, name="custom_robust")

ESTIMATORS = [
    LinearRegressor(),
    LinearRegressor(Huber(delta=0.5)),
    LinearRegressor(Quantile(quantile=0.3)),
    LinearRegressor(CUSTOM),
    LinearRegressor("poisson"),
    LinearRegressor("epsilon_insensitive", penalty="l1", alpha=1e-3),
    LinearClassifier(),
    LinearClassifier(Hinge()),
    LinearClassifier(Focal(gamma=2.0)),
    LinearClassifier("cross_entropy", penalty="elasticnet", alpha=1e-3),
]


def expected_failures(estimator):
    if getattr(estimator, "loss", None) == "poisson":
        return {
            "check_regressor_multioutput": "the check draws negative targets whatever the positive_only "
                                           "tag says, and the Poisson deviance needs y >= 0",
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
