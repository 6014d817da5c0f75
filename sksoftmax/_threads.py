"""Threads of the kernels: how many, whose, and BLAS kept to one meanwhile.

The loss kernel and the block predictions share their row blocks among
Python threads (NumPy and BLAS release the GIL), with BLAS on one thread:
the products of one block are small, and OpenBLAS threads spinning between
them made a fit of the digits data 10x slower on two cores.

- **How many.** :func:`thread_budget` is the number of cores this process
  may use, capped by the thread count BLAS is allowed outside our limit. That
  cap carries the limits that joblib sets in its worker processes
  (``GridSearchCV(n_jobs=2)`` on 2 cores gives each worker one) and those of
  ``threadpoolctl``: our threads stand in for BLAS's, so they obey its limit.
- **Whose.** A pool belongs to a call or to an object with a lifetime
  (:func:`kernel_threads`): a fit's pool lives while its data does, a
  prediction's while it runs. No pool outlives them, so a process forked
  after a fit inherits no dead pool.
- **BLAS on one thread.** BLAS's thread count is process-wide, so limits
  set by overlapping calls from several threads must not restore each
  other's state or outlive their calls (:class:`_BlasLimit`).
"""

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from threadpoolctl import OpenBLASController, ThreadpoolController


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _BlasLimit:
    """BLAS limited to one thread around kernels that run threads of their own.

    The one instance below coordinates a process-wide resource, BLAS's thread
    count; it holds no thread. Its rule: the caller that finds no limit in
    place sets it and owns it; callers that overlap it run on one thread (the
    owner may leave first, and BLAS then gets its threads back); the owner
    restores the original when it leaves, whoever is still inside. So a limit
    never outlives the call that set it. (Counting callers and restoring when
    the last leaves would be tighter, but threadpoolctl >= 3.8 lets only one
    thread at a time change OpenBLAS's limit: a last caller of another thread
    could not restore it.) The owner enters and exits threadpoolctl's limiter
    as a context, which is what hands control of OpenBLAS back for a fit in
    another thread later.

    A caller that could not bring BLAS to one thread (threadpoolctl refuses a
    thread while another, such as the user's ``with threadpool_limits(...)``
    in the main thread, controls OpenBLAS) gets a budget of one thread: BLAS
    keeps its threads, and no pool of ours adds to them.

    A fork copies this state into a child where the other threads do not
    exist, so the child starts afresh (``os.register_at_fork``); if an owner
    in another thread had BLAS on one thread, the child puts it back.
    """

    def __init__(self):
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        # The owning thread and its threadpoolctl limiter.
        self._owner = self._limiter = self._controller = None

    def _after_fork_in_child(self):
        owner, limiter = self._owner, self._limiter
        self._reset()
        if owner is not None and owner is not threading.current_thread():
            # The owner's thread does not exist here, so nobody would restore
            # BLAS. (An owner that forked from inside its block restores it
            # itself when it leaves, in the child as in the parent.)
            with contextlib.suppress(Exception):
                limiter.restore_original_limits()
                # threadpoolctl >= 3.8: this thread took control of OpenBLAS
                # to restore it; give control back.
                clear = getattr(OpenBLASController, "clear_controlling_thread", None)
                if clear is not None:
                    clear()

    def _blas(self):
        # Built on first use: inspecting the loaded libraries costs milliseconds.
        if self._controller is None:
            self._controller = ThreadpoolController().select(user_api="blas")
        return self._controller

    def _current(self):
        """BLAS's largest thread count now; None without BLAS."""
        counts = [lib["num_threads"] for lib in self._blas().info()]
        return max(counts) if counts else None

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[int]:
        """BLAS on one thread inside; yields the threads a kernel may use."""
        limiter = None
        with self._lock:
            budget = 1
            if self._owner is None:
                original = self._current()
                limiter = self._blas().limit(limits=1)
                limiter.__enter__()
                self._owner, self._limiter = threading.current_thread(), limiter
                if self._current() in (None, 1):
                    budget = _budget(original)
        try:
            yield budget
        finally:
            if limiter is not None:
                with self._lock:
                    limiter.__exit__(None, None, None)
                    if self._limiter is limiter:
                        self._owner = self._limiter = None


def _budget(blas_threads):
    cores = available_cores()
    return max(1, min(cores, blas_threads) if blas_threads else cores)


_BLAS_LIMIT = _BlasLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_BLAS_LIMIT._after_fork_in_child)


def one_blas_thread():
    """Context manager that runs BLAS on one thread inside (see
    :class:`_BlasLimit`); it yields the number of threads a kernel may use:
    the cores, capped by BLAS's limit outside (which carries the limits of
    joblib's workers and of threadpoolctl)."""
    return _BLAS_LIMIT.one_thread()


def thread_budget() -> int:
    """The threads a kernel may use now (see :func:`one_blas_thread`)."""
    with one_blas_thread() as budget:
        return budget


class Threads(NamedTuple):
    """Threads lent to a kernel: how many, and their ``map``."""

    n_threads: int
    map: Callable


#: No pool: the caller runs the work itself.
SERIAL = Threads(1, map)


@contextlib.contextmanager
def kernel_threads() -> Iterator[Threads]:
    """BLAS on one thread and a pool of the budgeted threads, both for the
    block inside."""
    with one_blas_thread() as budget, thread_pool(budget) as threads:
        yield threads


@contextlib.contextmanager
def thread_pool(n_threads: int) -> Iterator[Threads]:
    """``n_threads`` threads owned by the block inside and shut down after it
    (:data:`SERIAL` for one thread)."""
    if n_threads <= 1:
        yield SERIAL
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        yield Threads(n_threads, pool.map)
