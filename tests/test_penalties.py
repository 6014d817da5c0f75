"""The L1 / elastic-net penalty (``l1_ratio``) and label smoothing.

References: ``LogisticRegression(solver="saga")``, which solves the same
elastic-net problem by a proximal stochastic method, and the subgradient
optimality conditions evaluated with the direct formulas of ``reference.py``.
"""

import warnings

import numpy as np
import pytest
from helpers import TIGHT, saga, standardised
from numpy.testing import assert_allclose, assert_array_equal
from reference import balanced, objective, smooth_gradient
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import SoftmaxRegressionClassifier


def effective_weights(y, sample_weight, class_weight):
    """sample_weight times the class weights ("balanced" or None)."""
    return sample_weight if class_weight is None else balanced(y, sample_weight)


@pytest.mark.parametrize(
    "dataset, C, saga_tol",
    [
        ("iris", 0.1, 1e-10),
        ("iris", 1.0, 1e-10),
        ("wine", 0.1, 1e-10),
        ("wine", 1.0, 1e-10),
        # saga needs thousands of epochs on the digits at tol=1e-10; at
        # C=0.01 and tol=1e-8 it is within 1e-13 of the optimum in ~3 s.
        ("digits", 0.01, 1e-8),
    ],
)
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_agrees_with_saga(dataset, C, saga_tol, l1_ratio):
    X, y = standardised(dataset)
    ours = SoftmaxRegressionClassifier(C=C, l1_ratio=l1_ratio, **TIGHT).fit(X, y)
    theirs = saga(C, l1_ratio, saga_tol).fit(X, y)
    ones = np.ones(len(y))
    f_ours = objective(ours.coef_, ours.intercept_, X, y, ones, C, l1_ratio)
    f_theirs = objective(theirs.coef_, theirs.intercept_, X, y, ones, C, l1_ratio)
    assert_allclose(f_ours, f_theirs, rtol=1e-6)
    assert_array_equal(np.abs(ours.coef_) > 1e-6, np.abs(theirs.coef_) > 1e-6)
    # The penalty makes the model sparse, with exact zeros.
    assert 0 < np.sum(ours.coef_ == 0) < ours.coef_.size


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_binary_elastic_net_is_logistic_regression_at_the_same_parameters(l1_ratio):
    # The binary model (class 0 the reference): saga's elastic net at the same
    # C and l1_ratio, with the same zeros.
    X, y = standardised("iris")
    X, y = X[50:], y[50:]
    C = 0.2
    ours = SoftmaxRegressionClassifier(C=C, l1_ratio=l1_ratio, **TIGHT).fit(X, y)
    theirs = saga(C, l1_ratio, 1e-12).fit(X, y)
    assert ours.coef_.shape == (1, 4)
    assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    assert_array_equal(ours.coef_ == 0, np.abs(theirs.coef_) < 1e-8)
    assert 0 < np.sum(ours.coef_ == 0) < ours.coef_.size
    assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
    ones = np.ones(len(y))
    assert_allclose(
        objective(ours.coef_, ours.intercept_, X, y - 1, ones, C, l1_ratio),
        objective(theirs.coef_, theirs.intercept_, X, y - 1, ones, C, l1_ratio),
        rtol=1e-10,
    )


@pytest.mark.parametrize("dataset", ["wine", "digits"])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_solution_satisfies_subgradient_optimality(
    dataset, l1_ratio, label_smoothing, class_weight
):
    X, y = standardised(dataset)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    C = 0.5
    clf = SoftmaxRegressionClassifier(
        C=C,
        l1_ratio=l1_ratio,
        label_smoothing=label_smoothing,
        class_weight=class_weight,
        **TIGHT,
    ).fit(X, y, sample_weight=sample_weight)
    weights = effective_weights(y, sample_weight, class_weight)
    grad_w, grad_b = smooth_gradient(
        clf.coef_, clf.intercept_, X, y, weights, C, l1_ratio, label_smoothing
    )
    l1 = l1_ratio / (C * weights.sum())
    zero = clf.coef_ == 0
    assert 0 < zero.sum() < zero.size
    # Zero weights: the smooth gradient lies in the L1 term's subdifferential.
    assert np.all(np.abs(grad_w[zero]) <= l1 + 1e-7)
    # Non-zero weights: the smooth gradient cancels the L1 term's gradient.
    assert_allclose(grad_w[~zero] + l1 * np.sign(clf.coef_[~zero]), 0, atol=1e-7)
    assert_allclose(grad_b, 0, atol=1e-7)


