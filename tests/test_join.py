"""The exchange rate, the imposed front, and the projection joined to the calibrated back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.analysis.backtesting import backtest
from sanctions_model.analysis.calibrate import FROM_RECORD, JOINED, load_calibrated
from sanctions_model.errors import InputError
from sanctions_model.inputs.params import load_params


@pytest.fixture(scope="module")
def history():
    return backtest()


# --- the exchange rate ------------------------------------------------------------------------

def test_a_weaker_rouble_brings_more_roubles_for_the_same_dollars():
    lo = sm.simulate(overrides={"macro.rub_per_usd": 92.0}, days=10).trajectories.iloc[0]
    hi = sm.simulate(overrides={"macro.rub_per_usd": 110.4}, days=10).trajectories.iloc[0]
    assert hi["urals_price"] == pytest.approx(lo["urals_price"], rel=1e-12), "the dollar price is the rouble's own"
    assert hi["oil_revenue"] / lo["oil_revenue"] == pytest.approx(110.4 / 92.0, rel=1e-9)


def test_money_is_conserved_at_a_moving_exchange_rate(history):
    """x dR/dt = Deposit - Withdrawal - Investment + x Reval, with the reserves in actual dollars,
    x moving along the recorded path and the gold part revalued along the gold price's."""
    tr = history.trajectories
    days = tr["day"].to_numpy()
    x = tr["rub_per_usd"].to_numpy() / 92.0
    assert x.min() < 0.6 and x.max() > 1.2, "the check is not vacuous: the rate moves a lot"
    d_reserves_budget = np.trapezoid(x * np.gradient(tr["reserves"].to_numpy(), days), days)
    flows = np.trapezoid((tr["reserve_inflow"] - tr["reserve_drawdown"] - tr["fund_investment"]
                          + x * tr["reserves_revaluation"]).to_numpy() / 365.0, days)
    revaluation = np.trapezoid((x * tr["reserves_revaluation"]).to_numpy() / 365.0, days)
    assert revaluation > 3, "the gold part gains with the gold price's rise"
    # the December sales are month-long steps: the grid's trapezoid rule errs at their edges
    assert d_reserves_budget == pytest.approx(flows, rel=0.03)


def test_passthrough_moves_the_price_level_by_its_share_of_the_rouble_fall(tmp_path):
    path = tmp_path / "fall.toml"
    path.write_text('title = "t"\ndescription = "a fall of the rouble and its recovery"\n'
                    '[[step]]\nparameter = "macro.rub_per_usd"\nday = 20\nlevel = 110\nphase_in_days = 40\nwhy = "t"\n'
                    '[[step]]\nparameter = "macro.rub_per_usd"\nday = 700\nlevel = 101.6\nphase_in_days = 40\n'
                    'why = "t"\n')
    run = sm.simulate(str(path), days=1400, step=0.25)
    tr = run.trajectories
    p = run.params
    extra = (tr["headline_inflation"] - tr["inflation"]).to_numpy()
    day = tr["day"].to_numpy()
    fall = np.log(110 / 101.6)
    k, a = p["macro.exchange_rate_passthrough"], p["macro.appreciation_passthrough_share"]
    lag = p["macro.passthrough_days"]
    assert 700 - 60 > 6 * lag, "each move's pass-through settles (to e^-6) before the next"
    first, second = day < 700, day >= 700
    up = np.trapezoid(extra[first], day[first]) / 365.0
    down = np.trapezoid(extra[second], day[second]) / 365.0
    assert up == pytest.approx(100 * k * fall, rel=0.01), "a fall by f raises the price level by k f"
    assert down == pytest.approx(-100 * k * a * fall, rel=0.01), "a rise lowers it by only a k f"
    at_once = 100 * k * fall * 365 / 40  # the pass-through's rate during the 40 days of the fall, were it at once
    assert extra.max() == pytest.approx(at_once * (1 - np.exp(-40 / lag)), rel=0.02), "prices follow with a lag"
    still = sm.simulate(days=1400, step=0.25).trajectories  # the same start, the rouble held still
    assert (tr["key_rate"] - still["key_rate"]).max() > 0.5, "the central bank answers headline inflation"


def test_projections_hold_the_rate_so_headline_is_underlying():
    tr = sm.simulate("status_quo", days=60).trajectories
    assert (tr["depreciation"] == 0).all()
    np.testing.assert_allclose(tr["headline_inflation"], tr["inflation"], rtol=0, atol=1e-9)


# --- the imposed front ------------------------------------------------------------------------

