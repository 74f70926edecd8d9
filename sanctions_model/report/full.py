"""The full analysis as one report: scenarios, how sure, which assumptions decide, the article.

:func:`write_report` renders a :class:`~sanctions_model.analysis.studies.FullStudy`, which
:func:`~sanctions_model.analysis.studies.full_study` computes, in order:

1. every scenario at the central value of every assumption;
2. an ensemble: the same Latin-hypercube draws of every uncertainty under each scenario;
3. one-at-a-time sensitivity (tornado charts) and Sobol' indices with bootstrap intervals,
   including Sobol' indices of the chance of a ceasefire at each month, under ``status_quo``;
4. for each of the article's assumptions, its parameters held at each end of their range
   over the ensemble's draws, and the walk through those assumptions from the numbers above;

:func:`write_report` writes ``report.md`` with its figures and tables into a directory, whole or
not at all; it runs nothing and opens no parameter file.
The same arguments and seed give the same files, byte for byte, apart from the date in
the provenance table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..analysis.article import REFERENCE
from ..analysis.calibrate import FROM_RECORD, JOINED
from ..analysis.studies import OAT_OUTCOMES, OVER_TIME, SOBOL_OUTCOMES, FullStudy
from ..errors import InputError
from ..inputs.params import ParameterSet
from ..outdir import atomic_directory, check_target
from ..provenance import combined_digest
from ..runs.describe import percent, share_with_interval
from ..runs.ensemble import Ensemble
from ..runs.run import RunResult
from .article import walkthrough
from .figures import indices_over_time_figure, scenario_figures
from .markdown import (
    CAVEAT,
    calibration_note,
    central_section,
    headline,
    provenance,
    ranking,
    scenarios_section,
    stock_words,
    uncertainty_section,
)
from .sensitivity import label, outcome_section, plain_name

#: The summary table's columns: (column of :meth:`Ensemble.shares`, heading; {h} is the horizon).
SUMMARY_COLUMNS = (("talks within 100 days", "direct talks within 100 days"),
                   ("talks within horizon", "direct talks within {h}"),
                   ("ceasefire within 1 year", "ceasefire within a year"),
                   ("ceasefire within horizon", "ceasefire within {h}"))


def journalist_summary(runs: Sequence[RunResult], ensemble: Ensemble) -> list[str]:
    """The summary table: a row per scenario, the chance of each outcome over the sampled sets (with the
    95% Wilson interval of its sampling error), and what the model finds at the central assumptions."""
    shares, n, horizon = ensemble.shares(), ensemble.n, f"{ensemble.days:g} days"
    columns = [(col, h) for col, h in SUMMARY_COLUMNS if col in shares]  # "within a year" needs a year
    heads = [h.format(h=horizon) for _, h in columns]
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
    """The summary's second table: the chances over the members of the constrained ensemble (each from
    its own state on 2025-01-20, weighted), beside those over the unconstrained sets; or why there is none."""
    proj = study.constrained
    lines = ["**Constrained by the record.** "]
    if proj is None:
        return [lines[0] + study.constrained_note, ""]
    try:
        constrained = proj.shares()
    except InputError as exc:
        return [lines[0] + f"Not reported: {exc}", ""]
    unconstrained = study.ensemble.shares()
    horizon = f"{study.days:g} days"
    columns = [(col, h.format(h=horizon)) for col, h in SUMMARY_COLUMNS if col in constrained and col in unconstrained]
    heads = " | ".join(f"{h}: all sets | {h}: fit the record" for _, h in columns)
    margin = 100 * 1.96 * (0.25 / proj.effective_size) ** 0.5
    lines = [lines[0] + f"The same scenarios from each of the {proj.outcomes['member'].nunique():,} members of the "
             f"constrained ensemble (`params/{proj.path.name}`: the sets of assumptions that come closest to the "
             f"record of 2022-02-24 to {proj.as_of}, `reports/constrained/report.md`), each continuing from its own "
             f"state on {proj.as_of} and weighted by the chance it gave what happened (talks in spring 2022, no "
             f"ceasefire); worth {proj.effective_size:,.0f} equally weighted members, so each figure's sampling "
             f"margin is at most ±{margin:.0f} points (95%). Beside each, the same chance over every sampled set "
             "(the table above):", "",
             f"| scenario | {heads} |", "|---|" + "---|" * (2 * len(columns))]
    for name in constrained.index:
        cells = " | ".join(f"{percent(unconstrained.loc[name, col])}% | **{percent(constrained.loc[name, col])}%**"
                           for col, _ in columns)
        lines.append(f"| `{name}` | {cells} |")
    return lines + ["", "The two differ because the record rules out some of the assumptions the wider figure counts, "
                    "and because the constrained members start from their own simulated states on 2025-01-20 (the "
                    "sampled sets start from the record and the calibrated back-test) without the single-point "
                    "calibration. Neither is a forecast; both are the model's chances under stated assumptions.", ""]


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
    check_target(out, force)
    runs, ensemble, params, names = study.runs, study.ensemble, study.params, study.names
    oat, sobol, wide, over_time, ends = study.oat, study.sobol, study.wide, study.over_time, study.ends
    scenarios, days, samples, sobol_n, seed = study.scenarios, study.days, study.samples, study.sobol_n, study.seed
    out = Path(out)
    with atomic_directory(out, force=force) as tmp:
        figures = scenario_figures(runs, ensemble, tmp, samples)
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
            *journalist_summary(runs, ensemble),
            "",
            *constrained_summary(study),
            headline(runs, shares, samples),
            "",
            deciders(sobol["p_ceasefire_horizon"], params),
            "",
            CAVEAT,
            "",
            *([f"Every run starts on 2025-01-20 from the record where it exists ({stock_words(FROM_RECORD)}) and, "
               f"for {stock_words(s for s in JOINED if s not in FROM_RECORD)}, from the state of the calibrated "
               "back-test of 2022-02-24 to 2025-01-20, with its fitted values (`params/calibrated.toml`, "
               f"{params.meta['calibration']}); `reports/backtest/report.md` says which of its targets the model "
               "meets and how its state on 2025-01-20 differs from the recorded figures.", ""]
              if params.meta.get("calibration") else []),
            "## The article's assumptions, one by one",
            "",
            *walkthrough({r.label: r for r in runs}, ensemble, {o: sobol[o] for o in SOBOL_OUTCOMES}, ends, params),
            "## The scenarios at the central assumptions",
            "",
            *central_section(runs, figures["trajectories"]),
            "## How sure: the same question across the plausible range of every assumption",
            "",
            *uncertainty_section(runs, shares, figures, samples),
            *_sensitivity_section(oat, sobol, over_time, wide, params, names, tmp, days, sobol_n, seed),
            "## The scenarios",
            "",
            *scenarios_section(runs),
            "## Files",
            "",
            "`outcomes.csv` (each scenario at the central assumptions), `shares.csv` (the chance of each outcome "
            "over the sampled sets), `oat.csv` and `sobol.csv` (the indices, tidy: outcome, input, statistic columns).",
            "",
            provenance({"scenarios": ", ".join(scenarios), "horizon": f"{days:g} days",
                        "samples per scenario": f"{samples:,}", "sensitivity reference": REFERENCE,
                        "Sobol' base samples": f"{sobol_n:,} ({sobol.attrs['n_evaluations']:,} runs)",
                        "one-at-a-time runs": oat.attrs["n_evaluations"], "seed": seed,
                        "parameter hash": combined_digest([r.params.digest() for r in runs]),
                        "calibration": calibration_note(runs[0].params)}, command),
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
        "happens after it.",
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

