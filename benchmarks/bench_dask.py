"""A fit on a Dask cluster, of data larger than any worker's memory limit.

Run from the repository root (needs the dask extra)::

    python benchmarks/bench_dask.py            # 8,000,000 x 100 float32
    python benchmarks/bench_dask.py --quick    # 400,000 rows, a smoke test

The data, float32 features and labels drawn from a random softmax model with 10
classes, is generated blockwise by Dask on the workers of a LocalCluster (4
worker processes, one thread each, ``--memory-limit`` each). The fit reports
its total time, its iterations, the time per objective evaluation (the
evaluations are timed from the client) and the bytes sent per evaluation. The
bytes are measured: every message between the client, the scheduler and the
workers of the LocalCluster goes over the loopback interface, whose counter
(``psutil``, a dependency of distributed) is read before and after each
evaluation; this counts the coefficients broadcast to the workers, the tasks
sent to the scheduler, the partial sums moved between workers by the tree
reduction and the sum that comes back, and also the cluster's heartbeats.
The same data is then computed in this process (the same graph and seeds, by
threads) and fitted in memory, with the same settings, for the ratio of the two.
"""

import argparse
import pickle
import time

import dask.array as da
import numpy as np
import psutil
import scipy.optimize
from distributed import Client, LocalCluster

from sksoftmax import SoftmaxRegressionClassifier


def make_data(n_samples, n_features, n_classes, chunk_rows):
    rng = da.random.default_rng(0)
    X = rng.standard_normal(
        size=(n_samples, n_features), chunks=(chunk_rows, -1), dtype=np.float32
    )
    weights = np.random.default_rng(1).normal(size=(n_features, n_classes))
    weights *= 3.0 / np.sqrt(n_features)

    def labels(block, block_info=None):
        seed = block_info[0]["chunk-location"][0] if block_info else 0
        noise = np.random.default_rng(seed).gumbel(size=(len(block), n_classes))
        return (block @ weights + noise).argmax(axis=1)

    y = X.map_blocks(labels, drop_axis=1, dtype=np.intp)
    return X, y


def loopback_bytes():
    """Bytes sent over the loopback interface since boot."""
    counters = psutil.net_io_counters(pernic=True)
    return counters["lo"].bytes_sent if "lo" in counters else 0


def timed_fit(X, y, C):
    """Fit, with every objective evaluation timed and its loopback traffic
    counted; returns the model, the total time, the seconds and the bytes of
    each evaluation."""
    seconds, sent = [], []
    original = scipy.optimize.minimize

    def minimize(fun, x0, **kwargs):
        def timed(x):
            start, start_bytes = time.perf_counter(), loopback_bytes()
            result = fun(x)
            seconds.append(time.perf_counter() - start)
            sent.append(loopback_bytes() - start_bytes)
            return result

        return original(timed, x0, **kwargs)

    scipy.optimize.minimize = minimize
    try:
        start = time.perf_counter()
        clf = SoftmaxRegressionClassifier(C=C).fit(X, y)
        total = time.perf_counter() - start
    finally:
        scipy.optimize.minimize = original
    return clf, total, seconds, sent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-limit", default="2GiB")
    args = parser.parse_args(argv)
    n_samples = 400_000 if args.quick else 8_000_000
    n_features, n_classes, n_workers = 100, 10, 4
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=args.memory_limit,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = Client(cluster)
    X, y = make_data(n_samples, n_features, n_classes, chunk_rows=250_000)
    data_gb = X.nbytes / 1e9
    print(
        f"X: {X.shape} float32, {data_gb:.2f} GB; {n_workers} workers of "
        f"{args.memory_limit} each",
        flush=True,
    )

    # The background: loopback traffic of the idle cluster (heartbeats) and of
    # anything else on this machine, over 5 s.
    idle_start = loopback_bytes()
    time.sleep(5.0)
    idle_rate = (loopback_bytes() - idle_start) / 5.0
    distributed_fit, total, evaluations, sent = timed_fit(X, y, C=1.0)
    coefficient_bytes = len(
        pickle.dumps(
            (
                distributed_fit.coef_.astype(np.float64),
                distributed_fit.intercept_.astype(np.float64),
            )
        )
    )
    print(
        f"distributed: {total:.1f} s, {distributed_fit.n_iter_} iterations, "
        f"{len(evaluations)} evaluations of median {np.median(evaluations):.2f} s",
        flush=True,
    )

    client.close()
    cluster.close()
    # The same graph (the same seeds) computed in this process by threads: no
    # worker could hold the whole result.
    X_local, y_local = da.compute(X, y, scheduler="threads")
    local_fit, local_total, local_evaluations, _ = timed_fit(X_local, y_local, C=1.0)
    print(
        f"in memory: {local_total:.1f} s, {local_fit.n_iter_} iterations, "
        f"{len(local_evaluations)} evaluations of median "
        f"{np.median(local_evaluations):.2f} s",
        flush=True,
    )

    gap = np.abs(distributed_fit.coef_ - local_fit.coef_).max()
    print(
        "\n| fit | total (s) | iterations | evaluations | median s / evaluation |\n"
        "|---|---|---|---|---|\n"
        f"| Dask, {n_workers} workers | {total:.1f} | {distributed_fit.n_iter_} | "
        f"{len(evaluations)} | {np.median(evaluations):.2f} |\n"
        f"| in memory, one process | {local_total:.1f} | {local_fit.n_iter_} | "
        f"{len(local_evaluations)} | {np.median(local_evaluations):.2f} |\n\n"
        f"Time ratio Dask / in memory: {total / local_total:.2f} (total), "
        f"{np.median(evaluations) / np.median(local_evaluations):.2f} (per "
        f"evaluation). Bytes sent per evaluation over the loopback interface "
        f"(measured): median {np.median(sent):,.0f}, largest {max(sent):,}; the "
        f"coefficients themselves are {coefficient_bytes:,} bytes pickled, "
        f"{coefficient_bytes * n_workers:,} bytes to {n_workers} workers; the "
        f"idle background was {idle_rate:,.0f} bytes/s. Largest "
        f"coefficient difference between the two fits: {gap:.1e}."
    )


if __name__ == "__main__":
    main()
