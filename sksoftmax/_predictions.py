"""The results that :class:`sksoftmax.InferenceResult` makes besides itself:
predicted probabilities with intervals (:class:`PredictionResult`) and Wald
tests (:class:`WaldTestResult`), and the helpers that the results share
(the level of an interval, normal intervals, pandas on demand)."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, logit, ndtri

if TYPE_CHECKING:
    import pandas as pd


#: Rows of X whose per-row quadratic forms are formed at once in
#: :meth:`InferenceResult.get_prediction`.
_PREDICTION_ROWS = 4096


@dataclass(frozen=True, repr=False)
class PredictionResult:
    """Predicted class probabilities with delta-method standard errors and
    confidence intervals, from :meth:`InferenceResult.get_prediction`.

    The columns are the classes in ``classes``: the reference class first,
    then the others in the order of the result's ``classes``.

    Attributes
    ----------
    predicted : ndarray of shape (n_samples, n_classes)
        The probabilities at ``params``.
    se : ndarray of shape (n_samples, n_classes)
        Their standard errors by the delta method, with the result's
        ``cov_params``.
    se_logit : ndarray of shape (n_samples, n_classes)
        The standard errors of their log-odds, ``se / (p (1 - p))`` (0 where
        p is 0 or 1), on which the intervals are built.
    classes : ndarray of shape (n_classes,)
        The class of each column.
    alpha : float
        The default level of :meth:`conf_int`.
    """

    predicted: np.ndarray
    se: np.ndarray
    se_logit: np.ndarray
    classes: np.ndarray
    alpha: float

    def conf_int(self, alpha: float | None = None) -> np.ndarray:
        """Confidence intervals of the probabilities, built on the log-odds
        scale of each (``logit(p) -/+ q se_logit``, the delta method there,
        ``se_logit = se / (p (1 - p))``) and mapped back: they lie within
        [0, 1] and contain the prediction.

        Parameters
        ----------
        alpha : float, default=None
            The intervals cover ``1 - alpha``; None uses the result's.

        Returns
        -------
        bounds : ndarray of shape (n_samples, n_classes, 2)
            The lower and upper bounds.
        """
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        with np.errstate(divide="ignore"):
            centre = logit(self.predicted)
        return expit(_normal_interval(centre, self.se_logit, alpha))

    def summary_frame(self, alpha: float | None = None) -> pd.DataFrame:
        """The predictions as a table.

        Parameters
        ----------
        alpha : float, default=None
            Level of the intervals; None uses the result's.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by (row, class), with the columns ``predicted``, ``se``,
            ``ci_lower`` and ``ci_upper``.
        """
        pd = _pandas("PredictionResult.summary_frame")
        bounds = self.conf_int(alpha)
        index = pd.MultiIndex.from_product(
            [np.arange(self.predicted.shape[0]), self.classes], names=["row", "class"]
        )
        columns = {
            "predicted": self.predicted,
            "se": self.se,
            "ci_lower": bounds[..., 0],
            "ci_upper": bounds[..., 1],
        }
        return pd.DataFrame({k: v.ravel() for k, v in columns.items()}, index)

    def __repr__(self) -> str:
        n_samples, n_classes = self.predicted.shape
        return f"<PredictionResult: {n_samples} rows, {n_classes} classes>"


@dataclass(frozen=True)
class WaldTestResult:
    """A Wald test of linear restrictions ``R params = q``: the statistic
    ``(R b - q)' (R V R')^-1 (R b - q)``, chi-squared with ``df`` degrees of
    freedom under the restrictions (``V`` the result's ``cov_params``)."""

    statistic: float
    df: int
    pvalue: float


# Pickles name the public path, as InferenceResult's do.
WaldTestResult.__module__ = "sksoftmax"
PredictionResult.__module__ = "sksoftmax"


def _check_alpha(alpha: object) -> float:
    if not (isinstance(alpha, int | float | np.floating) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a float in (0, 1), got {alpha!r}.")
    return float(alpha)


def _pandas(what: str) -> ModuleType:
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(f"{what} needs pandas: pip install pandas") from error
    return pd


def _normal_interval(values: np.ndarray, se: np.ndarray, alpha: float) -> np.ndarray:
    """``values -/+ q se`` stacked on a last axis, q the normal quantile of
    ``1 - alpha / 2``."""
    half_width = ndtri(1 - alpha / 2) * se
    return np.stack([values - half_width, values + half_width], -1)
