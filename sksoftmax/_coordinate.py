"""The kernels of the proximal Newton subproblem (:mod:`sksoftmax._proximal`):
coordinate descent's sweep, the exact minimum of the model along a line, and
the linear system of a face's minimum, on the quadratic model

    q(z) = g·(z - θ) + 1/2 (z - θ)^T H (z - θ) + sum_i l1_i |z_i|,
    lower <= z <= upper.

Each comes twice: in NumPy, and in loops that numba compiles where the
``numba`` extra is installed (a subproblem of a few dozen coordinates calls
them hundreds of times, and NumPy's cost per call, not the arithmetic, then
sets the time). The two give the same results to rounding; without numba the
NumPy ones run.
"""

from __future__ import annotations

import numpy as np

from ._sparse import _jit


def coordinate_move(
    z: np.ndarray,
    residual: np.ndarray,
    curvature: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """The exact minimiser along each coordinate, the others held, of the
    quadratic model with gradient ``residual`` at ``z``: a soft threshold,
    clipped to the bounds (vectorised; where the curvature is zero, z)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        target = z - residual / curvature
        shrunk = np.sign(target) * np.maximum(np.abs(target) - l1 / curvature, 0.0)
    moved = np.clip(shrunk, lower, upper)
    return np.where(curvature > 0, moved, z)


def centre_flat(values: np.ndarray, free: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """``values`` centred, in place, along each of the ``flat`` directions
    (rows of positions) whose positions are all ``free``."""
    for direction in flat:
        if np.all(free[direction]):
            values[direction] -= values[direction].mean()
    return values


def _sweep_numpy(
    z: np.ndarray,
    residual: np.ndarray,
    hessian: np.ndarray,
    curvature: np.ndarray,
    scale: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    order: np.ndarray,
) -> float:
    """One sweep of coordinate descent over the coordinates ``order``, in
    place of ``z`` and ``residual`` (the smooth model's gradient at z): each
    coordinate moved to the exact minimum along it, a soft threshold clipped
    to its bounds. Returns the largest change, scaled by ``scale``."""
    largest = 0.0
    for i in order:
        a = curvature[i]
        if not a > 0:
            continue
        target = z[i] - residual[i] / a
        new = np.sign(target) * max(abs(target) - l1[i] / a, 0.0)
        new = min(max(new, lower[i]), upper[i])
        delta = new - z[i]
        if delta != 0.0:
            z[i] = new
            residual += delta * hessian[:, i]
            largest = max(largest, abs(delta) * scale[i])
    return largest


def _sweep_loop(
    z: np.ndarray,
    residual: np.ndarray,
    hessian: np.ndarray,
    curvature: np.ndarray,
    scale: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    order: np.ndarray,
) -> float:
    """:func:`_sweep_numpy` in loops (the Hessian symmetric: its rows are read
    for its columns)."""
    largest = 0.0
    size = z.shape[0]
    for index in range(order.shape[0]):
        i = order[index]
        a = curvature[i]
        if not a > 0:
            continue
        target = z[i] - residual[i] / a
        shrunk = abs(target) - l1[i] / a
        new = 0.0
        if shrunk > 0:
            new = shrunk if target > 0 else -shrunk
        new = min(max(new, lower[i]), upper[i])
        delta = new - z[i]
        if delta != 0.0:
            z[i] = new
            for k in range(size):
                residual[k] += delta * hessian[i, k]
            largest = max(largest, abs(delta) * scale[i])
    return largest


def _line_minimum_numpy(
    z: np.ndarray,
    direction: np.ndarray,
    residual: np.ndarray,
    hessian_direction: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> float:
    """The exact minimiser t >= 0 of the quadratic model plus the L1 term
    along ``z + t direction`` within the bounds (``residual`` the smooth
    model's gradient at z, ``hessian_direction`` H times the direction).

    The derivative along the ray, ``c + t h + sum_i l1_i d_i sign(z_i + t
    d_i)``, is piecewise linear and increasing; the pieces between the points
    where a coordinate crosses zero are walked in order until it turns
    non-negative, or a bound is met.
    """
    moving = np.flatnonzero(direction)
    if moving.size == 0:
        return 0.0
    d, x, lam = direction[moving], z[moving], l1[moving]
    with np.errstate(over="ignore"):
        # d is not zero: only a tiny one can overflow (to an infinite t).
        to_bound = (np.where(d > 0, upper[moving], lower[moving]) - x) / d
        crossing = -x / d
    t_max = float(to_bound.min())
    slope_at_zero = float(residual @ direction)
    curvature = float(direction @ hessian_direction)
    # Signs just past t = 0: a zero coordinate takes its direction's.
    signs = np.sign(np.where(x != 0, x, d))
    linear = slope_at_zero + float(lam @ (d * signs))
    ahead = np.flatnonzero((crossing > 0) & (lam > 0))
    if ahead.size > 1:
        ahead = ahead[np.argsort(crossing[ahead])]
    t = 0.0
    for j in [*ahead, None]:
        end = t_max if j is None else min(float(crossing[j]), t_max)
        if linear + curvature * t >= 0:
            return t
        if curvature > 0:
            root = -linear / curvature
            if root <= end:
                return root
        if end >= t_max:
            return t_max if np.isfinite(t_max) else t
        t = end
        # Crossing zero turns that coordinate's sign to its direction's.
        linear += 2 * lam[j] * abs(d[j])
    return t


def _line_minimum_loop(
    z: np.ndarray,
    direction: np.ndarray,
    residual: np.ndarray,
    hessian_direction: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> float:
    """:func:`_line_minimum_numpy` in loops."""
    size = z.shape[0]
    crossing = np.empty(size)
    turn = np.empty(size)
    n_ahead = 0
    moving = False
    t_max = np.inf
    slope_at_zero = 0.0
    curvature = 0.0
    linear_l1 = 0.0
    for i in range(size):
        d = direction[i]
        slope_at_zero += residual[i] * d
        curvature += d * hessian_direction[i]
        if d == 0.0:
            continue
        moving = True
        x = z[i]
        to_bound = ((upper[i] if d > 0 else lower[i]) - x) / d
        t_max = min(t_max, to_bound)
        sign = np.sign(x) if x != 0 else np.sign(d)
        linear_l1 += l1[i] * d * sign
        cross = -x / d
        if cross > 0 and l1[i] > 0:
            crossing[n_ahead] = cross
            turn[n_ahead] = 2 * l1[i] * abs(d)
            n_ahead += 1
    if not moving:
        return 0.0
    linear = slope_at_zero + linear_l1
    order = np.argsort(crossing[:n_ahead])
    t = 0.0
    for k in range(n_ahead + 1):
        end = t_max if k == n_ahead else min(crossing[order[k]], t_max)
        if linear + curvature * t >= 0:
            return t
        if curvature > 0:
            root = -linear / curvature
            if root <= end:
                return root
        if end >= t_max:
            return t_max if np.isfinite(t_max) else t
        t = end
        linear += turn[order[k]]
    return t


def _face_system_numpy(
    z: np.ndarray,
    theta: np.ndarray,
    grad: np.ndarray,
    hessian: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    flat: np.ndarray,
    ridge: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linear system of the model's minimum on the face where ``z`` lies
    (:func:`sksoftmax._proximal._face_target`): the free coordinates (not on a
    bound, not at zero with an L1 term, of positive curvature), the right-hand
    side and the block of H on them, with ``ridge`` times H's largest free
    diagonal entry added to its diagonal.

    The right-hand side is the model's gradient on the free coordinates but
    for their own part of H (z - θ), each of the ``flat`` directions (rows of
    positions) whose coordinates are all free centred."""
    curvature = np.diag(hessian)
    # A coordinate with no L1 term has no kink at zero to be held at.
    free = ((z != 0) | (l1 == 0)) & (z > lower) & (z < upper) & (curvature > 0)
    on = np.flatnonzero(free)
    if on.size == 0:
        return on, np.empty(0), np.empty((0, 0))
    off = np.flatnonzero(~free)
    target = np.zeros_like(z)
    target[on] = grad[on] + l1[on] * np.sign(z[on])
    if off.size:
        target[on] += hessian.take(on, 0).take(off, 1) @ (z[off] - theta[off])
    centre_flat(target, free, flat)
    block = hessian.take(on, 0).take(on, 1)
    block.flat[:: on.size + 1] += ridge * float(curvature[on].max())
    return on, target[on], block


def _face_system_loop(
    z: np.ndarray,
    theta: np.ndarray,
    grad: np.ndarray,
    hessian: np.ndarray,
    l1: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    flat: np.ndarray,
    ridge: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_face_system_numpy` in loops."""
    size = z.shape[0]
    free = np.zeros(size, dtype=np.bool_)
    n_free = 0
    for i in range(size):
        if (z[i] != 0 or l1[i] == 0) and lower[i] < z[i] < upper[i]:
            if hessian[i, i] > 0:
                free[i] = True
                n_free += 1
    on = np.empty(n_free, dtype=np.intp)
    n_on = 0
    for i in range(size):
        if free[i]:
            on[n_on] = i
            n_on += 1
    target = np.zeros(size)
    largest = 0.0
    for a in range(n_free):
        i = on[a]
        value = grad[i] + l1[i] * np.sign(z[i])
        for j in range(size):
            if not free[j]:
                value += hessian[i, j] * (z[j] - theta[j])
        target[i] = value
        largest = max(largest, hessian[i, i])
    for row in range(flat.shape[0]):
        all_free = True
        for position in flat[row]:
            all_free = all_free and free[position]
        if all_free:
            mean = 0.0
            for position in flat[row]:
                mean += target[position]
            mean /= flat.shape[1]
            for position in flat[row]:
                target[position] -= mean
    block = np.empty((n_free, n_free))
    right = np.empty(n_free)
    for a in range(n_free):
        right[a] = target[on[a]]
        for b in range(n_free):
            block[a, b] = hessian[on[a], on[b]]
        block[a, a] += ridge * largest
    return on, right, block


#: The compiled kernels where numba is installed, else the NumPy ones.
sweep = _jit(_sweep_loop) or _sweep_numpy
line_minimum = _jit(_line_minimum_loop) or _line_minimum_numpy
face_system = _jit(_face_system_loop) or _face_system_numpy
