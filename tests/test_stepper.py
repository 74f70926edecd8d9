"""Stepping every member with its own step size (core/stepper.py, ``stepping="member"``)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_values
from test_extremes import DAYS, assert_agrees, reference, stiff_corner

from sanctions_model.core.model import STATE_NAMES
from sanctions_model.core.outcomes import PROBABILITIES, compute
from sanctions_model.core.schedules import Schedule, breakpoints, member_edges
from sanctions_model.core.solve import as_batch
from sanctions_model.errors import SolverError
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import latin_hypercube

HISTORY_DAYS = 1061
CROSSINGS = ["diagnostic_days_russia_prefers_ceasefire", "diagnostic_days_ukraine_prefers_ceasefire",
             "diagnostic_days_to_range_open", "days_to_reserves_exhausted", "expected_day_talks"]


def _member(values, i):
    return {k: (v[i] if np.ndim(v) else v) for k, v in values.items()}


def test_a_members_numbers_do_not_depend_on_its_batch():
    values = latin_hypercube(load_params("history_2022_2025"), 12, seed=4)
    batch = run_values(values, HISTORY_DAYS, rtol=1e-5, step=2.0, stepping="member")
    for i in range(12):  # to the last bit
        alone = run_values(_member(values, i), HISTORY_DAYS, rtol=1e-5, step=2.0, stepping="member")
        np.testing.assert_array_equal(batch.y[:, i], alone.y[:, 0])
    # stepping the batch as one system, the same member moves with its company
    shared = run_values(values, HISTORY_DAYS, rtol=1e-5, step=2.0, stepping="batch")
    alone = run_values(_member(values, 0), HISTORY_DAYS, rtol=1e-5, step=2.0, stepping="batch")
    assert np.abs(shared.y[:, 0] - alone.y[:, 0]).max() > 1e-9


@pytest.mark.parametrize("scenario,days", [("history_2022_2025", HISTORY_DAYS), ("hard_way", 730)])
def test_member_stepping_agrees_with_a_tight_reference(scenario, days):
    values = latin_hypercube(load_params(scenario), 6, seed=8)
    got = run_values(values, days, rtol=1e-5, step=2.0, stepping="member")
    want = run_values(values, days, rtol=1e-9, step=2.0, stepping="batch")
    a, b = compute(got), compute(want)
    for key in CROSSINGS:
        assert np.array_equal(np.isnan(a[key]), np.isnan(b[key])), key
        ok = ~np.isnan(a[key])
        assert np.all(np.abs(a[key][ok] - b[key][ok]) <= 0.1), (key, np.abs(a[key][ok] - b[key][ok]).max())
    for key in PROBABILITIES:
        assert np.all(np.abs(a[key] - b[key]) <= 1e-3), key
    for i, name in enumerate(STATE_NAMES):
        span = np.maximum(np.abs(want.y[i]).max(axis=1, keepdims=True), 1e-9)
        assert (np.abs(got.y[i] - want.y[i]) / span).max() <= 1e-3, name


def test_member_stepping_takes_fewer_evaluations_per_member(monkeypatch):
    from sanctions_model.core import solve

    values = latin_hypercube(load_params("status_quo"), 40, seed=2)
    real, widths = solve.derivatives, []

    def counted(t, y, *args):
        widths.append(y.shape[1])
        return real(t, y, *args)

    monkeypatch.setattr(solve, "derivatives", counted)
    run_values(values, 730, rtol=1e-5, step=2.0, stepping="batch")
    shared = sum(widths)  # every member evaluated at every one of the batch's evaluations
    widths.clear()
    run = run_values(values, 730, rtol=1e-5, step=2.0, stepping="member")
    assert not widths  # the compiled model, not NumPy's
    assert run.evaluations.shape == (40,) and (run.evaluations > 0).all()
    assert run.evaluations.sum() < 0.7 * shared, (run.evaluations.sum(), shared)


def test_a_stiff_member_falls_back_to_the_implicit_method_member_by_member():
    values = stiff_corner()
    batch = {k: np.array([v, load_params("hard_way").values()[k]]) for k, v in values.items()}
    sol = run_values(batch, DAYS, stepping="member")
    assert sol.fallback.tolist() == [True, False]
    member = type(sol)(sol.t, sol.y[:, :1], {k: v[:1] for k, v in sol.ref.items()},
                       {k: v[:1] for k, v in sol.params.items()})
    assert_agrees(member, reference(values))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_member_undefined_at_the_start_still_raises_member_by_member(base_values):
    values = {k: np.array([v, v]) for k, v in base_values.items()}
    values["forces.russia_initial"] = np.array([793.916, 0.0])
    with pytest.raises(SolverError, match="undefined"):
        run_values(values, 200, stepping="member")


def test_a_member_that_stalls_raises_member_by_member(base_values, monkeypatch):
    from sanctions_model.core import solve

    monkeypatch.setattr(solve, "MAX_RHS_CALLS", 40)
    with pytest.raises(SolverError, match="more than 40 evaluations"):
        run_values(base_values, 730, stepping="member")


def test_an_unknown_stepping_is_refused(base_values):
    with pytest.raises(ValueError, match="unknown stepping 'each'"):
        run_values(base_values, 10, stepping="each")


def test_a_members_numbers_do_not_depend_on_the_breakpoints_of_its_batch(base_values):
    """Each member stops only at its own breakpoints: another member's lever dates move nothing."""
    other = dict(base_values, **{"sanctions.start_day": 37.3, "sanctions.phase_in_days": 11.1,
                                 "us_aid.start_day": 90.5, "us_aid.phase_in_days": 3.0})
    batch = run_values({k: np.array([base_values[k], other[k]]) for k in base_values}, 200, rtol=1e-5,
                       stepping="member")
    alone = run_values(base_values, 200, rtol=1e-5, stepping="member")
    np.testing.assert_array_equal(batch.y[:, 0], alone.y[:, 0])
    assert np.abs(batch.y[:, 1] - alone.y[:, 0]).max() > 1e-6  # the other member did move


