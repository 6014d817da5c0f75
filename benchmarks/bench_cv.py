"""Tuning C by cross-validation: SoftmaxRegressionCV against LogisticRegressionCV
and GridSearchCV.

Run from the repository root::

    python benchmarks/bench_cv.py            # the full benchmark
    python benchmarks/bench_cv.py --quick    # small sizes, a smoke test

On each dataset the three searches run once, one after the other, on the same
data with the same folds (``StratifiedKFold(5, shuffle=True,
random_state=0)``), the same 10 Cs (``np.logspace(-4, 4, 10)``) and the same
scoring (``neg_log_loss``), each at its default ``tol`` and ``max_iter``, with
``n_jobs=1`` and the refit on all the data included:

- ``SoftmaxRegressionCV``;
- ``LogisticRegressionCV`` (lbfgs), the same model;
- ``GridSearchCV(SoftmaxRegressionClassifier())`` over ``C``: a cold fit per C
  and fold.

The table gives each search's time, the ratios of the other two to ours (one
run on a shared 2-core machine: ratios, not absolute times, are the claim),
the C each chose, and how many of its fits warned that they did not converge.

Agreement with GridSearchCV is measured twice: at the default tol on every
dataset (the chosen C and the largest difference of mean fold scores), and at
a tight tol (1e-8) on the smaller datasets, where both searches' fits are
within float64's reach of the optimum.

The elastic-net grid (``l1_ratios``) runs on the small dense dataset against
``LogisticRegressionCV(solver="saga")``, both at their defaults.
"""

