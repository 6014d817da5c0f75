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

The namespaces come from the ``array-api-compat`` package, the same helpers
that scikit-learn and SciPy build on. All namespace handling is in this module.
"""

import copy
import warnings

import numpy as np
from sklearn import get_config
from sklearn.exceptions import DataConversionWarning

#: Rows per block of the device kernel, at most. Large blocks keep a GPU busy
#: with few kernel launches (a block takes about 30); a block's float32
#: products are summed by the matrix multiplication over at most this many rows
#: before the float64 sum. Blocks are also kept to 2**24 net inputs, so that
#: the float64 temporaries of a block stay near 128 MB each.
BLOCK_ROWS = 1 << 20


def dispatch_available():
    """Whether scikit-learn can turn array API dispatch on here: it needs SciPy
    1.14 or newer (``set_config(array_api_dispatch=True)`` raises otherwise)."""
    import scipy

    major, minor = (int(part) for part in scipy.__version__.split(".")[:2])
    return (major, minor) >= (1, 14)


def dispatch_namespace(X):
    """``(xp, device)`` of X if array API dispatch is on and X is an array of a
    namespace other than NumPy; otherwise None (the NumPy code runs)."""
    if not get_config()["array_api_dispatch"] or isinstance(X, np.ndarray):
        return None
    import array_api_compat

    if not array_api_compat.is_array_api_obj(X):
        return None  # lists, sparse matrices, DataFrames: NumPy code
    xp = array_api_compat.array_namespace(X)
    if array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_dask_namespace(
        xp
    ):
        return None  # NumPy code, or Dask's own (sksoftmax._dask)
    return xp, array_api_compat.device(X)


def float_dtypes(X):
    """The float dtypes that X may keep, of its namespace under dispatch."""
    namespace = dispatch_namespace(X)
    xp = np if namespace is None else namespace[0]
    return [xp.float64, xp.float32]


def namespace_name(array):
    """The name of the namespace of ``array`` (``"numpy"`` for array-likes)."""
    if isinstance(array, np.ndarray) or not _is_array(array):
        return "numpy"
    import array_api_compat

    return array_api_compat.array_namespace(array).__name__.replace(
        "array_api_compat.", ""
    )


def _is_array(obj):
    import array_api_compat

    return array_api_compat.is_array_api_obj(obj)


def as_numpy(array):
    """A NumPy array with the values of ``array``, of any namespace and device."""
    if array is None or isinstance(array, np.ndarray) or not _is_array(array):
        return array
    import array_api_compat

    if array_api_compat.is_torch_array(array):
        return array.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(array):
        return array.get()
    xp = array_api_compat.array_namespace(array)
    if array_api_compat.is_array_api_strict_namespace(xp):
        # array_api_strict refuses __array__; its CPU device shares DLPack.
        import array_api_strict

        array = xp.asarray(array, device=array_api_strict.Device("CPU_DEVICE"))
    return np.from_dlpack(array)


def move_to(array, xp, device):
    """``array`` (of any namespace, or NumPy) as an array of ``xp`` on ``device``."""
    import array_api_compat

    if _is_array(array) and array_api_compat.array_namespace(array) is xp:
        return array_api_compat.to_device(array, device)
    return xp.asarray(as_numpy(array), device=device)


def has_float64(xp, device):
    """Whether ``device`` computes in float64 (Apple's MPS does not)."""
    try:
        xp.zeros(1, dtype=xp.float64, device=device)
    except (TypeError, RuntimeError, ValueError):
        return False
    return True


def sum_dtype(xp, device):
    """The dtype of the device's sums: float64, else (as on MPS) float32."""
    return xp.float64 if has_float64(xp, device) else xp.float32


def check_same_namespace(estimator, X, method):
    """Raise a ValueError unless X is in the namespace and on the device of the
    fitted ``coef_`` (NumPy and array-likes count as one namespace; with
    dispatch off, any array NumPy can read is one)."""
    fitted_name, X_name = namespace_name(estimator.coef_), namespace_name(X)
    dispatch = get_config()["array_api_dispatch"]
    if fitted_name == "numpy" and (X_name == "numpy" or not dispatch):
        return
    if not dispatch:
        problem = (
            f"The estimator was fitted on {fitted_name} arrays with "
            "array_api_dispatch on, and it is off now: turn it on again, or "
            "convert the estimator with sksoftmax.to_numpy."
        )
    elif fitted_name != X_name:
        problem = (
            f"Array namespaces used during fit ({fitted_name}) and {method} "
            f"({X_name}) differ."
        )
    else:
        import array_api_compat

        fitted_device = array_api_compat.device(estimator.coef_)
        X_device = array_api_compat.device(X)
        if fitted_device == X_device:
            return
        problem = (
            f"Devices used during fit ({fitted_device}) and {method} ({X_device}) "
            "differ."
        )
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        "same namespace and the same device as those passed to fit(). " + problem
    )


