"""scikit-learn's estimator checks, with nothing marked as an expected failure."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV

pytest.importorskip("pandas", reason="the DataFrame checks need pandas")

# fit_intercept=False is not in this list: check_class_weight_classifiers fits
# blobs far from the origin, which no linear model without an intercept can
# separate (LogisticRegression(fit_intercept=False) fails it too). That setting
# is tested against LogisticRegression in test_classifier.py.
ESTIMATORS = [
    SoftmaxRegressionClassifier(),
    SoftmaxRegressionClassifier(C=0.1, class_weight="balanced"),
    SoftmaxRegressionClassifier(C=np.inf, tol=1e-6, verbose=1),
    SoftmaxRegressionClassifier(warm_start=True, max_iter=500),
    SoftmaxRegressionClassifier(l1_ratio=0.5),
    SoftmaxRegressionClassifier(label_smoothing=0.1),
    # cv=3: check_sparsify_coefficients fits 3 samples of each class, which
    # the default 5 stratified folds refuse (LogisticRegressionCV() fails it
    # the same way); every other check passes at the default too.
    SoftmaxRegressionCV(cv=3),
    SoftmaxRegressionCV(Cs=[0.1, 10.0], l1_ratios=[0.0, 0.5], refit=False, cv=3),
    SoftmaxRegressionCV(Cs=3, class_weight="balanced", scoring="accuracy", cv=2),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
