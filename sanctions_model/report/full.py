"""The full analysis as one report: scenarios, how sure, which assumptions decide, the article.

:func:`write_report` renders a :class:`~sanctions_model.analysis.studies.FullStudy`, which
:func:`~sanctions_model.analysis.studies.full_study` computes, in order:

1. every scenario at the central value of every assumption;
2. an ensemble: the same Latin-hypercube draws of every uncertainty under each scenario;
3. one-at-a-time sensitivity (tornado charts) and Sobol' indices with bootstrap intervals,
   including Sobol' indices of the chance of a ceasefire at each month, under ``status_quo``;
4. for each of the article's assumptions, its parameters held at each end of their range
   over the ensemble's draws, and the walk through those assumptions from the numbers above;
5. the scenarios from each member of the constrained ensemble, each article assumption's first
   parameters held at each end over those members, and scenario discovery over them: under
   which assumptions a ceasefire comes;

:func:`write_report` writes ``report.md`` with its figures and tables into a directory, whole or
not at all; it runs nothing and opens no parameter file.
The same arguments and seed give the same files, byte for byte, apart from the date in
the provenance table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..analysis.article import REFERENCE
from ..analysis.studies import DISCOVERY_OUTCOMES, EVENTS, OAT_OUTCOMES, OVER_TIME, SOBOL_OUTCOMES, FullStudy
from ..errors import InputError
from ..inputs.params import ParameterSet
from ..inputs.resources import standing_inputs
from ..outdir import atomic_directory, check_target
from ..provenance import combined_digest
from ..runs.describe import percent, percents, share_with_interval
from ..runs.ensemble import Ensemble
from ..runs.run import RunResult
from .article import walkthrough
from .discover import discovery_lines, peeling_figure
from .figures import indices_over_time_figure, scenario_figures
from .markdown import (
    CAVEAT,
    calibration_note,
    central_section,
    headline,
    provenance,
    ranking,
    scenarios_section,
    uncertainty_section,
)
from .projection import WHY, columns_for, constrained_lines, ensemble_provenance
from .sensitivity import label, outcome_section, plain_name


def journalist_summary(runs: Sequence[RunResult], ensemble: Ensemble) -> list[str]:
    """The summary table: a row per scenario, the chance of each outcome over the sampled sets (with the
    95% Wilson interval of its sampling error), and what the model finds at the central assumptions."""
    shares, n, horizon = ensemble.shares(), ensemble.n, f"{ensemble.days:g} days"
    columns = columns_for(ensemble.days, shares)  # "within a year" needs a year, and is the horizon's at 365 days
    heads = [h for _, h in columns]
    lines = [f"| scenario | {' | '.join(heads)} | ceasefire within {horizon}, central assumptions |",
             "|---|" + "---|" * (len(heads) + 1)]
    for run in runs:
        title = run.params.title()
        central = f"{percent(run.outcomes['p_ceasefire_horizon'])}%"
        solved = ensemble.solved(run.label)
        cells = [share_with_interval(shares.loc[run.label, col], solved) for col, _ in columns]
        lines.append(f"| `{run.label}` ({title}) | {' | '.join(cells)} | {central} |")
    lines += ["", f"Each figure is the chance of the event, averaged over the {n:,} sets of assumptions sampled "
              "uniformly across their ranges (the same sets under every scenario), with a conservative 95% interval "
              f"(Wilson) for the sampling error of that average over {n:,} sets; the interval does not measure how "
              "uncertain the chance itself is. These are the model's chances under its stated assumptions, not "
              "forecasts. The model gives each set a probability, from "
              "hazards that rise as a ceasefire becomes worth more to both sides than fighting on (docs/model.md, "
              "'The decision core'). *Direct talks* means negotiations between the two sides, a lower bar than a "
              "*ceasefire agreed*."]
    return lines


def constrained_summary(study: FullStudy) -> list[str]:
    """The summary's first table: the chances over the members of the constrained ensemble (each from
    its own state on 2025-01-20, weighted), beside those over the unconstrained sets, and why the two
    differ; or why there is none."""
    return constrained_lines(study.constrained, study.constrained_note, study.ensemble.shares(), "all sets",
                             study.days, why=why_they_differ(study))


def constrained_shares(study: FullStudy) -> pd.DataFrame | None:
    """The constrained ensemble's shares per scenario, None where there are none to report."""
    if study.constrained is None:
        return None
    try:
        return study.constrained.shares()
    except InputError:
        return None


