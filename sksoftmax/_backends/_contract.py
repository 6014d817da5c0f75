"""The contract between the back-ends and the rest of the package.

A back-end module has two entry points, ``prepare(X, y, sample_weight,
settings) -> Prepared`` and ``predict(X, model, method)``, and a
:class:`Capabilities` record, ``CAPABILITIES``, that says what else its data
can do: consumers (the CV, inference) read the flags, never which back-end
it is. The data term that ``prepare`` returns is a :class:`DataTerm`; where
``CAPABILITIES.sums_blocks`` it also sums a function over its row blocks
(:class:`BlockData`), and where ``CAPABILITIES.holds_rows`` its rows are in
this process, indexable (:class:`RowData`).
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from .._model import model_rows
from .._settings import FitSettings
from .._validation import class_weights


@runtime_checkable
class DataTerm(Protocol):
    """The training data as the objective reads it, wherever it lives.

    Each member is a weighted sum over the samples, computed where the data
    is; the weights include the class weights. Leaving the context releases
    what the data holds (threads, a cluster's memory, cached device arrays).
    :mod:`sksoftmax._backends` has one implementation per back-end.
    """

    #: Number of samples.
    n_samples: int
    #: Number of features.
    n_features: int
    #: The machine epsilon of X's dtype, in which the products are rounded
    #: (1.2e-7 for float32 X).
    eps: float
    #: Sum of the (raw, not normalised) sample weights.
    weight_sum: float

    def class_totals(self, n_classes: int) -> np.ndarray:
        """Total sample weight of each class, float64, shape (n_classes,)."""

    def weigh_classes(self, class_weight: np.ndarray) -> None:
        """Multiply each sample's weight by ``class_weight`` of its class
        (float64, shape (n_classes,)); ``weight_sum`` follows."""

    def feature_moments(self, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``sum_i s_i x_i`` and ``sum_i s_i (x_i - offset)^2`` with the
        normalised weights s (see :func:`sksoftmax._loss.feature_moments`)."""

    def loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray, label_smoothing: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The data term and its gradient (:func:`sksoftmax._loss.loss_gradient`)."""

    def curvature(
        self, weights: np.ndarray, intercept: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The diagonal of the data term's Hessian about ``offset``
        (:func:`sksoftmax._loss.curvature`)."""

    def __enter__(self) -> "DataTerm": ...

    def __exit__(self, *exc_info: object) -> None:
        """Release what the data holds."""


@runtime_checkable
class BlockData(DataTerm, Protocol):
    """A data term that also runs a function over its row blocks, where they
    are, and sums what it returns (``CAPABILITIES.sums_blocks``): the passes
    that the objective does not make, such as :func:`sksoftmax.inference`'s."""

    def sum_blocks(
        self, function: Callable[..., tuple], coefficients: Any, **kwargs: Any
    ) -> tuple:
        """The sums over the blocks of ``function((X, y_code, sample_weight),
        coefficients, **kwargs)``, with the raw (not normalised) weights, in a
        fixed order."""


@runtime_checkable
class RowData(BlockData, Protocol):
    """A data term whose rows are in this process (``CAPABILITIES.holds_rows``):
    the folds of a cross-validation and the groups of a cluster covariance
    index them."""

    #: The checked features, of shape (n_samples, n_features).
    X: Any
    #: Each sample's class code (its column in the one-hot rows).
    y_code: np.ndarray

    def subset(self, rows: np.ndarray) -> "RowData":
        """The data of the given rows (a copy), with their sample weights as
        given to ``prepare`` (before :meth:`DataTerm.weigh_classes`)."""

    def raw_weight(self) -> np.ndarray:
        """The sample weights, class weights included, not normalised."""


@dataclass(frozen=True)
class Capabilities:
    """What a back-end's data can do beyond the :class:`DataTerm`."""

    #: The input it takes, as messages name it ("a Dask collection").
    input_name: str
    #: Its data terms are :class:`RowData`.
    holds_rows: bool
    #: Its data terms are :class:`BlockData`.
    sums_blocks: bool
    #: :func:`sksoftmax.inference` takes its input.
    takes_inference: bool
    #: Leaving the data term's context frees what it holds (a cluster's
    #: memory); otherwise the data outlives its context, and a pass outside
    #: it runs with BLAS free to use its threads.
    releases_on_exit: bool
    #: ``predict`` checks X itself (lazy input, checked without computing
    #: it); otherwise it reads X as the estimator validated it.
    checks_predict_input: bool


@dataclass(frozen=True)
class FittedOn:
    """What a fitted model records of its training data."""

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


@dataclass(frozen=True)
class Prepared(FittedOn):
    """Checked training data, as a back-end's ``prepare`` returns it."""

    #: The data term the objective reads (a context manager: leave it to
    #: release the data).
    data: DataTerm = dataclasses.field(kw_only=True)

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
