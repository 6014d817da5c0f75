"""ONNX export (sksoftmax.onnx): graphs run by onnxruntime against
predict_proba and predict, alone and in pipelines, with skl2onnx's options."""

import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV

skl2onnx = pytest.importorskip("skl2onnx", reason="the ONNX tests need the onnx extra")
onnxruntime = pytest.importorskip("onnxruntime")
import sksoftmax.onnx  # noqa: E402, F401  (registers the converters)

#: How closely the graph's probabilities follow predict_proba: float32
#: arithmetic, and float64.
ATOL = {np.float32: 1e-5, np.float64: 1e-10}


def session(model, X, **kwargs):
    onx = skl2onnx.to_onnx(model, X[:1], **kwargs)
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def graph_outputs(model, X, dtype, **kwargs):
    """The graph's labels and probabilities (as a tensor) on X cast to dtype."""
    X = np.asarray(X, dtype=dtype)
    options = {"zipmap": False, **kwargs.pop("options", {})}
    sess = session(model, X, options={id(model): options}, **kwargs)
    return sess.run(None, {sess.get_inputs()[0].name: X})


def assert_graph_is_the_model(model, X, dtype, **kwargs):
    labels, proba = graph_outputs(model, X, dtype, **kwargs)
    X = np.asarray(X, dtype=dtype)
    assert proba.dtype == dtype
    assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL[dtype])
    assert_array_equal(labels, model.predict(X))
    return labels, proba


@pytest.fixture(scope="module")
def seven_classes():
    X, y = make_classification(
        n_samples=3000, n_features=20, n_informative=12, n_classes=7, random_state=0
    )
    # Raw units, for the scaler; not so far from zero that float32 loses the
    # spread of a feature (a float32 scaler's rounding of mean 50 and spread
    # 0.01 moved the probabilities by 1.7e-5, before the classifier).
    X = X * np.logspace(-1, 2, 20) + 5.0
    names = np.array(["ash", "birch", "cedar", "elm", "fir", "oak", "yew"])
    return X, names[y]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seven_string_classes_behind_a_scaler(seven_classes, dtype):
    X, y = seven_classes
    model = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier(C=1.0))
    model.fit(X, y)
    # The pipeline's classifier is found by its type, whatever it is named.
    labels, _ = graph_outputs(model, X, dtype, options={})
    assert labels.dtype == object and set(labels) <= set(model.classes_)
    X = X.astype(dtype)
    _, proba = graph_outputs(model, X, dtype)
    assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL[dtype])
    assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_model(dtype):
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier()).fit(X, y)
    _, proba = assert_graph_is_the_model(model, X, dtype)
    assert proba.shape == (len(y), 2)


@pytest.mark.parametrize("sparsify", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elastic_net_model(dtype, sparsify):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier(C=0.05, l1_ratio=0.7).fit(X, y)
    assert np.any(model.coef_ == 0)
    if sparsify:
        model.sparsify()
    assert_graph_is_the_model(model, X, dtype)


@pytest.mark.parametrize("labels", ["strings", "booleans"])
def test_binary_string_and_boolean_labels(labels):
    X, y = load_breast_cancer(return_X_y=True)
    y = np.array(["benign", "malignant"])[y] if labels == "strings" else y == 1
    model = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier()).fit(X, y)
    graph_labels, _ = assert_graph_is_the_model(model, X, np.float64)
    # Booleans come out as int64, as for scikit-learn's classifiers.
    assert graph_labels.dtype == (object if labels == "strings" else np.int64)


def test_column_transformer_pipeline_on_a_dataframe():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    X, y = load_iris(return_X_y=True, as_frame=True)
    # Names that are valid graph input names as they are.
    X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    rng = np.random.default_rng(0)
    X = X.assign(site=rng.choice(["north", "south", "west"], size=len(y)))
    model = make_pipeline(
        ColumnTransformer(
            [
                ("numbers", StandardScaler(), list(X.columns[:4])),
                ("site", OneHotEncoder(), ["site"]),
            ]
        ),
        SoftmaxRegressionClassifier(C=1.0),
    ).fit(X, y)
    # One graph input per column, as skl2onnx takes a DataFrame.
    sess = session(model, X, options={id(model[-1]): {"zipmap": False}})
    inputs = {
        name: X[name].to_numpy().reshape(-1, 1)
        if X[name].dtype != object
        else X[name].to_numpy().astype(str).reshape(-1, 1)
        for name in X.columns
    }
    labels, proba = sess.run(None, inputs)
    assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL[np.float64])
    assert_array_equal(labels, model.predict(X))
    assert isinstance(pd.Series(labels), pd.Series)


