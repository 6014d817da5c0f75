"""Firth's bias-reduced fit (``firth=True``): the log-likelihood plus half the
log-determinant of the Fisher information.

Objective
---------
In the contrasts theta against the reference class 0 (the weights and
intercepts of classes 1, ..., K-1, class 0's held at zero), with the raw
(frequency) sample weights s_i, the fit minimises::

    F(theta) = -log L(theta) - 1/2 log det I(theta)
               + 1/2 sum_j f_j / C theta_j^T P theta_j

where I is the Fisher information of the contrasts
(:mod:`sksoftmax._covariance`: ``sum_i s_i (diag(p_i) - p_i p_i^T) kron x~_i
x~_i^T``), and the last term is the L2 penalty of the symmetric weights at
their best class shift, in the contrasts (``P = I - 1 1^T / K``, or 1 with two
classes, as in :func:`sksoftmax._covariance._add_penalty`); C = inf drops it.
The penalty ``1/2 log det I`` is Jeffreys' invariant prior (Firth 1993; for the
multinomial model Kosmidis and Firth 2011): it is the same whichever class is
the reference, and its estimates are finite where the classes are separated.
With two classes this is Firth's logistic regression (R's ``logistf``,
``firthmodels.FirthLogisticRegression``).

The gradient of the log-determinant
-----------------------------------
With ``H_i[a, b] = x~_i^T (I^-1)_{ab} x~_i`` (the leverages of row i, for the
classes a, b other than the reference) and ``W_i = diag(p_i) - p_i p_i^T``,
``d log det I / d theta_c = sum_i s_i g_ic x~_i`` where g_ic is
``trace(H_i dW_i / d eta_ic)``; with ``dp_a / d eta_c = p_a (delta_ac - p_c)``
this is::

    v_a  = p_a (H_aa - 2 (H p)_a)
    g_ic = v_c - p_c sum_a v_a

Solver
------
Newton's method with the Fisher information (plus the penalty's Hessian) for
the Hessian, as ``logistf`` and ``firthmodels`` do (the log-determinant's own
curvature left out), and step halving until F decreases. The fit has
converged when the next Newton step would move no coefficient by more than
``tol`` standard errors (of the information) nor by more than ``tol``
relative to its value (``tol``, or the square root of X's epsilon where that
is larger: X's dtype rounds the gradient), or when no halved step lowers F
and the decrease that the step predicts, ``g^T H^-1 g / 2``, is within the
rounding of F. Each step
is one pass over the rows for the loss, one for the information and one for
the log-determinant's gradient, and the information of
``(K - 1) (n_features + 1)`` parameters is a dense matrix: hence a bound on
their number (:data:`_MAX_PARAMS`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._backends._contract import BlockData, DataTerm
from ._covariance import Rows, _add_penalty, _inverse, _with_ones, block_sums
from ._loss import iter_blocks, net_input, right_factor, softmax
from ._settings import FitSettings
from ._validation import warn

#: The most contrasts (K - 1) (n_features + fit_intercept) a Firth fit takes:
#: its information is a dense float64 matrix of their number squared (32 MiB).
_MAX_PARAMS = 2048
#: Entries of the largest temporary of a block, as in the covariance sums.
_BLOCK_ENTRIES = 1 << 22
#: Step halvings before a Newton step is given up.
_HALVINGS = 30
#: The largest move of one coefficient in one Newton step (logistf's
#: ``maxstep``), unless the largest coefficient is larger: a step beyond is
#: shortened as a whole.
_MAX_STEP = 5.0


class FirthResult(NamedTuple):
    """A Firth fit in the contrasts against class 0."""

    #: The contrasts, shape (n_classes - 1, n_features + fit_intercept).
    params: np.ndarray
    #: Newton steps taken.
    n_iter: int
    converged: bool


def check_firth(settings: FitSettings, data: DataTerm) -> None:
    """Errors for the settings and data a Firth fit does not take."""
    unsupported = [
        (
            settings.l1_ratio > 0 and np.isfinite(settings.C),
            f"l1_ratio={settings.l1_ratio} (an L1 term)",
        ),
        (settings.coef_bounds is not None, "coef_bounds"),
        (settings.label_smoothing > 0, "label_smoothing"),
    ]
    named = [text for applies, text in unsupported if applies]
    if named:
        raise ValueError(
            f"{settings.estimator}: firth=True fits the log-likelihood plus half "
            "the log-determinant of the information, alone or with an L2 "
            f"penalty; it does not take {', '.join(named)}."
        )
    if not hasattr(data, "sum_blocks"):
        raise TypeError(
            f"{settings.estimator}: firth=True needs a back-end that sums over "
            f"its row blocks, which {type(data).__name__} does not."
        )


def firth_fit(
    data: DataTerm,
    n_classes: int,
    settings: FitSettings,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> FirthResult:
    """Minimise the module docstring's F on ``data`` (raw weights, summed
    over rows); ``start`` is (weights, intercepts) of every class."""
    check_firth(settings, data)
    data = cast(BlockData, data)  # (check_firth: it sums over its blocks)
    fit_intercept = settings.fit_intercept
    n_features = data.n_features
    n_columns = n_features + fit_intercept
    others = np.arange(1, n_classes)
    n_params = len(others) * n_columns
    if n_params > _MAX_PARAMS:
        raise ValueError(
            f"{settings.estimator}: firth=True holds the information of the "
            f"(n_classes - 1) * (n_features + fit_intercept) = {n_params} "
            f"parameters as a dense matrix, at most {_MAX_PARAMS} of them."
        )
    strength = None
    if np.isfinite(settings.C):
        factors = settings.penalty_factor
        if factors is None:
            factors = np.ones(n_features)
        strength = np.asarray(factors, dtype=np.float64) / settings.C

    if start is None:
        params = np.zeros((len(others), n_columns))
        if fit_intercept:
            totals = data.class_totals(n_classes)
            with np.errstate(divide="ignore"):
                start_intercept = np.log(totals[others] / totals[0])
            params[:, -1] = np.where(np.isfinite(start_intercept), start_intercept, 0.0)
    else:
        weights, intercept = start
        params = np.column_stack(
            [weights[others] - weights[0]]
            + ([intercept[others] - intercept[0]] if fit_intercept else [])
        )

    def every_class(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weights = np.zeros((n_classes, n_features))
        weights[others] = params[:, :n_features]
        intercept = np.zeros(n_classes)
        if fit_intercept:
            intercept[others] = params[:, -1]
        return weights, intercept

    def value(params: np.ndarray) -> tuple[float, tuple | None]:
        """F at params, and what its gradient needs (None where the
        information is singular: F is then +inf)."""
        weights, intercept = every_class(params)
        loss, grad_weights, grad_intercept = data.loss_gradient(weights, intercept, 0.0)
        information = data.sum_blocks(
            block_sums,
            (weights, intercept),
            others=others,
            fit_intercept=fit_intercept,
            cov_type="nonrobust",
            block_entries=_BLOCK_ENTRIES,
            with_scatter=False,
        )[0]
        information = (information + information.T) / 2
        try:
            factor = scipy.linalg.cho_factor(information)
        except np.linalg.LinAlgError:
            return np.inf, None
        log_det = 2.0 * np.sum(np.log(np.diag(factor[0])))
        total = data.weight_sum * loss - 0.5 * log_det
        hessian = information
        penalty_gradient = np.zeros_like(params)
        if strength is not None:
            hessian = information.copy()
            penalty_gradient = _add_penalty(hessian, params, n_classes, strength)
            total += 0.5 * np.vdot(params, penalty_gradient)
        score = data.weight_sum * np.column_stack(
            [grad_weights[others]] + ([grad_intercept[others]] if fit_intercept else [])
        )
        return total, (weights, intercept, factor, hessian, score + penalty_gradient)

    current, parts = value(params)
    if parts is None:
        raise ValueError(
            f"{settings.estimator}: firth=True needs a nonsingular information "
            "at the start: the columns of X (with the intercept's) are "
            "collinear, or a class has no rows."
        )
    converged = False
    n_iter = 0
    # The objective's rounding: X's dtype rounds the products (float32's
    # resolve a relative 1e-7 of the loss).
    rounding = 1e3 * data.eps
    # The gradient's own rounding: no step is measured more finely than the
    # square root of X's epsilon (1.5e-8 in float64, 3.5e-4 in float32).
    reachable = max(settings.tol, float(np.sqrt(data.eps)))
    while True:
        weights, intercept, factor, hessian, gradient = parts
        inverse = _inverse(factor)
        gradient = gradient - 0.5 * log_det_gradient(
            data, weights, intercept, others, fit_intercept, inverse
        )
        step = scipy.linalg.solve(hessian, gradient.ravel(), assume_a="pos")
        decrease = 0.5 * float(gradient.ravel() @ step)
        scale = max(1.0, abs(current))
        # The step in standard errors (of the information), free of the
        # features' units, and relative to the coefficients, which it bounds
        # where the information is nearly singular (separated classes: there
        # the log-determinant alone keeps the estimate finite).
        distance = float(np.max(np.abs(step) / np.sqrt(np.diag(inverse))))
        relative = float(np.max(np.abs(step) / (1.0 + np.abs(params.ravel()))))
        del inverse
        if max(distance, relative) <= reachable:
            converged = True
            break
        if n_iter >= settings.max_iter:
            break
        step = step.reshape(params.shape)
        # At most _MAX_STEP, or as far as the largest coefficient already is
        # (where separated classes drive coefficients to hundreds, a fixed
        # bound made the steps a walk).
        limit = max(_MAX_STEP, float(np.max(np.abs(params))))
        largest = np.max(np.abs(step))
        if largest > limit:
            step *= limit / largest
        # A step that the quadratic model says gains less than rounding is
        # taken unless it raises F beyond rounding.
        allowance = rounding * scale if decrease <= rounding * scale else 0.0
        for _ in range(_HALVINGS):
            candidate = params - step
            trial, trial_parts = value(candidate)
            if trial <= current + allowance:
                break
            step = step / 2
        else:
            # No halved step lowers F: at its rounding, or stuck.
            converged = decrease <= rounding * scale
            break
        n_iter += 1
        params, current, parts = candidate, trial, trial_parts
        assert parts is not None  # a finite F has a nonsingular information
    if not converged:
        advice = (
            "Increase max_iter"
            if n_iter >= settings.max_iter
            else "No shorter step lowers it: the objective is flat to rounding "
            "there, or X is badly scaled; loosen tol or standardise X"
        )
        warn(
            f"{settings.estimator} (firth=True) did not converge to "
            f"tol={settings.tol} after {n_iter} Newton steps: the next would "
            f"move the estimate by {distance:.3g} standard errors and lower "
            f"the objective by {decrease:.3g} ({decrease / scale:.1e} "
            f"relative). {advice}.",
            ConvergenceWarning,
        )
    return FirthResult(params, max(n_iter, 1), converged)


def model_rows_of(params: np.ndarray, n_classes: int, n_features: int) -> tuple:
    """The model's (weights, intercepts) of the contrasts ``params``: the
    contrasts themselves with two classes (one row), else every class's,
    centred over the classes (the L2 penalty's class shift; the limit of a
    vanishing one where there is none)."""
    weights = params[:, :n_features]
    intercept = params[:, n_features] if params.shape[1] > n_features else None
    if intercept is None:
        intercept = np.zeros(len(params))
    if n_classes == 2:
        return weights.copy(), intercept.copy()
    weights = np.vstack([np.zeros(n_features), weights])
    intercept = np.append(0.0, intercept)
    return weights - weights.mean(axis=0), intercept - intercept.mean()


def log_det_gradient(
    data: BlockData,
    weights: np.ndarray,
    intercept: np.ndarray,
    others: np.ndarray,
    fit_intercept: bool,
    inverse: np.ndarray,
) -> np.ndarray:
    """The gradient of ``log det I`` in the contrasts of the classes
    ``others`` against the remaining one, of shape (len(others), n_columns),
    at every class's ``weights`` and ``intercept``; ``inverse`` is that of
    the information I in the same contrasts."""
    return data.sum_blocks(
        log_det_gradient_block,
        (weights, intercept),
        others=others,
        fit_intercept=fit_intercept,
        inverse=inverse,
    )[0]


def log_det_gradient_block(
    block: tuple[Rows, np.ndarray, np.ndarray],
    coefficients: tuple[np.ndarray, np.ndarray],
    *,
    others: np.ndarray,
    fit_intercept: bool,
    inverse: np.ndarray,
) -> tuple[np.ndarray]:
    """The gradient of ``log det I`` in the contrasts (module docstring), as
    a sum over the rows of one block (``block`` and ``coefficients`` as
    :func:`sksoftmax._covariance.block_sums` takes them), in row blocks of
    at most :data:`_BLOCK_ENTRIES` temporaries."""
    X, _, sample_weight = block
    weights, intercept = coefficients
    n_others = len(others)
    n_columns = X.shape[1] + fit_intercept
    # inverse[a, l, b, j]: the entry of classes (a, b), columns (l, j).
    by_class = inverse.reshape(n_others, n_columns, n_others * n_columns)
    gradient = np.zeros((n_others, n_columns))
    weights_t = right_factor(weights, X)
    block_size = int(
        np.clip(_BLOCK_ENTRIES // (n_others * n_others * n_columns), 16, 16384)
    )
    for rows in iter_blocks(X.shape[0], block_size):
        s = sample_weight[rows]
        P = softmax(net_input(X, rows, weights_t, intercept))[:, others]
        X_block = _with_ones(X[rows], fit_intercept)
        if sp.issparse(X_block):
            # (SciPy has no type hints: sp.issparse cannot narrow X_block.)
            X_block = cast(Any, X_block).toarray()
        leverage = np.empty((len(s), n_others, n_others))
        for a in range(n_others):
            # x~_i^T (I^-1)_{ab} x~_i for every b: (n, n_others * n_columns).
            left = (X_block @ by_class[a]).reshape(len(s), n_others, n_columns)
            leverage[:, a, :] = np.einsum("ibj,ij->ib", left, X_block)
        diagonal = np.einsum("iaa->ia", leverage)
        v = P * (diagonal - 2.0 * np.einsum("iab,ib->ia", leverage, P))
        g = v - P * v.sum(axis=1, keepdims=True)
        gradient += (s[:, None] * g).T @ X_block
    return (gradient,)
