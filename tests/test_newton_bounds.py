"""The Newton finish's bound on the decrement after a step, from the Hessian
before it (sksoftmax._newton._stale_bounds), against the exact decrement
computed with the Hessian at the new point."""

import numpy as np
import pytest
import scipy.linalg
from helpers import in_memory_objective, make_problem
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification

import sksoftmax._newton as newton
from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._newton import _Contrasts, _Factor, _largest_score, _stale_bounds
from sksoftmax._proximal import _Rows


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


def problem(seed, n_classes):
    X, y, sample_weight, weights, intercept = make_problem(
        n_classes=n_classes, seed=seed
    )
    if n_classes == 2:
        weights, intercept = weights[1:] - weights[:1], intercept[1:] - intercept[:1]
    objective = in_memory_objective(X, y, sample_weight, n_classes, C=10.0)
    return X, objective, _Contrasts(objective).from_model(weights, intercept)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_classes", [2, 4])
def test_hessian_falls_by_at_most_exp_minus_2m(seed, n_classes):
    # The claim under the bound: H_new >= exp(-2 M) H_old, M the largest
    # change of a score, computed here from X directly.
    X, objective, before = problem(seed, n_classes)
    contrasts = _Contrasts(objective)
    rng = np.random.default_rng(seed)
    moved = rng.normal(size=before.shape) * 0.5 / np.abs(X).max()
    weights, intercept = contrasts.to_model(moved)
    largest = float(np.abs(X @ weights.T + intercept).max())
    (found,) = _largest_score((X, None, None), (weights, intercept))
    assert float(found) == pytest.approx(largest, rel=1e-12)
    old = contrasts.hessian(before)
    new = contrasts.hessian(before + moved)
    smallest = scipy.linalg.eigh(new, old, eigvals_only=True)[0]
    assert smallest >= np.exp(-2 * largest) * (1 - 1e-9)


def test_newton_finish_forms_fewer_hessians_for_the_same_fit(monkeypatch):
    # The old Hessian's bound spares the last exact Hessian and changes
    # nothing in the fit (the last step is rejected as unmeasurable, as an
    # exact one is).
    X, y = make_classification(3000, 12, n_informative=6, n_classes=4, random_state=0)
    calls = []
    hessian = _Contrasts.hessian

    def counted(self, theta):
        calls.append(1)
        return hessian(self, theta)

    monkeypatch.setattr(_Contrasts, "hessian", counted)
    fitted = SoftmaxRegressionClassifier(tol=1e-8).fit(X, y)
    with_bound = len(calls)
    calls.clear()
    monkeypatch.setattr(newton, "_STALE_TRY", -1.0)
    exact = SoftmaxRegressionClassifier(tol=1e-8).fit(X, y)
    assert with_bound < len(calls)
    assert_allclose(fitted.coef_, exact.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(fitted.intercept_, exact.intercept_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_flat_directions_are_the_unpenalised_columns_class_shifts(n_classes):
    # Columns 0 (factor 0) and the intercepts carry no L1 or L2 term: with
    # three classes, a shift of their coefficients in every class is flat;
    # the binary model's one row has no such shift.
    X, y = make_classification(200, 3, n_informative=3, n_redundant=0,
                               n_classes=n_classes, random_state=0)  # fmt: skip
    objective = in_memory_objective(
        X, y, np.ones(len(y)), n_classes, C=1.0, l1_ratio=0.5,
        penalty_factor=np.array([0.0, 1.0, 1.0]),
    )  # fmt: skip
    rows = _Rows(objective)
    if n_classes == 2:
        assert rows.flat_directions == []
        return
    n_columns = 4
    found = sorted(tuple(direction) for direction in rows.flat_directions)
    expected = [tuple(np.arange(3) * n_columns + j) for j in (0, 3)]
    assert found == expected
