"""Constrained ensembles (issue 16): the batch scorer against the back-test, the constraint's
logic, the ensemble's file, projections from each member's own state, and bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

import sanctions_model as sm
from sanctions_model.analysis import constrain as con
from sanctions_model.analysis.backtesting import TARGETS, backtest
from sanctions_model.analysis.projection import carried, project
from sanctions_model.core.model import COUNTED_FROM_START, IDX, N_STATES, STATE_NAMES
from sanctions_model.core.solve import integrate
from sanctions_model.errors import InputError
from sanctions_model.inputs import ensemble_file
from sanctions_model.runs.designs import overlay
from sanctions_model.runs.evaluate import evaluate

HISTORY_DAYS = 1061.0


@pytest.fixture(scope="module")
def history():
    return sm.load_params("history_2022_2025", calibration=False)


@pytest.fixture(scope="module")
def small(history):
    """A small constrained ensemble (its numbers are not meant to be reported)."""
    return con.constrain(240, 7, params=history, workers=1, rows=120)


def test_the_batch_scorer_reads_each_figure_as_the_back_test_does(history):
    """The vectorised reading of every target figure agrees with the back-test's own (a pandas run
    read day by day) within a twentieth of each series' tolerance."""
    bt = backtest(calibration=False)
    figs = con.figures(history.start_date, HISTORY_DAYS)
    at = con.kept_days(HISTORY_DAYS, figs)
    result = evaluate(overlay(history.values(), [], np.zeros((1, 0))), HISTORY_DAYS, keep=con.KEPT, at=at)
    model = con.model_figures(result.days, result.trajectories, figs, 92.0)[0]
    fit = bt.fit.set_index(["series", bt.fit["date"].dt.strftime("%Y-%m-%d"), "period"])["model"]
    assert fit.index.is_unique and len(figs) > 60
    for j, key in enumerate(zip(figs.series, figs.dates, figs.periods)):
        _, _, _, tol, kind = TARGETS[figs.target[j]]
        scale = abs(figs.recorded[j]) * tol if kind == "relative" else tol
        assert model[j] == pytest.approx(fit[key], abs=0.05 * scale), key


def test_figures_stop_at_the_cut_date(history):
    full = con.figures(history.start_date, HISTORY_DAYS)
    cut = con.figures(history.start_date, float((dt.date(2024, 1, 20) - history.start_date).days))
    assert 0 < len(cut) < len(full)
    assert max(cut.end) <= (dt.date(2024, 1, 20) - history.start_date).days
    assert all(pd.Timestamp(d) <= pd.Timestamp("2024-01-20") for d in cut.dates)


def test_series_rms_is_the_rms_error_in_tolerances():
    # two figures of the first target (relative), one of the key rate (absolute, 3 points)
    key = [t for t, target in enumerate(TARGETS) if target[1] == "key_rate"][0]
    figs = con.Figures((0, 0, key), ("oil_gas_revenue", "oil_gas_revenue", "key_rate"), (0.0, 0.0, 5.0),
                       (1.0, 1.0, 5.0), (10.0, 20.0, 16.0), ("2022-12-31", "2023-12-31", "2023-01-01"),
                       ("year", "year", "point"))
    tol0 = TARGETS[0][3]
    model = np.array([[10.0 * (1 + tol0), 20.0 * (1 - 2 * tol0), 19.0]])
    rms = con.series_rms(model, figs)
    assert rms.iloc[0, 0] == pytest.approx(math.sqrt((1 + 4) / 2))
    assert rms.iloc[0, 1] == pytest.approx(1.0)


def test_weighted_quantiles():
    x = np.arange(100.0)
    assert con.weighted_quantiles(x, np.ones(100), (0.5,))[0] == pytest.approx(49.5)
    w = np.where(x < 50, 1.0, 0.0)
    assert con.weighted_quantiles(x, w, (0.95,))[0] < 50
    assert all(math.isnan(v) for v in con.weighted_quantiles(x, np.zeros(100), (0.1, 0.9)))


