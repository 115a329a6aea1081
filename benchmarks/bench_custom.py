"""Custom losses: compile cost and speed against the built-in equivalent.

Measures, side by side in one run:

* compile cost of a new custom loss: ``make_loss`` plus the first
  ``loss_gradient`` call in a fresh process with an empty kernel cache, the
  same with the cache warm (a second process), and a second instance with
  other parameters (must not recompile: a GridSearchCV sweep);
* loss + gradient throughput on 1e7 samples: the built-in ``Huber`` vs the
  same loss written as a custom function with an analytic gradient, and with
  the gradient derived automatically; a business cost (asymmetric squared
  error) as a custom function vs ``Asymmetric(SquaredError())`` vs NumPy;
  ``WeightedSum`` of the squared error and a Huber loss vs the same sum as a
  custom function (the composites are compiled into one fused kernel: the
  target is at most 1.3x the custom loss's time);
* a ``WeightedSum`` of softmax losses (cross-entropy and multiclass focal,
  1e6 x 10): the fused kernel (one softmax per row) vs the same sum through
  the components' own kernels (what composites of rows did before).

Run:  python benchmarks/bench_custom.py [--n 10000000] [--repeat 15]
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from sklearn_losses.losses import Asymmetric, CrossEntropy, Huber, MulticlassFocal, SquaredError, WeightedSum, \
    make_loss  # noqa: E402


def huber_value(y, r, delta=1.0):
    e = abs(r - y)
    return 0.5 * e * e if e <= delta else delta * (e - 0.5 * delta)


def huber_gradient(y, r, delta=1.0):
    e = r - y
    return max(-delta, min(delta, e))


def business_cost(y, r, under=3.0):
    e = y - r
    if e > 0:
        return under * e * e
    return e * e


def squared_plus_huber(y, r, delta=1.0):
    e = r - y
    a = abs(e)
    return e * e + 0.5 * (0.5 * a * a if a <= delta else delta * (a - 0.5 * delta))


def numpy_business(y, r, under=3.0):
    e = y - r
    factor = np.where(e > 0, under, 1.0)
    return np.mean(factor * e * e), -2.0 * factor * e / e.size


def child():
    """Time make_loss + first call, then a second instance with other parameters."""
    y, r = np.zeros(1000), np.linspace(-3, 3, 1000)
    t0 = time.perf_counter()
    loss = make_loss(business_cost)
    loss.loss_gradient(y, r)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    other = make_loss(business_cost, under=7.0)
    other.loss_gradient(y, r)
    second = time.perf_counter() - t0
    print(f"{first:.4f} {second:.4f}")


def compile_times():
    env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=tempfile.mkdtemp(prefix="bench_custom_"))
    rows = []
    for label in ("cold cache", "warm cache"):
        out = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        rows.append((label, float(out[0]), float(out[1])))
    return rows


def timed(func, repeat):
    func()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return 1e3 * np.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child()
    print("compile cost (seconds): make_loss + first loss_gradient, fresh process")
    print(f"{'':12s} {'new loss':>9s} {'2nd instance, other params':>27s}")
    for label, first, second in compile_times():
        print(f"{label:12s} {first:9.3f} {second:27.4f}")

    rng = np.random.default_rng(0)
    y = rng.normal(size=args.n)
    r = y + rng.normal(size=args.n)
    g = np.empty_like(r)
    contenders = [
        ("huber", "built-in Huber", Huber(delta=1.0)),
        ("huber", "custom, analytic gradient", make_loss(huber_value, huber_gradient, growth="linear")),
        ("huber", "custom, derived gradient", make_loss(huber_value, growth="linear")),
        ("business cost", "Asymmetric(SquaredError)", Asymmetric(SquaredError(), under=3.0)),
        ("business cost", "custom, derived gradient", make_loss(business_cost)),
        ("sum", "WeightedSum(sq, 0.5 huber)", WeightedSum([(1.0, "squared_error"), (0.5, Huber(delta=1.0))])),
        ("sum", "custom, derived gradient", make_loss(squared_plus_huber, growth="quadratic")),
    ]
    print(f"\nloss + gradient, {args.n:,} samples, median of {args.repeat} (ms)")
    print(f"{'loss':14s} {'implementation':28s} {'ms':>8s}")
    times = {}
    for family, label, loss in contenders:
        def call(loss=loss):
            return loss.loss_gradient(y, r, gradient_out=g, check_input=False)
        call()  # compile / load outside the timing
        times[family, label] = timed(call, args.repeat)
        print(f"{family:14s} {label:28s} {times[family, label]:8.2f}")
    for family, composite in (("business cost", "Asymmetric(SquaredError)"), ("sum", "WeightedSum(sq, 0.5 huber)")):
        ratio = times[family, composite] / times[family, "custom, derived gradient"]
        print(f"{composite} / equivalent custom loss: {ratio:.2f}x (target: at most 1.3x)")
    print(f"{'business cost':14s} {'NumPy':28s} {timed(lambda: numpy_business(y, r), max(3, args.repeat // 3)):8.2f}")
    softmax_sum(args)


def softmax_sum(args):
    """A weighted sum of softmax losses: fused, against the components' kernels one after the other."""
    n, k = max(args.n // 10, 1000), 10
    rng = np.random.default_rng(1)
    y, raw = rng.integers(0, k, n), rng.normal(size=(n, k))
    g, g_part = np.empty_like(raw), np.empty_like(raw)
    parts = [(1.0, CrossEntropy()), (0.5, MulticlassFocal(gamma=2.0))]
    fused = WeightedSum(parts)
    assert fused.kernel_spec is not None

    def separate():
        total = 0.0
        for j, (weight, part) in enumerate(parts):
            value, _ = part.loss_gradient(y, raw, gradient_out=g if j == 0 else g_part, check_input=False)
            total += weight * value
            if j == 0:
                g[...] *= weight
            else:
                g[...] += weight * g_part
        return total

    def together():
        return fused.loss_gradient(y, raw, gradient_out=g, check_input=False)

    np.testing.assert_allclose(together()[0], separate(), rtol=1e-12)
    t_fused, t_separate = timed(together, args.repeat), timed(separate, args.repeat)
    print(f"\nWeightedSum(cross_entropy, 0.5 multiclass_focal), {n:,} x {k}, loss + gradient (ms)")
    print(f"{'fused (one softmax per row)':40s} {t_fused:8.2f}")
    print(f"{'components one after the other':40s} {t_separate:8.2f}  ({t_separate / t_fused:.2f}x the fused time)")


if __name__ == "__main__":
    main()
