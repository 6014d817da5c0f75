"""A fit on a Dask cluster, of data larger than any worker's memory limit.

Run from the repository root (needs the dask extra)::

    python benchmarks/bench_dask.py                # 8,000,000 x 100 float32
    python benchmarks/bench_dask.py --quick        # 400,000 rows, a smoke test
    python benchmarks/bench_dask.py --rows 20000   # any number of rows

The data, float32 features and labels drawn from a random softmax model with 10
classes, is generated blockwise by Dask on the workers of a LocalCluster (4
worker processes, one thread each, ``--memory-limit`` each). The fit reports
its total time, its iterations and evaluations, the median time of an
iteration, and the time and the bytes sent per objective evaluation, all read
by the solver's callback (``_fit(..., callback=...)``) on the client after
every iteration. The per-evaluation figures are totals over totals: the
seconds and the bytes from the first iteration's callback to the last, over
the evaluations in between (line-search trials included); what comes before
the first callback (checking the data, the preconditioning statistics) is left
out. The bytes are measured: every message between the client, the scheduler
and the workers of the LocalCluster goes over the loopback interface, whose
counter (``psutil``, a dependency of distributed) the callback reads; this
counts the coefficients broadcast to the workers, the tasks sent to the
scheduler, the partial sums moved between workers by the tree reduction and
the sum that comes back, and also the cluster's heartbeats.
The same data is then computed in this process (the same graph and seeds, by
threads) and fitted in memory, with the same settings, for the ratio of the two.

Output: the progress and the table on stdout, and ``--output`` (default
``benchmarks/results/dask.md``), which the script writes whole: a line with the
command, the versions and the machine, the summary of each fit, the table and
the ratios. A run replaces the file, comparisons with earlier runs included
(the script reports one run only).
"""

import argparse
import os
import pickle
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import dask
import dask.array as da
import distributed
import numpy as np
import psutil
import scipy
import sklearn
from bench_fit import command_line
from distributed import Client, LocalCluster

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier

#: Rows of the full run and of ``--quick``; rows of a chunk of X.
ROWS, QUICK_ROWS, CHUNK_ROWS = 8_000_000, 400_000, 250_000


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


class SolverLog(NamedTuple):
    """A fit as the solver's callback saw it."""

    #: Iterations (one callback each).
    n_iter: int
    #: Objective evaluations, line-search trials included.
    n_evaluations: int
    #: Seconds of each iteration after the first (between callbacks).
    iteration_seconds: list
    #: Evaluations, seconds and loopback bytes from the first callback to the
    #: last (see ``timed_fit``).
    measured_evaluations: int
    measured_seconds: float
    measured_bytes: int

    @property
    def seconds_per_evaluation(self):
        """Total seconds over total evaluations (NaN after one iteration)."""
        n = self.measured_evaluations
        return self.measured_seconds / n if n else np.nan

    @property
    def bytes_per_evaluation(self):
        """Total bytes over total evaluations (NaN after one iteration)."""
        n = self.measured_evaluations
        return self.measured_bytes / n if n else np.nan


def timed_fit(X, y, C):
    """Fit with the solver's callback reading the clock and the loopback
    counter after every iteration; returns the model, the total time and a
    :class:`SolverLog`.

    The measured counts run from the first callback to the last, so that they
    cover evaluations of the objective only: before the first, the fit also
    checks and encodes the data and computes the preconditioning statistics,
    which move data of their own. Reading the counter between evaluations
    adds nothing to them.
    """
    steps = []  # (SolverStep, loopback bytes sent so far)

    def record(step):
        steps.append((step, loopback_bytes()))

    start = time.perf_counter()
    clf = SoftmaxRegressionClassifier(C=C)._fit(X, y, callback=record)
    total = time.perf_counter() - start
    (first, first_bytes), (last, last_bytes) = steps[0], steps[-1]
    return (
        clf,
        total,
        SolverLog(
            n_iter=len(steps),
            n_evaluations=last.n_evaluations,
            iteration_seconds=list(np.diff([step.elapsed for step, _ in steps])),
            measured_evaluations=last.n_evaluations - first.n_evaluations,
            measured_seconds=last.elapsed - first.elapsed,
            measured_bytes=last_bytes - first_bytes,
        ),
    )


