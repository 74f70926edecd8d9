"""pandas and xarray as a notebook user meets them: numeric outcomes, short reprs, tidy tables,
shares with intervals, and sweeps exported lazily to compressed netCDF4 with units."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.stats import binomtest

import sanctions_model as sm
import sanctions_model.runs.sweep_result as sweep_result
from sanctions_model.core.outcomes import OUTCOMES
from sanctions_model.errors import InputError
from sanctions_model.runs.describe import percent
from sanctions_model.runs.ensemble import SHARES, wilson_interval

xr = pytest.importorskip("xarray")
SCENARIOS = ["status_quo", "hard_way"]
VARIABLES = ["p_ceasefire", "strain", "reserves"]


@pytest.fixture(scope="module")
def run():
    # a run whose bargaining range opens within two years (a diagnostic day that is a number, not NaN):
    # easy_way with Russia's cost of strain at the top of its range and Ukraine's optimism at its bottom
    return sm.simulate("easy_way", days=730, overrides={"russia.strain_cost": 0.15, "ukraine.claim_weight": 0.0,
                                                        "russia.claim_weight": 0.0})


@pytest.fixture(scope="module")
def ensemble():
    return sm.run_ensemble(SCENARIOS, 400, 24, 5)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Three chunks (the last one short), two scenarios, three kept variables."""
    base = sm.load_params()
    design = sm.Design.build("lhs", base, 10, 3, chunk_size=4)
    out = tmp_path_factory.mktemp("sw") / "sweep"
    return sm.run_sweep(design, [(name, sm.load_params(name)) for name in SCENARIOS], out, days=150,
                        trajectories=VARIABLES, every=10, workers=1, progress=False)


# -- one run ---------------------------------------------------------------------------------

def test_run_outcomes_are_numeric(run):
    o = run.outcomes
    assert o.dtype == np.float64 and list(o.index) == list(OUTCOMES)
    rounded = o.round(1)  # failed with dtype object
    day = o["diagnostic_days_to_range_open"]
    assert not math.isnan(day), "this run's range opens within two years"
    assert rounded["diagnostic_days_to_range_open"] == round(day, 1)
    for name, (unit, _) in OUTCOMES.items():
        if unit == "probability":
            assert 0.0 <= o[name] <= 1.0, name
    # a chance reads as a percentage, a day with its date
    assert f"| `p_ceasefire_horizon` | {percent(o['p_ceasefire_horizon'])}% |" in run.to_markdown()
    assert f"| `diagnostic_days_to_range_open` | day {day:.1f} (" in run.to_markdown()


def test_run_repr_is_short_and_says_what_matters(run):
    text = repr(run)
    assert len(text) <= 600 and len(text.splitlines()) <= 5, text
    assert text.startswith("RunResult easy_way: 730 days from 2025-01-20")
    assert f"ceasefire within the horizon: {percent(run.outcomes['p_ceasefire_horizon'])}%" in text
    assert "reserves at horizon" in text and "territory" in text


def test_ensemble_repr_is_short(ensemble):
    text = repr(ensemble)
    assert len(text) <= 200 * (1 + len(SCENARIOS)) and len(text.splitlines()) == 1 + len(SCENARIOS), text
    assert "24 sampled assumption sets" in text and "talks within horizon" in text


# -- ensembles: a tidy outcome table, shares with intervals -----------------------------------

def test_ensemble_outcomes_are_tidy_like_a_sweeps(ensemble, sweep):
    table = ensemble.outcomes
    assert isinstance(table, pd.DataFrame) and len(table) == 24 * len(SCENARIOS)
    assert list(table.columns) == list(sweep.outcomes.columns) == ["sample_id", "scenario", "status", "message",
                                                                   *OUTCOMES]
    assert (table["status"] == "ok").all() and (table["message"] == "").all()
    assert list(table["scenario"].unique()) == SCENARIOS
    assert (table.groupby("scenario")["sample_id"].apply(list) == [list(range(24))] * 2).all()
    one = ensemble.outcomes_of("hard_way")
    assert one.index.name == "sample_id" and list(one.columns) == ["status", "message", *OUTCOMES] and len(one) == 24
    pd.testing.assert_series_equal(one["peak_strain"], table[table["scenario"] == "hard_way"].set_index(
        "sample_id")["peak_strain"])
    assert table.groupby("scenario")["p_talks_100_days"].mean().between(0, 1).all()
    with pytest.raises(InputError, match="Did you mean 'hard_way'"):
        ensemble.outcomes_of("hard_wya")


