"""Recorded history, 2021-2025, for back-testing: a tidy table with units and sources.

``data/history.csv`` holds one row per recorded figure (series, date, period, value, unit),
each citing the row of ``data/figures-to-2025-01-20.csv`` it was read from (``item``,
``item_date``); :func:`load_history` joins each row to that row's source and confidence.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

HISTORY = "history.csv"
FIGURES = "figures-to-2025-01-20.csv"
#: What the ``period`` column may say: the value is a point in time, or an average or
#: total over the year, month, months (from January), quarter (the three months) or twelve
#: months ending at ``date``.
PERIODS = ("point", "year", "month", "months", "quarter", "twelve_months")
COLUMNS = ("series", "date", "period", "value", "unit", "item", "item_date", "note")


def data_dir() -> Path:
    """Folder holding the data files: ``$SANCTIONS_MODEL_DATA``, the clone's ``data/``, or the
    copy inside the installed package (see :mod:`sanctions_model.inputs.resources`)."""
    from .resources import resource_dir

    return resource_dir("data")


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"{path}: file not found.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc}).") from None


def load_history(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The recorded figures the back-test compares the model with.

    Parameters
    ----------
    path : path, optional
        A history CSV of the same shape; default ``data/history.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``series``, ``date`` (datetime; the end of the period for a
        period value), ``period`` (``point``, ``year``, ``month``, ``months``, ``quarter`` or ``twelve_months``),
        ``value`` (float), ``unit``, ``item`` and ``item_date`` (the row of the sourced
        figures it comes from), ``source``, ``confidence`` and ``note``; sorted by series
        and date.

    Raises
    ------
    InputError
        For a missing or malformed file, a value that is not a finite number, a date that
        is not a date, an unknown period, a series with two units, or a row whose cited
        figure is not in ``data/figures-to-2025-01-20.csv``; each message names the line.
    """
    path = Path(path) if path is not None else data_dir() / HISTORY
    raw = _read(path)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}.")
    figures = _read(data_dir() / FIGURES).set_index(["item", "date"])
    values, dates = [], []
    for i, row in raw.iterrows():
        where = f"{path}, line {int(i) + 2}"
        try:
            value = float(row["value"])
        except ValueError:
            raise InputError(f"{where}: value {row['value']!r} is not a number.") from None
        if not np.isfinite(value):
            raise InputError(f"{where}: value {row['value']!r} is not finite.")
        try:
            date = pd.Timestamp(row["date"])
        except ValueError:
            raise InputError(f"{where}: date {row['date']!r} is not a date (YYYY-MM-DD).") from None
        if row["period"] not in PERIODS:
            raise InputError(f"{where}: period {row['period']!r} is not one of {', '.join(PERIODS)}.")
        if (row["item"], row["item_date"]) not in figures.index:
            raise InputError(f"{where}: cites '{row['item']}, {row['item_date']}', which is not a row of {FIGURES}.")
        values.append(value)
        dates.append(date)
    frame = raw.assign(value=values, date=dates)
    units = frame.groupby("series")["unit"].nunique()
    if (units > 1).any():
        raise InputError(f"{path}: series '{units[units > 1].index[0]}' has more than one unit.")
    cited = figures.loc[list(zip(frame["item"], frame["item_date"]))]
    frame["source"] = cited["source"].to_numpy()
    frame["confidence"] = cited["confidence"].to_numpy()
    return frame.sort_values(["series", "date"], kind="stable").reset_index(drop=True)
