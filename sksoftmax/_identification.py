"""Whether the estimate is one that the standard errors describe: off its
``coef_bounds``, identified by the data, not separated, and at the optimum.

Each check refuses the model with a ValueError, or warns with a
ConvergenceWarning, and its message names the features (and the class
against the reference class) involved and says what to do.
"""

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._backends._contract import DataTerm, RowData
from ._inference_result import INTERCEPT_NAME
from ._settings import FitSettings
from ._validation import warn

#: A Newton step from the estimate longer than this many standard errors
#: warns: it moves the z values by as much, the precision a summary prints.
_OPTIMUM_TOLERANCE_SE = 0.01
#: Variance of a parameter above this multiple of its variance at uniform
#: probabilities (same rows, same weights) means that the fitted
#: probabilities have saturated at 0 or 1 along it: separation.
_SATURATION_RATIO = 1e8
#: The largest linear program (entries of its constraint matrix, about
#: ``2 n (K - 1) (p + 1)`` for dense X) that inference solves to find
#: separation (HiGHS took 1.8 s at 1.7e6, 10,000 x 20 with 5 classes, and
#: 22 s at ten times the rows); beyond, the saturation test alone (it
#: depends on how far the fit went).
_SEPARATION_LP_ENTRIES = 2_000_000
#: The largest program that every unpenalised fit solves after it ends
#: (:func:`warn_if_separated`): about n (K - 1) (p + 1) <= 1e5, some 0.1 s,
#: so that the check costs a fit of small data little; inference solves up to
#: _SEPARATION_LP_ENTRIES.
_FIT_SEPARATION_ENTRIES = 200_000
#: A separating direction's largest margin, relative to the largest
#: |feature| (the direction within [-1, 1]), above which it is not the
#: solver's rounding.
_SEPARATION_MARGIN = 1e-7


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
        "Firth's bias-reduced estimate (firth=True), which is finite, or with "
        "a penalty (finite C), whose covariance the result then gives, or "
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
    try:
        _, vectors = np.linalg.eigh(information / np.outer(spread, spread))
    except np.linalg.LinAlgError:
        # Probabilities saturated to the point where the eigensolver fails
        # ("Eigenvalues did not converge"): the direction goes unnamed.
        return ""
    k, j = np.unravel_index(np.argmax(np.abs(vectors[:, 0])), (len(others), len(names)))
    return _direction(k, j, r, others, classes, names)


def _distance_in_se(step: np.ndarray, bread: np.ndarray) -> float:
    """The Newton step's largest move of a coefficient in standard errors.

    The unit is ``sqrt(diag(H_C^-1))``: the nonrobust standard errors without
    a penalty. (A penalised fit's sandwich may give a coefficient a standard
    error of zero, which would make any step infinitely long.)
    """
    return float(np.max(np.abs(step) / np.sqrt(np.diag(bread)), initial=0.0))


def _check_at_optimum(distance: float, n_steps: int) -> None:
    """Warn when the estimate, after ``n_steps`` Newton steps of inference's
    own, is still a Newton step of ``distance`` standard errors from the
    optimum (:func:`_distance_in_se`)."""
    if distance <= _OPTIMUM_TOLERANCE_SE:
        return
    where = (
        "The fit's estimate is too far from the optimum for inference to finish it"
        if n_steps == 0
        else f"After {n_steps} Newton steps from the fit's estimate, inference "
        "has not reached the optimum"
    )
    warn(
        f"{where}: a Newton step moves a coefficient by {distance:.2g} "
        f"(model-based) standard errors, more than {_OPTIMUM_TOLERANCE_SE}. "
        "The standard errors, z values and intervals are computed there all "
        "the same; refit with a smaller tol (1e-6, say) or a larger max_iter "
        "for accurate ones.",
        ConvergenceWarning,
    )


