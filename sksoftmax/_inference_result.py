"""The result of :func:`sksoftmax.inference`: :class:`InferenceResult`, its
tests and intervals, and how it prints.

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
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import ndtr, softmax
from scipy.stats import chi2

from ._margins import MarginalEffects, margins
from ._predictions import (
    _PREDICTION_ROWS,
    PredictionResult,
    WaldTestResult,
    _check_alpha,
    _normal_interval,
    _pandas,
)

if TYPE_CHECKING:
    import pandas as pd

_COV_DESCRIPTIONS = {
    "nonrobust": "nonrobust (inverse observed information)",
    "HC0": "HC0 (heteroscedasticity-robust sandwich)",
    "HC1": "HC1 (heteroscedasticity-robust sandwich, times nobs / (nobs - k))",
    "cluster": "cluster (cluster-robust sandwich, {n_groups} groups)",
}
#: The name of the intercept's column in ``feature_names``.
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
        "nonrobust", "HC0", "HC1" or "cluster".
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
    tvalues : ndarray of the shape of ``params``
        ``zvalues``, under statsmodels' name.
    llr : float
        The likelihood-ratio statistic against the intercepts-only model,
        ``2 (llf - llnull)``.
    llr_pvalue : float
        Its p-value: chi-squared with ``df_model`` degrees of freedom.
    df_model : float
        The parameters beyond the null model's ``n_classes - 1`` intercepts,
        ``df_params - (n_classes - 1)``: the degrees of freedom of ``llr``
        (as statsmodels', also for a model without intercepts).
    df_resid : float
        ``nobs - df_params``.
    firth : bool
        Whether the fit was Firth's (``firth=True``): ``params`` are its
        bias-reduced estimates, and the covariance is that of the information
        at them (as ``logistf``'s), or the penalised sandwich with an L2
        penalty. ``llf`` (and so ``llr``, the AIC and BIC) is the plain
        log-likelihood at those estimates, without Firth's term.
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
    #: The rows and their raw sample weights, for get_margeff: in memory, or
    #: a Dask X and its weights, computed on the cluster when asked for.
    rows: tuple[Any, np.ndarray] | None = field(default=None, repr=False, compare=False)
    #: Whether the last column is the intercepts'.
    fit_intercept: bool = field(default=True, repr=False)
    #: The steps of a Pipeline before the classifier, which get_prediction
    #: applies to its X (None for a classifier).
    transform: Any = field(default=None, repr=False, compare=False)
    firth: bool = False
    #: Each row's class code (its index in the classes of the fit), for
    #: lr_test_terms: in memory, or a Dask array with the rows' chunks.
    targets: Any = field(default=None, repr=False, compare=False)
    zvalues: np.ndarray = field(init=False)
    pvalues: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
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
    def tvalues(self) -> np.ndarray:
        return self.zvalues

    @property
    def llr(self) -> float:
        return 2 * (self.llf - self.llnull)

    @property
    def df_model(self) -> float:
        return self.df_params - len(self.classes)

    @property
    def df_resid(self) -> float:
        return self.nobs - self.df_params

    @property
    def llr_pvalue(self) -> float:
        return float(chi2.sf(self.llr, self.df_model))

    @property
    def cov_description(self) -> str:
        """The covariance in words, as the summary prints it."""
        text = _COV_DESCRIPTIONS[self.cov_type].format(n_groups=self.n_groups)
        if self.firth:
            text += (
                "; at Firth's bias-reduced estimates (firth=True), from the "
                "information there"
            )
        if self.penalized:
            text += (
                f"; of the L2-penalised estimator (C={self.C:g}): a sandwich "
                "with the penalised Hessian, not the maximum likelihood "
                "covariance"
            )
        return text

    def conf_int(self, alpha: float | None = None) -> np.ndarray:
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
        return _normal_interval(self.params, self.bse, alpha)

    def _all_classes(self) -> np.ndarray:
        """Every class, the reference first: the columns of predictions and
        marginal effects."""
        return np.array([self.reference, *self.classes.tolist()], dtype=object)

    def get_margeff(
        self,
        at: str = "overall",
        method: str = "dydx",
        atexog: dict[int, float] | None = None,
        dummy: bool = False,
        count: bool = False,
    ) -> MarginalEffects:
        """Marginal effects of the features on each class's probability, with
        statsmodels' meanings and delta-method standard errors.

        Parameters
        ----------
        at : {"overall", "mean", "median", "zero"}, default="overall"
            The rows' effects averaged with the sample weights; or the effect
            at the weighted mean row, the median row, or zeros.
        method : {"dydx", "eyex", "dyex", "eydx"}, default="dydx"
            The derivative, or an elasticity: ``eyex`` ``d ln p / d ln x``,
            ``dyex`` ``d p / d ln x``, ``eydx`` ``d ln p / d x``.
        atexog : dict, default=None
            Values of columns (by index) at the row of ``at`` other than
            "overall".
        dummy : bool, default=False
            For columns of zeros and ones, the change from 0 to 1.
        count : bool, default=False
            For other columns of integers, the change of one unit.

        Returns
        -------
        effects : MarginalEffects
            ``margeff`` of shape (n_features, n_classes) (the reference class
            first), ``margeff_se``, ``tvalues``, ``pvalues``,
            ``conf_int(alpha)`` and ``summary_frame()``.
        """
        if self.rows is None:
            raise ValueError(
                "get_margeff needs the rows the result was computed on, which "
                "it does not hold here. Compute X and y first."
            )
        X, weight = self.rows
        fit_intercept = self.fit_intercept
        effects, cov = margins(
            self.params, self.cov_params, X, weight, fit_intercept,
            at=at, method=method, atexog=atexog, dummy=dummy, count=count,
        )  # fmt: skip
        classes = self._all_classes()
        names = self.feature_names[: X.shape[1]]
        se = np.sqrt(np.maximum(np.diag(cov), 0.0)).reshape(effects.shape)
        return MarginalEffects(effects, se, cov, names, classes, at, method, self.alpha)

    def get_prediction(self, X: ArrayLike) -> PredictionResult:
        """The class probabilities of the rows of ``X`` at ``params``, with
        standard errors by the delta method and confidence intervals.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Rows in the model's features (as ``predict_proba`` takes them);
            for the result of a Pipeline, rows as the Pipeline takes them
            (its steps before the classifier transform them).

        Returns
        -------
        result : PredictionResult
            ``predicted``, ``se``, ``conf_int(alpha)`` (within [0, 1]) and
            ``summary_frame()``; the reference class's column first.
        """
        n_others, n_columns = self.params.shape
        fit_intercept = self.fit_intercept
        n_features = n_columns - fit_intercept
        if self.transform is not None:
            X = self.transform.transform(X)
        sparse = sp.issparse(X)
        data: Any = sp.csr_array(X) if sparse else np.asarray(X, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != n_features:
            raise ValueError(
                f"X needs {n_features} columns, the model's features; got shape "
                f"{data.shape}."
            )
        cov = self.cov_params.reshape(n_others, n_columns, n_others, n_columns)
        n_samples = data.shape[0]
        predicted = np.empty((n_samples, n_others + 1))
        variance = np.empty_like(predicted)
        for start in range(0, n_samples, _PREDICTION_ROWS):
            block = data[start : start + _PREDICTION_ROWS]
            block = block.toarray() if sparse else block
            block = np.asarray(block, dtype=np.float64)
            if not np.all(np.isfinite(block)):
                raise ValueError("X must be finite (no NaN or infinity).")
            if fit_intercept:
                block = np.column_stack([block, np.ones(len(block))])
            scores = np.column_stack([np.zeros(len(block)), block @ self.params.T])
            probabilities = softmax(scores, axis=1)
            # d p_k / d b_l = p_k (delta_kl - p_l) x, l over the other classes
            # (the reference's column 0): the coefficients D[i, k, l].
            others = probabilities[:, 1:]
            D = -probabilities[:, :, None] * others[:, None, :]
            D[:, 1:, :] += np.einsum("il,lm->ilm", others, np.eye(n_others))
            # x' V_lm x for each row: the covariance of its scores.
            quadratic = np.einsum("ij,ljmk,ik->ilm", block, cov, block, optimize=True)
            rows = slice(start, start + len(block))
            predicted[rows] = probabilities
            variance[rows] = np.einsum("ikl,ilm,ikm->ik", D, quadratic, D)
        se = np.sqrt(np.maximum(variance, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            se_logit = se / (predicted * (1 - predicted))
        se_logit = np.where(np.isfinite(se_logit), se_logit, 0.0)
        classes = self._all_classes()
        return PredictionResult(predicted, se, se_logit, classes, self.alpha)

    def wald_test(
        self, r_matrix: ArrayLike, q: ArrayLike | None = None
    ) -> WaldTestResult:
        """The Wald test of ``r_matrix @ params.ravel() == q``, with the
        result's covariance (whatever its ``cov_type``).

        Parameters
        ----------
        r_matrix : array-like of shape (n_restrictions, n_params) or (n_params,)
            The restrictions' rows, over the parameters in the order of
            ``cov_params``: ``params.ravel()``, class by class.
        q : array-like of shape (n_restrictions,), default=None
            Their values; None for zeros.

        Returns
        -------
        result : WaldTestResult
            ``statistic``, ``df`` (the number of restrictions) and ``pvalue``
            (chi-squared).
        """
        r_matrix = np.atleast_2d(np.asarray(r_matrix, dtype=np.float64))
        n_params = self.params.size
        if r_matrix.ndim != 2 or r_matrix.shape[1] != n_params:
            raise ValueError(
                f"r_matrix needs one column per parameter ({n_params}, in the "
                f"order of cov_params); got shape {r_matrix.shape}."
            )
        n_restrictions = r_matrix.shape[0]
        q = (
            np.zeros(n_restrictions)
            if q is None
            else np.atleast_1d(np.asarray(q, dtype=np.float64))
        )
        if q.shape != (n_restrictions,):
            raise ValueError(
                f"q needs one value per restriction ({n_restrictions}); got "
                f"shape {q.shape}."
            )
        if not (np.all(np.isfinite(r_matrix)) and np.all(np.isfinite(q))):
            raise ValueError("r_matrix and q must be finite.")
        difference = r_matrix @ self.params.ravel() - q
        middle = r_matrix @ self.cov_params @ r_matrix.T
        middle = (middle + middle.T) / 2
        # Singular to rounding (dependent rows), as correlations: parameters
        # of very different scales do not make it look singular.
        spread = np.sqrt(np.maximum(np.diag(middle), 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            correlation = middle / np.outer(spread, spread)
        eigenvalues = (
            np.linalg.eigvalsh(correlation)
            if np.all(spread > 0) and np.all(np.isfinite(correlation))
            else np.zeros(1)
        )
        if not eigenvalues[0] > 1e-10 * eigenvalues[-1]:
            raise ValueError(
                "The restrictions' covariance R V R' is singular: rows of "
                "r_matrix are linearly dependent, or restrict parameters of "
                "zero variance."
            )
        statistic = float(difference @ np.linalg.solve(middle, difference))
        pvalue = float(chi2.sf(statistic, n_restrictions))
        return WaldTestResult(statistic, n_restrictions, pvalue)

    def wald_test_terms(self) -> "pd.DataFrame":
        """One Wald test per column (each feature, and the intercept): its
        coefficients in every class against the reference all zero, chi-squared
        with ``n_classes - 1`` degrees of freedom (Stata's ``test``, R's
        ``car::Anova`` with ``test="Wald"``).

        Returns
        -------
        table : pandas.DataFrame
            Indexed by feature, with the columns ``chi2``, ``df`` and
            ``P>chi2``.
        """
        pd = _pandas("InferenceResult.wald_test_terms")
        n_columns = len(self.feature_names)
        rows = []
        for j in range(n_columns):
            r_matrix = np.zeros((len(self.classes), self.params.size))
            r_matrix[
                np.arange(len(self.classes)),
                j + n_columns * np.arange(len(self.classes)),
            ] = 1.0
            test = self.wald_test(r_matrix)
            rows.append((test.statistic, test.df, test.pvalue))
        return pd.DataFrame(
            rows,
            index=pd.Index(self.feature_names, name="feature"),
            columns=["chi2", "df", "P>chi2"],
        )

    def lr_test_terms(self, tol: float = 1e-10, max_iter: int = 1000) -> "pd.DataFrame":
        """One likelihood-ratio test per feature, by refitting the model
        without it: ``2 (llf - llf_without)``, chi-squared with
        ``n_classes - 1`` degrees of freedom (R's ``car::Anova`` with
        ``test="LR"``).

        Each refit is an unpenalised :class:`sksoftmax.SoftmaxRegressionClassifier`
        on the same rows, weights and classes without the feature's column,
        so the tests cost one fit per feature. For an unpenalised fit, not
        Firth's. On a Dask collection the refits and their log-likelihoods
        run on the cluster of the current client.

        Parameters
        ----------
        tol : float, default=1e-10
            The refits' tol: their log-likelihoods must be at the optimum.
        max_iter : int, default=1000
            The refits' max_iter.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by feature, with the columns ``chi2``, ``df``,
            ``P>chi2`` and ``llf`` (the refit's log-likelihood).
        """
        pd = _pandas("InferenceResult.lr_test_terms")
        if self.penalized or self.firth:
            raise ValueError(
                "lr_test_terms compares maximised log-likelihoods: it needs an "
                "unpenalised fit (C=np.inf), not Firth's or a penalised one."
            )
        if self.rows is None or self.targets is None:
            raise ValueError(
                "lr_test_terms refits the model on its rows, which this result "
                "does not hold."
            )
        # (Imported here: the classifier's module imports this one.)
        from ._classifier import SoftmaxRegressionClassifier

        X, sample_weight = self.rows
        y = self.targets
        n_features = X.shape[1]
        table = []
        for j in range(n_features):
            kept = np.arange(n_features) != j
            if n_features == 1:
                # Without its one feature: the class frequencies, or, without
                # intercepts, every class equally likely.
                llf = (
                    self.llnull
                    if self.fit_intercept
                    else -float(sample_weight.sum()) * np.log(len(self.classes) + 1)
                )
                statistic = 2.0 * (self.llf - llf)
                df = len(self.classes)
                table.append((statistic, df, float(chi2.sf(statistic, df)), llf))
                continue
            X_without = X[:, kept]
            model = SoftmaxRegressionClassifier(
                C=np.inf, fit_intercept=self.fit_intercept, tol=tol, max_iter=max_iter
            ).fit(X_without, y, sample_weight)
            llf = _log_likelihood(model, X_without, y, sample_weight)
            statistic = 2.0 * (self.llf - llf)
            df = len(self.classes)
            table.append((statistic, df, float(chi2.sf(statistic, df)), llf))
        return pd.DataFrame(
            table,
            index=pd.Index(self.feature_names[:n_features], name="feature"),
            columns=["chi2", "df", "P>chi2", "llf"],
        )

    def summary(self, alpha: float | None = None) -> "pd.DataFrame":
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
        pd = _pandas("InferenceResult.summary")
        columns = self._columns(alpha)
        index = pd.MultiIndex.from_product(
            [self.classes, self.feature_names], names=["class", "feature"]
        )
        return pd.DataFrame({name: values.ravel() for name, values in columns}, index)

    def _columns(self, alpha: float | None) -> list[tuple[str, np.ndarray]]:
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


# Pickles name the public path, sksoftmax.InferenceResult, as the estimators'
# do (sksoftmax/__init__.py); those that name sksoftmax._inference, where the
# class was defined before, still load: it is imported there.
InferenceResult.__module__ = "sksoftmax"


def _log_likelihood(model: Any, X: Any, codes: Any, weight: Any) -> float:
    """``sum_i w_i log p_i(y_i)`` of a fitted ``model`` over the rows of
    positive weight, whose labels are the class codes ``codes``: in memory,
    or Dask arrays of the same row chunks (computed on the cluster)."""
    log_proba = model.predict_log_proba(X)
    classes = np.asarray(model.classes_)

    def picked(block: np.ndarray, labels: np.ndarray) -> np.ndarray:
        column = np.searchsorted(classes, labels.ravel())
        return np.take_along_axis(block, column[:, None], axis=1)[:, 0]

    if hasattr(log_proba, "dask"):
        import dask.array as da

        rows = (log_proba.chunks[0],)
        codes, weight = codes.rechunk(rows), weight.rechunk(rows)
        # (A column: map_blocks aligns a 1-D array with the last axis.)
        logs = da.map_blocks(
            picked, log_proba, codes[:, None], drop_axis=1, dtype=np.float64
        )
        kept = da.where(weight > 0, logs, 0.0)
        return float((kept * weight).sum().compute())
    logs = picked(np.asarray(log_proba), np.asarray(codes))
    positive = weight > 0
    return float(weight[positive] @ logs[positive])