@pytest.mark.parametrize("dataset", ["wine", "digits"])
def test_lasso_threshold_of_C(dataset):
    # With r = 1, all weights are zero exactly when the largest gradient of the
    # cross-entropy at W = 0 (intercepts at the log class frequencies, where
    # P is the class frequencies) is at most r / (C S): C_max = 1 / (S max|g0|).
    X, y = standardised(dataset)
    n_samples, n_classes = len(y), len(np.unique(y))
    frequency = np.bincount(y) / n_samples
    residual = (frequency[None, :] - np.eye(n_classes)[y]) / n_samples
    C_max = 1.0 / (n_samples * np.abs(residual.T @ X).max())
    below = SoftmaxRegressionClassifier(C=0.9 * C_max, l1_ratio=1.0, **TIGHT)
    above = SoftmaxRegressionClassifier(C=1.2 * C_max, l1_ratio=1.0, **TIGHT)
    assert np.all(below.fit(X, y).coef_ == 0)
    log_frequency = np.log(frequency)
    assert_allclose(
        below.intercept_ - below.intercept_.mean(),
        log_frequency - log_frequency.mean(),
        atol=1e-6,
    )
    assert np.any(above.fit(X, y).coef_ != 0)


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_stronger_penalty_gives_fewer_non_zeros(l1_ratio):
    X, y = standardised("digits")
    counts = [
        np.count_nonzero(
            SoftmaxRegressionClassifier(C=C, l1_ratio=l1_ratio, **TIGHT).fit(X, y).coef_
        )
        for C in np.logspace(-3, 1, 9)
    ]
    # A lasso path need not be monotone: allow a drop of 2 between neighbours
    # (C spaced 3x apart), and require the path to grow from an empty model.
    assert all(b >= a - 2 for a, b in zip(counts, counts[1:], strict=False))
    assert counts[0] == 0 < counts[2] < counts[5] < counts[8]


def test_l1_ratio_zero_and_no_smoothing_are_the_plain_model():
    # The plain model: the optimum of the L2-penalised cross-entropy of
    # reference.py, with no exact zeros; and the two settings switch on
    # continuously, so that a vanishing L1 share or smoothing (each its own
    # path through the objective) ends next to it.
    X, y = standardised("wine")
    ones = np.ones(len(y))
    plain = SoftmaxRegressionClassifier(
        C=0.3, l1_ratio=0.0, label_smoothing=0.0, **TIGHT
    ).fit(X, y)
    grad_w, grad_b = smooth_gradient(plain.coef_, plain.intercept_, X, y, ones, 0.3)
    assert_allclose(grad_w, 0, atol=1e-7)
    assert_allclose(grad_b, 0, atol=1e-7)
    assert np.all(plain.coef_ != 0)
    for vanishing in ({"l1_ratio": 1e-9}, {"label_smoothing": 1e-9}):
        near = SoftmaxRegressionClassifier(C=0.3, **vanishing, **TIGHT).fit(X, y)
        assert_allclose(near.coef_, plain.coef_, atol=1e-6)
        assert_allclose(near.intercept_, plain.intercept_, atol=1e-6)
    # l1_ratio is ignored without a penalty (C=inf), as in LogisticRegression.
    unpenalised = [
        SoftmaxRegressionClassifier(C=np.inf, l1_ratio=r, tol=1e-6).fit(X[:60], y[:60])
        for r in (0.0, 1.0)
    ]
    assert_array_equal(unpenalised[0].coef_, unpenalised[1].coef_)


def test_label_smoothing_fit_agrees_with_direct_smoothed_objective():
    # An optimum of the smoothed objective, with L2 and sample weights: the
    # direct gradient vanishes, and it is not the plain model's optimum.
    X, y = standardised("iris")
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    clf = SoftmaxRegressionClassifier(C=2.0, label_smoothing=0.2, **TIGHT)
    clf.fit(X, y, sample_weight=sample_weight)
    grad_w, grad_b = smooth_gradient(
        clf.coef_, clf.intercept_, X, y, sample_weight, 2.0, 0.0, 0.2
    )
    assert_allclose(grad_w, 0, atol=1e-7)
    assert_allclose(grad_b, 0, atol=1e-7)
    plain_grad, _ = smooth_gradient(
        clf.coef_, clf.intercept_, X, y, sample_weight, 2.0, 0.0, 0.0
    )
    assert np.abs(plain_grad).max() > 1e-3


