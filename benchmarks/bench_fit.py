"""SoftmaxRegressionClassifier against LogisticRegression: its default solver
for default fits, its fastest solver to a gap of 1e-6.

Run from the repository root (needs matplotlib: ``pip install -e ".[test]"``)::

    python benchmarks/bench_fit.py            # the full benchmark, ~30 min on 2 cores
    python benchmarks/bench_fit.py --quick    # small sizes, a smoke test

Both estimators minimise the same objective (mean weighted cross-entropy plus
``||W||^2 / (2 C S)``), so they are compared on the same data with the same C,
fitted alternately in one process:

- default settings: median fit time over ``--repeats`` runs, iterations, the
  final objective's relative gap to a reference optimum, and whether the fit
  converged (no ConvergenceWarning);
- tight settings (tol=1e-10): the time until the objective first comes within
  a relative gap of 1e-6 of the reference optimum. sksoftmax's is read at
  every L-BFGS-B iteration through the solver's callback (``_fit(...,
  callback=...)``; the callback ends the run there, or at ``--time-limit``).
  LogisticRegression offers no callback, and the benchmark does not patch
  SciPy to make one, so it is refitted from scratch with ``max_iter`` = 1, 2,
  4, ... until its model is within the gap, and ``REFINE_FITS`` bisection
  fits then narrow the bracket (see ``refit_to_gap``). L-BFGS is
  deterministic, so the fit with max_iter=k is the long run truncated at its
  k-th iteration: the time reported is that of the first fit found within the
  gap, which overstates the true time by at most the iterations of the final
  bracket (reported with it). No refit is started that would run past
  ``--time-limit``; where no fit reaches the gap it says "not reached", and the
  speed-up is a lower bound from the longest fit that did not;
- peak memory allocated during a default fit (tracemalloc sees NumPy's
  allocations), relative to the size of X;
- predict_proba on 1,000,000 x 100 with 10 classes: median time of each.

The reference optimum of each dataset comes from one long, tight run of the
preconditioned solver (tol=1e-12); its iteration count is reported. Results go
to ``--out``: ``fit.md`` (the tables) and ``fit.png`` (objective gap against
time: sksoftmax's traced run and LogisticRegression's refits).
"""

import argparse
import contextlib
import platform
import sys

if __name__ == "__main__" and "--without-numba" in sys.argv:
    # The default install, where numba is present: its import then fails, as
    # it does where the extra is not installed (sksoftmax._sparse falls back
    # on SciPy's products). Set before sksoftmax is imported.
    sys.modules["numba"] = None  # type: ignore[assignment]
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._backends._numpy import InMemoryData
from sksoftmax._objective import SoftmaxObjective
from sksoftmax._settings import FitSettings
from sksoftmax._sparse import COMPILED

TARGET_GAP = 1e-6
C = 1.0


# Datasets ----------------------------------------------------------------------


def softmax_labels(X, n_classes, rng, noise=1.0):
    """Labels drawn from a random softmax model (Gumbel-max sampling)."""
    weights = rng.normal(size=(n_classes, X.shape[1]))
    scores = np.asarray(X @ weights.T)
    scores *= 3.0 / scores.std()
    scores += noise * rng.gumbel(size=scores.shape)
    return scores.argmax(axis=1)


def digits(scale):
    return load_digits(return_X_y=True)


def dense_10(scale):
    return make_classification(
        n_samples=200_000 // scale,
        n_features=100,
        n_informative=30,
        n_classes=10,
        random_state=0,
    )


def dense_scaled(scale):
    X, y = make_classification(
        n_samples=100_000 // scale,
        n_features=50,
        n_informative=20,
        n_classes=7,
        random_state=1,
    )
    rng = np.random.default_rng(1)
    return X * rng.permutation(np.logspace(-3, 4, X.shape[1])), y


def dense_100(scale):
    return make_classification(
        n_samples=50_000 // scale,
        n_features=200,
        n_informative=50,
        n_classes=100,
        n_clusters_per_class=1,
        random_state=2,
    )


def sparse_20(scale):
    rng = np.random.default_rng(3)
    n_samples, n_features = 100_000 // scale, 50_000 // scale
    X = sp.random(
        n_samples,
        n_features,
        density=100 / 50_000,
        format="csr",
        random_state=rng,
        data_rvs=lambda k: rng.exponential(size=k),
    )
    return X, softmax_labels(X, 20, rng)


