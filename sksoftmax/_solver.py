"""SciPy's L-BFGS-B as the solver, in rounds between which the variables follow
the curvature: progress through a callback, convergence decided and reported
in one place.

The solver knows nothing of the objective's variables: a :class:`Problem`
gives its value and gradient, its bounds, and a rescaled copy of itself, and
says in its own words why a gradient test is tightened. A run's fixed asks
(:class:`_Limits`) and where it stands (:class:`_SolverState`) are two
records, and the run is four named steps: a round of L-BFGS-B, a rescaling,
the stop tests, and the decision to go on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._validation import warn

#: Function evaluations allowed per iteration, on average: L-BFGS-B's line
#: search rarely needs more than two, so the evaluation limit only stops a fit
#: whose line searches fail over and over.
_EVALUATIONS_PER_ITERATION = 20
#: SciPy's default evaluation limit, kept as the floor for small max_iter.
_MIN_EVALUATIONS = 15000
#: Line-search steps per iteration (SciPy's default is 20): near the optimum
#: of badly scaled problems the search needed more to find a decrease.
_MAX_LINE_SEARCH = 50
#: Iterations of the first L-BFGS-B round between rescalings; each next round
#: may run twice as long. Early rounds let the scaling follow the curvature
#: where it changes most; long later rounds keep L-BFGS's memory (fixed rounds
#: of 50 or 100 iterations left nearly separable data 10-100 times further from
#: the optimum after 4,000 evaluations than doubling rounds did).
_FIRST_ROUND = 20
#: Iterations per window of :func:`remaining_gap_estimate`.
_TREND_WINDOW = 10
#: Fewest iterations a window of :func:`remaining_gap_estimate` needs to
#: measure a rate.
_MIN_TREND_WINDOW = 2
#: Rounds in a row without progress that end a fit (with a warning).
_STALLED_ROUNDS = 2
#: Relative decrease of the objective below which a round that stopped early
#: made no progress.
_RESOLUTION = 64 * np.finfo(np.float64).eps


class SolverStep(NamedTuple):
    """What a callback receives after each iteration (of L-BFGS-B, or of the
    Newton steps that finish a fit: :mod:`sksoftmax._newton`)."""

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
    #: The method of the iteration: "L-BFGS-B" or "Newton".
    method: str = "L-BFGS-B"


class SolverResult(NamedTuple):
    """The solution of :func:`minimize_lbfgs`."""

    x: np.ndarray
    #: Iterations run, at least 1 (scikit-learn's convention for ``n_iter_``).
    n_iter: int
    #: Whether the projected gradient fell below ``tol`` (in the variables of
    #: the last rescaling) with the objective's extrapolated decrease below
    #: ``tol`` too.
    converged: bool
    #: The problem in the variables of ``x`` (the last rescaling's), which
    #: reads it.
    problem: Any = None
    #: The ``ConvergenceWarning``'s text where it did not converge, else None.
    message: str | None = None
    #: Evaluations of the objective (line-search trials included).
    n_evaluations: int = 0


def print_step(step: SolverStep) -> None:
    """The ``verbose`` line of one iteration."""
    print(
        f"{step.method:>8} iteration {step.iteration:4d}: "
        f"objective {step.objective:.10e}, "
        f"max |gradient| {step.gradient_norm:.3e}, "
        f"{step.n_evaluations:4d} evaluations, {step.elapsed:8.3f} s",
        flush=True,
    )


def projected_gradient(
    x: np.ndarray, grad: np.ndarray, bounds: scipy.optimize.Bounds | None = None
) -> np.ndarray:
    """The gradient projected on the bounds: ``clip(x - grad, lower, upper) -
    x`` (its largest component is what ``tol`` bounds)."""
    if bounds is None:
        return grad
    return np.clip(x - grad, bounds.lb, bounds.ub) - x


def projected_gradient_norm(
    x: np.ndarray, grad: np.ndarray, bounds: scipy.optimize.Bounds | None = None
) -> float:
    """Largest component of the projected gradient."""
    return float(np.max(np.abs(projected_gradient(x, grad, bounds)), initial=0.0))


class Problem(Protocol):
    """What :func:`minimize_problem` minimises: a function of the flat vector
    in some variables, which may be changed between rounds.

    :class:`sksoftmax._objective.SoftmaxObjective` is one.
    """

    def loss_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The value and gradient at ``x``."""
        ...

    def bounds(self) -> scipy.optimize.Bounds | None:
        """Box constraints on ``x``, or None."""
        ...

    def rescaled(
        self, x: np.ndarray, gradient: np.ndarray | None
    ) -> tuple[Problem, np.ndarray, np.ndarray | None]:
        """The problem over new variables (to the curvature at ``x``), and
        ``x`` and ``gradient`` in them (the gradient None if it must be
        evaluated again); this problem is unchanged."""
        ...