import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
from bench_fit import (
    command_line,
    dense_10,
    dense_scaled,
    results_parser,
    softmax_labels,
    write_results,
    zipf_text,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV

CS = np.logspace(-4, 4, 10)
L1_RATIOS = [0.0, 0.5, 1.0]
SCORING = "neg_log_loss"
#: The tol of the agreement runs.
TIGHT_TOL = 1e-8


def small_dense(scale):
    """20,000 x 60 standardised features, 8 classes from a softmax model (the
    data of the issue's measurement)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(20_000 // scale, 60)) * rng.uniform(0.5, 2.0, 60)
    y = softmax_labels(X, 8, rng, noise=2.0)
    return StandardScaler().fit_transform(X), y


def unscaled(scale):
    """bench_fit's features of scales 1e-3 to 1e4, at half its size."""
    return dense_scaled(2 * scale)


# Dataset name -> (loader, whether the tight agreement runs on it).
DATASETS = {
    "small dense 20k x 60, 8 classes": (small_dense, True),
    "dense 200k x 100, 10 classes": (dense_10, False),
    "unscaled 50k x 50, 7 classes, scales 1e-3..1e4": (unscaled, False),
    "sparse Zipf tf-idf 20k x 5k, 20 classes": (zipf_text, True),
}


def logistic_regression_cv(**params):
    """LogisticRegressionCV at its defaults, with the new attribute layout and
    an explicit l1_ratios where this scikit-learn has them (no warnings)."""
    names = LogisticRegressionCV().get_params()
    if "use_legacy_attributes" in names:
        params.setdefault("use_legacy_attributes", False)
        params.setdefault("l1_ratios", (0.0,))
    elif "l1_ratios" in params:
        params["penalty"] = "elasticnet"
    return LogisticRegressionCV(**params)


def timed(search, X, y):
    """Fit; the seconds and the number of ConvergenceWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
    n_warned = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, n_warned


def chosen_C(search):
    if isinstance(search, GridSearchCV):
        return float(search.best_params_["C"])
    return float(np.ravel(search.C_)[0])


def mean_scores(search):
    """Mean fold scores over the Cs, shape (n_Cs,)."""
    if isinstance(search, GridSearchCV):
        return search.cv_results_["mean_test_score"]
    return search.scores_.mean(axis=0)


def run_dataset(X, y, folds, tight):
    searches = {
        "sksoftmax": SoftmaxRegressionCV(Cs=CS, cv=folds, scoring=SCORING),
        "LogisticRegressionCV": logistic_regression_cv(
            Cs=CS, cv=folds, scoring=SCORING
        ),
        "GridSearchCV": GridSearchCV(
            SoftmaxRegressionClassifier(), {"C": CS}, cv=folds, scoring=SCORING
        ),
    }
    result = {}
    for name, search in searches.items():
        seconds, n_warned = timed(search, X, y)
        result[name] = dict(seconds=seconds, warned=n_warned, C=chosen_C(search))
        print(f"  {name}: {seconds:.2f} s, C={result[name]['C']:.3g}", flush=True)
    ours, grid = searches["sksoftmax"], searches["GridSearchCV"]
    result["default agreement"] = dict(
        same_C=chosen_C(ours) == chosen_C(grid),
        score_diff=float(np.max(np.abs(mean_scores(ours) - mean_scores(grid)))),
    )
    if tight:
        settings = dict(tol=TIGHT_TOL, max_iter=10_000)
        ours = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring=SCORING, **settings)
        grid = GridSearchCV(
            SoftmaxRegressionClassifier(**settings),
            {"C": CS},
            cv=folds,
            scoring=SCORING,
        )
        timed(ours, X, y)
        timed(grid, X, y)
        result["tight agreement"] = dict(
            same_C=chosen_C(ours) == chosen_C(grid),
            score_diff=float(np.max(np.abs(mean_scores(ours) - mean_scores(grid)))),
        )
    return result


def run_elastic_net(X, y, folds):
    searches = {
        "sksoftmax": SoftmaxRegressionCV(
            Cs=CS, l1_ratios=L1_RATIOS, cv=folds, scoring=SCORING
        ),
        "LogisticRegressionCV(saga)": logistic_regression_cv(
            Cs=CS, l1_ratios=L1_RATIOS, solver="saga", cv=folds, scoring=SCORING
        ),
    }
    result = {}
    for name, search in searches.items():
        seconds, n_warned = timed(search, X, y)
        result[name] = dict(
            seconds=seconds,
            warned=n_warned,
            C=chosen_C(search),
            l1_ratio=float(np.ravel(search.l1_ratio_)[0]),
        )
        print(f"  {name}: {seconds:.2f} s", flush=True)
    return result


def ratio(theirs, ours):
    return f"{theirs / ours:.1f}"


def markdown(results, elastic, args):
    lines = [
        "# Tuning C by cross-validation",
        "",
        f"Command: `{args.command}`",
        "",
        f"sksoftmax {sksoftmax.__version__}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}; one run each.",
        "",
        "5 stratified folds, 10 Cs from 1e-4 to 1e4, neg_log_loss, default tol "
        "and max_iter, n_jobs=1, refit included. 'warned': fits that raised a "
        "ConvergenceWarning (of the 51 fits of each search).",
        "",
        "| dataset | SoftmaxRegressionCV (s) | LogisticRegressionCV (s) | ratio "
        "| GridSearchCV(ours) (s) | ratio | C: ours / LRCV / grid "
        "| warned: ours / LRCV / grid |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios_lr, ratios_grid = [], []
    for name, r in results.items():
        ours, lr, grid = r["sksoftmax"], r["LogisticRegressionCV"], r["GridSearchCV"]
        ratios_lr.append(lr["seconds"] / ours["seconds"])
        ratios_grid.append(grid["seconds"] / ours["seconds"])
        lines.append(
            f"| {name} | {ours['seconds']:.2f} | {lr['seconds']:.2f} "
            f"| {ratio(lr['seconds'], ours['seconds'])} | {grid['seconds']:.2f} "
            f"| {ratio(grid['seconds'], ours['seconds'])} "
            f"| {ours['C']:.3g} / {lr['C']:.3g} / {grid['C']:.3g} "
            f"| {ours['warned']} / {lr['warned']} / {grid['warned']} |"
        )
    lines += [
        "",
        f"Median ratio over the datasets: LogisticRegressionCV / ours "
        f"{np.median(ratios_lr):.1f}, GridSearchCV / ours "
        f"{np.median(ratios_grid):.1f}.",
        "",
        "## Agreement with GridSearchCV(SoftmaxRegressionClassifier)",
        "",
        "| dataset | tol | same C | max difference of mean fold scores |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        for key, tol in (("default agreement", "1e-4"), ("tight agreement", "1e-8")):
            if key in r:
                a = r[key]
                lines.append(
                    f"| {name} | {tol} | {'yes' if a['same_C'] else 'no'} "
                    f"| {a['score_diff']:.1e} |"
                )
    name, r = elastic
    ours, saga = r["sksoftmax"], r["LogisticRegressionCV(saga)"]
    lines += [
        "",
        "## Elastic-net grid",
        "",
        f"{name}: l1_ratios {L1_RATIOS} x the 10 Cs, the same folds and scoring, "
        "both at their defaults.",
        "",
        "| search | time (s) | ratio | C, l1_ratio | warned |",
        "|---|---|---|---|---|",
        f"| SoftmaxRegressionCV | {ours['seconds']:.2f} | 1.0 "
        f"| {ours['C']:.3g}, {ours['l1_ratio']:g} | {ours['warned']} |",
        f"| LogisticRegressionCV(saga) | {saga['seconds']:.2f} "
        f"| {ratio(saga['seconds'], ours['seconds'])} "
        f"| {saga['C']:.3g}, {saga['l1_ratio']:g} | {saga['warned']} |",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = results_parser(__doc__.splitlines()[0], "cv.md")
    args = parser.parse_args(argv)
    args.command = command_line(argv, "bench_cv.py")
    scale = 20 if args.quick else 1

    results, elastic = {}, None
    for name, (load, tight) in DATASETS.items():
        X, y = load(scale)
        print(f"{name}: {X.shape}", flush=True)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
        results[name] = run_dataset(X, y, folds, tight)
        if elastic is None:
            print("elastic net:", flush=True)
            elastic = (name, run_elastic_net(X, y, folds))
    write_results(markdown(results, elastic, args), args.out, "cv.md")


if __name__ == "__main__":
    main()
