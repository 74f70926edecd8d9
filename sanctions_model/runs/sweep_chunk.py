"""What a worker computes for one chunk of a sweep (``sweep.py`` cuts the work and writes the tables):
the chunk's rows rebuilt from the design, evaluated under each scenario, returned as columns of
NumPy arrays. No pandas here: a worker that imports only this, the model and the sampler starts about
0.3 s sooner; the driver makes the tables (``sweep.frames``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .designs import Design, overlay
from .evaluate import evaluate

#: A table's columns, as ``pandas.DataFrame`` takes them (arrays, or one value for every row).
Columns = dict[str, object]


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to compute one chunk: a few kilobytes."""

    design: dict
    index: int
    scenarios: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    days: float
    trajectories: tuple[str, ...] = ()
    every: float = 7.0
    #: The piece of the chunk's rows this task computes (from, to: positions in the chunk); None: all.
    piece: tuple[int, int] | None = None


def task_rows(task: ChunkTask) -> tuple[Design, np.ndarray, np.ndarray]:
    """The task's design, sample ids and sampled values (its piece of the chunk)."""
    design = Design.from_dict(task.design)
    rows = design.chunk_rows(task.index)
    sample_ids = np.arange(rows.start, rows.stop, dtype=np.int64)
    x = design.chunk(task.index)  # the whole chunk's draw (a Latin hypercube is drawn chunk by chunk)
    if task.piece is not None:
        lo, hi = task.piece
        sample_ids, x = sample_ids[lo:hi], x[lo:hi]
    return design, sample_ids, x


def kept_days(task: ChunkTask) -> np.ndarray:
    """The days trajectories are kept at [day]: every ``every`` days from 0 (none without trajectories)."""
    return np.arange(0.0, task.days + 1e-9, task.every) if task.trajectories else np.empty(0)


def sample_columns(design: Design, sample_ids: np.ndarray, x: np.ndarray) -> Columns:
    """The ``samples`` table's columns: ``sample_id``, then each varied parameter."""
    return {"sample_id": sample_ids, **{name: x[:, j] for j, name in enumerate(design.names)}}


def trajectory_columns(sample_ids: np.ndarray, label: str, days: np.ndarray, values: dict[str, np.ndarray]) -> Columns:
    """One scenario's ``trajectories`` columns: a row per sample and kept day; ``values`` name -> (samples, days)."""
    return {"sample_id": np.repeat(sample_ids, days.size), "scenario": label, "day": np.tile(days, sample_ids.size),
            **{name: np.asarray(v).reshape(-1) for name, v in values.items()}}


def compute_chunk(task: ChunkTask) -> dict[str, list[Columns]]:
    """Compute one chunk of a sweep (or a piece of one) under each scenario: each table's columns,
    ``samples`` once and ``outcomes`` (and ``trajectories``) once a scenario, in the scenarios' order."""
    design, sample_ids, x = task_rows(task)
    out: dict[str, list[Columns]] = {"samples": [sample_columns(design, sample_ids, x)], "outcomes": []}
    if task.trajectories:
        out["trajectories"] = []
    kept = kept_days(task)
    for label, base in task.scenarios:
        result = evaluate(overlay(dict(base), design.names, x), task.days, keep=task.trajectories, at=kept)
        out["outcomes"].append({"sample_id": sample_ids, "scenario": label, "status": result.status.astype(str),
                                "message": result.message.astype(str), **result.outcomes})
        if task.trajectories:
            out["trajectories"].append(trajectory_columns(sample_ids, label, result.days, result.trajectories))
    return out
