"""The penalised objective that the solver minimises, over preconditioned variables.

The objective reads its training data through a :class:`DataTerm`, whichever
back-end holds it (this process, a Dask cluster, a GPU): the penalty, the L1
split, the preconditioning and the solver exist once. It is made of three
parts, each with its conventions stated in its own module:

- the data term, the weighted mean cross-entropy (:mod:`sksoftmax._loss`,
  through the back-end's :class:`DataTerm`);
- the penalty in the user's units, its L1 split, factors and bounds
  (:class:`~sksoftmax._penalty.Penalty`, :mod:`sksoftmax._penalty`);
- the layout of the variables the solver sees, preconditioned and flat
  (:class:`~sksoftmax._layout.Layout`, :mod:`sksoftmax._layout`). A layout is
  frozen: following the curvature gives a new objective over a new layout
  (:meth:`SoftmaxObjective.rescaled`).

Objective
---------
With normalised sample weights s_i (they sum to one), S the sum of the raw
weights, the weights W of shape (n_rows, n_features) (one row per class, or
one row for two classes, see "Two classes") and r = ``l1_ratio``::

    f(W, b) = sum_i s_i * CE_i(W, b)
              + 1 / (C * S) * sum_j f_j * (r * sum_k |W_kj|
                                           + (1 - r) / 2 * sum_k W_kj^2)

This is ``LogisticRegression(C=C, l1_ratio=r)``'s objective (its
``C * sum_i s_i' CE_i + penalty`` divided by ``C * S``): the same minimiser for
the same ``C`` and r, where the penalty factors f_j are all one (the
default). The intercepts b are never penalised; ``C=np.inf`` drops the
penalty whatever r is. CE_i is the cross-entropy of :mod:`sksoftmax._loss`,
with label smoothing if asked for.

Two classes
-----------
With two classes the model is the binary logistic one, as in
``LogisticRegression``: class 0 is a reference class whose weights and
intercept are fixed at zero, so that W and b have one row (``n_rows`` is 1,
else ``n_classes``), the net input of class 1 is the margin ``x @ w + b``, and
the penalty is on w alone. The data term still sees one row per class (the
zero row first, :func:`with_reference_class`): the softmax of ``(0, z)`` is
the logistic function of z, so one kernel serves both models. (A symmetric
parameterisation, one penalised row per class, would give the binary model at
2C instead.)
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.optimize

from ._backends._contract import DataTerm
from ._layout import (
    FeatureStatistics,
    Layout,
    feature_statistics,
    plain_layout,
    preconditioned_layout,
)
from ._model import model_rows, with_reference_class
from ._penalty import Penalty
from ._settings import FitSettings

__all__ = [
    "DataTerm",
    "FeatureStatistics",
    "SoftmaxObjective",
    "feature_statistics",
]

#: Class frequency that a class of zero total weight starts from, instead of
#: log(0): its intercept heads down from a finite point.
_EMPTY_CLASS_FREQUENCY = 1e-8


class SoftmaxObjective:
    """Penalised mean cross-entropy as a function of the flat parameter vector.

    The value of :meth:`loss_gradient`, :meth:`unpack` and :meth:`bounds` at a
    vector depends on the objective's :attr:`layout` alone, which
    :meth:`rescaled` does not change: it returns a new objective.

    Parameters
    ----------
    data : DataTerm
        The training data.
    n_classes : int
    settings : FitSettings
        The fit's resolved settings (:mod:`sksoftmax._settings`): the
        objective reads ``C``, ``l1_ratio``, ``fit_intercept``,
        ``label_smoothing``, ``penalty_factor`` (f_j, None for all ones) and
        ``coef_bounds`` (the bounds of the weights, None for none).
    precondition : bool, default=True
        Optimise over rescaled variables (:mod:`sksoftmax._layout`). False
        runs the plain parameterisation, V = W and u = b.
    statistics : FeatureStatistics, default=None
        The data's :func:`feature_statistics`, if already computed (a path of
        fits shares them); None computes them.
    """

    #: The penalty, in the user's units.
    penalty: Penalty
    #: The variables' layout.
    layout: Layout

    def __init__(
        self,
        data: DataTerm,
        n_classes: int,
        settings: FitSettings,
        *,
        precondition: bool = True,
        statistics: FeatureStatistics | None = None,
    ) -> None:
        self.data = data
        self.settings = settings
        self.n_classes = n_classes
        #: Rows of the model's weights and intercepts: one per class, or one
        #: with two classes, whose class 0 is the reference (the module
        #: docstring, "Two classes").
        self.n_rows = model_rows(n_classes)
        self.penalty = Penalty.from_settings(settings, data.weight_sum, data.n_features)
        if precondition:
            if statistics is None:
                statistics = feature_statistics(data)
            self.layout = preconditioned_layout(
                statistics,
                n_classes,
                self.n_rows,
                fit_intercept=settings.fit_intercept,
                l1_split=self.penalty.uses_l1_split,
                bounded=settings.coef_bounds is not None,
                penalty_curvature=self.penalty.curvature,
            )
        else:
            self.layout = plain_layout(
                self.n_rows,
                data.n_features,
                fit_intercept=settings.fit_intercept,
                l1_split=self.penalty.uses_l1_split,
            )

    # The penalty's facts that callers read ---------------------------------

    @property
    def unpenalized_features(self) -> np.ndarray:
        """Boolean mask of the features whose weights have no penalty (a
        factor of 0, or C = inf)."""
        return self.penalty.unpenalized_features

    @property
    def gradient_tol_factor(self) -> float:
        """Factor (at most 1) on ``tol`` in the solver's gradient test: below
        1 where a mean that couples the weights cannot be carried
        (:mod:`sksoftmax._layout`, "Without an intercept")."""
        return self.layout.gradient_tol_factor

    @property
    def gradient_tol_reason(self) -> str | None:
        """Why the gradient test is tightened, for the solver's warning; None
        where it is not."""
        if self.gradient_tol_factor < 1.0:
            return (
                "tightened where features far from zero without an intercept "
                "leave the objective flat along their mean; centring them or "
                "fitting an intercept removes that"
            )
        return None

    @property
    def uses_reference_class(self) -> bool:
        """Whether class 0 is a reference class, with weights and intercept
        fixed at zero (two classes: the binary logistic model)."""
        return self.n_rows < self.n_classes

    @property
    def _model_rows(self) -> slice:
        """The rows of the data term's (n_classes, ...) arrays that belong to
        the model's variables."""
        return slice(self.n_classes - self.n_rows, self.n_classes)

    def all_classes(
        self, weights: np.ndarray, intercept: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The model's weights and intercepts as one row per class, as the
        data term takes them: with a reference class, its zero row first."""
        return with_reference_class(weights, intercept, self.n_classes)

    # The flat vector ---------------------------------------------------------

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights and intercepts in the user's units from the flat vector."""
        return self.layout.unpack(theta)

    def pack(self, weights: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Flat vector of the given weights and intercepts (inverse of
        ``unpack``); weights outside ``coef_bounds`` are clipped to them (a
        start must lie within the bounds)."""
        weights = self.penalty.clip(np.asarray(weights, dtype=np.float64))
        return self.layout.pack(weights, intercept)

    def bounds(self) -> scipy.optimize.Bounds | None:
        """Bounds of the flat vector for L-BFGS-B, in this layout's scales
        (:meth:`Penalty.bounds <sksoftmax._penalty.Penalty.bounds>`): None
        without the L1 split or coef_bounds."""
        return self.penalty.bounds(self.layout)

    def initial_theta(self) -> np.ndarray:
        """Zero weights; intercepts at the log class frequencies, centred (or,
        with two classes, relative to the reference class)."""
        weights = np.zeros((self.n_rows, self.layout.n_features))
        intercept = np.zeros(self.n_rows)
        if self.layout.fit_intercept:
            freq = self.data.class_totals(self.n_classes) / self.data.weight_sum
            eps = self.settings.label_smoothing
            freq = (1.0 - eps) * freq + eps / self.n_classes
            log_freq = np.log(np.maximum(freq, _EMPTY_CLASS_FREQUENCY))
            reference = log_freq[0] if self.uses_reference_class else log_freq.mean()
            intercept = (log_freq - reference)[self._model_rows]
        return self.pack(weights, intercept)

    # Value and gradient --------------------------------------------------

    def value(self, weights: np.ndarray, intercept: np.ndarray) -> float:
        """Objective value at weights and intercepts in the user's units."""
        return self.loss_gradient(self.pack(weights, intercept))[0]

    def loss_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective and its gradient with respect to the flat vector: the
        data term, the penalty's L2 term on the weights, the chain rule into
        the layout's variables, and the L1 term, linear in the split parts."""
        layout = self.layout
        weights, intercept = layout.unpack(theta)
        loss, grad_w, grad_b = self.smooth_loss_gradient(weights, intercept)
        split_gradient = None
        if layout.l1_split:
            l1_value, split_gradient = self.penalty.l1_split_term(layout, theta)
            loss += l1_value
        return loss, layout.gradient(grad_w, grad_b, split_gradient)

    def smooth_loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The smooth part of the objective, the data term and the L2 term,
        and its gradients with respect to the weights and the intercepts, at
        weights and intercepts in the user's units and the model's rows (the
        Newton steps of :mod:`sksoftmax._newton` and
        :mod:`sksoftmax._proximal` read it without a layout)."""
        loss, grad_w, grad_b = self.data.loss_gradient(
            *self.all_classes(weights, intercept), self.settings.label_smoothing
        )
        rows = self._model_rows
        loss, grad_w = self.penalty.add_l2(weights, loss, grad_w[rows])
        return loss, grad_w, grad_b[rows]

    # Following the curvature ----------------------------------------------

    def rescaled(
        self, theta: np.ndarray, gradient: np.ndarray | None = None
    ) -> tuple[SoftmaxObjective, np.ndarray, np.ndarray | None]:
        """The objective over variables rescaled to the curvature of the data
        term at ``theta`` (:mod:`sksoftmax._layout`), and ``theta`` and
        ``gradient`` in them; this objective is unchanged.

        The weights and intercepts stay where they are, so the objective's
        value is unchanged and the chain rule divides by the new scales
        instead of the old ones: the gradient is returned in the new variables
        if ``gradient`` (the objective's gradient at ``theta``) is given, else
        None. (With the L1 split, a weight whose two parts are both positive
        keeps only their difference: that lowers the penalty and moves the
        point, and the gradient is then None.) Without preconditioning the
        objective and ``theta`` are returned as they are.
        """
        layout = self.layout
        if layout.initial_curvature is None:
            return self, theta, gradient
        weights, intercept = layout.unpack(theta)
        weight_curvature, intercept_curvature = self.data.curvature(
            *self.all_classes(weights, intercept), layout.offset
        )
        rows = self._model_rows
        rescaled = copy.copy(self)
        rescaled.layout = layout.rescaled(
            (weight_curvature[rows], intercept_curvature[rows]),
            self.penalty.curvature,
        )
        moved = rescaled.pack(weights, intercept)
        old_scales = layout.flat_scales()
        new_scales = rescaled.layout.flat_scales()
        if gradient is None or not np.allclose(
            moved / new_scales, theta / old_scales, rtol=1e-15, atol=0
        ):
            return rescaled, moved, None
        return rescaled, moved, gradient * (old_scales / new_scales)