def test_the_war_of_manoeuvre_is_imposed_then_the_model_holds_the_front(history):
    tr = history.trajectories
    assert tr.loc["2022-03-25", "territory"] > 0.22, "the invasion's first month, as recorded"
    assert tr.loc["2022-11-12", "territory"] == pytest.approx(0.172, abs=0.003)
    ref = tr["reference_power_russia"]
    assert ref.loc[:"2022-11-01"].std() > 10, "the reference balance follows the forces while the front is imposed"
    after = ref.loc["2022-11-14":]
    assert after.max() - after.min() < 1e-6 * after.mean(), "and freezes when the model takes over"
    assert tr.loc["2023-06-01":, "russia_forces"].std() > 10, "while the forces keep moving"


def test_a_projection_measures_the_balance_against_its_start():
    tr = sm.simulate("hard_way", days=365).trajectories
    for side in ("russia", "ukraine"):
        ref = tr[f"reference_power_{side}"]
        assert ref.max() - ref.min() == 0.0
    assert tr["russia_forces"].std() > 1.0


def test_imposed_days_are_a_breakpoint():
    from sanctions_model.core.schedules import breakpoints

    p = {k: np.atleast_1d(v) for k, v in load_params("history_2022_2025").values().items()}
    assert 261.0 in breakpoints(p, 1061.0)


# --- the join ---------------------------------------------------------------------------------

def test_a_calibrated_projection_starts_from_the_record_or_where_the_calibrated_history_ends(history):
    """With the single-point calibration (a diagnostic since issue 16), stocks the record gives start at the
    record (issue 14); the others where the history ends."""
    end = history.trajectories.iloc[-1]
    start = sm.simulate(days=10, params=load_params(calibration=True)).trajectories.iloc[0]
    recorded = sm.simulate(days=10).trajectories.iloc[0]  # the default since issue 16: the base file's state
    assert "calibration" in history.params.meta
    assert set(FROM_RECORD) < set(JOINED)
    for stock in JOINED:
        if stock in FROM_RECORD:
            assert start[stock] == pytest.approx(recorded[stock], rel=1e-12), f"{stock} starts at the record"
        else:
            assert start[stock] == pytest.approx(end[stock], rel=2e-3), f"{stock} jumps at the join"
    assert start["rub_per_usd"] == pytest.approx(end["rub_per_usd"]), "the exchange rate too"
    jumps = [s for s in JOINED if s not in FROM_RECORD and abs(recorded[s] / end[s] - 1) > 0.05]
    assert jumps, "without the join the projection would jump: the check is not vacuous"
    missed = [s for s in FROM_RECORD if abs(start[s] / end[s] - 1) > 0.05]
    assert missed, "the back-test misses some of the record on 2025-01-20: starting from it is not vacuous"


def test_calibration_layers_apply_where_they_belong():
    fit, table, start = load_calibrated()
    base = load_params()
    assert base.values() == load_params(calibration=False).values(), "no calibration by default (issue 16)"
    projection = load_params(calibration=True)
    hist, hist_base = load_params("history_2022_2025", calibration=True), load_params("history_2022_2025")
    for name, row in table.iterrows():
        if row["applies"]:  # restated for 2022 by the historical scenario: for it alone
            assert hist[name] == pytest.approx(row["value"]) and hist[name] != hist_base[name]
        else:
            assert projection[name] == pytest.approx(row["value"]) and hist[name] == pytest.approx(row["value"])
    for name, row in start.iterrows():
        spec = projection.parameters[name]
        assert spec.value == pytest.approx(row["value"]) and base[name] == pytest.approx(row["recorded"])
        assert spec.value == pytest.approx(row["recorded"] if row["source"] == "record" else row["backtest"])
        assert spec.low <= min(row["backtest"], row["recorded"]) and spec.high >= max(row["backtest"], row["recorded"])
        assert "calibrated back-test" in spec.source and spec.source.startswith(
            "the record" if row["source"] == "record" else "the calibrated back-test")
        if name not in set(table.index[table["applies"] != ""]):
            assert hist[name] == hist_base[name], "the history restates its own start"
    assert projection.meta["calibration"] == fit["id"] and "calibration" not in base.meta


def test_bad_calibration_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="calibration file not found"):
        load_params(calibration=tmp_path / "none.toml")
    old = tmp_path / "old.toml"
    old.write_text('[fit]\nid = "x"\n[parameter."oil.tax_take"]\nvalue = 0.6\n')
    with pytest.raises(InputError, match="not a calibration file of this version"):
        load_params(calibration=old)
    bad = tmp_path / "bad.toml"
    bad.write_text('[fit]\nid = "x"\n[parameter."oil.tax_take"]\nvalue = nan\napplies = ""\n[start]\n')
    with pytest.raises(InputError, match="finite number"):
        load_params(calibration=bad)
    with pytest.raises(InputError, match="True, False or a path"):
        load_params(calibration=3)  # type: ignore[arg-type]


