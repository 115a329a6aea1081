"""scikit-learn's estimator checks on OrdinalClassifier and MLPOrdinalClassifier (left out of the pure-Python
CI pass with the other *_checks.py files: they test the API, which does not depend on the JIT)."""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.linear_model import OrdinalClassifier
from sklearn_losses.neural_network import MLPOrdinalClassifier


#: scikit-learn's checks read decision_function as one score per class (or the positive class's score),
#: and expect predict to be the argmax of predict_proba; an ordinal model's decision_function is its
#: latent score f, and its default prediction the median class. The same checks run below on the model
#: without decision_function and with prediction="mode", so that what they test is still tested.
_DECISION_CHECKS = {
    "check_classifiers_train": "decision_function is the latent score f; predict is the median class",
    "check_classifiers_classes": "decision_function is the latent score f, not one score per class",
}


@parametrize_with_checks([OrdinalClassifier(), OrdinalClassifier("all_threshold"), OrdinalClassifier("corn")],
                         expected_failed_checks=lambda estimator: _DECISION_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


class _WithoutDecisionFunction(OrdinalClassifier):
    @property
    def decision_function(self):
        raise AttributeError("hidden for the check")


@pytest.mark.parametrize("loss", ["cumulative_logit", "all_threshold", "corn"])
def test_sklearn_prediction_checks_without_decision_function(loss):
    from sklearn.utils.estimator_checks import check_classifiers_classes, check_classifiers_train

    estimator = _WithoutDecisionFunction(loss, prediction="mode")
    check_classifiers_train("OrdinalClassifier", estimator)
    check_classifiers_train("OrdinalClassifier", estimator, readonly_memmap=True)
    check_classifiers_classes("OrdinalClassifier", estimator)


@parametrize_with_checks([MLPOrdinalClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
                          MLPOrdinalClassifier("corn", hidden_layer_sizes=(8,), max_iter=50, random_state=0)],
                         expected_failed_checks=lambda estimator: _DECISION_CHECKS)
def test_mlp_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


class _MLPWithoutDecisionFunction(MLPOrdinalClassifier):
    @property
    def decision_function(self):
        raise AttributeError("hidden for the check")


@pytest.mark.parametrize("loss", ["cumulative_logit", "corn"])
def test_mlp_sklearn_prediction_checks_without_decision_function(loss):
    from sklearn.utils.estimator_checks import check_classifiers_classes, check_classifiers_train

    estimator = _MLPWithoutDecisionFunction(loss, hidden_layer_sizes=(16,), max_iter=1000, random_state=0,
                                         prediction="mode")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_classifiers_train("MLPOrdinalClassifier", estimator)
        check_classifiers_classes("MLPOrdinalClassifier", estimator)