@dataclasses.dataclass(frozen=True)
class _FunctionProblem:
    """A :class:`Problem` of :func:`minimize_lbfgs`'s callables."""

    function: Callable[[np.ndarray], tuple[float, np.ndarray]]
    box: scipy.optimize.Bounds | None

    def loss_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        return self.function(x)

    def bounds(self) -> scipy.optimize.Bounds | None:
        return self.box

    def rescaled(
        self, x: np.ndarray, gradient: np.ndarray | None
    ) -> tuple[Problem, np.ndarray, np.ndarray | None]:
        return self, x, gradient


def minimize_lbfgs(
    loss_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    gradient_tol: float | None = None,
    gradient_tol_reason: str | None = None,
    bounds: scipy.optimize.Bounds | None = None,
    callback: Callable[[SolverStep], None] | None = None,
    verbose: int = 0,
    owner: str = "L-BFGS-B",
) -> SolverResult:
    """:func:`minimize_problem` of a function given as a callable, in fixed
    variables.

    Parameters
    ----------
    loss_gradient : callable
        ``loss_gradient(x) -> (float, ndarray)``.
    x0 : ndarray of shape (n_params,)
        Starting point.
    tol, max_iter, gradient_tol, gradient_tol_reason
        As for :func:`minimize_problem`.
    bounds : scipy.optimize.Bounds, default=None
        Box constraints on the parameters.
    callback, verbose, owner
        As for :func:`minimize_problem`.

    Returns
    -------
    SolverResult
    """
    return minimize_problem(
        _FunctionProblem(loss_gradient, bounds),
        x0,
        tol=tol,
        max_iter=max_iter,
        gradient_tol=gradient_tol,
        gradient_tol_reason=gradient_tol_reason,
        callback=callback,
        verbose=verbose,
        owner=owner,
    )


@dataclasses.dataclass(frozen=True)
class _Limits:
    """What a run of the solver is asked for, fixed for the run."""

    tol: float
    #: The gradient test's bound (``tol``, or below it).
    gradient_tol: float
    #: Why ``gradient_tol`` is below ``tol``, for the warning; None if it is not.
    gradient_tol_reason: str | None
    max_iter: int
    max_evaluations: int
    owner: str


@dataclasses.dataclass
class _SolverState:
    """Where a run of the solver stands."""

    #: The problem in the current variables (the last rescaling's).
    problem: Problem
    #: Its bounds.
    box: scipy.optimize.Bounds | None
    #: ``time.perf_counter()`` at the start.
    started: float
    #: Who sees each :class:`SolverStep`.
    listeners: list[Callable[[SolverStep], None]]
    n_iter: int = 0
    n_evaluations: int = 0
    #: The objective at the start and after each iteration.
    history: list[float] = dataclasses.field(default_factory=list)
    #: The last point evaluated, in the current variables, with its value and
    #: gradient: a round starts where the last check evaluated, and the
    #: iteration callback reads the accepted point's, without a second pass.
    evaluated_x: np.ndarray | None = None
    value: float = np.nan
    grad: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    #: Iterations the next round may run.
    round_iter: int = _FIRST_ROUND
    #: The objective after the last round, and the rounds in a row that made
    #: no progress.
    last_round_value: float = np.inf
    n_stalled: int = 0
    #: L-BFGS-B's message, of the last round it ended.
    message: str | bytes = ""


