"""Integration error, batching and crossing location."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_values

import sanctions_model as sm
from sanctions_model.core.model import STATE_NAMES
from sanctions_model.core.outcomes import PROBABILITIES, compute, first_crossing
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import latin_hypercube

CROSSINGS = ["diagnostic_days_russia_prefers_ceasefire", "diagnostic_days_ukraine_prefers_ceasefire",
             "diagnostic_days_to_range_open", "days_to_reserves_exhausted"]


def _compare_tolerances(values, days=730):
    loose = run_values(values, days)
    tight = run_values(values, days, rtol=1e-7, atol_factor=1e-9)
    o_loose, o_tight = compute(loose), compute(tight)
    for key in CROSSINGS:
        a, b = o_loose[key], o_tight[key]
        assert np.array_equal(np.isnan(a), np.isnan(b)), key
        ok = ~np.isnan(a)
        assert np.all(np.abs(a[ok] - b[ok]) <= 0.5), (key, np.abs(a[ok] - b[ok]).max())
    for key in PROBABILITIES:
        assert np.all(np.abs(o_loose[key] - o_tight[key]) <= 1e-4), (key, np.abs(o_loose[key] - o_tight[key]).max())
    for i, name in enumerate(STATE_NAMES):
        span = np.maximum(np.abs(tight.y[i]).max(axis=1, keepdims=True), 1e-9)
        err = np.abs(loose.y[i] - tight.y[i]) / span
        assert err.max() <= 1e-3, (name, err.max())
    return o_tight


@pytest.mark.parametrize("scenario", ["status_quo", "hard_way", "easy_way", "frozen_assets", "security_guarantee"])
def test_tighter_tolerance_moves_nothing(scenario):
    _compare_tolerances(load_params(scenario).values())


def test_tighter_tolerance_moves_nothing_across_sampled_assumptions():
    out = _compare_tolerances(latin_hypercube(load_params("hard_way"), 64, seed=3))
    assert np.isfinite(out["diagnostic_days_to_range_open"]).any()  # some crossings were compared


def test_batch_of_identical_sets_equals_the_single_run():
    from sanctions_model.runs.evaluate import POLICY

    # four years: from the base file's state hard_way's reserves run out in the fourth (day 1294)
    single = sm.simulate("hard_way", days=1460, rtol=POLICY.rtol, step=POLICY.step)  # the batches' policy
    values = {k: np.full(16, v) for k, v in single.params.values().items()}
    batch = sm.simulate_batch(values, days=1460)
    assert not np.isnan(single.outcomes["days_to_reserves_exhausted"]), "the check below is not vacuous"
    for key, value in single.outcomes.items():
        col = batch[key].to_numpy()
        if isinstance(value, (bool, np.bool_)):
            assert np.all(col == value)
        elif np.isnan(value):
            assert np.all(np.isnan(col))
        else:
            np.testing.assert_allclose(col, value, rtol=1e-6, atol=1e-9)
    assert len(set(batch["days_to_reserves_exhausted"])) == 1  # identical, not merely close


def test_mixed_batch_matches_members_run_alone():
    values = latin_hypercube(load_params(), 8, seed=11)
    batch = sm.simulate_batch(values)
    for i in [0, 3, 7]:
        alone = sm.simulate_batch({k: v[i] for k, v in values.items()})
        for key in ["days_to_reserves_exhausted", "peak_strain", "territory_at_horizon", "reserves_at_horizon"]:
            a, b = batch[key][i], alone[key][0]
            assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= max(1e-3 * abs(b), 0.5 if "days" in key else 1e-6)


def test_crossing_is_located_between_grid_points():
    t = np.arange(0.0, 11.0)
    x = np.vstack([(t / 10.0) ** 3, np.sin(t / 4), np.full_like(t, 0.9), np.zeros_like(t)])
    got = first_crossing(t, x, np.array([0.125, 0.5, 0.5, 0.5]))
    assert got[0] == pytest.approx(5.0, abs=1e-9)  # the cubic is exact for a cubic
    assert got[1] == pytest.approx(4 * np.arcsin(0.5), abs=2e-3)
    assert got[2] == 0.0 and np.isnan(got[3])


def test_crossing_days_are_not_rounded_to_the_grid():
    run = sm.simulate("hard_way", days=1460)
    day = run.outcomes["days_to_reserves_exhausted"]
    assert np.isfinite(day) and day != round(day)


def test_spectral_radius_of_independent_members():
    from sanctions_model.core.solve import spectral_radius

    rates = np.array([0.01, 3.0, 250.0])  # one decaying mode per member, in the first stock
    a = np.zeros((len(STATE_NAMES), len(STATE_NAMES)))
    a[0, 0], a[1, 0] = -1.0, 0.5

    def f(t, y):
        return (a @ y) * rates

    got = spectral_radius(f, 0.0, np.ones((len(STATE_NAMES), 3)))
    np.testing.assert_allclose(got, rates, rtol=1e-6)


@pytest.mark.parametrize("method", ["Radau", "LSODA"])
def test_an_implicit_method_agrees_with_the_default(method):
    values = latin_hypercube(load_params("hard_way"), 8, seed=3)
    default, implicit = run_values(values, 730), run_values(values, 730, method=method)
    for i, name in enumerate(STATE_NAMES):
        span = np.maximum(np.abs(implicit.y[i]).max(axis=1, keepdims=True), 1e-9)
        assert (np.abs(default.y[i] - implicit.y[i]) / span).max() <= 1e-4, name


def test_ordinary_runs_stay_on_the_explicit_method():
    """The fallback is for stiff members only: a sample of the ranges over two years never needs it."""
    for scenario in ["status_quo", "hard_way"]:
        sol = run_values(latin_hypercube(load_params(scenario), 64, seed=5), 730)
        assert sol.fallback is not None and not sol.fallback.any()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 / 0 for the zero army, at the start
def test_a_member_undefined_at_the_start_still_raises(base_values):
    values = {k: np.array([v, v]) for k, v in base_values.items()}
    values["forces.russia_initial"] = np.array([793.916, 0.0])  # no army: a ratio of zero powers
    with pytest.raises(sm.SolverError, match="undefined"):
        run_values(values, 200)


def test_a_run_that_stalls_without_being_stiff_raises(base_values, monkeypatch):
    from sanctions_model.core import solve

    monkeypatch.setattr(solve, "MAX_RHS_CALLS", 40)
    with pytest.raises(sm.SolverError, match="more than 40 evaluations"):
        run_values(base_values, 730)


def test_an_unknown_method_is_refused(base_values):
    with pytest.raises(ValueError, match="unknown method 'Euler'"):
        run_values(base_values, 10, method="Euler")


def test_a_state_that_becomes_non_finite_on_the_output_grid_is_a_solver_error_member_by_member(monkeypatch):
    from sanctions_model.core import jit, stepper
    from sanctions_model.core.solve import integrate
    from sanctions_model.errors import SolverError

    # the compiled check: a step's points are written until one is not finite, which stops the writing
    grid, out = np.arange(6.0), np.zeros((2, 1, 6))
    # the stages' rates k (3 stages of 2 stocks) and an interpolant's table P (3 x 4): q = P.T @ k
    k = np.array([[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    table = np.zeros((3, 4))
    table[0, 0] = 1.0
    dense, point = np.full((4, 2), np.nan), np.full(2, np.nan)  # scratch, whatever it held
    assert jit.write_points(out, 0, grid, 0.5, 3.0, 2.5, np.array([1.0, 1.0]), table, k, dense, point)
    np.testing.assert_allclose(out[:, 0, 1:4].T, [[1.5, 2.0], [2.5, 4.0], [3.5, 6.0]])
    np.testing.assert_array_equal(dense, table.T @ k)
    out[:] = 0.0
    assert not jit.write_points(out, 0, grid, 0.5, 3.0, 2.5, np.array([1.0, np.nan]), table, k, dense, point)
    assert not out.any()
    # a step that covers no point writes nothing
    assert jit.write_points(out, 0, grid, 1.25, 1.75, 0.5, np.array([np.nan, np.nan]), table, k, dense, point)
    assert not out.any()
    # the interpolant of a full table (7 stages, order 4, as RK45's): the points are those of P.T @ k
    rng = np.random.default_rng(3)
    table, k, y_old = rng.normal(size=(7, 4)), rng.normal(size=(7, 2)), rng.normal(size=2)
    dense = np.zeros((4, 2))
    assert jit.write_points(out, 0, grid, 0.5, 3.0, 2.5, y_old, table, k, dense, point)
    x = (grid[1:4] - 0.5) / 2.5
    expected = y_old + sum(np.outer(2.5 * x ** (o + 1), (table.T @ k)[o]) for o in range(4))
    np.testing.assert_allclose(out[:, 0, 1:4].T, expected, rtol=1e-12)
    # and what the engine makes of a member the compiled loop reports so
    real = jit.step_each

    def poisoned(*args):
        status, segment, t, y, evaluations, failed = real(*args)
        status[0], failed[0] = stepper.NON_FINITE_OUTPUT, 0
        return status, segment, t, y, evaluations, failed

    monkeypatch.setattr(jit, "step_each", poisoned)
    values = {k: np.asarray(v, dtype=float) for k, v in load_params("status_quo").values().items()}
    with pytest.raises(SolverError, match="non-finite"):
        integrate(values, 60, method="RK45", stepping="member")


@pytest.mark.parametrize("method", ["RK45", "Radau"])
def test_a_state_that_becomes_non_finite_on_the_output_grid_is_a_solver_error(monkeypatch, method):
    from sanctions_model.core.solve import EXPLICIT, IMPLICIT, integrate
    from sanctions_model.errors import SolverError

    solver = {**EXPLICIT, **IMPLICIT}[method]
    real = solver._dense_output_impl

    def poisoned(self):
        dense = real(self)
        return lambda t: np.where(np.asarray(t) > 30.0, np.nan, dense(t))  # from day 30 on

    monkeypatch.setattr(solver, "_dense_output_impl", poisoned)
    values = {k: np.asarray(v, dtype=float) for k, v in load_params("status_quo").values().items()}
    with pytest.raises(SolverError, match="non-finite"):
        integrate(values, 60, method=method, stepping="batch")
