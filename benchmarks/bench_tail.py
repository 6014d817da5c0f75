"""The tail of a fit: iterations and time to tight tolerances, sksoftmax vs sklearn.

Run from the repository root::

    python benchmarks/bench_tail.py              # ~2 min on 2 idle cores
    python benchmarks/bench_tail.py --repeats 1  # quicker, noisier times

SoftmaxRegressionClassifier ends an L2 fit with Newton steps on the exact
Hessian (``sksoftmax/_newton.py``) after L-BFGS-B; this measures what that
buys where the fit must go far: the last digits of the objective.

Both estimators minimise the same objective, here written as
LogisticRegression's divided by ``C n``: the mean log-loss plus
``||W||^2 / (2 C n)`` (intercepts not penalised). It is computed by this
script, for both, from ``coef_`` and ``intercept_`` (``scipy.special.logsumexp``
of the scores), and the gap of a fit is ``(f - f*) / f*`` against a reference
optimum f*. A negative gap is a fit below the reference.

1. Tail: ``make_classification(10_000, 10, n_informative=5, n_classes=3,
   random_state=0)``, C=1. f* is that of ``LogisticRegression(solver=
   "newton-cholesky", tol=1e-12, max_iter=1000)``. For tol in 1e-4, 1e-6,
   1e-8 and 1e-10, ``SoftmaxRegressionClassifier(C=1, tol=tol)`` and
   ``LogisticRegression(C=1, tol=tol, max_iter=10_000)`` (lbfgs) are fitted
   alternately: ``n_iter_``, the gap, whether a ConvergenceWarning was raised,
   the median time of ``--repeats`` fits (``time.perf_counter``), and the
   largest ``|coef_.sum(axis=0)|`` of ours (its coefficients should lie on the
   class-sum plane).
2. Tight fits: the time to relative gaps of 1e-8 and 1e-10. Ours is fitted
   with tol equal to the gap, and so are LogisticRegression's
   ``newton-cholesky`` and ``newton-cg`` (max_iter=1000); the achieved gap and
   the time of each are reported, and the ratio is ours over the faster of the
   two LogisticRegression solvers whose fit reached the gap. Datasets:
   anes96 (statsmodels; the raw exog, 944 x 5, 7 classes; skipped if
   statsmodels is not installed), the digits standardised (1797 x 64, 10
   classes) and ``make_classification(100_000, 50, n_informative=30,
   n_classes=7, random_state=0)`` standardised, all at C=1. The reference
   optimum of each is the better (lower objective) of two: a
   ``newton-cholesky`` fit at tol=1e-14 (max_iter=1000) and our fit at
   tol=1e-12; the table names which. Times are medians of ``--repeats``
   fits, of one fit for the 100k dataset.
3. L1 fits against saga: the time to a relative gap of 1e-6 with
   ``l1_ratio=1``, C=1, which SoftmaxRegressionClassifier fits by proximal
   Newton with coordinate descent (``sksoftmax/_proximal.py``). The objective
   of both is the mean log-loss plus ``sum(|coef_|) / (C n)``; for a binary
   model (``coef_`` of shape (1, p), for both estimators) the log-loss is
   that of the scores ``[0, X @ coef_.T + intercept_]``. Datasets, none
   standardised: ``make_classification(10_000, 10, n_informative=5,
   random_state=0)`` with 2 and 3 classes, and ``make_classification(10_000,
   100, n_informative=20, n_classes=3, random_state=0)``. f* is the best
   (lowest objective) of two fits: ``LogisticRegression(C=1, l1_ratio=1,
   solver="saga", tol=1e-10, max_iter=100_000)`` and ours at tol=1e-10 (each
   under 10 s here, so saga's max_iter is not capped). Ours is fitted at tol
   in 1e-4, 1e-5, 1e-6 and 1e-8 and saga at tol in 1e-3, 1e-4, 1e-5 and 1e-6
   (max_iter=100_000), all of them alternating, ``--repeats`` fits each (one
   if the first took over ``SLOW_FIT``); of each estimator the table reports
   the fit at the loosest tol whose gap is at most 1e-6 (a tighter tol
   iterates at least as long: where two reach the gap with the same
   iterations, the times differ by noise only), with its tol,
   iterations (saga's epochs), gap, ConvergenceWarning and number of zero
   coefficients (``coef_ == 0``), and the speed-up: saga's time over ours. A
   second table gives the same at the default tol of both (1e-4; saga with
   max_iter=100_000, the same fits) and saga at all its defaults
   (max_iter=100, one fit). One untimed L1 fit of ours first compiles (or
   loads from numba's disk cache) the coordinate-descent kernel.

An estimator whose first fit at a setting takes over ``SLOW_FIT`` (5 s) is
not refitted: its time is that fit's. The load average of the machine at the
start and end is written with the results: BLAS on all cores slows down many
times over when another process holds one of them, so times taken on a busy
machine say little.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy
import sklearn
from bench_fit import command_line
from scipy.special import logsumexp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier

C = 1.0
TAIL_TOLS = (1e-4, 1e-6, 1e-8, 1e-10)
TIGHT_GAPS = (1e-8, 1e-10)
L1_GAP = 1e-6
OUR_L1_TOLS = (1e-4, 1e-5, 1e-6, 1e-8)
SAGA_TOLS = (1e-3, 1e-4, 1e-5, 1e-6)
DEFAULT_TOL = 1e-4
SAGA_MAX_ITER = 100_000
THEIR_SOLVERS = ("newton-cholesky", "newton-cg")
#: An estimator whose first fit takes longer than this (seconds) is not
#: repeated: its time is that one fit's (newton-cholesky on the digits, whose
#: Hessian has 650 x 10 rows, takes several seconds a fit on 2 cores).
SLOW_FIT = 5.0

Dataset = tuple[np.ndarray, np.ndarray]


class Fit(NamedTuple):
    """One estimator at one setting: the last fit's model, the median time."""

    n_iter: int
    objective: float
    warned: bool
    seconds: float
    class_sum: float
    runs: int
    zeros: int


