"""Fits and predictions on array API namespaces: array_api_strict and PyTorch.

scikit-learn's own array API checks run in test_common.py; these compare the
fits with the NumPy fit and an independent optimum, and check what a user of
another namespace meets (where the attributes and predictions live, mixed
namespaces, conversion back to NumPy).
"""

import tracemalloc
import warnings

import numpy as np
import pytest
from helpers import TIGHT, assert_is_binary_logistic_regression, breast_cancer
from numpy.testing import assert_allclose, assert_array_equal
from reference import model_objective, newton_optimum, objective, smooth_gradient
from sklearn import config_context
from sklearn.datasets import load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning

import sksoftmax._backends._array_api as array_api
import sksoftmax._namespace as namespaces
from sksoftmax import SoftmaxRegressionClassifier, to_numpy

if not namespaces.dispatch_available():
    pytest.skip(
        "scikit-learn's array API dispatch needs SciPy >= 1.14",
        allow_module_level=True,
    )


def namespace(name):
    """``(xp, device)`` of a namespace under test, skipped where it is missing."""
    if name.startswith("torch"):
        torch = pytest.importorskip("torch")
        if name == "torch_cuda" and not torch.cuda.is_available():
            pytest.skip("no CUDA device here")
        return torch, torch.device("cuda" if name == "torch_cuda" else "cpu")
    strict = pytest.importorskip("array_api_strict")
    # A device other than the default one: nothing may fall back to it.
    return strict, strict.Device("device1")


NAMESPACES = ["array_api_strict", "torch", "torch_cuda"]


def as_xp(array, name, dtype=None):
    xp, device = namespace(name)
    array = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    return xp.asarray(array, device=device)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=500, n_features=8, n_informative=6, n_classes=4, random_state=0
    )
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    return X, y, sample_weight


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"class_weight": "balanced"},
        {"fit_intercept": False},
        {"l1_ratio": 0.5},
        {"label_smoothing": 0.1},
        {
            "l1_ratio": 0.3,
            "penalty_factor": np.linspace(0.0, 3.0, 8),
            "coef_bounds": (-0.2, np.inf),
        },
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_agrees_with_numpy_fit(data, name, params, dtype, monkeypatch):
    # Blocks of 128 rows: four blocks, the last one short.
    monkeypatch.setattr(array_api, "BLOCK_ROWS", 128)
    X, y, sample_weight = data
    X = X.astype(dtype)
    reference = SoftmaxRegressionClassifier(C=0.5, **TIGHT, **params)
    reference.fit(X.astype(np.float64), y, sample_weight=sample_weight)
    clf = SoftmaxRegressionClassifier(C=0.5, **TIGHT, **params)
    with config_context(array_api_dispatch=True):
        clf.fit(
            as_xp(X, name), as_xp(y, name), sample_weight=as_xp(sample_weight, name)
        )
    fitted = to_numpy(clf)
    assert fitted.coef_.dtype == dtype
    values = [
        model_objective(model, X.astype(np.float64), y, sample_weight, 0.5, params)
        for model in (reference, fitted)
    ]
    # float32 data rounds the products to 6e-8 relative.
    assert_allclose(values[1], values[0], rtol=1e-8 if dtype == np.float64 else 1e-6)
    if dtype == np.float64:
        assert_allclose(fitted.coef_, reference.coef_, atol=1e-6)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("C", [np.inf, 0.5])
