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
    assert "The event is found in" in text and "the oil price (`x0`) is at least 0.7" in text and "US$/bbl" in text
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


# --- CART, weights, and the command on a stored sweep and on the constrained ensemble -------------------


def test_cart_finds_the_known_box_as_a_leaf(sample):
    x, happens = sample
    leaves = sm.discover(x, happens, threshold=0.95).leaves
    top = leaves.iloc[0]
    assert top["density"] == pytest.approx(1.0) and top["coverage"] > 0.9 and top["restricted"] == 2
    assert "`x0` >= 0.7" in top["rule"] and "`x1` < 0.4" in top["rule"], top["rule"]
    assert (leaves["density"] > 0.5).all()


def test_weights_resample_to_the_effective_size_and_change_the_box(sample):
    x, happens = sample
    # weight only the rows with x2 below 0.5: the outcome among them is still the box, and x2 is constant-ish
    w = np.where(x["x2"] < 0.5, 1.0, 0.0)
    found = sm.discover(x, happens, threshold=0.95, weights=w)
    assert found.weighted and found.n == int((x["x2"] < 0.5).sum())
    assert {"x0", "x1"} <= set(found.limits.index)
    assert found.limits.loc["x0", "low"] == pytest.approx(0.7, abs=0.05)
    again = sm.discover(x, happens, threshold=0.95, weights=w)
    pd.testing.assert_frame_equal(found.limits, again.limits)  # the seeded resample is reproducible


@pytest.mark.parametrize("weights, message", [
    (np.ones(5), "weights must be 3,000"), (np.full(3000, np.nan), "NaN or infinite"),
    (-np.ones(3000), "weights must be"), (np.zeros(3000), "not all zero")])
def test_bad_weights_are_refused(sample, weights, message):
    x, happens = sample
    with pytest.raises(InputError, match=message):
        sm.discover(x, happens, weights=weights)


def test_event_words():
    from sanctions_model.analysis.studies import event_words

    assert event_words("p_ceasefire_horizon", 0.5, True, 730) == \
        "a better-than-even chance of a ceasefire within 730 days"
    assert event_words("p_talks_100_days", 0.2, False, 730) == "a chance below 20% of talks by day 100"
    assert event_words("peak_strain", 0.6, True, 730).endswith("above 0.6 index 0-1")


@pytest.fixture(scope="module")
def lever_sweep(tmp_path_factory):
    """A small sweep that varies two levers and the assumptions, under status_quo."""
    from sanctions_model.cli import main

    out = tmp_path_factory.mktemp("sweep") / "lhs"
    assert main(["sweep", "--design", "lhs", "-n", "400", "--vary", "sanctions.level=0:1",
                 "--vary", "secondary_tariffs.level=0:1", "--scenario", "status_quo", "--across",
                 "status_quo,hard_way", "--days", "365", "--workers", "1", "--out", str(out)]) == 0
    return out


def test_discover_on_a_stored_sweep(lever_sweep, tmp_path, capsys):
    from sanctions_model.analysis.studies import sweep_discovery
    from sanctions_model.cli import main

    study = sweep_discovery(lever_sweep, "p_talks_100_days", 0.5, True, scenario="hard_way")
    stored = sm.open_sweep(lever_sweep)
    outcomes = stored.outcomes[stored.outcomes["scenario"] == "hard_way"]
    assert study.discovery.base_rate == pytest.approx((outcomes["p_talks_100_days"] > 0.5).mean())
    assert study.discovery.n == study.rows - study.failed == len(stored.samples)
    assert "sanctions.level" in stored.samples and study.days == 365
    out = tmp_path / "d"
    assert main(["discover", "--from", str(lever_sweep), "--scenario", "hard_way", "--outcome", "p_talks_100_days",
                 "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"report.md", "box.csv", "leaves.csv", "trajectory.csv", "peeling.png"}
    report = (out / "report.md").read_text()
    assert study.discovery.sentence() in report and "CART" in report and "| outcome | `p_talks_100_days` > 0.5 |" \
        in report
    box = pd.read_csv(out / "box.csv", index_col="parameter")
    pd.testing.assert_index_equal(box.index, study.discovery.limits.index, check_names=False)
    assert study.discovery.sentence() in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([], "ran 2 scenarios (status_quo, hard_way); say which"),
    (["--scenario", "easy_way"], "scenario 'easy_way' is not in"),
    (["--scenario", "hard_way", "--days", "100"], "drop --days"),
    (["--scenario", "hard_way", "--outcome", "p_talks_1_yr"], "unknown outcome 'p_talks_1_yr'"),
    (["--scenario", "hard_way", "--above", "0.5", "--below", "0.2"], "not allowed with argument"),
    (["--scenario", "hard_way", "--above", "2"], "happens in 0 of 400 rows"),
])
def test_discover_on_a_sweep_refuses_bad_input(lever_sweep, tmp_path, capsys, argv, message):
    from sanctions_model.cli import main

    assert main(["discover", "--from", str(lever_sweep), *argv, "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "d").exists()


def test_discover_on_the_constrained_ensemble_matches_its_projection(tmp_path):
    from sanctions_model.analysis.projection import project
    from sanctions_model.analysis.studies import ensemble_discovery
    from sanctions_model.cli import main

    projection = project(["hard_way"], 120, workers=1, fans=False)
    study = ensemble_discovery(projection, "hard_way", "p_talks_100_days", 0.5)
    members = projection.outcomes
    assert study.rows == len(members) and study.discovery.weighted
    assert study.discovery.n == pytest.approx(projection.effective_size, abs=1)
    assert set(study.discovery.limits.index) <= set(projection.inputs["hard_way"].columns)
    # the weighted resample's base rate estimates the weighted share of members where the event comes
    weighted = float((members["weight"] * (members["p_talks_100_days"] > 0.5)).sum() / members["weight"].sum())
    assert study.discovery.base_rate == pytest.approx(weighted, abs=0.05)
    out = tmp_path / "d"
    assert main(["discover", "--scenario", "hard_way", "--days", "120", "--outcome", "p_talks_100_days",
                 "--workers", "1", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert study.discovery.sentence() in report, "the command gives what the function gives"
    assert "constrained-ensemble.parquet" in report and "/work" not in report
