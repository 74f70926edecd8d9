"""Markdown reports: plain words first, then tables, figures, assumptions and provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import pandas as pd

from .. import __version__
from ..outcomes import OUTCOMES
from ..params import ParameterSet, load_scenario, reference_params
from ..run import RunResult

CAVEAT = (
    "These are what the model computes under the stated assumptions, not forecasts. Most of "
    "the coefficients that link economic strain to a decision to negotiate are assumptions "
    "(marked as such in `params/base.toml`), and each has a range that sweeps explore."
)


def _date(start: dt.date, day: float) -> str:
    return (start + dt.timedelta(days=math.floor(day))).isoformat()


def format_outcome(name: str, value: object, start: dt.date) -> str:
    """An outcome as a reader would say it: a day with its date, 'yes'/'no', or a number."""
    unit = OUTCOMES[name][0]
    if unit == "bool":
        return "yes" if bool(value) else "no"
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "not within the horizon" if unit == "day" else "n/a"
    if unit == "day":
        return f"day {v:.1f} ({_date(start, v)})"
    if unit.startswith("US$"):
        return f"{v:,.1f}"
    if unit.startswith("%"):
        return f"{v:.2f}"
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

    parts = [
        when("days_to_russia_willing",
             "Russia's willingness to negotiate reaches the model's threshold for talks on day {day} ({date}).",
             f"Russia's willingness to negotiate does not reach the model's threshold for talks by {end}."),
        when("days_to_ukraine_willing",
             "Ukraine's willingness reaches its threshold on day {day} ({date}).",
             f"Ukraine's willingness does not reach its threshold by {end}."),
        when("days_to_talks",
             "Both sides are willing at once, the model's condition for talks, from day {day} ({date}).",
             f"The two sides are never willing at the same time before {end}, so the model finds no talks."),
        f"Talks within the US envoy's 100 days: {'yes' if o['talks_within_100_days'] else 'no'}.",
        when("days_to_reserves_exhausted",
             "The liquid National Wealth Fund is exhausted on day {day} ({date}).",
             f"The liquid National Wealth Fund holds US${o['reserves_at_horizon']:.1f}bn on {end}."),
        f"Russia holds {o['territory_at_horizon']:.1f}% of Ukraine at the horizon "
        f"({100 * run.params['forces.territory_initial']:.1f}% at the start).",
    ]
    return " ".join(parts)


def git_commit() -> str:
    """The commit of the source tree, with '-dirty' if code, parameters or data have uncommitted changes
    (generated reports/ aside), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        # generated reports do not change what produces the numbers: a regenerated report is not "dirty"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)",
                                ":(top,exclude)reports"], cwd=here,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def calibration_note(params: ParameterSet) -> str:
    """Which calibration a run's parameters carry, for provenance tables."""
    cal = params.meta.get("calibration")
    return f"params/calibrated.toml ({cal})" if cal else "none (the base file's values)"


def provenance(items: Mapping[str, object], command: str) -> str:
    rows = {"package version": __version__, "git commit": git_commit(), **items,
            "command": f"`{command}`", "date": dt.date.today().isoformat()}
    lines = ["## Provenance", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows.items()]
    return "\n".join(lines)


def assumptions(run: RunResult) -> str:
    """The scenarios applied (with every change and its reason), overrides, and changed parameters."""
    lines = ["## Assumptions", ""]
    if not run.params.scenarios:
        lines.append("No scenario: the base parameters of `params/base.toml` (the world of 2025-01-20).")
    if run.params.meta.get("calibration"):
        lines += ["", f"Calibrated: `params/calibrated.toml` ({run.params.meta['calibration']}) sets the fitted "
                  "values and the starting state of the calibrated back-test on 2025-01-20 (see "
                  "`reports/backtest/`).", ""]
    for path in run.params.files[1:]:
        sc = load_scenario(path)
        lines += [f"**Scenario `{sc.name}`: {sc.title}.** {sc.description}", ""]
        lines += [f"- `{p}` = {v:g}: {why}" for p, v, why in sc.changes] or ["- changes nothing"]
        lines.append("")
    if run.params.overrides:
        lines += ["**Set by hand:** " + ", ".join(f"`{k}` = {v}" for k, v in run.params.overrides.items()), ""]
    base = reference_params(run.params)
    changed = [n for n in run.params if run.params[n] != base[n]]
    if changed:
        lines += ["Parameters that differ from the base:", "", "| parameter | base | this run | unit |",
                  "|---|---|---|---|"]
        lines += [f"| `{n}` | {base[n]:g} | {run.params[n]:g} | {run.params.parameters[n].unit} |"
                  for n in changed]
        lines.append("")
    lines.append("Every other parameter keeps its base value; the full list, with ranges and sources, "
                 "is in the appendix.")
    return "\n".join(lines)


