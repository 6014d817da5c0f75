"""The covariances of the contrasts: their sums over the rows, the penalty's
Hessian, and the inverse of a Cholesky factor.

Covariances
-----------
In the contrasts against the reference class r
(:mod:`sksoftmax._inference_result`), with sample weights s_i (frequency
weights: a weight of 3 is three copies of the row), the probabilities p_i
and the one-hot targets y_i of the classes other than r, and
``x~_i = (x_i, 1)``, the sums below run over the rows::

    H = sum_i s_i (diag(p_i) - p_i p_i^T) kron x~_i x~_i^T   (the information)
    B = sum_i s_i (y_i - p_i)(y_i - p_i)^T kron x~_i x~_i^T   (HC0's meat)
    G = sum_g u_g u_g^T,  u_g = sum_{i in g} s_i (y_i - p_i) kron x~_i

``"nonrobust"`` is ``H^-1``, ``"HC0"`` is ``H^-1 B H^-1`` and ``"cluster"``
is ``c H^-1 G H^-1`` with statsmodels' factor
``c = n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_params)``, nobs the
sum of the weights. These are ``MNLogit.fit(cov_type=...)``'s conventions, and
each equals its value on the rows repeated as the weights say.

A penalised fit (finite C) estimates another quantity than the maximum
likelihood estimate, shrunk towards zero. Its covariance is the sandwich with
the penalised Hessian ``H_C = H + (1/C) Pen``, ``H_C^-1 M H_C^-1``, where the
meat M is H, B or c G as above. ``Pen`` is the Hessian of the penalty in the
contrasts: the L2 penalty of the fitted weights, which for three or more
classes sum to zero over the classes (the minimum of the penalty over the
shift that leaves the probabilities unchanged), is
``1/2 f_j beta_j^T (I - 1 1^T / K) beta_j`` for feature j with penalty
factor f_j (``penalty_factor``, 1 by default); with two classes the weights
of ``classes_[1]`` are the contrasts and the factor is f_j. The intercepts
are not penalised.

Blocks
------
The sums run in blocks of rows, from the kernel's probabilities
(:func:`sksoftmax._loss.net_input`, :func:`sksoftmax._loss.softmax`): no
array of n_samples x n_params is formed, only blocks of it, of the size that
the caller gives (``block_entries``); dense blocks also of at most
``_CACHE_ENTRIES`` entries of the rows with the ones column, or 1,024 rows.
"""

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._loss import iter_blocks, net_input, right_factor, softmax

#: Rows of the data: dense, or CSR (a SciPy sparse matrix or array).
Rows: TypeAlias = np.ndarray | sp.csr_matrix | sp.csr_array


@dataclass
class _Sums:
    information: np.ndarray
    #: The weighted scatter of the columns (features and the intercept's ones).
    scatter: np.ndarray
    meat: np.ndarray | None
    n_groups: int | None


def _with_ones(X_block: Rows, fit_intercept: bool) -> Rows:
    """The rows of X in float64, with a column of ones for the intercept."""
    if sp.issparse(X_block):
        X_block = X_block.astype(np.float64)
        if fit_intercept:
            ones = sp.csr_matrix(np.ones((X_block.shape[0], 1)))
            X_block = sp.hstack([X_block, ones], format="csr")
        return X_block
    X_block = np.asarray(X_block, dtype=np.float64)
    if fit_intercept:
        X_block = np.column_stack([X_block, np.ones(X_block.shape[0])])
    return X_block


def _gram(
    A: Rows, B: Rows | None = None, weight: np.ndarray | None = None
) -> np.ndarray:
    """``A^T diag(weight) B`` as a dense float64 array (A, B dense or CSR)."""
    B = A if B is None else B
    if weight is not None:
        B = sp.diags(weight) @ B if sp.issparse(B) else weight[:, None] * B
    product = A.T @ B
    return product.toarray() if sp.issparse(product) else product


def _row_kron(A: np.ndarray, B: Rows) -> Rows:
    """The rows ``kron(A[i], B[i])``: shape (n, m * q) for A (n, m), B (n, q)."""
    if sp.issparse(B):
        return sp.hstack([sp.diags(A[:, a]) @ B for a in range(A.shape[1])], "csr")
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)


