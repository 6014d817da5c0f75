"""Test helpers shared by the test modules: settings, loaders, problems and
scikit-learn references that several modules use."""

import numpy as np
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose
from reference import objective
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from sksoftmax._backends._numpy import InMemoryData
from sksoftmax._objective import SoftmaxObjective
from sksoftmax._settings import FitSettings

#: Settings of a fit that reaches the optimum to about 1e-10.
TIGHT = dict(tol=1e-10, max_iter=10000)
LOADERS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


def standardised(dataset):
    """A scikit-learn dataset with standardised features."""
    X, y = LOADERS[dataset](return_X_y=True)
    return StandardScaler().fit_transform(X), y


def saga(C, l1_ratio, tol):
    """LogisticRegression(solver="saga") with the elastic-net penalty of l1_ratio."""
    params = dict(solver="saga", C=C, l1_ratio=l1_ratio, tol=tol, max_iter=100_000)
    if parse_version(sklearn.__version__) < parse_version("1.8"):
        # Before 1.8, l1_ratio is only used with penalty="elasticnet".
        params["penalty"] = "elasticnet"
    return LogisticRegression(**params)


def breast_cancer(weighted=False):
    """Standardised breast-cancer data (two classes) and sample weights: ones,
    or drawn from [0.2, 3)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.2, 3.0, size=len(y)) if weighted else np.ones(len(y))
    return X, y, sample_weight


def tight_logistic_regression(C, fit_intercept=True):
    """LogisticRegression solved by Newton's method well below the tests' 1e-6
    (newton-cholesky: an exact Hessian, for few features)."""
    return LogisticRegression(
        C=C,
        fit_intercept=fit_intercept,
        solver="newton-cholesky",
        tol=1e-12,
        max_iter=1000,
    )


def assert_is_binary_logistic_regression(
    coef, intercept, X, y, sample_weight, C, fit_intercept=True
):
    """A fitted binary model (NumPy ``coef`` and ``intercept``) is
    LogisticRegression's at the same C: one row, the same objective to 1e-10
    (from its formula) and the same coefficients to 1e-6. Returns the fitted
    LogisticRegression, for checks of the predictions."""
    theirs = tight_logistic_regression(C, fit_intercept).fit(
        X, y, sample_weight=sample_weight
    )
    assert coef.shape == (1, X.shape[1]) and intercept.shape == (1,)
    assert_allclose(
        objective(coef, intercept, X, y, sample_weight, C),
        objective(theirs.coef_, theirs.intercept_, X, y, sample_weight, C),
        rtol=1e-10,
    )
    assert_allclose(coef, theirs.coef_, atol=1e-6)
    assert_allclose(intercept, theirs.intercept_, atol=1e-6)
    return theirs


def make_problem(n_samples=57, n_features=6, n_classes=4, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.1, 10, n_features)
    X += rng.normal(size=n_features) * 3
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(n_classes, size=n_samples)
    y[:n_classes] = np.arange(n_classes)
    sample_weight = rng.uniform(0.0, 3.0, size=n_samples)
    weights = rng.normal(size=(n_classes, n_features)) * 0.3
    intercept = rng.normal(size=n_classes)
    return X, y, sample_weight, weights, intercept


def in_memory_objective(
    X, y_code, sample_weight, n_classes, *, precondition=True, **settings
):
    """The objective over in-memory data; ``settings`` are fields of the
    settings record (``C``, ``fit_intercept``, ``l1_ratio``, ...)."""
    data = InMemoryData(X, y_code, sample_weight)
    return SoftmaxObjective(
        data, n_classes, FitSettings(**settings), precondition=precondition
    )
