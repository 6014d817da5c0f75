"""Threads in a process tree: forks, joblib workers, thread limits and
overlapping calls from several threads."""

import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
from joblib import Parallel, delayed
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from threadpoolctl import (
    OpenBLASController,
    ThreadpoolController,
    threadpool_info,
    threadpool_limits,
)

from sksoftmax import SoftmaxRegressionClassifier
from sksoftmax._threads import available_cores, one_blas_thread, thread_budget


def blas_threads():
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else None


@pytest.fixture(scope="module")
def data():
    # Three blocks of rows at least, so that fits and predictions use threads.
    X, y = make_classification(
        n_samples=40_000, n_features=20, n_informative=8, n_classes=4, random_state=0
    )
    return X, y


def _fit_coef(X, y):
    return SoftmaxRegressionClassifier().fit(X, y).coef_


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_fit_in_forked_children_after_a_fit_in_the_parent(data):
    # A pool cached by the parent's fit would be copied into the children
    # without its threads, and their fits would wait for them forever.
    X, y = data
    with threadpool_limits(limits=2, user_api="blas"):
        parent = _fit_coef(X, y)
        SoftmaxRegressionClassifier().fit(X, y).predict_proba(np.vstack([X] * 3))
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        children = pool.starmap_async(_fit_coef, [(X, y), (X, y)]).get(timeout=120)
    for coef in children:
        assert_allclose(coef, parent, rtol=1e-12)


def test_thread_budget_follows_threadpoolctl():
    if blas_threads() is None:
        pytest.skip("no BLAS library found by threadpoolctl")
    with threadpool_limits(limits=1, user_api="blas"):
        assert thread_budget() == 1
    with threadpool_limits(limits=2, user_api="blas"):
        assert thread_budget() == min(2, available_cores())