def row(total, log):
    """The table cells of a fit after its name."""
    median = np.median(log.iteration_seconds) if log.iteration_seconds else np.nan
    return (
        f"{total:.1f} | {log.n_iter} | {log.n_evaluations} | {median:.2f} | "
        f"{log.seconds_per_evaluation:.2f}"
    )


def describe(log):
    return (
        f"{log.n_iter} iterations, {log.n_evaluations} evaluations; "
        f"{log.measured_evaluations} evaluations after the first iteration took "
        f"{log.measured_seconds:.2f} s"
    )


def n_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def header(
    command: str, shape: tuple[int, ...], n_workers: int, memory_limit: str
) -> str:
    """The results file's first line: the command, the versions, the machine
    and the sizes."""
    return (
        f"Command: `{command}`. sksoftmax {sksoftmax.__version__}, NumPy "
        f"{np.__version__}, SciPy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; {n_cores()} cores; X {shape[0]:,} x {shape[1]} "
        f"float32 in chunks of {CHUNK_ROWS:,} rows, 10 classes, C=1; a "
        f"LocalCluster of {n_workers} worker processes with 1 thread and a "
        f"{memory_limit} memory limit each."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROWS:,} rows, a smoke test"
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"rows of X (default: {ROWS:,}; --quick {QUICK_ROWS:,})",
    )
    parser.add_argument("--memory-limit", default="2GiB")
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parent / "results" / "dask.md"),
        help="the Markdown file (default: benchmarks/results/dask.md)",
    )
    args = parser.parse_args(argv)
    n_samples = args.rows or (QUICK_ROWS if args.quick else ROWS)
    n_features, n_classes, n_workers = 100, 10, 4
    summary = []  # the lines printed before the table, for the results file

    def report(line: str) -> None:
        print(line, flush=True)
        summary.append(line)

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):
        X, y = make_data(n_samples, n_features, n_classes, chunk_rows=CHUNK_ROWS)
        data_gb = X.nbytes / 1e9
        report(
            f"X: {X.shape} float32, {data_gb:.2f} GB; {n_workers} workers of "
            f"{args.memory_limit} each"
        )

        # The background: loopback traffic of the idle cluster (heartbeats) and
        # of anything else on this machine, over 5 s.
        idle_start = loopback_bytes()
        time.sleep(5.0)
        idle_rate = (loopback_bytes() - idle_start) / 5.0
        distributed_fit, total, log = timed_fit(X, y, C=1.0)
        coefficient_bytes = len(
            pickle.dumps(
                (
                    distributed_fit.coef_.astype(np.float64),
                    distributed_fit.intercept_.astype(np.float64),
                )
            )
        )
        report(f"distributed: {total:.1f} s, {describe(log)}")

    # The cluster is closed. The same graph (the same seeds) computed in this
    # process by threads: no worker could hold the whole result.
    X_local, y_local = da.compute(X, y, scheduler="threads")
    local_fit, local_total, local_log = timed_fit(X_local, y_local, C=1.0)
    report(f"in memory: {local_total:.1f} s, {describe(local_log)}")

    gap = np.abs(distributed_fit.coef_ - local_fit.coef_).max()
    results = (
        "| fit | total (s) | iterations | evaluations | median s / iteration | "
        "s / evaluation |\n"
        "|---|---|---|---|---|---|\n"
        f"| Dask, {n_workers} workers | {row(total, log)} |\n"
        f"| in memory, one process | {row(local_total, local_log)} |\n\n"
        f"Time ratio Dask / in memory: {total / local_total:.2f} (total), "
        f"{log.seconds_per_evaluation / local_log.seconds_per_evaluation:.2f} "
        f"(per evaluation). Bytes sent over the loopback interface per "
        f"evaluation: {log.bytes_per_evaluation:,.0f}, measured as the total "
        f"bytes from the first iteration's end to the last's "
        f"({log.measured_bytes:,}) over the evaluations in between "
        f"({log.measured_evaluations}); the coefficients themselves are "
        f"{coefficient_bytes:,} bytes pickled, {coefficient_bytes * n_workers:,} "
        f"bytes to {n_workers} workers; the idle background was "
        f"{idle_rate:,.0f} bytes/s. Largest coefficient difference between the "
        f"two fits: {gap:.1e}."
    )
    print("\n" + results)
    text = "\n".join(
        [
            header(
                command_line(argv, "bench_dask.py", "--output"),
                X.shape,
                n_workers,
                args.memory_limit,
            ),
            "",
            *summary,
            "",
            results,
        ]
    )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
