"""The Python API: simulate(), its result, direction tests, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.core.model import STATE_NAMES
from sanctions_model.core.outcomes import OUTCOMES


@pytest.fixture(scope="module")
def runs():
    names = ["status_quo", "hard_way", "easy_way", "frozen_assets", "allies_pressured", "us_aid_cut",
             "security_guarantee"]
    return {name: sm.simulate(name) for name in names}


def test_simulate_returns_trajectories_by_date_with_units(runs):
    run = runs["status_quo"]
    tr = run.trajectories
    assert isinstance(tr.index, pd.DatetimeIndex)
    assert tr.index[0] == pd.Timestamp("2025-01-20") and len(tr) == 731
    for column in tr.columns:
        assert run.units[column], column
    assert set(STATE_NAMES) <= set(tr.columns)
    assert {"oil_revenue", "balance", "borrowing", "sanctions_bite", "force_ratio"} <= set(tr.columns)


def test_outcomes_are_the_listed_ones(runs):
    out = runs["status_quo"].outcomes
    assert list(out.index) == list(OUTCOMES)
    assert {"p_talks_100_days", "p_ceasefire_horizon", "p_ceasefire_holds_1_year"} <= set(out.index)


def test_default_is_the_base_and_the_base_is_the_status_quo(runs):
    base = sm.simulate()
    pd.testing.assert_series_equal(base.outcomes, runs["status_quo"].outcomes, check_names=False)


def test_hard_way_raises_strain(runs):
    assert runs["hard_way"].outcomes["peak_strain"] > runs["status_quo"].outcomes["peak_strain"] + 0.02
    assert runs["hard_way"].outcomes["oil_revenue_lost"] > runs["status_quo"].outcomes["oil_revenue_lost"]


def test_frozen_assets_raise_ukraines_force(runs):
    fa, sq = runs["frozen_assets"].trajectories, runs["status_quo"].trajectories
    assert fa["ukraine_forces"].iloc[-1] > sq["ukraine_forces"].iloc[-1]
    assert (fa["ukraine_materiel"] >= sq["ukraine_materiel"] - 1e-9).all()
    assert fa["force_ratio"].iloc[-1] < sq["force_ratio"].iloc[-1]


def test_allies_pressured_lowers_evasion(runs):
    ap, sq = runs["allies_pressured"].trajectories, runs["status_quo"].trajectories
    assert ap["evasion"].iloc[-1] < sq["evasion"].iloc[-1] - 0.05
    assert (ap["evasion"] <= sq["evasion"] + 1e-12).all()


def test_easy_way_raises_russias_margin_and_the_chances(runs):
    # before the offer (day 14) the two runs have the same dynamics but not the same segments (the
    # offer's start is a breakpoint of easy_way's), so they agree to the solver's tolerance, not to the
    # last digit
    ew, sq = runs["easy_way"].trajectories, runs["status_quo"].trajectories
    assert (ew["russia_margin"] >= sq["russia_margin"] - 1e-7).all()
    assert ew["russia_margin"].iloc[100] > sq["russia_margin"].iloc[100] + 0.005
    assert (ew["ukraine_margin"] - sq["ukraine_margin"]).abs().max() < 1e-6  # relief is Russia's term alone
    assert ew["p_talks"].iloc[100] > sq["p_talks"].iloc[100] + 0.05
    assert ew["p_ceasefire"].iloc[-1] > sq["p_ceasefire"].iloc[-1]


def test_us_aid_cut_lets_russia_advance_faster(runs):
    assert runs["us_aid_cut"].outcomes["territory_at_horizon"] > runs["status_quo"].outcomes["territory_at_horizon"]


def test_security_guarantee_raises_ukraines_and_lowers_russias_margin(runs):
    sg, sq = runs["security_guarantee"].trajectories, runs["status_quo"].trajectories
    assert sg["ukraine_margin"].iloc[200] > sq["ukraine_margin"].iloc[200] + 0.005
    assert sg["russia_margin"].iloc[200] < sq["russia_margin"].iloc[200] - 0.005
    assert sg["ceasefire_durability"].iloc[200] > sq["ceasefire_durability"].iloc[200]


def test_same_inputs_same_numbers():
    a = sm.simulate("hard_way", overrides={"oil.brent_price": 70})
    b = sm.simulate("hard_way", overrides={"oil.brent_price": 70})
    pd.testing.assert_frame_equal(a.trajectories, b.trajectories)


def test_horizon_and_step():
    run = sm.simulate(days=100, step=0.5)
    assert run.trajectories["day"].iloc[-1] == 100 and len(run.trajectories) == 201


@pytest.mark.parametrize("days", [-5, 0, math.nan, "ten", True, 10_000])
def test_bad_horizon(days):
    with pytest.raises(sm.InputError, match="days"):
        sm.simulate(days=days)


def test_bad_scenario_and_parameter():
    with pytest.raises(sm.InputError, match="Did you mean 'easy_way'"):
        sm.simulate("easyway")
    with pytest.raises(sm.InputError, match="Did you mean 'russia.optimism'"):
        sm.simulate(overrides={"russia.optimsm": 0.02})


def test_provenance_names_version_and_hash():
    prov = sm.simulate("easy_way").provenance()
    assert prov["version"] == sm.__version__ and prov["scenarios"] == ["easy_way"]
    assert len(prov["parameter_hash"]) == 12


def test_simulate_batch_returns_one_row_per_set():
    values = sm.load_params().values()
    values["oil.brent_price"] = np.array([60.0, 75.0, 90.0])
    df = sm.simulate_batch(values, days=365)
    assert len(df) == 3 and list(df.columns) == list(OUTCOMES)
    assert df["oil_revenue_lost"].is_monotonic_increasing  # a dearer barrel loses more to the discount


@pytest.mark.parametrize("days", [1.4, 99.5])  # below 1 day is refused (test_bad_input)
def test_horizon_that_is_not_a_whole_number_of_days(days):
    run = sm.simulate("hard_way", days=days)
    assert run.trajectories["day"].iloc[-1] == days
    assert run.trajectories["day"].is_monotonic_increasing and run.trajectories["day"].is_unique
    assert run.outcomes["reserves_at_horizon"] == run.trajectories["reserves"].iloc[-1]


def test_the_modules_a_notebook_names_resolve_from_the_package_root():
    """The layout moved them into layers; ``from sanctions_model import sensitivity`` still works."""
    import importlib

    for name, home in {"sensitivity": "analysis.sensitivity", "ensemble": "runs.ensemble", "sweep": "runs.sweep",
                       "history": "inputs.history", "backtesting": "analysis.backtesting",
                       "calibrate": "analysis.calibrate"}.items():
        assert getattr(sm, name) is importlib.import_module(f"sanctions_model.{home}")
    from sanctions_model import sensitivity
    from sanctions_model.sensitivity import sobol  # the dotted path of before the layers
    from sanctions_model.sweep import read_sweep

    assert sensitivity is importlib.import_module("sanctions_model.sensitivity") and sobol is sensitivity.sobol
    assert read_sweep is importlib.import_module("sanctions_model.runs.store").read_sweep
    with pytest.raises(AttributeError, match="no attribute 'solve'"):
        sm.solve  # noqa: B018 (the engine's modules are not part of the notebook API)