def many_classes(scale):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20_000 // scale, 100))
    n_classes = 1000 // min(scale, 10)
    return X, softmax_labels(X, n_classes, rng, noise=0.5)


def near_separable_pixels(scale):
    """Raw 0-255 images, 28 x 28, nearly separable: the 8 x 8 digits upsampled
    to 20 x 20, placed at a random shift, with pixel noise and 5% of the labels
    redrawn (n a few times p, as with 5,000 MNIST images)."""
    from scipy import ndimage

    rng = np.random.default_rng(5)
    n_samples = 5000 // scale
    images, labels = load_digits(return_X_y=True)
    pick = rng.integers(0, len(labels), n_samples)
    X = np.zeros((n_samples, 28, 28))
    for row, i in enumerate(pick):
        dy, dx = rng.integers(2, 7, 2)
        big = ndimage.zoom(images[i].reshape(8, 8) / 16.0, 2.5, order=1)
        X[row, dy : dy + 20, dx : dx + 20] = big
    X = np.clip(X * 255 + rng.normal(0, 8, X.shape) * (X > 0), 0, 255).round()
    y = labels[pick].copy()
    redrawn = rng.random(n_samples) < 0.05
    y[redrawn] = rng.integers(0, 10, redrawn.sum())
    return X.reshape(n_samples, 784), y


def zipf_text(scale):
    """Sparse text-like data: 20k documents of about 60 words from a Zipf
    vocabulary of 5,000, plus words of a topic per class (20 classes),
    tf-idf weighted with rows of unit norm."""
    rng = np.random.default_rng(6)
    n_samples, n_words, n_classes = 20_000 // scale, 5_000 // min(scale, 4), 20
    frequency = 1.0 / np.arange(1, n_words + 1) ** 1.1
    y = rng.integers(0, n_classes, n_samples)
    topics = rng.permutation(n_words)[: n_classes * 25].reshape(n_classes, 25)
    common = rng.choice(n_words, (n_samples, 60), p=frequency / frequency.sum())
    topical = topics[y[:, None], rng.integers(0, 25, (n_samples, 6))]
    columns = np.hstack([common, topical])
    rows = np.repeat(np.arange(n_samples), columns.shape[1])
    counts = sp.csr_matrix(
        (np.ones(rows.size), (rows, columns.ravel())), shape=(n_samples, n_words)
    )
    counts.sum_duplicates()
    document_frequency = np.bincount(counts.indices, minlength=n_words)
    idf = np.log((1 + n_samples) / (1 + document_frequency)) + 1
    X = counts @ sp.diags(idf)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    return sp.csr_matrix(sp.diags(1 / norms) @ X), y


DATASETS = {
    "digits (raw pixels)": digits,
    "dense 200k x 100, 10 classes": dense_10,
    "dense 100k x 50, 7 classes, scales 1e-3..1e4": dense_scaled,
    "dense 50k x 200, 100 classes": dense_100,
    "sparse CSR 100k x 50k, 100 nnz/row, 20 classes": sparse_20,
    "dense 20k x 100, 1000 classes": many_classes,
    "near-separable 5k x 784 raw pixels (0-255), 10 classes": near_separable_pixels,
    "sparse Zipf tf-idf 20k x 5k, 20 classes": zipf_text,
}


def nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


# Measuring a fit ---------------------------------------------------------------


class StopRun(Exception):
    """Raised from the solver's callback to end a traced run."""


def traced_fit(estimator, X, y, stop, time_limit):
    """Fit sksoftmax with a callback recording every L-BFGS-B iteration.

    Returns the trace, ``(seconds, iteration, objective)`` per iteration, the
    seconds counted from just before the call (validation and preprocessing
    count). The run ends, by raising ``StopRun`` from the callback, once
    ``stop(objective)`` holds or after ``time_limit`` seconds; the estimator is
    then left unfitted and only the trace is used.
    """
    trace = []
    start = time.perf_counter()

    def record(step):
        now = time.perf_counter() - start
        trace.append((now, step.iteration, step.objective))
        if stop(step.objective) or now > time_limit:
            raise StopRun

    with warnings.catch_warnings(), contextlib.suppress(StopRun):
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator._fit(X, y, callback=record)
    return trace


