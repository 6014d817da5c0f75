"""sksoftmax.inference against statsmodels' MNLogit and Logit, published Stata
results, repeated rows, and a penalised likelihood differentiated numerically."""

import re
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats
import sklearn
from helpers import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from reference import (
    centred_penalty,
    contrast_log_likelihood,
    numerical_gradient,
    numerical_hessian,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import sksoftmax._inference
from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV, inference
from sksoftmax._namespace import dispatch_available

sm = pytest.importorskip("statsmodels.api", reason="statsmodels (test extra)")
pd = pytest.importorskip("pandas")

COV_TYPES = ["nonrobust", "HC0", "cluster"]
#: Fits whose coefficients are within float64's reach of the optimum.
TIGHT = dict(tol=1e-8, max_iter=10_000)


@pytest.fixture(autouse=True)
def _stalls_at_rounding_are_quiet():
    """Fits at TIGHT may stop on a stall at the gradient's rounding error and
    say so; the tests measure how close they are."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "SoftmaxRegressionClassifier did not converge", ConvergenceWarning
        )
        # and they are at the optimum to the accuracy inference checks.
        warnings.filterwarnings(
            "error", "The estimate is not at the optimum", ConvergenceWarning
        )
        yield


# The American National Election Studies 1996 data (statsmodels.datasets.anes96)
# and Stata 11's mlogit on it, base outcome 0, as statsmodels' test suite
# records them (statsmodels/discrete/tests/results/results_discrete.py,
# Anes.mnlogit_basezero, "checked vs R nnet package"): one row per outcome
# 1-6, the columns logpopul, selfLR, age, educ, income and the constant.
STATA_PARAMS = np.array(
    [
        [-0.01153598, 0.29771435, -0.024945, 0.08249144, 0.00519655, -0.37340167],
        [-0.08875065, 0.39166864, -0.02289784, 0.18104276, 0.04787398, -2.2509132],
        [-0.1059667, 0.57345051, -0.01485121, -0.00715242, 0.05757516, -3.6655835],
        [-0.0915567, 1.2787718, -0.00868135, 0.19982796, 0.08449838, -7.6138431],
        [-0.0932846, 1.3469616, -0.01790407, 0.21693885, 0.08095841, -7.0604782],
        [-0.14088069, 2.0700801, -0.00943265, 0.3219257, 0.10889408, -12.105751],
    ]
)
STATA_BSE = np.array(
    [
        [0.0342823657, 0.093626795, 0.0065248584, 0.0735865799, 0.0176336937],
        [0.0391615553, 0.1082386919, 0.0079144618, 0.0852893563, 0.0222809297],
        [0.0570382292, 0.1585481337, 0.0113313133, 0.1262913234, 0.0336142088],
        [0.0437902764, 0.1288965854, 0.0084187486, 0.0941250559, 0.0261963632],
        [0.0393516553, 0.1171860107, 0.0076110152, 0.0850070091, 0.0229760791],
        [0.042138047, 0.1434089089, 0.0081338625, 0.0910979921, 0.025300888],
    ]
)
STATA_BSE_CONSTANT = [
    0.6298376313,
    0.7631899491,
    1.156541492,
    0.9575809602,
    0.8443638283,
    1.059954821,
]
STATA_STATISTICS = dict(
    llf=-1461.922747312,
    llnull=-1750.34670999,
    prsquared=0.1647810465387,
    aic=2995.84549462,
    bic=3170.45003661,
)
#: The 95% intervals of outcome 1, as Stata prints them (7 digits).
STATA_CONF_INT_1 = [
    [-0.0787282, 0.0556562],
    [0.1142092, 0.4812195],
    [-0.0377335, -0.0121565],
    [-0.0617356, 0.2267185],
    [-0.0293649, 0.0397580],
    [-1.6078610, 0.8610574],
]


@pytest.fixture(scope="module")
def anes():
    data = sm.datasets.anes96.load_pandas()
    return data.exog, data.endog.to_numpy().astype(int)


@pytest.fixture(scope="module")
def anes_model(anes):
    X, y = anes
    with warnings.catch_warnings():
        # It stops on a stall at 2.3e-8 (the data are unscaled) and says so.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)


def statsmodels_fit(model_class, y, X, cov_type="nonrobust", groups=None, **kw):
    """A statsmodels fit by Newton's method to its tightest tolerance."""
    cov_kwds = {"groups": groups} if cov_type == "cluster" else None
    with warnings.catch_warnings():
        # statsmodels hands cov_type and cov_kwds to the optimizer too, which
        # says that it ignores them.
        warnings.simplefilter("ignore", FutureWarning)
        return model_class(y, sm.add_constant(X, prepend=False), **kw).fit(
            method="newton",
            disp=0,
            maxiter=100,
            tol=1e-12,
            cov_type=cov_type,
            cov_kwds=cov_kwds,
        )


def ours_layout(array):
    """statsmodels' MNLogit layout (features and constant, classes) as ours."""
    return np.asarray(array).T


# Agreement with independent references ----------------------------------------


@pytest.mark.parametrize("cov_type", [*COV_TYPES, "HC1"])
def test_matches_statsmodels_mnlogit(anes, anes_model, cov_type):
    X, y = anes
    groups = np.asarray(X["age"] // 10)
    # statsmodels' discrete models apply no small-sample factor under "HC1"
    # (theirs equals their HC0): ours is HC0 times n / (n - k), by hand here.
    their_type = "HC0" if cov_type == "HC1" else cov_type
    theirs = statsmodels_fit(sm.MNLogit, y, X.to_numpy(), their_type, groups)
    kw = {"groups": groups} if cov_type == "cluster" else {}
    ours = inference(anes_model, X, y, cov_type=cov_type, **kw)
    if cov_type == "HC1":
        n, k = len(y), theirs.params.size
        factor = n / (n - k)
        hc0 = inference(anes_model, X, y, cov_type="HC0")
        assert_allclose(ours.cov_params, hc0.cov_params * factor, rtol=1e-9)
        assert_allclose(ours.bse, ours_layout(theirs.bse) * np.sqrt(factor), rtol=1e-5)
        return
    assert_allclose(ours.params, ours_layout(theirs.params), rtol=1e-6, atol=1e-6)
    assert_allclose(ours.bse, ours_layout(theirs.bse), rtol=1e-5)
    assert_allclose(ours.pvalues, ours_layout(theirs.pvalues), rtol=1e-4, atol=1e-12)
    assert_allclose(ours.zvalues, ours_layout(theirs.tvalues), rtol=1e-5)
    ci = np.asarray(theirs.conf_int()).reshape(len(ours.classes), -1, 2)
    assert_allclose(ours.conf_int(), ci, rtol=1e-5, atol=1e-6)
    # As correlations: the entries span six orders of magnitude.
    scale = np.outer(theirs.bse.T.ravel(), theirs.bse.T.ravel())
    assert_allclose(ours.cov_params / scale, theirs.cov_params() / scale, atol=1e-5)
    for name in ["llf", "llnull"]:
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), abs=1e-6)
    for name in ["aic", "bic"]:
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name), rel=1e-9)
    # statsmodels fits the null model iteratively; ours is its closed form.
    assert ours.prsquared == pytest.approx(theirs.prsquared, abs=1e-8)
    assert ours.nobs == theirs.nobs == len(y)
    assert ours.df_params == len(theirs.params.ravel())
    # statsmodels' names for the same statistics.
    assert_allclose(ours.tvalues, ours_layout(theirs.tvalues), rtol=1e-5)
    assert ours.df_model == theirs.df_model == 30
    assert ours.df_resid == theirs.df_resid
    # statsmodels fits the null model iteratively (to about 1e-6 here).
    assert ours.llr == pytest.approx(theirs.llr, rel=1e-8)
    assert ours.llr_pvalue == pytest.approx(theirs.llr_pvalue, rel=1e-6)


