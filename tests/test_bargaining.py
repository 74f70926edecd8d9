"""The decision core (core/bargaining.py, docs/model.md "The decision core"): probabilities from
hazards, extreme conditions, levels that matter, and the direction of every lever in the docs'
table, each a check that could fail."""

from __future__ import annotations

import numpy as np
import pytest

import sanctions_model as sm
from sanctions_model.analysis.backtesting import EVENTS
from sanctions_model.core import bargaining
from sanctions_model.core.outcomes import compute, trajectory_values
from sanctions_model.core.solve import integrate

DAYS = 730
#: The day on which the docs' table reads each side's margin.
TABLE_DAY = 365
MARGINS = ("russia_margin", "ukraine_margin", "bargaining_range")


@pytest.fixture(scope="module")
def base():
    return sm.load_params("status_quo").values()


def batch(base, cases):
    """Integrate ``cases`` (a list of override dicts) as one batch; trajectories every day."""
    values = {k: np.array([c.get(k, v) for c in cases], float) for k, v in base.items()}
    return integrate(values, DAYS, step=1.0)


def series(sol, names):
    return trajectory_values(sol, names, np.arange(sol.t.size))


def test_the_regeneration_reference_is_the_central_start():
    """``ceasefire.regeneration_reference`` is derived (params/base.toml): Russia's regeneration on
    2025-01-20 at the central values, so that ``ceasefire.hold_base`` is the one-year hold there
    (docs/model.md); it must move when the starting state or recruitment it is derived from does."""
    from sanctions_model.core import model
    from sanctions_model.core.schedules import at_time
    from sanctions_model.core.solve import as_batch

    p = as_batch(sm.load_params().values())
    y0, ref = model.initial_state(p)
    regeneration = float(np.ravel(model.auxiliaries(0.0, y0, at_time(0.0, p), ref)["regeneration"])[0])
    assert p["ceasefire.regeneration_reference"][0] == pytest.approx(regeneration, rel=1e-3)


# --- probabilities -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sampled():
    """64 Latin-hypercube sets of every uncertainty under status_quo."""
    params = sm.load_params("status_quo")
    design = sm.Design.build("lhs", params, 64, 3, chunk_size=64)
    values = dict(params.values())
    for j, name in enumerate(design.names):
        values[name] = design.chunk(0)[:, j]
    return integrate(values, DAYS, step=1.0)


def test_no_run_has_a_positive_probability_at_day_zero(sampled):
    s = series(sampled, ["p_talks", "p_ceasefire"])
    assert np.all(s["p_talks"][:, 0] == 0.0) and np.all(s["p_ceasefire"][:, 0] == 0.0)
    assert np.all(s["p_talks"][:, 1] > 0.0)  # the hazard has a positive floor: a chance from the first day


def test_probabilities_are_monotone_in_time_and_within_zero_and_one(sampled):
    s = series(sampled, ["p_talks", "p_ceasefire"])
    for name in ("p_talks", "p_ceasefire"):
        p = s[name]
        assert np.all((p >= 0.0) & (p <= 1.0))
        assert np.all(np.diff(p, axis=1) >= -1e-12), name
    out = compute(sampled)
    assert np.all(out["p_ceasefire_100_days"] <= out["p_ceasefire_1_year"])
    assert np.all(out["p_ceasefire_1_year"] <= out["p_ceasefire_horizon"])
    assert np.all(out["p_talks_100_days"] <= out["p_talks_horizon"])
    holds = out["p_ceasefire_holds_1_year"]
    assert np.all((holds > 0.0) & (holds < 1.0))
    assert np.all((out["expected_day_ceasefire"] > 0) & (out["expected_day_ceasefire"] < DAYS))


def test_probabilities_are_continuous_in_the_parameters(base):
    """A small change in an assumption makes a small change in the chances (no threshold to jump)."""
    sol = batch(base, [{"russia.claim_weight": 0.5}, {"russia.claim_weight": 0.5001},
                       {"relief_offer.level": 23.0}, {"relief_offer.level": 23.001}])
    p = compute(sol)["p_ceasefire_horizon"]
    assert 0 < abs(p[1] - p[0]) < 1e-4 and 0 < abs(p[3] - p[2]) < 1e-5