def parameter_appendix(run: RunResult) -> str:
    lines = ["## Appendix: every parameter", "", "| parameter | value | unit | range | source |",
             "|---|---|---|---|---|"]
    for p in run.params.parameters.values():
        src = p.source.replace("|", "/")
        lines.append(f"| `{p.name}` | {p.value:g} | {p.unit} | {p.low:g} to {p.high:g} | {src} |")
    return "\n".join(lines)


def run_report(run: RunResult, figure: str, command: str) -> str:
    """The Markdown report of one run."""
    sections = [
        f"# sanctions-model run: {run.label}",
        "",
        f"Projection from {run.params.start_date.isoformat()} over {run.days:g} days.",
        "",
        "## What the model finds",
        "",
        summary(run),
        "",
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
                    "seed": "none (deterministic run)"}, command),
        "",
        parameter_appendix(run),
        "",
    ]
    return "\n".join(sections)


KEY_OUTCOMES = ["days_to_russia_willing", "days_to_ukraine_willing", "days_to_talks", "talks_within_100_days",
                "reserves_at_horizon", "days_to_reserves_exhausted", "peak_strain", "territory_at_horizon",
                "oil_revenue_lost", "ukraine_funding", "ceasefire_durability_at_horizon"]


def share_with_interval(share: float, n: int) -> str:
    """A share of ``n`` sampled sets as a percentage with its 95% Wilson interval, e.g. '7% (5-10%)'.

    The interval is the sampling error of estimating the share from ``n`` sets (the spread of
    the assumptions themselves is what the share describes).
    """
    from scipy.stats import binomtest

    k = int(round(share * n))
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return f"{percent(share)}% ({percent(ci.low)}-{percent(ci.high)}%)"


def percent(share: float) -> str:
    """A share 0-1 as a percentage: whole points, or one decimal below 1% so that small is not zero."""
    value = 100 * share
    return "0" if value == 0 else f"{value:.1f}" if value < 1 else f"{value:.0f}"


def central_section(runs: Sequence[RunResult], figure: str) -> list[str]:
    """Each scenario at the central assumptions: a summary per scenario, the outcome table and a figure."""
    start = runs[0].params.start_date
    lines = [f"- **{run.label}**: {summary(run)}" for run in runs]
    lines += ["", CAVEAT, "", "| outcome | unit | " + " | ".join(f"`{r.label}`" for r in runs) + " |",
              "|---|---|" + "---|" * len(runs)]
    for name in KEY_OUTCOMES:
        unit = OUTCOMES[name][0]
        cells = [format_outcome(name, r.outcomes[name], start).replace(" (", "<br>(") for r in runs]
        lines.append(f"| `{name}` | {'' if unit in ('bool', 'day') else unit} | " + " | ".join(cells) + " |")
    lines += ["", f"![Key trajectories by scenario; the dotted line marks 100 days]({figure})", ""]
    return lines