def test_firth_fit_agrees_with_numpy_fit(data, name, C):
    # Firth's fit reads the data through the back-end's row blocks. (The
    # informative columns: the redundant ones are collinear with them.)
    X, y, sample_weight = data
    X = X[:, :6]
    params = dict(C=C, firth=True, tol=1e-10)
    reference = SoftmaxRegressionClassifier(**params).fit(X, y, sample_weight)
    clf = SoftmaxRegressionClassifier(**params)
    with config_context(array_api_dispatch=True):
        clf.fit(
            as_xp(X, name), as_xp(y, name), sample_weight=as_xp(sample_weight, name)
        )
    fitted = to_numpy(clf)
    assert_allclose(fitted.coef_, reference.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(fitted.intercept_, reference.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", NAMESPACES)
def test_float32_fit_at_weak_regularisation_reaches_float64_optimum(name):
    # Unscaled wine (features from 0.13 to 1680) at C=100: a hard problem, in
    # float32, where only 24 bits carry each product.
    X, y = load_wine(return_X_y=True)
    start = SoftmaxRegressionClassifier(C=100, **TIGHT).fit(X, y)
    optimum = newton_optimum(start.coef_, start.intercept_, X, y, np.ones(len(y)), 100)
    best = objective(*optimum, X, y, np.ones(len(y)), 100)
    # tol=1e-6 is below float32's rounding of the gradient (~1e-5): the fit
    # either says that it did not reach tol or ends where the Newton
    # decrement is at the objective's rounding; either way at the optimum
    # that float32 resolves.
    clf = SoftmaxRegressionClassifier(C=100, tol=1e-6, max_iter=10000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with config_context(array_api_dispatch=True):
            clf.fit(as_xp(X, name, np.float32), as_xp(y, name))
    fitted = to_numpy(clf)
    value = objective(fitted.coef_, fitted.intercept_, X, y, np.ones(len(y)), 100)
    assert value == pytest.approx(best, rel=1e-5)


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("n_features", [3, 20])  # targets recomputed / kept
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_device_kernel_matches_the_direct_formula(
    name, n_features, label_smoothing, monkeypatch
):
    monkeypatch.setattr(array_api, "BLOCK_ROWS", 50)
    rng = np.random.default_rng(1)
    n_samples, n_classes = 230, 5
    X = rng.normal(size=(n_samples, n_features))
    y = rng.integers(0, n_classes, n_samples)
    sample_weight = rng.uniform(0.1, 3.0, n_samples)
    xp, device = namespace(name)
    from array_api_compat import array_namespace

    X_xp = as_xp(X, name)
    data = array_api.ArrayAPIData(
        X_xp, as_xp(y, name), as_xp(sample_weight, name), array_namespace(X_xp), device
    )
    # Calls that may read targets kept from the one before: with the same
    # smoothing, with another, and with the same after the class weights
    # changed.
    class_weight = rng.uniform(0.5, 2.0, n_classes)
    for smoothing, weigh in [
        (label_smoothing, False),
        (label_smoothing, False),
        (0.1, False),
        (0.1, True),
        (label_smoothing, False),
    ]:
        if weigh:
            data.weigh_classes(class_weight)
            sample_weight = sample_weight * class_weight[y]
        weights = rng.normal(size=(n_classes, n_features))
        intercept = rng.normal(size=n_classes)
        loss, grad_weights, grad_intercept = data.loss_gradient(
            weights, intercept, smoothing
        )
        args = (weights, intercept, X, y, sample_weight, np.inf, 0.0, smoothing)
        assert loss == pytest.approx(objective(*args), rel=1e-12)
        expected_weights, expected_intercept = smooth_gradient(*args)
        assert_allclose(grad_weights, expected_weights, rtol=1e-10, atol=1e-14)
        assert_allclose(grad_intercept, expected_intercept, rtol=1e-10, atol=1e-14)
    if name == "array_api_strict":
        # What the data keeps between evaluations (NumPy's memory, which
        # tracemalloc sees) takes no more memory than X: kept targets would
        # with 2 n_classes <= n_features only.
        tracemalloc.start()
        try:
            held = tracemalloc.get_traced_memory()[0]
            with data:
                data.loss_gradient(weights, intercept, 0.3)  # a new smoothing
                kept = tracemalloc.get_traced_memory()[0] - held
        finally:
            tracemalloc.stop()
        assert kept <= X.nbytes


@pytest.mark.parametrize("name", NAMESPACES)
def test_device_curvature_matches_the_direct_formula(name, monkeypatch):
    from array_api_compat import array_namespace
    from reference import curvature as reference_curvature

    monkeypatch.setattr(array_api, "BLOCK_ROWS", 50)
    rng = np.random.default_rng(3)
    n_samples, n_features, n_classes = 230, 7, 5
    X = rng.normal(size=(n_samples, n_features)) + 10.0
    y = rng.integers(0, n_classes, n_samples)
    sample_weight = rng.uniform(0.1, 3.0, n_samples)
    _, device = namespace(name)
    X_xp = as_xp(X, name)
    data = array_api.ArrayAPIData(
        X_xp, as_xp(y, name), as_xp(sample_weight, name), array_namespace(X_xp), device
    )
    weights = rng.normal(size=(n_classes, n_features)) * 0.3
    intercept = rng.normal(size=n_classes)
    offset = X.mean(axis=0)
    by_weight, by_class = data.curvature(weights, intercept, offset)
    expected = reference_curvature(weights, intercept, X, sample_weight, offset)
    assert_allclose(by_weight, expected[0], rtol=1e-10)
    assert_allclose(by_class, expected[1], rtol=1e-10)


def test_float32_sums_without_float64_reach_the_optimum(data, monkeypatch):
    # A device without float64 (Apple's MPS) sums in float32 with Kahan
    # compensation; PyTorch's CPU plays that device here.
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(namespaces, "has_float64", lambda xp, device: False)
    monkeypatch.setattr(array_api, "BLOCK_ROWS", 16)
    X, y, sample_weight = data
    reference = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(X, y, sample_weight)
    clf = SoftmaxRegressionClassifier(C=0.5, **TIGHT)
    with config_context(array_api_dispatch=True):
        clf.fit(
            torch.asarray(X, dtype=torch.float32),
            torch.asarray(y),
            sample_weight=torch.asarray(sample_weight, dtype=torch.float32),
        )
    fitted = to_numpy(clf)
    values = [
        objective(model.coef_, model.intercept_, X, y, sample_weight, 0.5)
        for model in (reference, fitted)
    ]
    assert_allclose(values[1], values[0], rtol=1e-6)


def test_kahan_sum_of_float32_blocks():
    # 20,000 blocks of 0.1 (not a float32 number): a plain float32 running sum
    # drifts by 1e-4 relative; the compensated one stays within float32's
    # rounding of the result.
    torch = pytest.importorskip("torch")
    from array_api_compat import array_namespace

    value = torch.full((3,), 0.1, dtype=torch.float32)
    compensated = array_api.KahanSum(array_namespace(value), torch.float32)
    plain = torch.zeros(3, dtype=torch.float32)
    for _ in range(20_000):
        compensated.add(value)
        plain += value
    exact = 20_000 * np.float64(np.float32(0.1))
    assert abs(plain.numpy()[0] - exact) / exact > 1e-5
    assert_allclose(compensated.numpy(), exact, rtol=1e-7)


@pytest.mark.parametrize("name", NAMESPACES)
def test_attributes_and_predictions_live_where_the_data_does(data, name):
    X, y, _ = data
    X_xp = as_xp(X, name)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier(C=0.5).fit(X_xp, as_xp(y, name))
        for attribute in (clf.coef_, clf.intercept_, clf.classes_):
            assert namespaces.namespace_name(attribute) == namespaces.namespace_name(
                X_xp
            )
            assert attribute.device == X_xp.device
        results = {
            method: getattr(clf, method)(X_xp)
            for method in (
                "predict",
                "predict_proba",
                "predict_log_proba",
                "decision_function",
            )
        }
    host = to_numpy(clf)
    for method, result in results.items():
        assert result.device == X_xp.device
        expected = getattr(host, method)(X)
        assert_allclose(namespaces.as_numpy(result), expected, rtol=1e-12, atol=1e-12)
    # The estimator itself is unchanged by the conversion.
    assert clf.coef_.device == X_xp.device


def test_string_labels_with_torch_features(data):
    torch = pytest.importorskip("torch")
    X, y, _ = data
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    reference = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(X, labels)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(torch.asarray(X), labels)
        predicted = clf.predict(torch.asarray(X))
    # PyTorch has no strings: the classes stay a NumPy array, and so do the
    # predicted labels.
    assert_array_equal(clf.classes_, ["ant", "bee", "cat", "dog"])
    assert_array_equal(predicted, reference.predict(X))
    assert_allclose(clf.coef_.numpy(), reference.coef_, atol=1e-6)


def test_labels_and_weights_follow_the_features(data):
    # y and sample_weight in another namespace, on another device, than X.
    torch = pytest.importorskip("torch")
    X, y, sample_weight = data
    reference = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(X, y, sample_weight)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(
            torch.asarray(X),
            as_xp(y, "array_api_strict"),
            sample_weight=as_xp(sample_weight, "array_api_strict"),
        )
    assert isinstance(clf.coef_, torch.Tensor)
    # At tol=1e-10 both fits run until the objective stops falling (and warn);
    # there the coefficients are fixed to ~1e-5, as on the Dask back-end.
    assert_allclose(clf.coef_.numpy(), reference.coef_, atol=5e-5)


@pytest.mark.parametrize("name", NAMESPACES)
def test_mixed_namespaces_at_predict_time_are_refused(data, name):
    X, y, _ = data
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier().fit(as_xp(X, name), as_xp(y, name))
        for method in ("predict", "predict_proba", "decision_function"):
            with pytest.raises(ValueError, match="must use the same namespace"):
                getattr(clf, method)(X)
    with pytest.raises(ValueError, match="sksoftmax.to_numpy"):
        clf.predict(X)  # dispatch off: the tensors of the fit cannot be used
    assert_array_equal(
        to_numpy(clf).predict(X),
        namespaces.as_numpy(clf.classes_)[
            to_numpy(clf).decision_function(X).argmax(axis=1)
        ],
    )


def test_devices_must_match():
    strict = pytest.importorskip("array_api_strict")
    X, y = make_classification(n_samples=60, n_classes=3, n_informative=4)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier().fit(
            strict.asarray(X, device=strict.Device("device1")), strict.asarray(y)
        )
        with pytest.raises(ValueError, match="Devices used during fit"):
            clf.predict(strict.asarray(X))


def test_without_dispatch_tensors_take_the_numpy_path(data):
    torch = pytest.importorskip("torch")
    X, y, _ = data
    reference = SoftmaxRegressionClassifier(C=0.5).fit(X, y)
    clf = SoftmaxRegressionClassifier(C=0.5).fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(clf.coef_, np.ndarray)
    assert_array_equal(clf.coef_, reference.coef_)
    assert_array_equal(clf.predict_proba(torch.asarray(X)), reference.predict_proba(X))


def test_bad_input_on_a_device_is_refused(data):
    torch = pytest.importorskip("torch")
    X, y, _ = data
    bad = X.copy()
    bad[3, 1] = np.nan
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            SoftmaxRegressionClassifier().fit(torch.asarray(bad), torch.asarray(y))
        with pytest.raises(ValueError, match="Unknown label type: continuous"):
            SoftmaxRegressionClassifier().fit(
                torch.asarray(X), torch.asarray(y + 0.5, dtype=torch.float64)
            )
        with pytest.raises(ValueError, match="Complex data not supported"):
            SoftmaxRegressionClassifier().fit(
                torch.asarray(X),
                torch.asarray(y),
                sample_weight=torch.ones(len(y), dtype=torch.complex64),
            )
        with pytest.raises(ValueError, match="Negative values"):
            SoftmaxRegressionClassifier().fit(
                torch.asarray(X), torch.asarray(y), sample_weight=-torch.ones(len(y))
            )
        with pytest.raises(ValueError, match="sample_weight.shape"):
            SoftmaxRegressionClassifier().fit(
                torch.asarray(X), torch.asarray(y), sample_weight=torch.ones(3)
            )
        with pytest.raises(ValueError, match="only 1 class"):
            SoftmaxRegressionClassifier().fit(
                torch.asarray(X), torch.zeros(len(y), dtype=torch.int64)
            )


def test_warm_start_on_a_device(data):
    torch = pytest.importorskip("torch")
    X, y, _ = data
    with config_context(array_api_dispatch=True):
        # tol=1e-7, which float64 reaches: the warm start converges at once.
        clf = SoftmaxRegressionClassifier(
            C=0.5, warm_start=True, tol=1e-7, max_iter=1000
        )
        clf.fit(torch.asarray(X), torch.asarray(y))
        first = clf.n_iter_
        clf.fit(torch.asarray(X), torch.asarray(y))
    assert first > 10
    assert clf.n_iter_ <= 2


def test_labels_and_weights_in_other_forms(data):
    # What the NumPy path accepts: a number as sample_weight, boolean labels, a
    # column of labels (with scikit-learn's DataConversionWarning).
    torch = pytest.importorskip("torch")
    from sklearn.exceptions import DataConversionWarning

    X, y, _ = data
    X_torch = torch.asarray(X)
    with config_context(array_api_dispatch=True):
        weighted = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(
            X_torch, torch.asarray(y), sample_weight=2.0
        )
        unweighted = SoftmaxRegressionClassifier(C=1.0, **TIGHT).fit(
            X_torch, torch.asarray(y)
        )
        binary = SoftmaxRegressionClassifier().fit(X_torch, torch.asarray(y > 1))
        with pytest.warns(DataConversionWarning, match="column-vector y") as record:
            column = SoftmaxRegressionClassifier().fit(
                X_torch, torch.asarray(y)[:, None]
            )
    assert [w.filename for w in record] == [__file__]  # the caller's line
    # Weight 2 everywhere at C=0.5 is the unweighted fit at C=1 (C * S counts).
    assert_allclose(weighted.coef_.numpy(), unweighted.coef_.numpy(), atol=1e-6)
    assert_array_equal(binary.classes_, [False, True])
    assert_array_equal(column.classes_.numpy(), [0, 1, 2, 3])


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_fit_is_logistic_regression_at_the_same_C(name, weighted):
    X, y, sample_weight = breast_cancer(weighted)
    C = 0.5
    clf = SoftmaxRegressionClassifier(C=C, **TIGHT)
    with config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below rounding
        clf.fit(
            as_xp(X, name), as_xp(y, name), sample_weight=as_xp(sample_weight, name)
        )
        margin = clf.decision_function(as_xp(X, name))
        proba = clf.predict_proba(as_xp(X, name))
    fitted = to_numpy(clf)
    theirs = assert_is_binary_logistic_regression(
        fitted.coef_, fitted.intercept_, X, y, sample_weight, C
    )
    assert tuple(margin.shape) == (X.shape[0],)
    assert_allclose(namespaces.as_numpy(margin), theirs.decision_function(X), atol=1e-5)
    assert_allclose(namespaces.as_numpy(proba), theirs.predict_proba(X), atol=1e-7)
    # sparsify needs NumPy coefficients, and says how to get them.
    with pytest.raises(TypeError, match="to_numpy"):
        clf.sparsify()


@pytest.mark.parametrize("name", NAMESPACES)
def test_path_on_a_device_equals_the_numpy_path(data, name):
    from sksoftmax import softmax_regression_path

    X, y, sample_weight = data
    Cs = [0.01, 1.0, 100.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below rounding
        ours = softmax_regression_path(X, y, Cs, sample_weight=sample_weight, **TIGHT)
        with config_context(array_api_dispatch=True):
            device = softmax_regression_path(
                as_xp(X, name),
                as_xp(y, name),
                Cs,
                sample_weight=as_xp(sample_weight, name),
                **TIGHT,
            )
    xp, _ = namespace(name)
    assert type(device.coefs) is type(xp.asarray([1.0]))
    assert_allclose(namespaces.as_numpy(device.coefs), ours.coefs, atol=5e-6)
    assert_allclose(namespaces.as_numpy(device.intercepts), ours.intercepts, atol=5e-6)