def separating_direction(
    X: np.ndarray | sp.csr_array | sp.csr_matrix,
    y_code: np.ndarray,
    sample_weight: np.ndarray,
    n_classes: int,
    fit_intercept: bool,
    max_entries: int = _SEPARATION_LP_ENTRIES,
) -> np.ndarray | None:
    """A direction along which the likelihood rises without end, from the
    data alone (Konis 2007, for K classes): weights D, one row per class, the
    intercepts' column last, with ``(d_{y_i} - d_l) . x_i >= 0`` for every
    row i of positive weight and every other class l, and some inequality
    strict. None if there is none: the maximum likelihood estimate exists.

    The linear program maximises the sum of those margins with D in [-1, 1]
    and the first class's row fixed at zero (a shift of every row changes no
    margin); its optimum is 0 exactly where no such direction exists.
    None also where the program has more than ``max_entries`` entries.
    """
    keep = sample_weight > 0
    # The program's size from X's, before any copy: at most these entries.
    n_rows = int(np.count_nonzero(keep))
    stored = int(getattr(X, "nnz", n_rows * X.shape[1]))
    stored += n_rows * fit_intercept
    if 2 * stored * (n_classes - 1) > max_entries:
        return None
    rows = sp.csr_array(X)[np.flatnonzero(keep)]
    if fit_intercept:
        rows = sp.hstack([rows, np.ones((rows.shape[0], 1))], format="csr")
    codes = y_code[keep]
    n_columns = rows.shape[1]
    # The variables: the rows of classes 1..K-1 of D, class 0's held at 0.
    # One constraint per (row, other class l): x_i . (d_l - d_{y_i}) <= 0.
    entries_row, entries_column, entries_value = [], [], []
    n_constraints = 0
    coo = rows.tocoo()
    for other in range(n_classes):
        members = np.flatnonzero(codes != other)
        numbering = np.full(rows.shape[0], -1)
        numbering[members] = n_constraints + np.arange(members.size)
        n_constraints += members.size
        mask = codes[coo.row] != other
        constraint = numbering[coo.row[mask]]
        column, value = coo.col[mask], coo.data[mask]
        own = codes[coo.row[mask]]
        if other > 0:
            entries_row.append(constraint)
            entries_column.append((other - 1) * n_columns + column)
            entries_value.append(value)
        mine = own > 0
        entries_row.append(constraint[mine])
        entries_column.append((own[mine] - 1) * n_columns + column[mine])
        entries_value.append(-value[mine])
    n_variables = (n_classes - 1) * n_columns
    A = sp.csr_array(
        (
            np.concatenate(entries_value),
            (np.concatenate(entries_row), np.concatenate(entries_column)),
        ),
        shape=(n_constraints, n_variables),
    )
    # Maximise the margins' sum, -(A v).sum(): minimise the column sums.
    objective = np.asarray(A.sum(axis=0)).ravel()
    result = scipy.optimize.linprog(
        objective,
        A_ub=A,
        b_ub=np.zeros(n_constraints),
        bounds=(-1.0, 1.0),
        method="highs",
    )
    if result.status != 0:
        return None
    direction = result.x
    margins = -(A @ direction)
    scale = float(np.max(np.abs(coo.data), initial=1.0))
    largest = float(np.max(margins, initial=0.0))
    # The solver's tolerances allow small violations and margins; a margin
    # far above both is a direction (the data term's scale is the features').
    violation = float(max(-np.min(margins, initial=0.0), 0.0))
    if largest <= _SEPARATION_MARGIN * scale or violation > 1e-3 * largest:
        return None
    weights = np.vstack([np.zeros(n_columns), direction.reshape(-1, n_columns)])
    weights[np.abs(weights) <= 1e-6 * np.abs(weights).max()] = 0.0
    return weights


