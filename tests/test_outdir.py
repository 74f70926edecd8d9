"""Output paths: missing parents are created (as mkdir -p would), existing outputs are not
replaced without --force, and an impossible path is refused before any work, with nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_cli as cli

from sanctions_model.errors import InputError
from sanctions_model.outdir import atomic_directory, check_file, check_target


def test_run_creates_missing_parents_and_still_refuses_to_overwrite(tmp_path):
    res = cli("run", "--days", "20", "--unconstrained", "--out", "out/a/b", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out/a/b/report.md").is_file()
    before = (tmp_path / "out/a/b/report.md").read_bytes()
    res = cli("run", "--days", "30", "--out", "out/a/b", cwd=tmp_path)
    assert res.returncode == 2 and "already exists; use --force" in res.stderr
    assert (tmp_path / "out/a/b/report.md").read_bytes() == before


def test_sweep_and_export_create_missing_parents(tmp_path):
    res = cli("sweep", "-n", "4", "--workers", "1", "--out", "out/sweeps/one", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = cli("export", "out/sweeps/one", "--out", "out/exports/one.nc", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out/exports/one.nc").stat().st_size > 0


@pytest.mark.parametrize("make_bad, message", [
    (lambda d: (d / "afile").write_text("x") and d / "afile" / "out", "is a file, not a directory"),
    (lambda d: Path("/proc/sanctions-model-out"), "is not writable"),
    (lambda d: d / ("x" * 300), "bytes long; file systems allow 255"),
])
def test_impossible_outputs_are_refused_before_any_work(tmp_path, make_bad, message):
    target = make_bad(tmp_path)
    for check in (check_target, check_file):
        with pytest.raises(InputError, match=message):
            check(target)
    res = cli("run", "--days", "20", "--out", str(target), cwd=tmp_path)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["afile"])  # no probe or temporary left


def test_atomic_directory_leaves_nothing_when_the_body_fails(tmp_path):
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "new" / "out") as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("boom")
    assert not (tmp_path / "new" / "out").exists()
    assert list((tmp_path / "new").iterdir()) == []


def test_outputs_get_the_mode_the_umask_gives_not_a_private_one(tmp_path):
    """tempfile makes its folders 0700 and files 0600; an output renamed into place from one must get
    what mkdir and open would give under the umask (0755 and 0644 under 022), so it can be shared."""
    import stat

    import sanctions_model as sm
    from sanctions_model.outdir import atomic_directory

    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "out") as tmp:
            (tmp / "report.md").write_text("x")
        assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
        design = sm.Design.build("lhs", sm.load_params(), 4, seed=1)
        sweep = sm.run_sweep(design, [("base", sm.load_params())], tmp_path / "sweep", days=30, workers=1)
        sweep.to_netcdf(tmp_path / "x.nc")
        assert stat.S_IMODE((tmp_path / "x.nc").stat().st_mode) == 0o644
        os.umask(0o077)
        with atomic_directory(tmp_path / "private") as tmp:
            pass
        assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700
    finally:
        os.umask(old)


def test_python_api_writers_refuse_to_replace_the_parameter_or_data_folder(tmp_path, monkeypatch):
    """Not only the command line: a report written from Python with force=True to a folder that is or
    holds the parameter or data folder in use is refused, and the folder is left as it was."""
    import shutil

    import sanctions_model as sm
    from sanctions_model.errors import InputError
    from sanctions_model.inputs.params import params_dir
    from sanctions_model.report import write_run

    mine = tmp_path / "project"
    shutil.copytree(params_dir(), mine / "params")
    monkeypatch.setenv("SANCTIONS_MODEL_PARAMS", str(mine / "params"))
    run = sm.simulate(days=30)
    before = sorted(p.name for p in (mine / "params").iterdir())
    for out in (mine, mine / "params"):
        with pytest.raises(InputError, match="holds the input|is the input"):
            write_run(run, out, "test", force=True)
    assert sorted(p.name for p in (mine / "params").iterdir()) == before
    scenarios = sorted(p.name for p in (mine / "params" / "scenarios").iterdir())
    with pytest.raises(InputError, match="is inside the input folder"):  # an existing folder inside it
        write_run(run, mine / "params" / "scenarios", "test", force=True)
    assert sorted(p.name for p in (mine / "params" / "scenarios").iterdir()) == scenarios
    write_run(run, mine / "out", "test", force=True)  # elsewhere, as before
    assert (mine / "out" / "report.md").is_file()
