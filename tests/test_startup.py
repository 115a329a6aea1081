"""Start-up: importing loads no numba, lazily jitted functions, and ``precompile`` filling the cache.

The cache cases run fresh interpreters on kernel and numba cache directories
of their own: what a fresh install meets. Timings are measured by
``benchmarks/bench_startup.py``, not here.
"""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sklearn_losses import _jit
from sklearn_losses._precompile import precompile
from sklearn_losses.cli import main

requires_jit = pytest.mark.skipif(_jit.DISABLE_JIT, reason="inspects compiled code and numba's cache")


#: Script preamble: ``compiled`` lists every function numba compiles (its compile events are cache misses).
_RECORD_COMPILES = """
import json, warnings
import numpy as np
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", Listener())
warnings.simplefilter("ignore")
"""


def _python(code, tmp_path, timeout=900):
    env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=str(tmp_path / "kernels"),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_and_construction_load_no_numba(tmp_path):
    out = _python("""
import sys
import sklearn_losses, sklearn_losses.linear_model, sklearn_losses.svm, sklearn_losses.neural_network
import sklearn_losses.metrics, sklearn_losses.losses
from sklearn_losses.losses import get_loss, Huber, WeightedSum
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.svm import SVMClassifier
from sklearn_losses.neural_network import MLPClassifier
LinearRegressor(loss=Huber(delta=0.5)).get_params(); SVMClassifier(); MLPClassifier()
get_loss("quantile", quantile=0.9); WeightedSum([(1.0, Huber()), (0.5, get_loss("squared_error"))])
print("numba" in sys.modules, "llvmlite" in sys.modules)
""", tmp_path)
    assert out.split() == ["False", "False"]


@requires_jit
def test_lazy_functions_become_numba_dispatchers():
    from numba.core.registry import CPUDispatcher

    from sklearn_losses.losses import Huber
    from sklearn_losses.losses import _math
    from sklearn_losses.svm import _multiclass, _smo

    assert Huber().loss(np.array([0.0, 3.0]), np.array([1.0, 0.0])) == pytest.approx(1.5)  # loads numba
    # every module global that named a lazy function now names its dispatcher,
    # in the defining module and in the modules that imported it
    assert isinstance(_smo.violator, CPUDispatcher)
    assert _multiclass._row is _smo._row and isinstance(_smo._row, CPUDispatcher)
    assert isinstance(_math.exp, CPUDispatcher)
    assert _math.exp(1.0) == pytest.approx(np.e, rel=1e-15)
    # a function decorated from now on is compiled as usual
    @_jit.njit(cache=False)
    def twice(x):
        return 2.0 * x

    assert isinstance(twice, CPUDispatcher) and twice(1.5) == 3.0


@requires_jit
def test_lazy_dispatcher_forwards_and_pickles():
    def triple(x):
        return 3.0 * x

    lazy = _jit.LazyDispatcher(triple, {})
    assert lazy.py_func is triple and lazy.__name__ == "triple"
    assert "lazily jitted" in repr(lazy)
    lazy._dispatcher = _jit.harden_cache(__import__("numba").njit(triple))
    assert lazy(2.0) == 6.0 and lazy.signatures  # calls and attributes go to the dispatcher
    from sklearn_losses.losses import _math

    # a lazy function pickles by reference: it unpickles as the module's function
    lazy_exp = _jit.LazyDispatcher(_math.exp.py_func, {})
    assert pickle.loads(pickle.dumps(lazy_exp)) is _math.exp


@requires_jit
def test_precompile_leaves_nothing_to_compile(tmp_path):
    """After ``precompile``, a fresh process's fits compile nothing: numba's compile events (cache misses) are none."""
    _python("""
from sklearn_losses import precompile
rows = precompile(estimators=["linear", "svm", "boosting"], losses=["squared_error", "hinge"], threaded=False)
assert [r["skipped"] for r in rows] == [None] * 6, rows
""", tmp_path)
    out = _python(_RECORD_COMPILES + """
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.svm import SVMClassifier
X, y = load_diabetes(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
w = np.linspace(0.5, 1.5, X.shape[0])
LinearRegressor().fit(X, y / y.std()).score(X, y / y.std())
LinearRegressor().fit(X, y / y.std(), sample_weight=w)
Xc, yc = load_breast_cancer(return_X_y=True)
Xc = (Xc - Xc.mean(0)) / Xc.std(0)
SVMClassifier().fit(Xc, yc).score(Xc, yc)
SVMClassifier().fit(Xc, yc, sample_weight=np.linspace(0.5, 1.5, Xc.shape[0])).decision_function(Xc)
from sklearn_losses.ensemble import GradientBoostingClassifier
GradientBoostingClassifier("hinge", max_iter=5).fit(Xc, yc).decision_function(Xc)
print("RESULT" + json.dumps(compiled))
""", tmp_path)
    compiled = json.loads(out.split("RESULT")[1])
    assert compiled == []


