"""scikit-learn's own estimator checks for the kernel SVM estimators, with several losses."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.losses import Focal, MulticlassHinge, Quantile, make_loss
from sklearn_losses.svm import SVMClassifier, SVMRegressor


def log_cosh_like(y, r, scale=1.0):
    """A smooth robust custom loss: scale^2 * (sqrt(1 + (e/scale)^2) - 1)."""
    e = (y - r) / scale
    return scale * scale * ((1.0 + e * e) ** 0.5 - 1.0)


ESTIMATORS = [
    SVMClassifier(),
    SVMClassifier("log_loss", multi_class="ovr"),
    SVMClassifier(Focal(gamma=2.0)),
    SVMClassifier(kernel="linear", multi_class="ovr"),
    SVMClassifier(gamma=0.5, tol=1e-8),
    SVMClassifier("multiclass_hinge", random_state=0),
    SVMClassifier(MulticlassHinge("weston_watkins"), gamma=0.5, tol=1e-8, random_state=0),
    SVMRegressor(),
    SVMRegressor(Quantile(quantile=0.3), kernel="linear"),
    SVMRegressor("squared_error", C=10.0),
    SVMRegressor(make_loss(log_cosh_like, name="custom_robust")),
    SVMClassifier(kernel_approximation="nystroem", n_components=20, alpha=1e-3, random_state=0),
    SVMRegressor("huber", kernel_approximation="random_fourier", n_components=50, alpha=1e-3, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
