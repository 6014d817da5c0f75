"""The rules every back-end applies to the data a user passes in, written once.

Label encoding, class weights, the sample-weight rules and the package's
warnings live here (the parameters' rules are :mod:`sksoftmax._settings`'s),
so that NumPy, Dask and array API input get the same checks and the same
messages. Back-ends compute what a rule needs of
their data (the distinct labels, the smallest weight, the class totals) where
the data lives and hand it to the rule. This module imports nothing of the
package.
"""

import numbers
import os
import sys
import warnings
from types import FrameType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array

# Frames of files in this directory or below are the package's.
_PACKAGE_PREFIX = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside the package.

    A fixed ``stacklevel`` points at the right line only for one call path;
    fits run through the estimator, the solver and a back-end at varying
    depths, so the level is counted instead. (``skip_file_prefixes`` does
    this from Python 3.12.)
    """
    frame: FrameType | None = sys._getframe(1)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_PREFIX
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# Labels --------------------------------------------------------------------


def warn_column_vector(shape: tuple) -> bool:
    """Warn, as scikit-learn does, for a column-vector y; whether y is one."""
    if len(shape) == 2 and shape[1] == 1:
        warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        return True
    return False


def check_labels_shape(shape: tuple, n_samples: int) -> None:
    """Raise a ValueError unless labels of ``shape`` are one per sample."""
    if len(shape) != 1:
        raise ValueError(
            f"y must be 1-dimensional (one label per sample), got shape {shape}."
        )
    if shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {shape[0]}]"
        )


def _is_missing(value: object) -> bool:
    """Whether one label is NaN (the one value unequal to itself) or pd.NA
    (whose comparisons are neither True nor False)."""
    try:
        return bool(value != value)
    except TypeError:
        return True


# Element by element: NumPy < 1.25 compares an object array holding pd.NA
# with itself as one scalar, with a DeprecationWarning.
_IS_MISSING = np.frompyfunc(_is_missing, 1, 1)


def distinct_labels(y: np.ndarray, *, check: bool = True) -> np.ndarray:
    """The sorted distinct labels of a (block of) 1-d labels, checked for
    missing values and, if ``check``, as classification targets (skip it for
    labels already checked in blocks).

    Labels that cannot be sorted together (None among strings) get an
    "Unknown label type" ValueError, as scikit-learn gives most of them, not a
    TypeError from the sort.
    """
    if y.dtype.kind == "f":
        assert_all_finite(y, input_name="y")
    elif y.dtype.kind == "O" and _IS_MISSING(y).any():
        raise ValueError("Input y contains missing values (NaN or pd.NA).")
    try:
        if check:
            check_classification_targets(y)
        return np.unique(y)
    except TypeError as error:
        raise ValueError(
            "Unknown label type: y holds labels that cannot be sorted together "
            f"({error}); give labels of one type, without None."
        ) from error


#: Largest group of labels on which scikit-learn's target check does not warn
#: that the values are mostly unique.
_TARGET_GROUP = 20


def classes_of(labels: np.ndarray, estimator: str) -> np.ndarray:
    """The sorted classes of the distinct ``labels``, checked: classification
    targets (not continuous, not of unknown type), at least two.

    scikit-learn's check runs on groups of 20 labels: the verdict depends only
    on which values there are, and on more than 20 distinct values at once it
    warns that over half of them are unique, which distinct values always are.
    """
    for start in range(0, len(labels), _TARGET_GROUP):
        check_classification_targets(labels[start : start + _TARGET_GROUP])
    classes = LabelBinarizer().fit(labels).classes_
    if len(classes) < 2:
        raise ValueError(
            f"{estimator} needs samples of at least 2 classes "
            f"in the data, but the data contains only 1 class: {classes[0]}."
        )
    return classes


def check_y_given(y: Any, estimator: str) -> None:
    """Raise scikit-learn's ValueError for a classifier fitted without y."""
    if y is None:
        raise ValueError(
            f"{estimator} requires y to be passed, but the target y is None."
        )


