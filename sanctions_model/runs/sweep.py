"""Parameter sweeps: chunks of a design integrated as batches, streamed to Parquet, resumable.

A sweep directory holds

- ``manifest.json``: design, seed, scenarios with their parameter hashes, version, and the
  status of every chunk;
- ``samples.parquet/``: one row per sample, ``sample_id`` and one column per varied
  parameter (named as ``--set`` names it);
- ``outcomes.parquet/``: one row per sample and scenario, ``sample_id``, ``scenario``,
  ``status``, ``message`` and the outcomes of :func:`sanctions_model.simulate`;
- ``trajectories.parquet/`` when asked: ``sample_id``, ``scenario``, ``day`` and the chosen
  variables every ``every`` days.

Each ``*.parquet`` is a dataset of one file per chunk (``pandas.read_parquet`` reads the
folder whole). A chunk's files are written to a hidden temporary name and renamed into
place, outcomes last, so a chunk is either complete or absent; a sweep killed at any
moment and started again with the same settings computes only the missing chunks.

Chunks run in worker processes (all local cores by default) or on a Dask cluster. A worker
receives a small :class:`ChunkTask` (the design's description, a chunk number, and the
scenario parameter values), rebuilds its rows, and returns tables; only the driver writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from .sweep_result import MANIFEST, SweepResult

TABLES = ("samples", "outcomes", "trajectories")


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

def _part(directory: Path, table: str, index: int) -> Path:
    return directory / f"{table}.parquet" / f"part-{index:05d}.parquet"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomic(frame: pd.DataFrame, path: Path) -> dict[str, Any]:
    """Write ``frame`` to ``path`` whole or not at all; return its row count and checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    frame.to_parquet(tmp, index=False)
    info = {"rows": len(frame), "sha256": _digest(tmp)}
    os.replace(tmp, path)
    return info


def _part_is_sound(path: Path, info: Mapping[str, Any]) -> bool:
    try:
        return path.is_file() and _digest(path) == info.get("sha256")
    except OSError:
        return False


def sweep_parts(out: Path | str, table: str) -> list[Path]:
    """The part files of ``table`` that the sweep in ``out`` wrote, in chunk order, each checked
    against the row count and checksum its manifest records.

    Raises
    ------
    InputError
        For a part that is missing or damaged (rerun the sweep's command: it recomputes that
        chunk), or a part file the manifest does not list (copied in from elsewhere).
    """
    out = Path(out)
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        parts = {int(i): entry for i, entry in manifest.get("parts", {}).items()}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise InputError(f"{out / MANIFEST}: not a sweep manifest of this version ({exc}).") from None
    listed = []
    for i in sorted(parts):
        info = parts[i].get(table) if isinstance(parts[i], Mapping) else None
        if info is None:
            continue
        path = _part(out, table, i)
        if not _part_is_sound(path, info):
            raise InputError(f"{path} is missing or damaged (its checksum differs from the manifest's); run the "
                             "sweep's command again to recompute that chunk.")
        listed.append(path)
    foreign = sorted(set((out / f"{table}.parquet").glob("part-*.parquet")) - set(listed))
    if foreign:
        raise InputError(f"{foreign[0]} is not part of the sweep in {out} (its manifest does not list it); "
                         "remove it.")
    return listed


