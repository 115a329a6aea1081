"""Start-up time: import and first fits in fresh processes, cold and warm kernel cache, beside scikit-learn.

Run:  python benchmarks/bench_startup.py              (about 3 minutes)
      python benchmarks/bench_startup.py --only svm   (the cases whose name contains "svm")
      python benchmarks/bench_startup.py --json out.json

Every figure is measured in a fresh Python process. "Cold" gives the process
an empty kernel cache (``SKLEARN_LOSSES_KERNEL_DIR``) and an empty numba cache
(``NUMBA_CACHE_DIR``, which also holds the cached package functions), as
after a fresh install; "warm" runs the same process again on the cache the
cold run filled. Data loading and ``import sklearn`` happen before the clock
starts (the user has them already); the figures are:

* ``import``: importing the estimator's module (sklearn_losses' or
  scikit-learn's own), median of 5 processes;
* ``first fit``: import plus the first fit of the default estimator, as a
  new user's first call;
* ``second loss``: then a fit of the same estimator with a second loss (a
  loss whose kernels are not compiled yet);
* ``compare``: the whole ``sklearn-losses compare --quiet`` command.

Targets (issue 18): cold first fit and second loss at most 2 s each;
``compare`` under 5 s cold; warm import plus first fit at most 0.3 s over
scikit-learn's; import at most 0.15 s over scikit-learn's.

Precompiled: ``--precompiled`` adds a column where the cache was filled by
``sklearn-losses precompile`` (the install-time step) before the cold run.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

#: (name, data, sklearn_losses estimator, second loss, scikit-learn equivalent)
CASES = [
    ("LinearRegressor", "diabetes", "sklearn_losses.linear_model:LinearRegressor()", "huber",
     "sklearn.linear_model:Ridge()"),
    ("LinearClassifier", "breast_cancer", "sklearn_losses.linear_model:LinearClassifier()", "hinge",
     "sklearn.linear_model:LogisticRegression()"),
    ("SVMClassifier", "breast_cancer", "sklearn_losses.svm:SVMClassifier()", "squared_hinge",
     "sklearn.svm:SVC()"),
    ("SVMRegressor", "diabetes", "sklearn_losses.svm:SVMRegressor()", "huber", "sklearn.svm:SVR()"),
    ("MLPRegressor", "diabetes", "sklearn_losses.neural_network:MLPRegressor(max_iter=5)", "huber",
     "sklearn.neural_network:MLPRegressor(max_iter=5)"),
    ("MLPClassifier", "breast_cancer", "sklearn_losses.neural_network:MLPClassifier(max_iter=5)", "focal",
     "sklearn.neural_network:MLPClassifier(max_iter=5)"),
]

_CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import sklearn, sklearn.base, sklearn.utils
from sklearn.datasets import load_{data}
from sklearn.preprocessing import StandardScaler
X, y = load_{data}(return_X_y=True)
X = StandardScaler().fit_transform(X)
if "{data}" == "diabetes":
    y = (y - y.mean()) / y.std()
out = {{}}
t0 = time.perf_counter()
from {module} import {cls}
out["import"] = time.perf_counter() - t0
est = {cls}({args})
est.fit(X, y)
out["first fit"] = time.perf_counter() - t0
if {second!r}:
    t1 = time.perf_counter()
    est.set_params(loss={second!r}).fit(X, y)
    out["second loss"] = time.perf_counter() - t1
print("RESULT" + json.dumps(out))
"""


def _run(code, env, args=None):
    command = [sys.executable, "-c", code] if args is None else args
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    for line in done.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[6:])
    return {"wall": wall}


def _env(cache):
    env = dict(os.environ)
    env["SKLEARN_LOSSES_KERNEL_DIR"] = os.path.join(cache, "kernels")
    env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def _child(data, spec, second=""):
    module, call = spec.split(":")
    cls, args = call.split("(", 1)
    return _CHILD.format(data=data, module=module, cls=cls, args=args[:-1], second=second)


