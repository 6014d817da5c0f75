"""The NumPy/SciPy back-end: dense arrays and CSR matrices in this process."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from sklearn.utils.validation import _get_feature_names, check_array

from .._loss import (
    DenseOrCSR,
    curvature,
    feature_moments,
    log_softmax,
    loss_gradient,
    predict_blocks,
    softmax,
    two_class_margin,
)
from .._settings import FitSettings
from .._threads import SERIAL, Threads, kernel_threads
from .._validation import encode_labels, sample_weight_array
from ._contract import Capabilities, FittedModel, Prepared, RowData, weigh_classes

#: NumPy arrays and SciPy sparse matrices in this process.
CAPABILITIES = Capabilities(
    input_name="NumPy, pandas or SciPy sparse input",
    holds_rows=True,
    sums_blocks=True,
    takes_inference=True,
    releases_on_exit=False,
    checks_predict_input=False,
)


class InMemoryData:
    """Training data held in this process, as the objective reads it
    (a :class:`sksoftmax._backends._contract.DataTerm`).

    Inside its context BLAS runs on one thread and the loss kernel shares its
    blocks among threads that the data owns
    (:func:`sksoftmax._threads.kernel_threads`); outside, it runs in the
    calling thread.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Training data, float32 or float64; never modified or copied.
    y_code : ndarray of shape (n_samples,)
        Column index of the one in each one-hot target row.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative sample weights with a positive sum (not normalised).
    """

    def __init__(
        self, X: DenseOrCSR, y_code: np.ndarray, sample_weight: np.ndarray
    ) -> None:
        self.X = X
        self.y_code = y_code
        self.n_samples, self.n_features = X.shape
        self.eps = float(np.finfo(X.dtype).eps)
        self._set_weights(sample_weight)
        self._unweighted = sample_weight
        self.threads = SERIAL
        self._pool: AbstractContextManager[Threads] | None = None

    def _set_weights(self, sample_weight: np.ndarray) -> None:
        # The raw weights stay for the class totals, and a zero or infinite
        # sum passes quietly: the class-weight check, which prepare runs next,
        # says what is wrong with it.
        self._raw_weight = sample_weight
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.weight_sum = float(sample_weight.sum())
            self.sample_weight = sample_weight / self.weight_sum

    def __enter__(self) -> "InMemoryData":
        self._pool = kernel_threads()
        self.threads = self._pool.__enter__()
        return self

    # (Any: the with statement's exception, handed on to the pool's __exit__.)
    def __exit__(self, *exc_info: Any) -> None:
        self.threads = SERIAL
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.__exit__(*exc_info)

    def subset(self, rows: np.ndarray) -> "InMemoryData":
        """The data of the given rows (a copy), with their sample weights as
        given to the constructor (before :meth:`weigh_classes`)."""
        return InMemoryData(self.X[rows], self.y_code[rows], self._unweighted[rows])

    def raw_weight(self) -> np.ndarray:
        return self._raw_weight

    def weigh_classes(self, class_weight: np.ndarray) -> None:
        """Multiply each sample weight by the weight of its class."""
        self._set_weights(self._raw_weight * class_weight[self.y_code])

    def class_totals(self, n_classes: int) -> np.ndarray:
        return np.bincount(self.y_code, weights=self._raw_weight, minlength=n_classes)

    def feature_moments(self, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return feature_moments(self.X, self.sample_weight, offset)

    def sum_blocks(
        self, function: Callable[..., tuple], coefficients: Any, **kwargs: Any
    ) -> tuple:
        """``function((X, y_code, sample_weight), coefficients, **kwargs)``
        over all the rows at once, with the raw (not normalised) weights:
        the one block of data in this process (see
        :meth:`sksoftmax._backends._dask.DaskData.sum_blocks`)."""
        block = (self.X, self.y_code, self._raw_weight)
        return function(block, coefficients, **kwargs)

    def loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray, label_smoothing: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        return loss_gradient(
            weights,
            intercept,
            self.X,
            self.y_code,
            self.sample_weight,
            label_smoothing=label_smoothing,
            threads=self.threads,
        )

    def curvature(
        self, weights: np.ndarray, intercept: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return curvature(
            weights,
            intercept,
            self.X,
            self.sample_weight,
            offset,
            threads=self.threads,
        )


def prepare(X: Any, y: Any, sample_weight: Any, settings: FitSettings) -> Prepared:
    """Checked in-memory training data (see :mod:`sksoftmax._backends`)."""
    feature_names = _get_feature_names(X)
    X = check_array(
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        estimator=settings.estimator,
        input_name="X",
    )
    classes, y_code = encode_labels(y, X.shape[0], settings.estimator)
    data: RowData = InMemoryData(
        X, y_code, sample_weight_array(sample_weight, X.shape[0])
    )
    weigh_classes(data, settings, classes)
    return Prepared(classes, X.dtype, X.shape[1], feature_names, data=data)


def predict(X: DenseOrCSR, model: FittedModel, method: str) -> np.ndarray:
    """``method`` on validated X, in row blocks (:func:`predict_blocks`)."""
    n_samples, n_classes = X.shape[0], len(model.classes)
    if method == "predict":
        codes = np.empty(n_samples, dtype=np.intp)
        predict_blocks(X, model.coef, model.intercept, codes, _argmax)
        return model.classes[codes]
    if method == "decision_function" and n_classes == 2:
        margin = np.empty(n_samples, dtype=X.dtype)
        return predict_blocks(X, model.coef, model.intercept, margin, two_class_margin)
    transform = {"predict_proba": softmax, "predict_log_proba": log_softmax}
    scores = np.empty((n_samples, n_classes), dtype=X.dtype)
    return predict_blocks(X, model.coef, model.intercept, scores, transform.get(method))


def _argmax(Z: np.ndarray) -> np.ndarray:
    return Z.argmax(axis=1)
