"""Where batches of runs execute: local worker processes, or a Dask cluster, with progress.

One executor layer: :func:`each_result` runs pieces of work in this process, on a pool of
spawned local processes, or on a Dask cluster, and yields each result as it finishes (a sweep
writes it to its store); :func:`map_in_processes` collects them in order (ensembles,
sensitivity functions, the full report). By default they use every local core; inside ``with
execution(...)`` it uses what that says (a number of workers, a Dask scheduler, a progress
bar), which is how the command line's ``--workers``, ``--scheduler`` and ``--progress``
reach every analysis without each function growing three arguments.

Processes are started with ``spawn`` (safe in notebooks and threaded programs: no
``if __name__ == "__main__"`` needed, as long as the function is importable), each with one
BLAS thread, so that N workers on N cores do not oversubscribe them. Inside an ``execution``
block (every command-line command runs in one) the workers are started once and kept for every
batch in the block.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextvars import ContextVar
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

from ..core import jit_cache

T = TypeVar("T")
R = TypeVar("R")

#: Environment for worker processes: one BLAS thread each (measured on the sweep benchmark:
#: three times slower without).
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


#: Whether this platform lets a thread block signals (not Windows).
_CAN_BLOCK = hasattr(signal, "pthread_sigmask")


class worker_environment:
    """Set the workers' environment while they are spawned, and block Ctrl-C's SIGINT in this thread
    meanwhile; restore both afterwards. A spawned process starts with its parent's blocked signals, so a
    Ctrl-C that reaches a worker while it is still importing (a terminal sends it to every process of the
    command) waits, blocked, until :func:`_start_worker` ignores it, instead of ending the import with a
    traceback. One that reaches this process meanwhile is raised here as the block ends."""

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in WORKER_ENV}
        os.environ.update(WORKER_ENV)
        if _CAN_BLOCK:
            self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if _CAN_BLOCK:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)


#: True in a worker process of :func:`local_executor`'s pools (not on a Dask worker, nor in this process).
_OWN_WORKER = False


def _start_worker(parent: int) -> None:
    """In a worker of :func:`local_executor`'s pool, as it starts: end this process when the process that
    started it is gone (killed with -9, say), instead of living on with its memory; at its exit skip
    the garbage collection of everything it imported (with the compiled model loaded, that collection
    took 0.17 s of the 0.24 s a worker took to exit, which the command waits for); and leave Ctrl-C to the
    process that started it. A terminal sends Ctrl-C's SIGINT to every process of the command, and a worker
    that took it printed its ``KeyboardInterrupt``'s traceback; the starting process, interrupted, ends its
    workers (:func:`stop_now`)."""
    global _OWN_WORKER
    _OWN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _CAN_BLOCK:  # blocked while it was spawned (worker_environment): a Ctrl-C pending since is now ignored
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    atexit.register(gc.freeze)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def release_memory() -> None:
    """Give the memory of finished work back to the system before the next piece starts.

    Without it a worker's resident memory grew with every sweep chunk it ran (glibc keeps freed
    heap pages while a live block pins the top of the heap): on a 20,000-sample sweep two
    workers ended at 720 MiB each, ~340 MiB with it; a 100,000-sample sweep peaked at 3,177 MiB,
    919 MiB with it (benchmarks/sweep_throughput.py).
    """
    import ctypes

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, say): nothing to trim
            pass


def call_in_worker(fn: Callable[[T], R], item: T | bytes, *, packed: bool = False) -> R:
    """``fn(item)`` in a worker, after releasing what the previous item left behind, and releasing
    what this one leaves behind before its result goes back (a kept worker may then wait idle).

    ``packed``: ``item`` comes pickled (a local pool's worker). Then, in a worker of this module's own
    pool, what is alive once the previous item's leftovers are collected (the modules imported, their
    caches) is frozen (``gc.freeze``) before the item is unpacked: later collections pass it by, which
    cut each one from about 45 ms to under 1 ms with the compiled model loaded, and the item itself is
    not frozen (frozen, an item in a reference cycle would never be freed). Not on a Dask worker, whose
    own objects are not this module's to freeze.
    """
    release_memory()
    if packed:
        if _OWN_WORKER:
            gc.freeze()
        item = pickle.loads(item)  # type: ignore[arg-type]
    result = fn(item)  # type: ignore[arg-type]
    del item
    release_memory()
    return result


def stop_now(pool: cf.Executor) -> None:
    """Shut ``pool`` down without waiting for the work under way: what waits is cancelled and the pool's
    own worker processes are ended (SIGTERM). For a batch that ends early (an interrupt, an error, a
    consumer that stopped reading): a plain shutdown waited for every item already handed to the workers
    (up to two a worker), though nothing would read their results.

    It reads three of ``concurrent.futures.ProcessPoolExecutor``'s private attributes (its workers, the
    thread that reads their results, and their results' pipe), each where present: a worker ended while
    it was sending a result leaves that thread reading the rest of it for ever, as the pool holds the
    pipe's other end too, and the process then hung at exit, waiting for the thread. Closing the pool's
    end lets the thread read the end of the pipe and finish, and it is waited for here."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    thread = getattr(pool, "_executor_manager_thread", None)  # shutdown(wait=False) forgets it
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()
    if thread is not None:
        thread.join(timeout=10)


