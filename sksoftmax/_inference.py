"""Inference for a fitted softmax model: the entry point, :func:`inference`.

It checks the estimator and its arguments, sums the information and the meat
over the rows in one pass (:mod:`sksoftmax._covariance`, which states the
covariances), checks that the estimate is one that the standard errors
describe (:mod:`sksoftmax._identification`), and returns an
:class:`InferenceResult` (:mod:`sksoftmax._inference_result`, which states
the parameterisation).

Memory
------
The data term runs :func:`block_sums` where its rows are (``sum_blocks``):
here, or on the workers of a Dask cluster, in blocks of about
``_BLOCK_ENTRIES`` scores. A matrix of parameters larger than
``MAX_MATRIX_ENTRIES`` is refused before it is formed.
"""

from __future__ import annotations

import contextlib
from types import ModuleType
from typing import Any, cast

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.pipeline import Pipeline
from sklearn.utils import column_or_1d
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ._backends import Prepared, backend_for
from ._backends._contract import BlockData, RowData
from ._classifier import SoftmaxRegressionClassifier
from ._covariance import _add_penalty, _cluster_factor, _inverse, _Sums, block_sums
from ._firth import log_det_gradient
from ._identification import (
    _check_at_optimum,
    _check_identified,
    _check_not_separated,
    _check_off_bounds,
    _distance_in_se,
    _flattest,
    _separation_message,
    check_not_separable,
)
from ._inference_result import INTERCEPT_NAME, InferenceResult, _check_alpha
from ._model import numpy_model
from ._namespace import as_numpy
from ._settings import FitSettings
from ._validation import _IS_MISSING

#: Entries of one n_params x n_params matrix, at most: 2**26 float64 entries
#: are 512 MiB (8,192 parameters). The information, the meat and the
#: covariance with their products peak at about five such matrices
#: (tracemalloc, HC0 and cluster; 3.5 for nonrobust): 2.5 GiB at the bound.
#: Also the bound on the group sums of the cluster covariance
#: (n_groups x n_params).
MAX_MATRIX_ENTRIES = 2**26
#: Entries of the block of per-row scores formed at a time (16 MiB).
_BLOCK_ENTRIES = 2**21

#: inference's own Newton steps: taken from an estimate at most
#: _POLISH_REACH (model-based) standard errors from the optimum, where the
#: log-likelihood is near its quadratic model, until a step moves no
#: coefficient by more than _POLISHED_SE of one, at most _POLISH_STEPS.
_POLISH_REACH = 3.0
_POLISHED_SE = 1e-8
_POLISH_STEPS = 5
COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")
#: The settings by which inference checks its data: no class weights, and
#: messages that name inference.
_DATA_RULES = FitSettings(estimator="inference")


