"""SoftmaxRegressionClassifier against independent references and as a user sees it."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers import (
    LOADERS,
    TIGHT,
    assert_is_binary_logistic_regression,
    breast_cancer,
    tight_logistic_regression,
)
from numpy.testing import assert_allclose, assert_array_equal
from reference import centered, newton_optimum, objective, smooth_gradient
from sklearn.datasets import (
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier


def fitted_objective(clf, X, y, sample_weight=None, C=None):
    y_code = np.searchsorted(clf.classes_, y)
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    return objective(
        clf.coef_, clf.intercept_, X, y_code, sw, clf.C if C is None else C
    )


@pytest.mark.parametrize("dataset", ["iris", "wine", "digits"])
@pytest.mark.parametrize("C", [0.01, 0.1, 1.0])
def test_agrees_with_logistic_regression(dataset, C):
    # Standardised features, where LogisticRegression itself converges tightly.
    X, y = LOADERS[dataset](return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = SoftmaxRegressionClassifier(C=C, **TIGHT).fit(X, y)
    theirs = LogisticRegression(C=C, **TIGHT).fit(X, y)
    assert_allclose(
        fitted_objective(ours, X, y), fitted_objective(theirs, X, y, C=C), rtol=1e-8
    )
    assert_allclose(centered(ours.coef_), centered(theirs.coef_), atol=1e-5)
    # Both solvers stop on ftol with the digits intercepts ~1.5e-5 from a Newton
    # optimum (C=1), so the intercepts get a looser bound than the coefficients.
    assert_allclose(centered(ours.intercept_), centered(theirs.intercept_), atol=5e-5)


@pytest.mark.parametrize(
    "dataset, C", [("iris", 1.0), ("iris", 10.0), ("wine", 0.1), ("wine", 10.0)]
)
def test_reaches_the_optimum_on_raw_features(dataset, C):
    # On raw features LogisticRegression stops short (wine at C=10: 1% above the
    # optimum); the reference is Newton's method with the exact Hessian.
    X, y = LOADERS[dataset](return_X_y=True)
    ours = SoftmaxRegressionClassifier(C=C, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = LogisticRegression(C=C).fit(X, y)  # a start for Newton
    weights, intercept = newton_optimum(
        theirs.coef_, theirs.intercept_, X, y, np.ones(len(y)), C
    )
    best = objective(weights, intercept, X, y, np.ones(len(y)), C)
    # At tol=1e-10 the fit runs until the objective stops falling: 1.2e-10
    # above Newton's optimum on wine at C=10 with SciPy 1.10.
    assert_allclose(fitted_objective(ours, X, y), best, rtol=5e-10)
    assert_allclose(centered(ours.coef_), centered(weights), atol=1e-5)
    assert_allclose(centered(ours.intercept_), centered(intercept), atol=1e-4)


@pytest.mark.parametrize("C", [0.05, 1.0])
@pytest.mark.parametrize(
    ("weighted", "fit_intercept"),
    [(False, True), (True, True), (False, False)],
    ids=["plain", "weighted", "no-intercept"],
)
def test_binary_is_logistic_regression_at_the_same_C(C, weighted, fit_intercept):
    X, y, sample_weight = breast_cancer(weighted)
    with warnings.catch_warnings():
        # tol=1e-10 is below the gradient's rounding error here: a warning
        # that says so, after the objective stopped falling, is expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SoftmaxRegressionClassifier(
            C=C, fit_intercept=fit_intercept, **TIGHT
        ).fit(X, y, sample_weight=sample_weight)
    theirs = assert_is_binary_logistic_regression(
        ours.coef_, ours.intercept_, X, y, sample_weight, C, fit_intercept
    )
    # And Newton's optimum of the formula, independently of LogisticRegression.
    weights, intercept = newton_optimum(
        np.zeros((1, X.shape[1])),
        np.zeros(1),
        X,
        y,
        sample_weight,
        C,
        fit_intercept=fit_intercept,
    )
    assert_allclose(
        objective(ours.coef_, ours.intercept_, X, y, sample_weight, C),
        objective(weights, intercept, X, y, sample_weight, C),
        rtol=1e-10,
    )
    assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-5)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-7)
    assert_array_equal(ours.predict(X), theirs.predict(X))


def test_fit_intercept_false_agrees_with_logistic_regression():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = SoftmaxRegressionClassifier(C=0.5, fit_intercept=False, **TIGHT).fit(X, y)
    theirs = LogisticRegression(C=0.5, fit_intercept=False, **TIGHT).fit(X, y)
    assert_array_equal(ours.intercept_, np.zeros(3))
    assert_allclose(centered(ours.coef_), centered(theirs.coef_), atol=1e-6)


def test_no_penalty_agrees_with_logistic_regression():
    X, y = make_classification(
        n_samples=400,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        flip_y=0.3,
        random_state=0,
    )
    ours = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y)
    theirs = LogisticRegression(C=np.inf, **TIGHT).fit(X, y)
    assert_allclose(
        fitted_objective(ours, X, y), fitted_objective(theirs, X, y), rtol=1e-9
    )
    assert_allclose(centered(ours.coef_), centered(theirs.coef_), atol=1e-5)


def test_integer_sample_weights_equal_repeated_rows():
    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    sample_weight = rng.integers(0, 4, size=len(y)).astype(float)
    weighted = SoftmaxRegressionClassifier(C=0.3, **TIGHT).fit(X, y, sample_weight)
    repeat = sample_weight.astype(int)
    repeated = SoftmaxRegressionClassifier(C=0.3, **TIGHT).fit(
        np.repeat(X, repeat, axis=0), np.repeat(y, repeat)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-7)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-6, atol=1e-6)


def test_weighted_fit_agrees_with_logistic_regression():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    sample_weight = np.random.default_rng(1).uniform(0.1, 5.0, size=len(y))
    ours = SoftmaxRegressionClassifier(C=0.2, **TIGHT).fit(X, y, sample_weight)
    theirs = LogisticRegression(C=0.2, **TIGHT).fit(X, y, sample_weight)
    assert_allclose(centered(ours.coef_), centered(theirs.coef_), atol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 2: 0.5}])
def test_class_weight_multiplies_into_sample_weight(class_weight):
    X, y = load_wine(return_X_y=True)
    X, y = StandardScaler().fit_transform(X)[20:], y[20:]
    sample_weight = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    if class_weight == "balanced":
        # S / (n_classes * S_k), with S_k the total sample weight of class k.
        totals = np.bincount(y, weights=sample_weight)
        per_class = sample_weight.sum() / (3 * totals)
    else:
        per_class = np.array([3.0, 1.0, 0.5])
    ours = SoftmaxRegressionClassifier(C=0.3, class_weight=class_weight, **TIGHT)
    ours.fit(X, y, sample_weight)
    theirs = LogisticRegression(C=0.3, **TIGHT)
    theirs.fit(X, y, sample_weight * per_class[y])
    assert_allclose(centered(ours.coef_), centered(theirs.coef_), atol=1e-6)


def test_class_weight_keys_of_absent_classes_are_ignored():
    X, y = load_iris(return_X_y=True)
    weights = {0: 2.0, 1: 1.0, 2: 0.5}
    plain = SoftmaxRegressionClassifier(class_weight=weights).fit(X, y)
    extra = SoftmaxRegressionClassifier(class_weight={**weights, 7: 3.0}).fit(X, y)
    assert_array_equal(extra.coef_, plain.coef_)


def test_weights_with_an_infinite_sum_are_rejected():
    with pytest.raises(ValueError, match="finite sum"):
        SoftmaxRegressionClassifier().fit(X_OK, Y_OK, np.full(150, 1e307))


def test_float32_stays_float32_within_its_precision():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X32 = X.astype(np.float32)
    model64 = SoftmaxRegressionClassifier(C=1.0, tol=1e-8).fit(X, y)
    # tol=1e-8 is below float32's rounding of the gradient (~1e-5): the fit
    # either says so or ends where Newton's decrement is at the objective's
    # rounding; either way it is at float32's optimum, which the assertions
    # below check.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model32 = SoftmaxRegressionClassifier(C=1.0, tol=1e-8).fit(X32, y)
    assert model32.coef_.dtype == np.float32 and model32.intercept_.dtype == np.float32
    for method in ("predict_proba", "predict_log_proba", "decision_function"):
        assert getattr(model32, method)(X32).dtype == np.float32
    # The objective is what float32 determines well: its optimum to ~1e-7.
    assert_allclose(
        fitted_objective(model32, X, y), fitted_objective(model64, X, y), rtol=1e-6
    )
    assert_allclose(model32.coef_, model64.coef_, atol=1e-3)
    assert_allclose(model32.predict_proba(X32), model64.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize(
    "names", [np.array(["b", "a", "c"]), np.array([True, False]), np.array([-3, 7, 11])]
)
def test_any_labels(names):
    X, y = load_iris(return_X_y=True)
    keep = y < len(names)
    X, y_labels = X[keep], names[y[keep]]
    clf = SoftmaxRegressionClassifier().fit(X, y_labels)
    assert_array_equal(clf.classes_, np.unique(names))
    assert clf.coef_.shape == (1 if len(names) == 2 else len(names), 4)
    assert clf.predict(X).dtype == y_labels.dtype
    assert clf.score(X, y_labels) > 0.9


def test_decision_function_shapes_and_consistency():
    X, y = load_iris(return_X_y=True)
    multi = SoftmaxRegressionClassifier().fit(X, y)
    scores = multi.decision_function(X)
    assert scores.shape == (150, 3)
    assert_allclose(scores, X @ multi.coef_.T + multi.intercept_)
    assert_array_equal(multi.predict(X), multi.classes_[scores.argmax(axis=1)])
    binary = SoftmaxRegressionClassifier().fit(X[50:], y[50:])
    margin = binary.decision_function(X[50:])
    assert margin.shape == (100,)
    assert binary.coef_.shape == (1, 4) and binary.intercept_.shape == (1,)
    assert_allclose(margin, X[50:] @ binary.coef_[0] + binary.intercept_[0])
    assert_array_equal(binary.predict(X[50:]), np.where(margin > 0, 2, 1))


def test_log_proba_is_finite_where_proba_underflows():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    clf = SoftmaxRegressionClassifier(C=1.0).fit(X, [0, 0, 1, 1])
    far = np.array([[1e5]])
    assert clf.predict_proba(far)[0, 0] == 0.0
    log_proba = clf.predict_log_proba(far)
    assert np.all(np.isfinite(log_proba))
    margin = clf.decision_function(far)[0]
    assert_allclose(log_proba[0, 0], -margin, rtol=1e-9)


def test_convergence_warning_when_max_iter_stops_the_fit():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=3") as record:
        clf = SoftmaxRegressionClassifier(max_iter=3).fit(X, y)
    assert clf.n_iter_ == 3
    # The warning names the user's line, not the package's.
    assert [w.filename for w in record] == [__file__]


def test_column_vector_y_warns_at_the_callers_line():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(DataConversionWarning, match="column-vector y") as record:
        column = SoftmaxRegressionClassifier().fit(X, y.reshape(-1, 1))
    assert [w.filename for w in record] == [__file__]
    assert_allclose(column.coef_, SoftmaxRegressionClassifier().fit(X, y).coef_)


def spread_scales():
    """Features from 1e-3 to 1e4: LogisticRegression's lbfgs stalls on these."""
    X, y = make_classification(
        n_samples=2000, n_features=12, n_informative=6, n_classes=4, random_state=0
    )
    return X * np.logspace(-3, 4, 12), y


