"""Marginal effects (InferenceResult.get_margeff) against statsmodels'
MNLogit.get_margeff where it works (dydx and eydx), and against derivatives
of the predicted probabilities taken numerically, by hand, where it fails
(eyex, dyex, dummy and count raise on an MNLogit result)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from sksoftmax import SoftmaxRegressionClassifier, inference

sm = pytest.importorskip("statsmodels.api")

TIGHT = {"tol": 1e-10, "max_iter": 10_000}


@pytest.fixture(scope="module")
def anes():
    data = sm.datasets.anes96.load_pandas()
    X, y = data.exog, data.endog.to_numpy().astype(int)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = sm.MNLogit(y, sm.add_constant(X.to_numpy(), prepend=False)).fit(
            method="newton", disp=0, tol=1e-12
        )
    return X, y, inference(model, X, y), theirs


@pytest.mark.parametrize("at", ["overall", "mean", "median", "zero"])
@pytest.mark.parametrize("method", ["dydx", "eydx"])
def test_margeff_matches_statsmodels(anes, at, method):
    X, y, ours, theirs = anes
    effects = ours.get_margeff(at=at, method=method)
    expected = theirs.get_margeff(at=at, method=method)
    assert effects.margeff.shape == (5, 7)
    assert_allclose(effects.margeff, expected.margeff, rtol=1e-6, atol=1e-9)
    assert_allclose(effects.margeff_se, expected.margeff_se, rtol=1e-4, atol=1e-9)
    assert_allclose(effects.pvalues, expected.pvalues, rtol=1e-3, atol=1e-10)
    frame = effects.summary_frame()
    assert frame.shape == (35, 6)
    assert list(frame.index.get_level_values(0)[:7]) == ["logpopul"] * 7


def probabilities(result, rows):
    """The model's probabilities (reference first) by the direct formula."""
    params = result.params
    scores = np.column_stack(
        [np.zeros(len(rows)), rows @ params[:, :-1].T + params[:, -1]]
    )
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def by_hand(result, rows, method, h=1e-5):
    """Each row's effects by central differences in x, averaged."""
    rows = np.asarray(rows, float)
    p = probabilities(result, rows)
    effects = []
    for j in range(rows.shape[1]):
        up, down = rows.copy(), rows.copy()
        up[:, j] += h
        down[:, j] -= h
        derivative = (probabilities(result, up) - probabilities(result, down)) / (2 * h)
        if method in ("eyex", "dyex"):
            derivative = derivative * rows[:, [j]]
        if method in ("eyex", "eydx"):
            derivative = derivative / p
        effects.append(derivative.mean(axis=0))
    return np.array(effects)


@pytest.mark.parametrize("method", ["dydx", "eyex", "dyex", "eydx"])
def test_elasticities_match_numerical_derivatives(anes, method):
    X, y, ours, _ = anes
    effects = ours.get_margeff(method=method)
    assert_allclose(effects.margeff, by_hand(ours, X, method), rtol=1e-6, atol=1e-9)
    mean = ours.get_margeff(at="mean", method=method)
    point = np.asarray(X.mean())[None, :]
    assert_allclose(mean.margeff, by_hand(ours, point, method), rtol=1e-6, atol=1e-9)


