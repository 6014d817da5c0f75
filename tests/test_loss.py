"""The fused loss/gradient kernel and the preconditioned objective.

References are independent of the package: a direct dense formula with
``scipy.special.log_softmax`` on the full one-hot matrix, and central finite
differences.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from reference import objective as reference_objective
from reference import smooth_gradient
from scipy.special import softmax
from threadpoolctl import threadpool_limits

from sksoftmax._loss import block_rows, loss_gradient, predict_blocks
from sksoftmax._loss import softmax as stable_softmax
from sksoftmax._objective import SoftmaxObjective
from sksoftmax._solver import minimize_lbfgs


def make_problem(n_samples=57, n_features=6, n_classes=4, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 10, n_features)
    X += rng.normal(size=n_features) * 3
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(n_classes, size=n_samples)
    y[:n_classes] = np.arange(n_classes)
    sample_weight = rng.uniform(0.0, 3.0, size=n_samples)
    weights = rng.normal(size=(n_classes, n_features)) * 0.3
    intercept = rng.normal(size=n_classes)
    return X, y, sample_weight, weights, intercept


def reference_gradient(weights, intercept, X, y, sample_weight, label_smoothing=0.0):
    """Gradient of the unpenalised weighted mean, as ``R^T X`` on the full data."""
    return smooth_gradient(
        weights, intercept, X, y, sample_weight, np.inf, 0.0, label_smoothing
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("block_size", [1, 7, 16, 57, 1000])
def test_kernel_matches_direct_formula(sparse, block_size):
    X, y, sw, weights, intercept = make_problem(sparse=sparse)
    loss, grad_w, grad_b = loss_gradient(
        weights, intercept, X, y, sw / sw.sum(), block_size=block_size
    )
    expected_w, expected_b = reference_gradient(weights, intercept, X, y, sw)
    assert_allclose(
        loss, reference_objective(weights, intercept, X, y, sw, np.inf), rtol=1e-12
    )
    assert_allclose(grad_w, expected_w, rtol=1e-10, atol=1e-12)
    assert_allclose(grad_b, expected_b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.1, 0.5])
def test_label_smoothing_kernel_matches_direct_formula(sparse, label_smoothing):
    X, y, sw, weights, intercept = make_problem(sparse=sparse, seed=6)
    loss, grad_w, grad_b = loss_gradient(
        weights, intercept, X, y, sw / sw.sum(), label_smoothing, block_size=10
    )
    expected = reference_objective(
        weights, intercept, X, y, sw, np.inf, label_smoothing=label_smoothing
    )
    expected_w, expected_b = reference_gradient(
        weights, intercept, X, y, sw, label_smoothing
    )
    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(grad_w, expected_w, rtol=1e-10, atol=1e-12)
    assert_allclose(grad_b, expected_b, rtol=1e-10, atol=1e-12)
    # Smoothing changes the loss: the test would notice an ignored eps.
    plain = loss_gradient(weights, intercept, X, y, sw / sw.sum(), block_size=10)
    assert abs(plain[0] - loss) > 1e-3


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
    objective = SoftmaxObjective(
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
    theta = objective.theta(weights, intercept)
    assert theta.size == objective.n_params
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


def test_float32_kernel_matches_float64():
    X, y, sw, weights, intercept = make_problem(n_samples=300)
    sw = sw / sw.sum()
    loss64, gw64, gb64 = loss_gradient(weights, intercept, X, y, sw)
    loss32, gw32, gb32 = loss_gradient(weights, intercept, X.astype(np.float32), y, sw)
    assert gw32.dtype == np.float64
    assert_allclose(loss32, loss64, rtol=1e-6)
    assert_allclose(gw32, gw64, rtol=1e-4, atol=1e-6)
    assert_allclose(gb32, gb64, rtol=1e-4, atol=1e-6)


def test_extreme_net_inputs_stay_finite():
    # Net inputs of +-1e4: naive exp overflows; log-sum-exp must not.
    X = np.array([[1.0], [-1.0], [1.0]])
    y = np.array([0, 0, 1])
    weights = np.array([[1e4], [-1e4], [0.0]])
    intercept = np.zeros(3)
    sw = np.full(3, 1 / 3)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad_w, grad_b = loss_gradient(weights, intercept, X, y, sw)
        proba = stable_softmax(X @ weights.T + intercept)
    assert np.isfinite(loss) and np.all(np.isfinite(grad_w))
    assert np.all(np.isfinite(grad_b)) and np.all(np.isfinite(proba))
    # Z rows: [1e4, -1e4, 0] (true class 0: loss 0), [-1e4, 1e4, 0] (true class
    # 0: loss 2e4), [1e4, -1e4, 0] (true class 1: loss 2e4).
    assert_allclose(loss, 4e4 / 3, rtol=1e-12)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_preconditioning_leaves_coefficients_unchanged(l1_ratio):
    X, y, sw, weights, intercept = make_problem(seed=3)
    objective = SoftmaxObjective(
        X, y, sw, 4, C=1.0, fit_intercept=True, l1_ratio=l1_ratio
    )
    assert not np.allclose(objective.scale, 1.0)
    assert not np.allclose(objective.offset, 0.0)
    round_trip = objective.coef(objective.theta(weights, intercept))
    assert_allclose(round_trip[0], weights, rtol=1e-13)
    assert_allclose(round_trip[1], intercept, rtol=1e-12, atol=1e-12)


def test_l1_split_parts_are_bounded_and_disjoint():
    X, y, sw, weights, intercept = make_problem(seed=3)
    weights[0, :3] = 0.0
    objective = SoftmaxObjective(X, y, sw, 4, C=1.0, fit_intercept=True, l1_ratio=1.0)
    theta = objective.theta(weights, intercept)
    n_weights = weights.size
    positive, negative = theta[:n_weights], theta[n_weights : 2 * n_weights]
    assert theta.size == 2 * n_weights + 4
    assert np.all(positive >= 0) and np.all(negative >= 0)
    assert np.all(np.minimum(positive, negative) == 0)
    bounds = objective.bounds()
    assert np.all(bounds.lb[: 2 * n_weights] == 0)
    assert np.all(np.isneginf(bounds.lb[2 * n_weights :]))
    assert np.all(np.isposinf(bounds.ub))
    # The L2 path has no bounds.
    assert SoftmaxObjective(X, y, sw, 4, C=1.0, fit_intercept=True).bounds() is None


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_threads_share_blocks_without_changing_the_result(sparse, n_threads):
    X, y, sw, weights, intercept = make_problem(n_samples=101, sparse=sparse, seed=4)
    sw = sw / sw.sum()
    with threadpool_limits(limits=1, user_api="blas"):
        threaded = loss_gradient(
            weights, intercept, X, y, sw, block_size=10, n_threads=n_threads
        )
    expected_w, expected_b = reference_gradient(weights, intercept, X, y, sw)
    assert_allclose(threaded[0], loss_gradient(weights, intercept, X, y, sw)[0])
    assert_allclose(threaded[1], expected_w, rtol=1e-10, atol=1e-12)
    assert_allclose(threaded[2], expected_b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_preconditioned_and_plain_fits_reach_the_same_optimum(sparse, fit_intercept):
    X, y, sw, _, _ = make_problem(n_samples=300, n_features=5, sparse=sparse, seed=5)
    solutions = []
    for precondition in (False, True):
        objective = SoftmaxObjective(
            X, y, sw, 4, C=2.0, fit_intercept=fit_intercept, precondition=precondition
        )
        theta, _ = minimize_lbfgs(
            objective.loss_gradient,
            objective.initial_theta(),
            tol=1e-10,
            max_iter=20000,
        )
        solutions.append(objective.coef(theta))
    (w_plain, b_plain), (w_pre, b_pre) = solutions
    f_plain = reference_objective(w_plain, b_plain, X, y, sw, C=2.0)
    f_pre = reference_objective(w_pre, b_pre, X, y, sw, C=2.0)
    assert_allclose(f_pre, f_plain, rtol=1e-10)
    # The plain run stops on ftol ~1e-5 off in the weights of its small-scale
    # feature, where the objective is flattest.
    assert_allclose(w_pre - w_pre.mean(0), w_plain - w_plain.mean(0), atol=1e-4)
    assert_allclose(b_pre - b_pre.mean(), b_plain - b_plain.mean(), atol=1e-4)


def test_memory_is_bounded_by_blocks_not_by_samples():
    # 100,000 samples x 300 classes: one n_samples x n_classes float64 array is
    # 240 MB; the kernel may allocate only block-sized arrays and the gradient.
    rng = np.random.default_rng(6)
    n_samples, n_features, n_classes = 100_000, 20, 300
    X = rng.normal(size=(n_samples, n_features))
    y = rng.integers(n_classes, size=n_samples)
    sw = np.full(n_samples, 1 / n_samples)
    weights = rng.normal(size=(n_classes, n_features))
    intercept = np.zeros(n_classes)
    block = block_rows(X, n_classes)
    budget = 6 * block * n_classes * 8 + 4 * n_classes * n_features * 8
    assert budget < n_samples * n_classes * 8 / 10
    tracemalloc.start()
    try:
        loss_gradient(weights, intercept, X, y, sw)
        peak_fit = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        out = np.empty((n_samples, n_classes))
        base = tracemalloc.get_traced_memory()[0]
        predict_blocks(X, weights, intercept, out, stable_softmax)
        peak_predict = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak_fit < budget
    assert peak_predict < budget
    assert_allclose(out, softmax(X @ weights.T, axis=1), rtol=1e-10, atol=1e-300)
