"""Whether the estimate is one that the standard errors describe: off its
``coef_bounds``, identified by the data, not separated, and at the optimum.

Each check refuses the model with a ValueError, or warns with a
ConvergenceWarning, and its message names the features (and the class
against the reference class) involved and says what to do.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._inference_result import INTERCEPT_NAME
from ._validation import warn

#: A Newton step from the estimate longer than this many standard errors
#: warns: it moves the z values by as much, the precision a summary prints.
_OPTIMUM_TOLERANCE_SE = 0.01
#: Variance of a parameter above this multiple of its variance at uniform
#: probabilities (same rows, same weights) means that the fitted
#: probabilities have saturated at 0 or 1 along it: separation.
_SATURATION_RATIO = 1e8


def _check_off_bounds(
    bounds: tuple[np.ndarray, np.ndarray] | None,
    coef: np.ndarray,
    names: np.ndarray,
) -> None:
    """Refuse a model with a weight on its ``coef_bounds`` bound (the resolved
    bounds it was fitted with): the estimate is then not asymptotically
    normal, and the standard errors of an interior optimum do not hold."""
    if bounds is None:
        return
    # Compared in the coefficients' dtype: float32 weights hold the bound
    # rounded to float32.
    with np.errstate(over="ignore"):  # a bound beyond float32's range
        lower, upper = (bound.astype(coef.dtype) for bound in bounds)
    on_bound = (coef <= lower) | (coef >= upper)
    if np.any(on_bound):
        row, column = np.argwhere(on_bound)[0]
        raise ValueError(
            f"inference needs every weight off its coef_bounds bound; "
            f"{int(on_bound.sum())} are on one, the first coef_[{row}, "
            f"{column}] (feature {names[column]!r}) = {coef[row, column]:g}. At "
            "a bound the estimate is not asymptotically normal, and its "
            "standard errors would not hold. Refit without the bounds that "
            "bind, or use the bootstrap."
        )


def _check_identified(scatter: np.ndarray, names: np.ndarray) -> None:
    """Refuse collinear columns (without a penalty): the information is then
    singular whatever the probabilities, and the contrasts not identified."""
    diagonal = np.diag(scatter)
    if np.any(diagonal <= 0):
        name = names[np.argmax(diagonal <= 0)]
        raise ValueError(
            f"The information matrix is singular: feature {name!r} is zero on "
            "every row of positive weight, so its coefficients are not "
            "identified. Drop it, or fit with a penalty (finite C)."
        )
    spread = np.sqrt(diagonal)
    correlation = scatter / np.outer(spread, spread)
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    if eigenvalues[0] > 100 * len(names) * np.finfo(float).eps * eigenvalues[-1]:
        return
    null = np.abs(eigenvectors[:, 0])
    involved = [str(names[j]) for j in np.flatnonzero(null > 0.1 * null.max())]
    raise ValueError(
        "The information matrix is singular: the columns "
        f"{involved} are collinear (one is a linear combination of the others"
        f"{', the intercept included' if INTERCEPT_NAME in involved else ''}), "
        "so their coefficients are not identified. Drop one of them, or fit "
        "with a penalty (finite C)."
    )


def _separation_message(where: str) -> str:
    where = f" ({where})" if where else ""
    return (
        "The information matrix is singular: the fitted probabilities are 0 "
        f"or 1 along some direction{where}, as when a class is (quasi-)"
        "completely separated from the others by the features; the maximum "
        "likelihood estimate does not exist and the coefficients diverge. Fit "
        "with a penalty (finite C), whose covariance the result then gives, or "
        "drop the separating features."
    )


def _check_not_separated(
    bread: np.ndarray,
    scatter: np.ndarray,
    totals: np.ndarray,
    r: int,
    others: np.ndarray,
    classes: np.ndarray,
    names: np.ndarray,
) -> None:
    """Refuse saturated probabilities: the variance of some parameter far
    above its variance in a model that knows only the class frequencies.

    With every row at the class frequencies pi the information is
    ``A kron scatter`` with ``A = diag(pi_o) - pi_o pi_o^T`` over the other
    classes o; ``A^-1 = diag(1 / pi_o) + 1 1^T / pi_r``, so that the
    variance of contrast (k, j) there is ``(1/pi_k + 1/pi_r) (scatter^-1)_jj``.
    Rare classes have large variances in both, so the ratio does not flag
    them; saturated probabilities shrink the information along the
    separating direction by orders of magnitude, and flag it.
    """
    share = totals / totals.sum()
    baseline = np.outer(
        1 / share[others] + 1 / share[r], np.diag(np.linalg.inv(scatter))
    )
    ratio = np.diag(bread).reshape(baseline.shape) / baseline
    if np.max(ratio) > _SATURATION_RATIO:
        k, j = np.unravel_index(np.argmax(ratio), ratio.shape)
        raise ValueError(
            _separation_message(_direction(k, j, r, others, classes, names))
        )


def _direction(
    k: int | np.integer,
    j: int | np.integer,
    r: int,
    others: np.ndarray,
    classes: np.ndarray,
    names: np.ndarray,
) -> str:
    labels = classes.tolist()
    return (
        f"the largest along {names[j]!r} for class {labels[others[k]]!r} "
        f"against the reference class {labels[r]!r}"
    )


def _flattest(
    information: np.ndarray,
    r: int,
    others: np.ndarray,
    classes: np.ndarray,
    names: np.ndarray,
) -> str:
    """The parameter with the largest share of the information's flattest
    direction (scaled to a unit diagonal), named as :func:`_direction`."""
    spread = np.sqrt(np.maximum(np.diag(information), np.finfo(float).tiny))
    _, vectors = np.linalg.eigh(information / np.outer(spread, spread))
    k, j = np.unravel_index(np.argmax(np.abs(vectors[:, 0])), (len(others), len(names)))
    return _direction(k, j, r, others, classes, names)


def _check_at_optimum(step: np.ndarray, bread: np.ndarray) -> None:
    """Warn when the Newton step from the estimate is long in standard errors.

    The unit is ``sqrt(diag(H_C^-1))``: the nonrobust standard errors without
    a penalty. (A penalised fit's sandwich may give a coefficient a standard
    error of zero, which would make any step infinitely long.)
    """
    distance = np.max(np.abs(step) / np.sqrt(np.diag(bread)))
    if distance > _OPTIMUM_TOLERANCE_SE:
        warn(
            "The estimate is not at the optimum to the accuracy that inference "
            f"needs: a Newton step from it moves a coefficient by {distance:.2g} "
            f"(model-based) standard errors, more than {_OPTIMUM_TOLERANCE_SE}. "
            "The standard errors, z values and intervals are computed there all "
            "the same; refit with a smaller tol (1e-6, say) for accurate ones.",
            ConvergenceWarning,
        )