#: Bisection fits after the bracket: [k, 2k] narrows to a width of k / 2**n.
REFINE_FITS = 2


class RefitSearch(NamedTuple):
    """Fits with a growing ``max_iter``, each ``(max_iter, seconds, value)``,
    sorted by ``max_iter``; ``reached_at`` is the least max_iter tried whose
    model reached the gap (None if none did), ``below`` the largest tried that
    did not (0 if none)."""

    fits: list
    reached_at: int | None
    below: int

    def seconds(self, max_iter):
        return next(s for k, s, _ in self.fits if k == max_iter)

    @property
    def time(self):
        """Seconds of the first fit found that reaches the gap, else inf."""
        return np.inf if self.reached_at is None else self.seconds(self.reached_at)

    @property
    def bound(self):
        """Seconds of the longest fit that did not reach the gap (0 if none)."""
        return self.seconds(self.below) if self.below else 0.0


def refit_to_gap(fit_at, reached, time_limit, first=1, refine=REFINE_FITS):
    """Time to the gap of an estimator without a callback, by refitting.

    ``fit_at(k)`` fits from scratch with ``max_iter=k`` and returns
    ``(seconds, objective of the model, iterations run)``. L-BFGS is
    deterministic and its state does not depend on ``max_iter``, so the fit
    with max_iter=k is the fit with more iterations truncated at the k-th:
    its time is what a run stopped there would take, and its model is that
    run's k-th iterate. ``max_iter`` doubles from ``first`` until a model
    reaches the gap (the bracket), and then at most ``refine`` bisection fits
    narrow the bracket; the answer is the first fit found that reaches
    it, so it overstates the least such fit by less than the bracket's final
    width. No fit is started whose time, extrapolated linearly from the last,
    exceeds ``time_limit``, and the doubling stops when a fit stops before its
    ``max_iter`` (it converged, or L-BFGS gave up): more iterations would not
    change its model.
    """
    fits = {}

    def run(k):
        seconds, value, n_iter = fit_at(k)
        fits[k] = (k, seconds, value)
        return seconds, reached(value), n_iter

    below, above, k = 0, None, first
    while True:
        seconds, done, n_iter = run(k)
        if done:
            above = k
            break
        below = k
        next_k = min(2 * k, int(k * time_limit / seconds))
        if n_iter < k or next_k <= k:
            break
        k = next_k
    for _ in range(refine if above is not None else 0):
        if above - below <= 1:
            break
        middle = (below + above) // 2
        if run(middle)[1]:
            above = middle
        else:
            below = middle
    return RefitSearch(sorted(fits.values()), above, below)


