"""Independent references for the tests: the objective from its definition and a
Newton solver with the exact Hessian, written without any code of the package."""

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax, softmax


def objective(weights, intercept, X, y_code, sample_weight, C):
    """Weighted mean cross-entropy + ||W||^2 / (2 C S), straight from the formula."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    Z = X @ np.asarray(weights, np.float64).T + np.asarray(intercept, np.float64)
    log_p = log_softmax(Z, axis=1)[np.arange(len(y_code)), y_code]
    S = sample_weight.sum()
    penalty = 0.0 if np.isinf(C) else np.sum(np.square(weights)) / (2 * C * S)
    return -(sample_weight @ log_p) / S + penalty


def _gradient_hessian(theta, X1, Y, sample_weight, penalty):
    """Gradient and Hessian of the objective over theta = [W, b] rows."""
    n_classes = Y.shape[1]
    s = sample_weight / sample_weight.sum()
    P = softmax(X1 @ theta.T, axis=1)
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


def newton_optimum(weights, intercept, X, y_code, sample_weight, C, n_steps=50):
    """Minimiser of :func:`objective` by Newton's method from a starting point.

    The Hessian is singular along "add a constant to every intercept", so each
    step solves the Newton system in the least-squares sense.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n_classes, n_features = np.shape(weights)
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    Y = np.eye(n_classes)[y_code]
    penalty = np.zeros((n_classes, n_features + 1))
    if not np.isinf(C):
        penalty[:, :n_features] = 1.0 / (C * sample_weight.sum())
    theta = np.hstack([weights, np.reshape(intercept, (-1, 1))]).astype(np.float64)
    for _ in range(n_steps):
        grad, hess = _gradient_hessian(theta, X1, Y, sample_weight, penalty)
        step = np.linalg.lstsq(hess, -grad, rcond=1e-14)[0].reshape(theta.shape)
        theta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return theta[:, :n_features], theta[:, n_features]


def centered(a):
    """Remove the mean over classes (the softmax is invariant to it)."""
    a = np.asarray(a, dtype=np.float64)
    return a - a.mean(axis=0)