def objective(estimator: Any, X: np.ndarray, y: np.ndarray, C: float) -> float:
    """Mean log-loss plus ``||coef_||^2 / (2 C n)`` of a fitted multiclass
    model, from its ``coef_`` and ``intercept_``."""
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    classes = np.asarray(estimator.classes_)
    if coef.shape[0] != len(classes):
        raise ValueError("only multiclass models (one row of coef_ per class)")
    scores = X @ coef.T + intercept
    labels = np.searchsorted(classes, y)
    log_loss = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), labels])
    return float(log_loss + 0.5 / (C * len(y)) * np.sum(coef**2))


def l1_objective(estimator: Any, X: np.ndarray, y: np.ndarray, C: float) -> float:
    """Mean log-loss plus ``sum(|coef_|) / (C n)`` of a fitted model; a
    binary model's single row of ``coef_`` scores class 1 against a zero score
    for class 0."""
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    classes = np.asarray(estimator.classes_)
    scores = X @ coef.T + intercept
    if coef.shape[0] == 1 and len(classes) == 2:
        scores = np.column_stack([np.zeros(len(y)), scores[:, 0]])
    elif coef.shape[0] != len(classes):
        raise ValueError("coef_ has neither one row nor one row per class")
    labels = np.searchsorted(classes, y)
    log_loss = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), labels])
    return float(log_loss + np.sum(np.abs(coef)) / (C * len(y)))


def relative_gap(f: float, f_star: float) -> float:
    return (f - f_star) / abs(f_star)


def timed_fit(estimator: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, bool]:
    """Fit; return the seconds it took and whether a ConvergenceWarning was
    raised (other warnings are printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    warned = False
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            warned = True
        else:
            print(f"    {w.category.__name__}: {w.message}", flush=True)
    return seconds, warned


def alternate(
    makers: dict[str, Callable[[], Any]],
    X: np.ndarray,
    y: np.ndarray,
    repeats: int,
    objective: Callable[[Any, np.ndarray, np.ndarray, float], float] = objective,
) -> dict[str, Fit]:
    """Fit each estimator ``repeats`` times (once if its first fit took over
    ``SLOW_FIT`` seconds), the estimators alternating; the median time of each
    and its last fit's iterations, objective (by ``objective``), warning and
    zero coefficients."""
    times: dict[str, list[float]] = {name: [] for name in makers}
    last: dict[str, tuple[Any, bool]] = {}
    for _ in range(repeats):
        for name, make in makers.items():
            if times[name] and times[name][0] > SLOW_FIT:
                continue
            estimator = make()
            seconds, warned = timed_fit(estimator, X, y)
            times[name].append(seconds)
            last[name] = (estimator, warned)
    fits = {}
    for name, (estimator, warned) in last.items():
        fits[name] = Fit(
            n_iter=int(np.max(estimator.n_iter_)),
            objective=objective(estimator, X, y, C),
            warned=warned,
            seconds=statistics.median(times[name]),
            class_sum=float(np.max(np.abs(estimator.coef_.sum(axis=0)))),
            runs=len(times[name]),
            zeros=int(np.sum(estimator.coef_ == 0)),
        )
        print(
            f"    {name}: {fits[name].n_iter} iterations, {fits[name].seconds:.3g} s"
            f"{', warned' if warned else ''}",
            flush=True,
        )
    return fits


# Datasets ----------------------------------------------------------------------


def tail_data() -> Dataset:
    return make_classification(10_000, 10, n_informative=5, n_classes=3, random_state=0)


def anes96() -> Dataset | None:
    """anes96 (statsmodels): 944 x 5, the 7 party identifications; None
    without statsmodels."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    data = sm.datasets.anes96.load_pandas()
    return data.exog.to_numpy(dtype=np.float64), data.endog.to_numpy().astype(int)


