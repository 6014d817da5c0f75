"""The CSR products of sksoftmax._sparse, compiled and SciPy's, against dense
NumPy products of the same matrix; and the loss kernel and the predictions on
both paths, in threads."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from reference import curvature as reference_curvature

from sksoftmax import _loss, _sparse
from sksoftmax._threads import one_blas_thread, thread_pool

PATHS = [
    pytest.param(False, id="scipy"),
    pytest.param(
        True,
        id="compiled",
        marks=pytest.mark.skipif(
            not _sparse.COMPILED, reason="numba (the 'numba' extra) not installed"
        ),
    ),
]
CONTAINERS = [sp.csr_matrix, sp.csr_array]


def messy_csr(rng, dtype, index_dtype, container, n_rows=23, n_features=9):
    """A CSR matrix with unsorted indices, duplicate entries and empty rows,
    and the dense float64 array of its entries."""
    rows, columns, values = [], [], []
    for i in range(n_rows):
        if i % 5 == 0:
            continue  # an empty row
        picked = rng.integers(0, n_features, size=rng.integers(1, 6))
        picked = np.concatenate([picked, picked[:1]])  # a duplicate entry
        rows += [i] * len(picked)
        columns += list(picked[::-1])  # not sorted
        values += list(rng.normal(size=len(picked)))
    values = np.asarray(values, dtype=dtype)
    dense = np.zeros((n_rows, n_features))
    np.add.at(dense, (rows, columns), values.astype(np.float64))
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(index_dtype)
    X = container(
        (values, np.asarray(columns, dtype=index_dtype), indptr),
        shape=(n_rows, n_features),
    )
    assert not X.has_canonical_format
    return X, dense


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize(
    ("dtype", "index_dtype"),
    [(np.float64, np.int32), (np.float64, np.int64), (np.float32, np.int32)],
)
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("canonical", [False, True])
def test_products_equal_dense_products(
    compiled, dtype, index_dtype, container, canonical
):
    rng = np.random.default_rng(0)
    X, dense = messy_csr(rng, dtype, index_dtype, container)
    if canonical:
        X = X.copy()
        X.sum_duplicates()
    rows = slice(4, 19)
    n_rows = rows.stop - rows.start
    tol = 1e-5 if dtype == np.float32 else 1e-12
    right = np.ascontiguousarray(rng.normal(size=(9, 4)), dtype=dtype)
    for out_dtype in (np.float64, dtype):
        out = np.full((n_rows, 4), np.nan, dtype=out_dtype)
        _sparse.times(X, rows, right, out, compiled=compiled)
        assert_allclose(out, dense[rows] @ right, rtol=tol, atol=tol)

    left = rng.normal(size=(n_rows, 4))
    start = rng.normal(size=(9, 4))
    out = start.copy()
    _sparse.transpose_times_add(X, rows, left, out, compiled=compiled)
    assert_allclose(out, start + dense[rows].T @ left, rtol=tol, atol=tol)

    start = rng.normal(size=(9, 2, 4))
    out = start.copy()
    _sparse.moments_transpose_times_add(X, rows, left, out, compiled=compiled)
    # The squares are those of the matrix's entries: duplicates summed first.
    assert_allclose(out[:, 0], start[:, 0] + dense[rows].T @ left, rtol=tol, atol=tol)
    expected = start[:, 1] + np.square(dense[rows]).T @ left
    assert_allclose(out[:, 1], expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("compiled", PATHS)
def test_products_reject_blocks_they_would_overrun(compiled):
    # The compiled loops do not check their bounds: the functions do.
    X, _ = messy_csr(np.random.default_rng(1), np.float64, np.int32, sp.csr_matrix)
    right = np.ones((9, 3))
    with pytest.raises(ValueError, match="block of 5"):
        _sparse.times(X, slice(0, 5), right, np.empty((6, 3)), compiled=compiled)
    with pytest.raises(ValueError, match="9 columns"):
        _sparse.times(X, slice(0, 5), right[:8], np.empty((5, 3)), compiled=compiled)
    with pytest.raises(ValueError, match="contiguous"):
        _sparse.transpose_times_add(
            X, slice(0, 10, 2), np.ones((5, 3)), np.zeros((9, 3)), compiled=compiled
        )
    with pytest.raises(ValueError, match="9 columns"):
        _sparse.moments_transpose_times_add(
            X, slice(0, 5), np.ones((5, 3)), np.zeros((10, 2, 3)), compiled=compiled
        )


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize(
    ("dtype", "index_dtype", "rtol"),
    [(np.float64, np.int32, 1e-10), (np.float32, np.int64, 1e-5)],
)
def test_loss_kernel_on_sparse_x_equals_dense_x(
    monkeypatch, compiled, dtype, index_dtype, rtol
):
    # The whole kernel on CSR X, over many blocks shared by two threads, against
    # the same kernel on the dense array (BLAS products).
    monkeypatch.setattr(_sparse, "COMPILED", compiled)
    rng = np.random.default_rng(2)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=3, dtype=dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    dense = X.toarray()
    y = rng.integers(0, 5, size=300)
    weight = rng.uniform(0.5, 2.0, size=300)
    weight /= weight.sum()
    coef = rng.normal(size=(5, 40))
    intercept = rng.normal(size=5)
    offset = dense.mean(axis=0, dtype=np.float64)
    with one_blas_thread(), thread_pool(2) as threads:
        assert threads.n_threads == 2
        loss, grad_w, grad_b = _loss.loss_gradient(
            coef, intercept, X, y, weight, 0.1, block_size=32, threads=threads
        )
        curvature_w, curvature_b = _loss.curvature(
            coef, intercept, X, weight, offset, block_size=32, threads=threads
        )
    dense_loss, dense_w, dense_b = _loss.loss_gradient(
        coef, intercept, dense, y, weight, 0.1
    )
    assert_allclose(loss, dense_loss, rtol=rtol)
    assert_allclose(grad_w, dense_w, rtol=rtol, atol=rtol * 1e-3)
    assert_allclose(grad_b, dense_b, rtol=rtol, atol=rtol * 1e-3)
    expected_w, expected_b = reference_curvature(coef, intercept, dense, weight, offset)
    assert_allclose(curvature_w, expected_w, rtol=rtol, atol=rtol * 1e-3)
    assert_allclose(curvature_b, expected_b, rtol=rtol)


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_predictions_on_sparse_x_equal_dense_x(monkeypatch, compiled, dtype):
    # Enough blocks of 16 rows for the predictions to share them among threads;
    # a two-dimensional output (probabilities) and a one-dimensional one (the
    # binary margin).
    monkeypatch.setattr(_sparse, "COMPILED", compiled)
    rng = np.random.default_rng(4)
    X = sp.random(400, 30, density=0.2, format="csr", random_state=5, dtype=dtype)
    dense = X.toarray()
    coef = rng.normal(size=(3, 30))
    intercept = rng.normal(size=3)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for n_classes, out_shape, transform in [
        (3, (400, 3), _loss.softmax),
        (2, (400,), _loss.two_class_margin),
    ]:
        ours = np.full(out_shape, np.nan, dtype=dtype)
        _loss.predict_blocks(
            X, coef[:n_classes], intercept[:n_classes], ours, transform, block_size=16
        )
        expected = transform(dense @ coef[:n_classes].T + intercept[:n_classes])
        assert ours.dtype == dtype
        assert_allclose(ours, expected, rtol=tol, atol=tol)
