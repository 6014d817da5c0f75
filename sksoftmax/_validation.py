"""The rules every back-end applies to what a user passes in, written once.

Parameter checks, label encoding, class weights, the sample-weight rules and
the package's warnings live here, so that NumPy, Dask and array API input get
the same checks and the same messages. Back-ends compute what a rule needs of
their data (the distinct labels, the smallest weight, the class totals) where
the data lives and hand it to the rule. This module imports nothing of the
package.
"""

import numbers
import os
import sys
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array

#: The estimator's name, as messages give it.
ESTIMATOR_NAME = "SoftmaxRegressionClassifier"
# Frames of files in this directory or below are the package's.
_PACKAGE_PREFIX = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside the package.

    A fixed ``stacklevel`` points at the right line only for one call path;
    fits run through the estimator, the solver and a back-end at varying
    depths, so the level is counted instead. (``skip_file_prefixes`` does
    this from Python 3.12.)
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_PREFIX
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# Parameters ----------------------------------------------------------------


def _is_bool(value):
    return isinstance(value, bool | np.bool_)


def _is_real(value):
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def _C_problem(C) -> str | None:
    """What is wrong with one value of C, or None."""
    if not (_is_real(C) and C > 0):
        return f"must be a positive float or np.inf, got {C!r}"
    if not np.isfinite(1.0 / float(C)):
        # A subnormal C: the penalty 1/C would be infinite.
        return f"must be at least {1 / np.finfo(float).max:.1e}, got {C!r}"
    return None


#: The range of an int ``Cs``: ``np.logspace`` between these powers of ten,
#: as in ``LogisticRegressionCV``.
_CS_RANGE = (-4, 4)


def check_Cs(Cs) -> np.ndarray:
    """The grid of Cs as a float64 array of shape (n_Cs,), checked: an int n
    >= 1 gives ``np.logspace(-4, 4, n)``, a sequence its values (positive
    floats or np.inf, at least one)."""
    if _is_int(Cs):
        if Cs < 1:
            raise ValueError(f"Cs must be an int >= 1 or a list of Cs, got {Cs!r}.")
        return np.logspace(*_CS_RANGE, int(Cs))
    if isinstance(Cs, str) or np.ndim(Cs) != 1 or len(Cs) == 0:
        raise ValueError(
            f"Cs must be an int >= 1 or a non-empty 1-d list of Cs, got {Cs!r}."
        )
    problems = [
        f"Cs[{i}] {problem}"
        for i, C in enumerate(Cs)
        if (problem := _C_problem(C.item() if hasattr(C, "item") else C))
    ]
    if problems:
        raise ValueError("Invalid parameters: " + "; ".join(problems) + ".")
    return np.array(Cs, dtype=np.float64)


def check_params(params: dict) -> None:
    """Raise a ValueError naming every invalid classifier parameter.

    ``params`` is ``estimator.get_params()``.
    """
    p = params
    problems = []
    C_problem = _C_problem(p["C"])
    if C_problem:
        problems.append(f"C {C_problem}")
    if not _is_bool(p["fit_intercept"]):
        problems.append(f"fit_intercept must be a bool, got {p['fit_intercept']!r}")
    class_weight = p["class_weight"]
    if not (
        class_weight is None
        or isinstance(class_weight, dict)
        or (isinstance(class_weight, str) and class_weight == "balanced")
    ):
        problems.append(
            f'class_weight must be None, "balanced" or a dict, got {class_weight!r}'
        )
    elif isinstance(class_weight, dict) and not all(
        _is_real(w) and np.isfinite(w) and w >= 0 for w in class_weight.values()
    ):
        problems.append(
            "class_weight values must be finite non-negative numbers, "
            f"got {class_weight!r}"
        )
    if not (_is_int(p["max_iter"]) and p["max_iter"] >= 1):
        problems.append(f"max_iter must be an int >= 1, got {p['max_iter']!r}")
    tol = p["tol"]
    if not (_is_real(tol) and tol >= 0 and np.isfinite(tol)):
        problems.append(f"tol must be a finite float >= 0, got {tol!r}")
    if not (_is_real(p["l1_ratio"]) and 0 <= p["l1_ratio"] <= 1):
        problems.append(f"l1_ratio must be a float in [0, 1], got {p['l1_ratio']!r}")
    smoothing = p["label_smoothing"]
    if not (_is_real(smoothing) and 0 <= smoothing < 1):
        problems.append(f"label_smoothing must be a float in [0, 1), got {smoothing!r}")
    if not _is_bool(p["warm_start"]):
        problems.append(f"warm_start must be a bool, got {p['warm_start']!r}")
    verbose = p["verbose"]
    if not (_is_int(verbose) or _is_bool(verbose)) or verbose < 0:
        problems.append(f"verbose must be an int >= 0, got {verbose!r}")
    problems += _penalty_factor_problems(p.get("penalty_factor"))
    problems += _coef_bounds_problems(p.get("coef_bounds"))
    if problems:
        raise ValueError("Invalid parameters: " + "; ".join(problems) + ".")


