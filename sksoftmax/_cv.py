"""SoftmaxRegressionCV: C (and l1_ratio) chosen by cross-validation along
warm-started paths (:func:`sksoftmax._path.fit_path`), one per fold and
l1_ratio, the folds in parallel through joblib."""

import inspect
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, Tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, check_is_fitted

from ._backends import Prepared, backend_for
from ._backends._contract import RowData, weigh_classes
from ._classifier import SoftmaxModelMixin, SoftmaxRegressionClassifier
from ._model import model_rows
from ._namespace import as_numpy
from ._objective import feature_statistics
from ._path import fit_objective, fit_path
from ._settings import FitSettings, check_Cs, fit_settings
from ._validation import warn


class SoftmaxRegressionCV(SoftmaxModelMixin, ClassifierMixin, BaseEstimator):
    """Softmax regression with C (and l1_ratio) chosen by cross-validation.

    ``LogisticRegressionCV``'s interface for the model of
    :class:`SoftmaxRegressionClassifier` (its fitted arrays in the layouts of
    ``use_legacy_attributes=False``, without the l1_ratio axis when there are
    no ``l1_ratios``). On each fold and each l1_ratio, the fits along the Cs
    form one warm-started path (:func:`softmax_regression_path`): the fold's
    data are copied and their feature statistics computed once, and each C
    starts where the optima at the smaller Cs predict it. The (C, l1_ratio)
    with the best mean score over the folds is then refitted on all the data:
    the final model is exactly ``SoftmaxRegressionClassifier(C=C_,
    l1_ratio=l1_ratio_)`` fitted on X.

    Parameters
    ----------
    Cs : int or array-like of shape (n_Cs,), default=10
        The Cs to try: an int n means ``np.logspace(-4, 4, n)``, as in
        ``LogisticRegressionCV``; or the positive values themselves (``np.inf``
        for no penalty).
    l1_ratios : array-like of shape (n_l1_ratios,), default=None
        Elastic-net mixing parameters to try, each in [0, 1]. None fits the L2
        penalty only (l1_ratio 0), and the fitted arrays then have no
        l1_ratio axis.
    fit_intercept : bool, default=True
        Whether to fit one intercept per class.
    class_weight : dict or "balanced", default=None
        As in :class:`SoftmaxRegressionClassifier`. "balanced" is computed on
        each fold's training part (as a classifier fitted on that part, in
        ``GridSearchCV``, computes it, unless the part lacks a class: the
        weights then count it among the classes), and on all the data for the
        refit.
    cv : int, cross-validation generator or iterable, default=None
        The folds, as in ``LogisticRegressionCV``: None means 5-fold, an int
        that many folds, both stratified (``StratifiedKFold``).
    scoring : str or callable, default="neg_log_loss"
        The score that chooses C: a scorer name (``sklearn.metrics.get_scorer``)
        or a callable ``scorer(estimator, X, y)``; higher is better. The default
        is the log-loss, since the model's output is its probabilities;
        ``LogisticRegressionCV`` defaults to the accuracy (None here too).
        :meth:`score` uses the same scorer.
    n_jobs : int, default=None
        Folds fitted in parallel by joblib (each fold runs its l1_ratios in
        turn, sharing the fold's data and statistics); None means 1 (unless
        in a ``joblib.parallel_config`` context), -1 all processors.
    refit : bool, default=True
        If True, refit on all the data at the best C and l1_ratio. If False,
        average the folds' coefficients, each fold's at the (C, l1_ratio) that
        scored best on that fold, and report the averages of those Cs and
        l1_ratios as ``C_`` and ``l1_ratio_`` (as ``LogisticRegressionCV``
        does).
    max_iter : int, default=100
        Maximum L-BFGS-B iterations of each fit.
    tol : float, default=1e-4
        The stop tolerance of each fit (see
        :class:`SoftmaxRegressionClassifier`).
    verbose : int, default=0
        If >= 1, print one line per solver iteration, and joblib's progress.
    label_smoothing : float, default=0.0
        As in :class:`SoftmaxRegressionClassifier`.
    penalty_factor : array-like of shape (n_features,) or dict, default=None
        Per-feature penalty factors, as in
        :class:`SoftmaxRegressionClassifier`, for every fit.
    coef_bounds : tuple (lower, upper), default=None
        Bounds on the weights, as in :class:`SoftmaxRegressionClassifier`,
        for every fit.

    Attributes
    ----------
    C_ : float
        The chosen C.
    l1_ratio_ : float
        The chosen l1_ratio (0.0 when ``l1_ratios`` is None).
    Cs_ : ndarray of shape (n_Cs,)
        The Cs tried, in the order given.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The l1_ratios tried (``[0.0]`` when ``l1_ratios`` is None).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs) or (n_folds, n_Cs)
        The score of each fold's test part at each l1_ratio and C; without
        ``l1_ratios``, no l1_ratio axis.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs, n_rows, n_dof)
        The coefficients fitted on each fold's training part, with the
        intercepts in the last column (n_dof is ``n_features + 1``, or
        ``n_features`` without intercept); n_rows is 1 for two classes, else
        n_classes. Without ``l1_ratios``, no l1_ratio axis.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_Cs) or (n_folds, n_Cs)
        The L-BFGS-B iterations of each fold's fit at each l1_ratio and C.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The weights of the final model (as in
        :class:`SoftmaxRegressionClassifier`).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Its intercepts.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when X has string column
        names.

    See Also
    --------
    softmax_regression_path : The warm-started fits along Cs.
    sklearn.linear_model.LogisticRegressionCV : The same search for
        ``LogisticRegression``.

    Notes
    -----
    NumPy arrays, pandas DataFrames and SciPy sparse matrices are supported.
    Dask collections and arrays of other libraries under array API dispatch
    are refused with a TypeError: the folds index the rows of X in memory.
    :func:`softmax_regression_path` and :class:`SoftmaxRegressionClassifier`
    take them.

    Every class is encoded on all of y, so a fold whose training part lacks a
    class still gives coefficients for it (its intercept heads down), and
    scorers that take ``labels`` (the log-loss, the Brier score) are given
    the classes, since a test part may lack one.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegressionCV(Cs=[0.01, 1.0, 100.0]).fit(X, y)
    >>> clf.scores_.shape
    (5, 3)
    >>> clf.coef_.shape, clf.predict_proba(X[:2]).shape
    ((3, 4), (2, 3))
    """

    # The parameters are documented, not annotated (scikit-learn's convention),
    # which disallow_incomplete_defs would refuse.
    def __init__(  # type: ignore[no-untyped-def]
        self,
        *,
        Cs=10,
        l1_ratios=None,
        fit_intercept=True,
        class_weight=None,
        cv=None,
        scoring="neg_log_loss",
        n_jobs=None,
        refit=True,
        max_iter=100,
        tol=1e-4,
        verbose=0,
        label_smoothing=0.0,
        penalty_factor=None,
        coef_bounds=None,
    ) -> None:
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.label_smoothing = label_smoothing
        self.penalty_factor = penalty_factor
        self.coef_bounds = coef_bounds

    # X, y and sample_weight: Any, as in the classifier's fit (arrays of other
    # libraries get here too, to be refused with a TypeError).
    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **params: Any
    ) -> "SoftmaxRegressionCV":
        """Fit the model at every C (and l1_ratio) on every fold, choose the
        best, and refit (or average).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (NumPy, pandas or SciPy sparse; see Notes).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, used by the fits and passed
            to the scorer. With metadata routing enabled they go to the
            scorer only if it requests them: give ``scoring`` as a scorer
            object with ``set_score_request(sample_weight=True)`` (or
            ``False``); a scorer that neither requests nor refuses them
            raises scikit-learn's ``UnsetMetadataPassedError``, as in
            ``LogisticRegressionCV``.
        **params : dict
            With metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``), metadata
            for the splitter (``groups``) and the scorer.

        Returns
        -------
        self : SoftmaxRegressionCV
            The fitted estimator.
        """
        Cs, l1_ratios, settings = self._checked_grid()
        backend = _backend_holding_rows(X, y)
        routed = self._route("fit", sample_weight, params)
        # Validated once, labels encoded on all of y, before class weights.
        prepared: Prepared = backend.prepare(
            X, y, sample_weight, settings.replace(class_weight=None)
        )
        # The back-end holds its rows (_backend_holding_rows): its data is RowData.
        data, classes = cast(RowData, prepared.data), prepared.classes
        settings = prepared.resolve(settings)
        labels = classes[data.y_code]
        split_params = routed.splitter.split if "splitter" in routed else {}
        folds = list(
            check_cv(self.cv, labels, classifier=True).split(
                data.X, labels, **split_params
            )
        )
        if not folds:
            raise ValueError(
                f"cv={self.cv!r} gave no folds (an exhausted generator?); give a "
                "splitter, an int or a list of (train, test) index pairs."
            )
        scorer = _scorer_with_labels(self._scorer(), classes)
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fold_path)(
                data,
                train,
                test,
                classes,
                Cs,
                l1_ratios,
                settings,
                scorer,
                _check_method_params(data.X, routed.scorer.score, test),
            )
            for train, test in folds
        )
        for fold, result in enumerate(results):
            for message in result.warnings:
                warn(f"{message} (fold {fold})", ConvergenceWarning)
        coefs = np.stack([r.coefs for r in results])
        intercepts = np.stack([r.intercepts for r in results])
        scores = np.stack([r.scores for r in results])
        n_iter = np.stack([r.n_iter for r in results])
        if not np.all(np.isfinite(scores)):
            # GridSearchCV's warning: a non-finite score never wins (_best).
            mean = scores.mean(axis=0)
            warn(
                f"One or more of the test scores are non-finite: {mean.ravel()} "
                "(mean over the folds, by l1_ratio and C); they are never "
                "chosen.",
                UserWarning,
            )

        if self.refit:
            best_l1, best_C = _best(scores.mean(axis=0))
            self.C_, self.l1_ratio_ = float(Cs[best_C]), float(l1_ratios[best_l1])
            settings = settings.replace(C=self.C_, l1_ratio=self.l1_ratio_)
            weigh_classes(data, settings, classes)
            # From the classifier's cold start, not from the folds' average:
            # the final model is then exactly the classifier's fit at C_
            # (the same iterates), whatever the folds were, at the cost of
            # one cold fit; from the folds' average it ended elsewhere within
            # tol, depending on the folds.
            with data:
                weights, intercept, _ = fit_objective(data, len(classes), settings)
        else:
            # Each fold's best (C, l1_ratio), and the average over the folds.
            fold_range = np.arange(len(folds))
            best_l1, best_C = _best(scores)
            weights = coefs[fold_range, best_l1, best_C].mean(axis=0)
            if settings.coef_bounds is not None:
                # The mean of weights on a bound may round past it.
                weights = np.clip(weights, *settings.coef_bounds)
            intercept = intercepts[fold_range, best_l1, best_C].mean(axis=0)
            self.C_ = float(np.mean(Cs[best_C]))
            self.l1_ratio_ = float(np.mean(l1_ratios[best_l1]))
            settings = settings.replace(C=self.C_, l1_ratio=self.l1_ratio_)

        self._set_model(prepared, weights, intercept, settings)
        self.Cs_ = Cs
        self.l1_ratios_ = l1_ratios
        paths = coefs.astype(prepared.dtype)
        if self.fit_intercept:
            paths = np.concatenate(
                [paths, intercepts[..., None].astype(prepared.dtype)], axis=-1
            )
        # Without l1_ratios, no l1_ratio axis.
        squeeze = (lambda a: a[:, 0]) if self.l1_ratios is None else (lambda a: a)
        self.coefs_paths_ = squeeze(paths)
        self.scores_ = squeeze(scores)
        self.n_iter_ = squeeze(n_iter)
        return self

    def score(
        self, X: Any, y: Any, sample_weight: Any = None, **score_params: Any
    ) -> float:
        """The ``scoring`` of the model on the given data (the mean accuracy
        only if ``scoring`` is None).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            Their true labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the scorer.
        **score_params : dict
            With metadata routing enabled, metadata for the scorer.

        Returns
        -------
        score : float
            The score; higher is better (the negated log-loss by default).
        """
        check_is_fitted(self)
        routed = self._route("score", sample_weight, score_params)
        scorer = _scorer_with_labels(self._scorer(), as_numpy(self.classes_))
        return scorer(self, X, y, **routed.scorer.score)

    def get_metadata_routing(self) -> MetadataRouter:
        """How ``fit`` and ``score`` route metadata (scikit-learn's metadata
        routing): ``groups`` to the splitter, the scorer's requests to it.

        Returns
        -------
        routing : MetadataRouter
            The routing of this estimator.
        """
        router = MetadataRouter(owner=type(self).__name__).add_self_request(self)
        if hasattr(self.cv, "split"):
            # A splitter object, which may request groups. (An int or None
            # gives a splitter that requests none, and an iterable of folds
            # takes no metadata; check_cv would use up a generator.)
            router.add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router.add(
            scorer=self._scorer(),
            method_mapping=MethodMapping()
            .add(caller="fit", callee="score")
            .add(caller="score", callee="score"),
        )

    def _route(self, method: str, sample_weight: Any, params: dict[str, Any]) -> Bunch:
        """The metadata of ``method`` for the splitter and the scorer. Without
        routing, other metadata than sample_weight is refused, and
        sample_weight goes to the scorer."""
        if get_config().get("enable_metadata_routing", False):
            return process_routing(self, method, sample_weight=sample_weight, **params)
        if params:
            raise ValueError(
                f"{type(self).__name__}.{method} got unexpected arguments "
                f"{sorted(params)}: they are passed on only with metadata routing "
                "enabled, sklearn.set_config(enable_metadata_routing=True)."
            )
        score = {} if sample_weight is None else {"sample_weight": sample_weight}
        return Bunch(splitter=Bunch(split={}), scorer=Bunch(score=score))

    def _scorer(self) -> Callable[..., float]:
        return get_scorer("accuracy" if self.scoring is None else self.scoring)

    def _checked_grid(self) -> tuple[np.ndarray, np.ndarray, FitSettings]:
        """The Cs and l1_ratios as float64 arrays, and the checked settings
        of the fits (at C=1 and the first l1_ratio, until a fit sets them)."""
        Cs = check_Cs(self.Cs)
        if self.l1_ratios is None:
            l1_ratios = [0.0]
        elif isinstance(self.l1_ratios, str) or np.ndim(self.l1_ratios) != 1:
            raise ValueError(
                "l1_ratios must be None or a non-empty 1-d list of floats in "
                f"[0, 1], got {self.l1_ratios!r}."
            )
        else:
            l1_ratios = list(self.l1_ratios)
            if not l1_ratios:
                raise ValueError("l1_ratios must not be empty; None means [0.0].")
        settings = fit_settings(self.get_params(), type(self).__name__)
        for l1_ratio in l1_ratios:
            settings.replace(l1_ratio=l1_ratio)
        if not isinstance(self.refit, bool | np.bool_):
            raise ValueError(f"refit must be a bool, got {self.refit!r}.")
        return Cs, np.array(l1_ratios, dtype=np.float64), settings

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.array_api_support = False
        return tags


