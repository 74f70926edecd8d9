"""Monetary policy (issue 14, item 2): the key rate is a stance that follows a Taylor-type rule on
inflation as the central bank reads it, with inertia, plus a premium in defence of a falling
rouble; fitted to the key-rate path of 2022-2024."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.analysis.backtesting import backtest, compare, period_start
from sanctions_model.analysis.calibrate import CALIBRATION_POLICY, POINT_SCALES, SERIES, _residual_function, _weights
from sanctions_model.core import model
from sanctions_model.inputs.history import load_history
from sanctions_model.inputs.params import load_params


@pytest.fixture(scope="module")
def p():
    return {k: np.atleast_1d(v) for k, v in load_params().values().items()}


def one(x) -> float:
    """The single value of a one-member result."""
    return np.asarray(x).item()


def test_the_rule_answers_inflation_with_its_response_and_eases_as_the_rouble_rises(p):
    phi = one(p["macro.key_rate_response"][0])
    at_8, at_12 = model.key_rate_indicated(p, np.array([8.0]), 0.0), model.key_rate_indicated(p, np.array([12.0]), 0.0)
    # 4 points more inflation, 4 phi more rate (less the soft floor's 1 / (4 r), under 0.02 at these rates)
    assert one(at_12 - at_8) == pytest.approx(4 * phi, abs=0.02)
    neutral = one(p["macro.inflation_target"][0] + p["macro.neutral_real_rate"][0])
    # at target, the neutral rate (plus the soft floor's 1 / (4 r), 0.05 at 5%)
    assert one(model.key_rate_indicated(p, p["macro.inflation_target"], 0.0)) == pytest.approx(neutral, abs=0.06)
    eased = model.key_rate_indicated(p, np.array([12.0]), -100.0)  # the rouble rising 100% a year
    cap, k = one(p["macro.rouble_defence_max"][0]), one(p["macro.key_rate_fx_response"][0])
    # eased by D_max tanh(k_fx 100 / D_max), about k_fx 100 points while that is well under the bound
    assert one(at_12 - eased) == pytest.approx(cap * np.tanh(k * 100.0 / cap), abs=0.02)
    assert one(at_12 - eased) > 0.5 * k * 100.0
    # a rouble soaring without end eases by at most the premium's bound
    assert one(at_12 - model.key_rate_indicated(p, np.array([12.0]), -1e6)) == pytest.approx(cap, abs=0.05)
    # a falling rouble does not move the stance (the premium answers it) and the rule never goes below zero
    assert one(model.key_rate_indicated(p, np.array([12.0]), 500.0)) == one(at_12)
    floor = one(model.key_rate_indicated(p, np.array([-40.0]), -1e6))
    assert 0.0 <= floor < 0.1, f"deflation and a soaring rouble take the rule to its soft floor near 0, not {floor}"


def test_the_rouble_defence_answers_only_a_fall_and_is_bounded(p):
    k, cap = one(p["macro.key_rate_fx_response"][0]), one(p["macro.rouble_defence_max"][0])
    assert one(model.rouble_defence_indicated(p, 0.0)) == 0.0
    assert one(model.rouble_defence_indicated(p, -300.0)) == 0.0
    assert one(model.rouble_defence_indicated(p, 10.0)) == pytest.approx(10 * k, rel=1e-3)
    assert cap * 0.99 < one(model.rouble_defence_indicated(p, 1e6)) <= cap


def test_a_bound_of_zero_gives_neither_premium_nor_easing(p):
    """``macro.rouble_defence_max`` = 0 (outside its range, as a user may set it): no premium and no
    easing, not 0/0."""
    q = {**p, "macro.rouble_defence_max": np.array([0.0])}
    assert one(model.rouble_defence_indicated(q, 50.0)) == pytest.approx(0.0, abs=1e-8)
    plain = model.key_rate_indicated(q, np.array([12.0]), 0.0)
    assert one(model.key_rate_indicated(q, np.array([12.0]), -100.0)) == pytest.approx(one(plain), abs=1e-8)
    assert np.isfinite(plain).all()


def _rouble_scenario(tmp_path, level, days=10, day=30):
    path = tmp_path / "rouble.toml"
    path.write_text('title = "t"\ndescription = "the rouble falls"\n'
                    f'[[step]]\nparameter = "macro.rub_per_usd"\nday = {day}\nlevel = {level}\n'
                    f'phase_in_days = {days}\nwhy = "t"\n')
    return str(path)


def test_a_collapse_of_the_rouble_brings_an_emergency_rise_within_days_that_is_unwound(tmp_path):
    still = sm.simulate(days=180).trajectories
    falls = sm.simulate(_rouble_scenario(tmp_path, 150.0), days=180).trajectories
    assert still["rouble_defence"].abs().max() == 0.0, "with the rouble still there is no premium"
    rise = falls["key_rate"].iloc[40] - still["key_rate"].iloc[40]  # the fall runs from day 30 to day 40
    assert rise > 5.0, f"an emergency rise of more than 5 points within the fall's 10 days, not {rise:.1f}"
    peak = falls["rouble_defence"].max()
    assert 5.0 < peak <= load_params()["macro.rouble_defence_max"]
    assert falls["rouble_defence"].iloc[100] < 0.1 * peak, "unwound within two months of the rouble steadying"


def test_with_the_rouble_still_the_key_rate_follows_its_stance(p):
    traj = sm.simulate(days=730).trajectories
    # a projection has no rouble path: no depreciation, so no premium and no easing for a rising rouble
    assert traj["depreciation"].abs().max() == 0.0 and traj["rouble_defence"].abs().max() == 0.0
    stance = model.key_rate_indicated(p, traj["inflation_observed"].to_numpy(), 0.0)
    late = slice(365, None)  # after the start's 21% has worked through
    np.testing.assert_allclose(traj["key_rate"].to_numpy()[late], stance[late], atol=1.0)
    # the observed inflation follows the headline with the reading's lag: d I_obs / dt = (I_head - I_obs) / tau
    head, seen = traj["headline_inflation"].to_numpy(), traj["inflation_observed"].to_numpy()
    tau = one(p["macro.inflation_observed_days"])
    mid = 0.5 * (head[1:] + head[:-1]) - 0.5 * (seen[1:] + seen[:-1])
    np.testing.assert_allclose(np.diff(seen), mid / tau, atol=1e-4)


@pytest.fixture(scope="module")
def history_run():
    return backtest().trajectories


def test_the_back_test_reproduces_the_shape_of_2022_2024(history_run):
    rate = history_run["key_rate"]
    assert rate.loc["2022-03-04"] > 17.0, "the emergency rise of 2022-02-28 (to 20%)"
    assert rate.loc["2022-06-30"] < 12.5, "cut back by June 2022 as the rouble rose (9.5%)"
    assert rate.loc["2022-10-28"] < 10.5, "held low through autumn 2022 (7.5%)"
    assert rate.loc["2024-10-25"] > rate.loc["2023-06-09"] + 5, "the tightening of 2023-2024 (7.5% to 21%)"
    # no spike: the headline the bank reads stays below 20% a year after March 2022 (the recorded
    # twelve-month peak was 17.8%)
    peak = history_run.loc["2022-05-01":, "inflation_observed"].max()
    assert 10.0 < peak < 20.0, f"a reading that reaches double digits (late 2024) but never spikes, not {peak:.1f}%"


def test_the_quarter_and_twelve_months_periods_start_where_the_record_says():
    assert period_start(pd.Timestamp("2023-09-30"), "quarter") == pd.Timestamp("2023-07-01")
    assert period_start(pd.Timestamp("2023-08-31"), "quarter") == pd.Timestamp("2023-06-01")
    assert period_start(pd.Timestamp("2023-03-31"), "twelve_months") == pd.Timestamp("2022-04-01")
    history = load_history()
    assert {"cpi_momentum", "cpi_yoy"} <= set(history["series"])
    assert (history.loc[history["series"] == "key_rate", "date"].dt.year.value_counts().sort_index()
            .to_dict() == {2022: 8, 2023: 6, 2024: 3})


def test_the_fit_measures_rates_in_points():
    """A point of inflation counts the same at 2.3% as at 9.5%: the calibration's residual for the
    rate series is the error in points over the scale, not the relative error."""
    assert {"key_rate", "cpi_dec_dec", "cpi_momentum", "cpi_yoy"} <= set(SERIES) & set(POINT_SCALES)
    params = load_params("history_2022_2025")
    history = load_history()
    residuals = _residual_function(params, ["oil.tax_take"], ["cpi_yoy", "oil_gas_revenue"], history, [0])
    r = residuals(np.array([[params["oil.tax_take"]]]))[0]
    days = float((pd.Timestamp("2025-01-20") - pd.Timestamp(params.start_date)).days)
    fit, _ = compare(sm.simulate(params=params, days=days, step=CALIBRATION_POLICY.step,
                                 rtol=CALIBRATION_POLICY.rtol), history)  # as the calibration integrates
    # the residuals come in the order of the fit's rows (series, date, period); match each to its figure
    rows = _weights(history, ["cpi_yoy", "oil_gas_revenue"], pd.Timestamp(params.start_date))
    assert len(rows) == len(r)
    merged = rows.merge(fit, on=["series", "date", "period"], how="left", validate="one_to_one")
    conf = history.set_index(["series", "date", "period"])["confidence"].map({"high": 1.0, "med": 0.7, "low": 0.4})
    n = merged["series"].map(merged["series"].value_counts())
    error = np.where(merged["series"] == "cpi_yoy", merged["error"] / 10.0, merged["relative_error"])
    weight = [conf[key] for key in zip(merged["series"], merged["date"], merged["period"], strict=True)] / np.sqrt(n)
    np.testing.assert_allclose(r, weight * error, rtol=1e-4, atol=1e-6)
