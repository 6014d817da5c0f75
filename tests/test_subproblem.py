"""The proximal Newton subproblem (sksoftmax._proximal): the minimum of a
quadratic model plus an L1 term within bounds, against SciPy's L-BFGS-B on
the split problem, an independent solver, at tight tolerance; with each set
of kernels (sksoftmax._coordinate): NumPy's, and the loops that numba
compiles (run as Python where numba is not installed)."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize

from sksoftmax import _coordinate, _proximal
from sksoftmax._proximal import _EXACT, _solve_subproblem


def compiled_or_loop(name):
    """The compiled kernel where numba is installed, else its loops run as
    Python."""
    kernel = getattr(_coordinate, name)
    numpy_kernel = getattr(_coordinate, f"_{name}_numpy")
    return getattr(_coordinate, f"_{name}_loop") if kernel is numpy_kernel else kernel


NAMES = ("sweep", "line_minimum", "face_system")
KERNELS = {
    "numpy": [getattr(_coordinate, f"_{name}_numpy") for name in NAMES],
    "loops": [compiled_or_loop(name) for name in NAMES],
}


@pytest.fixture(params=list(KERNELS), autouse=True)
def kernels(request, monkeypatch):
    """Each test runs with each set of kernels."""
    for name, kernel in zip(NAMES, KERNELS[request.param], strict=True):
        monkeypatch.setattr(_proximal, name, kernel)
    return request.param


def model_value(z, theta, grad, hessian, l1):
    step = z - theta
    return grad @ step + 0.5 * step @ hessian @ step + l1 @ np.abs(z)


def reference_minimum(theta, grad, hessian, l1, lower, upper):
    """The model's minimum over z = z+ - z- with z+, z- >= 0 (the L1 term
    then linear), the bounds on z+ - z- as bounds on each part where one
    side is 0."""
    size = theta.size

    def value_gradient(x):
        z = x[:size] - x[size:]
        step = z - theta
        g = grad + hessian @ step
        value = grad @ step + 0.5 * step @ hessian @ step + l1 @ (x[:size] + x[size:])
        return value, np.concatenate([g + l1, -g + l1])

    bounds = [(0, max(u, 0)) for u in upper] + [(0, max(-lo, 0)) for lo in lower]
    x0 = np.concatenate([np.clip(theta, 0, None), np.clip(-theta, 0, None)])
    result = scipy.optimize.minimize(
        value_gradient, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 50_000, "ftol": 1e-16, "gtol": 1e-13, "maxcor": 50},
    )  # fmt: skip
    return result.x[:size] - result.x[size:]


@pytest.mark.parametrize("seed", range(40))
def test_subproblem_reaches_the_minimum_of_the_model(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 25))
    rank = int(rng.integers(1, size + 1))
    # A Hessian of any rank (singular where classes' sums have no L2 term),
    # features of unequal scale.
    factor = rng.normal(size=(size, rank)) * 10 ** rng.uniform(-1, 1, (size, 1))
    ridge = rng.choice([0.0, 1e-3])
    hessian = factor @ factor.T + ridge * np.eye(size)
    theta = rng.normal(size=size) * rng.integers(0, 2, size)
    grad = rng.normal(size=size)
    l1 = rng.uniform(0.5, 3.0, size) * np.abs(grad).max()
    if ridge > 0:
        l1[rng.random(size) < 0.3] *= rng.uniform(0, 0.2)
    elif seed % 2:
        # Bounded below along the Hessian's null space: every L1 weight
        # above the largest |gradient| (then |g.v| < l1.|v| for all v).
        l1 += np.abs(grad).max()
    else:
        # The softmax's case: the gradient has no part along the null space
        # (the classes' sums), the L1 weights small; the L1 term alone
        # decides where along it the minimum lies.
        grad = factor @ rng.normal(size=rank)
        l1 *= rng.uniform(0, 0.2, size)
    bounded = rng.random(size) < 0.3
    lower = np.where(bounded, -rng.uniform(0, 1, size), -np.inf)
    upper = np.where(bounded, rng.uniform(0, 1, size), np.inf)
    theta = np.clip(theta, lower, upper)
    rows = SimpleNamespace(l1=l1, lower=lower, upper=upper, flat_directions=[])

    ours = _solve_subproblem(theta, grad, hessian, rows, _EXACT, 5000)
    reference = reference_minimum(theta, grad, hessian, l1, lower, upper)

    assert np.all(ours >= lower) and np.all(ours <= upper)
    ours_value = model_value(ours, theta, grad, hessian, l1)
    best = model_value(reference, theta, grad, hessian, l1)
    assert ours_value <= best + 1e-9 * max(abs(best), 1.0)


@pytest.mark.parametrize("seed", range(10))
def test_subproblem_does_not_run_along_a_flat_direction(seed):
    # Three classes' rows of three columns; the last column (an intercept)
    # has no L1 term, and a shift of all its classes' coefficients is flat:
    # the Hessian has no curvature along it and the gradient only rounding
    # there. A step along it is the model's alone: the objective does not
    # change, and the coefficients must not run off.
    rng = np.random.default_rng(seed)
    n_rows, n_columns = 3, 3
    size = n_rows * n_columns
    flat = np.arange(n_rows) * n_columns + n_columns - 1
    u = np.zeros(size)
    u[flat] = 1 / np.sqrt(n_rows)
    project = np.eye(size) - np.outer(u, u)
    factor = rng.normal(size=(size, size))
    hessian = project @ (factor @ factor.T) @ project
    true_grad = project @ rng.normal(size=size)
    grad = true_grad + 1e-9 * u
    l1 = rng.uniform(0.1, 1.0, size) * np.abs(true_grad).max()
    l1[flat] = 0.0
    lower = np.where(rng.random(size) < 0.3, -0.5, -np.inf)
    lower[flat] = -np.inf
    upper = np.full(size, np.inf)
    theta = np.clip(rng.normal(size=size) * rng.integers(0, 2, size), lower, upper)
    rows = SimpleNamespace(l1=l1, lower=lower, upper=upper, flat_directions=[flat])

    ours = _solve_subproblem(theta, grad, hessian, rows, _EXACT, 5000)

    # Coordinate descent may move along it as far as its own moves go (each
    # coordinate's move is a descent of the model), not further.
    step = ours - theta
    others = np.ones(size, dtype=bool)
    others[flat] = False
    assert abs(u @ step) <= 1.0 + 10 * np.abs(step[others]).max()
    reference = reference_minimum(theta, true_grad, hessian, l1, lower, upper)
    best = model_value(reference, theta, true_grad, hessian, l1)
    ours_value = model_value(ours, theta, true_grad, hessian, l1)
    assert ours_value <= best + 1e-9 * max(abs(best), 1.0)


@pytest.mark.parametrize("seed", range(20))
def test_face_target_is_the_minimum_on_its_face(seed):
    # On the face of z (its coordinates at zero with an L1 term, or on a
    # bound, held; the others keep their signs) the model is a quadratic
    # plus a linear term: its minimum zeroes the gradient on the free
    # coordinates.
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 30))
    factor = rng.normal(size=(size, size)) * 10 ** rng.uniform(-1, 1, (size, 1))
    hessian = factor @ factor.T + 1e-2 * np.eye(size)
    theta = rng.normal(size=size)
    grad = rng.normal(size=size)
    l1 = rng.uniform(0, 1, size) * (rng.random(size) < 0.8)
    bounded = rng.random(size) < 0.3
    lower = np.where(bounded, -rng.uniform(0, 1, size), -np.inf)
    upper = np.where(bounded, rng.uniform(0, 1, size), np.inf)
    z = rng.normal(size=size) * (rng.random(size) < 0.6)
    z = np.where(bounded & (rng.random(size) < 0.5), lower, z)
    z = np.clip(z, lower, upper)
    rows = SimpleNamespace(l1=l1, lower=lower, upper=upper, flat_directions=[])
    free = ((z != 0) | (l1 == 0)) & (z > lower) & (z < upper)

    target = _proximal._face_target(z, theta, grad, hessian, rows)

    if not np.any(free):
        assert target is None
        return
    assert np.array_equal(target[~free], z[~free])
    gradient = grad + hessian @ (target - theta) + l1 * np.sign(z)
    scale = np.abs(grad).max() + np.abs(hessian).max() * np.abs(target - theta).max()
    assert np.abs(gradient[free]).max() <= 1e-9 * scale


@pytest.mark.parametrize("seed", range(60))
def test_line_minimum_minimises_the_model_along_the_line(seed, kernels):
    # Against SciPy's bounded scalar minimiser on the same convex function of
    # t: the model plus the L1 term at z + t d, within the bounds.
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 20))
    factor = rng.normal(size=(size, size))
    # Flat (a linear model, which the bounds then end) or curved.
    hessian = factor @ factor.T * rng.choice([0.0, 1.0])
    theta = rng.normal(size=size)
    grad = rng.normal(size=size)
    l1 = rng.uniform(0, 2, size) * (rng.random(size) < 0.8)
    bounded = rng.random(size) < (1.0 if not hessian.any() else 0.3)
    lower = np.where(bounded, -rng.uniform(1, 3, size), -np.inf)
    upper = np.where(bounded, rng.uniform(1, 3, size), np.inf)
    z = np.clip(rng.normal(size=size) * (rng.random(size) < 0.6), lower, upper)
    # Towards zero more often than not: the L1 term's kinks on the way.
    direction = -np.sign(z) * rng.uniform(0.5, 2, size) * (rng.random(size) < 0.8)
    direction[rng.random(size) < 0.3] *= -1
    direction[z == 0] = rng.normal(size=int(np.sum(z == 0)))
    residual = grad + hessian @ (z - theta)
    line_minimum = _proximal.line_minimum

    t = line_minimum(z, direction, residual, hessian @ direction, l1, lower, upper)

    def along(s):
        return model_value(z + s * direction, theta, grad, hessian, l1)

    with np.errstate(divide="ignore", invalid="ignore"):
        to_bound = np.where(direction > 0, upper - z, lower - z) / direction
    t_max = float(np.min(to_bound[direction != 0], initial=np.inf))
    if not np.any(direction):
        assert t == 0.0
        return
    if not np.isfinite(t_max):
        # A curved model: its minimum lies within a few of its lengths.
        t_max = max(2 * t, 10.0)
    assert 0 <= t <= t_max
    reference = scipy.optimize.minimize_scalar(
        along, bounds=(0, t_max), method="bounded", options={"xatol": 1e-12}
    )
    scale = 1.0 + abs(along(0.0))
    assert along(t) <= min(reference.fun, along(0.0), along(t_max)) + 1e-9 * scale