def _best(scores: np.ndarray) -> tuple[Any, Any]:
    """Indices (l1_ratio, C) of the best of ``scores`` (..., n_l1_ratios,
    n_Cs), over the last two axes: on ties the smallest C, then the first
    l1_ratio (GridSearchCV's and LogisticRegressionCV's order, with C the
    outer loop); a NaN score never wins."""
    by_C = np.swapaxes(np.where(np.isnan(scores), -np.inf, scores), -1, -2)
    flat = by_C.reshape(*by_C.shape[:-2], -1)
    best_C, best_l1 = np.unravel_index(np.argmax(flat, axis=-1), by_C.shape[-2:])
    return best_l1, best_C


class _FoldPath(Bunch):
    """One fold's fits and scores: coefs (n_l1_ratios, n_Cs, n_rows,
    n_features), intercepts (n_l1_ratios, n_Cs, n_rows), n_iter and scores
    (n_l1_ratios, n_Cs), and the messages of the fits that did not converge
    (warnings raised in a joblib worker process would not reach the caller)."""


def _fold_path(
    data: RowData,
    train: np.ndarray,
    test: np.ndarray,
    classes: np.ndarray,
    Cs: np.ndarray,
    l1_ratios: np.ndarray,
    settings: FitSettings,
    scorer: Callable[..., float],
    score: dict[str, Any],
) -> _FoldPath:
    """The paths of one fold (one per l1_ratio) fitted on its training rows
    with the resolved ``settings``, each C scored on its test rows."""
    train_data = data.subset(train)
    weigh_classes(train_data, settings, classes)
    X_test, y_test = data.X[test], classes[data.y_code[test]]
    shape = (len(l1_ratios), len(Cs))
    out = _FoldPath(
        coefs=np.empty((*shape, model_rows(len(classes)), data.n_features)),
        intercepts=np.empty((*shape, model_rows(len(classes)))),
        n_iter=np.empty(shape, dtype=np.int32),
        scores=np.empty(shape),
    )
    with train_data, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        statistics = feature_statistics(train_data)
        for i, l1_ratio in enumerate(l1_ratios):
            fits = fit_path(
                train_data,
                len(classes),
                Cs,
                settings.replace(l1_ratio=float(l1_ratio)),
                statistics=statistics,
            )
            for j, fit in enumerate(fits):
                out.coefs[i, j], out.intercepts[i, j] = fit.weights, fit.intercept
                out.n_iter[i, j] = fit.n_iter
    out.warnings = [
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]
    for i, l1_ratio in enumerate(l1_ratios):
        for j, C in enumerate(Cs):
            model = SoftmaxRegressionClassifier._from_coefficients(
                out.coefs[i, j],
                out.intercepts[i, j],
                classes,
                data.X.dtype,
                settings.replace(C=float(C), l1_ratio=float(l1_ratio)),
            )
            out.scores[i, j] = scorer(model, X_test, y_test, **score)
    return out


