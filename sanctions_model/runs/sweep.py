"""Parameter sweeps: a design cut into chunks, each chunk evaluated as batches (one per scenario,
through ``evaluate.py``) on the executors of ``executors.py``, and written to the sweep
directory as it finishes (``store.py`` owns the directory: manifest, parts, lock, reading).

The tables:

- ``samples``: one row per sample, ``sample_id`` and one column per varied parameter;
- ``outcomes``: one row per sample and scenario, ``sample_id``, ``scenario``, ``status``,
  ``message`` and the outcomes of :func:`sanctions_model.simulate`;
- ``trajectories`` when asked: ``sample_id``, ``scenario``, ``day`` and the chosen variables
  every ``every`` days.

A sweep killed at any moment and started again with the same settings computes only the
missing chunks. A worker receives a small :class:`~.sweep_chunk.ChunkTask` (the design's
description, a chunk number, and the scenario parameter values), rebuilds its rows, and returns
their columns (``sweep_chunk.py``, which imports no pandas); the driver makes the tables and is the
only one that writes.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..core.model import FLOWS, STATES
from ..core.outcomes import OUTCOMES
from ..errors import InputError, suggest
from ..inputs.params import ParameterSet, check_labelled
from .designs import Design
from .executors import check_workers, current_execution, each_result, parallel_width
from .store import Lock, StoreSink, done_chunks, prepare, settings_digest
from .store import read_sweep as read_sweep  # the public reader of a sweep table (the store owns it)
from .sweep_chunk import ChunkTask, Columns, compute_chunk, kept_days, sample_columns, task_rows, trajectory_columns
from .sweep_result import SweepResult


def frames(columns: dict[str, list[Columns]]) -> dict[str, pd.DataFrame]:
    """A chunk's tables from the columns its worker computed (:func:`~.sweep_chunk.compute_chunk`): each
    scenario's rows after the one before."""
    out = {"samples": pd.DataFrame(columns["samples"][0]),
           "outcomes": pd.concat([pd.DataFrame(part) for part in columns["outcomes"]], ignore_index=True)}
    if "trajectories" in columns:
        parts = columns["trajectories"]
        out["trajectories"] = pd.concat([pd.DataFrame(part) for part in parts], ignore_index=True) if parts \
            else pd.DataFrame()
    return out


