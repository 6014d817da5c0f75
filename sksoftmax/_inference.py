"""Inference for a fitted softmax model: standard errors, tests and intervals.

Parameterisation
----------------
The probabilities do not change when one vector is added to every class's
weights, so the weights themselves are not identified; their differences are.
The parameters are therefore the contrasts against a reference class r::

    beta_k = (w_k - w_r, b_k - b_r)        for each class k != r

in the rows of ``params``, of shape (n_classes - 1, n_features + 1) (the
intercept last; without it, n_features columns), the classes in ``classes_``
order without r. ``exp(beta_kj)`` is the factor by which the odds of class k
against r change per unit of feature j (a relative risk ratio). Every array
of a result (``params``, ``bse``, ``zvalues``, ``pvalues``, ``conf_int``) has
this layout, and ``cov_params`` is the covariance of ``params.ravel()``
(C order: class by class). This is ``statsmodels``' ``MNLogit`` with the
reference class first, transposed.

Covariances
-----------
With sample weights s_i (frequency weights: a weight of 3 is three copies of
the row), the probabilities p_i and the one-hot targets y_i of the classes
other than r, and ``x~_i = (x_i, 1)``, the sums below run over the rows::

    H = sum_i s_i (diag(p_i) - p_i p_i^T) kron x~_i x~_i^T   (the information)
    B = sum_i s_i (y_i - p_i)(y_i - p_i)^T kron x~_i x~_i^T   (HC0's meat)
    G = sum_g u_g u_g^T,  u_g = sum_{i in g} s_i (y_i - p_i) kron x~_i

``"nonrobust"`` is ``H^-1``, ``"HC0"`` is ``H^-1 B H^-1`` and ``"cluster"``
is ``c H^-1 G H^-1`` with statsmodels' factor
``c = n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_params)``, nobs the
sum of the weights. These are ``MNLogit.fit(cov_type=...)``'s conventions, and
each equals its value on the rows repeated as the weights say.

A penalised fit (finite C) estimates another quantity than the maximum
likelihood estimate, shrunk towards zero. Its covariance is the sandwich with
the penalised Hessian ``H_C = H + (1/C) Pen``, ``H_C^-1 M H_C^-1``, where the
meat M is H, B or c G as above. ``Pen`` is the Hessian of the penalty in the
contrasts: the L2 penalty of the fitted weights, which for three or more
classes sum to zero over the classes (the minimum of the penalty over the
shift above), is ``1/2 f_j beta_j^T (I - 1 1^T / K) beta_j`` for feature j
with penalty factor f_j (``penalty_factor``, 1 by default); with two classes
the weights of ``classes_[1]`` are the contrasts and the factor is f_j. The
intercepts are not penalised. A model with ``coef_bounds`` is refused where
a weight lies on its bound: there the estimate is not asymptotically normal.

Everything is summed in row blocks from the kernel's probabilities
(:func:`sksoftmax._loss.net_input`, :func:`sksoftmax._loss.softmax`): no
array of n_samples x n_params is formed, only blocks of it. The data term
runs :func:`block_sums` where its rows are (``sum_blocks``): here, or on the
workers of a Dask cluster.
"""

import contextlib
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.special import ndtr, ndtri
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import column_or_1d
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ._backends import _dask as dask_backend
from ._backends import _numpy as numpy_backend
from ._backends import backend_for
from ._backends._array_api import as_numpy
from ._classifier import SoftmaxRegressionClassifier
from ._loss import iter_blocks, net_input, right_factor, softmax
from ._objective import with_reference_class
from ._validation import _IS_MISSING, coefficient_bounds, penalty_factors, warn

#: Entries of one n_params x n_params matrix, at most: 2**26 float64 entries
#: are 512 MiB (8,192 parameters). The information, the meat and the
#: covariance with their products peak at about five such matrices
#: (tracemalloc, HC0 and cluster; 3.5 for nonrobust): 2.5 GiB at the bound.
#: Also the bound on the group sums of the cluster covariance
#: (n_groups x n_params).
MAX_MATRIX_ENTRIES = 2**26
#: Entries of the block of per-row scores formed at a time (16 MiB).
_BLOCK_ENTRIES = 2**21
#: A Newton step from the estimate longer than this many standard errors
#: warns: it moves the z values by as much, the precision a summary prints.
_OPTIMUM_TOLERANCE_SE = 0.01
#: Variance of a parameter above this multiple of its variance at uniform
#: probabilities (same rows, same weights) means that the fitted
#: probabilities have saturated at 0 or 1 along it: separation.
_SATURATION_RATIO = 1e8