def inference(
    estimator: SoftmaxRegressionClassifier | Pipeline,
    X: ArrayLike | sp.spmatrix | sp.sparray,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    reference: Any = None,
    cov_type: str = "nonrobust",
    groups: ArrayLike | None = None,
    alpha: float = 0.05,
) -> InferenceResult:
    """Standard errors, z tests and confidence intervals of a fitted model.

    The model is identified through its contrasts against a reference class
    (see the user guide, "Inference and interpretation"): ``params[k, j]`` is
    the weight of feature j in the k-th class other than the reference,
    minus its weight in the reference class, and the last column holds the
    intercepts' differences. The covariances follow statsmodels' ``MNLogit``
    and are computed at the estimator's coefficients on the data given,
    normally the training data.

    Parameters
    ----------
    estimator : SoftmaxRegressionClassifier or Pipeline
        A fitted classifier, with ``l1_ratio=0`` (or ``C=np.inf``), no
        ``class_weight``, no ``label_smoothing`` and no weight on a
        ``coef_bounds`` bound. Its ``penalty_factor`` weighs each feature's
        penalty in the penalised covariance. Or a fitted ``Pipeline`` whose
        last step is such a classifier: X goes through the steps before it,
        and the parameters are named by their ``get_feature_names_out()``
        (where the classifier saw no names).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data the model was fitted on: NumPy, pandas, SciPy sparse, or a
        Dask array or DataFrame (summed on the cluster of the current
        ``dask.distributed`` client; not with ``cov_type="cluster"``).
    y : array-like of shape (n_samples,)
        Their labels; every class of the model must occur.
    sample_weight : array-like of shape (n_samples,), default=None
        The weights the model was fitted with. They are frequency weights: a
        weight of 3 counts as three copies of the row, in the standard errors
        too, and ``nobs`` is their sum.
    reference : label, default=None
        The reference class; None takes ``classes_[0]``.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The inverse of the observed information; the heteroscedasticity-
        robust sandwich; the same times ``nobs / (nobs - n_params)``
        (MacKinnon and White's small-sample factor; statsmodels' discrete
        models apply none under this name, their HC1 equals their HC0); or the
        cluster-robust sandwich over ``groups``, with statsmodels'
        small-sample factor.
    groups : array-like of shape (n_samples,), default=None
        Group labels, with ``cov_type="cluster"`` only.
    alpha : float, default=0.05
        Level of the confidence intervals that ``conf_int`` and ``summary``
        give by default.

    Returns
    -------
    result : InferenceResult
        ``params``, ``bse``, ``zvalues``, ``pvalues``, ``conf_int()``,
        ``cov_params``, the fit statistics and ``summary()``.

    Raises
    ------
    TypeError
        For an estimator other than a ``SoftmaxRegressionClassifier``, and
        for arrays of another library than NumPy or Dask.
    ValueError
        For an L1 or elastic-net fit (inference after selection is not valid),
        class weights or label smoothing; for a weight on its bound; when
        the information is singular (collinear features, or separated classes
        without a penalty, or among the features with a penalty factor of
        0); when a
        covariance matrix would exceed ``MAX_MATRIX_ENTRIES``; for
        ``cov_type="cluster"`` on Dask collections.

    Warns
    -----
    ConvergenceWarning
        When the estimate is not at the optimum to a hundredth of a
        (model-based) standard error, and too far from it (3 standard errors)
        for inference's own Newton steps to finish it, or they do not: refit
        with a smaller ``tol`` or a larger ``max_iter``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxRegressionClassifier, inference
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegressionClassifier(C=10.0, tol=1e-8).fit(X, y)
    >>> result = inference(clf, X, y)
    >>> result.params.shape, result.bse.shape, result.cov_params.shape
    ((2, 5), (2, 5), (10, 10))
    >>> result.conf_int().shape
    (2, 5, 2)
    """
    names, transform = None, None
    if isinstance(estimator, Pipeline):
        transform = estimator[:-1] if len(estimator.steps) > 1 else None
        estimator, X, names = _through_pipeline(estimator, X)
    check_is_fitted(estimator)
    _check_estimator(estimator)
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    if (groups is None) == (cov_type == "cluster"):
        raise ValueError('groups are given with cov_type="cluster", and only then.')
    alpha = _check_alpha(alpha)
    backend = backend_for(X, y)
    prepared = _prepare(estimator, backend, X, y, sample_weight, cov_type)
    data = prepared.data
    # Data that frees what it holds on leaving its context (a cluster's
    # persisted blocks) is used inside it, errors included; in-memory data is
    # used outside, with BLAS free to use its threads for the sums' products.
    releases = backend.CAPABILITIES.releases_on_exit
    with data if releases else contextlib.nullcontext():
        classes = as_numpy(estimator.classes_)
        _check_classes(classes, prepared)
        # (_prepare refuses data whose terms do not sum blocks.)
        rows = cast(BlockData, data)
        lazy = None
        if not backend.CAPABILITIES.holds_rows:
            lazy = _lazy_rows(X, y, sample_weight, classes)
        return _inference(
            estimator, rows, classes, reference, cov_type, groups, alpha, names,
            transform, lazy,
        )  # fmt: skip


