"""Fits of the objective: at one C (the classifier's), and along a path of Cs,
each warm-started from the fits before it (:func:`softmax_regression_path`, and the
folds of :class:`sksoftmax.SoftmaxRegressionCV`).

A path computes what does not depend on C once: the checked data and its
label encoding (the back-end's ``prepare``) and the preconditioning's feature
statistics (:func:`sksoftmax._objective.feature_statistics`). It solves from
the strongest penalty to the weakest: at a small C the optimum is near the
zero start and cheap to reach, and each next fit starts where the last two
optima predict it (:func:`_predicted_start`). Each fit still ends only where
the solver's stop tests pass at its own C, so the coefficients do not depend
on the order (to within ``tol``).
"""

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning

from ._backends import backend_for
from ._firth import firth_fit, model_rows_of
from ._model import with_reference_class
from ._newton import NewtonResult, finish_applies, newton_finish
from ._objective import (
    DataTerm,
    FeatureStatistics,
    SoftmaxObjective,
    feature_statistics,
)
from ._proximal import proximal_applies, proximal_newton
from ._settings import FitSettings, check_Cs, fit_settings
from ._solver import SolverStep, minimize_problem, print_step
from ._validation import check_finite_fit, warn


class Fit(NamedTuple):
    """The solution of one fit, in the model's rows (one row for two
    classes)."""

    #: Weights of shape (n_rows, n_features), float64.
    weights: np.ndarray
    #: Intercepts of shape (n_rows,), float64 (zeros without intercept).
    intercept: np.ndarray
    #: L-BFGS-B iterations, at least 1.
    n_iter: int


def fit_objective(
    data: DataTerm,
    n_classes: int,
    settings: FitSettings,
    *,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    statistics: FeatureStatistics | None = None,
    callback: Callable[[SolverStep], None] | None = None,
) -> Fit:
    """Minimise the objective of the resolved ``settings`` on ``data``.

    ``start`` is (weights, intercept) in the model's rows to start from (a
    warm start, clipped into the bounds), or None for the cold start of
    :meth:`SoftmaxObjective.initial_theta`. ``statistics`` are the data's
    feature statistics if already computed. Warns if the fit does not
    converge; raises if it ends at non-finite coefficients.
    """
    if settings.firth:
        return _firth_fit(data, n_classes, settings, start)
    started = time.perf_counter()
    objective = SoftmaxObjective(data, n_classes, settings, statistics=statistics)
    if start is None:
        theta0 = objective.initial_theta()
    else:
        theta0 = objective.pack(*start)
    listeners = [f for f in (print_step if settings.verbose else None, callback) if f]

    def show(step: SolverStep) -> None:
        for listener in listeners:
            listener(step)

    if proximal_applies(objective) and _hessian_cost(objective) <= _PROXIMAL_COST:
        # An L1 term or bounds on a small model: proximal Newton throughout.
        newton = proximal_newton(
            objective,
            *objective.unpack(theta0),
            tol=settings.tol,
            max_iter=settings.max_iter,
            callback=show,
            started=started,
        )
        _warn_unless_converged(newton, settings, 0, settings.max_iter)
        weights, intercept = newton.weights, newton.intercept
        n_iter = max(newton.n_iter, 1)
    else:
        weights, intercept, n_iter = _lbfgs_then_newton(
            objective, settings, theta0, show, started
        )
    coef_bounds = objective.penalty.coef_bounds
    if coef_bounds is not None:
        weights = _on_bounds(weights, *coef_bounds)
    if not objective.uses_reference_class:
        # Adding one amount to every class's weights of a feature changes no
        # probability: the penalty alone decides it, and is lowest for the
        # shift that Penalty.best_class_shift finds (on the class-sum plane
        # for an L2 penalty; centred where a feature has no penalty, the
        # limit of a vanishing one; with bounds, the nearest shift that keeps
        # the weights within them).
        weights = objective.penalty.best_class_shift(weights)
        # The same holds of the intercepts, which no penalty decides. Centred,
        # as LogisticRegression's are.
        intercept = intercept - intercept.mean()
    check_finite_fit(weights, intercept)
    return Fit(weights, intercept, n_iter)


