"""Load, validate and compose parameter files and scenarios.

Parameters live in ``params/base.toml``; named scenarios in ``params/scenarios/*.toml``
change some of them. A scenario can also be given as a path to a TOML file of the same
shape, so users can write their own. Everything a user passes in is checked here, so that
the model never sees a name it does not know, a value outside its range, or NaN.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, InputWarning, suggest

if TYPE_CHECKING:
    import pandas as pd

    from .schema import Step as StepTable

LEVER_FIELDS = ("initial", "level", "start_day", "phase_in_days")


def params_dir() -> Path:
    """Folder holding ``base.toml``, ``scenarios/`` and ``calibrated.toml``.

    ``$SANCTIONS_MODEL_PARAMS`` if set, else the clone's ``params/``, else the copy inside the
    installed package (see :mod:`sanctions_model.inputs.resources`).
    """
    from .resources import resource_dir

    return resource_dir("params")


@dataclass(frozen=True)
class Parameter:
    """One parameter: its value, unit, plausible range and source."""

    name: str
    value: float
    unit: str
    low: float
    high: float
    source: str
    description: str
    group: str

    @property
    def is_assumption(self) -> bool:
        return self.source.lower().startswith("assumption")


@dataclass(frozen=True)
class Step:
    """A further step of a lever's schedule, or of a driver's path: from the level before it
    to ``level``. ``lever`` names the lever or the driver parameter."""

    lever: str
    start: object  # a day [day after the start] or a date
    level: float
    phase_in_days: float
    why: str


@dataclass(frozen=True)
class Scenario:
    """A named set of changes to the base parameters, each with its reason, and any further
    steps of the levers' schedules."""

    name: str
    title: str
    description: str
    changes: tuple[tuple[str, float, str], ...]
    path: Path
    steps: tuple[Step, ...] = ()
    start_date: dt.date | None = None
    ranges: Mapping[str, tuple[float, float, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ParameterSet:
    """All parameters of one run, after scenarios and overrides are applied.

    Behaves as a read-only mapping from name to value; ``.parameters`` holds the full
    records (unit, range, source), ``.scenarios`` the scenarios applied in order and
    ``.overrides`` the values set by hand.
    """

    parameters: Mapping[str, Parameter]
    meta: Mapping[str, object]
    levers: Mapping[str, Mapping[str, str]]
    scenarios: tuple[str, ...] = ()
    overrides: Mapping[str, object] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    #: The scenarios applied, as read (title, description, changes with their reasons), so that
    #: displays and reports describe them without opening their files again.
    applied: tuple[Scenario, ...] = ()
    #: The values this set is measured against (the base file with the same calibration, before
    #: scenarios and overrides), kept when the set is loaded; see :meth:`reference_values`.
    reference: Mapping[str, float] | None = None

    def __getitem__(self, name: str) -> float:
        return self.parameters[name].value

    def __contains__(self, name: object) -> bool:
        return name in self.parameters

    def __iter__(self) -> Iterator[str]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def start_date(self) -> dt.date:
        return self.meta["start_date"]  # type: ignore[return-value]

    def reference_values(self) -> dict[str, float]:
        """What this set is measured against in displays and reports: the base file with the same
        calibration, before any scenario or override.

        Returns
        -------
        dict
            Name to value (a scenario's further steps are absent: they are new parameters).
        """
        if self.reference is not None:
            return dict(self.reference)
        return reference_params(self).values()  # a set not made by load_params

    def title(self) -> str:
        """The title of the one scenario applied, else the scenarios joined with '+' (or 'base').

        Returns
        -------
        str
        """
        if len(self.applied) == 1:
            return self.applied[0].title
        return "+".join(self.scenarios) or "base"

    def values(self) -> dict[str, float]:
        """Every parameter's value.

        Returns
        -------
        dict
            Name to value (in the parameter's unit), in file order.
        """
        return {n: p.value for n, p in self.parameters.items()}

    def with_values(self, values: Mapping[str, object], origin: str = "override") -> ParameterSet:
        """A copy with some values changed.

        Parameters
        ----------
        values : dict
            Name to new value, each checked against its parameter's range.
        origin : str
            How error messages name where the values came from.

        Returns
        -------
        ParameterSet
        """
        params = dict(self.parameters)
        for name, raw in values.items():
            spec = self._spec(name, origin)
            params[name] = replace(spec, value=check_value(spec, raw, origin, self.start_date))
        return replace(self, parameters=params)

    def _spec(self, name: str, origin: str) -> Parameter:
        if not isinstance(name, str) or name not in self.parameters:
            raise InputError(
                f"{origin}: unknown parameter '{name}'.{suggest(str(name), self.parameters)}"
                " Run 'sanctions-model params' to list them."
            )
        return self.parameters[name]

    def to_frame(self) -> pd.DataFrame:
        """Every parameter as a table.

        Returns
        -------
        pandas.DataFrame
            Indexed by name: ``value``, ``unit``, ``low``, ``high``, ``source``,
            ``description``, ``group``.
        """
        import pandas as pd  # imported where a table is made: a worker reads parameters without it

        rows = [
            {"name": p.name, "value": p.value, "unit": p.unit, "low": p.low, "high": p.high,
             "source": p.source, "description": p.description, "group": p.group}
            for p in self.parameters.values()
        ]
        return pd.DataFrame(rows).set_index("name")

    def __repr__(self) -> str:
        scenarios = ", ".join(self.scenarios) or "(none)"
        cal = self.meta.get("calibration")
        return (f"<ParameterSet: {len(self.parameters)} parameters, scenarios: {scenarios}, "
                f"overrides: {len(self.overrides)}, start {self.start_date}, hash {self.digest()}"
                + (f", calibrated ({cal})" if cal else "") + "; .to_frame() has every value>")

    def _repr_html_(self) -> str:
        from html import escape

        base = self.reference_values()
        changed = [n for n in self.parameters if n not in base or self.parameters[n].value != base[n]]
        head = (f"<p><b>ParameterSet</b>: {len(self.parameters)} parameters, scenarios: "
                f"{escape(', '.join(self.scenarios) or '(none)')}, hash {self.digest()}; "
                f"{len(changed)} differ from the base</p>")
        frame = self.to_frame().loc[changed] if changed else self.to_frame().head(10)
        note = "" if changed else f"<p>(first 10 of {len(self.parameters)}; <code>.to_frame()</code> has all)</p>"
        return head + frame[["value", "unit", "low", "high", "description"]].to_html() + note

    def digest(self) -> str:
        """Short hash of every parameter's name and value (what a run's numbers depend on).

        Returns
        -------
        str
            12 hexadecimal digits of SHA-256.
        """
        h = hashlib.sha256()
        for name, p in sorted(self.parameters.items()):
            h.update(f"{name}={p.value!r};".encode())
        return h.hexdigest()[:12]


#: Units whose values are shares or indices: nothing can put them outside [0, 1].
SHARE_UNITS = frozenset({"share 0-1", "index 0-1", "share of Ukraine", "share of export value",
                         "share of held territory", "share of capacity lost"})
#: The longest horizon, and so the latest day a schedule can name [day].
MAX_DAY = 3650.0


def hard_bounds(spec: Parameter) -> tuple[float, float]:
    """What no scenario, ``--vary`` or restated range may go beyond: every quantity of the model
    is non-negative (a price, a stock, a rate, a coefficient whose sign the equations fix), a
    share or an index is at most 1, a day at most :data:`MAX_DAY`."""
    if spec.unit in SHARE_UNITS:
        return 0.0, 1.0
    if spec.unit == "day":
        return 0.0, MAX_DAY
    return 0.0, math.inf


def check_range(spec: Parameter, low: float, high: float, origin: str) -> None:
    """Raise InputError unless ``[low, high]`` is a finite range within ``spec``'s hard bounds."""
    lo, hi = hard_bounds(spec)
    where = f"{origin}: parameter '{spec.name}'"
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(f"{where}: the range must be finite numbers, got {low}:{high}.")
    if low > high:
        raise InputError(f"{where}: LOW {low:g} is above HIGH {high:g}.")
    if low < lo or high > hi:
        raise InputError(f"{where}: the range [{low:g}, {high:g}] goes beyond what the quantity allows "
                         f"([{lo:g}, {hi:g}] {spec.unit}).")


def check_value(spec: Parameter, raw: object, origin: str, start: dt.date | None = None) -> float:
    """Turn ``raw`` into a float inside ``[spec.low, spec.high]``, or raise InputError.

    Strings are parsed as numbers; for a ``*.start_day`` an ISO date (``2025-03-01``) is
    accepted too and turned into days after the projection start.
    """
    where = f"{origin}: parameter '{spec.name}'"
    if isinstance(raw, bool):
        raise InputError(f"{where} must be a number, got {raw!r} (a boolean).")
    value: float
    if isinstance(raw, (dt.date, dt.datetime)) or (isinstance(raw, str) and _looks_like_date(raw)):
        if not spec.name.endswith("start_day") or start is None:
            raise InputError(f"{where} must be a number, got the date {raw!s}.")
        day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        if isinstance(day, dt.datetime):
            day = day.date()
        value = float((day - start).days)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise InputError(f"{where} must be a number, got {raw!r}.") from None
    elif isinstance(raw, (int, float)):
        value = float(raw)
    else:
        try:
            value = float(raw)  # type: ignore[arg-type]  # numbers, numpy scalars, numeric strings
        except (TypeError, ValueError):
            raise InputError(f"{where} must be a number, got {type(raw).__name__} {raw!r}.") from None
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{where} must be a finite number, got {value}.")
    if not spec.low <= value <= spec.high:
        if start is not None and isinstance(raw, (dt.date, str)) and _looks_like_date(str(raw)):
            given, after = f"{raw!s} (day {value:g})", f" (days after {start.isoformat()})"
        else:
            # to the last digit that matters: 1.0000001 is not shown as 1 beside a range that ends at 1
            given, after = f"{value:g}" if float(f"{value:g}") == value else repr(float(value)), ""
        raise InputError(f"{where} = {given} is outside its range [{spec.low:g}, {spec.high:g}] {spec.unit}{after}.")
    return value


def format_value(value: object) -> str:
    """A value as a scenario file writes it: a number in short form, a date as 2025-03-01."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _looks_like_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _read_toml(path: Path, what: str) -> dict:
    return _read_toml_text(path, what)[0]


def _read_toml_text(path: Path, what: str) -> tuple[dict, str]:
    """A TOML file's data and its text (for line numbers in messages)."""
    from .schema import read_text

    text = read_text(path, what)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: malformed TOML: {exc}") from None


def load_base(path: Path | str | None = None) -> ParameterSet:
    """Read and validate the base parameter file (default ``params/base.toml``).

    The file's shape is checked by :class:`sanctions_model.inputs.schema.ParameterFile`: an unknown
    key, a wrong type, a missing field or a value outside its range is refused with the
    file and line.
    """
    from .schema import ParameterFile, validate

    path = Path(path) if path is not None else params_dir() / "base.toml"
    data, text = _read_toml_text(path, "parameter file")
    model = validate(ParameterFile, data, path, text)
    meta = model.meta.model_dump(exclude_none=True)
    from ..core.model import ACCOUNTING_RUB_PER_USD

    if meta.get("rub_per_usd", ACCOUNTING_RUB_PER_USD) != ACCOUNTING_RUB_PER_USD:
        raise InputError(f"{path}: [meta] rub_per_usd = {meta['rub_per_usd']!r}, but the model keeps its budget at "
                         f"{ACCOUNTING_RUB_PER_USD:g} RUB/$ (model.ACCOUNTING_RUB_PER_USD); the day's rate is the "
                         "parameter macro.rub_per_usd.")
    params: dict[str, Parameter] = {}
    levers: dict[str, dict[str, str]] = {}
    for group, table in (model.model_extra or {}).items():
        for key, entry in (table.model_extra or {}).items():
            name = f"{group}.{key}"
            params[name] = Parameter(name, entry.value, entry.unit, entry.low, entry.high, entry.source,
                                     entry.description, group)
        if table.kind == "lever":
            missing = [f for f in LEVER_FIELDS if f"{group}.{f}" not in params]
            if missing:
                raise InputError(f"{path}: lever '{group}' lacks {', '.join(missing)}.")
            levers[group] = {"unit": table.unit or "", "description": table.description or ""}
    return ParameterSet(params, meta, levers, files=(path,))


def scenario_names(directory: Path | None = None, *, dated: bool = False) -> list[str]:
    """Names of the scenarios in ``params/scenarios/``: ``status_quo`` first, then by name.

    Scenarios with their own ``start_date`` (the historical path of the back-test) are
    projections from another day, and are listed only with ``dated=True``.
    """
    directory = directory or params_dir() / "scenarios"
    if not directory.is_dir():
        raise InputError(f"{directory}: no scenarios folder (each scenario is a TOML file there; "
                         "params/scenarios/ in the project has the named ones).")
    names = []
    for path in directory.glob("*.toml"):
        try:
            own_start = "start_date" in _read_toml(path, "scenario file")
        except InputError:
            own_start = False  # a broken file is listed, so that loading it reports the error
        if own_start == dated:
            names.append(path.stem)
    return sorted(names, key=lambda n: (n != "status_quo", n))


def load_scenario(name_or_path: str | Path, base: ParameterSet | None = None) -> Scenario:
    """Read a scenario by name (``hard_way``) or by path to a TOML file, and check it."""
    text = str(name_or_path)
    if text.endswith(".toml") or os.sep in text:
        path = Path(text)
        if not path.is_file():
            raise InputError(f"scenario file not found: {path}")
    else:
        path = params_dir() / "scenarios" / f"{text}.toml"
        if not path.is_file():
            names, dated = scenario_names(), scenario_names(dated=True)
            also = f"; from their own start dates (the back-test's): {', '.join(dated)}" if dated else ""
            raise InputError(f"unknown scenario '{text}'.{suggest(text, names + dated)} "
                             f"Known scenarios: {', '.join(names)}{also}.")
    from .schema import ScenarioFile, validate

    data, text = _read_toml_text(path, "scenario file")
    model = validate(ScenarioFile, data, path, text)
    changes, ranges = [], {}
    seen: dict[str, int] = {}
    for i, ch in enumerate(model.change, 1):
        if ch.parameter in seen:  # the last would win silently, and the report would list both reasons
            raise InputError(f"{path}: [[change]] {i} sets '{ch.parameter}' again ([[change]] {seen[ch.parameter]} "
                             "sets it already); give each parameter once.")
        seen[ch.parameter] = i
        changes.append((ch.parameter, ch.value, ch.why))
        if ch.low is not None and ch.high is not None:
            if model.start_date is None:
                raise InputError(f"{path}: [[change]] {i} restates the range of '{ch.parameter}'; only a scenario "
                                 "with its own start_date (a different starting state) may do that.")
            ranges[ch.parameter] = (ch.low, ch.high, ch.why)
    steps = _steps(path, model.step)
    scenario = Scenario(path.stem, model.title, model.description, tuple(changes), path, steps, model.start_date,
                        ranges)
    if base is not None:  # validate names and ranges now, with the file in the message
        apply_scenarios(base, [scenario])
    return scenario


def _steps(path: Path, raw: Sequence[StepTable]) -> tuple[Step, ...]:
    """The ``[[step]]`` tables of a scenario file, checked for names (values are checked later)."""
    from ..core.schedules import DRIVERS, LEVERS

    out = []
    for i, st in enumerate(raw, 1):
        lever, parameter = st.lever, st.parameter
        if lever is not None and lever not in LEVERS:
            raise InputError(f"{path}: [[step]] {i}: unknown lever '{lever}'.{suggest(str(lever), LEVERS)}"
                             f" Levers: {', '.join(LEVERS)}.")
        if parameter is not None and parameter not in DRIVERS:
            raise InputError(f"{path}: [[step]] {i}: '{parameter}' cannot follow a path.{suggest(parameter, DRIVERS)}"
                             f" The parameters that can are {', '.join(DRIVERS)}.")
        out.append(Step(st.target, st.start, st.level, st.phase_in_days, st.why))
    return tuple(out)


def _add_step(params: ParameterSet, step: Step, origin: str) -> ParameterSet:
    """``params`` with ``step`` appended to its lever's schedule as parameters ``L.stepk.*``."""
    from ..core.schedules import steps

    lever = step.lever
    prefix = f"{lever}.step{len(steps(params, lever)) + 1}"
    level = params.parameters.get(f"{lever}.level") or params.parameters[lever]  # a lever, or a driver
    # a lever's step stays within the lever's range; a driver's path is recorded or scenario
    # data (a month's sale of the fund, a collapse of the rouble), bounded only by what the
    # quantity allows, not by the range its constant value is sampled over
    low, high = (level.low, level.high) if f"{lever}.level" in params.parameters else hard_bounds(level)
    note = f"{origin}: {step.why}"
    specs = {
        "start_day": Parameter(f"{prefix}.start_day", 0.0, "day", 0.0, 3650.0, note,
                               f"Day the {lever} schedule's next step starts", lever),
        "level": Parameter(f"{prefix}.level", level.value, level.unit, low, high, note,
                           f"Level the {lever} schedule's next step moves to", lever),
        "phase_in_days": Parameter(f"{prefix}.phase_in_days", 0.0, "day", 0.0, 3650.0, note,
                                   "Days over which that step reaches its level", lever),
    }
    where = f"{origin}, step of '{lever}'"
    if isinstance(step.start, dt.date) and step.start < params.start_date:
        raise InputError(f"{where}: starts on {step.start.isoformat()}, before the start date "
                         f"{params.start_date.isoformat()}.")
    values = {
        "start_day": check_value(specs["start_day"], step.start, where, params.start_date),
        "level": check_value(specs["level"], step.level, where),
        "phase_in_days": check_value(specs["phase_in_days"], step.phase_in_days, where),
    }
    earlier = steps(params, lever)
    before = params[f"{earlier[-1]}.start_day"] if earlier else params.parameters.get(f"{lever}.start_day", specs[
        "start_day"]).value
    if values["start_day"] < before:
        raise InputError(f"{where}: starts on day {values['start_day']:g}, before the step before it "
                         f"(day {before:g}); list a lever's steps in date order.")
    parameters = dict(params.parameters)
    for key, spec in specs.items():
        parameters[spec.name] = replace(spec, value=values[key])
    return replace(params, parameters=parameters)


#: The notes :func:`_warn_kept_starting_values` has given in this process (each is given once).
_NOTED: set[tuple[object, ...]] = set()


def _warn_kept_starting_values(params: ParameterSet, base_start: dt.date) -> None:
    """Warn when ``params`` starts on another day than the base file but keeps some of the base file's
    starting values (the parameters ``core.system.STOCKS`` starts from), which describe the base file's day.
    A value a scenario or an override restates is not kept. Each note is given once a process."""
    import re
    import warnings

    from ..core.system import STOCKS

    if params.start_date == base_start:
        return
    restated = {name for sc in params.applied for name, _, _ in sc.changes} | set(params.overrides)
    starting = [name for stock in STOCKS for name in re.findall(r"\b[a-z_]+\.[a-z_]*(?:initial|_share)\b",
                                                                 stock.initial)]
    kept = [name for name in starting if name in params and name not in restated]
    files = tuple(str(sc.path) for sc in params.applied if sc.start_date is not None)
    if kept and (files, tuple(kept)) not in _NOTED:
        _NOTED.add((files, tuple(kept)))
        warnings.warn(InputWarning(
            f"{', '.join(files) or 'the scenario'}: the run starts on {params.start_date.isoformat()} but keeps the "
            f"base file's starting values, which describe {base_start.isoformat()}, for {', '.join(kept)}; restate "
            "each with a [[change]] (params/scenarios/history_2022_2025.toml restates them all)."), stacklevel=3)


def _restate(params: ParameterSet, scenario: Scenario, origin: str) -> ParameterSet:
    """A scenario with its own start date: days count from it, and the ranges it restates apply."""
    parameters = dict(params.parameters)
    for name, (low, high, why) in scenario.ranges.items():
        if name not in parameters:
            raise InputError(f"{origin}: unknown parameter '{name}'.{suggest(name, parameters)}")
        check_range(parameters[name], low, high, origin)
        parameters[name] = replace(parameters[name], low=low, high=high, source=f"{origin}: {why}")
    return replace(params, parameters=parameters, meta={**params.meta, "start_date": scenario.start_date})


def apply_scenarios(base: ParameterSet, scenarios: Sequence[Scenario]) -> ParameterSet:
    """Apply scenarios in order: a later scenario's change wins over an earlier one's, and a
    scenario's steps are appended to its levers' schedules."""
    out = base
    for sc in scenarios:
        origin = f"scenario '{sc.name}' ({sc.path})"
        if sc.start_date is not None:
            out = _restate(out, sc, origin)
        out = out.with_values({p: v for p, v, _ in sc.changes}, origin=origin)
        for step in sc.steps:
            out = _add_step(out, step, origin)
        out = replace(out, scenarios=out.scenarios + (sc.name,), files=out.files + (sc.path,),
                      applied=out.applied + (sc,))
    return out


def load_params(
    scenario: str | Path | Iterable[str | Path] | None = None,
    overrides: Mapping[str, object] | None = None,
    base: Path | str | None = None,
    origin: str = "override",
    calibration: bool | str | Path = False,
) -> ParameterSet:
    """The parameters of a run: base, its calibration, then each scenario in order, then ``overrides``.

    Parameters
    ----------
    scenario : str, path or list of them, optional
        Scenario names (see :func:`list_scenarios`) or paths to scenario TOML files.
    overrides : dict, optional
        ``{"sanctions.level": 0.7, ...}``; each value is checked against its range.
    base : path, optional
        Another base parameter file.
    origin : str
        How error messages name the overrides (the CLI says ``--set``).
    calibration : bool or path
        ``False`` (the default) keeps the base file's values and its starting state (the record
        on 2025-01-20 where there is one, else a stated assumption with a range). ``True``
        applies the single-point calibration ``params/calibrated.toml`` to the project's own
        base, a diagnostic since the constrained ensemble replaced it as the default path
        (``docs/ensembles.md``): the fitted values, and the projection's starting state (the
        record on 2025-01-20 where it exists, else the calibrated back-test's state; see
        :func:`apply_calibration`); a path applies that file.

    Returns
    -------
    ParameterSet

    Raises
    ------
    InputError
        For a missing or malformed file, an unknown scenario or parameter (with the nearest
        valid name), or a value that is not a finite number inside its range.
    """
    params = load_base(base)
    base_start = params.start_date
    if calibration is True:
        calibration = params_dir() / "calibrated.toml" if base is None else False
    if isinstance(calibration, bool):
        layer = None
    elif isinstance(calibration, (str, Path)):
        layer = read_calibration(Path(calibration))
    else:
        raise InputError(f"calibration must be True, False or a path, got {type(calibration).__name__}.")
    if layer is not None:
        params = apply_calibration(params, layer, stage="base")
    if scenario is None:
        names: list[str | Path] = []
    elif isinstance(scenario, (str, Path)):
        names = [scenario]
    elif isinstance(scenario, Iterable) and not isinstance(scenario, Mapping):
        names = list(scenario)
    else:
        raise InputError(f"scenario must be a name, a path or a list of them, got {type(scenario).__name__} "
                         f"{scenario!r}.")
    for item in names:
        if not isinstance(item, (str, Path)):
            raise InputError(f"scenario must be a name or a path, got {type(item).__name__} {item!r}.")
    plain = apply_calibration(params, layer, stage="scenario") if layer is not None else params
    reference = plain.values()  # what load_params(calibration=the same) gives without scenarios
    params = apply_scenarios(params, [load_scenario(n) for n in names])
    if layer is not None:
        params = apply_calibration(params, layer, stage="scenario")
    params = replace(params, reference=reference)
    if overrides:
        if not isinstance(overrides, Mapping):
            raise InputError(f"overrides must be a dict of name to value, got {type(overrides).__name__}.")
        params = params.with_values(overrides, origin=origin)
        params = replace(params, overrides=dict(overrides))
    _warn_kept_starting_values(params, base_start)
    return params


def reference_params(params: ParameterSet) -> ParameterSet:
    """What ``params`` is measured against in displays and reports: the base file, with the same
    calibration as ``params`` (none if it has none)."""
    file = params.meta.get("calibration_file")
    return load_params(calibration=Path(str(file)) if file else False)


@dataclass(frozen=True)
class CalibrationLayer:
    """What ``params/calibrated.toml`` sets: fitted values and the projection's starting state.

    ``fitted`` maps a parameter to (value, the scenario it applies to, or ``""`` for every
    run); ``start`` maps a starting parameter to (value, stock, the calibrated back-test's
    state on the projection's start date, ``"record"`` or ``"back-test"``: where the value
    comes from).
    """

    path: Path
    fit_id: str
    fitted: Mapping[str, tuple[float, str]]
    start: Mapping[str, tuple[float, str, float, str]]


def read_calibration(path: Path) -> CalibrationLayer:
    """Read a calibration file (:mod:`sanctions_model.inputs.calibration_file`) as a layer of parameters.

    Raises
    ------
    InputError
        For a missing or malformed file, or one written before starting states were part of it.
    """
    from . import calibration_file

    file = calibration_file.read(path)
    fitted = {name: (float(row["value"]), str(row["applies"])) for name, row in file.parameters.items()}
    start = {name: (float(row["value"]), str(row["stock"]), float(row["backtest"]), str(row["source"]))
             for name, row in file.start.items()}
    fit_id = file.fit["id"]
    return CalibrationLayer(path, fit_id, fitted, start)


def apply_calibration(params: ParameterSet, layer: CalibrationLayer, stage: str) -> ParameterSet:
    """Set the values of a calibration layer.

    At ``stage="base"`` (before any scenario): the fitted values meant for every run, and the
    starting state (each starting parameter's range widened, if need be, to take in both the
    recorded value and the back-test's state). At ``stage="scenario"`` (after the
    scenarios): the fitted values of parameters a scenario restates, if that scenario is
    loaded. Each value set keeps its unit; its source names the fit.
    """
    out = dict(params.parameters)

    def fitted(name: str, value: float) -> None:
        spec = out[name]
        out[name] = replace(spec, value=min(max(value, spec.low), spec.high),
                            source=f"calibrated ({layer.fit_id}); before: {spec.value:g}, {spec.source}")

    applied = False
    for name, (value, applies) in layer.fitted.items():
        # "" applies to every run (at the base stage); a scenario's name, after that scenario
        wanted = applies == "" if stage == "base" else bool(applies) and applies in params.scenarios
        if wanted and name in out:
            fitted(name, value)
            applied = True
    if stage == "base":
        for name, (value, stock, backtest, origin) in layer.start.items():
            if name in out:
                spec = out[name]
                low, high = min(spec.low, value, backtest), max(spec.high, value, backtest)
                if origin == "record":
                    source = (f"the record, {spec.source}; the calibrated back-test's {stock} on "
                              f"{params.start_date} was {backtest:g} ({layer.fit_id}), which the range takes in")
                else:
                    source = (f"the calibrated back-test's {stock} on {params.start_date} ({layer.fit_id}); "
                              f"recorded: {spec.value:g}, {spec.source}")
                out[name] = replace(spec, value=value, low=low, high=high, source=source)
                applied = True
    if not applied:
        return params
    meta = {**params.meta, "calibration": layer.fit_id, "calibration_file": str(layer.path)}
    return replace(params, parameters=out, meta=meta)


def check_labelled(items: object, who: str) -> list[tuple[str, ParameterSet]]:
    """``items`` as a list of ``(label, ParameterSet)`` pairs with distinct labels (a pair may be a
    list), or InputError naming ``who`` and what is wrong, before any work. A scenario name is a
    pair's place only where the caller has loaded it first."""
    shape = "a list of (label, ParameterSet) pairs, e.g. [('base', sm.load_params())]"
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence) or not items:
        raise InputError(f"{who}: scenarios must be {shape}; got {items!r}.")
    if len(items) == 2 and isinstance(items[0], str) and isinstance(items[1], ParameterSet):
        raise InputError(f"{who}: scenarios must be {shape}; got one pair without the list around it.")
    for pair in items:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str) and pair[0]
                and isinstance(pair[1], ParameterSet)):
            raise InputError(f"{who}: scenarios must be {shape}; got {pair!r} among them"
                             + (" (load it with sm.load_params(name))" if isinstance(pair, str) else "") + ".")
    pairs = [(label, params) for label, params in items]
    labels = [label for label, _ in pairs]
    if len(set(labels)) < len(labels):
        raise InputError(f"{who}: each scenario once, each with its own label; got {labels}.")
    return pairs


def list_scenarios() -> pd.DataFrame:
    """Every scenario in ``params/scenarios``.

    Returns
    -------
    pandas.DataFrame
        Indexed by scenario (``status_quo`` first): ``title``, ``description`` and
        ``changes`` (the parameters it sets).
    """
    import pandas as pd

    rows = []
    for name in scenario_names():
        sc = load_scenario(name)
        rows.append({"scenario": name, "title": sc.title, "description": sc.description,
                     "changes": ", ".join(f"{p}={format_value(v)}" for p, v, _ in sc.changes) or "(none)"})
    return pd.DataFrame(rows, columns=["scenario", "title", "description", "changes"]).set_index("scenario")