_WORKLOAD = _RECORD_COMPILES + """
from sklearn.datasets import load_iris
from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import Asymmetric, WeightedSum, make_loss
from sklearn_losses.metrics import make_loss_scorer
from sklearn_losses.neural_network import MLPClassifier
from sklearn_losses.svm import SVMClassifier, SVMRegressor

def cost(y, r, under=2.0):
    e = y - r
    return under * e * e if e > 0 else e * e

X, y = load_iris(return_X_y=True)
t = X[:, 0] - X[:, 1]
LinearRegressor(make_loss(cost)).fit(X, t)
LinearRegressor(WeightedSum([(1.0, "huber"), (0.5, Asymmetric("squared_error", under=3.0))])).fit(X, t)
LinearClassifier("cross_entropy").fit(X, y).predict_proba(X)
SVMClassifier().fit(X, y).decision_function(X)
SVMRegressor("squared_error").fit(X, t)
MLPClassifier(hidden_layer_sizes=(5,), max_iter=3).fit(X, y).predict(X)
make_loss_scorer("huber")(LinearRegressor().fit(X, t), X, t)
print("RESULT" + json.dumps(compiled))
"""


@requires_jit
def test_a_second_process_compiles_nothing(tmp_path):
    """numba's compile events in a second process running the same fits: none (every kernel cached and found).

    Covers what numba cannot cache when it is written carelessly: closures
    made by factories, functions passed as arguments, callees in other
    modules; custom and composite losses (generated modules), every estimator
    family, a scorer. The suite's own kernel cache serves (the first process
    compiles only what the suite has not).
    """
    script = tmp_path / "workload.py"  # a file: make_loss reads the custom function's source
    script.write_text(_WORKLOAD)
    runs = []
    for _ in range(2):
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(json.loads(result.stdout.split("RESULT")[1]))
    assert runs[1] == []


def test_precompile_reports_skipped_pairs_and_checks_arguments():
    rows = precompile(estimators="svm", losses=["quantile", "soft_f1"], threaded=False, weighted=False)
    by_loss = {r["loss"]: r for r in rows}
    assert set(by_loss) == {"quantile", "soft_f1"} and all(r["estimator"] == "svm" for r in rows)
    assert all(r["seconds"] >= 0 for r in rows)
    assert by_loss["quantile"]["skipped"] is None
    # a batch loss: the exact kernel solvers cannot take it, and the report says why
    assert by_loss["soft_f1"]["skipped"].startswith("ValueError") and "overlap" in by_loss["soft_f1"]["skipped"]
    # box losses get box targets; Lovász losses the subgradient solver their fits need
    rows = precompile(estimators="linear", losses=["giou", "lovasz_hinge", "soft_dice"], threaded=False,
                      weighted=False)
    assert [r["skipped"] for r in rows] == [None, None, None]
    with pytest.raises(ValueError, match="jobs"):
        precompile(jobs=0)
    with pytest.raises(ValueError, match="estimator family 'tree'"):
        precompile(estimators=["tree"])
    with pytest.raises(ValueError, match="unknown loss 'hubber'"):
        precompile(estimators="linear", losses=["hubber"])


def test_precompile_in_parallel_processes(tmp_path, capsys, monkeypatch):
    # two losses in two spawned processes; they share the kernel directory
    monkeypatch.setenv("SKLEARN_LOSSES_KERNEL_DIR", str(tmp_path))
    status = main(["precompile", "--estimators", "linear", "--losses", "squared_error", "huber", "--jobs", "2",
                   "--no-threaded", "--no-weighted", "--quiet"])
    assert status == 0
    out = capsys.readouterr().out
    assert "compiled the kernels of 2 estimator-loss pairs" in out and "2 processes" in out
    if not _jit.DISABLE_JIT:
        assert {p.name.split("_")[0] for p in tmp_path.glob("linear_*.py")} == {"linear"}
        assert len(list(tmp_path.glob("linear_*.py"))) == 2


