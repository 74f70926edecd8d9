"""Lever schedules: start, phase-in and level, as En-ROADS shapes them."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.integrate import quad

from sanctions_model.core.schedules import breakpoints, lever_rate, lever_value


def lever(initial, level, start, phase):
    return {f"x.{k}": np.array([v], float) for k, v in
            dict(initial=initial, level=level, start_day=start, phase_in_days=phase).items()}


def test_ramp_holds_then_moves_linearly_then_holds():
    p = lever(0.2, 0.8, 10, 20)
    t = np.array([0, 10, 20, 30, 40])
    np.testing.assert_allclose(lever_value(t, p, "x"), [0.2, 0.2, 0.5, 0.8, 0.8])


def test_zero_phase_is_a_step():
    p = lever(0.0, 1.0, 5, 0)
    np.testing.assert_allclose(lever_value(np.array([4.999, 5.0, 6]), p, "x"), [0, 1, 1])


def test_rate_integrates_to_the_change():
    p = lever(0.0, 300.0, 30, 365)
    total, _ = quad(lambda t: float(lever_rate(t, p, "x")[0]), 0, 500, points=[30, 395], limit=200)
    assert abs(total - 300.0) < 1e-6


def test_breakpoints_cover_every_lever_edge(base_values):
    p = {k: np.atleast_1d(v) for k, v in base_values.items()}
    p["sanctions.start_day"] = np.array([12.5])
    p["sanctions.phase_in_days"] = np.array([40.0])
    bp = breakpoints(p, 730)
    assert 12.5 in bp and 52.5 in bp
    assert np.all(np.diff(bp) > 0) and bp.min() > 0 and bp.max() < 730


# --- further steps of a schedule ([[step]] in a scenario file) ----------------------------

STEPPED = '''title = "Stepped"
description = "Sanctions tightened twice more, then eased."

[[step]]
lever = "sanctions"
date = 2025-06-01
level = 0.75
phase_in_days = 30
why = "test: a second tightening"

[[step]]
lever = "sanctions"
day = 300
level = 0.55
why = "test: an easing, as a step"
'''


def _scenario(tmp_path, text, name="stepped"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_steps_extend_a_schedule(tmp_path):
    from sanctions_model.core.schedules import steps
    from sanctions_model.inputs.params import load_params

    params = load_params(_scenario(tmp_path, STEPPED))
    assert steps(params, "sanctions") == ["sanctions.step1", "sanctions.step2"]
    assert params["sanctions.step1.start_day"] == 132  # 2025-06-01 is day 132 after 2025-01-20
    p = {k: np.atleast_1d(v) for k, v in params.values().items()}
    value = lambda t: float(lever_value(t, p, "sanctions")[0])  # noqa: E731
    assert value(0) == 0.5 and value(38) == pytest.approx(0.6) and value(100) == pytest.approx(0.6)
    assert value(147) == pytest.approx(0.675)  # half-way through the 30-day step to 0.75
    assert value(200) == pytest.approx(0.75) and value(299.9) == pytest.approx(0.75) and value(300) == 0.55
    assert float(lever_rate(147.0, p, "sanctions")[0]) == pytest.approx(0.15 / 30)
    assert {132, 162, 300} <= set(breakpoints(p, 730).tolist())


def test_a_step_that_changes_nothing_changes_no_outcome(tmp_path):
    import sanctions_model as sm

    same = STEPPED.split("[[step]]")[0] + '[[step]]\nlever = "sanctions"\nday = 200\nlevel = 0.6\nwhy = "no-op"\n'
    stepped = sm.simulate(str(_scenario(tmp_path, same)), days=400).outcomes
    plain = sm.simulate(days=400).outcomes
    for key, value in plain.items():
        assert (np.isnan(value) and np.isnan(stepped[key])) or stepped[key] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_steps_move_the_model(tmp_path):
    import sanctions_model as sm

    stepped = sm.simulate(str(_scenario(tmp_path, STEPPED)), days=400)
    plain = sm.simulate(days=400)
    assert stepped.trajectories["sanctions_target"].max() == pytest.approx(0.75, abs=1e-6)
    assert stepped.outcomes["oil_revenue_lost"] > plain.outcomes["oil_revenue_lost"]


@pytest.mark.parametrize("step, message", [
    ('lever = "sanctionz"\nday = 10\nlevel = 0.7\nwhy = "x"', "unknown lever 'sanctionz'. Did you mean 'sanctions'"),
    ('lever = "sanctions"\nday = 10\nlevel = 1.7\nwhy = "x"', "outside its range"),
    ('lever = "sanctions"\nday = 10\nlevel = 0.7', "[[step]] 1 lacks 'why'"),
    ('lever = "sanctions"\nparameter = "oil.brent_price"\nday = 10\nlevel = 70\nwhy = "x"',
     "give one of 'lever' (a policy lever) or 'parameter' (a driver)"),
    ('parameter = "russia.optimism"\nday = 10\nlevel = 0.03\nwhy = "x"', "cannot follow a path"),
    ('parameter = "oil.brent_price"\nday = 10\nlevel = -5\nwhy = "x"', "outside its range [0, inf]"),
    ('parameter = "fiscal.rule_active"\nday = 10\nlevel = 2\nwhy = "x"', "outside its range [0, 1]"),
    ('lever = "sanctions"\nday = 10\ndate = 2025-03-01\nlevel = 0.7\nwhy = "x"', "one of 'day' or 'date'"),
    ('lever = "sanctions"\ndate = "soon"\nlevel = 0.7\nwhy = "x"', "'date' in [[step]] 1 must be a date"),
    ('lever = "sanctions"\nday = nan\nlevel = 0.7\nwhy = "x"', "finite"),
])
def test_bad_steps_are_refused(tmp_path, step, message):
    from sanctions_model.errors import InputError
    from sanctions_model.inputs.params import load_params

    text = 'title = "t"\ndescription = "d"\n\n[[step]]\n' + step + "\n"
    with pytest.raises(InputError, match=re.escape(message)):
        load_params(_scenario(tmp_path, text))


def test_a_drivers_path_may_leave_the_range_its_constant_value_is_sampled_over(tmp_path):
    """A recorded event (a month's sale of the Fund, the rouble's collapse) is data, bounded
    only by what the quantity allows; a lever's step stays within the lever's range."""
    from sanctions_model.inputs.params import load_params

    text = 'title = "t"\ndescription = "d"\n\n[[step]]\nparameter = "fiscal.fund_sales"\nday = 10\nlevel = 371.1\n' \
           'why = "x"\n'
    p = load_params(_scenario(tmp_path, text))
    assert p.parameters["fiscal.fund_sales"].high < 371.1 == p["fiscal.fund_sales.step1.level"]


def test_steps_out_of_order_are_refused(tmp_path):
    from sanctions_model.errors import InputError
    from sanctions_model.inputs.params import load_params

    text = STEPPED.replace("day = 300", "day = 100")
    with pytest.raises(InputError, match="before the step before it"):
        load_params(_scenario(tmp_path, text))


def test_steps_are_levers_not_uncertainties(tmp_path):
    from sanctions_model.inputs.params import load_params
    from sanctions_model.runs.designs import uncertainties

    params = load_params(_scenario(tmp_path, STEPPED))
    assert not [n for n in uncertainties(params) if ".step" in n]
    assert params.digest() != load_params().digest()


# --- drivers that follow a path, and scenarios with their own start date --------------------

DATED = """title = "From 2024"
description = "Starts on 2024-01-01 with restated reserves and an oil price path."
start_date = 2024-01-01

