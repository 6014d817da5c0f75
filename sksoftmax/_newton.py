"""A second-order finish: Newton steps on the exact Hessian, where it fits.

L-BFGS-B on the preconditioned variables (:mod:`sksoftmax._solver`) does the
bulk of a fit; near the optimum its steps shorten and its stop tests can only
extrapolate how far is left. Where the model is small enough that its
Hessian fits in memory (``_MAX_PARAMS`` contrasts, as scikit-learn's
``newton-cholesky`` decides) and the penalty is smooth (L2, no bounds), the
fit ends with damped Newton steps on the exact Hessian instead: from where
L-BFGS-B stopped, each step multiplies the number of correct digits, and the
Newton decrement ``g^T H^-1 g`` measures the distance to the optimum (twice
the objective's excess over its minimum, for a quadratic), so that the stop
is a statement about the optimum, not about the trend.

Variables
---------
The data term depends on the weights through their differences between
classes only; an L2 penalty with the same factor for every class is then
smallest where the weights of each feature sum to zero over the classes (the
class-sum plane), and the intercepts are centred by convention. The finish
works in the contrasts against a reference class r, ``beta_a = W_a - W_r``
for the classes a other than r, mapped to the plane by::

    W_r = -(1/K) sum_a beta_a,   W_a = beta_a + W_r,

the inverse of ``beta = W[others] - W[r]`` on the plane. There the data
term's Hessian is the information of :mod:`sksoftmax._covariance` (the one
that :func:`sksoftmax.inference` inverts, summed where the rows are by
:meth:`BlockData.sum_blocks`), the penalty's is ``(I - 1 1^T / K) kron D``,
and the gradient is ``g_a - (1/K) sum_k g_k`` of the gradient g in the
classes' rows. With two classes the model's one row is already the contrast
against class 0. The coefficients the finish returns lie on the plane
exactly.

Where the Hessian is singular (a column constant within rounding beside the
intercept, collinear columns without a penalty) the step is the
minimum-norm one, which leaves the coefficients along the flat directions
where they are: they stay finite.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.linalg

from ._backends._contract import BlockData
from ._covariance import _add_penalty, block_sums, rows_per_block
from ._loss import iter_blocks, net_input, right_factor
from ._model import with_reference_class
from ._objective import SoftmaxObjective
from ._solver import SolverStep

#: Most contrasts (parameters) for which the finish runs: the Hessian is then
#: at most 8 MiB, and one is at most a few hundred gradient evaluations.
_MAX_PARAMS = 1024
#: Entries of the per-row block that the Hessian's sums form at a time.
_BLOCK_ENTRIES = 2**21
#: Sufficient decrease of a step (Armijo's constant), and the halvings of a
#: step tried before the line search gives up.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
#: Eigenvalues of the Hessian below this share of the largest are taken as
#: zero where it has no Cholesky factor.
_RANK_TOL = 1e-12
#: Relative decrement at which the objective's rounding hides any decrease:
#: a point there is at the optimum to float64's resolution.
_ROUNDING = 1e3 * np.finfo(np.float64).eps


_TINY = np.finfo(np.float64).tiny
#: An objective below which a line search that finds no decrease is taken to
#: have met separated classes: a mean cross-entropy this small is its
#: rounding.
_SEPARATED_OBJECTIVE = 1e3 * np.finfo(np.float64).eps
#: The tol to which the steps go on once the fit's own is met, while the
#: line search finds a decrease.
_POLISH_TOL = 1e-12
#: Relative decrease of the objective that is more than its rounding.
_MEASURABLE = 16 * np.finfo(np.float64).eps
#: Full steps in a row whose relative decrement fell by a steady share each
#: (by less than half as much as the step before it did), after which the
#: finish ends: Newton's method converges quadratically once its steps are
#: full, each fall steeper than the last, and where it converges linearly the
#: objective falls towards an infimum that no finite coefficients reach
#: (separated data without a penalty).
_PATIENCE = 4
#: The relative decrement of a full step below which the next point is
#: tried with the old Hessian's bound (:func:`_stale_bounds`).
_STALE_TRY = 1e-4


class NewtonResult(NamedTuple):
    """Where the finish ended, in the model's rows."""

    weights: np.ndarray
    intercept: np.ndarray
    #: Newton iterations taken (steps accepted).
    n_iter: int
    converged: bool
    #: Why it did not converge (None if it did).
    reason: str | None
    #: Whether it stopped on an objective that falls without end (the
    #: decrement not falling over ``_PATIENCE`` full steps).
    unbounded: bool = False