def test_the_constraint_keeps_what_scores_within_the_threshold(small):
    ens = small
    assert ens.n_prior == 240 and ens.prior.shape == (240, len(ens.names))
    assert np.all(ens.score[ens.accepted] <= ens.accept)
    assert not np.any(ens.score[~ens.accepted & np.isfinite(ens.score)] <= ens.accept)
    assert ens.weights.sum() == pytest.approx(1.0) if ens.n_accepted else ens.weights.sum() == 0
    assert np.all(ens.weights[~ens.accepted] == 0)
    assert np.all((ens.likelihood >= 0) & (ens.likelihood <= 1))
    assert 0 <= ens.effective_size <= ens.n_accepted
    members = ens.members()
    assert len(members) == ens.n_accepted
    assert {f"state.{s}" for s in STATE_NAMES} <= set(members.columns)
    # the score is the RMS of the series' RMS errors
    assert ens.score == pytest.approx(np.sqrt((ens.rms.to_numpy() ** 2).mean(axis=1)), nan_ok=True)
    table = ens.prior_posterior()
    assert list(table.index) == list(ens.names)
    assert set(table["verdict"]) == {"too few members to say"}  # an effective size far below 400
    forced = con.prior_posterior(ens.names, ens.lows, ens.highs, ens.prior, ens.weights, con.MIN_EFFECTIVE)
    assert set(forced["verdict"]) <= {"constrained", "as wide as assumed"}


def test_a_looser_threshold_keeps_a_superset_and_the_record_narrows_what_it_sees(small, history):
    """The same seed draws the same members, and a looser threshold keeps a superset. Among the
    members within 2 tolerances, the exchange rate's pass-through to prices comes out lower and
    narrower than drawn (as in the committed ensemble of 100,000): the record's inflation after the
    rouble's swings constrains it."""
    again = con.constrain(240, 7, params=history, workers=1, rows=120, accept=3.0)
    np.testing.assert_array_equal(again.prior, small.prior)
    np.testing.assert_allclose(again.score, small.score, equal_nan=True)
    assert np.all(again.accepted[small.accepted]) and again.n_accepted > small.n_accepted
    kept = again.accepted & (again.score <= 2.0)
    assert kept.sum() >= 20
    weights = np.where(kept, again.likelihood, 0.0)
    # its effective size is far below 400: the verdict is read as if it were not (the quantiles are real)
    table = con.prior_posterior(again.names, again.lows, again.highs, again.prior, weights / weights.sum(),
                                con.MIN_EFFECTIVE)
    assert table.loc["macro.exchange_rate_passthrough", "narrowing"] < 0.8
    assert table.loc["macro.exchange_rate_passthrough", "shift"] < -0.1
    assert table.loc["macro.exchange_rate_passthrough", "verdict"] == "constrained"


def test_the_ensemble_file_round_trips_and_refuses_to_overwrite(small, tmp_path):
    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    file = ensemble_file.read(path)
    assert file.names == list(small.names)
    assert file.meta["accepted"] == small.n_accepted and file.meta["seed"] == 7
    assert file.meta["as_of"] == "2025-01-20" and file.meta["format"] == ensemble_file.FORMAT
    pd.testing.assert_frame_equal(file.members, small.members(), check_dtype=False)
    before = path.read_bytes()
    with pytest.raises(InputError, match="exists"):
        con.write_ensemble(small, path, "test")
    assert path.read_bytes() == before


def test_damaged_ensemble_files_are_refused_clearly(tmp_path, small):
    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    file = ensemble_file.read(path)
    meta = {k: v for k, v in file.meta.items() if k != "format"}
    for label, members, message in (
            ("nostate", file.members.drop(columns=["state.reserves"]), "are missing"),
            ("noref", file.members.drop(columns=["reference.strain"]), "are missing"),
            ("nanweight", file.members.assign(weight=np.nan), "weights must be finite"),
            ("negweight", file.members.assign(weight=-1.0), "weights must be finite"),
            ("nanstate", file.members.assign(**{"state.reserves": np.nan}), "not finite")):
        if not len(members):
            continue
        bad = ensemble_file.write(members, meta, tmp_path / f"{label}.parquet")
        with pytest.raises(InputError, match=message):
            ensemble_file.read(bad)
    short = ensemble_file.write(file.members, {k: v for k, v in meta.items() if k != "lows"},
                                tmp_path / "short.parquet")
    with pytest.raises(InputError, match="lacks"):
        ensemble_file.read(short)


