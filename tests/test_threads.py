"""Results are the same bits whatever the number of threads (1, 2 and 4).

The kernel for an array is chosen by its size (serial below
``SKLEARN_LOSSES_PARALLEL_THRESHOLD`` elements, threaded above); the threaded
kernels sum fixed-size chunks into partial sums added in order, so which
thread computes a chunk cannot change a bit.

Which losses: every registered loss that writes its own kernels (no
``kernel_spec``: batch, pairwise and threshold losses, whose reductions are
their own code) and the wrappers, plus one loss of each shape the kernel
factory generates (elementwise with 0, 1 and 2 parameters, softmax rows,
other rows). The factory's losses share its chunked reduction, and a loss's
per-sample maths cannot make it depend on the thread; compiling the threaded
kernels of all of them took this test 541 s with a cold cache. Run in a
subprocess started with ``NUMBA_NUM_THREADS=4`` (a process cannot raise numba's thread count later)
and the threshold at 0, so that the threaded kernels run on small data.
"""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import hashlib
    import numba
    import numpy as np
    from sklearn_losses import available_losses, get_loss
    from sklearn_losses.linear_model import LinearRegressor
    from sklearn_losses.losses import Asymmetric, WeightedSum
    from sklearn_losses.testing import _sample

    def digest(*arrays):
        h = hashlib.sha1()
        for a in arrays:
            h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
        return h.hexdigest()

    FACTORY_SHAPES = ("squared_error", "huber", "focal", "log_loss", "quantile",
                      "cross_entropy", "kl_divergence", "multiclass_hinge", "cumulative_link", "giou")
    losses = [get_loss(info.name) for info in available_losses()]
    losses = [loss for loss in losses if loss.kernel_spec is None or loss.name in FACTORY_SHAPES]
    assert len({loss.name for loss in losses} & set(FACTORY_SHAPES)) == len(FACTORY_SHAPES)
    losses += [Asymmetric("huber", under=3.0), WeightedSum([(1.0, "squared_error"), (0.5, "log_cosh")])]
    rng = np.random.default_rng(0)
    data = {}
    for loss in losses:
        # several chunks; threaded kernels at any size (threshold 0); pairwise losses cost n**2 (triplets more)
        n = 1_500 if loss.structure == "pairwise" else 6_000 if loss.per_row else 24_000
        y, raw = _sample(loss, rng, n, 4)
        data[repr(loss)] = (loss, y, raw, rng.uniform(0.1, 2.0, n))
    X = rng.normal(size=(30_000, 5))
    target = X @ np.arange(1.0, 6.0) + rng.standard_t(3, size=30_000)
    results = {}
    for threads in (1, 2, 4):
        numba.set_num_threads(threads)
        for key, (loss, y, raw, w) in data.items():
            out = list(loss.loss_gradient(y, raw, w))  # the fused pass fits use, for every loss
            if loss.name in ("huber", "log_loss", "cross_entropy"):  # every entry, for a few
                out += [loss.loss(y, raw, w), loss.loss(y, raw, w, "none"), *loss.gradient_hessian(y, raw, w)]
            results.setdefault(key, []).append(digest(*out))
        fit = LinearRegressor("huber", solver="lbfgs").fit(X, target)
        results.setdefault("LinearRegressor(huber) fit", []).append(digest(fit.coef_, fit.intercept_))
    differ = sorted(key for key, values in results.items() if len(set(values)) > 1)
    print("checked", len(results))
    print("DIFFER", differ)
''')


# With numba's JIT off there are no threaded kernels to compare: the subprocess
# would run every loss's pure-Python loops three times at 24,000 rows (it took
# that CI pass past the 30-minute timeout).
@pytest.mark.slow_in_python
def test_losses_give_the_same_bits_on_1_2_and_4_threads():
    env = dict(os.environ, NUMBA_NUM_THREADS="4", SKLEARN_LOSSES_PARALLEL_THRESHOLD="0")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DIFFER []" in result.stdout, result.stdout
