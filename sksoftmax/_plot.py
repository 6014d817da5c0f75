"""Pictures of an inference result: forest plots of the coefficients (or
odds ratios) and of the marginal effects, with their confidence intervals.

They are scikit-learn's Display objects: ``from_result(...)`` computes what
is drawn and draws it, ``plot(ax=...)`` draws it again on other axes, and
``figure_``, ``ax_`` and ``errorbars_`` are what was drawn. matplotlib is
imported only when a display draws (the ``plot`` extra).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._inference_result import InferenceResult, _check_alpha
from ._margins import MarginalEffects


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # the optional extra is not installed
        raise ImportError(
            "sksoftmax's displays draw with matplotlib: pip install "
            '"sksoftmax[plot]" (or matplotlib).'
        ) from error
    return plt


def _chosen_rows(names: np.ndarray, features: Any, what: str) -> np.ndarray:
    """The indices of ``features`` (names) among ``names``; all if None."""
    if features is None:
        return np.arange(len(names))
    listed = [str(name) for name in names]
    wanted = [str(feature) for feature in np.atleast_1d(np.asarray(features))]
    unknown = [name for name in wanted if name not in listed]
    if unknown:
        raise ValueError(
            f"features {unknown} are not among the {what}'s features {listed}."
        )
    return np.array([listed.index(name) for name in wanted], dtype=np.intp)


class _IntervalDisplay:
    """Estimates with intervals: one row per feature, one series per class,
    each a point with a horizontal error bar, and a line at the value of no
    effect."""

    def __init__(
        self,
        estimates: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        feature_names: np.ndarray,
        classes: np.ndarray,
        *,
        null_value: float = 0.0,
        xlabel: str = "",
        log_scale: bool = False,
    ) -> None:
        self.estimates = np.asarray(estimates, dtype=np.float64)
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.feature_names = np.asarray(feature_names, dtype=object)
        self.classes = np.asarray(classes, dtype=object)
        self.null_value = null_value
        self.xlabel = xlabel
        self.log_scale = log_scale
        shape = (len(self.feature_names), len(self.classes))
        for name in ("estimates", "lower", "upper"):
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"{name} must have shape {shape} (features, classes), got "
                    f"{getattr(self, name).shape}."
                )

    def plot(self, ax: Any = None, *, legend_title: str = "class") -> Any:
        """Draw the estimates and their intervals.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw on; None makes a new figure.
        legend_title : str, default="class"
            The title of the legend of the classes (drawn where there are
            several).

        Returns
        -------
        display
            This display, with ``figure_``, ``ax_`` and ``errorbars_`` (one
            errorbar container per class) set.
        """
        plt = _pyplot()
        n_features, n_classes = self.estimates.shape
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 1.0 + 0.35 * n_features * n_classes))
        # The first feature on top; the classes side by side within a row.
        positions = np.arange(n_features)[::-1].astype(np.float64)
        spread = 0.6 if n_classes > 1 else 0.0
        offsets = np.linspace(spread / 2, -spread / 2, n_classes)
        self.errorbars_ = []
        for k in range(n_classes):
            estimate = self.estimates[:, k]
            container = ax.errorbar(
                estimate,
                positions + offsets[k],
                xerr=np.vstack(
                    [estimate - self.lower[:, k], self.upper[:, k] - estimate]
                ),
                fmt="o",
                markersize=4,
                capsize=3,
                label=str(self.classes[k]),
            )
            self.errorbars_.append(container)
        ax.axvline(self.null_value, color="grey", linewidth=0.8, linestyle="--")
        ax.set_yticks(positions, [str(name) for name in self.feature_names])
        if self.log_scale:
            ax.set_xscale("log")
        ax.set_xlabel(self.xlabel)
        if n_classes > 1:
            ax.legend(title=legend_title, fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class CoefficientDisplay(_IntervalDisplay):
    """A forest plot of an inference result's coefficients (or odds ratios)
    with their confidence intervals: one row per feature, one point per
    class against the reference.

    Build it with :meth:`from_result`; the constructor takes the arrays
    drawn.

    Parameters
    ----------
    estimates : ndarray of shape (n_features, n_classes - 1)
        The coefficients (or odds ratios).
    lower, upper : ndarray of shape (n_features, n_classes - 1)
        The bounds of their intervals.
    feature_names : ndarray of shape (n_features,)
        The names of the rows.
    classes : ndarray of shape (n_classes - 1,)
        The classes of the columns, each against the reference.
    null_value : float, default=0.0
        Where a line marks no effect (1 for odds ratios).
    xlabel : str, default=""
        The label of the x axis.
    log_scale : bool, default=False
        A logarithmic x axis (for odds ratios).

    Attributes
    ----------
    figure_ : matplotlib Figure
        The figure drawn on.
    ax_ : matplotlib Axes
        The axes drawn on.
    errorbars_ : list of matplotlib ErrorbarContainer
        One per class, in the order of ``classes``.
    """

    @classmethod
    def from_result(
        cls,
        result: InferenceResult,
        *,
        odds_ratio: bool = False,
        alpha: float | None = None,
        features: Any = None,
        include_intercept: bool = False,
        ax: Any = None,
    ) -> CoefficientDisplay:
        """Draw the coefficients of ``result`` with their intervals.

        Parameters
        ----------
        result : InferenceResult
            From :func:`sksoftmax.inference`.
        odds_ratio : bool, default=False
            Draw ``exp(coef)`` and the exponentiated intervals on a log
            scale: the factor on the odds of each class against the reference.
        alpha : float, default=None
            The intervals cover ``1 - alpha``; None uses the result's.
        features : list of str, default=None
            The features to draw, in this order (``"intercept"`` among them,
            if wanted); None draws them all.
        include_intercept : bool, default=False
            With ``features=None``, draw the intercepts too (left out by
            default: their scale is another than the features').
        ax : matplotlib Axes, default=None
            The axes to draw on; None makes a new figure.

        Returns
        -------
        display : CoefficientDisplay
        """
        if not isinstance(result, InferenceResult):
            raise TypeError(
                "CoefficientDisplay.from_result takes the InferenceResult of "
                f"sksoftmax.inference, got {type(result).__name__}."
            )
        bounds = result.conf_int(alpha)
        names = result.feature_names
        if features is None and not include_intercept and result.fit_intercept:
            rows = np.arange(len(names) - 1)
        else:
            rows = _chosen_rows(names, features, "result")
        estimates = result.params[:, rows].T
        lower, upper = bounds[:, rows, 0].T, bounds[:, rows, 1].T
        level = 1 - (result.alpha if alpha is None else _check_alpha(alpha))
        what = "odds ratio" if odds_ratio else "coefficient"
        xlabel = (
            f"{what} against class {result.reference!r} "
            f"({100 * level:g}% confidence intervals)"
        )
        if odds_ratio:
            # (Huge coefficients, as of separated classes, draw at infinity.)
            with np.errstate(over="ignore"):
                estimates, lower, upper = (
                    np.exp(estimates),
                    np.exp(lower),
                    np.exp(upper),
                )
        display = cls(
            estimates,
            lower,
            upper,
            names[rows],
            result.classes,
            null_value=1.0 if odds_ratio else 0.0,
            xlabel=xlabel,
            log_scale=odds_ratio,
        )
        return display.plot(ax=ax)


class MarginalEffectsDisplay(_IntervalDisplay):
    """A forest plot of marginal effects with their confidence intervals:
    one row per feature, one point per class (every class, the reference
    included).

    Build it with :meth:`from_result`; the constructor takes the arrays
    drawn, as :class:`CoefficientDisplay`'s does.

    Parameters
    ----------
    estimates : ndarray of shape (n_features, n_classes)
        The marginal effects.
    lower, upper : ndarray of shape (n_features, n_classes)
        The bounds of their intervals.
    feature_names : ndarray of shape (n_features,)
        The names of the rows.
    classes : ndarray of shape (n_classes,)
        The classes of the columns.
    null_value : float, default=0.0
        Where a line marks no effect.
    xlabel : str, default=""
        The label of the x axis.
    log_scale : bool, default=False
        A logarithmic x axis.

    Attributes
    ----------
    figure_ : matplotlib Figure
        The figure drawn on.
    ax_ : matplotlib Axes
        The axes drawn on.
    errorbars_ : list of matplotlib ErrorbarContainer
        One per class, in the order of ``classes``.
    """

    @classmethod
    def from_result(
        cls,
        margeff: MarginalEffects,
        *,
        alpha: float | None = None,
        features: Any = None,
        ax: Any = None,
    ) -> MarginalEffectsDisplay:
        """Draw the marginal effects of ``margeff`` with their intervals.

        Parameters
        ----------
        margeff : MarginalEffects
            From :meth:`sksoftmax.InferenceResult.get_margeff`.
        alpha : float, default=None
            The intervals cover ``1 - alpha``; None uses the result's.
        features : list of str, default=None
            The features to draw, in this order; None draws them all.
        ax : matplotlib Axes, default=None
            The axes to draw on; None makes a new figure.

        Returns
        -------
        display : MarginalEffectsDisplay
        """
        if not isinstance(margeff, MarginalEffects):
            raise TypeError(
                "MarginalEffectsDisplay.from_result takes the MarginalEffects "
                "of InferenceResult.get_margeff, got "
                f"{type(margeff).__name__}."
            )
        rows = _chosen_rows(margeff.feature_names, features, "marginal effects")
        bounds = margeff.conf_int(alpha)
        level = 1 - (margeff.alpha if alpha is None else _check_alpha(alpha))
        xlabel = (
            f"marginal effect ({margeff.method}, at {margeff.at}) on each "
            f"class's probability ({100 * level:g}% confidence intervals)"
        )
        display = cls(
            margeff.margeff[rows],
            bounds[rows, :, 0],
            bounds[rows, :, 1],
            margeff.feature_names[rows],
            margeff.classes,
            xlabel=xlabel,
        )
        return display.plot(ax=ax)


__all__ = ["CoefficientDisplay", "MarginalEffectsDisplay"]
