"""The scikit-learn estimator: it checks its parameters, hands the data to a
back-end, runs the solver on the objective, and sets the fitted attributes."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _version
from ._backends import FittedModel, Prepared, backend_for
from ._backends._contract import FittedOn
from ._identification import warn_if_separated
from ._model import model_rows, with_reference_class
from ._namespace import (
    as_numpy,
    check_same_namespace,
    dispatch_available,
    float_dtypes,
)
from ._path import fit_objective
from ._settings import FitSettings, fit_settings
from ._solver import SolverStep
from ._validation import warn
from .exceptions import InconsistentVersionWarning

if TYPE_CHECKING:
    from typing_extensions import Self

#: The summary and the Returns section of each prediction method; their X is
#: the same for all four (:func:`_prediction_method`).
_PREDICTIONS = {
    "decision_function": """Net inputs of the samples.

Returns
-------
scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
    ``X @ coef_.T + intercept_``. With two classes, the margin of
    ``classes_[1]`` over ``classes_[0]``, of shape (n_samples,).""",
    "predict_proba": """Class probabilities of the samples.

Returns
-------
proba : ndarray of shape (n_samples, n_classes)
    The softmax of the net inputs; each row sums to one. Columns follow
    ``classes_``.""",
    "predict_log_proba": """Logarithms of the class probabilities of the samples.

Computed as a log-softmax, so it stays finite where the probabilities
underflow to zero.

Returns
-------
log_proba : ndarray of shape (n_samples, n_classes)
    Log-probabilities; columns follow ``classes_``.""",
    "predict": """Most probable class of each sample.

Returns
-------
y_pred : ndarray of shape (n_samples,)
    ``classes_[argmax]`` of the net inputs.""",
}

_X_PARAMETER = """Parameters
----------
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Samples: like the training data, in its namespace and on its device
    under array API dispatch; a Dask collection gives a lazy result.