@pytest.mark.parametrize("dataset", ["wine", "spread scales"])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_default_fit_converges_on_raw_features(dataset, container):
    # The preconditioning handles the scales, dense or sparse. (Raw digits and
    # breast_cancer need over 300 iterations even preconditioned: there the
    # default max_iter warns, as it does for LogisticRegression.)
    X, y = load_wine(return_X_y=True) if dataset == "wine" else spread_scales()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SoftmaxRegressionClassifier().fit(container(X), y)
    assert 1 <= clf.n_iter_ < 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = LogisticRegression().fit(X, y)
    assert fitted_objective(clf, X, y) <= fitted_objective(theirs, X, y)


def test_verbose_prints_one_line_per_iteration(capsys):
    X, y = load_iris(return_X_y=True)
    clf = SoftmaxRegressionClassifier(verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_
    values = [float(re.search(r"objective (\S+),", line).group(1)) for line in lines]
    seconds = [float(re.search(r"([0-9.]+) s$", line).group(1)) for line in lines]
    assert all(b >= a for a, b in zip(seconds, seconds[1:], strict=False))
    assert all(b <= a for a, b in zip(values, values[1:], strict=False))
    assert_allclose(values[-1], fitted_objective(clf, X, y), rtol=1e-6)


def test_warm_start_continues_from_previous_solution():
    X, y = load_digits(return_X_y=True)
    clf = SoftmaxRegressionClassifier(warm_start=True, **TIGHT).fit(X, y)
    first = fitted_objective(clf, X, y)
    clf.fit(X, y)
    assert clf.n_iter_ <= 20
    assert fitted_objective(clf, X, y) <= first + 1e-12
    # Other classes or features: a cold start, not a crash.
    cold = SoftmaxRegressionClassifier(**TIGHT).fit(X[y < 5], y[y < 5])
    clf.fit(X[y < 5], y[y < 5])
    assert_allclose(clf.coef_, cold.coef_, atol=1e-4)
    # 10 classes and 12 features: a transposed coef_ would have another shape.
    clf.fit(X[:, :12], y)
    assert clf.coef_.shape == (10, 12)
    cold = SoftmaxRegressionClassifier(**TIGHT).fit(X[:, :12], y)
    assert_allclose(clf.coef_, cold.coef_, atol=1e-4)


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = SoftmaxRegressionClassifier().fit(X, y)
    assert_array_equal(clf.feature_names_in_, X.columns)
    plain = SoftmaxRegressionClassifier().fit(X.to_numpy(), y.to_numpy())
    assert_allclose(clf.predict_proba(X), plain.predict_proba(X.to_numpy()))
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(pd.DataFrame(X.to_numpy(), columns=list("abcd")).iloc[:, :4])


def test_pickle_round_trip():
    X, y = load_digits(return_X_y=True)
    clf = SoftmaxRegressionClassifier(max_iter=1000).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.predict(X), clf.predict(X))