def test_expected_day_matches_the_density():
    """The expected day from the closed form equals the mean of the event's density on a fine grid."""
    from sanctions_model.core.outcomes import expected_day
    t = np.linspace(0.0, 730.0, 7301)
    rate = 0.002 * (1 + t / 365.0)  # a hazard that doubles over a year
    total = 0.002 * (t + t * t / 730.0)
    f = rate * np.exp(-total)
    direct = np.trapezoid(t * f, t) / np.trapezoid(f, t)
    assert expected_day(t, total[None, :])[0] == pytest.approx(direct, rel=1e-4)


# --- extreme conditions ------------------------------------------------------------------------

def test_a_side_whose_forces_collapse_concedes(base):
    """Five times the casualties: the collapsing side's cost of fighting on soars, the range opens and
    the chance of a ceasefire rises sharply (the old thresholds found no talks here)."""
    sol = batch(base, [{}, {"forces.russia_casualties": 5 * base["forces.russia_casualties"]},
                       {"forces.ukraine_casualties": 5 * base["forces.ukraine_casualties"]}])
    out = compute(sol)
    p = out["p_ceasefire_horizon"]
    assert p[0] < 0.3
    assert p[1] > 0.9 and p[2] > 0.9
    assert np.isfinite(out["diagnostic_days_to_range_open"][1:]).all()
    assert np.isnan(out["diagnostic_days_to_range_open"][0])
    m = series(sol, ["russia_margin", "ukraine_margin"])
    assert m["russia_margin"][1, -1] > 0.1 > m["russia_margin"][0, -1]  # Russia, collapsing, prefers the ceasefire
    assert m["ukraine_margin"][2, -1] > 0.1 > m["ukraine_margin"][0, -1]


def test_with_no_costs_of_fighting_the_hazard_falls_to_its_floor(base):
    free = {"russia.strain_cost": 0.0, "russia.attrition_cost": 0.0, "ukraine.attrition_cost": 0.0,
            "ukraine.shortage_cost": 0.0}
    sol = batch(base, [{}, free])
    h = series(sol, ["ceasefire_hazard"])["ceasefire_hazard"]  # per year
    # near its floor: the hazard is 0.023-0.025 a year against a floor of 0.02
    floor, opening = base["hazard.ceasefire_floor"], base["hazard.ceasefire_open"]
    # what is left of the range (aims, optimism, the commitment problem) keeps it closed: the hazard is
    # within 2% of the open rate of its floor, and its excess over the floor under a fifth of that with costs
    assert np.all(h[1] > floor) and np.all(h[1] - floor < 0.02 * opening)
    assert np.all(h[1] - floor < 0.2 * (h[0] - floor))
    # and the form: a range far closed gives the floor to within 1e-9 of it
    p = {k: np.asarray(v) for k, v in base.items()}
    assert bargaining.hazard(p, "ceasefire", np.array([-10.0]))[0] * 365 == pytest.approx(floor, rel=1e-9)


@pytest.mark.parametrize("case", [
    {"relief_offer.level": 1e6},
    {"security_arrangement.level": 1.0, "us_backstop.level": 1.0, "ukraine.security_value": 0.08,
     "ceasefire.hold_security": 3.0},
])
def test_an_enormous_offer_or_a_credible_guarantee_cannot_push_a_probability_above_one(base, case):
    sol = batch(base, [case])
    out = compute(sol)
    s = series(sol, ["p_talks", "p_ceasefire", "ceasefire_durability"])
    for name, v in s.items():
        assert np.all(np.isfinite(v) & (v >= 0.0) & (v <= 1.0)), name
    for name in ("p_talks_horizon", "p_ceasefire_horizon", "p_ceasefire_holds_1_year"):
        assert 0.0 < out[name][0] <= 1.0


def test_relief_saturates(base):
    sol = batch(base, [{"relief_offer.level": 1e4}, {"relief_offer.level": 1e6}])
    m = series(sol, ["russia_margin"])["russia_margin"]
    assert abs(m[1, -1] - m[0, -1]) < 0.01 * base["russia.relief_value"]


