"""Sensitivity methods checked against functions whose indices are known analytically."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami, Sobol_G

from sanctions_model.analysis import sensitivity as sa
from sanctions_model.errors import InputError
from sanctions_model.inputs.params import load_params

ISHIGAMI = {"names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
# Analytic indices of the Ishigami function, a = 7, b = 0.1 (Saltelli et al. 2008).
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def test_sobol_recovers_ishigami_indices_within_the_reported_intervals():
    res = sa.sobol(ISHIGAMI, Ishigami.evaluate, 2 ** 13, seed=1, conf_level=0.99)
    assert res.attrs["n_evaluations"] == 2 ** 13 * 5 and res.attrs["seed"] == 1
    assert np.all(np.abs(res["S1"] - ISHIGAMI_S1) <= res["S1_conf"] + 5e-5)  # analytic values to 4 decimals
    assert np.all(np.abs(res["ST"] - ISHIGAMI_ST) <= res["ST_conf"] + 5e-5)
    assert res["S1_conf"].max() < 0.05  # and the intervals are narrow enough to mean something


def test_sobol_recovers_sobol_g_indices():
    a = np.array([0, 1, 4.5, 9, 99, 99, 99, 99], dtype=float)
    problem = {"names": [f"x{i}" for i in range(8)], "bounds": [[0.0, 1.0]] * 8}
    res = sa.sobol(problem, lambda x: Sobol_G.evaluate(x, a), 2 ** 13, seed=2, conf_level=0.99)
    s1, st = Sobol_G.sensitivity_index(a), Sobol_G.total_sensitivity_index(a).ravel()
    assert np.all(np.abs(res["S1"] - s1) <= res["S1_conf"])
    assert np.all(np.abs(res["ST"] - st) <= res["ST_conf"])
    assert list(res["ST"].sort_values(ascending=False).index[:4]) == ["x0", "x1", "x2", "x3"]


def test_sobol_warns_when_too_few_samples_to_rank():
    with pytest.warns(sa.SensitivityWarning, match="too wide"):
        sa.sobol(ISHIGAMI, Ishigami.evaluate, 8, seed=1)


def test_sobol_several_outcomes_and_seed_determinism():
    def f(x):
        return np.column_stack([Ishigami.evaluate(x), x[:, 0] + 2 * x[:, 1]])

    a = sa.sobol(ISHIGAMI, f, 256, seed=5)
    b = sa.sobol(ISHIGAMI, f, 256, seed=5)
    c = sa.sobol(ISHIGAMI, f, 256, seed=6)
    assert list(a.columns.get_level_values(0).unique()) == ["y0", "y1"]
    assert a.equals(b) and not a.equals(c)
    # the linear outcome: x2 carries 4/5 of the variance, x3 none
    assert a[("y1", "S1")]["x2"] == pytest.approx(0.8, abs=0.05) and abs(a[("y1", "ST")]["x3"]) < 0.02


LINEAR = np.array([3.0, -1.0, 0.0, 0.5])
LIN_PROBLEM = {"names": ["a", "b", "c", "d"], "bounds": [[0, 1], [0, 2], [0, 1], [-1, 1]],
               "base": [0.5, 1.0, 0.5, 0.0]}


def linear(x):
    return x @ LINEAR


def test_oat_swings_of_a_linear_function_are_exact():
    res = sa.oat(LIN_PROBLEM, linear)
    ranges = np.array([1.0, 2.0, 1.0, 2.0])
    expected = np.abs(LINEAR) * ranges
    assert list(res.index) == ["a", "b", "d", "c"]  # sorted by swing
    np.testing.assert_allclose(res.loc[["a", "b", "c", "d"], "swing"], expected)
    assert res["base"].iloc[0] == pytest.approx(linear(np.array([[0.5, 1.0, 0.5, 0.0]]))[0])
    assert res.attrs["n_evaluations"] == 9


def test_morris_elementary_effects_of_a_linear_function_are_exact():
    res = sa.morris(LIN_PROBLEM, linear, 20, seed=3)
    ranges = np.array([1.0, 2.0, 1.0, 2.0])
    np.testing.assert_allclose(res["mu_star"], np.abs(LINEAR) * ranges, atol=1e-9)
    np.testing.assert_allclose(res["sigma"], 0.0, atol=1e-9)
    assert res.attrs["n_evaluations"] == 20 * 5


def test_monte_carlo_rank_correlations():
    res = sa.monte_carlo(LIN_PROBLEM, lambda x: np.exp(x[:, 0]), 500, seed=4)
    assert res.loc["a", "spearman"] == pytest.approx(1.0)
    assert res.drop(index="a")["abs"].max() < 0.15
    assert res.attrs["n_evaluations"] == 500
    inputs, outputs = sa.monte_carlo_sample(LIN_PROBLEM, lambda x: np.exp(x[:, 0]), 500, seed=4)
    assert outputs.shape == (500, 1) and inputs.shape == (500, 4)
    again, _ = sa.monte_carlo_sample(LIN_PROBLEM, lambda x: np.exp(x[:, 0]), 500, seed=4)
    assert again.equals(inputs)
    np.testing.assert_allclose(outputs["y"], np.exp(inputs["a"]))


def test_problem_from_params():
    problem = sa.problem_from_params(load_params(), ["oil.brent_price", "russia.strain_cost"])
    assert problem["bounds"] == [[40.0, 125.0], [0.0, 0.15]] and problem["base"] == [75.0, 0.05]
    with pytest.raises(InputError, match="unknown parameter"):
        sa.problem_from_params(load_params(), ["oil.brent"])


@pytest.mark.parametrize("problem, n, message", [
    ({"names": ["a"]}, 8, "names' and 'bounds'"),
    ({"names": ["a"], "bounds": [[1, 0]]}, 8, "low <= high"),
    ({"names": ["a"], "bounds": [[0, np.nan]]}, 8, "finite"),
    ({"names": ["a"], "bounds": [[0, 1]]}, 0, "at least 1"),
    ({"names": ["a"], "bounds": [[0, 1]]}, 2.5, "whole number"),
])
def test_bad_problems(problem, n, message):
    for method in (sa.oat, sa.morris, sa.sobol, sa.monte_carlo):
        with pytest.raises(InputError, match=message):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                method(problem, lambda x: x[:, 0], n, seed=1)


def test_model_function_feeds_the_methods():
    params = load_params("hard_way")
    names = ["russia.claim_weight", "hazard.ceasefire_open", "oil.brent_price"]
    outcomes = ["p_ceasefire_horizon", "diagnostic_days_to_range_open", "peak_strain"]
    f = sa.model_function(params, names, outcomes)
    problem = sa.problem_from_params(params, names)
    res = sa.oat(problem, f)
    assert list(res.columns.get_level_values(0).unique()) == outcomes
    days = res[("diagnostic_days_to_range_open", "low")]
    assert (days <= 731).all()  # censored runs count as horizon + 1 day, never NaN
    # a larger claim insisted on closes the range; a faster hazard at an open range raises the chance
    assert res.loc["russia.claim_weight", ("p_ceasefire_horizon", "high")] < \
        res.loc["russia.claim_weight", ("p_ceasefire_horizon", "low")]
    assert res.loc["hazard.ceasefire_open", ("p_ceasefire_horizon", "high")] > \
        res.loc["hazard.ceasefire_open", ("p_ceasefire_horizon", "low")]
    # the oil price moves strain through revenue; the decision core does not feed back into the economy
    assert res.loc["oil.brent_price", ("peak_strain", "swing")] > 1e-3
    # each member is stepped on its own, so two members' economies agree to the solver's tolerance, not
    # to the last bit: a feedback would move peak strain by far more than 1e-6
    assert res.loc["russia.claim_weight", ("peak_strain", "swing")] < 1e-6
    with pytest.raises(InputError, match="unknown outcome"):
        sa.model_function(params, names, ["talks_soon"])


def test_indices_over_time_for_a_trajectory():
    params = load_params("hard_way")
    names = ["evasion.max", "oil.brent_price", "strain.perception_days"]
    f = sa.trajectory_function(params, names, "strain", every_days=90, days=360)
    res = sa.sobol(sa.problem_from_params(params, names), f, 64, seed=1)
    assert list(res.columns.get_level_values(0).unique()) == ["day_90", "day_180", "day_270", "day_360"]
    # evasion adapts slowly: its total effect on strain grows over time
    assert res[("day_360", "ST")]["evasion.max"] > res[("day_90", "ST")]["evasion.max"]
    with pytest.raises(InputError, match="unknown trajectory variable"):
        sa.trajectory_function(params, names, "stress")


def test_model_function_on_worker_processes_gives_the_same_numbers():
    import sanctions_model.analysis.sensitivity as sens
    from sanctions_model.inputs.params import load_params

    params = load_params("hard_way")
    names = ["russia.strain_cost", "oil.brent_price"]
    x = np.array([[0.01, 60.0], [0.05, 75.0], [0.1, 90.0], [0.03, 55.0], [0.08, 85.0]])
    outcomes = ["p_ceasefire_horizon", "peak_strain"]
    old = sens.CHUNK_ROWS
    sens.CHUNK_ROWS = 2  # three chunks, here and then on two processes
    try:
        one = sens.model_function(params, names, outcomes, 300)(x)
        two = sens.model_function(params, names, outcomes, 300, workers=2)(x)
    finally:
        sens.CHUNK_ROWS = old
    assert len(one) == 5
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    with pytest.raises(InputError, match="workers must be"):
        sens.model_function(params, names, ["peak_strain"], 300, workers=0)