def test_bad_ensemble_files_are_refused_clearly(tmp_path, small):
    with pytest.raises(InputError, match="file not found"):
        ensemble_file.read(tmp_path / "missing.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(InputError, match="not a readable Parquet"):
        ensemble_file.read(junk)
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1.0]}), plain)
    with pytest.raises(InputError, match="not a constrained ensemble"):
        ensemble_file.read(plain)
    old = tmp_path / "old.parquet"
    con.write_ensemble(small, old, "test")
    table = pq.read_table(old)
    table = table.replace_schema_metadata({ensemble_file.KEY: b'{"format": 0}'})
    pq.write_table(table, old)
    with pytest.raises(InputError, match="format 0"):
        ensemble_file.read(old)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "-n"), ({"n": True}, "-n"), ({"n": 2.5}, "-n"),
    ({"seed": -1}, "seed"), ({"as_of": "yesterday"}, "--as-of"), ({"as_of": "2022-05-30"}, "2022-05-31"),
    ({"as_of": "2025-06-01"}, "2025-01-20"), ({"accept": float("nan")}, "--accept"), ({"accept": -1}, "--accept"),
    ({"accept": "1.5"}, "--accept"),
])
def test_bad_input_to_constrain_names_the_problem(kwargs, message):
    with pytest.raises(InputError, match=message):
        con.constrain(**{"n": 10, **kwargs})


def test_the_constrain_command(tmp_path):
    out, report = tmp_path / "e.parquet", tmp_path / "report"
    done = run_cli("constrain", "-n", "120", "--out", out, "--report", report, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "members kept" in done.stdout and out.is_file()
    text = (report / "report.md").read_text()
    assert "## Prior against posterior, every assumption" in text and "too few to report shares from" in text
    assert (report / "prior-posterior.csv").is_file()
    again = run_cli("constrain", "-n", "120", "--out", out, "--workers", "1")
    assert again.returncode == 2 and "--force" in again.stderr
    bad = run_cli("constrain", "-n", "120", "--out", tmp_path / "x.parquet", "--as-of", "2030-01-01")
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.parquet").exists()
    nan = run_cli("constrain", "--accept", "nan", "--out", tmp_path / "y.parquet")
    assert nan.returncode == 2 and "--accept" in nan.stderr


# --- continuing from a state ---------------------------------------------------------------

def test_a_run_continued_from_another_s_state_follows_it(base_values):
    """With levers that do not move, 200 days equal 100 days and then 100 more from where they ended,
    with the reference the first run read: no jump. The hazards' totals restart, so the continued
    run's chances count from its own start."""
    values = dict(base_values)
    for lever in ("sanctions", "secondary_tariffs", "relief_offer", "us_aid", "other_aid", "frozen_assets",
                  "security_arrangement", "us_backstop", "ally_pressure"):
        values[f"{lever}.level"] = values[f"{lever}.initial"]
    whole = integrate(values, 200, rtol=1e-9)
    first = integrate(values, 100, rtol=1e-9)
    state = first.y[:, :, -1]
    rest = integrate(values, 100, rtol=1e-9, start=state, reference=first.ref)
    assert rest.y[:, 0, 0] == pytest.approx(np.where(np.isin(STATE_NAMES, COUNTED_FROM_START), 0.0, state[:, 0]))
    for name in STATE_NAMES:
        if name not in COUNTED_FROM_START:
            i = IDX[name]
            assert rest.y[i, 0, -1] == pytest.approx(whole.y[i, 0, -1], rel=1e-6, abs=1e-9), name
    with pytest.raises(ValueError, match="starting state"):
        integrate(values, 10, start=np.zeros((N_STATES, 3)))


def _frozen(values, t):
    """``values`` with every lever and driver held at its value on day ``t`` from day 0 on."""
    from sanctions_model.core.schedules import DRIVERS, LEVERS, at_time, lever_value

    now = at_time(t, {k: np.atleast_1d(v) for k, v in values.items()})
    out = {k: v for k, v in values.items() if ".step" not in k}
    for lever in LEVERS:
        out[f"{lever}.initial"] = out[f"{lever}.level"] = float(lever_value(t, now, lever)[0])
        out[f"{lever}.start_day"], out[f"{lever}.phase_in_days"] = 0.0, 0.0
    for name in DRIVERS:
        out[name] = float(np.ravel(now[name])[0])
    out["forces.territory_imposed_days"] = 0.0
    return out


def test_no_rate_jumps_where_a_projection_continues_the_history(history):
    """Every stock's rate of change on the history's last day equals that on the first day of a run
    continued from its state, with its reference and frame, levers and drivers held at their values
    of that day: the battlefield (advance, losses, recruitment), the budget, inflation and the
    hazards all go on as they were."""
    from sanctions_model.core.model import continued_state, derivatives
    from sanctions_model.core.schedules import at_time

    values = history.values()
    sol = integrate(values, HISTORY_DAYS, step=10.0, rtol=1e-8)
    end = sol.y[:, :, -1]
    before = derivatives(HISTORY_DAYS, end, at_time(HISTORY_DAYS, sol.params), sol.ref)
    held = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in _frozen(values, HISTORY_DAYS).items()}
    y0, ref = continued_state(held, end, sol.ref)
    after = derivatives(0.0, y0, at_time(0.0, held), ref)
    for name in STATE_NAMES:
        if name == "ceasefire_held":  # counted from the start, and its rate depends on its level
            continue
        i = IDX[name]
        assert after[i, 0] == pytest.approx(before[i, 0], rel=1e-6, abs=1e-12), name


