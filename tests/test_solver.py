"""The L-BFGS-B driver: where it ends, what its callback sees, how it warns."""

import time
import warnings

import numpy as np
import pytest
from helpers import in_memory_objective, make_problem
from numpy.testing import assert_allclose
from reference import objective as reference_objective
from sklearn.exceptions import ConvergenceWarning

from sksoftmax._solver import minimize_lbfgs, minimize_problem


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_preconditioned_and_plain_fits_reach_the_same_optimum(sparse, fit_intercept):
    X, y, sw, _, _ = make_problem(n_samples=300, n_features=5, sparse=sparse, seed=5)
    solutions = []
    for precondition in (False, True):
        objective = in_memory_objective(
            X, y, sw, 4, C=2.0, fit_intercept=fit_intercept, precondition=precondition
        )
        # tol=1e-10 is at or below the gradient's rounding (~1e-8
        # preconditioned, ~1e-7 plain): a run may reach it, or run until the
        # objective stops falling and warn. Either way it ends at the optimum.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = minimize_problem(
                objective, objective.initial_theta(), tol=1e-10, max_iter=20000
            )
        solutions.append(result.problem.unpack(result.x))
    (w_plain, b_plain), (w_pre, b_pre) = solutions
    f_plain = reference_objective(w_plain, b_plain, X, y, sw, C=2.0)
    f_pre = reference_objective(w_pre, b_pre, X, y, sw, C=2.0)
    assert_allclose(f_pre, f_plain, rtol=1e-10)
    # The plain run stops on ftol ~1e-5 off in the weights of its small-scale
    # feature, where the objective is flattest.
    assert_allclose(w_pre - w_pre.mean(0), w_plain - w_plain.mean(0), atol=1e-4)
    assert_allclose(b_pre - b_pre.mean(), b_plain - b_plain.mean(), atol=1e-4)


def test_callback_sees_every_iteration_at_the_accepted_point():
    X, y, sw, _, _ = make_problem(n_samples=300, n_features=5, seed=5)
    objective = in_memory_objective(X, y, sw, 4, C=2.0, fit_intercept=True)
    steps = []
    # Seconds spent in the evaluations so far, and since just before the
    # call, as each step is seen: ``elapsed`` counts from the solver's start.
    evaluating, seen_at = [0.0], []

    def timed_loss_gradient(theta):
        start = time.perf_counter()
        try:
            return objective.loss_gradient(theta)
        finally:
            evaluating[0] += time.perf_counter() - start

    def record(step):
        seen_at.append((evaluating[0], time.perf_counter() - before))
        steps.append(step)

    before = time.perf_counter()
    result = minimize_lbfgs(
        timed_loss_gradient,
        objective.initial_theta(),
        tol=1e-8,
        max_iter=1000,
        callback=record,
    )
    assert [step.iteration for step in steps] == list(range(1, result.n_iter + 1))
    value, grad = objective.loss_gradient(result.x)
    assert steps[-1].objective == pytest.approx(value, rel=1e-14)
    assert steps[-1].gradient_norm == pytest.approx(np.max(np.abs(grad)), rel=1e-12)
    assert steps[-1].gradient_norm <= 1e-8
    objectives = [step.objective for step in steps]
    assert all(b <= a for a, b in zip(objectives, objectives[1:], strict=False))
    evaluations = [step.n_evaluations for step in steps]
    assert all(b > a for a, b in zip(evaluations, evaluations[1:], strict=False))
    # Each step's time covers every evaluation before it, and no more than
    # the call so far.
    for step, (in_evaluations, since_call) in zip(steps, seen_at, strict=True):
        assert in_evaluations <= step.elapsed <= since_call


def test_an_exception_in_the_callback_ends_the_solver():
    X, y, sw, _, _ = make_problem(n_samples=300, n_features=5, seed=5)
    objective = in_memory_objective(X, y, sw, 4, C=2.0, fit_intercept=True)
    seen = []

    class Stop(Exception):
        pass

    def stop_at_three(step):
        seen.append(step.iteration)
        if step.iteration == 3:
            raise Stop

    with pytest.raises(Stop):
        minimize_lbfgs(
            objective.loss_gradient,
            objective.initial_theta(),
            tol=1e-10,
            max_iter=1000,
            callback=stop_at_three,
        )
    assert seen == [1, 2, 3]


def test_convergence_warning_points_at_the_callers_line():
    X, y, sw, _, _ = make_problem(n_samples=300, n_features=5, seed=5)
    objective = in_memory_objective(X, y, sw, 4, C=2.0, fit_intercept=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=2") as record:
        result = minimize_lbfgs(
            objective.loss_gradient, objective.initial_theta(), tol=1e-10, max_iter=2
        )
    assert not result.converged
    assert [w.filename for w in record] == [__file__]
