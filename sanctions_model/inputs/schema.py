"""The shape of parameter and scenario files, as pydantic models.

Every TOML file a user writes is read through these models before anything else looks at
it: an unknown table or key (a typo such as ``[[chnage]]`` or ``valu = 3``), a value of the
wrong type (``value = "0.75"``), or a missing field is refused with the file, the line
and the table, and the nearest valid name. The same models give the JSON Schemas in
``docs/schema/``, which editors that understand TOML (Taplo, "Even Better TOML") can use
to check a file as it is typed.

Values are checked against their parameter's range later, in :mod:`sanctions_model.inputs.params`,
where the ranges are known.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError, suggest

Text = Annotated[str, Field(min_length=1)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParameterEntry(_Strict):
    """One parameter of ``base.toml``: ``[group.name]`` with its value, unit, range and source."""

    value: float = Field(description="Central value, in `unit`")
    unit: Text = Field(description="Unit of value, low and high")
    low: float = Field(description="Lowest plausible value (the range sweeps cover)")
    high: float = Field(description="Highest plausible value")
    source: Text = Field(description="'article: ...', 'data: ITEM, DATE' or 'assumption: ...'")
    description: Text = Field(description="What the parameter is, in plain words")

    _finite_numbers = field_validator("value", "low", "high")(_finite)

    @model_validator(mode="after")
    def _inside_range(self) -> ParameterEntry:
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value:g} is outside its range [{self.low:g}, {self.high:g}]")
        return self


class Group(BaseModel):
    """A ``[group]`` of ``base.toml``: optional header keys, then one table per parameter."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    __pydantic_extra__: dict[str, ParameterEntry] = Field(init=False)

    kind: Literal["lever"] | None = Field(None, description="'lever' for a policy schedule")
    unit: Text | None = Field(None, description="Unit of a lever's level")
    description: Text | None = Field(None, description="What the group or lever is")


class Meta(_Strict):
    """The ``[meta]`` table of ``base.toml``."""

    start_date: dt.date = Field(description="Day 0 of projections")
    rub_per_usd: float | None = Field(None, description="The budget's accounting rate [RUB/US$]; must be the "
                                                        "model's (92)")
    rub_per_usd_source: Text | None = Field(None, description="Where the accounting rate comes from")


