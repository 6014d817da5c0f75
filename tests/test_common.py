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
    # The checks' data have from 1 to 30 features: factors keyed by column
    # index and scalar bounds fit them all.
    SoftmaxRegressionClassifier(penalty_factor={0: 0.0}, coef_bounds=(-5.0, 5.0)),
    SoftmaxRegressionClassifier(
        l1_ratio=0.5, penalty_factor={-1: 2.0}, coef_bounds=(-np.inf, 3.0)
    ),
    # Two settings differ from the defaults, for the checks' tiny data
    # (LogisticRegressionCV fails both checks at its defaults too):
    # - cv=3: check_sparsify_coefficients fits 3 samples of each class, which
    #   5 stratified folds refuse;
    # - Cs up to 100: on check_sample_weight_equivalence's data (45 rows, 30
    #   features, separable) the log-loss picks the largest C, and from 1e3 up
    #   the objective is too flat for float64 to pin the probabilities to the
    #   check's 1e-7 (integer weights and repeated rows end 1e-5 apart).
    SoftmaxRegressionCV(Cs=np.logspace(-4, 2, 7), cv=3),
    # As LogisticRegressionCV passes: Cs=3 reaches C=1e4, whose fits the
    # Newton steps end at float64's resolution, so that weights and repeated
    # rows agree.
    SoftmaxRegressionCV(Cs=3, cv=3),
    SoftmaxRegressionCV(Cs=[0.1, 10.0], l1_ratios=[0.0, 0.5], refit=False, cv=3),
    SoftmaxRegressionCV(Cs=3, class_weight="balanced", scoring="accuracy", cv=2),
    SoftmaxRegressionCV(Cs=3, cv=3, penalty_factor={0: 0.0}, coef_bounds=(-5.0, 5.0)),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