[[change]]
parameter = "fiscal.reserves_initial"
value = 60
low = 50
high = 70
why = "test: a restated starting value with its own range"

[[step]]
parameter = "oil.brent_price"
date = 2024-07-01
level = 60
phase_in_days = 60
why = "test: a price fall"
"""


def test_a_driver_follows_its_path(tmp_path):
    import numpy as np

    import sanctions_model as sm
    from sanctions_model.core.schedules import at_time

    with pytest.warns(sm.InputWarning, match="keeps the base file's starting values"):  # a driver test's shortcut
        params = sm.load_params(_scenario(tmp_path, DATED, "dated"))
    assert params.start_date.isoformat() == "2024-01-01"
    assert params["oil.brent_price.step1.start_day"] == 182  # 2024-07-01, counted from the scenario's start
    p = {k: np.atleast_1d(v) for k, v in params.values().items()}
    price = lambda t: float(at_time(t, p)["oil.brent_price"][0])  # noqa: E731
    assert price(0) == 75 and price(182) == 75 and price(212) == pytest.approx(67.5) and price(400) == 60
    run = sm.simulate(params=params, days=400)
    assert run.trajectories.index[0].isoformat()[:10] == "2024-01-01"
    urals = run.trajectories["urals_price"]
    assert urals.iloc[-1] < urals.iloc[100] - 10, "the Urals price follows Brent down"
    assert run.trajectories["reserves"].iloc[0] == 60


def test_a_stepped_driver_left_flat_changes_nothing(tmp_path):
    import numpy as np

    import sanctions_model as sm

    flat = STEPPED.split("[[step]]")[0] + ('[[step]]\nparameter = "oil.brent_price"\nday = 100\nlevel = 75\n'
                                           'why = "no change"\n')
    stepped = sm.simulate(str(_scenario(tmp_path, flat)), days=300).outcomes
    plain = sm.simulate(days=300).outcomes
    for key, value in plain.items():
        assert (np.isnan(value) and np.isnan(stepped[key])) or stepped[key] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_restated_ranges_need_a_start_date(tmp_path):
    from sanctions_model.errors import InputError
    from sanctions_model.inputs.params import load_params

    undated = DATED.replace("start_date = 2024-01-01\n", "")
    with pytest.raises(InputError, match="only a scenario with its own start_date"):
        load_params(_scenario(tmp_path, undated, "undated"))
    outside = DATED.replace("value = 60\n", "value = 80\n", 1)
    with pytest.raises(InputError, match="outside its range"):
        load_params(_scenario(tmp_path, outside, "outside"))
    bad_date = DATED.replace("start_date = 2024-01-01", 'start_date = "soon"')
    with pytest.raises(InputError, match="'start_date' must be a date"):
        load_params(_scenario(tmp_path, bad_date, "bad_date"))


def test_driver_steps_are_not_uncertainties(tmp_path):
    from sanctions_model.errors import InputWarning
    from sanctions_model.inputs.params import load_params
    from sanctions_model.runs.designs import uncertainties

    with pytest.warns(InputWarning, match="keeps the base file's starting values"):
        params = load_params(_scenario(tmp_path, DATED, "dated"))
    assert "oil.brent_price.step1.level" in params
    assert not [n for n in uncertainties(params) if ".step" in n]
    assert "oil.brent_price" in uncertainties(params)


def test_dated_scenarios_are_not_projection_scenarios(tmp_path):
    from sanctions_model.inputs.params import scenario_names

    _scenario(tmp_path, DATED, "dated")
    _scenario(tmp_path, STEPPED, "stepped")
    assert scenario_names(tmp_path) == ["stepped"]
    assert scenario_names(tmp_path, dated=True) == ["dated"]


def test_a_compiled_schedule_gives_the_same_values_to_the_last_bit():
    """The solver evaluates levers and drivers through schedules.compiled (one pass over arrays,
    finished ramps folded in and future ones dropped for the segment it integrates). Outside the
    segment every value and rate equals the plain functions' exactly; inside it, where every
    schedule is linear in time, it is read as its value at the segment's start plus its rate times
    the time since, equal to the plain functions' to rounding (a relative 1e-13) and its rates exactly."""
    import numpy as np

    import sanctions_model as sm
    from sanctions_model.core.schedules import DRIVERS, LEVERS, at_time, compiled, lever_rate, lever_value
    from sanctions_model.runs.designs import Design, overlay

    params = sm.load_params("history_2022_2025")
    design = Design.build("lhs", params, 16, 3)
    p = {k: np.asarray(v, dtype=float) for k, v in overlay(params.values(), design.names, design.chunk(0)).items()}
    p = {k: np.broadcast_to(v, (16,)).copy() for k, v in p.items()}
    edges = np.concatenate([[0.0], breakpoints(p, 1100.0), [1100.0]])
    windows = [compiled(p)] + [compiled(p, a, b - 1e-9) for a, b in zip(edges[:-1:7], edges[1::7])]
    stepped = [d for d in DRIVERS if f"{d}.step1.level" in p]
    assert len(stepped) >= 3 and any(f"{lever}.step1.level" in p for lever in LEVERS)
    times = np.unique(np.concatenate([np.linspace(0, 1100, 113), p["sanctions.step1.start_day"][:2],
                                      p["sanctions.step1.start_day"][:2] + p["sanctions.step1.phase_in_days"][:2]]))
    linear = 0
    for t, fast in ((t, fast) for t in times for fast in windows):  # inside its window and outside
        plain, quick = at_time(t, p), at_time(t, fast)
        schedule = fast.schedule
        inside = schedule.a <= t <= schedule.b and schedule.window.linear is not None
        linear += inside

        def same(x, y, name, inside=inside):
            if inside:
                np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-13, err_msg=name)
            else:
                np.testing.assert_array_equal(x, y, err_msg=name)

        for lever in LEVERS:
            same(lever_value(t, quick, lever), lever_value(t, plain, lever), lever)
            np.testing.assert_array_equal(lever_rate(t, quick, lever), lever_rate(t, plain, lever), err_msg=lever)
        for name in stepped:
            same(quick[name], plain[name], name)
            np.testing.assert_array_equal(quick[f"{name}.slope"], plain[f"{name}.slope"], err_msg=name)
    assert linear > 5  # the segments between breakpoints are linear windows


