"""The fused loss/gradient kernel, the feature moments and the block predictions.

References are independent of the package: a direct dense formula with
``scipy.special.log_softmax`` on the full one-hot matrix.
"""

import tracemalloc

import numpy as np
import pytest
from helpers import make_problem
from numpy.testing import assert_allclose
from reference import curvature as reference_curvature
from reference import objective as reference_objective
from reference import smooth_gradient
from scipy.special import softmax
from threadpoolctl import threadpool_limits

from sksoftmax._loss import (
    block_rows,
    curvature,
    feature_moments,
    loss_gradient,
    predict_blocks,
)
from sksoftmax._loss import softmax as stable_softmax
from sksoftmax._threads import thread_pool


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


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_threads_share_blocks_without_changing_the_result(sparse, n_threads):
    X, y, sw, weights, intercept = make_problem(n_samples=101, sparse=sparse, seed=4)
    sw = sw / sw.sum()
    with threadpool_limits(limits=1, user_api="blas"), thread_pool(n_threads) as pool:
        assert pool.n_threads == n_threads
        threaded = loss_gradient(
            weights, intercept, X, y, sw, block_size=10, threads=pool
        )
    expected_w, expected_b = reference_gradient(weights, intercept, X, y, sw)
    assert_allclose(threaded[0], loss_gradient(weights, intercept, X, y, sw)[0])
    assert_allclose(threaded[1], expected_w, rtol=1e-10, atol=1e-12)
    assert_allclose(threaded[2], expected_b, rtol=1e-10, atol=1e-12)


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


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("block_size", [1, 10, 1000])
def test_feature_moments_match_the_direct_formula(sparse, block_size):
    X, _, sw, _, _ = make_problem(sparse=sparse, seed=7)
    dense = X.toarray() if sparse else X
    offset = np.random.default_rng(0).normal(size=X.shape[1]) * 5
    first, second = feature_moments(X, sw, offset, block_size=block_size)
    assert_allclose(first, sw @ dense, rtol=1e-12)
    assert_allclose(second, sw @ (dense - offset) ** 2, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("block_size", [1, 16, 1000])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_curvature_matches_direct_formula(sparse, block_size, dtype):
    # sum_i s_i q_ik (x_ij - o_j)^2 and sum_i s_i q_ik, q = p (1 - p), with
    # weights and an offset far from zero (sparse X is expanded about zero).
    X, y, sw, weights, intercept = make_problem(sparse=sparse)
    X = X.astype(dtype)
    offset = np.random.default_rng(1).normal(size=X.shape[1]) * 5
    s = sw / sw.sum()
    by_weight, by_class = curvature(
        weights, intercept, X, s, offset, block_size=block_size
    )
    expected = reference_curvature(weights, intercept, X, sw, offset)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    assert_allclose(by_weight, expected[0], rtol=rtol)
    assert_allclose(by_class, expected[1], rtol=rtol)


def test_curvature_is_the_diagonal_of_the_hessian():
    # Second differences of the loss along single weights (with b + W @ offset
    # held fixed) and along single intercepts.
    X, y, sw, weights, intercept = make_problem(n_features=3, n_classes=3)
    s = sw / sw.sum()
    offset = X.mean(axis=0)
    by_weight, by_class = curvature(weights, intercept, X, s, offset)
    h = 1e-4

    def loss(w, b):
        return loss_gradient(w, b, X, y, s)[0]

    for k, j in [(0, 0), (1, 2), (2, 1)]:
        step = np.zeros_like(weights)
        step[k, j] = h
        # Moving W_kj by h moves b_k by -h offset_j: the centred variables.
        shift = -step @ offset
        second = (
            loss(weights + step, intercept + shift)
            - 2 * loss(weights, intercept)
            + loss(weights - step, intercept - shift)
        ) / h**2
        assert second == pytest.approx(by_weight[k, j], rel=1e-5)
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        second = (
            loss(weights, intercept + step)
            - 2 * loss(weights, intercept)
            + loss(weights, intercept - step)
        ) / h**2
        assert second == pytest.approx(by_class[k], rel=1e-5)


def test_curvature_in_threads_equals_serial():
    X, y, sw, weights, intercept = make_problem(n_samples=500)
    s = sw / sw.sum()
    offset = X.mean(axis=0)
    serial = curvature(weights, intercept, X, s, offset, block_size=64)
    with threadpool_limits(1), thread_pool(2) as threads:
        threaded = curvature(
            weights, intercept, X, s, offset, block_size=64, threads=threads
        )
    for a, b in zip(serial, threaded, strict=True):
        assert_allclose(a, b, rtol=1e-13)
