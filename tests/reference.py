"""Independent references for the tests: the objective from its definition and a
Newton solver with the exact Hessian, written without any code of the package."""

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax, softmax


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _targets(y_code, n_classes, label_smoothing):
    """One-hot rows, smoothed: (1 - eps) * onehot + eps / n_classes."""
    return (1 - label_smoothing) * np.eye(n_classes)[y_code] + (
        label_smoothing / n_classes
    )


def _net_inputs(weights, intercept, X):
    """Net inputs of every class: ``X W^T + b``, with a zero column first for a
    one-row (binary) model, whose class 0 is the reference."""
    weights = np.asarray(weights, np.float64)
    Z = _dense(X) @ weights.T + np.asarray(intercept, np.float64)
    if weights.shape[0] == 1:
        Z = np.hstack([np.zeros((Z.shape[0], 1)), Z])
    return Z


def objective(
    weights,
    intercept,
    X,
    y_code,
    sample_weight,
    C,
    l1_ratio=0.0,
    label_smoothing=0.0,
    penalty_factor=None,
):
    """Weighted mean cross-entropy + sum_j f_j (r sum_k |W_kj| + (1 - r) / 2
    sum_k W_kj^2) / (C S), straight from the formula, with the full
    (smoothed) target matrix; f_j = ``penalty_factor[j]`` (1 if None). A
    one-row ``weights`` is the binary model (class 0 the reference)."""
    weights = np.asarray(weights, np.float64)
    Z = _net_inputs(weights, intercept, X)
    T = _targets(y_code, Z.shape[1], label_smoothing)
    cross_entropy = -(T * log_softmax(Z, axis=1)).sum(axis=1)
    S = sample_weight.sum()
    penalty = 0.0
    if not np.isinf(C):
        f = np.ones(weights.shape[1]) if penalty_factor is None else penalty_factor
        penalty = (
            l1_ratio * np.abs(weights) @ f + (1 - l1_ratio) / 2 * np.square(weights) @ f
        ).sum() / (C * S)
    return (sample_weight @ cross_entropy) / S + penalty


def smooth_gradient(
    weights,
    intercept,
    X,
    y_code,
    sample_weight,
    C,
    l1_ratio=0.0,
    label_smoothing=0.0,
    penalty_factor=None,
):
    """Gradient of the differentiable part of :func:`objective` (all but the L1
    term) with respect to the weights and the intercepts: ``R^T X + l2 W f``
    and ``R^T 1`` with the residuals ``R = diag(s / S) (softmax(Z) - T)`` (of
    class 1 alone for a one-row binary model) and f the penalty factors."""
    weights = np.asarray(weights, np.float64)
    X = _dense(X)
    Z = _net_inputs(weights, intercept, X)
    T = _targets(y_code, Z.shape[1], label_smoothing)
    P = softmax(Z, axis=1)
    R = ((P - T) * (sample_weight / sample_weight.sum())[:, None])[:, -len(weights) :]
    grad_weights = R.T @ X
    if not np.isinf(C):
        f = np.ones(weights.shape[1]) if penalty_factor is None else penalty_factor
        grad_weights += (1 - l1_ratio) / (C * sample_weight.sum()) * weights * f
    return grad_weights, R.sum(axis=0)


def curvature(weights, intercept, X, sample_weight, offset):
    """The diagonal of the data term's Hessian, from its definition: with
    q = p (1 - p) and the normalised weights s, ``sum_i s_i q_ik (x_ij -
    offset_j)^2`` per class and feature, and ``sum_i s_i q_ik`` per class."""
    X = _dense(X).astype(np.float64)
    P = softmax(X @ weights.T + np.asarray(intercept, np.float64), axis=1)
    Q = P * (1 - P) * (sample_weight / sample_weight.sum())[:, None]
    return Q.T @ (X - offset) ** 2, Q.sum(axis=0)


def _gradient_hessian(theta, X1, Y, sample_weight, penalty):
    """Gradient and Hessian of the objective over theta = [W, b] rows (one row
    for the binary model: the last class's, the first fixed at zero)."""
    n_classes = theta.shape[0]
    s = sample_weight / sample_weight.sum()
    P = softmax(_net_inputs(theta, 0.0, X1), axis=1)[:, -n_classes:]
    Y = Y[:, -n_classes:]
    grad = ((P - Y) * s[:, None]).T @ X1 + penalty * theta
    # Per-sample softmax Jacobian diag(p) - p p^T, weighted.
    A = -P[:, :, None] * P[:, None, :]
    A[:, np.arange(n_classes), np.arange(n_classes)] += P
    A *= s[:, None, None]
    hess = np.einsum("ijk,ia,ib->jakb", A, X1, X1, optimize=True)
    size = theta.size
    hess = hess.reshape(size, size) + np.diag(
        np.broadcast_to(penalty, theta.shape).ravel()
    )
    return grad.ravel(), hess


