"""The settings record: a fitted model keeps what it was fitted with, and
every message names the estimator or function that the user called."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import (
    SoftmaxRegressionClassifier,
    SoftmaxRegressionCV,
    inference,
    softmax_regression_path,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_inference_reads_the_settings_the_model_was_fitted_with(iris):
    X, y = iris
    model = SoftmaxRegressionClassifier(C=10.0, tol=1e-7, max_iter=1000).fit(X, y)
    before = inference(model, X, y)
    # Parameters set after the fit change nothing the fitted model is: not
    # its intercept, its penalty or the factors inference weighs it by.
    model.set_params(fit_intercept=False, C=0.01, penalty_factor=[0, 0, 0, 0])
    after = inference(model, X, y)
    assert after.feature_names[-1] == "intercept"
    assert after.C == 10.0
    assert_array_equal(after.params, before.params)
    assert_array_equal(after.bse, before.bse)
    # ... while a refit with the new parameters gives another answer.
    refitted = inference(model.set_params(penalty_factor=None).fit(X, y), X, y)
    assert refitted.params.shape[1] == X.shape[1]


def test_inference_refuses_what_the_fit_used_not_what_is_set_now(iris):
    X, y = iris
    model = SoftmaxRegressionClassifier(l1_ratio=0.5, max_iter=1000).fit(X, y)
    model.set_params(l1_ratio=0.0)
    with pytest.raises(ValueError, match="l1_ratio=0.5"):
        inference(model, X, y)
    # And the other way round: a plain fit stays valid after set_params.
    model = SoftmaxRegressionClassifier(C=10.0, tol=1e-7, max_iter=1000).fit(X, y)
    model.set_params(class_weight="balanced", label_smoothing=0.1)
    assert np.all(np.isfinite(inference(model, X, y).bse))


def test_the_fitted_settings_survive_pickling(iris):
    X, y = iris
    model = SoftmaxRegressionClassifier(
        C=10.0, tol=1e-7, max_iter=1000, penalty_factor={0: 0.0}
    ).fit(X, y)
    expected = inference(model, X, y)
    loaded = pickle.loads(pickle.dumps(model))
    loaded.set_params(penalty_factor=None, C=1.0)
    assert_allclose(inference(loaded, X, y).bse, expected.bse, rtol=1e-12)


def _converge_warnings(record):
    return [str(w.message) for w in record if w.category is ConvergenceWarning]


def test_convergence_warnings_name_the_estimator_or_function(iris):
    X, y = iris
    settings = dict(max_iter=1, tol=1e-12)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        SoftmaxRegressionClassifier(**settings).fit(X, y)
    assert _converge_warnings(record)[0].startswith(
        "SoftmaxRegressionClassifier did not converge"
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        softmax_regression_path(X, y, [1.0], **settings)
    assert _converge_warnings(record)[0].startswith(
        "softmax_regression_path did not converge"
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        SoftmaxRegressionCV(Cs=[1.0], cv=2, **settings).fit(X, y)
    messages = _converge_warnings(record)
    assert messages
    assert all(m.startswith("SoftmaxRegressionCV did not converge") for m in messages)


@pytest.mark.parametrize(
    "call, name",
    [
        (
            lambda X, y: SoftmaxRegressionClassifier().fit(X, y),
            "SoftmaxRegressionClassifier",
        ),
        (lambda X, y: SoftmaxRegressionCV(Cs=2).fit(X, y), "SoftmaxRegressionCV"),
        (lambda X, y: softmax_regression_path(X, y, 2), "softmax_regression_path"),
    ],
)
def test_data_errors_name_the_estimator_or_function(call, name, iris):
    X, y = iris
    with pytest.raises(ValueError, match=f"^{name}.* needs samples of at least 2"):
        call(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match=f"{name}.* requires y to be passed"):
        call(X, None)