#: How :func:`why_they_differ` names each stock it compares.
STOCK_WORDS = {"reserves": "the Fund's liquid reserves", "key_rate": "the key rate", "inflation": "inflation",
               "strain": "the strain on the war economy", "russia_forces": "Russia's forces",
               "russia_cost": "Russia's perceived cost of fighting on",
               "ukraine_cost": "Ukraine's perceived cost of fighting on"}


def points(change: float) -> str:
    """A change in percentage points, signed, as the figures it is the difference of are printed."""
    return f"{change:+g} point" + ("" if abs(change) == 1 else "s")


def why_they_differ(study: FullStudy) -> str:
    """The difference between the two tables taken apart for the reference scenario's chance of a
    ceasefire within the horizon: the record's constraint on the assumptions (the members' values from
    the base file's starting state) and the members' own states, with the states compared."""
    generic = WHY
    proj, diag, starts = study.constrained, study.from_record, study.starts
    if proj is None or diag is None or starts is None:
        return generic
    col = "ceasefire within horizon"
    try:
        own, record = proj.shares(), diag.shares()
    except InputError:
        return generic
    if REFERENCE not in own.index or col not in own:
        return generic
    unconstrained = study.ensemble.shares()
    every = unconstrained.loc[REFERENCE, col] if REFERENCE in unconstrained.index else math.nan
    kept, members = float(record.loc[REFERENCE, col]), float(own.loc[REFERENCE, col])
    if not all(math.isfinite(v) for v in (every, kept, members)):
        return generic
    a, b, c = percents(every, kept, members)  # one rounding rule, so the changes are those of the printed figures
    by_values, by_states = round(float(b) - float(a), 1), round(float(c) - float(b), 1)
    lines = [f"**Why the two differ** (`{REFERENCE}`, a ceasefire within {study.days:g} days). Over every sampled set "
             f"the chance is {a}%. Over the members' assumptions, each started from the base file's state of "
             f"2025-01-20 as the sampled sets are (the record where there is one, else a stated assumption), it is "
             f"{b}%: the record's constraint on the assumptions moves it by {points(by_values)}. From each member's "
             f"own simulated state it is {c}%: the states move it by {points(by_states)}. The members reach "
             "2025-01-20 in states that differ from the base file's (weighted median and 5-95% range; the sampled "
             "sets draw the uncertain ones among these over their ranges):", "",
             "| on 2025-01-20 | unit | base file (the record where there is one) | members: median | "
             "members: 5-95% |", "|---|---|---|---|---|"]
    for name, row in starts.iterrows():
        v = {k: f"{row[k]:,.0f}" if abs(row[k]) >= 1000 else f"{row[k]:.3g}" for k in ("start", "p5", "p50", "p95")}
        lines.append(f"| {STOCK_WORDS.get(str(name), str(name))} | {str(row['unit']).split(' (')[0]} | {v['start']} | "
                     f"{v['p50']} | {v['p5']} to {v['p95']} |")
    lines += ["", "The members are kept for how close their histories come to the record's series as a whole "
              "(`reports/constrained/report.md`), not for matching each stock on 2025-01-20; the part of the "
              "difference that comes from their states is only as good as those histories. Neither figure is a "
              "forecast; both are the model's chances under stated assumptions."]
    return "\n".join(lines)