def test_dummy_and_count_are_discrete_changes(anes):
    X, y, _, _ = anes
    X = X.assign(
        young=(X["age"] < 40).astype(float), kids=(X["age"] // 20).astype(float)
    )
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    ours = inference(model, X, y)
    effects = ours.get_margeff(dummy=True, count=True)
    rows = X.to_numpy()
    for name, change in [("young", "dummy"), ("kids", "count"), ("educ", "count")]:
        j = list(X.columns).index(name)
        high, low = rows.copy(), rows.copy()
        if change == "dummy":
            high[:, j], low[:, j] = 1.0, 0.0
        else:
            high[:, j] += 1.0
        expected = (probabilities(ours, high) - probabilities(ours, low)).mean(axis=0)
        assert_allclose(effects.margeff[j], expected, rtol=1e-10, atol=1e-12)
    # A continuous column keeps its derivative.
    j = list(X.columns).index("logpopul")
    assert_allclose(effects.margeff[j], by_hand(ours, rows, "dydx")[j], rtol=1e-6)


def test_frequency_weights_equal_repeated_rows(anes):
    X, y, _, _ = anes
    rng = np.random.default_rng(0)
    weight = rng.integers(1, 4, len(y)).astype(float)
    weighted = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, weight)
    index = np.repeat(np.arange(len(y)), weight.astype(int))
    repeated = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(
        X.iloc[index], y[index]
    )
    for at in ("overall", "mean"):
        a = inference(weighted, X, y, weight).get_margeff(at=at)
        b = inference(repeated, X.iloc[index], y[index]).get_margeff(at=at)
        assert_allclose(a.margeff, b.margeff, rtol=1e-6, atol=1e-10)
        assert_allclose(a.margeff_se, b.margeff_se, rtol=1e-5)


def test_sparse_rows_and_atexog(anes):
    X, y, ours, _ = anes
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(
        sp.csr_array(X.to_numpy()), y
    )
    sparse = inference(model, sp.csr_array(X.to_numpy()), y)
    assert_allclose(sparse.get_margeff().margeff, ours.get_margeff().margeff, rtol=1e-6)
    at = ours.get_margeff(at="zero", atexog={1: 4.0})
    point = np.zeros((1, 5))
    point[0, 1] = 4.0
    assert_allclose(at.margeff, by_hand(ours, point, "dydx"), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="at must be one of"):
        ours.get_margeff(at="average")
    with pytest.raises(ValueError, match="atexog needs"):
        ours.get_margeff(atexog={1: 4.0})


def test_median_with_weights_equals_repeated_rows(anes):
    X, y, _, _ = anes
    weight = np.random.default_rng(1).integers(0, 4, len(y)).astype(float)
    weight[:3] = 1.0  # every class keeps rows
    weighted = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, weight)
    index = np.repeat(np.arange(len(y)), weight.astype(int))
    repeated = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(
        X.iloc[index], y[index]
    )
    a = inference(weighted, X, y, weight).get_margeff(at="median", count=True)
    b = inference(repeated, X.iloc[index], y[index]).get_margeff(
        at="median", count=True
    )
    assert_allclose(a.margeff, b.margeff, rtol=1e-6, atol=1e-10)


def test_a_feature_named_intercept_is_a_feature(anes):
    X, y, _, _ = anes
    X = X.rename(columns={"income": "intercept"})
    model = SoftmaxRegressionClassifier(C=np.inf, fit_intercept=False, **TIGHT)
    ours = inference(model.fit(X, y), X, y)
    assert ours.params.shape == (6, 5)
    prediction = ours.get_prediction(X.iloc[:5])
    # (inference polishes the fit, which stalls near 1e-8 on raw anes96.)
    assert_allclose(prediction.predicted, model.predict_proba(X.iloc[:5]), rtol=1e-6)
    params = ours.params
    rows = X.to_numpy()
    scores = np.column_stack([np.zeros(len(rows)), rows @ params.T])
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    slopes = np.vstack([np.zeros(5), params])
    expected = np.mean(p[:, None, :] * (slopes.T[None] - (p @ slopes)[:, :, None]), 0)
    assert_allclose(ours.get_margeff().margeff, expected, rtol=1e-10, atol=1e-14)


