"""The information (the data term's Hessian) that the Newton steps and the
covariances sum over blocks of rows (sksoftmax._covariance.block_sums),
against the direct Kronecker formula ``sum_i s_i kron(diag(p_i) - p_i
p_i^T, x_i x_i^T)`` on the full data, and the row reductions of the softmax
against NumPy's and SciPy's."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special
from numpy.testing import assert_allclose

from sksoftmax._covariance import block_sums
from sksoftmax._loss import log_softmax, row_max, row_sum, softmax


def direct_information(X, sample_weight, weights, intercept, others):
    X1 = np.column_stack([X, np.ones(X.shape[0])])
    P = scipy.special.softmax(X @ weights.T + intercept, axis=1)[:, others]
    size = len(others) * X1.shape[1]
    information = np.zeros((size, size))
    for x, p, s in zip(X1, P, sample_weight, strict=True):
        information += s * np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))
    return information


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("reference", [None, 0, 1])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("block_entries", [64, 10**6])
def test_information_matches_the_direct_formula(
    n_classes, reference, sparse, block_entries
):
    rng = np.random.default_rng(n_classes)
    n, p = 150, 4
    X = rng.normal(size=(n, p)) * [1, 10, 0.1, 3]
    X[rng.random(size=X.shape) < 0.3] = 0.0
    sample_weight = rng.uniform(0, 2, n)
    # Large scores: probabilities near 0 and 1 in some rows.
    weights = rng.normal(size=(n_classes, p)) * 2
    intercept = rng.normal(size=n_classes)
    # All the classes (L1 fits), or all but a reference class: the first
    # (the fit's) or one in the middle (inference's choice).
    others = np.array([k for k in range(n_classes) if k != reference])
    expected = direct_information(X, sample_weight, weights, intercept, others)
    (information,) = block_sums(
        (sp.csr_matrix(X) if sparse else X, np.zeros(n, dtype=int), sample_weight),
        (weights, intercept),
        others=others,
        fit_intercept=True,
        cov_type="nonrobust",
        block_entries=block_entries,
        with_scatter=False,
    )
    assert_allclose(information, expected, rtol=1e-12, atol=1e-12 * abs(expected).max())


@pytest.mark.parametrize("n_classes", [1, 2, 3, 16])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_reductions_match_numpy(n_classes, dtype):
    rng = np.random.default_rng(n_classes)
    Z = (rng.normal(size=(300, n_classes)) * 50).astype(dtype)
    assert row_max(Z).dtype == dtype and row_sum(Z).dtype == dtype
    assert_allclose(row_max(Z), Z.max(axis=1), rtol=0)
    assert_allclose(
        row_sum(Z),
        Z.sum(axis=1),
        rtol=1e-5 if dtype == np.float32 else 1e-12,
        atol=1e-3,
    )


@pytest.mark.parametrize("n_classes", [2, 3, 16, 17, 40])
def test_softmax_matches_scipy(n_classes):
    rng = np.random.default_rng(n_classes)
    Z = rng.normal(size=(200, n_classes)) * 30
    assert_allclose(
        softmax(Z), scipy.special.softmax(Z, axis=1), rtol=1e-12, atol=1e-300
    )
    # The log-probabilities near 0 are logs of sums near 1: absolute
    # rounding.
    assert_allclose(
        log_softmax(Z), scipy.special.log_softmax(Z, axis=1), rtol=1e-12, atol=1e-15
    )