def check_not_separable(
    X: np.ndarray | sp.csr_array | sp.csr_matrix,
    y_code: np.ndarray,
    sample_weight: np.ndarray,
    r: int,
    classes: np.ndarray,
    names: np.ndarray,
) -> None:
    """Refuse data along which the classes are (quasi-)completely separated:
    :func:`separating_direction`, whatever the fit's tol. The message is
    :func:`separation_text`'s."""
    where = separation_text(X, y_code, sample_weight, r, classes, names)
    if where is not None:
        raise ValueError(_separation_message(where))


def warn_if_separated(
    data: DataTerm,
    classes: np.ndarray,
    feature_names: np.ndarray | None,
    settings: FitSettings,
) -> None:
    """A ``ConvergenceWarning`` after an unpenalised fit (no bounds, not
    Firth's) whose classes are separated in the data, as the linear program
    of :func:`separating_direction` finds them whatever the fit's tol: its
    estimate is then not an optimum, however the stop tests ended (smoothed
    targets have one). In memory only, on programs of at most
    ``_FIT_SEPARATION_ENTRIES`` entries (inference checks larger ones)."""
    factors = settings.penalty_factor
    unpenalised = np.isinf(settings.C) or (
        factors is not None and bool(np.all(np.asarray(factors) == 0))
    )
    if (
        not unpenalised
        or settings.firth
        or settings.coef_bounds is not None
        or settings.label_smoothing > 0  # smoothed targets have an optimum
        or not isinstance(data, RowData)
    ):
        return
    if feature_names is None:
        feature_names = np.array([f"x{j}" for j in range(data.n_features)])
    names = np.array(
        [
            *(str(name) for name in feature_names),
            *([INTERCEPT_NAME] if settings.fit_intercept else []),
        ],
        dtype=object,
    )
    where = separation_text(
        data.X,
        data.y_code,
        data.raw_weight(),
        0,
        classes,
        names,
        max_entries=_FIT_SEPARATION_ENTRIES,
    )
    if where is not None:
        warn(
            f"{settings.estimator}: the classes are separated in the training "
            f"data ({where}). Without a penalty the maximum likelihood "
            "estimate does not exist: the coefficients grow with max_iter and "
            "a smaller tol, whatever the stop tests say. Use a finite C, "
            "Firth's bias-reduced fit (firth=True), or drop the separating "
            "features.",
            ConvergenceWarning,
        )


def separation_text(
    X: np.ndarray | sp.csr_array | sp.csr_matrix,
    y_code: np.ndarray,
    sample_weight: np.ndarray,
    r: int,
    classes: np.ndarray,
    names: np.ndarray,
    max_entries: int = _SEPARATION_LP_ENTRIES,
) -> str | None:
    """Where the classes are (quasi-)completely separated, by
    :func:`separating_direction`, or None where they are not (or the program
    is too large to solve): the contrast and feature that move the scores
    most along the direction (as :func:`_direction`), then each class whose
    contrast against the reference ``r`` moves, and its features. ``names``
    are the columns' (the intercept's last, where there is one)."""
    fit_intercept = len(names) > X.shape[1]
    direction = separating_direction(
        X, y_code, sample_weight, len(classes), fit_intercept, max_entries
    )
    if direction is None:
        return None
    contrasts = direction - direction[r]
    labels = classes.tolist()
    others = np.array([k for k in range(len(classes)) if k != r])
    spread = abs(sp.csr_array(X)).max(axis=0)
    spread = np.append(spread.toarray().ravel() if sp.issparse(spread) else spread, 1.0)
    moved = np.abs(contrasts[others]) * spread[: contrasts.shape[1]]
    k, j = np.unravel_index(np.argmax(moved), moved.shape)
    parts = [
        f"class {labels[k]!r}: {[str(name) for name in names[contrasts[k] != 0]]}"
        for k in range(len(classes))
        if k != r and np.any(contrasts[k] != 0)
    ]
    return (
        _direction(k, j, r, others, classes, names)
        + "; a linear program finds it in the data, along "
        + "; ".join(parts)
    )
