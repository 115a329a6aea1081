"""scikit-learn's estimator checks on LinearEmbedding and MLPEmbedding (left out of the pure-Python CI pass with
the other *_checks.py files: they test the API, which does not depend on the JIT)."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.embedding import LinearEmbedding, MLPEmbedding
from sklearn_losses.losses import Contrastive


#: An embedding loss weighs a pair by the product of its samples' weights; a repeated row would be a positive
#: of its copy (a new pair at distance 0), so integer weights are not repeated rows (see losses/_pairwise.py).
_EXPECTED = {"check_sample_weight_equivalence_on_dense_data":
             "integer weights are not repeated rows for a loss of pairs: copies would be positives of each other"}


@parametrize_with_checks([
    LinearEmbedding(max_iter=20, random_state=0),
    LinearEmbedding("supcon", n_components=2, solver="lbfgs", max_iter=10, random_state=0),
    LinearEmbedding(Contrastive(normalize=False, neg_margin=3.0), solver="sgd", max_iter=20, random_state=0),
    MLPEmbedding(hidden_layer_sizes=(8,), n_components=3, max_iter=20, random_state=0),
    MLPEmbedding("ntxent", hidden_layer_sizes=(6,), n_components=2, solver="lbfgs", max_iter=10, random_state=0),
], expected_failed_checks=lambda estimator: _EXPECTED)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
