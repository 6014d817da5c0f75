"""Fits and predictions in the namespace, and on the device, of the input.

With scikit-learn's ``array_api_dispatch`` on (``sklearn.set_config`` or
``config_context``), an array of another library that follows the Array API
standard (a PyTorch tensor on the CPU or a GPU, a CuPy array, an
``array_api_strict`` array) stays where it is. The training data is checked,
its labels encoded and the loss and gradient computed in the array's namespace
on its device; SciPy's L-BFGS-B runs on the host, so each evaluation sends the
coefficients to the device and brings the loss and gradient back, nothing
else. The fitted ``coef_`` and ``intercept_`` (and ``classes_``, when the
labels are numbers) are arrays of that namespace on that device, and so are the
predictions. NumPy input, or dispatch off, takes the NumPy code unchanged.

Precision
---------
The products ``X W^T`` and ``R^T X`` run in the dtype of X, in row blocks of
:data:`BLOCK_ROWS`. The net inputs are then cast to float64 for the softmax and
the loss, and the blocks' gradients are added in float64, as the NumPy kernel
does. On a device without float64 (Apple's MPS) those sums are float32 with
Kahan compensation across the blocks, so that float32 fits still reach the
float64 optimum to float32 precision.

The namespace utilities are :mod:`sksoftmax._namespace`'s.
"""

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
from sklearn.utils.validation import _get_feature_names, check_array

from .._loss import (
    MAX_BLOCK_NET_INPUTS,
    iter_blocks,
    log_softmax,
    softmax,
    two_class_margin,
)
from .._namespace import (
    _is_array,
    as_numpy,
    dispatch_namespace,
    move_to,
    namespace_name,
    sum_dtype,
    to_device,
)
from .._settings import FitSettings
from .._validation import (
    check_labels_shape,
    check_not_complex,
    check_sample_weight_shape,
    check_sample_weight_values,
    check_y_given,
    classes_of,
    encode_labels,
    sample_weight_array,
    warn_column_vector,
)
from ._contract import Capabilities, FittedModel, Prepared, weigh_classes

#: Rows per block of the device kernel, at most. Large blocks keep a GPU busy
#: with few kernel launches (a block takes about 30); a block's float32
#: products are summed by the matrix multiplication over at most this many rows
#: before the float64 sum. Blocks are also kept to MAX_BLOCK_NET_INPUTS net
#: inputs, so that the float64 temporaries of a block stay near 128 MB each.
BLOCK_ROWS = 1 << 20
#: Arrays of another library, on their device.
CAPABILITIES = Capabilities(
    input_name="an array of another library under array API dispatch",
    holds_rows=False,
    sums_blocks=True,
    takes_inference=False,
    releases_on_exit=True,
    checks_predict_input=False,
)

# The arrays here are of the input's library, on its device, hence Any; so are
# the namespace ``xp`` (array-api-compat's module, or the library's own), its
# device and its dtypes.


