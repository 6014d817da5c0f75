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
import scipy.optimize
from reference import newton_optimum, objective, smooth_gradient
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


def l1_reference_value(weights, intercept, X, y, sample_weight, C, l1_ratio, params):
    """The smaller of the fit's objective and that of SciPy's L-BFGS-B on the
    direct formula with the weights split into positive and negative parts
    (bounded below by zero, the L1 term linear in them), started from the
    fit and run to its own limits."""
    factors = params.get("penalty_factor")
    fit_intercept = params["fit_intercept"]
    n_rows, n_features = weights.shape
    f = np.ones(n_features) if factors is None else factors
    l1 = l1_ratio / (C * sample_weight.sum()) * np.broadcast_to(f, weights.shape)

    def unpack(x):
        positive = x[: weights.size].reshape(weights.shape)
        negative = x[weights.size : 2 * weights.size].reshape(weights.shape)
        b = x[2 * weights.size :] if fit_intercept else np.zeros(n_rows)
        return positive - negative, b

    def value_gradient(x):
        W, b = unpack(x)
        value = objective(W, b, X, y, sample_weight, C, l1_ratio, penalty_factor=f)
        grad_w, grad_b = smooth_gradient(
            W, b, X, y, sample_weight, C, l1_ratio, penalty_factor=f
        )
        parts = [(grad_w + l1).ravel(), (l1 - grad_w).ravel()]
        return value, np.concatenate(parts + ([grad_b] if fit_intercept else []))

    x0 = np.concatenate(
        [np.maximum(weights, 0).ravel(), np.maximum(-weights, 0).ravel()]
        + ([intercept] if fit_intercept else [])
    )
    bounds = [(0, None)] * (2 * weights.size) + [(None, None)] * (
        n_rows * fit_intercept
    )
    result = scipy.optimize.minimize(
        value_gradient, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 30},
    )  # fmt: skip
    value = value_gradient(x0)[0]
    return value, min(value, result.fun)


def fuzzed_l1_problem(seed):
    """:func:`fuzzed_problem` with features from 0.1 to 10 (where the
    reference reaches the optimum) and an L1 or elastic-net penalty."""
    X, y, sample_weight, params, C = fuzzed_problem(seed)
    rng = np.random.default_rng(seed + 10_000)
    X = X / np.sqrt((X**2).mean(axis=0)) * 10 ** rng.uniform(-1, 1, X.shape[1])
    l1_ratio = float(rng.choice([0.5, 1.0]))
    return X, y, sample_weight, params, min(C, 1e3), l1_ratio


@pytest.mark.parametrize(
    "seeds",
    [range(60), pytest.param(range(60, 400), marks=pytest.mark.exhaustive)],
    ids=["quick", "exhaustive"],
)
def test_no_converged_l1_fit_is_above_the_gap(seeds):
    gaps, warned = [], 0
    for seed in seeds:
        X, y, sample_weight, params, C, l1_ratio = fuzzed_l1_problem(seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = SoftmaxRegressionClassifier(C=C, l1_ratio=l1_ratio, **params)
            model.fit(X, y, sample_weight)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            warned += 1
            continue
        value, best = l1_reference_value(
            model.coef_, model.intercept_, X, y, sample_weight, C, l1_ratio, params
        )
        gaps.append((gap(value, best), seed))
    worst = max(gaps)
    assert worst[0] <= LARGEST_GAP, f"gap {worst[0]:.2e} at seed {worst[1]}"
    assert warned <= 0.05 * len(seeds)
