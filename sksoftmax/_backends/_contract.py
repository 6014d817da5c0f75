"""The records and the one rule that every back-end shares."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._objective import DataTerm, model_rows
from .._settings import FitSettings
from .._validation import class_weights


@dataclass(frozen=True)
class Prepared:
    """Checked training data, as a back-end's ``prepare`` returns it."""

    #: The data term the objective reads (a context manager: leave it to
    #: release the data); None where only the fitted model's bookkeeping is
    #: wanted (a model fitted elsewhere, such as a point of a CV path).
    data: DataTerm | None
    #: The sorted class labels, a NumPy array.
    classes: np.ndarray
    #: float32 or float64: the dtype of X, and of the fitted coefficients.
    dtype: np.dtype
    #: Number of features of X.
    n_features_in: int
    #: The string column names of X, or None.
    feature_names_in: np.ndarray | None
    #: Moves a fitted NumPy array where the data lives (the identity on the
    #: host; the input's namespace and device under array API dispatch).
    to_fitted: Callable[[np.ndarray], Any] = lambda array: array

    def resolve(self, settings: FitSettings) -> FitSettings:
        """``settings`` resolved against these data (their features, their
        names and the model's rows): :meth:`FitSettings.resolve`."""
        return settings.resolve(
            self.n_features_in, self.feature_names_in, model_rows(len(self.classes))
        )


class FittedModel(NamedTuple):
    """What a back-end's ``predict`` reads of a fitted estimator."""

    coef: Any
    intercept: Any
    classes: Any
    n_features_in: int
    feature_names_in: np.ndarray | None


def weigh_classes(data: DataTerm, settings: FitSettings, classes: np.ndarray) -> None:
    """Multiply the sample weights of ``data`` by the weights of their classes
    (the ``class_weight`` setting, checked against the class totals)."""
    weight = class_weights(
        settings.class_weight,
        classes,
        data.class_totals(len(classes)),
        settings.estimator,
    )
    if np.any(weight != 1.0):
        data.weigh_classes(weight)
