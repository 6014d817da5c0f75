"""Threads in a process tree: a fork after a fit, the threads a fit starts in
joblib's workers, and GridSearchCV with n_jobs=1 and 2 on the same data.

Run from the repository root::

    python benchmarks/bench_threads.py --repeats 5
    python benchmarks/bench_threads.py --samples 2000 --repeats 1  # a smoke test

Only the public API is used, so that the script runs against any version of
the package (``PYTHONPATH=path/to/other/checkout python benchmarks/bench_threads.py``
measures another one; the results file then says where it was imported from).
Output: a Markdown table on stdout, and ``--output`` (default
``benchmarks/results/threads.md``), which the script writes whole: a line with
the command, the versions and the machine, then the table. A run replaces the
file, comparisons with other trees included (the script measures one tree
only: such comparisons are runs of it against each tree, put side by side).

- *fork after fit*: a fit in this process, then the same fit in two children
  of a ``fork`` pool; the children's wall time, or "hung" past the timeout.
- *threads a fit adds*: in this process (median of three fits), and in each
  worker of ``Parallel(n_jobs=2)``, the most OS threads the process has during a fit,
  minus those it had before (sampled every millisecond). BLAS's own threads
  exist before the fit and are not counted.
- *a fit in another thread after one in the main thread*: the median times of
  the same fit in the main thread and in a new thread started after it (a
  web server's worker thread, say).
- *GridSearchCV*: wall time of a 4-value grid of C, 3 folds, n_jobs=1 and 2.
"""

import argparse
import multiprocessing
import os
import platform
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psutil
import scipy
import sklearn
import threadpoolctl
from bench_fit import command_line
from joblib import Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier

#: Seconds after which the forked children count as hung.
FORK_TIMEOUT = 60


def make_data(n_samples):
    # Wide enough rows for many blocks: the kernel then shares them among threads.
    return make_classification(
        n_samples=n_samples,
        n_features=64,
        n_informative=16,
        n_classes=4,
        random_state=0,
    )


def fit(X, y):
    return SoftmaxRegressionClassifier(max_iter=30).fit(X, y).coef_


def fork_after_fit(X, y):
    fit(X, y)
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with context.Pool(2) as pool:
        try:
            pool.starmap_async(fit, [(X, y), (X, y)]).get(timeout=FORK_TIMEOUT)
        except multiprocessing.TimeoutError:
            pool.terminate()
            return f"hung (no result after {FORK_TIMEOUT} s)"
    return f"finished in {time.perf_counter() - start:.2f} s"


def threads_added_by_a_fit(X, y):
    process = psutil.Process()
    before = process.num_threads()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.num_threads())
            time.sleep(0.001)

    # The sampler is one more thread of its own, not counted.
    sampler = threading.Thread(target=sample)
    sampler.start()
    fit(X, y)
    done.set()
    sampler.join()
    return peak[0] - before - 1


def seconds(function, *args):
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main_then_other_thread(X, y, repeats):
    """Median seconds of a fit in the main thread, and of the same fit in a
    new thread after it."""
    in_main, in_thread = [], []
    for _ in range(repeats):
        in_main.append(seconds(fit, X, y))
        thread = threading.Thread(target=lambda: in_thread.append(seconds(fit, X, y)))
        thread.start()
        thread.join()
    return np.median(in_main), np.median(in_thread)


def grid_search_seconds(X, y, n_jobs):
    search = GridSearchCV(
        SoftmaxRegressionClassifier(max_iter=30),
        {"C": [0.01, 0.1, 1.0, 10.0]},
        cv=3,
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start


def package_origin() -> str:
    """Where sksoftmax was imported from: this checkout, or another path."""
    imported = Path(sksoftmax.__file__).resolve().parent
    if imported == Path(__file__).resolve().parents[1] / "sksoftmax":
        return "this checkout"
    return f"from {imported}"


def header(command: str, n_cores: int, n_samples: int, repeats: int) -> str:
    """The results file's first line: the command, the versions, the machine
    and the sizes."""
    return (
        f"Command: `{command}`. sksoftmax {sksoftmax.__version__} "
        f"({package_origin()}), NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, threadpoolctl "
        f"{threadpoolctl.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; {n_cores} cores; {n_samples:,} x 64, 4 classes, "
        f"max_iter=30; times are medians of {repeats}."
    )


def table(
    fork: str,
    in_main: int,
    in_workers: list[int],
    main_fit: float,
    thread_fit: float,
    times: dict[int, float],
) -> list[str]:
    """The Markdown table of the measurements, one line each."""
    return [
        "| measurement | result |",
        "|---|---|",
        f"| fork after fit: fits in 2 forked children | {fork} |",
        f"| threads a fit adds, in this process | {in_main} |",
        f"| threads a fit adds, in each joblib worker (n_jobs=2) | {in_workers} |",
        f"| fit in the main thread (s) | {main_fit:.2f} |",
        f"| the same fit in another thread after it (s) | {thread_fit:.2f} |",
        f"| another thread / main thread | {thread_fit / main_fit:.2f} |",
        f"| GridSearchCV n_jobs=1 (s) | {times[1]:.2f} |",
        f"| GridSearchCV n_jobs=2 (s) | {times[2]:.2f} |",
        f"| n_jobs=2 / n_jobs=1 | {times[2] / times[1]:.2f} |",
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parent / "results" / "threads.md"),
        help="the Markdown file (default: benchmarks/results/threads.md)",
    )
    args = parser.parse_args(argv)
    X, y = make_data(args.samples)
    fork = fork_after_fit(X, y)
    in_workers = Parallel(n_jobs=2)(
        delayed(threads_added_by_a_fit)(X, y) for _ in range(2)
    )
    # Median of three: the first fit after the fork pool also sees that pool's
    # helper threads come and go.
    in_main = int(np.median([threads_added_by_a_fit(X, y) for _ in range(3)]))
    main_fit, thread_fit = main_then_other_thread(X, y, args.repeats)
    times = {
        n_jobs: np.median(
            [grid_search_seconds(X, y, n_jobs) for _ in range(args.repeats)]
        )
        for n_jobs in (1, 2)
    }
    n_cores = len(os.sched_getaffinity(0))
    rows = table(fork, in_main, in_workers, main_fit, thread_fit, times)
    print(
        f"sksoftmax from {os.path.dirname(sksoftmax.__file__)}; "
        f"{n_cores} cores; {args.samples} x 64, 4 classes; "
        f"medians of {args.repeats}\n"
    )
    print("\n".join(rows))
    text = "\n".join(
        [
            header(
                command_line(argv, "bench_threads.py", "--output"),
                n_cores,
                args.samples,
                args.repeats,
            ),
            "",
            *rows,
        ]
    )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
