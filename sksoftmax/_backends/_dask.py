"""Fits and predictions on Dask collections, with the data left on the workers.

The L-BFGS-B driver runs here, on the client. The training data is cut into
row blocks ``(X_block, y_code_block, sample_weight_block)`` that are persisted
on the workers once per fit. Each evaluation of the objective sends the
weights and intercepts to the workers (``n_classes * (n_features + 1)``
numbers), runs the fused kernel of :mod:`sksoftmax._loss` on every block where
it lives, and adds the partial losses and gradients up in a tree; only those
sums come back. The feature moments and class totals of the preconditioned
objective come from distributed passes of the same kind, running the kernels of
:mod:`sksoftmax._loss` on each block.

Dask is optional: nothing here imports it at module level, and
:func:`is_dask_collection` looks for it only among the modules already loaded
(a Dask collection cannot exist without them).
"""

import asyncio
import concurrent.futures
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from sklearn.utils.validation import _get_feature_names, check_array

from .._loss import curvature, feature_moments, loss_gradient
from .._settings import FitSettings
from .._validation import (
    check_labels_shape,
    check_not_complex,
    check_sample_weight_shape,
    check_sample_weight_values,
    check_y_given,
    classes_of,
    distinct_labels,
    sample_weight_array,
    warn_column_vector,
)
from . import _numpy
from ._contract import Capabilities, FittedModel, Prepared, weigh_classes

if TYPE_CHECKING:  # Dask is optional: imported for the annotations only.
    import dask.array as da
    from distributed import Client, Future

#: A block of the training data where it lives: (X, y, sample_weight) before
#: :meth:`DaskData.encode`, (X, y_code, sample_weight) after.
Block: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Partial results combined per task of the reduction tree: few enough that a
#: task's inputs (gradients of n_classes x n_features) stay small, enough that
#: the tree of a thousand blocks is four levels deep.
_FAN_IN = 8
#: Seconds between checks that the workers of a pending pass are still there.
_POLL_SECONDS = 1.0
#: Dask collections on the cluster of the current ``dask.distributed`` client.
CAPABILITIES = Capabilities(
    input_name="a Dask collection",
    holds_rows=False,
    sums_blocks=True,
    takes_inference=True,
    releases_on_exit=True,
    checks_predict_input=True,
)