def local_executor(workers: int) -> cf.Executor:
    """A pool of ``workers`` spawned processes, each of which exits if this process dies; the compiled
    model is compiled first, once, if it is not on disk (``core/jit_cache.py``), so that the workers load
    it rather than each compile it."""
    jit_cache.compile_once(WORKER_ENV)
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_start_worker, initargs=(os.getpid(),))


class _Workers:
    """A local worker pool kept from one batch of work to the next inside an :func:`execution`
    block, so that a command of several stages (the full report: projections, ensembles,
    sensitivity, discovery) starts its worker processes once, not once a stage (a start imports
    the scientific stack: about 1.3 s for two workers).

    The pool is lent to one batch at a time: a batch that finds it lent out (two batches alive at
    once) gets a pool of its own. A batch gives its pool back when it finishes normally, or shuts
    it down if it broke or ended early (an error, an interrupt, a batch left unfinished); one that
    finishes after the block was left shuts its pool down too."""

    def __init__(self) -> None:
        self.idle: cf.Executor | None = None
        self.size = 0
        self.open = True
        self.lock = threading.Lock()

    def take(self, size: int) -> cf.Executor:
        """The idle pool if it has ``size`` workers, else a new one (which starts its workers as
        work is submitted to it)."""
        with self.lock:
            pool, self.idle, kept_size = self.idle, None, self.size
        if pool is not None and kept_size == size:
            return pool
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        return local_executor(size)

    def give_back(self, pool: cf.Executor, size: int) -> None:
        """Keep ``pool`` (of ``size`` workers) for the next batch, or shut it down if the block was
        left or another pool is kept already."""
        with self.lock:
            if self.open and self.idle is None:
                self.idle, self.size = pool, size
                return
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Shut the idle pool down; a pool lent out is shut down when its batch ends."""
        with self.lock:
            self.open = False
            pool, self.idle = self.idle, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_WORKERS: ContextVar[_Workers | None] = ContextVar("sanctions_model_workers", default=None)


@contextlib.contextmanager
def kept_workers() -> Iterator[None]:
    """Keep local worker processes from one batch to the next inside the ``with`` block, and
    stop them when it is left; inside another such block (or :func:`execution`), share its."""
    if _WORKERS.get() is not None:
        yield
        return
    kept = _Workers()
    token = _WORKERS.set(kept)
    try:
        yield
    finally:
        _WORKERS.reset(token)
        kept.close()


@contextlib.contextmanager
def _local_pool(size: int) -> Iterator[cf.Executor]:
    """A pool of ``size`` spawned workers for one batch of work: the one kept inside an
    :func:`execution` or :func:`kept_workers` block (given back when the batch finishes normally,
    shut down if it broke or the batch ended early), else a new one, shut down after the batch.
    Workers start as work is submitted, so the caller holds :class:`worker_environment` around
    each submission. A batch that ends early stops its pool's workers at once (:func:`stop_now`)."""
    kept = _WORKERS.get()
    pool = local_executor(size) if kept is None else kept.take(size)
    try:
        yield pool
    except BaseException:
        stop_now(pool)
        raise
    if kept is None:
        pool.shutdown(wait=True)
    else:
        kept.give_back(pool, size)


class WorkerError(RuntimeError):
    """A worker process died (killed, or out of memory) twice on the same piece of work."""


#: More local processes than this many per core only adds overhead (and memory: ~230 MB each).
MAX_WORKERS_PER_CORE = 4


