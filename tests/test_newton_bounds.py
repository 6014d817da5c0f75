"""The Newton finish's bound on the decrement after a step, from the Hessian
before it (sksoftmax._newton._stale_bounds), against the exact decrement
computed with the Hessian at the new point."""

import numpy as np
import pytest
from helpers import in_memory_objective, make_problem

from sksoftmax._newton import _Contrasts, _Factor, _stale_bounds


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("size", [1e-3, 0.1, 1.0])
def test_old_hessian_bounds_the_decrement_after_a_step(seed, n_classes, size):
    X, y, sample_weight, weights, intercept = make_problem(
        n_classes=n_classes, seed=seed
    )
    if n_classes == 2:
        # The binary model's one row: the contrast of class 1.
        weights, intercept = weights[1:] - weights[:1], intercept[1:] - intercept[:1]
    objective = in_memory_objective(X, y, sample_weight, n_classes, C=10.0)
    contrasts = _Contrasts(objective)
    before = contrasts.from_model(weights, intercept)
    factor = _Factor(contrasts.hessian(before))
    assert factor.cholesky is not None
    rng = np.random.default_rng(seed)
    # A displacement that moves the scores by about `size`.
    moved = rng.normal(size=before.shape) * size / np.abs(X).max()
    _, grad = contrasts.value_gradient(before + moved)

    _, decrement, gradient_norm = _stale_bounds(contrasts, factor, moved, grad)

    hessian = contrasts.hessian(before + moved)
    g = grad.ravel()
    exact = float(g @ np.linalg.solve(hessian, g))
    exact_gradient = float(np.max(np.abs(g) / np.sqrt(np.diag(hessian))))
    assert exact <= decrement * (1 + 1e-9)
    assert exact_gradient <= gradient_norm * (1 + 1e-9)
    # Not vacuous: after a small move the bound is nearly the decrement.
    if size <= 1e-3:
        assert decrement <= 1.02 * exact