def minimize_problem(
    problem: Problem,
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    gradient_tol: float | None = None,
    gradient_tol_reason: str | None = None,
    callback: Callable[[SolverStep], None] | None = None,
    verbose: int = 0,
    owner: str = "L-BFGS-B",
    warn_on_failure: bool = True,
) -> SolverResult:
    """Minimise ``problem`` with L-BFGS-B, rescaling it between rounds.

    L-BFGS-B runs in rounds. After each, ``problem.rescaled(x, gradient)``
    changes the variables (to the current curvature) and gives the problem
    and x and its gradient in the new ones, and the next round starts there
    from an empty memory. The rounds grow (:data:`_FIRST_ROUND` iterations,
    then doubling); a round also ends where L-BFGS-B stops by itself, or
    after the first iteration that passes the stop tests: the projected
    gradient at most ``tol``, and the objective's extrapolated decrease
    (:func:`remaining_gap_estimate`) at most ``tol`` times its value. Before
    there are two windows of iterations to extrapolate from (a warm start),
    the decrease that the quadratic model of unit curvature promises, half the
    squared norm of the projected gradient, and the rate of the last two
    decreases stand in for it: a start is accepted only where that model
    leaves less than ``tol`` to gain. The fit has converged only when the
    tests pass in the variables of the *last* rescaling: a gradient that is
    small only because the variables were scaled for another point does not
    count.

    Warns with a ``ConvergenceWarning``, attributed to the caller's line,
    unless it converged.

    Parameters
    ----------
    problem : Problem
        The function, its bounds and its rescaling.
    x0 : ndarray of shape (n_params,)
        Starting point, in ``problem``'s variables.
    tol : float
        Stop when the largest component of the projected gradient is <= tol.
    max_iter : int
        Maximum number of L-BFGS-B iterations, over all rounds.
    gradient_tol : float, default=None
        The gradient test's bound, where it must be below ``tol`` (a badly
        conditioned problem: :attr:`SoftmaxObjective.gradient_tol_factor`);
        None is ``tol``.
    gradient_tol_reason : str, default=None
        Why ``gradient_tol`` is below ``tol``, for the warning (the
        problem's own words: :attr:`SoftmaxObjective.gradient_tol_reason`).
    callback : callable, default=None
        ``callback(step)`` with a :class:`SolverStep` after every iteration.
        An exception it raises ends the solver and propagates.
    verbose : int, default=0
        If >= 1, print one line per iteration (:func:`print_step`).
    owner : str, default="L-BFGS-B"
        The estimator or function that the warning names.
    warn_on_failure : bool, default=True
        Warn where the run does not converge; False leaves the warning's text
        in the result's ``message``, for a caller that goes on from there.

    Returns
    -------
    SolverResult
    """
    started = time.perf_counter()
    limits = _Limits(
        tol=tol,
        gradient_tol=tol if gradient_tol is None else gradient_tol,
        gradient_tol_reason=gradient_tol_reason,
        max_iter=max_iter,
        max_evaluations=max(_MIN_EVALUATIONS, _EVALUATIONS_PER_ITERATION * max_iter),
        owner=owner,
    )
    state = _SolverState(
        problem=problem,
        box=problem.bounds(),
        started=started,
        listeners=[f for f in (print_step if verbose else None, callback) if f],
    )
    x = np.asarray(x0, dtype=np.float64)
    while True:
        # 1. A round of L-BFGS-B.
        x, stopped_early = _run_round(state, limits, x)
        # 2. New variables for the point it reached.
        x, value, grad = _rescale(state, x)
        # 3. The stop tests, in the new variables.
        if _passes_stop_tests(state, limits, x, grad, value):
            return SolverResult(
                x,
                max(state.n_iter, 1),
                True,
                state.problem,
                n_evaluations=state.n_evaluations,
            )
        # 4. Another round, unless the budget is spent or rounds stall.
        state.round_iter *= 2
        out_of_budget = (
            state.n_iter >= limits.max_iter
            or state.n_evaluations >= limits.max_evaluations
        )
        if _stalled(state, stopped_early, value) or out_of_budget:
            message = not_converged_message(
                state.message,
                max_iter=limits.max_iter,
                tol=limits.tol,
                gradient_tol=limits.gradient_tol,
                gradient_tol_reason=limits.gradient_tol_reason,
                gradient_norm=projected_gradient_norm(x, grad, state.box),
                out_of_budget=out_of_budget,
                n_iter=state.n_iter,
                owner=limits.owner,
            )
            if warn_on_failure:
                warn(message, ConvergenceWarning)
            return SolverResult(
                x,
                max(state.n_iter, 1),
                False,
                state.problem,
                message,
                state.n_evaluations,
            )
        state.last_round_value = value