def _check_intervals(tidy: pd.DataFrame, wide: pd.DataFrame, n: pd.Series) -> None:
    assert list(tidy.columns) == ["scenario", "outcome", "n", "share", "low", "high"]
    assert len(tidy) == len(wide) * len(wide.columns)
    for row in tidy.itertuples(index=False):
        assert row.share == pytest.approx(wide.loc[row.scenario, row.outcome]), row
        assert row.n == n[row.scenario]
        k = row.share * row.n  # a count for a yes/no outcome, a sum of chances for a mean chance
        if row.outcome == "reserves exhausted":
            ci = binomtest(round(k), row.n).proportion_ci(confidence_level=0.95, method="wilson")
            assert (row.low, row.high) == pytest.approx((ci.low, ci.high)), row
        assert (row.low, row.high) == pytest.approx(wilson_interval(k, row.n)), row
        assert 0 <= row.low <= row.share <= row.high <= 1 and row.high > row.low


def test_ensemble_shares_with_wilson_intervals(ensemble):
    wide = ensemble.shares()
    assert list(wide.columns) == list(SHARES) and list(wide.index) == SCENARIOS, "the default is unchanged"
    tidy = ensemble.shares(interval=True)
    _check_intervals(tidy, wide, pd.Series(24, index=SCENARIOS))
    wider = ensemble.shares(interval=True, confidence=0.99)
    assert (wider["high"] - wider["low"] > tidy["high"] - tidy["low"]).all()


def test_sweep_shares_with_wilson_intervals(sweep):
    wide = sweep.shares()
    # over 150 days a chance within a year is not defined: its column is left out
    assert list(wide.columns) == [*(s for s in SHARES if s != "ceasefire within 1 year"), "n"]
    assert (wide["n"] == 10).all()
    _check_intervals(sweep.shares(interval=True), wide.drop(columns="n"), wide["n"])


# -- sweeps: lazy xarray, compressed netCDF4 with units -------------------------------------

