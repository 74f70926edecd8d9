"""Indices from results already computed: analyze() on arrays, analyze_sweep() and
``sanctions-model sensitivity --from`` on a stored sweep."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

import sanctions_model as sm
from sanctions_model import sensitivity as sa
from sanctions_model.errors import InputError
from sanctions_model.runs.designs import Design, uncertainties

VARIED = ["oil.tax_take", "oil.brent_price", "fiscal.ofz_absorption"]
OUTCOMES = ["peak_strain", "reserves_at_horizon"]
DAYS = 200


def _varied(params):
    names = [n for n in VARIED if n in params]
    assert names == VARIED, "the test's parameters exist"
    return names


@pytest.fixture(scope="module")
def params():
    return sm.load_params("hard_way")


def _sweep(tmp_path, params, kind, n, **kw):
    names = _varied(params)
    design = Design.build(kind, params, n, seed=7, fix=[u for u in uncertainties(params) if u not in names], **kw)
    return design, sm.run_sweep(design, [("hard_way", params)], tmp_path / kind, days=DAYS, workers=1)


def test_a_saltelli_sweep_gives_the_sobol_indices_of_running_the_model(tmp_path, params):
    design, sweep = _sweep(tmp_path, params, "saltelli", 8)
    with warnings.catch_warnings(record=True) as from_store:
        warnings.simplefilter("always")
        stored = sa.analyze_sweep(sweep, OUTCOMES)
    f = sa.model_function(params, list(design.names), OUTCOMES, DAYS, workers=1)
    with warnings.catch_warnings(record=True) as from_runs:
        warnings.simplefilter("always")
        direct = sa.sobol(design.problem(), f, 8, seed=7)
    pd.testing.assert_frame_equal(stored, direct, check_exact=True)
    # whatever each says about the intervals (n = 8 is small), both say the same
    assert [str(w.message) for w in from_store] == [str(w.message) for w in from_runs]
    assert stored.attrs["method"] == "sobol" and stored.attrs["design"] == "saltelli"


def test_a_morris_sweep_gives_the_elementary_effects_of_running_the_model(tmp_path, params):
    design, sweep = _sweep(tmp_path, params, "morris", 4)
    stored = sa.analyze_sweep(sweep, OUTCOMES[:1])
    f = sa.model_function(params, list(design.names), OUTCOMES[:1], DAYS, workers=1)
    pd.testing.assert_frame_equal(stored, sa.morris(design.problem(), f, 4, seed=7), check_exact=True)


def test_any_design_gives_rank_correlations_and_refuses_what_it_cannot_give(tmp_path, params):
    _, sweep = _sweep(tmp_path, params, "lhs", 20)
    table = sa.analyze_sweep(sweep, OUTCOMES[:1])
    assert list(table.columns) == ["spearman", "abs"] and table["abs"].between(0, 1).all()
    with pytest.raises(InputError, match="a 'lhs' design cannot give sobol indices; they need a 'saltelli'"):
        sa.analyze_sweep(sweep, OUTCOMES[:1], method="sobol")
    with pytest.raises(InputError, match="scenario 'hard_wya' is not in .*Did you mean 'hard_way'"):
        sa.analyze_sweep(sweep, OUTCOMES[:1], scenario="hard_wya")
    with pytest.raises(InputError, match="unknown outcome 'peak_strian'"):
        sa.analyze_sweep(sweep, ["peak_strian"])


def test_analyze_checks_its_arrays(params):
    problem = {"names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    x = np.random.default_rng(1).random((12, 2))
    with pytest.raises(InputError, match="unknown method 'sobl'"):
        sa.analyze("sobl", problem, x, x[:, 0])
    with pytest.raises(InputError, match="x has 2 columns for 3 inputs"):
        sa.analyze("monte_carlo", {"names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}, x, x[:, 0])
    with pytest.raises(InputError, match="has a multiple of 4 rows, x has 10"):
        sa.analyze("sobol", problem, x[:-2], x[:-2, 0] + 1)
    with pytest.raises(InputError, match="shape \\(11, 1\\) for 12 input rows"):
        sa.analyze("monte_carlo", problem, x, x[:-1, 0])
    y = x[:, 0].copy()
    y[3] = np.nan
    with pytest.raises(InputError, match="undefined \\(NaN or infinite\\) in 1 of 12"):
        sa.analyze("monte_carlo", problem, x, y)
    with pytest.raises(InputError, match="must be numbers"):
        sa.analyze("monte_carlo", problem, x, ["a"] * 12)
    table = sa.analyze("monte_carlo", problem, x, 3 * x[:, 0] + 0.1 * x[:, 1])
    assert table.loc["a", "spearman"] > 0.9 > table.loc["b", "abs"]


def test_analyze_reads_a_dataframe_by_its_names_and_refuses_what_is_not_its_design():
    from SALib.sample import sobol as salib_sobol

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    x = pd.DataFrame(salib_sobol.sample(problem, 32, calc_second_order=False, seed=1), columns=["a", "b", "c"])
    y = pd.Series(3 * x["a"] + x["b"] ** 2, name="f")
    ordered = sa.analyze("sobol", problem, x, y, seed=2)
    # the columns in another order and the outputs shuffled: read by name and by index, the same indices
    shuffled = sa.analyze("sobol", problem, x[["c", "b", "a"]], y.sample(frac=1, random_state=3), seed=2)
    pd.testing.assert_frame_equal(shuffled, ordered)
    assert ordered["ST"].idxmax() == "a"
    with pytest.raises(InputError, match=r"without a column for each of the problem's inputs \(missing: c"):
        sa.analyze("sobol", problem, x[["a", "b"]], y)
    pd.testing.assert_frame_equal(sa.analyze("sobol", problem, x.assign(sample_id=1.0), y, seed=2), ordered)
    with pytest.raises(InputError, match="y's index is not x's rows"):
        sa.analyze("sobol", problem, x, y.set_axis(y.index + 1))
    with pytest.raises(InputError, match="x is not a Saltelli design: in block 1"):
        sa.analyze("sobol", problem, np.random.default_rng(1).random(x.shape), y.to_numpy())
    with pytest.raises(InputError, match="at least one outcome"):
        sa.analyze("sobol", problem, x, np.zeros((len(x), 0)))


def test_the_command_line_turns_a_sweep_into_a_report(tmp_path, params):
    _, sweep = _sweep(tmp_path, params, "saltelli", 8)
    done = run_cli("sensitivity", "--from", str(sweep), "--outcome", "peak_strain", "--out", str(tmp_path / "rep"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "computed from the sweep in" in text and "# Sensitivity of the model's outcomes: sobol" in text
    assert "varied over the range the sweep's design gives it" in text and "scenario 'hard_way'" in text
    assert "params/base.toml" not in text.split("## ")[0], "the ranges are the sweep's, not the base file's"
    indices = pd.read_csv(tmp_path / "rep" / "indices.csv")
    assert set(indices["input"]) == set(_varied(params)) and {"S1", "ST"} <= set(indices.columns)
    done = run_cli("sensitivity", "--from", str(sweep), "-n", "16", "--out", str(tmp_path / "rep2"))
    assert done.returncode != 0 and "the sweep fixes the sample and its horizon; drop -n" in done.stderr
    for option in (["--days", "100"], ["--seed", "7"]):  # the sweep's horizon and sample, not these
        done = run_cli("sensitivity", "--from", str(sweep), *option, "--out", str(tmp_path / "rep2"))
        assert done.returncode == 2 and f"drop {option[0]}" in done.stderr
    assert sa.analyze_sweep(sweep, "peak_strain").equals(sa.analyze_sweep(sweep, ["peak_strain"]))
    done = run_cli("sensitivity", "--out", str(tmp_path / "rep3"))
    assert done.returncode != 0 and "needs --method" in done.stderr
    done = run_cli("sensitivity", "--from", str(tmp_path / "nowhere"), "--out", str(tmp_path / "rep4"))
    assert done.returncode != 0 and "nowhere" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "rep2").exists() and not (tmp_path / "rep4").exists()


def test_a_short_sweep_gives_the_indices_of_the_outcomes_its_horizon_defines(tmp_path, params):
    """Without --outcome, `sensitivity --from` analyses the default outcomes the sweep's horizon defines
    (a chance within a year needs 365 days, one by day 100 needs 100), as `analyze_sweep` does."""
    design = Design.build("saltelli", params, 2, seed=7, fix=[u for u in uncertainties(params)
                                                               if u not in _varied(params)])
    for days in (30, 120):
        sweep = sm.run_sweep(design, [("hard_way", params)], tmp_path / f"s{days}", days=days, workers=1)
        done = run_cli("sensitivity", "--from", str(sweep), "--out", str(tmp_path / f"rep{days}"))
        assert done.returncode == 0, done.stderr
        outcomes = set(pd.read_csv(tmp_path / f"rep{days}" / "indices.csv")["outcome"])
        assert outcomes == set(sa.default_outcomes(days)) and "p_ceasefire_1_year" not in outcomes


def test_a_sweep_whose_parameters_its_label_does_not_rebuild_says_so(tmp_path, params):
    from sanctions_model.analysis.studies import sweep_sensitivity_study

    changed = sm.load_params("hard_way", overrides={"oil.brent_price": 70.0})
    names = _varied(params)
    design = Design.build("lhs", changed, 12, seed=3, fix=[u for u in uncertainties(changed) if u not in names])
    sweep = sm.run_sweep(design, [("dearer_oil", changed)], tmp_path / "custom", days=DAYS, workers=1)
    study = sweep_sensitivity_study(sweep, ["peak_strain"])
    assert study.digest == changed.digest() != study.params.digest()
    assert "not those of the base alone" in study.note and "dearer_oil" in study.note
    same = sweep_sensitivity_study(_sweep(tmp_path, params, "lhs", 12)[1], ["peak_strain"])
    assert same.note is None and same.digest == params.digest()


def test_rank_correlations_of_a_sweep_leave_its_failed_runs_out_and_say_how_many(tmp_path, params):
    import json

    from sanctions_model.runs import store

    design, sweep = _sweep(tmp_path, params, "lhs", 20)
    whole = sa.analyze_sweep(sweep, OUTCOMES[:1])
    part = store.part_path(sweep.path, "outcomes", 0)
    frame = pd.read_parquet(part)
    frame.loc[frame["sample_id"].isin([3, 11]), ["status", "message"]] = ["failed", "solver failed"]
    frame.loc[frame["sample_id"].isin([3, 11]), OUTCOMES[:1]] = np.nan
    frame.to_parquet(part)  # as if two runs had failed; the manifest's checksum follows
    manifest = json.loads((sweep.path / "manifest.json").read_text())
    manifest["parts"]["0"]["outcomes"]["sha256"] = store._digest(part)
    (sweep.path / "manifest.json").write_text(json.dumps(manifest))
    table = sa.analyze_sweep(sm.open_sweep(sweep.path), OUTCOMES[:1])
    assert table.attrs["failed_left_out"] == 2 and whole.attrs["failed_left_out"] == 0
    kept = sm.open_sweep(sweep.path)
    rows = kept.outcomes.set_index("sample_id").loc[kept.samples["sample_id"]]
    ok = rows["status"].eq("ok").to_numpy()
    direct = sa.analyze("monte_carlo", design.problem(), kept.samples.loc[ok, list(design.names)].to_numpy(),
                        rows.loc[ok, OUTCOMES[0]].to_numpy())
    assert ok.sum() == 18 and np.allclose(table["spearman"], direct["spearman"])
    from sanctions_model.analysis.studies import sweep_sensitivity_study

    study = sweep_sensitivity_study(sweep.path, OUTCOMES[0])  # one outcome, named as a string
    assert study.outcomes == [OUTCOMES[0]] and "2 of the sweep's runs under 'hard_way' failed" in study.note


@pytest.mark.parametrize("kind", ["saltelli", "morris"])
def test_a_design_for_indices_refuses_a_range_of_one_point_before_any_run(params, kind):
    with pytest.raises(InputError, match="'oil.brent_price' cannot vary in a .* design: its range \\[75, 75\\]"):
        Design.build(kind, params, 4, seed=1, vary={"oil.brent_price": (75, 75)})


def test_morris_refuses_rows_that_are_not_a_morris_design():
    """Rows of the right count drawn otherwise (a Latin hypercube, say) gave elementary effects without
    a word; now they are refused, and SALib's own design is taken."""
    from SALib.sample import morris as salib_morris

    from sanctions_model.analysis.sensitivity import analyze

    problem = {"names": ["a", "b"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    x = np.random.default_rng(1).random((9, 2))
    with pytest.raises(InputError, match=r"not a Morris design: in trajectory 1 \(rows 1 to 3\)"):
        analyze("morris", problem, x, x.sum(axis=1))
    for bad, message in ((np.empty((0, 2)), "at least one row"), (np.array([[0.1, np.nan]] * 3), "row 1 holds NaN"),
                         ([["a", "b"]] * 3, "an array of numbers")):
        with pytest.raises(InputError, match=message):
            analyze("morris", problem, bad, np.zeros(len(bad)))
    x = salib_morris.sample({"num_vars": 2, **problem}, 4, num_levels=4, seed=1)
    effects = analyze("morris", problem, x, 2 * x[:, 0] + x[:, 1])
    assert effects.loc["a", "mu_star"] == pytest.approx(2.0) and effects.loc["b", "mu_star"] == pytest.approx(1.0)
