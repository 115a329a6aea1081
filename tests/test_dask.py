"""Fits on Dask collections equal the in-memory fits; predictions are lazy; bad input is a clear error.

Every test runs against a LocalCluster started here (no external services): two workers in this process
(threads) for most, and one cluster of worker processes for what must travel (the loss, a custom loss, the
fitted model). Dask is in the ``test`` extra; without it the module is skipped.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses._estimator import keeps_model_on_failure
from sklearn_losses.losses import make_loss
from sklearn_losses import linear_model as memory

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn_losses.dask import LinearClassifier, LinearRegressor, is_dask_collection  # noqa: E402

pytestmark = pytest.mark.xdist_group("dask")  # one worker starts the clusters


def _soft_cost(y, r):  # module level: travels to worker processes by reference
    e = y - r
    return e * e if e > 0 else 0.5 * e * e


SOFT_COST = make_loss(_soft_cost, name="soft_cost")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _data(n=3000, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    score = X @ rng.standard_normal(p)
    return {
        "X": X,
        "regression": score + rng.standard_normal(n),
        "counts": rng.poisson(np.exp(0.3 * score)).astype(float),
        "binary": (score + rng.logistic(size=n) > 0).astype(int),
        "multiclass": np.digitize(score + rng.standard_normal(n), [-1.0, 1.0]),
        "weights": rng.uniform(0.5, 2.0, n),
    }


def _dask(a, chunks=700):
    return da.from_array(a, chunks=chunks if a.ndim == 1 else (chunks, -1))


CASES = [
    (LinearRegressor, "squared_error", "l2", "regression"),
    (LinearRegressor, "huber", "l2", "regression"),
    (LinearRegressor, "huber", "elasticnet", "regression"),
    (LinearRegressor, "log_cosh", "l1", "regression"),
    (LinearRegressor, "poisson", "l2", "counts"),
    (LinearRegressor, "expectile", None, "regression"),
    (LinearRegressor, SOFT_COST, "l2", "regression"),
    (LinearClassifier, "log_loss", "l2", "binary"),
    (LinearClassifier, "log_loss", "l1", "binary"),
    (LinearClassifier, "focal", "l2", "binary"),
    (LinearClassifier, "squared_hinge", "l2", "binary"),
    (LinearClassifier, "cross_entropy", "l2", "multiclass"),
    (LinearClassifier, "log_loss", "l2", "multiclass"),  # one-vs-rest: three distributed problems
]


@pytest.mark.parametrize("cls, loss, penalty, target", CASES,
                         ids=[f"{c.__name__}-{getattr(l, 'name', l)}-{p}-{t}" for c, l, p, t in CASES])
def test_distributed_fit_equals_the_in_memory_fit(client, cls, loss, penalty, target):
    data = _data()
    X, y, w = data["X"], data[target], data["weights"]
    params = dict(loss=loss, penalty=penalty, alpha=1e-3, tol=1e-10, max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = getattr(memory, cls.__name__)(**params).fit(X, y, sample_weight=w)
        fitted = cls(**params).fit(_dask(X), _dask(y), sample_weight=_dask(w))
    np.testing.assert_allclose(fitted.objective_, expected.objective_, rtol=1e-8)
    np.testing.assert_allclose(fitted.coef_, expected.coef_, atol=1e-6)
    np.testing.assert_allclose(fitted.intercept_, expected.intercept_, atol=1e-6)
    assert fitted.n_features_in_ == X.shape[1] and fitted.solver_ == "lbfgs"
    prediction = fitted.predict(_dask(X))
    assert is_dask_collection(prediction)
    if cls is LinearClassifier:
        np.testing.assert_array_equal(fitted.classes_, expected.classes_)
        assert np.mean(prediction.compute() == expected.predict(X)) > 0.999
    else:
        np.testing.assert_allclose(prediction.compute(), expected.predict(X), rtol=1e-6, atol=1e-6)


def test_lazy_predictions_and_scores_equal_the_in_memory_ones(client):
    data = _data()
    X, y, w = data["X"], data["multiclass"], data["weights"]
    model = LinearClassifier("cross_entropy", tol=1e-10).fit(_dask(X), _dask(y))
    Xd = _dask(X)
    for method in ("predict_proba", "predict_log_proba", "decision_function"):
        lazy = getattr(model, method)(Xd)
        assert is_dask_collection(lazy) and lazy.shape[1] == 3
        np.testing.assert_allclose(lazy.compute(), getattr(memory.LinearClassifier, method)(model, X), rtol=1e-12)
    score = model.score(Xd, _dask(y), sample_weight=_dask(w))
    assert is_dask_collection(score)
    np.testing.assert_allclose(float(score.compute()), memory.LinearClassifier.score(model, X, y, w), rtol=1e-12)
    regressor = LinearRegressor("huber").fit(_dask(X), _dask(data["regression"]))
    r2 = regressor.score(Xd, _dask(data["regression"]), sample_weight=_dask(w))
    np.testing.assert_allclose(float(r2.compute()),
                               memory.LinearRegressor.score(regressor, X, data["regression"], w), rtol=1e-10)
    # the model is the in-memory one too
    np.testing.assert_allclose(regressor.predict(X), regressor.predict(Xd).compute(), rtol=1e-12)


@pytest.mark.parametrize("class_weight", [{0: 1.0, 1: 3.0, 2: 0.5}, "balanced"])
def test_class_weight_is_applied_on_the_workers(client, class_weight):
    data = _data()
    X, y = data["X"], data["multiclass"]
    expected = memory.LinearClassifier("cross_entropy", class_weight=class_weight, tol=1e-10).fit(X, y)
    fitted = LinearClassifier("cross_entropy", class_weight=class_weight, tol=1e-10).fit(_dask(X), _dask(y))
    np.testing.assert_allclose(fitted.coef_, expected.coef_, atol=1e-6)


def test_in_memory_targets_and_weights_are_split_into_the_blocks_of_X(client):
    data = _data()
    X, y, w = data["X"], data["regression"], data["weights"]
    expected = memory.LinearRegressor("huber", tol=1e-10).fit(X, y, sample_weight=w)
    fitted = LinearRegressor("huber", tol=1e-10).fit(_dask(X), y, sample_weight=w)
    np.testing.assert_allclose(fitted.coef_, expected.coef_, atol=1e-6)
    mixed = LinearRegressor("huber", tol=1e-10).fit(_dask(X), _dask(y), sample_weight=list(w))
    np.testing.assert_allclose(mixed.coef_, expected.coef_, atol=1e-6)


def test_string_labels_and_uneven_blocks(client):
    data = _data(n=2500)
    X, labels = data["X"], np.array(["ham", "spam"])[data["binary"]]
    expected = memory.LinearClassifier(tol=1e-10).fit(X, labels)
    fitted = LinearClassifier(tol=1e-10).fit(da.from_array(X, chunks=((900, 1, 1599), (5,))),
                                             da.from_array(labels, chunks=((900, 1, 1599),)))
    np.testing.assert_allclose(fitted.coef_, expected.coef_, atol=1e-6)
    assert list(fitted.classes_) == ["ham", "spam"]
    assert set(np.unique(fitted.predict(_dask(X)).compute())) <= {"ham", "spam"}


def test_dataframes_keep_feature_names(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    data = _data()
    frame = pd.DataFrame(data["X"], columns=[f"f{j}" for j in range(5)])
    X, y = dd.from_pandas(frame, npartitions=4), dd.from_pandas(pd.Series(data["regression"]), npartitions=4)
    model = LinearRegressor("huber", tol=1e-10).fit(X, y)
    expected = memory.LinearRegressor("huber", tol=1e-10).fit(frame, data["regression"])
    assert list(model.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(model.coef_, expected.coef_, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning from the blocks
        np.testing.assert_allclose(model.predict(X).compute(), expected.predict(frame), rtol=1e-6, atol=1e-6)


def test_bad_input_is_a_clear_error_and_keeps_the_model(client):
    data = _data(n=1000)
    X, y = data["X"], data["regression"]
    model = LinearRegressor("huber").fit(_dask(X), _dask(y))
    coef = model.coef_.copy()
    bad = X.copy()
    bad[123, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.fit(_dask(bad), _dask(y))
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(_dask(X), _dask(y), sample_weight=_dask(-np.ones(1000)))
    with pytest.raises(ValueError, match="solver='sgd'"):
        LinearRegressor("huber", solver="sgd").fit(_dask(X), _dask(y))
    with pytest.raises(ValueError, match="loss='absolute_error'.*not differentiable"):
        LinearRegressor("absolute_error").fit(_dask(X), _dask(y))
    with pytest.raises(ValueError, match="loss='log_loss'"):
        LinearRegressor("log_loss").fit(_dask(X), _dask(y))
    with pytest.raises(ValueError, match="soft_f1.*not a sum over samples"):
        LinearClassifier("soft_f1").fit(_dask(X), _dask(data["binary"][:1000]))
    with pytest.raises(ValueError, match="Poisson"):
        LinearRegressor("poisson").fit(_dask(X), _dask(y))  # negative targets, found on a worker
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(_dask(X), y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(_dask(X), _dask(y[:-1]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        LinearClassifier().fit(_dask(X), _dask(np.zeros(1000)))
    with pytest.raises(ValueError, match="features"):
        model.predict(_dask(X[:, :3]))
    np.testing.assert_array_equal(model.coef_, coef)


def test_worker_processes_run_the_loss_and_a_custom_loss_and_the_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    with distributed.Client(cluster):
        data = _data(n=2000)
        X, y = data["X"], data["regression"]
        for loss in ("huber", SOFT_COST):
            expected = memory.LinearRegressor(loss, tol=1e-10).fit(X, y)
            fitted = LinearRegressor(loss, tol=1e-10).fit(_dask(X, 500), _dask(y, 500))
            np.testing.assert_allclose(fitted.coef_, expected.coef_, atol=1e-6)
            np.testing.assert_allclose(fitted.predict(_dask(X, 500)).compute(), expected.predict(X), rtol=1e-6,
                                       atol=1e-6)
    cluster.close()


def test_in_memory_input_is_the_in_memory_estimator():
    data = _data(n=500)
    a = LinearClassifier("focal").fit(data["X"], data["binary"])
    b = memory.LinearClassifier("focal").fit(data["X"], data["binary"])
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_each_block_task_uses_its_share_of_the_cores(client, monkeypatch):
    from sklearn_losses.dask._objective import THREADS_VARIABLE, numba_threads, threads_per_task, usable_cores

    import numba

    assert threads_per_task(client) == max(1, usable_cores() // 2)  # two workers of one thread on this host
    monkeypatch.setenv(THREADS_VARIABLE, "3")
    assert threads_per_task(client) == 3
    monkeypatch.setenv(THREADS_VARIABLE, "0")
    with pytest.raises(ValueError, match=THREADS_VARIABLE):
        threads_per_task(client)
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_precompile_runs_on_every_worker(client):
    from sklearn_losses import precompile

    reports = client.run(precompile, estimators="linear", losses=["huber"], threaded=False, weighted=False)
    assert len(reports) == 2
    assert all(any(item["loss"] == "huber" for item in report) for report in reports.values())


JOBLIB_SCRIPT = '''
import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.model_selection import GridSearchCV

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses._estimator import keeps_model_on_failure
from sklearn_losses.losses import make_loss


def cost(y, r, under=2.0):  # defined in __main__: it must travel to the workers by value
    e = y - r
    return under * e * e if e > 0 else e * e


if __name__ == "__main__":
    loss = make_loss(cost, name="cost", under=2.0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(400)
    grid = {"loss__under": [1.0, 4.0]}
    serial = GridSearchCV(LinearRegressor(loss), grid, cv=3).fit(X, y).cv_results_["mean_test_score"]
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(LinearRegressor(loss), grid, cv=3, n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], serial, rtol=1e-12)
    print("same scores", search.best_params_)
'''


def test_joblib_dask_backend_runs_a_grid_search_with_a_custom_loss_from_main(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "search.py"
    script.write_text(JOBLIB_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same scores" in done.stdout


def _numba_threads_here():
    import numba

    return numba.get_num_threads()


def test_joblib_inner_max_num_threads_reaches_numba_in_loky_workers():
    """What the user guide says for fits in joblib's process workers: ``inner_max_num_threads`` sets numba's
    threads there (joblib passes NUMBA_NUM_THREADS to loky's workers)."""
    from joblib import Parallel, delayed, parallel_config

    with parallel_config("loky", inner_max_num_threads=1):
        assert Parallel(n_jobs=2)(delayed(_numba_threads_here)() for _ in range(2)) == [1, 1]


class _RecordingRegressor(memory.LinearRegressor):
    """Records numba's thread count while its (decorated) fit runs."""

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        import numba

        self.numba_threads_ = numba.get_num_threads()
        return super().fit(X, y, sample_weight)


def _fit_in_a_task(X, y):
    return _RecordingRegressor("huber").fit(X, y).numba_threads_


def test_an_in_memory_fit_inside_a_worker_task_uses_the_task_share(client):
    import numba

    from sklearn_losses._workers import usable_cores

    X = np.random.default_rng(0).standard_normal((300, 3))
    in_task = client.submit(_fit_in_a_task, X, X[:, 0], pure=False).result()
    assert in_task == max(1, usable_cores() // 2)  # two one-thread workers on this host
    assert _RecordingRegressor("huber").fit(X, X[:, 0]).numba_threads_ == numba.get_num_threads()  # no cap here