def test_pipeline_in_grid_search():
    X, y = load_wine(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier())
    search = GridSearchCV(
        pipe, {"softmaxregressionclassifier__C": [0.01, 1.0, 100.0]}, cv=3, n_jobs=2
    )
    search.fit(X, y)
    assert search.best_score_ > 0.9
    assert search.predict_proba(X).shape == (len(y), 3)
    # The same grid works for LogisticRegression: C means the same thing.
    lr = make_pipeline(StandardScaler(), LogisticRegression())
    lr_search = GridSearchCV(
        lr, {"logisticregression__C": [0.01, 1.0, 100.0]}, cv=3
    ).fit(X, y)
    assert_allclose(
        search.cv_results_["mean_test_score"],
        lr_search.cv_results_["mean_test_score"],
        atol=0.02,
    )


# Bad input: each case names its problem.
X_OK, Y_OK = load_iris(return_X_y=True)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.where(np.eye(150, 4) == 1, np.nan, X_OK), Y_OK, "NaN"),
        (np.where(np.eye(150, 4) == 1, np.inf, X_OK), Y_OK, "infinity"),
        (np.empty((0, 4)), np.empty(0), "0 sample"),
        (np.empty((150, 0)), Y_OK, "0 feature"),
        (X_OK[:, 0], Y_OK, "Expected 2D array"),
        (X_OK, Y_OK[:-1], "inconsistent numbers of samples"),
        (X_OK, X_OK[:, 0], "Unknown label type"),
        (X_OK, np.zeros(150), "at least 2 classes"),
        (X_OK, np.array(["a", None] * 75, dtype=object), "Unknown label type"),
        (X_OK, np.where(np.arange(150) == 7, np.inf, Y_OK), "y contains infinity"),
        (X_OK, None, "requires y to be passed"),
        (X_OK + 1j, Y_OK, "Complex data not supported"),
        (np.full((150, 4), "a"), Y_OK, "could not convert|numeric"),
    ],
    ids=[
        "nan",
        "inf",
        "no-samples",
        "no-features",
        "1d",
        "length",
        "continuous",
        "one-class",
        "none-label",
        "inf-label",
        "no-y",
        "complex",
        "strings",
    ],
)
def test_bad_training_data_is_rejected(X, y, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxRegressionClassifier().fit(X, y)


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (-np.ones(150), "Negative values in data passed to `sample_weight`"),
        (np.zeros(150), "at least one non-zero|at least 2 classes with positive"),
        (np.r_[np.ones(50), np.zeros(100)], "1 class with positive weight"),
        (np.ones(149), "sample_weight.shape"),
        (np.r_[np.ones(149), np.nan], "sample_weight contains NaN or infinity"),
        (np.r_[np.ones(149), np.inf], "sample_weight contains NaN or infinity"),
        # Casting would drop the imaginary parts without a word.
        (np.ones(150) + 1j, "Complex data not supported"),
        (np.ones(150, dtype=complex), "Complex data not supported"),
        (np.array(["1"] * 150, dtype=object), None),
    ],
)
def test_bad_sample_weight_is_rejected(sample_weight, match):
    if match is None:  # strings of numbers: converted, as scikit-learn does
        fit = SoftmaxRegressionClassifier().fit(X_OK, Y_OK, sample_weight=sample_weight)
        unweighted = SoftmaxRegressionClassifier().fit(X_OK, Y_OK)
        assert_allclose(fit.coef_, unweighted.coef_)
        return
    with pytest.raises(ValueError, match=match):
        SoftmaxRegressionClassifier().fit(X_OK, Y_OK, sample_weight=sample_weight)


