"""The fit's settings: one frozen record, checked once and resolved once.

Every parameter that changes a fit is a field of :class:`FitSettings`. The
record is built from an estimator's ``get_params()`` (or a function's
arguments) by :func:`fit_settings`, which checks each value by its rule in
:data:`RULES` and converts it to the field's type; it is then resolved against
the training data once (:meth:`FitSettings.resolve`: penalty factors read by
column name or index, bounds broadcast to the shape of ``coef_``), and passed
as the one settings argument to the objective, the solver, the path and the
cross-validation. A fitted estimator keeps the resolved record it was fitted
with, so that inference and the ONNX export read what the model was fitted
with, not parameters set since.

A new option is one field, one rule, and its use.

Messages name the estimator or function that the user called
(:attr:`FitSettings.estimator`). This module imports nothing of the package.
"""

from __future__ import annotations

import dataclasses
import difflib
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: The rows of ``coef_``: one per class, or one for two classes.
Bounds = tuple[np.ndarray, np.ndarray]


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


# Rules: what is wrong with one parameter's value, or None ---------------------


def C_problem(C: Any) -> str | None:
    """What is wrong with one value of C, or None."""
    if not (_is_real(C) and C > 0):
        return f"must be a positive float or np.inf, got {C!r}"
    if not np.isfinite(1.0 / float(C)):
        # A subnormal C: the penalty 1/C would be infinite.
        return f"must be at least {1 / np.finfo(float).max:.1e}, got {C!r}"
    return None


def _bool_problem(value: Any) -> str | None:
    return None if _is_bool(value) else f"must be a bool, got {value!r}"


def _class_weight_problem(class_weight: Any) -> str | None:
    if not (
        class_weight is None
        or isinstance(class_weight, dict)
        or (isinstance(class_weight, str) and class_weight == "balanced")
    ):
        return f'must be None, "balanced" or a dict, got {class_weight!r}'
    if isinstance(class_weight, dict) and not all(
        _is_real(w) and np.isfinite(w) and w >= 0 for w in class_weight.values()
    ):
        return f"values must be finite non-negative numbers, got {class_weight!r}"
    return None


def _max_iter_problem(max_iter: Any) -> str | None:
    if _is_int(max_iter) and max_iter >= 1:
        return None
    return f"must be an int >= 1, got {max_iter!r}"


def _tol_problem(tol: Any) -> str | None:
    if _is_real(tol) and tol >= 0 and np.isfinite(tol):
        return None
    return f"must be a finite float >= 0, got {tol!r}"


def _l1_ratio_problem(l1_ratio: Any) -> str | None:
    if _is_real(l1_ratio) and 0 <= l1_ratio <= 1:
        return None
    return f"must be a float in [0, 1], got {l1_ratio!r}"


def _label_smoothing_problem(smoothing: Any) -> str | None:
    if _is_real(smoothing) and 0 <= smoothing < 1:
        return None
    return f"must be a float in [0, 1), got {smoothing!r}"


def _verbose_problem(verbose: Any) -> str | None:
    if (_is_int(verbose) or _is_bool(verbose)) and verbose >= 0:
        return None
    return f"must be an int >= 0, got {verbose!r}"


def _factor_values_problem(values: np.ndarray) -> str | None:
    """What is wrong with penalty factors as a float array, or None."""
    if not np.all(np.isfinite(values)):
        return "must be finite (no NaN or infinity)"
    if np.any(values < 0):
        return "must be >= 0"
    return None


def _pandas_kind(value: Any) -> str | None:
    """ "Series" or "DataFrame" for a pandas object (told without importing
    pandas), else None."""
    kind = type(value).__name__
    if kind in ("Series", "DataFrame") and hasattr(value, "index"):
        return kind
    return None


def _labelled_as_dict(values: Any, parameter: str = "penalty_factor") -> Any:
    """A pandas Series as the dict of its labels, so that its values go to
    the features its index names; anything else unchanged."""
    if _pandas_kind(values) == "Series":
        index = values.index
        if not index.is_unique:
            repeated = sorted(set(index[index.duplicated()]))
            raise ValueError(
                f"{parameter} as a pandas Series must name each feature once; "
                f"its index repeats {repeated}."
            )
        return dict(zip(values.index, values.to_numpy(), strict=True))
    return values


def _keys_problem(keys: list) -> str | None:
    """What is wrong with the keys of a dict by feature, or None."""
    if all(_is_int(k) for k in keys) or all(isinstance(k, str) for k in keys):
        return None
    return (
        "as a dict must have keys that are all feature indices (ints) or "
        f"all feature names (strings); got keys {keys!r}"
    )


def _numeric_array(value: Any) -> np.ndarray | None:
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