def test_joblib_workers_share_the_cores():
    # joblib's worker processes get cores // n_jobs BLAS threads; a fit in one
    # of them must not start more threads than that.
    budgets = Parallel(n_jobs=2)(delayed(thread_budget)() for _ in range(4))
    assert max(budgets) <= max(1, available_cores() // 2)


def test_grid_search_in_parallel_equals_serial(data):
    X, y = data
    X, y = X[:4000], y[:4000]
    grid = {"C": [0.01, 1.0]}
    serial = GridSearchCV(SoftmaxRegressionClassifier(), grid, cv=3).fit(X, y)
    parallel = GridSearchCV(SoftmaxRegressionClassifier(), grid, cv=3, n_jobs=2)
    parallel.fit(X, y)
    assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert_allclose(parallel.best_estimator_.coef_, serial.best_estimator_.coef_)


def in_thread(function):
    """``function()`` run in a new thread; its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join(120)
    return result[0]


def inside_limit():
    """(budget, BLAS's threads) seen inside one_blas_thread."""
    with one_blas_thread() as budget:
        return budget, blas_threads()


#: BLAS's threads when this module was imported.
BLAS_AT_START = blas_threads()


def set_blas_threads(count):
    """Put BLAS at ``count`` threads, owned by no thread (so that one test's
    leak does not skip or fail the next ones)."""
    ThreadpoolController().select(user_api="blas").limit(limits=count)
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


@pytest.fixture
def blas_on_several_threads():
    """BLAS's threads, where more than one: the tests that use this check
    that our limit brings it to one, which says nothing where it is one."""
    if BLAS_AT_START is None or BLAS_AT_START < 2 or available_cores() < 2:
        pytest.skip("needs BLAS on 2 threads or more, and 2 cores")
    if blas_threads() != BLAS_AT_START:
        set_blas_threads(BLAS_AT_START)
    yield BLAS_AT_START
    if blas_threads() != BLAS_AT_START:
        set_blas_threads(BLAS_AT_START)


def test_a_thread_limits_blas_after_the_main_thread_did(data, blas_on_several_threads):
    # threadpoolctl >= 3.8 lets one thread at a time control OpenBLAS, and
    # gives control back only when its limiter is exited as a context: a
    # limit set and restored without that keeps control in the main thread,
    # and a later fit in another thread runs serially with BLAS on all its
    # threads.
    X, y = data
    original = blas_on_several_threads
    _fit_coef(X[:5000], y[:5000])
    assert inside_limit() == (min(original, available_cores()), 1)
    assert in_thread(inside_limit) == (min(original, available_cores()), 1)
    assert in_thread(lambda: _fit_coef(X[:5000], y[:5000])).shape == (4, 20)
    assert inside_limit() == (min(original, available_cores()), 1)
    assert blas_threads() == original


def test_a_thread_runs_serially_while_the_user_holds_blas_in_another(
    blas_on_several_threads,
):
    # The user's own limit in the main thread holds BLAS at one thread; a fit
    # in another thread changes nothing, adds no threads, and (the user's
    # block ending first) must not put back the count it found when it leaves.
    inside, user_left = threading.Event(), threading.Event()
    seen = []

    def fit_like():
        with one_blas_thread() as budget:
            seen.append((budget, blas_threads()))
            inside.set()
            user_left.wait(10)

    with threadpool_limits(limits=1, user_api="blas"):
        thread = threading.Thread(target=fit_like)
        thread.start()
        inside.wait(10)
    user_left.set()
    thread.join(20)
    assert seen == [(1, 1)]
    assert blas_threads() == blas_on_several_threads
    # The same while the user's limit leaves BLAS where it was: a thread
    # refused by threadpoolctl >= 3.8 runs on one thread; one under 3.5 sets
    # the limit itself. Either way, no pool of ours on top of BLAS's threads.
    with threadpool_limits(limits=blas_on_several_threads, user_api="blas"):
        budget, blas = in_thread(inside_limit)
    assert budget == 1 or blas == 1
    assert blas_threads() == blas_on_several_threads


@pytest.mark.parametrize("owner_leaves_first", [True, False])
def test_overlapping_blas_limits_neither_leak_nor_oversubscribe(
    owner_leaves_first, blas_on_several_threads
):
    # Two threads inside at once, leaving in either order: the first to come
    # in brings BLAS to one thread and runs its threads; the other runs on
    # one thread, as the first may leave before it and give BLAS its threads
    # back. Afterwards BLAS is as it was.
    original = blas_on_several_threads
    first_in, second_in = threading.Event(), threading.Event()
    first_out, inside = threading.Event(), {}

    def first():
        with one_blas_thread() as budget:
            inside["first"] = budget, blas_threads()
            first_in.set()
            second_in.wait(10)
            if not owner_leaves_first:
                first_out.wait(10)
        first_out.set()

    def second():
        first_in.wait(10)
        with one_blas_thread() as budget:
            inside["second"] = budget, blas_threads()
            second_in.set()
            if owner_leaves_first:
                first_out.wait(10)
        first_out.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert inside["first"] == (min(original, available_cores()), 1)
    assert inside["second"] == (1, 1)
    assert blas_threads() == original
    # And the limit is free for the next caller, in any thread.
    assert in_thread(inside_limit) == (min(original, available_cores()), 1)


def test_concurrent_fits_from_threads_leave_blas_as_it_was(
    data, blas_on_several_threads
):
    X, y = data
    for _ in range(3):
        threads = [
            threading.Thread(target=_fit_coef, args=(X[:10000], y[:10000]))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert blas_threads() == blas_on_several_threads
    assert in_thread(inside_limit) == (
        min(blas_on_several_threads, available_cores()),
        1,
    )


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)
def test_a_child_forked_while_another_thread_limits_blas_gets_it_back(
    blas_on_several_threads,
):
    # The owner's thread is not copied into the child, so nobody there would
    # put BLAS back to its threads.
    entered, leave = threading.Event(), threading.Event()

    def hold():
        with one_blas_thread():
            entered.set()
            leave.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        entered.wait(10)
        assert blas_threads() == 1
        with multiprocessing.get_context("fork").Pool(1) as pool:
            in_child = pool.apply_async(in_thread, (inside_limit,)).get(timeout=60)
            blas_in_child = pool.apply_async(blas_threads).get(timeout=60)
    finally:
        leave.set()
        holder.join(60)
    assert blas_in_child == blas_on_several_threads
    assert in_child == (min(blas_on_several_threads, available_cores()), 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_children_forked_while_a_thread_sets_and_lifts_limits_get_blas_back(
    blas_on_several_threads,
):
    # Forks while another thread loops over setting and lifting the limit:
    # before the fork waited for a change to finish, children forked inside
    # threadpoolctl kept BLAS at one thread (5% of forks), and one in a few
    # full runs hung. Fork for 3 s.
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            with one_blas_thread():
                pass

    blas = ThreadpoolController().select(user_api="blas")
    looper = threading.Thread(target=loop)
    looper.start()
    counts = []
    try:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            counts.append(_blas_threads_in_a_forked_child(blas))
    finally:
        stop.set()
        looper.join(20)
    assert len(counts) > 20
    assert set(counts) == {blas_on_several_threads}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_fork_waits_while_another_thread_changes_blass_limit(
    blas_on_several_threads, monkeypatch
):
    # A limit being set (threadpoolctl's limit, made slow here) finishes
    # before a fork copies the process: OpenBLAS's pool is never copied half
    # changed. (Where BLAS is on one thread already no limit is set.)
    held, released = threading.Event(), threading.Event()
    limit = ThreadpoolController.limit

    def slow_limit(self, *args, **kwargs):
        held.set()
        time.sleep(0.3)
        try:
            return limit(self, *args, **kwargs)
        finally:
            released.set()

    monkeypatch.setattr(ThreadpoolController, "limit", slow_limit)

    def change():
        with one_blas_thread():
            pass

    changer = threading.Thread(target=change)
    changer.start()
    assert held.wait(10)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    released_before_the_fork_returned = released.is_set()
    os.waitpid(pid, 0)
    changer.join(10)
    assert released_before_the_fork_returned


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_child_forked_while_a_thread_holds_threadpoolctls_lock_can_fit(
    blas_on_several_threads,
):
    # threadpoolctl (>= 3.8) guards OpenBLAS's controlling thread with a lock
    # and has no fork handler. A child forked while another thread holds it
    # must still set and lift our limit, not wait for a thread that is gone.
    from threadpoolctl import OpenBLASController

    lock = getattr(getattr(OpenBLASController, "_SHARED_STATE", None), "lock", None)
    if lock is None:
        pytest.skip("this threadpoolctl has no such lock")
    held, done = threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                with one_blas_thread():
                    inside = blas_threads()
                os._exit(0 if inside == 1 else 1)
            finally:
                os._exit(2)
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            finished, raw = os.waitpid(pid, os.WNOHANG)
            if finished:
                status = os.waitstatus_to_exitcode(raw)
                break
            time.sleep(0.001)
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        done.set()
        holder.join(30)
    assert status == 0, "the child hung" if status is None else f"status {status}"


def _blas_threads_in_a_forked_child(blas):
    """BLAS's threads as a child forked now sees them (its exit status),
    read through ``blas``, threadpoolctl's controller of the BLAS libraries
    built in the parent: building one scans and dlopens the loaded libraries,
    which a child forked while another thread of the parent held the dynamic
    loader's lock (an import in a leftover thread of an earlier test) cannot
    do; a child hung there once in a full run."""
    pid = os.fork()
    if pid == 0:
        try:
            counts = [lib["num_threads"] for lib in blas.info()]
            os._exit(min(max(counts, default=0), 255))
        finally:
            os._exit(255)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.001)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("a forked child hung")
