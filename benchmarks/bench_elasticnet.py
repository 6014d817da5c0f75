"""Elastic net: SoftmaxRegressionClassifier against LogisticRegression(solver="saga").

Run from the repository root::

    python benchmarks/bench_elasticnet.py            # the full benchmark
    python benchmarks/bench_elasticnet.py --quick    # small sizes, a smoke test

Both estimators minimise the same objective, the mean cross-entropy plus
``(r ||W||_1 + (1 - r) ||W||^2 / 2) / (C S)``, with the same ``l1_ratio`` r and
C, on two datasets of ``bench_fit.py``: the dense 200,000 x 100 one and the
sparse CSR 100,000 x 50,000 one. The measure is the time until the objective
comes within a relative gap of 1e-6 of a reference optimum:

- sksoftmax: the time of its first fit at tol=1e-10 whose model is within
  the gap, found by refitting with a growing ``max_iter`` as
  ``bench_fit.py`` does for LogisticRegression (``refit_to_gap``), but
  bracketed first by a traced run. The solver's callback reports the
  objective it minimises, the split one over ``W+`` and ``W-`` (see
  ``sksoftmax._objective``), which exceeds the objective of the model
  ``W = W+ - W-`` wherever both parts of a weight are positive; the callback
  does not see the iterate, so it cannot subtract the excess. The split value
  is an upper bound, though: the iteration at which it first comes within the
  gap (the traced run stops there) is one at which the model is within it.
  Bisection fits truncated at ``max_iter`` = k, whose models are evaluated
  directly (``objective.value(coef_, intercept_)``, the model as ``fit``
  returns it), then look for an earlier one;
- saga has no per-iteration hook, so it runs from scratch with max_iter = 1,
  2, 4, 8, ... epochs (tol=1e-10, so that every run uses all of them) until a
  run reaches the gap; its time is that run's time. Doubling stops when the
  next run would overrun ``--time-limit``: the speed-up is then a lower bound,
  the time of the longest run that did not reach the gap over ours.

The reference optimum is the lower of a long sksoftmax run (tol=1e-12) and the
best saga run. Also reported: the default fit of sksoftmax (time, iterations,
gap, whether it converged) and the share of exactly zero weights in each
estimator's most accurate model, and where the two models' zero sets
(|coef| <= 1e-6) differ.
"""

import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
from agreement import saga
from bench_fit import (
    TARGET_GAP,
    dense_10,
    fit_once,
    fmt_time,
    refit_to_gap,
    results_parser,
    sparse_20,
    traced_fit,
    truncated_fits,
    write_results,
)
from sklearn.exceptions import ConvergenceWarning

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._backends._numpy import InMemoryData
from sksoftmax._objective import SoftmaxObjective
from sksoftmax._settings import FitSettings

#: Bisection fits below the iteration where the split objective reached the
#: gap: the least max_iter whose model reaches it is then known to 1/16 of it.
REFINE_FITS = 4

# Dataset name -> (loader, [(C, l1_ratio), ...]). How fast saga converges
# depends strongly on C, so the dense data is run at three values; on the sparse
# data one saga epoch takes minutes, so it is run at one C, where about 80% of
# the weights are zero.
DATASETS = {
    "dense 200k x 100, 10 classes": (dense_10, [(0.01, 0.5), (0.1, 0.5), (1.0, 0.5)]),
    "sparse CSR 100k x 50k, 100 nnz/row, 20 classes": (sparse_20, [(0.1, 0.5)]),
}


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def run_dataset(X, y, C, l1_ratio, args):
    classes = np.unique(y)
    # value(W, b) is the objective of the model W, b (no split, whatever the
    # parameterisation inside).
    objective = SoftmaxObjective(
        InMemoryData(X, np.searchsorted(classes, y), np.ones(len(y))),
        len(classes),
        FitSettings(C=C, l1_ratio=l1_ratio),
        precondition=False,
    )

    def value(estimator):
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        return objective.value(coef, np.asarray(estimator.intercept_, np.float64))

    reference = SoftmaxRegressionClassifier(
        C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=5_000
    )
    seconds = quiet_fit(reference, X, y)
    f_ref = value(reference)
    n_ref = int(reference.n_iter_[0])
    print(f"  reference {f_ref:.12g}: {n_ref} iterations, {seconds:.1f} s")

    # saga: doubling epoch budgets until a run reaches the gap.
    saga_runs = []  # (epochs, seconds, objective, model)
    epochs = 1
    spent = 0.0
    while True:
        model = saga(C, l1_ratio, tol=1e-10, max_iter=epochs)
        seconds = quiet_fit(model, X, y)
        spent += seconds
        saga_runs.append((epochs, seconds, value(model), model))
        gap = (saga_runs[-1][2] - f_ref) / abs(f_ref)
        print(f"  saga {epochs} epochs: {seconds:.1f} s, gap to reference {gap:.1e}")
        if gap <= TARGET_GAP or spent + 2 * seconds > args.time_limit:
            break
        epochs *= 2
    f_star = min(f_ref, min(run[2] for run in saga_runs))

    def gap(f):
        return (f - f_star) / abs(f_star)

    reached = [run for run in saga_runs if gap(run[2]) <= TARGET_GAP]
    saga_time = reached[0][1] if reached else np.inf
    saga_bound = max(run[1] for run in saga_runs)

    def within_gap(value):
        return gap(value) <= TARGET_GAP

    def ours(max_iter=1_000_000):
        return SoftmaxRegressionClassifier(
            C=C, l1_ratio=l1_ratio, tol=1e-10, max_iter=max_iter
        )

    # The split objective bounds the model's from above: where it is within the
    # gap, the model is; the search starts there and bisects below, with more
    # fits than bench_fit's (they are short next to saga's).
    trace = traced_fit(ours(), X, y, within_gap, args.time_limit)
    first = trace[-1][1] if trace else 1
    search = refit_to_gap(
        truncated_fits(ours, X, y, objective),
        within_gap,
        args.time_limit,
        first,
        refine=REFINE_FITS,
    )
    print(
        "  sksoftmax refits (max_iter: s, gap): "
        + ", ".join(f"{k}: {s:.3g}, {gap(f):.1e}" for k, s, f in search.fits),
        flush=True,
    )

    default = SoftmaxRegressionClassifier(C=C, l1_ratio=l1_ratio)
    default_seconds, default_iter, default_converged = fit_once(default, X, y)

    best_saga = saga_runs[-1][3]
    ours_support = np.abs(reference.coef_) > 1e-6
    saga_support = np.abs(best_saga.coef_) > 1e-6
    return {
        "C": C,
        "l1_ratio": l1_ratio,
        "ours time": search.time,
        "ours iterations": (
            f"({search.below}, {search.reached_at}]"
            if search.reached_at is not None
            else f"> {search.below}"
        ),
        "saga time": saga_time,
        "saga bound": saga_bound,
        "saga epochs": [(run[0], run[1], gap(run[2])) for run in saga_runs],
        "default time": default_seconds,
        "default iterations": default_iter,
        "default converged": default_converged,
        "default gap": gap(value(default)),
        "reference iterations": int(reference.n_iter_[0]),
        "ours zeros": float(np.mean(reference.coef_ == 0)),
        "saga zeros": float(np.mean(best_saga.coef_ == 0)),
        "support differences": int(np.sum(ours_support != saga_support)),
        "saga best gap": gap(saga_runs[-1][2]),
    }


