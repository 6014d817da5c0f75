"""Multinomial cross-entropy: a fused, row-blocked loss and gradient kernel.

Conventions
-----------
These hold for every function in this module and for the rest of the package.

- ``n_classes`` is K, the number of classes; K >= 2, also for binary problems
  (one weight vector per class, the symmetric softmax parameterisation).
- ``weights`` has shape (n_classes, n_features): row k is the weight vector of
  class k. ``intercept`` has shape (n_classes,). The net inputs of a block of
  rows are ``Z = X_block @ weights.T + intercept``, of shape (n_rows, n_classes).
- Targets are one-hot rows (scikit-learn's ``LabelBinarizer``), stored as the
  column index of their single one, ``y_code`` of shape (n_samples,), so that no
  n_samples x n_classes target array exists.
- ``sample_weight`` passed to the kernel is *normalised*: it sums to one. The
  data term is therefore the weighted **mean** cross-entropy
  ``sum_i s_i * (logsumexp(Z_i) - Z_i[y_i])``. Penalties and the intercept
  convention (never penalised) belong to :mod:`sksoftmax._objective`.
- Sums (the loss, the gradient, the softmax) are accumulated in float64. Matrix
  products with X run in X's dtype, so float32 X keeps float32 BLAS calls
  (the compiled sparse products of :mod:`sksoftmax._sparse` multiply in X's
  dtype too but sum in float64).

Label smoothing
---------------
With ``label_smoothing`` eps > 0 (PyTorch's ``CrossEntropyLoss`` convention)
the target rows are ``T = (1 - eps) * Y + eps / n_classes`` instead of the
one-hot rows Y, and the cross-entropy of row i is
``logsumexp(Z_i) - T_i @ Z_i``. T is never formed either: ``T_i @ Z_i =
(1 - eps) * Z_i[y_i] + eps / n_classes * sum_k Z_ik``. With eps = 0 the kernel
runs the one-hot code unchanged.

Gradient
--------
With P = softmax(Z) row-wise and T the target rows, the derivative of the
weighted mean cross-entropy with respect to Z is the residual
``R = diag(s) (P - T)``; the chain rule through ``Z = X W^T + b`` gives
``dW = R^T X`` and ``db = R^T 1``. The kernel forms R for one block of rows at a
time and multiplies it into that block of X while it is still in cache, so its
memory beyond X is O(block_rows x n_classes + n_classes x n_features).
"""

from collections.abc import Callable, Iterator
from typing import Any, TypeAlias, TypeVar, cast

import numpy as np
import scipy.sparse as sp

from . import _sparse
from ._threads import SERIAL, Threads, kernel_threads

#: X as the kernels take it, of shape (n_samples, n_features): a dense array or
#: a CSR matrix or array.
DenseOrCSR: TypeAlias = np.ndarray | _sparse.CSR

# Bytes of X (or of the block's net inputs, whichever is wider) per block. A few
# MiB keeps a block in the L2/L3 caches of current CPUs while the BLAS calls stay
# large enough to run at full speed.
_BLOCK_BYTES = 2**21
_MIN_BLOCK_ROWS = 64
_MAX_BLOCK_ROWS = 16384
#: Net inputs of a block, at most: its float64 temporaries stay near 128 MB.
MAX_BLOCK_NET_INPUTS = 2**24
#: Blocks below which a prediction runs in the calling thread: starting a pool
#: (and limiting BLAS) costs more than it saves on a few blocks. Eight keeps
#: four blocks per thread on two cores.
_MIN_BLOCKS_FOR_THREADS = 8