def digits() -> Dataset:
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def dense_100k() -> Dataset:
    X, y = make_classification(
        100_000, 50, n_informative=30, n_classes=7, random_state=0
    )
    return StandardScaler().fit_transform(X), y


#: name -> (loader, whether times are single runs)
TIGHT_DATASETS: dict[str, tuple[Callable[[], Dataset | None], bool]] = {
    "anes96-like (statsmodels anes96, raw, 944 x 5, 7 classes)": (anes96, False),
    "digits, standardised (1797 x 64, 10 classes)": (digits, False),
    "make_classification 100k x 50, 7 classes, standardised": (dense_100k, True),
}


def l1_binary() -> Dataset:
    return make_classification(10_000, 10, n_informative=5, n_classes=2, random_state=0)


def l1_wide() -> Dataset:
    return make_classification(
        10_000, 100, n_informative=20, n_classes=3, random_state=0
    )


L1_DATASETS: dict[str, Callable[[], Dataset]] = {
    "make_classification 10k x 10, 2 classes": l1_binary,
    "make_classification 10k x 10, 3 classes": tail_data,
    "make_classification 10k x 100, 3 classes": l1_wide,
}


# Runs --------------------------------------------------------------------------


def ours(tol: float, **params: Any) -> Callable[[], SoftmaxRegressionClassifier]:
    return lambda: SoftmaxRegressionClassifier(C=C, tol=tol, **params)


def theirs(tol: float, solver: str, max_iter: int) -> Callable[[], LogisticRegression]:
    return lambda: LogisticRegression(C=C, tol=tol, solver=solver, max_iter=max_iter)


def run_tail(repeats: int) -> tuple[float, dict[float, dict[str, Fit]]]:
    X, y = tail_data()
    print(f"tail: {X.shape}", flush=True)
    reference = theirs(1e-12, "newton-cholesky", 1000)()
    timed_fit(reference, X, y)
    f_star = objective(reference, X, y, C)
    print(f"  reference {f_star:.15g} ({int(reference.n_iter_[0])} iterations)")
    rows = {}
    for tol in TAIL_TOLS:
        print(f"  tol={tol:g}", flush=True)
        rows[tol] = alternate(
            {"ours": ours(tol), "lbfgs": theirs(tol, "lbfgs", 10_000)},
            X,
            y,
            repeats,
        )
    return f_star, rows


def saga(tol: float, max_iter: int = SAGA_MAX_ITER) -> Callable[[], LogisticRegression]:
    return lambda: LogisticRegression(
        C=C, l1_ratio=1.0, solver="saga", tol=tol, max_iter=max_iter
    )


def warm_up() -> None:
    """One untimed L1 fit of ours: numba compiles the coordinate-descent
    kernel on first use (or loads it from its disk cache)."""
    X, y = l1_binary()
    start = time.perf_counter()
    ours(DEFAULT_TOL, l1_ratio=1.0)().fit(X, y)
    print(f"  warm-up L1 fit: {time.perf_counter() - start:.3g} s", flush=True)