"""


#: The key of the sksoftmax version in a pickled model's state.
_VERSION_KEY = "_sksoftmax_version"
#: The attribute that keeps the settings of the fit (:mod:`sksoftmax._settings`).
_SETTINGS_KEY = "_fit_settings"


def _prediction_method(method: str) -> Callable[["SoftmaxModelMixin", Any], Any]:
    """The estimator method ``method``, documented from :data:`_PREDICTIONS`."""

    # X, and the result, of any array library: NumPy, Dask (a lazy result), or
    # X's namespace under array API dispatch; hence Any.
    def predict(self: "SoftmaxModelMixin", X: Any) -> Any:
        return self._predict(X, method)

    summary, returns = _PREDICTIONS[method].split("\n\nReturns\n", 1)
    predict.__doc__ = f"{summary}\n\n{_X_PARAMETER}Returns\n{returns}\n"
    predict.__name__ = method
    predict.__qualname__ = f"SoftmaxModelMixin.{method}"
    return predict


class SoftmaxModelMixin:
    """What a fitted softmax model does, whichever estimator fitted it: the
    four prediction methods, :meth:`sparsify` and :meth:`densify`, and the
    fitted attributes' bookkeeping. The estimators set ``coef_``,
    ``intercept_``, ``classes_`` and ``n_features_in_`` through
    :meth:`_set_model`."""

    # The estimator that the mixin is mixed into (BaseEstimator) has these;
    # SoftmaxRegressionCV sets the C and l1_ratio it chose.
    get_params: Callable[..., dict[str, Any]]
    C_: float
    l1_ratio_: float

    def __sklearn_tags__(self) -> Tags:
        # (The estimator's base, BaseEstimator, has it; the mixin does not.)
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self) -> dict[str, Any]:
        # scikit-learn stamps its version on its own classes only.
        state = {
            **super().__getstate__(),  # type: ignore[misc]
            _VERSION_KEY: _version.__version__,
        }
        if _SETTINGS_KEY in state:
            # As a dict of plain values, so that a skops file names no type
            # beyond the estimators (the documented trusted list).
            state[_SETTINGS_KEY] = state[_SETTINGS_KEY].params() | {
                "estimator": state[_SETTINGS_KEY].estimator
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if isinstance(state.get(_SETTINGS_KEY), dict):
            state[_SETTINGS_KEY] = FitSettings(**state[_SETTINGS_KEY])
        saved = state.pop(_VERSION_KEY, None)
        if saved != _version.__version__:
            warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=_version.__version__,
                    saved_version=saved,
                ),
                InconsistentVersionWarning,
            )
        super().__setstate__(state)  # type: ignore[misc]

    def _set_model(
        self,
        prepared: FittedOn,
        weights: np.ndarray,
        intercept: np.ndarray,
        settings: FitSettings,
    ) -> None:
        """Set the fitted model: weights (n_rows, n_features) and intercepts
        (n_rows,) in float64 NumPy, for the data that ``prepared`` describes,
        fitted with the resolved ``settings`` (kept: what inference and the
        exports read, whatever parameters are set later)."""
        setattr(self, _SETTINGS_KEY, settings)
        self.n_features_in_ = prepared.n_features_in
        if prepared.feature_names_in is not None:
            self.feature_names_in_ = prepared.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.classes_ = prepared.to_fitted(prepared.classes)
        self.coef_ = prepared.to_fitted(weights.astype(prepared.dtype))
        self.intercept_ = prepared.to_fitted(intercept.astype(prepared.dtype))

    decision_function = _prediction_method("decision_function")
    predict_proba = _prediction_method("predict_proba")
    predict_log_proba = _prediction_method("predict_log_proba")
    predict = _prediction_method("predict")

    def sparsify(self) -> "Self":
        """Store ``coef_`` as a SciPy CSR matrix, as ``LogisticRegression``'s
        ``sparsify`` does.

        Worth it after an L1 or elastic-net fit whose weights are mostly zero
        (``LogisticRegression``'s rule of thumb: more than half of them), for
        the memory of a stored model. Predictions are unchanged, on any input
        the estimator predicts on; :meth:`densify` undoes it.

        Returns
        -------
        self : object
            The estimator, with a sparse ``coef_``.
        """
        check_is_fitted(self)
        if not sp.issparse(self.coef_):
            if not isinstance(self.coef_, np.ndarray):
                raise TypeError(
                    "sparsify needs NumPy coefficients, but coef_ is a "
                    f"{type(self.coef_).__module__}.{type(self.coef_).__name__}"
                    " (fitted under array API dispatch): convert the model with "
                    "sksoftmax.to_numpy first."
                )
            self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def densify(self) -> "Self":
        """Store ``coef_`` as a dense array again (undoes :meth:`sparsify`).

        Returns
        -------
        self : object
            The estimator, with a NumPy ``coef_``.
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def _predict(self, X: Any, method: str) -> Any:
        """``method`` on X, by the back-end of X."""
        check_is_fitted(self)
        backend = backend_for(X)
        if not backend.CAPABILITIES.checks_predict_input:
            check_same_namespace(self.coef_, X, method, type(self).__name__)
            X = validate_data(
                self, X, accept_sparse="csr", dtype=float_dtypes(X), reset=False
            )
        return backend.predict(X, self._fitted_model(), method)

    def _settings_of_fit(self) -> FitSettings:
        """The resolved settings the model was fitted with. A model pickled
        before they were kept (sksoftmax < 0.2) has its parameters read
        instead."""
        check_is_fitted(self)
        settings = getattr(self, _SETTINGS_KEY, None)
        if settings is None:
            settings = fit_settings(self.get_params(), type(self).__name__)
            if hasattr(self, "C_"):
                settings = settings.replace(C=self.C_, l1_ratio=self.l1_ratio_)
            settings = settings.resolve(
                self.n_features_in_,
                getattr(self, "feature_names_in_", None),
                model_rows(len(self.classes_)),
            )
        return settings

    def _fitted_model(self) -> FittedModel:
        # One row per class (the reference class's zero row with two classes),
        # dense: what the prediction kernels take.
        coef, intercept = with_reference_class(
            self.coef_, self.intercept_, self.classes_.shape[0]
        )
        return FittedModel(
            coef,
            intercept,
            self.classes_,
            self.n_features_in_,
            getattr(self, "feature_names_in_", None),
        )


class SoftmaxRegressionClassifier(SoftmaxModelMixin, ClassifierMixin, BaseEstimator):
    """Multinomial (softmax) logistic regression fitted with L-BFGS-B.

    One weight vector and one intercept per class; the class probabilities are
    the softmax of the net inputs ``X @ coef_.T + intercept_``. With two
    classes the model is the binary logistic one: one weight vector and one
    intercept, for ``classes_[1]`` against ``classes_[0]``. The fit
    minimises the weighted mean multi-category cross-entropy plus an L2, L1 or
    elastic-net penalty on the weights (never on the intercepts)::

        (1/S) * sum_i s_i * CE_i
            + 1 / (C * S) * (r * ||coef_||_1 + (1 - r) / 2 * ||coef_||_F^2)

    where s_i are the sample weights (times the class weights), S their sum,
    r = ``l1_ratio`` and CE_i the cross-entropy of sample i (against the
    smoothed target row with ``label_smoothing``). This is exactly the model
    and the objective of ``LogisticRegression(C=C, l1_ratio=r)``
    (scikit-learn >= 1.8), for two classes as for more, so a parameter grid
    moves between the two. With r > 0 the fit is
    still L-BFGS-B, exactly: each weight is split into a positive and a
    negative part held at or above zero by bounds, which makes the L1 term
    linear; weights whose optimum is zero end exactly at zero.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the regularisation strength, a positive float; smaller
        values mean a stronger penalty. ``np.inf`` fits without a penalty.
    fit_intercept : bool, default=True
        Whether to fit one intercept per class.
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplied into the sample weights. A dict maps
        class labels to weights (missing classes get weight 1). "balanced" uses
        ``S / (n_classes * S_k)``, where S_k is the total sample weight of
        class k.
    max_iter : int, default=100
        Maximum number of L-BFGS-B iterations.
    tol : float, default=1e-4
        The fit stops when the largest component of the projected gradient is
        at most ``tol`` in variables rescaled to the curvature at the final
        point, and the objective's decrease over the last iterations,
        extrapolated, leaves less than ``tol`` (relative) to gain. Measured
        against Newton optima, fits that converge at the default end within
        a relative objective gap of 1e-3 (3.9e-4 at most on the tests' data,
        raw or sparse, nearly separable or not), and within 1e-5 at
        ``tol=1e-6``. Values below the gradient's rounding error (about 1e-8,
        or 1e-5 for float32 X) cannot be met: such a fit runs until the
        objective stops falling and warns.
    warm_start : bool, default=False
        Start from the solution of the previous call to ``fit`` when the classes
        and features are the same.
    verbose : int, default=0
        If >= 1, print the objective, the gradient norm, the evaluations so far
        and the elapsed time at every iteration.
    l1_ratio : float, default=0.0
        The elastic-net mixing parameter r, in [0, 1], as in
        ``LogisticRegression``: 0 is the L2 penalty, 1 the L1 penalty (a sparse
        ``coef_``), values between mix the two. Ignored when ``C=np.inf``.
        Fits with ``l1_ratio > 0`` often need several times the iterations of
        an L2 fit: raise ``max_iter`` if a ``ConvergenceWarning`` says so. With
        ``l1_ratio=1`` the minimiser need not be unique: the probabilities do
        not change when one amount is added to a feature's weight in every
        class, and the L1 norm can be flat along that shift.
    label_smoothing : float, default=0.0
        eps in [0, 1). The one-hot target rows become ``(1 - eps) * onehot +
        eps / n_classes``, as in PyTorch's ``CrossEntropyLoss``: the model is
        kept from putting all probability on the observed label, which can
        calibrate the probabilities better when labels are noisy. 0 fits the
        plain cross-entropy.
    penalty_factor : array-like of shape (n_features,) or dict, default=None
        Per-feature factors f_j >= 0 of the penalty: feature j's term
        becomes ``f_j * (r * sum_k |W_kj| + (1 - r) / 2 * sum_k W_kj**2)``,
        so that 0 leaves a feature unpenalised (a treatment indicator, a
        known confounder) and 2 penalises it twice as much. A dict (or a
        pandas Series) gives the factors of the features it names, by column
        index or, for a DataFrame, by column name; the others keep 1. The
        factors are used as given: unlike glmnet's ``penalty.factor`` they
        are not rescaled to sum to n_features. None (the default) is all
        ones.
    coef_bounds : tuple (lower, upper), default=None
        Bounds on the weights ``coef_`` (never the intercepts): each a float
        or an array that broadcasts to the shape of ``coef_`` (one row for
        two classes, else one per class), with ``-np.inf``/``np.inf`` for no
        bound and lower <= upper. ``(0, np.inf)`` makes every weight
        non-negative; ``(lower, upper)`` with arrays gives sign constraints
        per feature and class. Either side may also be a dict (or a pandas
        Series) from features, by column index or, for a DataFrame, by column
        name, to a bound for that feature in every class; the features it
        does not name are unbounded on that side. They combine with every
        penalty; with three or more classes they change what the weights mean
        (see Notes). None (the default) leaves the weights free.
    firth : bool, default=False
        Firth's bias-reduced fit: the log-likelihood plus half the
        log-determinant of the Fisher information (Jeffreys' prior; Kosmidis
        and Firth 2011 for the multinomial model), alone (``C=np.inf``) or
        with an L2 penalty. Its estimates are finite where the classes are
        separated, and with two classes it is Firth's logistic regression (R's
        ``logistf``). Fitted by Newton steps on the information of the
        ``(n_classes - 1) * (n_features + fit_intercept)`` parameters (which
        must not be collinear, also with a penalty), at most 2048 of
        them, on every back-end (dense or sparse in memory, Dask, array API
        arrays); ``max_iter`` counts Newton steps. It takes no ``l1_ratio``,
        ``coef_bounds`` or ``label_smoothing``. :func:`sksoftmax.inference`
        on such a fit gives the standard errors of the information at the
        estimate, as ``logistf`` does.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One weight vector per class; with two classes one row, the weights of
        ``classes_[1]`` (as in ``LogisticRegression``). float32 for float32 X,
        otherwise float64; a SciPy sparse matrix after :meth:`sparsify`.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The intercepts, in the rows of ``coef_``; zeros if
        ``fit_intercept=False``.
    n_iter_ : ndarray of shape (1,)
        Number of L-BFGS-B iterations run (at least 1), as
        ``LogisticRegression`` reports it for one multinomial fit.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when X has string column
        names (a pandas DataFrame).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model for three or more
        classes, with other solvers and penalties.

    Notes
    -----
    With two classes class 0 is the reference class: its weights and
    intercept are zero and not stored, the probability of ``classes_[1]`` is
    the logistic function of ``X @ coef_[0] + intercept_[0]``, and the penalty
    is on that one row. This is ``LogisticRegression``'s binary model at the
    same ``C`` and ``l1_ratio``. (The previews of version 0.1 fitted one penalised
    row per class, which equals ``LogisticRegression`` at ``2 * C``.)

    With three or more classes the probabilities do not change when one
    amount is added to a feature's weight in every class; the penalty picks
    the weights that sum to zero over the classes, and the weights of an
    unpenalised feature (a ``penalty_factor`` of 0, or ``C=np.inf``) are
    centred so after the fit. ``coef_bounds`` break that symmetry: a bound
    constrains a weight relative to zero, not to the other classes, so a
    weight is then read against the other classes' weights of the same
    feature (its contrast), not on its own. ``(0, np.inf)`` on every class,
    for example, does not constrain the probabilities of an unpenalised
    model at all; a bound on one class, or with two classes on the single
    row, does.

    float32 X stays float32: the matrix products run in float32, while the
    loss, the gradient and the optimiser work in float64.

    Fitted with array API dispatch on arrays of another library (a PyTorch
    tensor, say), ``coef_``, ``intercept_`` and numeric ``classes_`` are arrays
    of that library on X's device; :func:`sksoftmax.to_numpy` converts them.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxRegressionClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegressionClassifier(C=1.0).fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> clf.predict(X[:2])
    array([0, 0])
    >>> proba = clf.predict_proba(X[:2])
    >>> proba.shape, bool(abs(proba.sum(axis=1) - 1).max() < 1e-12)
    ((2, 3), True)
    """

    # The parameters are documented, not annotated (scikit-learn's convention),
    # which disallow_incomplete_defs would refuse.
    def __init__(  # type: ignore[no-untyped-def]
        self,
        C=1.0,
        fit_intercept=True,
        class_weight=None,
        max_iter=100,
        tol=1e-4,
        warm_start=False,
        verbose=0,
        l1_ratio=0.0,
        label_smoothing=0.0,
        penalty_factor=None,
        coef_bounds=None,
        firth=False,
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.l1_ratio = l1_ratio
        self.label_smoothing = label_smoothing
        self.penalty_factor = penalty_factor
        self.coef_bounds = coef_bounds
        self.firth = firth

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # Only where scikit-learn's dispatch can be enabled (SciPy >= 1.14).
        tags.array_api_support = dispatch_available()
        return tags

    # X, y and sample_weight: of any array library the back-ends take, hence Any.
    def fit(
        self, X: Any, y: Any, sample_weight: Any = None
    ) -> "SoftmaxRegressionClassifier":
        """Fit the model to the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are used as CSR and never densified;
            float32 stays float32, other numbers become float64. Also a Dask
            array or DataFrame (fitted on the cluster of the current
            ``dask.distributed`` client), or, with array API dispatch on, an
            array of another library such as a PyTorch tensor (fitted on its
            device).
        y : array-like of shape (n_samples,)
            Class labels: any labels ``LabelBinarizer`` accepts, at least two
            distinct classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None gives every sample
            weight 1.

        Returns
        -------
        self : SoftmaxRegressionClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @classmethod
    def _from_coefficients(
        cls,
        weights: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray,
        dtype: np.dtype,
        settings: FitSettings,
    ) -> "SoftmaxRegressionClassifier":
        """A fitted classifier with the given resolved settings and model
        (weights of shape (n_rows, n_features), NumPy classes), as if ``fit``
        had ended there: for scoring a fit made elsewhere, such as a point of
        a cross-validation path."""
        model = cls(**settings.params())
        fitted_on = FittedOn(classes, np.dtype(dtype), weights.shape[1], None)
        model._set_model(fitted_on, weights, intercept, settings)
        return model

    def _fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        callback: Callable[[SolverStep], None] | None = None,
    ) -> "SoftmaxRegressionClassifier":
        """``fit``, with ``callback(step)`` after every solver iteration
        (:class:`sksoftmax._solver.SolverStep`): for benchmarks and tests."""
        settings = fit_settings(self.get_params(), type(self).__name__)
        prepared = backend_for(X, y).prepare(X, y, sample_weight, settings)
        settings = prepared.resolve(settings)
        with prepared.data:
            fit = fit_objective(
                prepared.data,
                len(prepared.classes),
                settings,
                start=self._warm_start(prepared),
                callback=callback,
            )
            warn_if_separated(
                prepared.data, prepared.classes, prepared.feature_names_in, settings
            )
        self._set_model(prepared, fit.weights, fit.intercept, settings)
        self.n_iter_ = prepared.to_fitted(np.array([fit.n_iter], dtype=np.int32))
        return self

    def _warm_start(self, prepared: Prepared) -> tuple[np.ndarray, np.ndarray] | None:
        """The fitted model as the start of the next fit, if ``warm_start``
        and it fits the data (the same classes and features), else None."""
        classes = prepared.classes
        if not (
            self.warm_start
            and hasattr(self, "coef_")
            and np.array_equal(as_numpy(self.classes_), classes)
            and tuple(self.coef_.shape)
            == (model_rows(len(classes)), prepared.n_features_in)
        ):
            return None
        coef = self.coef_
        coef = coef.toarray() if sp.issparse(coef) else as_numpy(coef)
        return coef, as_numpy(self.intercept_)
