"""The penalty on the weights: its L2 and L1 terms, per-feature factors and
bounds, in the user's units.

The objective's formula, and which weights it penalises, are stated in
:mod:`sksoftmax._objective`; how the weights become the solver's variables is
:mod:`sksoftmax._layout`'s. A :class:`Penalty` is built once per fit and never
changes.

The L1 term as bounds
---------------------
``||W||_1`` has no derivative where a weight is zero, and L-BFGS-B needs one.
It does take bounds, so with r > 0 every weight is split into a positive and a
negative part, ``W = W+ - W-`` with ``W+, W- >= 0``. Over the doubled variables
the penalty ``r * sum(W+ + W-)`` is linear and the objective smooth, and
minimising it under the bounds solves the original problem *exactly*, not a
smoothed approximation: at a minimiser at most one part of each weight is
positive (lowering both by their minimum keeps W and lowers the penalty), so
``sum(W+ + W-) = ||W||_1``, and the optimality conditions under the bounds are
the subgradient conditions of the L1 problem (``|dF/dW_kj| <= r / (C S)`` where
``W_kj = 0``). A weight whose optimum is zero ends with both parts on their
bound: it is exactly zero and the model is truly sparse. With r = 0 the split
is not made and the L2 variables are used as they are.

Penalty factors and bounds
--------------------------
The factor f_j >= 0 of feature j (``penalty_factor``) multiplies both terms
of its penalty; f_j = 0 leaves its weights free. The factors are used as
given (glmnet's ``penalty.factor`` is rescaled to sum to n_features; these
are not), so that a factor of 2 means twice the penalty of a feature of
factor 1 at the same C. They enter wherever the penalty does: its value and
gradient, the linear L1 term of the split, and the penalty's curvature in
the layout's scales.

``coef_bounds`` bound each weight W_kj to [l_kj, u_kj], never the
intercepts. L-BFGS-B takes them as bounds of the flat vector
(:meth:`Penalty.bounds`), exactly, in whatever scales the variables have in
the layout given; starts outside them are clipped into them
(:meth:`Penalty.clip`).

For three or more classes the probabilities do not change when one amount
is added to a feature's weight in every class, and the L2 penalty picks the
weights that sum to zero over the classes. Without a penalty on the feature
nothing picks them: the fit then centres them itself (``fit_objective``),
unless they are bounded (a finite bound in some class). Bounds break that
invariance: ``W >= 0`` in every class is no constraint on the probabilities
of an unpenalised model, but with a penalty it keeps each feature's smallest
weight at zero instead of the weights' mean.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.optimize

from ._layout import Layout
from ._settings import Bounds, FitSettings

#: Relative decrease of a feature's penalty below which
#: :meth:`Penalty.best_class_shift` leaves its weights where they are.
_SHIFT_RESOLUTION = 1e-12


@dataclasses.dataclass(frozen=True, eq=False)
class Penalty:
    """The penalty's terms, per feature, and the bounds of the weights.

    Build it with :meth:`from_settings`.
    """

    #: The L1 term's strength ``r / (C S)``.
    l1_reg_strength: float
    #: The L2 term's strength ``(1 - r) / (C S)``.
    l2_reg_strength: float
    #: Each feature's factor f_j, of shape (n_features,) (ones by default: the
    #: arithmetic, f_j times each term, is then that of no factors, to the
    #: bit).
    penalty_factor: np.ndarray
    #: (lower, upper) bounds of the weights, in the user's units, or None.
    coef_bounds: Bounds | None
    #: Each term's strength per feature, of shape (n_features,): computed
    #: once, not per evaluation.
    l1_per_feature: np.ndarray
    l2_per_feature: np.ndarray

    @classmethod
    def from_settings(
        cls, settings: FitSettings, weight_sum: float, n_features: int
    ) -> Penalty:
        """The penalty of the resolved ``settings`` (``C``, ``l1_ratio``,
        ``penalty_factor``, ``coef_bounds``) for data whose sample weights sum
        to ``weight_sum``."""
        C, l1_ratio = settings.C, settings.l1_ratio
        with np.errstate(over="ignore"):
            penalty = 0.0 if np.isinf(C) else (1.0 / C) / weight_sum
        if not np.isfinite(penalty):
            raise ValueError(
                f"{settings.estimator}: the penalty 1 / (C * sum(sample_weight)) "
                f"overflows (C={C!r}, "
                f"sum(sample_weight)={weight_sum!r}): raise C or rescale "
                "sample_weight (only C times the weights' sum matters)."
            )
        l1_reg_strength = l1_ratio * penalty
        l2_reg_strength = (1.0 - l1_ratio) * penalty
        factor = (
            np.ones(n_features)
            if settings.penalty_factor is None
            else np.asarray(settings.penalty_factor, dtype=np.float64)
        )
        return cls(
            l1_reg_strength=l1_reg_strength,
            l2_reg_strength=l2_reg_strength,
            penalty_factor=factor,
            coef_bounds=settings.coef_bounds,
            l1_per_feature=l1_reg_strength * factor,
            l2_per_feature=l2_reg_strength * factor,
        )

    @property
    def uses_l1_split(self) -> bool:
        """Whether some weight has an L1 term, so that the weights are split
        into bounded parts."""
        return bool(np.any(self.l1_per_feature > 0))

    @property
    def unpenalized_features(self) -> np.ndarray:
        """Boolean mask of the features whose weights have no penalty (a
        factor of 0, or C = inf)."""
        return (self.l1_reg_strength + self.l2_reg_strength) * self.penalty_factor == 0

    @property
    def curvature(self) -> np.ndarray:
        """The penalty's curvature along each feature's weights, of shape
        (n_features,): that of its L2 term (the L1 term is linear in the
        split)."""
        return self.l2_per_feature

    def clip(self, weights: np.ndarray) -> np.ndarray:
        """The weights clipped into ``coef_bounds`` (a start must lie within
        them)."""
        if self.coef_bounds is None:
            return weights
        return np.clip(weights, *self.coef_bounds)

    def best_class_shift(self, weights: np.ndarray) -> np.ndarray:
        """The weights (one row per class) with each feature's column shifted
        by the amount t that minimises its penalty
        ``l1 sum_k |W_kj - t| + l2 / 2 sum_k (W_kj - t)^2``.

        A shift of a feature's weights across all classes changes no
        probability, so the optimum is where the penalty is lowest along it,
        and the shift only lowers the objective of any point. For an L2
        penalty t is the column's mean (the class sums become zero); with an
        L1 term the one-dimensional convex problem is solved exactly, from
        the stationary points of its pieces between the weights and the
        weights themselves, keeping the column as it is where no shift does
        better. Features without a penalty are centred. With bounds the shift
        is the nearest to that one that keeps every class's weight within
        them (the penalty being convex in t, the best within them): a
        feature without a penalty then ends where it would from any start.
        """
        weights = np.array(weights, dtype=np.float64)
        n_classes = weights.shape[0]
        centred = (self.l1_reg_strength == 0) | self.unpenalized_features
        shift = np.zeros(weights.shape[1])
        shift[centred] = weights[:, centred].mean(axis=0)
        split = ~centred
        if np.any(split):
            shift[split] = self._best_l1_shift(weights[:, split], n_classes)
        if self.coef_bounds is not None:
            # The shifts that keep every class's weight within its bounds
            # (an interval holding 0, the weights being within them).
            lower, upper = self.coef_bounds
            least = np.max(weights - upper, axis=0)
            most = np.min(weights - lower, axis=0)
            shift = np.clip(shift, np.minimum(least, 0.0), np.maximum(most, 0.0))
        return weights - shift

    def _best_l1_shift(self, column: np.ndarray, n_classes: int) -> np.ndarray:
        """The shift t of each column (a feature's weights over the classes)
        that minimises ``l1 sum_k |w_k - t| + l2 / 2 sum_k (w_k - t)^2``, 0
        where none does better by more than rounding."""
        l1, l2 = self.l1_reg_strength, self.l2_reg_strength

        def penalty(t: np.ndarray) -> np.ndarray:
            moved = column - t
            return l1 * np.abs(moved).sum(axis=0) + 0.5 * l2 * (moved**2).sum(axis=0)

        best_t = np.zeros(column.shape[1])
        best = penalty(best_t)
        best_zeros = (column == 0).sum(axis=0)
        candidates = list(column)
        if l2 > 0:
            # The stationary point of the piece with m weights below t.
            total = column.sum(axis=0)
            candidates += [
                (total - l1 * (2 * m - n_classes) / l2) / n_classes
                for m in range(n_classes + 1)
            ]
        for t in candidates:
            value = penalty(t)
            zeros = (column == t).sum(axis=0)
            # Better by more than rounding, or no worse with as many zeros: a
            # column that is at its best keeps its zeros, and one without
            # zeros moves to the stationary point even where the penalty is
            # too flat there for the move to show beyond rounding.
            better = (value < best * (1 - _SHIFT_RESOLUTION)) | (
                (value <= best) & (zeros >= best_zeros)
            )
            best_t[better], best[better] = t[better], value[better]
            best_zeros[better] = zeros[better]
        return best_t

    def add_l2(
        self, weights: np.ndarray, loss: float, grad_w: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The L2 term added to ``loss`` and, in place, to its gradient
        ``grad_w`` with respect to the weights."""
        if self.l2_reg_strength:
            weighted = weights * self.penalty_factor
            loss += 0.5 * self.l2_reg_strength * np.vdot(weights, weighted)
            grad_w += self.l2_reg_strength * weighted
        return loss, grad_w

    def l1_split_term(
        self, layout: Layout, theta: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The L1 term over the split parts of ``theta``, ``l1 * sum(W+ +
        W-)``, and its gradient along each part's variables, of shape
        (n_rows, n_features) (the same for both parts).

        In the scaled variables the term is ``sum_kj l1_j / scale_kj (V+_kj +
        V-_kj)``: it equals ``l1 * ||W||_1`` wherever ``min(W+, W-) = 0``.
        """
        per_variable = self.l1_per_feature / layout.scale
        positive, negative = layout.split_parts(theta)
        return float(np.vdot(positive + negative, per_variable)), per_variable

    def bounds(self, layout: Layout) -> scipy.optimize.Bounds | None:
        """Bounds of the flat vector for L-BFGS-B, in the scales of
        ``layout``: None without the L1 split or coef_bounds.

        A bound on W_kj is the bound times scale_kj on V_kj. With the L1
        split ``W = W+ - W-`` a box [l, u] bounds the parts by
        ``W+ in [max(l, 0), max(u, 0)]`` and ``W- in [max(-u, 0),
        max(-l, 0)]``: their difference covers exactly [l, u], and where one
        part's lower bound is above zero the other is held at zero, so that
        at the optimum one part is still zero (the module docstring).
        """
        if not layout.l1_split and self.coef_bounds is None:
            return None
        lower: np.ndarray | float
        upper: np.ndarray | float
        if self.coef_bounds is None:
            lower, upper = -np.inf, np.inf
        else:
            lower, upper = self.coef_bounds
        n_weights = layout.n_weights
        lb = np.full(layout.n_params, -np.inf)
        ub = np.full(layout.n_params, np.inf)
        if layout.l1_split:
            limits = [
                (np.maximum(lower, 0.0), np.maximum(upper, 0.0)),
                (np.maximum(-upper, 0.0), np.maximum(-lower, 0.0)),
            ]
        else:
            limits = [(lower, upper)]
        scale = layout.scale
        for part, (low, high) in enumerate(limits):
            where = slice(part * n_weights, (part + 1) * n_weights)
            # A huge finite bound times a scale may overflow: no bound then.
            with np.errstate(over="ignore"):
                lb[where] = np.broadcast_to(low * scale, scale.shape).ravel()
                ub[where] = np.broadcast_to(high * scale, scale.shape).ravel()
        return scipy.optimize.Bounds(lb, ub)
