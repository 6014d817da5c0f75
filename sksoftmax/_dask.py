"""Fits and predictions on Dask collections, with the data left on the workers.

The L-BFGS-B driver runs here, on the client. The training data is cut into
row blocks ``(X_block, y_code_block, sample_weight_block)`` that are persisted
on the workers once per fit. Each evaluation of the objective sends the
weights and intercepts to the workers (``n_classes * (n_features + 1)``
numbers), runs the fused kernel of :mod:`sksoftmax._loss` on every block where
it lives, and adds the partial losses and gradients up in a tree; only those
sums come back. The feature statistics and class frequencies of the
preconditioned objective come from distributed passes of the same kind.

Dask is optional: nothing here imports it at module level, and
:func:`is_dask_collection` looks for it only among the modules already loaded
(a Dask collection cannot exist without them).
"""

import asyncio
import concurrent.futures
import contextlib
import sys
import warnings

import numpy as np

from ._loss import loss_gradient


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame or Series)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)


def as_dask_array(obj):
    """A Dask array of a Dask array, DataFrame or Series (with known chunks)."""
    if hasattr(obj, "to_dask_array"):
        return obj.to_dask_array(lengths=True)
    return obj


def get_client():
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


def _add(*parts):
    """Sum of tuples of partial results, element by element."""
    return tuple(sum(items) for items in zip(*parts, strict=True))


@contextlib.contextmanager
def lost_data_is_an_error():
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


def tree_reduce(client, futures, combine=_add, fan_in=8, stuck=None):
    """``combine`` of the results of ``futures``, by a tree on the workers.

    ``stuck()``, if given, is asked every second while the result is pending;
    if it says True, the reduction is abandoned and None returned.
    """
    from distributed import wait

    while len(futures) > 1:
        futures = [
            client.submit(combine, *futures[i : i + fan_in], pure=False)
            for i in range(0, len(futures), fan_in)
        ]
    while stuck is not None and not futures[0].done():
        # asyncio's TimeoutError is the built-in one only from Python 3.11.
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            wait(futures[0], timeout=1.0)
        if not futures[0].done() and stuck():
            futures[0].cancel()
            return None
    return futures[0].result()


def _block_summary(block):
    """What the checks need of a raw block: its labels, whether X is finite, the
    smallest weight."""
    X, y, sample_weight = block
    low = sample_weight.min() if len(sample_weight) else np.inf
    return np.unique(y), bool(np.isfinite(X).all()), float(low)


def _merge_summaries(*summaries):
    labels, finite, low = zip(*summaries, strict=True)
    # np.min, not min: a NaN weight must win wherever it is.
    return np.unique(np.concatenate(labels)), all(finite), float(np.min(low))


def _block_class_totals(block, classes):
    _, y, sample_weight = block
    y_code = np.searchsorted(classes, y)
    return (np.bincount(y_code, weights=sample_weight, minlength=len(classes)),)


def _encode_block(block, classes, class_weight):
    X, y, sample_weight = block
    y_code = np.searchsorted(classes, y).astype(np.intp)
    return X, y_code, sample_weight * class_weight[y_code]


def _block_weight_sum(block):
    return (float(block[2].sum()),)


def _block_mean(block, weight_sum):
    X, _, sample_weight = block
    return ((sample_weight / weight_sum) @ X,)


def _block_second_moment(block, weight_sum, offset):
    X, _, sample_weight = block
    centred = np.square(X - offset, dtype=np.float64)
    return ((sample_weight / weight_sum) @ centred,)


def _block_frequencies(block, n_classes, weight_sum):
    _, y_code, sample_weight = block
    return (
        np.bincount(y_code, weights=sample_weight / weight_sum, minlength=n_classes),
    )


def _block_loss_gradient(block, coefficients, weight_sum, label_smoothing):
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


