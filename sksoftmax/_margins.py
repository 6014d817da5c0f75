"""Marginal effects of the features on each class probability, with
delta-method standard errors: :meth:`sksoftmax.InferenceResult.get_margeff`.

statsmodels' meanings (``DiscreteResults.get_margeff``). For a row x the
probabilities are ``p = softmax([0, B x])`` (the reference class's score 0,
B the contrasts), and the derivative of class k's probability in feature j
is ``p_k (b_kj - sum_l p_l b_lj)`` (``b_0 = 0``). ``method`` scales it:
``dydx`` as is, ``eyex`` by ``x_j / p_k``, ``dyex`` by ``x_j``, ``eydx`` by
``1 / p_k``. ``at="overall"`` averages the rows' effects with the sample
weights; ``"mean"``, ``"median"`` and ``"zero"`` take the effect at one row
(the weighted mean, the median, or zeros) whose entries ``atexog``
overrides. ``dummy=True`` replaces the derivative of a 0/1 column by the
change of the probabilities from 0 to 1, ``count=True`` that of a column of
non-negative integers (not 0/1) by their change from x to x + 1, under every
``method``: differences of probabilities, not of their logarithms or
elasticities (statsmodels' ``dummy`` and ``count`` raise on ``MNLogit``).
The standard errors come from the Jacobian of the effects in
the parameters and the result's covariance.

Jacobian
--------
Computed in the same pass over the rows as the effects (statsmodels takes
central differences, two passes per parameter). With ``p_k`` the
probabilities, ``c_kj = b_kj - sum_l p_l b_lj`` and ``x~`` the row with the
intercept's 1, ``dp_k / d score_c = p_k (delta_kc - p_c)`` and
``d c_kj / d score_c = -p_c c_cj``; a contrast of class c moves the score of
class c by ``x~_m`` and, for a feature j, also the slope ``b_cj`` itself. So
for ``dydx``, ``g_kj = p_k c_kj`` has::

    dg_kj / d theta_cm = [p_k (delta_kc - p_c) c_kj - p_k p_c c_cj] x~_m
                         + [m == j] p_k (delta_kc - p_c)

and for ``eydx``, ``g_kj = c_kj``, ``-p_c c_cj x~_m + [m == j] (delta_kc -
p_c)``; ``eyex`` and ``dyex`` multiply both by ``x_j``. A discrete change
is a difference of probabilities, each with ``dp_k / d theta_cm = p_k
(delta_kc - p_c) x~_m`` at its row. The tests check the result against
central differences of the effects written out by hand.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr, softmax

from ._predictions import _check_alpha, _normal_interval, _pandas

if TYPE_CHECKING:
    import pandas as pd

AT = ("overall", "mean", "median", "zero")
METHODS = ("dydx", "eyex", "dyex", "eydx")
#: Rows whose effects are formed at once.
_BLOCK_ROWS = 4096


@dataclass(frozen=True, repr=False)
class MarginalEffects:
    """Marginal effects with standard errors, from
    :meth:`sksoftmax.InferenceResult.get_margeff`.

    Attributes
    ----------
    margeff : ndarray of shape (n_features, n_classes)
        The effect of each feature (rows) on each class's probability
        (columns: the reference class first, then the others).
    margeff_se : ndarray of shape (n_features, n_classes)
        Their standard errors by the delta method.
    margeff_cov : ndarray of shape (n_features * n_classes, n_features * n_classes)
        The covariance of ``margeff.ravel()``.
    tvalues, pvalues : ndarray of shape (n_features, n_classes)
        The z statistics and their two-sided p-values.
    feature_names : ndarray of shape (n_features,)
    classes : ndarray of shape (n_classes,)
    at, method : str
        The settings of the effects.
    alpha : float
        The default level of :meth:`conf_int`.
    """

    margeff: np.ndarray
    margeff_se: np.ndarray
    margeff_cov: np.ndarray
    feature_names: np.ndarray
    classes: np.ndarray
    at: str
    method: str
    alpha: float

    @property
    def tvalues(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.margeff / self.margeff_se

    @property
    def pvalues(self) -> np.ndarray:
        return 2 * ndtr(-np.abs(self.tvalues))

    def conf_int(self, alpha: float | None = None) -> np.ndarray:
        """Normal intervals of the effects.

        Parameters
        ----------
        alpha : float, default=None
            The intervals cover ``1 - alpha``; None uses the result's.

        Returns
        -------
        bounds : ndarray of shape (n_features, n_classes, 2)
            ``margeff -/+ q margeff_se``, q the normal quantile.
        """
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        return _normal_interval(self.margeff, self.margeff_se, alpha)

    def summary_frame(self, alpha: float | None = None) -> pd.DataFrame:
        """The effects as a table.

        Parameters
        ----------
        alpha : float, default=None
            Level of the intervals; None uses the result's.

        Returns
        -------
        table : pandas.DataFrame
            Indexed by (feature, class), with the columns ``dy/dx`` (or the
            method's), ``std err``, ``z``, ``P>|z|`` and the interval's
            bounds.
        """
        pd = _pandas("MarginalEffects.summary_frame")
        alpha = self.alpha if alpha is None else _check_alpha(alpha)
        bounds = self.conf_int(alpha)
        label = {"dydx": "dy/dx", "eyex": "d(lny)/d(lnx)", "dyex": "dy/d(lnx)",
                 "eydx": "d(lny)/dx"}[self.method]  # fmt: skip
        columns = {
            label: self.margeff,
            "std err": self.margeff_se,
            "z": self.tvalues,
            "P>|z|": self.pvalues,
            f"[{alpha / 2:g}": bounds[..., 0],
            f"{1 - alpha / 2:g}]": bounds[..., 1],
        }
        index = pd.MultiIndex.from_product(
            [self.feature_names, self.classes], names=["feature", "class"]
        )
        return pd.DataFrame({k: v.ravel() for k, v in columns.items()}, index)

    def __repr__(self) -> str:
        return (
            f"<MarginalEffects: {self.margeff.shape[0]} features, "
            f"{self.margeff.shape[1]} classes, at={self.at!r}, "
            f"method={self.method!r}>"
        )


MarginalEffects.__module__ = "sksoftmax"


def _rows(X: Any) -> Any:
    """Row blocks of X as dense float64 arrays."""
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        block = X[start : start + _BLOCK_ROWS]
        yield start, np.asarray(block.toarray() if sp.issparse(block) else block, float)


def _weighted_median(values: np.ndarray, weight: np.ndarray) -> float:
    """The median of ``values`` repeated ``weight`` times (frequency weights:
    where the cumulative weight reaches exactly half, the mean of the two
    middle values, as ``np.median`` of the repeated values)."""
    order = np.argsort(values, kind="stable")
    values, weight = values[order], weight[order]
    cumulative = np.cumsum(weight)
    half = cumulative[-1] / 2
    i = int(np.searchsorted(cumulative, half))
    if np.isclose(cumulative[i], half, rtol=1e-12, atol=0) and i + 1 < len(values):
        return float((values[i] + values[i + 1]) / 2)
    return float(values[i])


def _point(X: Any, weight: np.ndarray, at: str, atexog: dict | None) -> np.ndarray:
    """The row at which ``at`` other than "overall" takes the effects (the
    weighted mean or median of the rows of positive weight, or zeros)."""
    n_features = X.shape[1]
    if at == "mean":
        point = np.asarray(X.T @ weight).ravel() / weight.sum()
    elif at == "median":
        positive = np.flatnonzero(weight > 0)
        point = np.array(
            [
                _weighted_median(_column(X, j)[positive], weight[positive])
                for j in range(n_features)
            ]
        )
    else:
        point = np.zeros(n_features)
    for column, value in (atexog or {}).items():
        point[column] = value
    return point[None, :]


def _column(X: Any, j: int) -> np.ndarray:
    """Column j of X as a dense float64 vector."""
    column = X[:, [j]]
    column = column.toarray() if sp.issparse(column) else np.asarray(column)
    return np.asarray(column, dtype=np.float64).ravel()


def _column_kinds(
    rows: Any, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Over the rows of positive weight of one block, for each column:
    whether every value is 0 or 1, whether every value is a non-negative
    integer, and the smallest and the largest value (+inf and -inf without
    such rows). Blocks combine by :func:`_merge_kinds`."""
    n_features = rows.shape[1]
    kinds = (
        np.ones(n_features, bool),
        np.ones(n_features, bool),
        np.full(n_features, np.inf),
        np.full(n_features, -np.inf),
    )
    weight = np.asarray(weight, dtype=np.float64)
    for start, block in _rows(rows):
        block = block[weight[start : start + len(block)] > 0]
        if len(block) == 0:
            continue
        kinds = _merge_kinds(
            kinds,
            (
                np.all((block == 0) | (block == 1), axis=0),
                np.all((block >= 0) & (block == np.round(block)), axis=0),
                block.min(axis=0),
                block.max(axis=0),
            ),
        )
    return kinds


def _merge_kinds(first: tuple, second: tuple) -> tuple:
    """:func:`_column_kinds` of two blocks together."""
    return (
        first[0] & second[0],
        first[1] & second[1],
        np.minimum(first[2], second[2]),
        np.maximum(first[3], second[3]),
    )


def _discrete_columns(
    kinds: tuple, dummy: bool, count: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The columns whose effect is a discrete change, from the columns'
    :func:`_column_kinds`: 0/1 columns (with ``dummy``) and, with ``count``,
    columns of non-negative integers that vary and are not 0/1 (statsmodels'
    rules)."""
    is_binary, is_count, smallest, largest = kinds
    binary = is_binary & dummy
    integer = is_count & ~is_binary & (smallest < largest) & count
    return binary, integer


def _effects(
    params: np.ndarray,
    rows: Any,
    weight: np.ndarray,
    fit_intercept: bool,
    method: str,
    binary: np.ndarray,
    integer: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean over ``rows`` of each row's effects, of shape
    (n_features, n_classes), at contrasts ``params``, and its Jacobian in
    ``params.ravel()``, of shape (n_features * n_classes, params.size), in
    one pass over the rows (module docstring, "Jacobian")."""
    total, jacobian, weight_sum = _effect_sums(
        params, rows, weight, fit_intercept, method, binary, integer
    )
    return total / weight_sum, jacobian / weight_sum


def _effect_sums(
    params: np.ndarray,
    rows: Any,
    weight: np.ndarray,
    fit_intercept: bool,
    method: str,
    binary: np.ndarray,
    integer: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`_effects`' weighted sums over ``rows`` and the weights' sum,
    which add up over blocks of rows (a Dask collection's, on its workers)."""
    n_features = rows.shape[1]
    n_others, n_columns = params.shape
    slopes = np.vstack([np.zeros(n_features), params[:, :n_features]])
    offsets = np.r_[0.0, params[:, -1]] if fit_intercept else np.zeros(len(slopes))
    n_classes = len(slopes)
    times_x = method in ("eyex", "dyex")
    over_p = method in ("eyex", "eydx")
    discrete = np.flatnonzero(binary | integer)
    continuous = np.ones(n_features)
    continuous[discrete] = 0.0
    features = np.arange(n_features)

    def probabilities(block: np.ndarray) -> np.ndarray:
        return softmax(block @ slopes.T + offsets, axis=1)

    def with_ones(block: np.ndarray) -> np.ndarray:
        return np.column_stack([block, np.ones(len(block))]) if fit_intercept else block

    total = np.zeros((n_features, n_classes))
    jacobian = np.zeros((n_features, n_classes, n_others, n_columns))
    for start, block in _rows(rows):
        w = weight[start : start + len(block)]
        p = probabilities(block)
        columns = with_ones(block)
        # b_kj - sum_l p_l b_lj: (rows, features, classes).
        centred = slopes.T[None, :, :] - (p @ slopes)[:, :, None]
        # The continuous effects before the factor x_j: dp_k/dx_j, or its
        # ratio to p_k; then each row's factor (x_j, or 1) per feature.
        scale = block if times_x else np.ones_like(block)
        scale = scale * continuous
        effect = centred if over_p else p[:, None, :] * centred
        total += np.einsum("i,ij,ijk->jk", w, scale, effect)
        for c in range(1, n_classes):
            # Derivatives in the score of class c (then by the chain rule in
            # its contrasts, times x~_m), and directly in its slope b_cj.
            p_c = p[:, c][:, None, None]
            if over_p:
                in_score = -p_c * centred[:, :, [c]] * np.ones(n_classes)
                direct = (np.arange(n_classes) == c) - p[:, [c]]
            else:
                towards = (np.arange(n_classes) == c) - p_c
                in_score = p[:, None, :] * (
                    towards * centred - p_c * centred[:, :, [c]]
                )
                direct = p * ((np.arange(n_classes) == c) - p[:, [c]])
            weighted = (w[:, None] * scale)[:, :, None] * in_score
            jacobian[:, :, c - 1, :] += np.tensordot(weighted, columns, axes=(0, 0))
            # d(slope b_cj)/d(contrast of feature j) = 1: the diagonal.
            jacobian[features, :, c - 1, features] += (w[:, None] * scale).T @ direct
        for j in discrete:
            high, low = block.copy(), block.copy()
            if binary[j]:
                high[:, j], low[:, j] = 1.0, 0.0
            else:
                high[:, j] += 1.0
            for sign, changed in ((1.0, high), (-1.0, low)):
                q = probabilities(changed)
                total[j] += sign * (w @ q)
                rows_of = with_ones(changed)
                for c in range(1, n_classes):
                    derivative = q * ((np.arange(n_classes) == c) - q[:, [c]])
                    jacobian[j, :, c - 1, :] += sign * (
                        (w[:, None] * derivative).T @ rows_of
                    )
    return total, jacobian.reshape(n_features * n_classes, -1), float(weight.sum())


def margins(
    params: np.ndarray,
    cov_params: np.ndarray,
    X: Any,
    weight: np.ndarray,
    fit_intercept: bool,
    *,
    at: str,
    method: str,
    atexog: dict | None,
    dummy: bool,
    count: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The effects and their covariance (module docstring)."""
    if at not in AT:
        raise ValueError(f"at must be one of {AT}, got {at!r}.")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    n_features = X.shape[1]
    if atexog is not None:
        if at == "overall":
            raise ValueError('atexog needs at="mean", "median" or "zero".')
        bad = [k for k in atexog if not (isinstance(k, int | np.integer)
                                         and 0 <= k < n_features)]  # fmt: skip
        if bad:
            raise ValueError(
                f"atexog is keyed by column index, 0 to {n_features - 1}; got {bad}."
            )
    if _is_lazy(X):
        return _lazy_margins(
            params, cov_params, X, weight, fit_intercept, at, method, atexog,
            dummy, count,
        )  # fmt: skip
    binary = integer = np.zeros(n_features, dtype=bool)
    if dummy or count:
        kinds = _column_kinds(X, weight)
        binary, integer = _discrete_columns(kinds, dummy, count)
    if at == "overall":
        rows, row_weight = X, weight
    else:
        rows, row_weight = _point(X, weight, at, atexog), np.ones(1)

    effects, jacobian = _effects(
        params, rows, row_weight, fit_intercept, method, binary, integer
    )
    return effects, jacobian @ cov_params @ jacobian.T


def _is_lazy(X: Any) -> bool:
    """Whether X is a Dask collection (told without importing Dask)."""
    return hasattr(X, "dask") and hasattr(X, "to_delayed")


def _lazy_margins(
    params: np.ndarray,
    cov_params: np.ndarray,
    X: Any,
    weight: Any,
    fit_intercept: bool,
    at: str,
    method: str,
    atexog: dict | None,
    dummy: bool,
    count: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`margins` on a Dask array X (and weights, a Dask array of its row
    chunks): the sums of :func:`_effect_sums` computed block by block on the
    cluster of the current client, and added here; a mean row by one pass."""
    import dask

    if at == "median":
        raise ValueError(
            "On a Dask collection get_margeff takes the effects over all rows "
            'or at their mean or zero (at="overall", "mean" or "zero"), not at '
            "the median (which needs every value of a column in order): "
            "compute X first for it."
        )
    n_features = X.shape[1]
    blocks = list(
        zip(
            X.rechunk({1: -1}).to_delayed().ravel(),
            weight.to_delayed().ravel(),
            strict=True,
        )
    )
    binary = integer = np.zeros(n_features, dtype=bool)
    if dummy or count:
        # Which columns are 0/1 or counts: one pass, block by block.
        kinds = dask.compute(
            *[dask.delayed(_column_kinds)(rows, w) for rows, w in blocks]
        )
        merged = functools.reduce(_merge_kinds, kinds)
        binary, integer = _discrete_columns(merged, dummy, count)
    if at == "overall":
        parts = dask.compute(
            *[
                dask.delayed(_effect_sums)(
                    params, rows, w, fit_intercept, method, binary, integer
                )
                for rows, w in blocks
            ]
        )
        total = sum(part[0] for part in parts)
        jacobian = sum(part[1] for part in parts)
        weight_sum = sum(part[2] for part in parts)
        effects, jacobian = total / weight_sum, jacobian / weight_sum
    else:
        if at == "mean":
            weighted, weight_sum = dask.compute(X.T @ weight, weight.sum())
            point = np.asarray(weighted, dtype=np.float64) / float(weight_sum)
        else:
            point = np.zeros(n_features)
        for column, value in (atexog or {}).items():
            point[column] = value
        effects, jacobian = _effects(
            params, point[None, :], np.ones(1), fit_intercept, method, binary, integer
        )
    return effects, jacobian @ cov_params @ jacobian.T