def _firth_fit(
    data: DataTerm,
    n_classes: int,
    settings: FitSettings,
    start: tuple[np.ndarray, np.ndarray] | None,
) -> Fit:
    """Firth's fit (:mod:`sksoftmax._firth`), in the model's rows."""
    if start is not None:
        start = with_reference_class(*start, n_classes)
    firth = firth_fit(data, n_classes, settings, start)
    weights, intercept = model_rows_of(firth.params, n_classes, data.n_features)
    check_finite_fit(weights, intercept)
    return Fit(weights, intercept, firth.n_iter)


#: The most evaluations of the objective that the Hessian of a fit by
#: proximal Newton may cost (``_hessian_cost``: about 200 coefficients with
#: ten classes, K = 3 and p = 140, or 2 classes and p = 400): a default L-BFGS-B
#: fit's budget. Beyond, the 5 to 30 Hessians of a fit cost more than the
#: L-BFGS-B split's iterations (0.3 s against 3 s on 10,000 x 100 with 10
#: classes), and coordinate descent crawls where many classes leave the
#: Hessian nearly singular along their sums.
_PROXIMAL_COST = 100
#: The tol to which L-BFGS-B runs before Newton steps finish a fit (or the
#: fit's own, where looser): the default tol, from which two or three steps
#: reach any tighter one.
_HANDOFF_TOL = 1e-4
#: The tightest tol to which L-BFGS-B goes on by itself. On five benchmark
#: datasets (anes96, the digits, 10,000 x 10, 100,000 x 50 and 200,000 x 100)
#: it converged at 1e-7 on all, but took up to twice the iterations of 1e-6
#: (51 against 22 on 200,000 x 100), more than the half of ``max_iter`` it
#: gets; it stalled ("stopped making progress": the decrease its line search
#: must find falls to the objective's rounding) at 3e-8 on one and at 1e-8 on
#: four.
_LBFGS_TOL_FLOOR = 1e-6
#: Evaluations of the objective above which a Hessian costs more than the
#: L-BFGS-B iterations from the hand-off to a tol of 1e-6 (6 to 81 on those
#: datasets). A tol of 1e-6 then took 1.0 s on 200,000 x 100 with 10 classes
#: (a Hessian costs 4 s) against 4.8 s with the Newton finish, and 0.27 s
#: against 0.58 on 100,000 x 50 with 7 classes.
_LBFGS_TAIL = 100
#: Evaluations that a Newton check of a converged L-BFGS-B run may always
#: cost: the two windows of its trend test (a warm start that passed its
#: tests within them claimed convergence up to 9e-3 above the optimum). A
#: check of every short run made a 200k x 100 fit with 10 classes 12 times
#: slower.
_SHORT_RUN = 20