def _lazy_rows(
    X: Any, y: Any, sample_weight: Any, classes: np.ndarray
) -> tuple[Any, Any, Any] | None:
    """A Dask X, its weights (ones where None) and the codes of its labels
    (their columns in ``classes``) as Dask arrays of the same row chunks,
    for the result's marginal effects and likelihood-ratio refits, computed
    on the cluster when asked for (None for other collections)."""
    if not hasattr(X, "dask"):
        return None
    import dask.array as da

    from ._backends._dask import as_dask_array

    X = as_dask_array(X, "X")
    chunks = (X.chunks[0],)
    labels = y if hasattr(y, "dask") else da.from_array(np.asarray(y), chunks=chunks)
    codes = (
        as_dask_array(labels, "y")
        .rechunk(chunks)
        .map_blocks(lambda block: np.searchsorted(classes, block), dtype=np.intp)
    )
    if sample_weight is None:
        weight = da.ones(X.shape[0], chunks=chunks)
    elif hasattr(sample_weight, "dask"):
        weight = as_dask_array(sample_weight, "sample_weight").rechunk(chunks)
    else:
        weight = da.from_array(np.asarray(sample_weight, np.float64), chunks=chunks)
    return X, weight.astype(np.float64), codes


def _through_pipeline(
    pipeline: Pipeline, X: Any
) -> tuple[SoftmaxRegressionClassifier, Any, np.ndarray | None]:
    """The pipeline's classifier, X through the steps before it, and the
    names of their output (None where they have none)."""
    final = pipeline.steps[-1][1]
    if not isinstance(final, SoftmaxRegressionClassifier):
        raise TypeError(
            "inference takes a Pipeline whose last step is a fitted "
            f"SoftmaxRegressionClassifier; its last step is "
            f"{type(final).__name__}."
        )
    if len(pipeline.steps) == 1:
        return final, X, None
    before = pipeline[:-1]
    check_is_fitted(final)
    X = before.transform(X)
    names = None
    if getattr(final, "feature_names_in_", None) is None:
        try:
            names = np.asarray(before.get_feature_names_out(), dtype=object)
        except (AttributeError, ValueError, TypeError):
            # A step without get_feature_names_out: the names x0, x1, ...
            names = None
    return final, X, names


def _prepare(
    estimator: SoftmaxRegressionClassifier,
    backend: ModuleType,
    X: ArrayLike | sp.spmatrix | sp.sparray,
    y: ArrayLike,
    sample_weight: ArrayLike | None,
    cov_type: str,
) -> Prepared:
    """The checked data (a back-end's ``Prepared``), whose data term sums
    over its row blocks."""
    capabilities = backend.CAPABILITIES
    if not capabilities.takes_inference:
        raise TypeError(
            "inference runs on NumPy arrays, pandas, SciPy sparse matrices and "
            f"Dask collections; got {type(X).__module__}.{type(X).__name__} "
            "data. Convert arrays of another library (and the model, with "
            "sksoftmax.to_numpy) to NumPy first."
        )
    if not capabilities.holds_rows:
        if cov_type == "cluster":
            raise ValueError(
                f'cov_type="cluster" is not available for {capabilities.input_name} '
                "(its groups would have to follow the row blocks): compute X, y "
                'and the groups, or use cov_type="HC0".'
            )
        # The features as validate_data checks them, from the input's
        # metadata: before any of it is computed.
        _check_n_features(estimator, X, reset=False)
        _check_feature_names(estimator, X, reset=False)
        return backend.prepare(X, y, sample_weight, _DATA_RULES)
    X = validate_data(
        estimator,
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        reset=False,
    )
    return backend.prepare(X, y, sample_weight, _DATA_RULES)