def test_matches_published_stata_results(anes, anes_model):
    X, y = anes
    ours = inference(anes_model, X, y)
    assert_allclose(ours.params, STATA_PARAMS, rtol=2e-6, atol=1e-7)
    assert_allclose(ours.bse[:, :-1], STATA_BSE, rtol=1e-6)
    assert_allclose(ours.bse[:, -1], STATA_BSE_CONSTANT, rtol=1e-6)
    for name, value in STATA_STATISTICS.items():
        assert getattr(ours, name) == pytest.approx(value, rel=1e-8)
    assert_allclose(ours.conf_int()[0], STATA_CONF_INT_1, atol=1e-6)
    assert list(ours.feature_names) == [*X.columns, "intercept"]
    assert_array_equal(ours.classes, np.arange(1, 7))


@pytest.mark.parametrize("reference", [3, 6])
def test_reference_class_matches_statsmodels_with_that_class_first(
    anes, anes_model, reference
):
    X, y = anes
    # statsmodels takes the smallest label as the reference: relabel so that
    # `reference` comes first, the others in their order.
    order = [reference] + [k for k in range(7) if k != reference]
    relabelled = np.argsort(order)[y]
    theirs = statsmodels_fit(sm.MNLogit, relabelled, X.to_numpy(), "HC0")
    ours = inference(anes_model, X, y, reference=reference, cov_type="HC0")
    assert ours.reference == reference
    assert_array_equal(ours.classes, order[1:])
    assert_allclose(ours.params, ours_layout(theirs.params), rtol=1e-6, atol=1e-6)
    assert_allclose(ours.bse, ours_layout(theirs.bse), rtol=1e-5)


@pytest.mark.parametrize("reference", [None, 1])
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_binary_matches_statsmodels_logit(cov_type, reference):
    X, y, _, _, _ = make_problem(n_samples=300, n_features=4, n_classes=2, seed=3)
    groups = np.arange(len(y)) % 23
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    target = y if reference is None else 1 - y
    theirs = statsmodels_fit(sm.Logit, target, X, cov_type, groups)
    kw = {"groups": groups} if cov_type == "cluster" else {}
    ours = inference(model, X, y, reference=reference, cov_type=cov_type, **kw)
    assert_allclose(ours.params[0], theirs.params, rtol=1e-6, atol=1e-7)
    assert_allclose(ours.bse[0], theirs.bse, rtol=1e-5)
    assert ours.llf == pytest.approx(theirs.llf, abs=1e-7)
    assert ours.llnull == pytest.approx(theirs.llnull, abs=1e-7)


