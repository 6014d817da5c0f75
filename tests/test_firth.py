"""Firth's bias-reduced fit (``firth=True``), against firthmodels (binary), the
zero of the penalised score by finite differences of an objective written out
here (multinomial), and the fit on repeated rows (frequency weights)."""

import warnings

# The reference of the binary fits, a test dependency (the test extra; in the
# oldest-pins run of .ci/run, installed without its dependencies, since it
# asks for SciPy >= 1.12).
import firthmodels
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import log_softmax, softmax
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import SoftmaxRegressionClassifier, inference

TIGHT_FIRTH = dict(C=np.inf, firth=True, tol=1e-10, max_iter=500)


def penalised_objective(weights, intercept, X, y, sample_weight, C):
    """-log L - 1/2 log det I + ||W||^2 / (2 C) with every class's weights
    and intercepts, the information I of the contrasts against class 0 summed
    row by row; the binary model's one row is class 1's (class 0's is zero),
    and its penalty is on that row alone."""
    Z = X @ weights.T + intercept
    loglik = sample_weight @ log_softmax(Z, axis=1)[np.arange(len(y)), y]
    P = softmax(Z, axis=1)[:, 1:]
    X1 = np.column_stack([X, np.ones(len(X))])
    information = sum(
        s * np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x))
        for s, p, x in zip(sample_weight, P, X1, strict=True)
    )
    sign, log_det = np.linalg.slogdet(information)
    assert sign > 0
    penalty = 0.0 if np.isinf(C) else 0.5 / C * np.sum(weights**2)
    return -loglik - 0.5 * log_det + penalty


def score_by_differences(model, X, y, sample_weight, C, h=1e-5):
    """The gradient of :func:`penalised_objective` at the fitted model, in
    every weight and intercept it has, by central differences."""
    n_classes = len(model.classes_)
    binary = n_classes == 2
    theta = np.column_stack([model.coef_, model.intercept_]).astype(np.float64)

    def value(theta):
        weights, intercept = theta[:, :-1], theta[:, -1]
        if binary:
            weights = np.vstack([np.zeros_like(weights), weights])
            intercept = np.append(0.0, intercept)
        return penalised_objective(weights, intercept, X, y, sample_weight, C)

    gradient = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[index] = h
        gradient[index] = (value(theta + step) - value(theta - step)) / (2 * h)
    return gradient


