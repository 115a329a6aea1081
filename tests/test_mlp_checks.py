"""scikit-learn's own estimator checks for the MLP estimators, with several losses."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.losses import Focal, Huber, WeightedSum
from sklearn_losses.neural_network import MLPClassifier, MLPRegressor

SMALL = dict(hidden_layer_sizes=(16,), max_iter=200, random_state=0)

ESTIMATORS = [
    MLPRegressor(**SMALL),
    MLPRegressor(Huber(delta=0.5), **SMALL),
    MLPRegressor(solver="lbfgs", activation="gelu", **SMALL),
    MLPClassifier(**SMALL),
    MLPClassifier("cross_entropy", solver="sgd", learning_rate_init=0.01, **SMALL),
    MLPClassifier(Focal(gamma=2.0), activation="logistic", **SMALL),
    MLPClassifier(WeightedSum([(1.0, "log_loss"), (1.0, "soft_dice")]), solver="lbfgs", **SMALL),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