# --- levels matter ---------------------------------------------------------------------------

def test_raising_russias_territorial_demand_lowers_the_chance_of_a_ceasefire_at_every_date(base):
    sol = batch(base, [{"demands.russia_territory": 0.19}, {"demands.russia_territory": 0.225},
                       {"demands.russia_territory": 0.27}])
    p = series(sol, ["p_ceasefire"])["p_ceasefire"][:, 1:]
    assert np.all(p[0] > p[1]) and np.all(p[1] > p[2])


def test_political_demands_matter_as_levels(base):
    """Russia's political demands at 0.3 or 1.0 (the old model gave the same willingness for both)."""
    sol = batch(base, [{"demands.russia_political": 0.3}, {"demands.russia_political": 1.0}])
    p = compute(sol)["p_ceasefire_horizon"]
    assert p[0] > 1.05 * p[1]


def test_ruling_nato_out_moves_both_sides(base):
    sol = batch(base, [{"demands.nato_ruled_out": 0.0}, {"demands.nato_ruled_out": 1.0}])
    m = series(sol, ["russia_margin", "ukraine_margin", "ceasefire_durability"])
    assert m["russia_margin"][1, TABLE_DAY] > m["russia_margin"][0, TABLE_DAY] + 0.005
    assert m["ukraine_margin"][1, TABLE_DAY] < m["ukraine_margin"][0, TABLE_DAY] - 0.005
    assert m["ceasefire_durability"][1, TABLE_DAY] < m["ceasefire_durability"][0, TABLE_DAY]


# --- the docs' table: which way each lever moves each side -----------------------------------

#: (lever, overrides, sign of Russia's margin, of Ukraine's margin, of the chance of a ceasefire within the
#: horizon; 0 = no change, or "about unchanged" for the net: within half a point), as docs/model.md's table.
DIRECTIONS = [
    ("relief offered", {"relief_offer.level": 23.0}, +1, 0, +1),
    ("sanctions", {"sanctions.level": 0.8}, +1, 0, +1),
    ("secondary tariffs", {"secondary_tariffs.level": 0.6}, +1, 0, +1),
    ("frozen assets to Ukraine", {"frozen_assets.level": 300.0}, +1, -1, 0),
    ("a Western force with US forces", {"security_arrangement.level": 1.0, "us_backstop.level": 1.0}, -1, +1, +1),
    ("a Western force without US forces", {"security_arrangement.level": 1.0, "us_backstop.level": 0.0}, -1, +1, +1),
    ("Russia's territorial demand", {"demands.russia_territory": 0.27}, -1, 0, -1),
    ("Russia's political demands", {"demands.russia_political": 1.0}, -1, 0, -1),
    ("Ukraine's concession", {"demands.ukraine_concession": 1.0}, 0, +1, +1),
    ("pressure on Russia's allies", {"ally_pressure.level": 1.0}, +1, -1, +1),
    ("US aid cut", {"us_aid.level": 0.0}, -1, +1, 0),
]


@pytest.fixture(scope="module")
def table(base):
    sol = batch(base, [{}] + [case for _, case, *_ in DIRECTIONS])
    return series(sol, MARGINS), compute(sol)


@pytest.mark.parametrize("row", range(len(DIRECTIONS)), ids=[d[0] for d in DIRECTIONS])
def test_each_lever_moves_each_side_as_the_docs_say(table, row):
    margins, out = table
    _, _, russia, ukraine, net = DIRECTIONS[row]
    i = row + 1
    for name, sign in (("russia_margin", russia), ("ukraine_margin", ukraine)):
        change = margins[name][i, TABLE_DAY] - margins[name][0, TABLE_DAY]
        if sign:
            assert np.sign(change) == sign and abs(change) > 1e-4, (name, change)
        else:
            assert abs(change) < 2e-3, (name, change)  # none, or slight (the docs say which)
    change = out["p_ceasefire_horizon"][i] - out["p_ceasefire_horizon"][0]
    if net:
        assert np.sign(change) == net and abs(change) > 1e-3, change
    else:
        assert abs(change) < 0.005, change  # "about unchanged"


