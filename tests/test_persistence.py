"""Saving and loading models: pickle and joblib with the sksoftmax version
stamped, skops with the trusted types that the docs list."""

import io
import pickle
import re
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sksoftmax
from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV
from sksoftmax.exceptions import InconsistentVersionWarning

DOCS = Path(__file__).parents[1] / "docs" / "persistence.rst"


def iris_models():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return X, {
        "classifier": SoftmaxRegressionClassifier().fit(X, y),
        "string labels in a pipeline": make_pipeline(
            StandardScaler(), SoftmaxRegressionClassifier(C=0.5)
        ).fit(X, names),
        "cv": SoftmaxRegressionCV(Cs=[0.1, 1.0, 10.0], cv=3).fit(X, names),
        "controls": SoftmaxRegressionClassifier(
            penalty_factor={0: 0.0}, coef_bounds=(np.full(4, -1.0), 2.0)
        ).fit(X, y),
    }


def test_pickle_round_trip_at_the_same_version_is_silent():
    X, models = iris_models()
    for model in models.values():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            restored = pickle.loads(pickle.dumps(model))
        assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
        assert not hasattr(
            restored[-1] if hasattr(restored, "steps") else restored,
            "_sksoftmax_version",
        )


def test_a_model_saved_by_another_version_warns_on_load(monkeypatch):
    X, models = iris_models()
    model = models["classifier"]
    monkeypatch.setattr(sksoftmax._version, "__version__", "0.0.1")
    saved = io.BytesIO()
    joblib.dump(model, saved)
    monkeypatch.undo()
    saved.seek(0)
    with pytest.warns(InconsistentVersionWarning) as record:
        restored = joblib.load(saved)
    (warning,) = record
    assert issubclass(warning.category, SklearnVersionWarning)
    assert warning.message.saved_version == "0.0.1"
    assert warning.message.current_version == sksoftmax.__version__
    current = re.escape(sksoftmax.__version__)
    assert re.search(
        rf"saved by sksoftmax 0\.0\.1 with sksoftmax {current}", str(warning.message)
    )
    # It still loads, as scikit-learn's models do.
    assert_array_equal(restored.predict(X), model.predict(X))


def test_a_model_saved_without_a_stamp_warns_on_load():
    X, models = iris_models()
    model = models["classifier"]
    state = model.__getstate__()
    assert state.pop("_sksoftmax_version") == sksoftmax.__version__
    unstamped = SoftmaxRegressionClassifier.__new__(SoftmaxRegressionClassifier)
    with pytest.warns(InconsistentVersionWarning, match="did not record itself"):
        unstamped.__setstate__(state)
    assert_array_equal(unstamped.predict(X), model.predict(X))


def test_pickles_name_the_public_path():
    X, models = iris_models()
    for model in (models["classifier"], models["cv"]):
        assert type(model).__module__ == "sksoftmax"
        assert b"sksoftmax._" not in pickle.dumps(model)


def documented_trusted_types():
    """The trusted= list that the persistence page gives for skops."""
    text = DOCS.read_text()
    block = re.search(r"trusted = \[(.*?)\]", text, flags=re.DOTALL)
    assert block, "docs/persistence.rst gives no trusted = [...] list"
    return sorted(re.findall(r'"([\w.]+)"', block.group(1)))


def test_skops_round_trip_with_the_documented_trusted_types():
    sio = pytest.importorskip("skops.io")
    X, models = iris_models()
    trusted = documented_trusted_types()
    assert trusted == [
        "sksoftmax.SoftmaxRegressionCV",
        "sksoftmax.SoftmaxRegressionClassifier",
    ]
    for name, model in models.items():
        data = sio.dumps(model)
        assert set(sio.get_untrusted_types(data=data)) <= set(trusted), name
        restored = sio.loads(data, trusted=trusted)
        assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
        assert_array_equal(restored.predict(X), model.predict(X))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(sio.dumps(models["classifier"]))
    # As the docs say, a splitter object adds its class.
    from sklearn.model_selection import StratifiedKFold

    _, y = load_iris(return_X_y=True)
    splitter = SoftmaxRegressionCV(Cs=[1.0], cv=StratifiedKFold(3)).fit(X, y)
    assert set(sio.get_untrusted_types(data=sio.dumps(splitter))) - set(trusted) == {
        "sklearn.model_selection._split.StratifiedKFold"
    }


def test_skops_round_trip_of_a_sparsified_model():
    sio = pytest.importorskip("skops.io")
    X, y = load_iris(return_X_y=True)
    model = SoftmaxRegressionClassifier(C=0.05, l1_ratio=1.0).fit(X, y).sparsify()
    data = sio.dumps(model)
    restored = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
