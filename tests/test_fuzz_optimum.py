"""No converged claim above a 1e-3 gap: fuzzed problems of the families where
claims broke (small n, features from 1e-3 to 1e4, near separation, C up to
1e6, with and without intercept, penalty factors, sample weights), cold fits
and warm starts along a path, against an independent optimum.

The reference optimum is Newton's method with the exact Hessian of the
direct formula (:func:`reference.newton_optimum`), started from the fit; the
best of it and the fit is taken as the optimum, so that a reference that
fails to improve cannot make a fit look worse than it is. A fit that ends
without a ``ConvergenceWarning`` must be within a relative objective gap of
1e-3 (and, since most should converge, most must).
"""

import warnings

import numpy as np
import pytest
from reference import newton_optimum, objective
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import SoftmaxRegressionClassifier, softmax_regression_path

LARGEST_GAP = 1e-3
CS = [1e-2, 1.0, 1e2, 1e4, 1e6]


def fuzzed_problem(seed):
    """Small, unscaled, sometimes nearly separable data and fit settings."""
    rng = np.random.default_rng(seed)
    n_samples = int(rng.integers(8, 60))
    n_features = int(rng.integers(1, 7))
    n_classes = int(rng.integers(2, 5))
    X = rng.normal(size=(n_samples, n_features))
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    if rng.uniform() < 0.5:
        # Nearly separable: the classes pulled apart along the first feature.
        X[:, 0] += rng.uniform(1, 4) * y
    X *= 10 ** rng.uniform(-3, 4, n_features)
    sample_weight = np.ones(n_samples)
    if rng.uniform() < 0.5:
        sample_weight = rng.uniform(0.2, 3.0, n_samples)
    params = {"fit_intercept": bool(rng.uniform() < 0.7)}
    if rng.uniform() < 0.3:
        params["penalty_factor"] = rng.uniform(0.5, 2.0, n_features)
    return X, y, sample_weight, params, float(rng.choice(CS))


def optimum_value(weights, intercept, X, y, sample_weight, C, params):
    """The fit's objective, and the smaller of it and that of Newton's method
    from the fit."""
    factors = params.get("penalty_factor")
    value = objective(
        weights, intercept, X, y, sample_weight, C, penalty_factor=factors
    )
    best = newton_optimum(
        weights, intercept, X, y, sample_weight, C, n_steps=50,
        fit_intercept=params["fit_intercept"], penalty_factor=factors,
    )  # fmt: skip
    reference = objective(*best, X, y, sample_weight, C, penalty_factor=factors)
    if not np.isfinite(reference):
        reference = value
    return value, min(value, reference)


def gap(value, best):
    return (value - best) / abs(best)


def check_fits(seeds, fit):
    """Fit each seed's problem with ``fit``; the gaps of the converged fits,
    and how many warned."""
    gaps, warned = [], 0
    for seed in seeds:
        X, y, sample_weight, params, C = fuzzed_problem(seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for weights, intercept, C_fit in fit(X, y, sample_weight, params, C):
                value, best = optimum_value(
                    weights, intercept, X, y, sample_weight, C_fit, params
                )
                gaps.append((gap(value, best), seed, C_fit))
        warned += any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            # Which fit warned is not recorded: drop the seed's gaps.
            gaps = [g for g in gaps if g[1] != seed]
    return gaps, warned


def cold(X, y, sample_weight, params, C):
    model = SoftmaxRegressionClassifier(C=C, **params).fit(X, y, sample_weight)
    yield model.coef_, model.intercept_, C


def path(X, y, sample_weight, params, C):
    # A path through every C of the families, each fit warm-started.
    fits = softmax_regression_path(X, y, CS, sample_weight=sample_weight, **params)
    yield from zip(fits.coefs, fits.intercepts, CS, strict=True)


SEEDS = range(120)
EXHAUSTIVE_SEEDS = range(120, 1200)


@pytest.mark.parametrize(
    "seeds",
    [SEEDS, pytest.param(EXHAUSTIVE_SEEDS, marks=pytest.mark.exhaustive)],
    ids=["quick", "exhaustive"],
)
@pytest.mark.parametrize("fit", [cold, path])
def test_no_converged_fit_is_above_the_gap(seeds, fit):
    gaps, warned = check_fits(seeds, fit)
    worst = max(gaps)
    message = f"gap {worst[0]:.2e} at seed {worst[1]}, C={worst[2]}"
    assert worst[0] <= LARGEST_GAP, message
    # The fits reach the optimum, not only warn: at most 5% of the problems
    # end with a warning.
    assert warned <= 0.05 * len(seeds)
