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
    assert "The event is found in" in text and "`x0` (the oil price) is at least 0.7" in text and "US$/bbl" in text
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
    (pd.DataFrame([[0.1, 0.2], [0.3, 0.4]], columns=["a", "a"]), [True, False], {}, "a appear more than once"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"peel_alpha": 0}, "peel_alpha must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"peel_alpha": 0.5}, "peel_alpha must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"peel_alpha": "x"}, "peel_alpha must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"seed": -1}, "seed must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"seed": "x"}, "seed must be"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"describe": ["a"]}, "describe must map"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"outcome": None}, "outcome must be a phrase"),
    (pd.DataFrame({"a": [0.1, 0.2]}), [True, False], {"weights": "abc"}, "weights must be 2 numbers"),
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
    found = sm.discover(x, happens, outcome="the event", threshold=0.95)
    assert found.leaf_sentences()[0] == (f"Where {top['rule']}, the event is found in 100% of the sets (against "
                                         f"{found.base_rate:.0%} of all); these are {top['mass']:.0%} of the sets and "
                                         f"hold {top['coverage']:.0%} of those where it is found.")


def test_weights_count_in_the_base_rate_and_the_box_and_cart(sample):
    x, happens = sample
    # weight the rows with x2 below 0.5 three times as much: the box is the same, its figures are weighted
    w = np.where(x["x2"] < 0.5, 3.0, 1.0)
    found = sm.discover(x, happens, threshold=0.95, weights=w)
    assert found.weighted and found.n == 3000 and found.rows == "members (weighted)"
    assert found.base_rate == pytest.approx(float((w * happens).sum() / w.sum()))
    assert set(found.limits.index) == {"x0", "x1"}
    inside = ((x["x0"] >= found.limits.loc["x0", "low"]) & (x["x1"] <= found.limits.loc["x1", "high"])).to_numpy()
    assert found.mass == pytest.approx(w[inside].sum() / w.sum())
    assert found.density == pytest.approx(w[inside & happens].sum() / w[inside].sum())
    assert found.coverage == pytest.approx(w[inside & happens].sum() / w[happens].sum())
    assert "of all 3,000 members" in found.sentence()
    again = sm.discover(x, happens, threshold=0.95, weights=w)
    pd.testing.assert_frame_equal(found.limits, again.limits)
    pd.testing.assert_frame_equal(found.leaves, again.leaves)


def test_a_box_below_the_density_asked_is_still_found_and_said_to_be(sample):
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    happens = rng.uniform(size=2000) < np.where(x["a"] > 0.6, 0.7, 0.1)  # 70% above 0.6, 10% below
    found = sm.discover(x, happens, threshold=0.9)
    assert not found.reached and list(found.limits.index) == ["a"]
    assert found.limits.loc["a", "low"] == pytest.approx(0.6, abs=0.05)
    assert 0.6 < found.density < 0.8 and "No box PRIM found reaches the density asked (90%)" in found.sentence()


def test_an_outcome_already_as_frequent_as_asked_needs_no_box(sample):
    x, _ = sample
    often = (x["x0"] > 0.1).to_numpy()  # 90% of the rows
    found = sm.discover(x, often, threshold=0.8)
    assert found.limits.empty and found.restricted == 0 and found.mass == 1
    assert "already, at or above the density asked (80%)" in found.sentence()


def test_a_last_limit_that_may_be_chance_is_dropped_too():
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"a": rng.uniform(size=300)})
    noise = rng.uniform(size=300) < 0.2
    found = sm.discover(x, noise, threshold=0.9)
    if found.dropped:  # the densest step's limit on pure noise is not significant
        assert found.limits.empty and "may be chance" in found.sentence() and "No box the sample supports" in \
            found.sentence()
    assert (found.limits["qp"] <= SIGNIFICANT).all()


def test_one_input_and_constant_inputs_work_and_all_constant_is_refused():
    rng = np.random.default_rng(6)
    x = pd.DataFrame({"a": rng.uniform(size=1000), "fixed": 1.0})
    found = sm.discover(x, (x["a"] > 0.7).to_numpy(), threshold=0.95)
    assert list(found.limits.index) == ["a"] and "fixed" not in found.trajectory.columns
    assert found.leaves.iloc[0]["rule"].startswith("`a` >= 0.7")
    with pytest.raises(InputError, match="no input varies"):
        sm.discover(pd.DataFrame({"fixed": np.ones(10)}), np.arange(10) < 5)


def test_cart_gives_a_split_both_of_whose_sides_pass_as_one_box():
    rng = np.random.default_rng(8)
    x = pd.DataFrame(rng.uniform(size=(4000, 2)), columns=["a", "b"])
    # the outcome in 65% of the rows with a between 0.3 and 0.6, in every row above 0.6, in none below 0.3:
    # the tree splits at 0.6 too, but both sides pass, so CART's view is the one box a >= 0.3
    happens = np.where(x["a"] > 0.6, True, np.where(x["a"] > 0.3, rng.uniform(size=4000) < 0.65, False))
    leaves = sm.discover(x, happens, threshold=0.95).leaves
    assert len(leaves) == 1 and leaves.iloc[0]["rule"].startswith("`a` >= 0.3"), leaves


