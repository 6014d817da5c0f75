"""Multinomial (softmax) regression for scikit-learn."""

from ._backends._array_api import to_numpy
from ._classifier import SoftmaxRegressionClassifier
from ._cv import SoftmaxRegressionCV
from ._inference import InferenceResult, inference
from ._path import SoftmaxPath, softmax_regression_path

__version__ = "0.1.0"

__all__ = [
    "InferenceResult",
    "SoftmaxPath",
    "SoftmaxRegressionCV",
    "SoftmaxRegressionClassifier",
    "inference",
    "softmax_regression_path",
    "to_numpy",
    "__version__",
]
