"""The penalised objective that the solver minimises, over preconditioned variables.

The objective reads its training data through a :class:`DataTerm`, whichever
back-end holds it (this process, a Dask cluster, a GPU): the penalty, the L1
split, the preconditioning and the solver exist once.

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
is not made and the L2 variables below are used as they are.

Penalty factors and bounds
--------------------------
The factor f_j >= 0 of feature j (``penalty_factor``) multiplies both terms
of its penalty; f_j = 0 leaves its weights free. The factors are used as
given (glmnet's ``penalty.factor`` is rescaled to sum to n_features; these
are not), so that a factor of 2 means twice the penalty of a feature of
factor 1 at the same C. They enter wherever the penalty does: its value and
gradient, the linear L1 term of the split, and the penalty's curvature in
the scales below.

``coef_bounds`` bound each weight W_kj to [l_kj, u_kj], never the
intercepts. L-BFGS-B takes them as bounds of the flat vector
(:meth:`SoftmaxObjective.bounds`), exactly, in whatever scales the variables
have at the time; starts outside them are clipped into them.

For three or more classes the probabilities do not change when one amount
is added to a feature's weight in every class, and the L2 penalty picks the
weights that sum to zero over the classes. Without a penalty on the feature
nothing picks them: the fit then centres them itself (``fit_objective``),
unless they are bounded (a finite bound in some class). Bounds break that
invariance: ``W >= 0`` in every class is no constraint on the probabilities
of an unpenalised model, but with a penalty it keeps each feature's smallest
weight at zero instead of the weights' mean.

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
  ``sqrt(h * var_j + l2)`` and ``sqrt(h)``.
- *Following the curvature.* Near separation the probabilities saturate and
  the true curvature along most weights falls by orders of magnitude: with the
  starting scales the gradient is then tiny far from the optimum, ``tol`` is
  met early, and L-BFGS crawls. The solver therefore re-estimates the
  curvature at the current point (:meth:`SoftmaxObjective.follow_curvature`,
  one pass over the data through :meth:`DataTerm.curvature`) between rounds
  of L-BFGS-B, and always before it accepts a stop. A re-estimated curvature
  keeps at least ``_CURVATURE_FLOOR`` of the starting one.
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
flatness it leaves (``gradient_tol_factor``, :func:`_uncarried_mean_factor`),
so that such a fit either reaches the optimum or says that it did not.

Parameter vector
----------------
The flat vector that SciPy sees (``pack`` builds it, ``unpack`` reads it)
is ``[V.ravel(), u]`` (C order; u with an intercept, or for the mean without
one), of length ``n_rows * (n_features + 1)`` or ``n_rows * n_features``;
with the L1 split it is ``[V+.ravel(), V-.ravel(), u]``, the
first two bounded below by 0.
"""

from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import scipy.optimize
from array_api_compat import array_namespace

from ._settings import FitSettings

#: Class frequency that a class of zero total weight starts from, instead of
#: log(0): its intercept heads down from a finite point.
_EMPTY_CLASS_FREQUENCY = 1e-8
#: Least share of the initial curvature that a re-estimated curvature keeps:
#: along a weight that saturated probabilities have made flat the curvature
#: tends to zero (and to exactly zero without a penalty), and a scale of zero
#: would make the variable infinite.
_CURVATURE_FLOOR = 1e-8


