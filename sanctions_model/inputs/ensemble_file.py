"""The constrained ensemble's file (``params/constrained-ensemble.parquet``): its one writer and reader.

``sanctions-model constrain`` writes it (:func:`write`); projections will load it by default
(issue 16, item 2). One Parquet table, one row per member the record kept:

- ``member`` (its row in the prior design), ``weight`` (normalised to sum to 1), ``likelihood``
  (the chance it gave the recorded events) and ``score`` (its error against the record, in
  tolerances);
- one column per uncertainty drawn, in the parameter's unit;
- ``state.NAME``: every stock on the cut date, in its unit (``core/system.py``), the state a
  projection from that member starts in, and ``reference.strain``, the strain its recruitment is
  anchored to (read on its first day), which the projection keeps.

The file's metadata (key ``sanctions_model``, JSON) says what produced it: ``format`` (this
module's :data:`FORMAT`), the package version and commit, the command, the prior's size, seed
and ranges, the cut date, the acceptance threshold, the counts and the effective size.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.model import STATE_NAMES
from ..errors import InputError

#: The file format's version: a reader refuses a file of another.
FORMAT = 1
KEY = b"sanctions_model"
#: The default file, under params/: the ensemble on the record to 2025-01-20.
DEFAULT_NAME = "constrained-ensemble.parquet"
#: The ensemble on the record to 2024-01-20 only, run on along 2024's recorded levers and drivers
#: against the 2024 figures it was not given: the method's out-of-sample test (the back-test
#: report shows it).
AS_OF_2024_NAME = "constrained-ensemble-as-of-2024-01-20.parquet"
REQUIRED = ("member", "weight", "likelihood", "score")
#: What the metadata must say.
META_KEYS = ("names", "lows", "highs", "as_of", "start_date", "scenario", "prior_members", "accepted",
             "effective_size", "accept", "seed")


@dataclass(frozen=True)
class EnsembleFile:
    """A constrained ensemble's file as read: its members and what produced them."""

    path: Path
    members: pd.DataFrame
    meta: dict[str, Any]

    @property
    def names(self) -> list[str]:
        """The uncertainties drawn, in the prior's order."""
        return list(self.meta["names"])

    @property
    def states(self) -> pd.DataFrame:
        """Every member's stocks on the cut date (columns without the ``state.`` prefix)."""
        cols = [c for c in self.members.columns if c.startswith("state.")]
        return self.members[cols].rename(columns=lambda c: c[len("state."):])


def write(members: pd.DataFrame, meta: dict[str, Any], path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write an ensemble's members and metadata to ``path`` atomically (a temporary file, then a rename).

    Raises
    ------
    InputError
        If ``path`` exists and ``force`` is false, or its folder does not exist.
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path} exists; pass --force to replace it.")
    if not path.parent.is_dir():
        raise InputError(f"{path.parent}: no such folder for the ensemble file.")
    missing = [c for c in REQUIRED if c not in members.columns]
    if missing:
        raise ValueError(f"an ensemble's members need the columns {missing}")
    table = pa.Table.from_pandas(members.reset_index(drop=True), preserve_index=False)
    info = {"format": FORMAT, **meta}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), KEY: json.dumps(info).encode()})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read(path: str | os.PathLike[str]) -> EnsembleFile:
    """Read and check an ensemble file.

    Raises
    ------
    InputError
        If the file is missing, not Parquet, not an ensemble file, of another format, or lacks a
        column its metadata names.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give the ensemble's .parquet file (`sanctions-model constrain "
                         "--out FILE` writes one).")
    if not path.is_file():
        raise InputError(f"{path}: file not found. Write it with `sanctions-model constrain`.")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}).") from None
    raw = (table.schema.metadata or {}).get(KEY)
    if raw is None:
        raise InputError(f"{path}: not a constrained ensemble (no '{KEY.decode()}' metadata). "
                         "Write it with `sanctions-model constrain`.")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise InputError(f"{path}: its '{KEY.decode()}' metadata is not JSON.") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: ensemble file format {meta.get('format')!r}; this version reads format {FORMAT}. "
                         "Rewrite it with `sanctions-model constrain`.")
    absent = [k for k in META_KEYS if k not in meta]
    if absent:
        raise InputError(f"{path}: its metadata lacks {absent}. Rewrite it with `sanctions-model constrain`.")
    members = table.to_pandas()
    states = [f"state.{name}" for name in STATE_NAMES]
    missing = [c for c in (*REQUIRED, *meta["names"], *states, "reference.strain") if c not in members.columns]
    if missing:
        raise InputError(f"{path}: the columns {missing[:5]} are missing.")
    weights = members["weight"].to_numpy(dtype=float)
    if len(members) and (not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0):
        raise InputError(f"{path}: the weights must be finite, non-negative and not all 0.")
    values = members[[*meta["names"], *states, "reference.strain"]].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InputError(f"{path}: a member's value or state is not finite (NaN or infinite).")
    return EnsembleFile(path, members, meta)
