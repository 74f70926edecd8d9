"""The sweep directory, and its one owner: the manifest (settings with start dates, units, the
checksum of every part, which chunks are done), the part files' names, atomic writes, the lock
that keeps one writer per directory, and reading the tables back.

A sweep directory holds

- ``manifest.json``: design, seed, scenarios with their parameter hashes and start dates, the
  unit of every column, version, and the status and checksums of every chunk;
- ``samples.parquet/``, ``outcomes.parquet/`` and (when asked) ``trajectories.parquet/``:
  one file per chunk, ``part-NNNNN.parquet``.

A chunk's files are written to a hidden temporary name and renamed into place, outcomes last,
and the manifest counts a chunk only once every part's checksum is in it: a chunk is either
complete or absent, whenever the writer is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.model import FLOWS, STATES
from ..core.outcomes import OUTCOMES
from ..errors import InputError, suggest

MANIFEST = "manifest.json"
TABLES = ("samples", "outcomes", "trajectories")


def part_path(directory: Path, table: str, index: int) -> Path:
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
        path = part_path(out, table, i)
        if not _part_is_sound(path, info):
            raise InputError(f"{path} is missing or damaged (its checksum differs from the manifest's); run the "
                             "sweep's command again to recompute that chunk.")
        listed.append(path)
    foreign = sorted(set((out / f"{table}.parquet").glob("part-*.parquet")) - set(listed))
    if foreign:
        raise InputError(f"{foreign[0]} is not part of the sweep in {out} (its manifest does not list it); "
                         "remove it.")
    return listed


class Lock:
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


def settings_digest(settings: Mapping[str, Any]) -> str:
    """The digest a sweep's settings are recorded with (their ``settings_hash``): of every other setting,
    as JSON with sorted keys. A resumed sweep must match it; a reader checks it, so that settings edited
    after the sweep ran are not read as the ones its numbers were computed under."""
    rest = {key: value for key, value in settings.items() if key != "settings_hash"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


def check_settings(settings: Mapping[str, Any], manifest: Path) -> None:
    """Raise InputError unless ``settings`` (read from ``manifest``) are as the sweep recorded them."""
    try:
        same = settings_digest(settings) == settings.get("settings_hash")
    except (TypeError, ValueError):
        same = False
    if not same:
        raise InputError(f"{manifest}: its settings are not the ones the sweep ran with (they do not match the digest "
                         "recorded with them, settings_hash): edited since? Restore the manifest, or run the sweep "
                         "again into a new directory.")


def units_of(settings: Mapping[str, Any]) -> dict[str, str]:
    """The unit of every column a sweep writes: each outcome, each kept trajectory variable, and ``day``."""
    units = {name: unit for name, (unit, _) in OUTCOMES.items()}
    units.update({var: STATES.get(var, FLOWS.get(var, "")) for var in settings.get("trajectories", [])})
    if settings.get("trajectories"):
        units["day"] = "day (after the scenario's start date)"
    return units


def done_chunks(out: Path, manifest: Mapping[str, Any], n_chunks: int, with_traj: bool,
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
        if all(table in entry and _part_is_sound(part_path(out, table, i), entry[table]) for table in tables):
            done.add(i)
        else:
            damaged.append(i)
    for table in tables:
        expected = {part_path(out, table, i) for i in range(n_chunks)}
        stray = sorted(p for p in (out / f"{table}.parquet").glob("part-*.parquet") if p not in expected)
        if stray:
            raise InputError(f"{stray[0]} is not part of the sweep in {out} (no chunk of its design has that "
                             "number); remove it, then run the same command.")
    if damaged and log is not None:
        log(f"{out}: {len(damaged)} chunk(s) with a missing or damaged part ({', '.join(map(str, damaged[:5]))}) "
            "will be run again.")
    return done


def prepare(out: Path, settings: dict, lock: Lock | None = None) -> dict:
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
            return prepare(out, settings)
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
        check_settings(old["settings"], manifest_path)  # and they are the ones its chunks were computed under
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


class StoreSink:
    """Where a sweep's chunks go as they arrive: each chunk's parts written atomically, then the
    manifest rewritten to count it (with the parts' checksums and its failed samples)."""

    def __init__(self, out: Path, manifest: dict[str, Any], n_chunks: int, done: set[int]) -> None:
        self.out, self.manifest, self.n_chunks = out, manifest, n_chunks
        self.status = {str(i): "done" for i in done}
        self.parts = {str(i): manifest["parts"][str(i)] for i in done}
        self.failed = {k: v for k, v in manifest.get("failed_samples", {}).items() if int(k) in done}

    def record(self, i: int, tables: Mapping[str, pd.DataFrame]) -> None:
        """Write chunk ``i``'s tables, then count it in the manifest."""
        self.parts[str(i)] = {table: _write_atomic(tables[table], part_path(self.out, table, i))
                              for table in ("samples", "trajectories", "outcomes") if table in tables}
        self.status[str(i)] = "done"  # only now, with every part's checksum, does the manifest count the chunk
        n_failed = int((tables["outcomes"]["status"] != "ok").sum())
        if n_failed:
            self.failed[str(i)] = n_failed
        self._write()

    def close(self) -> None:
        """Write the manifest a last time, saying whether every chunk is done."""
        self._write(complete=len(self.status) == self.n_chunks)

    def _write(self, **extra: object) -> None:
        _write_json_atomic({**self.manifest, "chunks": self.n_chunks, "chunk_status": self.status,
                            "parts": self.parts, "failed_samples": self.failed, **extra,
                            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, self.out / MANIFEST)


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