def test_a_projection_keeps_each_member_s_frame(small, history, tmp_path):
    """The parameters the battlefield is measured against come from the member's history, not from
    the projection's 2025 values (which measure them from 2025-01-20)."""
    from sanctions_model.analysis.projection import FRAME, member_values

    if small.n_accepted == 0:
        pytest.skip("the small prior kept no member")
    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    file = ensemble_file.read(path)
    params = sm.load_params("status_quo", calibration=False)
    names, x = member_values(file, history, params, 1)
    for name in FRAME:
        expected = file.members[name] if name in file.members else np.full(len(x), history[name])
        np.testing.assert_array_equal(x[:, names.index(name)], expected, err_msg=name)
    assert len(set(names)) == len(names)


def test_a_member_carries_what_the_history_shares_with_the_projection(history):
    params = sm.load_params("status_quo", calibration=False)
    names = carried(list(con.Design.build("lhs", history, 2, 1).names), history, params)
    assert "oil.tax_take" in names and "russia.strain_cost" in names and "macro.key_rate_response" in names
    assert "fiscal.reserves_initial" not in names  # the state replaces it
    assert "oil.brent_price" not in names  # the history followed its record; the future is drawn afresh
    restated = {p for sc in history.applied for p, _, _ in sc.changes}
    assert not restated & set(names)


def test_projections_start_from_each_member_s_state(small, tmp_path):
    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    if small.n_accepted == 0:
        pytest.skip("the small prior kept no member")
    proj = project(["status_quo"], 60, ensemble=path, workers=1)
    out = proj.outcomes
    assert len(out) == small.n_accepted and (out["status"] == "ok").all()
    assert (out["p_talks_100_days"].isna() | (out["p_talks_horizon"] > 0)).all()
    assert out["weight"].sum() == pytest.approx(1.0)
    assert out["p_ceasefire_horizon"].between(0, 1).all()
    with pytest.raises(InputError, match="fewer than the 400"):
        proj.shares()
    with pytest.raises(InputError, match="starts on 2022-02-24"):
        project(["history_2022_2025"], 60, ensemble=path, workers=1)


# --- as of an earlier date -------------------------------------------------------------------

@pytest.fixture(scope="module")
def as_of_2024(history):
    return con.constrain(2000, 20220224, as_of="2024-01-20", params=history, workers=1)


