"""Back-ends: where the training data lives, and the one contract they share.

One module per back-end: :mod:`._numpy` (NumPy arrays and SciPy sparse
matrices in this process), :mod:`._dask` (Dask collections on a
``dask.distributed`` cluster) and :mod:`._array_api` (arrays of another
library under scikit-learn's array API dispatch, on their device). Each has
the same two entry points:

- ``prepare(X, y, sample_weight, *, class_weight) -> Prepared``: checks the
  training data by the rules of :mod:`sksoftmax._validation`, encodes the
  labels, applies the class weights, and returns a :class:`Prepared` record
  whose data term (:class:`sksoftmax._objective.DataTerm`) the objective reads;
- ``predict(X, model, method) -> array``: one of the four prediction methods
  for the :class:`FittedModel`, on X that the estimator has validated unless
  the module's ``CHECKS_PREDICT_INPUT`` says that it checks X itself (Dask,
  whose lazy input is checked without computing it).

The in-memory and Dask data terms also run a function over their row
blocks and sum what it returns (``sum_blocks``), for passes that the
objective does not make (:func:`sksoftmax.inference`'s); the array API one
does not, and inference refuses its data.

Back-ends take arrays and return records: none of them sees the estimator,
which alone sets fitted attributes.
"""

from types import ModuleType

from . import _array_api, _dask, _numpy
from ._contract import FittedModel, Prepared


def backend_for(X, y=None) -> ModuleType:
    """The back-end module of the input: Dask if X or y is a Dask collection,
    the array API one if dispatch is on and X is an array of another library,
    else NumPy."""
    if _dask.is_dask_collection(X) or _dask.is_dask_collection(y):
        return _dask
    if _array_api.dispatch_namespace(X) is not None:
        return _array_api
    return _numpy


__all__ = ["FittedModel", "Prepared", "backend_for"]