def _factor_values_problem(values: np.ndarray) -> str | None:
    """What is wrong with penalty factors as a float array, or None."""
    if not np.all(np.isfinite(values)):
        return "must be finite (no NaN or infinity)"
    if np.any(values < 0):
        return "must be >= 0"
    return None


def _penalty_factor_problems(penalty_factor) -> list[str]:
    """What is wrong with the ``penalty_factor`` parameter, without the data:
    None, a 1-d array-like of finite factors >= 0, or a dict from feature
    indices (ints) or feature names (strings) to such factors."""
    if penalty_factor is None:
        return []
    name = "penalty_factor"
    penalty_factor = _labelled_as_dict(penalty_factor)
    if isinstance(penalty_factor, dict):
        keys = list(penalty_factor)
        if not (all(_is_int(k) for k in keys) or all(isinstance(k, str) for k in keys)):
            return [
                f"{name} as a dict must have keys that are all feature indices "
                f"(ints) or all feature names (strings); got keys {keys!r}"
            ]
        values = list(penalty_factor.values())
        if not all(_is_real(v) for v in values):
            return [f"{name} values must be floats >= 0, got {penalty_factor!r}"]
        problem = _factor_values_problem(np.array(values, dtype=np.float64))
        return [f"{name} values {problem}, got {penalty_factor!r}"] if problem else []
    values = _numeric_array(penalty_factor)
    if values is None or values.ndim != 1:
        return [
            f"{name} must be None, a 1-d array of floats >= 0 of shape "
            f"(n_features,) or a dict from features to floats, got "
            f"{penalty_factor!r}"
        ]
    problem = _factor_values_problem(values)
    return [f"{name} {problem}, got {penalty_factor!r}"] if problem else []


def _pandas_kind(value) -> str | None:
    """ "Series" or "DataFrame" for a pandas object (told without importing
    pandas), else None."""
    kind = type(value).__name__
    if kind in ("Series", "DataFrame") and hasattr(value, "index"):
        return kind
    return None


def _labelled_as_dict(penalty_factor):
    """A pandas Series of factors as the dict of its labels, so that its
    factors go to the features its index names; anything else unchanged."""
    if _pandas_kind(penalty_factor) == "Series":
        index = penalty_factor.index
        if not index.is_unique:
            repeated = sorted(set(index[index.duplicated()]))
            raise ValueError(
                "penalty_factor as a pandas Series must name each feature once; "
                f"its index repeats {repeated}."
            )
        return dict(zip(penalty_factor.index, penalty_factor.to_numpy(), strict=True))
    return penalty_factor


def _refuse_labelled(bound) -> None:
    """A pandas object as a bound would be read by position, not by its labels."""
    kind = _pandas_kind(bound)
    if kind is not None:
        raise ValueError(
            f"coef_bounds takes floats or NumPy arrays, got a pandas "
            f"{kind}, which would be read by position, not by "
            "its labels: pass .to_numpy(), its values in the order of coef_'s "
            "rows (classes_) and columns (the features of X)."
        )


def _numeric_array(value) -> np.ndarray | None:
    """``value`` as a float64 array, or None unless it is a real number or
    a non-empty array-like of real numbers (not strings, bools or objects)."""
    if isinstance(value, str) or _is_bool(value):
        return None
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested sequences
        return None
    if array.dtype.kind not in "iuf" or array.size == 0:
        return None
    return array.astype(np.float64)


def _coef_bounds_problems(coef_bounds) -> list[str]:
    """What is wrong with the ``coef_bounds`` parameter, without the data:
    None, or a pair (lower, upper) of floats or arrays (at most 2-d) that
    broadcast together, with no NaN, lower <= upper, lower < inf and
    upper > -inf."""
    if coef_bounds is None:
        return []
    name = "coef_bounds"
    if not (isinstance(coef_bounds, tuple | list) and len(coef_bounds) == 2):
        return [
            f"{name} must be None or a pair (lower, upper) of floats or arrays, "
            f"got {coef_bounds!r}"
        ]
    for bound in coef_bounds:
        _refuse_labelled(bound)
    bounds = [_numeric_array(bound) for bound in coef_bounds]
    problems = [
        f"{name}[{i}] ({side}) must be a float or a numeric array of at most 2 "
        f"dimensions, got {bound!r}"
        for i, (side, array, bound) in enumerate(
            zip(("lower", "upper"), bounds, coef_bounds, strict=True)
        )
        if array is None or array.ndim > 2
    ]
    if problems:
        return problems
    lower, upper = bounds
    if np.isnan(lower).any() or np.isnan(upper).any():
        return [f"{name} must not contain NaN (use -np.inf or np.inf for no bound)"]
    if np.any(lower == np.inf) or np.any(upper == -np.inf):
        return [
            f"{name} must have lower < inf and upper > -inf everywhere: no "
            "finite weight lies within such a bound"
        ]
    try:
        lower_above = np.any(lower > upper)
    except ValueError:
        return [
            f"{name}: lower of shape {lower.shape} and upper of shape "
            f"{upper.shape} do not broadcast together"
        ]
    if lower_above:
        return [f"{name} must have lower <= upper everywhere, got {coef_bounds!r}"]
    return []