def test_security_with_us_forces_reassures_more_than_without(table):
    margins, out = table
    names = [d[0] for d in DIRECTIONS]
    with_us, without = names.index("a Western force with US forces") + 1, names.index(
        "a Western force without US forces") + 1
    assert margins["ukraine_margin"][with_us, TABLE_DAY] > margins["ukraine_margin"][without, TABLE_DAY]
    assert out["p_ceasefire_holds_1_year"][with_us] > out["p_ceasefire_holds_1_year"][without] > \
        out["p_ceasefire_holds_1_year"][0]


def test_the_battlefield_trend_cancels_in_the_range(base):
    """Both sides see the trend: optimism aside, the perceived advance moves the margins in opposite
    directions by the same amount and leaves the range where it is."""
    p = {k: np.asarray(v) for k, v in base.items()}
    args = dict(territory=0.19, kursk=0.0, relief=0.0, security=0.0, shift=0.0)
    r = [bargaining.russia_margin(p, 0.02, m, **args) for m in (0.0, 0.05)]
    u = [bargaining.ukraine_margin(p, 0.02, m, 0.19, 0.0, 0.6, 0.0) for m in (0.0, 0.05)]
    assert r[1] - r[0] == pytest.approx(-(u[1] - u[0]))
    assert r[1] < r[0]


# --- the history as evidence -------------------------------------------------------------------

def test_the_history_gives_talks_in_spring_2022_and_no_ceasefire():
    """Run over 2022-02-24 to 2025-01-20: a non-negligible chance of direct talks by the end of spring
    2022 (they happened), and a low one of a ceasefire (none was agreed)."""
    result = sm.backtest()
    rows = result.targets.set_index("target")
    assert [name for name, *_ in EVENTS] == list(rows.index[-2:])
    talks, ceasefire = rows.iloc[-2]["model"], rows.iloc[-1]["model"]
    assert talks >= 0.10 and ceasefire <= 0.25
    assert rows.iloc[-2]["met"] and rows.iloc[-1]["met"]


# --- the docs' second table: which way each assumption moves the chance of a ceasefire --------

RAISES = ["russia.strain_cost", "russia.attrition_cost", "ukraine.attrition_cost", "ukraine.shortage_cost",
          "demands.ukraine_concession", "demands.nato_share_of_political", "ceasefire.hold_base",
          "hazard.ceasefire_floor", "hazard.ceasefire_open", "hazard.range_scale"]
LOWERS = ["demands.russia_territory", "demands.russia_political", "russia.claim_weight", "russia.political_weight",
          "russia.kursk_weight", "ukraine.claim_weight", "russia.optimism", "ukraine.optimism",
          "ukraine.commitment_cost", "bargaining.shift_weight"]
TALKS_ONLY = ["hazard.talks_floor", "hazard.talks_open", "hazard.talks_margin"]
#: Signs that depend on the run, as the docs state them under status_quo.
DEPENDS = {"bargaining.horizon_days": +1, "bargaining.perception_days": -1}
#: Weighs Russia's regeneration against its reference, where it starts at the central values: it barely
#: moves the chance under status_quo, and lowers it where regeneration is above the reference.
AT_REFERENCE = "ceasefire.hold_regeneration"
#: No effect under status_quo: their levers are off there (the first table checks them with the levers on).
LEVER_OFF = ["russia.relief_value", "russia.relief_half", "russia.western_force_cost", "ukraine.security_value",
             "ukraine.europe_only_factor", "ceasefire.hold_security", "ceasefire.hold_nato", "demands.nato_ruled_out"]
SIGNED = RAISES + LOWERS + TALKS_ONLY + list(DEPENDS) + [AT_REFERENCE]


@pytest.fixture(scope="module")
def ends(base):
    params = sm.load_params("status_quo")
    names = SIGNED
    cases = [{name: getattr(params.parameters[name], end)} for name in names for end in ("low", "high")]
    out = compute(batch(base, cases))
    return {name: (out["p_ceasefire_horizon"][2 * i:2 * i + 2], out["p_talks_100_days"][2 * i:2 * i + 2])
            for i, name in enumerate(names)}