def test_without_intercept_matches_statsmodels_without_constant():
    X, y, _, _, _ = make_problem(n_samples=400, n_features=3, n_classes=3, seed=5)
    model = SoftmaxRegressionClassifier(C=np.inf, fit_intercept=False, **TIGHT)
    model.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = sm.MNLogit(y, X).fit(method="newton", disp=0, tol=1e-12)
    ours = inference(model, X, y)
    assert ours.params.shape == (2, 3)
    assert_allclose(ours.params, ours_layout(theirs.params), rtol=1e-6, atol=1e-7)
    assert_allclose(ours.bse, ours_layout(theirs.bse), rtol=1e-5)
    assert ours.aic == pytest.approx(theirs.aic, rel=1e-9)
    assert ours.llnull == pytest.approx(theirs.llnull, abs=1e-6)
    assert ours.df_model == theirs.df_model == 4
    assert ours.df_resid == theirs.df_resid
    # statsmodels fits the null model iteratively (llnull agrees to 1e-6).
    assert ours.llr == pytest.approx(theirs.llr, abs=2e-6)


def problem(n_classes, sparse=False, seed=1):
    """Integer weights (frequencies), features of unit spread (a well
    conditioned information, for the finite differences)."""
    X, y, _, _, _ = make_problem(
        n_samples=90, n_features=3, n_classes=n_classes, sparse=sparse, seed=seed
    )
    if sparse:
        X = sp.csr_matrix(X.multiply(1 / np.sqrt(X.multiply(X).mean(axis=0))))
    else:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    rng = np.random.default_rng(seed)
    sample_weight = rng.integers(1, 4, size=len(y)).astype(float)
    groups = rng.integers(0, 9, size=len(y))
    return X, y, sample_weight, groups


def check_against_numerical_differentiation(
    X, y, sample_weight, groups, cov_type, reference=0, **params
):
    """The covariance from its definition: the Hessians of the (penalised)
    log-likelihood of the contrasts by finite differences, the per-row scores
    by finite differences, and the sandwich of the two."""
    params_of_fit = params
    model = SoftmaxRegressionClassifier(**params, **TIGHT).fit(X, y, sample_weight)
    kw = {"groups": groups} if cov_type == "cluster" else {}
    ours = inference(
        model, X, y, sample_weight, cov_type=cov_type, reference=reference, **kw
    )
    C, n_features, S = model.C, X.shape[1], sample_weight.sum()

    def log_likelihood(params):
        return contrast_log_likelihood(params, X, y, sample_weight, reference)

    def penalised(params):
        # The objective's C applies to the summed log-likelihood: (1/C) pen.
        penalty = 0.0
        if np.isfinite(C):
            factors = params_of_fit.get("penalty_factor")
            penalty = centred_penalty(params, n_features, factors) / C
        return -log_likelihood(params) + penalty

    params = ours.params
    # At the optimum of the penalised likelihood (so that the fit's own
    # optimality holds on the reference, too).
    assert np.abs(numerical_gradient(penalised, params)).max() < 1e-5 * S
    information = -numerical_hessian(log_likelihood, params)
    bread = np.linalg.inv(numerical_hessian(penalised, params))
    ones = np.ones_like(sample_weight)
    scores = np.array(
        [
            numerical_gradient(
                lambda p, i=i: contrast_log_likelihood(
                    p, X, y, ones, reference, rows=i
                ),
                params,
            )
            for i in range(len(y))
        ]
    )
    if cov_type == "nonrobust":
        meat = information
    elif cov_type == "HC0":
        meat = (scores * sample_weight[:, None]).T @ scores
    else:
        labels = np.unique(groups)
        sums = np.array(
            [sample_weight[groups == g] @ scores[groups == g] for g in labels]
        )
        G, n_params = len(labels), params.size
        meat = sums.T @ sums * G / (G - 1) * (S - 1) / (S - n_params)
    expected = (
        bread if (np.isinf(C) and cov_type == "nonrobust") else bread @ meat @ bread
    )
    # atol: the finite differences of the bread, multiplied through the
    # sandwich, are good to about 4e-7 of its diagonal (~0.24).
    assert_allclose(ours.cov_params, expected, rtol=2e-5, atol=2e-7)
    assert ours.penalized == np.isfinite(C)
    if np.isfinite(C):
        effective = np.trace(bread @ information)
        assert ours.df_params == pytest.approx(effective, rel=1e-5)
        assert ours.df_params < params.size


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("C", [np.inf, 0.05])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_covariance_from_a_numerically_differentiated_likelihood(
    n_classes, C, cov_type
):
    X, y, sample_weight, groups = problem(n_classes)
    check_against_numerical_differentiation(X, y, sample_weight, groups, cov_type, C=C)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_penalised_covariance_with_the_last_class_as_reference(
    n_classes, fit_intercept
):
    X, y, sample_weight, groups = problem(n_classes, seed=4)
    check_against_numerical_differentiation(
        X,
        y,
        sample_weight,
        groups,
        "HC0",
        reference=n_classes - 1,
        C=0.05,
        fit_intercept=fit_intercept,
    )


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_penalty_factors_in_the_covariance(n_classes, cov_type):
    # One unpenalised feature, one penalised four times as much as the third.
    X, y, sample_weight, groups = problem(n_classes, seed=2)
    check_against_numerical_differentiation(
        X,
        y,
        sample_weight,
        groups,
        cov_type,
        C=0.05,
        penalty_factor=np.array([0.0, 4.0, 1.0]),
    )