class ParameterFile(BaseModel):
    """``base.toml``: ``[meta]`` and the groups of parameters."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True,
                              json_schema_extra={"title": "sanctions-model parameter file"})
    __pydantic_extra__: dict[str, Group] = Field(init=False)

    meta: Meta


class Change(_Strict):
    """A ``[[change]]`` of a scenario: one parameter set to a value, with its reason."""

    parameter: Text = Field(description="GROUP.NAME, as `sanctions-model params` lists them")
    value: float | dt.date = Field(description="A number in the parameter's unit, or a date for a *.start_day")
    why: Text = Field(description="The reason: 'article: ...', 'data: ...' or 'assumption: ...'")
    low: float | None = Field(None, description="Restated range (only in a scenario with its own start_date)")
    high: float | None = Field(None, description="Restated range (only in a scenario with its own start_date)")

    @field_validator("value")
    @classmethod
    def _finite_value(cls, value: float | dt.date) -> float | dt.date:
        return _finite(value) if isinstance(value, float) else value

    @field_validator("low", "high")
    @classmethod
    def _finite_bound(cls, value: float | None) -> float | None:
        return None if value is None else _finite(value)

    @model_validator(mode="after")
    def _both_bounds(self) -> Change:
        if (self.low is None) != (self.high is None):
            raise ValueError("a restated range needs both 'low' and 'high'")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        return self


class Step(_Strict):
    """A ``[[step]]`` of a scenario: a lever's schedule, or a driver's path, moves to a new level."""

    lever: Text | None = Field(None, description="A policy lever (sanctions, us_aid, ...)")
    parameter: Text | None = Field(None, description="A driver that can follow a path (oil.brent_price, ...)")
    day: float | None = Field(None, description="Day the step starts, counted from the start date")
    date: dt.date | None = Field(None, description="Date the step starts")
    level: float = Field(description="Level the step moves to, in the lever's or driver's unit")
    phase_in_days: float = Field(0.0, description="Days over which the step reaches its level (0: a jump)")
    why: Text = Field(description="The reason, or the source")

    _finite_numbers = field_validator("day", "level", "phase_in_days")(
        lambda v: None if v is None else _finite(v))

    @model_validator(mode="after")
    def _one_of_each(self) -> Step:
        if (self.lever is None) == (self.parameter is None):
            raise ValueError("give one of 'lever' (a policy lever) or 'parameter' (a driver)")
        if (self.day is None) == (self.date is None):
            raise ValueError("give one of 'day' or 'date'")
        return self

    @property
    def target(self) -> str:
        return self.lever if self.lever is not None else str(self.parameter)

    @property
    def start(self) -> float | dt.date:
        return self.date if self.date is not None else float(self.day)  # type: ignore[arg-type]


class ScenarioFile(_Strict):
    """A scenario: a title, a description, and its changes and steps, each with its reason."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              json_schema_extra={"title": "sanctions-model scenario file"})

    title: Text = Field(description="A short title")
    description: Text = Field(description="What the scenario assumes, in plain words")
    start_date: dt.date | None = Field(None, description="Only for a scenario that starts on another day "
                                                         "(the history from 2022-02-24)")
    change: list[Change] = Field(default_factory=list, description="Parameters the scenario sets")
    step: list[Step] = Field(default_factory=list, description="Further steps of levers and drivers, in date order")


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a file model (what ``docs/schema/*.json`` hold)."""
    return model.model_json_schema()


# --- reading a file and explaining what is wrong with it ------------------------------------


def read_text(path: Path, what: str) -> str:
    """A file's text as UTF-8, or an InputError that says why not."""
    if not path.is_file():
        raise InputError(f"{what} not found: {path}" if not path.exists() else f"{what} {path} is not a file.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (as some Windows editors write) is not text
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as "
                         "UTF-8.") from None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def key_lines(text: str) -> dict[tuple[object, ...], int]:
    """Line numbers (1-based) of the tables and keys of a TOML text, by location.

    ``[[change]]`` tables are numbered from 0 in order, as pydantic numbers list items, so
    ``("change", 2, "valu")`` is the key ``valu`` of the third ``[[change]]``. Only what a
    hand-written file holds is followed (headers and ``key =`` lines); anything else simply
    has no line.
    """
    lines: dict[tuple[object, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[object, ...] = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
            in_string = not in_string
            if not in_string:
                continue
        if in_string and not _KEY.match(line):
            continue
        header = _HEADER.match(line)
        if header and not in_string:
            parts = tuple(p.strip().strip('"') for p in header.group(2).split("."))
            if header.group(1) == "[[":
                index = counts.get(parts, -1) + 1
                counts[parts] = index
                table = (*parts, index)
            else:
                table = parts
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key and not in_string:
            lines.setdefault((*table, key.group(1).strip('"\'')), number)
    return lines


def _clean(loc: Sequence[object]) -> tuple[object, ...]:
    """A pydantic location without the union member it may end with (``value``'s ``float`` or ``date``)."""
    out = tuple(loc)
    while len(out) >= 2 and isinstance(out[-2], str) and isinstance(out[-1], str) and (
            out[-1] in ("float", "date") or "[" in out[-1]):
        out = out[:-1]
    return out


def _split(loc: tuple[object, ...], model: type[BaseModel], kind: str) -> tuple[tuple[object, ...], str | None]:
    """A location as (the table, the key in it), or (the table, None) for a whole table."""
    if not loc:
        return (), None
    if model is ParameterFile and loc[0] != "meta" and len(loc) == 2:
        whole = kind.startswith("value_error") or kind == "assertion_error"
        return (loc, None) if whole and str(loc[1]) not in Group.model_fields else (loc[:1], str(loc[1]))
    if isinstance(loc[-1], int):
        return loc, None
    return loc[:-1], str(loc[-1])


def _table(parts: tuple[object, ...]) -> str:
    """A table as a TOML file names it: ``[[change]] 3``, ``[oil.brent_price]``, ``the top level``."""
    if not parts:
        return "the top level"
    if isinstance(parts[-1], int):
        return f"[[{'.'.join(map(str, parts[:-1]))}]] {parts[-1] + 1}"
    return f"[{'.'.join(map(str, parts))}]"


def _allowed(model: type[BaseModel], table: tuple[object, ...]) -> list[str]:
    """The keys allowed in ``table``, for a 'did you mean'."""
    current: Any = model
    for item in table:
        if isinstance(item, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(str(item))
        if field is None:  # an extra: a group of parameters, or a parameter of a group
            current = {ParameterFile: Group, Group: ParameterEntry}.get(current)
            continue
        args = getattr(field.annotation, "__args__", ())
        current = next((a for a in (field.annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
                       None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _what(table: tuple[object, ...], key: str | None) -> str:
    if key is None:
        return _table(table)
    return f"'{key}' in {_table(table)}" if table else f"'{key}'"


_WANTED = {"float_type": "a number", "date_type": "a date (2025-03-01)", "string_type": "a string",
           "list_type": "an array of tables ([[...]])", "model_type": "a table", "dict_type": "a table",
           "literal_error": "one of the allowed words", "int_type": "a whole number", "bool_type": "true or false"}


def _message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    kind, got = error["type"], error.get("input")
    table, key = _split(_clean(error["loc"]), model, kind)
    # in a parameter file, a scalar where a parameter's table belongs is a stray key
    stray = model is ParameterFile and kind in ("model_type", "dict_type") and len(table) == 1 and key is not None
    if key is not None and (kind == "extra_forbidden" or stray):
        allowed = _allowed(model, table)
        hint = suggest(key, allowed) if allowed else ""
        listed = f" Allowed: {', '.join(allowed)}." if allowed and not hint else ""
        return f"unknown key '{key}' in {_table(table)}.{hint}{listed}"
    if kind == "missing" and key is not None:
        return f"{_table(table)} lacks '{key}'."
    if kind in _WANTED:
        shown = f"the string {got!r}" if isinstance(got, str) else f"{type(got).__name__} {got!r}"
        wanted = "a number (write it without quotes)" if kind == "float_type" and isinstance(got, str) else \
            _WANTED[kind]
        return f"{_what(table, key)} must be {wanted}, got {shown}."
    text = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{_what(table, key)}: {text}."


def validate(model: type[BaseModel], data: object, path: Path, text: str) -> Any:
    """``model.model_validate(data)``, or an InputError naming the file, the line and the table."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key is also a missing one: name the misspelling, where the fix is
        first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
        loc = _clean(first["loc"])
        lines = key_lines(text)
        candidates = [loc[:k] for k in range(len(loc), 0, -1)]
        line = next((lines[c] for c in [(*loc, 0), *candidates] if c in lines), None)
        more = len({tuple(e["loc"][:2]) for e in errors}) - 1
        extra = f" ({more} more problem{'s' if more > 1 else ''} after it)" if more > 0 else ""
        where = f"{path}, line {line}" if line else str(path)
        raise InputError(f"{where}: {_message(first, model)}{extra}") from None


SCHEMAS: dict[str, type[BaseModel]] = {"scenario.schema.json": ScenarioFile, "parameters.schema.json": ParameterFile}


def schema_text(model: type[BaseModel]) -> str:
    """A file model's JSON Schema as the text of ``docs/schema/*.json``."""
    import json

    return json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # python -m sanctions_model.inputs.schema docs/schema
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, file_model in SCHEMAS.items():
        (folder / file_name).write_text(schema_text(file_model))
        print(f"wrote {folder / file_name}")
