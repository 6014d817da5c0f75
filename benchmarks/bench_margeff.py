"""Marginal effects: InferenceResult.get_margeff against statsmodels'
MNLogit get_margeff, time and peak memory.

Run from the repository root::

    python benchmarks/bench_margeff.py            # the full benchmark
    python benchmarks/bench_margeff.py --quick    # small sizes, a smoke test

Gaussian features (50, on scales from 1e-2 to 1e2) and 7 classes drawn from a
softmax model. On each size, both models are fitted first (ours:
``SoftmaxRegressionClassifier(C=np.inf, tol=1e-8)`` and ``inference``;
statsmodels: ``MNLogit(...).fit(method="newton")``), then only the average
marginal effects with their standard errors (``get_margeff()``, dydx over all
rows) are timed, once each, with the peak memory that tracemalloc sees (NumPy's
allocations) during the call. statsmodels' Jacobian is taken by central
differences in the parameters and its memory grows with the rows times the
parameters: it runs only up to ``STATSMODELS_ROWS``; beyond, its column says
why not. The agreement column is the largest relative difference of the
standard errors. One run on a shared 2-core machine: the ratios, not the
absolute times, are the claim.
"""

import platform
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from bench_fit import command_line, results_parser, softmax_labels, write_results

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier, inference

N_FEATURES = 50
#: --quick: fewer features (its rows must leave the classes unseparated).
QUICK_FEATURES = 10
N_CLASSES = 7
#: Rows up to which statsmodels runs (it held 3.7 GB at 2,000 rows).
STATSMODELS_ROWS = 4000
#: The 2,000,000 rows show the memory bounded by blocks (X alone is 800 MB).
SIZES = [1000, 2000, 4000, 100_000, 2_000_000]
QUICK_SIZES = [500, 1000]


def data(n_samples, n_features):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features))
    X *= rng.permutation(np.logspace(-2, 2, n_features))
    return X, softmax_labels(X / X.std(axis=0), N_CLASSES, rng)


def timed(function):
    """``function()``'s result, seconds and peak traced memory (bytes)."""
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def ours(X, y):
    model = SoftmaxRegressionClassifier(C=np.inf, tol=1e-8, max_iter=1000).fit(X, y)
    result = inference(model, X, y)
    effects, seconds, peak = timed(result.get_margeff)
    return effects.margeff_se, seconds, peak


def theirs(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(
            method="newton", disp=0, maxiter=100
        )

        def margeff():
            effects = fitted.get_margeff()
            return np.asarray(effects.margeff_se)

        return timed(margeff)


def markdown(rows, args):
    lines = [
        "# Marginal effects: get_margeff against statsmodels",
        "",
        f"Command: `{args.command}`",
        "",
        f"sksoftmax {sksoftmax.__version__}, statsmodels {statsmodels.__version__}, "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; one run each, {args.n_features} features, "
        f"{N_CLASSES} classes; average effects (dydx) and their standard "
        "errors. Peak memory: what tracemalloc sees during the call.",
        "",
        "| rows | ours (s) | statsmodels (s) | ratio | ours: peak (MB) "
        "| statsmodels: peak (MB) | max se rel. diff |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for n_samples, (mine, other) in rows.items():
        se, seconds, peak = mine
        if other is None:
            lines.append(
                f"| {n_samples:,} | {seconds:.3g} | not run (memory) | | "
                f"{peak / 1e6:.0f} | | |"
            )
            continue
        their_se, their_seconds, their_peak = other
        ratio = their_seconds / seconds
        ratios.append(ratio)
        difference = np.max(np.abs(se / their_se - 1))
        lines.append(
            f"| {n_samples:,} | {seconds:.3g} | {their_seconds:.3g} | {ratio:.0f} "
            f"| {peak / 1e6:.0f} | {their_peak / 1e6:.0f} | {difference:.1e} |"
        )
    lines += ["", f"Smallest ratio: {min(ratios):.0f}.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = results_parser(__doc__.splitlines()[0], "margeff.md")
    args = parser.parse_args(argv)
    args.command = command_line(argv, "bench_margeff.py")
    rows = {}
    args.n_features = QUICK_FEATURES if args.quick else N_FEATURES
    for n_samples in QUICK_SIZES if args.quick else SIZES:
        X, y = data(n_samples, args.n_features)
        print(f"{n_samples} rows", flush=True)
        mine = ours(X, y)
        other = theirs(X, y) if n_samples <= STATSMODELS_ROWS else None
        rows[n_samples] = mine, other
    write_results(markdown(rows, args), args.out, "margeff.md")


if __name__ == "__main__":
    main()