def finish_applies(objective: SoftmaxObjective) -> bool:
    """Whether the fit of ``objective`` ends with Newton steps: a smooth
    penalty (no L1 term, no bounds), data whose blocks can be summed, and at
    most ``_MAX_PARAMS`` contrasts."""
    if objective.penalty.uses_l1_split or objective.penalty.coef_bounds is not None:
        return False
    if not isinstance(objective.data, BlockData):
        return False
    n_columns = objective.data.n_features + objective.settings.fit_intercept
    return (objective.n_classes - 1) * n_columns <= _MAX_PARAMS


def with_intercept_column(
    weights: np.ndarray, intercept: np.ndarray, fit_intercept: bool
) -> np.ndarray:
    """The weights (n_rows, n_features) with the intercepts as one more
    column where the model has them, float64: the columns the Hessian's sums
    (:func:`sksoftmax._covariance.block_sums`) are taken over."""
    columns = np.column_stack([weights, intercept]) if fit_intercept else weights
    return np.asarray(columns, dtype=np.float64)


def free_columns(objective: SoftmaxObjective) -> np.ndarray:
    """Which of those columns are variables: all but the features that the
    layout holds at zero (constant beside an intercept)."""
    n_features = objective.data.n_features
    free = np.ones(n_features + objective.settings.fit_intercept, dtype=bool)
    if objective.layout.fixed is not None:
        free[:n_features] = ~objective.layout.fixed
    return free


def information(
    objective: SoftmaxObjective,
    weights: np.ndarray,
    intercept: np.ndarray,
    others: np.ndarray,
) -> np.ndarray:
    """The data term's Hessian with respect to the rows ``others`` of the
    weights and intercepts (with the intercepts as a last column), summed
    where the rows are and normalised as the objective's weights are."""
    data = objective.data
    assert isinstance(data, BlockData)  # finish_applies, proximal_applies
    sums = data.sum_blocks(
        block_sums,
        with_reference_class(weights, intercept, objective.n_classes),
        others=others,
        fit_intercept=objective.settings.fit_intercept,
        cov_type="nonrobust",
        block_entries=_BLOCK_ENTRIES,
        with_scatter=False,
    )[0]
    # Raw weights in the sums; the objective's are normalised.
    return (sums + sums.T) / (2 * data.weight_sum)