def test_cv_model(seven_classes):
    X, y = seven_classes
    model = make_pipeline(
        StandardScaler(), SoftmaxRegressionCV(Cs=[0.01, 0.1, 1.0], cv=3)
    )
    model.fit(X[:600], y[:600])
    assert_graph_is_the_model(model, X, np.float32)


@pytest.mark.parametrize("target_opset", [13, 18, None])
def test_target_opsets(target_opset):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier().fit(X, y)
    assert_graph_is_the_model(model, X, np.float32, target_opset=target_opset)


def test_zipmap_outputs_as_for_logistic_regression():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    model = SoftmaxRegressionClassifier().fit(X, y)
    default = session(model, X)
    labels, dicts = default.run(None, {"X": X})
    assert_allclose(
        [[row[k] for k in model.classes_] for row in dicts],
        model.predict_proba(X),
        atol=1e-5,
    )
    columns = session(model, X, options={"zipmap": "columns"})
    outputs = columns.run(None, {"X": X})
    assert_allclose(np.column_stack(outputs[1:]), model.predict_proba(X), atol=1e-5)
    # Class indices for labels.
    shifted = SoftmaxRegressionClassifier().fit(X, y + 10)
    indices = session(shifted, X, options={"nocl": True, "zipmap": False})
    assert_array_equal(
        indices.run(None, {"X": X})[0], np.argmax(shifted.predict_proba(X), axis=1)
    )
    y_strings = np.array(["a", "b", "c"])[y]
    named = SoftmaxRegressionClassifier().fit(X, y_strings)
    indices = session(named, X, options={"nocl": True, "zipmap": False})
    assert_array_equal(
        indices.run(None, {"X": X})[0], np.argmax(named.predict_proba(X), axis=1)
    )


def test_softmax_of_huge_net_inputs_stays_finite():
    # Net inputs in the thousands: exp of them overflows, unless the graph
    # subtracts each row's maximum first, as predict_proba does.
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier(C=np.inf, tol=1e-6).fit(X, y)
    X_far = X * 1e3
    assert np.abs(model.decision_function(X_far)).max() > 1e3
    labels, proba = assert_graph_is_the_model(model, X_far, np.float64)
    assert np.all(np.isfinite(proba))
    labels32, proba32 = graph_outputs(model, X_far, np.float32)
    assert np.all(np.isfinite(proba32))


def test_options_that_onnx_cannot_run_are_refused():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier().fit(X, y)
    # ZipMap takes float32 probabilities only.
    with pytest.raises(ValueError, match="with float64 input give"):
        skl2onnx.to_onnx(model, X[:1])
    with pytest.raises(ValueError, match="do not go together"):
        skl2onnx.to_onnx(
            model, X[:1].astype(np.float32), options={"zipmap": "columns", "nocl": True}
        )


def test_labels_beyond_int64_are_refused():
    X, y = load_iris(return_X_y=True)
    big = np.array([0, 1, 2**64 - 1], dtype=np.uint64)[y]
    model = SoftmaxRegressionClassifier().fit(X, big)
    with pytest.raises(ValueError, match="do not fit in it"):
        skl2onnx.to_onnx(model, X[:1].astype(np.float32))


def test_inputs_other_than_floats_are_refused():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier().fit(X, y)
    with pytest.raises(TypeError, match="float32 or float64 input"):
        skl2onnx.to_onnx(model, X[:1].astype(np.int64))


def test_float_labels_come_out_as_int64():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier().fit(X, y.astype(float) + 1.0)
    labels, _ = assert_graph_is_the_model(model, X, np.float64)
    assert labels.dtype == np.int64


def test_a_model_on_another_array_library_must_be_converted_first():
    torch = pytest.importorskip("torch")
    from sklearn import config_context

    X, y = load_iris(return_X_y=True)
    with config_context(array_api_dispatch=True):
        model = SoftmaxRegressionClassifier().fit(torch.asarray(X), torch.asarray(y))
    with pytest.raises(TypeError, match="sksoftmax.to_numpy"):
        skl2onnx.to_onnx(model, X[:1].astype(np.float32))


def test_without_skl2onnx_the_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "sksoftmax.onnx")
    with pytest.raises(ImportError, match=r'pip install "sksoftmax\[onnx\]"'):
        import sksoftmax.onnx  # noqa: F401
