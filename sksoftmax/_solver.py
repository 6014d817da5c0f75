"""SciPy's L-BFGS-B as the solver, with progress output and convergence reporting."""

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._loss import one_blas_thread


def minimize_lbfgs(loss_gradient, x0, *, tol, max_iter, verbose=0, bounds=None):
    """Minimise ``loss_gradient`` (returning value and gradient) with L-BFGS-B.

    Parameters
    ----------
    loss_gradient : callable
        ``loss_gradient(x) -> (float, ndarray)``.
    x0 : ndarray of shape (n_params,)
        Starting point.
    tol : float
        Stop when the largest component of the projected gradient is <= tol.
    max_iter : int
        Maximum number of L-BFGS-B iterations.
    verbose : int, default=0
        If >= 1, print one line per iteration: objective and gradient norm.
    bounds : sequence of (low, high) pairs, default=None
        Box constraints on the parameters.

    Returns
    -------
    x : ndarray of shape (n_params,)
        The solution.
    n_iter : int
        Iterations run, at least 1 (scikit-learn's convention for ``n_iter_``).
    """
    last = {}

    def fun(x):
        value, grad = loss_gradient(x)
        last["value"], last["grad"] = value, grad
        return value, grad

    def report(x):
        # L-BFGS-B ends each iteration with an evaluation at the accepted point,
        # so the cached value and gradient are those of ``x``.
        report.n_iter += 1
        print(
            f"L-BFGS-B iteration {report.n_iter:4d}: objective {last['value']:.10e}, "
            f"max |gradient| {np.max(np.abs(last['grad'])):.3e}",
            flush=True,
        )

    report.n_iter = 0
    # BLAS runs on one thread during the fit: the products of one block are
    # small, and OpenBLAS threads spinning between them made a fit of the digits
    # data 10x slower on two cores; the loss kernel instead shares its blocks
    # among a pool of threads, which BLAS threads would oversubscribe.
    with one_blas_thread():
        result = scipy.optimize.minimize(
            fun,
            x0,
            method="L-BFGS-B",
            jac=True,
            bounds=bounds,
            callback=report if verbose else None,
            options={
                "maxiter": max_iter,
                "maxfun": max(15000, 20 * max_iter),
                "maxls": 50,
                "gtol": tol,
                # A tiny ftol: stop on the projected gradient, not on a small
                # relative decrease of the objective.
                "ftol": 64 * np.finfo(np.float64).eps,
            },
        )
    check_convergence(result, max_iter=max_iter, tol=tol)
    return result.x, max(int(result.nit), 1)


def check_convergence(result, *, max_iter, tol):
    """Warn with a ``ConvergenceWarning`` unless L-BFGS-B reported success."""
    if result.success:
        return
    message = result.message
    if isinstance(message, bytes):
        message = message.decode("latin1")
    if result.status == 1:
        reason = (
            f"it reached max_iter={max_iter} iterations"
            if result.nit >= max_iter
            else "it reached the limit on function evaluations"
        )
        advice = "Increase max_iter, or loosen tol"
    else:
        reason = f"L-BFGS-B stopped early ({message})"
        advice = (
            "The objective may be flat to machine precision (data that a class "
            "separates perfectly with C=np.inf, a class of zero total weight); "
            "try a smaller C"
        )
    warnings.warn(
        f"SoftmaxRegressionClassifier did not converge: {reason} before the "
        f"projected gradient fell below tol={tol} (final max |gradient| "
        f"{np.max(np.abs(result.jac)):.3e}). {advice}.",
        ConvergenceWarning,
        stacklevel=4,
    )