def test_unpenalised_collinear_columns_are_named_beside_penalised_ones():
    X, y, _, _ = problem(3)
    X = np.column_stack([X, 2 * X[:, 0]])
    model = SoftmaxRegressionClassifier(
        C=1.0, penalty_factor={0: 0.0, 3: 0.0}, tol=1e-8
    ).fit(X, y)
    with pytest.raises(ValueError, match=r"columns \['x0', 'x3'\] are collinear"):
        inference(model, X, y)


def test_weights_on_their_bounds_are_refused_and_inactive_bounds_change_nothing():
    X, y, _, _ = problem(3)
    bounded = SoftmaxRegressionClassifier(C=1.0, coef_bounds=(0.0, np.inf), **TIGHT)
    bounded.fit(X, y)
    with pytest.raises(ValueError, match=r"off its coef_bounds bound.*coef_\["):
        inference(bounded, X, y)
    free = SoftmaxRegressionClassifier(C=1.0, **TIGHT).fit(X, y)
    loose = SoftmaxRegressionClassifier(C=1.0, coef_bounds=(-50, 50), **TIGHT)
    loose.fit(X, y)
    assert_allclose(inference(loose, X, y).bse, inference(free, X, y).bse, rtol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_frequency_weights_equal_repeated_rows(cov_type, sparse):
    X, y, sample_weight, groups = problem(4, sparse=sparse)
    sample_weight[:5] = 0.0  # rows of zero weight are absent
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight)
    repeats = np.repeat(np.arange(len(y)), sample_weight.astype(int))
    kw = {"groups": groups} if cov_type == "cluster" else {}
    weighted = inference(model, X, y, sample_weight, cov_type=cov_type, **kw)
    kw = {"groups": groups[repeats]} if cov_type == "cluster" else {}
    repeated = inference(model, X[repeats], y[repeats], cov_type=cov_type, **kw)
    assert_allclose(weighted.bse, repeated.bse, rtol=1e-6)
    assert weighted.nobs == repeated.nobs == len(repeats)
    assert weighted.llf == pytest.approx(repeated.llf, rel=1e-12)
    assert weighted.llnull == pytest.approx(repeated.llnull, rel=1e-12)
    assert weighted.n_groups == repeated.n_groups


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_sparse_float32_and_blocks_agree_with_dense(cov_type, monkeypatch):
    X, y, sample_weight, groups = problem(3, sparse=True)
    model = SoftmaxRegressionClassifier(C=2.0, **TIGHT).fit(X, y, sample_weight)
    kw = {"groups": groups} if cov_type == "cluster" else {}
    dense = inference(model, X.toarray(), y, sample_weight, cov_type=cov_type, **kw)
    sparse = inference(model, X, y, sample_weight, cov_type=cov_type, **kw)
    assert_allclose(sparse.cov_params, dense.cov_params, rtol=1e-10, atol=1e-14)
    # Many blocks of rows (64 a block): the block sums add up to the same.
    monkeypatch.setattr(sksoftmax._inference, "_BLOCK_ENTRIES", 1)
    blocked = inference(model, X.toarray(), y, sample_weight, cov_type=cov_type, **kw)
    assert_allclose(blocked.cov_params, dense.cov_params, rtol=1e-10, atol=1e-14)
    with warnings.catch_warnings():
        # float32 products cannot meet the dense optimum to 1e-2 SE.
        warnings.simplefilter("ignore", ConvergenceWarning)
        single = inference(
            model, X.astype(np.float32), y, sample_weight, cov_type=cov_type, **kw
        )
    assert_allclose(single.bse, dense.bse, rtol=1e-4)


# The result -------------------------------------------------------------------


def test_summary_table(anes, anes_model):
    X, y = anes
    result = inference(anes_model, X, y, alpha=0.1)
    table = result.summary()
    assert table.index.names == ["class", "feature"]
    assert table.shape == (36, 7)
    assert list(table.columns) == [
        "coef",
        "std err",
        "z",
        "P>|z|",
        "[0.05",
        "0.95]",
        "odds ratio",
    ]
    assert table.loc[(4, "selfLR"), "coef"] == pytest.approx(STATA_PARAMS[3, 1])
    assert table.loc[(6, "intercept"), "std err"] == pytest.approx(1.059954821)
    # exp of the coefficients, and the 90% interval from the normal quantile.
    assert_allclose(table["odds ratio"], np.exp(STATA_PARAMS.ravel()), rtol=1e-5)
    half_width = 1.6448536269514722 * STATA_BSE[:, 0]
    assert_allclose(
        table.xs("logpopul", level="feature")["0.95]"],
        STATA_PARAMS[:, 0] + half_width,
        rtol=1e-5,
    )
    assert list(result.summary(alpha=0.01).columns[4:6]) == ["[0.005", "0.995]"]


