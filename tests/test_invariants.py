"""What every entry point keeps: the caller's arrays left as they were, and a
fit on sparse X that is the fit on the same X dense."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from helpers import TIGHT, standardised
from numpy.testing import assert_allclose, assert_array_equal
from reference import objective
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from sksoftmax import (
    SoftmaxRegressionClassifier,
    SoftmaxRegressionCV,
    inference,
    softmax_regression_path,
)

# Inputs ---------------------------------------------------------------------


def fit_and_predict(X, y, sample_weight, groups):
    model = SoftmaxRegressionClassifier(class_weight="balanced")
    model.fit(X, y, sample_weight=sample_weight).predict_proba(X)


def cross_validate(X, y, sample_weight, groups):
    SoftmaxRegressionCV(Cs=2, class_weight="balanced").fit(
        X, y, sample_weight=sample_weight
    )


def path(X, y, sample_weight, groups):
    softmax_regression_path(
        X, y, [0.1, 1.0], sample_weight=sample_weight, class_weight="balanced"
    )


def infer(X, y, sample_weight, groups):
    model = SoftmaxRegressionClassifier(**TIGHT).fit(X, y, sample_weight)
    inference(model, X, y, sample_weight, cov_type="cluster", groups=groups)


@pytest.mark.parametrize(
    "entry_point",
    [fit_and_predict, cross_validate, path, infer],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("sparse", [False, True])
def test_inputs_are_not_modified(entry_point, sparse):
    X, y = standardised("wine")
    if sparse:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    groups = rng.integers(0, 20, len(y))
    arrays = [y, sample_weight, groups]
    arrays += [X.data, X.indices, X.indptr] if sparse else [X]
    copies = [array.copy() for array in arrays]
    for array in arrays:
        array.setflags(write=False)  # a write in place raises
    entry_point(X, y, sample_weight, groups)
    for array, copy in zip(arrays, copies, strict=True):
        assert_array_equal(array, copy)


# Sparse X -------------------------------------------------------------------


def digits_pixels():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def wine_with_zeros():
    X, y = standardised("wine")
    X[np.abs(X) < 0.7] = 0.0
    return X, y


def random_sparse():
    X = sp.random(600, 25, density=0.3, format="csr", random_state=6)
    return X.toarray(), np.arange(600) % 3


def wine():
    return standardised("wine")


def classifier(**params):
    def fit(X, y):
        model = SoftmaxRegressionClassifier(**params).fit(X, y)
        C, l1_ratio = params.get("C", 1.0), params.get("l1_ratio", 0.0)
        ones = np.ones(len(y))
        return {
            "objective": objective(
                model.coef_, model.intercept_, X, y, ones, C, l1_ratio
            ),
            "coef": model.coef_,
            "zeros": model.coef_ == 0,
            "proba": model.predict_proba(X),
            "predict": model.predict(X),
        }

    return fit


def path_of(Cs, **params):
    def fit(X, y):
        return {"coefs": softmax_regression_path(X, y, Cs, **params).coefs}

    return fit


def cv_of(**params):
    def fit(X, y):
        folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)
        with warnings.catch_warnings():
            # A tol near the rounding error may end a fold's fit on a stall.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SoftmaxRegressionCV(cv=list(folds), **params).fit(X, y)
        return {"scores": model.scores_, "coef": model.coef_}

    return fit


EXACT = None
CSR = (sp.csr_matrix,)
PATH_TIGHT = dict(tol=1e-9, max_iter=10_000)

#: (data, fit, sparse containers, {output: tolerance or EXACT}).
SPARSE_CASES = {
    # Sparse X is preconditioned without centering: another path to the same
    # optimum, which is flat in the directions of near-empty pixels.
    "L2": (
        digits_pixels,
        classifier(C=0.1, **TIGHT),
        (sp.csr_matrix, sp.csc_matrix, sp.csr_array),
        {
            "objective": dict(rtol=1e-10),
            "coef": dict(atol=1e-4),
            "proba": dict(atol=1e-6),
        },
    ),
    "L1": (
        wine_with_zeros,
        classifier(C=0.5, l1_ratio=0.7, **TIGHT),
        CSR,
        {"zeros": EXACT, "coef": dict(atol=1e-7)},
    ),
    # With whichever sparse products are installed (compiled or SciPy's).
    "default tol": (
        random_sparse,
        classifier(tol=1e-8),
        CSR,
        {"coef": dict(atol=1e-6), "predict": EXACT},
    ),
    "path": (wine, path_of([0.1, 10.0], **PATH_TIGHT), CSR, {"coefs": dict(atol=1e-7)}),
    "CV": (
        wine,
        cv_of(Cs=[1e-3, 1e-1, 1.0, 10.0, 1e3], **PATH_TIGHT),
        CSR,
        {"scores": dict(rtol=1e-6), "coef": dict(atol=1e-6)},
    ),
}


@pytest.mark.parametrize("case", list(SPARSE_CASES))
def test_sparse_fit_equals_dense_fit(case):
    data, fit, containers, tolerances = SPARSE_CASES[case]
    X, y = data()
    dense = fit(X, y)
    for container in containers:
        sparse = fit(container(X), y)
        for output, tolerance in tolerances.items():
            if tolerance is EXACT:
                assert_array_equal(sparse[output], dense[output], err_msg=output)
            else:
                assert_allclose(
                    sparse[output], dense[output], err_msg=output, **tolerance
                )