def uncertainty_section(runs: Sequence[RunResult], uncertainty: pd.DataFrame, figures: Mapping[str, str],
                        n: int) -> list[str]:
    """The share of sampled assumption sets with each outcome, with intervals, and the fan charts."""
    lines = [
        f"For each scenario, {n:,} sets of assumptions were drawn by Latin hypercube, uniformly over "
        "the range of every uncertain parameter in `params/base.toml` (the scenario's policy levers "
        "held as the scenario sets them), with the same draws for every scenario. The table gives the "
        "share of those sets in which each outcome happens, with a 95% interval for the sampling error "
        f"of estimating it from {n:,} sets. These shares describe the model over its stated ranges; they "
        "are not probabilities that the events will happen.",
        "",
        "| scenario | " + " | ".join(uncertainty.columns) + " |",
        "|---|" + "---|" * len(uncertainty.columns),
    ]
    for label, row in uncertainty.iterrows():
        lines.append(f"| `{label}` | " + " | ".join(share_with_interval(v, n) for v in row) + " |")
    lines += ["", f"![Share of sampled assumption sets with each outcome]({figures['uncertainty']})", "",
              "### The range of trajectories, scenario by scenario", "",
              "Shaded bands hold the middle 50% and 90% of the sampled sets of assumptions at each date; "
              "the solid line is their median, the dashed line the run at the central assumptions. Read "
              "the bands as the model's spread over its stated ranges, not as forecast intervals.", ""]
    for run in runs:
        key = f"fan:{run.label}"
        if key in figures:
            lines += [f"![{run.label}: fan charts of willingness, strain, reserves and territory]({figures[key]})", ""]
    return lines


def scenarios_section(runs: Sequence[RunResult]) -> list[str]:
    """Every scenario's title, description and changes, each with its reason."""
    lines = []
    for run in runs:
        for path in run.params.files[1:]:
            sc = load_scenario(path)
            lines += [f"**`{sc.name}`: {sc.title}.** {sc.description}", ""]
            lines += [f"- `{p}` = {v:g}: {why}" for p, v, why in sc.changes] or ["- changes nothing"]
            lines.append("")
    return lines


def comparison_report(
    runs: Sequence[RunResult],
    uncertainty: pd.DataFrame | None,
    figures: Mapping[str, str],
    settings: Mapping[str, object],
    command: str,
) -> str:
    """The Markdown report comparing scenarios side by side."""
    start, days = runs[0].params.start_date, runs[0].days
    lines = [
        "# sanctions-model: the scenarios side by side",
        "",
        f"Each scenario is run from {start.isoformat()} over {days:g} days. The question is the article's: "
        "under which sanctions and assumptions does Russia become willing to negotiate, and when?",
        "",
        "## Headline",
        "",
        headline(runs, uncertainty),
        "",
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


def headline(runs: Sequence[RunResult], uncertainty: pd.DataFrame | None) -> str:
    """Two or three sentences that sum up the comparison, generated from its numbers."""
    horizon = f"{runs[0].days:g} days"
    talks = [r.label for r in runs if r.outcomes["talks_within_horizon"]]
    willing = [r.label for r in runs if not math.isnan(r.outcomes["days_to_russia_willing"])]
    text = [
        f"At the central value of every assumption, the model finds talks within {horizon} in "
        + (f"{len(talks)} of {len(runs)} scenarios ({', '.join(talks)})." if talks else
           f"none of the {len(runs)} scenarios."),
        "Russia alone becomes willing within the horizon in "
        + (f"{len(willing)} ({', '.join(willing)})." if willing else "none."),
    ]
    if uncertainty is not None:
        col100, colh = "talks within 100 days", "talks within horizon"
        best100, besth = uncertainty[col100].idxmax(), uncertainty[colh].idxmax()
        within100 = (f"in at most {100 * uncertainty[col100].max():.0f}% of sets (`{best100}`)"
                     if uncertainty[col100].max() > 0 else "in none of the sampled sets, under any scenario")
        text.append(
            f"Across the sampled range of the assumptions, talks within 100 days happen {within100}, "
            f"and talks within {horizon} in "
            f"{100 * uncertainty[colh].min():.0f}% to {100 * uncertainty[colh].max():.0f}% of sets "
            f"(most often under `{besth}`).")
    return " ".join(text)


def combined_digest(digests: Sequence[str]) -> str:
    """One hash for several parameter sets (a comparison's scenarios, in order)."""
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:12]


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown pipe table, index first (pandas' own needs the tabulate package)."""
    header = [str(frame.index.name or ""), *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(i), *map(str, row)]) + " |" for i, row in zip(frame.index, frame.to_numpy())]
    return "\n".join(lines)