def test_a_penalty_that_overflows_is_named():
    # C is representable and so are the weights, but 1 / (C * sum) is not.
    with pytest.raises(ValueError, match="1 / \\(C \\* sum\\(sample_weight\\)\\)"):
        SoftmaxRegressionClassifier(C=1e-300).fit(
            X_OK, Y_OK, sample_weight=np.full(150, 1e-12)
        )


@pytest.mark.parametrize("missing", [np.nan, pd.NA], ids=["NaN", "pd.NA"])
def test_missing_labels_among_objects_are_named(missing):
    y = Y_OK.astype(object)
    y[7] = missing
    with pytest.raises(ValueError, match="Input y contains missing values"):
        SoftmaxRegressionClassifier().fit(X_OK, y)
    names = pd.Series(np.array(["a", "b", "c"])[Y_OK], dtype="string")
    names[7] = pd.NA
    with pytest.raises(ValueError, match="Input y contains missing values"):
        SoftmaxRegressionClassifier().fit(X_OK, names)


@pytest.mark.parametrize("weight", [2, 2.0, np.float32(2), np.array(2.0), "2"])
def test_a_scalar_sample_weight_weighs_every_sample(weight):
    # Weight 2 everywhere at C=0.5 is the unweighted fit at C=1 (C * S counts).
    weighted = SoftmaxRegressionClassifier(C=0.5, **TIGHT)
    weighted.fit(X_OK, Y_OK, sample_weight=weight)
    unweighted = SoftmaxRegressionClassifier(C=1.0, **TIGHT).fit(X_OK, Y_OK)
    assert_allclose(weighted.coef_, unweighted.coef_, rtol=1e-6, atol=1e-8)