def average_effects(params, rows, method="dydx", discrete=()):
    """The average effects on every class's probability (reference first) by
    the direct formula ``p_k (beta_k - sum_l p_l beta_l)``, scaled as
    ``method`` says, from the contrasts ``params`` (intercepts last); the
    columns in ``discrete`` (index, "dummy" or "count") by the change of the
    probabilities."""
    betas = np.vstack([np.zeros(rows.shape[1]), params[:, :-1]])

    def probabilities(rows):
        scores = np.column_stack(
            [np.zeros(len(rows)), rows @ params[:, :-1].T + params[:, -1]]
        )
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    p = probabilities(rows)
    # (rows, classes, features)
    effects = p[:, :, None] * (betas[None, :, :] - (p @ betas)[:, None, :])
    if method in ("eyex", "dyex"):
        effects = effects * rows[:, None, :]
    if method in ("eyex", "eydx"):
        effects = effects / p[:, :, None]
    average = effects.mean(axis=0).T
    for j, change in discrete:
        high, low = rows.copy(), rows.copy()
        if change == "dummy":
            high[:, j], low[:, j] = 1.0, 0.0
        else:
            high[:, j] += 1.0
        average[j] = (probabilities(high) - probabilities(low)).mean(axis=0)
    return average


def numerical_delta_method(result, rows, method="dydx", discrete=()):
    """Standard errors by the delta method computed numerically: the Jacobian
    of :func:`average_effects` by central differences in the parameters,
    with the result's cov_params."""
    flat = result.params.ravel()
    size = average_effects(result.params, rows, method, discrete).size
    jacobian = np.empty((size, flat.size))
    for i in range(flat.size):
        h = 1e-6 * max(1.0, abs(flat[i]))
        up, down = flat.copy(), flat.copy()
        up[i] += h
        down[i] -= h
        jacobian[:, i] = (
            average_effects(up.reshape(result.params.shape), rows, method, discrete)
            - average_effects(down.reshape(result.params.shape), rows, method, discrete)
        ).ravel() / (2 * h)
    return np.sqrt(np.diag(jacobian @ result.cov_params @ jacobian.T))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "cluster"])
def test_standard_errors_are_the_delta_method_of_each_covariance(anes, cov_type):
    # The result's cov_params, robust or clustered as asked.
    X, y, _, _ = anes
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    groups = np.asarray(X["age"]) // 10 if cov_type == "cluster" else None
    result = inference(model, X, y, cov_type=cov_type, groups=groups)
    rows = X.to_numpy()
    effects = result.get_margeff()
    assert_allclose(effects.margeff, average_effects(result.params, rows), rtol=1e-9)
    expected = numerical_delta_method(result, rows)
    assert_allclose(effects.margeff_se.ravel(), expected, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("method", ["dydx", "eyex", "dyex", "eydx"])
def test_standard_errors_of_every_method_and_discrete_change(anes, method):
    X, y, _, _ = anes
    X = X.assign(
        young=(X["age"] < 40).astype(float), kids=(X["age"] // 20).astype(float)
    )
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    result = inference(model, X, y, cov_type="HC0")
    rows = X.to_numpy()
    # statsmodels' rules: 0/1 columns are dummies, other columns of
    # non-negative integers counts (here selfLR, age, educ, income, kids).
    discrete = []
    for j in range(rows.shape[1]):
        values = np.unique(rows[:, j])
        if set(values) <= {0.0, 1.0}:
            discrete.append((j, "dummy"))
        elif np.all(values >= 0) and np.all(values == np.round(values)):
            discrete.append((j, "count"))
    assert len(discrete) == 6
    effects = result.get_margeff(method=method, dummy=True, count=True)
    expected = average_effects(result.params, rows, method, discrete)
    assert_allclose(effects.margeff, expected, rtol=1e-9, atol=1e-12)
    se = numerical_delta_method(result, rows, method, discrete)
    assert_allclose(effects.margeff_se.ravel(), se, rtol=1e-5, atol=1e-10)
    # One point (at the mean), where no average is taken.
    point = rows.mean(axis=0)[None, :]
    at_mean = result.get_margeff(at="mean", method=method)
    assert_allclose(
        at_mean.margeff_se.ravel(),
        numerical_delta_method(result, point, method),
        rtol=1e-5,
        atol=1e-10,
    )