def deciders(sobol: pd.DataFrame, params: ParameterSet) -> str:
    """Sentences: which assumptions lead on the total Sobol' index of the chance of a ceasefire within
    the horizon (a leader named only when its interval is clear of the others', :func:`ranking`), and how
    many have no measurable effect."""
    indices = {str(k): (float(r["ST"]), float(r["ST_conf"])) for k, r in sobol.iterrows()}
    labels = {k: f"*{params.parameters[k].description}*" for k in indices}
    none = int(((sobol["ST"] + sobol["ST_conf"]) < 0.005).sum())
    return (f"**Which assumptions decide it** (total Sobol' indices under `{REFERENCE}`). "
            + ranking("the chance of a ceasefire within the horizon", indices, labels)
            + f" {none} of the {len(sobol)} uncertain assumptions have no measurable effect on it (see 'Which "
            "assumptions decide the answer').")


def discovery_summary(study: FullStudy) -> list[str]:
    """The summary's line on scenario discovery: the box for a ceasefire within the horizon ([] without one)."""
    item = study.discoveries.get("p_ceasefire_horizon")
    if item is None or isinstance(item, str):
        return []
    sentence = item.discovery.sentence()
    return [f"**Under which assumptions?** Over the constrained members under {REFERENCE}, "
            f"{sentence[0].lower() + sentence[1:]} (See \"Under which assumptions does a ceasefire come?\" below.)",
            ""]


def discovery_section(study: FullStudy, directory: Path) -> list[str]:
    """Under which assumptions a ceasefire comes: scenario discovery over the constrained members under
    :data:`REFERENCE`, by day 100 and within the horizon (figures and box tables into ``directory``)."""
    lines = ["## Under which assumptions does a ceasefire come?", ""]
    if not study.discoveries:
        return lines + [f"Scenario discovery runs over the constrained ensemble's members, and there are none here: "
                        f"{study.constrained_note}", ""]
    members = study.constrained.outcomes["member"].nunique() if study.constrained is not None else 0
    lines += [f"Scenario discovery over the {members:,} members of the constrained ensemble under {REFERENCE}, "
              "each weighted by how well it reproduced the record: in which ranges "
              "of the assumptions do the members give a better-than-even chance of a ceasefire? PRIM (EMA Workbench) "
              "peels the members down to a box, trading coverage (the share of the cases inside it) for density (the "
              "share of the box that are cases), and keeps only the limits that are unlikely to be chance "
              "(quasi-p-value at most 0.05): a box with no such limit is no box. CART's leaves are a second view. "
              "A box says which assumptions the answer depends on in the model, not which are true. "
              "`sanctions-model discover` runs the same on any "
              "scenario, outcome or stored sweep (levers included).", ""]
    for outcome in DISCOVERY_OUTCOMES:
        item = study.discoveries.get(outcome)
        if item is None:
            continue
        what = EVENTS[outcome].format(days=f"{study.days:g}")
        lines += [f"### A ceasefire {what.removeprefix('a ceasefire ')}", ""]
        if isinstance(item, str):
            lines += [f"No box: {item.removeprefix('discover: ')}", ""]
            continue
        figure = f"discover-{outcome}.png"
        peeling_figure(item.discovery, directory / figure)
        item.discovery.limits.rename_axis("parameter").to_csv(directory / f"discover-{outcome}.csv",
                                                              float_format="%.6g")
        lines += discovery_lines(item.discovery, figure)
    return lines


