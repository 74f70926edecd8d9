"""The back-test: the model over 2022-02-24 to 2025-01-20 on the historical path, against the record."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

import sanctions_model as sm
from sanctions_model.analysis.backtesting import EVENTS, TARGETS, backtest
from sanctions_model.analysis.calibrate import FROM_RECORD, JOINED
from sanctions_model.errors import InputError
from sanctions_model.inputs.history import load_history
from sanctions_model.report.backtest import write_backtest


@pytest.fixture(scope="module")
def result():
    return backtest()


def test_trajectories_cover_the_history_with_a_projections_columns(result):
    traj = result.trajectories
    assert traj.index[0] == pd.Timestamp("2022-02-24") and traj.index[-1] == pd.Timestamp("2025-01-20")
    assert list(traj.columns) == list(sm.simulate(days=30).trajectories.columns)
    assert np.isfinite(traj.drop(columns=["day"]).to_numpy()).all()


def test_the_historical_path_is_followed(result):
    traj = result.trajectories
    assert traj.loc["2022-02-24", "sanctions_target"] == pytest.approx(0.05)
    assert traj.loc["2023-01-01", "sanctions_target"] == pytest.approx(0.42)
    forces = traj["russia_forces"]
    mobilised = forces.loc["2022-11-20"] - forces.loc["2022-09-21"]  # the two months of the mobilisation
    later = forces.loc["2023-03-21"] - forces.loc["2023-01-20"]
    assert mobilised > later + 200, "about 300,000 mobilised in two months"
    assert traj.loc["2025-01-20", "sanctions_target"] == pytest.approx(0.5 + 0.1 * 10 / 48, abs=1e-3)
    assert traj["territory"].iloc[0] == pytest.approx(0.068)


def test_fit_is_tidy_and_its_arithmetic_holds(result):
    fit = result.fit
    assert {"series", "date", "period", "model", "recorded", "unit", "error", "relative_error"} <= set(fit.columns)
    assert (fit["date"] >= pd.Timestamp("2022-02-24")).all(), "nothing before the run is compared"
    np.testing.assert_allclose(fit["error"], fit["model"] - fit["recorded"])
    # one figure recomputed by hand: liquid NWF on 2024-01-01 = reserves (actual $) x the day's rate / 1000
    row = fit[(fit["series"] == "nwf_liquid") & (fit["date"] == pd.Timestamp("2024-01-01"))].iloc[0]
    day = result.trajectories.loc["2024-01-01"]
    assert day["rub_per_usd"] == pytest.approx(88.5)
    assert row["model"] == pytest.approx(day["reserves"] * day["rub_per_usd"] / 1000, rel=1e-9)
    # a yearly figure is the model's average over the year
    rev = fit[(fit["series"] == "oil_gas_revenue") & (fit["date"] == pd.Timestamp("2023-12-31"))].iloc[0]
    assert rev["model"] == pytest.approx(result.trajectories.loc["2023", "oil_revenue"].mean() * 92 / 1000)
    # the defence budget is followed as recorded, so it fits (a check on the path, not on the model)
    defence = fit[fit["series"] == "defence_spending"]
    assert (defence["relative_error"].abs() < 0.05).all()
    assert set(result.not_compared) == {"era_loans", "nwf_liquid_usd", "russian_casualty_rate",
                                        "russian_recruitment", "western_aid_allocated"}


def test_targets_are_checked_figure_by_figure(result):
    t = result.targets
    counts = t.groupby("target").size().to_dict()
    expected = [3, 7, 2, 1, 3, 6, 7, 17, 6, 5, 3, 3]  # recorded figures each target's series has in its period
    per_target = {t[0]: n for t, n in zip(TARGETS, expected, strict=True)}
    events = {name: 1 for name, *_ in EVENTS}  # the decision core's two checks against the record (issue 15)
    assert counts == {**per_target, "direction of inflation each year": 3, **events}
    relative = t[t["target"] == TARGETS[0][0]]
    assert (relative["met"] == (relative["error"].abs() <= 0.15)).all()
    inflation = t[t["target"] == "direction of inflation each year"]
    assert list(inflation["recorded"].round(2)) == [3.55, -4.52, 2.1]  # 8.39 -> 11.94 -> 7.42 -> 9.52


# Each target check of issue 5, as a test of the calibrated back-test. The checks the model
# misses are listed here (strict: if one starts to pass, the test says so and the list must
# shrink); the report states the same.
KNOWN_MISSES = {
    # the monetary block of issue 14 (item 2), as fitted to the key rate and inflation of 2022-2024:
    # the pass-through it fits (0.03 of the rouble's fall) leaves most of March 2022's jump in prices
    # (7.6% in the month) unexplained, so 2022 averages 7.3% against 11.94% recorded, and the
    # direction of 2022 and 2023 follows from that year
    ("inflation within 2 points each year", "2022-12-31"),
    ("direction of inflation each year", "2022-12-31"),
    ("direction of inflation each year", "2023-12-31"),
    # the base effect of spring 2022 and the low price growth of its summer are not in the model's
    # smooth inflation: twelve-month inflation in March-April 2023 is 6% against 3.5 and 2.3
    ("inflation over twelve months within 2 points", "2023-03-31"),
    ("inflation over twelve months within 2 points", "2023-04-30"),
    # and from September 2022 to August 2023, when prices rose slowly (5.15%), the model's smooth
    # inflation stays near 7% (7.2%, a miss of 2.1 points)
    ("inflation over twelve months within 2 points", "2023-08-31"),
    # the third quarter of 2023 (12.1% annualised) came with the rouble's fall, which the fitted
    # pass-through barely carries into prices
    ("price growth over three months within 3 points", "2023-09-30"),
    # with that inflation the stance is about 4 points above the 7.5-8.5% held in June-July 2023,
    # and the rises of autumn 2023 come late (12.5% against 16% at the end of the year)
    ("key rate within 3 points", "2023-06-09"),
    ("key rate within 3 points", "2023-07-21"),
    ("key rate within 3 points", "2023-12-31"),
    # the volume follows the bite smoothly (its sensitivity fixed at 0.22, not identified), not the
    # dip of early 2023, the recovery by April and the low of July (7.3 mb/d)
    ("oil export volume within 5%", "2023-04-30"),
    ("oil export volume within 5%", "2023-07-31"),
}
CHECKS = list(dict.fromkeys((name, date) for name, series, since, _, _ in TARGETS  # each (target, date) once
                            for date in load_history().query("series == @series")["date"]
                            if date >= pd.Timestamp(since) and date <= pd.Timestamp("2025-01-20")))
CHECKS += [("direction of inflation each year", f"{year}-12-31") for year in (2022, 2023, 2024)]


@pytest.mark.parametrize("target, date", [
    pytest.param(name, str(pd.Timestamp(date).date()), marks=pytest.mark.xfail(
        strict=True, reason="a known miss, stated in the report")
                 if (name, str(pd.Timestamp(date).date())) in KNOWN_MISSES else ())
    for name, date in CHECKS])
def test_target(result, target, date):
    row = result.targets[(result.targets["target"] == target) & (result.targets["date"] == pd.Timestamp(date))]
    assert len(row) >= 1  # two Urals figures end on 2023-06-30 (June, and January to June)
    assert row["met"].all(), row.to_dict("records")


def test_a_front_frozen_since_2022_fails_the_territory_gain_target():
    """The level of territory alone cannot tell a frozen front from the record (within 2 points
    of 17-18%); the 2024 gain can."""
    frozen = backtest(overrides={"forces.advance_initial": 0.0}).targets
    level = frozen[frozen["target"] == "territory within 2 points from 2023"]
    gain = frozen[frozen["target"] == "territory gained in 2024 within half of it"]
    assert level["met"].all() and len(gain) == 1
    assert not gain["met"].iloc[0] and abs(gain["model"].iloc[0]) < 0.05


def test_report_is_written_with_its_figure_and_tables(result, tmp_path):
    out = write_backtest(result, tmp_path / "bt", "test")
    text = (out / "report.md").read_text()
    met = int(result.targets["met"].sum())
    assert f"meets {met} of the {len(result.targets)} target checks" in text
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (out / link).is_file()
    for name in ("fit.csv", "targets.csv", "trajectories.csv"):
        assert len(pd.read_csv(out / name)) > 0
    assert "The war of manoeuvre" in text and "## Provenance" in text
    assert result.params.meta["calibration"] in text, "the report names the calibration it used"


def test_bad_input(tmp_path):
    with pytest.raises(InputError, match="unknown scenario") as caught:
        backtest("histroy")
    assert "the back-test's): history_2022_2025" in str(caught.value), "names the back-test's scenario"
    with pytest.raises(InputError, match="own start_date"):
        backtest("status_quo")
    with pytest.raises(InputError, match="outside its range"):
        backtest(overrides={"fiscal.reserves_initial": 500})


def test_cli(tmp_path):
    res = run_cli("backtest", "--out", tmp_path / "b")
    assert res.returncode == 0, res.stderr
    assert "target checks met" in res.stdout and (tmp_path / "b" / "report.md").is_file()
    again = run_cli("backtest", "--out", tmp_path / "b")
    assert again.returncode == 2 and "already exists" in again.stderr
    report = (tmp_path / "b" / "report.md").read_text()
    assert "## Where the projection starts" in report and "with the base file's values" in report
    for args, message in ((["--calibrated", str(tmp_path / "none.toml")], "file not found"),
                          (["--calibrated", "params/calibrated.toml", "--uncalibrated"], "one or the other")):
        bad = run_cli("backtest", *args, "--out", tmp_path / "c")
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
        assert not (tmp_path / "c").exists(), "nothing written"
    plain = run_cli("backtest", "--uncalibrated", "--out", tmp_path / "u")
    assert plain.returncode == 0, plain.stderr
    assert "none (base values)" in (tmp_path / "u" / "report.md").read_text()


# --- calibration -------------------------------------------------------------------------------

def test_calibration_lowers_the_cost_within_the_ranges(tmp_path):
    from sanctions_model.analysis.calibrate import calibrate, cost_at, load_calibrated, write_calibrated

    result = calibrate(names=["oil.tax_take"], series=["oil_gas_revenue"], max_evaluations=3)
    row = result.table.loc["oil.tax_take"]
    assert row["low"] <= row["value"] <= row["high"]
    assert result.cost_after <= result.cost_before
    # the start, then at most max_evaluations steps, each a run and a Jacobian batch (the point and one column)
    assert result.evaluations <= 1 + 3 * (1 + 2), "at most max_evaluations steps, each with its Jacobian batch"
    assert result.cost_after == pytest.approx(cost_at({"oil.tax_take": row["value"]}, series=["oil_gas_revenue"]),
                                              rel=1e-6)
    path = write_calibrated(result, tmp_path / "cal.toml", "test")
    fit, table, start = load_calibrated(path)
    assert fit["series"] == ["oil_gas_revenue"] and table.loc["oil.tax_take", "value"] == pytest.approx(
        row["value"], rel=1e-5)
    assert table.loc["oil.tax_take", "applies"] == "", "not restated by the history: applies to every run"
    assert set(start["stock"]) == set(JOINED) and set(start.index) == set(JOINED.values())
    # the written file is a layer load_params applies: the fitted value and the starting state
    params = sm.load_params(calibration=path)
    assert params["oil.tax_take"] == pytest.approx(row["value"], rel=1e-5)
    assert params["forces.territory_initial"] == pytest.approx(start.loc["forces.territory_initial", "value"])
    with pytest.raises(InputError, match="already exists"):
        write_calibrated(result, path, "test")


@pytest.mark.parametrize("kwargs, message", [
    ({"names": ["oil.tax_tak"]}, "unknown parameter"),
    ({"names": ["macro.key_rate_initial"]}, "range .* is a point"),
    ({"series": ["gdp"]}, "unknown recorded series"),
    ({"max_evaluations": 1}, "max_evaluations"),
])
def test_calibration_bad_input(kwargs, message):
    from sanctions_model.analysis.calibrate import calibrate

    with pytest.raises(InputError, match=message):
        calibrate(**kwargs)


def test_load_calibrated_bad_files(tmp_path):
    from sanctions_model.analysis.calibrate import load_calibrated

    with pytest.raises(InputError, match="file not found"):
        load_calibrated(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("[fit]\nid = 'x'\n")
    with pytest.raises(InputError, match="not a calibration file"):
        load_calibrated(tmp_path / "bad.toml")


def test_committed_calibration_is_current():
    """params/calibrated.toml: its starting values are today's, and its cost is reproduced at its values."""
    from sanctions_model.analysis.calibrate import cost_at, load_calibrated
    from sanctions_model.inputs.params import load_params

    fit, table, start = load_calibrated()
    params = load_params(fit["scenario"], calibration=False)
    for name, row in table.iterrows():
        assert row["before"] == pytest.approx(params[name], rel=1e-5), f"{name} changed: run `make calibrate`"
    assert cost_at(table["value"].to_dict(), fit["scenario"], fit["series"]) == pytest.approx(fit["cost_after"],
                                                                                            rel=1e-3)
    base = load_params(calibration=False)
    for name, row in start.iterrows():
        assert row["recorded"] == pytest.approx(base[name]), f"{name} changed in params/base.toml: run `make calibrate`"
    # the starting state: the record where it exists, else the calibrated back-test's state on 2025-01-20
    end = backtest(calibration=True).trajectories.iloc[-1]
    for name, row in start.iterrows():
        assert row["backtest"] == pytest.approx(end[row["stock"]], rel=2e-3), f"{name}: run `make calibrate`"
        assert row["source"] == ("record" if row["stock"] in FROM_RECORD else "back-test"), name
        assert row["value"] == (row["recorded"] if row["source"] == "record" else row["backtest"]), name