def is_dask_collection(obj: object) -> bool:
    """Whether ``obj`` is a Dask collection (array, DataFrame or Series)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)


def as_dask_array(obj: Any, name: str) -> "da.Array":
    """A Dask array of a Dask array, DataFrame or Series, with known chunks."""
    if hasattr(obj, "to_dask_array"):
        return obj.to_dask_array(lengths=True)
    if any(np.isnan(size) for sizes in obj.chunks for size in sizes):
        raise ValueError(
            f"{name} has unknown chunk sizes (as after boolean indexing): call "
            f"{name}.compute_chunk_sizes() first, or pass a Dask DataFrame."
        )
    return obj


def get_client() -> "Client":
    """The current ``dask.distributed`` client, or a ValueError that says so."""
    try:
        from distributed import get_client
    except ImportError as error:  # pragma: no cover - dask without distributed
        raise ImportError(
            "Fitting on Dask collections needs dask.distributed: "
            'pip install "sksoftmax[dask]".'
        ) from error
    try:
        return get_client()
    except ValueError as error:
        raise ValueError(
            "Fitting on a Dask collection needs a dask.distributed Client: create "
            'one first, e.g. Client("tcp://scheduler:8786") for a cluster or '
            "Client(LocalCluster()) on this machine."
        ) from error


def _add(*parts: tuple) -> tuple:
    """Sum of tuples of partial results, element by element."""
    return tuple(sum(items) for items in zip(*parts, strict=True))


@contextlib.contextmanager
def lost_data_is_an_error() -> Iterator[None]:
    """Turn the cancellation of the fit's futures into a RuntimeError that says
    what happened: a cluster that loses data it cannot recompute
    (``client.restart()`` cancels every future) must not give a model."""
    try:
        yield
    except (asyncio.CancelledError, concurrent.futures.CancelledError) as error:
        # distributed's cancellation errors derive from one of the two, which
        # one depending on its version.
        raise RuntimeError(
            "The Dask cluster lost the training data during the fit (were its "
            "workers restarted?); no model was fitted. Fit again."
        ) from error


def tree_reduce(
    client: "Client",
    futures: list["Future"],
    combine: Callable[..., Any] = _add,
    stuck: Callable[[], bool] | None = None,
) -> Any:
    """``combine`` of the results of ``futures``, by a tree on the workers.

    ``stuck()``, if given, is asked every _POLL_SECONDS while the result is pending;
    if it says True, the reduction is abandoned and None returned.
    """
    from distributed import wait

    while len(futures) > 1:
        futures = [
            client.submit(combine, *futures[i : i + _FAN_IN], pure=False)
            for i in range(0, len(futures), _FAN_IN)
        ]
    while stuck is not None and not futures[0].done():
        # asyncio's TimeoutError is the built-in one only from Python 3.11.
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            wait(futures[0], timeout=_POLL_SECONDS)
        if not futures[0].done() and stuck():
            futures[0].cancel()
            return None
    return futures[0].result()


def _block_summary(block: Block) -> tuple[np.ndarray, bool, bool, float, float]:
    """What the checks need of a raw block: its distinct labels, whether X and
    the weights are finite, the smallest weight."""
    X, y, sample_weight = block
    empty = not len(sample_weight)
    return (
        distinct_labels(y),
        bool(np.isfinite(X).all()),
        bool(np.isfinite(sample_weight).all()),
        np.inf if empty else float(sample_weight.min()),
        -np.inf if empty else float(sample_weight.max()),
    )


def _merge_summaries(
    *summaries: tuple[np.ndarray, bool, bool, float, float],
) -> tuple[np.ndarray, bool, bool, float, float]:
    labels, finite_X, finite_weight, low, high = zip(*summaries, strict=True)
    # np.min, not min: a NaN weight must win wherever it is.
    return (
        # Each block's labels were checked as targets where they are.
        distinct_labels(np.concatenate(labels), check=False),
        all(finite_X),
        all(finite_weight),
        float(np.min(low)),
        float(np.max(high)),
    )


def _encode_block(block: Block, classes: np.ndarray) -> Block:
    X, y, sample_weight = block
    return X, np.searchsorted(classes, y).astype(np.intp), sample_weight


def _weigh_block(block: Block, class_weight: np.ndarray) -> Block:
    X, y_code, sample_weight = block
    return X, y_code, sample_weight * class_weight[y_code]


def _block_class_totals(block: Block, n_classes: int) -> tuple[np.ndarray]:
    _, y_code, sample_weight = block
    return (np.bincount(y_code, weights=sample_weight, minlength=n_classes),)


def _block_moments(
    block: Block, weight_sum: float, offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    X, _, sample_weight = block
    return feature_moments(X, sample_weight / weight_sum, offset)


def _block_loss_gradient(
    block: Block,
    coefficients: tuple[np.ndarray, np.ndarray],
    weight_sum: float,
    label_smoothing: float,
) -> tuple[float, np.ndarray, np.ndarray]:
    X, y_code, sample_weight = block
    weights, intercept = coefficients
    return loss_gradient(
        weights,
        intercept,
        X,
        y_code,
        sample_weight / weight_sum,
        label_smoothing=label_smoothing,
    )


def _block_curvature(
    block: Block,
    coefficients: tuple[np.ndarray, np.ndarray],
    weight_sum: float,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    X, _, sample_weight = block
    weights, intercept = coefficients
    return curvature(weights, intercept, X, sample_weight / weight_sum, offset)


class DaskData:
    """Row blocks of the training data persisted on the workers of ``client``.

    A :class:`sksoftmax._backends._contract.DataTerm` whose sums are distributed
    passes over the blocks; leaving its context drops the blocks. The blocks
    hold the raw labels until :meth:`encode` replaces them by class codes.

    Parameters
    ----------
    client : distributed.Client
    X : dask array of shape (n_samples, n_features)
        float32 or float64, dense; its row chunks become the blocks.
    y : dask array of shape (n_samples,)
        Class labels.
    sample_weight : dask array of shape (n_samples,)
        The weights of the samples.
    """

    #: Set by :meth:`encode`, which :func:`prepare` runs first.
    weight_sum: float

    def __init__(
        self, client: "Client", X: "da.Array", y: "da.Array", sample_weight: "da.Array"
    ) -> None:
        import dask

        self.client = client
        X = X.rechunk({1: -1})
        row_chunks = X.chunks[0]
        y = y.rechunk((row_chunks,))
        sample_weight = sample_weight.rechunk((row_chunks,))
        blocks = [
            dask.delayed(tuple)([x, y, s])
            for x, y, s in zip(
                X.to_delayed().ravel(),
                y.to_delayed().ravel(),
                sample_weight.to_delayed().ravel(),
                strict=True,
            )
        ]
        self.blocks = client.compute(blocks)
        self.n_samples, self.n_features = X.shape
        self.eps = float(np.finfo(X.dtype).eps)

    def _map_in_place(
        self, function: Callable[..., Any], strict: bool, **kwargs: Any
    ) -> tuple[list["Future"], set[str]]:
        """Futures of ``function(block, **kwargs)``, each task on a worker that
        holds its block (only there if ``strict``), and the workers used."""
        with lost_data_is_an_error():
            holders = self.client.who_has(self.blocks)
        futures = [
            self.client.submit(
                function,
                block,
                workers=list(holders.get(block.key, ())) or None,
                # (distributed refuses allow_other_workers without workers)
                allow_other_workers=not strict and bool(holders.get(block.key)),
                pure=False,
                **kwargs,
            )
            for block in self.blocks
        ]
        used = {address for places in holders.values() for address in places}
        return futures, used

    def _reduce(
        self,
        function: Callable[..., Any],
        combine: Callable[..., Any] = _add,
        **kwargs: Any,
    ) -> Any:
        """``combine`` of ``function(block, **kwargs)`` over the blocks.

        Each task runs on a worker that holds its block. Without that
        restriction, Dask's work stealing hands tasks to idle workers together
        with their blocks, a gigabyte an evaluation on a benchmark fit. A task
        restricted to a worker that then leaves the cluster would wait for it
        forever, so the tasks are placed anew when a holder leaves.
        """
        while True:
            parts, used = self._map_in_place(function, strict=True, **kwargs)

            def holder_left(used: set[str] = used) -> bool:
                return not used <= set(self.client.nthreads())

            with lost_data_is_an_error():
                result = tree_reduce(self.client, parts, combine, stuck=holder_left)
            if result is not None:
                return result

    def summary(self) -> tuple[np.ndarray, bool, bool, float, float]:
        """The sorted distinct labels, whether X and the weights are finite
        everywhere, and the smallest and largest sample weights, in one
        pass."""
        return self._reduce(_block_summary, combine=_merge_summaries)

    def _replace_blocks(self, function: Callable[..., Block], **kwargs: Any) -> None:
        """Blocks ``function(block, **kwargs)`` in place of the blocks, made
        where they are."""
        blocks, _ = self._map_in_place(function, strict=False, **kwargs)
        self.release()
        self.blocks = blocks

    def encode(self, classes: np.ndarray) -> None:
        """Replace the labels by their codes in the sorted ``classes``."""
        self._replace_blocks(_encode_block, classes=classes)
        self.weight_sum = float(self.class_totals(len(classes)).sum())

    def weigh_classes(self, class_weight: np.ndarray) -> None:
        """Multiply each sample weight by the weight of its class."""
        self._replace_blocks(_weigh_block, class_weight=class_weight)
        self.weight_sum = float(self.class_totals(len(class_weight)).sum())

    def class_totals(self, n_classes: int) -> np.ndarray:
        return self._reduce(_block_class_totals, n_classes=n_classes)[0]

    def feature_moments(self, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._reduce(_block_moments, weight_sum=self.weight_sum, offset=offset)

    def _scatter(self, weights: np.ndarray, intercept: np.ndarray) -> list["Future"]:
        # The coefficients go to every worker once per evaluation. hash=False:
        # a point evaluated twice would otherwise share its key with a future
        # that is being released, and lose its data.
        return self.client.scatter((weights, intercept), broadcast=True, hash=False)

    def loss_gradient(
        self, weights: np.ndarray, intercept: np.ndarray, label_smoothing: float
    ) -> tuple[float, np.ndarray, np.ndarray]:
        return self._reduce(
            _block_loss_gradient,
            coefficients=self._scatter(weights, intercept),
            weight_sum=self.weight_sum,
            label_smoothing=label_smoothing,
        )

    def curvature(
        self, weights: np.ndarray, intercept: np.ndarray, offset: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._reduce(
            _block_curvature,
            coefficients=self._scatter(weights, intercept),
            weight_sum=self.weight_sum,
            offset=offset,
        )

    def sum_blocks(
        self, function: Callable[..., tuple], coefficients: Any, **kwargs: Any
    ) -> tuple:
        """The sum (tuple by tuple) of ``function(block, coefficients,
        **kwargs)`` over the blocks ``(X, y_code, sample_weight)``, each on a
        worker that holds it, with the raw (not normalised) weights; the
        coefficients go to every worker once. For passes that the objective
        does not make (:func:`sksoftmax.inference`'s sums)."""
        return self._reduce(
            function, coefficients=self._scatter(*coefficients), **kwargs
        )

    def release(self) -> None:
        """Drop the persisted blocks from the workers."""
        for future in self.blocks:
            future.release()

    def __enter__(self) -> "DaskData":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _check_inputs(
    X: Any, y: Any, sample_weight: Any, estimator: str
) -> tuple["da.Array", "da.Array", "da.Array"]:
    """X, y and the weights as Dask arrays of matching row chunks, checked as
    far as their shapes and types go (the values are checked on the
    workers)."""
    import dask.array as da

    check_y_given(y, estimator)
    if not (is_dask_collection(X) and is_dask_collection(y)):
        raise TypeError(
            "X and y must both be Dask collections, or neither: got "
            f"{type(X).__name__} and {type(y).__name__}."
        )
    X, y = as_dask_array(X, "X"), as_dask_array(y, "y")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got a {X.ndim}-d Dask array.")
    if warn_column_vector(y.shape):
        y = y.ravel()
    check_labels_shape(y.shape, X.shape[0])
    if not isinstance(X._meta, np.ndarray):
        raise TypeError(
            "Dask arrays of dense NumPy blocks only (sparse blocks are not "
            f"supported): the blocks of X are {type(X._meta).__name__}."
        )
    check_not_complex(X.dtype.kind == "c", "X")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if sample_weight is None:
        sample_weight = da.ones(y.shape, chunks=y.chunks, dtype=np.float64)
    elif is_dask_collection(sample_weight):
        sample_weight = as_dask_array(sample_weight, "sample_weight")
        check_sample_weight_shape(sample_weight.shape, X.shape[0])
        check_not_complex(sample_weight.dtype.kind == "c", "sample_weight")
        sample_weight = sample_weight.astype(np.float64)
    else:  # weights in memory (or a scalar) with Dask data: checked here
        sample_weight = da.from_array(
            sample_weight_array(sample_weight, X.shape[0]), chunks=y.chunks
        )
    return X, y, sample_weight


def prepare(X: Any, y: Any, sample_weight: Any, settings: FitSettings) -> Prepared:
    """Checked Dask training data, persisted on the workers of the current
    ``dask.distributed`` client (see :mod:`sksoftmax._backends`).

    The data is computed once, into blocks persisted on the workers; the
    checks (finite X, the weights, the labels) and the class totals are
    passes over those blocks, by the rules of :mod:`sksoftmax._validation`.
    """
    client = get_client()
    # scikit-learn's rule for the names, on the empty pandas frame that
    # describes a Dask DataFrame's partitions.
    names = _get_feature_names(getattr(X, "_meta", None))
    X, y, sample_weight = _check_inputs(X, y, sample_weight, settings.estimator)
    data = DaskData(client, X, y, sample_weight)
    try:
        labels, finite_X, finite_weight, low, high = data.summary()
        if not finite_X:
            raise ValueError("Input X contains NaN or infinity.")
        check_sample_weight_values(low, high, finite_weight)
        classes = classes_of(labels, settings.estimator)
        data.encode(classes)
        weigh_classes(data, settings, classes)
    except BaseException:
        data.release()
        raise
    return Prepared(classes, X.dtype, X.shape[1], names, data=data)


def predict(X: Any, model: FittedModel, method: str) -> "da.Array":
    """``method`` on a Dask array or DataFrame, lazily, one row block at a time
    by the NumPy back-end; a Dask array of one row (or one value) per sample."""
    columns = getattr(X, "columns", None)
    if columns is not None and model.feature_names_in is not None:
        if list(columns) != list(model.feature_names_in):
            raise ValueError(
                "The feature names of X differ from those seen in fit: "
                f"{list(columns)} != {list(model.feature_names_in)}."
            )
    X = as_dask_array(X, "X").rechunk({1: -1})
    if X.ndim != 2 or X.shape[1] != model.n_features_in:
        raise ValueError(
            f"X has shape {X.shape}, but the model expects {model.n_features_in} "
            "features as input."
        )
    n_classes = len(model.classes)

    def predict_block(block: np.ndarray) -> np.ndarray:
        block = check_array(block, dtype=[np.float64, np.float32])
        return _numpy.predict(block, model, method)

    per_row: tuple[int, ...]
    if method == "predict":
        dtype, per_row = model.classes.dtype, ()
    elif method == "decision_function" and n_classes == 2:
        dtype, per_row = np.result_type(X.dtype, np.float32), ()
    else:
        dtype, per_row = np.result_type(X.dtype, np.float32), (n_classes,)
    if per_row:
        return X.map_blocks(
            predict_block,
            dtype=dtype,
            chunks=(X.chunks[0], per_row),
            meta=np.empty((0, 0), dtype),
        )
    return X.map_blocks(
        predict_block, dtype=dtype, drop_axis=1, meta=np.empty((0,), dtype)
    )
