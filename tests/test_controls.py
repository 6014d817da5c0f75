"""Per-feature penalty factors and bounds on the weights: parameter checks, the
optimality conditions against an independent gradient, LogisticRegression and
SciPy as third-party references, and the paths that pass them on."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from helpers import (
    in_memory_objective,
    make_problem,
    standardised,
    tight_logistic_regression,
)
from numpy.testing import assert_allclose, assert_array_equal
from reference import objective, smooth_gradient
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import (
    SoftmaxRegressionClassifier,
    SoftmaxRegressionCV,
    softmax_regression_path,
)

C = 0.5
#: One unpenalised feature, the others penalised from half to three times.
FACTORS = np.array([0.0, 1.0, 2.0, 0.5, 1.0, 3.0])
BOX = (-0.2, 0.3)


def unit_spread_problem(n_classes=4, sparse=False, weighted=True, seed=0):
    """200 rows of 6 features scaled to a root mean square of one (so that a
    gradient of 1e-7 in the solver's variables is about 1e-7 in the user's),
    with their offsets; weights from [0, 3) or ones."""
    X, y, sample_weight, _, _ = make_problem(
        n_samples=200, n_classes=n_classes, sparse=sparse, seed=seed
    )
    if sparse:
        X = sp.csr_matrix(X.multiply(1 / np.sqrt(X.multiply(X).mean(axis=0))))
    else:
        X = X / np.sqrt((X**2).mean(axis=0))
    return X, y, sample_weight if weighted else np.ones(len(y))


def optimality_residual(model, X, y, sample_weight, C, l1_ratio, factors, bounds):
    """The largest violation of the optimality conditions, from the gradient of
    :mod:`reference`: at a weight below its upper bound the objective must not
    fall when the weight rises, and above its lower bound not when it falls
    (with the L1 term's one-sided slopes, so that an exact zero needs
    ``|gradient| <= l1``); the intercepts' gradient must vanish. Also the
    counts of weights on a bound and of exact zeros strictly inside them."""
    W = np.asarray(model.coef_, dtype=np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64)
    grad_w, grad_b = smooth_gradient(
        W, b, X, y, sample_weight, C, l1_ratio, penalty_factor=factors
    )
    l1 = l1_ratio * factors / (C * sample_weight.sum())
    rising = grad_w + l1 * np.where(W >= 0, 1.0, -1.0)
    falling = -grad_w + l1 * np.where(W <= 0, 1.0, -1.0)
    lower, upper = (np.broadcast_to(bound, W.shape) for bound in bounds)
    assert np.all(W >= lower) and np.all(W <= upper)
    residual = max(
        np.max(-rising[W < upper], initial=0.0),
        np.max(-falling[W > lower], initial=0.0),
        np.max(np.abs(grad_b)),
    )
    on_bound = int(np.sum((W == lower) | (W == upper)))
    inner_zeros = int(np.sum((W == 0) & (lower < 0) & (upper > 0)))
    return residual, on_bound, inner_zeros


def converged_fit(X, y, sample_weight, **params):
    """A fit at C with the factors of FACTORS and ``params``; a
    ConvergenceWarning fails the test."""
    model = SoftmaxRegressionClassifier(
        C=C, penalty_factor=FACTORS, max_iter=5000, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
@pytest.mark.parametrize("bounds", [None, BOX, (0.0, np.inf)])
def test_fit_meets_the_optimality_conditions(sparse, weighted, l1_ratio, bounds):
    X, y, sample_weight = unit_spread_problem(sparse=sparse, weighted=weighted)
    model = converged_fit(
        X, y, sample_weight, l1_ratio=l1_ratio, coef_bounds=bounds, tol=1e-7
    )
    residual, on_bound, inner_zeros = optimality_residual(
        model,
        X,
        y,
        sample_weight,
        C,
        l1_ratio,
        FACTORS,
        (-np.inf, np.inf) if bounds is None else bounds,
    )
    assert residual <= 1e-7
    if bounds is not None:
        # The bounds bind, so that the conditions at a bound were tested.
        assert on_bound > 0
    if l1_ratio and bounds != (0.0, np.inf):
        # The elastic net's exact zeros, not only the bound's.
        assert inner_zeros > 0


@pytest.mark.parametrize("bounds", [BOX, (0.0, np.inf)])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_float32_fit_meets_the_optimality_conditions(l1_ratio, bounds):
    # float32 products round the gradient to about 1e-5 (the documented
    # limit of tol for float32 X), so the conditions hold to 1e-4 at
    # tol=1e-4, on the float32 data itself.
    X, y, sample_weight = unit_spread_problem()
    X = X.astype(np.float32)
    model = converged_fit(
        X, y, sample_weight, l1_ratio=l1_ratio, coef_bounds=bounds, tol=1e-4
    )
    assert model.coef_.dtype == np.float32
    # float32 weights hold the bounds rounded to float32 (0.3 is 0.30000001).
    rounded = tuple(np.float64(np.float32(bound)) for bound in bounds)
    residual, on_bound, _ = optimality_residual(
        model, X.astype(np.float64), y, sample_weight, C, l1_ratio, FACTORS, rounded
    )
    assert residual <= 1e-4
    assert on_bound > 0


@pytest.mark.parametrize("bounds", [BOX, (0.0, np.inf), (-np.inf, 0.1)])
def test_binary_fit_meets_the_optimality_conditions(bounds):
    X, y, sample_weight = unit_spread_problem(n_classes=2)
    model = SoftmaxRegressionClassifier(
        C=C, penalty_factor=FACTORS, coef_bounds=bounds, tol=1e-7
    ).fit(X, y, sample_weight=sample_weight)
    assert model.coef_.shape == (1, X.shape[1])
    residual, on_bound, _ = optimality_residual(
        model, X, y, sample_weight, C, 0.0, FACTORS, bounds
    )
    assert residual <= 1e-7
    assert on_bound > 0


# Third-party references ------------------------------------------------------


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_factors_of_one_and_infinite_bounds_are_the_plain_fit_bit_for_bit(
    sparse, dtype, l1_ratio
):
    X, y, sample_weight, _, _ = make_problem(sparse=sparse)
    X = X.astype(dtype)
    params = dict(C=C, l1_ratio=l1_ratio)
    plain = SoftmaxRegressionClassifier(**params).fit(X, y, sample_weight)
    for controls in (
        {"penalty_factor": np.ones(X.shape[1])},
        {"penalty_factor": {}},
        {"coef_bounds": (-np.inf, np.inf)},
    ):
        model = SoftmaxRegressionClassifier(**params, **controls)
        model.fit(X, y, sample_weight)
        assert_array_equal(model.coef_, plain.coef_)
        assert_array_equal(model.intercept_, plain.intercept_)
        assert_array_equal(model.n_iter_, plain.n_iter_)


#: Scale of a feature of factor 0 in the LogisticRegression reference: its
#: penalty there is 1/SCALE**2 = 1e-8 of a unit feature's, which moves the
#: coefficients by far less than the tests' tolerance.
SCALE = 1e4


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_penalty_factors_equal_logistic_regression_on_rescaled_features(
    n_classes, sparse
):
    # A factor f_j on feature j is LogisticRegression's plain penalty on the
    # feature multiplied by s_j = 1 / sqrt(f_j): the weight w_j / s_j of
    # s_j x_j costs w_j^2 / s_j^2 = f_j w_j^2. A factor of 0 is the limit of
    # a large s_j.
    X, y, sample_weight = unit_spread_problem(n_classes=n_classes, sparse=sparse)
    stretch = np.where(FACTORS > 0, 1 / np.sqrt(np.maximum(FACTORS, 1e-300)), SCALE)
    stretched = X @ sp.diags(stretch) if sparse else X * stretch
    theirs = tight_logistic_regression(C).fit(
        sp.csr_matrix(stretched) if sparse else stretched, y, sample_weight
    )
    ours = SoftmaxRegressionClassifier(
        C=C, penalty_factor=FACTORS, tol=1e-8, max_iter=1000
    ).fit(X, y, sample_weight)
    assert_allclose(ours.coef_, theirs.coef_ * stretch, atol=2e-6)
    assert_allclose(ours.intercept_, theirs.intercept_, atol=2e-6)
    if n_classes > 2:
        # The unpenalised feature's weights are centred, as a vanishing
        # penalty's are.
        assert abs(ours.coef_[:, 0].sum()) < 1e-12


def test_unpenalised_feature_moves_the_model_as_it_should():
    # Independent of any solver: with the treatment-like first feature
    # unpenalised, a strong penalty shrinks the others towards zero but not
    # it, so that its weights end well above the fully penalised fit's.
    X, y, sample_weight = unit_spread_problem(n_classes=3)
    penalised = SoftmaxRegressionClassifier(C=1e-3).fit(X, y, sample_weight)
    free = SoftmaxRegressionClassifier(C=1e-3, penalty_factor={0: 0.0})
    free.fit(X, y, sample_weight)
    assert np.abs(free.coef_[:, 0]).max() > 10 * np.abs(penalised.coef_[:, 0]).max()
    assert_allclose(np.abs(free.coef_[:, 1:]).max(), 0, atol=0.05)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_inactive_bounds_give_the_unbounded_fit(l1_ratio):
    X, y, sample_weight = unit_spread_problem()
    params = dict(C=C, l1_ratio=l1_ratio, penalty_factor=FACTORS, tol=1e-8)
    free = SoftmaxRegressionClassifier(**params, max_iter=1000)
    free.fit(X, y, sample_weight)
    bounded = SoftmaxRegressionClassifier(
        **params, max_iter=1000, coef_bounds=(-50.0, 50.0)
    ).fit(X, y, sample_weight)
    assert np.abs(free.coef_).max() < 10  # the bounds are far from binding
    # The unpenalised feature's weights are free along a shift over the
    # classes; the bounded fit is not centred, so it is compared in contrasts.
    assert_allclose(
        bounded.coef_ - bounded.coef_[0], free.coef_ - free.coef_[0], atol=1e-6
    )
    assert_allclose(bounded.coef_[:, 1:], free.coef_[:, 1:], atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_bounded_fit_equals_scipy_on_the_reference_objective(n_classes):
    # SciPy's L-BFGS-B on the objective of reference.py, from its formula,
    # without preconditioning or the package's bounds mapping; all factors
    # positive, so that the optimum is unique.
    X, y, sample_weight = unit_spread_problem(n_classes=n_classes, seed=3)
    factors = FACTORS + 0.5
    lower = np.full((1 if n_classes == 2 else n_classes, X.shape[1]), -0.1)
    lower[:, 2] = 0.05  # a box that excludes zero
    upper = np.full(lower.shape, 0.25)
    n_weights = lower.size

    def fun(theta):
        W, b = theta[:n_weights].reshape(lower.shape), theta[n_weights:]
        grad_w, grad_b = smooth_gradient(
            W, b, X, y, sample_weight, C, penalty_factor=factors
        )
        value = objective(W, b, X, y, sample_weight, C, penalty_factor=factors)
        return value, np.concatenate([grad_w.ravel(), grad_b])

    n_rows = lower.shape[0]
    bounds = list(zip(lower.ravel(), upper.ravel(), strict=True))
    reference = scipy.optimize.minimize(
        fun,
        np.zeros(n_weights + n_rows),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds + [(None, None)] * n_rows,
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10000},
    )
    ours = SoftmaxRegressionClassifier(
        C=C, penalty_factor=factors, coef_bounds=(lower, upper), tol=1e-8
    ).fit(X, y, sample_weight)
    assert np.all(ours.coef_[:, 2] >= 0.05)
    assert_allclose(fun(np.append(ours.coef_, ours.intercept_))[0], reference.fun)
    assert_allclose(ours.coef_.ravel(), reference.x[:n_weights], atol=1e-5)


# Checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalty_factor": [1.0, np.nan]}, "penalty_factor must be finite"),
        ({"penalty_factor": [1.0, -1.0]}, "penalty_factor must be >= 0"),
        ({"penalty_factor": [[1.0, 2.0]]}, "penalty_factor must be None, a 1-d"),
        ({"penalty_factor": "ones"}, "penalty_factor must be None, a 1-d"),
        ({"penalty_factor": {0: 1.0, "a": 2.0}}, "all feature indices"),
        ({"penalty_factor": {True: 0.0}}, "all feature indices"),
        ({"penalty_factor": {0: -2.0}}, "penalty_factor values must be >= 0"),
        ({"penalty_factor": {0: "x"}}, "penalty_factor values must be floats"),
        ({"coef_bounds": 0.0}, r"coef_bounds must be None or a pair"),
        ({"coef_bounds": (0.0, 1.0, 2.0)}, r"coef_bounds must be None or a pair"),
        ({"coef_bounds": (np.nan, 1.0)}, "coef_bounds must not contain NaN"),
        ({"coef_bounds": (1.0, 0.0)}, "lower <= upper"),
        ({"coef_bounds": ([0.0, 2.0], 1.0)}, "lower <= upper"),
        ({"coef_bounds": (np.inf, np.inf)}, "lower < inf and upper > -inf"),
        ({"coef_bounds": ("a", 1.0)}, r"coef_bounds\[0\] \(lower\) must be"),
        ({"coef_bounds": (0.0, np.ones((2, 2, 2)))}, r"at most 2\s+dimensions"),
        ({"coef_bounds": (np.zeros(3), np.ones(4))}, "do not broadcast together"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, y, _ = unit_spread_problem()
    for estimator in (
        SoftmaxRegressionClassifier(**params),
        SoftmaxRegressionCV(Cs=2, cv=2, **params),
    ):
        with pytest.raises(ValueError, match=match):
            estimator.fit(X, y)
    with pytest.raises(ValueError, match=match):
        softmax_regression_path(X, y, Cs=2, **params)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"penalty_factor": np.ones(5)}, "has 5 values, but X has n_features=6"),
        ({"penalty_factor": {6: 0.0}}, r"indices \[6\] out of range.*n_features=6"),
        ({"penalty_factor": {"age": 0.0}}, "X has no column names"),
        (
            {"penalty_factor": {5: 0.0, -1: 2.0}},
            r"columns \[5\] more than one factor",
        ),
        (
            {"coef_bounds": (np.zeros((3, 6)), 1.0)},
            r"shape \(3, 6\) does not broadcast to the shape of coef_, \(4, 6\)",
        ),
        (
            {"coef_bounds": (0.0, np.ones(5))},
            r"upper bound of shape \(5,\).*n_features=6",
        ),
    ],
)
def test_parameters_that_do_not_fit_the_data_are_named(params, match):
    X, y, _ = unit_spread_problem()
    with pytest.raises(ValueError, match=match):
        SoftmaxRegressionClassifier(**params).fit(X, y)


def test_binary_bounds_take_the_shape_of_coef():
    X, y, _ = unit_spread_problem(n_classes=2)
    per_class = np.zeros((2, 6))
    with pytest.raises(ValueError, match=r"shape of coef_, \(1, 6\).*one row with two"):
        SoftmaxRegressionClassifier(coef_bounds=(per_class, np.inf)).fit(X, y)
    row = SoftmaxRegressionClassifier(coef_bounds=(np.zeros((1, 6)), np.inf))
    vector = SoftmaxRegressionClassifier(coef_bounds=(np.zeros(6), np.inf))
    assert_array_equal(row.fit(X, y).coef_, vector.fit(X, y).coef_)
    assert row.coef_.min() == 0.0


def test_factors_by_column_name():
    pd = pytest.importorskip("pandas")
    X, y, sample_weight = unit_spread_problem(n_classes=3)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)])
    by_name = SoftmaxRegressionClassifier(
        C=C, penalty_factor={"f0": 0.0, "f2": 2.0, "f5": 3.0}
    ).fit(frame, y, sample_weight)
    by_array = SoftmaxRegressionClassifier(
        C=C, penalty_factor=np.array([0.0, 1, 2, 1, 1, 3])
    ).fit(frame, y, sample_weight)
    assert_array_equal(by_name.coef_, by_array.coef_)
    with pytest.raises(ValueError, match=r"X does not have: \['age'\]\.$"):
        SoftmaxRegressionClassifier(penalty_factor={"age": 0.0}).fit(frame, y)
    # Names as a ColumnTransformer writes them, and misspellings, are hinted.
    prefixed = frame.rename(columns={"f1": "num__selfLR"})
    with pytest.raises(ValueError, match="'selfLR': did you mean 'num__selfLR'"):
        SoftmaxRegressionClassifier(penalty_factor={"selfLR": 0.0}).fit(prefixed, y)
    with pytest.raises(ValueError, match=r"'f_5': did you mean 'f5'\?$"):
        SoftmaxRegressionClassifier(penalty_factor={"f_5": 0.0}).fit(frame, y)
    # A Series goes by its labels, not by position.
    series = pd.Series({"f5": 3.0, "f2": 2.0, "f0": 0.0})
    by_series = SoftmaxRegressionClassifier(C=C, penalty_factor=series)
    assert_array_equal(by_series.fit(frame, y, sample_weight).coef_, by_name.coef_)
    with pytest.raises(ValueError, match=r"index repeats \['f0'\]"):
        SoftmaxRegressionClassifier(
            penalty_factor=pd.Series([0.0, 1.0], index=["f0", "f0"])
        ).fit(frame, y)
    bound = pd.DataFrame(np.zeros((3, 6)), columns=frame.columns)
    with pytest.raises(ValueError, match="read by position, not by its labels"):
        SoftmaxRegressionClassifier(coef_bounds=(bound, np.inf)).fit(frame, y)


def test_bounds_by_column_name():
    pd = pytest.importorskip("pandas")
    X, y, sample_weight = unit_spread_problem(n_classes=3)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)])
    # The same bounds by name (a dict, a Series in another order) and as
    # arrays of the shape of coef_: the same fit.
    lower = np.full((3, 6), -np.inf)
    lower[:, [1, 4]] = [0.0, -0.1]
    upper = np.full((3, 6), np.inf)
    upper[:, 4] = 0.05
    by_array = SoftmaxRegressionClassifier(C=C, coef_bounds=(lower, upper))
    by_array.fit(frame, y, sample_weight)
    assert by_array.coef_[:, 1].min() == 0.0  # the bounds bind
    by_name = SoftmaxRegressionClassifier(
        C=C, coef_bounds=({"f1": 0.0, "f4": -0.1}, {"f4": 0.05})
    ).fit(frame, y, sample_weight)
    by_series = SoftmaxRegressionClassifier(
        C=C,
        coef_bounds=(pd.Series({"f4": -0.1, "f1": 0.0}), pd.Series({"f4": 0.05})),
    ).fit(frame, y, sample_weight)
    by_index = SoftmaxRegressionClassifier(
        C=C, coef_bounds=({1: 0.0, -2: -0.1}, {4: 0.05})
    ).fit(X, y, sample_weight)
    assert_array_equal(by_name.coef_, by_array.coef_)
    assert_array_equal(by_series.coef_, by_array.coef_)
    # An empty side bounds nothing.
    upper_only = SoftmaxRegressionClassifier(C=C, coef_bounds=({}, {"f4": 0.05}))
    upper_only.fit(frame, y, sample_weight)
    free_below = SoftmaxRegressionClassifier(C=C, coef_bounds=(-np.inf, upper))
    assert_array_equal(upper_only.coef_, free_below.fit(frame, y, sample_weight).coef_)
    # (A NumPy X rather than the DataFrame's columns: the same fit to rounding.)
    assert_allclose(by_index.coef_, by_array.coef_, rtol=1e-12, atol=1e-15)
    # Errors name the parameter, and hint at the names meant.
    prefixed = frame.rename(columns={"f1": "num__selfLR"})
    with pytest.raises(ValueError, match="'selfLR': did you mean 'num__selfLR'"):
        SoftmaxRegressionClassifier(coef_bounds=({"selfLR": 0.0}, np.inf)).fit(
            prefixed, y
        )
    with pytest.raises(ValueError, match="coef_bounds names features .* no column"):
        SoftmaxRegressionClassifier(coef_bounds=({"f1": 0.0}, np.inf)).fit(X, y)
    with pytest.raises(ValueError, match=r"feature 4 .* lower is 1.0 and upper 0.5"):
        SoftmaxRegressionClassifier(coef_bounds=({"f4": 1.0}, {"f4": 0.5})).fit(
            frame, y
        )
    with pytest.raises(ValueError, match=r"coef_bounds\[lower\] as a dict must map"):
        SoftmaxRegressionClassifier(coef_bounds=({"f4": "a"}, np.inf)).fit(frame, y)
    with pytest.raises(ValueError, match="all feature indices .* or all feature names"):
        SoftmaxRegressionClassifier(coef_bounds=({"f4": 0.0, 1: 0.0}, np.inf)).fit(
            frame, y
        )


def test_parameters_are_not_modified_and_survive_clone():
    X, y, _ = unit_spread_problem()
    factors = FACTORS.copy()
    lower, upper = np.full(6, -0.2), np.full((4, 6), 0.3)
    by_index = {0: 0.0, 5: 3.0}
    for array in (factors, lower, upper):
        array.flags.writeable = False  # a write would raise
    model = SoftmaxRegressionClassifier(
        C=C, penalty_factor=factors, coef_bounds=(lower, upper)
    )
    copy = clone(model)
    assert_array_equal(copy.get_params()["penalty_factor"], FACTORS)
    assert_array_equal(copy.get_params()["coef_bounds"][1], upper)
    assert_array_equal(model.fit(X, y).coef_, copy.fit(X, y).coef_)
    assert model.penalty_factor is factors and model.coef_bounds[0] is lower
    assert_array_equal(factors, FACTORS)
    SoftmaxRegressionClassifier(penalty_factor=by_index).fit(X, y)
    assert by_index == {0: 0.0, 5: 3.0}


def test_starts_outside_the_bounds_are_clipped_into_them():
    X, y, sample_weight = unit_spread_problem()
    lower, upper = np.full((4, 6), -0.2), np.full((4, 6), 0.3)
    lower[:, 2] = 0.1  # a box without zero: the zero start lies outside
    objective = in_memory_objective(
        X,
        y,
        sample_weight,
        4,
        C=C,
        fit_intercept=True,
        coef_bounds=(lower, upper),
    )
    outside = np.random.default_rng(0).normal(size=(4, 6))
    weights, _ = objective.unpack(objective.pack(outside, np.zeros(4)))
    assert_allclose(weights, np.clip(outside, lower, upper), rtol=1e-15)
    start, _ = objective.unpack(objective.initial_theta())
    assert_allclose(start, np.clip(0.0, lower, upper), rtol=1e-15)


def test_warm_start_outside_new_bounds_is_clipped():
    X, y, sample_weight = unit_spread_problem()
    warm = SoftmaxRegressionClassifier(C=C, warm_start=True, tol=1e-7)
    warm.fit(X, y, sample_weight)
    assert warm.coef_.min() < 0
    warm.set_params(coef_bounds=(0.0, np.inf)).fit(X, y, sample_weight)
    cold = SoftmaxRegressionClassifier(C=C, coef_bounds=(0.0, np.inf), tol=1e-7)
    cold.fit(X, y, sample_weight)
    assert warm.coef_.min() == 0.0
    residual, _, _ = optimality_residual(
        warm, X, y, sample_weight, C, 0.0, np.ones(6), (0.0, np.inf)
    )
    assert residual <= 1e-7
    assert_allclose(warm.coef_, cold.coef_, atol=1e-5)
    # A warm start at the bounded optimum is used: it ends at once.
    cold.set_params(warm_start=True).fit(X, y, sample_weight)
    assert cold.n_iter_[0] == 1


# Paths ---------------------------------------------------------------------


def test_path_passes_factors_and_bounds_to_every_fit():
    X, y, sample_weight = unit_spread_problem()
    Cs = [0.05, 0.5, 5.0]
    controls = dict(penalty_factor=FACTORS, coef_bounds=BOX)
    path = softmax_regression_path(
        X, y, Cs, sample_weight=sample_weight, tol=1e-7, **controls
    )
    for i, C_i in enumerate(Cs):
        residual, on_bound, _ = optimality_residual(
            # optimality_residual reads a model's coef_ and intercept_ only.
            SimpleNamespace(coef_=path.coefs[i], intercept_=path.intercepts[i]),
            X,
            y,
            sample_weight,
            C_i,
            0.0,
            FACTORS,
            BOX,
        )
        assert residual <= 1e-7
        assert on_bound > 0


def test_cv_passes_factors_and_bounds_to_the_folds_and_the_refit():
    X, y, sample_weight = unit_spread_problem()
    controls = dict(penalty_factor={0: 0.0, 2: 2.0}, coef_bounds=(0.0, np.inf))
    cv = SoftmaxRegressionCV(Cs=[0.01, 1.0], cv=3, **controls)
    cv.fit(X, y, sample_weight=sample_weight)
    assert cv.coefs_paths_[..., :-1].min() == 0.0  # every fold's weights
    refit = SoftmaxRegressionClassifier(C=cv.C_, **controls)
    refit.fit(X, y, sample_weight)
    assert_array_equal(cv.coef_, refit.coef_)
    assert_array_equal(cv.intercept_, refit.intercept_)
    with pytest.raises(ValueError, match="penalty_factor has 2 values"):
        SoftmaxRegressionCV(Cs=2, penalty_factor=[1.0, 1.0]).fit(X, y)


def test_cv_average_of_the_folds_stays_within_the_bounds():
    # Without a refit coef_ is the folds' mean, whose rounding could leave a
    # bound held in every fold.
    X, y, _ = unit_spread_problem()
    cv = SoftmaxRegressionCV(Cs=[10.0], cv=3, refit=False, coef_bounds=(-np.inf, 0.1))
    cv.fit(X, y)
    assert np.sum(cv.coefs_paths_[..., :-1] == 0.1) > 0
    assert cv.coef_.max() <= 0.1


def test_centring_skips_only_the_bounded_features():
    X, y, sample_weight = unit_spread_problem(n_classes=3)
    lower = np.full(6, -np.inf)
    lower[3] = -1e3  # finite, far from binding
    model = SoftmaxRegressionClassifier(
        C=C, penalty_factor={0: 0.0, 1: 0.0}, coef_bounds=(lower, np.inf)
    ).fit(X, y, sample_weight)
    assert_allclose(model.coef_[:, :2].sum(axis=0), 0.0, atol=1e-12)


def test_huge_finite_bounds_are_no_bounds():
    X, y, sample_weight = unit_spread_problem()
    plain = SoftmaxRegressionClassifier(C=C, tol=1e-8).fit(X * 1e3, y)
    huge = SoftmaxRegressionClassifier(C=C, tol=1e-8, coef_bounds=(-1e308, 1e308))
    huge.fit(X * 1e3, y)  # no overflow warning (an error under the test config)
    assert_allclose(huge.coef_, plain.coef_, atol=1e-8)


@pytest.mark.parametrize("offset", [100.0, 1000.0])
@pytest.mark.parametrize(
    "params", [{"coef_bounds": (-50.0, 50.0)}, {"l1_ratio": 0.5}], ids=str
)
def test_without_intercept_far_from_zero_a_fit_converges_or_says_not(offset, params):
    # Features far from zero without an intercept couple the weights, and
    # bounds (or the L1 split) keep the solver from carrying their mean: at
    # the default tol such fits stopped 3.5e-2 (bounds) and 2.1e-2 (L1)
    # above the optimum, reporting convergence.
    X, y = standardised("iris")
    X, sample_weight = X + offset, np.ones(len(y))
    settings = dict(C=1.0, fit_intercept=False, **params)
    optimum = SoftmaxRegressionClassifier(**settings, tol=1e-10, max_iter=20000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        optimum.fit(X, y)
    for max_iter in (100, 5000):
        model = SoftmaxRegressionClassifier(**settings, max_iter=max_iter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        values = [
            objective(
                m.coef_,
                m.intercept_,
                X,
                y,
                sample_weight,
                1.0,
                params.get("l1_ratio", 0.0),
            )
            for m in (model, optimum)
        ]
        if not caught:
            assert values[0] - values[1] <= 1e-3 * values[1]
        elif max_iter == 100:
            # The warning says why the test was stricter than tol.
            assert "tightened where features far from zero" in str(caught[0].message)