def block_rows(X: DenseOrCSR, n_classes: int, itemsize: int | None = None) -> int:
    """Number of rows per block of X, chosen for the cache.

    A block's bytes are those of its rows of X (for sparse X, the stored values
    and their column indices) or of its float64 net inputs, whichever is more.
    ``itemsize`` counts a dense X's entries at that size instead of its
    dtype's: 8 for the kernels that make float64 copies of its rows.
    For sparse X, SciPy's gradient product ``X_block^T R`` of each block is a
    dense n_features x n_classes array: a block then holds at least as many
    stored values as that array has entries (within 16 MiB of net inputs), so
    that adding it up costs no more than the product itself. (The compiled
    products add into one such array per thread, and larger blocks cost them
    nothing.)
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        # (SciPy has no type hints: sp.issparse cannot narrow X to CSR.)
        nnz_per_row = max(X.nnz / max(n_samples, 1), 1.0)  # type: ignore[union-attr]
        x_bytes = nnz_per_row * (X.dtype.itemsize + X.indices.dtype.itemsize)  # type: ignore[union-attr]
    else:
        x_bytes = n_features * (itemsize or X.dtype.itemsize)
    rows = _BLOCK_BYTES // max(x_bytes, n_classes * 8, 1)
    rows = min(max(rows, _MIN_BLOCK_ROWS), _MAX_BLOCK_ROWS)
    if sp.issparse(X):
        amortised = n_features * n_classes / nnz_per_row
        rows = max(rows, min(amortised, MAX_BLOCK_NET_INPUTS // (n_classes * 8)))
    return int(rows)


def iter_blocks(n_samples: int, block_size: int, start: int = 0) -> Iterator[slice]:
    """Yield slices that cover ``range(start, n_samples)`` in blocks."""
    for first in range(start, n_samples, block_size):
        yield slice(first, min(first + block_size, n_samples))


def feature_moments(
    X: DenseOrCSR,
    sample_weight: np.ndarray,
    offset: np.ndarray,
    block_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted first and second moments of the features, block by block.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
        Weights, float64 (normalised by the caller: the moments are sums).
    offset : ndarray of shape (n_features,)
        The point the second moment is taken about.
    block_size : int, default=None
        Rows per block; None chooses it from the row width.

    Returns
    -------
    first, second : ndarrays of shape (n_features,)
        ``sum_i s_i x_i`` and ``sum_i s_i (x_i - offset)^2``, in float64.
    """
    n_samples, n_features = X.shape
    if block_size is None:
        block_size = block_rows(X, 1, itemsize=8)
    first = np.zeros(n_features)
    second = np.zeros(n_features)
    if not sp.issparse(X):
        # sum s x = sum s (x - offset) + offset sum s, from one float64 copy
        # of each block's rows in a buffer made once (_centred_rows). Exact
        # for offset 0; for another offset it rounds the sum about |offset|
        # (the first moment is taken about 0, the second about the mean).
        for rows, centred in _centred_rows(X, offset, n_samples, block_size):
            weight = sample_weight[rows]
            first += weight @ centred
            second += weight @ np.square(centred, out=centred)
        first += offset * sample_weight.sum()
        return first, second
    for rows in iter_blocks(n_samples, block_size):
        X_block, weight = X[rows], sample_weight[rows]
        first += weight @ X_block
        # Squares of the stored values only: X is never centred or densified.
        X_block = X_block.astype(np.float64)
        # (SciPy has no type hints: sp.issparse cannot narrow X_block.)
        second += X_block.multiply(X_block).T @ weight  # type: ignore[union-attr]
    if sp.issparse(X):
        # sum s (x - o)^2 = sum s x^2 - 2 o sum s x + o^2 sum s, clipped at zero
        # against rounding.
        second += offset * (offset * sample_weight.sum() - 2 * first)
        second = np.maximum(second, 0.0)
    return first, second


def _centred_rows(
    X: np.ndarray, offset: np.ndarray, stop: int, block_size: int, start: int = 0
) -> Iterator[tuple[slice, np.ndarray]]:
    """The blocks of rows of a dense X from ``start`` to ``stop``, each with
    ``X[rows] - offset`` in float64, written into one buffer that each block
    overwrites (the caller may overwrite it too).

    A new float64 temporary per block, twice a float32 block's size, came
    from the system page by page: the moments of 1,000,000 x 100 float32
    took 0.8-1.6 s with blocks of 2 to 4 MB, against 0.12 s with 1.6 MB."""
    buffer = np.empty((min(block_size, max(stop - start, 0)), X.shape[1]))
    for rows in iter_blocks(stop, block_size, start=start):
        centred = buffer[: rows.stop - rows.start]
        np.subtract(X[rows], offset, out=centred)
        yield rows, centred


def right_factor(weights: np.ndarray, X: DenseOrCSR) -> np.ndarray:
    """``weights.T`` in X's dtype, C-contiguous: the right factor of the net
    inputs, made once per pass over X (each stored value of a sparse X reads
    one row of it, see :mod:`sksoftmax._sparse`)."""
    return np.ascontiguousarray(weights.T, dtype=X.dtype)


