"""Separation found from the data, whatever the fit's tol: the linear
program of sksoftmax._identification, its certificate checked by hand, and
data separated or not by construction."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import SoftmaxRegressionClassifier, inference
from sksoftmax._identification import separating_direction


def margins(X, y, direction):
    """(d_{y_i} - d_l) . x_i for every row i and class l, the intercept's
    column last in ``direction``."""
    scores = np.column_stack([X, np.ones(len(X))]) @ direction.T
    return scores[np.arange(len(y)), y][:, None] - scores


def every_label(X, n_classes):
    """Each row once with every class: no direction separates anything."""
    return np.repeat(X, n_classes, axis=0), np.tile(np.arange(n_classes), len(X))


@pytest.mark.parametrize("seed", range(30))
def test_separation_is_found_exactly_where_the_data_have_it(seed):
    rng = np.random.default_rng(seed)
    n_classes = int(rng.integers(2, 5))
    n_features = int(rng.integers(1, 5))
    X = rng.normal(size=(int(rng.integers(5, 40)), n_features))
    X *= 10 ** rng.uniform(-2, 2, n_features)
    kind = ("complete", "none", "quasi")[seed % 3]
    if kind == "complete":
        # Labels from the scores of a model, without noise.
        scores = X @ rng.normal(size=(n_features, n_classes))
        y = np.argmax(scores, axis=1)
    else:
        X, y = every_label(X, n_classes)
        if kind == "quasi":
            # A dummy column that is 1 on rows of a few classes only.
            absent = int(rng.integers(n_classes))
            dummy = ((y != absent) & (rng.random(len(y)) < 0.5)).astype(float)
            dummy[np.flatnonzero(y != absent)[0]] = 1.0
            X = np.column_stack([X, dummy])
    present = np.unique(y)
    y = np.searchsorted(present, y)
    weight = np.ones(len(y))
    direction = separating_direction(X, y, weight, len(present), True)
    if kind == "none":
        assert direction is None
        return
    assert direction is not None
    found = margins(X, y, direction)
    # A certificate: no margin negative (beyond rounding), some positive.
    assert found.min() >= -1e-9 * np.abs(X).max()
    assert found.max() > 1e-6 * np.abs(X).max()
    if kind == "quasi":
        # Rows of the absent class are never 1 on the dummy: along it alone.
        assert direction[:, -2].any()


def test_zero_weight_rows_do_not_prevent_separation():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0], [1.5]])
    y = np.array([0, 0, 1, 1, 0])
    weight = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    assert separating_direction(X, y, weight, 2, True) is None
    weight[-1] = 0.0
    assert separating_direction(X, y, weight, 2, True) is not None
    assert separating_direction(sp.csr_array(X), y, weight, 2, True) is not None


def quasi_separated_anes96():
    """anes96 with educ one-hot encoded (its lowest category has no row in
    some classes), and those classes, found by counting."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.anes96.load_pandas()
    X = data.exog.copy()
    y = data.endog.to_numpy().astype(int)
    educ = X.pop("educ").astype(int)
    X = pd.concat(
        [X, pd.get_dummies(educ, prefix="educ", drop_first=True, dtype=float)], axis=1
    )
    counts = pd.crosstab(educ, y)
    empty = sorted({int(k) for k in counts.columns[(counts == 0).any(axis=0)]})
    assert empty  # the premise: a category misses a class
    return X, y, empty


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_unpenalised_fit_on_separated_data_warns_separated_at_every_tol(tol):
    X, y, empty = quasi_separated_anes96()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SoftmaxRegressionClassifier(C=np.inf, tol=tol, max_iter=5000).fit(X, y)
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]
    separated = [m for m in messages if "separated in the training data" in m]
    assert len(separated) == 1
    named = sorted(int(k) for k in re.findall(r"class (\d+): \[", separated[0]))
    assert named == empty
    assert "firth=True" in separated[0]
    # No advice to loosen tol.
    assert not any("loosen tol" in m for m in messages)


def test_unpenalised_fit_of_data_that_are_not_separated_is_silent():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.anes96.load_pandas()
    X, y = data.exog, data.endog.to_numpy().astype(int)
    weight = np.random.default_rng(0).integers(0, 3, len(y)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SoftmaxRegressionClassifier(C=np.inf, tol=1e-6, max_iter=1000).fit(X, y)
        SoftmaxRegressionClassifier(
            C=np.inf, tol=1e-6, max_iter=1000, class_weight="balanced"
        ).fit(X, y, weight)


def test_penalised_and_firth_fits_do_not_warn_separated():
    X, y, _ = quasi_separated_anes96()
    for params in [{"C": 1.0}, {"C": np.inf, "firth": True}]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            SoftmaxRegressionClassifier(**params, tol=1e-6).fit(X, y)


@pytest.mark.parametrize("tol", [1e-4, 1e-6, 1e-8])
def test_inference_refuses_quasi_separated_anes96_at_every_tol(tol):
    X, y, empty = quasi_separated_anes96()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxRegressionClassifier(C=np.inf, tol=tol, max_iter=5000)
        model.fit(X, y)
    with pytest.raises(ValueError, match="linear program") as error:
        inference(model, X, y)
    named = sorted(int(k) for k in re.findall(r"class (\d+): \[", str(error.value)))
    assert named == empty


def test_inference_on_data_that_are_not_separated_runs():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.anes96.load_pandas()
    X, y = data.exog, data.endog.to_numpy().astype(int)
    model = SoftmaxRegressionClassifier(C=np.inf, tol=1e-8, max_iter=5000).fit(X, y)
    assert np.all(np.isfinite(inference(model, X, y).bse))