def check_workers(workers: object) -> int | None:
    """``workers`` as given (None = every core), or an InputError for anything but a whole number
    from 1 to ``MAX_WORKERS_PER_CORE`` per core."""
    from ..errors import InputError

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a whole number of at least 1 (or None for every core), got {workers!r}.")
    cores = os.cpu_count() or 1
    if workers is not None and workers > MAX_WORKERS_PER_CORE * cores:
        raise InputError(f"workers = {workers} is more than {MAX_WORKERS_PER_CORE} per core on this machine "
                         f"({cores} cores); use at most {MAX_WORKERS_PER_CORE * cores}, or a Dask cluster.")
    return workers


@dataclass(frozen=True)
class Execution:
    """How batches run: local ``workers`` (None: every core), or a Dask ``client``; ``progress``
    True, False or None (a bar only when standard error is a terminal)."""

    workers: int | None = None
    client: Any = None
    progress: bool | None = None


_CURRENT: ContextVar[Execution] = ContextVar("sanctions_model_execution", default=Execution())  # noqa: B039 (frozen)


def current_execution() -> Execution:
    """The settings in force (see :func:`execution`)."""
    return _CURRENT.get()


def connect(scheduler: str) -> Any:
    """A Dask client for the scheduler at ``scheduler``, or a clear InputError."""
    from ..errors import InputError

    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("running on a Dask cluster needs the dask extra: "
                         "pip install 'sanctions-model[dask]'") from None
    try:
        return Client(scheduler, timeout="5s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


@contextlib.contextmanager
def execution(*, workers: int | None = None, scheduler: str | None = None, client: Any = None,
              progress: bool | None = None) -> Iterator[Execution]:
    """Run every batch inside the ``with`` block on these workers, or on a Dask cluster.

    Parameters
    ----------
    workers : int, optional
        Local processes (default: every core). A function's own ``workers`` argument wins.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``); connected here, closed on exit.
    client : dask.distributed.Client, optional
        A Dask client of your own (left open).
    progress : bool, optional
        Progress bars: True, False, or None for only on a terminal.

    Returns
    -------
    context manager of Execution
        Entering it gives the settings in force; leaving it restores the ones before (and
        closes a client it connected). Local worker processes are started once for the
        block (the outermost one, which inner blocks share) and lent to each batch in turn;
        a batch that asks for another number of workers, or breaks its pool, starts a new
        one, and a batch running beside another gets its own. Leaving the block stops the
        idle pool; a pool still lent to a batch stops when that batch ends.

    Examples
    --------
    >>> with execution(workers=2, progress=False):
    ...     ens = run_ensemble(["status_quo"], 730, 100, seed=1)  # doctest: +SKIP
    """
    workers = check_workers(workers)
    own = None
    if client is None and scheduler is not None:
        client = own = connect(scheduler)
    settings = Execution(workers, client, progress)
    token = _CURRENT.set(settings)
    try:
        with kept_workers():
            yield settings
    finally:
        _CURRENT.reset(token)
        if own is not None:
            own.close()


class ProgressBar:
    """tqdm on standard error when ``show`` (None: only on a terminal), silence otherwise."""

    def __init__(self, total: int | None, desc: str, show: bool | None, unit: str = "chunk", initial: int = 0):
        show = sys.stderr.isatty() if show is None else show
        self.bar: Any = None
        if show and (total is None or total > 0):
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, smoothing=0.1, dynamic_ncols=True,
                            file=sys.stderr)

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        if self.bar is not None:
            if postfix is not None:
                self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parallel_width(workers: int | None = None, client: Any = None) -> int:
    """How many pieces of work :func:`each_result` can run at the same time: on a Dask ``client``,
    the cluster's worker threads, but at most the two items per worker it keeps in flight; else
    ``workers`` local processes (None: every core), but at most one per core (more processes than
    cores take turns on them)."""
    cores = os.cpu_count() or 1
    if client is not None:
        found = client.scheduler_info().get("workers", {}).values()
        return max(min(sum(int(w.get("nthreads", 1)) for w in found), 2 * len(found)), 1)
    return max(min(workers or cores, cores), 1)