class L1Result(NamedTuple):
    shape: tuple[int, ...]
    n_classes: int
    f_star: float
    reference: str
    #: candidate -> (objective, iterations, seconds, warned)
    reference_fits: dict[str, tuple[float, int, float, bool]]
    #: "ours 0.0001" / "saga 0.001" -> fit
    fits: dict[str, Fit]
    #: saga at all its defaults (max_iter=100), one fit
    saga_default: Fit


def run_l1(load: Callable[[], Dataset], repeats: int) -> L1Result:
    X, y = load()
    candidates = {
        "saga tol=1e-10": saga(1e-10)(),
        "sksoftmax tol=1e-10": ours(1e-10, l1_ratio=1.0)(),
    }
    reference_fits = {}
    for name, estimator in candidates.items():
        seconds, warned = timed_fit(estimator, X, y)
        value = l1_objective(estimator, X, y, C)
        n_iter = int(np.max(estimator.n_iter_))
        reference_fits[name] = (value, n_iter, seconds, warned)
        print(
            f"  reference candidate {name}: {value:.15g}, {n_iter} iterations, "
            f"{seconds:.3g} s{', warned' if warned else ''}",
            flush=True,
        )
    best = min(reference_fits, key=lambda name: reference_fits[name][0])
    makers: dict[str, Callable[[], Any]] = {}
    for our_tol, saga_tol in zip(OUR_L1_TOLS, SAGA_TOLS, strict=True):
        makers[f"ours {our_tol:g}"] = ours(our_tol, l1_ratio=1.0)
        makers[f"saga {saga_tol:g}"] = saga(saga_tol)
    fits = alternate(makers, X, y, repeats, l1_objective)
    default = alternate(
        {"saga defaults": saga(DEFAULT_TOL, 100)}, X, y, 1, l1_objective
    )
    return L1Result(
        X.shape,
        len(np.unique(y)),
        reference_fits[best][0],
        best,
        reference_fits,
        fits,
        default["saga defaults"],
    )


class TightResult(NamedTuple):
    shape: tuple[int, ...]
    f_star: float
    reference: str
    reference_objectives: dict[str, float]
    fits: dict[float, dict[str, Fit]]
    repeats: int


def run_tight(load: Callable[[], Dataset | None], repeats: int) -> TightResult | None:
    data = load()
    if data is None:
        return None
    X, y = data
    candidates = {
        "newton-cholesky tol=1e-14": theirs(1e-14, "newton-cholesky", 1000)(),
        "sksoftmax tol=1e-12": ours(1e-12)(),
    }
    values = {}
    for name, estimator in candidates.items():
        seconds, warned = timed_fit(estimator, X, y)
        values[name] = objective(estimator, X, y, C)
        print(
            f"  reference candidate {name}: {values[name]:.15g}, "
            f"{int(np.max(estimator.n_iter_))} iterations, {seconds:.3g} s"
            f"{', warned' if warned else ''}",
            flush=True,
        )
    best = min(values, key=values.__getitem__)
    fits = {}
    for gap in TIGHT_GAPS:
        print(f"  tol={gap:g}", flush=True)
        makers: dict[str, Callable[[], Any]] = {"ours": ours(gap)}
        for solver in THEIR_SOLVERS:
            makers[solver] = theirs(gap, solver, 1000)
        fits[gap] = alternate(makers, X, y, repeats)
    return TightResult(X.shape, values[best], best, values, fits, repeats)


# Output ------------------------------------------------------------------------


def fmt_gap(gap: float) -> str:
    return f"{gap:.1e}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def header(command: str, repeats: int) -> str:
    return (
        f"Command: `{command}`. sksoftmax {sksoftmax.__version__}, scikit-learn "
        f"{sklearn.__version__}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}; times are "
        f"medians of {repeats} fits (one for the 100k dataset, and for fits over "
        f"{SLOW_FIT:g} s), estimators fitted alternately in one process, default "
        "threads. Objective of the first two tables: mean log-loss + "
        "||coef||^2 / (2 C n), C=1; gap = (f - f*) / f*."
    )


