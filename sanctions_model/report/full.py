"""The full analysis as one report: scenarios, how sure, which assumptions decide, the article.

:func:`write_report` runs, in order,

1. every scenario at the central value of every assumption;
2. an ensemble: the same Latin-hypercube draws of every uncertainty under each scenario;
3. one-at-a-time sensitivity (tornado charts) and Sobol' indices with bootstrap intervals,
   including Sobol' indices of Russia's willingness at each month, under ``status_quo``;
4. for each of the article's assumptions, its parameters held at each end of their range
   over the ensemble's draws, and the walk through those assumptions from the numbers above;

and writes ``report.md`` with its figures and tables into a directory, whole or not at all.
The same arguments and seed give the same files, byte for byte, apart from the date in
the provenance table.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..analysis import sensitivity as sa
from ..errors import InputError
from ..inputs.params import ParameterSet, load_params, load_scenario, scenario_names
from ..outdir import atomic_directory, check_target
from ..provenance import combined_digest
from ..runs.describe import share_with_interval
from ..runs.designs import uncertainties
from ..runs.ensemble import Ensemble, at_each_end, run_ensemble
from ..runs.executors import check_workers
from ..runs.run import RunResult, check_days, simulate
from .article import ARTICLE_ASSUMPTIONS, REFERENCE, resolve, walkthrough, where_to_vary
from .figures import fan_figure, indices_over_time_figure, trajectories_figure, uncertainty_figure
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
from .sensitivity import label, outcome_section, plain_name

#: Outcomes of the one-at-a-time analysis (tornado charts), and of the Sobol' analysis.
OAT_OUTCOMES = ("days_to_russia_willing", "days_to_talks", "reserves_at_horizon")
SOBOL_OUTCOMES = ("days_to_russia_willing", "days_to_talks")
#: The trajectory whose Sobol' indices are reported over time, and the interval [day].
OVER_TIME = ("russia_willingness", 30.0)


def _log_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: The summary table's share columns: (column of :meth:`Ensemble.shares`, heading; {h} is the horizon).
SUMMARY_COLUMNS = (("Russia willing within 100 days", "Russia willing within 100 days"),
                   ("Russia willing within horizon", "Russia willing within {h}"),
                   ("talks within 100 days", "talks within 100 days"),
                   ("talks within horizon", "talks within {h}"))


def journalist_summary(runs: Sequence[RunResult], ensemble: Ensemble) -> list[str]:
    """The summary table: a row per scenario, the share of sampled sets with each outcome (with its
    95% Wilson interval), and what the model finds at the central assumptions."""
    shares, n, horizon = ensemble.shares(), ensemble.n, f"{ensemble.days:g} days"
    heads = [h.format(h=horizon) for _, h in SUMMARY_COLUMNS]
    lines = [f"| scenario | {' | '.join(heads)} | talks at the central assumptions |",
             "|---|" + "---|" * (len(heads) + 1)]
    for run in runs:
        title = load_scenario(run.label).title if run.label in scenario_names() else run.label
        o = run.outcomes
        central = f"day {o['days_to_talks']:.0f}" if o["talks_within_horizon"] else f"none within {horizon}"
        cells = [share_with_interval(shares.loc[run.label, col], n) for col, _ in SUMMARY_COLUMNS]
        lines.append(f"| `{run.label}` ({title}) | {' | '.join(cells)} | {central} |")
    lines += ["", f"Each share is of the {n:,} sets of assumptions sampled across their ranges, the same sets under "
              "every scenario, with its 95% interval (Wilson) for the sampling error of estimating it from "
              f"{n:,} sets. *Talks* means both sides are willing at once, the model's condition for talks."]
    return lines


def deciders(sobol: pd.DataFrame, params: ParameterSet) -> str:
    """Sentences: which assumptions lead on the total Sobol' index of the day Russia becomes willing
    (a leader named only when its interval is clear of the others', :func:`ranking`), and how many
    have no measurable effect."""
    indices = {str(k): (float(r["ST"]), float(r["ST_conf"])) for k, r in sobol.iterrows()}
    labels = {k: f"*{params.parameters[k].description}*" for k in indices}
    none = int(((sobol["ST"] + sobol["ST_conf"]) < 0.005).sum())
    return (f"**Which assumptions decide it** (total Sobol' indices under `{REFERENCE}`). "
            + ranking("the day Russia becomes willing to negotiate", indices, labels)
            + f" {none} of the {len(sobol)} uncertain assumptions have no measurable effect on it (see 'Which "
            "assumptions decide the answer').")


def _check(scenarios: Sequence[str], samples: int, sobol_n: int) -> None:
    for name in scenarios:  # every scenario whole (names, values, restated ranges) before any work
        load_params(name)
    if REFERENCE not in scenarios:
        raise InputError(f"the report compares every scenario with '{REFERENCE}'; include it in the scenarios.")
    for flag, value in (("samples", samples), ("sobol_n", sobol_n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise InputError(f"{flag} must be a whole number of at least 2, got {value!r}.")
    if sobol_n & (sobol_n - 1):
        raise InputError(f"sobol_n must be a power of 2 (Sobol' sequences need it), got {sobol_n}.")
    from ..limits import check_memory

    k = len(uncertainties(load_params(REFERENCE)))
    check_memory(float(samples) * k * len(scenarios), f"{samples:,} sampled sets of {k} assumptions per scenario")
    check_memory(float(sobol_n) * (k + 2) * k, f"a Sobol' analysis at n = {sobol_n:,}")


def write_report(
    out: Path | str,
    command: str,
    *,
    scenarios: Sequence[str] | None = None,
    days: float = 730,
    samples: int = 1000,
    sobol_n: int = 1024,
    seed: int = 20250120,
    force: bool = False,
    workers: int | None = None,
    log: Callable[[str], None] = _log_to_stderr,
) -> Path:
    """Run the full analysis and write it as one Markdown report with figures into ``out``.

    Parameters
    ----------
    out : path
        Output directory, written whole or not at all; an existing one needs ``force``.
    command : str
        The command line recorded in the provenance table.
    scenarios : list of str, optional
        Scenarios to compare (default: every file in ``params/scenarios``).
    days : float [day]
        Horizon after 2025-01-20.
    samples : int
        Latin-hypercube assumption sets per scenario (the "how sure" shares and fan charts).
    sobol_n : int
        Base samples of the Sobol' analysis, a power of 2; it costs ``sobol_n * (k + 2)``
        runs for k uncertainties (k = 93: 97,280 runs at 1024).
    seed : int
        Seed of every sample (ensemble, Sobol' sequence, bootstrap).
    force : bool
        Replace an existing ``out``.
    workers : int, optional
        Local processes (default: every core); the numbers do not depend on it (beyond
        rounding in the last digits, where BLAS threads differ).
    log : callable
        Receives one line per stage (default: standard error).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    scenarios = list(scenarios) if scenarios is not None else scenario_names()
    days = check_days(days)
    _check(scenarios, samples, sobol_n)
    check_target(out, force)
    workers = check_workers(workers)

    log(f"[1/5] {len(scenarios)} scenarios at the central assumptions")
    runs = [simulate(name, days=days) for name in scenarios]
    log(f"[2/5] {samples:,} sampled assumption sets x {len(scenarios)} scenarios")
    ensemble = run_ensemble([(r.label, r.params) for r in runs], days, samples, seed, workers)
    params = load_params(REFERENCE)
    names = uncertainties(params)
    problem = sa.problem_from_params(params, names)
    log(f"[3/5] one at a time: {1 + 2 * len(names)} runs; Sobol': {sobol_n * (len(names) + 2):,} runs")
    oat = sa.oat(problem, sa.model_function(params, names, OAT_OUTCOMES, days, workers=workers), 1, seed=seed)
    variable, every = OVER_TIME
    f = sa.model_function(params, names, SOBOL_OUTCOMES, days, variable=variable, every_days=every, workers=workers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.SensitivityWarning)
        sobol = sa.sobol(problem, f, sobol_n, seed=seed)
    wide = [o for o in sobol.columns.get_level_values(0).unique()
            if any(issubclass(w.category, sa.SensitivityWarning) and f"'{o}'" in str(w.message) for w in caught)]
    over_time = {float(c.removeprefix("day_")): sobol[c] for c in sobol.columns.get_level_values(0).unique()
                 if c.startswith("day_")}
    log(f"[4/5] the article's assumptions: each parameter at both ends of its range, {samples:,} sets each")
    ends = {}
    for item in ARTICLE_ASSUMPTIONS:
        scenario = where_to_vary(item, scenarios)
        item_names = resolve(item.parameters, names)
        ends[item.title] = at_each_end(load_params(scenario), item_names, days, samples, seed, workers)
    log("[5/5] writing the report")

    out = Path(out)
    with atomic_directory(out, force=force) as tmp:
        figures = {"trajectories": "scenarios.png", "uncertainty": "uncertainty.png"}
        trajectories_figure(runs, tmp / figures["trajectories"], "Key trajectories by scenario")
        shares = ensemble.shares()
        uncertainty_figure(shares, tmp / figures["uncertainty"], samples)
        for run in runs:
            figures[f"fan:{run.label}"] = f"fan-{run.label}.png"
            fan_figure(ensemble.fans[run.label], run, tmp / figures[f"fan:{run.label}"], samples)
        pd.DataFrame({r.label: r.outcomes for r in runs}).to_csv(tmp / "outcomes.csv", float_format="%.10g",
                                                                index_label="outcome")
        shares.to_csv(tmp / "shares.csv", float_format="%.6g", index_label="scenario")
        _tidy(oat, OAT_OUTCOMES).to_csv(tmp / "oat.csv", index=False, float_format="%.6g")
        _tidy(sobol, list(sobol.columns.get_level_values(0).unique())).to_csv(
            tmp / "sobol.csv", index=False, float_format="%.6g")
        indices_over_time_figure(over_time, {n: label(params, n) for n in names},
                                 pd.Timestamp(params.start_date),
                                 f"Which assumptions drive Russia's willingness over time ({REFERENCE})",
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
            headline(runs, shares, samples),
            "",
            deciders(sobol["days_to_russia_willing"], params),
            "",
            CAVEAT,
            "",
            *([f"Every run starts on 2025-01-20 from the state of the calibrated back-test of 2022-02-24 to "
               f"2025-01-20, with its fitted values (`params/calibrated.toml`, {params.meta['calibration']}); "
               "`reports/backtest/report.md` says which of its targets the model meets and how that starting "
               "state differs from the recorded figures.", ""] if params.meta.get("calibration") else []),
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
            "`outcomes.csv` (each scenario at the central assumptions), `shares.csv` (share of sampled sets with "
            "each outcome), `oat.csv` and `sobol.csv` (the indices, tidy: outcome, input, statistic columns).",
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
        f"A day that does not come within the horizon counts as day {days + 1:g}, so these indices describe "
        "whether and when within the horizon; not what happens after it.",
        "",
    ]
    if wide:
        lines += [f"**Warning:** with {sobol_n:,} base samples, the Sobol' intervals are too wide to rank the "
                  f"assumptions for {', '.join(f'`{w}`' for w in wide)} (the widest total-index interval is more "
                  "than half the largest index). Read those rankings as rough, or run with more samples.", ""]
    for outcome in ("days_to_russia_willing", "reserves_at_horizon"):
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
    lines += ["### Over time: Russia's willingness to negotiate", "",
              f"Total Sobol' indices of Russia's willingness (`{OVER_TIME[0]}`) every {OVER_TIME[1]:g} days, for the "
              "six assumptions with the largest indices on average; shaded: 95% intervals. "
              + ranking(f"Russia's willingness on day {final:g}", at_end,
                        {k: f"*{label(params, k)}*" for k in at_end}), "",
              "![Total Sobol' indices of Russia's willingness over time](sobol-over-time.png)", ""]
    return lines