def test_precompile_command_errors(capsys):
    assert main(["precompile", "--estimators", "linear", "--losses", "not_a_loss", "--quiet"]) == 2
    assert "unknown loss 'not_a_loss'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["precompile", "--jobs", "0"])
    assert exit_info.value.code == 2


def test_first_calls_from_several_threads_at_once(tmp_path):
    """numba is loaded and the package's functions become dispatchers once, whichever thread calls first."""
    out = _python("""
import threading
import numpy as np
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Huber
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=200)
start, results, errors = threading.Barrier(4), {}, []
def work(k):
    try:
        start.wait()
        results[k] = (Huber().loss(y, X[:, 0]), LinearRegressor("huber").fit(X, y).coef_.tolist())
    except Exception as error:  # reported below
        errors.append(repr(error))
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(errors, len(results), len({repr(v) for v in results.values()}))
""", tmp_path)
    assert out.split("\n")[0] == "[] 4 1"


def test_small_target_checks_count_as_the_compiled_ones():
    """Small arrays are checked with NumPy (nothing compiled in a first fit); the counts are the compiled ones."""
    from sklearn_losses.losses import _domain

    rng = np.random.default_rng(0)
    y = rng.choice([0.0, 1.0, 2.0, 0.5, -1.0, -0.0, np.nan, np.inf, -np.inf, 3.0, 1e300], size=500)
    for low, high in [(0.0, 1.0), (-1.0, np.finfo(float).max), (0.5, 3.0)]:
        for closed in [(True, True), (False, True), (True, False), (False, False)]:
            assert _domain.count_outside_interval(y, low, high, *closed) == \
                _domain._outside_interval(y, low, high, *closed)
    assert _domain._count_not_binary(y) == _domain._not_binary(y) > 0
    for k in [2.0, 3.0, 2.0 ** 53]:
        assert _domain._count_not_class_index(y, k) == _domain._not_class_index(y, k) > 0
    big = np.tile(y, _domain._COMPILED_FROM // y.size + 1)  # the compiled path, through the public check
    assert _domain.count_outside_interval(big, 0.0, 1.0, True, True) == \
        big.size - np.count_nonzero((big >= 0.0) & (big <= 1.0))


@pytest.mark.parametrize("name", ["huber", "log_loss", "cross_entropy", "poisson", "focal"])
def test_equal_weights_use_the_unweighted_kernels_scaled(name):
    """Equal sample weights (a kernel SVM's C times ones) give the weighted results through the unweighted kernels."""
    from sklearn_losses.losses import get_loss

    loss = get_loss(name)
    rng = np.random.default_rng(1)
    n = 50
    if name == "cross_entropy":
        y, raw = rng.integers(0, 3, n).astype(float), rng.normal(size=(n, 3))
    else:
        y = rng.integers(0, 2, n).astype(float) if name in ("log_loss", "focal") else rng.poisson(2.0, n) + 0.0
        raw = rng.normal(size=n)
    w = np.full(n, 2.5)
    for reduction in ("sum", "mean", "none"):
        value, grad = loss.loss_gradient(y, raw, w, reduction=reduction)
        assert np.allclose(value, 2.5 ** (reduction != "mean") * loss.loss(y, raw, reduction=reduction),
                           rtol=1e-13, atol=0)
        assert np.allclose(grad, 2.5 ** (reduction != "mean") * loss.gradient(y, raw, reduction=reduction),
                           rtol=1e-13, atol=0)
        assert np.allclose(loss.loss(y, raw, w, reduction=reduction), value, rtol=1e-13, atol=0)
    w[0] = 2.5000001  # unequal: the weighted kernels
    expected = float(np.sum(w * loss.loss(y, raw, reduction="none")))
    assert loss.loss(y, raw, w, reduction="sum") == pytest.approx(expected, rel=1e-12)


@requires_jit
def test_a_first_svm_fit_compiles_no_weighted_kernel(tmp_path):
    """An unweighted SVM fit (weights C times ones inside) compiles the unweighted loss kernels only."""
    out = _python(_RECORD_COMPILES + """
from sklearn.datasets import load_breast_cancer
from sklearn_losses.svm import SVMClassifier
X, y = load_breast_cancer(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
SVMClassifier().fit(X, y).score(X, y)
print("RESULT" + json.dumps(compiled))
""", tmp_path)
    compiled = json.loads(out.split("RESULT")[1])
    assert "smo" in compiled
    assert not [name for name in compiled if "__w1__" in name], compiled
