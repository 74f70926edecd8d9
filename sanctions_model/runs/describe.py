"""A run and an ensemble in plain words: the sentences a journalist could quote, outcomes as a
reader says them (a day with its date, a chance in per cent), and shares with their intervals.

One module for every place that describes results, so that a notebook's display of a run and
the reports say the same thing in the same words.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd

from ..core.outcomes import OUTCOMES

if TYPE_CHECKING:
    from .run import RunResult


def _date(start: dt.date, day: float) -> str:
    return (start + dt.timedelta(days=math.floor(day))).isoformat()


def format_outcome(name: str, value: object, start: dt.date) -> str:
    """An outcome as a reader would say it: a day with its date, a probability in per cent, 'yes'/'no', or a
    number."""
    unit = OUTCOMES[name][0]
    if unit == "bool":
        return "yes" if bool(value) else "no"
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "not within the horizon" if unit == "day" else "n/a"
    if unit == "day":
        return f"day {v:.1f} ({_date(start, v)})"
    if unit == "probability":
        return f"{percent(v)}%"
    if unit.startswith("US$"):
        return f"{v:,.1f}"
    if unit.startswith("%"):
        return f"{v:.2f}"
    if unit.startswith("share of"):
        return f"{v:.4f}"
    return f"{v:.3f}"


def outcomes_table(run: RunResult) -> str:
    lines = ["| outcome | value | unit | meaning |", "|---|---|---|---|"]
    for name, (unit, meaning) in OUTCOMES.items():
        value = format_outcome(name, run.outcomes[name], run.params.start_date)
        lines.append(f"| `{name}` | {value} | {'' if unit in ('bool', 'day') else unit} | {meaning} |")
    return "\n".join(lines)


def summary(run: RunResult) -> str:
    """A few sentences a journalist could quote, each tied to the run's assumptions."""
    o, start, horizon = run.outcomes, run.params.start_date, run.days
    end = _date(start, horizon)

    def when(key: str, did: str, didnt: str) -> str:
        v = float(o[key])
        return did.format(day=f"{v:.0f}", date=_date(start, v)) if not math.isnan(v) else didnt

    year = (f", within a year {percent(o['p_ceasefire_1_year'])}%"
            if not math.isnan(o["p_ceasefire_1_year"]) and horizon != 365 else "")  # at 365, the horizon's
    if math.isnan(o["p_talks_100_days"]):  # a horizon short of day 100
        chances = [
            f"The run ends before day 100 (the US envoy's goal). The model gives a {percent(o['p_talks_horizon'])}% "
            f"chance that direct talks start by {end}.",
            f"The chance of a ceasefire agreed by {end} is {percent(o['p_ceasefire_horizon'])}%; a ceasefire agreed "
            f"in that time would hold a year with a chance of {percent(o['p_ceasefire_holds_1_year'])}%."]
    else:
        chances = [
            f"The model gives a {percent(o['p_talks_100_days'])}% chance that direct talks start within the US "
            f"envoy's 100 days, and {percent(o['p_talks_horizon'])}% by {end}.",
            f"The chance of a ceasefire agreed within 100 days is {percent(o['p_ceasefire_100_days'])}%{year}, and "
            f"{percent(o['p_ceasefire_horizon'])}% by {end}; a ceasefire agreed in that time would hold a year with "
            f"a chance of {percent(o['p_ceasefire_holds_1_year'])}%."]
    parts = [
        *chances,
        when("diagnostic_days_to_range_open",
             "The bargaining range opens (a ceasefire both sides prefer to fighting on exists) on day {day} ({date}).",
             f"The bargaining range stays closed to {end}: at the central assumptions no ceasefire is worth more to "
             "both sides than fighting on, and the chances come from outside events (the hazard's floor) and the "
             "uncertainty about each other's resolve."),
        when("days_to_reserves_exhausted",
             "The liquid National Wealth Fund is exhausted on day {day} ({date}).",
             f"The liquid National Wealth Fund holds US${o['reserves_at_horizon']:.1f}bn on {end}."),
        f"Russia holds {100 * o['territory_at_horizon']:.1f}% of Ukraine at the horizon "
        f"({100 * run.params['forces.territory_initial']:.1f}% at the start).",
    ]
    return " ".join(parts)


def wilson_interval(share: float, n: int) -> tuple[float, float]:
    """The 95% Wilson interval (0-1) of a share of ``n`` sampled sets, or of a mean chance over them
    (:func:`sanctions_model.runs.ensemble.wilson_interval` of ``share * n``)."""
    from ..runs.ensemble import wilson_interval as score

    return score(min(max(share, 0.0), 1.0) * n, n)


def percents(*shares: float) -> tuple[str, ...]:
    """Shares 0-1 as percentages under one rule for all of them: one decimal when any is below
    10%, whole points when none is (so a share and its interval bounds are rounded alike)."""
    values = [100 * s for s in shares]
    digits = 1 if any(v < 10 for v in values) else 0
    return tuple(f"{v:.{digits}f}" for v in values)


def share_with_interval(share: float, n: int) -> str:
    """A share of ``n`` sampled sets, or an average chance over them, as a percentage with its 95% Wilson
    interval, e.g. '6.6% (5.2-8.3%)' (for an average of chances the interval is conservative).

    The interval is the sampling error of estimating the share from ``n`` sets (the spread of
    the assumptions themselves is what the share describes). The share and both bounds are
    rounded by one rule (:func:`percents`).
    """
    value, low, high = percents(share, *wilson_interval(share, n))
    return f"{value}% ({low}-{high}%)"


def percent(share: float) -> str:
    """A share 0-1 as a percentage, by the rule of :func:`percents`: one decimal below 10%, else whole;
    but a chance above 0 that would round to 0 is '<0.1', one below 1 that would round to 100 '>99',
    so that a sentence never calls a chance nil or certain that is not, and an undefined one (NaN) 'n/a'."""
    if math.isnan(share):
        return "n/a"
    text = percents(share)[0]
    if 0 < share and float(text) == 0:
        return "<0.1"
    if share < 1 and float(text) == 100:
        return ">99"
    return text


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown pipe table, index first (pandas' own needs the tabulate package)."""
    header = [str(frame.index.name or ""), *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(i), *map(str, row)]) + " |" for i, row in zip(frame.index, frame.to_numpy())]
    return "\n".join(lines)