def write_report(study: FullStudy, out: Path | str, command: str, force: bool = False) -> Path:
    """Write the full study as one Markdown report with figures into ``out``.

    Parameters
    ----------
    study : FullStudy
        From :func:`sanctions_model.analysis.studies.full_study`.
    out : path
        Output directory, written whole or not at all; an existing one needs ``force``.
    command : str
        The command line recorded in the provenance table.
    force : bool
        Replace an existing ``out``.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    check_target(out, force, standing_inputs())
    runs, ensemble, params, names = study.runs, study.ensemble, study.params, study.names
    oat, sobol, wide, over_time, ends = study.oat, study.sobol, study.wide, study.over_time, study.ends
    scenarios, days, samples, sobol_n, seed = study.scenarios, study.days, study.samples, study.sobol_n, study.seed
    out = Path(out)
    with atomic_directory(out, force=force, inputs=standing_inputs()) as tmp:
        figures = scenario_figures(runs, ensemble, tmp, samples,
                                   study.constrained.fans if study.constrained is not None else None)
        shares = ensemble.shares()
        pd.DataFrame({r.label: r.outcomes for r in runs}).to_csv(tmp / "outcomes.csv", float_format="%.10g",
                                                                index_label="outcome")
        shares.to_csv(tmp / "shares.csv", float_format="%.6g", index_label="scenario")
        _tidy(oat, OAT_OUTCOMES).to_csv(tmp / "oat.csv", index=False, float_format="%.6g")
        _tidy(sobol, list(sobol.columns.get_level_values(0).unique())).to_csv(
            tmp / "sobol.csv", index=False, float_format="%.6g")
        indices_over_time_figure(over_time, {n: label(params, n) for n in names},
                                 pd.Timestamp(params.start_date),
                                 f"Which assumptions drive the chance of a ceasefire over time ({REFERENCE})",
                                 tmp / "sobol-over-time.png")

        lines = [
            "# sanctions-model: the full analysis",
            "",
            f"Does pressure on Russia's war economy bring Russia to negotiate, and when? Each of {len(runs)} "
            f"scenarios is run from {params.start_date.isoformat()} over {days:g} days: once at the central value "
            f"of every assumption, and over {samples:,} sets of assumptions sampled across their plausible ranges. "
            f"A sensitivity analysis then asks which assumptions decide the answer, and the last section takes "
            "the article's assumptions one by one.",
            "",
            "## Summary",
            "",
            *constrained_summary(study),
            "**Without the record's constraint**: the same chances over every sampled set, each starting from the "
            "base file's state of 2025-01-20 (the record where there is one, else a stated assumption), with the "
            "sampling error of each and the run at the central assumptions:",
            "",
            *journalist_summary(runs, ensemble),
            "",
            headline(runs, shares, samples),
            "",
            deciders(sobol["p_ceasefire_horizon"], params),
            "",
            *discovery_summary(study),
            CAVEAT,
            "",
            "## The article's assumptions, one by one",
            "",
            *walkthrough({r.label: r for r in runs}, ensemble, {o: sobol[o] for o in SOBOL_OUTCOMES}, ends, params,
                         constrained_shares(study), study.member_ends, study.constrained, study.member_ends_note),
            "## The scenarios at the central assumptions",
            "",
            *central_section(runs, figures["trajectories"]),
            "## How sure: the same question across the plausible range of every assumption",
            "",
            *uncertainty_section(runs, shares, figures, samples),
            *_sensitivity_section(oat, sobol, over_time, wide, params, names, tmp, days, sobol_n, seed),
            *discovery_section(study, tmp),
            "## The scenarios",
            "",
            *scenarios_section(runs),
            "## Files",
            "",
            "`outcomes.csv` (each scenario at the central assumptions), `shares.csv` (the chance of each outcome "
            "over the sampled sets), `oat.csv` and `sobol.csv` (the indices, tidy: outcome, input, statistic columns), "
            "`discover-*.csv` (the boxes of scenario discovery: each limit with its quasi-p-value).",
            "",
            provenance({"scenarios": ", ".join(scenarios), "horizon": f"{days:g} days",
                        "samples per scenario": f"{samples:,}", "sensitivity reference": REFERENCE,
                        "Sobol' base samples": f"{sobol_n:,} ({sobol.attrs['n_evaluations']:,} runs)",
                        "one-at-a-time runs": oat.attrs["n_evaluations"], "seed": seed,
                        "parameter hash": combined_digest([r.params.digest() for r in runs]),
                        "calibration": calibration_note(runs[0].params),
                        "constrained ensemble": ensemble_provenance(study.constrained)}, command),
            "",
        ]
        (tmp / "report.md").write_text("\n".join(lines))
    return out


def _tidy(result: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    return pd.concat({o: result[o] for o in outcomes}, names=["outcome", "input"]).reset_index()


def _sensitivity_section(oat: pd.DataFrame, sobol: pd.DataFrame, over_time: dict[float, pd.DataFrame],
                         wide: list[str], params: ParameterSet, names: Sequence[str], directory: Path, days: float,
                         sobol_n: int, seed: int) -> list[str]:
    k = len(names)
    lines = [
        "## Which assumptions decide the answer",
        "",
        f"All {k} uncertain parameters of `params/base.toml` (every one that is not a policy lever) are "
        f"varied over their ranges, with the policy levers as `{REFERENCE}` sets them. Two methods:",
        "",
        f"- **One at a time** ({oat.attrs['n_evaluations']} runs): each assumption at its low and its high, "
        "everything else central. Simple to read (a tornado chart), blind to interactions.",
        f"- **Sobol' indices** ({sobol.attrs['n_evaluations']:,} runs: {sobol_n:,} base samples, seed {seed}, "
        "SALib): the share of the outcome's variance due to each assumption alone (first order, S1) and "
        "with all its interactions (total, ST), with 95% bootstrap intervals.",
        "",
        "The outcomes are probabilities, smooth in every assumption; they describe the horizon, not what "
        "happens after it. Both methods vary every assumption over its full stated range, not over the "
        "constrained ensemble: their indices need assumptions drawn independently over a box, which the "
        "members that fit the record (correlated, weighted) are not. `reports/constrained/report.md` says which "
        "ranges the record narrows; for those, an index here counts parts of the range the record rules out.",
        "",
    ]
    if wide:
        lines += [f"**Warning:** with {sobol_n:,} base samples, the Sobol' intervals are too wide to rank the "
                  f"assumptions for {', '.join(f'`{w}`' for w in wide)} (the widest total-index interval is more "
                  "than half the largest index). Read those rankings as rough, or run with more samples.", ""]
    for outcome in ("p_ceasefire_horizon", "reserves_at_horizon"):
        lines += [f"### One at a time: {plain_name(outcome)}", "",
                  *outcome_section("oat", oat[outcome], params, outcome, directory, f"tornado-{outcome}.png",
                                   horizon=days)]
    for outcome in SOBOL_OUTCOMES:
        table = sobol[outcome]
        lines += [f"### Sobol' indices: {plain_name(outcome)}", "",
                  *outcome_section("sobol", table, params, outcome, directory, f"sobol-{outcome}.png",
                                   horizon=days)]
        s1 = table["S1"].clip(lower=0).sum()
        lines += [f"The first-order indices add up to {s1:.2f}: the rest of the variance, {max(1 - s1, 0):.2f}, "
                  "comes from assumptions acting together, so no single assumption settles this outcome on "
                  "its own." if s1 < 0.7 else
                  f"The first-order indices add up to {s1:.2f}: most of the variance comes from assumptions "
                  "acting one at a time.", ""]
    final = max(over_time)
    at_end = {str(k): (float(r["ST"]), float(r["ST_conf"])) for k, r in over_time[final].iterrows()}
    lines += ["### Over time: the chance of a ceasefire", "",
              f"Total Sobol' indices of the chance a ceasefire has been agreed (`{OVER_TIME[0]}`) every "
              f"{OVER_TIME[1]:g} days, for the six assumptions with the largest indices on average; shaded: 95% "
              "intervals. "
              + ranking(f"the chance of a ceasefire by day {final:g}", at_end,
                        {k: f"*{label(params, k)}*" for k in at_end}), "",
              "![Total Sobol' indices of the chance of a ceasefire over time](sobol-over-time.png)", ""]
    return lines

