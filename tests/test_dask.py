"""Fits and predictions on Dask collections, on a LocalCluster started here."""

import contextlib
import re
import time
import warnings

import numpy as np
import pytest
from helpers import TIGHT, assert_is_binary_logistic_regression, breast_cancer
from numpy.testing import assert_allclose, assert_array_equal
from reference import model_objective, objective
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sksoftmax import SoftmaxRegressionClassifier, inference

da = pytest.importorskip("dask.array", reason="the Dask tests need the dask extra")
distributed = pytest.importorskip("distributed")

CHUNKS = (300, 700, 797)  # uneven row blocks


def at_iteration(number, action):
    """A solver callback that runs ``action()`` after iteration ``number``,
    before the evaluations of the next one."""

    def callback(step):
        if step.iteration == number:
            action()

    return callback


def local_cluster(n_workers=2):
    """Worker processes on this machine only, without a dashboard."""
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


@pytest.fixture(scope="module")
def client():
    cluster = local_cluster()
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


COEF_ATOL = 5e-5


@pytest.fixture(scope="module")
def data():
    # Well determined (n >> p, and no redundant features: the two of
    # make_classification's default, sums of others, left directions that
    # only the penalty fixes, and each TIGHT fit ran 140 iterations, 100 ms
    # each on a cluster, to a stall 1.3e-5 from Newton's optimum). A TIGHT fit
    # converges in ~22 iterations to 3e-8 of it; with an L1 term, 150 or more,
    # until the objective stops falling. Fits on the two back-ends are
    # compared to COEF_ATOL, and their objectives to 1e-10.
    X, y = make_classification(
        n_samples=1797,
        n_features=20,
        n_informative=10,
        n_redundant=0,
        n_classes=4,
        random_state=0,
    )
    return X, y


@pytest.mark.parametrize(
    "dtype, weighted, params",
    [
        # (Exhaustive: the plain fit, which the weighted ones cover, and the
        # objective's controls, which read the data term as any setting does.)
        pytest.param(np.float64, False, {}, marks=pytest.mark.exhaustive),
        (np.float64, True, {"class_weight": "balanced"}),
        (np.float32, True, {}),
        (np.float64, True, {"l1_ratio": 0.5, "label_smoothing": 0.1}),
        pytest.param(
            np.float64,
            True,
            {
                "l1_ratio": 0.3,
                "penalty_factor": np.linspace(0.0, 3.0, 20),
                "coef_bounds": (-0.2, np.inf),
            },
            marks=pytest.mark.exhaustive,
        ),
    ],
)
def test_distributed_fit_equals_in_memory_fit(client, data, dtype, weighted, params):
    X, y = data
    X = X.astype(dtype)
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.5, 2.0, len(y)) if weighted else None
    local = SoftmaxRegressionClassifier(C=0.5, **TIGHT, **params)
    local.fit(X, y, sample_weight=sample_weight)
    distributed_fit = SoftmaxRegressionClassifier(C=0.5, **TIGHT, **params).fit(
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        sample_weight=None
        if sample_weight is None
        else da.from_array(sample_weight, chunks=(CHUNKS,)),
    )
    assert_array_equal(distributed_fit.classes_, local.classes_)
    assert distributed_fit.coef_.dtype == dtype
    assert isinstance(distributed_fit.coef_, np.ndarray)
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    values = [
        model_objective(clf, X, y, weights, 0.5, params)
        for clf in (local, distributed_fit)
    ]
    assert_allclose(values[1], values[0], rtol=1e-10 if dtype == np.float64 else 1e-6)
    if dtype == np.float64:
        assert_allclose(distributed_fit.coef_, local.coef_, atol=COEF_ATOL)
        assert_allclose(distributed_fit.intercept_, local.intercept_, atol=COEF_ATOL)
    # float32 products round differently in differently sized blocks: the
    # gradients carry ~1e-7 relative noise, and fits that agree on the
    # objective to 1e-6 stopped 4e-4 (NumPy 2.4) and 9e-3 (NumPy 1.24) apart
    # in the weights; the objective is the comparison that float32 supports.