def _evaluate(state: _SolverState, x: np.ndarray) -> tuple[float, np.ndarray]:
    """The problem's value and gradient at ``x``, counted; the last point
    evaluated is not evaluated again."""
    if state.evaluated_x is not None and np.array_equal(x, state.evaluated_x):
        return state.value, state.grad.copy()
    value, grad = state.problem.loss_gradient(x)
    if not state.history:
        state.history.append(value)
    state.n_evaluations += 1
    state.evaluated_x, state.value, state.grad = x.copy(), value, grad.copy()
    return value, grad


def _record_iteration(state: _SolverState) -> None:
    """Count an iteration and show it to the listeners. L-BFGS-B ends each
    iteration with an evaluation at the accepted point, so the last value and
    gradient evaluated are those of the iterate."""
    state.n_iter += 1
    state.history.append(state.value)
    step = SolverStep(
        iteration=state.n_iter,
        objective=float(state.value),
        gradient_norm=float(np.max(np.abs(state.grad), initial=0.0)),
        n_evaluations=state.n_evaluations,
        elapsed=time.perf_counter() - state.started,
    )
    for listener in state.listeners:
        listener(step)


def _passes_stop_tests(
    state: _SolverState,
    limits: _Limits,
    x: np.ndarray,
    grad: np.ndarray,
    value: float,
) -> bool:
    """The two tests of convergence (:func:`minimize_problem`), in the
    current variables."""
    projected = projected_gradient(x, grad, state.box)
    if not np.max(np.abs(projected), initial=0.0) <= limits.gradient_tol:
        return False
    history = state.history
    if len(history) < 2 * _MIN_TREND_WINDOW + 1:
        # Too few iterations for the trend's two windows (a warm start): the
        # quadratic model of unit curvature must leave less than tol to gain,
        # and so must the rate of the last two decreases, where there are two.
        trend = 0.5 * float(np.vdot(projected, projected))
        if len(history) >= 3:
            trend = max(trend, remaining_gap_estimate(history, min_window=1))
    else:
        trend = remaining_gap_estimate(history)
    return trend <= limits.tol * abs(value)


