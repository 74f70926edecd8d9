"""Sweeps: agreement with simulate(), seeds, resume after SIGKILL, Dask, failures, bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli as _cli

import sanctions_model as sm
from sanctions_model.core.outcomes import OUTCOMES
from sanctions_model.errors import InputError
from sanctions_model.inputs.params import load_params
from sanctions_model.runs.designs import DESIGNS, Design, uncertainties
from sanctions_model.runs.evaluate import POLICY
from sanctions_model.runs.sweep import ChunkTask, failed_chunk, joined, pieces, read_sweep, run_chunk, run_sweep

CLI = [sys.executable, "-m", "sanctions_model.cli"]


def _scenarios(*names):
    return [(n, load_params(n)) for n in names]


def test_every_sample_agrees_with_simulate(tmp_path):
    design = Design.build("lhs", load_params(), 10, seed=4, chunk_size=4)
    run_sweep(design, _scenarios("status_quo", "hard_way", "easy_way"), tmp_path / "s", workers=1)
    samples = read_sweep(tmp_path / "s", "samples").set_index("sample_id")
    outcomes = read_sweep(tmp_path / "s")
    assert len(samples) == 10 and len(outcomes) == 30 and (outcomes["status"] == "ok").all()
    checked_crossings = 0
    for row in outcomes.itertuples(index=False):
        params = load_params(row.scenario).with_values(samples.loc[row.sample_id].to_dict(), origin="sample")
        expected = sm.simulate(params=params).outcomes
        for key, (unit, _) in OUTCOMES.items():
            got, want = getattr(row, key), expected[key]
            if unit == "bool":
                assert bool(got) == bool(want), (row.sample_id, row.scenario, key)
            elif np.isnan(want):
                assert np.isnan(got), (row.sample_id, row.scenario, key)
            elif unit == "day":
                checked_crossings += 1
                # a margin jumps where a lever steps (easy_way's offer on day 14): a diagnostic day there is
                # located only within the output interval (2 days in a sweep, 1 in simulate)
                tolerance = POLICY.step if key.startswith("diagnostic_") else 0.5
                assert abs(got - want) <= tolerance, (row.sample_id, row.scenario, key, got, want)
            else:
                assert abs(got - want) <= 1e-3 * max(abs(want), 1e-9), (row.sample_id, row.scenario, key, got, want)
    assert checked_crossings > 10  # the crossing-day comparison was exercised


@pytest.mark.parametrize("kind", DESIGNS)
def test_designs_are_seeded_and_chunk_invariant(kind):
    params = load_params()
    n = {"grid": 2, "oat": 1}.get(kind, 8)
    kwargs = {}
    if kind == "grid":
        keep = ["oil.brent_price", "fiscal.gdp", "russia.claim_weight"]
        kwargs = {"fix": [u for u in uncertainties(params) if u not in keep]}
    a = Design.build(kind, params, n, seed=1, chunk_size=3, **kwargs)
    b = Design.build(kind, params, n, seed=1, chunk_size=3, **kwargs)
    rows_a = np.vstack([a.chunk(i) for i in range(a.n_chunks)])
    rows_b = np.vstack([b.chunk(i) for i in range(b.n_chunks)])
    assert np.array_equal(rows_a, rows_b) and len(rows_a) == a.rows
    lows, highs = np.array(a.lows), np.array(a.highs)
    assert (rows_a >= lows - 1e-12).all() and (rows_a <= highs + 1e-12).all()
    if kind in ("lhs", "sobol", "morris", "saltelli"):
        c = Design.build(kind, params, n, seed=2, chunk_size=3, **kwargs)
        assert not np.array_equal(rows_a, np.vstack([c.chunk(i) for i in range(c.n_chunks)]))


def test_latin_hypercube_strata_within_a_chunk():
    design = Design.build("lhs", load_params(), 50, seed=9, chunk_size=50)
    unit = (design.chunk(0) - np.array(design.lows)) / (np.array(design.highs) - np.array(design.lows))
    for j in range(design.k):  # one draw in each of the 50 strata of every parameter
        assert sorted(np.floor(unit[:, j] * 50).astype(int)) == list(range(50))


def test_vary_and_fix():
    params = load_params()
    d = Design.build("lhs", params, 20, 1, vary={"oil.brent_price": (80.0, 120.0), "sanctions.level": (0.5, 1.0)},
                     fix=["fiscal.gdp"])
    assert "fiscal.gdp" not in d.names and "sanctions.level" in d.names
    rows = d.chunk(0)
    brent = rows[:, d.names.index("oil.brent_price")]
    assert brent.min() >= 80 and brent.max() <= 120 and brent.max() > 95  # widened beyond the base range


def test_parallel_local_run_equals_serial(tmp_path):
    design = Design.build("sobol", load_params(), 18, seed=3, chunk_size=4)  # the fifth chunk cut in two
    run_sweep(design, _scenarios("status_quo"), tmp_path / "serial", workers=1)
    run_sweep(design, _scenarios("status_quo"), tmp_path / "pool", workers=2)
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "serial"), read_sweep(tmp_path / "pool"), check_exact=True)


def test_a_chunk_computed_in_pieces_equals_the_chunk_whole():
    """The chunks left over for a sweep's last round are cut into pieces; the tables written are the
    whole chunk's to the last bit (a member's numbers do not depend on its batch): twenty histories,
    whole and in pieces of ten."""
    design = Design.build("lhs", load_params("history_2022_2025"), 20, seed=4, chunk_size=20)
    labels = ["history_2022_2025", "status_quo"]
    scen = tuple((label, tuple(params.values().items())) for label, params in _scenarios(*labels))
    task = ChunkTask(design.to_dict(), 0, scen, 1061.0, ("strain", "balance"), 30.0)
    whole = run_chunk(task)
    work = pieces(design, [0], 2)
    assert [piece for _, piece in work] == [(0, 10), (10, 20)]
    parts = [run_chunk(dataclasses.replace(task, piece=piece)) for _, piece in work]
    got = joined(parts, labels)
    for table in ("samples", "outcomes", "trajectories"):
        pd.testing.assert_frame_equal(got[table], whole[table], check_exact=True)
    # a piece lost with its worker: its rows failed (NaN trajectories, as a failed sample's), the others kept
    lost = joined([failed_chunk(dataclasses.replace(task, piece=(0, 10)), "lost"), parts[1]], labels)
    failed = lost["outcomes"]["status"] == "failed"
    assert lost["outcomes"]["sample_id"][failed].unique().tolist() == list(range(10))
    pd.testing.assert_frame_equal(lost["outcomes"][~failed], whole["outcomes"][~failed], check_exact=True)
    gone = lost["trajectories"]["sample_id"] < 10
    assert lost["trajectories"][gone][["strain", "balance"]].isna().all().all()
    pd.testing.assert_frame_equal(lost["trajectories"].drop(columns=["strain", "balance"]),
                                  whole["trajectories"].drop(columns=["strain", "balance"]), check_exact=True)
    pd.testing.assert_frame_equal(lost["trajectories"][~gone], whole["trajectories"][~gone], check_exact=True)


def test_a_lost_chunk_keeps_the_trajectories_typed():
    """A chunk lost with its worker has NaN trajectories at every kept day, so that reading the
    sweep gives numbers, not objects."""
    design = Design.build("lhs", load_params(), 3, seed=4, chunk_size=3)
    scen = tuple((label, tuple(params.values().items())) for label, params in _scenarios("status_quo"))
    task = ChunkTask(design.to_dict(), 0, scen, 60.0, ("strain",), 30.0)
    lost, whole = failed_chunk(task, "lost"), run_chunk(task)
    assert lost["trajectories"].dtypes.equals(whole["trajectories"].dtypes)
    pd.testing.assert_frame_equal(lost["trajectories"].drop(columns="strain"),
                                  whole["trajectories"].drop(columns="strain"))
    assert lost["trajectories"]["strain"].isna().all()


def test_only_chunks_left_over_for_a_last_round_that_idles_workers_are_cut():
    design = Design.build("lhs", load_params(), 10, seed=4, chunk_size=2)  # five chunks of two rows
    assert pieces(design, [0, 1, 2, 3, 4], 1) == [(i, None) for i in range(5)]
    assert pieces(design, [0, 1, 2, 3], 2) == [(i, None) for i in range(4)]  # no round left over
    assert pieces(design, [0, 1, 2, 3, 4], 2) == [*((i, None) for i in range(4)), (4, (0, 1)), (4, (1, 2))]
    assert pieces(design, [0, 1, 2, 3, 4], 3) == [(i, None) for i in range(5)]  # two of three workers busy
    assert pieces(design, [1, 2], 4) == [(1, (0, 1)), (1, (1, 2)), (2, (0, 1)), (2, (1, 2))]
    assert pieces(design, [3], 8) == [(3, (0, 1)), (3, (1, 2))]  # no piece without rows
    one = Design.build("lhs", load_params(), 9, seed=4, chunk_size=2)  # the last chunk has one row
    assert pieces(one, [4], 2) == [(4, None)]


def test_dask_local_cluster_equals_local_run(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    design = Design.build("lhs", load_params(), 12, seed=5, chunk_size=4)
    run_sweep(design, _scenarios("status_quo", "us_aid_cut"), tmp_path / "local", workers=1,
              trajectories=["strain", "oil_revenue"], every=30)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            run_sweep(design, _scenarios("status_quo", "us_aid_cut"), tmp_path / "dask", client=client,
                      trajectories=["strain", "oil_revenue"], every=30)
    for table in ("samples", "outcomes", "trajectories"):
        pd.testing.assert_frame_equal(read_sweep(tmp_path / "local", table), read_sweep(tmp_path / "dask", table),
                                      check_exact=True)


def test_cli_runs_on_a_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        res = _cli("sweep", "-n", "6", "--chunk-size", "3", "--days", "60", "--scheduler", cluster.scheduler_address,
                   "--out", str(tmp_path / "d"))
    assert res.returncode == 0, res.stderr
    local = _cli("sweep", "-n", "6", "--chunk-size", "3", "--days", "60", "--workers", "1",
                 "--out", str(tmp_path / "l"))
    assert local.returncode == 0
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "d"), read_sweep(tmp_path / "l"))


def test_unreachable_scheduler_exits_2(tmp_path):
    pytest.importorskip("dask.distributed")
    res = _cli("sweep", "-n", "2", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "cannot reach the Dask scheduler" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_trajectories_are_kept_at_the_interval(tmp_path):
    design = Design.build("lhs", load_params(), 3, seed=1)
    run_sweep(design, _scenarios("hard_way"), tmp_path / "t", workers=1, trajectories=["reserves", "balance"],
              every=7, days=70)
    tr = read_sweep(tmp_path / "t", "trajectories")
    assert sorted(tr["day"].unique()) == list(range(0, 71, 7))
    assert len(tr) == 3 * 11 and tr[["reserves", "balance"]].notna().all().all()


def test_failing_sample_is_recorded_not_fatal(tmp_path):
    params = load_params()
    design = Design.build("grid", params, 3, seed=0, vary={"forces.russia_initial": (0.0, 700.0)},
                          fix=[u for u in uncertainties(params) if u != "forces.russia_initial"])
    run_sweep(design, _scenarios("status_quo"), tmp_path / "f", workers=1, days=200)
    out = read_sweep(tmp_path / "f")
    assert list(out["status"]) == ["failed", "ok", "ok"]
    assert out["message"][0] and np.isnan(out["peak_strain"][0]) and np.isfinite(out["peak_strain"][1:]).all()
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["failed_samples"] == {"0": 1} and manifest["complete"]


def test_directory_from_other_settings_is_refused(tmp_path):
    params = load_params()
    run_sweep(Design.build("lhs", params, 4, seed=1), _scenarios("status_quo"), tmp_path / "s", workers=1, days=50)
    before = read_sweep(tmp_path / "s")
    with pytest.raises(InputError, match="different settings .*design"):
        run_sweep(Design.build("lhs", params, 4, seed=2), _scenarios("status_quo"), tmp_path / "s", workers=1, days=50)
    with pytest.raises(InputError, match="different settings .*scenarios"):
        run_sweep(Design.build("lhs", params, 4, seed=1), _scenarios("hard_way"), tmp_path / "s", workers=1, days=50)
    pd.testing.assert_frame_equal(before, read_sweep(tmp_path / "s"))  # nothing lost or mixed
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        run_sweep(Design.build("lhs", params, 4, seed=1), _scenarios("status_quo"), tmp_path / "other", workers=1)


def test_bad_api_arguments(tmp_path):
    design = Design.build("lhs", load_params(), 2, seed=1)
    with pytest.raises(InputError, match="days"):
        run_sweep(design, _scenarios("status_quo"), tmp_path / "a", days=-1)
    with pytest.raises(InputError, match="workers"):
        run_sweep(design, _scenarios("status_quo"), tmp_path / "b", workers=0)
    with pytest.raises(InputError, match="every"):
        run_sweep(design, _scenarios("status_quo"), tmp_path / "c", trajectories=["strain"], every=0.5)
    with pytest.raises(InputError, match="unknown sweep table"):
        read_sweep(tmp_path, "outcome")
    with pytest.raises(InputError, match="not found"):
        read_sweep(tmp_path / "nothing")
    assert not any(tmp_path.iterdir())



def test_killed_sweep_resumes_to_the_same_result(tmp_path):
    args = ["sweep", "-n", "400", "--chunk-size", "20", "--workers", "1", "--days", "365", "--seed", "8",
            "--across", "status_quo,hard_way"]
    reference = _cli(*args, "--out", str(tmp_path / "whole"))
    assert reference.returncode == 0, reference.stderr

    target = tmp_path / "killed"
    proc = subprocess.Popen([*CLI, *args, "--out", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:
        parts = list((target / "outcomes.parquet").glob("part-*.parquet")) if target.exists() else []
        if len(parts) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    parts = list((target / "outcomes.parquet").glob("part-*.parquet"))
    assert 3 <= len(parts) < 20, "the sweep was not killed mid-run"

    resumed = _cli(*args, "--out", str(target))
    assert resumed.returncode == 0, resumed.stderr
    for table in ("samples", "outcomes"):
        pd.testing.assert_frame_equal(read_sweep(tmp_path / "whole", table), read_sweep(target, table))
    assert not list(target.glob("*.parquet/.*"))  # no temporary files left
    assert json.loads((target / "manifest.json").read_text())["complete"]


@pytest.mark.parametrize("args, message", [
    (["--design", "latin"], "unknown design 'latin'"),
    (["--vary", "oil.brnt=50:60"], "unknown parameter 'oil.brnt'. Did you mean 'oil.brent_price'?"),
    (["--vary", "oil.brent_price=90:60"], "LOW 90 is above HIGH 60"),
    (["--vary", "oil.brent_price=cheap"], "--vary takes NAME=LOW:HIGH"),
    (["--fix", "oil.brnt"], "unknown parameter 'oil.brnt'"),
    (["--across", "status_quo,hardway"], "Did you mean 'hard_way'?"),
    (["--trajectories", "stran"], "Did you mean 'strain'?"),
    (["--workers", "0"], "--workers must be a whole number from 1 to"),
])
def test_bad_sweep_input_exits_2(tmp_path, args, message):
    res = _cli("sweep", "-n", "4", *args, "--out", str(tmp_path / "o"))
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_zero_samples_exits_2(tmp_path):
    res = _cli("sweep", "-n", "0", "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "-n must be at least 1, got 0" in res.stderr


def test_cli_refuses_a_directory_from_other_settings(tmp_path):
    assert _cli("sweep", "-n", "4", "--days", "40", "--workers", "1", "--out", str(tmp_path / "s")).returncode == 0
    res = _cli("sweep", "-n", "5", "--days", "40", "--workers", "1", "--out", str(tmp_path / "s"))
    assert res.returncode == 2 and "different settings" in res.stderr and "Traceback" not in res.stderr


def test_a_sweep_worker_imports_no_pandas():
    """What a spawned worker imports for a sweep's chunk (the command line as its main module, the
    executor, the chunk's computation) leaves pandas out: the driver makes the tables."""
    code = ("import sys\nimport sanctions_model.cli, sanctions_model.runs.executors, sanctions_model.runs.sweep_chunk\n"
            "print('pandas' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False"], res.stdout


def test_a_sweep_driver_imports_no_solver():
    """The driver of a sweep (the command line and the sweep's module, which sends chunks to workers and
    writes their tables) leaves the solver and SciPy's integrators (0.3 to 0.5 s to import) to the
    workers, which import them where a batch is first integrated (runs/evaluate.integrate)."""
    code = ("import sys\nimport sanctions_model.cli, sanctions_model.runs.sweep\n"
            "print('sanctions_model.core.solve' in sys.modules, 'scipy.integrate' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["False", "False"], res.stdout