def _lbfgs_then_newton(
    objective: SoftmaxObjective,
    settings: FitSettings,
    theta0: np.ndarray,
    show: Callable[[SolverStep], None],
    started: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """L-BFGS-B from ``theta0``, then, where the model is small and the
    penalty smooth, Newton steps (:mod:`sksoftmax._newton`) with the
    iterations it left; the weights, intercepts and iterations in all.
    Warns unless the fit converges."""
    # Where Newton steps finish the fit, L-BFGS-B need not go below the
    # hand-off: the steps get further each than its iterations near the end,
    # unless a Hessian costs more than those iterations (_lbfgs_reaches).
    finish = finish_applies(objective)
    tol = settings.tol
    if finish and not _lbfgs_reaches(settings.tol, objective):
        tol = max(tol, _HANDOFF_TOL)
    result = minimize_problem(
        objective,
        theta0,
        tol=tol,
        gradient_tol=tol * objective.gradient_tol_factor,
        gradient_tol_reason=objective.gradient_tol_reason,
        # Where Newton steps follow, half the iterations are kept for them.
        max_iter=settings.max_iter - settings.max_iter // 2 * finish,
        callback=show,
        owner=settings.estimator,
        warn_on_failure=not finish,
    )
    # The solution in the variables of the solver's last rescaling.
    weights, intercept = result.problem.unpack(result.x)
    if finish and result.converged and tol == settings.tol:
        # L-BFGS-B met the fit's own tol. The Newton steps are a check worth
        # their cost where a Hessian costs less than the iterations made, or
        # than _SHORT_RUN of them: a warm start's few iterations leave its
        # trend test unsure, and on small models a Hessian is cheap.
        finish = _hessian_cost(objective) <= max(result.n_iter, _SHORT_RUN)
    if not finish:
        return weights, intercept, result.n_iter
    remaining = settings.max_iter - result.n_iter
    if remaining <= 0 and not result.converged:
        assert result.message is not None  # not converged
        warn(result.message, ConvergenceWarning)
        return weights, intercept, result.n_iter
    newton = newton_finish(
        objective,
        weights,
        intercept,
        tol=settings.tol,
        max_iter=max(remaining, 0),
        first_iteration=result.n_iter + 1,
        evaluations_before=result.n_evaluations,
        callback=show,
        started=started,
    )
    _warn_unless_converged(newton, settings, result.n_iter, remaining)
    return newton.weights, newton.intercept, result.n_iter + newton.n_iter


def _lbfgs_reaches(tol: float, objective: SoftmaxObjective) -> bool:
    """Whether L-BFGS-B goes on below the hand-off to a tighter ``tol`` by
    itself, Newton steps following only where it does not converge: where
    ``tol`` is within its reach (``_LBFGS_TOL_FLOOR``) and a Hessian costs
    more than the iterations it then takes (``_LBFGS_TAIL``)."""
    return _LBFGS_TOL_FLOOR <= tol and _hessian_cost(objective) > _LBFGS_TAIL


def _hessian_cost(objective: SoftmaxObjective) -> float:
    """The cost of the Newton finish's Hessian in evaluations of the
    objective: about ``2 n P^2`` operations (P the contrasts) against ``4 n p
    K`` for the data term's products."""
    n_features, n_classes = objective.data.n_features, objective.n_classes
    n_params = (n_classes - 1) * (n_features + objective.settings.fit_intercept)
    return n_params**2 / (2 * max(n_features, 1) * n_classes)


def _warn_unless_converged(
    newton: NewtonResult, settings: FitSettings, lbfgs_iterations: int, allowed: int
) -> None:
    """The ``ConvergenceWarning`` of Newton iterations that did not converge
    (``allowed`` of them at most, after ``lbfgs_iterations`` of L-BFGS-B)."""
    if newton.converged:
        return
    if newton.unbounded:
        advice = (
            "The classes are separated (or nearly) along weights without "
            "a penalty, and the objective has no minimum: use a finite C "
            "(or penalty factors above 0)"
        )
    elif newton.n_iter >= allowed:
        advice = "Increase max_iter"
    else:
        advice = (
            "The objective may be flat to machine precision: loosen tol, "
            "or try a smaller C"
        )
    before = (
        f"after {lbfgs_iterations} iterations of L-BFGS-B and "
        if lbfgs_iterations
        else "after "
    )
    warn(
        f"{settings.estimator} did not converge to tol={settings.tol}: "
        f"{before}{newton.n_iter} Newton steps, {newton.reason}. {advice}.",
        ConvergenceWarning,
    )


#: Distance in units of the last place within which a weight is taken to be
#: on its bound: the solver holds the scaled weight exactly on the scaled
#: bound, and dividing by the scale rounds it (twice, a few ulps at most).
_ON_BOUND_ULPS = 4


def _on_bounds(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The weights clipped to their bounds, those within a few ulps of a bound
    set exactly to it (as the solver left them, before the scales rounded
    them): a weight on its bound compares equal to it."""
    weights = np.clip(weights, lower, upper)
    for bound in (lower, upper):
        near = np.abs(weights - bound) <= _ON_BOUND_ULPS * np.spacing(np.abs(bound))
        weights[near] = bound[near]
    return weights


def fit_path(
    data: DataTerm,
    n_classes: int,
    Cs: np.ndarray,
    settings: FitSettings,
    *,
    statistics: FeatureStatistics | None = None,
) -> list[Fit]:
    """One :class:`Fit` per C of ``Cs`` (in the order given), solved from the
    smallest C to the largest, each warm-started from the fits before it, with
    the other resolved ``settings``. ``statistics`` are the data's feature
    statistics, if already computed. A fit that does not converge warns,
    naming its C."""
    if statistics is None:
        statistics = feature_statistics(data)
    fits: list[Fit | None] = [None] * len(Cs)
    # (log C, weights, intercept) of the last two fits.
    solved: list[tuple[float, np.ndarray, np.ndarray]] = []
    # A stable sort: equal Cs keep their order (and the second starts at the
    # first's optimum).
    for index in np.argsort(Cs, kind="stable"):
        log_C = np.log(Cs[index])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fit = fit_objective(
                data,
                n_classes,
                settings.replace(C=float(Cs[index])),
                start=_predicted_start(solved, log_C),
                statistics=statistics,
            )
        # Each warning once more, a ConvergenceWarning saying which fit it is.
        where = f"the fit at C={Cs[index]:.6g}" + (
            f", l1_ratio={settings.l1_ratio:g}" if settings.l1_ratio else ""
        )
        for caught_warning in caught:
            if issubclass(caught_warning.category, ConvergenceWarning):
                warn(f"{caught_warning.message} ({where}.)", ConvergenceWarning)
            else:
                warnings.warn_explicit(
                    caught_warning.message,
                    caught_warning.category,
                    caught_warning.filename,
                    caught_warning.lineno,
                )
        fits[index] = fit
        solved = [*solved[-1:], (log_C, fit.weights, fit.intercept)]
    return [fit for fit in fits if fit is not None]


def _predicted_start(
    solved: list[tuple[float, np.ndarray, np.ndarray]], log_C: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the fit at ``log_C`` starts: the last optimum, moved along the
    line through the last two optima in log C (by at most their distance).

    The path is smooth in log C, and its straight-line prediction starts the
    next fit nearer than the last optimum does.
    """
    if not solved:
        return None
    _, weights, intercept = solved[-1]
    if len(solved) < 2 or not np.isfinite(log_C):
        return weights, intercept
    (log_C0, weights0, intercept0), (log_C1, _, _) = solved
    if not log_C1 > log_C0:
        return weights, intercept
    step = min((log_C - log_C1) / (log_C1 - log_C0), 1.0)
    return (
        weights + step * (weights - weights0),
        intercept + step * (intercept - intercept0),
    )


class SoftmaxPath(NamedTuple):
    """What :func:`softmax_regression_path` returns."""

    #: The Cs, float64, in the order given, of shape (n_Cs,).
    Cs: np.ndarray
    #: The weights at each C, of shape (n_Cs, n_rows, n_features): n_rows is 1
    #: for two classes (the weights of ``classes[1]``), else n_classes.
    coefs: Any
    #: The intercepts at each C, of shape (n_Cs, n_rows).
    intercepts: Any
    #: L-BFGS-B iterations of each fit, int32, of shape (n_Cs,).
    n_iter: np.ndarray
    #: The sorted class labels, the rows' order.
    classes: Any


def softmax_regression_path(
    # X, y and sample_weight: of any array library the back-ends take, hence Any.
    X: Any,
    y: Any,
    Cs: int | Sequence[float] = 10,
    *,
    l1_ratio: float = 0.0,
    sample_weight: Any = None,
    fit_intercept: bool = True,
    class_weight: dict[Any, float] | str | None = None,
    max_iter: int = 100,
    tol: float = 1e-4,
    label_smoothing: float = 0.0,
    verbose: int = 0,
    penalty_factor: ArrayLike | dict[Any, float] | None = None,
    coef_bounds: tuple[ArrayLike, ArrayLike] | None = None,
) -> SoftmaxPath:
    """Fit the softmax regression model at each of several Cs, warm-started.

    Each fit is the one :class:`SoftmaxRegressionClassifier` makes at that C
    with the same other parameters (the same objective, minimised to the same
    ``tol``). The data are checked, their labels encoded and their feature
    statistics computed once for the whole path; the Cs are solved from the
    smallest to the largest, each fit starting where the straight line through
    the two optima before it (in log C) predicts, which makes a path several
    times cheaper than as many cold fits. The result does not depend on the
    order of ``Cs`` beyond ``tol``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, as :meth:`SoftmaxRegressionClassifier.fit` takes it
        (Dask collections and array API arrays included).
    y : array-like of shape (n_samples,)
        Class labels.
    Cs : int or array-like of shape (n_Cs,), default=10
        The inverse penalty strengths, positive floats (``np.inf`` for no
        penalty), in any order; an int n means ``np.logspace(-4, 4, n)``, as in
        ``LogisticRegressionCV``.
    l1_ratio : float, default=0.0
        The elastic-net mixing parameter, in [0, 1], for every C.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the samples.
    fit_intercept, class_weight, max_iter, tol, label_smoothing, verbose
        As in :class:`SoftmaxRegressionClassifier`; ``max_iter`` bounds each
        fit of the path.
    penalty_factor, coef_bounds
        As in :class:`SoftmaxRegressionClassifier`, for every C.

    Returns
    -------
    path : SoftmaxPath
        A named tuple ``(Cs, coefs, intercepts, n_iter, classes)``: the Cs in
        the order given (float64), the weights of shape (n_Cs, n_rows,
        n_features) and the intercepts of shape (n_Cs, n_rows) at each C,
        where n_rows is 1 for two classes and n_classes otherwise (the shapes
        of ``coef_`` and ``intercept_``, in X's dtype and namespace), the
        iterations of each fit, and the sorted class labels.

    Warns
    -----
    ConvergenceWarning
        For each C whose fit did not converge, naming the C.

    See Also
    --------
    SoftmaxRegressionCV : Chooses C (and l1_ratio) by cross-validation along
        such paths.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import softmax_regression_path
    >>> X, y = load_iris(return_X_y=True)
    >>> path = softmax_regression_path(X, y, Cs=[0.01, 1.0, 100.0])
    >>> path.coefs.shape, path.intercepts.shape
    ((3, 3, 4), (3, 3))
    >>> bool(abs(path.coefs[0]).max() < abs(path.coefs[2]).max())
    True
    """
    grid = check_Cs(Cs)
    settings = fit_settings(
        {
            "fit_intercept": fit_intercept,
            "class_weight": class_weight,
            "max_iter": max_iter,
            "tol": tol,
            "verbose": verbose,
            "l1_ratio": l1_ratio,
            "label_smoothing": label_smoothing,
            "penalty_factor": penalty_factor,
            "coef_bounds": coef_bounds,
        },
        "softmax_regression_path",
    )
    prepared = backend_for(X, y).prepare(X, y, sample_weight, settings)
    settings = prepared.resolve(settings)
    with prepared.data:
        fits = fit_path(prepared.data, len(prepared.classes), grid, settings)
    coefs = np.stack([fit.weights for fit in fits]).astype(prepared.dtype)
    intercepts = np.stack([fit.intercept for fit in fits]).astype(prepared.dtype)
    return SoftmaxPath(
        grid,
        prepared.to_fitted(coefs),
        prepared.to_fitted(intercepts),
        np.array([fit.n_iter for fit in fits], dtype=np.int32),
        prepared.to_fitted(prepared.classes),
    )