def _run_round(
    state: _SolverState, limits: _Limits, x: np.ndarray
) -> tuple[np.ndarray, bool]:
    """One round of L-BFGS-B from ``x``: the point it ends at, and whether
    L-BFGS-B stopped by itself before its iterations ran out."""
    round_limit = min(state.round_iter, limits.max_iter - state.n_iter)
    start_value, start_grad = _evaluate(state, x)
    # A round's start that passes the tests (a warm start at the optimum, by
    # the quadratic model; the rescaled point, with the history of the rounds
    # before) is checked in the rescaled variables at once: L-BFGS-B would take
    # a step first.
    if _passes_stop_tests(state, limits, x, start_grad, start_value):
        return x, False
    start_iter = state.n_iter

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        return _evaluate(state, x)

    def record_and_test(x: np.ndarray) -> None:
        _record_iteration(state)
        # Ending the round here, rather than where L-BFGS-B's own gradient test
        # would, keeps its memory while the objective's trend settles, and
        # spares a call: each call converts the bounds in Python loops, seconds
        # for the millions of bounds of a wide L1 fit with many classes.
        if _passes_stop_tests(state, limits, x, state.grad, state.value):
            raise _RoundEnd

    try:
        result = scipy.optimize.minimize(
            fun,
            x,
            method="L-BFGS-B",
            jac=True,
            bounds=state.box,
            callback=record_and_test,
            options={
                "maxiter": round_limit,
                "maxfun": max(limits.max_evaluations - state.n_evaluations, 1),
                "maxls": _MAX_LINE_SEARCH,
                # The gradient is tested by the callback, with the trend.
                "gtol": 0.0,
                # A tiny ftol: stop on the tests, not on a small relative
                # decrease of the objective. (A few ulps, not zero: a decrease
                # below float64's resolution of the objective cannot be
                # measured, and the line search then fails instead of
                # stopping.) L-BFGS-B divides the decrease by max(|f|, 1), so
                # an objective below one gets a proportionally smaller ftol.
                # Such a stop is not counted as convergence.
                "ftol": _RESOLUTION * min(abs(start_value), 1.0),
            },
        )
    except _RoundEnd:
        # The accepted point, whose value and gradient were the last evaluated.
        assert state.evaluated_x is not None  # the callback follows an evaluation
        return state.evaluated_x.copy(), False
    state.message = result.message
    return result.x, state.n_iter - start_iter < round_limit