def to_numpy(estimator):
    """A copy of a fitted estimator with NumPy arrays for attributes.

    An estimator fitted with ``array_api_dispatch`` on keeps ``coef_``,
    ``intercept_`` and ``classes_`` in the namespace and on the device of its
    training data (a CUDA tensor, say). The copy holds them as NumPy arrays on
    the host: it predicts on NumPy input with dispatch off, and pickles and
    loads where that library or device is missing. The estimator itself is
    left as it is.

    Parameters
    ----------
    estimator : SoftmaxRegressionClassifier
        A fitted estimator.

    Returns
    -------
    SoftmaxRegressionClassifier
        The copy, with NumPy attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import SoftmaxRegressionClassifier, to_numpy
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> clf = SoftmaxRegressionClassifier().fit(X, [0, 1, 1, 0])
    >>> type(to_numpy(clf).coef_).__name__
    'ndarray'
    """
    converted = copy.copy(estimator)
    for name, value in vars(estimator).items():
        if name.endswith("_") and _is_array(value):
            setattr(converted, name, as_numpy(value))
    return converted


def _rows(n_samples, n_columns=1):
    """Row slices of the blocks, for temporaries of ``n_columns`` per row."""
    size = max(1, min(BLOCK_ROWS, (1 << 24) // n_columns))
    return (
        slice(start, min(start + size, n_samples))
        for start in range(0, n_samples, size)
    )


class _Sum:
    """A running sum of device arrays, in float64 where the device has it, else
    in float32 with Kahan compensation."""

    def __init__(self, xp, dtype):
        self.xp, self.dtype = xp, dtype
        self.total = self.compensation = None

    def add(self, value):
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

    def numpy(self):
        return as_numpy(self.total).astype(np.float64)


class ArrayAPIData:
    """Training data on a device, as the objective reads it.

    Offers what :class:`sksoftmax._objective.InMemoryData` offers, computed in
    the namespace ``xp`` of X on its device; ``SoftmaxObjective.from_data``
    takes it.

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

    def __init__(self, X, y_code, sample_weight, xp, device):
        self.X, self.y_code, self.xp, self.device = X, y_code, xp, device
        self.n_features = X.shape[1]
        self.sum_dtype = sum_dtype(xp, device)
        sample_weight = xp.astype(sample_weight, self.sum_dtype)
        self.weight_sum = float(xp.sum(sample_weight))
        # Normalised weights: in the sum dtype for the loss, in X's for products.
        self.sample_weight = sample_weight / self.weight_sum
        self._weight_X = xp.astype(self.sample_weight, X.dtype)
        self._targets = {}

    def statistics(self, center):
        """Weighted offset and spread of the features, as in
        :func:`sksoftmax._objective.feature_statistics`."""
        xp, X = self.xp, self.X
        offset = np.zeros(self.n_features)
        if center:
            # One product, no temporaries: a rough mean serves the scaling.
            offset = as_numpy(self._weight_X @ X).astype(np.float64)
        offset_X = xp.asarray(offset, dtype=X.dtype, device=self.device)
        second_moment = _Sum(xp, self.sum_dtype)
        for rows in _rows(X.shape[0], self.n_features):
            centred = X[rows, :] - offset_X
            second_moment.add(self._weight_X[rows] @ (centred * centred))
        return offset, np.sqrt(second_moment.numpy())

    def _weighted_targets(self, n_classes, label_smoothing):
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
        for rows in _rows(n_samples, n_classes):
            T = xp.astype(self.y_code[rows][:, None] == codes, self.sum_dtype)
            if label_smoothing:
                T = (1.0 - label_smoothing) * T + label_smoothing / n_classes
            targets = T * self.sample_weight[rows][:, None]
            if keep:
                blocks.append((rows, targets))
            yield rows, targets
        if keep:
            self._targets = {key: blocks}

    def class_frequencies(self, n_classes):
        """Share of the sample weight in each class."""
        return class_totals(self.xp, self.y_code, self.sample_weight, n_classes)

    def loss_gradient(self, weights, intercept, label_smoothing):
        """The data term and its gradient, as
        :func:`sksoftmax._loss.loss_gradient` computes them, on the device."""
        xp, X, device = self.xp, self.X, self.device
        n_classes = weights.shape[0]
        # Cast on the host: a device may have no float64 at all.
        W = xp.asarray(weights, dtype=X.dtype, device=device)
        b = xp.asarray(intercept, dtype=X.dtype, device=device)
        loss = _Sum(xp, self.sum_dtype)
        grad_weights = _Sum(xp, self.sum_dtype)
        grad_intercept = _Sum(xp, self.sum_dtype)
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


def class_totals(xp, y_code, sample_weight, n_classes):
    """Total of ``sample_weight`` in each class, as a float64 NumPy array."""
    import array_api_compat

    device = array_api_compat.device(y_code)
    codes = xp.arange(n_classes, device=device)
    total = _Sum(xp, sample_weight.dtype)
    for rows in _rows(y_code.shape[0], n_classes):
        one_hot = xp.astype(y_code[rows][:, None] == codes, sample_weight.dtype)
        total.add(sample_weight[rows] @ one_hot)
    return total.numpy()


def prepare_array_api(estimator, X, y, sample_weight, xp, device):
    """Checked training data of ``estimator.fit`` on the device of X.

    The counterpart of the estimator's in-memory preparation: returns an
    :class:`ArrayAPIData`, the sorted classes (NumPy) and the NumPy dtype of
    X. Labels of a non-NumPy namespace (on any device) are moved to X's device
    and encoded there; NumPy labels, which may be strings, are encoded on the
    host by the estimator's own rules. ``y`` and ``sample_weight`` may come
    from other namespaces or devices than X: they follow X.
    """
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_consistent_length, validate_data

    from ._classifier import check_n_classes, encode_labels

    X = validate_data(estimator, X, dtype=[xp.float64, xp.float32])
    n_samples = X.shape[0]
    if _is_array(y) and namespace_name(y) != "numpy" and y.dtype != xp.bool:
        y = move_to(y, xp, device)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples, ), for example using ravel().",
                DataConversionWarning,
                stacklevel=4,
            )
            y = xp.reshape(y, (-1,))
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional, got shape {tuple(y.shape)}.")
        check_consistent_length(np.empty(n_samples), np.empty(y.shape[0]))
        labels = as_numpy(xp.unique_values(y))
        check_classification_targets(labels)
        classes = LabelBinarizer().fit(labels).classes_
        check_n_classes(classes)
        y_code = xp.searchsorted(xp.asarray(classes, device=device), y)
    else:  # NumPy labels (strings too), and booleans, on the host
        classes, y_code = encode_labels(as_numpy(y), n_samples)
        y_code = xp.asarray(y_code, device=device)
    if sample_weight is None:
        sample_weight = xp.ones(n_samples, dtype=X.dtype, device=device)
    else:
        if np.ndim(sample_weight) == 0 and not _is_array(sample_weight):
            sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
        sample_weight = move_to(sample_weight, xp, device)
        if sample_weight.ndim == 0:
            sample_weight = xp.full(n_samples, sample_weight, device=device)
        if tuple(sample_weight.shape) != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {tuple(sample_weight.shape)}, expected "
                f"{(n_samples,)}!"
            )
        if not bool(xp.all(xp.isfinite(sample_weight))):
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if bool(xp.any(sample_weight < 0)):
            raise ValueError("Negative values in data passed to `sample_weight`")
    sample_weight = xp.astype(sample_weight, sum_dtype(xp, device))
    class_total = class_totals(xp, y_code, sample_weight, len(classes))
    class_weight = estimator._class_weight(classes, class_total)
    if np.any(class_weight != 1.0):
        class_weight = xp.asarray(
            class_weight, dtype=sample_weight.dtype, device=device
        )
        sample_weight = sample_weight * xp.take(class_weight, y_code)
    data = ArrayAPIData(X, y_code, sample_weight, xp, device)
    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    return data, classes, dtype


def on_device(xp, device, classes, coef, intercept):
    """The fitted attributes as arrays of ``xp`` on ``device``: the classes
    only when they are numbers the device holds (strings stay NumPy)."""
    if classes.dtype.kind in "biuf" and (
        classes.dtype != np.float64 or has_float64(xp, device)
    ):
        classes = xp.asarray(classes, device=device)
    return (
        classes,
        xp.asarray(coef, device=device),
        xp.asarray(intercept, device=device),
    )


def predict_array_api(estimator, X, method, xp):
    """``estimator.<method>(X)`` in X's namespace ``xp``, on X's device."""
    coef = xp.astype(estimator.coef_, X.dtype)
    Z = X @ coef.T + xp.astype(estimator.intercept_, X.dtype)
    if method == "decision_function":
        return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z
    if method == "predict":
        codes = xp.argmax(Z, axis=1)
        if namespace_name(estimator.classes_) != "numpy":
            return xp.take(estimator.classes_, codes)
        return estimator.classes_[as_numpy(codes)]
    Z = Z - xp.max(Z, axis=1, keepdims=True)
    if method == "predict_log_proba":
        return Z - xp.log(xp.sum(xp.exp(Z), axis=1, keepdims=True))
    E = xp.exp(Z)
    return E / xp.sum(E, axis=1, keepdims=True)