def _precompile(env, estimator, losses):
    command = [sys.executable, "-m", "sklearn_losses.cli", "precompile", "--estimators", estimator,
               "--losses", *losses, "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"precompile failed:\n{done.stderr[-3000:]}")


def measure_case(case, precompiled):
    name, data, ours, second, theirs = case
    row = {"case": name}
    root = tempfile.mkdtemp(prefix="bench_startup-")
    try:
        env = _env(root)
        cold = _run(_child(data, ours, second), env)
        warm = _run(_child(data, ours, second), env)
        row.update({"cold first fit": cold["first fit"], "cold second loss": cold["second loss"],
                    "warm first fit": warm["first fit"], "warm second loss": warm["second loss"]})
        row["warm import"] = statistics.median(
            [warm["import"]] + [_run(_child(data, ours), env)["import"] for _ in range(4)])
        ref = [_run(_child(data, theirs), env) for _ in range(5)]
        row["sklearn import"] = statistics.median(r["import"] for r in ref)
        row["sklearn first fit"] = statistics.median(r["first fit"] for r in ref)
        if precompiled:
            shutil.rmtree(root)
            root = tempfile.mkdtemp(prefix="bench_startup-")
            env = _env(root)
            estimator = name.replace("Regressor", "").replace("Classifier", "").lower()
            start = time.perf_counter()
            default_loss = _default_loss(ours)
            _precompile(env, estimator, [default_loss, second])
            row["precompile"] = time.perf_counter() - start
            pre = _run(_child(data, ours, second), env)
            row["precompiled first fit"] = pre["first fit"]
            row["precompiled second loss"] = pre["second loss"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return row


def _default_loss(spec):
    module, call = spec.split(":")
    cls = call.split("(")[0]
    estimator = getattr(__import__(module, fromlist=[cls]), cls)
    return estimator().get_params()["loss"]


def measure_imports():
    rows = []
    root = tempfile.mkdtemp(prefix="bench_startup-")
    try:
        env = _env(root)
        pairs = [("sklearn_losses", "sklearn"), ("sklearn_losses.linear_model", "sklearn.linear_model"),
                 ("sklearn_losses.svm", "sklearn.svm"), ("sklearn_losses.neural_network", "sklearn.neural_network")]
        for ours, theirs in pairs:
            row = {"case": f"import {ours}"}
            for label, module in (("ours", ours), ("sklearn", theirs)):
                # numpy, scipy and sklearn's base already imported: only what the module adds
                code = ("import time, numpy, scipy, sklearn, sklearn.base, sklearn.utils\n"
                        f"t0 = time.perf_counter()\nimport {module}\n"
                        "print('RESULT' + repr(time.perf_counter() - t0).join(['{\"t\": ', '}']))")
                row[label] = statistics.median(_run(code, env)["t"] for _ in range(7))
            rows.append(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def measure_compare(extra=()):
    root = tempfile.mkdtemp(prefix="bench_startup-")
    try:
        env = _env(root)
        command = [sys.executable, "-m", "sklearn_losses.cli", "compare", "--quiet", *extra]
        cold = _run(None, env, command)["wall"]
        warm = _run(None, env, command)["wall"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"case": " ".join(["compare", *extra]), "cold": cold, "warm": warm}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only the cases whose name contains this (case-insensitive)")
    parser.add_argument("--precompiled", action="store_true", help="also measure after `sklearn-losses precompile`")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    import numba

    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"Python {platform.python_version()}, numba {numba.__version__}")
    results = {"imports": [], "fits": [], "compare": []}
    only = (args.only or "").lower()
    if not only or "import" in only:
        print(f"\n{'import (s, median of 7)':36s} {'ours':>7s} {'sklearn':>8s} {'over':>7s}")
        for row in measure_imports():
            results["imports"].append(row)
            print(f"{row['case']:36s} {row['ours']:7.3f} {row['sklearn']:8.3f} {row['ours'] - row['sklearn']:+7.3f}")
    cases = [c for c in CASES if only in c[0].lower() or not only]
    if cases:
        head = (f"\n{'first fits (s)':17s} {'cold fit':>8s} {'cold 2nd':>8s} {'warm fit':>8s} {'warm 2nd':>8s} "
                f"{'sk fit':>7s} {'warm over':>9s}")
        if args.precompiled:
            head += f" {'precomp':>8s} {'pre fit':>8s} {'pre 2nd':>8s}"
        print(head)
    for case in cases:
        row = measure_case(case, args.precompiled)
        results["fits"].append(row)
        line = (f"{row['case']:17s} {row['cold first fit']:8.2f} {row['cold second loss']:8.2f} "
                f"{row['warm first fit']:8.2f} {row['warm second loss']:8.2f} {row['sklearn first fit']:7.2f} "
                f"{row['warm first fit'] - row['sklearn first fit']:+9.2f}")
        if args.precompiled:
            line += f" {row['precompile']:8.2f} {row['precompiled first fit']:8.2f} {row['precompiled second loss']:8.2f}"
        print(line, flush=True)
    if not only or "compare" in only:
        print(f"\n{'command (s, wall)':36s} {'cold':>7s} {'warm':>7s}")
        for extra in ((), ("--estimator", "svm")):
            row = measure_compare(extra)
            results["compare"].append(row)
            print(f"{row['case']:36s} {row['cold']:7.2f} {row['warm']:7.2f}", flush=True)
    print("\ntargets: cold fit and 2nd <= 2 s; warm over sklearn <= 0.3 s; import over <= 0.15 s; "
          "compare cold < 5 s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
