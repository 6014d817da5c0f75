"""Array namespaces: which library an array belongs to, where it lives, and
the conversions between them, for every module of the package.

Under scikit-learn's ``array_api_dispatch``, arrays of another library that
follows the Array API standard (a PyTorch tensor on the CPU or a GPU, a CuPy
array, an ``array_api_strict`` array) stay in their namespace and on their
device (:mod:`sksoftmax._backends._array_api` fits on them). The namespaces
come from the ``array-api-compat`` package, the helpers that scikit-learn
and SciPy build on. All namespace handling is in this module.
"""

import copy
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator

# Arrays here are of any array library (NumPy, PyTorch, CuPy, ...), hence Any;
# so are their namespaces (``xp``: array-api-compat's or the library's own
# module) and devices.


def dispatch_available() -> bool:
    """Whether scikit-learn can turn array API dispatch on here: it needs SciPy
    1.14 or newer (``set_config(array_api_dispatch=True)`` raises otherwise)."""
    import scipy

    major, minor = (int(part) for part in scipy.__version__.split(".")[:2])
    return (major, minor) >= (1, 14)


def dispatch_namespace(X: Any) -> tuple[Any, Any] | None:
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


def float_dtypes(X: Any) -> list[Any]:
    """The float dtypes that X may keep, of its namespace under dispatch."""
    namespace = dispatch_namespace(X)
    xp = np if namespace is None else namespace[0]
    return [xp.float64, xp.float32]


def namespace_name(array: Any) -> str:
    """The name of the namespace of ``array`` (``"numpy"`` for array-likes)."""
    if isinstance(array, np.ndarray) or not _is_array(array):
        return "numpy"
    import array_api_compat

    return array_api_compat.array_namespace(array).__name__.replace(
        "array_api_compat.", ""
    )


def _is_array(obj: Any) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(obj)


def as_numpy(array: Any) -> Any:
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


def move_to(array: Any, xp: Any, device: Any) -> Any:
    """``array`` (of any namespace, or NumPy) as an array of ``xp`` on ``device``."""
    import array_api_compat

    if _is_array(array) and array_api_compat.array_namespace(array) is xp:
        return array_api_compat.to_device(array, device)
    return xp.asarray(as_numpy(array), device=device)


def has_float64(xp: Any, device: Any) -> bool:
    """Whether ``device`` computes in float64 (Apple's MPS does not)."""
    try:
        xp.zeros(1, dtype=xp.float64, device=device)
    except (TypeError, RuntimeError, ValueError):
        return False
    return True


def sum_dtype(xp: Any, device: Any) -> Any:
    """The dtype of the device's sums: float64, else (as on MPS) float32."""
    return xp.float64 if has_float64(xp, device) else xp.float32


def check_same_namespace(coef: Any, X: Any, method: str, estimator_name: str) -> None:
    """Raise a ValueError unless X is in the namespace and on the device of the
    fitted ``coef`` (NumPy and array-likes count as one namespace; with
    dispatch off, any array NumPy can read is one)."""
    fitted_name, X_name = namespace_name(coef), namespace_name(X)
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

        fitted_device = array_api_compat.device(coef)
        X_device = array_api_compat.device(X)
        if fitted_device == X_device:
            return
        problem = (
            f"Devices used during fit ({fitted_device}) and {method} ({X_device}) "
            "differ."
        )
    raise ValueError(
        f"Inputs passed to {estimator_name}.{method}() must use the "
        "same namespace and the same device as those passed to fit(). " + problem
    )


def to_numpy(estimator: BaseEstimator) -> BaseEstimator:
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


def to_device(array: np.ndarray, xp: Any, device: Any) -> Any:
    """A fitted NumPy array as an array of ``xp`` on ``device``: only numbers
    the device holds (string classes, say, stay NumPy)."""
    if array.dtype.kind in "biuf" and (
        array.dtype != np.float64 or has_float64(xp, device)
    ):
        return xp.asarray(array, device=device)
    return array
