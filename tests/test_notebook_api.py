"""What a notebook user touches: rich display, .plot(), sweeps read back, xarray and netCDF."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli as _cli
from matplotlib.figure import Figure

import sanctions_model as sm
from sanctions_model.errors import InputError


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    base = sm.load_params()
    design = sm.Design.build("lhs", base, 8, 3, chunk_size=4)
    out = tmp_path_factory.mktemp("sw") / "sweep"
    return sm.run_sweep(design, [("status_quo", base), ("hard_way", sm.load_params("hard_way"))], out, days=120,
                        trajectories=["strain", "reserves"], every=10, workers=1, progress=False)


def test_run_displays_and_plots():
    run = sm.simulate("hard_way", days=150)
    html, md = run._repr_html_(), run._repr_markdown_()
    assert "hard_way" in html and "<table>" in html and "p_ceasefire_horizon" in html
    assert md == run.to_markdown() and "| `p_ceasefire_horizon` |" in md
    fig = run.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 8
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n", "shows itself in Jupyter without pyplot"
    titles = [ax.get_title() for ax in fig.axes]
    assert "Chance a ceasefire has been agreed" in titles
    assert any(t.get_text().strip() == "100 days" for ax in fig.axes for t in ax.texts), "the 100-day mark"


def test_parameter_set_display_lists_what_a_scenario_changes():
    html = sm.load_params("hard_way")._repr_html_()
    assert "5 differ from the base" in html and "sanctions.level" in html


def test_ensemble_display_and_plot():
    ens = sm.run_ensemble(["status_quo", "hard_way"], 150, 12, 1)
    assert "% (" in ens._repr_html_() and "| hard_way |" in ens._repr_markdown_()
    assert isinstance(ens.plot("hard_way"), Figure)
    with pytest.raises(InputError, match="Did you mean 'hard_way'"):
        ens.plot("hard_wya")


def test_run_sweep_returns_an_open_sweep(sweep):
    assert isinstance(sweep, sm.SweepResult) and sweep.complete
    assert sweep.scenarios == ["status_quo", "hard_way"] and sweep.variables == ["strain", "reserves"]
    again = sm.open_sweep(str(sweep))
    assert len(again.samples) == 8 and len(again.outcomes) == 16
    shares = again.shares()
    assert list(shares.index) == ["status_quo", "hard_way"] and (shares["n"] == 8).all()
    fans = again.fans("hard_way")
    assert list(fans) == ["strain", "reserves"] and list(fans["strain"].index) == list(np.arange(0, 121, 10.0))
    assert (np.diff(fans["reserves"].to_numpy(), axis=1) >= 0).all()
    fig = again.plot("hard_way")
    assert isinstance(fig, Figure)
    assert "8 samples x 2 scenario(s)" in again._repr_markdown_() and "<table" in again._repr_html_()


def test_sweep_as_xarray_and_netcdf(sweep, tmp_path):
    xr = pytest.importorskip("xarray")
    ds = sweep.to_xarray()
    assert dict(ds.sizes) == {"scenario": 2, "sample": 8, "time": 13}
    assert ds["strain"].dims == ("scenario", "sample", "time") and ds["strain"].attrs["units"] == "index 0-1"
    traj = sweep.trajectories
    row = traj[(traj["scenario"] == "hard_way") & (traj["sample_id"] == 5) & (traj["day"] == 60.0)]
    assert float(ds["reserves"].sel(scenario="hard_way", sample=5).isel(time=6)) == pytest.approx(
        float(row["reserves"].iloc[0]))
    assert ds["p_talks_100_days"].dtype == np.float64 and ds["p_talks_100_days"].attrs["units"] == "probability"
    assert ds.attrs["seed"] == 3
    assert float(ds["oil.brent_price"].sel(sample=2)) == pytest.approx(
        float(sweep.samples.set_index("sample_id").loc[2, "oil.brent_price"]))
    path = sweep.to_netcdf(tmp_path / "s.nc")
    with xr.open_dataset(path, engine="h5netcdf") as back:
        np.testing.assert_allclose(back["strain"].to_numpy(), ds["strain"].to_numpy())


def test_sweep_bad_input(sweep, tmp_path):
    with pytest.raises(InputError, match="not a sweep directory"):
        sm.open_sweep(tmp_path / "nothing")
    with pytest.raises(InputError, match="not in this sweep"):
        sweep.plot("easy_way")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(InputError, match="is a file, not a directory"):
        sweep.to_netcdf(tmp_path / "a-file" / "s.nc")
    assert sweep.to_netcdf(tmp_path / "missing" / "s.nc").is_file(), "missing parents are made, as mkdir -p"
    base = sm.load_params()
    bare = sm.run_sweep(sm.Design.build("lhs", base, 2, 1), [("status_quo", base)], tmp_path / "bare", days=30,
                        workers=1, progress=False)
    with pytest.raises(InputError, match="kept no trajectories"):
        bare.plot()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable manifest"):
        sm.open_sweep(tmp_path / "broken")



def test_cli_export(sweep, tmp_path):
    out = tmp_path / "s.nc"
    res = _cli("export", str(sweep), "--out", str(out))
    assert res.returncode == 0, res.stderr
    size = out.stat().st_size
    res = _cli("export", str(sweep), "--out", str(out))
    assert res.returncode == 2 and "already exists" in res.stderr and out.stat().st_size == size
    res = _cli("export", str(sweep), "--out", str(tmp_path / "s.csv"))
    assert res.returncode == 2 and "must end in .nc" in res.stderr
    res = _cli("export", str(tmp_path / "nope"), "--out", str(tmp_path / "x.nc"))
    assert res.returncode == 2 and "not a sweep directory" in res.stderr and not (tmp_path / "x.nc").exists()
    assert len(res.stderr.strip().splitlines()) == 1