def test_a_series_is_matched_to_the_inputs_by_its_index_not_its_position(sample):
    x, happens = sample
    found = sm.discover(x, happens, threshold=0.95)
    series = pd.Series(happens, index=x.index).sample(frac=1, random_state=1)  # the same rows, shuffled
    weights = pd.Series(np.ones(len(x)), index=x.index).sample(frac=1, random_state=2)
    shuffled = sm.discover(x, series, threshold=0.95, weights=weights)
    pd.testing.assert_frame_equal(shuffled.limits, found.limits)
    assert (shuffled.coverage, shuffled.density) == (found.coverage, found.density)
    with pytest.raises(InputError, match="the outcome is a Series whose index is not the inputs' rows"):
        sm.discover(x, pd.Series(happens, index=x.index + 1))
    with pytest.raises(InputError, match="the weights are a Series whose index"):
        sm.discover(x, happens, weights=pd.Series(np.ones(len(x)), index=x.index + 5))


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
    assert event_words("p_talks_100_days", 0.999, True, 730) == "a chance above 99.9% of talks by day 100"
    assert event_words("days_to_reserves_exhausted", 365, False, 730) == \
        "the Fund's liquid reserves exhausted before day 365"
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
    assert study.discovery.sentence() in report and "CART" in report
    assert all(f"- {text}" in report for text in study.discovery.leaf_sentences()[:5])
    assert "| outcome | `p_talks_100_days` > 0.5 |" in report
    box = pd.read_csv(out / "box.csv", index_col="parameter")
    pd.testing.assert_index_equal(box.index, study.discovery.limits.index, check_names=False)
    limits = study.discovery.limits  # to the last digit: PRIM's limits lie on sampled values
    assert (box[["low", "high"]].to_numpy() == limits[["low", "high"]].to_numpy()).all()
    inside = np.ones(len(stored.samples), dtype=bool)  # the box read back holds the members the report counts
    joined = stored.samples.merge(outcomes, on="sample_id")
    for name, row in box.iterrows():
        inside &= (joined[name] >= row["low"]).to_numpy() & (joined[name] <= row["high"]).to_numpy()
    assert inside.mean() == pytest.approx(study.discovery.mass, abs=1e-12)
    assert study.discovery.sentence() in capsys.readouterr().out


def test_discover_on_a_sweep_refuses_bad_arguments_from_python(lever_sweep):
    from sanctions_model.analysis.studies import sweep_discovery

    with pytest.raises(InputError, match="unknown outcome None"):
        sweep_discovery(lever_sweep, outcome=None)
    with pytest.raises(InputError, match="scenario 5 is not in .*It holds: status_quo, hard_way"):
        sweep_discovery(lever_sweep, scenario=5)


def test_a_crossing_that_never_comes_counts_as_later_not_as_failed(lever_sweep):
    from sanctions_model.analysis.studies import sweep_discovery

    study = sweep_discovery(lever_sweep, "days_to_reserves_exhausted", 200, False, scenario="status_quo")
    stored = sm.open_sweep(lever_sweep)
    days = stored.outcomes.loc[stored.outcomes["scenario"] == "status_quo", "days_to_reserves_exhausted"]
    assert days.isna().any() and study.failed == 0, "sets whose reserves last are not left out"
    assert study.discovery.base_rate == pytest.approx((days < 200).mean())
    assert study.discovery.outcome == "the Fund's liquid reserves exhausted before day 200"


def test_discover_refuses_an_outcome_the_horizon_does_not_reach_before_any_run(tmp_path, capsys):
    from sanctions_model.cli import main

    assert main(["discover", "--days", "50", "--outcome", "p_ceasefire_100_days", "--out", str(tmp_path / "d")]) == 2
    assert "needs a horizon of at least 100 days" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
    from sanctions_model.analysis.projection import default_path
    from sanctions_model.inputs.ensemble_file import AS_OF_2024_NAME

    assert main(["discover", "--ensemble", str(default_path().parent / AS_OF_2024_NAME),
                 "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "an ensemble on the record to 2024-01-20" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("argv, message", [
    ([], "ran 2 scenarios (status_quo, hard_way); say which"),
    (["--scenario", "easy_way"], "scenario 'easy_way' is not in"),
    (["--scenario", "hard_way", "--days", "100"], "drop --days"),
    (["--scenario", "hard_way", "--outcome", "p_talks_1_yr"], "unknown outcome 'p_talks_1_yr'"),
    (["--scenario", "hard_way", "--above", "0.5", "--below", "0.2"], "not allowed with argument"),
    (["--scenario", "hard_way", "--above", "2"], "is a chance, so its cut is a share 0-1"),
    (["--scenario", "hard_way", "--outcome", "expected_day_talks"], "defined only where"),
    (["--scenario", "hard_way", "--outcome", "p_ceasefire_holds_1_year"], "defined only where"),
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
    assert study.rows == study.discovery.n == len(members) and study.discovery.weighted
    assert set(study.discovery.limits.index) <= set(projection.inputs["hard_way"].columns)
    # the base rate is the weighted share of members where the event comes
    weighted = float((members["weight"] * (members["p_talks_100_days"] > 0.5)).sum() / members["weight"].sum())
    assert study.discovery.base_rate == pytest.approx(weighted)
    out = tmp_path / "d"
    assert main(["discover", "--scenario", "hard_way", "--days", "120", "--outcome", "p_talks_100_days",
                 "--workers", "1", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert study.discovery.sentence() in report, "the command gives what the function gives"
    assert "constrained-ensemble.parquet" in report and "/work" not in report


def test_discover_on_a_one_sample_sweep_says_it_needs_more_samples(tmp_path, capsys):
    from sanctions_model.cli import main

    assert main(["sweep", "-n", "1", "--days", "30", "--out", str(tmp_path / "s"), "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["discover", "--from", str(tmp_path / "s"), "--outcome", "p_talks_horizon",
                 "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "it holds 1 sample that ran, so no parameter takes two values" in err and "hundreds" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "d").exists()