def penalty_factors(
    penalty_factor, n_features: int, feature_names: np.ndarray | None
) -> np.ndarray | None:
    """The ``penalty_factor`` parameter (checked by :func:`check_params`) as a
    float64 array of shape (n_features,) for data with ``n_features`` columns
    named ``feature_names`` (None without names); None stays None.

    A dict gives the factor of each feature it names (by index, or by name
    where X has column names) and 1 to the others.
    """
    if penalty_factor is None:
        return None
    penalty_factor = _labelled_as_dict(penalty_factor)
    if not isinstance(penalty_factor, dict):
        factors = np.array(penalty_factor, dtype=np.float64)
        if factors.shape != (n_features,):
            raise ValueError(
                f"penalty_factor has {factors.shape[0]} values, but X has "
                f"n_features={n_features}: give one factor per feature."
            )
        return factors
    factors = np.ones(n_features)
    keys = list(penalty_factor)
    if keys and isinstance(keys[0], str):
        if feature_names is None:
            raise ValueError(
                f"penalty_factor names features {keys}, but X has no column "
                "names: give a DataFrame with string column names, or key the "
                "dict by column index."
            )
        names = list(feature_names)
        unknown = [key for key in keys if key not in names]
        if unknown:
            raise ValueError(
                f"penalty_factor names features that X does not have: {unknown}."
            )
        columns = [names.index(key) for key in keys]
    else:
        out_of_range = [key for key in keys if not -n_features <= key < n_features]
        if out_of_range:
            raise ValueError(
                f"penalty_factor has feature indices {out_of_range} out of range "
                f"for X with n_features={n_features}."
            )
        columns = [int(key) % n_features for key in keys]
    if len(set(columns)) < len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(
            f"penalty_factor gives columns {twice} more than one factor "
            f"(keys {keys}, for X with n_features={n_features})."
        )
    factors[columns] = [float(value) for value in penalty_factor.values()]
    return factors


def coefficient_bounds(
    coef_bounds, n_rows: int, n_features: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``coef_bounds`` parameter (checked by :func:`check_params`) as
    float64 arrays (lower, upper) of the shape of ``coef_``, (n_rows,
    n_features); None where they bound nothing (all infinite)."""
    if coef_bounds is None:
        return None
    shape = (n_rows, n_features)
    bounds = []
    for side, bound in zip(("lower", "upper"), coef_bounds, strict=True):
        array = _numeric_array(bound)
        try:
            bounds.append(np.broadcast_to(array, shape).copy())
        except ValueError:
            raise ValueError(
                f"coef_bounds: the {side} bound of shape {array.shape} does not "
                f"broadcast to the shape of coef_, {shape} (n_features="
                f"{n_features}; one row with two classes, else one per class)."
            ) from None
    lower, upper = bounds
    if np.all(lower == -np.inf) and np.all(upper == np.inf):
        return None
    return lower, upper


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


def _is_missing(value) -> bool:
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


def classes_of(labels: np.ndarray) -> np.ndarray:
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
            f"{ESTIMATOR_NAME} needs samples of at least 2 classes "
            f"in the data, but the data contains only 1 class: {classes[0]}."
        )
    return classes


def check_y_given(y) -> None:
    """Raise scikit-learn's ValueError for a classifier fitted without y."""
    if y is None:
        raise ValueError(
            f"{ESTIMATOR_NAME} requires y to be passed, but the target y is None."
        )


def encode_labels(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of the labels y and each label's code (its column in
    the one-hot rows of ``LabelBinarizer``), checked."""
    check_y_given(y)
    y = np.asarray(y)
    if warn_column_vector(y.shape):
        y = y.ravel()
    check_labels_shape(y.shape, n_samples)
    classes = classes_of(distinct_labels(y))
    binarizer = LabelBinarizer(sparse_output=True).fit(classes)
    one_hot = binarizer.transform(y)
    if len(classes) == 2:
        # LabelBinarizer returns the single column Y of classes_[1]; the
        # padded one-hot rows [1 - Y, Y] have their one at column Y.
        return classes, one_hot.toarray().ravel().astype(np.intp)
    # One stored 1 per row: its column is the code. (The sparse argmax of
    # SciPy loops over the rows in Python, 10 s per million rows.)
    one_hot = one_hot.tocsr()
    one_hot.sort_indices()
    return classes, one_hot.indices.astype(np.intp)


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


def sample_weight_array(sample_weight, n_samples: int) -> np.ndarray:
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


def class_weights(class_weight, classes: np.ndarray, class_total: np.ndarray):
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
            f"{ESTIMATOR_NAME} needs samples of at least 2 classes "
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