def test_text_rendering_shows_the_statistics_and_every_parameter(anes, anes_model):
    X, y = anes
    text = str(inference(anes_model, X, y))
    assert "-1461.92" in text and "-1750.35" in text and "2995.85" in text
    assert "nonrobust" in text and "penalised" not in text
    assert len([line for line in text.splitlines() if "selfLR" in line]) == 6


def test_penalised_result_says_so(anes):
    X, y = anes
    model = SoftmaxRegressionClassifier(C=0.1, **TIGHT).fit(X, y)
    result = inference(model, X, y)
    assert result.penalized
    assert "penalised" in result.cov_description and "C=0.1" in str(result)


def test_summary_without_pandas_says_what_is_missing(anes, anes_model, monkeypatch):
    X, y = anes
    result = inference(anes_model, X, y)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        result.summary()
    assert "selfLR" in str(result)  # the text needs no pandas


def test_default_feature_names():
    # (Its inputs left alone: test_invariants.py.)
    X, y, sample_weight, groups = problem(3)
    model = SoftmaxRegressionClassifier(**TIGHT).fit(X, y, sample_weight)
    result = inference(model, X, y, sample_weight, cov_type="cluster", groups=groups)
    assert list(result.feature_names) == ["x0", "x1", "x2", "intercept"]