def _penalty_factor_problem(penalty_factor: Any) -> str | None:
    """None, a 1-d array-like of finite factors >= 0, or a dict from feature
    indices (ints) or feature names (strings) to such factors."""
    if penalty_factor is None:
        return None
    penalty_factor = _labelled_as_dict(penalty_factor)
    if isinstance(penalty_factor, dict):
        problem = _keys_problem(list(penalty_factor))
        if problem:
            return problem
        if not all(_is_real(v) for v in penalty_factor.values()):
            return f"values must be floats >= 0, got {penalty_factor!r}"
        problem = _factor_values_problem(
            np.array(list(penalty_factor.values()), dtype=np.float64)
        )
        return f"values {problem}, got {penalty_factor!r}" if problem else None
    values = _numeric_array(penalty_factor)
    if values is None or values.ndim != 1:
        return (
            "must be None, a 1-d array of floats >= 0 of shape (n_features,) or a "
            f"dict from features to floats, got {penalty_factor!r}"
        )
    problem = _factor_values_problem(values)
    return f"{problem}, got {penalty_factor!r}" if problem else None


def _coef_bounds_problem(coef_bounds: Any) -> str | None:
    """None, or a pair (lower, upper) of floats or arrays (at most 2-d) that
    broadcast together, with no NaN, lower <= upper, lower < inf and
    upper > -inf."""
    if coef_bounds is None:
        return None
    if not (isinstance(coef_bounds, tuple | list) and len(coef_bounds) == 2):
        return (
            "must be None or a pair (lower, upper) of floats or arrays, "
            f"got {coef_bounds!r}"
        )
    for bound in coef_bounds:
        if _pandas_kind(bound) == "DataFrame":
            # Raised, not listed: the remedy needs the whole sentence.
            raise ValueError(
                "coef_bounds takes floats, NumPy arrays, or a dict or pandas "
                "Series by feature, got a pandas DataFrame, which would be read "
                "by position, not by its labels: pass .to_numpy(), its values in "
                "the order of coef_'s rows (classes_) and columns (the features "
                "of X)."
            )
    coef_bounds = [_labelled_as_dict(bound, "coef_bounds") for bound in coef_bounds]
    by_feature = [isinstance(bound, dict) for bound in coef_bounds]
    for side, bound in zip(("lower", "upper"), coef_bounds, strict=True):
        if not isinstance(bound, dict):
            continue
        problem = _keys_problem(list(bound))
        if problem:
            return f"[{side}] {problem}"
        values = [_numeric_array(value) for value in bound.values()]
        if not all(value is not None and value.ndim == 0 for value in values):
            return f"[{side}] as a dict must map features to floats, got {bound!r}"
    if any(by_feature):
        # Each side by feature, checked against the other when both are
        # resolved to arrays (FitSettings.resolve); an empty one bounds
        # nothing.
        coef_bounds = [
            (np.array(list(bound.values()), dtype=np.float64) if bound else free)
            if isinstance(bound, dict)
            else bound
            for bound, free in zip(coef_bounds, (-np.inf, np.inf), strict=True)
        ]
    bounds = [_numeric_array(bound) for bound in coef_bounds]
    problems = [
        f"[{i}] ({side}) must be a float or a numeric array of at most 2 "
        f"dimensions, got {bound!r}"
        for i, (side, array, bound) in enumerate(
            zip(("lower", "upper"), bounds, coef_bounds, strict=True)
        )
        if array is None or array.ndim > 2
    ]
    if problems:
        return "; coef_bounds".join(problems)
    lower, upper = (np.asarray(bound) for bound in bounds)
    if np.isnan(lower).any() or np.isnan(upper).any():
        return "must not contain NaN (use -np.inf or np.inf for no bound)"
    if np.any(lower == np.inf) or np.any(upper == -np.inf):
        return (
            "must have lower < inf and upper > -inf everywhere: no finite weight "
            "lies within such a bound"
        )
    if any(by_feature):
        return None
    try:
        lower_above = np.any(lower > upper)
    except ValueError:
        return (
            f": lower of shape {lower.shape} and upper of shape {upper.shape} do "
            "not broadcast together"
        )
    if lower_above:
        return f"must have lower <= upper everywhere, got {coef_bounds!r}"
    return None


#: Each setting's rule: what is wrong with a value, or None. Checked in this
#: order, every problem reported at once.
RULES: dict[str, Callable[[Any], str | None]] = {
    "C": C_problem,
    "fit_intercept": _bool_problem,
    "class_weight": _class_weight_problem,
    "max_iter": _max_iter_problem,
    "tol": _tol_problem,
    "l1_ratio": _l1_ratio_problem,
    "label_smoothing": _label_smoothing_problem,
    "warm_start": _bool_problem,
    "verbose": _verbose_problem,
    "penalty_factor": _penalty_factor_problem,
    "coef_bounds": _coef_bounds_problem,
    "firth": _bool_problem,
}