@runtime_checkable
class DataTerm(Protocol):
    """The training data as the objective reads it, wherever it lives.

    Each member is a weighted sum over the samples, computed where the data
    is; the weights include the class weights. Leaving the context releases
    what the data holds (threads, a cluster's memory, cached device arrays).
    :mod:`sksoftmax._backends` has one implementation per back-end.
    """

    #: Number of features.
    n_features: int
    #: Sum of the (raw, not normalised) sample weights.
    weight_sum: float

    def class_totals(self, n_classes: int) -> np.ndarray:
        """Total sample weight of each class, float64, shape (n_classes,)."""

    def weigh_classes(self, class_weight: np.ndarray) -> None:
        """Multiply each sample's weight by ``class_weight`` of its class
        (float64, shape (n_classes,)); ``weight_sum`` follows."""

    def feature_moments(self, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``sum_i s_i x_i`` and ``sum_i s_i (x_i - offset)^2`` with the
        normalised weights s (see :func:`sksoftmax._loss.feature_moments`)."""

    def loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray, label_smoothing: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The data term and its gradient (:func:`sksoftmax._loss.loss_gradient`)."""

    def curvature(
        self, weights: np.ndarray, intercept: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The diagonal of the data term's Hessian about ``offset``
        (:func:`sksoftmax._loss.curvature`)."""

    def __enter__(self) -> "DataTerm": ...

    def __exit__(self, *exc_info) -> None:
        """Release what the data holds."""


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
    return FeatureStatistics(
        mean, np.sqrt(second_moment), np.sqrt(second_moment_about_zero)
    )


class SoftmaxObjective:
    """Penalised mean cross-entropy as a function of the flat parameter vector.

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
        Optimise over rescaled variables (see the module docstring). False runs
        the plain parameterisation, V = W and c = b.
    statistics : FeatureStatistics, default=None
        The data's :func:`feature_statistics`, if already computed (a path of
        fits shares them); None computes them.
    """

    def __init__(
        self,
        data: DataTerm,
        n_classes: int,
        settings: FitSettings,
        *,
        precondition: bool = True,
        statistics: FeatureStatistics | None = None,
    ):
        self.data = data
        self.settings = settings
        C, l1_ratio = settings.C, settings.l1_ratio
        fit_intercept, penalty_factor = settings.fit_intercept, settings.penalty_factor
        coef_bounds = settings.coef_bounds
        label_smoothing = settings.label_smoothing
        with np.errstate(over="ignore"):
            penalty = 0.0 if np.isinf(C) else (1.0 / C) / data.weight_sum
        if not np.isfinite(penalty):
            raise ValueError(
                f"{settings.estimator}: the penalty 1 / (C * sum(sample_weight)) "
                f"overflows (C={C!r}, "
                f"sum(sample_weight)={data.weight_sum!r}): raise C or rescale "
                "sample_weight (only C times the weights' sum matters)."
            )
        self.l1_reg_strength = l1_ratio * penalty
        self.l2_reg_strength = (1.0 - l1_ratio) * penalty
        #: Each feature's factor f_j of the penalty (ones by default: the
        #: arithmetic, f_j times each term, is then that of no factors, to the
        #: bit).
        self.penalty_factor = (
            np.ones(data.n_features)
            if penalty_factor is None
            else np.asarray(penalty_factor, dtype=np.float64)
        )
        #: (lower, upper) bounds of the weights, in the user's units, or None.
        self.coef_bounds = coef_bounds
        # Each term's strength per feature, shape (n_features,).
        self._l1_per_feature = self.l1_reg_strength * self.penalty_factor
        self._l2_per_feature = self.l2_reg_strength * self.penalty_factor
        self._has_l1_term = bool(np.any(self._l1_per_feature > 0))
        self.label_smoothing = label_smoothing
        self.n_classes = n_classes
        #: Rows of the model's weights and intercepts: one per class, or one
        #: with two classes, whose class 0 is the reference (the module
        #: docstring, "Two classes").
        self.n_rows = model_rows(n_classes)
        self.n_features = data.n_features
        self.fit_intercept = fit_intercept
        #: Direction n (n @ mean = 1) along which the weights carry the
        #: intercept-like variable of a fit without intercept, or None (the
        #: module docstring, "Without an intercept").
        self.mean_direction = None
        #: Factor (at most 1) on ``tol`` in the solver's gradient test: below 1
        #: where a mean that couples the weights cannot be carried (the
        #: module docstring, "Without an intercept").
        self.gradient_tol_factor = 1.0
        if precondition:
            if statistics is None:
                statistics = feature_statistics(data)
            mean, spread = statistics.mean, statistics.spread
            self.offset = mean
            # The uniform curvature (the module docstring) and the scales it
            # gives, about the mean.
            uniform = (1 / n_classes) * (1 - 1 / n_classes)
            mean_scale = np.sqrt(uniform * spread**2 + self._l2_per_feature)
            mean_scale[~(mean_scale > 0)] = 1.0
            # Without an intercept, a mean far from zero in units of the spread
            # couples every weight (the module docstring): it is carried by a
            # variable of its own, unless the L1 split or bounds need the
            # weights as they are.
            carry_mean = not (
                fit_intercept or self.uses_l1_split or coef_bounds is not None
            )
            standardised_mean = np.sqrt(uniform) * mean / mean_scale
            coupled = np.vdot(standardised_mean, standardised_mean) > 1
            if carry_mean and coupled:
                self.mean_direction = mean / np.vdot(mean, mean)
            elif not fit_intercept:
                # The L1 split and bounds keep each weight a variable of its
                # own: the spread is taken about zero, where a fit without
                # intercept is.
                self.offset = np.zeros(self.n_features)
                spread = statistics.spread_about_zero
                if coupled:
                    self.gradient_tol_factor = _uncarried_mean_factor(statistics)
            self._initial_curvature = (
                np.broadcast_to(uniform * spread**2, (self.n_rows, self.n_features)),
                np.full(self.n_rows, uniform),
            )
            self._set_scales(*self._initial_curvature)
        else:
            self._initial_curvature = None
            self.offset = np.zeros(self.n_features)
            self.scale = np.ones((self.n_rows, self.n_features))
            self.intercept_scale = np.ones(self.n_rows)

    @property
    def has_intercept_variables(self) -> bool:
        """Whether the flat vector ends with one intercept-like variable per
        class (the intercepts, or the weights along the mean direction)."""
        return self.fit_intercept or self.mean_direction is not None

    def _set_scales(self, weight_curvature, intercept_curvature):
        """Scales of the variables for the given curvature of the data term
        (the module docstring), floored at a fraction of the initial one."""
        initial_weight, initial_intercept = self._initial_curvature
        weight_curvature = np.maximum(
            weight_curvature, _CURVATURE_FLOOR * initial_weight
        )
        intercept_curvature = np.maximum(
            intercept_curvature, _CURVATURE_FLOOR * initial_intercept
        )
        scale = np.sqrt(weight_curvature + self._l2_per_feature)
        scale[~(scale > 0)] = 1.0
        intercept_scale = np.sqrt(intercept_curvature)
        intercept_scale[~(intercept_scale > 0)] = 1.0
        self.scale, self.intercept_scale = scale, intercept_scale

    def follow_curvature(self, theta, gradient=None):
        """Rescale the variables to the curvature of the data term at ``theta``.

        Returns ``theta`` in the new variables and, if ``gradient`` (the
        objective's gradient at ``theta``) is given, the gradient there in the
        new variables, else None. The weights and intercepts stay where they
        are, so the objective is unchanged and the chain rule divides by the
        new scales instead of the old ones. (With the L1 split, a weight whose
        two parts are both positive keeps only their difference: that lowers
        the penalty and moves the point, and the gradient is then None.)
        Without preconditioning nothing changes.
        """
        if self._initial_curvature is None:
            return theta, gradient
        weights, intercept = self.unpack(theta)
        old_scales = self._flat_scales()
        weight_curvature, intercept_curvature = self.data.curvature(
            *self.all_classes(weights, intercept), self.offset
        )
        rows = self._model_rows
        self._set_scales(weight_curvature[rows], intercept_curvature[rows])
        moved = self.pack(weights, intercept)
        new_scales = self._flat_scales()
        if gradient is None or not np.allclose(
            moved / new_scales, theta / old_scales, rtol=1e-15, atol=0
        ):
            return moved, None
        return moved, gradient * (old_scales / new_scales)

    def _flat_scales(self):
        """The scale of each component of the flat vector."""
        parts = [self.scale.ravel()] * (1 + self.uses_l1_split)
        if self.has_intercept_variables:
            parts.append(self.intercept_scale)
        return np.concatenate(parts)

    @property
    def uses_l1_split(self) -> bool:
        """Whether the weights are split into bounded parts (an L1 term)."""
        return self._has_l1_term

    @property
    def unpenalized_features(self) -> np.ndarray:
        """Boolean mask of the features whose weights have no penalty (a
        factor of 0, or C = inf)."""
        return (self.l1_reg_strength + self.l2_reg_strength) * self.penalty_factor == 0

    @property
    def n_params(self) -> int:
        n_weights = self.n_rows * self.n_features
        return (
            1 + self.uses_l1_split
        ) * n_weights + self.n_rows * self.has_intercept_variables

    def bounds(self):
        """Bounds of the flat vector for L-BFGS-B, in the current scales (they
        move when the scales do): None without the L1 split or coef_bounds.

        A bound on W_kj is the bound times scale_kj on V_kj. With the L1
        split ``W = W+ - W-`` a box [l, u] bounds the parts by
        ``W+ in [max(l, 0), max(u, 0)]`` and ``W- in [max(-u, 0),
        max(-l, 0)]``: their difference covers exactly [l, u], and where one
        part's lower bound is above zero the other is held at zero, so that
        at the optimum one part is still zero (the module docstring).
        """
        if not self.uses_l1_split and self.coef_bounds is None:
            return None
        if self.coef_bounds is None:
            lower, upper = -np.inf, np.inf
        else:
            lower, upper = self.coef_bounds
        n_weights = self.n_rows * self.n_features
        lb = np.full(self.n_params, -np.inf)
        ub = np.full(self.n_params, np.inf)
        if self.uses_l1_split:
            limits = [
                (np.maximum(lower, 0.0), np.maximum(upper, 0.0)),
                (np.maximum(-upper, 0.0), np.maximum(-lower, 0.0)),
            ]
        else:
            limits = [(lower, upper)]
        for part, (low, high) in enumerate(limits):
            where = slice(part * n_weights, (part + 1) * n_weights)
            # A huge finite bound times a scale may overflow: no bound then.
            with np.errstate(over="ignore"):
                lb[where] = np.broadcast_to(low * self.scale, self.scale.shape).ravel()
                ub[where] = np.broadcast_to(high * self.scale, self.scale.shape).ravel()
        return scipy.optimize.Bounds(lb, ub)

    def unpack(self, theta):
        """Weights and intercepts in the user's units from the flat vector."""
        n_weights = self.n_rows * self.n_features
        weights = theta[:n_weights]
        if self.uses_l1_split:
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

    def pack(self, weights, intercept):
        """Flat vector of the given weights and intercepts (inverse of
        ``unpack``); weights outside ``coef_bounds`` are clipped to them (a
        start must lie within the bounds)."""
        weights = np.asarray(weights, dtype=np.float64)
        if self.coef_bounds is not None:
            weights = np.clip(weights, *self.coef_bounds)
        scaled = (weights * self.scale).ravel()
        if self.uses_l1_split:
            parts = [np.maximum(scaled, 0.0), np.maximum(-scaled, 0.0)]
        else:
            parts = [scaled]
        if self.has_intercept_variables:
            intercept = np.asarray(intercept, dtype=np.float64) * self.fit_intercept
            parts.append((intercept + weights @ self.offset) * self.intercept_scale)
        return np.concatenate(parts)

    def value(self, weights, intercept):
        """Objective value at weights and intercepts in the user's units."""
        return self.loss_gradient(self.pack(weights, intercept))[0]

    def loss_gradient(self, theta):
        """Objective and its gradient with respect to the flat vector."""
        weights, intercept = self.unpack(theta)
        loss, grad_w, grad_b = self.data.loss_gradient(
            *self.all_classes(weights, intercept), self.label_smoothing
        )
        grad_w, grad_b = grad_w[self._model_rows], grad_b[self._model_rows]
        if self.l2_reg_strength:
            weighted = weights * self.penalty_factor
            loss += 0.5 * self.l2_reg_strength * np.vdot(weights, weighted)
            grad_w += self.l2_reg_strength * weighted
        grad_v = grad_w
        if self.mean_direction is not None:
            # W = V + (u - V m) n^T: dV = dW - (dW n) m^T, du = dW n.
            grad_b = grad_w @ self.mean_direction
        if self.has_intercept_variables:
            grad_v -= np.outer(grad_b, self.offset)
        grad_v /= self.scale
        if self.uses_l1_split:
            # The linear penalty over both parts, l1 * sum(W+ + W-), in the
            # scaled variables; it equals l1 * ||W||_1 wherever min(W+, W-) = 0.
            n_weights = self.n_rows * self.n_features
            l1_per_v = self._l1_per_feature / self.scale
            parts_sum = theta[:n_weights] + theta[n_weights : 2 * n_weights]
            loss += float(np.vdot(parts_sum, l1_per_v))
            parts = [(grad_v + l1_per_v).ravel(), (l1_per_v - grad_v).ravel()]
        else:
            parts = [grad_v.ravel()]
        if self.has_intercept_variables:
            parts.append(grad_b / self.intercept_scale)
        return loss, np.concatenate(parts)

    def initial_theta(self):
        """Zero weights; intercepts at the log class frequencies, centred (or,
        with two classes, relative to the reference class)."""
        weights = np.zeros((self.n_rows, self.n_features))
        intercept = np.zeros(self.n_rows)
        if self.fit_intercept:
            freq = self.data.class_totals(self.n_classes) / self.data.weight_sum
            eps = self.label_smoothing
            freq = (1.0 - eps) * freq + eps / self.n_classes
            log_freq = np.log(np.maximum(freq, _EMPTY_CLASS_FREQUENCY))
            reference = log_freq[0] if self.uses_reference_class else log_freq.mean()
            intercept = (log_freq - reference)[self._model_rows]
        return self.pack(weights, intercept)

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

    def all_classes(self, weights, intercept):
        """The model's weights and intercepts as one row per class, as the
        data term takes them: with a reference class, its zero row first."""
        return with_reference_class(weights, intercept, self.n_classes)


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


def model_rows(n_classes: int) -> int:
    """Rows of a model's weights and intercepts: one per class, or one with
    two classes (the module docstring, "Two classes")."""
    return 1 if n_classes == 2 else n_classes


def with_reference_class(weights, intercept, n_classes):
    """One row per class of the weights (n_rows, n_features) and intercepts
    (n_rows,) of a model: a zero row for the reference class put first where
    there is one row fewer than classes (the binary model), else unchanged.
    Arrays of any array API namespace; a sparse ``weights`` is made dense."""
    if hasattr(weights, "toarray"):
        weights = weights.toarray()
    if weights.shape[0] == n_classes:
        return weights, intercept
    xp = array_namespace(weights, intercept)
    return (
        xp.concat([xp.zeros_like(weights[:1, :]), weights]),
        xp.concat([xp.zeros_like(intercept[:1]), intercept]),
    )