def test_drivers_along_a_run_are_worked_out_when_read_and_equal_their_steps_summed():
    from sanctions_model.core.schedules import DRIVERS, at_time, steps
    from sanctions_model.inputs.params import load_params

    p = {k: np.asarray(v, dtype=float) for k, v in load_params("history_2022_2025").values().items()}
    t = np.linspace(0.0, 1061.0, 97)
    at = at_time(t, p)
    stepped = [name for name in DRIVERS if steps(p, name)]
    assert "macro.rub_per_usd" in stepped and len(stepped) >= 3
    slopes = [f"{name}.slope" for name in stepped]
    assert set(at) == set(p) | set(slopes) and len(at) == len(set(p) | set(slopes))
    assert all(key in at for key in slopes) and "no.such" not in at
    assert at["oil.tax_take"] is p["oil.tax_take"]  # the rest read through, not copied
    for name in stepped:  # by hand: the base value plus each step's ramp, and the ramps' slopes
        value, slope, before = np.broadcast_to(p[name], t.shape).copy(), np.zeros_like(t), p[name]
        for step in steps(p, name):
            level, start, phase = p[f"{step}.level"], p[f"{step}.start_day"], p[f"{step}.phase_in_days"]
            fraction = np.clip((t - start) / phase, 0.0, 1.0) if phase > 0 else (t >= start).astype(float)
            value += (level - before) * fraction
            slope += np.where((t >= start) & (t < start + phase), (level - before) / (phase if phase > 0 else 1.0), 0.0)
            before = level
        np.testing.assert_allclose(at[name], value, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(at[f"{name}.slope"], slope, rtol=1e-12, atol=1e-12, err_msg=name)


def test_a_dated_scenario_that_keeps_starting_values_is_warned(tmp_path):
    """A scenario with its own start date that restates only some starting values runs, with one
    note naming the ones it keeps from the base file (which describe 2025-01-20)."""
    import warnings

    from conftest import run_cli

    from sanctions_model.errors import InputWarning
    from sanctions_model.inputs.params import load_params

    path = _scenario(tmp_path, DATED, "dated")
    with pytest.warns(InputWarning, match=r"starts on 2024-01-01 but keeps .*forces\.russia_initial") as caught:
        load_params(path)
    message = str(caught[0].message)
    assert "fiscal.reserves_initial" not in message and "fiscal.reserves_gold_share" in message
    assert str(path) in message and "describe 2025-01-20" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)
        load_params(path)  # the same note is given once
        load_params("history_2022_2025")  # restates every starting value
        load_params("history_2022_2025", calibration=True)
        same_day = _scenario(tmp_path, DATED.replace("2024-01-01", "2025-01-20").replace("2024-07-01", "2025-07-01"),
                             "same_day")
        load_params(same_day)  # the base file's own day: its values describe it
    with pytest.warns(InputWarning) as caught:  # a value set by hand is not kept
        load_params(path, {"forces.russia_initial": 600})
    assert "forces.russia_initial" not in str(caught[0].message)
    other = _scenario(tmp_path, DATED, "other")
    res = run_cli("run", "--scenario", str(other), "--days", "30", "--out", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("sanctions-model: note: ") == 1 and "macro.key_rate_initial" in res.stderr
    assert "Traceback" not in res.stderr and "InputWarning" not in res.stderr