def separated(n_classes, seed):
    """Three or two classes separated completely by the first feature."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30 * n_classes, 3))
    y = np.digitize(X[:, 0], np.quantile(X[:, 0], np.arange(1, n_classes) / n_classes))
    return X, y


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_fit_is_firthmodels_logistic_regression(seed, weighted):
    X, y = make_classification(
        n_samples=40 + 10 * seed,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        random_state=seed,
    )
    sample_weight = None
    if weighted:
        sample_weight = np.random.default_rng(seed).uniform(0.5, 3.0, len(y))
    reference = firthmodels.FirthLogisticRegression(
        gtol=1e-10, xtol=1e-10, max_iter=200
    )
    with warnings.catch_warnings():
        # firthmodels' step halving can stop at the rounding of its objective
        # before its gtol of 1e-10 (with NumPy 1.24 and SciPy 1.10, weighted).
        warnings.filterwarnings("ignore", "Step-halving", ConvergenceWarning)
        reference.fit(X, y, sample_weight=sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X, y, sample_weight)
    assert_allclose(ours.coef_[0], reference.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.intercept_[0], reference.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", range(3))
def test_binary_fit_on_separated_data_is_firthmodels(seed):
    X, y = separated(2, seed)
    reference = firthmodels.FirthLogisticRegression(gtol=1e-8, xtol=1e-8, max_iter=200)
    with warnings.catch_warnings():
        # firthmodels' step halving stops at the rounding of its objective
        # before its gtol; its estimate is then within 1e-7 of ours.
        warnings.filterwarnings("ignore", "Step-halving", ConvergenceWarning)
        reference.fit(X, y)
    ours = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X, y)
    assert np.all(np.isfinite(ours.coef_))
    assert_allclose(ours.coef_[0], reference.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(ours.intercept_[0], reference.intercept_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n_classes", [3, 4])
@pytest.mark.parametrize("C", [np.inf, 2.0])
@pytest.mark.parametrize("kind", ["overlapping", "separated"])
def test_multinomial_fit_is_a_zero_of_the_penalised_score(n_classes, C, kind):
    if kind == "separated":
        X, y = separated(n_classes, 0)
    else:
        X, y = make_classification(
            n_samples=90,
            n_features=3,
            n_informative=3,
            n_redundant=0,
            n_classes=n_classes,
            n_clusters_per_class=1,
            random_state=n_classes,
        )
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    model = SoftmaxRegressionClassifier(**{**TIGHT_FIRTH, "C": C})
    model.fit(X, y, sample_weight)
    assert np.all(np.abs(model.coef_) < 50)  # finite, also where separated
    score = score_by_differences(model, X, y, sample_weight, C)
    # The objective is about 100 here; one wrong factor in the penalty's
    # gradient leaves a score of order 1.
    assert np.max(np.abs(score)) < 1e-5


def test_the_score_check_rejects_the_maximum_likelihood_estimate():
    # The check above can fail: the L2 fit without Firth's term is not a zero
    # of Firth's score.
    X, y = make_classification(
        n_samples=90,
        n_features=3,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=3,
    )
    sample_weight = np.ones(len(y))
    plain = SoftmaxRegressionClassifier(C=2.0, tol=1e-10, max_iter=500).fit(X, y)
    score = score_by_differences(plain, X, y, sample_weight, 2.0)
    assert np.max(np.abs(score)) > 1e-2


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_default_fit_of_large_separated_data_converges(n_classes):
    # 300 rows per class, completely separated: coefficients in the hundreds,
    # which steps of at most 5 reached only after 125 to 200 of them.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300 * n_classes, 3))
    cuts = np.quantile(X[:, 0], np.arange(1, n_classes) / n_classes)
    y = np.digitize(X[:, 0], cuts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxRegressionClassifier(C=np.inf, firth=True).fit(X, y)
    assert model.n_iter_[0] < 100
    score = score_by_differences(model, X, y, np.ones(len(y)), np.inf, h=1e-6)
    # Within the default tol (1e-4 standard errors) of the zero of the score.
    tight = SoftmaxRegressionClassifier(C=np.inf, firth=True, tol=1e-7).fit(X, y)
    assert np.max(np.abs(score)) < 1e-2
    scale = np.abs(tight.coef_).max()
    assert_allclose(model.coef_, tight.coef_, rtol=0, atol=1e-3 * scale)


def test_frequency_weights_are_repeated_rows():
    # (On separated data the objective is so flat along the separating
    # direction, with coefficients of 35, that both fits agree only to 1e-5.)
    X, y = make_classification(
        n_samples=60,
        n_features=3,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=5,
    )
    counts = np.random.default_rng(0).integers(1, 4, len(y))
    weighted = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X, y, counts)
    repeated = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-7, atol=1e-9)


def test_sparse_and_float32_fits_equal_the_dense_float64_fit():
    X, y = separated(3, 1)
    dense = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X, y)
    X_sparse = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    sparse = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X_sparse, y)
    densified = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X_sparse.toarray(), y)
    assert_allclose(sparse.coef_, densified.coef_, rtol=1e-9, atol=1e-10)
    single = SoftmaxRegressionClassifier(C=np.inf, firth=True, tol=1e-6)
    single.fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    # float32 products round the gradient: the fit stops within 3.5e-4
    # standard errors (the square root of float32's epsilon).
    assert_allclose(single.coef_, dense.coef_, rtol=1e-3, atol=1e-3)


def test_inference_on_a_firth_fit_uses_the_information_at_the_estimate():
    X, y = separated(2, 4)
    model = SoftmaxRegressionClassifier(**TIGHT_FIRTH).fit(X, y)
    # The plain fit's inference refuses these data as separated.
    with pytest.warns(ConvergenceWarning, match="separated"):
        plain = SoftmaxRegressionClassifier(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match="separat"):
        inference(plain, X, y)
    result = inference(model, X, y)
    assert result.firth
    assert "Firth" in result.cov_description
    # logistf's standard errors: the inverse of X~' diag(p (1 - p)) X~ at
    # the estimate (firthmodels' bse_ uses an augmented information instead).
    X1 = np.column_stack([X, np.ones(len(X))])
    p = model.predict_proba(X)[:, 1]
    covariance = np.linalg.inv(X1.T @ ((p * (1 - p))[:, None] * X1))
    assert_allclose(result.params[0], np.append(model.coef_[0], model.intercept_))
    assert_allclose(result.bse[0], np.sqrt(np.diag(covariance)), rtol=1e-8)


@pytest.mark.parametrize(
    "params, named",
    [
        ({"l1_ratio": 0.5}, "l1_ratio"),
        ({"coef_bounds": (-1.0, 1.0)}, "coef_bounds"),
        ({"label_smoothing": 0.1}, "label_smoothing"),
    ],
)
def test_settings_a_firth_fit_does_not_take_are_named(params, named):
    X, y = separated(3, 0)
    with pytest.raises(ValueError, match=named):
        SoftmaxRegressionClassifier(firth=True, **params).fit(X, y)


def test_a_model_too_large_for_the_information_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 1100))
    y = np.arange(50) % 3
    with pytest.raises(ValueError, match="at most 2048"):
        SoftmaxRegressionClassifier(firth=True).fit(X, y)


def test_firth_must_be_a_bool():
    X, y = separated(3, 0)
    with pytest.raises(ValueError, match="firth must be a bool"):
        SoftmaxRegressionClassifier(firth="yes").fit(X, y)