COV_TYPES = ("nonrobust", "HC0", "cluster")
_COV_DESCRIPTIONS = {
    "nonrobust": "nonrobust (inverse observed information)",
    "HC0": "HC0 (heteroscedasticity-robust sandwich)",
    "cluster": "cluster (cluster-robust sandwich, {n_groups} groups)",
}
INTERCEPT_NAME = "intercept"


@dataclass(frozen=True, repr=False)
class InferenceResult:
    """Standard errors, tests and intervals of a fitted softmax model.

    Returned by :func:`sksoftmax.inference`, which documents the
    parameterisation and the covariances. Arrays follow the layout of
    ``params``: one row per class other than the reference class, one column
    per feature and the intercept last.

    Attributes
    ----------
    params : ndarray of shape (n_classes - 1, n_features + fit_intercept)
        The contrasts against the reference class.
    bse : ndarray of the shape of ``params``
        Standard errors.
    zvalues : ndarray of the shape of ``params``
        ``params / bse``.
    pvalues : ndarray of the shape of ``params``
        Two-sided p-values of the z statistics under the standard normal.
    cov_params : ndarray of shape (n_params, n_params)
        Covariance of ``params.ravel()``.
    classes : ndarray of shape (n_classes - 1,)
        The classes of the rows, in ``classes_`` order.
    reference : object
        The reference class.
    feature_names : ndarray of shape (n_features + fit_intercept,)
        The names of the columns: ``feature_names_in_`` (or ``x0``, ``x1``,
        ...) and ``"intercept"``.
    cov_type : str
        "nonrobust", "HC0" or "cluster".
    penalized : bool
        Whether the fit had a penalty (finite C): then the covariance is that
        of the penalised estimator (a sandwich with the penalised Hessian).
    C : float
        The estimator's C.
    alpha : float
        The default level of :meth:`conf_int` and of :meth:`summary`.
    nobs : float
        The sum of the sample weights (the number of rows without weights).
    n_groups : int or None
        Number of groups (of positive weight) of the cluster covariance.
    llf : float
        The log-likelihood at ``params`` (without the penalty), weighted.
    llnull : float
        The log-likelihood of the model with intercepts only (the class
        frequencies), weighted; as statsmodels, also when the model was fitted
        without intercepts.
    df_params : float
        The number of parameters; for a penalised fit the effective number,
        ``trace(H_C^-1 H)``.
    aic : float
        ``-2 llf + 2 df_params``.
    bic : float
        ``-2 llf + log(nobs) df_params``.
    prsquared : float
        McFadden's pseudo R-squared, ``1 - llf / llnull``.
    """

    params: np.ndarray
    bse: np.ndarray
    cov_params: np.ndarray
    classes: np.ndarray
    reference: object
    feature_names: np.ndarray
    cov_type: str
    penalized: bool
    C: float
    alpha: float
    nobs: float
    n_groups: int | None
    llf: float
    llnull: float
    df_params: float
    zvalues: np.ndarray = field(init=False)
    pvalues: np.ndarray = field(init=False)

    def __post_init__(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.params / self.bse
        object.__setattr__(self, "zvalues", z)
        object.__setattr__(self, "pvalues", 2 * ndtr(-np.abs(z)))

    @property
    def aic(self) -> float:
        return -2 * self.llf + 2 * self.df_params

    @property
    def bic(self) -> float:
        return -2 * self.llf + np.log(self.nobs) * self.df_params

    @property
    def prsquared(self) -> float:
        return 1 - self.llf / self.llnull

    @property
    def cov_description(self) -> str:
        """The covariance in words, as the summary prints it."""
        text = _COV_DESCRIPTIONS[self.cov_type].format(n_groups=self.n_groups)
        if self.penalized:
            text += (
                f"; of the L2-penalised estimator (C={self.C:g}): a sandwich "
                "with the penalised Hessian, not the maximum likelihood "
                "covariance"
            )
        return text

    def conf_int(self, alpha=None) -> np.ndarray:
        """Confidence intervals of the parameters, from the normal quantiles.

        Parameters
        ----------
        alpha : float, default=None
            The intervals cover ``1 - alpha``; None uses the result's
            ``alpha``.

        Returns
        -------
        bounds : ndarray of shape (n_classes - 1, n_features + fit_intercept, 2)
            The lower and upper bounds, ``params -/+ q bse`` with q the
            ``1 - alpha / 2`` quantile of the standard normal.
        """
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        half_width = ndtri(1 - alpha / 2) * self.bse
        return np.stack([self.params - half_width, self.params + half_width], -1)

    def summary(self, alpha=None):
        """The parameters as a table, one row per (class, feature).

        Parameters
        ----------
        alpha : float, default=None
            Level of the confidence intervals; None uses the result's
            ``alpha``.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by (class, feature), with the columns ``coef``,
            ``std err``, ``z``, ``P>|z|``, the interval's bounds (``[0.025``
            and ``0.975]`` at ``alpha=0.05``) and ``odds ratio``
            (``exp(coef)``: the factor on the odds of the class against the
            reference class per unit of the feature).
        """
        try:
            import pandas as pd
        except ImportError as error:
            raise ImportError(
                "InferenceResult.summary needs pandas: pip install pandas"
            ) from error
        columns = self._columns(alpha)
        index = pd.MultiIndex.from_product(
            [self.classes, self.feature_names], names=["class", "feature"]
        )
        return pd.DataFrame({name: values.ravel() for name, values in columns}, index)

    def _columns(self, alpha):
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        bounds = self.conf_int(alpha)
        return [
            ("coef", self.params),
            ("std err", self.bse),
            ("z", self.zvalues),
            ("P>|z|", self.pvalues),
            (f"[{alpha / 2:g}", bounds[..., 0]),
            (f"{1 - alpha / 2:g}]", bounds[..., 1]),
            ("odds ratio", np.exp(self.params)),
        ]

    def __str__(self) -> str:
        statistics = [
            ("Observations", f"{self.nobs:.12g}", "Log-likelihood", f"{self.llf:.6g}"),
            ("Parameters", f"{self.df_params:.6g}", "LL-Null", f"{self.llnull:.6g}"),
            ("AIC", f"{self.aic:.6g}", "Pseudo R-squ.", f"{self.prsquared:.4f}"),
            ("BIC", f"{self.bic:.6g}", "Reference class", str(self.reference)),
        ]
        lines = [
            "Softmax regression: contrasts against the reference class",
            f"Covariance: {self.cov_description}",
        ]
        lines += [f"{a:<16}{b:>14}    {c:<16}{d:>14}" for a, b, c, d in statistics]
        columns = self._columns(None)
        labels = [(str(k), str(j)) for k in self.classes for j in self.feature_names]
        widths = [max(len("class"), *(len(k) for k, _ in labels))]
        widths.append(max(len("feature"), *(len(j) for _, j in labels)))
        header = f"{'class':<{widths[0]}}  {'feature':<{widths[1]}}"
        header += "".join(f"{name:>12}" for name, _ in columns)
        lines += ["", header, "-" * len(header)]
        values = np.column_stack([v.ravel() for _, v in columns])
        for (k, j), row in zip(labels, values, strict=True):
            cells = "".join(f"{value:>12.4g}" for value in row)
            lines.append(f"{k:<{widths[0]}}  {j:<{widths[1]}}{cells}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<InferenceResult: {self.params.size} parameters, cov_type="
            f"{self.cov_type!r}, reference class {self.reference!r}>"
        )


def inference(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    reference=None,
    cov_type="nonrobust",
    groups=None,
    alpha=0.05,
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
    estimator : SoftmaxRegressionClassifier
        A fitted classifier, with ``l1_ratio=0`` (or ``C=np.inf``), no
        ``class_weight``, no ``label_smoothing`` and no weight on a
        ``coef_bounds`` bound. Its ``penalty_factor`` weighs each feature's
        penalty in the penalised covariance.
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
    cov_type : {"nonrobust", "HC0", "cluster"}, default="nonrobust"
        The inverse of the observed information; the heteroscedasticity-
        robust sandwich; or the cluster-robust sandwich over ``groups``, with
        statsmodels' small-sample factor.
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
        (model-based) standard error: refit with a smaller ``tol``.

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
    check_is_fitted(estimator)
    _check_estimator(estimator)
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    if (groups is None) == (cov_type == "cluster"):
        raise ValueError('groups are given with cov_type="cluster", and only then.')
    alpha = _check_alpha(alpha)
    prepared = _prepare(estimator, X, y, sample_weight, cov_type)
    data = prepared.data
    # The persisted blocks of Dask data are dropped on leaving, errors
    # included; in-memory data is used outside its context, with BLAS free to
    # use its threads for the products of the sums.
    on_dask = not isinstance(data, numpy_backend.InMemoryData)
    with data if on_dask else contextlib.nullcontext():
        classes = as_numpy(estimator.classes_)
        _check_classes(classes, prepared)
        return _inference(estimator, data, classes, reference, cov_type, groups, alpha)


def _prepare(estimator, X, y, sample_weight, cov_type):
    """The checked data (a back-end's ``Prepared``), in memory or on Dask."""
    backend = backend_for(X, y)
    if backend is dask_backend:
        if cov_type == "cluster":
            raise ValueError(
                'cov_type="cluster" is not available for Dask collections (its '
                "groups would have to follow the row blocks): compute X, y and "
                'the groups, or use cov_type="HC0".'
            )
        # The features as validate_data checks them, from the collection's
        # metadata: before any of it is computed.
        _check_n_features(estimator, X, reset=False)
        _check_feature_names(estimator, X, reset=False)
        return backend.prepare(X, y, sample_weight, class_weight=None)
    if backend is not numpy_backend:
        raise TypeError(
            "inference runs on NumPy arrays, pandas, SciPy sparse matrices and "
            f"Dask collections; got {type(X).__module__}.{type(X).__name__} "
            "data. Convert arrays of another library (and the model, with "
            "sksoftmax.to_numpy) to NumPy first."
        )
    X = validate_data(
        estimator,
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        reset=False,
    )
    return numpy_backend.prepare(X, y, sample_weight, class_weight=None)


def _inference(estimator, data, classes, reference, cov_type, groups, alpha):
    """:func:`inference` on checked data."""
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
        group_codes = _group_codes(groups, data.X.shape[0])
    coef = estimator.coef_
    coef = coef.toarray() if sp.issparse(coef) else as_numpy(coef)
    weights, intercept = with_reference_class(
        np.asarray(coef, dtype=np.float64),
        np.asarray(as_numpy(estimator.intercept_), dtype=np.float64),
        n_classes,
    )
    fit_intercept = bool(estimator.fit_intercept)
    names = _column_names(estimator, fit_intercept)
    _check_off_bounds(estimator, coef, names)
    others = np.array([k for k in range(n_classes) if k != r])
    n_params = len(others) * len(names)
    _check_size(n_params, n_params, "the covariance of the parameters")
    C = float(estimator.C)
    factors = penalty_factors(
        estimator.penalty_factor,
        data.n_features,
        getattr(estimator, "feature_names_in_", None),
    )
    if factors is None:
        factors = np.ones(data.n_features)
    penalized = bool(np.isfinite(C) and np.any(factors > 0))

    sums = _information_sums(
        data, weights, intercept, others, fit_intercept, cov_type, group_codes
    )
    loss, grad_weights, grad_intercept = data.loss_gradient(weights, intercept, 0.0)
    raw = data.weight_sum

    def contrast_layout(by_class, intercepts):
        """The rows of the other classes, the intercepts' column last."""
        columns = [by_class[others]]
        return np.column_stack(
            columns + [intercepts[others]] if fit_intercept else columns
        )

    params = contrast_layout(weights - weights[r], intercept - intercept[r])
    # The gradient of the penalised negative log-likelihood in the contrasts:
    # that of the data term in the weights of the other classes (the contrast
    # moves them with the reference class held), in sums rather than means.
    gradient = raw * contrast_layout(grad_weights, grad_intercept)
    information = sums.information
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
    if not penalized:
        _check_not_separated(bread, sums.scatter, totals, r, others, classes, names)
    _check_at_optimum(step, bread)

    if cov_type == "nonrobust":
        meat = information if penalized else None
    elif cov_type == "HC0":
        meat = sums.meat
    else:
        meat = sums.meat
        meat *= _cluster_factor(sums.n_groups, raw, n_params)
    if meat is None:
        cov = bread
    else:
        cov = bread @ meat @ bread
        cov += cov.T
        cov *= 0.5
    # trace(bread @ information), without the product.
    effective = np.einsum("ij,ji->", bread, information) if penalized else n_params
    llnull = float(totals @ np.log(totals / totals.sum()))
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
    )


def _reference_index(reference, classes) -> int:
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


def _inverse(factor):
    """The inverse of a matrix from its Cholesky factor (``cho_factor``),
    in place of the factor: no identity matrix is formed."""
    c, lower = factor
    inverse, info = scipy.linalg.lapack.dpotri(c, lower=lower, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed ({info})")
    # dpotri fills one triangle.
    upper = np.triu_indices_from(inverse, 1)
    if lower:
        inverse[upper] = inverse.T[upper]
    else:
        inverse.T[upper] = inverse[upper]
    return inverse


def _check_estimator(estimator):
    if not isinstance(estimator, SoftmaxRegressionClassifier):
        raise TypeError(
            "inference takes a fitted SoftmaxRegressionClassifier, got "
            f"{type(estimator).__name__}. (For a SoftmaxRegressionCV, the "
            "tests of a C chosen on the same data are not valid; fit a "
            "SoftmaxRegressionClassifier, with C=np.inf for maximum likelihood.)"
        )
    C = float(estimator.C)
    if np.isfinite(C) and float(estimator.l1_ratio) > 0:
        raise ValueError(
            f"inference needs l1_ratio=0 (or C=np.inf); the model has l1_ratio="
            f"{estimator.l1_ratio}. An L1 or elastic-net penalty selects the "
            "features it keeps from the same data, and standard errors that "
            "ignore the selection are not valid (post-selection inference). "
            "Refit the selected features with l1_ratio=0 on other data."
        )
    if estimator.class_weight is not None:
        raise ValueError(
            "inference needs class_weight=None: class weights change the "
            "quantity the model estimates, and are not frequency weights. Use "
            "sample_weight for frequency weights."
        )
    if float(estimator.label_smoothing) > 0:
        raise ValueError(
            "inference needs label_smoothing=0: with smoothed targets the fit "
            "is not a maximum likelihood estimate, and its likelihood-based "
            "standard errors would be wrong."
        )


def _check_alpha(alpha) -> float:
    if not (isinstance(alpha, int | float | np.floating) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a float in (0, 1), got {alpha!r}.")
    return float(alpha)


def _check_classes(classes, prepared):
    if not np.array_equal(prepared.classes, classes):
        raise ValueError(
            f"y must hold the model's classes {classes.tolist()}; it holds "
            f"{prepared.classes.tolist()}."
        )


def _check_size(rows, columns, what):
    if rows * columns > MAX_MATRIX_ENTRIES:
        raise ValueError(
            f"{what} would be a {rows} x {columns} matrix, more than "
            f"sksoftmax.inference's bound of {MAX_MATRIX_ENTRIES} entries "
            f"({MAX_MATRIX_ENTRIES * 8 / 2**30:g} GiB): use fewer features or "
            "classes."
        )


def _group_codes(groups, n_samples):
    """Group labels as codes 0, 1, ... (any labels that sort together)."""
    groups = column_or_1d(groups, warn=True)
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"groups has {groups.shape[0]} entries, X has {n_samples} rows."
        )
    if groups.dtype.kind == "f":
        missing = np.isnan(groups).any()
    else:
        missing = groups.dtype.kind == "O" and _IS_MISSING(groups).any()
    if missing:
        raise ValueError("groups must not contain missing values (NaN or pd.NA).")
    try:
        return np.unique(groups, return_inverse=True)[1].ravel()
    except TypeError as error:
        raise ValueError(f"groups must be labels that sort together: {error}") from None


def _column_names(estimator, fit_intercept):
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"x{j}" for j in range(estimator.n_features_in_)]
    names = [str(name) for name in names]
    return np.array(names + [INTERCEPT_NAME] if fit_intercept else names, dtype=object)


@dataclass
class _Sums:
    information: np.ndarray
    #: The weighted scatter of the columns (features and the intercept's ones).
    scatter: np.ndarray
    meat: np.ndarray | None
    n_groups: int | None


def _with_ones(X_block, fit_intercept):
    """The rows of X in float64, with a column of ones for the intercept."""
    if sp.issparse(X_block):
        X_block = X_block.astype(np.float64)
        if fit_intercept:
            ones = sp.csr_matrix(np.ones((X_block.shape[0], 1)))
            X_block = sp.hstack([X_block, ones], format="csr")
        return X_block
    X_block = np.asarray(X_block, dtype=np.float64)
    if fit_intercept:
        X_block = np.column_stack([X_block, np.ones(X_block.shape[0])])
    return X_block


def _gram(A, B=None, weight=None):
    """``A^T diag(weight) B`` as a dense float64 array (A, B dense or CSR)."""
    B = A if B is None else B
    if weight is not None:
        B = sp.diags(weight) @ B if sp.issparse(B) else weight[:, None] * B
    product = A.T @ B
    return product.toarray() if sp.issparse(product) else product


def _row_kron(A, B):
    """The rows ``kron(A[i], B[i])``: shape (n, m * q) for A (n, m), B (n, q)."""
    if sp.issparse(B):
        return sp.hstack([sp.diags(A[:, a]) @ B for a in range(A.shape[1])], "csr")
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)