# (scorer: Any, as the private attributes of scikit-learn's scorers are read.)
def _scorer_with_labels(scorer: Any, classes: np.ndarray) -> Callable[..., float]:
    """The scorer, given the classes as ``labels`` where its metric takes them
    (a test part may lack a class, and the log-loss would then count the
    probability columns wrong), and with two classes ``classes[1]`` as its
    ``pos_label`` where it takes one (the Brier score, F1 with string labels),
    as ``LogisticRegressionCV`` does."""
    score_func = getattr(scorer, "_score_func", None)
    kwargs = getattr(scorer, "_kwargs", None)
    if score_func is None or kwargs is None:
        return scorer
    signature = inspect.signature(score_func).parameters
    extra = {}
    if "labels" in signature and "labels" not in kwargs:
        extra["labels"] = classes
    if len(classes) == 2 and "pos_label" in signature and "pos_label" not in kwargs:
        # (scikit-learn < 1.7's brier_score_loss takes pos_label, not labels.)
        extra["pos_label"] = classes[-1]
    if not extra:
        return scorer
    return make_scorer(
        score_func,
        response_method=scorer._response_method,
        greater_is_better=scorer._sign > 0,
        **extra,
        **kwargs,
    )


def _backend_holding_rows(X: Any, y: Any) -> ModuleType:
    """The back-end of the input, whose rows the folds index in this process;
    a TypeError for input whose back-end does not hold its rows."""
    backend = backend_for(X, y)
    if backend.CAPABILITIES.holds_rows:
        return backend
    raise TypeError(
        f"SoftmaxRegressionCV takes NumPy, pandas or SciPy sparse input, got "
        f"{backend.CAPABILITIES.input_name} ({type(X).__module__}): its folds "
        "index the rows of X in memory. Convert X and y (Dask: .compute(); other "
        "arrays: sksoftmax.to_numpy or numpy.asarray), or fit "
        "softmax_regression_path or SoftmaxRegressionClassifier on them."
    )