def net_input(
    X: DenseOrCSR, rows: slice, weights_t: np.ndarray, intercept: np.ndarray
) -> np.ndarray:
    """Net inputs ``X[rows] @ weights_t + intercept`` as a float64 array.

    ``weights_t`` is :func:`right_factor`: in X's dtype, so that float32 X keeps
    a float32 matrix product; the fit promotes the result to float64 for the
    softmax and the sums. (Predictions stay in X's dtype, so that float32
    probabilities and log-probabilities are rounded consistently: see
    :func:`predict_blocks`.) A sparse X is read in place where numba is
    installed, else sliced (:mod:`sksoftmax._sparse`).
    """
    if sp.issparse(X):
        Z = np.empty((rows.stop - rows.start, weights_t.shape[1]))
        _sparse.times(X, rows, weights_t, Z)
    else:
        Z = np.asarray(X[rows] @ weights_t, dtype=np.float64)
    Z += intercept
    return Z


#: Classes up to which a row-wise reduction of NumPy net inputs runs class
#: by class: NumPy reduces a short contiguous axis one row at a time (the
#: maxima of 10,000 rows of 3 take 0.38 ms that way, 0.02 ms by columns).
_FEW_CLASSES = 16


def row_max(Z: np.ndarray) -> np.ndarray:
    """The largest entry of each row of a 2-d NumPy array, shape (n,)."""
    return _row_reduce(np.maximum, Z)


def row_sum(Z: np.ndarray) -> np.ndarray:
    """The sum of each row of a 2-d NumPy array, shape (n,): the columns
    added in order."""
    return _row_reduce(np.add, Z)


def _row_reduce(ufunc: np.ufunc, Z: np.ndarray) -> np.ndarray:
    if not 0 < Z.shape[1] <= _FEW_CLASSES:
        return ufunc.reduce(Z, axis=1)
    out = Z[:, 0].copy()
    for k in range(1, Z.shape[1]):
        ufunc(out, Z[:, k], out=out)
    return out


def _column_sums(Z: np.ndarray) -> np.ndarray:
    """The sum of each column of a tall float64 array, by a product with a
    vector of ones: NumPy's ``sum(axis=0)`` of 10,000 x 3 takes 0.3 ms, the
    product 0.01 ms (the gradient's other sums are products too)."""
    return np.ones(Z.shape[0]) @ Z


def log_softmax(Z: Any, xp: Any = np) -> Any:
    """Row-wise log-softmax ``Z - logsumexp(Z)``, stable for any finite Z.

    Subtracting the row maximum first keeps every exponent <= 0, so that net
    inputs of 1e4 or -1e4 neither overflow nor produce NaN. ``xp`` is the
    array namespace of Z (NumPy, or that of an array API back-end).
    """
    if xp is np:
        Z = Z - row_max(Z)[:, None]
        Z -= np.log(row_sum(np.exp(Z)))[:, None]
        return Z
    Z = Z - xp.max(Z, axis=1, keepdims=True)
    Z -= xp.log(xp.sum(xp.exp(Z), axis=1, keepdims=True))
    return Z


def softmax(Z: Any, xp: Any = np) -> Any:
    """Row-wise softmax, stable for any finite Z (see :func:`log_softmax`)."""
    if xp is np:
        E = np.exp(Z - row_max(Z)[:, None])
        E /= row_sum(E)[:, None]
        return E
    E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    E /= xp.sum(E, axis=1, keepdims=True)
    return E


def two_class_margin(Z: Any) -> Any:
    """The margin of ``classes_[1]`` over ``classes_[0]``: the binary
    ``decision_function`` (any namespace)."""
    return Z[:, 1] - Z[:, 0]