def trajectory_frame(sample_ids: np.ndarray, label: str, days: np.ndarray,
                     values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One scenario's trajectories table: a row per sample and kept day; ``values`` name -> (samples, days)."""
    return pd.DataFrame(trajectory_columns(sample_ids, label, days, values))


def run_chunk(task: ChunkTask) -> dict[str, pd.DataFrame]:
    """Compute one chunk of a sweep (or a piece of one) under each scenario; returns its tables."""
    return frames(compute_chunk(task))


# --------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------

def settings_of(design: Design, scenarios: Sequence[tuple[str, ParameterSet]], days: float,
                trajectories: Sequence[str], every: float) -> dict:
    """What defines a sweep's results; a resumed sweep must match it exactly."""
    settings = {
        "version": __version__,
        "design": design.to_dict(),
        "scenarios": {label: params.digest() for label, params in scenarios},
        # day 0 of each scenario (the history starts on 2022-02-24, projections on the base file's date)
        "start_dates": {label: params.start_date.isoformat() for label, params in scenarios},
        "days": days,
        "trajectories": list(trajectories),
        "every": every if trajectories else None,
    }
    settings["settings_hash"] = settings_digest(settings)
    return settings


class _Progress:
    """tqdm on a terminal, silence elsewhere (or when ``show`` is False)."""

    def __init__(self, total: int, initial: int, chunks: int, chunks_done: int, show: bool | None):
        show = sys.stderr.isatty() if show is None else show
        self.bar = None
        self.chunks, self.chunks_done = chunks, chunks_done
        if show:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="sample", desc="sweep", smoothing=0.1,
                            dynamic_ncols=True, file=sys.stderr)
            self.bar.set_postfix_str(f"chunks {chunks_done}/{chunks}")

    def update(self, n: int, chunk_done: bool = True) -> None:
        """``n`` more samples computed; ``chunk_done``: and a chunk written."""
        self.chunks_done += int(chunk_done)
        if self.bar is not None:
            self.bar.set_postfix_str(f"chunks {self.chunks_done}/{self.chunks}", refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def check_trajectory_names(names: Iterable[str]) -> tuple[str, ...]:
    known = [*STATES, *FLOWS]
    names = tuple(names)
    for name in names:
        if name not in known:
            raise InputError(f"--trajectories: unknown variable '{name}'.{suggest(name, known)}")
    return names


def run_sweep(
    design: Design,
    scenarios: Sequence[tuple[str, ParameterSet]],
    out: Path | str,
    *,
    days: float = 730,
    trajectories: Sequence[str] = (),
    every: float = 7.0,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out``; see the module docstring for the files.

    Parameters
    ----------
    design : Design
    scenarios : list of (label, ParameterSet)
        The same sampled values are run under each (common random numbers).
    out : path
        Sweep directory; an existing one must have been made with the same settings.
    days : float [day]
    trajectories : list of str
        Stocks or flows to keep every ``every`` days.
    every : float [day]
        Interval of the kept trajectories.
    workers : int, optional
        Local processes (default: all cores); 1 runs in this process.
    client : dask.distributed.Client, optional
        Run chunks on this Dask cluster instead.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:port``) to connect to.
    progress : bool, optional
        Progress bar; default: only when stderr is a terminal.
    on_chunk : callable, optional
        Called with each chunk's number when it is written.
    log : callable, optional
        Receives a line saying whether the sweep starts afresh, resumes (and how many chunks
        are already written) or is already complete.

    Returns
    -------
    SweepResult
        The sweep directory, opened for analysis (it is also a path).
    """
    from .run import check_days

    if not isinstance(design, Design):
        raise InputError(f"run_sweep: design must be a Design (sm.Design.build(...)), got {type(design).__name__}.")
    scenarios = check_labelled(scenarios, "run_sweep")
    if not isinstance(out, (str, os.PathLike)) or not str(out):
        raise InputError(f"run_sweep: out must be the path of the sweep directory, got {out!r}.")
    out = Path(out)
    days = check_days(days)
    workers = check_workers(workers)
    trajectories = check_trajectory_names(trajectories)
    if trajectories and not (isinstance(every, (int, float)) and every >= 1 and float(every).is_integer()):
        raise InputError(f"--every must be a whole number of days >= 1, got {every!r}.")
    if trajectories and every > days:
        raise InputError(f"--every {every:g} is longer than the horizon ({days:g} days): only day 0 would be kept.")
    settings = settings_of(design, scenarios, days, trajectories, every)
    own_client = False
    settings_in_force = current_execution()  # sanctions_model.execution(...) around the call
    workers = workers if workers is not None else settings_in_force.workers
    progress = progress if progress is not None else settings_in_force.progress
    if client is None and scheduler is None:
        client = settings_in_force.client
    if client is None and scheduler is not None:
        client, own_client = _connect(scheduler), True  # before anything is written
    try:
        _sweep(design, scenarios, out, settings, days, trajectories, every, workers, client, progress, on_chunk,
               log)
        return SweepResult(out)
    finally:
        if own_client:
            client.close()


def _sweep(design: Design, scenarios: Sequence[tuple[str, ParameterSet]], out: Path, settings: dict[str, Any],
           days: float, trajectories: tuple[str, ...], every: float, workers: int | None, client: Any,
           progress: bool | None, on_chunk: Callable[[int], None] | None,
           log: Callable[[str], None] | None = None) -> Path:
    lock = Lock(out)
    manifest = prepare(out, settings, lock)
    try:
        return _sweep_locked(design, scenarios, out, settings, days, trajectories, every, workers, client, progress,
                             on_chunk, log, manifest)
    finally:
        lock.release()


def _sweep_locked(design: Design, scenarios: Sequence[tuple[str, ParameterSet]], out: Path, settings: dict[str, Any],
                  days: float, trajectories: tuple[str, ...], every: float, workers: int | None, client: Any,
                  progress: bool | None, on_chunk: Callable[[int], None] | None, log: Callable[[str], None] | None,
                  manifest: dict[str, Any]) -> Path:
    done = done_chunks(out, manifest, design.n_chunks, bool(trajectories), log)
    todo = [i for i in range(design.n_chunks) if i not in done]
    if log is not None:
        if not todo:
            log(f"{out}: all {design.n_chunks} chunks are already written; nothing to run.")
        elif done:
            log(f"{out}: resuming: {len(done)} of {design.n_chunks} chunks already written, running the other "
                f"{len(todo)}.")
        else:
            log(f"{out}: running {design.n_chunks} chunk{'s' if design.n_chunks > 1 else ''}.")
    scen = tuple((label, tuple(params.values().items())) for label, params in scenarios)
    work = pieces(design, todo, parallel_width(workers, client))
    tasks = [ChunkTask(design.to_dict(), i, scen, float(days), trajectories, float(every), piece)
             for i, piece in work]
    expected = Counter(i for i, _ in work)  # pieces per chunk
    waiting: dict[int, dict[int, dict[str, pd.DataFrame]]] = {}  # chunk -> its pieces computed so far
    sink = StoreSink(out, manifest, design.n_chunks, done)
    bar = _Progress(design.rows, sum(len(design.chunk_rows(i)) for i in done), design.n_chunks, len(done), progress)
    try:
        for k, columns in each_result(compute_chunk, tasks, workers, client, on_lost=failed_columns):
            i = tasks[k].index
            tables = frames(columns)
            waiting.setdefault(i, {})[k] = tables
            bar.update(len(tables["samples"]), chunk_done=len(waiting[i]) == expected[i])
            if len(waiting[i]) == expected[i]:  # the chunk's last piece: write the chunk whole
                got = waiting.pop(i)
                sink.record(i, joined([got[j] for j in sorted(got)], [label for label, _ in scenarios]))
                if on_chunk is not None:
                    on_chunk(i)
    finally:
        bar.close()
    sink.close()
    return out


def pieces(design: Design, todo: Sequence[int], width: int) -> list[tuple[int, tuple[int, int] | None]]:
    """The work of the chunks ``todo`` for ``width`` workers at once: ``(chunk, piece)``, ``piece``
    None for a whole chunk or ``(from, to)`` rows of it.

    The chunks run in rounds of ``width``. The ``left`` chunks over for a last round, when they
    would keep at least half the workers idle, are each cut into ``width // left`` pieces, so that
    the last round is shared by every worker (five chunks on two workers: two and a half chunks'
    time, not three; one chunk on eight workers: an eighth, plus what a smaller batch costs more
    per member, 1.3 times as much for 1,000 histories as for 2,000, 2.5 times for 250). Fewer left
    over are not cut: their pieces, each dearer per member, would take longer than the chunks
    whole. The numbers do not move: a member's numbers do not depend on the batch it is
    integrated in (``core/stepper.py``), and a chunk's pieces are written as one part, as the
    whole chunk would be.
    """
    left = len(todo) % width if width > 1 else 0
    each = width // left if left else 1  # pieces a left-over chunk is cut into
    cut = set(todo[len(todo) - left:]) if each >= 2 else set()
    work: list[tuple[int, tuple[int, int] | None]] = []
    for i in todo:
        size = len(design.chunk_rows(i))
        if i in cut and size > 1:
            ends = np.linspace(0, size, min(each, size) + 1).round().astype(int)
            work.extend((i, (int(a), int(b))) for a, b in zip(ends[:-1], ends[1:]))
        else:
            work.append((i, None))
    return work


def joined(parts: Sequence[dict[str, pd.DataFrame]], labels: Sequence[str]) -> dict[str, pd.DataFrame]:
    """A chunk's tables from its pieces' (in row order): the rows as the whole chunk gives them,
    by scenario (in ``labels``' order), then sample (then day)."""
    if len(parts) == 1:
        return parts[0]
    rank = {label: r for r, label in enumerate(labels)}
    out = {"samples": pd.concat([part["samples"] for part in parts], ignore_index=True)}
    for table in ("outcomes", "trajectories"):
        if table not in parts[0]:
            continue
        frame = pd.concat([part[table] for part in parts], ignore_index=True)
        order = np.lexsort((frame["sample_id"].to_numpy(), frame["scenario"].map(rank).to_numpy()))  # stable
        out[table] = frame.iloc[order].reset_index(drop=True)
    return out


def failed_columns(task: ChunkTask, message: str) -> dict[str, list[Columns]]:
    """A chunk's (or piece's) columns when it could not be computed: its samples, and every outcome
    NaN with status ``failed`` and ``message``."""
    design, sample_ids, x = task_rows(task)
    nan = {k: np.full(len(sample_ids), np.nan) for k in OUTCOMES}
    out: dict[str, list[Columns]] = {
        "samples": [sample_columns(design, sample_ids, x)],
        "outcomes": [{"sample_id": sample_ids, "scenario": label, "status": "failed", "message": message, **nan}
                     for label, _ in task.scenarios]}
    if task.trajectories:  # NaN at every kept day, as for a sample that fails in a computed chunk
        kept = kept_days(task)
        empty = {name: np.full((sample_ids.size, kept.size), np.nan) for name in task.trajectories}
        out["trajectories"] = [trajectory_columns(sample_ids, label, kept, empty) for label, _ in task.scenarios]
    return out


def failed_chunk(task: ChunkTask, message: str) -> dict[str, pd.DataFrame]:
    """A chunk's (or piece's) tables when it could not be computed (:func:`failed_columns`)."""
    return frames(failed_columns(task, message))


def _connect(scheduler: str) -> Any:
    from .executors import connect

    return connect(scheduler)