def test_predictions_on_dask_arrays_equal_numpy(client, data):
    X, y = data
    clf = SoftmaxRegressionClassifier(C=0.5, max_iter=500).fit(X, y)
    X_dask = da.from_array(X, chunks=(CHUNKS, -1))
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        lazy = getattr(clf, method)(X_dask)
        assert isinstance(lazy, da.Array)
        assert_array_equal(lazy.compute(), getattr(clf, method)(X))


def test_dask_dataframe_fit_equals_pandas_fit(client, data):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    labels = pd.Series(np.array(["a", "b", "c", "d"])[y], name="label")
    local = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(frame, labels)
    distributed_fit = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(
        dd.from_pandas(frame, npartitions=3), dd.from_pandas(labels, npartitions=3)
    )
    assert_array_equal(distributed_fit.classes_, ["a", "b", "c", "d"])
    assert_array_equal(distributed_fit.feature_names_in_, local.feature_names_in_)
    assert_allclose(distributed_fit.coef_, local.coef_, atol=COEF_ATOL)
    assert_array_equal(distributed_fit.predict(frame), local.predict(frame))
    lazy = distributed_fit.predict_proba(dd.from_pandas(frame, npartitions=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning per block
        # Blockwise probabilities of one model equal its in-memory ones; the two
        # fits agree only to COEF_ATOL, which the coefficient check covers.
        assert_allclose(
            lazy.compute(), distributed_fit.predict_proba(frame), atol=1e-12
        )


def test_fit_survives_a_worker_restarted_between_iterations(client, data):
    # The persisted blocks have lineage: the scheduler recomputes those of the
    # restarted worker, and the fit must end at the same model.
    X, y = data
    local = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(X, y)
    before = set(client.scheduler_info()["workers"])

    def restart_one_worker():
        client.restart_workers([sorted(before)[0]])  # its memory is lost

    distributed_fit = SoftmaxRegressionClassifier(C=0.5, **TIGHT)._fit(
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        callback=at_iteration(4, restart_one_worker),
    )
    assert set(client.scheduler_info()["workers"]) != before  # a new process
    assert_allclose(distributed_fit.coef_, local.coef_, atol=COEF_ATOL)


def test_fit_raises_a_clear_error_when_the_cluster_restarts():
    # client.restart() cancels every future: the blocks cannot come back, and
    # the fit must say so rather than return a model.
    cluster = local_cluster(n_workers=1)
    with distributed.Client(cluster) as client:
        X, y = make_classification(n_samples=600, n_classes=3, n_informative=4)
        with pytest.raises(RuntimeError, match="lost the training data"):
            SoftmaxRegressionClassifier(**TIGHT)._fit(
                da.from_array(X, chunks=(200, -1)),
                da.from_array(y, chunks=200),
                callback=at_iteration(2, client.restart),
            )
    cluster.close()


def test_bad_dask_input_is_rejected(client, data):
    X, y = data
    X_dask = da.from_array(X, chunks=(CHUNKS, -1))
    with pytest.raises(TypeError, match="X and y must both be Dask collections"):
        SoftmaxRegressionClassifier().fit(X_dask, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SoftmaxRegressionClassifier().fit(X_dask, da.from_array(y[:-1]))
    with pytest.raises(ValueError, match="only 1 class"):
        SoftmaxRegressionClassifier().fit(X_dask, da.zeros(len(y), chunks=CHUNKS))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        SoftmaxRegressionClassifier().fit(
            da.from_array(bad, chunks=(CHUNKS, -1)), da.from_array(y, chunks=CHUNKS)
        )
    weights = np.ones(len(y))
    weights[-1] = np.nan  # in the last block: the merge must not drop it
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        SoftmaxRegressionClassifier().fit(
            X_dask,
            da.from_array(y, chunks=CHUNKS),
            sample_weight=da.from_array(weights, chunks=CHUNKS),
        )
    with pytest.raises(ValueError, match="Complex data not supported: X"):
        SoftmaxRegressionClassifier().fit(
            X_dask.astype(complex), da.from_array(y, chunks=CHUNKS)
        )
    with pytest.raises(ValueError, match="Complex data not supported: sample_weight"):
        SoftmaxRegressionClassifier().fit(
            X_dask,
            da.from_array(y, chunks=CHUNKS),
            sample_weight=da.ones(len(y), chunks=CHUNKS, dtype=complex),
        )
    weights = -np.ones(len(y))
    with pytest.raises(ValueError, match="Negative values"):
        SoftmaxRegressionClassifier().fit(
            X_dask,
            da.from_array(y, chunks=CHUNKS),
            sample_weight=da.from_array(weights),
        )


def test_lazy_data_is_computed_once_per_fit(client, data, tmp_path):
    # The checks and statistics run on the persisted blocks: a block of X made
    # by a (costly, or not repeatable) task is made once, not once per pass.
    X, y = data
    log = tmp_path / "blocks.log"

    def make_block(block):
        with open(log, "a") as file:
            file.write(f"{len(block)}\n")
        return block.copy()

    X_lazy = da.from_array(X, chunks=(CHUNKS, -1)).map_blocks(
        make_block, meta=np.empty((0, 0))
    )
    SoftmaxRegressionClassifier(C=0.5).fit(X_lazy, da.from_array(y, chunks=CHUNKS))
    assert sorted(int(n) for n in log.read_text().split()) == sorted(CHUNKS)


def test_warm_start_and_convergence_warning_on_dask(client, data):
    X, y = data
    X_dask = da.from_array(X, chunks=(CHUNKS, -1))
    y_dask = da.from_array(y, chunks=CHUNKS)
    # tol=1e-7, which float64 reaches: a warm start from a fit that converged
    # converges at once.
    local = SoftmaxRegressionClassifier(C=0.5, tol=1e-7, max_iter=1000).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = SoftmaxRegressionClassifier(C=0.5, tol=1e-10, max_iter=3)
        clf.fit(X_dask, y_dask)
    assert clf.n_iter_ == 3
    # Warm-started from the NumPy fit's optimum, the Dask fit stays there.
    local.set_params(warm_start=True).fit(X_dask, y_dask)
    assert local.n_iter_ <= 2
    cold = SoftmaxRegressionClassifier(C=0.5, tol=1e-7, max_iter=1000)
    cold.fit(X_dask, y_dask)
    assert cold.n_iter_ > 10
    assert_allclose(local.coef_, cold.coef_, atol=COEF_ATOL)


def test_verbose_on_dask_prints_the_objective(client, data, capsys):
    X, y = data
    clf = SoftmaxRegressionClassifier(C=0.5, verbose=1).fit(
        da.from_array(X, chunks=(CHUNKS, -1)), da.from_array(y, chunks=CHUNKS)
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_
    last = float(re.search(r"objective (\S+),", lines[-1]).group(1))
    expected = objective(clf.coef_, clf.intercept_, X, y, np.ones(len(y)), 0.5)
    assert_allclose(last, expected, rtol=1e-6)


def test_sparse_dask_blocks_are_rejected(client, data):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = data
    X_sparse = da.from_array(X, chunks=(CHUNKS, -1)).map_blocks(
        scipy_sparse.csr_matrix, meta=scipy_sparse.csr_matrix((0, 0))
    )
    with pytest.raises(TypeError, match="sparse blocks are not supported"):
        SoftmaxRegressionClassifier().fit(X_sparse, da.from_array(y, chunks=CHUNKS))


def test_a_pass_survives_a_worker_lost_while_it_runs(data):
    # The tasks of a pass are pinned to the workers that hold their blocks; a
    # worker process killed while they are on it (its nanny starts a new one,
    # at a new address) must not leave them waiting for it.
    import os
    import threading

    from sksoftmax._backends._dask import DaskData

    X, y = data
    # A cluster of its own: whether and when the nanny's new worker arrives
    # does not matter here, and the module's cluster stays whole.
    cluster = local_cluster()
    client = distributed.Client(cluster)
    blocks = DaskData(
        client,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=CHUNKS),
        da.ones(len(y), chunks=CHUNKS),
    )
    distributed.wait(blocks.blocks)
    holder = next(iter(client.who_has(blocks.blocks[:1]).values()))[0]
    # The holder's one thread busy for 2 s: the pass's tasks on its blocks
    # wait there when it is killed.
    busy = client.submit(time.sleep, 2.0, workers=[holder], pure=False)
    while not client.processing(workers=[holder])[holder]:
        time.sleep(0.01)

    def kill_holder():
        # The process exits without answering: the call's error is expected.
        with contextlib.suppress(Exception):
            client.run(os._exit, 1, workers=[holder])

    kill = threading.Timer(0.5, kill_holder)
    outcome = []
    kill.start()
    runner = threading.Thread(target=lambda: outcome.append(blocks.class_totals(4)))
    runner.start()
    runner.join(timeout=120)
    kill.join()
    try:
        assert len(outcome) == 1
        assert_array_equal(outcome[0], np.bincount(y, minlength=4))
        assert holder not in client.nthreads()
    finally:
        busy.release()
        client.close()
        cluster.close()


def test_dask_fit_with_array_api_dispatch_on(client, data):
    # Dask arrays follow the Array API too, but take the Dask path: the model
    # holds NumPy arrays and predicts on Dask and NumPy input.
    pytest.importorskip("array_api_compat")
    from sklearn import config_context

    from sksoftmax._namespace import dispatch_available

    if not dispatch_available():
        pytest.skip("scikit-learn's array API dispatch needs SciPy >= 1.14")
    X, y = data
    X_dask = da.from_array(X, chunks=(CHUNKS, -1))
    with config_context(array_api_dispatch=True):
        clf = SoftmaxRegressionClassifier(C=0.5).fit(
            X_dask, da.from_array(y, chunks=CHUNKS)
        )
        assert isinstance(clf.coef_, np.ndarray)
        assert isinstance(clf.classes_, np.ndarray)
        lazy = clf.predict(X_dask)
    local = SoftmaxRegressionClassifier(C=0.5).fit(X, y)
    assert_array_equal(lazy.compute(), clf.predict(X))
    assert_allclose(clf.coef_, local.coef_, atol=1e-4)


def test_dask_data_with_in_memory_weights_equals_in_memory_fit(client, data):
    X, y = data
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    local = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(X, y, weights)
    distributed_fit = SoftmaxRegressionClassifier(C=0.5, **TIGHT).fit(
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=CHUNKS),
        sample_weight=weights,
    )
    assert_allclose(distributed_fit.coef_, local.coef_, atol=COEF_ATOL)
    with pytest.raises(ValueError, match="sample_weight.shape"):
        SoftmaxRegressionClassifier().fit(
            da.from_array(X, chunks=(CHUNKS, -1)),
            da.from_array(y, chunks=CHUNKS),
            sample_weight=weights[:-1],
        )


def test_unknown_chunk_sizes_are_named(client, data):
    X, y = data
    keep = da.from_array(y, chunks=CHUNKS) >= 0  # all rows, sizes unknown
    X_masked = da.from_array(X, chunks=(CHUNKS, -1))[keep]
    y_masked = da.from_array(y, chunks=CHUNKS)[keep]
    with pytest.raises(ValueError, match=r"unknown chunk sizes.*compute_chunk_sizes"):
        SoftmaxRegressionClassifier().fit(X_masked, y_masked)
    X_masked.compute_chunk_sizes()
    y_masked.compute_chunk_sizes()
    clf = SoftmaxRegressionClassifier(C=0.5).fit(X_masked, y_masked)
    assert_allclose(clf.coef_, SoftmaxRegressionClassifier(C=0.5).fit(X, y).coef_)


@pytest.mark.parametrize("first", ["a", None])
def test_labels_with_none_get_the_in_memory_error(client, data, first):
    X, _ = data
    y = np.array([first, None if first else "a"] * (len(X) // 2) + ["a"], dtype=object)
    with pytest.raises(ValueError, match="Unknown label type") as in_memory:
        SoftmaxRegressionClassifier().fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type") as on_dask:
        SoftmaxRegressionClassifier().fit(
            da.from_array(X, chunks=(CHUNKS, -1)), da.from_array(y, chunks=CHUNKS)
        )
    assert str(on_dask.value).split(":")[0] == str(in_memory.value).split(":")[0]


def test_convergence_warning_on_dask_points_at_the_callers_line(client, data):
    X, y = data
    with pytest.warns(ConvergenceWarning) as record:
        SoftmaxRegressionClassifier(max_iter=2, tol=1e-10).fit(
            da.from_array(X, chunks=(CHUNKS, -1)), da.from_array(y, chunks=CHUNKS)
        )
    assert [w.filename for w in record] == [__file__]


def test_many_classes_on_dask_fit_without_a_warning(client, data):
    # The blocks' distinct labels, merged, are all unique values: scikit-learn's
    # target check on them warned that over half the values are unique.
    X, _ = data
    y = np.arange(len(X)) % 60
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf = SoftmaxRegressionClassifier(max_iter=5).fit(
            da.from_array(X, chunks=(CHUNKS, -1)), da.from_array(y, chunks=CHUNKS)
        )
    assert [str(w.message) for w in record if "unique" in str(w.message)] == []
    assert_array_equal(clf.classes_, np.arange(60))


def test_distributed_curvature_matches_the_direct_formula(client, data):
    from reference import curvature as reference_curvature

    from sksoftmax._backends._dask import DaskData

    X, y = data
    rng = np.random.default_rng(2)
    sample_weight = rng.uniform(0.5, 2.0, len(y))
    blocks = DaskData(
        client,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=CHUNKS),
        da.from_array(sample_weight, chunks=CHUNKS),
    )
    blocks.encode(np.unique(y))
    weights = rng.normal(size=(4, X.shape[1])) * 0.3
    intercept = rng.normal(size=4)
    offset = X.mean(axis=0) + 1.0
    with blocks:
        by_weight, by_class = blocks.curvature(weights, intercept, offset)
    expected = reference_curvature(weights, intercept, X, sample_weight, offset)
    assert_allclose(by_weight, expected[0], rtol=1e-12)
    assert_allclose(by_class, expected[1], rtol=1e-12)


@pytest.mark.parametrize(
    "weighted", [pytest.param(False, marks=pytest.mark.exhaustive), True]
)
def test_binary_fit_on_dask_is_logistic_regression_at_the_same_C(client, weighted):
    X, y, sample_weight = breast_cancer(weighted)
    C = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below rounding
        ours = SoftmaxRegressionClassifier(C=C, **TIGHT).fit(
            da.from_array(X, chunks=(200, -1)),
            da.from_array(y, chunks=200),
            sample_weight=da.from_array(sample_weight, chunks=200),
        )
    theirs = assert_is_binary_logistic_regression(
        ours.coef_, ours.intercept_, X, y, sample_weight, C
    )
    lazy = ours.decision_function(da.from_array(X, chunks=(200, -1)))
    assert lazy.shape == (X.shape[0],)
    assert_allclose(lazy.compute(), theirs.decision_function(X), atol=1e-5)
    assert_array_equal(
        ours.predict(da.from_array(X, chunks=(200, -1))).compute(), theirs.predict(X)
    )
    # A sparse coef_ predicts the same on Dask input.
    proba = ours.predict_proba(X)
    ours.sparsify()
    lazy_proba = ours.predict_proba(da.from_array(X, chunks=(200, -1)))
    assert_allclose(lazy_proba.compute(), proba, rtol=1e-12)


@pytest.mark.parametrize("params", [{}, {"l1_ratio": 0.5}], ids=str)
def test_default_fits_on_dask_and_in_memory_agree_in_every_direction(client, params):
    # Features scaled 1e-2..1e2, weighted, 6 classes: where a Dask fit and an
    # in-memory fit once differed by 6.5e-5 along the class sums, which no
    # prediction sees. At the default tol both settle that direction exactly
    # (tests/test_class_sums.py), and the rest agrees to rounding.
    X, y = make_classification(
        n_samples=sum(CHUNKS),
        n_features=8,
        n_informative=6,
        n_redundant=0,
        n_classes=6,
        random_state=0,
    )
    X = X * np.logspace(-2, 2, 8)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    local = SoftmaxRegressionClassifier(**params).fit(X, y, sample_weight)
    distributed_fit = SoftmaxRegressionClassifier(**params).fit(
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        sample_weight=da.from_array(sample_weight, chunks=(CHUNKS,)),
    )
    assert_allclose(distributed_fit.coef_, local.coef_, rtol=0, atol=1e-9)
    assert_allclose(distributed_fit.intercept_, local.intercept_, rtol=0, atol=1e-9)
    assert_allclose(
        distributed_fit.coef_.sum(axis=0), local.coef_.sum(axis=0), rtol=0, atol=1e-9
    )


def test_path_on_dask_equals_the_in_memory_path(client, data):
    from sksoftmax import softmax_regression_path

    X, y = data
    Cs = [0.01, 1.0, 100.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol below rounding
        ours = softmax_regression_path(X, y, Cs, **TIGHT)
        lazy = softmax_regression_path(
            da.from_array(X, chunks=(CHUNKS, -1)),
            da.from_array(y, chunks=CHUNKS),
            Cs,
            **TIGHT,
        )
    assert isinstance(lazy.coefs, np.ndarray)
    assert_allclose(lazy.coefs, ours.coefs, atol=COEF_ATOL)
    assert_allclose(lazy.intercepts, ours.intercepts, atol=COEF_ATOL)


@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_inference_on_dask_equals_inference_in_memory(client, data, cov_type, C):
    X, y = data
    if np.isinf(C):
        # Without a penalty: make_classification's redundant features are
        # collinear, so leave them out.
        independent = np.abs(np.diag(np.linalg.qr(X, mode="r"))) > 1e-8
        X = X[:, independent]
    sample_weight = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    model = SoftmaxRegressionClassifier(C=C, **TIGHT).fit(X, y, sample_weight)
    in_memory = inference(model, X, y, sample_weight, cov_type=cov_type)
    on_dask = inference(
        model,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        da.from_array(sample_weight, chunks=(CHUNKS,)),
        cov_type=cov_type,
    )
    # The same sums in another order, through a penalised Hessian that the
    # collinear columns give a condition number of 1e10: the standard errors
    # differ by 4.2e-8, as those of the rows reversed in memory do (5.7e-8).
    assert_allclose(on_dask.bse, in_memory.bse, rtol=1e-6)
    scale = np.outer(in_memory.bse.ravel(), in_memory.bse.ravel())
    assert_allclose(on_dask.cov_params / scale, in_memory.cov_params / scale, atol=1e-6)
    assert_allclose(on_dask.params, in_memory.params, rtol=1e-12)
    assert on_dask.llf == pytest.approx(in_memory.llf, rel=1e-12)
    assert on_dask.nobs == in_memory.nobs


def test_firth_fit_on_dask_equals_the_in_memory_fit(client, data):
    # Firth's fit sums its information and the log-determinant's gradient on
    # the workers.
    X, y = data
    independent = np.abs(np.diag(np.linalg.qr(X, mode="r"))) > 1e-8
    X = X[:, independent]
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = dict(C=np.inf, firth=True, tol=1e-10)
    local = SoftmaxRegressionClassifier(**params).fit(X, y, sample_weight)
    distributed_fit = SoftmaxRegressionClassifier(**params).fit(
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        sample_weight=da.from_array(sample_weight, chunks=(CHUNKS,)),
    )
    assert_allclose(distributed_fit.coef_, local.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(distributed_fit.intercept_, local.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_marginal_effects_on_dask_equal_those_in_memory(client, data, weighted):
    # The effects and their exact Jacobian summed block by block on the
    # workers, and a mean row by one pass.
    X, y = data
    independent = np.abs(np.diag(np.linalg.qr(X, mode="r"))) > 1e-8
    X = X[:, independent]
    sample_weight = None
    if weighted:
        sample_weight = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight)
    in_memory = inference(model, X, y, sample_weight, cov_type="HC0")
    on_dask = inference(
        model,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        None if sample_weight is None else da.from_array(sample_weight, chunks=CHUNKS),
        cov_type="HC0",
    )
    for options in [{}, {"method": "eyex"}, {"at": "mean", "method": "dyex"}]:
        ours = on_dask.get_margeff(**options)
        reference = in_memory.get_margeff(**options)
        assert_allclose(ours.margeff, reference.margeff, rtol=1e-8, atol=1e-12)
        assert_allclose(ours.margeff_se, reference.margeff_se, rtol=1e-6, atol=1e-12)
    with pytest.raises(ValueError, match='"overall", "mean" or "zero"'):
        on_dask.get_margeff(at="median")


def test_discrete_marginal_effects_on_dask_equal_those_in_memory(client, data):
    # Which columns are 0/1 or counts is found block by block on the
    # workers, over the rows of positive weight: a 0/1 column that is all 0
    # in part of the first block, and a count column with a row of weight 0.
    X, y = data
    independent = np.abs(np.diag(np.linalg.qr(X, mode="r"))) > 1e-8
    rng = np.random.default_rng(3)
    binary = (X[:, 0] > 0.3).astype(float)
    counts = rng.poisson(2.0, len(y)).astype(float)
    X = np.column_stack([X[:, independent][:, :4], binary, counts])
    X[: CHUNKS[0] // 2, 4] = 0.0
    sample_weight = rng.integers(1, 4, len(y)).astype(float)
    X[-1, 5] = 7.0
    sample_weight[-1] = 0.0
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight)
    in_memory = inference(model, X, y, sample_weight)
    on_dask = inference(
        model,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        da.from_array(sample_weight, chunks=CHUNKS),
    )
    for options in [
        {"dummy": True},
        {"count": True},
        {"dummy": True, "count": True, "at": "mean"},
        {"dummy": True, "count": True, "at": "zero", "method": "dyex"},
    ]:
        ours = on_dask.get_margeff(**options)
        reference = in_memory.get_margeff(**options)
        assert_allclose(ours.margeff, reference.margeff, rtol=1e-8, atol=1e-12)
        assert_allclose(ours.margeff_se, reference.margeff_se, rtol=1e-6, atol=1e-12)
    # The discrete columns' effects differ from their derivatives.
    derivative = in_memory.get_margeff()
    discrete = on_dask.get_margeff(dummy=True, count=True)
    assert np.all(np.abs(discrete.margeff[4:] - derivative.margeff[4:]) > 1e-6)
    assert_allclose(discrete.margeff[:4], derivative.margeff[:4], rtol=1e-8)


def test_inference_on_dask_refuses_what_it_cannot_do(client, data):
    X, y = data
    model = SoftmaxRegressionClassifier().fit(X, y)
    X_dask, y_dask = da.from_array(X, chunks=(CHUNKS, -1)), da.from_array(y, (CHUNKS,))

    with pytest.raises(
        ValueError, match='cluster" is not available for a Dask collection'
    ):
        inference(model, X_dask, y_dask, cov_type="cluster", groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="X has 19 features"):
        inference(model, X_dask[:, 1:], y_dask)
    with pytest.raises(ValueError, match="holds"):
        inference(model, X_dask, da.where(y_dask == 3, 0, y_dask))


def test_lr_test_terms_on_dask_equal_those_in_memory(client, data):
    # The refits without each feature run on the cluster, and their
    # log-likelihoods are summed there.
    X, y = data
    independent = np.abs(np.diag(np.linalg.qr(X, mode="r"))) > 1e-8
    X = X[:, independent][:, :4]
    sample_weight = np.random.default_rng(5).integers(0, 3, len(y)).astype(float)
    model = SoftmaxRegressionClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight)
    in_memory = inference(model, X, y, sample_weight).lr_test_terms()
    on_dask = inference(
        model,
        da.from_array(X, chunks=(CHUNKS, -1)),
        da.from_array(y, chunks=(CHUNKS,)),
        da.from_array(sample_weight, chunks=CHUNKS),
    ).lr_test_terms()
    assert_allclose(on_dask["llf"], in_memory["llf"], rtol=1e-9)
    assert_allclose(on_dask["chi2"], in_memory["chi2"], rtol=1e-6)
    assert list(on_dask.index) == list(in_memory.index)