def newton_optimum(
    weights,
    intercept,
    X,
    y_code,
    sample_weight,
    C,
    n_steps=50,
    fit_intercept=True,
    penalty_factor=None,
):
    """Minimiser of :func:`objective` by Newton's method from a starting point.

    The Hessian is singular along "add a constant to every intercept", so each
    step solves the Newton system in the least-squares sense. Without an
    intercept the intercepts stay at zero. One-row weights fit the binary
    model (class 0 the reference). ``penalty_factor`` multiplies each
    feature's penalty (ones if None).
    """
    X = _dense(X)
    n_rows, n_features = np.shape(weights)
    n_classes = 2 if n_rows == 1 else n_rows
    X1 = np.hstack([X, np.full((X.shape[0], 1), float(fit_intercept))])
    Y = np.eye(n_classes)[y_code]
    penalty = np.zeros((n_rows, n_features + 1))
    if not np.isinf(C):
        factor = 1.0 if penalty_factor is None else np.asarray(penalty_factor)
        penalty[:, :n_features] = factor / (C * sample_weight.sum())
    theta = np.hstack([weights, np.reshape(intercept, (-1, 1))]).astype(np.float64)
    for _ in range(n_steps):
        grad, hess = _gradient_hessian(theta, X1, Y, sample_weight, penalty)
        step = np.linalg.lstsq(hess, -grad, rcond=1e-14)[0].reshape(theta.shape)
        theta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return theta[:, :n_features], theta[:, n_features]


def balanced(y_code, sample_weight):
    """Sample weights times the "balanced" class weights, from their definition:
    total weight / (n_classes * the class's weight)."""
    totals = np.bincount(y_code, weights=sample_weight)
    return sample_weight * (totals.sum() / (len(totals) * totals))[y_code]


def model_objective(model, X, y_code, sample_weight, C, params):
    """:func:`objective` at a fitted model's coefficients, with the estimator
    parameters ``params`` (class_weight, l1_ratio, label_smoothing, an array
    penalty_factor)."""
    if params.get("class_weight") == "balanced":
        sample_weight = balanced(y_code, sample_weight)
    return objective(
        model.coef_,
        model.intercept_,
        X,
        y_code,
        sample_weight,
        C,
        params.get("l1_ratio", 0.0),
        params.get("label_smoothing", 0.0),
        params.get("penalty_factor"),
    )


def centered(a):
    """Remove the mean over classes (the softmax is invariant to it)."""
    a = np.asarray(a, dtype=np.float64)
    return a - a.mean(axis=0)


def contrast_log_likelihood(params, X, y_code, sample_weight, reference, rows=None):
    """``sum_i s_i log p_{i, y_i}`` of a model given by its contrasts against
    the reference class: net inputs ``x~_i @ params[k]`` for the other classes
    (in order), 0 for the reference class; ``x~_i`` is the row of X with a one
    appended when ``params`` has a column more than X. ``rows`` selects rows."""
    X = _dense(X)
    rows = np.arange(X.shape[0]) if rows is None else np.atleast_1d(rows)
    X = X[rows]
    if params.shape[1] == X.shape[1] + 1:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    n_classes = params.shape[0] + 1
    others = [k for k in range(n_classes) if k != reference]
    Z = np.zeros((X.shape[0], n_classes))
    Z[:, others] = X @ params.T
    log_p = log_softmax(Z, axis=1)[np.arange(X.shape[0]), y_code[rows]]
    return sample_weight[rows] @ log_p


def centred_penalty(params, n_features, penalty_factor=None):
    """Half the squared weights, times each feature's penalty factor (1 if
    None), of the model with the given contrasts whose weights sum to zero
    over the classes (the L2 minimum over adding one vector to every class);
    with two classes, of its one row. The intercepts (a column past
    ``n_features``) are not penalised."""
    W = params[:, :n_features]
    f = np.ones(n_features) if penalty_factor is None else penalty_factor
    if W.shape[0] == 1:
        return 0.5 * (np.square(W) @ f).sum()
    every_class = np.vstack([np.zeros(n_features), W])
    return 0.5 * (np.square(every_class - every_class.mean(axis=0)) @ f).sum()


def numerical_gradient(f, x, step=1e-6):
    """Central differences of ``f`` at the array ``x``, of x's shape."""
    gradient = np.zeros(x.size)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = step
        gradient[j] = (f(x + e.reshape(x.shape)) - f(x - e.reshape(x.shape))) / (
            2 * step
        )
    return gradient


def numerical_hessian(f, x, step=1e-4):
    """Second central differences of ``f`` at ``x``: the Hessian of
    ``f(x.ravel())``, of shape (x.size, x.size)."""
    size = x.size
    hessian = np.zeros((size, size))
    unit = np.eye(size) * step
    for a in range(size):
        for b in range(a, size):
            ea, eb = unit[a].reshape(x.shape), unit[b].reshape(x.shape)
            hessian[a, b] = hessian[b, a] = (
                f(x + ea + eb) - f(x + ea - eb) - f(x - ea + eb) + f(x - ea - eb)
            ) / (4 * step**2)
    return hessian
