"""The calibration file (``params/calibrated.toml``): its one reader and its one writer.

``sanctions-model calibrate`` writes it (:func:`write`, through tomli-w); ``load_params``
applies it as a layer of parameters and the back-test report describes it, both through
:func:`read`. The file holds:

- ``[fit]``: what produced it (``id``, ``scenario``, ``command``, ``series``, costs,
  ``evaluations``, ``status``, ``message``);
- ``[parameter."NAME"]``: each fitted value with ``applies`` (``""``: every run; a
  scenario's name: only runs of it), ``standard_error``, ``before``, ``low``, ``high``,
  ``unit``, ``at_bound`` and ``fit``;
- ``[start."NAME"]``: the projection's starting ``value`` of a ``stock``: the ``recorded``
  one (``source = "record"``) or the calibrated back-test's state on its last day
  (``source = "back-test"``), with that state (``backtest``), ``unit`` and ``fit``; ``recorded``
  is the value of params/base.toml, the record only where ``source = "record"``.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

HEADER = """\
# Parameters fitted to the record (data/history.csv) by `sanctions-model calibrate`.
# Each value stays inside the range of params/base.toml (or of the historical scenario);
# standard errors are from the Jacobian at the solution. A parameter's `applies` is ""
# for every run, or the name of the only scenario whose runs it applies to. The [start.*]
# tables are the projection's starting state: the record where it exists (source = "record"),
# else the calibrated back-test's state on its last day (source = "back-test"). Their
# `recorded` is the value of params/base.toml: the record where source = "record", the base
# file's assumption where source = "back-test".

"""

#: The keys every table of each kind must have.
PARAMETER_KEYS = ("value", "applies", "standard_error", "before", "low", "high", "unit", "at_bound", "fit")
START_KEYS = ("value", "stock", "backtest", "recorded", "source", "unit", "fit")

_HINT = "rerun `make calibrate`, or pass calibration=False (--uncalibrated) to use the base values"


@dataclass(frozen=True)
class CalibrationFile:
    """A calibration file as read: ``fit``, and one dict per fitted parameter and starting stock."""

    path: Path
    fit: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    start: dict[str, dict[str, Any]]


def read(path: str | os.PathLike[str]) -> CalibrationFile:
    """Read and check a calibration file.

    Raises
    ------
    InputError
        For a missing, non-UTF-8 or malformed file, a table without one of its keys (a file
        written by an older version), or a value that is not a finite number.
    """
    from .schema import read_text

    path = Path(path)
    if not path.exists():
        raise InputError(f"calibration file not found: {path} (run `sanctions-model calibrate --out {path}`, "
                         "or use the base values with --uncalibrated).")
    text = read_text(path, "calibration file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: malformed TOML: {exc}") from None
    try:
        fit = dict(data["fit"])
        fit["id"] = str(fit["id"])
        parameters = {str(name): _table(path, "parameter", name, row, PARAMETER_KEYS)
                      for name, row in data["parameter"].items()}
        start = {str(name): _table(path, "start", name, row, START_KEYS) for name, row in data["start"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a calibration file of this version (missing {exc}); {_HINT}.") from None
    return CalibrationFile(path, fit, parameters, start)


def _table(path: Path, kind: str, name: str, row: object, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise TypeError(f"[{kind}.{name}] as a table")
    value = row["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{path}: parameter '{name}': 'value' must be a finite number, got {value!r}.")
    missing = [key for key in keys if key not in row]
    if missing:
        raise KeyError(f"'{missing[0]}' in [{kind}.\"{name}\"]")
    return dict(row)


def write(path: str | os.PathLike[str], fit: Mapping[str, Any], parameters: Mapping[str, Mapping[str, Any]],
          start: Mapping[str, Mapping[str, Any]], force: bool = False) -> Path:
    """Write a calibration file atomically (replacing one only with ``force``); returns its path.

    The tables are written as given (numbers at full precision) and must read back through
    :func:`read`: a table without one of its keys is refused before anything is written.
    """
    import tomli_w

    from ..outdir import check_file, make_parents

    for kind, tables, keys in (("parameter", parameters, PARAMETER_KEYS), ("start", start, START_KEYS)):
        for name, row in tables.items():
            missing = [key for key in keys if key not in row]
            if missing:
                raise InputError(f"[{kind}.\"{name}\"] lacks {', '.join(missing)}; nothing was written.")
    path = make_parents(check_file(path, force))
    body = tomli_w.dumps({"fit": dict(fit), "parameter": {k: dict(v) for k, v in parameters.items()},
                          "start": {k: dict(v) for k, v in start.items()}})
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(HEADER + body, encoding="utf-8")
    os.replace(tmp, path)
    return path
