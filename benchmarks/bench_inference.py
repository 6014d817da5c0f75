"""Inference: fit + sksoftmax.inference + summary against statsmodels' MNLogit
fit + summary.

Run from the repository root::

    python benchmarks/bench_inference.py            # the full benchmark
    python benchmarks/bench_inference.py --quick    # small sizes, a smoke test

On each dataset and for each covariance type, one after the other on the same
data, each run once:

- ours: ``SoftmaxRegressionClassifier(C=np.inf, tol=1e-6)``'s fit, then
  ``inference(model, X, y, cov_type=...)`` and its ``summary()``;
- statsmodels: ``MNLogit(y, add_constant(X)).fit(method="newton",
  cov_type=...)`` (its default tolerance and iterations) and its
  ``summary()``.

A statsmodels user fits again for another covariance type; so does each row
here, for both. The table gives the times, their ratio (one run on a shared
2-core machine: the ratio, not the absolute times, is the claim), and how
closely the two agree: the largest difference of the coefficients in units of
statsmodels' standard errors, and the largest relative difference of the
standard errors.
"""

import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
import statsmodels
import statsmodels.api as sm
from bench_fit import command_line, results_parser, softmax_labels, write_results
from sklearn.exceptions import ConvergenceWarning

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier, inference

COV_TYPES = ["nonrobust", "HC0", "cluster"]
#: Groups of the cluster covariance: rows are assigned at random.
N_GROUPS = 200
#: The fit's tol: within a hundredth of a standard error of the optimum on
#: these data, so that inference does not warn.
TOL = 1e-6


def gaussian_scaled(scale):
    """100k x 50 Gaussian features on scales from 1e-2 to 1e2, labels drawn
    from a softmax model with 7 classes (the model inference assumes)."""
    rng = np.random.default_rng(0)
    n_samples, n_features = 100_000 // scale, 50
    X = rng.normal(size=(n_samples, n_features))
    X *= rng.permutation(np.logspace(-2, 2, n_features))
    return X, softmax_labels(X / X.std(axis=0), 7, rng)


def anes96(scale):
    """The American National Election Studies 1996 data (statsmodels)."""
    data = sm.datasets.anes96.load_pandas()
    return data.exog.to_numpy(), data.endog.to_numpy().astype(int)


DATASETS = {"Gaussian, scales 1e-2..1e2": gaussian_scaled, "anes96": anes96}


def run_ours(X, y, cov_type, groups):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model = SoftmaxRegressionClassifier(C=np.inf, tol=TOL, max_iter=1000)
        model.fit(X, y)
        fitted = time.perf_counter()
        kw = {"groups": groups} if cov_type == "cluster" else {}
        result = inference(model, X, y, cov_type=cov_type, **kw)
        result.summary()
        done = time.perf_counter()
    return {
        "fit": fitted - start,
        "inference": done - fitted,
        "seconds": done - start,
        "params": result.params,
        "bse": result.bse,
        "warned": sum(issubclass(w.category, ConvergenceWarning) for w in caught),
    }


def run_statsmodels(X, y, cov_type, groups):
    cov_kwds = {"groups": groups} if cov_type == "cluster" else None
    with warnings.catch_warnings():
        # statsmodels hands cov_type to its optimizer too, which says that it
        # ignores it.
        warnings.simplefilter("ignore", FutureWarning)
        start = time.perf_counter()
        model = sm.MNLogit(y, sm.add_constant(X, prepend=False))
        result = model.fit(
            method="newton", disp=0, cov_type=cov_type, cov_kwds=cov_kwds
        )
        result.summary()
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "params": np.asarray(result.params).T,
        "bse": np.asarray(result.bse).T,
        "iterations": result.mle_retvals["iterations"],
    }


def markdown(rows, args):
    lines = [
        "# Inference: standard errors against statsmodels",
        "",
        f"Command: `{args.command}`",
        "",
        f"sksoftmax {sksoftmax.__version__}, statsmodels {statsmodels.__version__}, "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}, SciPy "
        f"{scipy.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; one run each.",
        "",
        f"Ours: `SoftmaxRegressionClassifier(C=np.inf, tol={TOL:g})` fit, then "
        "`inference(...)` and `summary()`. statsmodels: `MNLogit(...).fit("
        'method="newton", cov_type=...)` and `summary()`. The cluster '
        f"covariance has {N_GROUPS} groups (rows assigned at random). "
        "'warned': ConvergenceWarnings of our fit and inference. Agreement: the "
        "largest absolute difference of the coefficients in units of "
        "statsmodels' standard errors, and the largest relative difference of "
        "the standard errors.",
        "",
        "| dataset | cov_type | ours: fit (s) | ours: inference + summary (s) "
        "| ours (s) | statsmodels (s) | ratio | max coef diff / se "
        "| max se rel. diff | warned |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = []
    for (name, cov_type), (ours, theirs) in rows.items():
        ratios.append(theirs["seconds"] / ours["seconds"])
        coef = np.max(np.abs(ours["params"] - theirs["params"]) / theirs["bse"])
        se = np.max(np.abs(ours["bse"] / theirs["bse"] - 1))
        lines.append(
            f"| {name} | {cov_type} | {ours['fit']:.2f} | {ours['inference']:.2f} "
            f"| {ours['seconds']:.2f} | {theirs['seconds']:.2f} "
            f"| {theirs['seconds'] / ours['seconds']:.1f} | {coef:.1e} | {se:.1e} "
            f"| {ours['warned']} |"
        )
    lines += [
        "",
        f"Smallest ratio: {min(ratios):.1f}; median {np.median(ratios):.1f}.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = results_parser(__doc__.splitlines()[0], "inference.md")
    args = parser.parse_args(argv)
    args.command = command_line(argv, "bench_inference.py")
    scale = 20 if args.quick else 1
    rows = {}
    # Imports and first calls (BLAS, statsmodels' summary) outside the timings.
    X, y = anes96(1)
    run_ours(X, y, "nonrobust", None)
    run_statsmodels(X, y, "nonrobust", None)
    for label, load in DATASETS.items():
        X, y = load(scale)
        name = f"{label} {X.shape[0]} x {X.shape[1]}, {len(np.unique(y))} classes"
        groups = np.random.default_rng(1).integers(0, N_GROUPS, size=len(y))
        for cov_type in COV_TYPES:
            print(f"{name}, {cov_type}", flush=True)
            ours = run_ours(X, y, cov_type, groups)
            theirs = run_statsmodels(X, y, cov_type, groups)
            rows[name, cov_type] = ours, theirs
    write_results(markdown(rows, args), args.out, "inference.md")


if __name__ == "__main__":
    main()