def loss_gradient(
    weights: np.ndarray,
    intercept: np.ndarray,
    X: DenseOrCSR,
    y_code: np.ndarray,
    sample_weight: np.ndarray,
    label_smoothing: float = 0.0,
    block_size: int | None = None,
    threads: Threads = SERIAL,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted mean cross-entropy and its gradient, in one pass over X.

    Parameters
    ----------
    weights : ndarray of shape (n_classes, n_features)
        Weight vectors, float64.
    intercept : ndarray of shape (n_classes,)
        Intercepts, float64.
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Training data, float32 or float64.
    y_code : ndarray of shape (n_samples,)
        Column index of the one in each one-hot target row.
    sample_weight : ndarray of shape (n_samples,)
        Normalised sample weights (they sum to one), float64.
    label_smoothing : float, default=0.0
        eps in [0, 1): the target rows become ``(1 - eps) * Y + eps / n_classes``
        (see the module docstring). 0 runs the plain one-hot loss.
    block_size : int, default=None
        Rows per block; None chooses it from the row width (:func:`block_rows`).
    threads : sksoftmax._threads.Threads, default=SERIAL
        Threads that share the blocks, one contiguous run of blocks each; by
        default they run here. Use a pool only with BLAS limited to one thread
        (as the solver does, see :mod:`sksoftmax._threads`): BLAS threads
        started from several threads at once oversubscribe the cores.

    Returns
    -------
    loss : float
        ``sum_i s_i * (logsumexp(Z_i) - T_i @ Z_i)``, with T the target rows.
    grad_weights : ndarray of shape (n_classes, n_features)
    grad_intercept : ndarray of shape (n_classes,)
    """
    n_classes = weights.shape[0]
    if block_size is None:
        block_size = block_rows(X, n_classes)
    weights_t = right_factor(weights, X)

    def run(rows: slice) -> tuple[float, np.ndarray, np.ndarray]:
        return _loss_gradient_rows(
            weights_t,
            intercept,
            X,
            y_code,
            sample_weight,
            label_smoothing,
            block_size,
            rows,
        )

    return _sum_runs(run, X.shape[0], block_size, threads)


_Sums = TypeVar("_Sums", bound=tuple[Any, ...])


def _sum_runs(
    run: Callable[[slice], _Sums], n_samples: int, block_size: int, threads: Threads
) -> _Sums:
    """``run(rows)`` over contiguous runs of whole blocks, one per thread, and
    the sum of the tuples they return.

    The parts are summed in a fixed order, so that the result does not depend
    on which thread finishes first.
    """
    n_blocks = -(-n_samples // block_size)
    n_threads = max(min(threads.n_threads, n_blocks), 1)
    edges = [block_size * (n_blocks * t // n_threads) for t in range(n_threads)]
    runs = [slice(a, b) for a, b in zip(edges, [*edges[1:], n_samples], strict=True)]
    if n_threads == 1:
        return run(runs[0])
    parts = list(threads.map(run, runs))
    # Tuples summed element by element are tuples of the same types.
    return cast(_Sums, tuple(sum(values) for values in zip(*parts, strict=True)))


def curvature(
    weights: np.ndarray,
    intercept: np.ndarray,
    X: DenseOrCSR,
    sample_weight: np.ndarray,
    offset: np.ndarray,
    block_size: int | None = None,
    threads: Threads = SERIAL,
) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal of the data term's Hessian at ``(weights, intercept)``.

    With P = softmax(Z) and q_ik = p_ik (1 - p_ik), the second derivatives of
    the weighted mean cross-entropy along each weight, taken about ``offset``
    (that is, with ``b + W @ offset`` held fixed), and along each intercept::

        sum_i s_i q_ik (x_ij - offset_j)^2      shape (n_classes, n_features)
        sum_i s_i q_ik                          shape (n_classes,)

    Label smoothing does not change them: the targets enter the loss linearly.
    One pass over X, with the arguments of :func:`loss_gradient` (the class
    codes are not needed); for sparse X the squares are expanded about zero
    and clipped at zero, so that X is never centred or densified.

    Returns
    -------
    weight_curvature : ndarray of shape (n_classes, n_features)
    intercept_curvature : ndarray of shape (n_classes,)
    """
    n_samples, n_features = X.shape
    n_classes = weights.shape[0]
    if block_size is None:
        # Float64 squares of the rows (feature_moments).
        block_size = block_rows(X, n_classes, itemsize=8)
    weights_t = right_factor(weights, X)
    sparse = sp.issparse(X)

    def run(rows: slice) -> tuple[np.ndarray, np.ndarray]:
        if sparse:
            # Per feature, sum q x and sum q x^2 (about zero) side by side;
            # for dense X, sum q (x - offset)^2 by class.
            sums = np.zeros((n_features, 2, n_classes))
        else:
            sums = np.zeros(weights.shape)
        by_class = np.zeros(n_classes)
        blocks = (
            ((block, None) for block in iter_blocks(rows.stop, block_size, rows.start))
            if sparse
            else _centred_rows(X, offset, rows.stop, block_size, rows.start)
        )
        for block, centred in blocks:
            Q = softmax(net_input(X, block, weights_t, intercept))
            Q *= 1.0 - Q
            Q *= sample_weight[block][:, None]
            by_class += _column_sums(Q)
            if centred is None:
                _sparse.moments_transpose_times_add(X, block, Q, sums)
            else:
                sums += Q.T @ np.square(centred, out=centred)
        return sums, by_class

    weight_curvature, by_class = _sum_runs(run, n_samples, block_size, threads)
    if sparse:
        # sum q (x - o)^2 = sum q x^2 - 2 o sum q x + o^2 sum q
        first, second = weight_curvature[:, 0].T, weight_curvature[:, 1].T
        weight_curvature = second + offset * (offset * by_class[:, None] - 2 * first)
        weight_curvature = np.maximum(weight_curvature, 0.0)
    return weight_curvature, by_class


def _loss_gradient_rows(
    weights_t: np.ndarray,
    intercept: np.ndarray,
    X: DenseOrCSR,
    y_code: np.ndarray,
    sample_weight: np.ndarray,
    label_smoothing: float,
    block_size: int,
    run: slice,
) -> tuple[float, np.ndarray, np.ndarray]:
    """The block loop of :func:`loss_gradient` over the rows ``run``, in one thread.

    Dense blocks are views of X; sparse ones are read in place
    (:mod:`sksoftmax._sparse`) or, by SciPy, sliced one at a time: a sparse X is
    never copied whole.
    """
    n_classes = weights_t.shape[1]
    on_value = 1.0 - label_smoothing
    off_value = label_smoothing / n_classes
    loss = 0.0
    sparse = sp.issparse(X)
    # (n_features, n_classes) for sparse X, as its products give it.
    grad_weights = np.zeros(weights_t.shape if sparse else weights_t.shape[::-1])
    grad_intercept = np.zeros(n_classes)
    for rows in iter_blocks(run.stop, block_size, start=run.start):
        sw = sample_weight[rows]
        code = y_code[rows]
        Z = net_input(X, rows, weights_t, intercept)
        Z -= row_max(Z)[:, None]
        true_class = (np.arange(Z.shape[0]), code)
        # T_i @ Z_i: the target rows sum to one, so the shift above cancels.
        z_target = Z[true_class]
        if label_smoothing:
            z_target = on_value * z_target + off_value * row_sum(Z)
        np.exp(Z, out=Z)
        normaliser = row_sum(Z)
        loss += sw @ (np.log(normaliser) - z_target)
        # Z becomes the weighted residual R = diag(s) (P - T) in place.
        Z *= (sw / normaliser)[:, None]
        if label_smoothing:
            Z[true_class] -= on_value * sw
            Z -= off_value * sw[:, None]
        else:
            Z[true_class] -= sw
        grad_intercept += _column_sums(Z)
        if sparse:
            _sparse.transpose_times_add(X, rows, Z, grad_weights)
        else:
            grad_weights += Z.astype(X.dtype, copy=False).T @ X[rows]
    if sparse:
        grad_weights = np.ascontiguousarray(grad_weights.T)
    return float(loss), grad_weights, grad_intercept


def predict_blocks(
    X: DenseOrCSR,
    weights: np.ndarray,
    intercept: np.ndarray,
    out: np.ndarray,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    block_size: int | None = None,
) -> np.ndarray:
    """Fill ``out`` block by block from the net inputs of the rows of X.

    ``out[rows] = transform(Z)`` for the net inputs Z of each block, in X's
    dtype; ``transform`` maps a block to its rows of ``out`` (a softmax, an
    argmax, a margin; None keeps the net inputs). Besides ``out``, nothing
    larger than a block is allocated. Large inputs share their blocks among
    threads of their own (:mod:`sksoftmax._threads`), with BLAS on one thread.
    """
    n_samples, n_features = X.shape
    if block_size is None:
        block_size = block_rows(X, weights.shape[0])
    weights_t = right_factor(weights, X)
    intercept = intercept.astype(X.dtype)

    def run(rows: slice) -> None:
        # The net inputs go straight into ``out`` where it holds a row per
        # block: a block's transform then needs two temporaries of its size,
        # not three.
        if out.ndim == 2:
            Z = out[rows]
        else:
            Z = np.empty((rows.stop - rows.start, weights_t.shape[1]), dtype=X.dtype)
        if sp.issparse(X):
            _sparse.times(X, rows, weights_t, Z)
        else:
            np.matmul(X[rows], weights_t, out=Z)
        Z += intercept
        if out.ndim == 1:
            # A 1-d ``out`` (class codes, a binary margin) comes with its transform.
            assert transform is not None
            out[rows] = transform(Z)
        elif transform is not None:
            Z[...] = transform(Z)

    blocks = list(iter_blocks(n_samples, block_size))
    if len(blocks) < _MIN_BLOCKS_FOR_THREADS:
        for rows in blocks:
            run(rows)
        return out
    with kernel_threads() as threads:
        list(threads.map(run, blocks))
    return out