def test_an_ensemble_given_the_record_to_2024_is_tested_on_what_came_after(as_of_2024):
    ens = as_of_2024
    assert ens.as_of == dt.date(2024, 1, 20) and ens.n_accepted >= 20
    h = ens.hindcast
    assert len(h) >= 15 and (pd.to_datetime(h["date"]) > pd.Timestamp("2024-01-20")).all()
    assert (h["covered"] == ((h["p5"] <= h["recorded"]) & (h["recorded"] <= h["p95"]))).all()
    # the figures the issue names: 2024's oil and gas revenue, the Fund, territory (the key rate below)
    for series in ("oil_gas_revenue", "nwf_liquid", "territory"):
        rows = h[h["series"] == series]
        assert len(rows) and rows["covered"].all(), rows
    assert h["covered"].sum() >= 0.75 * len(h)
    # a known miss, said in the reports: the key rate's hikes of the second half of 2024 (to 18, 19 and
    # 21%) are above this small ensemble's band (the committed one of 100,000 misses one of the three);
    # when a change of the model brings them all inside, this line fails and should go
    assert not h[h["series"] == "key_rate"]["covered"].all()
    # as the back-test report and the ensemble's report say it
    from sanctions_model.report.constrain import hindcast_lines

    text = "\n".join(hindcast_lines(h, ens.as_of))
    assert f"covers **{int(h['covered'].sum())} of the {len(h)}**" in text


def test_the_back_test_report_says_what_the_record_constrains(small, tmp_path):
    """The back-test report's section from an ensemble file (this file's small one: too few effective
    members for a verdict, which the report says); without an ensemble on an earlier record, no
    out-of-sample section."""
    from sanctions_model.report.backtest import write_backtest

    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    file = ensemble_file.read(path)
    out = write_backtest(backtest(), tmp_path / "bt", "test", ensembles=(file, None))
    text = (out / "report.md").read_text()
    assert "## The constrained ensemble: what the record says about each assumption" in text
    assert f"{small.n_accepted:,} come within 1.5 times these targets' tolerances" in text
    assert "too few (fewer than 400 effective members) to say" in text
    assert "## Out of sample" not in text  # no ensemble on an earlier record given


def test_from_the_recorded_state_a_member_runs_as_simulate_runs_its_values(small, tmp_path):
    """``own_states=False`` (the diagnostic that separates the record's constraint on the assumptions from
    the members' states): each member's values from the scenario's own starting state, as simulate()
    runs them."""
    from sanctions_model.analysis.projection import member_values

    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    if small.n_accepted < 2:
        pytest.skip("the small prior kept too few members")
    params = sm.load_params("status_quo")
    out = project([("status_quo", params)], 60, ensemble=path, workers=1, own_states=False).outcomes
    own = project([("status_quo", params)], 60, ensemble=path, workers=1).outcomes
    file = ensemble_file.read(path)
    names, x = member_values(file, sm.load_params("history_2022_2025"), params, 20250120, frame=False)
    from sanctions_model.analysis.projection import FRAME
    from sanctions_model.runs.designs import uncertainties

    assert set(FRAME) & set(names) == set(FRAME) & set(uncertainties(params)), "the frame drawn as the sets draw it"
    for i in (0, 1):
        run = sm.simulate(params=params.with_values(dict(zip(names, x[i]))), days=60)
        assert out["p_talks_horizon"].iloc[i] == pytest.approx(run.outcomes["p_talks_horizon"], rel=1e-6)
    assert not np.allclose(out["p_talks_horizon"], own["p_talks_horizon"]), "the members' own states differ"


def test_run_and_compare_lead_with_the_constrained_chances(tmp_path):
    """Issue 16: a run's and a comparison's report give each scenario's chances over the constrained
    ensemble's members, beside the run's (or the sampled sets'), and name the ensemble in the provenance."""
    from sanctions_model.runs.describe import percent

    res = run_cli("run", "--scenario", "hard_way", "--days", "40", "--out", tmp_path / "run")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "run" / "report.md").read_text()
    shares = project(["hard_way"], 40).shares()
    assert "**Constrained by the record.**" in text and "constrained-ensemble.parquet (2," in text
    row = next(line for line in text.splitlines() if line.startswith("| `hard_way` |")).split(" | ")
    assert row[2] == f"**{percent(shares.loc['hard_way', 'talks within horizon'])}%**"
    assert (tmp_path / "run" / "constrained.csv").is_file()
    res = run_cli("compare", "--scenario", "status_quo", "--scenario", "easy_way", "--samples", "0", "--days", "40",
                  "--out", tmp_path / "cmp")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "cmp" / "report.md").read_text()
    shares = project(["status_quo", "easy_way"], 40, seed=20250120).shares()
    for name in ("status_quo", "easy_way"):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |")).split(" | ")
        assert row[2].rstrip(" |") == f"**{percent(shares.loc[name, 'talks within horizon'])}%**"
    res = run_cli("run", "--days", "40", "--unconstrained", "--out", tmp_path / "plain")
    assert res.returncode == 0 and "Not asked for (`--unconstrained`)" in (tmp_path / "plain" / "report.md").read_text()
    res = run_cli("compare", "--unconstrained", "--ensemble", "params/constrained-ensemble.parquet", "--out",
                  tmp_path / "both")
    assert res.returncode == 2 and "one or the other" in res.stderr and not (tmp_path / "both").exists()


