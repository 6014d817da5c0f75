"""Back-ends: where the training data lives, and the one contract they share.

One module per back-end: :mod:`._numpy` (NumPy arrays and SciPy sparse
matrices in this process), :mod:`._dask` (Dask collections on a
``dask.distributed`` cluster) and :mod:`._array_api` (arrays of another
library under scikit-learn's array API dispatch, on their device). Each has
the same two entry points:

- ``prepare(X, y, sample_weight, settings) -> Prepared``: checks the
  training data by the rules of :mod:`sksoftmax._validation`, encodes the
  labels, applies the class weights of the settings, and returns a
  :class:`Prepared` record whose data term
  (:class:`sksoftmax._backends._contract.DataTerm`) the objective reads;
- ``predict(X, model, method) -> array``: one of the four prediction methods
  for the :class:`FittedModel`;

and a ``CAPABILITIES`` record (:class:`Capabilities`) of what else it does:
whether its data terms sum a function over their row blocks (in memory and
Dask: inference's passes), hold their rows in this process (in memory: the
CV's folds, cluster covariances), free what they hold on leaving their
context, and check the input of ``predict`` themselves (Dask, whose lazy
input is checked without computing it). The contract is
:mod:`._contract`'s; consumers read the flags, never which back-end it is.

Back-ends take arrays and return records: none of them sees the estimator,
which alone sets fitted attributes.
"""

from types import ModuleType
from typing import Any

from .._namespace import dispatch_namespace
from . import _array_api, _dask, _numpy
from ._contract import Capabilities, FittedModel, Prepared


def backend_for(X: Any, y: Any = None) -> ModuleType:
    """The back-end module of the input: Dask if X or y is a Dask collection,
    the array API one if dispatch is on and X is an array of another library,
    else NumPy."""
    if _dask.is_dask_collection(X) or _dask.is_dask_collection(y):
        return _dask
    if dispatch_namespace(X) is not None:
        return _array_api
    return _numpy


__all__ = ["Capabilities", "FittedModel", "Prepared", "backend_for"]
