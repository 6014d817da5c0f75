"""Multinomial (softmax) regression for scikit-learn."""

from ._backends._array_api import to_numpy
from ._classifier import SoftmaxRegressionClassifier

__version__ = "0.1.0"

__all__ = ["SoftmaxRegressionClassifier", "to_numpy", "__version__"]
