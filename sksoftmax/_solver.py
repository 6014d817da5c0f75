"""SciPy's L-BFGS-B as the solver: progress through a callback, convergence
reported in one place."""

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._validation import ESTIMATOR_NAME, warn

#: Function evaluations allowed per iteration, on average: L-BFGS-B's line
#: search rarely needs more than two, so the evaluation limit only stops a fit
#: whose line searches fail over and over.
_EVALUATIONS_PER_ITERATION = 20
#: SciPy's default evaluation limit, kept as the floor for small max_iter.
_MIN_EVALUATIONS = 15000
#: Line-search steps per iteration (SciPy's default is 20): near the optimum
#: of badly scaled problems the search needed more to find a decrease.
_MAX_LINE_SEARCH = 50


class SolverStep(NamedTuple):
    """What a callback receives after each L-BFGS-B iteration."""

    #: Iterations done, from 1.
    iteration: int
    #: The objective at the accepted point.
    objective: float
    #: Largest absolute component of the gradient there (what ``tol`` bounds
    #: once projected on the bounds).
    gradient_norm: float
    #: Evaluations of the objective so far (line-search trials included).
    n_evaluations: int
    #: Seconds since the solver started.
    elapsed: float


class SolverResult(NamedTuple):
    """The solution of :func:`minimize_lbfgs`."""

    x: np.ndarray
    #: Iterations run, at least 1 (scikit-learn's convention for ``n_iter_``).
    n_iter: int
    #: Whether the projected gradient fell below ``tol``.
    converged: bool


def print_step(step: SolverStep) -> None:
    """The ``verbose`` line of one iteration."""
    print(
        f"L-BFGS-B iteration {step.iteration:4d}: objective {step.objective:.10e}, "
        f"max |gradient| {step.gradient_norm:.3e}, "
        f"{step.n_evaluations:4d} evaluations, {step.elapsed:8.3f} s",
        flush=True,
    )


def minimize_lbfgs(
    loss_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    bounds=None,
    callback: Callable[[SolverStep], None] | None = None,
    verbose: int = 0,
) -> SolverResult:
    """Minimise ``loss_gradient`` (returning value and gradient) with L-BFGS-B.

    Warns with a ``ConvergenceWarning``, attributed to the caller's line,
    unless L-BFGS-B reports success.

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
    bounds : scipy.optimize.Bounds, default=None
        Box constraints on the parameters.
    callback : callable, default=None
        ``callback(step)`` with a :class:`SolverStep` after every iteration.
        An exception it raises ends the solver and propagates.
    verbose : int, default=0
        If >= 1, print one line per iteration (:func:`print_step`).

    Returns
    -------
    SolverResult
    """
    start = time.perf_counter()
    last = {"n_evaluations": 0}
    listeners = [f for f in (print_step if verbose else None, callback) if f]

    def fun(x):
        value, grad = loss_gradient(x)
        last["value"], last["grad"] = value, grad
        last["n_evaluations"] += 1
        return value, grad

    def report(x):
        # L-BFGS-B ends each iteration with an evaluation at the accepted point,
        # so the cached value and gradient are those of ``x``.
        report.n_iter += 1
        step = SolverStep(
            iteration=report.n_iter,
            objective=float(last["value"]),
            gradient_norm=float(np.max(np.abs(last["grad"]), initial=0.0)),
            n_evaluations=last["n_evaluations"],
            elapsed=time.perf_counter() - start,
        )
        for listener in listeners:
            listener(step)

    report.n_iter = 0
    result = scipy.optimize.minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        callback=report if listeners else None,
        options={
            "maxiter": max_iter,
            "maxfun": max(_MIN_EVALUATIONS, _EVALUATIONS_PER_ITERATION * max_iter),
            "maxls": _MAX_LINE_SEARCH,
            "gtol": tol,
            # A tiny ftol: stop on the projected gradient, not on a small
            # relative decrease of the objective. (A few ulps, not zero: a
            # decrease below float64's resolution of the objective cannot be
            # measured, and the line search then fails instead of stopping.)
            "ftol": 64 * np.finfo(np.float64).eps,
        },
    )
    if not result.success:
        warn_not_converged(result, max_iter=max_iter, tol=tol)
    return SolverResult(result.x, max(int(result.nit), 1), bool(result.success))


def warn_not_converged(result, *, max_iter: int, tol: float) -> None:
    """The ``ConvergenceWarning`` of an L-BFGS-B result that did not succeed."""
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
    warn(
        f"{ESTIMATOR_NAME} did not converge: {reason} before the "
        f"projected gradient fell below tol={tol} (final max |gradient| "
        f"{np.max(np.abs(result.jac)):.3e}). {advice}.",
        ConvergenceWarning,
    )
