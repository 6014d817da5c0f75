"""The layout of a fitted model, stated once.

A model has one weight row and one intercept per class, ``coef_`` of shape
(n_rows, n_features) and ``intercept_`` of shape (n_rows,), except with two
classes: then it is the binary logistic model, whose class 0 is a reference
class with weights and intercept fixed at zero, and n_rows is 1 (the weights
of ``classes_[1]``), as in ``LogisticRegression``. Code that needs a row per
class (the predictions, inference, the ONNX graph) puts the reference row
back with :func:`with_reference_class`; :func:`numpy_model` gives the
float64 arrays of a fitted estimator in that layout.
"""

from typing import Any

import numpy as np
import scipy.sparse as sp
from array_api_compat import array_namespace


def model_rows(n_classes: int) -> int:
    """Rows of a model's weights and intercepts: one per class, or one with
    two classes (the module docstring, "Two classes")."""
    return 1 if n_classes == 2 else n_classes


def with_reference_class(
    weights: Any, intercept: Any, n_classes: int
) -> tuple[Any, Any]:
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


def numpy_model(estimator: Any, user: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fitted ``coef_`` (dense, in its dtype) and the weights and
    intercepts with one row per class, float64, of a fitted estimator, all
    NumPy. A TypeError for a model fitted on arrays of another library
    (array API dispatch), saying that ``user`` needs NumPy."""
    coef, intercept, classes = (
        estimator.coef_,
        estimator.intercept_,
        estimator.classes_,
    )
    if sp.issparse(coef):
        coef = coef.toarray()
    if not all(isinstance(a, np.ndarray) for a in (coef, intercept, classes)):
        raise TypeError(
            f"{type(estimator).__name__} was fitted on arrays of another library "
            f"(array API dispatch); convert it with sksoftmax.to_numpy before "
            f"{user}."
        )
    weights, intercepts = with_reference_class(
        coef.astype(np.float64), intercept.astype(np.float64), len(classes)
    )
    return coef, weights, intercepts
