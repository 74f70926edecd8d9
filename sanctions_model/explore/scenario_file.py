"""The explorer's settings as a scenario file, in the format of ``params/scenarios/*.toml``.

The file sets every parameter whose value differs from the base file's (the scenario's changes
and the values set on the page), each with its reason, and repeats the scenario's further steps,
so that ``load_params(path)``, ``sanctions-model run --scenario path`` and ``sanctions-model
explore --scenario path`` give the same values as the page.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import tomli_w

from .._version import __version__
from ..inputs.params import ParameterSet


def _why(params: ParameterSet, name: str, filed: float | None) -> str:
    """The reason a parameter differs from the base: set on the page, or the scenario's reason."""
    if name in params.overrides:
        was = f"; {format(filed, 'g')} in the scenario" if filed is not None else ""
        return f"assumption: set in the sanctions-model explorer{was}"
    for scenario in reversed(params.applied):
        for parameter, _, why in scenario.changes:
            if parameter == name:
                return why
    return "assumption"


def _steps(params: ParameterSet) -> list[dict[str, object]]:
    """The scenarios' further steps, as ``[[step]]`` tables."""
    out: list[dict[str, object]] = []
    for scenario in params.applied:
        for step in scenario.steps:
            target = "lever" if f"{step.lever}.level" in params else "parameter"
            start: dict[str, object] = ({"date": step.start} if isinstance(step.start, dt.date)
                                        else {"day": float(step.start)})  # type: ignore[arg-type]
            out.append({target: step.lever, **start, "level": float(step.level),
                        "phase_in_days": float(step.phase_in_days), "why": step.why})
    return out


def scenario_text(params: ParameterSet, scenario: str, filed: ParameterSet | None = None) -> str:
    """The TOML of a scenario file that gives ``params``.

    Parameters
    ----------
    params : ParameterSet
        A scenario with values set over it (``load_params(scenario, overrides)``).
    scenario : str
        The scenario's name or file, for the title and the description.
    filed : ParameterSet, optional
        The scenario with no override, so that a reason can say what a value was.

    Returns
    -------
    str
        A scenario file: a comment naming what wrote it, ``title``, ``description``, a ``[[change]]``
        per parameter that differs from the base file, and the scenarios' ``[[step]]`` tables.
    """
    reference = params.reference_values()
    changes = []
    for name, p in params.parameters.items():
        if name not in reference or math.isclose(p.value, reference[name], rel_tol=0.0, abs_tol=0.0):
            continue  # a further step's parameters are written as the step
        changes.append({"parameter": name, "value": float(p.value),
                        "why": _why(params, name, filed[name] if filed is not None and name in filed else None)})
    label = Path(scenario).stem if scenario.endswith(".toml") else scenario
    title = params.applied[-1].title if params.applied else "Base"
    set_here = ", ".join(f"{k} = {format(float(v), 'g')}" for k, v in params.overrides.items())  # type: ignore[arg-type]
    description = (f"Scenario '{label}' ({title})"
                   + (f" with values set in the explorer: {set_here}." if set_here else ", as filed."))
    data: dict[str, object] = {"title": f"{title}, as set in the explorer" if set_here else title,
                               "description": description, "change": changes}
    steps = _steps(params)
    if steps:
        data["step"] = steps
    head = (f"# Written by the sanctions-model {__version__} explorer (sanctions-model explore), starting from "
            f"scenario '{label}'.\n# Run it with: sanctions-model run --scenario THIS_FILE.toml; open it with: "
            "sanctions-model explore --scenario THIS_FILE.toml\n")
    return head + tomli_w.dumps(data)


def file_name(scenario: str, changed: bool) -> str:
    """The name the page offers the file under: ``hard_way-explorer.toml``, or ``hard_way.toml`` as filed.

    Parameters
    ----------
    scenario : str
    changed : bool
        Whether values were set over the scenario.

    Returns
    -------
    str
    """
    label = Path(scenario).stem if scenario.endswith(".toml") else scenario
    return f"{label}-explorer.toml" if changed else f"{label}.toml"