def _inference(
    estimator: SoftmaxRegressionClassifier,
    data: BlockData,
    classes: np.ndarray,
    reference: Any,
    cov_type: str,
    groups: ArrayLike | None,
    alpha: float,
    names: np.ndarray | None = None,
    transform: Any = None,
    lazy_rows: tuple[Any, Any, Any] | None = None,
) -> InferenceResult:
    """:func:`inference` on checked data (``names``: the features', where
    the estimator has none)."""
    # 1. The classes, the reference class and the groups.
    n_classes = len(classes)
    totals = data.class_totals(n_classes)
    if np.any(totals <= 0):
        raise ValueError(
            "Every class of the model needs rows of positive weight; class "
            f"{classes.tolist()[np.argmax(totals <= 0)]!r} has none."
        )
    r = _reference_index(reference, classes)
    group_codes = None
    if groups is not None:
        group_codes = _group_codes(groups, data.n_samples)

    # 2. The model: every class's weights and intercepts in float64, and the
    # columns of the contrasts; off the bounds, and within the size bound.
    settings = estimator._settings_of_fit()
    coef, weights, intercept = numpy_model(estimator, "inference")
    fit_intercept = settings.fit_intercept
    names = _column_names(estimator, fit_intercept, names)
    _check_off_bounds(settings.coef_bounds, coef, names)
    others = np.array([k for k in range(n_classes) if k != r])
    n_params = len(others) * len(names)
    _check_size(n_params, n_params, "the covariance of the parameters")

    # 3. The penalty: each feature's factor, and whether any applies.
    C = settings.C
    factors = settings.penalty_factor
    if factors is None:
        factors = np.ones(data.n_features)
    penalized = bool(np.isfinite(C) and np.any(factors > 0))
    firth = settings.firth
    if not penalized and not firth and isinstance(data, RowData):
        # Separation from the data alone, before the fit's saturation shows
        # it (a fit at tol=1e-6 can stop with a finite, wrong estimate).
        check_not_separable(data.X, data.y_code, data.raw_weight(), r, classes, names)

    raw = data.weight_sum

    def contrast_layout(by_class: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
        """The rows of the other classes, the intercepts' column last."""
        columns = [by_class[others]]
        return np.column_stack(
            columns + [intercepts[others]] if fit_intercept else columns
        )

    # 4-6, repeated: the sums, the gradient and the Newton step at the
    # estimate. An estimate near the optimum but not at it (within
    # _POLISH_REACH standard errors) moves by Newton steps until it is (to
    # _POLISHED_SE), up to _POLISH_STEPS of them: the estimate that
    # inference describes is the optimum, whatever tol the fit used. Steps
    # that no longer halve the distance have reached the gradient's rounding.
    previous = np.inf
    for polish in range(_POLISH_STEPS + 1):
        # 4. One pass over the rows for the sums, one for the data term.
        sums = _information_sums(
            data, weights, intercept, others, fit_intercept, cov_type, group_codes
        )
        loss, grad_weights, grad_intercept = data.loss_gradient(weights, intercept, 0.0)

        # 5. The estimate and the gradient in the contrasts.
        params = contrast_layout(weights - weights[r], intercept - intercept[r])
        # The gradient of the penalised negative log-likelihood in the contrasts:
        # that of the data term in the weights of the other classes (the contrast
        # moves them with the reference class held), in sums rather than means.
        gradient = raw * contrast_layout(grad_weights, grad_intercept)

        # 6. The (penalised) Hessian, its columns identified, and its inverse: the
        # bread, and the Newton step from the estimate.
        information = sums.information
        if firth:
            # Firth's objective adds -1/2 log det of the information; its
            # gradient needs the information's inverse (Fisher scoring's
            # Hessian leaves the log-determinant's curvature out).
            _check_identified(sums.scatter, names)
            inverse = _inverse(scipy.linalg.cho_factor(information))
            gradient -= 0.5 * log_det_gradient(
                data, weights, intercept, others, fit_intercept, inverse
            )
            del inverse
        if penalized:
            # Unpenalised columns (a factor of 0, the intercept) must be
            # identified by the data alone.
            free = np.append(factors == 0, [True] * fit_intercept)
            if np.any(factors == 0):
                _check_identified(sums.scatter[np.ix_(free, free)], names[free])
            hessian = information.copy()
            gradient += _add_penalty(hessian, params, n_classes, factors / C)
        else:
            _check_identified(sums.scatter, names)
            hessian = information
        try:
            factor = scipy.linalg.cho_factor(hessian, overwrite_a=penalized)
        except np.linalg.LinAlgError:
            # Unpenalised (a penalised Hessian is positive definite), with
            # columns that are not collinear: the probabilities saturate.
            where = _flattest(information, r, others, classes, names)
            raise ValueError(_separation_message(where)) from None
        del hessian
        # The Newton step from the estimate, before the inverse takes the
        # factor's place.
        step = scipy.linalg.cho_solve(factor, gradient.ravel())
        bread = _inverse(factor)
        del factor

        distance = _distance_in_se(step, bread)
        if distance <= _POLISHED_SE or distance > min(_POLISH_REACH, previous / 2):
            break
        if polish == _POLISH_STEPS or settings.coef_bounds is not None:
            # (Steps that ignore bounds could leave them: not taken.)
            break
        previous = distance
        moves = step.reshape(params.shape)
        weights, intercept = weights.copy(), intercept.copy()
        weights[others] -= moves[:, : data.n_features]
        if fit_intercept:
            intercept[others] -= moves[:, -1]

    # 7. The estimate: not separated, and at the optimum.
    if not penalized and not firth:
        _check_not_separated(bread, sums.scatter, totals, r, others, classes, names)
    _check_at_optimum(distance, polish)

    # 8. The covariance: the bread, or the sandwich with the meat of cov_type.
    if cov_type == "nonrobust":
        meat = information if penalized else None
    elif cov_type in ("HC0", "HC1"):
        meat = sums.meat
        if cov_type == "HC1":
            assert meat is not None  # HC sums
            if raw <= n_params:
                raise ValueError(
                    f'cov_type="HC1" needs more observations ({raw:g}, the sum '
                    f"of the sample weights) than parameters ({n_params}); use "
                    '"HC0".'
                )
            meat = meat * (raw / (raw - n_params))
    else:
        meat = sums.meat
        assert meat is not None and sums.n_groups is not None  # cluster sums
        meat *= _cluster_factor(sums.n_groups, raw, n_params)
    if meat is None:
        cov = bread
    else:
        cov = bread @ meat @ bread
        cov += cov.T
        cov *= 0.5

    # 9. The result, with the fit statistics.
    # trace(bread @ information), without the product.
    effective = np.einsum("ij,ji->", bread, information) if penalized else n_params
    llnull = float(totals @ np.log(totals / totals.sum()))
    rows: tuple[Any, Any] | None = None
    targets: Any = None
    if isinstance(data, RowData):
        rows, targets = (data.X, data.raw_weight()), data.y_code
    elif lazy_rows is not None:
        rows, targets = lazy_rows[:2], lazy_rows[2]
    return InferenceResult(
        params=params,
        # A variance of zero (a coefficient that the penalty alone fixes, as
        # that of a constant feature beside the intercept) may round below it.
        bse=np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(params.shape),
        cov_params=cov,
        classes=classes[others],
        reference=classes[r],
        feature_names=names,
        cov_type=cov_type,
        penalized=penalized,
        C=C,
        alpha=alpha,
        nobs=raw,
        n_groups=sums.n_groups,
        llf=-raw * loss,
        llnull=llnull,
        df_params=float(effective),
        rows=rows,
        targets=targets,
        fit_intercept=fit_intercept,
        transform=transform,
        firth=firth,
    )


def _information_sums(
    data: BlockData,
    weights: np.ndarray,
    intercept: np.ndarray,
    others: np.ndarray,
    fit_intercept: bool,
    cov_type: str,
    codes: np.ndarray | None,
) -> _Sums:
    """The information, the scatter and the meat of ``cov_type``: one pass of
    :func:`block_sums` over the data's rows, wherever they are."""
    n_params = len(others) * (data.n_features + fit_intercept)
    n_groups = None
    if cov_type == "cluster":
        # Groups whose rows all have zero weight are not observed: renumber
        # the others 0, 1, ...; rows of zero weight add nothing to a sum.
        # (Only data that holds its rows takes groups: _prepare.)
        assert codes is not None and isinstance(data, RowData)
        positive = np.unique(codes[data.raw_weight() > 0])
        n_groups = len(positive)
        if n_groups < 2:
            raise ValueError(
                'cov_type="cluster" needs at least 2 groups (of positive weight), '
                f"got {n_groups}."
            )
        renumbered = np.zeros(codes.max() + 1, dtype=np.intp)
        renumbered[positive] = np.arange(n_groups)
        codes = renumbered[codes]
        _check_size(n_groups, n_params, "the score sums of the groups")
    parts = data.sum_blocks(
        block_sums,
        (weights, intercept),
        others=others,
        fit_intercept=fit_intercept,
        # HC1's sums are HC0's (its factor comes after).
        cov_type="HC0" if cov_type == "HC1" else cov_type,
        block_entries=_BLOCK_ENTRIES,
        codes=codes,
        n_groups=n_groups,
    )
    information, scatter = parts[:2]
    information = (information + information.T) / 2
    meat = None
    if cov_type in ("HC0", "HC1"):
        meat = parts[2]
    elif cov_type == "cluster":
        meat = parts[2].T @ parts[2]
    return _Sums(information, scatter, meat, n_groups)


def _reference_index(reference: Any, classes: np.ndarray) -> int:
    """The index in ``classes`` of the reference class (0 for None)."""
    if reference is None:
        return 0
    matches = []
    if np.ndim(reference) == 0:
        matches = [k for k, label in enumerate(classes.tolist()) if label == reference]
    if len(matches) != 1:
        raise ValueError(
            f"reference must be one of the model's classes {classes.tolist()}, "
            f"got {reference!r}."
        )
    return matches[0]


def _check_estimator(estimator: object) -> None:
    if not isinstance(estimator, SoftmaxRegressionClassifier):
        raise TypeError(
            "inference takes a fitted SoftmaxRegressionClassifier, got "
            f"{type(estimator).__name__}. (For a SoftmaxRegressionCV, the "
            "tests of a C chosen on the same data are not valid; fit a "
            "SoftmaxRegressionClassifier, with C=np.inf for maximum likelihood.)"
        )
    # What the model was fitted with, whatever its parameters are now.
    settings = estimator._settings_of_fit()
    if np.isfinite(settings.C) and settings.l1_ratio > 0:
        raise ValueError(
            f"inference needs l1_ratio=0 (or C=np.inf); the model has l1_ratio="
            f"{settings.l1_ratio}. An L1 or elastic-net penalty selects the "
            "features it keeps from the same data, and standard errors that "
            "ignore the selection are not valid (post-selection inference). "
            "Refit the selected features with l1_ratio=0 on other data."
        )
    if settings.class_weight is not None:
        raise ValueError(
            "inference needs class_weight=None: class weights change the "
            "quantity the model estimates, and are not frequency weights. Use "
            "sample_weight for frequency weights."
        )
    if settings.label_smoothing > 0:
        raise ValueError(
            "inference needs label_smoothing=0: with smoothed targets the fit "
            "is not a maximum likelihood estimate, and its likelihood-based "
            "standard errors would be wrong."
        )


def _check_classes(classes: np.ndarray, prepared: Prepared) -> None:
    if not np.array_equal(prepared.classes, classes):
        raise ValueError(
            f"y must hold the model's classes {classes.tolist()}; it holds "
            f"{prepared.classes.tolist()}."
        )


def _check_size(rows: int, columns: int, what: str) -> None:
    if rows * columns > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"{what} would be a {rows} x {columns} matrix, more than "
            f"sksoftmax.inference's bound of {MAX_MATRIX_ENTRIES} entries "
            f"({MAX_MATRIX_ENTRIES * 8 / 2**30:g} GiB): use fewer features or "
            "classes."
        )


def _group_codes(groups: ArrayLike, n_samples: int) -> np.ndarray:
    """Group labels as codes 0, 1, ... (any labels that sort together)."""
    labels = column_or_1d(groups, warn=True)
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"groups has {labels.shape[0]} entries, X has {n_samples} rows."
        )
    if labels.dtype.kind == "f":
        missing = np.isnan(labels).any()
    else:
        missing = labels.dtype.kind == "O" and _IS_MISSING(labels).any()
    if missing:
        raise ValueError("groups must not contain missing values (NaN or pd.NA).")
    try:
        return np.unique(labels, return_inverse=True)[1].ravel()
    except TypeError as error:
        raise ValueError(f"groups must be labels that sort together: {error}") from None


def _column_names(
    estimator: SoftmaxRegressionClassifier,
    fit_intercept: bool,
    given: np.ndarray | None = None,
) -> np.ndarray:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and given is not None and len(given) == estimator.n_features_in_:
        names = given
    if names is None:
        names = [f"x{j}" for j in range(estimator.n_features_in_)]
    names = [str(name) for name in names]
    return np.array(names + [INTERCEPT_NAME] if fit_intercept else names, dtype=object)
