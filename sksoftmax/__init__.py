"""Multinomial (softmax) regression for scikit-learn."""

from ._classifier import SoftmaxRegressionClassifier
from ._cv import SoftmaxRegressionCV
from ._inference import inference
from ._inference_result import InferenceResult, PredictionResult, WaldTestResult
from ._margins import MarginalEffects
from ._namespace import to_numpy
from ._path import SoftmaxPath, softmax_regression_path
from ._plot import CoefficientDisplay, MarginalEffectsDisplay
from ._version import __version__

# The estimators' public path: pickles and skops files name the classes
# sksoftmax.SoftmaxRegressionClassifier, the name a user trusts, not the
# private module that defines them (files that name the private module still
# load).
SoftmaxRegressionClassifier.__module__ = "sksoftmax"
SoftmaxRegressionCV.__module__ = "sksoftmax"

__all__ = [
    "CoefficientDisplay",
    "InferenceResult",
    "MarginalEffects",
    "MarginalEffectsDisplay",
    "PredictionResult",
    "SoftmaxPath",
    "SoftmaxRegressionCV",
    "SoftmaxRegressionClassifier",
    "WaldTestResult",
    "inference",
    "softmax_regression_path",
    "to_numpy",
    "__version__",
]