# Refusals and warnings ----------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"l1_ratio": 0.5}, "post-selection"),
        ({"class_weight": "balanced"}, "class_weight=None"),
        ({"label_smoothing": 0.1}, "label_smoothing=0"),
    ],
)
def test_refuses_fits_it_cannot_make_valid_statements_about(params, match):
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier(**params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        inference(model, X, y)


def test_l1_ratio_is_ignored_without_a_penalty():
    X, y, _, _ = problem(3)
    l1 = SoftmaxRegressionClassifier(C=np.inf, l1_ratio=1.0, **TIGHT).fit(X, y)
    assert inference(l1, X, y).penalized is False


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cov_type": "HC3"}, "cov_type must be one of"),
        ({"cov_type": "cluster"}, "groups"),
        ({"groups": np.zeros(90)}, "groups"),
        ({"cov_type": "cluster", "groups": np.zeros(90)}, "at least 2 groups"),
        ({"cov_type": "cluster", "groups": np.zeros(5)}, "groups has 5 entries"),
        ({"cov_type": "cluster", "groups": [np.nan] * 90}, "missing"),
        ({"alpha": 1.5}, "alpha must be"),
        ({"reference": 7}, "reference must be one of"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier().fit(X, y)
    with pytest.raises(ValueError, match=match):
        inference(model, X, y, **kwargs)


def test_data_must_be_the_models():
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier().fit(X, y)
    with pytest.raises(ValueError, match="holds"):
        inference(model, X, np.where(y == 2, 1, y))
    with pytest.raises(ValueError, match="features"):
        inference(model, X[:, :2], y)
    with pytest.raises(NotFittedError):
        inference(SoftmaxRegressionClassifier(), X, y)
    with pytest.raises(TypeError, match="SoftmaxRegressionCV"):
        inference(SoftmaxRegressionCV(Cs=3).fit(X, y), X, y)


def test_arrays_of_other_libraries_get_a_clear_error():
    xp = pytest.importorskip("array_api_strict")
    if not dispatch_available():
        pytest.skip("array API dispatch needs SciPy >= 1.14")
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier().fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="sksoftmax.to_numpy"):
            inference(model, xp.asarray(X), xp.asarray(y))


def test_size_bound_is_named(monkeypatch):
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier().fit(X, y)
    monkeypatch.setattr(sksoftmax._inference, "MAX_MATRIX_ENTRIES", 63)
    with pytest.raises(ValueError, match="8 x 8 matrix, more than .* 63 entries"):
        inference(model, X, y)


@pytest.mark.parametrize(
    "column, names",
    [
        ("combination", "['x0', 'x1', 'x3']"),
        ("constant", "['x3', 'intercept']"),
    ],
)
def test_collinear_columns_are_named(column, names):
    X, y, _, _ = problem(3)
    extra = X[:, 0] - 2 * X[:, 1] if column == "combination" else np.full(90, 5.0)
    X = np.column_stack([X, extra])
    model = SoftmaxRegressionClassifier(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(f"columns {names} are collinear")):
        inference(model, X, y)
    # A penalty identifies them: the penalised covariance is defined.
    penalised = SoftmaxRegressionClassifier(C=1.0, **TIGHT).fit(X, y)
    assert np.all(np.isfinite(inference(penalised, X, y).bse))


def test_zero_column_is_named():
    X, y, _, _ = problem(3)
    X = np.column_stack([X, np.zeros(90)])
    model = SoftmaxRegressionClassifier(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="feature 'x3' is zero on every row"):
        inference(model, X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_separation_is_named(n_classes):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = rng.integers(0, n_classes - 1, size=300)
    y[X[:, 0] > 0.8] = n_classes - 1  # the last class is separated by x0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxRegressionClassifier(C=np.inf, max_iter=1000).fit(X, y)
    with pytest.raises(
        ValueError,
        match=f"along 'x0' for class {n_classes - 1} against the reference class 0"
        ".*separated",
    ):
        inference(model, X, y)


@pytest.mark.parametrize("shift", [0.05, 0.5, 1.0])
def test_inference_finishes_an_estimate_near_the_optimum(shift):
    X, y, _, _ = problem(4)
    theirs = statsmodels_fit(sm.MNLogit, y, X)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    # An estimate `shift` standard errors off in every contrast (as a fit
    # stopped short would be): inference's Newton steps reach the optimum,
    # without a warning.
    bse = ours_layout(theirs.bse)
    model.coef_ = model.coef_.copy()
    model.coef_[1:] += shift * bse[:, :-1]
    model.intercept_ = model.intercept_ + np.r_[0.0, shift * bse[:, -1]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = inference(model, X, y)
    assert_allclose(ours.params, ours_layout(theirs.params), rtol=1e-6, atol=1e-8)
    assert_allclose(ours.bse, bse, rtol=1e-6)
    assert ours.llf == pytest.approx(theirs.llf, abs=1e-8)


def test_an_estimate_far_from_the_optimum_warns():
    X, y, _, _ = problem(4)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    result = inference(model, X, y)
    # Ten standard errors off in one contrast (class 1 against class 0).
    model.coef_ = model.coef_.copy()
    model.coef_[1, 0] += 10 * result.bse[0, 0]
    with pytest.warns(ConvergenceWarning, match="too far.*smaller tol"):
        inference(model, X, y)


def test_string_labels_pandas_y_and_string_groups_give_the_numeric_result():
    X, y, sample_weight, groups = problem(3)
    names = np.array(["ash", "birch", "cedar"])
    numeric = SoftmaxRegressionClassifier(**TIGHT).fit(X, y, sample_weight)
    labelled = SoftmaxRegressionClassifier(**TIGHT).fit(X, names[y], sample_weight)
    expected = inference(
        numeric, X, y, sample_weight, reference=2, cov_type="cluster", groups=groups
    )
    result = inference(
        labelled,
        pd.DataFrame(X, columns=["a", "b", "c"]).to_numpy(),
        pd.Series(names[y]),
        sample_weight,
        reference=np.str_("cedar"),
        cov_type="cluster",
        groups=pd.Series([f"g{g}" for g in groups]),
    )
    assert result.reference == "cedar"
    assert_array_equal(result.classes, ["ash", "birch"])
    assert_allclose(result.cov_params, expected.cov_params, rtol=1e-10)
    assert_allclose(result.params, expected.params, rtol=1e-10)


def test_missing_string_groups_are_named():
    X, y, _, groups = problem(3)
    model = SoftmaxRegressionClassifier().fit(X, y)
    labels = np.array([f"g{g}" for g in groups], dtype=object)
    labels[3] = np.nan
    with pytest.raises(ValueError, match="missing"):
        inference(model, X, y, cov_type="cluster", groups=labels)


def test_a_group_of_zero_weight_rows_is_not_counted():
    X, y, sample_weight, groups = problem(3)
    groups = np.where(sample_weight == 1, 99, groups)  # group 99: the last label
    kept = sample_weight > 1
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(
        X[kept], y[kept], sample_weight[kept]
    )
    sample_weight = np.where(kept, sample_weight, 0.0)
    with_empty = inference(
        model, X, y, sample_weight, cov_type="cluster", groups=groups
    )
    without = inference(
        model,
        X[kept],
        y[kept],
        sample_weight[kept],
        cov_type="cluster",
        groups=groups[kept],
    )
    assert with_empty.n_groups == without.n_groups == len(np.unique(groups[kept]))
    assert_allclose(with_empty.cov_params, without.cov_params, rtol=1e-12)


def test_a_rare_class_with_heavy_weights_elsewhere_is_not_called_separated():
    # Three rows of class 2 among 2000 rows of weight 1e6: its contrasts are
    # known to about 1 / sqrt(3), which is no saturation.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2003, 2))
    y = np.r_[rng.integers(0, 2, size=2000), [2, 2, 2]]
    sample_weight = np.r_[np.full(2000, 1e6), [1.0, 1.0, 1.0]]
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight)
    result = inference(model, X, y, sample_weight)
    assert np.all(np.isfinite(result.bse))
    assert 0.2 < result.bse[1, -1] < 5


# Joint tests --------------------------------------------------------------------


def statsmodels_wald(theirs, r_matrix, q=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        test = theirs.wald_test((r_matrix, q) if q is not None else r_matrix,
                                use_f=False, scalar=True)  # fmt: skip
    return float(test.statistic), float(test.pvalue)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_wald_tests_match_statsmodels(anes, anes_model, cov_type):
    X, y = anes
    theirs = statsmodels_fit(sm.MNLogit, y, X.to_numpy(), cov_type)
    ours = inference(anes_model, X, y, cov_type=cov_type)
    rng = np.random.default_rng(0)
    # Restrictions in the order of cov_params, the same in statsmodels'.
    r_matrix = rng.normal(size=(3, ours.params.size))
    q = rng.normal(size=3)
    test = ours.wald_test(r_matrix, q)
    statistic, pvalue = statsmodels_wald(theirs, r_matrix, q)
    assert test.df == 3
    assert test.statistic == pytest.approx(statistic, rel=1e-5)
    assert test.pvalue == pytest.approx(pvalue, rel=1e-4, abs=1e-300)
    # One row per column: its K - 1 contrasts together (statsmodels'
    # wald_test_terms fails on MNLogit; the same restrictions by hand).
    terms = ours.wald_test_terms()
    assert list(terms.index) == [*X.columns, "intercept"]
    n_columns = len(ours.feature_names)
    for j, name in enumerate(ours.feature_names):
        r_matrix = np.zeros((6, ours.params.size))
        r_matrix[np.arange(6), j + n_columns * np.arange(6)] = 1.0
        statistic, pvalue = statsmodels_wald(theirs, r_matrix)
        assert terms.loc[name, "chi2"] == pytest.approx(statistic, rel=1e-5)
        assert terms.loc[name, "df"] == 6
        assert terms.loc[name, "P>chi2"] == pytest.approx(pvalue, rel=1e-4, abs=1e-300)


def test_lr_tests_by_refitting_match_statsmodels(anes, anes_model):
    # statsmodels' MNLogit with and without each column: the difference of
    # their maximised log-likelihoods.
    X, y = anes
    ours = inference(anes_model, X, y).lr_test_terms()
    full = statsmodels_fit(sm.MNLogit, y, X.to_numpy())
    assert list(ours.index) == list(X.columns)
    for name in X.columns:
        without = statsmodels_fit(sm.MNLogit, y, X.drop(columns=name).to_numpy())
        assert ours.loc[name, "llf"] == pytest.approx(without.llf, rel=1e-9)
        statistic = 2 * (full.llf - without.llf)
        assert ours.loc[name, "chi2"] == pytest.approx(statistic, rel=1e-6)
        assert ours.loc[name, "df"] == 6
        assert ours.loc[name, "P>chi2"] == pytest.approx(
            scipy.stats.chi2.sf(statistic, 6), rel=1e-5, abs=1e-300
        )


def test_lr_test_of_a_lone_feature_is_against_the_intercepts(anes):
    X, y = anes
    lone = X[["selfLR"]]
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(lone, y)
    ours = inference(model, lone, y).lr_test_terms()
    theirs = statsmodels_fit(sm.MNLogit, y, lone.to_numpy())
    assert ours.loc["selfLR", "chi2"] == pytest.approx(theirs.llr, rel=1e-6)
    assert ours.loc["selfLR", "llf"] == pytest.approx(theirs.llnull, rel=1e-9)


def test_lr_tests_refuse_what_they_cannot_compare(anes):
    X, y = anes
    penalised = SoftmaxRegressionClassifier(C=1.0, tol=1e-8).fit(X, y)
    with pytest.raises(ValueError, match="unpenalised fit"):
        inference(penalised, X, y).lr_test_terms()


def test_wald_test_of_one_coefficient_is_its_squared_z(anes, anes_model):
    X, y = anes
    ours = inference(anes_model, X, y)
    row = np.zeros(ours.params.size)
    row[7] = 1.0
    test = ours.wald_test(row)
    assert test.statistic == pytest.approx(ours.zvalues.ravel()[7] ** 2, rel=1e-10)
    assert test.pvalue == pytest.approx(ours.pvalues.ravel()[7], rel=1e-8)


def test_wald_test_rejects_bad_restrictions(anes, anes_model):
    X, y = anes
    ours = inference(anes_model, X, y)
    with pytest.raises(ValueError, match="one column per parameter"):
        ours.wald_test(np.ones((2, 5)))
    with pytest.raises(ValueError, match="one value per restriction"):
        ours.wald_test(np.eye(36)[:2], q=[1.0])
    with pytest.raises(ValueError, match="singular"):
        ours.wald_test(np.vstack([np.eye(36)[0], np.eye(36)[0]]))


# Predictions with intervals -------------------------------------------------------


def probabilities_at(flat_params, shape, X):
    """The class probabilities (reference first) at contrasts ``flat_params``,
    by the direct formula."""
    params = flat_params.reshape(shape)
    scores = np.column_stack([np.zeros(len(X)), X @ params[:, :-1].T + params[:, -1]])
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_prediction_matches_statsmodels_and_a_numerical_delta_method(
    anes, anes_model, cov_type
):
    X, y = anes
    ours = inference(anes_model, X, y, cov_type=cov_type)
    rows = X.iloc[::37]
    prediction = ours.get_prediction(rows)
    theirs = statsmodels_fit(sm.MNLogit, y, X.to_numpy(), cov_type)
    expected = theirs.predict(sm.add_constant(rows.to_numpy(), prepend=False))
    assert_allclose(prediction.predicted, expected, rtol=1e-6, atol=1e-9)
    assert_array_equal(prediction.classes, np.arange(7))
    # The delta method with a central-difference Jacobian of the formula.
    flat = ours.params.ravel()
    jacobian = np.empty((len(rows), 7, flat.size))
    for m in range(flat.size):
        step = np.zeros_like(flat)
        step[m] = 1e-6 * max(1.0, abs(flat[m]))
        jacobian[:, :, m] = (
            probabilities_at(flat + step, ours.params.shape, rows.to_numpy())
            - probabilities_at(flat - step, ours.params.shape, rows.to_numpy())
        ) / (2 * step[m])
    variance = np.einsum("ikm,mn,ikn->ik", jacobian, ours.cov_params, jacobian)
    assert_allclose(prediction.se, np.sqrt(variance), rtol=1e-5, atol=1e-10)


def test_prediction_intervals_lie_within_0_and_1_and_contain_the_prediction():
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    result = inference(model, X, y)
    # Rows far out, where probabilities approach 0 and 1.
    far = np.vstack([X, 30 * X[:5]])
    prediction = result.get_prediction(far)
    for alpha in (0.05, 0.5):
        bounds = prediction.conf_int(alpha)
        assert np.all(bounds >= 0) and np.all(bounds <= 1)
        assert np.all(bounds[..., 0] <= prediction.predicted)
        assert np.all(prediction.predicted <= bounds[..., 1])
    narrow, wide = prediction.conf_int(0.5), prediction.conf_int(0.01)
    assert np.all(wide[..., 0] <= narrow[..., 0])
    assert np.all(narrow[..., 1] <= wide[..., 1])
    frame = prediction.summary_frame()
    assert frame.shape == (far.shape[0] * 3, 4)
    assert_allclose(frame["predicted"].to_numpy(), prediction.predicted.ravel())
    # Sparse rows give the same.
    sparse = result.get_prediction(sp.csr_array(far))
    assert_allclose(sparse.se, prediction.se, rtol=1e-12)


def test_prediction_checks_the_columns():
    X, y, _, _ = problem(3)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    result = inference(model, X, y)
    with pytest.raises(ValueError, match="columns"):
        result.get_prediction(X[:, :-1])
    with pytest.raises(ValueError, match="finite"):
        result.get_prediction(np.full((2, X.shape[1]), np.nan))


# Pipelines --------------------------------------------------------------------------


def test_inference_on_a_pipeline_names_the_transformed_columns(anes):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = anes
    X = X.assign(educ=X["educ"].astype(int).astype(str))
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), ["logpopul", "selfLR", "age", "income"]),
            ("cat", OneHotEncoder(drop="first"), ["educ"]),
        ]
    )
    pipe = make_pipeline(columns, SoftmaxRegressionClassifier(C=1.0, **TIGHT))
    pipe.fit(X, y)
    ours = inference(pipe, X, y)
    transformed = columns.transform(X)
    names = list(columns.get_feature_names_out())
    assert list(ours.feature_names) == [*names, "intercept"]
    assert "num__selfLR" in names and "cat__educ_2" in names
    # The same as inference on the classifier with the transformed rows.
    direct = inference(pipe[-1], transformed, y)
    assert_allclose(ours.params, direct.params, rtol=1e-12)
    assert_allclose(ours.bse, direct.bse, rtol=1e-12)


