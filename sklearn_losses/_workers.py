"""Numba threads of work that runs inside Dask workers: each task its share of the host's cores.

A Dask worker runs as many tasks at once as it has threads, and numba's
threaded kernels would each use every core of the host: two one-thread
workers on two cores would start two numba threads each. Here a task gets
``cores // threads of the workers on its host`` numba threads (numba's
setting is per calling thread, so this changes nothing else);
``SKLEARN_LOSSES_DASK_THREADS`` fixes the number instead.

* :func:`threads_per_task`: the share, from the client (the distributed fits
  pass it to their block tasks);
* :func:`worker_numba_threads`: the share for the task running in this thread
  of a Dask worker (None elsewhere), computed once per worker; every
  estimator's ``fit`` and ``partial_fit`` run under it (the joblib ``"dask"``
  backend, dask-ml's ``Incremental``);
* :func:`numba_threads`: a context that sets and restores the number.
"""

import os
import sys
from contextlib import contextmanager

__all__ = ["THREADS_VARIABLE", "numba_threads", "threads_per_task", "usable_cores", "worker_numba_threads"]

#: Environment variable that fixes the numba threads of each block task (an integer).
THREADS_VARIABLE = "SKLEARN_LOSSES_DASK_THREADS"


def usable_cores():
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def threads_per_task(client=None):
    """Numba threads per block task: ``$SKLEARN_LOSSES_DASK_THREADS``, else the smallest share of a host's
    cores among the hosts of ``client``'s workers (its cores over the threads of its workers); 1 without a
    distributed client (dask's local scheduler already runs a task per core)."""
    override = _override()
    if override is not None:
        return override
    if client is None:
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):  # no distributed client: the local scheduler
            return 1
    workers = client.scheduler_info()["workers"]
    if not workers:
        return 1
    cores = client.run(usable_cores)
    host_cores = {info["host"]: cores.get(address, 1) for address, info in workers.items()}
    return min(_share(workers, n, host) for host, n in host_cores.items())


@contextmanager
def numba_threads(n):
    """Run the block with ``n`` numba threads (numba's setting is per calling thread), then restore it."""
    if n is None:  # outside a worker: numba is not even imported here
        yield
        return
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _share(workers, cores_of, host):
    threads = sum(int(info["nthreads"]) for info in workers.values() if info["host"] == host)
    return max(1, cores_of // max(threads, 1))


def _override():
    if os.environ.get(THREADS_VARIABLE):
        value = int(os.environ[THREADS_VARIABLE])
        if value < 1:
            raise ValueError(f"{THREADS_VARIABLE} must be a positive integer; got {value}.")
        return value
    return None


def worker_numba_threads():
    """Numba threads for the task running in this thread of a Dask worker, or None outside a worker's task."""
    if "distributed" not in sys.modules:  # never imports distributed itself
        return None
    from distributed import get_client, get_worker

    try:
        worker = get_worker()
    except ValueError:  # not in a worker's task
        return None
    cached = getattr(worker, "_sklearn_losses_numba_threads", None)
    if cached is None:
        cached = _override()
        if cached is None:
            workers = get_client().scheduler_info()["workers"]
            me = workers.get(worker.address)
            cached = 1 if me is None else _share(workers, usable_cores(), me["host"])
        worker._sklearn_losses_numba_threads = cached
    return cached
