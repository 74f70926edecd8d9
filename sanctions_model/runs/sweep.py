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
missing chunks. A worker receives a small :class:`ChunkTask` (the design's description, a
chunk number, and the scenario parameter values), rebuilds its rows, and returns tables; only
the driver writes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..core.model import FLOWS, STATES
from ..core.outcomes import OUTCOMES
from ..errors import InputError, suggest
from ..inputs.params import ParameterSet
from .designs import Design, overlay
from .evaluate import evaluate
from .executors import check_workers, current_execution, each_result
from .store import Lock, StoreSink, done_chunks, prepare
from .store import read_sweep as read_sweep  # the public reader of a sweep table (the store owns it)
from .sweep_result import SweepResult


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to compute one chunk: a few kilobytes."""

    design: dict
    index: int
    scenarios: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    days: float
    trajectories: tuple[str, ...] = ()
    every: float = 7.0


def run_chunk(task: ChunkTask) -> dict[str, pd.DataFrame]:
    """Compute one chunk of a sweep under each scenario; returns the chunk's tables."""
    design = Design.from_dict(task.design)
    rows = design.chunk_rows(task.index)
    sample_ids = np.arange(rows.start, rows.stop, dtype=np.int64)
    x = design.chunk(task.index)
    samples = pd.DataFrame(x, columns=list(design.names))
    samples.insert(0, "sample_id", sample_ids)
    outcome_frames, traj_frames = [], []
    kept = np.arange(0.0, task.days + 1e-9, task.every) if task.trajectories else np.empty(0)
    for label, base in task.scenarios:
        result = evaluate(overlay(dict(base), design.names, x), task.days, keep=task.trajectories, at=kept)
        frame = pd.DataFrame({"sample_id": sample_ids, "scenario": label, "status": result.status.astype(str),
                              "message": result.message.astype(str), **result.outcomes})
        outcome_frames.append(frame)
        if task.trajectories:
            m = result.days.size
            tframe = pd.DataFrame({"sample_id": np.repeat(sample_ids, m), "scenario": label,
                                   "day": np.tile(result.days, len(rows)),
                                   **{name: result.trajectories[name].reshape(-1) for name in task.trajectories}})
            traj_frames.append(tframe)
    out = {"samples": samples, "outcomes": pd.concat(outcome_frames, ignore_index=True)}
    if task.trajectories:
        out["trajectories"] = pd.concat(traj_frames, ignore_index=True) if traj_frames else pd.DataFrame()
    return out


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
    settings["settings_hash"] = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
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

    def update(self, n: int) -> None:
        self.chunks_done += 1
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

    out = Path(out)
    days = check_days(days)
    workers = check_workers(workers)
    trajectories = check_trajectory_names(trajectories)
    if trajectories and not (isinstance(every, (int, float)) and every >= 1 and float(every).is_integer()):
        raise InputError(f"--every must be a whole number of days >= 1, got {every!r}.")
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
    tasks = [ChunkTask(design.to_dict(), i, scen, float(days), trajectories, float(every)) for i in todo]
    sink = StoreSink(out, manifest, design.n_chunks, done)
    bar = _Progress(design.rows, sum(len(design.chunk_rows(i)) for i in done), design.n_chunks, len(done), progress)
    try:
        lost = "a worker process died twice on this chunk"
        for i, tables in each_result(run_chunk, tasks, workers, client,
                                     on_lost=lambda task: failed_chunk(task, lost)):
            sink.record(tasks[i].index, tables)
            bar.update(len(design.chunk_rows(tasks[i].index)))
            if on_chunk is not None:
                on_chunk(tasks[i].index)
    finally:
        bar.close()
    sink.close()
    return out


def failed_chunk(task: ChunkTask, message: str) -> dict[str, pd.DataFrame]:
    """A chunk's tables when it could not be computed: its samples, and every outcome NaN with
    status ``failed`` and ``message``."""
    design = Design.from_dict(task.design)
    rows = design.chunk_rows(task.index)
    sample_ids = np.arange(rows.start, rows.stop, dtype=np.int64)
    samples = pd.DataFrame(design.chunk(task.index), columns=list(design.names))
    samples.insert(0, "sample_id", sample_ids)
    frames = [pd.DataFrame({"sample_id": sample_ids, "scenario": label, "status": "failed", "message": message,
                            **{k: np.full(len(sample_ids), np.nan) for k in OUTCOMES}})
              for label, _ in task.scenarios]
    out = {"samples": samples, "outcomes": pd.concat(frames, ignore_index=True)}
    if task.trajectories:
        out["trajectories"] = pd.DataFrame(columns=["sample_id", "scenario", "day", *task.trajectories])
    return out


def _connect(scheduler: str) -> Any:
    from .executors import connect

    return connect(scheduler)


