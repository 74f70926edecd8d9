"""The committed report (`make report` -> reports/analysis/) must match the current model.

A stale report fails here: when the parameters or scenarios change (the parameter hash),
when the equations change (each scenario's outcomes at the central assumptions), and when
either changes the sampled results (the shares of the 1,000 sampled assumption sets and the
one-at-a-time indices are recomputed at full size and compared with the committed tables).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.analysis import sensitivity as sa
from sanctions_model.analysis.studies import OAT_OUTCOMES
from sanctions_model.inputs.params import load_params, scenario_names
from sanctions_model.provenance import combined_digest
from sanctions_model.runs.designs import uncertainties
from sanctions_model.runs.ensemble import run_ensemble

REPORT = Path(__file__).resolve().parent.parent / "reports" / "analysis" / "report.md"
STALE = "the committed report is stale: run `make report` and commit reports/"


@pytest.fixture(scope="module")
def provenance() -> dict[str, str]:
    assert REPORT.is_file(), "reports/analysis/report.md is missing: run `make report`"
    rows = re.findall(r"^\| ([^|]+) \| (.+) \|$", REPORT.read_text().split("## Provenance", 1)[1], flags=re.M)
    return {k.strip(): v.strip() for k, v in rows}


def test_committed_report_matches_the_parameters(provenance):
    names = scenario_names()
    assert provenance["scenarios"] == ", ".join(names), STALE
    assert provenance["parameter hash"] == combined_digest([load_params(n).digest() for n in names]), STALE


def test_committed_report_links_resolve():
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", REPORT.read_text())
    assert links and all((REPORT.parent / link).is_file() for link in links)


def test_committed_outcomes_match_the_current_model():
    committed = pd.read_csv(REPORT.parent / "outcomes.csv", index_col="outcome")
    for name in committed.columns:
        now = sm.simulate(name).outcomes
        for key, value in committed[name].items():
            current = float(now[key])
            expected = float(value) if str(value) not in ("True", "False") else float(value == "True")
            assert (np.isnan(expected) and np.isnan(current)) or np.isclose(current, expected, rtol=1e-6, atol=1e-9), (
                f"{name}: {key} is {current}, the committed report says {expected}. {STALE}")


def test_committed_shares_are_reproduced(provenance):
    """The 'how sure' table, recomputed at the committed size and seed."""
    samples = int(provenance["samples per scenario"].replace(",", ""))
    committed = pd.read_csv(REPORT.parent / "shares.csv", index_col="scenario")
    now = run_ensemble(list(committed.index), 730, samples, int(provenance["seed"])).shares()
    np.testing.assert_allclose(now.to_numpy(), committed.to_numpy(), atol=1.5 / samples, err_msg=STALE)


def test_committed_one_at_a_time_indices_are_reproduced():
    committed = pd.read_csv(REPORT.parent / "oat.csv").set_index(["outcome", "input"])
    params = load_params("status_quo")
    names = uncertainties(params)
    result = sa.oat(sa.problem_from_params(params, names), sa.model_function(params, names, OAT_OUTCOMES, 730), 1)
    for outcome in OAT_OUTCOMES:
        table = committed.loc[outcome].loc[names]
        np.testing.assert_allclose(result[outcome].loc[names, ["low", "high"]].to_numpy(),
                                   table[["low", "high"]].to_numpy(), rtol=1e-5, atol=1e-6, err_msg=STALE)


BACKTEST = REPORT.parent.parent / "backtest"


def test_committed_backtest_is_current():
    """The committed back-test (reports/backtest/) matches the current model, path and record."""
    from sanctions_model.analysis.backtesting import backtest

    assert (BACKTEST / "report.md").is_file(), "reports/backtest/report.md is missing: run `make report`"
    text = (BACKTEST / "report.md").read_text()
    rows = re.findall(r"^\| ([^|]+) \| (.+) \|$", text.split("## Provenance", 1)[1], flags=re.M)
    prov = {k.strip(): v.strip() for k, v in rows}
    result = backtest()
    assert prov["parameter hash"] == result.params.digest(), STALE
    committed = pd.read_csv(BACKTEST / "targets.csv")
    assert len(committed) == len(result.targets), STALE
    np.testing.assert_allclose(committed["model"], result.targets["model"], rtol=1e-5, err_msg=STALE)
    assert list(committed["met"]) == list(result.targets["met"]), STALE


def test_committed_constrained_ensembles_are_current():
    """The committed constrained ensembles (`make constrain`) match the current parameters and model:
    the prior's names and ranges are the historical scenario's, and the first batch of each prior,
    drawn and run through the history again exactly as `constrain` ran it, gives the kept members'
    values, scores and states on the cut date that the file records (for the ensemble on the record
    to 2025-01-20; the one to 2024-01-20 has its kept members' values checked against its prior)."""
    from sanctions_model.analysis import constrain as con
    from sanctions_model.inputs import ensemble_file
    from sanctions_model.inputs.params import params_dir

    stale = "the committed constrained ensemble is stale: run `make constrain` and commit params/ and reports/"
    history = load_params("history_2022_2025", calibration=False)
    base = tuple((k, float(v)) for k, v in history.values().items())
    for name in (ensemble_file.DEFAULT_NAME, ensemble_file.AS_OF_2024_NAME):
        file = ensemble_file.read(params_dir() / name)
        design = sm.Design.build("lhs", history, int(file.meta["prior_members"]), int(file.meta["seed"]),
                                 chunk_size=con.BATCH_ROWS)
        assert file.names == list(design.names), f"{name}: {stale}"
        np.testing.assert_allclose(file.meta["lows"], design.lows, err_msg=f"{name}: {stale}")
        np.testing.assert_allclose(file.meta["highs"], design.highs, err_msg=f"{name}: {stale}")
        for i in np.unique(file.members["member"].to_numpy()[:50] // con.BATCH_ROWS)[:3]:
            kept = file.members[file.members["member"] // con.BATCH_ROWS == i]
            np.testing.assert_allclose(kept[file.names].to_numpy(),
                                       design.chunk(int(i))[kept["member"].to_numpy() % con.BATCH_ROWS],
                                       rtol=1e-12, err_msg=f"{name}: {stale}")
        if name != ensemble_file.DEFAULT_NAME:
            assert file.meta["hindcast"], f"{name}: {stale}"
            continue
        days = float((pd.Timestamp(file.meta["as_of"]).date() - history.start_date).days)
        talks = float((con.TALKS_BY.date() - history.start_date).days)
        scored = con.score_batch(con.HistoryTask(design.to_dict(), 0, base, days,
                                                 con.figures(history.start_date, days), talks))
        first = file.members[file.members["member"] < con.BATCH_ROWS]
        assert len(first) >= 5, f"{name}: {stale}"
        rows = first["member"].to_numpy()
        np.testing.assert_allclose(first[file.names].to_numpy(), design.chunk(0)[rows], rtol=1e-12,
                                   err_msg=f"{name}: {stale}")
        rms = con.series_rms(scored.model, con.figures(history.start_date, days))
        score = np.sqrt((rms.to_numpy() ** 2).mean(axis=1))[rows]
        np.testing.assert_allclose(score, first["score"], rtol=1e-9, err_msg=f"{name}: {stale}")
        states = file.states.loc[first.index].to_numpy().T
        np.testing.assert_allclose(scored.final[:, rows], states, rtol=1e-9, atol=1e-12, err_msg=f"{name}: {stale}")


def test_the_report_never_calls_an_assumption_without_effect_where_it_moves_the_chances():
    """An assumption held at its ends under a scenario other than the Sobol' analysis's (status_quo)
    may move the chances there and have no measurable index under status_quo (its lever is off
    there): the committed report must not set 'no measurable effect' beside a move of more than a point
    (two as rounded)."""
    text = REPORT.read_text()
    items = re.findall(r"^- \*.*?under `(\w+)`: the chance of a ceasefire within the horizon is ([\d.]+)% then "
                       r"([\d.]+)%, and of direct talks within 100 days ([\d.]+)% then ([\d.]+)%\.(.*)$", text, re.M)
    assert len(items) >= 10
    for scenario, c_low, c_high, t_low, t_high, rest in items:
        moves = max(abs(float(c_high) - float(c_low)), abs(float(t_high) - float(t_low))) >= 2
        if scenario != "status_quo" and moves:
            assert "no measurable effect for" not in rest, (scenario, c_low, c_high, rest[:200])


def test_a_year_long_horizon_gives_the_chance_of_a_ceasefire_within_a_year_once():
    """Over 365 days the chance within a year is the horizon's: a run's summary and a comparison's
    table of shares say it once; over any other horizon both are given."""
    from sanctions_model.report.markdown import uncertainty_section
    from sanctions_model.runs.describe import summary

    shares = pd.DataFrame({"talks within 100 days": [0.3], "talks within horizon": [0.5],
                           "ceasefire within 1 year": [0.1], "ceasefire within horizon": [0.2]}, index=["status_quo"])
    for days, twice in ((365, False), (400, True)):
        run = sm.simulate(days=days)
        assert ("within a year" in summary(run)) == twice, days
        table = "\n".join(uncertainty_section([run], shares, {"uncertainty": "u.png"}, 100))
        assert ("ceasefire within 1 year" in table) == twice and "ceasefire within horizon" in table, days


def test_the_appendix_says_who_changed_a_value():
    """A value a scenario or the user changed is not shown beside the base value's source alone."""
    from sanctions_model.report.markdown import parameter_appendix

    run = sm.simulate("hard_way", {"oil.brent_price": 60}, days=30)
    rows = {line.split(" | ")[0]: line for line in parameter_appendix(run).splitlines() if line.startswith("| `")}
    assert "| 60 | US$/bbl | 40 to 125 | set by hand (the base value 75: " in rows["| `oil.brent_price`"]
    assert "| scenario `hard_way`: article: " in rows["| `sanctions.level`"]
    assert "(the base value 0.6: " in rows["| `sanctions.level`"]
    kept = rows["| `oil.shut_in_price`"]
    assert "base value" not in kept and "set by hand" not in kept, "an unchanged value keeps its own source"
    # a dated scenario restates the source with its range: the base value's source is still the base file's
    history = sm.simulate("history_2022_2025", days=5)
    rows = {line.split(" | ")[0]: line for line in parameter_appendix(history).splitlines() if line.startswith("| `")}
    start = rows["| `forces.russia_initial`"]
    assert "| 190 | " in start and "(the base value 700: data: Troops deployed, 2024-2025" in start, start
    assert start.count("history_2022_2025") == 1, start