def each_result(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None, client: Any = None, *,
                on_lost: Callable[[T, str], R] | None = None) -> Iterator[tuple[int, R]]:
    """``(i, fn(items[i]))`` for every item, in the order they finish: the one executor layer.

    Where: on the Dask ``client`` if one is given; else in this process when ``workers`` is 1
    (or there is one item); else on a pool of ``workers`` spawned local processes (None: every
    core). Inside an :func:`execution` or :func:`kept_workers` block the pool is the block's,
    lent to this batch and kept for the next. At most two items per worker are in flight, so
    memory stays flat however many items there are. A local worker that dies (killed from
    outside, out of memory): the items it had in flight run once more in a new pool; an item in
    flight when a second pool breaks gets ``on_lost(item, why)`` as its result (``why``: what
    happened, in words), or raises :class:`WorkerError` without ``on_lost``.
    ``fn`` must be a module-level function and each item must pickle (a local pool's items are pickled
    here, so that an item that cannot be is refused at once); each call starts and ends with
    :func:`release_memory`.
    """
    if client is not None and len(items) > 1:
        yield from _each_on_dask(fn, items, client)
        return
    width = workers or os.cpu_count() or 1
    n = min(width, len(items))
    if n <= 1:
        for i, item in enumerate(items):
            yield i, fn(item)
        return
    queue = list(range(len(items)))
    attempts: dict[int, int] = {}
    received = 0
    while queue:
        pending: dict[cf.Future, int] = {}
        try:
            # a kept pool has every worker asked for, whatever this batch's length, so the next keeps it too
            size = width if _WORKERS.get() is not None else min(n, len(queue))
            with _local_pool(size) as pool:
                while queue or pending:
                    while queue and len(pending) < 2 * n:
                        i = queue[0]  # off the queue only once submitted (a broken pool refuses it)
                        with worker_environment():  # a spawned pool starts its workers as work is submitted
                            payload = bytes(ForkingPickler.dumps(items[i], pickle.HIGHEST_PROTOCOL))
                            future = pool.submit(call_in_worker, fn, payload, packed=True)
                        pending[future] = i
                        queue.pop(0)
                    finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for fut in finished:
                        result = fut.result()
                        received += 1
                        yield pending.pop(fut), result
        except BrokenProcessPool:
            for i in sorted(pending.values()):
                attempts[i] = attempts.get(i, 0) + 1
                if attempts[i] < 2:
                    queue.insert(0, i)
                    continue
                hint = "" if received else script_hint()  # nothing came back: perhaps an unguarded script
                if on_lost is not None:
                    yield i, on_lost(items[i], f"a worker process died twice on this piece of work.{hint}")
                else:
                    unfinished = len(queue) + len(pending)
                    raise WorkerError(f"a worker process died twice on the same piece of work ({unfinished} of "
                                      f"{len(items)} unfinished): killed from outside, or out of memory; try fewer "
                                      f"--workers.{hint}") from None
            queue.sort()


def script_hint() -> str:
    """What to say when no worker returned anything and this process runs a script: each spawned
    worker imports the script again, and one without ``if __name__ == "__main__":`` starts its
    work again there, which Python refuses (the workers die at once)."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if path is None:  # a notebook, python -c, an interactive session
        return ""
    return (f" No worker returned anything: if {path} is a script, put the calls that run the model "
            "under `if __name__ == \"__main__\":` (each worker process imports the script again), or pass workers=1.")


def _each_on_dask(fn: Callable[[T], R], items: Sequence[T], client: Any) -> Iterator[tuple[int, R]]:
    """:func:`each_result` on a Dask cluster: two items per Dask worker in flight."""
    from dask.distributed import as_completed

    width = max(2 * len(client.scheduler_info().get("workers", {})), 2)
    queue = list(range(len(items)))
    index: dict[str, int] = {}

    def submit() -> Any:
        i = queue.pop(0)
        fut = client.submit(call_in_worker, fn, items[i], pure=False)
        index[fut.key] = i
        return fut

    futures = [submit() for _ in range(min(width, len(queue)))]
    ac = as_completed(futures)
    for fut in ac:
        result = fut.result()
        i = index.pop(fut.key)
        fut.release()
        if queue:
            ac.add(submit())
        yield i, result


def map_in_processes(fn: Callable[[T], R], items: Iterable[T], workers: int | None = None,
                     desc: str = "runs") -> list[R]:
    """``[fn(item) for item in items]``, in order, through :func:`each_result`.

    ``workers`` (None: what :func:`execution` says, else every core); one worker, or one
    item, runs in this process. Inside ``execution(client=...)`` or ``execution(scheduler=...)``
    the items run on that cluster. A progress bar counts finished items (see :func:`execution`).
    ``fn`` must be a module-level function.
    """
    items = list(items)
    workers = check_workers(workers)
    settings = current_execution()
    if workers is None:
        workers = settings.workers
    results: dict[int, R] = {}
    with ProgressBar(len(items), desc, settings.progress) as bar:
        for i, result in each_result(fn, items, workers, settings.client):
            results[i] = result
            bar.update()
    return [results[i] for i in range(len(items))]
