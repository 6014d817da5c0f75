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

from threadpoolctl import ThreadpoolController


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
    place sets it and owns it, callers that overlap share it, and the owner
    restores the original when it leaves, whoever is still inside. So a limit
    never outlives the call that set it. (Counting callers and restoring when
    the last leaves would be tighter, but threadpoolctl >= 3.8 lets only the
    thread that first set a limit change it again: a last caller of another
    thread could not restore it, and BLAS would stay at one thread.)

    A caller that could not bring BLAS to one thread (threadpoolctl refuses a
    thread that does not control BLAS) gets a budget of one thread: BLAS
    keeps its threads, and no pool of ours adds to them. A fork copies the
    owner's state into a child where the owner does not exist, so the child
    starts afresh (``os.register_at_fork``).
    """

    def __init__(self):
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        # The owning thread, its threadpoolctl limiter, BLAS's limit before it,
        # and whether BLAS did go to one thread.
        self._owner = self._limiter = self._original = self._controller = None
        self._applied = False

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
        with self._lock:
            owner = self._owner is None
            if owner:
                self._owner = threading.current_thread()
                self._original = self._current()
                self._limiter = self._blas().limit(limits=1)
                self._applied = self._current() in (None, 1)
            budget = _budget(self._original) if self._applied else 1
        try:
            yield budget
        finally:
            if owner:
                with self._lock:
                    self._limiter.restore_original_limits()
                    self._owner = self._limiter = None


def _budget(blas_threads):
    cores = available_cores()
    return max(1, min(cores, blas_threads) if blas_threads else cores)


_BLAS_LIMIT = _BlasLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_BLAS_LIMIT._reset)


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