#: How a checked value becomes the field's value.
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "C": float,
    "fit_intercept": bool,
    "max_iter": int,
    "tol": float,
    "l1_ratio": float,
    "label_smoothing": float,
    "warm_start": bool,
    "verbose": int,
    "firth": bool,
}


def raise_problems(problems: list[str]) -> None:
    """One ValueError listing every invalid parameter, if any."""
    if problems:
        raise ValueError("Invalid parameters: " + "; ".join(problems) + ".")


def _problem_text(name: str, problem: str) -> str:
    # "coef_bounds: lower ..." and "coef_bounds[0] ..." read without a space.
    return f"{name}{problem}" if problem[0] in ":[" else f"{name} {problem}"


@dataclasses.dataclass(frozen=True, eq=False)
class FitSettings:
    """The settings of a fit, checked (:func:`fit_settings`), then resolved
    against the data (:meth:`resolve`).

    The defaults are :class:`sksoftmax.SoftmaxRegressionClassifier`'s.
    """

    #: The estimator or function whose settings these are, as messages name it.
    estimator: str = "SoftmaxRegressionClassifier"
    #: Inverse penalty strength; ``inf`` for no penalty.
    C: float = 1.0
    #: The elastic-net mixing parameter r in [0, 1].
    l1_ratio: float = 0.0
    fit_intercept: bool = True
    #: None, "balanced" or a dict from labels to weights.
    class_weight: Any = None
    max_iter: int = 100
    tol: float = 1e-4
    verbose: int = 0
    label_smoothing: float = 0.0
    warm_start: bool = False
    #: As given (checked); after :meth:`resolve`, a float64 array of shape
    #: (n_features,), or None for all ones.
    penalty_factor: Any = None
    #: As given (checked); after :meth:`resolve`, float64 arrays (lower,
    #: upper) of the shape of ``coef_``, or None where nothing is bounded.
    coef_bounds: Any = None
    #: Firth's bias-reduced fit (:mod:`sksoftmax._firth`).
    firth: bool = False

    def replace(self, **changes: Any) -> FitSettings:
        """A copy with ``changes`` (checked by their rules): the grid points
        of a path or a cross-validation."""
        raise_problems(
            [
                _problem_text(name, problem)
                for name, value in changes.items()
                if name in RULES and (problem := RULES[name](value))
            ]
        )
        converted = {
            name: _CONVERT.get(name, _same)(value) for name, value in changes.items()
        }
        return dataclasses.replace(self, **converted)

    def resolve(
        self, n_features: int, feature_names: np.ndarray | None, n_rows: int
    ) -> FitSettings:
        """The settings for data of ``n_features`` columns named
        ``feature_names`` (None without names) and a model of ``n_rows`` rows:
        penalty factors as an array of shape (n_features,), bounds as arrays
        of shape (n_rows, n_features). Errors name a length or shape that does
        not fit the data. Resolving resolved settings changes nothing."""
        return dataclasses.replace(
            self,
            penalty_factor=_penalty_factors(
                self.penalty_factor, n_features, feature_names
            ),
            coef_bounds=_coefficient_bounds(
                self.coef_bounds, n_rows, n_features, feature_names
            ),
        )

    def params(self) -> dict[str, Any]:
        """The settings as :class:`sksoftmax.SoftmaxRegressionClassifier`'s
        parameters."""
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name != "estimator"
        }


def _same(value: Any) -> Any:
    return value


#: The fields that the record holds for every estimator.
FIELDS = tuple(field.name for field in dataclasses.fields(FitSettings))


def fit_settings(params: Mapping[str, Any], estimator: str) -> FitSettings:
    """The checked settings record of ``params`` (an estimator's
    ``get_params()``, or a function's arguments): every value checked by its
    rule, one ValueError naming each invalid one; parameters that are not
    settings of a fit (a CV's ``Cs``, say) are ignored, and the settings not
    given keep the classifier's defaults."""
    given = {name: params[name] for name in RULES if name in params}
    raise_problems(
        [
            _problem_text(name, problem)
            for name, value in given.items()
            if (problem := RULES[name](value))
        ]
    )
    return FitSettings(
        estimator=estimator,
        **{name: _CONVERT.get(name, _same)(value) for name, value in given.items()},
    )


