"""The variables the solver sees: preconditioned, with the L1 split and the
mean's own variable where used, as one flat vector.

A :class:`Layout` is frozen: following the curvature returns a new one
(:meth:`Layout.rescaled`), so that :meth:`Layout.unpack` is a function of the
layout and the vector alone. The objective itself, and the penalty in the
user's units, are stated in :mod:`sksoftmax._objective` and
:mod:`sksoftmax._penalty`.

Preconditioning
---------------
L-BFGS-B is sensitive to the scale of its variables: a feature measured in the
thousands next to one measured in thousandths gives a badly conditioned problem
and a fit that stops at ``max_iter`` far from the optimum. The solver therefore
works on rescaled variables that leave the objective unchanged::

    V = W * scale                       (scale: per class and feature)
    u = (b + W @ offset) * b_scale      (offset: per-feature mean; b_scale:
                                         per class)

so that ``Z = X W^T + b = (X - offset) (V / scale)^T + u / b_scale``: the
optimiser sees a standardised problem, but X is never copied, centred or
densified; the kernel runs on ``W = V / scale`` and
``b = u / b_scale - W @ offset`` and the chain rule maps its gradient back:
``dV = (dW - db offset^T) / scale``, ``du = db / b_scale``. The penalty stays
``||W||^2`` in the user's units.

The scales make the diagonal of the Hessian one. Along W_kj (with u fixed) the
curvature is ``c_kj + l2``: the data term's
``c_kj = sum_i s_i q_ik (x_ij - offset_j)^2``, with ``q_ik = p_ik (1 - p_ik)``
the softmax curvature of sample i in class k, plus the penalty's
``l2 = 1/(C S)``; along u_k it is ``sum_i s_i q_ik``. Hence
``scale_kj = sqrt(c_kj + l2)`` and ``b_scale_k = sqrt(sum_i s_i q_ik)``.

- *At the start* the probabilities are taken as uniform, ``q = h = (1/K)(1 -
  1/K)``, so that the scales need only the feature variances:
  ``sqrt(h * var_j + l2)`` and ``sqrt(h)`` (:func:`preconditioned_layout`).
- *Following the curvature.* Near separation the probabilities saturate and
  the true curvature along most weights falls by orders of magnitude: with the
  starting scales the gradient is then tiny far from the optimum, ``tol`` is
  met early, and L-BFGS crawls. The solver therefore re-estimates the
  curvature at the current point (:meth:`SoftmaxObjective.rescaled
  <sksoftmax._objective.SoftmaxObjective.rescaled>`, one pass over the data
  through :meth:`DataTerm.curvature`) between rounds of L-BFGS-B, and always
  before it accepts a stop. A re-estimated curvature keeps at least
  ``_CURVATURE_FLOOR`` of the starting one.
- The penalty's own curvature is included, so nearly constant features (the
  near-empty pixels of the digits) do not get a huge curvature ``l2 / var_j``,
  as a plain standardisation would give them (it slowed fits tenfold).
- A unit curvature makes ``tol`` mean the same for any scale of the features,
  any number of classes and any degree of separation: the gradient bounds the
  distance to the optimum in units of the local curvature. (With a curvature
  of h instead, fits with 100 or 1000 classes stopped at ``tol`` up to 1e-2
  above the optimum.)

The statistics use the sample weights, so that integer weights and repeated
rows give the same path.

With the L1 split the two parts are scaled like V, ``V+ = W+ * scale`` and
``V- = W- * scale`` (a positive scale keeps their bounds at zero), and the
linear penalty's gradient along them is ``f_j r / (C S) / scale``. The
penalty's curvature in ``scale`` is only that of its L2 part,
``f_j (1 - r) / (C S)``.

Without an intercept
--------------------
Without an intercept the features cannot be centred, and a mean m far from
zero (in units of the spread) couples every weight: ``W m`` acts like an
intercept that all the weights must move together to change. Diagonal scales
cannot undo that (features offset by 1000 left the default fit 9.45e-3 above
the optimum, reporting convergence). That intercept-like quantity therefore
gets a variable of its own: with ``n = m / ||m||^2``,

    W = V / scale + (u / b_scale - (V / scale) m) n^T,   u = (W m) * b_scale

so that ``W m = u / b_scale`` and ``Z = (X - m) W^T + u / b_scale``: the
problem of centred data, with u in the role of the intercepts, and still
``b = 0``. The gradient is ``dV = (dW - (dW n) m^T) / scale`` and
``du = (dW n) / b_scale``. It is used where the standardised mean has a norm
above one, and not with the L1 split or ``coef_bounds``, whose bounds need
each weight as a variable of its own. There the spread is taken about zero,
the coupling stays, and the solver's gradient test is tightened by the
flatness it leaves (:attr:`Layout.gradient_tol_factor`,
:func:`_uncarried_mean_factor`), so that such a fit either reaches the optimum
or says that it did not.

Parameter vector
----------------
The flat vector that SciPy sees (:meth:`Layout.pack` builds it,
:meth:`Layout.unpack` reads it) is ``[V.ravel(), u]`` (C order; u with an
intercept, or for the mean without one), of length ``n_rows * (n_features +
1)`` or ``n_rows * n_features``; with the L1 split it is ``[V+.ravel(),
V-.ravel(), u]``, the first two bounded below by 0.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ._backends._contract import DataTerm

#: Least share of the initial curvature that a re-estimated curvature keeps:
#: along a weight that saturated probabilities have made flat the curvature
#: tends to zero (and to exactly zero without a penalty), and a scale of zero
#: would make the variable infinite.
_CURVATURE_FLOOR = 1e-8


#: Spread, relative to the mean, at or below which a feature is constant: the
#: rounding of a weighted mean accumulated in float64 (a constant column of
#: -1.0 came out with a spread of 4.4e-16), with room for long sums.
_CONSTANT_SPREAD = 1024 * np.finfo(np.float64).eps


class FeatureStatistics(NamedTuple):
    """Weighted per-feature statistics of X that the preconditioning reads
    (:func:`feature_statistics`); they do not depend on C, so a path of fits
    computes them once."""

    #: The weighted mean.
    mean: np.ndarray
    #: The weighted root mean square of ``X - mean``.
    spread: np.ndarray
    #: The weighted root mean square of X (about zero, where a fit without
    #: intercept and with the L1 split takes its scales).
    spread_about_zero: np.ndarray


def feature_statistics(data: DataTerm) -> FeatureStatistics:
    """The weighted mean and spreads of the features, accumulated in float64:
    two passes over the data."""
    mean, second_moment_about_zero = data.feature_moments(np.zeros(data.n_features))
    # A second pass about the mean: E[x^2] - m^2 loses every digit of a small
    # spread around a large mean.
    _, second_moment = data.feature_moments(mean)
    spread = np.sqrt(second_moment)
    # A constant column's spread about its computed mean is that mean's
    # rounding, not zero: scaled by it, its weight and the intercept ran off
    # together along the direction that the column and the intercept share.
    spread[spread <= _CONSTANT_SPREAD * np.abs(mean)] = 0.0
    return FeatureStatistics(mean, spread, np.sqrt(second_moment_about_zero))


#: The data term's curvature along the weights, of shape (n_rows,
#: n_features), and along the intercepts, of shape (n_rows,).
Curvature = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """Where the weights and intercepts sit in the flat vector, and in what
    units (the module docstring). Frozen: a rescaling is a new layout."""

    #: Rows of the model's weights: one per class, or one for two classes.
    n_rows: int
    n_features: int
    fit_intercept: bool
    #: Whether the weights are split into bounded parts (an L1 term).
    l1_split: bool
    #: The per-feature offset the intercept-like variables are taken about,
    #: of shape (n_features,).
    offset: np.ndarray
    #: The weights' scales, of shape (n_rows, n_features).
    scale: np.ndarray
    #: The intercept-like variables' scales, of shape (n_rows,).
    intercept_scale: np.ndarray
    #: Direction n (n @ mean = 1) along which the weights carry the
    #: intercept-like variable of a fit without intercept, or None.
    mean_direction: np.ndarray | None = None
    #: The data term's curvature the first scales were set from, which a
    #: re-estimated one keeps a share of; None without preconditioning (the
    #: scales are then ones and stay so).
    initial_curvature: Curvature | None = None
    #: Factor (at most 1) on ``tol`` in the solver's gradient test: below 1
    #: where a mean that couples the weights is not carried.
    gradient_tol_factor: float = 1.0
    #: Features whose weights are held at zero, of shape (n_features,), or
    #: None: constant columns beside an intercept, which they duplicate (the
    #: optimum's weight is zero where penalised, and any value is one where
    #: not; left free, the weight and the intercept drift together along the
    #: flat direction they share, on the rounding of the gradient).
    fixed: np.ndarray | None = None

    @property
    def has_intercept_variables(self) -> bool:
        """Whether the flat vector ends with one intercept-like variable per
        row (the intercepts, or the weights along the mean direction)."""
        return self.fit_intercept or self.mean_direction is not None

    @property
    def n_weights(self) -> int:
        """Weights of the model, ``n_rows * n_features``."""
        return self.n_rows * self.n_features

    @property
    def n_params(self) -> int:
        """Length of the flat vector."""
        return (
            1 + self.l1_split
        ) * self.n_weights + self.n_rows * self.has_intercept_variables

    def flat_scales(self) -> np.ndarray:
        """The scale of each component of the flat vector."""
        parts = [self.scale.ravel()] * (1 + self.l1_split)
        if self.has_intercept_variables:
            parts.append(self.intercept_scale)
        return np.concatenate(parts)

    def rescaled(self, curvature: Curvature, penalty_curvature: np.ndarray) -> Layout:
        """The layout whose scales fit the data term's ``curvature`` plus the
        penalty's (of shape (n_features,)), the data term's floored at a share
        of the initial curvature. Without preconditioning, this layout."""
        if self.initial_curvature is None:
            return self
        scale, intercept_scale = _scales(
            curvature, penalty_curvature, self.initial_curvature
        )
        return dataclasses.replace(self, scale=scale, intercept_scale=intercept_scale)

    def split_parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The scaled positive and negative parts ``V+, V-`` of the split, as
        flat views of ``theta``."""
        n_weights = self.n_weights
        return theta[:n_weights], theta[n_weights : 2 * n_weights]

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights and intercepts in the user's units from the flat vector."""
        n_weights = self.n_weights
        weights = theta[:n_weights]
        if self.l1_split:
            weights = weights - theta[n_weights : 2 * n_weights]
            n_weights *= 2
        weights = weights.reshape(self.n_rows, self.n_features) / self.scale
        intercept = np.zeros(self.n_rows)
        if self.fit_intercept:
            intercept = theta[n_weights:] / self.intercept_scale
            intercept -= weights @ self.offset
        elif self.mean_direction is not None:
            along_mean = theta[n_weights:] / self.intercept_scale
            weights += np.outer(along_mean - weights @ self.offset, self.mean_direction)
        return weights, intercept

    def pack(self, weights: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Flat vector of the given weights and intercepts (inverse of
        :meth:`unpack`)."""
        weights = np.asarray(weights, dtype=np.float64)
        held = weights
        if self.fixed is not None:
            # The intercept-like variables below take the held weights' share
            # of the net input (their columns are constant).
            held = weights.copy()
            held[:, self.fixed] = 0.0
        scaled = (held * self.scale).ravel()
        if self.l1_split:
            parts = [np.maximum(scaled, 0.0), np.maximum(-scaled, 0.0)]
        else:
            parts = [scaled]
        if self.has_intercept_variables:
            intercept = np.asarray(intercept, dtype=np.float64) * self.fit_intercept
            parts.append((intercept + weights @ self.offset) * self.intercept_scale)
        return np.concatenate(parts)

    def gradient(
        self,
        grad_w: np.ndarray,
        grad_b: np.ndarray,
        split_gradient: np.ndarray | None = None,
    ) -> np.ndarray:
        """The flat gradient from the gradient with respect to the weights and
        intercepts (the chain rule of the module docstring; ``grad_w`` is
        overwritten). ``split_gradient``, of shape (n_rows, n_features), is a
        linear term's gradient along each split part's variables (the L1
        term's), added to both; required with the split."""
        grad_v = grad_w
        if self.mean_direction is not None:
            # W = V + (u - V m) n^T: dV = dW - (dW n) m^T, du = dW n.
            grad_b = grad_w @ self.mean_direction
        if self.has_intercept_variables:
            grad_v -= np.outer(grad_b, self.offset)
        grad_v /= self.scale
        if self.fixed is not None:
            grad_v[:, self.fixed] = 0.0
        if self.l1_split:
            parts = [
                (grad_v + split_gradient).ravel(),
                (split_gradient - grad_v).ravel(),
            ]
        else:
            parts = [grad_v.ravel()]
        if self.has_intercept_variables:
            parts.append(grad_b / self.intercept_scale)
        return np.concatenate(parts)


def plain_layout(
    n_rows: int, n_features: int, *, fit_intercept: bool, l1_split: bool
) -> Layout:
    """The layout without preconditioning: V = W and u = b, for good."""
    return Layout(
        n_rows=n_rows,
        n_features=n_features,
        fit_intercept=fit_intercept,
        l1_split=l1_split,
        offset=np.zeros(n_features),
        scale=np.ones((n_rows, n_features)),
        intercept_scale=np.ones(n_rows),
    )


def preconditioned_layout(
    statistics: FeatureStatistics,
    n_classes: int,
    n_rows: int,
    *,
    fit_intercept: bool,
    l1_split: bool,
    bounded: bool,
    penalty_curvature: np.ndarray,
) -> Layout:
    """The starting layout: scales for uniform probabilities, and the mean
    carried by a variable of its own where it couples the weights of a fit
    without intercept (the module docstring). ``bounded``: whether the
    weights have ``coef_bounds``; ``penalty_curvature`` is the penalty's
    along each feature."""
    mean, spread = statistics.mean, statistics.spread
    n_features = mean.shape[0]
    offset = mean
    mean_direction = None
    gradient_tol_factor = 1.0
    # The uniform curvature (the module docstring) and the scales it gives,
    # about the mean.
    uniform = (1 / n_classes) * (1 - 1 / n_classes)
    mean_scale = np.sqrt(uniform * spread**2 + penalty_curvature)
    mean_scale[~(mean_scale > 0)] = 1.0
    # Without an intercept, a mean far from zero in units of the spread
    # couples every weight (the module docstring): it is carried by a variable
    # of its own, unless the L1 split or bounds need the weights as they are.
    carry_mean = not (fit_intercept or l1_split or bounded)
    standardised_mean = np.sqrt(uniform) * mean / mean_scale
    coupled = np.vdot(standardised_mean, standardised_mean) > 1
    if carry_mean and coupled:
        mean_direction = mean / np.vdot(mean, mean)
    elif not fit_intercept:
        # The L1 split and bounds keep each weight a variable of its own: the
        # spread is taken about zero, where a fit without intercept is.
        offset = np.zeros(n_features)
        spread = statistics.spread_about_zero
        if coupled:
            gradient_tol_factor = _uncarried_mean_factor(statistics)
    initial_curvature = (
        np.broadcast_to(uniform * spread**2, (n_rows, n_features)),
        np.full(n_rows, uniform),
    )
    scale, intercept_scale = _scales(
        initial_curvature, penalty_curvature, initial_curvature
    )
    fixed = None
    if fit_intercept and not bounded and np.any(statistics.spread == 0):
        fixed = statistics.spread == 0
    return Layout(
        n_rows=n_rows,
        n_features=n_features,
        fit_intercept=fit_intercept,
        l1_split=l1_split,
        offset=offset,
        scale=scale,
        intercept_scale=intercept_scale,
        mean_direction=mean_direction,
        initial_curvature=initial_curvature,
        gradient_tol_factor=gradient_tol_factor,
        fixed=fixed,
    )


def _scales(
    curvature: Curvature, penalty_curvature: np.ndarray, initial: Curvature
) -> tuple[np.ndarray, np.ndarray]:
    """Scales of the variables for the given curvature of the data term
    (the module docstring), floored at a fraction of the initial one."""
    weight_curvature = np.maximum(curvature[0], _CURVATURE_FLOOR * initial[0])
    intercept_curvature = np.maximum(curvature[1], _CURVATURE_FLOOR * initial[1])
    scale = np.sqrt(weight_curvature + penalty_curvature)
    scale[~(scale > 0)] = 1.0
    intercept_scale = np.sqrt(intercept_curvature)
    intercept_scale[~(intercept_scale > 0)] = 1.0
    return scale, intercept_scale


def _uncarried_mean_factor(statistics: FeatureStatistics) -> float:
    """The factor on the gradient test's tol of a fit whose coupling mean is
    not carried: the square root of the smallest share of a feature's second
    moment about zero that its spread makes (for features that vary).

    Scaled by their spread about zero, features of spread s and mean m have
    an uncentred second moment whose smallest eigenvalue is about
    ``s^2 / (s^2 + m^2)``: the objective is that flat along some direction,
    and a gradient g there leaves ``g^2 / (2 lambda)`` to gain. A gradient
    test at ``tol * sqrt(lambda)`` bounds that as ``tol`` does on a problem
    of unit curvature. (At the default tol, features offset by 1000 without
    an intercept and with bounds stopped 3.5e-2 above the optimum, reporting
    convergence; the L1 split, 2.1e-2.)
    """
    varies = statistics.spread > 0
    share = (statistics.spread[varies] / statistics.spread_about_zero[varies]) ** 2
    return float(np.sqrt(share.min())) if share.size else 1.0