class _Contrasts:
    """The map between the contrasts and the model's rows (module docstring)."""

    def __init__(self, objective: SoftmaxObjective) -> None:
        self.objective = objective
        self.n_classes = objective.n_classes
        self.n_features = objective.data.n_features
        self.fit_intercept = objective.settings.fit_intercept
        self.binary = objective.uses_reference_class
        if self.binary:
            self.reference = 0
        else:
            # The heaviest class as the reference: the contrasts against it
            # are the best determined.
            totals = objective.data.class_totals(self.n_classes)
            self.reference = int(np.argmax(totals))
        self.others = np.array(
            [k for k in range(self.n_classes) if k != self.reference]
        )
        # The columns (features, then the intercept's) that are variables.
        self.columns = np.flatnonzero(free_columns(objective))
        self.n_columns = self.n_features + self.fit_intercept

    def to_model(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights and intercepts in the model's rows from the contrasts."""
        p = self.n_features
        rows = theta.shape[0] + (not self.binary)
        full = np.zeros((rows, self.n_columns))
        if self.binary:
            full[:, self.columns] = theta
        else:
            full[np.ix_(self.others, self.columns)] = theta
            full -= full.sum(axis=0) / self.n_classes
        intercept = full[:, p] if self.fit_intercept else np.zeros(full.shape[0])
        return full[:, :p].copy(), intercept.copy()

    def from_model(self, weights: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """The contrasts of weights and intercepts in the model's rows."""
        full = with_intercept_column(weights, intercept, self.fit_intercept)
        full = full[:, self.columns]
        if self.binary:
            return full
        return full[self.others] - full[self.reference]

    def value_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The objective and its gradient with respect to the contrasts."""
        weights, intercept = self.to_model(theta)
        loss, grad_w, grad_b = self.objective.smooth_loss_gradient(weights, intercept)
        grad = with_intercept_column(grad_w, grad_b, self.fit_intercept)
        grad = grad[:, self.columns]
        if not self.binary:
            grad = grad[self.others] - grad.sum(axis=0) / self.n_classes
        return float(loss), grad

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """The objective's Hessian with respect to the flat contrasts."""
        hessian = information(self.objective, *self.to_model(theta), self.others)
        _add_penalty(
            hessian,
            np.zeros((len(self.others), self.n_columns)),
            self.n_classes,
            self.objective.penalty.l2_per_feature,
        )
        variables = (
            np.arange(len(self.others))[:, None] * self.n_columns + self.columns
        ).ravel()
        return hessian[np.ix_(variables, variables)]


class _Factor:
    """A Hessian's Cholesky factor, or where it has none its eigenvectors,
    and its diagonal."""

    def __init__(self, hessian: np.ndarray) -> None:
        self.diagonal = np.maximum(np.diag(hessian), _TINY)
        self.cholesky: tuple[np.ndarray, bool] | None = None
        try:
            self.cholesky = scipy.linalg.cho_factor(hessian)
        except np.linalg.LinAlgError:
            eigenvalues, vectors = scipy.linalg.eigh(hessian)
            keep = eigenvalues > _RANK_TOL * max(eigenvalues.max(), 0.0)
            self.eigenvalues, self.vectors = eigenvalues[keep], vectors[:, keep]

    def scaled_norm(self, gradient: np.ndarray) -> float:
        """The largest component of ``gradient`` scaled by the square root
        of the Hessian's diagonal."""
        return float(np.max(np.abs(gradient) / np.sqrt(self.diagonal), initial=0.0))

    def step(self, gradient: np.ndarray) -> np.ndarray:
        """``-H^-1 g``, or the minimum-norm solution where H is singular."""
        if self.cholesky is not None:
            return -scipy.linalg.cho_solve(self.cholesky, gradient)
        return -self.vectors @ ((self.vectors.T @ gradient) / self.eigenvalues)


def _largest_score(
    block: tuple, coefficients: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray]:
    """The largest absolute score of the rows of one block under
    ``coefficients`` (weights and intercepts in the model's rows), in a
    :meth:`BlockData.sum_blocks` pass: where the data term sums several
    blocks (a Dask collection's, an array API back-end's), their sum, an
    upper bound of the largest."""
    X = block[0]
    weights, intercept = coefficients
    weights_t = right_factor(weights, X)
    size = rows_per_block(_BLOCK_ENTRIES, len(intercept))
    largest = 0.0
    for rows in iter_blocks(X.shape[0], size):
        scores = np.abs(net_input(X, rows, weights_t, intercept))
        largest = max(largest, float(np.max(scores, initial=0.0)))
    return (np.array(largest),)


def _stale_bounds(
    contrasts: _Contrasts, factor: _Factor, moved: np.ndarray, grad: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """The step from the Hessian before a full step ``moved`` (its
    ``factor``), and upper bounds on the Newton decrement and the scaled
    gradient after it, with no new Hessian.

    Where the step changed no sample's score by more than M, no class
    probability fell by more than a factor exp(-2 M), so that the
    information's quadratic form, a variance under the probabilities
    (``min_c sum_k p_k (v_k - c)^2``), fell by at most that factor and the
    penalty's not at all: ``H_new >= exp(-2 M) H_old``, and the decrement
    ``g^T H_new^-1 g`` is at most ``exp(2 M) g^T H_old^-1 g`` (the scaled
    gradient at most exp(M) times its value with the old diagonal)."""
    data = contrasts.objective.data
    assert isinstance(data, BlockData)  # finish_applies
    largest = float(data.sum_blocks(_largest_score, contrasts.to_model(moved))[0])
    step = factor.step(grad.ravel())
    if largest > 10.0:
        # Too far for the old Hessian to say anything.
        return step, np.inf, np.inf
    decrement = float(np.exp(2 * largest)) * float(-np.vdot(grad.ravel(), step))
    gradient_norm = float(np.exp(largest)) * factor.scaled_norm(grad.ravel())
    return step, decrement, gradient_norm


def _within(
    bound: float, at_rounding: bool, decrement: float, value: float, gradient: float
) -> bool:
    """Whether a point is within ``bound`` of the optimum: the halved Newton
    decrement at most ``bound`` times the objective and the scaled gradient
    at most ``bound``, or the decrement at the objective's rounding."""
    return at_rounding or (decrement / 2 <= bound * abs(value) and gradient <= bound)


def _converges_linearly(decrements: list[float]) -> bool:
    """Whether the last ``_PATIENCE`` ratios of successive relative
    decrements (after full steps) each fell by less than half: a steady
    share, where quadratic convergence makes each ratio a fraction of the
    one before."""
    if len(decrements) < _PATIENCE + 2:
        return False
    ratios = np.divide(decrements[1:], decrements[:-1])[-_PATIENCE - 1 :]
    return bool(np.all(ratios[1:] > 0.5 * ratios[:-1]) and np.all(ratios < 1))


def newton_finish(
    objective: SoftmaxObjective,
    weights: np.ndarray,
    intercept: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    first_iteration: int = 1,
    evaluations_before: int = 0,
    callback: Callable[[SolverStep], None] | None = None,
    started: float | None = None,
) -> NewtonResult:
    """Newton steps on ``objective`` from ``weights`` and ``intercept`` (in
    the model's rows) until converged, or ``max_iter`` steps.

    Converged: the Newton decrement, halved (the excess over the minimum that
    the quadratic model predicts), is at most ``tol`` times the objective,
    and the largest component of the gradient scaled by the square root of
    the Hessian's diagonal (the preconditioned gradient of the L-BFGS-B
    stage) is at most ``tol``. The steps then go on to a tol of
    ``_POLISH_TOL`` while each lowers the objective by more than its
    rounding (one or two, converging quadratically). Each step is shown to
    ``callback`` as iteration ``first_iteration``, and the next, with the
    evaluations counted on from ``evaluations_before``.
    """
    started = time.perf_counter() if started is None else started
    contrasts = _Contrasts(objective)
    theta = contrasts.from_model(weights, intercept)
    shape = theta.shape
    value, grad = contrasts.value_gradient(theta)
    n_evaluations = evaluations_before + 1
    n_iter = 0
    reason: str | None = None
    converged = False
    # Where cheap steps go once tol is met: quadratic convergence makes the
    # last one or two land at float64's resolution, so that a fit does not
    # depend on how the data were presented (repeated rows against weights).
    polish = min(tol, _POLISH_TOL)
    # The relative decrement after each full step, for _PATIENCE: only
    # weights without a penalty can run off to infinity.
    full_steps: list[float] = []
    unpenalized = bool(np.any(objective.penalty.unpenalized_features))
    # The Cholesky factor of the Hessian before the last step, and the step,
    # where it was a full one.
    last: tuple[_Factor, np.ndarray] | None = None
    while True:
        exact = True
        # Only where the last step's decrement makes the objective's rounding
        # likely now (quadratic convergence squares it): elsewhere the bound
        # would cost a pass over the rows for nothing.
        if last is not None and full_steps and full_steps[-1] <= _STALE_TRY:
            # After a full step the old Hessian bounds the new decrement:
            # where that shows the objective at its rounding, the last step
            # (whose decrease the line search then finds unmeasurable, as an
            # exact one's) needs no new Hessian (it costs as much as a few
            # hundred gradients).
            step, decrement, gradient_norm = _stale_bounds(contrasts, *last, grad)
            at_rounding = value == 0.0 or decrement <= _ROUNDING * abs(value)
            exact = not at_rounding
        if exact:
            factor = _Factor(contrasts.hessian(theta))
            step = factor.step(grad.ravel())
            decrement = float(-np.vdot(grad.ravel(), step))
            gradient_norm = factor.scaled_norm(grad.ravel())
        # The objective is at least 0 (a cross-entropy and a penalty): at 0
        # nothing is left to gain.
        at_rounding = value == 0.0 or decrement <= _ROUNDING * abs(value)
        # The fit's tol met once is met for good (a step only lowers the
        # objective); the steps go on to the polish while they are cheap.
        converged = converged or _within(
            tol, at_rounding, decrement, value, gradient_norm
        )
        polished = _within(polish, at_rounding, decrement, value, gradient_norm)
        if polished or (converged and n_iter >= max_iter):
            if n_iter >= max_iter:
                break
        elif converged and _converges_linearly(full_steps):
            # Met, and the rest falls only linearly: no polish to be had.
            break
        elif n_iter >= max_iter:
            reason = f"the fit reached max_iter={first_iteration - 1 + max_iter}"
            break
        elif unpenalized and _converges_linearly(full_steps):
            reason = (
                f"the objective ({value:.3e}) kept falling by a steady share "
                f"over {_PATIENCE} full steps, towards an infimum that no "
                "finite coefficients reach"
            )
            return NewtonResult(*contrasts.to_model(theta), n_iter, False, reason, True)
        # A step that lowers the objective enough (Armijo), halved until it
        # does.
        length = 1.0
        accepted = None
        for _ in range(_MAX_HALVINGS):
            trial = theta + length * step.reshape(shape)
            trial_value, trial_grad = contrasts.value_gradient(trial)
            n_evaluations += 1
            threshold = value - _ARMIJO * length * decrement
            if converged:
                # Past the fit's tol, only a decrease above the objective's
                # rounding: a step accepted on rounding alone made the
                # iterations depend on the last bits of the data.
                threshold = min(threshold, value - _MEASURABLE * abs(value))
            if trial_value < value and trial_value <= threshold:
                accepted = trial, trial_value, trial_grad
                break
            if converged:
                # Within tol, a full step that does not lower the objective
                # measurably is at its rounding: no halving does better.
                break
            length /= 2
        if accepted is None:
            if not converged and decrement <= 1e2 * _ROUNDING * abs(value):
                # No measurable decrease where little was left to gain.
                converged = True
            if not converged and unpenalized and value < _SEPARATED_OBJECTIVE:
                # A cross-entropy at its rounding: every sample's probability
                # of its class is 1 to float64's resolution.
                reason = (
                    f"the objective fell to {value:.3e}, the rounding of a "
                    "cross-entropy of classes that the model separates"
                )
                return NewtonResult(
                    *contrasts.to_model(theta), n_iter, False, reason, True
                )
            if not converged:
                reason = (
                    "the line search found no decrease (the decrement "
                    f"{decrement:.3e} against an objective of {value:.6g})"
                )
            break
        if length == 1.0:
            full_steps.append(decrement / max(abs(value), _TINY))
        else:
            full_steps = []
        last = None
        if exact and length == 1.0 and factor.cholesky is not None:
            last = factor, step.reshape(shape)
        theta, value, grad = accepted
        n_iter += 1
        if callback is not None:
            callback(
                SolverStep(
                    iteration=first_iteration + n_iter - 1,
                    objective=value,
                    gradient_norm=float(np.max(np.abs(grad), initial=0.0)),
                    n_evaluations=n_evaluations,
                    elapsed=time.perf_counter() - started,
                    method="Newton",
                )
            )
        if polished and exact:
            break
        # A last step from an old factor that still lowered the objective
        # measurably: the rest of the way is the exact Hessian's (one step
        # squares the error, where the old factor's only shrinks it).
    weights, intercept = contrasts.to_model(theta)
    return NewtonResult(weights, intercept, n_iter, converged, reason)
