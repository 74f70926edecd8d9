"""Extreme conditions, conservation and bounds (Vensim's Reality Check, as ordinary tests)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_values, with_changes

import sanctions_model as sm
from sanctions_model.core.model import IDX, STATES, auxiliaries
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import latin_hypercube

NO_SANCTIONS = {"sanctions.initial": 0.0, "sanctions.level": 0.0}
SANCTION_SENSITIVITIES = {"oil.volume_sanctions_sensitivity": 0.5, "oil.discount_sensitivity": 60.0,
                          "macro.inflation_per_bite": 10.0, "macro.capacity_erosion_per_bite": 0.08}
SHARES = ["sanctions_effective", "evasion", "civilian_capacity", "strain", "territory", "ceasefire_held"]


def _aux(sol):
    n_t = sol.t.size
    p = {k: np.repeat(v, n_t) for k, v in sol.params.items()}
    ref = {k: np.repeat(v, n_t) for k, v in sol.ref.items()}
    return auxiliaries(sol.t, sol.y[:, 0, :], p, ref)


def test_no_sanctions_gives_no_sanctions_driven_strain(base_values):
    quiet = with_changes(base_values, **{k.replace(".", "__"): v for k, v in NO_SANCTIONS.items()})
    a = run_values(quiet)
    b = run_values({**quiet, **SANCTION_SENSITIVITIES})
    assert np.all(a.y[IDX["oil_revenue_lost"]] == 0.0)
    assert np.all(_aux(a)["bite"] == 0.0)
    # with nothing to bite, how hard sanctions would bite cannot matter
    np.testing.assert_allclose(a.y[IDX["strain"]], b.y[IDX["strain"]], rtol=1e-9, atol=1e-12)
    # ...whereas with sanctions it does (the check above could fail)
    c = run_values(base_values)
    d = run_values({**base_values, **SANCTION_SENSITIVITIES})
    assert np.abs(c.y[IDX["strain"]] - d.y[IDX["strain"]]).max() > 1e-3


def test_reserves_never_negative_even_with_ruinous_spending(base_values):
    sol = run_values({**base_values, "fiscal.defence_spending": 1000.0})
    reserves = sol.y[IDX["reserves"]]
    # The drawdown vanishes as reserves do, so the model cannot take them below zero; an
    # explicit Runge-Kutta step may undershoot by the solver's absolute tolerance on
    # reserves (1e-10 US$ bn), never by more than a dollar.
    assert reserves.min() >= -1e-9
    # they are in fact drained, below the lowest threshold at which the Fund counts as exhausted
    # (fiscal.reserves_exhausted, 1-10 US$ bn): near empty the Fund pays the share R^2 / (R^2 + g^2)
    # of what it is asked, so the last of it goes slowly (as 1/t); 0.3 of 37.5 is left after two years
    assert reserves[:, -1] < 1.0
    assert np.isfinite(sol.y).all()


def test_every_share_stays_in_unit_interval_across_sampled_assumptions():
    for scenario in ["status_quo", "hard_way", "frozen_assets", "us_aid_cut"]:
        values = latin_hypercube(load_params(scenario), 128, seed=7)
        sol = run_values(values, days=1095)
        for name in SHARES:
            x = sol.y[IDX[name]]
            assert x.min() >= 0.0 and x.max() <= 1.0, (scenario, name, x.min(), x.max())
        assert sol.y[IDX["reserves"]].min() >= -1e-9
        assert sol.y[IDX["russia_forces"]].min() > 0 and sol.y[IDX["ukraine_forces"]].min() > 0


def test_huge_relief_offer_saturates_in_russias_margin(base_values):
    """More relief, a larger margin for Russia, never more than ``russia.relief_value`` above none."""
    levels = np.array([0.0, 10.0, 100.0, 1e4, 1e8, 1e12])
    values = {**base_values, "relief_offer.level": levels, "relief_offer.start_day": 0.0,
              "relief_offer.phase_in_days": 0.0, "russia.relief_value": 0.08}
    sol = run_values(values, days=365)
    k = sol.t.size - 1
    margin = auxiliaries(sol.t[k], sol.y[:, :, k], {n: v for n, v in sol.params.items()}, sol.ref)["russia_margin"]
    assert np.all(np.diff(margin[:5]) > 0)  # more relief, a larger margin...
    # ...until it saturates: 10,000 times more adds no more than v R_h / R (the offer's last step toward its cap)
    assert abs(margin[5] - margin[4]) <= 0.08 * base_values["russia.relief_half"] / 1e8
    assert margin[5] - margin[0] <= 0.08 + 1e-12
    p = sol.y[IDX["ceasefire_hazard_total"]][:, -1]
    assert np.all(np.diff(p[:5]) > 0) and np.isfinite(p).all()


def test_money_is_conserved_in_the_fiscal_accounts():
    # in the regime this check was written for (the calibrated values and state, the default until issue 16),
    # where the rule's shortfall draws on the Fund
    run = sm.simulate(params=sm.load_params("hard_way", {"fiscal.fund_investment": 12.0}, calibration=True), step=0.125)
    tr = run.trajectories
    days = tr["day"].to_numpy()

    def total(column):  # US$ bn per year, integrated over days
        return np.trapezoid(tr[column].to_numpy() / 365.0, days)

    x = tr["rub_per_usd"].iloc[0] / 92.0  # reserves are actual dollars, the budget's dollars are 92 roubles
    assert x > 1.05 and (tr["rub_per_usd"] == tr["rub_per_usd"].iloc[0]).all()
    d_reserves = (tr["reserves"].iloc[-1] - tr["reserves"].iloc[0]) * x
    d_debt = tr["war_debt"].iloc[-1] - tr["war_debt"].iloc[0]
    scale = total("spending")  # about US$900bn over two years
    invested = total("fund_investment")  # leaves the liquid fund for its illiquid part
    assert abs(d_reserves - (total("reserve_inflow") - total("reserve_drawdown") - invested)) < 1e-4 * scale
    assert abs(d_debt - total("borrowing")) < 1e-4 * scale
    assert abs((d_reserves - d_debt) - (total("balance") - invested)) < 1e-4 * scale
    # the accounts do move: the check is not vacuous
    assert d_reserves < -30 and d_debt > 30 and invested > 5
    assert total("reserve_drawdown") > 10, "the Fund pays for the rule's shortfall below the base price"


def test_ukraine_funding_accumulates_aid_and_assets():
    run = sm.simulate("frozen_assets")
    assert run.outcomes["ukraine_funding"] == pytest.approx(2 * 45.0 + 300.0, rel=1e-6)


def test_state_units_are_declared():
    assert all(STATES.values())


def test_the_system_is_declared_once_and_the_model_follows_it():
    """Stocks, units, solver scales and reported flows come from system.py; every stock has an
    equation and a starting value, every reported flow a source among the auxiliaries."""
    import numpy as np

    from sanctions_model.core import model, system
    from sanctions_model.inputs.params import load_params

    assert model.STATE_NAMES == tuple(s.name for s in system.STOCKS)
    assert list(model.STATE_SCALE) == [s.scale for s in system.STOCKS]
    assert all(s.scale > 0 and s.unit for s in system.STOCKS)
    p = {k: np.atleast_1d(v) for k, v in load_params().values().items()}
    y0, ref = model.initial_state(p)
    assert y0.shape == (len(system.STOCKS), 1) and np.isfinite(y0).all()
    assert model.derivatives(0.0, y0, p, ref).shape == y0.shape
    names = set(p)
    for stock in system.STOCKS:
        assert stock.initial in names or " " in stock.initial, (stock.name, stock.initial)
    aux = model.auxiliaries(0.0, y0, p, ref)
    assert {f.source for f in system.REPORTED_FLOWS} <= set(aux)
