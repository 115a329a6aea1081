"""MLP training speed: sklearn_losses vs scikit-learn's MLP vs a PyTorch CPU loop.

The same problem for all three: n = 50,000 samples, p = 50 standardised
features, 10 classes, softmax cross-entropy (scikit-learn's ``log_loss``),
ReLU hidden layers, Adam (learning rate 1e-3), minibatches of 200 shuffled
every epoch, and scikit-learn's L2 term ``alpha / (2 * batch) * ||W||^2``
with alpha = 1e-4. All three start from the same initial weights (drawn by
scikit-learn's rule from ``random_state=0``). Each is warmed up first (numba's
compilation, torch's first call), then timed over ``--epochs`` epochs; the
table gives the time per epoch and the final training objective on the whole
data, so that speed is compared at equal loss.

Run::

    python benchmarks/bench_mlp.py                 # the issue's three cases
    python benchmarks/bench_mlp.py --epochs 3 --sizes 32 64,32

PyTorch is optional (``pip install torch``); without it its column is skipped.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from sklearn_losses.losses import get_loss
from sklearn_losses.neural_network import MLPClassifier
from sklearn_losses.neural_network._network import Network

ALPHA, RATE, BATCH = 1e-4, 1e-3, 200


def objective(coefs, intercepts, X, y):
    """Mean cross-entropy on all of X plus alpha / (2 n) * ||W||^2, in float64."""
    a = X.astype(np.float64)
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        a = a @ np.asarray(W, np.float64) + np.asarray(b, np.float64)
        if k < len(coefs) - 1:
            a = np.maximum(a, 0.0)
    penalty = sum(float(np.sum(np.asarray(W, np.float64) ** 2)) for W in coefs)
    return get_loss("cross_entropy")(y.astype(np.float64), a) + 0.5 * ALPHA * penalty / X.shape[0]


def _fit_timed(make, X, y, epochs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # warm-up on all rows: numba compiles the threaded kernels only for arrays large enough to use
        # them (a warm-up on a subset left their compilation in the first timed epoch on a cold cache)
        make(1).fit(X, y)
        model = make(epochs)
        start = time.perf_counter()
        model.fit(X, y)
        return (time.perf_counter() - start) / epochs, model


def run_ours(X, y, sizes, epochs, dtype):
    params = dict(hidden_layer_sizes=sizes, alpha=ALPHA, learning_rate_init=RATE, batch_size=BATCH,
                  tol=0.0, n_iter_no_change=10**6, random_state=0)
    seconds, model = _fit_timed(lambda e: MLPClassifier(max_iter=e, **params), X.astype(dtype), y, epochs)
    return seconds, objective(model.coefs_, model.intercepts_, X, y)


def run_sklearn(X, y, sizes, epochs):
    params = dict(hidden_layer_sizes=sizes, alpha=ALPHA, learning_rate_init=RATE, batch_size=BATCH,
                  tol=0.0, n_iter_no_change=10**6, random_state=0)
    seconds, model = _fit_timed(lambda e: SkMLPClassifier(max_iter=e, **params), X, y, epochs)
    return seconds, objective(model.coefs_, model.intercepts_, X, y)


def run_torch(X, y, sizes, epochs, dtype):
    import torch

    torch.manual_seed(0)
    network = Network([X.shape[1], *sizes, 10], "relu", np.float64)
    coefs, intercepts = network.unpack(network.initialize(check_random_state(0)))
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    layers = []
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        linear = torch.nn.Linear(*W.shape).to(tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear] + ([torch.nn.ReLU()] if k < len(coefs) - 1 else [])
    model = torch.nn.Sequential(*layers)
    weights = [layer.weight for layer in model if isinstance(layer, torch.nn.Linear)]
    optimizer = torch.optim.Adam(model.parameters(), lr=RATE)
    Xt = torch.from_numpy(X.astype(dtype))
    yt = torch.from_numpy(y.astype(np.int64))
    n = X.shape[0]

    def epoch():
        order = torch.randperm(n)
        for start in range(0, n, BATCH):
            rows = order[start:start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            out = model(Xt[rows])
            loss = torch.nn.functional.cross_entropy(out, yt[rows])
            loss = loss + 0.5 * ALPHA * sum((W * W).sum() for W in weights) / rows.shape[0]
            loss.backward()
            optimizer.step()

    saved = [p.detach().clone() for p in model.parameters()]
    epoch()  # warm-up, then back to the initial weights and a fresh optimizer
    with torch.no_grad():
        for p, s in zip(model.parameters(), saved):
            p.copy_(s)
    optimizer = torch.optim.Adam(model.parameters(), lr=RATE)
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    seconds = (time.perf_counter() - start) / epochs
    coefs = [layer.weight.detach().numpy().T for layer in model if isinstance(layer, torch.nn.Linear)]
    intercepts = [layer.bias.detach().numpy() for layer in model if isinstance(layer, torch.nn.Linear)]
    return seconds, objective(coefs, intercepts, X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--sizes", nargs="+", default=["32", "64", "128,64"],
                        help="hidden layer sizes, one network per argument (comma-separated layers)")
    args = parser.parse_args()
    X, y = make_classification(args.n, 50, n_informative=30, n_classes=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    print(f"n={args.n}, p=50, 10 classes, batch {BATCH}, Adam lr {RATE}, alpha {ALPHA}, {args.epochs} epochs; "
          f"{os.cpu_count()} cores; torch {torch_version or 'not installed'}"
          + (f" ({torch.get_num_threads()} threads)" if torch_version else ""))
    print(f"{'hidden':>10} {'implementation':>24} {'s/epoch':>9} {'final objective':>16} {'vs sklearn':>11}")
    for text in args.sizes:
        sizes = tuple(int(s) for s in text.split(","))
        rows = [("scikit-learn float64", *run_sklearn(X, y, sizes, args.epochs)),
                ("sklearn_losses float64", *run_ours(X, y, sizes, args.epochs, np.float64)),
                ("sklearn_losses float32", *run_ours(X, y, sizes, args.epochs, np.float32))]
        if torch_version:
            rows += [("torch float32", *run_torch(X, y, sizes, args.epochs, np.float32)),
                     ("torch float64", *run_torch(X, y, sizes, args.epochs, np.float64))]
        reference = rows[0][1]
        for name, seconds, value in rows:
            print(f"{text:>10} {name:>24} {seconds:9.4f} {value:16.6f} {reference / seconds:10.2f}x")


if __name__ == "__main__":
    main()