def test_many_classes_fit_without_a_warning():
    # 100 classes of 4 samples: the classes themselves are all "unique
    # values", which scikit-learn's target check warns about if it is run on
    # them rather than on y.
    rng = np.random.RandomState(0)
    X = rng.randn(400, 5)
    y = np.arange(400) % 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = SoftmaxRegressionClassifier(max_iter=1000).fit(X, y)
    assert clf.coef_.shape == (100, 5)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(C=0), "C must be a positive float"),
        (dict(C=-1.0), "C must be a positive float"),
        (dict(C="1"), "C must be a positive float"),
        (dict(C=1e-310), "C must be at least 5.6e-309"),
        (dict(max_iter=0), "max_iter must be an int >= 1"),
        (dict(max_iter=2.5), "max_iter must be an int >= 1"),
        (dict(tol=-1e-3), "tol must be a finite float >= 0"),
        (dict(fit_intercept="yes"), "fit_intercept must be a bool"),
        (dict(class_weight="auto"), "class_weight must be None"),
        (dict(class_weight={0: -1.0}), "class_weight values must be finite"),
        (
            dict(class_weight={0: 2.0, 5: 1.0}),
            "keys that are not class labels: \\[5\\], and no weight for the "
            "classes \\[1, 2\\]",
        ),
        (dict(warm_start=1), "warm_start must be a bool"),
        (dict(l1_ratio=-0.1), "l1_ratio must be a float in \\[0, 1\\]"),
        (dict(l1_ratio=1.5), "l1_ratio must be a float in \\[0, 1\\]"),
        (dict(l1_ratio=np.nan), "l1_ratio must be a float in \\[0, 1\\]"),
        (dict(l1_ratio="0.5"), "l1_ratio must be a float in \\[0, 1\\]"),
        (dict(label_smoothing=1.0), "label_smoothing must be a float in \\[0, 1\\)"),
        (dict(label_smoothing=-0.1), "label_smoothing must be a float in"),
        (dict(label_smoothing=True), "label_smoothing must be a float in"),
        (dict(verbose=-1), "verbose must be an int >= 0"),
    ],
)
def test_bad_parameters_are_rejected_at_fit(params, match):
    clf = SoftmaxRegressionClassifier(**params)
    assert clf.get_params()[next(iter(params))] is params[next(iter(params))]
    with pytest.raises(ValueError, match=match):
        clf.fit(X_OK, Y_OK)


