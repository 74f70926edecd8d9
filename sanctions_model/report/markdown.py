"""Markdown reports: plain words first, then tables, figures, assumptions and provenance."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import cast

import pandas as pd

from ..analysis.projection import SEED
from ..core.outcomes import OUTCOMES
from ..inputs.params import ParameterSet, Scenario, format_value
from ..provenance import combined_digest, record
from ..runs.describe import (
    format_outcome,
    outcomes_table,
    percents,
    share_with_interval,
    summary,
    wilson_interval,
)
from ..runs.run import RunResult
from .projection import distinct

CAVEAT = (
    "These are what the model computes under the stated assumptions, not forecasts. The chances "
    "come from a small bargaining model whose base rates are sourced (how often long wars end, how "
    "often ceasefires fail) but whose prices of costs, aims and terms are assumptions (marked as such "
    "in `params/base.toml`), each with a range that sweeps explore."
)


def calibration_note(params: ParameterSet) -> str:
    """Which calibration a run's parameters carry, for provenance tables."""
    cal = params.meta.get("calibration")
    return f"{params.meta.get('calibration_file', 'params/calibrated.toml')} ({cal})" if cal else \
        "none (the base file's values)"


def provenance(items: Mapping[str, object], command: str, written: Sequence[str | os.PathLike[str]] = ()) -> str:
    """The provenance section: :func:`~sanctions_model.provenance.record` as a table."""
    rows = record(items, command, written)
    lines = ["## Provenance", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return "\n".join(lines)


def assumptions(run: RunResult) -> str:
    """The scenarios applied (with every change and its reason), overrides, and changed parameters."""
    lines = ["## Assumptions", ""]
    if not run.params.scenarios:
        lines.append("No scenario: the base parameters of `params/base.toml` (the world of 2025-01-20).")
    if run.params.meta.get("calibration"):
        lines += ["", f"Calibrated: `{run.params.meta.get('calibration_file', 'params/calibrated.toml')}` "
                  f"({run.params.meta['calibration']}), the single-point calibration (a diagnostic), sets the fitted "
                  "values and the starting state (the record on 2025-01-20 where it exists, else the calibrated "
                  "back-test's state that day; see `reports/backtest/`).", ""]
    for sc in run.params.applied:
        lines += [f"**Scenario `{sc.name}`: {sc.title}.** {sc.description}", "", *scenario_lines(sc), ""]
    if run.params.overrides:
        lines += ["**Set by hand:** " + ", ".join(f"`{k}` = {v}" for k, v in run.params.overrides.items()), ""]
    base = run.params.reference_values()
    changed = [n for n in run.params if n not in base or run.params[n] != base[n]]
    if changed:
        lines += ["Parameters that differ from the base (a scenario's further steps are new parameters, "
                  "`LEVER.stepK.*`):", "", "| parameter | base | this run | unit |", "|---|---|---|---|"]
        lines += [f"| `{n}` | {f'{base[n]:g}' if n in base else '(new)'} | {run.params[n]:g} | "
                  f"{run.params.parameters[n].unit} |" for n in changed]
        lines.append("")
    lines.append("Every other parameter keeps its base value; the full list, with ranges and sources, "
                 "is in the appendix.")
    return "\n".join(lines)


def scenario_lines(sc: Scenario) -> list[str]:
    """A scenario's changes and further steps as Markdown bullets, each with its reason."""
    lines = [f"- `{p}` = {format_value(v)}: {why}" for p, v, why in sc.changes]
    lines += [f"- from {format_value(st.start)}{'' if isinstance(st.start, dt.date) else ' (day)'}, `{st.lever}` "
              f"moves to {format_value(st.level)}"
              + (f" over {format_value(st.phase_in_days)} days" if st.phase_in_days else "") + f": {st.why}"
              for st in sc.steps]
    return lines or ["- changes nothing"]


def parameter_appendix(run: RunResult) -> str:
    """Every parameter with its value, unit, range and source; a value this run changed says who changed
    it (by hand, a scenario, or a calibration fitted for the scenario, whose source says so itself), with
    the base value and the base file's source for it."""
    from ..inputs.params import reference_params

    reference = reference_params(run.params).parameters
    by = {name: f"scenario `{sc.name}`: {why}" for sc in run.params.applied for name, _, why in sc.changes}
    by.update({name: "set by hand" for name in run.params.overrides})
    lines = ["## Appendix: every parameter", "", "| parameter | value | unit | range | source |",
             "|---|---|---|---|---|"]
    for p in run.params.parameters.values():
        src, was = p.source, reference.get(p.name)
        if was is not None and p.value != was.value and (p.name in run.params.overrides
                                                         or not p.source.startswith("calibrated (")):
            src = f"{by.get(p.name, 'changed in this run')} (the base value {was.value:g}: {was.source})"
        src = src.replace("|", "/")
        lines.append(f"| `{p.name}` | {p.value:g} | {p.unit} | {p.low:g} to {p.high:g} | {src} |")
    return "\n".join(lines)


def run_report(run: RunResult, figure: str, command: str, constrained: Sequence[str] = (),
               ensemble: str = "none") -> str:
    """The Markdown report of one run; ``constrained``: the lines on the same scenario over the
    constrained ensemble (``report.projection.constrained_lines``), after the run's summary."""
    sections = [
        f"# sanctions-model run: {run.label}",
        "",
        f"Projection from {run.params.start_date.isoformat()} over {run.days:g} days.",
        "",
        "## What the model finds",
        "",
        summary(run),
        "",
        *constrained,
        CAVEAT,
        "",
        outcomes_table(run),
        "",
        f"![Key trajectories of this run; the dotted line marks 100 days]({figure})",
        "",
        assumptions(run),
        "",
        provenance({"scenarios": ", ".join(run.params.scenarios) or "(none)",
                    "parameter hash": run.params.digest(), "calibration": calibration_note(run.params),
                    "constrained ensemble": ensemble,
                    "seed": "none (deterministic run)" if ensemble == "none" else
                    f"none for the run; {SEED} for the constrained members' fresh draws"}, command),
        "",
        parameter_appendix(run),
        "",
    ]
    return "\n".join(sections)


#: (The expected days are left out: a day given that the event comes within the horizon reads, in a
#: table of days, as a forecast date; the run report's outcome table gives them with that condition.)
KEY_OUTCOMES = ["p_talks_100_days", "p_talks_horizon", "p_ceasefire_100_days", "p_ceasefire_1_year",
                "p_ceasefire_horizon", "p_ceasefire_holds_1_year",
                "diagnostic_days_to_range_open", "reserves_at_horizon", "days_to_reserves_exhausted", "peak_strain",
                "territory_at_horizon", "oil_revenue_lost", "ukraine_funding"]


def leading_group(estimates: Mapping[str, tuple[float, float, float]]) -> list[str]:
    """The names whose interval overlaps that of the highest estimate, highest first.

    ``estimates`` maps a name to (estimate, low, high). A name outside the group has an
    interval wholly below the leader's; inside it, the data cannot say which is highest.
    """
    best = max(estimates, key=lambda k: (estimates[k][0], k))
    floor = estimates[best][1]
    group = [k for k, (_, _, high) in estimates.items() if high >= floor]
    return sorted(group, key=lambda k: (-estimates[k][0], k))


def stock_words(names: Iterable[str]) -> str:
    """Stock names as words: ``key_rate, territory`` -> ``key rate, territory``."""
    return ", ".join(name.replace("_", " ") for name in names)


def _names(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def most_often(what: str, shares: Mapping[str, float], n: int, most: int = 4) -> str:
    """One sentence: which scenario gives the highest chance of ``what`` over the sampled sets, claimed
    only when its 95% Wilson interval does not overlap any other scenario's; else which ones the sets
    cannot tell apart (up to ``most`` of them named, highest first).

    ``shares`` maps a scenario to its chance 0-1 over ``n`` sets (a mean probability, or a share).
    """
    if max(shares.values()) <= 0:
        return f"No scenario gives any chance of {what} in the sampled sets."
    estimates = {k: (v, *wilson_interval(v, n)) for k, v in shares.items()}
    group = leading_group(estimates)
    if len(group) == 1:
        rest = sorted((k for k in shares if k != group[0]), key=lambda k: (-shares[k], k))
        runner = f" (next: `{rest[0]}`, {share_with_interval(shares[rest[0]], n)})" if rest else ""
        return (f"`{group[0]}` gives the highest chance of {what}, {share_with_interval(shares[group[0]], n)} over "
                f"the sampled sets: its 95% interval lies above every other scenario's{runner}.")
    cells = [f"`{k}` at {share_with_interval(shares[k], n)}" for k in group[:most]]
    if len(group) > most:
        cells.append(f"{len(group) - most} more")
    if len(group) == len(shares):
        return (f"The {n:,} sampled sets cannot tell which scenario gives the highest chance of {what}: the 95% "
                f"intervals of all {len(group)} scenarios overlap ({_names(cells)}).")
    return (f"The {n:,} sampled sets cannot tell which scenario gives the highest chance of {what}: the 95% "
            f"intervals of {len(group)} of the {len(shares)} scenarios overlap that of the highest "
            f"({_names(cells)}); the others' intervals lie below it.")


def rank_range(name: str, indices: Mapping[str, tuple[float, float]]) -> tuple[int, int]:
    """The best and worst rank (1 = largest) of ``name``'s total index that its 95% interval and the
    others' allow: an assumption whose interval overlaps another's could be on either side of it.

    ``indices`` maps an assumption to (ST, half-width of its 95% interval).
    """
    st, conf = indices[name]
    others = [(s, c) for k, (s, c) in indices.items() if k != name]
    best = 1 + sum(s - c > st + conf for s, c in others)
    worst = 1 + sum(s + c >= st - conf for s, c in others)
    return best, worst


def ranking(what: str, indices: Mapping[str, tuple[float, float]], labels: Mapping[str, str] | None = None,
            most: int = 4) -> str:
    """One sentence: which assumption has the largest total Sobol' index for ``what``, claimed only when
    its 95% interval lies above every other's; else that the ranking is not resolved at this sample
    size, naming the assumptions whose intervals overlap the largest (up to ``most`` of them).

    ``indices`` maps an assumption to (ST, half-width of its 95% interval); ``labels`` gives each
    a description to print before its name.
    """
    estimates = {k: (st, st - conf, st + conf) for k, (st, conf) in indices.items()}
    group = leading_group(estimates)

    def named(k: str) -> str:
        st, conf = indices[k]
        return f"{labels[k] + ' ' if labels else ''}(`{k}`, ST {st:.2f} ± {conf:.2f})"

    if len(group) == 1:
        return (f"{_first_upper(what)} depends most on {named(group[0])}: its 95% interval lies above every other "
                "assumption's.")
    shown = [named(k) for k in group[:most]]
    if len(group) > most:
        shown.append(f"{len(group) - most} more")
    whose = (f"all {len(group)} assumptions overlap" if len(group) == len(indices) else
             f"{len(group)} assumptions overlap that of the largest, and every other assumption's lies below it")
    return (f"Which assumption {what} depends on most is not resolved at this sample size: the 95% intervals of "
            f"the total indices of {whose}. Largest first: {_names(shown)}.")


def central_section(runs: Sequence[RunResult], figure: str) -> list[str]:
    """Each scenario at the central assumptions: a summary per scenario, the outcome table and a figure."""
    start = runs[0].params.start_date
    lines = [f"- **{run.label}**: {summary(run)}" for run in runs]
    lines += ["", CAVEAT, "", "| outcome | unit | " + " | ".join(f"`{r.label}`" for r in runs) + " |",
              "|---|---|" + "---|" * len(runs)]
    for name in KEY_OUTCOMES:
        unit = OUTCOMES[name][0]
        cells = [format_outcome(name, r.outcomes[name], start).replace(" (", "<br>(") for r in runs]
        lines.append(f"| `{name}` | {'' if unit in ('bool', 'day', 'probability') else unit} | " + " | ".join(cells)
                     + " |")
    from .figures import coincidence_caption

    caption = ("Key trajectories by scenario; the dotted line marks 100 days, the dashed line the bargaining "
               "range's zero, above which a ceasefire both sides prefer exists")
    lines += ["", f"![{caption}]({figure})", ""]
    hidden = coincidence_caption(runs)
    lines += [hidden, ""] if hidden else []
    return lines


def uncertainty_section(runs: Sequence[RunResult], uncertainty: pd.DataFrame, figures: Mapping[str, str],
                        n: int) -> list[str]:
    """The chance of each outcome over the sampled assumption sets, with intervals, and the fan charts."""
    uncertainty = distinct(uncertainty, runs[0].days)
    lines = [
        f"For each scenario, {n:,} sets of assumptions were drawn by Latin hypercube, uniformly over "
        "the range of every uncertain parameter in `params/base.toml` (the scenario's policy levers "
        "held as the scenario sets them), with the same draws for every scenario. The table gives the "
        "chance of each outcome averaged over those sets (for reserves exhausted, a yes/no outcome, the "
        "share of sets), with a conservative 95% interval (Wilson) for the sampling error of that average "
        f"over {n:,} sets. Each is the model's chance when every assumption is drawn uniformly over its "
        "range: not a forecast, and the interval does not measure how uncertain the chance itself is.",
        "",
        "| scenario | " + " | ".join(uncertainty.columns) + " |",
        "|---|" + "---|" * len(uncertainty.columns),
    ]
    for label, row in uncertainty.iterrows():
        lines.append(f"| `{label}` | " + " | ".join(share_with_interval(v, n) for v in row) + " |")
    lines += ["", f"![The chance of each outcome over the sampled assumption sets, with 95% intervals as error bars]"
              f"({figures['uncertainty']})", "",
              "### The range of trajectories, scenario by scenario", "",
              "Shaded bands hold the middle 50% and 90% of the sampled sets of assumptions at each date; "
              "the solid line is their median, the dashed line the run at the central assumptions. Where the "
              "constrained ensemble was projected, its members' weighted 5-95% band and median are the orange "
              "lines (each member from its own state on 2025-01-20). Read the bands as the model's spread over "
              "its stated ranges, not as forecast intervals.", ""]
    for run in runs:
        key = f"fan:{run.label}"
        if key in figures:
            lines += [f"![{run.label}: fan charts of the chance of a ceasefire, the bargaining range, strain, reserves "
                      f"and territory]({figures[key]})", ""]
    return lines


def scenarios_section(runs: Sequence[RunResult]) -> list[str]:
    """Every scenario's title, description and changes, each with its reason."""
    lines = []
    for run in runs:
        for sc in run.params.applied:
            lines += [f"**`{sc.name}`: {sc.title}.** {sc.description}", "", *scenario_lines(sc), ""]
    return lines


def comparison_report(
    runs: Sequence[RunResult],
    uncertainty: pd.DataFrame | None,
    figures: Mapping[str, str],
    settings: Mapping[str, object],
    command: str,
    constrained: Sequence[str] = (),
) -> str:
    """The Markdown report comparing scenarios side by side; ``constrained``: the lines on the scenarios
    over the constrained ensemble (``report.projection.constrained_lines``), under the headline."""
    start, days = runs[0].params.start_date, runs[0].days
    lines = [
        "# sanctions-model: the scenarios side by side",
        "",
        f"Each scenario is run from {start.isoformat()} over {days:g} days. The question is the article's: "
        "under which sanctions and assumptions do Russia and Ukraine come to talks and to a ceasefire, and when?",
        "",
        "## Headline",
        "",
        headline(runs, uncertainty, cast(int, settings["samples per scenario"]) if uncertainty is not None else None),
        "",
        *constrained,
        "## What the model finds at the central assumptions",
        "",
        *central_section(runs, figures["trajectories"]),
    ]
    if uncertainty is not None:
        lines += ["## How sure: the same question across the plausible range of every assumption", "",
                  *uncertainty_section(runs, uncertainty, figures, cast(int, settings["samples per scenario"]))]
    lines += ["## The scenarios", "", *scenarios_section(runs),
              provenance({**settings, "parameter hash": combined_digest([r.params.digest() for r in runs]),
                          "calibration": calibration_note(runs[0].params)},
                         command), ""]
    return "\n".join(lines)


def headline(runs: Sequence[RunResult], uncertainty: pd.DataFrame | None, n_sets: int | None = None) -> str:
    """A few sentences that sum up the comparison, generated from its numbers.

    With ``n_sets`` (the sampled sets behind ``uncertainty``), a scenario is said to give talks
    most often only when its interval is clear of the others' (:func:`most_often`).
    """
    horizon = f"{runs[0].days:g} days"
    central = {r.label: float(r.outcomes["p_ceasefire_horizon"]) for r in runs}
    top = max(central, key=lambda k: (central[k], k))
    low = min(central, key=lambda k: (central[k], k))
    opened = [r.label for r in runs if not math.isnan(r.outcomes["diagnostic_days_to_range_open"])]
    text = [
        f"At the central value of every assumption, the chance of a ceasefire within {horizon} ranges from "
        f"{percents(central[low])[0]}% (`{low}`) to {percents(central[top])[0]}% (`{top}`).",
        "The bargaining range opens within the horizon in "
        + (f"{len(opened)} of {len(runs)} scenarios ({', '.join(opened)})." if opened else
           f"none of the {len(runs)} scenarios: in each, a ceasefire is not worth more to both sides than fighting "
           "on at the central assumptions."),
    ]
    if uncertainty is not None:
        n = int(n_sets) if n_sets is not None else 0
        # a chance by day 100 is not defined over a shorter horizon: its column is then absent
        pairs = [(col, words) for col, words in (("talks within 100 days", "direct talks within 100 days"),
                                                 ("ceasefire within horizon", f"a ceasefire within {horizon}"))
                 if col in uncertainty]
        ranges = []
        for col, words in pairs:
            lo, hi = percents(uncertainty[col].min(), uncertainty[col].max())
            ranges.append(f"{words} is {lo}% to {hi}%")
        text.append("Averaged over the sampled range of the assumptions, the chance of "
                    + ", depending on the scenario, and of ".join(ranges) + ".")
        if n:
            for col, words in pairs:
                text.append(most_often(words, uncertainty[col].to_dict(), n))
    return " ".join(text)
