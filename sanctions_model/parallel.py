"""Local worker processes, as sweeps, sensitivity analyses and ensembles use them.

Processes are started with ``spawn`` (safe in notebooks and threaded programs: no
``if __name__ == "__main__"`` needed, as long as the function is importable), each with one
BLAS thread, so that N workers on N cores do not oversubscribe them.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Environment for worker processes: one BLAS thread each (measured on the sweep benchmark:
#: three times slower without).
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class worker_environment:
    """Set the workers' environment while they are spawned; restore it afterwards."""

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in WORKER_ENV}
        os.environ.update(WORKER_ENV)

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def local_executor(workers: int) -> cf.Executor:
    """A pool of ``workers`` spawned processes."""
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def check_workers(workers: object) -> int | None:
    """``workers`` as given (None = every core), or an InputError for anything but a whole number >= 1."""
    from .errors import InputError

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be a whole number of at least 1 (or None for every core), got {workers!r}.")
    return workers


def map_in_processes(fn: Callable[[T], R], items: Iterable[T], workers: int | None = 1) -> list[R]:
    """``[fn(item) for item in items]``, in order, on ``workers`` local processes (None: every core).

    One worker, or one item, runs in this process. ``fn`` must be a module-level function.
    """
    items = list(items)
    workers = check_workers(workers)
    n = min(workers or os.cpu_count() or 1, len(items))
    if n <= 1:
        return [fn(item) for item in items]
    with worker_environment(), local_executor(n) as pool:
        return list(pool.map(fn, items))
