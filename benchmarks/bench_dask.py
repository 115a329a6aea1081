"""Distributed full-batch fits on a LocalCluster whose memory the data exceed several times.

Side by side in one run:

1. **Out-of-memory fits.** A LocalCluster of 2 worker processes (1 thread
   each) with ``--worker-memory`` (default 1 GB) each fits log loss + L2 and
   Huber + L2 to convergence on ``X`` of ``--gb`` (default 4) gigabytes,
   built lazily from a seeded generator (``dask.array.random``, 20
   features, blocks of 250,000 rows): no worker holds more than a few blocks,
   and every evaluation of the objective regenerates them. Reported: time,
   evaluations of the objective, peak resident memory of each worker (polled
   every 0.5 s), and the objective against an in-memory fit of the same data
   (materialised on the client; ``--skip-memory`` skips it).
2. **Scaling.** Time per evaluation of the objective with 1 and 2 workers,
   and for data of x1, x2 and x4 ``--scale-gb`` (default 0.5), the median of
   3 evaluations after one warm-up.

Run: ``python benchmarks/bench_dask.py [--gb 4] [--worker-memory 1GB] [--skip-memory]``
(needs the ``dask`` extra).
"""

import argparse
import threading
import time
import warnings

import numpy as np

ROWS_PER_BLOCK = 250_000
N_FEATURES = 20


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


def make_data(gb, seed=0):
    """Lazy ``X`` (``gb`` gigabytes), a regression target and a binary target, from a seeded generator."""
    import dask.array as da

    n = int(gb * 1e9 / (8 * N_FEATURES))
    rng = da.random.RandomState(seed)
    X = rng.standard_normal((n, N_FEATURES), chunks=(ROWS_PER_BLOCK, N_FEATURES))
    beta = np.random.default_rng(seed).standard_normal(N_FEATURES) / np.sqrt(N_FEATURES)
    score = X @ beta
    noise = rng.standard_normal(n, chunks=ROWS_PER_BLOCK)
    y_regression = score + noise + 3.0 * (rng.random_sample(n, chunks=ROWS_PER_BLOCK) < 0.05)  # outliers
    y_binary = (score + noise > 0).astype(np.int64)
    return X, y_regression, y_binary


class MemoryPoller:
    """The peak resident memory of every worker, polled in a background thread."""

    def __init__(self, client, every=0.5):
        self.client, self.every, self.peak = client, every, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                for address, rss in self.client.run(_rss).items():
                    self.peak[address] = max(self.peak.get(address, 0), rss)
            except Exception:  # a worker restarting: keep polling
                pass
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def out_of_memory_fits(args):
    from distributed import Client, LocalCluster

    from sklearn_losses.dask import LinearClassifier, LinearRegressor

    X, y_regression, y_binary = make_data(args.gb)
    print(f"X: {X.shape[0]:,} x {X.shape[1]} float64 = {X.nbytes / 1e9:.1f} GB in {X.numblocks[0]} blocks; "
          f"2 workers with {args.worker_memory} each")
    models = {"log loss + l2": (LinearClassifier("log_loss", alpha=1e-4, tol=1e-6), y_binary),
              "huber + l2": (LinearRegressor("huber", alpha=1e-4, tol=1e-6), y_regression)}
    fitted = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=args.worker_memory,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(_warm_up)
        for name, (model, y) in models.items():
            with MemoryPoller(client) as poller:
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
            peaks = ", ".join(f"{p / 1e9:.2f} GB" for p in poller.peak.values())
            print(f"  {name:14s} fit {seconds:7.1f} s, {model.n_iter_} iterations, objective "
                  f"{model.objective_:.10g}; peak worker memory {peaks}")
            fitted[name] = (model, y, seconds)
    if args.skip_memory:
        return
    from sklearn_losses import linear_model

    print("  in memory on the client (the same data, materialised):")
    X_memory = X.compute()
    for name, (model, y, _) in fitted.items():
        y_memory = y.compute()
        reference = getattr(linear_model, type(model).__name__)(**model.get_params())
        start = time.perf_counter()
        reference.fit(X_memory, y_memory)
        seconds = time.perf_counter() - start
        relative = abs(model.objective_ - reference.objective_) / abs(reference.objective_)
        print(f"  {name:14s} fit {seconds:7.1f} s, objective {reference.objective_:.10g}; distributed minus "
              f"in-memory: {relative:.2e} relative, largest coefficient difference "
              f"{np.max(np.abs(model.coef_ - reference.coef_)):.2e}")


def _warm_up():
    """Compile (or load) the kernels on a worker before anything is timed."""
    from sklearn_losses.linear_model import LinearClassifier, LinearRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300_000, N_FEATURES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LinearClassifier(max_iter=2).fit(X, (X[:, 0] > 0).astype(int))
        LinearRegressor("huber", max_iter=2).fit(X, X[:, 0])
    return True


def scaling(args):
    import dask
    from distributed import Client, LocalCluster

    from sklearn_losses.dask._linear import _blocks
    from sklearn_losses.dask._objective import DaskObjective, Targets, threads_per_task
    from sklearn_losses.losses import get_loss

    loss = get_loss("log_loss")
    print(f"\nscaling: seconds per evaluation of the log-loss objective (median of 3), blocks of "
          f"{ROWS_PER_BLOCK:,} rows generated lazily")
    print(f"  {'workers':>7s} {'GB':>5s} {'rows':>12s} {'s / evaluation':>15s} {'GB / s':>7s}")
    for n_workers in (1, 2):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, memory_limit=args.worker_memory,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(_warm_up)
            for factor in (1, 2, 4):
                X, _, y = make_data(args.scale_gb * factor)
                _, _, blocks = _blocks(X, y, None)
                prepare = Targets(classes=np.array([0, 1]), binary=True)
                objective = DaskObjective(loss, blocks, prepare, True, 1, N_FEATURES, X.shape[0], float(X.shape[0]),
                                          np.zeros(1), None, threads_per_task(client))
                rng = np.random.default_rng(0)
                objective.loss_gradient(np.zeros(N_FEATURES + 1))
                times = []
                for _ in range(3):  # a new theta each time: an identical task would be the cached result
                    theta = 0.01 * rng.standard_normal(N_FEATURES + 1)
                    start = time.perf_counter()
                    objective.loss_gradient(theta)
                    times.append(time.perf_counter() - start)
                seconds = float(np.median(times))
                print(f"  {n_workers:7d} {X.nbytes / 1e9:5.1f} {X.shape[0]:12,d} {seconds:15.2f} "
                      f"{X.nbytes / 1e9 / seconds:7.2f}")
    # what one evaluation costs without the kernels: generating the blocks alone
    X, _, _ = make_data(args.scale_gb)
    start = time.perf_counter()
    dask.compute(X.sum(axis=0), scheduler="threads", num_workers=1)
    print(f"  generating {X.nbytes / 1e9:.1f} GB alone on one thread: {time.perf_counter() - start:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=4.0, help="size of X for the out-of-memory fits")
    parser.add_argument("--worker-memory", default="1GB", help="memory limit of each worker")
    parser.add_argument("--scale-gb", type=float, default=0.5, help="smallest X of the scaling runs")
    parser.add_argument("--skip-memory", action="store_true", help="skip the in-memory reference fits")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    out_of_memory_fits(args)
    if not args.skip_scaling:
        scaling(args)


if __name__ == "__main__":
    main()
