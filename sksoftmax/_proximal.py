"""L1, elastic-net and bounded fits at Newton speed: a proximal Newton method
whose subproblems coordinate descent solves (glmnet's method, and
scikit-learn's ``newton-cd``), where the model's Hessian fits in memory.

Each iteration takes the quadratic model of the smooth part of the objective
(the data term and the L2 term) at the current coefficients θ, with the exact
Hessian H of :mod:`sksoftmax._covariance` summed where the rows are, and
minimises it plus the L1 term within the bounds::

    q(d) = g·d + 1/2 d^T H d + sum_i l1_i |θ_i + d_i|,   lower <= θ + d <= upper

by cyclic coordinate descent: along one coordinate the problem is a
one-dimensional quadratic plus an absolute value, solved exactly by a soft
threshold and a clip. Sweeps over all coordinates alternate with sweeps over
the ones that are not zero (the active set). A line search along d then
secures a sufficient decrease of the objective (Tseng and Yun's rule). The
subproblem's kernels (the sweep, the line minimum, a face's linear system)
are in :mod:`sksoftmax._coordinate`, compiled with the ``numba`` extra.

The variables are the model's rows (one per class, or one for two classes:
:mod:`sksoftmax._objective`), the weights of each row then its intercept;
the L1 term and the bounds are not invariant to a shift across classes, so
no class-sum plane is taken out. Along the intercepts' common shift, which
changes nothing, the Hessian is singular and coordinate descent simply does
not move; the fit centres them afterwards.

Convergence: the largest coordinate-wise proximal step from θ, scaled by the
square root of its curvature (the preconditioned gradient of the L-BFGS-B
stage where no bound or L1 kink is near), at most ``tol``, and the decrease
that the quadratic model promises at most ``tol`` times the objective.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.linalg

from ._backends._contract import BlockData
from ._coordinate import (
    centre_flat,
    coordinate_move,
    face_system,
    line_minimum,
    sweep,
)
from ._newton import (
    _MAX_PARAMS,
    _MEASURABLE,
    _POLISH_TOL,
    _ROUNDING,
    NewtonResult,
    free_columns,
    information,
    with_intercept_column,
)
from ._objective import SoftmaxObjective
from ._solver import SolverStep

#: Sufficient decrease of a step along the line (Armijo's constant), and the
#: halvings tried.
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
#: Cosine between two sweeps' displacements above which coordinate descent
#: is taken to crawl along a valley (and the rest of the way along it is
#: taken at once).
_ALIGNED = 0.9
#: The subproblem's accuracies: the share of the step's scaled size below
#: which a sweep's largest scaled change ends it, and the sweeps allowed. The
#: first for each step; the second, tight, to confirm a stop.
_ACCURACIES = ((1e-3, 200), (1e-9, 5000))
#: The scaled moves, relative to the step, below which the minimum of a face
#: is taken as the model's (the tight accuracy).
_EXACT = _ACCURACIES[-1][0]


def proximal_applies(objective: SoftmaxObjective) -> bool:
    """Whether the fit of ``objective`` can run by proximal Newton: an L1
    term or bounds, data whose blocks can be summed, at most ``_MAX_PARAMS``
    coefficients (the caller weighs the Hessian's cost)."""
    penalty = objective.penalty
    if not (penalty.uses_l1_split or penalty.coef_bounds is not None):
        return False
    if not isinstance(objective.data, BlockData):
        return False
    if objective.gradient_tol_factor < 1.0:
        # Features far from zero without an intercept couple every weight
        # through their mean: coordinate descent crawls along that coupling,
        # where L-BFGS-B's layout and its tightened test do better.
        return False
    n_columns = objective.data.n_features + objective.settings.fit_intercept
    return objective.n_rows * n_columns <= _MAX_PARAMS


class _Rows:
    """The flat coefficients (model rows, features then intercept) and the
    objective's smooth part, its Hessian and its L1 weights over them."""

    def __init__(self, objective: SoftmaxObjective) -> None:
        self.objective = objective
        self.n_classes = objective.n_classes
        self.n_rows = objective.n_rows
        self.n_features = objective.data.n_features
        self.fit_intercept = objective.settings.fit_intercept
        self.n_columns = self.n_features + self.fit_intercept
        self.others = np.arange(self.n_classes - self.n_rows, self.n_classes)
        penalty = objective.penalty
        shape = (self.n_rows, self.n_columns)
        l1 = np.zeros(shape)
        l1[:, : self.n_features] = penalty.l1_per_feature
        lower, upper = np.full(shape, -np.inf), np.full(shape, np.inf)
        if penalty.coef_bounds is not None:
            lower[:, : self.n_features], upper[:, : self.n_features] = (
                penalty.coef_bounds
            )
        free = np.broadcast_to(free_columns(objective), shape)
        self.variables = np.flatnonzero(free.ravel())
        self.l1 = l1.ravel()[self.variables]
        self.lower = lower.ravel()[self.variables]
        self.upper = upper.ravel()[self.variables]
        # The flat directions: a shift of every class's coefficient of a
        # column with no L1 or L2 term (the intercepts, a factor of 0)
        # changes no probability and no penalty. Each is the set of its
        # variables' positions.
        l2 = np.zeros(shape)
        l2[:, : self.n_features] = penalty.l2_per_feature
        flat = (l1 == 0) & (l2 == 0) & free
        position = np.full(shape, -1)
        position.ravel()[self.variables] = np.arange(self.variables.size)
        self.flat_directions = []
        if self.n_rows == self.n_classes:
            self.flat_directions = [
                position[:, j] for j in np.flatnonzero(np.all(flat, axis=0))
            ]

    def to_model(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = np.zeros(self.n_rows * self.n_columns)
        flat[self.variables] = theta
        full = flat.reshape(self.n_rows, self.n_columns)
        intercept = (
            full[:, self.n_features] if self.fit_intercept else np.zeros(self.n_rows)
        )
        return full[:, : self.n_features].copy(), intercept.copy()

    def from_model(self, weights: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        full = with_intercept_column(weights, intercept, self.fit_intercept)
        return full.ravel()[self.variables]

    def smooth(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The data term plus the L2 term, and its gradient."""
        weights, intercept = self.to_model(theta)
        loss, grad_w, grad_b = self.objective.smooth_loss_gradient(weights, intercept)
        grad = with_intercept_column(grad_w, grad_b, self.fit_intercept)
        return float(loss), grad.ravel()[self.variables]

    def l1_term(self, theta: np.ndarray) -> float:
        return float(self.l1 @ np.abs(theta))

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        hessian = information(self.objective, *self.to_model(theta), self.others)
        l2 = np.zeros((self.n_rows, self.n_columns))
        l2[:, : self.n_features] = self.objective.penalty.l2_per_feature
        hessian[np.diag_indices_from(hessian)] += l2.ravel()
        return hessian[np.ix_(self.variables, self.variables)]


def _scaled_moves(
    z: np.ndarray,
    residual: np.ndarray,
    curvature: np.ndarray,
    scale: np.ndarray,
    rows: _Rows,
) -> float:
    """The largest move, scaled by ``scale``, that one coordinate of
    coordinate descent would make from ``z`` (the model's gradient there
    ``residual``): zero exactly at the model's minimum."""
    moved = coordinate_move(z, residual, curvature, rows.l1, rows.lower, rows.upper)
    return float(np.max(np.abs(moved - z) * scale, initial=0.0))


def _face_target(
    z: np.ndarray,
    theta: np.ndarray,
    grad: np.ndarray,
    hessian: np.ndarray,
    rows: _Rows,
) -> np.ndarray | None:
    """The minimiser of the quadratic model at ``theta`` on the face where
    ``z`` lies: its coordinates on a bound, and at zero with an L1 term,
    held, the others' signs kept, so that the L1 term is linear and the
    minimum solves one linear system (a Cholesky factor; None where it fails
    or nothing is free). It may lie beyond the face (a sign turned, a bound
    crossed). Flat directions other than the class shifts of _Rows (collinear
    columns without an L1 or L2 term) keep the ridge's small drift along
    them: the objective does not see it."""
    flat = np.array(rows.flat_directions, dtype=np.intp)
    if not len(flat):
        flat = np.empty((0, 1), dtype=np.intp)
    # The intercepts' common shift, along which the Hessian is singular,
    # changes nothing: a ridge at rounding level makes the factor exist and
    # moves the solution only along it.
    on, target, block = face_system(
        z, theta, grad, hessian, rows.l1, rows.lower, rows.upper, flat, _ROUNDING
    )
    if on.size == 0:
        return None
    # LAPACK's Cholesky directly: SciPy's wrappers check their input, at
    # several times the cost of a factor of this size.
    factor, failed = scipy.linalg.lapack.dpotrf(block, overwrite_a=True)
    # (A NaN passes LAPACK's test: it ends on the last pivot.)
    if failed or not np.isfinite(factor[-1, -1]):
        return None
    step = np.zeros_like(z)
    step[on] = scipy.linalg.lapack.dpotrs(factor, target)[0]
    # Along a flat direction (_Rows) the gradient is rounding, which the
    # ridge would turn into a long step that the model alone sees.
    free = np.zeros(z.size, dtype=bool)
    free[on] = True
    centre_flat(step, free, flat)
    minimum = z.copy()
    minimum[on] = theta[on] - step[on]
    return minimum


#: The walks towards a face's minimum (:func:`_to_face_minimum`) per try.
_FACE_STEPS = 4


def _to_face_minimum(
    z: np.ndarray,
    theta: np.ndarray,
    grad: np.ndarray,
    hessian: np.ndarray,
    rows: _Rows,
) -> tuple[np.ndarray, bool]:
    """From ``z``, the exact minimum of the model along the way to its face's
    minimum (:func:`_face_target`), then to the next face's, up to
    ``_FACE_STEPS`` times (Lee et al.'s feature-sign search): the point
    reached, and whether it is a face's minimum.

    The way to a face's minimum descends (on the face the model is a convex
    quadratic, and the free coordinates keep their signs near z); where a
    coordinate would cross zero or a bound first, the walk stops there if the
    model does (the coordinate joins the held ones) and goes on otherwise.
    Coordinate descent finds the face; this lands on its minimum, where
    sweeps only approach it (slowly along a valley of the model)."""
    for _ in range(_FACE_STEPS):
        target = _face_target(z, theta, grad, hessian, rows)
        if target is None:
            return z, False
        direction = target - z
        if not np.any(direction):
            return z, True
        residual = grad + hessian @ (z - theta)
        t = line_minimum(
            z, direction, residual, hessian @ direction, rows.l1, rows.lower, rows.upper
        )
        if not t > 0:
            return z, False
        if t >= 1.0:
            # The face's minimum itself (the derivative along the way is 0
            # there, so the walk never goes past it).
            return np.clip(target, rows.lower, rows.upper), True
        moved = np.clip(z + t * direction, rows.lower, rows.upper)
        # Exactly zero where the walk stopped at a crossing.
        moved[np.abs(moved) <= 1e-15 * np.abs(direction) * t] = 0.0
        z = moved
    return z, False


#: A sweep's fixed cost (its Python calls) in the floating-point operations
#: that take as long.
_SWEEP_OVERHEAD = 5e4


def _factor_sweeps(n_free: int, size: int) -> float:
    """What the walk to a face's minimum (a few Cholesky factors of the free
    block, n_free^3 / 3 operations each) costs in sweeps of coordinate
    descent (size^2 operations and a fixed overhead)."""
    return _FACE_STEPS * n_free**3 / 3 / (size**2 + _SWEEP_OVERHEAD)


def _solve_subproblem(
    theta: np.ndarray,
    grad: np.ndarray,
    hessian: np.ndarray,
    rows: _Rows,
    resolution: float = 1e-3,
    max_sweeps: int = 200,
) -> np.ndarray:
    """Coordinate descent on the quadratic model at ``theta``, with the
    exact minimum on each new face it settles on tried in turn: the point
    ``theta + d`` that it reaches.

    Done when no coordinate would move by more than ``resolution`` times the
    step's size (scaled by the square roots of the curvatures)."""
    curvature = np.diag(hessian).copy()
    scale = np.sqrt(np.maximum(curvature, 0.0))
    z = theta.copy()
    residual = grad.copy()  # the model's gradient at z: g + H (z - theta)
    size = z.size
    l1, lower, upper = rows.l1, rows.lower, rows.upper
    active = np.arange(size)
    full_sweep = True
    previous: np.ndarray | None = None
    tried: bytes | None = None
    # A face's minimum is tried once the sweeps since the last try cost as
    # much as its factors (_factor_sweeps).
    due = 0.0
    for sweeps in range(max_sweeps):
        order = np.arange(size) if full_sweep else active
        before = z.copy()
        largest = sweep(z, residual, hessian, curvature, scale, l1, lower, upper, order)
        step_size = float(np.max(np.abs(z - theta) * scale, initial=0.0))
        if full_sweep and sweeps >= due:
            # A full sweep shows the face; its minimum, where it is the
            # model's (no coordinate would move from it), ends the solve.
            face = np.packbits((z != 0) & (z > lower) & (z < upper)).tobytes()
            if face != tried:
                tried = face
                due = sweeps + 1 + _factor_sweeps(int(np.count_nonzero(z)), size)
                walked, at_face_minimum = _to_face_minimum(
                    z, theta, grad, hessian, rows
                )
                moved = walked is not z
                z = walked
                residual = grad + hessian @ (z - theta)
                if at_face_minimum:
                    size_there = float(np.max(np.abs(z - theta) * scale, initial=0.0))
                    moves = _scaled_moves(z, residual, curvature, scale, rows)
                    # Small moves from a point in a valley of the model do
                    # not make it near the minimum; none (to rounding) do:
                    # a point no coordinate can improve is the minimum.
                    if moves <= _EXACT * size_there or moves <= 1e-15:
                        return z
                if moved:
                    # The sweep's measures describe the point before the
                    # walk: the next full sweep measures the new one.
                    previous = None
                    full_sweep = True
                    continue
        # Along a flat valley of the model (collinear features, no L2
        # term) coordinate descent crawls, each sweep a small step the same
        # way as the last: the exact minimum along the sweep's displacement
        # takes the rest of the way at once.
        displacement = z - before
        aligned = previous is not None and float(displacement @ previous) > (
            _ALIGNED * np.linalg.norm(displacement) * np.linalg.norm(previous)
        )
        previous = displacement
        if aligned:
            hessian_direction = hessian @ displacement
            t = line_minimum(
                z, displacement, residual, hessian_direction, l1, lower, upper
            )
            if t > 0:
                z += t * displacement
                z = np.clip(z, lower, upper)
                # Exactly zero where the walk stopped at a crossing.
                z[np.abs(z) <= 1e-15 * np.abs(displacement) * t] = 0.0
                residual = grad + hessian @ (z - theta)
                step_size = float(np.max(np.abs(z - theta) * scale, initial=0.0))
        settled = largest <= resolution * step_size or largest <= 1e-15
        if settled and full_sweep:
            break
        if settled:
            # The active set has settled: a full sweep checks the rest.
            full_sweep = True
            continue
        if full_sweep:
            active = np.flatnonzero((z != 0) | (theta != 0))
            full_sweep = active.size == size
    return z


def proximal_newton(
    objective: SoftmaxObjective,
    weights: np.ndarray,
    intercept: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    callback: Callable[[SolverStep], None] | None = None,
    started: float | None = None,
) -> NewtonResult:
    """Proximal Newton iterations on ``objective`` from ``weights`` and
    ``intercept`` (the model's rows, clipped into the bounds) until
    converged (the module docstring), or ``max_iter`` iterations."""
    started = time.perf_counter() if started is None else started
    rows = _Rows(objective)
    # The relative decrease that a line search can fail to find at the
    # optimum: the rounding of the float64 sums, or of float32 X's products
    # (about 1e-7 relative).
    resolvable = max(1e2 * _ROUNDING, 16 * objective.data.eps)
    theta = np.clip(rows.from_model(weights, intercept), rows.lower, rows.upper)
    smooth, grad = rows.smooth(theta)
    value = smooth + rows.l1_term(theta)
    n_evaluations, n_iter = 1, 0
    polish = min(tol, _POLISH_TOL)
    met = False

    def within(limit: float) -> bool:
        return promised <= limit * abs(value) and gradient_norm <= limit

    while True:
        hessian = rows.hessian(theta)
        curvature = np.diag(hessian)
        # The scaled coordinate-wise proximal step from theta.
        single = coordinate_move(
            theta, grad, curvature, rows.l1, rows.lower, rows.upper
        )
        scaled = np.abs(single - theta) * np.sqrt(np.maximum(curvature, 0.0))
        gradient_norm = float(scaled.max(initial=0.0))
        for resolution, sweeps in _ACCURACIES:
            # Solved more tightly as theta nears the optimum (a forcing
            # sequence), for the fast local convergence of Newton's method:
            # at a fixed accuracy the steps converge only linearly.
            resolution = max(min(resolution, gradient_norm), _EXACT)
            new = _solve_subproblem(theta, grad, hessian, rows, resolution, sweeps)
            step = new - theta
            # What the quadratic model promises, and the linear part for the
            # rule.
            linear = float(grad @ step) + rows.l1_term(new) - rows.l1_term(theta)
            promised = -(linear + 0.5 * float(step @ hessian @ step))
            at_rounding = value == 0.0 or promised <= _ROUNDING * abs(value)
            converged = met or at_rounding or within(tol)
            polished = at_rounding or within(polish)
            if not converged:
                break
            # A subproblem solved loosely promises too little where coordinate
            # descent crawls: a stop is confirmed by one solved tightly (a
            # fit stopped 2.1e-3 above the optimum without it).
        met = converged
        if n_iter >= max_iter:
            break
        length, accepted = 1.0, None
        for _ in range(_MAX_HALVINGS):
            trial = theta + length * step
            trial_smooth, trial_grad = rows.smooth(trial)
            trial_value = trial_smooth + rows.l1_term(trial)
            n_evaluations += 1
            decreases = trial_value < value and (
                trial_value <= value + _ARMIJO * length * min(linear, 0.0)
            )
            # Past tol a full step is taken unless it raises the objective
            # by more than its rounding: the last step, too small for the
            # objective to see, still lands where the model's minimum is.
            if decreases or (
                converged and trial_value <= value + _MEASURABLE * abs(value)
            ):
                accepted = trial, trial_value, trial_grad
                break
            if converged:
                break
            length /= 2
        if accepted is None:
            if not converged and promised <= resolvable * abs(value):
                converged = True
            break
        decrease = value - accepted[1]
        theta, value, grad = accepted
        n_iter += 1
        if callback is not None:
            callback(
                SolverStep(
                    iteration=n_iter,
                    objective=value,
                    gradient_norm=gradient_norm,
                    n_evaluations=n_evaluations,
                    elapsed=time.perf_counter() - started,
                    method="Newton-CD",
                )
            )
        if polished or (converged and decrease <= _MEASURABLE * abs(value)):
            # Past tol, the steps go on towards _POLISH_TOL while each lowers
            # the objective by more than its rounding (one or two, converging
            # quadratically), as the Newton finish's do: so that a fit does
            # not depend on how the data were presented (repeated rows
            # against weights).
            break
    weights, intercept = rows.to_model(theta)
    reason = None
    if not converged:
        reason = (
            f"the fit reached max_iter={max_iter}"
            if n_iter >= max_iter
            else "the line search found no decrease (the model promised "
            f"{promised:.3e} against an objective of {value:.6g})"
        )
    return NewtonResult(weights, intercept, n_iter, converged, reason)