def rows_per_block(block_entries: int, width: int) -> int:
    """Rows of a block of about ``block_entries`` entries ``width`` to a
    row: 64 to 16,384."""
    return int(np.clip(block_entries // max(width, 1), 64, 16384))


def _syrk(A: np.ndarray) -> np.ndarray:
    """``A^T A`` for a dense float64 A, by BLAS's symmetric rank-k update:
    half the products of a general one."""
    product = scipy.linalg.blas.dsyrk(1.0, A.T, trans=0)
    # dsyrk fills the upper triangle.
    return np.triu(product) + np.triu(product, 1).T


def _information_rows(
    X_block: Rows, s: np.ndarray, P: np.ndarray, others: np.ndarray
) -> np.ndarray:
    """The information's sum over one block of rows (the module docstring):
    block (a, b) of the classes ``others`` is ``X~^T diag(s p_a (delta_ab -
    p_b)) X~``, from the probabilities P of all the classes.

    Dense rows take one symmetric product per pair of classes a < b (one of
    them in ``others``), with the square roots of the weights ``s p_a p_b``:
    the pair's product is block (a, b) negated, and it adds to the diagonal
    blocks of a and of b, since ``p_a (1 - p_a)`` is the sum of ``p_a p_b``
    over the other classes. That is K (K - 1) / 2 products of n x c^2,
    against the K^2 of the Kronecker form, and no difference of large sums
    (nor ``1 - p_a`` rounded where p_a is near 1). Sparse rows take the
    Kronecker form's sparse products."""
    n_columns = X_block.shape[1]
    n_rows, n_classes = len(others), P.shape[1]
    information = np.zeros((n_rows * n_columns, n_rows * n_columns))
    if sp.issparse(X_block):
        P = P[:, others]
        for a in range(n_rows):
            span = slice(a * n_columns, (a + 1) * n_columns)
            information[span, span] += _gram(X_block, weight=s * P[:, a])
        information -= _gram(_row_kron(np.sqrt(s)[:, None] * P, X_block))
        return information
    row_of = np.full(n_classes, -1)
    row_of[others] = np.arange(n_rows)
    root_sp = np.sqrt(s[:, None] * P)
    root_p = np.sqrt(P)
    for a in range(n_classes):
        for b in range(a + 1, n_classes):
            row_a, row_b = row_of[a], row_of[b]
            if row_a < 0 and row_b < 0:
                continue
            product = _syrk((root_sp[:, a] * root_p[:, b])[:, None] * X_block)
            span_a = slice(row_a * n_columns, (row_a + 1) * n_columns)
            span_b = slice(row_b * n_columns, (row_b + 1) * n_columns)
            if row_a >= 0:
                information[span_a, span_a] += product
            if row_b >= 0:
                information[span_b, span_b] += product
            if row_a >= 0 and row_b >= 0:
                information[span_a, span_b] = -product
                information[span_b, span_a] = -product
    return information


#: Entries of a dense block of X~ (512 KB) in the sums: it stays in cache
#: for the K (K - 1) / 2 products over it. Measured against blocks of up to
#: 2**21 / (K c) rows: 1.4 ms against 2.6 for 10,000 x 11 with 3 classes, 27
#: ms against 39 for the digits (1797 x 65, 10 classes). Never fewer than
#: _CACHE_ROWS rows: on wide rows each block's fixed cost (its K^2 c^2 sums)
#: dominates (4000 x 800 took 3 to 6 times as long in blocks of 81 rows).
_CACHE_ENTRIES = 2**16
_CACHE_ROWS = 1024


def block_sums(
    block: tuple[Rows, np.ndarray, np.ndarray],
    coefficients: tuple[np.ndarray, np.ndarray],
    *,
    others: np.ndarray,
    fit_intercept: bool,
    cov_type: str,
    block_entries: int,
    codes: np.ndarray | None = None,
    n_groups: int | None = None,
    with_scatter: bool = True,
) -> tuple[np.ndarray, ...]:
    """The sums of the covariances over the rows of one block, row block by
    row block (the module docstring): the information and the scatter, then
    the meat for ``"HC0"`` or the score sums of the groups for ``"cluster"``
    (``codes``: the group of each row, 0 to ``n_groups - 1``), in blocks of
    ``block_entries // n_params`` rows (64 to 16,384; dense rows also at
    most ``max(_CACHE_ENTRIES // c, _CACHE_ROWS)``). Without
    ``with_scatter`` (the fit's Newton steps), the information alone.

    ``block`` is ``(X, y_code, sample_weight)`` with the raw (frequency)
    weights, and ``coefficients`` the weights and intercepts of every class,
    as a data term's ``sum_blocks`` passes them; the parts add up over blocks.
    """
    X, y_code, sample_weight = block
    weights, intercept = coefficients
    n_columns = X.shape[1] + fit_intercept
    n_params = len(others) * n_columns
    information = np.zeros((n_params, n_params))
    scatter = np.zeros((n_columns, n_columns))
    extra = None
    if cov_type == "HC0":
        extra = np.zeros((n_params, n_params))
    elif cov_type == "cluster":
        extra = np.zeros((n_groups, n_params))
    weights_t = right_factor(weights, X)
    block_size = rows_per_block(block_entries, n_params)
    if not sp.issparse(X):
        block_size = min(
            block_size, max(rows_per_block(_CACHE_ENTRIES, n_columns), _CACHE_ROWS)
        )
    for rows in iter_blocks(X.shape[0], block_size):
        s = sample_weight[rows]
        P_all = softmax(net_input(X, rows, weights_t, intercept))
        P = P_all[:, others]
        X_block = _with_ones(X[rows], fit_intercept)
        information += _information_rows(X_block, s, P_all, others)
        if with_scatter:
            scatter += _gram(X_block, weight=s)
        if extra is None:
            continue
        residual = (y_code[rows][:, None] == others) - P
        if cov_type == "HC0":
            extra += _gram(_row_kron(np.sqrt(s)[:, None] * residual, X_block))
        else:
            scores = _row_kron(s[:, None] * residual, X_block)
            assert codes is not None  # cov_type "cluster" comes with its codes
            member = sp.csr_matrix(
                (np.ones(len(s)), (codes[rows], np.arange(len(s)))),
                shape=(n_groups, len(s)),
            )
            summed = member @ scores
            extra += summed.toarray() if sp.issparse(summed) else summed
    if not with_scatter:
        assert extra is None, "the meat comes with the scatter"
        return (information,)
    return (information, scatter) if extra is None else (information, scatter, extra)


def _add_penalty(
    hessian: np.ndarray, params: np.ndarray, n_classes: int, strength: np.ndarray
) -> np.ndarray:
    """Add the Hessian of the L2 penalty in the contrasts, ``P kron D``
    (module docstring: P is ``I - 1 1^T / K``, or 1 with two classes; D is
    diagonal, ``strength`` (f_j / C) for each feature j, 0 for the
    intercept), to ``hessian`` in place, and return the penalty's gradient at
    ``params``, ``P params D``."""
    n_rows, n_columns = params.shape
    n_features = len(strength)
    if n_classes == 2:
        across_classes = np.ones((1, 1))
    else:
        across_classes = np.eye(n_rows) - 1 / n_classes
    # Entry (a, j), (b, j) of the Kronecker product is P[a, b] for a feature
    # j: n_rows^2 * n_features entries, no dense penalty matrix.
    a, b, j = np.meshgrid(
        np.arange(n_rows), np.arange(n_rows), np.arange(n_features), indexing="ij"
    )
    hessian[a * n_columns + j, b * n_columns + j] += across_classes[a, b] * strength[j]
    gradient = across_classes @ params
    gradient[:, :n_features] *= strength
    gradient[:, n_features:] = 0.0
    return gradient


def _cluster_factor(n_groups: int, nobs: float, n_params: int) -> float:
    """statsmodels' small-sample factor of the cluster covariance."""
    if nobs <= n_params:
        raise ValueError(
            f'cov_type="cluster" needs more observations ({nobs:g}) than '
            f"parameters ({n_params})."
        )
    return n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_params)


def _inverse(factor: tuple[np.ndarray, bool]) -> np.ndarray:
    """The inverse of a matrix from its Cholesky factor (``cho_factor``),
    in place of the factor: no identity matrix is formed."""
    c, lower = factor
    inverse, info = scipy.linalg.lapack.dpotri(c, lower=lower, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed ({info})")
    # dpotri fills one triangle.
    upper = np.triu_indices_from(inverse, 1)
    if lower:
        inverse[upper] = inverse.T[upper]
    else:
        inverse.T[upper] = inverse[upper]
    return inverse