def truncated_fits(make, X, y, objective):
    """``fit_at(k)`` for :func:`refit_to_gap`: ``make(max_iter=k)`` fitted on
    X, y with ConvergenceWarning silenced, its time, its model's objective and
    its iterations."""

    def fit_at(k):
        estimator = make(max_iter=k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            estimator.fit(X, y)
            seconds = time.perf_counter() - start
        return seconds, objective_value(objective, estimator), max_iterations(estimator)

    return fit_at


def objective_value(objective, estimator):
    coef, intercept = estimator.coef_, estimator.intercept_
    return objective.value(coef.astype(np.float64), intercept.astype(np.float64))


def max_iterations(estimator):
    return int(np.max(estimator.n_iter_))


def fit_once(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, max_iterations(estimator), converged


def peak_memory(estimator, X, y):
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


OURS, THEIRS = "sksoftmax", "LogisticRegression"
ESTIMATORS = {
    OURS: lambda **kw: SoftmaxRegressionClassifier(C=C, **kw),
    THEIRS: lambda **kw: LogisticRegression(C=C, **kw),
}


def tight(key, **params):
    """The estimator ``key`` at tol=1e-10, which stops on max_iter or the gap."""
    return lambda max_iter=1_000_000: ESTIMATORS[key](
        tol=1e-10, max_iter=max_iter, **params
    )


#: LogisticRegression's solvers timed to the gap; the table shows the fastest.
#: newton-cholesky only where its Hessian, (K (p + 1))^2 float64, fits in
#: HESSIAN_BYTES.
THEIR_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
HESSIAN_BYTES = 2**31


def their_solvers(X, n_classes, solvers):
    hessian = (n_classes * (X.shape[1] + 1)) ** 2 * 8
    return [s for s in solvers if s != "newton-cholesky" or hessian <= HESSIAN_BYTES]


def run_dataset(name, X, y, args):
    n_classes = len(np.unique(y))
    data = InMemoryData(X, np.searchsorted(np.unique(y), y), np.ones(len(y)))
    objective = SoftmaxObjective(data, n_classes, FitSettings(C=C), precondition=False)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SoftmaxRegressionClassifier(C=C, tol=1e-12, max_iter=20_000)
        reference.fit(X, y)
    f_star = objective_value(objective, reference)
    print(
        f"  reference optimum {f_star:.12g} in {int(reference.n_iter_[0])} "
        f"preconditioned iterations ({time.perf_counter() - start:.1f} s)",
        flush=True,
    )

    def reached(value):
        return value - f_star <= TARGET_GAP * abs(f_star)

    result = {"reference iterations": int(reference.n_iter_[0]), "X bytes": nbytes(X)}
    default = {key: [] for key in ESTIMATORS}
    for _ in range(args.repeats):
        for key, make in ESTIMATORS.items():
            estimator = make()
            seconds, n_iter, converged = fit_once(estimator, X, y)
            default[key].append(
                (seconds, n_iter, converged, objective_value(objective, estimator))
            )
    # sksoftmax: its objective at every iteration, through the solver's
    # callback (without the L1 split it is the model's objective).
    traces = [
        traced_fit(tight(OURS)(), X, y, reached, args.time_limit)
        for _ in range(args.tight_repeats)
    ]
    # (seconds, iteration) where each run reached the gap.
    hits = [
        next(((t, k) for t, k, f in trace if reached(f)), (np.inf, None))
        for trace in traces
    ]
    # LogisticRegression: no callback, so fits truncated at max_iter=k; each
    # solver in turn, and the fastest to the gap is kept.
    searches = {}
    for solver in their_solvers(X, n_classes, args.solvers):
        searches[solver] = refit_to_gap(
            truncated_fits(tight(THEIRS, solver=solver), X, y, objective),
            reached,
            args.time_limit,
        )
        print(
            f"  LogisticRegression({solver}) refits (max_iter: s): "
            + ", ".join(f"{k}: {s:.3g}" for k, s, _ in searches[solver].fits),
            flush=True,
        )
    fastest = min(searches, key=lambda k: (searches[k].time, -searches[k].bound))
    search = searches[fastest]
    memory = {key: peak_memory(make(), X, y) for key, make in ESTIMATORS.items()}

    f_best = min([f_star] + [run[3] for runs in default.values() for run in runs])
    for key in ESTIMATORS:
        result[key] = {
            "time": float(np.median([r[0] for r in default[key]])),
            "iterations": int(np.median([r[1] for r in default[key]])),
            "converged": all(r[2] for r in default[key]),
            "gap": max((r[3] - f_best) / abs(f_best) for r in default[key]),
            "peak memory": memory[key],
        }
    result[OURS] |= {
        "time to 1e-6": float(np.median([t for t, _ in hits])),
        "tight run length": float(np.median([trace[-1][0] for trace in traces])),
        "iterations to 1e-6": (
            str(hits[-1][1]) if hits[-1][1] is not None else f"> {traces[-1][-1][1]}"
        ),
    }
    result[THEIRS] |= {
        "solver to 1e-6": fastest,
        "time to 1e-6": search.time,
        "tight run length": search.bound,
        "iterations to 1e-6": (
            f"> {search.below}"
            if search.reached_at is None
            else f"({search.below}, {search.reached_at}]"
        ),
    }
    result["traces"] = {
        OURS: [(t, (f - f_best) / abs(f_best)) for t, _, f in traces[-1]],
        THEIRS: [(s, (f - f_best) / abs(f_best)) for _, s, f in search.fits],
    }
    return result


def bench_predict(args):
    n_rows = 1_000_000 // args.scale
    X, y = make_classification(
        n_samples=n_rows,
        n_features=100,
        n_informative=30,
        n_classes=10,
        random_state=5,
    )
    fitted = {}
    for key, make in ESTIMATORS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted[key] = make().fit(X[:50_000], y[:50_000])
    times = {key: [] for key in fitted}
    for _ in range(args.repeats):
        for key, estimator in fitted.items():
            start = time.perf_counter()
            estimator.predict_proba(X)
            times[key].append(time.perf_counter() - start)
    memory = {}
    for key, estimator in fitted.items():
        tracemalloc.start()
        proba = estimator.predict_proba(X)
        memory[key] = tracemalloc.get_traced_memory()[1] / proba.nbytes
        tracemalloc.stop()
    return n_rows, {key: float(np.median(t)) for key, t in times.items()}, memory


# Reporting ---------------------------------------------------------------------


def fmt_time(seconds):
    return "not reached" if not np.isfinite(seconds) else f"{seconds:.3g}"


def speedup(ours, theirs):
    """LogisticRegression's time to the target gap over sksoftmax's.

    Where LogisticRegression did not reach the gap, its longest fit that did
    not counts instead, so the speed-up is then a lower bound.
    """
    (t_ours, _), (t_theirs, run_theirs) = ours, theirs
    if not np.isfinite(t_ours):
        return "sksoftmax did not reach it"
    if not np.isfinite(t_theirs):
        return f"> {run_theirs / t_ours:.1f}"
    return f"{t_theirs / t_ours:.1f}"


def markdown(results, predict, args):
    ours, theirs = OURS, THEIRS
    lines = [
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, sksoftmax "
        f"{sksoftmax.__version__}, sparse products "
        f"{'compiled by numba' if COMPILED else 'by SciPy (no numba)'}. "
        f"Command: `{args.command}`; C={C}; default "
        "fits: medians of "
        f"{args.repeats} runs per estimator.",
        "",
        "Time to gap 1e-6 (tol=1e-10): sksoftmax's objective is read at every "
        "L-BFGS-B iteration through the solver's callback (median of "
        f"{args.tight_repeats} runs, stopped at the gap or after "
        f"{args.time_limit:g} s). LogisticRegression (default fits: lbfgs; to "
        f"the gap: the fastest of {', '.join(args.solvers)}, named in the table; "
        "newton-cholesky only where its Hessian fits in 2 GiB) has no callback: it is "
        "refitted from scratch with max_iter = 1, 2, 4, ... until its model is "
        f"within the gap, then {REFINE_FITS} bisection fits narrow the bracket; "
        "its time is that of the first fit found within the gap (one run; "
        "L-BFGS is deterministic, so max_iter=k truncates the same path at k). "
        "The least such max_iter lies in the interval shown under iterations to "
        "the gap, so the time overstates LogisticRegression's by at most the "
        "time of the iterations in that interval. No refit is started whose "
        "extrapolated "
        f"time exceeds {args.time_limit:g} s.",
        "",
        "| dataset | estimator | fit time (s) | iterations | converged | "
        "objective gap | time to gap 1e-6 (s) | iterations to gap 1e-6 | "
        "peak memory / X |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for name, r in results.items():
        for key in (ours, theirs):
            m = r[key]
            lines.append(
                f"| {name} | {key} | {m['time']:.3g} | {m['iterations']} | "
                f"{'yes' if m['converged'] else 'no'} | {m['gap']:.1e} | "
                f"{fmt_time(m['time to 1e-6'])}"
                f"{' (' + m['solver to 1e-6'] + ')' if 'solver to 1e-6' in m else ''}"
                f" | {m['iterations to 1e-6']} | "
                f"{m['peak memory'] / r['X bytes']:.3g} |"
            )
        a, b = r[ours], r[theirs]
        summary.append(
            (
                name,
                a["time"] / b["time"],
                speedup(*[(m["time to 1e-6"], m["tight run length"]) for m in (a, b)]),
                a["peak memory"] / b["peak memory"],
                a["gap"] <= b["gap"],
                r["reference iterations"],
            )
        )
    lines += [
        "",
        "Ratios (sksoftmax / LogisticRegression, except the speed-up):",
        "",
        "| dataset | fit time ratio (default) | speed-up to gap 1e-6 | "
        "peak memory ratio | gap <= LogisticRegression's | reference iterations |",
        "|---|---|---|---|---|---|",
    ]
    for name, t, gain, mem, gap_ok, ref_iter in summary:
        lines.append(
            f"| {name} | {t:.2f} | {gain} | {mem:.3f} | "
            f"{'yes' if gap_ok else 'no'} | {ref_iter} |"
        )
    times = [s[1] for s in summary]
    lines += [
        "",
        f"Median fit time ratio: {np.median(times):.2f}; largest: {max(times):.2f}.",
        "",
    ]
    n_rows, seconds, memory = predict
    lines += [
        f"predict_proba on {n_rows:,} x 100, 10 classes (median of {args.repeats}):",
        "",
        "| estimator | time (s) | rows per second | peak memory / output |",
        "|---|---|---|---|",
    ]
    for key in (ours, theirs):
        lines.append(
            f"| {key} | {seconds[key]:.3g} | {n_rows / seconds[key]:,.0f} | "
            f"{memory[key]:.2f} |"
        )
    lines.append(
        f"\nThroughput ratio sksoftmax / LogisticRegression: "
        f"{seconds[theirs] / seconds[ours]:.2f}"
    )
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(20, 8.5), constrained_layout=True)
    for ax, (name, r) in zip(axes.ravel(), results.items(), strict=False):
        for key, style, label in (
            (OURS, "-", "sksoftmax (every iteration of one run)"),
            (THEIRS, "o--", "LogisticRegression, fastest solver (a fit per max_iter)"),
        ):
            trace = r["traces"][key]
            if trace:
                t, gap = zip(*trace, strict=True)
                ax.semilogy(t, np.maximum(gap, 1e-16), style, ms=3, label=label)
        ax.axhline(TARGET_GAP, color="grey", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("relative objective gap")
        ax.legend(fontsize=8)
    fig.suptitle("Objective gap against time (tol=1e-10)")
    fig.savefig(path, dpi=90)


def results_parser(description, filename):
    """The command line that every benchmark script shares: ``--quick`` and
    ``--out`` (the folder of ``filename``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--out",
        default=str(Path(__file__).parent / "results"),
        help=f"folder for {filename} (default: benchmarks/results)",
    )
    return parser


def write_results(text, folder, filename):
    """Write a benchmark's Markdown to ``folder/filename`` and print it."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / filename).write_text(text)
    print(text)


def command_line(argv, script="bench_fit.py", output_option="--out"):
    """The command that ran ``script``, as a reader would repeat it (without
    ``output_option`` and its value, where the results went)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if output_option in words:
        at = words.index(output_option)
        del words[at : at + 2]
    words = [word for word in words if not word.startswith(f"{output_option}=")]
    return " ".join([f"python benchmarks/{script}", *words])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--repeats", type=int, default=None, help="default fits (3; --quick 1)"
    )
    parser.add_argument(
        "--tight-repeats",
        type=int,
        default=None,
        help="sksoftmax's traced runs to the gap (2; --quick 1)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds a run to the gap may take (120; --quick 10)",
    )
    parser.add_argument(
        "--out",
        default=str(Path(__file__).parent / "results"),
        help="folder for fit.md and fit.png (default: benchmarks/results)",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="datasets whose name contains these"
    )
    parser.add_argument(
        "--without-numba",
        action="store_true",
        help="sparse products by SciPy, as without the numba extra",
    )
    parser.add_argument(
        "--solvers",
        nargs="*",
        default=list(THEIR_SOLVERS),
        help="LogisticRegression solvers timed to the gap (the fastest is shown)",
    )
    args = parser.parse_args(argv)
    args.command = command_line(argv)
    args.scale = 20 if args.quick else 1
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.tight_repeats = args.tight_repeats or (1 if args.quick else 2)
    args.time_limit = args.time_limit or (10.0 if args.quick else 120.0)

    results = {}
    for name, load in DATASETS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        X, y = load(args.scale)
        print(f"{name}: {X.shape}, {len(np.unique(y))} classes", flush=True)
        results[name] = run_dataset(name, X, y, args)
    predict = bench_predict(args)
    text = markdown(results, predict, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fit.md").write_text(text)
    plot(results, out / "fit.png")
    print(text)


if __name__ == "__main__":
    main()
