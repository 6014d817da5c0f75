"""Multinomial (softmax) regression for scikit-learn."""

from ._classifier import SoftmaxRegressionClassifier

__version__ = "0.1.0"

__all__ = ["SoftmaxRegressionClassifier", "__version__"]
