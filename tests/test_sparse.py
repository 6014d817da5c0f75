"""The CSR products of sksoftmax._sparse, compiled and SciPy's, against dense
NumPy products of the same matrix; and the loss kernel on both paths."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from reference import curvature as reference_curvature

from sksoftmax import _loss, _sparse

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


def messy_csr(rng, dtype, index_dtype, n_rows=23, n_features=9):
    """A CSR matrix with unsorted indices, duplicate entries and empty rows,
    and the dense array it stands for."""
    rows, columns, values = [], [], []
    for i in range(n_rows):
        if i % 5 == 0:
            continue  # an empty row
        count = rng.integers(1, 6)
        picked = rng.integers(0, n_features, size=count)
        picked = np.concatenate([picked, picked[:1]])  # a duplicate entry
        rows += [i] * len(picked)
        columns += list(picked[::-1])  # not sorted
        values += list(rng.normal(size=len(picked)))
    dense = np.zeros((n_rows, n_features))
    np.add.at(dense, (rows, columns), values)
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(index_dtype)
    X = sp.csr_matrix(
        (
            np.asarray(values, dtype=dtype),
            np.asarray(columns, dtype=index_dtype),
            indptr,
        ),
        shape=(n_rows, n_features),
    )
    assert not X.has_canonical_format
    return X, dense.astype(dtype).astype(np.float64)


CASES = [
    (np.float64, np.int32),
    (np.float64, np.int64),
    (np.float32, np.int32),
]


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize(("dtype", "index_dtype"), CASES)
@pytest.mark.parametrize("canonical", [False, True])
def test_products_equal_dense_products(compiled, dtype, index_dtype, canonical):
    rng = np.random.default_rng(0)
    X, dense = messy_csr(rng, dtype, index_dtype)
    if canonical:
        X = X.copy()
        X.sum_duplicates()
    rows = slice(4, 19)
    n_rows = rows.stop - rows.start
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    right = np.ascontiguousarray(rng.normal(size=(9, 4)), dtype=dtype)
    out = np.full((n_rows, 4), np.nan)
    _sparse.times(X, rows, right, out, compiled=compiled)
    assert_allclose(out, dense[rows] @ right, rtol=rtol, atol=rtol)

    left = rng.normal(size=(n_rows, 4))
    start = rng.normal(size=(9, 4))
    out = start.copy()
    _sparse.transpose_times_add(X, rows, left, out, compiled=compiled)
    assert_allclose(out, start + dense[rows].T @ left, rtol=rtol, atol=rtol)

    start = rng.normal(size=(9, 2, 4))
    out = start.copy()
    _sparse.moments_transpose_times_add(X, rows, left, out, compiled=compiled)
    # The squares are those of the matrix's entries: duplicates summed first.
    assert_allclose(out[:, 0], start[:, 0] + dense[rows].T @ left, rtol=rtol, atol=rtol)
    assert_allclose(
        out[:, 1], start[:, 1] + np.square(dense[rows]).T @ left, rtol=rtol, atol=rtol
    )


@pytest.mark.parametrize("compiled", PATHS)
def test_products_leave_their_inputs_unchanged(compiled):
    rng = np.random.default_rng(1)
    X, _ = messy_csr(rng, np.float64, np.int32)
    copies = X.data.copy(), X.indices.copy(), X.indptr.copy()
    right = rng.normal(size=(9, 3))
    left = rng.normal(size=(X.shape[0], 3))
    before = right.copy(), left.copy()
    rows = slice(0, X.shape[0])
    _sparse.times(X, rows, right, np.empty((X.shape[0], 3)), compiled=compiled)
    _sparse.transpose_times_add(X, rows, left, np.zeros((9, 3)), compiled=compiled)
    _sparse.moments_transpose_times_add(
        X, rows, left, np.zeros((9, 2, 3)), compiled=compiled
    )
    for kept, original in zip(
        (X.data, X.indices, X.indptr, right, left), (*copies, *before), strict=True
    ):
        assert_allclose(kept, original, rtol=0, atol=0)


def use_path(monkeypatch, compiled):
    """Make the kernels of sksoftmax._loss take the given path."""
    for function in (
        _sparse.times,
        _sparse.transpose_times_add,
        _sparse.moments_transpose_times_add,
    ):
        monkeypatch.setitem(function.__kwdefaults__, "compiled", compiled)


@pytest.mark.parametrize("compiled", PATHS)
def test_loss_kernel_on_sparse_x_equals_dense_x(monkeypatch, compiled):
    # The whole kernel on CSR X, threaded over several blocks, against the same
    # kernel on the dense array (BLAS products).
    from sksoftmax._threads import kernel_threads

    use_path(monkeypatch, compiled)
    rng = np.random.default_rng(2)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=3)
    dense = X.toarray()
    y = rng.integers(0, 5, size=300)
    weight = rng.uniform(0.5, 2.0, size=300)
    weight /= weight.sum()
    coef = rng.normal(size=(5, 40))
    intercept = rng.normal(size=5)
    offset = dense.mean(axis=0)
    with kernel_threads() as threads:
        loss, grad_w, grad_b = _loss.loss_gradient(
            coef, intercept, X, y, weight, 0.1, block_size=32, threads=threads
        )
        curvature_w, curvature_b = _loss.curvature(
            coef, intercept, X, weight, offset, block_size=32, threads=threads
        )
    dense_loss, dense_w, dense_b = _loss.loss_gradient(
        coef, intercept, dense, y, weight, 0.1
    )
    assert_allclose(loss, dense_loss, rtol=1e-12)
    assert_allclose(grad_w, dense_w, rtol=1e-10, atol=1e-14)
    assert_allclose(grad_b, dense_b, rtol=1e-10, atol=1e-14)
    expected_w, expected_b = reference_curvature(coef, intercept, dense, weight, offset)
    assert_allclose(curvature_w, expected_w, rtol=1e-9, atol=1e-14)
    assert_allclose(curvature_b, expected_b, rtol=1e-10)


@pytest.mark.parametrize("compiled", PATHS)
def test_sparse_predict_proba_equals_dense(monkeypatch, compiled):
    # Enough rows for the predictions to share their blocks among threads.
    from sksoftmax import SoftmaxRegressionClassifier

    use_path(monkeypatch, compiled)
    X = sp.random(3000, 30, density=0.2, format="csr", random_state=4)
    y = np.arange(3000) % 3
    model = SoftmaxRegressionClassifier().fit(X.toarray(), y)
    assert_allclose(
        model.predict_proba(X), model.predict_proba(X.toarray()), rtol=1e-12
    )
    assert_allclose(
        model.decision_function(X),
        model.decision_function(X.toarray()),
        rtol=1e-12,
        atol=1e-14,
    )