def test_predict_before_fit_and_wrong_feature_count():
    with pytest.raises(NotFittedError):
        SoftmaxRegressionClassifier().predict(X_OK)
    clf = SoftmaxRegressionClassifier().fit(X_OK, Y_OK)
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
            getattr(clf, method)(X_OK[:, :3])


def test_n_iter_is_an_array_of_one_as_in_logistic_regression():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = SoftmaxRegressionClassifier(max_iter=7).fit(X, y)
        theirs = LogisticRegression(max_iter=7).fit(X, y)
    assert isinstance(ours.n_iter_, np.ndarray)
    assert ours.n_iter_.shape == theirs.n_iter_.shape == (1,)
    assert ours.n_iter_.dtype == theirs.n_iter_.dtype
    assert ours.n_iter_[0] == theirs.n_iter_[0] == 7


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparsify_keeps_predictions_and_densify_restores_coef(n_classes):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[: 50 * n_classes]
    y = y[: 50 * n_classes]
    model = SoftmaxRegressionClassifier(C=0.05, l1_ratio=1.0, max_iter=1000)
    model.fit(X, y)
    dense_coef = model.coef_.copy()
    assert 0 < np.count_nonzero(dense_coef) < dense_coef.size
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    before = {method: getattr(model, method)(X) for method in methods}
    assert model.sparsify() is model
    assert sp.issparse(model.coef_) and model.coef_.format == "csr"
    assert model.coef_.nnz == np.count_nonzero(dense_coef)
    assert_array_equal(model.coef_.toarray(), dense_coef)
    for method in methods:
        for data in (X, sp.csr_matrix(X)):
            assert_allclose(getattr(model, method)(data), before[method], rtol=1e-12)
    # A sparse coef_ survives pickling and warm-starts a fit.
    restored = pickle.loads(pickle.dumps(model))
    assert_allclose(restored.predict_proba(X), before["predict_proba"], rtol=1e-12)
    refit = restored.set_params(warm_start=True).fit(X, y)
    assert not sp.issparse(refit.coef_)
    assert_allclose(refit.coef_, dense_coef, atol=1e-4)
    assert model.densify() is model
    assert isinstance(model.coef_, np.ndarray)
    assert_array_equal(model.coef_, dense_coef)