def test_unpenalised_pipeline_matches_statsmodels_on_the_scaled_features(anes):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = anes
    pipe = make_pipeline(
        StandardScaler(), SoftmaxRegressionClassifier(C=np.inf, **TIGHT)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    ours = inference(pipe, X, y, cov_type="HC0")
    scaled = (X - X.mean()) / X.std(ddof=0)
    theirs = statsmodels_fit(sm.MNLogit, y, scaled.to_numpy(), "HC0")
    assert list(ours.feature_names) == [*X.columns, "intercept"]
    assert_allclose(ours.params, ours_layout(theirs.params), rtol=1e-6, atol=1e-6)
    assert_allclose(ours.bse, ours_layout(theirs.bse), rtol=1e-5)


def test_a_pipeline_must_end_with_the_classifier(anes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = anes
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="last step is LogisticRegression"):
        inference(pipe, X, y)


def test_prediction_of_a_pipeline_takes_the_pipeline_s_rows(anes):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = anes
    pipe = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier(C=1.0, **TIGHT))
    pipe.fit(X, y)
    prediction = inference(pipe, X, y).get_prediction(X.iloc[:20])
    # (to the polish of inference, a millionth of a standard error)
    assert_allclose(prediction.predicted, pipe.predict_proba(X.iloc[:20]), rtol=1e-6)


def test_wald_tests_do_not_depend_on_the_features_scale(anes):
    X, y = anes
    scaled = X.assign(income=X["income"] * 1e6)
    tests = []
    for data in (X, scaled):
        model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(data, y)
        result = inference(model, data, y)
        # income's and the intercept's contrasts of class 1, together.
        r_matrix = np.zeros((2, result.params.size))
        r_matrix[0, 4], r_matrix[1, 5] = 1.0, 1.0
        tests.append(result.wald_test(r_matrix).statistic)
        tests.append(result.wald_test_terms().loc["income", "chi2"])
    assert tests[0] == pytest.approx(tests[2], rel=1e-6)
    assert tests[1] == pytest.approx(tests[3], rel=1e-6)
