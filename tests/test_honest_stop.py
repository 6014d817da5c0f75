"""A fit that reports convergence is near the optimum, in every regime.

The reference optimum of each problem is Newton's method with the exact
Hessian (:func:`reference.newton_optimum`), started from a tight fit. At the
default ``tol=1e-4`` a fit that ends without a ``ConvergenceWarning`` must be
within a relative objective gap of 1e-3, and within 1e-5 at ``tol=1e-6``:
whatever the scale of the features, the number of classes, how separable the
data are, the penalty, or the intercept.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from reference import newton_optimum, objective
from sklearn.datasets import load_digits, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._solver import remaining_gap_estimate


def raw_digits():
    # 600 of the 1,797 raw 0-16 images: 64 features, 10 classes, nearly
    # separable at C=100.
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


def raw_wine():
    # Features from 0.13 to 1,680.
    return load_wine(return_X_y=True)


def many_classes():
    return make_classification(
        1500, 10, n_informative=8, n_classes=30, n_clusters_per_class=1,
        random_state=0,
    )  # fmt: skip


def zipf_tfidf(n_samples=600, n_words=300, n_classes=5, seed=0):
    """Sparse text-like data: Zipf-distributed word counts plus a few topic
    words per class, tf-idf weighted, rows of unit norm."""
    rng = np.random.default_rng(seed)
    frequency = 1 / np.arange(1, n_words + 1) ** 1.1
    frequency /= frequency.sum()
    y = rng.integers(0, n_classes, n_samples)
    topics = rng.permutation(n_words)[: n_classes * 10].reshape(n_classes, 10)
    counts = np.zeros((n_samples, n_words))
    for row, label in zip(counts, y, strict=True):
        words = np.r_[
            rng.choice(n_words, 30, p=frequency), rng.choice(topics[label], 4)
        ]
        np.add.at(row, words, 1.0)
    counts *= np.log((1 + n_samples) / (1 + (counts > 0).sum(axis=0))) + 1
    counts /= np.linalg.norm(counts, axis=1, keepdims=True)
    return sp.csr_matrix(counts), y


def offset_features(offset=1000.0):
    # Every feature offset by 1,000: without an intercept the mean couples
    # every weight (before the mean had a variable of its own, the default
    # fit reported convergence 9.45e-3 above the optimum).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = rng.integers(0, 4, 300)
    X[np.arange(300), y % 5] += 1.0
    return X + offset, y


FAMILY = {
    "raw digits, C=1": (raw_digits, 1.0, True),
    "raw digits, C=100 (nearly separable)": (raw_digits, 100.0, True),
    "raw wine, C=10": (raw_wine, 10.0, True),
    "raw wine, tiny C=1e-4": (raw_wine, 1e-4, True),
    "raw wine, huge C=1e4": (raw_wine, 1e4, True),
    "30 classes": (many_classes, 1.0, True),
    "sparse Zipf tf-idf, C=10": (zipf_tfidf, 10.0, True),
    "sparse Zipf tf-idf, no intercept": (zipf_tfidf, 10.0, False),
    "features offset by 1000, no intercept": (offset_features, 1.0, False),
}


#: Exhaustive: their Newton references take tens of seconds, and the quick run
#: has their regimes (nearly separable: test_cv's path on raw digits; no
#: intercept: the offset features; sparse: tf-idf with an intercept).
EXHAUSTIVE = {
    "raw digits, C=100 (nearly separable)",
    "sparse Zipf tf-idf, no intercept",
}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(name, marks=pytest.mark.exhaustive) if name in EXHAUSTIVE else name
        for name in FAMILY
    ],
    ids=list(FAMILY),
)
def problem(request):
    load, C, fit_intercept = FAMILY[request.param]
    X, y = load()
    weights = np.ones(len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = SoftmaxRegressionClassifier(
            C=C, fit_intercept=fit_intercept, tol=1e-8, max_iter=20_000
        ).fit(X, y)
    optimum = newton_optimum(
        start.coef_, start.intercept_, X, y, weights, C, n_steps=20,
        fit_intercept=fit_intercept,
    )  # fmt: skip
    return X, y, C, fit_intercept, objective(*optimum, X, y, weights, C)


@pytest.mark.parametrize("tol, largest_gap", [(1e-4, 1e-3), (1e-6, 1e-5)])
def test_a_converged_fit_is_near_the_optimum(problem, tol, largest_gap):
    X, y, C, fit_intercept, best = problem
    clf = SoftmaxRegressionClassifier(
        C=C, fit_intercept=fit_intercept, tol=tol, max_iter=20_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    value = objective(clf.coef_, clf.intercept_, X, y, np.ones(len(y)), C)
    assert (value - best) / abs(best) <= largest_gap


def test_nearly_separable_data_at_the_defaults_reach_the_optimum():
    # The raw digits at C=1000: nearly separable. L-BFGS-B alone stopped at
    # max_iter=100 far above the optimum; the Newton finish reaches it
    # within the default max_iter, or the fit would warn.
    X, y = load_digits(return_X_y=True)
    weights = np.ones(len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SoftmaxRegressionClassifier(C=1000.0).fit(X, y)
    best = objective(
        *newton_optimum(clf.coef_, clf.intercept_, X, y, weights, 1000.0, n_steps=20),
        X, y, weights, 1000.0,
    )  # fmt: skip
    value = objective(clf.coef_, clf.intercept_, X, y, weights, 1000.0)
    assert (value - best) / best <= 1e-4


def test_a_fit_stopped_early_on_nearly_separable_data_warns():
    # The same nearly separable problem with a max_iter too small to reach
    # its optimum: the fit must say so.
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=10"):
        SoftmaxRegressionClassifier(C=1000.0, max_iter=10).fit(X, y)


def test_remaining_gap_estimate_of_a_geometric_decrease():
    # f_k = f* + g rho^k: the estimate is the rest of the series, exactly.
    rho, gap = 0.9, 0.5
    history = list(1.0 + gap * rho ** np.arange(41))
    assert remaining_gap_estimate(history) == pytest.approx(gap * rho**40, rel=1e-9)


def test_remaining_gap_estimate_of_a_crawl_and_of_a_stop():
    # A decrease that does not slow down has no limit in sight; none at all
    # leaves nothing to estimate.
    assert remaining_gap_estimate(list(1.0 - 1e-6 * np.arange(41))) == np.inf
    assert remaining_gap_estimate([1.0] * 41) == 0.0


def test_separable_data_without_penalty_warn_that_the_objective_still_falls():
    # Classes cut by one feature, C=inf: the optimum is at infinity. The
    # objective keeps falling towards zero, and the warning says why.
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 3))
    y = X[:, 0].astype(np.int64)
    model = SoftmaxRegressionClassifier(C=np.inf, tol=1e-6)
    with pytest.warns(ConvergenceWarning, match="classes are separated"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)


def test_a_crawl_after_a_fast_start_is_not_taken_for_an_end():
    # A warm start's first steps fall fast, then the objective crawls by the
    # same amount each iteration: the rate between the two windows (0.011)
    # alone would promise about 1e-4 left, while the crawl has no end in
    # sight, as the rate within the last window (1.0) says.
    history = [1.0, *(0.1 - 0.001 * np.arange(1, 21))]
    assert remaining_gap_estimate(history) == np.inf


def test_a_start_alone_is_no_evidence():
    # No iteration: nothing is known of the trend. One iteration that did
    # not lower the objective: a start at the optimum.
    assert remaining_gap_estimate([1.0]) == np.inf
    assert remaining_gap_estimate([1.0, 1.0]) == 0.0
    assert remaining_gap_estimate([1.0, 0.9]) == np.inf


@pytest.mark.parametrize("n_samples, seed", [(200, 0), (800, 1)])
def test_nearly_separable_raw_pixels_at_the_defaults_end_below_lbfgs(n_samples, seed):
    # Raw pixels of 0-255 (the digits times 16), n a few times p, C=1: at the
    # default max_iter the fit ends converged, with an objective no larger
    # than LogisticRegression's default lbfgs fit on the same data.
    X, y = load_digits(return_X_y=True)
    rows = np.random.default_rng(seed).choice(len(y), n_samples, replace=False)
    X, y = 16.0 * X[rows], y[rows]
    weights = np.ones(n_samples)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = SoftmaxRegressionClassifier(C=1.0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lbfgs = LogisticRegression(C=1.0).fit(X, y)
    value = objective(ours.coef_, ours.intercept_, X, y, weights, 1.0)
    assert value <= objective(lbfgs.coef_, lbfgs.intercept_, X, y, weights, 1.0)


@pytest.mark.parametrize(
    "n_features, tol, newton_expected",
    [
        # 5 x 101 contrasts: a Hessian costs more than _LBFGS_TAIL (100)
        # evaluations, so L-BFGS-B goes on to a tol within its reach
        # (1e-6, _LBFGS_TOL_FLOOR) by itself and stops there.
        (100, 1e-5, False),
        (100, 1e-6, False),
        # Below that reach, Newton steps finish the fit.
        (100, 5e-7, True),
        (100, 1e-8, True),
        # 5 x 11 contrasts: a Hessian is cheap, and Newton steps finish.
        (10, 1e-6, True),
    ],
)
def test_lbfgs_goes_on_to_moderate_tols_where_a_hessian_costs_more(
    n_features, tol, newton_expected
):
    X, y = make_classification(
        3000, n_features, n_informative=8, n_classes=6, random_state=1
    )
    X = X * np.logspace(-2, 2, n_features)
    methods = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = SoftmaxRegressionClassifier(tol=tol)._fit(
            X, y, callback=lambda step: methods.append(step.method)
        )
    assert ("Newton" in methods) == newton_expected
    # Newton steps finish from the hand-off: L-BFGS-B's part is that of a fit
    # at tol=1e-4. On the route, it goes further.
    handoff = []
    SoftmaxRegressionClassifier(tol=1e-4)._fit(
        X, y, callback=lambda step: handoff.append(step.method)
    )
    lbfgs, lbfgs_at_handoff = methods.count("L-BFGS-B"), handoff.count("L-BFGS-B")
    assert lbfgs == lbfgs_at_handoff if newton_expected else lbfgs > lbfgs_at_handoff
    reference = LogisticRegression(
        solver="newton-cholesky", tol=1e-12, max_iter=200
    ).fit(X, y)
    ours, theirs = (
        objective(m.coef_, m.intercept_, X, y, np.ones(len(y)), 1.0)
        for m in (fitted, reference)
    )
    assert ours - theirs <= tol * abs(theirs)