def _blocks(n_samples: int, n_columns: int = 1) -> Iterator[slice]:
    """Row slices of the blocks, for temporaries of ``n_columns`` per row."""
    size = max(1, min(BLOCK_ROWS, MAX_BLOCK_NET_INPUTS // n_columns))
    return iter_blocks(n_samples, size)


class KahanSum:
    """A running sum of device arrays, in float64 where the device has it, else
    in float32 with Kahan compensation."""

    def __init__(self, xp: Any, dtype: Any) -> None:
        self.xp, self.dtype = xp, dtype
        self.total = self.compensation = None

    def add(self, value: Any) -> None:
        xp = self.xp
        value = xp.astype(value, self.dtype)
        if self.total is None:
            self.total = value
            self.compensation = None if self.dtype == xp.float64 else value * 0
        elif self.compensation is None:
            self.total = self.total + value
        else:
            corrected = value - self.compensation
            total = self.total + corrected
            self.compensation = (total - self.total) - corrected
            self.total = total

    def numpy(self) -> np.ndarray:
        return as_numpy(self.total).astype(np.float64)


class ArrayAPIData:
    """Training data on a device, as the objective reads it.

    A :class:`sksoftmax._backends._contract.DataTerm` whose sums are computed in the
    namespace ``xp`` of X on its device; leaving its context drops the cached
    weighted targets.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        float32 or float64, in namespace ``xp`` on ``device``.
    y_code : integer array of shape (n_samples,)
        Class codes, in ``xp`` on ``device``.
    sample_weight : array of shape (n_samples,)
        Non-negative weights with a positive sum, in ``xp`` on ``device``.
    xp, device
        The namespace and device of the three.
    """

    def __init__(
        self, X: Any, y_code: Any, sample_weight: Any, xp: Any, device: Any
    ) -> None:
        self.X, self.y_code, self.xp, self.device = X, y_code, xp, device
        self.n_samples, self.n_features = X.shape
        self.eps = float(xp.finfo(X.dtype).eps)
        self.sum_dtype = sum_dtype(xp, device)
        self._set_weights(xp.astype(sample_weight, self.sum_dtype))

    def _set_weights(self, sample_weight: Any) -> None:
        xp = self.xp
        self._raw_weight = sample_weight
        self.weight_sum = float(xp.sum(sample_weight))
        # Normalised weights: in the sum dtype for the loss, in X's for products.
        self.sample_weight = sample_weight / self.weight_sum
        self._weight_X = xp.astype(self.sample_weight, self.X.dtype)
        self._targets: dict[tuple[int, float], list[tuple[slice, Any]]] = {}

    def __enter__(self) -> "ArrayAPIData":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._targets = {}

    def sum_blocks(
        self, function: Callable[..., tuple], coefficients: Any, **kwargs: Any
    ) -> tuple:
        """``function((X, y_code, sample_weight), coefficients, **kwargs)``
        summed over the row blocks, each copied to NumPy (the Newton finish's
        Hessian: :mod:`sksoftmax._newton`), with the raw weights."""
        total: list[Any] | None = None
        for rows in _blocks(self.n_samples, self.n_features):
            block = (
                as_numpy(self.X[rows, :]),
                as_numpy(self.y_code[rows]),
                as_numpy(self._raw_weight[rows]).astype(np.float64),
            )
            parts = function(block, coefficients, **kwargs)
            total = (
                list(parts)
                if total is None
                else [a + b for a, b in zip(total, parts, strict=True)]
            )
        assert total is not None  # at least one block
        return tuple(total)

    def weigh_classes(self, class_weight: np.ndarray) -> None:
        """Multiply each sample weight by the weight of its class."""
        xp = self.xp
        class_weight = xp.asarray(
            class_weight, dtype=self.sum_dtype, device=self.device
        )
        self._set_weights(self._raw_weight * xp.take(class_weight, self.y_code))

    def class_totals(self, n_classes: int) -> np.ndarray:
        xp = self.xp
        codes = xp.arange(n_classes, device=self.device)
        total = KahanSum(xp, self.sum_dtype)
        for rows in _blocks(self.y_code.shape[0], n_classes):
            one_hot = xp.astype(self.y_code[rows][:, None] == codes, self.sum_dtype)
            total.add(self.sample_weight[rows] @ one_hot)
        return self.weight_sum * total.numpy()

    def feature_moments(self, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xp, X = self.xp, self.X
        # Cast on the host: a device may have no float64 at all.
        offset_X = xp.asarray(offset, dtype=X.dtype, device=self.device)
        first = KahanSum(xp, self.sum_dtype)
        second = KahanSum(xp, self.sum_dtype)
        for rows in _blocks(X.shape[0], self.n_features):
            X_block, weight = X[rows, :], self._weight_X[rows]
            centred = X_block - offset_X
            first.add(weight @ X_block)
            second.add(weight @ (centred * centred))
        return first.numpy(), second.numpy()

    def _weighted_targets(
        self, n_classes: int, label_smoothing: float
    ) -> Iterator[tuple[slice, Any]]:
        """``(rows, s * T)`` of each block: the target rows T times the sample
        weights s. Kept for the next evaluations where they take no more
        memory than X (they save three passes over each block's net inputs)."""
        key = (n_classes, label_smoothing)
        if key in self._targets:
            yield from self._targets[key]
            return
        xp = self.xp
        n_samples = self.X.shape[0]
        # float64 targets take no more memory than float32 features:
        keep = 2 * n_classes <= self.n_features
        codes = xp.arange(n_classes, device=self.device)
        blocks = []
        for rows in _blocks(n_samples, n_classes):
            T = xp.astype(self.y_code[rows][:, None] == codes, self.sum_dtype)
            if label_smoothing:
                T = (1.0 - label_smoothing) * T + label_smoothing / n_classes
            targets = T * self.sample_weight[rows][:, None]
            if keep:
                blocks.append((rows, targets))
            yield rows, targets
        if keep:
            self._targets = {key: blocks}

    def _coefficients(
        self, weights: np.ndarray, intercept: np.ndarray
    ) -> tuple[Any, Any]:
        """Weights and intercepts on the device, in X's dtype (cast on the
        host: a device may have no float64 at all)."""
        xp, dtype, device = self.xp, self.X.dtype, self.device
        return (
            xp.asarray(weights, dtype=dtype, device=device),
            xp.asarray(intercept, dtype=dtype, device=device),
        )

    def loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray, label_smoothing: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The data term and its gradient, as
        :func:`sksoftmax._loss.loss_gradient` computes them, on the device."""
        xp, X = self.xp, self.X
        n_classes = weights.shape[0]
        W, b = self._coefficients(weights, intercept)
        loss = KahanSum(xp, self.sum_dtype)
        grad_weights = KahanSum(xp, self.sum_dtype)
        grad_intercept = KahanSum(xp, self.sum_dtype)
        for rows, targets in self._weighted_targets(n_classes, label_smoothing):
            X_block = X[rows, :]
            Z = xp.astype(X_block @ W.T + b, self.sum_dtype)
            Z = Z - xp.max(Z, axis=1, keepdims=True)
            E = xp.exp(Z)
            norm = xp.sum(E, axis=1)
            weight = self.sample_weight[rows]
            # s * (logsumexp(Z) - T.Z), with Z shifted by its row maximum (the
            # targets T sum to one); ``targets`` is s * T.
            loss.add(xp.sum(weight * xp.log(norm)) - xp.sum(targets * Z))
            residual = E * (weight / norm)[:, None] - targets
            grad_intercept.add(xp.sum(residual, axis=0))
            grad_weights.add(xp.astype(residual, X.dtype).T @ X_block)
        return (
            float(loss.numpy()),
            grad_weights.numpy(),
            grad_intercept.numpy(),
        )

    def curvature(
        self, weights: np.ndarray, intercept: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The diagonal of the data term's Hessian, as
        :func:`sksoftmax._loss.curvature` computes it, on the device."""
        xp, X = self.xp, self.X
        n_classes = weights.shape[0]
        W, b = self._coefficients(weights, intercept)
        offset_X = xp.asarray(offset, dtype=X.dtype, device=self.device)
        by_weight = KahanSum(xp, self.sum_dtype)
        by_class = KahanSum(xp, self.sum_dtype)
        for rows in _blocks(X.shape[0], max(n_classes, self.n_features)):
            X_block = X[rows, :]
            Z = xp.astype(X_block @ W.T + b, self.sum_dtype)
            Z = Z - xp.max(Z, axis=1, keepdims=True)
            P = xp.exp(Z)
            P = P / xp.sum(P, axis=1, keepdims=True)
            Q = P * (1.0 - P) * self.sample_weight[rows][:, None]
            by_class.add(xp.sum(Q, axis=0))
            centred = X_block - offset_X
            by_weight.add(xp.astype(Q, X.dtype).T @ (centred * centred))
        return by_weight.numpy(), by_class.numpy()


def _labels_on_device(
    y: Any, xp: Any, device: Any, n_samples: int, estimator: str
) -> tuple[np.ndarray, Any]:
    """Classes (NumPy) and codes (on the device) of labels of a non-NumPy
    namespace, encoded on the device."""
    y = move_to(y, xp, device)
    if warn_column_vector(tuple(y.shape)):
        y = xp.reshape(y, (-1,))
    check_labels_shape(tuple(y.shape), n_samples)
    classes = classes_of(as_numpy(xp.unique_values(y)), estimator)
    return classes, xp.searchsorted(xp.asarray(classes, device=device), y)


def _sample_weight_on_device(
    sample_weight: Any, xp: Any, device: Any, n_samples: int
) -> Any:
    """Sample weights on the device, checked by the rules on the host.

    Weights in memory (and a scalar) take the host's path; weights of a device
    namespace stay on the device, and what the rules need of them (the
    extremes, whether all are finite) is computed there."""
    on_device = _is_array(sample_weight) and namespace_name(sample_weight) != "numpy"
    if not on_device or sample_weight.ndim == 0:
        weight = sample_weight_array(as_numpy(sample_weight), n_samples)
        return xp.asarray(weight, dtype=sum_dtype(xp, device), device=device)
    weight = move_to(sample_weight, xp, device)
    check_sample_weight_shape(tuple(weight.shape), n_samples)
    check_not_complex(xp.isdtype(weight.dtype, "complex floating"), "sample_weight")
    weight = xp.astype(weight, sum_dtype(xp, device))
    check_sample_weight_values(
        float(xp.min(weight)), float(xp.max(weight)), bool(xp.all(xp.isfinite(weight)))
    )
    return weight


def prepare(X: Any, y: Any, sample_weight: Any, settings: FitSettings) -> Prepared:
    """Checked training data on the device of X (see :mod:`sksoftmax._backends`).

    Labels of a non-NumPy namespace (on any device) are moved to X's device
    and encoded there; NumPy labels, which may be strings, are encoded on the
    host. ``y`` and ``sample_weight`` may come from other namespaces or
    devices than X: they follow X.
    """
    namespace = dispatch_namespace(X)
    assert namespace is not None  # why backend_for chose this back-end
    xp, device = namespace
    feature_names = _get_feature_names(X)
    X = check_array(
        X, dtype=[xp.float64, xp.float32], estimator=settings.estimator, input_name="X"
    )
    n_samples = X.shape[0]
    check_y_given(y, settings.estimator)
    if _is_array(y) and namespace_name(y) != "numpy" and y.dtype != xp.bool:
        classes, y_code = _labels_on_device(
            y, xp, device, n_samples, settings.estimator
        )
    else:  # NumPy labels (strings too), and booleans, on the host
        classes, y_code = encode_labels(as_numpy(y), n_samples, settings.estimator)
        y_code = xp.asarray(y_code, device=device)
    weight = _sample_weight_on_device(sample_weight, xp, device, n_samples)
    data = ArrayAPIData(X, y_code, weight, xp, device)
    weigh_classes(data, settings, classes)
    dtype = np.dtype(np.float32 if X.dtype == xp.float32 else np.float64)
    return Prepared(
        classes,
        dtype,
        X.shape[1],
        feature_names,
        to_fitted=partial(to_device, xp=xp, device=device),
        data=data,
    )


def predict(X: Any, model: FittedModel, method: str) -> Any:
    """``method`` on validated X, in X's namespace, on X's device."""
    namespace = dispatch_namespace(X)
    assert namespace is not None  # why backend_for chose this back-end
    xp, _ = namespace
    coef = xp.astype(model.coef, X.dtype)
    Z = X @ coef.T + xp.astype(model.intercept, X.dtype)
    if method == "decision_function":
        return two_class_margin(Z) if Z.shape[1] == 2 else Z
    if method == "predict":
        codes = xp.argmax(Z, axis=1)
        if namespace_name(model.classes) != "numpy":
            return xp.take(model.classes, codes)
        return model.classes[as_numpy(codes)]
    if method == "predict_log_proba":
        return log_softmax(Z, xp)
    return softmax(Z, xp)