def test_sparsify_and_densify_need_a_fitted_model():
    for method in ("sparsify", "densify"):
        with pytest.raises(NotFittedError):
            getattr(SoftmaxRegressionClassifier(), method)()


def test_binary_model_with_class_weights_label_smoothing_and_warm_start():
    X, y, ones = breast_cancer()
    C = 0.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below rounding
        balanced = SoftmaxRegressionClassifier(C=C, class_weight="balanced", **TIGHT)
        balanced.fit(X, y)
        smoothed = SoftmaxRegressionClassifier(C=C, label_smoothing=0.1, **TIGHT)
        smoothed.fit(X, y)
    # Class weights: LogisticRegression's at the same C.
    theirs = tight_logistic_regression(C).set_params(class_weight="balanced")
    theirs.fit(X, y)
    assert_allclose(balanced.coef_, theirs.coef_, atol=1e-6)
    assert_allclose(balanced.intercept_, theirs.intercept_, atol=1e-6)
    # Label smoothing (which LogisticRegression lacks): the gradient of the
    # smoothed objective, from its formula, vanishes at the fitted model.
    assert smoothed.coef_.shape == (1, X.shape[1])
    grad_weights, grad_intercept = smooth_gradient(
        smoothed.coef_, smoothed.intercept_, X, y, ones, C, label_smoothing=0.1
    )
    assert np.max(np.abs(grad_weights)) < 1e-7
    assert np.max(np.abs(grad_intercept)) < 1e-7
    # Warm start from a binary model: the refit starts at its optimum.
    warm = SoftmaxRegressionClassifier(C=C, warm_start=True, tol=1e-6).fit(X, y)
    first_coef, first_iterations = warm.coef_.copy(), warm.n_iter_[0]
    warm.fit(X, y)
    assert warm.n_iter_[0] < first_iterations / 5
    assert_allclose(warm.coef_, first_coef, atol=1e-5)


@pytest.mark.parametrize("C", [np.inf, 1.0])
@pytest.mark.parametrize("value", [-1.0, 0.1, 1e3])
def test_a_constant_column_beside_the_intercept_stays_finite(C, value):
    # A constant column duplicates the intercept: its spread about the
    # computed mean is that mean's rounding (4.4e-16 for -1.0), and scaled by
    # it the weight ran to 7e12 without a penalty, float32 predictions to
    # chance. It is held at zero: the same predictions as LogisticRegression,
    # in float32 as in float64.
    rng = np.random.default_rng(109)
    n = 231
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    X = np.c_[X, np.full(n, value)]
    model64 = SoftmaxRegressionClassifier(C=C).fit(X, y)
    model32 = SoftmaxRegressionClassifier(C=C).fit(X.astype(np.float32), y)
    assert model64.coef_[0, 3] == 0.0 and model32.coef_[0, 3] == 0.0
    reference = tight_logistic_regression(C).fit(X[:, :3], y)
    assert_allclose(model64.coef_[:, :3], reference.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(
        model64.predict_proba(X), reference.predict_proba(X[:, :3]), atol=1e-7
    )
    assert_allclose(
        model32.predict_proba(X.astype(np.float32)),
        model64.predict_proba(X),
        atol=1e-4,
    )