def _penalty_factors(
    penalty_factor: Any, n_features: int, feature_names: np.ndarray | None
) -> np.ndarray | None:
    """The checked ``penalty_factor`` as a float64 array of shape
    (n_features,); None stays None. A dict gives the factor of each feature it
    names (by index, or by name where X has column names) and 1 to the
    others."""
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
    columns = _named_columns(
        list(penalty_factor), n_features, feature_names, "penalty_factor", "factor"
    )
    factors[columns] = [float(value) for value in penalty_factor.values()]
    return factors


def _named_columns(
    keys: list,
    n_features: int,
    feature_names: np.ndarray | None,
    parameter: str,
    what: str,
) -> list[int]:
    """The columns of X that ``keys`` (all names, or all indices) name, each
    once: errors name ``parameter`` and, for an unknown name, the names it
    may mean."""
    if keys and isinstance(keys[0], str):
        if feature_names is None:
            raise ValueError(
                f"{parameter} names features {keys}, but X has no column "
                "names: give a DataFrame with string column names, or key the "
                "dict by column index."
            )
        names = list(feature_names)
        unknown = [key for key in keys if key not in names]
        if unknown:
            raise ValueError(
                f"{parameter} names features that X does not have: {unknown}."
                + _close_names(unknown, names)
            )
        columns = [names.index(key) for key in keys]
    else:
        out_of_range = [key for key in keys if not -n_features <= key < n_features]
        if out_of_range:
            raise ValueError(
                f"{parameter} has feature indices {out_of_range} out of range "
                f"for X with n_features={n_features}."
            )
        columns = [int(key) % n_features for key in keys]
    if len(set(columns)) < len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(
            f"{parameter} gives columns {twice} more than one {what} "
            f"(keys {keys}, for X with n_features={n_features})."
        )
    return columns


def _coefficient_bounds(
    coef_bounds: Any,
    n_rows: int,
    n_features: int,
    feature_names: np.ndarray | None = None,
) -> Bounds | None:
    """The checked ``coef_bounds`` as float64 arrays (lower, upper) of the
    shape of ``coef_``, (n_rows, n_features); None where they bound nothing
    (all infinite). A side given by feature (a dict or a pandas Series)
    bounds the features it names in every class, and leaves the others
    unbounded on that side."""
    if coef_bounds is None:
        return None
    shape = (n_rows, n_features)
    bounds = []
    for side, bound, free in zip(
        ("lower", "upper"), coef_bounds, (-np.inf, np.inf), strict=True
    ):
        bound = _labelled_as_dict(bound, "coef_bounds")
        if isinstance(bound, dict):
            columns = _named_columns(
                list(bound), n_features, feature_names, "coef_bounds", f"{side} bound"
            )
            by_feature = np.full(n_features, free)
            by_feature[columns] = [float(value) for value in bound.values()]
            bound = by_feature
        array = np.asarray(bound, dtype=np.float64)  # checked: numeric
        try:
            bounds.append(np.broadcast_to(array, shape).copy())
        except ValueError:
            raise ValueError(
                f"coef_bounds: the {side} bound of shape {array.shape} does not "
                f"broadcast to the shape of coef_, {shape} (n_features="
                f"{n_features}; one row with two classes, else one per class)."
            ) from None
    lower, upper = bounds
    if np.any(lower > upper):
        row, column = np.argwhere(lower > upper)[0]
        raise ValueError(
            f"coef_bounds must have lower <= upper everywhere; for feature "
            f"{column} (row {row} of coef_) lower is {lower[row, column]} and "
            f"upper {upper[row, column]}."
        )
    if np.all(lower == -np.inf) and np.all(upper == np.inf):
        return None
    return lower, upper


#: The range of an int ``Cs``: ``np.logspace`` between these powers of ten,
#: as in ``LogisticRegressionCV``.
_CS_RANGE = (-4, 4)


def check_Cs(Cs: Any) -> np.ndarray:
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
    raise_problems(
        [
            f"Cs[{i}] {problem}"
            for i, C in enumerate(Cs)
            if (problem := C_problem(C.item() if hasattr(C, "item") else C))
        ]
    )
    return np.array(Cs, dtype=np.float64)


def _close_names(unknown: list[str], names: list[str]) -> str:
    """The names of X that the unknown ones may mean: close spellings, and
    names that end with one (a ColumnTransformer's ``num__selfLR`` for
    ``selfLR``)."""
    hints = []
    for key in unknown:
        if not isinstance(key, str):
            continue
        matches = [name for name in names if name.endswith(f"__{key}")]
        matches += [
            name
            for name in difflib.get_close_matches(key, names, n=3, cutoff=0.6)
            if name not in matches
        ]
        if matches:
            hints.append(f"{key!r}: did you mean {' or '.join(map(repr, matches))}?")
    return (" " + " ".join(hints)) if hints else ""