def speedup(r):
    if not np.isfinite(r["ours time"]):
        return "sksoftmax did not reach it"
    if np.isfinite(r["saga time"]):
        return f"{r['saga time'] / r['ours time']:.1f}"
    return f"> {r['saga bound'] / r['ours time']:.1f}"


def markdown(results, args):
    lines = [
        f"Machine: {platform.machine()}, Python {platform.python_version()}, NumPy "
        f"{np.__version__}, SciPy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, sksoftmax {sksoftmax.__version__}. Command: "
        f"`python benchmarks/bench_elasticnet.py{' --quick' if args.quick else ''}`"
        f"; saga runs doubled until the gap or a {args.time_limit:g} s budget. "
        "sksoftmax: the first of its fits truncated at max_iter found within the "
        "gap, evaluated on its model; the least such max_iter lies in the "
        "interval shown, bracketed by a traced run's split objective and "
        f"{REFINE_FITS} bisection fits.",
        "",
        "| dataset | C | l1_ratio | sksoftmax time to gap 1e-6 (s) | sksoftmax "
        "iterations to gap 1e-6 | saga time to gap 1e-6 (s) | speed-up | zero "
        "weights (sksoftmax / saga) | zero sets differ at |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, _), r in results.items():
        saga_time = (
            f"{r['saga time']:.3g}"
            if np.isfinite(r["saga time"])
            else f"not reached (best gap {r['saga best gap']:.1e} after "
            f"{r['saga bound']:.3g} s)"
        )
        lines.append(
            f"| {name} | {r['C']:g} | {r['l1_ratio']:g} | "
            f"{fmt_time(r['ours time'])} | {r['ours iterations']} | {saga_time} | "
            f"{speedup(r)} | {r['ours zeros']:.1%} / {r['saga zeros']:.1%} | "
            f"{r['support differences']} weights |"
        )
    lines += [
        "",
        "saga runs (epochs: seconds, gap):",
        "",
    ]
    for (name, _), r in results.items():
        runs = ", ".join(f"{e}: {s:.3g} s, {g:.1e}" for e, s, g in r["saga epochs"])
        lines.append(f"- {name}, C={r['C']:g}: {runs}")
    lines += [
        "",
        "sksoftmax at default settings (tol=1e-4, max_iter=100):",
        "",
        "| dataset | C | fit time (s) | iterations | converged | objective gap | "
        "reference iterations |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, _), r in results.items():
        lines.append(
            f"| {name} | {r['C']:g} | {r['default time']:.3g} | "
            f"{r['default iterations']} | "
            f"{'yes' if r['default converged'] else 'no'} | {r['default gap']:.1e} | "
            f"{r['reference iterations']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = results_parser(__doc__.splitlines()[0], "elasticnet.md")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument(
        "--only", nargs="*", default=None, help="datasets whose name contains these"
    )
    args = parser.parse_args(argv)
    scale = 20 if args.quick else 1
    args.time_limit = args.time_limit or (10.0 if args.quick else 600.0)
    results = {}
    for name, (load, settings) in DATASETS.items():
        if args.only and not any(word in name for word in args.only):
            continue
        X, y = load(scale)
        for C, l1_ratio in settings:
            # The penalty is 1 / (C S): --quick's smaller datasets keep its
            # size with a C larger by the same factor.
            C *= scale
            print(f"{name}: {X.shape}, C={C:g}, l1_ratio={l1_ratio}", flush=True)
            results[name, C] = run_dataset(X, y, C, l1_ratio, args)
    write_results(markdown(results, args), args.out, "elasticnet.md")


if __name__ == "__main__":
    main()