class _Lock:
    """One writer per sweep directory: ``.lock`` holds the writer's process id and host; a lock
    whose process is gone (killed) is taken over."""

    def __init__(self, out: Path):
        self.path = out / ".lock"
        self.held = False

    def _owner(self) -> tuple[int, str] | None:
        try:
            pid, _, host = self.path.read_text().partition(" ")
            return int(pid), host.strip()
        except (OSError, ValueError):
            return None

    def acquire(self) -> None:
        import socket

        from ..outdir import pid_alive

        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                owner = self._owner()
                alive = owner is not None and owner[1] == socket.gethostname() and pid_alive(owner[0])
                if alive or (owner is not None and owner[1] != socket.gethostname()):
                    who = f"process {owner[0]} on {owner[1]}" if owner else "another process"
                    raise InputError(f"{self.path.parent} is being written by another sweep ({who}); wait for it "
                                     f"to finish (or stop it), then run the same command to resume.") from None
                self.path.unlink(missing_ok=True)  # its writer is dead: take over
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()} {socket.gethostname()}")
            self.held = True
            return
        raise InputError(f"{self.path}: cannot take the sweep's lock; remove it if no sweep is running.")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def _write_json_atomic(data: Mapping, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


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


def units_of(settings: Mapping[str, Any]) -> dict[str, str]:
    """The unit of every column a sweep writes: each outcome, each kept trajectory variable, and ``day``."""
    units = {name: unit for name, (unit, _) in OUTCOMES.items()}
    units.update({var: STATES.get(var, FLOWS.get(var, "")) for var in settings.get("trajectories", [])})
    if settings.get("trajectories"):
        units["day"] = "day (after the scenario's start date)"
    return units


def _done_chunks(out: Path, manifest: Mapping[str, Any], n_chunks: int, with_traj: bool,
                 log: Callable[[str], None] | None = None) -> set[int]:
    """Chunks whose every part the manifest lists and the file on disk matches; a damaged part's
    chunk is run again, and a part file the manifest does not list is refused."""
    tables = ["samples", "outcomes", *(["trajectories"] if with_traj else [])]
    parts = manifest.get("parts", {})
    done, damaged = set(), []
    for i in range(n_chunks):
        entry = parts.get(str(i))
        if not isinstance(entry, Mapping) or manifest.get("chunk_status", {}).get(str(i)) != "done":
            continue
        if all(table in entry and _part_is_sound(_part(out, table, i), entry[table]) for table in tables):
            done.add(i)
        else:
            damaged.append(i)
    for table in tables:
        expected = {_part(out, table, i) for i in range(n_chunks)}
        stray = sorted(p for p in (out / f"{table}.parquet").glob("part-*.parquet") if p not in expected)
        if stray:
            raise InputError(f"{stray[0]} is not part of the sweep in {out} (no chunk of its design has that "
                             "number); remove it, then run the same command.")
    if damaged and log is not None:
        log(f"{out}: {len(damaged)} chunk(s) with a missing or damaged part ({', '.join(map(str, damaged[:5]))}) "
            "will be run again.")
    return done


def _prepare(out: Path, settings: dict, lock: _Lock | None = None) -> dict:
    """Create the sweep directory, or check that an existing one was made with the same settings;
    with ``lock``, take it first (once the directory exists) so that only one writer goes on."""
    if lock is not None:
        from ..outdir import check_names

        check_names(out)
        if out.exists() and not out.is_dir():
            raise InputError(f"output path {out} exists and is not a directory.")
        made = not out.exists()
        if made:
            from ..outdir import check_target

            check_target(out)
            out.mkdir(parents=True, exist_ok=True)
        lock.acquire()
        try:
            return _prepare(out, settings)
        except BaseException:
            lock.release()
            if made and not any(p for p in out.iterdir()):
                out.rmdir()
            raise
    from ..outdir import check_names, check_target

    check_names(out)
    manifest_path = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise InputError(f"output path {out} exists and is not a directory.")
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
            if not isinstance(old, dict) or not isinstance(old.get("settings", {}), dict):
                raise ValueError("not a JSON object with 'settings'")
        except (OSError, ValueError) as exc:
            raise InputError(f"{manifest_path}: unreadable manifest ({exc}); use a new --out directory.") from None
        if old.get("settings", {}).get("settings_hash") != settings["settings_hash"]:
            diff = [k for k in settings if k != "settings_hash" and old.get("settings", {}).get(k) != settings[k]]
            raise InputError(
                f"{out} holds a sweep made with different settings ({', '.join(diff) or 'unknown'} differ); "
                "refusing to mix results. Use a new --out directory.")
        for tmp in out.glob("*.parquet/.*.tmp-*"):  # left by a killed run
            tmp.unlink(missing_ok=True)
        return old
    if out.exists() and any(p.name != ".lock" for p in out.iterdir()):
        raise InputError(f"{out} exists, is not empty and holds no sweep manifest; use a new --out directory.")
    if not out.exists():
        check_target(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"settings": settings, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "units": units_of(settings)}
    _write_json_atomic(manifest, manifest_path)
    return manifest


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
    lock = _Lock(out)
    manifest = _prepare(out, settings, lock)
    try:
        return _sweep_locked(design, scenarios, out, settings, days, trajectories, every, workers, client, progress,
                             on_chunk, log, manifest)
    finally:
        lock.release()


def _sweep_locked(design: Design, scenarios: Sequence[tuple[str, ParameterSet]], out: Path, settings: dict[str, Any],
                  days: float, trajectories: tuple[str, ...], every: float, workers: int | None, client: Any,
                  progress: bool | None, on_chunk: Callable[[int], None] | None, log: Callable[[str], None] | None,
                  manifest: dict[str, Any]) -> Path:
    done = _done_chunks(out, manifest, design.n_chunks, bool(trajectories), log)
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
    status = {str(i): "done" for i in done}
    parts = {str(i): manifest["parts"][str(i)] for i in done}
    failed = {k: v for k, v in manifest.get("failed_samples", {}).items() if int(k) in done}
    bar = _Progress(design.rows, sum(len(design.chunk_rows(i)) for i in done), design.n_chunks, len(done), progress)

    def record(i: int, tables: Mapping[str, pd.DataFrame]) -> None:
        parts[str(i)] = {table: _write_atomic(tables[table], _part(out, table, i))
                         for table in ("samples", "trajectories", "outcomes") if table in tables}
        status[str(i)] = "done"  # only now, with every part's checksum, does the manifest count the chunk
        n_failed = int((tables["outcomes"]["status"] != "ok").sum())
        if n_failed:
            failed[str(i)] = n_failed
        _write_json_atomic({**manifest, "chunks": design.n_chunks, "chunk_status": status, "parts": parts,
                            "failed_samples": failed,
                            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, out / MANIFEST)
        bar.update(len(design.chunk_rows(i)))
        if on_chunk is not None:
            on_chunk(i)

    try:
        lost = "a worker process died twice on this chunk"
        for i, tables in each_result(run_chunk, tasks, workers, client,
                                     on_lost=lambda task: failed_chunk(task, lost)):
            record(tasks[i].index, tables)
    finally:
        bar.close()
    _write_json_atomic({**manifest, "chunks": design.n_chunks, "chunk_status": status, "parts": parts,
                        "failed_samples": failed, "complete": len(status) == design.n_chunks,
                        "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, out / MANIFEST)
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


# --------------------------------------------------------------------------------------
# Reading a sweep back
# --------------------------------------------------------------------------------------

def read_sweep(out: Path | str, table: str = "outcomes") -> pd.DataFrame:
    """One table of a sweep directory.

    Parameters
    ----------
    out : path
        The sweep directory.
    table : str
        ``samples``, ``outcomes`` or ``trajectories``.

    Returns
    -------
    pandas.DataFrame
        Sorted by sample, scenario (and day). :func:`sanctions_model.open_sweep` gives all
        three with shares, fan charts and xarray.
    """
    out = Path(out)
    if table not in TABLES:
        raise InputError(f"unknown sweep table '{table}'.{suggest(table, TABLES)}")
    path = out / f"{table}.parquet"
    if not path.is_dir() or not any(path.glob("part-*.parquet")):
        raise InputError(f"{path} not found: is {out} a sweep directory, and was '{table}' asked for?")
    frame = pd.concat([pd.read_parquet(p) for p in sweep_parts(out, table)], ignore_index=True)
    keys = [k for k in ("sample_id", "scenario", "day") if k in frame]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)