def test_member_edges_are_each_members_own_breakpoints(base_values):
    values = {k: np.array([v, v]) for k, v in base_values.items()}
    values["sanctions.start_day"] = np.array([base_values["sanctions.start_day"], 37.3])
    values["sanctions.phase_in_days"] = np.array([base_values["sanctions.phase_in_days"], 11.1])
    p = as_batch(values)
    edges = member_edges(p, 730.0, 2)
    for i in range(2):
        own = edges[i][np.isfinite(edges[i])]
        alone = {k: v[i:i + 1] for k, v in p.items()}
        np.testing.assert_array_equal(own, np.concatenate([[0.0], breakpoints(alone, 730.0), [730.0]]))
    assert 37.3 in edges[1] and 48.4 in edges[1] and 37.3 not in edges[0]


@pytest.mark.parametrize("n", [5, 40])
def test_segment_schedules_give_each_member_its_schedules_at_its_own_time(n):
    from sanctions_model.core.stepper import segment_schedules

    p = as_batch(latin_hypercube(load_params("history_2022_2025"), n, seed=1))
    edges = member_edges(p, HISTORY_DAYS, n)
    schedule = Schedule(p)
    start, rate = segment_schedules(schedule, edges)
    assert start.shape == rate.shape == (n, edges.shape[1], len(schedule.keys))
    last = np.isfinite(edges).sum(axis=1) - 2  # each member's last segment
    rng = np.random.default_rng(3)
    members = np.arange(n)
    for segment in (np.zeros(n, dtype=int), rng.integers(0, last + 1), last):
        a, b = edges[members, segment], edges[members, segment + 1]
        for i in members:  # at the segment's start, to the last bit; inside, its rate times the time since
            at_start = schedule.at(float(a[i]), p)
            for s, keys in enumerate(schedule.keys):
                assert start[i, segment[i], s] == at_start[keys[0]][i], (keys[0], i, segment[i])
            t = a[i] + 0.37 * (b[i] - a[i])
            want = schedule.at(float(t), p)
            for s, keys in enumerate(schedule.keys):
                got_value = start[i, segment[i], s] + rate[i, segment[i], s] * (t - a[i])
                np.testing.assert_allclose(got_value, want[keys[0]][i], rtol=1e-12, atol=1e-9, err_msg=keys[0])
                np.testing.assert_allclose(rate[i, segment[i], s], want[keys[1]][i], rtol=1e-12, atol=1e-12,
                                           err_msg=keys[1])
