"""Properties of the predictions on random data, including extreme scales."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from sksoftmax import SoftmaxRegressionClassifier

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def classification_data(draw):
    n_samples = draw(st.integers(4, 40))
    n_features = draw(st.integers(1, 5))
    n_classes = draw(st.integers(2, 4))
    X = draw(arrays(np.float64, (n_samples, n_features), elements=finite))
    scale = draw(st.sampled_from([1e-6, 1.0, 1e3, 1e6]))
    y = np.arange(n_samples) % n_classes
    y = draw(st.permutations(y))
    return X * scale, np.asarray(y)


@settings(max_examples=60, deadline=None)
@given(
    data=classification_data(),
    C=st.sampled_from([1e-3, 1.0, 1e3, np.inf]),
    l1_ratio=st.sampled_from([0.0, 0.5, 1.0]),
    label_smoothing=st.sampled_from([0.0, 0.3]),
)
def test_probabilities_are_a_distribution(data, C, l1_ratio, label_smoothing):
    X, y = data
    clf = SoftmaxRegressionClassifier(
        C=C, l1_ratio=l1_ratio, label_smoothing=label_smoothing, max_iter=50
    )
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter may stop C=inf fits
            clf.fit(X, y)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
        scores = clf.decision_function(X)
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(log_proba <= 0)
    predicted = clf.predict(X)
    # predict is classes_[argmax] of the probabilities; where two classes tie to
    # rounding (near-uniform rows), either is an argmax.
    code = np.searchsorted(clf.classes_, predicted)
    top = proba[np.arange(len(code)), code]
    assert np.all(top >= proba.max(axis=1) - 1e-12)
    unique_top = np.sort(proba, axis=1)[:, -2] < proba.max(axis=1) - 1e-12
    assert_array_equal(
        predicted[unique_top], clf.classes_[np.argmax(proba, axis=1)][unique_top]
    )
    if len(clf.classes_) == 2:
        assert_array_equal(predicted, clf.classes_[(scores > 0).astype(int)])
    else:
        assert_array_equal(predicted, clf.classes_[np.argmax(scores, axis=1)])