def tail_table(f_star: float, rows: dict[float, dict[str, Fit]]) -> list[str]:
    lines = [
        "## Tail: make_classification 10k x 10, 3 classes",
        "",
        f"f* = {f_star:.15g} (LogisticRegression newton-cholesky, tol=1e-12). "
        "lbfgs: LogisticRegression(solver='lbfgs', max_iter=10_000). "
        "Class sum: the largest absolute value of our `coef_.sum(axis=0)`.",
        "",
        "| tol | ours: iterations | ours: gap | ours: warned | ours: s "
        "| lbfgs: iterations | lbfgs: gap | lbfgs: warned | lbfgs: s "
        "| time ratio ours/lbfgs | ours: class sum |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tol, fits in rows.items():
        a, b = fits["ours"], fits["lbfgs"]
        lines.append(
            f"| {tol:g} | {a.n_iter} | {fmt_gap(relative_gap(a.objective, f_star))} "
            f"| {yes_no(a.warned)} | {a.seconds:.3g} | {b.n_iter} "
            f"| {fmt_gap(relative_gap(b.objective, f_star))} | {yes_no(b.warned)} "
            f"| {b.seconds:.3g} | {a.seconds / b.seconds:.2f} | {a.class_sum:.1e} |"
        )
    return lines


def tight_table(results: dict[str, TightResult | None]) -> list[str]:
    lines = [
        "## Tight fits: time to relative gaps 1e-8 and 1e-10",
        "",
        "Each estimator fitted with tol equal to the target gap (LogisticRegression "
        "max_iter=1000). f* is the lower objective of newton-cholesky at tol=1e-14 "
        "and ours at tol=1e-12 (named per dataset below). Cells: achieved gap, "
        "time in s, iterations; * marks a ConvergenceWarning. Ratio: ours / the "
        "faster of the LogisticRegression solvers whose gap is at most the target.",
        "",
        "| dataset | target gap | ours | newton-cholesky | newton-cg "
        "| time ratio ours/fastest LR |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    for name, result in results.items():
        if result is None:
            notes.append(f"- {name}: skipped (statsmodels is not installed).")
            continue
        for target, fits in result.fits.items():
            cells = []
            for fit in fits.values():
                gap = relative_gap(fit.objective, result.f_star)
                runs = " (1 fit)" if fit.runs < result.repeats else ""
                cells.append(
                    f"{fmt_gap(gap)}, {fit.seconds:.3g} s{runs}, {fit.n_iter} it"
                    f"{' *' if fit.warned else ''}"
                )
            reached = [
                fits[solver].seconds
                for solver in THEIR_SOLVERS
                if relative_gap(fits[solver].objective, result.f_star) <= target
            ]
            ratio = (
                f"{fits['ours'].seconds / min(reached):.2f}"
                if reached
                else "n/a (neither reached it)"
            )
            if relative_gap(fits["ours"].objective, result.f_star) > target:
                ratio += " (ours did not reach it)"
            lines.append(f"| {name} | {target:g} | {' | '.join(cells)} | {ratio} |")
        others = ", ".join(
            f"{candidate}: {value:.15g}"
            for candidate, value in result.reference_objectives.items()
        )
        repeats = "1 fit" if result.repeats == 1 else f"median of {result.repeats}"
        notes.append(
            f"- {name}: f* from {result.reference} ({others}); times: {repeats}."
        )
    return [*lines, "", *notes]


def _best(
    fits: dict[str, Fit], prefix: str, tols: Sequence[float], f_star: float
) -> tuple[float, Fit, bool]:
    """The loosest of the ``prefix`` fits (``tols`` run from loose to tight)
    whose gap is at most ``L1_GAP`` (True), else the one with the smallest gap
    (False): its tol and fit."""
    candidates = [(tol, fits[f"{prefix} {tol:g}"]) for tol in tols]
    for tol, fit in candidates:
        if relative_gap(fit.objective, f_star) <= L1_GAP:
            return tol, fit, True
    tol, fit = min(candidates, key=lambda pair: pair[1].objective)
    return tol, fit, False


def _l1_cells(fit: Fit, f_star: float, repeats: int) -> str:
    runs = " (1 fit)" if fit.runs < repeats else ""
    return (
        f"{fit.n_iter} | {fmt_gap(relative_gap(fit.objective, f_star))} "
        f"| {yes_no(fit.warned)} | {fit.zeros} | {fit.seconds:.3g}{runs}"
    )


def l1_table(results: dict[str, L1Result], repeats: int) -> list[str]:
    lines = [
        "## L1 fits against saga: time to a relative gap of 1e-6",
        "",
        "C=1, l1_ratio=1, data not standardised. Objective: mean log-loss + "
        "(the sum of the absolute weights) / (C n) (binary: scores "
        "[0, X @ coef.T + b]). f* is the "
        "lower objective of saga at tol=1e-10 (max_iter=100_000) and ours at "
        "tol=1e-10 (named per dataset below). Ours: tol in 1e-4, 1e-5, 1e-6, "
        "1e-8; saga: LogisticRegression(solver='saga', l1_ratio=1, "
        "max_iter=100_000), tol in 1e-3, 1e-4, 1e-5, 1e-6; each column gives the "
        "fit at the loosest tol whose gap is at most 1e-6 (saga's iterations are "
        "epochs). "
        "Zeros: `coef_ == 0`. Speed-up: saga s / ours s.",
        "",
        "| dataset | ours: tol | ours: iterations | ours: gap | ours: warned "
        "| ours: zeros | ours: s | saga: tol | saga: iterations | saga: gap "
        "| saga: warned | saga: zeros | saga: s | saga s / ours s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    defaults = [
        "At the default tol (1e-4) of both (saga with max_iter=100_000: the fits "
        "above), and saga at all its defaults (max_iter=100, one fit):",
        "",
        "| dataset | ours: iterations | ours: gap | ours: warned | ours: zeros "
        "| ours: s | saga: iterations | saga: gap | saga: warned | saga: zeros "
        "| saga: s | saga s / ours s | saga max_iter=100: iterations, gap, warned "
        "| saga max_iter=100: s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, result in results.items():
        f_star = result.f_star
        our_tol, our_fit, our_ok = _best(result.fits, "ours", OUR_L1_TOLS, f_star)
        saga_tol, saga_fit, saga_ok = _best(result.fits, "saga", SAGA_TOLS, f_star)
        ratio = f"{saga_fit.seconds / our_fit.seconds:.1f}x"
        if not (our_ok and saga_ok):
            ratio += " (a gap above 1e-6: n/a)"
        lines.append(
            f"| {name} | {our_tol:g}{'' if our_ok else ' (none reached)'} "
            f"| {_l1_cells(our_fit, f_star, repeats)} "
            f"| {saga_tol:g}{'' if saga_ok else ' (none reached)'} "
            f"| {_l1_cells(saga_fit, f_star, repeats)} | {ratio} |"
        )
        a = result.fits[f"ours {DEFAULT_TOL:g}"]
        b = result.fits[f"saga {DEFAULT_TOL:g}"]
        d = result.saga_default
        defaults.append(
            f"| {name} | {_l1_cells(a, f_star, repeats)} "
            f"| {_l1_cells(b, f_star, repeats)} | {b.seconds / a.seconds:.1f}x "
            f"| {d.n_iter}, {fmt_gap(relative_gap(d.objective, f_star))}, "
            f"{yes_no(d.warned)} | {d.seconds:.3g} |"
        )
        others = ", ".join(
            f"{candidate}: {value:.15g} ({n_iter} iterations, {seconds:.3g} s"
            f"{', warned' if warned else ''})"
            for candidate, (value, n_iter, seconds, warned) in (
                result.reference_fits.items()
            )
        )
        shape = " x ".join(str(n) for n in result.shape)
        notes.append(
            f"- {name} ({shape}, {result.n_classes} classes): f* from "
            f"{result.reference} ({others})."
        )
    return [*lines, "", *defaults, "", *notes]


def main(argv: Sequence[str] | None = None) -> None:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parent / "results" / "tail.md"),
        help="the Markdown file (default: benchmarks/results/tail.md)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="fits per median (default: 3)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load_start = os.getloadavg()[0]
    f_star, rows = run_tail(args.repeats)
    tight: dict[str, TightResult | None] = {}
    for name, (load, single) in TIGHT_DATASETS.items():
        print(f"{name}", flush=True)
        tight[name] = run_tight(load, 1 if single else args.repeats)
    print("L1 fits", flush=True)
    warm_up()
    l1: dict[str, L1Result] = {}
    for name, load in L1_DATASETS.items():
        print(f"{name}", flush=True)
        l1[name] = run_l1(load, args.repeats)
    text = "\n".join(
        [
            "# The tail of a fit",
            "",
            header(command_line(argv, "bench_tail.py", "--output"), args.repeats),
            "",
            *tail_table(f_star, rows),
            "",
            *tight_table(tight),
            "",
            *l1_table(l1, args.repeats),
            "",
            f"Whole benchmark: {time.perf_counter() - start:.0f} s; 1-minute load "
            f"average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at "
            "the end.",
        ]
    )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