def test_label_smoothing_bounds_the_unpenalised_model():
    # Setosa is separable: without a penalty the plain model's weights run off
    # (to 40 or more) until the objective is flat. Smoothed targets have a finite
    # optimum, which the fit reaches without a warning.
    X, y = load_iris(return_X_y=True)
    eps = 0.1
    # The plain problem has no minimiser: its fit must not report convergence.
    with pytest.warns(ConvergenceWarning):
        plain = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SoftmaxRegressionClassifier(
            C=np.inf, label_smoothing=eps, tol=1e-7, max_iter=10000
        )
        clf.fit(X, y)
    grad_w, grad_b = smooth_gradient(
        clf.coef_, clf.intercept_, X, y, np.ones(len(y)), np.inf, 0.0, eps
    )
    # tol bounds the preconditioned gradient; in the user's units it is a few
    # times larger (the starting gradient is ~0.1).
    assert_allclose(grad_w, 0, atol=5e-7)
    assert_allclose(grad_b, 0, atol=5e-7)
    assert np.abs(clf.coef_).max() < 0.1 * np.abs(plain.coef_).max()
    assert (clf.predict(X) == y).mean() > 0.95


def test_warm_start_with_l1_continues_from_the_previous_solution():
    X, y = standardised("digits")
    clf = SoftmaxRegressionClassifier(C=0.1, l1_ratio=1.0, warm_start=True, **TIGHT)
    clf.fit(X, y)
    first = clf.n_iter_
    clf.fit(X, y)
    assert clf.n_iter_ < first / 4
    cold = SoftmaxRegressionClassifier(C=0.1, l1_ratio=1.0, **TIGHT).fit(X, y)
    assert_array_equal(clf.coef_ == 0, cold.coef_ == 0)


def test_elastic_net_without_intercept_agrees_with_saga():
    X, y = standardised("wine")
    X = X + 0.5  # away from the origin, where the intercept would matter
    ours = SoftmaxRegressionClassifier(
        C=0.1, l1_ratio=0.5, fit_intercept=False, **TIGHT
    ).fit(X, y)
    theirs = saga(0.1, 0.5, 1e-10).set_params(fit_intercept=False).fit(X, y)
    ones = np.ones(len(y))
    assert_array_equal(ours.intercept_, 0.0)
    assert_allclose(
        objective(ours.coef_, 0.0, X, y, ones, 0.1, 0.5),
        objective(theirs.coef_, 0.0, X, y, ones, 0.1, 0.5),
        rtol=1e-6,
    )
    assert_array_equal(np.abs(ours.coef_) > 1e-6, np.abs(theirs.coef_) > 1e-6)


def test_float32_l1_fit_keeps_exact_zeros():
    X, y = standardised("digits")
    clf64 = SoftmaxRegressionClassifier(C=0.05, l1_ratio=1.0, **TIGHT).fit(X, y)
    clf32 = SoftmaxRegressionClassifier(C=0.05, l1_ratio=1.0, **TIGHT)
    clf32.fit(X.astype(np.float32), y)
    assert clf32.coef_.dtype == np.float32
    # With r = 1 the optimum need not be unique (a shift common to all classes
    # can be free): compare objectives, evaluated in float64, and sparsity.
    ones = np.ones(len(y))
    f64 = objective(clf64.coef_, clf64.intercept_, X, y, ones, 0.05, 1.0)
    f32 = objective(
        clf32.coef_.astype(np.float64),
        clf32.intercept_.astype(np.float64),
        X,
        y,
        ones,
        0.05,
        1.0,
    )
    assert_allclose(f32, f64, rtol=1e-7)
    assert abs(np.mean(clf32.coef_ == 0) - np.mean(clf64.coef_ == 0)) < 0.01
    assert np.mean(clf32.coef_ == 0) > 0.5
