"""The scikit-learn estimator: validation, label encoding and unpacking only."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._array_api import (
    as_numpy,
    check_same_namespace,
    dispatch_available,
    dispatch_namespace,
    float_dtypes,
    on_device,
    predict_array_api,
    prepare_array_api,
)
from ._dask import is_dask_collection, predict_dask, prepare_dask
from ._loss import available_cores, log_softmax, predict_blocks, softmax
from ._objective import InMemoryData, SoftmaxObjective
from ._solver import minimize_lbfgs


def check_n_classes(classes):
    """Raise a ValueError unless there are at least two classes."""
    if len(classes) < 2:
        raise ValueError(
            "SoftmaxRegressionClassifier needs samples of at least 2 classes "
            f"in the data, but the data contains only 1 class: {classes[0]}."
        )


def encode_labels(y, n_samples):
    """The sorted classes of the labels y and each label's code (its column in
    the one-hot rows of ``LabelBinarizer``), checked."""
    y = column_or_1d(y, warn=True)
    check_consistent_length(np.empty(n_samples), y)
    check_classification_targets(y)
    binarizer = LabelBinarizer(sparse_output=True)
    one_hot = binarizer.fit_transform(y)
    classes = binarizer.classes_
    check_n_classes(classes)
    if len(classes) == 2:
        # LabelBinarizer returns the single column Y of classes_[1]; the
        # padded one-hot rows [1 - Y, Y] have their one at column Y.
        return classes, one_hot.toarray().ravel().astype(np.intp)
    # One stored 1 per row: its column is the code. (The sparse argmax of
    # SciPy loops over the rows in Python, 10 s per million rows.)
    one_hot = one_hot.tocsr()
    one_hot.sort_indices()
    assert np.all(np.diff(one_hot.indptr) == 1)
    return classes, one_hot.indices.astype(np.intp)


def check_weighted_classes(class_total):
    """Raise a ValueError unless the total weights of the classes (sample
    weights times class weights) are finite and positive for two classes."""
    with np.errstate(over="ignore"):
        finite_sum = np.isfinite(class_total.sum())
    if not finite_sum:
        raise ValueError(
            "sample_weight times class_weight must have a finite sum; "
            "rescale the weights (only their ratios and C * their sum matter)."
        )
    n_weighted = int(np.sum(class_total > 0))
    if n_weighted < 2:
        raise ValueError(
            "SoftmaxRegressionClassifier needs samples of at least 2 classes "
            "with positive sample_weight, but the weights leave "
            f"{n_weighted} class with positive weight."
        )


class SoftmaxRegressionClassifier(ClassifierMixin, BaseEstimator):
    """Multinomial (softmax) logistic regression fitted with L-BFGS-B.

    One weight vector and one intercept per class; the class probabilities are
    the softmax of the net inputs ``X @ coef_.T + intercept_``. The fit
    minimises the weighted mean multi-category cross-entropy plus an L2, L1 or
    elastic-net penalty on the weights (never on the intercepts)::

        (1/S) * sum_i s_i * CE_i
            + 1 / (C * S) * (r * ||coef_||_1 + (1 - r) / 2 * ||coef_||_F^2)

    where s_i are the sample weights (times the class weights), S their sum,
    r = ``l1_ratio`` and CE_i the cross-entropy of sample i (against the
    smoothed target row with ``label_smoothing``). For three or more classes
    this is exactly the model and the objective of
    ``LogisticRegression(C=C, l1_ratio=r)`` (scikit-learn >= 1.8), so a
    parameter grid moves between the two. With r > 0 the fit is
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
        The fit stops when the largest component of the projected gradient of
        the (internally rescaled) objective is at most ``tol``.
    warm_start : bool, default=False
        Start from the solution of the previous call to ``fit`` when the classes
        and features are the same.
    verbose : int, default=0
        If >= 1, print the objective and the gradient norm at every iteration.
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

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (n_classes, n_features)
        One weight vector per class, also when there are two classes (unlike
        ``LogisticRegression``, whose binary ``coef_`` has shape
        (1, n_features)). float32 for float32 X, otherwise float64.
    intercept_ : ndarray of shape (n_classes,)
        One intercept per class; zeros if ``fit_intercept=False``.
    n_iter_ : int
        Number of L-BFGS-B iterations run (at least 1).
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
    With two classes the symmetric parameterisation (one weight vector per
    class) penalises both ``w_0`` and ``w_1``, and only ``d = w_1 - w_0``
    enters the probabilities. With the L2 penalty the optimum has ``w_0 =
    -w_1``, so the model equals the binary ``LogisticRegression`` at ``2 * C``
    with ``coef = coef_[1] - coef_[0]`` and ``intercept = intercept_[1] -
    intercept_[0]``. In general the penalty on d is ``r |d| + (1 - r) / 4 d^2``
    over ``C S``: the binary ``LogisticRegression`` at ``C' = 2 C / (1 + r)``
    and ``l1_ratio' = 2 r / (1 + r)`` (the same C for the L1 penalty).

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

    def __init__(
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
    ):
        self.C = C
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.l1_ratio = l1_ratio
        self.label_smoothing = label_smoothing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Only where scikit-learn's dispatch can be enabled (SciPy >= 1.14).
        tags.array_api_support = dispatch_available()
        return tags

    def fit(self, X, y, sample_weight=None):
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
        self._check_params()
        namespace = None
        if is_dask_collection(X) or is_dask_collection(y):
            data, classes, dtype = prepare_dask(self, X, y, sample_weight)
        elif (namespace := dispatch_namespace(X)) is not None:
            data, classes, dtype = prepare_array_api(
                self, X, y, sample_weight, *namespace
            )
        else:
            data, classes, dtype = self._prepare(X, y, sample_weight)
        try:
            weights, intercept, n_iter = self._solve(data, classes)
        finally:
            if hasattr(data, "release"):  # a cluster's memory, not left to gc
                data.release()
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(intercept))):
            raise ValueError(
                "The fit produced non-finite coefficients: the values of X or of "
                "sample_weight are too extreme for float64 arithmetic; rescale them."
            )
        self.classes_ = classes
        self.coef_ = weights.astype(dtype)
        self.intercept_ = intercept.astype(dtype)
        if namespace is not None:
            self.classes_, self.coef_, self.intercept_ = on_device(
                *namespace, self.classes_, self.coef_, self.intercept_
            )
        self.n_iter_ = n_iter
        return self

    def decision_function(self, X):
        """Net inputs of the samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            ``X @ coef_.T + intercept_``. With two classes, the margin of
            ``classes_[1]`` over ``classes_[0]``, of shape (n_samples,).
        """
        return self._predict(X, "decision_function")

    def predict_proba(self, X):
        """Class probabilities of the samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The softmax of the net inputs; each row sums to one. Columns follow
            ``classes_``.
        """
        return self._predict(X, "predict_proba")

    def predict_log_proba(self, X):
        """Logarithms of the class probabilities of the samples.

        Computed as a log-softmax, so it stays finite where the probabilities
        underflow to zero.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities; columns follow ``classes_``.
        """
        return self._predict(X, "predict_log_proba")

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[argmax]`` of the net inputs.
        """
        return self._predict(X, "predict")

    def _predict(self, X, method):
        """``method`` on X: lazily on Dask input, in X's namespace under array
        API dispatch, else in row blocks by NumPy."""
        if is_dask_collection(X):
            check_is_fitted(self)
            return predict_dask(self, X, method)
        X = self._validate_X_predict(X, method)
        if (namespace := dispatch_namespace(X)) is not None:
            return predict_array_api(self, X, method, namespace[0])
        if method == "predict":
            codes = self._predict_blocks(
                X, np.empty(X.shape[0], dtype=np.intp), lambda Z: Z.argmax(axis=1)
            )
            return self.classes_[codes]
        if method == "decision_function" and len(self.classes_) == 2:
            return self._predict_blocks(
                X, np.empty(X.shape[0], X.dtype), lambda Z: Z[:, 1] - Z[:, 0]
            )
        transform = {"predict_proba": softmax, "predict_log_proba": log_softmax}
        scores = np.empty((X.shape[0], len(self.classes_)), dtype=X.dtype)
        return self._predict_blocks(X, scores, transform.get(method))

    def _solve(self, data, classes):
        """The weights, intercepts and iterations of the fit on ``data``."""
        n_classes = len(classes)
        objective = SoftmaxObjective.from_data(
            data,
            n_classes,
            C=float(self.C),
            fit_intercept=bool(self.fit_intercept),
            l1_ratio=float(self.l1_ratio),
            label_smoothing=float(self.label_smoothing),
        )
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and np.array_equal(as_numpy(self.classes_), classes)
            and tuple(self.coef_.shape) == (n_classes, data.n_features)
        ):
            theta0 = objective.theta(as_numpy(self.coef_), as_numpy(self.intercept_))
        else:
            theta0 = objective.initial_theta()
        theta, n_iter = minimize_lbfgs(
            objective.loss_gradient,
            theta0,
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
            bounds=objective.bounds(),
        )
        return (*objective.coef(theta), n_iter)

    def _prepare(self, X, y, sample_weight):
        """Validated in-memory data, the sorted classes and the dtype of X."""
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32]
        )
        classes, y_code = encode_labels(y, X.shape[0])
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        class_total = np.bincount(y_code, weights=sample_weight, minlength=len(classes))
        class_weight = self._class_weight(classes, class_total)
        sample_weight = sample_weight * class_weight[y_code]
        data = InMemoryData(X, y_code, sample_weight, n_threads=available_cores())
        return data, classes, X.dtype

    def _validate_X_predict(self, X, method):
        check_is_fitted(self)
        check_same_namespace(self, X, method)
        return validate_data(
            self, X, accept_sparse="csr", dtype=float_dtypes(X), reset=False
        )

    def _predict_blocks(self, X, out, transform=None):
        return predict_blocks(X, self.coef_, self.intercept_, out, transform)

    def _class_weight(self, classes, class_total):
        """The weight of each class, from ``class_weight`` and the classes'
        total sample weights; checked."""
        n_classes = len(classes)
        class_weight = np.ones(n_classes)
        if isinstance(self.class_weight, dict):
            # scikit-learn's rule: keys for absent classes are fine (a CV fold
            # may lack a rare class) unless some present class has no key.
            labels = classes.tolist()
            missing = [c for c in labels if c not in self.class_weight]
            unknown = [k for k in self.class_weight if k not in set(labels)]
            if missing and unknown:
                raise ValueError(
                    f"class_weight has keys that are not class labels: {unknown}, "
                    f"and no weight for the classes {missing}; the classes are "
                    f"{labels}."
                )
            for k, label in enumerate(labels):
                class_weight[k] = self.class_weight.get(label, 1.0)
        elif self.class_weight == "balanced":
            present = class_total > 0
            class_weight[present] = class_total.sum() / (
                n_classes * class_total[present]
            )
        check_weighted_classes(class_total * class_weight)
        return class_weight

    def _check_params(self):
        """Raise a ValueError naming any invalid constructor parameter."""

        def is_bool(value):
            return isinstance(value, bool | np.bool_)

        def is_real(value):
            return isinstance(value, numbers.Real) and not is_bool(value)

        def is_int(value):
            return isinstance(value, numbers.Integral) and not is_bool(value)

        problems = []
        if not (is_real(self.C) and self.C > 0):
            problems.append(f"C must be a positive float or np.inf, got {self.C!r}")
        if not is_bool(self.fit_intercept):
            problems.append(f"fit_intercept must be a bool, got {self.fit_intercept!r}")
        if not (
            self.class_weight is None
            or isinstance(self.class_weight, dict)
            or (isinstance(self.class_weight, str) and self.class_weight == "balanced")
        ):
            problems.append(
                'class_weight must be None, "balanced" or a dict, '
                f"got {self.class_weight!r}"
            )
        elif isinstance(self.class_weight, dict) and not all(
            is_real(w) and np.isfinite(w) and w >= 0 for w in self.class_weight.values()
        ):
            problems.append(
                "class_weight values must be finite non-negative numbers, "
                f"got {self.class_weight!r}"
            )
        if not (is_int(self.max_iter) and self.max_iter >= 1):
            problems.append(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        if not (is_real(self.tol) and self.tol >= 0 and np.isfinite(self.tol)):
            problems.append(f"tol must be a finite float >= 0, got {self.tol!r}")
        if not (is_real(self.l1_ratio) and 0 <= self.l1_ratio <= 1):
            problems.append(
                f"l1_ratio must be a float in [0, 1], got {self.l1_ratio!r}"
            )
        if not (is_real(self.label_smoothing) and 0 <= self.label_smoothing < 1):
            problems.append(
                "label_smoothing must be a float in [0, 1), "
                f"got {self.label_smoothing!r}"
            )
        if not is_bool(self.warm_start):
            problems.append(f"warm_start must be a bool, got {self.warm_start!r}")
        if not (is_int(self.verbose) or is_bool(self.verbose)) or self.verbose < 0:
            problems.append(f"verbose must be an int >= 0, got {self.verbose!r}")
        if problems:
            raise ValueError("Invalid parameters: " + "; ".join(problems) + ".")