def test_to_xarray_is_lazy_and_equals_the_tables(sweep, monkeypatch):
    pytest.importorskip("dask")
    reads = []
    for name in ("_read_outcomes", "_read_samples", "_read_trajectories"):
        real = getattr(sweep_result, name)
        monkeypatch.setattr(sweep_result, name, lambda *a, _real=real, _name=name: reads.append(_name) or _real(*a))
    monkeypatch.setattr(sweep_result, "BLOCK_BYTES", 1)  # one block per chunk
    ds = sweep.to_xarray()
    assert reads == [], "nothing is read before it is needed"
    assert ds["strain"].chunks == ((2,), (4, 4, 2), (16,)) and ds["oil.brent_price"].chunks == ((4, 4, 2),)
    eager = sweep.to_xarray(lazy=False)
    assert all(not hasattr(v.data, "dask") for v in eager.data_vars.values())
    xr.testing.assert_identical(ds.compute(), eager)
    assert dict(ds.sizes) == {"scenario": 2, "sample": 10, "time": 16}
    traj = sweep.trajectories.set_index(["scenario", "sample_id", "day"])
    for (scenario, sample, day), row in traj.sample(25, random_state=1).iterrows():
        got = eager.sel(scenario=scenario, sample=sample).isel(time=int(day // 10))
        for var in VARIABLES:
            assert float(got[var]) == row[var]
    out = sweep.outcomes.set_index(["scenario", "sample_id"])
    for name, (unit, _) in OUTCOMES.items():
        expected = out[name].unstack("sample_id").loc[SCENARIOS].to_numpy().astype(float)
        np.testing.assert_array_equal(eager[name].to_numpy().astype(float), expected, err_msg=name)
        assert eager[name].dtype == (np.int8 if unit == "bool" else np.float64)
    samples = sweep.samples.set_index("sample_id")
    np.testing.assert_array_equal(eager["oil.brent_price"].to_numpy(), samples["oil.brent_price"].to_numpy())


def test_sampled_inputs_carry_units_and_descriptions(sweep):
    ds = sweep.to_xarray()
    base = sm.load_params()
    for name in sweep.samples.columns.drop("sample_id"):
        attrs = ds[name].attrs
        assert attrs["units"] == base.parameters[name].unit and attrs["description"], name
        assert attrs["sampled_low"] <= float(ds[name].min()) <= float(ds[name].max()) <= attrs["sampled_high"]
    assert ds["oil.brent_price"].attrs["units"] == "US$/bbl"
    assert ds["strain"].attrs["units"] == "index 0-1" and ds["p_ceasefire_horizon"].attrs["units"] == "probability"
    assert ds["days_to_reserves_exhausted"].attrs["units"] == "day"


def test_to_netcdf_writes_compressed_netcdf4_and_never_overwrites_silently(sweep, tmp_path):
    path = sweep.to_netcdf(tmp_path / "s.nc")
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n", "netCDF4 (HDF5), not netCDF3"
    with xr.open_dataset(path, engine="h5netcdf") as back:
        enc = back["strain"].encoding
        assert enc["zlib"] and enc["shuffle"] and enc["complevel"] == 4 and enc["chunksizes"] == (1, 4, 16)
        assert back["oil.brent_price"].attrs["units"] == "US$/bbl"
        xr.testing.assert_allclose(back.load(), sweep.to_xarray(lazy=False))
    size, mtime = path.stat().st_size, path.stat().st_mtime_ns
    with pytest.raises(InputError, match="already exists; pass force=True"):
        sweep.to_netcdf(path)
    assert path.stat().st_mtime_ns == mtime and path.stat().st_size == size
    sweep.to_netcdf(path, force=True, complevel=9)
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert back["strain"].encoding["complevel"] == 9
    assert not list(tmp_path.glob(".*tmp")), "no temporary file is left behind"
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "r") as f:
        for name in [*VARIABLES, *OUTCOMES, "oil.brent_price"]:
            assert f[name].compression == "gzip" and f[name].shuffle, name
        for name in VARIABLES:  # even at 10 samples the smooth trajectories shrink
            assert f[name].id.get_storage_size() < f[name].nbytes, name


def test_a_sweep_of_scenarios_with_different_starts_exports_each_dated_from_its_own(tmp_path):
    """Trajectories on a "day" axis (the scenarios start on different dates) export too."""
    design = sm.Design.build("lhs", sm.load_params(), 3, seed=1)
    sweep = sm.run_sweep(design, [(name, sm.load_params(name)) for name in ("status_quo", "history_2022_2025")],
                         tmp_path / "sweep", days=40, trajectories=["strain"], every=10, workers=1, progress=False)
    path = sweep.to_netcdf(tmp_path / "s.nc")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        assert back["strain"].dims == ("scenario", "sample", "day")
        assert back["strain"].encoding["chunksizes"] == (1, 3, 5)
        assert [str(d)[:10] for d in back["date"].values[:, 0]] == ["2025-01-20", "2022-02-24"]
        xr.testing.assert_allclose(back.load(), sweep.to_xarray(lazy=False))


def test_export_refuses_bad_arguments_before_writing_anything(sweep, tmp_path, monkeypatch):
    import os
    import sys
    import types

    for complevel in ("x", 0, 10, True, 4.5):
        with pytest.raises(InputError, match="complevel must be a whole number 1-9"):
            sweep.to_netcdf(tmp_path / "a.nc", complevel=complevel)
    monkeypatch.setitem(sys.modules, "zarr", types.ModuleType("zarr"))  # to_zarr's checks come before zarr is used
    for method in (sweep.to_netcdf, sweep.to_zarr):
        with pytest.raises(InputError, match="give the path to write"):
            method(5)
    (tmp_path / "file").write_text("kept")
    with pytest.raises(InputError, match="is a file, not a directory"):
        sweep.to_netcdf(tmp_path / "file" / "a.nc")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        sweep.to_netcdf(locked / "a.nc")
        before = (locked / "a.nc").read_bytes()
        locked.chmod(0o555)
        try:
            with pytest.raises(InputError, match="not writable"):
                sweep.to_netcdf(locked / "a.nc", force=True)
        finally:
            locked.chmod(0o755)
        assert (locked / "a.nc").read_bytes() == before
    (tmp_path / "s.zarr").mkdir()
    with pytest.raises(InputError, match="already exists"):
        sweep.to_zarr(tmp_path / "s.zarr")
    with pytest.raises(InputError, match="is a file, not a directory"):
        sweep.to_zarr(tmp_path / "file" / "s.zarr")
    assert (tmp_path / "file").read_text() == "kept" and not list(tmp_path.glob("*.nc"))


def test_an_unfinished_sweep_exports_its_finished_chunks(sweep, tmp_path):
    import shutil

    copy = tmp_path / "partial"
    shutil.copytree(sweep.path, copy)
    manifest = json.loads((copy / "manifest.json").read_text())  # as if stopped before chunk 1 (samples 4-7)
    del manifest["parts"]["1"], manifest["chunk_status"]["1"]
    manifest["complete"] = False
    (copy / "manifest.json").write_text(json.dumps(manifest))
    for table in ("samples", "outcomes", "trajectories"):
        (copy / f"{table}.parquet" / "part-00001.parquet").unlink()
    ds = sm.open_sweep(copy).to_xarray()
    assert list(ds["sample"].to_numpy()) == [0, 1, 2, 3, 8, 9]
    full = sweep.to_xarray(lazy=False).sel(sample=[0, 1, 2, 3, 8, 9])
    full.attrs.update(source=ds.attrs["source"], complete=0)
    xr.testing.assert_identical(ds.compute(), full)
    (copy / "trajectories.parquet" / "part-00002.parquet").write_bytes(b"garbage")
    with pytest.raises(InputError, match="missing or damaged"):
        sm.open_sweep(copy).to_xarray()


def test_an_eager_dataset_too_large_for_memory_is_refused(sweep, monkeypatch):
    monkeypatch.setattr(sweep_result, "EAGER_LIMIT_BYTES", 1000)
    with pytest.raises(InputError, match="install dask"):
        sweep.to_xarray(lazy=False)


def test_sweep_plot_of_three_variables_has_no_blank_panel(sweep, tmp_path):
    fig = sweep.plot("hard_way")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert all(ax.has_data() for ax in fig.axes), "every drawn panel shows data"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Chance a ceasefire has been agreed", "Perceived strain on Russia's war economy",
                      "Liquid National Wealth Fund"]
    assert all(ax.xaxis.get_ticklabels()[0].get_visible() for ax in fig.axes if ax.xaxis.get_ticklabels())
    fig.savefig(tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 10_000


def test_parameter_sets_and_backtests_have_short_reprs():
    import sanctions_model as sm

    params = sm.load_params("hard_way")
    assert len(repr(params)) < 400 and "hard_way" in repr(params) and params.digest() in repr(params)
    result = sm.backtest()
    text = repr(result)
    assert len(text) < 400 and f"{int(result.targets['met'].sum())} of {len(result.targets)}" in text


def test_a_history_sweep_has_the_dates_simulate_gives_it(tmp_path):
    """Day 0 of a sweep's scenario is that scenario's start (2022-02-24 for the history), as in
    simulate(); scenarios that start on different dates share days, each with its own dates."""
    history = sm.load_params("history_2022_2025")
    design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
    run = sm.simulate("history_2022_2025", days=60)
    sweep = sm.run_sweep(design, [("history", history)], tmp_path / "h", days=60, trajectories=["territory"],
                         every=7, workers=1)
    ds = sweep.to_xarray(lazy=False)
    assert ds["time"].values[0] == np.datetime64(run.trajectories.index[0]) == np.datetime64("2022-02-24")
    assert sweep.start_dates == {"history": pd.Timestamp("2022-02-24")}
    recorded = json.loads((tmp_path / "h" / "manifest.json").read_text())["units"]  # the store owns its units
    assert recorded["territory"] == "share of Ukraine" == ds["territory"].attrs["units"]
    assert recorded["p_ceasefire_horizon"] == "probability" and recorded["day"].startswith("day")
    both = sm.run_sweep(design, [("history", history), ("status_quo", sm.load_params())], tmp_path / "b",
                        days=60, trajectories=["territory"], every=7, workers=1).to_xarray(lazy=False)
    assert both["territory"].dims == ("scenario", "sample", "day")
    assert both["date"].sel(scenario="history").values[0] == np.datetime64("2022-02-24")
    assert both["date"].sel(scenario="status_quo").values[0] == np.datetime64(sm.simulate(days=7).trajectories.index[0])