class DaskData:
    """Row blocks of the training data persisted on the workers of ``client``.

    Offers what :class:`sksoftmax._objective.InMemoryData` offers, computed by
    distributed passes; ``SoftmaxObjective.from_data`` takes it. The blocks
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

    def __init__(self, client, X, y, sample_weight):
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
        self.n_features = X.shape[1]

    def _map_in_place(self, function, strict, **kwargs):
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

    def _reduce(self, function, combine=_add, **kwargs):
        """``combine`` of ``function(block, **kwargs)`` over the blocks.

        Each task runs on a worker that holds its block. Without that
        restriction, Dask's work stealing hands tasks to idle workers together
        with their blocks: one evaluation of a benchmark fit moved 1 GB. A task
        restricted to a worker that then leaves the cluster would wait for it
        forever, so the tasks are placed anew when a holder leaves.
        """
        while True:
            parts, used = self._map_in_place(function, strict=True, **kwargs)

            def holder_left(used=used):
                return not used <= set(self.client.nthreads())

            with lost_data_is_an_error():
                result = tree_reduce(self.client, parts, combine, stuck=holder_left)
            if result is not None:
                return result

    def summary(self):
        """The sorted distinct labels, whether X is finite everywhere, and the
        smallest sample weight, in one pass."""
        return self._reduce(_block_summary, combine=_merge_summaries)

    def class_totals(self, classes):
        """The total sample weight of each of the sorted ``classes``."""
        return self._reduce(_block_class_totals, classes=classes)[0]

    def encode(self, classes, class_weight):
        """Replace the labels by their codes in ``classes`` and multiply the
        sample weights by ``class_weight`` of their class, on the workers."""
        blocks, _ = self._map_in_place(
            _encode_block, strict=False, classes=classes, class_weight=class_weight
        )
        self.release()
        self.blocks = blocks
        self.weight_sum = self._reduce(_block_weight_sum)[0]

    def statistics(self, center):
        """Weighted offset and spread of the features, as in
        :func:`sksoftmax._objective.feature_statistics`, in two passes."""
        offset = np.zeros(self.n_features)
        if center:
            offset = self._reduce(_block_mean, weight_sum=self.weight_sum)[0]
        second_moment = self._reduce(
            _block_second_moment, weight_sum=self.weight_sum, offset=offset
        )[0]
        return offset, np.sqrt(second_moment)

    def class_frequencies(self, n_classes):
        return self._reduce(
            _block_frequencies, n_classes=n_classes, weight_sum=self.weight_sum
        )[0]

    def loss_gradient(self, weights, intercept, label_smoothing):
        # The coefficients go to every worker once per evaluation. hash=False:
        # a point evaluated twice would otherwise share its key with a future
        # that is being released, and lose its data.
        coefficients = self.client.scatter(
            (weights, intercept), broadcast=True, hash=False
        )
        return self._reduce(
            _block_loss_gradient,
            coefficients=coefficients,
            weight_sum=self.weight_sum,
            label_smoothing=label_smoothing,
        )

    def release(self):
        """Drop the persisted blocks from the workers."""
        for future in self.blocks:
            future.release()


def prepare_dask(estimator, X, y, sample_weight):
    """Checked Dask training data of ``estimator.fit``, persisted on the workers.

    The counterpart of the estimator's in-memory preparation: returns a
    :class:`DaskData`, the sorted classes and the dtype of X. The data is
    computed once, into blocks persisted on the workers; the checks (finite X,
    non-negative weights, the labels) and the class totals are passes over
    those blocks. The labels, weights and class weights follow the same rules
    and errors as in memory.
    """
    import dask.array as da
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils.multiclass import check_classification_targets

    from ._classifier import check_n_classes

    client = get_client()
    columns = getattr(X, "columns", None)
    if columns is not None and all(isinstance(name, str) for name in columns):
        estimator.feature_names_in_ = np.asarray(list(columns), dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    X, y = as_dask_array(X), as_dask_array(y)
    if not (is_dask_collection(X) and is_dask_collection(y)):
        raise TypeError(
            "X and y must both be Dask collections, or neither: got "
            f"{type(X).__name__} and {type(y).__name__}."
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got a {X.ndim}-d Dask array.")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be 1-dimensional with one label per row of X: X has shape "
            f"{X.shape}, y has shape {y.shape}."
        )
    if not isinstance(X._meta, np.ndarray):
        raise TypeError(
            "Dask arrays of dense NumPy blocks only (sparse blocks are not "
            f"supported): the blocks of X are {type(X._meta).__name__}."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    estimator.n_features_in_ = X.shape[1]
    if sample_weight is None:
        sample_weight = da.ones(y.shape, chunks=y.chunks, dtype=np.float64)
    else:
        sample_weight = as_dask_array(sample_weight).astype(np.float64)
        if sample_weight.shape != y.shape:
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}, expected {y.shape}."
            )

    data = DaskData(client, X, y, sample_weight)
    try:
        labels, finite, low = data.summary()
        if not finite:
            raise ValueError("Input X contains NaN or infinity.")
        if np.isnan(low):
            raise ValueError("Input sample_weight contains NaN.")
        if low < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        check_classification_targets(labels)
        classes = LabelBinarizer().fit(labels).classes_
        check_n_classes(classes)
        class_total = data.class_totals(classes)
        class_weight = estimator._class_weight(classes, class_total)
        data.encode(classes, class_weight)
    except BaseException:
        data.release()
        raise
    return data, classes, X.dtype


def _without_name_check(function):
    """``function`` on the NumPy blocks of a DataFrame whose columns were checked
    once: scikit-learn would otherwise warn that a block has no column names."""

    def call(block):
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names"
            )
            return function(block)

    return call


def predict_dask(estimator, X, method):
    """``estimator.<method>(X)`` on a Dask array or DataFrame, lazily, one row
    block at a time; a Dask array of one row per sample."""
    function = getattr(estimator, method)
    columns = getattr(X, "columns", None)
    names = getattr(estimator, "feature_names_in_", None)
    if columns is not None and names is not None:
        if list(columns) != list(names):
            raise ValueError(
                "The feature names of X differ from those seen in fit: "
                f"{list(columns)} != {list(names)}."
            )
        function = _without_name_check(function)
    X = as_dask_array(X).rechunk({1: -1})
    n_classes = len(estimator.classes_)
    if method == "predict":
        dtype, per_row = estimator.classes_.dtype, ()
    elif method == "decision_function" and n_classes == 2:
        dtype, per_row = np.result_type(X.dtype, np.float32), ()
    else:
        dtype, per_row = np.result_type(X.dtype, np.float32), (n_classes,)
    if per_row:
        return X.map_blocks(
            function,
            dtype=dtype,
            chunks=(X.chunks[0], per_row),
            meta=np.empty((0, 0), dtype),
        )
    return X.map_blocks(function, dtype=dtype, drop_axis=1, meta=np.empty((0,), dtype))