def test_the_constraint_runs_unchanged_on_a_dask_cluster(small, history):
    """Issue 16: the same prior on a Dask cluster keeps the same members with the same weights (the
    10^6-member run is ``benchmarks/constrain_throughput.py --scheduler ADDRESS -n 1000000``)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with sm.execution(scheduler=cluster.scheduler_address, progress=False):
            remote = con.constrain(240, 7, params=history, rows=120)
    np.testing.assert_array_equal(remote.accepted, small.accepted)
    np.testing.assert_allclose(remote.weights, small.weights, rtol=1e-12)
    np.testing.assert_allclose(remote.score, small.score, rtol=1e-12, equal_nan=True)


def test_a_value_set_by_hand_holds_for_every_member(small, tmp_path):
    """``run --set NAME=VALUE``: the constrained members run with the value set, not their own or a fresh draw."""
    from sanctions_model.analysis.projection import member_values

    path = tmp_path / "e.parquet"
    con.write_ensemble(small, path, "test")
    file = ensemble_file.read(path)
    history = sm.load_params("history_2022_2025")
    for name in ("oil.brent_price", "macro.exchange_rate_passthrough"):  # a fresh draw; a member's own value
        params = sm.load_params("status_quo", {name: sm.load_params()[name] * 0.9 + sm.load_params().parameters[
            name].low * 0.1})
        assert name in member_values(file, history, sm.load_params("status_quo"), 1)[0], "the check is not vacuous"
        names, x = member_values(file, history, params, 1)
        # the value set holds: the base the members are overlaid on, or a column of it (a fresh draw's)
        assert name not in names or (x[:, names.index(name)] == params[name]).all(), name


def test_a_value_set_by_hand_changes_no_other_value_of_any_member():
    """Holding one of the projection's fresh draws (the oil price) sets that column for every member and leaves
    every other column, drawn or carried, as it was (the design's dimensions do not depend on it)."""
    from sanctions_model.analysis.projection import SEED, default_path, member_values
    from sanctions_model.inputs import ensemble_file

    file, history = ensemble_file.read(default_path()), sm.load_params("history_2022_2025")
    plain = sm.load_params("status_quo")
    held = sm.load_params("status_quo", {"oil.brent_price": 61.5, "russia.strain_cost": 0.1})
    names, x = member_values(file, history, plain, SEED)
    names_held, x_held = member_values(file, history, held, SEED)
    assert (x_held[:, names_held.index("oil.brent_price")] == 61.5).all()
    assert "russia.strain_cost" in names and "russia.strain_cost" not in names_held  # the base value holds it
    for j, name in enumerate(names_held):
        if name != "oil.brent_price":
            np.testing.assert_array_equal(x_held[:, j], x[:, names.index(name)], err_msg=name)


def test_what_a_members_history_sets_acts_only_through_its_state_or_frame():
    """``SET_BY_MEMBERS`` (not held over the members in the full report): every name outside the frame
    is read by ``initial_state`` and nowhere else in the model, and no lever's starting level (which its
    schedule ramps from) is among them."""
    import inspect

    from sanctions_model.analysis.projection import FRAME, SET_BY_MEMBERS
    from sanctions_model.core import bargaining, model, outcomes, schedules

    start = inspect.getsource(model.initial_state)
    rest = "".join(inspect.getsource(m) for m in (model, bargaining, outcomes, schedules)).replace(start, "")
    for name in sorted(SET_BY_MEMBERS - set(FRAME)):
        assert f'p["{name}"]' in start, name
        assert f'"{name}"' not in rest, f"{name} acts beyond the starting state"
    assert not any(name.split(".")[0] in schedules.LEVERS for name in SET_BY_MEMBERS)