def encode_labels(
    y: Any, n_samples: int, estimator: str
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of the labels y and each label's code (its column in
    the one-hot rows of ``LabelBinarizer``), checked.

    ``LabelBinarizer`` puts the one of a label at its position in
    ``classes_`` (two classes: the padded rows ``[1 - Y, Y]``), so each code
    is found by a binary search in the classes it was fitted on; its
    ``transform`` would repeat scikit-learn's target checks for the same
    answer (0.5 ms a fit)."""
    check_y_given(y, estimator)
    y = np.asarray(y)
    if warn_column_vector(y.shape):
        y = y.ravel()
    check_labels_shape(y.shape, n_samples)
    classes = classes_of(distinct_labels(y), estimator)
    return classes, np.searchsorted(classes, y).astype(np.intp, copy=False)


# Sample and class weights --------------------------------------------------


def check_not_complex(is_complex: bool, name: str) -> None:
    """Raise scikit-learn's ValueError for complex data, for inputs that
    ``check_array`` does not see (lazy Dask arrays, device arrays)."""
    if is_complex:
        raise ValueError(f"Complex data not supported: {name} holds complex numbers.")


def check_sample_weight_shape(shape: tuple, n_samples: int) -> None:
    """Raise a ValueError unless the weights are one per sample."""
    if tuple(shape) != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {tuple(shape)}, expected {(n_samples,)}!"
        )


def sample_weight_array(sample_weight: ArrayLike | None, n_samples: int) -> np.ndarray:
    """Host-side sample weights as a new float64 array of shape (n_samples,),
    checked: None gives ones, a scalar is repeated."""
    if sample_weight is None:
        return np.ones(n_samples)
    scalar = isinstance(sample_weight, numbers.Number | str) or (
        getattr(sample_weight, "ndim", None) == 0
    )
    # check_array refuses complex and non-numeric weights with its messages.
    weight = check_array(
        np.reshape(sample_weight, 1) if scalar else sample_weight,
        ensure_2d=False,
        ensure_all_finite=False,
        dtype=np.float64,
        copy=True,  # never a view of the user's array
        input_name="sample_weight",
    )
    if scalar:
        weight = np.full(n_samples, weight[0])
    check_sample_weight_shape(weight.shape, n_samples)
    check_sample_weight_values(
        np.min(weight), np.max(weight), bool(np.isfinite(weight).all())
    )
    return weight


def check_sample_weight_values(smallest: float, largest: float, finite: bool) -> None:
    """Raise a ValueError for non-finite, negative or all-zero sample weights.

    ``smallest`` and ``largest`` are the extreme weights (NaN if any is NaN),
    ``finite`` whether all are finite; each back-end computes them where its
    data is.
    """
    if not finite or np.isnan(smallest):
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if smallest < 0:
        raise ValueError("Negative values in data passed to `sample_weight`")
    if largest == 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")


def class_weights(
    class_weight: Any, classes: np.ndarray, class_total: np.ndarray, estimator: str
) -> np.ndarray:
    """The weight of each class, from the ``class_weight`` parameter and the
    classes' total sample weights; checked.

    Raises a ValueError for dict keys that match no class while a class has no
    key, for weighted totals with an infinite sum, and for fewer than two
    classes of positive total weight.
    """
    n_classes = len(classes)
    weight = np.ones(n_classes)
    if isinstance(class_weight, dict):
        # scikit-learn's rule: keys for absent classes are fine (a CV fold
        # may lack a rare class) unless some present class has no key.
        labels = classes.tolist()
        missing = [c for c in labels if c not in class_weight]
        unknown = [k for k in class_weight if k not in set(labels)]
        if missing and unknown:
            raise ValueError(
                f"class_weight has keys that are not class labels: {unknown}, "
                f"and no weight for the classes {missing}; the classes are "
                f"{labels}."
            )
        for k, label in enumerate(labels):
            weight[k] = class_weight.get(label, 1.0)
    elif class_weight == "balanced":
        present = class_total > 0
        weight[present] = class_total.sum() / (n_classes * class_total[present])
    weighted_total = class_total * weight
    with np.errstate(over="ignore"):
        finite_sum = np.isfinite(weighted_total.sum())
    if not finite_sum:
        raise ValueError(
            "sample_weight times class_weight must have a finite sum; "
            "rescale the weights (only their ratios and C * their sum matter)."
        )
    n_weighted = int(np.sum(weighted_total > 0))
    if n_weighted < 2:
        raise ValueError(
            f"{estimator} needs samples of at least 2 classes "
            "with positive sample_weight, but the weights leave "
            f"{n_weighted} class with positive weight."
        )
    return weight


def check_finite_fit(weights: np.ndarray, intercept: np.ndarray) -> None:
    """Raise a ValueError if the solver ended at non-finite coefficients."""
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(intercept))):
        raise ValueError(
            "The fit produced non-finite coefficients: the values of X or of "
            "sample_weight are too extreme for float64 arithmetic; rescale them."
        )