def test_the_calibrations_jacobian_is_one_batch_and_agrees_with_single_runs():
    """The Jacobian's k + 1 runs go through the evaluator as one batch, and each column matches
    a difference of two separate single runs (the solver's tolerance is far below the step)."""
    from sanctions_model.analysis import calibrate as cal
    from sanctions_model.inputs.history import load_history

    params = sm.load_params(cal.SCENARIO, calibration=False)
    names = ["oil.tax_take", "oil.base_discount"]
    counter = [0]
    residuals = cal._residual_function(params, names, ["oil_gas_revenue", "deficit"], load_history(), counter)
    specs = [params.parameters[n] for n in names]
    lows, highs = np.array([s.low for s in specs]), np.array([s.high for s in specs])
    x = np.array([s.value for s in specs])
    jac = cal._jacobian(residuals, lows, highs)(x)
    assert counter[0] == 3, "one batch: the point and one run per parameter"
    assert jac.shape == (residuals(x).shape[1], 2) and np.abs(jac).max() > 0
    h = cal.DIFF_STEP * np.abs(x)  # SciPy's 2-point step for diff_step (x > 0 here, far from the bounds)
    for j in range(2):
        moved = x.copy()
        moved[j] += h[j]
        single = (residuals(moved)[0] - residuals(x)[0]) / h[j]
        np.testing.assert_allclose(jac[:, j], single, atol=1e-3 * np.abs(single).max())
