"""The one evaluator under every batch: one solver policy, failures isolated member by member."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.errors import InputError, SolverError
from sanctions_model.runs import evaluate as ev
from sanctions_model.runs.designs import Design, overlay

MARK = 0.123456  # a value of oil.tax_take that the patched solver refuses


@pytest.fixture
def refusing_solver(monkeypatch):
    """``integrate`` that raises for any batch holding a member marked with ``MARK``."""
    real = ev.integrate

    def integrate(values, days, **kwargs):
        if np.any(np.asarray(values["oil.tax_take"]) == MARK):
            raise SolverError("refused for the test")
        return real(values, days, **kwargs)

    monkeypatch.setattr(ev, "integrate", integrate)


def _batch(n: int = 6) -> dict[str, np.ndarray]:
    params = sm.load_params("hard_way")
    design = Design.build("lhs", params, n, seed=4, chunk_size=n)
    return overlay(params.values(), design.names, design.chunk(0))


def test_a_failing_member_is_isolated_and_the_others_keep_their_numbers(refusing_solver):
    values = _batch()
    clean = ev.evaluate(values, 200, keep=("strain",), at=np.array([0.0, 100.0, 200.0]))
    values["oil.tax_take"][3] = MARK
    result = ev.evaluate(values, 200, keep=("strain",), at=np.array([0.0, 100.0, 200.0]))
    assert result.ok.tolist() == [True, True, True, False, True, True]
    assert result.message[3] == "refused for the test" and (result.message[[0, 1, 2, 4, 5]] == "").all()
    assert np.isnan(result.outcomes["peak_strain"][3]) and np.isnan(result.outcomes["p_ceasefire_horizon"][3])
    assert np.isnan(result.trajectories["strain"][3]).all()
    others = [0, 1, 2, 4, 5]
    # the others ran in smaller batches (another shared step size): equal to the solver's tolerance
    np.testing.assert_allclose(result.outcomes["peak_strain"][others], clean.outcomes["peak_strain"][others],
                               rtol=1e-4)
    np.testing.assert_allclose(result.trajectories["strain"][others], clean.trajectories["strain"][others],
                               rtol=1e-4)


def test_an_ensemble_goes_on_past_a_failing_set_and_counts_only_the_sets_that_solved(refusing_solver, monkeypatch):
    from sanctions_model.runs import ensemble

    real_draws = ensemble.draws

    def draws(params, n, seed):
        names, x = real_draws(params, n, seed)
        x[2, names.index("oil.tax_take")] = MARK
        return names, x

    monkeypatch.setattr(ensemble, "draws", draws)
    ens = sm.run_ensemble(["hard_way"], 120, 8, seed=1, workers=1)
    status = ens.outcomes_of("hard_way")["status"]
    assert status.tolist() == ["ok", "ok", "failed", *["ok"] * 5]
    assert ens.outcomes_of("hard_way").loc[2, "message"] == "refused for the test"
    shares = ens.shares(interval=True)
    assert (shares["n"] == 7).all(), "the failed set is left out of every share"


def test_a_sensitivity_function_names_the_runs_that_failed(refusing_solver):
    from sanctions_model import sensitivity as sa

    params = sm.load_params()
    f = sa.model_function(params, ["oil.tax_take", "sanctions.level"], ("peak_strain",), 120, workers=1)
    x = np.array([[0.5, 0.5], [MARK, 0.5], [0.6, 0.4]])
    table = f(x)
    assert table.iloc[1].isna().all() and table.attrs["failed"] == {1: "refused for the test"}
    assert table.iloc[[0, 2]].notna().all().all()
    with pytest.raises(InputError, match=r"1 of 3 runs failed .*row 1: refused for the test"):
        sa._evaluate(f, x)


def test_simulate_batch_names_the_sets_it_could_not_integrate(refusing_solver):
    values = _batch(4)
    values["oil.tax_take"][1] = MARK
    with pytest.raises(SolverError, match=r"1 of 4 parameter sets could not be integrated \(rows 1\)"):
        sm.simulate_batch(values, days=100)


def test_sweeps_ensembles_and_sensitivity_functions_give_the_same_numbers(tmp_path):
    """One evaluator, one policy: the same eight sets give bit-identical outcomes whichever entry
    point runs them."""
    from sanctions_model import sensitivity as sa

    params = sm.load_params("easy_way")
    ens = sm.run_ensemble([("easy_way", params)], 300, 8, seed=5, workers=1)
    design = Design.build("lhs", params, 8, seed=5, chunk_size=8)
    sweep = sm.run_sweep(design, [("easy_way", params)], tmp_path / "s", days=300, workers=1)
    f = sa.model_function(params, list(design.names), ("peak_strain", "reserves_at_horizon"), 300, workers=1)
    by_function = f(design.chunk(0))
    from_sweep = sweep.outcomes.set_index("sample_id")
    from_ensemble = ens.outcomes_of("easy_way")
    for outcome in ("peak_strain", "reserves_at_horizon"):
        np.testing.assert_array_equal(from_ensemble[outcome].to_numpy(), from_sweep[outcome].to_numpy())
        np.testing.assert_array_equal(by_function[outcome].to_numpy(), from_sweep[outcome].to_numpy())
    pd.testing.assert_frame_equal(ens.inputs, sweep.samples.drop(columns="sample_id"), check_dtype=False)


def test_batches_cut_rows_and_carry_the_base():
    x = np.arange(10.0).reshape(5, 2)
    parts = ev.batches({"a": 1, "b": 2, "c": 3}, ["a", "b"], x, 30, rows=2, keep=("strain",), at=[0, 30])
    assert [p.x.shape[0] for p in parts] == [2, 2, 1]
    assert parts[2].x.tolist() == [[8.0, 9.0]] and parts[0].base == {"a": 1.0, "b": 2.0, "c": 3.0}
    assert parts[0].keep == ("strain",) and parts[0].at == (0.0, 30.0)


def test_scalars_and_arrays_broadcast_and_a_failure_is_found_among_them(refusing_solver):
    """A batch given as scalars with some arrays (as the README builds one): every member counts."""
    values = dict(sm.load_params().values())
    values["oil.tax_take"] = np.array([0.5, MARK, 0.6, 0.55])
    with pytest.raises(SolverError, match=r"1 of 4 parameter sets could not be integrated \(rows 1\)"):
        sm.simulate_batch(values, days=60)
    values["oil.tax_take"][1] = 0.65
    assert len(sm.simulate_batch(values, days=60)) == 4


def test_an_empty_batch_is_an_empty_evaluation():
    empty = {k: np.empty(0) for k in sm.load_params().values()}
    for policy in (ev.POLICY, ev.SolverPolicy(method="Radau")):
        result = ev.evaluate(empty, 30, policy=policy)
        assert result.n == 0 and all(v.size == 0 for v in result.outcomes.values())


def test_the_calibrations_jacobian_steps_as_scipys_two_point_scheme():
    """The batched Jacobian takes SciPy's steps for diff_step (least_squares' own), at the bounds too."""
    from scipy.optimize._numdiff import approx_derivative

    from sanctions_model.analysis import calibrate as cal

    def f(x):
        return np.array([x[0] ** 2 + np.sin(x[1]), x[0] * x[1] ** 3, np.exp(x[2]) - x[0]])

    def rows(xs):
        return np.array([f(x) for x in np.atleast_2d(xs)])

    lows, highs = np.array([-1.0, 0.0, 0.0]), np.array([2.0, 1.0, 1e-4])
    for x in (np.array([0.5, 0.3, 5e-5]), np.array([2.0, 1.0, 0.0]), np.array([-0.7, 0.0, 1e-4]),
              np.array([0.0, 0.999999, 0.0])):
        ours = cal._jacobian(rows, lows, highs)(x)
        theirs = approx_derivative(f, x, method="2-point", rel_step=cal.DIFF_STEP, bounds=(lows, highs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_days_to_keep_beyond_the_horizon_are_refused_and_the_solver_refuses_a_grid_it_cannot_fill():
    from sanctions_model.core.solve import integrate

    values = _batch(2)
    for bad in ([5.0, 15.0], [np.nan], [-1.0]):
        with pytest.raises(InputError, match="between 0 and 10"):
            ev.evaluate(values, 10, keep=["reserves"], at=np.array(bad))
    for grid in ([0.0, 5.0, 10.0, 12.0], [0.0, 0.0, 5.0], [1.0, 5.0], [0.0, 6.0, 3.0]):
        with pytest.raises(ValueError, match="rise strictly from day 0"):
            integrate(values, 10, grid=np.array(grid))
    kept = ev.evaluate(values, 10, keep=["reserves"], at=np.array([0.0, 10.0]))
    assert kept.ok.all() and np.isfinite(kept.trajectories["reserves"]).all()
