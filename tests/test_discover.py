"""Scenario discovery (issue 17, first part): PRIM finds a box it is given, and refuses bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sanctions_model as sm
from sanctions_model.analysis.discover import SIGNIFICANT, significant
from sanctions_model.errors import InputError


@pytest.fixture(scope="module")
def sample():
    """Five uniform inputs; the outcome happens exactly in the box x0 > 0.7 and x1 < 0.4."""
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.uniform(size=(3000, 5)), columns=["x0", "x1", "x2", "x3", "x4"])
    return x, ((x["x0"] > 0.7) & (x["x1"] < 0.4)).to_numpy()


def test_prim_finds_a_known_box(sample):
    x, happens = sample
    found = sm.discover(x, happens, outcome="the event", threshold=0.95,
                        describe={"x0": ("US$/bbl", "the oil price")})
    assert set(found.limits.index) == {"x0", "x1"} and found.restricted == 2, "only the two inputs that matter"
    assert found.limits.loc["x0", "low"] == pytest.approx(0.7, abs=0.03)
    assert found.limits.loc["x1", "high"] == pytest.approx(0.4, abs=0.03)
    assert found.limits.loc["x0", "side"] == "at least" and found.limits.loc["x1", "side"] == "at most"
    assert found.density >= 0.95 and found.coverage > 0.85
    assert found.base_rate == pytest.approx(happens.mean()) and found.n == 3000
    assert found.mass == pytest.approx(((x["x0"] >= found.limits.loc["x0", "low"])
                                        & (x["x1"] <= found.limits.loc["x1", "high"])).mean(), abs=1e-9)
    assert set(significant(found)) == {"x0", "x1"}
    assert (found.limits["qp"] < SIGNIFICANT).all() and found.dropped == []
    text = found.sentence()
    assert "The event happens in" in text and "the oil price (`x0`) is at least 0.7" in text and "US$/bbl" in text
    # the trajectory trades coverage for density as it peels
    traj = found.trajectory
    assert traj["coverage"].iloc[0] == 1.0 and traj["density"].iloc[-1] >= traj["density"].iloc[0]
    assert found.chosen in traj.index


def test_a_lower_threshold_trades_density_for_coverage(sample):
    x, happens = sample
    strict = sm.discover(x, happens, threshold=0.95)
    loose = sm.discover(x, happens, threshold=0.6)
    assert loose.coverage >= strict.coverage and loose.density <= strict.density
    assert loose.density >= 0.6


def test_an_outcome_no_input_explains_gives_no_significant_box():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.uniform(size=(1000, 3)), columns=["a", "b", "c"])
    noise = rng.uniform(size=1000) < 0.3
    found = sm.discover(x, noise, threshold=0.9)
    assert found.density < 0.9, "no box of pure noise is that dense"
    assert found.restricted == len(found.limits) <= 1, "the limits that may be chance are dropped"
    assert found.dropped or found.restricted <= 1


@pytest.mark.parametrize("inputs, happens, kwargs, message", [
    (pd.DataFrame({"a": [0.1, 0.2]}), [True], {}, "1 values for 2 rows"),
    (pd.DataFrame({"a": [0.1, np.nan]}), [True, False], {}, "NaN or infinite"),
    (pd.DataFrame({"a": ["x", "y"]}), [True, False], {}, "not numbers"),
    ("not a frame", [True], {}, "must be a DataFrame"),
    (pd.DataFrame(), [], {}, "empty"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [0.5, 1.0], {}, "must be yes/no"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [False, False], {}, "happens in 0 of 2 rows"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"threshold": 0}, "threshold must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"threshold": float("nan")}, "threshold must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"threshold": "high"}, "threshold must be"),
])
def test_bad_input_is_refused_naming_the_problem(inputs, happens, kwargs, message):
    with pytest.raises(InputError, match=message):
        sm.discover(inputs, np.asarray(happens), **kwargs)