def _rescale(
    state: _SolverState, x: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """The problem over new variables for ``x``, taken as the state's; ``x``
    in them, with its value and gradient."""
    value, grad = _evaluate(state, x)
    state.problem, x, new_grad = state.problem.rescaled(x, grad)
    state.box = state.problem.bounds()
    if new_grad is None:
        # A point of its own in the new variables.
        state.evaluated_x = None
        return x, *_evaluate(state, x)
    # The same point in new variables: no evaluation needed.
    state.evaluated_x, state.grad = x.copy(), new_grad.copy()
    return x, value, new_grad


def _stalled(state: _SolverState, stopped_early: bool, value: float) -> bool:
    """Whether rounds have stopped making progress: twice in a row, a round
    that L-BFGS-B ended early (a stop on the relative decrease, a failed line
    search) and that lowered the objective by no more than its resolution.
    (Once is not enough: a round that starts from an empty memory may stop
    after a few tiny steps where a second one still gets further.)"""
    stalled = stopped_early and not (
        value < state.last_round_value - _RESOLUTION * abs(value)
    )
    state.n_stalled = state.n_stalled + 1 if stalled else 0
    return state.n_stalled >= _STALLED_ROUNDS


class _RoundEnd(Exception):
    """Raised by the iteration callback to end a round where the stop tests
    pass in the round's variables (L-BFGS-B has no other way to be stopped
    from its callback while keeping the iterate; the rescaled point is tested
    again)."""


def remaining_gap_estimate(
    history: list[float], min_window: int = _MIN_TREND_WINDOW
) -> float:
    """How far above its limit the objective still is, extrapolated from the
    last iterations: 0 when it no longer falls, infinite when it does not
    fall more slowly than before or when too few iterations tell.

    With f the objective after each iteration and N the window, the decreases
    ``d1 = f[-2N-1] - f[-N-1]`` and ``d2 = f[-N-1] - f[-1]`` of two windows
    give a linear rate ``rho = d2 / d1`` per window, and the rest of the
    geometric series, ``d2 * rho / (1 - rho)``. It is what separates a fit
    that has arrived (the gradient small, the decreases dying out) from one
    that crawls (the gradient small because the curvature is, the objective
    falling by the same small amount window after window).

    The rate is also measured within the last window, between its two halves,
    and the slower of the two rates is used: a warm start's first steps fall
    far faster than the crawl that follows them, and a rate measured against
    them alone promised 1e-4 where 1.7e-3 was left (wine at C=1e4, started
    from the optimum at C=1.3e3). Fewer than :data:`_MIN_TREND_WINDOW`
    iterations a window tell nothing, unless an iteration was made and the
    objective has not fallen at all (a start at the optimum).
    """
    f = history
    window = min(_TREND_WINDOW, (len(f) - 1) // 2)
    if window < min_window:
        # A start alone is no evidence; an iteration that did not lower the
        # objective is (L-BFGS-B found no descent from the start).
        fallen = f[0] - f[-1] > _RESOLUTION * abs(f[-1])
        return np.inf if len(f) < 2 or fallen else 0.0
    later = f[-window - 1] - f[-1]
    earlier = f[-2 * window - 1] - f[-window - 1]
    # Decreases at the objective's rounding level, iteration by iteration:
    # nothing measurable is left (a start at the optimum).
    if not later > window * _RESOLUTION * abs(f[-1]):
        return 0.0
    if not later < earlier:
        return np.inf
    half = window // 2
    first_half = f[-2 * half - 1] - f[-half - 1]
    second_half = f[-half - 1] - f[-1]
    rate = later / earlier
    if half and first_half > 0:
        rate = max(rate, (second_half / first_half) ** (window / half))
    if not rate < 1:
        return np.inf
    return later * rate / (1 - rate)


def not_converged_message(
    message: str | bytes,
    *,
    max_iter: int,
    tol: float,
    gradient_norm: float,
    out_of_budget: bool,
    n_iter: int,
    gradient_tol: float | None = None,
    gradient_tol_reason: str | None = None,
    owner: str,
) -> str:
    """The ``ConvergenceWarning``'s text of a fit that did not pass the stop tests
    (``message`` is L-BFGS-B's, of the last round it ended; ``gradient_tol``
    the gradient test's bound where it is below ``tol``, tightened for
    ``gradient_tol_reason``, in the problem's words)."""
    bound = f"tol={tol}"
    if gradient_tol is not None and gradient_tol < tol:
        why = f", {gradient_tol_reason}" if gradient_tol_reason else ""
        bound = f"{gradient_tol:.3g} (tol={tol}{why})"
        tol = gradient_tol
    if isinstance(message, bytes):
        message = message.decode("latin1")
    if out_of_budget:
        reason = (
            f"it reached max_iter={max_iter} iterations"
            if n_iter >= max_iter
            else "it reached the limit on function evaluations"
        )
        advice = "Increase max_iter, or loosen tol"
    else:
        reason = f"L-BFGS-B stopped making progress ({message})"
        advice = (
            "The objective may be flat to machine precision: tol may be below "
            "the rounding error of the gradient (about 1e-8 in float64, 1e-5 "
            "for float32 X), or the data may be separable by a class with "
            "C=np.inf or have a class of zero total weight; loosen tol or try "
            "a smaller C"
        )
    if gradient_norm <= tol:
        # The gradient test passed, the objective's trend did not.
        unmet = (
            f"while the objective was still falling, although the projected "
            f"gradient was below {bound} (final max |gradient| "
            f"{gradient_norm:.3e})"
        )
    else:
        unmet = (
            f"before the projected gradient fell below {bound} (final max "
            f"|gradient| {gradient_norm:.3e})"
        )
    return f"{owner} did not converge: {reason} {unmet}. {advice}."
