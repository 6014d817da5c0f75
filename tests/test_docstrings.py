"""The public docstrings document what exists, and nothing else (numpydoc)."""

import inspect

import pytest

numpydoc = pytest.importorskip("numpydoc", reason="needs numpydoc (test extra)")
from numpydoc.docscrape import ClassDoc  # noqa: E402
from numpydoc.validate import validate  # noqa: E402

import sksoftmax  # noqa: E402
from sksoftmax import SoftmaxRegressionClassifier, SoftmaxRegressionCV  # noqa: E402

METHODS = ["fit", "predict", "predict_proba", "predict_log_proba", "decision_function"]
ESTIMATORS = ["SoftmaxRegressionClassifier", "SoftmaxRegressionCV"]
PUBLIC = [
    *(f"sksoftmax.{estimator}" for estimator in ESTIMATORS),
    *(
        f"sksoftmax.{estimator}.{name}"
        for estimator in ESTIMATORS
        for name in [*METHODS, "sparsify", "densify"]
    ),
    "sksoftmax.SoftmaxRegressionCV.score",
    "sksoftmax.SoftmaxRegressionCV.get_metadata_routing",
    "sksoftmax.softmax_regression_path",
    "sksoftmax.to_numpy",
    "sksoftmax.inference",
    # (InferenceResult's constructor is inference's: its fields are
    # documented as Attributes, not as Parameters.)
    "sksoftmax.InferenceResult.conf_int",
    "sksoftmax.InferenceResult.summary",
    "sksoftmax.InferenceResult.get_margeff",
    "sksoftmax.InferenceResult.get_prediction",
    "sksoftmax.InferenceResult.wald_test",
    "sksoftmax.InferenceResult.wald_test_terms",
    "sksoftmax.InferenceResult.lr_test_terms",
    "sksoftmax.MarginalEffects.conf_int",
    "sksoftmax.MarginalEffects.summary_frame",
    "sksoftmax.PredictionResult.conf_int",
    "sksoftmax.PredictionResult.summary_frame",
    "sksoftmax.CoefficientDisplay",
    "sksoftmax.CoefficientDisplay.from_result",
    "sksoftmax.CoefficientDisplay.plot",
    "sksoftmax.MarginalEffectsDisplay",
    "sksoftmax.MarginalEffectsDisplay.from_result",
    "sksoftmax.MarginalEffectsDisplay.plot",
]
# numpydoc's codes: GL08 no docstring, SS01 no summary, PR01 a parameter not
# documented, PR02 a documented parameter that does not exist, PR03 the wrong
# order, PR07/PR10 a parameter without a description / a malformed type, RT01
# no Returns section, RT03 a return value without a description, YD01 no
# Yields section.
CHECKS = {"GL08", "SS01", "PR01", "PR02", "PR03", "PR07", "PR10", "RT01", "RT03"}


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_documents_the_signature(name):
    errors = [
        f"{code}: {message}"
        for code, message in validate(name)["errors"]
        if code in CHECKS
    ]
    assert errors == []


@pytest.mark.parametrize(
    "name", [*ESTIMATORS, "softmax_regression_path", "to_numpy", "inference"]
)
def test_public_names_have_examples(name):
    # The Examples sections run as doctests (pytest --doctest-modules).
    assert "Examples" in getattr(sksoftmax, name).__doc__
    assert ">>>" in getattr(sksoftmax, name).__doc__.split("Examples")[1]


@pytest.mark.parametrize(
    "estimator", [SoftmaxRegressionClassifier(), SoftmaxRegressionCV(Cs=3)]
)
def test_attributes_section_lists_exactly_the_fitted_attributes(estimator):
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame)  # string column names: feature_names_in_
    estimator.fit(X, y)
    fitted = {
        name
        for name in vars(estimator)
        if name.endswith("_") and not name.startswith("_")
    }
    documented = {item.name for item in ClassDoc(type(estimator))["Attributes"]}
    assert documented == fitted


def test_parameters_section_lists_exactly_the_parameters():
    documented = [
        item.name for item in ClassDoc(SoftmaxRegressionClassifier)["Parameters"]
    ]
    assert documented == list(inspect.signature(SoftmaxRegressionClassifier).parameters)
    assert set(documented) == set(SoftmaxRegressionClassifier().get_params())