def test_the_cli_runs_from_the_base_file_and_calibrated_on_request(tmp_path):
    from conftest import run_cli

    fit, _, _ = load_calibrated()
    cases = (((), "plain"), (("--uncalibrated",), "old"), (("--calibrated", "params/calibrated.toml"), "cal"))
    for args, name in cases:
        res = run_cli("run", "--days", "30", "--unconstrained", *args, "--out", tmp_path / name)
        assert res.returncode == 0, res.stderr
    for name in ("plain", "old"):  # --uncalibrated, the default since issue 16, is still accepted
        assert "none (the base file's values)" in (tmp_path / name / "report.md").read_text()
        tr = pd.read_csv(tmp_path / name / "trajectories.csv", index_col=0)
        assert tr["inflation"].iloc[0] == pytest.approx(load_params(calibration=False)["macro.inflation_initial"])
    assert fit["id"] in (tmp_path / "cal" / "report.md").read_text()
    plain, cal = (pd.read_csv(tmp_path / name / "trajectories.csv", index_col=0) for name in ("plain", "cal"))
    assert cal["russia_forces"].iloc[0] == pytest.approx(load_params(calibration=True)["forces.russia_initial"])
    assert cal["russia_forces"].iloc[0] != pytest.approx(plain["russia_forces"].iloc[0], rel=1e-3), \
        "the calibrated run starts its forces where the calibrated back-test ends, the plain run at the base file's"
    res = run_cli("run", "--calibrated", "params/calibrated.toml", "--uncalibrated", "--out", tmp_path / "both")
    assert res.returncode == 2 and "one or the other" in res.stderr and not (tmp_path / "both").exists()


def test_a_base_file_with_another_accounting_rate_is_refused(tmp_path):
    from sanctions_model.inputs.params import params_dir

    text = (params_dir() / "base.toml").read_text()
    assert "rub_per_usd = 92.0\n" in text
    other = tmp_path / "base.toml"
    other.write_text(text.replace("rub_per_usd = 92.0\n", "rub_per_usd = 100.0\n", 1))
    with pytest.raises(InputError, match="accounting|92 RUB/\\$"):
        load_params(base=other)


def test_the_calibration_file_has_one_writer_and_one_reader_and_round_trips(tmp_path):
    """calibration_file writes through tomli-w and reads what load_params and load_calibrated
    use: every number at full precision, a table without one of its keys refused before writing."""
    import tomllib

    from sanctions_model.inputs import calibration_file

    fit = {"id": "test fit", "scenario": "history_2022_2025", "command": "test", "series": ["urals_price"],
           "cost_before": 0.5, "cost_after": 0.25, "evaluations": 7, "status": 3, "message": "ok"}
    parameters = {"oil.tax_take": {"value": 0.6612345678901234, "applies": "", "standard_error": float("nan"),
                                   "before": 0.68, "low": 0.55, "high": 0.85, "unit": "share of export value",
                                   "at_bound": False, "fit": "test fit"}}
    start = {"fiscal.reserves_initial": {"value": 31.123456789, "stock": "reserves", "backtest": 31.123456789,
                                         "recorded": 35.0, "source": "back-test", "unit": "US$ bn",
                                         "fit": "test fit"}}
    path = calibration_file.write(tmp_path / "sub" / "cal.toml", fit, parameters, start)
    text = path.read_text()
    assert text.startswith("# Parameters fitted to the record") and tomllib.loads(text)["fit"] == fit
    back = calibration_file.read(path)
    assert back.fit == fit and back.start == start
    assert back.parameters["oil.tax_take"]["value"] == 0.6612345678901234
    params = load_params(calibration=path)
    assert params["oil.tax_take"] == 0.6612345678901234 and params["fiscal.reserves_initial"] == 31.123456789
    with pytest.raises(InputError, match="already exists"):
        calibration_file.write(path, fit, parameters, start)
    broken = {"oil.tax_take": {k: v for k, v in parameters["oil.tax_take"].items() if k != "applies"}}
    with pytest.raises(InputError, match="lacks applies; nothing was written"):
        calibration_file.write(tmp_path / "new.toml", fit, broken, start)
    assert not (tmp_path / "new.toml").exists()


@pytest.mark.parametrize("content, message", [
    (None, "calibration file not found"),
    (b"[fit\nid = 1\n", "malformed TOML"),
    (b"[fit]\nid = '\xff'\n", "line 2: not UTF-8"),
    (b"[fit]\nid = 'x'\nparameter = 3\n[start]\n", "not a calibration file of this version"),
])
def test_calibration_file_read_refuses_bad_files_naming_them(tmp_path, content, message):
    from sanctions_model.inputs import calibration_file

    path = tmp_path / "cal.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        calibration_file.read(path)
    assert str(path) in str(err.value)
