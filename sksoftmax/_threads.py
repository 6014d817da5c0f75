"""Threads of the kernels: how many, whose, and BLAS kept to one meanwhile.

The loss kernel and the block predictions share their row blocks among
Python threads (NumPy and BLAS release the GIL), with BLAS on one thread:
the products of one block are small, and OpenBLAS threads spinning between
them made a fit of the digits data several times slower on two cores
(``benchmarks/results/threads.md``).

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
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

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
    count; it holds no thread. Its rule: a caller that finds BLAS on several
    threads and no limit of ours in place brings it to one thread and owns
    the limit; callers that overlap it run on one thread (the owner may leave
    first, and BLAS then gets its threads back); the owner restores the count
    it found when it leaves. (Counting callers and restoring when the last
    leaves would be tighter, but threadpoolctl >= 3.8 lets only one thread at
    a time change OpenBLAS's limit: a last caller of another thread could not
    restore it.) The owner enters and exits threadpoolctl's limiter as a
    context, which is what hands control of OpenBLAS back for a fit in another
    thread later.

    A caller that finds BLAS on one thread already (joblib's workers, a user's
    ``threadpool_limits(1)``) changes nothing and runs on one thread. A caller
    that could not bring BLAS to one thread (threadpoolctl refuses a thread
    while another, such as the user's ``with threadpool_limits(...)`` in the
    main thread, controls OpenBLAS) undoes its attempt at once, owns nothing
    and runs on one thread: BLAS keeps its threads, and no pool of ours adds
    to them. So a call restores only what it changed.

    A fork waits while another thread sets or lifts a limit of ours (the
    lock is taken before the fork, ``os.register_at_fork``): OpenBLAS shuts
    its thread pool down before a fork and restarts it lazily at its next
    call, so a limit changed in between could leave the child a pool marked
    running whose threads were not copied, or its allocation lock held. (A
    child forked while a thread looped over limits hung in two full test runs
    of 3 s of forking; where it hung was not caught.) A fork copies the rest of
    this state into a child where the owner's thread does not run on: if a
    limit of ours was in place, the child puts BLAS back to the count the
    owner found and starts afresh.
    """

    _controller: ThreadpoolController | None
    _owner: threading.Thread | None
    # threadpoolctl's limiter (a context manager) while a limit of ours is set.
    _limiter: Any
    _original: int | None

    def __init__(self) -> None:
        # threadpoolctl's controller of the BLAS libraries, built on first use
        # (inspecting them costs milliseconds); a forked child keeps it, as
        # the libraries stay loaded.
        self._controller = None
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        # The owning thread, its threadpoolctl limiter, and BLAS's thread
        # count before it. (Forks wait while they change: _before_fork.)
        self._owner = self._limiter = self._original = None

    def _before_fork(self) -> None:
        # Released in the parent after the fork; the child makes a new lock.
        self._held_for_fork = self._lock
        self._held_for_fork.acquire()

    def _after_fork_in_parent(self) -> None:
        self._held_for_fork.release()

    def _after_fork_in_child(self) -> None:
        owner, original = self._owner, self._original
        self._reset()
        # threadpoolctl >= 3.8 guards OpenBLAS's controlling thread with a
        # lock and has no fork handler: a child forked while another thread
        # held it (for microseconds, setting or clearing a limit) inherits it
        # held by a thread that does not exist there, and its next limit hung
        # (seen once in CI: a child forked while a thread looped over limits).
        # A Lock may be released by any thread; only the child's copy is.
        shared = getattr(OpenBLASController, "_SHARED_STATE", None)
        orphaned = getattr(shared, "lock", None)
        if orphaned is not None and orphaned.locked():
            with contextlib.suppress(RuntimeError):
                orphaned.release()
        if owner is not None and original is not None:
            # Even an owner that forked from inside its block may never leave
            # it in the child (a multiprocessing worker ends with os._exit).
            # (threadpoolctl takes a lock of its own here; a thread of the
            # parent holding it at the fork would hang the child.)
            with contextlib.suppress(Exception):
                self._blas().limit(limits=original)
                # threadpoolctl >= 3.8: this thread took control of OpenBLAS
                # to restore it; give control back.
                clear = getattr(OpenBLASController, "clear_controlling_thread", None)
                if clear is not None:
                    clear()

    def _blas(self) -> ThreadpoolController:
        if self._controller is None:
            self._controller = ThreadpoolController().select(user_api="blas")
        return self._controller

    def _current(self) -> int | None:
        """BLAS's largest thread count now; None without BLAS."""
        counts = [lib["num_threads"] for lib in self._blas().info()]
        return max(counts) if counts else None

    def _enter(self) -> tuple[Any, int]:
        """Set the limit if this caller may own it; (limiter or None, budget).
        Called under the lock."""
        if self._owner is not None:
            return None, 1  # overlapping a limit of ours
        original = self._current()
        if original is None or original <= 1:
            return None, _budget(original)
        self._owner, self._original = threading.current_thread(), original
        limiter = None
        try:
            limiter = self._blas().limit(limits=1)
            limiter.__enter__()
            if self._current() == 1:
                self._limiter = limiter
                return limiter, _budget(original)
            # Refused: another thread controls OpenBLAS. Undo the attempt
            # (which changed nothing) and own nothing.
            limiter.__exit__(None, None, None)
            return None, 1
        finally:
            if self._limiter is None:  # not set: own nothing
                self._owner = self._original = None

    def _leave(self, limiter: Any) -> None:
        with self._lock:
            try:
                limiter.__exit__(None, None, None)
            finally:
                if self._limiter is limiter:
                    self._owner = self._limiter = self._original = None

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[int]:
        """BLAS on one thread inside; yields the threads a kernel may use."""
        with self._lock:
            limiter, budget = self._enter()
        try:
            yield budget
        finally:
            if limiter is not None:
                self._leave(limiter)


def _budget(blas_threads: int | None) -> int:
    cores = available_cores()
    return max(1, min(cores, blas_threads) if blas_threads else cores)


_BLAS_LIMIT = _BlasLimit()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_BLAS_LIMIT._before_fork,
        after_in_parent=_BLAS_LIMIT._after_fork_in_parent,
        after_in_child=_BLAS_LIMIT._after_fork_in_child,
    )


def one_blas_thread() -> AbstractContextManager[int]:
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
