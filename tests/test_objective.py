"""The preconditioned, penalised objective over the flat parameter vector.

References: the direct formula of ``reference.py`` and central finite
differences.
"""

import numpy as np
import pytest
from helpers import in_memory_objective, make_problem
from numpy.testing import assert_allclose, assert_array_equal
from reference import objective as reference_objective

# (l1_ratio, label_smoothing): the L2 path, the split L1 path with smoothing,
# and the pure L1 path.
PENALTIES = [(0.0, 0.0), (0.5, 0.2), (1.0, 0.0)]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("precondition", [False, True])
@pytest.mark.parametrize("l1_ratio, label_smoothing", PENALTIES)
def test_objective_gradient_matches_finite_differences(
    sparse, fit_intercept, weighted, precondition, l1_ratio, label_smoothing
):
    X, y, sw, weights, intercept = make_problem(sparse=sparse, seed=1)
    if not weighted:
        sw = np.ones_like(sw)
    objective = in_memory_objective(
        X,
        y,
        sw,
        4,
        C=0.7,
        fit_intercept=fit_intercept,
        l1_ratio=l1_ratio,
        label_smoothing=label_smoothing,
        precondition=precondition,
    )
    theta = objective.pack(weights, intercept)
    assert theta.size == objective.layout.n_params
    value, grad = objective.loss_gradient(theta)
    if not fit_intercept:
        intercept = np.zeros_like(intercept)
    expected = reference_objective(
        weights, intercept, X, y, sw, 0.7, l1_ratio, label_smoothing
    )
    assert_allclose(value, expected, rtol=1e-12)
    step = 1e-6
    numerical = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = step
        plus = objective.loss_gradient(theta + e)[0]
        minus = objective.loss_gradient(theta - e)[0]
        numerical[j] = (plus - minus) / (2 * step)
    assert_allclose(grad, numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_preconditioning_leaves_coefficients_unchanged(l1_ratio):
    X, y, sw, weights, intercept = make_problem(seed=3)
    objective = in_memory_objective(
        X, y, sw, 4, C=1.0, fit_intercept=True, l1_ratio=l1_ratio
    )
    assert not np.allclose(objective.layout.scale, 1.0)
    assert not np.allclose(objective.layout.offset, 0.0)
    round_trip = objective.unpack(objective.pack(weights, intercept))
    assert_allclose(round_trip[0], weights, rtol=1e-13)
    assert_allclose(round_trip[1], intercept, rtol=1e-12, atol=1e-12)


def test_l1_split_parts_are_bounded_and_disjoint():
    X, y, sw, weights, intercept = make_problem(seed=3)
    weights[0, :3] = 0.0
    objective = in_memory_objective(
        X, y, sw, 4, C=1.0, fit_intercept=True, l1_ratio=1.0
    )
    theta = objective.pack(weights, intercept)
    n_weights = weights.size
    positive, negative = theta[:n_weights], theta[n_weights : 2 * n_weights]
    assert theta.size == 2 * n_weights + 4
    # W+ holds the positive weights, W- the negative ones, both zero where a
    # weight is: only then is the linear penalty on W+ + W- the L1 norm of W.
    assert_array_equal(positive > 0, weights.ravel() > 0)
    assert_array_equal(negative > 0, weights.ravel() < 0)
    assert_array_equal((positive == 0) & (negative == 0), weights.ravel() == 0)
    round_trip = objective.unpack(theta)
    assert_allclose(round_trip[0], weights, rtol=1e-13)
    assert_allclose(round_trip[1], intercept, rtol=1e-12, atol=1e-12)
    assert_allclose(
        objective.loss_gradient(theta)[0],
        reference_objective(weights, intercept, X, y, sw, 1.0, 1.0),
        rtol=1e-12,
    )
    bounds = objective.bounds()
    assert np.all(bounds.lb[: 2 * n_weights] == 0)
    assert np.all(np.isneginf(bounds.lb[2 * n_weights :]))
    assert np.all(np.isposinf(bounds.ub))
    # The L2 path has no bounds.
    assert in_memory_objective(X, y, sw, 4, C=1.0, fit_intercept=True).bounds() is None


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_following_the_curvature_keeps_the_point_and_the_objective(
    sparse, fit_intercept, l1_ratio
):
    # make_problem's features sit far from zero: without an intercept and the
    # L1 split, the mean has a variable of its own.
    X, y, sw, weights, intercept = make_problem(sparse=sparse, seed=4)
    objective = in_memory_objective(
        X, y, sw, 4, C=1.0, fit_intercept=fit_intercept, l1_ratio=l1_ratio
    )
    if not fit_intercept:
        intercept = np.zeros(4)
        assert (objective.layout.mean_direction is not None) == (l1_ratio == 0)
    theta = objective.pack(weights, intercept)
    value, gradient = objective.loss_gradient(theta)
    before = objective.layout
    rescaled, moved, moved_gradient = objective.rescaled(theta, gradient)
    # A new objective over a new layout; the old one is unchanged.
    assert objective.layout is before
    assert_array_equal(objective.loss_gradient(theta)[1], gradient)
    assert not np.allclose(rescaled.layout.scale, before.scale)
    if moved_gradient is not None:
        # The gradient in the new variables without an evaluation: the same
        # as evaluating there.
        assert_allclose(
            moved_gradient, rescaled.loss_gradient(moved)[1], rtol=1e-10, atol=1e-14
        )
    assert_allclose(rescaled.unpack(moved)[0], weights, rtol=1e-12, atol=1e-14)
    assert_allclose(rescaled.unpack(moved)[1], intercept, rtol=1e-12, atol=1e-12)
    assert_allclose(rescaled.loss_gradient(moved)[0], value, rtol=1e-13)
    assert_allclose(
        reference_objective(weights, intercept, X, y, sw, 1.0, l1_ratio),
        value,
        rtol=1e-12,
    )
    objective = rescaled
    # The gradient in the new variables, by central differences.
    _, grad = objective.loss_gradient(moved)
    rng = np.random.default_rng(0)
    for i in rng.choice(moved.size, 8, replace=False):
        step = np.zeros_like(moved)
        step[i] = 1e-6 * max(1.0, abs(moved[i]))
        if objective.layout.l1_split:
            # Stay inside the bounds: a forward difference from the point.
            difference = (objective.loss_gradient(moved + step)[0] - value) / step[i]
            assert difference == pytest.approx(grad[i], rel=1e-3, abs=1e-6)
            continue
        difference = (
            objective.loss_gradient(moved + step)[0]
            - objective.loss_gradient(moved - step)[0]
        ) / (2 * step[i])
        assert difference == pytest.approx(grad[i], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
def test_after_following_the_curvature_the_hessian_diagonal_is_one(sparse):
    # The scales are the square roots of the curvature (data term plus
    # penalty) at the point: second differences of the objective along each
    # variable are one there.
    X, y, sw, weights, intercept = make_problem(sparse=sparse, seed=6)
    objective = in_memory_objective(X, y, sw, 4, C=1.0, fit_intercept=True)
    objective, theta, _ = objective.rescaled(objective.pack(weights, intercept))
    value = objective.loss_gradient(theta)[0]
    h = 1e-4
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        second = (
            objective.loss_gradient(theta + step)[0]
            - 2 * value
            + objective.loss_gradient(theta - step)[0]
        ) / h**2
        assert second == pytest.approx(1.0, rel=1e-4)
