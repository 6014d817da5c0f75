"""Products of CSR blocks with dense arrays: compiled loops that release the
GIL where numba is installed, SciPy's otherwise.

The kernels of :mod:`sksoftmax._loss` share their row blocks among threads
(:mod:`sksoftmax._threads`). Dense blocks run in BLAS, which releases the GIL,
and so do SciPy's sparse products (its ``csr_matvecs``: another thread runs
Python meanwhile, with SciPy 1.10 as with 1.17); but SciPy's product needs
each block sliced (a copy) and its transpose product a temporary of the size
of the gradient per block. The loops below, compiled by numba with
``nogil=True``, read the blocks in place and accumulate into one array (the
measurements: ``benchmarks/results/fit_sparse.md`` and
``fit_sparse_scipy.md``). numba is an optional dependency (the
``numba`` extra, about 210 MB installed with llvmlite): without it every
function here is SciPy's product, with the same results to rounding.

No numba thread pool is used (no ``parallel=True``): the loops are serial and
the threads are ours, so numba's threading layers, which differ in whether
they survive a fork or run from several threads at once, never start. The
compiled code is cached on disk (numba's ``cache=True``: next to this module,
or in numba's user cache where that is read-only), so a new process loads it
instead of compiling it again; each combination of dtypes (float32 or float64
values, int32 or int64 indices) is compiled once.

The compiled products accumulate in float64 whatever X's dtype (SciPy's run in
X's dtype, as BLAS does for dense X). Each function takes a CSR matrix or
array (any index dtype; unsorted indices and duplicate entries are allowed),
the slice of its rows to use, and ``compiled`` to choose the path (None, the
default: compiled where numba is installed).
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

numba: ModuleType | None
try:
    import numba
except ImportError:  # the optional extra is not installed
    numba = None

#: Whether the compiled products are available.
COMPILED = numba is not None
#: X as the functions take it: a CSR matrix or array, of any index dtype.
CSR: TypeAlias = sp.csr_matrix | sp.csr_array


def _jit(function: Callable[..., Any]) -> Callable[..., Any] | None:
    """``function`` compiled without the GIL, or None without numba. The
    machine code is cached on disk where numba finds a writable place (next to
    this module, or numba's user cache); where it finds none, it is compiled
    in each process."""
    if numba is None:
        return None
    try:
        return numba.njit(nogil=True, cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator"
        return numba.njit(nogil=True)(function)


# The loops take a CSR matrix's arrays: its stored values, their column indices
# and the offsets of its rows.


def _times_loop(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    start: int,
    stop: int,
    right: np.ndarray,
    out: np.ndarray,
) -> None:
    n_columns = right.shape[1]
    row_sum = np.empty(n_columns)
    for i in range(start, stop):
        row_sum[:] = 0.0
        for stored in range(indptr[i], indptr[i + 1]):
            value = data[stored]
            column = indices[stored]
            for k in range(n_columns):
                row_sum[k] += value * right[column, k]
        for k in range(n_columns):
            out[i - start, k] = row_sum[k]


def _transpose_times_add_loop(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    start: int,
    stop: int,
    left: np.ndarray,
    out: np.ndarray,
) -> None:
    n_columns = left.shape[1]
    for i in range(start, stop):
        for stored in range(indptr[i], indptr[i + 1]):
            value = data[stored]
            column = indices[stored]
            for k in range(n_columns):
                out[column, k] += value * left[i - start, k]


def _moments_transpose_times_add_loop(
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    start: int,
    stop: int,
    left: np.ndarray,
    out: np.ndarray,
) -> None:
    n_columns = left.shape[1]
    for i in range(start, stop):
        for stored in range(indptr[i], indptr[i + 1]):
            value = np.float64(data[stored])
            column = indices[stored]
            for k in range(n_columns):
                weighted = value * left[i - start, k]
                out[column, 0, k] += weighted
                out[column, 1, k] += value * weighted


# None without numba, where only a call with compiled=True (a misuse, which then
# fails) reaches them: hence the ``type: ignore[misc]`` ("None" not callable) of
# their calls below.
_times = _jit(_times_loop)
_transpose_times_add = _jit(_transpose_times_add_loop)
_moments_transpose_times_add = _jit(_moments_transpose_times_add_loop)


def _use_compiled(compiled: bool | None) -> bool:
    return COMPILED if compiled is None else compiled


def _row_range(X: CSR, rows: slice, *arrays: np.ndarray) -> tuple[int, int]:
    """``rows`` as (start, stop) within X, checked: a step of one, and
    ``arrays`` with one row per row of the block (the compiled loops do not
    check their bounds)."""
    start, stop, step = rows.indices(X.shape[0])
    if step != 1:
        raise ValueError(f"The rows of a block must be contiguous, not {rows}.")
    for array in arrays:
        if array.shape[0] != stop - start:
            raise ValueError(
                f"An array of {array.shape[0]} rows for a block of {stop - start}."
            )
    return start, stop


def _rows_of(X: CSR, start: int, stop: int) -> sp.csr_matrix:
    """Rows ``start:stop`` of X as a CSR matrix for SciPy's products, on the
    stored values and indices of those rows (SciPy's constructor keeps them
    as views, or copies them where they are a small share of X's), without
    the row indexing of ``X[start:stop]``: a block of 10,000 rows of 100
    values takes 0.5 ms against 2.9."""
    first, last = X.indptr[start], X.indptr[stop]
    return sp.csr_matrix(
        (X.data[first:last], X.indices[first:last], X.indptr[start : stop + 1] - first),
        shape=(stop - start, X.shape[1]),
        copy=False,
    )


def _check_columns(X: CSR, array: np.ndarray) -> None:
    """``array`` has one row per column of X (the compiled loops index it)."""
    if array.shape[0] != X.shape[1]:
        raise ValueError(
            f"An array of {array.shape[0]} rows for the {X.shape[1]} columns of X."
        )


def times(
    X: CSR,
    rows: slice,
    right: np.ndarray,
    out: np.ndarray,
    *,
    compiled: bool | None = None,
) -> np.ndarray:
    """``out[...] = X[rows] @ right``.

    Parameters
    ----------
    X : CSR matrix or array of shape (n_samples, n_features)
        The whole matrix: the compiled loops read the block in place, where
        SciPy's product needs it as a matrix of its own.
    rows : slice
        The block, a contiguous range of rows.
    right : ndarray of shape (n_features, n_columns)
        C-contiguous (each stored value reads one row of it).
    out : ndarray of shape (n_rows, n_columns)
        Written in place, in its own dtype.
    compiled : bool, default=None
        Whether to run the compiled loop; None: where numba is installed.

    Returns
    -------
    out
    """
    start, stop = _row_range(X, rows, out)
    _check_columns(X, right)
    if _use_compiled(compiled):
        _times(X.data, X.indices, X.indptr, start, stop, right, out)  # type: ignore[misc]
    else:
        out[...] = _rows_of(X, start, stop) @ right.astype(X.dtype, copy=False)
    return out


def transpose_times_add(
    X: CSR,
    rows: slice,
    left: np.ndarray,
    out: np.ndarray,
    *,
    compiled: bool | None = None,
) -> np.ndarray:
    """``out += X[rows].T @ left``, with ``left`` of shape (n_rows, n_columns)
    and ``out`` a float64 C-contiguous array of shape (n_features, n_columns)
    (the other arguments as in :func:`times`)."""
    start, stop = _row_range(X, rows, left)
    _check_columns(X, out)
    if _use_compiled(compiled):
        _transpose_times_add(X.data, X.indices, X.indptr, start, stop, left, out)  # type: ignore[misc]
    else:
        out += _rows_of(X, start, stop).T @ left.astype(X.dtype, copy=False)
    return out


def moments_transpose_times_add(
    X: CSR,
    rows: slice,
    left: np.ndarray,
    out: np.ndarray,
    *,
    compiled: bool | None = None,
) -> np.ndarray:
    """``out[:, 0] += X[rows].T @ left`` and ``out[:, 1] += (X[rows] *
    X[rows]).T @ left`` in one pass (the squares of the matrix's entries,
    zeros not stored), with ``out`` a float64 C-contiguous array of shape
    (n_features, 2, n_columns): a feature's two sums lie side by side in
    memory. The other arguments are those of :func:`transpose_times_add`."""
    start, stop = _row_range(X, rows, left)
    _check_columns(X, out)
    # The loop squares each stored value: where X is not in canonical format
    # (sorted, without duplicate entries, which must be summed before they are
    # squared), SciPy does it. SciPy caches the check on X.
    if _use_compiled(compiled) and X.has_canonical_format:
        _moments_transpose_times_add(  # type: ignore[misc]
            X.data, X.indices, X.indptr, start, stop, left, out
        )
    else:
        X_block = X[start:stop].astype(np.float64)
        out[:, 0] += X_block.T @ left
        out[:, 1] += X_block.multiply(X_block).T @ left
    return out