@pytest.mark.parametrize("name", SIGNED)
def test_each_assumption_moves_the_chance_as_the_docs_say(ends, name):
    (cf_low, cf_high), (talks_low, talks_high) = ends[name]
    if name in TALKS_ONLY:
        assert abs(cf_high - cf_low) < 1e-6 and talks_high > talks_low + 0.01  # (to the solver's tolerance)
    elif name == AT_REFERENCE:
        assert abs(cf_high - cf_low) < 0.005, (cf_low, cf_high)
    else:
        sign = DEPENDS.get(name, 1 if name in RAISES else -1)
        assert np.sign(cf_high - cf_low) == sign and abs(cf_high - cf_low) > 1e-3, (cf_low, cf_high)


def test_regeneration_above_its_reference_lowers_the_chance_more_the_more_it_weighs(base):
    """With Ukraine's force at the low end of its range, Russia's regeneration starts above its
    reference (0.978 * 500 / 350 = 1.4 a year), so a heavier weight on it makes a ceasefire less
    likely to hold and less worth agreeing for Ukraine (docs/model.md, the second table)."""
    low, high = (sm.load_params("status_quo").parameters[AT_REFERENCE].low,
                 sm.load_params("status_quo").parameters[AT_REFERENCE].high)
    cases = [{"forces.ukraine_initial": 350.0, AT_REFERENCE: weight} for weight in (low, high)]
    cf_low, cf_high = compute(batch(base, cases))["p_ceasefire_horizon"]
    assert cf_high < cf_low - 1e-3, (cf_low, cf_high)


def test_the_docs_table_lists_every_signed_assumption():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "model.md").read_text()
    row = text.split("| raises the chance of a ceasefire | lowers it |", 1)[1].split("\n")[2]
    cells = row.split(" | ")
    columns = (RAISES, LOWERS, TALKS_ONLY, [*DEPENDS, AT_REFERENCE], LEVER_OFF)
    for names, cell in zip(columns, cells, strict=True):
        for name in names:
            assert f"`{name}`" in cell, name
    # every decision-core assumption with a range is in exactly one column
    params = sm.load_params()
    core = [n for n, p in params.parameters.items() if p.low < p.high
            and n.split(".")[0] in ("bargaining", "hazard", "russia", "ukraine", "ceasefire", "demands")]
    listed = [name for names in columns for name in names]
    assert sorted(listed) == sorted(core)


def test_the_margins_near_their_crossing_give_the_full_grid_crossing(sampled):
    """The diagnostics read the margins coarsely, then finely near the first coarse crossing: the same
    days as reading every output point, member by member."""
    from sanctions_model.core.outcomes import MARGINS, first_crossing, margins_near_crossing, margins_on

    n, n_t = sampled.y.shape[1], sampled.t.size
    full = margins_on(sampled, np.repeat(np.arange(n), n_t), np.tile(np.arange(n_t), n))
    near = margins_near_crossing(sampled)
    crossed = 0
    for name in MARGINS:
        a = first_crossing(sampled.t, np.asarray(full[name]).reshape(n, n_t), 0.0)
        b = first_crossing(sampled.t, near[name], 0.0)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=1e-9)
        crossed += int(((a > 0) & ~np.isnan(a)).sum())
    assert crossed >= 10, "the comparison saw crossings inside the run"


def test_the_chances_kept_as_trajectories_are_those_the_model_computes(sampled):
    """A sweep reads p_talks and p_ceasefire from their hazard totals alone; the same numbers as the
    model's auxiliaries give."""
    from sanctions_model.core.model import auxiliaries
    from sanctions_model.core.schedules import at_time

    columns = np.array([0, 100, 365, 730])
    kept = series(sampled, ["p_talks", "p_ceasefire"])
    for k in columns:
        t = sampled.t[k]
        aux = auxiliaries(t, sampled.y[:, :, k], at_time(t, sampled.params), sampled.ref)
        np.testing.assert_allclose(kept["p_talks"][:, k], aux["p_talks"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(kept["p_ceasefire"][:, k], aux["p_ceasefire"], rtol=1e-12, atol=0)