def _information_sums(data, weights, intercept, others, fit_intercept, cov_type, codes):
    """The information, the scatter and the meat of ``cov_type``: one pass of
    :func:`block_sums` over the data's rows, wherever they are."""
    n_params = len(others) * (data.n_features + fit_intercept)
    n_groups = None
    if cov_type == "cluster":
        # Groups whose rows all have zero weight are not observed: renumber
        # the others 0, 1, ...; rows of zero weight add nothing to a sum.
        positive = np.unique(codes[data.sample_weight > 0])
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
        cov_type=cov_type,
        codes=codes,
        n_groups=n_groups,
    )
    information, scatter = parts[:2]
    information = (information + information.T) / 2
    meat = None
    if cov_type == "HC0":
        meat = parts[2]
    elif cov_type == "cluster":
        meat = parts[2].T @ parts[2]
    return _Sums(information, scatter, meat, n_groups)


def block_sums(
    block, coefficients, *, others, fit_intercept, cov_type, codes=None, n_groups=None
):
    """The sums of the covariances over the rows of one block, row block by
    row block (the module docstring): the information and the scatter, then
    the meat for ``"HC0"`` or the score sums of the groups for ``"cluster"``
    (``codes``: the group of each row, 0 to ``n_groups - 1``).

    ``block`` is ``(X, y_code, sample_weight)`` with the raw (frequency)
    weights, and ``coefficients`` the weights and intercepts of every class,
    as a data term's ``sum_blocks`` passes them; the parts add up over blocks.
    """
    X, y_code, sample_weight = block
    weights, intercept = coefficients
    n_columns = X.shape[1] + fit_intercept
    n_params = len(others) * n_columns
    information = np.zeros((n_params, n_params))
    scatter = np.zeros((n_columns, n_columns))
    extra = None
    if cov_type == "HC0":
        extra = np.zeros((n_params, n_params))
    elif cov_type == "cluster":
        extra = np.zeros((n_groups, n_params))
    weights_t = right_factor(weights, X)
    block_size = int(np.clip(_BLOCK_ENTRIES // n_params, 64, 16384))
    for rows in iter_blocks(X.shape[0], block_size):
        s = sample_weight[rows]
        P = softmax(net_input(X, rows, weights_t, intercept))[:, others]
        X_block = _with_ones(X[rows], fit_intercept)
        scatter += _gram(X_block, weight=s)
        for a in range(len(others)):
            block = slice(a * n_columns, (a + 1) * n_columns)
            information[block, block] += _gram(X_block, weight=s * P[:, a])
        information -= _gram(_row_kron(np.sqrt(s)[:, None] * P, X_block))
        if extra is None:
            continue
        residual = (y_code[rows][:, None] == others) - P
        if cov_type == "HC0":
            extra += _gram(_row_kron(np.sqrt(s)[:, None] * residual, X_block))
        else:
            scores = _row_kron(s[:, None] * residual, X_block)
            member = sp.csr_matrix(
                (np.ones(len(s)), (codes[rows], np.arange(len(s)))),
                shape=(n_groups, len(s)),
            )
            summed = member @ scores
            extra += summed.toarray() if sp.issparse(summed) else summed
    return (information, scatter) if extra is None else (information, scatter, extra)


def _add_penalty(hessian, params, n_classes, strength):
    """Add the Hessian of the L2 penalty in the contrasts, ``P kron D``
    (module docstring: P is ``I - 1 1^T / K``, or 1 with two classes; D is
    diagonal, ``strength`` (f_j / C) for each feature j, 0 for the
    intercept), to ``hessian`` in place, and return the penalty's gradient at
    ``params``, ``P params D``."""
    n_rows, n_columns = params.shape
    n_features = len(strength)
    if n_classes == 2:
        across_classes = np.ones((1, 1))
    else:
        across_classes = np.eye(n_rows) - 1 / n_classes
    # Entry (a, j), (b, j) of the Kronecker product is P[a, b] for a feature
    # j: n_rows^2 * n_features entries, no dense penalty matrix.
    a, b, j = np.meshgrid(
        np.arange(n_rows), np.arange(n_rows), np.arange(n_features), indexing="ij"
    )
    hessian[a * n_columns + j, b * n_columns + j] += across_classes[a, b] * strength[j]
    gradient = across_classes @ params
    gradient[:, :n_features] *= strength
    gradient[:, n_features:] = 0.0
    return gradient


def _check_off_bounds(estimator, coef, names):
    """Refuse a model with a weight on its ``coef_bounds`` bound: the
    estimate is then not asymptotically normal, and the standard errors of
    an interior optimum do not hold."""
    bounds = coefficient_bounds(estimator.coef_bounds, *coef.shape)
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


def _check_identified(scatter, names):
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


def _separation_message(where):
    where = f" ({where})" if where else ""
    return (
        "The information matrix is singular: the fitted probabilities are 0 "
        f"or 1 along some direction{where}, as when a class is (quasi-)"
        "completely separated from the others by the features; the maximum "
        "likelihood estimate does not exist and the coefficients diverge. Fit "
        "with a penalty (finite C), whose covariance the result then gives, or "
        "drop the separating features."
    )


def _check_not_separated(bread, scatter, totals, r, others, classes, names):
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


def _direction(k, j, r, others, classes, names):
    labels = classes.tolist()
    return (
        f"the largest along {names[j]!r} for class {labels[others[k]]!r} "
        f"against the reference class {labels[r]!r}"
    )


def _flattest(information, r, others, classes, names):
    """The parameter with the largest share of the information's flattest
    direction (scaled to a unit diagonal), named as :func:`_direction`."""
    spread = np.sqrt(np.maximum(np.diag(information), np.finfo(float).tiny))
    _, vectors = np.linalg.eigh(information / np.outer(spread, spread))
    k, j = np.unravel_index(np.argmax(np.abs(vectors[:, 0])), (len(others), len(names)))
    return _direction(k, j, r, others, classes, names)


def _check_at_optimum(step, bread):
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


def _cluster_factor(n_groups, nobs, n_params):
    """statsmodels' small-sample factor of the cluster covariance."""
    if nobs <= n_params:
        raise ValueError(
            f'cov_type="cluster" needs more observations ({nobs:g}) than '
            f"parameters ({n_params})."
        )
    return n_groups / (n_groups - 1) * (nobs - 1) / (nobs - n_params)
